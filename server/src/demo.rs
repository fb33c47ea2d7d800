//! `--demo`: the embedded simulator feeds the server in real time, so a new user sees a live
//! floor at once.
//!
//! The simulator's `small` preset is simulated from the centre's midnight, with the opening
//! hours of [`OPENING_HOURS`] (its staffed day). Everything up to now
//! is recorded at once, so "today" already has a morning of calls behind it when the wallboard
//! opens; everything after is released when the wall clock reaches each event's time. Both go
//! through the same recorder as any other source (journaled, source `sim`). When the simulated
//! day ends the next one starts. Without `--data-dir` the demo writes to a fresh temporary
//! directory, removed at exit: a demo never mixes with a real journal, and every start shows a
//! fresh floor.
//!
//! Nor is ingest open: without `--ingest-token` the demo makes one up (random, kept in memory,
//! never shown), because a server without one takes events from any loopback client, and a
//! demo runs on someone's desktop, beside their browser. The embedded simulator records
//! straight through the recorder and needs none.
//!
//! Nothing is open without signing in, not even the demo ([`DemoLogins`]): on a data dir
//! without users it creates an admin and a wall-display account with random passwords, writes
//! them to `demo-logins.txt` in the data dir (mode 0600) and logs how to sign in; later starts
//! on the same data dir reuse them.

use std::iter::Peekable;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use floorwatch_core::{Event, Millis};
use floorwatch_sim::{Scenario, Simulation};
use tokio::sync::watch;

use crate::accounts::{Accounts, NewUser, Password, Role};
use crate::config::Settings;
use crate::recorder::RecorderHandle;
use crate::shutdown::Shutdown;

/// The preset the demo runs.
pub(crate) const PRESET: &str = "small";
/// Most events recorded in one batch.
const MAX_BATCH: usize = 1_000;
/// The demo centre's opening hours, every day (local time): its staffed day. Before and after
/// them the preset keeps a skeleton crew (one agent a team) for the odd night call; a feed
/// quiet for minutes and a service level of a handful of calls are expected then, and the
/// demo must not open on a night of alarms nobody would act on (docs/ALERTS.md, "Expected
/// silence"; tests/tests/server_demo.rs holds the same hours).
pub(crate) const OPENING_HOURS: &str = "08:00-21:00";

/// [`OPENING_HOURS`] on every weekday.
fn opening_hours() -> floorwatch_core::opening_hours::OpeningHoursConfig {
    let day = || Some(vec![OPENING_HOURS.to_string()]);
    floorwatch_core::opening_hours::OpeningHoursConfig {
        mon: day(),
        tue: day(),
        wed: day(),
        thu: day(),
        fri: day(),
        sat: day(),
        sun: day(),
        exceptions: Vec::new(),
    }
}

pub(crate) struct Demo {
    scenario: Scenario,
    seed: u64,
}

impl Demo {
    /// Loads the scenario and gives the server its organisation.
    pub(crate) fn prepare(settings: &mut Settings) -> anyhow::Result<Demo> {
        let scenario = Scenario::preset(PRESET).context("loading the demo scenario")?;
        let mut organisation = scenario.organisation();
        organisation
            .centre
            .opening_hours
            .get_or_insert_with(opening_hours);
        settings
            .use_organisation(organisation)
            .context("the demo scenario's organisation")?;
        if settings.ingest_token.is_none() {
            let token = crate::accounts::token::random_secret("fwi_", 32)
                .context("making the demo's ingest token")?;
            settings.ingest_token = Some(crate::secret::Secret::new(token.expose().to_string()));
            tracing::info!(
                "demo: ingest needs a token; none was given, so a random one was made and is not \
                 shown (the embedded simulator needs none); start with --ingest-token TOKEN to \
                 send the demo events from outside"
            );
        }
        let seed = settings
            .demo_seed
            .unwrap_or_else(|| wall_ms().unsigned_abs());
        tracing::info!(
            scenario = scenario.name(),
            agents = scenario.agent_count(),
            seed,
            "demo: the embedded simulator feeds the floor in real time"
        );
        Ok(Demo { scenario, seed })
    }

    /// Feeds the recorder until shutdown.
    /// Feeds the floor until shutdown, one simulated day after another; `caught_up` turns
    /// true once the first day is recorded up to now.
    pub(crate) async fn run(
        self,
        recorder: RecorderHandle,
        mut shutdown: Shutdown,
        caught_up: watch::Sender<bool>,
    ) {
        let mut day = 0u64;
        loop {
            let start = wall_ms();
            let scenario = self.scenario.clone();
            let seed = self.seed.wrapping_add(day);
            // Simulating the day up to now takes a moment: off the async threads.
            let simulation = tokio::task::spawn_blocking(move || {
                let date = centre_date(&scenario, start)?;
                let mut events = Simulation::new(&scenario, date, seed).peekable();
                events.peek();
                Some(events)
            })
            .await;
            let Ok(Some(simulation)) = simulation else {
                tracing::error!("demo: the simulator failed to start");
                return;
            };
            if !release(simulation, &recorder, &mut shutdown, &caught_up).await {
                return;
            }
            day += 1;
        }
    }
}

/// The centre's local date of the day containing `at`.
fn centre_date(scenario: &Scenario, at: Millis) -> Option<jiff::civil::Date> {
    let calendar = scenario.calendar();
    let start = jiff::Timestamp::from_millisecond(calendar.day_start(at)).ok()?;
    Some(start.to_zoned(calendar.time_zone().clone()).date())
}

/// Releases the simulation's events as the wall clock reaches them: all that are due at once,
/// in batches (then `caught_up` turns true), then each as its time comes. False on shutdown.
async fn release(
    mut events: Peekable<Simulation>,
    recorder: &RecorderHandle,
    shutdown: &mut Shutdown,
    caught_up: &watch::Sender<bool>,
) -> bool {
    loop {
        let now = wall_ms();
        let mut batch: Vec<Event> = Vec::new();
        while batch.len() < MAX_BATCH {
            match events.next_if(|e| e.ts <= now) {
                Some(event) => batch.push(event),
                None => break,
            }
        }
        if !batch.is_empty() {
            if let Err(e) = recorder.record(batch).await {
                tracing::warn!(error = %e, "demo: events not recorded");
            }
            continue;
        }
        caught_up.send_if_modified(|done| !std::mem::replace(done, true));
        let Some(next) = events.peek() else {
            tracing::info!("demo: the simulated day ended; starting the next");
            return true;
        };
        let wait = Duration::from_millis((next.ts - now).clamp(1, 1_000) as u64);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown.recv() => return false,
        }
        if shutdown.is_shutdown() {
            return false;
        }
    }
}

fn wall_ms() -> Millis {
    jiff::Timestamp::now().as_millisecond()
}

/// The file in the data dir holding the demo's sign-ins.
pub(crate) const LOGINS_FILE: &str = "demo-logins.txt";
/// The demo's accounts: an admin, and a wall display (floor figures only).
pub(crate) const DEMO_ADMIN: &str = "admin";
pub(crate) const DEMO_WALL: &str = "wall";

/// The demo's sign-ins, to tell whoever started it. Passwords never show in `Debug`.
#[derive(Debug)]
pub(crate) struct DemoLogins {
    admin: Password,
    wall: Password,
    file: PathBuf,
}

impl DemoLogins {
    /// Creates the demo accounts on a data dir without users, or reads back the sign-ins of an
    /// earlier start. `None` when the data dir has other users (a real one given to `--demo`)
    /// or the file is gone. Hashes passwords: call it off the async threads.
    pub(crate) fn prepare(
        accounts: &Accounts,
        data_dir: &Path,
    ) -> anyhow::Result<Option<DemoLogins>> {
        let file = data_dir.join(LOGINS_FILE);
        if !accounts.is_empty()? {
            return Ok(read_logins(&file));
        }
        let new_password = || -> anyhow::Result<Password> {
            let secret = crate::accounts::token::random_secret("", 9)?;
            Ok(Password::given(secret.expose()))
        };
        let logins = DemoLogins {
            admin: new_password()?,
            wall: new_password()?,
            file,
        };
        for (name, role, password) in [
            (DEMO_ADMIN, Role::Admin, &logins.admin),
            (DEMO_WALL, Role::WallDisplay, &logins.wall),
        ] {
            accounts
                .add_user(
                    "server:demo",
                    NewUser {
                        name: name.into(),
                        role,
                        subtree: None,
                        password: Some(password.clone()),
                    },
                    jiff::Timestamp::now(),
                )
                .with_context(|| format!("creating the demo account `{name}`"))?;
        }
        write_private(&logins.file, &logins.render())
            .with_context(|| format!("writing {}", logins.file.display()))?;
        Ok(Some(logins))
    }

    fn render(&self) -> String {
        format!(
            "# Floorwatch demo sign-ins (keep private; change with `floorwatch user passwd`)\n\
             {DEMO_ADMIN} / {}\n{DEMO_WALL} / {}\n",
            self.admin.expose(),
            self.wall.expose()
        )
    }

    /// Logs how to sign in, once the server's URL is known, and prints it to stdout beside
    /// the `floorwatch listening on` line, where the person who ran `./scripts/demo` looks.
    pub(crate) fn announce(&self, url: &str) {
        use std::io::Write;
        tracing::info!(
            file = %self.file.display(),
            "demo: sign in at {url}/ as {DEMO_ADMIN} / {} or {DEMO_WALL} / {}",
            self.admin.expose(),
            self.wall.expose()
        );
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(
            stdout,
            "sign in as {DEMO_ADMIN} / {} (everything), or {DEMO_WALL} / {} (the TV on the wall)",
            self.admin.expose(),
            self.wall.expose()
        );
        let _ = stdout.flush();
    }
}

/// The sign-ins of an earlier demo start, if its file is still there and readable.
fn read_logins(file: &Path) -> Option<DemoLogins> {
    let text = std::fs::read_to_string(file).ok()?;
    let password = |name: &str| {
        text.lines()
            .filter_map(|line| line.split_once(" / "))
            .find(|(n, _)| n.trim() == name)
            .map(|(_, pw)| Password::given(pw.trim()))
    };
    Some(DemoLogins {
        admin: password(DEMO_ADMIN)?,
        wall: password(DEMO_WALL)?,
        file: file.to_path_buf(),
    })
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_accounts_are_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let accounts = Accounts::open(dir.path());
        let first = DemoLogins::prepare(&accounts, dir.path()).unwrap().unwrap();
        assert!(!format!("{first:?}").contains(first.admin.expose()));
        let users = accounts.users().unwrap();
        let roles: Vec<_> = users.iter().map(|u| (u.name.as_str(), u.role)).collect();
        assert_eq!(
            roles,
            vec![("admin", Role::Admin), ("wall", Role::WallDisplay)]
        );
        assert!(accounts.authenticate_password("wall", &first.wall).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first.file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = DemoLogins::prepare(&accounts, dir.path()).unwrap().unwrap();
        assert_eq!(again.admin, first.admin);
        assert_eq!(again.wall, first.wall);
        assert_eq!(accounts.users().unwrap().len(), 2);
    }
}
