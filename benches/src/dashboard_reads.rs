//! The hub's web dashboard under a fleet: signs in as the admin with a link from `dashboard_links.get` and times
//! full page loads (`GET /`, the first screen, and `GET /sites`) over plain HTTP on loopback, as a browser would
//! ask for them.

use crate::hub_process::api_request;
use anyhow::Context as _;
use bytes::Bytes;
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};
use telemetry::HttpClient;

/// Page loads timed per page.
const ROUNDS: u32 = 20;

/// Latencies of the two pages, and their sizes.
pub struct DashboardReads {
    /// `GET /`.
    pub first_screen: Histogram<u64>,
    /// Its size.
    pub first_screen_bytes: usize,
    /// `GET /sites`.
    pub sites: Histogram<u64>,
    /// Its size.
    pub sites_bytes: usize,
}

/// How long one page load may take.
const PAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// Signs in as the user of `admin` and times [`ROUNDS`] loads of each page, spread over `period`.
pub async fn time_pages(admin: &async_nats::Client, port: u16, period: Duration) -> anyhow::Result<DashboardReads> {
    let link = api_request(admin, "dashboard_links.get", Bytes::from_static(b"{}")).await?;
    let link: serde_json::Value = serde_json::from_slice(&link).context("dashboard_links.get")?;
    let url = link["url"].as_str().context("a sign-in link")?;
    let url = url::Url::parse(url).context("the sign-in link")?;
    anyhow::ensure!(
        url.port() == Some(port),
        "the sign-in link {url} points at this dashboard"
    );
    let http = HttpClient::system();
    let signed_in = http.get(&url, PAGE_TIMEOUT).await?;
    let cookie = signed_in
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .context("a session cookie")?
        .to_owned();
    let new_histogram = || Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).context("histogram bounds");
    let (mut first_screen, mut sites) = (new_histogram()?, new_histogram()?);
    let (mut first_screen_bytes, mut sites_bytes) = (0, 0);
    let pause = period / (ROUNDS + 1);
    for _ in 0..ROUNDS {
        tokio::time::sleep(pause).await;
        for (page, histogram, bytes) in [
            ("/", &mut first_screen, &mut first_screen_bytes),
            ("/sites", &mut sites, &mut sites_bytes),
        ] {
            let page_url = url.join(page).context("a page's address")?;
            let started = Instant::now();
            let answer = http.get_with(&page_url, &[("Cookie", &cookie)], PAGE_TIMEOUT).await?;
            histogram.saturating_record((started.elapsed().as_micros() as u64).max(1));
            anyhow::ensure!(answer.status == 200, "GET {page}: {}", answer.status);
            *bytes = answer.body.len();
        }
    }
    Ok(DashboardReads {
        first_screen,
        first_screen_bytes,
        sites,
        sites_bytes,
    })
}
