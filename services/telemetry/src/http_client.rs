//! A small HTTP/1.1 client for remote-write POSTs and Prometheus API GETs: one request per connection
//! (`Connection: close`), a deadline on the whole exchange, `Content-Length` or chunked bodies, Basic
//! authentication from the URL's `user:password@`, and `https://` through rustls — trusting the system's roots, or
//! the CAs an [`HttpClient`] was given (a private Mimir or Prometheus).

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

/// Who an `https://` endpoint's certificate must come from.
#[derive(Clone, Debug)]
pub struct HttpClient {
    tls: Arc<rustls::ClientConfig>,
}

/// Why an [`HttpClient`] cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsSetupError {
    /// A CA file cannot be read or holds no certificate.
    #[error("CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl HttpClient {
    /// A client trusting the system's roots (those that load) and, if given, every certificate of the PEM file
    /// `extra_ca`.
    pub fn new(extra_ca: Option<&Path>) -> Result<Self, TlsSetupError> {
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        let system = rustls_native_certs::load_native_certs();
        for error in &system.errors {
            tracing::debug!(%error, "a system root certificate was not loaded");
        }
        roots.add_parsable_certificates(system.certs);
        if let Some(path) = extra_ca {
            let bad = |reason: String| TlsSetupError::CaFile {
                path: path.display().to_string(),
                reason,
            };
            let certs: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<_, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no PEM certificate in it".into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| bad(e.to_string()))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::CaFile {
                path: String::new(),
                reason: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self { tls: Arc::new(config) })
    }

    /// A client trusting the system's roots (the one [`get`] and [`post`] use).
    pub fn system() -> &'static HttpClient {
        static SYSTEM: OnceLock<HttpClient> = OnceLock::new();
        SYSTEM.get_or_init(|| {
            HttpClient::new(None).unwrap_or_else(|e| unreachable!("no CA file was named, so nothing to fail: {e}"))
        })
    }

    /// Sends `GET url`.
    pub async fn get(&self, url: &Url, timeout: Duration) -> Result<HttpResponse, HttpError> {
        exchange(self, url, "GET", &[], &[], timeout).await
    }

    /// Sends `GET url` with `headers` (a cookie, say).
    pub async fn get_with(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<HttpResponse, HttpError> {
        exchange(self, url, "GET", headers, &[], timeout).await
    }

    /// Sends `POST url` with `headers` and `body`.
    pub async fn post(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> Result<HttpResponse, HttpError> {
        exchange(self, url, "POST", headers, body, timeout).await
    }
}

/// A connection, plain or TLS.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

/// Responses larger than this are refused (a query answer or an error text is far smaller).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// An HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Body bytes (de-chunked).
    pub body: Vec<u8>,
    /// Every header, name and value, in the order received.
    pub headers: Vec<(String, String)>,
}

impl HttpResponse {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

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

/// Sends `GET url`, trusting the system's roots for `https://`.
pub async fn get(url: &Url, timeout: Duration) -> Result<HttpResponse, HttpError> {
    HttpClient::system().get(url, timeout).await
}

/// Sends `POST url` with `headers` and `body`, trusting the system's roots for `https://`.
pub async fn post(
    url: &Url,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<HttpResponse, HttpError> {
    HttpClient::system().post(url, headers, body, timeout).await
}

async fn exchange(
    client: &HttpClient,
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
    let tls = match url.scheme() {
        "http" => false,
        "https" => true,
        _ => return Err(bad("only http:// and https:// endpoints are supported")),
    };
    let host = url.host_str().ok_or_else(|| bad("no host"))?.to_string();
    let port = url.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
    // The name the certificate must carry: a DNS name or an IP address (without IPv6 brackets).
    let server_name = match url.host() {
        Some(url::Host::Ipv6(ip)) => rustls_pki_types::ServerName::IpAddress(std::net::IpAddr::V6(ip).into()),
        Some(url::Host::Ipv4(ip)) => rustls_pki_types::ServerName::IpAddress(std::net::IpAddr::V4(ip).into()),
        _ => rustls_pki_types::ServerName::try_from(host.clone()).map_err(|e| bad(&e.to_string()))?,
    };
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
    let connect_host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let work = async {
        let tcp = TcpStream::connect((connect_host.as_str(), port)).await.map_err(io)?;
        let mut stream: Box<dyn Connection> = if tls {
            let connector = tokio_rustls::TlsConnector::from(client.tls.clone());
            Box::new(connector.connect(server_name, tcp).await.map_err(|e| HttpError::Io {
                url: url.to_string(),
                reason: format!("TLS: {e}"),
            })?)
        } else {
            Box::new(tcp)
        };
        stream.write_all(head.as_bytes()).await.map_err(io)?;
        stream.write_all(body).await.map_err(io)?;
        stream.flush().await.map_err(io)?;
        let mut received = Vec::with_capacity(1024);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = match stream.read(&mut chunk).await {
                Ok(n) => n,
                // A TLS server that closes without close_notify (common) has still sent the whole response.
                Err(e) if tls && e.kind() == std::io::ErrorKind::UnexpectedEof && !received.is_empty() => 0,
                Err(e) => return Err(io(e)),
            };
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
    let headers = response
        .headers
        .iter()
        .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).trim().to_owned()))
        .collect();
    Ok(HttpResponse { status, body, headers })
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
    async fn other_schemes_and_unreachable_endpoints_say_so() {
        let ftp = Url::parse("ftp://tsdb.example/api/v1/write").expect("url");
        let refused = get(&ftp, Duration::from_secs(1)).await;
        assert!(matches!(refused, Err(HttpError::BadUrl { .. })), "{refused:?}");
        let port = nats_process::free_port();
        let closed = Url::parse(&format!("http://127.0.0.1:{port}/")).expect("url");
        assert!(matches!(
            get(&closed, Duration::from_secs(5)).await,
            Err(HttpError::Io { .. })
        ));
    }
}
