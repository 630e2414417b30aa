//! The browser harness every scenario shares: chromedriver, a headless chromium session with
//! helpers that find fields by their label, screenshots, and TOTP codes computed here.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use totp_rs::{Algorithm, Builder, Secret};

/// Whether browser tests run here; prints why not when they do not.
pub fn browser_tests_enabled(test: &str) -> bool {
    if std::env::var("REHOME_TEST_BROWSER").as_deref() == Ok("1") {
        return true;
    }
    println!("skipping {test}: set REHOME_TEST_BROWSER=1 to run the browser tests");
    false
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// chromedriver on a free loopback port, killed on drop.
pub struct Driver {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Driver {
    /// Starts `chromedriver` (`REHOME_CHROMEDRIVER` names another) and waits until it listens.
    pub fn start() -> Driver {
        let program =
            std::env::var("REHOME_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        let port = free_port();
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{program} did not start ({e}): install chromium and chromium-driver")
            });
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless chromium session over one server, with helpers that find fields by their
/// label (as assistive technology does) and save screenshots.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    /// The server's base URL.
    pub base: String,
    _driver: Driver,
}

impl Browser {
    /// A new headless chromium (`REHOME_CHROMIUM` names the binary; default Debian's).
    pub async fn open(base: &str) -> Browser {
        let driver = Driver::start();
        let binary =
            std::env::var("REHOME_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900",
                         "--hide-scrollbars"],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a WebDriver session");
        Browser {
            client,
            base: base.to_owned(),
            _driver: driver,
        }
    }

    /// Opens `path` on the server.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigation");
    }

    /// The input labelled `label` inside the form posting to `action` (or anywhere when
    /// `None`).
    pub async fn field(&self, action: Option<&str>, label: &str) -> Element {
        let scope = action.map_or_else(String::new, |a| format!("//form[@action='{a}']"));
        let xpath = format!("{scope}//label[normalize-space()='{label}']");
        let label_el = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no label {label:?} ({xpath}): {e}"));
        let id = label_el
            .attr("for")
            .await
            .expect("attribute")
            .unwrap_or_else(|| panic!("label {label:?} names no input"));
        self.client
            .find(Locator::Id(&id))
            .await
            .unwrap_or_else(|e| panic!("label {label:?} names no element #{id}: {e}"))
    }

    /// Types `text` into the field labelled `label`.
    pub async fn fill(&self, action: Option<&str>, label: &str, text: &str) {
        let f = self.field(action, label).await;
        f.clear().await.expect("clear");
        f.send_keys(text).await.expect("typing");
    }

    /// Clicks the button whose text is `text` (inside the form posting to `action`) and
    /// waits until the next page has replaced this one.
    pub async fn press(&self, action: Option<&str>, text: &str) {
        let scope = action.map_or_else(String::new, |a| format!("//form[@action='{a}']"));
        let xpath = format!("{scope}//button[normalize-space()='{text}']");
        let old = self
            .client
            .find(Locator::Css("html"))
            .await
            .expect("a document");
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {text:?}: {e}"))
            .click()
            .await
            .expect("click");
        // The old document's element goes stale once the answer is shown (not a timing
        // expectation: the deadline only stops a hung test).
        let deadline = Instant::now() + Duration::from_secs(60);
        while old.tag_name().await.is_ok() {
            assert!(
                Instant::now() < deadline,
                "pressing {text:?} never led anywhere"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.client
            .wait()
            .for_element(Locator::Css("body"))
            .await
            .expect("the next page");
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing matches {css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    /// The whole page's text.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// The path of the current page.
    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    /// Saves the current page as `target/console-screenshots/<name>-360.png` and
    /// `<name>-1280.png` (the whole page height), and returns to 1280 px.
    pub async fn screenshots(&self, name: &str) {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        for width in [360u32, 1280] {
            self.client
                .set_window_size(width, 800)
                .await
                .expect("window size");
            let height: u32 = self
                .client
                .execute(
                    "return Math.ceil(document.documentElement.scrollHeight);",
                    vec![],
                )
                .await
                .ok()
                .and_then(|v| v.as_u64())
                .and_then(|h| u32::try_from(h).ok())
                .unwrap_or(800)
                .clamp(400, 4000);
            self.client
                .set_window_size(width, height)
                .await
                .expect("window size");
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::write(dir.join(format!("{name}-{width}.png")), png).expect("png written");
        }
        self.client
            .set_window_size(1280, 900)
            .await
            .expect("window size");
    }
}

/// `target/console-screenshots/` of this workspace.
pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("console-screenshots")
}

/// The 6-digit code of `secret` (base32) for the 30-second step holding `unix_secs`,
/// computed here with totp-rs from RFC 6238's parameters, not by the server's code.
pub fn totp_code(secret: &str, unix_secs: u64) -> String {
    let bytes = Secret::try_from_base32(secret)
        .expect("a base32 secret")
        .as_ref()
        .to_vec();
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(bytes)
        .with_account_name("admin".to_owned())
        .build()
        .expect("a TOTP key")
        .generate(unix_secs)
        .to_string()
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Browser {
    /// Like [`Browser::open`], with `extra_args` added to chromium's (e.g. the fake camera's
    /// `--use-fake-device-for-media-stream`).
    pub async fn open_with(base: &str, extra_args: &[&str]) -> Browser {
        let driver = Driver::start();
        let binary =
            std::env::var("REHOME_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            "--hide-scrollbars",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        args.extend(extra_args.iter().map(|a| (*a).to_owned()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": binary, "args": args }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a WebDriver session");
        Browser {
            client,
            base: base.to_owned(),
            _driver: driver,
        }
    }

    /// Types `text` into the field labelled `label` (inside the form posting to `action`),
    /// presses Enter (as a barcode scanner does after a code) and waits until the next page
    /// has replaced this one.
    pub async fn enter(&self, action: Option<&str>, label: &str, text: &str) {
        let old = self
            .client
            .find(Locator::Css("html"))
            .await
            .expect("a document");
        let f = self.field(action, label).await;
        f.clear().await.expect("clear");
        f.send_keys(&format!("{text}\u{e007}"))
            .await
            .expect("typing");
        // The deadline only stops a hung test.
        let deadline = Instant::now() + Duration::from_secs(60);
        while old.tag_name().await.is_ok() {
            assert!(
                Instant::now() < deadline,
                "Enter in {label:?} never led anywhere"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.client
            .wait()
            .for_element(Locator::Css("body"))
            .await
            .expect("the next page");
    }

    /// Chooses the option shown as `option` in the select labelled `label` (inside the form
    /// posting to `action`, or anywhere when `None`).
    pub async fn choose(&self, action: Option<&str>, label: &str, option: &str) {
        self.field(action, label)
            .await
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("no option {option:?} in {label:?}: {e}"));
    }

    /// Ticks or unticks the checkbox labelled `label` (inside the form posting to `action`)
    /// so that it ends `on`.
    pub async fn tick(&self, action: Option<&str>, label: &str, on: bool) {
        let f = self.field(action, label).await;
        let checked = f.prop("checked").await.expect("checked").as_deref() == Some("true");
        if checked != on {
            f.click().await.expect("click");
        }
    }

    /// The texts of the cells of each row of the table body matching `css` (`table.x tbody`).
    pub async fn rows(&self, css: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let rows = self
            .client
            .find_all(Locator::Css(&format!("{css} tr")))
            .await
            .expect("rows");
        for row in rows {
            let mut cells = Vec::new();
            for cell in row.find_all(Locator::Css("td")).await.expect("cells") {
                cells.push(cell.text().await.expect("text").trim().to_owned());
            }
            out.push(cells);
        }
        out
    }
}

impl Browser {
    /// Fills the sign-in form on the current page with `username` and `password` and presses
    /// "Sign in".
    pub async fn submit_sign_in(&self, username: &str, password: &str) {
        self.fill(None, "Username", username).await;
        self.fill(None, "Password", password).await;
        self.press(Some("/sign-in"), "Sign in").await;
    }

    /// Opens the sign-in page and signs `username` in with `password` through its form.
    pub async fn sign_in(&self, username: &str, password: &str) {
        self.goto("/sign-in").await;
        self.submit_sign_in(username, password).await;
    }
}
