"""Callers, login, sessions, MFA, passwords."""

import base64
import json

import pytest

import rehome
from conftest import PASSWORD, Totp, body, login, make_user

P = rehome.Permission


def test_totp_helper_matches_rfc6238_vector():
    # RFC 6238 appendix B, SHA-1: T = 59 s gives 94287082; a 6-digit code is its last six.
    totp = Totp(base64.b32encode(b"12345678901234567890").decode())
    assert totp.code_at(59 // 30) == "287082"


def test_system_and_anonymous_callers():
    system = rehome.Caller.system()
    assert system.is_authenticated() and system.is_superuser()
    assert len(system.permissions()) == 12
    assert system.user_id() is None and system.username() is None
    assert system.access_token() is None and system.ip() is None
    anonymous = rehome.Caller.anonymous()
    assert not anonymous.is_authenticated() and not anonymous.is_superuser()
    assert anonymous.permissions() == []
    assert not anonymous.has_permission(P.READ_DEVICES)
    assert anonymous.with_ip("203.0.113.9").ip() == "203.0.113.9"


def test_permission_names_are_the_contracts():
    names = [rehome.permission_name(p) for p in P]
    assert names == [
        "readDevices", "createDevices", "editDevices", "deleteDevices", "scanDevices",
        "bulkUploadDevices", "manageWarehouses", "manageDonors", "manageShipments",
        "generateQRCodes", "manageUsers", "viewAuditLog",
    ]


def test_login_authenticate_me_logout(store, system):
    user = make_user(store, system, "ada", permissions=["readDevices"])
    outcome = store.login("ada", PASSWORD, ip="198.51.100.7")
    assert isinstance(outcome, rehome.LoginOutcome.SESSION)
    grant = outcome.grant
    assert (grant.user_id, grant.username) == (user.id, "ada")
    caller = store.authenticate(grant.access_token)
    assert caller.user_id() == user.id and caller.username() == "ada"
    assert caller.access_token() == grant.access_token
    assert caller.permissions() == [P.READ_DEVICES]
    assert caller.has_permission(P.READ_DEVICES) and not caller.has_permission(P.EDIT_DEVICES)
    me = store.me(caller)
    assert me.username == "ada" and me.last_login is not None
    store.logout(caller)
    with pytest.raises(rehome.RehomeError.InvalidToken):
        store.authenticate(grant.access_token)


def test_wrong_password_and_unknown_user_fail_alike(store, system):
    make_user(store, system, "ada")
    with pytest.raises(rehome.RehomeError.AuthenticationFailed) as wrong:
        store.login("ada", "not the password at all")
    with pytest.raises(rehome.RehomeError.AuthenticationFailed) as unknown:
        store.login("nobody", "not the password at all")
    assert wrong.value.detail == unknown.value.detail == "Invalid username or password."


def test_five_failures_lock_the_username_even_for_the_right_password(store, system):
    make_user(store, system, "ada")
    for _ in range(5):
        with pytest.raises(rehome.RehomeError.AuthenticationFailed):
            store.login("ada", "wrong password 123")
    with pytest.raises(rehome.RehomeError.Locked) as e:
        store.login("ada", PASSWORD)
    # The first lock lasts one minute.
    assert 0 < e.value.retry_after_secs <= 60


def test_garbage_token_and_non_user_caller_are_invalid_tokens(store, system):
    with pytest.raises(rehome.RehomeError.InvalidToken):
        store.authenticate("not-a-token")
    with pytest.raises(rehome.RehomeError.InvalidToken):
        store.me(system)


def test_mfa_setup_login_recovery_and_disable(store, system):
    make_user(store, system, "ada")
    ada = login(store, "ada")
    setup = store.totp_setup(ada)
    assert setup.otpauth_uri.startswith("otpauth://totp/") and "<svg" in setup.qr_svg
    totp = Totp(setup.secret)
    recovery = store.totp_confirm(ada, totp.next_code())
    assert len(recovery) == 10 and len(set(recovery)) == 10
    with pytest.raises(rehome.RehomeError.Conflict):
        store.totp_setup(ada)

    # Password step, then the code.
    outcome = store.login("ada", PASSWORD)
    assert isinstance(outcome, rehome.LoginOutcome.MFA_REQUIRED)
    assert outcome.methods == ["totp", "recovery_code"]
    with pytest.raises(rehome.RehomeError.AuthenticationFailed):
        # A code of 1970's second time step: wrong now (a chance match is one in ~300,000).
        store.verify_mfa(outcome.mfa_token, rehome.MfaCode.TOTP(code=totp.code_at(1)))
    grant = store.verify_mfa(outcome.mfa_token, rehome.MfaCode.TOTP(code=totp.next_code()))
    assert grant.username == "ada"
    assert store.me(store.authenticate(grant.access_token)).mfa_enabled

    # sign_in: without a code it says what is missing; with a recovery code it logs in once.
    with pytest.raises(rehome.RehomeError.MfaRequired) as e:
        store.sign_in("ada", PASSWORD)
    assert e.value.mfa_token and e.value.methods == ["totp", "recovery_code"]
    caller = store.sign_in("ada", PASSWORD, rehome.MfaCode.RECOVERY(code=recovery[0]))
    assert caller.username() == "ada"
    with pytest.raises(rehome.RehomeError.AuthenticationFailed):
        store.sign_in("ada", PASSWORD, rehome.MfaCode.RECOVERY(code=recovery[0]))

    fresh = store.regenerate_recovery_codes(caller, PASSWORD, totp.next_code())
    assert len(fresh) == 10 and not set(fresh) & set(recovery)
    # The old codes are void; re-authentication reports a wrong code on its field.
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.totp_disable(caller, PASSWORD, rehome.MfaCode.RECOVERY(code=recovery[1]))
    assert list(e.value.fields) == ["code"]
    store.totp_disable(caller, PASSWORD, rehome.MfaCode.RECOVERY(code=fresh[0]))
    assert not store.me(caller).mfa_enabled
    assert isinstance(store.login("ada", PASSWORD), rehome.LoginOutcome.SESSION)


def test_change_password_ends_other_sessions(store, system):
    make_user(store, system, "ada")
    here = login(store, "ada")
    elsewhere = login(store, "ada")
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.change_password(here, "not my password", "a brand new secret phrase")
    assert list(e.value.fields) == ["old_password"]
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.change_password(here, PASSWORD, "short")
    assert "new_password" in e.value.fields
    store.change_password(here, PASSWORD, "a brand new secret phrase")
    with pytest.raises(rehome.RehomeError.InvalidToken):
        store.authenticate(elsewhere.access_token())
    assert store.authenticate(here.access_token()).username() == "ada"
    assert login(store, "ada", "a brand new secret phrase").username() == "ada"


def test_set_password_and_logout_all(store, system):
    user = make_user(store, system, "ada")
    first = login(store, "ada")
    second = login(store, "ada")
    store.logout_all(first)
    for c in (first, second):
        with pytest.raises(rehome.RehomeError.InvalidToken):
            store.authenticate(c.access_token())
    store.set_password(system, user.id, "operator chose this one")
    with pytest.raises(rehome.RehomeError.AuthenticationFailed):
        store.login("ada", PASSWORD)
    assert login(store, "ada", "operator chose this one").user_id() == user.id


def test_caller_for_and_purge(store, system):
    user = make_user(store, system, "ada", permissions=["scanDevices"])
    caller = store.caller_for(user.id)
    assert caller.username() == "ada" and caller.permissions() == [P.SCAN_DEVICES]
    assert caller.access_token() is None
    with pytest.raises(rehome.RehomeError.NotFound):
        store.caller_for(999)
    # Nothing has expired in a store this young.
    assert store.purge_expired() == 0


def test_login_address_reaches_the_audit_log(store, system):
    make_user(store, system, "ada")
    store.login("ada", PASSWORD, ip="198.51.100.7")
    page = store.list_audit(system, {"action": "auth.login"})
    assert [(e.action, e.actor_username, e.ip) for e in page.results] == [
        ("auth.login", "ada", "198.51.100.7")
    ]
    assert json.loads(page.results[0].changes_json) is not None
