//! The contract's last deviations (issue 12), black-box through the real router, each with
//! its expected answer written by hand:
//!
//! 1. `GET /users/users/{own id}/` without manageUsers is 403 (a user reads itself at
//!    `/authen/me/`);
//! 2. `/users/password/` refuses unknown fields with a 400 naming them;
//! 3. with registration closed, `/users/register/` is 403 for everyone, user managers and
//!    superusers included (they create users at `/users/users/`);
//! 4. the contract change: a user manager deactivates, deletes, or changes the username,
//!    email, role or grants of a user only when it holds every permission that user holds.

use rehome_http::{Registration, Settings};
use rehome_tests::{PASSWORD, Req, TestApp};
use serde_json::{Value as Json, json};

const DENIED: &str = "You do not have permission to perform this action.";

fn denied() -> Json {
    json!({ "detail": DENIED })
}

#[tokio::test]
async fn own_user_record_needs_manage_users() {
    let app = TestApp::new();
    let (id, token) = app.user_with("plain", &["readDevices"]).await;
    let r = app
        .get(&format!("/users/users/{id}/"), &token)
        .await
        .expect(403);
    assert_eq!(r.json(), denied());
    // Writes to it were refused already; they stay refused.
    app.call(
        "PATCH",
        &format!("/users/users/{id}/"),
        &token,
        &json!({"first_name": "P"}),
    )
    .await
    .expect(403);
    let me = app.get("/authen/me/", &token).await.expect(200).json();
    assert_eq!(
        (me["id"].clone(), me["username"].clone()),
        (json!(id), json!("plain"))
    );
    // A user manager reads its own record there.
    let (mid, mtoken) = app.user_with("boss", &["manageUsers"]).await;
    let r = app
        .get(&format!("/users/users/{mid}/"), &mtoken)
        .await
        .expect(200);
    assert_eq!(r.json()["username"], "boss");
}

#[tokio::test]
async fn password_change_refuses_unknown_fields() {
    let app = TestApp::new();
    let (_, token) = app.user_with("pat", &[]).await;
    for method in ["PUT", "PATCH"] {
        let r = app
            .call(
                method,
                "/users/password/",
                &token,
                &json!({"old_password": PASSWORD, "new_password": "Another-Lantern-77",
                        "confirm_password": "Another-Lantern-77", "is_superuser": true}),
            )
            .await
            .expect(400);
        assert_eq!(
            r.json(),
            json!({"confirm_password": ["Unknown field."], "is_superuser": ["Unknown field."]}),
            "{method}"
        );
    }
    // Nothing changed: the old password still logs in, the session still works.
    app.login("pat").await;
    app.get("/authen/me/", &token).await.expect(200);
    // The known fields alone still work.
    app.call(
        "PATCH",
        "/users/password/",
        &token,
        &json!({"old_password": PASSWORD, "new_password": "Another-Lantern-77"}),
    )
    .await
    .expect(204);
}

#[tokio::test]
async fn grant_changes_refuse_unknown_fields() {
    let app = TestApp::new();
    let (_, root) = app.superuser("root").await;
    app.user_with("sam", &["readDevices"]).await;
    let path = "/users/user-permissions/sam/";
    for method in ["PATCH", "PUT", "DELETE"] {
        let r = app
            .call(
                method,
                path,
                &root,
                &json!({"permissions": ["editDevices"], "role": "admin", "is_superuser": true}),
            )
            .await
            .expect(400);
        assert_eq!(
            r.json(),
            json!({"role": ["Unknown field."], "is_superuser": ["Unknown field."]}),
            "{method}"
        );
    }
    // Unknown fields and a bad list are reported together.
    let r = app
        .call(
            "PATCH",
            path,
            &root,
            &json!({"permissions": ["fly"], "x": 1}),
        )
        .await
        .expect(400);
    assert_eq!(
        r.json(),
        json!({"permissions": ["\"fly\" is not a valid permission."], "x": ["Unknown field."]})
    );
    // Nothing changed.
    let r = app.get(path, &root).await.expect(200);
    assert_eq!(r.json(), json!({"permissions": ["readDevices"]}));
    // The one field alone works.
    let r = app
        .call(
            "PATCH",
            path,
            &root,
            &json!({"permissions": ["editDevices"]}),
        )
        .await
        .expect(200);
    assert_eq!(
        r.json(),
        json!({"permissions": ["readDevices", "editDevices"]})
    );
}

#[tokio::test]
async fn closed_registration_refuses_everyone() {
    let app = TestApp::with_settings(Settings {
        registration: Registration::Closed,
        ..Settings::default()
    });
    let (_, manager) = app.user_with("boss", &["manageUsers"]).await;
    let (_, root) = app.superuser("root").await;
    let body = json!({"username": "newbie", "email": "newbie@example.org", "password": PASSWORD});
    for who in [None, Some(&manager), Some(&root)] {
        let mut req = Req::new("POST", "/users/register/").json(&body);
        if let Some(t) = who {
            req = req.token(t);
        }
        let r = app.send(req).await.expect(403);
        assert_eq!(
            r.json(),
            json!({"detail": "Registration is closed on this server."})
        );
    }
    assert!(app.core.find_user("newbie").await.expect("find").is_none());
    // User managers create users at /users/users/.
    app.call("POST", "/users/users/", &manager, &body)
        .await
        .expect(201);
}

/// (method, path, body, status for the manager) on `greater`, who holds viewAuditLog, which
/// the manager lacks. `{g}` is greater's id.
const ON_GREATER: [(&str, &str, &str, u16); 11] = [
    ("PATCH", "/users/users/{g}/", r#"{"is_active": false}"#, 403),
    ("DELETE", "/users/users/{g}/", "", 403),
    (
        "PATCH",
        "/users/users/{g}/",
        r#"{"username": "grand"}"#,
        403,
    ),
    (
        "PATCH",
        "/users/users/{g}/",
        r#"{"email": "g@elsewhere.example"}"#,
        403,
    ),
    ("PATCH", "/users/users/{g}/", r#"{"role": "readers"}"#, 403),
    (
        "PATCH",
        "/users/users/{g}/",
        r#"{"permissions": ["readDevices"]}"#,
        403,
    ),
    (
        "PUT",
        "/users/user-permissions/greater/",
        r#"{"permissions": ["readDevices"]}"#,
        403,
    ),
    (
        "DELETE",
        "/users/user-permissions/greater/",
        r#"{"permissions": ["viewAuditLog"]}"#,
        403,
    ),
    ("DELETE", "/users/user-permissions/greater/clear/", "", 403),
    (
        "PATCH",
        "/users/users/{g}/",
        r#"{"password": "Another-Lantern-77"}"#,
        403,
    ),
    // Names are not standing: no takeover, nobody cut off.
    (
        "PATCH",
        "/users/users/{g}/",
        r#"{"first_name": "Gus"}"#,
        200,
    ),
];

async fn world() -> (TestApp, i64, String, String) {
    let app = TestApp::new();
    app.core
        .create_role(
            &rehome_core::Caller::system(),
            &json!({"name": "readers", "permissions": ["readDevices"]}),
        )
        .await
        .expect("role");
    let (_, manager) = app.user_with("boss", &["manageUsers", "readDevices"]).await;
    let (_, root) = app.superuser("root").await;
    let g = app
        .create_user(
            "greater",
            json!({"permissions": ["readDevices", "viewAuditLog"]}),
        )
        .await;
    (app, g, manager, root)
}

async fn send(app: &TestApp, token: &str, method: &str, path: &str, body: &str) -> u16 {
    let mut req = Req::new(method, path).token(token);
    if !body.is_empty() {
        req = req.json(&serde_json::from_str(body).expect("a JSON body"));
    }
    app.send(req).await.status.as_u16()
}

#[tokio::test]
async fn user_managers_act_only_on_users_holding_nothing_they_lack() {
    let mut failures = Vec::new();
    for (method, template, body, want) in ON_GREATER {
        let (app, g, manager, root) = world().await;
        let path = template.replace("{g}", &g.to_string());
        let before = app.get(&format!("/users/users/{g}/"), &root).await.json();
        let got = send(&app, &manager, method, &path, body).await;
        if got != want {
            failures.push(format!("{method} {path} {body}: got {got}, want {want}"));
        }
        if want == 403 {
            let after = app.get(&format!("/users/users/{g}/"), &root).await.json();
            if after != before {
                failures.push(format!("{method} {path} {body}: changed {after}"));
            }
        }
        // A superuser holds every permission: it may do all of it.
        let (app, g, _, root) = world().await;
        let path = template.replace("{g}", &g.to_string());
        let got = send(&app, &root, method, &path, body).await;
        let ok = if method == "DELETE" && path.starts_with("/users/users/") {
            204
        } else {
            200
        };
        if got != ok {
            failures.push(format!(
                "{method} {path} {body} as root: got {got}, want {ok}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same requests on a user holding nothing the manager lacks are all allowed.
#[tokio::test]
async fn user_managers_act_on_lesser_users() {
    let (app, _, manager, _) = world().await;
    let l = app
        .create_user("lesser", json!({"permissions": ["readDevices"]}))
        .await;
    let p = format!("/users/users/{l}/");
    for (method, path, body, want) in [
        ("PATCH", p.as_str(), r#"{"username": "smaller"}"#, 200),
        (
            "PATCH",
            p.as_str(),
            r#"{"email": "s@elsewhere.example"}"#,
            200,
        ),
        ("PATCH", p.as_str(), r#"{"role": "readers"}"#, 200),
        (
            "PUT",
            "/users/user-permissions/smaller/",
            r#"{"permissions": []}"#,
            200,
        ),
        ("PATCH", p.as_str(), r#"{"is_active": false}"#, 200),
        ("DELETE", p.as_str(), "", 204),
    ] {
        let got = send(&app, &manager, method, path, body).await;
        assert_eq!(got, want, "{method} {path} {body}");
    }
}
