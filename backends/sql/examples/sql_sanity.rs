//! A quick speed check of the SQL store (not the official benchmark):
//! `cargo run --release -p rehome-sql [--features postgres,mysql] --example sql_sanity -- URL [devices]`
//! e.g. `sqlite:///tmp/sanity.db 100000`. A store that already holds devices is reused.

use std::time::Instant;

use rehome_core::query::{Collection, ListQuery};
use rehome_core::testing::bench::{
    insert_sanity_devices, sanity_device, sanity_gets, sanity_lists,
};
use rehome_core::{Change, ChangeSet, Record, Store};
use rehome_sql::SqlStore;

async fn time_list(store: &SqlStore, name: &str, q: &ListQuery, reps: u32) {
    // One untimed run warms the statement cache and the pages.
    let _ = store.list(q).await;
    let t = Instant::now();
    let mut n = 0;
    let mut total = None;
    for _ in 0..reps {
        match store.list(q).await {
            Ok(p) => {
                n = p.items.len();
                total = p.total;
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                return;
            }
        }
    }
    let per = t.elapsed() / reps;
    println!("{name:<56} {per:>10.2?}  ({n} items, total {total:?})");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "sqlite:///tmp/rehome-sanity.db".into());
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let store = match rehome_sql::open(&url).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("opening {url}: {e}");
            return;
        }
    };
    let dev = || ListQuery::all(Collection::Devices);
    let have = store
        .list(&dev().page(0, 0).with_count())
        .await
        .ok()
        .and_then(|p| p.total)
        .unwrap_or(0);
    if have == 0 {
        match insert_sanity_devices(&store, n).await {
            Ok(t) => println!("inserted {n} devices in {t:.2?} (batches of 1000)"),
            Err(e) => {
                eprintln!("insert failed: {e}");
                return;
            }
        }
    } else {
        println!("reusing {have} devices");
    }
    let n = n.max(have);

    let (found, rate) = sanity_gets(&store, n, 20_000).await;
    println!("get by id: {rate:.0}/s ({found} found)");

    let t = Instant::now();
    for i in 0..200u64 {
        let mut d = sanity_device(i);
        d.notes = format!("touched {i}");
        d.version = 2;
        let changes = vec![Change::Update {
            record: Record::Device(d),
            expected_version: 1,
        }];
        if store.commit(ChangeSet { changes }).await.is_err() {
            // A reused store was touched before: not what this measures.
            break;
        }
    }
    println!(
        "single-device update commit: {:.2?} each",
        t.elapsed() / 200
    );

    // The in-memory store's repetitions, a tenth of them: each is a round trip here.
    for check in sanity_lists() {
        time_list(&store, check.name, &check.query, (check.reps / 10).max(1)).await;
    }
    let _ = store.close().await;
}
