//! The interval store: one SQLite file in the data dir (`history.sqlite`), one row per scope
//! and quarter-hour that saw anything (docs/HISTORY.md, "The store").
//!
//! Rows hold sums, counts, the longest wait and two HdrHistograms (V2 form), never a
//! percentage, so any range adds up exactly. The engine hands over deltas; each close is merged
//! in one transaction together with the resume point (the journal sequence number of the last
//! event it covers), so a kill between two closes loses nothing and counts nothing twice: the
//! restart replays the journal after that event into the ledger (`crate::history`).

use std::path::{Path, PathBuf};

use floorwatch_core::history::{IntervalRow, IntervalSums, Samples, Tally};
use floorwatch_core::{Millis, NotReadyReason, Scope};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::ClosedIntervals;

/// The file in the data dir.
pub(crate) const FILE: &str = "history.sqlite";

/// Why the store could not be read or written. Names the file: an operator acts on it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("history store {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("history store {path}: row {scope} at {start_ms}: damaged histogram: {reason}")]
    Histogram {
        path: PathBuf,
        scope: String,
        start_ms: Millis,
        reason: String,
    },
}

/// Where a restart resumes the ledger: everything up to `through_seq` of the journal, and every
/// running agent state up to `closed_until`, is in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResumePoint {
    pub(crate) closed_until: Millis,
    /// `None` when the close came before any journaled event with a sequence number.
    pub(crate) through_seq: Option<u64>,
}

/// The integer columns of a row, in order: the tally, then not-ready time by reason.
const COLUMNS: [&str; 29] = [
    "answered",
    "abandoned",
    "timed_out",
    "short_abandoned",
    "answered_within",
    "abandoned_within",
    "timed_out_within",
    "ivr_completed",
    "answered_wait_ms",
    "max_wait_ms",
    "handled",
    "talk_ms",
    "held",
    "hold_ms",
    "acw_calls",
    "acw_ms",
    "available_ms",
    "ringing_ms",
    "on_call_ms",
    "on_hold_ms",
    "after_call_work_ms",
    "not_ready_ms",
    "not_ready_break_ms",
    "not_ready_meal_ms",
    "not_ready_meeting_ms",
    "not_ready_training_ms",
    "not_ready_coaching_ms",
    "not_ready_outbound_ms",
    "not_ready_other_ms",
];

/// The history store, open for reading and writing (one writer: the history thread, or a
/// `floorwatch history` command while the server is stopped).
pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`.
    pub(crate) fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(FILE);
        let conn = Connection::open(&path).map_err(sqlite(&path))?;
        let store = Store { conn, path };
        store.create()?;
        Ok(store)
    }

    /// Opens the store for reading only (the reports API: one connection per request, beside
    /// the writer; SQLite's write-ahead log lets both go on at once).
    pub(crate) fn open_read_only(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(FILE);
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite(&path))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sqlite(&path))?;
        Ok(Store { conn, path })
    }

    fn create(&self) -> Result<(), StoreError> {
        let columns: String = COLUMNS
            .iter()
            .map(|c| format!("{c} INTEGER NOT NULL DEFAULT 0,\n"))
            .collect();
        let sql = format!(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS resume_point (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 closed_until_ms INTEGER NOT NULL,
                 through_seq INTEGER
             );
             CREATE TABLE IF NOT EXISTS intervals (
                 scope TEXT NOT NULL,
                 start_ms INTEGER NOT NULL,
                 {columns}
                 signed_in_ms INTEGER,
                 signed_out_ms INTEGER,
                 waits BLOB,
                 handles BLOB,
                 PRIMARY KEY (scope, start_ms)
             ) WITHOUT ROWID;"
        );
        self.conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sqlite(&self.path))?;
        self.conn.execute_batch(&sql).map_err(sqlite(&self.path))
    }

    /// Where a restart resumes the ledger; `None` for a new store.
    pub(crate) fn resume_point(&self) -> Result<Option<ResumePoint>, StoreError> {
        self.conn
            .query_row(
                "SELECT closed_until_ms, through_seq FROM resume_point WHERE id = 1",
                [],
                |row| {
                    Ok(ResumePoint {
                        closed_until: row.get(0)?,
                        through_seq: row.get::<_, Option<i64>>(1)?.map(|s| s as u64),
                    })
                },
            )
            .optional()
            .map_err(sqlite(&self.path))
    }

    /// Merges one close of the ledger into the rows it touches, and moves the resume point, in
    /// one transaction: all of it is stored or none.
    pub(crate) fn merge(&mut self, closed: &ClosedIntervals) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(sqlite(&path))?;
        for (scope, sums, start) in &closed.deltas {
            merge_delta(&tx, &path, &scope.to_string(), *start, sums)?;
        }
        tx.execute(
            "INSERT INTO resume_point (id, closed_until_ms, through_seq) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET closed_until_ms = ?1, through_seq = ?2",
            params![closed.until, closed.through_seq.map(|s| s as i64)],
        )
        .map_err(sqlite(&path))?;
        tx.commit().map_err(sqlite(&path))
    }

    /// Starts replacing the rows of `[from, to)` (a rebuild): they are deleted, and the rebuild
    /// merges its closes into them, all in one transaction: until [`Rebuild::commit`] readers
    /// see the old rows, and a rebuild that fails leaves them as they were.
    pub(crate) fn rebuild(
        &mut self,
        (from, to): (Millis, Millis),
    ) -> Result<Rebuild<'_>, StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(sqlite(&path))?;
        tx.execute(
            "DELETE FROM intervals WHERE start_ms >= ?1 AND start_ms < ?2",
            params![from, to],
        )
        .map_err(sqlite(&path))?;
        Ok(Rebuild {
            tx,
            path,
            range: (from, to),
        })
    }

    /// The rows of `scope` starting in `[from, to)`, oldest first.
    pub(crate) fn rows(
        &self,
        scope: &str,
        (from, to): (Millis, Millis),
    ) -> Result<Vec<(Millis, IntervalRow)>, StoreError> {
        let sql = format!(
            "SELECT start_ms, {}, signed_in_ms, signed_out_ms, waits, handles FROM intervals
             WHERE scope = ?1 AND start_ms >= ?2 AND start_ms < ?3 ORDER BY start_ms",
            COLUMNS.join(", ")
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(sqlite(&self.path))?;
        let raw = stmt
            .query_map(params![scope, from, to], |r| {
                let start: Millis = r.get(0)?;
                Ok((start, raw_row(r, 1)?))
            })
            .map_err(sqlite(&self.path))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sqlite(&self.path))?;
        raw.into_iter()
            .map(|(start, raw)| Ok((start, decode(&self.path, scope, start, raw)?)))
            .collect()
    }

    /// Every row starting in `[from, to)` as stored, column by column, ordered by scope and
    /// start: what "byte-identical" compares (`floorwatch history dump`, the rebuild test).
    pub(crate) fn dump(&self, (from, to): (Millis, Millis)) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT scope, start_ms, {}, signed_in_ms, signed_out_ms, hex(waits), hex(handles) FROM intervals
             WHERE start_ms >= ?1 AND start_ms < ?2 ORDER BY scope, start_ms",
            COLUMNS.join(", ")
        );
        let mut stmt = self.conn.prepare(&sql).map_err(sqlite(&self.path))?;
        let rows = stmt
            .query_map(params![from, to], |r| {
                let mut line: Vec<String> = vec![r.get(0)?, r.get::<_, i64>(1)?.to_string()];
                for i in 0..COLUMNS.len() {
                    line.push(r.get::<_, i64>(i + 2)?.to_string());
                }
                let at = COLUMNS.len() + 2;
                for signed in [at, at + 1] {
                    let t = r.get::<_, Option<i64>>(signed)?;
                    line.push(t.map(|t| t.to_string()).unwrap_or_default());
                }
                for hex in [at + 2, at + 3] {
                    line.push(r.get::<_, Option<String>>(hex)?.unwrap_or_default());
                }
                Ok(line.join("\t"))
            })
            .map_err(sqlite(&self.path))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(sqlite(&self.path))
    }

    /// Deletes the rows of quarter-hours that started before `before`; returns how many.
    pub(crate) fn prune(&mut self, before: Millis) -> Result<usize, StoreError> {
        self.conn
            .execute("DELETE FROM intervals WHERE start_ms < ?1", params![before])
            .map_err(sqlite(&self.path))
    }
}

/// A rebuild in progress ([`Store::rebuild`]).
pub(crate) struct Rebuild<'a> {
    tx: rusqlite::Transaction<'a>,
    path: PathBuf,
    /// Only rows starting here are rebuilt.
    range: (Millis, Millis),
}

impl Rebuild<'_> {
    /// Merges the deltas of one close that fall in the range, as the live store does.
    pub(crate) fn merge(
        &mut self,
        deltas: &[(Scope, IntervalSums, Millis)],
    ) -> Result<(), StoreError> {
        for (scope, sums, start) in deltas {
            if (self.range.0..self.range.1).contains(start) {
                merge_delta(&self.tx, &self.path, &scope.to_string(), *start, sums)?;
            }
        }
        Ok(())
    }

    /// Stores the rebuilt rows; returns how many rows the range now has.
    pub(crate) fn commit(self) -> Result<usize, StoreError> {
        let rows: i64 = self
            .tx
            .query_row(
                "SELECT count(*) FROM intervals WHERE start_ms >= ?1 AND start_ms < ?2",
                params![self.range.0, self.range.1],
                |r| r.get(0),
            )
            .map_err(sqlite(&self.path))?;
        self.tx.commit().map_err(sqlite(&self.path))?;
        Ok(rows.max(0) as usize)
    }
}

/// Adds `sums` to the row of `scope` at `start`.
fn merge_delta(
    conn: &Connection,
    path: &Path,
    scope: &str,
    start: Millis,
    sums: &IntervalSums,
) -> Result<(), StoreError> {
    let mut row = read_row(conn, path, scope, start)?.unwrap_or_default();
    row.add(sums);
    write_row(conn, path, scope, start, &row)
}

/// A row as read: its integer columns, sign-in and sign-out, and its two histograms' bytes.
struct RawRow {
    ints: [i64; 29],
    signed: (Option<Millis>, Option<Millis>),
    waits: Option<Vec<u8>>,
    handles: Option<Vec<u8>>,
}

fn raw_row(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<RawRow> {
    let mut ints = [0i64; 29];
    for (i, v) in ints.iter_mut().enumerate() {
        *v = r.get(first + i)?;
    }
    let at = first + COLUMNS.len();
    Ok(RawRow {
        ints,
        signed: (r.get(at)?, r.get(at + 1)?),
        waits: r.get(at + 2)?,
        handles: r.get(at + 3)?,
    })
}

fn read_row(
    conn: &Connection,
    path: &Path,
    scope: &str,
    start: Millis,
) -> Result<Option<IntervalRow>, StoreError> {
    let sql = format!(
        "SELECT {}, signed_in_ms, signed_out_ms, waits, handles FROM intervals WHERE scope = ?1 AND start_ms = ?2",
        COLUMNS.join(", ")
    );
    let raw = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_row(params![scope, start], |r| raw_row(r, 0))
                .optional()
        })
        .map_err(sqlite(path))?;
    raw.map(|raw| decode(path, scope, start, raw)).transpose()
}

/// Writes `row` (deletes it when it counts nothing: a quarter-hour without a row reads as
/// zeros, so a row whose additions cancelled out leaves none, as a rebuild would).
fn write_row(
    conn: &Connection,
    path: &Path,
    scope: &str,
    start: Millis,
    row: &IntervalRow,
) -> Result<(), StoreError> {
    if row.is_empty() {
        conn.prepare_cached("DELETE FROM intervals WHERE scope = ?1 AND start_ms = ?2")
            .and_then(|mut stmt| stmt.execute(params![scope, start]))
            .map_err(sqlite(path))?;
        return Ok(());
    }
    let sql = format!(
        "INSERT OR REPLACE INTO intervals
         (scope, start_ms, {}, signed_in_ms, signed_out_ms, waits, handles)
         VALUES (?1, ?2, {})",
        COLUMNS.join(", "),
        (3..3 + COLUMNS.len() + 4)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let ints = encode_ints(row);
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![&scope, &start];
    values.extend(ints.iter().map(|v| v as &dyn rusqlite::ToSql));
    let waits = encode_histogram(&row.waits);
    let handles = encode_histogram(&row.handles);
    values.push(&row.signed_in_at);
    values.push(&row.signed_out_at);
    values.push(&waits);
    values.push(&handles);
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.execute(values.as_slice()))
        .map_err(sqlite(path))?;
    Ok(())
}

fn encode_ints(row: &IntervalRow) -> [i64; 29] {
    let t = &row.tally;
    let mut out = [0i64; 29];
    let head = [
        t.answered as i64,
        t.abandoned as i64,
        t.timed_out as i64,
        t.short_abandoned as i64,
        t.answered_within as i64,
        t.abandoned_within as i64,
        t.timed_out_within as i64,
        t.ivr_completed as i64,
        t.answered_wait_ms,
        t.max_wait_ms,
        t.handled as i64,
        t.talk_ms,
        t.held as i64,
        t.hold_ms,
        t.acw_calls as i64,
        t.acw_ms,
    ];
    out[..16].copy_from_slice(&head);
    out[16..22].copy_from_slice(&t.state_ms);
    out[22..].copy_from_slice(&row.not_ready_ms);
    out
}

fn decode(path: &Path, scope: &str, start: Millis, raw: RawRow) -> Result<IntervalRow, StoreError> {
    let RawRow {
        ints: v,
        signed,
        waits,
        handles,
    } = raw;
    let n = |i: usize| v[i].max(0) as u64;
    let mut state_ms = [0i64; 6];
    state_ms.copy_from_slice(&v[16..22]);
    let mut not_ready_ms = [0i64; NotReadyReason::ALL.len()];
    not_ready_ms.copy_from_slice(&v[22..]);
    let tally = Tally {
        answered: n(0),
        abandoned: n(1),
        timed_out: n(2),
        short_abandoned: n(3),
        answered_within: n(4),
        abandoned_within: n(5),
        timed_out_within: n(6),
        ivr_completed: n(7),
        answered_wait_ms: v[8],
        max_wait_ms: v[9],
        handled: n(10),
        talk_ms: v[11],
        held: n(12),
        hold_ms: v[13],
        acw_calls: n(14),
        acw_ms: v[15],
        state_ms,
    };
    let damaged = |reason: String| StoreError::Histogram {
        path: path.to_path_buf(),
        scope: scope.to_string(),
        start_ms: start,
        reason,
    };
    let histogram = |bytes: Option<Vec<u8>>| -> Result<Samples, StoreError> {
        let Some(bytes) = bytes else {
            return Ok(Samples::default());
        };
        let stored: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| damaged(format!("{e:?}")))?;
        Samples::from_histogram(&stored).map_err(damaged)
    };
    Ok(IntervalRow {
        tally,
        not_ready_ms,
        waits: histogram(waits)?,
        handles: histogram(handles)?,
        signed_in_at: signed.0,
        signed_out_at: signed.1,
    })
}

/// A histogram's V2 bytes; `None` (SQL NULL) when it holds no sample.
fn encode_histogram(samples: &Samples) -> Option<Vec<u8>> {
    let h = samples.histogram()?;
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and every histogram has the serialisable bounds of
    // `empty_histogram`; an error would leave the row's samples out, never the row.
    V2Serializer::new().serialize(h, &mut out).ok()?;
    Some(out)
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(answered: u64, waits: &[u32]) -> IntervalSums {
        let mut s = IntervalSums::default();
        s.tally.answered = answered;
        s.tally.max_wait_ms = waits.iter().copied().max().map_or(-1, i64::from);
        s.waits = waits.to_vec();
        s
    }

    #[test]
    fn closes_merge_into_rows_and_move_the_resume_point() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(store.resume_point().unwrap(), None);
        let q = Scope::Queue("sales".into());
        store
            .merge(&ClosedIntervals {
                until: 900_000,
                through_seq: Some(7),
                deltas: vec![(q.clone(), sums(2, &[1_000, 5_000]), 0)],
            })
            .unwrap();
        store
            .merge(&ClosedIntervals {
                until: 1_800_000,
                through_seq: Some(9),
                deltas: vec![(q.clone(), sums(1, &[30_000]), 0)],
            })
            .unwrap();
        assert_eq!(
            store.resume_point().unwrap(),
            Some(ResumePoint {
                closed_until: 1_800_000,
                through_seq: Some(9)
            })
        );
        let rows = store.rows("queue:sales", (0, 900_000)).unwrap();
        assert_eq!(rows.len(), 1);
        let row = &rows[0].1;
        assert_eq!(row.tally.answered, 3);
        assert_eq!(row.tally.max_wait(), Some(30_000));
        assert_eq!(row.waits.len(), 3);
        // The same sums in one close are the same bytes.
        let other = tempfile::tempdir().unwrap();
        let mut once = Store::open(other.path()).unwrap();
        let mut all = sums(3, &[1_000, 5_000, 30_000]);
        all.tally.max_wait_ms = 30_000;
        once.merge(&ClosedIntervals {
            until: 1_800_000,
            through_seq: Some(9),
            deltas: vec![(q, all, 0)],
        })
        .unwrap();
        assert_eq!(
            store.dump((0, i64::MAX)).unwrap(),
            once.dump((0, i64::MAX)).unwrap()
        );
    }

    #[test]
    fn additions_that_cancel_out_leave_no_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let a = Scope::Agent("a1".into());
        let mut plus = IntervalSums::default();
        plus.tally.state_ms[0] = 60_000;
        let mut minus = IntervalSums::default();
        minus.tally.state_ms[0] = -60_000;
        for s in [plus, minus] {
            store
                .merge(&ClosedIntervals {
                    until: 900_000,
                    through_seq: None,
                    deltas: vec![(a.clone(), s, 0)],
                })
                .unwrap();
        }
        assert!(store.dump((0, i64::MAX)).unwrap().is_empty());
        assert_eq!(store.prune(900_000).unwrap(), 0);
    }
}
