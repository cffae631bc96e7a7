//! Finding the nats-server binary: `$NATS_SERVER`, then `.tools/bin` above the start dir, then
//! `PATH`, and errors that say what to do. Starts no server.

use std::ffi::OsString;
use std::path::Path;

use nats_process::{find_nats_server_in, NatsBinaryError};

#[test]
fn missing_nats_server_env_path_is_an_error_that_says_so() {
    let missing = Path::new("/nonexistent/nats-server");
    let error = find_nats_server_in(
        Some(OsString::from(missing)),
        Path::new("/"),
        Some(OsString::from("/usr/bin")),
    )
    .expect_err("the file does not exist");

    assert!(
        matches!(&error, NatsBinaryError::EnvPathMissing { path } if path == missing),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("NATS_SERVER"), "{message}");
    assert!(message.contains("/nonexistent/nats-server"), "{message}");
}

#[test]
fn no_binary_anywhere_says_how_to_install() {
    let empty = tempfile::tempdir().expect("temp dir");
    let error = find_nats_server_in(None, empty.path(), Some(empty.path().into())).expect_err("nothing to find");

    assert!(matches!(error, NatsBinaryError::NotFound), "{error:?}");
    assert_eq!(
        error.to_string(),
        "nats-server not found: set NATS_SERVER, or run scripts/install-nats-server \
         (installs into .tools/bin), or put nats-server on PATH"
    );
    // Debug is the message too, so `main() -> Result` and `?` in tests print it readably.
    assert_eq!(format!("{error:?}"), error.to_string());
}

#[cfg(unix)]
#[test]
fn lookup_prefers_env_then_tool_dir_above_the_start_dir_then_path() {
    use std::os::unix::fs::PermissionsExt;

    let root = tempfile::tempdir().expect("temp dir");
    let make_binary = |path: &Path| {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    };
    let tool_binary = root.path().join("repo/.tools/bin/nats-server");
    let path_binary = root.path().join("usr/bin/nats-server");
    let env_binary = root.path().join("custom/nats-server");
    make_binary(&tool_binary);
    make_binary(&path_binary);
    make_binary(&env_binary);
    let nested = root.path().join("repo/crate/src");
    std::fs::create_dir_all(&nested).expect("mkdir");
    let path_var = Some(OsString::from(root.path().join("usr/bin")));

    let found = |env: Option<&Path>, start: &Path| {
        find_nats_server_in(env.map(OsString::from), start, path_var.clone()).expect("found")
    };
    assert_eq!(found(Some(&env_binary), &nested), env_binary);
    assert_eq!(found(None, &nested), tool_binary);
    assert_eq!(found(None, root.path()), path_binary);
    // An empty NATS_SERVER counts as unset.
    assert_eq!(
        find_nats_server_in(Some(OsString::new()), &nested, None).expect("found"),
        tool_binary
    );
}

#[cfg(unix)]
#[test]
fn a_tool_dir_binary_that_is_not_executable_is_skipped() {
    use std::os::unix::fs::PermissionsExt;

    let root = tempfile::tempdir().expect("temp dir");
    let tool_binary = root.path().join(".tools/bin/nats-server");
    std::fs::create_dir_all(tool_binary.parent().expect("parent")).expect("mkdir");
    std::fs::write(&tool_binary, "not a program").expect("write");
    std::fs::set_permissions(&tool_binary, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    let error = find_nats_server_in(None, root.path(), None).expect_err("nothing executable");
    assert!(matches!(error, NatsBinaryError::NotFound), "{error:?}");
}
