"""Schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

What they do, and why:

* Sign in. An auth provider logs in through POST /authen/login/ and sets
  `Authorization: Bearer ...`. Schemathesis re-fetches it when a response is 401 (its reactive
  re-auth), so a route that revokes the session (logout, logout-all, MFA on or off) does not
  break the rest of the run.
* Who signs in depends on the phase (REHOME_ST_PHASE, set by the script):
  - `main`: the superuser the script made with `rehome createsuperuser` (everything but the
    routes that act on the caller's own session, password or second factor).
  - `self`: a fresh plain user made through the API by the superuser. When it can no longer
    sign in (it changed its password, or its failed re-authentications locked it), the next
    sign-in makes another fresh user.
  - `login`: the routes that count failed logins (/authen/login/, /authen/mfa/verify/). They
    run last, since their failures throttle the loopback address for every later login.
* Keep the superuser usable: in the `main` phase a PUT or PATCH of /users/users/{its own id}/
  would let the run rename, demote or deactivate the very user it runs as, so such a request
  is sent for an id nobody has (the document cannot say "not yourself").
* Known rules no schema can express: exceptions.toml (beside this file) lists failures that
  are expected, each with its reason; `filter_failure` drops exactly those, and the script
  prints how many were dropped.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import re
import threading
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import schemathesis

BASE = os.environ["REHOME_ST_BASE"].rstrip("/")
PHASE = os.environ.get("REHOME_ST_PHASE", "main")
ADMIN_USER = os.environ["REHOME_ST_ADMIN_USER"]
ADMIN_ID = int(os.environ["REHOME_ST_ADMIN_ID"])
PASSWORD = os.environ["REHOME_ST_PASSWORD"]
# An id no user has (ids are counted up from 1 on a fresh store).
NOBODY_ID = 2_000_000_000

EXCEPTIONS_FILE = Path(__file__).with_name("exceptions.toml")


def _request(method: str, path: str, body: dict | None = None, token: str | None = None):
    """(status, JSON body or None) of one request to the server under test."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        raw = err.read()
        status = err.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def _login(username: str) -> str | None:
    status, body = _request("POST", "/authen/login/", {"username": username, "password": PASSWORD})
    if status == 200 and isinstance(body, dict) and "tokens" in body:
        return body["tokens"]["access_token"]
    return None


class _Identity:
    """The user the current phase runs as."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.admin_token: str | None = None
        self.username = ADMIN_USER
        self.fresh = 0

    def admin(self) -> str:
        if self.admin_token is None:
            self.admin_token = _login(ADMIN_USER)
            if self.admin_token is None:
                raise RuntimeError(f"the superuser {ADMIN_USER!r} cannot sign in")
        return self.admin_token

    def new_user(self) -> str:
        """Makes a fresh plain user through the API (as the superuser); answers its name."""
        self.fresh += 1
        name = f"st-{PHASE}-{os.getpid()}-{self.fresh}"
        status, body = _request(
            "POST",
            "/users/users/",
            {"username": name, "email": f"{name}@example.org", "password": PASSWORD},
            token=self.admin(),
        )
        if status != 201:
            raise RuntimeError(f"could not make a fresh user: {status} {body}")
        return name

    def token(self) -> str:
        with self.lock:
            if PHASE == "main":
                return self.admin()
            if self.username == ADMIN_USER:
                self.username = self.new_user()
            token = _login(self.username)
            if token is None:
                # Locked by its own failed re-authentications, or its password was changed.
                self.username = self.new_user()
                token = _login(self.username)
            if token is None:
                raise RuntimeError(f"the fresh user {self.username!r} cannot sign in")
            return token


IDENTITY = _Identity()


@schemathesis.auth()
class RehomeBearer:
    """Bearer token of the phase's user; re-fetched by schemathesis after a 401."""

    def get(self, case, ctx):
        return IDENTITY.token()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# Mock data of up to 1,000,000 objects per kind is valid, but making them takes minutes: the
# server answers 408 after its 30 s request timeout. The run caps each count, so that its
# budget checks the document rather than the generator's speed.
MOCK_COUNT_CAP = 50


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if PHASE != "main":
        return
    if case.operation.path == "/inventory/generate-mock-data/" and isinstance(case.body, dict):
        for key, value in case.body.items():
            if key.startswith("num_") and isinstance(value, (int, float)) and value > MOCK_COUNT_CAP:
                case.body[key] = MOCK_COUNT_CAP
    if case.operation.path == "/users/users/{id}/" and case.method.upper() in ("PUT", "PATCH"):
        params = case.path_parameters or {}
        if str(params.get("id")) == str(ADMIN_ID):
            params["id"] = NOBODY_ID


def _load_exceptions() -> list[dict]:
    with EXCEPTIONS_FILE.open("rb") as f:
        entries = tomllib.load(f).get("exception", [])
    for e in entries:
        for key in ("id", "failure", "method", "path", "status", "reason"):
            if key not in e:
                raise ValueError(f"{EXCEPTIONS_FILE}: an exception lacks {key!r}: {e}")
        e["method"] = e["method"].upper()
        e["_body"] = re.compile(e.get("body", ""), re.S)
    return entries


EXCEPTIONS = _load_exceptions()
USED: collections.Counter = collections.Counter()


@atexit.register
def _report_exceptions() -> None:
    """One line per exception that dropped failures, for the script's output."""
    for name, count in sorted(USED.items()):
        print(f"   exception {name}: dropped {count} failure(s)")


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    """False (drop it) only for a failure exceptions.toml lists."""
    if response is None:
        return True
    text = response.content.decode("utf-8", "replace") if response.content else ""
    for e in EXCEPTIONS:
        if (
            type(failure).__name__ == e["failure"]
            and e["method"] in ("*", case.method.upper())
            and e["path"] in ("*", case.operation.path)
            and response.status_code == e["status"]
            and e["_body"].search(text)
        ):
            USED[e["id"]] += 1
            return False
    return True
