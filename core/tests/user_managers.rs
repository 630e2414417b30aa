//! The rules of issue 12's contract change and deviations, in core where they live:
//! a user manager acts only on users holding nothing it lacks; users CRUD needs manageUsers
//! even for one's own record; closed registration refuses everyone; the password change
//! refuses unknown fields. Every expectation is written by hand in the tables below.

use std::sync::Arc;

use rehome_core::error::Error;
use rehome_core::memory::MemoryStore;
use rehome_core::services::accounts::{GrantChange, Registration};
use rehome_core::services::{LoginOutcome, Mode};
use rehome_core::{Caller, Rehome, Store, UserId};
use serde_json::{Value as Json, json};

const PASSWORD: &str = "correct horse battery";

fn core() -> Rehome {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let hasher = rehome_core::auth::Hasher::new(
        rehome_core::auth::PasswordParams::INSECURE_FOR_TESTS,
        Some(1),
    )
    .expect("hasher");
    Rehome::new(store).with_hasher(Arc::new(hasher))
}

/// The cast: `manager` holds manageUsers and readDevices directly; `lesser` readDevices;
/// `greater` readDevices and viewAuditLog; `auditor` viewAuditLog through the role
/// `auditors`; `root` is a superuser. The role `readers` holds readDevices.
struct Cast {
    core: Rehome,
    manager: Caller,
    root: Caller,
}

async fn cast() -> Cast {
    let core = core();
    let sys = Caller::system();
    for (name, perms) in [
        ("readers", json!(["readDevices"])),
        ("auditors", json!(["viewAuditLog"])),
    ] {
        core.create_role(&sys, &json!({"name": name, "permissions": perms}))
            .await
            .expect("role");
    }
    let mut ids = Vec::new();
    for (name, extra) in [
        (
            "manager",
            json!({"permissions": ["manageUsers", "readDevices"]}),
        ),
        ("lesser", json!({"permissions": ["readDevices"]})),
        (
            "greater",
            json!({"permissions": ["readDevices", "viewAuditLog"]}),
        ),
        ("auditor", json!({"role": "auditors"})),
        ("root", json!({"is_superuser": true})),
    ] {
        let mut body = json!({"username": name, "email": format!("{name}@example.org"),
                              "password": PASSWORD});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        ids.push(core.create_user(&sys, &body).await.expect("user").id);
    }
    let manager = core.caller_for(ids[0]).await.expect("caller");
    let root = core.caller_for(ids[4]).await.expect("caller");
    Cast {
        core,
        manager,
        root,
    }
}

async fn id_of(core: &Rehome, name: &str) -> UserId {
    core.find_user(name)
        .await
        .expect("find")
        .expect("exists")
        .id
}

/// What a caller does to a user.
#[derive(Debug, Clone)]
enum Act {
    Patch(Json),
    Put(Json),
    Delete,
    Grants(GrantChange, Json),
    SetPassword,
}

async fn act(c: &Cast, who: &Caller, target: &str, what: &Act) -> Result<(), Error> {
    let id = id_of(&c.core, target).await;
    match what {
        Act::Patch(b) => c
            .core
            .update_user(who, id, b, Mode::Patch, None)
            .await
            .map(drop),
        Act::Put(b) => c
            .core
            .update_user(who, id, b, Mode::Replace, None)
            .await
            .map(drop),
        Act::Delete => c.core.delete_user(who, id, None).await,
        Act::Grants(change, list) => c
            .core
            .change_user_permissions(who, target, *change, list)
            .await
            .map(drop),
        Act::SetPassword => {
            c.core
                .set_password(who, id, "a much better passphrase")
                .await
        }
    }
}

#[tokio::test]
async fn user_managers_act_only_on_users_holding_nothing_they_lack() {
    use Act::*;
    let acts: Vec<Act> = vec![
        Patch(json!({"is_active": false})),
        Patch(json!({"username": "renamed"})),
        Patch(json!({"email": "elsewhere@example.org"})),
        Patch(json!({"role": "readers"})),
        Patch(json!({"role": null})),
        Patch(json!({"permissions": ["readDevices"]})),
        Put(json!({"username": "renamed", "email": "renamed@example.org"})),
        Delete,
        Grants(GrantChange::Remove, json!(["readDevices"])),
        Grants(GrantChange::Replace, json!(["readDevices"])),
        Grants(GrantChange::Clear, Json::Null),
        SetPassword,
    ];
    // Whether the manager may, act by act (in the order above): lesser holds only what the
    // manager holds; greater and auditor (through its role) hold viewAuditLog, which it
    // lacks. A request that changes nothing is answered as things stand (Y): greater has no
    // role to take away; the auditor has no direct grants to remove or clear.
    const Y: bool = true;
    const N: bool = false;
    let table: [(&str, [bool; 12]); 3] = [
        ("lesser", [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y]),
        ("greater", [N, N, N, N, Y, N, N, N, N, N, N, N]),
        ("auditor", [N, N, N, N, N, N, N, N, Y, N, Y, N]),
    ];
    let mut failures = Vec::new();
    for (target, allowed) in table {
        for (a, allowed) in acts.iter().zip(allowed) {
            let c = cast().await;
            let got = act(&c, &c.manager, target, a).await;
            let ok = matches!(
                (&got, allowed),
                (Ok(()), true) | (Err(Error::PermissionDenied), false)
            );
            if !ok {
                failures.push(format!("manager on {target}: {a:?}: {got:?}"));
            }
            // A superuser may do all of it to anyone.
            let c = cast().await;
            if let Err(e) = act(&c, &c.root, target, a).await {
                failures.push(format!("root on {target}: {a:?}: {e:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What the rule leaves alone: names and reactivation (no takeover, nobody cut off), and a
/// request that changes nothing.
#[tokio::test]
async fn names_reactivation_and_no_ops_stay_open_to_user_managers() {
    let c = cast().await;
    let greater = id_of(&c.core, "greater").await;
    c.core
        .update_user(
            &c.manager,
            greater,
            &json!({"first_name": "Gus", "last_name": "Grand"}),
            Mode::Patch,
            None,
        )
        .await
        .expect("names are not standing");
    c.core
        .update_user(
            &c.manager,
            greater,
            &json!({"username": "greater", "email": "greater@example.org"}),
            Mode::Patch,
            None,
        )
        .await
        .expect("the same username and email are no change");
    c.core
        .update_user(
            &c.root,
            greater,
            &json!({"is_active": false}),
            Mode::Patch,
            None,
        )
        .await
        .expect("root deactivates");
    let u = c
        .core
        .update_user(
            &c.manager,
            greater,
            &json!({"is_active": true}),
            Mode::Patch,
            None,
        )
        .await
        .expect("reactivation cuts nobody off");
    assert!(u.is_active);
    let grants = c
        .core
        .change_user_permissions(
            &c.manager,
            "greater",
            GrantChange::Add,
            &json!(["readDevices"]),
        )
        .await
        .expect("already held: no change");
    assert_eq!(grants.names(), ["readDevices", "viewAuditLog"]);
}

#[tokio::test]
async fn users_crud_needs_manage_users_even_for_oneself() {
    let c = cast().await;
    let lesser_id = id_of(&c.core, "lesser").await;
    let lesser = c.core.caller_for(lesser_id).await.expect("caller");
    assert!(matches!(
        c.core.get_user(&lesser, lesser_id).await,
        Err(Error::PermissionDenied)
    ));
    assert_eq!(c.core.me(&lesser).await.expect("me").username, "lesser");
    assert!(matches!(
        c.core.me(&Caller::anonymous()).await,
        Err(Error::InvalidToken)
    ));
    // A user manager reads itself and others there.
    let manager_id = id_of(&c.core, "manager").await;
    c.core
        .get_user(&c.manager, manager_id)
        .await
        .expect("manager reads itself");
    c.core
        .get_user(&c.manager, lesser_id)
        .await
        .expect("manager reads others");
}

#[tokio::test]
async fn closed_registration_refuses_everyone() {
    let c = cast().await;
    let body = json!({"username": "newbie", "email": "newbie@example.org", "password": PASSWORD});
    for who in [Caller::anonymous(), c.manager.clone(), c.root.clone()] {
        let got = c.core.register(&who, &body, Registration::Closed).await;
        assert!(matches!(got, Err(Error::RegistrationClosed)), "{got:?}");
    }
    assert!(c.core.find_user("newbie").await.expect("find").is_none());
    c.core
        .register(&Caller::anonymous(), &body, Registration::Open)
        .await
        .expect("open");
}

#[tokio::test]
async fn the_password_change_refuses_unknown_fields() {
    let c = cast().await;
    let LoginOutcome::Session(grant) = c.core.login("lesser", PASSWORD, None).await.expect("login")
    else {
        panic!("no MFA");
    };
    let caller = c
        .core
        .authenticate(&grant.access_token, None)
        .await
        .expect("caller");
    let e = c
        .core
        .change_password_json(
            &caller,
            &json!({"old_password": PASSWORD, "new_password": "a much better passphrase",
                    "is_superuser": true, "confirm": "x"}),
        )
        .await
        .expect_err("unknown fields");
    match e {
        Error::Validation(f) => {
            let keys: Vec<&String> = f.0.keys().collect();
            assert_eq!(keys, ["confirm", "is_superuser"]);
            assert_eq!(f.get("confirm"), ["Unknown field."]);
        }
        other => panic!("{other:?}"),
    }
    // Nothing changed: the old password still logs in.
    assert!(c.core.login("lesser", PASSWORD, None).await.is_ok());
    c.core
        .change_password_json(
            &caller,
            &json!({"old_password": PASSWORD, "new_password": "a much better passphrase"}),
        )
        .await
        .expect("known fields only");
}
