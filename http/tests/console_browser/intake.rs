//! Intake and scanning in the browser: a scanner types an unknown serial and presses Enter,
//! intake opens with it filled in, a wrong field is shown beside it with the typing kept, the
//! device is taken in, and the same serial then opens it. And the camera: chromium's fake
//! capture plays a video of a label's QR code (made here), the page decodes it and opens the
//! device.

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use qrcode::{Color, QrCode};
use serde_json::json;

use crate::common::{PASSWORD, Server, create_superuser, sqlite_url};
use crate::harness::{Browser, browser_tests_enabled};

/// WebDriver's Enter key (what a barcode scanner sends after the code).
const ENTER: &str = "\u{E007}";

/// Signs `admin` in from the sign-in page the console sent us to.
async fn sign_in(b: &Browser) {
    assert_eq!(b.path().await, "/sign-in");
    b.submit_sign_in("admin", PASSWORD).await;
}

/// Waits (a deadline only against a hang) until the page's path is `want`.
async fn wait_for_path(b: &Browser, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = b.path().await;
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never reached {want}; at {now}: {}",
            b.page_text().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Types `code` into the scan box labelled `label` and presses Enter, as a barcode scanner
/// does; waits until the next page has replaced this one.
async fn scan(b: &Browser, label: &str, code: &str) {
    let old = b
        .client
        .find(Locator::Css("html"))
        .await
        .expect("a document");
    let input = b.field(Some("/scan"), label).await;
    input.clear().await.expect("clear");
    input
        .send_keys(&format!("{code}{ENTER}"))
        .await
        .expect("typing");
    let deadline = Instant::now() + Duration::from_secs(60);
    while old.tag_name().await.is_ok() {
        assert!(Instant::now() < deadline, "scanning {code:?} led nowhere");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.client
        .wait()
        .for_element(Locator::Css("body"))
        .await
        .expect("the next page");
}

async fn value(b: &Browser, label: &str) -> String {
    b.field(Some("/intake"), label)
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_unknown_serial_is_taken_in_and_then_opens_its_device() {
    if !browser_tests_enabled("the intake browser scenario") {
        return;
    }
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = sqlite_url(dir.path());
    create_superuser(&store, "admin");
    let server = Server::start(&store, &[]);
    let b = Browser::open(&server.base).await;

    b.goto("/scan").await;
    sign_in(&b).await;
    assert_eq!(b.path().await, "/scan");
    assert_eq!(b.text("h1").await, "Scan");
    // The scan box has the focus: a scanner can type at once.
    let focused = b
        .client
        .execute("return document.activeElement.name;", vec![])
        .await
        .expect("script");
    assert_eq!(focused, json!("code"));
    // Chromium offers a camera on loopback (a secure context).
    assert!(
        b.page_text().await.contains("Use camera"),
        "{}",
        b.page_text().await
    );
    b.screenshots("scan").await;

    // A blank code: the message beside the field.
    scan(&b, "Code", "   ").await;
    assert_eq!(b.path().await, "/scan");
    assert_eq!(b.text("#f-code-error").await, "Scan or type a code.");
    b.screenshots("scan-error").await;

    scan(&b, "Code", "PF-2K9QX7").await;
    assert_eq!(b.path().await, "/intake");
    assert!(
        b.page_text()
            .await
            .contains("No device has this code: take it in.")
    );
    assert_eq!(value(&b, "Serial number").await, "PF-2K9QX7");
    b.screenshots("intake").await;

    // The rest, the year wrong first.
    b.fill(Some("/intake"), "Type", "Laptop").await;
    b.fill(Some("/intake"), "Make", "Lenovo").await;
    b.fill(Some("/intake"), "Model", "ThinkPad T480").await;
    b.fill(Some("/intake"), "Year of manufacture", "1850").await;
    b.fill(Some("/intake"), "Notes", "Charger missing").await;
    b.press(Some("/intake"), "Take in").await;
    assert_eq!(b.path().await, "/intake");
    let error = b.text("#f-year_of_manufacture-error").await;
    assert!(!error.is_empty(), "an error beside the year");
    assert!(b.client.find(Locator::Css("#f-make-error")).await.is_err());
    assert_eq!(value(&b, "Model").await, "ThinkPad T480");
    assert_eq!(value(&b, "Serial number").await, "PF-2K9QX7");
    assert_eq!(value(&b, "Year of manufacture").await, "1850");
    assert_eq!(value(&b, "Notes").await, "Charger missing");
    b.screenshots("intake-error").await;

    b.fill(Some("/intake"), "Year of manufacture", "2019").await;
    b.press(Some("/intake"), "Take in").await;
    let device_page = b.path().await;
    assert!(device_page.starts_with("/devices/"), "{device_page}");
    assert_eq!(b.text("h1").await, "Device PF-2K9QX7");
    let details = b.text("#h-fields + dl").await;
    assert!(details.contains("ThinkPad T480"), "{details}");
    assert!(details.contains("2019"), "{details}");

    // The same serial again: its device.
    b.goto("/scan").await;
    scan(&b, "Code", "PF-2K9QX7").await;
    assert_eq!(b.path().await, device_page);

    // The compact box on the intake page works the same way.
    b.goto("/intake").await;
    scan(&b, "Scan a code", "PF-2K9QX7").await;
    assert_eq!(b.path().await, device_page);
    b.client.close().await.expect("session closed");
}

/// Writes a YUV4MPEG2 (I420) video of `frames` frames, each the QR code of `text` in black on
/// white, centred (all white without `text`); chromium's fake camera plays it in a loop.
fn qr_video(path: &Path, text: Option<&str>, frames: usize) {
    const W: usize = 640;
    const H: usize = 480;
    let mut y_plane = vec![255u8; W * H];
    if let Some(text) = text {
        let code = QrCode::new(text.as_bytes()).expect("a QR code");
        let modules = code.width();
        let colors = code.to_colors();
        // Four modules of quiet zone on each side.
        let scale = H / (modules + 8);
        let size = modules * scale;
        let (left, top) = ((W - size) / 2, (H - size) / 2);
        for row in 0..size {
            for col in 0..size {
                if colors[(row / scale) * modules + col / scale] == Color::Dark {
                    y_plane[(top + row) * W + left + col] = 0;
                }
            }
        }
    }
    let chroma = vec![128u8; (W / 2) * (H / 2)];
    let mut video = format!("YUV4MPEG2 W{W} H{H} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for _ in 0..frames {
        video.extend_from_slice(b"FRAME\n");
        video.extend_from_slice(&y_plane);
        video.extend_from_slice(&chroma);
        video.extend_from_slice(&chroma);
    }
    std::fs::write(path, video).expect("video written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_camera_reads_a_labels_qr_code_and_opens_the_device() {
    if !browser_tests_enabled("the camera browser scenario") {
        return;
    }
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = sqlite_url(dir.path());
    create_superuser(&store, "admin");
    let server = Server::start(&store, &[]);
    let client = server.client();
    let id = tokio::task::spawn_blocking(move || {
        let token = client.login("admin", PASSWORD);
        let (status, body) = client.call(
            "POST",
            "/inventory/devices/",
            Some(&token),
            Some(
                &json!({"type": "Laptop", "make": "Dell", "model": "Latitude 5490",
                         "serial_number": "CAM-5490-1"}),
            ),
        );
        assert_eq!(status, 201, "{body}");
        body["device_id"].as_str().expect("an id").to_owned()
    })
    .await
    .expect("device created");

    // A label's QR code carries the device's id.
    let video = dir.path().join("label.y4m");
    qr_video(&video, Some(&id), 10);
    let file_arg = format!("--use-file-for-fake-video-capture={}", video.display());
    let b = Browser::open_with(
        &server.base,
        &[
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            &file_arg,
        ],
    )
    .await;
    b.goto("/scan").await;
    sign_in(&b).await;
    assert_eq!(b.path().await, "/scan");
    b.client
        .find(Locator::XPath("//button[normalize-space()='Use camera']"))
        .await
        .expect("a camera button")
        .click()
        .await
        .expect("click");
    wait_for_path(&b, &format!("/devices/{id}")).await;
    assert_eq!(b.text("h1").await, "Device CAM-5490-1");
    b.client.close().await.expect("session closed");

    // A camera that sees no code: the view stays open, with a way to stop it.
    let blank = dir.path().join("blank.y4m");
    qr_video(&blank, None, 2);
    let file_arg = format!("--use-file-for-fake-video-capture={}", blank.display());
    let b = Browser::open_with(
        &server.base,
        &[
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            &file_arg,
        ],
    )
    .await;
    b.goto("/scan").await;
    sign_in(&b).await;
    b.client
        .find(Locator::XPath("//button[normalize-space()='Use camera']"))
        .await
        .expect("a camera button")
        .click()
        .await
        .expect("click");
    let status = b
        .client
        .wait()
        .for_element(Locator::XPath(
            "//p[@role='status'][normalize-space()='Point the camera at a label or barcode.']",
        ))
        .await;
    assert!(
        status.is_ok(),
        "the camera started: {}",
        b.page_text().await
    );
    b.screenshots("scan-camera").await;
    b.client
        .find(Locator::XPath("//button[normalize-space()='Stop camera']"))
        .await
        .expect("a stop button")
        .click()
        .await
        .expect("click");
    let start = b
        .client
        .find(Locator::XPath("//button[normalize-space()='Use camera']"))
        .await
        .expect("the camera button");
    assert!(
        start.is_displayed().await.expect("displayed"),
        "offered again"
    );
    assert_eq!(b.path().await, "/scan");
    b.client.close().await.expect("session closed");
}
