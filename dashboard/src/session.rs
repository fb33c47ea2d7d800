//! Who is signed in, and what that lets the wallboard show (docs/SECURITY.md, "Roles and
//! scopes"): the views a role may open, the subtree its figures start from, the scopes the
//! picker may offer, and what the sign-in page says when the server refuses.
//!
//! The server checks every request and subscription itself; this module only keeps the page
//! from offering what would be refused.

use std::collections::BTreeSet;

use floorwatch_core::{QueueView, Scope};
use serde::Serialize;
use serde_json::Value;

use crate::i18n::{Key, Lang};
use crate::route::View;

/// The answer of `GET`/`POST /api/v1/session`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// The user's name.
    pub user: String,
    /// The user's role.
    pub role: Role,
    /// The root of the user's subtree (`centre`, `site:ID`, `team:ID`, ...).
    pub scope: Scope,
    /// RFC 3339 end of the session; none for a session without one.
    pub expires: Option<String>,
    /// Sign-out after this many idle seconds; none for no idle limit.
    pub idle_timeout_s: Option<u64>,
    /// A paired screen (device credential): it never signs out by itself, so a refusal is
    /// asked about again rather than taken as the end.
    pub device: bool,
}

impl SessionInfo {
    /// Reads the server's answer; `None` when it is not a session of a known role.
    ///
    /// Read field by field from a `serde_json::Value` (whose parser the bundle has anyway, for
    /// error bodies) rather than through a derived `Deserialize`, which compiles a parser per
    /// type into the wasm (BENCHMARKS.md, "Bundle size").
    pub fn parse(body: &str) -> Option<SessionInfo> {
        let v: Value = serde_json::from_str(body).ok()?;
        Some(SessionInfo {
            user: v["user"].as_str()?.to_string(),
            role: Role::parse(v["role"].as_str()?)?,
            scope: v["scope"].as_str()?.parse().ok()?,
            expires: v["expires"].as_str().map(String::from),
            idle_timeout_s: v["idle_timeout_s"].as_u64(),
            device: v["device"].as_bool().unwrap_or(false),
        })
    }
}

/// Where the session lives: `POST` signs in, `GET` asks who (and counts as activity),
/// `DELETE` signs out.
pub const SESSION_PATH: &str = "/api/v1/session";

/// The body of `POST /api/v1/session`.
#[derive(Serialize)]
pub struct Credentials<'a> {
    /// The user's name.
    pub user: &'a str,
    /// The password.
    pub password: &'a str,
}

/// The reason a live socket closed with [`SIGNED_OUT_CLOSE`] gives (`signed out: WHY`), as the
/// sign-in page shows it under its own "Signed out" heading: just WHY.
pub fn signed_out_reason(message: &str) -> &str {
    message.strip_prefix("signed out: ").unwrap_or(message)
}

pub use floorwatch_core::Role;

/// What the wallboard shows each role (the roles themselves, and what the server lets each do,
/// are docs/SECURITY.md's).
pub trait RoleViews: Copy {
    /// The views this role may open, the first being where it lands.
    fn views(self) -> &'static [View];
    /// The view to show when the URL asks for `asked`: it, when the role may open it.
    fn view_for(self, asked: View) -> Option<View>;
    /// Whether the role watches the floor (figures, agents), not only the audit trail or screens.
    fn watches_floor(self) -> bool;
    /// The role's label.
    fn label(self) -> Key;
}

impl RoleViews for Role {
    /// The views this role may open, the first being where it lands. A wall display gets the
    /// wall only (floor figures, nothing personal); a security officer the audit trail only;
    /// those who read agents get the wall and the supervisor view; admins all three.
    fn views(self) -> &'static [View] {
        match self {
            Role::Admin => &[View::Supervisor, View::Wall, View::Audit, View::Devices],
            Role::Manager | Role::Supervisor | Role::TeamLead => &[View::Supervisor, View::Wall],
            Role::WallDisplay => &[View::Wall],
            Role::SecurityOfficer => &[View::Audit],
            Role::Ingest => &[],
        }
    }

    /// The view to show when the URL asks for `asked`: it, when the role may open it.
    fn view_for(self, asked: View) -> Option<View> {
        let views = self.views();
        if views.contains(&asked) {
            Some(asked)
        } else {
            views.first().copied()
        }
    }

    /// Whether the page needs the live feed at all (the security officer's does not).
    fn watches_floor(self) -> bool {
        self.views().contains(&View::Wall)
    }

    fn label(self) -> Key {
        match self {
            Role::Admin => Key::RoleAdmin,
            Role::Manager => Key::RoleManager,
            Role::Supervisor => Key::RoleSupervisor,
            Role::TeamLead => Key::RoleTeamLead,
            Role::WallDisplay => Key::RoleWallDisplay,
            Role::SecurityOfficer => Key::RoleSecurityOfficer,
            Role::Ingest => Key::RoleIngest,
        }
    }
}

/// The scopes the picker offers a user whose subtree starts at `root`: the root itself, then
/// the teams and queues the server has shown (it lists only those inside the subtree), never a
/// wider node.
pub fn scopes_inside(root: &Scope, queues: &[QueueView], teams: &BTreeSet<String>) -> Vec<Scope> {
    let mut scopes = vec![root.clone()];
    let teams = teams.iter().map(|t| Scope::Team(t.clone()));
    let queues = queues.iter().map(|q| Scope::Queue(q.id.clone()));
    scopes.extend(teams.chain(queues).filter(|s| s != root));
    scopes
}

pub use floorwatch_core::wire::SIGNED_OUT_CLOSE;

/// User input touches the session at most this often: enough to keep a 30-minute idle
/// time-out from ending a session someone works in, without a request per key press.
pub const TOUCH_EVERY_MS: f64 = 60_000.0;

/// When the page last told the server the user is there.
#[derive(Debug, Clone, Copy, Default)]
pub struct Activity {
    last_touch: Option<f64>,
}

impl Activity {
    /// Whether input at `now_ms` should touch the session; records it when so.
    pub fn due(&mut self, now_ms: f64) -> bool {
        let due = self
            .last_touch
            .is_none_or(|last| now_ms - last >= TOUCH_EVERY_MS);
        if due {
            self.last_touch = Some(now_ms);
        }
        due
    }
}

/// What the sign-in page says when `POST /api/v1/session` answers `status` with `body`: a
/// refused password in the page's language (the server's one 401 text says nothing more), how
/// long to wait (its `Retry-After`) when locked out or rate-limited, that nothing answered when
/// nothing did, and the server's own words for anything else.
pub fn sign_in_error(lang: Lang, status: u16, body: &str, retry_after: Option<&str>) -> String {
    match status {
        0 => lang.t(Key::SignInNoAnswer).to_string(),
        401 => lang.t(Key::SignInWrong).to_string(),
        429 => {
            let seconds = retry_after.map(str::trim).unwrap_or("?");
            lang.fill(Key::SignInTooMany, &[("s", seconds)])
        }
        _ => crate::alerts::error_message(body),
    }
}

/// The sign-in page, written whole (it changes only with the language): a static page costs
/// the bundle a fraction of a reactive view. One card: the heading, why the last session ended
/// (`reason`, when it ended by itself), the fields, the line refusals are written into
/// (`.signin-error`) and the button; the language switch beside it. `user` is the name typed
/// so far, kept across a language switch; the password is never written into the page's markup
/// and has to be typed again. The page reads the fields by `data-control`.
pub fn sign_in_page_html(lang: Lang, reason: Option<&str>, user: &str) -> String {
    let field = |key: Key, kind: &str, name: &str, complete: &str, value: &str| {
        format!(
            "<label><span>{}</span><input type=\"{kind}\" name=\"{name}\" data-control=\"{name}\" \
             autocomplete=\"{complete}\" value=\"{}\" required></label>",
            lang.t(key),
            crate::alerts::escape(value)
        )
    };
    let reason = reason
        .map(crate::alerts::escape)
        .map_or(String::new(), |r| {
            format!(
                "<p class=\"signin-reason\" data-reason=\"{r}\">{}: {r}</p>",
                lang.t(Key::SignedOut)
            )
        });
    format!(
        "<form class=\"signin-form\" data-form=\"signin\"><h1><span class=\"brand\">{}</span> \
         <span>{}</span></h1>{reason}{}{}<p class=\"signin-error\" role=\"alert\"></p>\
         <button type=\"submit\" data-control=\"sign-in\">{}</button></form>\
         <div class=\"pairing\"><button type=\"button\" data-control=\"pair\">{}</button>\
         <p class=\"pairing-hint\"></p><p class=\"pairing-code\"></p></div>{}",
        lang.t(Key::AppTitle),
        lang.t(Key::SignInHeading),
        field(Key::SignInUser, "text", "user", "username", user),
        field(
            Key::SignInPassword,
            "password",
            "password",
            "current-password",
            ""
        ),
        lang.t(Key::SignInButton),
        lang.t(Key::PairScreen),
        crate::i18n::lang_switch_html(lang)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::ServiceLevelSettings;

    #[test]
    fn the_session_reads_as_the_server_writes_it() {
        let info = SessionInfo::parse(
            r#"{"user":"lead1","role":"team_lead","scope":"team:t1",
                "expires":"2026-03-09T17:00:00Z","idle_timeout_s":1800}"#,
        )
        .unwrap();
        assert_eq!(info.user, "lead1");
        assert_eq!(info.role, Role::TeamLead);
        assert_eq!(info.scope, Scope::Team("t1".into()));
        assert_eq!(info.expires.as_deref(), Some("2026-03-09T17:00:00Z"));
        assert_eq!(info.idle_timeout_s, Some(1800));
        let wall = SessionInfo::parse(
            r#"{"user":"tv","role":"wall_display","scope":"centre","expires":null,"idle_timeout_s":null}"#,
        )
        .unwrap();
        assert_eq!((wall.role, wall.scope), (Role::WallDisplay, Scope::Centre));
        assert_eq!((wall.expires, wall.idle_timeout_s), (None, None));
        assert!(!wall.device);
        let screen = SessionInfo::parse(
            r#"{"user":"lobby-tv","role":"wall_display","scope":"centre","expires":null,"idle_timeout_s":null,"device":true}"#,
        )
        .unwrap();
        assert!(screen.device);
        assert_eq!(
            SessionInfo::parse(r#"{"user":"x","role":"root","scope":"centre"}"#),
            None
        );
        assert_eq!(
            SessionInfo::parse(r#"{"role":"admin","scope":"centre"}"#),
            None
        );
        assert_eq!(
            SessionInfo::parse(r#"{"user":"x","role":"admin","scope":"nowhere:1"}"#),
            None
        );
        assert_eq!(SessionInfo::parse("not json"), None);
        for role in floorwatch_core::role::ROLES {
            let json = format!(r#"{{"user":"x","role":"{role}","scope":"centre"}}"#);
            assert_eq!(SessionInfo::parse(&json).map(|s| s.role), Some(role));
        }
    }

    #[test]
    fn each_role_lands_on_what_it_may_see() {
        assert_eq!(
            Role::WallDisplay.view_for(View::Supervisor),
            Some(View::Wall)
        );
        assert_eq!(Role::WallDisplay.view_for(View::Audit), Some(View::Wall));
        assert_eq!(
            Role::SecurityOfficer.view_for(View::Wall),
            Some(View::Audit)
        );
        assert!(!Role::SecurityOfficer.watches_floor());
        assert_eq!(Role::TeamLead.view_for(View::Audit), Some(View::Supervisor));
        assert_eq!(Role::TeamLead.view_for(View::Wall), Some(View::Wall));
        assert_eq!(Role::Admin.view_for(View::Audit), Some(View::Audit));
        assert_eq!(Role::Ingest.view_for(View::Wall), None);
        for role in [Role::Manager, Role::Supervisor, Role::TeamLead, Role::Admin] {
            assert!(role.watches_floor(), "{role:?}");
        }
    }

    #[test]
    fn the_picker_offers_only_the_subtree() {
        let queue = |id: &str| QueueView {
            id: id.into(),
            name: id.into(),
            owner: None,
            settings: ServiceLevelSettings::default(),
            unassigned: false,
        };
        let teams = BTreeSet::from(["t1".to_string()]);
        let root = Scope::Team("t1".into());
        assert_eq!(
            scopes_inside(&root, &[queue("billing")], &teams),
            [root.clone(), Scope::Queue("billing".into())]
        );
        let centre = scopes_inside(&Scope::Centre, &[], &BTreeSet::new());
        assert_eq!(centre, [Scope::Centre]);
    }

    #[test]
    fn a_signed_out_frame_gives_its_reason() {
        assert_eq!(
            signed_out_reason("signed out: idle timeout"),
            "idle timeout"
        );
        assert_eq!(signed_out_reason("other"), "other");
        let body = serde_json::to_string(&Credentials {
            user: "lead1",
            password: "p\"w",
        })
        .unwrap();
        assert_eq!(body, r#"{"user":"lead1","password":"p\"w"}"#);
    }

    #[test]
    fn the_form_has_both_fields_in_both_languages() {
        for lang in Lang::ALL {
            let html = sign_in_page_html(lang, None, "");
            assert!(html.contains("data-control=\"user\""), "{html}");
            assert!(html.contains("type=\"password\""), "{html}");
            assert!(html.contains(lang.t(Key::SignInPassword)), "{html}");
            assert!(!html.contains("signin-reason"), "{html}");
        }
        let html = sign_in_page_html(Lang::En, Some("idle <timeout>"), "lead\"1");
        assert!(
            html.contains("data-reason=\"idle &lt;timeout&gt;\""),
            "{html}"
        );
        // The name typed so far survives a language switch; the password never enters markup.
        assert!(html.contains("value=\"lead&quot;1\""), "{html}");
        assert_eq!(html.matches("value=\"\"").count(), 1, "{html}");
        // The refusal line sits in the card, before the button.
        assert!(
            html.find("signin-error") < html.find("data-control=\"sign-in\""),
            "{html}"
        );
    }

    #[test]
    fn input_touches_the_session_once_a_minute() {
        let mut activity = Activity::default();
        assert!(activity.due(1_000.0));
        assert!(!activity.due(30_000.0));
        assert!(!activity.due(60_999.0));
        assert!(activity.due(61_000.0));
        assert!(!activity.due(61_001.0));
    }

    #[test]
    fn refusals_say_what_the_server_said_or_how_long_to_wait() {
        let wrong = r#"{"error":"wrong user name or password"}"#;
        assert_eq!(
            sign_in_error(Lang::En, 401, wrong, None),
            "wrong user name or password"
        );
        assert_eq!(
            sign_in_error(Lang::Zh, 401, wrong, None),
            "用户名或密码错误"
        );
        let locked = sign_in_error(Lang::En, 429, "{}", Some("42"));
        assert!(locked.contains("42 s"), "{locked}");
        assert!(sign_in_error(Lang::Zh, 429, "{}", Some("7")).contains('7'));
        assert_eq!(
            sign_in_error(Lang::En, 0, "", None),
            Lang::En.t(Key::SignInNoAnswer)
        );
    }
}
