//! The interval store: one SQLite file in the data dir (`history.sqlite`), one row per scope
//! and quarter-hour that saw anything (docs/HISTORY.md, "The store").
//!
//! Rows hold sums, counts, the longest wait and two HdrHistograms (V2 form), never a
//! percentage, so any range adds up exactly. The engine hands over deltas; each close is merged
//! in one transaction together with the resume point (the journal sequence number of the last
//! event it covers), so a kill between two closes loses nothing and counts nothing twice: the
//! restart replays the journal after that event into the ledger (`crate::history`).

use std::path::{Path, PathBuf};

use floorwatch_core::calendar::CentreCalendar;
use floorwatch_core::history::{IntervalRow, IntervalSums};
use floorwatch_core::{Millis, Scope};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::closed::ClosedIntervals;
use add::Adder;
use error::sqlite;
use key_order::{KeyOrder, scope_name};
use rows::{COLUMNS, Sealed, Table, decode, immediate, raw_row};

mod add;
mod call_rows;
pub(crate) mod calls;
mod days;
mod error;
mod key_order;
mod rows;
pub(crate) mod sign_off;
mod sparse;
#[cfg(test)]
mod test_rng;

pub(crate) use error::StoreError;

/// The file in the data dir.
pub(crate) const FILE: &str = "history.sqlite";

/// The writer's page cache, KiB (SQLite's negative `cache_size`; allocated as pages are used):
/// a close of the large floor touches one leaf page of `intervals` per scope, about 5,300 pages
/// (21 MB), and the same pages again at the next close (a scope's consecutive quarter-hours
/// share a page). With SQLite's default of 2 MB every close read them back from the file and
/// spilled dirty pages to the write-ahead log before its commit (BENCHMARKS.md, "Fourth pass:
/// history").
const CACHE_KIB: i64 = -32 * 1024;
/// Pages in the write-ahead log before a commit copies them into the file (SQLite's default is
/// 1,000, 4 MB, which a close of the large floor passes on its own: every commit copied its
/// pages twice and synced). At 16,384 pages (64 MB) a checkpoint copies the newest version of
/// a page once for several closes.
const WAL_PAGES: i64 = 16_384;

/// Where a restart resumes the ledger: everything up to `through_seq` of the journal, and every
/// running agent state up to `closed_until`, is in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResumePoint {
    pub(crate) closed_until: Millis,
    /// `None` when the close came before any journaled event with a sequence number.
    pub(crate) through_seq: Option<u64>,
}

/// The history store, open for reading and writing (one writer: the history thread, or a
/// `floorwatch history` command while the server is stopped).
pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
    /// The centre's calendar, which cuts the day rows (`days`); `None` on a read-only store,
    /// which never writes one.
    calendar: Option<CentreCalendar>,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, its day rows cut by `calendar`
    /// (recomputed first if they were cut by another: `days::align`).
    pub(crate) fn open(data_dir: &Path, calendar: &CentreCalendar) -> Result<Store, StoreError> {
        let path = data_dir.join(FILE);
        let conn = Connection::open(&path).map_err(sqlite(&path))?;
        add::register(&conn).map_err(sqlite(&path))?;
        // A close runs about thirty statements (upserts of six sizes and deletes of three
        // tables, the visits' multi-row inserts, the seals): all stay prepared.
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = Store {
            conn,
            path,
            calendar: Some(calendar.clone()),
        };
        store.create()?;
        let path = store.path.clone();
        let tx = immediate(&mut store.conn, &path)?;
        days::align(&tx, &path, calendar)?;
        tx.commit().map_err(sqlite(&path))?;
        Ok(store)
    }

    /// The calendar of a store opened for writing.
    fn calendar(&self) -> Result<CentreCalendar, StoreError> {
        self.calendar.clone().ok_or_else(|| StoreError::ReadOnly {
            path: self.path.clone(),
        })
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
        Ok(Store {
            conn,
            path,
            calendar: None,
        })
    }

    fn create(&self) -> Result<(), StoreError> {
        let columns: String = COLUMNS
            .iter()
            .map(|c| format!("{c} INTEGER NOT NULL DEFAULT 0,\n"))
            .collect();
        let sql = format!(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA cache_size = {CACHE_KIB};
             PRAGMA wal_autocheckpoint = {WAL_PAGES};
             PRAGMA temp_store = MEMORY;
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
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS after_sign_off (
                 scope TEXT NOT NULL,
                 start_ms INTEGER NOT NULL,
                 {columns}
                 signed_in_ms INTEGER,
                 signed_out_ms INTEGER,
                 waits BLOB,
                 handles BLOB,
                 PRIMARY KEY (scope, start_ms)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS days (
                 scope TEXT NOT NULL,
                 start_ms INTEGER NOT NULL,
                 {columns}
                 signed_in_ms INTEGER,
                 signed_out_ms INTEGER,
                 waits BLOB,
                 handles BLOB,
                 PRIMARY KEY (scope, start_ms)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS day_calendar (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 calendar TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS sign_offs (
                 scope TEXT NOT NULL,
                 day TEXT NOT NULL,
                 start_ms INTEGER NOT NULL,
                 end_ms INTEGER NOT NULL,
                 covered TEXT NOT NULL,
                 hash TEXT NOT NULL,
                 signed_by TEXT NOT NULL,
                 signed_at_ms INTEGER NOT NULL,
                 amendments INTEGER NOT NULL DEFAULT 0,
                 PRIMARY KEY (scope, day)
             ) WITHOUT ROWID;"
        );
        self.conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sqlite(&self.path))?;
        self.conn.execute_batch(&sql).map_err(sqlite(&self.path))?;
        self.conn
            .execute_batch(call_rows::CREATE)
            .map_err(sqlite(&self.path))
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

    /// Frees the page cache's clean pages (all of them between transactions): the writer
    /// holds up to [`CACHE_KIB`] only while closes come back to back (issue 15: RSS under
    /// 250 MB after each large day).
    pub(crate) fn release_cache(&self) {
        if let Err(e) = self.conn.release_memory() {
            tracing::debug!(error = %e, "history store: page cache not released");
        }
    }

    /// Merges one close of the ledger into the rows it touches, and moves the resume point, in
    /// one transaction: all of it is stored or none.
    pub(crate) fn merge(&mut self, closed: &ClosedIntervals) -> Result<(), StoreError> {
        self.merge_all(std::slice::from_ref(closed))
    }

    /// Merges closes of the ledger, in order, in one transaction (the history thread's queued
    /// closes in a replay): the store ends as if each was merged after the other (a row named
    /// twice is added twice, a visit's later record replaces its earlier one), with the resume
    /// point of the last; each day row is written once for all of them.
    pub(crate) fn merge_all(&mut self, closes: &[ClosedIntervals]) -> Result<(), StoreError> {
        let Some(last) = closes.last() else {
            return Ok(());
        };
        let path = self.path.clone();
        let calendar = self.calendar()?;
        let tx = immediate(&mut self.conn, &path)?;
        let starts = closes.iter().flat_map(|c| c.deltas.iter().map(|d| d.2));
        let sealed = match (starts.clone().min(), starts.max()) {
            (Some(first), Some(last)) => Sealed::in_range(&tx, &path, (first, last + 1))?,
            _ => Sealed::none(),
        };
        // Each day row gets the sum of the closes' quarter-hours in it, in one statement.
        let mut days = days::DayAdditions::default();
        {
            let rows: Vec<_> = combined(closes).collect();
            let mut intervals = KeyOrder::default();
            let mut after_sign_off = KeyOrder::default();
            for (at, (scope, sums, start)) in rows.iter().enumerate() {
                let name = scope_name(scope);
                // A signed-off day's rows change only by an amendment: what arrives for them
                // waits beside them (docs/HISTORY.md, "Sign-off").
                if !sealed.is_empty() && sealed.covers(&name, *start) {
                    after_sign_off.push(name, *start, at);
                } else {
                    intervals.push(name, *start, at);
                    days.note(scope, calendar.day_start(*start), sums);
                }
            }
            for (table, keys) in [
                (Table::Intervals, intervals),
                (Table::AfterSignOff, after_sign_off),
            ] {
                if keys.is_empty() {
                    continue;
                }
                let mut adder = Adder::new(&tx, &path, table)?;
                for (name, start, at) in keys.sorted() {
                    adder.add((name, start), &rows[at].1)?;
                }
                adder.finish()?;
            }
        }
        days.add(&tx, &path)?;
        call_rows::put_batch(&tx, &path, closes.iter().map(|c| c.calls.as_slice()))?;
        // The furthest close, and the last event numbered (a close may have none).
        let until = closes.iter().map(|c| c.until).max().unwrap_or(last.until);
        let through_seq = closes.iter().rev().find_map(|c| c.through_seq);
        tx.execute(
            "INSERT INTO resume_point (id, closed_until_ms, through_seq) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET closed_until_ms = ?1, through_seq = ?2",
            params![until, through_seq.map(|s| s as i64)],
        )
        .map_err(sqlite(&path))?;
        tx.commit().map_err(sqlite(&path))
    }

    /// Starts replacing the rows of `[from, to)` (a rebuild), but those of signed-off days:
    /// they are deleted, and the rebuild
    /// merges its closes into them, all in one transaction: until [`Rebuild::commit`] readers
    /// see the old rows, and a rebuild that fails leaves them as they were.
    pub(crate) fn rebuild(
        &mut self,
        (from, to): (Millis, Millis),
    ) -> Result<Rebuild<'_>, StoreError> {
        let path = self.path.clone();
        let calendar = self.calendar()?;
        let tx = immediate(&mut self.conn, &path)?;
        // Signed-off days keep their rows: only an amendment changes them.
        tx.execute(
            "DELETE FROM intervals WHERE start_ms >= ?1 AND start_ms < ?2 AND NOT EXISTS (
                 SELECT 1 FROM sign_offs s
                 WHERE intervals.start_ms >= s.start_ms AND intervals.start_ms < s.end_ms
                   AND instr(char(10) || s.covered || char(10),
                             char(10) || intervals.scope || char(10)) > 0)",
            params![from, to],
        )
        .map_err(sqlite(&path))?;
        call_rows::delete_unsealed(&tx, &path, (from, to))?;
        let sealed = Sealed::in_range(&tx, &path, (from, to))?;
        Ok(Rebuild {
            tx,
            path,
            calendar,
            range: (from, to),
            sealed,
        })
    }

    /// The rows of `scope` starting in `[from, to)`, oldest first.
    pub(crate) fn rows(
        &self,
        scope: &str,
        span: (Millis, Millis),
    ) -> Result<Vec<(Millis, IntervalRow)>, StoreError> {
        self.rows_with(Table::Intervals, scope, span, true)
    }

    /// The day rows of `scope` whose day starts in `[from, to)`, without their samples: the
    /// merge of each day's quarter-hours (`days`), for a report over whole days that shows no
    /// percentile (the agent report).
    pub(crate) fn day_rows_without_samples(
        &self,
        scope: &str,
        span: (Millis, Millis),
    ) -> Result<Vec<(Millis, IntervalRow)>, StoreError> {
        self.rows_with(Table::Days, scope, span, false)
    }

    /// [`Store::rows`] without the percentile samples (their histograms left empty): what a
    /// report that shows no percentile reads, without decoding a histogram per row (the
    /// per-agent report of a month reads about 1,400 rows an agent).
    pub(crate) fn rows_without_samples(
        &self,
        scope: &str,
        span: (Millis, Millis),
    ) -> Result<Vec<(Millis, IntervalRow)>, StoreError> {
        self.rows_with(Table::Intervals, scope, span, false)
    }

    fn rows_with(
        &self,
        table: Table,
        scope: &str,
        (from, to): (Millis, Millis),
        samples: bool,
    ) -> Result<Vec<(Millis, IntervalRow)>, StoreError> {
        let histograms = if samples {
            "waits, handles"
        } else {
            "NULL, NULL"
        };
        let sql = format!(
            "SELECT start_ms, {}, signed_in_ms, signed_out_ms, {histograms} FROM {}
             WHERE scope = ?1 AND start_ms >= ?2 AND start_ms < ?3 ORDER BY start_ms",
            COLUMNS.join(", "),
            table.name()
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
    pub(crate) fn dump(&self, range: (Millis, Millis)) -> Result<Vec<String>, StoreError> {
        dump_rows(&self.conn, &self.path, range)
    }

    /// The visits whose outcome fell in `[from, to)` as stored, one line each, ordered by
    /// outcome and id (`floorwatch history dump`, after the interval rows).
    pub(crate) fn dump_calls(&self, range: (Millis, Millis)) -> Result<Vec<String>, StoreError> {
        call_rows::dump(&self.conn, &self.path, range)
    }

    /// Deletes the rows of quarter-hours (and days) that started before the centre day of
    /// `before` (whole days, so a day row stays the merge of its quarter-hours), and the visits
    /// (with their callback marks) whose outcome came before it; returns how many quarter-hour
    /// rows and visits.
    pub(crate) fn prune(&mut self, before: Millis) -> Result<usize, StoreError> {
        let before = self.calendar()?.day_start(before);
        let rows = self
            .conn
            .execute("DELETE FROM intervals WHERE start_ms < ?1", params![before])
            .map_err(sqlite(&self.path))?;
        self.conn
            .execute("DELETE FROM days WHERE start_ms < ?1", params![before])
            .map_err(sqlite(&self.path))?;
        Ok(rows + call_rows::prune(&self.conn, &self.path, before)?)
    }
}

/// A rebuild in progress ([`Store::rebuild`]).
pub(crate) struct Rebuild<'a> {
    tx: rusqlite::Transaction<'a>,
    path: PathBuf,
    /// Cuts the day rows recomputed at the commit.
    calendar: CentreCalendar,
    /// Only rows starting here are rebuilt.
    range: (Millis, Millis),
    /// Signed-off days in the range: their rows are kept as they are.
    sealed: Sealed,
}

impl Rebuild<'_> {
    /// Merges the deltas of one close that fall in the range, as the live store does.
    pub(crate) fn merge(
        &mut self,
        deltas: &[(Scope, IntervalSums, Millis)],
    ) -> Result<(), StoreError> {
        let mut intervals = Adder::new(&self.tx, &self.path, Table::Intervals)?;
        for (scope, sums, start) in deltas {
            if (self.range.0..self.range.1).contains(start)
                && !self.sealed.covers(&scope.to_string(), *start)
            {
                intervals.add((scope.to_string(), *start), sums)?;
            }
        }
        intervals.finish()
    }

    /// Puts the visit records of one close whose outcome falls in the range, as the live store
    /// does (those of signed-off days wait beside them).
    pub(crate) fn merge_calls(
        &mut self,
        records: &[floorwatch_core::history::CallDetail],
    ) -> Result<(), StoreError> {
        call_rows::put_all(&self.tx, &self.path, records, Some(self.range))
    }

    /// Stores the rebuilt rows (and the day rows of the days they are in, recomputed from
    /// them); returns how many rows the range now has.
    pub(crate) fn commit(self) -> Result<usize, StoreError> {
        days::recompute(&self.tx, &self.path, &self.calendar, None, self.range)?;
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

/// The deltas of `closes`, those naming the same row (scope and quarter-hour) summed into one,
/// in the order each row is first named: what the closes add to each row, so that each row
/// of a gathered batch is upserted once (BENCHMARKS.md, "Eighth pass: history"). Adding the
/// sum leaves the row as adding each in turn does: every column is a sum, a maximum or a
/// minimum, and the histograms are counts ([`IntervalSums::merge`]); a sum that adds nothing
/// leaves the row as the deltas that cancel out did (deleted if it then counts nothing, absent
/// if it was). A lone close goes as it is, borrowed (the ledger hands over one delta a row).
fn combined(
    closes: &[ClosedIntervals],
) -> impl Iterator<Item = (&Scope, std::borrow::Cow<'_, IntervalSums>, Millis)> {
    use std::borrow::Cow;
    use std::collections::hash_map::Entry;
    let deltas = closes.iter().flat_map(|c| &c.deltas);
    let mut rows: Vec<(&Scope, Cow<'_, IntervalSums>, Millis)> = Vec::new();
    if closes.len() == 1 {
        rows.extend(deltas.map(|(scope, sums, start)| (scope, Cow::Borrowed(sums), *start)));
        return rows.into_iter();
    }
    let mut at: rustc_hash::FxHashMap<(&Scope, Millis), usize> = Default::default();
    for (scope, sums, start) in deltas {
        match at.entry((scope, *start)) {
            Entry::Occupied(i) => rows[*i.get()].1.to_mut().merge(sums),
            Entry::Vacant(slot) => {
                slot.insert(rows.len());
                rows.push((scope, Cow::Borrowed(sums), *start));
            }
        }
    }
    rows.into_iter()
}

/// The rows of `[from, to)` as stored, one tab-separated line each, ordered by scope and start.
pub(super) fn dump_rows(
    conn: &Connection,
    path: &Path,
    (from, to): (Millis, Millis),
) -> Result<Vec<String>, StoreError> {
    let sql = format!(
        "SELECT scope, start_ms, {}, signed_in_ms, signed_out_ms, hex(waits), hex(handles) FROM intervals
         WHERE start_ms >= ?1 AND start_ms < ?2 ORDER BY scope, start_ms",
        COLUMNS.join(", ")
    );
    let mut stmt = conn.prepare(&sql).map_err(sqlite(path))?;
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
        .map_err(sqlite(path))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sqlite(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::history::{CallDetail, VisitOutcome};

    /// Visit `v1` of call `c1` to `sales`, entered at 100 s, waiting `wait` ms (within the
    /// threshold up to 20 s), its `outcome` at `outcome_ms`.
    fn visit(wait: Millis, outcome: VisitOutcome, outcome_ms: Millis) -> CallDetail {
        CallDetail {
            id: "v1".into(),
            call: "c1".into(),
            queue: "sales".into(),
            entered_ms: 100_000,
            wait_ms: wait,
            outcome,
            outcome_ms,
            within: wait <= 20_000,
            short: false,
            agent: None,
            talk_ms: None,
            hold_ms: None,
            transferred: false,
            caller: None,
        }
    }

    fn sums(answered: u64, waits: &[u32]) -> IntervalSums {
        let mut s = IntervalSums::default();
        s.tally.answered = answered;
        s.tally.max_wait_ms = waits.iter().copied().max().map_or(-1, i64::from);
        s.waits = waits.to_vec();
        s
    }

    /// Closes merged together in one transaction (the history thread's gathered batch) leave
    /// the store as merging them one by one does: rows (a row named by two of them, samples
    /// merged), day rows and a visit's later record; the resume point is the furthest close's
    /// with the last event numbered, also when the last close numbers none (as the fifth
    /// pass's `ClosedIntervals::append` left it).
    #[test]
    fn closes_merged_together_store_what_one_by_one_stores() {
        let q = Scope::Queue("sales".into());
        let call = |wait: Millis, outcome: VisitOutcome| visit(wait, outcome, 100_000 + wait);
        let closes = [
            ClosedIntervals {
                until: 900_000,
                through_seq: Some(4),
                deltas: vec![(q.clone(), sums(2, &[1_000, 5_000]), 0)],
                calls: vec![call(1_000, VisitOutcome::Abandoned)].into(),
            },
            ClosedIntervals {
                until: 1_800_000,
                through_seq: Some(9),
                deltas: vec![
                    (q.clone(), sums(1, &[5_000]), 0),
                    (q.clone(), sums(1, &[70_000]), 900_000),
                ],
                calls: vec![call(5_000, VisitOutcome::Answered)].into(),
            },
            ClosedIntervals {
                until: 2_700_000,
                through_seq: None,
                deltas: Vec::new(),
                calls: Default::default(),
            },
        ];
        let one = tempfile::tempdir().unwrap();
        let mut one = Store::open(one.path(), &CentreCalendar::utc()).unwrap();
        for closed in &closes {
            one.merge(closed).unwrap();
        }
        let all = tempfile::tempdir().unwrap();
        let mut all = Store::open(all.path(), &CentreCalendar::utc()).unwrap();
        all.merge_all(&closes).unwrap();
        let span = (0, i64::MAX);
        assert_eq!(all.dump(span).unwrap(), one.dump(span).unwrap());
        assert_eq!(all.dump_calls(span).unwrap(), one.dump_calls(span).unwrap());
        assert_eq!(all.dump_calls(span).unwrap().len(), 1);
        assert_eq!(
            all.day_rows_without_samples("queue:sales", span).unwrap(),
            one.day_rows_without_samples("queue:sales", span).unwrap()
        );
        assert_eq!(
            all.resume_point().unwrap(),
            Some(ResumePoint {
                closed_until: 2_700_000,
                through_seq: Some(9)
            })
        );
    }

    /// A batch whose visits touch a signed-off day goes close by close: a visit changed in one
    /// close and changed back in the next leaves the first change waiting beside the sealed
    /// day, as merging them one by one does (writing only the latest record would not).
    #[test]
    fn a_batch_touching_a_signed_off_day_puts_its_visits_close_by_close() {
        let call = |wait: Millis| visit(wait, VisitOutcome::Abandoned, 200_000);
        let close = |until: Millis, wait: Millis| ClosedIntervals {
            until,
            through_seq: None,
            deltas: Vec::new(),
            calls: vec![call(wait)].into(),
        };
        let day = (0, 86_400_000);
        let covered: std::collections::BTreeSet<String> =
            ["centre", "queue:sales"].map(String::from).into();
        let date: jiff::civil::Date = "1970-01-01".parse().unwrap();
        let mut beside = Vec::new();
        for gathered in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::open(dir.path(), &CentreCalendar::utc()).unwrap();
            store.merge(&close(900_000, 100_000)).unwrap();
            store
                .sign_off((&Scope::Centre, date, day), &covered, "boss", |_, _| Ok(()))
                .unwrap();
            let later = [close(1_800_000, 150_000), close(2_700_000, 100_000)];
            if gathered {
                store.merge_all(&later).unwrap();
            } else {
                for closed in &later {
                    store.merge(closed).unwrap();
                }
            }
            let waits: Vec<i64> = store
                .conn
                .prepare("SELECT wait_ms FROM calls_after_sign_off")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            beside.push((waits, store.dump_calls((0, i64::MAX)).unwrap()));
        }
        assert_eq!(beside[0].0, vec![150_000]);
        assert_eq!(beside[1], beside[0]);
    }

    #[test]
    fn closes_merge_into_rows_and_move_the_resume_point() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), &CentreCalendar::utc()).unwrap();
        assert_eq!(store.resume_point().unwrap(), None);
        let q = Scope::Queue("sales".into());
        store
            .merge(&ClosedIntervals {
                calls: Default::default(),
                until: 900_000,
                through_seq: Some(7),
                deltas: vec![(q.clone(), sums(2, &[1_000, 5_000]), 0)],
            })
            .unwrap();
        store
            .merge(&ClosedIntervals {
                calls: Default::default(),
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
        let mut once = Store::open(other.path(), &CentreCalendar::utc()).unwrap();
        let mut all = sums(3, &[1_000, 5_000, 30_000]);
        all.tally.max_wait_ms = 30_000;
        once.merge(&ClosedIntervals {
            calls: Default::default(),
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
    fn a_scope_is_named_as_it_displays() {
        for scope in [
            "centre",
            "site:s1",
            "group:g",
            "team:t-7",
            "queue:sales",
            "agent:a0001",
        ] {
            let scope: Scope = scope.parse().unwrap();
            assert_eq!(scope_name(&scope), scope.to_string());
        }
    }

    /// Rows go to the upserts by scope name as SQLite orders it (bytes: `agent:a10` before
    /// `agent:a2`, `centre` after every agent), then start, whatever order the closes named
    /// them in; two deltas of one row (a lone close may hand both) stay in their order.
    #[test]
    fn rows_go_to_the_upserts_in_the_tables_key_order() {
        let mut keys = KeyOrder::default();
        for (at, (name, start)) in [
            ("centre", 900),
            ("agent:a2", 900),
            ("agent:a10", 900),
            ("centre", 0),
            ("agent:a2", 0),
            ("agent:a10", 0),
            ("agent:a2", 900),
        ]
        .into_iter()
        .enumerate()
        {
            keys.push(name.to_string(), start, at);
        }
        let order: Vec<(String, Millis, usize)> = keys.sorted().collect();
        let order: Vec<(&str, Millis, usize)> = order
            .iter()
            .map(|(n, s, at)| (n.as_str(), *s, *at))
            .collect();
        assert_eq!(
            order,
            [
                ("agent:a10", 0, 5),
                ("agent:a10", 900, 2),
                ("agent:a2", 0, 4),
                ("agent:a2", 900, 1),
                ("agent:a2", 900, 6),
                ("centre", 0, 3),
                ("centre", 900, 0),
            ]
        );
    }

    #[test]
    fn additions_that_cancel_out_leave_no_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), &CentreCalendar::utc()).unwrap();
        let a = Scope::Agent("a1".into());
        let mut plus = IntervalSums::default();
        plus.tally.state_ms[0] = 60_000;
        let mut minus = IntervalSums::default();
        minus.tally.state_ms[0] = -60_000;
        for s in [plus, minus] {
            store
                .merge(&ClosedIntervals {
                    calls: Default::default(),
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
