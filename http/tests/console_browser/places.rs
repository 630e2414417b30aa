//! Locations, donors and shipments in a real browser: a location and a donor made through
//! the console's forms, a device taken in over REST (the console's intake is another
//! screen), a shipment that gains the device by typing its serial into the scan box and
//! pressing Enter, an unknown code refused beside the box, and a location's delete: the
//! confirmation names the device that refers to it, a confirmation made stale by a change
//! over REST is refused with nothing lost, then the delete goes through and the device
//! stays, without its start location.

use serde_json::json;

use crate::common::{PASSWORD, Server, create_superuser, sqlite_url};
use crate::harness::{Browser, browser_tests_enabled};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locations_donors_and_a_shipment_filled_by_scanning() {
    if !browser_tests_enabled("the places browser scenario") {
        return;
    }
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = sqlite_url(dir.path());
    create_superuser(&store, "admin");
    let server = Server::start(&store, &[]);
    let rest = server.client();
    let token = rest.login("admin", PASSWORD);
    let b = Browser::open(&server.base).await;

    b.sign_in("admin", PASSWORD).await;
    assert_eq!(b.path().await, "/");

    // A location.
    b.goto("/locations").await;
    assert!(b.page_text().await.contains("0 locations"));
    b.screenshots("locations-empty").await;
    b.goto("/locations/new").await;
    let form = Some("/locations/new");
    b.fill(form, "Name", "North warehouse").await;
    b.fill(form, "Type", "Warehouse").await;
    b.fill(form, "Address", "1 Mill Lane").await;
    b.fill(form, "City", "Leeds").await;
    b.fill(form, "Postal code", "LS1 4AP").await;
    b.fill(form, "Country", "United Kingdom").await;
    b.screenshots("location-new").await;
    b.press(form, "Create location").await;
    let location_path = b.path().await;
    let location_id: i64 = location_path
        .strip_prefix("/locations/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("on a location's page, not {location_path}"));
    assert_eq!(b.text("h1").await, "North warehouse");
    b.screenshots("location").await;

    // A donor.
    b.goto("/donors/new").await;
    let form = Some("/donors/new");
    b.fill(form, "Name", "Acme Ltd").await;
    b.fill(form, "Email", "gifts@acme.example").await;
    b.fill(form, "Phone", "0113 496 0000").await;
    b.press(form, "Create donor").await;
    let donor_path = b.path().await;
    let donor_id: i64 = donor_path
        .strip_prefix("/donors/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("on a donor's page, not {donor_path}"));
    assert_eq!(b.text("h1").await, "Acme Ltd");
    b.screenshots("donor").await;
    b.goto("/donors").await;
    assert!(b.page_text().await.contains("Acme Ltd"));
    b.screenshots("donors").await;

    // A device, over REST.
    let (status, device) = rest.call(
        "POST",
        "/inventory/devices/",
        Some(&token),
        Some(
            &json!({"type": "Laptop", "make": "Dell", "model": "Latitude 5490",
                     "serial_number": "SN-BROWSER-1", "donor": donor_id,
                     "start_location": location_id}),
        ),
    );
    assert_eq!(status, 201, "{device}");

    // A shipment to the location.
    b.goto("/shipments/new").await;
    let form = Some("/shipments/new");
    b.field(form, "Destination")
        .await
        .select_by_label("North warehouse (Leeds)")
        .await
        .expect("the location offered");
    b.fill(form, "Tracking id", "TRK-0001").await;
    b.screenshots("shipment-new").await;
    b.press(form, "Create shipment").await;
    let shipment_path = b.path().await;
    assert!(shipment_path.starts_with("/shipments/"), "{shipment_path}");
    assert!(
        b.page_text()
            .await
            .contains("No device in this shipment yet.")
    );

    // Scan: the serial typed into the scan box, then Enter.
    let scan = format!("{shipment_path}/devices");
    b.enter(Some(&scan), "Scan or type a code", "SN-BROWSER-1")
        .await;
    let page = b.page_text().await;
    assert!(page.contains("Added SN-BROWSER-1."), "{page}");
    let listed = b.text("table.shipment-devices").await;
    assert!(listed.contains("SN-BROWSER-1"), "{listed}");
    b.screenshots("shipment-scanned").await;

    // An unknown code: refused beside the box, the code kept.
    b.enter(Some(&scan), "Scan or type a code", "NO-SUCH-SERIAL")
        .await;
    assert!(
        b.text("#scan-code-error")
            .await
            .contains("No device has this code.")
    );
    let kept = b
        .field(Some(&scan), "Scan or type a code")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("NO-SUCH-SERIAL"));
    assert!(
        b.text("table.shipment-devices")
            .await
            .contains("SN-BROWSER-1")
    );
    b.screenshots("shipment-scan-unknown").await;
    b.goto("/shipments").await;
    assert!(b.page_text().await.contains("TRK-0001"));
    b.screenshots("shipments").await;

    // Deleting the location the device starts at: the confirmation says what core clears.
    let delete = format!("{location_path}/delete");
    b.goto(&delete).await;
    let page = b.page_text().await;
    assert!(
        page.contains("1 device started here; its start location is cleared."),
        "{page}"
    );
    assert!(
        page.contains("1 shipment goes here; its destination is cleared."),
        "{page}"
    );
    b.screenshots("location-delete").await;
    // Someone changes the location meanwhile (over REST): the confirmation is refused.
    let (status, body) = rest.call(
        "PATCH",
        &format!("/inventory/locations/{location_id}/"),
        Some(&token),
        Some(&json!({"phone": "0113 496 0001"})),
    );
    assert_eq!(status, 200, "{body}");
    b.press(Some(&delete), "Delete location").await;
    let page = b.page_text().await;
    assert!(
        page.contains("Someone changed this location after you opened this page"),
        "{page}"
    );
    b.screenshots("location-delete-refused").await;
    b.press(Some(&delete), "Delete location").await;
    assert!(b.page_text().await.contains("North warehouse was deleted."));
    b.screenshots("location-deleted").await;
    let (status, device_now) = rest.call(
        "GET",
        &format!(
            "/inventory/devices/{}/",
            device["device_id"].as_str().expect("an id")
        ),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    assert!(device_now["start_location"].is_null(), "{device_now}");
    b.client.close().await.expect("session closed");
}
