//! One manager session, as Asterisk's manager.c runs it: Login checked against the switch's
//! credentials, the session's event mask (`Events:` at login, the Events action) and its event
//! filters (the Filter action), and the replies to the actions a wallboard sends.
//!
//! Pure: the switch's loop reads actions off the socket, hands them to [`Session::act`] and
//! writes the replies; [`Session::wants`] says which of the day's events go to this session.

use std::collections::HashSet;

use floorwatch_core::Millis;
use floorwatch_core::ami::AmiMessage;
use regex::{Regex, RegexBuilder};

use super::floor::SwitchFloor;
use super::writer::EventClass;

/// The first line the switch sends on a new connection.
pub const BANNER: &str = "Asterisk Call Manager/5.0.2";

/// Most filters one session may set.
const MAX_FILTERS: usize = 64;
/// Longest filter expression accepted.
const MAX_FILTER_LEN: usize = 1024;

/// The manager user the switch accepts (manager.conf's `[username]` and `secret`).
#[derive(Clone)]
pub struct Credentials {
    /// The AMI user name.
    pub username: String,
    /// Its secret.
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    /// Never shows the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What the switch knows when an action arrives.
#[derive(Debug, Clone, Copy)]
pub struct SwitchNow<'a> {
    /// The switch as it stands now.
    pub floor: &'a SwitchFloor,
    /// The switch's clock (the simulated time), UTC ms.
    pub clock: Millis,
    /// Seconds since the switch started.
    pub uptime_s: u64,
}

/// One session's state.
#[derive(Debug, Clone)]
pub struct Session {
    logged_in: bool,
    mask: HashSet<EventClass>,
    filters: Vec<Filter>,
}

#[derive(Debug, Clone)]
struct Filter {
    exclude: bool,
    regex: Regex,
}

/// The outcome of one action.
#[derive(Debug, Clone, Default)]
pub struct Acted {
    /// Replies to write, in order.
    pub replies: Vec<AmiMessage>,
    /// The session logged in with this action.
    pub logged_in: bool,
    /// The action was QueueStatus (answered in `replies`).
    pub queue_status: bool,
    /// Close the connection after writing the replies (Logoff).
    pub close: bool,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Session {
    /// A fresh connection: not logged in, every event class wanted once it is.
    pub fn new() -> Session {
        Session {
            logged_in: false,
            mask: EventClass::ALL.into_iter().collect(),
            filters: Vec::new(),
        }
    }

    /// Whether the client has logged in.
    pub fn is_logged_in(&self) -> bool {
        self.logged_in
    }

    /// Answers one action.
    pub fn act(&mut self, action: &AmiMessage, credentials: &Credentials, now: SwitchNow) -> Acted {
        let reply = |response: &str| {
            let m = AmiMessage::new().with("Response", response);
            match action.action_id() {
                Some(id) => m.with("ActionID", id),
                None => m,
            }
        };
        let error = |message: &str| Acted {
            replies: vec![reply("Error").with("Message", message)],
            ..Acted::default()
        };
        let Some(name) = action.first_of(&["Action"]) else {
            return error("Missing action in request");
        };
        let name = name.to_ascii_lowercase();
        if !self.logged_in && name != "login" && name != "logoff" {
            return error("Permission denied");
        }
        match name.as_str() {
            "login" => {
                let username = action.get("Username").unwrap_or("");
                let secret = action.get("Secret").unwrap_or("");
                if username != credentials.username || secret != credentials.secret {
                    return error("Authentication failed");
                }
                self.logged_in = true;
                if let Some(mask) = action.get("Events") {
                    self.mask = parse_mask(mask);
                }
                let mut replies = vec![reply("Success").with("Message", "Authentication accepted")];
                if self.mask.contains(&EventClass::System) {
                    replies.push(
                        AmiMessage::new()
                            .with("Event", "FullyBooted")
                            .with("Privilege", "system,all")
                            .with("Timestamp", timestamp(now.clock))
                            .with("Uptime", now.uptime_s.to_string())
                            .with("LastReload", now.uptime_s.to_string())
                            .with("Status", "Fully Booted"),
                    );
                }
                Acted {
                    replies,
                    logged_in: true,
                    ..Acted::default()
                }
            }
            "logoff" => Acted {
                replies: vec![reply("Goodbye").with("Message", "Thanks for all the fish.")],
                close: true,
                ..Acted::default()
            },
            "ping" => Acted {
                replies: vec![
                    reply("Success")
                        .with("Ping", "Pong")
                        .with("Timestamp", timestamp(now.clock)),
                ],
                ..Acted::default()
            },
            "events" => {
                if let Some(mask) = action.get("EventMask") {
                    self.mask = parse_mask(mask);
                }
                let on = if self.mask.is_empty() { "Off" } else { "On" };
                Acted {
                    replies: vec![reply("Success").with("Events", on)],
                    ..Acted::default()
                }
            }
            "filter" => match self.add_filter(action) {
                Ok(()) => Acted {
                    replies: vec![reply("Success").with("Message", "Filter Added Successfully")],
                    ..Acted::default()
                },
                Err(message) => error(message),
            },
            "queuestatus" => Acted {
                replies: now.floor.queue_status(action, now.clock),
                queue_status: true,
                ..Acted::default()
            },
            _ => error("Invalid/unknown command"),
        }
    }

    /// Whether an event of `class`, whose wire text is `text`, goes to this session: logged
    /// in, the class in its mask, and its filters let it through (Asterisk 13+: with include
    /// filters, only events one of them matches; never events an exclude filter matches).
    pub fn wants(&self, class: EventClass, text: &str) -> bool {
        if !self.logged_in || !self.mask.contains(&class) {
            return false;
        }
        let mut includes = self.filters.iter().filter(|f| !f.exclude).peekable();
        if includes.peek().is_some() && !includes.any(|f| f.regex.is_match(text)) {
            return false;
        }
        !self
            .filters
            .iter()
            .any(|f| f.exclude && f.regex.is_match(text))
    }

    fn add_filter(&mut self, action: &AmiMessage) -> Result<(), &'static str> {
        let operation = action.get("Operation").unwrap_or("Add");
        if !operation.trim().eq_ignore_ascii_case("add") {
            return Err("Unknown operation");
        }
        let Some(expression) = action.get("Filter").filter(|f| !f.is_empty()) else {
            return Err("Filter Not Added");
        };
        if self.filters.len() >= MAX_FILTERS || expression.len() > MAX_FILTER_LEN {
            return Err("Filter Not Added");
        }
        let (exclude, pattern) = match expression.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, expression),
        };
        let regex = RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|_| "Filter Not Added")?;
        self.filters.push(Filter { exclude, regex });
        Ok(())
    }
}

/// An event mask: `on` / `off`, or a list of classes (`agent,call`).
fn parse_mask(value: &str) -> HashSet<EventClass> {
    let value = value.trim().to_ascii_lowercase();
    match value.as_str() {
        "on" | "yes" | "true" | "all" => EventClass::ALL.into_iter().collect(),
        "off" | "no" | "false" => HashSet::new(),
        list => {
            let words: Vec<&str> = list.split(',').map(str::trim).collect();
            if words.contains(&"all") {
                return EventClass::ALL.into_iter().collect();
            }
            EventClass::ALL
                .into_iter()
                .filter(|class| words.contains(&class.as_str()))
                .collect()
        }
    }
}

/// `Timestamp:` as Asterisk writes it: Unix seconds and microseconds.
pub fn timestamp(ts: Millis) -> String {
    format!("{}.{:06}", ts.div_euclid(1000), ts.rem_euclid(1000) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Credentials {
        Credentials {
            username: "floorwatch".into(),
            secret: "s3cret".into(),
        }
    }

    fn act(session: &mut Session, action: AmiMessage) -> Acted {
        let floor = SwitchFloor::default();
        let now = SwitchNow {
            floor: &floor,
            clock: 1_773_000_000_250,
            uptime_s: 7,
        };
        session.act(&action, &credentials(), now)
    }

    fn login(secret: &str, events: &str) -> AmiMessage {
        floorwatch_core::ami::action::login("floorwatch", secret, events, "l1")
    }

    #[test]
    fn nothing_but_login_before_login_and_a_wrong_secret_fails() {
        let mut s = Session::new();
        let r = act(&mut s, AmiMessage::action("QueueStatus", "q1"));
        assert_eq!(r.replies[0].get("Message"), Some("Permission denied"));
        assert_eq!(r.replies[0].action_id(), Some("q1"));
        let r = act(&mut s, login("wrong", "on"));
        assert_eq!(r.replies[0].response(), Some("Error"));
        assert_eq!(r.replies[0].get("Message"), Some("Authentication failed"));
        assert!(!s.is_logged_in() && !r.logged_in);
        let r = act(&mut s, login("s3cret", "on"));
        assert!(r.logged_in && s.is_logged_in());
        assert_eq!(r.replies[0].get("Message"), Some("Authentication accepted"));
        assert_eq!(r.replies[1].event(), Some("FullyBooted"));
        assert_eq!(r.replies[1].get("Timestamp"), Some("1773000000.250000"));
        let r = act(&mut s, AmiMessage::action("Frobnicate", "f"));
        assert_eq!(r.replies[0].get("Message"), Some("Invalid/unknown command"));
        let r = act(&mut s, AmiMessage::new().with("ActionID", "x"));
        assert_eq!(
            r.replies[0].get("Message"),
            Some("Missing action in request")
        );
        let r = act(&mut s, floorwatch_core::ami::action::logoff("bye"));
        assert!(r.close);
        assert_eq!(r.replies[0].response(), Some("Goodbye"));
    }

    #[test]
    fn the_mask_and_filters_choose_the_events() {
        let mut s = Session::new();
        act(&mut s, login("s3cret", "agent"));
        let join = "Event: QueueCallerJoin\r\nPrivilege: agent,all\r\n\r\n";
        let hangup = "Event: Hangup\r\nPrivilege: call,all\r\n\r\n";
        assert!(s.wants(EventClass::Agent, join));
        assert!(
            !s.wants(EventClass::Call, hangup),
            "call is not in the mask"
        );
        let r = act(&mut s, floorwatch_core::ami::action::events("on", "e"));
        assert_eq!(r.replies[0].get("Events"), Some("On"));
        assert!(s.wants(EventClass::Call, hangup));
        let r = act(
            &mut s,
            floorwatch_core::ami::action::filter_add("Event: Hangup", "f1"),
        );
        assert_eq!(
            r.replies[0].get("Message"),
            Some("Filter Added Successfully")
        );
        assert!(s.wants(EventClass::Call, hangup));
        assert!(!s.wants(EventClass::Agent, join), "not included");
        act(
            &mut s,
            floorwatch_core::ami::action::filter_add("!Privilege: call", "f2"),
        );
        assert!(!s.wants(EventClass::Call, hangup), "excluded");
        let r = act(
            &mut s,
            floorwatch_core::ami::action::filter_add("(unclosed", "f3"),
        );
        assert_eq!(r.replies[0].get("Message"), Some("Filter Not Added"));
        let r = act(&mut s, floorwatch_core::ami::action::events("off", "e2"));
        assert_eq!(r.replies[0].get("Events"), Some("Off"));
    }

    #[test]
    fn ping_tells_the_switch_clock_and_the_secret_never_shows() {
        let mut s = Session::new();
        act(&mut s, login("s3cret", "off"));
        let r = act(&mut s, floorwatch_core::ami::action::ping("p"));
        assert_eq!(r.replies[0].get("Ping"), Some("Pong"));
        assert_eq!(r.replies[0].get("Timestamp"), Some("1773000000.250000"));
        assert!(!format!("{:?}", credentials()).contains("s3cret"));
        assert_eq!(timestamp(1_700_000_000_007), "1700000000.007000");
    }
}
