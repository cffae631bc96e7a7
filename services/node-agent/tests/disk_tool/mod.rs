//! Running the independent disk checkers (`sfdisk`, `sgdisk`) on an image, shared by the tests that use them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The tool's path, `None` when skipping is allowed, a panic telling how to install it otherwise.
pub fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path_var).chain(["/usr/sbin", "/sbin"].map(PathBuf::from));
    if let Some(found) = dirs.map(|dir| dir.join(name)).find(|p| p.is_file()) {
        return Some(found);
    }
    if std::env::var("EDGEFLEET_SKIP_DISK_TOOLS").as_deref() == Ok("1") {
        eprintln!("skipping the {name} check: EDGEFLEET_SKIP_DISK_TOOLS=1");
        return None;
    }
    panic!("{name} not found: install it with `apt-get install -y {package}` or set EDGEFLEET_SKIP_DISK_TOOLS=1");
}

pub fn run(program: &Path, args: &[&str], image: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .arg(image)
        .output()
        .expect("spawn disk tool");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}\n{stdout}\n{stderr}",
        program.display(),
        out.status
    );
    println!(
        "$ {} {} {}\n{stdout}{stderr}",
        program.display(),
        args.join(" "),
        image.display()
    );
    stdout
}
