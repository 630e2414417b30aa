//! Service-level checks run on every backend: the rules of core must come out the same over
//! any store (status lifecycle, reference clearing, batch atomicity, audit with its change).
//! Expected results are written by hand from the contract.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::StoreFactory;
use crate::env::{ManualClock, SeededRandomness};
use crate::error::Error;
use crate::services::{ListParams, Mode, Model};
use crate::store::{Record, Store};
use crate::{Caller, DeviceStatus, Rehome};

fn rehome(store: Arc<dyn Store>) -> Rehome {
    Rehome::new(store)
        .with_clock(Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("valid time"),
        )))
        .with_randomness(Arc::new(SeededRandomness::new(11)))
}

fn device(r: Record) -> crate::Device {
    match r {
        Record::Device(d) => d,
        other => panic!("expected a device, got {other:?}"),
    }
}

async fn audit_count(core: &Rehome) -> u64 {
    core.list_audit(&Caller::system(), &ListParams::default())
        .await
        .expect("audit log")
        .count
}

/// The status lifecycle: every (from, to) pair of the contract's table, through the service.
pub async fn check_service_status_lifecycle(factory: &dyn StoreFactory) {
    use DeviceStatus::*;
    let core = rehome(factory.open().await);
    let sys = Caller::system();
    let editor_user = core
        .create_user(
            &sys,
            &json!({"username": "editor", "email": "editor@example.org",
                     "permissions": ["createDevices", "editDevices"]}),
        )
        .await
        .expect("user");
    let editor = core.caller_for(editor_user.id).await.expect("caller");
    // Rows: from; columns: to, in the order below. 1 = allowed for a non-superuser.
    let order = [
        Received,
        Wiped,
        Refurbished,
        Ready,
        Shipped,
        Delivered,
        Recycled,
    ];
    let table: [[u8; 7]; 7] = [
        [1, 1, 0, 0, 0, 0, 1],
        [0, 1, 1, 1, 1, 1, 1],
        [0, 0, 1, 1, 1, 1, 1],
        [0, 0, 0, 1, 1, 1, 1],
        [0, 0, 0, 0, 1, 1, 1],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
    ];
    let mut n = 0;
    for (i, from) in order.iter().enumerate() {
        for (j, to) in order.iter().enumerate() {
            n += 1;
            // Put a device in `from` with superuser powers, then try the move as the editor.
            let d = device(
                core.create(
                    &sys,
                    Model::Device,
                    &json!({"type": "Laptop", "make": "M", "model": "X",
                             "serial_number": format!("LC-{n}"), "status": from.as_str()}),
                )
                .await
                .expect("device"),
            );
            let before = audit_count(&core).await;
            let r = core
                .update(
                    &editor,
                    Model::Device,
                    &d.device_id.to_string(),
                    &json!({"status": to.as_str()}),
                    Mode::Patch,
                    None,
                )
                .await;
            let allowed = table[i][j] == 1;
            match (&r, allowed) {
                (Ok(rec), true) => {
                    assert_eq!(device(rec.clone()).status, *to, "{from} -> {to}");
                    let want = if from == to { before } else { before + 1 };
                    assert_eq!(audit_count(&core).await, want, "{from} -> {to}: audit");
                }
                (Err(Error::Validation(f)), false) => {
                    assert!(!f.get("status").is_empty(), "{from} -> {to}: {f:?}");
                    assert_eq!(audit_count(&core).await, before, "{from} -> {to}: no audit");
                    let stored = device(
                        core.get(&sys, Model::Device, &d.device_id.to_string())
                            .await
                            .expect("get"),
                    );
                    assert_eq!((stored.status, stored.version), (*from, 1));
                }
                _ => panic!("{from} -> {to}: expected allowed={allowed}, got {r:?}"),
            }
        }
    }
}

/// Deleting a location, donor, shipment or user clears every reference to it; the referrers'
/// versions go up and each clearing is audited, in the same commit as the delete.
pub async fn check_service_reference_clearing(factory: &dyn StoreFactory) {
    let core = rehome(factory.open().await);
    let sys = Caller::system();
    let id_of = |r: &Record| match r.key() {
        crate::RecordKey::Location(i) => i.0,
        crate::RecordKey::Donor(i) => i.0,
        crate::RecordKey::Shipment(i) => i.0,
        other => panic!("unexpected key {other:?}"),
    };
    let loc = core
        .create(
            &sys,
            Model::Location,
            &json!({"name": "W", "address": "1 Road"}),
        )
        .await
        .expect("location");
    let donor = core
        .create(
            &sys,
            Model::Donor,
            &json!({"name": "D", "email": "d@example.org"}),
        )
        .await
        .expect("donor");
    let ship = core
        .create(
            &sys,
            Model::Shipment,
            &json!({"date_shipped": "2026-01-01", "destination": id_of(&loc)}),
        )
        .await
        .expect("shipment");
    let user = core
        .create_user(
            &sys,
            &json!({"username": "taker", "email": "t@example.org"}),
        )
        .await
        .expect("user");
    let mut ids = Vec::new();
    for i in 0..3 {
        let d = device(
            core.create(
                &sys,
                Model::Device,
                &json!({"type": "L", "make": "M", "model": "X", "serial_number": format!("RC-{i}"),
                         "donor": id_of(&donor), "start_location": id_of(&loc),
                         "end_location": id_of(&loc), "shipping_infos": [id_of(&ship)],
                         "received_by": user.id.0}),
            )
            .await
            .expect("device"),
        );
        ids.push(d.device_id.to_string());
    }
    let before = audit_count(&core).await;
    core.delete(&sys, Model::Location, &id_of(&loc).to_string(), None)
        .await
        .expect("delete location");
    // 3 devices + 1 shipment cleared, + the delete itself.
    assert_eq!(audit_count(&core).await, before + 5);
    core.delete(&sys, Model::Donor, &id_of(&donor).to_string(), None)
        .await
        .expect("delete donor");
    core.delete(&sys, Model::Shipment, &id_of(&ship).to_string(), None)
        .await
        .expect("delete shipment");
    core.delete_user(&sys, user.id, None)
        .await
        .expect("delete user");
    for id in &ids {
        let d = device(core.get(&sys, Model::Device, id).await.expect("device"));
        assert_eq!(d.start_location, None);
        assert_eq!(d.end_location, None);
        assert_eq!(d.donor, None);
        assert!(d.shipping_infos.is_empty());
        assert_eq!(d.received_by, None);
        assert_eq!(d.version, 5, "one version per cleared delete");
    }
    assert_eq!(audit_count(&core).await, before + 5 + 4 + 4 + 4);
}

/// A batch with one bad operation writes nothing (no object, no audit entry); a good batch
/// writes every object and one audit entry per operation.
pub async fn check_service_batch_atomicity(factory: &dyn StoreFactory) {
    let core = rehome(factory.open().await);
    let sys = Caller::system();
    core.create(
        &sys,
        Model::Device,
        &json!({"type": "L", "make": "M", "model": "X", "serial_number": "TAKEN"}),
    )
    .await
    .expect("seed");
    let before = audit_count(&core).await;
    let bad = json!({"operations": [
        {"op": "create", "model": "donor", "data": {"name": "D", "email": "b1@example.org"}},
        {"op": "create", "model": "device", "data": {"type": "L", "make": "M", "model": "X", "serial_number": "B-1"}},
        {"op": "create", "model": "device", "data": {"type": "L", "make": "M", "model": "X", "serial_number": "TAKEN"}},
        {"op": "create", "model": "location", "data": {"name": "W", "address": "B road"}},
    ]});
    match core.batch(&sys, &bad).await {
        Err(Error::BatchRejected { errors }) => {
            assert_eq!(errors.len(), 1);
            assert_eq!((errors[0].index, errors[0].conflict), (2, true));
        }
        other => panic!("expected a rejected batch, got {other:?}"),
    }
    assert_eq!(audit_count(&core).await, before);
    for model in [Model::Donor, Model::Location] {
        let n = core
            .list(&sys, model, &ListParams::default())
            .await
            .expect("list")
            .count;
        assert_eq!(n, 0, "{model:?} left behind");
    }
    let n = core
        .list(&sys, Model::Device, &ListParams::default())
        .await
        .expect("list")
        .count;
    assert_eq!(n, 1);
    let good = json!({"operations": [
        {"op": "create", "model": "donor", "data": {"name": "D", "email": "b1@example.org"}},
        {"op": "create", "model": "device", "data": {"type": "L", "make": "M", "model": "X", "serial_number": "B-1"}},
    ]});
    let done = core.batch(&sys, &good).await.expect("applied");
    assert_eq!(done.len(), 2);
    assert_eq!(audit_count(&core).await, before + 2);
}

/// 50 concurrent service updates of one object from the same version: one winner, 49
/// conflicts; the audit log holds exactly one entry for the winner.
pub async fn check_service_concurrent_updates(factory: &dyn StoreFactory) {
    let core = rehome(factory.open().await);
    let sys = Caller::system();
    let d = device(
        core.create(
            &sys,
            Model::Device,
            &json!({"type": "L", "make": "M", "model": "X", "serial_number": "CU-1"}),
        )
        .await
        .expect("device"),
    );
    let before = audit_count(&core).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let core = core.clone();
        let id = d.device_id.to_string();
        tasks.push(tokio::spawn(async move {
            core.update(
                &Caller::system(),
                Model::Device,
                &id,
                &json!({"notes": format!("writer {i}"), "version": 1}),
                Mode::Patch,
                None,
            )
            .await
        }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(Error::Conflict { .. }) => conflicts += 1,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 49));
    assert_eq!(audit_count(&core).await, before + 1);
    let stored = device(
        core.get(&sys, Model::Device, &d.device_id.to_string())
            .await
            .expect("get"),
    );
    assert_eq!(stored.version, 2);
}
