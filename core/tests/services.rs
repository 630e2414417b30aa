//! Service-level rules of rehome-core, checked through the public API on the memory store.
//! Expected outcomes are written out by hand from the contract (`docs/api.md`).

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use rehome_core::env::{ManualClock, SeededRandomness};
use rehome_core::error::Error;
use rehome_core::memory::MemoryStore;
use rehome_core::services::accounts::GrantChange;
use rehome_core::services::accounts::Registration;
use rehome_core::services::mock::MockRequest;
use rehome_core::services::{ListParams, Mode, Model};
use rehome_core::{Caller, Permission, Permissions, Record, Rehome, Store};
use serde_json::{Value, json};

fn core() -> (Rehome, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .expect("time"),
    ));
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let hasher = rehome_core::auth::Hasher::new(
        rehome_core::auth::PasswordParams::INSECURE_FOR_TESTS,
        Some(1),
    )
    .expect("hasher");
    let core = Rehome::new(store)
        .with_hasher(Arc::new(hasher))
        .with_clock(clock.clone())
        .with_randomness(Arc::new(SeededRandomness::new(7)));
    (core, clock)
}

fn params(pairs: &[(&str, &str)]) -> ListParams {
    ListParams::new(pairs.iter().copied())
}

/// A user caller with exactly `perms` as direct grants (created through the system caller).
async fn user_with(core: &Rehome, name: &str, perms: &[Permission]) -> Caller {
    let names: Vec<&str> = perms.iter().map(|p| p.as_str()).collect();
    let u = core
        .create_user(
            &Caller::system(),
            &json!({"username": name, "email": format!("{name}@example.org"), "permissions": names}),
        )
        .await
        .expect("create user");
    core.caller_for(u.id).await.expect("caller")
}

fn device_body(serial: &str) -> Value {
    json!({"type": "Laptop", "make": "Dell", "model": "Latitude 5490", "serial_number": serial})
}

fn as_device(r: Record) -> rehome_core::Device {
    match r {
        Record::Device(d) => d,
        other => panic!("expected a device, got {other:?}"),
    }
}

fn field_errors(e: &Error) -> Vec<String> {
    match e {
        Error::Validation(f) => f.0.keys().cloned().collect(),
        Error::Conflict { fields, .. } => fields.0.keys().cloned().collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[tokio::test]
async fn permission_table_for_inventory_calls() {
    use Permission::*;
    // (permission held, model, call) -> allowed. Hand-written from the contract's table.
    #[derive(Clone, Copy, Debug)]
    enum Call {
        List,
        Create,
        Update,
        Delete,
    }
    let table: &[(Option<Permission>, Model, Call, bool)] = &[
        (None, Model::Device, Call::List, false),
        (Some(ReadDevices), Model::Device, Call::List, true),
        (Some(ScanDevices), Model::Device, Call::List, false),
        (Some(CreateDevices), Model::Device, Call::Create, true),
        (Some(ReadDevices), Model::Device, Call::Create, false),
        (Some(EditDevices), Model::Device, Call::Update, true),
        (Some(CreateDevices), Model::Device, Call::Update, false),
        (Some(DeleteDevices), Model::Device, Call::Delete, true),
        (Some(EditDevices), Model::Device, Call::Delete, false),
        (Some(ReadDevices), Model::Location, Call::List, true),
        (Some(ManageWarehouses), Model::Location, Call::List, true),
        (Some(ManageDonors), Model::Location, Call::List, false),
        (Some(ManageWarehouses), Model::Location, Call::Create, true),
        (Some(ReadDevices), Model::Location, Call::Create, false),
        (Some(ManageDonors), Model::Donor, Call::List, true),
        (Some(ManageDonors), Model::Donor, Call::Delete, true),
        (Some(ManageShipments), Model::Donor, Call::Create, false),
        (Some(ManageShipments), Model::Shipment, Call::List, true),
        (Some(ManageShipments), Model::Shipment, Call::Update, true),
        (Some(ManageWarehouses), Model::Shipment, Call::Update, false),
        (Some(ViewAuditLog), Model::Shipment, Call::List, false),
        (Some(ManageUsers), Model::Device, Call::List, false),
    ];
    let (core, _) = core();
    let sys = Caller::system();
    let mut n = 0;
    for (perm, model, call, allowed) in table {
        n += 1;
        let caller = user_with(&core, &format!("user{n}"), perm.as_slice()).await;
        // A fresh object for each row so updates and deletes have something to act on.
        let body = match model {
            Model::Device => device_body(&format!("SN-{n}")),
            Model::Location => json!({"name": "W", "address": format!("{n} Road")}),
            Model::Donor => json!({"name": "D", "email": format!("d{n}@example.org")}),
            Model::Shipment => json!({"date_shipped": "2026-01-02"}),
        };
        let existing = core.create(&sys, *model, &body).await.expect("seed object");
        let id = match existing.key() {
            rehome_core::RecordKey::Device(i) => i.to_string(),
            rehome_core::RecordKey::Location(i) => i.to_string(),
            rehome_core::RecordKey::Donor(i) => i.to_string(),
            rehome_core::RecordKey::Shipment(i) => i.to_string(),
            _ => unreachable!(),
        };
        let new_body = match model {
            Model::Device => device_body(&format!("SN-new-{n}")),
            Model::Location => json!({"name": "W", "address": format!("{n} New Road")}),
            Model::Donor => json!({"name": "D", "email": format!("new{n}@example.org")}),
            Model::Shipment => json!({"date_shipped": "2026-01-03"}),
        };
        let result = match call {
            Call::List => core.list(&caller, *model, &params(&[])).await.map(|_| ()),
            Call::Create => core.create(&caller, *model, &new_body).await.map(|_| ()),
            Call::Update => core
                .update(&caller, *model, &id, &json!({}), Mode::Patch, None)
                .await
                .map(|_| ()),
            Call::Delete => core.delete(&caller, *model, &id, None).await,
        };
        match (allowed, &result) {
            (true, Ok(())) | (false, Err(Error::PermissionDenied)) => {}
            _ => panic!("{perm:?} {model:?} {call:?}: expected allowed={allowed}, got {result:?}"),
        }
    }
}

#[tokio::test]
async fn inactive_users_and_superusers() {
    let (core, _) = core();
    let sys = Caller::system();
    let u = core
        .create_user(
            &sys,
            &json!({"username": "ina", "email": "ina@example.org", "permissions": ["readDevices"], "is_active": false}),
        )
        .await
        .expect("user");
    let c = core.caller_for(u.id).await.expect("caller");
    assert_eq!(c.permissions(), Permissions::empty());
    assert!(matches!(
        core.list(&c, Model::Device, &params(&[])).await,
        Err(Error::PermissionDenied)
    ));
    let s = core
        .create_user(
            &sys,
            &json!({"username": "root", "email": "root@example.org", "is_superuser": true}),
        )
        .await
        .expect("superuser");
    let c = core.caller_for(s.id).await.expect("caller");
    assert_eq!(c.permissions(), Permissions::all());
}

#[tokio::test]
async fn device_create_validates_and_normalises() {
    let (core, _) = core();
    let sys = Caller::system();
    let d = as_device(
        core.create(
            &sys,
            Model::Device,
            &json!({"type": " Laptop ", "make": "Dell", "model": "X", "serial_number": "SN1",
                    "mac_id": "AA-BB-CC-DD-EE-FF", "value": 416.69, "year_of_manufacture": 2027,
                    "device_id": "ignored", "created_at": "ignored"}),
        )
        .await
        .expect("create"),
    );
    assert_eq!(d.device_type, "Laptop");
    assert_eq!(d.mac_id, "aa:bb:cc:dd:ee:ff");
    assert_eq!(d.value.map(|v| v.to_string()).as_deref(), Some("416.69"));
    assert_eq!(d.version, 1);
    assert_eq!(d.status, rehome_core::DeviceStatus::Received);
    // 2026 + 1 is the last year allowed.
    let e = core
        .create(&sys, Model::Device, &json!({"type": "L", "make": "M", "model": "X", "serial_number": "SN2", "year_of_manufacture": 2028, "donor": 99, "shipping_infos": [5]}))
        .await
        .expect_err("invalid");
    assert_eq!(
        field_errors(&e),
        ["donor", "shipping_infos", "year_of_manufacture"]
    );
    // Unique serial and MAC in any MAC form.
    let e = core
        .create(&sys, Model::Device, &json!({"type": "L", "make": "M", "model": "X", "serial_number": "SN1", "mac_id": "aabb.ccdd.eeff"}))
        .await
        .expect_err("conflict");
    assert!(matches!(e, Error::Conflict { .. }));
    assert_eq!(field_errors(&e), ["mac_id", "serial_number"]);
    // Lookup by MAC in another form.
    let found = core
        .lookup_device(&sys, None, Some("AA:BB:CC:DD:EE:FF"))
        .await
        .expect("lookup");
    assert_eq!(found.device_id, d.device_id);
}

#[tokio::test]
async fn status_lifecycle_through_the_service() {
    let (core, _) = core();
    let sys = Caller::system();
    let editor = user_with(
        &core,
        "ed",
        &[Permission::CreateDevices, Permission::EditDevices],
    )
    .await;
    // Creating is a move from received: straight to refurbished is refused.
    let e = core
        .create(&editor, Model::Device, &json!({"type": "L", "make": "M", "model": "X", "serial_number": "S0", "status": "refurbished"}))
        .await
        .expect_err("refused");
    assert_eq!(field_errors(&e), ["status"]);
    let d = as_device(
        core.create(&editor, Model::Device, &device_body("S1"))
            .await
            .expect("create"),
    );
    let id = d.device_id.to_string();
    let step = |s: &'static str| json!({ "status": s });
    let e = core
        .update(
            &editor,
            Model::Device,
            &id,
            &step("ready"),
            Mode::Patch,
            None,
        )
        .await
        .expect_err("not wiped");
    match &e {
        Error::Validation(f) => assert_eq!(
            f.get("status"),
            ["Cannot move from received to ready; allowed next statuses: wiped, recycled."]
        ),
        other => panic!("{other:?}"),
    }
    for s in ["wiped", "ready", "shipped"] {
        core.update(&editor, Model::Device, &id, &step(s), Mode::Patch, None)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e:?}"));
    }
    let e = core
        .update(
            &editor,
            Model::Device,
            &id,
            &step("wiped"),
            Mode::Patch,
            None,
        )
        .await
        .expect_err("backwards");
    assert_eq!(field_errors(&e), ["status"]);
    // A superuser may set any status; the audit entry says so.
    let d = as_device(
        core.update(
            &sys,
            Model::Device,
            &id,
            &step("received"),
            Mode::Patch,
            None,
        )
        .await
        .expect("override"),
    );
    assert_eq!(d.status, rehome_core::DeviceStatus::Received);
    assert_eq!(d.version, 5);
    let log = core
        .list_audit(
            &sys,
            &params(&[("action", "device.update"), ("page_size", "1")]),
        )
        .await
        .expect("audit");
    assert_eq!(log.results[0].changes["status_override"], json!(true));
    assert_eq!(
        log.results[0].changes["status"],
        json!(["shipped", "received"])
    );
}

#[tokio::test]
async fn versions_and_preconditions() {
    let (core, _) = core();
    let sys = Caller::system();
    let d = as_device(
        core.create(&sys, Model::Device, &device_body("S1"))
            .await
            .expect("create"),
    );
    let id = d.device_id.to_string();
    let e = core
        .update(
            &sys,
            Model::Device,
            &id,
            &json!({"notes": "x"}),
            Mode::Patch,
            Some(2),
        )
        .await
        .expect_err("412");
    assert!(matches!(e, Error::PreconditionFailed { current: 1 }));
    let e = core
        .update(
            &sys,
            Model::Device,
            &id,
            &json!({"notes": "x", "version": 3}),
            Mode::Patch,
            None,
        )
        .await
        .expect_err("409");
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
    let d2 = as_device(
        core.update(
            &sys,
            Model::Device,
            &id,
            &json!({"notes": "x", "version": 1}),
            Mode::Patch,
            Some(1),
        )
        .await
        .expect("update"),
    );
    assert_eq!(d2.version, 2);
    // PUT needs every required field; optional ones left out keep their value.
    let e = core
        .update(
            &sys,
            Model::Device,
            &id,
            &json!({"make": "HP"}),
            Mode::Replace,
            None,
        )
        .await
        .expect_err("400");
    assert_eq!(field_errors(&e), ["model", "serial_number", "type"]);
    let d3 = as_device(
        core.update(
            &sys,
            Model::Device,
            &id,
            &device_body("S1"),
            Mode::Replace,
            None,
        )
        .await
        .expect("put"),
    );
    assert_eq!(d3.notes, "x");
    // Nothing changed: no new version.
    assert_eq!(d3.version, 2);
    // Unknown fields are named.
    let e = core
        .update(
            &sys,
            Model::Device,
            &id,
            &json!({"colour": "red"}),
            Mode::Patch,
            None,
        )
        .await
        .expect_err("400");
    assert_eq!(field_errors(&e), ["colour"]);
    assert!(matches!(
        core.delete(&sys, Model::Device, &id, Some(1)).await,
        Err(Error::PreconditionFailed { current: 2 })
    ));
    core.delete(&sys, Model::Device, &id, Some(2))
        .await
        .expect("delete");
    assert!(matches!(
        core.get(&sys, Model::Device, &id).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn deleting_referenced_objects_clears_references() {
    let (core, _) = core();
    let sys = Caller::system();
    let loc = core
        .create(
            &sys,
            Model::Location,
            &json!({"name": "W1", "address": "1 Road"}),
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
    let (lid, did) = match (loc.key(), donor.key()) {
        (rehome_core::RecordKey::Location(l), rehome_core::RecordKey::Donor(d)) => (l.0, d.0),
        _ => unreachable!(),
    };
    let ship = core
        .create(
            &sys,
            Model::Shipment,
            &json!({"date_shipped": "2026-02-01", "destination": lid}),
        )
        .await
        .expect("shipment");
    let sid = match ship.key() {
        rehome_core::RecordKey::Shipment(s) => s.0,
        _ => unreachable!(),
    };
    let mut body = device_body("S1");
    body["donor"] = json!(did);
    body["start_location"] = json!(lid);
    body["end_location"] = json!(lid);
    body["shipping_infos"] = json!([sid]);
    let d = as_device(
        core.create(&sys, Model::Device, &body)
            .await
            .expect("device"),
    );
    let id = d.device_id.to_string();

    core.delete(&sys, Model::Location, &lid.to_string(), None)
        .await
        .expect("delete location");
    let d = as_device(core.get(&sys, Model::Device, &id).await.expect("device"));
    assert_eq!(
        (d.start_location, d.end_location, d.version),
        (None, None, 2)
    );
    let s = core
        .get(&sys, Model::Shipment, &sid.to_string())
        .await
        .expect("shipment");
    match s {
        Record::Shipment(s) => assert_eq!((s.destination, s.version), (None, 2)),
        _ => unreachable!(),
    }
    core.delete(&sys, Model::Shipment, &sid.to_string(), None)
        .await
        .expect("delete shipment");
    core.delete(&sys, Model::Donor, &did.to_string(), None)
        .await
        .expect("delete donor");
    let d = as_device(core.get(&sys, Model::Device, &id).await.expect("device"));
    assert_eq!((d.donor, d.shipping_infos.len(), d.version), (None, 0, 4));
    // Audit: the clearing updates are recorded with the reason.
    let log = core
        .list_audit(&sys, &params(&[("object_id", &id), ("page_size", "100")]))
        .await
        .expect("audit");
    let actions: Vec<&str> = log.results.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "device.update",
            "device.update",
            "device.update",
            "device.create"
        ]
    );
    assert_eq!(log.results[0].changes["donor"], json!([did, null]));
}

#[tokio::test]
async fn listing_pages_and_filters() {
    let (core, _) = core();
    let sys = Caller::system();
    for (i, (t, make)) in [
        ("Tablet", "Apple"),
        ("Laptop", "Dell"),
        ("laptop", "Dell"),
        ("Desktop", "HP"),
        ("Laptop", "HP"),
    ]
    .iter()
    .enumerate()
    {
        core.create(
            &sys,
            Model::Device,
            &json!({"type": t, "make": make, "model": "M", "serial_number": format!("S{i}")}),
        )
        .await
        .expect("device");
    }
    let page = core
        .list(&sys, Model::Device, &params(&[("page_size", "2")]))
        .await
        .expect("list");
    assert_eq!((page.count, page.total_pages, page.page), (5, 3, 1));
    let types: Vec<String> = page
        .results
        .into_iter()
        .map(|r| as_device(r).device_type)
        .collect();
    assert_eq!(types, ["Desktop", "Laptop"]);
    let last = core
        .list(
            &sys,
            Model::Device,
            &params(&[("page_size", "2"), ("page", "last")]),
        )
        .await
        .expect("last");
    assert_eq!((last.page, last.results.len()), (3, 1));
    assert_eq!(as_device(last.results[0].clone()).device_type, "laptop");
    assert!(matches!(
        core.list(&sys, Model::Device, &params(&[("page", "4"), ("page_size", "2")])).await,
        Err(Error::NotFound(ref m)) if m == "Invalid page."
    ));
    let dell = core
        .list(
            &sys,
            Model::Device,
            &params(&[("make", "Dell"), ("type__icontains", "LAP")]),
        )
        .await
        .expect("filter");
    assert_eq!(dell.count, 2);
    let exact = core
        .list(&sys, Model::Device, &params(&[("type", "laptop")]))
        .await
        .expect("exact");
    assert_eq!(exact.count, 1);
    let empty = core
        .list(&sys, Model::Donor, &params(&[]))
        .await
        .expect("empty");
    assert_eq!((empty.count, empty.total_pages), (0, 1));
}

#[tokio::test]
async fn batch_is_all_or_nothing() {
    let (core, _) = core();
    let sys = Caller::system();
    let body = json!({"operations": [
        {"op": "create", "model": "location", "data": {"name": "W", "address": "1 Road"}},
        {"op": "create", "model": "device", "data": device_body("B1")},
        {"op": "create", "model": "device", "data": {"type": "L"}},
        {"op": "delete", "model": "donor", "id": 42},
    ]});
    let e = core.batch(&sys, &body).await.expect_err("rejected");
    match e {
        Error::BatchRejected { errors } => {
            let idx: Vec<usize> = errors.iter().map(|e| e.index).collect();
            assert_eq!(idx, [2, 3]);
            assert_eq!(
                errors[0].errors.0.keys().cloned().collect::<Vec<_>>(),
                ["make", "model", "serial_number"]
            );
        }
        other => panic!("{other:?}"),
    }
    for model in [Model::Location, Model::Device] {
        assert_eq!(
            core.list(&sys, model, &params(&[]))
                .await
                .expect("list")
                .count,
            0
        );
    }
    assert_eq!(
        core.list_audit(&sys, &params(&[]))
            .await
            .expect("audit")
            .count,
        0
    );

    // Conflicts only: 409-style (every error is a conflict), also against an earlier op.
    core.create(&sys, Model::Device, &device_body("TAKEN"))
        .await
        .expect("seed");
    let e = core
        .batch(
            &sys,
            &json!({"operations": [
                {"op": "create", "model": "device", "data": device_body("B2")},
                {"op": "create", "model": "device", "data": device_body("B2")},
                {"op": "create", "model": "device", "data": device_body("TAKEN")},
            ]}),
        )
        .await
        .expect_err("conflicts");
    match e {
        Error::BatchRejected { errors } => {
            assert_eq!(
                errors
                    .iter()
                    .map(|e| (e.index, e.conflict))
                    .collect::<Vec<_>>(),
                [(1, true), (2, true)]
            );
        }
        other => panic!("{other:?}"),
    }

    let ok = core
        .batch(
            &sys,
            &json!({"operations": [
                {"op": "create", "model": "donor", "data": {"name": "D", "email": "d@example.org"}},
                {"op": "create", "model": "device", "data": device_body("B3")},
            ]}),
        )
        .await
        .expect("applied");
    assert_eq!(ok.len(), 2);
    let dev_id = ok[1].id.clone();
    let ok = core
        .batch(
            &sys,
            &json!({"operations": [
                {"op": "update", "model": "device", "id": dev_id, "data": {"notes": "a"}},
                {"op": "update", "model": "device", "id": dev_id, "data": {"status": "wiped"}},
                {"op": "delete", "model": "donor", "id": ok[0].id.parse::<i64>().expect("id")},
            ]}),
        )
        .await
        .expect("applied");
    assert_eq!(ok[1].object["version"], json!(3));
    assert_eq!(ok[1].object["notes"], json!("a"));
    assert_eq!(ok[2].object, Value::Null);

    // Limits and permissions.
    let e = core
        .batch(&sys, &json!({"operations": []}))
        .await
        .expect_err("empty");
    assert!(matches!(e, Error::Validation(_)));
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"op": "delete", "model": "device", "id": format!("{i}")}))
        .collect();
    assert!(matches!(
        core.batch(&sys, &json!({"operations": many})).await,
        Err(Error::Validation(_))
    ));
    let bulk = user_with(
        &core,
        "bulk",
        &[Permission::BulkUploadDevices, Permission::CreateDevices],
    )
    .await;
    assert!(
        core.batch(
            &bulk,
            &json!({"operations": [{"op": "create", "model": "device", "data": device_body("B9")}]})
        )
        .await
        .is_ok()
    );
    assert!(matches!(
        core.batch(&bulk, &json!({"operations": [{"op": "create", "model": "donor", "data": {"name": "x", "email": "x@example.org"}}]})).await,
        Err(Error::PermissionDenied)
    ));
    let creator = user_with(&core, "creator", &[Permission::CreateDevices]).await;
    assert!(matches!(
        core.batch(&creator, &json!({"operations": [{"op": "create", "model": "device", "data": device_body("B10")}]})).await,
        Err(Error::PermissionDenied)
    ));
}

#[tokio::test]
async fn no_escalation() {
    let (core, _) = core();
    let sys = Caller::system();
    let manager = user_with(
        &core,
        "mgr",
        &[Permission::ManageUsers, Permission::ReadDevices],
    )
    .await;
    // Grant only what you hold.
    let ok = core
        .create_user(
            &manager,
            &json!({"username": "a1", "email": "a1@example.org", "permissions": ["readDevices"]}),
        )
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    for body in [
        json!({"username": "a2", "email": "a2@example.org", "permissions": ["deleteDevices"]}),
        json!({"username": "a3", "email": "a3@example.org", "is_superuser": true}),
    ] {
        assert!(
            matches!(
                core.create_user(&manager, &body).await,
                Err(Error::PermissionDenied)
            ),
            "{body}"
        );
    }
    assert!(matches!(
        core.change_user_permissions(&manager, "a1", GrantChange::Add, &json!(["viewAuditLog"]))
            .await,
        Err(Error::PermissionDenied)
    ));
    assert!(matches!(
        core.change_user_permissions(&manager, "mgr", GrantChange::Add, &json!(["viewAuditLog"]))
            .await,
        Err(Error::PermissionDenied)
    ));
    // Roles: only with permissions you hold; giving a role grants its permissions.
    assert!(matches!(
        core.create_role(
            &manager,
            &json!({"name": "admin", "permissions": ["deleteDevices"]})
        )
        .await,
        Err(Error::PermissionDenied)
    ));
    core.create_role(
        &sys,
        &json!({"name": "admin", "permissions": ["deleteDevices"]}),
    )
    .await
    .expect("role");
    let a1 = core.find_user("A1").await.expect("find").expect("a1");
    assert!(matches!(
        core.update_user(
            &manager,
            a1.id,
            &json!({"role": "admin"}),
            Mode::Patch,
            None
        )
        .await,
        Err(Error::PermissionDenied)
    ));
    assert!(matches!(
        core.update_user(
            &manager,
            a1.id,
            &json!({"is_superuser": true}),
            Mode::Patch,
            None
        )
        .await,
        Err(Error::PermissionDenied)
    ));
    // Another superuser is off limits to non-superusers.
    let root = core
        .create_user(
            &sys,
            &json!({"username": "root", "email": "root@example.org", "is_superuser": true}),
        )
        .await
        .expect("root");
    assert!(matches!(
        core.update_user(
            &manager,
            root.id,
            &json!({"first_name": "x"}),
            Mode::Patch,
            None
        )
        .await,
        Err(Error::PermissionDenied)
    ));
    assert!(matches!(
        core.delete_user(&manager, root.id, None).await,
        Err(Error::PermissionDenied)
    ));
    // Registration cannot set privileged fields.
    let e = core
        .register(&Caller::anonymous(), &json!({"username": "new", "email": "new@example.org", "is_superuser": true, "permissions": ["readDevices"]}), Registration::Open)
        .await
        .expect_err("400");
    assert_eq!(field_errors(&e), ["is_superuser", "permissions"]);
    let u = core
        .register(
            &Caller::anonymous(),
            &json!({"username": "new", "email": "new@example.org", "password": "correct horse battery"}), Registration::Open,
        )
        .await
        .expect("registered");
    assert_eq!(
        (u.permissions, u.role, u.is_superuser),
        (Permissions::empty(), None, false)
    );
}

#[tokio::test]
async fn users_roles_and_grants() {
    let (core, _) = core();
    let sys = Caller::system();
    core.create_role(
        &sys,
        &json!({"name": "intake", "permissions": ["readDevices", "createDevices"]}),
    )
    .await
    .expect("role");
    let u = core
        .create_user(&sys, &json!({"username": "Maria", "email": "Maria@Example.org", "role": "intake", "permissions": ["scanDevices"]}))
        .await
        .expect("user");
    let e = core
        .create_user(
            &sys,
            &json!({"username": "maria", "email": "maria@example.org"}),
        )
        .await
        .expect_err("case-insensitive unique");
    assert_eq!(field_errors(&e), ["email", "username"]);
    let e = core
        .create_user(
            &sys,
            &json!({"username": "x", "email": "bad", "role": "nope"}),
        )
        .await
        .expect_err("invalid");
    assert_eq!(field_errors(&e), ["email", "role", "username"]);
    let view = core.user_json(&u).await.expect("view");
    assert_eq!(
        view["effective_permissions"],
        json!(["readDevices", "createDevices", "scanDevices"])
    );
    assert_eq!(view["permissions"], json!(["scanDevices"]));
    // Grants: add, replace, remove, clear; unknown names and duplicates refused.
    let g = |v: Value| v;
    let p = core
        .change_user_permissions(&sys, "maria", GrantChange::Add, &g(json!(["editDevices"])))
        .await
        .expect("add");
    assert_eq!(p.names(), ["editDevices", "scanDevices"]);
    let p = core
        .change_user_permissions(
            &sys,
            "maria",
            GrantChange::Replace,
            &json!(["viewAuditLog"]),
        )
        .await
        .expect("replace");
    assert_eq!(p.names(), ["viewAuditLog"]);
    let p = core
        .change_user_permissions(
            &sys,
            "maria",
            GrantChange::Remove,
            &json!(["viewAuditLog", "readDevices"]),
        )
        .await
        .expect("remove");
    assert!(p.is_empty());
    for bad in [
        json!(["fly"]),
        json!(["readDevices", "readDevices"]),
        json!("readDevices"),
    ] {
        assert!(
            matches!(
                core.change_user_permissions(&sys, "maria", GrantChange::Add, &bad)
                    .await,
                Err(Error::Validation(_))
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        core.change_user_permissions(&sys, "nobody", GrantChange::Clear, &Value::Null)
            .await,
        Err(Error::NotFound(_))
    ));
    // A held role can be neither deleted nor renamed.
    let e = core
        .delete_role(&sys, "intake", None)
        .await
        .expect_err("held");
    match e {
        Error::Conflict { detail, .. } => assert!(detail.contains("held by 1 user"), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        core.update_role(
            &sys,
            "intake",
            &json!({"name": "intake2"}),
            Mode::Patch,
            None
        )
        .await,
        Err(Error::Conflict { .. })
    ));
    core.update_user(&sys, u.id, &json!({"role": null}), Mode::Patch, None)
        .await
        .expect("drop role");
    core.delete_role(&sys, "intake", None)
        .await
        .expect("deleted");
    // Deleting a user clears devices' references to it.
    let maria = core.caller_for(u.id).await.expect("caller");
    core.change_user_permissions(&sys, "maria", GrantChange::Add, &json!(["createDevices"]))
        .await
        .expect("grant");
    let maria = core
        .caller_for(maria.user_id().expect("id"))
        .await
        .expect("caller");
    let d = as_device(
        core.create(&maria, Model::Device, &device_body("U1"))
            .await
            .expect("device"),
    );
    assert_eq!(d.created_by, Some(u.id));
    core.delete_user(&sys, u.id, None)
        .await
        .expect("delete user");
    let d = as_device(
        core.get(&sys, Model::Device, &d.device_id.to_string())
            .await
            .expect("device"),
    );
    assert_eq!((d.created_by, d.version), (None, 2));
}

#[tokio::test]
async fn audit_log_records_exactly_the_changes() {
    let (core, clock) = core();
    let auditor = user_with(
        &core,
        "aud",
        &[Permission::ViewAuditLog, Permission::CreateDevices],
    )
    .await;
    clock.advance(chrono::TimeDelta::hours(1));
    core.create(&auditor, Model::Device, &device_body("A1"))
        .await
        .expect("create");
    let _ = core
        .create(&auditor, Model::Device, &device_body("A1"))
        .await
        .expect_err("conflict");
    let log = core.list_audit(&auditor, &params(&[])).await.expect("log");
    let actions: Vec<&str> = log.results.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["device.create", "user.create"]);
    let e = &log.results[0];
    assert_eq!(e.actor, auditor.user_id());
    assert_eq!(e.actor_username.as_deref(), Some("aud"));
    assert_eq!(e.object_type, "device");
    assert_eq!(e.changes["serial_number"], json!("A1"));
    // Filters.
    let since = core
        .list_audit(&auditor, &params(&[("since", "2026-03-01T12:30:00Z")]))
        .await
        .expect("since");
    assert_eq!(since.count, 1);
    let by_actor = core
        .list_audit(
            &auditor,
            &params(&[("actor", &auditor.user_id().expect("id").to_string())]),
        )
        .await
        .expect("actor");
    assert_eq!(by_actor.count, 1);
    assert!(matches!(
        core.list_audit(&user_with(&core, "nope", &[]).await, &params(&[]))
            .await,
        Err(Error::PermissionDenied)
    ));
}

#[tokio::test]
async fn mock_data_is_deterministic_and_repeatable() {
    let req = MockRequest {
        locations: 3,
        donors: 4,
        devices: 30,
        shipments: 5,
        seed: Some(42),
    };
    let snapshot = |core: Rehome| async move {
        let sys = Caller::system();
        let page = core
            .list(
                &sys,
                Model::Device,
                &params(&[("ordering", "serial_number"), ("page_size", "100")]),
            )
            .await
            .expect("list");
        page.results
            .into_iter()
            .map(|r| {
                let d = as_device(r);
                (
                    d.device_id,
                    d.serial_number,
                    d.mac_id,
                    d.make,
                    d.donor,
                    d.start_location,
                    d.status,
                )
            })
            .collect::<Vec<_>>()
    };
    let (a, _) = core();
    let (b, _) = core();
    let counts = a
        .generate_mock_data(&Caller::system(), req)
        .await
        .expect("mock a");
    assert_eq!(
        (
            counts.locations,
            counts.donors,
            counts.devices,
            counts.shipments
        ),
        (3, 4, 30, 5)
    );
    b.generate_mock_data(&Caller::system(), req)
        .await
        .expect("mock b");
    let sa = snapshot(a.clone()).await;
    assert_eq!(sa.len(), 30);
    assert_eq!(sa, snapshot(b).await);
    // Again with the same seed on the same store: new values, no unique-key failure.
    a.generate_mock_data(&Caller::system(), req)
        .await
        .expect("again");
    assert_eq!(
        a.list(&Caller::system(), Model::Device, &params(&[]))
            .await
            .expect("list")
            .count,
        60
    );
    let user = user_with(&a, "mockuser", &[Permission::CreateDevices]).await;
    assert!(matches!(
        a.generate_mock_data(&user, req).await,
        Err(Error::PermissionDenied)
    ));
}
