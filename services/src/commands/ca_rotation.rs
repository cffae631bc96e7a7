//! `edgefleet ca begin-rotation|complete-rotation --data-dir D`: rotating the fleet CA in two steps, on the hub's
//! data dir while the hub is stopped (the hub issues its server certificate from the current CA at every start).
//!
//! 1. `begin-rotation`: a next CA is made and `D/ca.pem` trusts both. Start the hub; hand the new `D/ca.pem` to
//!    operators; `edgefleet sites rotate` every site and restart it with its new bundle (it then trusts both).
//! 2. `complete-rotation`: the next CA becomes the only one. Start the hub: it presents a certificate from the new
//!    CA, and clients or sites that still trust only the old one are refused.

use crate::cli::CaCommand;
use crate::data_dir_lock::DataDirLock;
use anyhow::Context;
use fleet_trust::TrustRoot;
use std::process::ExitCode;

/// Runs a CA rotation step.
pub fn run(command: CaCommand) -> anyhow::Result<ExitCode> {
    match command {
        CaCommand::BeginRotation { data_dir } => {
            let _hub_stopped = DataDirLock::acquire(&data_dir).context("stop the hub first")?;
            let trust = TrustRoot::open_or_create(&data_dir)?;
            trust.begin_ca_rotation()?;
            eprintln!(
                "next CA made: {} now trusts the current and the next CA. Start the hub, hand this file to operators, \
                 rotate every site's bundle (`edgefleet sites rotate`), then `edgefleet ca complete-rotation`.",
                trust.layout().ca_bundle().display()
            );
        }
        CaCommand::CompleteRotation { data_dir } => {
            let _hub_stopped = DataDirLock::acquire(&data_dir).context("stop the hub first")?;
            let mut trust = TrustRoot::open_or_create(&data_dir)?;
            trust.complete_ca_rotation()?;
            eprintln!(
                "CA rotated: {} now trusts the new CA only; start the hub, which presents a certificate from it.",
                trust.layout().ca_bundle().display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
