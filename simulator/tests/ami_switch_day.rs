//! The fake switch's day, without sockets: every AMI event it raises, encoded, decoded by
//! `AmiDecoder` and mapped by `AmiMapper` into an engine, gives the figures the canonical day
//! gives, once the canonical day is reduced to what AMI carries (docs/CTI.md, "The fake
//! switch"): no IVR completions, no test flag, whole-second waits and talk.

mod ami_switch_support;

use ami_switch_support::{as_ami_carries, assert_same_figures, canonical_engine, org};
use floorwatch_core::ami::{AmiDecoder, AmiMapper};
use floorwatch_core::{Engine, Event, EventKind, Scope, Window};
use floorwatch_sim::ami_switch::{
    AfterCallWork, AmiDay, BANNER, Dialplan, TIMEOUT_HANGUP_DELAY_MS,
};
use floorwatch_sim::{Scenario, Simulation};
use jiff::civil::date;

/// Every event of the day through the wire format and the mapper, into an engine.
fn through_ami(scenario: &Scenario, seed: u64, mode: AfterCallWork) -> (Engine, AmiMapper) {
    through_ami_with(scenario, seed, mode, Dialplan::Voicemail)
}

/// As [`through_ami`], on a switch whose dialplan does `dialplan` after a queue time-out; the
/// mapper is told the switch's banner, as the server's source does.
fn through_ami_with(
    scenario: &Scenario,
    seed: u64,
    mode: AfterCallWork,
    dialplan: Dialplan,
) -> (Engine, AmiMapper) {
    let simulation = Simulation::new(scenario, date(2026, 3, 9), seed);
    let mut day = AmiDay::new(scenario, simulation, mode).with_dialplan(dialplan);
    let org = org(scenario);
    let mut engine = Engine::new(&org).unwrap();
    let mut mapper = AmiMapper::new("ami:test", &org);
    mapper.switch_banner(BANNER);
    let mut decoder = AmiDecoder::new();
    let mut last = 0;
    while let Some(moment) = day.release() {
        for stamped in &moment.events {
            decoder.feed(stamped.message.encode().as_bytes());
        }
        while let Some(message) = decoder.next_message() {
            let message = message.expect("the switch writes well-formed AMI");
            for event in mapper.map(&message, moment.at) {
                engine.apply(&event);
            }
        }
        last = moment.at;
    }
    for event in mapper.tick(last + TIMEOUT_HANGUP_DELAY_MS) {
        engine.apply(&event);
    }
    (engine, mapper)
}

#[test]
fn a_day_over_ami_gives_the_figures_of_the_canonical_day_as_ami_carries_it() {
    let scenario = Scenario::preset("small").unwrap();
    for seed in [3, 11] {
        let (ami, mapper) = through_ami(&scenario, seed, AfterCallWork::Pause);
        assert_eq!(mapper.duplicates(), 0);
        assert_eq!(mapper.rejected(), 0);
        let canonical: Vec<Event> = Simulation::new(&scenario, date(2026, 3, 9), seed).collect();
        let reference = canonical_engine(&scenario, canonical.iter().filter_map(as_ami_carries));
        let mut scopes = reference.scopes();
        scopes.sort_by_key(|s| s.to_string());
        assert!(scopes.len() > 20, "{scopes:?}");
        for scope in &scopes {
            assert_same_figures(&reference, &ami, scope, &format!("seed {seed}"));
        }
        assert_eq!(reference.agents(), ami.agents(), "seed {seed}");

        // And against the raw canonical day: the counts AMI does not touch are the same but
        // for the test calls, which the switch serves as ordinary calls.
        let raw = canonical_engine(&scenario, canonical.iter().cloned());
        let test_legs = canonical
            .iter()
            .filter(|e| e.test && matches!(e.kind, EventKind::CallEnteredQueue { .. }))
            .count() as u64;
        let (a, r) = (
            ami.figures(&Scope::Centre, Window::Today).unwrap(),
            raw.figures(&Scope::Centre, Window::Today).unwrap(),
        );
        assert!(r.ivr_completed > 0 && a.ivr_completed == 0);
        assert!(test_legs > 0, "seed {seed}: the day has test calls");
        assert_eq!(a.offered, r.offered + test_legs, "seed {seed}");
    }
}

#[test]
fn with_wrap_up_time_the_calls_count_alike_and_after_call_work_is_inferred() {
    let scenario = Scenario::preset("small").unwrap();
    let seed = 5;
    let (ami, _) = through_ami(&scenario, seed, AfterCallWork::WrapUp);
    let canonical = Simulation::new(&scenario, date(2026, 3, 9), seed);
    let reference = canonical_engine(&scenario, canonical.filter_map(|e| as_ami_carries(&e)));
    for scope in [Scope::Centre, Scope::Queue("billing".into())] {
        let (a, r) = (
            ami.figures(&scope, Window::Today).unwrap(),
            reference.figures(&scope, Window::Today).unwrap(),
        );
        assert_eq!(
            (a.offered, a.answered, a.abandoned, a.timed_out, a.handled),
            (r.offered, r.answered, r.abandoned, r.timed_out, r.handled),
            "{scope}"
        );
        assert_eq!(
            (a.asa_s, a.max_wait_s, a.avg_talk_s, a.avg_hold_s),
            (r.asa_s, r.max_wait_s, r.avg_talk_s, r.avg_hold_s),
            "{scope}"
        );
        // Inferred from the queue's wrap-up time (billing: 25 s mean), cut short when the
        // next call rings first: near the true figure, not equal to it.
        let (acw, true_acw) = (a.avg_acw_s.unwrap(), r.avg_acw_s.unwrap());
        assert!(acw > 5.0 && acw <= 40.0, "{scope}: {acw} vs {true_acw}");
    }
}

/// `Queue(...)` then `Hangup()`: every time-out's Hangup comes in the same instant as its
/// QueueCallerAbandon, which a mapper going by the Hangup's timing alone counts as an abandon.
/// The caller's HangupRequest (present only when the caller hung up) tells them apart: every
/// figure of every scope equals the canonical day's.
#[test]
fn with_an_immediate_hangup_after_the_queue_time_outs_stay_time_outs() {
    let scenario = Scenario::preset("small").unwrap();
    let seed = 3;
    let (ami, mapper) = through_ami_with(&scenario, seed, AfterCallWork::Pause, Dialplan::Hangup);
    assert_eq!(mapper.rejected(), 0);
    let canonical = Simulation::new(&scenario, date(2026, 3, 9), seed);
    let reference = canonical_engine(&scenario, canonical.filter_map(|e| as_ami_carries(&e)));
    let centre = reference.figures(&Scope::Centre, Window::Today).unwrap();
    assert!(centre.timed_out > 0 && centre.abandoned > 0, "{centre:?}");
    let mut scopes = reference.scopes();
    scopes.sort_by_key(|s| s.to_string());
    for scope in &scopes {
        assert_same_figures(&reference, &ami, scope, "dialplan hangup");
    }
    assert_eq!(reference.agents(), ami.agents());
}
