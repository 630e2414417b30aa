//! How much the list plans read (`entries_read`), on 10,000 devices and some users and audit
//! events. Each result is also checked against the oracle `eval::apply`, so a cheap but wrong
//! plan fails too.

mod common;

use common::*;
use rehome_core::eval;
use rehome_core::model::DeviceStatus;
use rehome_core::query::{Collection, Field, ListQuery, Op, Order, Value};
use rehome_core::{Change, ChangeSet, MemoryStore, Record, Store, UserId};

const DEVICES: usize = 10_000;
const TYPES: [&str; 5] = ["Desktop", "Laptop", "Phone", "Server", "Tablet"];

struct Fixture {
    store: MemoryStore,
    records: Vec<Record>,
}

async fn fixture() -> Fixture {
    let store = MemoryStore::new();
    let mut records = Vec::new();
    let mut roles = Vec::new();
    for (i, name) in ["admin", "clerk", "viewer"].iter().enumerate() {
        roles.push(Record::Role(role(i as i64 + 1, name)));
    }
    let mut users = Vec::new();
    for i in 0..300i64 {
        let mut u = user(i + 1, &format!("user{i:03}"), &format!("u{i}@example.org"));
        u.role = Some(["admin", "clerk", "viewer"][(i % 3) as usize].into());
        users.push(Record::User(u));
    }
    let mut devices = Vec::new();
    for i in 0..DEVICES {
        let mut d = device(i as u128 * 7919 % 100_003, &format!("S{i}"));
        d.device_type = TYPES[i % 5].into();
        d.make = format!("M{:02}", i % 100);
        d.model = format!("Model {}", i % 37);
        d.status = DeviceStatus::ALL[i % 7];
        d.year_of_manufacture = Some(1990 + (i % 30) as i32);
        d.created_at = ts(i as i64);
        d.updated_at = ts((i % 10) as i64);
        // Half the devices each, spread evenly over creation time...
        d.physical_condition = if i % 2 == 0 { "Good" } else { "Poor" }.into();
        // ...or the older and the newer half.
        d.operating_system = if i < DEVICES / 2 { "Old" } else { "New" }.into();
        devices.push(Record::Device(d));
    }
    let mut events = Vec::new();
    for i in 0..2000i64 {
        let mut a = audit(i + 1);
        a.action = ["device.create", "device.update", "auth.login"][(i % 3) as usize].into();
        a.actor = Some(UserId(i % 300 + 1));
        // Ten entries per object id, a third of them about another kind of object.
        a.object_type = if i % 3 == 2 { "user" } else { "device" }.into();
        a.object_id = format!("{}", i % 200);
        events.push(Record::Audit(a));
    }
    for batch in [roles, users, devices, events] {
        for chunk in batch.chunks(500) {
            let changes = chunk.iter().cloned().map(Change::Insert).collect();
            store.commit(ChangeSet { changes }).await.expect("insert");
        }
        records.extend(batch);
    }
    Fixture { store, records }
}

impl Fixture {
    /// Runs `q`, checks it against the oracle and returns the entries it read.
    async fn reads(&self, q: ListQuery) -> u64 {
        let before = self.store.entries_read();
        let got = self.store.list(&q).await.expect("list");
        let read = self.store.entries_read() - before;
        let records = self
            .records
            .iter()
            .filter(|r| r.collection() == q.collection)
            .cloned();
        assert_eq!(got, eval::apply(&q, records), "{q:?}");
        read
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn devices() -> ListQuery {
    ListQuery::all(Collection::Devices)
}

#[tokio::test]
async fn plans_read_what_they_should() {
    let f = fixture().await;
    let make = || devices().filter(Field::DeviceMake, Op::Eq(text("M07")));
    let by_type = vec![Order::asc(Field::DeviceType)];
    let page = |q: ListQuery| q.page(0, 10);
    let mut report = Vec::new();
    let mut expect = async |name: &str, q: ListQuery, bound: u64| {
        let n = f.reads(q).await;
        report.push(format!("{name}: {n}"));
        assert!(n <= bound, "{name} read {n} entries, more than {bound}");
    };

    // Equality (100 matches) + default ordering + first page: streamed from the composite index.
    expect(
        "eq make, default order, page 1",
        page(make().order_by(by_type.clone())),
        30,
    )
    .await;
    expect(
        "eq make, default order, count",
        page(make().order_by(by_type.clone()).with_count()),
        30,
    )
    .await;
    // 1,429 matches: the page still streams.
    let shipped = || devices().filter(Field::DeviceStatus, Op::Eq(text("shipped")));
    expect(
        "eq status, default order",
        page(shipped().order_by(by_type.clone())),
        30,
    )
    .await;
    expect("eq status, id order", page(shipped()), 30).await;
    expect(
        "eq status, -id order",
        page(shipped().order_by(vec![Order::desc(Field::DeviceId)])),
        30,
    )
    .await;
    // Equality with orderings no index serves: at most the matches, their records and a page.
    let any_order_bound = 2 * 100 + 10 + 10;
    expect(
        "eq make, -created_at",
        page(make().order_by(vec![Order::desc(Field::DeviceCreatedAt)])),
        any_order_bound,
    )
    .await;
    expect(
        "eq make, model then -year",
        page(make().order_by(vec![
            Order::asc(Field::DeviceModel),
            Order::desc(Field::DeviceYearOfManufacture),
        ])),
        any_order_bound,
    )
    .await;
    expect(
        "eq make and status, default order",
        page(
            make()
                .filter(Field::DeviceStatus, Op::Eq(text("wiped")))
                .order_by(by_type.clone()),
        ),
        any_order_bound,
    )
    .await;
    expect(
        "eq make + icontains, count",
        page(
            make()
                .filter(Field::DeviceModel, Op::IContains("1".into()))
                .with_count(),
        ),
        any_order_bound,
    )
    .await;
    expect(
        "eq make, deep page",
        make().order_by(by_type.clone()).page(90, 10),
        2 * 100 + 10,
    )
    .await;
    // Many matches, ordered by another index: a budgeted walk along that index finds the page
    // when the matches are spread over it, and falls back to the matches when they are not.
    let newest = vec![Order::desc(Field::DeviceCreatedAt)];
    let cond = devices().filter(Field::DevicePhysicalCondition, Op::Eq(text("Good")));
    expect(
        "eq condition (5000), -created_at",
        page(cond.order_by(newest.clone())),
        60,
    )
    .await;
    let os = |v: &str| devices().filter(Field::DeviceOperatingSystem, Op::Eq(text(v)));
    expect(
        "eq os new (5000), -created_at",
        page(os("New").order_by(newest.clone())),
        30,
    )
    .await;
    let half = DEVICES as u64 / 2;
    expect(
        "eq os old (5000), -created_at: walk gives up",
        page(os("Old").order_by(newest.clone())),
        2 * half + 2 * half / 16 + 1024 + 10,
    )
    .await;
    // Unique equality.
    expect(
        "eq serial",
        page(devices().filter(Field::DeviceSerialNumber, Op::Eq(text("S4242")))),
        6,
    )
    .await;
    // Ordering by an indexed field without filters streams from its index, both directions,
    // with the id-ascending tie-break inside equal values.
    for (name, ordering) in [
        ("order make", vec![Order::asc(Field::DeviceMake)]),
        ("order -make", vec![Order::desc(Field::DeviceMake)]),
        ("order -type", vec![Order::desc(Field::DeviceType)]),
        (
            "order type, -id",
            vec![Order::asc(Field::DeviceType), Order::desc(Field::DeviceId)],
        ),
        (
            "order -created_at",
            vec![Order::desc(Field::DeviceCreatedAt)],
        ),
        (
            "order -updated_at",
            vec![Order::desc(Field::DeviceUpdatedAt)],
        ),
        ("order id", Vec::new()),
    ] {
        expect(name, page(devices().order_by(ordering)), 30).await;
    }
    // Counts from counters.
    expect("count eq make", make().with_count().page(0, 0), 3).await;
    expect("count eq status", shipped().with_count().page(0, 0), 3).await;
    expect("count all", devices().with_count().page(0, 0), 2).await;
    expect(
        "count in",
        devices()
            .filter(Field::DeviceMake, Op::In(vec![text("M01"), text("M02")]))
            .with_count()
            .page(0, 0),
        4,
    )
    .await;
    // Other collections' default orderings.
    let users = ListQuery::all(Collection::Users)
        .filter(Field::UserRole, Op::Eq(text("clerk")))
        .order_by(vec![Order::asc(Field::UserUsername)]);
    expect("users eq role, default order", page(users), 30).await;
    let audit = ListQuery::all(Collection::Audit)
        .filter(Field::AuditAction, Op::Eq(text("auth.login")))
        .order_by(vec![Order::desc(Field::AuditId)]);
    expect("audit eq action, -id", page(audit), 30).await;
    let audit = ListQuery::all(Collection::Audit).order_by(vec![Order::desc(Field::AuditId)]);
    expect("audit -id", page(audit), 30).await;
    // A device's history (`Rehome::device_history`): the object id's ten entries, not the log.
    let history = ListQuery::all(Collection::Audit)
        .filter(Field::AuditObjectType, Op::Eq(text("device")))
        .filter(Field::AuditObjectId, Op::Eq(text("17")))
        .order_by(vec![Order::desc(Field::AuditId)])
        .with_count();
    expect("device history, -id, count", page(history), 30).await;
    println!("{}", report.join("\n"));
}
