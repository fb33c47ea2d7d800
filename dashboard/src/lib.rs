//! The Floorwatch wallboard: a Leptos client-side app with a wall view for the TV and a
//! supervisor view, fed by the server's `/api/v1/live` websocket (core/src/wire.rs).
//!
//! Everything that decides what the screen says (formatting, colours, labels, routing, frame
//! order, sorting, break allowances) is plain Rust in the modules below and is unit-tested on
//! the host; the browser glue under `app` compiles for wasm32 only. `cargo xtask dist` builds
//! and bundles it into `target/dist/`, which the server serves at `/`.

pub mod agents;
pub mod alerts;
pub mod audit;
pub mod devices;
pub mod figure;
pub mod format;
pub mod header;
pub mod i18n;
pub mod live;
pub mod reports;
pub mod route;
pub mod session;
pub mod sort;
pub mod sparkline;
pub mod tone;

// The wallboard (the TV's bundle) or, built with the `reports` feature, the reports page: one
// crate, two wasm modules, so the reports page never weighs on the TV's first load.
// Requests to the JSON API, for both modules.
#[cfg(all(target_arch = "wasm32", not(feature = "reports")))]
// Leptos' `#[component]` expands to `pub` items whatever the function's own visibility.
#[allow(unreachable_pub)]
mod app;
#[cfg(target_arch = "wasm32")]
mod http;
#[cfg(all(target_arch = "wasm32", feature = "reports"))]
#[allow(unreachable_pub)]
mod reports_app;
