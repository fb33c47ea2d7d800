//! The cookies of the web edge, read and written in one place: the session cookie
//! (`fw_session`), a TV's pairing poll cookie (`fw_pairing`) and a paired screen's device
//! credential (`fw_device`).
//!
//! Every cookie is `HttpOnly` and `SameSite=Strict` (`Secure` under TLS): the page's scripts
//! never see a credential, and no other site's page sends one (docs/SECURITY.md, "Browsers").

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "fw_session";
/// The cookie naming a TV's pairing request (only ever sent to [`PAIRING_PATH`]).
pub(crate) const PAIRING_COOKIE: &str = "fw_pairing";
/// The cookie holding a paired screen's device credential.
pub(crate) const DEVICE_COOKIE: &str = "fw_device";
/// Where a TV asks for a pairing code and polls it (the pairing cookie's path).
pub(crate) const PAIRING_PATH: &str = "/api/v1/pairing";
/// 400 days: the longest a browser keeps a cookie (RFC 6265bis); renewed on every
/// `GET /api/v1/session`, so a screen that is switched on at least once a year stays paired.
const DEVICE_COOKIE_MAX_AGE_S: u64 = 400 * 24 * 3600;

/// The value of the `fw_session` cookie, if sent (in any of the `Cookie` headers).
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

/// The value of the cookie `wanted`, if sent (in any of the `Cookie` headers).
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, wanted: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The `Set-Cookie` value of the session cookie: the session id (`None`: clear it). No
/// `Max-Age`: the browser forgets it when it closes, the server ends it by time.
pub(crate) fn session_set_cookie(id: Option<&str>, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    match id {
        Some(id) => format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}"),
        None => {
            format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
        }
    }
}

/// The `Set-Cookie` value of the device credential (`None`: clear it).
pub(crate) fn device_cookie(credential: Option<&str>, tls: bool) -> String {
    lasting_cookie(DEVICE_COOKIE, credential, "/", DEVICE_COOKIE_MAX_AGE_S, tls)
}

/// The `Set-Cookie` value of a cookie kept `max_age_s` on `path` (`None`: clear it).
pub(crate) fn lasting_cookie(
    name: &str,
    value: Option<&str>,
    path: &str,
    max_age_s: u64,
    tls: bool,
) -> String {
    let secure = if tls { "; Secure" } else { "" };
    let (value, max_age) = match value {
        Some(value) => (value, max_age_s),
        None => ("", 0),
    };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("theme=dark; fw_session=fws_abc"),
        );
        assert_eq!(session_cookie(&headers), Some("fws_abc"));
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1"));
        headers.append(COOKIE, HeaderValue::from_static("fw_session=fws_x ; b=2"));
        assert_eq!(session_cookie(&headers), Some("fws_x"));
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("fw_session_old=1; fw_session="),
        );
        assert_eq!(session_cookie(&headers), None);
    }

    #[test]
    fn the_cookie_is_strict_http_only_and_secure_under_tls() {
        assert_eq!(
            session_set_cookie(Some("fws_1"), false),
            "fw_session=fws_1; Path=/; HttpOnly; SameSite=Strict"
        );
        assert_eq!(
            session_set_cookie(Some("fws_1"), true),
            "fw_session=fws_1; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
        assert_eq!(
            session_set_cookie(None, true),
            "fw_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
        );
    }

    #[test]
    fn the_device_cookie_is_long_lived_strict_and_http_only() {
        assert_eq!(
            device_cookie(Some("fwd_1"), true),
            "fw_device=fwd_1; Path=/; Max-Age=34560000; HttpOnly; SameSite=Strict; Secure"
        );
        assert_eq!(
            device_cookie(None, false),
            "fw_device=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
        );
        assert_eq!(
            lasting_cookie(PAIRING_COOKIE, Some("fwp_1"), PAIRING_PATH, 300, false),
            "fw_pairing=fwp_1; Path=/api/v1/pairing; Max-Age=300; HttpOnly; SameSite=Strict"
        );
    }
}
