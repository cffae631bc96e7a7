//! The link proxy cuts and heals real TCP connections and a real leaf link between nats-servers.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use testkit::{LinkProxy, NatsServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout, Instant};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// How long a cut may take to show at the far end of a connection.
const CUT_VISIBLE_MS: u64 = 1_000;

/// A TCP echo server on a free loopback port; it runs until the runtime ends.
async fn echo_server() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut reader, mut writer) = socket.split();
                let _ = tokio::io::copy(&mut reader, &mut writer).await;
            });
        }
    });
    Ok(addr)
}

/// Connects to the proxy, sends `payload` and expects it echoed back.
async fn echo_through(proxy: &LinkProxy, payload: &[u8]) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, proxy.port())).await?;
    assert_echo(&mut stream, payload).await?;
    Ok(stream)
}

/// Sends `payload` on `stream` and expects it echoed back within a second.
async fn assert_echo(stream: &mut TcpStream, payload: &[u8]) -> std::io::Result<()> {
    stream.write_all(payload).await?;
    let mut echoed = vec![0; payload.len()];
    timeout(Duration::from_secs(1), stream.read_exact(&mut echoed)).await??;
    assert_eq!(echoed, payload);
    Ok(())
}

/// Panics unless `stream` is closed or reset (no data) within [`CUT_VISIBLE_MS`].
async fn assert_closed(stream: &mut TcpStream, what: &str) {
    let mut buf = [0; 64];
    match timeout(Duration::from_millis(CUT_VISIBLE_MS), stream.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => {}
        Ok(Ok(n)) => panic!("{what}: read {n} bytes through a cut link"),
        Err(_) => panic!("{what}: still open {CUT_VISIBLE_MS} ms after the cut"),
    }
}

/// Bytes flow, a cut closes an open connection and refuses new ones, a heal lets new ones through.
async fn cut_and_heal_a_tcp_echo() -> TestResult {
    let proxy = LinkProxy::start(echo_server().await?).await?;
    assert_eq!(proxy.leaf_url(), format!("nats-leaf://127.0.0.1:{}", proxy.port()));
    assert!(!proxy.is_cut());

    let mut open = echo_through(&proxy, b"hello through the link").await?;
    assert_echo(&mut open, b"and again on the same connection").await?;
    assert_eq!(proxy.connections_total(), 1);

    proxy.cut();
    assert!(proxy.is_cut());
    assert_closed(&mut open, "connection open at the cut").await;

    // The port still answers (it stays ours), but a connection made while cut carries nothing.
    if let Ok(mut while_cut) = TcpStream::connect((Ipv4Addr::LOCALHOST, proxy.port())).await {
        let _ = while_cut.write_all(b"anyone there?").await;
        assert_closed(&mut while_cut, "connection made while cut").await;
    }
    assert_eq!(proxy.connections_total(), 1, "nothing was forwarded while cut");

    proxy.heal();
    assert!(!proxy.is_cut());
    echo_through(&proxy, b"healed").await?;
    assert_eq!(proxy.connections_total(), 2);
    Ok(())
}

#[tokio::test]
async fn cut_and_heal_a_tcp_echo_on_a_current_thread_runtime() -> TestResult {
    cut_and_heal_a_tcp_echo().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_and_heal_a_tcp_echo_on_a_multi_thread_runtime() -> TestResult {
    cut_and_heal_a_tcp_echo().await
}

#[tokio::test]
async fn a_cut_does_not_wait_for_a_peer_that_stopped_reading() -> TestResult {
    // The target accepts and never reads, so the proxy's copy blocks on a full send buffer.
    let silent = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let proxy = LinkProxy::start(silent.local_addr()?).await?;
    let mut client = TcpStream::connect((Ipv4Addr::LOCALHOST, proxy.port())).await?;
    let (_held, _) = silent.accept().await?;

    // More than every buffer on the path holds, so the writer stalls until the cut.
    const TOTAL_BYTES: u64 = 256 << 20;
    let written = Arc::new(AtomicU64::new(0));
    let writer = tokio::spawn({
        let written = Arc::clone(&written);
        async move {
            let chunk = vec![7u8; 64 << 10];
            while written.load(Ordering::SeqCst) < TOTAL_BYTES {
                client.write_all(&chunk).await?;
                written.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
            Ok::<_, std::io::Error>(())
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while written.load(Ordering::SeqCst) < 1 << 20 {
        assert!(Instant::now() < deadline, "the client never got 1 MiB into the link");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    proxy.cut();
    let outcome = timeout(Duration::from_millis(CUT_VISIBLE_MS), writer).await;
    let written_mib = written.load(Ordering::SeqCst) >> 20;
    match outcome {
        Ok(Ok(Err(_))) => {}
        Ok(Ok(Ok(()))) => panic!("all {written_mib} MiB went through a link to a peer that never reads"),
        Ok(Err(join)) => panic!("writer task failed: {join}"),
        Err(_) => panic!("the writer was still blocked {CUT_VISIBLE_MS} ms after the cut ({written_mib} MiB written)"),
    }
    Ok(())
}

#[tokio::test]
async fn dropping_the_proxy_closes_its_connections() -> TestResult {
    let proxy = LinkProxy::start(echo_server().await?).await?;
    let mut open = echo_through(&proxy, b"before the drop").await?;
    drop(proxy);
    assert_closed(&mut open, "connection open at the drop").await;
    Ok(())
}

/// Publishes numbered `prefix-<n>` messages on `subject` from `publisher` until `subscriber` gets
/// one whose payload starts with `prefix`; returns that payload. Panics after `timeout_ms`, or if
/// anything else arrives first.
async fn publish_until_received(
    publisher: &async_nats::Client,
    subscriber: &mut async_nats::Subscriber,
    subject: &str,
    prefix: &str,
    timeout_ms: u64,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    for n in 0u64.. {
        assert!(
            Instant::now() < deadline,
            "no {prefix}-* message within {timeout_ms} ms"
        );
        publisher
            .publish(subject.to_owned(), format!("{prefix}-{n}").into())
            .await?;
        publisher.flush().await?;
        if let Ok(Some(message)) = timeout(Duration::from_millis(50), subscriber.next()).await {
            let payload = String::from_utf8(message.payload.to_vec())?;
            assert!(payload.starts_with(prefix), "expected {prefix}-*, got {payload:?}");
            return Ok(payload);
        }
    }
    unreachable!("the loop above returns or panics")
}

#[tokio::test]
async fn a_leaf_link_through_the_proxy_is_cut_and_heals_by_itself() -> TestResult {
    const SUBJECT: &str = "link.probe";
    let hub = NatsServer::hub().await?;
    let hub_leaf_port = hub.leaf_port().expect("the hub listens for leaves");
    let proxy = LinkProxy::start(SocketAddr::from((Ipv4Addr::LOCALHOST, hub_leaf_port))).await?;
    let site = NatsServer::builder("site-a")
        .jetstream_domain("site-a")
        .leaf_remote(&proxy.leaf_url())
        .start()
        .await?;
    let hub_client = hub.connect().await?;
    let site_client = site.connect().await?;
    let mut at_hub = hub_client.subscribe(SUBJECT).await?;
    hub_client.flush().await?;

    // Link up: a message published at the site reaches the hub.
    publish_until_received(&site_client, &mut at_hub, SUBJECT, "up", 10_000).await?;
    let connections_before_cut = proxy.connections_total();
    assert!(connections_before_cut >= 1);

    // Cut: what the site publishes now never reaches the hub. The window is an observation
    // period for an absence, not a synchronisation; the check after the heal covers the rest.
    proxy.cut();
    for n in 0..20 {
        site_client.publish(SUBJECT, format!("cut-{n}").into()).await?;
    }
    site_client.flush().await?;
    if let Ok(Some(message)) = timeout(Duration::from_millis(500), at_hub.next()).await {
        panic!("{:?} crossed a cut link", message.payload);
    }

    // Heal: the leaf reconnects on its own and messages flow again; nothing published during the
    // cut shows up first (the subscription is in order, and `publish_until_received` rejects it).
    let healed_at = Instant::now();
    proxy.heal();
    let first = publish_until_received(&site_client, &mut at_hub, SUBJECT, "heal", 15_000).await?;
    let reconnect = healed_at.elapsed();
    eprintln!("leaf link carried messages again {reconnect:?} after heal (first: {first})");
    assert!(
        proxy.connections_total() > connections_before_cut,
        "the leaf reconnected through the proxy"
    );
    Ok(())
}
