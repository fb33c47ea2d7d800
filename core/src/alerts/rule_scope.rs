//! Where a rule looks: every queue, team, group or site, or one scope; written as a string
//! (`every_queue`, `team:t1`).

use std::fmt;
use std::str::FromStr;

use crate::scope::Scope;

/// Every scope of one kind, or one scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RuleScope {
    /// Every queue, each its own alert.
    EveryQueue,
    /// Every team, each its own alert.
    EveryTeam,
    /// Every group, each its own alert.
    EveryGroup,
    /// Every site, each its own alert.
    EverySite,
    /// One scope.
    One(Scope),
}

impl RuleScope {
    fn as_str(&self) -> String {
        match self {
            RuleScope::EveryQueue => "every_queue".into(),
            RuleScope::EveryTeam => "every_team".into(),
            RuleScope::EveryGroup => "every_group".into(),
            RuleScope::EverySite => "every_site".into(),
            RuleScope::One(scope) => scope.to_string(),
        }
    }
}

impl fmt::Display for RuleScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl FromStr for RuleScope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "every_queue" => RuleScope::EveryQueue,
            "every_team" => RuleScope::EveryTeam,
            "every_group" => RuleScope::EveryGroup,
            "every_site" => RuleScope::EverySite,
            _ => RuleScope::One(s.parse().map_err(|_| {
                format!(
                    "unknown scope `{s}`: expected every_queue, every_team, every_group, \
                     every_site, centre, or site:ID, group:ID, team:ID, queue:ID, agent:ID"
                )
            })?),
        })
    }
}

crate::serde_via_str!(RuleScope);
