//! Wall-clock time as the protocol writes it: full UTC ISO-8601 for stored rows and `HH:MM`
//! for the seed's `time` field. No time crate: the conversion is a few lines of arithmetic.
//! And [`SteadyWall`], for ages that must not jump when the clock is corrected.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Unix seconds that never jump: the wall clock is read once, then advanced by the
/// monotonic clock. Ages measured with it (session expiry) follow real elapsed time even
/// when the system clock is set back or forward while the server runs; what it writes to
/// disk is the wall clock as it was at start plus the time since.
#[derive(Debug, Clone, Copy)]
pub struct SteadyWall {
    wall_at_start: i64,
    start: Instant,
}

impl SteadyWall {
    pub fn new() -> SteadyWall {
        SteadyWall { wall_at_start: unix_now(), start: Instant::now() }
    }

    /// Seconds since the Unix epoch, by this clock.
    pub fn now(&self) -> i64 {
        self.wall_at_start + self.start.elapsed().as_secs() as i64
    }
}

impl Default for SteadyWall {
    fn default() -> Self {
        SteadyWall::new()
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    since_epoch().as_secs() as i64
}

fn since_epoch() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO)
}

/// Now as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso_now() -> String {
    let now = since_epoch();
    iso_from_millis(now.as_millis() as i64)
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso_from_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// Date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Milliseconds since the epoch of a timestamp we wrote (`YYYY-MM-DDTHH:MM:SS.mmmZ`);
/// `None` for anything else (the original app's `HH:MM`, which has no date).
pub fn millis_from_iso(stored: &str) -> Option<i64> {
    let b = stored.as_bytes();
    if b.len() != 24 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'.' || b[23] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| stored.get(range)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some((days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss) * 1000 + ms)
}

/// Days since 1970-01-01 of a date (Howard Hinnant's algorithm, the inverse of
/// `civil_from_days`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds since the epoch, now.
pub fn millis_now() -> i64 {
    since_epoch().as_millis() as i64
}

/// A stored timestamp as the API shows it: `(time, created_at)`.
///
/// Rows written by the original app hold only `HH:MM`; those have no `created_at`. Rows we write
/// hold full ISO-8601, whose `HH:MM` is the time of day in UTC, as the seed showed it.
pub fn display_parts(stored: &str) -> (String, Option<String>) {
    let time_of_day = stored.find('T').and_then(|t| stored.get(t + 1..t + 6));
    match time_of_day {
        Some(hhmm) => (hhmm.to_string(), Some(stored.to_string())),
        None => (stored.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso_from_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_from_millis(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso_from_millis(1_795_647_179_000), "2026-11-25T22:52:59.000Z");
    }

    #[test]
    fn parses_what_it_formats() {
        for millis in [0, 951_782_400_123, 1_795_647_179_000, 4_102_444_799_999] {
            assert_eq!(millis_from_iso(&iso_from_millis(millis)), Some(millis));
        }
        assert_eq!(millis_from_iso("22:32"), None);
        assert_eq!(millis_from_iso("2026-13-01T00:00:00.000Z"), None);
    }

    #[test]
    fn splits_stored_timestamps() {
        assert_eq!(display_parts("22:32"), ("22:32".to_string(), None));
        let (time, created) = display_parts("2026-11-25T22:52:59.000Z");
        assert_eq!(time, "22:52");
        assert_eq!(created.as_deref(), Some("2026-11-25T22:52:59.000Z"));
    }
}
