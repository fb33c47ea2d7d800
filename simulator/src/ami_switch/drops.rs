//! When the switch drops its clients' connections: after given events, every N events, or at
//! random with a seed. Counted in the day's events (their `SequenceNumber`s), which do not
//! depend on who is connected, so a plan drops at the same places on every run.
//!
//! A drop happens at the end of a moment (all events with the same time), never between two
//! events of one instant: QueueCallerAbandon, QueueCallerLeave and Hangup of a caller who gives
//! up stay together, as they do on a real switch's wire.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// Where the links drop.
#[derive(Debug)]
pub struct DropPlan {
    /// After these event numbers, ascending.
    at: Vec<u64>,
    every: Option<u64>,
    random: Option<(f64, ChaCha8Rng)>,
}

impl DropPlan {
    /// Drops after each event number of `at`, after every `every` events, and after each event
    /// with probability `random.0` (seeded by `random.1`).
    pub fn new(mut at: Vec<u64>, every: Option<u64>, random: Option<(f64, u64)>) -> DropPlan {
        at.sort_unstable();
        at.dedup();
        DropPlan {
            at,
            every: every.filter(|n| *n > 0),
            random: random
                .filter(|(p, _)| *p > 0.0)
                .map(|(p, seed)| (p.min(1.0), ChaCha8Rng::seed_from_u64(seed))),
        }
    }

    /// No drops at all.
    pub fn never() -> DropPlan {
        DropPlan::new(Vec::new(), None, None)
    }

    /// The moment just released held events `after + 1 ..= upto`: whether the links drop now.
    /// Call it for every moment, whoever is connected, so random drops fall at the same events
    /// on every run.
    pub fn after_moment(&mut self, after: u64, upto: u64) -> bool {
        let mut drop = false;
        while let Some(&n) = self.at.first()
            && n <= upto
        {
            self.at.remove(0);
            drop |= n > after;
        }
        if let Some(every) = self.every {
            drop |= upto / every > after / every;
        }
        if let Some((p, rng)) = &mut self.random {
            for _ in after..upto {
                drop |= rng.random_bool(*p);
            }
        }
        drop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drops(plan: &mut DropPlan, moments: &[u64]) -> Vec<u64> {
        let mut last = 0;
        let mut out = Vec::new();
        for &upto in moments {
            if plan.after_moment(last, upto) {
                out.push(upto);
            }
            last = upto;
        }
        out
    }

    #[test]
    fn drops_fall_at_the_end_of_the_moment_holding_the_event() {
        let moments = [3, 5, 9, 10, 14, 20, 21];
        assert_eq!(
            drops(&mut DropPlan::new(vec![9, 4, 4], None, None), &moments),
            vec![5, 9]
        );
        assert_eq!(
            drops(&mut DropPlan::new(vec![], Some(5), None), &moments),
            vec![5, 10, 20]
        );
        assert!(drops(&mut DropPlan::never(), &moments).is_empty());
    }

    #[test]
    fn random_drops_repeat_with_the_seed() {
        let moments: Vec<u64> = (1..=10_000).map(|i| i * 3).collect();
        let a = drops(&mut DropPlan::new(vec![], None, Some((0.001, 7))), &moments);
        let b = drops(&mut DropPlan::new(vec![], None, Some((0.001, 7))), &moments);
        let c = drops(&mut DropPlan::new(vec![], None, Some((0.001, 8))), &moments);
        assert_eq!(a, b);
        assert_ne!(a, c);
        // About 30 expected in 30,000 events.
        assert!((10..=60).contains(&a.len()), "{}", a.len());
    }
}
