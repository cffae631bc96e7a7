//! A site whose telemetry limit fills during a cut: the batches it discarded before the hub copied them are
//! counted at the hub — in `sites ls` and on the hub's `/metrics`, scraped by a real Prometheus with a bearer token —
//! instead of leaving a silent hole. The site's own `/metrics`, served over HTTPS with its own certificate, shows its side.

mod common;

use common::{agent_with_env, cli, eventually_with, Hub, Site};
use std::time::Duration;
use telemetry::{PrometheusServer, ScrapeTarget};

const NODES: [&str; 2] = ["n1", "n2"];

/// Origin sequences missing from the hub's copy between its first and last batch: what the site discarded before
/// the hub copied it, counted here from the copy itself.
async fn holes_in_hub_copy(hub: &Hub, site: &events::Token) -> u64 {
    let js = hub.site_js(site).await;
    let stream = events::subject::telemetry_stream(site);
    let state = telemetry::telemetry_streams::stream_state(&js, &stream)
        .await
        .expect("copy state")
        .expect("copy exists");
    let read = telemetry::copy_reader::read_range(&js, &stream, state.first_seq, state.last_seq)
        .await
        .expect("copy read");
    read.windows(2)
        .map(|pair| pair[1].copied.origin_seq.saturating_sub(pair[0].copied.origin_seq + 1))
        .sum()
}

async fn promql_value(prometheus: &PrometheusServer, expr: &str) -> Option<f64> {
    let result = prometheus.query(expr, None).await.ok()?;
    result.first()?.pointer("/value/1")?.as_str()?.parse().ok()
}

#[actix_rt::test]
async fn a_site_limit_filled_during_a_cut_is_counted_at_the_hub_in_sites_ls_and_metrics() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token_file = dir.path().join("metrics.token");
    std::fs::write(&token_file, "scrape-secret-1\n").expect("token file");
    let [hub_metrics_port, site_metrics_port] = testkit::free_port::free_ports::<2>();
    let prometheus = PrometheusServer::start(
        &dir.path().join("prometheus"),
        Duration::from_secs(3600),
        &[ScrapeTarget {
            job: "edgefleet-hub".into(),
            address: format!("127.0.0.1:{hub_metrics_port}"),
            token_file: Some(token_file.clone()),
            ca_file: None,
        }],
        Duration::from_secs(1),
    )
    .await
    .expect("prometheus");
    let hub_args = vec![
        "--remote-write".to_string(),
        prometheus.remote_write_url().to_string(),
        "--metrics-listen".into(),
        format!("127.0.0.1:{hub_metrics_port}"),
        "--metrics-token-file".into(),
        token_file.display().to_string(),
    ];
    let hub = Hub::start_with_args(dir.path(), &dir.path().join("hub"), &[], hub_args).await;
    // A site whose telemetry stream holds some 40 batches of this machine's size.
    // Its /metrics over HTTPS with its own server certificate, scraped by a second Prometheus that trusts the
    // site's CA (from its bundle, which exists only once the hub made the fleet CA).
    let site_env = [
        ("EDGEFLEET_TELEMETRY_MAX_BYTES", (96 * 1024).to_string()),
        ("EDGEFLEET_METRICS_LISTEN", format!("127.0.0.1:{site_metrics_port}")),
        ("EDGEFLEET_METRICS_TLS", "true".to_string()),
    ];
    let site = Site::start(dir.path(), &hub, "s1", &site_env).await;
    let site_scraper = PrometheusServer::start(
        &dir.path().join("prometheus-site"),
        Duration::from_secs(3600),
        &[ScrapeTarget {
            job: "edgefleet-site".into(),
            address: format!("127.0.0.1:{site_metrics_port}"),
            token_file: None,
            ca_file: Some(dir.path().join("s1-bundle").join("site-ca.pem")),
        }],
        Duration::from_secs(1),
    )
    .await
    .expect("prometheus scraping the site");
    let _agents: Vec<_> = NODES
        .iter()
        .map(|node| {
            agent_with_env(
                dir.path(),
                &site,
                node,
                &[("EDGEFLEET_TELEMETRY_INTERVAL_S", "1".to_string())],
            )
        })
        .collect();
    eventually_with("metrics delivered", Duration::from_secs(60), || async {
        let delivered = promql_value(
            &prometheus,
            r#"sum(edgefleet_telemetry_delivered_samples_total{site="s1"})"#,
        )
        .await;
        match delivered {
            Some(n) if n > 0.0 => Ok(()),
            other => Err(format!("delivered samples per the hub's /metrics: {other:?}")),
        }
    })
    .await;

    // Given the site's link cut long enough for its telemetry limit to overflow (two batches a second),
    site.link.cut();
    tokio::time::sleep(Duration::from_secs(45)).await;
    let discarded = promql_value(
        &site_scraper,
        r#"edgefleet_telemetry_discarded_batches_total{site="s1"}"#,
    )
    .await;
    assert!(
        discarded.is_some_and(|n| n > 0.0),
        "the site's /metrics, scraped over HTTPS, shows its limit discarding: {discarded:?}"
    );
    let site_up = promql_value(&site_scraper, r#"up{job="edgefleet-site"}"#).await;
    assert_eq!(site_up, Some(1.0), "the site's /metrics answered over HTTPS");
    // when it heals,
    site.link.heal();
    // then the hub counts every batch the site discarded before it was copied, in sites ls,
    let dropped = eventually_with("the hole counted at the hub", Duration::from_secs(90), || async {
        let sites = cli::json(&hub, &["sites", "ls"]);
        let delivery = &sites[0]["telemetry"][0];
        let dropped = delivery["dropped_at_site"].as_u64().unwrap_or(0);
        let backlog = delivery["backlog_batches"].as_u64().unwrap_or(u64::MAX);
        if dropped > 0 && backlog == 0 {
            Ok(dropped)
        } else {
            Err(format!("not yet: {sites}"))
        }
    })
    .await;
    assert_eq!(
        dropped,
        holes_in_hub_copy(&hub, &site.id).await,
        "exactly the holes in the copy"
    );
    let table = cli::ok(&hub, &["sites", "ls"]);
    assert!(table.contains("TEL DROPPED"), "{table}");
    // and on its /metrics, as Prometheus scraped it with the token.
    eventually_with("the hole on /metrics", Duration::from_secs(30), || async {
        let scraped = promql_value(
            &prometheus,
            r#"edgefleet_telemetry_dropped_batches_total{site="s1",where="site"}"#,
        )
        .await;
        (scraped == Some(dropped as f64))
            .then_some(())
            .ok_or(format!("scraped {scraped:?}, want {dropped}"))
    })
    .await;
    let link = promql_value(&prometheus, r#"edgefleet_site_connected{site="s1"}"#).await;
    assert_eq!(link, Some(1.0));
    let up = promql_value(&prometheus, r#"up{job="edgefleet-hub"}"#).await;
    assert_eq!(up, Some(1.0), "the hub's /metrics answered the scrape with its token");
    // A scrape without the token is refused.
    let url = url::Url::parse(&format!("http://127.0.0.1:{hub_metrics_port}/metrics")).expect("url");
    let bare = telemetry::http_client::get(&url, Duration::from_secs(5))
        .await
        .expect("answer");
    assert_eq!(bare.status, 401);
}
