//! Every route's success path and the error paths the contract names, through the real router.
//! Expected bodies and statuses are written by hand from the contract (`docs/api.md`).

use chrono::TimeDelta;
use rehome_http::{Registration, Settings};
use rehome_tests::{PASSWORD, Req, TestApp, totp};
use serde_json::{Value as Json, json};

fn keys(v: &Json) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

// ------------------------------------------------------------------------------ auth

#[tokio::test]
async fn login_answers_the_contract_shape() {
    let app = TestApp::new();
    let id = app.create_user("alice", json!({})).await;
    let r = app
        .send(
            Req::new("POST", "/authen/login/")
                .json(&json!({"username": "ALICE", "password": PASSWORD})),
        )
        .await
        .expect(200);
    let body = r.json();
    assert_eq!(keys(&body), ["tokens", "user_id", "username"]);
    assert_eq!(body["username"], "alice");
    assert_eq!(body["user_id"], id);
    assert_eq!(keys(&body["tokens"]), ["access_token", "expires_at"]);
    // Twelve hours from the manual clock's start.
    assert_eq!(body["tokens"]["expires_at"], "2026-03-02T21:00:00Z");
    let token = body["tokens"]["access_token"].as_str().expect("token");
    let me = app.get("/authen/me/", token).await.expect(200);
    assert_eq!(me.json()["username"], "alice");
    assert_eq!(
        me.header("etag").as_deref(),
        Some("\"2\""),
        "login bumped the version"
    );
    assert!(me.json().get("password").is_none());
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = TestApp::new();
    app.create_user("alice", json!({})).await;
    let a = app
        .send(
            Req::new("POST", "/authen/login/")
                .json(&json!({"username": "alice", "password": "Wrong-Password-1"})),
        )
        .await
        .expect(401);
    let b = app
        .send(
            Req::new("POST", "/authen/login/")
                .json(&json!({"username": "nobody", "password": "Wrong-Password-1"})),
        )
        .await
        .expect(401);
    assert_eq!(a.json(), json!({"detail": "Invalid username or password."}));
    assert_eq!(a.json(), b.json());
    let missing = app
        .send(Req::new("POST", "/authen/login/").json(&json!({"username": "alice"})))
        .await
        .expect(400);
    assert_eq!(
        missing.json(),
        json!({"password": ["This field is required."]})
    );
    app.send(Req::new("POST", "/authen/login/").raw("application/json", b"{nope".to_vec()))
        .await
        .expect(400);
    app.send(Req::new("POST", "/authen/login/").raw("text/plain", b"username=alice".to_vec()))
        .await
        .expect(415);
}

#[tokio::test]
async fn five_failures_lock_the_username_with_retry_after() {
    let app = TestApp::new();
    app.create_user("alice", json!({})).await;
    let bad = json!({"username": "alice", "password": "Wrong-Password-1"});
    for _ in 0..5 {
        app.send(Req::new("POST", "/authen/login/").json(&bad))
            .await
            .expect(401);
    }
    let locked = app
        .send(
            Req::new("POST", "/authen/login/")
                .json(&json!({"username": "alice", "password": PASSWORD})),
        )
        .await
        .expect(429);
    // The first lock lasts one minute.
    assert_eq!(locked.header("retry-after").as_deref(), Some("60"));
    assert!(locked.json()["detail"].is_string());
    app.clock.advance(TimeDelta::seconds(61));
    app.login("alice").await;
}

#[tokio::test]
async fn fifty_failures_from_one_address_refuse_it() {
    let app = TestApp::with_settings(Settings {
        trust_proxy: true,
        ..Settings::default()
    });
    for i in 0..50 {
        app.send(
            Req::new("POST", "/authen/login/")
                .header("x-forwarded-for", "198.51.100.7")
                .json(&json!({"username": format!("user{i}"), "password": "Wrong-Password-1"})),
        )
        .await
        .expect(401);
    }
    let r = app
        .send(
            Req::new("POST", "/authen/login/")
                .header("x-forwarded-for", "198.51.100.7")
                .json(&json!({"username": "fresh", "password": "Wrong-Password-1"})),
        )
        .await
        .expect(429);
    assert!(r.header("retry-after").is_some());
    // Another address is not refused.
    app.send(
        Req::new("POST", "/authen/login/")
            .header("x-forwarded-for", "198.51.100.8")
            .json(&json!({"username": "fresh", "password": "Wrong-Password-1"})),
    )
    .await
    .expect(401);
}

#[tokio::test]
async fn mfa_setup_login_recovery_and_disable() {
    let app = TestApp::new();
    let (_, token) = app.user_with("alice", &[]).await;
    let setup = app
        .send(Req::new("POST", "/authen/mfa/totp/setup/").token(&token))
        .await
        .expect(200)
        .json();
    assert_eq!(keys(&setup), ["otpauth_uri", "qr_svg", "secret"]);
    let secret = setup["secret"].as_str().expect("secret").to_owned();
    assert!(
        setup["otpauth_uri"]
            .as_str()
            .expect("uri")
            .starts_with("otpauth://totp/")
    );
    assert!(setup["qr_svg"].as_str().expect("svg").contains("<svg"));

    let now = |app: &TestApp| app.core.now().timestamp();
    let wrong = app
        .call(
            "POST",
            "/authen/mfa/totp/confirm/",
            &token,
            &json!({"code": "000000"}),
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.text());
    assert_eq!(wrong.json(), json!({"code": ["Invalid code."]}));
    let confirm = app
        .call(
            "POST",
            "/authen/mfa/totp/confirm/",
            &token,
            &json!({"code": totp(&secret, now(&app))}),
        )
        .await
        .expect(200)
        .json();
    let codes: Vec<String> = confirm["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    app.send(Req::new("POST", "/authen/mfa/totp/setup/").token(&token))
        .await
        .expect(409);

    // Login now takes two steps.
    let step1 = app
        .send(
            Req::new("POST", "/authen/login/")
                .json(&json!({"username": "alice", "password": PASSWORD})),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(keys(&step1), ["methods", "mfa_required", "mfa_token"]);
    assert_eq!(step1["mfa_required"], true);
    assert_eq!(step1["methods"], json!(["totp", "recovery_code"]));
    let mfa_token = step1["mfa_token"].as_str().expect("mfa token").to_owned();
    app.clock.advance(TimeDelta::seconds(30));
    let step2 = app
        .send(
            Req::new("POST", "/authen/mfa/verify/")
                .json(&json!({"mfa_token": mfa_token, "code": totp(&secret, now(&app))})),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(keys(&step2), ["tokens", "user_id", "username"]);
    // A used MFA token is gone.
    app.send(
        Req::new("POST", "/authen/mfa/verify/")
            .json(&json!({"mfa_token": mfa_token, "code": totp(&secret, now(&app))})),
    )
    .await
    .expect(401);
    app.send(Req::new("POST", "/authen/mfa/verify/").json(&json!({"code": "123456"})))
        .await
        .expect(400);

    // A recovery code logs in once.
    let t = app
        .send(
            Req::new("POST", "/authen/login/")
                .json(&json!({"username": "alice", "password": PASSWORD})),
        )
        .await
        .expect(200)
        .json()["mfa_token"]
        .clone();
    app.send(
        Req::new("POST", "/authen/mfa/verify/")
            .json(&json!({"mfa_token": t, "recovery_code": codes[0]})),
    )
    .await
    .expect(200);

    // New recovery codes need the password and a fresh TOTP step.
    app.clock.advance(TimeDelta::seconds(30));
    let fresh = app
        .call(
            "POST",
            "/authen/mfa/recovery-codes/",
            &token,
            &json!({"password": PASSWORD, "code": totp(&secret, now(&app))}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(fresh["recovery_codes"].as_array().map(Vec::len), Some(10));

    // The audit log now records all of it without a secret (the harness checks every body).
    let (_, auditor) = app.user_with("auditor", &["viewAuditLog"]).await;
    app.get("/admin/audit-log/?page_size=100", &auditor)
        .await
        .expect(200);

    app.clock.advance(TimeDelta::seconds(30));
    app.call(
        "POST",
        "/authen/mfa/totp/disable/",
        &token,
        &json!({"password": PASSWORD, "code": totp(&secret, now(&app))}),
    )
    .await
    .expect(204);
    app.call(
        "POST",
        "/authen/mfa/totp/disable/",
        &token,
        &json!({"password": PASSWORD}),
    )
    .await
    .expect(409);
    app.login("alice").await;
}

#[tokio::test]
async fn logout_and_logout_all_revoke_tokens() {
    let app = TestApp::new();
    app.create_user("alice", json!({})).await;
    let a = app.login("alice").await;
    let b = app.login("alice").await;
    let c = app.login("alice").await;
    app.send(Req::new("POST", "/authen/logout/").token(&a))
        .await
        .expect(204);
    let r = app.get("/authen/me/", &a).await.expect(401);
    assert_eq!(r.json(), json!({"detail": "Invalid or expired token."}));
    app.get("/authen/me/", &b).await.expect(200);
    app.send(Req::new("POST", "/authen/logout-all/").token(&b))
        .await
        .expect(204);
    app.get("/authen/me/", &b).await.expect(401);
    app.get("/authen/me/", &c).await.expect(401);
    let r = app.send(Req::new("GET", "/authen/me/")).await.expect(401);
    assert_eq!(
        r.json(),
        json!({"detail": "Authentication credentials were not provided."})
    );
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
    app.send(Req::new("GET", "/authen/me/").header("authorization", "Bearer"))
        .await
        .expect(401);
}

#[tokio::test]
async fn sessions_expire() {
    let app = TestApp::new();
    app.create_user("alice", json!({})).await;
    let token = app.login("alice").await;
    app.clock.advance(TimeDelta::hours(3));
    app.get("/authen/me/", &token).await.expect(401);
}

// ----------------------------------------------------------------------------- users

#[tokio::test]
async fn users_crud_with_etags_and_preconditions() {
    let app = TestApp::new();
    let (_, admin) = app.user_with("admin", &["manageUsers"]).await;
    let created = app
        .call("POST", "/users/users/", &admin, &json!({"username": "bob", "email": "bob@example.org", "password": PASSWORD, "first_name": "Bob"}))
        .await
        .expect(201);
    let id = created.json()["id"].as_i64().expect("id");
    assert_eq!(
        created.header("location"),
        Some(format!("/users/users/{id}/"))
    );
    assert_eq!(created.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(created.json()["effective_permissions"], json!([]));
    assert_eq!(created.json()["mfa_enabled"], false);

    let path = format!("/users/users/{id}/");
    let got = app.get(&path, &admin).await.expect(200);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));

    // Taken regardless of case -> 409, field-keyed.
    let dup = app
        .call(
            "POST",
            "/users/users/",
            &admin,
            &json!({"username": "BOB", "email": "other@example.org", "password": PASSWORD}),
        )
        .await
        .expect(409);
    assert!(dup.json().get("username").is_some(), "{}", dup.text());
    // Policy -> 400; unknown field -> 400 naming it.
    let weak = app
        .call(
            "POST",
            "/users/users/",
            &admin,
            &json!({"username": "carol", "email": "c@example.org", "password": "short"}),
        )
        .await
        .expect(400);
    assert!(weak.json().get("password").is_some());
    let unknown = app
        .call("POST", "/users/users/", &admin, &json!({"username": "carol", "email": "c@example.org", "password": PASSWORD, "shoe_size": 9}))
        .await
        .expect(400);
    assert!(unknown.json().get("shoe_size").is_some());

    // If-Match.
    let stale = app
        .send(
            Req::new("PATCH", &path)
                .token(&admin)
                .header("if-match", "\"7\"")
                .json(&json!({"last_name": "B"})),
        )
        .await
        .expect(412);
    assert!(stale.json()["detail"].is_string());
    let ok = app
        .send(
            Req::new("PATCH", &path)
                .token(&admin)
                .header("if-match", "\"1\"")
                .json(&json!({"last_name": "B"})),
        )
        .await
        .expect(200);
    assert_eq!(ok.header("etag").as_deref(), Some("\"2\""));
    app.send(
        Req::new("PUT", &path)
            .token(&admin)
            .header("if-match", "*")
            .json(&json!({"username": "bob", "email": "bob@example.org"})),
    )
    .await
    .expect(200);
    // A stale version in the body -> 409.
    app.call(
        "PATCH",
        &path,
        &admin,
        &json!({"first_name": "Rob", "version": 1}),
    )
    .await
    .expect(409);

    // The user's tokens end with the user.
    let bob = app.login("bob").await;
    app.send(
        Req::new("DELETE", &path)
            .token(&admin)
            .header("if-match", "\"99\""),
    )
    .await
    .expect(412);
    app.send(Req::new("DELETE", &path).token(&admin))
        .await
        .expect(204);
    app.get("/authen/me/", &bob).await.expect(401);
    app.get(&path, &admin).await.expect(404);
    app.get("/users/users/abc/", &admin).await.expect(404);
    app.get("/users/users/0/", &admin).await.expect(404);
}

#[tokio::test]
async fn user_lists_page_with_absolute_links() {
    let app = TestApp::new();
    let (_, admin) = app.user_with("admin", &["manageUsers"]).await;
    for i in 0..11 {
        app.create_user(&format!("user{i:02}"), json!({})).await;
    }
    let first = app
        .get("/users/users/?page_size=5", &admin)
        .await
        .expect(200)
        .json();
    assert_eq!(first["count"], 12);
    assert_eq!(first["total_pages"], 3);
    assert_eq!(first["links"]["previous"], Json::Null);
    assert_eq!(
        first["links"]["next"],
        "http://rehome.test/users/users/?page_size=5&page=2"
    );
    assert_eq!(first["results"][0]["username"], "admin");
    let second = app
        .get("/users/users/?page_size=5&page=2", &admin)
        .await
        .expect(200)
        .json();
    assert_eq!(
        second["links"]["previous"],
        "http://rehome.test/users/users/?page_size=5"
    );
    let last = app
        .get("/users/users/?page_size=5&page=last", &admin)
        .await
        .expect(200)
        .json();
    assert_eq!(last["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(last["links"]["next"], Json::Null);
    for bad in ["page=4", "page=0", "page=-1", "page=x"] {
        let r = app
            .get(&format!("/users/users/?page_size=5&{bad}"), &admin)
            .await
            .expect(404);
        assert_eq!(r.json(), json!({"detail": "Invalid page."}));
    }
    for bad in ["page_size=0", "page_size=101", "page_size=x"] {
        app.get(&format!("/users/users/?{bad}"), &admin)
            .await
            .expect(400);
    }
    let filtered = app
        .get(
            "/users/users/?username__icontains=USER0&ordering=-username",
            &admin,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(filtered["count"], 10);
    assert_eq!(filtered["results"][0]["username"], "user09");
    app.get("/users/users/?ordering=shoe_size", &admin)
        .await
        .expect(400);
}

#[tokio::test]
async fn registration_open_closed_and_privileged_fields() {
    let app = TestApp::new();
    let body = json!({"username": "newbie", "email": "newbie@example.org", "password": PASSWORD});
    let r = app
        .send(Req::new("POST", "/users/register/").json(&body))
        .await
        .expect(201);
    assert_eq!(r.json()["permissions"], json!([]));
    assert_eq!(r.json()["is_superuser"], false);
    let sneaky = app
        .send(Req::new("POST", "/users/register/").json(&json!({"username": "sneaky", "email": "s@example.org", "password": PASSWORD, "is_superuser": true})))
        .await
        .expect(400);
    assert!(sneaky.json().get("is_superuser").is_some());

    let closed = TestApp::with_settings(Settings {
        registration: Registration::Closed,
        ..Settings::default()
    });
    closed
        .send(Req::new("POST", "/users/register/").json(&body))
        .await
        .expect(403);
}

#[tokio::test]
async fn password_change_revokes_other_sessions() {
    let app = TestApp::new();
    app.create_user("alice", json!({})).await;
    let a = app.login("alice").await;
    let b = app.login("alice").await;
    let wrong = app
        .call(
            "PATCH",
            "/users/password/",
            &a,
            &json!({"old_password": "Not-The-Password-1", "new_password": "Another-Lantern-77"}),
        )
        .await
        .expect(400);
    assert!(wrong.json().get("old_password").is_some());
    app.call(
        "PATCH",
        "/users/password/",
        &a,
        &json!({"old_password": PASSWORD, "new_password": "alice"}),
    )
    .await
    .expect(400);
    app.call(
        "PUT",
        "/users/password/",
        &a,
        &json!({"old_password": PASSWORD, "new_password": "Another-Lantern-77"}),
    )
    .await
    .expect(204);
    app.get("/authen/me/", &a).await.expect(200);
    app.get("/authen/me/", &b).await.expect(401);
}

#[tokio::test]
async fn direct_grants() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    app.create_user("bob", json!({})).await;
    let path = "/users/user-permissions/bob/";
    assert_eq!(
        app.get(path, &admin).await.expect(200).json(),
        json!({"permissions": []})
    );
    let added = app
        .call(
            "PATCH",
            path,
            &admin,
            &json!({"permissions": ["readDevices", "scanDevices"]}),
        )
        .await
        .expect(200);
    assert_eq!(
        added.json(),
        json!({"permissions": ["readDevices", "scanDevices"]})
    );
    let replaced = app
        .call(
            "PUT",
            path,
            &admin,
            &json!({"permissions": ["viewAuditLog", "readDevices"]}),
        )
        .await
        .expect(200);
    assert_eq!(
        replaced.json(),
        json!({"permissions": ["readDevices", "viewAuditLog"]})
    );
    let removed = app
        .call(
            "DELETE",
            path,
            &admin,
            &json!({"permissions": ["readDevices"]}),
        )
        .await
        .expect(200);
    assert_eq!(removed.json(), json!({"permissions": ["viewAuditLog"]}));
    app.send(Req::new("DELETE", "/users/user-permissions/bob/clear/").token(&admin))
        .await
        .expect(200);
    assert_eq!(
        app.get(path, &admin).await.json(),
        json!({"permissions": []})
    );
    app.call(
        "PATCH",
        path,
        &admin,
        &json!({"permissions": ["flyPlanes"]}),
    )
    .await
    .expect(400);
    app.call(
        "PATCH",
        path,
        &admin,
        &json!({"permissions": ["readDevices", "readDevices"]}),
    )
    .await
    .expect(400);
    app.call(
        "PATCH",
        path,
        &admin,
        &json!({"permissions": "readDevices"}),
    )
    .await
    .expect(400);
    app.get("/users/user-permissions/nobody/", &admin)
        .await
        .expect(404);

    // No escalation: a user manager grants only what it holds.
    let (_, manager) = app.user_with("manager", &["manageUsers"]).await;
    app.call(
        "PATCH",
        path,
        &manager,
        &json!({"permissions": ["readDevices"]}),
    )
    .await
    .expect(403);
}

// ----------------------------------------------------------------------------- admin

#[tokio::test]
async fn roles_crud_and_held_roles() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let r = app
        .call(
            "POST",
            "/admin/roles/",
            &admin,
            &json!({"name": "Front desk", "permissions": ["scanDevices"]}),
        )
        .await
        .expect(201);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/admin/roles/Front%20desk/")
    );
    let path = "/admin/roles/Front%20desk/";
    let got = app.get(path, &admin).await.expect(200);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(got.json()["permissions"], json!(["scanDevices"]));
    app.call(
        "POST",
        "/admin/roles/",
        &admin,
        &json!({"name": "Front desk"}),
    )
    .await
    .expect(409);
    let list = app.get("/admin/roles/", &admin).await.expect(200).json();
    assert_eq!(list["count"], 1);
    app.call("PATCH", path, &admin, &json!({"description": "Scans"}))
        .await
        .expect(200);
    app.call(
        "PUT",
        path,
        &admin,
        &json!({"name": "Front desk", "permissions": ["scanDevices", "readDevices"]}),
    )
    .await
    .expect(200);
    app.create_user("bob", json!({"role": "Front desk"})).await;
    let bob = app.login("bob").await;
    let me = app.get("/authen/me/", &bob).await.json();
    assert_eq!(
        me["effective_permissions"],
        json!(["readDevices", "scanDevices"])
    );
    let held = app
        .send(Req::new("DELETE", path).token(&admin))
        .await
        .expect(409);
    assert!(
        held.json()["detail"]
            .as_str()
            .expect("detail")
            .contains('1'),
        "{}",
        held.text()
    );
    app.get("/admin/roles/nobody/", &admin).await.expect(404);
    app.call("POST", "/admin/roles/", &admin, &json!({"name": "Temp"}))
        .await
        .expect(201);
    app.send(Req::new("DELETE", "/admin/roles/Temp/").token(&admin))
        .await
        .expect(204);
}

#[tokio::test]
async fn audit_log_newest_first_with_filters() {
    let app = TestApp::new();
    let (admin_id, admin) = app.superuser("admin").await;
    let f = app.fixtures().await;
    app.call(
        "PATCH",
        &format!("/inventory/devices/{}/", f.device),
        &admin,
        &json!({"notes": "Dent"}),
    )
    .await
    .expect(200);
    let log = app
        .get("/admin/audit-log/", &admin)
        .await
        .expect(200)
        .json();
    let first = &log["results"][0];
    assert_eq!(first["action"], "device.update");
    assert_eq!(first["actor"], admin_id);
    assert_eq!(first["actor_username"], "admin");
    assert_eq!(first["object_id"], f.device);
    assert_eq!(
        keys(first),
        [
            "action",
            "actor",
            "actor_username",
            "changes",
            "id",
            "ip",
            "object_id",
            "object_type",
            "timestamp"
        ]
    );
    let logins = app
        .get("/admin/audit-log/?action=auth.login", &admin)
        .await
        .expect(200)
        .json();
    assert_eq!(logins["count"], 1);
    app.get("/admin/audit-log/?since=yesterday", &admin)
        .await
        .expect(400);
    let since = app
        .get(
            "/admin/audit-log/?since=2026-03-03&object_type=device",
            &admin,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(since["count"], 0);
}

// ------------------------------------------------------------------------- inventory

#[tokio::test]
async fn devices_crud_expand_lookup_and_qr() {
    let app = TestApp::new();
    let (admin_id, admin) = app.superuser("admin").await;
    let f = app.fixtures().await;
    let created = app
        .call(
            "POST",
            "/inventory/devices/",
            &admin,
            &json!({
                "type": "Laptop", "make": "Lenovo", "model": "T480", "serial_number": "SN-2",
                "mac_id": "AA-BB-CC-DD-EE-02", "value": 416.69, "donor": f.donor,
                "year_of_manufacture": 2019, "shipping_infos": [f.shipment],
            }),
        )
        .await
        .expect(201);
    let device = created.json();
    let id = device["device_id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/inventory/devices/{id}/"))
    );
    assert_eq!(device["mac_id"], "aa:bb:cc:dd:ee:02");
    assert_eq!(device["value"], "416.69");
    assert_eq!(device["status"], "received");
    assert_eq!(device["created_by"], admin_id);
    assert_eq!(device["version"], 1);

    // Without dashes, with and without the slash.
    let bare = id.replace('-', "");
    let got = app
        .get(&format!("/inventory/devices/{bare}"), &admin)
        .await
        .expect(200);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(got.json(), device);

    let expanded = app
        .get(
            &format!("/inventory/devices/{id}/?expand=donor,created_by,shipping_infos"),
            &admin,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(expanded["donor"]["name"], "Acme");
    assert_eq!(
        expanded["created_by"],
        json!({"id": admin_id, "username": "admin", "first_name": "", "last_name": ""})
    );
    assert_eq!(expanded["shipping_infos"][0]["shipping_id"], f.shipment);
    let list = app
        .get(
            "/inventory/devices/?expand=donor&ordering=serial_number",
            &admin,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(list["results"][1]["donor"]["email"], "it@acme.example");
    app.get(&format!("/inventory/devices/{id}/?expand=owner"), &admin)
        .await
        .expect(400);

    let by_mac = app
        .get("/inventory/devices/lookup/?mac_id=AABB.CCDD.EE02", &admin)
        .await
        .expect(200);
    assert_eq!(by_mac.json()["device_id"], id.as_str());
    app.get("/inventory/devices/lookup/?serial_number=SN-2", &admin)
        .await
        .expect(200);
    app.get("/inventory/devices/lookup/?serial_number=SN-404", &admin)
        .await
        .expect(404);
    app.get("/inventory/devices/lookup/", &admin)
        .await
        .expect(400);

    let qr = app
        .get(&format!("/inventory/devices/{id}/qr.svg"), &admin)
        .await
        .expect(200);
    assert_eq!(qr.header("content-type").as_deref(), Some("image/svg+xml"));
    assert!(qr.text().contains("<svg"));
    app.get(
        "/inventory/devices/00000000-0000-0000-0000-000000000000/qr.svg",
        &admin,
    )
    .await
    .expect(404);

    // Unique keys -> 409, field-keyed; invalid input -> 400 for several fields at once.
    let dup = app
        .call(
            "POST",
            "/inventory/devices/",
            &admin,
            &json!({"type": "x", "make": "x", "model": "x", "serial_number": "SN-2"}),
        )
        .await
        .expect(409);
    assert_eq!(
        dup.json(),
        json!({"serial_number": ["device with this serial number already exists."]})
    );
    let invalid = app
        .call(
            "POST",
            "/inventory/devices/",
            &admin,
            &json!({"type": "x", "value": -1, "year_of_manufacture": 1900}),
        )
        .await
        .expect(400)
        .json();
    for field in [
        "make",
        "model",
        "serial_number",
        "value",
        "year_of_manufacture",
    ] {
        assert!(invalid.get(field).is_some(), "{field} missing in {invalid}");
    }

    // The status lifecycle (a plain editor, not a superuser).
    let (_, editor) = app.user_with("editor", &["editDevices"]).await;
    let path = format!("/inventory/devices/{id}/");
    let skip = app
        .call("PATCH", &path, &editor, &json!({"status": "ready"}))
        .await
        .expect(400);
    assert!(
        skip.json()["status"][0]
            .as_str()
            .expect("message")
            .contains("wiped")
    );
    let wiped = app
        .call("PATCH", &path, &editor, &json!({"status": "wiped"}))
        .await
        .expect(200);
    assert_eq!(wiped.header("etag").as_deref(), Some("\"2\""));
    app.send(
        Req::new("PATCH", &path)
            .token(&editor)
            .header("if-match", "\"1\"")
            .json(&json!({"notes": "x"})),
    )
    .await
    .expect(412);
    app.send(
        Req::new("PUT", &path)
            .token(&editor)
            .json(&json!({"notes": "only notes"})),
    )
    .await
    .expect(400);
    app.send(
        Req::new("DELETE", &path)
            .token(&admin)
            .header("if-match", "\"1\""),
    )
    .await
    .expect(412);
    app.send(
        Req::new("DELETE", &path)
            .token(&admin)
            .header("if-match", "\"2\""),
    )
    .await
    .expect(204);
    app.get(&path, &admin).await.expect(404);
    app.get("/inventory/devices/not-a-uuid/", &admin)
        .await
        .expect(404);
}

#[tokio::test]
async fn device_list_filters() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    for (i, (make, year)) in [("Dell", 2018), ("Dell", 2021), ("HP", 2020)]
        .iter()
        .enumerate()
    {
        app.call(
            "POST",
            "/inventory/devices/",
            &admin,
            &json!({
                "type": "Laptop", "make": make, "model": "M", "serial_number": format!("S{i}"),
                "year_of_manufacture": year, "notes": if i == 2 { "Ünïcode NOTE" } else { "" },
            }),
        )
        .await
        .expect(201);
    }
    let count = |q: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.get(&format!("/inventory/devices/?{q}"), &admin)
                .await
                .expect(200)
                .json()["count"]
                .clone()
        }
    };
    assert_eq!(count("make=Dell").await, 2);
    assert_eq!(count("make=dell").await, 0);
    assert_eq!(count("make__icontains=DEL").await, 2);
    assert_eq!(count("year_of_manufacture__gte=2020").await, 2);
    assert_eq!(count("search=ünïcode").await, 1);
    assert_eq!(count("make=").await, 3);
    assert_eq!(count("colour=red").await, 3);
    for bad in [
        "year_of_manufacture__gte=twenty",
        "date_received__lte=2024-02-30",
        "device_id=xyz",
        "donor=abc",
        "ordering=price",
        "status=lost",
    ] {
        app.get(&format!("/inventory/devices/?{bad}"), &admin)
            .await
            .expect(400);
    }
    let ordered = app
        .get("/inventory/devices/?ordering=-year_of_manufacture", &admin)
        .await
        .expect(200)
        .json();
    assert_eq!(ordered["results"][0]["year_of_manufacture"], 2021);
}

#[tokio::test]
async fn locations_donors_and_shipments() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let cases = [
        (
            "locations",
            "location_id",
            json!({"name": "Depot", "address": "1 Quay Street"}),
            json!({"city": "York"}),
            json!({"name": "Depot 2", "address": "1 Quay Street"}),
            "address",
        ),
        (
            "donors",
            "donor_id",
            json!({"name": "Acme", "email": "it@acme.example"}),
            json!({"phone": "0113"}),
            json!({"name": "Acme Ltd", "email": "it@acme.example"}),
            "email",
        ),
        (
            "shipments",
            "shipping_id",
            json!({"date_shipped": "2026-01-05", "tracking_identifier": "TRK1"}),
            json!({"arrived": true}),
            json!({"date_shipped": "2026-01-06"}),
            "",
        ),
    ];
    for (collection, id_field, create, patch, put, unique) in cases {
        let base = format!("/inventory/{collection}/");
        let r = app.call("POST", &base, &admin, &create).await.expect(201);
        let id = r.json()[id_field].as_i64().expect("id");
        assert_eq!(r.header("location"), Some(format!("{base}{id}/")));
        let item = format!("{base}{id}/");
        assert_eq!(
            app.get(&item, &admin)
                .await
                .expect(200)
                .header("etag")
                .as_deref(),
            Some("\"1\"")
        );
        let list = app.get(&base, &admin).await.expect(200).json();
        assert_eq!(list["count"], 1);
        assert!(
            list["results"].is_array(),
            "{collection} lists are paginated objects"
        );
        app.call("PATCH", &item, &admin, &patch).await.expect(200);
        let put_r = app.call("PUT", &item, &admin, &put).await.expect(200);
        assert_eq!(put_r.json()["version"], 3);
        if !unique.is_empty() {
            let dup = app.call("POST", &base, &admin, &create).await.expect(409);
            assert!(dup.json().get(unique).is_some(), "{}", dup.text());
        }
        app.call("POST", &base, &admin, &json!({}))
            .await
            .expect(400);
        app.call("PATCH", &item, &admin, &json!({"nonsense": 1}))
            .await
            .expect(400);
        app.get(&format!("{base}999/"), &admin).await.expect(404);
        app.get(&format!("{base}x/"), &admin).await.expect(404);
        app.send(Req::new("DELETE", &item).token(&admin))
            .await
            .expect(204);
        app.get(&item, &admin).await.expect(404);
    }
}

#[tokio::test]
async fn deleting_a_referenced_location_clears_references() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let f = app.fixtures().await;
    app.send(Req::new("DELETE", &format!("/inventory/locations/{}/", f.location)).token(&admin))
        .await
        .expect(204);
    let device = app
        .get(&format!("/inventory/devices/{}/", f.device), &admin)
        .await
        .json();
    assert_eq!(device["start_location"], Json::Null);
    assert_eq!(device["version"], 2);
}

#[tokio::test]
async fn batch_all_or_nothing() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let f = app.fixtures().await;
    let ok = app
        .call("POST", "/inventory/batch/", &admin, &json!({"operations": [
            {"op": "create", "model": "device", "data": {"type": "Tablet", "make": "Apple", "model": "iPad", "serial_number": "B-1"}},
            {"op": "update", "model": "donor", "id": f.donor, "data": {"phone": "0113"}},
            {"op": "delete", "model": "shipment", "id": f.shipment},
        ]}))
        .await
        .expect(200)
        .json();
    let results = ok["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    assert_eq!(keys(&results[0]), ["id", "model", "object", "op"]);
    assert_eq!(results[0]["object"]["serial_number"], "B-1");
    assert_eq!(results[2]["object"], Json::Null);

    // One invalid operation: 400, nothing written.
    let bad = app
        .call("POST", "/inventory/batch/", &admin, &json!({"operations": [
            {"op": "create", "model": "device", "data": {"type": "T", "make": "M", "model": "X", "serial_number": "B-2"}},
            {"op": "create", "model": "device", "data": {"type": "T"}},
        ]}))
        .await
        .expect(400)
        .json();
    assert_eq!(bad["errors"][0]["index"], 1);
    assert!(bad["errors"][0]["errors"].get("make").is_some());
    assert!(bad["detail"].is_string());
    app.get("/inventory/devices/lookup/?serial_number=B-2", &admin)
        .await
        .expect(404);

    // Only conflicts: 409.
    let conflict = app
        .call("POST", "/inventory/batch/", &admin, &json!({"operations": [
            {"op": "create", "model": "device", "data": {"type": "T", "make": "M", "model": "X", "serial_number": "SN-1"}},
        ]}))
        .await
        .expect(409)
        .json();
    assert_eq!(conflict["errors"][0]["index"], 0);

    app.call(
        "POST",
        "/inventory/batch/",
        &admin,
        &json!({"operations": []}),
    )
    .await
    .expect(400);
    app.call("POST", "/inventory/batch/", &admin, &json!({}))
        .await
        .expect(400);

    // The original's forms.
    let updated = app
        .call(
            "PATCH",
            "/inventory/batch/?model=device",
            &admin,
            &json!({"objects": [{"id": f.device, "notes": "N"}]}),
        )
        .await
        .expect(200);
    assert_eq!(
        updated.json(),
        json!({"message": "1 records updated successfully."})
    );
    let deleted = app
        .call(
            "DELETE",
            "/inventory/batch/?model=device",
            &admin,
            &json!({"ids": [f.device]}),
        )
        .await
        .expect(200);
    assert_eq!(
        deleted.json(),
        json!({"message": "1 records deleted successfully."})
    );
    app.call(
        "DELETE",
        "/inventory/batch/?model=device",
        &admin,
        &json!({"ids": [f.device]}),
    )
    .await
    .expect(400);
    let no_model = app
        .call(
            "PATCH",
            "/inventory/batch/",
            &admin,
            &json!({"objects": []}),
        )
        .await
        .expect(400);
    assert!(no_model.json().get("model").is_some());
}

#[tokio::test]
async fn mock_data_is_created_and_counted() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let r = app
        .call("POST", "/inventory/generate-mock-data/", &admin, &json!({"num_warehouses": 2, "num_donors": 3, "num_devices": 4, "num_shipments": 1, "seed": 42}))
        .await
        .expect(201);
    assert_eq!(
        r.json(),
        json!({"locations": 2, "donors": 3, "devices": 4, "shipments": 1})
    );
    assert_eq!(
        app.get("/inventory/devices/", &admin).await.json()["count"],
        4
    );
    // Again: never fails on unique keys.
    app.call("POST", "/inventory/generate-mock-data/", &admin, &json!({"num_locations": 2, "num_donors": 3, "num_devices": 4, "num_shipments": 1, "seed": 42}))
        .await
        .expect(201);
    app.call(
        "POST",
        "/inventory/generate-mock-data/",
        &admin,
        &json!({"num_devices": -1}),
    )
    .await
    .expect(400);
    app.call(
        "POST",
        "/inventory/generate-mock-data/",
        &admin,
        &json!({"num_devices": "many"}),
    )
    .await
    .expect(400);
    app.call(
        "POST",
        "/inventory/generate-mock-data/",
        &admin,
        &json!({"num_gadgets": 1}),
    )
    .await
    .expect(400);
    // No body at all: the defaults.
    let defaults = app
        .send(Req::new("POST", "/inventory/generate-mock-data/").token(&admin))
        .await
        .expect(201);
    assert_eq!(
        defaults.json(),
        json!({"locations": 5, "donors": 10, "devices": 50, "shipments": 20})
    );
}

// --------------------------------------------------------------------------- service

#[tokio::test]
async fn health_and_openapi() {
    let app = TestApp::new();
    let h = app.send(Req::new("GET", "/healthz")).await.expect(200);
    assert_eq!(h.json(), json!({"status": "ok"}));
    let spec = app
        .send(Req::new("GET", "/openapi.json"))
        .await
        .expect(200)
        .json();
    assert_eq!(spec["openapi"], "3.1.0");
}

#[tokio::test]
async fn device_history_is_the_devices_own_entries_newest_first() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let (_, reader) = app.user_with("reader", &["readDevices"]).await;
    let (_, auditor) = app.user_with("auditor", &["viewAuditLog"]).await;
    let mut ids = Vec::new();
    for serial in ["SN-H1", "SN-H2"] {
        let d = app
            .call(
                "POST",
                "/inventory/devices/",
                &admin,
                &json!({"type": "Laptop", "make": "Dell", "model": "E7", "serial_number": serial}),
            )
            .await
            .expect(201)
            .json();
        ids.push(d["device_id"].as_str().expect("id").to_owned());
    }
    let (one, two) = (&ids[0], &ids[1]);
    for (id, body) in [
        (one, json!({"status": "wiped"})),
        (two, json!({"notes": "other device"})),
        (one, json!({"notes": "Dent on lid"})),
    ] {
        app.call("PATCH", &format!("/inventory/devices/{id}/"), &admin, &body)
            .await
            .expect(200);
    }
    let history = |q: &str| format!("/inventory/devices/{one}/history/{q}");
    let page = app.get(&history(""), &reader).await.expect(200).json();
    let actions: Vec<(&str, &Json)> = page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|e| (e["action"].as_str().unwrap_or(""), &e["changes"]))
        .collect();
    assert_eq!(page["count"], 3);
    assert_eq!(actions[0].0, "device.update");
    assert_eq!(actions[0].1["notes"], json!(["", "Dent on lid"]));
    assert_eq!(actions[1].1["status"], json!(["received", "wiped"]));
    assert_eq!(actions[2].0, "device.create");
    for e in page["results"].as_array().expect("results") {
        assert_eq!(e["object_type"], "device");
        assert_eq!(e["object_id"], one.as_str());
        assert_eq!(e["actor_username"], "admin");
    }
    // Paginated like every list; another object id or kind given is ignored.
    let paged = app
        .get(&history("?page_size=1&page=2"), &reader)
        .await
        .expect(200)
        .json();
    assert_eq!(paged["total_pages"], 3);
    assert_eq!(
        paged["results"][0]["changes"]["status"],
        json!(["received", "wiped"])
    );
    let fixed = app
        .get(
            &history(&format!("?object_id={two}&object_type=user")),
            &reader,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(fixed["count"], 3);
    let bare = one.replace('-', "");
    let by_bare = app
        .get(
            &format!("/inventory/devices/{bare}/history/?action=device.create"),
            &reader,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(by_bare["count"], 1);
    app.get(&history("?page=9"), &reader).await.expect(404);
    app.get(&history("?since=yesterday"), &reader)
        .await
        .expect(400);

    // readDevices, not viewAuditLog; unknown and deleted devices are 404.
    app.get(&history(""), &auditor).await.expect(403);
    app.get(
        "/inventory/devices/00000000-0000-0000-0000-000000000000/history/",
        &reader,
    )
    .await
    .expect(404);
    app.get("/inventory/devices/not-a-uuid/history/", &reader)
        .await
        .expect(404);
    app.call(
        "DELETE",
        &format!("/inventory/devices/{two}/"),
        &admin,
        &json!({}),
    )
    .await
    .expect(204);
    app.get(&format!("/inventory/devices/{two}/history/"), &reader)
        .await
        .expect(404);
}

#[tokio::test]
async fn device_statuses_say_what_this_caller_may_do_and_why_not() {
    const NO_EDIT: &str = "You may not change devices: that needs the editDevices permission.";
    const NOT_WIPED: &str = "Not wiped yet: a device must be wiped before it can be";
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let (_, tech) = app.user_with("tech", &["readDevices", "editDevices"]).await;
    let (_, reader) = app.user_with("reader", &["readDevices"]).await;
    let (_, plain) = app.user_with("plain", &["scanDevices"]).await;
    let new_device = |serial: &str, status: &str| json!({"type": "Laptop", "make": "Dell", "model": "E7", "serial_number": serial, "status": status});
    let mut ids = std::collections::BTreeMap::new();
    for (serial, status) in [
        ("SN-R", "received"),
        ("SN-S", "shipped"),
        ("SN-X", "recycled"),
    ] {
        let d = app
            .call(
                "POST",
                "/inventory/devices/",
                &admin,
                &new_device(serial, status),
            )
            .await
            .expect(201)
            .json();
        ids.insert(status, d["device_id"].as_str().expect("id").to_owned());
    }
    let not_wiped = |to: &str| format!("{NOT_WIPED} {to}.");
    let back = |from: &str, to: &str| {
        format!("A device cannot go back from {from} to {to}: statuses only move forward.")
    };
    // (device status, caller, expected reason per status in lifecycle order; None = allowed).
    let order = [
        "received",
        "wiped",
        "refurbished",
        "ready",
        "shipped",
        "delivered",
        "recycled",
    ];
    let cases: Vec<(&str, &str, [Option<String>; 7])> = vec![
        (
            "received",
            &tech,
            [
                None,
                None,
                Some(not_wiped("refurbished")),
                Some(not_wiped("ready")),
                Some(not_wiped("shipped")),
                Some(not_wiped("delivered")),
                None,
            ],
        ),
        (
            "shipped",
            &tech,
            [
                Some(back("shipped", "received")),
                Some(back("shipped", "wiped")),
                Some(back("shipped", "refurbished")),
                Some(back("shipped", "ready")),
                None,
                None,
                None,
            ],
        ),
        (
            "recycled",
            &tech,
            [
                Some("A device cannot leave recycled.".into()),
                Some("A device cannot leave recycled.".into()),
                Some("A device cannot leave recycled.".into()),
                Some("A device cannot leave recycled.".into()),
                Some("A device cannot leave recycled.".into()),
                Some("A device cannot leave recycled.".into()),
                None,
            ],
        ),
        (
            "shipped",
            &reader,
            [
                Some(NO_EDIT.into()),
                Some(NO_EDIT.into()),
                Some(NO_EDIT.into()),
                Some(NO_EDIT.into()),
                None,
                Some(NO_EDIT.into()),
                Some(NO_EDIT.into()),
            ],
        ),
        (
            "recycled",
            &admin,
            [None, None, None, None, None, None, None],
        ),
    ];
    for (status, caller, reasons) in cases {
        let got = app
            .get(
                &format!("/inventory/devices/{}/statuses/", ids[status]),
                caller,
            )
            .await
            .expect(200)
            .json();
        let want: Vec<Json> = order
            .iter()
            .zip(reasons)
            .map(|(s, r)| json!({"status": s, "allowed": r.is_none(), "reason": r}))
            .collect();
        assert_eq!(got, Json::Array(want), "{status} for {caller}");
    }
    let received = &ids["received"];
    app.get(&format!("/inventory/devices/{received}/statuses/"), &plain)
        .await
        .expect(403);
    app.get(
        "/inventory/devices/00000000-0000-0000-0000-000000000000/statuses/",
        &tech,
    )
    .await
    .expect(404);
    // What it says allowed, PATCH does; what it says blocked, PATCH refuses.
    app.call(
        "PATCH",
        &format!("/inventory/devices/{received}/"),
        &tech,
        &json!({"status": "ready"}),
    )
    .await
    .expect(400);
    app.call(
        "PATCH",
        &format!("/inventory/devices/{received}/"),
        &tech,
        &json!({"status": "wiped"}),
    )
    .await
    .expect(200);
}

// ------------------------------------------------------------------- coordinator resets

/// The token of a login with `password` (no MFA).
async fn login_with(app: &TestApp, username: &str, password: &str) -> String {
    app.send(Req::new("POST", "/authen/login/").json(&json!({
        "username": username, "password": password
    })))
    .await
    .expect(200)
    .json()["tokens"]["access_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

#[tokio::test]
async fn resets_follow_who_holds_what() {
    // Caller x target -> status, written by hand from ADR 0011: the coordinator holds
    // manageUsers and readDevices, so it resets `lesser` (readDevices) but not `greater`
    // (readDevices, viewAuditLog) nor the superuser; a superuser resets anyone else; nobody
    // resets itself here (400); two-step resets of users without it are 409 once allowed.
    let cases: [(&str, &str, u16, u16); 8] = [
        ("coordinator", "lesser", 200, 409),
        ("coordinator", "greater", 403, 403),
        ("coordinator", "root", 403, 403),
        ("coordinator", "coordinator", 400, 400),
        ("root", "lesser", 200, 409),
        ("root", "greater", 200, 409),
        ("root", "coordinator", 200, 409),
        ("lesser", "greater", 403, 403),
    ];
    for (who, target, password, two_step) in cases {
        let app = TestApp::new();
        let mut ids = std::collections::BTreeMap::new();
        let mut tokens = std::collections::BTreeMap::new();
        for (name, perms) in [
            ("coordinator", &["manageUsers", "readDevices"][..]),
            ("lesser", &["readDevices"][..]),
            ("greater", &["readDevices", "viewAuditLog"][..]),
        ] {
            let (id, token) = app.user_with(name, perms).await;
            ids.insert(name, id);
            tokens.insert(name, token);
        }
        let (root_id, root) = app.superuser("root").await;
        ids.insert("root", root_id);
        tokens.insert("root", root);
        let id = ids[target];
        let r = app
            .call(
                "POST",
                &format!("/users/users/{id}/reset-password/"),
                &tokens[who],
                &json!({}),
            )
            .await;
        assert_eq!(
            r.status.as_u16(),
            password,
            "{who} resets {target}'s password: {}",
            r.text()
        );
        let r = app
            .call(
                "POST",
                &format!("/users/users/{id}/reset-two-step/"),
                &tokens[who],
                &json!({}),
            )
            .await;
        assert_eq!(
            r.status.as_u16(),
            two_step,
            "{who} resets {target}'s two-step: {}",
            r.text()
        );
    }
}

#[tokio::test]
async fn a_reset_password_must_be_changed_before_going_on() {
    const MUST: &str = "You must choose a new password before going on.";
    let app = TestApp::new();
    let (_, coordinator) = app
        .user_with("coordinator", &["manageUsers", "readDevices"])
        .await;
    let (id, old) = app.user_with("clerk", &["readDevices"]).await;
    let reset = app
        .call(
            "POST",
            &format!("/users/users/{id}/reset-password/"),
            &coordinator,
            &json!({}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(keys(&reset), ["temporary_password"]);
    let temporary = reset["temporary_password"]
        .as_str()
        .expect("text")
        .to_owned();
    assert_eq!(temporary.len(), 19, "{temporary}");
    // The old session ended; the user record says what is pending.
    app.get("/authen/me/", &old).await.expect(401);
    let user = app
        .get(&format!("/users/users/{id}/"), &coordinator)
        .await
        .expect(200)
        .json();
    assert_eq!(user["must_change_password"], true);

    let token = login_with(&app, "clerk", &temporary).await;
    let me = app.get("/authen/me/", &token).await.expect(200).json();
    assert_eq!(me["must_change_password"], true);
    for (method, path, body) in [
        ("GET", "/inventory/devices/", json!(null)),
        (
            "GET",
            "/inventory/devices/lookup/?serial_number=SN-1",
            json!(null),
        ),
        ("POST", "/authen/mfa/totp/setup/", json!({})),
        ("GET", "/users/users/", json!(null)),
    ] {
        let r = app.call(method, path, &token, &body).await.expect(403);
        assert_eq!(r.json(), json!({"detail": MUST}), "{method} {path}");
    }
    let keep = app
        .call(
            "PATCH",
            "/users/password/",
            &token,
            &json!({"old_password": temporary, "new_password": temporary}),
        )
        .await
        .expect(400)
        .json();
    assert!(keep.get("new_password").is_some(), "{keep}");
    app.call(
        "PATCH",
        "/users/password/",
        &token,
        &json!({"old_password": temporary, "new_password": "Another-Lantern-77"}),
    )
    .await
    .expect(204);
    assert_eq!(
        app.get("/authen/me/", &token).await.expect(200).json()["must_change_password"],
        false
    );
    app.get("/inventory/devices/", &token).await.expect(200);
    // Logging out stays open to a user who must change its password.
    let other = {
        let r = app
            .call(
                "POST",
                &format!("/users/users/{id}/reset-password/"),
                &coordinator,
                &json!({}),
            )
            .await
            .expect(200)
            .json();
        login_with(
            &app,
            "clerk",
            r["temporary_password"].as_str().expect("text"),
        )
        .await
    };
    app.call("POST", "/authen/logout/", &other, &json!({}))
        .await
        .expect(204);
}

#[tokio::test]
async fn scan_names_a_device_by_label_mac_or_serial_and_hands_unknown_codes_to_intake() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let (_, scanner) = app.user_with("scanner", &["scanDevices"]).await;
    let (_, plain) = app.user_with("plain", &["manageDonors"]).await;
    let device = app
        .call(
            "POST",
            "/inventory/devices/",
            &admin,
            &json!({"type": "Laptop", "make": "Dell", "model": "5490",
                    "serial_number": "CN-0X1234", "mac_id": "00:1A:2B:3C:4D:5E",
                    "imei": "35-209900-176148-1"}),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(device["imei"], "352099001761481");
    let id = device["device_id"].as_str().expect("id").to_owned();
    let scan = |code: &str| format!("/inventory/devices/scan/?code={}", urlencode(code));
    // (code, how it matched); every one names the device.
    let matches = [
        (id.clone(), "label"),
        (format!("https://rehome.example.org/devices/{id}/"), "label"),
        ("00-1a-2b-3c-4d-5e".to_owned(), "mac_id"),
        ("352099001761481".to_owned(), "imei"),
        ("  CN-0X1234\n".to_owned(), "serial_number"),
    ];
    for (code, how) in matches {
        let got = app.get(&scan(&code), &scanner).await.expect(200).json();
        assert_eq!(got["kind"], "device", "{code}");
        assert_eq!(got["matched"], how, "{code}");
        assert_eq!(got["device"]["device_id"], id.as_str(), "{code}");
        assert_eq!(got["device"]["serial_number"], "CN-0X1234", "{code}");
    }
    assert_eq!(
        app.get(&scan(" NEW-42 "), &scanner)
            .await
            .expect(200)
            .json(),
        json!({"kind": "unknown", "serial_number": "NEW-42", "mac_id": null, "imei": null})
    );
    assert_eq!(
        app.get(&scan("AA:BB:CC:00:11:22"), &scanner)
            .await
            .expect(200)
            .json(),
        json!({"kind": "unknown", "serial_number": "AA:BB:CC:00:11:22",
               "mac_id": "aa:bb:cc:00:11:22", "imei": null})
    );
    // A label of a device that does not exist, blank and missing codes, a long one.
    app.get(
        &scan("https://rehome.example.org/devices/00000000-0000-0000-0000-000000000000"),
        &scanner,
    )
    .await
    .expect(404);
    for path in [
        scan("   "),
        "/inventory/devices/scan/".to_owned(),
        scan(&"x".repeat(513)),
    ] {
        let body = app.get(&path, &scanner).await.expect(400).json();
        assert!(body["code"][0].is_string(), "{path}: {body}");
    }
    app.get(&scan("CN-0X1234"), &plain).await.expect(403);
}

/// Percent-encodes a query value (everything but unreserved characters).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn summary_counts_devices_by_status_and_per_week() {
    // The manual clock starts on Monday 2026-03-02.
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    let (_, reader) = app.user_with("reader", &["readDevices"]).await;
    let (_, plain) = app.user_with("plain", &["scanDevices"]).await;
    let shipment = |date: &str| json!({"date_shipped": date});
    let s1 = app
        .call(
            "POST",
            "/inventory/shipments/",
            &admin,
            &shipment("2026-02-23"),
        )
        .await
        .expect(201)
        .json()["shipping_id"]
        .clone();
    let s2 = app
        .call(
            "POST",
            "/inventory/shipments/",
            &admin,
            &shipment("2026-03-09"),
        )
        .await
        .expect(201)
        .json()["shipping_id"]
        .clone();
    // (serial, received, status, shipments)
    let devices = [
        ("SN-1", "2026-03-02", "received", json!([])),
        ("SN-2", "2026-03-08", "wiped", json!([])),
        ("SN-3", "2026-02-22", "shipped", json!([s1])),
        ("SN-4", "2026-01-11", "recycled", json!([])),
        ("SN-5", "2026-01-12", "received", json!([s2])),
    ];
    for (serial, received, status, shipments) in devices {
        app.call(
            "POST",
            "/inventory/devices/",
            &admin,
            &json!({"type": "Laptop", "make": "HP", "model": "840", "serial_number": serial,
                    "date_received": received, "status": status,
                    "shipping_infos": shipments}),
        )
        .await
        .expect(201);
    }
    let counts = |c: [u64; 7]| {
        let statuses = [
            "received",
            "wiped",
            "refurbished",
            "ready",
            "shipped",
            "delivered",
            "recycled",
        ];
        Json::Array(
            statuses
                .iter()
                .zip(c)
                .map(|(s, n)| json!({"status": s, "count": n}))
                .collect(),
        )
    };
    let weeks = |rows: &[(&str, u64, u64)]| {
        Json::Array(
            rows.iter()
                .map(|(w, t, s)| json!({"week_start": w, "taken_in": t, "shipped": s}))
                .collect(),
        )
    };
    let now = app
        .get("/inventory/summary/", &reader)
        .await
        .expect(200)
        .json();
    assert_eq!(now["by_status"], counts([2, 1, 0, 0, 1, 0, 1]));
    assert_eq!(
        now["weeks"],
        weeks(&[
            ("2026-01-12", 1, 0),
            ("2026-01-19", 0, 0),
            ("2026-01-26", 0, 0),
            ("2026-02-02", 0, 0),
            ("2026-02-09", 0, 0),
            ("2026-02-16", 1, 0),
            ("2026-02-23", 0, 1),
            ("2026-03-02", 2, 0),
        ])
    );
    let then = app
        .get("/inventory/summary/?date=2026-02-25", &reader)
        .await
        .expect(200)
        .json();
    assert_eq!(
        then["weeks"],
        weeks(&[
            ("2026-01-05", 1, 0),
            ("2026-01-12", 1, 0),
            ("2026-01-19", 0, 0),
            ("2026-01-26", 0, 0),
            ("2026-02-02", 0, 0),
            ("2026-02-09", 0, 0),
            ("2026-02-16", 1, 0),
            ("2026-02-23", 0, 1),
        ])
    );
    let bad = app
        .get("/inventory/summary/?date=2026-02-30", &reader)
        .await
        .expect(400)
        .json();
    assert!(bad["date"][0].is_string(), "{bad}");
    app.get("/inventory/summary/", &plain).await.expect(403);
}
