"""Opening stores by URL, and the two handles on one store."""

import json

import pytest

import rehome
from conftest import body, open_store


def test_sqlite_file_keeps_data_across_handles(surface, loop, tmp_path, system):
    url = f"sqlite://{tmp_path}/nested/rehome.db"
    first = open_store(surface, loop, url)
    loc = first.create_location(system, body(name="Depot", address="1 Main St"))
    again = open_store(surface, loop, url)
    got = again.get_location(system, loc.location_id)
    assert (got.name, got.address, got.version) == ("Depot", "1 Main St", 1)


def test_sled_directory(surface, loop, tmp_path, system):
    store = open_store(surface, loop, f"sled://{tmp_path}/sled")
    donor = store.create_donor(system, body(name="Ada", email="ada@example.org"))
    assert store.get_donor(system, donor.donor_id).email == "ada@example.org"


def test_unknown_scheme_is_a_validation_error_on_url(surface, loop):
    with pytest.raises(rehome.RehomeError.Validation) as e:
        open_store(surface, loop, "redis://127.0.0.1/0")
    assert list(e.value.fields) == ["url"]


def test_unopenable_store_is_a_backend_error(surface, loop, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(rehome.RehomeError.Backend) as e:
        open_store(surface, loop, f"sqlite://{blocker}/rehome.db")
    assert e.value.detail


def test_default_options_open_too(system):
    store = rehome.RehomeBlocking.open("sqlite::memory:")
    assert store.list_locations(system).count == 0


def test_blocking_and_async_handles_share_the_store(loop, system):
    blocking = rehome.RehomeBlocking.open("sqlite::memory:")
    loc = blocking.create_location(system, body(name="Depot", address="1 Main St"))
    handle = blocking.as_async()
    got = loop.run_until_complete(handle.get_location(system, loc.location_id))
    assert got.name == "Depot"
    back = handle.blocking()
    assert back.get_location(system, loc.location_id).address == "1 Main St"


def test_async_calls_run_concurrently_on_one_loop(loop, system):
    import asyncio

    async def main():
        store = await rehome.Rehome.open("sqlite::memory:")
        await asyncio.gather(
            *(
                store.create_donor(system, json.dumps({"name": f"D{i}", "email": f"d{i}@example.org"}))
                for i in range(20)
            )
        )
        return await store.list_donors(system, {"page_size": "100"})

    page = loop.run_until_complete(main())
    assert page.count == 20
    assert sorted(d.email for d in page.results) == sorted(f"d{i}@example.org" for i in range(20))
