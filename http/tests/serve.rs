//! `rehome serve` as a process: a clean stop (SIGTERM) exits 0 and keeps every acknowledged
//! write, on each embedded store.

mod common;

use common::{Server, create_superuser, sled_url, sqlite_url};
use serde_json::json;

fn restart_keeps_data(store: &str) {
    create_superuser(store, "admin");
    let mut server = Server::start(store, &[]);
    let client = server.client();
    let token = client.login("admin", common::PASSWORD);
    let (status, device) = client.call(
        "POST",
        "/inventory/devices/",
        Some(&token),
        Some(
            &json!({"type": "Laptop", "make": "Dell", "model": "Latitude 5490",
                     "serial_number": "SN-RESTART-1"}),
        ),
    );
    assert_eq!(status, 201, "{device}");
    let id = device["device_id"]
        .as_str()
        .expect("a device id")
        .to_owned();
    let status = server.stop().expect("the server was running");
    assert!(status.success(), "SIGTERM exit: {status}\n{}", server.log());
    assert!(
        server.log().contains("store closed"),
        "graceful shutdown closes the store:\n{}",
        server.log()
    );

    let server = Server::start(store, &[]);
    let client = server.client();
    // The session survives the restart: it lives in the store, not in the process.
    let (status, again) = client.call(
        "GET",
        &format!("/inventory/devices/{id}/"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["serial_number"], "SN-RESTART-1");
}

#[test]
fn sqlite_restart_keeps_data_and_sessions() {
    let dir = tempfile::tempdir().expect("temp dir");
    restart_keeps_data(&sqlite_url(dir.path()));
}

#[test]
fn sled_restart_keeps_data_and_sessions() {
    let dir = tempfile::tempdir().expect("temp dir");
    restart_keeps_data(&sled_url(dir.path()));
}
