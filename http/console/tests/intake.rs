//! Intake and scanning through the console's router (no socket): every outcome of a scan
//! (label id, label address, serial, MAC, unknown code to a prefilled intake, a deleted
//! device's label, a blank code, a caller who may not scan), and the intake form (field errors
//! beside the fields with the typing kept, success to the new device's page, refusal without
//! createDevices). Expectations are written by hand.

mod common;

use axum::Router;
use axum::http::StatusCode;
use common::{create_user, get, location, post, send, text};
use rehome_console::ConsoleSettings;
use rehome_core::services::Model;
use rehome_core::{Caller, Record, Rehome};
use serde_json::json;

async fn console() -> (Rehome, Router) {
    let core = common::core();
    for (name, perms) in [
        ("tech", &["readDevices", "createDevices", "scanDevices"][..]),
        ("scanner", &["scanDevices"][..]),
        ("auditor", &["viewAuditLog"][..]),
    ] {
        create_user(&core, name, perms).await;
    }
    let router = rehome_console::router(core.clone(), ConsoleSettings::default());
    (core, router)
}

/// A device made by the system with `serial` and `mac`.
async fn device(core: &Rehome, serial: &str, mac: &str) -> String {
    common::create_device(
        core,
        json!({"serial_number": serial, "mac_id": mac, "make": "Dell", "model": "T480",
                "type": "Laptop"}),
    )
    .await
}

/// Where `GET /scan?code=<code>` sends `cookie`'s user (a 303's Location).
async fn scan_to(router: &Router, cookie: &str, code: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", code)
        .finish();
    let r = send(router, get(&format!("/scan?{query}"), cookie)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "scanning {code:?}");
    location(&r)
}

/// Signs `name` in through the forms; answers the session cookie and its CSRF token.
async fn sign_in(router: &Router, name: &str) -> (String, String) {
    common::sign_in(router, name, "/account").await
}

#[tokio::test]
async fn a_scan_opens_the_device_its_code_names() {
    let (core, router) = console().await;
    let id = device(&core, "CN-0X1234", "00:1a:2b:3c:4d:5e").await;
    let (cookie, _) = sign_in(&router, "tech").await;
    let page = format!("/devices/{id}");
    // (code, where it leads): written out by hand.
    let table = [
        (id.clone(), page.clone()),
        (
            format!("https://rehome.example.org/devices/{id}"),
            page.clone(),
        ),
        (
            format!("  http://10.0.0.5:8000/devices/{id}/\n"),
            page.clone(),
        ),
        ("CN-0X1234".to_owned(), page.clone()),
        ("00-1A-2B-3C-4D-5E".to_owned(), page.clone()),
        ("001a.2b3c.4d5e".to_owned(), page.clone()),
    ];
    for (code, want) in table {
        assert_eq!(scan_to(&router, &cookie, &code).await, want, "{code}");
    }
}

#[tokio::test]
async fn an_unknown_code_opens_intake_with_it_filled_in() {
    let (core, router) = console().await;
    device(&core, "CN-0X1234", "00:1a:2b:3c:4d:5e").await;
    let (cookie, _) = sign_in(&router, "tech").await;

    let to = scan_to(&router, &cookie, "  NEW-42 ").await;
    assert_eq!(to, "/intake?serial_number=NEW-42&scanned=1");
    let page = text(send(&router, get(&to, &cookie)).await).await;
    assert!(
        page.contains("No device has this code: take it in."),
        "{page}"
    );
    assert!(
        page.contains(r#"name="serial_number" type="text" value="NEW-42""#),
        "{page}"
    );
    // The first empty required field has the focus.
    assert!(page.contains(r#"<input autofocus id="f-type""#), "{page}");

    // A MAC address no device has: taken in as the MAC, not as a serial.
    let to = scan_to(&router, &cookie, "AA-BB-CC-00-11-22").await;
    assert_eq!(to, "/intake?mac_id=aa%3Abb%3Acc%3A00%3A11%3A22&scanned=1");
    let page = text(send(&router, get(&to, &cookie)).await).await;
    assert!(
        page.contains(r#"name="mac_id" type="text" value="aa:bb:cc:00:11:22""#),
        "{page}"
    );
    assert!(
        page.contains(r#"name="serial_number" type="text" value="""#),
        "{page}"
    );

    // A valid IMEI no device has (Wikipedia's worked example): taken in as the IMEI.
    let to = scan_to(&router, &cookie, "49-015420-323751-8").await;
    assert_eq!(to, "/intake?imei=490154203237518&scanned=1");
    let page = text(send(&router, get(&to, &cookie)).await).await;
    assert!(
        page.contains(r#"name="imei" type="text" value="490154203237518""#),
        "{page}"
    );
    // Fifteen digits with a wrong check digit are no IMEI: a serial number.
    let to = scan_to(&router, &cookie, "490154203237519").await;
    assert_eq!(to, "/intake?serial_number=490154203237519&scanned=1");
}

#[tokio::test]
async fn a_blank_code_or_a_deleted_devices_label_is_shown_beside_the_field() {
    let (core, router) = console().await;
    let gone = device(&core, "SN-GONE", "00:1a:2b:3c:4d:5f").await;
    core.delete(&Caller::system(), Model::Device, &gone, None)
        .await
        .expect("deleted");
    let (cookie, _) = sign_in(&router, "tech").await;

    // The scan page: the box has the focus, so a scanner can type at once.
    let r = send(&router, get("/scan", &cookie)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(page.contains("data-scan autofocus"), "{page}");
    assert!(
        page.contains("/static/zxing."),
        "the camera's decoder is loaded"
    );
    assert!(page.contains("/static/scan."), "{page}");

    let r = send(&router, get("/scan?code=+++", &cookie)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(
        page.contains(r#"<p class="error" id="f-code-error">Scan or type a code. </p>"#),
        "{page}"
    );
    assert!(page.contains(r#"aria-invalid="true""#), "{page}");

    let r = send(&router, get(&format!("/scan?code={gone}"), &cookie)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(page.contains("No device has this label."), "{page}");
    assert!(
        page.contains(&format!(r#"value="{gone}""#)),
        "the code is kept: {page}"
    );
}

#[tokio::test]
async fn a_caller_who_may_not_scan_is_refused_and_a_scanner_without_read_sees_the_device_here() {
    let (core, router) = console().await;
    let id = device(&core, "CN-0X1234", "00:1a:2b:3c:4d:5e").await;

    let (cookie, _) = sign_in(&router, "auditor").await;
    for path in ["/scan", "/scan?code=CN-0X1234"] {
        let r = send(&router, get(path, &cookie)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let home = text(send(&router, get("/", &cookie)).await).await;
    assert!(!home.contains(r#"href="/scan""#) && !home.contains(r#"href="/intake""#));

    let (cookie, _) = sign_in(&router, "scanner").await;
    let r = send(&router, get("/scan?code=CN-0X1234", &cookie)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(
        page.contains(&format!("This is device <code>{id}</code>")),
        "{page}"
    );
    assert!(
        page.contains(r#"href="/scan""#),
        "Scan is in the navigation"
    );
    assert!(
        !page.contains(r#"href="/intake""#),
        "no intake without createDevices"
    );
    // Intake needs createDevices, the form and its POST alike.
    let r = send(&router, get("/intake", &cookie)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn intake_shows_errors_beside_the_fields_keeps_the_typing_and_then_takes_the_device_in() {
    let (core, router) = console().await;
    device(&core, "CN-TAKEN", "00:1a:2b:3c:4d:5e").await;
    let (cookie, csrf) = sign_in(&router, "tech").await;
    let page = text(send(&router, get("/", &cookie)).await).await;
    assert!(
        page.contains(r#"href="/intake""#),
        "Intake is in the navigation"
    );
    assert!(
        !page.contains("/static/zxing."),
        "the home page does not load the decoder"
    );

    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("type", "Laptop"),
        ("make", ""),
        ("model", "ThinkPad T480"),
        ("serial_number", "PF-1X2Y3Z"),
        ("mac_id", ""),
        ("year_of_manufacture", "1850"),
        ("notes", "Charger missing"),
    ];
    let r = send(&router, post("/intake", &cookie, &form)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(
        page.contains(r#"<p class="error" id="f-make-error">This field may not be blank. </p>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"id="f-year_of_manufacture-error""#),
        "{page}"
    );
    assert!(
        page.contains(r#"value="ThinkPad T480""#),
        "typing kept: {page}"
    );
    assert!(page.contains(r#"value="1850""#), "typing kept: {page}");
    assert!(
        page.contains(">Charger missing</textarea>"),
        "typing kept: {page}"
    );
    assert!(
        page.contains(r#"<input autofocus id="f-make""#),
        "the first wrong field has the focus"
    );

    // A serial another device has: beside the serial.
    form[2] = ("make", "Lenovo");
    form[6] = ("year_of_manufacture", "2019");
    form[4] = ("serial_number", "CN-TAKEN");
    let page = text(send(&router, post("/intake", &cookie, &form)).await).await;
    assert!(page.contains(r#"id="f-serial_number-error""#), "{page}");

    form[4] = ("serial_number", "PF-1X2Y3Z");
    let r = send(&router, post("/intake", &cookie, &form)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    let id = to.strip_prefix("/devices/").expect("the new device's page");
    let Record::Device(d) = core
        .get(&Caller::system(), Model::Device, id)
        .await
        .expect("created")
    else {
        panic!("a device")
    };
    assert_eq!(
        (
            d.device_type.as_str(),
            d.make.as_str(),
            d.model.as_str(),
            d.serial_number.as_str()
        ),
        ("Laptop", "Lenovo", "ThinkPad T480", "PF-1X2Y3Z")
    );
    assert_eq!(d.year_of_manufacture, Some(2019));
    assert_eq!(d.notes, "Charger missing");
    assert_eq!(d.mac_id, "");
    // Scanning its serial now opens it.
    assert_eq!(scan_to(&router, &cookie, "PF-1X2Y3Z").await, to);

    // Without createDevices, core refuses the POST.
    let (cookie, csrf) = sign_in(&router, "scanner").await;
    let r = send(
        &router,
        post("/intake", &cookie, &[("csrf", &csrf), ("type", "Laptop")]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
