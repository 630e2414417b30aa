//! The console beside the REST API in one router: their paths are disjoint, REST takes only
//! bearer tokens (a console cookie is no credential to it), and the console is served at `/`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rehome_core::auth::password::{Hasher, PasswordParams};
use rehome_core::services::LoginOutcome;
use rehome_core::{Caller, MemoryStore, Rehome};
use rehome_http::{AppState, Settings, app, implemented_routes};
use serde_json::json;
use tower::ServiceExt;

/// The first segment of a path (`/authen/login/` -> `authen`, `/healthz` -> `healthz`).
fn first_segment(path: &str) -> &str {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
}

#[test]
fn console_paths_are_disjoint_from_the_rest_prefixes() {
    let rest: Vec<String> = implemented_routes()
        .into_iter()
        .map(|(p, _)| first_segment(&p).to_owned())
        .collect();
    // The prefixes as the contract lists them, so a drift in either table shows.
    for prefix in [
        "authen",
        "users",
        "admin",
        "inventory",
        "healthz",
        "openapi.json",
    ] {
        assert!(rest.iter().any(|r| r == prefix), "REST lost {prefix}");
    }
    let console = rehome_console::paths();
    assert!(console.contains(&"/"), "the console is served at /");
    for path in console {
        let segment = first_segment(path);
        assert!(
            !rest.iter().any(|r| r == segment),
            "console path {path} is under the REST prefix /{segment}"
        );
    }
}

#[tokio::test]
async fn rest_ignores_the_console_cookie_and_serves_the_console_at_the_root() {
    let hasher = Hasher::new(PasswordParams::INSECURE_FOR_TESTS, Some(1)).expect("hasher");
    let core = Rehome::new(Arc::new(MemoryStore::new())).with_hasher(Arc::new(hasher));
    let password = "Warehouse-Floor-42";
    core.create_user(
        &Caller::system(),
        &json!({"username": "ada", "email": "ada@example.org", "password": password}),
    )
    .await
    .expect("user");
    let LoginOutcome::Session(grant) = core.login("ada", password, None).await.expect("login")
    else {
        panic!("no MFA")
    };
    let router = app(AppState::new(core, Settings::default()));

    let with_cookie = Request::get("/authen/me/")
        .header(
            header::COOKIE,
            format!("rehome_session={}", grant.access_token),
        )
        .body(Body::empty())
        .expect("request");
    let r = router
        .clone()
        .oneshot(with_cookie)
        .await
        .expect("infallible");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let with_bearer = Request::get("/authen/me/")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", grant.access_token),
        )
        .body(Body::empty())
        .expect("request");
    let r = router
        .clone()
        .oneshot(with_bearer)
        .await
        .expect("infallible");
    assert_eq!(r.status(), StatusCode::OK);

    let page = Request::get("/")
        .header(
            header::COOKIE,
            format!("rehome_session={}", grant.access_token),
        )
        .body(Body::empty())
        .expect("request");
    let r = router.clone().oneshot(page).await.expect("infallible");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
}
