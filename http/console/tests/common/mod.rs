//! Helpers shared by the console's router tests (no socket): a core over a memory store with
//! a fast hasher, requests and bodies, the CSRF field, and signing in through the forms. Each
//! test binary uses a subset.

#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use rehome_core::auth::password::{Hasher, PasswordParams};
use rehome_core::services::Model;
use rehome_core::{Caller, MemoryStore, Record, Rehome};
use serde_json::json;
use tower::ServiceExt;

pub const PASSWORD: &str = "Warehouse-Floor-42";

/// A core over a memory store with a fast (insecure) hasher.
pub fn core() -> Rehome {
    let hasher = Hasher::new(PasswordParams::INSECURE_FOR_TESTS, Some(1)).expect("hasher");
    Rehome::new(Arc::new(MemoryStore::new())).with_hasher(Arc::new(hasher))
}

/// Creates `name` (email `name@example.org`, password [`PASSWORD`]) with `perms` as the system.
pub async fn create_user(core: &Rehome, name: &str, perms: &[&str]) {
    core.create_user(
        &Caller::system(),
        &json!({"username": name, "email": format!("{name}@example.org"),
                "password": PASSWORD, "permissions": perms}),
    )
    .await
    .expect("user");
}

/// Creates a device with `fields` as the system; answers its id.
pub async fn create_device(core: &Rehome, fields: serde_json::Value) -> String {
    let r = core
        .create(&Caller::system(), Model::Device, &fields)
        .await
        .expect("device");
    match r {
        Record::Device(d) => d.device_id.to_string(),
        _ => panic!("not a device"),
    }
}

pub async fn send(router: &Router, req: Request<Body>) -> Response<Body> {
    router.clone().oneshot(req).await.expect("infallible")
}

pub async fn text(r: Response<Body>) -> String {
    let bytes = r.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

pub fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request")
}

/// A form-urlencoded POST of `form` with `cookie`.
pub fn post(path: &str, cookie: &str, form: &[(&str, &str)]) -> Request<Body> {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request")
}

/// The value of the hidden `csrf` field of a page.
pub fn csrf_of(page: &str) -> String {
    let at = page.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    page[at..at + 64].to_owned()
}

/// A response's `Location` header, or "".
pub fn location(r: &Response<Body>) -> String {
    r.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The `name=value` of a `Set-Cookie` for `name`, and the whole header.
pub fn set_cookie(r: &Response<Body>, name: &str) -> Option<(String, String)> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            (
                v.split(';').next().unwrap_or_default().to_owned(),
                v.to_owned(),
            )
        })
}

/// Signs `name` in with `password` through the forms (GET /sign-in for the pre-cookie and
/// its CSRF token, then POST /sign-in); answers the session cookie and the sign-in's redirect
/// target.
pub async fn sign_in_with(router: &Router, name: &str, password: &str) -> (String, String) {
    let r = send(
        router,
        Request::get("/sign-in").body(Body::empty()).expect("req"),
    )
    .await;
    let (pre, _) = set_cookie(&r, "rehome_sign_in").expect("sign-in cookie");
    let csrf = csrf_of(&text(r).await);
    let r = send(
        router,
        post(
            "/sign-in",
            &pre,
            &[("csrf", &csrf), ("username", name), ("password", password)],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name} signs in");
    let (session, _) = set_cookie(&r, "rehome_session").expect("session cookie");
    (session, location(&r))
}

/// Signs `name` in with [`PASSWORD`] and fetches `page` for the session's CSRF token;
/// answers the session cookie and that token.
pub async fn sign_in(router: &Router, name: &str, page: &str) -> (String, String) {
    let (session, _) = sign_in_with(router, name, PASSWORD).await;
    let page = text(send(router, get(page, &session)).await).await;
    (session, csrf_of(&page))
}
