//! A quick speed and memory check of `MemoryStore` on 1M devices (not the official benchmark):
//! `cargo run --release -p rehome-core --example kv_sanity [devices]`. The checks are the SQL
//! store's (`rehome_core::testing::bench`).

use std::time::Instant;

use rehome_core::query::ListQuery;
use rehome_core::testing::bench::{insert_sanity_devices, sanity_gets, sanity_lists};
use rehome_core::{MemoryStore, Store};

fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

async fn time_list(store: &MemoryStore, name: &str, q: &ListQuery, reps: u32) {
    let before = store.entries_read();
    let t = Instant::now();
    let mut n = 0;
    for _ in 0..reps {
        n = store.list(q).await.map_or(0, |p| p.items.len());
    }
    let per = t.elapsed() / reps;
    let entries = (store.entries_read() - before) / u64::from(reps);
    println!("{name:<56} {per:>12.2?}  ({n} items, {entries} entries read)");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let store = MemoryStore::new();
    let rss0 = rss_mib();
    let took = match insert_sanity_devices(&store, n).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("insert failed: {e}");
            return;
        }
    };
    println!(
        "inserted {n} devices in {took:.2?}; {} engine entries; RSS {} MiB (+{} MiB)",
        store.kv().engine().len(),
        rss_mib(),
        rss_mib() - rss0
    );

    let (found, rate) = sanity_gets(&store, n, 1_000_000).await;
    println!("get by id: {rate:.0}/s ({found} found)");

    for check in sanity_lists() {
        time_list(&store, check.name, &check.query, check.reps).await;
    }
}
