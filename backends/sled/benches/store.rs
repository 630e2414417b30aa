//! Store benchmark: `MemoryStore` and `SledStore` on a device collection of a chosen size.
//!
//! ```text
//! cargo bench -p rehome-sled --bench store                    # 10k devices
//! cargo bench -p rehome-sled --bench store -- 10000 1000000   # 10k, then 1M
//! ```
//!
//! Sizes can also come from `REHOME_BENCH_DEVICES` (comma-separated). Other knobs:
//! - `REHOME_BENCH_STORES`: `memory`, `sled` or both (comma-separated, the default);
//! - `REHOME_BENCH_DIR`: where sled stores go (a temporary directory by default);
//! - `REHOME_BENCH_KEEP`: keep the sled store as `$REHOME_BENCH_DIR/sled-<size>` and reuse it
//!   on the next run instead of seeding again (seeding 1M devices takes a while);
//! - `REHOME_BENCH_SLED_CACHE_MB`: sled's page-cache size (its default is 1 GiB).
//!
//! Measured, after seeding the collection with 1000-device commits:
//! - create: single-device commits from 16 concurrent writers (durable on sled);
//! - get: `Store::get` of random existing devices: a first pass (sled's cache cold), then after
//!   a scan of every device, from one caller and from 4 concurrent ones;
//! - list: the first page of 10 devices with `make = <one of 20>`, default ordering (`type`,
//!   then id), without and with the total count.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rehome_core::memory::MemoryStore;
use rehome_core::query::{Collection, ListQuery};
use rehome_core::store::{ChangeSet, Record, RecordKey, Store};
use rehome_core::testing::bench::{device, device_id, first_page, first_pages, mix, sizes};
use rehome_sled::Config;

const SEED_BATCH: u64 = 1000;
const WRITERS: u64 = 16;

/// One line of results.
fn report(store: &str, size: u64, what: &str, count: u64, elapsed: Duration, note: &str) {
    let per_op = elapsed / u32::try_from(count.max(1)).unwrap_or(u32::MAX);
    let rate = count as f64 / elapsed.as_secs_f64();
    println!(
        "{store:<6} {size:>9} {what:<34} {count:>8} ops {:>10.3} s {:>12.1?}/op {rate:>12.0}/s {note}",
        elapsed.as_secs_f64(),
        per_op,
    );
}

async fn seed(store: &dyn Store, size: u64) -> Duration {
    let started = Instant::now();
    let mut n = 0;
    while n < size {
        let mut changes = ChangeSet::new();
        for i in n..(n + SEED_BATCH).min(size) {
            changes.insert(Record::Device(device(i)));
        }
        n = (n + SEED_BATCH).min(size);
        store.commit(changes).await.expect("seed commit");
        if size >= 100_000 && n % (size / 10).max(1) == 0 {
            eprintln!("  seeded {n} of {size} in {:.1?}", started.elapsed());
        }
    }
    started.elapsed()
}

async fn bench_create(store: Arc<dyn Store>, first: u64, total: u64) -> Duration {
    let per_writer = total / WRITERS;
    let started = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..per_writer {
                    let mut changes = ChangeSet::new();
                    changes.insert(Record::Device(device(first + w * per_writer + i)));
                    store.commit(changes).await.expect("create commit");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    started.elapsed()
}

/// `count` gets of random seeded devices (a different sequence for each `salt`), split over
/// `callers` concurrent tasks.
async fn bench_get(
    store: Arc<dyn Store>,
    size: u64,
    count: u64,
    callers: u64,
    salt: u64,
) -> Duration {
    let per_caller = count / callers;
    let keys: Vec<Vec<RecordKey>> = (0..callers)
        .map(|c| {
            (0..per_caller)
                .map(|i| {
                    let n = mix((salt << 40) ^ (c * per_caller + i)) % size;
                    RecordKey::Device(device_id(n))
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    let tasks: Vec<_> = keys
        .into_iter()
        .map(|keys| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for key in keys {
                    let record = store.get(key).await.expect("get");
                    assert!(record.is_some(), "seeded device {key} is there");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("reader");
    }
    started.elapsed()
}

/// Reads every device once, through `Store::scan`.
async fn scan_all(store: &dyn Store) -> (u64, Duration) {
    let started = Instant::now();
    let mut after = None;
    let mut scanned = 0;
    loop {
        let page = store
            .scan(Collection::Devices, after, 1000)
            .await
            .expect("scan");
        let Some(last) = page.last() else { break };
        after = Some(last.key());
        scanned += page.len() as u64;
    }
    (scanned, started.elapsed())
}

/// Runs the first-page query once per make, `rounds` times; returns (queries, total time,
/// slowest query).
async fn bench_list(store: &dyn Store, count: bool, rounds: usize) -> (u64, Duration, Duration) {
    first_pages(rounds, count, |make| async move {
        let page = store.list(&first_page(make, count)).await.expect("list");
        (page.items.len(), page.total.is_some())
    })
    .await
}

/// How many devices the store holds.
async fn device_count(store: &dyn Store) -> u64 {
    let all = ListQuery::all(Collection::Devices).page(0, 0).with_count();
    store.list(&all).await.expect("count").total.unwrap_or(0)
}

async fn run(name: &str, store: Arc<dyn Store>, size: u64) {
    // A kept store (REHOME_BENCH_KEEP) is seeded once; later runs start from what it holds.
    let held = device_count(&*store).await;
    if held == 0 {
        let seeding = seed(&*store, size).await;
        report(name, size, "seed (1000 inserts/commit)", size, seeding, "");
    } else {
        eprintln!("  reusing a store holding {held} devices");
    }
    let first_new = held.max(size);

    let creates = if name == "sled" { 4_000 } else { 16_000 };
    let elapsed = bench_create(Arc::clone(&store), first_new, creates).await;
    let note = if name == "sled" {
        "durable, 16 writers"
    } else {
        "16 writers"
    };
    report(
        name,
        size,
        "create device (1/commit)",
        creates,
        elapsed,
        note,
    );

    // The first pass finds sled's cache cold (after seeding, or right after a reopen); the
    // scan then loads every device record, and the later passes show the warm state.
    let gets = 200_000;
    let elapsed = bench_get(Arc::clone(&store), size, gets, 1, 0).await;
    report(
        name,
        size,
        "get device by id, first pass",
        gets,
        elapsed,
        "1 caller",
    );
    let (scanned, elapsed) = scan_all(&*store).await;
    report(
        name,
        size,
        "warm-up: scan all devices",
        scanned,
        elapsed,
        "",
    );
    for callers in [1, 4] {
        let elapsed = bench_get(Arc::clone(&store), size, gets, callers, callers).await;
        let note = format!("{callers} caller{}", if callers > 1 { "s" } else { "" });
        report(name, size, "get device by id", gets, elapsed, &note);
    }

    for count in [false, true] {
        let rounds = if count && size > 100_000 { 1 } else { 10 };
        let (queries, elapsed, slowest) = bench_list(&*store, count, rounds).await;
        let what = if count {
            "first page, make=X, with count"
        } else {
            "first page, make=X, no count"
        };
        report(
            name,
            size,
            what,
            queries,
            elapsed,
            &format!("slowest {slowest:.1?}"),
        );
    }
    store.close().await.expect("close");
}

fn main() {
    let stores = std::env::var("REHOME_BENCH_STORES").unwrap_or_else(|_| "memory,sled".into());
    let base = std::env::var_os("REHOME_BENCH_DIR").map(PathBuf::from);
    let keep = std::env::var_os("REHOME_BENCH_KEEP").is_some();
    let cache_mb: Option<u64> = std::env::var("REHOME_BENCH_SLED_CACHE_MB")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut temp = Vec::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "{:<6} {:>9} {:<34} {:>12} {:>12} {:>15} {:>14}",
        "store", "devices", "operation", "count", "total", "per op", "rate"
    );
    for size in sizes() {
        for name in stores.split(',').map(str::trim) {
            runtime.block_on(async {
                match name {
                    "memory" => run("memory", Arc::new(MemoryStore::new()), size).await,
                    "sled" => {
                        let config = |path: &Path| match cache_mb {
                            Some(mb) => Config::new(path).cache_capacity(mb << 20),
                            None => Config::new(path),
                        };
                        let store = match (&base, keep) {
                            (Some(base), true) => {
                                let path = base.join(format!("sled-{size}"));
                                config(&path).open().await.expect("open sled store")
                            }
                            _ => {
                                let dir = match &base {
                                    Some(base) => tempfile::tempdir_in(base),
                                    None => tempfile::tempdir(),
                                }
                                .expect("temporary directory");
                                let store =
                                    config(dir.path()).open().await.expect("open sled store");
                                temp.push(dir);
                                store
                            }
                        };
                        run("sled", Arc::new(store), size).await;
                        temp.clear();
                    }
                    other => eprintln!("unknown store {other:?} (memory, sled)"),
                }
            });
        }
    }
}
