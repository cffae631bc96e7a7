//! The site controller — the agents' endpoint, the planner, the beacon and, on a clustered site, the shaping of its
//! NATS — runs in one process of a site at a time: the one whose [`Leadership`] holds (always, on a single-server
//! site; under the controller lease, on a clustered one). When this process takes the lease it starts them, with
//! liveness counted from that moment (a new controller has heard no agent yet); when it loses the lease it stops
//! them. Nothing else changes hands: all they need is in the log, read through this process's own projection.

use super::observer::SiteObserver;
use crate::leadership::Leadership;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// How often the lease is looked at.
const CHECK_EVERY: Duration = Duration::from_millis(250);

/// The controller's tasks while they run here.
pub type ControllerTasks = Rc<RefCell<Vec<actix_rt::task::JoinHandle<()>>>>;

/// Starts the controller's tasks with `start` whenever `leadership` holds and stops them when it no longer does;
/// `running` holds them meanwhile (for the process to stop them at shutdown).
pub async fn lead(
    leadership: Rc<Leadership>,
    observer: Rc<SiteObserver>,
    running: ControllerTasks,
    start: impl Fn() -> Vec<actix_rt::task::JoinHandle<()>>,
) {
    loop {
        let holds = leadership.holds();
        let active = !running.borrow().is_empty();
        if holds && !active {
            observer.restart_clock();
            *running.borrow_mut() = start();
            tracing::info!("the site controller runs in this process");
        } else if !holds && active {
            for task in running.borrow_mut().drain(..) {
                task.abort();
            }
            tracing::warn!("the site controller stopped in this process: its lease is gone");
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
}
