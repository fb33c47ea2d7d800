//! The live floor: the core engine plus what the server keeps beside it, the per-minute history
//! of each scope (for sparklines), lateness accounting and a version that changes whenever a
//! figure might have.
//!
//! One [`Floor`] lives behind a mutex held briefly: the recorder applies journaled events, the
//! wall-clock ticker advances time, the publisher and the HTTP API read figures.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use floorwatch_core::wire::MinutePoint;
use floorwatch_core::{
    AgentView, Applied, Engine, EngineError, Event, Figures, Millis, OrgError, Organisation,
    QueueView, Scope, Window,
};

/// Minutes of history kept per scope (the sparklines show the last hour).
pub const HISTORY_MINUTES: usize = 60;
const MINUTE: Millis = 60_000;
/// Before this the engine's clock has not been set by any event or tick (2000-01-01).
const CLOCK_UNSET_BEFORE: Millis = 946_684_800_000;

/// What became of one event on the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub applied: Applied,
    /// How far behind the floor's clock the event was, when beyond the lateness allowance.
    /// Late events are applied all the same: the engine puts them in the windows they belong
    /// to, so "today" stays right; they are counted and reported so the sender gets fixed.
    pub late_by: Option<Millis>,
}

/// The floor shared between tasks.
pub type SharedFloor = Arc<Mutex<Floor>>;

/// Locks the floor. A panic while it was held (an engine bug) poisons the lock; the state is
/// still the best there is, so readers go on rather than take the whole server down.
pub fn lock(floor: &SharedFloor) -> MutexGuard<'_, Floor> {
    floor.lock().unwrap_or_else(|poisoned| {
        tracing::error!("the floor's lock was poisoned by a panic; continuing");
        poisoned.into_inner()
    })
}

pub struct Floor {
    engine: Engine,
    lateness: Millis,
    history: BTreeMap<Scope, VecDeque<MinutePoint>>,
    /// Agent scopes sampled for history while someone subscribes to them; tree and queue
    /// scopes are always sampled.
    sampled_agents: BTreeSet<Scope>,
    version: u64,
}

impl Floor {
    pub fn new(org: &Organisation, lateness_ms: Millis) -> Result<Floor, OrgError> {
        Ok(Floor {
            engine: Engine::new(org)?,
            lateness: lateness_ms,
            history: BTreeMap::new(),
            sampled_agents: BTreeSet::new(),
            version: 0,
        })
    }

    /// Applies one (journaled) event, sampling the history at every minute end it crosses.
    pub fn apply(&mut self, event: &Event) -> Outcome {
        let now = self.engine.now();
        let late_by =
            (now >= CLOCK_UNSET_BEFORE && event.ts < now - self.lateness).then_some(now - event.ts);
        if !event.test {
            // Test calls never move the clock (the engine ignores their time as well).
            self.advance_to(event.ts);
        }
        // The recorder drops ids it has seen before journaling, so the engine need not keep
        // its own record of them (docs/ARCHITECTURE.md, step 2).
        let applied = self.engine.apply_new(event);
        if applied != Applied::Duplicate {
            self.version += 1;
        }
        Outcome { applied, late_by }
    }

    /// Moves the clock to `now` (the wall clock in `--clock wall`).
    pub fn tick(&mut self, now: Millis) {
        if now > self.engine.now() {
            self.advance_to(now);
            self.engine.tick(now);
            self.version += 1;
        }
    }

    /// The engine's clock.
    pub fn now(&self) -> Millis {
        self.engine.now()
    }

    /// Changes whenever any figure may have changed.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn figures(&self, scope: &Scope, window: Window) -> Result<Figures, EngineError> {
        self.engine.figures(scope, window)
    }

    pub fn agents(&self) -> Vec<AgentView> {
        self.engine.agents()
    }

    pub fn queues(&self) -> Vec<QueueView> {
        self.engine.queues()
    }

    pub fn scopes(&self) -> Vec<Scope> {
        self.engine.scopes()
    }

    /// The per-minute points of `scope`, oldest first (at most [`HISTORY_MINUTES`]).
    pub fn history(&self, scope: &Scope) -> Vec<MinutePoint> {
        self.history
            .get(scope)
            .map(|points| points.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Sets the agent scopes to sample for history (the ones subscribed to right now).
    pub fn sample_agent_scopes(&mut self, scopes: BTreeSet<Scope>) {
        self.history
            .retain(|scope, _| !matches!(scope, Scope::Agent(_)) || scopes.contains(scope));
        self.sampled_agents = scopes;
    }

    /// The agents inside `scope`, for an `agents:SCOPE` subscription or `/api/v1/agents`.
    pub fn agents_in(&self, scope: &Scope) -> Result<Vec<AgentView>, EngineError> {
        self.engine.agents_in(scope)
    }

    /// Ticks the engine to each minute end in (now, t] and samples every scope there, so a
    /// point shows the state at the end of its minute whether time moved by an event or by the
    /// wall clock. Only the last [`HISTORY_MINUTES`] boundaries of a long jump matter.
    fn advance_to(&mut self, t: Millis) {
        let now = self.engine.now();
        if t <= now || now < CLOCK_UNSET_BEFORE {
            return;
        }
        let last = t.div_euclid(MINUTE) * MINUTE;
        let first = (now.div_euclid(MINUTE) + 1) * MINUTE;
        let first = first.max(last - (HISTORY_MINUTES as Millis - 1) * MINUTE);
        let mut boundary = first;
        while boundary <= last {
            self.engine.tick(boundary);
            self.sample(boundary - MINUTE);
            boundary += MINUTE;
        }
    }

    fn sample(&mut self, minute: Millis) {
        let mut scopes: Vec<Scope> = self
            .engine
            .scopes()
            .into_iter()
            .filter(|s| !matches!(s, Scope::Agent(_)))
            .collect();
        scopes.extend(self.sampled_agents.iter().cloned());
        for scope in scopes {
            let Ok(f) = self.engine.figures(&scope, Window::Rolling15) else {
                continue;
            };
            let points = self.history.entry(scope).or_default();
            points.push_back(MinutePoint {
                minute,
                service_level_pct: f.service_level_pct,
                waiting: f.waiting_now,
            });
            while points.len() > HISTORY_MINUTES {
                points.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M0: Millis = 1_700_000_040_000; // a minute boundary

    fn event(id: &str, ts: Millis, kind: floorwatch_core::EventKind) -> Event {
        Event {
            v: 1,
            id: id.into(),
            source: "test".into(),
            seq: 1,
            ts,
            test: false,
            kind,
        }
    }

    fn enters(call: &str, ts: Millis) -> Event {
        event(
            call,
            ts,
            floorwatch_core::EventKind::CallEnteredQueue {
                call: call.into(),
                queue: "billing".into(),
                priority: 0,
                caller: None,
                direction: floorwatch_core::Direction::Inbound,
            },
        )
    }

    #[test]
    fn history_samples_each_minute_end_the_clock_crosses() {
        let mut floor = Floor::new(&Organisation::default(), 30_000).unwrap();
        floor.apply(&enters("c1", M0 + 10_000));
        assert!(floor.history(&Scope::Centre).is_empty());
        floor.apply(&enters("c2", M0 + 70_000));
        // Two minutes pass at once: both minute ends are sampled.
        floor.apply(&enters("c3", M0 + 200_000));
        let waiting: Vec<(Millis, u64)> = floor
            .history(&Scope::Centre)
            .iter()
            .map(|p| (p.minute - M0, p.waiting))
            .collect();
        assert_eq!(waiting, vec![(0, 1), (60_000, 2), (120_000, 2)]);
        assert_eq!(floor.history(&Scope::Queue("billing".into())).len(), 3);

        // The wall clock crosses minute ends too.
        floor.tick(M0 + 241_000);
        assert_eq!(
            floor.history(&Scope::Centre).last().unwrap().minute,
            M0 + 180_000
        );
        // A jump of hours keeps the last hour only.
        floor.tick(M0 + 5 * 3_600_000);
        assert_eq!(floor.history(&Scope::Centre).len(), HISTORY_MINUTES);
    }

    #[test]
    fn late_events_are_flagged_and_test_calls_do_not_move_the_clock() {
        let mut floor = Floor::new(&Organisation::default(), 30_000).unwrap();
        let first = floor.apply(&enters("c1", M0 + 100_000));
        assert_eq!(first.late_by, None);
        assert_eq!(floor.apply(&enters("c2", M0 + 80_000)).late_by, None);
        let late = floor.apply(&enters("c3", M0 + 60_000));
        assert_eq!(late.late_by, Some(40_000));
        assert_eq!(late.applied, Applied::Applied);

        let mut test_call = enters("t1", M0 + 900_000);
        test_call.test = true;
        assert_eq!(floor.apply(&test_call).applied, Applied::Test);
        assert_eq!(floor.now(), M0 + 100_000);
    }
}
