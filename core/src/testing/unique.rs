//! Unique keys: every field, "unique when not empty", case-insensitive keys, updates onto taken
//! keys, and keys freed and taken again within one batch.

use crate::model::{Device, User};
use crate::store::{Record, RecordKey, Store, UniqueField, UniqueKey};

use super::StoreFactory;
use super::assert::{conflict, ok, same_record, unique};
use super::fixtures::{
    audit, changes, delete, device, donor, insert, inserts, location, role, update, user,
};

/// A key written out by hand (with its folded value for the case-insensitive fields), so the
/// expected conflicts do not depend on [`UniqueField::key`].
fn key(field: UniqueField, value: &str) -> UniqueKey {
    UniqueKey {
        field,
        value: value.to_owned(),
    }
}

fn dev(n: u128, serial: &str, mac: &str) -> Device {
    let mut d = device(n, serial);
    d.mac_id = mac.to_owned();
    d
}

fn loc(id: i64, address: &str, phone: &str) -> Record {
    let mut l = location(id, address);
    l.phone = phone.to_owned();
    Record::Location(l)
}

fn usr(id: i64, username: &str, email: &str) -> User {
    user(id, username, email)
}

/// For every unique field: a second record with a taken value is refused with that key (at the
/// right change index, leaving the batch's earlier changes undone), one with a free value is
/// accepted, and the key still finds the first holder.
pub async fn check_unique_keys_every_field(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    // (field, holder, intruder with the holder's value, intruder with a free value, key)
    let cases: Vec<(UniqueField, Record, Record, Record, UniqueKey)> = vec![
        (
            UniqueField::DeviceSerialNumber,
            Record::Device(dev(1, "SER-1", "mac-1")),
            Record::Device(dev(2, "SER-1", "mac-2")),
            Record::Device(dev(2, "SER-2", "mac-2")),
            key(UniqueField::DeviceSerialNumber, "SER-1"),
        ),
        (
            UniqueField::DeviceMacId,
            Record::Device(dev(3, "SER-3", "MAC-X")),
            Record::Device(dev(4, "SER-4", "MAC-X")),
            Record::Device(dev(4, "SER-4", "MAC-Y")),
            key(UniqueField::DeviceMacId, "MAC-X"),
        ),
        (
            UniqueField::LocationAddress,
            loc(1, "1 Main St", ""),
            loc(2, "1 Main St", ""),
            loc(2, "2 Main St", ""),
            key(UniqueField::LocationAddress, "1 Main St"),
        ),
        (
            UniqueField::LocationPhone,
            loc(3, "3 Main St", "+1 555 0100"),
            loc(4, "4 Main St", "+1 555 0100"),
            loc(4, "4 Main St", "+1 555 0101"),
            key(UniqueField::LocationPhone, "+1 555 0100"),
        ),
        (
            UniqueField::DonorEmail,
            Record::Donor(donor(1, "d@example.org")),
            Record::Donor(donor(2, "d@example.org")),
            Record::Donor(donor(2, "e@example.org")),
            key(UniqueField::DonorEmail, "d@example.org"),
        ),
        (
            UniqueField::UserUsername,
            Record::User(usr(1, "sam", "sam@example.org")),
            Record::User(usr(2, "sam", "other@example.org")),
            Record::User(usr(2, "max", "other@example.org")),
            key(UniqueField::UserUsername, "sam"),
        ),
        (
            UniqueField::UserEmail,
            Record::User(usr(3, "kim", "kim@example.org")),
            Record::User(usr(4, "lee", "kim@example.org")),
            Record::User(usr(4, "lee", "lee@example.org")),
            key(UniqueField::UserEmail, "kim@example.org"),
        ),
        (
            UniqueField::RoleName,
            Record::Role(role(1, "Admin")),
            Record::Role(role(2, "Admin")),
            Record::Role(role(2, "Staff")),
            key(UniqueField::RoleName, "Admin"),
        ),
    ];
    ok(
        store
            .commit(inserts(cases.iter().map(|c| c.1.clone()).collect()))
            .await,
        "unique: insert the holders",
    );
    for (i, (field, holder, taken, free, k)) in cases.into_iter().enumerate() {
        let what = format!("unique {field:?}");
        let marker = Record::Audit(audit(100 + i as i64, "marker"));
        conflict(
            store
                .commit(changes(vec![insert(marker.clone()), insert(taken.clone())]))
                .await,
            1,
            unique(k.clone()),
            &format!("{what}: inserting a second record with a taken value"),
        );
        same_record(
            store.get(taken.key()).await,
            None,
            &format!("{what}: the refused record"),
        );
        same_record(
            store.get(marker.key()).await,
            None,
            &format!("{what}: the change before the refused one"),
        );
        ok(
            store.commit(inserts(vec![free.clone()])).await,
            &format!("{what}: inserting a record with a free value"),
        );
        same_record(
            store.get_by_unique(&k).await,
            Some(&holder),
            &format!("{what}: get_by_unique of the taken key"),
        );
    }
}

/// Devices' MAC and locations' phone are unique only when not empty: any number of records may
/// leave them empty, an empty value is never found, and a non-empty one is unique.
pub async fn check_unique_when_not_empty(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let d1 = dev(1, "S1", "");
    let d2 = dev(2, "S2", "");
    ok(
        store
            .commit(inserts(vec![
                Record::Device(d1.clone()),
                Record::Device(d2.clone()),
                loc(1, "A1", ""),
                loc(2, "A2", ""),
            ]))
            .await,
        "two devices and two locations with empty MAC / phone",
    );
    ok(
        store
            .commit(inserts(vec![
                Record::Device(dev(3, "S3", "")),
                loc(3, "A3", ""),
            ]))
            .await,
        "a third empty MAC / phone in a later batch",
    );
    same_record(
        store
            .get_by_unique(&key(UniqueField::DeviceMacId, ""))
            .await,
        None,
        "get_by_unique of an empty MAC",
    );
    same_record(
        store
            .get_by_unique(&key(UniqueField::LocationPhone, ""))
            .await,
        None,
        "get_by_unique of an empty phone",
    );

    let mut d1v2 = d1.clone();
    d1v2.mac_id = "m1".to_owned();
    d1v2.version = 2;
    ok(
        store
            .commit(changes(vec![update(Record::Device(d1v2.clone()), 1)]))
            .await,
        "setting device 1's MAC",
    );
    let mut d2v2 = d2.clone();
    d2v2.mac_id = "m1".to_owned();
    d2v2.version = 2;
    conflict(
        store
            .commit(changes(vec![update(Record::Device(d2v2.clone()), 1)]))
            .await,
        0,
        unique(key(UniqueField::DeviceMacId, "m1")),
        "giving device 2 device 1's MAC",
    );
    let mut d1v3 = d1v2.clone();
    d1v3.mac_id = String::new();
    d1v3.version = 3;
    ok(
        store
            .commit(changes(vec![update(Record::Device(d1v3), 2)]))
            .await,
        "clearing device 1's MAC",
    );
    ok(
        store
            .commit(changes(vec![update(Record::Device(d2v2.clone()), 1)]))
            .await,
        "giving device 2 the MAC device 1 gave up",
    );
    same_record(
        store
            .get_by_unique(&key(UniqueField::DeviceMacId, "m1"))
            .await,
        Some(&Record::Device(d2v2)),
        "get_by_unique of the moved MAC",
    );
}

/// Usernames and emails of users compare folded (full Unicode folding), every other unique key
/// compares exactly; a user may change the case of its own username.
pub async fn check_unique_case_insensitive(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let alice = usr(1, "Alice", "alice@one.example");
    ok(
        store
            .commit(inserts(vec![
                Record::User(alice.clone()),
                Record::User(usr(3, "Straße", "s3@example.org")),
                Record::User(usr(5, "ΟΔΥΣΣΕΥΣ", "s5@example.org")),
                Record::User(usr(7, "\u{212A}elvin", "s7@example.org")),
                Record::User(usr(9, "nine", "Ä@X.DE")),
                Record::User(usr(11, "İpek", "s11@example.org")),
                Record::User(usr(13, "ipek", "s13@example.org")),
            ]))
            .await,
        "users whose names differ after folding",
    );
    // (intruder, the folded key it collides on), folded values written out by hand.
    let clashes = [
        (
            usr(2, "alice", "two@example.org"),
            key(UniqueField::UserUsername, "alice"),
        ),
        (
            usr(4, "STRASSE", "four@example.org"),
            key(UniqueField::UserUsername, "strasse"),
        ),
        (
            usr(6, "οδυσσευς", "six@example.org"),
            key(UniqueField::UserUsername, "οδυσσευσ"),
        ),
        (
            usr(8, "kelvin", "eight@example.org"),
            key(UniqueField::UserUsername, "kelvin"),
        ),
        (
            usr(10, "ten", "ä@x.de"),
            key(UniqueField::UserEmail, "ä@x.de"),
        ),
        (
            usr(12, "i\u{307}pek", "twelve@example.org"),
            key(UniqueField::UserUsername, "i\u{307}pek"),
        ),
        (
            usr(14, "IPEK", "fourteen@example.org"),
            key(UniqueField::UserUsername, "ipek"),
        ),
        (
            usr(15, "fifteen", "ALICE@ONE.EXAMPLE"),
            key(UniqueField::UserEmail, "alice@one.example"),
        ),
    ];
    for (intruder, k) in clashes {
        let what = format!(
            "inserting user {:?} / {:?}",
            intruder.username, intruder.email
        );
        conflict(
            store.commit(inserts(vec![Record::User(intruder)])).await,
            0,
            unique(k),
            &what,
        );
    }
    for (lookup, id) in [
        (key(UniqueField::UserUsername, "alice"), 1),
        (key(UniqueField::UserUsername, "strasse"), 3),
        (key(UniqueField::UserUsername, "οδυσσευσ"), 5),
        (key(UniqueField::UserUsername, "kelvin"), 7),
        (key(UniqueField::UserEmail, "ä@x.de"), 9),
        (key(UniqueField::UserUsername, "i\u{307}pek"), 11),
        (key(UniqueField::UserUsername, "ipek"), 13),
    ] {
        let got = ok(store.get_by_unique(&lookup).await, "get_by_unique");
        let got = got.map(|r| r.key());
        let want = Some(RecordKey::User(crate::ids::UserId(id)));
        if got != want {
            panic!("get_by_unique({lookup:?}): expected {want:?}, got {got:?}");
        }
    }

    // The exact keys accept values that differ only in case.
    let mut mac_upper = dev(2, "ABC", "AA");
    mac_upper.notes = "upper".to_owned();
    ok(
        store
            .commit(inserts(vec![
                Record::Donor(donor(1, "a@x.org")),
                Record::Donor(donor(2, "A@x.org")),
                Record::Role(role(1, "Admin")),
                Record::Role(role(2, "admin")),
                Record::Device(dev(1, "abc", "aa")),
                Record::Device(mac_upper),
                loc(1, "Main St", "+1 x"),
                loc(2, "MAIN ST", "+1 X"),
            ]))
            .await,
        "exact keys that differ only in case",
    );
    for (lookup, want) in [
        (
            key(UniqueField::DonorEmail, "A@x.org"),
            RecordKey::Donor(crate::ids::DonorId(2)),
        ),
        (
            key(UniqueField::DonorEmail, "a@x.org"),
            RecordKey::Donor(crate::ids::DonorId(1)),
        ),
        (
            key(UniqueField::RoleName, "admin"),
            RecordKey::Role(crate::ids::RoleId(2)),
        ),
        (
            key(UniqueField::DeviceSerialNumber, "ABC"),
            RecordKey::Device(super::fixtures::device_id(2)),
        ),
        (
            key(UniqueField::DeviceMacId, "aa"),
            RecordKey::Device(super::fixtures::device_id(1)),
        ),
        (
            key(UniqueField::LocationAddress, "MAIN ST"),
            RecordKey::Location(crate::ids::LocationId(2)),
        ),
        (
            key(UniqueField::LocationPhone, "+1 x"),
            RecordKey::Location(crate::ids::LocationId(1)),
        ),
    ] {
        let got = ok(store.get_by_unique(&lookup).await, "get_by_unique").map(|r| r.key());
        if got != Some(want) {
            panic!("get_by_unique({lookup:?}): expected {want:?}, got {got:?}");
        }
    }

    // Changing the case of one's own username is not a conflict with oneself.
    let mut shouting = alice.clone();
    shouting.username = "ALICE".to_owned();
    shouting.email = "Alice@One.Example".to_owned();
    shouting.version = 2;
    ok(
        store
            .commit(changes(vec![update(Record::User(shouting.clone()), 1)]))
            .await,
        "changing the case of a user's own username and email",
    );
    same_record(
        store
            .get_by_unique(&key(UniqueField::UserUsername, "alice"))
            .await,
        Some(&Record::User(shouting)),
        "get_by_unique after the case change",
    );
}

/// An update that moves a record onto another's key is refused; one that keeps its own keys is
/// not a conflict with itself.
pub async fn check_unique_update_onto_taken_key(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let a = dev(1, "s1", "m1");
    let b = dev(2, "s2", "m2");
    let ua = usr(1, "ua", "ua@example.org");
    let ub = usr(2, "ub", "ub@example.org");
    let records = vec![
        Record::Device(a.clone()),
        Record::Device(b.clone()),
        loc(1, "addr 1", "p1"),
        loc(2, "addr 2", "p2"),
        Record::Donor(donor(1, "d1@example.org")),
        Record::Donor(donor(2, "d2@example.org")),
        Record::User(ua.clone()),
        Record::User(ub.clone()),
        Record::Role(role(1, "r1")),
        Record::Role(role(2, "r2")),
    ];
    ok(store.commit(inserts(records.clone())).await, "insert");

    let mut moves: Vec<(Record, UniqueKey)> = Vec::new();
    let mut b1 = b.clone();
    b1.serial_number = "s1".to_owned();
    moves.push((
        Record::Device(b1),
        key(UniqueField::DeviceSerialNumber, "s1"),
    ));
    let mut b2 = b.clone();
    b2.mac_id = "m1".to_owned();
    moves.push((Record::Device(b2), key(UniqueField::DeviceMacId, "m1")));
    moves.push((
        loc(2, "addr 1", "p2"),
        key(UniqueField::LocationAddress, "addr 1"),
    ));
    moves.push((
        loc(2, "addr 2", "p1"),
        key(UniqueField::LocationPhone, "p1"),
    ));
    moves.push((
        Record::Donor(donor(2, "d1@example.org")),
        key(UniqueField::DonorEmail, "d1@example.org"),
    ));
    let mut ub1 = ub.clone();
    ub1.username = "UA".to_owned();
    moves.push((Record::User(ub1), key(UniqueField::UserUsername, "ua")));
    let mut ub2 = ub.clone();
    ub2.email = "UA@Example.ORG".to_owned();
    moves.push((
        Record::User(ub2),
        key(UniqueField::UserEmail, "ua@example.org"),
    ));
    moves.push((
        Record::Role(role(2, "r1")),
        key(UniqueField::RoleName, "r1"),
    ));

    for (moved, k) in moves {
        let what = format!("moving {} onto {k:?}", moved.key());
        let moved = with_version(moved, 2);
        conflict(
            store.commit(changes(vec![update(moved, 1)])).await,
            0,
            unique(k),
            &what,
        );
    }
    for r in &records {
        same_record(
            store.get(r.key()).await,
            Some(r),
            "a record after the refused moves",
        );
    }

    // Updates that keep their own keys (and change something else) are fine.
    for r in &records {
        let kept = with_version(touch(r.clone()), 2);
        ok(
            store.commit(changes(vec![update(kept.clone(), 1)])).await,
            &format!("updating {} without moving its keys", r.key()),
        );
        same_record(store.get(r.key()).await, Some(&kept), "after the update");
    }
}

/// A key given up by an update or a delete can be taken by a later change of the same batch;
/// two records can swap keys through a temporary value, but not directly.
pub async fn check_unique_freed_in_same_batch(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let a = dev(1, "s1", "m1");
    let b = dev(2, "s2", "m2");
    let u1 = usr(1, "Alice", "alice@example.org");
    ok(
        store
            .commit(inserts(vec![
                Record::Device(a.clone()),
                Record::Device(b.clone()),
                Record::User(u1.clone()),
            ]))
            .await,
        "insert",
    );

    // Update frees s1, an insert takes it.
    let mut a2 = a.clone();
    a2.serial_number = "s3".to_owned();
    a2.version = 2;
    let c = dev(3, "s1", "");
    ok(
        store
            .commit(changes(vec![
                update(Record::Device(a2.clone()), 1),
                insert(Record::Device(c.clone())),
            ]))
            .await,
        "update freeing s1, then insert taking it",
    );
    expect_holder(
        store.as_ref(),
        key(UniqueField::DeviceSerialNumber, "s1"),
        Some(Record::Device(c.clone())),
    )
    .await;
    expect_holder(
        store.as_ref(),
        key(UniqueField::DeviceSerialNumber, "s3"),
        Some(Record::Device(a2.clone())),
    )
    .await;

    // Delete frees s2 and m2, an insert takes them.
    let d = dev(4, "s2", "m2");
    ok(
        store
            .commit(changes(vec![
                delete(RecordKey::Device(b.device_id), 1),
                insert(Record::Device(d.clone())),
            ]))
            .await,
        "delete freeing s2, then insert taking it",
    );
    expect_holder(
        store.as_ref(),
        key(UniqueField::DeviceMacId, "m2"),
        Some(Record::Device(d.clone())),
    )
    .await;

    // A direct swap fails on the first update (checked against the running state) ...
    let mut a_swapped = a2.clone();
    a_swapped.serial_number = "s1".to_owned();
    a_swapped.version = 3;
    let mut c_swapped = c.clone();
    c_swapped.serial_number = "s3".to_owned();
    c_swapped.version = 2;
    conflict(
        store
            .commit(changes(vec![
                update(Record::Device(a_swapped.clone()), 2),
                update(Record::Device(c_swapped.clone()), 1),
            ]))
            .await,
        0,
        unique(key(UniqueField::DeviceSerialNumber, "s1")),
        "swapping serial numbers directly",
    );
    // ... through a temporary value it succeeds, one record updated twice in the batch.
    let mut a_tmp = a2.clone();
    a_tmp.serial_number = "tmp".to_owned();
    a_tmp.version = 3;
    a_swapped.version = 4;
    ok(
        store
            .commit(changes(vec![
                update(Record::Device(a_tmp), 2),
                update(Record::Device(c_swapped.clone()), 1),
                update(Record::Device(a_swapped.clone()), 3),
            ]))
            .await,
        "swapping serial numbers through a temporary value",
    );
    expect_holder(
        store.as_ref(),
        key(UniqueField::DeviceSerialNumber, "s1"),
        Some(Record::Device(a_swapped.clone())),
    )
    .await;
    expect_holder(
        store.as_ref(),
        key(UniqueField::DeviceSerialNumber, "s3"),
        Some(Record::Device(c_swapped)),
    )
    .await;
    expect_holder(
        store.as_ref(),
        key(UniqueField::DeviceSerialNumber, "tmp"),
        None,
    )
    .await;

    // Case-insensitive keys are freed by their folded value; so is an emptied MAC.
    let mut u1b = u1.clone();
    u1b.username = "Bob".to_owned();
    u1b.version = 2;
    let u2 = usr(2, "ALICE", "other@example.org");
    let mut a_nomac = a_swapped.clone();
    a_nomac.mac_id = String::new();
    a_nomac.version = 5;
    let e = dev(5, "s5", "m1");
    ok(
        store
            .commit(changes(vec![
                update(Record::User(u1b), 1),
                insert(Record::User(u2.clone())),
                update(Record::Device(a_nomac), 4),
                insert(Record::Device(e.clone())),
            ]))
            .await,
        "freeing a username and a MAC, then taking them",
    );
    expect_holder(
        store.as_ref(),
        key(UniqueField::UserUsername, "alice"),
        Some(Record::User(u2)),
    )
    .await;
    expect_holder(
        store.as_ref(),
        key(UniqueField::DeviceMacId, "m1"),
        Some(Record::Device(e)),
    )
    .await;
}

async fn expect_holder(store: &dyn Store, k: UniqueKey, want: Option<Record>) {
    same_record(
        store.get_by_unique(&k).await,
        want.as_ref(),
        &format!("get_by_unique({k:?})"),
    );
}

/// The record with its version set.
pub(crate) fn with_version(r: Record, v: u64) -> Record {
    match r {
        Record::Device(mut x) => {
            x.version = v;
            Record::Device(x)
        }
        Record::Location(mut x) => {
            x.version = v;
            Record::Location(x)
        }
        Record::Donor(mut x) => {
            x.version = v;
            Record::Donor(x)
        }
        Record::Shipment(mut x) => {
            x.version = v;
            Record::Shipment(x)
        }
        Record::User(mut x) => {
            x.version = v;
            Record::User(x)
        }
        Record::Role(mut x) => {
            x.version = v;
            Record::Role(x)
        }
        Record::Credentials(mut x) => {
            x.version = v;
            Record::Credentials(x)
        }
        Record::Session(mut x) => {
            x.version = v;
            Record::Session(x)
        }
        Record::MfaChallenge(mut x) => {
            x.version = v;
            Record::MfaChallenge(x)
        }
        Record::Throttle(mut x) => {
            x.version = v;
            Record::Throttle(x)
        }
        Record::Medium(mut x) => {
            x.version = v;
            Record::Medium(x)
        }
        Record::Audit(x) => Record::Audit(x),
        Record::Sanitization(x) => Record::Sanitization(x),
        Record::Verification(x) => Record::Verification(x),
        Record::Report(x) => Record::Report(x),
    }
}

/// The record with a non-key field changed.
pub(crate) fn touch(r: Record) -> Record {
    match r {
        Record::Device(mut x) => {
            x.notes.push_str(" touched");
            Record::Device(x)
        }
        Record::Location(mut x) => {
            x.name.push_str(" touched");
            Record::Location(x)
        }
        Record::Donor(mut x) => {
            x.name.push_str(" touched");
            Record::Donor(x)
        }
        Record::Shipment(mut x) => {
            x.tracking_identifier.push_str(" touched");
            Record::Shipment(x)
        }
        Record::User(mut x) => {
            x.first_name.push_str(" touched");
            Record::User(x)
        }
        Record::Role(mut x) => {
            x.description.push_str(" touched");
            Record::Role(x)
        }
        Record::Audit(mut x) => {
            x.action.push_str(" touched");
            Record::Audit(x)
        }
        Record::Credentials(mut x) => {
            x.totp_last_step = Some(x.totp_last_step.unwrap_or(0) + 1);
            Record::Credentials(x)
        }
        Record::Session(mut x) => {
            x.last_used_at += chrono::TimeDelta::seconds(1);
            Record::Session(x)
        }
        Record::MfaChallenge(mut x) => {
            x.attempts_left = x.attempts_left.saturating_sub(1);
            Record::MfaChallenge(x)
        }
        Record::Throttle(mut x) => {
            x.locks += 1;
            Record::Throttle(x)
        }
        Record::Medium(mut x) => {
            x.model.push_str(" touched");
            Record::Medium(x)
        }
        Record::Sanitization(mut x) => {
            x.notes.push_str(" touched");
            Record::Sanitization(x)
        }
        Record::Verification(mut x) => {
            x.notes.push_str(" touched");
            Record::Verification(x)
        }
        Record::Report(mut x) => {
            x.file_name.push_str(" touched");
            Record::Report(x)
        }
    }
}
