//! Users, roles and the audit log through the console's router (no socket): a user created
//! with a role, core's no-escalation refusal shown with its sentence and the input kept, a
//! deactivation, a coordinator's password reset leading the user to the new-password page
//! before anything else, roles edited and refused, and the audit log's filters (actor, action,
//! object, a time range typed in the organisation's time zone) against entries written out
//! by hand.

mod common;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use chrono::{TimeDelta, TimeZone, Utc};
use common::{PASSWORD, csrf_of, get, location, post, send, text};
use rehome_console::ConsoleSettings;
use rehome_core::env::ManualClock;
use rehome_core::{Caller, Rehome, UserId};
use serde_json::json;

const DENIED: &str = "You do not have permission to perform this action.";

struct Console {
    core: Rehome,
    router: Router,
    clock: Arc<ManualClock>,
}

/// A console over a memory store whose clock stands at 2026-12-07 09:00 UTC (10:00 in
/// Berlin, the organisation's zone), with a coordinator "coord" (manageUsers, readDevices,
/// scanDevices,
/// viewAuditLog) and a role "Intake" (readDevices, scanDevices) made by the operator.
async fn console() -> Console {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap(),
    ));
    let core = common::core().with_clock(clock.clone());
    core.create_user(
        &Caller::system(),
        &json!({"username": "coord", "email": "coord@example.org", "password": PASSWORD,
                "first_name": "Cora", "last_name": "Ord",
                "permissions": ["manageUsers", "readDevices", "scanDevices", "viewAuditLog"]}),
    )
    .await
    .expect("coordinator");
    core.create_role(
        &Caller::system(),
        &json!({"name": "Intake", "permissions": ["readDevices", "scanDevices"]}),
    )
    .await
    .expect("role");
    let settings = ConsoleSettings {
        public_url: Some("https://rehome.example.org".into()),
        time_zone: chrono_tz::Europe::Berlin,
        ..ConsoleSettings::default()
    };
    let router = rehome_console::router(core.clone(), settings);
    Console {
        core,
        router,
        clock,
    }
}

/// A signed-in browser: its session cookie and CSRF token.
struct Who {
    cookie: String,
    csrf: String,
}

/// Signs `name` in with `password` through the forms; answers the session cookie and the
/// sign-in's redirect target.
async fn sign_in(router: &Router, name: &str, password: &str) -> (String, String) {
    common::sign_in_with(router, name, password).await
}

async fn signed_in(router: &Router, name: &str) -> Who {
    let (cookie, _) = sign_in(router, name, PASSWORD).await;
    let page = text(send(router, get("/account", &cookie)).await).await;
    Who {
        csrf: csrf_of(&page),
        cookie,
    }
}

async fn user_id(core: &Rehome, name: &str) -> UserId {
    core.find_user(name)
        .await
        .expect("read")
        .expect("exists")
        .id
}

/// Creates "ines" with the Intake role through the console as the coordinator.
async fn create_ines(c: &Console, coord: &Who) -> UserId {
    let r = send(
        &c.router,
        post(
            "/people",
            &coord.cookie,
            &[
                ("csrf", &coord.csrf),
                ("username", "ines"),
                ("email", "ines@example.org"),
                ("first_name", "Ines"),
                ("last_name", "Take"),
                ("password", PASSWORD),
                ("role", "Intake"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "created");
    let id = user_id(&c.core, "ines").await;
    assert_eq!(location(&r), format!("/people/{}?done=created", id.0));
    id
}

#[tokio::test]
async fn a_coordinator_creates_a_user_with_a_role() {
    let c = console().await;
    let coord = signed_in(&c.router, "coord").await;
    let id = create_ines(&c, &coord).await;
    let user = c
        .core
        .get_user(&Caller::system(), id)
        .await
        .expect("stored");
    assert_eq!(user.role.as_deref(), Some("Intake"));
    assert_eq!(
        (user.first_name.as_str(), user.last_name.as_str()),
        ("Ines", "Take")
    );
    assert!(user.is_active && !user.must_change_password);

    let list = text(send(&c.router, get("/people", &coord.cookie)).await).await;
    assert!(
        list.contains(&format!(r#"<a href="/people/{}">ines</a>"#, id.0)),
        "{list}"
    );
    assert!(list.contains("Ines Take"));
    let page = text(
        send(
            &c.router,
            get(&format!("/people/{}?done=created", id.0), &coord.cookie),
        )
        .await,
    )
    .await;
    assert!(page.contains("The user is created."));
    assert!(
        page.contains("The role gives: readDevices, scanDevices"),
        "{page}"
    );
}

#[tokio::test]
async fn escalation_is_refused_with_cores_sentence_and_the_input_kept() {
    let c = console().await;
    let coord = signed_in(&c.router, "coord").await;
    // A role with a permission the coordinator lacks.
    c.core
        .create_role(
            &Caller::system(),
            &json!({"name": "Editors", "permissions": ["readDevices", "editDevices"]}),
        )
        .await
        .expect("role");
    let r = send(
        &c.router,
        post(
            "/people",
            &coord.cookie,
            &[
                ("csrf", &coord.csrf),
                ("username", "eddie"),
                ("email", "eddie@example.org"),
                ("password", PASSWORD),
                ("role", "Editors"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = text(r).await;
    assert!(page.contains(DENIED), "{page}");
    assert!(page.contains(r#"value="eddie""#), "username kept");
    assert!(
        page.contains(r#"<option value="Editors" selected>"#),
        "role kept: {page}"
    );
    assert!(c.core.find_user("eddie").await.expect("read").is_none());

    // A direct grant it lacks.
    let id = create_ines(&c, &coord).await;
    let r = send(
        &c.router,
        post(
            &format!("/people/{}/grants", id.0),
            &coord.cookie,
            &[
                ("csrf", &coord.csrf),
                ("permissions", "readDevices"),
                ("permissions", "editDevices"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = text(r).await;
    assert!(page.contains(DENIED));
    assert!(
        page.contains(r#"id="grant-editDevices" name="permissions" value="editDevices" checked"#),
        "the ticks kept: {page}"
    );
    let user = c.core.get_user(&Caller::system(), id).await.expect("read");
    assert!(user.permissions.is_empty(), "nothing granted");

    // A grant it holds goes through.
    let r = send(
        &c.router,
        post(
            &format!("/people/{}/grants", id.0),
            &coord.cookie,
            &[("csrf", &coord.csrf), ("permissions", "viewAuditLog")],
        ),
    )
    .await;
    assert_eq!(location(&r), format!("/people/{}?done=grants", id.0));
    let user = c.core.get_user(&Caller::system(), id).await.expect("read");
    assert_eq!(user.permissions.names(), vec!["viewAuditLog"]);

    // A role with a permission it lacks: refused, the ticks kept.
    let r = send(
        &c.router,
        post(
            "/roles",
            &coord.cookie,
            &[
                ("csrf", &coord.csrf),
                ("name", "Shippers"),
                ("permissions", "manageShipments"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = text(r).await;
    assert!(page.contains(DENIED));
    assert!(page.contains(r#"value="Shippers""#));
    assert!(page.contains(r#"value="manageShipments" checked"#));
}

#[tokio::test]
async fn roles_are_created_edited_and_deleted_through_core() {
    let c = console().await;
    let coord = signed_in(&c.router, "coord").await;
    let r = send(
        &c.router,
        post(
            "/roles",
            &coord.cookie,
            &[
                ("csrf", &coord.csrf),
                ("name", "Front desk"),
                ("description", "Receives donations"),
                ("permissions", "readDevices"),
            ],
        ),
    )
    .await;
    assert_eq!(location(&r), "/roles/Front%20desk?done=created");
    let r = send(
        &c.router,
        post(
            "/roles/Front%20desk",
            &coord.cookie,
            &[
                ("csrf", &coord.csrf),
                ("description", "Receives donations"),
                ("permissions", "readDevices"),
                ("permissions", "viewAuditLog"),
            ],
        ),
    )
    .await;
    assert_eq!(location(&r), "/roles/Front%20desk?done=saved");
    let role = c
        .core
        .get_role(&Caller::system(), "Front desk")
        .await
        .expect("role");
    assert_eq!(
        role.permissions.names(),
        vec!["readDevices", "viewAuditLog"]
    );

    // A held role is not deleted: core's sentence.
    create_ines(&c, &coord).await;
    let r = send(
        &c.router,
        post(
            "/roles/Intake/delete",
            &coord.cookie,
            &[("csrf", &coord.csrf)],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = text(r).await;
    assert!(
        page.contains("The role is held by 1 user(s); assign them another role first."),
        "{page}"
    );
    let r = send(
        &c.router,
        post(
            "/roles/Front%20desk/delete",
            &coord.cookie,
            &[("csrf", &coord.csrf)],
        ),
    )
    .await;
    assert_eq!(location(&r), "/roles");
    assert!(
        c.core
            .get_role(&Caller::system(), "Front desk")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_deactivated_user_is_signed_out_and_cannot_sign_in() {
    let c = console().await;
    let coord = signed_in(&c.router, "coord").await;
    let id = create_ines(&c, &coord).await;
    let ines = signed_in(&c.router, "ines").await;
    let r = send(
        &c.router,
        post(
            &format!("/people/{}/active", id.0),
            &coord.cookie,
            &[("csrf", &coord.csrf), ("active", "false")],
        ),
    )
    .await;
    assert_eq!(location(&r), format!("/people/{}?done=inactive", id.0));
    assert!(
        !c.core
            .get_user(&Caller::system(), id)
            .await
            .expect("read")
            .is_active
    );
    let r = send(&c.router, get("/account", &ines.cookie)).await;
    assert_eq!(
        location(&r),
        "/sign-in?next=%2Faccount",
        "her session ended"
    );
    let page = text(send(&c.router, get(&format!("/people/{}", id.0), &coord.cookie)).await).await;
    assert!(page.contains("Reactivate user"));
}

#[tokio::test]
async fn after_a_reset_the_user_must_choose_a_new_password_before_anything_else() {
    let c = console().await;
    let coord = signed_in(&c.router, "coord").await;
    let id = create_ines(&c, &coord).await;
    let r = send(
        &c.router,
        post(
            &format!("/people/{}/reset-password", id.0),
            &coord.cookie,
            &[("csrf", &coord.csrf)],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    let at = page.find(r#"id="temporary-password">"#).expect("shown") + 24;
    let temporary = page[at..at + page[at..].find('<').expect("closed")].to_owned();
    // Four groups of four (core's format), never the old password.
    assert_eq!(temporary.len(), 19, "{temporary}");
    assert_ne!(temporary, PASSWORD);
    assert!(
        c.core
            .get_user(&Caller::system(), id)
            .await
            .expect("read")
            .must_change_password
    );

    // The old password no longer works; the temporary one leads to the new-password page.
    let (cookie, next) = sign_in(&c.router, "ines", &temporary).await;
    assert_eq!(next, "/");
    for path in ["/", "/devices", "/account"] {
        let r = send(&c.router, get(path, &cookie)).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        let to: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", path)
            .finish();
        assert_eq!(location(&r), format!("/account/new-password?{to}"));
    }
    let page = text(
        send(
            &c.router,
            get("/account/new-password?next=%2Fdevices", &cookie),
        )
        .await,
    )
    .await;
    assert!(page.contains("Choose a new password"));
    let csrf = csrf_of(&page);
    // The temporary password again is refused by core.
    let r = send(
        &c.router,
        post(
            "/account/new-password",
            &cookie,
            &[
                ("csrf", &csrf),
                ("next", "/devices"),
                ("old_password", &temporary),
                ("new_password", &temporary),
            ],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        text(r)
            .await
            .contains("Choose a new password of your own, not the temporary one.")
    );
    let r = send(
        &c.router,
        post(
            "/account/new-password",
            &cookie,
            &[
                ("csrf", &csrf),
                ("next", "/devices"),
                ("old_password", &temporary),
                ("new_password", "Intake-Desk-Morning-7"),
            ],
        ),
    )
    .await;
    assert_eq!(location(&r), "/devices");
    let r = send(&c.router, get("/devices", &cookie)).await;
    assert_eq!(r.status(), StatusCode::OK, "on with the same session");
    assert!(
        !c.core
            .get_user(&Caller::system(), id)
            .await
            .expect("read")
            .must_change_password
    );
}

/// The audit table's rows as (actor, action, object) texts.
fn audit_rows(page: &str) -> Vec<(String, String, String)> {
    let Some(start) = page.find("<tbody>") else {
        return Vec::new();
    };
    let end = page[start..].find("</tbody>").expect("closed") + start;
    page[start..end]
        .split("<tr>")
        .skip(1)
        .map(|row| {
            let cells: Vec<String> = row.split("<td").skip(1).map(strip).collect();
            (cells[1].clone(), cells[2].clone(), cells[3].clone())
        })
        .collect()
}

/// The text of a cell (tags removed, from after the opening tag's `>`).
fn strip(cell: &str) -> String {
    let cell = &cell[cell.find('>').map_or(0, |i| i + 1)..];
    let mut out = String::new();
    let mut in_tag = false;
    for ch in cell.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_action_object_and_time() {
    let c = console().await;
    let coord = signed_in(&c.router, "coord").await; // 09:00 UTC, 10:00 Berlin
    c.clock.advance(TimeDelta::hours(1)); // 10:00 UTC
    let id = create_ines(&c, &coord).await;
    c.clock.advance(TimeDelta::hours(1)); // 11:00 UTC
    send(
        &c.router,
        post(
            &format!("/people/{}/reset-password", id.0),
            &coord.cookie,
            &[("csrf", &coord.csrf)],
        ),
    )
    .await;
    let ines = format!("user {}", id.0);
    let coord_id = user_id(&c.core, "coord").await;
    let coord_obj = format!("user {}", coord_id.0);
    let rows = |path: String| {
        let router = c.router.clone();
        let cookie = coord.cookie.clone();
        async move {
            let r = send(&router, get(&path, &cookie)).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            audit_rows(&text(r).await)
        }
    };
    let e = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());

    // By actor (name), newest first; the operator's entries (role, coordinator) are not hers.
    assert_eq!(
        rows("/audit?actor=coord".into()).await,
        vec![
            e("coord", "auth.password_reset", &ines),
            e("coord", "user.create", &ines),
            e("coord", "auth.login", &coord_obj),
        ]
    );
    // By id too.
    assert_eq!(rows(format!("/audit?actor={}", coord_id.0)).await.len(), 3);
    assert_eq!(
        rows("/audit?action=user.create".into()).await,
        vec![
            e("coord", "user.create", &ines),
            e("system", "user.create", &coord_obj),
        ]
    );
    assert_eq!(
        rows(format!("/audit?object_type=user&object_id={}", id.0)).await,
        vec![
            e("coord", "auth.password_reset", &ines),
            e("coord", "user.create", &ines),
        ]
    );
    assert_eq!(
        rows("/audit?object_type=role".into()).await,
        vec![e("system", "role.create", "role Intake")]
    );
    // A range typed in Berlin time: 11:30 to 12:30 there is 10:30 to 11:30 UTC.
    assert_eq!(
        rows("/audit?since=2026-12-07T11%3A30&until=2026-12-07T12%3A30".into()).await,
        vec![e("coord", "auth.password_reset", &ines)]
    );
    // Times are shown in Berlin time.
    let page = text(
        send(
            &c.router,
            get("/audit?action=auth.password_reset", &coord.cookie),
        )
        .await,
    )
    .await;
    assert!(
        page.contains(r#"<time datetime="2026-12-07T11:00:00+00:00">2026-12-07 12:00</time>"#),
        "{page}"
    );
    // Objects link to their pages.
    assert!(page.contains(&format!(r#"<a href="/people/{}">{ines}</a>"#, id.0)));
    // An unknown actor and a bad time are errors in place.
    let page = text(send(&c.router, get("/audit?actor=nobody", &coord.cookie)).await).await;
    assert!(
        page.contains("No user is called &quot;nobody&quot;."),
        "{page}"
    );
    let page = text(send(&c.router, get("/audit?since=yesterday", &coord.cookie)).await).await;
    assert!(
        page.contains("Enter a valid date/time (RFC 3339 or YYYY-MM-DD)."),
        "{page}"
    );
    assert!(page.contains(r#"value="yesterday""#), "kept");
}

#[tokio::test]
async fn without_manage_users_the_screens_are_refused_and_not_in_the_menu() {
    let c = console().await;
    let coord = signed_in(&c.router, "coord").await;
    create_ines(&c, &coord).await;
    let ines = signed_in(&c.router, "ines").await;
    for path in ["/people", "/roles", "/audit"] {
        let r = send(&c.router, get(path, &ines.cookie)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let home = text(send(&c.router, get("/", &ines.cookie)).await).await;
    assert!(!home.contains(r#"href="/people""#));
    assert!(!home.contains(r#"href="/audit""#));
    let home = text(send(&c.router, get("/", &coord.cookie)).await).await;
    for link in [r#"href="/people""#, r#"href="/roles""#, r#"href="/audit""#] {
        assert!(home.contains(link), "{link}");
    }
}

#[tokio::test]
async fn refusals_on_a_user_page_are_shown_in_place_with_cores_sentence() {
    let c = console().await;
    c.core
        .create_user(
            &Caller::system(),
            &json!({"username": "root", "email": "root@example.org", "password": PASSWORD,
                    "is_superuser": true}),
        )
        .await
        .expect("superuser");
    let coord = signed_in(&c.router, "coord").await;
    let root = user_id(&c.core, "root").await;
    // Only a superuser deactivates or resets a superuser.
    for (path, form) in [
        ("active", &[("active", "false")][..]),
        ("reset-password", &[][..]),
    ] {
        let mut fields = vec![("csrf", coord.csrf.as_str())];
        fields.extend_from_slice(form);
        let r = send(
            &c.router,
            post(
                &format!("/people/{}/{path}", root.0),
                &coord.cookie,
                &fields,
            ),
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        let page = text(r).await;
        assert!(page.contains(DENIED), "{path}: {page}");
        assert!(page.contains("Not saved. The reason is under"), "{path}");
    }
    let user = c
        .core
        .get_user(&Caller::system(), root)
        .await
        .expect("read");
    assert!(user.is_active && !user.must_change_password);

    // A two-step reset for a user without it: core's conflict sentence.
    let id = create_ines(&c, &coord).await;
    let r = send(
        &c.router,
        post(
            &format!("/people/{}/reset-two-step", id.0),
            &coord.cookie,
            &[("csrf", &coord.csrf)],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        text(r)
            .await
            .contains("Two-step login is not on for this user.")
    );

    // One's own page offers no reset; a forged one is refused by core.
    let me = user_id(&c.core, "coord").await;
    let page = text(send(&c.router, get(&format!("/people/{}", me.0), &coord.cookie)).await).await;
    assert!(!page.contains("Reset password"));
    let r = send(
        &c.router,
        post(
            &format!("/people/{}/reset-password", me.0),
            &coord.cookie,
            &[("csrf", &coord.csrf)],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        text(r)
            .await
            .contains("You cannot reset your own password; change it instead.")
    );
}
