//! The call detail records' table and codec (docs/HISTORY.md, "Calls"): one row per queue
//! visit whose outcome is known, put in place of the visit's earlier row with each close (beside
//! a signed-off day when it changes one), rebuilt, amended, dumped and pruned. Queries and the
//! callback marks are in `calls.rs`.

use std::collections::BTreeSet;
use std::path::Path;

use floorwatch_core::Millis;
use floorwatch_core::history::{CallDetail, VisitOutcome};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};

use super::error::{StoreError, sqlite};
use super::rows::Sealed;

/// The call tables, created with the store.
pub(super) const CREATE: &str = "
    CREATE TABLE IF NOT EXISTS calls (
        id TEXT PRIMARY KEY,
        outcome_ms INTEGER NOT NULL,
        call TEXT NOT NULL,
        queue TEXT NOT NULL,
        entered_ms INTEGER NOT NULL,
        wait_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        within INTEGER NOT NULL,
        short INTEGER NOT NULL,
        agent TEXT,
        talk_ms INTEGER,
        hold_ms INTEGER,
        transferred INTEGER NOT NULL,
        caller TEXT
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS calls_by_outcome ON calls (outcome_ms, id);
    CREATE TABLE IF NOT EXISTS calls_after_sign_off (
        id TEXT PRIMARY KEY,
        outcome_ms INTEGER NOT NULL,
        call TEXT NOT NULL,
        queue TEXT NOT NULL,
        entered_ms INTEGER NOT NULL,
        wait_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        within INTEGER NOT NULL,
        short INTEGER NOT NULL,
        agent TEXT,
        talk_ms INTEGER,
        hold_ms INTEGER,
        transferred INTEGER NOT NULL,
        caller TEXT
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS callbacks (
        id TEXT PRIMARY KEY,
        outcome_ms INTEGER NOT NULL,
        by TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        note TEXT
    ) WITHOUT ROWID;";

/// The columns of a call row, in order.
pub(super) const COLUMNS: &str = "id, outcome_ms, call, queue, entered_ms, wait_ms, outcome, within, short, \
                       agent, talk_ms, hold_ms, transferred, caller";

/// Where a visit's row goes: the calls reports read, or beside a signed-off day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallTable {
    Calls,
    AfterSignOff,
}

impl CallTable {
    fn name(self) -> &'static str {
        match self {
            CallTable::Calls => "calls",
            CallTable::AfterSignOff => "calls_after_sign_off",
        }
    }
}

/// Whether a visit's day is signed off for its queue.
pub(super) fn sealed(seals: &Sealed, call: &CallDetail) -> bool {
    seals.covers(&format!("queue:{}", call.queue), call.outcome_ms)
}

/// The signed-off days the visits' outcomes fall in.
pub(super) fn seals_of(
    conn: &Connection,
    path: &Path,
    calls: &[CallDetail],
) -> Result<Sealed, StoreError> {
    let first = calls.iter().map(|c| c.outcome_ms).min().unwrap_or(0);
    let last = calls.iter().map(|c| c.outcome_ms).max().unwrap_or(0);
    Sealed::in_range(conn, path, (first, last + 1))
}

/// Puts each visit's record in place of what is stored (beside its day when that is signed
/// off and the record differs from the sealed one); `range`, when given, keeps only visits
/// whose outcome falls in it and leaves signed-off days alone (a rebuild's).
pub(super) fn put_all(
    conn: &Connection,
    path: &Path,
    calls: &[CallDetail],
    range: Option<(Millis, Millis)>,
) -> Result<(), StoreError> {
    if calls.is_empty() {
        return Ok(());
    }
    let seals = seals_of(conn, path, calls)?;
    let mut kept = Vec::with_capacity(calls.len());
    let mut beside = Vec::new();
    for call in calls {
        if range.is_some_and(|(from, to)| !(from..to).contains(&call.outcome_ms)) {
            continue;
        }
        if seals.is_empty() || !sealed(&seals, call) {
            kept.push(call);
        } else if range.is_none() && stored(conn, path, &call.id)?.as_ref() != Some(call) {
            beside.push(call);
        }
    }
    put_many(conn, path, CallTable::Calls, &kept)?;
    put_many(conn, path, CallTable::AfterSignOff, &beside)
}

/// Puts the visit records of a batch of closes, oldest close first, as [`put_all`] of each in
/// turn leaves them: when no signed-off day is touched, only each visit's latest record is
/// written (`INSERT OR REPLACE` leaves the last one anyway; a visit is noted at its outcome and
/// again at its talk's end, often in the next close: BENCHMARKS.md, "Eighth pass: history").
/// A batch touching a signed-off day goes close by close, as before: whether a record waits
/// beside its day depends on what the earlier ones left.
pub(super) fn put_batch<'c>(
    conn: &Connection,
    path: &Path,
    mut closes: impl Iterator<Item = &'c [CallDetail]> + Clone,
) -> Result<(), StoreError> {
    if closes.clone().nth(1).is_none() {
        return closes.try_for_each(|calls| put_all(conn, path, calls, None));
    }
    let all = closes.clone().flatten();
    let first = all.clone().map(|c| c.outcome_ms).min();
    let last = all.clone().map(|c| c.outcome_ms).max();
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(());
    };
    if !Sealed::in_range(conn, path, (first, last + 1))?.is_empty() {
        return closes.try_for_each(|calls| put_all(conn, path, calls, None));
    }
    // The latest record of each visit, where its first record came.
    let mut at: rustc_hash::FxHashMap<&str, usize> = Default::default();
    let mut latest: Vec<&CallDetail> = Vec::new();
    for call in all {
        match at.entry(call.id.as_str()) {
            std::collections::hash_map::Entry::Occupied(i) => latest[*i.get()] = call,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(latest.len());
                latest.push(call);
            }
        }
    }
    put_many(conn, path, CallTable::Calls, &latest)
}

/// Rows a multi-row insert of visits writes at once (14 values each: far under SQLite's
/// limit of 32,766 values a statement); what is left over goes [`SMALL`] rows, then one, at
/// a time, so three statements a table are prepared and cached.
const MANY: usize = 64;
/// See [`MANY`].
const SMALL: usize = 8;

/// `INSERT OR REPLACE` of `rows` visits into `table`.
fn insert_sql(table: CallTable, rows: usize) -> String {
    let row = format!("({})", vec!["?"; 14].join(", "));
    format!(
        "INSERT OR REPLACE INTO {} ({COLUMNS}) VALUES {}",
        table.name(),
        vec![row; rows].join(", ")
    )
}

/// The statements of [`put_many`], written once: (table, rows) -> SQL.
static INSERTS: std::sync::LazyLock<[[String; 3]; 2]> = std::sync::LazyLock::new(|| {
    [CallTable::Calls, CallTable::AfterSignOff]
        .map(|t| [MANY, SMALL, 1].map(|rows| insert_sql(t, rows)))
});

/// Puts each visit's record in `table` in place of what is there, in order (a later record of
/// the same visit replaces an earlier one), a multi-row statement at a time: one statement
/// per 64 visits instead of one each (a close of the large floor writes about 3,000).
fn put_many(
    conn: &Connection,
    path: &Path,
    table: CallTable,
    calls: &[&CallDetail],
) -> Result<(), StoreError> {
    let sqls = &INSERTS[match table {
        CallTable::Calls => 0,
        CallTable::AfterSignOff => 1,
    }];
    let mut rest = calls;
    for (size, sql) in [MANY, SMALL, 1].into_iter().zip(sqls) {
        while rest.len() >= size {
            let (chunk, tail) = rest.split_at(size);
            rest = tail;
            let mut stmt = conn.prepare_cached(sql).map_err(sqlite(path))?;
            for (i, c) in chunk.iter().enumerate() {
                bind_call(&mut stmt, i * 14 + 1, c).map_err(sqlite(path))?;
            }
            stmt.raw_execute().map_err(sqlite(path))?;
        }
    }
    Ok(())
}

/// Binds a visit's columns ([`COLUMNS`], in order) from placeholder `at` on, each with its own
/// type (not through a list of `&dyn ToSql`: BENCHMARKS.md, "Tenth pass: history").
fn bind_call(
    stmt: &mut rusqlite::Statement<'_>,
    at: usize,
    c: &CallDetail,
) -> rusqlite::Result<()> {
    stmt.raw_bind_parameter(at, c.id.as_str())?;
    stmt.raw_bind_parameter(at + 1, c.outcome_ms)?;
    stmt.raw_bind_parameter(at + 2, c.call.as_str())?;
    stmt.raw_bind_parameter(at + 3, c.queue.as_str())?;
    stmt.raw_bind_parameter(at + 4, c.entered_ms)?;
    stmt.raw_bind_parameter(at + 5, c.wait_ms)?;
    stmt.raw_bind_parameter(at + 6, c.outcome.as_str())?;
    stmt.raw_bind_parameter(at + 7, c.within)?;
    stmt.raw_bind_parameter(at + 8, c.short)?;
    stmt.raw_bind_parameter(at + 9, c.agent.as_deref())?;
    stmt.raw_bind_parameter(at + 10, c.talk_ms)?;
    stmt.raw_bind_parameter(at + 11, c.hold_ms)?;
    stmt.raw_bind_parameter(at + 12, c.transferred)?;
    stmt.raw_bind_parameter(at + 13, c.caller.as_deref())
}

pub(super) fn stored(
    conn: &Connection,
    path: &Path,
    id: &str,
) -> Result<Option<CallDetail>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM calls WHERE id = ?1"),
        params![id],
        read,
    )
    .optional()
    .map_err(sqlite(path))
}

fn put(conn: &Connection, path: &Path, table: CallTable, c: &CallDetail) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT OR REPLACE INTO {} ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, \
         ?11, ?12, ?13, ?14)",
        table.name()
    );
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.execute(params![
                c.id,
                c.outcome_ms,
                c.call,
                c.queue,
                c.entered_ms,
                c.wait_ms,
                c.outcome.as_str(),
                c.within,
                c.short,
                c.agent,
                c.talk_ms,
                c.hold_ms,
                c.transferred,
                c.caller,
            ])
        })
        .map(drop)
        .map_err(sqlite(path))
}

pub(super) fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<CallDetail> {
    let outcome: String = r.get(6)?;
    Ok(CallDetail {
        id: r.get(0)?,
        outcome_ms: r.get(1)?,
        call: r.get(2)?,
        queue: r.get(3)?,
        entered_ms: r.get(4)?,
        wait_ms: r.get(5)?,
        outcome: VisitOutcome::parse(&outcome).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                6,
                rusqlite::types::Type::Text,
                format!("unknown outcome `{outcome}`").into(),
            )
        })?,
        within: r.get(7)?,
        short: r.get(8)?,
        agent: r.get(9)?,
        talk_ms: r.get(10)?,
        hold_ms: r.get(11)?,
        transferred: r.get(12)?,
        caller: r.get(13)?,
    })
}

/// Deletes the visits of `[from, to)` but those of signed-off days (a rebuild's first step).
pub(super) fn delete_unsealed(
    conn: &Connection,
    path: &Path,
    (from, to): (Millis, Millis),
) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM calls WHERE outcome_ms >= ?1 AND outcome_ms < ?2 AND NOT EXISTS (
             SELECT 1 FROM sign_offs s
             WHERE calls.outcome_ms >= s.start_ms AND calls.outcome_ms < s.end_ms
               AND instr(char(10) || s.covered || char(10),
                         char(10) || 'queue:' || calls.queue || char(10)) > 0)",
        params![from, to],
    )
    .map(drop)
    .map_err(sqlite(path))
}

/// Applies the visits of `[from, to)` waiting beside a signed-off day whose seal covers
/// `covered` (an amendment); returns how many.
pub(super) fn amend(
    conn: &Connection,
    path: &Path,
    covered: &BTreeSet<String>,
    (from, to): (Millis, Millis),
) -> Result<usize, StoreError> {
    let waiting: Vec<CallDetail> = {
        let sql = format!(
            "SELECT {COLUMNS} FROM calls_after_sign_off WHERE outcome_ms >= ?1 AND outcome_ms < ?2"
        );
        let mut stmt = conn.prepare(&sql).map_err(sqlite(path))?;
        stmt.query_map(params![from, to], read)
            .map_err(sqlite(path))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sqlite(path))?
    };
    let mut applied = 0;
    for call in waiting
        .iter()
        .filter(|c| covered.contains(&format!("queue:{}", c.queue)))
    {
        put(conn, path, CallTable::Calls, call)?;
        conn.execute(
            "DELETE FROM calls_after_sign_off WHERE id = ?1",
            params![call.id],
        )
        .map_err(sqlite(path))?;
        applied += 1;
    }
    Ok(applied)
}

/// Visits of `[from, to)` waiting for an amendment of a day whose seal covers `covered`.
pub(super) fn waiting(
    conn: &Connection,
    path: &Path,
    covered: &BTreeSet<String>,
    (from, to): (Millis, Millis),
) -> Result<usize, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT queue FROM calls_after_sign_off WHERE outcome_ms >= ?1 AND outcome_ms < ?2",
        )
        .map_err(sqlite(path))?;
    let queues = stmt
        .query_map(params![from, to], |r| r.get::<_, String>(0))
        .map_err(sqlite(path))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sqlite(path))?;
    Ok(queues
        .iter()
        .filter(|q| covered.contains(&format!("queue:{q}")))
        .count())
}

/// The visits of `[from, to)` as stored, one tab-separated line each (`call` first), ordered
/// by outcome and id: what "byte-identical" compares for calls.
pub(super) fn dump(
    conn: &Connection,
    path: &Path,
    (from, to): (Millis, Millis),
) -> Result<Vec<String>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM calls WHERE outcome_ms >= ?1 AND outcome_ms < ?2 \
         ORDER BY outcome_ms, id"
    );
    let mut stmt = conn.prepare(&sql).map_err(sqlite(path))?;
    let rows = stmt
        .query_map(params![from, to], |r| {
            let mut line = vec!["call".to_string()];
            for i in 0..14 {
                line.push(match r.get::<_, Value>(i)? {
                    Value::Null => String::new(),
                    Value::Integer(n) => n.to_string(),
                    Value::Real(f) => f.to_string(),
                    Value::Text(t) => t,
                    Value::Blob(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
                });
            }
            Ok(line.join("\t"))
        })
        .map_err(sqlite(path))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sqlite(path))
}

/// Deletes the visits (and their callback marks) whose outcome came before `before`.
pub(super) fn prune(conn: &Connection, path: &Path, before: Millis) -> Result<usize, StoreError> {
    let mut deleted = 0;
    for table in ["calls", "calls_after_sign_off", "callbacks"] {
        deleted += conn
            .execute(
                &format!("DELETE FROM {table} WHERE outcome_ms < ?1"),
                params![before],
            )
            .map_err(sqlite(path))?;
    }
    Ok(deleted)
}
