//! What every response carries and what ingest refuses before reading a body, so that no web
//! page can use a browser as its tool against the server (docs/SECURITY.md, "Browsers").
//!
//! - **Ingest is not a cross-site target.** A page on any site may make a browser send a
//!   "simple" cross-site POST (`text/plain`, a form's types, or no type at all) without asking
//!   the server first; with no ingest token configured a loopback peer may ingest, so such a
//!   page on the server's own machine could send events. Ingest therefore takes only types a
//!   page cannot send without a CORS preflight (which the server never grants), and refuses
//!   any request whose `Origin` is not the server itself.
//! - **Security headers** on every response: a Content-Security-Policy that lets the
//!   wallboard's own script and wasm run and nothing else, no framing, no sniffing, no
//!   referrer; HSTS under TLS.

use axum::Router;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, ORIGIN, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;

use super::error::ApiError;

/// What `POST /api/v1/events` takes: NDJSON, or a JSON array (or one object).
pub(crate) const EVENT_TYPES: &[&str] = &["application/x-ndjson", "application/json"];
/// What `POST /api/v1/import/queue-log` takes. The file is plain text, but `text/plain` is one
/// of the types a page may send cross-site without a preflight: a queue_log's own type, or
/// plain bytes, are not.
pub(crate) const QUEUE_LOG_TYPES: &[&str] = &["text/x-queue-log", "application/octet-stream"];

/// The wallboard needs its own script (`boot.js`, the wasm-bindgen glue), its wasm
/// (`'wasm-unsafe-eval'` lets `WebAssembly.instantiate` compile it; no JavaScript `eval`),
/// its stylesheet, and fetches and the live socket to its own server (`'self'` covers ws: and
/// wss: of the same host). Everything else is refused, and no other site may frame it.
pub(crate) const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; \
     script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// Under TLS only: browsers remember to use HTTPS for a year (not for subdomains: the server
/// may share its domain with other hosts).
pub(crate) const HSTS_VALUE: &str = "max-age=31536000";

/// 415 unless the body's `Content-Type` (parameters such as `; charset=utf-8` allowed) is one
/// of `accepted`; a request without one is refused too (a page can send a body with none).
pub(crate) fn require_content_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), ApiError> {
    let given = headers.get(CONTENT_TYPE).map(|v| {
        let text = String::from_utf8_lossy(v.as_bytes()).into_owned();
        let essence = text
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        (text, essence)
    });
    if let Some((_, essence)) = &given
        && accepted.iter().any(|a| a.eq_ignore_ascii_case(essence))
    {
        return Ok(());
    }
    let wanted = accepted
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    let sent = match &given {
        Some((text, _)) => format!("`{}`", text.escape_debug()),
        None => "none".to_string(),
    };
    Err(ApiError::UnsupportedMediaType(format!(
        "send the body as Content-Type {wanted}; this request's Content-Type was {sent}"
    )))
}

/// 403 when the request carries an `Origin` that is not this server's own (scheme, host and
/// port against the `Host` it was sent to): a browser sends `Origin` on every cross-site POST
/// and websocket, and only a page of another site would. Clients that send none (scripts,
/// switches, the simulator) are not browsers and pass.
pub(crate) fn require_own_origin(headers: &HeaderMap, https: bool) -> Result<(), ApiError> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let origin = String::from_utf8_lossy(origin.as_bytes());
    let host = headers
        .get(HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .unwrap_or_default();
    if is_own_origin(&origin, &host, https) {
        return Ok(());
    }
    let scheme = if https { "https" } else { "http" };
    Err(ApiError::Forbidden(format!(
        "ingest is refused from another site's page: Origin `{}` is not `{scheme}://{}`",
        origin.escape_debug(),
        host.escape_debug()
    )))
}

/// `origin` is `scheme://host[:port]` of this server as the client addressed it in `host`,
/// ports compared with the scheme's default filled in.
fn is_own_origin(origin: &str, host: &str, https: bool) -> bool {
    let (scheme, default_port) = if https {
        ("https", "443")
    } else {
        ("http", "80")
    };
    let Some(authority) = origin
        .split_once("://")
        .filter(|(s, _)| s.eq_ignore_ascii_case(scheme))
        .map(|(_, rest)| rest)
    else {
        return false;
    };
    if host.is_empty() || authority.contains('/') {
        return false;
    }
    let normal = |a: &str| {
        let a = a.to_ascii_lowercase();
        match a.strip_suffix(&format!(":{default_port}")) {
            Some(bare) => bare.to_string(),
            None => a,
        }
    };
    normal(authority) == normal(host)
}

/// The security headers on every response of `router` (API replies, errors, 404s, the
/// wallboard's files); HSTS only when `https`.
pub(crate) fn with_security_headers(router: Router, https: bool) -> Router {
    let header = |name, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    let router = router
        .layer(header(
            CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY_VALUE,
        ))
        .layer(header(X_FRAME_OPTIONS, "DENY"))
        .layer(header(X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(REFERRER_POLICY, "no-referrer"));
    if https {
        router.layer(header(STRICT_TRANSPORT_SECURITY, HSTS_VALUE))
    } else {
        router
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn content_types_are_matched_on_their_essence() {
        for ok in [
            "application/x-ndjson",
            "application/json; charset=utf-8",
            "Application/JSON",
        ] {
            assert!(
                require_content_type(&headers(&[("content-type", ok)]), EVENT_TYPES).is_ok(),
                "{ok}"
            );
        }
        for refused in [
            "text/plain",
            "text/plain; charset=utf-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
        ] {
            let err = require_content_type(&headers(&[("content-type", refused)]), EVENT_TYPES)
                .unwrap_err();
            assert!(
                matches!(err, ApiError::UnsupportedMediaType(_)),
                "{refused}"
            );
            assert!(
                err.to_string()
                    .contains("`application/x-ndjson` or `application/json`"),
                "{err}"
            );
        }
        let err = require_content_type(&HeaderMap::new(), QUEUE_LOG_TYPES).unwrap_err();
        assert!(err.to_string().contains("was none"), "{err}");
        assert!(
            require_content_type(
                &headers(&[("content-type", "text/x-queue-log")]),
                QUEUE_LOG_TYPES
            )
            .is_ok()
        );
    }

    #[test]
    fn only_the_servers_own_origin_passes() {
        let check = |origin: &str, host: &str, https: bool| {
            require_own_origin(&headers(&[("origin", origin), ("host", host)]), https).is_ok()
        };
        assert!(require_own_origin(&HeaderMap::new(), false).is_ok());
        assert!(check("http://127.0.0.1:8080", "127.0.0.1:8080", false));
        assert!(check("http://Wall.Example", "wall.example:80", false));
        assert!(check("https://wall.example", "wall.example", true));
        assert!(check("https://[::1]:8443", "[::1]:8443", true));
        assert!(!check("https://evil.example", "127.0.0.1:8080", false));
        assert!(!check("http://127.0.0.1:8081", "127.0.0.1:8080", false));
        assert!(!check("https://127.0.0.1:8080", "127.0.0.1:8080", false));
        assert!(!check("http://wall.example", "wall.example", true));
        assert!(!check("null", "127.0.0.1:8080", false));
        assert!(!check("http://127.0.0.1:8080/x", "127.0.0.1:8080", false));
        let err =
            require_own_origin(&headers(&[("origin", "https://evil.example")]), false).unwrap_err();
        assert!(matches!(err, ApiError::Forbidden(_)), "{err}");
        assert!(err.to_string().contains("evil.example"), "{err}");
    }
}
