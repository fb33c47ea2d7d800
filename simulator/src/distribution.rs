//! Random durations as a scenario writes them: `talk_s = { mean = 240, cv = 0.7 }`.
//!
//! Talk, hold and after-call-work times in real centres are skewed to the right (most calls are
//! short, a few are very long), which a log-normal matches well; it is the default. Exponential
//! durations are there for the Erlang C check, whose theory assumes them, and constant ones for
//! hand-made test days.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal};
use serde::{Deserialize, Serialize};

use crate::scenario::Invalid;

/// The shape of a random duration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Log-normal with the given mean and coefficient of variation.
    #[default]
    LogNormal,
    /// Exponential with the given mean (`cv` is ignored: it is always 1).
    Exponential,
    /// Always exactly the mean.
    Constant,
}

/// A random duration in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurationSpec {
    /// The shape of the distribution.
    #[serde(default)]
    pub dist: Shape,
    /// Mean, seconds.
    pub mean: f64,
    /// Coefficient of variation (standard deviation / mean) of a log-normal.
    #[serde(default = "default_cv")]
    pub cv: f64,
}

fn default_cv() -> f64 {
    0.6
}

impl DurationSpec {
    /// Log-normal with this mean and coefficient of variation: most durations short, a long tail.
    pub const fn log_normal(mean: f64, cv: f64) -> Self {
        DurationSpec {
            dist: Shape::LogNormal,
            mean,
            cv,
        }
    }

    /// Always `mean`.
    pub const fn constant(mean: f64) -> Self {
        DurationSpec {
            dist: Shape::Constant,
            mean,
            cv: 0.0,
        }
    }

    /// Checks the numbers, naming `key` when they are wrong.
    pub(crate) fn check(&self, key: &str) -> Result<(), Invalid> {
        let ok_mean = self.mean.is_finite()
            && match self.dist {
                Shape::Constant => self.mean >= 0.0,
                _ => self.mean > 0.0,
            };
        if !ok_mean {
            return Err(Invalid::new(
                format!("{key}.mean"),
                format!("must be a number of seconds > 0, not {}", self.mean),
            ));
        }
        if !(self.cv.is_finite() && (0.0..=10.0).contains(&self.cv)) {
            return Err(Invalid::new(
                format!("{key}.cv"),
                format!("must be between 0 and 10, not {}", self.cv),
            ));
        }
        Ok(())
    }

    /// The sampler; the spec must have passed [`DurationSpec::check`].
    pub(crate) fn sampler(&self) -> Sampler {
        match self.dist {
            Shape::Constant => Sampler::Constant(self.mean),
            Shape::Exponential => match Exp::new(1.0 / self.mean) {
                Ok(exp) => Sampler::Exponential(exp),
                Err(_) => Sampler::Constant(self.mean),
            },
            Shape::LogNormal => match LogNormal::from_mean_cv(self.mean, self.cv) {
                Ok(ln) if self.cv > 0.0 => Sampler::LogNormal(ln),
                _ => Sampler::Constant(self.mean),
            },
        }
    }
}

/// A ready-to-draw duration distribution.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sampler {
    Constant(f64),
    Exponential(Exp<f64>),
    LogNormal(LogNormal<f64>),
}

impl Sampler {
    /// One draw, in whole milliseconds (never negative).
    pub(crate) fn ms<R: Rng + ?Sized>(&self, rng: &mut R) -> i64 {
        let s = match self {
            Sampler::Constant(s) => *s,
            Sampler::Exponential(d) => d.sample(rng),
            Sampler::LogNormal(d) => d.sample(rng),
        };
        seconds_to_ms(s)
    }
}

/// A normal draw (sign-in offsets), in whole milliseconds.
pub(crate) fn normal_ms<R: Rng + ?Sized>(rng: &mut R, mean_s: f64, sd_s: f64) -> i64 {
    let s = match Normal::new(mean_s, sd_s.max(0.0)) {
        Ok(n) => n.sample(rng),
        Err(_) => mean_s,
    };
    (s * 1000.0).round() as i64
}

/// Seconds to whole milliseconds, clamped to at most a day so a freak draw from a long tail
/// cannot push a call past the simulated day by weeks.
pub(crate) fn seconds_to_ms(s: f64) -> i64 {
    if s.is_finite() {
        (s.clamp(0.0, 86_400.0) * 1000.0).round() as i64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha8Rng;

    fn mean_of(spec: DurationSpec, n: usize) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let sampler = spec.sampler();
        (0..n).map(|_| sampler.ms(&mut rng) as f64).sum::<f64>() / n as f64 / 1000.0
    }

    #[test]
    fn means_are_what_the_scenario_says() {
        // 200,000 draws: the standard error of the mean is mean·cv/√n ≈ 0.16 % for cv 0.7,
        // so 1 % is more than six standard errors.
        let ln = mean_of(DurationSpec::log_normal(240.0, 0.7), 200_000);
        assert!((ln / 240.0 - 1.0).abs() < 0.01, "{ln}");
        let exp = mean_of(
            DurationSpec {
                dist: Shape::Exponential,
                mean: 60.0,
                cv: 1.0,
            },
            200_000,
        );
        assert!((exp / 60.0 - 1.0).abs() < 0.01, "{exp}");
        assert_eq!(mean_of(DurationSpec::constant(3.5), 10), 3.5);
    }

    #[test]
    fn bad_numbers_name_the_key() {
        let err = DurationSpec::log_normal(-1.0, 0.5)
            .check("queues[0].talk_s")
            .unwrap_err();
        assert_eq!(err.key, "queues[0].talk_s.mean");
        let err = DurationSpec::log_normal(10.0, -0.5)
            .check("queues[0].talk_s")
            .unwrap_err();
        assert_eq!(err.key, "queues[0].talk_s.cv");
    }
}
