"""Fixtures: every test runs twice, once on the blocking handle and once on the async one.

These tests cover the glue (arguments, records, errors, both surfaces); rehome's rules
themselves are tested in Rust, in core. Expected values are written by hand from the
contract.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import struct
import time

import pytest

import rehome

PASSWORD = "correct horse battery"


class AsyncAdapter:
    """Gives the async handle the blocking handle's shape: each coroutine call runs to its
    end on one event loop, so one test body exercises both surfaces."""

    def __init__(self, handle: rehome.Rehome, loop: asyncio.AbstractEventLoop):
        self._handle = handle
        self._loop = loop

    def __getattr__(self, name):
        attr = getattr(self._handle, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            result = attr(*args, **kwargs)
            if asyncio.iscoroutine(result):
                return self._loop.run_until_complete(result)
            return result

        return call


@pytest.fixture(params=["blocking", "async"])
def surface(request):
    return request.param


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def open_store(surface, loop, url="sqlite::memory:"):
    options = rehome.OpenOptions(fast_password_hashing=True)
    if surface == "blocking":
        return rehome.RehomeBlocking.open(url, options)
    return AsyncAdapter(loop.run_until_complete(rehome.Rehome.open(url, options)), loop)


@pytest.fixture
def store(surface, loop):
    """A new empty store (SQLite in memory)."""
    return open_store(surface, loop)


@pytest.fixture
def system():
    return rehome.Caller.system()


def body(**fields) -> str:
    return json.dumps(fields)


def make_user(store, system, username, *, password=PASSWORD, **fields):
    fields.setdefault("email", f"{username}@example.org")
    return store.create_user(system, body(username=username, password=password, **fields))


def login(store, username, password=PASSWORD):
    """The caller of a new session (MFA off)."""
    return store.sign_in(username, password)


class Totp:
    """RFC 6238 codes (SHA-1, 6 digits, 30 s) computed here with hmac, not by rehome. Each
    code comes from a later time step than the last, because rehome refuses a step already
    used; the previous, current and next steps are accepted."""

    def __init__(self, secret: str):
        padded = secret.upper() + "=" * (-len(secret) % 8)
        self.key = base64.b32decode(padded)
        self.last_step = None

    def code_at(self, step: int) -> str:
        digest = hmac.new(self.key, struct.pack(">Q", step), hashlib.sha1).digest()
        offset = digest[-1] & 0x0F
        value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
        return f"{value % 1_000_000:06d}"

    def next_code(self) -> str:
        now = int(time.time()) // 30
        step = now - 1 if self.last_step is None else max(self.last_step + 1, now - 1)
        assert step <= now + 1, "more codes asked for than the accepted window holds"
        self.last_step = step
        return self.code_at(step)

