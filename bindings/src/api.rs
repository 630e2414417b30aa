//! The calls themselves, written once: `Rehome` (async) and `RehomeBlocking` export each of
//! them (see `surface!` in `lib.rs`). Each converts its arguments, calls core, and converts
//! the answer; every rule stays in core.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use rehome_core::UserId;
use rehome_core::auth::{Hasher, PasswordParams};
use rehome_core::services::mock::MockRequest as CoreMockRequest;
use rehome_core::services::{LoginOutcome as CoreLogin, Mode, Model as CoreModel};
use rehome_core::store::Record;
use serde_json::{Value as Json, json};

use crate::caller::Caller;
use crate::error::{RehomeError, Result};
use crate::types::{
    self, AuditPage, BatchOperation, BatchResult, Device, DevicePage, Donor, DonorPage,
    GrantChange, JsonPage, Location, LocationPage, LoginOutcome, MfaCode, MockCounts, MockRequest,
    OpenOptions, Permission, Role, RolePage, SessionGrant, Shipment, ShipmentPage, TotpSetup, User,
    UserPage, list_params, permission_list,
};

/// Core plus nothing: cheap to clone into a spawned task.
#[derive(Clone)]
pub(crate) struct Api {
    core: rehome_core::Rehome,
}

/// A JSON body given as text. Core validates its content; only the syntax is checked here.
fn body(text: &str) -> Result<Json> {
    serde_json::from_str(text)
        .map_err(|e| RehomeError::invalid("non_field_errors", format!("Malformed JSON: {e}.")))
}

/// One hasher with cheap parameters per process, shared by every store opened with
/// `fast_password_hashing` (its pool is one thread: test hashes take microseconds).
fn fast_hasher() -> Result<Arc<Hasher>> {
    static FAST: OnceLock<Arc<Hasher>> = OnceLock::new();
    if let Some(h) = FAST.get() {
        return Ok(h.clone());
    }
    let h = Hasher::new(PasswordParams::INSECURE_FOR_TESTS, Some(1)).map_err(|e| {
        RehomeError::Internal {
            detail: e.to_string(),
        }
    })?;
    Ok(FAST.get_or_init(|| Arc::new(h)).clone())
}

/// A record of the kind a typed call asked for. Any other kind is a broken store.
trait FromRecord: Sized {
    fn from_record(record: Record) -> Option<Self>;
}

impl FromRecord for Device {
    fn from_record(record: Record) -> Option<Self> {
        match record {
            Record::Device(d) => Some(d.into()),
            _ => None,
        }
    }
}

impl FromRecord for Location {
    fn from_record(record: Record) -> Option<Self> {
        match record {
            Record::Location(l) => Some(l.into()),
            _ => None,
        }
    }
}

impl FromRecord for Donor {
    fn from_record(record: Record) -> Option<Self> {
        match record {
            Record::Donor(d) => Some(d.into()),
            _ => None,
        }
    }
}

impl FromRecord for Shipment {
    fn from_record(record: Record) -> Option<Self> {
        match record {
            Record::Shipment(s) => Some(s.into()),
            _ => None,
        }
    }
}

fn broken_store() -> RehomeError {
    RehomeError::Backend {
        detail: "the store answered a record of another kind".into(),
    }
}

fn typed<T: FromRecord>(record: Record) -> Result<T> {
    T::from_record(record).ok_or_else(broken_store)
}

impl Api {
    /// Opens the store `url` names.
    pub(crate) async fn open(url: String, options: Option<OpenOptions>) -> Result<Api> {
        let options = options.unwrap_or_default();
        let mut open = rehome_backends::OpenOptions::default();
        if let Some(n) = options.max_connections {
            open.max_connections = n;
        }
        if let Some(s) = options.acquire_timeout_secs {
            open.acquire_timeout = std::time::Duration::from_secs(s);
        }
        let store = rehome_backends::open_with(&url, &open).await?;
        let mut core = rehome_core::Rehome::new(store);
        if options.fast_password_hashing {
            core = core.with_hasher(fast_hasher()?);
        }
        Ok(Api { core })
    }

    async fn user_out(&self, u: rehome_core::User) -> Result<User> {
        let view = self.core.user_json(&u).await?;
        Ok(types::user(u, &view))
    }

    async fn caller_from_grant(
        &self,
        grant: rehome_core::services::SessionGrant,
        ip: Option<String>,
    ) -> Result<Arc<Caller>> {
        let caller = self
            .core
            .authenticate(&grant.access_token, ip.as_deref())
            .await?;
        Ok(Caller::new(caller, Some(grant.access_token)))
    }

    // ------------------------------------------------------------------ authentication

    pub(crate) async fn login(
        &self,
        username: String,
        password: String,
        ip: Option<String>,
    ) -> Result<LoginOutcome> {
        Ok(
            match self.core.login(&username, &password, ip.as_deref()).await? {
                CoreLogin::Session(grant) => LoginOutcome::Session {
                    grant: grant.into(),
                },
                CoreLogin::MfaRequired { mfa_token, methods } => LoginOutcome::MfaRequired {
                    mfa_token,
                    methods: methods.into_iter().map(str::to_owned).collect(),
                },
            },
        )
    }

    pub(crate) async fn verify_mfa(
        &self,
        mfa_token: String,
        code: MfaCode,
        ip: Option<String>,
    ) -> Result<SessionGrant> {
        Ok(self
            .core
            .verify_mfa(&mfa_token, code.into(), ip.as_deref())
            .await?
            .into())
    }

    pub(crate) async fn sign_in(
        &self,
        username: String,
        password: String,
        code: Option<MfaCode>,
        ip: Option<String>,
    ) -> Result<Arc<Caller>> {
        let grant = match self.core.login(&username, &password, ip.as_deref()).await? {
            CoreLogin::Session(grant) => grant,
            CoreLogin::MfaRequired { mfa_token, methods } => match code {
                Some(code) => {
                    self.core
                        .verify_mfa(&mfa_token, code.into(), ip.as_deref())
                        .await?
                }
                None => {
                    return Err(RehomeError::MfaRequired {
                        mfa_token,
                        methods: methods.into_iter().map(str::to_owned).collect(),
                    });
                }
            },
        };
        self.caller_from_grant(grant, ip).await
    }

    pub(crate) async fn authenticate(
        &self,
        token: String,
        ip: Option<String>,
    ) -> Result<Arc<Caller>> {
        let caller = self.core.authenticate(&token, ip.as_deref()).await?;
        Ok(Caller::new(caller, Some(token)))
    }

    pub(crate) async fn caller_for(&self, user_id: i64) -> Result<Arc<Caller>> {
        Ok(Caller::new(
            self.core.caller_for(UserId(user_id)).await?,
            None,
        ))
    }

    pub(crate) async fn logout(&self, caller: Arc<Caller>) -> Result<()> {
        Ok(self.core.logout(&caller.inner).await?)
    }

    pub(crate) async fn logout_all(&self, caller: Arc<Caller>) -> Result<()> {
        Ok(self.core.logout_all(&caller.inner).await?)
    }

    pub(crate) async fn me(&self, caller: Arc<Caller>) -> Result<User> {
        let u = self.core.me(&caller.inner).await?;
        self.user_out(u).await
    }

    pub(crate) async fn totp_setup(&self, caller: Arc<Caller>) -> Result<TotpSetup> {
        Ok(self.core.totp_setup(&caller.inner).await?.into())
    }

    pub(crate) async fn totp_confirm(
        &self,
        caller: Arc<Caller>,
        code: String,
    ) -> Result<Vec<String>> {
        Ok(self.core.totp_confirm(&caller.inner, &code).await?)
    }

    pub(crate) async fn totp_disable(
        &self,
        caller: Arc<Caller>,
        password: String,
        code: MfaCode,
    ) -> Result<()> {
        Ok(self
            .core
            .totp_disable(&caller.inner, Some(&password), Some(code.into()))
            .await?)
    }

    pub(crate) async fn regenerate_recovery_codes(
        &self,
        caller: Arc<Caller>,
        password: String,
        code: String,
    ) -> Result<Vec<String>> {
        Ok(self
            .core
            .regenerate_recovery_codes(&caller.inner, Some(&password), Some(&code))
            .await?)
    }

    pub(crate) async fn change_password(
        &self,
        caller: Arc<Caller>,
        old_password: String,
        new_password: String,
        code: Option<MfaCode>,
    ) -> Result<()> {
        Ok(self
            .core
            .change_password(
                &caller.inner,
                Some(&old_password),
                Some(&new_password),
                code.map(Into::into),
            )
            .await?)
    }

    pub(crate) async fn set_password(
        &self,
        caller: Arc<Caller>,
        user_id: i64,
        password: String,
    ) -> Result<()> {
        Ok(self
            .core
            .set_password(&caller.inner, UserId(user_id), &password)
            .await?)
    }

    pub(crate) async fn reset_password(&self, caller: Arc<Caller>, user_id: i64) -> Result<String> {
        Ok(self
            .core
            .reset_password(&caller.inner, UserId(user_id))
            .await?)
    }

    pub(crate) async fn reset_two_step(&self, caller: Arc<Caller>, user_id: i64) -> Result<()> {
        Ok(self
            .core
            .reset_two_step(&caller.inner, UserId(user_id))
            .await?)
    }

    pub(crate) async fn purge_expired(&self) -> Result<u64> {
        Ok(self.core.purge_expired().await? as u64)
    }

    // ------------------------------------------------------------------ users

    pub(crate) async fn register(&self, caller: Arc<Caller>, body_json: String) -> Result<User> {
        let u = self
            .core
            .register(
                &caller.inner,
                &body(&body_json)?,
                rehome_core::services::accounts::Registration::Open,
            )
            .await?;
        self.user_out(u).await
    }

    pub(crate) async fn create_user(&self, caller: Arc<Caller>, body_json: String) -> Result<User> {
        let u = self
            .core
            .create_user(&caller.inner, &body(&body_json)?)
            .await?;
        self.user_out(u).await
    }

    pub(crate) async fn get_user(&self, caller: Arc<Caller>, id: i64) -> Result<User> {
        let u = self.core.get_user(&caller.inner, UserId(id)).await?;
        self.user_out(u).await
    }

    async fn write_user(
        &self,
        caller: Arc<Caller>,
        id: i64,
        body_json: String,
        mode: Mode,
        if_match: Option<u64>,
    ) -> Result<User> {
        let u = self
            .core
            .update_user(
                &caller.inner,
                UserId(id),
                &body(&body_json)?,
                mode,
                if_match,
            )
            .await?;
        self.user_out(u).await
    }

    pub(crate) async fn update_user(
        &self,
        caller: Arc<Caller>,
        id: i64,
        body_json: String,
        if_match: Option<u64>,
    ) -> Result<User> {
        self.write_user(caller, id, body_json, Mode::Patch, if_match)
            .await
    }

    pub(crate) async fn replace_user(
        &self,
        caller: Arc<Caller>,
        id: i64,
        body_json: String,
        if_match: Option<u64>,
    ) -> Result<User> {
        self.write_user(caller, id, body_json, Mode::Replace, if_match)
            .await
    }

    pub(crate) async fn delete_user(
        &self,
        caller: Arc<Caller>,
        id: i64,
        if_match: Option<u64>,
    ) -> Result<()> {
        Ok(self
            .core
            .delete_user(&caller.inner, UserId(id), if_match)
            .await?)
    }

    pub(crate) async fn list_users(
        &self,
        caller: Arc<Caller>,
        params: HashMap<String, String>,
    ) -> Result<UserPage> {
        let page = self
            .core
            .list_users(&caller.inner, &list_params(params))
            .await?;
        let views = self.core.users_json(&page.results).await?;
        let mut views = views.into_iter();
        Ok(UserPage::from_core(page, |u| {
            let view = views.next().unwrap_or(Json::Null);
            types::user(u, &view)
        }))
    }

    pub(crate) async fn user_permissions(
        &self,
        caller: Arc<Caller>,
        username: String,
    ) -> Result<Vec<Permission>> {
        Ok(permission_list(
            self.core.user_permissions(&caller.inner, &username).await?,
        ))
    }

    pub(crate) async fn change_user_permissions(
        &self,
        caller: Arc<Caller>,
        username: String,
        change: GrantChange,
        permissions: Vec<Permission>,
    ) -> Result<Vec<Permission>> {
        // Core takes the contract's JSON list, so duplicates are refused by core's rule.
        let list = Json::Array(
            permissions
                .into_iter()
                .map(|p| Json::String(rehome_core::Permission::from(p).as_str().to_owned()))
                .collect(),
        );
        Ok(permission_list(
            self.core
                .change_user_permissions(&caller.inner, &username, change.into(), &list)
                .await?,
        ))
    }

    // ------------------------------------------------------------------ roles

    pub(crate) async fn list_roles(
        &self,
        caller: Arc<Caller>,
        params: HashMap<String, String>,
    ) -> Result<RolePage> {
        let page = self
            .core
            .list_roles(&caller.inner, &list_params(params))
            .await?;
        Ok(RolePage::from_core(page, Role::from))
    }

    pub(crate) async fn get_role(&self, caller: Arc<Caller>, name: String) -> Result<Role> {
        Ok(self.core.get_role(&caller.inner, &name).await?.into())
    }

    pub(crate) async fn create_role(&self, caller: Arc<Caller>, body_json: String) -> Result<Role> {
        Ok(self
            .core
            .create_role(&caller.inner, &body(&body_json)?)
            .await?
            .into())
    }

    pub(crate) async fn update_role(
        &self,
        caller: Arc<Caller>,
        name: String,
        body_json: String,
        if_match: Option<u64>,
    ) -> Result<Role> {
        Ok(self
            .core
            .update_role(
                &caller.inner,
                &name,
                &body(&body_json)?,
                Mode::Patch,
                if_match,
            )
            .await?
            .into())
    }

    pub(crate) async fn replace_role(
        &self,
        caller: Arc<Caller>,
        name: String,
        body_json: String,
        if_match: Option<u64>,
    ) -> Result<Role> {
        Ok(self
            .core
            .update_role(
                &caller.inner,
                &name,
                &body(&body_json)?,
                Mode::Replace,
                if_match,
            )
            .await?
            .into())
    }

    pub(crate) async fn delete_role(
        &self,
        caller: Arc<Caller>,
        name: String,
        if_match: Option<u64>,
    ) -> Result<()> {
        Ok(self
            .core
            .delete_role(&caller.inner, &name, if_match)
            .await?)
    }

    // ------------------------------------------------------------------ inventory (generic)

    async fn create<T: FromRecord>(
        &self,
        caller: &Caller,
        model: CoreModel,
        body_json: &str,
    ) -> Result<T> {
        typed(
            self.core
                .create(&caller.inner, model, &body(body_json)?)
                .await?,
        )
    }

    async fn get<T: FromRecord>(&self, caller: &Caller, model: CoreModel, id: &str) -> Result<T> {
        typed(self.core.get(&caller.inner, model, id).await?)
    }

    async fn update<T: FromRecord>(
        &self,
        caller: &Caller,
        model: CoreModel,
        id: &str,
        body_json: &str,
        mode: Mode,
        if_match: Option<u64>,
    ) -> Result<T> {
        typed(
            self.core
                .update(&caller.inner, model, id, &body(body_json)?, mode, if_match)
                .await?,
        )
    }

    async fn delete(
        &self,
        caller: &Caller,
        model: CoreModel,
        id: &str,
        if_match: Option<u64>,
    ) -> Result<()> {
        Ok(self.core.delete(&caller.inner, model, id, if_match).await?)
    }

    async fn list<T: FromRecord>(
        &self,
        caller: &Caller,
        model: CoreModel,
        params: HashMap<String, String>,
    ) -> Result<rehome_core::services::ListResult<T>> {
        let page = self
            .core
            .list(&caller.inner, model, &list_params(params))
            .await?;
        let mut results = Vec::with_capacity(page.results.len());
        for r in page.results {
            results.push(typed(r)?);
        }
        Ok(rehome_core::services::ListResult {
            results,
            count: page.count,
            page: page.page,
            page_size: page.page_size,
            total_pages: page.total_pages,
        })
    }
}

/// The six typed calls of one inventory kind, over the generic ones above.
macro_rules! inventory_calls {
    ($model:expr, $ty:ty, $page:ty, $id:ty,
     $create:ident, $get:ident, $update:ident, $replace:ident, $delete:ident, $list:ident) => {
        impl Api {
            pub(crate) async fn $create(
                &self,
                caller: Arc<Caller>,
                body_json: String,
            ) -> Result<$ty> {
                self.create(&caller, $model, &body_json).await
            }

            pub(crate) async fn $get(&self, caller: Arc<Caller>, id: $id) -> Result<$ty> {
                self.get(&caller, $model, &id.to_string()).await
            }

            pub(crate) async fn $update(
                &self,
                caller: Arc<Caller>,
                id: $id,
                body_json: String,
                if_match: Option<u64>,
            ) -> Result<$ty> {
                self.update(
                    &caller,
                    $model,
                    &id.to_string(),
                    &body_json,
                    Mode::Patch,
                    if_match,
                )
                .await
            }

            pub(crate) async fn $replace(
                &self,
                caller: Arc<Caller>,
                id: $id,
                body_json: String,
                if_match: Option<u64>,
            ) -> Result<$ty> {
                self.update(
                    &caller,
                    $model,
                    &id.to_string(),
                    &body_json,
                    Mode::Replace,
                    if_match,
                )
                .await
            }

            pub(crate) async fn $delete(
                &self,
                caller: Arc<Caller>,
                id: $id,
                if_match: Option<u64>,
            ) -> Result<()> {
                self.delete(&caller, $model, &id.to_string(), if_match)
                    .await
            }

            pub(crate) async fn $list(
                &self,
                caller: Arc<Caller>,
                params: HashMap<String, String>,
            ) -> Result<$page> {
                let page = self.list::<$ty>(&caller, $model, params).await?;
                Ok(<$page>::from_core(page, |x| x))
            }
        }
    };
}

inventory_calls!(
    CoreModel::Device,
    Device,
    DevicePage,
    String,
    create_device,
    get_device,
    update_device,
    replace_device,
    delete_device,
    list_devices
);
inventory_calls!(
    CoreModel::Location,
    Location,
    LocationPage,
    i64,
    create_location,
    get_location,
    update_location,
    replace_location,
    delete_location,
    list_locations
);
inventory_calls!(
    CoreModel::Donor,
    Donor,
    DonorPage,
    i64,
    create_donor,
    get_donor,
    update_donor,
    replace_donor,
    delete_donor,
    list_donors
);
inventory_calls!(
    CoreModel::Shipment,
    Shipment,
    ShipmentPage,
    i64,
    create_shipment,
    get_shipment,
    update_shipment,
    replace_shipment,
    delete_shipment,
    list_shipments
);

impl Api {
    // ------------------------------------------------------------------ devices: extras

    pub(crate) async fn lookup_device(
        &self,
        caller: Arc<Caller>,
        serial_number: Option<String>,
        mac_id: Option<String>,
    ) -> Result<Device> {
        Ok(self
            .core
            .lookup_device(&caller.inner, serial_number.as_deref(), mac_id.as_deref())
            .await?
            .into())
    }

    pub(crate) async fn device_qr_svg(&self, caller: Arc<Caller>, id: String) -> Result<String> {
        Ok(self.core.device_qr_svg(&caller.inner, &id).await?)
    }

    pub(crate) async fn scan(&self, caller: Arc<Caller>, code: String) -> Result<types::Scanned> {
        Ok(self.core.scan(&caller.inner, &code).await?.into())
    }

    pub(crate) async fn inventory_summary(
        &self,
        caller: Arc<Caller>,
        date: Option<String>,
    ) -> Result<types::InventorySummary> {
        let date = match date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(text) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| RehomeError::invalid("date", "Enter a date as YYYY-MM-DD."))?,
            None => self.core.now().date_naive(),
        };
        Ok(self
            .core
            .inventory_summary(&caller.inner, date)
            .await?
            .into())
    }

    pub(crate) async fn device_statuses(
        &self,
        caller: Arc<Caller>,
        id: String,
    ) -> Result<Vec<types::NextStatus>> {
        let statuses = self.core.device_statuses(&caller.inner, &id).await?;
        Ok(statuses.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn device_history(
        &self,
        caller: Arc<Caller>,
        id: String,
        params: HashMap<String, String>,
    ) -> Result<AuditPage> {
        let page = self
            .core
            .device_history(&caller.inner, &id, &list_params(params))
            .await?;
        Ok(AuditPage::from_core(page, types::AuditEvent::from))
    }

    pub(crate) async fn get_device_expanded(
        &self,
        caller: Arc<Caller>,
        id: String,
        expand: Vec<String>,
    ) -> Result<String> {
        let device = match self.core.get(&caller.inner, CoreModel::Device, &id).await? {
            Record::Device(d) => d,
            _ => return Err(broken_store()),
        };
        let names: Vec<&str> = expand.iter().map(String::as_str).collect();
        let mut out = self.core.expand_devices(&[device], &names).await?;
        Ok(out.pop().unwrap_or(Json::Null).to_string())
    }

    pub(crate) async fn list_devices_expanded(
        &self,
        caller: Arc<Caller>,
        params: HashMap<String, String>,
        expand: Vec<String>,
    ) -> Result<JsonPage> {
        let page = self
            .core
            .list(&caller.inner, CoreModel::Device, &list_params(params))
            .await?;
        let mut devices = Vec::with_capacity(page.results.len());
        for r in &page.results {
            match r {
                Record::Device(d) => devices.push(d.clone()),
                _ => return Err(broken_store()),
            }
        }
        let names: Vec<&str> = expand.iter().map(String::as_str).collect();
        let mut out = self
            .core
            .expand_devices(&devices, &names)
            .await?
            .into_iter();
        Ok(JsonPage::from_core(page, |_| {
            out.next().unwrap_or(Json::Null).to_string()
        }))
    }

    // ------------------------------------------------------------------ batch, mock data, audit

    pub(crate) async fn batch(
        &self,
        caller: Arc<Caller>,
        operations: Vec<BatchOperation>,
    ) -> Result<Vec<BatchResult>> {
        // Core parses the contract's body, so every rule about operations stays there.
        let mut ops = Vec::with_capacity(operations.len());
        for (i, o) in operations.into_iter().enumerate() {
            let mut op = serde_json::Map::new();
            op.insert("op".into(), json!(o.op.name()));
            op.insert("model".into(), json!(CoreModel::from(o.model).name()));
            if let Some(id) = o.id {
                op.insert("id".into(), Json::String(id));
            }
            if let Some(data) = o.data_json {
                let data = serde_json::from_str::<Json>(&data).map_err(|e| {
                    RehomeError::invalid(
                        "operations",
                        format!("Operation {i}: malformed JSON in data_json: {e}."),
                    )
                })?;
                op.insert("data".into(), data);
            }
            ops.push(Json::Object(op));
        }
        let results = self
            .core
            .batch(&caller.inner, &json!({ "operations": ops }))
            .await?;
        Ok(results.into_iter().map(BatchResult::from).collect())
    }

    pub(crate) async fn batch_update(
        &self,
        caller: Arc<Caller>,
        model: types::Model,
        objects_json: String,
    ) -> Result<u64> {
        let objects = body(&objects_json)?;
        let n = self
            .core
            .batch_update(&caller.inner, model.into(), &json!({ "objects": objects }))
            .await?;
        Ok(n as u64)
    }

    pub(crate) async fn batch_delete(
        &self,
        caller: Arc<Caller>,
        model: types::Model,
        ids: Vec<String>,
    ) -> Result<u64> {
        let n = self
            .core
            .batch_delete(&caller.inner, model.into(), &json!({ "ids": ids }))
            .await?;
        Ok(n as u64)
    }

    pub(crate) async fn generate_mock_data(
        &self,
        caller: Arc<Caller>,
        request: MockRequest,
    ) -> Result<MockCounts> {
        let counts = self
            .core
            .generate_mock_data(
                &caller.inner,
                CoreMockRequest {
                    locations: request.locations,
                    donors: request.donors,
                    devices: request.devices,
                    shipments: request.shipments,
                    seed: request.seed,
                },
            )
            .await?;
        Ok(MockCounts {
            locations: counts.locations,
            donors: counts.donors,
            devices: counts.devices,
            shipments: counts.shipments,
        })
    }

    pub(crate) async fn list_audit(
        &self,
        caller: Arc<Caller>,
        params: HashMap<String, String>,
    ) -> Result<AuditPage> {
        let page = self
            .core
            .list_audit(&caller.inner, &list_params(params))
            .await?;
        Ok(AuditPage::from_core(page, types::AuditEvent::from))
    }
}
