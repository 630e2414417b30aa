"""Embedding rehome in a Python script: take a donated laptop in and ship it.

    pip install rehome          # the wheel built from bindings/python (see the README)
    python examples/python/intake.py sqlite://rehome-example.db

No server runs: the script calls rehome's core through the ``rehome`` package, with the same
rules (permissions, validation, the device lifecycle, the audit log) as the REST server.
"""

import json
import sys

import rehome

PASSWORD = "correct horse battery staple"


def main(url: str) -> None:
    store = rehome.RehomeBlocking.open(url)
    operator = rehome.Caller.system()  # this script itself: every permission
    print(f"opened {url}")

    try:
        store.create_user(operator, json.dumps({
            "username": "sam", "email": "sam@example.org", "password": PASSWORD,
            "permissions": ["readDevices", "createDevices", "manageDonors"],
        }))
        store.create_user(operator, json.dumps({
            "username": "tess", "email": "tess@example.org", "password": PASSWORD,
            "permissions": ["readDevices", "editDevices", "manageShipments"],
        }))
        print("created users sam and tess")
    except rehome.RehomeError.Conflict as e:
        print(f"users exist already ({e.detail})")

    sam = store.sign_in("sam", PASSWORD)
    serial = f"PY-{store.list_devices(sam).count + 1:04d}"
    laptop = store.create_device(sam, json.dumps({
        "type": "Laptop", "make": "Lenovo", "model": "T480", "serial_number": serial,
    }))
    print(f"sam took in {laptop.make} {laptop.model} {laptop.serial_number}: {laptop.status.name.lower()}")

    try:
        store.update_device(sam, laptop.device_id, json.dumps({"status": "wiped"}))
        raise SystemExit("sam should not be allowed to wipe devices")
    except rehome.RehomeError.PermissionDenied:
        print("sam may not wipe it: permission denied")

    tess = store.sign_in("tess", PASSWORD)
    try:
        store.update_device(tess, laptop.device_id, json.dumps({"status": "shipped"}))
        raise SystemExit("an unwiped device must not ship")
    except rehome.RehomeError.Validation as e:
        print(f"shipping it unwiped: {e.fields['status'][0]}")

    store.update_device(tess, laptop.device_id, json.dumps({"status": "wiped"}))
    shipment = store.create_shipment(tess, json.dumps({"date_shipped": "2026-06-01", "tracking_identifier": f"TRK-{serial}"}))
    shipped = store.update_device(
        tess, laptop.device_id,
        json.dumps({"status": "shipped", "shipping_infos": [shipment.shipping_id]}),
        if_match=2,  # the version tess read: a concurrent change would raise PreconditionFailed
    )
    if (shipped.status, shipped.version) != (rehome.DeviceStatus.SHIPPED, 3):
        raise SystemExit(f"unexpected device after shipping: {shipped}")
    print(f"tess wiped and shipped it (version {shipped.version})")

    page = store.list_devices(tess, {"status": "shipped", "ordering": "-serial_number"})
    print(f"shipped devices: {page.count}; latest {page.results[0].serial_number}")
    for event in store.list_audit(operator, {"object_id": laptop.device_id}).results:
        print(f"  {event.timestamp:%H:%M:%S} {event.action} by {event.actor_username}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqlite://rehome-example.db")
