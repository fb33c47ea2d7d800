//! Tests of `checkpoint` and of the floor's checkpoint form. The invariant: a floor restored
//! from a checkpoint (and the journal after it) equals the floor it was taken from, and equals
//! a floor that replayed everything, in every figure of every scope and window, every alert,
//! the call register and the sparklines.

use floorwatch_core::alerts::{AlertChange, Alerts, AlertsConfig};
use floorwatch_core::{Event, Organisation, Window};
use floorwatch_sim::{Scenario, Simulation};

use super::*;
use crate::alerts::{AlertDesk, AlertJournal};
use crate::floor::LiveFloor;
use crate::ndjson_log::FsyncPolicy;

/// A small centre's morning, and rules that raise alerts on it.
fn morning() -> (Organisation, AlertsConfig, Vec<Event>) {
    let scenario = Scenario::preset("small").unwrap();
    let date = "2026-03-02".parse().unwrap();
    let events: Vec<Event> = Simulation::new(&scenario, date, 7).take(30_000).collect();
    let config: AlertsConfig = serde_json::from_str(
        r#"{"rules": [
            {"id": "queue-up", "metric": "waiting_now", "scope": "every_queue",
             "comparison": "above", "warning": 1, "critical": 4, "hold_s": 20}]}"#,
    )
    .unwrap();
    (scenario.organisation(), config, events)
}

fn floor(org: &Organisation, config: &AlertsConfig) -> LiveFloor {
    let desk = AlertDesk::new(Alerts::new(config, org).unwrap());
    LiveFloor::new(org, 30_000, desk).unwrap()
}

fn apply(floor: &mut LiveFloor, events: &[Event]) {
    for (i, event) in events.iter().enumerate() {
        floor.apply(event);
        floor.applied_journal_seq(i as u64);
    }
}

fn restored(org: &Organisation, config: &AlertsConfig, from: &LiveFloor) -> LiveFloor {
    let state = FloorState::from_bytes(&from.checkpoint_bytes().unwrap()).unwrap();
    let mut floor = floor(org, config);
    floor.resume_from(org, state, &[], None).unwrap();
    floor
}

/// Every figure of every scope and window, the agents, the queues, the sparklines, the alerts
/// and the call register.
fn assert_same(a: &LiveFloor, b: &LiveFloor) {
    assert_eq!(a.now(), b.now());
    assert_eq!(a.scopes(), b.scopes());
    assert_eq!(a.queues(), b.queues());
    for scope in a.scopes() {
        for window in Window::ALL {
            assert_eq!(
                a.figures(&scope, window).unwrap(),
                b.figures(&scope, window).unwrap(),
                "{scope} {window:?}"
            );
        }
        assert_eq!(a.history(&scope), b.history(&scope), "sparkline of {scope}");
        assert_eq!(a.agents_in(&scope).unwrap(), b.agents_in(&scope).unwrap());
    }
    assert_eq!(
        a.alerts().alerts_since(0),
        b.alerts().alerts_since(0),
        "alerts"
    );
    let calls = |f: &LiveFloor| {
        f.calls()
            .calls(None, f.now())
            .map(|c| c.view())
            .collect::<Vec<_>>()
    };
    assert_eq!(calls(a), calls(b));
}

#[test]
fn a_floor_restored_from_its_checkpoint_goes_on_as_the_original() {
    let (org, config, events) = morning();
    let half = events.len() / 2;
    let mut original = floor(&org, &config);
    apply(&mut original, &events[..half]);
    let mut copy = restored(&org, &config, &original);
    assert_same(&original, &copy);
    for event in &events[half..] {
        original.apply(event);
        copy.apply(event);
    }
    let later = original.now() + 3_600_000;
    original.tick(later);
    copy.tick(later);
    assert!(
        !original.alerts().alerts_since(0).is_empty(),
        "the rules raised nothing: the test would prove nothing about alerts"
    );
    assert_same(&original, &copy);
}

#[test]
fn checkpoint_and_journal_after_it_equal_a_full_replay() {
    let (org, config, events) = morning();
    let (half, most) = (events.len() / 2, events.len() * 3 / 4);
    let dir = tempfile::tempdir().unwrap();
    let alert_dir = dir.path().join("alerts");
    // The live floor journals its alert changes; a checkpoint half way.
    let mut live = floor(&org, &config);
    let (journal, _, _) = AlertJournal::open(&alert_dir, FsyncPolicy::Never).unwrap();
    live.attach_alert_journal(journal);
    apply(&mut live, &events[..half]);
    let state = live.checkpoint_bytes().unwrap();
    // Into a buffer sized from a smaller checkpoint (the recorder's, `Checkpointer::take`):
    // the same bytes, grown past the size given.
    let small = state.len() / 3;
    let sized = live
        .checkpoint_bytes_into(Vec::with_capacity(small))
        .unwrap();
    assert!(sized == state && sized.capacity() >= state.len());
    apply(&mut live, &events[half..most]);
    drop(live);
    let (_, changes, _): (_, Vec<AlertChange>, _) =
        AlertJournal::open(&alert_dir, FsyncPolicy::Never).unwrap();
    assert!(!changes.is_empty());

    // A start replaying everything.
    let mut full = floor(&org, &config);
    full.restore_alerts(changes.clone());
    full.set_evaluating(false);
    apply(&mut full, &events[..most]);
    full.set_evaluating(true);
    // A start from the checkpoint and the journal after it.
    let mut resumed = floor(&org, &config);
    let state = FloorState::from_bytes(&state).unwrap();
    assert!(state.alerts_fit(&changes));
    resumed.resume_from(&org, state, &changes, None).unwrap();
    resumed.forget_alert_timers();
    resumed.set_evaluating(false);
    for event in &events[half..most] {
        resumed.apply(event);
    }
    resumed.set_evaluating(true);
    assert_same(&full, &resumed);

    // Both go on alike, raising and clearing the same alerts.
    for event in &events[most..] {
        full.apply(event);
        resumed.apply(event);
    }
    assert_same(&full, &resumed);
    // An alert journal that does not continue the checkpoint's is noticed.
    let mut other = changes.clone();
    other.truncate(0);
    let state = FloorState::from_bytes(&full.checkpoint_bytes().unwrap()).unwrap();
    assert!(state.alerts_fit(&other) == changes.is_empty());
}

#[test]
fn a_checkpoint_file_reads_back_and_damage_or_another_configuration_is_refused() {
    let (org, config, events) = morning();
    let mut live = floor(&org, &config);
    apply(&mut live, &events[..2_000]);
    let fp = config_fingerprint(&org, &config);
    let mut seen = SeenIds::new();
    seen.insert("2026-03-02".parse().unwrap(), fingerprint("e1"));
    let dir = tempfile::tempdir().unwrap();
    let expect = Expect { config: fp.clone() };
    let mut written = Vec::new();
    for next_seq in [10, 2_000, 30] {
        let taken = Taken {
            header: Header::new(fp.clone(), next_seq, Some(5)),
            floor: live.checkpoint_bytes().unwrap(),
            seen: seen.to_bytes(),
            locked_ms: 0,
            taken_ms: 0,
        };
        written.push(write(dir.path(), taken).unwrap().0);
    }
    // The newest two by journal position are kept, newest first.
    assert_eq!(
        list(dir.path()),
        vec![written[1].clone(), written[2].clone()]
    );
    let loaded = read(&written[1], &expect).unwrap();
    assert_eq!(
        (loaded.header.next_seq, loaded.header.lookout),
        (2_000, Some(5))
    );
    assert!(loaded.seen.contains(fingerprint("e1")));
    let mut copy = floor(&org, &config);
    copy.resume_from(&org, loaded.floor, &[], None).unwrap();
    assert_same(&live, &copy);

    let other = Expect {
        config: "another".into(),
    };
    assert!(matches!(
        read(&written[1], &other),
        Err(CheckpointError::Config)
    ));
    let mut bytes = std::fs::read(&written[1]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&written[1], &bytes).unwrap();
    assert!(matches!(
        read(&written[1], &expect),
        Err(CheckpointError::Damaged(_))
    ));
    std::fs::write(&written[2], b"not a checkpoint").unwrap();
    assert!(matches!(
        read(&written[2], &expect),
        Err(CheckpointError::NotACheckpoint)
    ));
}
