//! The organisation: centre → site → group → team → agent, with queues beside the tree, and the
//! settings that belong to each (docs/METRICS.md, "Scopes").
//!
//! This is the `[centre]`, `[[sites]]` and `[[queues]]` part of the server's TOML config. Agents
//! and queues that appear in events without being configured are added as they are seen, so an
//! empty organisation still shows a working floor.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, CentreCalendar};
use crate::scope::Scope;
use crate::service_level::{ServiceLevelSettings, ServiceLevelVariant};

/// The configured organisation (the `[centre]`, `[[sites]]` and `[[queues]]` tables): the tree every figure rolls up through, and the queues with their settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// The centre: its time zone, daily reset and service-level defaults.
    #[serde(default)]
    pub centre: Centre,
    /// Sites, each with its groups, teams and agents.
    #[serde(default)]
    pub sites: Vec<Site>,
    /// The queues (skills) and their settings.
    #[serde(default)]
    pub queues: Vec<QueueConfig>,
}

/// The centre as a whole: the root of the tree and the source of every default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Centre {
    /// The centre's id (`centre` unless set).
    #[serde(default = "default_centre_id")]
    pub id: String,
    /// Its display name.
    #[serde(default)]
    pub name: String,
    /// IANA zone whose midnight (plus `reset_time`) starts "today".
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Local time of the daily reset, `HH:MM`.
    #[serde(default = "default_reset_time")]
    pub reset_time: String,
    /// Centre-wide defaults for every queue that does not set its own.
    #[serde(default)]
    pub service_level: ServiceLevelSettings,
    /// When the centre is open: outside these hours silence is expected (docs/ALERTS.md,
    /// "Expected silence"). Always open when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<crate::opening_hours::OpeningHoursConfig>,
}

fn default_centre_id() -> String {
    "centre".into()
}
fn default_timezone() -> String {
    "UTC".into()
}
fn default_reset_time() -> String {
    "00:00".into()
}

impl Default for Centre {
    fn default() -> Self {
        Centre {
            id: default_centre_id(),
            name: String::new(),
            timezone: default_timezone(),
            reset_time: default_reset_time(),
            service_level: ServiceLevelSettings::default(),
            opening_hours: None,
        }
    }
}

/// A site (a building or a city): groups of teams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// The site's id, as in `site:ID`.
    pub id: String,
    /// Its display name (the id when empty).
    #[serde(default)]
    pub name: String,
    /// Its groups.
    #[serde(default)]
    pub groups: Vec<Group>,
}

/// A group of teams (a department or a line of business).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// The group's id, as in `group:ID`.
    pub id: String,
    /// Its display name (the id when empty).
    #[serde(default)]
    pub name: String,
    /// Its teams.
    #[serde(default)]
    pub teams: Vec<Team>,
}

/// A team of agents under one team lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// The team's id, as in `team:ID`.
    pub id: String,
    /// Its display name (the id when empty).
    #[serde(default)]
    pub name: String,
    /// Its agents.
    #[serde(default)]
    pub agents: Vec<AgentConfig>,
}

/// An agent, written either as a bare id (`"a1"`) or as a table with a display name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AgentConfig {
    /// Just the id; the id is shown as the name.
    Id(String),
    /// The id and the name shown on screens.
    Named {
        /// The agent's id.
        id: String,
        /// The name shown on screens.
        name: String,
    },
}

impl AgentConfig {
    /// The agent's id.
    pub fn id(&self) -> &str {
        match self {
            AgentConfig::Id(id) | AgentConfig::Named { id, .. } => id,
        }
    }

    /// The name shown on screens: the configured one, else the id.
    pub fn name(&self) -> &str {
        match self {
            AgentConfig::Id(id) => id,
            AgentConfig::Named { name, .. } => name,
        }
    }
}

/// A queue (skill). Unset settings fall back to the centre's `service_level`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// The queue's id, as in `queue:ID` and in events.
    pub id: String,
    /// Its display name (the id when empty).
    #[serde(default)]
    pub name: String,
    /// The tree node (`site:ID`, `group:ID` or `team:ID`) whose figures include this queue's
    /// calls; unset means the queue counts for the centre only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Answered within this many seconds counts as within the service level; the centre's when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_s: Option<u32>,
    /// The service-level target, percent; the centre's when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_pct: Option<f64>,
    /// How the service level is computed (docs/METRICS.md); the centre's when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<ServiceLevelVariant>,
    /// Abandons within this many seconds are short; the centre's when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_abandon_s: Option<u32>,
    /// After-call work the switch grants after each call (Asterisk's `wrapuptime`), seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_up_s: Option<u32>,
}

impl QueueConfig {
    /// This queue's settings, with the centre's defaults filled in.
    pub fn service_level(&self, defaults: &ServiceLevelSettings) -> ServiceLevelSettings {
        ServiceLevelSettings {
            threshold_s: self.threshold_s.unwrap_or(defaults.threshold_s),
            target_pct: self.target_pct.unwrap_or(defaults.target_pct),
            variant: self.variant.unwrap_or(defaults.variant),
            short_abandon_s: self.short_abandon_s.unwrap_or(defaults.short_abandon_s),
        }
    }
}

/// A configuration mistake, naming the key at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OrgError {
    /// Two nodes of one kind with the same id.
    #[error("{key}: duplicate {kind} id `{id}`")]
    Duplicate {
        /// Where.
        key: String,
        /// The kind of node.
        kind: &'static str,
        /// The id given twice.
        id: String,
    },
    /// An empty id.
    #[error("{key}: id must not be empty")]
    EmptyId {
        /// Where.
        key: String,
    },
    /// A bad time zone or reset time.
    #[error("{key}: {source}")]
    Calendar {
        /// Where.
        key: &'static str,
        /// What is wrong.
        source: CalendarError,
    },
    /// A service-level target outside 0..=100.
    #[error("{key}: target_pct = {value} must be between 0 and 100")]
    Target {
        /// Where.
        key: String,
        /// The target given.
        value: f64,
    },
    /// A queue owner that is not a configured site, group or team.
    #[error("{key}: `{owner}` must be site:ID, group:ID or team:ID of a configured node")]
    Owner {
        /// Where.
        key: String,
        /// The owner given.
        owner: String,
    },
    /// A mistake in the opening hours.
    #[error(transparent)]
    OpeningHours(#[from] crate::opening_hours::OpeningHoursError),
}

impl Organisation {
    /// The centre's opening hours in its zone; `None` when always open.
    pub fn opening_hours(&self) -> Result<Option<crate::opening_hours::OpeningHours>, OrgError> {
        let Some(config) = &self.centre.opening_hours else {
            return Ok(None);
        };
        let tz = self.calendar()?.time_zone().clone();
        Ok(Some(crate::opening_hours::OpeningHours::new(config, tz)?))
    }

    /// Checks ids, the time zone, the reset time, targets and queue owners.
    pub fn validate(&self) -> Result<(), OrgError> {
        self.calendar()?;
        self.opening_hours()?;
        check_target(
            "centre.service_level.target_pct",
            self.centre.service_level.target_pct,
        )?;
        let mut sites = HashSet::new();
        let mut groups = HashSet::new();
        let mut teams = HashSet::new();
        let mut agents = HashSet::new();
        for (si, site) in self.sites.iter().enumerate() {
            let key = format!("sites[{si}]");
            unique(&mut sites, &site.id, &key, "site")?;
            for (gi, group) in site.groups.iter().enumerate() {
                let key = format!("{key}.groups[{gi}]");
                unique(&mut groups, &group.id, &key, "group")?;
                for (ti, team) in group.teams.iter().enumerate() {
                    let key = format!("{key}.teams[{ti}]");
                    unique(&mut teams, &team.id, &key, "team")?;
                    for (ai, agent) in team.agents.iter().enumerate() {
                        unique(
                            &mut agents,
                            agent.id(),
                            &format!("{key}.agents[{ai}]"),
                            "agent",
                        )?;
                    }
                }
            }
        }
        let mut queues = HashSet::new();
        for (qi, queue) in self.queues.iter().enumerate() {
            let key = format!("queues[{qi}]");
            unique(&mut queues, &queue.id, &key, "queue")?;
            if let Some(target) = queue.target_pct {
                check_target(&format!("{key}.target_pct"), target)?;
            }
            if let Some(owner) = &queue.owner {
                let known = match owner.parse::<Scope>() {
                    Ok(Scope::Site(id)) => sites.contains(id.as_str()),
                    Ok(Scope::Group(id)) => groups.contains(id.as_str()),
                    Ok(Scope::Team(id)) => teams.contains(id.as_str()),
                    _ => false,
                };
                if !known {
                    return Err(OrgError::Owner {
                        key: format!("{key}.owner"),
                        owner: owner.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The centre's calendar (time zone and daily reset).
    pub fn calendar(&self) -> Result<CentreCalendar, OrgError> {
        CentreCalendar::new(&self.centre.timezone, &self.centre.reset_time).map_err(|source| {
            let key = match source {
                CalendarError::Zone(_) => "centre.timezone",
                _ => "centre.reset_time",
            };
            OrgError::Calendar { key, source }
        })
    }

    /// Settings of a queue by id; the centre's defaults for a queue not in the config.
    pub fn queue_settings(&self, queue: &str) -> ServiceLevelSettings {
        self.queues
            .iter()
            .find(|q| q.id == queue)
            .map(|q| q.service_level(&self.centre.service_level))
            .unwrap_or(self.centre.service_level)
    }
}

fn unique<'a>(
    seen: &mut HashSet<&'a str>,
    id: &'a str,
    key: &str,
    kind: &'static str,
) -> Result<(), OrgError> {
    if id.is_empty() {
        return Err(OrgError::EmptyId {
            key: format!("{key}.id"),
        });
    }
    if !seen.insert(id) {
        return Err(OrgError::Duplicate {
            key: format!("{key}.id"),
            kind,
            id: id.to_string(),
        });
    }
    Ok(())
}

fn check_target(key: &str, value: f64) -> Result<(), OrgError> {
    if (0.0..=100.0).contains(&value) {
        Ok(())
    } else {
        Err(OrgError::Target {
            key: key.to_string(),
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Organisation {
        Organisation {
            sites: vec![Site {
                id: "north".into(),
                name: String::new(),
                groups: vec![Group {
                    id: "g1".into(),
                    name: String::new(),
                    teams: vec![Team {
                        id: "t1".into(),
                        name: String::new(),
                        agents: vec![AgentConfig::Id("a1".into())],
                    }],
                }],
            }],
            queues: vec![QueueConfig {
                id: "billing".into(),
                owner: Some("site:north".into()),
                threshold_s: Some(30),
                ..QueueConfig::default()
            }],
            ..Organisation::default()
        }
    }

    #[test]
    fn queue_settings_fall_back_to_the_centre() {
        let org = org();
        org.validate().unwrap();
        let billing = org.queue_settings("billing");
        assert_eq!((billing.threshold_s, billing.short_abandon_s), (30, 5));
        assert_eq!(org.queue_settings("unknown").threshold_s, 20);
    }

    #[test]
    fn errors_name_the_key() {
        let mut o = org();
        o.sites[0].groups[0].teams[0]
            .agents
            .push(AgentConfig::Id("a1".into()));
        assert_eq!(
            o.validate().unwrap_err().to_string(),
            "sites[0].groups[0].teams[0].agents[1].id: duplicate agent id `a1`"
        );
        let mut o = org();
        o.queues[0].owner = Some("team:nope".into());
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .starts_with("queues[0].owner")
        );
        let mut o = org();
        o.centre.timezone = "Mars/Olympus".into();
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .starts_with("centre.timezone")
        );
        let mut o = org();
        o.centre.reset_time = "25:00".into();
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .starts_with("centre.reset_time")
        );
        let mut o = org();
        o.queues[0].target_pct = Some(120.0);
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .starts_with("queues[0].target_pct")
        );
    }
}
