//! The contract's routes. Handlers are thin: parse, call core, map the answer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rehome_core::FieldErrors;
use rehome_core::services::ListResult;
use serde_json::{Value as Json, json};

use crate::error::ApiError;
use crate::extract::RequestUrl;
use utoipa_axum::routes;

use crate::{RouteTable, Settings};

pub(crate) mod admin;
pub(crate) mod auth;
pub(crate) mod inventory;
pub(crate) mod service;
pub(crate) mod users;

/// Every route: one `routes!` per path, its handlers' `#[utoipa::path]` naming it.
pub(crate) fn table(settings: &Settings) -> RouteTable {
    RouteTable::new()
        // Authentication.
        .routes(routes!(auth::login))
        .routes(routes!(auth::mfa_verify))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::logout_all))
        .routes(routes!(auth::me))
        .routes(routes!(auth::totp_setup))
        .routes(routes!(auth::totp_confirm))
        .routes(routes!(auth::totp_disable))
        .routes(routes!(auth::recovery_codes))
        // Users.
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::put, users::patch, users::delete))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::reset_two_step))
        .routes(routes!(users::register))
        .routes(routes!(users::password_put, users::password_patch))
        .routes(routes!(
            users::grants_get,
            users::grants_add,
            users::grants_replace,
            users::grants_remove
        ))
        .routes(routes!(users::grants_clear))
        // Administration.
        .routes(routes!(admin::roles_list, admin::roles_create))
        .routes(routes!(
            admin::role_get,
            admin::role_put,
            admin::role_patch,
            admin::role_delete
        ))
        .routes(routes!(admin::audit_log))
        // Inventory.
        .routes(routes!(inventory::devices_list, inventory::devices_create))
        .routes(routes!(inventory::devices_lookup))
        .routes(routes!(inventory::devices_scan))
        .routes(routes!(inventory::inventory_summary))
        .routes(routes!(
            inventory::device_get,
            inventory::device_put,
            inventory::device_patch,
            inventory::device_delete
        ))
        .routes(routes!(inventory::device_qr))
        .routes(routes!(inventory::device_history))
        .routes(routes!(inventory::device_statuses))
        .routes(routes!(
            inventory::locations_list,
            inventory::locations_create
        ))
        .routes(routes!(
            inventory::location_get,
            inventory::location_put,
            inventory::location_patch,
            inventory::location_delete
        ))
        .routes(routes!(inventory::donors_list, inventory::donors_create))
        .routes(routes!(
            inventory::donor_get,
            inventory::donor_put,
            inventory::donor_patch,
            inventory::donor_delete
        ))
        .routes(routes!(
            inventory::shipments_list,
            inventory::shipments_create
        ))
        .routes(routes!(
            inventory::shipment_get,
            inventory::shipment_put,
            inventory::shipment_patch,
            inventory::shipment_delete
        ))
        .routes(routes!(
            inventory::batch,
            inventory::batch_update,
            inventory::batch_delete
        ))
        .body_limit(settings.batch_body_limit)
        .routes(routes!(inventory::mock_data))
        .timeout(
            settings
                .request_timeout
                .max(std::time::Duration::from_secs(600)),
        )
        // Service.
        .routes(routes!(service::healthz))
        .routes(routes!(service::openapi))
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
