//! Tests of `command`.

use super::*;
use crate::accounts::Accounts;

fn store(dir: &std::path::Path) -> StoreArgs {
    StoreArgs {
        store: DataDirArgs {
            data_dir: Some(dir.to_path_buf()),
            config: None,
        },
        cluster: None,
    }
}

fn run(
    command: impl FnOnce(&mut dyn Write, &mut dyn Write) -> anyhow::Result<()>,
) -> (String, String) {
    let (mut out, mut notes) = (Vec::new(), Vec::new());
    command(&mut out, &mut notes).unwrap();
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(notes).unwrap(),
    )
}

#[test]
fn token_create_prints_only_the_token_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = Accounts::open(dir.path());
    accounts
        .add_user(
            "test",
            NewUser {
                name: "feed".into(),
                role: Role::Ingest,
                subtree: None,
                password: None,
            },
            jiff::Timestamp::now(),
        )
        .unwrap();
    let (out, notes) = run(|o, n| {
        TokenCommand::Create {
            user: "feed".into(),
            label: "switch 1".into(),
            store: store(dir.path()),
        }
        .execute(o, n)
    });
    let token = out.trim_end();
    assert_eq!(out.lines().count(), 1);
    assert!(token.starts_with("fw_"), "{out}");
    assert!(notes.contains("shown this once"), "{notes}");
    assert!(!notes.contains(token));
    assert!(accounts.authenticate_token(token).unwrap().is_some());

    let (list, _) = run(|o, n| {
        TokenCommand::List {
            store: store(dir.path()),
        }
        .execute(o, n)
    });
    assert!(list.starts_with("ID "), "{list}");
    assert!(list.contains("feed") && list.contains("switch 1") && list.contains("active"));
    assert!(!list.contains(token));
}

#[test]
fn user_list_shows_no_hashes() {
    let dir = tempfile::tempdir().unwrap();
    Accounts::open(dir.path())
        .add_user(
            "test",
            NewUser {
                name: "lead1".into(),
                role: Role::TeamLead,
                subtree: Some(Subtree::Team("t1".into())),
                password: Some(Password::given("lead one password")),
            },
            jiff::Timestamp::now(),
        )
        .unwrap();
    let (list, _) = run(|o, n| {
        UserCommand::List {
            store: store(dir.path()),
        }
        .execute(o, n)
    });
    let lines: Vec<_> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].starts_with("NAME   ROLE       SCOPE    STATE"),
        "{list}"
    );
    assert!(
        lines[1].starts_with("lead1  team_lead  team:t1  active  0"),
        "{list}"
    );
    assert!(!list.contains("argon2"));
}

#[test]
fn scopes_are_checked_against_the_config_when_given() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("floorwatch.toml");
    std::fs::write(
        &config,
        "data-dir = \"data\"\n[[sites]]\nid = \"north\"\n[[sites.groups]]\nid = \"g1\"\n",
    )
    .unwrap();
    let args = DataDirArgs {
        data_dir: Some(dir.path().join("data")),
        config: Some(config),
    };
    let (data, org) = args.resolve().unwrap();
    assert_eq!(data, dir.path().join("data"));
    let err = UserCommand::Add {
        name: "m".into(),
        role: Role::Manager,
        scope: Some(Subtree::Site("south".into())),
        shift_end: None,
        store: StoreArgs {
            store: args,
            cluster: None,
        },
    }
    .execute(&mut Vec::new(), &mut Vec::new())
    .unwrap_err();
    assert!(err.to_string().contains("no such node"), "{err}");
    assert!(org.is_some());
}

#[test]
fn enable_and_shift_change_the_user_and_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = Accounts::open(dir.path());
    accounts
        .add_user(
            "test",
            NewUser {
                name: "sup1".into(),
                role: Role::Supervisor,
                subtree: None,
                password: Some(Password::given("supervisor one pw")),
            },
            jiff::Timestamp::now(),
        )
        .unwrap();
    accounts
        .disable("test", "sup1", jiff::Timestamp::now())
        .unwrap();
    let (_, notes) = run(|o, n| {
        UserCommand::Enable {
            name: "sup1".into(),
            store: store(dir.path()),
        }
        .execute(o, n)
    });
    assert!(notes.contains("enabled sup1"), "{notes}");
    assert!(accounts.principal("sup1").unwrap().is_some());
    run(|o, n| {
        UserCommand::Shift {
            name: "sup1".into(),
            end: shift_end_or_none("17:30").unwrap(),
            store: store(dir.path()),
        }
        .execute(o, n)
    });
    let (list, _) = run(|o, n| {
        UserCommand::List {
            store: store(dir.path()),
        }
        .execute(o, n)
    });
    assert!(list.lines().nth(1).unwrap().ends_with("  17:30"), "{list}");
    let actions: Vec<_> = accounts
        .audit()
        .records(&Default::default())
        .unwrap()
        .into_iter()
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(
        actions,
        vec!["user_add", "user_disable", "user_enable", "user_shift"]
    );
    assert!(shift_end_or_none("NONE").unwrap().0.is_none());
    assert!(
        shift_end_or_none("25:00")
            .unwrap_err()
            .contains("or `none`")
    );
}

#[test]
fn device_add_prints_only_the_credential_and_list_and_revoke_follow() {
    let dir = tempfile::tempdir().unwrap();
    let (out, notes) = run(|o, n| {
        DeviceCommand::Add {
            name: "lobby-tv".into(),
            role: Role::WallDisplay,
            scope: Some(Subtree::Site("north".into())),
            store: store(dir.path()),
        }
        .execute(o, n)
    });
    let credential = out.trim_end();
    assert_eq!(out.lines().count(), 1);
    assert!(credential.starts_with("fwd_"), "{out}");
    assert!(notes.contains("shown this once") && !notes.contains(credential));
    let accounts = Accounts::open(dir.path());
    assert!(accounts.authenticate_device(credential).unwrap().is_some());
    let (list, _) = run(|o, n| {
        DeviceCommand::List {
            store: store(dir.path()),
        }
        .execute(o, n)
    });
    let lines: Vec<_> = list.lines().collect();
    assert!(
        lines[1].starts_with("lobby-tv  wall_display  site:north  active"),
        "{list}"
    );
    assert!(!list.contains(credential));
    run(|o, n| {
        DeviceCommand::Revoke {
            name: "lobby-tv".into(),
            store: store(dir.path()),
        }
        .execute(o, n)
    });
    assert!(accounts.authenticate_device(credential).unwrap().is_none());
    let actions: Vec<_> = accounts
        .audit()
        .records(&Default::default())
        .unwrap()
        .into_iter()
        .map(|r| (r.action.as_str(), r.target))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("device_pair", "device:lobby-tv".to_string()),
            ("device_revoke", "device:lobby-tv".to_string())
        ]
    );
    let err = DeviceCommand::Add {
        name: "boss-tv".into(),
        role: Role::Admin,
        scope: None,
        store: store(dir.path()),
    }
    .execute(&mut Vec::new(), &mut Vec::new())
    .unwrap_err();
    assert!(err.to_string().contains("wall_display"), "{err}");
}

#[test]
fn tables_line_up_by_characters() {
    let mut out = Vec::new();
    write_table(
        &mut out,
        &[
            vec!["值班长".into(), "x".into()],
            vec!["ab".into(), "y".into()],
        ],
    )
    .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "值班长  x\nab   y\n");
}
