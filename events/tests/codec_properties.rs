//! Codec properties: decode(encode(x)) = x, and no byte string — random, truncated or bit-flipped — panics the
//! decoder.

use events::cluster::{ClusterEvent, ProfileRef};
use events::node::{Disk, Inventory, Nic, NodeEvent, NodeRole};
use events::site::SiteEvent;
use events::{
    decode, decode_message, encode, encode_decision, AggregateKind, AggregateRef, DecodeError, Envelope, EventId, Hlc,
    Origin, Payload, Scope, Token,
};
use proptest::prelude::*;

fn token() -> impl Strategy<Value = Token> {
    "[a-z0-9][a-z0-9_-]{0,12}".prop_map(|s| Token::new(s).expect("strategy makes valid tokens"))
}

fn inventory() -> impl Strategy<Value = Inventory> {
    (
        "[0-9a-f]{32}",
        1u32..256,
        any::<u64>(),
        proptest::collection::vec(("[a-z0-9]{1,8}", any::<u64>()), 0..3),
        proptest::collection::vec(("[a-z0-9]{1,8}", "[0-9a-f:]{17}"), 0..3),
    )
        .prop_map(|(machine_id, cpu_count, memory_bytes, disks, nics)| Inventory {
            machine_id,
            cpu_count,
            memory_bytes,
            disks: disks
                .into_iter()
                .map(|(name, size_bytes)| Disk { name, size_bytes })
                .collect(),
            nics: nics.into_iter().map(|(name, mac)| Nic { name, mac }).collect(),
        })
}

fn role() -> impl Strategy<Value = NodeRole> {
    prop_oneof![Just(NodeRole::ControlPlane), Just(NodeRole::Worker)]
}

/// A valid envelope: payload kind matches the aggregate, writer matches the origin, sites write in their scope.
fn envelope() -> impl Strategy<Value = Envelope> {
    let site_node = (inventory(), token(), role(), any::<u64>(), ".{0,40}").prop_flat_map(
        |(inventory, cluster, role, g, reason)| {
            prop_oneof![
                Just(NodeEvent::Registered { inventory }),
                Just(NodeEvent::Joined {
                    cluster,
                    role,
                    observed_generation: g
                }),
                Just(NodeEvent::Failed {
                    observed_generation: g,
                    reason
                }),
                Just(NodeEvent::CameBack),
            ]
        },
    );
    let hub_node = (token(), role(), any::<u64>()).prop_flat_map(|(cluster, role, generation)| {
        prop_oneof![
            Just(NodeEvent::Assigned {
                generation,
                cluster,
                role
            }),
            Just(NodeEvent::ResetRequested { generation })
        ]
    });
    let site_cluster = (token(), any::<u32>()).prop_map(|(name, version)| ClusterEvent::Formed {
        profile: ProfileRef { name, version },
        observed_generation: 0,
    });
    (
        token(),
        token(),
        any::<u128>(),
        any::<u64>(),
        any::<u32>(),
        proptest::option::of(".{0,20}"),
        0u8..4,
        site_node,
        hub_node,
        site_cluster,
    )
        .prop_map(
            |(site, id, raw_id, ms, logical, by, which, site_node, hub_node, site_cluster)| {
                let (kind, origin, payload): (AggregateKind, Origin, Payload) = match which {
                    0 => (AggregateKind::Node, Origin::Site(site.clone()), site_node.into()),
                    1 => (AggregateKind::Node, Origin::Hub, hub_node.into()),
                    2 => (AggregateKind::Cluster, Origin::Site(site.clone()), site_cluster.into()),
                    _ => (
                        AggregateKind::Site,
                        Origin::Site(site.clone()),
                        SiteEvent::Registered {
                            timezone: "UTC".into(),
                            controller_version: "0.1.0".into(),
                        }
                        .into(),
                    ),
                };
                Envelope {
                    id: EventId(raw_id),
                    aggregate: AggregateRef {
                        kind,
                        scope: Scope::Site(site),
                        id,
                    },
                    origin,
                    hlc: Hlc {
                        physical_ms: ms,
                        logical,
                    },
                    by,
                    payload,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decode_inverts_encode(envelope in envelope()) {
        prop_assert_eq!(decode(&encode(&envelope)), Ok(envelope));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn flipped_bytes_never_panic(envelope in envelope(), index in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let mut bytes = encode(&envelope);
        let i = index.index(bytes.len());
        bytes[i] ^= mask;
        let _ = decode(&bytes);
    }

    #[test]
    fn a_decision_decodes_whole_and_in_order(first in envelope(), ids in proptest::collection::vec(any::<u128>(), 1..6)) {
        // The events of one decision: one aggregate, one origin.
        let decision: Vec<Envelope> = std::iter::once(first.clone())
            .chain(ids.into_iter().map(|id| Envelope { id: EventId(id), ..first.clone() }))
            .collect();
        prop_assert_eq!(decode_message(&encode_decision(&decision)), Ok(decision));
    }

    #[test]
    fn a_cut_or_flipped_decision_never_panics(first in envelope(), index in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let decision = vec![first.clone(), Envelope { id: EventId(7), ..first }];
        let mut bytes = encode_decision(&decision);
        for cut in 0..bytes.len() {
            prop_assert!(decode_message(&bytes[..cut]).is_err());
        }
        let i = index.index(bytes.len());
        bytes[i] ^= mask;
        let _ = decode_message(&bytes);
        let _ = decode(&bytes);
    }

    #[test]
    fn random_bytes_never_panic_the_message_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_message(&bytes);
    }

    #[test]
    fn every_truncation_is_an_error(envelope in envelope()) {
        let bytes = encode(&envelope);
        for cut in 0..bytes.len() {
            prop_assert!(decode(&bytes[..cut]).is_err());
        }
    }
}

#[test]
fn an_unknown_version_is_named_in_the_error() {
    let mut bytes = encode(&Envelope {
        id: EventId(1),
        aggregate: AggregateRef::profile(&Token::new("p").expect("token")),
        origin: Origin::Hub,
        hlc: Hlc::default(),
        by: None,
        payload: events::profile::ProfileEvent::VersionPublished {
            version: 1,
            layers: events::profile::ProfileLayers {
                os: events::profile::OsImage {
                    image: "i".into(),
                    version: "1".into(),
                    sha256: String::new(),
                },
                k8s: events::profile::KubernetesLayer {
                    distro: "k3s".into(),
                    version: "1".into(),
                },
                cni: events::profile::HelmRelease {
                    name: "c".into(),
                    chart: "c".into(),
                    version: "1".into(),
                    values: String::new(),
                },
                csi: None,
                addons: vec![],
                apps: vec![],
            },
        }
        .into(),
    });
    bytes[2..4].copy_from_slice(&7u16.to_le_bytes());
    assert_eq!(decode(&bytes), Err(DecodeError::UnknownVersion { found: 7 }));
}

#[test]
fn a_site_writing_another_sites_aggregate_is_invalid() {
    let envelope = Envelope {
        id: EventId(1),
        aggregate: AggregateRef::node(&Token::new("a").expect("t"), &Token::new("n").expect("t")),
        origin: Origin::Site(Token::new("b").expect("t")),
        hlc: Hlc::default(),
        by: None,
        payload: NodeEvent::CameBack.into(),
    };
    assert!(matches!(decode(&encode(&envelope)), Err(DecodeError::Invalid(_))));
}

#[test]
fn a_site_writing_an_intent_is_invalid() {
    let envelope = Envelope {
        id: EventId(1),
        aggregate: AggregateRef::node(&Token::new("a").expect("t"), &Token::new("n").expect("t")),
        origin: Origin::Site(Token::new("a").expect("t")),
        hlc: Hlc::default(),
        by: None,
        payload: NodeEvent::Unassigned { generation: 1 }.into(),
    };
    assert!(matches!(decode(&encode(&envelope)), Err(DecodeError::Invalid(_))));
}

#[test]
fn a_decision_mixing_two_aggregates_or_holding_one_event_is_refused() {
    let node = |n: &str, id: u128| Envelope {
        id: EventId(id),
        aggregate: AggregateRef::node(&Token::new("a").expect("t"), &Token::new(n).expect("t")),
        origin: Origin::Site(Token::new("a").expect("t")),
        hlc: Hlc::default(),
        by: None,
        payload: NodeEvent::CameBack.into(),
    };
    let mixed = encode_decision(&[node("n1", 1), node("n2", 2)]);
    assert!(
        matches!(decode_message(&mixed), Err(DecodeError::InvalidDecision(ref why)) if why.contains("node/a/n2")),
        "{:?}",
        decode_message(&mixed)
    );
    // A frame of one event is not what the writer makes (it writes a plain envelope): refused.
    let mut one = encode_decision(&[node("n1", 1), node("n1", 2)]);
    let single_frame = {
        let mut frame = one[..4].to_vec();
        frame.extend(postcard::to_allocvec(&vec![node("n1", 1)]).expect("encode"));
        frame
    };
    assert!(matches!(
        decode_message(&single_frame),
        Err(DecodeError::InvalidDecision(_))
    ));
    // A plain decoder refuses a frame by its version, so a reader too old for frames quarantines it.
    assert!(matches!(
        decode(&one),
        Err(DecodeError::UnknownVersion { found: 0x8001 })
    ));
    one.truncate(4);
    assert!(decode_message(&one).is_err());
}
