//! Remote-write to a real Prometheus (Debian's 2.42, started on a free port in a temp dir), checked with PromQL —
//! over plain HTTP and over HTTPS with a private CA.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use telemetry::remote_write::write;
use telemetry::{series_of, NodeSampler, PrometheusServer, Series, WriteOutcome};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

async fn prometheus(dir: &tempfile::TempDir) -> PrometheusServer {
    match PrometheusServer::start(dir.path(), Duration::from_secs(3600), &[], Duration::from_secs(15)).await {
        Ok(server) => server,
        Err(e) => panic!("{e}"),
    }
}

fn load_series(samples: impl IntoIterator<Item = (i64, f64)>) -> Series {
    let mut series = Series::new("node_load1", &[("site", "s1"), ("node", "n1")]);
    series.samples.extend(samples);
    series
}

#[tokio::test]
async fn a_nodes_real_sample_is_queryable_by_site_and_node() {
    let dir = tempfile::tempdir().expect("temp dir");
    let prometheus = prometheus(&dir).await;
    let at_ms = now_ms();
    let sampled = NodeSampler::default().sample(at_ms);
    let series = series_of("store-1", "n1", std::slice::from_ref(&sampled.batch));
    assert_eq!(
        write(
            prometheus.client(),
            &prometheus.remote_write_url(),
            &series,
            Duration::from_secs(10)
        )
        .await,
        WriteOutcome::Accepted
    );
    let at = at_ms as f64 / 1000.0;
    let expected = sampled
        .batch
        .points
        .iter()
        .find(|p| p.name == "node_memory_MemAvailable_bytes")
        .map(|p| p.value);
    let result = prometheus
        .query(r#"node_memory_MemAvailable_bytes{site="store-1",node="n1"}"#, Some(at))
        .await
        .expect("query");
    let found: Option<f64> = result
        .first()
        .and_then(|r| r.pointer("/value/1"))
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse().ok());
    assert_eq!(found, expected, "{result:?}");
    let cpus = prometheus
        .query(
            r#"count(node_cpu_seconds_total{site="store-1",node="n1",mode="idle"})"#,
            Some(at),
        )
        .await
        .expect("query");
    assert!(!cpus.is_empty(), "every cpu's idle seconds arrived: {cpus:?}");
}

#[tokio::test]
async fn a_backlog_older_than_live_samples_fills_in_once_and_a_sample_beyond_the_window_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let prometheus = prometheus(&dir).await;
    let url = prometheus.remote_write_url();
    let timeout = Duration::from_secs(10);
    let now = now_ms();
    // Given a live sample already written,
    assert_eq!(
        write(prometheus.client(), &url, &[load_series([(now, 1.0)])], timeout).await,
        WriteOutcome::Accepted
    );
    // when the cut's backlog of 20 samples, 10 minutes old, arrives after it — twice, as a resend would —
    let backlog = load_series((0..20).map(|i| (now - 600_000 + i * 15_000, i as f64)));
    assert_eq!(
        write(prometheus.client(), &url, std::slice::from_ref(&backlog), timeout).await,
        WriteOutcome::Accepted
    );
    assert_eq!(
        write(prometheus.client(), &url, &[backlog], timeout).await,
        WriteOutcome::Accepted
    );
    // then every sample is stored exactly once, in time order;
    let stored = prometheus
        .raw_samples(
            r#"node_load1{site="s1",node="n1"}"#,
            Duration::from_secs(1200),
            now as f64 / 1000.0 + 1.0,
        )
        .await
        .expect("query");
    assert_eq!(stored.len(), 1);
    let times: Vec<i64> = stored[0].1.iter().map(|(at, _)| (at * 1000.0).round() as i64).collect();
    let mut expected: Vec<i64> = (0..20).map(|i| now - 600_000 + i * 15_000).collect();
    expected.push(now);
    assert_eq!(times, expected);
    // and a sample two hours old, beyond the one-hour window, is refused for good, not retried.
    let too_old = write(
        prometheus.client(),
        &url,
        &[load_series([(now - 2 * 3600 * 1000, 9.0)])],
        timeout,
    )
    .await;
    assert!(
        matches!(too_old, WriteOutcome::Refused { status: 500, .. }),
        "{too_old:?}"
    );
}

#[tokio::test]
async fn an_https_endpoint_is_written_once_its_ca_is_trusted_and_retried_until_then() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Given a Prometheus serving HTTPS with a certificate from a private CA,
    let ca = fleet_trust::FleetCa::open_or_create(&dir.path().join("ca")).expect("a CA");
    let issued = ca
        .issue_server_pem(&fleet_trust::ServerNames::localhost())
        .expect("a server certificate");
    let (cert, key) = (dir.path().join("prom.pem"), dir.path().join("prom-key.pem"));
    issued.write(&cert, &key).expect("written");
    let tls = telemetry::prometheus_process::ServingTls {
        cert,
        key,
        ca: ca.cert_path().to_path_buf(),
    };
    let prometheus = PrometheusServer::start_tls(
        &dir.path().join("prom"),
        Duration::from_secs(3600),
        &[],
        Duration::from_secs(15),
        &tls,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let url = prometheus.remote_write_url();
    assert_eq!(url.scheme(), "https");
    let now = now_ms();
    let timeout = Duration::from_secs(10);
    // a client that does not trust its CA keeps the samples to send again (never counts them refused),
    let untrusting = telemetry::HttpClient::new(None).expect("system roots");
    let outcome = write(&untrusting, &url, &[load_series([(now, 2.5)])], timeout).await;
    assert!(
        matches!(&outcome, WriteOutcome::Retry { reason } if reason.contains("TLS")),
        "{outcome:?}"
    );
    // and one that trusts it writes them, as PromQL shows over HTTPS.
    let trusting = telemetry::HttpClient::new(Some(ca.cert_path())).expect("the CA file");
    assert_eq!(
        write(&trusting, &url, &[load_series([(now, 2.5)])], timeout).await,
        WriteOutcome::Accepted
    );
    let result = prometheus
        .query("node_load1{site=\"s1\",node=\"n1\"}", Some(now as f64 / 1000.0))
        .await
        .expect("query over https");
    assert_eq!(result.len(), 1, "{result:?}");
    assert_eq!(result[0]["value"][1], "2.5");
    // A CA file that holds no certificate is refused where it is named.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate").expect("file");
    assert!(telemetry::HttpClient::new(Some(&empty)).is_err());
}
