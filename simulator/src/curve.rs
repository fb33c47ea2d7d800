//! The intraday curve: how a queue's calls of the day spread over the hours.
//!
//! Call centres see two peaks, mid-morning and mid-afternoon, with a lunch dip between and
//! little traffic at night; that is the default shape. A scenario can pick a flat day (the
//! Erlang C check needs a constant rate) or give 24 hourly weights of its own. Weights are
//! interpolated linearly between the middles of the hours so the rate has no steps, and the
//! queue's opening hours cut the curve to zero outside them.

use serde::{Deserialize, Serialize};

use crate::clock::{ClockTime, DAY_SECONDS};

/// A named curve shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurveShape {
    /// Peaks around 10:00 and 15:00, a lunch dip, quiet nights.
    #[default]
    TwoPeaks,
    /// The same rate all day (within opening hours).
    Flat,
}

/// Relative weights of each local hour 00..23 for [`CurveShape::TwoPeaks`].
const TWO_PEAKS: [f64; 24] = [
    0.10, 0.06, 0.05, 0.05, 0.05, 0.08, 0.20, 0.60, 1.60, 2.70, 3.20, 3.00, 2.30, 2.10, 2.70, 3.10,
    2.90, 2.30, 1.70, 1.30, 1.00, 0.70, 0.40, 0.20,
];

/// A queue's curve, ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    hourly: [f64; 24],
    open: ClockTime,
    close: ClockTime,
}

impl Curve {
    /// `hourly` (24 non-negative weights) overrides `shape` when given; the caller has checked
    /// its length and values.
    pub fn new(
        shape: CurveShape,
        hourly: Option<&[f64]>,
        open: ClockTime,
        close: ClockTime,
    ) -> Curve {
        let mut weights = match shape {
            CurveShape::TwoPeaks => TWO_PEAKS,
            CurveShape::Flat => [1.0; 24],
        };
        if let Some(h) = hourly
            && h.len() == 24
        {
            weights.copy_from_slice(h);
        }
        Curve {
            hourly: weights,
            open,
            close,
        }
    }

    /// The relative arrival rate at `local_s` seconds after local midnight.
    pub fn weight(&self, local_s: u32) -> f64 {
        if local_s < self.open.seconds() || local_s >= self.close.seconds() {
            return 0.0;
        }
        if self.hourly.iter().all(|&w| w == self.hourly[0]) {
            return self.hourly[0];
        }
        // Interpolate between hour middles (hour h's weight sits at h:30), wrapping at midnight.
        let x = f64::from(local_s % DAY_SECONDS) / 3600.0 - 0.5;
        let x = if x < 0.0 { x + 24.0 } else { x };
        let lo = x.floor() as usize % 24;
        let hi = (lo + 1) % 24;
        let frac = x - x.floor();
        self.hourly[lo] * (1.0 - frac) + self.hourly[hi] * frac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> u32 {
        s.parse::<ClockTime>().unwrap().seconds()
    }

    #[test]
    fn two_peaks_peak_mid_morning_and_mid_afternoon() {
        let c = Curve::new(
            CurveShape::TwoPeaks,
            None,
            ClockTime::MIDNIGHT,
            ClockTime::END_OF_DAY,
        );
        let w = |s| c.weight(t(s));
        assert!(w("10:30") > w("08:30") && w("10:30") > w("12:30"));
        assert!(w("15:30") > w("13:30") && w("15:30") > w("18:30"));
        assert!(w("03:00") < w("10:30") / 20.0);
        // Continuous: no step between neighbouring minutes.
        assert!((w("10:59") - w("11:00")).abs() < 0.01);
    }

    #[test]
    fn opening_hours_cut_the_curve() {
        let c = Curve::new(
            CurveShape::Flat,
            None,
            "08:00".parse().unwrap(),
            "22:00".parse().unwrap(),
        );
        assert_eq!(c.weight(t("07:59")), 0.0);
        assert_eq!(c.weight(t("08:00")), 1.0);
        assert_eq!(c.weight(t("21:59")), 1.0);
        assert_eq!(c.weight(t("22:00")), 0.0);
    }

    #[test]
    fn hourly_weights_override_the_shape() {
        let mut h = [0.0; 24];
        h[12] = 5.0;
        let c = Curve::new(
            CurveShape::TwoPeaks,
            Some(&h),
            ClockTime::MIDNIGHT,
            ClockTime::END_OF_DAY,
        );
        assert_eq!(c.weight(t("12:30")), 5.0);
        assert_eq!(c.weight(t("10:30")), 0.0);
    }
}
