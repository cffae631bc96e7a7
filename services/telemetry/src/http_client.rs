//! A small HTTP/1.1 client for remote-write POSTs and Prometheus API GETs: one request per connection
//! (`Connection: close`), a deadline on the whole exchange, `Content-Length` or chunked bodies, Basic
//! authentication from the URL's `user:password@`. Plain `http://` only; an `https://` endpoint is refused with a
//! clear error (TLS to the TSDB is not built yet).

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

/// Responses larger than this are refused (a query answer or an error text is far smaller).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// An HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Body bytes (de-chunked).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body as text, for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why an exchange failed before a status came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The URL cannot be used.
    #[error("{url}: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Connecting, sending or receiving failed.
    #[error("{url}: {reason}")]
    Io {
        /// The URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// No complete answer within the deadline.
    #[error("{url}: no answer within {timeout:?}")]
    Timeout {
        /// The URL.
        url: String,
        /// The deadline.
        timeout: Duration,
    },
    /// The answer is not HTTP.
    #[error("{url}: malformed response: {reason}")]
    Malformed {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// Sends `GET url`.
pub async fn get(url: &Url, timeout: Duration) -> Result<HttpResponse, HttpError> {
    exchange(url, "GET", &[], &[], timeout).await
}

/// Sends `POST url` with `headers` and `body`.
pub async fn post(
    url: &Url,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<HttpResponse, HttpError> {
    exchange(url, "POST", headers, body, timeout).await
}

async fn exchange(
    url: &Url,
    method: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<HttpResponse, HttpError> {
    let bad = |reason: &str| HttpError::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    if url.scheme() != "http" {
        return Err(bad(
            "only http:// endpoints are supported (TLS to the TSDB is not built yet)",
        ));
    }
    let host = url.host_str().ok_or_else(|| bad("no host"))?.to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let mut target = url.path().to_string();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nUser-Agent: edgefleet\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(credentials) = basic_credentials(url) {
        head.push_str(&format!("Authorization: Basic {credentials}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let io = |e: std::io::Error| HttpError::Io {
        url: url.to_string(),
        reason: e.to_string(),
    };
    let work = async {
        let mut stream = TcpStream::connect((host.as_str(), port)).await.map_err(io)?;
        stream.write_all(head.as_bytes()).await.map_err(io)?;
        stream.write_all(body).await.map_err(io)?;
        let mut received = Vec::with_capacity(1024);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = stream.read(&mut chunk).await.map_err(io)?;
            if n == 0 {
                break;
            }
            received.extend_from_slice(&chunk[..n]);
            if received.len() > MAX_RESPONSE {
                return Err(HttpError::Malformed {
                    url: url.to_string(),
                    reason: format!("response beyond {MAX_RESPONSE} bytes"),
                });
            }
        }
        parse_response(&received).map_err(|reason| HttpError::Malformed {
            url: url.to_string(),
            reason,
        })
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| HttpError::Timeout {
            url: url.to_string(),
            timeout,
        })?
}

/// `user:password` from the URL, base64 for a Basic `Authorization` header (`None` without a user).
fn basic_credentials(url: &Url) -> Option<String> {
    if url.username().is_empty() {
        return None;
    }
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    };
    let pair = format!(
        "{}:{}",
        decode(url.username()),
        decode(url.password().unwrap_or_default())
    );
    Some(data_encoding::BASE64.encode(pair.as_bytes()))
}

/// A whole response read to the connection's end.
fn parse_response(bytes: &[u8]) -> Result<HttpResponse, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(bytes).map_err(|e| e.to_string())? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => {
            return Err(format!("the connection closed inside the head ({} bytes)", bytes.len()))
        }
    };
    let status = response.code.ok_or("no status code")?;
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    let rest = &bytes[head_len..];
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)?
    } else if let Some(length) = header("content-length") {
        let length: usize = length.parse().map_err(|_| format!("content-length {length:?}"))?;
        rest.get(..length)
            .ok_or(format!("body of {} bytes, content-length {length}", rest.len()))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(HttpResponse { status, body })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::with_capacity(rest.len());
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line without its end")?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("chunk size {size_text:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest.get(..size).ok_or("a chunk cut short")?;
        body.extend_from_slice(chunk);
        rest = rest.get(size + 2..).ok_or("a chunk without its line end")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_and_chunked_bodies() {
        let plain = parse_response(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(plain.map(|r| (r.status, r.body)), Ok((204, vec![])));
        let chunked = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n",
        );
        assert_eq!(chunked.map(|r| r.body), Ok(b"hello world".to_vec()));
        let error = parse_response(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 15\r\n\r\ntoo old sample\n");
        assert_eq!(
            error.map(|r| (r.status, r.text())),
            Ok((500, "too old sample\n".into()))
        );
    }

    #[test]
    fn broken_responses_are_errors_not_panics() {
        assert!(parse_response(b"HTTP/1.1 200").is_err());
        assert!(parse_response(b"garbage\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nabc").is_err());
    }

    #[test]
    fn credentials_in_the_url_become_basic_authentication() {
        let url = Url::parse("http://ops:p%40ss@tsdb:9090/api/v1/write").expect("url");
        assert_eq!(basic_credentials(&url), Some(data_encoding::BASE64.encode(b"ops:p@ss")));
        assert_eq!(basic_credentials(&Url::parse("http://tsdb:9090/").expect("url")), None);
    }

    #[tokio::test]
    async fn https_and_unreachable_endpoints_say_so() {
        let https = Url::parse("https://example.invalid/api/v1/write").expect("url");
        let refused = get(&https, Duration::from_secs(1)).await;
        assert!(matches!(refused, Err(HttpError::BadUrl { .. })), "{refused:?}");
        let port = nats_process::free_port();
        let closed = Url::parse(&format!("http://127.0.0.1:{port}/")).expect("url");
        assert!(matches!(
            get(&closed, Duration::from_secs(5)).await,
            Err(HttpError::Io { .. })
        ));
    }
}
