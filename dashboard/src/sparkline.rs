//! The 60-minute sparklines of service level and calls waiting, as SVG polyline points.

use floorwatch_core::time::MINUTE_MS;
use floorwatch_core::wire::{HISTORY_MINUTES, MinutePoint};

/// The sparkline's drawing box: `viewBox="0 0 WIDTH HEIGHT"`, stretched by CSS.
pub const WIDTH: f64 = 600.0;
/// See [`WIDTH`].
pub const HEIGHT: f64 = 100.0;

/// Which series of the per-minute points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    /// Rolling 15-minute service level, 0..=100 %.
    ServiceLevel,
    /// Calls waiting, scaled to the hour's peak.
    Waiting,
}

/// The polylines of a series: one per run of minutes with a value (a minute without a service
/// level breaks the line rather than dropping to zero). The newest minute sits at the right
/// edge; the hour before it spans the width.
pub fn polylines(points: &[MinutePoint], series: Series) -> Vec<String> {
    let Some(last) = points.last().map(|p| p.minute) else {
        return Vec::new();
    };
    let step = WIDTH / (HISTORY_MINUTES as f64 - 1.0);
    let peak = match series {
        Series::ServiceLevel => 100.0,
        // Scale to at least 5 calls so a quiet hour does not look like a crisis.
        Series::Waiting => points.iter().map(|p| p.waiting).max().unwrap_or(0).max(5) as f64,
    };
    let mut lines = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for p in points {
        let value = match series {
            Series::ServiceLevel => p.service_level_pct,
            Series::Waiting => Some(p.waiting as f64),
        };
        let minutes_ago = ((last - p.minute) / MINUTE_MS) as f64;
        let x = WIDTH - minutes_ago * step;
        match value {
            Some(v) if x >= 0.0 => {
                let y = HEIGHT - (v.clamp(0.0, peak) / peak) * HEIGHT;
                current.push(format!("{x:.1},{y:.1}"));
            }
            _ => {
                if !current.is_empty() {
                    lines.push(current.join(" "));
                    current.clear();
                }
            }
        }
    }
    if !current.is_empty() {
        lines.push(current.join(" "));
    }
    lines
}

/// The y of a horizontal reference line (the service-level target) in the drawing box.
pub fn target_y(target_pct: f64) -> f64 {
    HEIGHT - target_pct.clamp(0.0, 100.0) / 100.0 * HEIGHT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(minute: i64, sl: Option<f64>, waiting: u64) -> MinutePoint {
        MinutePoint {
            minute: minute * 60_000,
            service_level_pct: sl,
            waiting,
        }
    }

    #[test]
    fn the_newest_minute_is_at_the_right_edge() {
        let points = [p(0, Some(100.0), 0), p(59, Some(50.0), 10)];
        assert_eq!(
            polylines(&points, Series::ServiceLevel),
            ["0.0,0.0 600.0,50.0"]
        );
        assert_eq!(polylines(&points, Series::Waiting), ["0.0,100.0 600.0,0.0"]);
    }

    #[test]
    fn a_minute_without_service_level_breaks_the_line() {
        let points = [p(57, Some(80.0), 1), p(58, None, 0), p(59, Some(90.0), 2)];
        assert_eq!(polylines(&points, Series::ServiceLevel).len(), 2);
        assert_eq!(polylines(&points, Series::Waiting).len(), 1);
        assert!(polylines(&[], Series::Waiting).is_empty());
    }

    #[test]
    fn quiet_hours_scale_to_five_calls() {
        let points = [p(59, None, 1)];
        assert_eq!(polylines(&points, Series::Waiting), ["600.0,80.0"]);
        assert_eq!(target_y(80.0), 20.0);
    }
}
