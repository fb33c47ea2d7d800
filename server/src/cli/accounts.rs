//! `floorwatch user add|passwd|disable|enable|shift|list`, `floorwatch token
//! create|list|revoke` and `floorwatch device add|list|revoke`: account
//! administration on the data dir, with or without the server running (docs/SECURITY.md).
//!
//! Output for people goes to stderr; stdout carries only what a script wants (the table of a
//! list, the token of `token create`). Every change is written to the audit trail with the
//! actor `cli:OSUSER`.

use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;

pub(crate) use super::shared::DataDirArgs;
use super::shared::StoreArgs;
use crate::accounts::RoleSubtrees;
use crate::accounts::{
    DeviceSummary, NewDevice, NewUser, Password, Role, ShiftEnd, Subtree, TokenSummary,
    UserSummary, check_new_user,
};
use crate::audit::cli_actor;

/// `floorwatch user ...`
#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Adds a user. The password is read from stdin when stdin is not a terminal (one line),
    /// else asked for twice; ingest accounts get none (they use tokens).
    Add {
        /// Lowercase letters, digits and . _ - @.
        name: String,
        /// admin, manager, supervisor, team_lead, wall_display, security_officer or ingest.
        #[arg(long)]
        role: Role,
        /// The subtree the user sees: centre, site:ID, group:ID or team:ID [default: centre;
        /// a team_lead must name a team].
        #[arg(long)]
        scope: Option<Subtree>,
        /// HH:MM in the centre's time zone: the user's sessions end then each day.
        #[arg(long, value_name = "HH:MM")]
        shift_end: Option<ShiftEnd>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Sets a new password (from stdin when it is not a terminal, else asked for twice).
    Passwd {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disables a user: password, sessions and tokens stop working.
    Disable {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enables a disabled user again: password and (unrevoked) tokens work again.
    Enable {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Sets the time of day (HH:MM, the centre's time zone) at which the user's sessions end,
    /// or `none` for no shift end.
    Shift {
        name: String,
        /// HH:MM, or `none`.
        #[arg(value_name = "HH:MM|none", value_parser = shift_end_or_none)]
        end: ShiftSetting,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Lists the users (never their password hashes).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `floorwatch token ...`
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Creates an API token that acts as USER (`Authorization: Bearer TOKEN`). The token is
    /// printed once, alone on stdout; only its hash is kept.
    Create {
        /// The user the token acts as, with their role and scope.
        user: String,
        /// What the token is for (shown in `token list`).
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Lists the tokens (ids, users, labels; never the tokens).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revokes a token by its id (from `token list`).
    Revoke {
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `floorwatch device ...`: screens that sign in with a device credential instead of a
/// password (a wall TV nobody touches). The usual way to pair one is the code its sign-in page
/// shows ("pair this screen"), typed by an admin on the wallboard; `device add` is for a kiosk
/// set up by a script.
#[derive(Debug, Subcommand)]
pub(crate) enum DeviceCommand {
    /// Pairs a screen without a code: prints its device credential once, alone on stdout (only
    /// its hash is kept). The kiosk sends it as the cookie `fw_device=CREDENTIAL` or as
    /// `Authorization: Bearer CREDENTIAL`.
    Add {
        /// Lowercase letters, digits and . _ - @.
        name: String,
        /// wall_display, team_lead, supervisor or manager: what the screen shows (it only
        /// ever reads, whatever the role).
        #[arg(long, default_value = "wall_display")]
        role: Role,
        /// The subtree the screen shows: centre, site:ID, group:ID or team:ID [default: centre;
        /// a team_lead screen must name a team].
        #[arg(long)]
        scope: Option<Subtree>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Lists the screens (never their credentials), revoked ones too.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revokes a screen by name: its credential stops working (a running server closes its
    /// live socket within one session sweep, at most 30 s).
    Revoke {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl DeviceCommand {
    pub(crate) fn run(self) -> ExitCode {
        finish(self.execute(&mut io::stdout().lock(), &mut io::stderr()))
    }

    fn execute(self, out: &mut dyn Write, notes: &mut dyn Write) -> anyhow::Result<()> {
        let actor = cli_actor();
        let now = jiff::Timestamp::now();
        match self {
            DeviceCommand::Add {
                name,
                role,
                scope,
                store,
            } => {
                let (dir, org) = store.resolve()?;
                if let (Some(subtree), Some(org)) = (&scope, &org)
                    && !subtree.exists_in(org)
                {
                    bail!("--scope {subtree}: no such node in the config's organisation");
                }
                let (summary, secret) = store.accounts(&dir)?.add_device(
                    &actor,
                    NewDevice {
                        name,
                        role,
                        subtree: scope,
                    },
                    "from the command line",
                    now,
                )?;
                writeln!(out, "{}", secret.expose())?;
                out.flush()?;
                writeln!(
                    notes,
                    "screen {} paired ({} of {}); its credential is shown this once: install it \
                     in the kiosk now (cookie fw_device, or `Authorization: Bearer CREDENTIAL`)",
                    summary.name, summary.role, summary.subtree
                )?;
            }
            DeviceCommand::List { store } => {
                let (dir, _) = store.resolve()?;
                write_devices(out, &store.accounts(&dir)?.devices()?)?;
            }
            DeviceCommand::Revoke { name, store } => {
                let (dir, _) = store.resolve()?;
                store
                    .accounts(&dir)?
                    .revoke_device(&actor, &name, "", now)?;
                writeln!(
                    notes,
                    "revoked screen {name}: its credential no longer works"
                )?;
            }
        }
        Ok(())
    }
}

impl UserCommand {
    pub(crate) fn run(self) -> ExitCode {
        finish(self.execute(&mut io::stdout().lock(), &mut io::stderr()))
    }

    fn execute(self, out: &mut dyn Write, notes: &mut dyn Write) -> anyhow::Result<()> {
        let actor = cli_actor();
        let now = jiff::Timestamp::now();
        match self {
            UserCommand::Add {
                name,
                role,
                scope,
                shift_end,
                store,
            } => {
                let (dir, org) = store.resolve()?;
                if let Some(subtree) = &scope {
                    match &org {
                        Some(org) if !subtree.exists_in(org) => {
                            bail!("--scope {subtree}: no such node in the config's organisation")
                        }
                        None if *subtree != Subtree::Centre => writeln!(
                            notes,
                            "note: {subtree} is not checked against an organisation (give \
                             --config to check it)"
                        )?,
                        Some(_) | None => {}
                    }
                }
                // Everything that can be checked without the password is checked first, so
                // nobody types a password for a command that then fails.
                let accounts = store.accounts(&dir)?;
                check_new_user(&name, role, scope.clone())?;
                if accounts.users()?.iter().any(|u| u.name == name) {
                    bail!("there is already a user `{name}`");
                }
                let password = if role.signs_in_with_password() {
                    Some(read_new_password(&name)?)
                } else {
                    None
                };
                let user = accounts.add_user_with_shift(
                    &actor,
                    NewUser {
                        name,
                        role,
                        subtree: scope,
                        password,
                    },
                    shift_end,
                    now,
                )?;
                writeln!(
                    notes,
                    "added {} ({} of {}) in {}",
                    user.name,
                    user.role,
                    user.subtree,
                    dir.display()
                )?;
                if !user.has_password {
                    writeln!(
                        notes,
                        "it signs in with tokens only: floorwatch token create {}",
                        user.name
                    )?;
                }
            }
            UserCommand::Passwd { name, store } => {
                let (dir, _) = store.resolve()?;
                let accounts = store.accounts(&dir)?;
                if !accounts.users()?.iter().any(|u| u.name == name) {
                    bail!("no user `{name}` (see `floorwatch user list`)");
                }
                let password = read_new_password(&name)?;
                accounts.set_password(&actor, &name, &password, now)?;
                writeln!(notes, "password of {name} changed")?;
            }
            UserCommand::Disable { name, store } => {
                let (dir, _) = store.resolve()?;
                store.accounts(&dir)?.disable(&actor, &name, now)?;
                writeln!(
                    notes,
                    "disabled {name}: its sessions and tokens no longer work"
                )?;
            }
            UserCommand::Enable { name, store } => {
                let (dir, _) = store.resolve()?;
                store.accounts(&dir)?.enable(&actor, &name, now)?;
                writeln!(
                    notes,
                    "enabled {name}: its password and unrevoked tokens work again"
                )?;
            }
            UserCommand::Shift {
                name,
                end: ShiftSetting(end),
                store,
            } => {
                let (dir, _) = store.resolve()?;
                store
                    .accounts(&dir)?
                    .set_shift_end(&actor, &name, end, now)?;
                match end {
                    Some(end) => writeln!(
                        notes,
                        "{name}'s sessions end at {end} (the centre's time zone) from their next \
                         sign-in"
                    )?,
                    None => writeln!(notes, "{name} has no shift end")?,
                }
            }
            UserCommand::List { store } => {
                let (dir, _) = store.resolve()?;
                write_users(out, &store.accounts(&dir)?.users()?)?;
            }
        }
        Ok(())
    }
}

impl TokenCommand {
    pub(crate) fn run(self) -> ExitCode {
        finish(self.execute(&mut io::stdout().lock(), &mut io::stderr()))
    }

    fn execute(self, out: &mut dyn Write, notes: &mut dyn Write) -> anyhow::Result<()> {
        let actor = cli_actor();
        let now = jiff::Timestamp::now();
        match self {
            TokenCommand::Create { user, label, store } => {
                let (dir, _) = store.resolve()?;
                let (summary, secret) = store
                    .accounts(&dir)?
                    .create_token(&actor, &user, &label, now)?;
                writeln!(out, "{}", secret.expose())?;
                out.flush()?;
                writeln!(
                    notes,
                    "token {} for {user} created; it is shown this once: keep it now \
                     (send it as `Authorization: Bearer TOKEN`)",
                    summary.id
                )?;
            }
            TokenCommand::List { store } => {
                let (dir, _) = store.resolve()?;
                write_tokens(out, &store.accounts(&dir)?.tokens()?)?;
            }
            TokenCommand::Revoke { id, store } => {
                let (dir, _) = store.resolve()?;
                let summary = store.accounts(&dir)?.revoke_token(&actor, &id, now)?;
                writeln!(notes, "revoked {} of {}", summary.id, summary.user)?;
            }
        }
        Ok(())
    }
}

/// The argument of `user shift`: a shift end, or none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShiftSetting(pub Option<ShiftEnd>);

fn shift_end_or_none(text: &str) -> Result<ShiftSetting, String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(ShiftSetting(None));
    }
    text.parse::<ShiftEnd>()
        .map(|end| ShiftSetting(Some(end)))
        .map_err(|e| format!("{e}, or `none`"))
}

/// Prints the error the way the server's own start-up errors read, and picks the exit code.
/// The exit code of a check (`audit verify`, `journal check`): 0 when it found nothing, 1 when
/// it found something (already printed), 1 with the error on stderr when it could not run.
pub(crate) fn finish_check(result: anyhow::Result<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => finish(Err(e)),
    }
}

pub(crate) fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "floorwatch: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A new password from stdin (one line) when it is not a terminal, else typed twice at a
/// prompt without echo.
fn read_new_password(name: &str) -> anyhow::Result<Password> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        let first = rpassword::prompt_password(format!("new password for {name}: "))
            .context("reading the password")?;
        let password = Password::new_for(name, first)?;
        let again =
            rpassword::prompt_password("the same again: ").context("reading the password")?;
        if again != password.expose() {
            bail!("the two passwords differ; nothing was changed");
        }
        Ok(password)
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        let text = line.strip_suffix('\n').unwrap_or(&line);
        let text = text.strip_suffix('\r').unwrap_or(text);
        Password::new_for(name, text).map_err(|refused| {
            anyhow::anyhow!(
                "{refused} (it was read from stdin, which is not a terminal: send it as one \
                 line, e.g. `printf '%s\\n' \"$PASSWORD\" | floorwatch user add ...`)"
            )
        })
    }
}

fn when(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// Rows as left-aligned columns, two spaces apart.
fn write_table(out: &mut dyn Write, rows: &[Vec<String>]) -> io::Result<()> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = widths[c] - cell.chars().count() + 2;
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn write_users(out: &mut dyn Write, users: &[UserSummary]) -> io::Result<()> {
    let mut rows = vec![
        [
            "NAME", "ROLE", "SCOPE", "STATE", "TOKENS", "CREATED", "SHIFT",
        ]
        .map(String::from)
        .to_vec(),
    ];
    rows.extend(users.iter().map(|u| {
        vec![
            u.name.clone(),
            u.role.to_string(),
            u.subtree.to_string(),
            if u.disabled { "disabled" } else { "active" }.into(),
            u.active_tokens.to_string(),
            when(u.created),
            u.shift_end.map_or("-".to_string(), |s| s.to_string()),
        ]
    }));
    write_table(out, &rows)
}

fn write_devices(out: &mut dyn Write, devices: &[DeviceSummary]) -> io::Result<()> {
    let mut rows = vec![
        ["NAME", "ROLE", "SCOPE", "STATE", "PAIRED"]
            .map(String::from)
            .to_vec(),
    ];
    rows.extend(devices.iter().map(|d| {
        vec![
            d.name.clone(),
            d.role.to_string(),
            d.subtree.to_string(),
            match d.revoked {
                None => "active".into(),
                Some(at) => format!("revoked {}", when(at)),
            },
            when(d.created),
        ]
    }));
    write_table(out, &rows)
}

fn write_tokens(out: &mut dyn Write, tokens: &[TokenSummary]) -> io::Result<()> {
    let mut rows = vec![
        ["ID", "USER", "STATE", "CREATED", "LABEL"]
            .map(String::from)
            .to_vec(),
    ];
    rows.extend(tokens.iter().map(|t| {
        vec![
            t.id.clone(),
            t.user.clone(),
            match t.revoked {
                None => "active".into(),
                Some(at) => format!("revoked {}", when(at)),
            },
            when(t.created),
            t.label.clone(),
        ]
    }));
    write_table(out, &rows)
}

#[cfg(test)]
mod tests;
