//! [`decide_placement`]: filters, scores, selection, explanation. Pure.

use super::candidate::{ClusterCandidate, ClusterKey};
use super::explain::{ClusterVerdict, PlacementDecision, Verdict};
use events::placement::{PlacementSpec, Predicate, Prefer, PrioritizerKind};
use std::collections::{BTreeMap, BTreeSet};

/// The clusters `spec` chooses among `candidates` (`previous`: those its last decision chose), without the
/// explanation: what the hub planner asks every pass. Always the same choice as [`decide_placement`]'s.
pub fn choose_placement(
    spec: &PlacementSpec,
    candidates: &[ClusterCandidate],
    previous: &BTreeSet<ClusterKey>,
) -> Vec<ClusterKey> {
    let survivors: Vec<&ClusterCandidate> = candidates.iter().filter(|c| removal(spec, c).is_none()).collect();
    let scored = totals(spec, &survivors, previous);
    let totals: Vec<u64> = scored.iter().map(|(_, t)| *t).collect();
    select(spec, &survivors, &totals)
}

/// Decides where `spec` puts its app among `candidates`, `previous` being the clusters its last decision chose, and
/// explains every cluster.
pub fn decide_placement(
    spec: &PlacementSpec,
    candidates: &[ClusterCandidate],
    previous: &BTreeSet<ClusterKey>,
) -> PlacementDecision {
    let mut sorted: Vec<&ClusterCandidate> = candidates.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut verdicts: BTreeMap<ClusterKey, Verdict> = BTreeMap::new();
    let mut survivors = Vec::new();
    for candidate in sorted {
        match removal(spec, candidate) {
            Some(removed) => {
                let (by, reason) = removed.text(candidate);
                verdicts.insert(candidate.key.clone(), Verdict::Filtered { by, reason });
            }
            None => survivors.push(candidate),
        }
    }
    let scored = totals(spec, &survivors, previous);
    let totals: Vec<u64> = scored.iter().map(|(_, t)| *t).collect();
    let chosen = select(spec, &survivors, &totals);
    let chosen_set: BTreeSet<&ClusterKey> = chosen.iter().collect();
    let total_of: BTreeMap<&ClusterKey, u64> = survivors.iter().map(|c| &c.key).zip(totals.iter().copied()).collect();
    let cutoff = chosen.iter().filter_map(|k| total_of.get(k).copied()).min();
    let names: Vec<String> = spec.prioritizers.iter().map(|p| p.kind.to_string()).collect();
    for (candidate, (values, total)) in survivors.iter().zip(scored) {
        let scores = names
            .iter()
            .zip(&values)
            .zip(&spec.prioritizers)
            .map(|((name, value), p)| (name.clone(), *value, p.weight))
            .collect();
        let is_chosen = chosen_set.contains(&candidate.key);
        let why = why(spec, candidate, total, is_chosen, cutoff, &chosen);
        verdicts.insert(
            candidate.key.clone(),
            Verdict::Scored {
                scores,
                total,
                chosen: is_chosen,
                why,
            },
        );
    }
    let summary = summary(spec, candidates.len(), &verdicts, &chosen);
    let groups = group_clusters(spec, &chosen, candidates);
    PlacementDecision {
        groups,
        chosen,
        clusters: verdicts
            .into_iter()
            .map(|(cluster, verdict)| ClusterVerdict { cluster, verdict })
            .collect(),
        summary,
    }
}

/// Why a filter removed a cluster; its words are made only when explaining.
enum Removal<'a> {
    Deleted,
    Offline { offline_s: u64, tolerated_s: u64 },
    Predicate(&'a Predicate),
}

impl Removal<'_> {
    /// (the filter, what the cluster has instead).
    fn text(&self, c: &ClusterCandidate) -> (String, String) {
        match self {
            Removal::Deleted => ("deleted".into(), "the cluster is deleted".into()),
            Removal::Offline {
                offline_s,
                tolerated_s: 0,
            } => (
                "offline".into(),
                format!(
                    "its site is offline ({}); no offline time is tolerated",
                    duration(*offline_s)
                ),
            ),
            Removal::Offline { offline_s, tolerated_s } => (
                "offline".into(),
                format!(
                    "its site is offline for {}, past the {} tolerated",
                    duration(*offline_s),
                    duration(*tolerated_s)
                ),
            ),
            Removal::Predicate(p) => (p.to_string(), fails(p, c).unwrap_or_default()),
        }
    }
}

/// The first filter that removes `c`, if one does.
fn removal<'a>(spec: &'a PlacementSpec, c: &ClusterCandidate) -> Option<Removal<'a>> {
    if c.deleted {
        return Some(Removal::Deleted);
    }
    if let Some(offline_ms) = c.offline_for_ms {
        let tolerated_s = spec.tolerate_offline_s.unwrap_or(0);
        if offline_ms / 1000 >= tolerated_s {
            return Some(Removal::Offline {
                offline_s: offline_ms / 1000,
                tolerated_s,
            });
        }
    }
    spec.predicates.iter().find(|p| !holds(p, c)).map(Removal::Predicate)
}

/// Whether `c` meets `predicate`.
fn holds(predicate: &Predicate, c: &ClusterCandidate) -> bool {
    match predicate {
        Predicate::SiteLabel(m) => m.holds(&c.site_labels),
        Predicate::ClusterLabel(m) => m.holds(&c.cluster_labels),
        Predicate::NodeLabel(m) => c.node_labels.iter().any(|l| m.holds(l)),
        Predicate::MinCpus(n) => c.cpus >= *n,
        Predicate::MinMemoryMib(n) => c.memory_mib >= *n,
        Predicate::TimezoneIn(zones) => c.timezone.as_ref().is_some_and(|tz| zones.contains(tz)),
    }
}

/// What `c` has instead, if it fails `predicate`.
fn fails(predicate: &Predicate, c: &ClusterCandidate) -> Option<String> {
    let label = |labels: &BTreeMap<String, String>, key: &str| match labels.get(key) {
        Some(v) => format!("{key}={v}"),
        None => format!("no {key} label"),
    };
    match predicate {
        Predicate::SiteLabel(m) => {
            (!m.holds(&c.site_labels)).then(|| format!("site has {}", label(&c.site_labels, &m.key)))
        }
        Predicate::ClusterLabel(m) => {
            (!m.holds(&c.cluster_labels)).then(|| format!("cluster has {}", label(&c.cluster_labels, &m.key)))
        }
        Predicate::NodeLabel(m) => (!c.node_labels.iter().any(|l| m.holds(l)))
            .then(|| format!("none of its {} member(s) matches", c.node_labels.len())),
        Predicate::MinCpus(n) => (c.cpus < *n).then(|| format!("{} CPUs", c.cpus)),
        Predicate::MinMemoryMib(n) => (c.memory_mib < *n).then(|| format!("{} MiB", c.memory_mib)),
        Predicate::TimezoneIn(zones) => match &c.timezone {
            Some(tz) if zones.contains(tz) => None,
            Some(tz) => Some(format!("time zone {tz}")),
            None => Some("its site has not said its time zone".into()),
        },
    }
}

/// Every survivor's score per prioritizer and weighted total. Ranges (the largest CPU count, each numeric label's
/// lowest and highest) are taken once over the survivors, so scoring is linear in the fleet.
fn totals(
    spec: &PlacementSpec,
    survivors: &[&ClusterCandidate],
    previous: &BTreeSet<ClusterKey>,
) -> Vec<(Vec<u32>, u64)> {
    let max_cpus = survivors.iter().map(|c| c.cpus).max().unwrap_or(0);
    let ranges: Vec<Option<(u64, u64)>> = spec
        .prioritizers
        .iter()
        .map(|p| match &p.kind {
            PrioritizerKind::LabelValue { label, .. } => {
                let values = survivors.iter().filter_map(|c| label_number(c, label));
                values.fold(None, |range, v| match range {
                    None => Some((v, v)),
                    Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
                })
            }
            _ => None,
        })
        .collect();
    let mut out = Vec::with_capacity(survivors.len());
    for c in survivors {
        let mut scores = Vec::with_capacity(spec.prioritizers.len());
        let mut total = 0u64;
        for (p, range) in spec.prioritizers.iter().zip(&ranges) {
            let s = match &p.kind {
                PrioritizerKind::Steady => {
                    if previous.contains(&c.key) {
                        100
                    } else {
                        0
                    }
                }
                PrioritizerKind::LeastLoaded => c.load_permille.map_or(50, |l| 100 - l.min(1000) / 10),
                PrioritizerKind::MostCpus => {
                    (u64::from(c.cpus) * 100).checked_div(u64::from(max_cpus)).unwrap_or(0) as u32
                }
                PrioritizerKind::LabelValue { label, prefer } => label_score(c, label, *prefer, *range),
            };
            total += u64::from(s) * u64::from(p.weight);
            scores.push(s);
        }
        out.push((scores, total));
    }
    out
}

fn label_number(c: &ClusterCandidate, label: &str) -> Option<u64> {
    c.site_labels
        .get(label)
        .or_else(|| c.cluster_labels.get(label))
        .and_then(|v| v.parse().ok())
}

/// 0..=100 by where `c`'s numeric `label` sits in the survivors' `range` (lowest, highest); 0 without a number.
fn label_score(c: &ClusterCandidate, label: &str, prefer: Prefer, range: Option<(u64, u64)>) -> u32 {
    let (Some(value), Some((lo, hi))) = (label_number(c, label), range) else {
        return 0;
    };
    if hi == lo {
        return 100;
    }
    let from_low = ((value - lo) * 100 / (hi - lo)) as u32;
    match prefer {
        Prefer::Lower => 100 - from_low,
        Prefer::Higher => from_low,
    }
}

/// The spread value of `c`: its site's label, else its own.
fn spread_value(spec: &PlacementSpec, c: &ClusterCandidate) -> Option<String> {
    let label = spec.spread_by.as_ref()?;
    c.site_labels
        .get(label)
        .or_else(|| c.cluster_labels.get(label))
        .cloned()
}

/// Highest total first (ties by key); with a spread label, one per value in rounds; at most `number_of_clusters`.
/// `totals[i]` is `survivors[i]`'s.
fn select(spec: &PlacementSpec, survivors: &[&ClusterCandidate], totals: &[u64]) -> Vec<ClusterKey> {
    let mut ranked: Vec<(u64, &ClusterCandidate)> = totals.iter().copied().zip(survivors.iter().copied()).collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.key.cmp(&b.1.key)));
    let order: Vec<&ClusterCandidate> = if spec.spread_by.is_some() {
        let mut rounds: Vec<(usize, u64, &ClusterCandidate)> = Vec::new();
        let mut seen: BTreeMap<Option<String>, usize> = BTreeMap::new();
        for (total, c) in ranked {
            let round = seen.entry(spread_value(spec, c)).or_insert(0);
            rounds.push((*round, total, c));
            *round += 1;
        }
        rounds.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then_with(|| a.2.key.cmp(&b.2.key)));
        rounds.into_iter().map(|(_, _, c)| c).collect()
    } else {
        ranked.into_iter().map(|(_, c)| c).collect()
    };
    let limit = spec.number_of_clusters.map_or(usize::MAX, |n| n as usize);
    order.into_iter().take(limit).map(|c| c.key.clone()).collect()
}

fn why(
    spec: &PlacementSpec,
    c: &ClusterCandidate,
    total: u64,
    chosen: bool,
    cutoff: Option<u64>,
    chosen_keys: &[ClusterKey],
) -> String {
    let limit = spec.number_of_clusters;
    match (chosen, limit) {
        (true, None) => "every cluster that passes is chosen".into(),
        (true, Some(n)) => {
            let rank = chosen_keys.iter().position(|k| *k == c.key).map_or(0, |p| p + 1);
            format!("#{rank} of the {n} wanted")
        }
        (false, Some(n)) => match (spread_value(spec, c), &spec.spread_by, cutoff) {
            (Some(value), Some(label), _) if !chosen_keys.is_empty() => {
                format!("the {n} wanted were filled first by higher totals or other {label} values ({label}={value})")
            }
            (_, _, Some(cut)) if total < cut => {
                format!("{n} wanted, and its total {total} is below the {cut} chosen last")
            }
            _ => format!("{n} wanted, and clusters of equal total before it by name were chosen"),
        },
        (false, None) => "not chosen".into(),
    }
}

fn summary(
    spec: &PlacementSpec,
    considered: usize,
    verdicts: &BTreeMap<ClusterKey, Verdict>,
    chosen: &[ClusterKey],
) -> String {
    let mut removed: BTreeMap<&str, usize> = BTreeMap::new();
    let mut passed = 0;
    for verdict in verdicts.values() {
        match verdict {
            Verdict::Filtered { by, .. } => *removed.entry(by.as_str()).or_insert(0) += 1,
            Verdict::Scored { .. } => passed += 1,
        }
    }
    let removed_text: Vec<String> = removed.iter().map(|(by, n)| format!("{n} by {by}")).collect();
    let mut text = format!(
        "{considered} cluster(s) considered for app {}: {} removed{}; {passed} passed; {} chosen",
        spec.app,
        considered - passed,
        if removed_text.is_empty() {
            String::new()
        } else {
            format!(" ({})", removed_text.join(", "))
        },
        chosen.len()
    );
    if chosen.is_empty() {
        text.push_str(if considered == 0 {
            ". Nothing fits: the fleet has no clusters."
        } else {
            ". Nothing fits: every cluster was removed by a filter above; relax it or add clusters that meet it."
        });
        if let Some((by, n)) = removed.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) {
            text.push_str(&format!(" The filter that removed most: {by} ({n})."));
        }
    } else if let Some(n) = spec.number_of_clusters.filter(|n| (*n as usize) > chosen.len()) {
        text.push_str(&format!(
            ". Fewer than the {n} wanted: only {passed} passed the filters."
        ));
    }
    text
}

/// `3h`, `12m`, `45s`.
fn duration(s: u64) -> String {
    match s {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// With decision groups, the chosen clusters by group in delivery order (the ones no selector takes last, as
/// `rest`); without, nothing.
pub fn group_clusters(
    spec: &PlacementSpec,
    chosen: &[ClusterKey],
    candidates: &[ClusterCandidate],
) -> Vec<(String, Vec<ClusterKey>)> {
    if spec.groups.is_empty() {
        return vec![];
    }
    let mut out: Vec<(String, Vec<ClusterKey>)> = spec.groups.iter().map(|g| (g.name.clone(), vec![])).collect();
    out.push((events::placement::REST_GROUP.to_string(), vec![]));
    for key in chosen {
        let Some(c) = candidates.iter().find(|c| c.key == *key) else {
            continue;
        };
        let group = spec
            .groups
            .iter()
            .position(|g| g.takes(&c.site_labels, &c.cluster_labels))
            .unwrap_or(spec.groups.len());
        out[group].1.push(key.clone());
    }
    out
}
