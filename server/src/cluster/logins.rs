//! Lock-outs across the cluster (docs/CLUSTER.md, "Shared state"): every wrong or right
//! password tried on a node is told to the others on the NATS subject `floorwatch.logins`, and
//! each node counts them in its own login guard as if tried there, so five wrong passwords
//! lock an account on every node, wherever they were tried.
//!
//! Plain NATS, not JetStream: the guard is memory that a restart forgets (which only ever lets
//! someone retry sooner, never locks anyone out longer), and a node cut off from the others
//! counts its own tries only, as a lone node does.

use std::sync::Arc;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::accounts::login::Teller;

/// The subject.
const SUBJECT: &str = "floorwatch.logins";

#[derive(Debug, Serialize, Deserialize)]
struct Tried {
    node: String,
    user: String,
    failed: bool,
}

/// One node's end of the cluster's login news.
#[derive(Debug, Clone)]
pub(crate) struct SharedLogins {
    client: async_nats::Client,
    node: String,
}

impl SharedLogins {
    pub(crate) fn new(client: async_nats::Client, node: &str) -> SharedLogins {
        SharedLogins {
            client,
            node: node.to_string(),
        }
    }

    /// What this node's login guard calls for each password tried here: published at once,
    /// off the caller's path (a lost message only lets someone retry sooner).
    pub(crate) fn teller(&self) -> Teller {
        let this = self.clone();
        let handle = tokio::runtime::Handle::current();
        Teller(Arc::new(move |user: &str, failed: bool| {
            let tried = Tried {
                node: this.node.clone(),
                user: user.to_string(),
                failed,
            };
            let Ok(payload) = serde_json::to_vec(&tried) else {
                return;
            };
            let client = this.client.clone();
            handle.spawn(async move {
                if let Err(e) = client.publish(SUBJECT, payload.into()).await {
                    tracing::warn!(error = %e, "a login could not be told to the cluster");
                }
            });
        }))
    }

    /// Hands every password tried on another node to `heard` (`user`, `failed`), until
    /// `shutdown`; subscribes again when the subscription ends.
    pub(crate) async fn follow(
        self,
        heard: impl Fn(&str, bool) + Send + 'static,
        mut shutdown: crate::shutdown::Shutdown,
    ) {
        loop {
            let subscribed = tokio::select! {
                s = self.client.subscribe(SUBJECT) => s,
                () = shutdown.recv() => return,
            };
            match subscribed {
                Ok(mut news) => loop {
                    let next = tokio::select! {
                        next = news.next() => next,
                        () = shutdown.recv() => return,
                    };
                    let Some(message) = next else { break };
                    match serde_json::from_slice::<Tried>(&message.payload) {
                        Ok(tried) if tried.node != self.node => heard(&tried.user, tried.failed),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "unreadable login news ignored"),
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "the cluster's login news cannot be followed; retrying")
                }
            }
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                () = shutdown.recv() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::sync::Mutex;
    use std::time::Instant;

    use super::*;
    use crate::accounts::{LoginGuard, LoginPolicy, Refusal};
    use crate::shutdown::Trigger;
    use crate::test_nats::NatsServer;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_passwords_on_one_node_lock_the_account_on_another() {
        let server = NatsServer::start();
        let trigger = Trigger::new();
        let a = SharedLogins::new(server.client().await, "a");
        let b = SharedLogins::new(server.client().await, "b");
        let guard_b = Arc::new(Mutex::new(LoginGuard::new(LoginPolicy::default())));
        let users_heard = Arc::new(Mutex::new(Vec::<String>::new()));
        let (heard, users) = (guard_b.clone(), users_heard.clone());
        tokio::spawn(b.clone().follow(
            move |user, failed| {
                users.lock().unwrap().push(user.to_string());
                heard.lock().unwrap().heard(user, failed, Instant::now());
            },
            trigger.subscribe(),
        ));
        // B follows once a third node's news reaches it.
        let c = SharedLogins::new(server.client().await, "c").teller();
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        while !users_heard.lock().unwrap().iter().any(|u| u == "probe") {
            (c.0)("probe", false);
            assert!(Instant::now() < deadline, "B never subscribed");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let mut guard_a = LoginGuard::new(LoginPolicy::default()).told_by(a.teller());
        let locked = (0..5)
            .filter_map(|_| guard_a.failed("lead1", Instant::now()))
            .count();
        assert_eq!(locked, 1, "the fifth wrong password locks on A");
        // B counts A's five: the account is locked there too (each probe from a new address,
        // so no address limit answers instead).
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        let mut probe = 0u32;
        loop {
            probe += 1;
            let address = IpAddr::from([10, 0, (probe >> 8) as u8, probe as u8]);
            match guard_b
                .lock()
                .unwrap()
                .admit("lead1", address, Instant::now())
            {
                Err(Refusal::AccountLocked { .. }) => break,
                Ok(()) => {}
                Err(other) => panic!("{other:?}"),
            }
            assert!(Instant::now() < deadline, "B never heard of A's failures");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        trigger.fire();
    }
}
