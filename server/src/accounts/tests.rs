//! Tests of the accounts.

use super::*;
use crate::audit::Verdict;
use crate::audit::{Action, AuditError};

fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_700_000_000).unwrap()
}

fn pw(text: &str) -> Option<Password> {
    Some(Password::given(text))
}

fn with_users() -> (tempfile::TempDir, Accounts) {
    let dir = tempfile::tempdir().unwrap();
    let accounts = Accounts::open(dir.path());
    accounts
        .add_user(
            "cli:root",
            NewUser {
                name: "admin".into(),
                role: Role::Admin,
                subtree: None,
                password: pw("admin password 1"),
            },
            now(),
        )
        .unwrap();
    accounts
        .add_user(
            "admin",
            NewUser {
                name: "lead1".into(),
                role: Role::TeamLead,
                subtree: Some(Subtree::Team("t1".into())),
                password: pw("lead one password"),
            },
            now(),
        )
        .unwrap();
    (dir, accounts)
}

#[test]
fn users_sign_in_with_their_password_only() {
    let (_dir, accounts) = with_users();
    let p = accounts
        .authenticate_password("Lead1", &Password::given("lead one password"))
        .unwrap();
    assert_eq!(p.user, "lead1");
    assert_eq!(p.role, Role::TeamLead);
    assert_eq!(p.subtree, Subtree::Team("t1".into()));
    assert_eq!(p.credential, Credential::Password);
    let refused = |name: &str, password: &str| match accounts
        .authenticate_password(name, &Password::given(password))
    {
        Err(LoginError::Refused(why)) => why,
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(
        refused("lead1", "admin password 1"),
        LoginRefusal::WrongPassword
    );
    assert_eq!(
        refused("nobody", "lead one password"),
        LoginRefusal::UnknownUser
    );
}

#[test]
fn new_users_are_checked_before_anything_is_written() {
    let (_dir, accounts) = with_users();
    let add = |name: &str, role, subtree: Option<&str>, password: Option<Password>| {
        accounts.add_user(
            "admin",
            NewUser {
                name: name.into(),
                role,
                subtree: subtree.map(|s| s.parse().unwrap()),
                password,
            },
            now(),
        )
    };
    let long = "a".repeat(65);
    for bad in ["", "Alice", "-x", "a b", "ali/ce", long.as_str()] {
        assert!(
            matches!(
                add(bad, Role::Manager, None, pw("long enough pw")),
                Err(AccountsError::BadName(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        add("lead1", Role::Manager, None, pw("long enough pw")),
        Err(AccountsError::UserExists(_))
    ));
    let err = add("lead2", Role::TeamLead, None, pw("long enough pw")).unwrap_err();
    assert!(err.to_string().contains("--scope team:ID"), "{err}");
    assert!(matches!(
        add("m", Role::Manager, Some("team:t1"), pw("long enough pw")),
        Err(AccountsError::BadScope(_))
    ));
    assert!(matches!(
        add("feed", Role::Ingest, None, pw("long enough pw")),
        Err(AccountsError::TokenOnly(_))
    ));
    assert!(matches!(
        add("m", Role::Manager, None, None),
        Err(AccountsError::NeedsPassword(_))
    ));
    assert_eq!(accounts.users().unwrap().len(), 2, "nothing was added");
    let feed = add("feed", Role::Ingest, None, None).unwrap();
    assert!(!feed.has_password);
}

#[test]
fn every_change_is_audited_and_the_chain_holds() {
    let (_dir, accounts) = with_users();
    accounts
        .set_password(
            "admin",
            "lead1",
            &Password::given("another long one"),
            now(),
        )
        .unwrap();
    let (token, _) = accounts
        .create_token("admin", "lead1", "script", now())
        .unwrap();
    accounts.revoke_token("admin", &token.id, now()).unwrap();
    accounts.disable("admin", "lead1", now()).unwrap();
    let records = accounts.audit().records(&Default::default()).unwrap();
    let actions: Vec<_> = records.iter().map(|r| r.action).collect();
    assert_eq!(
        actions,
        vec![
            Action::UserAdd,
            Action::UserAdd,
            Action::UserPasswd,
            Action::TokenCreate,
            Action::TokenRevoke,
            Action::UserDisable
        ]
    );
    assert_eq!(records[1].actor, "admin");
    assert_eq!(records[1].target, "user:lead1");
    assert_eq!(records[1].detail, "role=team_lead scope=team:t1");
    assert_eq!(records[3].target, format!("token:{}", token.id));
    assert!(matches!(
        accounts.audit().verify().unwrap(),
        Verdict::Intact { records: 6, .. }
    ));
    let text = std::fs::read_to_string(accounts.audit().path()).unwrap();
    assert!(
        !text.contains("password"),
        "no secrets in the trail: {text}"
    );
}

#[test]
fn a_new_password_replaces_the_old_one() {
    let (_dir, accounts) = with_users();
    accounts
        .set_password(
            "admin",
            "lead1",
            &Password::given("another long one"),
            now(),
        )
        .unwrap();
    assert!(
        accounts
            .authenticate_password("lead1", &Password::given("another long one"))
            .is_ok()
    );
    assert!(
        accounts
            .authenticate_password("lead1", &Password::given("lead one password"))
            .is_err()
    );
    assert!(matches!(
        accounts.set_password(
            "admin",
            "ghost",
            &Password::given("another long one"),
            now()
        ),
        Err(AccountsError::UnknownUser(_))
    ));
}

#[test]
fn tokens_act_as_their_user_until_revoked() {
    let (_dir, accounts) = with_users();
    let (summary, secret) = accounts
        .create_token("admin", "lead1", " wall tv ", now())
        .unwrap();
    assert_eq!(summary.label, "wall tv");
    let p = accounts
        .authenticate_token(secret.expose())
        .unwrap()
        .unwrap();
    assert_eq!(p.user, "lead1");
    assert_eq!(p.subtree, Subtree::Team("t1".into()));
    assert_eq!(
        p.credential,
        Credential::Token {
            id: summary.id.clone()
        }
    );
    assert_eq!(p.actor(), format!("token:{} (lead1)", summary.id));
    assert_eq!(accounts.authenticate_token("fw_guess").unwrap(), None);
    assert_eq!(accounts.users().unwrap()[1].active_tokens, 1);
    accounts.revoke_token("admin", &summary.id, now()).unwrap();
    assert_eq!(accounts.authenticate_token(secret.expose()).unwrap(), None);
    assert!(matches!(
        accounts.revoke_token("admin", &summary.id, now()),
        Err(AccountsError::AlreadyRevoked(_))
    ));
    assert!(matches!(
        accounts.revoke_token("admin", "tok_nothere", now()),
        Err(AccountsError::UnknownToken(_))
    ));
    let listed = accounts.tokens().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].revoked.is_some());
    let stored = std::fs::read_to_string(accounts.path()).unwrap();
    assert!(!stored.contains(secret.expose()), "only the hash is stored");
}

#[test]
fn disabling_stops_password_tokens_and_sessions() {
    let (_dir, accounts) = with_users();
    let (_, secret) = accounts.create_token("admin", "lead1", "", now()).unwrap();
    assert!(accounts.principal("lead1").unwrap().is_some());
    accounts.disable("admin", "lead1", now()).unwrap();
    assert!(matches!(
        accounts.authenticate_password("lead1", &Password::given("lead one password")),
        Err(LoginError::Refused(LoginRefusal::Disabled))
    ));
    assert_eq!(accounts.authenticate_token(secret.expose()).unwrap(), None);
    assert_eq!(accounts.principal("lead1").unwrap(), None);
    assert!(matches!(
        accounts.disable("admin", "lead1", now()),
        Err(AccountsError::Disabled(_))
    ));
    assert!(matches!(
        accounts.create_token("admin", "lead1", "", now()),
        Err(AccountsError::Disabled(_))
    ));
}

#[test]
fn enabling_brings_password_and_tokens_back_and_is_audited() {
    let (_dir, accounts) = with_users();
    let (_, secret) = accounts.create_token("admin", "lead1", "", now()).unwrap();
    assert!(matches!(
        accounts.enable("admin", "lead1", now()),
        Err(AccountsError::NotDisabled(_))
    ));
    accounts.disable("admin", "lead1", now()).unwrap();
    accounts.enable("admin", "lead1", now()).unwrap();
    assert!(
        accounts
            .authenticate_password("lead1", &Password::given("lead one password"))
            .is_ok()
    );
    assert!(
        accounts
            .authenticate_token(secret.expose())
            .unwrap()
            .is_some()
    );
    let last = accounts.audit().records(&Default::default()).unwrap();
    let last = last.last().unwrap();
    assert_eq!(
        (last.action, last.actor.as_str(), last.target.as_str()),
        (Action::UserEnable, "admin", "user:lead1")
    );
    assert!(matches!(
        accounts.enable("admin", "ghost", now()),
        Err(AccountsError::UnknownUser(_))
    ));
}

#[test]
fn a_shift_end_is_set_audited_and_placed_after_now() {
    let (dir, accounts) = with_users();
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    // now() is 2023-11-14T22:13:20Z, 06:13 in Shanghai.
    assert_eq!(accounts.shift_end_after("lead1", now(), &tz).unwrap(), None);
    let end: ShiftEnd = "17:30".parse().unwrap();
    accounts
        .set_shift_end("admin", "lead1", Some(end), now())
        .unwrap();
    assert_eq!(
        accounts.shift_end_after("lead1", now(), &tz).unwrap(),
        Some("2023-11-15T09:30:00Z".parse().unwrap())
    );
    assert_eq!(accounts.users().unwrap()[1].shift_end, Some(end));
    let stored = std::fs::read_to_string(accounts.path()).unwrap();
    assert!(stored.contains("\"format\": 2"), "{stored}");
    accounts
        .set_shift_end("admin", "lead1", None, now())
        .unwrap();
    assert_eq!(accounts.shift_end_after("lead1", now(), &tz).unwrap(), None);
    let stored = std::fs::read_to_string(accounts.path()).unwrap();
    assert!(stored.contains("\"format\": 1"), "{stored}");
    let shifts: Vec<String> = accounts
        .audit()
        .records(&crate::audit::Filter {
            action: Some(Action::UserShift),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| r.detail)
        .collect();
    assert_eq!(
        shifts,
        vec!["shift_end=17:30 (was none)", "shift_end=none (was 17:30)"]
    );
    assert!(matches!(
        accounts.shift_end_after("ghost", now(), &tz),
        Err(AccountsError::UnknownUser(_))
    ));
    // Added with a shift end: one record says so.
    accounts
        .add_user_with_shift(
            "admin",
            NewUser {
                name: "night".into(),
                role: Role::Supervisor,
                subtree: None,
                password: pw("night shift password"),
            },
            Some("06:00".parse().unwrap()),
            now(),
        )
        .unwrap();
    let added = Accounts::open(dir.path())
        .audit()
        .records(&Default::default())
        .unwrap();
    assert_eq!(
        added.last().unwrap().detail,
        "role=supervisor scope=centre shift_end=06:00"
    );
    assert_eq!(
        accounts.shift_end_after("night", now(), &tz).unwrap(),
        Some("2023-11-15T22:00:00Z".parse().unwrap()),
        "06:00 in Shanghai was 13 minutes ago: the next one"
    );
}

#[test]
fn ingest_accounts_use_tokens_never_passwords() {
    let (_dir, accounts) = with_users();
    accounts
        .add_user(
            "admin",
            NewUser {
                name: "switch".into(),
                role: Role::Ingest,
                subtree: None,
                password: None,
            },
            now(),
        )
        .unwrap();
    assert!(matches!(
        accounts.authenticate_password("switch", &Password::given("anything at all")),
        Err(LoginError::Refused(LoginRefusal::TokenOnly))
    ));
    assert!(matches!(
        accounts.set_password(
            "admin",
            "switch",
            &Password::given("anything at all"),
            now()
        ),
        Err(AccountsError::TokenOnly(Role::Ingest))
    ));
    let (_, secret) = accounts.create_token("admin", "switch", "", now()).unwrap();
    let p = accounts
        .authenticate_token(secret.expose())
        .unwrap()
        .unwrap();
    assert_eq!(p.role, Role::Ingest);
}

#[test]
fn a_change_made_elsewhere_is_seen_at_once() {
    let (dir, accounts) = with_users();
    assert!(accounts.principal("late").unwrap().is_none());
    // Another process (the command line) adds a user while this handle has a cache.
    Accounts::open(dir.path())
        .add_user(
            "cli:root",
            NewUser {
                name: "late".into(),
                role: Role::WallDisplay,
                subtree: Some(Subtree::Site("north".into())),
                password: pw("wall display pw"),
            },
            now(),
        )
        .unwrap();
    let p = accounts.principal("late").unwrap().unwrap();
    assert_eq!(p.subtree, Subtree::Site("north".into()));
    assert_eq!(p.credential, Credential::Session);
}

#[test]
fn a_paired_screen_reads_as_its_role_until_revoked_and_only_its_hash_is_kept() {
    let (dir, accounts) = with_users();
    let tv = |name: &str, role, subtree: Option<&str>| NewDevice {
        name: name.into(),
        role,
        subtree: subtree.map(|s| s.parse().unwrap()),
    };
    let (summary, secret) = accounts
        .add_device(
            "admin",
            tv("lobby-tv", Role::WallDisplay, Some("site:north")),
            "code from peer=10.0.0.9",
            now(),
        )
        .unwrap();
    assert_eq!(summary.subtree, Subtree::Site("north".into()));
    assert!(secret.expose().starts_with(token::DEVICE_PREFIX));
    assert_eq!(secret.expose().len(), token::DEVICE_PREFIX.len() + 64);
    let p = accounts
        .authenticate_device(secret.expose())
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.user.as_str(), p.role, p.actor().as_str(), p.is_device()),
        ("lobby-tv", Role::WallDisplay, "device:lobby-tv", true)
    );
    // Not a user: no session, no password, no API token acts as it.
    assert_eq!(accounts.principal("lobby-tv").unwrap(), None);
    assert_eq!(accounts.authenticate_token(secret.expose()).unwrap(), None);
    assert_eq!(accounts.authenticate_device("fwd_guess").unwrap(), None);
    // Names are unique among active screens; roles are those that read.
    assert!(matches!(
        accounts.add_device("admin", tv("lobby-tv", Role::WallDisplay, None), "", now()),
        Err(AccountsError::DeviceExists(_))
    ));
    for role in [Role::Admin, Role::SecurityOfficer, Role::Ingest] {
        assert!(matches!(
            accounts.add_device("admin", tv("tv2", role, None), "", now()),
            Err(AccountsError::DeviceRole(_))
        ));
    }
    assert!(matches!(
        accounts.add_device("admin", tv("Bad Name", Role::WallDisplay, None), "", now()),
        Err(AccountsError::BadName(_))
    ));
    let stored = std::fs::read_to_string(accounts.path()).unwrap();
    assert!(!stored.contains(secret.expose()), "only the hash is stored");
    assert!(stored.contains(&secret.digest()));
    assert!(stored.contains("\"format\": 3"), "{stored}");

    accounts
        .revoke_device("admin", "lobby-tv", "", now())
        .unwrap();
    assert_eq!(accounts.authenticate_device(secret.expose()).unwrap(), None);
    assert!(matches!(
        accounts.revoke_device("admin", "lobby-tv", "", now()),
        Err(AccountsError::UnknownDevice(_))
    ));
    // The name may be paired again; both stay listed.
    accounts
        .add_device("admin", tv("lobby-tv", Role::WallDisplay, None), "", now())
        .unwrap();
    let listed = Accounts::open(dir.path()).devices().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].revoked.is_some() && listed[1].revoked.is_none());
    let records = accounts.audit().records(&Default::default()).unwrap();
    let tail: Vec<_> = records
        .iter()
        .rev()
        .take(3)
        .map(|r| (r.action, r.target.as_str(), r.detail.as_str()))
        .collect();
    assert_eq!(
        tail,
        vec![
            (
                Action::DevicePair,
                "device:lobby-tv",
                "role=wall_display scope=centre"
            ),
            (Action::DeviceRevoke, "device:lobby-tv", ""),
            (
                Action::DevicePair,
                "device:lobby-tv",
                "role=wall_display scope=site:north code from peer=10.0.0.9"
            ),
        ]
    );
}

/// A crash mid-write: the audit trail's last line is torn.
fn tear(accounts: &Accounts) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(accounts.audit().path())
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"seq\":"))
        .unwrap();
}

#[test]
fn a_change_that_cannot_be_audited_is_undone() {
    let (_dir, accounts) = with_users();
    // A torn audit tail refuses appends.
    tear(&accounts);
    let err = accounts
        .set_password(
            "admin",
            "lead1",
            &Password::given("a new password 2"),
            now(),
        )
        .unwrap_err();
    assert!(
        matches!(err, AccountsError::Audit(AuditError::TornTail { .. })),
        "{err}"
    );
    assert!(
        accounts
            .authenticate_password("lead1", &Password::given("lead one password"))
            .is_ok(),
        "the old password still works"
    );
}

#[test]
fn a_lock_out_never_waits_for_a_healthy_trail() {
    let (_dir, accounts) = with_users();
    tear(&accounts);
    accounts.disable("admin", "lead1", now()).unwrap();
    assert!(
        accounts.principal("lead1").unwrap().is_none(),
        "disabled although the trail is torn"
    );
    assert_eq!(accounts.audit().pending().unwrap(), 1);
    accounts.audit().repair("cli:root", now()).unwrap();
    let last = accounts.audit().records(&Default::default()).unwrap();
    let actions: Vec<Action> = last.iter().rev().take(2).map(|r| r.action).collect();
    assert_eq!(actions, vec![Action::AuditRepair, Action::UserDisable]);
}
