//! Query parameters more than one endpoint takes.

use floorwatch_core::{Scope, Window};
use serde::Deserialize;

use super::error::ApiError;

/// `?scope=SCOPE&window=WINDOW`, as `metrics` and the exports take them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeWindowQuery {
    scope: Option<String>,
    window: Option<String>,
}

impl ScopeWindowQuery {
    /// The scope (default `centre`) and window (default `today`); a bad one is a 400 naming
    /// the parameter.
    pub(crate) fn resolve(&self) -> Result<(Scope, Window), ApiError> {
        let bad = |name: &'static str| {
            move |e: floorwatch_core::ScopeError| ApiError::BadRequest(format!("`{name}`: {e}"))
        };
        let scope = match self.scope.as_deref() {
            None => Scope::Centre,
            Some(text) => text.parse().map_err(bad("scope"))?,
        };
        let window = match self.window.as_deref() {
            None => Window::Today,
            Some(text) => text.parse().map_err(bad("window"))?,
        };
        Ok((scope, window))
    }
}
