//! Checking a parsed scenario for what the types cannot say: references between sections,
//! ranges, shares that must sum, and that the organisation it makes validates.

use std::collections::HashSet;

use super::error::Invalid;
use super::spec::{IncidentSpec, QueueSpec, Scenario};

/// Most agents a scenario may staff; far above the largest preset, low enough that a typo
/// (`agents_per_team = 100000`) is caught instead of eating the machine's memory.
const MAX_AGENTS: u64 = 200_000;

impl Scenario {
    /// Checks what the types cannot: references between sections, ranges and the organisation.
    pub(super) fn check(&self) -> Result<(), Invalid> {
        if self.name.trim().is_empty() {
            return Err(Invalid::new("name", "must not be empty"));
        }
        self.check_agents()?;
        self.check_breaks()?;
        let shifts = self.check_shifts()?;
        let queues: HashSet<&str> = self.queues.iter().map(|q| q.id.as_str()).collect();
        let mut agents = 0u64;
        for (si, site) in self.sites.iter().enumerate() {
            for (gi, group) in site.groups.iter().enumerate() {
                let key = format!("sites[{si}].groups[{gi}]");
                agents += u64::from(group.teams) * u64::from(group.agents_per_team);
                if agents > MAX_AGENTS {
                    return Err(Invalid::new(
                        format!("{key}.agents_per_team"),
                        format!("the scenario would staff more than {MAX_AGENTS} agents"),
                    ));
                }
                for (i, skill) in group.skills.iter().enumerate() {
                    if !queues.contains(skill.as_str()) {
                        return Err(Invalid::new(
                            format!("{key}.skills[{i}]"),
                            format!("`{skill}` is not a queue of this scenario"),
                        ));
                    }
                }
                for (i, shift) in group.shifts.iter().enumerate() {
                    if !shifts.contains(shift.as_str()) {
                        return Err(Invalid::new(
                            format!("{key}.shifts[{i}]"),
                            format!("`{shift}` is not a shift of this scenario"),
                        ));
                    }
                }
                if group.shifts.is_empty() && group.teams > 0 && group.agents_per_team > 0 {
                    return Err(Invalid::new(
                        format!("{key}.shifts"),
                        "a group with agents needs at least one shift",
                    ));
                }
            }
        }
        for (qi, queue) in self.queues.iter().enumerate() {
            check_queue(&format!("queues[{qi}]"), queue, &queues)?;
        }
        for (ii, incident) in self.incidents.iter().enumerate() {
            check_incident(&format!("incidents[{ii}]"), incident, &queues)?;
        }
        self.organisation().validate().map_err(|e| {
            let text = e.to_string();
            match text.split_once(": ") {
                Some((key, problem)) => Invalid::new(key, problem),
                None => Invalid::new("centre", text),
            }
        })
    }

    fn check_agents(&self) -> Result<(), Invalid> {
        let a = &self.agents;
        for (key, share) in [
            ("agents.late_share", a.late_share),
            ("agents.early_logout_share", a.early_logout_share),
            ("agents.login_not_ready_share", a.login_not_ready_share),
            ("agents.ring_no_answer_share", a.ring_no_answer_share),
        ] {
            check_share(key, share)?;
        }
        check_finite("agents.sign_in_offset_s.mean", a.sign_in_offset_s.mean)?;
        check_non_negative("agents.sign_in_offset_s.sd", a.sign_in_offset_s.sd)?;
        check_non_negative("agents.ring_timeout_s", a.ring_timeout_s)?;
        check_non_negative("agents.not_ready_per_hour", a.not_ready_per_hour)?;
        a.ring_s.check("agents.ring_s")?;
        a.auto_pause_s.check("agents.auto_pause_s")
    }

    fn check_breaks(&self) -> Result<(), Invalid> {
        let b = &self.breaks;
        check_non_negative("breaks.break_minutes", b.break_minutes)?;
        check_non_negative("breaks.every_hours", b.every_hours)?;
        if b.every_hours > 0.0 && b.every_hours < 0.5 {
            return Err(Invalid::new(
                "breaks.every_hours",
                "must be 0 (no breaks) or at least 0.5",
            ));
        }
        check_non_negative("breaks.meal_minutes", b.meal_minutes)?;
        check_non_negative("breaks.meal_min_shift_hours", b.meal_min_shift_hours)?;
        check_non_negative("breaks.stagger_minutes", b.stagger_minutes)?;
        check_share("breaks.overrun_share", b.overrun_share)
    }

    fn check_shifts(&self) -> Result<HashSet<&str>, Invalid> {
        let mut ids = HashSet::new();
        for (i, shift) in self.shifts.iter().enumerate() {
            let key = format!("shifts[{i}]");
            if shift.id.is_empty() {
                return Err(Invalid::new(format!("{key}.id"), "must not be empty"));
            }
            if !ids.insert(shift.id.as_str()) {
                return Err(Invalid::new(
                    format!("{key}.id"),
                    format!("duplicate shift id `{}`", shift.id),
                ));
            }
            if shift.end <= shift.start {
                return Err(Invalid::new(
                    format!("{key}.end"),
                    format!(
                        "{} is not after start {} (shifts do not cross midnight)",
                        shift.end, shift.start
                    ),
                ));
            }
        }
        Ok(ids)
    }
}

fn check_queue(key: &str, q: &QueueSpec, queues: &HashSet<&str>) -> Result<(), Invalid> {
    if !(q.calls_per_day.is_finite() && q.calls_per_day >= 0.0) {
        return Err(Invalid::new(
            format!("{key}.calls_per_day"),
            format!("must be a number >= 0, not {}", q.calls_per_day),
        ));
    }
    if let Some(hourly) = &q.hourly {
        if hourly.len() != 24 {
            return Err(Invalid::new(
                format!("{key}.hourly"),
                format!("needs 24 weights, one per hour, not {}", hourly.len()),
            ));
        }
        if let Some(i) = hourly.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(Invalid::new(
                format!("{key}.hourly[{i}]"),
                "must be a weight >= 0",
            ));
        }
    }
    if q.close <= q.open {
        return Err(Invalid::new(
            format!("{key}.close"),
            format!("{} is not after open {}", q.close, q.open),
        ));
    }
    for (name, share) in [
        ("hold_share", q.hold_share),
        ("acw_share", q.acw_share),
        ("ivr_share", q.ivr_share),
        ("transfer_share", q.transfer_share),
        ("test_share", q.test_share),
        ("answer_share", q.answer_share),
    ] {
        check_share(&format!("{key}.{name}"), share)?;
    }
    q.talk_s.check(&format!("{key}.talk_s"))?;
    q.hold_s.check(&format!("{key}.hold_s"))?;
    q.acw_s.check(&format!("{key}.acw_s"))?;
    q.ivr_s.check(&format!("{key}.ivr_s"))?;
    q.customer_ring_s.check(&format!("{key}.customer_ring_s"))?;
    if let Some(p) = &q.patience_s {
        p.check(&format!("{key}.patience_s"))?;
    }
    if let Some(t) = q.timeout_s
        && !(t.is_finite() && t > 0.0)
    {
        return Err(Invalid::new(
            format!("{key}.timeout_s"),
            format!("must be a number of seconds > 0, not {t}"),
        ));
    }
    check_non_negative(&format!("{key}.no_answer_s"), q.no_answer_s)?;
    if let Some(to) = &q.overflow_to
        && (!queues.contains(to.as_str()) || *to == q.id)
    {
        return Err(Invalid::new(
            format!("{key}.overflow_to"),
            format!("`{to}` is not another queue of this scenario"),
        ));
    }
    for (i, to) in q.transfer_to.iter().enumerate() {
        if !queues.contains(to.as_str()) {
            return Err(Invalid::new(
                format!("{key}.transfer_to[{i}]"),
                format!("`{to}` is not a queue of this scenario"),
            ));
        }
    }
    Ok(())
}

fn check_incident(
    key: &str,
    incident: &IncidentSpec,
    queues: &HashSet<&str>,
) -> Result<(), Invalid> {
    match incident {
        IncidentSpec::CallPeak {
            minutes,
            factor,
            queues: hit,
            ..
        } => {
            check_positive(&format!("{key}.minutes"), *minutes)?;
            check_positive(&format!("{key}.factor"), *factor)?;
            for (i, q) in hit.iter().enumerate() {
                if !queues.contains(q.as_str()) {
                    return Err(Invalid::new(
                        format!("{key}.queues[{i}]"),
                        format!("`{q}` is not a queue of this scenario"),
                    ));
                }
            }
            Ok(())
        }
        IncidentSpec::LogoutWave {
            share,
            back_after_minutes,
            ..
        } => {
            check_share(&format!("{key}.share"), *share)?;
            if let Some(m) = back_after_minutes {
                check_positive(&format!("{key}.back_after_minutes"), *m)?;
            }
            Ok(())
        }
        IncidentSpec::FeedSilent { minutes, .. } => {
            check_positive(&format!("{key}.minutes"), *minutes)
        }
        IncidentSpec::DroppedCalls { minutes, share, .. } => {
            check_positive(&format!("{key}.minutes"), *minutes)?;
            check_share(&format!("{key}.share"), *share)
        }
    }
}

fn check_share(key: &str, v: f64) -> Result<(), Invalid> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(Invalid::new(
            key,
            format!("must be a share between 0 and 1, not {v}"),
        ))
    }
}

fn check_finite(key: &str, v: f64) -> Result<(), Invalid> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Invalid::new(key, "must be a finite number"))
    }
}

fn check_non_negative(key: &str, v: f64) -> Result<(), Invalid> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Invalid::new(key, format!("must be a number >= 0, not {v}")))
    }
}

fn check_positive(key: &str, v: f64) -> Result<(), Invalid> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Invalid::new(key, format!("must be a number > 0, not {v}")))
    }
}
