//! Call detail records: one record per queue visit whose outcome is known, as history keeps it
//! beside the interval rows (docs/HISTORY.md, "Calls").
//!
//! The engine writes a visit's record from the same judgement that counts it in the interval
//! rows (its queue's T and S at the outcome, the switch's own wait when reported,
//! docs/METRICS.md "Calls"), so the calls behind a figure are exactly the calls the figure
//! counted: a drill-down can never disagree with the interval report.
//!
//! Records are kept by the ledger while history is on and handed over at each close, whole
//! (not as deltas): the store replaces a visit's record by its latest one, so a late event that
//! changes a visit (its talk time) rewrites it, and any grouping of closes ends with the same
//! records.

use serde::{Deserialize, Serialize};

use crate::event::Millis;
use crate::service_level::ServiceLevelVariant;

/// How a queue visit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    /// An agent answered it.
    Answered,
    /// The caller hung up while waiting.
    Abandoned,
    /// It left the queue by the switch's rule (time-out, overflow, exit key, empty queue).
    TimedOut,
    /// It entered another queue while still waiting here: no queue outcome is counted for it
    /// (docs/METRICS.md, "Calls"), so it is outside every service-level figure.
    Transferred,
}

impl VisitOutcome {
    /// Every outcome, in the order reports list them.
    pub const ALL: [VisitOutcome; 4] = [
        VisitOutcome::Answered,
        VisitOutcome::Abandoned,
        VisitOutcome::TimedOut,
        VisitOutcome::Transferred,
    ];

    /// The name in the API and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            VisitOutcome::Answered => "answered",
            VisitOutcome::Abandoned => "abandoned",
            VisitOutcome::TimedOut => "timed_out",
            VisitOutcome::Transferred => "transferred",
        }
    }

    /// The outcome named `name` ([`VisitOutcome::as_str`]).
    pub fn parse(name: &str) -> Option<VisitOutcome> {
        VisitOutcome::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// Where a visit stands against a service-level variant (docs/METRICS.md, "Service level").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceLevelClass {
    /// In the numerator and the denominator.
    Met,
    /// In the denominator, not in the numerator: one of the calls that make the gap.
    Missed,
    /// In neither (a short abandon under the default variant, an unanswered call under
    /// `answered_over_answered`, a visit moved on while waiting).
    Excluded,
}

impl ServiceLevelClass {
    /// The name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceLevelClass::Met => "met",
            ServiceLevelClass::Missed => "missed",
            ServiceLevelClass::Excluded => "excluded",
        }
    }
}

/// One queue visit with its outcome, as history stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallDetail {
    /// Opaque, stable and URL-safe ([`visit_id`]): a rebuild gives the same id.
    pub id: String,
    /// The switch's call id.
    pub call: String,
    /// The queue visited.
    pub queue: String,
    /// When the visit began: the outcome time less the wait, UTC ms.
    pub entered_ms: Millis,
    /// The wait as counted (the switch's own when reported).
    pub wait_ms: Millis,
    /// How the visit ended.
    pub outcome: VisitOutcome,
    /// When, UTC ms: the time the interval rows count it at.
    pub outcome_ms: Millis,
    /// Wait <= the queue's T at the outcome (counted as within threshold).
    pub within: bool,
    /// An abandon with wait < the queue's S (counted as a short abandon).
    pub short: bool,
    /// The agent who answered.
    pub agent: Option<String>,
    /// Talk time, once the agent's talk has ended.
    pub talk_ms: Option<Millis>,
    /// Hold time summed from hold events, once the talk has ended (0 when none was reported).
    pub hold_ms: Option<Millis>,
    /// The agent's talk ended in a transfer.
    pub transferred: bool,
    /// The caller number as the switch sent it (never shown but through the audited unmask).
    pub caller: Option<String>,
}

impl CallDetail {
    /// Where this visit stands in a service level of `variant`, judged by its own queue's T and
    /// S as the interval rows count it, so the `missed` calls of a window are exactly its
    /// denominator less its numerator (docs/METRICS.md, "Service level").
    pub fn service_level(&self, variant: ServiceLevelVariant) -> ServiceLevelClass {
        use ServiceLevelClass::{Excluded, Met, Missed};
        use VisitOutcome::{Abandoned, Answered, Transferred};
        let met_or_missed = |met: bool| if met { Met } else { Missed };
        match (variant, self.outcome) {
            (_, Transferred) => Excluded,
            (ServiceLevelVariant::AnsweredOverOffered, Abandoned) if self.short => Excluded,
            (ServiceLevelVariant::AnsweredOverAnswered, o) if o != Answered => Excluded,
            (ServiceLevelVariant::AnsweredOverOfferedExclAbandonedWithin, Abandoned)
                if self.within =>
            {
                Excluded
            }
            (ServiceLevelVariant::RemovedOverOffered, _) => met_or_missed(self.within),
            (_, o) => met_or_missed(o == Answered && self.within),
        }
    }
}

/// A visit's id: its outcome time and a 64-bit FNV-1a hash of its call and queue, as
/// `OUTCOME_MS-HEX16`. Stable across versions (FNV is fixed, unlike a hasher's defaults), the
/// same in a rebuild, URL-safe, and ordered by outcome within the same length. Two visits share
/// one only if they end in the same millisecond and their call and queue hash alike.
pub fn visit_id(call: &str, queue: &str, outcome_ms: Millis) -> String {
    VisitId::new(call, queue, outcome_ms).as_str().to_string()
}

/// A [`visit_id`] written on the stack: the engine looks a visit up by it each time it notes
/// the visit again (its answer, its talk's end), and a `String` per look-up was a measurable
/// share of the recorder's allocations (issue 15).
pub(crate) struct VisitId {
    bytes: [u8; VisitId::MAX_LEN],
    len: usize,
}

impl VisitId {
    /// A sign, 20 digits of milliseconds, a dash and 16 hex digits.
    const MAX_LEN: usize = 1 + 20 + 1 + 16;

    pub(crate) fn new(call: &str, queue: &str, outcome_ms: Millis) -> VisitId {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in call.bytes().chain([0xff]).chain(queue.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // Written by hand: `format!` was most of the cost of noting a visit, several times per
        // call on the engine's one thread (issue 15).
        let mut id = VisitId {
            bytes: [0; VisitId::MAX_LEN],
            len: 0,
        };
        if outcome_ms < 0 {
            id.push(b'-');
        }
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = outcome_ms.unsigned_abs();
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        for &d in &digits[at..] {
            id.push(d);
        }
        id.push(b'-');
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for i in (0..16).rev() {
            id.push(HEX[((h >> (i * 4)) & 0xf) as usize]);
        }
        id
    }

    fn push(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits, '-' and hex digits are ever pushed.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// The outcome time a visit id carries ([`visit_id`]), if it is one.
pub fn visit_id_time(id: &str) -> Option<Millis> {
    let (ms, hash) = id.split_once('-')?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| ms.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(outcome: VisitOutcome, within: bool, short: bool) -> CallDetail {
        CallDetail {
            id: visit_id("c1", "q", 1_000),
            call: "c1".into(),
            queue: "q".into(),
            entered_ms: 0,
            wait_ms: 1_000,
            outcome,
            outcome_ms: 1_000,
            within,
            short,
            agent: None,
            talk_ms: None,
            hold_ms: None,
            transferred: false,
            caller: None,
        }
    }

    #[test]
    fn each_variant_classes_a_visit_as_its_formula_counts_it() {
        use ServiceLevelClass::*;
        use ServiceLevelVariant::*;
        use VisitOutcome::*;
        let cases = [
            // (outcome, within, short) → default, over answered, removed, excl. abandoned within
            ((Answered, true, false), [Met, Met, Met, Met]),
            ((Answered, false, false), [Missed, Missed, Missed, Missed]),
            ((Abandoned, true, true), [Excluded, Excluded, Met, Excluded]),
            ((Abandoned, true, false), [Missed, Excluded, Met, Excluded]),
            (
                (Abandoned, false, false),
                [Missed, Excluded, Missed, Missed],
            ),
            ((TimedOut, true, false), [Missed, Excluded, Met, Missed]),
            ((TimedOut, false, false), [Missed, Excluded, Missed, Missed]),
            ((Transferred, true, false), [Excluded; 4]),
        ];
        let variants = [
            AnsweredOverOffered,
            AnsweredOverAnswered,
            RemovedOverOffered,
            AnsweredOverOfferedExclAbandonedWithin,
        ];
        for ((outcome, within, short), expected) in cases {
            for (variant, class) in variants.into_iter().zip(expected) {
                assert_eq!(
                    visit(outcome, within, short).service_level(variant),
                    class,
                    "{outcome:?} within={within} short={short} under {variant:?}"
                );
            }
        }
    }

    fn fnv(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h: u64, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    #[test]
    fn a_visit_id_is_stable_and_carries_its_outcome_time() {
        let id = visit_id("1741425243.17", "sales", 1_741_425_300_000);
        assert_eq!(id, visit_id("1741425243.17", "sales", 1_741_425_300_000));
        assert_ne!(id, visit_id("1741425243.17", "support", 1_741_425_300_000));
        assert_ne!(visit_id("ab", "c", 0), visit_id("a", "bc", 0));
        assert_eq!(visit_id_time(&id), Some(1_741_425_300_000));
        assert_eq!(visit_id_time("1741425243.17"), None);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        // The same text as `format!("{outcome_ms}-{h:016x}")`, written by hand.
        for ms in [0, 7, 10, 1_741_425_300_000, -1, -1_000, i64::MAX, i64::MIN] {
            let id = visit_id("c", "q", ms);
            let (at, hash) = id.rsplit_once('-').unwrap();
            assert_eq!(at, ms.to_string(), "{id}");
            assert_eq!(hash.len(), 16, "{id}");
            assert_eq!(
                id,
                format!("{ms}-{:016x}", u64::from_str_radix(hash, 16).unwrap())
            );
        }
        assert_eq!(visit_id("a", "b", 5), format!("5-{:016x}", fnv(b"a\xffb")));
    }
}
