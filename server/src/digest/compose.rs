//! What one recipient's digest says: yesterday's day row of each part of its subtree
//! ([`super::subtree`]) against the part's target and against the same weekday last week, read
//! from history's store with the reports' own roll-up (`crate::history::report`), so every
//! figure equals `GET /api/v1/reports/intervals?interval=day` for that day (docs/HISTORY.md,
//! "The morning digest"; the figures are defined in docs/METRICS.md).
//!
//! Then how it reads: a plain-text e-mail, or a work-chat markdown message.

use floorwatch_core::alerts::WebhookFormat;
use floorwatch_core::history::{IntervalFigures, IntervalRow};
use floorwatch_core::{CentreCalendar, Organisation, Scope};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::subtree::{self, Part};
use crate::history::report::{self, Granularity};
use crate::history::store::{Store, StoreError};

/// One recipient's digest of one day, as composed (and kept in the digest outbox).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Digest {
    /// The centre day it reports, `YYYY-MM-DD`.
    pub(crate) day: String,
    pub(crate) weekday: String,
    /// The same weekday a week before, what `last_week` figures are of.
    pub(crate) compared_with: String,
    pub(crate) centre: String,
    /// The recipient's scope: no row outside its subtree.
    pub(crate) scope: String,
    /// Whether the day is signed off for the recipient's scope; if not, every figure is
    /// provisional (docs/HISTORY.md, "Sign-off").
    pub(crate) signed_off: bool,
    pub(crate) rows: Vec<DigestRow>,
}

/// One part of the subtree: its day and the same weekday last week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DigestRow {
    pub(crate) scope: String,
    pub(crate) name: String,
    pub(crate) day: DayFigures,
    pub(crate) last_week: DayFigures,
}

/// The figures a digest shows of a day row (docs/METRICS.md): counts, and percentages and
/// times recomputed from the day's sums.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DayFigures {
    pub(crate) offered: u64,
    pub(crate) answered: u64,
    pub(crate) abandoned: u64,
    pub(crate) service_level_pct: Option<f64>,
    pub(crate) service_level_target_pct: f64,
    pub(crate) asa_s: Option<f64>,
    pub(crate) aht_s: Option<f64>,
    pub(crate) abandon_rate_pct: Option<f64>,
}

impl From<&IntervalFigures> for DayFigures {
    fn from(f: &IntervalFigures) -> DayFigures {
        DayFigures {
            offered: f.offered,
            answered: f.answered,
            abandoned: f.abandoned,
            service_level_pct: f.service_level_pct,
            service_level_target_pct: f.service_level_target_pct,
            asa_s: f.asa_s,
            aht_s: f.aht_s,
            abandon_rate_pct: f.abandon_rate_pct,
        }
    }
}

/// Whether the store holds anything of `day` for the centre: a day without a single row (the
/// centre closed, or the server not yet running) has no digest.
pub(crate) fn has_rows(
    store: &Store,
    calendar: &CentreCalendar,
    day: Date,
) -> Result<bool, ComposeError> {
    let span = report::span(calendar, day, day).map_err(ComposeError::Day)?;
    Ok(!store.rows_without_samples("centre", span)?.is_empty())
}

/// Why a digest could not be composed (tried again on the next tick).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ComposeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the day cannot be placed in the centre's calendar: {0}")]
    Day(String),
}

/// `scope`'s digest of `day`.
pub(crate) fn compose(
    store: &Store,
    org: &Organisation,
    calendar: &CentreCalendar,
    day: Date,
    scope: &Scope,
) -> Result<Digest, ComposeError> {
    let last_week = day
        .checked_sub(jiff::Span::new().days(7))
        .map_err(|e| ComposeError::Day(e.to_string()))?;
    let span = report::span(calendar, day, day).map_err(ComposeError::Day)?;
    let before = report::span(calendar, last_week, last_week).map_err(ComposeError::Day)?;
    let rows = subtree::parts(org, scope)
        .into_iter()
        .map(|part| {
            Ok(DigestRow {
                day: day_row(store, org, calendar, &part, span)?,
                last_week: day_row(store, org, calendar, &part, before)?,
                scope: part.scope.to_string(),
                name: part.name,
            })
        })
        .collect::<Result<Vec<_>, ComposeError>>()?;
    let centre = if org.centre.name.is_empty() {
        org.centre.id.clone()
    } else {
        org.centre.name.clone()
    };
    Ok(Digest {
        day: day.to_string(),
        weekday: format!("{:?}", day.weekday()),
        compared_with: last_week.to_string(),
        centre,
        scope: scope.to_string(),
        signed_off: !store.sign_offs(&scope.to_string(), span)?.is_empty(),
        rows,
    })
}

/// The day row of `part` over `span`, as the interval report computes it.
fn day_row(
    store: &Store,
    org: &Organisation,
    calendar: &CentreCalendar,
    part: &Part,
    span: (i64, i64),
) -> Result<DayFigures, ComposeError> {
    let settings = match &part.scope {
        Scope::Queue(id) => org.queue_settings(id),
        _ => org.centre.service_level,
    };
    let quarters = store.rows(&part.scope.to_string(), span)?;
    let intervals = report::intervals(calendar, span, Granularity::Day);
    let rows = report::roll_up(calendar, &part.scope, &settings, &quarters, &intervals);
    Ok(match rows.first() {
        Some(row) => DayFigures::from(&row.figures),
        None => {
            DayFigures::from(&IntervalRow::default().figures(part.scope.clone(), span, &settings))
        }
    })
}

/// The subject line of an e-mail (and the title of a DingTalk card).
pub(crate) fn subject(digest: &Digest) -> String {
    let name = digest.rows.first().map_or("", |r| r.name.as_str());
    let provisional = if digest.signed_off {
        ""
    } else {
        " (provisional: not signed off)"
    };
    format!(
        "Floorwatch digest {}: {name}, {}{provisional}",
        digest.day, digest.centre
    )
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.1}%"))
}

fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.1} s"))
}

/// The figure lines of one row: `name value (last week value)`.
fn lines(row: &DigestRow) -> Vec<String> {
    let (d, w) = (&row.day, &row.last_week);
    vec![
        format!("offered {} (last week {})", d.offered, w.offered),
        format!("answered {} (last week {})", d.answered, w.answered),
        format!("abandoned {} (last week {})", d.abandoned, w.abandoned),
        format!(
            "service level {} (target {:.1}%; last week {})",
            pct(d.service_level_pct),
            d.service_level_target_pct,
            pct(w.service_level_pct)
        ),
        format!("ASA {} (last week {})", secs(d.asa_s), secs(w.asa_s)),
        format!("AHT {} (last week {})", secs(d.aht_s), secs(w.aht_s)),
        format!(
            "abandon rate {} (last week {})",
            pct(d.abandon_rate_pct),
            pct(w.abandon_rate_pct)
        ),
    ]
}

fn status(digest: &Digest) -> &'static str {
    if digest.signed_off {
        "Signed off."
    } else {
        "Provisional: not signed off."
    }
}

/// The plain-text body of an e-mail: a section per row, one figure a line.
pub(crate) fn text(digest: &Digest) -> String {
    let mut out = format!(
        "Floorwatch daily digest of {} ({}), {}\n{}\nCompared with {}, the same weekday last week.\n",
        digest.day,
        digest.weekday,
        digest.centre,
        status(digest),
        digest.compared_with
    );
    for row in &digest.rows {
        out.push_str(&format!("\n== {} — {} ==\n", row.scope, row.name));
        for line in lines(row) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// The markdown of a work-chat message, cut to what the receiver takes.
fn markdown(digest: &Digest, format: WebhookFormat) -> String {
    let bold = |s: &str| match format {
        WebhookFormat::Slack => format!("*{s}*"),
        _ => format!("**{s}**"),
    };
    let mut out = format!(
        "{}\n> {}\n",
        bold(&format!(
            "Floorwatch daily digest {} ({}), {}",
            digest.day, digest.weekday, digest.centre
        )),
        status(digest)
    );
    for row in &digest.rows {
        out.push_str(&format!("\n{} `{}`\n", bold(&row.name), row.scope));
        for line in lines(row) {
            out.push_str("- ");
            out.push_str(&line);
            out.push('\n');
        }
    }
    let max = match format {
        WebhookFormat::Wecom => 4096,
        other => other.max_text_bytes(),
    };
    cut(out, max)
}

/// `text` cut to at most `max` bytes at a character boundary, marked when cut.
fn cut(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mark = "\n…";
    let mut end = max.saturating_sub(mark.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(mark);
    text
}

/// The JSON body POSTed to a work-chat robot of `format` (the alert webhooks' formats).
pub(crate) fn webhook_body(digest: &Digest, format: WebhookFormat) -> Value {
    let md = markdown(digest, format);
    match format {
        WebhookFormat::Json => json!({
            "source": "floorwatch",
            "kind": "digest",
            "text": md,
            "digest": digest,
        }),
        WebhookFormat::Wecom => json!({"msgtype": "markdown", "markdown": {"content": md}}),
        WebhookFormat::Dingtalk => json!({
            "msgtype": "markdown",
            "markdown": {"title": subject(digest), "text": md},
        }),
        WebhookFormat::Slack => json!({"text": md}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(signed_off: bool) -> Digest {
        let figures = DayFigures {
            offered: 12,
            answered: 10,
            abandoned: 2,
            service_level_pct: Some(75.0),
            service_level_target_pct: 80.0,
            asa_s: Some(12.26),
            aht_s: None,
            abandon_rate_pct: Some(100.0 * 2.0 / 12.0),
        };
        Digest {
            day: "2026-03-09".into(),
            weekday: "Monday".into(),
            compared_with: "2026-03-02".into(),
            centre: "Hotline".into(),
            scope: "site:north".into(),
            signed_off,
            rows: vec![DigestRow {
                scope: "site:north".into(),
                name: "North".into(),
                day: figures.clone(),
                last_week: figures,
            }],
        }
    }

    #[test]
    fn a_day_not_signed_off_says_so_everywhere() {
        let d = digest(false);
        assert!(subject(&d).contains("provisional: not signed off"));
        assert!(text(&d).contains("Provisional: not signed off."));
        let md = webhook_body(&d, WebhookFormat::Wecom)["markdown"]["content"].to_string();
        assert!(md.contains("Provisional"), "{md}");
        let signed = digest(true);
        assert!(!subject(&signed).contains("provisional"));
        assert!(text(&signed).contains("Signed off."));
    }

    #[test]
    fn every_figure_is_a_line_with_last_week_beside_it() {
        let body = text(&digest(true));
        for line in [
            "== site:north — North ==",
            "offered 12 (last week 12)",
            "service level 75.0% (target 80.0%; last week 75.0%)",
            "ASA 12.3 s (last week 12.3 s)",
            "AHT — (last week —)",
            "abandon rate 16.7% (last week 16.7%)",
        ] {
            assert!(body.lines().any(|l| l == line), "{line:?} in\n{body}");
        }
    }

    #[test]
    fn bodies_take_the_shape_of_each_format() {
        let d = digest(false);
        assert_eq!(
            webhook_body(&d, WebhookFormat::Wecom)["msgtype"],
            "markdown"
        );
        let ding = webhook_body(&d, WebhookFormat::Dingtalk);
        assert_eq!(ding["markdown"]["title"], subject(&d));
        assert!(
            webhook_body(&d, WebhookFormat::Slack)["text"]
                .as_str()
                .unwrap()
                .starts_with("*Floorwatch")
        );
        assert_eq!(
            webhook_body(&d, WebhookFormat::Json)["digest"]["scope"],
            "site:north"
        );
        let cut_text = cut("aé".repeat(1000), 100);
        assert!(cut_text.len() <= 100 && cut_text.ends_with('…'));
    }
}
