//! Tests of `config_audit`.

use super::*;
use crate::audit::Filter;

fn org(toml_text: &str) -> Organisation {
    toml::from_str(toml_text).unwrap()
}

const BASE: &str = r#"
    [centre]
    timezone = "Asia/Shanghai"
    [[sites]]
    id = "north"
    [[sites.groups]]
    id = "g1"
    [[sites.groups.teams]]
    id = "t1"
    [[queues]]
    id = "billing"
    owner = "team:t1"
    threshold_s = 20
    [[queues]]
    id = "sales"
"#;

fn at(s: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(s).unwrap()
}

fn records(dir: &Path) -> Vec<(Action, String, String, String)> {
    AuditTrail::open(dir)
        .records(&Filter::default())
        .unwrap()
        .into_iter()
        .map(|r| (r.action, r.actor, r.target, r.detail))
        .collect()
}

#[test]
fn the_first_start_records_the_initial_configuration_and_an_unchanged_one_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let alerts = AlertSettings::default();
    let n = record_at_start(
        dir.path(),
        &org(BASE),
        &alerts,
        "config:/etc/fw.toml",
        at(1),
    )
    .unwrap();
    assert_eq!(n, 1);
    let got = records(dir.path());
    assert_eq!(got[0].0, Action::ConfigChange);
    assert_eq!(got[0].1, "config:/etc/fw.toml");
    assert!(
        got[0].3.starts_with("initial configuration: 2 queues, 3 "),
        "{got:?}"
    );
    assert!(dir.path().join(SNAPSHOT_FILE).is_file());
    let n = record_at_start(
        dir.path(),
        &org(BASE),
        &alerts,
        "config:/etc/fw.toml",
        at(2),
    )
    .unwrap();
    assert_eq!(n, 0);
    assert_eq!(records(dir.path()).len(), 1);
}

#[test]
fn threshold_and_structure_changes_are_recorded_one_per_difference() {
    let dir = tempfile::tempdir().unwrap();
    let alerts = AlertSettings::default();
    record_at_start(dir.path(), &org(BASE), &alerts, "config:a", at(1)).unwrap();
    let changed = BASE
        .replace("threshold_s = 20", "threshold_s = 30\ntarget_pct = 85.0")
        .replace("id = \"sales\"", "id = \"vip\"")
        .replace("id = \"t1\"", "id = \"t2\"")
        .replace("owner = \"team:t1\"", "owner = \"team:t2\"");
    let mut rules = AlertSettings::default();
    rules.rules.default_rules = false;
    record_at_start(dir.path(), &org(&changed), &rules, "config:a", at(2)).unwrap();
    let got = records(dir.path());
    let find = |action: Action, target: &str| {
        got.iter()
            .find(|r| r.0 == action && r.2 == target)
            .map(|r| r.3.clone())
            .unwrap_or_else(|| panic!("no {action} {target} in {got:#?}"))
    };
    assert_eq!(
        find(Action::ThresholdChange, "queue:billing"),
        "threshold_s 20 -> 30, target_pct 80 -> 85"
    );
    assert_eq!(
        find(Action::ConfigChange, "queue:billing"),
        "owner team:t1 -> team:t2"
    );
    assert_eq!(find(Action::ConfigChange, "queue:sales"), "removed");
    assert!(find(Action::ConfigChange, "queue:vip").starts_with("added: threshold_s=20"));
    assert_eq!(find(Action::ConfigChange, "team:t1"), "removed");
    assert_eq!(find(Action::ConfigChange, "team:t2"), "added");
    let default_rules = Snapshot::of(&org(BASE), &alerts).unwrap().rules;
    assert!(!default_rules.is_empty());
    for id in default_rules.keys() {
        assert_eq!(find(Action::ConfigChange, &format!("rule:{id}")), "removed");
    }
    assert!(matches!(
        AuditTrail::open(dir.path()).verify().unwrap(),
        crate::audit::Verdict::Intact { .. }
    ));
}

#[test]
fn a_centre_default_changes_every_queue_that_sets_none() {
    let alerts = AlertSettings::default();
    let before = Snapshot::of(&org(BASE), &alerts).unwrap();
    let mut org2 = org(BASE);
    org2.centre.service_level.short_abandon_s += 3;
    let after = Snapshot::of(&org2, &alerts).unwrap();
    let got: Vec<(String, String)> = changes(Some(&before), &after, "x")
        .into_iter()
        .map(|e| (e.target, e.detail))
        .collect();
    let old = before.centre.service_level.short_abandon_s;
    let detail = format!("short_abandon_s {old} -> {}", old + 3);
    assert_eq!(
        got,
        vec![
            ("centre".to_string(), detail.clone()),
            ("queue:billing".to_string(), detail.clone()),
            ("queue:sales".to_string(), detail),
        ]
    );
}

#[test]
fn records_not_written_are_recorded_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let alerts = AlertSettings::default();
    record_at_start(dir.path(), &org(BASE), &alerts, "c", at(1)).unwrap();
    let trail = AuditTrail::open(dir.path());
    let log = std::fs::read(trail.path()).unwrap();
    std::fs::write(trail.path(), [&log[..], b"{\"seq\":"].concat()).unwrap();
    let changed = BASE.replace("threshold_s = 20", "threshold_s = 25");
    assert!(record_at_start(dir.path(), &org(&changed), &alerts, "c", at(2)).is_err());
    std::fs::write(trail.path(), &log).unwrap();
    assert_eq!(
        record_at_start(dir.path(), &org(&changed), &alerts, "c", at(3)).unwrap(),
        1
    );
}

#[test]
fn rule_changes_name_the_fields_and_damaged_snapshots_count_as_new() {
    let a = serde_json::json!({"id": "r", "warning": 80, "enabled": true});
    let b = serde_json::json!({"id": "r", "warning": 70, "enabled": true, "level": "x"});
    assert_eq!(json_diff(&a, &b), "level null -> \"x\", warning 80 -> 70");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(SNAPSHOT_FILE), "{not json").unwrap();
    assert_eq!(load(&dir.path().join(SNAPSHOT_FILE)).unwrap(), None);
}

#[test]
fn the_actor_names_the_config_file() {
    assert_eq!(
        actor(Some(Path::new("/etc/floorwatch.toml"))),
        "config:/etc/floorwatch.toml"
    );
    assert_eq!(actor(None), "config:built-in");
}
