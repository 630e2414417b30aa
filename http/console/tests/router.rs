//! The console through its router (no socket): the cookie flow, CSRF refusals, the security
//! headers, and that a bearer token is no console session.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{PASSWORD, csrf_of, post, send, set_cookie, text};
use rehome_console::ConsoleSettings;
use rehome_core::services::LoginOutcome;
use rehome_core::{Caller, Rehome};
use serde_json::json;

async fn console() -> (Rehome, Router) {
    let core = common::core();
    core.create_user(
        &Caller::system(),
        &json!({"username": "ada", "email": "ada@example.org", "password": PASSWORD}),
    )
    .await
    .expect("user");
    let router = rehome_console::router(core.clone(), ConsoleSettings::default());
    (core, router)
}

/// A GET, with `cookie` if any.
fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).expect("request")
}

/// Signs `ada` in through the forms; answers the session cookie and a page's CSRF token.
async fn sign_in(router: &Router) -> (String, String) {
    let (session, _) = common::sign_in_with(router, "ada", PASSWORD).await;
    let r = send(router, get("/", Some(&session))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csrf = csrf_of(&text(r).await);
    (session, csrf)
}

#[tokio::test]
async fn every_response_has_the_security_headers() {
    let (_, router) = console().await;
    for path in ["/sign-in", "/", "/account", "/static/nothing.css"] {
        let r = send(&router, get(path, None)).await;
        let h = r.headers();
        assert_eq!(
            h["content-security-policy"],
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "{path}"
        );
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    }
    let r = send(&router, get("/sign-in", None)).await;
    assert_eq!(r.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_signing_out_revokes_it() {
    let (_, router) = console().await;
    let r = send(&router, get("/", None)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/sign-in?next=%2F");

    let r = send(&router, get("/sign-in", None)).await;
    let (pre, _) = set_cookie(&r, "rehome_sign_in").expect("sign-in cookie");
    let page = text(r).await;
    assert!(page.contains(r#"<label for="f-username">Username</label>"#));
    assert!(page.contains(r#"<label for="f-password">Password</label>"#));
    let csrf = csrf_of(&page);

    // A wrong password: REST's sentence, the username kept, no session.
    let r = send(
        &router,
        post(
            "/sign-in",
            &pre,
            &[("csrf", &csrf), ("username", "ada"), ("password", "wrong")],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&r, "rehome_session").is_none());
    let page = text(r).await;
    assert!(page.contains("Invalid username or password."));
    assert!(page.contains(r#"value="ada""#));

    let r = send(
        &router,
        post(
            "/sign-in",
            &pre,
            &[
                ("csrf", &csrf),
                ("username", "ada"),
                ("password", PASSWORD),
                ("next", "/account"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/account");
    let (session, full) = set_cookie(&r, "rehome_session").expect("session cookie");
    assert!(full.contains("; Path=/;"), "{full}");
    assert!(full.contains("; HttpOnly"), "{full}");
    assert!(full.contains("; SameSite=Strict"), "{full}");
    assert!(!full.contains("Secure"), "plain HTTP by default: {full}");

    let r = send(&router, get("/", Some(&session))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(page.contains("<strong>ada</strong>"));
    let csrf = csrf_of(&page);

    let r = send(&router, post("/sign-out", &session, &[("csrf", &csrf)])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/sign-in");
    let (cleared, _) = set_cookie(&r, "rehome_session").expect("cleared cookie");
    assert_eq!(cleared, "rehome_session=");
    // The old cookie is revoked in the store, not just forgotten by the browser.
    let r = send(&router, get("/", Some(&session))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn secure_cookies_when_asked() {
    let (core, _) = console().await;
    let router = rehome_console::router(
        core,
        ConsoleSettings {
            secure_cookies: true,
            ..ConsoleSettings::default()
        },
    );
    let r = send(&router, get("/sign-in", None)).await;
    let (_, full) = set_cookie(&r, "rehome_sign_in").expect("cookie");
    assert!(full.ends_with("; Secure"), "{full}");
}

#[tokio::test]
async fn posts_without_the_right_csrf_token_are_refused() {
    let (_, router) = console().await;
    let (session, csrf) = sign_in(&router).await;
    let wrong = "0".repeat(64);
    for form in [vec![], vec![("csrf", wrong.as_str())]] {
        let r = send(&router, post("/sign-out", &session, &form)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(text(r).await.contains("Form expired"));
    }
    // Another session's token is no good either.
    let (_, other_csrf) = sign_in(&router).await;
    assert_ne!(other_csrf, csrf);
    let r = send(
        &router,
        post("/sign-out", &session, &[("csrf", &other_csrf)]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The session survived every refusal.
    assert_eq!(
        send(&router, get("/", Some(&session))).await.status(),
        StatusCode::OK
    );

    // The right token from another site.
    let mut req = post("/sign-out", &session, &[("csrf", &csrf)]);
    req.headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().expect("value"));
    assert_eq!(send(&router, req).await.status(), StatusCode::FORBIDDEN);
    let mut req = post("/sign-out", &session, &[("csrf", &csrf)]);
    req.headers_mut()
        .insert(header::HOST, "console.example".parse().expect("value"));
    req.headers_mut().insert(
        header::ORIGIN,
        "https://evil.example".parse().expect("value"),
    );
    assert_eq!(send(&router, req).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        send(&router, get("/", Some(&session))).await.status(),
        StatusCode::OK
    );

    // The header form (htmx) works like the field; so does a same-origin POST.
    let mut req = post("/sign-out", &session, &[]);
    req.headers_mut()
        .insert("x-csrf-token", csrf.parse().expect("value"));
    req.headers_mut()
        .insert("sec-fetch-site", "same-origin".parse().expect("value"));
    assert_eq!(send(&router, req).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        send(&router, get("/", Some(&session))).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_bearer_token_is_no_console_session() {
    let (core, router) = console().await;
    let LoginOutcome::Session(grant) = core.login("ada", PASSWORD, None).await.expect("login")
    else {
        panic!("no MFA")
    };
    let req = Request::get("/")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", grant.access_token),
        )
        .body(Body::empty())
        .expect("request");
    let r = send(&router, req).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .expect("ascii")
            .starts_with("/sign-in")
    );
}

#[tokio::test]
async fn assets_are_immutable_and_compressed() {
    let (_, router) = console().await;
    let page = text(send(&router, get("/sign-in", None)).await).await;
    let at = page.find("/static/console.").expect("css link");
    let end = at + page[at..].find('"').expect("end");
    let url = &page[at..end];
    let req = Request::get(url)
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .expect("request");
    let r = send(&router, req).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(r.headers()["content-encoding"], "gzip");
}
