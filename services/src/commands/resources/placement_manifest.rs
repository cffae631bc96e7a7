//! The manifest shapes of `kind: App` and `kind: Placement`, turned into the API's requests.
//!
//! ```yaml
//! kind: App
//! metadata: {name: pos}
//! spec:
//!   helm: {chart: oci://registry.example/charts/pos, version: 3.2.0, namespace: pos, values: {replicas: 2}}
//!   # or: manifests: |  (plain Kubernetes YAML)
//! ---
//! kind: Placement
//! metadata: {name: pos-eu}
//! spec:
//!   app: pos@1
//!   predicates:                       # all must hold, in order
//!     - site_label: {key: region, op: in, values: [eu]}
//!     - node_label: {key: accelerator, op: exists}
//!     - min_cpus: 4
//!     - min_memory_mib: 8192
//!     - timezone_in: [Europe/Berlin, Europe/Paris]
//!   prioritizers:                     # weight defaults to 1
//!     - {score: steady, weight: 2}
//!     - {score: least_loaded}
//!     - {score: most_cpus}
//!     - {score: label_value, label: latency-ms, prefer: lower, weight: 3}
//!   number_of_clusters: 2
//!   tolerate_offline_s: 600
//!   spread_by: region
//!   groups:                           # staged delivery, in order; the clusters no group takes come last (rest)
//!     - {name: canary, selector: {key: ring, op: in, values: [canary]}}
//! ```

use crate::api_types::as_text;
use crate::api_types::placement_api::{AppApply, PlacementApply};
use anyhow::{bail, Context};
use events::app::{AppRef, AppRelease};
use events::placement::{PlacementSpec, Predicate, Prefer, Prioritizer, PrioritizerKind};
use events::Token;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HelmSpec {
    chart: String,
    version: String,
    namespace: String,
    #[serde(default)]
    values: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppSpec {
    #[serde(default)]
    helm: Option<HelmSpec>,
    #[serde(default)]
    manifests: Option<String>,
}

/// A `kind: App` document.
pub fn app(name: Token, spec: Value) -> anyhow::Result<AppApply> {
    let spec: AppSpec = serde_json::from_value(spec).with_context(|| format!("App {name}: spec"))?;
    let release = match (spec.helm, spec.manifests) {
        (Some(helm), None) => AppRelease::Helm {
            chart: helm.chart,
            version: helm.version,
            namespace: helm.namespace,
            values: match helm.values {
                Value::Null => String::new(),
                Value::String(text) => text,
                other => serde_norway::to_string(&other)?,
            },
        },
        (None, Some(yaml)) => AppRelease::Manifests { yaml },
        _ => bail!("App {name}: spec needs exactly one of helm and manifests"),
    };
    Ok(AppApply { name, release })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum Score {
    Steady,
    LeastLoaded,
    MostCpus,
    LabelValue,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrioritizerSpec {
    score: Score,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    prefer: Option<Prefer>,
    #[serde(default = "one")]
    weight: u32,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlacementManifestSpec {
    #[serde(with = "as_text")]
    app: AppRef,
    #[serde(default)]
    predicates: Vec<Predicate>,
    #[serde(default)]
    prioritizers: Vec<PrioritizerSpec>,
    #[serde(default)]
    number_of_clusters: Option<u32>,
    #[serde(default)]
    tolerate_offline_s: Option<u64>,
    #[serde(default)]
    spread_by: Option<String>,
    #[serde(default)]
    groups: Vec<events::placement::DecisionGroup>,
}

/// The spec of a `kind: Placement` document.
pub fn placement_spec(name: &Token, spec: Value) -> anyhow::Result<PlacementSpec> {
    let spec: PlacementManifestSpec =
        serde_json::from_value(spec).with_context(|| format!("Placement {name}: spec"))?;
    let prioritizers = spec
        .prioritizers
        .into_iter()
        .map(|p| {
            let kind = match (p.score, p.label, p.prefer) {
                (Score::Steady, None, None) => PrioritizerKind::Steady,
                (Score::LeastLoaded, None, None) => PrioritizerKind::LeastLoaded,
                (Score::MostCpus, None, None) => PrioritizerKind::MostCpus,
                (Score::LabelValue, Some(label), prefer) => PrioritizerKind::LabelValue {
                    label,
                    prefer: prefer.unwrap_or(Prefer::Lower),
                },
                (Score::LabelValue, None, _) => bail!("Placement {name}: score label_value needs a label"),
                _ => bail!("Placement {name}: only score label_value takes label and prefer"),
            };
            Ok(Prioritizer { kind, weight: p.weight })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(PlacementSpec {
        app: spec.app,
        predicates: spec.predicates,
        prioritizers,
        number_of_clusters: spec.number_of_clusters,
        tolerate_offline_s: spec.tolerate_offline_s,
        spread_by: spec.spread_by,
        groups: spec.groups,
    })
}

/// A `kind: Placement` document.
pub fn placement(name: Token, spec: Value) -> anyhow::Result<PlacementApply> {
    let spec = placement_spec(&name, spec)?;
    Ok(PlacementApply { name, spec })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_norway::from_str(text).expect("yaml")
    }

    #[test]
    fn a_placement_manifest_reads_into_the_spec_with_default_weights() {
        let spec = placement_spec(
            &Token::new("pos-eu").expect("token"),
            yaml(
                "app: pos@2\npredicates:\n  - site_label: {key: region, op: in, values: [eu]}\n  - min_cpus: 4\n\
                 prioritizers:\n  - {score: steady, weight: 2}\n  - {score: label_value, label: latency-ms}\n\
                 number_of_clusters: 2\ntolerate_offline_s: 600\n",
            ),
        )
        .expect("valid");
        assert_eq!(spec.app.to_string(), "pos@2");
        assert_eq!(spec.predicates.len(), 2);
        assert_eq!(spec.prioritizers[0].weight, 2);
        assert_eq!(
            spec.prioritizers[1],
            Prioritizer {
                kind: PrioritizerKind::LabelValue {
                    label: "latency-ms".into(),
                    prefer: Prefer::Lower
                },
                weight: 1
            }
        );
    }

    #[test]
    fn bad_placement_manifests_are_refused_with_the_reason() {
        let name = Token::new("p").expect("token");
        let refused = |text: &str| format!("{:#}", placement_spec(&name, yaml(text)).expect_err("refused"));
        assert!(refused("app: pos\n").contains("NAME@VERSION"));
        assert!(refused("app: pos@1\npredicates: [{min_gpus: 1}]\n").contains("min_gpus"));
        assert!(refused("app: pos@1\nprioritizers: [{score: label_value}]\n").contains("needs a label"));
        assert!(refused("app: pos@1\nprioritizers: [{score: steady, label: x}]\n").contains("only score label_value"));
        assert!(refused("app: pos@1\nreplicas: 3\n").contains("replicas"));
    }

    #[test]
    fn the_examples_read_as_an_app_and_a_placement() {
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let read = |name: &str| super::super::manifest::read(&examples.join(name).display().to_string()).expect(name);
        let app = read("app.yaml");
        assert!(matches!(app.as_slice(), [super::super::manifest::Document::App(_)]));
        let placement = read("placement.yaml");
        let [super::super::manifest::Document::Placement(placement)] = placement.as_slice() else {
            panic!("one placement");
        };
        assert_eq!(placement.spec.groups.len(), 1);
        assert_eq!(placement.spec.number_of_clusters, Some(2));
        actors::placement::validate_spec(&placement.spec).expect("a valid spec");
    }

    #[test]
    fn an_app_is_a_helm_chart_or_manifests_not_both() {
        let name = Token::new("pos").expect("token");
        let helm = app(
            name.clone(),
            yaml("helm: {chart: oci://r/pos, version: 1.0.0, namespace: pos, values: {replicas: 2}}"),
        )
        .expect("helm");
        assert!(matches!(helm.release, AppRelease::Helm { ref values, .. } if values.contains("replicas: 2")));
        let both = app(name, yaml("helm: {chart: c, version: v, namespace: n}\nmanifests: x\n")).expect_err("both");
        assert!(format!("{both:#}").contains("exactly one"));
    }
}
