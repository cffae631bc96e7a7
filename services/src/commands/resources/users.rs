//! `edgefleet users add|ls|revoke`: operators' credentials (admin only).

use super::api_client::HubApi;
use super::tables::{or_dash, print_list, print_one, Column};
use crate::api_types::fleet_access::{UserAdd, UserCredsView, UserRef, UserView};
use crate::api_types::requests::Empty;
use crate::cli::{OutputFormat, UsersCommand};

const COLUMNS: &[Column<'static, UserView>] = &[
    ("USER", &|u: &UserView| u.name.clone()),
    ("ROLE", &|u: &UserView| u.role.clone()),
    ("ISSUED", &|u: &UserView| {
        crate::output::rfc3339_ms(u.issued_at_s * 1000)
    }),
    ("REVOKED", &|u: &UserView| {
        or_dash(u.revoked_at_s.map(|s| crate::output::rfc3339_ms(s * 1000)))
    }),
    ("PUBLIC KEY", &|u: &UserView| u.public_key.clone()),
];

/// Runs a users subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add { name, role, out } => {
            anyhow::ensure!(!out.exists(), "{} exists; choose a new file", out.display());
            let issued: UserCredsView = api.call("users.add", &UserAdd { name, role }).await?;
            crate::owner_only_file::create_owner_only(&out, &issued.creds)?;
            eprintln!(
                "user {} ({}) issued: credential in {} (use it with --creds or EDGEFLEET_CREDS)",
                issued.user.name,
                issued.user.role,
                out.display()
            );
            print_one(format, &issued.user, COLUMNS)
        }
        UsersCommand::Ls => {
            let users: Vec<UserView> = api.call("users.list", &Empty {}).await?;
            print_list(format, &users, COLUMNS)
        }
        UsersCommand::Revoke { name } => {
            let user: UserView = api.call("users.revoke", &UserRef { name }).await?;
            eprintln!(
                "user {} revoked: its connections are closed and it is refused from now on",
                user.name
            );
            print_one(format, &user, COLUMNS)
        }
    }
}
