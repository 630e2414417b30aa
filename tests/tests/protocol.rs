//! HTTP behaviour every route shares: trailing slashes, JSON errors for unknown paths, wrong
//! methods, bad bodies and bad queries, body limits, CORS, request ids, proxy headers, store
//! failures, panics and timeouts.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rehome_core::query::{Collection, ListQuery, Page};
use rehome_core::store::{ChangeSet, StoreResult};
use rehome_core::{IdKind, MemoryStore, Record, RecordKey, Store, StoreError, UniqueKey};
use rehome_http::Settings;
use rehome_tests::{PASSWORD, Req, TestApp};
use serde_json::{Value as Json, json};

#[tokio::test]
async fn paths_with_and_without_the_slash_are_answered_alike() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let f = app.fixtures().await;
    for path in [
        "/inventory/devices/".to_owned(),
        format!("/inventory/devices/{}/", f.device),
        "/users/users/".to_owned(),
        "/users/user-permissions/target/".to_owned(),
        "/admin/roles/viewer/".to_owned(),
        "/authen/me/".to_owned(),
    ] {
        let with = app.get(&path, &admin).await.expect(200);
        let without = app
            .get(path.trim_end_matches('/'), &admin)
            .await
            .expect(200);
        assert_eq!(with.json(), without.json(), "{path}");
        assert_eq!(with.header("etag"), without.header("etag"), "{path}");
    }
    app.call(
        "POST",
        "/inventory/locations",
        &admin,
        &json!({"name": "A", "address": "B"}),
    )
    .await
    .expect(201);
    app.send(
        Req::new("POST", "/authen/login").json(&json!({"username": "admin", "password": PASSWORD})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_answer_json() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    // `/` is the web console's (a browser that is not signed in is sent to its sign-in page,
    // a bearer token counts for nothing there); unknown paths elsewhere answer REST's 404.
    let r = app.get("/", &admin).await.expect(303);
    assert_eq!(r.header("location").as_deref(), Some("/sign-in?next=%2F"));
    for path in [
        "/nope",
        "/inventory/",
        "/inventory/gadgets/",
        "/users/users/1/extra/",
    ] {
        let r = app.get(path, &admin).await.expect(404);
        assert_eq!(r.json(), json!({"detail": "Not found."}), "{path}");
    }
    let r = app
        .send(Req::new("DELETE", "/inventory/devices/").token(&admin))
        .await
        .expect(405);
    assert_eq!(
        r.json(),
        json!({"detail": "Method \"DELETE\" not allowed."})
    );
    assert_eq!(r.header("allow").as_deref(), Some("GET,HEAD,POST"));
    app.send(Req::new("PUT", "/healthz")).await.expect(405);
    app.send(Req::new("GET", "/authen/login/"))
        .await
        .expect(405);
    app.send(Req::new("POST", "/openapi.json"))
        .await
        .expect(405);
}

#[tokio::test]
async fn bodies_bad_json_wrong_type_and_too_large() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let r = app
        .send(
            Req::new("POST", "/inventory/devices/")
                .token(&admin)
                .raw("application/json", b"{\"type\": ".to_vec()),
        )
        .await
        .expect(400);
    assert!(
        r.json()["detail"]
            .as_str()
            .expect("detail")
            .starts_with("JSON parse error")
    );
    app.send(
        Req::new("POST", "/inventory/devices/")
            .token(&admin)
            .raw("application/xml", b"<device/>".to_vec()),
    )
    .await
    .expect(415);
    app.send(
        Req::new("POST", "/inventory/devices/")
            .token(&admin)
            .raw("application/json; charset=utf-8", b"{}".to_vec()),
    )
    .await
    .expect(400);
    // No body: the rules say what is missing.
    let empty = app
        .send(Req::new("POST", "/inventory/devices/").token(&admin))
        .await
        .expect(400);
    assert!(empty.json().get("serial_number").is_some());
    // White space alone is no JSON text (only no body at all reads as `{}`).
    let blank = app
        .send(
            Req::new("POST", "/inventory/devices/")
                .token(&admin)
                .raw("application/json", b" \n".to_vec()),
        )
        .await
        .expect(400);
    assert_eq!(
        blank.json(),
        json!({"detail": "JSON parse error - EOF while parsing a value at line 2 column 0"})
    );
    // A JSON value that is not an object.
    let list = app
        .call("POST", "/inventory/devices/", &admin, &json!([1, 2]))
        .await
        .expect(400);
    assert!(list.json().get("non_field_errors").is_some());
    // Deeply nested JSON is refused, not a crash.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    app.send(
        Req::new("POST", "/inventory/devices/")
            .token(&admin)
            .raw("application/json", deep.into_bytes()),
    )
    .await
    .expect(400);

    // 1 MiB on ordinary routes, 10 MiB on batch.
    let big = |n: usize| {
        let notes = "x".repeat(n);
        json!({"type": "T", "make": "M", "model": "X", "serial_number": "BIG", "notes": notes})
            .to_string()
            .into_bytes()
    };
    let r = app
        .send(
            Req::new("POST", "/inventory/devices/")
                .token(&admin)
                .raw("application/json", big(1024 * 1024 + 10)),
        )
        .await
        .expect(413);
    assert_eq!(r.json(), json!({"detail": "Request body is too large."}));
    let ops: Vec<Json> = (0..3)
        .map(|i| json!({"op": "create", "model": "device", "data": {"type": "T", "make": "M", "model": "X", "serial_number": format!("B{i}"), "notes": "n".repeat(9_000)}}))
        .collect();
    let mut body = json!({"operations": ops}).to_string();
    body.push_str(&" ".repeat(2 * 1024 * 1024));
    app.send(
        Req::new("POST", "/inventory/batch/")
            .token(&admin)
            .raw("application/json", body.into_bytes()),
    )
    .await
    .expect(200);
    let mut huge = json!({"operations": []}).to_string();
    huge.push_str(&" ".repeat(10 * 1024 * 1024 + 1));
    app.send(
        Req::new("POST", "/inventory/batch/")
            .token(&admin)
            .raw("application/json", huge.into_bytes()),
    )
    .await
    .expect(413);
}

#[tokio::test]
async fn malformed_paths_queries_and_headers_are_4xx() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let f = app.fixtures().await;
    let paths = [
        "/inventory/devices/?page=%zz".to_owned(),
        "/inventory/devices/?page_size=%FF%FE".to_owned(),
        "/inventory/devices/?=&&&=x&page".to_owned(),
        "/inventory/devices/?year_of_manufacture=99999999999999999999".to_owned(),
        "/inventory/devices/?date_received__gte=2024-13-45".to_owned(),
        "/inventory/devices/?ordering=-".to_owned(),
        "/inventory/devices/?page=99999999999999999999999".to_owned(),
        "/inventory/devices/%ff%fe/".to_owned(),
        "/inventory/devices/..%2F..%2Fetc/".to_owned(),
        "/inventory/devices/lookup/?mac_id=%00".to_owned(),
        "/inventory/locations/-1/".to_owned(),
        "/inventory/locations/99999999999999999999999/".to_owned(),
        "/users/users/%F0%9F%92%A9/".to_owned(),
        "/users/user-permissions/%ff/".to_owned(),
        "/admin/roles/%2F/".to_owned(),
        "/admin/audit-log/?actor=me&until=never".to_owned(),
        format!("/inventory/devices/{}/?expand=,,,", f.device),
    ];
    for path in &paths {
        let r = app.get(path, &admin).await;
        assert!(
            r.status.is_success() || r.status.is_client_error(),
            "{path}: {} {}",
            r.status,
            r.text()
        );
        if !r.status.is_success() {
            assert!(
                r.json()["detail"].is_string() || r.json().is_object(),
                "{path}"
            );
        }
    }
    // Headers.
    for auth in ["Bearer a b", "Bearer", "Basic Zm9vOmJhcg==", "bearer    "] {
        let r = app
            .send(Req::new("GET", "/authen/me/").header("authorization", auth))
            .await;
        assert_eq!(r.status, 401, "{auth}");
    }
    let r = app
        .send(
            Req::new("PATCH", &format!("/inventory/devices/{}/", f.device))
                .token(&admin)
                .header("if-match", "\"1\", \"2\"")
                .json(&json!({"notes": "x"})),
        )
        .await
        .expect(400);
    assert!(r.json()["detail"].is_string());
    app.send(
        Req::new("PATCH", &format!("/inventory/devices/{}/", f.device))
            .token(&admin)
            .header("if-match", "\"abc\"")
            .json(&json!({"notes": "x"})),
    )
    .await
    .expect(412);
    app.send(
        Req::new("PATCH", &format!("/inventory/devices/{}/", f.device))
            .token(&admin)
            .header("if-match", "W/\"1\"")
            .json(&json!({"notes": "x"})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn cors_preflights_for_configured_origins() {
    let app = TestApp::with_settings(Settings {
        cors_origins: vec!["http://front.example".to_owned()],
        ..Settings::default()
    });
    for path in ["/inventory/devices/", "/inventory/devices"] {
        let r = app
            .send(
                Req::new("OPTIONS", path)
                    .header("origin", "http://front.example")
                    .header("access-control-request-method", "POST")
                    .header(
                        "access-control-request-headers",
                        "authorization, content-type",
                    ),
            )
            .await;
        assert!(r.status.is_success(), "{path}: {}", r.status);
        assert_eq!(
            r.header("access-control-allow-origin").as_deref(),
            Some("http://front.example")
        );
        let allowed = r
            .header("access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            allowed.contains("authorization") && allowed.contains("content-type"),
            "{allowed}"
        );
        assert!(
            r.header("access-control-allow-methods")
                .unwrap_or_default()
                .contains("POST")
        );
    }
    let other = app
        .send(
            Req::new("OPTIONS", "/inventory/devices/")
                .header("origin", "http://evil.example")
                .header("access-control-request-method", "GET"),
        )
        .await;
    assert!(other.header("access-control-allow-origin").is_none());
    // Simple requests carry the header, and expose the ones clients read.
    let r = app
        .send(Req::new("GET", "/healthz").header("origin", "http://front.example"))
        .await
        .expect(200);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("http://front.example")
    );
    assert!(
        r.header("access-control-expose-headers")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .contains("etag")
    );
}

#[tokio::test]
async fn request_ids_are_made_or_kept() {
    let app = TestApp::new();
    let r = app.send(Req::new("GET", "/healthz")).await.expect(200);
    assert_eq!(r.header("x-request-id").map(|v| v.len()), Some(36));
    let r = app
        .send(Req::new("GET", "/healthz").header("x-request-id", "abc-123"))
        .await
        .expect(200);
    assert_eq!(r.header("x-request-id").as_deref(), Some("abc-123"));
}

#[tokio::test]
async fn proxy_headers_only_with_trust_proxy() {
    for trust in [false, true] {
        let app = TestApp::with_settings(Settings {
            trust_proxy: trust,
            ..Settings::default()
        });
        let (_, admin) = app.superuser("admin").await;
        for i in 0..3 {
            app.create_user(&format!("u{i}"), json!({})).await;
        }
        let r = app
            .send(
                Req::new("GET", "/users/users/?page_size=2")
                    .token(&admin)
                    .header("x-forwarded-proto", "https")
                    .header("x-forwarded-host", "api.example.org"),
            )
            .await
            .expect(200)
            .json();
        let want = if trust {
            "https://api.example.org/users/users/?page_size=2&page=2"
        } else {
            "http://rehome.test/users/users/?page_size=2&page=2"
        };
        assert_eq!(r["links"]["next"], want);
    }
    // A Host header that is not a host is not copied into links.
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    app.create_user("u1", json!({})).await;
    let r = app
        .send(
            Req::new("GET", "/users/users/?page_size=1")
                .token(&admin)
                .header("host", "evil.example/x?"),
        )
        .await;
    let next = r.json()["links"]["next"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!next.contains("evil"), "{next}");
}

#[tokio::test]
async fn the_client_address_reaches_the_audit_log() {
    let app = TestApp::with_settings(Settings {
        trust_proxy: true,
        ..Settings::default()
    });
    app.create_user("admin", json!({"is_superuser": true}))
        .await;
    let token = app
        .send(
            Req::new("POST", "/authen/login/")
                .header("x-forwarded-for", "203.0.113.9, 192.0.2.1")
                .json(&json!({"username": "admin", "password": PASSWORD})),
        )
        .await
        .expect(200)
        .json()["tokens"]["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let log = app
        .get("/admin/audit-log/?action=auth.login", &token)
        .await
        .json();
    // The address the trusted proxy appended, not what the client claimed before it.
    assert_eq!(log["results"][0]["ip"], "192.0.2.1");
}

// ----------------------------------------------------------------- a store that fails

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Every list and ping fails with an error whose text must not reach clients.
    Error,
    /// Every list panics.
    Panic,
    /// Every list takes ten seconds.
    Slow,
}

struct FaultyStore {
    inner: MemoryStore,
    fault: Fault,
}

const INTERNALS: &str = "disk /var/lib/secret-path exploded";

#[async_trait]
impl Store for FaultyStore {
    async fn get(&self, key: RecordKey) -> StoreResult<Option<Record>> {
        self.inner.get(key).await
    }
    async fn get_by_unique(&self, key: &UniqueKey) -> StoreResult<Option<Record>> {
        self.inner.get_by_unique(key).await
    }
    async fn scan(
        &self,
        collection: Collection,
        after: Option<RecordKey>,
        limit: usize,
    ) -> StoreResult<Vec<Record>> {
        self.inner.scan(collection, after, limit).await
    }
    async fn list(&self, query: &ListQuery) -> StoreResult<Page<Record>> {
        if query.collection != Collection::Devices {
            return self.inner.list(query).await;
        }
        match self.fault {
            Fault::Error => Err(StoreError::backend(INTERNALS)),
            Fault::Panic => panic!("{INTERNALS}"),
            Fault::Slow => {
                tokio::time::sleep(Duration::from_secs(10)).await;
                self.inner.list(query).await
            }
        }
    }
    async fn next_id(&self, kind: IdKind) -> StoreResult<i64> {
        self.inner.next_id(kind).await
    }
    async fn commit(&self, changes: ChangeSet) -> StoreResult<()> {
        self.inner.commit(changes).await
    }
    async fn ping(&self) -> StoreResult<()> {
        match self.fault {
            Fault::Error => Err(StoreError::backend(INTERNALS)),
            _ => Ok(()),
        }
    }
}

fn faulty(fault: Fault, settings: Settings) -> TestApp {
    TestApp::with_store(
        Arc::new(FaultyStore {
            inner: MemoryStore::new(),
            fault,
        }),
        settings,
    )
}

#[tokio::test]
async fn store_failures_are_500_without_internals() {
    let app = faulty(Fault::Error, Settings::default());
    let (_, admin) = app.superuser("admin").await;
    let r = app.get("/inventory/devices/", &admin).await.expect(500);
    assert_eq!(r.json(), json!({"detail": "A server error occurred."}));
    let h = app.send(Req::new("GET", "/healthz")).await.expect(503);
    assert!(!h.text().contains("secret-path"));
}

#[tokio::test]
async fn panics_are_500_without_internals() {
    let app = faulty(Fault::Panic, Settings::default());
    let (_, admin) = app.superuser("admin").await;
    let r = app.get("/inventory/devices/", &admin).await.expect(500);
    assert_eq!(r.json(), json!({"detail": "A server error occurred."}));
    // The server goes on.
    app.get("/authen/me/", &admin).await.expect(200);
}

#[tokio::test]
async fn slow_requests_time_out_with_json() {
    let app = faulty(
        Fault::Slow,
        Settings {
            request_timeout: Duration::from_millis(50),
            ..Settings::default()
        },
    );
    let (_, admin) = app.superuser("admin").await;
    let r = app.get("/inventory/devices/", &admin).await.expect(408);
    assert!(r.json()["detail"].is_string());
}
