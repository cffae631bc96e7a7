//! Creating a file that holds a secret (a credential, a join token): owner-only (`0600`) from the first byte, and
//! never over an existing file.

use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Creates `path` with `text`, readable and writable by its owner only; refuses an existing file.
pub fn create_owner_only(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
