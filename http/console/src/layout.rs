//! What every page shares: the document, the header with the signed-in user and a navigation
//! showing only what the user may use, the skip link, the CSRF field, times in the
//! organisation's time zone, and the security headers on every response.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use rehome_core::Permission;
use rehome_core::model::Timestamp;

use crate::assets;
use crate::session::{CSRF_FIELD, Session};

/// The navigation: path, label, and the permission that shows it (`None`: everyone signed
/// in). Screens add their row here.
pub const NAV: &[(&str, &str, Option<Permission>)] = &[
    ("/", "Home", None),
    ("/devices", "Devices", Some(Permission::ReadDevices)),
    ("/intake", "Intake", Some(Permission::CreateDevices)),
    ("/scan", "Scan", Some(Permission::ScanDevices)),
    ("/locations", "Locations", Some(Permission::ReadDevices)),
    ("/donors", "Donors", Some(Permission::ReadDevices)),
    ("/shipments", "Shipments", Some(Permission::ReadDevices)),
    ("/people", "Users", Some(Permission::ManageUsers)),
    ("/roles", "Roles", Some(Permission::ManageUsers)),
    ("/audit", "Audit log", Some(Permission::ViewAuditLog)),
    ("/account", "Account", None),
];

/// Whether a navigation row shows: its permission, or (for locations, donors and shipments)
/// any other permission core reads that kind with (`manageWarehouses`, ...).
fn nav_visible(session: &Session, path: &str, permission: Option<Permission>) -> bool {
    permission.is_none_or(|p| session.has(p))
        || crate::screens::records::nav_read_permissions(path)
            .iter()
            .any(|p| session.has(*p))
}

/// The Content-Security-Policy of every console response: nothing inline, nothing from
/// elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                       img-src 'self' data:; connect-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// htmx's settings: no inline indicator styles (the CSP refuses them), no eval, no scripts
/// from responses.
const HTMX_CONFIG: &str =
    r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}"#;

fn document(title: &str, csrf: Option<&str>, header: Markup, main: Markup) -> Html<String> {
    let hx_headers = csrf.map(|t| format!(r#"{{"X-CSRF-Token":"{t}"}}"#));
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="htmx-config" content=(HTMX_CONFIG);
                    title { (title) " · rehome" }
                    link rel="icon" href=(assets::url("favicon.svg")) type="image/svg+xml";
                    link rel="stylesheet" href=(assets::url("console.css"));
                    script src=(assets::url("htmx.min.js")) defer {}
                }
                body hx-headers=[hx_headers] {
                    a.skip href="#main" { "Skip to content" }
                    (header)
                    main id="main" tabindex="-1" { (main) }
                }
            }
        }
        .into_string(),
    )
}

/// A page for a signed-in user: header (user, navigation, sign-out) and `main`.
pub fn page(session: &Session, current: &str, title: &str, main: Markup) -> Html<String> {
    let header = html! {
        header.top {
            a.brand href="/" { "rehome" }
            nav aria-label="Main" {
                ul {
                    @for (path, label, permission) in NAV {
                        @if nav_visible(session, path, *permission) {
                            li {
                                a href=(path) aria-current=[(*path == current).then_some("page")] {
                                    (label)
                                }
                            }
                        }
                    }
                }
            }
            div.user {
                span { "Signed in as " strong { (session.user.username) } }
                form method="post" action="/sign-out" {
                    (csrf_field(&session.csrf))
                    button.link type="submit" { "Sign out" }
                }
            }
        }
    };
    document(title, Some(&session.csrf), header, main)
}

/// A page with no signed-in user (sign-in, failure pages): the brand only.
pub fn bare_page(title: &str, main: Markup) -> Html<String> {
    let header = html! {
        header.top {
            a.brand href="/" { "rehome" }
        }
    };
    document(title, None, header, main)
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// A time in the organisation's time zone (`2026-12-04 15:30`), inside `<time>` with the
/// UTC value as its `datetime`.
pub fn time(at: Timestamp, zone: chrono_tz::Tz) -> Markup {
    let local = at.with_timezone(&zone);
    html! {
        time datetime=(at.to_rfc3339()) { (local.format("%Y-%m-%d %H:%M")) }
    }
}

/// Trusted markup made by core (an SVG QR code, escaped by its encoder).
pub fn trusted_svg(svg: &str) -> PreEscaped<String> {
    // Drop an XML declaration: it is not allowed inside HTML.
    let start = svg.find("<svg").unwrap_or(0);
    PreEscaped(svg[start..].to_owned())
}

/// Adds the console's security headers to every response, and `Cache-Control: no-store` to
/// every page (assets set their own long caching).
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
