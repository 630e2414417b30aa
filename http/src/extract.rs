//! Extractors that turn every malformed request into a JSON 4xx: the body, the bearer token,
//! `If-Match`, the query string and path parameters.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use rehome_core::Caller;
use rehome_core::services::ListParams;
use serde_json::Value as Json;

use crate::AppState;
use crate::error::ApiError;

/// A JSON request body. An empty body reads as `{}` (so "field required" errors come from
/// the rules, as for any missing field); a non-empty body must be declared JSON (else 415) and
/// parse (else 400); a body over the route's limit is a 413.
#[derive(Debug, Clone)]
pub struct JsonBody(pub Json);

/// Whether a `Content-Type` value declares JSON (`application/json`, `application/*+json`).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().map(str::to_owned));
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("The request body could not be read.".into())
            }
        })?;
        // No body at all reads as `{}` (so the field rules name what is missing); a body of
        // only white space is not JSON and is refused like any other malformed body.
        if bytes.is_empty() {
            return Ok(JsonBody(Json::Object(serde_json::Map::new())));
        }
        match content_type {
            Some(Ok(ct)) if is_json(&ct) => {}
            Some(Ok(ct)) => {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "Unsupported media type \"{ct}\" in request; send application/json."
                )));
            }
            Some(Err(_)) => {
                return Err(ApiError::UnsupportedMediaType(
                    "Unsupported media type in request; send application/json.".into(),
                ));
            }
            None => {
                return Err(ApiError::UnsupportedMediaType(
                    "Missing Content-Type; send application/json.".into(),
                ));
            }
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::BadRequest(format!("JSON parse error - {e}")))
    }
}

/// The client address: the socket's peer, or with `--trust-proxy` the address the proxy
/// appended last to `X-Forwarded-For` (earlier entries are whatever the client claimed).
pub fn client_ip(parts: &Parts, trust_proxy: bool) -> Option<String> {
    if trust_proxy && let Some(forwarded) = last_forwarded_for(&parts.headers) {
        return Some(forwarded);
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

fn last_forwarded_for(headers: &HeaderMap) -> Option<String> {
    let mut last = None;
    for value in headers.get_all("x-forwarded-for") {
        if let Ok(v) = value.to_str()
            && let Some(addr) = v.split(',').map(str::trim).rfind(|a| !a.is_empty())
        {
            last = Some(addr);
        }
    }
    let addr = last?;
    // Only an address: anything else is not what a proxy writes.
    addr.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

/// The client address as an extractor (see [`client_ip`]).
#[derive(Debug, Clone)]
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(ClientIp(client_ip(parts, state.settings.trust_proxy)))
    }
}

/// The bearer token of a request: `None` when there is no `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let Ok(value) = value.to_str() else {
        return Err(ApiError::Core(rehome_core::Error::InvalidToken));
    };
    let mut words = value.trim().splitn(2, ' ');
    let scheme = words.next().unwrap_or_default();
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Another scheme carries no credentials this server knows.
        return Ok(None);
    }
    let token = words.next().unwrap_or_default().trim();
    if token.is_empty() || token.contains(' ') {
        return Err(ApiError::Core(rehome_core::Error::InvalidToken));
    }
    Ok(Some(token.to_owned()))
}

/// The authenticated caller: 401 without a bearer token or with a bad one. The token is
/// checked against the store on every request (one indexed read), so a revocation anywhere
/// is seen at once.
#[derive(Debug, Clone)]
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = bearer(&parts.headers)? else {
            return Err(ApiError::NotAuthenticated);
        };
        let ip = client_ip(parts, state.settings.trust_proxy);
        let caller = state.core.authenticate(&token, ip.as_deref()).await?;
        Ok(Auth(caller))
    }
}

/// The caller on a public route: anonymous without a token, the user with a good one, 401
/// with a bad one (a client that sends a token means to be someone).
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Caller);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = client_ip(parts, state.settings.trust_proxy);
        match bearer(&parts.headers)? {
            Some(token) => Ok(MaybeAuth(
                state.core.authenticate(&token, ip.as_deref()).await?,
            )),
            None => Ok(MaybeAuth(match ip {
                Some(ip) => Caller::anonymous().with_ip(ip),
                None => Caller::anonymous(),
            })),
        }
    }
}

/// The version an `If-Match` header names: `None` without the header or for `*`. Entity
/// tags are the contract's `"<version>"` (weak `W/` tags compare the same way); a tag that is
/// no version of ours can match nothing and is passed on as a version no object has, so core
/// answers 412. Several tags at once are refused (400): core compares with one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<u64>);

/// A version no object reaches, for entity tags that are not ours.
const NO_VERSION: u64 = u64::MAX;

/// Parses an `If-Match` value (see [`IfMatch`]).
pub fn parse_if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let mut tags: Vec<String> = Vec::new();
    for value in headers.get_all(header::IF_MATCH) {
        let Ok(v) = value.to_str() else {
            return Err(ApiError::BadRequest("Malformed If-Match header.".into()));
        };
        tags.extend(
            v.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        );
    }
    if tags.iter().any(|t| t == "*") {
        return Ok(None);
    }
    match tags.as_slice() {
        [] => Ok(None),
        [tag] => {
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            let inner = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(tag);
            Ok(Some(inner.parse::<u64>().unwrap_or(NO_VERSION)))
        }
        _ => Err(ApiError::BadRequest(
            "If-Match with several entity tags is not supported; send one.".into(),
        )),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse_if_match(&parts.headers).map(IfMatch)
    }
}

/// The query string as ordered pairs. Never fails: bad percent-escapes decode lossily, and
/// what the pairs mean is core's business.
#[derive(Debug, Clone, Default)]
pub struct Params(pub ListParams);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let pairs = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Ok(Params(ListParams { pairs }))
    }
}

/// The one path parameter of a route, percent-decoded. A parameter that does not decode to
/// text names nothing (404).
#[derive(Debug, Clone)]
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| PathParam(p))
            .map_err(|_| ApiError::NotFound)
    }
}

/// Where the request was sent, for absolute links: scheme (`https` when the server speaks TLS)
/// and host from the `Host` header (or `X-Forwarded-Proto` / `X-Forwarded-Host` with
/// `--trust-proxy`), path and query as sent.
#[derive(Debug, Clone)]
pub struct RequestUrl {
    /// `http` or `https`.
    pub scheme: String,
    /// `host[:port]`.
    pub host: String,
    /// The path as requested.
    pub path: String,
    /// The query pairs as requested.
    pub pairs: Vec<(String, String)>,
}

/// Whether `host` is a plausible `host[:port]` (so a header cannot inject a path or a
/// second URL into links).
fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]_".contains(c))
}

fn first_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for RequestUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let trust = state.settings.trust_proxy;
        let forwarded_host = trust
            .then(|| first_value(&parts.headers, "x-forwarded-host"))
            .flatten();
        let host = forwarded_host
            .or_else(|| first_value(&parts.headers, "host"))
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .filter(|h| plausible_host(h))
            .unwrap_or_else(|| "localhost".to_owned());
        let scheme = trust
            .then(|| first_value(&parts.headers, "x-forwarded-proto"))
            .flatten()
            .map(|s| s.to_ascii_lowercase())
            .filter(|s| s == "http" || s == "https")
            .or_else(|| parts.uri.scheme_str().map(str::to_owned))
            .unwrap_or_else(|| if state.settings.tls { "https" } else { "http" }.to_owned());
        let pairs = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Ok(RequestUrl {
            scheme,
            host,
            path: parts.uri.path().to_owned(),
            pairs,
        })
    }
}

impl RequestUrl {
    /// This URL with `page` set to `page` (left out for page 1, as the original did).
    pub fn with_page(&self, page: u64) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            if k != "page" {
                query.append_pair(k, v);
            }
        }
        if page > 1 {
            query.append_pair("page", &page.to_string());
        }
        let query = query.finish();
        let path = encode_path(&self.path);
        if query.is_empty() {
            format!("{}://{}{}", self.scheme, self.host, path)
        } else {
            format!("{}://{}{}?{}", self.scheme, self.host, path, query)
        }
    }
}

/// The path as it may appear in a URL (it arrived that way; this only guards against
/// characters a URL cannot hold).
fn encode_path(path: &str) -> String {
    path.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '?' && c != '#' {
                c.to_string()
            } else {
                let mut buf = [0u8; 4];
                c.encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::IF_MATCH, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn if_match_forms() {
        let p = |v: &[&str]| parse_if_match(&headers(v)).ok();
        assert_eq!(p(&[]), Some(None));
        assert_eq!(p(&["*"]), Some(None));
        assert_eq!(p(&["\"3\""]), Some(Some(3)));
        assert_eq!(p(&["W/\"7\""]), Some(Some(7)));
        assert_eq!(p(&["12"]), Some(Some(12)));
        assert_eq!(p(&["\"abc\""]), Some(Some(NO_VERSION)));
        assert_eq!(p(&["\"1\", *"]), Some(None));
        assert!(p(&["\"1\", \"2\""]).is_none());
        assert!(p(&["\"1\"", "\"2\""]).is_none());
    }

    #[test]
    fn content_types() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/problem+json",
        ] {
            assert!(is_json(ok), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "json",
            "",
        ] {
            assert!(!is_json(bad), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        assert!(plausible_host("example.org:8000"));
        assert!(plausible_host("[::1]:8000"));
        assert!(!plausible_host("evil.org/path"));
        assert!(!plausible_host("a b"));
        assert!(!plausible_host(""));
    }
}
