//! List queries: a hand-written table with hand-written expected orders, and a property test
//! comparing every collection's lists with the reference [`Model`].

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use uuid::Uuid;

use crate::ids::{AuditId, DeviceId, Digest, DonorId, LocationId, RoleId, ShipmentId, UserId};
use crate::model::{
    AuditEvent, Credentials, Device, DeviceStatus, Donor, Location, MfaChallenge, Role, Session,
    Shipment, Throttle, User,
};
use crate::permission::Permissions;
use crate::query::{Collection, Field, Filter, ListQuery, Op, Order, Search, Value};
use crate::store::{ChangeSet, Record, RecordKey, Store};

use super::StoreFactory;
use super::assert::{compare_pages, ok};
use super::fixtures::{
    TOTP_STEP_MAX, credentials, date, device, digest, inserts, location, mfa_challenge, role,
    session, shipment, throttle, ts, user,
};
use super::model::{Kind, MValue, Model, field_kind};
use super::unique::with_version;

// ---------------------------------------------------------------------------------------------
// The hand-written table.
// ---------------------------------------------------------------------------------------------

struct Row {
    label: &'static str,
    record: Record,
}

#[allow(clippy::too_many_arguments)]
fn table_device(
    label: &'static str,
    id: u128,
    make: &str,
    model: &str,
    year: Option<i32>,
    received: Option<(i32, u32, u32)>,
    notes: &str,
    created: i64,
) -> Row {
    let mut d = device(id, &format!("S-{label}"));
    d.make = make.to_owned();
    d.model = model.to_owned();
    d.year_of_manufacture = year;
    d.date_received = received.map(|(y, m, dd)| date(y, m, dd));
    d.notes = notes.to_owned();
    d.created_at = ts(created);
    Row {
        label,
        record: Record::Device(d),
    }
}

fn table_shipment(
    label: &'static str,
    id: i64,
    arrived: bool,
    shipped: (i32, u32, u32),
    delivered: Option<(i32, u32, u32)>,
    destination: Option<i64>,
    tracking: &str,
) -> Row {
    let mut s = shipment(id);
    s.arrived = arrived;
    s.date_shipped = date(shipped.0, shipped.1, shipped.2);
    s.date_delivered = delivered.map(|(y, m, d)| date(y, m, d));
    s.destination = destination.map(LocationId);
    s.tracking_identifier = tracking.to_owned();
    Row {
        label,
        record: Record::Shipment(s),
    }
}

fn table_user(
    label: &'static str,
    id: i64,
    username: &str,
    role: Option<&str>,
    active: bool,
    last_name: &str,
) -> Row {
    let mut u = user(id, username, &format!("{label}@example.org"));
    u.role = role.map(str::to_owned);
    u.is_active = active;
    u.last_name = last_name.to_owned();
    Row {
        label,
        record: Record::User(u),
    }
}

const SIGMA_UPPER: &str = "\u{3a3}\u{38a}\u{3a3}\u{3a5}\u{3a6}\u{39f}\u{3a3}"; // ΣΊΣΥΦΟΣ
const SIGMA_LOWER: &str = "\u{3c3}\u{3af}\u{3c3}\u{3c5}\u{3c6}\u{3bf}\u{3c2}"; // σίσυφος

fn table_audit(label: &'static str, id: i64, object_type: &str, object_id: &str) -> Row {
    Row {
        label,
        record: Record::Audit(AuditEvent {
            id: AuditId(id),
            timestamp: ts(id * 1_000_000),
            actor: None,
            actor_username: None,
            action: format!("{object_type}.update"),
            object_type: object_type.to_owned(),
            object_id: object_id.to_owned(),
            ip: None,
            changes: serde_json::json!({}),
        }),
    }
}

// One row per record, so the table reads as the table the expected orders were worked from.
#[rustfmt::skip]
fn table_rows() -> Vec<Row> {
    const BIG: i64 = 1_700_000_000_000_000;
    vec![
        //           label id  make            model        year        date_received      notes                created_at
        table_device("A", 7,  "apple",        "M",         Some(2019), Some((2024, 3, 1)),  "Straße",           -1),
        table_device("B", 2,  "Apple",        "M",         None,       Some((2024, 1, 15)), "",                 0),
        table_device("C", 9,  "Äpfel",        "M",         Some(2019), None,                "STRASSE 100%",     BIG + 1),
        table_device("D", 4,  "",             "M",         Some(2021), Some((2023, 12, 31)), "a_b\\c",         BIG),
        table_device("E", 10, "Zebra",        "Apple Pie", None,       None,                SIGMA_UPPER,        BIG),
        table_device("F", 1,  "zebra",        "M",         Some(2015), Some((2024, 3, 1)),  "Kelvin \u{212A}",  -1_000_000),
        table_device("G", 5,  "apple",        "M",         Some(2021), Some((2024, 1, 15)), SIGMA_LOWER,        BIG + 1),
        table_device("H", 3,  "\u{FF21}pple", "M",         Some(2019), None,                "😀 smile",         253_402_300_799_999_999),
        table_device("I", 8,  "😀",           "M",         None,       Some((2022, 6, 30)), "İstanbul",         1),
        table_device("J", 6,  "apple",        "M",         Some(2015), Some((2024, 3, 1)),  "istanbul",         0),
        Row { label: "L1", record: Record::Location(location(1, "L1 street")) },
        Row { label: "L2", record: Record::Location(location(2, "L2 street")) },
        //             label id  arrived shipped         delivered               destination tracking
        table_shipment("S1", 11, true,  (2024, 1, 2),   Some((2024, 1, 5)),     Some(2),    "TRK-ä"),
        table_shipment("S2", 3,  false, (2024, 1, 1),   None,                   None,       "trk-Ä"),
        table_shipment("S3", 7,  true,  (2024, 1, 2),   Some((2024, 1, 3)),     Some(1),    ""),
        table_shipment("S4", 20, false, (2023, 12, 31), None,                   Some(2),    "TRK_1"),
        table_shipment("S5", 1,  true,  (2024, 1, 1),   Some((2024, 1, 5)),     None,       "trk%1"),
        Row { label: "R1", record: Record::Role(role(1, "Admin")) },
        Row { label: "R2", record: Record::Role(role(2, "admin")) },
        //         label id username  role            active last_name
        table_user("U1", 5, "alice",  Some("admin"), true,  "Zed"),
        table_user("U2", 2, "Bob",    None,          false, "zed"),
        table_user("U3", 9, "Émile",  Some("Admin"), true,  ""),
        table_user("U4", 1, "zoë",    None,          true,  "Ärger"),
        table_user("U5", 4, "_under", Some("admin"), false, "Zed"),
        // A device's history: the same object id under another kind, and another device.
        //          label id  object_type object_id
        table_audit("E1", 3,  "device",   "00000000-0000-0000-0000-000000000007"),
        table_audit("E2", 10, "location", "00000000-0000-0000-0000-000000000007"),
        table_audit("E3", 12, "device",   "00000000-0000-0000-0000-000000000007"),
        table_audit("E4", 5,  "device",   "00000000-0000-0000-0000-000000000002"),
        table_audit("E5", 20, "device",   "00000000-0000-0000-0000-000000000007"),
        table_audit("E6", 1,  "user",     "7"),
    ]
}

/// The expected answers of [`check_list_table`], worked out by hand from [`table_rows`]
/// (code points: `"" < "Apple" < "Zebra" < "apple" < "zebra" < "Äpfel" < "Ａpple" < "😀"`).
fn table_queries() -> Vec<(ListQuery, Vec<&'static str>, Option<u64>)> {
    use Field as F;
    let devices = || ListQuery::all(Collection::Devices);
    let shipments = || ListQuery::all(Collection::Shipments);
    let users = || ListQuery::all(Collection::Users);
    let text = |s: &str| Value::Text(s.to_owned());
    let history = |id: &str| {
        ListQuery::all(Collection::Audit)
            .filter(F::AuditObjectType, Op::Eq(text("device")))
            .filter(F::AuditObjectId, Op::Eq(text(id)))
            .order_by(vec![Order {
                field: F::AuditId,
                direction: crate::query::Direction::Desc,
            }])
            .with_count()
    };
    let contains = |s: &str| Op::IContains(s.to_owned());
    let d = |y, m, dd| Value::Date(date(y, m, dd));
    let search = |q: ListQuery, t: &str, fields: Vec<Field>| ListQuery {
        search: Some(Search {
            text: t.to_owned(),
            fields,
        }),
        ..q
    };
    vec![
        // A device's history (what `Rehome::device_history` asks): one kind and id, newest
        // first, in pages.
        (
            history("00000000-0000-0000-0000-000000000007"),
            vec!["E5", "E3", "E1"],
            Some(3),
        ),
        (
            history("00000000-0000-0000-0000-000000000007").page(1, 1),
            vec!["E3"],
            Some(3),
        ),
        (
            history("00000000-0000-0000-0000-000000000002"),
            vec!["E4"],
            Some(1),
        ),
        (
            history("00000000-0000-0000-0000-000000000009"),
            vec![],
            Some(0),
        ),
        // Ordering: ties by id ascending, null first ascending and last descending.
        (
            devices(),
            vec!["F", "B", "H", "D", "G", "J", "A", "I", "C", "E"],
            None,
        ),
        (
            devices().order_by(vec![Order::desc(F::DeviceId)]),
            vec!["E", "C", "I", "A", "J", "G", "D", "H", "B", "F"],
            None,
        ),
        (
            devices().order_by(vec![Order::asc(F::DeviceMake)]),
            vec!["D", "B", "E", "G", "J", "A", "F", "C", "H", "I"],
            None,
        ),
        (
            devices().order_by(vec![Order::desc(F::DeviceMake)]),
            vec!["I", "H", "C", "F", "G", "J", "A", "E", "B", "D"],
            None,
        ),
        (
            devices().order_by(vec![Order::asc(F::DeviceYearOfManufacture)]),
            vec!["B", "I", "E", "F", "J", "H", "A", "C", "D", "G"],
            None,
        ),
        (
            devices().order_by(vec![Order::desc(F::DeviceYearOfManufacture)]),
            vec!["D", "G", "H", "A", "C", "F", "J", "B", "I", "E"],
            None,
        ),
        (
            devices().order_by(vec![
                Order::desc(F::DeviceDateReceived),
                Order::asc(F::DeviceMake),
            ]),
            vec!["J", "A", "F", "B", "G", "D", "I", "E", "C", "H"],
            None,
        ),
        (
            devices().order_by(vec![Order::asc(F::DeviceCreatedAt)]),
            vec!["F", "A", "B", "J", "I", "D", "E", "G", "C", "H"],
            None,
        ),
        (
            devices().order_by(vec![Order::desc(F::DeviceCreatedAt)]),
            vec!["H", "G", "C", "D", "E", "I", "B", "J", "A", "F"],
            None,
        ),
        // Paging and counts.
        (
            devices()
                .order_by(vec![Order::asc(F::DeviceYearOfManufacture)])
                .page(3, 4)
                .with_count(),
            vec!["F", "J", "H", "A"],
            Some(10),
        ),
        (
            devices()
                .order_by(vec![Order::asc(F::DeviceYearOfManufacture)])
                .page(8, 5)
                .with_count(),
            vec!["D", "G"],
            Some(10),
        ),
        (devices().page(10, 5).with_count(), vec![], Some(10)),
        (
            devices().page(u64::MAX, u64::MAX).with_count(),
            vec![],
            Some(10),
        ),
        (devices().page(0, 0).with_count(), vec![], Some(10)),
        (
            devices()
                .filter(F::DeviceYearOfManufacture, Op::Lte(Value::Int(2030)))
                .order_by(vec![Order::desc(F::DeviceYearOfManufacture)])
                .page(1, 3)
                .with_count(),
            vec!["G", "H", "A"],
            Some(7),
        ),
        // Filters.
        (
            devices().filter(F::DeviceMake, Op::Eq(text("apple"))),
            vec!["G", "J", "A"],
            None,
        ),
        (
            devices().filter(F::DeviceMake, Op::Eq(text("APPLE"))),
            vec![],
            None,
        ),
        (
            devices().filter(F::DeviceMake, Op::In(vec![text("Apple"), text("zebra")])),
            vec!["F", "B"],
            None,
        ),
        (
            devices().filter(F::DeviceYearOfManufacture, Op::Eq(Value::Null)),
            vec![],
            None,
        ),
        (
            devices()
                .filter(F::DeviceYearOfManufacture, Op::Gte(Value::Int(2019)))
                .filter(F::DeviceYearOfManufacture, Op::Lte(Value::Int(2021))),
            vec!["H", "D", "G", "A", "C"],
            None,
        ),
        (
            devices().filter(F::DeviceYearOfManufacture, Op::Lte(Value::Int(2030))),
            vec!["F", "H", "D", "G", "J", "A", "C"],
            None,
        ),
        (
            devices().filter(F::DeviceDateReceived, Op::Gte(d(2024, 1, 15))),
            vec!["F", "B", "G", "J", "A"],
            None,
        ),
        (
            devices()
                .filter(F::DeviceCreatedAt, Op::Gte(Value::Timestamp(ts(0))))
                .filter(
                    F::DeviceCreatedAt,
                    Op::Lte(Value::Timestamp(ts(1_700_000_000_000_000))),
                ),
            vec!["B", "D", "J", "I", "E"],
            None,
        ),
        // Folded substrings.
        (
            devices().filter(F::DeviceNotes, contains("ss")),
            vec!["A", "C"],
            None,
        ),
        (
            devices().filter(F::DeviceNotes, contains(SIGMA_LOWER)),
            vec!["G", "E"],
            None,
        ),
        (
            devices().filter(F::DeviceNotes, contains("%")),
            vec!["C"],
            None,
        ),
        (
            devices().filter(F::DeviceNotes, contains("_")),
            vec!["D"],
            None,
        ),
        (
            devices().filter(F::DeviceNotes, contains("\\")),
            vec!["D"],
            None,
        ),
        (
            devices().filter(F::DeviceNotes, contains("k")),
            vec!["F"],
            None,
        ),
        (
            devices().filter(F::DeviceNotes, contains("istanbul")),
            vec!["J"],
            None,
        ),
        (
            devices().filter(F::DeviceNotes, contains("stanbul")),
            vec!["J", "I"],
            None,
        ),
        (
            devices().filter(F::DeviceNotes, contains("İ")),
            vec!["I"],
            None,
        ),
        (
            search(devices(), "apple", vec![F::DeviceMake, F::DeviceModel]),
            vec!["B", "G", "J", "A", "E"],
            None,
        ),
        // Shipments: booleans, nullable dates and references.
        (
            shipments().order_by(vec![Order::asc(F::ShipmentArrived)]),
            vec!["S2", "S4", "S5", "S3", "S1"],
            None,
        ),
        (
            shipments().order_by(vec![Order::desc(F::ShipmentArrived)]),
            vec!["S5", "S3", "S1", "S2", "S4"],
            None,
        ),
        (
            shipments().order_by(vec![Order::asc(F::ShipmentDateDelivered)]),
            vec!["S2", "S4", "S3", "S5", "S1"],
            None,
        ),
        (
            shipments().order_by(vec![Order::desc(F::ShipmentDateDelivered)]),
            vec!["S5", "S1", "S3", "S2", "S4"],
            None,
        ),
        (
            shipments().order_by(vec![
                Order::desc(F::ShipmentDestination),
                Order::asc(F::ShipmentDateShipped),
            ]),
            vec!["S4", "S1", "S3", "S5", "S2"],
            None,
        ),
        (
            shipments().order_by(vec![Order::asc(F::ShipmentTrackingIdentifier)]),
            vec!["S3", "S1", "S4", "S5", "S2"],
            None,
        ),
        (
            shipments().filter(F::ShipmentTrackingIdentifier, contains("trk-ä")),
            vec!["S2", "S1"],
            None,
        ),
        (
            shipments().filter(F::ShipmentTrackingIdentifier, Op::Eq(text("trk-Ä"))),
            vec!["S2"],
            None,
        ),
        (
            shipments().filter(F::ShipmentTrackingIdentifier, contains("_")),
            vec!["S4"],
            None,
        ),
        (
            shipments().filter(F::ShipmentTrackingIdentifier, contains("%")),
            vec!["S5"],
            None,
        ),
        (
            shipments()
                .filter(F::ShipmentTrackingIdentifier, contains(""))
                .with_count(),
            vec!["S5", "S2", "S3", "S1", "S4"],
            Some(5),
        ),
        (
            shipments().filter(F::ShipmentArrived, Op::Eq(Value::Bool(true))),
            vec!["S5", "S3", "S1"],
            None,
        ),
        (
            shipments().filter(F::ShipmentDestination, Op::Eq(Value::Int(2))),
            vec!["S1", "S4"],
            None,
        ),
        (
            shipments().filter(
                F::ShipmentDestination,
                Op::In(vec![Value::Int(1), Value::Int(99)]),
            ),
            vec!["S3"],
            None,
        ),
        (
            shipments().filter(F::ShipmentDateDelivered, Op::Lte(d(2024, 1, 4))),
            vec!["S3"],
            None,
        ),
        // Users: nullable role text, exact and folded matching, text ranges.
        (
            users().order_by(vec![Order::asc(F::UserUsername)]),
            vec!["U2", "U5", "U1", "U4", "U3"],
            None,
        ),
        (
            users().order_by(vec![Order::desc(F::UserUsername)]),
            vec!["U3", "U4", "U1", "U5", "U2"],
            None,
        ),
        (
            users().order_by(vec![Order::asc(F::UserRole)]),
            vec!["U4", "U2", "U3", "U5", "U1"],
            None,
        ),
        (
            users().order_by(vec![Order::desc(F::UserRole)]),
            vec!["U5", "U1", "U3", "U4", "U2"],
            None,
        ),
        (
            users().order_by(vec![
                Order::asc(F::UserIsActive),
                Order::desc(F::UserLastName),
            ]),
            vec!["U2", "U5", "U4", "U1", "U3"],
            None,
        ),
        (
            users().filter(F::UserRole, Op::Eq(text("admin"))),
            vec!["U5", "U1"],
            None,
        ),
        (
            users().filter(F::UserRole, contains("ADMIN")).with_count(),
            vec!["U5", "U1", "U3"],
            Some(3),
        ),
        (
            users().filter(F::UserRole, Op::In(vec![text("Admin"), text("nobody")])),
            vec!["U3"],
            None,
        ),
        (
            users().filter(F::UserIsActive, Op::Eq(Value::Bool(false))),
            vec!["U2", "U5"],
            None,
        ),
        (
            users().filter(F::UserUsername, Op::Gte(text("a"))),
            vec!["U4", "U1", "U3"],
            None,
        ),
        (
            users().filter(F::UserUsername, Op::Lte(text("Bob"))),
            vec!["U2"],
            None,
        ),
        (
            search(
                users(),
                "É",
                vec![
                    F::UserUsername,
                    F::UserEmail,
                    F::UserFirstName,
                    F::UserLastName,
                ],
            ),
            vec!["U3"],
            None,
        ),
        (
            search(users(), "ZED", vec![F::UserLastName]),
            vec!["U2", "U5", "U1"],
            None,
        ),
    ]
}

/// Lists over a hand-written table of devices, shipments and users, against expected orders
/// and counts written out by hand: null first ascending and last descending, ties broken by
/// id, code-point text order, folded substrings with `%`, `_` and `\` as plain characters,
/// ranges over dates, years and timestamps, offsets, limits and counts.
pub async fn check_list_table(factory: &dyn StoreFactory) {
    run_table(factory, "table", table_rows(), table_queries()).await;
}

/// Inserts the rows, runs the queries and panics listing every query whose page (by label) or
/// total differs from the one written out.
async fn run_table(
    factory: &dyn StoreFactory,
    what: &str,
    rows: Vec<Row>,
    queries: Vec<(ListQuery, Vec<&'static str>, Option<u64>)>,
) {
    let store = factory.open().await;
    ok(
        store
            .commit(inserts(rows.iter().map(|r| r.record.clone()).collect()))
            .await,
        &format!("{what}: insert"),
    );
    let labels: BTreeMap<RecordKey, &str> =
        rows.iter().map(|r| (r.record.key(), r.label)).collect();
    let mut failures = Vec::new();
    for (q, want, total) in queries {
        let page = ok(store.list(&q).await, &format!("list {q:?}"));
        let got: Vec<&str> = page
            .items
            .iter()
            .map(|r| labels.get(&r.key()).copied().unwrap_or("?"))
            .collect();
        if got != want || page.total != total {
            failures.push(format!(
                "list {q:?}\n  expected {want:?} (total {total:?})\n  got      {got:?} (total {:?})",
                page.total
            ));
        }
    }
    if !failures.is_empty() {
        panic!(
            "{what}: {} of the list queries gave other answers:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The hand-written table of the authentication records.
// ---------------------------------------------------------------------------------------------

/// `now_plus` in seconds and microseconds.
fn at(seconds: i64, micros: i64) -> crate::model::Timestamp {
    super::fixtures::now_plus(seconds * 1_000_000 + micros)
}

fn auth_session(label: &'static str, key: (u8, u8), user: i64, expires: i64, used: i64) -> Row {
    let mut s = session(digest(key.0, key.1), user);
    s.expires_at = at(expires, 0);
    s.last_used_at = at(used, 0);
    Row {
        label,
        record: Record::Session(s),
    }
}

// One row per record, so the table reads as the table the expected orders were worked from.
#[rustfmt::skip]
fn auth_rows() -> Vec<Row> {
    let mut rows = vec![
        Row { label: "U1", record: Record::User(user(1, "one", "one@example.org")) },
        Row { label: "U2", record: Record::User(user(2, "two", "two@example.org")) },
        Row { label: "U3", record: Record::User(user(3, "three", "three@example.org")) },
        //           label digest        user expires (s) last used (s)
        auth_session("S1", (0x50, 0x00), 1,   100,        5),
        auth_session("S2", (0x20, 0x00), 2,   50,         1),
        auth_session("S3", (0xa0, 0x00), 1,   50,         9),
        auth_session("S4", (0x05, 0x00), 1,   300,        5),
        auth_session("S5", (0xf0, 0x00), 3,   -10,        -20),
        auth_session("S6", (0x20, 0x01), 1,   10,         2),
    ];
    // S7 expires one microsecond after S2 and S3.
    let mut s7 = session(digest(0x21, 0x00), 2);
    s7.expires_at = at(50, 1);
    s7.last_used_at = at(3, 0);
    rows.push(Row { label: "S7", record: Record::Session(s7) });
    //                         label  digest        user expires (s, µs)
    for (label, key, owner, expires) in [
        ("M1", (0x30, 0x00), 1, at(300, 0)),
        ("M2", (0x10, 0x00), 2, at(60, 0)),
        ("M3", (0xc0, 0x00), 1, at(0, -1)),
        ("M4", (0x31, 0x00), 1, at(60, 0)),
    ] {
        let mut m = mfa_challenge(digest(key.0, key.1), owner);
        m.expires_at = expires;
        rows.push(Row { label, record: Record::MfaChallenge(m) });
    }
    //                  label  digest        updated (s)
    for (label, key, updated) in [
        ("T1", (0x01, 0x00), 30),
        ("T2", (0xee, 0x00), -3600),
        ("T3", (0x02, 0x00), -3600),
        ("T4", (0x80, 0x00), 0),
    ] {
        let mut t = throttle(digest(key.0, key.1));
        t.updated_at = at(updated, 0);
        rows.push(Row { label, record: Record::Throttle(t) });
    }
    for (label, owner) in [("C3", 3), ("C1", 1), ("C2", 2)] {
        rows.push(Row { label, record: Record::Credentials(credentials(owner)) });
    }
    rows
}

/// The expected answers of [`check_list_auth_table`], worked out by hand from [`auth_rows`].
/// Key (digest byte) order: sessions S4 S2 S6 S7 S1 S3 S5, challenges M2 M1 M4 M3, throttles
/// T1 T3 T4 T2.
fn auth_queries() -> Vec<(ListQuery, Vec<&'static str>, Option<u64>)> {
    use Field as F;
    let sessions = || ListQuery::all(Collection::Sessions);
    let challenges = || ListQuery::all(Collection::MfaChallenges);
    let throttles = || ListQuery::all(Collection::Throttles);
    let credentials = || ListQuery::all(Collection::Credentials);
    let time = |s, us| Value::Timestamp(at(s, us));
    let hex = |first: u8| Value::Text(digest(first, 0).to_hex());
    let upper_hex = |first: u8| Value::Text(digest(first, 0).to_hex().to_uppercase());
    let text = |s: &str| Value::Text(s.to_owned());
    vec![
        // A user's sessions, in key order.
        (
            sessions()
                .filter(F::SessionUser, Op::Eq(Value::Int(1)))
                .with_count(),
            vec!["S4", "S6", "S1", "S3"],
            Some(4),
        ),
        (
            sessions()
                .filter(F::SessionUser, Op::Eq(Value::Int(1)))
                .page(1, 2)
                .with_count(),
            vec!["S6", "S1"],
            Some(4),
        ),
        (
            sessions().filter(F::SessionUser, Op::In(vec![Value::Int(2), Value::Int(3)])),
            vec!["S2", "S7", "S5"],
            None,
        ),
        // Ties in last use go by key ascending, whatever the direction.
        (
            sessions()
                .filter(F::SessionUser, Op::Eq(Value::Int(1)))
                .order_by(vec![Order::desc(F::SessionLastUsedAt)]),
            vec!["S3", "S4", "S1", "S6"],
            None,
        ),
        // Expired sessions, by expiry; the bound is inclusive and exact to the microsecond.
        (
            sessions()
                .filter(F::SessionExpiresAt, Op::Lte(time(50, 0)))
                .order_by(vec![Order::asc(F::SessionExpiresAt)])
                .with_count(),
            vec!["S5", "S6", "S2", "S3"],
            Some(4),
        ),
        (
            sessions()
                .filter(F::SessionExpiresAt, Op::Lte(time(50, -1)))
                .order_by(vec![Order::asc(F::SessionExpiresAt)]),
            vec!["S5", "S6"],
            None,
        ),
        (
            sessions()
                .filter(F::SessionExpiresAt, Op::Lte(time(50, 1)))
                .order_by(vec![Order::asc(F::SessionExpiresAt)])
                .page(2, 10)
                .with_count(),
            vec!["S2", "S3", "S7"],
            Some(5),
        ),
        (
            sessions()
                .filter(F::SessionExpiresAt, Op::Lte(time(50, 0)))
                .filter(F::SessionUser, Op::Eq(Value::Int(1)))
                .order_by(vec![Order::asc(F::SessionExpiresAt)]),
            vec!["S6", "S3"],
            None,
        ),
        (
            sessions().filter(F::SessionExpiresAt, Op::Gte(time(100, 0))),
            vec!["S4", "S1"],
            None,
        ),
        // The digest field is its lowercase hex: exact, and ordered like the bytes.
        (
            sessions().filter(F::SessionId, Op::Eq(hex(0x50))),
            vec!["S1"],
            None,
        ),
        (
            sessions().filter(F::SessionId, Op::Eq(upper_hex(0xa0))),
            vec![],
            None,
        ),
        (
            sessions().order_by(vec![Order::desc(F::SessionId)]),
            vec!["S5", "S3", "S1", "S7", "S6", "S2", "S4"],
            None,
        ),
        (
            sessions()
                .filter(F::SessionId, Op::Gte(text("2")))
                .filter(F::SessionId, Op::Lte(text("5"))),
            vec!["S2", "S6", "S7"],
            None,
        ),
        // Bounds compare as text even when they are a whole digest in upper case: "a0…" is
        // above "A1…" ('a' > 'A') although byte 0xa0 is below 0xa1.
        (
            sessions().filter(F::SessionId, Op::Gte(upper_hex(0xa1))),
            vec!["S3", "S5"],
            None,
        ),
        (
            sessions().filter(F::SessionId, Op::Lte(upper_hex(0xa1))),
            vec!["S4", "S2", "S6", "S7", "S1"],
            None,
        ),
        // MFA challenges: a user's, and the expired ones by expiry.
        (
            challenges()
                .filter(F::MfaChallengeUser, Op::Eq(Value::Int(1)))
                .with_count(),
            vec!["M1", "M4", "M3"],
            Some(3),
        ),
        (
            challenges()
                .filter(F::MfaChallengeExpiresAt, Op::Lte(time(0, 0)))
                .order_by(vec![Order::asc(F::MfaChallengeExpiresAt)]),
            vec!["M3"],
            None,
        ),
        (
            challenges()
                .filter(F::MfaChallengeExpiresAt, Op::Lte(time(60, 0)))
                .order_by(vec![Order::asc(F::MfaChallengeExpiresAt)])
                .with_count(),
            vec!["M3", "M2", "M4"],
            Some(3),
        ),
        (
            challenges().order_by(vec![Order::desc(F::MfaChallengeExpiresAt)]),
            vec!["M1", "M2", "M4", "M3"],
            None,
        ),
        // Throttles not touched since a moment, oldest first.
        (
            throttles()
                .filter(F::ThrottleUpdatedAt, Op::Lte(time(0, -1)))
                .order_by(vec![Order::asc(F::ThrottleUpdatedAt)])
                .with_count(),
            vec!["T3", "T2"],
            Some(2),
        ),
        (
            throttles()
                .filter(F::ThrottleUpdatedAt, Op::Lte(time(0, 0)))
                .order_by(vec![Order::asc(F::ThrottleUpdatedAt)]),
            vec!["T3", "T2", "T4"],
            None,
        ),
        (
            throttles().order_by(vec![Order::desc(F::ThrottleUpdatedAt)]),
            vec!["T1", "T4", "T3", "T2"],
            None,
        ),
        (
            throttles().filter(F::ThrottleUpdatedAt, Op::Gte(time(0, 0))),
            vec!["T1", "T4"],
            None,
        ),
        // Credentials by user.
        (credentials().with_count(), vec!["C1", "C2", "C3"], Some(3)),
        (
            credentials().filter(F::CredentialsUser, Op::Eq(Value::Int(2))),
            vec!["C2"],
            None,
        ),
        (
            credentials().order_by(vec![Order::desc(F::CredentialsUser)]),
            vec!["C3", "C2", "C1"],
            None,
        ),
    ]
}

/// Lists of sessions, MFA challenges, throttles and credentials over a hand-written table,
/// against expected orders and counts written out by hand: a user's sessions in key (digest
/// byte) order with counts and pages, expired sessions and challenges by expiry (inclusive,
/// exact to the microsecond, ties by key), throttles by last change, digest ids as lowercase
/// hex text.
pub async fn check_list_auth_table(factory: &dyn StoreFactory) {
    run_table(factory, "auth table", auth_rows(), auth_queries()).await;
}

// ---------------------------------------------------------------------------------------------
// The property test.
// ---------------------------------------------------------------------------------------------

/// Pieces of generated text: case pairs that only full Unicode folding matches (ß/SS/ẞ,
/// Σ/σ/ς, İ/i, K/k/KELVIN SIGN, ﬁ/fi, ǅ), code points whose UTF-16 order differs from their
/// code-point order (U+FF21 vs an emoji), and the characters SQL `LIKE` treats specially.
const ATOMS: &[&str] = &[
    "a", "A", "b", "B", "z", "Z", "ä", "Ä", "ß", "SS", "ss", "ẞ", "Σ", "σ", "ς", "İ", "i", "I",
    "ı", "K", "k", "\u{212A}", "%", "_", "\\", " ", "é", "e\u{301}", "\u{FF21}", "😀", "ǅ", "ﬁ",
    "f", "0", "9",
];

const DATES: [(i32, u32, u32); 9] = [
    (1000, 1, 1),
    (1969, 12, 31),
    (1970, 1, 1),
    (1999, 12, 31),
    (2000, 2, 29),
    (2024, 1, 1),
    (2024, 1, 2),
    (2024, 12, 31),
    (9999, 12, 31),
];

const MICROS: [i64; 11] = [
    -1_000_000,
    -1,
    0,
    1,
    1_699_999_999_999_999,
    1_700_000_000_000_000,
    1_700_000_000_000_001,
    1_700_000_000_500_000,
    1_700_000_000_999_999,
    1_700_000_001_000_000,
    253_402_300_799_999_999,
];

const YEARS: [i32; 6] = [1970, 1999, 2000, 2009, 2010, 2024];

const INTS: [i64; 14] = [
    -1,
    0,
    1,
    2,
    3,
    9,
    10,
    11,
    1970,
    2000,
    2010,
    2024,
    999_999_992_081,
    1_000_000_000_000,
];

fn text(max_atoms: usize) -> impl Strategy<Value = String> {
    vec(select(ATOMS), 0..=max_atoms).prop_map(|v| v.concat())
}

fn pick<T: Copy>(pool: &[T], i: usize) -> T {
    pool[i % pool.len()]
}

/// An integer id: small (so 9 < 10 < 11 are crossed) or large and descending with the index.
fn int_id(big: bool, i: usize) -> i64 {
    if big {
        1_000_000_000_000 - (i as i64) * 7919
    } else {
        i as i64 + 1
    }
}

/// A reference to one of `n` records (by index), if there are any.
fn reference(r: Option<usize>, ids: &[i64]) -> Option<i64> {
    r.filter(|_| !ids.is_empty()).map(|i| ids[i % ids.len()])
}

type Stamps = (usize, usize);

fn stamps() -> impl Strategy<Value = Stamps> {
    (0..MICROS.len(), 0..MICROS.len())
}

#[derive(Debug, Clone)]
struct RoleSpec {
    big: bool,
    name: String,
    stamps: Stamps,
}

#[derive(Debug, Clone)]
struct UserSpec {
    big: bool,
    username: String,
    email: String,
    role: Option<usize>,
    names: (String, String),
    flags: (bool, bool),
    stamps: Stamps,
}

#[derive(Debug, Clone)]
struct LocationSpec {
    big: bool,
    texts: [String; 5],
    address: String,
    phone: Option<String>,
    stamps: Stamps,
}

#[derive(Debug, Clone)]
struct DonorSpec {
    big: bool,
    texts: [String; 4],
    email: String,
    stamps: Stamps,
}

#[derive(Debug, Clone)]
struct ShipmentSpec {
    big: bool,
    destination: Option<usize>,
    arrived: bool,
    shipped: usize,
    delivered: Option<usize>,
    tracking: String,
    stamps: Stamps,
}

#[derive(Debug, Clone)]
struct DeviceSpec {
    uuid: [u8; 16],
    texts: [String; 7],
    serial: String,
    mac: Option<String>,
    status: usize,
    year: Option<usize>,
    received: Option<usize>,
    refs: [Option<usize>; 5],
    shipments: Vec<usize>,
    stamps: Stamps,
}

#[derive(Debug, Clone)]
struct AuditSpec {
    big: bool,
    at: usize,
    actor: Option<usize>,
    texts: [String; 3],
}

/// Three generated bytes of a digest key (the first two and the last); the record's index goes
/// into the third byte, so keys stay distinct however the rest shrinks.
type KeySpec = [u8; 3];

fn spec_digest(key: KeySpec, i: usize) -> Digest {
    let mut bytes = [0u8; 32];
    bytes[0] = key[0];
    bytes[1] = key[1];
    bytes[2] = i as u8;
    bytes[31] = key[2];
    Digest(bytes)
}

/// Values of `totp_last_step`: both ends of what the suite pins, and a realistic one.
const STEPS: [u64; 5] = [0, 1, 57_000_000, TOTP_STEP_MAX - 1, TOTP_STEP_MAX];

/// Values of the `u32` counters (attempts left, locks): both ends and small ones.
const COUNTS: [u32; 4] = [0, 1, 5, u32::MAX];

#[derive(Debug, Clone)]
struct CredentialsSpec {
    /// Whose (by index; a user that already has credentials gets none).
    user: usize,
    password: Option<String>,
    totp: Option<(String, bool)>,
    step: Option<usize>,
    codes: Vec<[u8; 32]>,
    updated: usize,
}

#[derive(Debug, Clone)]
struct SessionSpec {
    key: KeySpec,
    user: usize,
    /// Created, expires, last used.
    times: (usize, usize, usize),
    ip: Option<String>,
}

#[derive(Debug, Clone)]
struct ChallengeSpec {
    key: KeySpec,
    user: usize,
    stamps: Stamps,
    attempts: usize,
    ip: Option<String>,
}

#[derive(Debug, Clone)]
struct ThrottleSpec {
    key: KeySpec,
    failures: Vec<usize>,
    locked_until: Option<usize>,
    locks: usize,
    updated: usize,
}

#[derive(Debug, Clone)]
struct DataSpec {
    roles: Vec<RoleSpec>,
    users: Vec<UserSpec>,
    locations: Vec<LocationSpec>,
    donors: Vec<DonorSpec>,
    shipments: Vec<ShipmentSpec>,
    devices: Vec<DeviceSpec>,
    audit: Vec<AuditSpec>,
    credentials: Vec<CredentialsSpec>,
    sessions: Vec<SessionSpec>,
    challenges: Vec<ChallengeSpec>,
    throttles: Vec<ThrottleSpec>,
}

fn role_spec() -> impl Strategy<Value = RoleSpec> {
    (any::<bool>(), text(3), stamps()).prop_map(|(big, name, stamps)| RoleSpec {
        big,
        name,
        stamps,
    })
}

fn user_spec() -> impl Strategy<Value = UserSpec> {
    (
        any::<bool>(),
        text(3),
        text(2),
        proptest::option::of(any::<usize>()),
        (text(2), text(2)),
        (any::<bool>(), any::<bool>()),
        stamps(),
    )
        .prop_map(
            |(big, username, email, role, names, flags, stamps)| UserSpec {
                big,
                username,
                email,
                role,
                names,
                flags,
                stamps,
            },
        )
}

fn location_spec() -> impl Strategy<Value = LocationSpec> {
    (
        any::<bool>(),
        [text(2), text(2), text(2), text(2), text(2)],
        text(2),
        proptest::option::of(text(2)),
        stamps(),
    )
        .prop_map(|(big, texts, address, phone, stamps)| LocationSpec {
            big,
            texts,
            address,
            phone,
            stamps,
        })
}

fn donor_spec() -> impl Strategy<Value = DonorSpec> {
    (
        any::<bool>(),
        [text(2), text(2), text(2), text(2)],
        text(2),
        stamps(),
    )
        .prop_map(|(big, texts, email, stamps)| DonorSpec {
            big,
            texts,
            email,
            stamps,
        })
}

fn shipment_spec() -> impl Strategy<Value = ShipmentSpec> {
    (
        any::<bool>(),
        proptest::option::of(any::<usize>()),
        any::<bool>(),
        0..DATES.len(),
        proptest::option::of(0..DATES.len()),
        text(3),
        stamps(),
    )
        .prop_map(
            |(big, destination, arrived, shipped, delivered, tracking, stamps)| ShipmentSpec {
                big,
                destination,
                arrived,
                shipped,
                delivered,
                tracking,
                stamps,
            },
        )
}

fn device_spec() -> impl Strategy<Value = DeviceSpec> {
    let texts = [
        text(2),
        text(2),
        text(2),
        text(2),
        text(2),
        text(3),
        text(2),
    ];
    let refs = [
        proptest::option::of(any::<usize>()),
        proptest::option::of(any::<usize>()),
        proptest::option::of(any::<usize>()),
        proptest::option::of(any::<usize>()),
        proptest::option::of(any::<usize>()),
    ];
    (
        any::<[u8; 16]>(),
        texts,
        (text(2), proptest::option::of(text(2))),
        (
            0..DeviceStatus::ALL.len(),
            proptest::option::of(0..YEARS.len()),
            proptest::option::of(0..DATES.len()),
        ),
        refs,
        vec(any::<usize>(), 0..3),
        stamps(),
    )
        .prop_map(
            |(uuid, texts, (serial, mac), (status, year, received), refs, shipments, stamps)| {
                DeviceSpec {
                    uuid,
                    texts,
                    serial,
                    mac,
                    status,
                    year,
                    received,
                    refs,
                    shipments,
                    stamps,
                }
            },
        )
}

fn audit_spec() -> impl Strategy<Value = AuditSpec> {
    (
        any::<bool>(),
        0..MICROS.len(),
        proptest::option::of(0..INTS.len()),
        [text(2), text(2), text(2)],
    )
        .prop_map(|(big, at, actor, texts)| AuditSpec {
            big,
            at,
            actor,
            texts,
        })
}

fn credentials_spec() -> impl Strategy<Value = CredentialsSpec> {
    (
        any::<usize>(),
        proptest::option::of(text(2)),
        proptest::option::of((text(2), any::<bool>())),
        proptest::option::of(0..STEPS.len()),
        vec(any::<[u8; 32]>(), 0..3),
        0..MICROS.len(),
    )
        .prop_map(
            |(user, password, totp, step, codes, updated)| CredentialsSpec {
                user,
                password,
                totp,
                step,
                codes,
                updated,
            },
        )
}

fn session_spec() -> impl Strategy<Value = SessionSpec> {
    (
        any::<KeySpec>(),
        any::<usize>(),
        (0..MICROS.len(), 0..MICROS.len(), 0..MICROS.len()),
        proptest::option::of(text(2)),
    )
        .prop_map(|(key, user, times, ip)| SessionSpec {
            key,
            user,
            times,
            ip,
        })
}

fn challenge_spec() -> impl Strategy<Value = ChallengeSpec> {
    (
        any::<KeySpec>(),
        any::<usize>(),
        stamps(),
        0..COUNTS.len(),
        proptest::option::of(text(2)),
    )
        .prop_map(|(key, user, stamps, attempts, ip)| ChallengeSpec {
            key,
            user,
            stamps,
            attempts,
            ip,
        })
}

fn throttle_spec() -> impl Strategy<Value = ThrottleSpec> {
    (
        any::<KeySpec>(),
        vec(0..MICROS.len(), 0..3),
        proptest::option::of(0..MICROS.len()),
        0..COUNTS.len(),
        0..MICROS.len(),
    )
        .prop_map(
            |(key, failures, locked_until, locks, updated)| ThrottleSpec {
                key,
                failures,
                locked_until,
                locks,
                updated,
            },
        )
}

fn data_spec() -> impl Strategy<Value = DataSpec> {
    // The authentication records are few: they add collections to compare, and every case
    // must stay quick on a remote SQL server.
    (
        vec(role_spec(), 0..4),
        vec(user_spec(), 0..8),
        vec(location_spec(), 0..10),
        vec(donor_spec(), 0..8),
        vec(shipment_spec(), 0..8),
        vec(device_spec(), 0..16),
        vec(audit_spec(), 0..8),
        vec(credentials_spec(), 0..4),
        vec(session_spec(), 0..6),
        vec(challenge_spec(), 0..4),
        vec(throttle_spec(), 0..4),
    )
        .prop_map(
            |(
                roles,
                users,
                locations,
                donors,
                shipments,
                devices,
                audit,
                credentials,
                sessions,
                challenges,
                throttles,
            )| DataSpec {
                roles,
                users,
                locations,
                donors,
                shipments,
                devices,
                audit,
                credentials,
                sessions,
                challenges,
                throttles,
            },
        )
}

/// A unique value: the generated text plus a suffix no generated text contains.
fn unique_text(s: &str, i: usize) -> String {
    format!("{s}#{i}")
}

impl DataSpec {
    /// The records, in an order that inserts every referenced record first.
    fn build(&self) -> Vec<Record> {
        let mut out = Vec::new();
        let stamp = |s: &Stamps| (ts(MICROS[s.0]), ts(MICROS[s.1]));
        let day = |i: usize| {
            let (y, m, d) = DATES[i];
            date(y, m, d)
        };

        let mut role_names = Vec::new();
        for (i, r) in self.roles.iter().enumerate() {
            let name = unique_text(&r.name, i);
            role_names.push(name.clone());
            let (c, u) = stamp(&r.stamps);
            out.push(Record::Role(Role {
                id: RoleId(int_id(r.big, i)),
                name,
                description: String::new(),
                permissions: Permissions::empty(),
                created_at: c,
                updated_at: u,
                version: 1,
            }));
        }
        let mut user_ids = Vec::new();
        for (i, s) in self.users.iter().enumerate() {
            let id = int_id(s.big, i);
            user_ids.push(id);
            let (c, u) = stamp(&s.stamps);
            out.push(Record::User(User {
                id: UserId(id),
                username: unique_text(&s.username, i),
                email: unique_text(&s.email, i),
                role: s
                    .role
                    .filter(|_| !role_names.is_empty())
                    .map(|r| role_names[r % role_names.len()].clone()),
                first_name: s.names.0.clone(),
                last_name: s.names.1.clone(),
                is_superuser: s.flags.0,
                is_active: s.flags.1,
                permissions: Permissions::empty(),
                mfa_enabled: s.flags.0 && !s.flags.1,
                must_change_password: !s.flags.0 && s.flags.1,
                last_login: None,
                date_joined: c,
                updated_at: u,
                version: 1,
            }));
        }
        let mut location_ids = Vec::new();
        for (i, s) in self.locations.iter().enumerate() {
            let id = int_id(s.big, i);
            location_ids.push(id);
            let (c, u) = stamp(&s.stamps);
            let [name, kind, country, city, postal] = s.texts.clone();
            out.push(Record::Location(Location {
                location_id: LocationId(id),
                name,
                location_type: kind,
                address: unique_text(&s.address, i),
                country,
                city,
                postal_code: postal,
                phone: s
                    .phone
                    .as_ref()
                    .map(|p| unique_text(p, i))
                    .unwrap_or_default(),
                created_at: c,
                updated_at: u,
                version: 1,
            }));
        }
        let mut donor_ids = Vec::new();
        for (i, s) in self.donors.iter().enumerate() {
            let id = int_id(s.big, i);
            donor_ids.push(id);
            let (c, u) = stamp(&s.stamps);
            let [name, contact, address, phone] = s.texts.clone();
            out.push(Record::Donor(Donor {
                donor_id: DonorId(id),
                name,
                contact_info: contact,
                address,
                email: unique_text(&s.email, i),
                phone,
                created_at: c,
                updated_at: u,
                version: 1,
            }));
        }
        let mut shipment_ids = Vec::new();
        for (i, s) in self.shipments.iter().enumerate() {
            let id = int_id(s.big, i);
            shipment_ids.push(id);
            let (c, u) = stamp(&s.stamps);
            out.push(Record::Shipment(Shipment {
                shipping_id: ShipmentId(id),
                destination: reference(s.destination, &location_ids).map(LocationId),
                arrived: s.arrived,
                date_shipped: day(s.shipped),
                date_delivered: s.delivered.map(day),
                tracking_identifier: s.tracking.clone(),
                created_at: c,
                updated_at: u,
                version: 1,
            }));
        }
        for (i, s) in self.devices.iter().enumerate() {
            let (c, u) = stamp(&s.stamps);
            // The last byte is the index, so shrunk (zeroed) ids stay distinct.
            let mut bytes = s.uuid;
            bytes[15] = i as u8;
            let [kind, make, model, os, condition, notes, specs] = s.texts.clone();
            let mut infos: Vec<ShipmentId> = s
                .shipments
                .iter()
                .filter(|_| !shipment_ids.is_empty())
                .map(|x| ShipmentId(shipment_ids[x % shipment_ids.len()]))
                .collect();
            infos.sort();
            infos.dedup();
            out.push(Record::Device(Device {
                device_id: DeviceId(Uuid::from_bytes(bytes)),
                device_type: kind,
                make,
                model,
                serial_number: unique_text(&s.serial, i),
                mac_id: s
                    .mac
                    .as_ref()
                    .map(|m| unique_text(m, i))
                    .unwrap_or_default(),
                imei: String::new(),
                year_of_manufacture: s.year.map(|y| YEARS[y]),
                date_received: s.received.map(day),
                received_by: reference(s.refs[3], &user_ids).map(UserId),
                created_by: reference(s.refs[4], &user_ids).map(UserId),
                physical_condition: condition,
                specifications: specs,
                operating_system: os,
                donor: reference(s.refs[0], &donor_ids).map(DonorId),
                date_of_donation: None,
                value: None,
                start_location: reference(s.refs[1], &location_ids).map(LocationId),
                end_location: reference(s.refs[2], &location_ids).map(LocationId),
                notes,
                shipping_infos: infos,
                status: DeviceStatus::ALL[s.status],
                no_media: false,
                locks: Vec::new(),
                sample: crate::evidence::Sample::Undecided,
                no_evidence_recorded: false,
                recycling: None,
                created_at: c,
                updated_at: u,
                version: 1,
            }));
        }
        for (i, s) in self.audit.iter().enumerate() {
            let [action, object_type, object_id] = s.texts.clone();
            out.push(Record::Audit(AuditEvent {
                id: AuditId(int_id(s.big, i)),
                timestamp: ts(MICROS[s.at]),
                actor: s.actor.map(|a| UserId(INTS[a])),
                actor_username: None,
                action,
                object_type,
                object_id,
                ip: None,
                changes: serde_json::Value::Null,
            }));
        }
        // Credentials, sessions and challenges need a user; without users there are none.
        let owner = |i: usize| (!user_ids.is_empty()).then(|| UserId(user_ids[i % user_ids.len()]));
        let mut with_credentials = Vec::new();
        for s in &self.credentials {
            let Some(user) = owner(s.user) else { break };
            if with_credentials.contains(&user) {
                continue;
            }
            with_credentials.push(user);
            out.push(Record::Credentials(Credentials {
                user,
                password_hash: s.password.clone(),
                totp_secret: s.totp.as_ref().map(|t| t.0.clone()),
                totp_enabled: s.totp.as_ref().is_some_and(|t| t.1),
                totp_last_step: s.step.map(|i| STEPS[i]),
                recovery_codes: s.codes.iter().map(|c| Digest(*c)).collect(),
                updated_at: ts(MICROS[s.updated]),
                version: 1,
            }));
        }
        for (i, s) in self.sessions.iter().enumerate() {
            let Some(user) = owner(s.user) else { break };
            out.push(Record::Session(Session {
                digest: spec_digest(s.key, i),
                user,
                created_at: ts(MICROS[s.times.0]),
                expires_at: ts(MICROS[s.times.1]),
                last_used_at: ts(MICROS[s.times.2]),
                ip: s.ip.clone(),
                version: 1,
            }));
        }
        for (i, s) in self.challenges.iter().enumerate() {
            let Some(user) = owner(s.user) else { break };
            let (c, e) = stamp(&s.stamps);
            out.push(Record::MfaChallenge(MfaChallenge {
                digest: spec_digest(s.key, i),
                user,
                created_at: c,
                expires_at: e,
                attempts_left: COUNTS[s.attempts],
                ip: s.ip.clone(),
                version: 1,
            }));
        }
        for (i, s) in self.throttles.iter().enumerate() {
            out.push(Record::Throttle(Throttle {
                digest: spec_digest(s.key, i),
                failures: s.failures.iter().map(|f| ts(MICROS[*f])).collect(),
                locked_until: s.locked_until.map(|l| ts(MICROS[l])),
                locks: COUNTS[s.locks],
                updated_at: ts(MICROS[s.updated]),
                version: 1,
            }));
        }
        out
    }
}

/// A value for a filter: taken from a stored record, from a pool of the field's type, or a
/// generated text.
#[derive(Debug, Clone)]
enum ValSpec {
    Null,
    Record(usize),
    Pool(usize),
    Text(String),
}

/// A needle: generated text, or a piece of a stored record's text in some case.
#[derive(Debug, Clone)]
enum NeedleSpec {
    Text(String),
    Piece {
        record: usize,
        field: usize,
        start: usize,
        len: usize,
        case: u8,
    },
}

#[derive(Debug, Clone)]
struct FilterSpec {
    field: usize,
    op: usize,
    values: Vec<ValSpec>,
    needle: NeedleSpec,
}

#[derive(Debug, Clone)]
struct QuerySpec {
    collection: usize,
    filters: Vec<FilterSpec>,
    search: Option<(NeedleSpec, u16)>,
    ordering: Vec<(usize, bool)>,
    offset: u64,
    limit: u64,
    count: bool,
}

fn val_spec() -> impl Strategy<Value = ValSpec> {
    prop_oneof![
        1 => Just(ValSpec::Null),
        3 => any::<usize>().prop_map(ValSpec::Record),
        2 => any::<usize>().prop_map(ValSpec::Pool),
        1 => text(2).prop_map(ValSpec::Text),
    ]
}

fn needle_spec() -> impl Strategy<Value = NeedleSpec> {
    prop_oneof![
        1 => text(2).prop_map(NeedleSpec::Text),
        2 => (any::<usize>(), any::<usize>(), 0usize..4, 0usize..4, 0u8..3).prop_map(
            |(record, field, start, len, case)| NeedleSpec::Piece {
                record,
                field,
                start,
                len,
                case
            }
        ),
    ]
}

fn filter_spec() -> impl Strategy<Value = FilterSpec> {
    (
        any::<usize>(),
        any::<usize>(),
        vec(val_spec(), 0..4),
        needle_spec(),
    )
        .prop_map(|(field, op, values, needle)| FilterSpec {
            field,
            op,
            values,
            needle,
        })
}

fn query_spec() -> impl Strategy<Value = QuerySpec> {
    (
        0..Collection::ALL.len(),
        vec(filter_spec(), 0..3),
        proptest::option::weighted(0.3, (needle_spec(), any::<u16>())),
        vec((any::<usize>(), any::<bool>()), 0..4),
        prop_oneof![6 => Just(0u64), 3 => 0u64..12, 1 => Just(u64::MAX)],
        prop_oneof![3 => Just(u64::MAX), 5 => 0u64..12],
        any::<bool>(),
    )
        .prop_map(
            |(collection, filters, search, ordering, offset, limit, count)| QuerySpec {
                collection,
                filters,
                search,
                ordering,
                offset,
                limit,
                count,
            },
        )
}

/// A change to the data after the first round of queries: record `target` of collection
/// `collection` takes every field of record `source` except its id (so unique keys, references
/// and indexed values move), or is deleted when nothing refers to it.
#[derive(Debug, Clone)]
struct MutationSpec {
    collection: usize,
    target: usize,
    source: usize,
    delete: bool,
}

#[derive(Debug, Clone)]
struct Case {
    data: DataSpec,
    queries: Vec<QuerySpec>,
    mutations: Vec<MutationSpec>,
}

fn mutation_spec() -> impl Strategy<Value = MutationSpec> {
    (
        0..Collection::ALL.len(),
        any::<usize>(),
        any::<usize>(),
        proptest::bool::weighted(0.3),
    )
        .prop_map(|(collection, target, source, delete)| MutationSpec {
            collection,
            target,
            source,
            delete,
        })
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        data_spec(),
        vec(query_spec(), 1..10),
        vec(mutation_spec(), 0..10),
    )
        .prop_map(|(data, queries, mutations)| Case {
            data,
            queries,
            mutations,
        })
}

/// `to[target]` becomes `from[source]` with `keep` applied (the id-deciding parts of the target).
fn copy_spec<T: Clone>(to: &mut [T], from: &[T], t: usize, s: usize, keep: impl Fn(&T, &mut T)) {
    if to.is_empty() {
        return;
    }
    let (t, s) = (t % to.len(), s % from.len());
    let mut new = from[s].clone();
    keep(&to[t], &mut new);
    to[t] = new;
}

impl DataSpec {
    /// The data after the mutations' field copies (audit events are never changed).
    fn mutated(&self, mutations: &[MutationSpec]) -> DataSpec {
        let mut out = self.clone();
        for m in mutations.iter().filter(|m| !m.delete) {
            let (t, s) = (m.target, m.source);
            match Collection::ALL[m.collection] {
                // A role keeps its name: renaming a held role is refused (users refer to it by
                // name; `check_role_rename_while_held` covers that).
                Collection::Roles => copy_spec(&mut out.roles, &self.roles, t, s, |o, n| {
                    n.big = o.big;
                    n.name = o.name.clone();
                }),
                Collection::Users => {
                    copy_spec(&mut out.users, &self.users, t, s, |o, n| n.big = o.big)
                }
                Collection::Locations => {
                    copy_spec(&mut out.locations, &self.locations, t, s, |o, n| {
                        n.big = o.big
                    })
                }
                Collection::Donors => {
                    copy_spec(&mut out.donors, &self.donors, t, s, |o, n| n.big = o.big)
                }
                Collection::Shipments => {
                    copy_spec(&mut out.shipments, &self.shipments, t, s, |o, n| {
                        n.big = o.big
                    })
                }
                Collection::Devices => copy_spec(&mut out.devices, &self.devices, t, s, |o, n| {
                    n.uuid = o.uuid
                }),
                // Credentials are keyed by their user: the target keeps its own.
                Collection::Credentials => {
                    copy_spec(&mut out.credentials, &self.credentials, t, s, |o, n| {
                        n.user = o.user
                    })
                }
                // Sessions and challenges keep their digest and may move to another user.
                Collection::Sessions => {
                    copy_spec(&mut out.sessions, &self.sessions, t, s, |o, n| {
                        n.key = o.key
                    })
                }
                Collection::MfaChallenges => {
                    copy_spec(&mut out.challenges, &self.challenges, t, s, |o, n| {
                        n.key = o.key
                    })
                }
                Collection::Throttles => {
                    copy_spec(&mut out.throttles, &self.throttles, t, s, |o, n| {
                        n.key = o.key
                    })
                }
                // Never changed; and evidence has its own suite (`testing::evidence`).
                Collection::Audit
                | Collection::Media
                | Collection::Sanitizations
                | Collection::Verifications
                | Collection::Reports => {}
            }
        }
        out
    }
}

/// Whether `r` refers to `target` (a role by its name), read from the fields directly.
fn refers_to(r: &Record, target: &Record) -> bool {
    match (r, target) {
        (Record::Device(d), Record::Donor(x)) => d.donor == Some(x.donor_id),
        (Record::Device(d), Record::Location(x)) => {
            d.start_location == Some(x.location_id) || d.end_location == Some(x.location_id)
        }
        (Record::Device(d), Record::User(x)) => {
            d.received_by == Some(x.id) || d.created_by == Some(x.id)
        }
        (Record::Device(d), Record::Shipment(x)) => d.shipping_infos.contains(&x.shipping_id),
        (Record::Shipment(s), Record::Location(x)) => s.destination == Some(x.location_id),
        (Record::User(u), Record::Role(x)) => u.role.as_deref() == Some(x.name.as_str()),
        (Record::Credentials(c), Record::User(x)) => c.user == x.id,
        (Record::Session(s), Record::User(x)) => s.user == x.id,
        (Record::MfaChallenge(m), Record::User(x)) => m.user == x.id,
        _ => false,
    }
}

/// The batch taking the stored `before` records to the mutated `after` ones (updates first,
/// then deletes of unreferenced targets, referrers before what they refer to), and the records
/// the store holds afterwards.
fn mutation_batch(
    before: &[Record],
    after: &[Record],
    mutations: &[MutationSpec],
) -> (ChangeSet, Vec<Record>) {
    let mut batch = ChangeSet::new();
    let mut now: Vec<Record> = Vec::new();
    for (old, new) in before.iter().zip(after) {
        if old != new && old.collection() != Collection::Audit {
            let new = with_version(new.clone(), 2);
            batch.update(new.clone(), 1);
            now.push(new);
        } else {
            now.push(old.clone());
        }
    }
    let mut doomed: Vec<RecordKey> = Vec::new();
    for c in [
        Collection::Devices,
        Collection::Credentials,
        Collection::Sessions,
        Collection::MfaChallenges,
        Collection::Throttles,
        Collection::Shipments,
        Collection::Donors,
        Collection::Locations,
        Collection::Users,
        Collection::Roles,
    ] {
        let of_c: Vec<&Record> = now.iter().filter(|r| r.collection() == c).collect();
        if of_c.is_empty() {
            continue;
        }
        let mut targets: Vec<usize> = mutations
            .iter()
            .filter(|m| m.delete && Collection::ALL[m.collection] == c)
            .map(|m| m.target % of_c.len())
            .collect();
        targets.sort_unstable();
        targets.dedup();
        for t in targets {
            let target = of_c[t];
            let referenced = now
                .iter()
                .filter(|r| !doomed.contains(&r.key()))
                .any(|r| refers_to(r, target));
            if !referenced {
                doomed.push(target.key());
                batch.delete(target.key(), target.version());
            }
        }
    }
    now.retain(|r| !doomed.contains(&r.key()));
    (batch, now)
}

/// The text fields of a collection, by the model's own typing.
fn text_fields(c: Collection) -> Vec<Field> {
    c.fields()
        .iter()
        .copied()
        .filter(|f| field_kind(*f) == Kind::Text)
        .collect()
}

fn pool_value(kind: Kind, i: usize) -> Value {
    match kind {
        Kind::Text => Value::Text(pick(ATOMS, i).to_owned()),
        Kind::Int => Value::Int(pick(&INTS, i)),
        Kind::Bool => Value::Bool(i % 2 == 1),
        Kind::Date => {
            let (y, m, d) = pick(&DATES, i);
            Value::Date(date(y, m, d))
        }
        Kind::Timestamp => Value::Timestamp(ts(pick(&MICROS, i))),
        Kind::Uuid => Value::Uuid(Uuid::from_u128(pick(
            &[0, 1, u128::MAX, 1 << 127, 0x00ff << 112],
            i,
        ))),
    }
}

fn resolve_value(spec: &ValSpec, field: Field, model: &Model, records: &[Record]) -> Value {
    let kind = field_kind(field);
    match spec {
        ValSpec::Null => Value::Null,
        ValSpec::Record(i) if !records.is_empty() => {
            let key = records[i % records.len()].key();
            model
                .value(key, field.name())
                .map(|v| v.to_value())
                .unwrap_or(Value::Null)
        }
        ValSpec::Record(i) | ValSpec::Pool(i) => pool_value(kind, *i),
        ValSpec::Text(s) if kind == Kind::Text => Value::Text(s.clone()),
        ValSpec::Text(s) => pool_value(kind, s.len()),
    }
}

fn resolve_needle(spec: &NeedleSpec, c: Collection, model: &Model, records: &[Record]) -> String {
    match spec {
        NeedleSpec::Text(s) => s.clone(),
        NeedleSpec::Piece {
            record,
            field,
            start,
            len,
            case,
        } => {
            let fields = text_fields(c);
            if records.is_empty() || fields.is_empty() {
                return String::new();
            }
            let key = records[record % records.len()].key();
            let name = fields[field % fields.len()].name();
            let text = match model.value(key, name) {
                Some(MValue::Text(t)) => t,
                _ => String::new(),
            };
            let chars: Vec<char> = text.chars().collect();
            let start = start % (chars.len() + 1);
            let len = len % (chars.len() - start + 1);
            let piece: String = chars[start..start + len].iter().collect();
            match case {
                1 => piece.to_uppercase(),
                2 => piece.to_lowercase(),
                _ => piece,
            }
        }
    }
}

fn resolve_query(spec: &QuerySpec, model: &Model) -> ListQuery {
    let c = Collection::ALL[spec.collection];
    let fields = c.fields();
    let records = model.scan(c);
    let filters = spec
        .filters
        .iter()
        .map(|f| {
            let field = fields[f.field % fields.len()];
            let kind = field_kind(field);
            // Eq and the bounds take the first value; `In` takes them all (maybe none).
            let first = f.values.first().cloned().unwrap_or(ValSpec::Pool(f.op));
            let value = || resolve_value(&first, field, model, &records);
            let ops = if kind == Kind::Text { 6 } else { 4 };
            let op = match f.op % ops {
                0 => Op::Eq(value()),
                1 => Op::In(
                    f.values
                        .iter()
                        .map(|v| resolve_value(v, field, model, &records))
                        .collect(),
                ),
                2 => Op::Gte(value()),
                3 => Op::Lte(value()),
                _ => Op::IContains(resolve_needle(&f.needle, c, model, &records)),
            };
            Filter { field, op }
        })
        .collect();
    let search = spec.search.as_ref().map(|(needle, mask)| {
        let fields: Vec<Field> = text_fields(c)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << (i % 16)) != 0)
            .map(|(_, f)| f)
            .collect();
        Search {
            text: resolve_needle(needle, c, model, &records),
            fields,
        }
    });
    let ordering = spec
        .ordering
        .iter()
        .map(|(f, desc)| {
            let field = fields[f % fields.len()];
            if *desc {
                Order::desc(field)
            } else {
                Order::asc(field)
            }
        })
        .collect();
    ListQuery {
        collection: c,
        filters,
        search,
        ordering,
        offset: spec.offset,
        limit: spec.limit,
        count: spec.count,
    }
}

async fn run_case(factory: &dyn StoreFactory, case: &Case) -> Result<(), String> {
    let store = factory.open().await;
    let records = case.data.build();
    let model = Model::with(records.clone());
    store
        .commit(inserts(records.clone()))
        .await
        .map_err(|e| format!("the store refused valid generated data: {e} ({e:?})"))?;
    let mut queries: Vec<ListQuery> = Collection::ALL
        .iter()
        .map(|c| ListQuery::all(*c).with_count())
        .collect();
    queries.extend(case.queries.iter().map(|q| resolve_query(q, &model)));
    check_all(store.as_ref(), &model, &queries).await?;

    // Again after updates that move values, unique keys and references, and deletes.
    let after = case.data.mutated(&case.mutations).build();
    let (batch, now) = mutation_batch(&records, &after, &case.mutations);
    store
        .commit(batch.clone())
        .await
        .map_err(|e| format!("the store refused valid generated changes {batch:?}: {e} ({e:?})"))?;
    let model = Model::with(now);
    let mut queries: Vec<ListQuery> = Collection::ALL
        .iter()
        .map(|c| ListQuery::all(*c).with_count())
        .collect();
    queries.extend(case.queries.iter().map(|q| resolve_query(q, &model)));
    check_all(store.as_ref(), &model, &queries)
        .await
        .map_err(|e| format!("after the changes {batch:?}:\n{e}"))
}

async fn check_all(store: &dyn Store, model: &Model, queries: &[ListQuery]) -> Result<(), String> {
    for q in queries {
        check_query(store, model, q).await?;
    }
    for c in Collection::ALL {
        let got = store
            .scan(c, None, 10_000)
            .await
            .map_err(|e| format!("scan {c:?}: {e}"))?;
        if got != model.scan(c) {
            return Err(format!(
                "scan of {c:?}: expected {:?}, got {:?}",
                super::assert::keys(&model.scan(c)),
                super::assert::keys(&got)
            ));
        }
    }
    Ok(())
}

async fn check_query(store: &dyn Store, model: &Model, q: &ListQuery) -> Result<(), String> {
    let want = model.list(q);
    let got = store
        .list(q)
        .await
        .map_err(|e| format!("list {q:?} failed: {e} ({e:?})"))?;
    compare_pages(q, &got, &want).map_err(|e| {
        format!(
            "{e}\n  records of {:?} (id order): {:#?}",
            q.collection,
            model.scan(q.collection)
        )
    })
}

/// How many generated cases: 64, or `PROPTEST_CASES` when set.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Generated data sets (up to 80 records over every collection, authentication records with
/// digest keys included, with texts full of case pairs and `%`, `_`, `\`) and generated queries
/// (Eq, In, IContains, Gte/Lte over every type, searches, multi-term orderings both ways,
/// offsets, limits, counts) give the same pages and
/// totals as the reference model. A failure is shrunk to a small data set and query.
pub async fn check_list_property(factory: &dyn StoreFactory) {
    let handle = tokio::runtime::Handle::current();
    if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread {
        panic!("check_list_property needs a multi-threaded tokio runtime");
    }
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 1024,
        ..Config::default()
    };
    // The test runner is synchronous: run it on this worker with blocking allowed, and block on
    // the store for each case.
    let result = tokio::task::block_in_place(|| {
        let mut runner = TestRunner::new(config);
        runner
            .run(&case_strategy(), |case| {
                handle
                    .block_on(run_case(factory, &case))
                    .map_err(TestCaseError::fail)
            })
            .map_err(|e| e.to_string())
    });
    if let Err(e) = result {
        panic!("list property: {e}");
    }
}
