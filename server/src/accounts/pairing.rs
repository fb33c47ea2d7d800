//! Pairing a screen by a short code (docs/SECURITY.md, "Devices"): the TV's sign-in page asks
//! for a pairing request and shows its code; an admin types the code on their own page; the TV,
//! polling its request, then collects a device credential.
//!
//! The code is what a person reads off a TV across a room and types: 8 characters from an
//! alphabet without look-alikes (no 0/O, 1/I/L), about 39 bits, valid for a few minutes and used
//! once. Typing it only ever pairs the screen that asked: the credential is handed to whoever
//! holds the request's poll secret (an `HttpOnly` cookie of the TV's browser), never to the
//! admin who typed the code nor to anyone who merely saw it. Starting requests is rate-limited
//! per address and the number waiting is capped, so nobody fills memory with them.
//!
//! Pure and clock-injected (`now` is monotonic: nothing here outlives the process). A pending
//! request lives in memory only: after a restart the TV simply asks for a new code.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::token::{self, RandomError, Secret, constant_time_eq};

/// What a pairing request's poll secret starts with.
const POLL_PREFIX: &str = "fwp_";
/// The characters of a code: digits and capitals without the easily confused 0, O, 1, I, L.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in a code (shown as two groups of four).
const CODE_LEN: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PairingPolicy {
    /// How long a code can be typed, and how long a paired screen has to collect its credential.
    pub(crate) lifetime: Duration,
    /// Requests one address (an IPv6 /64) may start per `window`.
    pub(crate) per_address: usize,
    pub(crate) window: Duration,
    /// Requests waiting at once, from everyone.
    pub(crate) max_pending: usize,
}

impl Default for PairingPolicy {
    fn default() -> PairingPolicy {
        PairingPolicy {
            lifetime: Duration::from_secs(5 * 60),
            per_address: 5,
            window: Duration::from_secs(60),
            max_pending: 256,
        }
    }
}

/// A pairing request just started: the poll secret (for the TV's cookie), the code to show.
#[derive(Debug)]
pub(crate) struct Started {
    pub(crate) poll: Secret,
    pub(crate) code: String,
    pub(crate) expires_in: Duration,
}

/// Why no pairing request was started or no code was accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PairingRefused {
    #[error("too many pairing requests from this address; try again in {} s", .0.as_secs().max(1))]
    TooMany(Duration),
    #[error("too many screens are waiting to be paired; try again in a few minutes")]
    Full,
    #[error("no screen is showing that pairing code (it is used once and valid for a few minutes)")]
    UnknownCode,
    #[error("{0}")]
    Random(String),
}

impl From<RandomError> for PairingRefused {
    fn from(e: RandomError) -> PairingRefused {
        PairingRefused::Random(e.to_string())
    }
}

/// A code an admin typed, held while the device is created: [`Pairings::complete`] or
/// [`Pairings::release`] it.
#[derive(Debug)]
pub(crate) struct Claim {
    poll_digest: String,
    /// The address that asked for the code (for the audit record).
    pub(crate) requester: IpAddr,
}

/// What the TV's poll finds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Poll {
    /// Not paired yet: the code to keep showing, and for how long.
    Waiting { code: String, expires_in: Duration },
    /// Paired: the device's name and its credential, handed out this once.
    Paired { device: String, credential: Secret },
    /// No such request (never started, expired, or already collected).
    Gone,
}

#[derive(Debug)]
enum Stage {
    Waiting,
    /// An admin typed the code; the device is being written.
    Claimed,
    Paired {
        device: String,
        credential: Secret,
    },
}

#[derive(Debug)]
struct Pending {
    code: String,
    requester: IpAddr,
    expires: Instant,
    stage: Stage,
}

/// The pairing requests of one server.
#[derive(Debug, Default)]
pub(crate) struct Pairings {
    policy: PairingPolicy,
    /// By the SHA-256 of the poll secret.
    pending: HashMap<String, Pending>,
    /// Recent starts per address, for the rate limit.
    starts: HashMap<IpAddr, VecDeque<Instant>>,
}

impl Pairings {
    pub(crate) fn new(policy: PairingPolicy) -> Pairings {
        Pairings {
            policy,
            ..Pairings::default()
        }
    }

    /// Starts a pairing request for a screen at `peer`.
    pub(crate) fn start(&mut self, peer: IpAddr, now: Instant) -> Result<Started, PairingRefused> {
        self.prune(now);
        let key = address_key(peer);
        let window = self.policy.window;
        let recent = self.starts.entry(key).or_default();
        while recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            recent.pop_front();
        }
        if recent.len() >= self.policy.per_address {
            let oldest = recent.front().copied().unwrap_or(now);
            let wait = window.saturating_sub(now.saturating_duration_since(oldest));
            return Err(PairingRefused::TooMany(wait));
        }
        if self.pending.len() >= self.policy.max_pending {
            return Err(PairingRefused::Full);
        }
        recent.push_back(now);
        let mut code = new_code()?;
        while self.pending.values().any(|p| p.code == code) {
            code = new_code()?;
        }
        let poll = token::random_secret(POLL_PREFIX, 32)?;
        self.pending.insert(
            poll.digest(),
            Pending {
                code: code.clone(),
                requester: peer,
                expires: now + self.policy.lifetime,
                stage: Stage::Waiting,
            },
        );
        Ok(Started {
            poll,
            code,
            expires_in: self.policy.lifetime,
        })
    }

    /// Takes the request showing `typed` (any case, dashes and blanks ignored) for pairing: no
    /// one else can claim it meanwhile.
    pub(crate) fn claim(&mut self, typed: &str, now: Instant) -> Result<Claim, PairingRefused> {
        self.prune(now);
        let typed = normalise(typed);
        let found = self
            .pending
            .iter_mut()
            .find(|(_, p)| matches!(p.stage, Stage::Waiting) && constant_time_eq(&p.code, &typed));
        let Some((digest, pending)) = found else {
            return Err(PairingRefused::UnknownCode);
        };
        pending.stage = Stage::Claimed;
        Ok(Claim {
            poll_digest: digest.clone(),
            requester: pending.requester,
        })
    }

    /// The device could not be created: the code can be typed again.
    pub(crate) fn release(&mut self, claim: Claim) {
        if let Some(pending) = self.pending.get_mut(&claim.poll_digest) {
            pending.stage = Stage::Waiting;
        }
    }

    /// The device was created: its credential waits for the screen's next poll (for another
    /// lifetime at most).
    pub(crate) fn complete(
        &mut self,
        claim: Claim,
        device: String,
        credential: Secret,
        now: Instant,
    ) {
        if let Some(pending) = self.pending.get_mut(&claim.poll_digest) {
            pending.stage = Stage::Paired { device, credential };
            pending.expires = now + self.policy.lifetime;
        }
    }

    /// What the screen holding `poll` finds; a credential is handed out once and the request
    /// is gone.
    pub(crate) fn poll(&mut self, poll: &str, now: Instant) -> Poll {
        self.prune(now);
        let digest = token::digest(poll);
        let Some(pending) = self.pending.get(&digest) else {
            return Poll::Gone;
        };
        match &pending.stage {
            Stage::Waiting | Stage::Claimed => Poll::Waiting {
                code: pending.code.clone(),
                expires_in: pending.expires.saturating_duration_since(now),
            },
            Stage::Paired { .. } => match self.pending.remove(&digest).map(|p| p.stage) {
                Some(Stage::Paired { device, credential }) => Poll::Paired { device, credential },
                _ => Poll::Gone,
            },
        }
    }

    /// Requests waiting, claimed or paired and not yet collected.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    fn prune(&mut self, now: Instant) {
        self.pending.retain(|_, p| {
            let alive = p.expires > now;
            if !alive && let Stage::Paired { device, .. } = &p.stage {
                tracing::warn!(
                    device = %device,
                    "a paired screen never collected its credential; revoke the device and pair again"
                );
            }
            alive
        });
        let window = self.policy.window;
        self.starts.retain(|_, recent| {
            recent
                .back()
                .is_some_and(|t| now.saturating_duration_since(*t) < window)
        });
    }
}

/// How a code is shown: `ABCD-EFGH`.
pub(crate) fn display_code(code: &str) -> String {
    if code.len() == CODE_LEN && code.is_ascii() {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_string()
    }
}

/// A typed code as stored: capitals, without dashes and blanks.
fn normalise(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .take(4 * CODE_LEN)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A new code: each character uniform over the alphabet (bytes past the last whole multiple of
/// its length are drawn again, so no character is likelier than another).
fn new_code() -> Result<String, RandomError> {
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut code = String::with_capacity(CODE_LEN);
    let mut buf = [0u8; 16];
    while code.len() < CODE_LEN {
        token::fill_random(&mut buf)?;
        for b in buf {
            if b < limit && code.len() < CODE_LEN {
                code.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
        }
    }
    Ok(code)
}

/// One address for the rate limit: an IPv4 address, or an IPv6 /64 (what one client holds).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// The pairing requests of this server, and the screens that signed in since it started (each
/// is audited as `login` once per run, not on every request).
#[derive(Debug)]
pub(crate) struct DeviceDesk {
    pairings: Mutex<Pairings>,
    seen: Mutex<HashSet<String>>,
}

impl Default for DeviceDesk {
    fn default() -> DeviceDesk {
        DeviceDesk {
            pairings: Mutex::new(Pairings::new(PairingPolicy::default())),
            seen: Mutex::new(HashSet::new()),
        }
    }
}

impl DeviceDesk {
    /// The pending pairing requests, locked briefly (never across an await).
    pub(crate) fn pairings(&self) -> MutexGuard<'_, Pairings> {
        self.pairings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this is the screen's first request since the server started (then it is
    /// audited as a `login`).
    pub(crate) fn first_seen(&self, device: &str) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(device.to_string())
    }

    /// Forgets a screen (revoked, or its first request could not be audited).
    pub(crate) fn forget(&self, device: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(device);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn codes_are_eight_unambiguous_characters() {
        for _ in 0..200 {
            let code = new_code().unwrap();
            assert_eq!(code.len(), CODE_LEN);
            assert!(code.bytes().all(|c| ALPHABET.contains(&c)), "{code}");
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        }
        assert_eq!(display_code("ABCD2345"), "ABCD-2345");
        assert_eq!(normalise(" abcd-2345 "), "ABCD2345");
    }

    #[test]
    fn a_typed_code_pairs_the_screen_that_asked_once() {
        let t0 = Instant::now();
        let mut pairings = Pairings::default();
        let started = pairings.start(peer(1), t0).unwrap();
        let poll = started.poll.expose().to_string();
        assert!(poll.starts_with(POLL_PREFIX));
        assert_eq!(
            pairings.poll(&poll, t0 + Duration::from_secs(1)),
            Poll::Waiting {
                code: started.code.clone(),
                expires_in: Duration::from_secs(299)
            }
        );
        // Typed as shown, lowercase, with the dash.
        let typed = display_code(&started.code).to_lowercase();
        let claim = pairings.claim(&typed, t0).unwrap();
        assert_eq!(claim.requester, peer(1));
        // Claimed: nobody can claim it again meanwhile.
        assert_eq!(
            pairings.claim(&started.code, t0).unwrap_err(),
            PairingRefused::UnknownCode
        );
        let credential = token::new_device_credential().unwrap();
        pairings.complete(claim, "lobby-tv".into(), credential.clone(), t0);
        assert_eq!(
            pairings.poll(&poll, t0),
            Poll::Paired {
                device: "lobby-tv".into(),
                credential
            }
        );
        // Handed out once; the code is used up.
        assert_eq!(pairings.poll(&poll, t0), Poll::Gone);
        assert_eq!(
            pairings.claim(&started.code, t0).unwrap_err(),
            PairingRefused::UnknownCode
        );
        assert_eq!(pairings.poll("fwp_never", t0), Poll::Gone);
        assert_eq!(pairings.len(), 0);
    }

    #[test]
    fn a_released_code_can_be_typed_again_and_codes_expire() {
        let t0 = Instant::now();
        let mut pairings = Pairings::default();
        let started = pairings.start(peer(1), t0).unwrap();
        let claim = pairings.claim(&started.code, t0).unwrap();
        pairings.release(claim);
        assert!(pairings.claim(&started.code, t0).is_ok());
        let other = pairings.start(peer(1), t0).unwrap();
        let late = t0 + Duration::from_secs(300);
        assert_eq!(
            pairings.claim(&other.code, late).unwrap_err(),
            PairingRefused::UnknownCode
        );
        assert_eq!(pairings.poll(other.poll.expose(), late), Poll::Gone);
        assert_eq!(pairings.len(), 0);
    }

    #[test]
    fn starts_are_rate_limited_per_address_and_capped() {
        let t0 = Instant::now();
        let mut pairings = Pairings::new(PairingPolicy {
            max_pending: 7,
            ..PairingPolicy::default()
        });
        for _ in 0..5 {
            pairings.start(peer(1), t0).unwrap();
        }
        assert_eq!(
            pairings
                .start(peer(1), t0 + Duration::from_secs(20))
                .unwrap_err(),
            PairingRefused::TooMany(Duration::from_secs(40))
        );
        // Another address is not held up, until too many wait.
        pairings.start(peer(2), t0).unwrap();
        pairings.start(peer(3), t0).unwrap();
        assert_eq!(
            pairings.start(peer(4), t0).unwrap_err(),
            PairingRefused::Full
        );
        // A minute later the first address may start again (its old requests still wait).
        let later = t0 + Duration::from_secs(60);
        assert_eq!(
            pairings.start(peer(1), later).unwrap_err(),
            PairingRefused::Full
        );
        let expired = t0 + Duration::from_secs(301);
        assert!(pairings.start(peer(1), expired).is_ok());
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let t0 = Instant::now();
        let mut pairings = Pairings::default();
        let started = pairings.start(peer(1), t0).unwrap();
        let claim = pairings.claim(&started.code, t0).unwrap();
        let credential = token::new_device_credential().unwrap();
        pairings.complete(claim, "tv".into(), credential.clone(), t0);
        let shown = format!("{pairings:?} {started:?}");
        assert!(!shown.contains(credential.expose()));
        assert!(!shown.contains(started.poll.expose()));
    }
}
