//! What the URL selects, so a TV or a browser test can open a view directly:
//! `/#/wall`, `/#/supervisor?window=today`, `/?lang=zh#/wall?scope=queue:billing&rotate=20`,
//! `/#/wall?layout=queues`.
//!
//! Parameters may sit in the query string or after the hash path; the hash wins, because the
//! page rewrites only the hash when the user changes the window or the language, so a reload
//! shows what was on screen.

use floorwatch_core::{Scope, Window};

use crate::i18n::Lang;

/// Which screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// The TV on the wall: floor figures only, no caller data, no per-agent figures.
    #[default]
    Wall,
    /// Queue table, team table, agent grid.
    Supervisor,
    /// The audit trail, for the security officer and admins.
    Audit,
    /// Paired screens: pair one by the code it shows, revoke one (admins).
    Devices,
}

impl View {
    /// The view's path in the URL.
    pub fn path(self) -> &'static str {
        match self {
            View::Wall => "/wall",
            View::Supervisor => "/supervisor",
            View::Audit => "/audit",
            View::Devices => "/devices",
        }
    }
}

/// Everything the URL can say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Route {
    /// The view shown.
    pub view: View,
    /// `lang=zh` or `lang=en`; the browser's language when absent.
    pub lang: Option<Lang>,
    /// `window=15m|30m|60m|interval15|interval30|today`.
    pub window: Option<Window>,
    /// `scope=centre|queue:ID|...`: what the wall shows (the centre when absent).
    pub scope: Option<Scope>,
    /// `rotate=SECONDS`: the wall cycles through the centre and every queue.
    pub rotate_s: Option<u32>,
    /// `team=ID`: the supervisor view's agent filter.
    pub team: Option<String>,
    /// `layout=queues`: the wall shows every queue at once as a compact tile (a centre with
    /// many queues), instead of one scope's figures.
    pub queues_layout: bool,
}

/// The window figures use when the URL names none.
pub const DEFAULT_WINDOW: Window = Window::Rolling30;
/// The shortest rotation period accepted; anything faster cannot be read.
pub const MIN_ROTATE_S: u32 = 5;

impl Route {
    /// Reads `location.search` (`?a=b`) and `location.hash` (`#/view?a=b`). Unknown or
    /// malformed parameters are ignored: a typo on a TV's URL must still show the floor.
    pub fn parse(search: &str, hash: &str) -> Route {
        let mut route = Route::default();
        route.apply_query(search.trim_start_matches('?'));
        let hash = hash.trim_start_matches('#');
        let (path, query) = hash.split_once('?').unwrap_or((hash, ""));
        route.view = match path.trim_end_matches('/') {
            "/supervisor" | "supervisor" => View::Supervisor,
            "/audit" | "audit" => View::Audit,
            "/devices" | "devices" => View::Devices,
            _ => View::Wall,
        };
        route.apply_query(query);
        route
    }

    fn apply_query(&mut self, query: &str) {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            match name {
                "lang" => self.lang = Lang::from_tag(&value).or(self.lang),
                "window" => self.window = value.parse().ok().or(self.window),
                "scope" => self.scope = value.parse().ok().or(self.scope.take()),
                "rotate" => {
                    self.rotate_s = value
                        .parse::<u32>()
                        .ok()
                        .filter(|&s| s > 0)
                        .map(|s| s.max(MIN_ROTATE_S))
                }
                "team" => self.team = Some(value).filter(|t| !t.is_empty()),
                "layout" => self.queues_layout = value == "queues",
                _ => {}
            }
        }
    }

    /// The window the route asks for, or the default.
    pub fn window_or_default(&self) -> Window {
        self.window.unwrap_or(DEFAULT_WINDOW)
    }

    /// The hash that reopens this route (`#/wall?window=today&lang=zh`).
    pub fn to_hash(&self) -> String {
        let mut params = Vec::new();
        if let Some(lang) = self.lang {
            params.push(format!("lang={}", lang_param(lang)));
        }
        if let Some(window) = self.window {
            params.push(format!("window={window}"));
        }
        if let Some(scope) = &self.scope {
            params.push(format!("scope={}", percent_encode(&scope.to_string())));
        }
        if let Some(rotate) = self.rotate_s {
            params.push(format!("rotate={rotate}"));
        }
        if let Some(team) = &self.team {
            params.push(format!("team={}", percent_encode(team)));
        }
        if self.queues_layout {
            params.push("layout=queues".to_string());
        }
        let mut hash = format!("#{}", self.view.path());
        if !params.is_empty() {
            hash.push('?');
            hash.push_str(&params.join("&"));
        }
        hash
    }
}

fn lang_param(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Zh => "zh",
    }
}

/// Keeps the characters ids and scopes use (`queue:billing`, `t-1`) readable in the URL.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads a percent-encoded parameter (`+` as a space); a broken escape stays as it is.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 3 <= bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_path_selects_the_view() {
        assert_eq!(Route::parse("", "").view, View::Wall);
        assert_eq!(Route::parse("", "#/wall").view, View::Wall);
        assert_eq!(Route::parse("", "#/supervisor").view, View::Supervisor);
        assert_eq!(Route::parse("", "#/supervisor/").view, View::Supervisor);
        assert_eq!(Route::parse("", "#/audit").view, View::Audit);
        assert_eq!(Route::parse("", "#/nonsense").view, View::Wall);
    }

    #[test]
    fn parameters_come_from_query_and_hash_and_the_hash_wins() {
        let r = Route::parse(
            "?lang=zh&window=today",
            "#/wall?window=15m&scope=queue:billing",
        );
        assert_eq!(r.lang, Some(Lang::Zh));
        assert_eq!(r.window, Some(Window::Rolling15));
        assert_eq!(r.scope, Some(Scope::Queue("billing".into())));
        let r = Route::parse("?lang=zh-CN", "#/supervisor?lang=en&team=t%201");
        assert_eq!(r.lang, Some(Lang::En));
        assert_eq!(r.team.as_deref(), Some("t 1"));
    }

    #[test]
    fn bad_parameters_are_ignored() {
        let r = Route::parse(
            "?lang=fr&window=5m&scope=floor&rotate=x&team=&layout=x",
            "#/wall?%zz=1",
        );
        assert_eq!(r, Route::default());
        assert_eq!(r.window_or_default(), DEFAULT_WINDOW);
        assert_eq!(Route::parse("?rotate=1", "").rotate_s, Some(MIN_ROTATE_S));
        assert_eq!(Route::parse("?rotate=0", "").rotate_s, None);
        assert!(!Route::parse("", "#/wall?layout=tiles").queues_layout);
        assert!(Route::parse("", "#/wall?layout=queues").queues_layout);
    }

    #[test]
    fn a_route_survives_its_own_hash() {
        let route = Route {
            view: View::Supervisor,
            lang: Some(Lang::Zh),
            window: Some(Window::Interval30),
            scope: Some(Scope::Queue("vip & co".into())),
            rotate_s: Some(20),
            team: Some("north/1".into()),
            queues_layout: true,
        };
        let hash = route.to_hash();
        assert!(
            hash.starts_with("#/supervisor?lang=zh&window=interval30"),
            "{hash}"
        );
        assert_eq!(Route::parse("", &hash), route);
        assert_eq!(Route::default().to_hash(), "#/wall");
    }

    #[test]
    fn percent_decoding_keeps_broken_escapes() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%E4%B8%AD"), "中");
        assert_eq!(percent_decode("%"), "%");
    }
}
