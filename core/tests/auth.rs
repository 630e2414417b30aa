//! Authentication through the public API, on the memory store, with an injected clock.
//! Expected values come from the contract (limits, durations) and, for TOTP codes, from an
//! HMAC-SHA1 computed here (RFC 4226 §5.3), not from rehome's TOTP code.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use rehome_core::auth::{Hasher, PasswordParams};
use rehome_core::env::{ManualClock, SeededRandomness};
use rehome_core::error::Error;
use rehome_core::memory::MemoryStore;
use rehome_core::services::accounts::Registration;
use rehome_core::services::{ListParams, LoginOutcome, MfaCode, Mode, SessionGrant};
use rehome_core::{Caller, Rehome, Store};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

struct World {
    core: Rehome,
    clock: Arc<ManualClock>,
    hasher: Arc<Hasher>,
    store: Arc<dyn Store>,
}

fn world() -> World {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .expect("time"),
    ));
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let hasher =
        Arc::new(Hasher::new(PasswordParams::INSECURE_FOR_TESTS, Some(1)).expect("hasher"));
    let core = Rehome::new(store.clone())
        .with_hasher(hasher.clone())
        .with_clock(clock.clone())
        .with_randomness(Arc::new(SeededRandomness::new(3)));
    World {
        core,
        clock,
        hasher,
        store,
    }
}

/// A second handle on the same store (another server process, as far as core can tell).
fn second_handle(w: &World) -> Rehome {
    Rehome::new(w.store.clone())
        .with_hasher(w.hasher.clone())
        .with_clock(w.clock.clone())
        .with_randomness(Arc::new(SeededRandomness::new(99)))
}

async fn user(w: &World, name: &str) -> rehome_core::User {
    w.core
        .create_user(
            &Caller::system(),
            &json!({"username": name, "email": format!("{name}@example.org"),
                     "password": PASSWORD, "permissions": ["readDevices"]}),
        )
        .await
        .expect("user")
}

async fn login(w: &World, name: &str, password: &str) -> Result<LoginOutcome, Error> {
    w.core.login(name, password, Some("10.0.0.1")).await
}

fn session(o: LoginOutcome) -> SessionGrant {
    match o {
        LoginOutcome::Session(s) => s,
        other => panic!("expected a session, got {other:?}"),
    }
}

fn retry_after(e: Error) -> u64 {
    match e {
        Error::Throttled { retry_after_secs } => retry_after_secs,
        other => panic!("expected 429, got {other:?}"),
    }
}

fn is_bad_login(e: &Error) -> bool {
    matches!(e, Error::AuthenticationFailed { detail } if detail == "Invalid username or password.")
}

/// HOTP per RFC 4226 §5.3, from HMAC-SHA1 (independent of rehome and totp-rs).
fn hotp(secret: &[u8], step: u64) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret).expect("key");
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[o]) & 0x7f) << 24
        | u32::from(h[o + 1]) << 16
        | u32::from(h[o + 2]) << 8
        | u32::from(h[o + 3]);
    format!("{:06}", bin % 1_000_000)
}

/// RFC 4648 base32 decoding (no padding), written here.
fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.chars().filter(|c| *c != '=') {
        let v = u32::try_from(ALPHABET.find(c).expect("base32 character")).expect("small");
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).expect("byte"));
        }
    }
    out
}

fn step_now(w: &World) -> u64 {
    u64::try_from(w.core.now().timestamp()).expect("after 1970") / 30
}

/// Turns MFA on for `name` (logged in as `caller`); answers the secret and recovery codes.
async fn enable_mfa(w: &World, caller: &Caller) -> (Vec<u8>, Vec<String>) {
    let setup = w.core.totp_setup(caller).await.expect("setup");
    assert!(
        setup.otpauth_uri.starts_with("otpauth://totp/rehome:"),
        "{}",
        setup.otpauth_uri
    );
    assert!(setup.qr_svg.contains("<svg"));
    let secret = base32_decode(&setup.secret);
    assert_eq!(secret.len(), 20);
    let codes = w
        .core
        .totp_confirm(caller, &hotp(&secret, step_now(w)))
        .await
        .expect("confirm");
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

#[tokio::test]
async fn login_and_the_enumeration_rule() {
    let w = world();
    user(&w, "maria").await;
    let grant = session(login(&w, "maria", PASSWORD).await.expect("login"));
    assert_eq!(grant.username, "maria");
    assert!(grant.access_token.len() >= 22, "at least 128 bits");
    assert_eq!(grant.expires_at, w.core.now() + TimeDelta::hours(12));
    let caller = w
        .core
        .authenticate(&grant.access_token, None)
        .await
        .expect("valid");
    assert_eq!(caller.username(), Some("maria"));
    // Case-insensitive username.
    session(login(&w, "MARIA", PASSWORD).await.expect("login"));

    // Same error and the same hashing work for an unknown user and a wrong password.
    let before = w.hasher.operations();
    let wrong = login(&w, "maria", "wrong horse battery")
        .await
        .expect_err("wrong");
    let after_wrong = w.hasher.operations();
    let unknown = login(&w, "nobody", "wrong horse battery")
        .await
        .expect_err("unknown");
    let after_unknown = w.hasher.operations();
    assert!(is_bad_login(&wrong) && is_bad_login(&unknown));
    assert_eq!(after_wrong - before, 1);
    assert_eq!(after_unknown - after_wrong, 1);
}

#[tokio::test]
async fn lockout_grows_and_resets() {
    let w = world();
    user(&w, "tomas").await;
    // Four failures: not locked yet.
    for _ in 0..4 {
        assert!(is_bad_login(
            &login(&w, "tomas", "nope nope nope")
                .await
                .expect_err("wrong")
        ));
    }
    // The fifth locks for 1 minute (it still answers 401 itself).
    assert!(is_bad_login(
        &login(&w, "tomas", "nope nope nope")
            .await
            .expect_err("wrong")
    ));
    assert_eq!(
        retry_after(login(&w, "tomas", PASSWORD).await.expect_err("locked")),
        60
    );
    w.clock.advance(TimeDelta::seconds(59));
    assert_eq!(
        retry_after(login(&w, "tomas", PASSWORD).await.expect_err("locked")),
        1
    );
    w.clock.advance(TimeDelta::seconds(1));
    // Lock over; five more failures lock for 2 minutes, then 4, 8, 15 (capped), 15.
    for want in [120u64, 240, 480, 900, 900] {
        for _ in 0..5 {
            let _ = login(&w, "tomas", "nope nope nope").await;
        }
        assert_eq!(
            retry_after(login(&w, "tomas", PASSWORD).await.expect_err("locked")),
            want
        );
        w.clock
            .advance(TimeDelta::seconds(i64::try_from(want).expect("small")));
    }
    // A success resets the count and the growth.
    session(login(&w, "tomas", PASSWORD).await.expect("login"));
    for _ in 0..5 {
        let _ = login(&w, "tomas", "nope nope nope").await;
    }
    assert_eq!(
        retry_after(login(&w, "tomas", PASSWORD).await.expect_err("locked")),
        60
    );
    // Failures older than 15 minutes do not count.
    w.clock.advance(TimeDelta::minutes(2));
    for _ in 0..4 {
        let _ = login(&w, "tomas", "nope nope nope").await;
    }
    w.clock.advance(TimeDelta::minutes(16));
    for _ in 0..4 {
        let _ = login(&w, "tomas", "nope nope nope").await;
    }
    session(login(&w, "tomas", PASSWORD).await.expect("not locked"));
}

#[tokio::test]
async fn unknown_usernames_lock_the_same_way() {
    let w = world();
    for _ in 0..5 {
        assert!(is_bad_login(
            &login(&w, "ghost", "whatever whatever")
                .await
                .expect_err("x")
        ));
    }
    assert_eq!(
        retry_after(
            login(&w, "ghost", "whatever whatever")
                .await
                .expect_err("locked")
        ),
        60
    );
    assert_eq!(
        retry_after(
            login(&w, "GHOST", "whatever whatever")
                .await
                .expect_err("locked")
        ),
        60
    );
}

#[tokio::test]
async fn address_throttle() {
    let w = world();
    user(&w, "li").await;
    for i in 0..50 {
        let name = format!("guess{i}");
        let e = w
            .core
            .login(&name, "x", Some("192.0.2.7"))
            .await
            .expect_err("fails");
        assert!(is_bad_login(&e), "{i}: {e:?}");
    }
    let e = w
        .core
        .login("li", PASSWORD, Some("192.0.2.7"))
        .await
        .expect_err("throttled");
    assert_eq!(retry_after(e), 900);
    // Another address is unaffected, and so is the user.
    session(
        w.core
            .login("li", PASSWORD, Some("192.0.2.8"))
            .await
            .expect("login"),
    );
    w.clock.advance(TimeDelta::minutes(15));
    session(
        w.core
            .login("li", PASSWORD, Some("192.0.2.7"))
            .await
            .expect("window passed"),
    );
}

#[tokio::test]
async fn session_expiry_idle_and_touch() {
    let w = world();
    user(&w, "ana").await;
    let grant = session(login(&w, "ana", PASSWORD).await.expect("login"));
    let t = grant.access_token.clone();
    // Used every 90 minutes: stays alive until exactly 12 hours.
    for _ in 0..7 {
        w.clock.advance(TimeDelta::minutes(90));
        w.core.authenticate(&t, None).await.expect("alive");
    }
    // 10.5 h now; at 12 h minus 1 µs still valid, at 12 h not.
    w.clock
        .advance(TimeDelta::minutes(90) - TimeDelta::microseconds(1));
    w.core
        .authenticate(&t, None)
        .await
        .expect("last microsecond");
    w.clock.advance(TimeDelta::microseconds(1));
    assert!(matches!(
        w.core.authenticate(&t, None).await,
        Err(Error::InvalidToken)
    ));

    // Idle timeout: 2 hours without use.
    let t2 = session(login(&w, "ana", PASSWORD).await.expect("login")).access_token;
    w.clock.advance(TimeDelta::hours(2));
    w.core
        .authenticate(&t2, None)
        .await
        .expect("exactly 2 h idle is still fine");
    w.clock
        .advance(TimeDelta::hours(2) + TimeDelta::microseconds(1));
    assert!(matches!(
        w.core.authenticate(&t2, None).await,
        Err(Error::InvalidToken)
    ));

    // The last-used time is written at most once a minute: count session versions.
    let t3 = session(login(&w, "ana", PASSWORD).await.expect("login")).access_token;
    let digest = rehome_core::ids::Digest::of(&t3);
    let version = || async {
        match w
            .store
            .get(rehome_core::RecordKey::Session(digest))
            .await
            .expect("get")
        {
            Some(rehome_core::Record::Session(s)) => s.version,
            other => panic!("{other:?}"),
        }
    };
    for _ in 0..30 {
        w.clock.advance(TimeDelta::seconds(1));
        w.core.authenticate(&t3, None).await.expect("valid");
    }
    assert_eq!(version().await, 1, "30 s of use: no write");
    for _ in 0..31 {
        w.clock.advance(TimeDelta::seconds(1));
        w.core.authenticate(&t3, None).await.expect("valid");
    }
    assert_eq!(version().await, 2, "61 s of use: one write");
    assert!(matches!(
        w.core.authenticate("garbage", None).await,
        Err(Error::InvalidToken)
    ));
}

#[tokio::test]
async fn revocation_reaches_every_handle() {
    let w = world();
    let other = second_handle(&w);
    let u = user(&w, "rui").await;
    let a = session(login(&w, "rui", PASSWORD).await.expect("a")).access_token;
    let b = session(login(&w, "rui", PASSWORD).await.expect("b")).access_token;
    let c = session(login(&w, "rui", PASSWORD).await.expect("c")).access_token;
    // Logout of one token, on the first handle, is seen by the second at once.
    let ca = w.core.authenticate(&a, None).await.expect("a");
    w.core.logout(&ca).await.expect("logout");
    assert!(matches!(
        other.authenticate(&a, None).await,
        Err(Error::InvalidToken)
    ));
    other.authenticate(&b, None).await.expect("b still valid");
    // A password change revokes the other tokens, not the one used for it.
    let cb = other.authenticate(&b, None).await.expect("b");
    other
        .change_password(&cb, Some(PASSWORD), Some("a much better passphrase"), None)
        .await
        .expect("changed");
    assert!(matches!(
        w.core.authenticate(&c, None).await,
        Err(Error::InvalidToken)
    ));
    w.core.authenticate(&b, None).await.expect("b kept");
    assert!(is_bad_login(
        &login(&w, "rui", PASSWORD).await.expect_err("old password")
    ));
    let d = session(
        login(&w, "rui", "a much better passphrase")
            .await
            .expect("d"),
    )
    .access_token;
    // Logout-all.
    let cd = w.core.authenticate(&d, None).await.expect("d");
    other.logout_all(&cd).await.expect("all");
    for t in [&b, &d] {
        assert!(matches!(
            w.core.authenticate(t, None).await,
            Err(Error::InvalidToken)
        ));
    }
    // Deactivation and deletion revoke everything.
    let e = session(
        login(&w, "rui", "a much better passphrase")
            .await
            .expect("e"),
    )
    .access_token;
    w.core
        .update_user(
            &Caller::system(),
            u.id,
            &json!({"is_active": false}),
            Mode::Patch,
            None,
        )
        .await
        .expect("deactivate");
    assert!(matches!(
        other.authenticate(&e, None).await,
        Err(Error::InvalidToken)
    ));
    assert!(is_bad_login(
        &login(&w, "rui", "a much better passphrase")
            .await
            .expect_err("inactive")
    ));
    w.core
        .update_user(
            &Caller::system(),
            u.id,
            &json!({"is_active": true}),
            Mode::Patch,
            None,
        )
        .await
        .expect("reactivate");
    let f = session(
        login(&w, "rui", "a much better passphrase")
            .await
            .expect("f"),
    )
    .access_token;
    w.core
        .delete_user(&Caller::system(), u.id, None)
        .await
        .expect("delete");
    assert!(matches!(
        other.authenticate(&f, None).await,
        Err(Error::InvalidToken)
    ));
}

#[tokio::test]
async fn password_change_rules() {
    let w = world();
    user(&w, "joao").await;
    let t = session(login(&w, "joao", PASSWORD).await.expect("login")).access_token;
    let c = w.core.authenticate(&t, None).await.expect("caller");
    let e = w
        .core
        .change_password(
            &c,
            Some("wrong wrong wrong"),
            Some("another good one"),
            None,
        )
        .await
        .expect_err("old password wrong");
    assert!(
        matches!(e, Error::Validation(ref f) if !f.get("old_password").is_empty()),
        "{e:?}"
    );
    for (new, why) in [
        ("short", "too short"),
        ("password123", "common"),
        ("joao-is-great-2024", "contains username"),
    ] {
        let e = w
            .core
            .change_password(&c, Some(PASSWORD), Some(new), None)
            .await
            .expect_err(why);
        assert!(
            matches!(e, Error::Validation(ref f) if !f.get("new_password").is_empty()),
            "{why}: {e:?}"
        );
    }
    let e = w
        .core
        .change_password(&c, None, Some("another good one"), None)
        .await
        .expect_err("missing");
    assert!(matches!(e, Error::Validation(ref f) if !f.get("old_password").is_empty()));
}

#[tokio::test]
async fn mfa_login_totp_replay_and_recovery_codes() {
    let w = world();
    user(&w, "mia").await;
    let t = session(login(&w, "mia", PASSWORD).await.expect("login")).access_token;
    let caller = w.core.authenticate(&t, None).await.expect("caller");
    let (secret, codes) = enable_mfa(&w, &caller).await;
    let confirmed_step = step_now(&w);
    // Setup again while on: 409.
    assert!(matches!(
        w.core.totp_setup(&caller).await,
        Err(Error::Conflict { .. })
    ));
    let view = w
        .core
        .user_json(&w.core.find_user("mia").await.expect("find").expect("mia"))
        .await
        .expect("view");
    assert_eq!(view["mfa_enabled"], json!(true));
    let text = view.to_string();
    assert!(
        !text.contains("argon2") && !text.contains("totp_secret"),
        "{text}"
    );

    // Password step now gives an MFA token and no session.
    let mfa_token = match login(&w, "mia", PASSWORD).await.expect("step 1") {
        LoginOutcome::MfaRequired { mfa_token, methods } => {
            assert_eq!(methods, ["totp", "recovery_code"]);
            mfa_token
        }
        other => panic!("{other:?}"),
    };
    // The code of the step used to confirm is refused (replay), and so is an earlier one.
    for step in [confirmed_step, confirmed_step - 1] {
        let e = w
            .core
            .verify_mfa(&mfa_token, MfaCode::Totp(hotp(&secret, step)), None)
            .await
            .expect_err("replay");
        assert!(
            matches!(e, Error::AuthenticationFailed { ref detail } if detail == "Invalid code."),
            "{e:?}"
        );
    }
    // 30 s later the next step's code works, once.
    w.clock.advance(TimeDelta::seconds(30));
    let code = hotp(&secret, step_now(&w));
    let grant = w
        .core
        .verify_mfa(&mfa_token, MfaCode::Totp(code.clone()), None)
        .await
        .expect("step 2");
    w.core
        .authenticate(&grant.access_token, None)
        .await
        .expect("session");
    // The MFA token is used up.
    assert!(matches!(
        w.core
            .verify_mfa(&mfa_token, MfaCode::Totp(code.clone()), None)
            .await,
        Err(Error::AuthenticationFailed { .. })
    ));
    // The same code on a new token: refused (its step was used).
    let token2 = match login(&w, "mia", PASSWORD).await.expect("step 1") {
        LoginOutcome::MfaRequired { mfa_token, .. } => mfa_token,
        other => panic!("{other:?}"),
    };
    assert!(
        w.core
            .verify_mfa(&token2, MfaCode::Totp(code), None)
            .await
            .is_err()
    );
    // A recovery code works once, in any case and with or without the dash.
    let rc = codes[3].to_uppercase().replace('-', " ");
    w.core
        .verify_mfa(&token2, MfaCode::Recovery(rc.clone()), None)
        .await
        .expect("recovery code");
    let token3 = match login(&w, "mia", PASSWORD).await.expect("step 1") {
        LoginOutcome::MfaRequired { mfa_token, .. } => mfa_token,
        other => panic!("{other:?}"),
    };
    assert!(
        w.core
            .verify_mfa(&token3, MfaCode::Recovery(rc), None)
            .await
            .is_err()
    );
    let log = w
        .core
        .list_audit(
            &Caller::system(),
            &ListParams::new([("action", "auth.recovery_code_used")]),
        )
        .await
        .expect("audit");
    assert_eq!(log.count, 1);
    assert_eq!(log.results[0].changes["remaining"], json!(9));
}

#[tokio::test]
async fn mfa_token_attempts_and_expiry() {
    let w = world();
    user(&w, "noa").await;
    let t = session(login(&w, "noa", PASSWORD).await.expect("login")).access_token;
    let caller = w.core.authenticate(&t, None).await.expect("caller");
    let (secret, _) = enable_mfa(&w, &caller).await;
    w.clock.advance(TimeDelta::seconds(30));
    let token = match login(&w, "noa", PASSWORD).await.expect("step 1") {
        LoginOutcome::MfaRequired { mfa_token, .. } => mfa_token,
        other => panic!("{other:?}"),
    };
    // Four wrong codes leave one attempt; the fifth wrong one uses the token up. (Five wrong
    // codes also lock the username: check after the lock ends.)
    for _ in 0..5 {
        assert!(
            w.core
                .verify_mfa(&token, MfaCode::Totp("000000".into()), None)
                .await
                .is_err()
        );
    }
    w.clock.advance(TimeDelta::minutes(1));
    let good = hotp(&secret, step_now(&w));
    assert!(matches!(
        w.core.verify_mfa(&token, MfaCode::Totp(good), None).await,
        Err(Error::AuthenticationFailed { ref detail }) if detail == "Invalid or expired MFA token."
    ));
    // Expiry: 5 minutes.
    let token = match login(&w, "noa", PASSWORD).await.expect("step 1") {
        LoginOutcome::MfaRequired { mfa_token, .. } => mfa_token,
        other => panic!("{other:?}"),
    };
    w.clock.advance(TimeDelta::minutes(5));
    let good = hotp(&secret, step_now(&w));
    assert!(
        w.core
            .verify_mfa(&token, MfaCode::Totp(good), None)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn disabling_mfa_and_regenerating_codes_need_reauthentication() {
    let w = world();
    user(&w, "eva").await;
    let t = session(login(&w, "eva", PASSWORD).await.expect("login")).access_token;
    let caller = w.core.authenticate(&t, None).await.expect("caller");
    let (secret, old_codes) = enable_mfa(&w, &caller).await;
    let caller = w.core.authenticate(&t, None).await.expect("caller");
    w.clock.advance(TimeDelta::seconds(30));
    // Regenerate: password and code needed; old codes void afterwards.
    let e = w
        .core
        .regenerate_recovery_codes(&caller, Some(PASSWORD), None)
        .await
        .expect_err("code missing");
    assert!(
        matches!(e, Error::Validation(ref f) if !f.get("code").is_empty()),
        "{e:?}"
    );
    let new_codes = w
        .core
        .regenerate_recovery_codes(&caller, Some(PASSWORD), Some(&hotp(&secret, step_now(&w))))
        .await
        .expect("regenerated");
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !old_codes.contains(c)));
    // Password change with MFA on needs a code too.
    let e = w
        .core
        .change_password(
            &caller,
            Some(PASSWORD),
            Some("a much better passphrase"),
            None,
        )
        .await
        .expect_err("code needed");
    assert!(
        matches!(e, Error::Validation(ref f) if !f.get("code").is_empty()),
        "{e:?}"
    );
    // Disable with an old recovery code: refused; with a new one: done.
    let e = w
        .core
        .totp_disable(
            &caller,
            Some(PASSWORD),
            Some(MfaCode::Recovery(old_codes[0].clone())),
        )
        .await
        .expect_err("old code");
    assert!(
        matches!(e, Error::Validation(ref f) if !f.get("code").is_empty()),
        "{e:?}"
    );
    w.core
        .totp_disable(
            &caller,
            Some(PASSWORD),
            Some(MfaCode::Recovery(new_codes[0].clone())),
        )
        .await
        .expect("disabled");
    session(login(&w, "eva", PASSWORD).await.expect("no MFA step now"));
    // Audit: the whole story, and never a secret, code, token or hash.
    let log = w
        .core
        .list_audit(&Caller::system(), &ListParams::new([("page_size", "100")]))
        .await
        .expect("audit");
    let actions: Vec<&str> = log.results.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "auth.login",
        "auth.mfa_enabled",
        "auth.recovery_codes_regenerated",
        "auth.mfa_disabled",
        "auth.login_failed",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let all = serde_json::to_string(&log.results.iter().map(|e| &e.changes).collect::<Vec<_>>())
        .expect("json");
    for needle in old_codes
        .iter()
        .chain(new_codes.iter())
        .map(String::as_str)
        .chain([t.as_str(), "$argon2", PASSWORD])
    {
        assert!(!all.contains(needle), "audit holds {needle}");
    }
}

#[tokio::test]
async fn weak_hashes_are_upgraded_at_login() {
    let w = world();
    user(&w, "old").await;
    let stronger = Arc::new(
        Hasher::new(
            PasswordParams {
                memory_kib: 256,
                iterations: 2,
                parallelism: 1,
            },
            Some(1),
        )
        .expect("hasher"),
    );
    let upgraded = Rehome::new(w.store.clone())
        .with_hasher(stronger)
        .with_clock(w.clock.clone());
    session(upgraded.login("old", PASSWORD, None).await.expect("login"));
    let u = upgraded.find_user("old").await.expect("find").expect("old");
    let hash = match w
        .store
        .get(rehome_core::RecordKey::Credentials(u.id))
        .await
        .expect("get")
    {
        Some(rehome_core::Record::Credentials(c)) => c.password_hash.expect("hash"),
        other => panic!("{other:?}"),
    };
    assert!(hash.starts_with("$argon2id$v=19$m=256,t=2,p=1$"), "{hash}");
    session(
        upgraded
            .login("old", PASSWORD, None)
            .await
            .expect("login with the new hash"),
    );
}

#[tokio::test]
async fn registration_applies_the_password_policy() {
    let w = world();
    let e = w
        .core
        .register(
            &Caller::anonymous(),
            &json!({"username": "pat", "email": "pat@example.org", "password": "pat12345678"}),
            Registration::Open,
        )
        .await
        .expect_err("contains username");
    assert!(
        matches!(e, Error::Validation(ref f) if !f.get("password").is_empty()),
        "{e:?}"
    );
    let e = w
        .core
        .register(
            &Caller::anonymous(),
            &json!({"username": "pat", "email": "pat@example.org"}),
            Registration::Open,
        )
        .await
        .expect_err("missing");
    assert!(matches!(e, Error::Validation(ref f) if !f.get("password").is_empty()));
    w.core
        .register(
            &Caller::anonymous(),
            &json!({"username": "pat", "email": "pat@example.org", "password": "  spaces kept  "}),
            Registration::Open,
        )
        .await
        .expect("registered");
    session(
        login(&w, "pat", "  spaces kept  ")
            .await
            .expect("exact password"),
    );
    assert!(login(&w, "pat", "spaces kept").await.is_err());
}

#[tokio::test]
async fn expired_state_is_purged() {
    let w = world();
    user(&w, "zoe").await;
    let kept = session(login(&w, "zoe", PASSWORD).await.expect("login")).access_token;
    for _ in 0..3 {
        let _ = login(&w, "someone", "nope nope nope").await;
    }
    w.clock.advance(TimeDelta::hours(11));
    let fresh = session(login(&w, "zoe", PASSWORD).await.expect("login")).access_token;
    assert_eq!(w.core.purge_expired().await.expect("purge"), 0);
    w.clock.advance(TimeDelta::hours(1));
    // The first session expired (12 h); the throttle of "someone" is 12 h old (kept: 1 day).
    assert_eq!(w.core.purge_expired().await.expect("purge"), 1);
    assert!(matches!(
        w.core.authenticate(&kept, None).await,
        Err(Error::InvalidToken)
    ));
    w.core
        .authenticate(&fresh, None)
        .await
        .expect("fresh session kept");
    w.clock.advance(TimeDelta::hours(13));
    // Now the fresh session (12 h) and the two day-old throttles (the username's and the
    // address's) go.
    assert_eq!(w.core.purge_expired().await.expect("purge"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_logins_of_one_user_all_succeed() {
    let w = world();
    user(&w, "busy").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let core = w.core.clone();
        tasks.push(tokio::spawn(async move {
            core.login("busy", PASSWORD, None).await
        }));
    }
    let mut tokens = std::collections::BTreeSet::new();
    for t in tasks {
        tokens.insert(session(t.await.expect("task").expect("login")).access_token);
    }
    assert_eq!(tokens.len(), 20);
}

// ------------------------------------------------ store conflicts in the auth flows are 409

/// A memory store that, once armed, answers `fault` to the next `n` commits holding a change
/// that `matches` picks: a writer that won a race, as the store reports it.
struct Injecting {
    inner: MemoryStore,
    matches: fn(&rehome_core::Change) -> bool,
    fault: fn() -> rehome_core::StoreError,
    armed: std::sync::atomic::AtomicUsize,
}

impl Injecting {
    fn arm(&self, n: usize) {
        self.armed.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl Store for Injecting {
    async fn get(
        &self,
        key: rehome_core::RecordKey,
    ) -> rehome_core::store::StoreResult<Option<rehome_core::Record>> {
        self.inner.get(key).await
    }
    async fn get_by_unique(
        &self,
        key: &rehome_core::UniqueKey,
    ) -> rehome_core::store::StoreResult<Option<rehome_core::Record>> {
        self.inner.get_by_unique(key).await
    }
    async fn scan(
        &self,
        collection: rehome_core::query::Collection,
        after: Option<rehome_core::RecordKey>,
        limit: usize,
    ) -> rehome_core::store::StoreResult<Vec<rehome_core::Record>> {
        self.inner.scan(collection, after, limit).await
    }
    async fn next_id(&self, kind: rehome_core::IdKind) -> rehome_core::store::StoreResult<i64> {
        self.inner.next_id(kind).await
    }
    async fn commit(&self, changes: rehome_core::ChangeSet) -> rehome_core::store::StoreResult<()> {
        use std::sync::atomic::Ordering;
        if changes.changes.iter().any(self.matches)
            && self
                .armed
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            return Err((self.fault)());
        }
        self.inner.commit(changes).await
    }
}

/// A world over an [`Injecting`] store, not armed yet.
fn injecting_world(
    matches: fn(&rehome_core::Change) -> bool,
    fault: fn() -> rehome_core::StoreError,
) -> (World, Arc<Injecting>) {
    let mut w = world();
    let injecting = Arc::new(Injecting {
        inner: MemoryStore::new(),
        matches,
        fault,
        armed: std::sync::atomic::AtomicUsize::new(0),
    });
    let store: Arc<dyn Store> = injecting.clone();
    w.core = Rehome::new(store.clone())
        .with_hasher(w.hasher.clone())
        .with_clock(w.clock.clone())
        .with_randomness(Arc::new(SeededRandomness::new(5)));
    w.store = store;
    (w, injecting)
}

fn inserts(change: &rehome_core::Change, collection: rehome_core::query::Collection) -> bool {
    matches!(change, rehome_core::Change::Insert(r) if r.collection() == collection)
}

fn audits(change: &rehome_core::Change, action: &str) -> bool {
    matches!(change, rehome_core::Change::Insert(rehome_core::Record::Audit(a)) if a.action == action)
}

/// Another writer took the key (what a store says when two writers raced).
fn taken() -> rehome_core::StoreError {
    rehome_core::StoreError::Conflict {
        conflict: rehome_core::Conflict::Exists(rehome_core::RecordKey::User(rehome_core::UserId(
            1,
        ))),
        index: 0,
    }
}

fn is_conflict(e: &Error) -> bool {
    matches!(e, Error::Conflict { .. })
}

/// A user with MFA on, logged in twice: a caller and the recovery codes.
async fn mfa_user(w: &World, name: &str) -> Vec<String> {
    user(w, name).await;
    let t = session(login(w, name, PASSWORD).await.expect("login")).access_token;
    let caller = w.core.authenticate(&t, None).await.expect("caller");
    enable_mfa(w, &caller).await.1
}

async fn mfa_token(w: &World, name: &str) -> String {
    match login(w, name, PASSWORD).await.expect("step 1") {
        LoginOutcome::MfaRequired { mfa_token, .. } => mfa_token,
        other => panic!("MFA is on: {other:?}"),
    }
}

/// The failed-login audit commit (a bare `?` before) loses a race: 409, not a store failure.
#[tokio::test]
async fn a_conflicting_failed_login_commit_is_a_conflict() {
    let (w, store) = injecting_world(|c| audits(c, "auth.login_failed"), taken);
    user(&w, "race").await;
    store.arm(1);
    let e = login(&w, "race", "not the password")
        .await
        .expect_err("refused");
    assert!(is_conflict(&e), "{e:?}");
    // The fault is spent: the next wrong password is the plain 401.
    let e = login(&w, "race", "not the password")
        .await
        .expect_err("refused");
    assert!(is_bad_login(&e), "{e:?}");
}

/// The MFA challenge insert (a bare `?` on its retry before) loses both tries: 409.
#[tokio::test]
async fn a_conflicting_mfa_challenge_commit_is_a_conflict() {
    let (w, store) = injecting_world(
        |c| inserts(c, rehome_core::query::Collection::MfaChallenges),
        taken,
    );
    mfa_user(&w, "mfa").await;
    store.arm(2);
    let e = login(&w, "mfa", PASSWORD).await.expect_err("raced twice");
    assert!(is_conflict(&e), "{e:?}");
    mfa_token(&w, "mfa").await;
}

/// A password change whose commit conflicts (another change of the credentials won): 409.
#[tokio::test]
async fn a_conflicting_password_change_is_a_conflict() {
    let (w, store) = injecting_world(|c| audits(c, "auth.password_changed"), taken);
    user(&w, "pw").await;
    let t = session(login(&w, "pw", PASSWORD).await.expect("login")).access_token;
    let caller = w.core.authenticate(&t, None).await.expect("caller");
    store.arm(1);
    let e = w
        .core
        .change_password(
            &caller,
            Some(PASSWORD),
            Some("a much better passphrase"),
            None,
        )
        .await
        .expect_err("raced");
    assert!(is_conflict(&e), "{e:?}");
}

/// The session commit of an MFA login finds its token deleted by a concurrent success with the
/// same recovery code: the loser is told the token is spent (401), not "not found" (404) or a
/// store failure (500).
#[tokio::test]
async fn a_recovery_code_login_that_lost_the_race_is_a_spent_token() {
    let (w, store) = injecting_world(
        |c| inserts(c, rehome_core::query::Collection::Sessions),
        || rehome_core::StoreError::NotFound {
            key: rehome_core::RecordKey::User(rehome_core::UserId(1)),
            index: 0,
        },
    );
    let codes = mfa_user(&w, "spent").await;
    let token = mfa_token(&w, "spent").await;
    store.arm(1);
    let e = w
        .core
        .verify_mfa(&token, MfaCode::Recovery(codes[0].clone()), None)
        .await
        .expect_err("spent meanwhile");
    assert!(
        matches!(e, Error::AuthenticationFailed { ref detail } if detail == "Invalid or expired MFA token."),
        "{e:?}"
    );
}

/// A store that cannot take the call stays the retryable store failure (503), not a conflict.
#[tokio::test]
async fn an_unavailable_store_stays_unavailable() {
    let (w, store) = injecting_world(
        |c| audits(c, "auth.login_failed"),
        || rehome_core::StoreError::unavailable("disk full"),
    );
    user(&w, "full").await;
    store.arm(1);
    let e = login(&w, "full", "not the password")
        .await
        .expect_err("refused");
    assert!(
        matches!(e, Error::Store(rehome_core::StoreError::Unavailable(_))),
        "{e:?}"
    );
}

/// Several uses of one recovery code at once (six MFA tokens, real concurrency): exactly one
/// logs in; every other is refused as a failed login (401), none is a conflict, a 404 or a
/// store failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uses_of_one_recovery_code_give_one_session() {
    let w = world();
    let codes = mfa_user(&w, "twice").await;
    let mut tokens = Vec::new();
    for _ in 0..6 {
        tokens.push(mfa_token(&w, "twice").await);
    }
    let mut tasks = Vec::new();
    for token in tokens {
        let core = w.core.clone();
        let code = codes[3].clone();
        tasks.push(tokio::spawn(async move {
            core.verify_mfa(&token, MfaCode::Recovery(code), None).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(Error::AuthenticationFailed { .. }) => {}
            Err(e) => panic!("a race surfaced as {e:?}"),
        }
    }
    assert_eq!(ok, 1);
}
