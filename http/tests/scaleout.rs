//! Scale-out: two `rehome serve` processes on different ports over one database — one
//! PostgreSQL schema, then one MariaDB/MySQL database — behave as one server.
//!
//! - A token issued by one server works on the other; a logout (or logout-all) on one is
//!   refused by the other on the very next request (sessions live in the store, no process
//!   keeps a cache of them).
//! - Failed logins count across both servers: the contract's rule (5 failures for one
//!   username within 15 minutes lock it for 1 minute, 429 with `Retry-After`, even for the
//!   right password) holds with the failures alternating between the servers.
//! - 200 concurrent conflicting updates of one object, half to each server, all carrying the
//!   same version (in `If-Match` or in the body), give exactly one 200 and 409/412 for the
//!   rest, and the stored object is the winner's; for devices in three rounds, for a
//!   location and a donor in one round each.
//! - 200 concurrent creates racing for one unique key (a device serial number, a username
//!   differing only in case, a role name, a location address, a donor email), half to each
//!   server, give exactly one 201, 409 for the rest, and exactly one such object.
//! - Also: 20 concurrent logins of one user all succeed and deactivating it on A ends every
//!   session on B; 5 concurrent failures all count; 50 failures from one address (spread over
//!   both) refuse it on both; 200 devices renamed at once to one serial number (one wins); 200
//!   all-or-nothing batches over four devices in inverted orders (one wins, no deadlock
//!   convoy); a location or role deleted while 199 referrers are created (no dangling
//!   reference whatever the order); 200 deletes of one donor (one 204).
//! - No request anywhere is answered 5xx and no server logs an ERROR; on failure, both
//!   servers' logs are printed.
//!
//! The databases come from `REHOME_TEST_POSTGRES_URL` and `REHOME_TEST_MYSQL_URL` (the test
//! prints that it skipped when one is not set). Each run makes its own PostgreSQL schema or
//! MySQL database, with `rehome_sql::testing` like the SQL backend's tests (so their clean-up of stale
//! ones covers a killed run of this test too), and drops it at the end.
//! The figures are written to standard error at the end of each test, past the test
//! harness's capture, so `cargo test` (and `.ci/run`) show them.

mod common;

use std::collections::BTreeMap;
use std::sync::{Barrier, Mutex};
use std::time::Instant;

use common::{Answer, Client, PASSWORD, Server, create_superuser};
use rehome_sql::testing::ScratchDatabase;
use serde_json::{Value as Json, json};

/// Concurrent requests per race (half to each server).
const RACERS: usize = 200;

/// The contract's throttling rule, written out by hand: 5 failed logins for one username
/// lock it; the first lock lasts 1 minute.
const LOCK_AFTER_FAILURES: usize = 5;
const FIRST_LOCK_SECS: u64 = 60;
/// ...and 50 failures from one client address within 15 minutes refuse that address (both
/// servers see the test's requests come from 127.0.0.1).
const ADDRESS_FAILURES: usize = 50;

// ------------------------------------------------------------------ two servers

/// Two servers over one store, and every 5xx either of them answered.
struct Cluster {
    servers: [Server; 2],
    clients: [Client; 2],
    errors: Mutex<Vec<String>>,
}

impl Cluster {
    fn start(store: &str) -> Cluster {
        let a = Server::start(store, &[]);
        let b = Server::start(store, &[]);
        assert_ne!(a.base, b.base, "two servers, two ports");
        let clients = [a.client(), b.client()];
        Cluster {
            servers: [a, b],
            clients,
            errors: Mutex::new(Vec::new()),
        }
    }

    /// Sends a request to server `i` (0 = A, 1 = B); records a 5xx; panics when no answer.
    fn send(
        &self,
        i: usize,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Json>,
    ) -> Answer {
        let client = &self.clients[i % 2];
        let answer = client
            .send_with(method, path, token, headers, body)
            .unwrap_or_else(|e| panic!("{method} {}{path}: no answer: {e}", client.base()));
        if answer.status >= 500 {
            self.errors.lock().expect("errors lock").push(format!(
                "{method} {}{path} -> {} {}",
                client.base(),
                answer.status,
                answer.body
            ));
        }
        answer
    }

    /// [`Cluster::send`] without extra headers: `(status, body)`.
    fn call(
        &self,
        i: usize,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Json>,
    ) -> (u16, Json) {
        let a = self.send(i, method, path, token, &[], body);
        (a.status, a.body)
    }

    fn five_xx(&self) -> usize {
        self.errors.lock().expect("errors lock").len()
    }

    fn logs(&self) -> String {
        format!(
            "--- server A ({}) log:\n{}\n--- server B ({}) log:\n{}",
            self.servers[0].base,
            self.servers[0].log(),
            self.servers[1].base,
            self.servers[1].log()
        )
    }

    /// Panics (with both logs) if any request was answered 5xx.
    fn assert_no_5xx(&self) {
        let errors = self.errors.lock().expect("errors lock");
        assert!(
            errors.is_empty(),
            "{} 5xx answers:\n{}\n{}",
            errors.len(),
            errors.join("\n"),
            self.logs()
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
        }
    }
}

/// Runs `n` calls of `request` at once on threads of their own (released together by a
/// barrier); their results in racer order.
fn race_n<T: Send>(n: usize, request: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, request) = (&barrier, &request);
                s.spawn(move || {
                    barrier.wait();
                    request(i)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a racer thread"))
            .collect()
    })
}

/// Runs `RACERS` requests at once (racer `i` sends to server `i % 2` by convention).
fn race(request: impl Fn(usize) -> Answer + Sync) -> Vec<Answer> {
    race_n(RACERS, request)
}

/// How many answers had each status.
fn tally(answers: &[Answer]) -> BTreeMap<u16, usize> {
    let mut t = BTreeMap::new();
    for a in answers {
        *t.entry(a.status).or_insert(0) += 1;
    }
    t
}

fn show(t: &BTreeMap<u16, usize>) -> String {
    t.iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ------------------------------------------------------------------ the checks

/// Login on A, use on B; logout on A is refused by B at once; logout-all likewise.
fn sessions(c: &Cluster) -> String {
    let t1 = c.clients[0].login("admin", PASSWORD);
    let (status, me) = c.call(1, "GET", "/authen/me/", Some(&t1), None);
    assert_eq!(status, 200, "A's token on B: {me}");
    assert_eq!(me["username"], "admin");
    let (status, body) = c.call(0, "POST", "/authen/logout/", Some(&t1), None);
    assert_eq!(status, 204, "logout on A: {body}");
    let (status, body) = c.call(1, "GET", "/authen/me/", Some(&t1), None);
    assert_eq!(status, 401, "B after logout on A: {body}");
    assert_eq!(body["detail"], "Invalid or expired token.");
    let (status, _) = c.call(0, "GET", "/authen/me/", Some(&t1), None);
    assert_eq!(status, 401, "A after its own logout");

    // logout-all on B ends the sessions opened on A and on B, on both.
    let t2 = c.clients[0].login("admin", PASSWORD);
    let t3 = c.clients[1].login("admin", PASSWORD);
    for (token, server) in [(&t2, 1), (&t3, 0)] {
        let (status, _) = c.call(server, "GET", "/authen/me/", Some(token), None);
        assert_eq!(status, 200, "a token on the other server before logout-all");
    }
    let (status, body) = c.call(1, "POST", "/authen/logout-all/", Some(&t3), None);
    assert_eq!(status, 204, "logout-all on B: {body}");
    for (token, server) in [(&t2, 0), (&t2, 1), (&t3, 0), (&t3, 1)] {
        let (status, _) = c.call(server, "GET", "/authen/me/", Some(token), None);
        assert_eq!(status, 401, "a token after logout-all, on server {server}");
    }
    "token portable ✓, logout on A refused by B at once ✓, logout-all on B refused by A ✓".into()
}

/// Concurrent logins of one user on both servers all succeed, and each token works on the
/// other server; deactivating the user on A ends them all on B at once.
fn parallel_logins(c: &Cluster, admin: &str) -> String {
    const LOGINS: usize = 20;
    let (status, user) = c.call(
        0,
        "POST",
        "/users/users/",
        Some(admin),
        Some(&json!({"username": "busy", "email": "busy@example.org", "password": PASSWORD})),
    );
    assert_eq!(status, 201, "{user}");
    let right = json!({"username": "busy", "password": PASSWORD});
    let answers: Vec<(u16, Json)> = race_n(LOGINS, |i| {
        c.call(i % 2, "POST", "/authen/login/", None, Some(&right))
    });
    let mut tokens = Vec::new();
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, 200, "concurrent login {i}: {body}");
        let token = body["tokens"]["access_token"].as_str().expect("a token");
        tokens.push(token.to_owned());
    }
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), LOGINS, "every login its own token");
    for (i, token) in tokens.iter().enumerate() {
        let (status, _) = c.call(i % 2, "GET", "/authen/me/", Some(token), None);
        assert_eq!(status, 200, "token {i} on the other server");
    }
    let path = format!("/users/users/{}/", user["id"]);
    let (status, body) = c.call(
        0,
        "PATCH",
        &path,
        Some(admin),
        Some(&json!({"is_active": false})),
    );
    assert_eq!(status, 200, "deactivate on A: {body}");
    for (i, token) in tokens.iter().enumerate() {
        let (status, _) = c.call(1, "GET", "/authen/me/", Some(token), None);
        assert_eq!(status, 401, "token {i} on B after deactivation on A");
    }
    format!(
        "{LOGINS} concurrent logins of one user: {LOGINS} x 200, tokens cross-valid ✓, \
         deactivation on A ends them on B at once ✓"
    )
}

/// Failed logins alternate between A and B; the lock comes at the 5th, on both servers.
fn lockout(c: &Cluster, admin: &str, failures: &mut usize) -> String {
    let (status, body) = c.call(
        0,
        "POST",
        "/users/users/",
        Some(admin),
        Some(&json!({"username": "locky", "email": "locky@example.org", "password": PASSWORD})),
    );
    assert_eq!(status, 201, "{body}");
    let wrong = json!({"username": "locky", "password": "Not-The-Password-99"});
    let right = json!({"username": "locky", "password": PASSWORD});
    // Failures 1..=5 alternate A, B, A, B, A. Each is checked against the lock before the
    // password, so a 401 (not 429) for failure n means n - 1 failures did not lock.
    for n in 1..=LOCK_AFTER_FAILURES {
        let server = (n - 1) % 2;
        let (status, body) = c.call(server, "POST", "/authen/login/", None, Some(&wrong));
        assert_eq!(
            status, 401,
            "failure {n} (on server {server}) is still a plain failure: {body}"
        );
    }
    // Locked now: the right password is refused on both, with Retry-After within the first
    // lock's minute.
    for server in [1, 0] {
        let a = c.send(server, "POST", "/authen/login/", None, &[], Some(&right));
        assert_eq!(
            a.status, 429,
            "right password while locked, server {server}: {}",
            a.body
        );
        let retry: u64 = a
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("429 without a numeric Retry-After: {:?}", a.headers));
        assert!(
            (1..=FIRST_LOCK_SECS).contains(&retry),
            "Retry-After {retry} outside the first lock's 1..=60 s"
        );
    }

    // Below the threshold: 4 failures across both servers, then the right password logs in
    // (and resets the count).
    let (status, body) = c.call(
        1,
        "POST",
        "/users/users/",
        Some(admin),
        Some(&json!({"username": "nearly", "email": "nearly@example.org", "password": PASSWORD})),
    );
    assert_eq!(status, 201, "{body}");
    let wrong = json!({"username": "nearly", "password": "Not-The-Password-99"});
    for n in 1..LOCK_AFTER_FAILURES {
        let (status, _) = c.call(n % 2, "POST", "/authen/login/", None, Some(&wrong));
        assert_eq!(status, 401, "failure {n} of 'nearly'");
    }
    c.clients[0].login("nearly", PASSWORD);

    // Concurrent failures are all counted: 5 wrong passwords at once (3 on A, 2 on B) lock
    // the username, so the right password is refused next. A lost failure (two servers
    // overwriting each other's count) would let it in.
    let (status, body) = c.call(
        0,
        "POST",
        "/users/users/",
        Some(admin),
        Some(&json!({"username": "swarm", "email": "swarm@example.org", "password": PASSWORD})),
    );
    assert_eq!(status, 201, "{body}");
    let wrong = json!({"username": "swarm", "password": "Not-The-Password-99"});
    let statuses: Vec<u16> = race_n(LOCK_AFTER_FAILURES, |i| {
        c.call(i % 2, "POST", "/authen/login/", None, Some(&wrong))
            .0
    });
    // 401: counted; 429: the lock was already there when it came (not counted).
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "concurrent failures: {statuses:?}"
    );
    let right = json!({"username": "swarm", "password": PASSWORD});
    for server in [0, 1] {
        let (status, body) = c.call(server, "POST", "/authen/login/", None, Some(&right));
        assert_eq!(
            status, 429,
            "after 5 concurrent failures, server {server}: {body}"
        );
    }
    *failures += LOCK_AFTER_FAILURES + (LOCK_AFTER_FAILURES - 1);
    *failures += statuses.iter().filter(|s| **s == 401).count();
    format!(
        "lock at exactly {LOCK_AFTER_FAILURES} failures alternating A/B, right password then 429 \
         on both ✓, {} failures do not lock ✓, {LOCK_AFTER_FAILURES} concurrent failures all \
         counted ✓",
        LOCK_AFTER_FAILURES - 1
    )
}

/// The per-address rule across both servers: `failures` were counted for 127.0.0.1 so far;
/// wrong logins for distinct unknown usernames, alternating A and B, are 401 up to the 50th
/// failure, and after it every login from the address is 429 on both servers, even the
/// admin's with the right password.
fn address_lock(c: &Cluster, failures: usize) -> String {
    assert!(failures < ADDRESS_FAILURES, "{failures} failures so far");
    for n in failures + 1..=ADDRESS_FAILURES {
        let body = json!({"username": format!("nobody-{n}"), "password": "Not-The-Password-99"});
        let (status, answer) = c.call(n % 2, "POST", "/authen/login/", None, Some(&body));
        assert_eq!(status, 401, "address failure {n}: {answer}");
    }
    for server in [0, 1] {
        let right = json!({"username": "admin", "password": PASSWORD});
        let a = c.send(server, "POST", "/authen/login/", None, &[], Some(&right));
        assert_eq!(
            a.status, 429,
            "the address is refused on server {server}: {}",
            a.body
        );
        assert!(a.header("retry-after").is_some(), "429 without Retry-After");
    }
    format!(
        "address refused after exactly {ADDRESS_FAILURES} failures across both ({} before, {} \
         now) ✓",
        failures,
        ADDRESS_FAILURES - failures
    )
}

/// How a racer states the version it read.
#[derive(Clone, Copy, Debug)]
enum Precondition {
    /// `If-Match: "<version>"` only.
    IfMatch,
    /// `"version": <version>` in the body only.
    BodyVersion,
    /// Even racers `If-Match` on a PUT, odd ones the body version on a PATCH.
    Mixed,
}

/// One round of `RACERS` concurrent updates of the object at `path`, all from its current
/// version; `body(i)` is racer i's change, and `marker` the field that tells who won.
fn update_round(
    c: &Cluster,
    token: &str,
    path: &str,
    precondition: Precondition,
    body: impl Fn(usize, bool) -> Json + Sync,
    marker: &str,
) -> String {
    let before = c.send(0, "GET", path, Some(token), &[], None);
    assert_eq!(before.status, 200, "{}", before.body);
    let version = before.body["version"].as_u64().expect("a version");
    let etag = before.header("etag").expect("an ETag").to_owned();
    assert_eq!(etag, format!("\"{version}\""), "the ETag is the version");
    let fives = c.five_xx();
    let answers = race(|i| {
        let (method, if_match, in_body) = match precondition {
            Precondition::IfMatch => ("PATCH", true, false),
            Precondition::BodyVersion => ("PATCH", false, true),
            Precondition::Mixed if i % 2 == 0 => ("PUT", true, false),
            Precondition::Mixed => ("PATCH", false, true),
        };
        let mut b = body(i, method == "PUT");
        if in_body {
            b["version"] = json!(version);
        }
        let headers: &[(&str, &str)] = if if_match {
            &[("If-Match", etag.as_str())]
        } else {
            &[]
        };
        c.send(i % 2, method, path, Some(token), headers, Some(&b))
    });
    let t = tally(&answers);
    let winners: Vec<usize> = (0..RACERS).filter(|i| answers[*i].status == 200).collect();
    if winners.len() != 1 {
        let stored = c.call(0, "GET", path, Some(token), None).1;
        let won: Vec<String> = winners
            .iter()
            .map(|w| format!("racer {w} on server {}: {}", w % 2, answers[*w].body))
            .collect();
        panic!(
            "{path} {precondition:?} from v{version}: exactly one winner, got {}:\n{}\nstored: {stored}",
            show(&t),
            won.join("\n")
        );
    }
    let losers = t.get(&409).copied().unwrap_or(0) + t.get(&412).copied().unwrap_or(0);
    assert_eq!(
        losers,
        RACERS - 1,
        "{path} {precondition:?}: every loser 409/412, got {}",
        show(&t)
    );
    for a in answers.iter().filter(|a| a.status == 409) {
        assert!(a.body.is_object(), "a 409 body is JSON: {}", a.body);
    }
    let w = winners[0];
    assert_eq!(answers[w].body["version"], json!(version + 1));
    // The stored object is the winner's, read on the other server than the winner's.
    let (status, after) = c.call((w + 1) % 2, "GET", path, Some(token), None);
    assert_eq!(status, 200);
    assert_eq!(
        after["version"],
        json!(version + 1),
        "one change, one version"
    );
    assert_eq!(
        after[marker],
        body(w, false)[marker],
        "the stored value is the winner's (racer {w})"
    );
    format!(
        "v{version}->v{} {precondition:?}: 1 winner, {} conflicts ({}), {} 5xx",
        version + 1,
        RACERS - 1,
        show(&t),
        c.five_xx() - fives
    )
}

/// One round of `RACERS` concurrent creates of objects sharing one unique key; `count` then
/// says how many such objects the store holds.
fn create_race(
    c: &Cluster,
    token: &str,
    what: &str,
    path: &str,
    body: impl Fn(usize) -> Json + Sync,
    count: &str,
) -> String {
    let fives = c.five_xx();
    let answers = race(|i| c.send(i % 2, "POST", path, Some(token), &[], Some(&body(i))));
    let t = tally(&answers);
    assert_eq!(
        t.get(&201).copied().unwrap_or(0),
        1,
        "{what}: exactly one created, got {}",
        show(&t)
    );
    assert_eq!(
        t.get(&409).copied().unwrap_or(0),
        RACERS - 1,
        "{what}: every other one 409, got {}",
        show(&t)
    );
    let (status, page) = c.call(1, "GET", count, Some(token), None);
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["count"], 1, "{what}: one in the store: {page}");
    format!(
        "{what}: 1 winner / {} conflict, {} 5xx",
        RACERS - 1,
        c.five_xx() - fives
    )
}

/// `RACERS` devices made in one batch; then each racer renames its own device to one serial
/// number at once: exactly one 200, 409 for the rest, one device holding it.
fn rename_race(c: &Cluster, token: &str) -> String {
    let operations: Vec<Json> = (0..RACERS)
        .map(|i| {
            json!({"op": "create", "model": "device", "data": {
                "type": "Tablet", "make": "Lenovo", "model": "M10",
                "serial_number": format!("SN-RENAME-{i}")}})
        })
        .collect();
    let (status, body) = c.call(
        0,
        "POST",
        "/inventory/batch/",
        Some(token),
        Some(&json!({ "operations": operations })),
    );
    assert_eq!(status, 200, "batch create: {body}");
    let ids: Vec<String> = body["results"]
        .as_array()
        .expect("batch results")
        .iter()
        .map(|r| r["id"].as_str().expect("a device id").to_owned())
        .collect();
    assert_eq!(ids.len(), RACERS);
    let fives = c.five_xx();
    let answers = race(|i| {
        c.send(
            i % 2,
            "PATCH",
            &format!("/inventory/devices/{}/", ids[i]),
            Some(token),
            &[],
            Some(&json!({"serial_number": "SN-RENAMED"})),
        )
    });
    let t = tally(&answers);
    assert_eq!(
        t.get(&200),
        Some(&1),
        "rename race: one winner, got {}",
        show(&t)
    );
    assert_eq!(
        t.get(&409),
        Some(&(RACERS - 1)),
        "rename race: every other one 409, got {}",
        show(&t)
    );
    let (status, page) = c.call(
        1,
        "GET",
        "/inventory/devices/?serial_number=SN-RENAMED",
        Some(token),
        None,
    );
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["count"], 1, "one device holds the serial: {page}");
    format!(
        "serial rename race (update): 1 winner / {} conflict, {} 5xx",
        RACERS - 1,
        c.five_xx() - fives
    )
}

/// `RACERS` concurrent all-or-nothing batches, each updating the same four devices from
/// version 1 (`version` in each body) but in its own order (four rotations, both directions),
/// so the databases see lock-order inversions: exactly one batch wins (200), every other one
/// is 409 and wrote nothing; the four devices all hold the winner's value at version 2.
fn batch_race(c: &Cluster, token: &str) -> String {
    const DEVICES: usize = 4;
    let operations: Vec<Json> = (0..DEVICES)
        .map(|k| {
            json!({"op": "create", "model": "device", "data": {
                "type": "Desktop", "make": "HP", "model": "EliteDesk",
                "serial_number": format!("SN-BATCH-{k}")}})
        })
        .collect();
    let (status, body) = c.call(
        1,
        "POST",
        "/inventory/batch/",
        Some(token),
        Some(&json!({ "operations": operations })),
    );
    assert_eq!(status, 200, "batch create: {body}");
    let ids: Vec<String> = body["results"]
        .as_array()
        .expect("batch results")
        .iter()
        .map(|r| r["id"].as_str().expect("a device id").to_owned())
        .collect();
    let fives = c.five_xx();
    let answers = race(|i| {
        let mut order: Vec<usize> = (0..DEVICES).map(|k| (k + i) % DEVICES).collect();
        if (i / DEVICES) % 2 == 1 {
            order.reverse();
        }
        let operations: Vec<Json> = order
            .iter()
            .map(|k| {
                json!({"op": "update", "model": "device", "id": ids[*k],
                       "data": {"notes": format!("batch racer {i}"), "version": 1}})
            })
            .collect();
        c.send(
            i % 2,
            "POST",
            "/inventory/batch/",
            Some(token),
            &[],
            Some(&json!({ "operations": operations })),
        )
    });
    let t = tally(&answers);
    let winners: Vec<usize> = (0..RACERS).filter(|i| answers[*i].status == 200).collect();
    assert_eq!(winners.len(), 1, "batch race: one winner, got {}", show(&t));
    assert_eq!(
        t.get(&409),
        Some(&(RACERS - 1)),
        "batch race: every other batch 409, got {}",
        show(&t)
    );
    let w = winners[0];
    for id in &ids {
        let (status, d) = c.call(
            0,
            "GET",
            &format!("/inventory/devices/{id}/"),
            Some(token),
            None,
        );
        assert_eq!(status, 200);
        assert_eq!(d["version"], 2, "one batch changed {id}: {d}");
        assert_eq!(
            d["notes"],
            format!("batch racer {w}"),
            "the winner's value in {id}"
        );
    }
    format!(
        "batch race ({DEVICES} devices, inverted orders): 1 winner / {} conflict, {} 5xx",
        RACERS - 1,
        c.five_xx() - fives
    )
}

/// `RACERS` concurrent deletes of one donor, all with its current `If-Match`: exactly one
/// 204; the rest 412 (the donor changed), 409 or 404 (it is gone).
fn delete_race(c: &Cluster, token: &str) -> String {
    let (status, donor) = c.call(
        1,
        "POST",
        "/inventory/donors/",
        Some(token),
        Some(&json!({"name": "Gone", "email": "gone@example.org"})),
    );
    assert_eq!(status, 201, "{donor}");
    let path = format!("/inventory/donors/{}/", donor["donor_id"]);
    let etag = format!("\"{}\"", donor["version"]);
    let fives = c.five_xx();
    let answers = race(|i| {
        c.send(
            i % 2,
            "DELETE",
            &path,
            Some(token),
            &[("If-Match", &etag)],
            None,
        )
    });
    let t = tally(&answers);
    assert_eq!(
        t.get(&204),
        Some(&1),
        "delete race: one winner, got {}",
        show(&t)
    );
    let losers: usize = [404, 409, 412].iter().filter_map(|s| t.get(s)).sum();
    assert_eq!(
        losers,
        RACERS - 1,
        "delete race: losers 404/409/412, got {}",
        show(&t)
    );
    let (status, _) = c.call(0, "GET", &path, Some(token), None);
    assert_eq!(status, 404, "the donor is gone");
    format!(
        "delete race: 1 winner / {} refused ({}), {} 5xx",
        RACERS - 1,
        show(&t),
        c.five_xx() - fives
    )
}

/// A delete racing creates that refer to the deleted object: racer `RACERS / 2` deletes it
/// (on B), the others create referrers (`body(i)`, split across both). Whatever the order,
/// no referrer is left pointing at a deleted object: when the delete wins (204), no object
/// refers to it (`holding` counts those that do) and every created referrer was cleared or
/// refused; when it is refused (409), every created referrer holds it. Creates answer 201,
/// or 400/409 when the object was already gone.
#[allow(clippy::too_many_arguments)]
fn reference_race(
    c: &Cluster,
    token: &str,
    what: &str,
    delete_path: &str,
    create_path: &str,
    body: impl Fn(usize) -> Json + Sync,
    holding: &str,
    created: &str,
) -> String {
    let deleter = RACERS / 2;
    let fives = c.five_xx();
    let answers = race(|i| {
        if i == deleter {
            c.send(1, "DELETE", delete_path, Some(token), &[], None)
        } else {
            // Spread the creates over ~500 ms so that the delete tends to land among them
            // (a nudge only: the checks below hold in every order).
            std::thread::sleep(std::time::Duration::from_millis((i % 20) as u64 * 25));
            c.send(i % 2, "POST", create_path, Some(token), &[], Some(&body(i)))
        }
    });
    let deleted = answers[deleter].status;
    assert!(
        deleted == 204 || deleted == 409,
        "{what}: the delete answered {} {}",
        deleted,
        answers[deleter].body
    );
    let creates: Vec<&Answer> = (0..RACERS)
        .filter(|i| *i != deleter)
        .map(|i| &answers[i])
        .collect();
    let t = tally(&creates.iter().map(|a| (*a).clone()).collect::<Vec<_>>());
    let made = t.get(&201).copied().unwrap_or(0);
    let refused: usize = [400, 409].iter().filter_map(|s| t.get(s)).sum();
    assert_eq!(
        made + refused,
        RACERS - 1,
        "{what}: creates answered {}",
        show(&t)
    );
    let count = |path: &str| {
        let (status, page) = c.call(0, "GET", path, Some(token), None);
        assert_eq!(status, 200, "{path}: {page}");
        page["count"].as_u64().expect("a count") as usize
    };
    assert_eq!(count(created), made, "{what}: every 201 stored");
    let holders = count(holding);
    if deleted == 204 {
        assert_eq!(holders, 0, "{what}: nothing refers to the deleted object");
    } else {
        assert_eq!(
            holders, made,
            "{what}: the object stays, held by every created one"
        );
    }
    format!(
        "{what}: delete {deleted}, creates {} ({} kept the reference), {} 5xx",
        show(&t),
        holders,
        c.five_xx() - fives
    )
}

/// The printed lines, each with the seconds its step took (for CI cost, not asserted).
struct Figures {
    lines: Vec<String>,
    since: Instant,
}

impl Figures {
    fn new() -> Figures {
        Figures {
            lines: Vec::new(),
            since: Instant::now(),
        }
    }

    fn push(&mut self, line: String) {
        self.lines.push(format!(
            "{line} [{:.1} s]",
            self.since.elapsed().as_secs_f64()
        ));
        self.since = Instant::now();
    }
}

/// `username` with the letters whose bit is set in `i` upper-cased.
fn case_variant(username: &str, i: usize) -> String {
    username
        .chars()
        .enumerate()
        .map(|(k, ch)| {
            if (i >> k) & 1 == 1 {
                ch.to_ascii_uppercase()
            } else {
                ch
            }
        })
        .collect()
}

/// One scale-out run at a time: the two tests together would double the load.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn scale_out(label: &str, admin_url: &str) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let db = ScratchDatabase::create_blocking(admin_url)
        .unwrap_or_else(|e| panic!("a scratch database on {admin_url}: {e}"));
    create_superuser(db.url(), "admin");
    let c = Cluster::start(db.url());
    let mut figures = Figures::new();
    figures.push(sessions(&c));
    let admin = c.clients[1].login("admin", PASSWORD);
    // Failed logins counted for 127.0.0.1 (every 401 of the login route).
    let mut failures = 0;
    figures.push(lockout(&c, &admin, &mut failures));
    figures.push(parallel_logins(&c, &admin));

    // Conflicting updates: a device in three rounds, each from the version the last left.
    let (status, device) = c.call(
        0,
        "POST",
        "/inventory/devices/",
        Some(&admin),
        Some(
            &json!({"type": "Laptop", "make": "Dell", "model": "Latitude 5490",
                      "serial_number": "SN-SCALE-1"}),
        ),
    );
    assert_eq!(status, 201, "{device}");
    let path = format!(
        "/inventory/devices/{}/",
        device["device_id"].as_str().expect("a device id")
    );
    // Each round's values are new: a racer re-sending the stored value would be a no-op
    // update, answered 200 with the unchanged object (not a second winner).
    let device_body = |round: usize, i: usize, full: bool| {
        let mut b = json!({"notes": format!("round {round}, written by racer {i}")});
        if full {
            for (k, v) in [
                ("type", "Laptop"),
                ("make", "Dell"),
                ("model", "Latitude 5490"),
                ("serial_number", "SN-SCALE-1"),
            ] {
                b[k] = json!(v);
            }
        }
        b
    };
    for (round, precondition) in [
        Precondition::IfMatch,
        Precondition::BodyVersion,
        Precondition::Mixed,
    ]
    .into_iter()
    .enumerate()
    {
        let body = |i, full| device_body(round + 1, i, full);
        let line = update_round(&c, &admin, &path, precondition, body, "notes");
        figures.push(format!("device round {}: {line}", round + 1));
    }

    // A location and a donor: one round each.
    let (status, location) = c.call(
        1,
        "POST",
        "/inventory/locations/",
        Some(&admin),
        Some(&json!({"name": "Depot", "address": "1 Scale Street"})),
    );
    assert_eq!(status, 201, "{location}");
    let path = format!("/inventory/locations/{}/", location["location_id"]);
    let line = update_round(
        &c,
        &admin,
        &path,
        Precondition::Mixed,
        |i, full| {
            let mut b = json!({"city": format!("City {i}")});
            if full {
                b["name"] = json!("Depot");
                b["address"] = json!("1 Scale Street");
            }
            b
        },
        "city",
    );
    figures.push(format!("location: {line}"));
    let (status, donor) = c.call(
        0,
        "POST",
        "/inventory/donors/",
        Some(&admin),
        Some(&json!({"name": "Ada", "email": "ada@example.org"})),
    );
    assert_eq!(status, 201, "{donor}");
    let path = format!("/inventory/donors/{}/", donor["donor_id"]);
    let line = update_round(
        &c,
        &admin,
        &path,
        Precondition::IfMatch,
        |i, full| {
            let mut b = json!({"contact_info": format!("call racer {i}")});
            if full {
                b["name"] = json!("Ada");
                b["email"] = json!("ada@example.org");
            }
            b
        },
        "contact_info",
    );
    figures.push(format!("donor: {line}"));

    // Uniqueness races.
    figures.push(create_race(
        &c,
        &admin,
        "serial race",
        "/inventory/devices/",
        |i| {
            json!({"type": "Phone", "make": "Fairphone", "model": format!("FP{i}"),
                   "serial_number": "SN-RACE"})
        },
        "/inventory/devices/?serial_number=SN-RACE",
    ));
    figures.push(create_race(
        &c,
        &admin,
        "username race (case variants)",
        "/users/users/",
        |i| json!({"username": case_variant("racer-user", i), "email": format!("racer{i}@example.org")}),
        "/users/users/?username__icontains=racer-user",
    ));
    figures.push(create_race(
        &c,
        &admin,
        "role name race",
        "/admin/roles/",
        |i| json!({"name": "racers", "description": format!("racer {i}"), "permissions": []}),
        "/admin/roles/?name=racers",
    ));
    figures.push(create_race(
        &c,
        &admin,
        "location address race",
        "/inventory/locations/",
        |i| json!({"name": format!("Depot {i}"), "address": "2 Race Road"}),
        "/inventory/locations/?search=2%20Race%20Road",
    ));
    figures.push(create_race(
        &c,
        &admin,
        "donor email race",
        "/inventory/donors/",
        |i| json!({"name": format!("Donor {i}"), "email": "race@example.org"}),
        "/inventory/donors/?email=race@example.org",
    ));

    figures.push(rename_race(&c, &admin));
    figures.push(batch_race(&c, &admin));

    // Deletes racing creates that refer to the deleted object.
    let (status, location) = c.call(
        0,
        "POST",
        "/inventory/locations/",
        Some(&admin),
        Some(&json!({"name": "Doomed", "address": "3 Short Street"})),
    );
    assert_eq!(status, 201, "{location}");
    let lid = location["location_id"].clone();
    figures.push(reference_race(
        &c,
        &admin,
        "location delete vs device creates",
        &format!("/inventory/locations/{lid}/"),
        "/inventory/devices/",
        |i| {
            json!({"type": "Phone", "make": "Nokia", "model": "RefRace",
                   "serial_number": format!("SN-REF-{i}"), "start_location": lid})
        },
        &format!("/inventory/devices/?start_location={lid}"),
        "/inventory/devices/?model=RefRace",
    ));
    let (status, role) = c.call(
        1,
        "POST",
        "/admin/roles/",
        Some(&admin),
        Some(&json!({"name": "doomed", "permissions": ["readDevices"]})),
    );
    assert_eq!(status, 201, "{role}");
    figures.push(reference_race(
        &c,
        &admin,
        "role delete vs user creates",
        "/admin/roles/doomed/",
        "/users/users/",
        |i| {
            json!({"username": format!("holder-{i}"), "email": format!("holder{i}@example.org"),
                   "role": "doomed"})
        },
        "/users/users/?role=doomed",
        "/users/users/?username__icontains=holder-",
    ));
    figures.push(delete_race(&c, &admin));

    // Last: it refuses every login from 127.0.0.1 for the rest of the run.
    figures.push(address_lock(&c, failures));

    c.assert_no_5xx();
    let logged_errors = c.logs().lines().filter(|l| l.contains("ERROR")).count();
    assert_eq!(logged_errors, 0, "the servers logged errors:\n{}", c.logs());
    drop(c);
    drop(db);
    report(&format!(
        "scale-out {label} (2 servers, {RACERS} racers per race, {:.1} s):\n  {}\n  0 5xx in total, 0 errors logged",
        started.elapsed().as_secs_f64(),
        figures.lines.join("\n  ")
    ));
}

/// Writes `text` to standard error directly: the test harness captures `println!` and
/// `eprintln!` of passing tests, and these figures are meant to be seen.
fn report(text: &str) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

fn database_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            report(&format!("skipped: {var} is not set"));
            None
        }
    }
}

#[cfg(feature = "postgres")]
#[test]
fn scale_out_postgres() {
    if let Some(url) = database_url("REHOME_TEST_POSTGRES_URL") {
        scale_out("postgres", &url);
    }
}

#[cfg(feature = "mysql")]
#[test]
fn scale_out_mysql() {
    if let Some(url) = database_url("REHOME_TEST_MYSQL_URL") {
        scale_out("mysql", &url);
    }
}
