//! A harness for black-box tests of the REST API: the real router (`rehome_http::app`) over
//! a `MemoryStore`, a fast password hasher and a manual clock, driven with
//! `tower::ServiceExt::oneshot`.
//!
//! Every response that passes through [`TestApp::send`] is checked for secrets: a password hash
//! (`$argon2`, or an imported Django `pbkdf2_sha256$`), a TOTP secret after the response that
//! showed it, recovery codes and a reset's temporary password after the response that issued
//! them, and the stored digest of any token the tests were given. A leak fails the test that
//! caused it, so the check covers the whole test run.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use rehome_core::auth::{Hasher, PasswordParams};
use rehome_core::env::ManualClock;
use rehome_core::{Caller, MemoryStore, Rehome, Store};
use rehome_http::{AppState, Settings};
use serde_json::{Value as Json, json};
use sha2::Digest as _;
use tower::ServiceExt;

/// The password every test user gets (passes the policy: long, uncommon, no username in it).
pub const PASSWORD: &str = "Tessellated-Lantern-42";

/// The fixed start of the manual clock.
pub fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .expect("a valid date")
}

/// One response, fully read.
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

impl Resp {
    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Json {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "expected a JSON body ({e}), got {:?} with status {}",
                String::from_utf8_lossy(&self.body),
                self.status
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text()
        );
        self
    }
}

/// A request under construction.
#[derive(Debug)]
pub struct Req {
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    /// `method path`.
    pub fn new(method: &str, path: &str) -> Req {
        Req {
            method: Method::from_bytes(method.as_bytes()).expect("a method"),
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// With `Authorization: Bearer token`.
    pub fn token(self, token: &str) -> Req {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// With a header.
    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// With a JSON body.
    pub fn json(self, body: &Json) -> Req {
        self.raw("application/json", body.to_string().into_bytes())
    }

    /// With a body of any content type.
    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Req {
        self.headers
            .push(("content-type".to_owned(), content_type.to_owned()));
        self.body = body;
        self
    }

    fn build(self) -> Request<Body> {
        let mut builder = Request::builder()
            .method(self.method)
            .uri(self.path)
            .header(header::HOST, "rehome.test");
        for (k, v) in &self.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        builder.body(Body::from(self.body)).expect("a request")
    }
}

/// The app under test.
pub struct TestApp {
    /// The router.
    pub app: Router,
    /// Core over the same store (for setting up state and reading it back).
    pub core: Rehome,
    /// The clock core runs against.
    pub clock: Arc<ManualClock>,
    /// Secrets no later response may contain.
    secrets: Mutex<Vec<String>>,
}

/// A fast hasher for tests (argon2id with tiny parameters).
pub fn fast_hasher() -> Arc<Hasher> {
    static HASHER: std::sync::OnceLock<Arc<Hasher>> = std::sync::OnceLock::new();
    HASHER
        .get_or_init(|| {
            Arc::new(Hasher::new(PasswordParams::INSECURE_FOR_TESTS, Some(1)).expect("hasher"))
        })
        .clone()
}

impl TestApp {
    /// Default settings.
    pub fn new() -> TestApp {
        TestApp::with_settings(Settings::default())
    }

    /// Over a MemoryStore with `settings`.
    pub fn with_settings(settings: Settings) -> TestApp {
        TestApp::with_store(Arc::new(MemoryStore::new()), settings)
    }

    /// Over `store` with `settings`.
    pub fn with_store(store: Arc<dyn Store>, settings: Settings) -> TestApp {
        let clock = Arc::new(ManualClock::new(start_time()));
        let core = Rehome::new(store)
            .with_hasher(fast_hasher())
            .with_clock(clock.clone());
        let app = rehome_http::app(AppState::new(core.clone(), settings));
        TestApp {
            app,
            core,
            clock,
            secrets: Mutex::new(Vec::new()),
        }
    }

    /// Sends a request and checks the response for secrets.
    pub async fn send(&self, req: Req) -> Resp {
        self.send_request(req.build()).await
    }

    /// Sends a prepared request and checks the response for secrets.
    pub async fn send_request(&self, req: Request<Body>) -> Resp {
        let response = self
            .app
            .clone()
            .oneshot(req)
            .await
            .expect("the router never fails");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("a readable body").to_bytes();
        let resp = Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        };
        self.check_for_secrets(&resp);
        resp
    }

    fn check_for_secrets(&self, resp: &Resp) {
        let text = resp.text();
        assert!(
            !text.contains("$argon2") && !text.contains("pbkdf2_sha256$"),
            "a response carries a password hash: {text}"
        );
        let secrets = self.secrets.lock().expect("secrets");
        for s in secrets.iter() {
            assert!(
                !text.contains(s.as_str()),
                "a response carries a secret shown before ({s}): {text}"
            );
        }
        drop(secrets);
        // Secrets this response shows may be shown once: never again after it.
        let Ok(json) = serde_json::from_slice::<Json>(&resp.body) else {
            return;
        };
        let mut new = Vec::new();
        if let Some(secret) = json.get("secret").and_then(Json::as_str) {
            new.push(secret.to_owned());
        }
        if let Some(temporary) = json.get("temporary_password").and_then(Json::as_str) {
            new.push(temporary.to_owned());
        }
        if let Some(codes) = json.get("recovery_codes").and_then(Json::as_array) {
            new.extend(codes.iter().filter_map(Json::as_str).map(str::to_owned));
        }
        if let Some(token) = json.pointer("/tokens/access_token").and_then(Json::as_str) {
            new.push(hex_sha256(token));
        }
        if let Some(token) = json.get("mfa_token").and_then(Json::as_str) {
            new.push(hex_sha256(token));
        }
        self.secrets.lock().expect("secrets").extend(new);
    }

    /// GET `path` as `token`.
    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(Req::new("GET", path).token(token)).await
    }

    /// `method path` with a JSON body as `token`.
    pub async fn call(&self, method: &str, path: &str, token: &str, body: &Json) -> Resp {
        self.send(Req::new(method, path).token(token).json(body))
            .await
    }

    /// Creates a user through core (as the operator) with the test password.
    pub async fn create_user(&self, username: &str, extra: Json) -> i64 {
        let mut body = json!({
            "username": username,
            "email": format!("{username}@example.org"),
            "password": PASSWORD,
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        self.core
            .create_user(&Caller::system(), &body)
            .await
            .expect("user created")
            .id
            .0
    }

    /// Logs `username` in through the API; answers the token.
    pub async fn login(&self, username: &str) -> String {
        let r = self
            .send(Req::new("POST", "/authen/login/").json(&json!({
                "username": username, "password": PASSWORD
            })))
            .await
            .expect(200);
        r.json()["tokens"]["access_token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    /// A user with `permissions` (names), logged in: (id, token).
    pub async fn user_with(&self, username: &str, permissions: &[&str]) -> (i64, String) {
        let id = self
            .create_user(username, json!({ "permissions": permissions }))
            .await;
        (id, self.login(username).await)
    }

    /// A superuser, logged in: (id, token).
    pub async fn superuser(&self, username: &str) -> (i64, String) {
        let id = self
            .create_user(username, json!({ "is_superuser": true }))
            .await;
        (id, self.login(username).await)
    }
}

impl Default for TestApp {
    fn default() -> Self {
        TestApp::new()
    }
}

/// Lowercase hex SHA-256 (what the store keeps instead of a token).
pub fn hex_sha256(s: &str) -> String {
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// RFC 4648 base32 (no padding needed) to bytes.
pub fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0u32;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .expect("base32 character") as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

/// The RFC 6238 TOTP code (SHA-1, 6 digits, 30 s) of a base32 secret at Unix time `t`,
/// computed here from RFC 4226 with an HMAC of its own (not core's).
pub fn totp(secret_base32: &str, unix_time: i64) -> String {
    use hmac::{KeyInit, Mac};
    let key = base32_decode(secret_base32);
    let step = (unix_time / 30) as u64;
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).expect("any key length");
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[h.len() - 1] & 0x0f) as usize;
    let code = (u32::from(h[offset] & 0x7f) << 24)
        | (u32::from(h[offset + 1]) << 16)
        | (u32::from(h[offset + 2]) << 8)
        | u32::from(h[offset + 3]);
    format!("{:06}", code % 1_000_000)
}

/// `HeaderValue` from a static string (for tests that build requests by hand).
pub fn hv(s: &'static str) -> HeaderValue {
    HeaderValue::from_static(s)
}

/// One object of each kind, made through core as the operator.
#[derive(Debug, Clone)]
pub struct Fixtures {
    /// A location id.
    pub location: i64,
    /// A donor id.
    pub donor: i64,
    /// A shipment id (to the location).
    pub shipment: i64,
    /// A device id (serial `SN-1`, MAC `aa:bb:cc:dd:ee:01`, from the donor).
    pub device: String,
    /// A user called `target` whose direct grants are `[manageUsers]`.
    pub target: i64,
    /// A role called `viewer` with no permissions, held by nobody.
    pub role: String,
}

impl TestApp {
    async fn make(&self, model: rehome_core::services::Model, body: Json, id_field: &str) -> Json {
        let record = self
            .core
            .create(&Caller::system(), model, &body)
            .await
            .expect("fixture created");
        rehome_core::services::inventory::record_json(&record)[id_field].clone()
    }

    /// Makes the [`Fixtures`].
    pub async fn fixtures(&self) -> Fixtures {
        use rehome_core::services::Model;
        let location = self
            .make(
                Model::Location,
                json!({"name": "Depot", "address": "1 Quay Street", "city": "Leeds"}),
                "location_id",
            )
            .await
            .as_i64()
            .expect("id");
        let donor = self
            .make(
                Model::Donor,
                json!({"name": "Acme", "email": "it@acme.example"}),
                "donor_id",
            )
            .await
            .as_i64()
            .expect("id");
        let shipment = self
            .make(
                Model::Shipment,
                json!({"date_shipped": "2026-02-01", "destination": location}),
                "shipping_id",
            )
            .await
            .as_i64()
            .expect("id");
        let device = self
            .make(
                Model::Device,
                json!({
                    "type": "Laptop", "make": "Dell", "model": "Latitude 5490",
                    "serial_number": "SN-1", "mac_id": "AA-BB-CC-DD-EE-01",
                    "donor": donor, "start_location": location,
                }),
                "device_id",
            )
            .await
            .as_str()
            .expect("id")
            .to_owned();
        let target = self
            .create_user("target", json!({"permissions": ["manageUsers"]}))
            .await;
        self.core
            .create_role(&Caller::system(), &json!({"name": "viewer"}))
            .await
            .expect("role created");
        Fixtures {
            location,
            donor,
            shipment,
            device,
            target,
            role: "viewer".to_owned(),
        }
    }
}
