//! Passwords: the policy a new one must meet, its Argon2id hash (a PHC string such as
//! `$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH`) and verification.
//!
//! The cost is the `argon2` crate's default, OWASP's minimum for Argon2id (19 MiB, 2 passes,
//! 1 lane): about 30 ms per hash in a release build. Verification reads the cost from the
//! stored string, so raising it later only affects new hashes. Hashing is CPU work: async
//! callers run it with `tokio::task::spawn_blocking`.

use std::fmt;

use argon2::password_hash::{PasswordHash, Salt, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Shortest accepted password, in characters.
pub(crate) const MIN_PASSWORD_CHARS: usize = 10;
/// Longest accepted password, in characters: bounds the work one login attempt can cause.
pub(crate) const MAX_PASSWORD_CHARS: usize = 256;

/// A password in memory. Never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Password(String);

impl Password {
    /// Wraps a password as typed (no policy check: use [`Password::new_for`] for new ones).
    pub(crate) fn given(text: impl Into<String>) -> Password {
        Password(text.into())
    }

    /// A new password for user `name`, checked against the policy: at least
    /// [`MIN_PASSWORD_CHARS`] characters, at most [`MAX_PASSWORD_CHARS`], not only blanks, not
    /// the user's name.
    pub(crate) fn new_for(
        name: &str,
        text: impl Into<String>,
    ) -> Result<Password, PasswordRefused> {
        let text = text.into();
        let chars = text.chars().count();
        if text.trim().is_empty() {
            return Err(PasswordRefused::Empty);
        }
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordRefused::TooShort { chars });
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordRefused::TooLong { chars });
        }
        if text.eq_ignore_ascii_case(name) {
            return Err(PasswordRefused::IsTheName);
        }
        Ok(Password(text))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Why a new password was refused; the message tells the user what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PasswordRefused {
    #[error("the password is empty")]
    Empty,
    #[error(
        "the password has {chars} characters; it needs at least {MIN_PASSWORD_CHARS} (a few \
         unrelated words make a good one)"
    )]
    TooShort { chars: usize },
    #[error("the password has {chars} characters; at most {MAX_PASSWORD_CHARS} are accepted")]
    TooLong { chars: usize },
    #[error("the password must not be the user's name")]
    IsTheName,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum HashError {
    #[error("no random salt from the operating system: {0}")]
    Random(getrandom::Error),
    #[error("hashing the password: {0}")]
    Argon2(argon2::password_hash::Error),
}

/// The Argon2id PHC string of `password` with a fresh 16-byte salt.
pub(crate) fn hash(password: &Password) -> Result<String, HashError> {
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    getrandom::fill(&mut salt).map_err(HashError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(HashError::Argon2)?;
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(HashError::Argon2)
}

/// Whether `password` matches the stored PHC string; a damaged string matches nothing.
pub(crate) fn verify(password: &Password, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of 32 random bytes that were thrown away, verified against when the user is unknown or has no
/// password, so that a wrong name takes as long to refuse as a wrong password and the time
/// taken does not tell which names exist.
const DECOY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$cg6jJI8+ZHNWND3UFsxczg$xwK2YR/0ZwbnpCF/7DjCmOVIVezUK5Lfwy6NNVKNemw";

/// Spends the time of one verification and fails.
pub(crate) fn verify_decoy(password: &Password) -> bool {
    std::hint::black_box(verify(password, DECOY_PHC));
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let pw = Password::new_for("alice", "correct horse battery").unwrap();
        let phc = hash(&pw).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify(&pw, &phc));
        assert!(!verify(&Password::given("correct horse battery!"), &phc));
        assert!(!verify(&pw, "$argon2id$garbage"));
        assert!(!verify(&pw, ""));
        let again = hash(&pw).unwrap();
        assert_ne!(phc, again, "every hash has its own salt");
    }

    #[test]
    fn the_decoy_never_matches() {
        assert!(!verify_decoy(&Password::given("correct horse")));
        assert!(!verify_decoy(&Password::given("")));
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert_eq!(Password::new_for("bob", ""), Err(PasswordRefused::Empty));
        assert_eq!(
            Password::new_for("bob", "          "),
            Err(PasswordRefused::Empty)
        );
        let err = Password::new_for("bob", "short").unwrap_err();
        assert_eq!(err, PasswordRefused::TooShort { chars: 5 });
        assert!(err.to_string().contains("at least 10"), "{err}");
        assert!(Password::new_for("bob", "x".repeat(257)).is_err());
        assert_eq!(
            Password::new_for("supervisor1", "Supervisor1"),
            Err(PasswordRefused::IsTheName)
        );
        // Characters, not bytes: ten Chinese characters are ten.
        assert!(Password::new_for("bob", "值班长值班长值班长值").is_ok());
    }

    #[test]
    fn passwords_never_show_in_debug_output() {
        let pw = Password::given("hunter2hunter2");
        assert!(!format!("{pw:?}").contains("hunter2"));
    }
}
