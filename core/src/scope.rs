//! What a figure is about (`Scope`) and over which span of event time (`Window`).
//!
//! Both travel as short strings (`queue:billing`, `today`) in URLs, subscriptions and JSON.

use std::fmt;
use std::str::FromStr;

/// A part of the floor: the whole centre, a node of the organisation tree, a queue beside the
/// tree, or one agent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The whole centre.
    Centre,
    /// A site, by id.
    Site(String),
    /// A group, by id.
    Group(String),
    /// A team, by id.
    Team(String),
    /// A queue, by id.
    Queue(String),
    /// An agent, by id.
    Agent(String),
}

impl Scope {
    /// The kind prefix used on the wire (`centre`, `site`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Centre => "centre",
            Scope::Site(_) => "site",
            Scope::Group(_) => "group",
            Scope::Team(_) => "team",
            Scope::Queue(_) => "queue",
            Scope::Agent(_) => "agent",
        }
    }

    /// The id after the prefix; `None` for the centre.
    pub fn id(&self) -> Option<&str> {
        match self {
            Scope::Centre => None,
            Scope::Site(id)
            | Scope::Group(id)
            | Scope::Team(id)
            | Scope::Queue(id)
            | Scope::Agent(id) => Some(id),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id() {
            None => f.write_str(self.kind()),
            Some(id) => write!(f, "{}:{id}", self.kind()),
        }
    }
}

/// A scope or window that does not parse (in a subscription, a URL or a rule).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error(
        "unknown scope `{0}`: expected `centre` or one of site:ID, group:ID, team:ID, queue:ID, agent:ID"
    )]
    /// Not `centre` nor `KIND:ID`.
    Syntax(String),
    /// Not one of the windows.
    #[error("unknown window `{0}`: expected one of 15m, 30m, 60m, interval15, interval30, today")]
    Window(String),
}

impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "centre" || s == "center" {
            return Ok(Scope::Centre);
        }
        let err = || ScopeError::Syntax(s.to_string());
        let (kind, id) = s.split_once(':').ok_or_else(err)?;
        if id.is_empty() {
            return Err(err());
        }
        let id = id.to_string();
        Ok(match kind {
            "site" => Scope::Site(id),
            "group" => Scope::Group(id),
            "team" => Scope::Team(id),
            "queue" => Scope::Queue(id),
            "agent" => Scope::Agent(id),
            _ => return Err(err()),
        })
    }
}

crate::serde_via_str!(Scope);

/// The span of event time a figure covers (docs/METRICS.md, "Windows").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Window {
    /// Rolling 15 minutes.
    Rolling15,
    /// Rolling 30 minutes.
    Rolling30,
    /// Rolling 60 minutes.
    Rolling60,
    /// The current 15-minute interval of the centre's local clock.
    Interval15,
    /// The current 30-minute interval of the centre's local clock.
    Interval30,
    /// Since the centre's daily reset, in its own time zone.
    Today,
}

impl Window {
    /// Every window, in the order screens offer them.
    pub const ALL: [Window; 6] = [
        Window::Rolling15,
        Window::Rolling30,
        Window::Rolling60,
        Window::Interval15,
        Window::Interval30,
        Window::Today,
    ];

    /// The window's name on the wire and in URLs (`15m`, `today`).
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Rolling15 => "15m",
            Window::Rolling30 => "30m",
            Window::Rolling60 => "60m",
            Window::Interval15 => "interval15",
            Window::Interval30 => "interval30",
            Window::Today => "today",
        }
    }

    /// Length in minutes of a rolling window or an interval; `None` for today.
    pub fn minutes(self) -> Option<i64> {
        match self {
            Window::Rolling15 | Window::Interval15 => Some(15),
            Window::Rolling30 | Window::Interval30 => Some(30),
            Window::Rolling60 => Some(60),
            Window::Today => None,
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Window {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Window::ALL
            .into_iter()
            .find(|w| w.as_str() == s)
            .ok_or_else(|| ScopeError::Window(s.to_string()))
    }
}

crate::serde_via_str!(Window => as_str);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_windows_round_trip_through_strings() {
        for s in [
            "centre",
            "site:north",
            "group:g1",
            "team:t1",
            "queue:billing",
            "agent:a1",
        ] {
            assert_eq!(s.parse::<Scope>().unwrap().to_string(), s);
        }
        for w in Window::ALL {
            assert_eq!(w.as_str().parse::<Window>().unwrap(), w);
        }
        assert_eq!(
            "queue:a:b".parse::<Scope>().unwrap(),
            Scope::Queue("a:b".into())
        );
    }

    #[test]
    fn bad_scopes_say_what_is_expected() {
        for bad in ["", "queue:", "floor:1", "queue"] {
            let err = bad.parse::<Scope>().unwrap_err().to_string();
            assert!(err.contains("expected"), "{err}");
        }
        assert!(
            "5m".parse::<Window>()
                .unwrap_err()
                .to_string()
                .contains("5m")
        );
    }
}
