//! A quick speed check of the SQL store (not the official benchmark):
//! `cargo run --release -p rehome-sql [--features postgres,mysql] --example sql_sanity -- URL [devices]`
//! e.g. `sqlite:///tmp/sanity.db 100000`. A store that already holds devices is reused.

use std::time::Instant;

use chrono::DateTime;
use rehome_core::model::{Device, DeviceStatus};
use rehome_core::query::{Collection, Field, ListQuery, Op, Order, Value};
use rehome_core::{Change, ChangeSet, DeviceId, Record, RecordKey, Store};
use rehome_sql::SqlStore;
use uuid::Uuid;

const TYPES: [&str; 5] = ["Desktop", "Laptop", "Phone", "Server", "Tablet"];

fn device(i: u64) -> Device {
    let at = DateTime::from_timestamp(1_600_000_000 + i as i64, 0).unwrap_or_default();
    Device {
        device_id: DeviceId(Uuid::from_u64_pair(
            i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            i,
        )),
        device_type: TYPES[(i % 5) as usize].into(),
        make: format!("Make {:02}", i % 100),
        model: format!("Model {}", i % 1000),
        serial_number: format!("SN-{i:08}"),
        mac_id: if i.is_multiple_of(2) {
            format!("02:00:{i:08x}")
        } else {
            String::new()
        },
        year_of_manufacture: Some(1995 + (i % 30) as i32),
        date_received: None,
        received_by: None,
        created_by: None,
        physical_condition: ["Good", "Fair", "Poor", "New"][(i % 4) as usize].into(),
        specifications: "8 GB RAM, 256 GB SSD".into(),
        operating_system: ["Windows 11", "Ubuntu", "macOS", "Android", "ChromeOS"]
            [(i % 5) as usize]
            .into(),
        donor: None,
        date_of_donation: None,
        value: None,
        start_location: None,
        end_location: None,
        notes: String::new(),
        shipping_infos: Vec::new(),
        status: DeviceStatus::ALL[(i % 7) as usize],
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

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
    println!("{name:<52} {per:>10.2?}  ({n} items, total {total:?})");
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
        let t = Instant::now();
        for start in (0..n).step_by(1000) {
            let changes = (start..(start + 1000).min(n))
                .map(|i| Change::Insert(Record::Device(device(i))))
                .collect();
            if let Err(e) = store.commit(ChangeSet { changes }).await {
                eprintln!("insert failed: {e}");
                return;
            }
        }
        println!(
            "inserted {n} devices in {:.2?} (batches of 1000)",
            t.elapsed()
        );
    } else {
        println!("reusing {have} devices");
    }
    let n = n.max(have);

    let gets = 20_000u64;
    let t = Instant::now();
    let mut found = 0u64;
    for i in 0..gets {
        let key = RecordKey::Device(device((i * 7919) % n).device_id);
        if let Ok(Some(_)) = store.get(key).await {
            found += 1;
        }
    }
    println!(
        "get by id: {:.0}/s ({found} found)",
        gets as f64 / t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    for i in 0..200u64 {
        let mut d = device(i);
        d.notes = format!("touched {}", i);
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

    let by_type = vec![Order::asc(Field::DeviceType)];
    let text = |s: &str| Value::Text(s.into());
    time_list(
        &store,
        "eq status (1/7), default order, page 1 + count",
        &dev()
            .filter(Field::DeviceStatus, Op::Eq(text("shipped")))
            .order_by(by_type.clone())
            .page(0, 10)
            .with_count(),
        200,
    )
    .await;
    time_list(
        &store,
        "eq make (1/100), default order, page 1 + count",
        &dev()
            .filter(Field::DeviceMake, Op::Eq(text("Make 42")))
            .order_by(by_type.clone())
            .page(0, 10)
            .with_count(),
        200,
    )
    .await;
    time_list(
        &store,
        "no filter, default order, page 1 + count",
        &dev().order_by(by_type.clone()).page(0, 10).with_count(),
        200,
    )
    .await;
    time_list(
        &store,
        "no filter, -created_at, page 1",
        &dev()
            .order_by(vec![Order::desc(Field::DeviceCreatedAt)])
            .page(0, 10),
        200,
    )
    .await;
    time_list(
        &store,
        "eq model (1/1000), default order, page 50",
        &dev()
            .filter(Field::DeviceModel, Op::Eq(text("Model 7")))
            .order_by(by_type.clone())
            .page(490, 10),
        200,
    )
    .await;
    time_list(
        &store,
        "search 'sn-0004242' (serial, make, model), page 1 + count",
        &ListQuery {
            search: Some(rehome_core::query::Search {
                text: "sn-0004242".into(),
                fields: vec![
                    Field::DeviceSerialNumber,
                    Field::DeviceMake,
                    Field::DeviceModel,
                ],
            }),
            ..dev().order_by(by_type.clone()).page(0, 10).with_count()
        },
        20,
    )
    .await;
    let _ = store.close().await;
}
