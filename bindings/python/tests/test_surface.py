"""The whole surface is tested: every call of the handles, every error variant."""

import inspect
import pathlib
import re

import rehome

HERE = pathlib.Path(__file__).parent
SOURCES = "\n".join(p.read_text() for p in [*HERE.glob("test_*.py"), HERE / "conftest.py"])


def public_methods(cls):
    return sorted(
        name for name, _ in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")
    )


def test_both_handles_offer_the_same_calls():
    blocking = set(public_methods(rehome.RehomeBlocking)) - {"as_async"}
    asynchronous = set(public_methods(rehome.Rehome)) - {"blocking"}
    assert blocking == asynchronous
    assert len(blocking) > 50


def test_every_call_is_exercised_somewhere():
    calls = public_methods(rehome.RehomeBlocking) + public_methods(rehome.Rehome)
    missing = sorted({c for c in calls if not re.search(rf"\.{c}\(", SOURCES)})
    assert missing == []


def test_every_error_variant_is_raised_somewhere():
    variants = sorted(
        name for name, v in vars(rehome.RehomeError).items()
        if inspect.isclass(v) and issubclass(v, rehome.RehomeError)
    )
    assert variants == sorted([
        "NotFound", "Validation", "Conflict", "PermissionDenied", "AuthenticationFailed",
        "InvalidToken", "MfaRequired", "Locked", "PreconditionFailed", "BatchRejected",
        "Unavailable", "Backend", "Internal",
    ])
    missing = [v for v in variants if f"RehomeError.{v})" not in SOURCES]
    assert missing == []


def test_errors_are_exceptions_with_their_data():
    e = rehome.RehomeError.Locked(retry_after_secs=30)
    assert isinstance(e, rehome.RehomeError) and isinstance(e, Exception)
    assert e.retry_after_secs == 30
