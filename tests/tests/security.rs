//! Security regressions: the four promises of the contract's "no one escalates" rules, each
//! checked here exhaustively, table-driven, with every expectation written by hand from
//! the contract (`docs/api.md`, "Permissions", "No escalation", "Users"):
//!
//! 1. registration cannot grant any permission;
//! 2. a user without `manageUsers` cannot raise its own or anyone's role, permissions,
//!    superuser flag or active flag through any route (holding a role does not let it edit
//!    that role);
//! 3. a `manageUsers` holder cannot grant what it lacks, directly or through a role, cannot
//!    create or edit a role whose permissions it lacks, cannot set `is_superuser` and cannot
//!    change a superuser; it deactivates, deletes, renames, or changes the email, role, grants
//!    or password of a user only when it holds every permission that user holds
//!    (`docs/adr/0011-user-managers-act-on-lesser-users.md`);
//! 4. tokens of deactivated or deleted users stop working on the very next request (every
//!    session, and a pending MFA challenge), and reactivation does not bring them back.
//!
//! Every row of the tables runs on a fresh app, and after every row the privileges of every
//! user and role (superuser flag, active flag, role, direct grants; role permissions) are
//! compared with the row's hand-written expectation: unchanged for a refusal, exactly the
//! intended change for a success.

use std::collections::BTreeMap;

use rehome_core::query::Collection;
use rehome_core::services::Mode;
use rehome_core::{Caller, Record, UserId};
use rehome_tests::{PASSWORD, Req, TestApp, totp};
use serde_json::{Value as Json, json};

// ---------------------------------------------------------------------------- privileges

/// What a user or role holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    superuser: bool,
    active: bool,
    role: Option<String>,
    /// Direct grants (users) or the role's permissions (roles), sorted.
    perms: Vec<String>,
}

/// Every user (`user:name`) and role (`role:name`) with what it holds, read from the store.
type Privileges = BTreeMap<String, Held>;

async fn privileges(app: &TestApp) -> Privileges {
    let mut out = BTreeMap::new();
    for c in [Collection::Users, Collection::Roles] {
        for r in app
            .core
            .store()
            .scan(c, None, 10_000)
            .await
            .expect("a scan")
        {
            match r {
                Record::User(u) => {
                    out.insert(
                        format!("user:{}", u.username),
                        Held {
                            superuser: u.is_superuser,
                            active: u.is_active,
                            role: u.role.clone(),
                            perms: names(u.permissions.names()),
                        },
                    );
                }
                Record::Role(r) => {
                    out.insert(
                        format!("role:{}", r.name),
                        Held {
                            superuser: false,
                            active: true,
                            role: None,
                            perms: names(r.permissions.names()),
                        },
                    );
                }
                _ => {}
            }
        }
    }
    out
}

fn names(v: Vec<&str>) -> Vec<String> {
    let mut v: Vec<String> = v.into_iter().map(str::to_owned).collect();
    v.sort();
    v
}

fn perms(v: &[&str]) -> Vec<String> {
    names(v.to_vec())
}

/// The contract's twelve permission names.
const ALL: [&str; 12] = [
    "readDevices",
    "createDevices",
    "editDevices",
    "deleteDevices",
    "scanDevices",
    "bulkUploadDevices",
    "manageWarehouses",
    "manageDonors",
    "manageShipments",
    "generateQRCodes",
    "manageUsers",
    "viewAuditLog",
];

/// Every permission but `manageUsers`.
fn all_but_manage_users() -> Vec<&'static str> {
    ALL.into_iter().filter(|p| *p != "manageUsers").collect()
}

// ------------------------------------------------------------------------------ the cast

/// The people of every row:
/// - `root`: a superuser;
/// - `eve`: every permission but `manageUsers` (direct grants), and the role `clerks`;
/// - `mallory`: `manageUsers` through the role `managers`, `readDevices` directly;
/// - `bob`: nothing.
///
/// Roles: `admins` (all twelve), `readers` (readDevices), `auditors` (viewAuditLog),
/// `managers` (manageUsers), `clerks` (readDevices, scanDevices).
struct Cast {
    app: TestApp,
    ids: BTreeMap<&'static str, i64>,
    tokens: BTreeMap<&'static str, String>,
}

async fn cast() -> Cast {
    let app = TestApp::new();
    for (name, p) in [
        ("admins", ALL.to_vec()),
        ("readers", vec!["readDevices"]),
        ("auditors", vec!["viewAuditLog"]),
        ("managers", vec!["manageUsers"]),
        ("clerks", vec!["readDevices", "scanDevices"]),
    ] {
        app.core
            .create_role(&Caller::system(), &json!({"name": name, "permissions": p}))
            .await
            .expect("a role");
    }
    let mut ids = BTreeMap::new();
    ids.insert(
        "root",
        app.create_user("root", json!({"is_superuser": true})).await,
    );
    ids.insert(
        "eve",
        app.create_user(
            "eve",
            json!({"permissions": all_but_manage_users(), "role": "clerks"}),
        )
        .await,
    );
    ids.insert(
        "mallory",
        app.create_user(
            "mallory",
            json!({"permissions": ["readDevices"], "role": "managers"}),
        )
        .await,
    );
    ids.insert("bob", app.create_user("bob", json!({})).await);
    let mut tokens = BTreeMap::new();
    for who in ["root", "eve", "mallory", "bob"] {
        tokens.insert(who, app.login(who).await);
    }
    Cast { app, ids, tokens }
}

impl Cast {
    fn fill(&self, path: &str) -> String {
        let mut p = path.to_owned();
        for (name, id) in &self.ids {
            p = p.replace(&format!("{{{name}}}"), &id.to_string());
        }
        p
    }
}

/// One request of a table: who sends what, the status the contract gives, and how the
/// privileges change (`None`: not at all).
struct Row {
    who: Option<&'static str>,
    method: &'static str,
    path: &'static str,
    body: Json,
    want: u16,
    change: Option<fn(&mut Privileges)>,
}

fn row(
    who: Option<&'static str>,
    method: &'static str,
    path: &'static str,
    body: Json,
    want: u16,
) -> Row {
    Row {
        who,
        method,
        path,
        body,
        want,
        change: None,
    }
}

fn changing(mut r: Row, change: fn(&mut Privileges)) -> Row {
    r.change = Some(change);
    r
}

fn user<'a>(p: &'a mut Privileges, name: &str) -> &'a mut Held {
    p.get_mut(&format!("user:{name}"))
        .unwrap_or_else(|| panic!("no user {name}"))
}

fn new_user(p: &mut Privileges, name: &str, role: Option<&str>, granted: &[&str]) {
    p.insert(
        format!("user:{name}"),
        Held {
            superuser: false,
            active: true,
            role: role.map(str::to_owned),
            perms: perms(granted),
        },
    );
}

/// Runs every row on a fresh cast; answers the failures.
async fn run(rows: Vec<Row>) -> Vec<String> {
    let mut failures = Vec::new();
    for r in rows {
        let c = cast().await;
        let before = privileges(&c.app).await;
        let path = c.fill(r.path);
        let mut req = Req::new(r.method, &path);
        if let Some(who) = r.who {
            req = req.token(&c.tokens[who]);
        }
        if !r.body.is_null() {
            req = req.json(&r.body);
        }
        let resp = c.app.send(req).await;
        let label = format!(
            "{} {path} as {} with {}",
            r.method,
            r.who.unwrap_or("nobody"),
            r.body
        );
        if resp.status.as_u16() != r.want {
            failures.push(format!(
                "{label}: got {}, want {} ({})",
                resp.status.as_u16(),
                r.want,
                resp.text()
            ));
        }
        let mut expected = before.clone();
        if let Some(change) = r.change {
            change(&mut expected);
        }
        let after = privileges(&c.app).await;
        if after != expected {
            let diff: Vec<String> = expected
                .keys()
                .chain(after.keys())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .filter(|k| expected.get(*k) != after.get(*k))
                .map(|k| format!("{k}: want {:?}, got {:?}", expected.get(k), after.get(k)))
                .collect();
            failures.push(format!("{label}: privileges {}", diff.join("; ")));
        }
    }
    failures
}

fn check(failures: Vec<String>, rows: usize) {
    println!("{rows} rows, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {rows} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn newbie(extra: Json) -> Json {
    let mut b = json!({"username": "newbie", "email": "newbie@example.org", "password": PASSWORD});
    if let (Some(b), Some(e)) = (b.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    b
}

fn plain_newbie(p: &mut Privileges) {
    new_user(p, "newbie", None, &[]);
}

// ------------------------------------------------------- 1. registration grants nothing

/// Every privileged field name (the contract's and the ones other frameworks use), as
/// anonymous and as an authenticated user without `manageUsers`.
#[tokio::test]
async fn registration_cannot_grant_any_permission() {
    // (field, value, status): the contract refuses `is_superuser`, `role`, `permissions`
    // (and core `is_active`) from anyone without manageUsers whatever the value; names it
    // does not know are unknown fields (400); read-only fields are ignored (201, and the
    // user holds nothing).
    let table: Vec<(&str, Json, u16)> = vec![
        ("is_superuser", json!(true), 400),
        ("is_superuser", json!(false), 400),
        ("is_superuser", json!("true"), 400),
        ("is_superuser", json!(1), 400),
        ("is_superuser", Json::Null, 400),
        ("permissions", json!(["manageUsers"]), 400),
        ("permissions", json!(ALL), 400),
        ("permissions", json!([]), 400),
        ("permissions", json!("manageUsers"), 400),
        ("role", json!("admins"), 400),
        ("role", json!("managers"), 400),
        ("role", Json::Null, 400),
        ("is_active", json!(true), 400),
        ("is_staff", json!(true), 400),
        ("role_id", json!(1), 400),
        ("groups", json!(["admins"]), 400),
        ("user_permissions", json!(["manageUsers"]), 400),
        ("IS_SUPERUSER", json!(true), 400),
        ("isSuperuser", json!(true), 400),
        ("superuser", json!(true), 400),
        ("admin", json!(true), 400),
        ("user", json!({"is_superuser": true}), 400),
        ("effective_permissions", json!(ALL), 201),
        ("mfa_enabled", json!(true), 201),
        ("last_login", json!("2026-01-01T00:00:00Z"), 201),
        ("date_joined", json!("2000-01-01T00:00:00Z"), 201),
    ];
    let mut rows = Vec::new();
    for who in [None, Some("eve"), Some("bob")] {
        for (field, value, want) in &table {
            let r = row(
                who,
                "POST",
                "/users/register/",
                newbie(json!({ *field: value.clone() })),
                *want,
            );
            rows.push(if *want == 201 {
                changing(r, plain_newbie)
            } else {
                r
            });
        }
        // The id is read-only: it cannot name (and so overwrite) the superuser.
        rows.push(changing(
            row(
                who,
                "POST",
                "/users/register/",
                newbie(json!({"id": 1})),
                201,
            ),
            plain_newbie,
        ));
        // Taking an existing name or email, in any case: a conflict, nothing changes.
        for (field, value) in [
            ("username", "root"),
            ("username", "ROOT"),
            ("email", "ROOT@example.org"),
        ] {
            rows.push(row(
                who,
                "POST",
                "/users/register/",
                newbie(json!({ field: value })),
                409,
            ));
        }
        // A plain registration: no role, no permissions.
        rows.push(changing(
            row(who, "POST", "/users/register/", newbie(json!({})), 201),
            plain_newbie,
        ));
    }
    let n = rows.len();
    check(run(rows).await, n);

    // Duplicate keys: the last one counts, and it is a privileged field all the same.
    let c = cast().await;
    let body = format!(
        "{{\"username\":\"dup\",\"email\":\"dup@example.org\",\"password\":\"{PASSWORD}\",\
         \"is_superuser\":false,\"is_superuser\":true}}"
    );
    c.app
        .send(Req::new("POST", "/users/register/").raw("application/json", body.into_bytes()))
        .await
        .expect(400);

    // A registered user holds nothing: its own view, and what it may do.
    let created = c
        .app
        .send(Req::new("POST", "/users/register/").json(&newbie(json!({
            "effective_permissions": ALL, "mfa_enabled": true
        }))))
        .await
        .expect(201)
        .json();
    assert_eq!(created["permissions"], json!([]));
    assert_eq!(created["effective_permissions"], json!([]));
    assert_eq!(created["is_superuser"], false);
    assert_eq!(created["role"], Json::Null);
    assert_eq!(created["mfa_enabled"], false);
    assert_ne!(created["id"], json!(1));
    let token = c.app.login("newbie").await;
    let me = c.app.get("/authen/me/", &token).await.expect(200).json();
    assert_eq!(me["effective_permissions"], json!([]));
    c.app.get("/users/users/", &token).await.expect(403);
    c.app.get("/inventory/devices/", &token).await.expect(403);
}

// ---------------------------------------------- 2. no manageUsers: no change to anyone

#[tokio::test]
async fn without_manage_users_no_route_changes_privileges() {
    let privileged: Vec<Json> = vec![
        json!({"is_superuser": true}),
        json!({"permissions": ["manageUsers"]}),
        json!({"permissions": ALL}),
        json!({"role": "admins"}),
        json!({"role": "managers"}),
        json!({"role": null}),
        json!({"is_active": false}),
        json!({"is_staff": true}),
        json!({"role_id": 1}),
        json!({"groups": ["admins"]}),
        json!({"user_permissions": ["manageUsers"]}),
    ];
    let mut rows = Vec::new();
    for who in ["eve", "bob"] {
        // Users: own record, another user's, the superuser's; PATCH and PUT.
        for target in [
            "/users/users/{eve}/",
            "/users/users/{bob}/",
            "/users/users/{root}/",
        ] {
            for body in &privileged {
                rows.push(row(Some(who), "PATCH", target, body.clone(), 403));
                let mut full = json!({"username": "x-user", "email": "x@example.org"});
                if let (Some(f), Some(b)) = (full.as_object_mut(), body.as_object()) {
                    f.extend(b.clone());
                }
                rows.push(row(Some(who), "PUT", target, full, 403));
            }
            rows.push(row(Some(who), "DELETE", target, Json::Null, 403));
        }
        rows.push(row(
            Some(who),
            "POST",
            "/users/users/",
            newbie(json!({"is_superuser": true})),
            403,
        ));
        rows.push(row(
            Some(who),
            "POST",
            "/users/users/",
            newbie(json!({})),
            403,
        ));
        // Direct grants, own and others'.
        for target in ["eve", "bob", "root"] {
            let path: &'static str = match target {
                "eve" => "/users/user-permissions/eve/",
                "bob" => "/users/user-permissions/bob/",
                _ => "/users/user-permissions/root/",
            };
            for method in ["PATCH", "PUT", "DELETE"] {
                rows.push(row(
                    Some(who),
                    method,
                    path,
                    json!({"permissions": ["manageUsers"]}),
                    403,
                ));
            }
            let clear: &'static str = match target {
                "eve" => "/users/user-permissions/eve/clear/",
                "bob" => "/users/user-permissions/bob/clear/",
                _ => "/users/user-permissions/root/clear/",
            };
            rows.push(row(Some(who), "DELETE", clear, Json::Null, 403));
        }
        // Roles: a new one, the one eve holds, one with everything.
        rows.push(row(
            Some(who),
            "POST",
            "/admin/roles/",
            json!({"name": "mine", "permissions": ["manageUsers"]}),
            403,
        ));
        rows.push(row(
            Some(who),
            "POST",
            "/admin/roles/",
            json!({"name": "mine", "permissions": []}),
            403,
        ));
        for role in ["/admin/roles/clerks/", "/admin/roles/readers/"] {
            rows.push(row(
                Some(who),
                "PATCH",
                role,
                json!({"permissions": ALL}),
                403,
            ));
            rows.push(row(
                Some(who),
                "PUT",
                role,
                json!({"name": "clerks", "permissions": ALL}),
                403,
            ));
            rows.push(row(Some(who), "DELETE", role, Json::Null, 403));
        }
        // No profile route takes writes: `me/` is read-only.
        for method in ["PATCH", "PUT", "POST"] {
            rows.push(row(
                Some(who),
                method,
                "/authen/me/",
                json!({"is_superuser": true, "permissions": ALL}),
                405,
            ));
        }
        // Registering while logged in: the same refusal as anonymous.
        rows.push(row(
            Some(who),
            "POST",
            "/users/register/",
            newbie(json!({"permissions": ["manageUsers"]})),
            400,
        ));
        // The superuser-only route.
        rows.push(row(
            Some(who),
            "POST",
            "/inventory/generate-mock-data/",
            json!({}),
            403,
        ));
    }
    // eve may run batches, but users are no batch model (400 for eve, who holds
    // bulkUploadDevices; 403 for bob, who does not).
    for (who, want) in [("eve", 400), ("bob", 403)] {
        rows.push(row(
            Some(who),
            "POST",
            "/inventory/batch/",
            json!({"operations": [{"op": "update", "model": "user", "id": 2, "data": {"is_superuser": true}}]}),
            want,
        ));
    }
    rows.push(row(
        Some("eve"),
        "PATCH",
        "/inventory/batch/?model=user",
        json!({"objects": [{"id": 2, "is_superuser": true}]}),
        400,
    ));
    rows.push(row(
        Some("eve"),
        "DELETE",
        "/inventory/batch/?model=user",
        json!({"ids": [1, 3]}),
        400,
    ));
    // The password route takes only passwords: privileged fields beside them are unknown
    // fields (400 naming them), and nothing changes, the password included.
    rows.push(row(
        Some("eve"),
        "PATCH",
        "/users/password/",
        json!({
            "old_password": PASSWORD, "new_password": "Another-Lantern-77",
            "is_superuser": true, "permissions": ["manageUsers"], "role": "admins"
        }),
        400,
    ));
    // Users CRUD needs manageUsers, for one's own record too (a user reads itself at
    // /authen/me/): 403, nothing changes.
    rows.push(row(
        Some("eve"),
        "GET",
        "/users/users/{eve}/",
        Json::Null,
        403,
    ));
    let n = rows.len();
    check(run(rows).await, n);
}

// ------------------------------------------- 3. a user manager grants only what it has

#[tokio::test]
async fn a_user_manager_cannot_grant_what_it_lacks() {
    let m = Some("mallory");
    let mut rows = vec![
        // Creating users.
        row(
            m,
            "POST",
            "/users/users/",
            newbie(json!({"permissions": ["viewAuditLog"]})),
            403,
        ),
        row(
            m,
            "POST",
            "/users/users/",
            newbie(json!({"permissions": ALL})),
            403,
        ),
        changing(
            row(
                m,
                "POST",
                "/users/users/",
                newbie(json!({"permissions": ["readDevices"]})),
                201,
            ),
            |p| new_user(p, "newbie", None, &["readDevices"]),
        ),
        changing(
            row(
                m,
                "POST",
                "/users/users/",
                newbie(json!({"permissions": ["manageUsers", "readDevices"]})),
                201,
            ),
            |p| new_user(p, "newbie", None, &["manageUsers", "readDevices"]),
        ),
        row(
            m,
            "POST",
            "/users/users/",
            newbie(json!({"role": "admins"})),
            403,
        ),
        row(
            m,
            "POST",
            "/users/users/",
            newbie(json!({"role": "auditors"})),
            403,
        ),
        changing(
            row(
                m,
                "POST",
                "/users/users/",
                newbie(json!({"role": "readers"})),
                201,
            ),
            |p| new_user(p, "newbie", Some("readers"), &[]),
        ),
        changing(
            row(
                m,
                "POST",
                "/users/users/",
                newbie(json!({"role": "managers"})),
                201,
            ),
            |p| new_user(p, "newbie", Some("managers"), &[]),
        ),
        row(
            m,
            "POST",
            "/users/users/",
            newbie(json!({"is_superuser": true})),
            403,
        ),
        changing(
            row(
                m,
                "POST",
                "/users/users/",
                newbie(json!({"is_superuser": false})),
                201,
            ),
            plain_newbie,
        ),
        // Registering as a user manager is creating a user: the same rules.
        row(
            m,
            "POST",
            "/users/register/",
            newbie(json!({"permissions": ["viewAuditLog"]})),
            403,
        ),
        row(
            m,
            "POST",
            "/users/register/",
            newbie(json!({"is_superuser": true})),
            403,
        ),
        row(
            m,
            "POST",
            "/users/register/",
            newbie(json!({"role": "admins"})),
            403,
        ),
        changing(
            row(
                m,
                "POST",
                "/users/register/",
                newbie(json!({"permissions": ["readDevices"]})),
                201,
            ),
            |p| new_user(p, "newbie", None, &["readDevices"]),
        ),
        // Editing another user.
        row(
            m,
            "PATCH",
            "/users/users/{bob}/",
            json!({"permissions": ["viewAuditLog"]}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/users/users/{bob}/",
            json!({"permissions": ["readDevices", "viewAuditLog"]}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/users/users/{bob}/",
            json!({"role": "admins"}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/users/users/{bob}/",
            json!({"role": "auditors"}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/users/users/{bob}/",
            json!({"is_superuser": true}),
            403,
        ),
        row(
            m,
            "PUT",
            "/users/users/{bob}/",
            json!({"username": "bob", "email": "bob@example.org", "permissions": ALL}),
            403,
        ),
        changing(
            row(
                m,
                "PATCH",
                "/users/users/{bob}/",
                json!({"permissions": ["readDevices"]}),
                200,
            ),
            |p| user(p, "bob").perms = perms(&["readDevices"]),
        ),
        changing(
            row(
                m,
                "PATCH",
                "/users/users/{bob}/",
                json!({"role": "readers"}),
                200,
            ),
            |p| user(p, "bob").role = Some("readers".into()),
        ),
        changing(
            row(
                m,
                "PATCH",
                "/users/users/{bob}/",
                json!({"is_active": false}),
                200,
            ),
            |p| user(p, "bob").active = false,
        ),
        // Editing itself.
        row(
            m,
            "PATCH",
            "/users/users/{mallory}/",
            json!({"permissions": ["readDevices", "viewAuditLog"]}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/users/users/{mallory}/",
            json!({"role": "admins"}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/users/users/{mallory}/",
            json!({"is_superuser": true}),
            403,
        ),
        // Direct grants.
        row(
            m,
            "PATCH",
            "/users/user-permissions/bob/",
            json!({"permissions": ["viewAuditLog"]}),
            403,
        ),
        row(
            m,
            "PUT",
            "/users/user-permissions/bob/",
            json!({"permissions": ["viewAuditLog"]}),
            403,
        ),
        row(
            m,
            "PUT",
            "/users/user-permissions/bob/",
            json!({"permissions": ALL}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/users/user-permissions/mallory/",
            json!({"permissions": ["viewAuditLog"]}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/users/user-permissions/MALLORY/",
            json!({"permissions": ["viewAuditLog"]}),
            403,
        ),
        changing(
            row(
                m,
                "PUT",
                "/users/user-permissions/bob/",
                json!({"permissions": ["readDevices"]}),
                200,
            ),
            |p| user(p, "bob").perms = perms(&["readDevices"]),
        ),
        // It holds manageUsers through its role, so it may grant it directly.
        changing(
            row(
                m,
                "PATCH",
                "/users/user-permissions/mallory/",
                json!({"permissions": ["manageUsers"]}),
                200,
            ),
            |p| user(p, "mallory").perms = perms(&["manageUsers", "readDevices"]),
        ),
        // Roles: create or edit only roles whose permissions it has, before and after.
        row(
            m,
            "POST",
            "/admin/roles/",
            json!({"name": "mine", "permissions": ["viewAuditLog"]}),
            403,
        ),
        changing(
            row(
                m,
                "POST",
                "/admin/roles/",
                json!({"name": "mine", "permissions": ["readDevices"]}),
                201,
            ),
            |p| {
                p.insert(
                    "role:mine".into(),
                    Held {
                        superuser: false,
                        active: true,
                        role: None,
                        perms: perms(&["readDevices"]),
                    },
                );
            },
        ),
        row(
            m,
            "PATCH",
            "/admin/roles/readers/",
            json!({"permissions": ["readDevices", "viewAuditLog"]}),
            403,
        ),
        // The role it holds: adding to it is granting to itself.
        row(
            m,
            "PATCH",
            "/admin/roles/managers/",
            json!({"permissions": ["manageUsers", "viewAuditLog"]}),
            403,
        ),
        row(
            m,
            "PUT",
            "/admin/roles/managers/",
            json!({"name": "managers", "permissions": ALL}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/admin/roles/admins/",
            json!({"description": "harmless?"}),
            403,
        ),
        row(
            m,
            "PUT",
            "/admin/roles/auditors/",
            json!({"name": "auditors", "permissions": []}),
            403,
        ),
        row(m, "DELETE", "/admin/roles/admins/", Json::Null, 403),
        changing(
            row(
                m,
                "PATCH",
                "/admin/roles/readers/",
                json!({"permissions": []}),
                200,
            ),
            |p| p.get_mut("role:readers").expect("readers").perms = Vec::new(),
        ),
        // Superusers: only a superuser sets the flag or changes a superuser.
        row(
            m,
            "PATCH",
            "/users/users/{root}/",
            json!({"first_name": "Mallory's puppet"}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/users/users/{root}/",
            json!({"is_active": false}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/users/users/{root}/",
            json!({"is_superuser": false}),
            403,
        ),
        row(
            m,
            "PATCH",
            "/users/users/{root}/",
            json!({"password": "Another-Lantern-77"}),
            403,
        ),
        row(
            m,
            "PUT",
            "/users/users/{root}/",
            json!({"username": "root", "email": "root@example.org"}),
            403,
        ),
        row(m, "DELETE", "/users/users/{root}/", Json::Null, 403),
        row(
            m,
            "PATCH",
            "/users/user-permissions/root/",
            json!({"permissions": ["readDevices"]}),
            403,
        ),
        row(
            m,
            "DELETE",
            "/users/user-permissions/root/",
            json!({"permissions": ["readDevices"]}),
            403,
        ),
        row(
            m,
            "DELETE",
            "/users/user-permissions/root/clear/",
            Json::Null,
            403,
        ),
        // The superuser may do all of it (positive controls).
        changing(
            row(
                Some("root"),
                "PATCH",
                "/users/users/{bob}/",
                json!({"is_superuser": true}),
                200,
            ),
            |p| user(p, "bob").superuser = true,
        ),
        changing(
            row(
                Some("root"),
                "PATCH",
                "/users/users/{mallory}/",
                json!({"role": "admins"}),
                200,
            ),
            |p| user(p, "mallory").role = Some("admins".into()),
        ),
        changing(
            row(
                Some("root"),
                "PATCH",
                "/admin/roles/managers/",
                json!({"permissions": ALL}),
                200,
            ),
            |p| p.get_mut("role:managers").expect("managers").perms = perms(&ALL),
        ),
    ];
    // Names the contract does not know are unknown fields, for a user manager too.
    for body in [
        json!({"is_staff": true}),
        json!({"groups": ["admins"]}),
        json!({"user_permissions": ["viewAuditLog"]}),
        json!({"role_id": 1}),
        json!({"IS_SUPERUSER": true}),
    ] {
        rows.push(row(m, "PATCH", "/users/users/{bob}/", body.clone(), 400));
        rows.push(row(m, "POST", "/users/users/", newbie(body), 400));
    }
    // A user manager acts only on users holding nothing it lacks (the contract change of
    // issue 12): eve holds permissions mallory lacks, so mallory may not deactivate, delete,
    // rename her, or change her email, role or direct grants; nothing changes.
    for body in [
        json!({"is_active": false}),
        json!({"username": "eve2"}),
        json!({"email": "eve@elsewhere.example"}),
        json!({"role": "readers"}),
        json!({"role": null}),
        json!({"permissions": ["readDevices"]}),
    ] {
        rows.push(row(m, "PATCH", "/users/users/{eve}/", body, 403));
    }
    rows.push(row(
        m,
        "PUT",
        "/users/users/{eve}/",
        json!({"username": "eve2", "email": "eve@example.org"}),
        403,
    ));
    rows.push(row(m, "DELETE", "/users/users/{eve}/", Json::Null, 403));
    rows.push(row(
        m,
        "PUT",
        "/users/user-permissions/eve/",
        json!({"permissions": ["readDevices"]}),
        403,
    ));
    rows.push(row(
        m,
        "DELETE",
        "/users/user-permissions/eve/",
        json!({"permissions": ["viewAuditLog"]}),
        403,
    ));
    rows.push(row(
        m,
        "DELETE",
        "/users/user-permissions/eve/clear/",
        Json::Null,
        403,
    ));
    // Her names are no standing: changing them takes nothing over and cuts nobody off.
    rows.push(changing(
        row(
            m,
            "PATCH",
            "/users/users/{eve}/",
            json!({"first_name": "Evelyn"}),
            200,
        ),
        |_| {},
    ));
    // bob holds nothing mallory lacks: all of it is allowed on him (positive controls).
    rows.push(changing(
        row(m, "DELETE", "/users/users/{bob}/", Json::Null, 204),
        |p| {
            p.remove("user:bob");
        },
    ));
    rows.push(changing(
        row(
            m,
            "PATCH",
            "/users/users/{bob}/",
            json!({"username": "robert", "email": "robert@example.org"}),
            200,
        ),
        |p| {
            let held = p.remove("user:bob").expect("bob");
            p.insert("user:robert".into(), held);
        },
    ));
    // The superuser may act on eve (positive controls).
    rows.push(changing(
        row(
            Some("root"),
            "PATCH",
            "/users/users/{eve}/",
            json!({"is_active": false}),
            200,
        ),
        |p| user(p, "eve").active = false,
    ));
    rows.push(changing(
        row(
            Some("root"),
            "DELETE",
            "/users/users/{eve}/",
            Json::Null,
            204,
        ),
        |p| {
            p.remove("user:eve");
        },
    ));
    // A user manager takes over no account that holds more than it: setting the password
    // of eve (who holds permissions mallory lacks) would let mallory log in as eve.
    rows.push(row(
        m,
        "PATCH",
        "/users/users/{eve}/",
        json!({"password": "Another-Lantern-77"}),
        403,
    ));
    rows.push(changing(
        row(
            m,
            "PATCH",
            "/users/users/{bob}/",
            json!({"password": "Another-Lantern-77"}),
            200,
        ),
        |_| {},
    ));
    let n = rows.len();
    check(run(rows).await, n);
}

// ----------------------------------- 4. deactivated or deleted: every token dies at once

/// A victim with two live sessions and a pending MFA challenge (MFA on), and what it takes
/// to check them.
struct Victim {
    id: i64,
    tokens: [String; 2],
    mfa_token: String,
    secret: String,
}

async fn victim(app: &TestApp) -> Victim {
    let id = app
        .create_user("victim", json!({"permissions": ["readDevices"]}))
        .await;
    let first = app.login("victim").await;
    // MFA on, then a second session and a pending challenge through the two-step login.
    let secret = app
        .send(Req::new("POST", "/authen/mfa/totp/setup/").token(&first))
        .await
        .expect(200)
        .json()["secret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    let now = app.core.now().timestamp();
    app.call(
        "POST",
        "/authen/mfa/totp/confirm/",
        &first,
        &json!({"code": totp(&secret, now)}),
    )
    .await
    .expect(200);
    // The confirm used this time step: the second login's code is the next one.
    app.clock.advance(chrono::TimeDelta::seconds(30));
    let t = mfa_step(app).await;
    let second = app
        .send(
            Req::new("POST", "/authen/mfa/verify/")
                .json(&json!({"mfa_token": t, "code": totp(&secret, app.core.now().timestamp())})),
        )
        .await
        .expect(200)
        .json()["tokens"]["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let mfa_token = mfa_step(app).await;
    // Both sessions work before anything happens.
    for t in [&first, &second] {
        app.get("/authen/me/", t).await.expect(200);
    }
    Victim {
        id,
        tokens: [first, second],
        mfa_token,
        secret,
    }
}

/// The password step of the victim's login: its MFA token.
async fn mfa_step(app: &TestApp) -> String {
    app.send(
        Req::new("POST", "/authen/login/")
            .json(&json!({"username": "victim", "password": PASSWORD})),
    )
    .await
    .expect(200)
    .json()["mfa_token"]
        .as_str()
        .expect("an MFA token")
        .to_owned()
}

/// Every token of the victim is refused on its very next request, on every kind of route;
/// the pending MFA challenge is refused even with the right code.
async fn assert_all_dead(app: &TestApp, v: &Victim, when: &str) {
    for t in &v.tokens {
        for (method, path) in [
            ("GET", "/authen/me/"),
            ("GET", "/inventory/devices/"),
            ("POST", "/authen/logout/"),
            ("POST", "/authen/mfa/totp/setup/"),
        ] {
            let r = app.send(Req::new(method, path).token(t)).await;
            assert_eq!(r.status, 401, "{when}: {method} {path}: {}", r.text());
            assert_eq!(
                r.json(),
                json!({"detail": "Invalid or expired token."}),
                "{when}: {method} {path}"
            );
        }
    }
    // A code of the next time step (never used), so only the challenge can be at fault.
    let code = totp(&v.secret, app.core.now().timestamp() + 30);
    let r = app
        .send(
            Req::new("POST", "/authen/mfa/verify/")
                .json(&json!({"mfa_token": v.mfa_token, "code": code})),
        )
        .await;
    assert_eq!(r.status, 401, "{when}: MFA verify: {}", r.text());
}

async fn sessions_of(app: &TestApp, id: i64) -> usize {
    let mut n = 0;
    for c in [Collection::Sessions, Collection::MfaChallenges] {
        for r in app
            .core
            .store()
            .scan(c, None, 10_000)
            .await
            .expect("a scan")
        {
            match r {
                Record::Session(s) if s.user.0 == id => n += 1,
                Record::MfaChallenge(m) if m.user.0 == id => n += 1,
                _ => {}
            }
        }
    }
    n
}

#[tokio::test]
async fn deactivated_or_deleted_users_tokens_die_at_once() {
    // (how, whether it deletes): every way to deactivate or delete a user.
    let ways: [(&str, bool); 7] = [
        ("PATCH is_active=false as the superuser", false),
        ("PUT is_active=false as the superuser", false),
        ("PATCH is_active=false as a user manager", false),
        (
            "core update_user as the operator (rehome users deactivate)",
            false,
        ),
        ("DELETE as the superuser", true),
        ("DELETE as a user manager", true),
        ("core delete_user as the operator", true),
    ];
    for (how, deletes) in ways {
        let app = TestApp::new();
        let (_, root) = app.superuser("root").await;
        let (_, manager) = app
            .user_with("manager", &["manageUsers", "readDevices"])
            .await;
        let v = victim(&app).await;
        assert_eq!(
            sessions_of(&app, v.id).await,
            3,
            "two sessions, one challenge"
        );
        let path = format!("/users/users/{}/", v.id);
        match how {
            "PATCH is_active=false as the superuser" => {
                app.call("PATCH", &path, &root, &json!({"is_active": false}))
                    .await
                    .expect(200);
            }
            "PUT is_active=false as the superuser" => {
                app.call(
                    "PUT",
                    &path,
                    &root,
                    &json!({"username": "victim", "email": "victim@example.org", "is_active": false}),
                )
                .await
                .expect(200);
            }
            "PATCH is_active=false as a user manager" => {
                app.call("PATCH", &path, &manager, &json!({"is_active": false}))
                    .await
                    .expect(200);
            }
            "core update_user as the operator (rehome users deactivate)" => {
                app.core
                    .update_user(
                        &Caller::system(),
                        UserId(v.id),
                        &json!({"is_active": false}),
                        Mode::Patch,
                        None,
                    )
                    .await
                    .expect("deactivated");
            }
            "DELETE as the superuser" => {
                app.send(Req::new("DELETE", &path).token(&root))
                    .await
                    .expect(204);
            }
            "DELETE as a user manager" => {
                app.send(Req::new("DELETE", &path).token(&manager))
                    .await
                    .expect(204);
            }
            _ => {
                app.core
                    .delete_user(&Caller::system(), UserId(v.id), None)
                    .await
                    .expect("deleted");
            }
        }
        assert_all_dead(&app, &v, how).await;
        // Revoked, not only refused: the sessions and the challenge are gone from the store.
        assert_eq!(sessions_of(&app, v.id).await, 0, "{how}");
        // The password no longer logs in either (same answer as a wrong one).
        let r = app
            .send(
                Req::new("POST", "/authen/login/")
                    .json(&json!({"username": "victim", "password": PASSWORD})),
            )
            .await;
        assert_eq!(r.status, 401, "{how}: login: {}", r.text());

        if !deletes {
            // Reactivation brings none of the old tokens back: they were revoked (the
            // contract: "revokes all its tokens"), so only a new login works.
            app.call("PATCH", &path, &root, &json!({"is_active": true}))
                .await
                .expect(200);
            assert_all_dead(&app, &v, &format!("{how}, then reactivated")).await;
            let step1 = app
                .send(
                    Req::new("POST", "/authen/login/")
                        .json(&json!({"username": "victim", "password": PASSWORD})),
                )
                .await
                .expect(200)
                .json();
            assert_eq!(step1["mfa_required"], true, "{how}: MFA is still on");
        }
        // The others are untouched.
        app.get("/authen/me/", &root).await.expect(200);
        app.get("/authen/me/", &manager).await.expect(200);
    }
}

/// A user manager cannot deactivate or delete a superuser (so cannot cut off its tokens),
/// and nobody deletes itself.
#[tokio::test]
async fn superusers_tokens_are_out_of_a_user_managers_reach() {
    let app = TestApp::new();
    let (root_id, root) = app.superuser("root").await;
    let (manager_id, manager) = app.user_with("manager", &["manageUsers"]).await;
    let path = format!("/users/users/{root_id}/");
    app.call("PATCH", &path, &manager, &json!({"is_active": false}))
        .await
        .expect(403);
    app.send(Req::new("DELETE", &path).token(&manager))
        .await
        .expect(403);
    app.send(Req::new("DELETE", &format!("/users/users/{manager_id}/")).token(&manager))
        .await
        .expect(400);
    app.get("/authen/me/", &root).await.expect(200);
    app.get("/authen/me/", &manager).await.expect(200);
}

/// The same takeover rule on core's own password-setting call (the bindings' and the
/// command line's way in): a user manager sets the password only of users holding nothing
/// it lacks; the operator and superusers may always.
#[tokio::test]
async fn no_account_takeover_through_set_password() {
    let c = cast().await;
    let mallory = c
        .app
        .core
        .authenticate(&c.tokens["mallory"], None)
        .await
        .expect("mallory's caller");
    let root = c
        .app
        .core
        .authenticate(&c.tokens["root"], None)
        .await
        .expect("root's caller");
    let new = "Another-Lantern-77";
    let denied = c
        .app
        .core
        .set_password(&mallory, UserId(c.ids["eve"]), new)
        .await;
    assert!(
        matches!(denied, Err(rehome_core::Error::PermissionDenied)),
        "{denied:?}"
    );
    // mallory may not deactivate eve (she holds more than mallory)...
    c.app
        .call(
            "PATCH",
            &c.fill("/users/users/{eve}/"),
            &c.tokens["mallory"],
            &json!({"is_active": false}),
        )
        .await
        .expect(403);
    // ...and eve deactivated by someone else is no easier to take over: what she holds
    // counts, active or not.
    c.app
        .call(
            "PATCH",
            &c.fill("/users/users/{eve}/"),
            &c.tokens["root"],
            &json!({"is_active": false}),
        )
        .await
        .expect(200);
    let denied = c
        .app
        .core
        .set_password(&mallory, UserId(c.ids["eve"]), new)
        .await;
    assert!(
        matches!(denied, Err(rehome_core::Error::PermissionDenied)),
        "{denied:?}"
    );
    c.app
        .call(
            "PATCH",
            &c.fill("/users/users/{eve}/"),
            &c.tokens["mallory"],
            &json!({"password": new}),
        )
        .await
        .expect(403);
    c.app
        .core
        .set_password(&mallory, UserId(c.ids["bob"]), new)
        .await
        .expect("bob holds nothing mallory lacks");
    c.app
        .core
        .set_password(&root, UserId(c.ids["eve"]), new)
        .await
        .expect("a superuser may");
    c.app
        .core
        .set_password(&Caller::system(), UserId(c.ids["eve"]), PASSWORD)
        .await
        .expect("the operator may");
}
