//! `GET /api/v1/audit?actor=&action=&since=&limit=`: the audit trail for the security
//! officer's page (docs/SECURITY.md, "The audit trail"). Needs `ReadAudit` (admins and
//! security officers).
//!
//! Answers the matching records newest first, at most `limit` of them, and the verdict of the
//! whole chain ([`AuditTrail::verify`]), so the page says whether what it lists can be trusted.
//! `since` reads like `floorwatch audit list --since` ([`parse_since`]): spans count back from
//! the wall clock, as the records' times are wall-clock times.

use axum::Json;
use axum::extract::State;
use floorwatch_core::Scope;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::error::ApiQuery;
use super::identity::Identity;
use super::state::AppState;
use crate::audit::{Action, AuditError, AuditTrail, Filter, Record, Verdict, chain, parse_since};
use crate::floor;
use crate::permission::Permission;

/// Records answered when no `limit` is given.
pub(crate) const DEFAULT_LIMIT: usize = 200;
/// The most records one answer holds (about 1 MB of JSON); page back with `since`.
pub(crate) const MAX_LIMIT: usize = 5_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    since: Option<String>,
    limit: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct AuditAnswer {
    /// Newest first.
    pub(crate) records: Vec<Record>,
    /// How many records matched before `limit` cut the list.
    pub(crate) matched: usize,
    pub(crate) verified: Verified,
}

/// The chain's verdict, as JSON.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Verified {
    pub(crate) ok: bool,
    /// Records that verify: all of them, or those before the first broken line.
    pub(crate) records: u64,
    /// The hash of the last record that verifies (note it to detect a cut-off tail later).
    pub(crate) last_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) problem: Option<String>,
}

/// `GET /api/v1/audit`.
pub(crate) async fn list(
    State(state): State<AppState>,
    identity: Identity,
    query: Result<ApiQuery<AuditQuery>, ApiError>,
) -> Result<Json<AuditAnswer>, ApiError> {
    identity.require(
        Permission::ReadAudit,
        &Scope::Centre,
        &floor::lock(state.floor()),
    )?;
    let ApiQuery(query) = query?;
    let (filter, limit) = read_query(query, jiff::Timestamp::now())?;
    let trail = state.accounts().audit().clone();
    let answer = tokio::task::spawn_blocking(move || answer(&trail, &filter, limit))
        .await
        .map_err(|e| ApiError::Internal(format!("reading the audit trail stopped: {e}")))?
        .map_err(|e| {
            tracing::error!(error = %e, "reading the audit trail");
            ApiError::Internal(
                "the audit trail could not be read; the server's log says why".into(),
            )
        })?;
    Ok(Json(answer))
}

/// The filter and limit of a query; each mistake names its parameter.
fn read_query(query: AuditQuery, now: jiff::Timestamp) -> Result<(Filter, usize), ApiError> {
    let actor = match query.actor {
        Some(actor) if actor.trim().is_empty() => {
            return Err(ApiError::BadRequest("`actor` must not be empty".into()));
        }
        other => other.map(|a| a.trim().to_string()),
    };
    let action = query
        .action
        .map(|text| text.parse::<Action>())
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("`action`: {e}")))?;
    let since = query
        .since
        .map(|text| parse_since(&text, now))
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("`since`: {e}")))?;
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "`limit` must be a whole number from 1 to {MAX_LIMIT}, not \"{text}\""
                )));
            }
        },
    };
    Ok((
        Filter {
            actor,
            action,
            since,
        },
        limit,
    ))
}

fn answer(trail: &AuditTrail, filter: &Filter, limit: usize) -> Result<AuditAnswer, AuditError> {
    let lines = trail.lines()?;
    let verified = match trail.verify()? {
        Verdict::Intact { records, head } => Verified {
            ok: true,
            records,
            last_hash: head,
            problem: None,
        },
        Verdict::TornTail {
            records,
            head,
            bytes,
        } => Verified {
            ok: false,
            records,
            last_hash: head,
            problem: Some(format!(
                "the last line is torn ({bytes} bytes, a crash mid-write; not tampering): \
                 `floorwatch audit repair` cuts it off"
            )),
        },
        Verdict::Broken { line, reason } => {
            let last_good = line
                .checked_sub(1)
                .and_then(|n| lines.iter().find(|l| l.number == n))
                .and_then(|l| l.record.as_ref().ok())
                .map(|r| r.hash.clone())
                .unwrap_or_else(|| chain::GENESIS.to_string());
            Verified {
                ok: false,
                records: line.saturating_sub(1),
                last_hash: last_good,
                problem: Some(format!("line {line}: {reason}")),
            }
        }
    };
    let matching: Vec<Record> = lines
        .into_iter()
        .filter_map(|line| line.record.ok())
        .filter(|r| filter.matches(r))
        .collect();
    let matched = matching.len();
    let records = matching.into_iter().rev().take(limit).collect();
    Ok(AuditAnswer {
        records,
        matched,
        verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Entry;

    fn at(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(s).unwrap()
    }

    fn query(pairs: &[(&str, &str)]) -> AuditQuery {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        };
        AuditQuery {
            actor: get("actor"),
            action: get("action"),
            since: get("since"),
            limit: get("limit"),
        }
    }

    #[test]
    fn bad_filters_name_their_parameter() {
        let now = at(1_700_000_000);
        for (pairs, named) in [
            (vec![("action", "delete")], "`action`"),
            (vec![("since", "yesterday")], "`since`"),
            (vec![("limit", "0")], "`limit`"),
            (vec![("limit", "lots")], "`limit`"),
            (vec![("limit", "5001")], "`limit`"),
            (vec![("actor", " ")], "`actor`"),
        ] {
            let err = read_query(query(&pairs), now).unwrap_err();
            assert!(
                matches!(&err, ApiError::BadRequest(text) if text.contains(named)),
                "{pairs:?}: {err}"
            );
        }
        let (filter, limit) = read_query(
            query(&[("action", "unmask"), ("since", "90m"), ("limit", "7")]),
            now,
        )
        .unwrap();
        assert_eq!(filter.action, Some(Action::Unmask));
        assert_eq!(filter.since, Some(at(1_700_000_000 - 5_400)));
        assert_eq!(limit, 7);
    }

    #[test]
    fn newest_first_limited_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let trail = AuditTrail::open(dir.path());
        for i in 0..5 {
            let action = if i % 2 == 0 {
                Action::Unmask
            } else {
                Action::Login
            };
            trail
                .append(Entry::new("sup1", action, format!("call:c{i}"), ""), at(i))
                .unwrap();
        }
        let filter = Filter {
            action: Some(Action::Unmask),
            ..Filter::default()
        };
        let got = answer(&trail, &filter, 2).unwrap();
        assert_eq!(got.matched, 3);
        let targets: Vec<_> = got.records.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(targets, vec!["call:c4", "call:c2"]);
        assert!(got.verified.ok);
        assert_eq!(got.verified.records, 5);

        let text = std::fs::read_to_string(trail.path())
            .unwrap()
            .replace("call:c3", "call:c9");
        std::fs::write(trail.path(), text).unwrap();
        let got = answer(&trail, &Filter::default(), 10).unwrap();
        assert!(!got.verified.ok);
        assert_eq!(got.verified.records, 3);
        let third = trail.lines().unwrap()[2].record.clone().unwrap();
        assert_eq!(got.verified.last_hash, third.hash);
        assert!(got.verified.problem.unwrap().starts_with("line 4:"));
    }
}
