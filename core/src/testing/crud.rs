//! Create, read, update and delete of every collection, and scan order and paging (integer,
//! UUID and digest keys).

use std::sync::Arc;

use crate::ids::{Digest, LocationId, ShipmentId, UserId};
use crate::model::{DeviceStatus, Money};
use crate::permission::{Permission, Permissions};
use crate::query::{Collection, ListQuery};
use crate::store::{Change, ChangeSet, Conflict, Record, RecordKey, Store, UniqueField, UniqueKey};

use super::StoreFactory;
use super::assert::{compare_pages, conflict, invalid, keys, not_found, ok, same_record};
use super::fixtures::{
    audit, credentials, date, device, device_id, digest, donor, full_device, inserts, location,
    mfa_challenge, now_plus, role, session, shipment, throttle, ts, user, world,
};
use super::model::Model;

/// One collection's round trip: the records, and the unique lookups that must (or must not)
/// find them, all written by hand.
struct Crud {
    what: &'static str,
    setup: Vec<Record>,
    original: Record,
    /// Lookups that find `original` (case variants included for case-insensitive keys).
    finds_original: Vec<UniqueKey>,
    updated: Record,
    /// Lookups that find `updated`.
    finds_updated: Vec<UniqueKey>,
    /// Lookups that find nothing once `updated` replaced `original`, nor after the delete.
    finds_nothing_after_update: Vec<UniqueKey>,
    /// Lookups that never find anything.
    finds_nothing: Vec<UniqueKey>,
}

async fn round_trip(factory: &dyn StoreFactory, c: Crud) {
    let what = c.what;
    let store = factory.open().await;
    ok(store.ping().await, &format!("{what}: ping"));
    ok(
        store.commit(inserts(c.setup.clone())).await,
        &format!("{what}: setup"),
    );
    let key = c.original.key();
    let collection = key.collection();
    let mut model = Model::with(c.setup.clone());

    same_record(
        store.get(key).await,
        None,
        &format!("{what}: get before insert"),
    );
    let insert = inserts(vec![c.original.clone()]);
    ok(
        store.commit(insert.clone()).await,
        &format!("{what}: insert"),
    );
    model.apply(&insert);
    same_record(
        store.get(key).await,
        Some(&c.original),
        &format!("{what}: get after insert"),
    );
    for k in &c.finds_original {
        same_record(
            store.get_by_unique(k).await,
            Some(&c.original),
            &format!("{what}: get_by_unique({k:?}) after insert"),
        );
    }
    for k in &c.finds_nothing {
        same_record(
            store.get_by_unique(k).await,
            None,
            &format!("{what}: get_by_unique({k:?}) after insert"),
        );
    }
    same_content(
        store.as_ref(),
        &model,
        collection,
        &format!("{what}: after insert"),
    )
    .await;

    let v1 = c.original.version();
    let v2 = c.updated.version();
    let update = ChangeSet {
        changes: vec![Change::Update {
            record: c.updated.clone(),
            expected_version: v1,
        }],
    };
    ok(
        store.commit(update.clone()).await,
        &format!("{what}: update"),
    );
    model.apply(&update);
    same_record(
        store.get(key).await,
        Some(&c.updated),
        &format!("{what}: get after update"),
    );
    for k in &c.finds_updated {
        same_record(
            store.get_by_unique(k).await,
            Some(&c.updated),
            &format!("{what}: get_by_unique({k:?}) after update"),
        );
    }
    for k in c.finds_nothing_after_update.iter().chain(&c.finds_nothing) {
        same_record(
            store.get_by_unique(k).await,
            None,
            &format!("{what}: get_by_unique({k:?}) after update"),
        );
    }
    same_content(
        store.as_ref(),
        &model,
        collection,
        &format!("{what}: after update"),
    )
    .await;

    // The version read before the update is stale now, for updates and deletes alike.
    let stale = Conflict::Version {
        key,
        expected: v1,
        actual: v2,
    };
    conflict(
        store
            .commit(ChangeSet {
                changes: vec![Change::Update {
                    record: c.original.clone(),
                    expected_version: v1,
                }],
            })
            .await,
        0,
        stale.clone(),
        &format!("{what}: update with the stale version"),
    );
    conflict(
        store
            .commit(ChangeSet {
                changes: vec![Change::Delete {
                    key,
                    expected_version: v1,
                }],
            })
            .await,
        0,
        stale,
        &format!("{what}: delete with the stale version"),
    );
    same_record(
        store.get(key).await,
        Some(&c.updated),
        &format!("{what}: get after refused stale writes"),
    );

    let delete = ChangeSet {
        changes: vec![Change::Delete {
            key,
            expected_version: v2,
        }],
    };
    ok(
        store.commit(delete.clone()).await,
        &format!("{what}: delete"),
    );
    model.apply(&delete);
    same_record(
        store.get(key).await,
        None,
        &format!("{what}: get after delete"),
    );
    for k in c
        .finds_updated
        .iter()
        .chain(&c.finds_original)
        .chain(&c.finds_nothing)
    {
        same_record(
            store.get_by_unique(k).await,
            None,
            &format!("{what}: get_by_unique({k:?}) after delete"),
        );
    }
    same_content(
        store.as_ref(),
        &model,
        collection,
        &format!("{what}: after delete"),
    )
    .await;
    not_found(
        store.commit(delete.clone()).await,
        0,
        key,
        &format!("{what}: deleting again"),
    );
    not_found(
        store
            .commit(ChangeSet {
                changes: vec![Change::Update {
                    record: c.updated.clone(),
                    expected_version: v2,
                }],
            })
            .await,
        0,
        key,
        &format!("{what}: updating the deleted record"),
    );

    // The key and the unique keys are free again.
    ok(
        store.commit(insert).await,
        &format!("{what}: inserting the deleted record again"),
    );
    same_record(
        store.get(key).await,
        Some(&c.original),
        &format!("{what}: get after inserting again"),
    );
}

/// Compares a collection's full scan and full list with the model.
async fn same_content(store: &dyn Store, model: &Model, c: Collection, what: &str) {
    let want = model.scan(c);
    let got = ok(store.scan(c, None, 1000).await, &format!("{what}: scan"));
    if got != want {
        panic!(
            "{what}: scan of {c:?}: expected {:?}, got {:?}\n(expected records {}\n got {})",
            keys(&want),
            keys(&got),
            super::assert::plain(&want),
            super::assert::plain(&got)
        );
    }
    let q = ListQuery::all(c).with_count();
    let got = ok(store.list(&q).await, &format!("{what}: list"));
    if let Err(e) = compare_pages(&q, &got, &model.list(&q)) {
        panic!("{what}: {e}");
    }
}

/// Devices: every field set (money, dates, shipments, references), then changed and cleared.
pub async fn check_crud_devices(factory: &dyn StoreFactory) {
    let original = full_device(0xA1, "SN-ÄÖÜ-001");
    let mut updated = original.clone();
    updated.serial_number = "SN-002".to_owned();
    updated.mac_id = String::new();
    updated.status = DeviceStatus::Ready;
    updated.value = Money::from_cents(0);
    updated.donor = None;
    updated.date_received = None;
    updated.year_of_manufacture = Some(1970);
    updated.received_by = Some(UserId(2));
    updated.shipping_infos = vec![ShipmentId(2)];
    updated.notes = String::new();
    updated.updated_at = now_plus(1_000_000);
    updated.version = 2;
    round_trip(
        factory,
        Crud {
            what: "devices",
            setup: world(),
            finds_original: vec![
                UniqueField::DeviceSerialNumber.key("SN-ÄÖÜ-001"),
                UniqueField::DeviceMacId.key(&original.mac_id),
            ],
            finds_updated: vec![UniqueField::DeviceSerialNumber.key("SN-002")],
            finds_nothing_after_update: vec![
                UniqueField::DeviceSerialNumber.key("SN-ÄÖÜ-001"),
                UniqueField::DeviceMacId.key(&original.mac_id),
            ],
            finds_nothing: vec![
                // Serial numbers and MACs are exact: another case is another key.
                UniqueField::DeviceSerialNumber.key("sn-äöü-001"),
                UniqueField::DeviceMacId.key(&original.mac_id.to_uppercase()),
                // An empty MAC holds no key.
                UniqueField::DeviceMacId.key(""),
            ],
            original: Record::Device(original),
            updated: Record::Device(updated),
        },
    )
    .await;
}

/// Locations: address and phone keys; clearing the phone frees its key.
pub async fn check_crud_locations(factory: &dyn StoreFactory) {
    let mut original = location(7, "Unter den Linden 1, 10117 Berlin");
    original.name = "Lager Süd".to_owned();
    original.location_type = "Warehouse".to_owned();
    original.country = "Deutschland".to_owned();
    original.city = "Berlin".to_owned();
    original.postal_code = "10117".to_owned();
    original.phone = "+49 30 1234567".to_owned();
    original.created_at = now_plus(-5);
    original.updated_at = now_plus(5);
    let mut updated = original.clone();
    updated.address = "Karl-Marx-Allee 2".to_owned();
    updated.phone = String::new();
    updated.city = "Berlin-Mitte".to_owned();
    updated.updated_at = now_plus(9);
    updated.version = 2;
    round_trip(
        factory,
        Crud {
            what: "locations",
            setup: Vec::new(),
            finds_original: vec![
                UniqueField::LocationAddress.key("Unter den Linden 1, 10117 Berlin"),
                UniqueField::LocationPhone.key("+49 30 1234567"),
            ],
            finds_updated: vec![UniqueField::LocationAddress.key("Karl-Marx-Allee 2")],
            finds_nothing_after_update: vec![
                UniqueField::LocationAddress.key("Unter den Linden 1, 10117 Berlin"),
                UniqueField::LocationPhone.key("+49 30 1234567"),
            ],
            finds_nothing: vec![
                UniqueField::LocationAddress.key("unter den linden 1, 10117 berlin"),
                UniqueField::LocationPhone.key(""),
            ],
            original: Record::Location(original),
            updated: Record::Location(updated),
        },
    )
    .await;
}

/// Donors: the email key is exact (another case is another key).
pub async fn check_crud_donors(factory: &dyn StoreFactory) {
    let mut original = donor(3, "Grüße@Example.org");
    original.name = "Zoë Ünal".to_owned();
    original.contact_info = "Mo–Fr 9–17\nnot on Sundays".to_owned();
    original.address = "Rue de l'Église 3".to_owned();
    original.phone = "+33 1 23 45 67 89".to_owned();
    let mut updated = original.clone();
    updated.email = "zoe@example.org".to_owned();
    updated.name = "Zoë Ünal-Schmidt".to_owned();
    updated.updated_at = now_plus(77);
    updated.version = 2;
    round_trip(
        factory,
        Crud {
            what: "donors",
            setup: Vec::new(),
            finds_original: vec![UniqueField::DonorEmail.key("Grüße@Example.org")],
            finds_updated: vec![UniqueField::DonorEmail.key("zoe@example.org")],
            finds_nothing_after_update: vec![UniqueField::DonorEmail.key("Grüße@Example.org")],
            finds_nothing: vec![
                UniqueField::DonorEmail.key("grüße@example.org"),
                UniqueField::DonorEmail.key("ZOE@EXAMPLE.ORG"),
            ],
            original: Record::Donor(original),
            updated: Record::Donor(updated),
        },
    )
    .await;
}

/// Shipments: nullable destination and delivery date, set and cleared.
pub async fn check_crud_shipments(factory: &dyn StoreFactory) {
    let mut original = shipment(9);
    original.destination = Some(LocationId(2));
    original.tracking_identifier = "1Z999AA1_0123%456\\7".to_owned();
    original.date_shipped = date(2024, 2, 29);
    let mut updated = original.clone();
    updated.destination = None;
    updated.arrived = true;
    updated.date_delivered = Some(date(2024, 3, 1));
    updated.updated_at = now_plus(3);
    updated.version = 2;
    round_trip(
        factory,
        Crud {
            what: "shipments",
            setup: world(),
            finds_original: Vec::new(),
            finds_updated: Vec::new(),
            finds_nothing_after_update: Vec::new(),
            finds_nothing: Vec::new(),
            original: Record::Shipment(original),
            updated: Record::Shipment(updated),
        },
    )
    .await;
}

/// Users: role, permissions, last login, MFA flag; username and email found in any case.
pub async fn check_crud_users(factory: &dyn StoreFactory) {
    let mut original = user(12, "Straße", "Ärger@Example.COM");
    original.role = Some("Volunteer".to_owned());
    original.first_name = "Jürgen".to_owned();
    original.last_name = "O'Brien".to_owned();
    original.is_superuser = true;
    original.is_active = false;
    original.permissions = [Permission::ManageUsers, Permission::ViewAuditLog]
        .into_iter()
        .collect();
    original.last_login = Some(now_plus(-1));
    original.mfa_enabled = true;
    original.must_change_password = true;
    let mut updated = original.clone();
    updated.username = "Alice".to_owned();
    updated.email = "alice@example.org".to_owned();
    updated.role = None;
    updated.is_active = true;
    updated.permissions = Permissions::all();
    updated.last_login = None;
    updated.mfa_enabled = false;
    updated.must_change_password = false;
    updated.updated_at = now_plus(8);
    updated.version = 2;
    let username = UniqueField::UserUsername;
    let email = UniqueField::UserEmail;
    round_trip(
        factory,
        Crud {
            what: "users",
            setup: world(),
            finds_original: vec![
                username.key("Straße"),
                username.key("STRASSE"),
                username.key("strasse"),
                username.key("STRAẞE"),
                email.key("Ärger@Example.COM"),
                email.key("ärger@example.com"),
                email.key("ÄRGER@EXAMPLE.COM"),
            ],
            finds_updated: vec![
                username.key("Alice"),
                username.key("ALICE"),
                username.key("alice"),
                email.key("Alice@Example.org"),
            ],
            finds_nothing_after_update: vec![
                username.key("strasse"),
                email.key("ärger@example.com"),
            ],
            finds_nothing: vec![username.key("Strase"), email.key("arger@example.com")],
            original: Record::User(original),
            updated: Record::User(updated),
        },
    )
    .await;
}

/// Roles: the name key is exact; permissions round trip.
pub async fn check_crud_roles(factory: &dyn StoreFactory) {
    let mut original = role(5, "Warehouse Lead");
    original.description = "Runs the warehouse — all of it".to_owned();
    original.permissions = [
        Permission::ManageWarehouses,
        Permission::ReadDevices,
        Permission::GenerateQrCodes,
    ]
    .into_iter()
    .collect();
    let mut updated = original.clone();
    updated.name = "Warehouse Manager".to_owned();
    updated.permissions = Permissions::empty();
    updated.updated_at = now_plus(4);
    updated.version = 2;
    round_trip(
        factory,
        Crud {
            what: "roles",
            setup: Vec::new(),
            finds_original: vec![UniqueField::RoleName.key("Warehouse Lead")],
            finds_updated: vec![UniqueField::RoleName.key("Warehouse Manager")],
            finds_nothing_after_update: vec![UniqueField::RoleName.key("Warehouse Lead")],
            finds_nothing: vec![UniqueField::RoleName.key("warehouse lead")],
            original: Record::Role(original),
            updated: Record::Role(updated),
        },
    )
    .await;
}

/// Audit events: inserted and read back whole (changes JSON included); never updated or
/// deleted. The actor is not a reference: an event may name a user that does not exist.
pub async fn check_crud_audit(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let mut event = audit(3, "device.update");
    event.actor = Some(UserId(42));
    event.actor_username = Some("Zoë".to_owned());
    event.object_type = "device".to_owned();
    event.object_id = device_id(0xA1).to_string();
    event.ip = Some("2001:db8::1".to_owned());
    event.changes = serde_json::json!({
        "notes": ["", "Straße 100% \\ _"],
        "value": [null, "416.69"],
        "nested": {"list": [1, 2.5, true, false, null], "ü": {}},
    });
    let mut other = audit(1, "auth.login_failed");
    other.timestamp = now_plus(-10);
    ok(
        store
            .commit(inserts(vec![
                Record::Audit(event.clone()),
                Record::Audit(other.clone()),
            ]))
            .await,
        "audit: insert",
    );
    let key = RecordKey::Audit(event.id);
    same_record(
        store.get(key).await,
        Some(&Record::Audit(event.clone())),
        "audit: get",
    );
    let model = Model::with([Record::Audit(event.clone()), Record::Audit(other)]);
    same_content(store.as_ref(), &model, Collection::Audit, "audit").await;

    let mut changed = event.clone();
    changed.action = "device.delete".to_owned();
    invalid(
        store
            .commit(ChangeSet {
                changes: vec![Change::Update {
                    record: Record::Audit(changed),
                    expected_version: 1,
                }],
            })
            .await,
        0,
        "audit: update",
    );
    invalid(
        store
            .commit(ChangeSet {
                changes: vec![Change::Delete {
                    key,
                    expected_version: 1,
                }],
            })
            .await,
        0,
        "audit: delete",
    );
    same_content(
        store.as_ref(),
        &model,
        Collection::Audit,
        "audit: after refused changes",
    )
    .await;
}

/// Scans return one collection in ascending key order (numeric for integer ids, byte order for
/// device UUIDs), page correctly with `after` (also after a key that no longer or never
/// existed), and honour `limit`.
pub async fn check_scan_order_and_paging(factory: &dyn StoreFactory) {
    let store: Arc<dyn Store> = factory.open().await;
    // Orders that differ between numeric, decimal-text and little-endian byte comparison.
    let location_ids: [i64; 16] = [
        5,
        1,
        100,
        9,
        10,
        2,
        1_000_000_007,
        11,
        99,
        3,
        4_294_967_296,
        4_294_967_295,
        255,
        256,
        65_535,
        65_536,
    ];
    let device_ns: [u128; 10] = [
        0x01,
        0xff,
        0x100,
        1 << 127,
        (1 << 127) - 1,
        u128::MAX - 5,
        0x0a,
        0x80 << 112,
        0x7f << 120,
        0xdead_beef,
    ];
    let mut records: Vec<Record> = location_ids
        .iter()
        .map(|&id| Record::Location(location(id, &format!("Address {id}"))))
        .collect();
    records.extend(
        device_ns
            .iter()
            .map(|&n| Record::Device(device(n, &format!("S{n:x}")))),
    );
    // Records of other collections with the same integer ids must not show up.
    records.extend([
        Record::Donor(donor(5, "five@example.org")),
        Record::Donor(donor(10, "ten@example.org")),
        Record::Role(role(1, "one")),
        Record::Shipment(shipment(100)),
    ]);
    ok(store.commit(inserts(records.clone())).await, "scan: insert");
    let mut model = Model::with(records);

    for c in [
        Collection::Locations,
        Collection::Devices,
        Collection::Donors,
    ] {
        let want = model.keys(c);
        for size in [1, 3, 7, 100] {
            let got = scan_in_pages(store.as_ref(), c, None, size).await;
            if got != want {
                panic!("scan of {c:?} in pages of {size}: expected {want:?}, got {got:?}");
            }
        }
        let all = ok(
            store.scan(c, None, usize::MAX).await,
            "scan with usize::MAX",
        );
        let all: Vec<RecordKey> = all.iter().map(Record::key).collect();
        if all != want {
            panic!("scan of {c:?} with limit usize::MAX: expected {want:?}, got {all:?}");
        }
        let none = ok(store.scan(c, None, 0).await, "scan with limit 0");
        if !none.is_empty() {
            panic!("scan of {c:?} with limit 0 returned {:?}", keys(&none));
        }
        let last = want.last().copied();
        let after_last = ok(store.scan(c, last, 10).await, "scan after the last key");
        if !after_last.is_empty() {
            panic!(
                "scan of {c:?} after the last key {last:?} returned {:?}",
                keys(&after_last)
            );
        }
    }

    // After a key that never existed (6) and one just deleted (10).
    let got = scan_in_pages(
        store.as_ref(),
        Collection::Locations,
        Some(RecordKey::Location(LocationId(6))),
        2,
    )
    .await;
    let want: Vec<RecordKey> = [
        9,
        10,
        11,
        99,
        100,
        255,
        256,
        65_535,
        65_536,
        1_000_000_007,
        4_294_967_295,
        4_294_967_296,
    ]
    .map(|id| RecordKey::Location(LocationId(id)))
    .to_vec();
    if got != want {
        panic!("scan of locations after location 6 (never stored): expected {want:?}, got {got:?}");
    }
    let delete = ChangeSet {
        changes: vec![Change::Delete {
            key: RecordKey::Location(LocationId(10)),
            expected_version: 1,
        }],
    };
    ok(
        store.commit(delete.clone()).await,
        "scan: delete location 10",
    );
    model.apply(&delete);
    let got = ok(
        store
            .scan(
                Collection::Locations,
                Some(RecordKey::Location(LocationId(10))),
                3,
            )
            .await,
        "scan after a deleted key",
    );
    let got: Vec<RecordKey> = got.iter().map(Record::key).collect();
    let want: Vec<RecordKey> = [11, 99, 100]
        .map(|id| RecordKey::Location(LocationId(id)))
        .to_vec();
    if got != want {
        panic!(
            "scan of locations after deleted location 10, limit 3: expected {want:?}, got {got:?}"
        );
    }
}

async fn scan_in_pages(
    store: &dyn Store,
    c: Collection,
    mut after: Option<RecordKey>,
    size: usize,
) -> Vec<RecordKey> {
    let mut out = Vec::new();
    loop {
        let page = ok(store.scan(c, after, size).await, "scan page");
        if page.len() > size {
            panic!(
                "scan of {c:?} with limit {size} returned {} records",
                page.len()
            );
        }
        if let Some(r) = page.iter().find(|r| r.collection() != c) {
            panic!("scan of {c:?} returned {:?} of another collection", r.key());
        }
        out.extend(page.iter().map(Record::key));
        if page.len() < size {
            return out;
        }
        after = page.last().map(Record::key);
        if out.len() > 10_000 {
            panic!("scan of {c:?} does not end (pages of {size})");
        }
    }
}

/// Ten recovery-code digests in no particular order (the store keeps the order written).
fn recovery_codes() -> Vec<Digest> {
    let mut codes: Vec<Digest> = (0..7)
        .map(|i| Digest::of(&format!("recovery-code-{i}")))
        .collect();
    codes.extend([digest(0xff, 0xff), digest(0, 0), digest(0x80, 0x01)]);
    codes.swap(0, 8);
    codes
}

/// Credentials: every optional set and cleared, and the other way round; ten recovery-code
/// digests kept in the order written; `totp_last_step` up to
/// [`TOTP_STEP_MAX`](super::fixtures::TOTP_STEP_MAX) (2^53) and its odd neighbour. The key is
/// the user, which must exist.
pub async fn check_crud_credentials(factory: &dyn StoreFactory) {
    use super::fixtures::TOTP_STEP_MAX;
    let mut full = credentials(2);
    full.password_hash = Some(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$K+/9aGFzaGhhc2hoYXNoaGFzaA==".to_owned(),
    );
    full.totp_secret = Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".to_owned());
    full.totp_enabled = true;
    full.totp_last_step = Some(TOTP_STEP_MAX);
    full.recovery_codes = recovery_codes();
    full.updated_at = now_plus(11);
    let mut cleared = credentials(2);
    cleared.updated_at = now_plus(12);
    cleared.version = 2;
    round_trip(
        factory,
        Crud {
            what: "credentials (set, then cleared)",
            setup: world(),
            original: Record::Credentials(full.clone()),
            finds_original: Vec::new(),
            updated: Record::Credentials(cleared),
            finds_updated: Vec::new(),
            finds_nothing_after_update: Vec::new(),
            finds_nothing: Vec::new(),
        },
    )
    .await;

    let mut empty = credentials(1);
    empty.updated_at = ts(-1);
    let mut set = full;
    set.user = UserId(1);
    set.totp_last_step = Some(TOTP_STEP_MAX - 1);
    set.recovery_codes = vec![Digest::of("the last code")];
    set.updated_at = now_plus(13);
    set.version = 2;
    round_trip(
        factory,
        Crud {
            what: "credentials (empty, then set)",
            setup: world(),
            original: Record::Credentials(empty),
            finds_original: Vec::new(),
            updated: Record::Credentials(set),
            finds_updated: Vec::new(),
            finds_nothing_after_update: Vec::new(),
            finds_nothing: Vec::new(),
        },
    )
    .await;
}

/// Login sessions: every field, the client address set and cleared (and the other way round),
/// the user changed, the expiry at the end of year 9999 and timestamps with microseconds.
pub async fn check_crud_sessions(factory: &dyn StoreFactory) {
    let mut full = session(digest(0xff, 0x01), 1);
    full.created_at = now_plus(-7);
    full.expires_at = ts(253_402_300_799_999_999);
    full.last_used_at = now_plus(1);
    full.ip = Some("2001:db8::1".to_owned());
    let mut moved = full.clone();
    moved.user = UserId(2);
    moved.last_used_at = now_plus(60_000_001);
    moved.ip = None;
    moved.version = 2;
    round_trip(
        factory,
        Crud {
            what: "sessions (address set, then cleared)",
            setup: world(),
            original: Record::Session(full),
            finds_original: Vec::new(),
            updated: Record::Session(moved),
            finds_updated: Vec::new(),
            finds_nothing_after_update: Vec::new(),
            finds_nothing: Vec::new(),
        },
    )
    .await;

    let plain = session(digest(0x00, 0x00), 2);
    let mut used = plain.clone();
    used.last_used_at = now_plus(59_999_999);
    used.expires_at = now_plus(1);
    used.ip = Some("203.0.113.7".to_owned());
    used.version = 2;
    round_trip(
        factory,
        Crud {
            what: "sessions (no address, then one)",
            setup: world(),
            original: Record::Session(plain),
            finds_original: Vec::new(),
            updated: Record::Session(used),
            finds_updated: Vec::new(),
            finds_nothing_after_update: Vec::new(),
            finds_nothing: Vec::new(),
        },
    )
    .await;
}

/// MFA challenges: every field, the client address set and cleared (and the other way round),
/// `attempts_left` from `u32::MAX` down to 0 (the field is a `u32`: the whole range is kept).
pub async fn check_crud_mfa_challenges(factory: &dyn StoreFactory) {
    let mut full = mfa_challenge(digest(0x80, 0x00), 2);
    full.created_at = now_plus(-3);
    full.expires_at = now_plus(299_999_999);
    full.attempts_left = u32::MAX;
    full.ip = Some("::ffff:192.0.2.1".to_owned());
    let mut spent = full.clone();
    spent.attempts_left = 0;
    spent.ip = None;
    spent.version = 2;
    round_trip(
        factory,
        Crud {
            what: "MFA challenges (address set, then cleared)",
            setup: world(),
            original: Record::MfaChallenge(full),
            finds_original: Vec::new(),
            updated: Record::MfaChallenge(spent),
            finds_updated: Vec::new(),
            finds_nothing_after_update: Vec::new(),
            finds_nothing: Vec::new(),
        },
    )
    .await;

    let plain = mfa_challenge(digest(0x7f, 0xff), 1);
    let mut tried = plain.clone();
    tried.attempts_left = 4;
    tried.ip = Some("198.51.100.9".to_owned());
    tried.version = 2;
    round_trip(
        factory,
        Crud {
            what: "MFA challenges (no address, then one)",
            setup: world(),
            original: Record::MfaChallenge(plain),
            finds_original: Vec::new(),
            updated: Record::MfaChallenge(tried),
            finds_updated: Vec::new(),
            finds_nothing_after_update: Vec::new(),
            finds_nothing: Vec::new(),
        },
    )
    .await;
}

/// Throttles: failures (kept in the order written, an equal pair included), the lock set and
/// cleared (and the other way round), `locks` up to `u32::MAX`. They refer to nothing, so they
/// need no setup.
pub async fn check_crud_throttles(factory: &dyn StoreFactory) {
    let mut locked = throttle(digest(0x01, 0xfe));
    locked.failures = vec![
        now_plus(-3_000_000),
        now_plus(-1),
        now_plus(-1),
        now_plus(0),
        ts(0),
    ];
    locked.locked_until = Some(now_plus(900_000_001));
    locked.locks = u32::MAX;
    locked.updated_at = now_plus(0);
    let mut reset = locked.clone();
    reset.failures = Vec::new();
    reset.locked_until = None;
    reset.locks = 0;
    reset.updated_at = now_plus(5);
    reset.version = 2;
    round_trip(
        factory,
        Crud {
            what: "throttles (locked, then reset)",
            setup: Vec::new(),
            original: Record::Throttle(locked),
            finds_original: Vec::new(),
            updated: Record::Throttle(reset),
            finds_updated: Vec::new(),
            finds_nothing_after_update: Vec::new(),
            finds_nothing: Vec::new(),
        },
    )
    .await;

    let fresh = throttle(digest(0xfe, 0x01));
    let mut failing = fresh.clone();
    failing.failures = vec![now_plus(1)];
    failing.locked_until = Some(now_plus(2));
    failing.locks = 1;
    failing.updated_at = now_plus(1);
    failing.version = 2;
    round_trip(
        factory,
        Crud {
            what: "throttles (fresh, then locked)",
            setup: Vec::new(),
            original: Record::Throttle(fresh),
            finds_original: Vec::new(),
            updated: Record::Throttle(failing),
            finds_updated: Vec::new(),
            finds_nothing_after_update: Vec::new(),
            finds_nothing: Vec::new(),
        },
    )
    .await;
}

/// The digests of [`check_scan_digest_keys`], by label. Their byte order differs from the
/// order of their first byte as a signed number (`0x80` < `0x7f`), of their bytes read
/// little-endian, of their base64 text (`0xf8…` is `+…`, `0xfc…` is `/…`, both before `A…`),
/// and needs every byte (`D` and `E` differ only in the last one, `F` and `G` only in the
/// middle).
fn scan_digests() -> Vec<(&'static str, Digest)> {
    let mut middle = [0x42u8; 32];
    middle[16] = 0x00;
    let mut middle_up = middle;
    middle_up[16] = 0x01;
    vec![
        ("A", digest(0x80, 0x00)),
        ("B", digest(0x7f, 0xff)),
        ("C", digest(0xf8, 0x00)),
        ("D", digest(0x00, 0x01)),
        ("E", digest(0x00, 0x00)),
        ("F", Digest(middle_up)),
        ("G", Digest(middle)),
        ("H", digest(0xff, 0xff)),
        ("I", digest(0xfc, 0x00)),
        ("J", digest(0x0a, 0x00)),
        ("K", digest(0x10, 0x00)),
        ("L", digest(0x01, 0x00)),
    ]
}

/// Digest-keyed collections (sessions, MFA challenges, throttles) scan in ascending byte order
/// of the digest, and credentials in ascending user id; each pages correctly with `after` (also
/// after a key never stored and one just deleted) and holds only its own records although the
/// three digest collections share keys.
pub async fn check_scan_digest_keys(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let digests = scan_digests();
    let user_ids: [i64; 6] = [256, 10, 1, 4_294_967_296, 2, 255];
    let mut records: Vec<Record> = user_ids
        .iter()
        .map(|&id| {
            Record::User(user(
                id,
                &format!("scan-{id}"),
                &format!("{id}@example.org"),
            ))
        })
        .collect();
    records.extend(
        user_ids
            .iter()
            .map(|&id| Record::Credentials(credentials(id))),
    );
    for (i, (_, d)) in digests.iter().enumerate() {
        let owner = user_ids[i % user_ids.len()];
        records.push(Record::Session(session(*d, owner)));
        records.push(Record::Throttle(throttle(*d)));
        // Challenges for every other digest, so the three collections differ.
        if i % 2 == 0 {
            records.push(Record::MfaChallenge(mfa_challenge(*d, owner)));
        }
    }
    ok(store.commit(inserts(records)).await, "scan: insert");
    let by_label = |labels: &[&str]| -> Vec<Digest> {
        labels
            .iter()
            .map(|l| {
                digests
                    .iter()
                    .find(|(n, _)| n == l)
                    .map(|(_, d)| *d)
                    .expect("a label of scan_digests")
            })
            .collect()
    };
    // Worked out by hand from `scan_digests`.
    let all = by_label(&["E", "D", "L", "J", "K", "G", "F", "B", "A", "C", "I", "H"]);
    let challenged = by_label(&["E", "K", "G", "A", "C", "I"]);
    let expected: Vec<(Collection, Vec<RecordKey>)> = vec![
        (
            Collection::Sessions,
            all.iter().map(|d| RecordKey::Session(*d)).collect(),
        ),
        (
            Collection::Throttles,
            all.iter().map(|d| RecordKey::Throttle(*d)).collect(),
        ),
        (
            Collection::MfaChallenges,
            challenged
                .iter()
                .map(|d| RecordKey::MfaChallenge(*d))
                .collect(),
        ),
        (
            Collection::Credentials,
            [1, 2, 10, 255, 256, 4_294_967_296]
                .map(|id| RecordKey::Credentials(UserId(id)))
                .to_vec(),
        ),
    ];
    for (c, want) in &expected {
        for size in [1, 2, 5, 100] {
            let got = scan_in_pages(store.as_ref(), *c, None, size).await;
            if got != *want {
                panic!("scan of {c:?} in pages of {size}: expected {want:?}, got {got:?}");
            }
        }
        let last = want.last().copied();
        let after_last = ok(store.scan(*c, last, 10).await, "scan after the last key");
        if !after_last.is_empty() {
            panic!(
                "scan of {c:?} after the last key {last:?} returned {:?}",
                keys(&after_last)
            );
        }
    }

    // After a digest never stored (0x0b…, between J and K) and after one just deleted (K).
    let got = scan_in_pages(
        store.as_ref(),
        Collection::Sessions,
        Some(RecordKey::Session(digest(0x0b, 0x00))),
        4,
    )
    .await;
    let want: Vec<RecordKey> = by_label(&["K", "G", "F", "B", "A", "C", "I", "H"])
        .into_iter()
        .map(RecordKey::Session)
        .collect();
    if got != want {
        panic!("scan of sessions after a digest never stored: expected {want:?}, got {got:?}");
    }
    let k = RecordKey::Session(digest(0x10, 0x00));
    ok(
        store
            .commit(ChangeSet {
                changes: vec![Change::Delete {
                    key: k,
                    expected_version: 1,
                }],
            })
            .await,
        "scan: delete session K",
    );
    let got = ok(
        store.scan(Collection::Sessions, Some(k), 2).await,
        "scan after a deleted digest",
    );
    let got: Vec<RecordKey> = got.iter().map(Record::key).collect();
    let want: Vec<RecordKey> = by_label(&["G", "F"])
        .into_iter()
        .map(RecordKey::Session)
        .collect();
    if got != want {
        panic!("scan of sessions after deleted session K, limit 2: expected {want:?}, got {got:?}");
    }
    // The throttle with K's digest is another record and is still there.
    let got = ok(
        store.get(RecordKey::Throttle(digest(0x10, 0x00))).await,
        "get the throttle sharing K's digest",
    );
    if got != Some(Record::Throttle(throttle(digest(0x10, 0x00)))) {
        panic!("deleting session K touched the throttle with the same digest: {got:?}");
    }
}
