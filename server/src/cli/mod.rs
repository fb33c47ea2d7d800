//! The command line: the server's flags ([`Cli`], whose settings are a [`Layer`]) and the
//! administration subcommands ([`Command`]) that run on a data dir instead of the server.

mod accounts;
mod audit;
mod checkpoint;
mod history;
mod journal;
mod shared;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Layer, Settings, SettingsError};

/// `floorwatch`: the live call-centre wallboard server. Public because `main` parses the command
/// line with it before anything else runs.
#[derive(Debug, Default, Parser)]
#[command(
    name = "floorwatch",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Administration on the data dir (docs/SECURITY.md); without one, the server runs.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// TOML file with any of the keys below (same names as the flags) plus the organisation:
    /// `[centre]`, `[[sites]]`, `[[queues]]`. Flags win over the file.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    // The server's settings as flags (the config file's keys have the same names).
    #[command(flatten)]
    pub(crate) flags: Layer,
}

/// `floorwatch user|token|device|audit|journal|checkpoint|history ...`: accounts, API tokens, the audit trail,
/// the journal and history of a data dir,
/// with or without the server running (docs/SECURITY.md).
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Accounts: add, passwd, disable, list.
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// API tokens for scripts: create, list, revoke.
    #[command(subcommand)]
    Token(accounts::TokenCommand),
    /// Paired screens (wall TVs): add, list, revoke.
    #[command(subcommand)]
    Device(accounts::DeviceCommand),
    /// The audit trail: verify its hash chain, list records.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The event journal: check what a start would replay and set aside.
    #[command(subcommand)]
    Journal(journal::JournalCommand),
    /// Checkpoints of the floor: check which one a start would resume from.
    #[command(subcommand)]
    Checkpoint(checkpoint::CheckpointCommand),
    /// History's interval store: rebuild days from the journal, prune, dump rows.
    #[command(subcommand)]
    History(history::HistoryCommand),
}

impl Cli {
    /// Runs the administration subcommand, if one was given (the server does not start then);
    /// the exit code says whether it succeeded.
    pub fn run_command(&mut self) -> Option<std::process::ExitCode> {
        self.command.take().map(Command::run)
    }
}

impl Command {
    /// Runs the command to its end; the exit code says whether it succeeded.
    pub(crate) fn run(self) -> std::process::ExitCode {
        match self {
            Command::User(command) => command.run(),
            Command::Token(command) => command.run(),
            Command::Device(command) => command.run(),
            Command::Audit(command) => command.run(),
            Command::Journal(command) => command.run(),
            Command::Checkpoint(command) => command.run(),
            Command::History(command) => command.run(),
        }
    }
}

impl Settings {
    /// Resolves flags, the `--config` file and the defaults into validated settings. Public
    /// because `main` calls it before logging and the async runtime start.
    pub fn load(cli: Cli) -> Result<Settings, SettingsError> {
        Ok(Settings::layered(cli.config, cli.flags)?)
    }
}
