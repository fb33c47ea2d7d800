//! The figures the wall shows and the supervisor's tables repeat: for each, its label, its
//! definition (docs/METRICS.md), the window it covers, how it reads on screen and its colour.
//!
//! One table of figures feeds both views, so a queue row always says what the wall's tile for
//! that queue says.

use floorwatch_core::{Figures, QueueView, Scope, ServiceLevelSettings, Window};

use crate::format;
use crate::i18n::{self, Key, Lang};
use crate::tone::{self, Tone};

/// A figure on the wall or in the queue and team tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Figure {
    /// Service level, percent, under the queue's variant.
    ServiceLevel,
    /// Calls waiting now.
    CallsWaiting,
    /// Longest current wait (ticks in the browser).
    LongestWait,
    /// Calls answered today.
    AnsweredToday,
    /// Calls abandoned today.
    AbandonedToday,
    /// Abandoned over offered, percent.
    AbandonRate,
    /// Average speed of answer.
    Asa,
    /// Average handle time.
    Aht,
    /// Agents available.
    AgentsAvailable,
    /// Agents on a call.
    AgentsOnCall,
    /// Agents in after-call work.
    AgentsAfterCallWork,
    /// Agents not ready.
    AgentsNotReady,
    /// Agents signed in.
    AgentsLoggedIn,
    /// Agents needed now to meet the target (Erlang C).
    AgentsNeeded,
    /// Calls handled.
    Handled,
    /// Occupancy, percent.
    Occupancy,
    /// Utilisation, percent.
    Utilisation,
}

/// Which span of time a figure covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// The window the screen's selector chose.
    Selected,
    /// Today since the centre's daily reset, whatever the selector says.
    Today,
    /// Now: calls waiting, agents by state.
    Live,
}

/// A figure as the screen shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// On screen: "82.4%", "1:05", "—".
    pub text: String,
    /// In `data-value`, as the JSON API writes the underlying field (`null` when missing); for
    /// the longest wait, the `oldest_waiting_since` timestamp the screen ticks from.
    pub raw: String,
    /// Its colour.
    pub tone: Tone,
    /// The value tables sort by; `None` sorts last.
    pub sort: Option<f64>,
}

/// Whether a window has some calls but fewer than the built-in service-level rule's
/// `min_offered`: its service level is "not enough calls", not a colour (one slow answer
/// would read as a red 0.0 %; docs/ALERTS.md, "Defaults").
fn few_calls(f: &Figures) -> bool {
    (1..floorwatch_core::alerts::DEFAULT_MIN_OFFERED).contains(&f.offered)
}

impl Figure {
    /// Whether the figure shows as "not enough calls" ([`Key::NotEnoughCalls`]) over the
    /// selected window instead of its number: service level on fewer calls than the built-in
    /// rule judges.
    pub fn too_few_calls(self, selected: Option<&Figures>) -> bool {
        self == Figure::ServiceLevel && selected.is_some_and(few_calls)
    }

    /// Every figure, in the order the wall shows them.
    pub const ALL: [Figure; 17] = [
        Figure::ServiceLevel,
        Figure::CallsWaiting,
        Figure::LongestWait,
        Figure::AnsweredToday,
        Figure::AbandonedToday,
        Figure::AbandonRate,
        Figure::Asa,
        Figure::Aht,
        Figure::AgentsAvailable,
        Figure::AgentsOnCall,
        Figure::AgentsAfterCallWork,
        Figure::AgentsNotReady,
        Figure::AgentsLoggedIn,
        Figure::AgentsNeeded,
        Figure::Handled,
        Figure::Occupancy,
        Figure::Utilisation,
    ];

    /// The wall's tiles, in reading order.
    pub const WALL: [Figure; 12] = [
        Figure::ServiceLevel,
        Figure::CallsWaiting,
        Figure::LongestWait,
        Figure::AnsweredToday,
        Figure::AbandonedToday,
        Figure::AbandonRate,
        Figure::Asa,
        Figure::Aht,
        Figure::AgentsAvailable,
        Figure::AgentsOnCall,
        Figure::AgentsAfterCallWork,
        Figure::AgentsNotReady,
    ];

    /// The queue table's figure columns: every wall figure plus Erlang C agents needed.
    pub const QUEUE_TABLE: [Figure; 13] = [
        Figure::ServiceLevel,
        Figure::CallsWaiting,
        Figure::LongestWait,
        Figure::AnsweredToday,
        Figure::AbandonedToday,
        Figure::AbandonRate,
        Figure::Asa,
        Figure::Aht,
        Figure::AgentsAvailable,
        Figure::AgentsOnCall,
        Figure::AgentsAfterCallWork,
        Figure::AgentsNotReady,
        Figure::AgentsNeeded,
    ];

    /// A queue's tile on the wall's queues layout (`#/wall?layout=queues`): what a room reads
    /// of each queue at a glance.
    pub const QUEUE_TILE: [Figure; 3] = [
        Figure::ServiceLevel,
        Figure::CallsWaiting,
        Figure::LongestWait,
    ];

    /// The team table's figure columns.
    pub const TEAM_TABLE: [Figure; 9] = [
        Figure::AgentsLoggedIn,
        Figure::AgentsAvailable,
        Figure::AgentsOnCall,
        Figure::AgentsAfterCallWork,
        Figure::AgentsNotReady,
        Figure::Handled,
        Figure::Aht,
        Figure::Occupancy,
        Figure::Utilisation,
    ];

    /// A stable name for `data-figure`, so browser tests find a tile in any language.
    pub fn id(self) -> &'static str {
        match self {
            Figure::ServiceLevel => "service_level_pct",
            Figure::CallsWaiting => "waiting_now",
            Figure::LongestWait => "longest_wait",
            Figure::AnsweredToday => "answered_today",
            Figure::AbandonedToday => "abandoned_today",
            Figure::AbandonRate => "abandon_rate_pct",
            Figure::Asa => "asa_s",
            Figure::Aht => "aht_s",
            Figure::AgentsAvailable => "agents_available",
            Figure::AgentsOnCall => "agents_on_call",
            Figure::AgentsAfterCallWork => "agents_after_call_work",
            Figure::AgentsNotReady => "agents_not_ready",
            Figure::AgentsLoggedIn => "agents_logged_in",
            Figure::AgentsNeeded => "agents_needed",
            Figure::Handled => "handled",
            Figure::Occupancy => "occupancy_pct",
            Figure::Utilisation => "utilisation_pct",
        }
    }

    /// The calls behind the figure (drill-down, `crate::reports::drill`), as the calls API's
    /// cut: those that missed the service level (docs/METRICS.md: in its denominator, not its
    /// numerator), the answered (ASA, AHT and handled calls are theirs), the abandoned; `None`
    /// for a figure of agents or of calls still waiting, which no finished call explains.
    pub fn drill(self) -> Option<&'static str> {
        match self {
            Figure::ServiceLevel => Some("service_level=missed"),
            Figure::AnsweredToday | Figure::Asa | Figure::Aht | Figure::Handled => {
                Some("outcome=answered")
            }
            Figure::AbandonedToday | Figure::AbandonRate => Some("outcome=abandoned"),
            _ => None,
        }
    }

    /// The figure's label.
    pub fn label(self) -> Key {
        match self {
            Figure::ServiceLevel => Key::ServiceLevel,
            Figure::CallsWaiting => Key::CallsWaiting,
            Figure::LongestWait => Key::LongestWait,
            Figure::AnsweredToday => Key::AnsweredToday,
            Figure::AbandonedToday => Key::AbandonedToday,
            Figure::AbandonRate => Key::AbandonRate,
            Figure::Asa => Key::Asa,
            Figure::Aht => Key::Aht,
            Figure::AgentsAvailable => Key::AgentsAvailable,
            Figure::AgentsOnCall => Key::AgentsOnCall,
            Figure::AgentsAfterCallWork => Key::AgentsAfterCallWork,
            Figure::AgentsNotReady => Key::AgentsNotReady,
            Figure::AgentsLoggedIn => Key::AgentsLoggedIn,
            Figure::AgentsNeeded => Key::AgentsNeeded,
            Figure::Handled => Key::Handled,
            Figure::Occupancy => Key::Occupancy,
            Figure::Utilisation => Key::Utilisation,
        }
    }

    /// Where the figure's value comes from: the window chosen, or today.
    pub fn span(self) -> Span {
        match self {
            Figure::AnsweredToday | Figure::AbandonedToday => Span::Today,
            Figure::CallsWaiting
            | Figure::LongestWait
            | Figure::AgentsAvailable
            | Figure::AgentsOnCall
            | Figure::AgentsAfterCallWork
            | Figure::AgentsNotReady
            | Figure::AgentsLoggedIn
            | Figure::AgentsNeeded => Span::Live,
            Figure::ServiceLevel
            | Figure::AbandonRate
            | Figure::Asa
            | Figure::Aht
            | Figure::Handled
            | Figure::Occupancy
            | Figure::Utilisation => Span::Selected,
        }
    }

    /// Reads the figure from the scope's figures over the selected window and over today, at
    /// `now` (the server's clock, UTC ms) for the ticking longest wait.
    pub fn read(
        self,
        selected: Option<&Figures>,
        today: Option<&Figures>,
        settings: &ServiceLevelSettings,
        now: i64,
    ) -> Reading {
        let source = match self.span() {
            Span::Selected => selected,
            Span::Today => today,
            Span::Live => selected.or(today),
        };
        let Some(f) = source else {
            return Reading {
                text: format::NONE.to_string(),
                raw: "null".to_string(),
                tone: Tone::Neutral,
                sort: None,
            };
        };
        let a = &f.agents;
        let pct = |v: Option<f64>, tone: Tone| Reading {
            text: format::pct(v),
            raw: format::raw_f64(v),
            tone,
            sort: v,
        };
        let secs = |v: Option<f64>, tone: Tone| Reading {
            text: format::seconds(v),
            raw: format::raw_f64(v),
            tone,
            sort: v,
        };
        let count = |v: u64, tone: Tone| Reading {
            text: format::count(Some(v)),
            raw: format::raw_u64(Some(v)),
            tone,
            sort: Some(v as f64),
        };
        match self {
            Figure::ServiceLevel if few_calls(f) => pct(f.service_level_pct, Tone::Neutral),
            Figure::ServiceLevel => pct(
                f.service_level_pct,
                tone::service_level(f.service_level_pct, f.service_level_target_pct),
            ),
            Figure::CallsWaiting => count(
                f.waiting_now,
                tone::calls_waiting(f.waiting_now, a.available, a.logged_in),
            ),
            Figure::LongestWait => {
                let waited_s = f
                    .oldest_waiting_since
                    .map(|since| (now - since).max(0) as f64 / 1000.0);
                Reading {
                    text: format::elapsed(f.oldest_waiting_since, now),
                    raw: f
                        .oldest_waiting_since
                        .map_or_else(|| "null".to_string(), |t| t.to_string()),
                    tone: tone::longest_wait(waited_s, f.waiting_now, settings.threshold_s),
                    sort: waited_s,
                }
            }
            Figure::AnsweredToday => count(f.answered, Tone::Neutral),
            Figure::AbandonedToday => count(f.abandoned, Tone::Neutral),
            Figure::AbandonRate => pct(f.abandon_rate_pct, tone::abandon_rate(f.abandon_rate_pct)),
            Figure::Asa => secs(f.asa_s, tone::wait(f.asa_s, settings.threshold_s)),
            Figure::Aht => secs(f.aht_s, Tone::Neutral),
            Figure::AgentsAvailable => count(
                a.available.into(),
                tone::agents_available(a.available, a.logged_in, f.waiting_now),
            ),
            Figure::AgentsOnCall => count(u64::from(a.on_call) + u64::from(a.hold), Tone::Neutral),
            Figure::AgentsAfterCallWork => count(a.after_call_work.into(), Tone::Neutral),
            Figure::AgentsNotReady => count(
                a.not_ready.into(),
                tone::agents_not_ready(a.not_ready, a.logged_in),
            ),
            Figure::AgentsLoggedIn => count(a.logged_in.into(), Tone::Neutral),
            Figure::AgentsNeeded => {
                let v = f.agents_needed.map(u64::from);
                Reading {
                    text: format::count(v),
                    raw: format::raw_u64(v),
                    tone: Tone::Neutral,
                    sort: v.map(|v| v as f64),
                }
            }
            Figure::Handled => count(f.handled, Tone::Neutral),
            Figure::Occupancy => pct(f.occupancy_pct, Tone::Neutral),
            Figure::Utilisation => pct(f.utilisation_pct, Tone::Neutral),
        }
    }

    /// The tooltip: what the figure means, over which window, and when it turns amber or red.
    pub fn tooltip(
        self,
        lang: Lang,
        window: Window,
        variant_of_scope: Option<&Figures>,
        settings: &ServiceLevelSettings,
    ) -> String {
        let t = settings.threshold_s.to_string();
        let s = settings.short_abandon_s.to_string();
        let args = [("t", t.as_str()), ("s", s.as_str())];
        let definition = match self {
            Figure::ServiceLevel => {
                let variant =
                    variant_of_scope.map_or(settings.variant, |f| f.service_level_variant);
                i18n::fill(lang.service_level_definition(variant), &args)
            }
            Figure::CallsWaiting => lang.t(Key::DefCallsWaiting).to_string(),
            Figure::LongestWait => lang.t(Key::DefLongestWait).to_string(),
            Figure::AnsweredToday => lang.t(Key::DefAnswered).to_string(),
            Figure::AbandonedToday => lang.t(Key::DefAbandoned).to_string(),
            Figure::AbandonRate => lang.fill(Key::DefAbandonRate, &args),
            Figure::Asa => lang.t(Key::DefAsa).to_string(),
            Figure::Aht => lang.t(Key::DefAht).to_string(),
            Figure::AgentsAvailable => lang.t(Key::DefAgentsAvailable).to_string(),
            Figure::AgentsOnCall => lang.t(Key::DefAgentsOnCall).to_string(),
            Figure::AgentsAfterCallWork => lang.t(Key::DefAgentsAfterCallWork).to_string(),
            Figure::AgentsNotReady => lang.t(Key::DefAgentsNotReady).to_string(),
            Figure::AgentsLoggedIn => lang.t(Key::DefAgentsLoggedIn).to_string(),
            Figure::AgentsNeeded => lang.t(Key::DefAgentsNeeded).to_string(),
            Figure::Handled => lang.t(Key::DefHandled).to_string(),
            Figure::Occupancy => lang.t(Key::DefOccupancy).to_string(),
            Figure::Utilisation => lang.t(Key::DefUtilisation).to_string(),
        };
        let span = match self.span() {
            Span::Selected => lang.window(window),
            Span::Today => lang.window(Window::Today),
            Span::Live => lang.t(Key::WindowLive),
        };
        let mut tip = format!(
            "{}\n{definition}\n{}: {span}\n{}",
            lang.t(self.label()),
            lang.t(Key::WindowLabel),
            lang.t(Key::DefNull),
        );
        if let Some(rule) = self.colour_rule(lang, settings) {
            tip.push_str(&format!("\n{}: {rule}", lang.t(Key::TipColours)));
        }
        tip
    }

    fn colour_rule(self, lang: Lang, settings: &ServiceLevelSettings) -> Option<String> {
        let t = settings.threshold_s.to_string();
        Some(match self {
            Figure::ServiceLevel => lang.fill(
                Key::ColourServiceLevel,
                &[("margin", &tone::SERVICE_LEVEL_MARGIN_PTS.to_string())],
            ),
            Figure::CallsWaiting => lang.fill(
                Key::ColourCallsWaiting,
                &[("red", &tone::WAITING_EXCESS_RED.to_string())],
            ),
            Figure::LongestWait => lang.fill(Key::ColourLongestWait, &[("t", &t)]),
            Figure::AbandonRate => lang.fill(
                Key::ColourAbandonRate,
                &[
                    ("amber", &tone::ABANDON_RATE_AMBER_PCT.to_string()),
                    ("red", &tone::ABANDON_RATE_RED_PCT.to_string()),
                ],
            ),
            Figure::Asa => lang.fill(Key::ColourAsa, &[("t", &t)]),
            Figure::AgentsAvailable => lang.t(Key::ColourAgentsAvailable).to_string(),
            Figure::AgentsNotReady => lang.fill(
                Key::ColourAgentsNotReady,
                &[
                    ("amber", &tone::NOT_READY_AMBER_PCT.to_string()),
                    ("red", &tone::NOT_READY_RED_PCT.to_string()),
                ],
            ),
            _ => return None,
        })
    }
}

/// The service-level settings a scope's colours and tooltips use: a queue's own; for any other
/// scope, the settings every known queue shares, else the defaults (80/20, 5 s). Figures carry
/// the variant and target but not T and S, hence the look-up.
pub fn settings_for(scope: &Scope, queues: &[QueueView]) -> ServiceLevelSettings {
    if let Scope::Queue(id) = scope
        && let Some(q) = queues.iter().find(|q| &q.id == id)
    {
        return q.settings;
    }
    match queues.split_first() {
        Some((first, rest)) if rest.iter().all(|q| q.settings == first.settings) => first.settings,
        _ => ServiceLevelSettings::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::figures::ServiceLevelVariants;
    use floorwatch_core::{AgentStateCounts, Scope, ServiceLevelVariant};

    fn figures(window: Window) -> Figures {
        Figures {
            scope: Scope::Centre,
            window,
            from: 0,
            to: 1_000_000,
            offered: 10,
            answered: 8,
            abandoned: 2,
            short_abandoned: 1,
            timed_out: 0,
            answered_within_threshold: 6,
            ivr_completed: 0,
            handled: 7,
            service_level_pct: Some(200.0 / 3.0),
            service_level_variant: ServiceLevelVariant::AnsweredOverOffered,
            service_level_target_pct: 80.0,
            service_level_variants: ServiceLevelVariants::default(),
            answer_rate_pct: None,
            abandon_rate_pct: Some(100.0 / 9.0),
            asa_s: Some(12.5),
            max_wait_s: Some(50.0),
            avg_talk_s: None,
            avg_hold_s: None,
            avg_acw_s: None,
            aht_s: Some(185.2),
            occupancy_pct: None,
            utilisation_pct: None,
            wait_p50_s: None,
            wait_p90_s: None,
            wait_p99_s: None,
            handle_p50_s: None,
            handle_p90_s: None,
            handle_p99_s: None,
            waiting_now: 3,
            oldest_waiting_since: Some(955_000),
            agents: AgentStateCounts {
                logged_in: 10,
                available: 1,
                ringing: 0,
                on_call: 4,
                hold: 1,
                after_call_work: 1,
                not_ready: 3,
                not_ready_by_reason: [("break".to_string(), 3)].into(),
            },
            agents_needed: Some(9),
        }
    }

    fn read(figure: Figure, selected: Option<&Figures>, today: Option<&Figures>) -> Reading {
        figure.read(selected, today, &ServiceLevelSettings::default(), 1_000_000)
    }

    #[test]
    fn wall_figures_read_the_right_window() {
        let selected = figures(Window::Rolling30);
        let mut today = figures(Window::Today);
        today.answered = 120;
        today.service_level_pct = Some(90.0);
        let r = read(Figure::ServiceLevel, Some(&selected), Some(&today));
        assert_eq!(r.text, "66.7%");
        assert_eq!(r.raw, "66.66666666666667");
        assert_eq!(r.tone, Tone::Bad);
        assert_eq!(
            read(Figure::AnsweredToday, Some(&selected), Some(&today)).text,
            "120"
        );
        assert_eq!(
            read(Figure::AbandonRate, Some(&selected), None).tone,
            Tone::Bad
        );
        assert_eq!(read(Figure::Asa, Some(&selected), None).text, "0:13");
        assert_eq!(read(Figure::Aht, Some(&selected), None).text, "3:05");
        assert_eq!(read(Figure::AgentsOnCall, Some(&selected), None).text, "5");
        assert_eq!(
            read(Figure::AgentsNotReady, Some(&selected), None).tone,
            Tone::Bad
        );
        assert_eq!(read(Figure::AgentsNeeded, Some(&selected), None).raw, "9");
        // Live figures fall back on today's figures when the selected window is missing.
        assert_eq!(read(Figure::CallsWaiting, None, Some(&today)).text, "3");
    }

    #[test]
    fn the_longest_wait_ticks_from_its_start() {
        let f = figures(Window::Today);
        let settings = ServiceLevelSettings::default();
        let at = |now| Figure::LongestWait.read(Some(&f), None, &settings, now);
        assert_eq!(at(955_000).text, "0:00");
        assert_eq!(at(955_000).tone, Tone::Good);
        assert_eq!(at(985_999).text, "0:30");
        assert_eq!(at(985_999).tone, Tone::Warn);
        assert_eq!(at(1_000_000).text, "0:45");
        assert_eq!(at(1_000_000).tone, Tone::Bad);
        assert_eq!(at(1_000_000).raw, "955000");
    }

    #[test]
    fn missing_figures_read_as_a_dash() {
        for figure in Figure::ALL {
            let r = read(figure, None, None);
            assert_eq!(
                (r.text.as_str(), r.raw.as_str()),
                ("—", "null"),
                "{figure:?}"
            );
            assert_eq!(r.tone, Tone::Neutral);
        }
        let mut empty = figures(Window::Today);
        empty.service_level_pct = None;
        empty.asa_s = None;
        assert_eq!(read(Figure::ServiceLevel, Some(&empty), None).text, "—");
        assert_eq!(read(Figure::Asa, Some(&empty), None).text, "—");
    }

    /// Issue 18: "Technical support 0.0 %", red, from one call. Below the built-in rule's
    /// `min_offered` the service level is "not enough calls", uncoloured; from it, a colour.
    #[test]
    fn service_level_on_too_few_calls_is_not_enough_calls() {
        let mut one_call = figures(Window::Rolling30);
        (one_call.offered, one_call.answered, one_call.abandoned) = (1, 1, 0);
        one_call.answered_within_threshold = 0;
        one_call.service_level_pct = Some(0.0);
        let r = read(Figure::ServiceLevel, Some(&one_call), None);
        assert!(Figure::ServiceLevel.too_few_calls(Some(&one_call)));
        assert_eq!((r.tone, r.raw.as_str()), (Tone::Neutral, "0.0"));
        assert!(!Figure::AbandonRate.too_few_calls(Some(&one_call)));
        assert_ne!(
            Lang::Zh.t(Key::NotEnoughCalls),
            Lang::En.t(Key::NotEnoughCalls)
        );

        let mut five = one_call.clone();
        five.offered = floorwatch_core::alerts::DEFAULT_MIN_OFFERED;
        assert!(!Figure::ServiceLevel.too_few_calls(Some(&five)));
        assert_eq!(
            read(Figure::ServiceLevel, Some(&five), None).tone,
            Tone::Bad
        );
        // An empty window stays "—".
        let mut none = one_call;
        (none.offered, none.service_level_pct) = (0, None);
        assert!(!Figure::ServiceLevel.too_few_calls(Some(&none)));
    }

    #[test]
    fn tooltips_state_definition_window_and_colours() {
        let settings = ServiceLevelSettings {
            threshold_s: 30,
            ..ServiceLevelSettings::default()
        };
        let f = figures(Window::Rolling15);
        let tip = Figure::ServiceLevel.tooltip(Lang::En, Window::Rolling15, Some(&f), &settings);
        assert!(tip.contains("(30 s)"), "{tip}");
        assert!(tip.contains("Last 15 min"), "{tip}");
        assert!(tip.contains("Red below the target"), "{tip}");
        assert!(!tip.contains('{'), "{tip}");
        let tip = Figure::AnsweredToday.tooltip(Lang::Zh, Window::Rolling15, None, &settings);
        assert!(tip.contains("今日"), "{tip}");
        for lang in Lang::ALL {
            for figure in Figure::ALL {
                let tip = figure.tooltip(lang, Window::Today, None, &settings);
                assert!(!tip.contains('{'), "{figure:?}: {tip}");
                assert!(tip.lines().count() >= 4, "{figure:?}: {tip}");
            }
        }
    }

    #[test]
    fn the_service_level_tooltip_follows_the_scope_variant() {
        let mut f = figures(Window::Today);
        f.scope = Scope::Queue("q".into());
        f.service_level_variant = ServiceLevelVariant::AnsweredOverAnswered;
        let settings = ServiceLevelSettings::default();
        let tip = Figure::ServiceLevel.tooltip(Lang::En, Window::Today, Some(&f), &settings);
        assert!(tip.contains("÷ calls answered"), "{tip}");
    }

    #[test]
    fn settings_come_from_the_queue_or_are_shared() {
        let queue = |id: &str, threshold_s| QueueView {
            id: id.into(),
            name: id.into(),
            owner: None,
            settings: ServiceLevelSettings {
                threshold_s,
                ..ServiceLevelSettings::default()
            },
            unassigned: false,
        };
        let queues = [queue("a", 30), queue("b", 10)];
        assert_eq!(
            settings_for(&Scope::Queue("b".into()), &queues).threshold_s,
            10
        );
        assert_eq!(settings_for(&Scope::Centre, &queues).threshold_s, 20);
        assert_eq!(settings_for(&Scope::Centre, &queues[..1]).threshold_s, 30);
        assert_eq!(
            settings_for(&Scope::Queue("zz".into()), &[]).threshold_s,
            20
        );
    }

    #[test]
    fn figure_ids_are_unique() {
        for (i, a) in Figure::ALL.iter().enumerate() {
            for b in &Figure::ALL[i + 1..] {
                assert_ne!(a.id(), b.id());
            }
        }
    }
}
