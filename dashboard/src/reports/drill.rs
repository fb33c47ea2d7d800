//! Drill-down: from a figure to the calls behind it (issue 12, item 3). The calls behind a
//! figure are those whose queue outcome fell in the figure's window and scope
//! (`GET /api/v1/reports/calls`, `start_ms`/`end_ms`); which calls depends on the figure
//! (`crate::figure::Figure::drill`).
//!
//! The TV's bundle builds only the link ([`href`]): the scope, the figure's filter, the live
//! window's name and the server's clock at the click. The reports page turns the window into
//! its span ([`span`]) once it knows where the centre's day starts.

use crate::i18n::Lang;
use crate::route::percent_encode;

/// A minute, ms.
pub const MINUTE_MS: i64 = 60_000;
/// A day, ms (a UTC day: only used to bracket the centre's day around an instant).
pub const DAY_MS: i64 = 86_400_000;

/// The reports page's calls list for the figure `filter` (`outcome=abandoned`, ...) of `scope`
/// over the live window `window` (`30m`, `today`, ...) at server time `at` (UTC ms).
pub fn href(scope: &str, filter: &str, window: &str, at: i64, lang: Lang) -> String {
    format!(
        "/reports#calls?scope={}&window={window}&at={at}&{filter}&lang={}",
        percent_encode(scope),
        lang.tag()
    )
}

/// The span `[start_ms, end_ms)` of the live window `window` at `at`, as docs/METRICS.md
/// ("Windows") defines it: rolling windows are whole minutes ending with the current one,
/// intervals start at the latest local quarter or half hour, `today` at the centre's day start
/// (`day_start`, UTC ms). The end is just after `at`: every outcome up to the clock counts.
/// `None` for a window that is not one of the wall's.
pub fn span(window: &str, at: i64, day_start: i64) -> Option<(i64, i64)> {
    let minute = at.div_euclid(MINUTE_MS) * MINUTE_MS;
    let since_day = (at - day_start).max(0);
    let start = match window {
        "15m" => minute - 14 * MINUTE_MS,
        "30m" => minute - 29 * MINUTE_MS,
        "60m" => minute - 59 * MINUTE_MS,
        "interval15" => day_start + since_day / (15 * MINUTE_MS) * (15 * MINUTE_MS),
        "interval30" => day_start + since_day / (30 * MINUTE_MS) * (30 * MINUTE_MS),
        "today" => day_start,
        _ => return None,
    };
    Some((start, at + 1))
}

/// The UTC calendar date of `ms` (`2026-03-08`): the centre's local day is this one or a
/// neighbour, which the page asks the server about.
pub fn utc_date(ms: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = ms.div_euclid(DAY_MS) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_carries_scope_filter_window_and_clock() {
        assert_eq!(
            href(
                "queue:billing",
                "outcome=abandoned",
                "today",
                1_234,
                Lang::Zh
            ),
            "/reports#calls?scope=queue:billing&window=today&at=1234&outcome=abandoned&lang=zh-CN"
        );
        assert!(href("team:a b", "x=y", "30m", 1, Lang::En).contains("scope=team:a%20b"));
    }

    #[test]
    fn windows_span_as_metrics_defines_them() {
        let day = 1_000 * DAY_MS + 5 * 3_600_000; // a centre day starting 05:00 UTC
        let at = day + 10 * 3_600_000 + 22 * MINUTE_MS + 30_000; // 10:22:30 local
        let minute = at - 30_000;
        assert_eq!(
            span("15m", at, day),
            Some((minute - 14 * MINUTE_MS, at + 1))
        );
        assert_eq!(
            span("30m", at, day),
            Some((minute - 29 * MINUTE_MS, at + 1))
        );
        assert_eq!(
            span("60m", at, day),
            Some((minute - 59 * MINUTE_MS, at + 1))
        );
        assert_eq!(
            span("interval15", at, day),
            Some((day + 10 * 3_600_000 + 15 * MINUTE_MS, at + 1))
        );
        assert_eq!(
            span("interval30", at, day),
            Some((day + 10 * 3_600_000, at + 1))
        );
        assert_eq!(span("today", at, day), Some((day, at + 1)));
        assert_eq!(span("live", at, day), None);
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(-1), "1969-12-31");
        // 2026-03-08T12:00:00Z
        assert_eq!(utc_date(1_772_971_200_000), "2026-03-08");
        // 2024-02-29T23:59:59.999Z
        assert_eq!(utc_date(1_709_251_199_999), "2024-02-29");
    }
}
