//! The device and label screens through the console's router (no socket): the list's
//! filters with REST's semantics, a bad filter's error in place, status moves offering only
//! the allowed next statuses, a stale edit keeping the user's input, batches all or nothing,
//! labels, and a user without editDevices seeing no edit control and refused on a forged POST.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Response, StatusCode};
use common::{create_user, get, post, send, text};
use rehome_console::ConsoleSettings;
use rehome_core::services::Model;
use rehome_core::{Caller, Record, Rehome};
use serde_json::json;

const TECH: &[&str] = &[
    "readDevices",
    "editDevices",
    "bulkUploadDevices",
    "viewAuditLog",
];

async fn console() -> (Rehome, Router) {
    let core = common::core();
    for (name, perms) in [
        ("tech", TECH),
        ("tech2", TECH),
        ("viewer", &["readDevices"][..]),
    ] {
        create_user(&core, name, perms).await;
    }
    let settings = ConsoleSettings {
        public_url: Some("https://rehome.example.org".into()),
        ..ConsoleSettings::default()
    };
    let router = rehome_console::router(core.clone(), settings);
    (core, router)
}

async fn device(core: &Rehome, serial: &str, make: &str, status: &str) -> String {
    common::create_device(
        core,
        json!({"serial_number": serial, "make": make, "model": "T480", "type": "Laptop",
                "status": status}),
    )
    .await
}

/// Signs `name` in through the forms; answers the session cookie and its CSRF token.
async fn sign_in(router: &Router, name: &str) -> (String, String) {
    common::sign_in(router, name, "/devices").await
}

/// The statuses offered as buttons on a device page (`Mark <status>`).
fn status_buttons(page: &str) -> Vec<String> {
    let Some(at) = page.find(r#"<form class="status-moves""#) else {
        return Vec::new();
    };
    let end = page[at..].find("</form>").expect("end") + at;
    page[at..end]
        .split(r#"type="submit" name="status" value=""#)
        .skip(1)
        .map(|s| s.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn the_list_filters_like_rest_and_shows_a_bad_filter_in_place() {
    let (core, router) = console().await;
    let wiped = device(&core, "SN-W1", "Dell", "wiped").await;
    device(&core, "SN-R1", "Lenovo", "received").await;
    device(&core, "SN-R2", "Dell", "received").await;
    let (cookie, _) = sign_in(&router, "tech").await;

    let page = text(send(&router, get("/devices?status=wiped", &cookie)).await).await;
    assert!(page.contains(&format!(r#"href="/devices/{wiped}""#)));
    assert!(page.contains("SN-W1"));
    assert!(!page.contains("SN-R1") && !page.contains("SN-R2"));
    assert!(page.contains("1 devices · page 1 of 1"));

    let page = text(send(&router, get("/devices?make=Dell&search=R2", &cookie)).await).await;
    assert!(page.contains("SN-R2") && !page.contains("SN-W1") && !page.contains("SN-R1"));

    let r = send(&router, get("/devices?status=lost&page_size=x", &cookie)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(page.contains("Select a valid choice. lost is not one of the available choices."));
    assert!(!page.contains("<table"));

    // The filters by id are folded away unless one is set.
    let page = text(send(&router, get("/devices", &cookie)).await).await;
    assert!(page.contains(r#"<details class="more-filters"><summary>More filters</summary>"#));
    let page = text(send(&router, get("/devices?end_location=7", &cookie)).await).await;
    assert!(page.contains(r#"<details class="more-filters" open><summary>More filters</summary>"#));

    // Pages: two a page, three devices.
    let page = text(send(&router, get("/devices?page_size=2", &cookie)).await).await;
    assert!(page.contains("3 devices · page 1 of 2"));
    assert!(page.contains(r#"href="/devices?page_size=2&amp;page=2" rel="next""#));
}

#[tokio::test]
async fn a_device_moves_only_to_its_allowed_next_statuses() {
    let (core, router) = console().await;
    let id = device(&core, "SN-1", "Dell", "received").await;
    let (cookie, csrf) = sign_in(&router, "tech").await;

    let page = text(send(&router, get(&format!("/devices/{id}"), &cookie)).await).await;
    // From received, only wiped and recycled (nothing gets past wiped unwiped).
    assert_eq!(status_buttons(&page), ["wiped", "recycled"]);
    assert!(page.contains(">Mark wiped</button>"));
    let r = send(
        &router,
        post(
            &format!("/devices/{id}/status"),
            &cookie,
            &[("csrf", &csrf), ("status", "wiped"), ("version", "1")],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = text(send(&router, get(&format!("/devices/{id}"), &cookie)).await).await;
    assert_eq!(
        status_buttons(&page),
        ["refurbished", "ready", "shipped", "delivered", "recycled"]
    );
    let r = send(
        &router,
        post(
            &format!("/devices/{id}/status"),
            &cookie,
            &[("csrf", &csrf), ("status", "ready"), ("version", "2")],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = text(send(&router, get(&format!("/devices/{id}"), &cookie)).await).await;
    assert!(page.contains(r#"<span class="status">ready</span>"#));
    // The history tells it.
    assert!(page.contains("device.update"));
    assert!(page.contains("status: received → wiped"));
    assert!(page.contains("status: wiped → ready"));

    // A forged move backwards is core's refusal, shown beside the status.
    let r = send(
        &router,
        post(
            &format!("/devices/{id}/status"),
            &cookie,
            &[("csrf", &csrf), ("status", "received"), ("version", "3")],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(page.contains(r#"<p class="error" id="f-status-error">"#));
}

#[tokio::test]
async fn a_stale_edit_keeps_the_input_and_shows_what_changed() {
    let (core, router) = console().await;
    let id = device(&core, "SN-1", "Dell", "received").await;
    let (first, csrf1) = sign_in(&router, "tech").await;
    let (second, csrf2) = sign_in(&router, "tech2").await;
    let path = format!("/devices/{id}");

    // Both load the form at version 1; the first saves a new model.
    let loaded = [
        ("loaded_type", "Laptop"),
        ("loaded_make", "Dell"),
        ("loaded_model", "T480"),
        ("loaded_serial_number", "SN-1"),
        ("version", "1"),
    ];
    let mut form1 = vec![
        ("csrf", csrf1.as_str()),
        ("type", "Laptop"),
        ("make", "Dell"),
        ("model", "T490"),
        ("serial_number", "SN-1"),
    ];
    form1.extend(loaded);
    let r = send(&router, post(&path, &first, &form1)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(text(r).await.contains("Saved."));

    // The second, still at version 1, changes the make: a conflict, its input kept.
    let mut form2 = vec![
        ("csrf", csrf2.as_str()),
        ("type", "Laptop"),
        ("make", "HP"),
        ("model", "T480"),
        ("serial_number", "SN-1"),
    ];
    form2.extend(loaded);
    let r = send(&router, post(&path, &second, &form2)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(page.contains("Someone else saved this device"));
    assert!(page.contains(r#"id="f-make" name="make" type="text" value="HP""#));
    assert!(page.contains("They changed it from <q>T480</q> to <q>T490</q>."));
    assert!(page.contains(r#"name="version" value="2""#));
    match core
        .get(&Caller::system(), Model::Device, &id)
        .await
        .expect("device")
    {
        Record::Device(d) => assert_eq!((d.make.as_str(), d.model.as_str()), ("Dell", "T490")),
        _ => panic!("not a device"),
    }

    // The model, which this user did not touch, now shows theirs.
    assert!(page.contains(r#"id="f-model" name="model" type="text" value="T490""#));
    assert!(page.contains("Save my changes"));

    // Save: the form as the conflict page drew it, at version 2. Only the make is this
    // user's change, so the other's model stays.
    let over = edit_form(&page);
    let pairs: Vec<(&str, &str)> = over.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = send(&router, post(&path, &second, &pairs)).await;
    assert!(text(r).await.contains("Saved."));
    match core
        .get(&Caller::system(), Model::Device, &id)
        .await
        .expect("device")
    {
        Record::Device(d) => {
            assert_eq!(
                (d.make.as_str(), d.model.as_str(), d.version),
                ("HP", "T490", 3)
            )
        }
        _ => panic!("not a device"),
    }
}

/// Every `name`/`value` of the `<input>`s inside the device page's edit form, HTML entities
/// undone: what a browser submits when the user presses the button without typing.
fn edit_form(page: &str) -> Vec<(String, String)> {
    let at = page
        .find(r#"<form class="stack edit""#)
        .expect("an edit form");
    let end = page[at..].find("</form>").expect("its end") + at;
    let attr = |tag: &str, name: &str| -> Option<String> {
        let key = format!(" {name}=\"");
        let s = tag.find(&key)? + key.len();
        let e = tag[s..].find('"')? + s;
        Some(
            tag[s..e]
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&#39;", "'")
                .replace("&amp;", "&"),
        )
    };
    page[at..end]
        .split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
            Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
        })
        .collect()
}

/// `form` with `name` set to `value`, as if typed.
fn typed(form: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    form.iter()
        .map(|(k, v)| {
            if k == name {
                (k.clone(), value.to_owned())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect()
}

async fn post_form(
    router: &Router,
    path: &str,
    cookie: &str,
    form: &[(String, String)],
) -> Response<Body> {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    send(router, post(path, cookie, &pairs)).await
}

#[tokio::test]
async fn saving_mine_after_a_conflict_keeps_the_other_change() {
    let (core, router) = console().await;
    let id = device(&core, "SN-1", "Dell", "received").await;
    let (a, _) = sign_in(&router, "tech").await;
    let (b, _) = sign_in(&router, "tech2").await;
    let path = format!("/devices/{id}");

    // A loads the form; B loads it, changes the make and saves.
    let a_form = edit_form(&text(send(&router, get(&path, &a)).await).await);
    let b_form = edit_form(&text(send(&router, get(&path, &b)).await).await);
    let r = post_form(&router, &path, &b, &typed(&b_form, "make", "Lenovo")).await;
    assert!(text(r).await.contains("Saved."));

    // A, still at version 1, writes notes and saves: a conflict, A's notes kept, B's make
    // shown with what A has (A did not change it).
    let r = post_form(&router, &path, &a, &typed(&a_form, "notes", "Hinge loose")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(page.contains("Someone else saved this device"));
    assert!(page.contains(r#"id="f-notes" name="notes" type="text" value="Hinge loose""#));
    assert!(page.contains(r#"id="f-make" name="make" type="text" value="Lenovo""#));
    assert!(page.contains("<caption>What they changed</caption>"));
    assert!(page.contains(
        r#"<th scope="row" data-label="Field">Make</th><td data-label="When you opened it"><q>Dell</q></td><td data-label="Theirs (saved)"><q>Lenovo</q></td><td data-label="Yours"><span class="muted">Not changed: theirs is kept</span></td>"#
    ));
    assert!(!page.contains(r#"data-label="Field">Notes</th>"#));
    match core.get(&Caller::system(), Model::Device, &id).await {
        Ok(Record::Device(d)) => {
            assert_eq!(
                (d.make.as_str(), d.notes.as_str(), d.version),
                ("Lenovo", "", 2)
            )
        }
        _ => panic!("device"),
    }

    // A saves again as the page stands: the notes are A's, the make stays B's.
    let r = post_form(&router, &path, &a, &edit_form(&page)).await;
    assert!(text(r).await.contains("Saved."));
    match core.get(&Caller::system(), Model::Device, &id).await {
        Ok(Record::Device(d)) => assert_eq!(
            (d.make.as_str(), d.notes.as_str(), d.version),
            ("Lenovo", "Hinge loose", 3)
        ),
        _ => panic!("device"),
    }

    // When both changed the same field, saving mine replaces theirs (and says so first):
    // both load version 3, B saves the make HP, A (at 3) changes the make to Dell.
    let a_form = edit_form(&text(send(&router, get(&path, &a)).await).await);
    let b_form = edit_form(&text(send(&router, get(&path, &b)).await).await);
    let r = post_form(&router, &path, &b, &typed(&b_form, "make", "HP")).await;
    assert!(text(r).await.contains("Saved."));
    let r = post_form(&router, &path, &a, &typed(&a_form, "make", "Dell")).await;
    let page = text(r).await;
    assert!(page.contains(r#"id="f-make" name="make" type="text" value="Dell""#));
    assert!(page.contains(
        r#"<td data-label="Yours"><q>Dell</q> <span class="muted">(saving replaces theirs)</span></td>"#
    ));
    let r = post_form(&router, &path, &a, &edit_form(&page)).await;
    assert!(text(r).await.contains("Saved."));
    match core.get(&Caller::system(), Model::Device, &id).await {
        Ok(Record::Device(d)) => assert_eq!(
            (d.make.as_str(), d.notes.as_str(), d.version),
            ("Dell", "Hinge loose", 5)
        ),
        _ => panic!("device"),
    }
}

#[tokio::test]
async fn a_user_without_edit_devices_sees_no_control_and_a_forged_post_is_refused() {
    let (core, router) = console().await;
    let id = device(&core, "SN-1", "Dell", "received").await;
    let (cookie, csrf) = sign_in(&router, "viewer").await;
    let list = text(send(&router, get("/devices", &cookie)).await).await;
    assert!(list.contains("SN-1"));
    assert!(!list.contains("Move status") && !list.contains("Edit together"));
    let page = text(send(&router, get(&format!("/devices/{id}"), &cookie)).await).await;
    assert!(!page.contains("Move status") && !page.contains(r#"id="f-make""#));
    assert!(status_buttons(&page).is_empty() && !page.contains(">Mark "));

    for (path, form) in [
        (
            format!("/devices/{id}/status"),
            vec![
                ("csrf", csrf.as_str()),
                ("status", "wiped"),
                ("version", "1"),
            ],
        ),
        (
            format!("/devices/{id}"),
            vec![("csrf", csrf.as_str()), ("make", "HP"), ("version", "1")],
        ),
        (
            "/devices/batch".to_owned(),
            vec![
                ("csrf", csrf.as_str()),
                ("ids", id.as_str()),
                ("action", "status"),
                ("status", "wiped"),
            ],
        ),
    ] {
        let r = send(&router, post(&path, &cookie, &form)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    match core
        .get(&Caller::system(), Model::Device, &id)
        .await
        .expect("device")
    {
        Record::Device(d) => assert_eq!((d.make.as_str(), d.version), ("Dell", 1)),
        _ => panic!("not a device"),
    }
}

#[tokio::test]
async fn a_selection_moves_all_or_nothing_with_errors_per_device() {
    let (core, router) = console().await;
    let a = device(&core, "SN-A", "Dell", "received").await;
    let b = device(&core, "SN-B", "Dell", "wiped").await;
    let (cookie, csrf) = sign_in(&router, "tech").await;

    // To ready: a (received) may not skip wiping, so neither moves.
    let r = send(
        &router,
        post(
            "/devices/batch",
            &cookie,
            &[
                ("csrf", &csrf),
                ("ids", &a),
                ("ids", &b),
                ("action", "status"),
                ("status", "ready"),
            ],
        ),
    )
    .await;
    let page = text(r).await;
    assert!(page.contains("Nothing was changed"));
    assert!(page.contains(&format!(r#"<a href="/devices/{a}">{a}</a>: status"#)));
    assert!(!page.contains(&format!(r#"<a href="/devices/{b}">"#)));
    for id in [&a, &b] {
        match core.get(&Caller::system(), Model::Device, id).await {
            Ok(Record::Device(d)) => assert_eq!(d.version, 1),
            _ => panic!("device"),
        }
    }

    // Edit together: the blank fields are left alone.
    let r = send(
        &router,
        post(
            "/devices/batch",
            &cookie,
            &[
                ("csrf", &csrf),
                ("ids", &a),
                ("ids", &b),
                ("action", "edit"),
                ("set_make", "Lenovo"),
                ("set_model", ""),
            ],
        ),
    )
    .await;
    assert!(text(r).await.contains("2 device(s) updated."));
    for id in [&a, &b] {
        match core.get(&Caller::system(), Model::Device, id).await {
            Ok(Record::Device(d)) => {
                assert_eq!((d.make.as_str(), d.model.as_str()), ("Lenovo", "T480"))
            }
            _ => panic!("device"),
        }
    }
}

#[tokio::test]
async fn labels_carry_the_qr_serial_make_and_model() {
    let (core, router) = console().await;
    let a = device(&core, "SN-A", "Dell", "received").await;
    let b = device(&core, "SN-B", "HP", "received").await;
    let (cookie, _) = sign_in(&router, "viewer").await;
    let r = send(
        &router,
        get(&format!("/labels?ids={a}&ids={b}&layout=a4"), &cookie),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert_eq!(page.matches("<svg").count(), 2);
    assert!(page.contains(r#"class="labels labels-a4""#));
    assert!(page.contains("SN-A") && page.contains("Dell T480"));
    assert!(page.contains("SN-B") && page.contains("HP T480"));
    assert!(!page.contains("style="));

    let r = send(&router, get("/labels?ids=nothing-here", &cookie)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = send(&router, get("/labels", &cookie)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
