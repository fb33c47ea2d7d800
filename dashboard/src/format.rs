//! How figures are written on screen. A missing figure (JSON `null`: a zero denominator, or
//! nothing waiting) is always "—", never 0 or 100 (docs/METRICS.md).

/// What a missing figure shows.
pub const NONE: &str = "—";

/// A percentage with one decimal: `82.4%`.
pub fn pct(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.1}%"),
        _ => NONE.to_string(),
    }
}

/// A count: `1234`.
pub fn count(value: Option<u64>) -> String {
    value.map_or_else(|| NONE.to_string(), |v| v.to_string())
}

/// A duration in seconds as a clock: `0:07`, `2:05`, `1:02:03`. Fractions are rounded to the
/// nearest second; negative values (a clock running slightly behind the server's) show as
/// `0:00`.
pub fn seconds(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => clock(v.round().max(0.0) as u64),
        _ => NONE.to_string(),
    }
}

/// The time from `since` to `now` (both UTC ms), as a clock; "—" without a start.
pub fn elapsed(since: Option<i64>, now: i64) -> String {
    match since {
        // Truncate, as a stopwatch does: 59.9 s is still 0:59.
        Some(since) => clock((now.saturating_sub(since)).max(0) as u64 / 1000),
        None => NONE.to_string(),
    }
}

fn clock(total_s: u64) -> String {
    let (h, m, s) = (total_s / 3600, total_s / 60 % 60, total_s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// The raw value a figure's element carries in `data-value`, exactly as the JSON API would
/// write it (`null` when missing), so a test can compare the screen with `GET /api/v1/metrics`
/// without parsing formatted text.
pub fn raw_f64(value: Option<f64>) -> String {
    // serde_json writes a non-finite float as `null`, as the API does.
    serde_json::to_string(&value).unwrap_or_else(|_| "null".to_string())
}

/// [`raw_f64`] for a count.
pub fn raw_u64(value: Option<u64>) -> String {
    value.map_or_else(|| "null".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_figures_are_a_dash() {
        assert_eq!(pct(None), "—");
        assert_eq!(pct(Some(f64::NAN)), "—");
        assert_eq!(seconds(None), "—");
        assert_eq!(count(None), "—");
        assert_eq!(elapsed(None, 1_000), "—");
        assert_eq!(raw_f64(None), "null");
        assert_eq!(raw_u64(None), "null");
    }

    #[test]
    fn zero_is_not_missing() {
        assert_eq!(pct(Some(0.0)), "0.0%");
        assert_eq!(seconds(Some(0.0)), "0:00");
        assert_eq!(count(Some(0)), "0");
    }

    #[test]
    fn percentages_have_one_decimal() {
        assert_eq!(pct(Some(500.0 / 9.0)), "55.6%");
        assert_eq!(pct(Some(100.0)), "100.0%");
    }

    #[test]
    fn durations_read_as_clocks() {
        assert_eq!(seconds(Some(7.4)), "0:07");
        assert_eq!(seconds(Some(7.5)), "0:08");
        assert_eq!(seconds(Some(125.0)), "2:05");
        assert_eq!(seconds(Some(3723.0)), "1:02:03");
        assert_eq!(seconds(Some(-3.0)), "0:00");
        assert_eq!(elapsed(Some(1_000), 60_999), "0:59");
        assert_eq!(elapsed(Some(1_000), 61_000), "1:00");
        assert_eq!(elapsed(Some(5_000), 1_000), "0:00");
    }

    #[test]
    fn raw_values_match_the_json_api() {
        assert_eq!(raw_f64(Some(500.0 / 9.0)), "55.55555555555556");
        assert_eq!(raw_f64(Some(100.0)), "100.0");
        assert_eq!(raw_f64(Some(f64::INFINITY)), "null");
        assert_eq!(raw_u64(Some(12)), "12");
    }
}
