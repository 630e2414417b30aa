"""A failure inside rehome that is neither the store's nor the caller's (here: a TOTP secret
that no longer decodes) raises RehomeError.Internal, not Backend and not Validation."""

import subprocess
import sys

import pytest

import rehome
from conftest import PASSWORD, login, make_user, open_store

DAMAGE = """
import sqlite3, sys
path, secret = sys.argv[1], sys.argv[2]
db = sqlite3.connect(path)
(data,) = db.execute("SELECT data FROM credentials").fetchone()
text = data if isinstance(data, str) else data.decode()
assert secret in text, "the secret is not where the test expects it"
damaged = text.replace(secret, "not base32 at all: 0189!")
db.execute("UPDATE credentials SET data = ?", (damaged if isinstance(data, str) else damaged.encode(),))
db.commit()
db.close()
"""


def test_an_undecodable_totp_secret_is_internal(surface, loop, tmp_path, system):
    path = tmp_path / "rehome.db"
    store = open_store(surface, loop, f"sqlite://{path}")
    make_user(store, system, "ada")
    caller = login(store, "ada")
    secret = store.totp_setup(caller).secret
    # Damage the stored secret behind rehome's back (what a broken restore could do): the
    # record's JSON holds it as text. The damage is done from another process: Python's
    # sqlite3 is a second copy of SQLite, and two copies in one process break each other's
    # POSIX locks (closing one drops the other's), which SQLite reports as disk I/O errors.
    subprocess.run([sys.executable, "-c", DAMAGE, str(path), secret], check=True)
    with pytest.raises(rehome.RehomeError.Internal) as e:
        store.totp_confirm(caller, "123456")
    assert "TOTP" in e.value.detail
    # The password still logs in: nothing else was hurt.
    assert store.sign_in("ada", PASSWORD).username() == "ada"
