//! Deterministic event logs for tests and the checked-in `.eflog` fixtures in `testkit/fixtures/`.
//!
//! `cargo run -p testkit --bin make-fixtures` regenerates the fixture files from the builders below. Fixture files
//! are history: once checked in they are read by every later build, which is how an encoding change that would
//! break old logs gets caught.

use events::cluster::{ClusterEvent, ProfileRef};
use events::log_format::LogRecord;
use events::node::{Disk, Inventory, Nic, NodeEvent, NodeRole};
use events::profile::{HelmRelease, KubernetesLayer, OsImage, ProfileEvent, ProfileLayers};
use events::site::SiteEvent;
use events::{subject, AggregateRef, Envelope, EventId, Hlc, Origin, Payload};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// 2026-01-01T00:00:00Z, where fixture clocks start.
pub const FIXTURE_EPOCH_MS: u64 = 1_767_225_600_000;

/// A log built event by event, with deterministic ids, clocks and sequences.
#[derive(Clone, Debug, Default)]
pub struct FixtureLog {
    records: Vec<LogRecord>,
    envelopes: Vec<Envelope>,
    clock_ms: u64,
    counter: u128,
    seqs: BTreeMap<String, u64>,
}

impl FixtureLog {
    /// An empty log whose clock starts at [`FIXTURE_EPOCH_MS`].
    pub fn new() -> Self {
        Self {
            clock_ms: FIXTURE_EPOCH_MS,
            ..Self::default()
        }
    }

    /// Appends a hub event about `aggregate`.
    pub fn hub(&mut self, aggregate: &AggregateRef, payload: impl Into<Payload>, by: &str) -> &mut Self {
        self.push(aggregate, Origin::Hub, payload.into(), by)
    }

    /// Appends a site event about `aggregate` (written by the aggregate's own site).
    pub fn site(&mut self, aggregate: &AggregateRef, payload: impl Into<Payload>, by: &str) -> &mut Self {
        let site = aggregate
            .scope
            .site()
            .cloned()
            .unwrap_or_else(|| crate::token("unscoped"));
        self.push(aggregate, Origin::Site(site), payload.into(), by)
    }

    /// Appends raw bytes on `subject` in `stream` (for quarantine tests).
    pub fn raw(&mut self, stream: &str, subject: &str, payload: Vec<u8>) -> &mut Self {
        let seq = self.next_seq(stream);
        self.records.push(LogRecord {
            subject: subject.to_string(),
            msg_id: None,
            seq,
            payload,
        });
        self
    }

    /// Moves the fixture clock forward.
    pub fn advance_ms(&mut self, ms: u64) -> &mut Self {
        self.clock_ms += ms;
        self
    }

    fn next_seq(&mut self, stream: &str) -> u64 {
        let seq = self.seqs.entry(stream.to_string()).or_insert(0);
        *seq += 1;
        *seq
    }

    fn push(&mut self, aggregate: &AggregateRef, origin: Origin, payload: Payload, by: &str) -> &mut Self {
        self.clock_ms += 1_000;
        self.counter += 1;
        let envelope = Envelope {
            id: EventId::from_parts(self.clock_ms, self.counter),
            aggregate: aggregate.clone(),
            origin,
            hlc: Hlc {
                physical_ms: self.clock_ms,
                logical: 0,
            },
            by: Some(by.to_string()),
            payload,
        };
        if let Err(e) = envelope.validate() {
            panic!("fixture event breaks the writer-domain rules: {e}");
        }
        let writer = envelope.origin.writer();
        let (Some(stream), Some(subject)) = (subject::stream(writer, aggregate), subject::subject(writer, aggregate))
        else {
            panic!("fixture writer {writer:?} cannot write {aggregate}");
        };
        let seq = self.next_seq(&stream);
        self.records.push(LogRecord {
            subject,
            msg_id: Some(envelope.msg_id()),
            seq,
            payload: events::encode(&envelope),
        });
        self.envelopes.push(envelope);
        self
    }

    /// The log as records (what an `.eflog` file holds).
    pub fn records(&self) -> Vec<LogRecord> {
        self.records.clone()
    }

    /// The decoded envelopes, in append order.
    pub fn envelopes(&self) -> &[Envelope] {
        &self.envelopes
    }

    /// The log folded into a [`FleetState`], as a process projection holding every stream would hold it (each
    /// event read from its writer's stream at its sequence; raw records that do not decode are skipped).
    pub fn fleet(&self) -> actors::fleet_state::FleetState {
        let mut fleet = actors::fleet_state::FleetState::new();
        for record in &self.records {
            let Ok(envelopes) = events::decode_message(&record.payload) else {
                continue;
            };
            let Some(first) = envelopes.first() else {
                continue;
            };
            let Some(stream) = subject::stream(first.origin.writer(), &first.aggregate) else {
                continue;
            };
            let stored_unix_ms = first.hlc.physical_ms;
            for recorded in actors::Recorded::of_message(&stream, record.seq, stored_unix_ms, envelopes) {
                fleet.apply(&recorded);
            }
        }
        fleet
    }
}

/// Inventory of a simulated node `n`.
pub fn sample_inventory(n: u32) -> Inventory {
    Inventory {
        machine_id: format!("{n:032x}"),
        cpu_count: 4,
        memory_bytes: 16 * 1024 * 1024 * 1024,
        disks: vec![Disk {
            name: "nvme0n1".into(),
            size_bytes: 512 * 1024 * 1024 * 1024,
        }],
        nics: vec![Nic {
            name: "eth0".into(),
            mac: format!("02:00:00:00:{:02x}:{:02x}", n / 256, n % 256),
        }],
    }
}

/// A small valid profile.
pub fn sample_layers(k8s_version: &str) -> ProfileLayers {
    let release = |name: &str, chart: &str| HelmRelease {
        name: name.into(),
        chart: chart.into(),
        version: "1.0.0".into(),
        values: String::new(),
    };
    ProfileLayers {
        os: OsImage {
            image: "edge-os".into(),
            version: "2026.1".into(),
            sha256: "0".repeat(64),
        },
        k8s: KubernetesLayer {
            distro: "k3s".into(),
            version: k8s_version.into(),
        },
        cni: release("cilium", "oci://charts/cilium"),
        csi: Some(release("longhorn", "oci://charts/longhorn")),
        addons: vec![release("fluent-bit", "oci://charts/fluent-bit")],
        apps: vec![release("pos", "oci://charts/pos")],
    }
}

/// A node from registration to ready: registered → assigned → joined → provisioning → ready.
pub fn node_lifecycle() -> FixtureLog {
    let site = crate::token("store-0042");
    let node = AggregateRef::node(&site, &crate::token("n1"));
    let cluster = crate::token("pos-cluster");
    let mut log = FixtureLog::new();
    log.site(
        &node,
        NodeEvent::Registered {
            inventory: sample_inventory(1),
        },
        "agent:n1",
    )
    .hub(
        &node,
        NodeEvent::LabelsSet {
            generation: 1,
            labels: [("rack".into(), "a".into())].into(),
        },
        "ops",
    )
    .hub(
        &node,
        NodeEvent::Assigned {
            generation: 2,
            cluster: cluster.clone(),
            role: NodeRole::ControlPlane,
        },
        "ops",
    )
    .site(
        &node,
        NodeEvent::Joined {
            cluster,
            role: NodeRole::ControlPlane,
            observed_generation: 2,
        },
        "controller",
    )
    .site(&node, NodeEvent::Provisioning { observed_generation: 2 }, "controller")
    .site(&node, NodeEvent::Ready { observed_generation: 2 }, "controller");
    log
}

/// A cluster forming offline from the site image: five nodes join, two workers are promoted.
pub fn cluster_forming() -> FixtureLog {
    let site = crate::token("ship-7");
    let cluster = AggregateRef::cluster(&site, &crate::token("main"));
    let site_agg = AggregateRef::site(&site);
    let profile = ProfileRef {
        name: crate::token("ship-stack"),
        version: 1,
    };
    let mut log = FixtureLog::new();
    log.hub(
        &AggregateRef::profile(&profile.name),
        ProfileEvent::VersionPublished {
            version: 1,
            layers: sample_layers("v1.31.4+k3s1"),
        },
        "ops",
    )
    .site(
        &site_agg,
        SiteEvent::Registered {
            timezone: "Europe/Oslo".into(),
            controller_version: "0.1.0".into(),
        },
        "controller",
    )
    .site(
        &cluster,
        ClusterEvent::Formed {
            profile: profile.clone(),
            observed_generation: 0,
        },
        "controller",
    )
    .site(
        &cluster,
        ClusterEvent::MemberJoined {
            node: crate::token("n1"),
            role: NodeRole::ControlPlane,
        },
        "controller",
    );
    for n in 2..=4 {
        log.site(
            &cluster,
            ClusterEvent::MemberJoined {
                node: crate::token(&format!("n{n}")),
                role: NodeRole::Worker,
            },
            "controller",
        );
    }
    log.site(
        &cluster,
        ClusterEvent::MemberPromoted {
            node: crate::token("n2"),
        },
        "controller",
    )
    .site(
        &cluster,
        ClusterEvent::MemberPromoted {
            node: crate::token("n3"),
        },
        "controller",
    )
    .site(
        &cluster,
        ClusterEvent::MemberJoined {
            node: crate::token("n5"),
            role: NodeRole::Worker,
        },
        "controller",
    )
    .site(
        &cluster,
        ClusterEvent::Ready {
            profile,
            observed_generation: 0,
        },
        "controller",
    );
    log
}

/// Every named fixture.
pub fn all() -> Vec<(&'static str, FixtureLog)> {
    vec![
        ("node_lifecycle", node_lifecycle()),
        ("cluster_forming", cluster_forming()),
    ]
}

/// `testkit/fixtures`, where fixture files are checked in.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}
