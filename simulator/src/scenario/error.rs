//! Why a scenario was refused: the error a caller sees (with where the scenario came from and
//! the key at fault) and the problem the checks report before the origin is known.

use std::path::PathBuf;

/// Why a scenario was refused. Each names where it came from and the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Neither a preset nor a file.
    #[error("unknown scenario preset `{0}` (expected small, medium or large, or a .toml file)")]
    UnknownPreset(String),
    /// The file could not be read.
    #[error("cannot read scenario {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or a value of the wrong type or an unknown key.
    #[error("{origin}: {}{message}{}", key_prefix(key), line_suffix(*line))]
    Toml {
        /// Where the scenario came from.
        origin: String,
        /// The key at fault (empty when the text itself is wrong).
        key: String,
        /// What is wrong.
        message: String,
        /// The line, when known.
        line: Option<usize>,
    },
    /// Well-formed TOML whose values do not make a centre.
    #[error("{origin}: {key}: {problem}")]
    Invalid {
        /// Where the scenario came from.
        origin: String,
        /// The key at fault.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() || key == "." {
        String::new()
    } else {
        format!("{key}: ")
    }
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

impl ScenarioError {
    /// The key at fault, when there is one (`queues[1].talk_s.mean`).
    pub fn key(&self) -> Option<&str> {
        match self {
            ScenarioError::Toml { key, .. } | ScenarioError::Invalid { key, .. }
                if !key.is_empty() =>
            {
                Some(key)
            }
            _ => None,
        }
    }
}

/// A problem found while checking a parsed scenario: the key and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub key: String,
    pub problem: String,
}

impl Invalid {
    pub(crate) fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Invalid {
            key: key.into(),
            problem: problem.into(),
        }
    }
}
