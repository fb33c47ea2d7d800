//! The figures a metric rule can watch: every number of [`Figures`], by the field name
//! docs/METRICS.md gives it, plus `longest_waiting_s` (the live longest wait, derived from
//! `oldest_waiting_since`) and the agent counts of `agents`.

use std::str::FromStr;

use crate::engine::Needs;
use crate::event::Millis;
use crate::figures::Figures;

macro_rules! metrics {
    ($($variant:ident => $name:literal,)*) => {
        /// A figure of docs/METRICS.md, by its field name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Metric {
            $(#[doc = concat!("`", $name, "`.")] $variant,)*
        }

        impl Metric {
            /// Every metric, in the order docs/ALERTS.md lists them.
            pub const ALL: [Metric; [$($name),*].len()] = [$(Metric::$variant),*];

            /// The metric's name in config and on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Metric::$variant => $name,)*
                }
            }
        }
    };
}

metrics! {
    Offered => "offered",
    Answered => "answered",
    Abandoned => "abandoned",
    ShortAbandoned => "short_abandoned",
    TimedOut => "timed_out",
    AnsweredWithinThreshold => "answered_within_threshold",
    IvrCompleted => "ivr_completed",
    Handled => "handled",
    ServiceLevelPct => "service_level_pct",
    AnswerRatePct => "answer_rate_pct",
    AbandonRatePct => "abandon_rate_pct",
    AsaS => "asa_s",
    MaxWaitS => "max_wait_s",
    AvgTalkS => "avg_talk_s",
    AvgHoldS => "avg_hold_s",
    AvgAcwS => "avg_acw_s",
    AhtS => "aht_s",
    OccupancyPct => "occupancy_pct",
    UtilisationPct => "utilisation_pct",
    WaitP50S => "wait_p50_s",
    WaitP90S => "wait_p90_s",
    WaitP99S => "wait_p99_s",
    HandleP50S => "handle_p50_s",
    HandleP90S => "handle_p90_s",
    HandleP99S => "handle_p99_s",
    WaitingNow => "waiting_now",
    LongestWaitingS => "longest_waiting_s",
    AgentsLoggedIn => "agents_logged_in",
    AgentsAvailable => "agents_available",
    AgentsNotReady => "agents_not_ready",
    AgentsNeeded => "agents_needed",
}

impl FromStr for Metric {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

impl Metric {
    /// The figure's value in `f` at `now` (the engine's clock); `None` where docs/METRICS.md
    /// says the figure is null (a zero denominator: "—").
    pub fn value(self, f: &Figures, now: Millis) -> Option<f64> {
        let count = |n: u64| Some(n as f64);
        match self {
            Metric::Offered => count(f.offered),
            Metric::Answered => count(f.answered),
            Metric::Abandoned => count(f.abandoned),
            Metric::ShortAbandoned => count(f.short_abandoned),
            Metric::TimedOut => count(f.timed_out),
            Metric::AnsweredWithinThreshold => count(f.answered_within_threshold),
            Metric::IvrCompleted => count(f.ivr_completed),
            Metric::Handled => count(f.handled),
            Metric::ServiceLevelPct => f.service_level_pct,
            Metric::AnswerRatePct => f.answer_rate_pct,
            Metric::AbandonRatePct => f.abandon_rate_pct,
            Metric::AsaS => f.asa_s,
            Metric::MaxWaitS => f.max_wait_s,
            Metric::AvgTalkS => f.avg_talk_s,
            Metric::AvgHoldS => f.avg_hold_s,
            Metric::AvgAcwS => f.avg_acw_s,
            Metric::AhtS => f.aht_s,
            Metric::OccupancyPct => f.occupancy_pct,
            Metric::UtilisationPct => f.utilisation_pct,
            Metric::WaitP50S => f.wait_p50_s,
            Metric::WaitP90S => f.wait_p90_s,
            Metric::WaitP99S => f.wait_p99_s,
            Metric::HandleP50S => f.handle_p50_s,
            Metric::HandleP90S => f.handle_p90_s,
            Metric::HandleP99S => f.handle_p99_s,
            Metric::WaitingNow => count(f.waiting_now),
            Metric::LongestWaitingS => f
                .oldest_waiting_since
                .map(|since| (now - since).max(0) as f64 / 1000.0),
            Metric::AgentsLoggedIn => count(f.agents.logged_in.into()),
            Metric::AgentsAvailable => count(f.agents.available.into()),
            Metric::AgentsNotReady => count(f.agents.not_ready.into()),
            Metric::AgentsNeeded => f.agents_needed.map(f64::from),
        }
    }

    /// What a read of the engine must include for this figure ([`Needs`]): a rule on service
    /// level reads sums only, and never builds percentiles or looks at every agent (issue 15).
    pub fn needs(self) -> Needs {
        let mut needs = Needs::SUMS;
        match self {
            Metric::OccupancyPct | Metric::UtilisationPct => needs.state_time = true,
            Metric::WaitP50S | Metric::WaitP90S | Metric::WaitP99S => {
                needs.wait_percentiles = true;
            }
            Metric::HandleP50S | Metric::HandleP90S | Metric::HandleP99S => {
                needs.handle_percentiles = true;
            }
            Metric::AgentsLoggedIn | Metric::AgentsAvailable | Metric::AgentsNotReady => {
                needs.agents = true;
            }
            Metric::AgentsNeeded => needs.agents_needed = true,
            _ => {}
        }
        needs
    }

    /// Whether the figure is live (now) rather than summed over the rule's window.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            Metric::WaitingNow
                | Metric::LongestWaitingS
                | Metric::AgentsLoggedIn
                | Metric::AgentsAvailable
                | Metric::AgentsNotReady
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in Metric::ALL {
            assert_eq!(m.as_str().parse::<Metric>(), Ok(m));
        }
        assert!("foo".parse::<Metric>().is_err());
    }
}
