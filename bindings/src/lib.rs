#![doc = include_str!("../README.md")]

mod api;
mod caller;
mod error;
mod types;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock};

pub use caller::Caller;
pub use error::{BatchOperationError, RehomeError, Result};
pub use types::*;

use api::Api;

uniffi::setup_scaffolding!();

/// The one runtime every call runs on, blocking or not: store connections, timers and
/// background tasks all belong to it, whichever foreign thread or event loop made the call.
static RUNTIME: LazyLock<std::io::Result<tokio::runtime::Runtime>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rehome-ffi")
        .build()
});

fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    RUNTIME.as_ref().map_err(|e| RehomeError::Internal {
        detail: format!("the runtime could not start: {e}"),
    })
}

/// A call that panicked reports it as an internal failure instead of unwinding into the
/// caller.
fn joined<T>(r: std::result::Result<Result<T>, tokio::task::JoinError>) -> Result<T> {
    r.unwrap_or_else(|e| {
        Err(RehomeError::Internal {
            detail: format!("internal error: {e}"),
        })
    })
}

/// Runs `fut` on the runtime and waits for it from any executor (uniffi's async glue polls
/// this from Python's event loop or a Kotlin coroutine).
async fn spawn<T, F>(fut: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    joined(runtime()?.spawn(fut).await)
}

/// Runs `fut` on the runtime and blocks the calling thread until it ends. Python's generated
/// code releases the GIL for the call, so other Python threads run meanwhile.
fn block_on<T, F>(fut: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let rt = runtime()?;
    joined(rt.block_on(rt.spawn(fut)))
}

/// A store opened by URL, with every service of rehome as `async` calls (Python coroutines,
/// Kotlin `suspend` functions). `blocking()` gives the same store with blocking calls.
#[derive(uniffi::Object)]
pub struct Rehome {
    api: Api,
}

/// A store opened by URL, with every service of rehome as blocking calls: what a Python
/// script or a Kotlin program without coroutines uses. `as_async()` gives the same store with
/// async calls.
#[derive(uniffi::Object)]
pub struct RehomeBlocking {
    api: Api,
}

#[uniffi::export(async_runtime = "tokio")]
impl Rehome {
    /// Opens the store `url` names: `sqlite://PATH` (created if missing), `sqlite::memory:`,
    /// `sled://PATH`, and in builds with those features `postgres://...`, `mysql://...`.
    #[uniffi::constructor(default(options = None))]
    pub async fn open(url: String, options: Option<OpenOptions>) -> Result<Arc<Rehome>> {
        let api = spawn(async move { Api::open(url, options).await }).await?;
        Ok(Arc::new(Rehome { api }))
    }

    /// The same store with blocking calls.
    pub fn blocking(&self) -> Arc<RehomeBlocking> {
        Arc::new(RehomeBlocking {
            api: self.api.clone(),
        })
    }
}

#[uniffi::export]
impl RehomeBlocking {
    /// Opens the store `url` names: `sqlite://PATH` (created if missing), `sqlite::memory:`,
    /// `sled://PATH`, and in builds with those features `postgres://...`, `mysql://...`.
    #[uniffi::constructor(default(options = None))]
    pub fn open(url: String, options: Option<OpenOptions>) -> Result<Arc<RehomeBlocking>> {
        let api = block_on(async move { Api::open(url, options).await })?;
        Ok(Arc::new(RehomeBlocking { api }))
    }

    /// The same store with async calls.
    pub fn as_async(&self) -> Arc<Rehome> {
        Arc::new(Rehome {
            api: self.api.clone(),
        })
    }
}

/// Exports each call twice from one list, so the async and the blocking surfaces cannot
/// drift apart: `Rehome` awaits the call on the runtime, `RehomeBlocking` blocks on it.
macro_rules! surface {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;
    )*) => {
        #[uniffi::export(async_runtime = "tokio")]
        impl Rehome {
            $(
                $(#[$attr])*
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$ret> {
                    let api = self.api.clone();
                    spawn(async move { api.$name($($arg),*).await }).await
                }
            )*
        }

        #[uniffi::export]
        impl RehomeBlocking {
            $(
                $(#[$attr])*
                pub fn $name(&self, $($arg: $ty),*) -> Result<$ret> {
                    let api = self.api.clone();
                    block_on(async move { api.$name($($arg),*).await })
                }
            )*
        }
    };
}

surface! {
    // ---------------------------------------------------------------- authentication

    /// The password step of a login. With MFA off: `LoginOutcome.Session` with a token; with
    /// MFA on: `LoginOutcome.MfaRequired` with a token for `verify_mfa`. Unknown usernames
    /// and wrong passwords fail alike (`AuthenticationFailed`); too many failures lock the
    /// username (`Locked`). `ip` is the client address, for the audit log and the throttle.
    #[uniffi::method(default(ip = None))]
    fn login(username: String, password: String, ip: Option<String>) -> LoginOutcome;

    /// The second step of a login with MFA on: a TOTP or recovery code for the token
    /// `login` gave.
    #[uniffi::method(default(ip = None))]
    fn verify_mfa(mfa_token: String, code: MfaCode, ip: Option<String>) -> SessionGrant;

    /// Logs in and answers the caller for the new session: both steps at once when `code`
    /// is given, else `MfaRequired` (with its token for `verify_mfa`) when MFA is on.
    #[uniffi::method(default(code = None, ip = None))]
    fn sign_in(
        username: String,
        password: String,
        code: Option<MfaCode>,
        ip: Option<String>,
    ) -> Arc<Caller>;

    /// The caller a bearer token stands for (`InvalidToken` when the session is unknown,
    /// expired, idle too long or revoked, or its user inactive).
    #[uniffi::method(default(ip = None))]
    fn authenticate(token: String, ip: Option<String>) -> Arc<Caller>;

    /// The caller for a stored user, with its current permissions, without a login (for
    /// programs that authenticate users themselves).
    fn caller_for(user_id: i64) -> Arc<Caller>;

    /// Ends the caller's session.
    fn logout(caller: Arc<Caller>) -> ();

    /// Ends every session of the caller's user.
    fn logout_all(caller: Arc<Caller>) -> ();

    /// The caller's own user, read afresh.
    fn me(caller: Arc<Caller>) -> User;

    /// Starts TOTP setup for the caller: a new secret, shown once (`Conflict` when MFA is
    /// already on).
    fn totp_setup(caller: Arc<Caller>) -> TotpSetup;

    /// Confirms TOTP setup with a current code: MFA is on from now. Answers the ten
    /// recovery codes, shown once.
    fn totp_confirm(caller: Arc<Caller>, code: String) -> Vec<String>;

    /// Turns MFA off; needs the password and a code.
    fn totp_disable(caller: Arc<Caller>, password: String, code: MfaCode) -> ();

    /// Replaces the recovery codes (the old ones are void); needs the password and a TOTP
    /// code. Answers the new codes.
    fn regenerate_recovery_codes(caller: Arc<Caller>, password: String, code: String)
        -> Vec<String>;

    /// Changes the caller's own password (plus a code when MFA is on); the caller's other
    /// sessions end.
    #[uniffi::method(default(code = None))]
    fn change_password(
        caller: Arc<Caller>,
        old_password: String,
        new_password: String,
        code: Option<MfaCode>,
    ) -> ();

    /// Sets a user's password without the old one (the operator or a user manager); the
    /// user's sessions end.
    fn set_password(caller: Arc<Caller>, user_id: i64, password: String) -> ();

    /// A coordinator's reset of another user's password (needs `manageUsers` and every
    /// permission that user holds; not oneself): answers the temporary password, shown once;
    /// the user must choose a new one before doing anything else; its sessions end.
    fn reset_password(caller: Arc<Caller>, user_id: i64) -> String;

    /// A coordinator's reset of another user's two-step login (same rule): TOTP and recovery
    /// codes are removed; its sessions end.
    fn reset_two_step(caller: Arc<Caller>, user_id: i64) -> ();

    /// Deletes expired sessions, MFA challenges and stale throttles; answers how many
    /// records went.
    fn purge_expired() -> u64;

    // ---------------------------------------------------------------- users

    /// Self-registration (an anonymous caller may): a user with no role, no permissions. A
    /// library opens its store itself, so registration is open here (the server may close it).
    /// Body: `{"username", "email", "password", "first_name", "last_name"}`.
    fn register(caller: Arc<Caller>, body_json: String) -> User;

    /// Creates a user (needs `manageUsers`; grants obey the no-escalation rule). Body: the
    /// contract's user object plus `password`.
    fn create_user(caller: Arc<Caller>, body_json: String) -> User;

    /// Reads a user (needs `manageUsers`, for one's own record too: `me` reads that).
    fn get_user(caller: Arc<Caller>, id: i64) -> User;

    /// Changes the fields the body gives (PATCH). `if_match`: the version the change is
    /// based on (`PreconditionFailed` when it is not current).
    #[uniffi::method(default(if_match = None))]
    fn update_user(caller: Arc<Caller>, id: i64, body_json: String, if_match: Option<u64>)
        -> User;

    /// Replaces a user (PUT: required fields must be given; optional ones left out keep
    /// their value).
    #[uniffi::method(default(if_match = None))]
    fn replace_user(caller: Arc<Caller>, id: i64, body_json: String, if_match: Option<u64>)
        -> User;

    /// Deletes a user (never oneself; a user manager only users holding nothing it lacks);
    /// references to it become empty.
    #[uniffi::method(default(if_match = None))]
    fn delete_user(caller: Arc<Caller>, id: i64, if_match: Option<u64>) -> ();

    /// Lists users: filters, `search`, `ordering`, `page`, `page_size` as in the contract.
    #[uniffi::method(default(params))]
    fn list_users(caller: Arc<Caller>, params: HashMap<String, String>) -> UserPage;

    /// The direct grants of a user.
    fn user_permissions(caller: Arc<Caller>, username: String) -> Vec<Permission>;

    /// Changes the direct grants of a user; answers the resulting grants.
    fn change_user_permissions(
        caller: Arc<Caller>,
        username: String,
        change: GrantChange,
        permissions: Vec<Permission>,
    ) -> Vec<Permission>;

    // ---------------------------------------------------------------- roles

    /// Lists roles.
    #[uniffi::method(default(params))]
    fn list_roles(caller: Arc<Caller>, params: HashMap<String, String>) -> RolePage;

    /// Reads a role by name.
    fn get_role(caller: Arc<Caller>, name: String) -> Role;

    /// Creates a role: `{"name", "description", "permissions": [...]}`.
    fn create_role(caller: Arc<Caller>, body_json: String) -> Role;

    /// Changes the fields the body gives. A role users hold cannot be renamed.
    #[uniffi::method(default(if_match = None))]
    fn update_role(caller: Arc<Caller>, name: String, body_json: String, if_match: Option<u64>)
        -> Role;

    /// Replaces a role (PUT).
    #[uniffi::method(default(if_match = None))]
    fn replace_role(caller: Arc<Caller>, name: String, body_json: String, if_match: Option<u64>)
        -> Role;

    /// Deletes a role nobody holds (`Conflict` otherwise).
    #[uniffi::method(default(if_match = None))]
    fn delete_role(caller: Arc<Caller>, name: String, if_match: Option<u64>) -> ();

    // ---------------------------------------------------------------- devices

    /// Creates a device: `{"type", "make", "model", "serial_number", ...}`.
    fn create_device(caller: Arc<Caller>, body_json: String) -> Device;

    /// Reads a device by its UUID (with or without dashes).
    fn get_device(caller: Arc<Caller>, id: String) -> Device;

    /// Changes the fields the body gives (PATCH), status moves included.
    #[uniffi::method(default(if_match = None))]
    fn update_device(caller: Arc<Caller>, id: String, body_json: String, if_match: Option<u64>)
        -> Device;

    /// Replaces a device (PUT).
    #[uniffi::method(default(if_match = None))]
    fn replace_device(caller: Arc<Caller>, id: String, body_json: String, if_match: Option<u64>)
        -> Device;

    /// Deletes a device.
    #[uniffi::method(default(if_match = None))]
    fn delete_device(caller: Arc<Caller>, id: String, if_match: Option<u64>) -> ();

    /// Lists devices: filters, `search`, `ordering`, `page`, `page_size` as in the contract.
    #[uniffi::method(default(params))]
    fn list_devices(caller: Arc<Caller>, params: HashMap<String, String>) -> DevicePage;

    /// Finds a device by serial number or MAC address (the scan flow).
    #[uniffi::method(default(serial_number = None, mac_id = None))]
    fn lookup_device(
        caller: Arc<Caller>,
        serial_number: Option<String>,
        mac_id: Option<String>,
    ) -> Device;

    /// The device's QR label as SVG, encoding its id (needs `generateQRCodes` only).
    fn device_qr_svg(caller: Arc<Caller>, id: String) -> String;

    /// What a scanned or typed code names: a device by its label (id or an address ending in
    /// `/devices/{id}`), MAC address or serial number, or an unknown code to take in (needs
    /// `scanDevices` or `readDevices`).
    fn scan(caller: Arc<Caller>, code: String) -> Scanned;

    /// Devices by status, and taken in and shipped in each of the eight weeks ending with the
    /// week of `date` (`YYYY-MM-DD`; default today in UTC). Needs `readDevices`.
    #[uniffi::method(default(date = None))]
    fn inventory_summary(caller: Arc<Caller>, date: Option<String>) -> InventorySummary;

    /// Every status in lifecycle order with whether the caller may move the device there now
    /// and, when not, why (needs `readDevices`).
    fn device_statuses(caller: Arc<Caller>, id: String) -> Vec<NextStatus>;

    /// The device's own audit entries, newest first (needs `readDevices`, not
    /// `viewAuditLog`); the audit log's filters but `object_type` and `object_id`.
    #[uniffi::method(default(params))]
    fn device_history(caller: Arc<Caller>, id: String, params: HashMap<String, String>)
        -> AuditPage;

    /// A device as JSON with the references `expand` names inlined (`donor`,
    /// `start_location`, `end_location`, `received_by`, `created_by`, `shipping_infos`).
    fn get_device_expanded(caller: Arc<Caller>, id: String, expand: Vec<String>) -> String;

    /// A page of devices as JSON with the references `expand` names inlined.
    fn list_devices_expanded(
        caller: Arc<Caller>,
        params: HashMap<String, String>,
        expand: Vec<String>,
    ) -> JsonPage;

    // ---------------------------------------------------------------- locations

    /// Creates a location: `{"name", "address", "type", ...}`.
    fn create_location(caller: Arc<Caller>, body_json: String) -> Location;

    /// Reads a location.
    fn get_location(caller: Arc<Caller>, id: i64) -> Location;

    /// Changes the fields the body gives (PATCH).
    #[uniffi::method(default(if_match = None))]
    fn update_location(caller: Arc<Caller>, id: i64, body_json: String, if_match: Option<u64>)
        -> Location;

    /// Replaces a location (PUT).
    #[uniffi::method(default(if_match = None))]
    fn replace_location(caller: Arc<Caller>, id: i64, body_json: String, if_match: Option<u64>)
        -> Location;

    /// Deletes a location; references to it become empty.
    #[uniffi::method(default(if_match = None))]
    fn delete_location(caller: Arc<Caller>, id: i64, if_match: Option<u64>) -> ();

    /// Lists locations.
    #[uniffi::method(default(params))]
    fn list_locations(caller: Arc<Caller>, params: HashMap<String, String>) -> LocationPage;

    // ---------------------------------------------------------------- donors

    /// Creates a donor: `{"name", "email", ...}`.
    fn create_donor(caller: Arc<Caller>, body_json: String) -> Donor;

    /// Reads a donor.
    fn get_donor(caller: Arc<Caller>, id: i64) -> Donor;

    /// Changes the fields the body gives (PATCH).
    #[uniffi::method(default(if_match = None))]
    fn update_donor(caller: Arc<Caller>, id: i64, body_json: String, if_match: Option<u64>)
        -> Donor;

    /// Replaces a donor (PUT).
    #[uniffi::method(default(if_match = None))]
    fn replace_donor(caller: Arc<Caller>, id: i64, body_json: String, if_match: Option<u64>)
        -> Donor;

    /// Deletes a donor; references to it become empty.
    #[uniffi::method(default(if_match = None))]
    fn delete_donor(caller: Arc<Caller>, id: i64, if_match: Option<u64>) -> ();

    /// Lists donors.
    #[uniffi::method(default(params))]
    fn list_donors(caller: Arc<Caller>, params: HashMap<String, String>) -> DonorPage;

    // ---------------------------------------------------------------- shipments

    /// Creates a shipment: `{"date_shipped", "destination", "tracking_identifier", ...}`.
    fn create_shipment(caller: Arc<Caller>, body_json: String) -> Shipment;

    /// Reads a shipment.
    fn get_shipment(caller: Arc<Caller>, id: i64) -> Shipment;

    /// Changes the fields the body gives (PATCH).
    #[uniffi::method(default(if_match = None))]
    fn update_shipment(caller: Arc<Caller>, id: i64, body_json: String, if_match: Option<u64>)
        -> Shipment;

    /// Replaces a shipment (PUT).
    #[uniffi::method(default(if_match = None))]
    fn replace_shipment(caller: Arc<Caller>, id: i64, body_json: String, if_match: Option<u64>)
        -> Shipment;

    /// Deletes a shipment; references to it become empty.
    #[uniffi::method(default(if_match = None))]
    fn delete_shipment(caller: Arc<Caller>, id: i64, if_match: Option<u64>) -> ();

    /// Lists shipments.
    #[uniffi::method(default(params))]
    fn list_shipments(caller: Arc<Caller>, params: HashMap<String, String>) -> ShipmentPage;

    // ---------------------------------------------------------------- batch, mock data, audit

    /// Applies operations all or nothing (needs `bulkUploadDevices` and, per operation,
    /// what the single call needs). `BatchRejected` lists every failing operation.
    fn batch(caller: Arc<Caller>, operations: Vec<BatchOperation>) -> Vec<BatchResult>;

    /// Partial updates of many objects of one kind, all or nothing: `objects_json` is a JSON
    /// list of objects, each with its `id`. Answers how many were updated.
    fn batch_update(caller: Arc<Caller>, model: Model, objects_json: String) -> u64;

    /// Deletes many objects of one kind, all or nothing. Answers how many were deleted.
    fn batch_delete(caller: Arc<Caller>, model: Model, ids: Vec<String>) -> u64;

    /// Makes mock data (superuser only); the request's counts default to the contract's.
    #[uniffi::method(default(request))]
    fn generate_mock_data(caller: Arc<Caller>, request: MockRequest) -> MockCounts;

    /// The audit log, newest first (needs `viewAuditLog`); filters `actor`, `action`,
    /// `object_type`, `object_id`, `since`, `until`.
    #[uniffi::method(default(params))]
    fn list_audit(caller: Arc<Caller>, params: HashMap<String, String>) -> AuditPage;
}
