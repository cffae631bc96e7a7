//! Given what `k3s --version` prints, then the installed version is read from its first line; given a profile
//! asking for another version, then it is refused naming both. Parsed from literal output: no k3s binary here.

use events::profile::KubernetesLayer;
use k3s_render::{check_version, parse_version_output, BinaryError, K3sBinary};

fn k3s(version: &str) -> KubernetesLayer {
    KubernetesLayer {
        distro: "k3s".into(),
        version: version.into(),
    }
}

#[test]
fn given_k3s_version_output_then_the_version_is_its_third_word() {
    let cases = [
        (
            "k3s version v1.31.4+k3s1 (a1b2c3d4)\ngo version go1.22.9\n",
            Some("v1.31.4+k3s1"),
        ),
        ("k3s version v1.32.0-rc1+k3s1 (0f1e2d3c)\n", Some("v1.32.0-rc1+k3s1")),
        ("k3s version v1.30.10+k3s12 (deadbeef)", Some("v1.30.10+k3s12")),
        ("", None),
        ("k3s version\n", None),
        ("rke2 version v1.31.4+rke2r1 (a1b2c3d4)\n", None),
        ("go version go1.22.9\nk3s version v1.31.4+k3s1 (a1b2c3d4)\n", None),
        ("k3s version 1.31.4 (a1b2c3d4)\n", None),
        ("Usage: k3s [global options] command\n", None),
    ];
    for (output, want) in cases {
        assert_eq!(parse_version_output(output).as_deref(), want, "{output:?}");
    }
}

#[test]
fn given_the_installed_version_then_a_profile_asking_for_it_is_accepted() {
    assert!(check_version("v1.31.4+k3s1", &k3s("v1.31.4+k3s1")).is_ok());
}

#[test]
fn given_another_version_then_the_profile_is_refused_naming_both() {
    let err = check_version("v1.31.4+k3s1", &k3s("v1.32.1+k3s1")).expect_err("mismatch");
    assert!(matches!(err, BinaryError::VersionMismatch { .. }));
    assert_eq!(
        err.to_string(),
        "the profile asks for k3s v1.32.1+k3s1 but the OS image ships k3s v1.31.4+k3s1: k3s does not upgrade \
         itself from its config; update the node's OS image to one with k3s v1.32.1+k3s1 first"
    );
}

#[test]
fn given_another_distribution_then_it_is_refused() {
    let layer = KubernetesLayer {
        distro: "rke2".into(),
        version: "v1.31.4+rke2r1".into(),
    };
    let err = check_version("v1.31.4+k3s1", &layer).expect_err("not k3s");
    assert_eq!(
        err.to_string(),
        "the profile's Kubernetes distribution is \"rke2\", not k3s"
    );
}

#[test]
fn given_no_binary_at_the_path_then_the_error_names_the_path() {
    let binary = K3sBinary {
        path: "/nonexistent/k3s".into(),
    };
    let err = binary.version().expect_err("missing");
    assert!(matches!(err, BinaryError::NotRunnable { .. }));
    assert!(
        err.to_string().starts_with("cannot run /nonexistent/k3s --version: "),
        "{err}"
    );
}

#[test]
fn given_a_binary_that_is_not_k3s_then_its_output_is_refused() {
    let binary = K3sBinary {
        path: "/bin/echo".into(),
    };
    let err = binary.check_matches(&k3s("v1.31.4+k3s1")).expect_err("echo is not k3s");
    assert!(matches!(err, BinaryError::UnexpectedOutput { .. }), "{err}");
    // GNU echo prints its own version, busybox echoes the argument: either way, not k3s.
    let message = err.to_string();
    assert!(message.starts_with("/bin/echo --version printed \""), "{message}");
    assert!(
        message.ends_with("\", not `k3s version v1.31.4+k3s1 (…)`: is it k3s?"),
        "{message}"
    );
}

#[test]
fn given_a_binary_that_fails_then_the_failure_is_reported() {
    let binary = K3sBinary {
        path: "/bin/false".into(),
    };
    assert!(matches!(binary.version(), Err(BinaryError::Failed { .. })));
}
