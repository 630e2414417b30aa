#![doc = include_str!("../README.md")]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use rehome_core::Rehome;
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use utoipa_axum::router::UtoipaMethodRouter;

pub mod error;
pub mod extract;
mod keepalive;
pub mod openapi;
mod routes;

pub use error::{ApiError, ApiResult};

/// Whether `POST /users/register/` is open (core's setting; the rule is core's).
pub use rehome_core::services::accounts::Registration;

/// An IANA time zone ([`Settings::time_zone`]).
pub use chrono_tz::Tz;

/// The server's settings (the `rehome serve` flags that the router needs).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether self-registration is open.
    pub registration: Registration,
    /// Whether `X-Forwarded-For/-Proto/-Host` are believed (only behind a proxy that sets
    /// them).
    pub trust_proxy: bool,
    /// Origins allowed to call the API from a browser (`*` for any); none: no CORS headers.
    pub cors_origins: Vec<String>,
    /// How long one request may take before it is answered 408 (mock data gets at least ten
    /// minutes).
    pub request_timeout: Duration,
    /// The body limit of every route but `batch/` (bytes).
    pub body_limit: usize,
    /// The body limit of `batch/` (bytes).
    pub batch_body_limit: usize,
    /// The address people reach the server at (labels, links), instead of the `Host` header
    /// of each request; `None`: not configured.
    pub public_url: Option<PublicUrl>,
    /// The organisation's time zone, for showing times (they are stored in UTC).
    pub time_zone: Tz,
    /// Whether session cookies carry `Secure` (see [`Settings::cookies_secure`]).
    pub secure_cookies: SecureCookies,
    /// Whether the server itself speaks TLS (`--tls-cert`/`--tls-key` or
    /// `--tls-self-signed`).
    pub tls: bool,
    /// The address the server listens on; `None` when not known (a router under test).
    pub listen: Option<SocketAddr>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            registration: Registration::Open,
            trust_proxy: false,
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
            batch_body_limit: 10 * 1024 * 1024,
            public_url: None,
            time_zone: Tz::UTC,
            secure_cookies: SecureCookies::Auto,
            tls: false,
            listen: None,
        }
    }
}

impl Settings {
    /// What the web console takes of these settings.
    pub fn console_settings(&self) -> rehome_console::ConsoleSettings {
        rehome_console::ConsoleSettings {
            secure_cookies: self.cookies_secure(),
            time_zone: self.time_zone,
            public_url: self
                .public_url
                .as_ref()
                .map(|u| u.as_str().trim_end_matches('/').to_owned()),
            trust_proxy: self.trust_proxy,
        }
    }

    /// Whether session cookies are `Secure` (sent by browsers over HTTPS only).
    ///
    /// [`SecureCookies::Auto`] is `Secure` unless the server speaks plain HTTP on a loopback
    /// address and no `https` public URL says a proxy in front terminates TLS: TLS on, an
    /// `https` public URL, a non-loopback address, or an unknown address are all `Secure`.
    /// Browsers keep a `Secure` cookie set over plain HTTP only from `localhost`, so a plain
    /// HTTP server on a network address needs `--secure-cookies never` for the console to
    /// sign in (ADR 0016).
    pub fn cookies_secure(&self) -> bool {
        match self.secure_cookies {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            SecureCookies::Auto => {
                self.tls
                    || self.public_url.as_ref().is_some_and(PublicUrl::is_https)
                    || !self
                        .listen
                        .is_some_and(|a| a.ip().to_canonical().is_loopback())
            }
        }
    }
}

/// `--secure-cookies`: whether session cookies carry `Secure`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecureCookies {
    /// `Secure` unless plain HTTP on a loopback address ([`Settings::cookies_secure`]).
    #[default]
    Auto,
    /// Always `Secure` (e.g. behind a TLS proxy on the same machine).
    Always,
    /// Never `Secure` (plain HTTP on a trusted network).
    Never,
}

/// A setting's value that cannot be used, as a sentence naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError(String);

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingError {}

/// The server's public address (`--public-url`): an absolute `http` or `https` URL with a
/// host, no user name or password, no query and no fragment; its path always ends in `/`
/// (`https://example.org/rehome` is `https://example.org/rehome/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(url::Url);

impl PublicUrl {
    /// Parses and checks `text` (white space around it is ignored).
    pub fn parse(text: &str) -> Result<PublicUrl, SettingError> {
        let text = text.trim();
        let bad = |why: &str| {
            SettingError(format!(
                "public URL {text:?} {why}; expected an absolute http or https URL such as \
                 https://rehome.example.org/"
            ))
        };
        let scheme_ok = ["http://", "https://"].iter().any(|s| {
            text.get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s))
        });
        if !scheme_ok {
            return Err(bad("does not start with http:// or https://"));
        }
        let mut url = url::Url::parse(text).map_err(|e| bad(&format!("is not a URL ({e})")))?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("has a user name or password"));
        }
        if url.query().is_some() {
            return Err(bad("has a query (?...)"));
        }
        if url.fragment().is_some() {
            return Err(bad("has a fragment (#...)"));
        }
        let path = format!("{}/", url.path().trim_end_matches('/'));
        url.set_path(&path);
        Ok(PublicUrl(url))
    }

    /// The URL, ending in `/`.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL.
    pub fn url(&self) -> &url::Url {
        &self.0
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }

    /// The host: a name, or an IP address without brackets.
    pub fn host(&self) -> String {
        match self.0.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => String::new(),
        }
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PublicUrl {
    type Err = SettingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PublicUrl::parse(s)
    }
}

/// Parses an IANA time zone name (`Europe/London`, `UTC`); the error says how to find the
/// names, and suggests the name that differs only in case.
pub fn parse_time_zone(name: &str) -> Result<Tz, SettingError> {
    let name = name.trim();
    if let Ok(tz) = name.parse::<Tz>() {
        return Ok(tz);
    }
    let hint = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(name))
        .map(|tz| format!(" (did you mean {}?)", tz.name()))
        .unwrap_or_default();
    Err(SettingError(format!(
        "unknown time zone {name:?}{hint}: use an IANA time zone name such as UTC, \
         Europe/London or America/New_York (`timedatectl list-timezones` lists them, so does \
         the \"TZ identifier\" column of Wikipedia's \"List of tz database time zones\")"
    )))
}

/// What every handler sees: core (cheap to clone: `Arc`s inside) and the settings.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Core's services over the store.
    pub core: Rehome,
    /// The server's settings.
    pub settings: Arc<Settings>,
}

impl AppState {
    /// State over `core` with `settings`.
    pub fn new(core: Rehome, settings: Settings) -> AppState {
        AppState {
            core,
            settings: Arc::new(settings),
        }
    }
}

/// The methods routes are registered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteMethod {
    /// GET (and HEAD).
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl RouteMethod {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteMethod::Get => "GET",
            RouteMethod::Post => "POST",
            RouteMethod::Put => "PUT",
            RouteMethod::Patch => "PATCH",
            RouteMethod::Delete => "DELETE",
        }
    }
}

/// One canonical path of the route table.
struct Route {
    methods: MethodRouter<AppState>,
    verbs: Vec<RouteMethod>,
    body_limit: Option<usize>,
    timeout: Option<Duration>,
}

/// Collects routes from the handlers' `#[utoipa::path]` attributes (`utoipa_axum::routes!`):
/// each path is written once, in its attribute, and the table both routes it (also without
/// its trailing slash) and hands its operations to the OpenAPI document.
pub(crate) struct RouteTable {
    paths: BTreeMap<String, Route>,
    api: utoipa::openapi::path::Paths,
    schemas: Vec<(
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )>,
    last: Option<String>,
}

impl RouteTable {
    fn new() -> RouteTable {
        RouteTable {
            paths: BTreeMap::new(),
            api: utoipa::openapi::path::Paths::new(),
            schemas: Vec::new(),
            last: None,
        }
    }

    /// Adds the handlers of one path (one `routes!` of handlers sharing a path).
    pub(crate) fn routes(mut self, routes: UtoipaMethodRouter<AppState>) -> Self {
        let (schemas, paths, router) = routes;
        self.schemas.extend(schemas);
        for (path, item) in &paths.paths {
            let verbs = [
                (item.get.is_some(), RouteMethod::Get),
                (item.post.is_some(), RouteMethod::Post),
                (item.put.is_some(), RouteMethod::Put),
                (item.patch.is_some(), RouteMethod::Patch),
                (item.delete.is_some(), RouteMethod::Delete),
            ];
            let route = self.paths.entry(path.clone()).or_insert_with(|| Route {
                methods: MethodRouter::new(),
                verbs: Vec::new(),
                body_limit: None,
                timeout: None,
            });
            let methods = std::mem::take(&mut route.methods);
            route.methods = methods.merge(router.clone());
            route
                .verbs
                .extend(verbs.into_iter().filter(|(on, _)| *on).map(|(_, m)| m));
            self.last = Some(path.clone());
        }
        self.api.merge(paths);
        self
    }

    fn last_route(&mut self) -> Option<&mut Route> {
        let last = self.last.clone()?;
        self.paths.get_mut(&last)
    }

    /// Gives the path added last its own body limit.
    pub(crate) fn body_limit(mut self, limit: usize) -> Self {
        if let Some(r) = self.last_route() {
            r.body_limit = Some(limit);
        }
        self
    }

    /// Gives the path added last its own request timeout (long-running work such as mock
    /// data).
    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        if let Some(r) = self.last_route() {
            r.timeout = Some(timeout);
        }
        self
    }

    fn routes_list(&self) -> Vec<(String, Vec<RouteMethod>)> {
        self.paths
            .iter()
            .map(|(p, r)| {
                let mut m = r.verbs.clone();
                m.sort();
                (p.clone(), m)
            })
            .collect()
    }

    /// The operations and the schemas they name, for the OpenAPI document.
    pub(crate) fn into_openapi(
        self,
    ) -> (
        utoipa::openapi::path::Paths,
        Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        (self.api, self.schemas)
    }

    fn into_router(self, default_timeout: Duration) -> Router<AppState> {
        let mut router = Router::new();
        for (path, route) in self.paths {
            let mut methods = route.methods;
            if let Some(limit) = route.body_limit {
                methods = methods.layer(DefaultBodyLimit::max(limit));
            }
            let timeout = route.timeout.unwrap_or(default_timeout);
            methods = methods.layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                timeout,
            ));
            router = router.route(&path, methods.clone());
            if let Some(bare) = path.strip_suffix('/')
                && !bare.is_empty()
            {
                router = router.route(bare, methods);
            }
        }
        router
    }
}

/// Every route the router serves: canonical path (trailing slash; also served without it)
/// and methods (GET also answers HEAD).
pub fn implemented_routes() -> Vec<(String, Vec<RouteMethod>)> {
    routes::table(&Settings::default()).routes_list()
}

/// The whole REST API over `state`: every route of the contract, with and without the trailing
/// slash, JSON errors for everything (404, 405, 408, 413, 415, 500), CORS, request ids and one
/// log line per request; and the web console (`rehome_console::router`) on its own paths.
pub fn app(state: AppState) -> Router {
    let settings = state.settings.clone();
    let console = rehome_console::router(state.core.clone(), settings.console_settings());
    let router = routes::table(&settings)
        .into_router(settings.request_timeout)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(settings.body_limit))
        .with_state(state);
    let x_request_id = HeaderName::from_static("x-request-id");
    let mut router = router
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(json_errors))
        .merge(console);
    if let Some(cors) = cors_layer(&settings.cors_origins) {
        router = router.layer(cors);
    }
    router
        .layer(middleware::from_fn(keepalive::close_if_body_unread))
        .layer(middleware::from_fn(log_request))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| match HeaderValue::from_str(o.trim_end_matches('/')) {
                Ok(v) => Some(v),
                Err(_) => {
                    tracing::warn!(origin = %o, "ignoring a CORS origin that is no header value");
                    None
                }
            })
            .collect();
        AllowOrigin::list(list)
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
            ])
            .expose_headers([
                header::ETAG,
                header::LOCATION,
                header::RETRY_AFTER,
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(json!({ "detail": error::INTERNAL })),
    )
        .into_response()
}

/// Gives a JSON body to the error responses that layers and axum itself make without one
/// (405 from the method router, 408 from the timeout, ...).
async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let text = match status {
        StatusCode::METHOD_NOT_ALLOWED => format!("Method \"{method}\" not allowed."),
        StatusCode::REQUEST_TIMEOUT => "The request took too long.".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "Request body is too large.".to_owned(),
        StatusCode::NOT_FOUND => "Not found.".to_owned(),
        s if s.is_server_error() => error::INTERNAL.to_owned(),
        s => s.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = axum::Json(json!({ "detail": text })).into_response();
    let (body_parts, body) = body.into_parts();
    for (name, value) in &body_parts.headers {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, body)
}

/// One log line per request: method, path, status, latency, request id.
async fn log_request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = next.run(req).await;
    let latency = start.elapsed();
    tracing::info!(
        target: "rehome_http::request",
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_ms = latency.as_micros() as f64 / 1000.0,
        request_id = %request_id,
        "request"
    );
    response
}
