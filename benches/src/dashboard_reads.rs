//! The hub's web dashboard under a fleet: signs in as the admin with a link from `dashboard_links.get` and times
//! full page loads (`GET /`, the first screen, and `GET /sites`) over plain HTTP on loopback, as a browser would
//! ask for them.

use crate::hub_process::api_request;
use anyhow::Context as _;
use bytes::Bytes;
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// (status, headers, body) of `GET path` on the dashboard at `port`.
async fn get(port: u16, path: &str, cookie: Option<&str>) -> anyhow::Result<(u16, String, String)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .context("connecting to the dashboard")?;
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{cookie}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").context("an HTTP answer")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("an HTTP status")?;
    Ok((status, head.to_owned(), body.to_owned()))
}

/// Signs in as the user of `admin` and times [`ROUNDS`] loads of each page, spread over `period`.
pub async fn time_pages(admin: &async_nats::Client, port: u16, period: Duration) -> anyhow::Result<DashboardReads> {
    let link = api_request(admin, "dashboard_links.get", Bytes::from_static(b"{}")).await?;
    let link: serde_json::Value = serde_json::from_slice(&link).context("dashboard_links.get")?;
    let url = link["url"].as_str().context("a sign-in link")?;
    let path = url
        .split_once(&format!("127.0.0.1:{port}"))
        .map(|(_, path)| path)
        .context("a link to this dashboard")?;
    let (_, head, _) = get(port, path, None).await?;
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
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
            let started = Instant::now();
            let (status, _, body) = get(port, page, Some(&cookie)).await?;
            histogram.saturating_record((started.elapsed().as_micros() as u64).max(1));
            anyhow::ensure!(status == 200, "GET {page}: {status}");
            *bytes = body.len();
        }
    }
    Ok(DashboardReads {
        first_screen,
        first_screen_bytes,
        sites,
        sites_bytes,
    })
}
