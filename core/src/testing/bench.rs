//! What the store benchmarks (`backends/*/benches/store.rs`) and the quick sanity examples
//! (`core/examples/kv_sanity.rs`, `backends/sql/examples/sql_sanity.rs`) share: the device
//! generators, the sizes asked for, and the list checks, so that every backend is measured on
//! the same data with the same queries.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate};
use uuid::Uuid;

use crate::ids::DeviceId;
use crate::model::{Device, DeviceStatus};
use crate::query::{Collection, Field, ListQuery, Op, Order, Search, Value};
use crate::services::inventory::blank_device;
use crate::store::{ChangeSet, Record, RecordKey, Store, StoreResult};

/// The makes of the benchmark devices (a first-page query is run for each).
pub const MAKES: [&str; 20] = [
    "Acer",
    "Apple",
    "Asus",
    "BlackBerry",
    "Dell",
    "Fujitsu",
    "Google",
    "HP",
    "HTC",
    "Huawei",
    "Lenovo",
    "LG",
    "Microsoft",
    "Motorola",
    "Nokia",
    "OnePlus",
    "Samsung",
    "Sony",
    "Toshiba",
    "Xiaomi",
];

/// The types of the benchmark devices.
pub const TYPES: [&str; 6] = ["Desktop", "Laptop", "Monitor", "Phone", "Printer", "Tablet"];

/// splitmix64: a deterministic, well-mixed function of the device number.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The id of benchmark device number `n`.
pub fn device_id(n: u64) -> DeviceId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&mix(n).to_le_bytes());
    bytes[8..].copy_from_slice(&mix(n ^ 0xDEAD_BEEF).to_le_bytes());
    DeviceId::from_random_bytes(bytes)
}

/// Benchmark device number `n`: every field a function of `n`, serial and MAC unique, the
/// make one of [`MAKES`] and the type one of [`TYPES`] about equally often.
pub fn device(n: u64) -> Device {
    let h = mix(n.wrapping_mul(31).wrapping_add(7));
    let pick = |shift: u32, len: usize| ((h >> shift) as usize) % len;
    let mac = n.to_be_bytes()[2..]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let created =
        DateTime::from_timestamp(1_600_000_000 + (n % 100_000_000) as i64, 0).unwrap_or_default();
    Device {
        device_type: TYPES[pick(0, TYPES.len())].to_owned(),
        make: MAKES[pick(8, MAKES.len())].to_owned(),
        model: format!("Model {}", pick(16, 500)),
        serial_number: format!("SN{n:012}"),
        mac_id: mac,
        year_of_manufacture: Some(2000 + pick(24, 25) as i32),
        date_received: NaiveDate::from_ymd_opt(
            2024,
            1 + pick(32, 12) as u32,
            1 + pick(36, 28) as u32,
        ),
        physical_condition: ["Good", "Fair", "Poor"][pick(40, 3)].to_owned(),
        specifications: format!(
            "{} GB RAM, {} GB disk",
            4 << pick(44, 4),
            128 << pick(48, 4)
        ),
        operating_system: ["Windows 11", "Ubuntu 24.04", "macOS 14", "Android 14"][pick(52, 4)]
            .to_owned(),
        status: DeviceStatus::ALL[pick(56, DeviceStatus::ALL.len())],
        ..blank_device(device_id(n), None, created)
    }
}

/// The benchmark's list query: the first page of 10 devices of `make`, in the default order
/// (`type`, then id), with or without the total count.
pub fn first_page(make: &str, count: bool) -> ListQuery {
    let query = ListQuery::all(Collection::Devices)
        .filter(Field::DeviceMake, Op::Eq(Value::Text(make.to_owned())))
        .order_by(vec![Order::asc(Field::DeviceType)])
        .page(0, 10);
    if count { query.with_count() } else { query }
}

/// Runs `page(make)` for every make of [`MAKES`], `rounds` times, checking that each answers a
/// full first page (10 devices) with a count exactly when `count` asks for one: (queries run,
/// total time, slowest query). `page` answers the number of devices and whether a count came.
pub async fn first_pages<F, Fut>(
    rounds: usize,
    count: bool,
    mut page: F,
) -> (u64, Duration, Duration)
where
    F: FnMut(&'static str) -> Fut,
    Fut: std::future::Future<Output = (usize, bool)>,
{
    let mut slowest = Duration::ZERO;
    let mut queries = 0;
    let started = Instant::now();
    for _ in 0..rounds {
        for make in MAKES {
            let t = Instant::now();
            let (items, counted) = page(make).await;
            slowest = slowest.max(t.elapsed());
            queries += 1;
            assert_eq!(items, 10, "a full first page for {make}");
            assert_eq!(counted, count, "a count exactly when asked for");
        }
    }
    (queries, started.elapsed(), slowest)
}

/// The collection sizes to measure: the numeric command-line arguments, else
/// `REHOME_BENCH_DEVICES` (comma-separated; `_` allowed as a digit separator), else 10 000.
pub fn sizes() -> Vec<u64> {
    let from_args: Vec<u64> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    if !from_args.is_empty() {
        return from_args;
    }
    std::env::var("REHOME_BENCH_DEVICES")
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|s| s.trim().replace('_', "").parse().ok())
                .collect()
        })
        .filter(|v: &Vec<u64>| !v.is_empty())
        .unwrap_or_else(|| vec![10_000])
}

// ---------------------------------------------------------------------------------------------
// The sanity examples.

/// Sanity device number `i`: types cycle through five, makes through 100 (`Make 00` to
/// `Make 99`), models through 1000, statuses through all seven; serials are `SN-%08d`, every
/// other device has a MAC.
pub fn sanity_device(i: u64) -> Device {
    const SANITY_TYPES: [&str; 5] = ["Desktop", "Laptop", "Phone", "Server", "Tablet"];
    let at = DateTime::from_timestamp(1_600_000_000 + i as i64, 0).unwrap_or_default();
    let id = DeviceId(Uuid::from_u64_pair(
        i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        i,
    ));
    Device {
        device_type: SANITY_TYPES[(i % 5) as usize].into(),
        make: format!("Make {:02}", i % 100),
        model: format!("Model {}", i % 1000),
        serial_number: format!("SN-{i:08}"),
        mac_id: if i.is_multiple_of(2) {
            format!("02:00:{i:08x}")
        } else {
            String::new()
        },
        year_of_manufacture: Some(1995 + (i % 30) as i32),
        physical_condition: ["Good", "Fair", "Poor", "New"][(i % 4) as usize].into(),
        specifications: "8 GB RAM, 256 GB SSD".into(),
        operating_system: ["Windows 11", "Ubuntu", "macOS", "Android", "ChromeOS"]
            [(i % 5) as usize]
            .into(),
        status: DeviceStatus::ALL[(i % 7) as usize],
        ..blank_device(id, None, at)
    }
}

/// Inserts sanity devices `0..n` in commits of 1000; how long it took.
pub async fn insert_sanity_devices(store: &dyn Store, n: u64) -> StoreResult<Duration> {
    let t = Instant::now();
    for start in (0..n).step_by(1000) {
        let mut changes = ChangeSet::new();
        for i in start..(start + 1000).min(n) {
            changes.insert(Record::Device(sanity_device(i)));
        }
        store.commit(changes).await?;
    }
    Ok(t.elapsed())
}

/// `gets` reads by id of sanity devices spread over `0..n`: how many were found, and the rate
/// per second.
pub async fn sanity_gets(store: &dyn Store, n: u64, gets: u64) -> (u64, f64) {
    let t = Instant::now();
    let mut found = 0u64;
    for i in 0..gets {
        let key = RecordKey::Device(sanity_device((i * 7919) % n.max(1)).device_id);
        if let Ok(Some(_)) = store.get(key).await {
            found += 1;
        }
    }
    (found, gets as f64 / t.elapsed().as_secs_f64())
}

/// One list check of the sanity examples.
#[derive(Debug, Clone)]
pub struct ListCheck {
    /// What it lists (the shares are of the sanity devices).
    pub name: &'static str,
    /// The query.
    pub query: ListQuery,
    /// How often to run it on the in-memory store (slower stores run fewer).
    pub reps: u32,
}

/// The list checks of the sanity examples, over [`sanity_device`]s.
pub fn sanity_lists() -> Vec<ListCheck> {
    let dev = || ListQuery::all(Collection::Devices);
    let by_type = || vec![Order::asc(Field::DeviceType)];
    let newest = || vec![Order::desc(Field::DeviceCreatedAt)];
    let text = |s: &str| Value::Text(s.into());
    let make = || dev().filter(Field::DeviceMake, Op::Eq(text("Make 42")));
    let shipped = || dev().filter(Field::DeviceStatus, Op::Eq(text("shipped")));
    let check = |name, query, reps| ListCheck { name, query, reps };
    vec![
        check(
            "eq make (1/100), default order, page 1",
            make().order_by(by_type()).page(0, 10),
            2000,
        ),
        check(
            "eq make (1/100), default order, page 1 + count",
            make().order_by(by_type()).page(0, 10).with_count(),
            2000,
        ),
        check(
            "eq status (1/7), default order, page 1 + count",
            shipped().order_by(by_type()).page(0, 10).with_count(),
            2000,
        ),
        check(
            "eq model (1/1000), default order, page 50",
            dev()
                .filter(Field::DeviceModel, Op::Eq(text("Model 7")))
                .order_by(by_type())
                .page(490, 10),
            200,
        ),
        check(
            "no filter, default order, page 1 + count",
            dev().order_by(by_type()).page(0, 10).with_count(),
            2000,
        ),
        check(
            "no filter, -created_at, page 1",
            dev().order_by(newest()).page(0, 10),
            2000,
        ),
        check(
            "count eq status (1/7)",
            shipped().page(0, 0).with_count(),
            2000,
        ),
        check(
            "eq serial",
            dev()
                .filter(Field::DeviceSerialNumber, Op::Eq(text("SN-00424242")))
                .page(0, 10),
            2000,
        ),
        check(
            "eq make (1/100), -created_at, page 1",
            make().order_by(newest()).page(0, 10),
            5,
        ),
        check(
            "eq status (1/7), -created_at, page 1",
            shipped().order_by(newest()).page(0, 10),
            200,
        ),
        check(
            "icontains make '42' + count (scan)",
            dev()
                .filter(Field::DeviceMake, Op::IContains("42".into()))
                .order_by(by_type())
                .page(0, 10)
                .with_count(),
            1,
        ),
        check(
            "search 'sn-0004242' (serial, make, model), page 1 + count",
            ListQuery {
                search: Some(Search {
                    text: "sn-0004242".into(),
                    fields: vec![
                        Field::DeviceSerialNumber,
                        Field::DeviceMake,
                        Field::DeviceModel,
                    ],
                }),
                ..dev().order_by(by_type()).page(0, 10).with_count()
            },
            2,
        ),
    ]
}
