//! [`Secret`]: a credential held in memory (an API token, a session id, a device credential,
//! the ingest token, an AMI password) that never shows in logs or `Debug` output.
//!
//! Invariant: the value leaves a `Secret` only through [`Secret::expose`], at the one place that
//! needs it (a comparison, a `Set-Cookie`, a login frame).

use std::fmt;

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub(crate) fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value itself, for the one place that needs it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the secret, in lowercase hex: what is stored and looked up.
    pub(crate) fn digest(&self) -> String {
        format!("{:x}", Sha256::digest(self.0.as_bytes()))
    }
}

/// From the command line or the environment (`--ingest-token`).
impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

/// From the config file.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug() {
        let secret = Secret::new("fw_abc".into());
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.expose(), "fw_abc");
        assert_eq!(secret.digest(), crate::accounts::token::digest("fw_abc"));
    }
}
