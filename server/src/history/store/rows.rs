//! The rows' columns and their codec: a row as SQLite stores it (integers, two optional
//! instants, two HdrHistograms in V2 form), read, written and merged in either table.

use std::path::Path;

#[cfg(test)]
use floorwatch_core::history::IntervalSums;
use floorwatch_core::history::{IntervalRow, Samples, Tally};
use floorwatch_core::{Millis, NotReadyReason};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use rusqlite::{Connection, OptionalExtension, params};

use super::error::{StoreError, sqlite};

/// The integer columns of a row, in order: the tally, then not-ready time by reason.
pub(super) const COLUMNS: [&str; 29] = [
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

/// The tables of rows: the quarter-hours reports read, what arrived for signed-off days, and
/// the day rows (each the merge of a day's quarter-hours: `super::days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Intervals,
    AfterSignOff,
    Days,
}

impl Table {
    pub(super) fn name(self) -> &'static str {
        match self {
            Table::Intervals => "intervals",
            Table::AfterSignOff => "after_sign_off",
            Table::Days => "days",
        }
    }
}

/// Adds `sums` to the row of `scope` at `start` in `table` by reading, adding and writing it
/// back: the write path before `super::add::Adder`, kept as the reference the tests
/// compare that one with.
#[cfg(test)]
pub(super) fn merge_delta(
    conn: &Connection,
    path: &Path,
    table: Table,
    scope: &str,
    start: Millis,
    sums: &IntervalSums,
) -> Result<(), StoreError> {
    let mut row = read_row(conn, path, table, scope, start)?.unwrap_or_default();
    row.add(sums);
    write_row(conn, path, table, scope, start, &row)
}

/// A write transaction that takes the write lock at once: the history thread and a sign-off
/// never find the other's commit between their reads and their writes.
pub(super) fn immediate<'c>(
    conn: &'c mut Connection,
    path: &Path,
) -> Result<rusqlite::Transaction<'c>, StoreError> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sqlite(path))
}

/// The signed-off days a close touches: (covered scopes, start, end).
pub(super) struct Sealed(Vec<(std::collections::HashSet<String>, Millis, Millis)>);

impl Sealed {
    /// The signed-off days with a quarter-hour in `[first, end)`.
    pub(super) fn in_range(
        conn: &Connection,
        path: &Path,
        (first, end): (Millis, Millis),
    ) -> Result<Sealed, StoreError> {
        let last = end - 1;
        let mut stmt = conn
            .prepare_cached(
                "SELECT covered, start_ms, end_ms FROM sign_offs
                 WHERE end_ms > ?1 AND start_ms <= ?2",
            )
            .map_err(sqlite(path))?;
        let seals = stmt
            .query_map(params![first, last], |r| {
                let covered: String = r.get(0)?;
                Ok((
                    covered.lines().map(str::to_string).collect(),
                    r.get(1)?,
                    r.get(2)?,
                ))
            })
            .map_err(sqlite(path))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sqlite(path))?;
        Ok(Sealed(seals))
    }

    /// No signed-off day.
    pub(super) fn none() -> Sealed {
        Sealed(Vec::new())
    }

    /// No signed-off day is touched.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn covers(&self, scope: &str, start: Millis) -> bool {
        self.0
            .iter()
            .any(|(covered, from, to)| (*from..*to).contains(&start) && covered.contains(scope))
    }
}

/// A row as read: its integer columns, sign-in and sign-out, and its two histograms' bytes.
pub(super) struct RawRow {
    ints: [i64; 29],
    signed: (Option<Millis>, Option<Millis>),
    waits: Option<Vec<u8>>,
    handles: Option<Vec<u8>>,
}

pub(super) fn raw_row(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<RawRow> {
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

pub(super) fn read_row(
    conn: &Connection,
    path: &Path,
    table: Table,
    scope: &str,
    start: Millis,
) -> Result<Option<IntervalRow>, StoreError> {
    let sql = format!(
        "SELECT {}, signed_in_ms, signed_out_ms, waits, handles FROM {} \
         WHERE scope = ?1 AND start_ms = ?2",
        COLUMNS.join(", "),
        table.name()
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
pub(super) fn write_row(
    conn: &Connection,
    path: &Path,
    table: Table,
    scope: &str,
    start: Millis,
    row: &IntervalRow,
) -> Result<(), StoreError> {
    if row.is_empty() {
        let sql = format!(
            "DELETE FROM {} WHERE scope = ?1 AND start_ms = ?2",
            table.name()
        );
        conn.prepare_cached(&sql)
            .and_then(|mut stmt| stmt.execute(params![scope, start]))
            .map_err(sqlite(path))?;
        return Ok(());
    }
    let sql = format!(
        "INSERT OR REPLACE INTO {}
         (scope, start_ms, {}, signed_in_ms, signed_out_ms, waits, handles)
         VALUES (?1, ?2, {})",
        table.name(),
        COLUMNS.join(", "),
        (3..3 + COLUMNS.len() + 4)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let ints = encode_ints(&row.tally, &row.not_ready_ms);
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

/// The integer columns of a row (or of a delta), in the order of [`COLUMNS`].
pub(super) fn encode_ints(t: &Tally, not_ready_ms: &[i64; NotReadyReason::ALL.len()]) -> [i64; 29] {
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
    out[22..].copy_from_slice(not_ready_ms);
    out
}

pub(super) fn decode(
    path: &Path,
    scope: &str,
    start: Millis,
    raw: RawRow,
) -> Result<IntervalRow, StoreError> {
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
    let histogram = |bytes: Option<Vec<u8>>| -> Result<Samples, StoreError> {
        match bytes {
            Some(bytes) => decode_histogram(path, (scope, start), &bytes),
            None => Ok(Samples::default()),
        }
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

/// The samples of a stored histogram (V2 bytes) of the row of `scope` at `start`.
pub(super) fn decode_histogram(
    path: &Path,
    (scope, start): (&str, Millis),
    bytes: &[u8],
) -> Result<Samples, StoreError> {
    let damaged = |reason: String| StoreError::Histogram {
        path: path.to_path_buf(),
        scope: scope.to_string(),
        start_ms: start,
        reason,
    };
    let stored: Histogram<u64> = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| damaged(format!("{e:?}")))?;
    Samples::from_histogram(&stored).map_err(damaged)
}

/// The V2 bytes of two stored histograms' samples together (a row's and a delta's, merged in
/// SQLite by `super::add::MERGE_HISTOGRAMS`): the same bytes as recording the delta's samples
/// into the row's ([`Samples::add`] adds counts of the same bounds), without reading the row
/// first. A damaged one is named in the error.
pub(super) fn merge_histograms(stored: &[u8], added: &[u8]) -> Result<Option<Vec<u8>>, String> {
    // Histograms of the common bounds (all this server writes) merge as their counts.
    if let (Some(a), Some(b)) = (super::sparse::decode(stored), super::sparse::decode(added)) {
        return Ok(super::sparse::encode(&super::sparse::merge(&a, &b)));
    }
    merge_histograms_full(stored, added)
}

/// [`merge_histograms`] through full histograms: any bounds, re-recorded into the common ones.
pub(super) fn merge_histograms_full(
    stored: &[u8],
    added: &[u8],
) -> Result<Option<Vec<u8>>, String> {
    let decode = |bytes: &[u8], which: &str| -> Result<Samples, String> {
        let h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut &bytes[..])
            .map_err(|e| format!("damaged {which} histogram: {e:?}"))?;
        Samples::from_histogram(&h).map_err(|e| format!("damaged {which} histogram: {e}"))
    };
    let mut samples = decode(stored, "stored")?;
    samples.add(&decode(added, "added")?);
    Ok(encode_histogram(&samples))
}

/// A histogram's V2 bytes; `None` (SQL NULL) when it holds no sample.
pub(super) fn encode_histogram(samples: &Samples) -> Option<Vec<u8>> {
    let h = samples.histogram()?;
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and every histogram has the serialisable bounds of
    // `empty_histogram`; an error would leave the row's samples out, never the row.
    V2Serializer::new().serialize(h, &mut out).ok()?;
    Some(out)
}
