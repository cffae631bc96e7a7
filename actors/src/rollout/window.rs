//! Maintenance windows: when a site may start an update, in site-local time (`Sat 02:00-05:00`).
//!
//! Pure parsing and arithmetic; the caller turns its clock and the site's time zone into a weekday and a minute of
//! the day.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Minutes in a day; a minute of the day is below this.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// Every day, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// The three-letter name (`Sat`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Weekday::Mon => "Mon",
            Weekday::Tue => "Tue",
            Weekday::Wed => "Wed",
            Weekday::Thu => "Thu",
            Weekday::Fri => "Fri",
            Weekday::Sat => "Sat",
            Weekday::Sun => "Sun",
        }
    }

    /// Parses a three-letter name, any case.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str().eq_ignore_ascii_case(s))
    }

    /// The day before (Sunday before Monday).
    pub fn previous(self) -> Self {
        let index = Self::ALL.iter().position(|d| *d == self).unwrap_or(0);
        Self::ALL[(index + 6) % 7]
    }
}

/// A weekly maintenance window: on `days`, from `start_minute` (inclusive) to `end_minute` (exclusive), in
/// site-local minutes of the day. An end at or before the start runs past midnight into the next day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    /// Days the window opens on.
    pub days: BTreeSet<Weekday>,
    /// Minute of the day it opens (0..1440).
    pub start_minute: u16,
    /// Minute of the day it closes (1..=1440); on the next day if not after `start_minute`.
    pub end_minute: u16,
}

impl MaintenanceWindow {
    /// True if the window is open on `weekday` at `minute_of_day` (site-local; 0..1440, anything else is closed).
    pub fn contains(&self, weekday: Weekday, minute_of_day: u16) -> bool {
        if minute_of_day >= MINUTES_PER_DAY {
            return false;
        }
        if self.start_minute < self.end_minute {
            self.days.contains(&weekday) && (self.start_minute..self.end_minute).contains(&minute_of_day)
        } else {
            (self.days.contains(&weekday) && minute_of_day >= self.start_minute)
                || (self.days.contains(&weekday.previous()) && minute_of_day < self.end_minute)
        }
    }
}

/// Parses `DAYS HH:MM-HH:MM` in site-local time: `Sat 02:00-05:00`, `Sat,Sun 22:00-02:00` (past midnight), or
/// `daily 01:00-03:00`. The end may be `24:00`; start and end must differ.
pub fn parse_window(s: &str) -> Result<MaintenanceWindow, String> {
    let shape = || format!("maintenance window {s:?} must look like \"Sat 02:00-05:00\" (days, then HH:MM-HH:MM)");
    let mut parts = s.split_whitespace();
    let (Some(days), Some(times), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(shape());
    };
    let days: BTreeSet<Weekday> = if days.eq_ignore_ascii_case("daily") {
        Weekday::ALL.into_iter().collect()
    } else {
        days.split(',')
            .map(|d| {
                Weekday::parse(d).ok_or_else(|| format!("maintenance window {s:?}: {d:?} is not a day (Mon … Sun)"))
            })
            .collect::<Result<_, _>>()?
    };
    let (start, end) = times.split_once('-').ok_or_else(shape)?;
    let start_minute = parse_time(start).filter(|m| *m < MINUTES_PER_DAY).ok_or_else(shape)?;
    let end_minute = parse_time(end).ok_or_else(shape)?;
    if start_minute == end_minute {
        return Err(format!("maintenance window {s:?} opens and closes at the same time"));
    }
    Ok(MaintenanceWindow {
        days,
        start_minute,
        end_minute,
    })
}

/// `HH:MM` → minute of the day, `24:00` included.
fn parse_time(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(MINUTES_PER_DAY),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}
