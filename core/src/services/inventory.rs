//! Devices, locations, donors and shipments: create, read, update, delete, lookup and expand,
//! with the contract's permissions, unique keys, references and status lifecycle.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::input::{self, Body, Mode, Parsed, Spec};
use super::tx::Tx;
use super::write::{bump, check_body_version, check_if_match, check_unique, diff, key_text};
pub use super::write::{record_json, unique_errors};
use super::{Caller, Rehome};
use crate::error::{Error, FieldErrors, Result};
use crate::evidence::Sample;
use crate::ids::{DeviceId, DonorId, IdKind, LocationId, ShipmentId, UserId};
use crate::model::{Device, DeviceStatus, Donor, Location, NextStatus, Shipment, Timestamp};
use crate::permission::Permission;
use crate::query::Collection;
use crate::store::{
    Arity, Change, Conflict, Record, RecordKey, RefSpec, Reference, StoreError, UniqueField,
};

/// The four inventory object kinds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// What a write does, for permission checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// Create.
    Create,
    /// Update (full or partial).
    Update,
    /// Delete.
    Delete,
}

impl Model {
    /// Every model.
    pub const ALL: [Model; 4] = [
        Model::Device,
        Model::Location,
        Model::Donor,
        Model::Shipment,
    ];

    /// The singular name used in batch bodies and audit entries (`"device"`).
    pub fn name(self) -> &'static str {
        match self {
            Model::Device => "device",
            Model::Location => "location",
            Model::Donor => "donor",
            Model::Shipment => "shipment",
        }
    }

    /// Parses a batch model name.
    pub fn from_name(name: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The collection of the model.
    pub fn collection(self) -> Collection {
        match self {
            Model::Device => Collection::Devices,
            Model::Location => Collection::Locations,
            Model::Donor => Collection::Donors,
            Model::Shipment => Collection::Shipments,
        }
    }

    pub(crate) fn specs(self) -> &'static [Spec] {
        match self {
            Model::Device => input::DEVICE,
            Model::Location => input::LOCATION,
            Model::Donor => input::DONOR,
            Model::Shipment => input::SHIPMENT,
        }
    }

    /// Parses an id as it appears in a path or body (a UUID for devices, with or without
    /// dashes; a positive integer otherwise).
    pub fn parse_key(self, id: &str) -> Option<RecordKey> {
        match self {
            Model::Device => id.parse::<DeviceId>().ok().map(RecordKey::Device),
            Model::Location => pos_int(id).map(|i| RecordKey::Location(LocationId(i))),
            Model::Donor => pos_int(id).map(|i| RecordKey::Donor(DonorId(i))),
            Model::Shipment => pos_int(id).map(|i| RecordKey::Shipment(ShipmentId(i))),
        }
    }

    /// Parses an id given as JSON (string or number).
    pub fn parse_json_key(self, id: &Json) -> Option<RecordKey> {
        match id {
            Json::String(s) => self.parse_key(s),
            Json::Number(n) => self.parse_key(&n.to_string()),
            _ => None,
        }
    }

    /// The permissions of which any one allows reading.
    pub fn read_permissions(self) -> &'static [Permission] {
        match self {
            Model::Device => &[Permission::ReadDevices],
            Model::Location => &[Permission::ReadDevices, Permission::ManageWarehouses],
            Model::Donor => &[Permission::ReadDevices, Permission::ManageDonors],
            Model::Shipment => &[Permission::ReadDevices, Permission::ManageShipments],
        }
    }

    /// The permission a write needs.
    pub fn write_permission(self, kind: WriteKind) -> Permission {
        match (self, kind) {
            (Model::Device, WriteKind::Create) => Permission::CreateDevices,
            (Model::Device, WriteKind::Update) => Permission::EditDevices,
            (Model::Device, WriteKind::Delete) => Permission::DeleteDevices,
            (Model::Location, _) => Permission::ManageWarehouses,
            (Model::Donor, _) => Permission::ManageDonors,
            (Model::Shipment, _) => Permission::ManageShipments,
        }
    }
}

fn pos_int(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().filter(|i| *i > 0)
}

fn not_found() -> Error {
    Error::NotFound("Not found.".into())
}

impl Rehome {
    /// Creates an object from a JSON body; the caller needs the model's create permission.
    pub async fn create(&self, caller: &Caller, model: Model, body: &Json) -> Result<Record> {
        let mut tx = Tx::new(&**self.store());
        let record = self.tx_create(&mut tx, caller, model, body).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Reads one object by its id as text; the caller needs a read permission of the model.
    pub async fn get(&self, caller: &Caller, model: Model, id: &str) -> Result<Record> {
        caller.require_any(model.read_permissions())?;
        let key = model.parse_key(id).ok_or_else(not_found)?;
        self.store().get(key).await?.ok_or_else(not_found)
    }

    /// Updates an object from a JSON body (`Mode::Replace` for PUT, `Mode::Patch` for PATCH).
    /// `if_match` is the version the caller's precondition names (412 when not current); a
    /// `version` in the body that is not current is a conflict (409).
    pub async fn update(
        &self,
        caller: &Caller,
        model: Model,
        id: &str,
        body: &Json,
        mode: Mode,
        if_match: Option<u64>,
    ) -> Result<Record> {
        let mut tx = Tx::new(&**self.store());
        let record = self
            .tx_update(&mut tx, caller, model, id, body, mode, if_match)
            .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes an object, first clearing every reference to it (the referrers' versions go up,
    /// audited).
    pub async fn delete(
        &self,
        caller: &Caller,
        model: Model,
        id: &str,
        if_match: Option<u64>,
    ) -> Result<()> {
        // A referrer created between reading the referrers and committing makes the store
        // refuse the delete; reading again then finds it.
        let mut attempts = 0;
        loop {
            let mut tx = Tx::new(&**self.store());
            self.tx_delete(&mut tx, caller, model, id, if_match).await?;
            match tx.commit().await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict {
                    conflict: Conflict::Referenced { .. } | Conflict::Version { .. },
                    ..
                }) if attempts < 3 && if_match.is_none() => attempts += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Finds a device by serial number or MAC address (the scan flow); needs `scanDevices` or
    /// `readDevices`.
    pub async fn lookup_device(
        &self,
        caller: &Caller,
        serial_number: Option<&str>,
        mac_id: Option<&str>,
    ) -> Result<Device> {
        caller.require_any(&[Permission::ScanDevices, Permission::ReadDevices])?;
        let key = match (serial_number.map(str::trim), mac_id.map(str::trim)) {
            (Some(s), _) if !s.is_empty() => UniqueField::DeviceSerialNumber.key(s),
            (_, Some(m)) if !m.is_empty() => UniqueField::DeviceMacId.key(&input::normalize_mac(m)),
            _ => {
                return Err(Error::invalid(
                    "serial_number",
                    "Give serial_number or mac_id.",
                ));
            }
        };
        match self.store().get_by_unique(&key).await? {
            Some(Record::Device(d)) => Ok(d),
            _ => Err(not_found()),
        }
    }

    /// The SVG QR label of a device, encoding its id (the scan flow reads it back). Needs
    /// `generateQRCodes` only: printing labels does not need the device's other fields.
    pub async fn device_qr_svg(&self, caller: &Caller, id: &str) -> Result<String> {
        caller.require(Permission::GenerateQrCodes)?;
        let key = Model::Device.parse_key(id).ok_or_else(not_found)?;
        match self.store().get(key).await? {
            Some(Record::Device(d)) => crate::auth::totp::qr_svg(&d.device_id.to_string())
                .map_err(|e| Error::internal("QR code", e)),
            _ => Err(not_found()),
        }
    }

    /// Every status, in lifecycle order, with whether `caller` may move the device there now
    /// and, when not, why (needs `readDevices`; [`Error::NotFound`] for an unknown device).
    ///
    /// The rule is the PATCH route's: the current status is always allowed (staying put); a
    /// caller without `editDevices` may move the device nowhere; a superuser (or the operator)
    /// may move it anywhere, the lifecycle aside (such a move is audited with
    /// `status_override`); everyone else follows [`DeviceStatus::move_blocked`].
    pub async fn device_statuses(&self, caller: &Caller, id: &str) -> Result<Vec<NextStatus>> {
        caller.require_any(Model::Device.read_permissions())?;
        let key = Model::Device.parse_key(id).ok_or_else(not_found)?;
        let from = match self.store().get(key).await? {
            Some(Record::Device(d)) => d.status,
            _ => return Err(not_found()),
        };
        let may_edit = caller.has(Model::Device.write_permission(WriteKind::Update));
        Ok(DeviceStatus::ALL
            .into_iter()
            .map(|to| {
                let reason = if to == from || caller.is_superuser() {
                    None
                } else if !may_edit {
                    Some(
                        "You may not change devices: that needs the editDevices permission.".into(),
                    )
                } else {
                    from.move_blocked(to).map(|r| r.to_string())
                };
                NextStatus {
                    status: to,
                    allowed: reason.is_none(),
                    reason,
                }
            })
            .collect())
    }

    pub(crate) async fn tx_create(
        &self,
        tx: &mut Tx<'_>,
        caller: &Caller,
        model: Model,
        body: &Json,
    ) -> Result<Record> {
        caller.require(model.write_permission(WriteKind::Create))?;
        let (mut body, mut errors) =
            input::parse(model.specs(), body, Mode::Create, self.next_year());
        let now = self.now();
        let record = match model {
            Model::Device => {
                let mut d = blank_device(
                    DeviceId::from_random_bytes(self.random_bytes()),
                    caller.user_id(),
                    now,
                );
                let status = take_status(&mut body);
                apply_device(&mut body, &mut d);
                if let Some(s) = status {
                    check_status(caller, DeviceStatus::Received, s, &mut errors);
                    d.status = s;
                }
                Record::Device(d)
            }
            Model::Location => {
                let id = LocationId(tx.store().next_id(IdKind::Location).await?);
                let mut l = blank_location(id, now);
                apply_location(&mut body, &mut l);
                Record::Location(l)
            }
            Model::Donor => {
                let mut d = blank_donor(DonorId(tx.store().next_id(IdKind::Donor).await?), now);
                apply_donor(&mut body, &mut d);
                Record::Donor(d)
            }
            Model::Shipment => {
                let id = ShipmentId(tx.store().next_id(IdKind::Shipment).await?);
                let mut s = blank_shipment(id, now);
                apply_shipment(&mut body, &mut s);
                Record::Shipment(s)
            }
        };
        self.check_references(tx, &record, &mut errors).await?;
        errors.into_result()?;
        check_unique(tx, &record).await?;
        let snapshot = record_json(&record);
        tx.push(Change::Insert(record.clone()));
        tx.audit(
            caller,
            now,
            &format!("{}.create", model.name()),
            model.name(),
            key_text(record.key()),
            snapshot,
        )
        .await?;
        Ok(record)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn tx_update(
        &self,
        tx: &mut Tx<'_>,
        caller: &Caller,
        model: Model,
        id: &str,
        body: &Json,
        mode: Mode,
        if_match: Option<u64>,
    ) -> Result<Record> {
        caller.require(model.write_permission(WriteKind::Update))?;
        let key = model.parse_key(id).ok_or_else(not_found)?;
        let current = tx.get(key).await?.ok_or_else(not_found)?;
        check_if_match(if_match, current.version())?;
        let (mut body, mut errors) = input::parse(model.specs(), body, mode, self.next_year());
        check_body_version(body.version, current.version())?;
        let now = self.now();
        let mut status_override = false;
        let mut new = current.clone();
        match &mut new {
            Record::Device(d) => {
                let status = take_status(&mut body);
                apply_device(&mut body, d);
                if let Some(s) = status {
                    status_override = !d.status.can_move_to(s);
                    check_status(caller, d.status, s, &mut errors);
                    d.status = s;
                }
            }
            Record::Location(l) => apply_location(&mut body, l),
            Record::Donor(d) => apply_donor(&mut body, d),
            Record::Shipment(s) => apply_shipment(&mut body, s),
            _ => return Err(not_found()),
        }
        self.check_references(tx, &new, &mut errors).await?;
        errors.into_result()?;
        if new == current {
            return Ok(current);
        }
        bump(&mut new, now);
        check_unique(tx, &new).await?;
        let mut changes = diff(&record_json(&current), &record_json(&new));
        if status_override && let Some(obj) = changes.as_object_mut() {
            obj.insert("status_override".into(), Json::Bool(true));
        }
        tx.push(Change::Update {
            record: new.clone(),
            expected_version: current.version(),
        });
        tx.audit(
            caller,
            now,
            &format!("{}.update", model.name()),
            model.name(),
            key_text(key),
            changes,
        )
        .await?;
        Ok(new)
    }

    pub(crate) async fn tx_delete(
        &self,
        tx: &mut Tx<'_>,
        caller: &Caller,
        model: Model,
        id: &str,
        if_match: Option<u64>,
    ) -> Result<Record> {
        caller.require(model.write_permission(WriteKind::Delete))?;
        let key = model.parse_key(id).ok_or_else(not_found)?;
        let current = tx.get(key).await?.ok_or_else(not_found)?;
        check_if_match(if_match, current.version())?;
        let now = self.now();
        self.clear_references_to(tx, caller, key, now).await?;
        tx.push(Change::Delete {
            key,
            expected_version: current.version(),
        });
        tx.audit(
            caller,
            now,
            &format!("{}.delete", model.name()),
            model.name(),
            key_text(key),
            record_json(&current),
        )
        .await?;
        Ok(current)
    }

    /// Clears every reference to `key` in the records that hold one (SET NULL, or removal
    /// from a device's `shipping_infos`), each an audited update.
    pub(crate) async fn clear_references_to(
        &self,
        tx: &mut Tx<'_>,
        caller: &Caller,
        key: RecordKey,
        now: Timestamp,
    ) -> Result<()> {
        let reference = Reference::Key(key);
        for referrer in tx.referrers(&reference).await? {
            let mut new = referrer.clone();
            for spec in RefSpec::of(referrer.collection()) {
                if spec.arity != Arity::One {
                    spec.field.clear(&mut new, key);
                }
            }
            if new == referrer {
                continue;
            }
            bump(&mut new, now);
            let (object_type, action) = match &new {
                Record::Device(_) => ("device", "device.update"),
                Record::Shipment(_) => ("shipment", "shipment.update"),
                _ => ("object", "object.update"),
            };
            let mut changes = diff(&record_json(&referrer), &record_json(&new));
            if let Some(obj) = changes.as_object_mut() {
                obj.insert("reason".into(), Json::String(format!("{key} deleted")));
            }
            tx.push(Change::Update {
                record: new.clone(),
                expected_version: referrer.version(),
            });
            tx.audit(
                caller,
                now,
                action,
                object_type,
                key_text(new.key()),
                changes,
            )
            .await?;
        }
        Ok(())
    }

    /// Adds an "Invalid pk" error for every reference of `record` that does not exist.
    async fn check_references(
        &self,
        tx: &Tx<'_>,
        record: &Record,
        errors: &mut FieldErrors,
    ) -> Result<()> {
        for spec in RefSpec::of(record.collection()).filter(|r| r.checked) {
            for key in spec.field.target_keys(record) {
                if tx.get(key).await?.is_none() {
                    errors.add(
                        spec.name,
                        format!("Invalid pk \"{}\" - object does not exist.", key_text(key)),
                    );
                }
            }
        }
        Ok(())
    }

    /// The device as JSON with the named references inlined (`donor`, `start_location`,
    /// `end_location`, `received_by`, `created_by`, `shipping_infos`); a user inlines as
    /// `{id, username, first_name, last_name}` only. Unknown names are a 400 naming them.
    pub async fn expand_devices(&self, devices: &[Device], expand: &[&str]) -> Result<Vec<Json>> {
        let expandable = || RefSpec::of(Collection::Devices);
        let allowed: Vec<&str> = expandable().map(|r| r.name).collect();
        let unknown: Vec<&str> = expand
            .iter()
            .copied()
            .filter(|e| !e.is_empty() && !allowed.contains(e))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid(
                "expand",
                format!(
                    "Unknown: {}. Allowed: {}.",
                    unknown.join(", "),
                    allowed.join(", ")
                ),
            ));
        }
        let mut cache: BTreeMap<RecordKey, Json> = BTreeMap::new();
        let mut out = Vec::with_capacity(devices.len());
        for d in devices {
            let mut v = serde_json::to_value(d).unwrap_or(Json::Null);
            let record = Record::Device(d.clone());
            for name in expand.iter().copied().filter(|e| !e.is_empty()) {
                let Some(spec) = expandable().find(|r| r.name == name) else {
                    continue;
                };
                let keys = spec.field.target_keys(&record);
                let mut inlined = Vec::with_capacity(keys.len());
                for key in keys {
                    if let std::collections::btree_map::Entry::Vacant(slot) = cache.entry(key) {
                        let j = match self.store().get(key).await? {
                            Some(Record::User(u)) => json!({
                                "id": u.id, "username": u.username,
                                "first_name": u.first_name, "last_name": u.last_name,
                            }),
                            Some(r) => record_json(&r),
                            None => Json::Null,
                        };
                        slot.insert(j);
                    }
                    inlined.push(cache.get(&key).cloned().unwrap_or(Json::Null));
                }
                if let Some(obj) = v.as_object_mut() {
                    let value = if spec.arity == Arity::Many {
                        Json::Array(inlined)
                    } else {
                        inlined.into_iter().next().unwrap_or(Json::Null)
                    };
                    obj.insert(name.to_owned(), value);
                }
            }
            out.push(v);
        }
        Ok(out)
    }
}

fn take_status(body: &mut Body) -> Option<DeviceStatus> {
    match body.take("status") {
        Some(Parsed::Status(s)) => Some(s),
        _ => None,
    }
}

fn check_status(caller: &Caller, from: DeviceStatus, to: DeviceStatus, errors: &mut FieldErrors) {
    if from.can_move_to(to) || caller.is_superuser() {
        return;
    }
    let allowed: Vec<&str> = from
        .allowed_next()
        .into_iter()
        .map(|s| s.as_str())
        .collect();
    let allowed = if allowed.is_empty() {
        "none".to_owned()
    } else {
        allowed.join(", ")
    };
    errors.add(
        "status",
        format!("Cannot move from {from} to {to}; allowed next statuses: {allowed}."),
    );
}

pub(super) fn apply_device(b: &mut Body, d: &mut Device) {
    for (name, slot) in [
        ("type", &mut d.device_type),
        ("make", &mut d.make),
        ("model", &mut d.model),
        ("serial_number", &mut d.serial_number),
        ("mac_id", &mut d.mac_id),
        ("imei", &mut d.imei),
        ("physical_condition", &mut d.physical_condition),
        ("specifications", &mut d.specifications),
        ("operating_system", &mut d.operating_system),
        ("notes", &mut d.notes),
    ] {
        if let Some(v) = b.text(name) {
            *slot = v;
        }
    }
    if let Some(v) = b.int_opt("year_of_manufacture") {
        d.year_of_manufacture = v.and_then(|y| i32::try_from(y).ok());
    }
    if let Some(v) = b.date_opt("date_received") {
        d.date_received = v;
    }
    if let Some(v) = b.date_opt("date_of_donation") {
        d.date_of_donation = v;
    }
    if let Some(v) = b.int_opt("received_by") {
        d.received_by = v.map(UserId);
    }
    if let Some(v) = b.int_opt("donor") {
        d.donor = v.map(DonorId);
    }
    if let Some(v) = b.int_opt("start_location") {
        d.start_location = v.map(LocationId);
    }
    if let Some(v) = b.int_opt("end_location") {
        d.end_location = v.map(LocationId);
    }
    match b.take("value") {
        Some(Parsed::Money(m)) => d.value = Some(m),
        Some(_) => d.value = None,
        None => {}
    }
    match b.take("shipping_infos") {
        Some(Parsed::Ids(ids)) => d.shipping_infos = ids.into_iter().map(ShipmentId).collect(),
        Some(_) => d.shipping_infos.clear(),
        None => {}
    }
}

pub(super) fn apply_location(b: &mut Body, l: &mut Location) {
    for (name, slot) in [
        ("name", &mut l.name),
        ("type", &mut l.location_type),
        ("address", &mut l.address),
        ("country", &mut l.country),
        ("city", &mut l.city),
        ("postal_code", &mut l.postal_code),
        ("phone", &mut l.phone),
    ] {
        if let Some(v) = b.text(name) {
            *slot = v;
        }
    }
}

pub(super) fn apply_donor(b: &mut Body, d: &mut Donor) {
    for (name, slot) in [
        ("name", &mut d.name),
        ("contact_info", &mut d.contact_info),
        ("address", &mut d.address),
        ("email", &mut d.email),
        ("phone", &mut d.phone),
    ] {
        if let Some(v) = b.text(name) {
            *slot = v;
        }
    }
}

pub(super) fn apply_shipment(b: &mut Body, s: &mut Shipment) {
    if let Some(v) = b.int_opt("destination") {
        s.destination = v.map(LocationId);
    }
    if let Some(v) = b.bool("arrived") {
        s.arrived = v;
    }
    if let Some(Some(v)) = b.date_opt("date_shipped") {
        s.date_shipped = v;
    }
    if let Some(v) = b.date_opt("date_delivered") {
        s.date_delivered = v;
    }
    if let Some(v) = b.text("tracking_identifier") {
        s.tracking_identifier = v;
    }
}

impl Rehome {
    /// Lists objects of `model` with the contract's filters, search, ordering and pages.
    pub async fn list(
        &self,
        caller: &Caller,
        model: Model,
        params: &super::ListParams,
    ) -> Result<super::ListResult<Record>> {
        caller.require_any(model.read_permissions())?;
        super::listing::run(&**self.store(), model.collection(), params, |_| {}).await
    }
}

/// A device with `device_id` and nothing else filled in yet (status `received`), which a
/// create fills from its body.
pub(crate) fn blank_device(
    device_id: DeviceId,
    created_by: Option<UserId>,
    now: Timestamp,
) -> Device {
    Device {
        device_id,
        device_type: String::new(),
        make: String::new(),
        model: String::new(),
        serial_number: String::new(),
        mac_id: String::new(),
        imei: String::new(),
        year_of_manufacture: None,
        date_received: None,
        received_by: None,
        created_by,
        physical_condition: String::new(),
        specifications: String::new(),
        operating_system: String::new(),
        donor: None,
        date_of_donation: None,
        value: None,
        start_location: None,
        end_location: None,
        notes: String::new(),
        shipping_infos: Vec::new(),
        status: DeviceStatus::Received,
        no_media: false,
        locks: Vec::new(),
        sample: Sample::Undecided,
        no_evidence_recorded: false,
        recycling: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A location with `location_id` and nothing else filled in yet, made at `now`.
pub(super) fn blank_location(location_id: LocationId, now: Timestamp) -> Location {
    Location {
        location_id,
        name: String::new(),
        location_type: String::new(),
        address: String::new(),
        country: String::new(),
        city: String::new(),
        postal_code: String::new(),
        phone: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A donor with `donor_id` and nothing else filled in yet, made at `now`.
pub(super) fn blank_donor(donor_id: DonorId, now: Timestamp) -> Donor {
    Donor {
        donor_id,
        name: String::new(),
        contact_info: String::new(),
        address: String::new(),
        email: String::new(),
        phone: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A shipment with `shipping_id`, shipped today (`now`'s date), not arrived, nothing else
/// filled in yet.
pub(super) fn blank_shipment(shipping_id: ShipmentId, now: Timestamp) -> Shipment {
    Shipment {
        shipping_id,
        destination: None,
        arrived: false,
        date_shipped: now.date_naive(),
        date_delivered: None,
        tracking_identifier: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}
