//! [`PrometheusServer`]: a real Prometheus process (Debian's `prometheus`, installed by `scripts/setup`) on a free
//! loopback port with its own data directory, accepting remote writes and answering PromQL over its HTTP API — for
//! the demo and the tests. Killed with its process group when dropped.

use crate::http_client::{HttpClient, HttpError, TlsSetupError};
use nats_process::ChildProcess;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use url::Url;

/// How long a starting Prometheus may take to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// A start whose port was taken in the meantime is tried again on another, this many times in all.
const START_ATTEMPTS: usize = 3;

/// Why Prometheus could not be started or asked.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    /// No binary.
    #[error("prometheus not found (looked at $PROMETHEUS_BIN and on PATH); run scripts/setup, which installs Debian's package")]
    NotFound,
    /// The process could not be started or did not become ready.
    #[error("prometheus did not start: {0}")]
    Start(String),
    /// A query failed.
    #[error("prometheus query {expr:?}: {reason}")]
    Query {
        /// The PromQL.
        expr: String,
        /// What failed.
        reason: String,
    },
    /// Talking HTTP failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// Its CA cannot be trusted.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
}

/// Prometheus serving HTTPS (its `--web.config.file` `tls_server_config`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServingTls {
    /// Its certificate (PEM), valid for 127.0.0.1.
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// The CA that issued the certificate (PEM), which clients trust.
    pub ca: PathBuf,
}

/// A `/metrics` endpoint for Prometheus to scrape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrapeTarget {
    /// Its job name (`edgefleet-hub`, `edgefleet-site-s1`).
    pub job: String,
    /// `HOST:PORT`.
    pub address: String,
    /// The bearer token file to present, if the endpoint wants one.
    pub token_file: Option<PathBuf>,
    /// Scrape over HTTPS, trusting this CA file (the endpoint serves with `--metrics-tls`).
    pub ca_file: Option<PathBuf>,
}

/// A running Prometheus.
pub struct PrometheusServer {
    process: ChildProcess,
    port: u16,
    data_dir: PathBuf,
    scheme: &'static str,
    client: HttpClient,
}

/// The `prometheus` binary: `$PROMETHEUS_BIN`, else the first on `PATH`.
pub fn find_prometheus() -> Result<PathBuf, PrometheusError> {
    if let Some(path) = std::env::var_os("PROMETHEUS_BIN").map(PathBuf::from) {
        return path.is_file().then_some(path).ok_or(PrometheusError::NotFound);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("prometheus"))
        .find(|candidate| candidate.is_file())
        .ok_or(PrometheusError::NotFound)
}

impl PrometheusServer {
    /// Starts Prometheus with its data under `dir`, accepting remote writes of samples up to
    /// `out_of_order_window` older than the newest of their series (`storage.tsdb.out_of_order_time_window`).
    /// `scrape_targets` are scraped every `scrape_interval`.
    pub async fn start(
        dir: &Path,
        out_of_order_window: Duration,
        scrape_targets: &[ScrapeTarget],
        scrape_interval: Duration,
    ) -> Result<Self, PrometheusError> {
        Self::start_serving(dir, out_of_order_window, scrape_targets, scrape_interval, None).await
    }

    /// As [`PrometheusServer::start`], serving HTTPS only with `tls` (remote writes and queries alike).
    pub async fn start_tls(
        dir: &Path,
        out_of_order_window: Duration,
        scrape_targets: &[ScrapeTarget],
        scrape_interval: Duration,
        tls: &ServingTls,
    ) -> Result<Self, PrometheusError> {
        Self::start_serving(dir, out_of_order_window, scrape_targets, scrape_interval, Some(tls)).await
    }

    async fn start_serving(
        dir: &Path,
        out_of_order_window: Duration,
        scrape_targets: &[ScrapeTarget],
        scrape_interval: Duration,
        tls: Option<&ServingTls>,
    ) -> Result<Self, PrometheusError> {
        let binary = find_prometheus()?;
        std::fs::create_dir_all(dir).map_err(|e| PrometheusError::Start(format!("{}: {e}", dir.display())))?;
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            config_text(out_of_order_window, scrape_targets, scrape_interval),
        )
        .map_err(|e| PrometheusError::Start(format!("{}: {e}", config.display())))?;
        let data_dir = dir.join("data");
        let client = HttpClient::new(tls.map(|t| t.ca.as_path()))?;
        let mut web_config = Vec::new();
        if let Some(tls) = tls {
            let path = dir.join("web.yml");
            let text = format!(
                "tls_server_config:\n  cert_file: {:?}\n  key_file: {:?}\n",
                tls.cert.display().to_string(),
                tls.key.display().to_string()
            );
            std::fs::write(&path, text).map_err(|e| PrometheusError::Start(format!("{}: {e}", path.display())))?;
            web_config.push(format!("--web.config.file={}", path.display()));
        }
        let mut last_failure = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = nats_process::free_port();
            let mut args = vec![
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", data_dir.display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--web.enable-remote-write-receiver".to_string(),
                "--log.level=warn".to_string(),
            ];
            args.extend(web_config.iter().cloned());
            let log = dir.join("prometheus.log");
            let process = ChildProcess::spawn("prometheus", &binary, &args, &[], &log)
                .map_err(|e| PrometheusError::Start(format!("{}: {e}", binary.display())))?;
            let mut server = Self {
                process,
                port,
                data_dir: data_dir.clone(),
                scheme: if tls.is_some() { "https" } else { "http" },
                client: client.clone(),
            };
            match server.wait_ready().await {
                Ok(()) => return Ok(server),
                Err(reason) => last_failure = reason,
            }
        }
        Err(PrometheusError::Start(last_failure))
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let ready = self.url("/-/ready");
        while started.elapsed() < READY_TIMEOUT {
            if !self.process.is_running() {
                return Err(format!("exited before it was ready: {}", self.process.log_text()));
            }
            if let Ok(response) = self.client.get(&ready, Duration::from_secs(2)).await {
                if response.status == 200 {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "not ready within {READY_TIMEOUT:?}: {}",
            self.process.log_text()
        ))
    }

    /// `http://127.0.0.1:<port><path>` (`https://` when it serves TLS).
    pub fn url(&self, path: &str) -> Url {
        let text = format!("{}://127.0.0.1:{}{path}", self.scheme, self.port);
        // A loopback address, a number and a literal path always make a valid URL.
        Url::parse(&text).unwrap_or_else(|e| unreachable!("{text}: {e}"))
    }

    /// The HTTP client that trusts this server (its CA when it serves TLS).
    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// Where remote writes go (`/api/v1/write`).
    pub fn remote_write_url(&self) -> Url {
        self.url("/api/v1/write")
    }

    /// The TSDB directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The process's log so far.
    pub fn log_text(&self) -> String {
        self.process.log_text()
    }

    /// An instant query at `at_unix_s` (now if `None`): the `data.result` array.
    pub async fn query(&self, expr: &str, at_unix_s: Option<f64>) -> Result<Vec<serde_json::Value>, PrometheusError> {
        let mut url = self.url("/api/v1/query");
        url.query_pairs_mut().append_pair("query", expr);
        if let Some(at) = at_unix_s {
            url.query_pairs_mut().append_pair("time", &format!("{at:.3}"));
        }
        let response = self.client.get(&url, Duration::from_secs(30)).await?;
        let failed = |reason: String| PrometheusError::Query {
            expr: expr.to_string(),
            reason,
        };
        if response.status != 200 {
            return Err(failed(format!("HTTP {}: {}", response.status, response.text())));
        }
        let answer: serde_json::Value =
            serde_json::from_slice(&response.body).map_err(|e| failed(format!("not JSON: {e}")))?;
        match answer.pointer("/data/result") {
            Some(serde_json::Value::Array(result)) => Ok(result.clone()),
            _ => Err(failed(format!("no data.result in {answer}"))),
        }
    }

    /// The raw samples of the series matching `selector` within `window` before `at_unix_s`, per series: its labels
    /// (`__name__` and the rest) and its (unix seconds, value) samples in time order.
    pub async fn raw_samples(
        &self,
        selector: &str,
        window: Duration,
        at_unix_s: f64,
    ) -> Result<Vec<(serde_json::Value, Vec<(f64, f64)>)>, PrometheusError> {
        let expr = format!("{selector}[{}s]", window.as_secs().max(1));
        let result = self.query(&expr, Some(at_unix_s)).await?;
        Ok(result
            .into_iter()
            .map(|series| {
                let values = series
                    .get("values")
                    .and_then(|v| v.as_array())
                    .map(|values| {
                        values
                            .iter()
                            .filter_map(|pair| {
                                let at = pair.get(0)?.as_f64()?;
                                let value = pair.get(1)?.as_str()?.parse().ok()?;
                                Some((at, value))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (series.get("metric").cloned().unwrap_or_default(), values)
            })
            .collect())
    }
}

fn config_text(out_of_order_window: Duration, scrape_targets: &[ScrapeTarget], scrape_interval: Duration) -> String {
    let interval = scrape_interval.as_secs().max(1);
    let mut text = format!(
        "global:\n  scrape_interval: {interval}s\n  evaluation_interval: {interval}s\nstorage:\n  tsdb:\n    out_of_order_time_window: {}s\n",
        out_of_order_window.as_secs()
    );
    if !scrape_targets.is_empty() {
        text.push_str("scrape_configs:\n");
        for target in scrape_targets {
            text.push_str(&format!(
                "  - job_name: '{}'\n    static_configs:\n      - targets: ['{}']\n",
                target.job, target.address
            ));
            if let Some(file) = &target.token_file {
                text.push_str(&format!(
                    "    authorization:\n      credentials_file: '{}'\n",
                    file.display()
                ));
            }
            if let Some(ca) = &target.ca_file {
                text.push_str(&format!(
                    "    scheme: https\n    tls_config:\n      ca_file: '{}'\n",
                    ca.display()
                ));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_names_the_window_and_the_targets() {
        let text = config_text(
            Duration::from_secs(7 * 24 * 3600),
            &[ScrapeTarget {
                job: "edgefleet-hub".into(),
                address: "127.0.0.1:9100".into(),
                token_file: Some(PathBuf::from("/tmp/token")),
                ca_file: Some(PathBuf::from("/tmp/ca.pem")),
            }],
            Duration::from_secs(5),
        );
        assert!(text.contains("out_of_order_time_window: 604800s"), "{text}");
        assert!(text.contains("job_name: 'edgefleet-hub'"), "{text}");
        assert!(
            text.contains("scheme: https\n    tls_config:\n      ca_file: '/tmp/ca.pem'"),
            "{text}"
        );
        assert!(text.contains("targets: ['127.0.0.1:9100']"), "{text}");
        assert!(text.contains("credentials_file: '/tmp/token'"), "{text}");
        assert!(text.contains("scrape_interval: 5s"), "{text}");
    }
}
