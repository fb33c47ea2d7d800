//! Condition keys (`RULE/SCOPE`, or `RULE/centre/SOURCE`, docs/ALERTS.md "Built-in kinds"),
//! formatted once per condition and shared after that.
//!
//! Every rule reads every one of its conditions at every 10-second boundary: formatting the key
//! there cost an allocation per condition per boundary, the largest part of alert bookkeeping
//! in a replay (issue 15). A key is now formatted the first time its condition is read and a
//! boundary clones a pointer. This is a cache: it holds nothing that the rules and the floor
//! do not determine, so it is never saved (a checkpoint rebuilds it as conditions are read).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::scope::Scope;

/// A condition's key, shared between the readings of a boundary, the runs being timed and the
/// book (by value: `Alert::key` stays a plain string).
pub(crate) type Key = Arc<str>;

/// The keys of one rule's conditions, by what the condition is about.
#[derive(Debug, Default)]
pub(crate) struct RuleKeys {
    by_scope: FxHashMap<Scope, Key>,
    by_source: FxHashMap<String, Key>,
}

impl RuleKeys {
    /// `RULE/SCOPE`.
    pub(crate) fn scope(&mut self, rule: &str, scope: &Scope) -> Key {
        if let Some(key) = self.by_scope.get(scope) {
            return Key::clone(key);
        }
        let key: Key = Arc::from(format!("{rule}/{scope}"));
        self.by_scope.insert(scope.clone(), Key::clone(&key));
        key
    }

    /// `RULE/centre/SOURCE`.
    pub(crate) fn source(&mut self, rule: &str, source: &str) -> Key {
        if let Some(key) = self.by_source.get(source) {
            return Key::clone(key);
        }
        let key: Key = Arc::from(format!("{rule}/{}/{source}", Scope::Centre));
        self.by_source.insert(source.to_string(), Key::clone(&key));
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_formatted_once_and_read_as_before() {
        let mut keys = RuleKeys::default();
        let a = keys.scope("service-level", &Scope::Queue("q1".into()));
        assert_eq!(&*a, "service-level/queue:q1");
        let b = keys.scope("service-level", &Scope::Queue("q1".into()));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(
            &*keys.source("source-silent", "pbx"),
            "source-silent/centre/pbx"
        );
    }
}
