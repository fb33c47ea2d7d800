//! Paired screens (docs/SECURITY.md, "Devices"): the admin's page that pairs a screen by the
//! code it shows, and what a TV's sign-in page needs to ask for a code and poll it. Written as static HTML (changed only by a new answer or language), like
//! the audit page: the page handles submit and clicks by `data-control`.

use serde::Serialize;
use serde_json::Value;

use crate::alerts::{error_message, escape};
use crate::i18n::{Key, Lang};
use crate::session::{Role, RoleViews};

/// The TV's pairing request: `POST` asks for a code, `GET` polls it.
pub const PAIRING_PATH: &str = "/api/v1/pairing";
/// The admin's `POST` of a code.
pub const PAIR_PATH: &str = "/api/v1/devices/pair";
/// The roles a screen may be paired as (the server refuses others).
pub const DEVICE_ROLES: [Role; 4] = [
    Role::WallDisplay,
    Role::TeamLead,
    Role::Supervisor,
    Role::Manager,
];

/// What a TV's poll of its pairing request found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pairing {
    /// Show this code (and keep polling).
    Waiting(String),
    /// Paired: the device cookie was set; ask who this is.
    Paired,
    /// The request expired or is gone: ask for a new code.
    Gone,
    /// No answer, or one not understood: poll again.
    Retry,
}

impl Pairing {
    /// Reads an answer of `POST` or `GET /api/v1/pairing`.
    pub fn read(status: u16, body: &str) -> Pairing {
        let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        match (status, v["state"].as_str(), v["code"].as_str()) {
            (200, Some("paired"), _) => Pairing::Paired,
            (200 | 201, Some("waiting"), Some(code)) => Pairing::Waiting(code.to_string()),
            (404, _, _) => Pairing::Gone,
            _ => Pairing::Retry,
        }
    }
}

/// The body of `POST /api/v1/devices/pair`.
#[derive(Serialize)]
struct PairRequest<'a> {
    code: &'a str,
    name: &'a str,
    role: &'a str,
    /// Empty: the role's default.
    #[serde(skip_serializing_if = "str::is_empty")]
    scope: &'a str,
}

/// The body of `POST /api/v1/devices/pair`; an empty scope is the role's default. A derived
/// `Serialize` of borrowed strings rather than a `serde_json::Value`, whose serializer the
/// bundle did not have (BENCHMARKS.md, "Bundle size").
pub fn pair_body(code: &str, name: &str, role: &str, scope: &str) -> String {
    serde_json::to_string(&PairRequest {
        code: code.trim(),
        name: name.trim(),
        role,
        scope: scope.trim(),
    })
    .unwrap_or_default()
}

/// The pairing form: the code the screen shows, a name, what it shows as, and its scope.
pub fn form_html(lang: Lang) -> String {
    let input = |key: Key, name: &str, value: &str| {
        format!(
            "<label><span>{}</span><input type=\"text\" data-control=\"{name}\" \
             value=\"{value}\"></label>",
            lang.t(key)
        )
    };
    let mut roles = String::new();
    for role in DEVICE_ROLES {
        roles.push_str(&format!(
            "<option value=\"{role}\">{}</option>",
            lang.t(role.label())
        ));
    }
    format!(
        "<h2>{}</h2><form class=\"filters\" data-form=\"pair\">{}{}<label><span>{}</span>\
         <select data-control=\"device-role\">{roles}</select></label>{}\
         <button type=\"submit\" data-control=\"pair-screen\">{}</button></form>",
        lang.t(Key::ViewDevices),
        input(Key::DeviceCode, "code", ""),
        input(Key::DeviceName, "device-name", ""),
        lang.t(Key::DeviceRole),
        input(Key::ScopeLabel, "device-scope", "centre"),
        lang.t(Key::DevicePair)
    )
}

/// What the admin is told after pairing: the server's answer in a sentence, as HTML.
pub fn paired_note(lang: Lang, status: u16, body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let note = match (status, v["name"].as_str()) {
        (201, Some(name)) => lang.fill(Key::DevicePaired, &[("name", name)]),
        (0, _) => lang.t(Key::SignInNoAnswer).to_string(),
        _ => error_message(body),
    };
    // Shown with `inner_html` (a text node of a new signal costs the bundle more).
    escape(&note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_reads_waiting_paired_or_gone() {
        assert_eq!(
            Pairing::read(
                201,
                r#"{"state":"waiting","code":"ABCD-EFGH","expires_in_s":300}"#
            ),
            Pairing::Waiting("ABCD-EFGH".into())
        );
        assert_eq!(
            Pairing::read(200, r#"{"state":"paired","device":"tv"}"#),
            Pairing::Paired
        );
        assert_eq!(Pairing::read(404, r#"{"error":"gone"}"#), Pairing::Gone);
        assert_eq!(Pairing::read(0, ""), Pairing::Retry);
        assert_eq!(Pairing::read(429, r#"{"error":"slow"}"#), Pairing::Retry);
    }

    #[test]
    fn the_pair_body_leaves_an_empty_scope_to_the_server() {
        assert_eq!(
            pair_body(" abcd-efgh ", "lobby-tv", "wall_display", " "),
            r#"{"code":"abcd-efgh","name":"lobby-tv","role":"wall_display"}"#
        );
        assert!(pair_body("c", "n", "team_lead", "team:t1").contains(r#""scope":"team:t1""#));
    }

    #[test]
    fn the_form_offers_the_screen_roles_and_the_note_says_what_happened() {
        for lang in Lang::ALL {
            let form = form_html(lang);
            assert!(form.contains("data-control=\"code\""), "{form}");
            assert_eq!(form.matches("<option").count(), DEVICE_ROLES.len());
        }
        assert!(paired_note(Lang::En, 201, r#"{"name":"lobby-tv"}"#).contains("lobby-tv"));
        assert_eq!(
            paired_note(Lang::En, 404, r#"{"error":"no <code>"}"#),
            "no &lt;code&gt;"
        );
    }
}
