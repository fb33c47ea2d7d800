//! floorwatch-server: accepts events from switches and simulators, journals every one it
//! acknowledges, keeps the floor's figures live with the core engine, and pushes them to every
//! wallboard over websockets within a fraction of a second.
//!
//! Modules follow the data: [`ingest`] and [`demo`] feed the [`recorder`], which writes the
//! [`journal`] and applies events to the [`floor`]; the [`live`] publisher pushes what changed;
//! [`api`] answers reads. [`identity`] sits in front of every request.

pub mod accounts;
pub mod alerts;
pub mod api;
pub mod app;
pub mod assets;
pub mod atomic_file;
pub mod audit;
pub mod calls;
pub mod config;
pub mod demo;
pub(crate) mod devices;
pub mod edge;
pub mod export;
pub mod floor;
pub mod history;
pub mod horizon;
pub mod identity;
pub mod ingest;
pub mod journal;
pub mod journal_command;
pub mod live;
pub mod permission;
pub mod recorder;
pub mod seen_ids;
pub mod serve;
pub mod signin;
pub mod sources;
pub mod telemetry;
pub mod tls;

pub use app::run;
pub use config::{Cli, Settings};
