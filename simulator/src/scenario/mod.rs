//! A scenario: the centre a simulation plays, written as TOML.
//!
//! It names the centre (time zone, service-level defaults), the shifts, the organisation tree
//! with how many agents each group staffs and which queues (skills) they serve, the queues with
//! their day's volume, intraday curve and duration distributions, the agents' habits (late
//! sign-ins, breaks, not-ready time, ring-no-answer) and the incidents a tester switches on.
//!
//! Every knob defaults to the plain queueing model (no abandons, no breaks, no noise), so a
//! scenario says explicitly which realism it wants; the presets `small`, `medium` and `large`
//! (simulator/scenarios/*.toml) turn it all on. A mistake is reported with the key at fault,
//! e.g. `queues[1].talk_s.mean: must be a number of seconds > 0, not -3`.

mod check;
mod error;
mod organisation;
mod spec;

use std::path::Path;

use floorwatch_core::CentreCalendar;

pub(crate) use error::Invalid;
pub use error::ScenarioError;
pub(crate) use organisation::{agent_id, team_id};
pub use spec::{
    AgentHabits, BreakPolicy, GroupSpec, IncidentSpec, NormalSpec, QueueSpec, Scenario, ShiftSpec,
    SiteSpec,
};

/// The presets shipped in the binary, by name.
const PRESETS: [(&str, &str); 3] = [
    ("small", include_str!("../../scenarios/small.toml")),
    ("medium", include_str!("../../scenarios/medium.toml")),
    ("large", include_str!("../../scenarios/large.toml")),
];

impl Scenario {
    /// A preset by name: `small` (20 agents), `medium` (300) or `large` (5,000).
    pub fn preset(name: &str) -> Result<Scenario, ScenarioError> {
        let (_, text) = PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ScenarioError::UnknownPreset(name.to_string()))?;
        Scenario::parse(text, &format!("preset {name}"))
    }

    /// The names of the presets.
    pub fn preset_names() -> impl Iterator<Item = &'static str> {
        PRESETS.iter().map(|(n, _)| *n)
    }

    /// A scenario from a TOML file.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Scenario::parse(&text, &path.display().to_string())
    }

    /// A scenario from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse(text, "scenario")
    }

    /// A preset name or, failing that, a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        match Scenario::preset(name_or_path) {
            Err(ScenarioError::UnknownPreset(_)) if Path::new(name_or_path).exists() => {
                Scenario::from_file(Path::new(name_or_path))
            }
            other => other,
        }
    }

    fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let toml_error = |key: String, e: &toml::de::Error| ScenarioError::Toml {
            origin: origin.to_string(),
            key,
            message: e.message().to_string(),
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
        };
        let de = toml::Deserializer::parse(text).map_err(|e| toml_error(String::new(), &e))?;
        let scenario: Scenario = serde_path_to_error::deserialize(de)
            .map_err(|e| toml_error(e.path().to_string(), e.inner()))?;
        scenario
            .check()
            .map_err(|Invalid { key, problem }| ScenarioError::Invalid {
                origin: origin.to_string(),
                key,
                problem,
            })?;
        Ok(scenario)
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the scenario is for, in a sentence.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The centre's calendar (its time zone and daily reset).
    pub fn calendar(&self) -> CentreCalendar {
        self.organisation_calendar()
    }

    /// How many agents the scenario staffs.
    pub fn agent_count(&self) -> u64 {
        self.sites
            .iter()
            .flat_map(|s| &s.groups)
            .map(|g| u64::from(g.teams) * u64::from(g.agents_per_team))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "tiny"
[centre]
timezone = "Asia/Shanghai"
[[shifts]]
id = "day"
start = "08:00"
end = "17:00"
[[sites]]
id = "s"
[[sites.groups]]
id = "g"
teams = 2
agents_per_team = 3
skills = ["billing"]
shifts = ["day"]
[[queues]]
id = "billing"
calls_per_day = 100
"#;

    fn error(text: &str) -> ScenarioError {
        Scenario::from_toml_str(text).unwrap_err()
    }

    #[test]
    fn a_centre_whose_queues_close_is_open_from_the_first_opening_to_the_last_close() {
        let hours = |text: &str| {
            let org = Scenario::from_toml_str(text).unwrap().organisation();
            org.validate().unwrap();
            org.centre.opening_hours.map(|h| h.mon)
        };
        // Around the clock (the default): always open, no table.
        assert_eq!(hours(MINIMAL), None);
        let closing = MINIMAL.replace(
            "calls_per_day = 100",
            "calls_per_day = 100\nopen = \"08:30\"\nclose = \"19:45\"",
        );
        assert_eq!(hours(&closing), Some(Some(vec!["08:30-19:45".to_string()])));
    }

    #[test]
    fn presets_load_with_the_agents_the_issue_asks_for() {
        for (name, agents) in [("small", 20), ("medium", 300), ("large", 5000)] {
            let s = Scenario::preset(name).unwrap();
            assert_eq!(s.agent_count(), agents, "{name}");
            let org = s.organisation();
            org.validate().unwrap();
            let in_tree: usize = org
                .sites
                .iter()
                .flat_map(|s| &s.groups)
                .flat_map(|g| &g.teams)
                .map(|t| t.agents.len())
                .sum();
            assert_eq!(in_tree as u64, agents);
        }
        assert!(matches!(
            Scenario::preset("huge"),
            Err(ScenarioError::UnknownPreset(_))
        ));
    }

    #[test]
    fn organisation_ids_are_stable_and_numbered_across_groups() {
        let s = Scenario::from_toml_str(MINIMAL).unwrap();
        let org = s.organisation();
        assert_eq!(org, s.organisation());
        let teams = &org.sites[0].groups[0].teams;
        assert_eq!(teams[0].id, "g-t01");
        assert_eq!(teams[1].agents[0].id(), "a0004");
        assert_eq!(org.centre.timezone, "Asia/Shanghai");
        assert_eq!(org.queues[0].id, "billing");
    }

    /// Screens show names, not ids (issue 18): every preset (the demo runs `small`) names
    /// every site, group, team, agent and queue, the same names every time.
    #[test]
    fn every_level_of_every_preset_has_a_name() {
        for preset in ["small", "medium", "large"] {
            let org = Scenario::preset(preset).unwrap().organisation();
            assert_eq!(org, Scenario::preset(preset).unwrap().organisation());
            let named = |id: &str, name: &str| {
                assert!(
                    !name.is_empty() && name != id,
                    "{preset}: `{id}` has no name of its own"
                );
            };
            for site in &org.sites {
                named(&site.id, &site.name);
                for group in &site.groups {
                    named(&group.id, &group.name);
                    for team in &group.teams {
                        named(&team.id, &team.name);
                        for agent in &team.agents {
                            named(agent.id(), agent.name());
                        }
                    }
                }
            }
            for queue in &org.queues {
                named(&queue.id, &queue.name);
            }
        }
    }

    #[test]
    fn type_errors_and_unknown_keys_name_the_key() {
        let e = error(&MINIMAL.replace("calls_per_day = 100", "calls_per_day = \"many\""));
        assert_eq!(e.key(), Some("queues[0].calls_per_day"), "{e}");
        assert!(e.to_string().contains("line 19"), "{e}");
        let e = error(&format!("{MINIMAL}tlak_s = {{ mean = 3 }}\n"));
        assert_eq!(e.key(), Some("queues[0].tlak_s"), "{e}");
        assert!(e.to_string().contains("tlak_s"), "{e}");
        let e = error(&MINIMAL.replace("start = \"08:00\"", "start = \"8am\""));
        assert_eq!(e.key(), Some("shifts[0].start"), "{e}");
        let e = error(&format!(
            "{MINIMAL}[[incidents]]\nkind = \"meteor\"\nstart = \"10:00\"\n"
        ));
        assert_eq!(e.key(), Some("incidents[0].kind"), "{e}");
        let e = error("name = \"x\"\nshifts = [\n");
        assert!(matches!(e, ScenarioError::Toml { .. }), "{e}");
    }

    #[test]
    fn inconsistent_values_name_the_key() {
        let cases = [
            (
                MINIMAL.replace(
                    "skills = [\"billing\"]",
                    "skills = [\"billing\", \"sales\"]",
                ),
                "sites[0].groups[0].skills[1]",
            ),
            (
                MINIMAL.replace("shifts = [\"day\"]", "shifts = [\"night\"]"),
                "sites[0].groups[0].shifts[0]",
            ),
            (
                MINIMAL.replace("end = \"17:00\"", "end = \"07:00\""),
                "shifts[0].end",
            ),
            (
                format!("{MINIMAL}talk_s = {{ mean = -3 }}\n"),
                "queues[0].talk_s.mean",
            ),
            (format!("{MINIMAL}acw_share = 1.5\n"), "queues[0].acw_share"),
            (
                format!("{MINIMAL}overflow_to = \"billing\"\n"),
                "queues[0].overflow_to",
            ),
            (format!("{MINIMAL}hourly = [1, 2]\n"), "queues[0].hourly"),
            (
                MINIMAL.replace("Asia/Shanghai", "Mars/Olympus"),
                "centre.timezone",
            ),
            (
                format!(
                    "{MINIMAL}[[incidents]]\nkind = \"call_peak\"\nstart = \"10:00\"\nminutes = 30\nfactor = 0\n"
                ),
                "incidents[0].factor",
            ),
            (
                format!("{MINIMAL}[agents]\nlate_share = 2\n"),
                "agents.late_share",
            ),
        ];
        for (text, key) in cases {
            let e = error(&text);
            assert_eq!(e.key(), Some(key), "{e}");
            assert!(e.to_string().contains(key), "{e}");
        }
    }

    #[test]
    fn a_missing_file_says_which() {
        let e = Scenario::from_file(Path::new("/nonexistent/day.toml")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/day.toml"), "{e}");
    }
}
