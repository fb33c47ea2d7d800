//! A feed: what one distinct subscription shows, as last published. All clients with the same
//! subscription share a feed, so each tick computes one diff and one serialised delta per
//! distinct subscription, however many wallboards watch it.
//!
//! A client of a feed always holds exactly the feed's last published state: it got the
//! snapshot of some tick and every delta after it, or it is resynced with a snapshot. That is
//! why the feed's own diff is each client's diff.
//!
//! Alerts travel to the feeds that may see them ([`FeedKey::sees`]): an alert about an agent
//! (it names them) only to subscriptions with an agent list covering that agent, like the
//! agent's own view; any other alert to subscriptions of its scope or a scope above it. So the
//! wall, which may not subscribe to agents (`ReadAgents`), never receives an agent's name.
//!
//! Every scope of a key was checked against its subscriber's permissions before the key was
//! made (`super::accept_subscription`), so anything a feed shows about a scope the subscriber
//! may see. The queue list is the exception, as it is not subscribed to: it is cut to the
//! subscriber's subtree ([`FeedKey::within`]), and subscribers of different subtrees never
//! share a feed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use floorwatch_core::alerts::Alert;
use floorwatch_core::wire::{MinutePoint, ScopeHistory, Subscribe, Subscription};
use floorwatch_core::{AgentView, Figures, Millis, QueueView, Scope, Window};
use serde::Serialize;

use super::frame;

/// A subscription in canonical form (sorted, without repeats), so equal subscriptions written
/// in a different order share a feed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FeedKey {
    pub(crate) figures: Vec<Scope>,
    pub(crate) agents: Vec<Scope>,
    pub(crate) windows: Vec<Window>,
    /// The root of the subscriber's subtree: the queues listed are those inside it. `None`
    /// for a subscriber who may read no figures (a security officer, an ingest account): it
    /// is sent no queue list at all, names and service-level settings included.
    pub(crate) within: Option<Scope>,
}

impl FeedKey {
    /// The key of a subscription already checked against the permissions of a subscriber
    /// whose subtree is rooted at `within` (`None`: who may read no figures).
    pub(crate) fn new(subscribe: &Subscribe, within: Option<Scope>) -> FeedKey {
        let mut figures = BTreeSet::new();
        let mut agents = BTreeSet::new();
        for entry in &subscribe.subscribe {
            match entry {
                Subscription::Figures(scope) => figures.insert(scope.clone()),
                Subscription::Agents(scope) => agents.insert(scope.clone()),
            };
        }
        let mut windows: BTreeSet<Window> = subscribe.windows.iter().copied().collect();
        if windows.is_empty() {
            windows.insert(Window::Today);
        }
        FeedKey {
            figures: figures.into_iter().collect(),
            agents: agents.into_iter().collect(),
            windows: windows.into_iter().collect(),
            within,
        }
    }

    /// Every (scope, window) pair whose figures the feed shows, in frame order.
    pub(crate) fn figure_pairs(&self) -> impl Iterator<Item = (&Scope, Window)> {
        self.figures
            .iter()
            .flat_map(|s| self.windows.iter().map(move |w| (s, *w)))
    }

    /// Whether the feed's clients are shown `alert` (see the module's doc).
    pub(crate) fn sees(&self, alert: &VisibleAlert) -> bool {
        let in_chain = |scope: &Scope| alert.scopes.contains(scope);
        match alert.alert.scope {
            Scope::Agent(_) => self.agents.iter().any(in_chain),
            _ => self.figures.iter().any(in_chain) || self.agents.iter().any(in_chain),
        }
    }
}

/// An alert with the scopes whose subscribers may see it (`Alerts::visible_in`).
#[derive(Debug, Clone)]
pub(crate) struct VisibleAlert {
    pub(crate) alert: Alert,
    pub(crate) scopes: Vec<Scope>,
}

/// What the publisher read from the floor in one tick, for every feed at once.
#[derive(Debug, Default)]
pub(crate) struct Readings {
    pub(crate) now: Millis,
    pub(crate) figures: HashMap<(Scope, Window), Figures>,
    /// Agents in each subscribed agent scope, in id order.
    pub(crate) agents: HashMap<Scope, Vec<AgentView>>,
    /// The queues inside each subscriber subtree ([`FeedKey::within`]).
    pub(crate) queues: HashMap<Option<Scope>, Vec<QueueView>>,
    /// The configured names of the sites, groups and teams inside each subscriber subtree.
    pub(crate) names: HashMap<Option<Scope>, Vec<(Scope, String)>>,
    pub(crate) history: HashMap<Scope, Vec<MinutePoint>>,
    /// Open alerts and those changed in the last hour (`crate::alerts::RECENT_MS`), in raise
    /// order.
    pub(crate) alerts: Arc<Vec<VisibleAlert>>,
    /// Cluster mode: the stream sequence the floor reflected when read (docs/CLUSTER.md).
    pub(crate) stream_seq: Option<u64>,
}

/// The result of bringing a feed up to date.
#[derive(Debug, Default)]
pub(crate) struct Update {
    /// The delta body for clients holding the previous state; `None` when nothing changed.
    pub(crate) delta: Option<Arc<str>>,
    /// The change cannot be told as a delta (first state, an agent left the scope, the queue
    /// list changed): every client gets a snapshot.
    pub(crate) resync_all: bool,
}

pub(crate) struct Feed {
    key: Arc<FeedKey>,
    /// `None` until the first update.
    state: Option<State>,
    snapshot: Option<Arc<str>>,
}

struct State {
    now: Millis,
    figures: Vec<Figures>,
    agents: BTreeMap<String, AgentView>,
    queues: Vec<QueueView>,
    names: Vec<(Scope, String)>,
    history: BTreeMap<Scope, Vec<MinutePoint>>,
    /// The alerts the feed sees, in raise order.
    alerts: Vec<Alert>,
    stream_seq: Option<u64>,
}

#[derive(Serialize)]
struct SnapshotFields<'a> {
    now: Millis,
    figures: &'a [Figures],
    agents: Vec<&'a AgentView>,
    queues: &'a [QueueView],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    names: &'a [(Scope, String)],
    history: Vec<ScopeHistory>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    alerts: &'a [Alert],
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_seq: Option<u64>,
}

#[derive(Serialize)]
struct DeltaFields<'a> {
    now: Millis,
    figures: Vec<&'a Figures>,
    agents: Vec<&'a AgentView>,
    history: Vec<ScopeHistory>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    alerts: Vec<&'a Alert>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_seq: Option<u64>,
}

impl Feed {
    pub(crate) fn new(key: Arc<FeedKey>) -> Feed {
        Feed {
            key,
            state: None,
            snapshot: None,
        }
    }

    /// The subscription this feed shows.
    pub(crate) fn key(&self) -> &Arc<FeedKey> {
        &self.key
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.state.is_some()
    }

    /// Brings the feed to `readings` and says what its clients need.
    pub(crate) fn update(&mut self, readings: &Readings) -> Update {
        let new = self.read(readings);
        let Some(old) = self.state.replace(new) else {
            self.snapshot = None;
            return Update {
                delta: None,
                resync_all: true,
            };
        };
        let Some(new) = self.state.as_ref() else {
            return Update::default();
        };

        let changed_figures: Vec<&Figures> = new
            .figures
            .iter()
            .enumerate()
            .filter(|(i, f)| {
                let same_pair = |o: &&Figures| o.scope == f.scope && o.window == f.window;
                // Both lists follow the key's order, so the same index is nearly always it.
                let before = old
                    .figures
                    .get(*i)
                    .filter(same_pair)
                    .or_else(|| old.figures.iter().find(same_pair));
                before.is_none_or(|o| !same_values(o, f))
            })
            .map(|(_, f)| f)
            .collect();
        let agent_left = old.agents.keys().any(|id| !new.agents.contains_key(id));
        let changed_agents: Vec<&AgentView> = new
            .agents
            .values()
            .filter(|a| old.agents.get(&a.id) != Some(*a))
            .collect();
        let history: Vec<ScopeHistory> = new
            .history
            .iter()
            .filter_map(|(scope, points)| {
                let last = old
                    .history
                    .get(scope)
                    .and_then(|p| p.last())
                    .map(|p| p.minute);
                let fresh: Vec<MinutePoint> = points
                    .iter()
                    .filter(|p| last.is_none_or(|m| p.minute > m))
                    .copied()
                    .collect();
                (!fresh.is_empty()).then(|| ScopeHistory {
                    scope: scope.clone(),
                    points: fresh,
                })
            })
            .collect();

        let before: HashMap<&str, &Alert> = old.alerts.iter().map(|a| (a.id.as_str(), a)).collect();
        let changed_alerts: Vec<&Alert> = new
            .alerts
            .iter()
            .filter(|a| before.get(a.id.as_str()) != Some(a))
            .collect();

        let unchanged = changed_figures.is_empty()
            && changed_agents.is_empty()
            && history.is_empty()
            && changed_alerts.is_empty();
        // A renamed node or a changed queue list is told by a fresh snapshot, as names travel
        // in snapshots only.
        let listed_changed = new.queues != old.queues || new.names != old.names;
        if !unchanged || listed_changed {
            self.snapshot = None;
        }
        if agent_left || listed_changed {
            return Update {
                delta: None,
                resync_all: true,
            };
        }
        if unchanged {
            return Update::default();
        }
        let delta = frame::body(&DeltaFields {
            now: new.now,
            figures: changed_figures,
            agents: changed_agents,
            history,
            alerts: changed_alerts,
            stream_seq: new.stream_seq,
        });
        Update {
            delta: Some(delta),
            resync_all: false,
        }
    }

    /// The snapshot body of the current state (serialised once per state).
    pub(crate) fn snapshot(&mut self) -> Option<Arc<str>> {
        let state = self.state.as_ref()?;
        if self.snapshot.is_none() {
            let history = state
                .history
                .iter()
                .map(|(scope, points)| ScopeHistory {
                    scope: scope.clone(),
                    points: points.clone(),
                })
                .collect();
            self.snapshot = Some(frame::body(&SnapshotFields {
                now: state.now,
                figures: &state.figures,
                agents: state.agents.values().collect(),
                queues: &state.queues,
                names: &state.names,
                history,
                alerts: &state.alerts,
                stream_seq: state.stream_seq,
            }));
        }
        self.snapshot.clone()
    }

    fn read(&self, readings: &Readings) -> State {
        let figures = self
            .key
            .figure_pairs()
            .filter_map(|(scope, window)| readings.figures.get(&(scope.clone(), window)).cloned())
            .collect();
        let mut agents = BTreeMap::new();
        for scope in &self.key.agents {
            for agent in readings.agents.get(scope).into_iter().flatten() {
                agents.insert(agent.id.clone(), agent.clone());
            }
        }
        let history = self
            .key
            .figures
            .iter()
            .map(|scope| {
                let points = readings.history.get(scope).cloned().unwrap_or_default();
                (scope.clone(), points)
            })
            .collect();
        let alerts = readings
            .alerts
            .iter()
            .filter(|a| self.key.sees(a))
            .map(|a| a.alert.clone())
            .collect();
        State {
            now: readings.now,
            figures,
            agents,
            queues: readings
                .queues
                .get(&self.key.within)
                .cloned()
                .unwrap_or_default(),
            names: readings
                .names
                .get(&self.key.within)
                .cloned()
                .unwrap_or_default(),
            history,
            alerts,
            stream_seq: readings.stream_seq,
        }
    }
}

/// Equal but for `from` and `to`, which move with the clock: a figure is resent when one of
/// its values changed, not every time time passed. The frame's `now` carries the clock.
fn same_values(a: &Figures, b: &Figures) -> bool {
    if a.from == b.from && a.to == b.to {
        return a == b;
    }
    let mut b = b.clone();
    b.from = a.from;
    b.to = a.to;
    *a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::wire::LiveFrame;

    fn figures(scope: &str, window: Window, offered: u64, to: Millis) -> Figures {
        let json = format!(
            r#"{{"scope":"{scope}","window":"{window}","from":0,"to":{to},"offered":{offered},
            "answered":0,"abandoned":0,"short_abandoned":0,"timed_out":0,
            "answered_within_threshold":0,"ivr_completed":0,"handled":0,
            "service_level_pct":null,"service_level_variant":"answered_over_offered",
            "service_level_target_pct":80.0,"service_level_variants":{{
              "answered_over_offered":null,"answered_over_answered":null,
              "removed_over_offered":null,"answered_over_offered_excl_abandoned_within":null}},
            "answer_rate_pct":null,"abandon_rate_pct":null,"asa_s":null,"max_wait_s":null,
            "avg_talk_s":null,"avg_hold_s":null,"avg_acw_s":null,"aht_s":null,
            "occupancy_pct":null,"utilisation_pct":null,"wait_p50_s":null,"wait_p90_s":null,
            "wait_p99_s":null,"handle_p50_s":null,"handle_p90_s":null,"handle_p99_s":null,
            "waiting_now":0,"oldest_waiting_since":null,
            "agents":{{"logged_in":0,"available":0,"ringing":0,"on_call":0,"hold":0,
              "after_call_work":0,"not_ready":0,"not_ready_by_reason":{{}}}},
            "agents_needed":null}}"#
        );
        serde_json::from_str(&json).unwrap()
    }

    fn agent(id: &str, team: &str, since: Millis) -> AgentView {
        AgentView {
            id: id.into(),
            name: id.into(),
            team: Some(team.into()),
            state: Some(floorwatch_core::AgentState::Available),
            reason: None,
            state_since: Some(since),
            call: None,
            call_since: None,
            handled_today: 0,
            aht_today_s: None,
        }
    }

    fn key() -> Arc<FeedKey> {
        let sub: Subscribe = serde_json::from_str(
            r#"{"subscribe":["queue:b","centre","agents:team:t1","centre"],"windows":["today","15m"]}"#,
        )
        .unwrap();
        Arc::new(FeedKey::new(&sub, Some(Scope::Centre)))
    }

    fn readings(offered: u64, now: Millis, agents: Vec<AgentView>) -> Readings {
        let mut r = Readings {
            now,
            ..Readings::default()
        };
        for scope in ["centre", "queue:b"] {
            for w in [Window::Rolling15, Window::Today] {
                r.figures.insert(
                    (scope.parse().unwrap(), w),
                    figures(scope, w, if scope == "centre" { offered } else { 0 }, now),
                );
            }
        }
        r.agents.insert(Scope::Team("t1".into()), agents);
        r
    }

    fn parse(kind: frame::FrameKind, body: &str) -> LiveFrame {
        serde_json::from_str(&frame::render(kind, 1, body)).unwrap()
    }

    /// Names travel in snapshots only: a snapshot carries the subtree's configured names, a
    /// rename is told by a fresh snapshot to every client, never by a delta.
    #[test]
    fn names_ride_in_snapshots_and_a_rename_resyncs() {
        let named = |name: &str| {
            let mut r = readings(1, 1_000, vec![agent("a1", "t1", 5)]);
            r.names.insert(
                Some(Scope::Centre),
                vec![(Scope::Team("t1".into()), name.to_string())],
            );
            r
        };
        let mut feed = Feed::new(key());
        feed.update(&named("Billing team 1"));
        let LiveFrame::Snapshot { names, .. } =
            parse(frame::FrameKind::Snapshot, &feed.snapshot().unwrap())
        else {
            panic!("not a snapshot")
        };
        assert_eq!(
            names,
            vec![(Scope::Team("t1".into()), "Billing team 1".to_string())]
        );
        assert!(feed.update(&named("Billing team 1")).delta.is_none());
        let renamed = feed.update(&named("Billing team one"));
        assert!(renamed.resync_all && renamed.delta.is_none());
        let LiveFrame::Snapshot { names, .. } =
            parse(frame::FrameKind::Snapshot, &feed.snapshot().unwrap())
        else {
            panic!("not a snapshot")
        };
        assert_eq!(names[0].1, "Billing team one");
    }

    #[test]
    fn the_key_is_canonical() {
        let k = key();
        assert_eq!(k.figures, vec![Scope::Centre, Scope::Queue("b".into())]);
        assert_eq!(k.agents, vec![Scope::Team("t1".into())]);
        assert_eq!(k.windows, vec![Window::Rolling15, Window::Today]);
        let plain: Subscribe = serde_json::from_str(r#"{"subscribe":["centre"]}"#).unwrap();
        assert_eq!(
            FeedKey::new(&plain, Some(Scope::Centre)).windows,
            vec![Window::Today]
        );
    }

    #[test]
    fn the_first_state_is_a_snapshot_then_deltas_carry_only_changes() {
        let mut feed = Feed::new(key());
        let first = feed.update(&readings(1, 1_000, vec![agent("a1", "t1", 5)]));
        assert!(first.resync_all && first.delta.is_none());
        let snap = parse(frame::FrameKind::Snapshot, &feed.snapshot().unwrap());
        let LiveFrame::Snapshot {
            figures, agents, ..
        } = snap
        else {
            panic!("not a snapshot");
        };
        assert_eq!((figures.len(), agents.len()), (4, 1));

        // Only time passed: nothing to send.
        let idle = feed.update(&readings(1, 2_000, vec![agent("a1", "t1", 5)]));
        assert!(idle.delta.is_none() && !idle.resync_all);

        // The centre's offered count changed and a second agent appeared.
        let busy = feed.update(&readings(
            2,
            3_000,
            vec![agent("a1", "t1", 5), agent("a2", "t1", 6)],
        ));
        let LiveFrame::Delta {
            now,
            figures,
            agents,
            ..
        } = parse(frame::FrameKind::Delta, &busy.delta.unwrap())
        else {
            panic!("not a delta");
        };
        assert_eq!(now, 3_000);
        assert_eq!(figures.len(), 2, "both windows of the centre changed");
        assert!(
            figures
                .iter()
                .all(|f| f.scope == Scope::Centre && f.offered == 2)
        );
        assert_eq!(
            agents.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["a2"]
        );
    }

    #[test]
    fn an_agent_leaving_the_scope_resyncs_everyone() {
        let mut feed = Feed::new(key());
        feed.update(&readings(
            1,
            1_000,
            vec![agent("a1", "t1", 5), agent("a2", "t1", 5)],
        ));
        let update = feed.update(&readings(1, 2_000, vec![agent("a1", "t1", 5)]));
        assert!(update.resync_all);
        let LiveFrame::Snapshot { agents, .. } =
            parse(frame::FrameKind::Snapshot, &feed.snapshot().unwrap())
        else {
            panic!("not a snapshot");
        };
        assert_eq!(agents.len(), 1);
    }

    #[test]
    fn new_history_points_travel_once() {
        let mut feed = Feed::new(key());
        let point = |minute| MinutePoint {
            minute,
            service_level_pct: Some(90.0),
            waiting: 1,
        };
        let mut r = readings(1, 1_000, vec![]);
        r.history.insert(Scope::Centre, vec![point(0)]);
        feed.update(&r);
        let mut r = readings(1, 61_000, vec![]);
        r.history
            .insert(Scope::Centre, vec![point(0), point(60_000)]);
        let LiveFrame::Delta { history, .. } =
            parse(frame::FrameKind::Delta, &feed.update(&r).delta.unwrap())
        else {
            panic!("not a delta");
        };
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].points, vec![point(60_000)]);
        let mut r = readings(1, 62_000, vec![]);
        r.history
            .insert(Scope::Centre, vec![point(0), point(60_000)]);
        assert!(feed.update(&r).delta.is_none());
    }
}
