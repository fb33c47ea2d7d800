//! The page header's HTML: brand, the views a role may open, the window selector and the
//! language switch; then who is signed in and the sign-out button.
//!
//! Written whole (`inner_html`) when the language or the route changes, which is rare: a
//! reactive view per link and option cost the bundle about 9 KB gzipped more (BENCHMARKS.md,
//! "Bundle size"). The page handles clicks and changes on the header by `data-control`.

use floorwatch_core::Window;

use crate::alerts::escape;
use crate::i18n::{Key, Lang, lang_switch_html};
use crate::route::{Route, View};
use crate::session::{Role, RoleViews};

/// The label of a view's link.
fn view_label(view: View) -> Key {
    match view {
        View::Wall => Key::ViewWall,
        View::Supervisor => Key::ViewSupervisor,
        View::Audit => Key::ViewAudit,
        View::Devices => Key::ViewDevices,
    }
}

/// Brand, the role's views (the one shown marked `active`), the window selector when the role
/// watches the floor, and the language switch.
pub fn chrome_html(lang: Lang, route: &Route, role: Role) -> String {
    let shown = role.view_for(route.view);
    let mut html = format!(
        "<span class=\"brand\">{}</span><nav class=\"views\">",
        lang.t(Key::AppTitle)
    );
    for &view in role.views() {
        let href = Route {
            view,
            ..route.clone()
        }
        .to_hash();
        let active = if shown == Some(view) {
            " class=\"active\""
        } else {
            ""
        };
        html.push_str(&format!(
            "<a href=\"{}\"{active}>{}</a>",
            escape(&href),
            lang.t(view_label(view))
        ));
    }
    html.push_str("</nav>");
    if role.watches_floor() {
        html.push_str(&format!(
            "<label class=\"window-select\"><span>{}</span><select data-control=\"window\">",
            lang.t(Key::WindowLabel)
        ));
        let chosen = route.window_or_default();
        for w in Window::ALL {
            let selected = if w == chosen { " selected" } else { "" };
            html.push_str(&format!(
                "<option value=\"{}\"{selected}>{}</option>",
                w.as_str(),
                lang.window(w)
            ));
        }
        html.push_str("</select></label>");
    }
    html.push_str(&lang_switch_html(lang));
    html
}

/// Who is signed in (`data-user`, `data-role`) and the sign-out button. The name is a text
/// node of its own: it is data, not a label to translate.
pub fn who_html(lang: Lang, user: &str, role: Role) -> String {
    let user = escape(user);
    format!(
        "<span class=\"who\" data-user=\"{user}\" data-role=\"{}\"><span>{user}</span> · {}</span>\
         <button type=\"button\" class=\"sign-out\" data-control=\"sign-out\">{}</button>",
        role.as_str(),
        lang.t(role.label()),
        lang.t(Key::SignOut)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(view: View) -> Route {
        Route {
            view,
            lang: None,
            window: Some(Window::Today),
            scope: None,
            rotate_s: None,
            team: None,
            queues_layout: false,
        }
    }

    #[test]
    fn a_role_gets_links_to_its_views_only() {
        let wall = chrome_html(Lang::En, &route(View::Supervisor), Role::WallDisplay);
        assert_eq!(wall.matches("<a ").count(), 1, "{wall}");
        assert!(wall.contains("class=\"active\">"), "{wall}");
        assert!(wall.contains("data-control=\"window\""), "{wall}");
        let admin = chrome_html(Lang::Zh, &route(View::Audit), Role::Admin);
        assert_eq!(admin.matches("<a ").count(), 4, "{admin}");
        assert!(admin.contains("href=\"#/devices"), "{admin}");
        assert_eq!(admin.matches("class=\"active\"").count(), 1, "{admin}");
        assert!(admin.contains(Lang::Zh.t(Key::ViewAudit)), "{admin}");
        let officer = chrome_html(Lang::En, &route(View::Wall), Role::SecurityOfficer);
        assert!(!officer.contains("<select"), "{officer}");
        assert!(officer.contains("data-control=\"lang\""), "{officer}");
    }

    #[test]
    fn the_chosen_window_is_selected() {
        let html = chrome_html(Lang::En, &route(View::Wall), Role::Manager);
        assert_eq!(html.matches(" selected").count(), 1, "{html}");
        assert!(html.contains("<option value=\"today\" selected>"), "{html}");
    }

    #[test]
    fn the_user_name_is_escaped() {
        let html = who_html(Lang::En, "<b>x", Role::TeamLead);
        assert!(html.contains("data-user=\"&lt;b&gt;x\""), "{html}");
        assert!(html.contains("data-role=\"team_lead\""), "{html}");
        assert!(html.contains("data-control=\"sign-out\""), "{html}");
    }
}
