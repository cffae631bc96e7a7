//! The page around every view: navigation, who is signed in, the stylesheet and the one script (both embedded in
//! the binary). The view itself sits in `<main data-live>`: the script opens one Server-Sent Events stream for the
//! tab and swaps the view in place when the fleet changes. Without JavaScript the page is complete as served.

use crate::hub::dashboard::api_bridge::SignedIn;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// The sections in the navigation: (href, label).
const SECTIONS: [(&str, &str); 6] = [
    ("/", "Attention"),
    ("/sites", "Sites"),
    ("/nodes", "Nodes"),
    ("/clusters", "Clusters"),
    ("/rollouts", "Rollouts"),
    ("/quarantine", "Quarantine"),
];

/// A whole page: `title`, for `who`, showing `view` (the live part), which the tab keeps current by following
/// `live_path` (the page's own path and query).
pub fn page(title: &str, who: &SignedIn, live_path: &str, view: Markup) -> Markup {
    let shown = crate::hub::dashboard::live::digest(&view.0);
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, true))
            body {
                a.skip href="#view" { "Skip to content" }
                header {
                    nav aria-label="Sections" {
                        ul {
                            @for (href, label) in SECTIONS {
                                li { a href=(href) { (label) } }
                            }
                        }
                    }
                    div.who {
                        "Signed in as " strong { (who.caller.name) } " (" (who.caller.role) ") "
                        form.inline method="post" action="/sign-out" {
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main id="view" data-live=(live_path) data-shown=(shown) tabindex="-1" {
                    (view)
                }
                p.status role="status" id="live-status" { "" }
            }
        }
    }
}

/// The `<head>`: the page's title, the stylesheet and, if `live`, the script.
fn head(title: &str, live: bool) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · edgefleet" }
            link rel="stylesheet" href="/assets/dashboard.css";
            @if live { script src="/assets/live.js" defer {} }
        }
    }
}

/// A page for someone not signed in, or a refusal.
pub fn plain(title: &str, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, false))
            body {
                main id="view" {
                    h1 { (title) }
                    p.message role="alert" { (message) }
                    p { a href="/" { "Back to the first screen" } }
                }
            }
        }
    }
}

/// A table with a caption, headers and rows; an empty table says so.
pub fn table(caption: &str, headers: &[&str], rows: Vec<Markup>) -> Markup {
    html! {
        div.scroll {
            table {
                caption { (caption) }
                thead { tr { @for h in headers { th scope="col" { (h) } } } }
                tbody {
                    @if rows.is_empty() {
                        tr { td colspan=(headers.len()) { "None." } }
                    }
                    @for row in rows { (row) }
                }
            }
        }
    }
}

/// `text`, or a dash for nothing.
pub fn or_dash(text: Option<impl std::fmt::Display>) -> Markup {
    match text {
        Some(text) => html! { (text) },
        None => PreEscaped("—".to_owned()),
    }
}
