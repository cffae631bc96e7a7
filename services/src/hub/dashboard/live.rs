//! `/live?path=PAGE&shown=DIGEST`: one Server-Sent Events stream per browser tab (browsers allow six HTTP/1.1
//! connections per origin, so a tab never opens more than this one). It renders the tab's view again whenever the hub's projection
//! changes — at most every [`AT_MOST_EVERY`], and every [`AT_LEAST_EVERY`] for the times shown as "ago" — and sends
//! it only when it differs from what the tab shows. A session that ends (revoked, expired) ends the stream with an
//! `ended` event saying why.

use super::{render, signed_in, view_at, Dashboard};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

/// The least time between two renders of one tab.
const AT_MOST_EVERY: Duration = Duration::from_millis(500);
/// The most time between two renders of one tab.
const AT_LEAST_EVERY: Duration = Duration::from_secs(5);

struct Tab {
    dashboard: Dashboard,
    headers: HeaderMap,
    view: super::view::View,
    /// A digest of what the tab shows (at first, what the page was served with).
    shown: Option<u64>,
    ended: bool,
}

pub async fn stream(
    State(dashboard): State<Dashboard>,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let Some(page) = query.get("path") else {
        return super::refusal(400, "Bad request", "/live needs ?path=PAGE");
    };
    let (path, page_query) = page.split_once('?').unwrap_or((page.as_str(), ""));
    let page_query: BTreeMap<String, String> = url::form_urlencoded::parse(page_query.as_bytes())
        .into_owned()
        .collect();
    let view = match view_at(path, &page_query) {
        Ok(view) => view,
        Err(refused) => return refused,
    };
    if let Err(refused) = signed_in(&dashboard, &headers).await {
        return refused;
    }
    let shown = query.get("shown").and_then(|d| d.parse::<u64>().ok());
    let tab = Tab {
        dashboard,
        headers,
        view,
        shown,
        ended: false,
    };
    let events = futures::stream::unfold(tab, |mut tab| async move {
        if tab.ended {
            return None;
        }
        loop {
            if tab.shown.is_some() {
                let mut changes = tab.dashboard.changes.clone();
                let _ = tokio::time::timeout(AT_LEAST_EVERY, changes.changed()).await;
                tokio::time::sleep(AT_MOST_EVERY).await;
            }
            let rendered = render_once(&tab).await;
            match rendered {
                Ok(html) if tab.shown == Some(digest(&html)) => continue,
                Ok(html) => {
                    tab.shown = Some(digest(&html));
                    let event = Event::default().event("view").data(html);
                    return Some((Ok::<_, Infallible>(event), tab));
                }
                Err(Refused::Ended(why)) => {
                    tab.ended = true;
                    return Some((Ok(Event::default().event("ended").data(why)), tab));
                }
                // The hub busy or a view gone for a moment: said in the tab's status line, tried again.
                Err(Refused::ForNow(why)) => {
                    tab.shown = Some(0);
                    return Some((Ok(Event::default().event("trouble").data(why)), tab));
                }
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}

/// A digest of a rendered view, to tell whether the tab already shows it (the page carries the one it was served
/// with as `data-shown`, and the script passes it back).
pub fn digest(html: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    html.hash(&mut hasher);
    hasher.finish()
}

/// Why a tab was not sent its view.
enum Refused {
    /// For good: the session ended.
    Ended(String),
    /// This time.
    ForNow(String),
}

/// The tab's view now, or why the tab may not see it.
async fn render_once(tab: &Tab) -> Result<String, Refused> {
    let (pass, who) = signed_in(&tab.dashboard, &tab.headers)
        .await
        .map_err(|_| Refused::Ended("your session ended: sign in again".to_owned()))?;
    let renderer = render::Renderer {
        bridge: &tab.dashboard.bridge,
        pass: &pass,
        who: &who,
    };
    renderer
        .view(&tab.view)
        .await
        .map(|markup| markup.into_string())
        .map_err(|e| match e.code {
            401 | 403 => Refused::Ended(e.message),
            _ => Refused::ForNow(e.message),
        })
}
