//! The demo's last act: the hub's web dashboard. The demo asks the API for a sign-in link as the admin (as
//! `edgefleet dashboard url` does), opens it over HTTP like a browser would, and reads the first screen back.

use super::story::Story;
use crate::api_types::dashboard_link::DashboardLinkView;
use crate::api_types::requests::Empty;
use crate::commands::resources::api_client::HubApi;
use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Signs in to the dashboard at `http://127.0.0.1:port` and tells what its first screen counts.
pub async fn tell(story: &mut Story, api: &HubApi, port: u16) -> anyhow::Result<()> {
    let link: DashboardLinkView = api.call("dashboard_links.get", &Empty {}).await?;
    let path = link
        .url
        .split_once(&format!("127.0.0.1:{port}"))
        .map(|(_, path)| path.to_owned())
        .context("the sign-in link points at this hub's dashboard")?;
    let signed_in = get(port, &path, None).await?;
    let cookie = signed_in
        .headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .context("signing in set no session cookie")?;
    let again = get(port, &path, None).await?;
    anyhow::ensure!(
        again.status == 401,
        "a used sign-in link was let in again ({})",
        again.status
    );
    let first = get(port, "/", Some(&cookie)).await?;
    anyhow::ensure!(
        first.status == 200 && first.body.contains("What needs attention"),
        "the first screen did not show ({}):\n{}",
        first.status,
        first.body
    );
    story.tell(format!(
        "dashboard on http://127.0.0.1:{port}: signed in as {} with a one-time link (used again: refused); its \
         first screen counts {}",
        link.user,
        counts(&first.body).join(", ")
    ));
    Ok(())
}

/// "N what" for every count of the first screen (`<span class="count">N</span> what</a>`).
fn counts(body: &str) -> Vec<String> {
    body.split("<span class=\"count\">")
        .skip(1)
        .filter_map(|rest| {
            let (count, rest) = rest.split_once("</span>")?;
            let (what, _) = rest.split_once("</a>")?;
            Some(format!("{count}{what}"))
        })
        .collect()
}

struct Answer {
    status: u16,
    headers: String,
    body: String,
}

/// A plain HTTP/1.1 GET on loopback (the dashboard answers with a length, and closes when asked).
async fn get(port: u16, path: &str, cookie: Option<&str>) -> anyhow::Result<Answer> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .context("connecting to the dashboard")?;
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{cookie}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let raw = String::from_utf8_lossy(&raw);
    let (headers, body) = raw.split_once("\r\n\r\n").context("an HTTP answer")?;
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("an HTTP status")?;
    Ok(Answer {
        status,
        headers: headers.to_owned(),
        body: body.to_owned(),
    })
}
