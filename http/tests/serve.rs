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

/// Sends `request` on `stream` and reads one response head (status line and headers).
fn exchange(stream: &mut std::net::TcpStream, request: &[u8]) -> String {
    use std::io::{Read, Write};
    stream.write_all(request).expect("request written");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).to_ascii_lowercase()
}

/// An answer given before the request body was read (here a 401 from the authentication) says
/// `Connection: close`, because the server cannot reuse that connection; an answer after the
/// body was read keeps the connection open for the next request.
#[test]
fn an_early_answer_says_connection_close_and_a_read_body_keeps_the_connection() {
    let server = Server::start("memory:", &[]);
    let address = server.base.trim_start_matches("http://").to_owned();
    let body = r#"{"type":"Laptop","make":"Dell","model":"X","serial_number":"SN-1"}"#;
    let request = |path: &str, token: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };

    let mut stream = std::net::TcpStream::connect(&address).expect("connects");
    let head = exchange(
        &mut stream,
        request("/inventory/devices/", "not-a-token").as_bytes(),
    );
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(head.contains("\r\nconnection: close\r\n"), "{head}");

    // Login reads its body (and refuses the credentials): the connection stays usable.
    let mut stream = std::net::TcpStream::connect(&address).expect("connects");
    let login = r#"{"username":"nobody","password":"wrong-password-123"}"#;
    let head = exchange(
        &mut stream,
        format!(
            "POST /authen/login/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{login}",
            login.len()
        )
        .as_bytes(),
    );
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
    // Skip the body of the first answer, then a second request on the same connection.
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("a content-length");
    let mut rest = vec![0u8; length];
    std::io::Read::read_exact(&mut stream, &mut rest).expect("body read");
    let head = exchange(&mut stream, b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
    assert!(head.starts_with("http/1.1 200"), "{head}");
}
