//! What every handler works with: the projection to read, the actors to write through, the site directory, and
//! the storage watch that turns a write stuck on a full disk into `disk full at <path>`.

use super::super::site_directory::SiteDirectory;
use super::super::storage_watch::StorageWatch;
use crate::api_types::ApiError;
use crate::registries::{dispatch, Reg, Registries};
use actors::fleet_state::FleetState;
use actors::{Aggregate, ExecuteError, Executed, LogError};
use events::{AggregateKind, AggregateRef, Token};
use fleet_trust::{Caller, TrustRoot};
use replay::Projection;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How long a write waits for the projection to show it before answering from the actor's state alone.
const READ_YOUR_WRITES: Duration = Duration::from_secs(2);

/// Handlers' shared context.
pub struct ApiContext {
    /// Sites and their links.
    pub directory: Rc<SiteDirectory>,
    /// The hub's projection: every read is answered from it.
    pub projection: Arc<Projection>,
    /// The hub's actors: every intent is decided and appended there.
    pub hub: Registries,
    /// Wakes the hub planner after a write (a new rollout, an abort, a deletion).
    pub planner: Arc<Notify>,
    /// The hub's store and whether it ran out of space.
    pub storage: Rc<StorageWatch>,
    /// The fleet's trust root: who callers are; sites' and users' credentials.
    pub trust: Rc<TrustRoot>,
    /// The leafnode URL sites dial (written into their bundles).
    pub leaf_url: String,
    /// The CA sites check the hub against (written into their bundles).
    pub hub_ca: std::path::PathBuf,
    /// The log, for histories (every stream where it lives).
    pub log: replay::JetStreamLog,
    /// How every site's metrics are being delivered.
    pub telemetry: Rc<crate::hub::telemetry_delivery::TelemetryDelivery>,
    /// Where this hub serves its dashboard and the key its sign-in links are signed with (`None`: not served).
    pub dashboard: Option<DashboardLinks>,
}

/// What `dashboard_links.get` needs: the dashboard's address and its passes.
pub struct DashboardLinks {
    /// `http://ADDR` the dashboard is served at.
    pub base_url: String,
    /// Signs the links.
    pub passes: Arc<crate::hub::dashboard::passes::Passes>,
}

/// One request: the shared context and the caller the hub verified.
pub struct Call<'a> {
    /// The shared context.
    pub context: &'a ApiContext,
    /// Who asked.
    pub caller: &'a Caller,
}

impl std::ops::Deref for Call<'_> {
    type Target = ApiContext;

    fn deref(&self) -> &ApiContext {
        self.context
    }
}

impl Call<'_> {
    /// Decides `command` on `aggregate` as the caller (history records the caller's name as `by`) and waits until
    /// the projection shows what was appended.
    pub async fn write<A: Aggregate>(
        &self,
        registry: &Reg<A>,
        aggregate: AggregateRef,
        command: A::Command,
    ) -> Result<Executed<A>, ApiError> {
        let done = dispatch(registry, aggregate, command, self.caller.name.as_str())
            .await
            .map_err(|e| self.write_error(e))?;
        if !done.positions.is_empty() {
            self.projection.wait_for(&done.positions, READ_YOUR_WRITES).await;
            self.planner.notify_one();
        }
        Ok(done)
    }
}

impl ApiContext {
    /// Runs `f` over the projection.
    pub fn read<R>(&self, f: impl FnOnce(&FleetState) -> R) -> R {
        self.projection.read(f)
    }

    /// An append that failed because the store is full says so; anything else keeps its own code.
    fn write_error(&self, e: ExecuteError) -> ApiError {
        if let (ExecuteError::Log(LogError::Unavailable(_) | LogError::Refused(_)), Some(full)) =
            (&e, self.storage.disk_full())
        {
            return ApiError::out_of_storage(format!(
                "{full}: the hub cannot record anything until space is freed; it resumes on its own once there is"
            ));
        }
        e.into()
    }

    /// Aggregates of `kind` with `id` at any site.
    pub fn find(&self, kind: AggregateKind, id: &Token) -> Vec<AggregateRef> {
        self.read(|fleet| {
            fleet
                .aggregates
                .keys()
                .filter(|a| a.kind == kind && &a.id == id)
                .cloned()
                .collect()
        })
    }

    /// The one aggregate of `kind` named `id`: at `site` if given (it must exist there), else the only site with
    /// that id.
    pub fn resolve(&self, kind: AggregateKind, id: &Token, site: Option<&Token>) -> Result<AggregateRef, ApiError> {
        let found = self.find(kind, id);
        let at: Vec<&AggregateRef> = found
            .iter()
            .filter(|a| site.is_none_or(|s| a.scope.site() == Some(s)))
            .collect();
        let missing = if kind == AggregateKind::Node {
            "is not registered"
        } else {
            "does not exist"
        };
        match (at.as_slice(), site) {
            ([one], _) => Ok((*one).clone()),
            ([], Some(site)) => Err(ApiError::not_found(format!("{kind} {id} {missing} at site {site}"))),
            ([], None) => Err(ApiError::not_found(format!("{kind} {id} {missing} at any site"))),
            (many, _) => Err(ApiError::conflict(format!(
                "{kind} id {id} exists at {} sites ({}); give the site",
                many.len(),
                many.iter().map(|a| a.scope.to_string()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }
}
