//! Rollouts: the list with each wave's ready count, and one rollout's waves, failure budget, the explanation of every
//! step and pause, and — for operators — pause, resume and abort.

use super::layout::{or_dash, table};
use crate::api_types::views::{ClusterProgress, RolloutView};
use crate::hub::dashboard::attention::{name_of, RolloutFilter};
use actors::rollout::explain::RolloutExplanation;
use maud::{html, Markup};

/// Clusters of `wave` done (updated) over all of them.
pub fn ready(wave: &[ClusterProgress]) -> (usize, usize) {
    (wave.iter().filter(|c| c.status == "updated").count(), wave.len())
}

fn waves_summary(rollout: &RolloutView) -> Markup {
    html! {
        @for (index, wave) in rollout.waves.iter().enumerate() {
            @let (done, all) = ready(wave);
            span.wave data-wave=(index + 1) data-ready=(done) data-total=(all) {
                "wave " (index + 1) ": " (done) "/" (all)
            }
            " "
        }
    }
}

/// The rollouts list.
pub fn rollouts(rollouts: &[RolloutView], filter: RolloutFilter) -> Markup {
    let rows = rollouts
        .iter()
        .filter(|r| filter.keeps(r))
        .map(|r| {
            html! {
                tr {
                    th scope="row" { a href=(format!("/rollouts/{}", r.id)) { (r.id) } }
                    td { (or_dash(r.profile.as_ref())) }
                    td { (r.state) }
                    td { (waves_summary(r)) }
                    td { (r.failures) " of " (r.failure_budget) }
                }
            }
        })
        .collect();
    html! {
        h1 { "Rollouts" }
        nav.filters aria-label="Filters" {
            @for (f, name) in RolloutFilter::NAMES {
                @if f == filter { strong aria-current="page" { (name) } } @else { a href=(format!("/rollouts?show={name}")) { (name) } }
                " "
            }
        }
        (table(
            &format!("Rollouts: {}", name_of(&RolloutFilter::NAMES, filter)),
            &["Rollout", "Profile", "State", "Ready per wave", "Failures (budget)"],
            rows,
        ))
    }
}

/// What an operator may do to `rollout` now: (verb, label).
pub fn actions(rollout: &RolloutView) -> Vec<(&'static str, &'static str)> {
    match rollout.state.as_str() {
        "complete" | "aborted" => vec![],
        "running" => vec![("pause", "Pause"), ("abort", "Abort")],
        _ => vec![("resume", "Resume"), ("abort", "Abort")],
    }
}

/// One rollout; `may_act` shows the operator's buttons.
pub fn rollout(rollout: &RolloutView, explanation: &RolloutExplanation, may_act: bool) -> Markup {
    html! {
        h1 { "Rollout " (rollout.id) }
        dl.facts {
            dt { "Profile" } dd { (or_dash(rollout.profile.as_ref())) }
            dt { "State" } dd id="rollout-state" { (rollout.state) }
            dt { "Failure budget used" } dd { (rollout.failures) " of " (rollout.failure_budget) }
            dt { "Waves released" } dd { (rollout.released_waves) " of " (rollout.waves.len()) }
            @if let Some(window) = &rollout.window { dt { "Window" } dd { (window) } }
            @if let Some(gate) = &rollout.gate { dt { "Gate" } dd { (gate) } }
        }
        @if may_act && !actions(rollout).is_empty() {
            div.actions {
                @for (verb, label) in actions(rollout) {
                    form.inline method="post" action=(format!("/rollouts/{}/{verb}", rollout.id)) {
                        button type="submit" id=(format!("rollout-{verb}")) { (label) }
                    }
                }
            }
        }
        @for (index, wave) in rollout.waves.iter().enumerate() {
            @let (done, all) = ready(wave);
            section.wave-detail aria-labelledby=(format!("wave-{}", index + 1)) {
                h2 id=(format!("wave-{}", index + 1)) {
                    "Wave " (index + 1) ": "
                    span.ready data-wave=(index + 1) { (done) "/" (all) } " ready"
                    @if index >= rollout.released_waves { " (not released)" }
                }
                ul { @for c in wave { li { (c.cluster) ": " (c.status) } } }
            }
        }
        h2 { "Why it is where it is" }
        ul.now { @for line in &explanation.now { li { (line) } } }
        h2 { "Every step" }
        ol.steps {
            @for step in &explanation.steps {
                li { time { (crate::output::rfc3339_ms(step.at_unix_ms)) } " " (step.text) }
            }
        }
        p { a href=(format!("/history?aggregate=rollout/{}", rollout.id)) { "History, event by event" } }
    }
}
