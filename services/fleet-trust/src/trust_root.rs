//! [`TrustRoot`]: the fleet's trust material in the hub's trust directory, created on the first start and loaded
//! (never regenerated) on every later one: the operator key and JWT, the system and hub accounts, `system.creds`
//! and `admin.creds`, the full resolver's directory and the fleet CA. It issues and re-issues account JWTs (one per
//! site) and user credentials, and renders the operator-mode server config.
//!
//! Only files in the trust directory are touched; nothing here talks to the network (pushing a JWT is
//! [`crate::push_account_jwt`]'s). A seed is never logged or shown in an error.

use std::path::PathBuf;

use events::Token;

use crate::account_claims::{AccountClaims, ALL_USERS};
use crate::account_name::AccountName;
use crate::atomic_file::{write_atomically, FileAccess};
use crate::error::{io_error, TrustError};
use crate::fleet_ca::{FleetCa, ServerNames};
use crate::jwt_decode::{decode_verified, VerifiedJwt};
use crate::jwt_encode::{now_s, sign_jwt};
use crate::nkey::{check_public_key, AccountKey, OperatorKey, User};
use crate::operator_claims::OperatorClaims;
use crate::operator_mode_config::OperatorModeConfig;
use crate::operator_roles::OperatorRole;
use crate::site_account::{hub_account_claims, site_account_claims, system_account_claims};
use crate::site_users::{hub_in_site_user, site_leaf_user};
use crate::tls_files::TlsFiles;
use crate::trust_layout::TrustLayout;
use crate::user_claims::{ConnectionType, UserClaims};
use crate::user_creds::UserCreds;
use crate::user_permissions::UserPermissions;

/// The name in the operator JWT.
const OPERATOR_NAME: &str = "edgefleet";

/// The fleet's trust material, loaded from (or created in) a trust directory.
#[derive(Debug)]
pub struct TrustRoot {
    layout: TrustLayout,
    operator: OperatorKey,
    system_account: AccountKey,
    hub_account: AccountKey,
    ca: FleetCa,
}

impl TrustRoot {
    /// Loads the trust material in `dir`, creating whatever is missing; a second call loads what the first made.
    ///
    /// Refuses a directory that holds accounts or credentials but no operator key: a new operator would
    /// invalidate all of them.
    pub fn open_or_create(dir: impl Into<PathBuf>) -> Result<Self, TrustError> {
        let layout = TrustLayout::new(dir);
        refuse_orphaned_material(&layout)?;
        create_private_dir(layout.dir())?;
        let operator = OperatorKey::read_or_create_seed_file(&layout.operator_seed())?;
        let system_account = AccountKey::read_or_create_seed_file(&layout.account_seed(&AccountName::system()))?;
        let hub_account = AccountKey::read_or_create_seed_file(&layout.account_seed(&AccountName::hub()))?;
        let ca = FleetCa::open_or_create(&layout.tls_dir())?;
        let root = Self {
            layout,
            operator,
            system_account,
            hub_account,
            ca,
        };
        root.ensure_operator_jwt()?;
        root.ensure_account_jwt(&AccountName::system(), &system_account_claims())?;
        root.ensure_account_jwt(&AccountName::hub(), &hub_account_claims())?;
        let system_user = UserClaims::new(UserPermissions::default(), &[ConnectionType::Standard]);
        root.ensure_creds(
            &root.layout.system_creds(),
            &AccountName::system(),
            "system",
            &system_user,
        )?;
        root.ensure_creds(
            &root.layout.admin_creds(),
            &AccountName::hub(),
            "admin",
            &OperatorRole::Admin.user_claims(),
        )?;
        let resolver_dir = root.layout.resolver_dir();
        std::fs::create_dir_all(&resolver_dir).map_err(io_error("create directory", &resolver_dir))?;
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

    /// The hub account's public key.
    pub fn hub_account_public_key(&self) -> String {
        self.hub_account.public_key()
    }

    /// The fleet CA.
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

    /// Issues (or re-issues) the account of `site` with its imports from the hub account (DESIGN §9); returns the
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
        if user_public_key != ALL_USERS {
            check_public_key::<User>(user_public_key).map_err(|source| TrustError::NotAUser {
                key: user_public_key.to_owned(),
                source,
            })?;
        }
        let mut claims = match self.stored_account(name)? {
            Some(stored) => stored.claims,
            None => default_claims(name, &self.hub_account_public_key()),
        };
        claims.revoke_user(user_public_key, now_s());
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

    /// New credentials of an operator named `user_name` with `role`, in the hub account.
    pub fn issue_operator_user(
        &self,
        user_name: &str,
        role: OperatorRole,
        expires_at_s: Option<u64>,
    ) -> Result<UserCreds, TrustError> {
        UserCreds::issue(&self.hub_account, user_name, &role.user_claims(), expires_at_s).map_err(TrustError::from)
    }

    /// New credentials for `site`'s leaf connection (its site server's leaf remote `credentials`), narrowed as
    /// DESIGN §9 says ([`site_leaf_user`]).
    pub fn issue_site_leaf_user(&self, site: &Token) -> Result<UserCreds, TrustError> {
        let name = format!("{site}-leaf");
        self.issue_user(&AccountName::site(site), &name, &site_leaf_user(site), None)
    }

    /// New credentials for the hub process inside `site`'s account ([`hub_in_site_user`]), to manage the
    /// account's streams.
    pub fn issue_hub_in_site_user(&self, site: &Token) -> Result<UserCreds, TrustError> {
        let name = format!("hub-in-{site}");
        self.issue_user(&AccountName::site(site), &name, &hub_in_site_user(), None)
    }

    /// Issues the hub's server certificate for `names` into the trust directory (replacing the previous one);
    /// call at every start so it never expires.
    pub fn issue_hub_server_cert(&self, names: &ServerNames) -> Result<TlsFiles, TrustError> {
        self.ca
            .issue_server_cert(names, &self.layout.server_cert(), &self.layout.server_key())
    }

    /// The operator-mode server config: this operator, the system account, the full resolver in the trust
    /// directory, and the system and hub accounts preloaded.
    pub fn operator_mode_config(&self) -> Result<OperatorModeConfig, TrustError> {
        let preload = [
            (AccountName::system(), self.system_account_public_key()),
            (AccountName::hub(), self.hub_account_public_key()),
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

    fn ensure_account_jwt(&self, name: &AccountName, claims: &AccountClaims) -> Result<(), TrustError> {
        match self.stored_account(name)? {
            Some(_) => Ok(()),
            None => self.issue_account(name, claims).map(|_| ()),
        }
    }

    fn ensure_creds(
        &self,
        path: &std::path::Path,
        account: &AccountName,
        user_name: &str,
        claims: &UserClaims,
    ) -> Result<(), TrustError> {
        let key = self.account_key(account)?;
        if path.exists() {
            let creds = UserCreds::read(path)?;
            decode_verified::<UserClaims>(creds.jwt(), &key.public_key()).map_err(|source| TrustError::StoredJwt {
                path: path.to_owned(),
                source,
            })?;
            return Ok(());
        }
        UserCreds::issue(&key, user_name, claims, None)?.write(path)
    }
}

/// The claims an account starts from when it has no stored JWT yet.
fn default_claims(name: &AccountName, hub_account: &str) -> AccountClaims {
    if *name == AccountName::system() {
        system_account_claims()
    } else if *name == AccountName::hub() {
        hub_account_claims()
    } else if let Some(site) = name
        .as_str()
        .strip_prefix("SITE_")
        .and_then(|site| Token::new(site).ok())
    {
        site_account_claims(&site, hub_account)
    } else {
        AccountClaims::new(crate::account_limits::AccountLimits::unlimited_with_jetstream())
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
    ];
    match signed.into_iter().find(|path| path.exists()) {
        Some(present) => Err(TrustError::OperatorKeyMissing {
            dir: layout.dir().to_owned(),
            missing,
            present,
        }),
        None => Ok(()),
    }
}

/// Creates `dir` readable by its owner only (it holds seeds); an existing directory is left as it is.
fn create_private_dir(dir: &std::path::Path) -> Result<(), TrustError> {
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
