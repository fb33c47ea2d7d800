//! Tile colours: green, amber or red against each figure's thresholds.
//!
//! These are the wallboard's defaults until per-queue alert rules arrive (issue 7); every
//! tooltip states the rule its tile follows (catalogue keys `Colour*`). The rules:
//!
//! | figure | green | amber | red |
//! |---|---|---|---|
//! | service level | ≥ target + 5 points | target ..< target + 5 | < target |
//! | calls waiting | waiting ≤ available agents | waiting > available | waiting > available + 5 (none signed in: neutral) |
//! | longest wait now | < T | T ..< 2T | ≥ 2T |
//! | abandon rate | < 5 % | 5 ..< 10 % | ≥ 10 % |
//! | ASA | < T | T ..< 2T | ≥ 2T |
//! | agents available | ≥ 1 | 0, nobody waiting | 0 with calls waiting (none signed in: neutral) |
//! | agents not ready | < 20 % of signed in | 20 ..< 30 % | ≥ 30 % |
//!
//! T is the scope's service-level threshold. A missing figure ("—") is neutral: no colour
//! claims something the data does not say. Counts with no target (answered, abandoned, AHT,
//! on call, after-call work) are neutral too.

/// The colour of a tile or cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Within target.
    Good,
    /// Near the limit.
    Warn,
    /// Past the limit.
    Bad,
    /// No threshold applies, or there is no figure.
    Neutral,
}

impl Tone {
    /// The CSS class the stylesheet colours.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Good => "tone-good",
            Tone::Warn => "tone-warn",
            Tone::Bad => "tone-bad",
            Tone::Neutral => "tone-neutral",
        }
    }
}

/// Points above the target within which the service level is amber.
pub const SERVICE_LEVEL_MARGIN_PTS: f64 = 5.0;
/// Waiting calls beyond the available agents from which calls waiting is red.
pub const WAITING_EXCESS_RED: u64 = 5;
/// Abandon rate (%) from which the tile is amber, and red.
pub const ABANDON_RATE_AMBER_PCT: f64 = 5.0;
/// See [`ABANDON_RATE_AMBER_PCT`].
pub const ABANDON_RATE_RED_PCT: f64 = 10.0;
/// Share of signed-in agents not ready (%) from which the tile is amber, and red.
pub const NOT_READY_AMBER_PCT: f64 = 20.0;
/// See [`NOT_READY_AMBER_PCT`].
pub const NOT_READY_RED_PCT: f64 = 30.0;

/// The colour of a service level against its target.
pub fn service_level(pct: Option<f64>, target_pct: f64) -> Tone {
    match pct {
        None => Tone::Neutral,
        Some(v) if v < target_pct => Tone::Bad,
        Some(v) if v < target_pct + SERVICE_LEVEL_MARGIN_PTS => Tone::Warn,
        Some(_) => Tone::Good,
    }
}

/// Without any agent signed in to the scope (a queue no agent is attached to), there is nothing
/// to judge the queue against: neutral.
pub fn calls_waiting(waiting: u64, available: u32, logged_in: u32) -> Tone {
    if logged_in == 0 {
        return Tone::Neutral;
    }
    let excess = waiting.saturating_sub(u64::from(available));
    if excess == 0 {
        Tone::Good
    } else if excess < WAITING_EXCESS_RED {
        Tone::Warn
    } else {
        Tone::Bad
    }
}

/// A wait (longest wait now, ASA) against the threshold T.
pub fn wait(seconds: Option<f64>, threshold_s: u32) -> Tone {
    let t = f64::from(threshold_s);
    match seconds {
        None => Tone::Neutral,
        Some(s) if s < t => Tone::Good,
        Some(s) if s < 2.0 * t => Tone::Warn,
        Some(_) => Tone::Bad,
    }
}

/// Longest wait now: nobody waiting is good news, not a missing figure.
pub fn longest_wait(seconds: Option<f64>, waiting: u64, threshold_s: u32) -> Tone {
    if waiting == 0 {
        Tone::Good
    } else {
        wait(seconds, threshold_s)
    }
}

/// The colour of an abandon rate.
pub fn abandon_rate(pct: Option<f64>) -> Tone {
    match pct {
        None => Tone::Neutral,
        Some(v) if v < ABANDON_RATE_AMBER_PCT => Tone::Good,
        Some(v) if v < ABANDON_RATE_RED_PCT => Tone::Warn,
        Some(_) => Tone::Bad,
    }
}

/// No agent signed in to the scope (a queue nobody is attached to) says nothing about staffing:
/// neutral.
pub fn agents_available(available: u32, logged_in: u32, waiting: u64) -> Tone {
    match (available, waiting) {
        _ if logged_in == 0 => Tone::Neutral,
        (0, 0) => Tone::Warn,
        (0, _) => Tone::Bad,
        _ => Tone::Good,
    }
}

/// The colour of the not-ready count, by its share of the signed-in agents.
pub fn agents_not_ready(not_ready: u32, logged_in: u32) -> Tone {
    if logged_in == 0 {
        return Tone::Neutral;
    }
    let share = f64::from(not_ready) * 100.0 / f64::from(logged_in);
    if share < NOT_READY_AMBER_PCT {
        Tone::Good
    } else if share < NOT_READY_RED_PCT {
        Tone::Warn
    } else {
        Tone::Bad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_level_is_red_below_target_and_amber_just_above() {
        assert_eq!(service_level(Some(79.9), 80.0), Tone::Bad);
        assert_eq!(service_level(Some(80.0), 80.0), Tone::Warn);
        assert_eq!(service_level(Some(84.9), 80.0), Tone::Warn);
        assert_eq!(service_level(Some(85.0), 80.0), Tone::Good);
        assert_eq!(service_level(Some(100.0), 80.0), Tone::Good);
        assert_eq!(service_level(Some(0.0), 80.0), Tone::Bad);
        // Each queue has its own target.
        assert_eq!(service_level(Some(75.0), 70.0), Tone::Good);
        assert_eq!(service_level(None, 80.0), Tone::Neutral);
    }

    #[test]
    fn calls_waiting_against_available_agents() {
        assert_eq!(calls_waiting(0, 0, 4), Tone::Good);
        assert_eq!(calls_waiting(3, 3, 4), Tone::Good);
        assert_eq!(calls_waiting(4, 3, 4), Tone::Warn);
        assert_eq!(calls_waiting(7, 3, 4), Tone::Warn);
        assert_eq!(calls_waiting(8, 3, 4), Tone::Bad);
        assert_eq!(calls_waiting(8, 0, 0), Tone::Neutral);
    }

    #[test]
    fn waits_against_the_threshold() {
        assert_eq!(wait(Some(19.9), 20), Tone::Good);
        assert_eq!(wait(Some(20.0), 20), Tone::Warn);
        assert_eq!(wait(Some(39.9), 20), Tone::Warn);
        assert_eq!(wait(Some(40.0), 20), Tone::Bad);
        assert_eq!(wait(None, 20), Tone::Neutral);
        assert_eq!(longest_wait(None, 0, 20), Tone::Good);
        assert_eq!(longest_wait(Some(45.0), 1, 20), Tone::Bad);
    }

    #[test]
    fn abandon_rate_bands() {
        assert_eq!(abandon_rate(Some(4.99)), Tone::Good);
        assert_eq!(abandon_rate(Some(5.0)), Tone::Warn);
        assert_eq!(abandon_rate(Some(10.0)), Tone::Bad);
        assert_eq!(abandon_rate(None), Tone::Neutral);
    }

    #[test]
    fn agent_tiles() {
        assert_eq!(agents_available(2, 5, 10), Tone::Good);
        assert_eq!(agents_available(0, 5, 0), Tone::Warn);
        assert_eq!(agents_available(0, 5, 1), Tone::Bad);
        assert_eq!(agents_available(0, 0, 1), Tone::Neutral);
        assert_eq!(agents_not_ready(1, 10), Tone::Good);
        assert_eq!(agents_not_ready(2, 10), Tone::Warn);
        assert_eq!(agents_not_ready(3, 10), Tone::Bad);
        assert_eq!(agents_not_ready(0, 0), Tone::Neutral);
    }

    #[test]
    fn every_tone_has_its_own_class() {
        let classes = [Tone::Good, Tone::Warn, Tone::Bad, Tone::Neutral].map(Tone::class);
        for (i, a) in classes.iter().enumerate() {
            assert!(!classes[i + 1..].contains(a));
        }
    }
}
