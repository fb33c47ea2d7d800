//! floorwatch-sim: a discrete-event simulation of a call centre's day, producing the canonical
//! events of `floorwatch_core::event`.
//!
//! ```no_run
//! use floorwatch_sim::{Scenario, Simulation};
//! let scenario = Scenario::preset("small")?;
//! let org = scenario.organisation(); // what the server's engine is configured with
//! for event in Simulation::new(&scenario, jiff::civil::date(2026, 3, 9), 42) {
//!     println!("{}", event.to_json());
//! }
//! # Ok::<(), floorwatch_sim::ScenarioError>(())
//! ```
//!
//! A seed gives the same day, byte for byte. The server's `--demo` uses
//! [`Simulation::starting_at`] to show a live floor from the first second. The `floorwatch-sim`
//! binary records, streams, replays and reports days (see its `--help`), and serves a day as a
//! fake Asterisk switch over AMI ([`ami_switch`], `floorwatch-sim ami-server`).

pub mod ami_switch;
pub mod clock;
pub mod curve;
pub mod distribution;
pub mod esl_switch;
mod model;
mod record;
pub mod scenario;
mod simulation;

pub use record::SOURCE;
pub use scenario::{Scenario, ScenarioError};
pub use simulation::Simulation;
