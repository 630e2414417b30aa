//! The audit log is a list like the others: it orders by its filter fields, `id` and
//! `timestamp`, and an unknown `ordering` is a 400 naming the allowed ones. Expected bodies and
//! orders are written by hand from the list semantics (the terms given, then id ascending).

use chrono::TimeDelta;
use rehome_tests::{TestApp, start_time};
use serde_json::{Value as Json, json};

/// The `object_id`s of a page of the audit log.
fn object_ids(page: &Json) -> Vec<String> {
    page["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|e| e["object_id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_unknown_ordering_is_refused_naming_the_allowed_fields() {
    let app = TestApp::new();
    let (_, admin) = app.superuser("admin").await;
    // One unknown term among known ones is refused too.
    for (ordering, bad) in [
        ("nosuchfield", "nosuchfield"),
        ("password", "password"),
        ("-timestamp,secret", "secret"),
    ] {
        let body = app
            .get(&format!("/admin/audit-log/?ordering={ordering}"), &admin)
            .await
            .expect(400)
            .json();
        assert_eq!(
            body,
            json!({"ordering": [format!(
                "Unknown ordering field \"{bad}\". Allowed: actor, action, object_type, \
                 object_id, id, timestamp."
            )]})
        );
    }
    // The same answer as another list gives.
    let body = app
        .get("/inventory/donors/?ordering=nosuchfield", &admin)
        .await
        .expect(400)
        .json();
    assert_eq!(
        body,
        json!({"ordering": [
            "Unknown ordering field \"nosuchfield\". Allowed: name, email, phone, id, donor_id, \
             created_at, updated_at."
        ]})
    );
}

#[tokio::test]
async fn the_audit_log_orders_by_timestamp_and_id() {
    let app = TestApp::new();
    app.superuser("admin").await;
    // Four locations created with the clock set out of order: A at 12:00, B at 10:00, C and D
    // at 11:00, so their audit entries' ids run A < B < C < D. (A session used at 12:00 is
    // not valid at 10:00: each step signs in anew.)
    let mut ids = Vec::new();
    let mut admin = String::new();
    for (name, hour) in [("A", 12), ("B", 10), ("C", 11), ("D", 11)] {
        app.clock.set(start_time() + TimeDelta::hours(hour - 9));
        admin = app.login("admin").await;
        let created = app
            .call(
                "POST",
                "/inventory/locations/",
                &admin,
                &json!({"name": name, "address": format!("{name} Street 1")}),
            )
            .await
            .expect(201)
            .json();
        ids.push(created["location_id"].to_string());
    }
    let [a, b, c, d] = [0, 1, 2, 3].map(|i| ids[i].as_str());
    let list = |ordering: &str| {
        let path = format!("/admin/audit-log/?object_type=location{ordering}");
        let app = &app;
        let admin = admin.clone();
        async move { object_ids(&app.get(&path, &admin).await.expect(200).json()) }
    };
    // Newest first by default: id descending.
    assert_eq!(list("").await, [d, c, b, a]);
    assert_eq!(list("&ordering=-id").await, [d, c, b, a]);
    assert_eq!(list("&ordering=id").await, [a, b, c, d]);
    // 10:00, 11:00 (C before D: equal timestamps fall back to id ascending), 12:00.
    assert_eq!(list("&ordering=timestamp").await, [b, c, d, a]);
    assert_eq!(list("&ordering=-timestamp").await, [a, c, d, b]);
    assert_eq!(list("&ordering=-timestamp,-id").await, [a, d, c, b]);
}
