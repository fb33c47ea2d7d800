//! The interval table's columns and the charts' figures: which field of a report row
//! (docs/HISTORY.md, "Reports"; figures per docs/METRICS.md), how it is written, and which
//! calls are behind it (drill-down).

use serde_json::Value;

use super::text::RKey;
use crate::format;

/// How a column's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A count.
    Count,
    /// A percentage.
    Pct,
    /// Seconds, as a clock.
    Secs,
}

/// One column of the interval table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The report row's field (`offered`, `service_level_pct`, ...).
    pub field: &'static str,
    /// Its heading.
    pub label: RKey,
    /// How it is written.
    pub kind: Kind,
    /// The calls behind it, as the calls API's cut: every offered call (`""`), the answered
    /// (`outcome=answered`: ASA and AHT are theirs), the abandoned, or those that missed the
    /// service level (docs/METRICS.md: counted in its denominator, not in its numerator).
    pub drill: &'static str,
}

const fn column(field: &'static str, label: RKey, kind: Kind, drill: &'static str) -> Column {
    Column {
        field,
        label,
        kind,
        drill,
    }
}

/// The interval table, left to right.
pub const TABLE: [Column; 8] = [
    column("offered", RKey::Offered, Kind::Count, ""),
    column("answered", RKey::Answered, Kind::Count, "outcome=answered"),
    column(
        "abandoned",
        RKey::Abandoned,
        Kind::Count,
        "outcome=abandoned",
    ),
    column(
        "service_level_pct",
        RKey::ServiceLevel,
        Kind::Pct,
        "service_level=missed",
    ),
    column("asa_s", RKey::Asa, Kind::Secs, "outcome=answered"),
    column("aht_s", RKey::Aht, Kind::Secs, "outcome=answered"),
    column(
        "abandon_rate_pct",
        RKey::AbandonRate,
        Kind::Pct,
        "outcome=abandoned",
    ),
    column("answer_rate_pct", RKey::AnswerRate, Kind::Pct, ""),
];

/// The charts, one per figure: the day against its comparison.
pub const CHARTS: [Column; 4] = [TABLE[3], TABLE[0], TABLE[4], TABLE[6]];

impl Column {
    /// The cell's text: "—" for a missing figure (null: no denominator).
    pub fn text(&self, row: &Value) -> String {
        let v = &row[self.field];
        match self.kind {
            Kind::Count => format::count(v.as_u64()),
            Kind::Pct => format::pct(v.as_f64()),
            Kind::Secs => format::seconds(v.as_f64()),
        }
    }

    /// The value as the API wrote it (`null` when missing), for `data-value`.
    pub fn raw(&self, row: &Value) -> String {
        row[self.field].to_string()
    }

    /// The value a chart plots; a pooled count of `days` comparison days is shown per day.
    pub fn plotted(&self, row: &Value, days: usize) -> Option<f64> {
        let v = row[self.field].as_f64()?;
        Some(match self.kind {
            Kind::Count if days > 1 => v / days as f64,
            _ => v,
        })
    }

    /// A fixed top for the chart's axis (percentages), or none (scaled to the data).
    pub fn fixed_max(&self) -> Option<f64> {
        (self.kind == Kind::Pct).then_some(100.0)
    }
}

/// A report row's span, `[start_ms, end_ms)`.
pub fn span(row: &Value) -> Option<(i64, i64)> {
    Some((row["start_ms"].as_i64()?, row["end_ms"].as_i64()?))
}

/// A report row's local start as the table shows it: `2026-03-08 09:15` (`T` as a space).
pub fn start_text(row: &Value) -> String {
    row["start_local"]
        .as_str()
        .unwrap_or_default()
        .replacen('T', " ", 1)
}

/// How a day of the report stands: sealed (signed off), amended since, events waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The local day, `YYYY-MM-DD`.
    pub day: String,
    /// The scope signed off (this one or one above it).
    pub scope: String,
    /// Who signed it off.
    pub by: String,
    /// Amendments applied since.
    pub amendments: u64,
    /// Rows of late events waiting for an amendment.
    pub waiting: u64,
}

/// The `signed_off` list of an intervals report.
pub fn sealed_days(report: &Value) -> Vec<Sealed> {
    report["signed_off"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some(Sealed {
                day: s["day"].as_str()?.to_string(),
                scope: s["scope"].as_str().unwrap_or_default().to_string(),
                by: s["signed_by"].as_str().unwrap_or_default().to_string(),
                amendments: s["amendments"].as_u64().unwrap_or(0),
                waiting: s["after_sign_off_rows"].as_u64().unwrap_or(0),
            })
        })
        .collect()
}

/// The mark of a row whose local day is sealed: `sealed`, `amended`, or none.
pub fn row_mark(row: &Value, sealed: &[Sealed]) -> Option<&'static str> {
    let start = row["start_local"].as_str()?;
    let day = start.get(..10)?;
    let found = sealed.iter().find(|s| s.day == day)?;
    Some(if found.amendments > 0 {
        "amended"
    } else {
        "sealed"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_write_figures_and_keep_the_raw_value() {
        let row = json!({"offered": 12, "service_level_pct": 81.26, "asa_s": null, "aht_s": 65.4});
        assert_eq!(TABLE[0].text(&row), "12");
        assert_eq!(TABLE[3].text(&row), "81.3%");
        assert_eq!(TABLE[4].text(&row), "—");
        assert_eq!(TABLE[4].raw(&row), "null");
        assert_eq!(TABLE[5].text(&row), "1:05");
        assert_eq!(TABLE[3].raw(&row), "81.26");
    }

    #[test]
    fn pooled_counts_plot_per_day_and_percentages_do_not() {
        let row = json!({"offered": 40, "service_level_pct": 80.0});
        assert_eq!(TABLE[0].plotted(&row, 4), Some(10.0));
        assert_eq!(TABLE[0].plotted(&row, 1), Some(40.0));
        assert_eq!(TABLE[3].plotted(&row, 4), Some(80.0));
        assert_eq!(TABLE[4].plotted(&row, 4), None);
    }

    #[test]
    fn sealed_and_amended_days_mark_their_rows() {
        let report = json!({"signed_off": [
            {"scope": "centre", "day": "2026-03-08", "signed_by": "boss", "amendments": 0, "after_sign_off_rows": 2},
            {"scope": "centre", "day": "2026-03-09", "signed_by": "boss", "amendments": 1, "after_sign_off_rows": 0}
        ]});
        let sealed = sealed_days(&report);
        assert_eq!(sealed.len(), 2);
        assert_eq!(sealed[0].waiting, 2);
        let row = |local: &str| json!({"start_local": local});
        assert_eq!(row_mark(&row("2026-03-08T09:15"), &sealed), Some("sealed"));
        assert_eq!(row_mark(&row("2026-03-09T00:00"), &sealed), Some("amended"));
        assert_eq!(row_mark(&row("2026-03-10T00:00"), &sealed), None);
        assert_eq!(start_text(&row("2026-03-08T09:15")), "2026-03-08 09:15");
    }

    #[test]
    fn every_column_drills_to_a_cut_the_calls_api_knows() {
        for c in TABLE {
            let route = super::super::page::ReportsRoute::default().drill(
                "centre",
                "2026-03-08",
                (0, 1),
                c.drill,
            );
            let cuts = [route.outcome.is_some(), route.service_level.is_some()];
            assert_eq!(
                cuts.iter().filter(|c| **c).count(),
                usize::from(!c.drill.is_empty()),
                "{}",
                c.field
            );
        }
    }
}
