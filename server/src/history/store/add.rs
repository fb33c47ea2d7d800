//! Adding a close's deltas to the rows in place (docs/HISTORY.md, "The store"): one upsert per
//! row whose `ON CONFLICT` clause adds each column in SQL, instead of reading the row, decoding
//! it, adding in Rust and writing it back.
//!
//! Why: the history thread merges every scope's quarter-hour at every close (5,331 scopes on the
//! large floor), and a replay squeezes a day of closes into seconds; the read-modify-write with
//! a statement formatted per call was a quarter of the server's CPU in a replay (BENCHMARKS.md,
//! "Fourth pass: history"). The rows end exactly as [`IntervalRow::add`] makes them (sums,
//! longest wait, earliest sign-in, latest sign-out; the histograms merged in Rust, the only part
//! SQL cannot add, and only when the delta has samples): the unit test compares the two paths
//! row for row over random closes.

use std::path::Path;
use std::sync::LazyLock;

use floorwatch_core::Millis;
use floorwatch_core::history::{IntervalSums, Samples};
use rusqlite::{CachedStatement, Connection, OptionalExtension, ToSql, params};

use super::error::{StoreError, sqlite};
use super::rows::{COLUMNS, Table, decode_histogram, encode_histogram, encode_ints};

/// A stored histogram's V2 bytes (NULL when it holds no sample).
type Histogram = Option<Vec<u8>>;

/// The index of `max_wait_ms` in [`COLUMNS`]: a maximum (−1 when no outcome), not a sum.
const MAX_WAIT: usize = 9;

/// The statements of one table, written once.
struct Statements {
    /// The row's histograms, to merge a delta's samples into.
    histograms: String,
    /// Inserts the delta as a row, or adds it to the row there; returns whether the row now
    /// counts nothing.
    upsert: String,
    /// Deletes the row.
    delete: String,
}

impl Statements {
    fn new(table: Table) -> Statements {
        let t = table.name();
        let columns = COLUMNS.join(", ");
        let placeholders: Vec<String> = (1..=COLUMNS.len() + 6).map(|i| format!("?{i}")).collect();
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
        Statements {
            histograms: format!("SELECT waits, handles FROM {t} WHERE scope = ?1 AND start_ms = ?2"),
            upsert: format!(
                "INSERT INTO {t} (scope, start_ms, {columns}, signed_in_ms, signed_out_ms, waits, handles)
                 VALUES ({})
                 ON CONFLICT (scope, start_ms) DO UPDATE SET {},
                 signed_in_ms = coalesce(min(signed_in_ms, excluded.signed_in_ms), signed_in_ms, excluded.signed_in_ms),
                 signed_out_ms = coalesce(max(signed_out_ms, excluded.signed_out_ms), signed_out_ms, excluded.signed_out_ms),
                 waits = coalesce(excluded.waits, waits),
                 handles = coalesce(excluded.handles, handles)
                 RETURNING {} AND signed_in_ms IS NULL AND signed_out_ms IS NULL
                     AND waits IS NULL AND handles IS NULL",
                placeholders.join(", "),
                added.join(", "),
                zero.join(" AND "),
            ),
            delete: format!("DELETE FROM {t} WHERE scope = ?1 AND start_ms = ?2"),
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

/// Adds deltas to the rows of one table, its statements prepared once for a whole close
/// (looking a statement up by its text for every row was a few percent of the thread).
pub(super) struct Adder<'c> {
    path: &'c Path,
    histograms: CachedStatement<'c>,
    upsert: CachedStatement<'c>,
    delete: CachedStatement<'c>,
}

impl<'c> Adder<'c> {
    /// An adder to `table` through `conn` (a write transaction's).
    pub(super) fn new(
        conn: &'c Connection,
        path: &'c Path,
        table: Table,
    ) -> Result<Self, StoreError> {
        let sql = statements(table);
        let prepare = |sql: &str| conn.prepare_cached(sql).map_err(sqlite(path));
        Ok(Adder {
            path,
            histograms: prepare(&sql.histograms)?,
            upsert: prepare(&sql.upsert)?,
            delete: prepare(&sql.delete)?,
        })
    }

    /// Adds `sums` to the row of `scope` at `start` (creating it), as
    /// [`IntervalRow::add`](floorwatch_core::history::IntervalRow::add) would; a row whose
    /// additions cancel out is deleted (a quarter-hour without a row reads as zeros).
    pub(super) fn add(
        &mut self,
        (scope, start): (&str, Millis),
        sums: &IntervalSums,
    ) -> Result<(), StoreError> {
        // Nothing added leaves the row, or its absence, as it is.
        if *sums == IntervalSums::default() {
            return Ok(());
        }
        let path = self.path;
        let (waits, handles) = if sums.waits.is_empty() && sums.handles.is_empty() {
            (None, None)
        } else {
            let stored: Option<(Histogram, Histogram)> = self
                .histograms
                .query_row(params![scope, start], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(sqlite(path))?;
            let (stored_waits, stored_handles) = stored.unwrap_or_default();
            let merged = |stored: Option<Vec<u8>>, added: &[u32]| -> Result<_, StoreError> {
                if added.is_empty() {
                    // NULL keeps what is stored (`coalesce` in the upsert).
                    return Ok(None);
                }
                let mut samples = match stored {
                    Some(bytes) => decode_histogram(path, (scope, start), &bytes)?,
                    None => Samples::default(),
                };
                for &ms in added {
                    samples.record(ms);
                }
                Ok(encode_histogram(&samples))
            };
            (
                merged(stored_waits, &sums.waits)?,
                merged(stored_handles, &sums.handles)?,
            )
        };
        let ints = encode_ints(&sums.tally, &sums.not_ready_ms);
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(COLUMNS.len() + 6);
        values.push(&scope);
        values.push(&start);
        values.extend(ints.iter().map(|v| v as &dyn ToSql));
        values.push(&sums.signed_in_at);
        values.push(&sums.signed_out_at);
        values.push(&waits);
        values.push(&handles);
        let empty: bool = self
            .upsert
            .query_row(values.as_slice(), |r| r.get(0))
            .map_err(sqlite(path))?;
        // A row whose additions cancelled out (a late state change taking back time credited
        // at a close) leaves none, as a rebuild would.
        if empty {
            self.delete
                .execute(params![scope, start])
                .map_err(sqlite(path))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use floorwatch_core::Scope;
    use floorwatch_core::calendar::CentreCalendar;
    use floorwatch_core::history::QUARTER_HOUR_MS;
    use rusqlite::types::Value;

    use super::super::Store;
    use super::super::rows::{immediate, merge_delta};
    use super::*;
    use crate::history::closed::ClosedIntervals;

    /// A small deterministic generator (xorshift64*): the cases are the same every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn chance(&mut self, in_ten: u64) -> bool {
            self.below(10) < in_ten
        }
    }

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

    /// The upserts leave every row, quarter-hour and day, exactly as the read-modify-write
    /// they replace: the same closes into two stores, compared column by column (a row
    /// cancelled out is absent from both).
    #[test]
    fn adding_in_place_stores_what_read_modify_write_stored() {
        let new_york = CentreCalendar::new("America/New_York", "00:00").unwrap();
        let scopes = ["centre", "queue:q", "agent:a1", "agent:a2"];
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
            let mut credited: Vec<Vec<(usize, i64)>> = vec![Vec::new(); 64];
            let mut touched = std::collections::HashSet::new();
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
                    calls: Vec::new(),
                };
                upserted.merge(&closed).unwrap();
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
