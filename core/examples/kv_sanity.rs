//! A quick speed and memory check of `MemoryStore` on 1M devices (not the official benchmark):
//! `cargo run --release -p rehome-core --example kv_sanity [devices]`.

use std::time::Instant;

use chrono::DateTime;
use rehome_core::model::{Device, DeviceStatus};
use rehome_core::query::{Collection, Field, ListQuery, Op, Order, Value};
use rehome_core::{Change, ChangeSet, DeviceId, MemoryStore, Record, RecordKey, Store};
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
            format!("02:00:{:08x}", i)
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
    println!("{name:<48} {per:>12.2?}  ({n} items, {entries} entries read)");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let store = MemoryStore::new();
    let rss0 = rss_mib();
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
        "inserted {n} devices in {:.2?}; {} engine entries; RSS {} MiB (+{} MiB)",
        t.elapsed(),
        store.kv().engine().len(),
        rss_mib(),
        rss_mib() - rss0
    );

    let gets = 1_000_000u64;
    let keys: Vec<RecordKey> = (0..gets)
        .map(|i| RecordKey::Device(device((i * 7919) % n).device_id))
        .collect();
    let t = Instant::now();
    let mut found = 0u64;
    for key in keys {
        if let Ok(Some(_)) = store.get(key).await {
            found += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!("get by id: {:.0}/s ({found} found)", gets as f64 / secs);

    let dev = || ListQuery::all(Collection::Devices);
    let by_type = vec![Order::asc(Field::DeviceType)];
    let text = |s: &str| Value::Text(s.into());
    time_list(
        &store,
        "eq make (10k), default order, page 1",
        &dev()
            .filter(Field::DeviceMake, Op::Eq(text("Make 42")))
            .order_by(by_type.clone())
            .page(0, 10),
        2000,
    )
    .await;
    time_list(
        &store,
        "eq status (143k), default order, page 1 + count",
        &dev()
            .filter(Field::DeviceStatus, Op::Eq(text("shipped")))
            .order_by(by_type.clone())
            .page(0, 10)
            .with_count(),
        2000,
    )
    .await;
    time_list(
        &store,
        "eq model (1k), default order, page 50",
        &dev()
            .filter(Field::DeviceModel, Op::Eq(text("Model 7")))
            .order_by(by_type.clone())
            .page(490, 10),
        200,
    )
    .await;
    time_list(
        &store,
        "no filter, default order, page 1 + count",
        &dev().order_by(by_type.clone()).page(0, 10).with_count(),
        2000,
    )
    .await;
    time_list(
        &store,
        "no filter, -created_at, page 1",
        &dev()
            .order_by(vec![Order::desc(Field::DeviceCreatedAt)])
            .page(0, 10),
        2000,
    )
    .await;
    time_list(
        &store,
        "count eq status",
        &dev()
            .filter(Field::DeviceStatus, Op::Eq(text("shipped")))
            .page(0, 0)
            .with_count(),
        2000,
    )
    .await;
    time_list(
        &store,
        "eq serial",
        &dev()
            .filter(Field::DeviceSerialNumber, Op::Eq(text("SN-00424242")))
            .page(0, 10),
        2000,
    )
    .await;
    time_list(
        &store,
        "eq make (10k), -created_at, page 1",
        &dev()
            .filter(Field::DeviceMake, Op::Eq(text("Make 42")))
            .order_by(vec![Order::desc(Field::DeviceCreatedAt)])
            .page(0, 10),
        5,
    )
    .await;
    time_list(
        &store,
        "eq status (143k), -created_at, page 1",
        &dev()
            .filter(Field::DeviceStatus, Op::Eq(text("shipped")))
            .order_by(vec![Order::desc(Field::DeviceCreatedAt)])
            .page(0, 10),
        200,
    )
    .await;
    time_list(
        &store,
        "icontains make '42' + count (scan)",
        &dev()
            .filter(Field::DeviceMake, Op::IContains("42".into()))
            .order_by(by_type.clone())
            .page(0, 10)
            .with_count(),
        1,
    )
    .await;
}
