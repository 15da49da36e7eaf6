//! The back office's clock: times shown, and dates typed, in German local time
//! (Europe/Berlin, from the time-zone database built into the binary), whatever the
//! server's own zone — the store keeps UTC. A date filter's day runs from local midnight
//! to local midnight, summer time included.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use jiff::tz::TimeZone;

static BERLIN: LazyLock<TimeZone> =
    LazyLock::new(|| TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC));

/// `06.12.2026 14:05:09 UTC+1`: the local time, with the offset that says whether it
/// is summer time (the same in both languages).
pub fn show(t: DateTime<Utc>) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(t.timestamp_millis()) else {
        return t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    };
    let zoned = ts.to_zoned(BERLIN.clone());
    let hours = zoned.offset().seconds() / 3600;
    format!("{} UTC{hours:+}", zoned.strftime("%d.%m.%Y %H:%M:%S"))
}

/// Today's date in Berlin.
pub fn today() -> NaiveDate {
    let now = jiff::Timestamp::now().to_zoned(BERLIN.clone()).date();
    NaiveDate::from_ymd_opt(
        i32::from(now.year()),
        u32::from(now.month() as u8),
        u32::from(now.day() as u8),
    )
    .unwrap_or_else(|| Utc::now().date_naive())
}

/// The instant the day `d` begins in Berlin.
pub fn day_start(d: NaiveDate) -> Option<DateTime<Utc>> {
    let year = i16::try_from(d.year()).ok()?;
    let month = i8::try_from(d.month()).ok()?;
    let day = i8::try_from(d.day()).ok()?;
    let start = jiff::civil::Date::new(year, month, day)
        .ok()?
        .to_zoned(BERLIN.clone())
        .ok()?;
    DateTime::from_timestamp_millis(start.timestamp().as_millisecond())
}

/// A typed date: `TT.MM.JJJJ` as people in Germany write it (also `T.M.JJJJ`), or
/// `JJJJ-MM-TT` as a date picker sends it.
pub fn parse_day(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if text.len() == 10 && text.as_bytes()[4] == b'-' {
        return NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    }
    let mut parts = text.split('.');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    if parts.next().is_some() || !digits(d, 2) || !digits(m, 2) || y.len() != 4 || !digits(y, 4) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn times_are_shown_in_berlin_with_summer_time() {
        assert_eq!(
            show(utc("2026-12-06T13:05:09Z")),
            "06.12.2026 14:05:09 UTC+1"
        );
        assert_eq!(
            show(utc("2026-07-01T22:30:00Z")),
            "02.07.2026 00:30:00 UTC+2"
        );
    }

    #[test]
    fn a_day_starts_at_berlin_midnight() {
        let winter = NaiveDate::from_ymd_opt(2026, 12, 6).expect("date");
        assert_eq!(day_start(winter), Some(utc("2026-12-05T23:00:00Z")));
        let summer = NaiveDate::from_ymd_opt(2026, 7, 2).expect("date");
        assert_eq!(day_start(summer), Some(utc("2026-07-01T22:00:00Z")));
        // The day summer time begins is 23 hours long.
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29).expect("date");
        let next = spring.succ_opt().expect("date");
        let hours =
            (day_start(next).expect("start") - day_start(spring).expect("start")).num_hours();
        assert_eq!(hours, 23);
    }

    #[test]
    fn dates_are_read_as_typed_in_germany_or_by_a_date_picker() {
        let want = NaiveDate::from_ymd_opt(2026, 11, 21);
        for typed in ["21.11.2026", " 21.11.2026 ", "2026-11-21"] {
            assert_eq!(parse_day(typed), want, "{typed}");
        }
        assert_eq!(parse_day("1.2.2026"), NaiveDate::from_ymd_opt(2026, 2, 1));
        for junk in [
            "",
            "21.11.26",
            "31.02.2026",
            "2026-13-01",
            "21/11/2026",
            "21.11.2026.",
            "a.b.cdef",
            "2026-1-1",
        ] {
            assert_eq!(parse_day(junk), None, "{junk}");
        }
    }
}
