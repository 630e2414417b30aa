//! `/inventory/`: devices (with `?expand=`, lookup and QR labels), locations, donors,
//! shipments, batch writes and mock data.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use rehome_core::services::inventory::record_json;
use rehome_core::services::{ListParams, Mode, Model};
use rehome_core::{Caller, Device, FieldErrors, Record};
use serde_json::{Value as Json, json};

use super::{list_body, no_content, object, version_of};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, IfMatch, JsonBody, Params, PathParam, RequestUrl};
use crate::openapi::{
    DevicePatch, DeviceWrite, DonorPatch, DonorWrite, ExpandedDevice, LocationPatch, LocationWrite,
    ShipmentPatch, ShipmentWrite, doc,
};

fn collection_path(model: Model) -> &'static str {
    match model {
        Model::Device => "/inventory/devices/",
        Model::Location => "/inventory/locations/",
        Model::Donor => "/inventory/donors/",
        Model::Shipment => "/inventory/shipments/",
    }
}

fn location_of(model: Model, record: &Record) -> String {
    let id = rehome_core::services::inventory::record_json(record);
    let id = match model {
        Model::Device => id.get("device_id"),
        Model::Location => id.get("location_id"),
        Model::Donor => id.get("donor_id"),
        Model::Shipment => id.get("shipping_id"),
    }
    .map(|v| match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    })
    .unwrap_or_default();
    format!("{}{id}/", collection_path(model))
}

/// The names `?expand=` asks for (empty when it is absent).
fn expand_names(params: &ListParams) -> Vec<String> {
    params
        .get("expand")
        .map(|e| {
            e.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Devices as JSON, with the references `?expand=` names inlined.
async fn devices_json(
    st: &AppState,
    devices: &[Device],
    params: &ListParams,
) -> ApiResult<Vec<Json>> {
    let names = expand_names(params);
    if names.is_empty() {
        return Ok(devices
            .iter()
            .map(|d| serde_json::to_value(d).unwrap_or(Json::Null))
            .collect());
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Ok(st.core.expand_devices(devices, &names).await?)
}

fn as_device(record: Record) -> Option<Device> {
    match record {
        Record::Device(d) => Some(d),
        _ => None,
    }
}

async fn list(
    st: AppState,
    caller: Caller,
    model: Model,
    params: ListParams,
    url: RequestUrl,
) -> ApiResult {
    let page = st.core.list(&caller, model, &params).await?;
    let results = if model == Model::Device {
        let devices: Vec<Device> = page.results.iter().cloned().filter_map(as_device).collect();
        devices_json(&st, &devices, &params).await?
    } else {
        page.results.iter().map(record_json).collect()
    };
    Ok(axum::Json(list_body(&url, &page, results)).into_response())
}

async fn create(st: AppState, caller: Caller, model: Model, body: Json) -> ApiResult {
    let record = st.core.create(&caller, model, &body).await?;
    let location = location_of(model, &record);
    Ok(object(
        StatusCode::CREATED,
        record_json(&record),
        record.version(),
        Some(location),
    ))
}

async fn get(
    st: AppState,
    caller: Caller,
    model: Model,
    id: String,
    params: ListParams,
) -> ApiResult {
    let record = st.core.get(&caller, model, &id).await?;
    let version = record.version();
    let body = match record {
        Record::Device(d) => devices_json(&st, std::slice::from_ref(&d), &params)
            .await?
            .pop()
            .unwrap_or(Json::Null),
        other => record_json(&other),
    };
    Ok(object(StatusCode::OK, body, version, None))
}

async fn update(
    st: AppState,
    caller: Caller,
    model: Model,
    id: String,
    body: Json,
    mode: Mode,
    if_match: Option<u64>,
) -> ApiResult {
    let record = st
        .core
        .update(&caller, model, &id, &body, mode, if_match)
        .await?;
    let json = record_json(&record);
    let version = version_of(&json);
    Ok(object(StatusCode::OK, json, version, None))
}

async fn delete(
    st: AppState,
    caller: Caller,
    model: Model,
    id: String,
    if_match: Option<u64>,
) -> ApiResult {
    st.core.delete(&caller, model, &id, if_match).await?;
    Ok(no_content())
}

// ---------------------------------------------------------------------------------- devices

/// Lists devices.
#[utoipa::path(get, path = "/inventory/devices/", tag = "inventory", security(("bearer" = [])),
    params(doc::ListQuery, doc::ExpandQuery),
    responses(
        (status = 200, description = "One page of devices", body = doc::DevicePage),
        (status = 400, description = "A malformed filter, ordering or expand"),
        (status = 403, description = "Needs readDevices"),
        (status = 404, description = "Invalid page"),
    ))]
pub(crate) async fn devices_list(
    State(st): State<AppState>,
    Auth(caller): Auth,
    Params(params): Params,
    url: RequestUrl,
) -> ApiResult {
    list(st, caller, Model::Device, params, url).await
}

/// Creates a device.
///
/// Rules no schema states: `serial_number` and a non-empty `mac_id` are unique (409); donor,
/// locations, `received_by` and shipments must exist (400); status moves follow the lifecycle
/// (400) unless the caller is a superuser.
#[utoipa::path(post, path = "/inventory/devices/", tag = "inventory", security(("bearer" = [])),
    request_body = DeviceWrite,
    responses(
        (status = 201, description = "Created; Location names it", body = rehome_core::Device),
        (status = 403, description = "Needs createDevices"),
        (status = 409, description = "Serial number or MAC taken"),
    ))]
pub(crate) async fn devices_create(
    State(st): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult {
    create(st, caller, Model::Device, body).await
}

/// Finds a device by serial number or MAC address (the scan flow).
///
/// Give `serial_number` or `mac_id` (not empty); neither is 400.
#[utoipa::path(get, path = "/inventory/devices/lookup/", tag = "inventory", security(("bearer" = [])),
    params(doc::LookupQuery, doc::ExpandQuery),
    responses(
        (status = 200, description = "The device", body = ExpandedDevice),
        (status = 400, description = "Neither serial_number nor mac_id given"),
        (status = 403, description = "Needs scanDevices or readDevices"),
        (status = 404, description = "No such device"),
    ))]
pub(crate) async fn devices_lookup(
    State(st): State<AppState>,
    Auth(caller): Auth,
    Params(params): Params,
) -> ApiResult {
    let device = st
        .core
        .lookup_device(&caller, params.get("serial_number"), params.get("mac_id"))
        .await?;
    let version = device.version;
    let body = devices_json(&st, std::slice::from_ref(&device), &params)
        .await?
        .pop()
        .unwrap_or(Json::Null);
    Ok(object(StatusCode::OK, body, version, None))
}

/// What a scanned code names: a device (by its label, MAC address or serial number) or an
/// unknown code to take in.
///
/// The code is trimmed. A device label's QR (the device id, bare or as an address ending in
/// `/devices/{id}`) names that device or is 404; a MAC-shaped code is tried as a MAC address,
/// then as a serial number; anything else is a serial number. A code no device has is 200
/// `{"kind": "unknown", ...}` with the code as the intake form would take it.
#[utoipa::path(get, path = "/inventory/devices/scan/", tag = "inventory", security(("bearer" = [])),
    params(doc::ScanQuery),
    responses(
        (status = 200, description = "The device it names, or an unknown code", body = rehome_core::services::Scanned),
        (status = 400, description = "No code, a blank one, or one over 512 characters"),
        (status = 403, description = "Needs scanDevices or readDevices"),
        (status = 404, description = "A label whose device does not exist"),
    ))]
pub(crate) async fn devices_scan(
    State(st): State<AppState>,
    Auth(caller): Auth,
    Params(params): Params,
) -> ApiResult {
    let code = params.get("code").unwrap_or_default();
    let scanned = st.core.scan(&caller, code).await?;
    Ok(axum::Json(scanned).into_response())
}

/// The inventory at a glance: devices by status, and devices taken in and shipped per week.
///
/// Eight weeks (Monday to Sunday), oldest first, ending with the week of `date` (default:
/// today in the organisation's time zone).
#[utoipa::path(get, path = "/inventory/summary/", tag = "inventory", security(("bearer" = [])),
    params(doc::SummaryQuery),
    responses(
        (status = 200, description = "Counts by status and per week", body = rehome_core::services::InventorySummary),
        (status = 400, description = "A date that is not YYYY-MM-DD"),
        (status = 403, description = "Needs readDevices"),
    ))]
pub(crate) async fn inventory_summary(
    State(st): State<AppState>,
    Auth(caller): Auth,
    Params(params): Params,
) -> ApiResult {
    let date = match params.get("date").map(str::trim).filter(|d| !d.is_empty()) {
        Some(text) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| rehome_core::Error::invalid("date", "Enter a date as YYYY-MM-DD."))?,
        None => st
            .core
            .now()
            .with_timezone(&st.settings.time_zone)
            .date_naive(),
    };
    let summary = st.core.inventory_summary(&caller, date).await?;
    Ok(axum::Json(summary).into_response())
}

/// Reads a device.
#[utoipa::path(get, path = "/inventory/devices/{id}/", tag = "inventory", security(("bearer" = [])),
    params(("id" = String, Path, description = "Device UUID, with or without dashes"), doc::ExpandQuery),
    responses(
        (status = 200, description = "The device; ETag is its version", body = ExpandedDevice),
        (status = 400, description = "Unknown expand name"),
        (status = 403, description = "Needs readDevices"),
        (status = 404, description = "No such device"),
    ))]
pub(crate) async fn device_get(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
    Params(params): Params,
) -> ApiResult {
    get(st, caller, Model::Device, id, params).await
}

/// Replaces a device (every required field).
///
/// Rules no schema states: `serial_number` and a non-empty `mac_id` are unique (409); donor,
/// locations, `received_by` and shipments must exist (400); status moves follow the lifecycle
/// (400) unless the caller is a superuser.
#[utoipa::path(put, path = "/inventory/devices/{id}/", tag = "inventory", security(("bearer" = [])),
    params(("id" = String, Path, description = "Device UUID"), doc::IfMatchHeader),
    request_body = DeviceWrite,
    responses(
        (status = 200, description = "Updated", body = rehome_core::Device),
        (status = 400, description = "Invalid fields or status move"),
        (status = 403, description = "Needs editDevices"),
        (status = 404, description = "No such device"),
        (status = 409, description = "Unique key taken or stale version"),
    ))]
pub(crate) async fn device_put(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
    IfMatch(if_match): IfMatch,
    JsonBody(body): JsonBody,
) -> ApiResult {
    update(st, caller, Model::Device, id, body, Mode::Replace, if_match).await
}

/// Updates some fields of a device.
///
/// Rules no schema states: `serial_number` and a non-empty `mac_id` are unique (409); donor,
/// locations, `received_by` and shipments must exist (400); status moves follow the lifecycle
/// (400) unless the caller is a superuser.
#[utoipa::path(patch, path = "/inventory/devices/{id}/", tag = "inventory", security(("bearer" = [])),
    params(("id" = String, Path, description = "Device UUID"), doc::IfMatchHeader),
    request_body = DevicePatch,
    responses(
        (status = 200, description = "Updated", body = rehome_core::Device),
        (status = 400, description = "Invalid fields or status move"),
        (status = 403, description = "Needs editDevices"),
        (status = 404, description = "No such device"),
        (status = 409, description = "Unique key taken or stale version"),
    ))]
pub(crate) async fn device_patch(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
    IfMatch(if_match): IfMatch,
    JsonBody(body): JsonBody,
) -> ApiResult {
    update(st, caller, Model::Device, id, body, Mode::Patch, if_match).await
}

/// Deletes a device.
#[utoipa::path(delete, path = "/inventory/devices/{id}/", tag = "inventory", security(("bearer" = [])),
    params(("id" = String, Path, description = "Device UUID"), doc::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Needs deleteDevices"),
        (status = 404, description = "No such device"),
    ))]
pub(crate) async fn device_delete(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
    IfMatch(if_match): IfMatch,
) -> ApiResult {
    delete(st, caller, Model::Device, id, if_match).await
}

/// An SVG QR label encoding the device's id.
#[utoipa::path(get, path = "/inventory/devices/{id}/qr.svg", tag = "inventory", security(("bearer" = [])),
    params(("id" = String, Path, description = "Device UUID")),
    responses(
        (status = 200, description = "The label", content_type = "image/svg+xml", body = String),
        (status = 403, description = "Needs generateQRCodes"),
        (status = 404, description = "No such device"),
    ))]
pub(crate) async fn device_qr(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
) -> ApiResult {
    let svg = st.core.device_qr_svg(&caller, &id).await?;
    let mut response = svg.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    Ok(response)
}

/// The device's own audit entries, newest first.
///
/// Takes the audit log's parameters; `object_type` and `object_id` are the device's own and
/// others given are ignored.
#[utoipa::path(get, path = "/inventory/devices/{id}/history/", tag = "inventory", security(("bearer" = [])),
    params(("id" = String, Path, description = "Device UUID, with or without dashes"), doc::ListQuery, doc::AuditRange),
    responses(
        (status = 200, description = "One page of the device's entries", body = doc::AuditPage),
        (status = 400, description = "A malformed filter"),
        (status = 403, description = "Needs readDevices"),
        (status = 404, description = "No such device, or invalid page"),
    ))]
pub(crate) async fn device_history(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
    Params(params): Params,
    url: RequestUrl,
) -> ApiResult {
    let page = st.core.device_history(&caller, &id, &params).await?;
    let results = page
        .results
        .iter()
        .map(|e| serde_json::to_value(e).unwrap_or(Json::Null))
        .collect();
    Ok(axum::Json(list_body(&url, &page, results)).into_response())
}

/// Every status, in lifecycle order, with whether the caller may move the device there now
/// and, when not, why.
///
/// The current status is always allowed; without editDevices nothing else is; a superuser may
/// move anywhere; everyone else follows the lifecycle.
#[utoipa::path(get, path = "/inventory/devices/{id}/statuses/", tag = "inventory", security(("bearer" = [])),
    params(("id" = String, Path, description = "Device UUID, with or without dashes")),
    responses(
        (status = 200, description = "Each status, allowed or why not", body = Vec<rehome_core::NextStatus>),
        (status = 403, description = "Needs readDevices"),
        (status = 404, description = "No such device"),
    ))]
pub(crate) async fn device_statuses(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
) -> ApiResult {
    let statuses = st.core.device_statuses(&caller, &id).await?;
    Ok(axum::Json(statuses).into_response())
}

// ------------------------------------------------------- locations, donors and shipments

/// The six handlers of one of the simpler collections, each with its OpenAPI entry.
macro_rules! collection_routes {
    (
        $model:expr, $tag:literal, $collection:literal, $item:literal, $schema:ty, $write:ty,
        $patch_body:ty, $page:ty,
        $read_perm:literal, $write_perm:literal,
        $list:ident, $create:ident, $get:ident, $put:ident, $patch:ident, $delete:ident
    ) => {
        #[doc = concat!("Lists ", $tag, ".")]
        #[utoipa::path(get, path = $collection, tag = "inventory", security(("bearer" = [])),
            params(doc::ListQuery),
            responses(
                (status = 200, description = "One page", body = $page),
                (status = 400, description = "A malformed filter or ordering"),
                (status = 403, description = $read_perm),
                (status = 404, description = "Invalid page"),
            ))]
        pub(crate) async fn $list(
            State(st): State<AppState>,
            Auth(caller): Auth,
            Params(params): Params,
            url: RequestUrl,
        ) -> ApiResult {
            list(st, caller, $model, params, url).await
        }

        #[doc = concat!("Creates one of the ", $tag, ".")]
        #[doc = ""]
        #[doc = "Unique keys are checked against the stored data (409): a location's address and non-empty phone, a donor's email; a shipment's destination must exist (400)."]
        #[utoipa::path(post, path = $collection, tag = "inventory", security(("bearer" = [])),
            request_body = $write,
            responses(
                (status = 201, description = "Created; Location names it", body = $schema),
                (status = 403, description = $write_perm),
                (status = 409, description = "A unique key is taken"),
            ))]
        pub(crate) async fn $create(
            State(st): State<AppState>,
            Auth(caller): Auth,
            JsonBody(body): JsonBody,
        ) -> ApiResult {
            create(st, caller, $model, body).await
        }

        #[doc = concat!("Reads one of the ", $tag, ".")]
        #[utoipa::path(get, path = $item, tag = "inventory", security(("bearer" = [])),
            params(("id" = i64, Path, description = "Id")),
            responses(
                (status = 200, description = "The object; ETag is its version", body = $schema),
                (status = 403, description = $read_perm),
                (status = 404, description = "No such object"),
            ))]
        pub(crate) async fn $get(
            State(st): State<AppState>,
            Auth(caller): Auth,
            PathParam(id): PathParam,
            Params(params): Params,
        ) -> ApiResult {
            get(st, caller, $model, id, params).await
        }

        #[doc = concat!("Replaces one of the ", $tag, ".")]
        #[doc = ""]
        #[doc = "Unique keys are checked against the stored data (409): a location's address and non-empty phone, a donor's email; a shipment's destination must exist (400)."]
        #[utoipa::path(put, path = $item, tag = "inventory", security(("bearer" = [])),
            params(("id" = i64, Path, description = "Id"), doc::IfMatchHeader),
            request_body = $write,
            responses(
                (status = 200, description = "Updated", body = $schema),
                (status = 403, description = $write_perm),
                (status = 404, description = "No such object"),
                (status = 409, description = "Unique key taken or stale version"),
            ))]
        pub(crate) async fn $put(
            State(st): State<AppState>,
            Auth(caller): Auth,
            PathParam(id): PathParam,
            IfMatch(if_match): IfMatch,
            JsonBody(body): JsonBody,
        ) -> ApiResult {
            update(st, caller, $model, id, body, Mode::Replace, if_match).await
        }

        #[doc = concat!("Updates some fields of one of the ", $tag, ".")]
        #[doc = ""]
        #[doc = "Unique keys are checked against the stored data (409): a location's address and non-empty phone, a donor's email; a shipment's destination must exist (400)."]
        #[utoipa::path(patch, path = $item, tag = "inventory", security(("bearer" = [])),
            params(("id" = i64, Path, description = "Id"), doc::IfMatchHeader),
            request_body = $patch_body,
            responses(
                (status = 200, description = "Updated", body = $schema),
                (status = 403, description = $write_perm),
                (status = 404, description = "No such object"),
                (status = 409, description = "Unique key taken or stale version"),
            ))]
        pub(crate) async fn $patch(
            State(st): State<AppState>,
            Auth(caller): Auth,
            PathParam(id): PathParam,
            IfMatch(if_match): IfMatch,
            JsonBody(body): JsonBody,
        ) -> ApiResult {
            update(st, caller, $model, id, body, Mode::Patch, if_match).await
        }

        #[doc = concat!("Deletes one of the ", $tag, "; references to it become null.")]
        #[utoipa::path(delete, path = $item, tag = "inventory", security(("bearer" = [])),
            params(("id" = i64, Path, description = "Id"), doc::IfMatchHeader),
            responses(
                (status = 204, description = "Deleted"),
                (status = 403, description = $write_perm),
                (status = 404, description = "No such object"),
            ))]
        pub(crate) async fn $delete(
            State(st): State<AppState>,
            Auth(caller): Auth,
            PathParam(id): PathParam,
            IfMatch(if_match): IfMatch,
        ) -> ApiResult {
            delete(st, caller, $model, id, if_match).await
        }
    };
}

collection_routes!(
    Model::Location,
    "locations",
    "/inventory/locations/",
    "/inventory/locations/{id}/",
    rehome_core::Location,
    LocationWrite,
    LocationPatch,
    doc::LocationPage,
    "Needs readDevices or manageWarehouses",
    "Needs manageWarehouses",
    locations_list,
    locations_create,
    location_get,
    location_put,
    location_patch,
    location_delete
);

collection_routes!(
    Model::Donor,
    "donors",
    "/inventory/donors/",
    "/inventory/donors/{id}/",
    rehome_core::Donor,
    DonorWrite,
    DonorPatch,
    doc::DonorPage,
    "Needs readDevices or manageDonors",
    "Needs manageDonors",
    donors_list,
    donors_create,
    donor_get,
    donor_put,
    donor_patch,
    donor_delete
);

collection_routes!(
    Model::Shipment,
    "shipments",
    "/inventory/shipments/",
    "/inventory/shipments/{id}/",
    rehome_core::Shipment,
    ShipmentWrite,
    ShipmentPatch,
    doc::ShipmentPage,
    "Needs readDevices or manageShipments",
    "Needs manageShipments",
    shipments_list,
    shipments_create,
    shipment_get,
    shipment_put,
    shipment_patch,
    shipment_delete
);

// ------------------------------------------------------------------------------- batch

/// Applies create/update/delete operations all or nothing.
///
/// Every operation is checked as its own route would check it; the objects updated or
/// deleted and the references must exist, unique keys must be free (400/409 name the failing
/// operations; nothing is written).
#[utoipa::path(post, path = "/inventory/batch/", tag = "inventory", security(("bearer" = [])),
    request_body = crate::openapi::BatchRequest,
    responses(
        (status = 200, description = "Every operation applied", body = doc::BatchResponse),
        (status = 400, description = "Invalid operations; nothing written"),
        (status = 403, description = "Needs bulkUploadDevices and each operation's permission"),
        (status = 409, description = "Every failure a conflict; nothing written"),
        (status = 413, description = "Body over 10 MiB"),
    ))]
pub(crate) async fn batch(
    State(st): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let results = st.core.batch(&caller, &body).await?;
    Ok(axum::Json(json!({ "results": results })).into_response())
}

/// The model a compatibility batch names in `?model=`.
fn batch_model(params: &ListParams) -> ApiResult<Model> {
    let name = params.get("model").unwrap_or_default().trim();
    Model::from_name(name).ok_or_else(|| {
        ApiError::Fields(FieldErrors::one(
            "model",
            "Give ?model= one of device, location, donor, shipment.",
        ))
    })
}

/// The original's form: partial updates of `{"objects": [{"id": ...}, ...]}`, all or nothing.
///
/// Each object must exist and pass the rules of its PATCH route (400/409; nothing is written).
#[utoipa::path(patch, path = "/inventory/batch/", tag = "inventory", security(("bearer" = [])),
    params(doc::BatchModelQuery),
    request_body = crate::openapi::BatchObjects,
    responses(
        (status = 200, description = "Every object updated", body = doc::Message),
        (status = 400, description = "Invalid objects; nothing written"),
        (status = 403, description = "Needs bulkUploadDevices and the edit permission"),
        (status = 409, description = "Every failure a conflict; nothing written"),
    ))]
pub(crate) async fn batch_update(
    State(st): State<AppState>,
    Auth(caller): Auth,
    Params(params): Params,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let model = batch_model(&params)?;
    let n = st.core.batch_update(&caller, model, &body).await?;
    Ok(
        axum::Json(json!({ "message": format!("{n} records updated successfully.") }))
            .into_response(),
    )
}

/// The original's form: deletes of `{"ids": [...]}`, all or nothing.
///
/// Each object must exist (400; nothing is written).
#[utoipa::path(delete, path = "/inventory/batch/", tag = "inventory", security(("bearer" = [])),
    params(doc::BatchModelQuery),
    request_body = crate::openapi::BatchIds,
    responses(
        (status = 200, description = "Every object deleted", body = doc::Message),
        (status = 400, description = "Invalid ids; nothing written"),
        (status = 403, description = "Needs bulkUploadDevices and the delete permission"),
        (status = 409, description = "Every failure a conflict; nothing written"),
    ))]
pub(crate) async fn batch_delete(
    State(st): State<AppState>,
    Auth(caller): Auth,
    Params(params): Params,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let model = batch_model(&params)?;
    let n = st.core.batch_delete(&caller, model, &body).await?;
    Ok(
        axum::Json(json!({ "message": format!("{n} records deleted successfully.") }))
            .into_response(),
    )
}

/// Makes mock data (superuser only).
#[utoipa::path(post, path = "/inventory/generate-mock-data/", tag = "inventory", security(("bearer" = [])),
    request_body = doc::MockRequest,
    responses(
        (status = 201, description = "How many objects were made", body = rehome_core::services::mock::MockCounts),
        (status = 400, description = "Invalid counts"),
        (status = 403, description = "Superusers only"),
        (status = 409, description = "The seed was used on this store before: its objects exist already (the same seed on an empty store gives the same data)"),
    ))]
pub(crate) async fn mock_data(
    State(st): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let counts = st.core.generate_mock_data_json(&caller, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(counts)).into_response())
}
