//! async-nats connect options for a user of the fleet: its `.creds` file and, when the server speaks TLS from the
//! fleet CA (or a supplied one), that CA as the only root and TLS required.
//!
//! Builds options only; connecting is the caller's.

use std::path::Path;

use crate::error::{io_error, TrustError};

/// Options that authenticate with the `.creds` file at `creds` and, if `ca` is given, require TLS with a server
/// certificate issued by that CA.
pub async fn client_connect_options(creds: &Path, ca: Option<&Path>) -> Result<async_nats::ConnectOptions, TrustError> {
    let options = async_nats::ConnectOptions::new()
        .credentials_file(creds)
        .await
        .map_err(io_error("read credentials", creds))?;
    Ok(match ca {
        Some(ca) => options.add_root_certificates(ca.to_owned()).require_tls(true),
        None => options,
    })
}
