//! Real responses of every operation agree with the OpenAPI document the server serves.
//!
//! A hand-written table says, for every operation, how to make each of its main statuses
//! (success; 400 with a bad body or query; 401 without a token; 403 for a user without the
//! permission; 404 for an unknown id; 409 for a duplicate or stale version; 412 for a stale
//! If-Match; ...). Each row runs on a fresh app (the real router over a `MemoryStore`) with the
//! same fixtures, so rows do not depend on each other. For every response the test checks:
//! the status is the one the row expects; the document declares that status for the
//! operation; the body's media type is declared there; a JSON body matches the declared
//! schema (`$ref`s resolved against the document's components, formats asserted); and the
//! JSON body of a row that succeeded is valid by the operation's request schema (what the
//! server accepts, the document must not call invalid).
//! It also fails when an operation of the document has no row, or a row names an operation
//! the document lacks. Every failure is collected and all are printed at the end.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use rehome_core::Caller;
use rehome_tests::{Fixtures, PASSWORD, Req, TestApp, totp};
use serde_json::{Value as Json, json};

/// Who sends the request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    /// No token.
    Anon,
    /// A superuser.
    Admin,
    /// A user with no permissions (and no MFA).
    Plain,
    /// A user with no permissions and MFA (TOTP) on.
    Mfa,
}

/// What to do before the request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Prep {
    None,
    /// The plain user has started TOTP setup (`{code}` is a valid code for it).
    TotpSetup,
    /// The MFA user has taken the password step of a login (`{mfa_token}`).
    MfaLogin,
    /// Five wrong passwords for the plain user: its username is locked.
    LockPlain,
}

/// One row: a request and the status it must give.
#[derive(Debug, Clone, Copy)]
struct Case {
    status: u16,
    who: Who,
    /// The concrete path and query, with placeholders (see [`fill`]).
    path: &'static str,
    body: Option<&'static str>,
    if_match: Option<&'static str>,
    prep: Prep,
}

const fn c(status: u16, who: Who, path: &'static str) -> Case {
    Case {
        status,
        who,
        path,
        body: None,
        if_match: None,
        prep: Prep::None,
    }
}

impl Case {
    const fn body(mut self, body: &'static str) -> Case {
        self.body = Some(body);
        self
    }
    const fn if_match(mut self, tag: &'static str) -> Case {
        self.if_match = Some(tag);
        self
    }
    const fn prep(mut self, prep: Prep) -> Case {
        self.prep = prep;
        self
    }
}

/// Rows of a collection's list (GET).
macro_rules! list_cases {
    ($path:literal) => {
        [
            c(200, Admin, $path),
            c(400, Admin, concat!($path, "?ordering=nosuchfield")),
            c(401, Anon, $path),
            c(403, Plain, $path),
            c(404, Admin, concat!($path, "?page=99")),
        ]
    };
}
/// Rows of a create (POST): a good body, one missing a required field, a duplicate.
macro_rules! create_cases {
    ($path:literal, $ok:literal, $bad:literal, $dup:literal) => {
        [
            c(201, Admin, $path).body($ok),
            c(400, Admin, $path).body($bad),
            c(401, Anon, $path).body($ok),
            c(403, Plain, $path).body($ok),
            c(409, Admin, $path).body($dup),
        ]
    };
}
/// Rows of a read by id.
macro_rules! get_cases {
    ($path:literal, $unknown:literal) => {
        [
            c(200, Admin, $path),
            c(401, Anon, $path),
            c(403, Plain, $path),
            c(404, Admin, $unknown),
        ]
    };
}
/// Rows of a PUT or PATCH by id: good, invalid, conflicting bodies.
macro_rules! write_cases {
    ($path:literal, $unknown:literal, $ok:literal, $bad:literal, $conflict:literal) => {
        [
            c(200, Admin, $path).body($ok),
            c(400, Admin, $path).body($bad),
            c(401, Anon, $path).body($ok),
            c(403, Plain, $path).body($ok),
            c(404, Admin, $unknown).body($ok),
            c(409, Admin, $path).body($conflict),
            c(412, Admin, $path).body($ok).if_match(STALE),
        ]
    };
}
/// Rows of a DELETE by id.
macro_rules! delete_cases {
    ($path:literal, $unknown:literal) => {
        [
            c(204, Admin, $path),
            c(401, Anon, $path),
            c(403, Plain, $path),
            c(404, Admin, $unknown),
            c(412, Admin, $path).if_match(STALE),
        ]
    };
}

/// An operation as the document names it, and its rows.
struct Op {
    method: &'static str,
    path: &'static str,
    cases: &'static [Case],
}

use Who::{Admin, Anon, Mfa, Plain};

const UNKNOWN_UUID: &str = "00000000-0000-4000-8000-000000000000";
const STALE: &str = "\"99\"";
/// A marker body: sent as `text/plain` instead of JSON.
const NOT_JSON_MEDIA: &str = "<text/plain>";

/// The rows. Statuses are the contract's (docs/api.md), written by hand.
const OPS: &[Op] = &[
    // ---------------------------------------------------------------- auth
    Op {
        method: "POST",
        path: "/authen/login/",
        cases: &[
            c(200, Anon, "/authen/login/").body(r#"{"username":"plain","password":"{password}"}"#),
            c(200, Anon, "/authen/login/").body(r#"{"username":"mfa","password":"{password}"}"#),
            c(400, Anon, "/authen/login/").body(r#"{"username":"plain"}"#),
            c(401, Anon, "/authen/login/")
                .body(r#"{"username":"plain","password":"Wrong-Password-1"}"#),
            c(429, Anon, "/authen/login/")
                .body(r#"{"username":"plain","password":"{password}"}"#)
                .prep(Prep::LockPlain),
        ],
    },
    Op {
        method: "POST",
        path: "/authen/mfa/verify/",
        cases: &[
            c(200, Anon, "/authen/mfa/verify/")
                .body(r#"{"mfa_token":"{mfa_token}","code":"{code}"}"#)
                .prep(Prep::MfaLogin),
            c(400, Anon, "/authen/mfa/verify/").body(r#"{"code":"123456"}"#),
            c(401, Anon, "/authen/mfa/verify/").body(r#"{"mfa_token":"nope","code":"123456"}"#),
        ],
    },
    Op {
        method: "POST",
        path: "/authen/logout/",
        cases: &[
            c(204, Plain, "/authen/logout/"),
            c(401, Anon, "/authen/logout/"),
        ],
    },
    Op {
        method: "POST",
        path: "/authen/logout-all/",
        cases: &[
            c(204, Plain, "/authen/logout-all/"),
            c(401, Anon, "/authen/logout-all/"),
        ],
    },
    Op {
        method: "GET",
        path: "/authen/me/",
        cases: &[c(200, Plain, "/authen/me/"), c(401, Anon, "/authen/me/")],
    },
    Op {
        method: "POST",
        path: "/authen/mfa/totp/setup/",
        cases: &[
            c(200, Plain, "/authen/mfa/totp/setup/"),
            c(401, Anon, "/authen/mfa/totp/setup/"),
            c(409, Mfa, "/authen/mfa/totp/setup/"),
        ],
    },
    Op {
        method: "POST",
        path: "/authen/mfa/totp/confirm/",
        cases: &[
            c(200, Plain, "/authen/mfa/totp/confirm/")
                .body(r#"{"code":"{code}"}"#)
                .prep(Prep::TotpSetup),
            c(400, Plain, "/authen/mfa/totp/confirm/")
                .body(r#"{"code":"000000"}"#)
                .prep(Prep::TotpSetup),
            c(401, Anon, "/authen/mfa/totp/confirm/").body(r#"{"code":"000000"}"#),
            c(409, Mfa, "/authen/mfa/totp/confirm/").body(r#"{"code":"{code}"}"#),
        ],
    },
    Op {
        method: "POST",
        path: "/authen/mfa/totp/disable/",
        cases: &[
            c(204, Mfa, "/authen/mfa/totp/disable/")
                .body(r#"{"password":"{password}","code":"{code}"}"#),
            c(400, Mfa, "/authen/mfa/totp/disable/")
                .body(r#"{"password":"Wrong-Password-1","code":"{code}"}"#),
            c(401, Anon, "/authen/mfa/totp/disable/").body(r#"{"password":"{password}"}"#),
            c(409, Plain, "/authen/mfa/totp/disable/").body(r#"{"password":"{password}"}"#),
        ],
    },
    Op {
        method: "POST",
        path: "/authen/mfa/recovery-codes/",
        cases: &[
            c(200, Mfa, "/authen/mfa/recovery-codes/")
                .body(r#"{"password":"{password}","code":"{code}"}"#),
            c(400, Mfa, "/authen/mfa/recovery-codes/")
                .body(r#"{"password":"Wrong-Password-1","code":"{code}"}"#),
            c(401, Anon, "/authen/mfa/recovery-codes/").body(r#"{"password":"{password}"}"#),
            c(409, Plain, "/authen/mfa/recovery-codes/").body(r#"{"password":"{password}"}"#),
        ],
    },
    // ---------------------------------------------------------------- users
    Op {
        method: "GET",
        path: "/users/users/",
        cases: &[
            c(200, Admin, "/users/users/"),
            c(400, Admin, "/users/users/?ordering=nosuchfield"),
            c(401, Anon, "/users/users/"),
            c(403, Plain, "/users/users/"),
            c(404, Admin, "/users/users/?page=99"),
        ],
    },
    Op {
        method: "POST",
        path: "/users/users/",
        cases: &[
            c(201, Admin, "/users/users/").body(
                r#"{"username":"newbie","email":"newbie@example.org","password":"{password}"}"#,
            ),
            c(400, Admin, "/users/users/").body(r#"{"username":"newbie"}"#),
            c(401, Anon, "/users/users/").body(r#"{"username":"newbie"}"#),
            c(403, Plain, "/users/users/").body(
                r#"{"username":"newbie","email":"newbie@example.org","password":"{password}"}"#,
            ),
            c(409, Admin, "/users/users/").body(
                r#"{"username":"target","email":"other@example.org","password":"{password}"}"#,
            ),
        ],
    },
    Op {
        method: "GET",
        path: "/users/users/{id}/",
        cases: &[
            c(200, Admin, "/users/users/{user}/"),
            c(401, Anon, "/users/users/{user}/"),
            c(403, Plain, "/users/users/{user}/"),
            c(404, Admin, "/users/users/999999/"),
        ],
    },
    Op {
        method: "POST",
        path: "/users/users/{id}/reset-password/",
        cases: &[
            c(200, Admin, "/users/users/{user}/reset-password/"),
            c(400, Admin, "/users/users/{me}/reset-password/"),
            c(401, Anon, "/users/users/{user}/reset-password/"),
            c(403, Plain, "/users/users/{user}/reset-password/"),
            c(404, Admin, "/users/users/999999/reset-password/"),
        ],
    },
    Op {
        method: "POST",
        path: "/users/users/{id}/reset-two-step/",
        cases: &[
            c(204, Admin, "/users/users/{mfa_user}/reset-two-step/"),
            c(400, Admin, "/users/users/{me}/reset-two-step/"),
            c(401, Anon, "/users/users/{user}/reset-two-step/"),
            c(403, Plain, "/users/users/{user}/reset-two-step/"),
            c(404, Admin, "/users/users/999999/reset-two-step/"),
            c(409, Admin, "/users/users/{user}/reset-two-step/"),
        ],
    },
    Op {
        method: "PUT",
        path: "/users/users/{id}/",
        cases: &[
            c(200, Admin, "/users/users/{user}/")
                .body(r#"{"username":"target","email":"target@example.org","first_name":"T"}"#),
            c(400, Admin, "/users/users/{user}/")
                .body(r#"{"username":"target","email":"not an email"}"#),
            c(401, Anon, "/users/users/{user}/").body(r#"{"first_name":"T"}"#),
            c(403, Plain, "/users/users/{user}/")
                .body(r#"{"username":"target","email":"target@example.org"}"#),
            c(404, Admin, "/users/users/999999/")
                .body(r#"{"username":"target","email":"target@example.org"}"#),
            c(409, Admin, "/users/users/{user}/")
                .body(r#"{"username":"plain","email":"target@example.org"}"#),
            c(412, Admin, "/users/users/{user}/")
                .body(r#"{"username":"target","email":"target@example.org"}"#)
                .if_match(STALE),
        ],
    },
    Op {
        method: "PATCH",
        path: "/users/users/{id}/",
        cases: &[
            c(200, Admin, "/users/users/{user}/").body(r#"{"first_name":"T"}"#),
            c(400, Admin, "/users/users/{user}/").body(r#"{"email":"not an email"}"#),
            c(401, Anon, "/users/users/{user}/").body(r#"{"first_name":"T"}"#),
            c(403, Plain, "/users/users/{user}/").body(r#"{"first_name":"T"}"#),
            c(404, Admin, "/users/users/999999/").body(r#"{"first_name":"T"}"#),
            c(409, Admin, "/users/users/{user}/").body(r#"{"username":"plain"}"#),
            c(412, Admin, "/users/users/{user}/")
                .body(r#"{"first_name":"T"}"#)
                .if_match(STALE),
        ],
    },
    Op {
        method: "DELETE",
        path: "/users/users/{id}/",
        cases: &[
            c(204, Admin, "/users/users/{user}/"),
            c(400, Admin, "/users/users/{me}/"),
            c(401, Anon, "/users/users/{user}/"),
            c(403, Plain, "/users/users/{user}/"),
            c(404, Admin, "/users/users/999999/"),
            c(412, Admin, "/users/users/{user}/").if_match(STALE),
        ],
    },
    Op {
        method: "POST",
        path: "/users/register/",
        cases: &[
            c(201, Anon, "/users/register/").body(
                r#"{"username":"joiner","email":"joiner@example.org","password":"{password}"}"#,
            ),
            c(400, Anon, "/users/register/").body(r#"{"username":"joiner"}"#),
            c(409, Anon, "/users/register/").body(
                r#"{"username":"target","email":"joiner@example.org","password":"{password}"}"#,
            ),
        ],
    },
    Op {
        method: "PUT",
        path: "/users/password/",
        cases: &[
            c(204, Plain, "/users/password/")
                .body(r#"{"old_password":"{password}","new_password":"Another-Long-Phrase-77"}"#),
            c(400, Plain, "/users/password/").body(
                r#"{"old_password":"Wrong-Password-1","new_password":"Another-Long-Phrase-77"}"#,
            ),
            c(401, Anon, "/users/password/")
                .body(r#"{"old_password":"{password}","new_password":"Another-Long-Phrase-77"}"#),
            c(429, Plain, "/users/password/")
                .body(r#"{"old_password":"{password}","new_password":"Another-Long-Phrase-77"}"#)
                .prep(Prep::LockPlain),
        ],
    },
    Op {
        method: "PATCH",
        path: "/users/password/",
        cases: &[
            c(204, Plain, "/users/password/")
                .body(r#"{"old_password":"{password}","new_password":"Another-Long-Phrase-77"}"#),
            c(400, Plain, "/users/password/").body(r#"{"old_password":"{password}"}"#),
            c(401, Anon, "/users/password/")
                .body(r#"{"old_password":"{password}","new_password":"Another-Long-Phrase-77"}"#),
        ],
    },
    Op {
        method: "GET",
        path: "/users/user-permissions/{username}/",
        cases: &[
            c(200, Admin, "/users/user-permissions/target/"),
            c(401, Anon, "/users/user-permissions/target/"),
            c(403, Plain, "/users/user-permissions/target/"),
            c(404, Admin, "/users/user-permissions/nobody/"),
        ],
    },
    Op {
        method: "PUT",
        path: "/users/user-permissions/{username}/",
        cases: GRANT_CASES,
    },
    Op {
        method: "PATCH",
        path: "/users/user-permissions/{username}/",
        cases: GRANT_CASES,
    },
    Op {
        method: "DELETE",
        path: "/users/user-permissions/{username}/",
        cases: GRANT_CASES,
    },
    Op {
        method: "DELETE",
        path: "/users/user-permissions/{username}/clear/",
        cases: &[
            c(200, Admin, "/users/user-permissions/target/clear/"),
            c(401, Anon, "/users/user-permissions/target/clear/"),
            c(403, Plain, "/users/user-permissions/target/clear/"),
            c(404, Admin, "/users/user-permissions/nobody/clear/"),
        ],
    },
    // ---------------------------------------------------------------- admin
    Op {
        method: "GET",
        path: "/admin/roles/",
        cases: &[
            c(200, Admin, "/admin/roles/"),
            c(400, Admin, "/admin/roles/?ordering=nosuchfield"),
            c(401, Anon, "/admin/roles/"),
            c(403, Plain, "/admin/roles/"),
            c(404, Admin, "/admin/roles/?page=99"),
        ],
    },
    Op {
        method: "POST",
        path: "/admin/roles/",
        cases: &[
            c(201, Admin, "/admin/roles/").body(r#"{"name":"editor","permissions":["readDevices"]}"#),
            c(400, Admin, "/admin/roles/").body(r#"{"name":"editor","permissions":["noSuch"]}"#),
            c(401, Anon, "/admin/roles/").body(r#"{"name":"editor"}"#),
            c(403, Plain, "/admin/roles/").body(r#"{"name":"editor"}"#),
            c(409, Admin, "/admin/roles/").body(r#"{"name":"viewer"}"#),
        ],
    },
    Op {
        method: "GET",
        path: "/admin/roles/{name}/",
        cases: &[
            c(200, Admin, "/admin/roles/viewer/"),
            c(401, Anon, "/admin/roles/viewer/"),
            c(403, Plain, "/admin/roles/viewer/"),
            c(404, Admin, "/admin/roles/nosuchrole/"),
        ],
    },
    Op {
        method: "PUT",
        path: "/admin/roles/{name}/",
        cases: &[
            c(200, Admin, "/admin/roles/viewer/")
                .body(r#"{"name":"viewer","description":"Reads","permissions":["readDevices"]}"#),
            c(400, Admin, "/admin/roles/viewer/").body(r#"{"name":"viewer","permissions":["noSuch"]}"#),
            c(401, Anon, "/admin/roles/viewer/").body(r#"{"name":"viewer"}"#),
            c(403, Plain, "/admin/roles/viewer/").body(r#"{"name":"viewer"}"#),
            c(404, Admin, "/admin/roles/nosuchrole/").body(r#"{"name":"nosuchrole"}"#),
            c(409, Admin, "/admin/roles/viewer/").body(r#"{"name":"auditor"}"#),
            c(412, Admin, "/admin/roles/viewer/")
                .body(r#"{"name":"viewer"}"#)
                .if_match(STALE),
        ],
    },
    Op {
        method: "PATCH",
        path: "/admin/roles/{name}/",
        cases: &[
            c(200, Admin, "/admin/roles/viewer/").body(r#"{"description":"Reads"}"#),
            c(400, Admin, "/admin/roles/viewer/").body(r#"{"permissions":["noSuch"]}"#),
            c(401, Anon, "/admin/roles/viewer/").body(r#"{"description":"Reads"}"#),
            c(403, Plain, "/admin/roles/viewer/").body(r#"{"description":"Reads"}"#),
            c(404, Admin, "/admin/roles/nosuchrole/").body(r#"{"description":"Reads"}"#),
            c(409, Admin, "/admin/roles/viewer/").body(r#"{"name":"auditor"}"#),
            c(412, Admin, "/admin/roles/viewer/")
                .body(r#"{"description":"Reads"}"#)
                .if_match(STALE),
        ],
    },
    Op {
        method: "DELETE",
        path: "/admin/roles/{name}/",
        cases: &[
            c(204, Admin, "/admin/roles/viewer/"),
            c(401, Anon, "/admin/roles/viewer/"),
            c(403, Plain, "/admin/roles/viewer/"),
            c(404, Admin, "/admin/roles/nosuchrole/"),
            // `auditor` is held by the user `holder`.
            c(409, Admin, "/admin/roles/auditor/"),
            c(412, Admin, "/admin/roles/viewer/").if_match(STALE),
        ],
    },
    Op {
        method: "GET",
        path: "/admin/audit-log/",
        cases: &[
            c(200, Admin, "/admin/audit-log/"),
            c(400, Admin, "/admin/audit-log/?since=yesterday"),
            c(401, Anon, "/admin/audit-log/"),
            c(403, Plain, "/admin/audit-log/"),
            c(404, Admin, "/admin/audit-log/?page=99"),
        ],
    },
    // ---------------------------------------------------------------- devices
    Op {
        method: "GET",
        path: "/inventory/devices/",
        cases: &[
            c(200, Admin, "/inventory/devices/"),
            c(200, Admin, "/inventory/devices/?expand=donor,start_location"),
            c(400, Admin, "/inventory/devices/?ordering=nosuchfield"),
            c(401, Anon, "/inventory/devices/"),
            c(403, Plain, "/inventory/devices/"),
            c(404, Admin, "/inventory/devices/?page=99"),
        ],
    },
    Op {
        method: "POST",
        path: "/inventory/devices/",
        cases: &[
            c(201, Admin, "/inventory/devices/").body(DEVICE_NEW),
            c(400, Admin, "/inventory/devices/").body(r#"{"make":"Dell"}"#),
            c(401, Anon, "/inventory/devices/").body(DEVICE_NEW),
            c(403, Plain, "/inventory/devices/").body(DEVICE_NEW),
            c(409, Admin, "/inventory/devices/").body(DEVICE_DUP),
        ],
    },
    Op {
        method: "GET",
        path: "/inventory/devices/lookup/",
        cases: &[
            c(200, Admin, "/inventory/devices/lookup/?serial_number=SN-1"),
            c(400, Admin, "/inventory/devices/lookup/"),
            c(401, Anon, "/inventory/devices/lookup/?serial_number=SN-1"),
            c(403, Plain, "/inventory/devices/lookup/?serial_number=SN-1"),
            c(404, Admin, "/inventory/devices/lookup/?serial_number=NOPE"),
        ],
    },
    Op {
        method: "GET",
        path: "/inventory/devices/scan/",
        cases: &[
            c(200, Admin, "/inventory/devices/scan/?code=SN-1"),
            c(200, Admin, "/inventory/devices/scan/?code=NOPE"),
            c(200, Admin, "/inventory/devices/scan/?code={device}"),
            c(400, Admin, "/inventory/devices/scan/?code=%20"),
            c(401, Anon, "/inventory/devices/scan/?code=SN-1"),
            c(403, Plain, "/inventory/devices/scan/?code=SN-1"),
            c(404, Admin, "/inventory/devices/scan/?code={unknown_uuid}"),
        ],
    },
    Op {
        method: "GET",
        path: "/inventory/summary/",
        cases: &[
            c(200, Admin, "/inventory/summary/"),
            c(200, Admin, "/inventory/summary/?date=2026-03-02"),
            c(400, Admin, "/inventory/summary/?date=last-week"),
            c(401, Anon, "/inventory/summary/"),
            c(403, Plain, "/inventory/summary/"),
        ],
    },
    Op {
        method: "GET",
        path: "/inventory/devices/{id}/",
        cases: &[
            c(200, Admin, "/inventory/devices/{device}/"),
            c(200, Admin, "/inventory/devices/{device}/?expand=donor,start_location"),
            c(400, Admin, "/inventory/devices/{device}/?expand=nosuchfield"),
            c(401, Anon, "/inventory/devices/{device}/"),
            c(403, Plain, "/inventory/devices/{device}/"),
            c(404, Admin, "/inventory/devices/{unknown_uuid}/"),
        ],
    },
    Op {
        method: "PUT",
        path: "/inventory/devices/{id}/",
        cases: &[
            c(200, Admin, "/inventory/devices/{device}/").body(DEVICE_PUT),
            c(400, Admin, "/inventory/devices/{device}/").body(r#"{"make":"Dell"}"#),
            c(401, Anon, "/inventory/devices/{device}/").body(DEVICE_PUT),
            c(403, Plain, "/inventory/devices/{device}/").body(DEVICE_PUT),
            c(404, Admin, "/inventory/devices/{unknown_uuid}/").body(DEVICE_PUT),
            c(409, Admin, "/inventory/devices/{device}/").body(DEVICE_DUP),
            c(412, Admin, "/inventory/devices/{device}/")
                .body(DEVICE_PUT)
                .if_match(STALE),
        ],
    },
    Op {
        method: "PATCH",
        path: "/inventory/devices/{id}/",
        cases: &[
            c(200, Admin, "/inventory/devices/{device}/").body(r#"{"make":"HP"}"#),
            c(400, Admin, "/inventory/devices/{device}/").body(r#"{"status":"Exploded"}"#),
            c(401, Anon, "/inventory/devices/{device}/").body(r#"{"make":"HP"}"#),
            c(403, Plain, "/inventory/devices/{device}/").body(r#"{"make":"HP"}"#),
            c(404, Admin, "/inventory/devices/{unknown_uuid}/").body(r#"{"make":"HP"}"#),
            c(409, Admin, "/inventory/devices/{device}/").body(r#"{"serial_number":"SN-2"}"#),
            c(412, Admin, "/inventory/devices/{device}/")
                .body(r#"{"make":"HP"}"#)
                .if_match(STALE),
        ],
    },
    Op {
        method: "DELETE",
        path: "/inventory/devices/{id}/",
        cases: &[
            c(204, Admin, "/inventory/devices/{device}/"),
            c(401, Anon, "/inventory/devices/{device}/"),
            c(403, Plain, "/inventory/devices/{device}/"),
            c(404, Admin, "/inventory/devices/{unknown_uuid}/"),
            c(412, Admin, "/inventory/devices/{device}/").if_match(STALE),
        ],
    },
    Op {
        method: "GET",
        path: "/inventory/devices/{id}/qr.svg",
        cases: &[
            c(200, Admin, "/inventory/devices/{device}/qr.svg"),
            c(401, Anon, "/inventory/devices/{device}/qr.svg"),
            c(403, Plain, "/inventory/devices/{device}/qr.svg"),
            c(404, Admin, "/inventory/devices/{unknown_uuid}/qr.svg"),
        ],
    },
    Op {
        method: "GET",
        path: "/inventory/devices/{id}/history/",
        cases: &[
            c(200, Admin, "/inventory/devices/{device}/history/"),
            c(400, Admin, "/inventory/devices/{device}/history/?since=yesterday"),
            c(401, Anon, "/inventory/devices/{device}/history/"),
            c(403, Plain, "/inventory/devices/{device}/history/"),
            c(404, Admin, "/inventory/devices/{unknown_uuid}/history/"),
        ],
    },
    Op {
        method: "GET",
        path: "/inventory/devices/{id}/statuses/",
        cases: &[
            c(200, Admin, "/inventory/devices/{device}/statuses/"),
            c(401, Anon, "/inventory/devices/{device}/statuses/"),
            c(403, Plain, "/inventory/devices/{device}/statuses/"),
            c(404, Admin, "/inventory/devices/{unknown_uuid}/statuses/"),
        ],
    },
    // ---------------------------------------------------------------- locations
    Op {
        method: "GET",
        path: "/inventory/locations/",
        cases: &list_cases!("/inventory/locations/"),
    },
    Op {
        method: "POST",
        path: "/inventory/locations/",
        cases: &create_cases!(
            "/inventory/locations/",
            r#"{"name":"Annex","address":"9 Dock Road","city":"Hull"}"#,
            r#"{"city":"Hull"}"#,
            r#"{"name":"Annex","address":"1 Quay Street","city":"Hull"}"#
        ),
    },
    Op {
        method: "GET",
        path: "/inventory/locations/{id}/",
        cases: &get_cases!("/inventory/locations/{location}/", "/inventory/locations/999999/"),
    },
    Op {
        method: "PUT",
        path: "/inventory/locations/{id}/",
        cases: &write_cases!(
            "/inventory/locations/{location}/",
            "/inventory/locations/999999/",
            r#"{"name":"Depot","address":"1 Quay Street","city":"York"}"#,
            r#"{"name":"Depot","address":"","city":"York"}"#,
            r#"{"name":"Depot","address":"2 Quay Street","city":"York"}"#
        ),
    },
    Op {
        method: "PATCH",
        path: "/inventory/locations/{id}/",
        cases: &write_cases!(
            "/inventory/locations/{location}/",
            "/inventory/locations/999999/",
            r#"{"city":"York"}"#,
            r#"{"address":""}"#,
            r#"{"address":"2 Quay Street"}"#
        ),
    },
    Op {
        method: "DELETE",
        path: "/inventory/locations/{id}/",
        cases: &delete_cases!("/inventory/locations/{location}/", "/inventory/locations/999999/"),
    },
    // ---------------------------------------------------------------- donors
    Op {
        method: "GET",
        path: "/inventory/donors/",
        cases: &list_cases!("/inventory/donors/"),
    },
    Op {
        method: "POST",
        path: "/inventory/donors/",
        cases: &create_cases!(
            "/inventory/donors/",
            r#"{"name":"Globex","email":"it@globex.example"}"#,
            r#"{"email":"it@globex.example"}"#,
            r#"{"name":"Globex","email":"it@acme.example"}"#
        ),
    },
    Op {
        method: "GET",
        path: "/inventory/donors/{id}/",
        cases: &get_cases!("/inventory/donors/{donor}/", "/inventory/donors/999999/"),
    },
    Op {
        method: "PUT",
        path: "/inventory/donors/{id}/",
        cases: &write_cases!(
            "/inventory/donors/{donor}/",
            "/inventory/donors/999999/",
            r#"{"name":"Acme Ltd","email":"it@acme.example"}"#,
            r#"{"name":"","email":"it@acme.example"}"#,
            r#"{"name":"Acme Ltd","email":"it@initech.example"}"#
        ),
    },
    Op {
        method: "PATCH",
        path: "/inventory/donors/{id}/",
        cases: &write_cases!(
            "/inventory/donors/{donor}/",
            "/inventory/donors/999999/",
            r#"{"name":"Acme Ltd"}"#,
            r#"{"name":""}"#,
            r#"{"email":"it@initech.example"}"#
        ),
    },
    Op {
        method: "DELETE",
        path: "/inventory/donors/{id}/",
        cases: &delete_cases!("/inventory/donors/{donor}/", "/inventory/donors/999999/"),
    },
    // ---------------------------------------------------------------- shipments
    Op {
        method: "GET",
        path: "/inventory/shipments/",
        cases: &list_cases!("/inventory/shipments/"),
    },
    Op {
        method: "POST",
        path: "/inventory/shipments/",
        cases: &[
            c(201, Admin, "/inventory/shipments/")
                .body(r#"{"date_shipped":"2026-02-03","destination":{location}}"#),
            c(400, Admin, "/inventory/shipments/").body(r#"{"date_shipped":"not a date"}"#),
            c(401, Anon, "/inventory/shipments/").body(r#"{"date_shipped":"2026-02-03"}"#),
            c(403, Plain, "/inventory/shipments/").body(r#"{"date_shipped":"2026-02-03"}"#),
        ],
    },
    Op {
        method: "GET",
        path: "/inventory/shipments/{id}/",
        cases: &get_cases!("/inventory/shipments/{shipment}/", "/inventory/shipments/999999/"),
    },
    Op {
        method: "PUT",
        path: "/inventory/shipments/{id}/",
        cases: &write_cases!(
            "/inventory/shipments/{shipment}/",
            "/inventory/shipments/999999/",
            r#"{"date_shipped":"2026-02-05","destination":{location}}"#,
            r#"{"date_shipped":"not a date","destination":{location}}"#,
            r#"{"date_shipped":"2026-02-05","destination":{location},"version":99}"#
        ),
    },
    Op {
        method: "PATCH",
        path: "/inventory/shipments/{id}/",
        cases: &write_cases!(
            "/inventory/shipments/{shipment}/",
            "/inventory/shipments/999999/",
            r#"{"date_shipped":"2026-02-05"}"#,
            r#"{"date_shipped":"not a date"}"#,
            r#"{"date_shipped":"2026-02-05","version":99}"#
        ),
    },
    Op {
        method: "DELETE",
        path: "/inventory/shipments/{id}/",
        cases: &delete_cases!("/inventory/shipments/{shipment}/", "/inventory/shipments/999999/"),
    },
    // ---------------------------------------------------------------- batch, mock data
    Op {
        method: "POST",
        path: "/inventory/batch/",
        cases: &[
            c(200, Admin, "/inventory/batch/").body(BATCH_OK),
            c(400, Admin, "/inventory/batch/")
                .body(r#"{"operations":[{"op":"explode","model":"donor"}]}"#),
            c(400, Admin, "/inventory/batch/").body(r#"{"operations":[]}"#),
            c(401, Anon, "/inventory/batch/").body(BATCH_OK),
            c(403, Plain, "/inventory/batch/").body(BATCH_OK),
            c(409, Admin, "/inventory/batch/").body(
                r#"{"operations":[{"op":"create","model":"donor","data":{"name":"B","email":"it@acme.example"}}]}"#,
            ),
        ],
    },
    Op {
        method: "PATCH",
        path: "/inventory/batch/",
        cases: &[
            c(200, Admin, "/inventory/batch/?model=donor")
                .body(r#"{"objects":[{"id":"{donor}","name":"Renamed"}]}"#),
            c(400, Admin, "/inventory/batch/?model=")
                .body(r#"{"objects":[{"id":"{donor}","name":"Renamed"}]}"#),
            c(401, Anon, "/inventory/batch/?model=donor").body(r#"{"objects":[]}"#),
            c(403, Plain, "/inventory/batch/?model=donor")
                .body(r#"{"objects":[{"id":"{donor}","name":"Renamed"}]}"#),
            c(409, Admin, "/inventory/batch/?model=donor")
                .body(r#"{"objects":[{"id":"{donor}","email":"it@initech.example"}]}"#),
        ],
    },
    Op {
        method: "DELETE",
        path: "/inventory/batch/",
        cases: &[
            c(200, Admin, "/inventory/batch/?model=shipment").body(r#"{"ids":["{shipment}"]}"#),
            c(400, Admin, "/inventory/batch/?model=").body(r#"{"ids":["{shipment}"]}"#),
            c(401, Anon, "/inventory/batch/?model=shipment").body(r#"{"ids":["{shipment}"]}"#),
            c(403, Plain, "/inventory/batch/?model=shipment").body(r#"{"ids":["{shipment}"]}"#),
        ],
    },
    Op {
        method: "POST",
        path: "/inventory/generate-mock-data/",
        cases: &[
            c(201, Admin, "/inventory/generate-mock-data/").body(
                r#"{"num_devices":2,"num_donors":1,"num_locations":1,"num_shipments":1,"seed":7}"#,
            ),
            c(400, Admin, "/inventory/generate-mock-data/").body(r#"{"num_devices":-1}"#),
            c(401, Anon, "/inventory/generate-mock-data/").body(r#"{}"#),
            c(403, Plain, "/inventory/generate-mock-data/").body(r#"{}"#),
        ],
    },
    // ---------------------------------------------------------------- service
    Op {
        method: "GET",
        path: "/healthz",
        cases: &[c(200, Anon, "/healthz")],
    },
    Op {
        method: "GET",
        path: "/openapi.json",
        cases: &[c(200, Anon, "/openapi.json")],
    },
];

const GRANT_CASES: &[Case] = &[
    c(200, Admin, "/users/user-permissions/target/").body(r#"{"permissions":["readDevices"]}"#),
    c(400, Admin, "/users/user-permissions/target/").body(r#"{"permissions":["noSuch"]}"#),
    c(401, Anon, "/users/user-permissions/target/").body(r#"{"permissions":["readDevices"]}"#),
    c(403, Plain, "/users/user-permissions/target/").body(r#"{"permissions":["readDevices"]}"#),
    c(404, Admin, "/users/user-permissions/nobody/").body(r#"{"permissions":["readDevices"]}"#),
];

const DEVICE_NEW: &str =
    r#"{"type":"Laptop","make":"Lenovo","model":"T480","serial_number":"SN-NEW","donor":{donor}}"#;
const DEVICE_PUT: &str =
    r#"{"type":"Laptop","make":"Dell","model":"Latitude 7490","serial_number":"SN-1"}"#;
const DEVICE_DUP: &str = r#"{"type":"Laptop","make":"Dell","model":"X","serial_number":"SN-2"}"#;
const BATCH_OK: &str = r#"{"operations":[{"op":"create","model":"donor","data":{"name":"B","email":"b@example.org"}},{"op":"update","model":"donor","id":"{donor}","data":{"name":"C"}}]}"#;

/// One app with the fixtures and the users every row may need.
struct World {
    app: TestApp,
    fx: Fixtures,
    admin_id: i64,
    /// The user with MFA on.
    mfa_id: i64,
    tokens: BTreeMap<&'static str, String>,
    totp_secret: String,
}

impl World {
    async fn new() -> World {
        let app = TestApp::new();
        let fx = app.fixtures().await;
        let make = |model, body: Json| {
            let core = app.core.clone();
            async move {
                core.create(&Caller::system(), model, &body)
                    .await
                    .expect("fixture created");
            }
        };
        use rehome_core::services::Model;
        // Second records, for duplicates on update.
        make(
            Model::Device,
            json!({"type": "Laptop", "make": "Dell", "model": "X", "serial_number": "SN-2"}),
        )
        .await;
        make(
            Model::Location,
            json!({"name": "Yard", "address": "2 Quay Street", "city": "Leeds"}),
        )
        .await;
        make(
            Model::Donor,
            json!({"name": "Initech", "email": "it@initech.example"}),
        )
        .await;
        app.core
            .create_role(&Caller::system(), &json!({"name": "auditor"}))
            .await
            .expect("role");
        app.create_user("holder", json!({"role": "auditor"})).await;
        let (admin_id, admin) = app.superuser("admin").await;
        let (_, plain) = app.user_with("plain", &[]).await;
        let (mfa_id, mfa) = app.user_with("mfa", &[]).await;
        let mut world = World {
            app,
            fx,
            admin_id,
            mfa_id,
            tokens: BTreeMap::from([("admin", admin), ("plain", plain), ("mfa", mfa)]),
            totp_secret: String::new(),
        };
        // Turn MFA on for `mfa`.
        world.totp_secret = world.start_totp("mfa").await;
        let code = world.code();
        world
            .app
            .call(
                "POST",
                "/authen/mfa/totp/confirm/",
                &world.tokens["mfa"],
                &json!({"code": code}),
            )
            .await
            .expect(200);
        world.app.clock.advance(TimeDelta::seconds(30));
        world
    }

    async fn start_totp(&self, user: &str) -> String {
        let r = self
            .app
            .send(Req::new("POST", "/authen/mfa/totp/setup/").token(&self.tokens[user]))
            .await
            .expect(200);
        r.json()["secret"].as_str().expect("secret").to_owned()
    }

    fn code(&self) -> String {
        totp(&self.totp_secret, self.app.core.now().timestamp())
    }

    async fn prepare(&mut self, prep: Prep) -> BTreeMap<&'static str, String> {
        let mut vars = BTreeMap::new();
        match prep {
            Prep::None => {}
            Prep::TotpSetup => self.totp_secret = self.start_totp("plain").await,
            Prep::MfaLogin => {
                let r = self
                    .app
                    .send(
                        Req::new("POST", "/authen/login/")
                            .json(&json!({"username": "mfa", "password": PASSWORD})),
                    )
                    .await
                    .expect(200);
                let token = r.json()["mfa_token"]
                    .as_str()
                    .expect("mfa_token")
                    .to_owned();
                vars.insert("mfa_token", token);
            }
            Prep::LockPlain => {
                for _ in 0..5 {
                    self.app
                        .send(
                            Req::new("POST", "/authen/login/").json(
                                &json!({"username": "plain", "password": "Wrong-Password-1"}),
                            ),
                        )
                        .await
                        .expect(401);
                }
            }
        }
        vars.insert("code", self.code());
        vars
    }

    /// Replaces the placeholders of a path or body.
    fn fill(&self, text: &str, vars: &BTreeMap<&'static str, String>) -> String {
        let mut out = text
            .replace("{device}", &self.fx.device)
            .replace("{location}", &self.fx.location.to_string())
            .replace("{donor}", &self.fx.donor.to_string())
            .replace("{shipment}", &self.fx.shipment.to_string())
            .replace("{user}", &self.fx.target.to_string())
            .replace("{me}", &self.admin_id.to_string())
            .replace("{mfa_user}", &self.mfa_id.to_string())
            .replace("{unknown_uuid}", UNKNOWN_UUID)
            .replace("{password}", PASSWORD);
        for (k, v) in vars {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        out
    }
}

/// The document's response object for `(method, path, status)` (or its `4XX`/`default`).
fn declared<'a>(spec: &'a Json, method: &str, path: &str, status: u16) -> Option<&'a Json> {
    let op = &spec["paths"][path][method.to_ascii_lowercase()];
    let responses = op.get("responses")?;
    responses
        .get(status.to_string())
        .or_else(|| responses.get(format!("{}XX", status / 100)))
        .or_else(|| responses.get("default"))
}

fn resolve_ref<'a>(spec: &'a Json, value: &'a Json) -> &'a Json {
    match value.get("$ref").and_then(Json::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|p| spec.pointer(p))
            .unwrap_or(value),
        None => value,
    }
}

fn check_response(
    spec: &Json,
    op: &Op,
    case: &Case,
    resp: &rehome_tests::Resp,
    failures: &mut Vec<String>,
) {
    let what = format!("{} {} [{} {}]", op.method, op.path, case.status, case.path);
    let status = resp.status.as_u16();
    if status != case.status {
        failures.push(format!(
            "{what}: answered {status}, the table expects {}: {}",
            case.status,
            snippet(&resp.text())
        ));
    }
    let Some(response) = declared(spec, op.method, op.path, status) else {
        failures.push(format!(
            "{what}: status {status} is not declared for the operation: {}",
            snippet(&resp.text())
        ));
        return;
    };
    let response = resolve_ref(spec, response);
    let media = resp
        .header("content-type")
        .map(|m| m.split(';').next().unwrap_or("").trim().to_owned())
        .unwrap_or_default();
    let content = response.get("content").and_then(Json::as_object);
    if resp.body.is_empty() {
        if content.is_some_and(|c| !c.is_empty()) && status != 204 {
            failures.push(format!("{what}: empty body, the document declares content"));
        }
        return;
    }
    let Some(content) = content else {
        failures.push(format!(
            "{what}: a {media} body, the document declares none: {}",
            snippet(&resp.text())
        ));
        return;
    };
    let Some(entry) = content.get(&media) else {
        failures.push(format!(
            "{what}: media type {media:?} is not declared (declared: {:?})",
            content.keys().collect::<Vec<_>>()
        ));
        return;
    };
    if media != "application/json" {
        return;
    }
    let Some(schema) = entry.get("schema") else {
        return;
    };
    let body: Json = match serde_json::from_slice(&resp.body) {
        Ok(b) => b,
        Err(e) => {
            failures.push(format!("{what}: declared JSON, body is not JSON ({e})"));
            return;
        }
    };
    match schema_errors(spec, schema, &body) {
        Ok(errors) if errors.is_empty() => {}
        Ok(errors) => failures.push(format!(
            "{what}: body does not match the declared schema: {}; body: {}",
            errors.join("; "),
            snippet(&resp.text())
        )),
        Err(e) => failures.push(format!("{what}: the declared schema does not compile: {e}")),
    }
}

/// The first errors of `instance` against `schema`, a schema of the document whose
/// `#/components/...` references resolve (the document's components are put beside it).
fn schema_errors(spec: &Json, schema: &Json, instance: &Json) -> Result<Vec<String>, String> {
    let mut standalone = schema.clone();
    if let Some(obj) = standalone.as_object_mut() {
        obj.insert("components".to_owned(), spec["components"].clone());
    }
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&standalone)
        .map_err(|e| e.to_string())?;
    Ok(validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(3)
        .collect())
}

/// A success row's JSON body was accepted by the server: the document must accept it too.
fn check_accepted_body(spec: &Json, op: &Op, case: &Case, body: &str, failures: &mut Vec<String>) {
    if !(200..300).contains(&case.status) || body == NOT_JSON_MEDIA {
        return;
    }
    let what = format!("{} {} [{} {}]", op.method, op.path, case.status, case.path);
    let request = &spec["paths"][op.path][op.method.to_ascii_lowercase()]["requestBody"];
    let request = resolve_ref(spec, request);
    let Some(schema) = request.pointer("/content/application~1json/schema") else {
        failures.push(format!(
            "{what}: the server accepts a JSON body, the document declares none"
        ));
        return;
    };
    let Ok(instance) = serde_json::from_str::<Json>(body) else {
        failures.push(format!("{what}: the table's body is not JSON: {body}"));
        return;
    };
    match schema_errors(spec, schema, &instance) {
        Ok(errors) if errors.is_empty() => {}
        Ok(errors) => failures.push(format!(
            "{what}: an accepted body is invalid by the document's request schema: {}; body: {}",
            errors.join("; "),
            snippet(body)
        )),
        Err(e) => failures.push(format!("{what}: the request schema does not compile: {e}")),
    }
}

fn snippet(text: &str) -> String {
    let t: String = text.chars().take(160).collect();
    if t.len() < text.len() {
        format!("{t}...")
    } else {
        t
    }
}

#[tokio::test]
async fn every_operation_answers_as_the_document_says() {
    let spec: Json = TestApp::new()
        .send(Req::new("GET", "/openapi.json"))
        .await
        .expect(200)
        .json();
    let mut failures = Vec::new();

    // Every operation of the document has rows, and every row's operation is documented.
    let mut documented = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                documented.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    for (method, path) in &documented {
        let has_rows = OPS
            .iter()
            .any(|op| op.method == method && op.path == path && !op.cases.is_empty());
        if !has_rows {
            failures.push(format!(
                "{method} {path}: no sampled response (no row in the table)"
            ));
        }
    }
    for op in OPS {
        if !documented
            .iter()
            .any(|(m, p)| m == op.method && p == op.path)
        {
            failures.push(format!(
                "{} {}: in the table but not in the document",
                op.method, op.path
            ));
        }
    }

    let mut sampled = 0;
    for op in OPS {
        // Two more rows for each operation that takes a body, made from its first success
        // row: a body that is not JSON is 400, and one of another media type is 415.
        let derived: Vec<Case> = op
            .cases
            .iter()
            .find(|c| c.body.is_some() && (200..300).contains(&c.status))
            .map(|ok| {
                vec![
                    Case {
                        status: 400,
                        body: Some("{not json"),
                        ..*ok
                    },
                    Case {
                        status: 415,
                        body: Some(NOT_JSON_MEDIA),
                        ..*ok
                    },
                ]
            })
            .unwrap_or_default();
        for case in op.cases.iter().chain(&derived) {
            let mut world = World::new().await;
            let vars = world.prepare(case.prep).await;
            let mut req = Req::new(op.method, &world.fill(case.path, &vars));
            req = match case.who {
                Who::Anon => req,
                Who::Admin => req.token(&world.tokens["admin"]),
                Who::Plain => req.token(&world.tokens["plain"]),
                Who::Mfa => req.token(&world.tokens["mfa"]),
            };
            if let Some(tag) = case.if_match {
                req = req.header("if-match", tag);
            }
            let body = case.body.map(|b| world.fill(b, &vars));
            match body.as_deref() {
                Some(NOT_JSON_MEDIA) => req = req.raw("text/plain", b"hello".to_vec()),
                Some(body) => req = req.raw("application/json", body.as_bytes().to_vec()),
                None => {}
            }
            let resp = world.app.send(req).await;
            check_response(&spec, op, case, &resp, &mut failures);
            if let Some(body) = &body
                && resp.status.is_success()
            {
                check_accepted_body(&spec, op, case, body, &mut failures);
            }
            sampled += 1;
        }
    }
    println!("{sampled} responses sampled over {} operations", OPS.len());
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{} of the responses or operations disagree with the document:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The checking machinery itself, on a small hand-written document: a `$ref` into the
/// components resolves, a matching body passes, a mismatching one is reported.
#[test]
fn schema_check_resolves_references_and_finds_mismatches() {
    let spec = json!({
        "components": {"schemas": {
            "Detail": {"type": "object", "required": ["detail"],
                       "properties": {"detail": {"type": "string"}}},
            "Page": {"type": "object", "required": ["results"],
                     "properties": {"results": {"type": "array",
                                                "items": {"$ref": "#/components/schemas/Detail"}}}}
        }}
    });
    let schema = json!({"$ref": "#/components/schemas/Page"});
    let good = json!({"results": [{"detail": "a"}]});
    assert_eq!(schema_errors(&spec, &schema, &good), Ok(vec![]));
    let bad = json!({"results": [{"detail": 1}]});
    let errors = schema_errors(&spec, &schema, &bad).expect("compiles");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("/results/0/detail"), "{errors:?}");
    let dated = json!({"type": "string", "format": "date"});
    assert_eq!(
        schema_errors(&spec, &dated, &json!("2026-02-30")).map(|e| e.len()),
        Ok(1)
    );
    assert_eq!(
        schema_errors(&spec, &dated, &json!("2026-02-28")),
        Ok(vec![])
    );
}
