//! Why a rule was refused, naming its key in the config.

/// A rule that does not make sense, naming its key in the config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("{key}: unknown metric \"{name}\" (expected one of: {expected})")]
    UnknownMetric {
        key: String,
        name: String,
        expected: String,
    },
    #[error("{key}: required for kind \"{kind}\"")]
    Required { key: String, kind: &'static str },
    #[error("{key}: not used by kind \"{kind}\"")]
    NotUsed { key: String, kind: &'static str },
    #[error("{key}: duplicate rule id \"{id}\"")]
    Duplicate { key: String, id: String },
    #[error("{key}: {problem}")]
    Invalid { key: String, problem: String },
}

pub(super) fn invalid(key: String, problem: impl Into<String>) -> RuleError {
    RuleError::Invalid {
        key,
        problem: problem.into(),
    }
}
