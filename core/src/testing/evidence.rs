//! Sanitization evidence in the store: storage media, sanitization records, verifications and
//! tool reports keep every field, are found by their device, keep what they refer to from
//! being deleted, and (but media) are never changed or deleted; medium serials and device
//! IMEIs are unique keys.

use crate::evidence::{MethodType, Outcome};
use crate::ids::{MediumId, SanitizationId, UserId, VerificationId};
use crate::query::{Collection, Field, Filter, ListQuery, Op, Value};
use crate::store::{Conflict, Record, RecordKey, Reference, UniqueField};

use super::StoreFactory;
use super::assert::{conflict, invalid, ok, same_record, unique};
use super::fixtures::{
    changes, delete, device, device_id, insert, inserts, medium, report, sanitization, update,
    user, verification,
};

/// The keys `field == value` lists, in id order.
async fn listed(store: &dyn crate::store::Store, field: Field, value: Value) -> Vec<RecordKey> {
    let mut q = ListQuery::all(field.collection());
    q.filters.push(Filter {
        field,
        op: Op::Eq(value),
    });
    ok(store.list(&q).await, "listing evidence")
        .items
        .iter()
        .map(Record::key)
        .collect()
}

/// Every kind of evidence record reads back exactly, is listed by its device (and a record by
/// its medium and performer), a medium by its serial; media move between devices with their
/// version checked; records, verifications and reports cannot be updated or deleted; and all
/// of it survives a reopen.
pub async fn check_evidence_records(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let (d1, d2) = (device(1, "DEV-1"), device(2, "DEV-2"));
    let rep = report(b"{\"report_schema\": \"org.nwipe.report.v1\"}\n");
    let m1 = medium(1, d1.device_id, "DRIVE-1");
    let m2 = medium(2, d1.device_id, "DRIVE-2");
    let mut s1 = sanitization(1, d1.device_id, 1, 1);
    s1.report = Some(rep.digest);
    let mut s2 = sanitization(2, d1.device_id, 2, 1);
    s2.method_type = MethodType::Destruct;
    s2.outcome = Outcome::Failed;
    let mut s3 = sanitization(3, d1.device_id, 2, 2);
    s3.supersedes = Some(SanitizationId(2));
    let v1 = verification(1, d1.device_id, 2, &[1, 3]);
    let all = vec![
        Record::User(user(1, "tech", "tech@example.org")),
        Record::User(user(2, "checker", "checker@example.org")),
        Record::Device(d1.clone()),
        Record::Device(d2.clone()),
        Record::Report(rep.clone()),
        Record::Medium(m1.clone()),
        Record::Medium(m2.clone()),
        Record::Sanitization(s1.clone()),
        Record::Sanitization(s2.clone()),
        Record::Sanitization(s3.clone()),
        Record::Verification(v1.clone()),
    ];
    ok(
        store.commit(inserts(all.clone())).await,
        "inserting evidence",
    );
    for r in &all {
        same_record(
            store.get(r.key()).await,
            Some(r),
            &format!("reading {}", r.key()),
        );
    }
    same_record(
        store
            .get_by_unique(&UniqueField::MediumSerial.key("DRIVE-2"))
            .await,
        Some(&Record::Medium(m2.clone())),
        "a medium by its serial",
    );
    let dev = |d: &crate::model::Device| Value::Uuid(d.device_id.0);
    assert_eq!(
        listed(&*store, Field::MediumDevice, dev(&d1)).await,
        [
            RecordKey::Medium(MediumId(1)),
            RecordKey::Medium(MediumId(2))
        ],
        "the media of a device"
    );
    assert_eq!(
        listed(&*store, Field::SanitizationDevice, dev(&d1)).await,
        [1, 2, 3].map(|i| RecordKey::Sanitization(SanitizationId(i))),
        "the records of a device"
    );
    assert_eq!(
        listed(&*store, Field::SanitizationMedium, Value::Int(2)).await,
        [2, 3].map(|i| RecordKey::Sanitization(SanitizationId(i))),
        "the records of a medium"
    );
    assert_eq!(
        listed(&*store, Field::SanitizationPerformedBy, Value::Int(2)).await,
        [RecordKey::Sanitization(SanitizationId(3))],
        "the records of a performer"
    );
    assert_eq!(
        listed(&*store, Field::VerificationDevice, dev(&d1)).await,
        [RecordKey::Verification(VerificationId(1))],
        "the verifications of a device"
    );
    assert_eq!(
        listed(&*store, Field::VerificationVerifiedBy, Value::Int(2)).await,
        [RecordKey::Verification(VerificationId(1))],
        "the verifications of a verifier"
    );
    assert!(
        listed(&*store, Field::MediumDevice, dev(&d2))
            .await
            .is_empty(),
        "a device without media"
    );

    // A drive moved to the other device is moved, its version checked.
    let mut moved = m2.clone();
    moved.device = d2.device_id;
    moved.version = 2;
    conflict(
        store
            .commit(changes(vec![update(Record::Medium(moved.clone()), 7)]))
            .await,
        0,
        Conflict::Version {
            key: RecordKey::Medium(MediumId(2)),
            expected: 7,
            actual: 1,
        },
        "moving a medium from a stale version",
    );
    ok(
        store
            .commit(changes(vec![update(Record::Medium(moved.clone()), 1)]))
            .await,
        "moving a medium",
    );
    assert_eq!(
        listed(&*store, Field::MediumDevice, dev(&d2)).await,
        [RecordKey::Medium(MediumId(2))],
        "the moved medium is listed with its new device"
    );

    // Evidence is append-only.
    let mut changed = s1.clone();
    changed.notes = "rewritten".into();
    invalid(
        store
            .commit(changes(vec![update(Record::Sanitization(changed), 1)]))
            .await,
        0,
        "updating a sanitization record",
    );
    for key in [
        RecordKey::Sanitization(SanitizationId(1)),
        RecordKey::Verification(VerificationId(1)),
        RecordKey::Report(rep.digest),
    ] {
        invalid(
            store.commit(changes(vec![delete(key, 1)])).await,
            0,
            &format!("deleting {key}"),
        );
    }
    let mut v_changed = v1.clone();
    v_changed.outcome = Outcome::Failed;
    invalid(
        store
            .commit(changes(vec![update(Record::Verification(v_changed), 1)]))
            .await,
        0,
        "updating a verification",
    );
    same_record(
        store.get(RecordKey::Sanitization(SanitizationId(1))).await,
        Some(&Record::Sanitization(s1.clone())),
        "the record after the refused changes",
    );

    if let Some(store) = factory.reopen(store).await {
        let mut after = all.clone();
        after[6] = Record::Medium(moved.clone());
        for r in &after {
            same_record(
                store.get(r.key()).await,
                Some(r),
                &format!("{} after reopening", r.key()),
            );
        }
    }
}

/// Evidence keeps what it refers to: a device, medium, performer, verifier or report that a
/// record or verification names cannot be deleted; a record naming a missing medium, device,
/// user or report is refused; a medium without records goes with its device in one batch.
pub async fn check_evidence_references(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let d1 = device(1, "DEV-1");
    let d2 = device(2, "DEV-2");
    let rep = report(b"log line\n");
    let mut s1 = sanitization(1, d1.device_id, 1, 1);
    s1.report = Some(rep.digest);
    ok(
        store
            .commit(inserts(vec![
                Record::User(user(1, "tech", "tech@example.org")),
                Record::User(user(2, "checker", "checker@example.org")),
                Record::User(user(3, "idle", "idle@example.org")),
                Record::Device(d1.clone()),
                Record::Device(d2.clone()),
                Record::Report(rep.clone()),
                Record::Medium(medium(1, d1.device_id, "DRIVE-1")),
                Record::Medium(medium(2, d2.device_id, "DRIVE-2")),
                Record::Sanitization(s1.clone()),
                Record::Verification(verification(1, d1.device_id, 2, &[1])),
            ]))
            .await,
        "setup",
    );
    let referenced = |key: RecordKey, by: RecordKey| Conflict::Referenced { key, by };
    let s1_key = RecordKey::Sanitization(SanitizationId(1));
    for (key, by, what) in [
        (
            RecordKey::Device(d1.device_id),
            RecordKey::Medium(MediumId(1)),
            "a device with media and records",
        ),
        (
            RecordKey::Medium(MediumId(1)),
            s1_key,
            "a medium with a record",
        ),
        (RecordKey::User(UserId(1)), s1_key, "a record's performer"),
        (
            RecordKey::User(UserId(2)),
            RecordKey::Verification(VerificationId(1)),
            "a verifier",
        ),
    ] {
        let got = store.commit(changes(vec![delete(key, 1)])).await;
        // Which referrer a store names first is not pinned when several refer.
        match &got {
            Err(crate::store::StoreError::Conflict {
                conflict: Conflict::Referenced { key: k, .. },
                index: 0,
            }) if *k == key => {}
            _ => conflict(got, 0, referenced(key, by), &format!("deleting {what}")),
        }
    }
    // Even after the medium is gone from the batch, the record still holds the device.
    let got = store
        .commit(changes(vec![
            delete(RecordKey::Medium(MediumId(1)), 1),
            delete(RecordKey::Device(d1.device_id), 1),
        ]))
        .await;
    assert!(
        matches!(
            got,
            Err(crate::store::StoreError::Conflict {
                conflict: Conflict::Referenced { .. },
                index: 0
            })
        ),
        "deleting a medium that has a record: {got:?}"
    );

    // A medium without records goes with its device.
    ok(
        store
            .commit(changes(vec![
                delete(RecordKey::Medium(MediumId(2)), 1),
                delete(RecordKey::Device(d2.device_id), 1),
            ]))
            .await,
        "deleting a device and its unsanitized medium",
    );
    // A user who performed and verified nothing can go.
    ok(
        store
            .commit(changes(vec![delete(RecordKey::User(UserId(3)), 1)]))
            .await,
        "deleting a user with no evidence",
    );

    // Missing targets.
    let missing = |r: Reference| Conflict::MissingReference(r);
    let mut s = sanitization(10, d1.device_id, 99, 1);
    conflict(
        store
            .commit(changes(vec![insert(Record::Sanitization(s.clone()))]))
            .await,
        0,
        missing(Reference::Key(RecordKey::Medium(MediumId(99)))),
        "a record of a missing medium",
    );
    s.medium = MediumId(1);
    s.performed_by = UserId(99);
    conflict(
        store
            .commit(changes(vec![insert(Record::Sanitization(s.clone()))]))
            .await,
        0,
        missing(Reference::Key(RecordKey::User(UserId(99)))),
        "a record by a missing user",
    );
    s.performed_by = UserId(1);
    let absent = report(b"never uploaded");
    s.report = Some(absent.digest);
    conflict(
        store
            .commit(changes(vec![insert(Record::Sanitization(s.clone()))]))
            .await,
        0,
        missing(Reference::Key(RecordKey::Report(absent.digest))),
        "a record naming a missing report",
    );
    // Uploaded in the same batch, before the record: fine.
    ok(
        store
            .commit(changes(vec![
                insert(Record::Report(absent.clone())),
                insert(Record::Sanitization(s.clone())),
            ]))
            .await,
        "a report and its record together",
    );
    conflict(
        store
            .commit(changes(vec![insert(Record::Medium(medium(
                5,
                device_id(77),
                "DRIVE-5",
            )))]))
            .await,
        0,
        missing(Reference::Key(RecordKey::Device(device_id(77)))),
        "a medium of a missing device",
    );
    conflict(
        store
            .commit(changes(vec![insert(Record::Verification(verification(
                5,
                d1.device_id,
                42,
                &[1],
            )))]))
            .await,
        0,
        missing(Reference::Key(RecordKey::User(UserId(42)))),
        "a verification by a missing user",
    );
    let mut referrers = ok(
        store
            .referrers(&Reference::Key(RecordKey::Device(d1.device_id)))
            .await,
        "the referrers of a device",
    );
    referrers.sort();
    assert_eq!(
        referrers,
        [
            RecordKey::Medium(MediumId(1)),
            RecordKey::Sanitization(SanitizationId(1)),
            RecordKey::Sanitization(SanitizationId(10)),
            RecordKey::Verification(VerificationId(1)),
        ],
        "every record that names the device"
    );
}

/// A medium's serial is unique across the store (moving it keeps it); a device's IMEI is unique
/// when it is not empty.
pub async fn check_evidence_unique_keys(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let d1 = device(1, "DEV-1");
    let mut d2 = device(2, "DEV-2");
    d2.imei = "490154203237518".into();
    ok(
        store
            .commit(inserts(vec![
                Record::Device(d1.clone()),
                Record::Device(d2.clone()),
                Record::Device(device(3, "DEV-3")),
                Record::Medium(medium(1, d1.device_id, "DRIVE-1")),
            ]))
            .await,
        "setup: two devices without an IMEI, one with",
    );
    conflict(
        store
            .commit(changes(vec![insert(Record::Medium(medium(
                2,
                d2.device_id,
                "DRIVE-1",
            )))]))
            .await,
        0,
        unique(UniqueField::MediumSerial.key("DRIVE-1")),
        "a second medium with a taken serial, in another device",
    );
    ok(
        store
            .commit(changes(vec![insert(Record::Medium(medium(
                2,
                d2.device_id,
                "drive-1",
            )))]))
            .await,
        "serials are exact: another case is another serial",
    );
    let mut d4 = device(4, "DEV-4");
    d4.imei = "490154203237518".into();
    conflict(
        store
            .commit(changes(vec![insert(Record::Device(d4.clone()))]))
            .await,
        0,
        unique(UniqueField::DeviceImei.key("490154203237518")),
        "a second device with a taken IMEI",
    );
    // Freeing the IMEI and taking it in one batch.
    let mut freed = d2.clone();
    freed.imei.clear();
    freed.version = 2;
    ok(
        store
            .commit(changes(vec![
                update(Record::Device(freed), 1),
                insert(Record::Device(d4.clone())),
            ]))
            .await,
        "an IMEI freed and taken in one batch",
    );
    same_record(
        store
            .get_by_unique(&UniqueField::DeviceImei.key("490154203237518"))
            .await,
        Some(&Record::Device(d4)),
        "the IMEI's new holder",
    );
    same_record(
        store.get_by_unique(&UniqueField::DeviceImei.key("")).await,
        None,
        "an empty IMEI is no key",
    );
}

/// A tool report of the largest size kept (10 MiB of every byte value) reads back exactly.
pub async fn check_evidence_large_report(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let bytes: Vec<u8> = (0..crate::evidence::REPORT_MAX_BYTES)
        .map(|i| (i % 251) as u8 ^ (i / 251) as u8)
        .collect();
    let mut big = report(&bytes);
    big.format = crate::evidence::ReportFormat::Pdf;
    ok(
        store
            .commit(inserts(vec![Record::Report(big.clone())]))
            .await,
        "a 10 MiB report",
    );
    match ok(store.get(RecordKey::Report(big.digest)).await, "reading it") {
        Some(Record::Report(got)) => {
            assert_eq!(got.bytes.len(), bytes.len(), "its length");
            assert!(got.bytes == bytes, "its bytes");
            assert_eq!(got.digest, big.digest);
        }
        other => panic!("the report is gone: {other:?}"),
    }
    let mut q = ListQuery::all(Collection::Reports);
    q.count = true;
    assert_eq!(ok(store.list(&q).await, "listing reports").total, Some(1));
}
