//! Answers the site's local readers (`ef.agent.<x>._reader.logs.list`): a page of the site's log lines from its
//! own telemetry stream, so people on site read what the agents and the site process logged while the hub is away
//! (`edgefleet logs --site-nats URL --reader-key FILE`). The request crosses the site server's `NODES` → `SITE`
//! service import, so its answer can only reach the reader's inbox (`fleet_trust::node_permissions`).

use crate::api_types::requests::LogQuery;
use crate::api_types::views::LocalLogsReply;
use crate::log_pages::read_log_page;
use events::Token;
use futures::StreamExt;

/// Largest request accepted (a query is a few hundred bytes).
const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// Answers local readers of `site` until the connection closes.
pub async fn serve(site: Token, client: async_nats::Client, js: async_nats::jetstream::Context) {
    let subject = fleet_trust::local_reader_subject(&site);
    let mut requests = match client.subscribe(subject.clone()).await {
        Ok(requests) => requests,
        Err(e) => return tracing::error!(%site, error = %e, "cannot answer local readers"),
    };
    while let Some(message) = requests.next().await {
        let Some(reply_to) = message.reply.clone() else {
            continue;
        };
        let reply = answer(&site, &js, &message.payload).await;
        let body = serde_json::to_vec(&reply).unwrap_or_default();
        if let Err(e) = client.publish(reply_to, body.into()).await {
            tracing::warn!(error = %e, "local reader's answer not sent");
        }
    }
}

async fn answer(site: &Token, js: &async_nats::jetstream::Context, payload: &[u8]) -> LocalLogsReply {
    let refuse = |error: String| LocalLogsReply {
        page: None,
        error: Some(crate::api_types::error::sanitize(&error, 512)),
    };
    if payload.len() > MAX_REQUEST_BYTES {
        return refuse(format!(
            "request of {} bytes exceeds {MAX_REQUEST_BYTES}",
            payload.len()
        ));
    }
    let query: LogQuery = match serde_json::from_slice(payload) {
        Ok(query) => query,
        Err(e) => return refuse(format!("malformed log query: {e}")),
    };
    if query.site != *site {
        return refuse(format!("this is site {site}; it holds no lines of site {}", query.site));
    }
    match read_log_page(js, &query).await {
        Ok(page) => LocalLogsReply {
            page: Some(page),
            error: None,
        },
        Err(e) => refuse(e.to_string()),
    }
}
