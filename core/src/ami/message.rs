//! One AMI message: the ordered `Key: Value` lines of one blank-line-terminated block.

/// An AMI message as the switch sent it (or as we send an action): ordered `Key: Value` pairs.
///
/// Keys are looked up case-insensitively, because Asterisk versions disagree on case
/// (`Holdtime` in 1.8, `HoldTime` in 13). A key may repeat (`Variable:`); [`AmiMessage::get`]
/// returns the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AmiMessage {
    fields: Vec<(String, String)>,
}

impl AmiMessage {
    /// An empty message.
    pub fn new() -> AmiMessage {
        AmiMessage::default()
    }

    /// An action message: `Action: NAME` then `ActionID: ID`, ready for more headers.
    pub fn action(name: &str, action_id: &str) -> AmiMessage {
        AmiMessage::new()
            .with("Action", name)
            .with("ActionID", action_id)
    }

    /// Appends a pair (builder style).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> AmiMessage {
        self.push(key, value);
        self
    }

    /// Appends a header; a key may repeat.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.fields.push((key.into(), value.into()));
    }

    /// The first value of `key`, compared case-insensitively.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value among `keys`, in that order of preference.
    pub fn first_of(&self, keys: &[&str]) -> Option<&str> {
        keys.iter()
            .filter_map(|k| self.get(k))
            .map(str::trim)
            .find(|v| !v.is_empty())
    }

    /// The headers, in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// How many headers it has.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether it has no header.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// `Event:` of an event message.
    pub fn event(&self) -> Option<&str> {
        self.get("Event")
    }

    /// `Response:` of a reply to an action (`Success`, `Error`, `Follows`, `Goodbye`).
    pub fn response(&self) -> Option<&str> {
        self.get("Response")
    }

    /// `ActionID:` echoed back on the replies and list events of an action.
    pub fn action_id(&self) -> Option<&str> {
        self.get("ActionID")
    }

    /// The message on the wire: `Key: Value\r\n` lines and a blank line. Line breaks inside a
    /// key or value become spaces, so a value can never inject a header or a second message.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.fields {
            out.push_str(&one_line(key));
            out.push_str(": ");
            out.push_str(&one_line(value));
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        out
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for AmiMessage {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> AmiMessage {
        AmiMessage {
            fields: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_encoding_cannot_inject() {
        let m = AmiMessage::new()
            .with("Event", "AgentConnect")
            .with("HoldTime", "12");
        assert_eq!(m.get("holdtime"), Some("12"));
        assert_eq!(m.event(), Some("AgentConnect"));
        let evil = AmiMessage::action("Login", "1").with("Secret", "x\r\n\r\nAction: Logoff");
        let wire = evil.encode();
        assert_eq!(wire.matches("\r\n\r\n").count(), 1, "{wire:?}");
        assert!(wire.ends_with("\r\n\r\n"));
    }
}
