//! Given operator input with quotes, colons, line breaks, leading spaces, comments or nothing at all, when it is
//! rendered, then a YAML parser reads back exactly what was given: values text byte for byte, and every string
//! scalar double-quoted so Go's YAML 1.1 readers cannot take `on` or `1.10` for something else.

mod k3s_support;

use k3s_render::{render, CONFIG_PATH, MANIFESTS_DIR};
use k3s_support::*;
use serde_norway::Value;
use std::path::Path;

const AWKWARD_VALUES: &[&str] = &[
    "greeting: \"he said \\\"hi\\\": ok\"\n",
    "url: http://till.lan:8080/a#b\nkey: value # a comment\n",
    "  indented: true\n  other: 1\n",
    "a: 1",
    "a: 1\n\n\n",
    "\n\na: 1\n",
    "script: |\n  line one\n\n  line three\n",
    "trailing: spaces   \n",
    "a: 1\r\nb: 2\r\n",
    "a: 1\n   \nb: 2\n",
    "tab: \"x\ty\"\n",
    "unicode: \"🚀 ünïcödé\"\n'quoted key': \"---\"\n",
    "doc:\n---\n",
];

fn manifest(rendered: &k3s_render::Rendered, release: &str) -> Value {
    let path = Path::new(MANIFESTS_DIR).join(format!("edgefleet-{release}.yaml"));
    serde_norway::from_str(&rendered.files[&path]).expect("the manifest is YAML")
}

#[test]
fn given_awkward_values_then_value_content_reads_back_byte_for_byte() {
    for values in AWKWARD_VALUES {
        let mut profile = store_profile();
        profile.releases[0].values = values.to_string();
        let rendered = match render(&first_server(profile)) {
            Ok(rendered) => rendered,
            // a second document is not a values file: refused, not mangled
            Err(e) => {
                assert_eq!(*values, "doc:\n---\n", "{e}");
                continue;
            }
        };
        let chart = manifest(&rendered, "pos");
        assert_eq!(chart["spec"]["valuesContent"].as_str(), Some(*values), "{values:?}");
        assert_eq!(chart["kind"].as_str(), Some("HelmChart"));
    }
}

#[test]
fn given_blank_values_then_there_is_no_values_content() {
    for values in ["", "\n", "  \n\n", "# only a comment\n"] {
        let mut profile = store_profile();
        profile.releases[0].values = values.to_string();
        let rendered = render(&first_server(profile)).expect("renders");
        let spec = &manifest(&rendered, "pos")["spec"];
        let want = (!values.trim().is_empty()).then_some(values);
        assert_eq!(spec["valuesContent"].as_str(), want, "{values:?}");
    }
}

#[test]
fn given_strings_a_yaml_1_1_reader_would_retype_then_they_are_quoted_and_read_back_as_strings() {
    let mut profile = store_profile();
    profile.releases[0].version = "1.10".into();
    let mut node = first_server(profile);
    node.node = "on".into();
    node.cluster = "no".into();
    node.node_labels.insert("edgefleet.io/till".into(), "0600".into());
    node.token_file = "/var/lib/edge fleet/tok:en \"x\" #1".into();
    let rendered = render(&node).expect("renders");

    let config_text = &rendered.files[Path::new(CONFIG_PATH)];
    assert!(config_text.contains("node-name: \"on\"\n"), "{config_text}");
    let config: Value = serde_norway::from_str(config_text).expect("config.yaml is YAML");
    assert_eq!(config["node-name"].as_str(), Some("on"));
    assert_eq!(
        config["token-file"].as_str(),
        Some("/var/lib/edge fleet/tok:en \"x\" #1")
    );
    assert_eq!(config["cluster-init"].as_bool(), Some(true));
    assert_eq!(config["write-kubeconfig-mode"].as_str(), Some("0600"));
    let labels: Vec<_> = config["node-label"]
        .as_sequence()
        .expect("a list")
        .iter()
        .map(|l| l.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            Some("edgefleet.io/cluster=no"),
            Some("edgefleet.io/node=on"),
            Some("edgefleet.io/till=0600"),
            Some("topology.kubernetes.io/zone=back-office")
        ]
    );
    assert_eq!(manifest(&rendered, "pos")["spec"]["version"].as_str(), Some("1.10"));
}

#[test]
fn given_every_fixture_then_every_rendered_file_is_yaml() {
    for node in [
        first_server(store_profile()),
        joining_server(store_profile()),
        worker(store_profile()),
    ] {
        for (path, contents) in render(&node).expect("renders").files {
            let parsed: Result<Value, _> = serde_norway::from_str(&contents);
            assert!(parsed.is_ok(), "{}: {parsed:?}", path.display());
        }
    }
}
