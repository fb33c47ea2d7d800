//! `floorwatch checkpoint check`: which checkpoint of the floor a start would resume from, and
//! why each newer one would be ignored (docs/ARCHITECTURE.md, "Checkpoints"). Reads without
//! changing a byte; give the server's `--config` so the configuration is compared with the one
//! the start will have.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;
use floorwatch_core::alerts::AlertChange;

use super::accounts::{DataDirArgs, finish_check};
use crate::checkpoint::{self, Expect};
use crate::config::{DataDir, Layer, Settings};
use crate::journal::REPLAY_DAYS;

/// `floorwatch checkpoint ...`
#[derive(Debug, Subcommand)]
pub(crate) enum CheckpointCommand {
    /// Lists the data dir's checkpoints, newest first, each with whether a start would use it
    /// or why not; exits 1 when none would be (the start replays the whole journal).
    Check {
        #[command(flatten)]
        store: DataDirArgs,
    },
}

impl CheckpointCommand {
    /// Runs the command; exit code 1 when no checkpoint would be used.
    pub(crate) fn run(self) -> ExitCode {
        finish_check(self.execute(&mut io::stdout().lock()))
    }

    fn execute(self, out: &mut dyn Write) -> anyhow::Result<bool> {
        let CheckpointCommand::Check { store } = self;
        let flags = Layer {
            data_dir: store.data_dir.clone(),
            ..Layer::default()
        };
        let settings = Settings::layered(store.config.clone(), flags)?;
        let DataDir::Given(data_dir) = &settings.data_dir else {
            bail!("a demo runs in a temporary data dir; give --data-dir");
        };
        let expect = Expect {
            config: checkpoint::config_fingerprint(&settings.organisation, &settings.alerts.rules),
        };
        let changes = alert_changes(&data_dir.join("alerts").join(crate::alerts::journal::FILE));
        let replay_from = crate::recorder::utc_today()
            .checked_sub(jiff::Span::new().days(i64::from(REPLAY_DAYS) - 1))?;
        let mut chosen = false;
        let files = checkpoint::list(&data_dir.join(checkpoint::DIR));
        if files.is_empty() {
            writeln!(out, "no checkpoints: a start replays the whole journal")?;
        }
        for path in files {
            let verdict = match checkpoint::read(&path, &expect) {
                Err(e) => format!("ignored: {e}"),
                Ok(_) if chosen => "older: kept in case the newer one is damaged".into(),
                Ok(loaded) if loaded.header.day < replay_from => {
                    "ignored: taken before the days the journal replays".into()
                }
                Ok(loaded) if !loaded.floor.alerts_fit(&changes) => {
                    "ignored: the alert journal does not continue the one it was taken beside"
                        .into()
                }
                Ok(loaded) => {
                    chosen = true;
                    format!(
                        "would be used: the start replays the journal from event {} (unless \
                         the history store does not fit it; the start's log says so)",
                        loaded.header.next_seq
                    )
                }
            };
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            writeln!(out, "{} ({size} bytes): {verdict}", path.display())?;
        }
        Ok(chosen)
    }
}

/// The alert journal's changes, read only (damaged lines left out, as a start does).
fn alert_changes(path: &Path) -> Vec<AlertChange> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}
