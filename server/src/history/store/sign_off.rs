//! End-of-day sign-off in the store (docs/HISTORY.md, "Sign-off"): a day's rows of a site or
//! the centre sealed with a hash, what arrives for them afterwards kept aside
//! (`after_sign_off`), and amendments that apply it with a reason.
//!
//! Each operation runs in one write transaction and calls `record` (the audit trail) before it
//! commits: no record, no seal and no amendment.

use std::collections::BTreeSet;

use floorwatch_core::history::IntervalRow;
use floorwatch_core::{Millis, Scope, ServiceLevelSettings};
use jiff::civil::Date;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Store;
use super::error::{StoreError, sqlite};
use super::rows::{Table, immediate, read_row, write_row};

/// A signed-off day as reports show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SignOffView {
    pub(crate) scope: String,
    pub(crate) day: String,
    pub(crate) hash: String,
    pub(crate) signed_by: String,
    pub(crate) signed_at_ms: Millis,
    pub(crate) amendments: u32,
    /// Rows of events that arrived after the sign-off, waiting for an amendment.
    pub(crate) after_sign_off_rows: u32,
}

/// What an amendment changed, for its audit record.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Amended {
    /// The rows it applied.
    pub(crate) rows: usize,
    /// The sealed scope's figures of the day that changed, before and after.
    pub(crate) before: serde_json::Map<String, serde_json::Value>,
    pub(crate) after: serde_json::Map<String, serde_json::Value>,
    /// The day's new hash.
    pub(crate) hash: String,
}

/// Why a sign-off or an amendment was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SignOffError {
    #[error("{scope} {day} is signed off already (by {by})")]
    AlreadySigned {
        scope: String,
        day: Date,
        by: String,
    },
    #[error("{scope} {day} is not signed off")]
    NotSigned { scope: String, day: Date },
    #[error("nothing arrived for {scope} {day} after its sign-off: there is nothing to amend")]
    NothingToAmend { scope: String, day: Date },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit record could not be written: nothing was changed.
    #[error("{0}")]
    Unrecorded(String),
}

impl Store {
    /// Seals the rows of `covered` (the scope and every scope inside it) in the day `range`;
    /// `record(hash, rows)` writes the audit record before the seal is committed.
    pub(crate) fn sign_off(
        &mut self,
        (scope, day, range): (&Scope, Date, (Millis, Millis)),
        covered: &BTreeSet<String>,
        by: &str,
        record: impl FnOnce(&str, usize) -> Result<(), String>,
    ) -> Result<String, SignOffError> {
        let path = self.path.clone();
        let tx = immediate(&mut self.conn, &path)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT signed_by FROM sign_offs WHERE scope = ?1 AND day = ?2",
                params![scope.to_string(), day.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(sqlite(&path))?;
        if let Some(by) = existing {
            return Err(SignOffError::AlreadySigned {
                scope: scope.to_string(),
                day,
                by,
            });
        }
        let (hash, rows) = day_hash(self_dump(&tx, &path, range)?, covered);
        record(&hash, rows).map_err(SignOffError::Unrecorded)?;
        let covered_text: Vec<&str> = covered.iter().map(String::as_str).collect();
        tx.execute(
            "INSERT INTO sign_offs
             (scope, day, start_ms, end_ms, covered, hash, signed_by, signed_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                scope.to_string(),
                day.to_string(),
                range.0,
                range.1,
                covered_text.join("\n"),
                hash,
                by,
                jiff::Timestamp::now().as_millisecond()
            ],
        )
        .map_err(sqlite(&path))?;
        tx.commit().map_err(sqlite(&path))?;
        Ok(hash)
    }

    /// Applies what arrived for a signed-off day after its sign-off: `record(amended)` writes
    /// the audit record (who, why, each figure of the sealed scope before and after) before
    /// the rows change. `settings` judges the sealed scope's service level.
    pub(crate) fn amend(
        &mut self,
        (scope, day): (&Scope, Date),
        settings: &ServiceLevelSettings,
        record: impl FnOnce(&Amended) -> Result<(), String>,
    ) -> Result<Amended, SignOffError> {
        let path = self.path.clone();
        let calendar = self.calendar()?;
        let tx = immediate(&mut self.conn, &path)?;
        let seal: Option<(String, Millis, Millis)> = tx
            .query_row(
                "SELECT covered, start_ms, end_ms FROM sign_offs WHERE scope = ?1 AND day = ?2",
                params![scope.to_string(), day.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(sqlite(&path))?;
        let Some((covered, from, to)) = seal else {
            return Err(SignOffError::NotSigned {
                scope: scope.to_string(),
                day,
            });
        };
        let covered: BTreeSet<String> = covered.lines().map(str::to_string).collect();
        let pending: Vec<(String, Millis)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT scope, start_ms FROM after_sign_off
                     WHERE start_ms >= ?1 AND start_ms < ?2 ORDER BY scope, start_ms",
                )
                .map_err(sqlite(&path))?;
            stmt.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(sqlite(&path))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sqlite(&path))?
                .into_iter()
                .filter(|(s, _)| covered.contains(s))
                .collect()
        };
        let calls_waiting = super::call_rows::waiting(&tx, &path, &covered, (from, to))?;
        if pending.is_empty() && calls_waiting == 0 {
            return Err(SignOffError::NothingToAmend {
                scope: scope.to_string(),
                day,
            });
        }
        let key = scope.to_string();
        let day_of = |table: Table| -> Result<IntervalRow, StoreError> {
            let mut sum = IntervalRow::default();
            let mut at = from;
            // The sealed scope's quarter-hours of the day, one by one (96 or so).
            while at < to {
                if let Some(row) = read_row(&tx, &path, table, &key, at)? {
                    sum.merge(&row);
                }
                at += floorwatch_core::history::QUARTER_HOUR_MS;
            }
            Ok(sum)
        };
        let before = day_of(Table::Intervals)?;
        let mut after = before.clone();
        after.merge(&day_of(Table::AfterSignOff)?);
        for (s, start) in &pending {
            let late = read_row(&tx, &path, Table::AfterSignOff, s, *start)?.unwrap_or_default();
            let mut row = read_row(&tx, &path, Table::Intervals, s, *start)?.unwrap_or_default();
            row.merge(&late);
            write_row(&tx, &path, Table::Intervals, s, *start, &row)?;
            super::days::add_row(&tx, &path, &calendar, s, *start, &late)?;
            write_row(
                &tx,
                &path,
                Table::AfterSignOff,
                s,
                *start,
                &IntervalRow::default(),
            )?;
        }
        // The day's calls that changed after the sign-off are applied with its rows.
        super::call_rows::amend(&tx, &path, &covered, (from, to))?;
        let (hash, _) = day_hash(self_dump(&tx, &path, (from, to))?, &covered);
        let figures = |row: &IntervalRow| {
            serde_json::to_value(row.figures(scope.clone(), (from, to), settings))
                .ok()
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default()
        };
        let (was, is) = (figures(&before), figures(&after));
        let changed: Vec<&String> = was.keys().filter(|k| was.get(*k) != is.get(*k)).collect();
        let amended = Amended {
            rows: pending.len(),
            before: changed
                .iter()
                .map(|k| ((*k).clone(), was[*k].clone()))
                .collect(),
            after: changed
                .iter()
                .map(|k| ((*k).clone(), is[*k].clone()))
                .collect(),
            hash: hash.clone(),
        };
        record(&amended).map_err(SignOffError::Unrecorded)?;
        tx.execute(
            "UPDATE sign_offs SET hash = ?3, amendments = amendments + 1
             WHERE scope = ?1 AND day = ?2",
            params![scope.to_string(), day.to_string(), hash],
        )
        .map_err(sqlite(&path))?;
        tx.commit().map_err(sqlite(&path))?;
        Ok(amended)
    }

    /// The sign-offs of days starting in `range` whose covered scopes include `scope`.
    pub(crate) fn sign_offs(
        &self,
        scope: &str,
        (from, to): (Millis, Millis),
    ) -> Result<Vec<SignOffView>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.scope, s.day, s.hash, s.signed_by, s.signed_at_ms, s.amendments,
                        s.covered,
                        (SELECT count(*) FROM after_sign_off a
                         WHERE a.start_ms >= s.start_ms AND a.start_ms < s.end_ms)
                 FROM sign_offs s WHERE s.start_ms >= ?1 AND s.start_ms < ?2
                 ORDER BY s.start_ms, s.scope",
            )
            .map_err(sqlite(&self.path))?;
        let rows = stmt
            .query_map(params![from, to], |r| {
                let covered: String = r.get(6)?;
                Ok((
                    SignOffView {
                        scope: r.get(0)?,
                        day: r.get(1)?,
                        hash: r.get(2)?,
                        signed_by: r.get(3)?,
                        signed_at_ms: r.get(4)?,
                        amendments: r.get(5)?,
                        after_sign_off_rows: r.get(7)?,
                    },
                    covered.lines().any(|c| c == scope),
                ))
            })
            .map_err(sqlite(&self.path))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sqlite(&self.path))?;
        Ok(rows
            .into_iter()
            .filter_map(|(view, covers)| covers.then_some(view))
            .collect())
    }
}

/// The rows of `range` as `dump` prints them.
fn self_dump(
    conn: &rusqlite::Connection,
    path: &std::path::Path,
    range: (Millis, Millis),
) -> Result<Vec<String>, StoreError> {
    super::dump_rows(conn, path, range)
}

/// SHA-256 over the dump lines of the covered scopes (hex), and how many rows it covers.
fn day_hash(lines: Vec<String>, covered: &BTreeSet<String>) -> (String, usize) {
    let mut hasher = Sha256::new();
    let mut rows = 0;
    for line in lines {
        let scope = line.split('\t').next().unwrap_or_default();
        if covered.contains(scope) {
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
            rows += 1;
        }
    }
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (hash, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::ClosedIntervals;
    use floorwatch_core::history::IntervalSums;

    fn abandoned(scope: &str, start: Millis) -> ClosedIntervals {
        let mut sums = IntervalSums::default();
        sums.tally.abandoned = 1;
        ClosedIntervals {
            calls: Default::default(),
            until: start + 900_000,
            through_seq: None,
            deltas: vec![(scope.parse().unwrap(), sums, start)],
        }
    }

    #[test]
    fn a_signed_off_day_changes_only_by_an_amendment() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(
            dir.path(),
            &floorwatch_core::calendar::CentreCalendar::utc(),
        )
        .unwrap();
        let day = (0, 86_400_000);
        store.merge(&abandoned("queue:q", 0)).unwrap();
        let covered: BTreeSet<String> = ["centre", "queue:q"].map(String::from).into();
        let date: Date = "1970-01-01".parse().unwrap();
        let refused = store.sign_off((&Scope::Centre, date, day), &covered, "boss", |_, _| {
            Err("disk full".into())
        });
        assert!(matches!(refused, Err(SignOffError::Unrecorded(_))));
        assert!(
            store.sign_offs("centre", day).unwrap().is_empty(),
            "no record, no seal"
        );
        let hash = store
            .sign_off((&Scope::Centre, date, day), &covered, "boss", |_, rows| {
                assert_eq!(rows, 1);
                Ok(())
            })
            .unwrap();
        let sealed = store.dump(day).unwrap();
        store.merge(&abandoned("queue:q", 900_000)).unwrap();
        assert_eq!(store.dump(day).unwrap(), sealed);
        // A rebuild keeps a signed-off day's rows too.
        store.rebuild(day).unwrap().commit().unwrap();
        assert_eq!(store.dump(day).unwrap(), sealed);
        let views = store.sign_offs("queue:q", day).unwrap();
        assert_eq!(
            (views[0].hash.as_str(), views[0].after_sign_off_rows),
            (hash.as_str(), 1)
        );
        let amended = store
            .amend(
                (&Scope::Centre, date),
                &ServiceLevelSettings::default(),
                |_| Ok(()),
            )
            .unwrap();
        assert_eq!(amended.rows, 1);
        assert_ne!(amended.hash, hash);
        assert_eq!(store.rows("queue:q", day).unwrap().len(), 2);
        let nothing = store.amend(
            (&Scope::Centre, date),
            &ServiceLevelSettings::default(),
            |_| Ok(()),
        );
        assert!(matches!(nothing, Err(SignOffError::NothingToAmend { .. })));
        assert_eq!(store.sign_offs("centre", day).unwrap()[0].amendments, 1);
    }
}
