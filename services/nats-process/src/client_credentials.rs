//! [`ClientCredentials`]: how this crate's own clients (the readiness probe,
//! [`crate::NatsServer::connect`]) authenticate to the server they started.
//!
//! `Debug` never shows a secret: a seed or a password prints as `<redacted>`.

use std::path::PathBuf;

/// How a client of this crate authenticates.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum ClientCredentials {
    /// No credentials: for a server without authentication.
    #[default]
    Anonymous,
    /// A `.creds` file (user JWT and seed), for an operator-mode server.
    CredsFile(PathBuf),
    /// An nkey user's seed (`SU…`); the server knows the user by its public key (`U…`).
    NKeySeed(String),
    /// A user and password of the server's config.
    UserPassword {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
}

/// Names the kind of credentials and the non-secret parts; seeds and passwords are redacted.
impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Anonymous => f.write_str("Anonymous"),
            Self::CredsFile(path) => f.debug_tuple("CredsFile").field(path).finish(),
            Self::NKeySeed(_) => f.write_str("NKeySeed(<redacted>)"),
            Self::UserPassword { user, .. } => f
                .debug_struct("UserPassword")
                .field("user", user)
                .field("password", &format_args!("<redacted>"))
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_seeds_and_passwords_but_names_users_and_files() {
        let seed = ClientCredentials::NKeySeed("SUAMLK2ZNL35WSMW37E7UD4VZ7ELPKW7DHC3BWBSD2GCZ7IUQQXZIORRBU".to_owned());
        let password = ClientCredentials::UserPassword {
            user: "probe".to_owned(),
            password: "s3cret".to_owned(),
        };
        let file = ClientCredentials::CredsFile("/trust/probe.creds".into());

        assert_eq!(format!("{seed:?}"), "NKeySeed(<redacted>)");
        assert_eq!(
            format!("{password:?}"),
            "UserPassword { user: \"probe\", password: <redacted> }"
        );
        assert_eq!(format!("{password:#?}").matches("s3cret").count(), 0);
        assert_eq!(format!("{file:?}"), "CredsFile(\"/trust/probe.creds\")");
        assert_eq!(format!("{:?}", ClientCredentials::Anonymous), "Anonymous");
    }
}
