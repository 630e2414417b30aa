//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes and the
//! schema types in [`doc`] (which mirror the JSON core reads and writes; they are used for the
//! document only).

use std::sync::OnceLock;

use serde_json::Value as Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{admin, auth, inventory, service, users};

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "rehome",
        description = "Users, roles, permissions and the inventory of donated devices. \
                       Every path ending in `/` is also answered without it. Errors are JSON: \
                       `{\"detail\": ...}` or field-keyed `{\"field\": [messages]}`.",
    ),
    modifiers(&BearerAuth),
    paths(
        auth::login, auth::mfa_verify, auth::logout, auth::logout_all, auth::me,
        auth::totp_setup, auth::totp_confirm, auth::totp_disable, auth::recovery_codes,
        users::list, users::create, users::get, users::put, users::patch, users::delete,
        users::register, users::password_put, users::password_patch,
        users::grants_get, users::grants_add, users::grants_replace, users::grants_remove,
        users::grants_clear,
        admin::roles_list, admin::roles_create, admin::role_get, admin::role_put,
        admin::role_patch, admin::role_delete, admin::audit_log,
        inventory::devices_list, inventory::devices_create, inventory::devices_lookup,
        inventory::device_get, inventory::device_put, inventory::device_patch,
        inventory::device_delete, inventory::device_qr,
        inventory::locations_list, inventory::locations_create, inventory::location_get,
        inventory::location_put, inventory::location_patch, inventory::location_delete,
        inventory::donors_list, inventory::donors_create, inventory::donor_get,
        inventory::donor_put, inventory::donor_patch, inventory::donor_delete,
        inventory::shipments_list, inventory::shipments_create, inventory::shipment_get,
        inventory::shipment_put, inventory::shipment_patch, inventory::shipment_delete,
        inventory::batch, inventory::batch_update, inventory::batch_delete,
        inventory::mock_data,
        service::healthz, service::openapi,
    ),
    tags(
        (name = "auth", description = "Login, sessions, multi-factor login"),
        (name = "users", description = "Users, registration, passwords, direct grants"),
        (name = "admin", description = "Roles and the audit log"),
        (name = "inventory", description = "Devices, locations, donors, shipments, batch"),
        (name = "service", description = "Health and this document"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as JSON (built once).
pub fn spec() -> Json {
    static SPEC: OnceLock<Json> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::to_value(ApiDoc::openapi()).unwrap_or(Json::Null))
        .clone()
}

/// Schema and parameter types of the document.
#[allow(dead_code)]
pub mod doc {
    use serde::{Deserialize, Serialize};
    use utoipa::{IntoParams, ToSchema};

    /// An error with one sentence.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Detail {
        /// A sentence for people.
        pub detail: String,
    }

    /// Field-keyed validation errors: `{"field": ["message", ...]}`.
    #[derive(Serialize, Deserialize, ToSchema)]
    #[schema(example = json!({"serial_number": ["This field is required."]}))]
    pub struct FieldErrors(pub std::collections::BTreeMap<String, Vec<String>>);

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

    /// Login with a password.
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
        pub expires_at: String,
    }

    /// A login's answer: a session, or (MFA on) the second step to take.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct LoginResponse {
        /// The user (session only).
        pub username: Option<String>,
        /// The user's id (session only).
        pub user_id: Option<i64>,
        /// The session (session only).
        pub tokens: Option<Tokens>,
        /// `true` when a second factor is needed.
        pub mfa_required: Option<bool>,
        /// Send it to `/authen/mfa/verify/` (5 minutes, 5 attempts).
        pub mfa_token: Option<String>,
        /// `totp`, `recovery_code`.
        pub methods: Option<Vec<String>>,
    }

    /// The second login step.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct MfaVerifyRequest {
        /// From the login answer.
        pub mfa_token: String,
        /// A TOTP code.
        pub code: Option<String>,
        /// Or a recovery code.
        pub recovery_code: Option<String>,
    }

    /// TOTP setup, shown once.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct TotpSetup {
        /// Base32 secret.
        pub secret: String,
        /// `otpauth://` URI.
        pub otpauth_uri: String,
        /// The URI as an SVG QR code.
        pub qr_svg: String,
    }

    /// A TOTP code.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct CodeRequest {
        /// Six digits.
        pub code: String,
    }

    /// Password plus a second factor.
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

    /// A password change.
    #[derive(Serialize, Deserialize, ToSchema)]
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

    /// Permission names.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct PermissionList {
        /// `readDevices`, `createDevices`, ... `viewAuditLog`.
        pub permissions: Vec<String>,
    }

    /// A user as read.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct User {
        /// Id.
        pub id: i64,
        /// Unique regardless of case, 2-50 characters.
        pub username: String,
        /// Unique regardless of case.
        pub email: String,
        /// A role name.
        pub role: Option<String>,
        /// First name.
        pub first_name: String,
        /// Last name.
        pub last_name: String,
        /// Every permission.
        pub is_superuser: bool,
        /// Inactive users cannot log in.
        pub is_active: bool,
        /// Direct grants.
        pub permissions: Vec<String>,
        /// Role plus direct grants (read-only).
        pub effective_permissions: Vec<String>,
        /// Whether MFA is on (read-only).
        pub mfa_enabled: bool,
        /// RFC 3339.
        pub last_login: Option<String>,
        /// RFC 3339.
        pub date_joined: String,
        /// +1 per change.
        pub version: u64,
    }

    /// A user as written (`password` write-only).
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct UserWrite {
        /// Required on create.
        pub username: Option<String>,
        /// Required on create.
        pub email: Option<String>,
        /// Write-only.
        pub password: Option<String>,
        /// A role name.
        pub role: Option<String>,
        /// First name.
        pub first_name: Option<String>,
        /// Last name.
        pub last_name: Option<String>,
        /// Superusers only.
        pub is_superuser: Option<bool>,
        /// Active.
        pub is_active: Option<bool>,
        /// Direct grants.
        pub permissions: Option<Vec<String>>,
        /// When given, must be current (else 409).
        pub version: Option<u64>,
    }

    /// A role.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Role {
        /// Id.
        pub id: i64,
        /// Unique.
        pub name: String,
        /// Description.
        pub description: String,
        /// Permission names.
        pub permissions: Vec<String>,
        /// +1 per change.
        pub version: u64,
    }

    /// A role as written.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct RoleWrite {
        /// Required on create.
        pub name: Option<String>,
        /// Description.
        pub description: Option<String>,
        /// Permission names.
        pub permissions: Option<Vec<String>>,
        /// When given, must be current.
        pub version: Option<u64>,
    }

    /// An audit log entry.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct AuditEntry {
        /// Id.
        pub id: i64,
        /// RFC 3339.
        pub timestamp: String,
        /// User id, null for the command line.
        pub actor: Option<i64>,
        /// The actor's name then.
        pub actor_username: Option<String>,
        /// e.g. `device.create`, `auth.login`.
        pub action: String,
        /// e.g. `device`.
        pub object_type: String,
        /// The object's id.
        pub object_id: String,
        /// Client address.
        pub ip: Option<String>,
        /// `{field: [old, new]}` or details; never secrets.
        #[schema(value_type = Object)]
        pub changes: serde_json::Value,
    }

    /// A device (`*` fields required on create).
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Device {
        /// UUID (read-only).
        pub device_id: Option<String>,
        /// Required.
        #[serde(rename = "type")]
        pub device_type: String,
        /// Required.
        pub make: String,
        /// Required.
        pub model: String,
        /// Required, unique.
        pub serial_number: String,
        /// Unique when not empty; MAC forms are stored as lowercase colon form.
        pub mac_id: Option<String>,
        /// 1970..next year.
        pub year_of_manufacture: Option<i32>,
        /// YYYY-MM-DD.
        pub date_received: Option<String>,
        /// User id.
        pub received_by: Option<i64>,
        /// User id (read-only).
        pub created_by: Option<i64>,
        /// Free text.
        pub physical_condition: Option<String>,
        /// Free text.
        pub specifications: Option<String>,
        /// Free text.
        pub operating_system: Option<String>,
        /// Donor id.
        pub donor: Option<i64>,
        /// YYYY-MM-DD.
        pub date_of_donation: Option<String>,
        /// Decimal string with two places, e.g. `"416.69"`.
        pub value: Option<String>,
        /// Location id.
        pub start_location: Option<i64>,
        /// Location id.
        pub end_location: Option<i64>,
        /// Free text.
        pub notes: Option<String>,
        /// Shipment ids.
        pub shipping_infos: Option<Vec<i64>>,
        /// received, wiped, refurbished, ready, shipped, delivered, recycled.
        pub status: Option<String>,
        /// RFC 3339 (read-only).
        pub created_at: Option<String>,
        /// RFC 3339 (read-only).
        pub updated_at: Option<String>,
        /// +1 per change; when sent, must be current.
        pub version: Option<u64>,
    }

    /// A location.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Location {
        /// Id (read-only).
        pub location_id: Option<i64>,
        /// Required.
        pub name: String,
        /// Free text.
        #[serde(rename = "type")]
        pub location_type: Option<String>,
        /// Required, unique.
        pub address: String,
        /// Country.
        pub country: Option<String>,
        /// City.
        pub city: Option<String>,
        /// Postal code.
        pub postal_code: Option<String>,
        /// Unique when not empty.
        pub phone: Option<String>,
        /// +1 per change.
        pub version: Option<u64>,
    }

    /// A donor.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Donor {
        /// Id (read-only).
        pub donor_id: Option<i64>,
        /// Required.
        pub name: String,
        /// Free text.
        pub contact_info: Option<String>,
        /// Free text.
        pub address: Option<String>,
        /// Required, unique.
        pub email: String,
        /// Phone.
        pub phone: Option<String>,
        /// +1 per change.
        pub version: Option<u64>,
    }

    /// A shipment.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct Shipment {
        /// Id (read-only).
        pub shipping_id: Option<i64>,
        /// Location id.
        pub destination: Option<i64>,
        /// Arrived.
        pub arrived: Option<bool>,
        /// Required, YYYY-MM-DD.
        pub date_shipped: String,
        /// YYYY-MM-DD.
        pub date_delivered: Option<String>,
        /// Tracking id.
        pub tracking_identifier: Option<String>,
        /// +1 per change.
        pub version: Option<u64>,
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
            #[derive(Serialize, Deserialize, ToSchema)]
            pub struct $name {
                /// Neighbouring pages.
                pub links: Links,
                /// Every match.
                pub count: u64,
                /// Pages (1 for an empty list).
                pub total_pages: u64,
                /// This page.
                pub results: Vec<$item>,
            }
        };
    }
    page!(UserPage, User);
    page!(RolePage, Role);
    page!(AuditPage, AuditEntry);
    page!(DevicePage, Device);
    page!(LocationPage, Location);
    page!(DonorPage, Donor);
    page!(ShipmentPage, Shipment);

    /// One batch operation.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct BatchOperation {
        /// create, update, delete.
        pub op: String,
        /// device, location, donor, shipment.
        pub model: String,
        /// For update and delete.
        #[schema(value_type = Option<String>)]
        pub id: Option<serde_json::Value>,
        /// For create and update.
        #[schema(value_type = Option<Object>)]
        pub data: Option<serde_json::Value>,
    }

    /// 1 to 1000 operations, all or nothing.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct BatchRequest {
        /// The operations.
        pub operations: Vec<BatchOperation>,
    }

    /// The outcome of one operation.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct BatchResult {
        /// What it did.
        pub op: String,
        /// On which model.
        pub model: String,
        /// The object's id.
        pub id: String,
        /// The object after it (null after a delete).
        #[schema(value_type = Option<Object>)]
        pub object: serde_json::Value,
    }

    /// An applied batch.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct BatchResponse {
        /// In order.
        pub results: Vec<BatchResult>,
    }

    /// The errors of one rejected operation.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct OperationError {
        /// Position in the batch.
        pub index: usize,
        /// Field-keyed messages.
        pub errors: FieldErrors,
    }

    /// A rejected batch: nothing was written.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct BatchRejected {
        /// A sentence.
        pub detail: String,
        /// The failing operations.
        pub errors: Vec<OperationError>,
    }

    /// The original's batch update body.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct BatchObjects {
        /// Partial objects, each with its `id`.
        #[schema(value_type = Vec<Object>)]
        pub objects: Vec<serde_json::Value>,
    }

    /// The original's batch delete body.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct BatchIds {
        /// Ids.
        #[schema(value_type = Vec<String>)]
        pub ids: Vec<serde_json::Value>,
    }

    /// How much mock data to make (all optional).
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

    /// How much mock data was made.
    #[derive(Serialize, Deserialize, ToSchema)]
    pub struct MockCounts {
        /// Locations.
        pub locations: u32,
        /// Donors.
        pub donors: u32,
        /// Devices.
        pub devices: u32,
        /// Shipments.
        pub shipments: u32,
    }

    /// Paging, search and ordering of every list.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ListQuery {
        /// Page number from 1, or `last`.
        pub page: Option<String>,
        /// 1..100, default 10.
        pub page_size: Option<u32>,
        /// Case-insensitive substring over the search fields.
        pub search: Option<String>,
        /// `a,-b` over the filter fields, the id, `created_at`, `updated_at`.
        pub ordering: Option<String>,
    }

    /// `?expand=` on device reads.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ExpandQuery {
        /// Comma-separated: donor, start_location, end_location, received_by, created_by,
        /// shipping_infos.
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

    /// The model of a compatibility batch.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct BatchModelQuery {
        /// device, location, donor, shipment.
        pub model: String,
    }

    /// The precondition of a write.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Header)]
    pub struct IfMatchHeader {
        /// `"<version>"` as the ETag gave it, or `*`.
        #[serde(rename = "If-Match")]
        pub if_match: Option<String>,
    }

    /// Device filters (exact unless suffixed; `__icontains` on text fields).
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct DeviceFilters {
        /// UUID.
        pub device_id: Option<String>,
        /// Type.
        #[serde(rename = "type")]
        pub device_type: Option<String>,
        /// Make.
        pub make: Option<String>,
        /// Model.
        pub model: Option<String>,
        /// Serial number.
        pub serial_number: Option<String>,
        /// MAC.
        pub mac_id: Option<String>,
        /// Status.
        pub status: Option<String>,
        /// Year.
        pub year_of_manufacture: Option<i32>,
        /// Year, at least.
        #[serde(rename = "year_of_manufacture__gte")]
        pub year_of_manufacture_gte: Option<i32>,
        /// Year, at most.
        #[serde(rename = "year_of_manufacture__lte")]
        pub year_of_manufacture_lte: Option<i32>,
        /// Operating system.
        pub operating_system: Option<String>,
        /// Condition.
        pub physical_condition: Option<String>,
        /// Donor id.
        pub donor: Option<i64>,
        /// Location id.
        pub start_location: Option<i64>,
        /// Location id.
        pub end_location: Option<i64>,
        /// Date.
        pub date_received: Option<String>,
        /// Date, at least.
        #[serde(rename = "date_received__gte")]
        pub date_received_gte: Option<String>,
        /// Date, at most.
        #[serde(rename = "date_received__lte")]
        pub date_received_lte: Option<String>,
    }

    /// Location filters.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct LocationFilters {
        /// Name.
        pub name: Option<String>,
        /// Type.
        #[serde(rename = "type")]
        pub location_type: Option<String>,
        /// Country.
        pub country: Option<String>,
        /// City.
        pub city: Option<String>,
        /// Postal code.
        pub postal_code: Option<String>,
    }

    /// Donor filters.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct DonorFilters {
        /// Name.
        pub name: Option<String>,
        /// Email.
        pub email: Option<String>,
        /// Phone.
        pub phone: Option<String>,
    }

    /// Shipment filters.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ShipmentFilters {
        /// Location id.
        pub destination: Option<i64>,
        /// Arrived.
        pub arrived: Option<bool>,
        /// Date.
        pub date_shipped: Option<String>,
        /// Date, at least.
        #[serde(rename = "date_shipped__gte")]
        pub date_shipped_gte: Option<String>,
        /// Date, at most.
        #[serde(rename = "date_shipped__lte")]
        pub date_shipped_lte: Option<String>,
        /// Date.
        pub date_delivered: Option<String>,
        /// Date, at least.
        #[serde(rename = "date_delivered__gte")]
        pub date_delivered_gte: Option<String>,
        /// Date, at most.
        #[serde(rename = "date_delivered__lte")]
        pub date_delivered_lte: Option<String>,
        /// Tracking id.
        pub tracking_identifier: Option<String>,
    }

    /// User filters.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct UserFilters {
        /// Username.
        pub username: Option<String>,
        /// Email.
        pub email: Option<String>,
        /// Role name.
        pub role: Option<String>,
        /// First name.
        pub first_name: Option<String>,
        /// Last name.
        pub last_name: Option<String>,
        /// Active.
        pub is_active: Option<bool>,
    }

    /// Audit log filters.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AuditFilters {
        /// User id.
        pub actor: Option<i64>,
        /// e.g. `device.create`.
        pub action: Option<String>,
        /// e.g. `device`.
        pub object_type: Option<String>,
        /// The object's id.
        pub object_id: Option<String>,
        /// RFC 3339 or a date: at or after.
        pub since: Option<String>,
        /// RFC 3339 or a date: at or before.
        pub until: Option<String>,
    }
}
