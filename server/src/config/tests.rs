//! Tests of `config`.

use super::*;

use clap::Parser;

use crate::cli::Cli;

fn settings(cli: Cli, toml: &str) -> Result<Settings, ConfigError> {
    Settings::from_layer(cli.flags.over(parse_file(Path::new("test.toml"), toml)?))
}

#[test]
fn the_ingest_token_never_shows_in_debug_output() {
    let cli = Cli::try_parse_from(["floorwatch", "--ingest-token", "s3cret-token"]).unwrap();
    let file = parse_file(Path::new("t.toml"), r#"ingest-token = "file-s3cret""#).unwrap();
    assert!(!format!("{cli:?} {file:?}").contains("s3cret"));
    let s = settings(cli, "").unwrap();
    assert!(!format!("{s:?}").contains("s3cret"));
    assert_eq!(
        s.ingest_token.as_ref().map(Secret::expose),
        Some("s3cret-token")
    );
}

#[test]
fn defaults_without_flags_or_file() {
    let s = settings(Cli::default(), "").unwrap();
    assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(s.data_dir, DataDir::Given(DEFAULT_DATA_DIR.into()));
    assert_eq!(s.clock, ClockMode::Wall);
    assert_eq!(s.fsync, FsyncPolicy::Batch);
    assert_eq!(s.lateness, Duration::from_secs(30));
    assert_eq!(s.push_interval, Duration::from_millis(250));
    assert!(s.ingest_token.is_none());
    assert_eq!(s.session_idle_timeout, Duration::from_secs(1800));
    assert_eq!(s.session_max, Duration::from_secs(12 * 3600));
}

#[test]
fn session_times_come_from_flags_or_keys() {
    let cli = Cli::try_parse_from(["floorwatch", "--session-idle-timeout", "2"]).unwrap();
    let s = settings(cli, "session-max = 60").unwrap();
    assert_eq!(s.session_idle_timeout, Duration::from_secs(2));
    assert_eq!(s.session_max, Duration::from_secs(60));
    let err = settings(Cli::default(), "session-idle-timeout = 0").unwrap_err();
    assert!(err.to_string().contains("`session-idle-timeout`"), "{err}");
}

#[test]
fn connection_limits_come_from_flags_or_keys() {
    let s = settings(Cli::default(), "").unwrap();
    assert_eq!(
        s.connections,
        crate::serve::Limits {
            header: Duration::from_secs(10),
            body: Duration::from_secs(30),
            idle: Duration::from_secs(60),
            per_address: 64,
        }
    );
    let cli = Cli::try_parse_from(["floorwatch", "--header-timeout-ms", "2000"]).unwrap();
    let toml = "header-timeout-ms = 5000\nbody-timeout-ms = 700\n\
                idle-connection-timeout-ms = 900\nmax-connections-per-address = 0";
    let s = settings(cli, toml).unwrap();
    assert_eq!(s.connections.header, Duration::from_millis(2000));
    assert_eq!(s.connections.body, Duration::from_millis(700));
    assert_eq!(s.connections.idle, Duration::from_millis(900));
    assert_eq!(s.connections.per_address, 0);
    let err = settings(Cli::default(), "header-timeout-ms = 5").unwrap_err();
    assert!(err.to_string().contains("`header-timeout-ms`"), "{err}");
}

#[test]
fn file_keys_have_the_flags_names_and_flags_win() {
    let toml = r#"
        listen = "127.0.0.1:9999"
        push-interval-ms = 100
        clock = "events"
        ingest-token = "from-file"
        timezone = "Asia/Shanghai"
        [centre]
        id = "hotline"
        [[queues]]
        id = "billing"
        threshold_s = 30
    "#;
    let cli = Cli::try_parse_from([
        "floorwatch",
        "--push-interval-ms",
        "500",
        "--service-level-threshold",
        "15",
    ])
    .unwrap();
    let s = settings(cli, toml).unwrap();
    assert_eq!(s.listen.port(), 9999);
    assert_eq!(s.push_interval, Duration::from_millis(500), "the flag wins");
    assert_eq!(s.clock, ClockMode::Events);
    assert_eq!(
        s.ingest_token.as_ref().map(Secret::expose),
        Some("from-file")
    );
    assert_eq!(s.organisation.centre.id, "hotline");
    assert_eq!(s.organisation.centre.timezone, "Asia/Shanghai");
    assert_eq!(s.organisation.centre.service_level.threshold_s, 15);
    assert_eq!(s.organisation.queue_settings("billing").threshold_s, 30);
}

#[test]
fn unknown_keys_are_errors_that_name_the_key() {
    let err = settings(Cli::default(), "push_intervall = 3").unwrap_err();
    assert!(err.to_string().contains("push_intervall"), "{err}");
    let err = settings(Cli::default(), "[[queues]]\nid = \"q\"\ncolour = \"red\"").unwrap_err();
    assert!(err.to_string().contains("colour"), "{err}");
}

#[test]
fn organisation_errors_name_the_key() {
    let err = settings(
        Cli::default(),
        "[[queues]]\nid = \"q\"\n[[queues]]\nid = \"q\"",
    )
    .unwrap_err();
    assert!(err.to_string().contains("queues[1].id"), "{err}");
    let err = settings(
        Cli::try_parse_from(["floorwatch", "--timezone", "Mars/Olympus"]).unwrap(),
        "",
    )
    .unwrap_err();
    assert!(err.to_string().contains("centre.timezone"), "{err}");
}

#[test]
fn bad_values_name_the_key() {
    let err = settings(Cli::default(), "listen = \"nowhere\"").unwrap_err();
    assert!(err.to_string().contains("`listen`"), "{err}");
    let err = settings(Cli::default(), "push-interval-ms = 1").unwrap_err();
    assert!(err.to_string().contains("`push-interval-ms`"), "{err}");
    let err = settings(Cli::default(), "clock = \"sundial\"").unwrap_err();
    assert!(err.to_string().contains("sundial"), "{err}");
}

#[test]
fn alert_mistakes_name_their_key() {
    let toml = "[[queues]]\nid = \"billing\"\n[alerts]\n[[alerts.rules]]\nid = \"x\"\n\
                scope = \"site:nowhere\"\nkind = \"sudden_peak\"";
    let err = settings(Cli::default(), toml).unwrap_err();
    assert!(err.to_string().contains("alerts.rules[0].scope"), "{err}");
    let err = settings(Cli::default(), "[alerts]\nbatch = 3").unwrap_err();
    assert!(
        err.to_string()
            .contains("alerts.batch: unknown field `batch`"),
        "{err}"
    );
    let s = settings(Cli::default(), "").unwrap();
    assert!(s.alerts.rules.default_rules && s.alerts.webhooks.is_empty());
}

#[test]
fn demo_without_data_dir_uses_a_temporary_one() {
    let s = settings(Cli::try_parse_from(["floorwatch", "--demo"]).unwrap(), "").unwrap();
    assert!(matches!(s.data_dir, DataDir::Temporary(_)));
    assert!(s.data_dir.path().starts_with(std::env::temp_dir()));
}

#[test]
fn the_token_never_shows_in_debug_output() {
    let s = settings(Cli::default(), "ingest-token = \"s3cret\"").unwrap();
    assert!(!format!("{s:?}").contains("s3cret"));
}

#[test]
fn the_example_config_parses() {
    let text = include_str!("../../floorwatch.example.toml");
    settings(Cli::default(), text).unwrap();
}
