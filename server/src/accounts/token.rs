//! Random secrets handed out once: API tokens (`fw_` and 64 hex digits, 256 bits from the
//! operating system) and the ids that name them in lists.
//!
//! Only the SHA-256 of a token is stored. That is enough for a secret of 256 random bits: no
//! dictionary or brute force reaches it, so a slow password hash would only slow every request
//! down. Sessions use the same kind of secret ([`random_secret`]).

use sha2::{Digest, Sha256};

/// What every API token starts with, so that secret scanners and people recognise one.
pub(crate) const TOKEN_PREFIX: &str = "fw_";

pub(crate) use crate::secret::Secret;

/// The lowercase-hex SHA-256 of a presented secret.
pub(crate) fn digest(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// Compares without returning early, so the time taken says nothing about the digest (or the
/// pairing code).
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The operating system could not give random bytes (a machine without entropy source).
#[derive(Debug, thiserror::Error)]
#[error("no random bytes from the operating system: {0}")]
pub(crate) struct RandomError(getrandom::Error);

/// `prefix` followed by `bytes` random bytes in hex.
pub(crate) fn random_secret(prefix: &str, bytes: usize) -> Result<Secret, RandomError> {
    Ok(Secret::new(format!("{prefix}{}", random_hex(bytes)?)))
}

/// A new API token: 256 bits.
pub(crate) fn new_api_token() -> Result<Secret, RandomError> {
    random_secret(TOKEN_PREFIX, 32)
}

/// What every device credential (a paired wall display's) starts with.
pub(crate) const DEVICE_PREFIX: &str = "fwd_";

/// A new device credential: 256 bits, like an API token, with its own prefix so that a
/// presented secret says which book to look it up in.
pub(crate) fn new_device_credential() -> Result<Secret, RandomError> {
    random_secret(DEVICE_PREFIX, 32)
}

/// Fills `buf` with random bytes from the operating system.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), RandomError> {
    getrandom::fill(buf).map_err(RandomError)
}

/// A short public id (`tok_` and 8 hex digits) to list and revoke a token by; it says
/// nothing about the token itself.
pub(crate) fn new_token_id() -> Result<String, RandomError> {
    Ok(format!("tok_{}", random_hex(4)?))
}

fn random_hex(bytes: usize) -> Result<String, RandomError> {
    let mut buf = vec![0u8; bytes];
    fill_random(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_random_bits_and_a_recognisable_prefix() {
        let a = new_api_token().unwrap();
        let b = new_api_token().unwrap();
        assert_ne!(a, b);
        let hex = a.expose().strip_prefix(TOKEN_PREFIX).unwrap();
        assert_eq!(hex.len(), 64);
        assert!(hex.bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(!format!("{a:?}").contains(hex));
    }

    #[test]
    fn the_digest_is_sha256_hex() {
        // The SHA-256 test vector for "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let token = new_api_token().unwrap();
        assert_eq!(token.digest(), digest(token.expose()));
    }

    #[test]
    fn ids_are_short_and_distinct() {
        let id = new_token_id().unwrap();
        assert!(id.starts_with("tok_") && id.len() == 12, "{id}");
        assert_ne!(id, new_token_id().unwrap());
    }
}
