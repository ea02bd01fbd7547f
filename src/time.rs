//! Times as flowhook stores them: RFC 3339 UTC with milliseconds (`2026-02-12T05:17:06.893Z`),
//! text that sorts as time does for the years 0000 to 9999.
//!
//! Owns the one format every table, ledger and spool entry uses. A base module: it imports
//! nothing of flowhook's, so that the store, recall, sync, trust and MCP can all use it
//! without reaching into the hot path.

use chrono::{DateTime, Datelike, SecondsFormat, TimeDelta, Utc};
use std::fmt;

/// A time as stored. Made only from a `DateTime<Utc>`, so it is always in the stored format;
/// the instant is kept beside the text (as precise as the text), for arithmetic without
/// parsing it again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time {
    instant: DateTime<Utc>,
    text: String,
}

impl Time {
    pub fn at(t: DateTime<Utc>) -> Time {
        let text = t.to_rfc3339_opts(SecondsFormat::Millis, true);
        // What the text says, to the millisecond: the two never disagree.
        let instant = DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t);
        Time { instant, text }
    }

    pub fn now() -> Time {
        Time::at(Utc::now())
    }

    /// `age` before `at`; `None` when the age (a user's number) is out of range or the
    /// result leaves the years flowhook stores (0000 to 9999, which sort as text).
    pub fn before(at: DateTime<Utc>, age: Option<TimeDelta>) -> Option<Time> {
        let t = at.checked_sub_signed(age?)?;
        (0..=9999).contains(&t.year()).then(|| Time::at(t))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }

    pub fn instant(&self) -> DateTime<Utc> {
        self.instant
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(&self) -> i64 {
        self.instant.timestamp_millis()
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_with_milliseconds_in_utc() {
        let t = DateTime::parse_from_rfc3339("2026-02-12T06:17:06.8937+01:00").unwrap();
        assert_eq!(Time::at(t.to_utc()).as_str(), "2026-02-12T05:17:06.893Z");
    }

    #[test]
    fn before_stays_within_the_years_stored() {
        let at = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let day = TimeDelta::try_days(1);
        assert_eq!(
            Time::before(at, day).unwrap().as_str(),
            "2025-12-31T00:00:00.000Z"
        );
        assert_eq!(Time::before(at, TimeDelta::try_days(3_000_000)), None);
        assert_eq!(Time::before(at, None), None);
    }
}
