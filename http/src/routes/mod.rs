//! The contract's routes. Handlers are thin: parse, call core, map the answer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rehome_core::FieldErrors;
use rehome_core::services::ListResult;
use serde_json::{Value as Json, json};

use crate::error::ApiError;
use crate::extract::RequestUrl;
use crate::{RouteMethod, RouteTable, Settings};

pub(crate) mod admin;
pub(crate) mod auth;
pub(crate) mod inventory;
pub(crate) mod service;
pub(crate) mod users;

use RouteMethod::{Delete, Get, Patch, Post, Put};

/// Every route, by canonical path.
pub(crate) fn table(settings: &Settings) -> RouteTable {
    RouteTable::new()
        // Authentication.
        .on(Post, "/authen/login/", auth::login)
        .on(Post, "/authen/mfa/verify/", auth::mfa_verify)
        .on(Post, "/authen/logout/", auth::logout)
        .on(Post, "/authen/logout-all/", auth::logout_all)
        .on(Get, "/authen/me/", auth::me)
        .on(Post, "/authen/mfa/totp/setup/", auth::totp_setup)
        .on(Post, "/authen/mfa/totp/confirm/", auth::totp_confirm)
        .on(Post, "/authen/mfa/totp/disable/", auth::totp_disable)
        .on(Post, "/authen/mfa/recovery-codes/", auth::recovery_codes)
        // Users.
        .on(Get, "/users/users/", users::list)
        .on(Post, "/users/users/", users::create)
        .on(Get, "/users/users/{id}/", users::get)
        .on(Put, "/users/users/{id}/", users::put)
        .on(Patch, "/users/users/{id}/", users::patch)
        .on(Delete, "/users/users/{id}/", users::delete)
        .on(Post, "/users/register/", users::register)
        .on(Put, "/users/password/", users::password_put)
        .on(Patch, "/users/password/", users::password_patch)
        .on(
            Get,
            "/users/user-permissions/{username}/",
            users::grants_get,
        )
        .on(
            Patch,
            "/users/user-permissions/{username}/",
            users::grants_add,
        )
        .on(
            Put,
            "/users/user-permissions/{username}/",
            users::grants_replace,
        )
        .on(
            Delete,
            "/users/user-permissions/{username}/",
            users::grants_remove,
        )
        .on(
            Delete,
            "/users/user-permissions/{username}/clear/",
            users::grants_clear,
        )
        // Administration.
        .on(Get, "/admin/roles/", admin::roles_list)
        .on(Post, "/admin/roles/", admin::roles_create)
        .on(Get, "/admin/roles/{name}/", admin::role_get)
        .on(Put, "/admin/roles/{name}/", admin::role_put)
        .on(Patch, "/admin/roles/{name}/", admin::role_patch)
        .on(Delete, "/admin/roles/{name}/", admin::role_delete)
        .on(Get, "/admin/audit-log/", admin::audit_log)
        // Inventory.
        .on(Get, "/inventory/devices/", inventory::devices_list)
        .on(Post, "/inventory/devices/", inventory::devices_create)
        .on(Get, "/inventory/devices/lookup/", inventory::devices_lookup)
        .on(Get, "/inventory/devices/{id}/", inventory::device_get)
        .on(Put, "/inventory/devices/{id}/", inventory::device_put)
        .on(Patch, "/inventory/devices/{id}/", inventory::device_patch)
        .on(Delete, "/inventory/devices/{id}/", inventory::device_delete)
        .on(Get, "/inventory/devices/{id}/qr.svg", inventory::device_qr)
        .on(Get, "/inventory/locations/", inventory::locations_list)
        .on(Post, "/inventory/locations/", inventory::locations_create)
        .on(Get, "/inventory/locations/{id}/", inventory::location_get)
        .on(Put, "/inventory/locations/{id}/", inventory::location_put)
        .on(
            Patch,
            "/inventory/locations/{id}/",
            inventory::location_patch,
        )
        .on(
            Delete,
            "/inventory/locations/{id}/",
            inventory::location_delete,
        )
        .on(Get, "/inventory/donors/", inventory::donors_list)
        .on(Post, "/inventory/donors/", inventory::donors_create)
        .on(Get, "/inventory/donors/{id}/", inventory::donor_get)
        .on(Put, "/inventory/donors/{id}/", inventory::donor_put)
        .on(Patch, "/inventory/donors/{id}/", inventory::donor_patch)
        .on(Delete, "/inventory/donors/{id}/", inventory::donor_delete)
        .on(Get, "/inventory/shipments/", inventory::shipments_list)
        .on(Post, "/inventory/shipments/", inventory::shipments_create)
        .on(Get, "/inventory/shipments/{id}/", inventory::shipment_get)
        .on(Put, "/inventory/shipments/{id}/", inventory::shipment_put)
        .on(
            Patch,
            "/inventory/shipments/{id}/",
            inventory::shipment_patch,
        )
        .on(
            Delete,
            "/inventory/shipments/{id}/",
            inventory::shipment_delete,
        )
        .on(Post, "/inventory/batch/", inventory::batch)
        .on(Patch, "/inventory/batch/", inventory::batch_update)
        .on(Delete, "/inventory/batch/", inventory::batch_delete)
        .body_limit("/inventory/batch/", settings.batch_body_limit)
        .on(Post, "/inventory/generate-mock-data/", inventory::mock_data)
        .timeout(
            "/inventory/generate-mock-data/",
            settings
                .request_timeout
                .max(std::time::Duration::from_secs(600)),
        )
        // Service.
        .on(Get, "/healthz", service::healthz)
        .on(Get, "/openapi.json", service::openapi)
}

/// A single object: `ETag: "<version>"`, and `Location` for a 201.
pub(crate) fn object(
    status: StatusCode,
    body: Json,
    version: u64,
    location: Option<String>,
) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, l);
    }
    response
}

/// The version field of a JSON object (every object carries one).
pub(crate) fn version_of(body: &Json) -> u64 {
    body.get("version").and_then(Json::as_u64).unwrap_or(0)
}

/// The contract's list body with absolute `links`.
pub(crate) fn list_body<T>(url: &RequestUrl, page: &ListResult<T>, results: Vec<Json>) -> Json {
    json!({
        "links": {
            "next": page.has_next().then(|| url.with_page(page.page + 1)),
            "previous": page.has_previous().then(|| url.with_page(page.page - 1)),
        },
        "count": page.count,
        "total_pages": page.total_pages,
        "results": results,
    })
}

/// 204.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A text field of a small JSON body (login, codes): `None` when absent or null, a field
/// error when it is not a string.
pub(crate) fn text_field(body: &Json, name: &str, errors: &mut FieldErrors) -> Option<String> {
    match body.get(name) {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.add(name, "Not a valid string.");
            None
        }
    }
}

/// Like [`text_field`], with "This field is required." when it is absent.
pub(crate) fn required_text(body: &Json, name: &str, errors: &mut FieldErrors) -> Option<String> {
    let present = body.get(name).is_some_and(|v| !v.is_null());
    let v = text_field(body, name, errors);
    if !present {
        errors.add(name, "This field is required.");
    }
    v
}

/// A non-object body is refused the way core refuses one.
pub(crate) fn expect_object(body: &Json) -> Result<(), ApiError> {
    if body.is_object() {
        Ok(())
    } else {
        Err(ApiError::Fields(FieldErrors::one(
            "non_field_errors",
            "Invalid data. Expected a dictionary (JSON object).",
        )))
    }
}

/// Percent-encodes one path segment (role names may hold spaces and more).
pub(crate) fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
