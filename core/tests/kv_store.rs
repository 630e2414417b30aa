//! Behaviour of `KvStore` (through `MemoryStore` and a reopenable engine): every conflict,
//! atomicity, counters, ids, format versions and the unique-key race.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use common::*;
use rehome_core::kv::{KvBatch, KvEngine, KvOp, KvStore};
use rehome_core::memory::MemoryEngine;
use rehome_core::query::{Collection, Field, ListQuery, Op, Order, Value};
use rehome_core::store::{Reference, StoreResult, UniqueField};
use rehome_core::{
    Change, ChangeSet, Conflict, DonorId, IdKind, LocationId, MemoryStore, Record, RecordKey,
    RoleId, ShipmentId, Store, StoreError, UserId,
};

fn set(changes: Vec<Change>) -> ChangeSet {
    ChangeSet { changes }
}

fn ins(r: impl Into<Record>) -> Change {
    Change::Insert(r.into())
}

macro_rules! into_record {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Wrap { fn from(x: $t) -> Wrap { Wrap(Record::$v(x)) } }
    )*};
}
struct Wrap(Record);
impl From<Wrap> for Record {
    fn from(w: Wrap) -> Record {
        w.0
    }
}
into_record!(
    rehome_core::Device => Device,
    rehome_core::Location => Location,
    rehome_core::Donor => Donor,
    rehome_core::Shipment => Shipment,
    rehome_core::User => User,
    rehome_core::Role => Role,
    rehome_core::AuditEvent => Audit
);
fn r(x: impl Into<Wrap>) -> Record {
    x.into().0
}

/// The conflict and change index of a failed commit.
fn conflict_of(e: StoreError) -> (Conflict, usize) {
    match e {
        StoreError::Conflict { conflict, index } => (conflict, index),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn commit(s: &impl Store, changes: Vec<Change>) -> StoreResult<()> {
    s.commit(set(changes)).await
}

async fn base(s: &impl Store) {
    commit(
        s,
        vec![
            ins(r(role(1, "Admin"))),
            ins(r(user(1, "Alice", "alice@example.org"))),
            ins(r(location(1, "Main St 1"))),
            ins(r(donor(1, "d@example.org"))),
            ins(r(shipment(1))),
        ],
    )
    .await
    .expect("base records");
}

async fn count(s: &impl Store, q: ListQuery) -> u64 {
    s.list(&q.with_count().page(0, 0))
        .await
        .expect("list")
        .total
        .expect("a count")
}

#[tokio::test]
async fn exists_unique_and_case_folded_unique() {
    let s = MemoryStore::new();
    base(&s).await;
    let e = commit(&s, vec![ins(r(donor(1, "other@example.org")))]).await;
    assert_eq!(
        conflict_of(e.expect_err("exists")),
        (Conflict::Exists(RecordKey::Donor(DonorId(1))), 0)
    );
    // Donor email is exact: another case is a different key.
    commit(&s, vec![ins(r(donor(2, "D@example.org")))])
        .await
        .expect("case differs");
    let e = commit(&s, vec![ins(r(donor(3, "d@example.org")))]).await;
    assert_eq!(
        conflict_of(e.expect_err("unique")).0,
        Conflict::Unique(UniqueField::DonorEmail.key("d@example.org"))
    );
    // Usernames are unique regardless of case, for all of Unicode.
    commit(&s, vec![ins(r(user(2, "Straße", "s@example.org")))])
        .await
        .expect("user");
    let e = commit(&s, vec![ins(r(user(3, "STRASSE", "t@example.org")))]).await;
    assert_eq!(
        conflict_of(e.expect_err("folded unique")).0,
        Conflict::Unique(UniqueField::UserUsername.key("strasse"))
    );
    let found = s
        .get_by_unique(&UniqueField::UserUsername.key("STRASSE"))
        .await
        .expect("lookup");
    assert_eq!(found.map(|r| r.key()), Some(RecordKey::User(UserId(2))));
    // An empty MAC holds no unique key.
    commit(&s, vec![ins(r(device(1, "S1"))), ins(r(device(2, "S2")))])
        .await
        .expect("two empty MACs");
}

#[tokio::test]
async fn version_not_found_and_invalid_changes() {
    let s = MemoryStore::new();
    base(&s).await;
    let mut d = donor(1, "d@example.org");
    d.version = 2;
    let e = commit(
        &s,
        vec![
            ins(r(donor(5, "x@example.org"))),
            Change::Update {
                record: r(d.clone()),
                expected_version: 7,
            },
        ],
    )
    .await;
    assert_eq!(
        conflict_of(e.expect_err("version")),
        (
            Conflict::Version {
                key: RecordKey::Donor(DonorId(1)),
                expected: 7,
                actual: 1
            },
            1
        )
    );
    let e = commit(
        &s,
        vec![Change::Update {
            record: r(donor(9, "n@example.org")),
            expected_version: 1,
        }],
    )
    .await
    .expect_err("missing");
    assert!(
        matches!(
            e,
            StoreError::NotFound {
                key: RecordKey::Donor(DonorId(9)),
                index: 0
            }
        ),
        "{e:?}"
    );
    let e = commit(
        &s,
        vec![Change::Delete {
            key: RecordKey::Donor(DonorId(9)),
            expected_version: 1,
        }],
    )
    .await
    .expect_err("missing");
    assert!(matches!(e, StoreError::NotFound { index: 0, .. }), "{e:?}");
    let e = commit(
        &s,
        vec![Change::Delete {
            key: RecordKey::Donor(DonorId(1)),
            expected_version: 3,
        }],
    )
    .await;
    assert!(matches!(
        conflict_of(e.expect_err("version")).0,
        Conflict::Version { actual: 1, .. }
    ));

    commit(&s, vec![ins(r(audit(1)))])
        .await
        .expect("audit insert");
    let e = commit(
        &s,
        vec![Change::Update {
            record: r(audit(1)),
            expected_version: 1,
        }],
    )
    .await
    .expect_err("audit update");
    assert!(
        matches!(e, StoreError::InvalidChange { index: 0, .. }),
        "{e:?}"
    );
    let e = commit(
        &s,
        vec![
            ins(r(donor(6, "y@example.org"))),
            Change::Delete {
                key: RecordKey::Audit(rehome_core::AuditId(1)),
                expected_version: 1,
            },
        ],
    )
    .await
    .expect_err("audit delete");
    assert!(
        matches!(e, StoreError::InvalidChange { index: 1, .. }),
        "{e:?}"
    );
    assert!(
        s.get(RecordKey::Donor(DonorId(6)))
            .await
            .expect("get")
            .is_none()
    );

    // An update carrying the right version succeeds and the next one must expect it.
    commit(
        &s,
        vec![Change::Update {
            record: r(d.clone()),
            expected_version: 1,
        }],
    )
    .await
    .expect("update");
    let mut d3 = d.clone();
    d3.version = 3;
    let e = commit(
        &s,
        vec![Change::Update {
            record: r(d3.clone()),
            expected_version: 1,
        }],
    )
    .await;
    assert!(matches!(
        conflict_of(e.expect_err("stale")).0,
        Conflict::Version { actual: 2, .. }
    ));
    commit(
        &s,
        vec![Change::Update {
            record: r(d3),
            expected_version: 2,
        }],
    )
    .await
    .expect("update 2");
}

#[tokio::test]
async fn missing_references() {
    let s = MemoryStore::new();
    base(&s).await;
    let cases: Vec<(Record, Reference)> = vec![
        (
            r({
                let mut d = device(1, "A");
                d.donor = Some(DonorId(9));
                d
            }),
            Reference::Key(RecordKey::Donor(DonorId(9))),
        ),
        (
            r({
                let mut d = device(1, "A");
                d.end_location = Some(LocationId(9));
                d
            }),
            Reference::Key(RecordKey::Location(LocationId(9))),
        ),
        (
            r({
                let mut d = device(1, "A");
                d.received_by = Some(UserId(9));
                d
            }),
            Reference::Key(RecordKey::User(UserId(9))),
        ),
        (
            r({
                let mut d = device(1, "A");
                d.shipping_infos = vec![ShipmentId(1), ShipmentId(9)];
                d
            }),
            Reference::Key(RecordKey::Shipment(ShipmentId(9))),
        ),
        (
            r({
                let mut s = shipment(2);
                s.destination = Some(LocationId(9));
                s
            }),
            Reference::Key(RecordKey::Location(LocationId(9))),
        ),
        (
            r({
                let mut u = user(2, "bob", "b@example.org");
                u.role = Some("admin".into());
                u
            }),
            Reference::RoleName("admin".into()),
        ),
    ];
    for (record, missing) in cases {
        let e = commit(&s, vec![ins(record.clone())]).await;
        assert_eq!(
            conflict_of(e.expect_err("missing ref")),
            (Conflict::MissingReference(missing), 0)
        );
    }
    // A reference to a record inserted earlier in the same change set is fine; one removed
    // earlier is missing.
    let mut d = device(1, "A");
    d.donor = Some(DonorId(2));
    commit(&s, vec![ins(r(donor(2, "e@example.org"))), ins(r(d))])
        .await
        .expect("same batch");
    let mut d = device(2, "B");
    d.start_location = Some(LocationId(1));
    let e = commit(
        &s,
        vec![
            Change::Delete {
                key: RecordKey::Location(LocationId(1)),
                expected_version: 1,
            },
            ins(r(d)),
        ],
    )
    .await;
    assert_eq!(
        conflict_of(e.expect_err("removed earlier")),
        (
            Conflict::MissingReference(Reference::Key(RecordKey::Location(LocationId(1)))),
            1
        )
    );
}

#[tokio::test]
async fn referenced_records_cannot_be_deleted() {
    let s = MemoryStore::new();
    base(&s).await;
    let mut d = device(1, "A");
    d.donor = Some(DonorId(1));
    d.start_location = Some(LocationId(1));
    d.created_by = Some(UserId(1));
    d.shipping_infos = vec![ShipmentId(1)];
    let mut u = user(2, "bob", "b@example.org");
    u.role = Some("Admin".into());
    commit(&s, vec![ins(r(d.clone())), ins(r(u.clone()))])
        .await
        .expect("refs");
    let dev = RecordKey::Device(d.device_id);
    for (key, by) in [
        (RecordKey::Donor(DonorId(1)), dev),
        (RecordKey::Location(LocationId(1)), dev),
        (RecordKey::User(UserId(1)), dev),
        (RecordKey::Shipment(ShipmentId(1)), dev),
        (RecordKey::Role(RoleId(1)), RecordKey::User(UserId(2))),
    ] {
        let e = commit(
            &s,
            vec![Change::Delete {
                key,
                expected_version: 1,
            }],
        )
        .await;
        assert_eq!(
            conflict_of(e.expect_err("referenced")),
            (Conflict::Referenced { key, by }, 0)
        );
    }
    // Clearing the references earlier in the same change set frees them.
    let mut cleared = d.clone();
    cleared.donor = None;
    cleared.created_by = None;
    cleared.shipping_infos.clear();
    cleared.version = 2;
    commit(
        &s,
        vec![
            Change::Update {
                record: r(cleared),
                expected_version: 1,
            },
            Change::Delete {
                key: RecordKey::Donor(DonorId(1)),
                expected_version: 1,
            },
            Change::Delete {
                key: RecordKey::User(UserId(1)),
                expected_version: 1,
            },
            Change::Delete {
                key: RecordKey::Shipment(ShipmentId(1)),
                expected_version: 1,
            },
        ],
    )
    .await
    .expect("cleared first");
    // Deleting the referrer frees the location.
    commit(
        &s,
        vec![
            Change::Delete {
                key: dev,
                expected_version: 2,
            },
            Change::Delete {
                key: RecordKey::Location(LocationId(1)),
                expected_version: 1,
            },
        ],
    )
    .await
    .expect("referrer deleted first");
    // The role is still held by bob.
    let e = commit(
        &s,
        vec![Change::Delete {
            key: RecordKey::Role(RoleId(1)),
            expected_version: 1,
        }],
    )
    .await;
    assert!(matches!(
        conflict_of(e.expect_err("held")).0,
        Conflict::Referenced { .. }
    ));
}

#[tokio::test]
async fn a_failed_commit_writes_nothing() {
    let s = MemoryStore::new();
    base(&s).await;
    let before_devices = count(&s, ListQuery::all(Collection::Devices)).await;
    let mut d1 = device(1, "S-1");
    d1.make = "Acme".into();
    d1.mac_id = "aa:bb".into();
    d1.donor = Some(DonorId(1));
    let mut renamed = donor(1, "new@example.org");
    renamed.version = 2;
    let e = commit(
        &s,
        vec![
            ins(r(d1.clone())),
            Change::Update {
                record: r(renamed),
                expected_version: 1,
            },
            ins(r(device(2, "S-1"))), // duplicate serial: fails
            ins(r(device(3, "S-3"))),
        ],
    )
    .await;
    assert_eq!(conflict_of(e.expect_err("dup")).1, 2);
    assert!(
        s.get(RecordKey::Device(d1.device_id))
            .await
            .expect("get")
            .is_none()
    );
    for key in [
        UniqueField::DeviceSerialNumber.key("S-1"),
        UniqueField::DeviceMacId.key("aa:bb"),
        UniqueField::DonorEmail.key("new@example.org"),
    ] {
        assert!(
            s.get_by_unique(&key).await.expect("unique").is_none(),
            "{key:?}"
        );
    }
    assert!(
        s.get_by_unique(&UniqueField::DonorEmail.key("d@example.org"))
            .await
            .expect("u")
            .is_some()
    );
    let acme = ListQuery::all(Collection::Devices)
        .filter(Field::DeviceMake, Op::Eq(Value::Text("Acme".into())));
    assert_eq!(count(&s, acme.clone()).await, 0);
    assert!(
        s.list(&acme.order_by(vec![Order::asc(Field::DeviceType)]))
            .await
            .expect("l")
            .items
            .is_empty()
    );
    assert_eq!(
        count(&s, ListQuery::all(Collection::Devices)).await,
        before_devices
    );
    let by_donor =
        ListQuery::all(Collection::Devices).filter(Field::DeviceDonor, Op::Eq(Value::Int(1)));
    assert_eq!(count(&s, by_donor).await, 0);
    // The donor is not referenced, so it can go.
    commit(
        &s,
        vec![Change::Delete {
            key: RecordKey::Donor(DonorId(1)),
            expected_version: 1,
        }],
    )
    .await
    .expect("no dangling reverse reference");
}

#[tokio::test]
async fn counters_follow_updates_and_deletes() {
    let s = MemoryStore::new();
    let mut changes = Vec::new();
    for i in 0..30u128 {
        let mut d = device(i, &format!("S{i}"));
        d.make = if i % 3 == 0 {
            "Acme".into()
        } else {
            "Dell".into()
        };
        changes.push(ins(r(d)));
    }
    commit(&s, changes).await.expect("insert");
    let make = |m: &str| {
        ListQuery::all(Collection::Devices).filter(Field::DeviceMake, Op::Eq(Value::Text(m.into())))
    };
    assert_eq!(count(&s, make("Acme")).await, 10);
    assert_eq!(count(&s, make("Dell")).await, 20);
    let mut d = device(1, "S1");
    d.make = "Acme".into();
    d.version = 2;
    commit(
        &s,
        vec![
            Change::Update {
                record: r(d),
                expected_version: 1,
            },
            Change::Delete {
                key: RecordKey::Device(device_id(0)),
                expected_version: 1,
            },
            Change::Delete {
                key: RecordKey::Device(device_id(2)),
                expected_version: 1,
            },
        ],
    )
    .await
    .expect("changes");
    assert_eq!(count(&s, make("Acme")).await, 10);
    assert_eq!(count(&s, make("Dell")).await, 18);
    assert_eq!(count(&s, ListQuery::all(Collection::Devices)).await, 28);
    let in_q = ListQuery::all(Collection::Devices).filter(
        Field::DeviceMake,
        Op::In(vec![
            Value::Text("Acme".into()),
            Value::Text("Dell".into()),
            Value::Null,
            Value::Text("Acme".into()),
        ]),
    );
    assert_eq!(count(&s, in_q).await, 28);
}

#[tokio::test]
async fn next_id_is_monotonic_and_skips_explicit_ids() {
    let s = MemoryStore::new();
    assert_eq!(s.next_id(IdKind::Donor).await.expect("id"), 1);
    assert_eq!(s.next_id(IdKind::Donor).await.expect("id"), 2);
    assert_eq!(s.next_id(IdKind::Location).await.expect("id"), 1);
    commit(&s, vec![ins(r(donor(10, "a@example.org")))])
        .await
        .expect("explicit id");
    assert_eq!(s.next_id(IdKind::Donor).await.expect("id"), 11);
    // A failed commit does not advance the counter...
    let e = commit(
        &s,
        vec![
            ins(r(donor(50, "b@example.org"))),
            ins(r(donor(10, "c@example.org"))),
        ],
    )
    .await;
    assert!(e.is_err());
    assert_eq!(s.next_id(IdKind::Donor).await.expect("id"), 12);
    // ...and a lower explicit id leaves it alone; deleting the highest id does not reuse it.
    commit(&s, vec![ins(r(donor(5, "d@example.org")))])
        .await
        .expect("lower id");
    commit(
        &s,
        vec![Change::Delete {
            key: RecordKey::Donor(DonorId(10)),
            expected_version: 1,
        }],
    )
    .await
    .expect("del");
    assert_eq!(s.next_id(IdKind::Donor).await.expect("id"), 13);
}

/// An engine that outlives the store, so a store can be reopened on the same data.
#[derive(Clone, Default)]
struct Shared(Arc<MemoryEngine>);

#[async_trait]
impl KvEngine for Shared {
    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.0.get(key)
    }
    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        self.0.scan(start, end, reverse, visit)
    }
    fn apply(&self, batch: KvBatch) -> StoreResult<()> {
        self.0.apply(batch)
    }
}

#[tokio::test]
async fn ids_survive_reopen_and_versions_are_checked() {
    let engine = Shared::default();
    {
        let s = KvStore::new(engine.clone()).expect("open");
        assert_eq!(s.next_id(IdKind::Audit).await.expect("id"), 1);
        s.commit(set(vec![ins(r(audit(7)))])).await.expect("audit");
    }
    let s = KvStore::new(engine.clone()).expect("reopen");
    assert_eq!(s.next_id(IdKind::Audit).await.expect("id"), 8);
    assert!(
        s.get(RecordKey::Audit(rehome_core::AuditId(7)))
            .await
            .expect("get")
            .is_some()
    );
    drop(s);

    // A newer format is refused with a message that says so.
    engine
        .apply(KvBatch {
            ops: vec![KvOp::Put(vec![0, b'v'], 3u32.to_be_bytes().to_vec())],
        })
        .expect("put");
    match KvStore::new(engine.clone()) {
        Err(StoreError::Corrupt(msg)) => assert!(msg.contains("newer"), "{msg}"),
        other => panic!("expected Corrupt, got {:?}", other.map(|_| ())),
    }
    // Data without a version is not ours.
    let foreign = MemoryEngine::new();
    foreign
        .apply(KvBatch {
            ops: vec![KvOp::Put(b"hello".to_vec(), b"world".to_vec())],
        })
        .expect("put");
    assert!(matches!(KvStore::new(foreign), Err(StoreError::Corrupt(_))));
}

/// A store of format 1 (before sanitization evidence) opens, is upgraded to format 2 in place,
/// and its devices read with no IMEI and as "no evidence recorded".
#[tokio::test]
async fn a_format_1_store_is_upgraded_and_its_devices_have_no_evidence() {
    let engine = Shared::default();
    {
        let s = KvStore::new(engine.clone()).expect("open");
        let mut d = device(1, "S1");
        d.status = rehome_core::DeviceStatus::Wiped;
        s.commit(set(vec![ins(r(d))])).await.expect("device");
    }
    // Make it what format 1 wrote: version 1, and device JSON without the new fields.
    let mut records = Vec::new();
    engine
        .scan(b"r", Some(b"s"), false, &mut |k, v| {
            records.push((k.to_vec(), v.to_vec()));
            true
        })
        .expect("scan");
    assert_eq!(records.len(), 1);
    let (key, value) = &records[0];
    let mut json: serde_json::Value = serde_json::from_slice(value).expect("record JSON");
    let fields = json["record"].as_object_mut().expect("device object");
    for f in [
        "imei",
        "no_media",
        "locks",
        "sample",
        "no_evidence_recorded",
        "recycling",
    ] {
        assert!(fields.remove(f).is_some(), "{f} was written");
    }
    engine
        .apply(KvBatch {
            ops: vec![
                KvOp::Put(key.clone(), serde_json::to_vec(&json).expect("JSON")),
                KvOp::Put(vec![0, b'v'], 1u32.to_be_bytes().to_vec()),
            ],
        })
        .expect("put");

    let s = KvStore::new(engine.clone()).expect("a format 1 store opens");
    assert_eq!(
        engine.get(&[0, b'v']).expect("get"),
        Some(2u32.to_be_bytes().to_vec()),
        "upgraded to format 2"
    );
    match s.get(RecordKey::Device(device_id(1))).await.expect("get") {
        Some(Record::Device(d)) => {
            assert!(d.no_evidence_recorded);
            assert_eq!(d.imei, "");
            assert!(!d.no_media);
            assert!(d.locks.is_empty());
            assert_eq!(d.status, rehome_core::DeviceStatus::Wiped);
        }
        other => panic!("expected the device, got {other:?}"),
    }
    // And it takes format 2's records: an IMEI, media.
    let mut d2 = device(2, "S2");
    d2.imei = "490154203237518".into();
    s.commit(set(vec![ins(r(d2))]))
        .await
        .expect("a device with an IMEI");
    let holder = s
        .get_by_unique(&UniqueField::DeviceImei.key("490154203237518"))
        .await
        .expect("by IMEI");
    assert_eq!(
        holder.map(|h| h.key()),
        Some(RecordKey::Device(device_id(2)))
    );
}

#[tokio::test]
async fn scan_pages_in_key_order() {
    let s = MemoryStore::new();
    let ids = [5u128, 1, 9, 3, 7];
    commit(
        &s,
        ids.iter()
            .map(|i| ins(r(device(*i, &format!("S{i}")))))
            .collect(),
    )
    .await
    .expect("ins");
    commit(&s, vec![ins(r(donor(1, "a@x"))), ins(r(donor(-4, "b@x")))])
        .await
        .expect("donors");
    let first = s.scan(Collection::Devices, None, 2).await.expect("scan");
    let keys: Vec<_> = first.iter().map(Record::key).collect();
    assert_eq!(
        keys,
        vec![
            RecordKey::Device(device_id(1)),
            RecordKey::Device(device_id(3))
        ]
    );
    let rest = s
        .scan(Collection::Devices, keys.last().copied(), 10)
        .await
        .expect("scan");
    let keys: Vec<_> = rest.iter().map(Record::key).collect();
    assert_eq!(keys, [5u128, 7, 9].map(|i| RecordKey::Device(device_id(i))));
    let donors = s.scan(Collection::Donors, None, 10).await.expect("scan");
    let keys: Vec<_> = donors.iter().map(Record::key).collect();
    assert_eq!(
        keys,
        vec![RecordKey::Donor(DonorId(-4)), RecordKey::Donor(DonorId(1))]
    );
}

#[test]
fn fifty_concurrent_inserts_of_one_serial() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let s = Arc::new(MemoryStore::new());
        let tasks: Vec<_> = (0..50u128)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move { s.commit(set(vec![ins(r(device(i, "SAME")))])).await })
            })
            .collect();
        let mut ok = 0;
        let mut unique = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(()) => ok += 1,
                Err(StoreError::Conflict {
                    conflict: Conflict::Unique(k),
                    index: 0,
                }) => {
                    assert_eq!(k, UniqueField::DeviceSerialNumber.key("SAME"));
                    unique += 1;
                }
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        assert_eq!((ok, unique), (1, 49));
        assert_eq!(count(&*s, ListQuery::all(Collection::Devices)).await, 1);
    });
}
