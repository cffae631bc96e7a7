//! The demo's last act: the hub's web dashboard. The demo asks the API for a sign-in link as the admin (as
//! `edgefleet dashboard url` does), opens it over HTTP like a browser would, and reads the first screen back.

use super::story::Story;
use crate::api_types::dashboard_link::DashboardLinkView;
use crate::api_types::requests::Empty;
use crate::commands::resources::api_client::HubApi;
use anyhow::Context;
use std::time::Duration;
use telemetry::HttpClient;
use url::Url;

/// How long one page may take.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Signs in to the dashboard at `http://127.0.0.1:port` and tells what its first screen counts.
pub async fn tell(story: &mut Story, api: &HubApi, port: u16) -> anyhow::Result<()> {
    let link: DashboardLinkView = api.call("dashboard_links.get", &Empty {}).await?;
    let url = Url::parse(&link.url).context("the sign-in link")?;
    anyhow::ensure!(
        url.port() == Some(port),
        "the sign-in link {url} points at this hub's dashboard"
    );
    let http = HttpClient::system();
    let signed_in = http.get(&url, PAGE_TIMEOUT).await?;
    let cookie = signed_in
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .context("signing in set no session cookie")?;
    let again = http.get(&url, PAGE_TIMEOUT).await?;
    anyhow::ensure!(
        again.status == 401,
        "a used sign-in link was let in again ({})",
        again.status
    );
    let first_url = url.join("/").context("the first screen's address")?;
    let first = http.get_with(&first_url, &[("Cookie", &cookie)], PAGE_TIMEOUT).await?;
    let body = first.text();
    anyhow::ensure!(
        first.status == 200 && body.contains("What needs attention"),
        "the first screen did not show ({}):\n{body}",
        first.status,
    );
    story.tell(format!(
        "dashboard on http://127.0.0.1:{port}: signed in as {} with a one-time link (used again: refused); its \
         first screen counts {}",
        link.user,
        counts(&body).join(", ")
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
