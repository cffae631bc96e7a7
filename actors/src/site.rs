//! The site aggregate: labels and maintenance window (hub), registration (site).

use crate::aggregate::{Aggregate, DecideContext};
use crate::labels::validate_labels;
use crate::maintenance_window::MaintenanceWindow;
use crate::rejection::Rejection;
use events::site::SiteEvent;
use events::{AggregateKind, Hlc, Writer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the operator wants for the site.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSpec {
    /// Generation of the last intent.
    pub generation: u64,
    /// Operator labels (used by rollout selectors).
    pub labels: BTreeMap<String, String>,
    /// Maintenance window in site-local time.
    pub maintenance_window: Option<MaintenanceWindow>,
}

/// What the site reported about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteStatus {
    /// IANA time zone.
    pub timezone: Option<String>,
    /// Site controller version.
    pub controller_version: Option<String>,
    /// When it last registered.
    pub registered_at: Option<Hlc>,
}

/// The site aggregate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteState {
    /// Desired (hub).
    pub spec: SiteSpec,
    /// Observed (site).
    pub status: SiteStatus,
}

/// What can be asked of a site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteCommand {
    /// Hub: replace labels.
    SetLabels(BTreeMap<String, String>),
    /// Hub: set or clear the maintenance window.
    SetMaintenanceWindow(Option<MaintenanceWindow>),
    /// Site: announce the site controller.
    Register {
        /// IANA time zone.
        timezone: String,
        /// Controller version.
        controller_version: String,
    },
}

impl Aggregate for SiteState {
    const KIND: AggregateKind = AggregateKind::Site;
    const STATE_VERSION: u16 = 2;
    type Event = SiteEvent;
    type Command = SiteCommand;

    fn apply(&mut self, event: &SiteEvent, at: Hlc) {
        match event {
            SiteEvent::LabelsSet { generation, labels } => {
                self.spec.generation = *generation;
                self.spec.labels = labels.clone();
            }
            SiteEvent::MaintenanceWindowSet { generation, window } => {
                self.spec.generation = *generation;
                self.spec.maintenance_window = window.as_deref().map(MaintenanceWindow::from_log);
            }
            SiteEvent::Registered {
                timezone,
                controller_version,
            } => {
                self.status.timezone = Some(timezone.clone());
                self.status.controller_version = Some(controller_version.clone());
                self.status.registered_at = Some(at);
            }
        }
    }

    fn command_writer(command: &SiteCommand) -> Writer {
        match command {
            SiteCommand::SetLabels(_) | SiteCommand::SetMaintenanceWindow(_) => Writer::Hub,
            SiteCommand::Register { .. } => Writer::Site,
        }
    }

    fn decide(&self, command: SiteCommand, _ctx: &DecideContext<'_>) -> Result<Vec<SiteEvent>, Rejection> {
        let next = self.spec.generation + 1;
        Ok(match command {
            SiteCommand::SetLabels(labels) => {
                validate_labels(&labels)?;
                if labels == self.spec.labels {
                    vec![]
                } else {
                    vec![SiteEvent::LabelsSet {
                        generation: next,
                        labels,
                    }]
                }
            }
            SiteCommand::SetMaintenanceWindow(window) => {
                if window == self.spec.maintenance_window {
                    vec![]
                } else {
                    vec![SiteEvent::MaintenanceWindowSet {
                        generation: next,
                        window: window.map(|w| w.to_string()),
                    }]
                }
            }
            SiteCommand::Register {
                timezone,
                controller_version,
            } => {
                if timezone.trim().is_empty() {
                    return Err(Rejection::Invalid("a site needs a time zone".into()));
                }
                let same = self.status.timezone.as_deref() == Some(timezone.as_str())
                    && self.status.controller_version.as_deref() == Some(controller_version.as_str());
                if same {
                    vec![]
                } else {
                    vec![SiteEvent::Registered {
                        timezone,
                        controller_version,
                    }]
                }
            }
        })
    }
}
