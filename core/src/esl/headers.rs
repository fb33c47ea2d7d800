//! The `Name: value` headers of an ESL frame or event, and the URL coding of event values.

/// Ordered `Name: value` pairs. Names are compared case-insensitively, as FreeSWITCH's own
/// `switch_event_get_header` does; a name may repeat and [`EslHeaders::get`] returns the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EslHeaders {
    fields: Vec<(String, String)>,
}

impl EslHeaders {
    /// No headers.
    pub fn new() -> EslHeaders {
        EslHeaders::default()
    }

    /// Appends a pair (builder style).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> EslHeaders {
        self.push(name, value);
        self
    }

    /// Appends a pair.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.fields.push((name.into(), value.into()));
    }

    /// The first value of `name`, trimmed; `None` if absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The pairs, in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// How many pairs.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The headers as an event body of `text/event-plain`: `Name: url-encoded value` lines
    /// and a blank line, as `switch_event_serialize` writes them (src/switch_event.c).
    pub fn encode_event(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.fields {
            out.push_str(&name.replace(['\r', '\n', ':'], " "));
            out.push_str(": ");
            out.push_str(&url_encode(value));
            out.push('\n');
        }
        out.push('\n');
        out
    }
}

/// Percent-decoding of an event header value (`%20`, `%3A`). A `%` not followed by two hex
/// digits is kept as it is; bytes that are not UTF-8 become U+FFFD.
pub fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encoding as `switch_url_encode` does it: everything but ASCII letters, digits and
/// `-_.!~*'()` is escaped, so a value never holds a line break or a colon.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_never_break_a_line() {
        for text in ["Available (On Demand)", "a:b\r\nc", "话后", "100%", "%zz"] {
            let encoded = url_encode(text);
            assert!(!encoded.contains(['\n', '\r', ':', ' ']), "{encoded}");
            assert_eq!(url_decode(&encoded), text);
        }
        assert_eq!(url_decode("In%20a%20queue%20call"), "In a queue call");
        assert_eq!(url_decode("50%"), "50%");
        assert_eq!(url_decode("%4"), "%4");
    }
}
