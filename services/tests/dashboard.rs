//! The hub's web dashboard in a real browser (headless Chromium through chromedriver): an operator and a viewer,
//! each signed in with a link from `edgefleet dashboard url`, on a fleet of two sites with a rollout.

mod common;

use common::browser::Driver;
use common::cli::{ok, rollout_args};
use common::security::{add_user, cli_as};
use common::store_fleet::{fleet_on_v1_with, publish};
use common::{eventually_with, test_dir};
use fantoccini::{Client, Locator};
use std::path::PathBuf;
use std::time::Duration;

/// A sign-in link for the user of `creds`.
fn sign_in_link(hub: &common::Hub, creds: &std::path::Path) -> String {
    let out = cli_as(hub, creds, &["dashboard", "url"]);
    assert!(
        out.status.success(),
        "dashboard url: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

async fn text(browser: &Client, css: &str) -> String {
    match browser.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits until the element at `css` reads `want` (the page may be swapped live meanwhile).
async fn reads(browser: &Client, css: &str, want: &str, within: Duration) {
    eventually_with(&format!("{css} reads {want:?}"), within, || async {
        let now = text(browser, css).await;
        (now == want).then_some(()).ok_or(now)
    })
    .await;
}

/// Clicks the element with id `id`, found again if the live view swapped it out between finding and clicking.
async fn click(browser: &Client, id: &str) {
    eventually_with(&format!("#{id} clicked"), Duration::from_secs(10), || async {
        let element = browser.find(Locator::Id(id)).await.map_err(|e| e.to_string())?;
        element.click().await.map_err(|e| e.to_string())
    })
    .await;
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

#[actix_rt::test]
async fn an_operator_pauses_a_rollout_a_viewer_is_refused_and_the_waves_move_live_in_a_real_browser() {
    let dir = test_dir();
    let [http] = testkit::free_port::free_ports::<1>();
    let base = format!("http://127.0.0.1:{http}");
    let hub_env = [("EDGEFLEET_HTTP_LISTEN", format!("127.0.0.1:{http}"))];
    // Given a fleet of two sites on profile @1, an operator and a viewer, each in their own browser,
    let (hub, _sites, _agents) = fleet_on_v1_with(dir.path(), &["d1", "d2"], &hub_env, &[]).await;
    publish(&hub, dir.path(), "2026.12", 2);
    let operator_creds = add_user(&hub, dir.path(), "olga", "operator");
    let viewer_creds = add_user(&hub, dir.path(), "vera", "viewer");
    let driver = Driver::start(dir.path()).await;
    let operator = driver.browser(&dir.path().join("olga-profile")).await;
    let viewer = driver.browser(&dir.path().join("vera-profile")).await;

    // a page asked for without signing in says how to sign in, and a link works once.
    viewer.goto(&format!("{base}/")).await.expect("the first screen");
    assert!(text(&viewer, "main").await.contains("edgefleet dashboard url"));
    let viewer_link = sign_in_link(&hub, &viewer_creds);
    viewer.goto(&viewer_link).await.expect("sign in");
    assert_eq!(text(&viewer, "h1").await, "What needs attention");
    assert!(text(&viewer, ".who").await.contains("vera (viewer)"));
    operator
        .goto(&sign_in_link(&hub, &operator_creds))
        .await
        .expect("sign in");
    assert!(text(&operator, ".who").await.contains("olga (operator)"));
    let again = driver.browser(&dir.path().join("third-profile")).await;
    again.goto(&viewer_link).await.expect("the used link");
    assert!(
        text(&again, "main").await.contains("already used"),
        "{}",
        text(&again, "main").await
    );
    again.close().await.expect("close");

    // When a rollout of two waves starts and the operator pauses it from its page,
    ok(&hub, &rollout_args("r1", "edge-stack@2", "1,100%"));
    operator
        .goto(&format!("{base}/rollouts/r1"))
        .await
        .expect("the rollout");
    click(&operator, "rollout-pause").await;
    // then it is paused, by the operator,
    reads(&operator, "#rollout-state", "paused: operator", Duration::from_secs(10)).await;

    // the viewer sees no buttons, and a pause sent anyway is refused,
    viewer.goto(&format!("{base}/rollouts/r1")).await.expect("the rollout");
    assert!(
        viewer.find(Locator::Id("rollout-pause")).await.is_err(),
        "a viewer has no buttons"
    );
    let refused = viewer
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/rollouts/r1/resume', { method: 'POST' }).then(r => r.text().then(t => done([r.status, t])));",
            vec![],
        )
        .await
        .expect("the viewer's post");
    assert_eq!(refused[0], 403, "{refused}");
    let policy = viewer
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/').then(r => done(r.headers.get('content-security-policy')));",
            vec![],
        )
        .await
        .expect("the page's headers");
    assert!(
        policy.as_str().unwrap_or("").contains("frame-ancestors 'none'"),
        "{policy}"
    );
    assert!(
        refused[1].as_str().unwrap_or("").contains("permission denied"),
        "{refused}"
    );

    // the viewer's first screen counts the paused rollout, and its link lists it,
    viewer.goto(&format!("{base}/")).await.expect("the first screen");
    let paused = viewer
        .find(Locator::Css("a[href='/rollouts?show=paused']"))
        .await
        .expect("the paused rollouts' count");
    assert_eq!(paused.attr("data-count").await.expect("attr").as_deref(), Some("1"));
    paused.click().await.expect("follow the count");
    assert!(viewer
        .current_url()
        .await
        .expect("url")
        .as_str()
        .ends_with("/rollouts?show=paused"));
    assert!(
        text(&viewer, "table").await.contains("r1"),
        "{}",
        text(&viewer, "table").await
    );
    std::fs::write(screenshots().join("first-screen.png"), {
        viewer.goto(&format!("{base}/")).await.expect("the first screen");
        viewer.screenshot().await.expect("a screenshot")
    })
    .expect("write the screenshot");

    // and once the operator resumes it, the second wave's counter moves on the open page, without a reload.
    click(&operator, "rollout-resume").await;
    reads(&operator, "#rollout-state", "running", Duration::from_secs(10)).await;
    operator
        .execute("window.edgefleetTestMarker = 'not reloaded'; return true;", vec![])
        .await
        .expect("mark the page");
    assert_eq!(text(&operator, "span.ready[data-wave='2']").await, "0/1");
    reads(&operator, "span.ready[data-wave='2']", "1/1", Duration::from_secs(180)).await;
    let marker = operator
        .execute("return window.edgefleetTestMarker || null;", vec![])
        .await
        .expect("read the mark");
    assert_eq!(marker, "not reloaded", "the counter changed without a reload");
    std::fs::write(
        screenshots().join("rollout.png"),
        operator.screenshot().await.expect("a screenshot"),
    )
    .expect("write the screenshot");
    // The rollout's history shows its state after any event: after the second, released and not yet paused.
    operator
        .goto(&format!("{base}/history?aggregate=rollout/r1&at=2"))
        .await
        .expect("the history page");
    let shown = text(&operator, "form.slider label").await;
    assert!(shown.starts_with("State after event 2 of "), "{shown}");
    let state = text(&operator, "pre.state").await;
    assert!(
        state.contains("state: running") && state.contains("released_waves: 1"),
        "{state}"
    );
    assert!(text(&operator, "ol.timeline").await.contains("RolloutPaused"));

    // A node's page draws its recent load, CPU and memory from the telemetry its site sent (every 15 s), live.
    operator
        .goto(&format!("{base}/nodes/d1/n1"))
        .await
        .expect("the node page");
    eventually_with(
        "n1's load sparkline has two samples",
        Duration::from_secs(90),
        || async {
            let points = match operator
                .find(Locator::Css("figure.sparkline[data-series='load1']"))
                .await
            {
                Ok(figure) => figure.attr("data-points").await.ok().flatten().unwrap_or_default(),
                Err(e) => return Err(e.to_string()),
            };
            (points.parse::<usize>().unwrap_or(0) >= 2).then_some(()).ok_or(points)
        },
    )
    .await;
    assert!(operator.find(Locator::Css("figure.sparkline polyline")).await.is_ok());
    std::fs::write(
        screenshots().join("node.png"),
        operator.screenshot().await.expect("a screenshot"),
    )
    .expect("write the screenshot");

    // At a phone's width the pages still fit: nothing wider than the screen but the tables' own scrolling.
    operator.set_window_size(390, 844).await.expect("a phone's width");
    for page in ["/", "/nodes", "/sites", "/nodes/d1/n1", "/rollouts/r1"] {
        operator.goto(&format!("{base}{page}")).await.expect("a page");
        let fits = operator
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth;",
                vec![],
            )
            .await
            .expect("measure the page");
        assert_eq!(fits, true, "{page} is wider than a phone");
    }
    std::fs::write(
        screenshots().join("rollout-phone.png"),
        operator.screenshot().await.expect("a screenshot"),
    )
    .expect("write the screenshot");
    println!("screenshots in {}", screenshots().display());

    // The keyboard reaches the page: the first Tab lands on the skip link, the next on the first section.
    viewer.goto(&format!("{base}/")).await.expect("the first screen");
    let tab = |browser: &Client| {
        let browser = browser.clone();
        async move {
            let body = browser.find(Locator::Css("body")).await.expect("the body");
            body.send_keys("\u{E004}").await.expect("Tab");
            browser
                .execute("return document.activeElement.textContent;", vec![])
                .await
                .expect("the focused element")
        }
    };
    viewer
        .execute("document.activeElement.blur(); return true;", vec![])
        .await
        .expect("blur");
    assert_eq!(tab(&viewer).await, "Skip to content");

    // And once the viewer's credential is revoked, the session it signed in with ends at the next page.
    ok(&hub, &["users", "revoke", "vera"]);
    viewer.goto(&format!("{base}/")).await.expect("the first screen");
    assert!(
        text(&viewer, "main").await.contains("revoked or replaced"),
        "{}",
        text(&viewer, "main").await
    );
    operator.close().await.expect("close");
    viewer.close().await.expect("close");
}

#[actix_rt::test]
async fn beyond_loopback_the_dashboard_needs_tls_and_then_serves_the_fleet_cas_certificate_and_a_secure_cookie() {
    let dir = test_dir();
    // Given a hub asked to serve the dashboard on every address without TLS, it refuses to start and says why;
    let [plain] = testkit::free_port::free_ports::<1>();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(common::Hub::args(&dir.path().join("refused"), plain, plain + 1))
        .args(["--http-listen", &format!("0.0.0.0:{plain}")])
        .output()
        .expect("edgefleet runs");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("needs --http-tls"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // when it is asked with --http-tls,
    let [https] = testkit::free_port::free_ports::<1>();
    let hub = common::Hub::start_with_args(
        dir.path(),
        &dir.path().join("hub"),
        &[],
        vec![
            "--http-listen".into(),
            format!("0.0.0.0:{https}"),
            "--http-tls".into(),
            "--tls-name".into(),
            "127.0.0.1".into(),
        ],
    )
    .await;
    // then its sign-in links are https on the name its certificate covers,
    let link = String::from_utf8_lossy(&common::cli::run(&hub, &["dashboard", "url"]).stdout)
        .trim()
        .to_owned();
    let prefix = format!("https://127.0.0.1:{https}/sign-in?token=");
    assert!(link.starts_with(&prefix), "{link} starts with {prefix}");
    // its certificate is the fleet CA's, and the session cookie is Secure,
    let http = telemetry::HttpClient::new(Some(&hub.ca())).expect("a client trusting the fleet CA");
    let url = url::Url::parse(&link).expect("a URL");
    let signed_in = http
        .get(&url, Duration::from_secs(10))
        .await
        .expect("signed in over TLS");
    assert_eq!(signed_in.status, 303, "{signed_in:?}");
    let cookie = signed_in
        .header("set-cookie")
        .unwrap_or_else(|| panic!("a session cookie in {signed_in:?}"));
    assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{cookie}");
    let session = cookie.split(';').next().expect("name=value");
    let first_screen = url.join("/").expect("the first screen's address");
    let page = http
        .get_with(&first_screen, &[("Cookie", session)], Duration::from_secs(10))
        .await
        .expect("the first screen over TLS");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("What needs attention"), "{}", page.text());
    // and plain HTTP on that port gets no page.
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", https))
        .await
        .expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), tcp.read_to_end(&mut answer)).await;
    assert!(!String::from_utf8_lossy(&answer).contains("HTTP/1.1 200"));
}
