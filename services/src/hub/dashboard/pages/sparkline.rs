//! A sparkline: one series drawn as an inline SVG line on the server (no script, no library), with its last, least
//! and greatest values in text and in the image's accessible name.

use maud::{html, Markup};
use telemetry::recent_series::RecentSeries;

const WIDTH: f64 = 240.0;
const HEIGHT: f64 = 40.0;

/// The `points` attribute of a polyline drawing `points` in a WIDTH×HEIGHT box (time across, value up; a flat
/// series sits in the middle).
pub fn polyline(points: &[(i64, f64)]) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return String::new();
    };
    let (low, high) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| {
            (lo.min(*v), hi.max(*v))
        });
    let span_t = (last.0 - first.0).max(1) as f64;
    let span_v = high - low;
    points
        .iter()
        .map(|(t, v)| {
            let x = (t - first.0) as f64 / span_t * WIDTH;
            let y = if span_v > 0.0 {
                HEIGHT - (v - low) / span_v * HEIGHT
            } else {
                HEIGHT / 2.0
            };
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn shown(value: f64, unit: &str) -> String {
    format!("{value:.2}{unit}")
}

/// `series` as a labelled sparkline, or a line saying there are no samples.
pub fn sparkline(series: &RecentSeries, minutes: u32) -> Markup {
    let values: Vec<f64> = series.points.iter().map(|(_, v)| *v).collect();
    let summary = match values.last() {
        None => format!("{}: no samples in the last {minutes} min", series.name),
        Some(last) => format!(
            "{}: now {}, between {} and {} over the last {minutes} min ({} sample{})",
            series.name,
            shown(*last, &series.unit),
            shown(values.iter().copied().fold(f64::INFINITY, f64::min), &series.unit),
            shown(values.iter().copied().fold(f64::NEG_INFINITY, f64::max), &series.unit),
            values.len(),
            if values.len() == 1 { "" } else { "s" }
        ),
    };
    html! {
        figure.sparkline data-series=(series.name) data-points=(values.len()) {
            @if values.len() > 1 {
                svg viewBox=(format!("-2 -2 {} {}", WIDTH + 4.0, HEIGHT + 4.0)) width=(WIDTH) height=(HEIGHT)
                    role="img" aria-label=(summary) {
                    polyline points=(polyline(&series.points)) fill="none" stroke="currentColor" stroke-width="1.5" {}
                }
            }
            figcaption { (summary) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rising_series_goes_from_the_bottom_left_to_the_top_right_and_a_flat_one_sits_in_the_middle() {
        assert_eq!(
            polyline(&[(0, 1.0), (5, 2.0), (10, 3.0)]),
            "0.0,40.0 120.0,20.0 240.0,0.0"
        );
        assert_eq!(polyline(&[(0, 7.0), (10, 7.0)]), "0.0,20.0 240.0,20.0");
        assert_eq!(polyline(&[]), "");
    }
}
