//! Maintenance windows: when a site may start an update, in site-local time (`Sat 02:00-05:00`), and site-local
//! time itself: a Unix time read in the site's IANA time zone ([`SiteZone`], daylight saving included).
//!
//! Pure: parsing, arithmetic and a time-zone lookup in the tz database compiled into the binary (jiff's bundled
//! copy, so a machine without `/usr/share/zoneinfo` evaluates windows the same way). The caller passes the time in.

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
/// site-local minutes of the day. An end at or before the start runs past midnight into the next day. A window
/// with no days never opens (what an unreadable window from the log becomes: closed, never "any time").
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

impl MaintenanceWindow {
    /// A window that never opens.
    pub fn never() -> Self {
        Self {
            days: BTreeSet::new(),
            start_minute: 0,
            end_minute: MINUTES_PER_DAY,
        }
    }

    /// Reads a window as written in the log: unreadable text (never written by a decision) becomes [`Self::never`].
    pub fn from_log(text: &str) -> Self {
        parse_window(text).unwrap_or_else(|_| Self::never())
    }
}

impl std::fmt::Display for MaintenanceWindow {
    /// The canonical text, which [`parse_window`] reads back to the same window.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = if self.days.len() == Weekday::ALL.len() {
            "daily".to_string()
        } else if self.days.is_empty() {
            "never".to_string()
        } else {
            self.days.iter().map(Weekday::as_str).collect::<Vec<_>>().join(",")
        };
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{days} {}-{}", hm(self.start_minute), hm(self.end_minute))
    }
}

impl std::str::FromStr for MaintenanceWindow {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_window(s)
    }
}

/// A site's IANA time zone (`Europe/Berlin`), checked against the tz database once, where it enters.
#[derive(Clone, Debug)]
pub struct SiteZone {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl PartialEq for SiteZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl SiteZone {
    /// Looks `name` up in the tz database; an unknown name is an error naming it.
    pub fn new(name: &str) -> Result<Self, String> {
        let zone = jiff::tz::TimeZone::get(name).map_err(|e| {
            format!(
                "time zone {:?} is not in the tz database ({e}); use an IANA name such as Europe/Berlin or UTC",
                name.chars().take(64).collect::<String>()
            )
        })?;
        Ok(Self {
            name: name.to_string(),
            zone,
        })
    }

    /// UTC.
    pub fn utc() -> Self {
        Self {
            name: "UTC".into(),
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The site-local weekday and minute of the day at `unix_s`.
    pub fn local(&self, unix_s: i64) -> (Weekday, u16) {
        let Ok(timestamp) = jiff::Timestamp::from_second(unix_s) else {
            return (Weekday::Thu, 0); // outside jiff's range (±9999 years): the epoch's weekday; never reached
        };
        let local = timestamp.to_zoned(self.zone.clone());
        let weekday = match local.weekday() {
            jiff::civil::Weekday::Monday => Weekday::Mon,
            jiff::civil::Weekday::Tuesday => Weekday::Tue,
            jiff::civil::Weekday::Wednesday => Weekday::Wed,
            jiff::civil::Weekday::Thursday => Weekday::Thu,
            jiff::civil::Weekday::Friday => Weekday::Fri,
            jiff::civil::Weekday::Saturday => Weekday::Sat,
            jiff::civil::Weekday::Sunday => Weekday::Sun,
        };
        let minute = u16::try_from(local.hour()).unwrap_or(0) * 60 + u16::try_from(local.minute()).unwrap_or(0);
        (weekday, minute)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_prints_as_it_parses() {
        for text in ["Sat 02:00-05:00", "Fri,Sat 22:00-02:00", "daily 00:00-24:00"] {
            let window = parse_window(text).expect("valid");
            assert_eq!(window.to_string(), text);
            assert_eq!(parse_window(&window.to_string()), Ok(window));
        }
    }

    #[test]
    fn local_time_follows_the_site_zone_and_its_daylight_saving() {
        // 2026-07-04 00:30 UTC is a Saturday, 02:30 in Berlin (CEST, UTC+2) and Friday 20:30 in New York (EDT).
        let summer = 1_783_125_000;
        assert_eq!(SiteZone::utc().local(summer), (Weekday::Sat, 30));
        let berlin = SiteZone::new("Europe/Berlin").expect("known zone");
        assert_eq!(berlin.local(summer), (Weekday::Sat, 150));
        let new_york = SiteZone::new("America/New_York").expect("known zone");
        assert_eq!(new_york.local(summer), (Weekday::Fri, 20 * 60 + 30));
        // 2026-01-10 00:30 UTC (a Saturday): Berlin is UTC+1 in winter.
        assert_eq!(berlin.local(1_768_005_000), (Weekday::Sat, 90));
        assert!(SiteZone::new("Mars/Olympus").is_err());
    }

    #[test]
    fn an_unreadable_window_from_the_log_is_closed() {
        let never = MaintenanceWindow::from_log("whenever");
        assert!(Weekday::ALL.iter().all(|d| !never.contains(*d, 600)));
    }
}
