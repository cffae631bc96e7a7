//! [`ClientAuth`]: the credentials and CA this crate's own clients use, turned into
//! `async_nats::ConnectOptions` — the same for the readiness probe and for callers of
//! [`crate::NatsServer::connect_options`], so both connect the same way.
//!
//! Reads a `.creds` file when asked for options; never connects.

use std::path::PathBuf;

use crate::client_credentials::ClientCredentials;
use crate::error::NatsServerError;

/// How clients of this crate authenticate and which CA they trust.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientAuth {
    /// The credentials presented to the server.
    pub(crate) credentials: ClientCredentials,
    /// The only CA trusted for the server's certificate; `Some` also requires TLS.
    pub(crate) ca: Option<PathBuf>,
}

impl ClientAuth {
    /// Connect options with these credentials, requiring TLS and trusting only the CA if one is
    /// set; everything else is async-nats's default.
    pub(crate) async fn connect_options(&self) -> Result<async_nats::ConnectOptions, NatsServerError> {
        let options = async_nats::ConnectOptions::new();
        let options = match &self.credentials {
            ClientCredentials::Anonymous => options,
            ClientCredentials::CredsFile(path) => {
                options
                    .credentials_file(path)
                    .await
                    .map_err(|source| NatsServerError::Credentials {
                        path: path.clone(),
                        source,
                    })?
            }
            ClientCredentials::NKeySeed(seed) => options.nkey(seed.clone()),
            ClientCredentials::UserPassword { user, password } => {
                options.user_and_password(user.clone(), password.clone())
            }
        };
        Ok(match &self.ca {
            Some(ca) => options.add_root_certificates(ca.clone()).require_tls(true),
            None => options,
        })
    }
}
