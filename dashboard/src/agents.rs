//! The supervisor's agent grid: which agents a filter shows, in which order, and who is past
//! their break allowance.

use floorwatch_core::time::MINUTE_MS;
use floorwatch_core::{AgentState, AgentView, NotReadyReason};

use crate::format;
use crate::i18n::Lang;

/// Break allowances from the centres' floor rules (DOMAIN.md: "a break longer than its
/// allowance" is an alert): a break (小休) of more than 15 minutes, a meal of more than 30.
/// Other not-ready reasons (meeting, training, ...) are planned and have no allowance.
pub const BREAK_ALLOWANCE_MIN: i64 = 15;
/// The meal allowance, minutes (see [`BREAK_ALLOWANCE_MIN`]).
pub const MEAL_ALLOWANCE_MIN: i64 = 30;

/// The allowance of a not-ready reason, in minutes; `None` when the reason has none.
pub fn allowance_min(reason: Option<NotReadyReason>) -> Option<i64> {
    match reason {
        Some(NotReadyReason::Break) => Some(BREAK_ALLOWANCE_MIN),
        Some(NotReadyReason::Meal) => Some(MEAL_ALLOWANCE_MIN),
        _ => None,
    }
}

/// Whether the agent has been on break or at a meal longer than allowed, at `now` (UTC ms).
pub fn is_overrun(agent: &AgentView, now: i64) -> bool {
    if agent.state != Some(AgentState::NotReady) {
        return false;
    }
    match (allowance_min(agent.reason), agent.state_since) {
        (Some(minutes), Some(since)) => now - since > minutes * MINUTE_MS,
        _ => false,
    }
}

/// The state filter of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    /// Every agent, signed out ones included.
    #[default]
    All,
    /// Agents in this state; `None` is signed out.
    Is(Option<AgentState>),
    /// Only agents past their break allowance.
    Overrun,
}

impl StateFilter {
    /// Every choice, in the order the selector lists them.
    pub fn choices() -> Vec<StateFilter> {
        let mut choices = vec![StateFilter::All];
        choices.extend(AgentState::ALL.map(|s| StateFilter::Is(Some(s))));
        choices.push(StateFilter::Is(None));
        choices.push(StateFilter::Overrun);
        choices
    }

    /// The value of the selector's `<option>`.
    pub fn value(self) -> &'static str {
        match self {
            StateFilter::All => "",
            StateFilter::Is(Some(s)) => s.as_str(),
            StateFilter::Is(None) => "logged_out",
            StateFilter::Overrun => "overrun",
        }
    }

    /// The filter a `<select>` value names (the inverse of [`StateFilter::value`]); `All` for
    /// anything else.
    pub fn from_value(value: &str) -> StateFilter {
        StateFilter::choices()
            .into_iter()
            .find(|f| f.value() == value)
            .unwrap_or_default()
    }
}

/// Whether the grid shows `agent` under the team filter (`None`: every team) and state filter.
pub fn is_shown(agent: &AgentView, team: Option<&str>, state: StateFilter, now: i64) -> bool {
    let team_ok = team.is_none_or(|t| agent.team.as_deref() == Some(t));
    let state_ok = match state {
        StateFilter::All => true,
        StateFilter::Is(s) => agent.state == s,
        StateFilter::Overrun => is_overrun(agent, now),
    };
    team_ok && state_ok
}

/// The grid's order: by team (agents without one last), then name, then id.
pub fn order(agents: &mut [AgentView]) {
    agents.sort_by(|a, b| {
        (a.team.is_none(), &a.team, &a.name, &a.id).cmp(&(
            b.team.is_none(),
            &b.team,
            &b.name,
            &b.id,
        ))
    });
}

/// The grid's columns, in order: name, team, state, reason, time in state, current call,
/// calls handled today, AHT today.
pub const COLUMNS: usize = 8;

/// What one agent's row says, at `now` (the server's clock, UTC ms). The reason shows only
/// while the agent is not ready; the call duration only while on a call.
pub fn row_cells(agent: &AgentView, lang: Lang, now: i64) -> [String; COLUMNS] {
    let reason = match (agent.state, agent.reason) {
        (Some(AgentState::NotReady), Some(reason)) => lang.reason(reason),
        _ => "",
    };
    let call = match (&agent.call, agent.call_since) {
        (Some(_), Some(since)) => format::elapsed(Some(since), now),
        _ => String::new(),
    };
    [
        agent.name.clone(),
        agent.team.clone().unwrap_or_default(),
        lang.state(agent.state).to_string(),
        reason.to_string(),
        format::elapsed(agent.state.and(agent.state_since), now),
        call,
        agent.handled_today.to_string(),
        format::seconds(agent.aht_today_s),
    ]
}

/// The row's CSS classes: its state, `overrun` past the break allowance, `hidden` when the
/// filters leave it out (rows stay in the DOM, so filtering never rebuilds the grid).
pub fn row_class(agent: &AgentView, team: Option<&str>, filter: StateFilter, now: i64) -> String {
    let state = agent.state.map_or("logged_out", AgentState::as_str);
    let overrun = if is_overrun(agent, now) {
        " overrun"
    } else {
        ""
    };
    let hidden = if is_shown(agent, team, filter, now) {
        ""
    } else {
        " hidden"
    };
    format!("agent state-{state}{overrun}{hidden}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, team: Option<&str>, state: Option<AgentState>) -> AgentView {
        AgentView {
            id: id.into(),
            name: format!("Agent {id}"),
            team: team.map(Into::into),
            state,
            reason: None,
            state_since: Some(0),
            call: None,
            call_since: None,
            handled_today: 0,
            aht_today_s: None,
        }
    }

    fn on(reason: NotReadyReason) -> AgentView {
        AgentView {
            reason: Some(reason),
            ..agent("a", Some("t1"), Some(AgentState::NotReady))
        }
    }

    #[test]
    fn a_break_overruns_after_15_minutes_and_a_meal_after_30() {
        let min = 60_000;
        assert!(!is_overrun(&on(NotReadyReason::Break), 15 * min));
        assert!(is_overrun(&on(NotReadyReason::Break), 15 * min + 1));
        assert!(!is_overrun(&on(NotReadyReason::Meal), 30 * min));
        assert!(is_overrun(&on(NotReadyReason::Meal), 30 * min + 1));
        assert!(!is_overrun(&on(NotReadyReason::Training), 300 * min));
        let talking = agent("b", None, Some(AgentState::OnCall));
        assert!(!is_overrun(&talking, 300 * min));
    }

    #[test]
    fn filters_by_team_and_state() {
        let a = agent("a", Some("t1"), Some(AgentState::Available));
        let b = agent("b", Some("t2"), None);
        let any = StateFilter::All;
        assert!(is_shown(&a, None, any, 0));
        assert!(is_shown(&a, Some("t1"), any, 0));
        assert!(!is_shown(&b, Some("t1"), any, 0));
        let available = StateFilter::Is(Some(AgentState::Available));
        assert!(is_shown(&a, None, available, 0));
        assert!(!is_shown(&b, None, available, 0));
        assert!(is_shown(&b, Some("t2"), StateFilter::Is(None), 0));
        let long_break = on(NotReadyReason::Break);
        assert!(is_shown(
            &long_break,
            None,
            StateFilter::Overrun,
            16 * 60_000
        ));
        assert!(!is_shown(&a, None, StateFilter::Overrun, 16 * 60_000));
    }

    #[test]
    fn filter_values_round_trip() {
        let choices = StateFilter::choices();
        assert_eq!(choices.len(), 9);
        for f in choices {
            assert_eq!(StateFilter::from_value(f.value()), f);
        }
        assert_eq!(StateFilter::from_value("bogus"), StateFilter::All);
    }

    #[test]
    fn a_row_says_what_the_agent_is_doing() {
        let mut talking = agent("7", Some("t1"), Some(AgentState::OnCall));
        talking.state_since = Some(1_000);
        talking.call = Some("c1".into());
        talking.call_since = Some(31_000);
        talking.handled_today = 12;
        talking.aht_today_s = Some(245.0);
        let cells = row_cells(&talking, Lang::En, 121_000);
        assert_eq!(
            cells,
            ["Agent 7", "t1", "On call", "", "2:00", "1:30", "12", "4:05"].map(String::from)
        );
        let resting = on(NotReadyReason::Meal);
        let cells = row_cells(&resting, Lang::Zh, 31 * 60_000);
        assert_eq!(cells[2..6], ["示忙", "用餐", "31:00", ""].map(String::from));
        let gone = agent("8", None, None);
        let cells = row_cells(&gone, Lang::En, 5_000);
        assert_eq!(
            cells[1..8],
            ["", "Signed out", "", "—", "", "0", "—"].map(String::from)
        );
    }

    #[test]
    fn a_row_class_shows_state_overrun_and_filter() {
        let resting = on(NotReadyReason::Break);
        assert_eq!(
            row_class(&resting, None, StateFilter::All, 0),
            "agent state-not_ready"
        );
        assert_eq!(
            row_class(&resting, None, StateFilter::All, 16 * 60_000),
            "agent state-not_ready overrun"
        );
        assert_eq!(
            row_class(&resting, Some("t2"), StateFilter::All, 0),
            "agent state-not_ready hidden"
        );
        let gone = agent("8", None, None);
        assert_eq!(
            row_class(&gone, None, StateFilter::Is(None), 0),
            "agent state-logged_out"
        );
    }

    #[test]
    fn order_is_by_team_then_name_with_teamless_last() {
        let mut agents = vec![
            agent("3", None, None),
            agent("2", Some("t2"), None),
            agent("1", Some("t1"), None),
            agent("0", Some("t2"), None),
        ];
        order(&mut agents);
        let ids: Vec<&str> = agents.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["1", "0", "2", "3"]);
    }
}
