//! Engine-level tests of `SledEngine` against a reference model (a `BTreeMap`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rehome_core::kv::{KvBatch, KvEngine, KvOp};
use rehome_core::store::StoreError;
use rehome_sled::{Config, SledEngine};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A short key over a tiny alphabet, so ranges and collisions are common.
    fn key(&mut self) -> Vec<u8> {
        let len = self.below(4) as usize;
        (0..len)
            .map(|_| [0x00, 0x01, b'a', b'b', 0xff][self.below(5) as usize])
            .collect()
    }
    fn value(&mut self) -> Vec<u8> {
        let len = self.below(40) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn open(path: &Path) -> SledEngine {
    open_after_raw(path).expect("open sled engine")
}

fn model_scan(
    model: &Model,
    start: &[u8],
    end: Option<&[u8]>,
    reverse: bool,
    limit: usize,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let in_range = |k: &Vec<u8>| k.as_slice() >= start && end.is_none_or(|e| k.as_slice() < e);
    let items = model
        .iter()
        .filter(|(k, _)| in_range(k))
        .map(|(k, v)| (k.clone(), v.clone()));
    if reverse {
        items.rev().take(limit).collect()
    } else {
        items.take(limit).collect()
    }
}

fn engine_scan(
    engine: &SledEngine,
    start: &[u8],
    end: Option<&[u8]>,
    reverse: bool,
    limit: usize,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    if limit == 0 {
        return out;
    }
    engine
        .scan(start, end, reverse, &mut |k, v| {
            out.push((k.to_vec(), v.to_vec()));
            out.len() < limit
        })
        .expect("scan");
    out
}

fn apply_to_model(model: &mut Model, batch: &KvBatch) {
    for op in &batch.ops {
        match op {
            KvOp::Put(k, v) => {
                model.insert(k.clone(), v.clone());
            }
            KvOp::Remove(k) => {
                model.remove(k);
            }
        }
    }
}

fn random_batch(rng: &mut Rng) -> KvBatch {
    let n = 1 + rng.below(6);
    let ops = (0..n)
        .map(|_| {
            if rng.below(3) == 0 {
                KvOp::Remove(rng.key())
            } else {
                KvOp::Put(rng.key(), rng.value())
            }
        })
        .collect();
    KvBatch { ops }
}

fn check_against_model(engine: &SledEngine, model: &Model, rng: &mut Rng) {
    for _ in 0..200 {
        let key = rng.key();
        assert_eq!(
            engine.get(&key).expect("get"),
            model.get(&key).cloned(),
            "get {key:?}"
        );
    }
    for _ in 0..300 {
        let start = rng.key();
        let end = if rng.below(4) == 0 {
            None
        } else {
            Some(rng.key())
        };
        let reverse = rng.below(2) == 0;
        let limit = [0, 1, 2, 5, usize::MAX][rng.below(5) as usize];
        assert_eq!(
            engine_scan(engine, &start, end.as_deref(), reverse, limit),
            model_scan(model, &start, end.as_deref(), reverse, limit),
            "scan {start:?}..{end:?} reverse={reverse} limit={limit}"
        );
    }
}

#[tokio::test]
async fn matches_a_reference_model_and_persists_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut model = Model::new();
    {
        let engine = open(dir.path());
        for round in 0..300 {
            let batch = random_batch(&mut rng);
            apply_to_model(&mut model, &batch);
            engine.apply(batch).expect("apply");
            if round % 50 == 0 {
                check_against_model(&engine, &model, &mut rng);
            }
        }
        check_against_model(&engine, &model, &mut rng);
        engine.close().await.expect("close");
        assert!(engine.get(b"a").is_err(), "a closed engine refuses calls");
        engine.close().await.expect("closing twice is fine");
    }
    // Reopening the same path in the same process works once closed.
    let engine = open(dir.path());
    check_against_model(&engine, &model, &mut rng);
    assert!(!model.is_empty());
}

#[tokio::test]
async fn batches_apply_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path());
    engine
        .apply(KvBatch {
            ops: vec![
                KvOp::Put(b"gone".to_vec(), b"1".to_vec()),
                KvOp::Put(b"kept".to_vec(), b"1".to_vec()),
                KvOp::Remove(b"gone".to_vec()),
                KvOp::Remove(b"kept".to_vec()),
                KvOp::Put(b"kept".to_vec(), b"2".to_vec()),
                KvOp::Put(b"twice".to_vec(), b"1".to_vec()),
                KvOp::Put(b"twice".to_vec(), b"2".to_vec()),
                KvOp::Remove(b"never-there".to_vec()),
            ],
        })
        .expect("apply");
    assert_eq!(engine.get(b"gone").expect("get"), None);
    assert_eq!(engine.get(b"kept").expect("get"), Some(b"2".to_vec()));
    assert_eq!(engine.get(b"twice").expect("get"), Some(b"2".to_vec()));
    assert_eq!(engine.get(b"never-there").expect("get"), None);
}

fn put(key: &[u8], value: &[u8]) -> KvBatch {
    KvBatch {
        ops: vec![KvOp::Put(key.to_vec(), value.to_vec())],
    }
}

fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) -> String {
    match result {
        Err(StoreError::Corrupt(message)) => message,
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_committers_share_flushes() {
    const WRITERS: u32 = 16;
    const COMMITS: u32 = 20;
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Arc::new(open(dir.path()));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let engine = Arc::clone(&engine);
            tokio::spawn(async move {
                for commit in 0..COMMITS {
                    let key = format!("w{writer:02}c{commit:02}");
                    engine
                        .apply(put(key.as_bytes(), &commit.to_be_bytes()))
                        .expect("apply");
                    engine.sync().await.expect("sync");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer");
    }
    let commits = u64::from(WRITERS * COMMITS);
    assert_eq!(engine.sync_count(), commits);
    let flushes = engine.flush_count();
    assert!(
        flushes >= 1 && flushes < commits,
        "{flushes} flushes for {commits} commits"
    );
    engine.close().await.expect("close");

    let engine = open(dir.path());
    for writer in 0..WRITERS {
        for commit in 0..COMMITS {
            let key = format!("w{writer:02}c{commit:02}");
            assert_eq!(
                engine.get(key.as_bytes()).expect("get"),
                Some(commit.to_be_bytes().to_vec()),
                "{key}"
            );
        }
    }
}

/// The child half of `synced_writes_survive_a_crash`: writes, syncs, reports, then dies
/// without closing anything.
#[tokio::test]
async fn crash_child() {
    let Ok(dir) = std::env::var("REHOME_SLED_CRASH_DIR") else {
        return; // Only runs when started by the parent test.
    };
    let engine = open(Path::new(&dir));
    for i in 0..100u32 {
        engine
            .apply(put(&i.to_be_bytes(), b"synced"))
            .expect("apply");
        engine.sync().await.expect("sync");
    }
    // Applied but never synced: may or may not survive.
    engine.apply(put(b"unsynced", b"maybe")).expect("apply");
    println!("SYNCED");
    std::process::abort();
}

#[tokio::test]
async fn synced_writes_survive_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env("REHOME_SLED_CRASH_DIR", dir.path())
        .output()
        .expect("run the crashing child");
    assert!(!output.status.success(), "the child aborts");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("SYNCED"),
        "the child got as far as the crash: {output:?}"
    );
    // The lock of the dead process is gone with it; the store opens without a false alarm.
    let engine = open(dir.path());
    for i in 0..100u32 {
        assert_eq!(
            engine.get(&i.to_be_bytes()).expect("get"),
            Some(b"synced".to_vec()),
            "key {i}"
        );
    }
    let unsynced = engine.get(b"unsynced").expect("get");
    assert!(unsynced.is_none() || unsynced == Some(b"maybe".to_vec()));
}

#[tokio::test]
async fn a_second_open_of_an_open_store_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path());
    match SledEngine::open(&Config::new(dir.path())) {
        Err(StoreError::Backend(e)) => assert!(e.to_string().contains("lock"), "{e}"),
        other => panic!("expected a lock error, got {other:?}"),
    }
    engine.close().await.expect("close");
    let engine = open(dir.path());
    engine.close().await.expect("close");
    // Dropping without close releases the store as well.
    drop(open(dir.path()));
    drop(open(dir.path()));
}

/// Rewrites the store's raw sled data with `edit`, between a close and a reopen.
fn edit_raw(path: &Path, edit: impl FnOnce(&sled::Db)) {
    let db = sled::open(path).expect("raw sled open");
    edit(&db);
    db.flush().expect("raw flush");
}

/// Opens `path` with our engine, waiting while a raw sled handle dropped just before still
/// holds the directory's lock (sled releases it from a background thread, a moment after the
/// last handle goes).
fn open_after_raw(path: &Path) -> Result<SledEngine, StoreError> {
    for _ in 0..200 {
        match SledEngine::open(&Config::new(path)) {
            Err(StoreError::Backend(e)) if format!("{e:?}").contains("WouldBlock") => {
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            other => return other,
        }
    }
    SledEngine::open(&Config::new(path))
}

#[tokio::test]
async fn damaged_values_are_reported_not_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path());
    for key in [&b"a"[..], b"b", b"c", b"d", b"e"] {
        engine.apply(put(key, b"value")).expect("apply");
    }
    engine.close().await.expect("close");
    drop(engine);

    edit_raw(dir.path(), |db| {
        let mut b = db.get(b"b").expect("get").expect("b stored").to_vec();
        let last = b.len() - 1;
        b[last] ^= 0x20; // "valuE"
        db.insert(b"b", b).expect("insert");
        db.insert(b"c", &b"\x01\x02"[..]).expect("insert"); // shorter than a frame
        let a = db.get(b"a").expect("get").expect("a stored");
        db.insert(b"d", a).expect("insert"); // a's intact frame under another key
    });

    let engine = open(dir.path());
    assert_eq!(engine.get(b"a").expect("get a"), Some(b"value".to_vec()));
    assert_eq!(engine.get(b"e").expect("get e"), Some(b"value".to_vec()));
    for key in [&b"b"[..], b"c", b"d"] {
        let message = assert_corrupt(engine.get(key), "get");
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
    }
    // A scan stops with the error when it reaches a damaged value, in both directions.
    let mut seen = Vec::new();
    let scan = engine.scan(b"", None, false, &mut |k, _| {
        seen.push(k.to_vec());
        true
    });
    assert_corrupt(scan, "scan");
    assert_eq!(seen, vec![b"a".to_vec()]);
    seen.clear();
    let scan = engine.scan(b"", None, true, &mut |k, _| {
        seen.push(k.to_vec());
        true
    });
    assert_corrupt(scan, "reverse scan");
    assert_eq!(seen, vec![b"e".to_vec()]);
    // Ranges that avoid the damage still work.
    seen.clear();
    engine
        .scan(b"e", None, false, &mut |k, _| {
            seen.push(k.to_vec());
            true
        })
        .expect("scan e..");
    assert_eq!(seen, vec![b"e".to_vec()]);
}

#[tokio::test]
async fn the_format_header_is_checked() {
    // Not a rehome store: data without a header.
    let dir = tempfile::tempdir().expect("tempdir");
    edit_raw(dir.path(), |db| {
        db.insert(b"k", &b"v"[..]).expect("insert");
    });
    let message = assert_corrupt(open_after_raw(dir.path()), "foreign store");
    assert!(message.contains("format header"), "{message}");

    // A newer format, and a damaged header.
    for (header, expect) in [
        (&b"rehome-sled\0\0\0\0\x02"[..], "format 2"),
        (&b"something else"[..], "not rehome's"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        open(dir.path()).close().await.expect("close");
        edit_raw(dir.path(), |db| {
            let meta = db.open_tree(b"rehome-sled/meta").expect("meta tree");
            let crc = {
                let mut h = crc32fast::Hasher::new();
                h.update(b"format");
                h.update(header);
                h.finalize()
            };
            let mut framed = crc.to_le_bytes().to_vec();
            framed.extend_from_slice(header);
            meta.insert(b"format", framed).expect("insert");
        });
        let message = assert_corrupt(open_after_raw(dir.path()), expect);
        assert!(message.contains(expect), "{message}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        if entry.metadata().expect("metadata").is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
}

/// How a copy of a closed store is damaged.
type Damage = Box<dyn Fn(&Path)>;

fn rewrite(path: &Path, edit: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).expect("read");
    edit(&mut bytes);
    std::fs::write(path, bytes).expect("write");
}

#[tokio::test]
async fn damaged_store_files_give_errors_never_wrong_or_missing_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good");
    let mut model = Model::new();
    {
        let engine = open(&good);
        for i in 0..2000u32 {
            let batch = put(&i.to_be_bytes(), &[i as u8; 100]);
            apply_to_model(&mut model, &batch);
            engine.apply(batch).expect("apply");
            if i % 100 == 99 {
                engine.sync().await.expect("sync");
            }
        }
        engine.close().await.expect("close");
    }
    let log = good.join("db");
    let len = std::fs::metadata(&log).expect("metadata").len();
    assert!(len > 100_000, "the log holds the data ({len} bytes)");

    let mut damages: Vec<(String, Damage)> = vec![("none".into(), Box::new(|_: &Path| {}))];
    for percent in [0, 1, 50, 90, 99] {
        damages.push((
            format!("log truncated to {percent}%"),
            Box::new(move |p: &Path| {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(p.join("db"))
                    .expect("open");
                file.set_len(len * percent / 100).expect("truncate");
            }),
        ));
    }
    for offset in (0..len).step_by(len as usize / 9).chain([len - 1]) {
        damages.push((
            format!("log byte {offset} flipped"),
            Box::new(move |p: &Path| rewrite(&p.join("db"), |b| b[offset as usize] ^= 0x5a)),
        ));
        damages.push((
            format!("log 4 KiB zeroed at {offset}"),
            Box::new(move |p: &Path| {
                rewrite(&p.join("db"), |b| {
                    let end = (offset as usize + 4096).min(b.len());
                    b[offset as usize..end].fill(0);
                })
            }),
        ));
    }
    damages.push((
        "conf garbled".into(),
        Box::new(|p: &Path| std::fs::write(p.join("conf"), b"garbage").expect("write")),
    ));
    damages.push((
        "conf removed".into(),
        Box::new(|p: &Path| std::fs::remove_file(p.join("conf")).expect("rm")),
    ));
    damages.push((
        "log removed".into(),
        Box::new(|p: &Path| std::fs::remove_file(p.join("db")).expect("rm")),
    ));

    let mut opened = Vec::new();
    for (i, (name, damage)) in damages.iter().enumerate() {
        let copy = dir.path().join(format!("copy{i}"));
        copy_dir(&good, &copy);
        damage(&copy);
        // A panic here would fail the test: open must catch sled's.
        let engine = match SledEngine::open(&Config::new(&copy)) {
            Err(StoreError::Corrupt(message)) => {
                assert!(
                    message.contains(&copy.display().to_string()),
                    "{name}: {message}"
                );
                continue;
            }
            Err(other) => panic!("{name}: damage should read as Corrupt, got {other}"),
            Ok(engine) => {
                opened.push(name.as_str());
                engine
            }
        };
        // Opened: every answer is the right one or an error.
        for (key, value) in &model {
            match engine.get(key) {
                Ok(Some(got)) => assert_eq!(&got, value, "{name}: wrong value for {key:?}"),
                Ok(None) => panic!("{name}: {key:?} is missing"),
                Err(_) => {}
            }
        }
        let mut scanned = Model::new();
        let scan = engine.scan(b"", None, false, &mut |k, v| {
            scanned.insert(k.to_vec(), v.to_vec());
            true
        });
        if scan.is_ok() {
            assert_eq!(scanned, model, "{name}: scan");
        } else {
            assert!(
                scanned.iter().all(|(k, v)| model.get(k) == Some(v)),
                "{name}: scan"
            );
        }
    }
    // Every damage to the log is refused (sled alone would drop the rest of the log silently);
    // without its conf file sled falls back to defaults, which read this store correctly.
    assert_eq!(opened, ["none", "conf garbled", "conf removed"]);
}

/// sled 0.34 takes a torn `snap.*.generating` file (a snapshot whose writer was killed before
/// renaming it) for the latest snapshot and refuses the store (sled issue #1527; the kill -9
/// test of `rehome serve` left one behind when it killed the server while it opened the
/// store). The engine removes it and opens the store with every synced write.
#[tokio::test]
async fn a_torn_snapshot_left_by_a_crash_does_not_make_the_store_unopenable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good");
    let mut model = Model::new();
    {
        let engine = open(&good);
        for i in 0..500u32 {
            let batch = put(&i.to_be_bytes(), &[i as u8; 50]);
            apply_to_model(&mut model, &batch);
            engine.apply(batch).expect("apply");
        }
        engine.sync().await.expect("sync");
        engine.close().await.expect("close");
        // sled writes a snapshot of the recovered log when it opens a store.
        open(&good).close().await.expect("close");
    }
    let snapshots = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&good)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("snap."))
            .collect();
        names.sort();
        names
    };
    let finished = snapshots();
    assert_eq!(
        finished.len(),
        1,
        "a closed store has one snapshot: {finished:?}"
    );
    let whole = std::fs::read(good.join(&finished[0])).expect("read the snapshot");

    // What a kill leaves: the start of a snapshot (or nothing yet) under a greater name.
    let torn: [(&str, Vec<u8>); 3] = [
        ("half a snapshot", whole[..whole.len() / 2].to_vec()),
        ("an empty file", Vec::new()),
        ("a whole snapshot, not renamed yet", whole.clone()),
    ];
    for (i, (what, bytes)) in torn.iter().enumerate() {
        let copy = dir.path().join(format!("copy{i}"));
        copy_dir(&good, &copy);
        let unfinished = copy.join("snap.7FFFFFFFFFFFFFFF.generating");
        std::fs::write(&unfinished, bytes).expect("write");
        if i < 2 {
            // sled alone refuses the store: this is the bug the engine works around.
            let raw = sled::open(&copy);
            assert!(
                matches!(raw, Err(sled::Error::Corruption { .. })),
                "{what}: sled should refuse it, got {raw:?}"
            );
        }
        let engine = open(&copy);
        assert!(!unfinished.exists(), "{what}: removed");
        let mut scanned = Model::new();
        engine
            .scan(b"", None, false, &mut |k, v| {
                scanned.insert(k.to_vec(), v.to_vec());
                true
            })
            .expect("scan");
        assert_eq!(scanned, model, "{what}");
        engine.close().await.expect("close");
    }
}

#[tokio::test]
async fn an_unfinished_snapshot_of_a_store_open_elsewhere_is_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path());
    let unfinished = dir.path().join("snap.7FFFFFFFFFFFFFFF.generating");
    std::fs::write(&unfinished, b"being written").expect("write");
    match SledEngine::open(&Config::new(dir.path())) {
        Err(StoreError::Backend(e)) => assert!(e.to_string().contains("lock"), "{e}"),
        other => panic!("expected a lock error, got {other:?}"),
    }
    assert!(unfinished.exists(), "the live store's file is not touched");
    engine.close().await.expect("close");
}
