//! Keeps an embedded nats-server running: if the process dies (crash, `kill -9`), start it again with the same
//! ports, config and data — rendered from the supervisor's own settings every time, so nothing another process
//! wrote into the data dir can change what comes back. Asking it to stop stops the server gracefully; asking it
//! to restart (after a full disk was freed) restarts it once.

use nats_process::NatsServer;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// A running supervisor.
pub struct Supervisor {
    stop: Option<oneshot::Sender<()>>,
    restart: mpsc::UnboundedSender<()>,
    task: actix_rt::task::JoinHandle<()>,
}

impl Supervisor {
    /// Takes over `server`, checking it every 250 ms.
    pub fn start(server: NatsServer) -> Self {
        let (stop, stopped) = oneshot::channel();
        let (restart, restarts) = mpsc::unbounded_channel();
        Self {
            stop: Some(stop),
            restart,
            task: actix_rt::spawn(supervise(server, stopped, restarts)),
        }
    }

    /// A handle that asks for one restart of the server.
    pub fn restarter(&self) -> mpsc::UnboundedSender<()> {
        self.restart.clone()
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

async fn supervise(mut server: NatsServer, mut stop: oneshot::Receiver<()>, mut restarts: mpsc::UnboundedReceiver<()>) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = &mut stop => {
                server.stop();
                return;
            }
            Some(()) = restarts.recv() => {
                server.stop();
                tracing::warn!("restarting the nats-server on request");
            }
            _ = tick.tick() => {}
        }
        if server.is_running() {
            continue;
        }
        tracing::warn!(log = %server.log_path().display(), "nats-server is not running; starting it again");
        if let Err(e) = server.restart().await {
            tracing::error!(error = %e, "nats-server restart failed; will retry");
        }
    }
}
