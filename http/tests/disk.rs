//! `rehome serve` when its disk fills up or its data directory turns read-only.
//!
//! Each test mounts a small tmpfs of its own (so it needs root and `mount`; elsewhere it prints
//! that it skipped). A full disk or a read-only file system must never crash the server, lose an
//! acknowledged write or apply half a batch: writes are refused with 503 and a `Retry-After`
//! while reads go on, and writes work again once space is freed or the mount is writable.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Client, Server, create_superuser, sled_url, sqlite_url};
use serde_json::{Value as Json, json};

/// A tmpfs of its own, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. "16m"); `None` (after saying why) when that is not
    /// possible here.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            Ok(o) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs (needs root): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, mode: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(self.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "remount {mode}");
    }

    /// Fills the file system with a file, to the last byte; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).expect("filler file");
        let block = vec![0u8; 4096];
        loop {
            match file.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        // Whatever is left below one block.
        while file.write(&[0u8]).is_ok_and(|n| n == 1) {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn device(serial: &str) -> Json {
    json!({"type": "Laptop", "make": "Dell", "model": "Latitude 5490", "serial_number": serial})
}

/// The serial numbers the server lists (all pages), sorted.
fn serials(client: &Client, token: &str) -> Vec<String> {
    let mut out: Vec<String> = client
        .all_devices(token)
        .iter()
        .filter_map(|d| d["serial_number"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

/// How a store behaves once its disk is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// A refused write is rolled back; reads go on; writes work again once there is space.
    /// (SQLite: a failed transaction rolls back, the connection stays usable.)
    RecoversInPlace,
    /// After the first failed write sled refuses every call, reads and `/healthz` included
    /// (so a supervisor restarts it), until the process restarts. A refused write is in doubt:
    /// sled applied it in memory before its flush failed, so it may or may not be there after
    /// the restart (a batch wholly or not at all).
    NeedsRestart,
}

fn full_disk(store_of: fn(&Path) -> String, name: &str, behaviour: Behaviour) {
    let Some(fs) = Tmpfs::mount("24m") else {
        return;
    };
    let store = store_of(fs.path());
    create_superuser(&store, "admin");
    let mut server = Server::start(&store, &[]);
    let client = server.client();
    let token = client.login("admin", common::PASSWORD);
    let mut acked: Vec<String> = Vec::new();
    for i in 0..20 {
        let serial = format!("SN-BEFORE-{i:03}");
        let (status, body) = client.call(
            "POST",
            "/inventory/devices/",
            Some(&token),
            Some(&device(&serial)),
        );
        assert_eq!(status, 201, "{body}");
        acked.push(serial);
    }

    let filler = fs.fill();
    // Writes attempted on the full disk: one device, then a batch of two, forty times.
    let mut refused: Vec<Vec<String>> = Vec::new();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..40 {
        let single = format!("SN-FULL-{i:03}");
        let (status, body) = client
            .send(
                "POST",
                "/inventory/devices/",
                Some(&token),
                Some(&device(&single)),
            )
            .unwrap_or_else(|e| {
                std::thread::sleep(std::time::Duration::from_millis(500));
                panic!(
                    "{name}: no answer ({e}); server exit: {:?}; server log:\n{}",
                    server.exited(),
                    server.log()
                )
            });
        *statuses.entry(status).or_default() += 1;
        match status {
            201 => acked.push(single),
            503 => refused.push(vec![single]),
            other => panic!(
                "{name}: a write on a full disk answered {other}: {body}\n{}",
                server.log()
            ),
        }
        let pair = [format!("SN-BATCH-{i:03}-A"), format!("SN-BATCH-{i:03}-B")];
        let (status, body) = client
            .send(
                "POST",
                "/inventory/batch/",
                Some(&token),
                Some(&json!({"operations": [
                    {"op": "create", "model": "device", "data": device(&pair[0])},
                    {"op": "create", "model": "device", "data": device(&pair[1])},
                ]})),
            )
            .unwrap_or_else(|e| {
                std::thread::sleep(std::time::Duration::from_millis(500));
                panic!(
                    "{name}: no answer ({e}); server exit: {:?}; server log:\n{}",
                    server.exited(),
                    server.log()
                )
            });
        *statuses.entry(status).or_default() += 1;
        match status {
            200 | 201 => acked.extend(pair.iter().cloned()),
            503 => refused.push(pair.to_vec()),
            other => panic!(
                "{name}: a batch on a full disk answered {other}: {body}\n{}",
                server.log()
            ),
        }
    }
    println!(
        "full disk {name}: statuses {statuses:?}; {} writes refused, {} devices acknowledged",
        refused.len(),
        acked.len()
    );
    assert!(!refused.is_empty(), "{name}: the disk never filled up");
    acked.sort();

    match behaviour {
        Behaviour::RecoversInPlace => {
            // Reads go on while the disk is full, and show exactly what was acknowledged.
            assert_eq!(
                serials(&client, &token),
                acked,
                "{name}: listing while full"
            );
            let (status, body) = client.call("GET", "/healthz", None, None);
            assert_eq!(status, 200, "{name}: healthz while full: {body}");
            // Space again: writes work without a restart.
            std::fs::remove_file(&filler).expect("filler removed");
            let (status, body) = client.call(
                "POST",
                "/inventory/devices/",
                Some(&token),
                Some(&device("SN-AFTER-000")),
            );
            assert_eq!(
                status,
                201,
                "{name}: after freeing space: {body}\n{}",
                server.log()
            );
            acked.push("SN-AFTER-000".to_owned());
            acked.sort();
            let status = server.stop().expect("running");
            assert!(
                status.success(),
                "{name}: exit after a full disk: {status}\n{}",
                server.log()
            );
            let server = Server::start(&store, &[]);
            assert_eq!(
                serials(&server.client(), &token),
                acked,
                "{name}: after restart"
            );
        }
        Behaviour::NeedsRestart => {
            let (status, body) = client.call("GET", "/healthz", None, None);
            assert_eq!(status, 503, "{name}: healthz after a failed flush: {body}");
            let (status, body) = client.call("GET", "/inventory/devices/", Some(&token), None);
            assert_eq!(status, 503, "{name}: reads after a failed flush: {body}");
            std::fs::remove_file(&filler).expect("filler removed");
            // The process is told to stop; it may not close cleanly (its last flush failed),
            // but it must exit.
            server.stop().expect("running");
            let server = Server::start(&store, &[]);
            let found = serials(&server.client(), &token);
            let missing: Vec<_> = acked.iter().filter(|s| !found.contains(s)).collect();
            assert!(
                missing.is_empty(),
                "{name}: acknowledged writes lost: {missing:?}"
            );
            let mut surfaced = 0;
            for group in &refused {
                let present = group.iter().filter(|s| found.contains(s)).count();
                assert!(
                    present == 0 || present == group.len(),
                    "{name}: a refused batch is partly there: {group:?}"
                );
                surfaced += usize::from(present > 0);
            }
            let expected_len = acked.len()
                + refused
                    .iter()
                    .filter(|g| found.contains(&g[0]))
                    .map(Vec::len)
                    .sum::<usize>();
            assert_eq!(
                found.len(),
                expected_len,
                "{name}: unexpected devices: {found:?}"
            );
            println!(
                "full disk {name}: after restart all {} acknowledged present; {surfaced} of {} refused writes surfaced (in doubt), none partly",
                acked.len(),
                refused.len()
            );
        }
    }
}

#[test]
fn sqlite_full_disk_refuses_writes_with_503_and_loses_nothing() {
    full_disk(sqlite_url, "sqlite", Behaviour::RecoversInPlace);
}

#[test]
fn sled_full_disk_refuses_calls_with_503_until_restarted_and_loses_nothing() {
    full_disk(sled_url, "sled", Behaviour::NeedsRestart);
}

/// `rehome serve` on a store in a read-only directory: a clear refusal to start, never a
/// panic, and the store untouched.
fn start_on_read_only(store_of: fn(&Path) -> String, name: &str) {
    let Some(fs) = Tmpfs::mount("24m") else {
        return;
    };
    let store = store_of(fs.path());
    create_superuser(&store, "admin");
    fs.remount("ro");
    match Server::try_start(&store, &[]) {
        Ok(server) => {
            // Serving reads from a read-only store is acceptable; writes must be refused.
            let client = server.client();
            let token = client.login("admin", common::PASSWORD);
            let (status, body) = client.call(
                "POST",
                "/inventory/devices/",
                Some(&token),
                Some(&device("SN-RO-000")),
            );
            assert_eq!(status, 503, "{name}: {body}");
            println!("read-only start {name}: serves reads, refuses writes with 503");
        }
        Err(log) => {
            assert!(!log.contains("panicked"), "{name}: a panic:\n{log}");
            assert!(
                log.contains("opening the store") && log.contains("Read-only file system"),
                "{name}: the refusal names the store and the cause:\n{log}"
            );
            println!(
                "read-only start {name}: refused: {}",
                log.lines()
                    .rfind(|l| l.contains("error"))
                    .unwrap_or_default()
            );
        }
    }
    fs.remount("rw");
    let server = Server::start(&store, &[]);
    let client = server.client();
    let token = client.login("admin", common::PASSWORD);
    assert_eq!(serials(&client, &token), Vec::<String>::new());
}

#[test]
fn sqlite_start_on_read_only_data_is_refused_clearly() {
    start_on_read_only(sqlite_url, "sqlite");
}

#[test]
fn sled_start_on_read_only_data_is_refused_clearly() {
    start_on_read_only(sled_url, "sled");
}
