//! Why a rule was refused, naming its key in the config.

/// A rule that does not make sense, naming its key in the config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The metric is not one the engine computes.
    #[error("{key}: unknown metric \"{name}\" (expected one of: {expected})")]
    UnknownMetric {
        /// Where.
        key: String,
        /// The name given.
        name: String,
        /// The names accepted.
        expected: String,
    },
    /// A field the kind needs is missing.
    #[error("{key}: required for kind \"{kind}\"")]
    Required {
        /// Where.
        key: String,
        /// The rule's kind.
        kind: &'static str,
    },
    /// A field the kind does not use is set.
    #[error("{key}: not used by kind \"{kind}\"")]
    NotUsed {
        /// Where.
        key: String,
        /// The rule's kind.
        kind: &'static str,
    },
    /// Two rules with one id.
    #[error("{key}: duplicate rule id \"{id}\"")]
    Duplicate {
        /// Where.
        key: String,
        /// The id given twice.
        id: String,
    },
    /// Anything else that is wrong.
    #[error("{key}: {problem}")]
    Invalid {
        /// Where.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

pub(super) fn invalid(key: String, problem: impl Into<String>) -> RuleError {
    RuleError::Invalid {
        key,
        problem: problem.into(),
    }
}
