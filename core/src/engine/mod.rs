//! The metric engine: fed canonical events in order of arrival, clocked by event time and
//! explicit ticks only, answering every figure of docs/METRICS.md for every scope and window.

use crate::event::{Event, Millis};
use crate::figures::{AgentView, Applied, Figures, QueueView};
use crate::org::{OrgError, Organisation};
use crate::scope::{Scope, Window};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("unknown scope `{0}`")]
    UnknownScope(Scope),
}

/// Deterministic in-memory figures for one centre.
pub struct Engine {
    now: Millis,
}

impl Engine {
    /// An engine for `org`, which must validate.
    pub fn new(org: &Organisation) -> Result<Engine, OrgError> {
        org.validate()?;
        todo!("lead is writing the engine")
    }

    /// Applies one event; its time advances the clock if it is the latest seen.
    pub fn apply(&mut self, event: &Event) -> Applied {
        let _ = event;
        todo!()
    }

    /// Advances the clock to `now` (never backwards).
    pub fn tick(&mut self, now: Millis) {
        self.now = self.now.max(now);
    }

    /// The engine's clock: the latest event time or tick seen.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Every figure for `scope` over `window` at the engine's clock.
    pub fn figures(&self, scope: &Scope, window: Window) -> Result<Figures, EngineError> {
        let _ = (scope, window);
        todo!()
    }

    /// Every agent known, configured or seen, in id order.
    pub fn agents(&self) -> Vec<AgentView> {
        todo!()
    }

    /// Every queue known, configured or seen, in id order.
    pub fn queues(&self) -> Vec<QueueView> {
        todo!()
    }

    /// Every scope the engine can answer for.
    pub fn scopes(&self) -> Vec<Scope> {
        todo!()
    }
}
