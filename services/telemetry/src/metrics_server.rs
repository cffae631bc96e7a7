//! `/metrics` for Prometheus to scrape (`--metrics-listen ADDR`): one GET per connection, answered with the text
//! the process renders at that moment. With a token (`--metrics-token-file`), only `Authorization: Bearer <token>`
//! is answered (Prometheus: `authorization: { credentials_file: … }`). Beyond a loopback address the listener needs
//! both the token and TLS ([`MetricsListener::with_tls`], the process's own server certificate), so neither the
//! metrics nor the token cross the network in the clear.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// The largest request head read.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Why `/metrics` could not be served.
#[derive(Debug, thiserror::Error)]
pub enum MetricsServerError {
    /// The address does not parse.
    #[error("--metrics-listen {0:?}: not HOST:PORT ({1})")]
    BadAddress(String, String),
    /// Not loopback, and no token or no TLS.
    #[error(
        "--metrics-listen {0}: serving metrics beyond this machine needs a bearer token (--metrics-token-file FILE) \
         and TLS (--metrics-tls); without them, listen on 127.0.0.1"
    )]
    Unauthenticated(SocketAddr),
    /// The certificate or key cannot be used.
    #[error("metrics TLS: {0}")]
    Tls(String),
    /// The port could not be bound.
    #[error("--metrics-listen {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}

/// A bound `/metrics` listener.
pub struct MetricsListener {
    listener: TcpListener,
    token: Option<String>,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

/// A connection, plain or TLS.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

impl MetricsListener {
    /// Binds `addr` (`HOST:PORT`), refusing a non-loopback address without a `token` or without `tls_follows`
    /// (the caller's promise to add TLS with [`MetricsListener::with_tls`] before serving).
    pub async fn bind(addr: &str, token: Option<String>, tls_follows: bool) -> Result<Self, MetricsServerError> {
        let parsed: SocketAddr = addr
            .parse()
            .map_err(|e: std::net::AddrParseError| MetricsServerError::BadAddress(addr.to_string(), e.to_string()))?;
        if (token.is_none() || !tls_follows) && !parsed.ip().is_loopback() {
            return Err(MetricsServerError::Unauthenticated(parsed));
        }
        let listener = TcpListener::bind(parsed)
            .await
            .map_err(|e| MetricsServerError::Bind(parsed, e))?;
        Ok(Self {
            listener,
            token,
            tls: None,
        })
    }

    /// Serves HTTPS with the certificate chain at `cert` and the private key at `key` (PEM).
    pub fn with_tls(mut self, cert: &Path, key: &Path) -> Result<Self, MetricsServerError> {
        self.tls = Some(tls_acceptor(cert, key)?);
        Ok(self)
    }

    /// `https` once TLS was added, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Where it listens.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Answers scrapes with `render()` until aborted, one connection at a time.
    pub async fn serve<F, Fut>(self, render: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = String>,
    {
        loop {
            let (stream, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let stream: Box<dyn Connection> = match &self.tls {
                None => Box::new(stream),
                Some(acceptor) => match tokio::time::timeout(READ_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => Box::new(tls),
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "metrics TLS handshake failed");
                        continue;
                    }
                    Err(_) => continue,
                },
            };
            if let Err(e) = self.answer(stream, &render).await {
                tracing::debug!(%peer, error = %e, "metrics request not answered");
            }
        }
    }

    async fn answer<F, Fut>(&self, mut stream: Box<dyn Connection>, render: &F) -> std::io::Result<()>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = String>,
    {
        let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
            Ok(head) => head?,
            Err(_) => return Ok(()),
        };
        let (status, body) = match check(&head, self.token.as_deref()) {
            Ok(()) => (200, render().await),
            Err((status, why)) => (status, format!("{why}\n")),
        };
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            _ => "Method Not Allowed",
        };
        let mut response = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        if status == 401 {
            response.push_str("WWW-Authenticate: Bearer\r\n");
        }
        response.push_str("\r\n");
        stream.write_all(response.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    }
}

async fn read_head(stream: &mut Box<dyn Connection>) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    Ok(head)
}

/// Whether a request head may be answered with the metrics: `Err((status, why))` if not.
fn check(head: &[u8], token: Option<&str>) -> Result<(), (u16, &'static str)> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err((400, "malformed request")),
    }
    if request.method != Some("GET") {
        return Err((405, "only GET"));
    }
    let path = request.path.unwrap_or_default();
    if path.split('?').next() != Some("/metrics") {
        return Err((404, "only /metrics is served here"));
    }
    if let Some(token) = token {
        let presented = request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("authorization"))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !same(presented.trim().as_bytes(), token.as_bytes()) {
            return Err((401, "a bearer token is required"));
        }
    }
    Ok(())
}

/// Equal, in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_client;
    use url::Url;

    #[test]
    fn requests_are_checked_for_method_path_and_token() {
        let get = |auth: &str| format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{auth}\r\n");
        assert_eq!(check(get("").as_bytes(), None), Ok(()));
        assert_eq!(check(get("").as_bytes(), Some("s3cret")).map_err(|e| e.0), Err(401));
        assert_eq!(
            check(get("Authorization: Bearer wrong\r\n").as_bytes(), Some("s3cret")).map_err(|e| e.0),
            Err(401)
        );
        assert_eq!(
            check(get("Authorization: Bearer s3cret\r\n").as_bytes(), Some("s3cret")),
            Ok(())
        );
        assert_eq!(
            check(b"POST /metrics HTTP/1.1\r\n\r\n", None).map_err(|e| e.0),
            Err(405)
        );
        assert_eq!(check(b"GET /other HTTP/1.1\r\n\r\n", None).map_err(|e| e.0), Err(404));
        assert_eq!(check(b"\x00\x01garbage\r\n\r\n", None).map_err(|e| e.0), Err(400));
    }

    #[tokio::test]
    async fn a_wide_listen_without_a_token_is_refused() {
        assert!(matches!(
            MetricsListener::bind("0.0.0.0:0", None, true).await,
            Err(MetricsServerError::Unauthenticated(_))
        ));
        assert!(matches!(
            MetricsListener::bind("0.0.0.0:0", Some("s3cret".into()), false).await,
            Err(MetricsServerError::Unauthenticated(_))
        ));
        assert!(matches!(
            MetricsListener::bind("nonsense", None, false).await,
            Err(MetricsServerError::BadAddress(..))
        ));
    }

    #[tokio::test]
    async fn a_scrape_gets_what_is_rendered_then() {
        let listener = MetricsListener::bind("127.0.0.1:0", None, false).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let served = tokio::spawn(listener.serve(|| async { "edgefleet_up 1\n".to_string() }));
        let url = Url::parse(&format!("http://{addr}/metrics")).expect("url");
        let response = http_client::get(&url, Duration::from_secs(5)).await.expect("scrape");
        assert_eq!(
            (response.status, response.text()),
            (200, "edgefleet_up 1\n".to_string())
        );
        served.abort();
    }

    #[tokio::test]
    async fn with_tls_a_scrape_is_answered_over_https_to_a_client_trusting_the_ca() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = fleet_trust::FleetCa::open_or_create(&dir.path().join("ca")).expect("CA");
        let issued = ca
            .issue_server_pem(&fleet_trust::ServerNames::localhost())
            .expect("cert");
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        issued.write(&cert, &key).expect("written");
        let listener = MetricsListener::bind("127.0.0.1:0", None, true)
            .await
            .expect("bind")
            .with_tls(&cert, &key)
            .expect("TLS");
        assert_eq!(listener.scheme(), "https");
        let addr = listener.local_addr().expect("addr");
        let served = tokio::spawn(listener.serve(|| async { "edgefleet_up 1\n".to_string() }));
        let url = Url::parse(&format!("https://{addr}/metrics")).expect("url");
        let trusting = http_client::HttpClient::new(Some(ca.cert_path())).expect("client");
        let response = trusting.get(&url, Duration::from_secs(5)).await.expect("scrape");
        assert_eq!(
            (response.status, response.text()),
            (200, "edgefleet_up 1\n".to_string())
        );
        let plain = Url::parse(&format!("http://{addr}/metrics")).expect("url");
        assert!(
            http_client::get(&plain, Duration::from_secs(5)).await.is_err(),
            "no plain HTTP"
        );
        let stranger = http_client::HttpClient::new(None).expect("system roots");
        assert!(
            stranger.get(&url, Duration::from_secs(5)).await.is_err(),
            "an untrusted certificate"
        );
        served.abort();
    }
}

/// A TLS acceptor serving the certificate chain at `cert` with the private key at `key` (PEM), TLS 1.2 and 1.3.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, MetricsServerError> {
    use rustls_pki_types::pem::PemObject;
    let failed = |what: &Path, e: &dyn std::fmt::Display| MetricsServerError::Tls(format!("{}: {e}", what.display()));
    let chain = rustls_pki_types::CertificateDer::pem_file_iter(cert)
        .map_err(|e| failed(cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| failed(cert, &e))?;
    let private_key = rustls_pki_types::PrivateKeyDer::from_pem_file(key).map_err(|e| failed(key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| failed(cert, &e))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| failed(cert, &e))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
