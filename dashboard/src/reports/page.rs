//! What the reports page's URL selects, and the API requests it makes for it:
//! `/reports#intervals?scope=centre&from=2026-03-08&to=2026-03-08&interval=15m&against=previous-day`
//! and `/reports#calls?scope=queue:sales&from=...&to=...&start_ms=...&end_ms=...&outcome=abandoned`.
//! A link from the wallboard may name a live window instead of a span (`window=30m&at=MS`,
//! `super::drill`); the page resolves it and rewrites the URL.
//!
//! Unknown or malformed parameters are ignored, as on the wallboard; the server checks the
//! rest and says what was wrong.

use crate::i18n::Lang;
use crate::route::{percent_decode, percent_encode};

/// Which part of the reports page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Page {
    /// Pickers, the interval table, the charts against the comparison, the downloads.
    #[default]
    Intervals,
    /// The calls behind a figure or a cell: the call detail records, paged.
    Calls,
}

/// The granularities of `/api/v1/reports/intervals`.
pub const INTERVALS: [&str; 6] = ["15m", "30m", "60m", "day", "week", "month"];
/// The comparisons of `/api/v1/reports/compare`.
pub const AGAINST: [&str; 3] = [
    "previous-day",
    "same-weekday-last-week",
    "same-weekday-4-weeks-avg",
];
/// The queue outcomes a calls list may be cut to.
pub const OUTCOMES: [&str; 4] = ["answered", "abandoned", "timed_out", "transferred"];
/// The service-level cuts.
pub const SERVICE_LEVELS: [&str; 2] = ["missed", "met"];
/// The callback worklist's cuts.
pub const CALLBACKS: [&str; 2] = ["pending", "done"];

/// Everything the reports page's URL can say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportsRoute {
    /// Which part.
    pub page: Page,
    /// `lang=zh|en`; the browser's language when absent.
    pub lang: Option<Lang>,
    /// `scope=centre|site:ID|queue:ID|...`; the user's subtree root when absent.
    pub scope: Option<String>,
    /// First local day (`YYYY-MM-DD`); today on the browser's calendar when absent.
    pub from: Option<String>,
    /// Last local day, inclusive; `from` when absent.
    pub to: Option<String>,
    /// `15m|30m|60m|day|week|month`; 15m when absent.
    pub interval: Option<String>,
    /// The comparison of the day's charts; the previous day when absent.
    pub against: Option<String>,
    /// Calls: the drill-down span, outcome time, UTC ms, `[start_ms, end_ms)`.
    pub start_ms: Option<i64>,
    /// See `start_ms`.
    pub end_ms: Option<i64>,
    /// Calls: a live window to resolve (`30m`, `today`, ...), from a wallboard figure.
    pub window: Option<String>,
    /// Calls: the server's clock when the figure was clicked, UTC ms.
    pub at: Option<i64>,
    /// Calls: the outcome cut.
    pub outcome: Option<String>,
    /// Calls: the service-level cut.
    pub service_level: Option<String>,
    /// Calls: the callback worklist's cut.
    pub callback: Option<String>,
}

impl ReportsRoute {
    /// Reads `location.search` and `location.hash` (the hash wins).
    pub fn parse(search: &str, hash: &str) -> ReportsRoute {
        let mut route = ReportsRoute::default();
        route.apply(search.trim_start_matches('?'));
        let hash = hash.trim_start_matches('#');
        let (path, query) = hash.split_once('?').unwrap_or((hash, ""));
        route.page = match path.trim_matches('/') {
            "calls" => Page::Calls,
            _ => Page::Intervals,
        };
        route.apply(query);
        route
    }

    fn apply(&mut self, query: &str) {
        fn one_of(value: &str, allowed: &[&str]) -> Option<String> {
            allowed.contains(&value).then(|| value.to_string())
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            let text = Some(value.clone()).filter(|v| !v.is_empty());
            match name {
                "lang" => self.lang = Lang::from_tag(&value).or(self.lang),
                "scope" => self.scope = text,
                "from" => self.from = text.filter(|d| is_date(d)),
                "to" => self.to = text.filter(|d| is_date(d)),
                "interval" => self.interval = one_of(&value, &INTERVALS),
                "against" => self.against = one_of(&value, &AGAINST),
                "start_ms" => self.start_ms = value.parse().ok(),
                "end_ms" => self.end_ms = value.parse().ok(),
                "window" => self.window = text,
                "at" => self.at = value.parse().ok(),
                "outcome" => self.outcome = one_of(&value, &OUTCOMES),
                "service_level" => self.service_level = one_of(&value, &SERVICE_LEVELS),
                "callback" => self.callback = one_of(&value, &CALLBACKS),
                _ => {}
            }
        }
    }

    /// The hash that reopens this route.
    pub fn to_hash(&self) -> String {
        let mut params: Vec<String> = Vec::new();
        let mut put = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                params.push(format!("{name}={}", percent_encode(&value)));
            }
        };
        put("scope", self.scope.clone());
        put("from", self.from.clone());
        put("to", self.to.clone());
        match self.page {
            Page::Intervals => {
                put("interval", self.interval.clone());
                put("against", self.against.clone());
            }
            Page::Calls => {
                put("start_ms", self.start_ms.map(|v| v.to_string()));
                put("end_ms", self.end_ms.map(|v| v.to_string()));
                put("window", self.window.clone());
                put("at", self.at.map(|v| v.to_string()));
                put("outcome", self.outcome.clone());
                put("service_level", self.service_level.clone());
                put("callback", self.callback.clone());
            }
        }
        put("lang", self.lang.map(|l| l.tag().to_string()));
        let path = match self.page {
            Page::Intervals => "#intervals",
            Page::Calls => "#calls",
        };
        if params.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", params.join("&"))
        }
    }

    /// The granularity asked for, or 15 minutes.
    pub fn interval_or_default(&self) -> &str {
        self.interval.as_deref().unwrap_or("15m")
    }

    /// The comparison asked for, or the previous day.
    pub fn against_or_default(&self) -> &str {
        self.against.as_deref().unwrap_or("previous-day")
    }

    /// The period's first and last day, `today` (the browser's) filling in what is missing.
    pub fn period(&self, today: &str) -> (String, String) {
        let from = self.from.clone().unwrap_or_else(|| today.to_string());
        let to = self.to.clone().unwrap_or_else(|| from.clone());
        (from, to)
    }

    /// The charts compare one day at quarter-hour to hour granularity (`/compare`'s).
    pub fn charts_day(&self, today: &str) -> Option<String> {
        let (from, to) = self.period(today);
        (from == to && matches!(self.interval_or_default(), "15m" | "30m" | "60m")).then_some(from)
    }

    fn report_query(&self, scope: &str, today: &str) -> String {
        let (from, to) = self.period(today);
        format!(
            "scope={}&from={from}&to={to}&interval={}",
            percent_encode(scope),
            self.interval_or_default()
        )
    }

    /// `GET /api/v1/reports/intervals` for this route (`ext`: `""`, `.csv` or `.xlsx`).
    pub fn intervals_path(&self, scope: &str, today: &str, ext: &str) -> String {
        format!(
            "/api/v1/reports/intervals{ext}?{}",
            self.report_query(scope, today)
        )
    }

    /// `GET /api/v1/reports/compare` for the charts' day.
    pub fn compare_path(&self, scope: &str, day: &str) -> String {
        format!(
            "/api/v1/reports/compare?scope={}&date={day}&against={}&interval={}",
            percent_encode(scope),
            self.against_or_default(),
            self.interval_or_default()
        )
    }

    /// `GET /api/v1/reports/calls` for this route (`ext` as for intervals), from `after`.
    pub fn calls_path(&self, scope: &str, today: &str, ext: &str, after: Option<&str>) -> String {
        let (from, to) = self.period(today);
        let mut path = format!(
            "/api/v1/reports/calls{ext}?scope={}&from={from}&to={to}",
            percent_encode(scope)
        );
        let cuts = [
            ("start_ms", self.start_ms.map(|v| v.to_string())),
            ("end_ms", self.end_ms.map(|v| v.to_string())),
            ("outcome", self.outcome.clone()),
            ("service_level", self.service_level.clone()),
            ("callback", self.callback.clone()),
            ("after", after.map(String::from)),
        ];
        for (name, value) in cuts {
            if let Some(value) = value {
                path.push_str(&format!("&{name}={}", percent_encode(&value)));
            }
        }
        path
    }

    /// The calls behind the cell of a report row: its span `[start_ms, end_ms)` within the
    /// period, cut by `filter` (`outcome=answered`, `service_level=missed`, or empty for every
    /// offered call).
    pub fn drill(&self, scope: &str, today: &str, span: (i64, i64), filter: &str) -> ReportsRoute {
        let (from, to) = self.period(today);
        let mut calls = ReportsRoute {
            page: Page::Calls,
            lang: self.lang,
            scope: Some(scope.to_string()),
            from: Some(from),
            to: Some(to),
            start_ms: Some(span.0),
            end_ms: Some(span.1),
            ..ReportsRoute::default()
        };
        calls.apply(filter);
        calls
    }
}

/// `YYYY-MM-DD`, shape only: the server says whether the day exists.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_survive_their_own_hash() {
        let intervals = ReportsRoute {
            page: Page::Intervals,
            lang: Some(Lang::Zh),
            scope: Some("queue:a b".into()),
            from: Some("2026-03-07".into()),
            to: Some("2026-03-08".into()),
            interval: Some("day".into()),
            against: Some("same-weekday-last-week".into()),
            ..ReportsRoute::default()
        };
        assert_eq!(ReportsRoute::parse("", &intervals.to_hash()), intervals);
        let calls = ReportsRoute {
            page: Page::Calls,
            scope: Some("centre".into()),
            from: Some("2026-03-08".into()),
            start_ms: Some(5),
            end_ms: Some(900_005),
            outcome: Some("abandoned".into()),
            service_level: Some("missed".into()),
            callback: Some("pending".into()),
            ..ReportsRoute::default()
        };
        assert_eq!(ReportsRoute::parse("", &calls.to_hash()), calls);
        assert_eq!(ReportsRoute::default().to_hash(), "#intervals");
    }

    #[test]
    fn bad_parameters_are_ignored() {
        let r = ReportsRoute::parse(
            "?lang=fr",
            "#calls?from=2026-3-8&interval=5m&outcome=lost&at=x&service_level=&scope=",
        );
        assert_eq!(
            r,
            ReportsRoute {
                page: Page::Calls,
                ..ReportsRoute::default()
            }
        );
        assert_eq!(ReportsRoute::parse("", "#nonsense").page, Page::Intervals);
    }

    #[test]
    fn a_wallboard_link_parses() {
        let link = crate::reports::drill::href(
            "queue:billing",
            "service_level=missed",
            "30m",
            99,
            Lang::En,
        );
        let (_, hash) = link.split_once('#').unwrap_or_default();
        let r = ReportsRoute::parse("", hash);
        assert_eq!(r.page, Page::Calls);
        assert_eq!(r.scope.as_deref(), Some("queue:billing"));
        assert_eq!(r.window.as_deref(), Some("30m"));
        assert_eq!(r.at, Some(99));
        assert_eq!(r.service_level.as_deref(), Some("missed"));
        assert_eq!(r.lang, Some(Lang::En));
    }

    #[test]
    fn api_paths() {
        let r = ReportsRoute::parse("", "#intervals?interval=30m");
        assert_eq!(
            r.intervals_path("queue:x", "2026-03-08", ".csv"),
            "/api/v1/reports/intervals.csv?scope=queue:x&from=2026-03-08&to=2026-03-08&interval=30m"
        );
        assert_eq!(r.charts_day("2026-03-08").as_deref(), Some("2026-03-08"));
        assert_eq!(
            r.compare_path("centre", "2026-03-08"),
            "/api/v1/reports/compare?scope=centre&date=2026-03-08&against=previous-day&interval=30m"
        );
        let week = ReportsRoute::parse("", "#intervals?interval=week");
        assert_eq!(week.charts_day("2026-03-08"), None);
        let calls = r.drill("centre", "2026-03-08", (10, 20), "outcome=abandoned");
        assert_eq!(
            calls.calls_path("centre", "2026-03-08", "", Some("c/1")),
            "/api/v1/reports/calls?scope=centre&from=2026-03-08&to=2026-03-08\
             &start_ms=10&end_ms=20&outcome=abandoned&after=c%2F1"
        );
        assert_eq!(r.drill("centre", "2026-03-08", (1, 2), "").outcome, None);
    }

    #[test]
    fn dates_by_shape() {
        assert!(is_date("2026-03-08"));
        assert!(!is_date("2026-3-08"));
        assert!(!is_date("2026/03/08"));
    }
}
