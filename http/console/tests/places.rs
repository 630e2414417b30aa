//! The locations, donors and shipments screens through the console's router (no socket):
//! create, edit with a stale-edit check, delete with its confirmation (a stale one refused,
//! what core clears named), core's refusals in place with the input kept, a shipment's
//! devices added by scanning and removed, and callers lacking a permission refused.

mod common;

use axum::Router;
use axum::http::{StatusCode, header};
use common::{create_user, get, post, send, text};
use rehome_console::ConsoleSettings;
use rehome_core::services::Model;
use rehome_core::{Caller, Record, Rehome};
use serde_json::json;

const KEEPER: &[&str] = &[
    "readDevices",
    "editDevices",
    "manageWarehouses",
    "manageDonors",
    "manageShipments",
];

async fn console() -> (Rehome, Router) {
    let core = common::core();
    for (name, perms) in [
        ("keeper", KEEPER),
        ("viewer", &["readDevices"][..]),
        ("shipper", &["manageShipments"][..]),
    ] {
        create_user(&core, name, perms).await;
    }
    let router = rehome_console::router(core.clone(), ConsoleSettings::default());
    (core, router)
}

async fn record(core: &Rehome, model: Model, id: &str) -> Record {
    core.get(&Caller::system(), model, id)
        .await
        .expect("record")
}

async fn device(core: &Rehome, serial: &str, start_location: Option<i64>) -> String {
    common::create_device(
        core,
        json!({"serial_number": serial, "make": "Dell", "model": "T480", "type": "Laptop",
                "start_location": start_location}),
    )
    .await
}

/// Signs `name` in through the forms; answers the session cookie and its CSRF token.
async fn sign_in(router: &Router, name: &str) -> (String, String) {
    common::sign_in(router, name, "/").await
}

fn location_form<'a>(csrf: &'a str, name: &'a str, address: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("name", name),
        ("type", "Warehouse"),
        ("address", address),
        ("city", "Leeds"),
        ("postal_code", "LS1 4AP"),
        ("country", "United Kingdom"),
        ("phone", ""),
    ]
}

fn location(field: &str, r: &Record) -> String {
    match r {
        Record::Location(l) => match field {
            "name" => l.name.clone(),
            "city" => l.city.clone(),
            _ => panic!("{field}"),
        },
        _ => panic!("not a location"),
    }
}

#[tokio::test]
async fn a_location_is_created_edited_with_a_stale_check_and_deleted_after_confirming() {
    let (core, router) = console().await;
    let (cookie, csrf) = sign_in(&router, "keeper").await;

    let page = text(send(&router, get("/locations", &cookie)).await).await;
    assert!(
        page.contains(r#"href="/locations/new""#),
        "a New location link"
    );
    assert!(page.contains(">Locations</a>"), "in the navigation");
    assert!(page.contains("No locations yet.") && !page.contains("<table"));

    let r = send(
        &router,
        post(
            "/locations/new",
            &cookie,
            &location_form(&csrf, "North warehouse", "1 Mill Lane"),
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/locations/1");
    let page = text(send(&router, get("/locations/1", &cookie)).await).await;
    assert!(page.contains("<h1>North warehouse</h1>"));
    assert!(page.contains("1 Mill Lane") && page.contains("LS1 4AP"));
    assert!(page.contains(r#"href="/devices?start_location=1""#));
    assert!(page.contains(r#"href="/shipments?destination=1""#));

    // A second location at the same address: core's unique refusal beside the field, the
    // input kept.
    let r = send(
        &router,
        post(
            "/locations/new",
            &cookie,
            &location_form(&csrf, "South annex", "1 Mill Lane"),
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(page.contains("with this address already exists."), "{page}");
    assert!(page.contains(r#"value="South annex""#));
    assert!(page.contains(r#"id="f-address-error""#));

    // Edit at version 1: only the changed field is sent.
    let mut edit = location_form(&csrf, "North depot", "1 Mill Lane");
    edit.extend([
        ("version", "1"),
        ("loaded_name", "North warehouse"),
        ("loaded_type", "Warehouse"),
        ("loaded_address", "1 Mill Lane"),
        ("loaded_city", "Leeds"),
        ("loaded_postal_code", "LS1 4AP"),
        ("loaded_country", "United Kingdom"),
        ("loaded_phone", ""),
    ]);
    let page = text(send(&router, post("/locations/1", &cookie, &edit)).await).await;
    assert!(page.contains("Saved."), "{page}");
    assert_eq!(
        location("name", &record(&core, Model::Location, "1").await),
        "North depot"
    );

    // The same form again (still at version 1): someone saved meanwhile. The typing is
    // kept, what they changed is shown, nothing is written.
    let mut stale = edit.clone();
    for (k, v) in stale.iter_mut() {
        if *k == "city" {
            *v = "York";
        }
    }
    let page = text(send(&router, post("/locations/1", &cookie, &stale)).await).await;
    assert!(page.contains("Someone else saved this location"), "{page}");
    assert!(page.contains(r#"value="York""#));
    assert!(page.contains("Save mine over theirs"));
    assert_eq!(
        location("city", &record(&core, Model::Location, "1").await),
        "Leeds"
    );

    // Another stale form that changes only the city: the name it did not touch shows the
    // other person's "North depot" (not the "North warehouse" it was opened with), so saving
    // it again writes the city and keeps their name.
    let mut city_only = location_form(&csrf, "North warehouse", "1 Mill Lane");
    city_only.retain(|(k, _)| *k != "city");
    city_only.extend([
        ("city", "York"),
        ("version", "1"),
        ("loaded_name", "North warehouse"),
        ("loaded_type", "Warehouse"),
        ("loaded_address", "1 Mill Lane"),
        ("loaded_city", "Leeds"),
        ("loaded_postal_code", "LS1 4AP"),
        ("loaded_country", "United Kingdom"),
        ("loaded_phone", ""),
    ]);
    let page = text(send(&router, post("/locations/1", &cookie, &city_only)).await).await;
    assert!(page.contains("Someone else saved this location"), "{page}");
    assert!(page.contains(r#"value="York""#), "{page}");
    assert!(page.contains(r#"value="North depot""#), "{page}");
    assert!(!page.contains(r#"value="North warehouse""#), "{page}");

    // A device starts here: the confirmation says what core clears.
    let dev = device(&core, "SN-AT-NORTH", Some(1)).await;
    let page = text(send(&router, get("/locations/1/delete", &cookie)).await).await;
    assert!(page.contains("Delete North depot?"));
    assert!(page.contains("1 device</a> started here; its start location is cleared."));
    // A confirmation at a version that is no longer current is refused, nothing lost.
    let r = send(
        &router,
        post(
            "/locations/1/delete",
            &cookie,
            &[("csrf", &csrf), ("version", "1")],
        ),
    )
    .await;
    let page = text(r).await;
    assert!(page.contains("Someone changed this location after you opened this page"));
    assert!(matches!(
        core.get(&Caller::system(), Model::Location, "1").await,
        Ok(Record::Location(_))
    ));
    let r = send(
        &router,
        post(
            "/locations/1/delete",
            &cookie,
            &[("csrf", &csrf), ("version", "2")],
        ),
    )
    .await;
    let page = text(r).await;
    assert!(page.contains("North depot was deleted."), "{page}");
    assert!(
        core.get(&Caller::system(), Model::Location, "1")
            .await
            .is_err()
    );
    match record(&core, Model::Device, &dev).await {
        Record::Device(d) => assert_eq!(d.start_location, None),
        _ => panic!("not a device"),
    }
}

#[tokio::test]
async fn a_donor_refused_by_core_keeps_the_input_and_links_to_its_devices() {
    let (_core, router) = console().await;
    let (cookie, csrf) = sign_in(&router, "keeper").await;
    let form = |email: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Acme Ltd".to_owned()),
            ("email", email.to_owned()),
            ("phone", "0113 496 0000".to_owned()),
            ("address", "2 Quay St".to_owned()),
            ("contact_info", "Ask for Sam".to_owned()),
        ]
    };
    let pairs = form("not-an-address");
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = send(&router, post("/donors/new", &cookie, &refs)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(page.contains("Enter a valid email address."), "{page}");
    assert!(page.contains(r#"value="not-an-address""#));
    assert!(page.contains("Ask for Sam"));

    let pairs = form("gifts@acme.example");
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = send(&router, post("/donors/new", &cookie, &refs)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The refused create used up an id: the donor's id is the one the answer names.
    let path = r.headers()[header::LOCATION]
        .to_str()
        .expect("path")
        .to_owned();
    let id = path.strip_prefix("/donors/").expect("a donor's path");
    let page = text(send(&router, get(&path, &cookie)).await).await;
    assert!(page.contains("<h1>Acme Ltd</h1>"));
    assert!(page.contains(&format!(r#"href="/devices?donor={id}""#)));
    let page = text(send(&router, get("/donors?search=acme", &cookie)).await).await;
    assert!(page.contains("1 donor · page 1 of 1"));
    assert!(page.contains(&format!(r#"href="{path}""#)));
    let page = text(send(&router, get("/donors?search=nobody", &cookie)).await).await;
    assert!(page.contains("No donor matches."));
}

#[tokio::test]
async fn a_shipment_gains_a_device_by_scanning_and_loses_it_again() {
    let (core, router) = console().await;
    let (cookie, csrf) = sign_in(&router, "keeper").await;
    let r = send(
        &router,
        post(
            "/shipments/new",
            &cookie,
            &[
                ("csrf", &csrf),
                ("date_shipped", "2026-12-01"),
                ("destination", ""),
                ("tracking_identifier", "TRK-1"),
                ("arrived", "false"),
                ("date_delivered", ""),
            ],
        ),
    )
    .await;
    assert_eq!(r.headers()[header::LOCATION], "/shipments/1");
    // Arrived, with a delivery date: typed as yes/no and year-month-day, sent as core takes
    // them; a date core cannot read is refused beside its field, the typing kept.
    let mut arrived = vec![
        ("csrf", csrf.as_str()),
        ("version", "1"),
        ("date_shipped", "2026-12-01"),
        ("loaded_date_shipped", "2026-12-01"),
        ("destination", ""),
        ("loaded_destination", ""),
        ("tracking_identifier", "TRK-1"),
        ("loaded_tracking_identifier", "TRK-1"),
        ("arrived", "true"),
        ("loaded_arrived", "false"),
        ("date_delivered", "2026-12-31x"),
        ("loaded_date_delivered", ""),
    ];
    let page = text(send(&router, post("/shipments/1", &cookie, &arrived)).await).await;
    assert!(page.contains(r#"id="f-date_delivered-error""#), "{page}");
    assert!(page.contains(r#"value="2026-12-31x""#));
    arrived.pop();
    arrived.pop();
    arrived.extend([
        ("date_delivered", "2026-12-04"),
        ("loaded_date_delivered", ""),
    ]);
    let page = text(send(&router, post("/shipments/1", &cookie, &arrived)).await).await;
    assert!(page.contains("Saved."), "{page}");
    let Record::Shipment(s) = record(&core, Model::Shipment, "1").await else {
        panic!("a shipment")
    };
    assert!(s.arrived);
    assert_eq!(
        s.date_delivered.map(|d| d.to_string()).as_deref(),
        Some("2026-12-04")
    );

    let dev = device(&core, "SN-SHIP-1", None).await;
    let page = text(send(&router, get("/shipments/1", &cookie)).await).await;
    assert!(page.contains("<h1>Shipment 1</h1>"));
    assert!(page.contains("No device in this shipment yet."));
    assert!(page.contains(r#"name="code""#) && page.contains("data-scan"));
    // The camera's decoder comes with the scan box.
    assert!(page.contains("/static/zxing.") && page.contains("/static/scan."));

    // An unknown code: the message beside the field, the code kept.
    let page = text(
        send(
            &router,
            post(
                "/shipments/1/devices",
                &cookie,
                &[("csrf", &csrf), ("code", "SN-NOPE")],
            ),
        )
        .await,
    )
    .await;
    assert!(page.contains("No device has this code."), "{page}");
    assert!(page.contains(r#"id="scan-code-error""#));
    assert!(page.contains(r#"value="SN-NOPE""#));

    // The serial number: the device joins the shipment.
    let page = text(
        send(
            &router,
            post(
                "/shipments/1/devices",
                &cookie,
                &[("csrf", &csrf), ("code", " SN-SHIP-1 ")],
            ),
        )
        .await,
    )
    .await;
    assert!(page.contains("Added SN-SHIP-1."), "{page}");
    assert!(page.contains(&format!(r#"href="/devices/{dev}""#)));
    let Record::Device(d) = record(&core, Model::Device, &dev).await else {
        panic!("a device")
    };
    assert_eq!(
        d.shipping_infos.iter().map(|s| s.0).collect::<Vec<_>>(),
        [1]
    );
    // Again: already there, nothing changed.
    let page = text(
        send(
            &router,
            post(
                "/shipments/1/devices",
                &cookie,
                &[("csrf", &csrf), ("code", "SN-SHIP-1")],
            ),
        )
        .await,
    )
    .await;
    assert!(page.contains("SN-SHIP-1 is in this shipment already."));

    // Removed at a version that is no longer current: refused, nothing changed.
    let stale = (d.version - 1).to_string();
    let page = text(
        send(
            &router,
            post(
                "/shipments/1/devices/remove",
                &cookie,
                &[("csrf", &csrf), ("device", &dev), ("version", &stale)],
            ),
        )
        .await,
    )
    .await;
    assert!(page.contains("changed by someone else meanwhile"), "{page}");
    let version = d.version.to_string();
    let page = text(
        send(
            &router,
            post(
                "/shipments/1/devices/remove",
                &cookie,
                &[("csrf", &csrf), ("device", &dev), ("version", &version)],
            ),
        )
        .await,
    )
    .await;
    assert!(page.contains("Removed SN-SHIP-1."), "{page}");
    let Record::Device(d) = record(&core, Model::Device, &dev).await else {
        panic!("a device")
    };
    assert!(d.shipping_infos.is_empty());
    // A reload of the scan form's address leads back to the shipment.
    let r = send(&router, get("/shipments/1/devices", &cookie)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/shipments/1");
}

#[tokio::test]
async fn callers_lacking_a_permission_are_refused() {
    let (core, router) = console().await;
    core.create(
        &Caller::system(),
        Model::Shipment,
        &json!({"date_shipped": "2026-12-01"}),
    )
    .await
    .expect("shipment");
    device(&core, "SN-V1", None).await;

    // readDevices only: lists, but no create, edit or scan control; forged POSTs refused.
    let (cookie, csrf) = sign_in(&router, "viewer").await;
    let page = text(send(&router, get("/locations", &cookie)).await).await;
    assert!(!page.contains(r#"href="/locations/new""#));
    let r = send(&router, get("/locations/new", &cookie)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(text(r).await.contains("manageWarehouses"));
    let r = send(
        &router,
        post("/locations/new", &cookie, &location_form(&csrf, "X", "Y")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let none = core
        .list(
            &Caller::system(),
            Model::Location,
            &rehome_core::services::ListParams::default(),
        )
        .await
        .expect("list");
    assert_eq!(none.count, 0);
    let page = text(send(&router, get("/shipments/1", &cookie)).await).await;
    assert!(!page.contains(r#"name="code""#), "no scan form");
    assert!(!page.contains("<h2 id=\"h-edit\">"), "no edit form");
    let page = text(
        send(
            &router,
            post(
                "/shipments/1/devices",
                &cookie,
                &[("csrf", &csrf), ("code", "SN-V1")],
            ),
        )
        .await,
    )
    .await;
    assert!(page.contains("needs the editDevices permission."), "{page}");
    let r = send(
        &router,
        post(
            "/shipments/1/delete",
            &cookie,
            &[("csrf", &csrf), ("version", "1")],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        core.get(&Caller::system(), Model::Shipment, "1")
            .await
            .is_ok()
    );

    // manageShipments only: Shipments in the menu (Locations not), no device list.
    let (cookie, _) = sign_in(&router, "shipper").await;
    let page = text(send(&router, get("/shipments/1", &cookie)).await).await;
    assert!(page.contains(r#"href="/shipments""#));
    assert!(!page.contains(r#"<a href="/locations""#));
    assert!(page.contains("The devices are shown to holders of readDevices."));
    let r = send(&router, get("/locations", &cookie)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
