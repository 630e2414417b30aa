//! rehome's web console: server-rendered HTML ([maud]) with [htmx] as progressive
//! enhancement, served by `rehome serve` beside the REST API (see ADR 0014).
//!
//! [`router`] gives an [`axum::Router`] with its own state; `rehome_http::app` merges it.
//! Every page and action goes through core's services with the signed-in user's
//! [`rehome_core::Caller`]: the console holds no rule of its own, so it can never do what
//! the REST API refuses that user.
//!
//! # Signing in
//! The session cookie carries a store session token issued by core's login (the same
//! sessions as bearer tokens: a sign-out revokes it everywhere, any server over the same
//! store accepts it). The half-login between password and code is core's MFA token in a
//! short-lived cookie, so it lives in the store too. Every POST carries a CSRF token derived
//! from the cookie's token ([`session::csrf_token`]), checked by one layer for every route.
//!
//! # Adding a screen
//! 1. Write `src/screens/<screen>.rs` with a `pub(crate) fn routes() -> Vec<Route>` (see
//!    [`screens::Route`]): each route is a path and its `MethodRouter<ConsoleState>`.
//! 2. Add the module and its `routes()` to the list in [`screens::table`]; that list is the
//!    whole console (the router and the path-disjointness test read it).
//! 3. Handlers take [`session::Session`] (the signed-in caller, its user and its CSRF token;
//!    a visitor who is not signed in is sent to the sign-in page), parse POST bodies with
//!    [`forms::Form`], call core with `session.caller`, and render with [`layout::page`]
//!    (header, navigation, skip link). A core error becomes a page through
//!    [`error::ConsoleError`] (`?` works); field errors go beside their fields with
//!    [`forms::field`], the user's input kept.
//! 4. Put a link in the navigation ([`layout::NAV`]) with the permission that makes it
//!    visible. Every form gets [`layout::csrf_field`]; POSTs without it are refused before
//!    any handler runs.
//!
//! [maud]: https://maud.lambda.xyz/
//! [htmx]: https://htmx.org/

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use rehome_core::Rehome;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;

pub mod assets;
pub mod error;
pub mod forms;
pub mod layout;
pub mod screens;
pub mod session;

/// The console's settings (the `rehome serve` flags it needs).
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// Whether the cookies carry `Secure` (on for HTTPS; off only for plain HTTP, e.g. on
    /// loopback).
    pub secure_cookies: bool,
    /// The organisation's time zone: every time is shown in it (stored in UTC).
    pub time_zone: chrono_tz::Tz,
    /// The address the console is reached at (`https://rehome.example.org`), used in links
    /// and labels instead of the Host header; also the only `Origin` a POST may come from
    /// when set.
    pub public_url: Option<String>,
    /// Whether `X-Forwarded-For` is believed for the client address (only behind a proxy
    /// that sets it).
    pub trust_proxy: bool,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            secure_cookies: false,
            time_zone: chrono_tz::UTC,
            public_url: None,
            trust_proxy: false,
        }
    }
}

/// What every console handler sees: core and the settings (cheap to clone).
#[derive(Debug, Clone)]
pub struct ConsoleState {
    /// Core's services over the store.
    pub core: Rehome,
    /// The console's settings.
    pub settings: Arc<ConsoleSettings>,
}

/// The whole console: every screen of [`screens::table`] and the assets under `/static/`,
/// with the security headers, the CSRF check on every POST, gzip, and an HTML 500 page for
/// a handler that panics. It has no fallback: the server's own answers unknown paths.
pub fn router(core: Rehome, settings: ConsoleSettings) -> Router {
    let state = ConsoleState {
        core,
        settings: Arc::new(settings),
    };
    let mut router = Router::new();
    for route in screens::table() {
        router = router.route(route.path, route.methods);
    }
    router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::check_post,
        ))
        .with_state(state)
        .layer(CatchPanicLayer::custom(error::panic_page))
        .layer(middleware::from_fn(layout::security_headers))
        .layer(CompressionLayer::new())
}

/// Every path the console serves (route patterns, e.g. `/static/{name}`), for the check
/// that none of them overlaps the REST API.
pub fn paths() -> Vec<&'static str> {
    screens::table().into_iter().map(|r| r.path).collect()
}
