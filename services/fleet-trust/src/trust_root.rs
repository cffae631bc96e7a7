//! [`TrustRoot`]: the fleet's trust material under the hub's data directory, created on the first start and
//! loaded (never regenerated) on every later one: the operator key and JWT, the fixed accounts (SYS, HUB, API,
//! OPS), the hub's own credentials, the built-in admin, the full resolver's directory, the fleet CA and the CA
//! bundle. It issues and re-issues account JWTs and user credentials, and renders the operator-mode server config.
//! Operator users, sites, callers and CA rotation are in their own modules (`impl TrustRoot` blocks).
//!
//! Only files under the data directory are touched; nothing here talks to the network (pushing a JWT is
//! [`crate::push_account_jwt`]'s). A seed is never logged or shown in an error.

use std::path::{Path, PathBuf};

use events::Token;

use crate::account_claims::{AccountClaims, ALL_USERS};
use crate::account_name::AccountName;
use crate::atomic_file::{write_atomically, FileAccess};
use crate::ca_rotation::{open_current_ca, write_ca_bundle};
use crate::error::{io_error, TrustError};
use crate::fleet_ca::{FleetCa, ServerNames};
use crate::hub_accounts::{api_account_claims, hub_account_claims, ops_account_claims, system_account_claims};
use crate::jwt_decode::{decode_verified, VerifiedJwt};
use crate::jwt_encode::{now_s, sign_jwt};
use crate::nkey::{check_public_key, AccountKey, OperatorKey, User};
use crate::operator_claims::OperatorClaims;
use crate::operator_mode_config::OperatorModeConfig;
use crate::service_users::{api_service_user, hub_process_user, system_user, trust_replica_user};
use crate::site_account::site_account_claims;
use crate::tls_files::TlsFiles;
use crate::trust_layout::TrustLayout;
use crate::user_claims::UserClaims;
use crate::user_creds::UserCreds;

/// The name in the operator JWT.
const OPERATOR_NAME: &str = "edgefleet";

/// The fleet's trust material, loaded from (or created in) a hub's data directory.
#[derive(Debug)]
pub struct TrustRoot {
    pub(crate) layout: TrustLayout,
    pub(crate) operator: OperatorKey,
    pub(crate) system_account: AccountKey,
    pub(crate) hub_account: AccountKey,
    pub(crate) api_account: AccountKey,
    pub(crate) ops_account: AccountKey,
    pub(crate) trust_account: AccountKey,
    pub(crate) ca: FleetCa,
    /// The public key of the hub process's user in the HUB account (`trust/hub.creds`).
    pub(crate) hub_process_user: String,
}

impl TrustRoot {
    /// Loads the trust material under the hub's data directory `data_dir` (see [`TrustLayout`]), creating whatever
    /// is missing; a second call loads what the first made.
    ///
    /// Refuses a directory that holds accounts or credentials but no operator key: a new operator would
    /// invalidate all of them. Finishes a CA rotation whose completion was interrupted.
    pub fn open_or_create(data_dir: impl Into<PathBuf>) -> Result<Self, TrustError> {
        let layout = TrustLayout::new(data_dir);
        refuse_orphaned_material(&layout)?;
        std::fs::create_dir_all(layout.data_dir()).map_err(io_error("create directory", layout.data_dir()))?;
        create_private_dir(&layout.trust_dir())?;
        let account_key = |name: AccountName| AccountKey::read_or_create_seed_file(&layout.account_seed(&name));
        let mut root = Self {
            operator: OperatorKey::read_or_create_seed_file(&layout.operator_seed())?,
            system_account: account_key(AccountName::system())?,
            hub_account: account_key(AccountName::hub())?,
            api_account: account_key(AccountName::api())?,
            ops_account: account_key(AccountName::ops())?,
            trust_account: account_key(AccountName::trust())?,
            ca: open_current_ca(&layout)?,
            layout,
            hub_process_user: String::new(),
        };
        root.ensure_operator_jwt()?;
        for name in [
            AccountName::system(),
            AccountName::hub(),
            AccountName::api(),
            AccountName::ops(),
            AccountName::trust(),
        ] {
            root.ensure_account_jwt(&name)?;
        }
        root.ensure_creds(
            &root.layout.system_creds(),
            &AccountName::system(),
            "system",
            &system_user(),
        )?;
        root.hub_process_user = root.ensure_creds(
            &root.layout.hub_creds(),
            &AccountName::hub(),
            "hub",
            &hub_process_user(),
        )?;
        root.ensure_creds(
            &root.layout.api_creds(),
            &AccountName::api(),
            "api",
            &api_service_user(),
        )?;
        root.ensure_creds(
            &root.layout.trust_creds(),
            &AccountName::trust(),
            "trust",
            &trust_replica_user(),
        )?;
        root.ensure_builtin_admin()?;
        let resolver_dir = root.layout.resolver_dir();
        std::fs::create_dir_all(&resolver_dir).map_err(io_error("create directory", &resolver_dir))?;
        write_ca_bundle(&root.layout)?;
        Ok(root)
    }

    /// Where everything is.
    pub fn layout(&self) -> &TrustLayout {
        &self.layout
    }

    /// The operator's public key.
    pub fn operator_public_key(&self) -> String {
        self.operator.public_key()
    }

    /// The system account's public key.
    pub fn system_account_public_key(&self) -> String {
        self.system_account.public_key()
    }

    /// The HUB account's public key.
    pub fn hub_account_public_key(&self) -> String {
        self.hub_account.public_key()
    }

    /// The API account's public key.
    pub fn api_account_public_key(&self) -> String {
        self.api_account.public_key()
    }

    /// The OPS account's public key.
    pub fn ops_account_public_key(&self) -> String {
        self.ops_account.public_key()
    }

    /// The TRUST account's public key.
    pub fn trust_account_public_key(&self) -> String {
        self.trust_account.public_key()
    }

    /// The current fleet CA (the one that issues server and site certificates).
    pub fn fleet_ca(&self) -> &FleetCa {
        &self.ca
    }

    /// The key of account `name`, created (and stored) if it has none yet.
    pub fn account_key(&self, name: &AccountName) -> Result<AccountKey, TrustError> {
        AccountKey::read_or_create_seed_file(&self.layout.account_seed(name))
    }

    /// Signs `claims` as account `name`'s JWT, stores it, and returns it for pushing to the servers.
    ///
    /// Revocations in the stored JWT are kept (merged into `claims`): re-issuing an account never lets a revoked
    /// user back in.
    pub fn issue_account(&self, name: &AccountName, claims: &AccountClaims) -> Result<String, TrustError> {
        let key = self.account_key(name)?;
        let mut claims = claims.clone();
        if let Some(stored) = self.stored_account(name)? {
            for (user, at_s) in stored.claims.revocations {
                claims.revoke_user(&user, at_s);
            }
        }
        let jwt = sign_jwt(&self.operator, &key.public_key(), name.as_str(), &claims)?;
        let path = self.layout.account_jwt(name);
        write_atomically(&path, jwt.as_bytes(), FileAccess::WorldReadable).map_err(io_error("write", &path))?;
        Ok(jwt)
    }

    /// Issues (or re-issues) the account of `site` with its imports from the HUB account (DESIGN §9); returns the
    /// JWT to push.
    pub fn issue_site_account(&self, site: &Token) -> Result<String, TrustError> {
        self.issue_account(
            &AccountName::site(site),
            &site_account_claims(site, &self.hub_account_public_key()),
        )
    }

    /// Account `name`'s stored JWT, verified against the operator; `None` if it was never issued.
    pub fn stored_account(&self, name: &AccountName) -> Result<Option<VerifiedJwt<AccountClaims>>, TrustError> {
        let path = self.layout.account_jwt(name);
        if !path.exists() {
            return Ok(None);
        }
        let jwt = std::fs::read_to_string(&path).map_err(io_error("read", &path))?;
        decode_verified(&jwt, &self.operator_public_key())
            .map(Some)
            .map_err(|source| TrustError::StoredJwt { path, source })
    }

    /// Revokes every credential of user `user_public_key` (or of every user: [`ALL_USERS`]) in account `name`
    /// issued up to now; returns the account's new JWT, to push to the servers (until then they still accept the
    /// user).
    ///
    /// A credential issued for the same key in the same second is revoked too (revocations have second precision).
    pub fn revoke_user(&self, name: &AccountName, user_public_key: &str) -> Result<String, TrustError> {
        self.revoke_users(name, &[user_public_key])
    }

    /// Like [`TrustRoot::revoke_user`], for several users in one new account JWT.
    pub(crate) fn revoke_users<S: AsRef<str>>(
        &self,
        name: &AccountName,
        user_public_keys: &[S],
    ) -> Result<String, TrustError> {
        for key in user_public_keys.iter().map(AsRef::as_ref) {
            if key != ALL_USERS {
                check_public_key::<User>(key).map_err(|source| TrustError::NotAUser {
                    key: key.to_owned(),
                    source,
                })?;
            }
        }
        let mut claims = match self.stored_account(name)? {
            Some(stored) => stored.claims,
            None => self.expected_claims(name),
        };
        let now = now_s();
        for key in user_public_keys {
            claims.revoke_user(key.as_ref(), now);
        }
        self.issue_account(name, &claims)
    }

    /// New credentials of a user named `user_name` in account `account` with `claims`, expiring at
    /// `expires_at_s` (unix seconds) if given. Write them with [`UserCreds::write`].
    pub fn issue_user(
        &self,
        account: &AccountName,
        user_name: &str,
        claims: &UserClaims,
        expires_at_s: Option<u64>,
    ) -> Result<UserCreds, TrustError> {
        let key = self.account_key(account)?;
        Ok(UserCreds::issue(&key, user_name, claims, expires_at_s)?)
    }

    /// Issues the hub's server certificate for `names` from the current CA into the trust directory (replacing the
    /// previous one); call at every start so it never expires, and after [`TrustRoot::complete_ca_rotation`].
    /// Clients and sites trust the CA bundle ([`TrustLayout::ca_bundle`]), which is the returned `ca`.
    pub fn issue_hub_server_cert(&self, names: &ServerNames) -> Result<TlsFiles, TrustError> {
        let files = self
            .ca
            .issue_server_cert(names, &self.layout.server_cert(), &self.layout.server_key())?;
        Ok(TlsFiles {
            ca: self.layout.ca_bundle(),
            ..files
        })
    }

    /// The hub server's route certificate for `names` (server and client authentication, from the current CA),
    /// for the mutual TLS between the servers of a hub cluster; issued at every start like the server certificate.
    pub fn issue_hub_route_cert(&self, names: &ServerNames) -> Result<TlsFiles, TrustError> {
        let files = self
            .ca
            .issue_route_cert(names, &self.layout.route_cert(), &self.layout.route_key())?;
        Ok(TlsFiles {
            ca: self.layout.ca_bundle(),
            ..files
        })
    }

    /// The operator-mode server config: this operator, the system account, the full resolver in the trust
    /// directory, and the SYS, HUB, API, OPS and TRUST accounts preloaded (site accounts come from the resolver
    /// directory and pushes).
    pub fn operator_mode_config(&self) -> Result<OperatorModeConfig, TrustError> {
        let preload = [
            (AccountName::system(), self.system_account_public_key()),
            (AccountName::hub(), self.hub_account_public_key()),
            (AccountName::api(), self.api_account_public_key()),
            (AccountName::ops(), self.ops_account_public_key()),
            (AccountName::trust(), self.trust_account_public_key()),
        ]
        .into_iter()
        .map(|(name, public_key)| {
            let path = self.layout.account_jwt(&name);
            let jwt = std::fs::read_to_string(&path).map_err(io_error("read", &path))?;
            Ok((public_key, jwt.trim().to_owned()))
        })
        .collect::<Result<Vec<_>, TrustError>>()?;
        Ok(OperatorModeConfig {
            operator_jwt: self.layout.operator_jwt(),
            system_account: self.system_account_public_key(),
            resolver_dir: self.layout.resolver_dir(),
            preload,
        })
    }

    /// The public key of the user in the `.creds` file at `path`, verified as issued by `account`.
    pub(crate) fn creds_user(&self, path: &Path, account: &AccountName) -> Result<VerifiedJwt<UserClaims>, TrustError> {
        let creds = UserCreds::read(path)?;
        decode_verified::<UserClaims>(creds.jwt(), &self.account_key(account)?.public_key()).map_err(|source| {
            TrustError::StoredJwt {
                path: path.to_owned(),
                source,
            }
        })
    }

    /// The claims account `name` has when it carries no revocations: what this crate issues for it.
    fn expected_claims(&self, name: &AccountName) -> AccountClaims {
        let api = self.api_account_public_key();
        if *name == AccountName::system() {
            system_account_claims()
        } else if *name == AccountName::hub() {
            hub_account_claims(&api)
        } else if *name == AccountName::api() {
            api_account_claims()
        } else if *name == AccountName::ops() {
            ops_account_claims(&api)
        } else if let Some(site) = name
            .as_str()
            .strip_prefix("SITE_")
            .and_then(|site| Token::new(site).ok())
        {
            site_account_claims(&site, &self.hub_account_public_key())
        } else {
            AccountClaims::new(crate::account_limits::AccountLimits::unlimited_with_jetstream())
        }
    }

    fn ensure_operator_jwt(&self) -> Result<(), TrustError> {
        let path = self.layout.operator_jwt();
        let expected = OperatorClaims {
            system_account: Some(self.system_account_public_key()),
        };
        if path.exists() {
            let jwt = std::fs::read_to_string(&path).map_err(io_error("read", &path))?;
            let stored = decode_verified::<OperatorClaims>(&jwt, &self.operator_public_key()).map_err(|source| {
                TrustError::StoredJwt {
                    path: path.clone(),
                    source,
                }
            })?;
            if stored.claims == expected {
                return Ok(());
            }
        }
        let jwt = sign_jwt(&self.operator, &self.operator_public_key(), OPERATOR_NAME, &expected)?;
        write_atomically(&path, jwt.as_bytes(), FileAccess::WorldReadable).map_err(io_error("write", &path))
    }

    /// Issues account `name`'s JWT if it has none, or if the stored one (revocations aside) differs from what this
    /// version of the crate issues, e.g. after an upgrade that changed the exports.
    fn ensure_account_jwt(&self, name: &AccountName) -> Result<(), TrustError> {
        let expected = self.expected_claims(name);
        if let Some(stored) = self.stored_account(name)? {
            let mut claims = stored.claims;
            claims.revocations.clear();
            if claims == expected {
                return Ok(());
            }
        }
        self.issue_account(name, &expected).map(drop)
    }

    /// Writes credentials for `user_name` in `account` to `path` unless valid ones are there; returns their user
    /// public key.
    pub(crate) fn ensure_creds(
        &self,
        path: &Path,
        account: &AccountName,
        user_name: &str,
        claims: &UserClaims,
    ) -> Result<String, TrustError> {
        if path.exists() {
            return Ok(self.creds_user(path, account)?.subject);
        }
        let creds = self.issue_user(account, user_name, claims, None)?;
        creds.write(path)?;
        Ok(creds.user_public_key())
    }
}

/// Refuses a trust directory whose operator key is gone while material it signed is still there.
fn refuse_orphaned_material(layout: &TrustLayout) -> Result<(), TrustError> {
    let missing = layout.operator_seed();
    if missing.exists() {
        return Ok(());
    }
    let signed = [
        layout.operator_jwt(),
        layout.accounts_dir(),
        layout.admin_creds(),
        layout.system_creds(),
        layout.hub_creds(),
        layout.api_creds(),
        layout.sites_dir(),
    ];
    match signed.into_iter().find(|path| path.exists()) {
        Some(present) => Err(TrustError::OperatorKeyMissing {
            dir: layout.trust_dir(),
            missing,
            present,
        }),
        None => Ok(()),
    }
}

/// Creates `dir` readable by its owner only (it holds seeds); an existing directory is left as it is.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), TrustError> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_error("create directory", dir))
}
