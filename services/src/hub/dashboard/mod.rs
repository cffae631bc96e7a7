//! The web dashboard, served by the hub itself (`edgefleet hub --http-listen ADDR`): server-rendered pages (maud),
//! the stylesheet and one small script embedded in the binary, live updates over Server-Sent Events — one stream per
//! tab. Every page reads, and every button acts, through the hub API as the signed-in user ([`api_bridge`]); a
//! sign-in link comes from `edgefleet dashboard url` ([`passes`]). Plain HTTP only on loopback; anywhere else it
//! serves HTTPS with the hub's own certificate (`--http-tls`) and its session cookie is `Secure`.

pub mod api_bridge;
pub mod attention;
pub mod live;
pub mod pages;
pub mod passes;
mod render;
pub mod view;

#[cfg(test)]
mod page_tests;

use api_bridge::{ApiBridge, SignedIn};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use passes::{Pass, PassKind, Passes};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use view::{View, ViewError};

/// The session cookie's name.
const COOKIE: &str = "ef_session";

/// What every handler shares.
#[derive(Clone)]
pub struct Dashboard {
    /// The API, as a signed-in user.
    pub bridge: ApiBridge,
    /// Signs and checks links and sessions.
    pub passes: Arc<Passes>,
    /// Wakes live streams when the hub's projection changes.
    pub changes: tokio::sync::watch::Receiver<u64>,
    /// Served over HTTPS (the session cookie is then `Secure`).
    pub secure: bool,
}

/// `--http-listen`: binds `addr`; plain HTTP (`tls` false) only on a loopback address.
pub async fn bind(addr: &str, tls: bool) -> anyhow::Result<tokio::net::TcpListener> {
    let parsed: SocketAddr = addr
        .parse()
        .map_err(|e| anyhow::anyhow!("--http-listen {addr:?}: expected IP:PORT ({e})"))?;
    anyhow::ensure!(
        tls || parsed.ip().is_loopback(),
        "--http-listen {addr}: beyond loopback the dashboard needs --http-tls (its session cookie must not cross a \
         network in the clear)"
    );
    tokio::net::TcpListener::bind(parsed)
        .await
        .map_err(|e| anyhow::anyhow!("--http-listen {addr}: {e}"))
}

/// The address sign-in links point at: the bound address, or for an unspecified one (`0.0.0.0`) the first name
/// the hub's certificate covers.
pub fn base_url(bound: SocketAddr, tls: bool, tls_names: &[String]) -> String {
    let scheme = if tls { "https" } else { "http" };
    let host = match (bound.ip().is_unspecified(), tls_names.first()) {
        (true, Some(name)) => name.clone(),
        (true, None) => "127.0.0.1".to_owned(),
        (false, _) => bound.ip().to_string(),
    };
    let host = if host.contains(':') { format!("[{host}]") } else { host };
    format!("{scheme}://{host}:{}", bound.port())
}

fn router(dashboard: Dashboard) -> Router {
    Router::new()
        .route("/sign-in", get(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/assets/dashboard.css", get(stylesheet))
        .route("/assets/live.js", get(script))
        .route("/live", get(live::stream))
        .route("/rollouts/{id}/{verb}", post(rollout_command))
        .fallback(get(page))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(dashboard)
}

/// Serves the dashboard on `listener` (over TLS with `tls`) until the task is aborted.
pub async fn serve(listener: tokio::net::TcpListener, dashboard: Dashboard, tls: Option<tokio_rustls::TlsAcceptor>) {
    let app = router(dashboard);
    let Some(acceptor) = tls else {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the dashboard stopped serving");
        }
        return;
    };
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "the dashboard could not accept a connection");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(TLS_HANDSHAKE, acceptor.accept(tcp)).await;
            let stream = match handshake {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "dashboard TLS handshake refused"),
                Err(_) => return tracing::debug!(%peer, "dashboard TLS handshake timed out"),
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "dashboard connection ended");
            }
        });
    }
}

/// How long a client has to finish its TLS handshake.
const TLS_HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(10);

/// On every answer: nothing but this origin's own stylesheet, script and forms; not framed; a referrer only to
/// this origin (a sign-in link's token never leaves in one; `no-referrer` would make a form's `Origin` "null");
/// pages not cached (they show a user's view of a moving fleet).
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response
}

fn now_s() -> u64 {
    actors::process_clock::system_wall_ms() / 1000
}

/// A refusal or failure as a page with its status.
pub(crate) fn refusal(code: u16, title: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, pages::layout::plain(title, message)).into_response()
}

fn api_refusal(e: &crate::api_types::ApiError) -> Response {
    let title = match e.code {
        401 => "Sign in again",
        403 => "Not permitted",
        404 => "Not found",
        400 => "Bad request",
        _ => "The hub could not answer",
    };
    refusal(e.code, title, &e.message)
}

/// The session of a request and its user, or the page that says to sign in.
pub(crate) async fn signed_in(dashboard: &Dashboard, headers: &HeaderMap) -> Result<(Pass, SignedIn), Response> {
    let not_signed_in = |why: &str| {
        refusal(
            401,
            "Sign in",
            &format!("{why}. Get a sign-in link with `edgefleet dashboard url` and open it here."),
        )
    };
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| not_signed_in("You are not signed in"))?;
    let pass = dashboard
        .passes
        .verify(&cookie, PassKind::Session, now_s())
        .map_err(|e| not_signed_in(&format!("Your session is not valid: {e}")))?;
    let who = dashboard.bridge.whoami(&pass).await.map_err(|e| api_refusal(&e))?;
    Ok((pass, who))
}

async fn sign_in(State(dashboard): State<Dashboard>, Query(query): Query<BTreeMap<String, String>>) -> Response {
    let Some(token) = query.get("token") else {
        return refusal(
            400,
            "Sign in",
            "This address needs ?token=… from `edgefleet dashboard url`.",
        );
    };
    let session = match dashboard.passes.trade_link(token, now_s()) {
        Ok(session) => session,
        Err(e) => return refusal(401, "Sign in", &format!("{e}")),
    };
    if let Err(e) = dashboard.bridge.whoami(&session).await {
        return api_refusal(&e);
    }
    let cookie = format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        dashboard.passes.sign(&session),
        passes::SESSION_TTL.as_secs(),
        if dashboard.secure { "; Secure" } else { "" }
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

async fn sign_out() -> Response {
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        [(header::SET_COOKIE, cookie)],
        pages::layout::plain("Signed out", "You are signed out of this dashboard."),
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/dashboard.css"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/live.js"),
    )
        .into_response()
}

/// The view at `path` with `query`, or the page that says why there is none.
pub(crate) fn view_at(path: &str, query: &BTreeMap<String, String>) -> Result<View, Response> {
    View::parse(path, query).map_err(|e| match e {
        ViewError::NotFound(_) => refusal(404, "Not found", &e.to_string()),
        ViewError::BadQuery(_) => refusal(400, "Bad request", &e.to_string()),
    })
}

async fn page(
    State(dashboard): State<Dashboard>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let view = match view_at(uri.path(), &query) {
        Ok(view) => view,
        Err(refused) => return refused,
    };
    let (pass, who) = match signed_in(&dashboard, &headers).await {
        Ok(signed_in) => signed_in,
        Err(refused) => return refused,
    };
    let renderer = render::Renderer {
        bridge: &dashboard.bridge,
        pass: &pass,
        who: &who,
    };
    match renderer.view(&view).await {
        Ok(content) => {
            let live_path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            pages::layout::page(&view.title(), &who, live_path, content).into_response()
        }
        Err(e) => api_refusal(&e),
    }
}

/// Pause, resume or abort a rollout (operators): a form post from the rollout's page, refused unless it came from
/// this dashboard's own pages (the session cookie is `SameSite=Strict`, and a cross-site `Origin` is refused).
async fn rollout_command(
    State(dashboard): State<Dashboard>,
    Path((id, verb)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let endpoint = match verb.as_str() {
        "pause" => "rollouts.pause",
        "resume" => "rollouts.resume",
        "abort" => "rollouts.abort",
        _ => return refusal(404, "Not found", &format!("a rollout cannot {verb}")),
    };
    if let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        let same = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .is_some_and(|(_, o)| Some(o) == host.to_str().ok());
        if !same {
            return refusal(
                403,
                "Not permitted",
                "this action must come from the dashboard's own page",
            );
        }
    }
    let (pass, _) = match signed_in(&dashboard, &headers).await {
        Ok(signed_in) => signed_in,
        Err(refused) => return refused,
    };
    let done: Result<serde_json::Value, _> = dashboard
        .bridge
        .call(&pass, endpoint, serde_json::json!({ "id": id }))
        .await;
    match done {
        Ok(_) => Redirect::to(&format!("/rollouts/{id}")).into_response(),
        Err(e) => api_refusal(&e),
    }
}
