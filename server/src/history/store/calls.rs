//! Call detail records in the store (docs/HISTORY.md, "Calls"): one row per queue visit whose
//! outcome is known, written with the interval rows of the same close, queried for the calls
//! report and its drill-down, and the callback worklist's marks beside them.
//!
//! The table and its codec are in `call_rows.rs`. A visit's row is its whole record, replaced by the latest one the engine hands over: a late
//! event that changes a visit rewrites its row, and a rebuild that closes at the same
//! boundaries ends with the same rows. Rows of a signed-off day wait in `calls_after_sign_off`
//! until an amendment, as interval rows do. Callback marks are not derived from the journal: a
//! rebuild leaves them alone; retention deletes them with their calls.

use floorwatch_core::history::{CallDetail, ServiceLevelClass, VisitOutcome};
use floorwatch_core::{Millis, ServiceLevelVariant};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};

use super::Store;
use super::call_rows::{COLUMNS, read, sealed, seals_of, stored};
use super::error::{StoreError, sqlite};
use super::rows::immediate;

/// A caller marked called back (the callback worklist).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Callback {
    pub(crate) by: String,
    pub(crate) at_ms: Millis,
    pub(crate) note: Option<String>,
}

/// Which visits a calls report asks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallFilter {
    /// Outcomes in `[from, to)`.
    pub(crate) span: (Millis, Millis),
    /// Only these queues (`None`: every queue).
    pub(crate) queues: Option<Vec<String>>,
    /// Only visits answered by this agent.
    pub(crate) agent: Option<String>,
    /// Only these outcomes (empty: every outcome).
    pub(crate) outcomes: Vec<VisitOutcome>,
    /// Only visits of this class under this variant.
    pub(crate) service_level: Option<(ServiceLevelVariant, ServiceLevelClass)>,
    /// Only visits called back (`Some(true)`) or not (`Some(false)`).
    pub(crate) called_back: Option<bool>,
}

impl CallFilter {
    /// Whether a visit (and its callback mark) passes the filter: the SQL's condition, for the
    /// visits the store does not have yet.
    pub(crate) fn matches(&self, call: &CallDetail, called_back: bool) -> bool {
        (self.span.0..self.span.1).contains(&call.outcome_ms)
            && self.queues.as_ref().is_none_or(|q| q.contains(&call.queue))
            && self
                .agent
                .as_ref()
                .is_none_or(|a| call.agent.as_ref() == Some(a))
            && (self.outcomes.is_empty() || self.outcomes.contains(&call.outcome))
            && self
                .service_level
                .is_none_or(|(variant, class)| call.service_level(variant) == class)
            && self.called_back.is_none_or(|c| c == called_back)
    }

    /// The SQL condition on `calls` and its parameters.
    fn sql(&self) -> (String, Vec<Value>) {
        let mut conds = vec!["outcome_ms >= ? AND outcome_ms < ?".to_string()];
        let mut values = vec![Value::Integer(self.span.0), Value::Integer(self.span.1)];
        if let Some(queues) = &self.queues {
            conds.push("queue IN (SELECT value FROM json_each(?))".into());
            values.push(Value::Text(
                serde_json::to_string(queues).unwrap_or_else(|_| "[]".into()),
            ));
        }
        if let Some(agent) = &self.agent {
            conds.push("agent = ?".into());
            values.push(Value::Text(agent.clone()));
        }
        if !self.outcomes.is_empty() {
            let names: Vec<String> = self
                .outcomes
                .iter()
                .map(|o| format!("'{}'", o.as_str()))
                .collect();
            conds.push(format!("outcome IN ({})", names.join(", ")));
        }
        if let Some((variant, class)) = self.service_level {
            conds.push(class_sql(variant, class));
        }
        match self.called_back {
            Some(true) => conds.push("id IN (SELECT id FROM callbacks)".into()),
            Some(false) => conds.push("id NOT IN (SELECT id FROM callbacks)".into()),
            None => {}
        }
        (conds.join(" AND "), values)
    }
}

/// The SQL condition for visits of `class` under `variant`: [`CallDetail::service_level`]
/// (docs/METRICS.md, "Service level"), on the stored columns.
fn class_sql(variant: ServiceLevelVariant, class: ServiceLevelClass) -> String {
    const MOVED: &str = "outcome = 'transferred'";
    let excluded = match variant {
        ServiceLevelVariant::AnsweredOverOffered => {
            format!("({MOVED} OR (outcome = 'abandoned' AND short = 1))")
        }
        ServiceLevelVariant::AnsweredOverAnswered => "outcome != 'answered'".to_string(),
        ServiceLevelVariant::RemovedOverOffered => format!("({MOVED})"),
        ServiceLevelVariant::AnsweredOverOfferedExclAbandonedWithin => {
            format!("({MOVED} OR (outcome = 'abandoned' AND within = 1))")
        }
    };
    let met = match variant {
        ServiceLevelVariant::RemovedOverOffered => "within = 1",
        _ => "(outcome = 'answered' AND within = 1)",
    };
    match class {
        ServiceLevelClass::Excluded => excluded,
        ServiceLevelClass::Met => format!("(NOT {excluded} AND {met})"),
        ServiceLevelClass::Missed => format!("(NOT {excluded} AND NOT {met})"),
    }
}

/// One page of a calls report.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallPage {
    /// Every visit that passes the filter, all pages together.
    pub(crate) total: u64,
    pub(crate) calls: Vec<(CallDetail, Option<Callback>)>,
    /// The last visit of the page when more follow.
    pub(crate) next: Option<String>,
}

impl Store {
    /// The visits that pass `filter`, oldest outcome first (then by id), after the visit
    /// `after` (its outcome time and id), at most `limit`. `fresh` are records the store may
    /// not have yet (the floor's, [`crate::floor::LiveFloor::calls_not_stored`]): they replace
    /// the stored ones, but never on a signed-off day.
    pub(crate) fn calls(
        &self,
        filter: &CallFilter,
        after: Option<(Millis, &str)>,
        limit: usize,
        fresh: &[CallDetail],
    ) -> Result<CallPage, StoreError> {
        let path = &self.path;
        let seals = seals_of(&self.conn, path, fresh)?;
        let fresh: Vec<&CallDetail> = fresh.iter().filter(|c| !sealed(&seals, c)).collect();
        let fresh_ids: Vec<&str> = fresh.iter().map(|c| c.id.as_str()).collect();
        let (cond, mut values) = filter.sql();
        let cond = format!("{cond} AND id NOT IN (SELECT value FROM json_each(?))");
        values.push(Value::Text(
            serde_json::to_string(&fresh_ids).unwrap_or_else(|_| "[]".into()),
        ));
        let stored: i64 = self
            .conn
            .query_row(
                &format!("SELECT count(*) FROM calls WHERE {cond}"),
                params_from_iter(values.iter()),
                |r| r.get(0),
            )
            .map_err(sqlite(path))?;
        let mut page_values = values.clone();
        let mut page_cond = cond;
        if let Some((ms, id)) = after {
            page_cond.push_str(" AND (outcome_ms > ? OR (outcome_ms = ? AND id > ?))");
            page_values.extend([
                Value::Integer(ms),
                Value::Integer(ms),
                Value::Text(id.to_string()),
            ]);
        }
        page_values.push(Value::Integer(i64::try_from(limit + 1).unwrap_or(i64::MAX)));
        let sql = format!(
            "SELECT {COLUMNS} FROM calls WHERE {page_cond} ORDER BY outcome_ms, id LIMIT ?"
        );
        let mut rows: Vec<CallDetail> = {
            let mut stmt = self.conn.prepare(&sql).map_err(sqlite(path))?;
            stmt.query_map(params_from_iter(page_values.iter()), read)
                .map_err(sqlite(path))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sqlite(path))?
        };
        let mut fresh_total = 0;
        for call in fresh {
            let marked = self.callback(&call.id)?.is_some();
            if !filter.matches(call, marked) {
                continue;
            }
            fresh_total += 1;
            if after.is_none_or(|(ms, id)| (call.outcome_ms, call.id.as_str()) > (ms, id)) {
                rows.push(call.clone());
            }
        }
        rows.sort_by(|a, b| (a.outcome_ms, &a.id).cmp(&(b.outcome_ms, &b.id)));
        let next = (rows.len() > limit).then(|| rows[limit - 1].id.clone());
        rows.truncate(limit);
        let calls = rows
            .into_iter()
            .map(|c| {
                let mark = self.callback(&c.id)?;
                Ok((c, mark))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(CallPage {
            total: stored.max(0) as u64 + fresh_total,
            calls,
            next,
        })
    }

    /// One stored visit, by id (the reports, the unmask and callback endpoints).
    pub(crate) fn call(&self, id: &str) -> Result<Option<CallDetail>, StoreError> {
        stored(&self.conn, &self.path, id)
    }

    /// The callback mark of a visit, if it has one.
    pub(crate) fn callback(&self, id: &str) -> Result<Option<Callback>, StoreError> {
        self.conn
            .prepare_cached("SELECT by, at_ms, note FROM callbacks WHERE id = ?1")
            .and_then(|mut stmt| {
                stmt.query_row(params![id], |r| {
                    Ok(Callback {
                        by: r.get(0)?,
                        at_ms: r.get(1)?,
                        note: r.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(sqlite(&self.path))
    }

    /// Marks the caller of visit `id` (whose outcome came at `outcome_ms`) called back: `None`
    /// when it is marked already (that mark), else `record` writes the audit record before the
    /// mark is committed (no record, no mark).
    pub(crate) fn mark_callback(
        &mut self,
        (id, outcome_ms): (&str, Millis),
        mark: &Callback,
        record: impl FnOnce() -> Result<(), String>,
    ) -> Result<Option<Callback>, MarkError> {
        let path = self.path.clone();
        let tx = immediate(&mut self.conn, &path)?;
        let existing = tx
            .query_row(
                "SELECT by, at_ms, note FROM callbacks WHERE id = ?1",
                params![id],
                |r| {
                    Ok(Callback {
                        by: r.get(0)?,
                        at_ms: r.get(1)?,
                        note: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(sqlite(&path))?;
        if let Some(existing) = existing {
            return Ok(Some(existing));
        }
        record().map_err(MarkError::Unrecorded)?;
        tx.execute(
            "INSERT INTO callbacks (id, outcome_ms, by, at_ms, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, outcome_ms, mark.by, mark.at_ms, mark.note],
        )
        .map_err(sqlite(&path))?;
        tx.commit().map_err(sqlite(&path))?;
        Ok(None)
    }

    /// The ids of the visits stored for `[from, to)`, a set (tests).
    #[cfg(test)]
    fn call_ids(&self, range: (Millis, Millis)) -> std::collections::HashSet<String> {
        super::call_rows::dump(&self.conn, &self.path, range)
            .unwrap()
            .iter()
            .filter_map(|l| l.split('\t').nth(1).map(str::to_string))
            .collect()
    }
}

/// Why a callback mark was not made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MarkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit record could not be written: nothing was marked.
    #[error("{0}")]
    Unrecorded(String),
}

#[cfg(test)]
mod tests {
    use super::super::call_rows::prune;
    use super::*;
    use crate::history::ClosedIntervals;
    use floorwatch_core::history::visit_id;
    use std::collections::HashSet;

    fn visit(call: &str, outcome: VisitOutcome, at: Millis, wait: Millis) -> CallDetail {
        CallDetail {
            id: visit_id(call, "q", at),
            call: call.into(),
            queue: "q".into(),
            entered_ms: at - wait,
            wait_ms: wait,
            outcome,
            outcome_ms: at,
            within: wait <= 20_000,
            short: outcome == VisitOutcome::Abandoned && wait < 5_000,
            agent: None,
            talk_ms: None,
            hold_ms: None,
            transferred: false,
            caller: Some("+861380000".into()),
        }
    }

    fn close(calls: Vec<CallDetail>) -> ClosedIntervals {
        ClosedIntervals {
            calls: calls.into(),
            ..ClosedIntervals::default()
        }
    }

    #[test]
    fn the_sql_classes_visits_as_the_engine_does() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(
            dir.path(),
            &floorwatch_core::calendar::CentreCalendar::utc(),
        )
        .unwrap();
        let mut all = Vec::new();
        for (i, outcome) in VisitOutcome::ALL.into_iter().enumerate() {
            for (j, wait) in [1_000, 10_000, 30_000].into_iter().enumerate() {
                all.push(visit(
                    &format!("c{i}{j}"),
                    outcome,
                    1_000_000 + (i * 3 + j) as Millis,
                    wait,
                ));
            }
        }
        store.merge(&close(all.clone())).unwrap();
        let variants = [
            ServiceLevelVariant::AnsweredOverOffered,
            ServiceLevelVariant::AnsweredOverAnswered,
            ServiceLevelVariant::RemovedOverOffered,
            ServiceLevelVariant::AnsweredOverOfferedExclAbandonedWithin,
        ];
        for variant in variants {
            for class in [
                ServiceLevelClass::Met,
                ServiceLevelClass::Missed,
                ServiceLevelClass::Excluded,
            ] {
                let filter = CallFilter {
                    span: (0, i64::MAX),
                    service_level: Some((variant, class)),
                    ..CallFilter::default()
                };
                let page = store.calls(&filter, None, 500, &[]).unwrap();
                let got: HashSet<String> = page.calls.into_iter().map(|(c, _)| c.id).collect();
                let want: HashSet<String> = all
                    .iter()
                    .filter(|c| c.service_level(variant) == class)
                    .map(|c| c.id.clone())
                    .collect();
                assert_eq!(got, want, "{variant:?} {class:?}");
            }
        }
    }

    #[test]
    fn a_later_record_replaces_a_visit_and_fresh_ones_page_with_the_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(
            dir.path(),
            &floorwatch_core::calendar::CentreCalendar::utc(),
        )
        .unwrap();
        let mut answered = visit("a", VisitOutcome::Answered, 1_000, 3_000);
        store.merge(&close(vec![answered.clone()])).unwrap();
        answered.talk_ms = Some(60_000);
        store.merge(&close(vec![answered.clone()])).unwrap();
        assert_eq!(store.call(&answered.id).unwrap(), Some(answered.clone()));
        let fresh = vec![
            visit("b", VisitOutcome::Abandoned, 2_000, 9_000),
            visit("c", VisitOutcome::Abandoned, 500, 9_000),
        ];
        let all = CallFilter {
            span: (0, 10_000),
            ..CallFilter::default()
        };
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let cursor = after
                .as_deref()
                .map(|id| (floorwatch_core::history::visit_id_time(id).unwrap(), id));
            let page = store.calls(&all, cursor, 1, &fresh).unwrap();
            assert_eq!(page.total, 3);
            seen.extend(page.calls.into_iter().map(|(c, _)| c.call));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, ["c", "a", "b"]);
        assert_eq!(store.call_ids((0, 10_000)).len(), 1);
        let mark = Callback {
            by: "sup".into(),
            at_ms: 5,
            note: None,
        };
        let id = (fresh[0].id.as_str(), 2_000);
        assert!(matches!(
            store.mark_callback(id, &mark, || Err("disk full".into())),
            Err(MarkError::Unrecorded(_))
        ));
        assert_eq!(store.mark_callback(id, &mark, || Ok(())).unwrap(), None);
        assert_eq!(
            store
                .mark_callback(id, &mark, || panic!("not recorded twice"))
                .unwrap(),
            Some(mark)
        );
        let pending = CallFilter {
            called_back: Some(false),
            ..all
        };
        assert_eq!(store.calls(&pending, None, 10, &fresh).unwrap().total, 2);
        assert!(prune(&store.conn, &store.path, 10_000).unwrap() >= 2);
        assert_eq!(store.callback(&fresh[0].id).unwrap(), None);
    }
}
