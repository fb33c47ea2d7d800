//! The reports page (`/reports`, issue 12): history's interval table, the day against its
//! comparison, the downloads, and the calls behind a figure (drill-down). Its own wasm module
//! (`cargo xtask dist` builds the dashboard a second time with the `reports` feature), so none
//! of it weighs on the TV's first load; the TV carries only [`drill::href`], the link from a
//! figure to the calls behind it.
//!
//! Everything that decides what the page asks and shows is plain Rust here, unit-tested on the
//! host; the browser glue is `crate::reports_app` (wasm32 with the `reports` feature).

pub mod chart;
pub mod columns;
pub mod drill;
pub mod page;
pub mod text;
