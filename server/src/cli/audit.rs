//! `floorwatch audit verify` and `floorwatch audit list` (docs/SECURITY.md).

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;

use super::accounts::finish_check;
use super::shared::StoreArgs;
use crate::audit::{Action, AuditTrail, Filter, Verdict, parse_since};

/// `floorwatch audit ...`
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Checks the hash chain of the whole trail. Prints the record count and the last hash
    /// (note it: a later run must show the same records up to it); exits 1 and names the first
    /// broken line if any record was changed, removed or inserted.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Cuts off a torn last line (what a crash mid-write leaves; `verify` says TORN) and
    /// records the repair in the trail, after any records queued while it could not be
    /// written. Refuses to touch a damaged line that is complete: that is not a crash.
    Repair {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Lists records, oldest first: line, time, actor, action, target, detail.
    List {
        /// Only records by this actor (a user name, `token:ID (user)`, `cli:OSUSER`).
        #[arg(long)]
        actor: Option<String>,
        /// Only records of this action (login, login_failed, logout, config_change,
        /// threshold_change, alert_ack, unmask, export, user_add, user_passwd, user_disable,
        /// user_enable, user_shift, token_create, token_revoke, device_pair, device_revoke, sign_off, amendment).
        #[arg(long)]
        action: Option<Action>,
        /// Only records from this time on: an RFC 3339 time (2025-03-01T08:00:00+08:00), a
        /// UTC date (2025-03-01), or a span back from now (90m, 12h, 7d).
        #[arg(long, value_name = "WHEN", value_parser = since_now)]
        since: Option<jiff::Timestamp>,
        /// The records as they are stored, one JSON object per line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl AuditCommand {
    pub(crate) fn run(self) -> ExitCode {
        finish_check(self.execute(&mut io::stdout().lock()))
    }

    /// Ok(false) when the chain is broken.
    fn execute(self, out: &mut dyn Write) -> anyhow::Result<bool> {
        match self {
            AuditCommand::Verify { store } => {
                let trail = trail_of(&store)?;
                match trail.verify()? {
                    Verdict::Intact { records, head } => {
                        writeln!(
                            out,
                            "audit trail {} intact: {records} records, last hash {head}",
                            trail.shown()
                        )?;
                        Ok(true)
                    }
                    Verdict::TornTail {
                        records,
                        head,
                        bytes,
                    } => {
                        writeln!(
                            out,
                            "audit trail {} TORN: {records} intact records, last hash {head}, \
                             then an incomplete last line of {bytes} bytes (a crash mid-write, \
                             never acknowledged; not tampering): run `floorwatch audit repair`",
                            trail.shown()
                        )?;
                        Ok(false)
                    }
                    Verdict::Broken { line, reason } => {
                        writeln!(
                            out,
                            "audit trail {} BROKEN at line {line}: {reason}; the {} records \
                             before it are intact",
                            trail.shown(),
                            line - 1
                        )?;
                        Ok(false)
                    }
                }
            }
            AuditCommand::Repair { store } => {
                let trail = trail_of(&store)?;
                let queued = trail.pending()?;
                let repair = trail.repair(&crate::audit::cli_actor(), jiff::Timestamp::now())?;
                writeln!(
                    out,
                    "audit trail {}: cut {} bytes of a torn last line; {queued} queued records \
                     written; recorded as record {}",
                    trail.shown(),
                    repair.cut_bytes,
                    repair.record.seq
                )?;
                Ok(true)
            }
            AuditCommand::List {
                actor,
                action,
                since,
                json,
                store,
            } => {
                let trail = trail_of(&store)?;
                let filter = Filter {
                    actor,
                    action,
                    since,
                };
                let mut damaged = 0;
                for line in trail.lines()? {
                    let record = match line.record {
                        Ok(record) => record,
                        Err(_) => {
                            damaged += 1;
                            continue;
                        }
                    };
                    if !filter.matches(&record) {
                        continue;
                    }
                    if json {
                        writeln!(out, "{}", serde_json::to_string(&record)?)?;
                    } else {
                        writeln!(
                            out,
                            "{:>6}  {}  {}  {}  {}  {}",
                            line.number,
                            record.time,
                            record.actor,
                            record.action,
                            record.target,
                            record.detail
                        )?;
                    }
                }
                if damaged > 0 {
                    writeln!(
                        io::stderr(),
                        "floorwatch: {damaged} damaged lines left out; run `floorwatch audit \
                         verify`"
                    )?;
                }
                Ok(true)
            }
        }
    }
}

fn trail_of(store: &StoreArgs) -> anyhow::Result<AuditTrail> {
    let (dir, _) = store.resolve()?;
    if !dir.is_dir() && store.cluster.is_none() {
        bail!("no data dir {}", dir.display());
    }
    store.trail(&dir)
}

fn since_now(text: &str) -> Result<jiff::Timestamp, String> {
    parse_since(text, jiff::Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Entry;

    fn at(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn since_reads_times_dates_and_spans_back() {
        let now = at(1_700_000_000);
        assert_eq!(
            parse_since("2023-11-14T22:13:20Z", now).unwrap(),
            at(1_700_000_000)
        );
        assert_eq!(
            parse_since("2023-11-15T06:13:20+08:00", now).unwrap(),
            at(1_700_000_000)
        );
        assert_eq!(parse_since("2023-11-14", now).unwrap(), at(1_699_920_000));
        assert_eq!(parse_since("90m", now).unwrap(), at(1_700_000_000 - 5400));
        assert_eq!(
            parse_since("7d", now).unwrap(),
            at(1_700_000_000 - 7 * 86_400)
        );
        for bad in ["", "yesterday", "5w", "-3h", "h"] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn verify_and_list_report_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let trail = AuditTrail::open(dir.path());
        for (i, action) in [Action::Login, Action::AlertAck, Action::Logout]
            .into_iter()
            .enumerate()
        {
            trail
                .append(
                    Entry::new("lead1", action, format!("t{i}"), ""),
                    at(i as i64),
                )
                .unwrap();
        }
        let store = StoreArgs {
            store: super::super::accounts::DataDirArgs {
                data_dir: Some(dir.path().to_path_buf()),
                config: None,
            },
            cluster: None,
        };
        let mut out = Vec::new();
        let ok = AuditCommand::Verify {
            store: store.clone(),
        }
        .execute(&mut out)
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(ok && text.contains("intact: 3 records"), "{text}");

        let mut out = Vec::new();
        AuditCommand::List {
            actor: None,
            action: Some(Action::AlertAck),
            since: None,
            json: false,
            store: store.clone(),
        }
        .execute(&mut out)
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.starts_with("     2  1970-01-01T00:00:01Z  lead1  alert_ack  t1"),
            "{text}"
        );

        let edited = std::fs::read_to_string(trail.path())
            .unwrap()
            .replace("\"t1\"", "\"t9\"");
        std::fs::write(trail.path(), edited).unwrap();
        let mut out = Vec::new();
        let ok = AuditCommand::Verify { store }.execute(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!ok);
        assert!(text.contains("BROKEN at line 2"), "{text}");
        assert!(
            text.contains("the 1 records before it are intact"),
            "{text}"
        );
    }
}
