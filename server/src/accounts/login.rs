//! The login policy: a temporary lock-out of an account after repeated wrong passwords, and a
//! rate limit per client address. Pure and clock-injected: every call takes `now`, so tests
//! run it without waiting and the server passes `Instant::now()`.
//!
//! Monotonic time ([`Instant`]) on purpose: setting the wall clock back must not unlock an
//! account. The state is in memory; a restart forgets it, which only ever lets someone retry
//! sooner, never locks anyone out for longer.
//!
//! Use, around [`super::Accounts::authenticate_password`]:
//! 1. [`LoginGuard::admit`] — refused: answer 429 with `Retry-After`, verify nothing;
//! 2. verify the password;
//! 3. [`LoginGuard::failed`] or [`LoginGuard::succeeded`].

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The numbers of the policy. The defaults: 5 wrong passwords within 15 minutes lock the
/// account for 15 minutes; one address may try 10 logins a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LoginPolicy {
    pub(crate) max_failures: usize,
    pub(crate) failure_window: Duration,
    pub(crate) lockout: Duration,
    pub(crate) max_attempts_per_address: usize,
    pub(crate) address_window: Duration,
}

impl Default for LoginPolicy {
    fn default() -> LoginPolicy {
        LoginPolicy {
            max_failures: 5,
            failure_window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(15 * 60),
            max_attempts_per_address: 10,
            address_window: Duration::from_secs(60),
        }
    }
}

/// Why an attempt was not even tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("too many wrong passwords: the account is locked for {}s", retry_after.as_secs().max(1))]
    AccountLocked { retry_after: Duration },
    #[error("too many login attempts from this address: try again in {}s", retry_after.as_secs().max(1))]
    AddressThrottled { retry_after: Duration },
}

impl Refusal {
    /// How long the client should wait (`Retry-After`).
    pub(crate) fn retry_after(&self) -> Duration {
        match self {
            Refusal::AccountLocked { retry_after } | Refusal::AddressThrottled { retry_after } => {
                *retry_after
            }
        }
    }
}

/// The account was just locked by this failure (worth an audit record and a log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Locked {
    pub(crate) until: Instant,
}

#[derive(Debug, Default)]
struct AccountAttempts {
    failures: VecDeque<Instant>,
    locked_until: Option<Instant>,
}

/// The lock-out and rate-limit state of one server.
#[derive(Debug, Default)]
pub(crate) struct LoginGuard {
    policy: LoginPolicy,
    accounts: HashMap<String, AccountAttempts>,
    addresses: HashMap<IpAddr, VecDeque<Instant>>,
    /// Cluster mode: tells the other nodes of each wrong and right password, so a lock-out
    /// counts the failures of the whole cluster (docs/CLUSTER.md, "Shared state").
    teller: Option<Teller>,
}

/// What a [`Teller`] calls: `(user, failed)`.
pub(crate) type Tell = dyn Fn(&str, bool) + Send + Sync;

/// Who hears of a password tried here.
#[derive(Clone)]
pub(crate) struct Teller(pub(crate) std::sync::Arc<Tell>);

impl std::fmt::Debug for Teller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Teller")
    }
}

impl LoginGuard {
    pub(crate) fn new(policy: LoginPolicy) -> LoginGuard {
        LoginGuard {
            policy,
            ..LoginGuard::default()
        }
    }

    /// The same guard, telling `teller` of every password tried here.
    pub(crate) fn told_by(mut self, teller: Teller) -> LoginGuard {
        self.teller = Some(teller);
        self
    }

    /// A password tried on another node of the cluster: counted as if tried here (a wrong one
    /// towards the lock-out, a right one forgets the failures), without telling anyone.
    pub(crate) fn heard(&mut self, user: &str, failed: bool, now: Instant) {
        if failed {
            self.count_failure(user, now);
        } else if let Some(account) = self.accounts.get_mut(&key(user)) {
            // A lock this node already holds stands: only the failures are forgotten.
            account.failures.clear();
        }
    }

    /// Whether an attempt to sign in as `user` from `address` may go ahead; counts it against
    /// the address (an IPv6 address counts as its /64). Unknown names are tracked like real ones, so a lock-out says nothing about
    /// whether a name exists.
    pub(crate) fn admit(
        &mut self,
        user: &str,
        address: IpAddr,
        now: Instant,
    ) -> Result<(), Refusal> {
        let window = self.policy.address_window;
        let attempts = self.addresses.entry(client_network(address)).or_default();
        drop_older(attempts, now, window);
        if attempts.len() >= self.policy.max_attempts_per_address {
            let oldest = attempts.front().copied().unwrap_or(now);
            return Err(Refusal::AddressThrottled {
                retry_after: (oldest + window).saturating_duration_since(now),
            });
        }
        if let Some(until) = self
            .accounts
            .get(&key(user))
            .and_then(|a| a.locked_until)
            .filter(|until| *until > now)
        {
            return Err(Refusal::AccountLocked {
                retry_after: until.saturating_duration_since(now),
            });
        }
        attempts.push_back(now);
        Ok(())
    }

    /// A wrong password for `user`: locks the account once it is the `max_failures`-th within
    /// the window.
    pub(crate) fn failed(&mut self, user: &str, now: Instant) -> Option<Locked> {
        if let Some(teller) = &self.teller {
            (teller.0)(user, true);
        }
        self.count_failure(user, now)
    }

    fn count_failure(&mut self, user: &str, now: Instant) -> Option<Locked> {
        let policy = self.policy;
        let account = self.accounts.entry(key(user)).or_default();
        drop_older(&mut account.failures, now, policy.failure_window);
        account.failures.push_back(now);
        if account.failures.len() >= policy.max_failures {
            account.failures.clear();
            let until = now + policy.lockout;
            account.locked_until = Some(until);
            Some(Locked { until })
        } else {
            None
        }
    }

    /// A right password: the account's failures are forgotten.
    pub(crate) fn succeeded(&mut self, user: &str) {
        if let Some(teller) = &self.teller {
            (teller.0)(user, false);
        }
        self.accounts.remove(&key(user));
    }

    /// Forgets everything that no longer matters at `now`; call it now and then (every minute)
    /// so that guessed names and passing addresses do not pile up.
    pub(crate) fn prune(&mut self, now: Instant) {
        let policy = self.policy;
        self.addresses.retain(|_, attempts| {
            drop_older(attempts, now, policy.address_window);
            !attempts.is_empty()
        });
        self.accounts.retain(|_, account| {
            drop_older(&mut account.failures, now, policy.failure_window);
            let locked = account.locked_until.is_some_and(|until| until > now);
            locked || !account.failures.is_empty()
        });
    }

    #[cfg(test)]
    /// Accounts and addresses tracked (for tests and metrics).
    pub(crate) fn tracked(&self) -> (usize, usize) {
        (self.accounts.len(), self.addresses.len())
    }
}

/// The unit the rate limit counts: an IPv4 address, or the /64 network of an IPv6 address
/// (one client usually holds a whole /64 and could otherwise rotate through it).
pub(crate) fn client_network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

fn key(user: &str) -> String {
    user.trim().to_lowercase()
}

fn drop_older(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn addr(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn five_failures_in_fifteen_minutes_lock_the_account_for_fifteen() {
        let mut guard = LoginGuard::default();
        let t0 = Instant::now();
        for i in 0..4 {
            let now = t0 + 2 * i * MIN;
            guard.admit("lead1", addr(i as u8), now).unwrap();
            assert_eq!(guard.failed("lead1", now), None, "failure {i}");
        }
        let fifth = t0 + 8 * MIN;
        guard.admit("lead1", addr(9), fifth).unwrap();
        assert_eq!(
            guard.failed("lead1", fifth),
            Some(Locked {
                until: fifth + 15 * MIN
            })
        );
        // Locked for everyone, whatever the address and however the name is written.
        let err = guard
            .admit("LEAD1", addr(20), fifth + 14 * MIN)
            .unwrap_err();
        assert_eq!(err, Refusal::AccountLocked { retry_after: MIN });
        assert!(err.to_string().contains("locked for 60s"), "{err}");
        // Other accounts are not affected; and after fifteen minutes it opens again.
        guard.admit("lead2", addr(20), fifth + MIN).unwrap();
        guard.admit("lead1", addr(21), fifth + 15 * MIN).unwrap();
    }

    #[test]
    fn failures_spread_wider_than_the_window_do_not_lock() {
        let mut guard = LoginGuard::default();
        let t0 = Instant::now();
        for i in 0..10 {
            let now = t0 + 4 * i * MIN;
            guard.admit("lead1", addr(1), now).unwrap();
            assert_eq!(guard.failed("lead1", now), None, "failure {i}");
        }
    }

    #[test]
    fn success_forgets_earlier_failures() {
        let mut guard = LoginGuard::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            guard.failed("lead1", t0);
        }
        guard.succeeded("lead1");
        assert_eq!(guard.failed("lead1", t0), None);
    }

    #[test]
    fn one_address_may_try_ten_times_a_minute() {
        let mut guard = LoginGuard::default();
        let t0 = Instant::now();
        for i in 0..10 {
            guard
                .admit(&format!("user{i}"), addr(1), t0 + Duration::from_secs(i))
                .unwrap();
        }
        let err = guard
            .admit("user99", addr(1), t0 + Duration::from_secs(30))
            .unwrap_err();
        assert_eq!(
            err,
            Refusal::AddressThrottled {
                retry_after: Duration::from_secs(30)
            }
        );
        assert_eq!(err.retry_after(), Duration::from_secs(30));
        guard.admit("user99", addr(2), t0).unwrap();
        guard.admit("user99", addr(1), t0 + MIN).unwrap();
    }

    #[test]
    fn an_ipv6_client_counts_as_its_slash_64() {
        let mut guard = LoginGuard::default();
        let t0 = Instant::now();
        for i in 0..10u16 {
            let rotated = IpAddr::from([0x2001, 0xdb8, 0, 1, i, i, i, i]);
            guard.admit("lead1", rotated, t0).unwrap();
        }
        let next = IpAddr::from([0x2001, 0xdb8, 0, 1, 0xffff, 0, 0, 7]);
        assert!(guard.admit("lead1", next, t0).is_err());
        let other = IpAddr::from([0x2001, 0xdb8, 0, 2, 0, 0, 0, 1]);
        guard.admit("lead1", other, t0).unwrap();
        // An IPv4-mapped address is its IPv4 address.
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        for _ in 0..10 {
            guard.admit("x", addr(1), t0).unwrap();
        }
        assert!(guard.admit("x", mapped, t0).is_err());
    }

    #[test]
    fn pruning_forgets_what_no_longer_counts() {
        let mut guard = LoginGuard::default();
        let t0 = Instant::now();
        guard.admit("ghost", addr(1), t0).unwrap();
        guard.failed("ghost", t0);
        for _ in 0..5 {
            guard.failed("locked", t0);
        }
        assert_eq!(guard.tracked(), (2, 1));
        guard.prune(t0 + 15 * MIN - Duration::from_secs(1));
        assert_eq!(
            guard.tracked(),
            (2, 0),
            "a failure and a lock-out still count"
        );
        guard.prune(t0 + 15 * MIN);
        assert_eq!(guard.tracked(), (0, 0));
    }
}
