//! Devices in the console: devices made through REST, the list filtered by status, a device
//! moved received -> wiped -> ready with only the offered status choices, its label printed
//! and the label's QR code read back from a screenshot, two browsers editing the same device
//! (the second sees the conflict with its input kept, and its save keeps the first's change),
//! and a viewer without editDevices who sees no control and whose forged POST is refused.

use fantoccini::Locator;
use serde_json::{Value as Json, json};

use crate::common::{Client, PASSWORD, Server, create_superuser, sqlite_url};
use crate::harness::{Browser, browser_tests_enabled};

/// Signs `username` in through the sign-in form.
async fn sign_in(b: &Browser, username: &str) {
    b.sign_in(username, PASSWORD).await;
    assert!(
        b.text("header")
            .await
            .contains(&format!("Signed in as {username}")),
        "{username} signed in"
    );
}

/// The statuses offered as buttons in the form posting to `action`.
async fn offered(b: &Browser, action: &str) -> Vec<String> {
    let xpath = format!("//form[@action='{action}']//button[@name='status']");
    let mut values = Vec::new();
    for button in b
        .client
        .find_all(Locator::XPath(&xpath))
        .await
        .expect("buttons")
    {
        values.push(
            button
                .attr("value")
                .await
                .expect("value")
                .unwrap_or_default(),
        );
    }
    values
}

/// The `value` property of the input labelled `label` in the form posting to `action`.
async fn value_of(b: &Browser, action: &str, label: &str) -> String {
    b.field(Some(action), label)
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

/// Decodes the one QR code in a PNG screenshot with rqrr.
fn decode_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = info.color_type.samples();
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "8-bit screenshot");
    let pixels = &buf[..info.buffer_size()];
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let at = (y * w + x) * channels;
        let px = &pixels[at..at + channels.min(3)];
        // The mean of the colour samples (grey or RGB; alpha left out).
        let sum: usize = px.iter().map(|&v| usize::from(v)).sum();
        u8::try_from(sum / px.len()).unwrap_or(u8::MAX)
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the label screenshot");
    grids[0].decode().expect("the QR code decodes").1
}

/// The device `id` as REST shows it.
fn rest_device(api: &Client, token: &str, id: &str) -> Json {
    let (status, body) = api.call(
        "GET",
        &format!("/inventory/devices/{id}/"),
        Some(token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_list_move_label_conflict_and_a_viewer() {
    if !browser_tests_enabled("the console devices scenario") {
        return;
    }
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = sqlite_url(dir.path());
    create_superuser(&store, "admin");
    let server = Server::start(&store, &[]);

    // Through REST: a technician role and a viewer role, a user of each, four devices.
    let api = server.client();
    let admin = api.login("admin", PASSWORD);
    for (role, perms) in [
        (
            "technician",
            json!(["readDevices", "editDevices", "bulkUploadDevices"]),
        ),
        ("viewer", json!(["readDevices"])),
    ] {
        let (status, body) = api.call(
            "POST",
            "/admin/roles/",
            Some(&admin),
            Some(&json!({"name": role, "permissions": perms})),
        );
        assert_eq!(status, 201, "{body}");
    }
    for (user, role) in [("terry", "technician"), ("vic", "viewer")] {
        let (status, body) = api.call(
            "POST",
            "/users/users/",
            Some(&admin),
            Some(
                &json!({"username": user, "email": format!("{user}@example.org"),
                         "password": PASSWORD, "role": role}),
            ),
        );
        assert_eq!(status, 201, "{body}");
    }
    let mut ids = Vec::new();
    for (serial, make, status) in [
        ("SN-1001", "Dell", "received"),
        ("SN-1002", "Lenovo", "received"),
        ("SN-1003", "HP", "wiped"),
        ("SN-1004", "Dell", "ready"),
    ] {
        let (code, body) = api.call(
            "POST",
            "/inventory/devices/",
            Some(&admin),
            Some(&json!({"type": "Laptop", "make": make, "model": "T480",
                         "serial_number": serial, "status": status})),
        );
        assert_eq!(code, 201, "{body}");
        ids.push(body["device_id"].as_str().expect("an id").to_owned());
    }
    let first = ids[0].clone();

    // A technician (no superuser, whom core lets skip steps) works through the list.
    let b = Browser::open(&server.base).await;
    sign_in(&b, "terry").await;

    // The list: all four; filtered by status, only the wiped one.
    b.goto("/devices").await;
    let page = b.page_text().await;
    assert!(page.contains("4 devices · page 1 of 1"), "{page}");
    for serial in ["SN-1001", "SN-1002", "SN-1003", "SN-1004"] {
        assert!(page.contains(serial), "{serial} listed");
    }
    b.screenshots("devices-list").await;
    b.field(Some("/devices"), "Status")
        .await
        .select_by_value("wiped")
        .await
        .expect("choose wiped");
    b.press(Some("/devices"), "Show").await;
    let page = b.page_text().await;
    assert!(page.contains("1 devices · page 1 of 1"), "{page}");
    assert!(page.contains("SN-1003"));
    assert!(!page.contains("SN-1001") && !page.contains("SN-1002") && !page.contains("SN-1004"));
    b.screenshots("devices-list-wiped").await;

    // Open a received device from the list.
    b.goto("/devices?status=received").await;
    b.client
        .find(Locator::LinkText("SN-1001"))
        .await
        .expect("a link to SN-1001")
        .click()
        .await
        .expect("click");
    b.client
        .wait()
        .for_element(Locator::Css("h1"))
        .await
        .expect("the device page");
    assert_eq!(b.path().await, format!("/devices/{first}"));
    assert_eq!(b.text("h1").await, "Device SN-1001");
    assert_eq!(b.text("dd .status").await, "received");
    b.screenshots("device").await;

    // received -> wiped -> ready, pressing only the offered status buttons.
    let status_form = format!("/devices/{first}/status");
    assert_eq!(offered(&b, &status_form).await, ["wiped", "recycled"]);
    b.press(Some(&status_form), "Mark wiped").await;
    assert_eq!(b.text("dd .status").await, "wiped");
    let next = offered(&b, &status_form).await;
    assert!(next.iter().any(|s| s == "ready"), "{next:?}");
    assert!(
        !next.iter().any(|s| s == "received" || s == "wiped"),
        "{next:?}"
    );
    b.press(Some(&status_form), "Mark ready").await;
    assert_eq!(b.text("dd .status").await, "ready");
    assert!(b.text("ol.history").await.contains("status: wiped → ready"));
    assert_eq!(rest_device(&api, &admin, &first)["status"], "ready");
    b.screenshots("device-ready").await;

    // Its label: the QR code read back from a screenshot of the label holds the device's id
    // (no public address is configured).
    b.client
        .find(Locator::LinkText("Print label"))
        .await
        .expect("a Print label link")
        .click()
        .await
        .expect("click");
    b.client
        .wait()
        .for_element(Locator::Css("article.label"))
        .await
        .expect("the label page");
    assert_eq!(b.path().await, "/labels");
    assert!(b.text("article.label").await.contains("SN-1001"));
    b.screenshots("labels").await;
    let shot = b
        .client
        .find(Locator::Css("article.label .label-qr"))
        .await
        .expect("the label's QR code")
        .screenshot()
        .await
        .expect("an element screenshot");
    assert_eq!(decode_qr(&shot), first);

    // Two browsers edit the same device: the technician changes the make and saves; the
    // admin, who loaded the form before, writes notes and saves: a conflict.
    let edit_form = format!("/devices/{}", ids[1]);
    let t = Browser::open(&server.base).await;
    sign_in(&t, "admin").await;
    t.goto(&edit_form).await;
    b.goto(&edit_form).await;
    b.fill(Some(&edit_form), "Make", "Fairphone").await;
    b.press(Some(&edit_form), "Save").await;
    assert!(b.page_text().await.contains("Saved."));
    t.fill(Some(&edit_form), "Notes", "Hinge loose").await;
    t.press(Some(&edit_form), "Save").await;
    let page = t.page_text().await;
    assert!(page.contains("Someone else saved this device"), "{page}");
    assert_eq!(value_of(&t, &edit_form, "Notes").await, "Hinge loose");
    assert_eq!(value_of(&t, &edit_form, "Make").await, "Fairphone");
    let table = t.text("table.conflict").await;
    assert!(table.contains("Make"), "{table}");
    assert!(
        table.contains("Lenovo") && table.contains("Fairphone"),
        "{table}"
    );
    assert!(table.contains("Not changed: theirs is kept"), "{table}");
    t.screenshots("device-edit-conflict").await;
    let d = rest_device(&api, &admin, &ids[1]);
    assert_eq!(
        (d["make"].as_str(), d["notes"].as_str()),
        (Some("Fairphone"), Some(""))
    );
    t.press(Some(&edit_form), "Save my changes").await;
    assert!(t.page_text().await.contains("Saved."));
    let d = rest_device(&api, &admin, &ids[1]);
    assert_eq!(
        (d["make"].as_str(), d["notes"].as_str()),
        (Some("Fairphone"), Some("Hinge loose"))
    );
    t.client.close().await.expect("session closed");

    // A viewer: no status or edit control, and a forged edit with their own valid CSRF token
    // is refused.
    b.press(Some("/sign-out"), "Sign out").await;
    sign_in(&b, "vic").await;
    b.goto("/devices").await;
    let page = b.page_text().await;
    assert!(page.contains("SN-1001"));
    assert!(
        !page.contains("Move status") && !page.contains("Edit together"),
        "{page}"
    );
    b.screenshots("devices-list-viewer").await;
    b.goto(&format!("/devices/{first}")).await;
    let page = b.page_text().await;
    assert!(
        !page.contains("Move status") && !page.contains("Save"),
        "{page}"
    );
    assert!(
        b.client
            .find_all(Locator::Css(&format!("form[action='/devices/{first}']")))
            .await
            .expect("a search")
            .is_empty(),
        "no edit form"
    );
    assert!(
        offered(&b, &format!("/devices/{first}/status"))
            .await
            .is_empty()
    );
    b.screenshots("device-viewer").await;
    let version = rest_device(&api, &admin, &first)["version"].clone();
    let forged = b
        .client
        .execute(
            "const csrf = document.querySelector('input[name=csrf]').value;
             const body = new URLSearchParams({csrf, make: 'Forged', version: String(arguments[1])});
             return fetch(arguments[0], {method: 'POST', body, credentials: 'same-origin',
                 headers: {'Content-Type': 'application/x-www-form-urlencoded'}})
               .then(r => r.status);",
            vec![json!(format!("/devices/{first}")), version.clone()],
        )
        .await
        .expect("the forged POST was sent");
    assert_eq!(forged, json!(403));
    let d = rest_device(&api, &admin, &first);
    assert_eq!(
        (d["make"].as_str(), &d["version"]),
        (Some("Dell"), &version)
    );
    b.client.close().await.expect("session closed");
}
