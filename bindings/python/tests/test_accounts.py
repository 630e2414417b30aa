"""Users, grants and roles."""

import pytest

import rehome
from conftest import body, login, make_user

P = rehome.Permission


def test_register_as_anonymous(store):
    anonymous = rehome.Caller.anonymous()
    user = store.register(
        anonymous,
        body(username="newcomer", email="new@example.org", password="a long enough secret"),
    )
    assert (user.username, user.role, user.permissions, user.effective_permissions) == (
        "newcomer", None, [], [],
    )
    assert not user.is_superuser and user.is_active and not user.mfa_enabled
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.register(
            anonymous,
            body(username="sneaky", email="s@example.org", password="a long enough secret",
                 is_superuser=True),
        )
    assert "is_superuser" in e.value.fields


def test_user_crud_versions_and_preconditions(store, system):
    user = make_user(store, system, "ada", first_name="Ada")
    assert user.version == 1 and user.first_name == "Ada"
    assert store.get_user(system, user.id).email == "ada@example.org"

    patched = store.update_user(system, user.id, body(last_name="Lovelace"))
    assert (patched.first_name, patched.last_name, patched.version) == ("Ada", "Lovelace", 2)
    with pytest.raises(rehome.RehomeError.PreconditionFailed) as e:
        store.update_user(system, user.id, body(first_name="A."), if_match=1)
    assert e.value.current_version == 2
    with pytest.raises(rehome.RehomeError.Conflict):
        store.update_user(system, user.id, body(first_name="A.", version=1))

    # PUT needs every required field.
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.replace_user(system, user.id, body(username="ada"))
    assert "email" in e.value.fields
    replaced = store.replace_user(
        system, user.id, body(username="ada", email="ada@lovelace.org"), if_match=2
    )
    assert (replaced.email, replaced.last_name, replaced.version) == (
        "ada@lovelace.org", "Lovelace", 3,
    )

    # Reading users needs manageUsers, one's own record too: `me` reads that.
    ada = login(store, "ada")
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.get_user(ada, user.id)
    assert store.me(ada).id == user.id
    other = make_user(store, system, "bob")
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.get_user(ada, other.id)

    store.delete_user(system, other.id)
    with pytest.raises(rehome.RehomeError.NotFound):
        store.get_user(system, other.id)
    with pytest.raises(rehome.RehomeError.NotFound):
        store.delete_user(system, other.id)


def test_unique_username_regardless_of_case_is_a_field_conflict(store, system):
    make_user(store, system, "ada")
    with pytest.raises(rehome.RehomeError.Conflict) as e:
        make_user(store, system, "ADA", email="other@example.org")
    assert "username" in e.value.fields and e.value.detail


def test_list_users_filters_search_order_pages(store, system):
    for name, first in [("carol", "Carol"), ("ada", "Ada"), ("bob", "Bob"), ("dave", "Dave")]:
        make_user(store, system, name, first_name=first, is_active=name != "dave")
    page = store.list_users(system)
    assert [u.username for u in page.results] == ["ada", "bob", "carol", "dave"]
    assert (page.count, page.page, page.page_size, page.total_pages) == (4, 1, 10, 1)
    assert not page.has_next and not page.has_previous
    assert [u.username for u in store.list_users(system, {"is_active": "false"}).results] == ["dave"]
    assert [u.username for u in store.list_users(system, {"search": "aRo"}).results] == ["carol"]
    second = store.list_users(system, {"ordering": "-username", "page_size": "3", "page": "2"})
    assert [u.username for u in second.results] == ["ada"]
    assert second.has_previous and not second.has_next and second.total_pages == 2
    with pytest.raises(rehome.RehomeError.NotFound):
        store.list_users(system, {"page": "9"})
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.list_users(system, {"ordering": "password"})
    assert "ordering" in e.value.fields


def test_direct_grants(store, system):
    make_user(store, system, "ada")
    assert store.user_permissions(system, "ada") == []
    G = rehome.GrantChange
    assert store.change_user_permissions(system, "ada", G.ADD, [P.VIEW_AUDIT_LOG, P.READ_DEVICES]) == [
        P.READ_DEVICES, P.VIEW_AUDIT_LOG,
    ]
    assert store.change_user_permissions(system, "ada", G.REMOVE, [P.READ_DEVICES]) == [
        P.VIEW_AUDIT_LOG
    ]
    assert store.change_user_permissions(system, "ada", G.REPLACE, [P.SCAN_DEVICES]) == [
        P.SCAN_DEVICES
    ]
    assert store.change_user_permissions(system, "ada", G.CLEAR, []) == []
    with pytest.raises(rehome.RehomeError.Validation):
        store.change_user_permissions(system, "ada", G.ADD, [P.SCAN_DEVICES, P.SCAN_DEVICES])
    with pytest.raises(rehome.RehomeError.NotFound):
        store.user_permissions(system, "nobody")


def test_no_escalation(store, system):
    make_user(store, system, "manager", permissions=["manageUsers"])
    make_user(store, system, "ada")
    manager = login(store, "manager")
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.change_user_permissions(manager, "ada", rehome.GrantChange.ADD, [P.DELETE_DEVICES])
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        make_user(store, manager, "eve", is_superuser=True)


def test_roles(store, system):
    role = store.create_role(
        system, body(name="scanner", description="Scans", permissions=["scanDevices", "readDevices"])
    )
    assert (role.name, role.permissions, role.version) == (
        "scanner", [P.READ_DEVICES, P.SCAN_DEVICES], 1,
    )
    assert store.get_role(system, "scanner").description == "Scans"
    user = make_user(store, system, "ada", role="scanner", permissions=["viewAuditLog"])
    assert user.effective_permissions == [P.READ_DEVICES, P.SCAN_DEVICES, P.VIEW_AUDIT_LOG]

    role = store.update_role(system, "scanner", body(description="Scans labels"))
    assert (role.description, role.version) == ("Scans labels", 2)
    role = store.replace_role(system, "scanner", body(name="scanner", permissions=["scanDevices"]), if_match=2)
    assert (role.description, role.permissions) == ("Scans labels", [P.SCAN_DEVICES])
    assert store.get_user(system, user.id).effective_permissions == [P.SCAN_DEVICES, P.VIEW_AUDIT_LOG]

    store.create_role(system, body(name="auditor", permissions=["viewAuditLog"]))
    assert [r.name for r in store.list_roles(system).results] == ["auditor", "scanner"]
    with pytest.raises(rehome.RehomeError.Conflict):
        store.delete_role(system, "scanner")
    with pytest.raises(rehome.RehomeError.PreconditionFailed):
        store.delete_role(system, "auditor", if_match=7)
    store.delete_role(system, "auditor")
    with pytest.raises(rehome.RehomeError.NotFound):
        store.get_role(system, "auditor")


def test_coordinator_resets(store, system):
    make_user(store, system, "coord", permissions=["manageUsers", "readDevices"])
    clerk = make_user(store, system, "clerk", permissions=["readDevices"])
    boss = make_user(store, system, "boss", permissions=["readDevices", "viewAuditLog"])
    coord = login(store, "coord")
    assert not clerk.must_change_password

    temporary = store.reset_password(coord, clerk.id)
    assert len(temporary) == 19 and temporary.count("-") == 3
    assert store.get_user(coord, clerk.id).must_change_password
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.reset_password(coord, boss.id)
    with pytest.raises(rehome.RehomeError.Validation) as e:
        store.reset_password(coord, store.me(coord).id)
    assert list(e.value.fields) == ["id"]

    # Until the password changes, only me, the change and logout work.
    clerk_session = login(store, "clerk", temporary)
    assert store.me(clerk_session).must_change_password
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.list_devices(clerk_session)
    store.change_password(clerk_session, temporary, "a passphrase of my own")
    assert not store.me(clerk_session).must_change_password
    # A caller is a snapshot: the session's token gives the caller as it is now.
    clerk_session = store.authenticate(clerk_session.access_token())
    assert store.list_devices(clerk_session).count == 0

    # Two-step login: 409 when it is off, refused for a user holding more.
    with pytest.raises(rehome.RehomeError.Conflict):
        store.reset_two_step(coord, clerk.id)
    with pytest.raises(rehome.RehomeError.PermissionDenied):
        store.reset_two_step(coord, boss.id)
