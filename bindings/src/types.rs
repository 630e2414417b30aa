//! The records and enums that cross the boundary, and their conversions from core's types.
//!
//! Reads are typed records (one per object kind, one page record per list). Ids are
//! integers except a device's, which is its UUID as text. Dates are `YYYY-MM-DD` text (uniffi
//! has no date type); timestamps are `SystemTime` (Python `datetime`, Kotlin `Instant`);
//! money is the contract's decimal text (`"416.69"`), which no float would keep exactly.

use std::collections::HashMap;
use std::time::SystemTime;

use rehome_core::model::Timestamp;
use rehome_core::services::ListResult;
use rehome_core::services::batch as core_batch;
use serde_json::Value as Json;

/// One of the contract's twelve permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Permission {
    /// `readDevices`
    ReadDevices,
    /// `createDevices`
    CreateDevices,
    /// `editDevices`
    EditDevices,
    /// `deleteDevices`
    DeleteDevices,
    /// `scanDevices`
    ScanDevices,
    /// `bulkUploadDevices`
    BulkUploadDevices,
    /// `manageWarehouses`
    ManageWarehouses,
    /// `manageDonors`
    ManageDonors,
    /// `manageShipments`
    ManageShipments,
    /// `generateQRCodes`
    GenerateQrCodes,
    /// `manageUsers`
    ManageUsers,
    /// `viewAuditLog`
    ViewAuditLog,
}

impl From<rehome_core::Permission> for Permission {
    fn from(p: rehome_core::Permission) -> Self {
        use rehome_core::Permission as P;
        match p {
            P::ReadDevices => Permission::ReadDevices,
            P::CreateDevices => Permission::CreateDevices,
            P::EditDevices => Permission::EditDevices,
            P::DeleteDevices => Permission::DeleteDevices,
            P::ScanDevices => Permission::ScanDevices,
            P::BulkUploadDevices => Permission::BulkUploadDevices,
            P::ManageWarehouses => Permission::ManageWarehouses,
            P::ManageDonors => Permission::ManageDonors,
            P::ManageShipments => Permission::ManageShipments,
            P::GenerateQrCodes => Permission::GenerateQrCodes,
            P::ManageUsers => Permission::ManageUsers,
            P::ViewAuditLog => Permission::ViewAuditLog,
        }
    }
}

impl From<Permission> for rehome_core::Permission {
    fn from(p: Permission) -> Self {
        use rehome_core::Permission as P;
        match p {
            Permission::ReadDevices => P::ReadDevices,
            Permission::CreateDevices => P::CreateDevices,
            Permission::EditDevices => P::EditDevices,
            Permission::DeleteDevices => P::DeleteDevices,
            Permission::ScanDevices => P::ScanDevices,
            Permission::BulkUploadDevices => P::BulkUploadDevices,
            Permission::ManageWarehouses => P::ManageWarehouses,
            Permission::ManageDonors => P::ManageDonors,
            Permission::ManageShipments => P::ManageShipments,
            Permission::GenerateQrCodes => P::GenerateQrCodes,
            Permission::ManageUsers => P::ManageUsers,
            Permission::ViewAuditLog => P::ViewAuditLog,
        }
    }
}

/// A permission set as a list, in the contract's canonical order.
pub(crate) fn permission_list(ps: rehome_core::Permissions) -> Vec<Permission> {
    ps.iter().map(Permission::from).collect()
}

/// The contract's name of a permission (`"readDevices"`).
#[uniffi::export]
pub fn permission_name(permission: Permission) -> String {
    rehome_core::Permission::from(permission)
        .as_str()
        .to_owned()
}

/// Where a device is in its life (see the contract for the moves allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeviceStatus {
    /// Taken in (the default).
    Received,
    /// Data wiped.
    Wiped,
    /// Refurbished.
    Refurbished,
    /// Ready to ship.
    Ready,
    /// Shipped.
    Shipped,
    /// Arrived at its destination.
    Delivered,
    /// Recycled instead of shipped.
    Recycled,
}

impl From<rehome_core::DeviceStatus> for DeviceStatus {
    fn from(s: rehome_core::DeviceStatus) -> Self {
        use rehome_core::DeviceStatus as S;
        match s {
            S::Received => DeviceStatus::Received,
            S::Wiped => DeviceStatus::Wiped,
            S::Refurbished => DeviceStatus::Refurbished,
            S::Ready => DeviceStatus::Ready,
            S::Shipped => DeviceStatus::Shipped,
            S::Delivered => DeviceStatus::Delivered,
            S::Recycled => DeviceStatus::Recycled,
        }
    }
}

/// The four inventory object kinds (batch operations name them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Model {
    /// Devices.
    Device,
    /// Locations.
    Location,
    /// Donors.
    Donor,
    /// Shipments.
    Shipment,
}

impl From<Model> for rehome_core::services::Model {
    fn from(m: Model) -> Self {
        use rehome_core::services::Model as M;
        match m {
            Model::Device => M::Device,
            Model::Location => M::Location,
            Model::Donor => M::Donor,
            Model::Shipment => M::Shipment,
        }
    }
}

impl From<rehome_core::services::Model> for Model {
    fn from(m: rehome_core::services::Model) -> Self {
        use rehome_core::services::Model as M;
        match m {
            M::Device => Model::Device,
            M::Location => Model::Location,
            M::Donor => Model::Donor,
            M::Shipment => Model::Shipment,
        }
    }
}

/// What a batch operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum BatchOp {
    /// Create an object from `data_json`.
    Create,
    /// Update object `id` with `data_json` (fields left out keep their value).
    Update,
    /// Delete object `id`.
    Delete,
}

impl BatchOp {
    /// The name batch bodies use.
    pub(crate) fn name(self) -> &'static str {
        match self {
            BatchOp::Create => "create",
            BatchOp::Update => "update",
            BatchOp::Delete => "delete",
        }
    }
}

impl From<core_batch::BatchOp> for BatchOp {
    fn from(op: core_batch::BatchOp) -> Self {
        match op {
            core_batch::BatchOp::Create => BatchOp::Create,
            core_batch::BatchOp::Update => BatchOp::Update,
            core_batch::BatchOp::Delete => BatchOp::Delete,
        }
    }
}

/// How a permission list changes a user's direct grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum GrantChange {
    /// Adds the listed permissions.
    Add,
    /// Replaces the grants with the list.
    Replace,
    /// Removes the listed permissions.
    Remove,
    /// Removes every grant (the list is ignored).
    Clear,
}

impl From<GrantChange> for rehome_core::services::accounts::GrantChange {
    fn from(c: GrantChange) -> Self {
        use rehome_core::services::accounts::GrantChange as G;
        match c {
            GrantChange::Add => G::Add,
            GrantChange::Replace => G::Replace,
            GrantChange::Remove => G::Remove,
            GrantChange::Clear => G::Clear,
        }
    }
}

/// Options for opening a store.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct OpenOptions {
    /// Hash passwords with deliberately weak parameters, so tests that create users and log in
    /// run fast. Never for real data: such hashes are cheap to crack.
    #[uniffi(default = false)]
    pub fast_password_hashing: bool,
    /// The most database connections a SQL store holds (default 10); ignored by sled.
    #[uniffi(default = None)]
    pub max_connections: Option<u32>,
    /// How long a SQL store waits for a connection, in seconds (default 30); ignored by sled.
    #[uniffi(default = None)]
    pub acquire_timeout_secs: Option<u64>,
}

/// A donated device.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Device {
    /// Primary key: a UUID.
    pub device_id: String,
    /// Kind of device (the contract's `type`): "Laptop", "Smartphone", ...
    pub device_type: String,
    /// Manufacturer.
    pub make: String,
    /// Model.
    pub model: String,
    /// Serial number; unique.
    pub serial_number: String,
    /// MAC address (lowercase colon form when it is one) or other text; unique when not empty.
    pub mac_id: String,
    /// IMEI of a phone or tablet (15 digits); unique when not empty.
    pub imei: String,
    /// Year of manufacture.
    pub year_of_manufacture: Option<i32>,
    /// When it came in (`YYYY-MM-DD`).
    pub date_received: Option<String>,
    /// The user who took it in.
    pub received_by: Option<i64>,
    /// The user who created the record.
    pub created_by: Option<i64>,
    /// Condition, free text.
    pub physical_condition: String,
    /// Specifications, free text.
    pub specifications: String,
    /// Operating system, free text.
    pub operating_system: String,
    /// Who gave it.
    pub donor: Option<i64>,
    /// When it was given (`YYYY-MM-DD`).
    pub date_of_donation: Option<String>,
    /// Estimated value, a decimal with two places (`"416.69"`).
    pub value: Option<String>,
    /// Where it started.
    pub start_location: Option<i64>,
    /// Where it goes.
    pub end_location: Option<i64>,
    /// Notes, free text.
    pub notes: String,
    /// Shipments it travelled with, ascending.
    pub shipping_infos: Vec<i64>,
    /// Lifecycle status.
    pub status: DeviceStatus,
    /// The device declares that it holds no storage media.
    pub no_media: bool,
    /// Its activation-lock checks.
    pub locks: Vec<LockCheck>,
    /// Whether quality sampling picked it for a second person's verification.
    pub sample: Sample,
    /// It reached its status before rehome kept sanitization evidence (an upgraded store or
    /// an import): no records were invented for it.
    pub no_evidence_recorded: bool,
    /// Where it went, once recycled.
    pub recycling: Option<Recycling>,
    /// Creation time.
    pub created_at: SystemTime,
    /// Last change.
    pub updated_at: SystemTime,
    /// Optimistic-concurrency version (1 on create, +1 per change).
    pub version: u64,
}

/// An activation lock that stops the next owner from using a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LockKind {
    /// Apple's Find My / iCloud Activation Lock.
    AppleFindMy,
    /// Google's Factory Reset Protection.
    GoogleFrp,
    /// Enrolment in an organisation's mobile device management.
    Mdm,
}

/// What the check of one activation lock found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LockState {
    /// The lock was present and has been removed.
    Removed,
    /// The lock was not present.
    NonePresent,
}

/// The confirmation that one activation lock is gone.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LockCheck {
    /// Which lock.
    pub kind: LockKind,
    /// Removed, or none present.
    pub state: LockState,
    /// Who confirmed it.
    pub checked_by: i64,
    /// When.
    pub checked_at: SystemTime,
}

/// Whether quality sampling picked a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Sample {
    /// Not drawn yet.
    Undecided,
    /// Drawn and not picked.
    NotPicked,
    /// Picked: a verification is needed before `ready`.
    Picked,
}

/// Where a recycled device went.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Recycling {
    /// The processor's location, when it is one.
    pub location: Option<i64>,
    /// The processor's name.
    pub processor: String,
    /// When the device went (`YYYY-MM-DD`).
    pub date: String,
}

impl From<rehome_core::evidence::LockCheck> for LockCheck {
    fn from(c: rehome_core::evidence::LockCheck) -> Self {
        use rehome_core::evidence::{LockKind as K, LockState as S};
        LockCheck {
            kind: match c.kind {
                K::AppleFindMy => LockKind::AppleFindMy,
                K::GoogleFrp => LockKind::GoogleFrp,
                K::Mdm => LockKind::Mdm,
            },
            state: match c.state {
                S::Removed => LockState::Removed,
                S::NonePresent => LockState::NonePresent,
            },
            checked_by: c.checked_by.0,
            checked_at: time(c.checked_at),
        }
    }
}

impl From<rehome_core::evidence::Sample> for Sample {
    fn from(s: rehome_core::evidence::Sample) -> Self {
        use rehome_core::evidence::Sample as S;
        match s {
            S::Undecided => Sample::Undecided,
            S::NotPicked => Sample::NotPicked,
            S::Picked => Sample::Picked,
        }
    }
}

/// A warehouse, drop-off point or destination.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Location {
    /// Primary key.
    pub location_id: i64,
    /// Name.
    pub name: String,
    /// Kind (the contract's `type`): "Warehouse", ...
    pub location_type: String,
    /// Address; unique.
    pub address: String,
    /// Country.
    pub country: String,
    /// City.
    pub city: String,
    /// Postal code.
    pub postal_code: String,
    /// Phone; unique when not empty.
    pub phone: String,
    /// Creation time.
    pub created_at: SystemTime,
    /// Last change.
    pub updated_at: SystemTime,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// A person or organisation that gives devices.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Donor {
    /// Primary key.
    pub donor_id: i64,
    /// Name.
    pub name: String,
    /// Contact details, free text.
    pub contact_info: String,
    /// Address.
    pub address: String,
    /// Email; unique.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Creation time.
    pub created_at: SystemTime,
    /// Last change.
    pub updated_at: SystemTime,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// A shipment of devices.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Shipment {
    /// Primary key.
    pub shipping_id: i64,
    /// Destination location.
    pub destination: Option<i64>,
    /// Whether it arrived.
    pub arrived: bool,
    /// When it left (`YYYY-MM-DD`).
    pub date_shipped: String,
    /// When it arrived (`YYYY-MM-DD`).
    pub date_delivered: Option<String>,
    /// Carrier's tracking id.
    pub tracking_identifier: String,
    /// Creation time.
    pub created_at: SystemTime,
    /// Last change.
    pub updated_at: SystemTime,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Login name; unique regardless of case.
    pub username: String,
    /// Email; unique regardless of case.
    pub email: String,
    /// Role name, if any.
    pub role: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Has every permission.
    pub is_superuser: bool,
    /// Inactive users have no permissions and cannot log in.
    pub is_active: bool,
    /// Direct grants (added to the role's).
    pub permissions: Vec<Permission>,
    /// What the user may do: none when inactive, all for a superuser, else the role's
    /// permissions plus the direct grants.
    pub effective_permissions: Vec<Permission>,
    /// Whether multi-factor login (TOTP) is on.
    pub mfa_enabled: bool,
    /// Whether a user manager reset the password: until the user chooses a new one, it may
    /// only read itself, change the password and log out.
    pub must_change_password: bool,
    /// Last successful login.
    pub last_login: Option<SystemTime>,
    /// When the account was created.
    pub date_joined: SystemTime,
    /// Last change.
    pub updated_at: SystemTime,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// A named set of permissions that users hold.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Role {
    /// Primary key (roles are addressed by name).
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The permissions every holder gets.
    pub permissions: Vec<Permission>,
    /// Creation time.
    pub created_at: SystemTime,
    /// Last change.
    pub updated_at: SystemTime,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// A status a device could be given next, for one caller: allowed, or why not.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NextStatus {
    /// The status.
    pub status: DeviceStatus,
    /// Whether the caller may move the device to it now.
    pub allowed: bool,
    /// Why not, in a sentence for people; none when allowed.
    pub reason: Option<String>,
}

impl From<rehome_core::NextStatus> for NextStatus {
    fn from(n: rehome_core::NextStatus) -> Self {
        NextStatus {
            status: n.status.into(),
            allowed: n.allowed,
            reason: n.reason,
        }
    }
}

/// How a scanned code matched a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ScanMatch {
    /// The device's label (its id, bare or in an address).
    Label,
    /// Its MAC address.
    MacId,
    /// Its IMEI.
    Imei,
    /// Its serial number.
    SerialNumber,
}

/// What a scanned or typed code names.
// uniffi lowers the variants by value (a `Box` is no foreign type), and one answer is made
// per scan: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Scanned {
    /// A device.
    Device {
        /// How the code matched.
        matched: ScanMatch,
        /// The device.
        device: Device,
    },
    /// No device has this serial number, MAC address or IMEI: a device to take in.
    Unknown {
        /// The code as a serial number (trimmed), for intake; none when too long for one.
        serial_number: Option<String>,
        /// The code as a MAC address (normalised), when it has that shape.
        mac_id: Option<String>,
        /// The code as an IMEI (its 15 digits), when it is a valid one.
        imei: Option<String>,
    },
}

impl From<rehome_core::services::Scanned> for Scanned {
    fn from(s: rehome_core::services::Scanned) -> Self {
        use rehome_core::services::ScanMatch as M;
        match s {
            rehome_core::services::Scanned::Device { matched, device } => Scanned::Device {
                matched: match matched {
                    M::Label => ScanMatch::Label,
                    M::MacId => ScanMatch::MacId,
                    M::Imei => ScanMatch::Imei,
                    M::SerialNumber => ScanMatch::SerialNumber,
                },
                device: (*device).into(),
            },
            rehome_core::services::Scanned::Unknown {
                serial_number,
                mac_id,
                imei,
            } => Scanned::Unknown {
                serial_number,
                mac_id,
                imei,
            },
        }
    }
}

/// How many devices have one status.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StatusCount {
    /// The status.
    pub status: DeviceStatus,
    /// Devices with it.
    pub count: u64,
}

/// One week's movements.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WeekCount {
    /// Its Monday (`YYYY-MM-DD`).
    pub week_start: String,
    /// Devices whose `date_received` is in the week.
    pub taken_in: u64,
    /// Devices on shipments whose `date_shipped` is in the week.
    pub shipped: u64,
}

/// Devices by status and per week.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct InventorySummary {
    /// Every status in lifecycle order with its count (zeros included).
    pub by_status: Vec<StatusCount>,
    /// Eight weeks, Monday to Sunday, oldest first.
    pub weeks: Vec<WeekCount>,
}

impl From<rehome_core::services::InventorySummary> for InventorySummary {
    fn from(s: rehome_core::services::InventorySummary) -> Self {
        InventorySummary {
            by_status: s
                .by_status
                .into_iter()
                .map(|c| StatusCount {
                    status: c.status.into(),
                    count: c.count,
                })
                .collect(),
            weeks: s
                .weeks
                .into_iter()
                .map(|w| WeekCount {
                    week_start: date(w.week_start),
                    taken_in: w.taken_in,
                    shipped: w.shipped,
                })
                .collect(),
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AuditEvent {
    /// Primary key; grows with time.
    pub id: i64,
    /// When it happened.
    pub timestamp: SystemTime,
    /// The acting user; none for the operator (system caller) or an anonymous caller.
    pub actor: Option<i64>,
    /// The acting user's name at the time.
    pub actor_username: Option<String>,
    /// What happened, e.g. `device.create`, `auth.login_failed`.
    pub action: String,
    /// The kind of object, e.g. `device`.
    pub object_type: String,
    /// The object's id as text (empty when there is none).
    pub object_id: String,
    /// The client address, when known.
    pub ip: Option<String>,
    /// What changed, as JSON: `{field: [old, new]}` for updates, the object for creates and
    /// deletes.
    pub changes_json: String,
}

/// Writes one page record per object kind (uniffi has no generic records).
macro_rules! page_record {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, uniffi::Record)]
        pub struct $name {
            /// The objects of this page.
            pub results: Vec<$item>,
            /// All matches.
            pub count: u64,
            /// This page's number, from 1.
            pub page: u64,
            /// The page size used.
            pub page_size: u64,
            /// Number of pages (1 for an empty list).
            pub total_pages: u64,
            /// Whether a next page exists.
            pub has_next: bool,
            /// Whether a previous page exists.
            pub has_previous: bool,
        }

        impl $name {
            /// Converts a core page whose items convert.
            pub(crate) fn from_core<T>(page: ListResult<T>, f: impl FnMut(T) -> $item) -> $name {
                let has_next = page.has_next();
                let has_previous = page.has_previous();
                $name {
                    results: page.results.into_iter().map(f).collect(),
                    count: page.count,
                    page: page.page,
                    page_size: page.page_size,
                    total_pages: page.total_pages,
                    has_next,
                    has_previous,
                }
            }
        }
    };
}

page_record!(
    /// One page of devices.
    DevicePage,
    Device
);
page_record!(
    /// One page of locations.
    LocationPage,
    Location
);
page_record!(
    /// One page of donors.
    DonorPage,
    Donor
);
page_record!(
    /// One page of shipments.
    ShipmentPage,
    Shipment
);
page_record!(
    /// One page of users.
    UserPage,
    User
);
page_record!(
    /// One page of roles.
    RolePage,
    Role
);
page_record!(
    /// One page of the audit log, newest first.
    AuditPage,
    AuditEvent
);
page_record!(
    /// One page of objects as JSON text (devices with references inlined).
    JsonPage,
    String
);

/// A new login session. The token is shown once: core keeps only its digest.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionGrant {
    /// The user logged in.
    pub user_id: i64,
    /// Their name.
    pub username: String,
    /// The bearer token (give it to `authenticate` for a caller).
    pub access_token: String,
    /// When the session ends at the latest.
    pub expires_at: SystemTime,
}

impl From<rehome_core::services::SessionGrant> for SessionGrant {
    fn from(g: rehome_core::services::SessionGrant) -> Self {
        SessionGrant {
            user_id: g.user_id.0,
            username: g.username,
            access_token: g.access_token,
            expires_at: g.expires_at.into(),
        }
    }
}

/// What the password step of a login gives.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LoginOutcome {
    /// Logged in.
    Session {
        /// The new session.
        grant: SessionGrant,
    },
    /// MFA is on: send a code with this token to `verify_mfa`.
    MfaRequired {
        /// The MFA token (5 minutes, 5 attempts, used up by a success).
        mfa_token: String,
        /// The kinds of code accepted: `totp`, `recovery_code`.
        methods: Vec<String>,
    },
}

/// A second factor.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum MfaCode {
    /// A 6-digit code from the authenticator app.
    Totp {
        /// The code.
        code: String,
    },
    /// One of the user's recovery codes (used up by a success).
    Recovery {
        /// The code.
        code: String,
    },
}

impl From<MfaCode> for rehome_core::services::MfaCode {
    fn from(c: MfaCode) -> Self {
        match c {
            MfaCode::Totp { code } => rehome_core::services::MfaCode::Totp(code),
            MfaCode::Recovery { code } => rehome_core::services::MfaCode::Recovery(code),
        }
    }
}

/// What TOTP setup shows, once: the secret is never shown again.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TotpSetup {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URI for authenticator apps.
    pub otpauth_uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
}

impl From<rehome_core::services::TotpSetup> for TotpSetup {
    fn from(t: rehome_core::services::TotpSetup) -> Self {
        TotpSetup {
            secret: t.secret,
            otpauth_uri: t.otpauth_uri,
            qr_svg: t.qr_svg,
        }
    }
}

/// One operation of a batch.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BatchOperation {
    /// What it does.
    pub op: BatchOp,
    /// On which kind of object.
    pub model: Model,
    /// The object's id (update, delete).
    #[uniffi(default = None)]
    pub id: Option<String>,
    /// The body as a JSON object (create, update).
    #[uniffi(default = None)]
    pub data_json: Option<String>,
}

/// The outcome of one operation of an applied batch.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BatchResult {
    /// What it did.
    pub op: BatchOp,
    /// On which kind of object.
    pub model: Model,
    /// The object's id.
    pub id: String,
    /// The object after the operation as JSON (`null` after a delete).
    pub object_json: String,
}

impl From<core_batch::OperationResult> for BatchResult {
    fn from(r: core_batch::OperationResult) -> Self {
        BatchResult {
            op: r.op.into(),
            model: r.model.into(),
            id: r.id,
            object_json: r.object.to_string(),
        }
    }
}

/// How much mock data to make.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MockRequest {
    /// Locations to create.
    #[uniffi(default = 5)]
    pub locations: u32,
    /// Donors to create.
    #[uniffi(default = 10)]
    pub donors: u32,
    /// Devices to create.
    #[uniffi(default = 50)]
    pub devices: u32,
    /// Shipments to create.
    #[uniffi(default = 20)]
    pub shipments: u32,
    /// The seed: on an empty store the same seed makes the same data. Random when absent.
    #[uniffi(default = None)]
    pub seed: Option<u64>,
}

/// How much mock data was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct MockCounts {
    /// Locations created.
    pub locations: u32,
    /// Donors created.
    pub donors: u32,
    /// Devices created.
    pub devices: u32,
    /// Shipments created.
    pub shipments: u32,
}

fn time(t: Timestamp) -> SystemTime {
    t.into()
}

fn date(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

impl From<rehome_core::Device> for Device {
    fn from(d: rehome_core::Device) -> Self {
        Device {
            device_id: d.device_id.to_string(),
            device_type: d.device_type,
            make: d.make,
            model: d.model,
            serial_number: d.serial_number,
            mac_id: d.mac_id,
            imei: d.imei,
            year_of_manufacture: d.year_of_manufacture,
            date_received: d.date_received.map(date),
            received_by: d.received_by.map(|u| u.0),
            created_by: d.created_by.map(|u| u.0),
            physical_condition: d.physical_condition,
            specifications: d.specifications,
            operating_system: d.operating_system,
            donor: d.donor.map(|x| x.0),
            date_of_donation: d.date_of_donation.map(date),
            value: d.value.map(|v| v.to_string()),
            start_location: d.start_location.map(|x| x.0),
            end_location: d.end_location.map(|x| x.0),
            notes: d.notes,
            shipping_infos: d.shipping_infos.into_iter().map(|s| s.0).collect(),
            status: d.status.into(),
            no_media: d.no_media,
            locks: d.locks.into_iter().map(Into::into).collect(),
            sample: d.sample.into(),
            no_evidence_recorded: d.no_evidence_recorded,
            recycling: d.recycling.map(|r| Recycling {
                location: r.location.map(|l| l.0),
                processor: r.processor,
                date: date(r.date),
            }),
            created_at: time(d.created_at),
            updated_at: time(d.updated_at),
            version: d.version,
        }
    }
}

impl From<rehome_core::Location> for Location {
    fn from(l: rehome_core::Location) -> Self {
        Location {
            location_id: l.location_id.0,
            name: l.name,
            location_type: l.location_type,
            address: l.address,
            country: l.country,
            city: l.city,
            postal_code: l.postal_code,
            phone: l.phone,
            created_at: time(l.created_at),
            updated_at: time(l.updated_at),
            version: l.version,
        }
    }
}

impl From<rehome_core::Donor> for Donor {
    fn from(d: rehome_core::Donor) -> Self {
        Donor {
            donor_id: d.donor_id.0,
            name: d.name,
            contact_info: d.contact_info,
            address: d.address,
            email: d.email,
            phone: d.phone,
            created_at: time(d.created_at),
            updated_at: time(d.updated_at),
            version: d.version,
        }
    }
}

impl From<rehome_core::Shipment> for Shipment {
    fn from(s: rehome_core::Shipment) -> Self {
        Shipment {
            shipping_id: s.shipping_id.0,
            destination: s.destination.map(|x| x.0),
            arrived: s.arrived,
            date_shipped: date(s.date_shipped),
            date_delivered: s.date_delivered.map(date),
            tracking_identifier: s.tracking_identifier,
            created_at: time(s.created_at),
            updated_at: time(s.updated_at),
            version: s.version,
        }
    }
}

impl From<rehome_core::Role> for Role {
    fn from(r: rehome_core::Role) -> Self {
        Role {
            id: r.id.0,
            name: r.name,
            description: r.description,
            permissions: permission_list(r.permissions),
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
            version: r.version,
        }
    }
}

impl From<rehome_core::AuditEvent> for AuditEvent {
    fn from(a: rehome_core::AuditEvent) -> Self {
        AuditEvent {
            id: a.id.0,
            timestamp: time(a.timestamp),
            actor: a.actor.map(|u| u.0),
            actor_username: a.actor_username,
            action: a.action,
            object_type: a.object_type,
            object_id: a.object_id,
            ip: a.ip,
            changes_json: a.changes.to_string(),
        }
    }
}

/// A user with its effective permissions, which core computes (`user_view`: the role's
/// permissions plus the grants, all for a superuser, none when inactive).
pub(crate) fn user(u: rehome_core::User, view: &Json) -> User {
    let effective_permissions = view
        .get("effective_permissions")
        .and_then(Json::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(Json::as_str)
                .filter_map(|n| n.parse::<rehome_core::Permission>().ok())
                .map(Permission::from)
                .collect()
        })
        .unwrap_or_default();
    User {
        id: u.id.0,
        username: u.username,
        email: u.email,
        role: u.role,
        first_name: u.first_name,
        last_name: u.last_name,
        is_superuser: u.is_superuser,
        is_active: u.is_active,
        permissions: permission_list(u.permissions),
        effective_permissions,
        mfa_enabled: u.mfa_enabled,
        must_change_password: u.must_change_password,
        last_login: u.last_login.map(time),
        date_joined: time(u.date_joined),
        updated_at: time(u.updated_at),
        version: u.version,
    }
}

/// List parameters as core takes them: `("make", "Dell")`, `("ordering", "-year_of_manufacture")`.
pub(crate) fn list_params(params: HashMap<String, String>) -> rehome_core::services::ListParams {
    // Sorted, so a request is the same whatever order the foreign map iterates in.
    let mut pairs: Vec<(String, String)> = params.into_iter().collect();
    pairs.sort();
    rehome_core::services::ListParams::new(pairs)
}
