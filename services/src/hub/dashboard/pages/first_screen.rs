//! The first screen: what needs attention, each count a link to its filtered list; then the fleet's totals.

use crate::hub::dashboard::attention::Attention;
use maud::{html, Markup};

/// The first screen's view.
pub fn first_screen(attention: &Attention) -> Markup {
    html! {
        h1 { "What needs attention" }
        ul.attention {
            @for line in &attention.lines {
                li class=(if line.count > 0 { "attention-line attention-some" } else { "attention-line" }) {
                    a href=(line.href) data-count=(line.count) {
                        span.count { (line.count) } " " (line.what)
                    }
                    @if let Some(detail) = &line.detail {
                        " " span.detail { "(" (detail) ")" }
                    }
                }
            }
        }
        h2 { "Fleet" }
        ul.totals {
            @for (what, count, href) in &attention.totals {
                li { a href=(href) { span.count { (count) } " " (what) } }
            }
        }
    }
}
