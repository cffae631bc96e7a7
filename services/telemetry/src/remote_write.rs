//! One remote-write POST and what its answer means for the data: written, refused for good (counted as dropped,
//! never retried), or to be tried again.

use crate::http_client::{HttpClient, HttpError};
use crate::write_request::{self, Series};
use std::time::Duration;
use url::Url;

/// What became of one write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Stored (2xx).
    Accepted,
    /// Refused for good, for what was sent: 400 or 422 (a sample out of order, malformed), 413 (too large: send it
    /// in parts), or a 5xx that names a sample as too old / out of bounds (Prometheus answers a sample beyond its
    /// out-of-order window with 500 "too old sample", which a naive forwarder would retry forever). The sender
    /// splits the write and counts what is still refused alone.
    Refused {
        /// HTTP status.
        status: u16,
        /// Prometheus' reason.
        reason: String,
    },
    /// Not stored this time; the same samples are sent again later: 429, any other 5xx, no connection, a timeout,
    /// and answers about the endpoint rather than the samples (401, 403, 404 — a receiver not enabled — 405): the
    /// data is kept until the endpoint is put right.
    Retry {
        /// What went wrong.
        reason: String,
    },
}

/// POSTs `series` to `endpoint` as remote-write 1.0 through `client`.
pub async fn write(client: &HttpClient, endpoint: &Url, series: &[Series], timeout: Duration) -> WriteOutcome {
    let body = write_request::body(series);
    let headers = [
        ("Content-Encoding", "snappy"),
        ("Content-Type", "application/x-protobuf"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
    ];
    match client.post(endpoint, &headers, &body, timeout).await {
        Ok(response) => classify(response.status, response.text()),
        Err(HttpError::BadUrl { reason, .. }) => WriteOutcome::Refused { status: 0, reason },
        Err(e) => WriteOutcome::Retry { reason: e.to_string() },
    }
}

/// What an answer means for the samples sent.
pub fn classify(status: u16, body: String) -> WriteOutcome {
    let reason = body.trim().to_string();
    let names_old_sample = reason.contains("too old") || reason.contains("out of bounds");
    match status {
        200..=299 => WriteOutcome::Accepted,
        400 | 413 | 422 => WriteOutcome::Refused { status, reason },
        500..=599 if names_old_sample => WriteOutcome::Refused { status, reason },
        _ => WriteOutcome::Retry {
            reason: format!("HTTP {status}: {reason}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_sort_into_written_refused_and_retried() {
        assert_eq!(classify(204, String::new()), WriteOutcome::Accepted);
        assert!(matches!(
            classify(400, "out of order sample".into()),
            WriteOutcome::Refused { status: 400, .. }
        ));
        assert!(matches!(
            classify(500, "too old sample\n".into()),
            WriteOutcome::Refused { status: 500, .. }
        ));
        assert!(matches!(
            classify(503, "TSDB not ready".into()),
            WriteOutcome::Retry { .. }
        ));
        assert!(matches!(classify(429, "slow down".into()), WriteOutcome::Retry { .. }));
        assert!(
            matches!(classify(404, "404 page not found".into()), WriteOutcome::Retry { .. }),
            "a receiver not enabled keeps the data"
        );
        assert!(matches!(classify(401, "".into()), WriteOutcome::Retry { .. }));
        assert!(matches!(
            classify(413, "too large".into()),
            WriteOutcome::Refused { status: 413, .. }
        ));
    }
}
