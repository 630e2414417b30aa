//! A coordinator's resets of another user's password and two-step login (issue 13), and the
//! password change a reset password forces. Who may reset whom follows ADR 0011; every
//! expectation is written by hand in the tables below.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use rehome_core::auth::{Hasher, PasswordParams, TotpKey};
use rehome_core::env::{Clock, ManualClock, SeededRandomness};
use rehome_core::error::Error;
use rehome_core::memory::MemoryStore;
use rehome_core::services::accounts::Registration;
use rehome_core::services::{ListParams, LoginOutcome, MfaCode, Model};
use rehome_core::{Caller, Rehome, Store, UserId};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a much better passphrase";

struct World {
    core: Rehome,
    clock: Arc<ManualClock>,
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
    let core = Rehome::new(store)
        .with_hasher(hasher)
        .with_clock(clock.clone())
        .with_randomness(Arc::new(SeededRandomness::new(13)));
    World { core, clock }
}

/// The cast: `coordinator` holds manageUsers and readDevices; `clerk` manageUsers and
/// viewAuditLog; `lesser` readDevices; `greater` readDevices and viewAuditLog; `auditor`
/// viewAuditLog through the role `auditors`; `root` is a superuser; `plain` holds nothing.
const CAST: [&str; 7] = [
    "coordinator",
    "clerk",
    "lesser",
    "greater",
    "auditor",
    "root",
    "plain",
];

async fn cast(w: &World) {
    let sys = Caller::system();
    w.core
        .create_role(
            &sys,
            &json!({"name": "auditors", "permissions": ["viewAuditLog"]}),
        )
        .await
        .expect("role");
    for name in CAST {
        let extra = match name {
            "coordinator" => json!({"permissions": ["manageUsers", "readDevices"]}),
            "clerk" => json!({"permissions": ["manageUsers", "viewAuditLog"]}),
            "lesser" => json!({"permissions": ["readDevices"]}),
            "greater" => json!({"permissions": ["readDevices", "viewAuditLog"]}),
            "auditor" => json!({"role": "auditors"}),
            "root" => json!({"is_superuser": true}),
            _ => json!({}),
        };
        let mut body = json!({"username": name, "email": format!("{name}@example.org"),
                              "password": PASSWORD});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        w.core.create_user(&sys, &body).await.expect("user");
    }
}

async fn id_of(w: &World, name: &str) -> UserId {
    w.core
        .find_user(name)
        .await
        .expect("find")
        .expect("exists")
        .id
}

async fn caller(w: &World, name: &str) -> Caller {
    let id = id_of(w, name).await;
    w.core.caller_for(id).await.expect("caller")
}

/// What a reset answered, as the table writes it.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Got {
    /// Done.
    Ok,
    /// 403.
    Denied,
    /// 400: oneself.
    Own,
    /// 409: two-step login is not on (the permission check passed).
    NotOn,
}

fn got(r: Result<(), Error>) -> Got {
    match r {
        Ok(()) => Got::Ok,
        Err(Error::PermissionDenied) => Got::Denied,
        Err(Error::Validation(f)) if !f.get("id").is_empty() => Got::Own,
        Err(Error::Conflict { .. }) => Got::NotOn,
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

#[tokio::test]
async fn who_may_reset_whom() {
    use Got::*;
    // Rows: the caller; columns: the target in the order lesser, greater, auditor, root,
    // oneself. The coordinator holds readDevices, so only `lesser` holds nothing it lacks;
    // the clerk holds viewAuditLog, so only `auditor` (through its role); root resets anyone
    // but itself; without manageUsers nobody resets anyone. A two-step reset of a user
    // without two-step login is 409 once the permission check passed.
    let password: [(&str, [Got; 5]); 4] = [
        ("coordinator", [Ok, Denied, Denied, Denied, Own]),
        ("clerk", [Denied, Denied, Ok, Denied, Own]),
        ("root", [Ok, Ok, Ok, Own, Own]),
        ("lesser", [Denied, Denied, Denied, Denied, Denied]),
    ];
    let two_step: [(&str, [Got; 5]); 4] = [
        ("coordinator", [NotOn, Denied, Denied, Denied, Own]),
        ("clerk", [Denied, Denied, NotOn, Denied, Own]),
        ("root", [NotOn, NotOn, NotOn, Own, Own]),
        ("lesser", [Denied, Denied, Denied, Denied, Denied]),
    ];
    let mut failures = Vec::new();
    for (kind, table) in [("password", password), ("two-step", two_step)] {
        for (who, row) in table {
            for (target, want) in ["lesser", "greater", "auditor", "root", "self"]
                .into_iter()
                .zip(row)
            {
                // A fresh world per case: a reset changes its target.
                let w = world();
                cast(&w).await;
                let target = if target == "self" { who } else { target };
                let by = caller(&w, who).await;
                let id = id_of(&w, target).await;
                let before = w.core.find_user(target).await.expect("find");
                let result = match kind {
                    "password" => w.core.reset_password(&by, id).await.map(drop),
                    _ => w.core.reset_two_step(&by, id).await,
                };
                let answer = got(result);
                if answer != want {
                    failures.push(format!(
                        "{kind}: {who} -> {target}: {answer:?}, want {want:?}"
                    ));
                }
                let after = w.core.find_user(target).await.expect("find");
                if answer != Ok && before != after {
                    failures.push(format!("{kind}: {who} -> {target}: refused, but changed"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_reset_password_must_be_changed_before_anything_else() {
    let w = world();
    cast(&w).await;
    let coordinator = caller(&w, "coordinator").await;
    let lesser = id_of(&w, "lesser").await;
    // A session from before the reset ends with it.
    let old = match w.core.login("lesser", PASSWORD, None).await.expect("login") {
        LoginOutcome::Session(s) => s.access_token,
        other => panic!("no MFA expected: {other:?}"),
    };
    let temporary = w
        .core
        .reset_password(&coordinator, lesser)
        .await
        .expect("reset");
    let groups: Vec<&str> = temporary.split('-').collect();
    assert_eq!(groups.len(), 4, "{temporary}");
    for g in &groups {
        assert_eq!(g.len(), 4, "{temporary}");
        assert!(
            g.chars()
                .all(|c| "23456789ABCDEFGHJKLMNPQRSTUVWXYZ".contains(c)),
            "{temporary}"
        );
    }
    assert!(matches!(
        w.core.authenticate(&old, None).await,
        Err(Error::InvalidToken)
    ));
    assert!(matches!(
        w.core.login("lesser", PASSWORD, None).await,
        Err(Error::AuthenticationFailed { .. })
    ));
    let token = match w
        .core
        .login("lesser", &temporary, None)
        .await
        .expect("login")
    {
        LoginOutcome::Session(s) => s.access_token,
        other => panic!("no MFA expected: {other:?}"),
    };
    let me = w.core.authenticate(&token, None).await.expect("token");
    assert!(me.must_change_password());
    assert!(w.core.me(&me).await.expect("me").must_change_password);

    // Everything but reading oneself, changing the password and logging out is refused.
    let refused = [
        (
            "list devices",
            w.core
                .list(&me, Model::Device, &ListParams::default())
                .await
                .map(drop),
        ),
        (
            "lookup",
            w.core
                .lookup_device(&me, Some("SN-1"), None)
                .await
                .map(drop),
        ),
        ("totp setup", w.core.totp_setup(&me).await.map(drop)),
        (
            "set own password",
            w.core.set_password(&me, lesser, NEW_PASSWORD).await,
        ),
        (
            "register",
            w.core
                .register(
                    &me,
                    &json!({"username": "new", "email": "new@example.org", "password": PASSWORD}),
                    Registration::Open,
                )
                .await
                .map(drop),
        ),
    ];
    for (what, r) in refused {
        assert!(
            matches!(r, Err(Error::PasswordChangeRequired)),
            "{what}: {r:?}"
        );
    }
    assert!(me.permissions().is_empty() && !me.is_superuser());

    // The temporary password cannot be kept.
    let same = w
        .core
        .change_password(&me, Some(&temporary), Some(&temporary), None)
        .await;
    assert!(matches!(same, Err(Error::Validation(ref f)) if !f.get("new_password").is_empty()));
    w.core
        .change_password(&me, Some(&temporary), Some(NEW_PASSWORD), None)
        .await
        .expect("change");
    let user = w
        .core
        .find_user("lesser")
        .await
        .expect("find")
        .expect("user");
    assert!(!user.must_change_password);
    // The session that changed it goes on, now with its permissions.
    let me = w.core.authenticate(&token, None).await.expect("token");
    assert!(!me.must_change_password());
    w.core
        .list(&me, Model::Device, &ListParams::default())
        .await
        .expect("list");

    let audit = w
        .core
        .list_audit(
            &Caller::system(),
            &ListParams::new([("object_id", lesser.to_string())]),
        )
        .await
        .expect("audit");
    let actions: Vec<(&str, serde_json::Value)> = audit
        .results
        .iter()
        .filter(|e| e.action.starts_with("auth.password"))
        .map(|e| (e.action.as_str(), e.changes["must_change_password"].clone()))
        .collect();
    assert_eq!(
        actions,
        [
            ("auth.password_changed", json!([true, false])),
            ("auth.password_reset", json!([false, true])),
        ]
    );
    let reset = audit
        .results
        .iter()
        .find(|e| e.action == "auth.password_reset")
        .expect("reset entry");
    assert_eq!(reset.actor_username.as_deref(), Some("coordinator"));
    assert!(!reset.changes.to_string().contains(&temporary));
}

#[tokio::test]
async fn a_two_step_reset_turns_totp_off_and_ends_sessions() {
    let w = world();
    cast(&w).await;
    let lesser = id_of(&w, "lesser").await;
    let token = match w.core.login("lesser", PASSWORD, None).await.expect("login") {
        LoginOutcome::Session(s) => s.access_token,
        other => panic!("no MFA expected: {other:?}"),
    };
    let me = w.core.authenticate(&token, None).await.expect("token");
    let setup = w.core.totp_setup(&me).await.expect("setup");
    let key = TotpKey::from_base32(&setup.secret, "rehome", "lesser").expect("key");
    let code = key.code_at_step(TotpKey::step_of(w.clock.now()));
    w.core.totp_confirm(&me, &code).await.expect("confirm");
    assert!(matches!(
        w.core.login("lesser", PASSWORD, None).await,
        Ok(LoginOutcome::MfaRequired { .. })
    ));

    let coordinator = caller(&w, "coordinator").await;
    w.core
        .reset_two_step(&coordinator, lesser)
        .await
        .expect("reset");
    assert!(matches!(
        w.core.authenticate(&token, None).await,
        Err(Error::InvalidToken)
    ));
    let user = w
        .core
        .find_user("lesser")
        .await
        .expect("find")
        .expect("user");
    assert!(!user.mfa_enabled && !user.must_change_password);
    // The password alone signs in now, and two-step login may be set up again.
    let token = match w.core.login("lesser", PASSWORD, None).await.expect("login") {
        LoginOutcome::Session(s) => s.access_token,
        other => panic!("two-step login should be off: {other:?}"),
    };
    let me = w.core.authenticate(&token, None).await.expect("token");
    w.core.totp_setup(&me).await.expect("setup again");
    assert!(matches!(
        w.core
            .totp_disable(&me, Some(PASSWORD), Some(MfaCode::Totp(code)))
            .await,
        Err(Error::Conflict { .. })
    ));
    let audit = w
        .core
        .list_audit(
            &Caller::system(),
            &ListParams::new([("action", "auth.mfa_reset")]),
        )
        .await
        .expect("audit");
    assert_eq!(audit.count, 1);
    assert_eq!(audit.results[0].object_id, lesser.to_string());
    assert_eq!(
        audit.results[0].changes["mfa_enabled"],
        json!([true, false])
    );
}
