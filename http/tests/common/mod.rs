//! Process-level harness for tests that need the real `rehome` binary: start `rehome serve` on a
//! free loopback port, kill it (`SIGKILL`) or stop it (`SIGTERM`), run admin commands, and talk
//! to it over real HTTP with a small blocking client (`ureq`).
//!
//! Each test file that uses it declares `mod common;` and uses what it needs.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

/// The password the harness gives the users it creates (passes the password policy).
pub const PASSWORD: &str = "Tessellated-Lantern-42";

/// How long a server may take to start on a busy machine before the test gives up.
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// The `rehome` binary cargo built for these tests, or the one `REHOME_TEST_BINARY` names.
///
/// The override exists because cargo puts the binary at `<target dir>/debug/rehome` whatever
/// the checkout: with a target directory shared by several worktrees, another worktree's build
/// can replace it while these tests run. Copy the binary you built and point the variable at
/// the copy.
pub fn binary() -> &'static str {
    static BINARY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BINARY.get_or_init(|| {
        std::env::var("REHOME_TEST_BINARY")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_rehome").to_owned())
    })
}

/// Runs `rehome ARGS` to completion with `env` added (and `REHOME_PASSWORD`/`REHOME_STORE`
/// removed unless given), feeding `stdin` when given.
pub fn rehome(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .env_remove("REHOME_PASSWORD")
        .env_remove("REHOME_STORE")
        .env("REHOME_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("rehome starts");
    if let (Some(mut input), Some(text)) = (child.stdin.take(), stdin) {
        input.write_all(text.as_bytes()).expect("stdin written");
    }
    child.wait_with_output().expect("rehome ends")
}

/// Command output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Creates a superuser `username` with [`PASSWORD`] in the store at `store`.
pub fn create_superuser(store: &str, username: &str) {
    let email = format!("{username}@example.org");
    let out = rehome(
        &[
            "createsuperuser",
            "--username",
            username,
            "--email",
            &email,
            "--store",
            store,
        ],
        &[("REHOME_PASSWORD", PASSWORD)],
        None,
    );
    assert!(
        out.status.success(),
        "createsuperuser failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One running `rehome serve`.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base: String,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl Server {
    /// Starts `rehome serve --store STORE --bind 127.0.0.1:0 EXTRA...` and waits until it
    /// answers `/healthz`; panics with the server's log when it does not start.
    pub fn start(store: &str, extra: &[&str]) -> Server {
        Server::try_start(store, extra).unwrap_or_else(|log| panic!("server did not start:\n{log}"))
    }

    /// Like [`Server::start`], but returns the server's log when it exits or never listens.
    pub fn try_start(store: &str, extra: &[&str]) -> Result<Server, String> {
        let dir = tempfile::tempdir().expect("a temporary directory for the log");
        let log = dir.path().join("serve.log");
        let file = std::fs::File::create(&log).expect("log file");
        let mut child = Command::new(binary())
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
            if let Some(base) = listening_address(&text) {
                let server = Server {
                    child: Some(child),
                    base,
                    log,
                    _log_dir: dir,
                };
                server.wait_healthy()?;
                return Ok(server);
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("exited with {status}:\n{text}"));
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not listen within {START_TIMEOUT:?}:\n{text}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_healthy(&self) -> Result<(), String> {
        let client = Client::new(&self.base);
        let started = Instant::now();
        loop {
            match client.send("GET", "/healthz", None, None) {
                Ok((200, _)) => return Ok(()),
                _ if started.elapsed() > START_TIMEOUT => {
                    return Err(format!("/healthz never answered 200:\n{}", self.log()));
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The exit status, if the process has exited (without waiting).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A client for this server.
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// `SIGKILL`: the process dies at once, mid-request or mid-write, with no clean-up.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `SIGTERM`, then waits for the exit (graceful shutdown); returns the exit status.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                return child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Starts `rehome serve --store STORE` and kills it (`SIGKILL`) `after` the spawn, whether it is
/// still opening the store or already serving: a crash during start-up. Returns its log.
pub fn kill_during_start(store: &str, after: Duration) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory for the log");
    let log = dir.path().join("serve.log");
    let file = std::fs::File::create(&log).expect("log file");
    let mut child = Command::new(binary())
        .args(["serve", "--store", store, "--bind", "127.0.0.1:0"])
        .env_remove("REHOME_STORE")
        .env("REHOME_LOG", "info")
        .env("REHOME_LOG_FORMAT", "text")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .expect("rehome serve starts");
    std::thread::sleep(after);
    let _ = child.kill();
    let _ = child.wait();
    std::fs::read_to_string(&log).unwrap_or_default()
}

/// The `http://ADDR` of the "rehome is listening on http://ADDR/" log line.
fn listening_address(log: &str) -> Option<String> {
    let at = log.find("listening on http://")? + "listening on ".len();
    let rest = &log[at..];
    let end = rest[7..].find('/')? + 7;
    Some(rest[..end].to_owned())
}

/// A blocking HTTP client for one server: statuses are returned, never turned into errors.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    /// A client for `base` (`http://host:port`).
    pub fn new(base: &str) -> Client {
        // Connections are kept alive and reused, as real clients do: the server says
        // `Connection: close` when it cannot reuse one (an answer before the body was read).
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build();
        Client {
            agent: config.into(),
            base: base.to_owned(),
        }
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request; `Ok((status, body as JSON or Null))`, or `Err` when no answer came
    /// (connection refused or reset, e.g. the server was killed).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Json>,
    ) -> Result<(u16, Json), ureq::Error> {
        self.send_with(method, path, token, &[], body)
            .map(|a| (a.status, a.body))
    }

    /// Like [`Client::send`], with extra request `headers` (e.g. `If-Match`).
    pub fn send_with_headers(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Json>,
    ) -> Result<(u16, Json), ureq::Error> {
        self.send_with(method, path, token, headers, body)
            .map(|a| (a.status, a.body))
    }

    /// Like [`Client::send`], with extra request `headers` (e.g. `If-Match`), answering the
    /// response headers too.
    pub fn send_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Json>,
    ) -> Result<Answer, ureq::Error> {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let bytes = match body {
            Some(b) => {
                builder = builder.header("Content-Type", "application/json");
                serde_json::to_vec(b).expect("JSON encodes")
            }
            None => Vec::new(),
        };
        let request = builder.body(bytes).expect("a valid request");
        let mut response = self.agent.run(request)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let text = response.body_mut().read_to_string()?;
        let body = if text.is_empty() {
            Json::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Json::String(text))
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Like [`Client::send`], but panics when no answer came.
    #[track_caller]
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Json>,
    ) -> (u16, Json) {
        self.send(method, path, token, body)
            .unwrap_or_else(|e| panic!("{method} {}{path}: no answer: {e}", self.base))
    }

    /// Every device the server lists, all pages, in the order listed.
    #[track_caller]
    pub fn all_devices(&self, token: &str) -> Vec<Json> {
        let mut devices = Vec::new();
        for page in 1.. {
            let (status, body) = self.call(
                "GET",
                &format!("/inventory/devices/?page_size=100&page={page}"),
                Some(token),
                None,
            );
            assert_eq!(status, 200, "listing devices, page {page}: {body}");
            devices.extend(
                body["results"]
                    .as_array()
                    .expect("a results list")
                    .iter()
                    .cloned(),
            );
            if body["links"]["next"].is_null() {
                break;
            }
        }
        devices
    }

    /// Logs in with a password (no MFA) and returns the access token.
    #[track_caller]
    pub fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self.call(
            "POST",
            "/authen/login/",
            None,
            Some(&json!({ "username": username, "password": password })),
        );
        assert_eq!(status, 200, "login of {username}: {body}");
        body["tokens"]["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {body}"))
            .to_owned()
    }
}

/// A response with its headers (from [`Client::send_with`]).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Every response header, names in lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as JSON, a JSON string when it is not JSON, or `Null` when empty.
    pub body: Json,
}

impl Answer {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A store URL for an SQLite file in `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("rehome.db").display())
}

/// A store URL for a sled directory in `dir`.
pub fn sled_url(dir: &Path) -> String {
    format!("sled://{}", dir.join("rehome.sled").display())
}
