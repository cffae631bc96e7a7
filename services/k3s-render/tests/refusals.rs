//! Given bad input, when it is rendered, then it is refused with a typed error whose message says what is wrong
//! and what to do — never a panic, never a half-rendered node. The messages are pinned by insta.

mod k3s_support;

use k3s_render::{render, K3sNode, K3sRole, RenderError};
use k3s_support::*;
use std::fmt::Write;

type Case = (&'static str, fn(&mut K3sNode));

const CASES: &[Case] = &[
    ("another distribution", |n| n.profile.kubernetes.distro = "rke2".into()),
    ("a version that is not k3s'", |n| {
        n.profile.kubernetes.version = "v1.31.4".into()
    }),
    ("no token file", |n| n.token_file = "".into()),
    ("a relative token file", |n| n.token_file = "token".into()),
    ("a joining server without a server URL", |n| {
        n.role = K3sRole::JoiningServer {
            server_url: String::new(),
        }
    }),
    ("an agent with a plain-http server URL", |n| {
        n.role = K3sRole::Agent {
            server_url: "http://10.20.0.1:6443".into(),
        }
    }),
    ("an agent with a server URL with a path", |n| {
        n.role = K3sRole::Agent {
            server_url: "https://10.20.0.1:6443/v1".into(),
        }
    }),
    ("an agent with an advertise address", |n| {
        n.role = K3sRole::Agent {
            server_url: "https://10.20.0.1:6443".into(),
        };
        n.advertise_address = Some(ip(9));
    }),
    ("a node id k3s cannot name a node", |n| n.node = "n_1".into()),
    ("an empty cluster id", |n| n.cluster = String::new()),
    ("a label only the API may set", |n| {
        n.node_labels
            .insert("node-role.kubernetes.io/worker".into(), "true".into());
    }),
    ("a label edgefleet sets", |n| {
        n.node_labels.insert("edgefleet.io/cluster".into(), "other".into());
    }),
    ("a label value with a space", |n| {
        n.node_labels.insert("edgefleet.io/till".into(), "till 3".into());
    }),
    ("an upper-case release name", |n| {
        n.profile.releases[0].name = "POS".into()
    }),
    ("a release name longer than Helm takes", |n| {
        n.profile.releases[0].name = "p".repeat(54)
    }),
    ("a release name with a line break", |n| {
        n.profile.releases[0].name = "pos\nrm -rf".into()
    }),
    ("a release named like a chart k3s deploys", |n| {
        n.profile.releases[0].name = "traefik".into()
    }),
    ("two releases with one name", |n| {
        n.profile.releases.push(cilium("1.16.5"))
    }),
    ("a repository alias the node does not know", |n| {
        n.profile.releases[0].chart = "bitnami/nginx".into()
    }),
    ("a bare chart name", |n| n.profile.releases[0].chart = "nginx".into()),
    ("a file:// chart", |n| {
        n.profile.releases[0].chart = "file:///charts/pos".into()
    }),
    ("no chart version", |n| n.profile.releases[0].version = String::new()),
    ("values that are a list", |n| {
        n.profile.releases[0].values = "- a\n- b\n".into()
    }),
    ("values that are not YAML", |n| {
        n.profile.releases[0].values = "a: [1, 2\n".into()
    }),
    ("flannel with values k3s would ignore", |n| {
        n.profile.cni = release(
            "flannel",
            "oci://registry.example/charts/flannel",
            "v0.26.1",
            "backend: wireguard\n",
        )
    }),
];

#[test]
fn given_bad_input_then_render_refuses_it_with_a_message_saying_what_to_fix() {
    let mut report = String::new();
    for (case, spoil) in CASES {
        let mut node = first_server(store_profile());
        spoil(&mut node);
        let err: RenderError = render(&node).expect_err(case);
        writeln!(report, "{case}:\n  {err}").unwrap();
    }
    insta::assert_snapshot!("refusals", report);
}

#[test]
fn given_a_huge_value_then_the_error_quotes_only_its_start() {
    let mut node = first_server(store_profile());
    node.profile.kubernetes.distro = "x".repeat(100_000);
    let message = render(&node).expect_err("refused").to_string();
    assert!(message.len() < 200, "{message}");
}
