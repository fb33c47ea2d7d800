//! floorwatch-server: accepts events from switches and simulators, journals every one it
//! acknowledges, keeps the floor's figures live with the core engine, and pushes them to every
//! wallboard over websockets within a fraction of a second.
//!
//! Modules follow the data: the web edge (`http`) and the `sources` and `demo` feed the
//! `recorder`, which writes the `journal` and applies events to the `floor`; the `live`
//! publisher pushes what changed. Every module is private: the binary (`main.rs`) needs only
//! [`Cli`], [`Settings`] and [`run`]. The code map is in docs/ARCHITECTURE.md.

mod accounts;
mod alerts;
mod app;
mod apply;
mod atomic_file;
mod audit;
mod calls;
mod checkpoint;
mod cli;
mod cluster;
mod config;
mod config_audit;
mod demo;
mod digest;
mod effects;
mod event_lines;
mod floor;
mod heap;
mod history;
mod horizon;
mod http;
mod journal;
mod live;
mod ndjson_log;
mod permission;
mod priority;
mod pulse;
mod recorder;
mod secret;
mod seen_ids;
mod serve;
#[cfg(test)]
mod shape_check;
mod shutdown;
mod sources;
mod spreadsheet;
mod start;
mod telemetry;
#[cfg(test)]
mod test_nats;
mod tls;

pub use app::run;
pub use cli::Cli;
pub use config::{Settings, SettingsError};
