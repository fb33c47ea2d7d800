//! The organisation a scenario simulates: the tree of sites, groups, teams, agents and queues,
//! with the stable ids and display names its events use.

use floorwatch_core::org::{AgentConfig, Group, QueueConfig, Site, Team};
use floorwatch_core::{CentreCalendar, Organisation};

use super::spec::Scenario;

impl Scenario {
    /// The centre, sites, groups, teams, agents and queues this scenario simulates, with the ids
    /// its events use. Ids are stable for a given scenario.
    pub fn organisation(&self) -> Organisation {
        let mut next_agent = 0usize;
        let sites = self
            .sites
            .iter()
            .map(|site| Site {
                id: site.id.clone(),
                name: site.name.clone(),
                groups: site
                    .groups
                    .iter()
                    .map(|group| Group {
                        id: group.id.clone(),
                        name: group.name.clone(),
                        teams: (0..group.teams)
                            .map(|t| Team {
                                id: team_id(&group.id, t),
                                name: format!("{} team {}", display(&group.name, &group.id), t + 1),
                                agents: (0..group.agents_per_team)
                                    .map(|_| {
                                        next_agent += 1;
                                        AgentConfig::Named {
                                            id: agent_id(next_agent - 1),
                                            name: agent_name(next_agent - 1),
                                        }
                                    })
                                    .collect(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        let queues = self
            .queues
            .iter()
            .map(|q| QueueConfig {
                id: q.id.clone(),
                name: q.name.clone(),
                owner: q.owner.clone(),
                threshold_s: q.threshold_s,
                target_pct: q.target_pct,
                variant: q.variant,
                short_abandon_s: q.short_abandon_s,
                wrap_up_s: q.wrap_up_s,
            })
            .collect();
        let mut centre = self.centre.clone();
        if centre.opening_hours.is_none() {
            centre.opening_hours = self.opening_hours();
        }
        Organisation {
            centre,
            sites,
            queues,
        }
    }

    /// The centre's opening hours when the scenario names none: from the earliest queue's
    /// opening to the latest one's close, every day (`None` for a centre open around the
    /// clock). Outside them silence is expected (docs/ALERTS.md, "Expected silence"), so the
    /// demo's night raises no alarm.
    fn opening_hours(&self) -> Option<floorwatch_core::opening_hours::OpeningHoursConfig> {
        let open = self.queues.iter().map(|q| q.open.seconds()).min()?;
        let close = self.queues.iter().map(|q| q.close.seconds()).max()?;
        if open == 0 && close >= crate::clock::DAY_SECONDS {
            return None;
        }
        let hhmm = |s: u32| format!("{:02}:{:02}", s / 3600, (s / 60) % 60);
        let day = Some(vec![format!(
            "{}-{}",
            hhmm(open),
            hhmm(close.div_ceil(60) * 60)
        )]);
        Some(floorwatch_core::opening_hours::OpeningHoursConfig {
            mon: day.clone(),
            tue: day.clone(),
            wed: day.clone(),
            thu: day.clone(),
            fri: day.clone(),
            sat: day.clone(),
            sun: day,
            exceptions: Vec::new(),
        })
    }

    pub(super) fn organisation_calendar(&self) -> CentreCalendar {
        CentreCalendar::new(&self.centre.timezone, &self.centre.reset_time)
            .unwrap_or_else(|_| CentreCalendar::utc())
    }
}

fn display<'a>(name: &'a str, id: &'a str) -> &'a str {
    if name.is_empty() { id } else { name }
}

/// The id of a group's `index`-th team (0-based): `<group>-t01`.
pub(crate) fn team_id(group: &str, index: u32) -> String {
    format!("{group}-t{:02}", index + 1)
}

/// The id of the scenario's `index`-th agent (0-based): `a0001`.
pub(crate) fn agent_id(index: usize) -> String {
    format!("a{:04}", index + 1)
}

/// A stable, readable display name for the `index`-th agent, so a wallboard shows people
/// rather than numbers.
pub(crate) fn agent_name(index: usize) -> String {
    const FAMILY: [&str; 20] = [
        "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
        "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo",
    ];
    const GIVEN: [&str; 23] = [
        "Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Jun", "Yan", "Jie", "Tao", "Ming",
        "Xia", "Hui", "Ping", "Gang", "Hong", "Ying", "Bin", "Lan", "Dan", "Peng", "Yu",
    ];
    // 20 and 23 are coprime, so the first 460 agents all get different names.
    format!(
        "{} {}",
        FAMILY[index % FAMILY.len()],
        GIVEN[index % GIVEN.len()]
    )
}
