//! Phases: many clients are served in turns across the push interval, not all at one instant
//! (issue 15, "Fan-out").
//!
//! Under load a change waits for its client's next push, at most one push interval, and then
//! for its turn among the clients written in that push. With every client in one push, the
//! last of 10,000 waits for 9,999 socket writes (about 100 ms of two cores on loopback) on top
//! of the interval, and a change near the end of an interval reached it well after the
//! interval. So past [`CLIENTS_PER_PHASE`] clients are split by id into phases (a power of
//! two, at most [`MAX_PHASES`]), and the paced pushes go to one phase at a time, a fraction of
//! the interval apart: each client still gets at most one delta per interval, read from the
//! floor at its own turn, and a push writes to a few hundred sockets instead of all of them.
//! A quiet floor is unchanged: the first change after a push interval of rest goes to every
//! phase at once (so right after rest the first phases' clients may get a second delta within
//! that interval, when their turn comes; under sustained load it is one per interval).
//!
//! Each phase has its own feeds (`super::feed`): a client holds its feed's last published
//! state, and the feeds of a phase are read when that phase is served. A client whose phase
//! changes (the count grew or shrank) is resynced with a snapshot of its new phase's feed;
//! doubling the count moves half the clients, halving it the other half.

use std::time::Duration;

/// Clients one phase serves before they are split into more phases. A push to 1,000 clients
/// takes about 10-15 ms of the server's two cores: at most that is added to the interval.
pub(super) const CLIENTS_PER_PHASE: usize = 1_000;

/// The most phases: a push interval cut finer reads the floor more often than it changes, for
/// a handful of clients a read.
pub(super) const MAX_PHASES: u64 = 16;

/// How clients are split into phases, and which phase's turn is next.
#[derive(Debug)]
pub(super) struct Phases {
    /// How many phases (a power of two, 1 to [`MAX_PHASES`]).
    count: u64,
    /// The phase the next paced push serves.
    next: u64,
    /// Clients a phase serves before the count doubles ([`CLIENTS_PER_PHASE`]; smaller in
    /// tests).
    per_phase: usize,
}

impl Phases {
    pub(super) fn new(per_phase: usize) -> Phases {
        Phases {
            count: 1,
            next: 0,
            per_phase: per_phase.max(1),
        }
    }

    pub(super) fn count(&self) -> u64 {
        self.count
    }

    /// The phase of the client with id `client`.
    pub(super) fn of(&self, client: u64) -> u64 {
        client % self.count
    }

    /// Every phase.
    pub(super) fn all(&self) -> PhaseSet {
        PhaseSet((1u64 << self.count) - 1)
    }

    /// The time between two paced pushes: each phase's turn comes once a push interval.
    pub(super) fn step(&self, interval: Duration) -> Duration {
        interval / self.count as u32
    }

    /// The phase whose turn it is, and the turn moves on.
    pub(super) fn take_turn(&mut self) -> u64 {
        let phase = self.next % self.count;
        self.next = (phase + 1) % self.count;
        phase
    }

    /// Fits the count to `clients` connected; returns the count before if it changed. It
    /// doubles as soon as a phase would hold more than its share, and halves only once the
    /// clients would fit in half the phases at three quarters of their share, so a count near
    /// a boundary does not move every client back and forth.
    pub(super) fn fit(&mut self, clients: usize) -> Option<u64> {
        let needed = clients.div_ceil(self.per_phase).max(1) as u64;
        let wanted = needed.next_power_of_two().min(MAX_PHASES);
        let before = self.count;
        if wanted > before {
            self.count = wanted;
        } else if wanted < before {
            let half = before / 2;
            if (clients as u64) * 4 <= half * self.per_phase as u64 * 3 {
                self.count = wanted.max(1);
            }
        }
        (self.count != before).then_some(before)
    }
}

/// A set of phases (a bit each; [`MAX_PHASES`] fit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct PhaseSet(u64);

impl PhaseSet {
    pub(super) fn one(phase: u64) -> PhaseSet {
        PhaseSet(1 << phase)
    }

    pub(super) fn contains(self, phase: u64) -> bool {
        phase < 64 && self.0 & (1 << phase) != 0
    }

    pub(super) fn insert(&mut self, phase: u64) {
        if phase < 64 {
            self.0 |= 1 << phase;
        }
    }

    pub(super) fn with(self, other: PhaseSet) -> PhaseSet {
        PhaseSet(self.0 | other.0)
    }

    pub(super) fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_doubles_with_the_clients_and_halves_late() {
        let mut phases = Phases::new(1_000);
        assert_eq!(phases.fit(1), None);
        assert_eq!(phases.fit(1_000), None, "1,000 clients are one phase");
        assert_eq!(phases.fit(1_001), Some(1));
        assert_eq!(phases.count(), 2);
        assert_eq!(phases.fit(10_000), Some(2));
        assert_eq!(phases.count(), 16);
        assert_eq!(phases.fit(100_000), None, "at most MAX_PHASES");
        // 16 phases hold up to 16,000; halving to 8 waits until 6,000 (3/4 of 8 x 1,000).
        assert_eq!(phases.fit(7_000), None);
        assert_eq!(phases.fit(6_000), Some(16));
        assert_eq!(phases.count(), 8);
        assert_eq!(phases.fit(100), Some(8), "and straight down to one");
        assert_eq!(phases.count(), 1);
    }

    #[test]
    fn turns_go_round_every_phase_once_per_interval() {
        let mut phases = Phases::new(2);
        phases.fit(7);
        assert_eq!(phases.count(), 4);
        let turns: Vec<u64> = (0..8).map(|_| phases.take_turn()).collect();
        assert_eq!(turns, [0, 1, 2, 3, 0, 1, 2, 3]);
        assert_eq!(
            phases.step(Duration::from_millis(200)),
            Duration::from_millis(50)
        );
        let all = phases.all();
        assert!((0..4).all(|p| all.contains(p)) && !all.contains(4));
        assert_eq!(
            (0..8u64).map(|id| phases.of(id)).collect::<Vec<_>>(),
            [0, 1, 2, 3, 0, 1, 2, 3]
        );
    }
}
