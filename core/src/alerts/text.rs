//! Alerts in words, for people: one line per alert, and a batch as a short message with local
//! times (the centre's zone). Used by the webhook bodies and available to the wallboard.

use std::fmt::Write as _;

use jiff::Timestamp;

use super::batch::{Notice, NotificationBatch};
use super::book::{Alert, ChangeKind};
use super::rules::RuleKind;
use crate::calendar::CentreCalendar;
use crate::event::Millis;

impl Alert {
    /// One line saying what is wrong, where, by how much.
    pub fn summary(&self) -> String {
        let value = self.value.map_or_else(|| "—".to_string(), number);
        match self.kind {
            RuleKind::Metric => {
                let window = self.window.map(|w| format!(" ({w})")).unwrap_or_default();
                format!(
                    "{}: {} {value} {} {}{window}",
                    self.scope,
                    self.metric,
                    self.comparison.as_str(),
                    number(self.threshold)
                )
            }
            RuleKind::NotReadyOverrun => format!(
                "{} ({}): not ready ({}) for {}, allowance {}",
                self.agent_name.as_deref().unwrap_or("?"),
                self.scope,
                self.reason.map_or("other", |r| r.as_str()),
                self.value.map_or_else(|| "—".to_string(), duration),
                duration(self.threshold)
            ),
            RuleKind::SourceSilent => format!(
                "source {}: no event for {}, limit {}",
                self.source.as_deref().unwrap_or("?"),
                self.value.map_or_else(|| "—".to_string(), duration),
                duration(self.threshold)
            ),
            RuleKind::SuddenPeak => format!(
                "{}: {value} arrivals in 5 min, usual {}, limit {}",
                self.scope,
                self.usual.map_or_else(|| "—".to_string(), number),
                number(self.threshold)
            ),
            RuleKind::DroppedCalls => format!(
                "{}: {value} calls ended just after answer, limit {}",
                self.scope,
                number(self.threshold)
            ),
        }
    }
}

/// A batch as text: a header line, then one line per notice, cut at whole lines to fit
/// `max_bytes` (the receiver's limit) with a last line saying how many were left out.
pub fn batch_text(
    batch: &NotificationBatch,
    calendar: &CentreCalendar,
    max_bytes: usize,
) -> String {
    let n = batch.notices.len();
    let mut text = format!(
        "[Floorwatch] {n} alert change{} at {}",
        if n == 1 { "" } else { "s" },
        local_time(batch.at, calendar)
    );
    for (i, notice) in batch.notices.iter().enumerate() {
        let line = format!("\n{}", notice_line(notice, calendar));
        // Room is kept for the line that would say how many are left after this one, so the
        // cut always fits.
        let after = n - i - 1;
        let reserve = if after > 0 {
            format!("\n… and {after} more").len()
        } else {
            0
        };
        if text.len() + line.len() + reserve > max_bytes {
            let _ = write!(text, "\n… and {} more", n - i);
            break;
        }
        text.push_str(&line);
    }
    text
}

fn notice_line(notice: &Notice, calendar: &CentreCalendar) -> String {
    let alert = &notice.alert;
    let level = alert.level.as_str().to_uppercase();
    let when = local_time(notice.at, calendar);
    let what = match notice.change {
        ChangeKind::Raised => format!("{level} raised"),
        ChangeKind::LevelChanged => format!("now {level}"),
        ChangeKind::Escalated => format!("{level} escalated to {}", alert.escalated_to.as_str()),
        ChangeKind::Acknowledged => match &alert.acknowledged {
            Some(ack) if !ack.note.is_empty() => {
                format!("acknowledged by {} (\"{}\")", ack.by, ack.note)
            }
            Some(ack) => format!("acknowledged by {}", ack.by),
            None => "acknowledged".to_string(),
        },
        ChangeKind::Cleared => "cleared".to_string(),
    };
    format!("• {when} {what}: {}", alert.summary())
}

/// `HH:MM:SS` on the centre's clock.
pub fn local_time(at: Millis, calendar: &CentreCalendar) -> String {
    Timestamp::from_millisecond(at)
        .map(|ts| {
            ts.to_zoned(calendar.time_zone().clone())
                .strftime("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| at.to_string())
}

/// A number as people read it: whole numbers without decimals, others with one.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Seconds as `45s`, `17m05s` or `1h02m`.
fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations_read_well() {
        assert_eq!(number(80.0), "80");
        assert_eq!(number(55.555), "55.6");
        assert_eq!(duration(45.0), "45s");
        assert_eq!(duration(1025.0), "17m05s");
        assert_eq!(duration(3720.0), "1h02m");
    }
}
