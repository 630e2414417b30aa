"""Locations, donors, shipments, devices: CRUD, lookup, lists, expansion, permissions."""

import datetime
import json

import pytest

import rehome
from conftest import body, login, make_user

S = rehome.DeviceStatus


def laptop(serial, **fields):
    return body(type="Laptop", make="Dell", model="Latitude 5490", serial_number=serial, **fields)


def test_location_crud(store, system):
    loc = store.create_location(
        system, body(name="Depot", type="Warehouse", address="1 Main St", city="Leeds", phone="+44 1")
    )
    assert (loc.name, loc.location_type, loc.city, loc.version) == ("Depot", "Warehouse", "Leeds", 1)
    assert isinstance(loc.created_at, datetime.datetime)
    assert store.get_location(system, loc.location_id) == loc
    loc = store.update_location(system, loc.location_id, body(city="York"))
    assert (loc.city, loc.address, loc.version) == ("York", "1 Main St", 2)
    loc = store.replace_location(system, loc.location_id, body(name="Main depot", address="2 Main St"))
    assert (loc.name, loc.address, loc.city) == ("Main depot", "2 Main St", "York")
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.replace_location(system, loc.location_id, body(name="No address"))
    assert list(e.value.fields) == ["address"]
    with pytest.raises(rehome.RehomeError.Conflict) as e:
        store.create_location(system, body(name="Twin", address="2 Main St"))
    assert "address" in e.value.fields
    store.delete_location(system, loc.location_id, if_match=3)
    with pytest.raises(rehome.RehomeError.NotFound):
        store.get_location(system, loc.location_id)


def test_donor_crud(store, system):
    donor = store.create_donor(system, body(name="Ada", email="ada@example.org", phone="123"))
    assert store.get_donor(system, donor.donor_id).phone == "123"
    donor = store.update_donor(system, donor.donor_id, body(contact_info="Evenings"))
    assert (donor.contact_info, donor.version) == ("Evenings", 2)
    donor = store.replace_donor(system, donor.donor_id, body(name="Ada L.", email="ada@example.org"))
    assert (donor.name, donor.contact_info) == ("Ada L.", "Evenings")
    store.create_donor(system, body(name="Bob", email="bob@example.org"))
    page = store.list_donors(system, {"search": "EXAMPLE.org", "ordering": "-name"})
    assert [d.name for d in page.results] == ["Bob", "Ada L."]
    store.delete_donor(system, donor.donor_id)
    assert store.list_donors(system).count == 1


def test_shipment_crud(store, system):
    dest = store.create_location(system, body(name="School", address="3 High St"))
    ship = store.create_shipment(
        system, body(date_shipped="2026-03-01", destination=dest.location_id, tracking_identifier="TRK1")
    )
    assert (ship.date_shipped, ship.destination, ship.arrived, ship.date_delivered) == (
        "2026-03-01", dest.location_id, False, None,
    )
    ship = store.update_shipment(system, ship.shipping_id, body(arrived=True, date_delivered="2026-03-04"))
    assert (ship.arrived, ship.date_delivered) == (True, "2026-03-04")
    ship = store.replace_shipment(system, ship.shipping_id, body(date_shipped="2026-03-02"))
    assert (ship.date_shipped, ship.tracking_identifier) == ("2026-03-02", "TRK1")
    assert store.get_shipment(system, ship.shipping_id).version == 3
    page = store.list_shipments(system, {"date_shipped__gte": "2026-03-02"})
    assert [s.shipping_id for s in page.results] == [ship.shipping_id]
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.list_shipments(system, {"date_shipped__gte": "not a date"})
    assert "date_shipped__gte" in e.value.fields
    store.delete_shipment(system, ship.shipping_id)
    assert store.list_shipments(system).count == 0


def test_device_fields_status_and_lookup(store, system):
    donor = store.create_donor(system, body(name="Ada", email="ada@example.org"))
    dev = store.create_device(
        system,
        laptop("SN-1", mac_id="AA-BB-CC-DD-EE-FF", year_of_manufacture=2019, value=416.69,
               donor=donor.donor_id, date_received="2026-01-02"),
    )
    assert len(dev.device_id) == 36 and dev.status == S.RECEIVED
    assert (dev.device_type, dev.mac_id, dev.value, dev.donor, dev.date_received) == (
        "Laptop", "aa:bb:cc:dd:ee:ff", "416.69", donor.donor_id, "2026-01-02",
    )
    assert store.get_device(system, dev.device_id.replace("-", "")) == dev
    assert store.lookup_device(system, serial_number="SN-1").device_id == dev.device_id
    svg = store.device_qr_svg(system, dev.device_id)
    assert svg.startswith("<?xml") and "<svg" in svg
    assert store.lookup_device(system, mac_id="aabb.ccdd.eeff").device_id == dev.device_id
    with pytest.raises(rehome.RehomeError.NotFound):
        store.lookup_device(system, serial_number="SN-404")
    with pytest.raises(rehome.RehomeError.Validation):
        store.lookup_device(system)

    # Nothing passes "wiped" without being wiped; a superuser may, so use a plain editor.
    make_user(store, system, "tech", permissions=["readDevices", "editDevices"])
    tech = login(store, "tech")
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.update_device(tech, dev.device_id, body(status="ready"))
    assert "status" in e.value.fields
    dev = store.update_device(tech, dev.device_id, body(status="wiped"))
    dev = store.update_device(tech, dev.device_id, body(status="ready"), if_match=dev.version)
    assert (dev.status, dev.version) == (S.READY, 3)
    dev = store.replace_device(tech, dev.device_id, laptop("SN-1", notes="Charger included"))
    assert (dev.notes, dev.status, dev.mac_id) == ("Charger included", S.READY, "aa:bb:cc:dd:ee:ff")

    with pytest.raises(rehome.RehomeError.Conflict) as e:
        store.create_device(system, laptop("sn-1x", mac_id="aa:bb:cc:dd:ee:ff"))
    assert "mac_id" in e.value.fields
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.delete_device(tech, dev.device_id)
    store.delete_device(system, dev.device_id)
    with pytest.raises(rehome.RehomeError.NotFound):
        store.get_device(system, dev.device_id)


def test_device_lists(store, system):
    for serial, make, year in [("A1", "Dell", 2018), ("A2", "HP", 2021), ("A3", "Dell", 2020), ("A4", "Apple", 2022)]:
        store.create_device(system, body(type="Laptop", make=make, model="M", serial_number=serial,
                                         year_of_manufacture=year))
    by_year = store.list_devices(system, {"make": "Dell", "ordering": "-year_of_manufacture"})
    assert [d.serial_number for d in by_year.results] == ["A3", "A1"]
    recent = store.list_devices(system, {"year_of_manufacture__gte": "2020", "ordering": "serial_number"})
    assert [d.serial_number for d in recent.results] == ["A2", "A3", "A4"]
    assert [d.make for d in store.list_devices(system, {"search": "app"}).results] == ["Apple"]
    last = store.list_devices(system, {"ordering": "serial_number", "page_size": "3", "page": "last"})
    assert ([d.serial_number for d in last.results], last.page, last.total_pages) == (["A4"], 2, 2)
    with pytest.raises(rehome.RehomeError.Validation):
        store.list_devices(system, {"page_size": "101"})


def test_expanded_devices(store, system):
    donor = store.create_donor(system, body(name="Ada", email="ada@example.org"))
    depot = store.create_location(system, body(name="Depot", address="1 Main St"))
    ship = store.create_shipment(system, body(date_shipped="2026-03-01"))
    user = make_user(store, system, "tech", first_name="Tess")
    dev = store.create_device(
        system,
        laptop("SN-9", donor=donor.donor_id, start_location=depot.location_id, received_by=user.id,
               shipping_infos=[ship.shipping_id]),
    )
    one = json.loads(store.get_device_expanded(system, dev.device_id, ["donor", "received_by", "shipping_infos"]))
    assert one["donor"]["email"] == "ada@example.org"
    assert one["received_by"] == {"id": user.id, "username": "tech", "first_name": "Tess", "last_name": ""}
    assert [s["shipping_id"] for s in one["shipping_infos"]] == [ship.shipping_id]
    assert one["start_location"] == depot.location_id  # not asked for: stays an id
    page = store.list_devices_expanded(system, {}, ["start_location"])
    assert page.count == 1 and json.loads(page.results[0])["start_location"]["name"] == "Depot"
    with pytest.raises(rehome.RehomeError.Validation):
        store.get_device_expanded(system, dev.device_id, ["password"])


def test_deleting_a_location_clears_references(store, system):
    depot = store.create_location(system, body(name="Depot", address="1 Main St"))
    dev = store.create_device(system, laptop("SN-2", start_location=depot.location_id))
    store.delete_location(system, depot.location_id)
    after = store.get_device(system, dev.device_id)
    assert (after.start_location, after.version) == (None, 2)


def test_reader_reads_but_does_not_write(store, system):
    make_user(store, system, "reader", permissions=["readDevices"])
    reader = login(store, "reader")
    store.create_location(system, body(name="Depot", address="1 Main St"))
    assert store.list_locations(reader).count == 1
    for write in (
        lambda: store.create_location(reader, body(name="X", address="Y")),
        lambda: store.create_donor(reader, body(name="X", email="x@example.org")),
        lambda: store.create_shipment(reader, body(date_shipped="2026-01-01")),
        lambda: store.create_device(reader, laptop("SN-3")),
    ):
        with pytest.raises(rehome.RehomeError.PermissionDenied):
            write()
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.list_devices(rehome.Caller.anonymous())


def test_malformed_json_body(store, system):
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.create_donor(system, "{not json")
    assert list(e.value.fields) == ["non_field_errors"]
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.create_donor(system, body(name="Ada", email="ada@example.org", shoe_size=9))
    assert "shoe_size" in e.value.fields


def test_device_statuses_say_why_not(store, system):
    make_user(store, system, "bench", permissions=["readDevices", "editDevices"])
    bench = login(store, "bench")
    dev = store.create_device(system, laptop("SN-ST"))
    got = {n.status: (n.allowed, n.reason) for n in store.device_statuses(bench, dev.device_id)}
    assert got[S.RECEIVED] == (True, None)
    assert got[S.WIPED] == (True, None)
    assert got[S.READY] == (False, "Not wiped yet: a device must be wiped before it can be ready.")
    assert [n.status for n in store.device_statuses(system, dev.device_id)] == [
        S.RECEIVED, S.WIPED, S.REFURBISHED, S.READY, S.SHIPPED, S.DELIVERED, S.RECYCLED,
    ]
    assert all(n.allowed for n in store.device_statuses(system, dev.device_id))
    with pytest.raises(rehome.RehomeError.NotFound):
        store.device_statuses(bench, "00000000-0000-0000-0000-000000000000")


def test_scan_names_devices_and_hands_unknown_codes_to_intake(store, system):
    make_user(store, system, "intake", permissions=["scanDevices"])
    intake = login(store, "intake")
    dev = store.create_device(system, laptop("SN-SCAN", mac_id="00-1A-2B-3C-4D-5E"))
    for code, how in [
        (dev.device_id, rehome.ScanMatch.LABEL),
        (f"https://rehome.example.org/devices/{dev.device_id}", rehome.ScanMatch.LABEL),
        ("00:1a:2b:3c:4d:5e", rehome.ScanMatch.MAC_ID),
        ("SN-SCAN", rehome.ScanMatch.SERIAL_NUMBER),
    ]:
        got = store.scan(intake, code)
        assert isinstance(got, rehome.Scanned.DEVICE), code
        assert (got.matched, got.device.device_id) == (how, dev.device_id), code
    assert store.scan(intake, "NEW-1") == rehome.Scanned.UNKNOWN(
        serial_number="NEW-1", mac_id=None, imei=None
    )
    # A phone by its IMEI (Wikipedia's worked example of the check digit), typed with dashes.
    phone = store.create_device(
        system,
        json.dumps({"type": "Smartphone", "make": "Fairphone", "model": "4",
                    "serial_number": "FP4-001", "imei": "49-015420-323751-8"}),
    )
    assert (phone.imei, phone.no_evidence_recorded, phone.sample) == (
        "490154203237518", False, rehome.Sample.UNDECIDED
    )
    got = store.scan(intake, "490154203237518")
    assert isinstance(got, rehome.Scanned.DEVICE)
    assert (got.matched, got.device.device_id) == (rehome.ScanMatch.IMEI, phone.device_id)
    assert store.scan(intake, "352099001761481") == rehome.Scanned.UNKNOWN(
        serial_number="352099001761481", mac_id=None, imei="352099001761481"
    )
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.create_device(
            system,
            json.dumps({"type": "Smartphone", "make": "X", "model": "Y",
                        "serial_number": "FP4-002", "imei": "490154203237519"}),
        )
    assert list(e.value.fields) == ["imei"]
    assert list(e.value.fields["imei"]) == ["This is not a valid IMEI: its check digit is wrong."]
    with pytest.raises(rehome.RehomeError.Conflict) as e:
        store.create_device(
            system,
            json.dumps({"type": "Smartphone", "make": "X", "model": "Y",
                        "serial_number": "FP4-003", "imei": "490154203237518"}),
        )
    assert list(e.value.fields) == ["imei"]
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.scan(intake, "  ")
    assert list(e.value.fields) == ["code"]
    with pytest.raises(rehome.RehomeError.NotFound):
        store.scan(intake, "00000000-0000-0000-0000-000000000000")


def test_inventory_summary_counts_by_status_and_week(store, system):
    make_user(store, system, "reader", permissions=["readDevices"])
    reader = login(store, "reader")
    store.create_device(system, laptop("SN-W1", date_received="2026-03-03"))
    store.create_device(system, laptop("SN-W2", date_received="2026-02-28", status="wiped"))
    got = store.inventory_summary(reader, date="2026-03-05")
    counts = {c.status: c.count for c in got.by_status}
    assert counts == {S.RECEIVED: 1, S.WIPED: 1, S.REFURBISHED: 0, S.READY: 0, S.SHIPPED: 0,
                      S.DELIVERED: 0, S.RECYCLED: 0}
    assert [(w.week_start, w.taken_in) for w in got.weeks[-2:]] == [("2026-02-23", 1), ("2026-03-02", 1)]
    assert got.weeks[0].week_start == "2026-01-12"
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.inventory_summary(reader, date="March")
    assert list(e.value.fields) == ["date"]
