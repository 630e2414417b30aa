//! The authorization matrix: every route × {anonymous, authenticated with no permissions, each
//! single permission, superuser, inactive user, revoked token} -> the expected status.
//!
//! The table below is written by hand from the contract's permission table
//! (`docs/api.md`, "Who may do what" and "Routes"), not derived from the router. Each
//! cell runs on a fresh app, so one cell's writes cannot change another's answer.

use std::collections::BTreeSet;

use rehome_core::Caller;
use rehome_core::services::Mode;
use rehome_tests::{Fixtures, PASSWORD, Req, TestApp};
use serde_json::{Value as Json, json};

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Anyone; a token is not looked at.
    Public,
    /// Anyone; a token, when sent, must be valid (registration).
    PublicOptionalToken,
    /// Any authenticated user.
    Authenticated,
    /// An authenticated user holding any one of these (or a superuser).
    AnyOf(&'static [&'static str]),
    /// An authenticated user holding all of these (or a superuser).
    AllOf(&'static [&'static str]),
    /// Superusers only.
    Superuser,
}

use Rule::*;

const PERMISSIONS: [&str; 12] = [
    "readDevices",
    "createDevices",
    "editDevices",
    "deleteDevices",
    "scanDevices",
    "bulkUploadDevices",
    "manageWarehouses",
    "manageDonors",
    "manageShipments",
    "generateQRCodes",
    "manageUsers",
    "viewAuditLog",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Principal {
    Anonymous,
    NoPermissions,
    Single(&'static str),
    Superuser,
    /// A superuser that was deactivated after logging in.
    Inactive,
    /// A superuser whose token was revoked by logging out.
    Revoked,
}

struct Row {
    method: &'static str,
    /// With `{device}`, `{location}`, `{donor}`, `{shipment}`, `{target}`, `{role}`.
    path: &'static str,
    body: fn(&Fixtures) -> Option<Json>,
    /// The status an allowed caller gets.
    ok: u16,
    rule: Rule,
}

fn none(_: &Fixtures) -> Option<Json> {
    None
}

macro_rules! row {
    ($m:literal, $p:literal, $ok:literal, $rule:expr) => {
        Row {
            method: $m,
            path: $p,
            body: none,
            ok: $ok,
            rule: $rule,
        }
    };
    ($m:literal, $p:literal, $body:expr, $ok:literal, $rule:expr) => {
        Row {
            method: $m,
            path: $p,
            body: $body,
            ok: $ok,
            rule: $rule,
        }
    };
}

const DEVICE_READ: Rule = AnyOf(&["readDevices"]);
const LOCATION_READ: Rule = AnyOf(&["readDevices", "manageWarehouses"]);
const DONOR_READ: Rule = AnyOf(&["readDevices", "manageDonors"]);
const SHIPMENT_READ: Rule = AnyOf(&["readDevices", "manageShipments"]);
const USERS: Rule = AnyOf(&["manageUsers"]);

fn table() -> Vec<Row> {
    vec![
        // Authentication (public and self-service).
        row!(
            "POST",
            "/authen/login/",
            |_| Some(json!({"username": "target", "password": PASSWORD})),
            200,
            Public
        ),
        // A made-up MFA token is refused the same way for everyone.
        row!(
            "POST",
            "/authen/mfa/verify/",
            |_| Some(json!({"mfa_token": "not-a-token", "code": "123456"})),
            401,
            Public
        ),
        row!("POST", "/authen/logout/", 204, Authenticated),
        row!("POST", "/authen/logout-all/", 204, Authenticated),
        row!("GET", "/authen/me/", 200, Authenticated),
        row!("POST", "/authen/mfa/totp/setup/", 200, Authenticated),
        // No setup was started: a 400 from the rules, past authorization.
        row!(
            "POST",
            "/authen/mfa/totp/confirm/",
            |_| Some(json!({"code": "123456"})),
            400,
            Authenticated
        ),
        // MFA is not on: 409, past authorization.
        row!(
            "POST",
            "/authen/mfa/totp/disable/",
            |_| Some(json!({"password": PASSWORD, "code": "123456"})),
            409,
            Authenticated
        ),
        row!(
            "POST",
            "/authen/mfa/recovery-codes/",
            |_| Some(json!({"password": PASSWORD, "code": "123456"})),
            409,
            Authenticated
        ),
        // Users.
        row!("GET", "/users/users/", 200, USERS),
        row!(
            "POST",
            "/users/users/",
            |_| Some(
                json!({"username": "newbie", "email": "newbie@example.org", "password": PASSWORD})
            ),
            201,
            USERS
        ),
        row!("GET", "/users/users/{target}/", 200, USERS),
        row!(
            "PUT",
            "/users/users/{target}/",
            |_| Some(json!({"username": "target", "email": "target@example.org"})),
            200,
            USERS
        ),
        row!(
            "PATCH",
            "/users/users/{target}/",
            |_| Some(json!({"first_name": "Tess"})),
            200,
            USERS
        ),
        row!("DELETE", "/users/users/{target}/", 204, USERS),
        row!(
            "POST",
            "/users/register/",
            |_| Some(
                json!({"username": "newcomer", "email": "newcomer@example.org", "password": PASSWORD})
            ),
            201,
            PublicOptionalToken
        ),
        row!(
            "PUT",
            "/users/password/",
            |_| Some(json!({"old_password": PASSWORD, "new_password": "Another-Lantern-77"})),
            204,
            Authenticated
        ),
        row!(
            "PATCH",
            "/users/password/",
            |_| Some(json!({"old_password": PASSWORD, "new_password": "Another-Lantern-77"})),
            204,
            Authenticated
        ),
        // The target holds only manageUsers, so every manageUsers holder may reset it; its
        // two-step login is off (409 once allowed).
        row!("POST", "/users/users/{target}/reset-password/", 200, USERS),
        row!("POST", "/users/users/{target}/reset-two-step/", 409, USERS),
        row!("GET", "/users/user-permissions/target/", 200, USERS),
        row!(
            "PATCH",
            "/users/user-permissions/target/",
            |_| Some(json!({"permissions": ["manageUsers"]})),
            200,
            USERS
        ),
        row!(
            "PUT",
            "/users/user-permissions/target/",
            |_| Some(json!({"permissions": ["manageUsers"]})),
            200,
            USERS
        ),
        row!(
            "DELETE",
            "/users/user-permissions/target/",
            |_| Some(json!({"permissions": ["manageUsers"]})),
            200,
            USERS
        ),
        row!(
            "DELETE",
            "/users/user-permissions/target/clear/",
            200,
            USERS
        ),
        // Administration.
        row!("GET", "/admin/roles/", 200, USERS),
        row!(
            "POST",
            "/admin/roles/",
            |_| Some(json!({"name": "helpers"})),
            201,
            USERS
        ),
        row!("GET", "/admin/roles/{role}/", 200, USERS),
        row!(
            "PUT",
            "/admin/roles/{role}/",
            |_| Some(json!({"name": "viewer", "description": "Reads"})),
            200,
            USERS
        ),
        row!(
            "PATCH",
            "/admin/roles/{role}/",
            |_| Some(json!({"description": "Reads only"})),
            200,
            USERS
        ),
        row!("DELETE", "/admin/roles/{role}/", 204, USERS),
        row!("GET", "/admin/audit-log/", 200, AnyOf(&["viewAuditLog"])),
        // Devices.
        row!("GET", "/inventory/devices/", 200, DEVICE_READ),
        row!(
            "POST",
            "/inventory/devices/",
            |_| Some(
                json!({"type": "Phone", "make": "Nokia", "model": "3310", "serial_number": "SN-NEW"})
            ),
            201,
            AnyOf(&["createDevices"])
        ),
        row!(
            "GET",
            "/inventory/devices/lookup/?serial_number=SN-1",
            200,
            AnyOf(&["scanDevices", "readDevices"])
        ),
        row!(
            "GET",
            "/inventory/devices/scan/?code=SN-1",
            200,
            AnyOf(&["scanDevices", "readDevices"])
        ),
        row!("GET", "/inventory/summary/", 200, DEVICE_READ),
        row!("GET", "/inventory/devices/{device}/", 200, DEVICE_READ),
        row!(
            "PUT",
            "/inventory/devices/{device}/",
            |_| Some(
                json!({"type": "Laptop", "make": "Dell", "model": "Latitude 7490", "serial_number": "SN-1"})
            ),
            200,
            AnyOf(&["editDevices"])
        ),
        row!(
            "PATCH",
            "/inventory/devices/{device}/",
            |_| Some(json!({"notes": "Scratched lid"})),
            200,
            AnyOf(&["editDevices"])
        ),
        row!(
            "DELETE",
            "/inventory/devices/{device}/",
            204,
            AnyOf(&["deleteDevices"])
        ),
        row!(
            "GET",
            "/inventory/devices/{device}/qr.svg",
            200,
            AnyOf(&["generateQRCodes"])
        ),
        row!(
            "GET",
            "/inventory/devices/{device}/history/",
            200,
            DEVICE_READ
        ),
        row!(
            "GET",
            "/inventory/devices/{device}/statuses/",
            200,
            DEVICE_READ
        ),
        // Locations.
        row!("GET", "/inventory/locations/", 200, LOCATION_READ),
        row!(
            "POST",
            "/inventory/locations/",
            |_| Some(json!({"name": "Annex", "address": "2 Quay Street"})),
            201,
            AnyOf(&["manageWarehouses"])
        ),
        row!(
            "GET",
            "/inventory/locations/{location}/",
            200,
            LOCATION_READ
        ),
        row!(
            "PUT",
            "/inventory/locations/{location}/",
            |_| Some(json!({"name": "Depot", "address": "1 Quay Street"})),
            200,
            AnyOf(&["manageWarehouses"])
        ),
        row!(
            "PATCH",
            "/inventory/locations/{location}/",
            |_| Some(json!({"city": "York"})),
            200,
            AnyOf(&["manageWarehouses"])
        ),
        row!(
            "DELETE",
            "/inventory/locations/{location}/",
            204,
            AnyOf(&["manageWarehouses"])
        ),
        // Donors.
        row!("GET", "/inventory/donors/", 200, DONOR_READ),
        row!(
            "POST",
            "/inventory/donors/",
            |_| Some(json!({"name": "Globex", "email": "it@globex.example"})),
            201,
            AnyOf(&["manageDonors"])
        ),
        row!("GET", "/inventory/donors/{donor}/", 200, DONOR_READ),
        row!(
            "PUT",
            "/inventory/donors/{donor}/",
            |_| Some(json!({"name": "Acme Ltd", "email": "it@acme.example"})),
            200,
            AnyOf(&["manageDonors"])
        ),
        row!(
            "PATCH",
            "/inventory/donors/{donor}/",
            |_| Some(json!({"phone": "0113 496 0000"})),
            200,
            AnyOf(&["manageDonors"])
        ),
        row!(
            "DELETE",
            "/inventory/donors/{donor}/",
            204,
            AnyOf(&["manageDonors"])
        ),
        // Shipments.
        row!("GET", "/inventory/shipments/", 200, SHIPMENT_READ),
        row!(
            "POST",
            "/inventory/shipments/",
            |_| Some(json!({"date_shipped": "2026-02-10"})),
            201,
            AnyOf(&["manageShipments"])
        ),
        row!(
            "GET",
            "/inventory/shipments/{shipment}/",
            200,
            SHIPMENT_READ
        ),
        row!(
            "PUT",
            "/inventory/shipments/{shipment}/",
            |_| Some(json!({"date_shipped": "2026-02-02"})),
            200,
            AnyOf(&["manageShipments"])
        ),
        row!(
            "PATCH",
            "/inventory/shipments/{shipment}/",
            |_| Some(json!({"arrived": true})),
            200,
            AnyOf(&["manageShipments"])
        ),
        row!(
            "DELETE",
            "/inventory/shipments/{shipment}/",
            204,
            AnyOf(&["manageShipments"])
        ),
        // Batch: bulkUploadDevices and, per operation, what the single call needs.
        row!(
            "POST",
            "/inventory/batch/",
            |_| Some(
                json!({"operations": [{"op": "create", "model": "device", "data": {"type": "Tablet", "make": "Apple", "model": "iPad", "serial_number": "SN-B1"}}]})
            ),
            200,
            AllOf(&["bulkUploadDevices", "createDevices"])
        ),
        row!(
            "PATCH",
            "/inventory/batch/?model=device",
            |f| Some(json!({"objects": [{"id": f.device, "notes": "Batch note"}]})),
            200,
            AllOf(&["bulkUploadDevices", "editDevices"])
        ),
        row!(
            "DELETE",
            "/inventory/batch/?model=device",
            |f| Some(json!({"ids": [f.device]})),
            200,
            AllOf(&["bulkUploadDevices", "deleteDevices"])
        ),
        row!(
            "POST",
            "/inventory/generate-mock-data/",
            |_| Some(
                json!({"num_locations": 1, "num_donors": 1, "num_devices": 1, "num_shipments": 1, "seed": 7})
            ),
            201,
            Superuser
        ),
        // Service.
        row!("GET", "/healthz", 200, Public),
        row!("GET", "/openapi.json", 200, Public),
    ]
}

fn principals() -> Vec<Principal> {
    let mut v = vec![Principal::Anonymous, Principal::NoPermissions];
    v.extend(PERMISSIONS.iter().map(|p| Principal::Single(p)));
    v.extend([
        Principal::Superuser,
        Principal::Inactive,
        Principal::Revoked,
    ]);
    v
}

/// The status the contract gives `principal` on a route with `rule` whose success is `ok`.
fn expected(rule: Rule, ok: u16, principal: Principal) -> u16 {
    let valid = match principal {
        Principal::Anonymous => None,
        Principal::Inactive | Principal::Revoked => Some(false),
        _ => Some(true),
    };
    match (rule, valid) {
        (Public, _) => ok,
        (PublicOptionalToken, None | Some(true)) => ok,
        (_, None | Some(false)) => 401,
        (Authenticated, Some(true)) => ok,
        (_, Some(true)) if principal == Principal::Superuser => ok,
        (AnyOf(ps), Some(true)) => match principal {
            Principal::Single(p) if ps.contains(&p) => ok,
            _ => 403,
        },
        // No single permission holds two.
        (AllOf(ps), Some(true)) => match principal {
            Principal::Single(p) if ps == [p] => ok,
            _ => 403,
        },
        (Superuser, Some(true)) => 403,
    }
}

/// A fresh app with fixtures and the principal's token.
async fn prepare(principal: Principal) -> (TestApp, Fixtures, Option<String>) {
    let app = TestApp::new();
    let fixtures = app.fixtures().await;
    let token = match principal {
        Principal::Anonymous => None,
        Principal::NoPermissions => Some(app.user_with("caller", &[]).await.1),
        Principal::Single(p) => Some(app.user_with("caller", &[p]).await.1),
        Principal::Superuser => Some(app.superuser("caller").await.1),
        Principal::Inactive => {
            let (id, token) = app.superuser("caller").await;
            app.core
                .update_user(
                    &Caller::system(),
                    rehome_core::UserId(id),
                    &json!({"is_active": false}),
                    Mode::Patch,
                    None,
                )
                .await
                .expect("deactivated");
            Some(token)
        }
        Principal::Revoked => {
            let (_, token) = app.superuser("caller").await;
            app.send(Req::new("POST", "/authen/logout/").token(&token))
                .await
                .expect(204);
            Some(token)
        }
    };
    (app, fixtures, token)
}

fn fill(path: &str, f: &Fixtures) -> String {
    path.replace("{device}", &f.device)
        .replace("{location}", &f.location.to_string())
        .replace("{donor}", &f.donor.to_string())
        .replace("{shipment}", &f.shipment.to_string())
        .replace("{target}", &f.target.to_string())
        .replace("{role}", &f.role)
}

#[tokio::test]
async fn every_route_for_every_kind_of_caller() {
    let mut failures = Vec::new();
    let mut cells = 0;
    for row in table() {
        for principal in principals() {
            let (app, fixtures, token) = prepare(principal).await;
            let mut req = Req::new(row.method, &fill(row.path, &fixtures));
            if let Some(t) = &token {
                req = req.token(t);
            }
            if let Some(body) = (row.body)(&fixtures) {
                req = req.json(&body);
            }
            let resp = app.send(req).await;
            let want = expected(row.rule, row.ok, principal);
            cells += 1;
            if resp.status.as_u16() != want {
                failures.push(format!(
                    "{} {} as {principal:?}: got {}, want {want} ({})",
                    row.method,
                    row.path,
                    resp.status.as_u16(),
                    resp.text()
                ));
            }
            // Refusals say why, in the contract's words.
            if resp.status.as_u16() == 403 && want == 403 {
                assert_eq!(
                    resp.json()["detail"],
                    "You do not have permission to perform this action."
                );
            }
            if want == 401 && row.ok != 401 {
                let detail = resp.json()["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let wanted = if token.is_none() {
                    "Authentication credentials were not provided."
                } else {
                    "Invalid or expired token."
                };
                if detail != wanted {
                    failures.push(format!(
                        "{} {} as {principal:?}: 401 detail {detail:?}, want {wanted:?}",
                        row.method, row.path
                    ));
                }
                if resp.header("www-authenticate").is_none() {
                    failures.push(format!(
                        "{} {} as {principal:?}: 401 without WWW-Authenticate",
                        row.method, row.path
                    ));
                }
            }
        }
    }
    assert!(cells > 1000, "the matrix shrank: {cells} cells");
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The table names every route the router serves (the router is only used to check that the
/// table is complete, never to say what a cell should answer).
#[test]
fn the_table_covers_every_route() {
    let covered: BTreeSet<(String, String)> = table()
        .iter()
        .map(|r| {
            let path = r.path.split('?').next().unwrap_or_default();
            let canonical = path
                .replace("{device}", "{id}")
                .replace("{location}", "{id}")
                .replace("{donor}", "{id}")
                .replace("{shipment}", "{id}")
                .replace("{target}", "{id}")
                .replace("{role}", "{name}")
                .replace("/user-permissions/target/", "/user-permissions/{username}/");
            (r.method.to_owned(), canonical)
        })
        .collect();
    let mut missing = Vec::new();
    for (path, methods) in rehome_http::implemented_routes() {
        for m in methods {
            if !covered.contains(&(m.as_str().to_owned(), path.clone())) {
                missing.push(format!("{} {path}", m.as_str()));
            }
        }
    }
    assert!(missing.is_empty(), "not in the matrix: {missing:?}");
}
