//! Keeps an embedded nats-server running: if the process dies (crash, `kill -9`), start it again with the same
//! ports, config and data — rendered from the supervisor's own settings every time, so nothing another process
//! wrote into the data dir can change what comes back. Through its [`ServerControl`] the server can be restarted
//! once (after a full disk was freed) or given a new auth config (a site's node identities changed), which it
//! reloads without a restart and keeps for every later restart.

use nats_process::NatsServer;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What can be asked of a supervised server.
enum Control {
    /// Restart once.
    Restart,
    /// Replace the auth config and reload; answers once the server applied it (or refused it).
    ReloadAuth(String, oneshot::Sender<Result<(), String>>),
}

/// A handle to ask the supervisor for a restart or an auth reload.
#[derive(Clone)]
pub struct ServerControl {
    sender: mpsc::UnboundedSender<Control>,
}

impl ServerControl {
    /// Asks for one restart.
    pub fn restart(&self) {
        let _ = self.sender.send(Control::Restart);
    }

    /// Replaces the server's auth config and reloads it; returns once the server runs with it.
    pub async fn reload_auth(&self, config: String) -> anyhow::Result<()> {
        let (done, answer) = oneshot::channel();
        self.sender
            .send(Control::ReloadAuth(config, done))
            .map_err(|_| anyhow::anyhow!("the nats-server supervisor has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the nats-server supervisor has stopped"))?
            .map_err(|e| anyhow::anyhow!("the nats-server refused the new auth config: {e}"))
    }
}

/// A running supervisor.
pub struct Supervisor {
    stop: Option<oneshot::Sender<()>>,
    control: ServerControl,
    task: actix_rt::task::JoinHandle<()>,
}

impl Supervisor {
    /// Takes over `server`, checking it every 250 ms.
    pub fn start(server: NatsServer) -> Self {
        let (stop, stopped) = oneshot::channel();
        let (sender, controls) = mpsc::unbounded_channel();
        Self {
            stop: Some(stop),
            control: ServerControl { sender },
            task: actix_rt::spawn(supervise(server, stopped, controls)),
        }
    }

    /// A handle to restart the server or reload its auth config.
    pub fn control(&self) -> ServerControl {
        self.control.clone()
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

async fn supervise(
    mut server: NatsServer,
    mut stop: oneshot::Receiver<()>,
    mut controls: mpsc::UnboundedReceiver<Control>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = &mut stop => {
                server.stop();
                return;
            }
            Some(control) = controls.recv() => match control {
                Control::Restart => {
                    server.stop();
                    tracing::warn!("restarting the nats-server on request");
                }
                Control::ReloadAuth(config, done) => {
                    server.set_auth_config(&config);
                    let result = if server.is_running() {
                        server.reload().await.map_err(|e| e.to_string())
                    } else {
                        Ok(()) // the restart below starts it with the new config
                    };
                    let _ = done.send(result);
                }
            },
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
