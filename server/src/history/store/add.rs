//! Adding a close's deltas to the rows in place (docs/HISTORY.md, "The store"): upserts whose
//! `ON CONFLICT` clause adds each column in SQL, instead of reading the row, decoding it, adding
//! in Rust and writing it back; [`MANY`] rows a statement.
//!
//! Why: the history thread merges every scope's quarter-hour at every close (5,331 scopes on the
//! large floor), and a replay squeezes a day of closes into seconds; the read-modify-write with
//! a statement formatted per call was a quarter of the server's CPU in a replay (BENCHMARKS.md,
//! "Fourth pass: history"), and a statement per row with a read of the row's histograms before
//! it was still most of the history thread's time ("Fifth pass: history"). The rows end
//! exactly as [`IntervalRow::add`] makes them (sums, longest wait, earliest sign-in, latest
//! sign-out; a delta's samples go in as a histogram of their own, merged with the stored one in
//! SQLite by [`MERGE_HISTOGRAMS`] only when the row is there already): the unit test compares
//! the two paths row for row over random closes.
//!
//! [`IntervalRow::add`]: floorwatch_core::history::IntervalRow::add

use std::path::Path;
use std::sync::LazyLock;

use floorwatch_core::Millis;
use floorwatch_core::history::{IntervalSums, Samples};
use rusqlite::functions::FunctionFlags;
use rusqlite::{CachedStatement, Connection, params};

use super::error::{StoreError, sqlite};
use super::rows::{COLUMNS, Table, encode_histogram, encode_ints, merge_histograms};
use super::sparse;

/// A histogram's V2 bytes (NULL when it holds no sample).
type Histogram = Option<Vec<u8>>;

/// The index of `max_wait_ms` in [`COLUMNS`]: a maximum (−1 when no outcome), not a sum.
const MAX_WAIT: usize = 9;

/// Rows one upsert writes (36 values each, far under SQLite's 32,766 a statement): the
/// statement's own cost (bind, step, reset) is paid once for them.
const MANY: usize = 32;
/// The statements' sizes: [`MANY`], then what is left over at the end of a table's rows goes
/// 16, 8, 4, 2 and 1 rows a statement, five statements at most (a close of the small floor
/// names a dozen rows a table, which went one statement each: BENCHMARKS.md, "Sixth pass:
/// history"); six statements a table are prepared and cached.
const SIZES: [usize; 6] = [MANY, 16, 8, 4, 2, 1];

/// The SQL function that merges a stored histogram with a delta's (both V2 bytes), registered
/// on the writer's connection ([`register`]).
pub(super) const MERGE_HISTOGRAMS: &str = "floorwatch_merge_histograms";

/// Registers [`MERGE_HISTOGRAMS`] on `conn`, the store's writing connection.
pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        MERGE_HISTOGRAMS,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let blob = |i: usize| {
                ctx.get_raw(i)
                    .as_blob()
                    .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
            };
            let (stored, added) = (blob(0)?, blob(1)?);
            merge_histograms(stored, added)
                .map_err(|reason| rusqlite::Error::UserFunctionError(reason.into()))
        },
    )
}

/// The statements of one table, written once.
struct Statements {
    /// For each of [`SIZES`]: inserts that many deltas as rows, or adds each to the row
    /// there; returns, for each, the row's key and whether it then counts nothing.
    upserts: [String; SIZES.len()],
    /// The same without `RETURNING`, for deltas that cannot leave a row counting nothing
    /// ([`Row::keeps_row`]): SQLite runs `RETURNING` as a trigger a row, filling a table the
    /// statement then reads back, and most of a replay's deltas have samples, a sign-in or a
    /// wait (BENCHMARKS.md, "Seventh pass: history").
    upserts_kept: [String; SIZES.len()],
    /// Deletes the row if it counts nothing.
    delete_empty: String,
}

impl Statements {
    fn new(table: Table) -> Statements {
        let t = table.name();
        let columns = COLUMNS.join(", ");
        let values = |rows: usize| -> String {
            let width = COLUMNS.len() + 6;
            (0..rows)
                .map(|r| {
                    let row: Vec<String> =
                        (1..=width).map(|i| format!("?{}", r * width + i)).collect();
                    format!("({})", row.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let added: Vec<String> = COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == MAX_WAIT {
                    format!("{c} = max({c}, excluded.{c})")
                } else {
                    format!("{c} = {c} + excluded.{c}")
                }
            })
            .collect();
        let zero: Vec<String> = COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == MAX_WAIT {
                    format!("{c} = -1")
                } else {
                    format!("{c} = 0")
                }
            })
            .collect();
        let empty = format!(
            "{} AND signed_in_ms IS NULL AND signed_out_ms IS NULL AND waits IS NULL AND handles IS NULL",
            zero.join(" AND ")
        );
        let merged = |h: &str| {
            format!(
                "{h} = CASE WHEN excluded.{h} IS NULL THEN {h} WHEN {h} IS NULL THEN excluded.{h}
                 ELSE {MERGE_HISTOGRAMS}({h}, excluded.{h}) END"
            )
        };
        let upsert = |rows: usize, returning: &str| {
            format!(
                "INSERT INTO {t} (scope, start_ms, {columns}, signed_in_ms, signed_out_ms, waits, handles)
                 VALUES {}
                 ON CONFLICT (scope, start_ms) DO UPDATE SET {},
                 signed_in_ms = coalesce(min(signed_in_ms, excluded.signed_in_ms), signed_in_ms, excluded.signed_in_ms),
                 signed_out_ms = coalesce(max(signed_out_ms, excluded.signed_out_ms), signed_out_ms, excluded.signed_out_ms),
                 {}, {}
                 {returning}",
                values(rows),
                added.join(", "),
                merged("waits"),
                merged("handles"),
            )
        };
        let returning = format!("RETURNING scope, start_ms, {empty}");
        Statements {
            upserts: SIZES.map(|rows| upsert(rows, &returning)),
            upserts_kept: SIZES.map(|rows| upsert(rows, "")),
            delete_empty: format!("DELETE FROM {t} WHERE scope = ?1 AND start_ms = ?2 AND {empty}"),
        }
    }
}

static STATEMENTS: LazyLock<[Statements; 3]> = LazyLock::new(|| {
    [
        Statements::new(Table::Intervals),
        Statements::new(Table::AfterSignOff),
        Statements::new(Table::Days),
    ]
});

fn statements(table: Table) -> &'static Statements {
    &STATEMENTS[match table {
        Table::Intervals => 0,
        Table::AfterSignOff => 1,
        Table::Days => 2,
    }]
}

/// A delta as it is bound: the row's key, its integer columns, sign-in and sign-out, and the
/// histograms of its samples alone.
struct Row {
    scope: String,
    start: Millis,
    ints: [i64; 29],
    signed: (Option<Millis>, Option<Millis>),
    waits: Histogram,
    handles: Histogram,
}

impl Row {
    /// Whether the row this delta is added to counts something whatever it held before, and
    /// whatever later deltas of the same batch add: a histogram (samples), a sign-in or
    /// sign-out, or a longest wait (an outcome) never goes back to NULL or −1 in an upsert.
    /// Such a row is never deleted as cancelled out, so its upsert returns nothing.
    fn keeps_row(&self) -> bool {
        self.waits.is_some()
            || self.handles.is_some()
            || self.signed.0.is_some()
            || self.signed.1.is_some()
            || self.ints[MAX_WAIT] >= 0
    }
}

/// Adds deltas to the rows of one table, [`MANY`] a statement, its statements prepared once;
/// [`Adder::finish`] writes what is left and removes the rows whose additions cancelled out.
pub(super) struct Adder<'c> {
    conn: &'c Connection,
    path: &'c Path,
    sql: &'static Statements,
    /// Deltas that may leave their row counting nothing, upserted with `RETURNING`.
    rows: Vec<Row>,
    /// Deltas that keep their row ([`Row::keeps_row`]), upserted without. The two go in
    /// separate statements, each in the order added: a delta of `rows` adds no sample, so the
    /// histograms of a row are merged in the order added, and sums, longest wait, earliest
    /// sign-in and latest sign-out come out the same in any order.
    kept: Vec<Row>,
    /// Rows that counted nothing after some upsert: deleted at the end if they still do.
    emptied: Vec<(String, Millis)>,
    /// The [`MANY`]-row upserts with and without `RETURNING`, held from their first use to
    /// the adder's end: taken from rusqlite's statement cache for each statement, each was
    /// looked up, and put back, by its text of some 10 KB (BENCHMARKS.md, "Tenth pass:
    /// history").
    many: [Option<CachedStatement<'c>>; 2],
}

impl<'c> Adder<'c> {
    /// An adder to `table` through `conn` (a write transaction's).
    pub(super) fn new(
        conn: &'c Connection,
        path: &'c Path,
        table: Table,
    ) -> Result<Self, StoreError> {
        Ok(Adder {
            conn,
            path,
            sql: statements(table),
            rows: Vec::with_capacity(MANY),
            kept: Vec::with_capacity(MANY),
            emptied: Vec::new(),
            many: [None, None],
        })
    }

    /// Adds `sums` to the row of `scope` at `start` (creating it), as
    /// [`IntervalRow::add`](floorwatch_core::history::IntervalRow::add) would; a row whose
    /// additions cancel out is deleted by [`Adder::finish`] (a quarter-hour without a row reads
    /// as zeros).
    pub(super) fn add(
        &mut self,
        (scope, start): (String, Millis),
        sums: &IntervalSums,
    ) -> Result<(), StoreError> {
        // Nothing added leaves the row, or its absence, as it is.
        if *sums == IntervalSums::default() {
            return Ok(());
        }
        let histogram = |added: &[u32]| -> Histogram {
            if added.is_empty() {
                // NULL keeps what is stored.
                return None;
            }
            // Straight from the few samples, not through a full histogram (`super::sparse`).
            match sparse::counts_of(added) {
                Some(counts) => sparse::encode(&counts),
                None => {
                    let mut samples = Samples::default();
                    for &ms in added {
                        samples.record(ms);
                    }
                    encode_histogram(&samples)
                }
            }
        };
        let row = Row {
            scope,
            start,
            ints: encode_ints(&sums.tally, &sums.not_ready_ms),
            signed: (sums.signed_in_at, sums.signed_out_at),
            waits: histogram(&sums.waits),
            handles: histogram(&sums.handles),
        };
        let kept = row.keeps_row();
        let held = self.held(kept);
        held.push(row);
        if held.len() == MANY {
            self.upsert(kept, 0)?;
        }
        Ok(())
    }

    /// The deltas held for one kind of upsert: those that keep their row ([`Adder::kept`]) or
    /// the others ([`Adder::rows`]).
    fn held(&mut self, kept: bool) -> &mut Vec<Row> {
        if kept { &mut self.kept } else { &mut self.rows }
    }

    /// Writes the rows not written yet, then deletes those whose additions cancelled out (a
    /// late state change taking back time credited at a close), as a rebuild would leave none.
    pub(super) fn finish(mut self) -> Result<(), StoreError> {
        let path = self.path;
        for kept in [false, true] {
            let mut rest = std::mem::take(self.held(kept)).into_iter();
            for (size_at, &size) in SIZES.iter().enumerate().skip(1) {
                while rest.len() >= size {
                    self.held(kept).extend(rest.by_ref().take(size));
                    self.upsert(kept, size_at)?;
                }
            }
        }
        if self.emptied.is_empty() {
            return Ok(());
        }
        let mut delete = self
            .conn
            .prepare_cached(&self.sql.delete_empty)
            .map_err(sqlite(path))?;
        for (scope, start) in &self.emptied {
            delete
                .execute(params![scope, start])
                .map_err(sqlite(path))?;
        }
        Ok(())
    }

    /// Upserts the deltas held of one kind ([`Adder::held`]) with the statement for
    /// `SIZES[size_at]` of them, in order: a row named twice is added twice, the second time
    /// to what the first left. Those that may leave their row counting nothing go through
    /// `RETURNING`, which notes such rows for [`Adder::finish`].
    fn upsert(&mut self, kept: bool, size_at: usize) -> Result<(), StoreError> {
        let path = self.path;
        let sql = if kept {
            &self.sql.upserts_kept[size_at]
        } else {
            &self.sql.upserts[size_at]
        };
        // The many-row statement is held ([`Adder::many`]); the others come from the cache.
        let held = &mut self.many[usize::from(kept)];
        let taken = if size_at == 0 { held.take() } else { None };
        let mut stmt = match taken {
            Some(stmt) => stmt,
            None => self.conn.prepare_cached(sql).map_err(sqlite(path))?,
        };
        if kept {
            bind(&mut stmt, &self.kept).map_err(sqlite(path))?;
            stmt.raw_execute().map_err(sqlite(path))?;
            self.kept.clear();
        } else {
            bind(&mut stmt, &self.rows).map_err(sqlite(path))?;
            let mut out = stmt.raw_query();
            while let Some(r) = out.next().map_err(sqlite(path))? {
                let empty: bool = r.get(2).map_err(sqlite(path))?;
                if empty {
                    let scope: String = r.get(0).map_err(sqlite(path))?;
                    self.emptied.push((scope, r.get(1).map_err(sqlite(path))?));
                }
            }
            drop(out);
            self.rows.clear();
        }
        if size_at == 0 {
            *held = Some(stmt);
        }
        Ok(())
    }
}

/// Binds the values of `rows` to the upsert's placeholders, in order, each with its own type:
/// not through a list of `&dyn ToSql`, which built and matched a value per placeholder (36 a
/// row, 7 to 8 million a replay of the large day: BENCHMARKS.md, "Tenth pass: history").
fn bind(stmt: &mut rusqlite::Statement<'_>, rows: &[Row]) -> rusqlite::Result<()> {
    let mut at = 1;
    for row in rows {
        stmt.raw_bind_parameter(at, row.scope.as_str())?;
        stmt.raw_bind_parameter(at + 1, row.start)?;
        at += 2;
        for &value in &row.ints {
            stmt.raw_bind_parameter(at, value)?;
            at += 1;
        }
        stmt.raw_bind_parameter(at, row.signed.0)?;
        stmt.raw_bind_parameter(at + 1, row.signed.1)?;
        stmt.raw_bind_parameter(at + 2, row.waits.as_deref())?;
        stmt.raw_bind_parameter(at + 3, row.handles.as_deref())?;
        at += 4;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use floorwatch_core::Scope;
    use floorwatch_core::calendar::CentreCalendar;
    use floorwatch_core::history::QUARTER_HOUR_MS;
    use rusqlite::types::Value;

    use super::super::Store;
    use super::super::rows::{immediate, merge_delta};
    use super::super::test_rng::Rng;
    use super::*;
    use crate::history::closed::ClosedIntervals;

    /// A delta as closes hand them over: calls' counts, state time (sometimes taking back
    /// what an earlier delta credited, to the millisecond), samples, sign-in and sign-out.
    fn delta(rng: &mut Rng, start: Millis, credited: &mut Vec<(usize, i64)>) -> IntervalSums {
        let mut s = IntervalSums::default();
        match rng.below(5) {
            // A take-back of an earlier credit: the row may end with nothing.
            0 if !credited.is_empty() => {
                let (state, ms) = credited.swap_remove(rng.below(credited.len() as u64) as usize);
                s.tally.state_ms[state] = -ms;
            }
            // Pure state time.
            1 => {
                let state = rng.below(6) as usize;
                let ms = 1 + rng.below(900_000) as i64;
                s.tally.state_ms[state] = ms;
                credited.push((state, ms));
            }
            // Nothing at all (a scope touched and left as it was).
            2 => {}
            _ => {
                let waits = rng.below(4);
                for _ in 0..waits {
                    s.waits.push(rng.below(600_000) as u32);
                }
                s.tally.answered = waits;
                s.tally.answered_within = rng.below(waits + 1);
                s.tally.answered_wait_ms = s.waits.iter().map(|&w| i64::from(w)).sum();
                s.tally.max_wait_ms = s.waits.iter().copied().max().map_or(-1, i64::from);
                if rng.chance(5) {
                    s.handles.push(rng.below(3_600_000) as u32);
                    s.tally.handled = 1;
                    s.tally.talk_ms = rng.below(3_000_000) as i64;
                }
                s.not_ready_ms[rng.below(7) as usize] = rng.below(900_000) as i64;
                if rng.chance(3) {
                    s.signed_in_at = Some(start + rng.below(900_000) as i64);
                }
                if rng.chance(3) {
                    s.signed_out_at = Some(start + rng.below(900_000) as i64);
                }
            }
        }
        s
    }

    /// Every row of `table` as stored, every column (histograms as bytes), by scope and start.
    fn dump(conn: &Connection, table: &str) -> Vec<Vec<Value>> {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY scope, start_ms"))
            .unwrap();
        let columns = stmt.column_count();
        stmt.query_map([], |r| (0..columns).map(|i| r.get::<_, Value>(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// A delta that keeps its row (a sample) goes in a statement without `RETURNING`: a row
    /// given one in the batch that takes its state time back stays (its histogram), one
    /// whose only later delta takes it back goes, whichever statement ran first.
    #[test]
    fn a_take_back_beside_a_sample_keeps_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), &CentreCalendar::utc()).unwrap();
        let (a1, a2) = (Scope::Agent("a1".into()), Scope::Agent("a2".into()));
        let state = |ms: i64| {
            let mut s = IntervalSums::default();
            s.tally.state_ms[0] = ms;
            s
        };
        let handled = {
            let mut s = IntervalSums::default();
            s.handles.push(60_000);
            s.tally.handled = 1;
            s
        };
        let close = |until: Millis, deltas: Vec<(Scope, IntervalSums, Millis)>| ClosedIntervals {
            until,
            through_seq: None,
            deltas,
            calls: Default::default(),
        };
        store
            .merge(&close(
                QUARTER_HOUR_MS,
                vec![
                    (a1.clone(), state(60_000), 0),
                    (a2.clone(), state(60_000), 0),
                ],
            ))
            .unwrap();
        // The sample is added before the take-back and after it.
        store
            .merge_all(&[
                close(
                    2 * QUARTER_HOUR_MS,
                    vec![
                        (a1.clone(), handled.clone(), 0),
                        (a2.clone(), state(-60_000), 0),
                    ],
                ),
                close(3 * QUARTER_HOUR_MS, vec![(a1.clone(), state(-60_000), 0)]),
            ])
            .unwrap();
        let rows = store.dump((0, Millis::MAX)).unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(rows[0].starts_with("agent:a1\t0\t"));
        let kept = store.rows("agent:a1", (0, QUARTER_HOUR_MS)).unwrap();
        assert_eq!(kept[0].1.tally.handled, 1);
        assert_eq!(kept[0].1.tally.state_ms[0], 0);
        assert_eq!(kept[0].1.handles.len(), 1);
    }

    /// The upserts leave every row, quarter-hour and day, exactly as the read-modify-write
    /// they replace: the same closes into two stores, compared column by column (a row
    /// cancelled out is absent from both).
    #[test]
    fn adding_in_place_stores_what_read_modify_write_stored() {
        let new_york = CentreCalendar::new("America/New_York", "00:00").unwrap();
        // Enough scopes that a close fills the many-row upsert ([`MANY`]) and leaves some over.
        let scopes: Vec<String> = ["centre".to_string(), "queue:q".to_string()]
            .into_iter()
            .chain((1..=12).map(|a| format!("agent:a{a}")))
            .collect();
        // Quarter-hours either side of a New York midnight (05:00Z).
        let day = 1_772_946_000_000;
        let quarters: Vec<Millis> = (-3..4).map(|i| day + i * QUARTER_HOUR_MS).collect();
        let mut cancelled = 0;
        for seed in 1..=40u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let upserted = tempfile::tempdir().unwrap();
            let mut upserted = Store::open(upserted.path(), &new_york).unwrap();
            let reference = tempfile::tempdir().unwrap();
            let mut reference = Store::open(reference.path(), &new_york).unwrap();
            let mut credited: Vec<Vec<(usize, i64)>> = vec![Vec::new(); scopes.len() * 8];
            let mut touched = std::collections::HashSet::new();
            // The upserted store gets the closes gathered in runs of up to three, as the history
            // thread writes a replay's (`Store::merge_all`): a row may be named more than once
            // in a transaction, even in one statement.
            let mut gathered: Vec<ClosedIntervals> = Vec::new();
            for close in 0..12 {
                let mut deltas = Vec::new();
                for (si, scope) in scopes.iter().enumerate() {
                    for (qi, &start) in quarters.iter().enumerate() {
                        if rng.chance(4) {
                            let d = delta(&mut rng, start, &mut credited[si * 8 + qi]);
                            if d != IntervalSums::default() {
                                touched.insert((si, qi));
                            }
                            deltas.push((scope.parse::<Scope>().unwrap(), d, start));
                        }
                    }
                }
                let closed = ClosedIntervals {
                    until: day + close * QUARTER_HOUR_MS,
                    through_seq: Some(close as u64),
                    deltas,
                    calls: Default::default(),
                };
                gathered.push(closed.clone());
                if (close + seed as i64) % 3 == 2 || close == 11 {
                    upserted.merge_all(&gathered).unwrap();
                    gathered.clear();
                }
                let path = reference.path.clone();
                let tx = immediate(&mut reference.conn, &path).unwrap();
                for (scope, sums, start) in &closed.deltas {
                    let scope = scope.to_string();
                    merge_delta(&tx, &path, Table::Intervals, &scope, *start, sums).unwrap();
                    let without = IntervalSums {
                        waits: Vec::new(),
                        handles: Vec::new(),
                        ..sums.clone()
                    };
                    let day = new_york.day_start(*start);
                    merge_delta(&tx, &path, Table::Days, &scope, day, &without).unwrap();
                }
                tx.commit().unwrap();
            }
            for table in ["intervals", "days"] {
                assert_eq!(
                    dump(&upserted.conn, table),
                    dump(&reference.conn, table),
                    "{table}, seed {seed}"
                );
            }
            let rows = dump(&reference.conn, "intervals").len();
            cancelled += touched.len() - rows;
        }
        // The cases include rows whose additions cancelled out.
        assert!(cancelled > 0);
    }
}
