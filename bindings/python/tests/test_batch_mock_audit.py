"""Batch (typed and the original's two forms), mock data, audit log."""

import json

import pytest

import rehome
from conftest import body, login, make_user

Op, M = rehome.BatchOp, rehome.Model


def test_batch_all_or_nothing(store, system):
    loc = store.create_location(system, body(name="Old", address="9 Old Rd"))
    donor = store.create_donor(system, body(name="Ada", email="ada@example.org"))
    results = store.batch(system, [
        rehome.BatchOperation(op=Op.CREATE, model=M.DEVICE,
                              data_json=body(type="Phone", make="Fairphone", model="5", serial_number="FP-1")),
        rehome.BatchOperation(op=Op.UPDATE, model=M.DONOR, id=str(donor.donor_id), data_json=body(phone="555")),
        rehome.BatchOperation(op=Op.DELETE, model=M.LOCATION, id=str(loc.location_id)),
    ])
    assert [(r.op, r.model) for r in results] == [
        (Op.CREATE, M.DEVICE), (Op.UPDATE, M.DONOR), (Op.DELETE, M.LOCATION),
    ]
    assert json.loads(results[0].object_json)["serial_number"] == "FP-1"
    assert json.loads(results[1].object_json)["phone"] == "555"
    assert results[2].id == str(loc.location_id) and json.loads(results[2].object_json) is None

    with pytest.raises(rehome.RehomeError.BatchRejected) as e:
        store.batch(system, [
            rehome.BatchOperation(op=Op.CREATE, model=M.DONOR, data_json=body(name="Bob", email="bob@example.org")),
            rehome.BatchOperation(op=Op.CREATE, model=M.DEVICE, data_json=body(type="Phone")),
            rehome.BatchOperation(op=Op.CREATE, model=M.DEVICE,
                                  data_json=body(type="Phone", make="X", model="Y", serial_number="FP-1")),
        ])
    errors = e.value.errors
    assert [(x.index, x.conflict) for x in errors] == [(1, False), (2, True)]
    assert {"make", "model", "serial_number"} <= set(errors[0].fields)
    assert "serial_number" in errors[1].fields
    # Nothing was written: Bob is not there.
    assert [d.name for d in store.list_donors(system).results] == ["Ada"]

    with pytest.raises(rehome.RehomeError.Validation):
        store.batch(system, [])
    with pytest.raises(rehome.RehomeError.Validation):
        store.batch(system, [rehome.BatchOperation(op=Op.CREATE, model=M.DONOR, data_json="{")])


def test_batch_needs_bulk_upload_and_the_single_permission(store, system):
    make_user(store, system, "bulk", permissions=["bulkUploadDevices"])
    bulk = login(store, "bulk")
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.batch(bulk, [rehome.BatchOperation(op=Op.CREATE, model=M.DONOR,
                                                 data_json=body(name="A", email="a@example.org"))])


def test_batch_update_and_delete_forms(store, system):
    a = store.create_donor(system, body(name="A", email="a@example.org"))
    b = store.create_donor(system, body(name="B", email="b@example.org"))
    n = store.batch_update(system, M.DONOR, json.dumps([
        {"id": a.donor_id, "phone": "1"}, {"donor_id": b.donor_id, "phone": "2"},
    ]))
    assert n == 2
    assert [d.phone for d in store.list_donors(system).results] == ["1", "2"]
    with pytest.raises(rehome.RehomeError.BatchRejected):
        store.batch_delete(system, M.DONOR, [str(a.donor_id), "999"])
    assert store.list_donors(system).count == 2
    assert store.batch_delete(system, M.DONOR, [str(a.donor_id), str(b.donor_id)]) == 2
    assert store.list_donors(system).count == 0


def test_mock_data_defaults_seed_and_superuser_only(store, system):
    counts = store.generate_mock_data(system)
    assert (counts.locations, counts.donors, counts.devices, counts.shipments) == (5, 10, 50, 20)
    assert store.list_devices(system).count == 50
    small = store.generate_mock_data(system, rehome.MockRequest(locations=1, donors=2, devices=3, shipments=0, seed=7))
    assert (small.locations, small.donors, small.devices, small.shipments) == (1, 2, 3, 0)
    assert store.list_devices(system).count == 53
    make_user(store, system, "admin", permissions=["createDevices", "manageWarehouses", "manageDonors", "manageShipments"])
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.generate_mock_data(login(store, "admin"))


def test_same_seed_same_data_on_empty_stores(surface, loop, system):
    from conftest import open_store

    def serials():
        s = open_store(surface, loop)
        s.generate_mock_data(system, rehome.MockRequest(locations=1, donors=1, devices=5, shipments=1, seed=42))
        return sorted(d.serial_number for d in s.list_devices(system).results)

    assert serials() == serials()


def test_audit_log(store, system):
    make_user(store, system, "auditor", permissions=["viewAuditLog"])
    auditor = login(store, "auditor")
    dev = store.create_device(system, body(type="Laptop", make="Dell", model="M", serial_number="S1"))
    store.update_device(system, dev.device_id, body(notes="hello"))
    page = store.list_audit(auditor, {"object_type": "device"})
    assert [e.action for e in page.results] == ["device.update", "device.create"]
    update = page.results[0]
    assert (update.object_id, update.actor, update.actor_username) == (dev.device_id, None, None)
    assert json.loads(update.changes_json) == {"notes": ["", "hello"]}
    assert page.results[0].id > page.results[1].id
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.list_audit(rehome.Caller.anonymous())


def test_device_history(store, system):
    make_user(store, system, "reader", permissions=["readDevices"])
    make_user(store, system, "auditor2", permissions=["viewAuditLog"])
    reader = login(store, "reader")
    dev = store.create_device(system, body(type="Laptop", make="Dell", model="M", serial_number="H1"))
    other = store.create_device(system, body(type="Laptop", make="Dell", model="M", serial_number="H2"))
    store.update_device(system, dev.device_id, body(notes="first"))
    store.update_device(system, other.device_id, body(notes="other"))
    page = store.device_history(reader, dev.device_id)
    assert [e.action for e in page.results] == ["device.update", "device.create"]
    assert {e.object_id for e in page.results} == {dev.device_id}
    assert store.device_history(reader, dev.device_id, {"page_size": "1"}).total_pages == 2
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.device_history(login(store, "auditor2"), dev.device_id)
    with pytest.raises(rehome.RehomeError.NotFound):
        store.device_history(reader, "00000000-0000-0000-0000-000000000000")
