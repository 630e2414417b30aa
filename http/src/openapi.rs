//! The OpenAPI 3.1 document. Every fact in it comes from one place:
//!
//! - paths and operations from each handler's `#[utoipa::path]`, gathered by the route table
//!   that also routes them (`utoipa-axum`'s `routes!`), so a path is written once;
//! - response schemas from core's own types (`rehome-core`'s `openapi` feature derives them),
//!   closed (`additionalProperties: false`, every property required) because serde writes every
//!   field;
//! - write bodies from core's field tables ([`rehome_core::services::input::write_schema`]);
//! - error responses declared once in `components/responses` and referenced by status, with
//!   the operation's own description;
//! - the few HTTP-only shapes (login, codes, batch envelopes, query parameters) in [`doc`].

use std::sync::OnceLock;

use chrono::Datelike;
use rehome_core::query::{Collection, Field, FieldType};
use rehome_core::services::batch::MAX_OPERATIONS;
use rehome_core::services::input::{WriteKind, write_schema};
use rehome_core::services::listing::MAX_PAGE_SIZE;
use rehome_core::services::{Mode, mock::MOCK_MAX};
use rehome_core::store::RefSpec;
use serde_json::{Map, Value as Json, json};
use utoipa::OpenApi;

use crate::Settings;

/// The API document (info, tags, security; the paths come from the route table).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "rehome",
        description = "Users, roles, permissions and the inventory of donated devices. \
                       Every path ending in `/` is also answered without it. Errors are JSON: \
                       `{\"detail\": ...}` or field-keyed `{\"field\": [messages]}` (see each \
                       response). A query parameter given empty (`?make=`) is ignored, as if \
                       it were absent. Every route may answer 408 when it takes too long and \
                       503 (with `Retry-After`) when the store cannot be reached.",
    ),
    components(schemas(doc::Detail, doc::BatchRejected, doc::OperationError, doc::InlinedUser)),
    tags(
        (name = "auth", description = "Login, sessions, multi-factor login"),
        (name = "users", description = "Users, registration, passwords, direct grants"),
        (name = "admin", description = "Roles and the audit log"),
        (name = "inventory", description = "Devices, locations, donors, shipments, batch"),
        (name = "service", description = "Health and this document"),
    )
)]
pub struct ApiDoc;

/// The document as JSON (built once).
pub fn spec() -> Json {
    static SPEC: OnceLock<Json> = OnceLock::new();
    SPEC.get_or_init(build).clone()
}

fn build() -> Json {
    let mut api = ApiDoc::openapi();
    let (paths, schemas) = crate::routes::table(&Settings::default()).into_openapi();
    api.paths = paths;
    let components = api.components.get_or_insert_with(Default::default);
    for (name, schema) in schemas {
        components.schemas.entry(name).or_insert(schema);
    }
    components.add_security_scheme(
        "bearer",
        utoipa::openapi::security::SecurityScheme::Http(
            utoipa::openapi::security::HttpBuilder::new()
                .scheme(utoipa::openapi::security::HttpAuthScheme::Bearer)
                .build(),
        ),
    );
    let mut doc = serde_json::to_value(api).unwrap_or(Json::Null);
    finish(&mut doc, chrono::Utc::now().year() + 1);
    doc
}

// ------------------------------------------------------------------------- write bodies

/// Placeholders for bodies whose schema [`finish`] writes from core's tables.
macro_rules! placeholders {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new().into()
            }
        }

        impl utoipa::ToSchema for $name {}
    )*};
}

/// Declares the request-body schemas that core generates from its field tables: a
/// placeholder type per body for the `#[utoipa::path]` attributes, and the table that
/// [`finish`] fills them from.
macro_rules! write_bodies {
    ($($name:ident = $kind:ident, $mode:ident, $doc:literal;)*) => {
        placeholders! { $(#[doc = $doc] $name;)* }

        /// Every generated write body: schema name, kind, mode, description.
        const WRITE_BODIES: &[(&str, WriteKind, Mode, &str)] =
            &[$((stringify!($name), WriteKind::$kind, Mode::$mode, $doc)),*];
    };
}

write_bodies! {
    DeviceWrite = Device, Create, "A device to create or replace (PUT).";
    DevicePatch = Device, Patch, "Some fields of a device.";
    LocationWrite = Location, Create, "A location to create or replace (PUT).";
    LocationPatch = Location, Patch, "Some fields of a location.";
    DonorWrite = Donor, Create, "A donor to create or replace (PUT).";
    DonorPatch = Donor, Patch, "Some fields of a donor.";
    ShipmentWrite = Shipment, Create, "A shipment to create or replace (PUT).";
    ShipmentPatch = Shipment, Patch, "Some fields of a shipment.";
    UserWrite = User, Create, "A user to create or replace (PUT).";
    UserPatch = User, Patch, "Some fields of a user.";
    Registration = Registration, Create, "A new user registering itself.";
    RoleWrite = Role, Create, "A role to create or replace (PUT).";
    RolePatch = Role, Patch, "Some fields of a role.";
}

placeholders! {
    /// `{"operations": [...]}`.
    BatchRequest;
    /// `{"objects": [...]}`.
    BatchObjects;
    /// `{"ids": [...]}`.
    BatchIds;
    /// A device as read with `?expand=`: each reference named there is the object it points
    /// at (`null` when it is gone); a user inlines as `{id, username, first_name, last_name}`.
    ExpandedDevice;
}

// ---------------------------------------------------------------------------- responses

/// The shared error responses: name, description, body schema, headers.
fn error_responses() -> Vec<(&'static str, &'static str, Json, Json)> {
    let detail = json!({"$ref": "#/components/schemas/Detail"});
    let fields = json!({"$ref": "#/components/schemas/FieldErrors"});
    let rejected = json!({"$ref": "#/components/schemas/BatchRejected"});
    let retry_after = json!({"Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }});
    vec![
        (
            "BadRequest",
            "Invalid input: field-keyed errors for fields and query parameters; a sentence \
             for a body that is not JSON or a malformed header.",
            json!({"anyOf": [fields, detail]}),
            json!({}),
        ),
        (
            "BatchBadRequest",
            "The batch was rejected (nothing was written): the failing operations; field-keyed \
             errors for the body or `?model=`; a sentence for a body that is not JSON.",
            json!({"anyOf": [rejected, fields, detail]}),
            json!({}),
        ),
        (
            "Unauthorized",
            "Not authenticated, or wrong credentials.",
            detail.clone(),
            json!({"WWW-Authenticate": {
                "description": "`Bearer`, with `error=\"invalid_token\"` for a bad token.",
                "schema": {"type": "string"},
            }}),
        ),
        (
            "Forbidden",
            "The caller may not do this.",
            detail.clone(),
            json!({}),
        ),
        ("NotFound", "Nothing is there.", detail.clone(), json!({})),
        (
            "RequestTimeout",
            "The request took too long.",
            detail.clone(),
            json!({}),
        ),
        (
            "Conflict",
            "A conflict with the stored data: field-keyed (a unique key taken, a stale \
             `version`) or a sentence.",
            json!({"anyOf": [fields, detail]}),
            json!({}),
        ),
        (
            "BatchConflict",
            "Every failing operation was a conflict (nothing was written), or the commit met \
             a concurrent change.",
            json!({"anyOf": [rejected, fields, detail]}),
            json!({}),
        ),
        (
            "PreconditionFailed",
            "`If-Match` names another version than the current one.",
            detail.clone(),
            json!({"ETag": {
                "description": "The current version, `\"<version>\"`.",
                "schema": {"type": "string"},
            }}),
        ),
        (
            "PayloadTooLarge",
            "The body is over the route's limit.",
            detail.clone(),
            json!({}),
        ),
        (
            "UnsupportedMediaType",
            "A non-empty body that is not declared `application/json`.",
            detail.clone(),
            json!({}),
        ),
        (
            "TooManyRequests",
            "Too many failed attempts for this username or address.",
            detail.clone(),
            retry_after.clone(),
        ),
        (
            "Unavailable",
            "The store cannot be reached or written now.",
            detail,
            retry_after,
        ),
    ]
}

fn response_name(status: &str, batch: bool) -> Option<&'static str> {
    Some(match status {
        "400" if batch => "BatchBadRequest",
        "400" => "BadRequest",
        "401" => "Unauthorized",
        "403" => "Forbidden",
        "404" => "NotFound",
        "408" => "RequestTimeout",
        "409" if batch => "BatchConflict",
        "409" => "Conflict",
        "412" => "PreconditionFailed",
        "413" => "PayloadTooLarge",
        "415" => "UnsupportedMediaType",
        "429" => "TooManyRequests",
        "503" => "Unavailable",
        _ => return None,
    })
}

/// The schemas of response bodies that serde writes whole: every property is always present
/// and nothing else is.
const CLOSED: &[&str] = &[
    "Device",
    "Location",
    "Donor",
    "Shipment",
    "UserView",
    "Role",
    "AuditEvent",
    "TotpSetup",
    "MockCounts",
    "OperationResult",
    "Detail",
    "Message",
    "Health",
    "Tokens",
    "Session",
    "MfaRequired",
    "RecoveryCodes",
    "PermissionList",
    "Links",
    "UserPage",
    "RolePage",
    "AuditPage",
    "DevicePage",
    "LocationPage",
    "DonorPage",
    "ShipmentPage",
    "BatchResponse",
    "OperationError",
    "BatchRejected",
    "InlinedUser",
    "NextStatus",
    "TemporaryPassword",
];

/// Completes the generated document: write bodies from core, flattened and closed response
/// schemas, the expanded device, shared error responses and the statuses every route of a
/// kind answers, query parameters that may be empty.
fn finish(doc: &mut Json, next_year: i32) {
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Json::as_object_mut);
    let Some(schemas) = schemas else { return };
    for (name, kind, mode, description) in WRITE_BODIES {
        let mut s = write_schema(*kind, *mode, next_year);
        s["description"] = Json::from(*description);
        schemas.insert((*name).to_owned(), s);
    }
    schemas.insert(
        "FieldErrors".into(),
        json!({
            "type": "object",
            "description": "Field-keyed errors: each offending field (or query parameter, or \
                            `non_field_errors`) with its messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "minProperties": 1,
            "example": {"serial_number": ["This field is required."]},
        }),
    );
    let count = json!({"type": ["integer", "null"], "minimum": 0, "maximum": MOCK_MAX});
    schemas.insert(
        "MockRequest".into(),
        json!({
            "type": "object",
            "description": "How much mock data to make (all optional; other fields are refused).",
            "properties": {
                "num_locations": count.clone(),
                "num_warehouses": count.clone(),
                "num_donors": count.clone(),
                "num_devices": count.clone(),
                "num_shipments": count,
                "seed": {
                    "type": ["integer", "null"],
                    "minimum": 0,
                    "maximum": u64::MAX,
                    "description": "The same seed on an empty store gives the same data.",
                },
            },
            "additionalProperties": false,
            "not": {
                "description": "`num_warehouses` is the original's name for `num_locations`: \
                                one of them.",
                "required": ["num_locations", "num_warehouses"],
                "properties": {
                    "num_locations": {"not": {"type": "null"}},
                    "num_warehouses": {"not": {"type": "null"}},
                },
            },
        }),
    );
    if let Some(v) = schemas.get_mut("MfaVerifyRequest") {
        // `code` or `recovery_code`, as a string.
        v["anyOf"] = json!([
            {"required": ["code"], "properties": {"code": {"type": "string"}}},
            {"required": ["recovery_code"], "properties": {"recovery_code": {"type": "string"}}},
        ]);
    }
    if let Some(p) = schemas.get_mut("PasswordChange") {
        p["properties"]["new_password"]["minLength"] =
            Json::from(rehome_core::auth::password::MIN_PASSWORD_LEN);
        p["properties"]["new_password"]["maxLength"] =
            Json::from(rehome_core::auth::password::MAX_PASSWORD_LEN);
    }
    batch_schemas(schemas);
    let snapshot = Json::Object(schemas.clone());
    for schema in schemas.values_mut() {
        flatten_all_of(schema, &snapshot);
    }
    for name in CLOSED {
        if let Some(s) = schemas.get_mut(*name) {
            close(s);
        }
    }
    if let Some(device) = schemas.get("Device").cloned() {
        schemas.insert("ExpandedDevice".into(), expanded_device(device));
    }

    let responses: Map<String, Json> = error_responses()
        .into_iter()
        .map(|(name, description, schema, headers)| {
            let mut r = json!({
                "description": description,
                "content": {"application/json": {"schema": schema}},
            });
            if headers.as_object().is_some_and(|h| !h.is_empty()) {
                r["headers"] = headers;
            }
            (name.to_owned(), r)
        })
        .collect();
    if let Some(c) = doc.get_mut("components").and_then(Json::as_object_mut) {
        c.insert("responses".into(), Json::Object(responses));
    }

    let Some(paths) = doc.get_mut("paths").and_then(Json::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            finish_operation(path, op, &snapshot);
        }
    }
}

/// The collection a list operation pages over, by the schema of its page.
fn listed_collection(op: &Json) -> Option<Collection> {
    let page = op
        .pointer("/responses/200/content/application~1json/schema/$ref")?
        .as_str()?
        .trim_start_matches("#/components/schemas/");
    Some(match page {
        "DevicePage" => Collection::Devices,
        "LocationPage" => Collection::Locations,
        "DonorPage" => Collection::Donors,
        "ShipmentPage" => Collection::Shipments,
        "UserPage" => Collection::Users,
        "RolePage" => Collection::Roles,
        "AuditPage" => Collection::Audit,
        _ => return None,
    })
}

/// A comma-separated list of `names` (each `-`-prefixed when `signed`), empty items and
/// surrounding whitespace allowed, as the server splits it.
fn names_pattern(names: &[&str], signed: bool) -> String {
    let alternatives = names
        .iter()
        .map(|n| regex_escape(n))
        .collect::<Vec<_>>()
        .join("|");
    let sign = if signed { "-?" } else { "" };
    let term = format!("({sign}({alternatives})\\s*)?");
    format!("^\\s*{term}(,\\s*{term})*$")
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escape = r"\.^$|?*+()[]{}".contains(c);
            escape.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

/// The statuses an operation answers besides its own: 401 with a bearer token required,
/// 400/413/415 with a body, 408 and 503 everywhere (the document itself never touches the
/// store); every error status points at its shared response.
fn finish_operation(path: &str, op: &mut Json, schemas: &Json) {
    let batch = path == "/inventory/batch/";
    let has_body = op.get("requestBody").is_some();
    let secured = op.get("security").is_some();
    let collection = listed_collection(op);
    let if_match = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match"));
    if has_body && let Some(rb) = op.get_mut("requestBody") {
        // An empty body reads as `{}`: it may be left out when `{}` is valid.
        let body = rb
            .pointer("/content/application~1json/schema/$ref")
            .and_then(Json::as_str)
            .and_then(|r| schemas.get(r.trim_start_matches("#/components/schemas/")));
        let needs_fields = body
            .and_then(|b| b.get("required"))
            .and_then(Json::as_array)
            .is_some_and(|r| !r.is_empty());
        rb["required"] = Json::Bool(needs_fields);
        if let Some(d) = rb.get("description").and_then(Json::as_str) {
            rb["description"] = Json::from(format!("{d} An empty body reads as `{{}}`."));
        } else {
            rb["description"] = Json::from("An empty body reads as `{}`.");
        }
    }
    let Some(responses) = op.get_mut("responses").and_then(Json::as_object_mut) else {
        return;
    };
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| json!({"description": description}));
    };
    if secured {
        add(
            "401",
            "Not authenticated: no, a bad, an expired or a revoked token.",
        );
    }
    if if_match {
        add("400", "If-Match names several entity tags.");
        add(
            "412",
            "If-Match names another version than the current one.",
        );
    }
    if collection.is_some() {
        add("400", "A malformed filter, ordering or page size.");
        add("404", "No such page.");
    }
    if has_body {
        add(
            "400",
            "The body is not a JSON object, or a field is invalid.",
        );
        add("413", "The body is too large.");
        add("415", "The body is not declared JSON.");
    }
    if path != "/openapi.json" {
        add("503", "The store cannot be reached or written now.");
    }
    add("408", "The request took too long.");
    for (status, response) in responses.iter_mut() {
        if response.get("content").is_some() {
            object_headers(status, response);
            continue;
        }
        let Some(name) = response_name(status, batch) else {
            continue;
        };
        let description = response
            .get("description")
            .cloned()
            .unwrap_or(Json::from(""));
        *response = json!({
            "$ref": format!("#/components/responses/{name}"),
            "description": description,
        });
    }
    if let Some(c) = collection
        && let Some(params) = op.get_mut("parameters").and_then(Json::as_array_mut)
    {
        params.extend(filter_parameters(c));
    }
    for p in op
        .get_mut("parameters")
        .and_then(Json::as_array_mut)
        .into_iter()
        .flatten()
    {
        if p["name"] == "If-Match" {
            p["schema"] = json!({
                "type": "string",
                // One entity tag (blank list items aside) or, anywhere in the list, `*`.
                "pattern": r"^((\s*,)*[^,]*(,\s*)*|(.*,)?\s*\*\s*(,.*)?)$",
            });
        }
        if p["in"] == "query" && p["required"] != true {
            p["allowEmptyValue"] = Json::Bool(true);
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            if name == "ordering"
                && let Some(c) = collection
            {
                let pattern = names_pattern(&c.list_spec().order_names(), true);
                p["schema"] = json!({"type": "string", "pattern": pattern});
            } else if name == "expand" {
                let expandable: Vec<&str> =
                    RefSpec::of(Collection::Devices).map(|r| r.name).collect();
                p["schema"] =
                    json!({"type": "string", "pattern": names_pattern(&expandable, false)});
            } else if let Some(s) = query_schema(&name) {
                p["schema"] = s;
            } else if p["schema"]["type"] != "string" || p["schema"].get("format").is_some() {
                let typed = p["schema"].clone();
                p["schema"] = json!({"anyOf": [typed, blank_value()]});
            }
        }
    }
}

/// A query value that is ignored: empty, or only white space. The class is Rust's
/// `char::is_whitespace` (Unicode White_Space), written out because ECMA-262's `\s` differs
/// (it lacks U+0085 and has U+FEFF).
fn blank_value() -> Json {
    json!({
        "type": "string",
        "pattern": "^[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$",
        "description": "Empty or only white space: ignored, as if absent.",
    })
}

/// The filter parameters of a list, from core's list specs: each field exact, text fields
/// also `__icontains`, range fields also `__gte`/`__lte`.
fn filter_parameters(collection: Collection) -> Vec<Json> {
    let mut out = Vec::new();
    for &(field, range) in collection.list_spec().filters {
        let name = field.name();
        let value = filter_value_schema(field);
        let mut add = |param: String, description: String, schema: Json| {
            out.push(json!({
                "name": param,
                "in": "query",
                "required": false,
                "description": description,
                "schema": schema,
            }));
        };
        add(
            name.to_owned(),
            format!("`{name}` equals this."),
            value.clone(),
        );
        if field.field_type() == FieldType::Text {
            add(
                format!("{name}__icontains"),
                format!("`{name}` contains this, regardless of case."),
                json!({"type": "string"}),
            );
        }
        if range {
            add(
                format!("{name}__gte"),
                format!("`{name}` is at least this."),
                value.clone(),
            );
            add(
                format!("{name}__lte"),
                format!("`{name}` is at most this."),
                value,
            );
        }
    }
    out
}

/// The schema of a filter's value, as the list machinery parses it (trimmed).
fn filter_value_schema(field: Field) -> Json {
    if field == Field::DeviceStatus {
        return json!({"$ref": "#/components/schemas/DeviceStatus"});
    }
    match field.field_type() {
        FieldType::Text => json!({"type": "string"}),
        FieldType::Int => json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX}),
        FieldType::Bool => json!({"anyOf": [
            {"type": "boolean"},
            {"type": "string", "enum": ["true", "True", "TRUE", "1", "yes", "on",
                                        "false", "False", "FALSE", "0", "no", "off"]},
        ]}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Timestamp => json!({"anyOf": [
            {"type": "string", "format": "date-time"},
            {"type": "string", "format": "date"},
        ]}),
        FieldType::Uuid => json!({"anyOf": [
            {"type": "string", "format": "uuid"},
            {"type": "string", "pattern": "^\\s*[0-9A-Fa-f]{32}\\s*$"},
        ]}),
    }
}

/// The headers of a response with one object: `ETag: "<version>"`, and `Location` for a 201.
fn object_headers(status: &str, response: &mut Json) {
    const VERSIONED: [&str; 7] = [
        "Device",
        "ExpandedDevice",
        "Location",
        "Donor",
        "Shipment",
        "UserView",
        "Role",
    ];
    let versioned = response
        .pointer("/content/application~1json/schema/$ref")
        .and_then(Json::as_str)
        .is_some_and(|r| VERSIONED.contains(&r.trim_start_matches("#/components/schemas/")));
    if !versioned {
        return;
    }
    let mut headers = json!({"ETag": {
        "description": "The object's version, `\"<version>\"` (send it back in `If-Match`).",
        "schema": {"type": "string"},
    }});
    if status == "201" {
        headers["Location"] = json!({
            "description": "The new object's path.",
            "schema": {"type": "string"},
        });
    }
    response["headers"] = headers;
}

/// Query parameters whose schema is a rule of the list machinery rather than a type.
fn query_schema(name: &str) -> Option<Json> {
    let empty = blank_value();
    Some(match name {
        "page_size" => json!({"anyOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            empty,
        ]}),
        "since" | "until" => json!({"anyOf": [
            {"type": "string", "format": "date-time"},
            {"type": "string", "format": "date"},
            empty,
        ]}),
        "page" => json!({"anyOf": [
            {"type": "integer", "minimum": 1},
            {"type": "string", "enum": ["last"]},
            empty,
        ]}),
        _ => return None,
    })
}

/// The batch bodies: each operation's `data` is the model's write body (create) or PATCH body
/// (update); the original's forms take PATCH bodies with an `id`, and ids.
fn batch_schemas(schemas: &mut Map<String, Json>) {
    let reference = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let id = json!({"type": ["string", "integer"], "description": "The object's id."});
    let models = [
        ("device", "Device"),
        ("location", "Location"),
        ("donor", "Donor"),
        ("shipment", "Shipment"),
    ];
    let mut variants = Vec::new();
    for (model, schema) in models {
        // (op, id, data, required): what each op takes, as `parse_operations` checks it.
        let ops = [
            (
                "create",
                json!({}),
                reference(&format!("{schema}Write")),
                json!(["data"]),
            ),
            (
                "update",
                id.clone(),
                reference(&format!("{schema}Patch")),
                json!(["id", "data"]),
            ),
            ("delete", id.clone(), json!({}), json!(["id"])),
        ];
        for (op, id, data, required) in ops {
            let mut required = required;
            if let Some(r) = required.as_array_mut() {
                r.splice(0..0, [Json::from("op"), Json::from("model")]);
            }
            variants.push(json!({
                "type": "object",
                "properties": {
                    "op": {"const": op},
                    "model": {"const": model},
                    "id": id,
                    "data": data,
                },
                "required": required,
                "additionalProperties": false,
            }));
        }
    }
    schemas.insert(
        "BatchOperation".into(),
        json!({
            "description": "One operation: create (`data`), update (`id`, partial `data`) or \
                            delete (`id`) of a device, location, donor or shipment.",
            "oneOf": variants,
        }),
    );
    schemas.insert(
        "BatchRequest".into(),
        json!({
            "type": "object",
            "description": "1 to 1000 operations, all or nothing.",
            "properties": {"operations": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_OPERATIONS,
                "items": reference("BatchOperation"),
            }},
            "required": ["operations"],
            "additionalProperties": false,
        }),
    );
    let mut with_id = Vec::new();
    for (_, schema) in models {
        if let Some(mut patch) = schemas.get(&format!("{schema}Patch")).cloned() {
            patch["properties"]["id"] = id.clone();
            patch["required"] = json!(["id"]);
            patch.as_object_mut().map(|o| o.remove("description"));
            with_id.push(patch);
        }
    }
    schemas.insert(
        "BatchObjects".into(),
        json!({
            "type": "object",
            "description": "Partial objects of the `?model=` kind, each with its `id`, all or \
                            nothing (1 to 1000).",
            "properties": {"objects": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_OPERATIONS,
                "items": {"anyOf": with_id},
            }},
            "required": ["objects"],
        }),
    );
    schemas.insert(
        "BatchIds".into(),
        json!({
            "type": "object",
            "description": "Ids of the `?model=` kind, all or nothing (1 to 1000).",
            "properties": {"ids": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_OPERATIONS,
                "items": id,
            }},
            "required": ["ids"],
        }),
    );
}

/// Inlines `allOf: [{$ref}, {...}]` (what a `#[serde(flatten)]` derives) into one object,
/// so it can be closed.
fn flatten_all_of(schema: &mut Json, all: &Json) {
    let Some(parts) = schema.get("allOf").and_then(Json::as_array).cloned() else {
        return;
    };
    let mut properties = Map::new();
    let mut required = Vec::new();
    for part in parts {
        let part = match part.get("$ref").and_then(Json::as_str) {
            Some(r) => all
                .get(r.trim_start_matches("#/components/schemas/"))
                .cloned()
                .unwrap_or(Json::Null),
            None => part,
        };
        if let Some(p) = part.get("properties").and_then(Json::as_object) {
            properties.extend(p.clone());
        }
        if let Some(r) = part.get("required").and_then(Json::as_array) {
            required.extend(r.clone());
        }
    }
    let description = schema.get("description").cloned();
    *schema = json!({"type": "object", "properties": properties, "required": required});
    if let Some(d) = description {
        schema["description"] = d;
    }
}

/// Every property required, no other property allowed.
fn close(schema: &mut Json) {
    let names: Vec<Json> = schema
        .get("properties")
        .and_then(Json::as_object)
        .map(|p| p.keys().cloned().map(Json::from).collect())
        .unwrap_or_default();
    if names.is_empty() {
        return;
    }
    schema["required"] = Json::Array(names);
    schema["additionalProperties"] = Json::Bool(false);
}

/// [`ExpandedDevice`]: the device with each expandable reference also as its object.
fn expanded_device(mut device: Json) -> Json {
    let object = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let expansions = [
        ("donor", object("Donor")),
        ("start_location", object("Location")),
        ("end_location", object("Location")),
        ("received_by", object("InlinedUser")),
        ("created_by", object("InlinedUser")),
    ];
    if let Some(props) = device.get_mut("properties").and_then(Json::as_object_mut) {
        for (name, inlined) in expansions {
            if let Some(plain) = props.get(name).cloned() {
                props.insert(name.into(), json!({"anyOf": [plain, inlined]}));
            }
        }
        if let Some(plain) = props.get("shipping_infos").cloned() {
            props.insert(
                "shipping_infos".into(),
                json!({"anyOf": [plain, {
                    "type": "array",
                    "items": {"anyOf": [object("Shipment"), {"type": "null"}]},
                }]}),
            );
        }
    }
    device["description"] = Json::from(
        "A device; with `?expand=` each named reference is the object it points at \
         (`null` when it is gone).",
    );
    device
}

/// Schema and parameter types of the HTTP layer's own bodies (login, codes, batch envelopes,
/// lists) and of the query parameters.
#[allow(dead_code)]
pub mod doc {
    use rehome_core::services::batch::OperationResult;
    use rehome_core::{AuditEvent, Donor, Location, Role, Shipment, model::UserView};
    use serde::{Deserialize, Serialize};
    use utoipa::{IntoParams, ToSchema};

    use super::ExpandedDevice;

    /// An error with one sentence.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Detail {
        /// A sentence for people.
        pub detail: String,
    }

    /// `{"message": "..."}`.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Message {
        /// What was done.
        pub message: String,
    }

    /// `{"status": "ok"}`.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Health {
        /// Always `ok`.
        pub status: String,
    }

    /// Login with a password (other fields are ignored).
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct LoginRequest {
        /// Username (any case).
        pub username: String,
        /// Password.
        pub password: String,
    }

    /// The token of a new session.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Tokens {
        /// The bearer token.
        pub access_token: String,
        /// When it ends at the latest (RFC 3339).
        #[schema(format = DateTime)]
        pub expires_at: String,
    }

    /// A new session.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Session {
        /// The user.
        pub username: String,
        /// The user's id.
        pub user_id: i64,
        /// The session.
        pub tokens: Tokens,
    }

    /// MFA is on: the second step to take.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct MfaRequired {
        /// Always `true`.
        pub mfa_required: bool,
        /// Send it to `/authen/mfa/verify/` (5 minutes, 5 attempts).
        pub mfa_token: String,
        /// `totp`, `recovery_code`.
        pub methods: Vec<String>,
    }

    /// A login's answer: a session, or (MFA on) the second step to take.
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(untagged)]
    pub enum LoginResponse {
        /// Logged in.
        Session(Session),
        /// A second factor is needed.
        MfaRequired(MfaRequired),
    }

    /// The second login step (other fields are ignored).
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct MfaVerifyRequest {
        /// From the login answer.
        pub mfa_token: String,
        /// A TOTP code.
        pub code: Option<String>,
        /// Or a recovery code.
        pub recovery_code: Option<String>,
    }

    /// A TOTP code (other fields are ignored).
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct CodeRequest {
        /// Six digits.
        pub code: String,
    }

    /// Password plus a second factor (other fields are ignored).
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct ReauthRequest {
        /// The caller's password.
        pub password: String,
        /// A TOTP code.
        pub code: Option<String>,
        /// Or a recovery code (disable only).
        pub recovery_code: Option<String>,
    }

    /// Ten recovery codes, shown once.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct RecoveryCodes {
        /// The codes.
        pub recovery_codes: Vec<String>,
    }

    /// A password change (any other field is refused, 400 naming it).
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PasswordChange {
        /// The current password.
        pub old_password: String,
        /// 10-128 characters, not common, not containing the username.
        pub new_password: String,
        /// A TOTP code, when MFA is on.
        pub code: Option<String>,
        /// Or a recovery code.
        pub recovery_code: Option<String>,
    }

    /// Permission names to add, set or remove (any other field is refused, 400 naming it).
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct GrantChange {
        /// Each permission at most once.
        pub permissions: rehome_core::Permissions,
    }

    /// Permission names.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct PermissionList {
        /// Each permission at most once.
        pub permissions: rehome_core::Permissions,
    }

    /// A user as `?expand=` inlines it.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct InlinedUser {
        /// Id.
        pub id: i64,
        /// Username.
        pub username: String,
        /// First name.
        pub first_name: String,
        /// Last name.
        pub last_name: String,
    }

    /// Absolute links to the neighbouring pages.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Links {
        /// The next page.
        pub next: Option<String>,
        /// The previous page.
        pub previous: Option<String>,
    }

    macro_rules! page {
        ($name:ident, $item:ty) => {
            #[doc = concat!("One page of ", stringify!($item), " objects.")]
            #[derive(ToSchema)]
            pub struct $name {
                /// Neighbouring pages.
                pub links: Links,
                /// Every match.
                pub count: u64,
                /// Pages (1 for an empty list).
                #[schema(minimum = 1)]
                pub total_pages: u64,
                /// This page.
                pub results: Vec<$item>,
            }
        };
    }
    page!(UserPage, UserView);
    page!(RolePage, Role);
    page!(AuditPage, AuditEvent);
    page!(DevicePage, ExpandedDevice);
    page!(LocationPage, Location);
    page!(DonorPage, Donor);
    page!(ShipmentPage, Shipment);

    /// A password reset's answer.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct TemporaryPassword {
        /// The temporary password (16 characters in 4 groups of 4), shown only here.
        pub temporary_password: String,
    }

    /// An applied batch.
    #[derive(ToSchema)]
    pub struct BatchResponse {
        /// In order.
        pub results: Vec<OperationResult>,
    }

    /// The errors of one rejected operation.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct OperationError {
        /// Position in the batch.
        pub index: usize,
        /// Field-keyed messages.
        #[schema(value_type = Object)]
        pub errors: serde_json::Value,
    }

    /// A rejected batch: nothing was written.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct BatchRejected {
        /// A sentence.
        pub detail: String,
        /// The failing operations.
        pub errors: Vec<OperationError>,
    }

    /// How much mock data to make (its schema is written from core's limits when the document
    /// is built).
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct MockRequest {
        /// Default 5 (`num_warehouses` is accepted too).
        pub num_locations: Option<u32>,
        /// Default 10.
        pub num_donors: Option<u32>,
        /// Default 50.
        pub num_devices: Option<u32>,
        /// Default 20.
        pub num_shipments: Option<u32>,
        /// The same seed on an empty store gives the same data.
        pub seed: Option<u64>,
    }

    /// Paging, search and ordering of every list.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ListQuery {
        /// Page number from 1, or `last`; past the last page is 404.
        pub page: Option<String>,
        /// 1..100, default 10.
        pub page_size: Option<u32>,
        /// Case-insensitive substring over the search fields.
        pub search: Option<String>,
        /// `a,-b` over the filter fields, the id, `created_at`, `updated_at`; an unknown
        /// field is 400 naming the allowed ones.
        pub ordering: Option<String>,
    }

    /// `?expand=` on device reads.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ExpandQuery {
        /// Comma-separated: donor, start_location, end_location, received_by, created_by,
        /// shipping_infos; another name is 400.
        pub expand: Option<String>,
    }

    /// The scan flow's keys.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct LookupQuery {
        /// Serial number (exact).
        pub serial_number: Option<String>,
        /// MAC address (any common form).
        pub mac_id: Option<String>,
    }

    /// A scanned or typed code.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ScanQuery {
        /// What the scanner typed or the camera decoded: a device label (id or address), a
        /// MAC address, an IMEI or a serial number; at most 512 characters, not blank.
        #[param(
            min_length = 1,
            max_length = 512,
            pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )]
        pub code: String,
    }

    /// The week the summary ends with.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct SummaryQuery {
        /// A day of the last week counted (YYYY-MM-DD); default today in the organisation's
        /// time zone.
        pub date: Option<chrono::NaiveDate>,
    }

    /// The model of a compatibility batch.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct BatchModelQuery {
        /// device, location, donor, shipment.
        pub model: rehome_core::services::Model,
    }

    /// The precondition of a write.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Header)]
    pub struct IfMatchHeader {
        /// `"<version>"` as the ETag gave it, or `*`; several tags are 400.
        #[serde(rename = "If-Match")]
        pub if_match: Option<String>,
    }

    /// The audit log's time range.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AuditRange {
        /// RFC 3339 or a date: at or after.
        pub since: Option<String>,
        /// RFC 3339 or a date: at or before.
        pub until: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Json {
        let d = spec();
        if let Ok(path) = std::env::var("REHOME_OPENAPI_DUMP") {
            let _ = std::fs::write(path, serde_json::to_string_pretty(&d).unwrap_or_default());
        }
        d
    }

    #[test]
    fn write_bodies_come_from_the_field_tables() {
        let d = doc();
        let s = &d["components"]["schemas"];
        // Written out by hand from the contract: what a device must carry on create.
        assert_eq!(
            s["DeviceWrite"]["required"],
            json!(["type", "make", "model", "serial_number"])
        );
        assert_eq!(s["DeviceWrite"]["additionalProperties"], false);
        assert_eq!(s["DevicePatch"]["required"], json!([]));
        assert_eq!(
            s["Registration"]["required"],
            json!(["username", "email", "password"])
        );
        assert_eq!(s["UserWrite"]["required"], json!(["username", "email"]));
        assert_eq!(s["ShipmentWrite"]["required"], json!(["date_shipped"]));
        let op = &d["paths"]["/inventory/devices/{id}/"]["patch"];
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/DevicePatch"
        );
    }

    #[test]
    fn responses_are_closed_and_errors_shared() {
        let d = doc();
        let s = &d["components"]["schemas"];
        let user = &s["UserView"];
        assert_eq!(user["additionalProperties"], false);
        let required: Vec<&str> = user["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        for f in [
            "id",
            "username",
            "effective_permissions",
            "updated_at",
            "version",
        ] {
            assert!(required.contains(&f), "{f} in {required:?}");
        }
        let batch_delete = &d["paths"]["/inventory/batch/"]["delete"]["responses"];
        assert_eq!(
            batch_delete["400"]["$ref"],
            "#/components/responses/BatchBadRequest"
        );
        let login = &d["paths"]["/authen/login/"]["post"]["responses"];
        assert_eq!(
            login["429"]["$ref"],
            "#/components/responses/TooManyRequests"
        );
        assert_eq!(
            login["415"]["$ref"],
            "#/components/responses/UnsupportedMediaType"
        );
        assert!(login.get("401").is_some());
        // Every error of every operation is a shared response.
        for (path, item) in d["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                for (status, r) in op["responses"].as_object().into_iter().flatten() {
                    if status.as_str() >= "400" && path != "/healthz" {
                        assert!(r.get("$ref").is_some(), "{method} {path} {status}: {r}");
                    }
                }
            }
        }
    }
}
