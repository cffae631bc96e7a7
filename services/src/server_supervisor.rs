//! Keeps an embedded nats-server running: if the process dies (crash, `kill -9`), start it again with the same
//! ports, config and data. The supervisor owns the server; asking it to stop stops the server gracefully.

use nats_process::NatsServer;
use std::time::Duration;
use tokio::sync::oneshot;

/// A running supervisor.
pub struct Supervisor {
    stop: Option<oneshot::Sender<()>>,
    task: actix_rt::task::JoinHandle<()>,
}

impl Supervisor {
    /// Takes over `server`, checking it every 250 ms.
    pub fn start(server: NatsServer) -> Self {
        let (stop, stopped) = oneshot::channel();
        Self {
            stop: Some(stop),
            task: actix_rt::spawn(supervise(server, stopped)),
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

async fn supervise(mut server: NatsServer, mut stop: oneshot::Receiver<()>) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = &mut stop => {
                server.stop();
                return;
            }
            _ = tick.tick() => {}
        }
        if server.is_running() {
            continue;
        }
        tracing::warn!(log = %server.log_path().display(), "nats-server exited; restarting it");
        if let Err(e) = server.restart().await {
            tracing::error!(error = %e, "nats-server restart failed; will retry");
        }
    }
}
