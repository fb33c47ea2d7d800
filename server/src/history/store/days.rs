//! Day rows: for every scope and centre day, the merge of that day's quarter-hour rows
//! (docs/HISTORY.md, "The store"). Nothing a report cannot compute from the quarter-hours; they
//! are kept because a report over whole days reads one row a day instead of ~96 (the agent
//! report of 5,000 agents for a month: 150,000 rows instead of 7 million).
//!
//! Invariant: a day row equals the merge ([`IntervalRow::merge`]: sums, minimum sign-in,
//! maximum sign-out and longest wait, all order-free) of the `intervals` rows starting in that
//! day of the centre's calendar, **without their percentile samples**: a day's percentiles are
//! merged from its quarter-hours' histograms when a report asks, and keeping a day histogram in
//! step would decode and encode two 26 KB histograms for every scope at every close (the
//! history thread's largest cost in a replay). A close adds its deltas to both; an
//! amendment, a rebuild and a prune recompute the days they touched from the quarter-hours;
//! a store opened with another calendar (time zone or reset time changed in the config)
//! recomputes every day row, and says so in the log.

use std::path::Path;

use floorwatch_core::calendar::CentreCalendar;
use floorwatch_core::history::{IntervalRow, IntervalSums, Samples};
use floorwatch_core::{Millis, Scope};
use rusqlite::{Connection, OptionalExtension, params};
use rustc_hash::FxHashMap;

use super::add::Adder;
use super::error::{StoreError, sqlite};
use super::rows::{COLUMNS, Table, decode, raw_row, read_row, write_row};

/// A batch's additions to the day rows, summed in memory by scope and centre day: a close
/// touches a scope's day through one or a few quarter-hours (the one closed, late ones), and
/// each day row is then written with one statement, not once per quarter-hour. The scopes are
/// borrowed from the closes (a scope's name is made once, when its day row is written).
#[derive(Default)]
pub(super) struct DayAdditions<'a> {
    at: FxHashMap<(&'a Scope, Millis), usize>,
    sums: Vec<((&'a Scope, Millis), IntervalSums)>,
}

impl<'a> DayAdditions<'a> {
    /// Notes `sums` (a quarter-hour's, of `scope`) for its day starting at `day`; its sums,
    /// not its samples (a day row keeps none).
    pub(super) fn note(&mut self, scope: &'a Scope, day: Millis, sums: &IntervalSums) {
        let key = (scope, day);
        match self.at.get(&key) {
            Some(&i) => {
                let mine = &mut self.sums[i].1;
                mine.tally.add(&sums.tally);
                for (m, t) in mine.not_ready_ms.iter_mut().zip(sums.not_ready_ms) {
                    *m += t;
                }
                mine.signed_in_at = match (mine.signed_in_at, sums.signed_in_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                mine.signed_out_at = mine.signed_out_at.max(sums.signed_out_at);
            }
            None => {
                self.at.insert(key, self.sums.len());
                self.sums.push((
                    key,
                    IntervalSums {
                        tally: sums.tally,
                        not_ready_ms: sums.not_ready_ms,
                        waits: Vec::new(),
                        handles: Vec::new(),
                        signed_in_at: sums.signed_in_at,
                        signed_out_at: sums.signed_out_at,
                    },
                ));
            }
        }
    }

    /// Adds what was noted to the day rows.
    pub(super) fn add(self, conn: &Connection, path: &Path) -> Result<(), StoreError> {
        // In the key's order, as the quarter-hours (`super::key_order::KeyOrder`).
        let mut keys = super::key_order::KeyOrder::default();
        for (at, ((scope, day), _)) in self.sums.iter().enumerate() {
            keys.push(super::key_order::scope_name(scope), *day, at);
        }
        let mut days = Adder::new(conn, path, Table::Days)?;
        for (name, day, at) in keys.sorted() {
            days.add((name, day), &self.sums[at].1)?;
        }
        days.finish()
    }
}

/// `row` without its percentile samples: what a day row keeps.
fn without_samples(mut row: IntervalRow) -> IntervalRow {
    row.waits = Samples::default();
    row.handles = Samples::default();
    row
}

/// Recomputes the day rows of the days overlapping `[from, to)`, of `scope` or of every scope,
/// from the quarter-hour rows.
pub(super) fn recompute(
    conn: &Connection,
    path: &Path,
    calendar: &CentreCalendar,
    scope: Option<&str>,
    (from, to): (Millis, Millis),
) -> Result<usize, StoreError> {
    if from >= to {
        return Ok(0);
    }
    let from = calendar.day_start(from);
    let to = calendar.next_day_start(to - 1);
    let columns = COLUMNS.join(", ");
    let (delete, select) = match scope {
        Some(_) => (
            "DELETE FROM days WHERE scope = ?3 AND start_ms >= ?1 AND start_ms < ?2".to_string(),
            format!(
                "SELECT scope, start_ms, {columns}, signed_in_ms, signed_out_ms, NULL, NULL
                 FROM intervals WHERE scope = ?3 AND start_ms >= ?1 AND start_ms < ?2
                 ORDER BY scope, start_ms"
            ),
        ),
        None => (
            "DELETE FROM days WHERE start_ms >= ?1 AND start_ms < ?2".to_string(),
            format!(
                "SELECT scope, start_ms, {columns}, signed_in_ms, signed_out_ms, NULL, NULL
                 FROM intervals WHERE start_ms >= ?1 AND start_ms < ?2
                 ORDER BY scope, start_ms"
            ),
        ),
    };
    let bind = |stmt: &mut rusqlite::Statement<'_>| -> rusqlite::Result<()> {
        stmt.raw_bind_parameter(1, from)?;
        stmt.raw_bind_parameter(2, to)?;
        if let Some(scope) = scope {
            stmt.raw_bind_parameter(3, scope)?;
        }
        Ok(())
    };
    let mut stmt = conn.prepare(&delete).map_err(sqlite(path))?;
    bind(&mut stmt).map_err(sqlite(path))?;
    stmt.raw_execute().map_err(sqlite(path))?;

    let mut stmt = conn.prepare(&select).map_err(sqlite(path))?;
    bind(&mut stmt).map_err(sqlite(path))?;
    let mut rows = stmt.raw_query();
    let mut current: Option<(String, Millis, IntervalRow)> = None;
    let mut written = 0;
    while let Some(r) = rows.next().map_err(sqlite(path))? {
        let scope: String = r.get(0).map_err(sqlite(path))?;
        let start: Millis = r.get(1).map_err(sqlite(path))?;
        let row = decode(path, &scope, start, raw_row(r, 2).map_err(sqlite(path))?)?;
        let day = calendar.day_start(start);
        match &mut current {
            Some((s, d, sum)) if *s == scope && *d == day => sum.merge(&row),
            _ => {
                if let Some((s, d, sum)) = current.take() {
                    write_row(conn, path, Table::Days, &s, d, &sum)?;
                    written += 1;
                }
                current = Some((scope, day, row));
            }
        }
    }
    if let Some((s, d, sum)) = current {
        write_row(conn, path, Table::Days, &s, d, &sum)?;
        written += 1;
    }
    Ok(written)
}

/// Makes the day rows follow `calendar`: when the store's days were cut by another calendar
/// (or by none: a store from before day rows), every day row is recomputed.
pub(super) fn align(
    conn: &Connection,
    path: &Path,
    calendar: &CentreCalendar,
) -> Result<(), StoreError> {
    let wanted = calendar.describe();
    let stored: Option<String> = conn
        .query_row("SELECT calendar FROM day_calendar WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(sqlite(path))?;
    if stored.as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let span: (Option<Millis>, Option<Millis>) = conn
        .query_row(
            "SELECT min(start_ms), max(start_ms) FROM intervals",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(sqlite(path))?;
    conn.execute("DELETE FROM days", []).map_err(sqlite(path))?;
    let days = match span {
        (Some(first), Some(last)) => recompute(conn, path, calendar, None, (first, last + 1))?,
        _ => 0,
    };
    conn.execute(
        "INSERT INTO day_calendar (id, calendar) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET calendar = ?1",
        params![wanted],
    )
    .map_err(sqlite(path))?;
    if stored.is_some() || days > 0 {
        tracing::info!(
            was = stored.as_deref().unwrap_or("none"),
            now = %wanted,
            day_rows = days,
            took_ms = started.elapsed().as_millis() as u64,
            "history's day rows recomputed for the centre's calendar"
        );
    }
    Ok(())
}

/// Adds an amendment's row (a quarter-hour's late additions) to its day row.
pub(super) fn add_row(
    conn: &Connection,
    path: &Path,
    calendar: &CentreCalendar,
    scope: &str,
    start: Millis,
    late: &IntervalRow,
) -> Result<(), StoreError> {
    let day = calendar.day_start(start);
    let mut row = read_row(conn, path, Table::Days, scope, day)?.unwrap_or_default();
    row.merge(late);
    write_row(conn, path, Table::Days, scope, day, &without_samples(row))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use floorwatch_core::history::QUARTER_HOUR_MS;
    use floorwatch_core::{Scope, ServiceLevelSettings};

    use super::super::Store;
    use super::*;
    use crate::history::closed::ClosedIntervals;

    fn sums(answered: u64, wait: u32, signed_in: Option<Millis>) -> IntervalSums {
        let mut s = IntervalSums::default();
        s.tally.answered = answered;
        s.tally.max_wait_ms = i64::from(wait);
        s.waits = vec![wait];
        s.signed_in_at = signed_in;
        s
    }

    fn close(deltas: &[(&str, u64, u32, Millis)]) -> ClosedIntervals {
        ClosedIntervals {
            until: deltas.iter().map(|d| d.3).max().unwrap_or(0) + QUARTER_HOUR_MS,
            through_seq: None,
            deltas: deltas
                .iter()
                .map(|(scope, answered, wait, start)| {
                    let signed_in = scope.starts_with("agent:").then_some(*start + 1);
                    (
                        scope.parse::<Scope>().unwrap(),
                        sums(*answered, *wait, signed_in),
                        *start,
                    )
                })
                .collect(),
            calls: Default::default(),
        }
    }

    /// Every day row equals the merge of its day's quarter-hours, and every day with
    /// quarter-hours has its row.
    fn assert_days_agree(store: &Store, calendar: &CentreCalendar, scopes: &[&str]) {
        for scope in scopes {
            let quarters = store.rows(scope, (0, Millis::MAX / 4)).unwrap();
            let mut expected: Vec<(Millis, IntervalRow)> = Vec::new();
            for (start, row) in quarters {
                let row = without_samples(row);
                let day = calendar.day_start(start);
                match expected.last_mut() {
                    Some((d, sum)) if *d == day => sum.merge(&row),
                    _ => expected.push((day, row)),
                }
            }
            let days = store
                .rows_with(Table::Days, scope, (0, Millis::MAX / 4), true)
                .unwrap();
            assert_eq!(days, expected, "{scope} ({})", calendar.describe());
        }
    }

    #[test]
    fn day_rows_stay_the_merge_of_their_quarter_hours() {
        let dir = tempfile::tempdir().unwrap();
        let new_york = CentreCalendar::new("America/New_York", "00:00").unwrap();
        // 2026-03-08 is New York's spring-forward day (92 quarter-hours); it starts at 05:00Z.
        let day = 1_772_946_000_000;
        let (late_evening, next_morning) = (day + 22 * 3_600_000, day + 24 * 3_600_000);
        let scopes = ["centre", "agent:a1", "queue:q"];
        let mut store = Store::open(dir.path(), &new_york).unwrap();

        // Closes, across the day boundary, then a late event into an earlier quarter-hour.
        store
            .merge(&close(&[
                ("centre", 2, 4_000, day),
                ("agent:a1", 1, 4_000, day),
                ("centre", 1, 9_000, late_evening),
                ("agent:a1", 1, 9_000, late_evening),
            ]))
            .unwrap();
        store
            .merge(&close(&[
                ("centre", 5, 1_000, next_morning),
                ("queue:q", 1, 2_000, next_morning),
                ("centre", 1, 30_000, day + QUARTER_HOUR_MS),
            ]))
            .unwrap();
        assert_days_agree(&store, &new_york, &scopes);
        let first = store
            .day_rows_without_samples("centre", (day, day + 23 * 3_600_000))
            .unwrap();
        assert_eq!(first.len(), 1, "one row for the 23-hour day");
        assert_eq!(first[0].1.tally.answered, 4);
        assert_eq!(first[0].1.tally.max_wait_ms, 30_000);

        // A signed-off day: what arrives waits beside it and changes no day row, until the
        // amendment adds it.
        let date = jiff::civil::date(2026, 3, 8);
        let covered: BTreeSet<String> = scopes.iter().map(|s| s.to_string()).collect();
        let span = new_york.day(date).unwrap();
        store
            .sign_off(
                (&Scope::Centre, date, span),
                &covered,
                "boss",
                |_, _| Ok(()),
            )
            .unwrap();
        store
            .merge(&close(&[("centre", 7, 60_000, day + 2 * QUARTER_HOUR_MS)]))
            .unwrap();
        assert_days_agree(&store, &new_york, &scopes);
        store
            .amend(
                (&Scope::Centre, date),
                &ServiceLevelSettings::default(),
                |_| Ok(()),
            )
            .unwrap();
        assert_days_agree(&store, &new_york, &scopes);
        let amended = store.day_rows_without_samples("centre", span).unwrap();
        assert_eq!(amended[0].1.tally.answered, 11);

        // A rebuild of the next day (nothing in its journal here) leaves it empty, day row too.
        let next = new_york.day(jiff::civil::date(2026, 3, 9)).unwrap();
        store.rebuild(next).unwrap().commit().unwrap();
        assert_days_agree(&store, &new_york, &scopes);
        assert!(
            store
                .day_rows_without_samples("queue:q", next)
                .unwrap()
                .is_empty()
        );

        // Pruning keeps whole days: before the middle of the first day keeps all of it.
        store.prune(day + 12 * 3_600_000).unwrap();
        assert_days_agree(&store, &new_york, &scopes);
        store.prune(next.0 + 1).unwrap();
        assert!(
            store
                .rows("centre", (0, Millis::MAX / 4))
                .unwrap()
                .is_empty()
        );
        assert_days_agree(&store, &new_york, &scopes);
    }

    #[test]
    fn another_calendar_recuts_the_day_rows() {
        let dir = tempfile::tempdir().unwrap();
        let utc = CentreCalendar::utc();
        let shanghai = CentreCalendar::new("Asia/Shanghai", "06:00").unwrap();
        let t = 1_773_000_000_000; // 2026-03-08T20:00:00Z: 04:00 next day in Shanghai
        let scopes = ["centre"];
        {
            let mut store = Store::open(dir.path(), &utc).unwrap();
            store
                .merge(&close(&[
                    ("centre", 1, 1_000, t),
                    ("centre", 2, 2_000, t + 3 * 3_600_000),
                ]))
                .unwrap();
            assert_days_agree(&store, &utc, &scopes);
            assert_eq!(
                store
                    .rows_with(Table::Days, "centre", (0, t * 2), false)
                    .unwrap()
                    .len(),
                1
            );
        }
        // 04:00 and 07:00 in Shanghai fall either side of its 06:00 reset: two days now.
        let store = Store::open(dir.path(), &shanghai).unwrap();
        assert_days_agree(&store, &shanghai, &scopes);
        assert_eq!(
            store
                .rows_with(Table::Days, "centre", (0, t * 2), false)
                .unwrap()
                .len(),
            2
        );
    }
}
