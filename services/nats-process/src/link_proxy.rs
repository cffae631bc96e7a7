//! [`LinkProxy`]: a TCP proxy between a leaf and its hub that can be cut and healed at will (tests, the demo).
//!
//! The proxy listens on `127.0.0.1:<free port>` and forwards every connection to one target
//! (typically the hub's leafnodes port; the hub must set `no_advertise: true`, or the leaf learns
//! the hub's real address and reconnects around the proxy — DESIGN §7).
//!
//! Cutting keeps the listener: connections accepted while cut are reset at once, so the port
//! stays ours (no other process can take it between cut and heal, and the leaf's configured URL
//! stays valid) and a client sees a failed connection and retries on its own schedule, as it
//! would against a dead link. Open connections are shut down in both directions synchronously
//! inside [`LinkProxy::cut`], through clones of their sockets, and their copy tasks are aborted:
//! a cut never waits on a slow peer, and once `cut` returns no byte crosses the link.
//!
//! This module owns only its sockets and tasks; it must never block a runtime thread (the one
//! lock is held for map updates only) and works on current-thread and multi-thread runtimes.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// Pause after a failed `accept` (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_RETRY_PAUSE_MS: u64 = 10;

/// A cuttable TCP link from `127.0.0.1:<port>` to a target address; dropping it closes everything.
#[derive(Debug)]
pub struct LinkProxy {
    host: std::net::Ipv4Addr,
    port: u16,
    shared: Arc<Shared>,
    accept_task: AbortHandle,
}

/// What the accept loop, the connection tasks and the handle share.
#[derive(Debug)]
struct Shared {
    /// Where every accepted connection is forwarded.
    target: SocketAddr,
    /// Connections accepted and connected to the target, over the proxy's life.
    connections_total: AtomicU64,
    state: Mutex<LinkState>,
}

/// Whether the link is cut and which connections are open; changed only under the lock, so a
/// connection is either registered before a cut (and closed by it) or sees the cut and closes.
#[derive(Debug, Default)]
struct LinkState {
    cut: bool,
    next_connection_id: u64,
    open: HashMap<u64, OpenConnection>,
}

/// One forwarded connection, as `cut` needs it.
#[derive(Debug)]
struct OpenConnection {
    /// Clones of the connection's sockets (client side, then target side once connected): a
    /// shutdown through a clone takes effect at once, whatever the copy task is doing.
    sockets: Vec<std::net::TcpStream>,
    /// The task copying bytes both ways; aborting it closes the sockets it owns.
    copy_task: AbortHandle,
}

impl OpenConnection {
    /// Shuts both directions of every socket down now and stops the copy task.
    fn close(self) {
        for socket in &self.sockets {
            // Fails only if the socket is already shut down or reset, which is what we want.
            let _ = socket.shutdown(Shutdown::Both);
        }
        self.copy_task.abort();
    }
}

impl LinkProxy {
    /// Starts forwarding `127.0.0.1:<free port>` → `target` (e.g. the hub's leafnode port).
    ///
    /// Must be called within a tokio runtime; the proxy's tasks run on it.
    pub async fn start(target: SocketAddr) -> io::Result<LinkProxy> {
        Self::start_on(std::net::Ipv4Addr::LOCALHOST, target).await
    }

    /// Starts forwarding `listen_ip:<free port>` → `target`: e.g. on a test LAN's bridge address, so machines in
    /// other network namespaces reach a hub on this machine's loopback through a link the test can cut.
    pub async fn start_on(listen_ip: std::net::Ipv4Addr, target: SocketAddr) -> io::Result<LinkProxy> {
        let listener = TcpListener::bind((listen_ip, 0)).await?;
        let port = listener.local_addr()?.port();
        let host = listen_ip;
        let shared = Arc::new(Shared {
            target,
            connections_total: AtomicU64::new(0),
            state: Mutex::new(LinkState::default()),
        });
        let accept_task = tokio::spawn(accept_loop(listener, Arc::clone(&shared))).abort_handle();
        tracing::debug!(port, %target, "link proxy started");
        Ok(LinkProxy {
            host,
            port,
            shared,
            accept_task,
        })
    }

    /// The local port leaves dial.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `nats-leaf://<listen address>:<port>`, the URL a leaf uses as its remote.
    pub fn leaf_url(&self) -> String {
        format!("nats-leaf://{}:{}", self.host, self.port)
    }

    /// Cut: drops every open connection at once (both directions) and resets new ones until
    /// [`Self::heal`].
    ///
    /// Synchronous and non-blocking: sockets are shut down before this returns, copy tasks are
    /// aborted rather than awaited. Cutting a cut link does nothing more.
    pub fn cut(&self) {
        let mut state = self.shared.lock();
        state.cut = true;
        let open = std::mem::take(&mut state.open);
        drop(state);
        tracing::debug!(port = self.port, closed = open.len(), "link cut");
        open.into_values().for_each(OpenConnection::close);
    }

    /// Heal: accepts and forwards connections again. Healing an open link does nothing.
    pub fn heal(&self) {
        let mut state = self.shared.lock();
        debug_assert!(
            !state.cut || state.open.is_empty(),
            "a cut link has no open connections"
        );
        state.cut = false;
        drop(state);
        tracing::debug!(port = self.port, "link healed");
    }

    /// True between [`Self::cut`] and [`Self::heal`].
    pub fn is_cut(&self) -> bool {
        self.shared.lock().cut
    }

    /// Connections accepted and forwarded to the target so far; grows when a client reconnects.
    pub fn connections_total(&self) -> u64 {
        self.shared.connections_total.load(Ordering::SeqCst)
    }
}

/// Stops accepting and closes every connection; works outside a runtime too.
impl Drop for LinkProxy {
    fn drop(&mut self) {
        // Cut first, so a connection the accept loop takes before it is cancelled is reset too.
        self.cut();
        self.accept_task.abort();
    }
}

impl Shared {
    /// The state; a panic elsewhere while holding the lock leaves it consistent (every update is
    /// a single field or map operation), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Resets `client` if the link is cut, or registers it and spawns its forwarding task.
    fn admit(self: &Arc<Self>, client: TcpStream) -> io::Result<()> {
        let (client, client_clone) = with_clone(client)?;
        let mut state = self.lock();
        if state.cut {
            drop(state);
            // RST rather than FIN: the client sees a refused link, not a server that said goodbye.
            client.set_zero_linger()?;
            return Ok(());
        }
        let id = state.next_connection_id;
        state.next_connection_id += 1;
        // Spawned under the lock so the task cannot look itself up before it is registered.
        let copy_task = tokio::spawn(forward(Arc::clone(self), id, client)).abort_handle();
        let connection = OpenConnection {
            sockets: vec![client_clone],
            copy_task,
        };
        let previous = state.open.insert(id, connection);
        debug_assert!(previous.is_none(), "connection ids are unique");
        Ok(())
    }

    /// Adds the target-side socket clone of connection `id`; false if a cut closed it meanwhile.
    fn register_target_socket(&self, id: u64, socket: std::net::TcpStream) -> bool {
        match self.lock().open.get_mut(&id) {
            Some(connection) => {
                connection.sockets.push(socket);
                true
            }
            None => false,
        }
    }

    /// Forgets connection `id` once its copy ended on its own (a cut has removed it already).
    fn forget(&self, id: u64) {
        self.lock().open.remove(&id);
    }
}

/// Accepts connections until the task is aborted.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let admitted = match listener.accept().await {
            Ok((client, _)) => shared.admit(client),
            Err(error) => Err(error),
        };
        if let Err(error) = admitted {
            tracing::warn!(%error, "link proxy could not accept a connection");
            tokio::time::sleep(Duration::from_millis(ACCEPT_RETRY_PAUSE_MS)).await;
        }
    }
}

/// Connects to the target and copies bytes both ways until either side closes.
async fn forward(shared: Arc<Shared>, id: u64, mut client: TcpStream) {
    let result = async {
        let target = TcpStream::connect(shared.target).await?;
        let (mut target, target_clone) = with_clone(target)?;
        // Leaf protocol messages are small; do not let Nagle hold them back.
        client.set_nodelay(true)?;
        target.set_nodelay(true)?;
        if !shared.register_target_socket(id, target_clone) {
            return Ok(());
        }
        shared.connections_total.fetch_add(1, Ordering::SeqCst);
        tokio::io::copy_bidirectional(&mut client, &mut target).await.map(drop)
    }
    .await;
    if let Err(error) = result {
        tracing::debug!(%error, target = %shared.target, "link proxy connection ended");
    }
    shared.forget(id);
}

/// `stream` and a std clone of its socket (same socket, own descriptor), so the socket can be
/// shut down from outside the task that owns `stream`.
fn with_clone(stream: TcpStream) -> io::Result<(TcpStream, std::net::TcpStream)> {
    // `into_std` keeps the socket non-blocking, as `from_std` requires.
    let std_stream = stream.into_std()?;
    let clone = std_stream.try_clone()?;
    Ok((TcpStream::from_std(std_stream)?, clone))
}
