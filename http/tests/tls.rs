//! `rehome serve` over TLS as a process: a self-signed certificate made once, kept beside the
//! store, reused and fingerprinted in the log; a certificate and key given as files; clear
//! errors (and nothing written) for bad TLS files and bad settings. Also the settings'
//! own rules: `cookies_secure()`, `--public-url` and `--time-zone`, with hand-written tables.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rehome_http::{PublicUrl, SecureCookies, Settings, Tz};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use sha2::{Digest, Sha256};

const START_TIMEOUT: Duration = Duration::from_secs(180);

/// One running `rehome serve` that speaks HTTPS.
struct TlsServer {
    child: Option<Child>,
    address: SocketAddr,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl TlsServer {
    /// Starts `rehome serve --store STORE --bind 127.0.0.1:0 EXTRA...` and waits for its
    /// "listening on https://" line.
    fn start(store: &str, extra: &[&str]) -> TlsServer {
        let dir = tempfile::tempdir().expect("a temporary directory for the log");
        let log = dir.path().join("serve.log");
        let file = std::fs::File::create(&log).expect("log file");
        let mut child = Command::new(common::binary())
            .args(["serve", "--store", store, "--bind", "127.0.0.1:0"])
            .args(extra)
            .env_remove("REHOME_STORE")
            .env("REHOME_LOG", "info")
            .env("REHOME_LOG_FORMAT", "text")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("rehome serve starts");
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(address) = https_address(&text) {
                return TlsServer {
                    child: Some(child),
                    address,
                    log,
                    _log_dir: dir,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the server exited with {status}:\n{text}");
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                panic!("the server did not listen within {START_TIMEOUT:?}:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `SIGTERM`, then the exit status.
    fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the server was running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().expect("the server exits")
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The address of the "rehome is listening on https://ADDR/" line.
fn https_address(log: &str) -> Option<SocketAddr> {
    let at = log.find("listening on https://")? + "listening on https://".len();
    let rest = &log[at..];
    rest[..rest.find('/')?].parse().ok()
}

/// A TLS client that trusts `root` and nothing else.
fn client_trusting(root: &CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).expect("the root is a certificate");
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

/// One HTTP/1.1 request over TLS to `address`, checking the certificate for `name`; the
/// whole response as text, or why there was none.
fn https(
    config: &Arc<rustls::ClientConfig>,
    address: SocketAddr,
    name: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    https_as(config, address, name, None, method, path, body)
}

/// [`https`] with a bearer token.
fn https_as(
    config: &Arc<rustls::ClientConfig>,
    address: SocketAddr,
    name: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let server_name = ServerName::try_from(name.to_owned()).map_err(|e| e.to_string())?;
    let connection =
        rustls::ClientConnection::new(config.clone(), server_name).map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect(address).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    let body = body.unwrap_or_default();
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n{authorization}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    match tls.read_to_end(&mut response) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
        Err(e) => return Err(e.to_string()),
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no HTTP status line in {text:?}"))?;
    Ok((status, text))
}

/// `GET /healthz` until it answers (the server listens before the first request is served).
fn wait_healthy(config: &Arc<rustls::ClientConfig>, server: &TlsServer, name: &str) {
    let started = Instant::now();
    loop {
        match https(config, server.address, name, "GET", "/healthz", None) {
            Ok((200, _)) => return,
            other if started.elapsed() > START_TIMEOUT => {
                panic!("/healthz never answered 200: {other:?}\n{}", server.log())
            }
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// The first certificate of a PEM file.
fn pem_certificate(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// SHA-256 of a DER certificate as browsers show it (upper-case hex pairs joined by `:`),
/// computed here, not by the server's code.
fn sha256_fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let mut out = String::new();
    for (i, byte) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{byte:02X}"));
    }
    out
}

/// A fresh certificate for `names` and its PEM key (made by the test).
fn certificate_for(names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let made = rcgen::generate_simple_self_signed(names).expect("rcgen makes a certificate");
    (made.cert.pem(), made.signing_key.serialize_pem())
}

fn self_signed_is_made_once_and_reused(store: &str, dir: &Path) {
    common::create_superuser(store, "admin");
    let cert_path = dir.join("rehome-tls-cert.pem");
    let key_path = dir.join("rehome-tls-key.pem");
    assert!(!cert_path.exists());

    let mut server = TlsServer::start(store, &["--tls-self-signed"]);
    let cert = pem_certificate(&cert_path);
    let config = client_trusting(&cert);
    wait_healthy(&config, &server, "localhost");
    let fingerprint = sha256_fingerprint(&cert);
    assert!(
        server.log().contains(&format!(
            "TLS certificate SHA-256 fingerprint {fingerprint}"
        )),
        "the log names the fingerprint {fingerprint}:\n{}",
        server.log()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path)
            .expect("the key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is readable by its owner only");
    }

    // The certificate is made for the bound address too, and a real request works over it.
    let (status, login) = https(
        &config,
        server.address,
        "127.0.0.1",
        "POST",
        "/authen/login/",
        Some(&format!(
            r#"{{"username":"admin","password":"{}"}}"#,
            common::PASSWORD
        )),
    )
    .expect("an answer over HTTPS");
    assert_eq!(status, 200, "{login}");
    let token = login
        .split("\"access_token\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no access_token in {login}"))
        .to_owned();

    // Absolute links name the scheme the server speaks.
    for serial in ["SN-TLS-1", "SN-TLS-2"] {
        let device = format!(
            r#"{{"type":"Laptop","make":"Dell","model":"Latitude 5490","serial_number":"{serial}"}}"#
        );
        let (status, created) = https_as(
            &config,
            server.address,
            "localhost",
            Some(&token),
            "POST",
            "/inventory/devices/",
            Some(&device),
        )
        .expect("an answer");
        assert_eq!(status, 201, "{created}");
    }
    let (status, page) = https_as(
        &config,
        server.address,
        "localhost",
        Some(&token),
        "GET",
        "/inventory/devices/?page_size=1",
        None,
    )
    .expect("an answer");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("\"next\":\"https://localhost/inventory/devices/?page_size=1&page=2\""),
        "{page}"
    );

    // A client that trusts another certificate refuses this server.
    let (other, _) = certificate_for(&["localhost"]);
    let other = CertificateDer::from_pem_slice(other.as_bytes()).expect("PEM");
    let refused = https(
        &client_trusting(&other),
        server.address,
        "localhost",
        "GET",
        "/healthz",
        None,
    );
    assert!(refused.is_err(), "{refused:?}");

    let status = server.stop();
    assert!(status.success(), "SIGTERM exit: {status}\n{}", server.log());
    assert!(server.log().contains("store closed"), "{}", server.log());

    let before = std::fs::read(&cert_path).expect("the certificate");
    let server = TlsServer::start(store, &["--tls-self-signed"]);
    wait_healthy(&config, &server, "localhost");
    assert_eq!(
        std::fs::read(&cert_path).expect("the certificate"),
        before,
        "the certificate is reused on restart"
    );
    assert!(
        server
            .log()
            .contains("reusing the self-signed TLS certificate"),
        "{}",
        server.log()
    );
    assert!(
        server.log().contains(&format!(
            "TLS certificate SHA-256 fingerprint {fingerprint}"
        )),
        "{}",
        server.log()
    );
}

#[test]
fn sqlite_self_signed_certificate_is_made_once_kept_beside_the_store_and_reused() {
    let dir = tempfile::tempdir().expect("temp dir");
    self_signed_is_made_once_and_reused(&common::sqlite_url(dir.path()), dir.path());
}

#[test]
fn sled_self_signed_certificate_is_kept_beside_the_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    self_signed_is_made_once_and_reused(&common::sled_url(dir.path()), dir.path());
}

#[test]
fn a_given_certificate_and_key_are_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert_pem, key_pem) = certificate_for(&["localhost", "rehome.test"]);
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &cert_pem).expect("cert written");
    std::fs::write(&key, &key_pem).expect("key written");
    let cert_arg = cert.display().to_string();
    let key_arg = key.display().to_string();

    let server = TlsServer::start("memory:", &["--tls-cert", &cert_arg, "--tls-key", &key_arg]);
    let root = CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("PEM");
    let config = client_trusting(&root);
    wait_healthy(&config, &server, "localhost");
    let (status, _) = https(
        &config,
        server.address,
        "rehome.test",
        "GET",
        "/healthz",
        None,
    )
    .expect("an answer");
    assert_eq!(status, 200);
    // Keep-alive as over plain HTTP: a second request on the same TLS connection.
    let connection = rustls::ClientConnection::new(
        config.clone(),
        ServerName::try_from("localhost").expect("a name"),
    )
    .expect("a client connection");
    let tcp = TcpStream::connect(server.address).expect("connects");
    tcp.set_read_timeout(Some(Duration::from_secs(120)))
        .expect("a read timeout");
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("first request written");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tls.read_exact(&mut byte).expect("the first answer");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("a content-length");
    let mut first_body = vec![0u8; length];
    tls.read_exact(&mut first_body).expect("the first body");
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("second request written");
    let mut second = Vec::new();
    match tls.read_to_end(&mut second) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !second.is_empty() => {}
        Err(e) => panic!("the second answer: {e}"),
    }
    assert!(
        second.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&second)
    );

    // Made for names only: the server's address is not one of them.
    assert!(
        https(
            &config,
            server.address,
            "127.0.0.1",
            "GET",
            "/healthz",
            None
        )
        .is_err()
    );
    assert!(
        server.log().contains(&format!(
            "TLS certificate SHA-256 fingerprint {}",
            sha256_fingerprint(&root)
        )),
        "{}",
        server.log()
    );
}

#[test]
fn the_settings_file_and_env_set_tls_time_zone_public_url_and_cookies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("rehome.toml");
    std::fs::write(
        &config,
        format!(
            "time_zone = \"Europe/London\"\npublic_url = \"https://rehome.example.org/desk\"\n\
             secure_cookies = \"never\"\ntls_self_signed = true\ntls_dir = \"{}\"\n",
            dir.path().display()
        ),
    )
    .expect("config written");
    let config_arg = config.display().to_string();
    let server = TlsServer::start("memory:", &["--config", &config_arg]);
    let cert = pem_certificate(&dir.path().join("rehome-tls-cert.pem"));
    let tls = client_trusting(&cert);
    wait_healthy(&tls, &server, "localhost");
    // The public URL's host is one of the certificate's names.
    https(
        &tls,
        server.address,
        "rehome.example.org",
        "GET",
        "/healthz",
        None,
    )
    .expect("the certificate names the public URL's host");
    let log = server.log();
    for expected in [
        "time_zone=Europe/London",
        "public_url=\"https://rehome.example.org/desk/\"",
        "secure_cookies=false",
    ] {
        assert!(log.contains(expected), "{expected} in:\n{log}");
    }
}

/// Runs `rehome serve` with `args` (and `env`), expecting it to refuse to start.
fn refused(store: &str, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut all = vec!["serve", "--store", store, "--bind", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let out = common::rehome(&all, env, None);
    (
        out.status.code().unwrap_or(-1),
        common::text(&out.stderr).trim().to_owned(),
    )
}

#[test]
fn bad_tls_flags_and_files_are_refused_naming_the_problem_and_write_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path().display().to_string();
    let store = format!("sqlite://{d}/rehome.db");
    let (cert_pem, key_pem) = certificate_for(&["localhost"]);
    let (_, other_key_pem) = certificate_for(&["localhost"]);
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).expect("written");
    std::fs::write(dir.path().join("key.pem"), &key_pem).expect("written");
    std::fs::write(dir.path().join("other-key.pem"), &other_key_pem).expect("written");
    std::fs::write(dir.path().join("garbage.pem"), "not a PEM file\n").expect("written");
    let cert = format!("{d}/cert.pem");
    let key = format!("{d}/key.pem");
    let garbage = format!("{d}/garbage.pem");
    let missing = format!("{d}/missing.pem");
    let other_key = format!("{d}/other-key.pem");

    /// Flags, env vars, the start of the expected stderr.
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, String);
    let cases: Vec<Case<'_>> = vec![
        (
            vec!["--tls-cert", &cert],
            vec![],
            "error: --tls-cert needs --tls-key (the certificate's PEM private key)".to_owned(),
        ),
        (
            vec!["--tls-key", &key],
            vec![],
            "error: --tls-key needs --tls-cert (the PEM certificate chain)".to_owned(),
        ),
        (
            vec![],
            vec![("REHOME_TLS_CERT", cert.as_str())],
            "error: --tls-cert needs --tls-key (the certificate's PEM private key)".to_owned(),
        ),
        (
            vec!["--tls-cert", &missing, "--tls-key", &key],
            vec![],
            format!(
                "error: cannot read the TLS certificate file {missing}: No such file or directory"
            ),
        ),
        (
            vec!["--tls-cert", &cert, "--tls-key", &missing],
            vec![],
            format!("error: cannot read the TLS key file {missing}: No such file or directory"),
        ),
        (
            vec!["--tls-cert", &garbage, "--tls-key", &key],
            vec![],
            format!(
                "error: the TLS certificate file {garbage} holds no certificate (expected PEM \
                 \"BEGIN CERTIFICATE\")"
            ),
        ),
        (
            vec!["--tls-cert", &cert, "--tls-key", &garbage],
            vec![],
            format!(
                "error: the TLS key file {garbage} holds no usable private key (expected PEM \
                 \"BEGIN PRIVATE KEY\", \"BEGIN EC PRIVATE KEY\" or \"BEGIN RSA PRIVATE KEY\")"
            ),
        ),
        (
            vec!["--tls-cert", &cert, "--tls-key", &other_key],
            vec![],
            format!(
                "error: the TLS certificate {cert} and key {other_key} cannot be used together"
            ),
        ),
        (
            vec!["--tls-self-signed", "--tls-cert", &cert, "--tls-key", &key],
            vec![],
            "error: --tls-self-signed makes its own certificate: leave out --tls-cert and \
             --tls-key, or leave out --tls-self-signed"
                .to_owned(),
        ),
        (
            vec!["--tls-dir", &d],
            vec![],
            "error: --tls-dir is only for --tls-self-signed".to_owned(),
        ),
        (
            vec!["--tls-self-signed", "--tls-dir", &missing],
            vec![],
            format!(
                "error: cannot keep the self-signed TLS certificate in {missing}: it is not a \
                 directory"
            ),
        ),
    ];
    for (args, env, expected) in cases {
        let (code, stderr) = refused(&store, &args, &env);
        assert_eq!(code, 1, "{args:?} {env:?}: {stderr}");
        assert!(
            stderr.starts_with(&expected),
            "{args:?} {env:?}:\n got: {stderr}\nwant: {expected}"
        );
        assert!(
            !dir.path().join("rehome.db").exists(),
            "{args:?}: the store was not created"
        );
        assert!(
            !dir.path().join("rehome-tls-cert.pem").exists(),
            "{args:?}: no certificate was made"
        );
    }

    // Stores with no file of their own need --tls-dir.
    let (code, stderr) = refused("memory:", &["--tls-self-signed"], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr,
        "error: --tls-self-signed keeps its certificate beside an sqlite:// or sled:// store; \
         for memory: say where with --tls-dir DIR"
    );
}

#[test]
fn bad_time_zones_and_public_urls_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = format!("sqlite://{}/rehome.db", dir.path().display());
    let how = ": use an IANA time zone name such as UTC, Europe/London or America/New_York \
               (`timedatectl list-timezones` lists them, so does the \"TZ identifier\" column \
               of Wikipedia's \"List of tz database time zones\")";
    let example = "; expected an absolute http or https URL such as https://rehome.example.org/";
    let cases: Vec<(&str, &str, String)> = vec![
        (
            "--time-zone",
            "Europe/Londn",
            format!("error: --time-zone: unknown time zone \"Europe/Londn\"{how}"),
        ),
        (
            "--time-zone",
            "europe/london",
            format!(
                "error: --time-zone: unknown time zone \"europe/london\" (did you mean \
                 Europe/London?){how}"
            ),
        ),
        (
            "--time-zone",
            "London",
            format!("error: --time-zone: unknown time zone \"London\"{how}"),
        ),
        (
            "--public-url",
            "ftp://rehome.example.org/",
            format!(
                "error: --public-url: public URL \"ftp://rehome.example.org/\" does not start \
                 with http:// or https://{example}"
            ),
        ),
        (
            "--public-url",
            "rehome.example.org",
            format!(
                "error: --public-url: public URL \"rehome.example.org\" does not start with \
                 http:// or https://{example}"
            ),
        ),
        (
            "--public-url",
            "https://rehome.example.org/?a=1",
            format!(
                "error: --public-url: public URL \"https://rehome.example.org/?a=1\" has a \
                 query (?...){example}"
            ),
        ),
        (
            "--public-url",
            "https://rehome.example.org/#top",
            format!(
                "error: --public-url: public URL \"https://rehome.example.org/#top\" has a \
                 fragment (#...){example}"
            ),
        ),
        (
            "--public-url",
            "https://admin:secret@rehome.example.org/",
            format!(
                "error: --public-url: public URL \"https://admin:secret@rehome.example.org/\" \
                 has a user name or password{example}"
            ),
        ),
    ];
    for (flag, value, expected) in cases {
        let (code, stderr) = refused(&store, &[flag, value], &[]);
        assert_eq!(code, 1, "{flag} {value}: {stderr}");
        assert_eq!(stderr, expected, "{flag} {value}");
        assert!(!dir.path().join("rehome.db").exists(), "{flag} {value}");
    }
    // The env var is read the same way.
    let (code, stderr) = refused(&store, &[], &[("REHOME_TIME_ZONE", "Mars/Olympus")]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr,
        format!("error: --time-zone: unknown time zone \"Mars/Olympus\"{how}")
    );
}

#[test]
fn public_urls_are_checked_and_end_in_a_slash() {
    let good = [
        ("https://rehome.example.org", "https://rehome.example.org/"),
        ("https://rehome.example.org/", "https://rehome.example.org/"),
        (
            "https://rehome.example.org//",
            "https://rehome.example.org/",
        ),
        (
            "HTTPS://Rehome.Example.org/desk",
            "https://rehome.example.org/desk/",
        ),
        ("http://192.168.1.20:8000", "http://192.168.1.20:8000/"),
        ("https://[::1]:8443/a/b/", "https://[::1]:8443/a/b/"),
        (
            "  https://rehome.example.org  ",
            "https://rehome.example.org/",
        ),
    ];
    for (input, want) in good {
        let url = PublicUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(url.as_str(), want, "{input}");
    }
    let hosts = [
        ("https://Rehome.Example.org/", "rehome.example.org", true),
        ("http://192.168.1.20:8000", "192.168.1.20", false),
        ("https://[::1]:8443/", "::1", true),
    ];
    for (input, host, https) in hosts {
        let url = PublicUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(url.host(), host, "{input}");
        assert_eq!(url.is_https(), https, "{input}");
    }
    for bad in [
        "",
        "/desk/",
        "//rehome.example.org/",
        "mailto:desk@example.org",
        "file:///etc/passwd",
        "https://",
        "https://rehome.example.org/?",
        "https://rehome.example.org/#",
        "https://user@rehome.example.org/",
        "http://exa mple.org/",
    ] {
        assert!(PublicUrl::parse(bad).is_err(), "{bad:?} is refused");
    }
}

#[test]
fn time_zones_are_iana_names() {
    let cases: [(&str, Option<Tz>); 7] = [
        ("UTC", Some(Tz::UTC)),
        ("Europe/London", Some(Tz::Europe__London)),
        ("America/New_York", Some(Tz::America__New_York)),
        (" Africa/Nairobi ", Some(Tz::Africa__Nairobi)),
        ("europe/london", None),
        ("Europe/Atlantis", None),
        ("", None),
    ];
    for (name, want) in cases {
        assert_eq!(rehome_http::parse_time_zone(name).ok(), want, "{name:?}");
    }
    assert_eq!(Settings::default().time_zone, Tz::UTC);
}

#[test]
fn cookies_are_secure_except_on_plain_http_to_loopback() {
    use SecureCookies::{Always, Auto, Never};
    let https = Some("https://rehome.example.org/");
    let http = Some("http://127.0.0.1:8000/");
    // (mode, server speaks TLS, listening on, public URL, Secure?), worked out by hand from
    // the rule: auto is Secure unless plain HTTP on loopback with no https public URL.
    type Case<'a> = (SecureCookies, bool, Option<&'a str>, Option<&'a str>, bool);
    let cases: [Case<'_>; 22] = [
        (Auto, false, Some("127.0.0.1:8000"), None, false),
        (Auto, false, Some("127.0.0.2:8000"), None, false),
        (Auto, false, Some("[::1]:8000"), None, false),
        (Auto, false, Some("[::ffff:127.0.0.1]:8000"), None, false),
        (Auto, false, Some("127.0.0.1:8000"), http, false),
        (Auto, false, Some("127.0.0.1:8000"), https, true),
        (Auto, true, Some("127.0.0.1:8000"), None, true),
        (Auto, true, Some("127.0.0.1:8000"), http, true),
        (Auto, false, Some("0.0.0.0:8000"), None, true),
        (Auto, false, Some("[::]:8000"), None, true),
        (Auto, false, Some("192.168.1.20:8000"), None, true),
        (Auto, false, Some("192.168.1.20:8000"), http, true),
        (Auto, true, Some("0.0.0.0:8443"), None, true),
        (Auto, false, None, None, true),
        (Always, false, Some("127.0.0.1:8000"), None, true),
        (Always, false, Some("127.0.0.1:8000"), http, true),
        (Always, true, Some("0.0.0.0:8443"), https, true),
        (Never, false, Some("127.0.0.1:8000"), None, false),
        (Never, true, Some("0.0.0.0:8443"), None, false),
        (Never, false, Some("192.168.1.20:8000"), https, false),
        (Never, true, None, https, false),
        (Never, false, None, None, false),
    ];
    for (mode, tls, listen, public_url, want) in cases {
        let settings = Settings {
            secure_cookies: mode,
            tls,
            listen: listen.map(|a| a.parse().expect("an address")),
            public_url: public_url.map(|u| PublicUrl::parse(u).expect("a public URL")),
            ..Settings::default()
        };
        assert_eq!(
            settings.cookies_secure(),
            want,
            "{mode:?} tls={tls} listen={listen:?} public_url={public_url:?}"
        );
    }
    assert_eq!(Settings::default().secure_cookies, Auto);
}
