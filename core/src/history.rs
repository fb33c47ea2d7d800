//! History's rows: one scope's sums over one quarter-hour, as stored, merged over any range, and
//! read into the figures of docs/METRICS.md (docs/HISTORY.md).
//!
//! A row holds sums, counts, a maximum and two histograms, never a percentage: any range of
//! rows (an hour, a day, a month) adds up exactly, and its figures are derived once, from the
//! total, by the same code as the live wall's ([`crate::engine::from_sums`]). The histograms
//! are the live wall's too ([`crate::engine::empty_histogram`]), so a day's percentiles from its
//! 96 merged quarter-hours equal the live "today" figure.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

pub use crate::engine::call_detail::{
    CallDetail, ServiceLevelClass, VisitOutcome, visit_id, visit_id_time,
};
pub use crate::engine::{IntervalSums, QUARTER_HOUR_MS, Tally};
use crate::engine::{Sums, earliest, empty_histogram, from_sums};

use crate::event::{AgentState, Millis, NotReadyReason};
use crate::figures::{Figures, ServiceLevelVariants};
use crate::scope::{Scope, Window};
use crate::service_level::{ServiceLevelSettings, ServiceLevelVariant};
#[doc(no_inline)]
pub use hdrhistogram;

/// Percentile samples (ms) as a histogram ([`empty_histogram`]), allocated at the first sample:
/// one is 26 KB, and most rows (an agent's quarter-hour) hold no wait at all.
#[derive(Debug, Clone, Default)]
pub struct Samples(Option<Histogram<u64>>);

impl Samples {
    /// Samples read back from a stored histogram (any bounds: they are re-recorded into the
    /// common ones, so stored rows merge exactly whatever wrote them).
    pub fn from_histogram(stored: &Histogram<u64>) -> Result<Samples, String> {
        let mut out = Samples::default();
        if !stored.is_empty() {
            let h = out.0.get_or_insert_with(empty_histogram);
            h.add(stored).map_err(|e| format!("{e:?}"))?;
        }
        Ok(out)
    }

    /// Records one sample (clamped into the histogram's range, as the live wall does).
    pub fn record(&mut self, ms: u32) {
        self.0
            .get_or_insert_with(empty_histogram)
            .saturating_record(u64::from(ms));
    }

    /// Adds every sample of `other`.
    pub fn add(&mut self, other: &Samples) {
        if let Some(theirs) = other.0.as_ref().filter(|h| !h.is_empty()) {
            // Same bounds on both sides (every histogram is `empty_histogram`): cannot fail.
            let _ = self.0.get_or_insert_with(empty_histogram).add(theirs);
        }
    }

    /// How many samples.
    pub fn len(&self) -> u64 {
        self.0.as_ref().map_or(0, Histogram::len)
    }

    /// No sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The histogram, if it holds any sample.
    pub fn histogram(&self) -> Option<&Histogram<u64>> {
        self.0.as_ref().filter(|h| !h.is_empty())
    }
}

impl PartialEq for Samples {
    fn eq(&self, other: &Self) -> bool {
        self.histogram() == other.histogram()
    }
}

/// One scope's sums over a span of quarter-hours: what the history store keeps per quarter-hour
/// and what a report adds up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntervalRow {
    /// Calls' sums and counts, agents' state time (docs/METRICS.md).
    pub tally: Tally,
    /// Not-ready time by reason, indexed by [`NotReadyReason::index`].
    pub not_ready_ms: [i64; NotReadyReason::ALL.len()],
    /// Queue-outcome waits, ms.
    pub waits: Samples,
    /// Handled calls' handle times, ms.
    pub handles: Samples,
    /// An agent's earliest sign-in in the span.
    pub signed_in_at: Option<Millis>,
    /// An agent's latest sign-out in the span.
    pub signed_out_at: Option<Millis>,
}

impl IntervalRow {
    /// Adds what the engine counted since the last close ([`crate::Engine::close_intervals`]).
    pub fn add(&mut self, sums: &IntervalSums) {
        self.tally.add(&sums.tally);
        for (mine, theirs) in self.not_ready_ms.iter_mut().zip(sums.not_ready_ms) {
            *mine += theirs;
        }
        for &w in &sums.waits {
            self.waits.record(w);
        }
        for &h in &sums.handles {
            self.handles.record(h);
        }
        self.signed_in_at = earliest(self.signed_in_at, sums.signed_in_at);
        self.signed_out_at = self.signed_out_at.max(sums.signed_out_at);
    }

    /// Adds another row (of another quarter-hour, or a partial row of the same one).
    pub fn merge(&mut self, other: &IntervalRow) {
        self.tally.add(&other.tally);
        for (mine, theirs) in self.not_ready_ms.iter_mut().zip(other.not_ready_ms) {
            *mine += theirs;
        }
        self.waits.add(&other.waits);
        self.handles.add(&other.handles);
        self.signed_in_at = earliest(self.signed_in_at, other.signed_in_at);
        self.signed_out_at = self.signed_out_at.max(other.signed_out_at);
    }

    /// Nothing counted: such a row is not stored (an interval without one reads as zeros).
    pub fn is_empty(&self) -> bool {
        *self == IntervalRow::default()
    }

    /// The figures of the span `[from, to)` this row sums, for `scope` under `settings` (the
    /// queue's own, the centre's elsewhere).
    pub fn figures(
        &self,
        scope: Scope,
        (from, to): (Millis, Millis),
        settings: &ServiceLevelSettings,
    ) -> IntervalFigures {
        let sums = Sums {
            tally: &self.tally,
            waits: self.waits.histogram(),
            handles: self.handles.histogram(),
        };
        let f = from_sums(scope, Window::Today, (from, to), &sums, settings);
        IntervalFigures {
            signed_in_at: self.signed_in_at,
            signed_out_at: self.signed_out_at,
            ..IntervalFigures::new(f, &self.tally, &self.not_ready_ms)
        }
    }
}

/// Every figure of `/api/v1/metrics` that is not live-only (docs/METRICS.md), for one span of
/// history, plus the agents' time by state and not-ready reason (seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalFigures {
    /// Calls that entered a queue (docs/METRICS.md, `offered`).
    pub offered: u64,
    /// Calls an agent answered.
    pub answered: u64,
    /// Calls the caller hung up on while waiting.
    pub abandoned: u64,
    /// Abandoned within the short-abandon time: not counted against the service level by some variants.
    pub short_abandoned: u64,
    /// Calls the switch took out of the queue unanswered (time-out, overflow).
    pub timed_out: u64,
    /// Calls answered within the service-level threshold.
    pub answered_within_threshold: u64,
    /// Calls finished in IVR self-service.
    pub ivr_completed: u64,
    /// Calls an agent finished (talk ended or transferred).
    pub handled: u64,
    /// Under the scope's own variant (a queue's setting; the centre default elsewhere).
    pub service_level_pct: Option<f64>,
    /// Which service-level formula `service_level_pct` uses.
    pub service_level_variant: ServiceLevelVariant,
    /// The scope's service-level target, percent.
    pub service_level_target_pct: f64,
    /// Every variant, for screens that compare them.
    pub service_level_variants: ServiceLevelVariants,
    /// Answered (and IVR-completed) over offered, percent.
    pub answer_rate_pct: Option<f64>,
    /// Abandoned over offered, percent.
    pub abandon_rate_pct: Option<f64>,
    /// Average speed of answer, seconds.
    pub asa_s: Option<f64>,
    /// Longest wait of an answered or abandoned call, seconds.
    pub max_wait_s: Option<f64>,
    /// Average talk time, seconds.
    pub avg_talk_s: Option<f64>,
    /// Average hold time, seconds.
    pub avg_hold_s: Option<f64>,
    /// Average after-call work, seconds.
    pub avg_acw_s: Option<f64>,
    /// Average handle time (talk + hold + after-call work), seconds.
    pub aht_s: Option<f64>,
    /// Time handling calls over time signed in and not on break, percent.
    pub occupancy_pct: Option<f64>,
    /// Time handling calls over time signed in, percent.
    pub utilisation_pct: Option<f64>,
    /// Median wait of answered calls, seconds.
    pub wait_p50_s: Option<f64>,
    /// 90th percentile wait, seconds.
    pub wait_p90_s: Option<f64>,
    /// 99th percentile wait, seconds.
    pub wait_p99_s: Option<f64>,
    /// Median handle time, seconds.
    pub handle_p50_s: Option<f64>,
    /// 90th percentile handle time, seconds.
    pub handle_p90_s: Option<f64>,
    /// 99th percentile handle time, seconds.
    pub handle_p99_s: Option<f64>,
    /// Signed-in time: every state.
    pub logged_in_s: f64,
    /// Time available or ringing, seconds.
    pub available_s: f64,
    /// Time on call (talking), seconds.
    pub on_call_s: f64,
    /// Time with a caller on hold, seconds.
    pub hold_s: f64,
    /// Time in after-call work, seconds.
    pub after_call_work_s: f64,
    /// Time not ready, seconds.
    pub not_ready_s: f64,
    /// Not-ready time by reason (`break`, `meal`, ...; none given counts as `other`), only the
    /// reasons with time.
    pub not_ready_by_reason_s: BTreeMap<String, f64>,
    /// An agent's first sign-in in the span, UTC ms (agent rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_in_at: Option<Millis>,
    /// An agent's last sign-out in the span, UTC ms (agent rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_out_at: Option<Millis>,
}

impl IntervalFigures {
    fn new(f: Figures, t: &Tally, not_ready_ms: &[i64; 7]) -> IntervalFigures {
        let s = |ms: i64| ms as f64 / 1000.0;
        let state = |st: AgentState| s(t.state(st));
        let not_ready_by_reason_s = NotReadyReason::ALL
            .iter()
            .zip(not_ready_ms)
            .filter(|(_, ms)| **ms != 0)
            .map(|(r, ms)| (r.as_str().to_string(), s(*ms)))
            .collect();
        IntervalFigures {
            offered: f.offered,
            answered: f.answered,
            abandoned: f.abandoned,
            short_abandoned: f.short_abandoned,
            timed_out: f.timed_out,
            answered_within_threshold: f.answered_within_threshold,
            ivr_completed: f.ivr_completed,
            handled: f.handled,
            service_level_pct: f.service_level_pct,
            service_level_variant: f.service_level_variant,
            service_level_target_pct: f.service_level_target_pct,
            service_level_variants: f.service_level_variants,
            answer_rate_pct: f.answer_rate_pct,
            abandon_rate_pct: f.abandon_rate_pct,
            asa_s: f.asa_s,
            max_wait_s: f.max_wait_s,
            avg_talk_s: f.avg_talk_s,
            avg_hold_s: f.avg_hold_s,
            avg_acw_s: f.avg_acw_s,
            aht_s: f.aht_s,
            occupancy_pct: f.occupancy_pct,
            utilisation_pct: f.utilisation_pct,
            wait_p50_s: f.wait_p50_s,
            wait_p90_s: f.wait_p90_s,
            wait_p99_s: f.wait_p99_s,
            handle_p50_s: f.handle_p50_s,
            handle_p90_s: f.handle_p90_s,
            handle_p99_s: f.handle_p99_s,
            logged_in_s: s(t.state_ms.iter().sum()),
            available_s: state(AgentState::Available) + state(AgentState::Ringing),
            on_call_s: state(AgentState::OnCall),
            hold_s: state(AgentState::Hold),
            after_call_work_s: state(AgentState::AfterCallWork),
            not_ready_s: state(AgentState::NotReady),
            not_ready_by_reason_s,
            signed_in_at: None,
            signed_out_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_merge_to_the_row_of_all_their_sums() {
        let mut a = IntervalSums::default();
        a.tally.answered = 2;
        a.tally.max_wait_ms = 4_000;
        a.waits = vec![1_000, 4_000];
        a.not_ready_ms[NotReadyReason::Meal.index()] = 60_000;
        let mut b = IntervalSums::default();
        b.tally.abandoned = 1;
        b.tally.max_wait_ms = 9_000;
        b.waits = vec![9_000];
        let (mut ra, mut rb, mut both) = (
            IntervalRow::default(),
            IntervalRow::default(),
            IntervalRow::default(),
        );
        ra.add(&a);
        rb.add(&b);
        both.add(&a);
        both.add(&b);
        ra.merge(&rb);
        assert_eq!(ra, both);
        assert_eq!(ra.tally.max_wait(), Some(9_000));
        assert_eq!(ra.waits.len(), 3);
        assert!(!ra.is_empty());
        assert!(IntervalRow::default().is_empty());
        let f = ra.figures(
            Scope::Centre,
            (0, QUARTER_HOUR_MS),
            &ServiceLevelSettings::default(),
        );
        assert_eq!((f.offered, f.answered, f.abandoned), (3, 2, 1));
        assert_eq!(f.not_ready_by_reason_s.get("meal"), Some(&60.0));
    }
}
