//! Any aggregate's history as a timeline, with a slider that shows its state after each event — `edgefleet history`
//! and `edgefleet get --at N` on one page. The state is replayed from the events the API handed out, through the
//! same view the API answers with.

use crate::commands::history::view_of;
use crate::output::rfc3339_ms;
use maud::{html, Markup};
use replay::{At, HistoryEntry};

/// The timeline of `aggregate` (its every event, `entries`) with the state after event `at` (1-based; the last if
/// `None`).
pub fn history(aggregate: &events::AggregateRef, entries: &[HistoryEntry], at: Option<usize>) -> Markup {
    let total = entries.len();
    let at = at.unwrap_or(total).clamp(1, total.max(1));
    let state = replay::state_at(aggregate, entries, At::Seq(at));
    let shown = serde_norway::to_string(&view_of(aggregate, &state))
        .unwrap_or_else(|e| format!("the state could not be shown: {e}"));
    html! {
        h1 { "History of " (aggregate) }
        @if entries.is_empty() {
            p { "No events." }
        } @else {
            form.slider method="get" action="/history" {
                input type="hidden" name="aggregate" value=(aggregate);
                label for="at" { "State after event " output id="at-shown" for="at" { (at) } " of " (total) }
                input type="range" id="at" name="at" min="1" max=(total) value=(at) data-autosubmit;
                button type="submit" { "Show" }
            }
            @if let Some(entry) = entries.get(at - 1) {
                p.event-at {
                    "Event " (entry.number) ": " strong { (entry.recorded.envelope.payload.name()) }
                    " at " time { (rfc3339_ms(entry.recorded.envelope.hlc.physical_ms)) }
                    @if let Some(by) = &entry.recorded.envelope.by { " by " (by) }
                    " (" (entry.recorded.envelope.origin) ")"
                }
            }
            pre.state aria-label="State" { (shown) }
            h2 { "Timeline" }
            ol.timeline {
                @for entry in entries {
                    li class=(if entry.number == at { "current" } else { "" }) value=(entry.number) {
                        a href=(format!("/history?aggregate={aggregate}&at={}", entry.number)) {
                            time { (rfc3339_ms(entry.recorded.envelope.hlc.physical_ms)) } " "
                            (entry.recorded.envelope.payload.name())
                        }
                        @if let Some(by) = &entry.recorded.envelope.by { " by " (by) }
                    }
                }
            }
        }
    }
}
