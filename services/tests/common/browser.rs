//! A real browser for the dashboard's tests: Debian's Chromium, headless, driven through chromedriver (WebDriver)
//! on a free port, each [`Browser`] with its own profile dir (so its own cookies). Both come from `scripts/setup`.

use std::path::Path;
use std::time::Duration;
use testkit::ChildProcess;

/// chromedriver, and the browser sessions opened through it.
pub struct Driver {
    process: ChildProcess,
    url: String,
}

impl Driver {
    /// Starts chromedriver with its log in `dir`.
    pub async fn start(dir: &Path) -> Driver {
        let [port] = testkit::free_port::free_ports::<1>();
        let process = ChildProcess::spawn(
            "chromedriver",
            Path::new("chromedriver"),
            &[format!("--port={port}"), "--allowed-ips=127.0.0.1".into()],
            &[],
            &dir.join("chromedriver.log"),
        )
        .expect("chromedriver runs (scripts/setup installs it)");
        let url = format!("http://127.0.0.1:{port}");
        super::eventually("chromedriver listens", Duration::from_secs(20), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()
        })
        .await;
        Driver { process, url }
    }

    /// A new headless Chromium with its profile in `profile`.
    pub async fn browser(&self, profile: &Path) -> fantoccini::Client {
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        fantoccini::ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver and the browsers it started share its process group.
        self.process.kill_group();
    }
}
