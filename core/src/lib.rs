//! Floorwatch core: the canonical event model, the organisation and its settings, and the
//! deterministic metric engine every screen's figures come from.
//!
//! Pure by design: no tokio, no I/O, no wall clock. The engine's clock is event time plus
//! explicit [`Engine::tick`] calls, so a day replayed at 1000x gives the figures it gave live.
//! Compiles for wasm32 too, so the dashboard shares the wire types.

pub mod alerts;
pub mod ami;
pub mod calendar;
pub mod caller;
pub mod engine;
pub mod erlang;
pub mod esl;
pub mod event;
mod event_canonical;
mod event_parse;
pub mod figures;
pub mod history;
pub mod opening_hours;
pub mod org;
pub mod queue_log;
pub mod role;
pub mod scope;
pub mod serde_str;
pub mod service_level;
pub mod time;
pub mod wire;

// The crate `serde_via_str!` expands to, so its users need no `serde` of their own by that name.
#[doc(hidden)]
pub use serde as __serde;

pub use calendar::CentreCalendar;
pub use engine::{Engine, EngineError, EngineSnapshot, Needs, PointFrom, ReadFrom};
pub use event::{AgentState, Direction, Event, EventError, EventKind, Millis, NotReadyReason};
pub use figures::{AgentStateCounts, AgentView, Applied, Figures, QueueView};
pub use org::{OrgError, Organisation};
pub use role::Role;
pub use scope::{Scope, ScopeError, Window};
pub use service_level::{ServiceLevelSettings, ServiceLevelVariant};
