//! Site events: the site announcing itself, and hub intents about the site.

use crate::origin::Writer;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything that can happen to a site. Grows only by appending variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SiteEvent {
    /// Hub: the site's labels were replaced.
    LabelsSet {
        /// Spec generation this intent creates.
        generation: u64,
        /// The full new label set.
        labels: BTreeMap<String, String>,
    },
    /// Hub: the site's maintenance window was set (site-local time, e.g. `Sat 02:00-05:00`).
    MaintenanceWindowSet {
        /// Spec generation this intent creates.
        generation: u64,
        /// The window, or `None` for "any time".
        window: Option<String>,
    },
    /// Site: the site controller started for the first time (or after a reinstall) and announced itself.
    Registered {
        /// IANA time zone of the site (`Europe/Berlin`).
        timezone: String,
        /// edgefleet version of the site controller.
        controller_version: String,
    },
}

impl SiteEvent {
    /// Which side may write this event.
    pub fn writer(&self) -> Writer {
        match self {
            SiteEvent::LabelsSet { .. } | SiteEvent::MaintenanceWindowSet { .. } => Writer::Hub,
            SiteEvent::Registered { .. } => Writer::Site,
        }
    }

    /// Short name for histories and logs.
    pub fn name(&self) -> &'static str {
        match self {
            SiteEvent::LabelsSet { .. } => "SiteLabelsSet",
            SiteEvent::MaintenanceWindowSet { .. } => "SiteMaintenanceWindowSet",
            SiteEvent::Registered { .. } => "SiteRegistered",
        }
    }
}
