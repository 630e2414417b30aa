"""A store that cannot take a call now (a full disk, read-only data) raises
RehomeError.Unavailable, the retryable error HTTP answers with 503, never RehomeError.Backend.

The store lives on a small tmpfs of the test's own. Mounting one needs root (CAP_SYS_ADMIN);
without it these tests skip and say why. (An unprivileged way to make SQLite's writes fail
was not found: permissions do not bind root, and a chmod under an open database does not
stop its open files.)
"""

import shutil
import subprocess

import pytest

import rehome
from conftest import body, open_store


@pytest.fixture
def tmpfs(tmp_path):
    """A 4 MiB tmpfs, unmounted afterwards; skips when it cannot be mounted."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("skipped: no mount command to make a small file system")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"skipped: cannot mount a tmpfs (needs root): {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def remount(mnt, mode):
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mnt)], check=True)


def fill(mnt):
    """Fills the file system to its last byte."""
    with open(mnt / "filler", "wb", buffering=0) as f:
        block = b"\0" * 65536
        for size in (65536, 4096, 1):
            chunk = block[:size]
            while True:
                try:
                    if f.write(chunk) < size:
                        break
                except OSError:
                    break


def device(i):
    return body(
        type="Laptop", make="Dell", model="Latitude", serial_number=f"SN-FULL-{i:04d}",
        notes="n" * 9000,
    )


def test_a_full_disk_is_unavailable_not_a_backend_error(surface, loop, tmpfs, system):
    store = open_store(surface, loop, f"sqlite://{tmpfs}/rehome.db")
    donor = store.create_donor(system, body(name="Ada", email="ada@example.org"))
    fill(tmpfs)
    # SQLite's write-ahead log reuses the space it has until it must grow: within a few
    # hundred writes of 9 kB one must grow it, and that write is refused.
    raised = None
    written = 0
    for i in range(600):
        try:
            store.create_device(system, device(i))
            written += 1
        except rehome.RehomeError.Unavailable as e:
            raised = e
            break
    assert raised is not None, f"{written} writes on a full disk all succeeded"
    assert isinstance(raised, rehome.RehomeError)
    assert "unavailable" in str(raised).lower() or raised.detail
    # The refused write left nothing behind and reads go on.
    assert store.get_donor(system, donor.donor_id).email == "ada@example.org"
    assert store.list_devices(system, {"page_size": "1"}).count == written
    # Room again: the same write now succeeds (the error was worth retrying).
    (tmpfs / "filler").unlink()
    store.create_device(system, device(written))
    assert store.list_devices(system, {"page_size": "1"}).count == written + 1


def test_read_only_data_is_unavailable_not_a_backend_error(surface, loop, tmpfs, system):
    url = f"sqlite://{tmpfs}/rehome.db"
    remount(tmpfs, "ro")
    try:
        with pytest.raises(rehome.RehomeError.Unavailable) as e:
            open_store(surface, loop, url)
        assert "Read-only file system" in e.value.detail
    finally:
        remount(tmpfs, "rw")
    # Writable again: the same call now succeeds (the error was worth retrying).
    store = open_store(surface, loop, url)
    store.create_donor(system, body(name="Ada", email="ada@example.org"))
    assert [d.name for d in store.list_donors(system).results] == ["Ada"]
