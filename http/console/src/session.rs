//! The console's cookies, the signed-in caller, and the CSRF check every POST passes.
//!
//! Three cookies, all `HttpOnly; SameSite=Strict` (and `Secure` when
//! [`crate::ConsoleSettings::secure_cookies`]): the session (a store session token from
//! core's login, the same kind of session as a bearer token), the half-login between password
//! and code (core's MFA token, stored in the store, five minutes), and a random value for the
//! sign-in form's CSRF token before anyone is signed in. No login state lives in the
//! server's memory, so several servers over one database serve one browser.

use std::net::SocketAddr;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use rehome_core::{Caller, Error, User};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ConsoleState;
use crate::error::ConsoleError;

/// The session cookie: a store session token.
pub const SESSION_COOKIE: &str = "rehome_session";
/// The half-login cookie: core's MFA token between the password and the code.
pub const MFA_COOKIE: &str = "rehome_mfa";
/// The sign-in form's cookie: random bytes its CSRF token derives from.
pub const SIGN_IN_COOKIE: &str = "rehome_sign_in";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// The header carrying the CSRF token on htmx requests (`hx-headers` on `<body>`).
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The largest form body the console reads (bytes).
pub const FORM_LIMIT: usize = 1024 * 1024;

/// The CSRF token of a cookie's secret: SHA-256 of a domain-separated string of it, in hex.
/// It is worth nothing without the cookie (SameSite=Strict, HttpOnly) and any server derives
/// the same one, so nothing is stored for it.
pub fn csrf_token(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"rehome-console csrf v1\0");
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// The value of the cookie `name`, if the request has it (and it is not empty).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// A `Set-Cookie` value: the cookie with the console's attributes, for `max_age` seconds
/// (0 deletes it). Values are tokens of URL-safe characters, so no quoting is needed.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// The client address: the socket's peer, or with `trust_proxy` the address the proxy
/// appended last to `X-Forwarded-For` (what the REST API believes too).
pub fn client_ip(parts: &Parts, trust_proxy: bool) -> Option<String> {
    if trust_proxy {
        let last = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(',').map(str::trim).rfind(|a| !a.is_empty()))
            .next_back();
        if let Some(ip) = last.and_then(|a| a.parse::<std::net::IpAddr>().ok()) {
            return Some(ip.to_string());
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// The only paths a user who must choose a new password may use.
const PASSWORD_CHANGE_PATHS: [&str; 2] = [crate::screens::new_password::PATH, "/sign-out"];

/// The signed-in user of a request: the session cookie's token authenticated by core on every
/// request (so a sign-out anywhere is seen at once). Without a valid session the request is
/// sent to the sign-in page (and back after).
#[derive(Debug, Clone)]
pub struct Session {
    /// Who core sees: pass it to every service call.
    pub caller: Caller,
    /// The signed-in user (as read for this request).
    pub user: User,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
}

impl Session {
    /// Whether the user holds `p` (for showing controls; core decides on every action).
    pub fn has(&self, p: rehome_core::Permission) -> bool {
        self.caller.has(p)
    }
}

impl FromRequestParts<ConsoleState> for Session {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, ConsoleError> {
        let next = if parts.method == Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
        } else {
            "/".to_owned()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(ConsoleError::SignIn { next });
        };
        let ip = client_ip(parts, state.settings.trust_proxy);
        match state.core.authenticate(&token, ip.as_deref()).await {
            Ok(caller) => {
                let Some(user) = caller.as_user().cloned() else {
                    return Err(ConsoleError::SignIn { next });
                };
                // After a coordinator's reset, nothing but choosing a new password (and
                // signing out) until it is done.
                if user.must_change_password && !PASSWORD_CHANGE_PATHS.contains(&parts.uri.path()) {
                    return Err(ConsoleError::PasswordChange { next });
                }
                Ok(Session {
                    caller,
                    user,
                    csrf: csrf_token(&token),
                })
            }
            Err(Error::InvalidToken) => Err(ConsoleError::SignIn { next }),
            Err(e) => Err(e.into()),
        }
    }
}

/// The client address as an extractor, for the sign-in steps (core throttles by it).
#[derive(Debug, Clone)]
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<ConsoleState> for ClientIp {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, ConsoleError> {
        Ok(ClientIp(client_ip(parts, state.settings.trust_proxy)))
    }
}

/// Whether a POST comes from this site: `Sec-Fetch-Site` (when the browser sends it) must be
/// `same-origin` (or `none`, typed by the user), and `Origin` (when sent) must be the
/// console's own (`public_url` when set, else the `Host` the request was sent to), or `null`
/// beside a `Sec-Fetch-Site` that passed.
fn same_site(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    let fetch_site = headers.get("sec-fetch-site");
    if let Some(site) = fetch_site {
        let site = site.to_str().unwrap_or_default();
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    // `Referrer-Policy: no-referrer` makes browsers send `Origin: null` on their own form
    // posts; those browsers also send `Sec-Fetch-Site`, which then decides.
    if origin == "null" {
        return fetch_site.is_some();
    }
    match public_url {
        // The origin of the public URL: scheme, host and port, without its path.
        Some(url) => {
            let url_origin = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
            origin.eq_ignore_ascii_case(&url_origin)
        }
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            let origin_host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            !host.is_empty() && origin_host.is_some_and(|o| o.eq_ignore_ascii_case(host))
        }
    }
}

/// The layer every console route sits behind: a POST must come from this site and carry a
/// CSRF token (form field `csrf` or header `X-CSRF-Token`) derived from one of the request's
/// own cookies; otherwise it is refused (403) before any handler runs. The body is read here
/// (up to [`FORM_LIMIT`]) and handed on unchanged.
pub(crate) async fn check_post(
    State(state): State<ConsoleState>,
    req: Request,
    next: Next,
) -> Result<Response, ConsoleError> {
    if req.method() != Method::POST {
        return Ok(next.run(req).await);
    }
    let (parts, body) = req.into_parts();
    if !same_site(&parts.headers, state.settings.public_url.as_deref()) {
        return Err(ConsoleError::Csrf);
    }
    let bytes = to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| ConsoleError::BadRequest("The form is too large.".into()))?;
    let sent = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            form_urlencoded::parse(&bytes)
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v.into_owned())
        });
    let Some(sent) = sent else {
        return Err(ConsoleError::Csrf);
    };
    let matches = [SESSION_COOKIE, MFA_COOKIE, SIGN_IN_COOKIE]
        .iter()
        .filter_map(|name| cookie(&parts.headers, name))
        .any(|secret| bool::from(csrf_token(&secret).as_bytes().ct_eq(sent.as_bytes())));
    if !matches {
        return Err(ConsoleError::Csrf);
    }
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

impl axum::extract::OptionalFromRequestParts<ConsoleState> for Session {
    type Rejection = ConsoleError;

    /// `None` when nobody is signed in (or the session ended); a store failure is still one.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Option<Self>, ConsoleError> {
        match <Session as FromRequestParts<ConsoleState>>::from_request_parts(parts, state).await {
            Ok(s) => Ok(Some(s)),
            Err(ConsoleError::SignIn { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
