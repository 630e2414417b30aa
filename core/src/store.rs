//! The storage seam: the [`Store`] trait every backend implements, and the typed records, keys
//! and changes that cross it.
//!
//! A store knows nothing of permissions or validation; it keeps records, enforces unique keys,
//! references and versions, and commits a [`ChangeSet`] atomically. Everything else is core's.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::evidence::{Medium, Report, Sanitization, Verification};
use crate::fold::fold;
use crate::ids::{
    AuditId, DeviceId, Digest, DonorId, IdKind, LocationId, MediumId, RoleId, SanitizationId,
    ShipmentId, UserId, VerificationId,
};
use crate::model::{
    AuditEvent, Credentials, Device, Donor, Location, MfaChallenge, Role, Session, Shipment,
    Throttle, User,
};
use crate::query::{Collection, Field, ListQuery, Page, Value};

impl IdKind {
    /// The stable number stores persist for the kind (the key-value layout's counter keys, the
    /// SQL stores' counter rows): written out, not derived from the enum's order, so that
    /// reordering it never changes stored data.
    pub fn tag(self) -> u8 {
        match self {
            IdKind::Location => 1,
            IdKind::Donor => 2,
            IdKind::Shipment => 3,
            IdKind::User => 4,
            IdKind::Role => 5,
            IdKind::Audit => 6,
            IdKind::Medium => 7,
            IdKind::Sanitization => 8,
            IdKind::Verification => 9,
        }
    }
}

/// One stored object of any collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "record", rename_all = "snake_case")]
#[allow(missing_docs)]
// Devices are most of the records a store holds and lists, so boxing them would cost an
// allocation for nearly every record to save space only on the rarer small ones.
#[allow(clippy::large_enum_variant)]
pub enum Record {
    Device(Device),
    Location(Location),
    Donor(Donor),
    Shipment(Shipment),
    User(User),
    Role(Role),
    Audit(AuditEvent),
    Credentials(Credentials),
    Session(Session),
    MfaChallenge(MfaChallenge),
    Throttle(Throttle),
    Medium(Medium),
    Sanitization(Sanitization),
    Verification(Verification),
    Report(Report),
}

/// The primary key of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum RecordKey {
    Device(DeviceId),
    Location(LocationId),
    Donor(DonorId),
    Shipment(ShipmentId),
    User(UserId),
    Role(RoleId),
    Audit(AuditId),
    Credentials(UserId),
    Session(Digest),
    MfaChallenge(Digest),
    Throttle(Digest),
    Medium(MediumId),
    Sanitization(SanitizationId),
    Verification(VerificationId),
    Report(Digest),
}

impl RecordKey {
    /// The collection the key belongs to.
    pub fn collection(self) -> Collection {
        match self {
            RecordKey::Device(_) => Collection::Devices,
            RecordKey::Location(_) => Collection::Locations,
            RecordKey::Donor(_) => Collection::Donors,
            RecordKey::Shipment(_) => Collection::Shipments,
            RecordKey::User(_) => Collection::Users,
            RecordKey::Role(_) => Collection::Roles,
            RecordKey::Audit(_) => Collection::Audit,
            RecordKey::Credentials(_) => Collection::Credentials,
            RecordKey::Session(_) => Collection::Sessions,
            RecordKey::MfaChallenge(_) => Collection::MfaChallenges,
            RecordKey::Throttle(_) => Collection::Throttles,
            RecordKey::Medium(_) => Collection::Media,
            RecordKey::Sanitization(_) => Collection::Sanitizations,
            RecordKey::Verification(_) => Collection::Verifications,
            RecordKey::Report(_) => Collection::Reports,
        }
    }

    /// The key as a value of its collection's id field.
    pub fn value(self) -> Value {
        match self {
            RecordKey::Device(id) => Value::Uuid(id.0),
            RecordKey::Location(id) => Value::Int(id.0),
            RecordKey::Donor(id) => Value::Int(id.0),
            RecordKey::Shipment(id) => Value::Int(id.0),
            RecordKey::User(id) => Value::Int(id.0),
            RecordKey::Role(id) => Value::Int(id.0),
            RecordKey::Audit(id) => Value::Int(id.0),
            RecordKey::Credentials(id) => Value::Int(id.0),
            RecordKey::Medium(id) => Value::Int(id.0),
            RecordKey::Sanitization(id) => Value::Int(id.0),
            RecordKey::Verification(id) => Value::Int(id.0),
            RecordKey::Session(d)
            | RecordKey::MfaChallenge(d)
            | RecordKey::Throttle(d)
            | RecordKey::Report(d) => Value::Text(d.to_hex()),
        }
    }

    /// The integer id and its kind, for keys allocated with [`Store::next_id`].
    pub fn int_id(self) -> Option<(IdKind, i64)> {
        match self {
            RecordKey::Device(_)
            | RecordKey::Credentials(_)
            | RecordKey::Session(_)
            | RecordKey::MfaChallenge(_)
            | RecordKey::Throttle(_)
            | RecordKey::Report(_) => None,
            RecordKey::Location(id) => Some((IdKind::Location, id.0)),
            RecordKey::Donor(id) => Some((IdKind::Donor, id.0)),
            RecordKey::Shipment(id) => Some((IdKind::Shipment, id.0)),
            RecordKey::User(id) => Some((IdKind::User, id.0)),
            RecordKey::Role(id) => Some((IdKind::Role, id.0)),
            RecordKey::Audit(id) => Some((IdKind::Audit, id.0)),
            RecordKey::Medium(id) => Some((IdKind::Medium, id.0)),
            RecordKey::Sanitization(id) => Some((IdKind::Sanitization, id.0)),
            RecordKey::Verification(id) => Some((IdKind::Verification, id.0)),
        }
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordKey::Device(id) => write!(f, "device {id}"),
            RecordKey::Location(id) => write!(f, "location {id}"),
            RecordKey::Donor(id) => write!(f, "donor {id}"),
            RecordKey::Shipment(id) => write!(f, "shipment {id}"),
            RecordKey::User(id) => write!(f, "user {id}"),
            RecordKey::Role(id) => write!(f, "role {id}"),
            RecordKey::Audit(id) => write!(f, "audit event {id}"),
            RecordKey::Credentials(id) => write!(f, "credentials of user {id}"),
            RecordKey::Session(d) => write!(f, "session {d:?}"),
            RecordKey::MfaChallenge(d) => write!(f, "MFA challenge {d:?}"),
            RecordKey::Throttle(d) => write!(f, "throttle {d:?}"),
            RecordKey::Medium(id) => write!(f, "medium {id}"),
            RecordKey::Sanitization(id) => write!(f, "sanitization record {id}"),
            RecordKey::Verification(id) => write!(f, "verification {id}"),
            RecordKey::Report(d) => write!(f, "report {d}"),
        }
    }
}

/// The unique keys of a collection other than the primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum UniqueField {
    /// Device `serial_number` (exact).
    DeviceSerialNumber,
    /// Device `mac_id` (exact, when not empty).
    DeviceMacId,
    /// Location `address` (exact).
    LocationAddress,
    /// Location `phone` (exact, when not empty).
    LocationPhone,
    /// Donor `email` (exact).
    DonorEmail,
    /// User `username`, case-folded.
    UserUsername,
    /// User `email`, case-folded.
    UserEmail,
    /// Role `name` (exact).
    RoleName,
    /// Device `imei` (exact, when not empty).
    DeviceImei,
    /// Storage medium `serial` (exact).
    MediumSerial,
}

impl UniqueField {
    /// Every unique field.
    pub const ALL: [UniqueField; 10] = [
        UniqueField::DeviceSerialNumber,
        UniqueField::DeviceMacId,
        UniqueField::DeviceImei,
        UniqueField::LocationAddress,
        UniqueField::LocationPhone,
        UniqueField::DonorEmail,
        UniqueField::UserUsername,
        UniqueField::UserEmail,
        UniqueField::RoleName,
        UniqueField::MediumSerial,
    ];

    /// The collection the field belongs to.
    pub fn collection(self) -> Collection {
        self.field().collection()
    }

    /// The list-query field it is.
    pub fn field(self) -> Field {
        match self {
            UniqueField::DeviceSerialNumber => Field::DeviceSerialNumber,
            UniqueField::DeviceMacId => Field::DeviceMacId,
            UniqueField::LocationAddress => Field::LocationAddress,
            UniqueField::LocationPhone => Field::LocationPhone,
            UniqueField::DonorEmail => Field::DonorEmail,
            UniqueField::UserUsername => Field::UserUsername,
            UniqueField::UserEmail => Field::UserEmail,
            UniqueField::RoleName => Field::RoleName,
            UniqueField::DeviceImei => Field::DeviceImei,
            UniqueField::MediumSerial => Field::MediumSerial,
        }
    }

    /// The unique field that is the list-query field `field`, if any.
    pub fn of_field(field: Field) -> Option<UniqueField> {
        UniqueField::ALL.into_iter().find(|u| u.field() == field)
    }

    /// Whether the key compares case-insensitively (its value is stored folded).
    pub fn case_insensitive(self) -> bool {
        matches!(self, UniqueField::UserUsername | UniqueField::UserEmail)
    }

    /// The key value for a field value as written: folded when the key is case-insensitive.
    pub fn key(self, value: &str) -> UniqueKey {
        let value = if self.case_insensitive() {
            fold(value)
        } else {
            value.to_owned()
        };
        UniqueKey { field: self, value }
    }
}

/// A unique key value: at most one record of the collection has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UniqueKey {
    /// Which unique field.
    pub field: UniqueField,
    /// The value, already folded for case-insensitive keys (build it with [`UniqueField::key`]).
    pub value: String,
}

/// A reference from one record to another, which must exist while the reference does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reference {
    /// To a record by primary key.
    Key(RecordKey),
    /// A user's role, by name.
    RoleName(String),
}

impl Reference {
    /// Whether a reference of `spec`'s field can be this reference: the same target kind,
    /// by key or by name as the field refers.
    pub fn is_of(&self, spec: &RefSpec) -> bool {
        match self {
            Reference::Key(k) => !spec.by_name && k.collection() == spec.target,
            Reference::RoleName(_) => spec.by_name,
        }
    }
}

/// A field of a record that refers to another record (one row of [`REFERENCES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum RefField {
    DeviceDonor,
    DeviceStartLocation,
    DeviceEndLocation,
    DeviceReceivedBy,
    DeviceCreatedBy,
    DeviceShippingInfos,
    ShipmentDestination,
    UserRole,
    CredentialsUser,
    SessionUser,
    MfaChallengeUser,
    MediumDevice,
    SanitizationDevice,
    SanitizationMedium,
    SanitizationPerformedBy,
    SanitizationReport,
    VerificationDevice,
    VerificationVerifiedBy,
}

/// How many targets a reference field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arity {
    /// Exactly one: the target cannot be deleted while the field holds it (the services
    /// delete such referrers with it).
    One,
    /// None or one: deleting the target sets the field to none.
    Optional,
    /// A list: deleting the target takes it out of the list.
    Many,
    /// None or one, and evidence: the target cannot be deleted while the field holds it, and
    /// the services refuse such a delete (409, naming the records) instead of deleting or
    /// changing the referrer. Sanitization evidence is never deleted with what it is about.
    Kept,
}

/// What one reference field is: the one statement of which field of which record refers to
/// which kind. [`Record::references`], the default [`Store::referrers`], the services'
/// reference checks, clearing and `expand`, and the SQL store's columns, foreign keys and
/// referrer queries are all derived from [`REFERENCES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefSpec {
    /// Which field.
    pub field: RefField,
    /// The collection of the records holding it.
    pub source: Collection,
    /// Its JSON (contract) name, e.g. `"start_location"`.
    pub name: &'static str,
    /// The collection it refers to.
    pub target: Collection,
    /// One, optional or many.
    pub arity: Arity,
    /// Whether it refers by the target's name ([`Reference::RoleName`]) rather than its key.
    pub by_name: bool,
    /// The list-query field holding it, when it is one.
    pub list_field: Option<Field>,
    /// Whether a create or update names a missing target as an `Invalid pk` error on this
    /// field (the inventory references a client sets; the user's role is checked by the
    /// account services, the rest are set by core itself).
    pub checked: bool,
}

const fn reference(
    field: RefField,
    source: Collection,
    name: &'static str,
    target: Collection,
    arity: Arity,
    list_field: Option<Field>,
    checked: bool,
) -> RefSpec {
    RefSpec {
        field,
        source,
        name,
        target,
        arity,
        by_name: false,
        list_field,
        checked,
    }
}

/// Every reference field, by source collection in [`RecordKey`] order, then in the order
/// the record shows them.
pub static REFERENCES: [RefSpec; 18] = {
    use Arity::{Kept, Many, One, Optional};
    use Collection as C;
    [
        reference(
            RefField::DeviceDonor,
            C::Devices,
            "donor",
            C::Donors,
            Optional,
            Some(Field::DeviceDonor),
            true,
        ),
        reference(
            RefField::DeviceStartLocation,
            C::Devices,
            "start_location",
            C::Locations,
            Optional,
            Some(Field::DeviceStartLocation),
            true,
        ),
        reference(
            RefField::DeviceEndLocation,
            C::Devices,
            "end_location",
            C::Locations,
            Optional,
            Some(Field::DeviceEndLocation),
            true,
        ),
        reference(
            RefField::DeviceReceivedBy,
            C::Devices,
            "received_by",
            C::Users,
            Optional,
            None,
            true,
        ),
        // Set by core from the caller.
        reference(
            RefField::DeviceCreatedBy,
            C::Devices,
            "created_by",
            C::Users,
            Optional,
            None,
            false,
        ),
        reference(
            RefField::DeviceShippingInfos,
            C::Devices,
            "shipping_infos",
            C::Shipments,
            Many,
            None,
            true,
        ),
        reference(
            RefField::ShipmentDestination,
            C::Shipments,
            "destination",
            C::Locations,
            Optional,
            Some(Field::ShipmentDestination),
            true,
        ),
        // Users hold their role by name (ADR 0004).
        RefSpec {
            by_name: true,
            ..reference(
                RefField::UserRole,
                C::Users,
                "role",
                C::Roles,
                Optional,
                Some(Field::UserRole),
                false,
            )
        },
        reference(
            RefField::CredentialsUser,
            C::Credentials,
            "user",
            C::Users,
            One,
            Some(Field::CredentialsUser),
            false,
        ),
        reference(
            RefField::SessionUser,
            C::Sessions,
            "user",
            C::Users,
            One,
            Some(Field::SessionUser),
            false,
        ),
        reference(
            RefField::MfaChallengeUser,
            C::MfaChallenges,
            "user",
            C::Users,
            One,
            Some(Field::MfaChallengeUser),
            false,
        ),
        // A medium without records goes with its device; records keep both.
        reference(
            RefField::MediumDevice,
            C::Media,
            "device",
            C::Devices,
            One,
            Some(Field::MediumDevice),
            false,
        ),
        reference(
            RefField::SanitizationDevice,
            C::Sanitizations,
            "device",
            C::Devices,
            Kept,
            Some(Field::SanitizationDevice),
            false,
        ),
        reference(
            RefField::SanitizationMedium,
            C::Sanitizations,
            "medium",
            C::Media,
            Kept,
            Some(Field::SanitizationMedium),
            false,
        ),
        reference(
            RefField::SanitizationPerformedBy,
            C::Sanitizations,
            "performed_by",
            C::Users,
            Kept,
            Some(Field::SanitizationPerformedBy),
            false,
        ),
        reference(
            RefField::SanitizationReport,
            C::Sanitizations,
            "report",
            C::Reports,
            Kept,
            None,
            false,
        ),
        reference(
            RefField::VerificationDevice,
            C::Verifications,
            "device",
            C::Devices,
            Kept,
            Some(Field::VerificationDevice),
            false,
        ),
        reference(
            RefField::VerificationVerifiedBy,
            C::Verifications,
            "verified_by",
            C::Users,
            Kept,
            Some(Field::VerificationVerifiedBy),
            false,
        ),
    ]
};

impl RefSpec {
    /// The reference fields of records of `source`, in table order.
    pub fn of(source: Collection) -> impl Iterator<Item = &'static RefSpec> {
        REFERENCES.iter().filter(move |r| r.source == source)
    }

    /// The reference fields that can hold `reference`, in table order.
    pub fn holding(reference: &Reference) -> impl Iterator<Item = &'static RefSpec> + '_ {
        REFERENCES.iter().filter(move |r| reference.is_of(r))
    }
}

impl RefField {
    /// The row of [`REFERENCES`] describing the field.
    pub fn spec(self) -> &'static RefSpec {
        // Every field has its row; the table test checks the order.
        let i = REFERENCES.iter().position(|r| r.field == self).unwrap_or(0);
        &REFERENCES[i]
    }

    /// Appends the targets this field of `record` holds (none for a record of another
    /// collection).
    pub fn push_targets(self, record: &Record, out: &mut Vec<Reference>) {
        let key = |k: Option<RecordKey>| k.map(Reference::Key);
        match (self, record) {
            (RefField::DeviceDonor, Record::Device(d)) => {
                out.extend(key(d.donor.map(RecordKey::Donor)))
            }
            (RefField::DeviceStartLocation, Record::Device(d)) => {
                out.extend(key(d.start_location.map(RecordKey::Location)))
            }
            (RefField::DeviceEndLocation, Record::Device(d)) => {
                out.extend(key(d.end_location.map(RecordKey::Location)))
            }
            (RefField::DeviceReceivedBy, Record::Device(d)) => {
                out.extend(key(d.received_by.map(RecordKey::User)))
            }
            (RefField::DeviceCreatedBy, Record::Device(d)) => {
                out.extend(key(d.created_by.map(RecordKey::User)))
            }
            (RefField::DeviceShippingInfos, Record::Device(d)) => out.extend(
                d.shipping_infos
                    .iter()
                    .map(|s| Reference::Key(RecordKey::Shipment(*s))),
            ),
            (RefField::ShipmentDestination, Record::Shipment(s)) => {
                out.extend(key(s.destination.map(RecordKey::Location)))
            }
            (RefField::UserRole, Record::User(u)) => {
                out.extend(u.role.clone().map(Reference::RoleName))
            }
            (RefField::CredentialsUser, Record::Credentials(c)) => {
                out.push(Reference::Key(RecordKey::User(c.user)))
            }
            (RefField::SessionUser, Record::Session(s)) => {
                out.push(Reference::Key(RecordKey::User(s.user)))
            }
            (RefField::MfaChallengeUser, Record::MfaChallenge(m)) => {
                out.push(Reference::Key(RecordKey::User(m.user)))
            }
            (RefField::MediumDevice, Record::Medium(m)) => {
                out.push(Reference::Key(RecordKey::Device(m.device)))
            }
            (RefField::SanitizationDevice, Record::Sanitization(r)) => {
                out.push(Reference::Key(RecordKey::Device(r.device)))
            }
            (RefField::SanitizationMedium, Record::Sanitization(r)) => {
                out.push(Reference::Key(RecordKey::Medium(r.medium)))
            }
            (RefField::SanitizationPerformedBy, Record::Sanitization(r)) => {
                out.push(Reference::Key(RecordKey::User(r.performed_by)))
            }
            (RefField::SanitizationReport, Record::Sanitization(r)) => {
                out.extend(key(r.report.map(RecordKey::Report)))
            }
            (RefField::VerificationDevice, Record::Verification(v)) => {
                out.push(Reference::Key(RecordKey::Device(v.device)))
            }
            (RefField::VerificationVerifiedBy, Record::Verification(v)) => {
                out.push(Reference::Key(RecordKey::User(v.verified_by)))
            }
            _ => {}
        }
    }

    /// The target keys this field of `record` holds.
    pub fn target_keys(self, record: &Record) -> Vec<RecordKey> {
        let mut refs = Vec::new();
        self.push_targets(record, &mut refs);
        refs.into_iter()
            .filter_map(|r| match r {
                Reference::Key(k) => Some(k),
                Reference::RoleName(_) => None,
            })
            .collect()
    }

    /// Takes `target` out of this field of `record` as deleting the target does: an optional
    /// reference becomes none, a list loses it. Fields of [`Arity::One`] and [`Arity::Kept`]
    /// and references by name are left alone. Whether anything changed.
    pub fn clear(self, record: &mut Record, target: RecordKey) -> bool {
        fn unset<T: PartialEq>(slot: &mut Option<T>, target: T) -> bool {
            let hit = slot.as_ref() == Some(&target);
            if hit {
                *slot = None;
            }
            hit
        }
        use RecordKey as K;
        match (self, record, target) {
            (RefField::DeviceDonor, Record::Device(d), K::Donor(id)) => unset(&mut d.donor, id),
            (RefField::DeviceStartLocation, Record::Device(d), K::Location(id)) => {
                unset(&mut d.start_location, id)
            }
            (RefField::DeviceEndLocation, Record::Device(d), K::Location(id)) => {
                unset(&mut d.end_location, id)
            }
            (RefField::DeviceReceivedBy, Record::Device(d), K::User(id)) => {
                unset(&mut d.received_by, id)
            }
            (RefField::DeviceCreatedBy, Record::Device(d), K::User(id)) => {
                unset(&mut d.created_by, id)
            }
            (RefField::DeviceShippingInfos, Record::Device(d), K::Shipment(id)) => {
                let before = d.shipping_infos.len();
                d.shipping_infos.retain(|s| *s != id);
                d.shipping_infos.len() != before
            }
            (RefField::ShipmentDestination, Record::Shipment(s), K::Location(id)) => {
                unset(&mut s.destination, id)
            }
            _ => false,
        }
    }
}

impl Record {
    /// The record's primary key.
    pub fn key(&self) -> RecordKey {
        match self {
            Record::Device(r) => RecordKey::Device(r.device_id),
            Record::Location(r) => RecordKey::Location(r.location_id),
            Record::Donor(r) => RecordKey::Donor(r.donor_id),
            Record::Shipment(r) => RecordKey::Shipment(r.shipping_id),
            Record::User(r) => RecordKey::User(r.id),
            Record::Role(r) => RecordKey::Role(r.id),
            Record::Audit(r) => RecordKey::Audit(r.id),
            Record::Credentials(r) => RecordKey::Credentials(r.user),
            Record::Session(r) => RecordKey::Session(r.digest),
            Record::MfaChallenge(r) => RecordKey::MfaChallenge(r.digest),
            Record::Throttle(r) => RecordKey::Throttle(r.digest),
            Record::Medium(r) => RecordKey::Medium(r.id),
            Record::Sanitization(r) => RecordKey::Sanitization(r.id),
            Record::Verification(r) => RecordKey::Verification(r.id),
            Record::Report(r) => RecordKey::Report(r.digest),
        }
    }

    /// The record's collection.
    pub fn collection(&self) -> Collection {
        self.key().collection()
    }

    /// The record's version (audit events, sanitization records, verifications and reports
    /// are never changed and have version 1).
    pub fn version(&self) -> u64 {
        match self {
            Record::Device(r) => r.version,
            Record::Location(r) => r.version,
            Record::Donor(r) => r.version,
            Record::Shipment(r) => r.version,
            Record::User(r) => r.version,
            Record::Role(r) => r.version,
            Record::Audit(_) => 1,
            Record::Credentials(r) => r.version,
            Record::Session(r) => r.version,
            Record::MfaChallenge(r) => r.version,
            Record::Throttle(r) => r.version,
            Record::Medium(r) => r.version,
            Record::Sanitization(_) | Record::Verification(_) | Record::Report(_) => 1,
        }
    }

    /// The unique keys this record holds (empty optional values hold none).
    pub fn unique_keys(&self) -> Vec<UniqueKey> {
        let mut keys = Vec::new();
        let mut push = |field: UniqueField, value: &str, skip_empty: bool| {
            if !(skip_empty && value.is_empty()) {
                keys.push(field.key(value));
            }
        };
        match self {
            Record::Device(d) => {
                push(UniqueField::DeviceSerialNumber, &d.serial_number, false);
                push(UniqueField::DeviceMacId, &d.mac_id, true);
                push(UniqueField::DeviceImei, &d.imei, true);
            }
            Record::Location(l) => {
                push(UniqueField::LocationAddress, &l.address, false);
                push(UniqueField::LocationPhone, &l.phone, true);
            }
            Record::Donor(d) => push(UniqueField::DonorEmail, &d.email, false),
            Record::User(u) => {
                push(UniqueField::UserUsername, &u.username, false);
                push(UniqueField::UserEmail, &u.email, false);
            }
            Record::Role(r) => push(UniqueField::RoleName, &r.name, false),
            Record::Medium(m) => push(UniqueField::MediumSerial, &m.serial, false),
            Record::Shipment(_)
            | Record::Sanitization(_)
            | Record::Verification(_)
            | Record::Report(_)
            | Record::Audit(_)
            | Record::Credentials(_)
            | Record::Session(_)
            | Record::MfaChallenge(_)
            | Record::Throttle(_) => {}
        }
        keys
    }

    /// The records this record refers to, in the order of [`REFERENCES`].
    pub fn references(&self) -> Vec<Reference> {
        let mut refs = Vec::new();
        for spec in RefSpec::of(self.collection()) {
            spec.field.push_targets(self, &mut refs);
        }
        refs
    }

    /// The value of `field` (which must belong to this record's collection; a field of another
    /// collection gives [`Value::Null`]).
    pub fn get(&self, field: Field) -> Value {
        use Field as F;
        fn text(s: &str) -> Value {
            Value::Text(s.to_owned())
        }
        fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Value) -> Value {
            v.map_or(Value::Null, f)
        }
        match (self, field) {
            (Record::Device(d), f) => match f {
                F::DeviceId => Value::Uuid(d.device_id.0),
                F::DeviceType => text(&d.device_type),
                F::DeviceMake => text(&d.make),
                F::DeviceModel => text(&d.model),
                F::DeviceSerialNumber => text(&d.serial_number),
                F::DeviceMacId => text(&d.mac_id),
                F::DeviceImei => text(&d.imei),
                F::DeviceStatus => text(d.status.as_str()),
                F::DeviceYearOfManufacture => opt(d.year_of_manufacture, |y| Value::Int(y.into())),
                F::DeviceOperatingSystem => text(&d.operating_system),
                F::DevicePhysicalCondition => text(&d.physical_condition),
                F::DeviceDonor => opt(d.donor, |v| Value::Int(v.0)),
                F::DeviceStartLocation => opt(d.start_location, |v| Value::Int(v.0)),
                F::DeviceEndLocation => opt(d.end_location, |v| Value::Int(v.0)),
                F::DeviceDateReceived => opt(d.date_received, Value::Date),
                F::DeviceNotes => text(&d.notes),
                F::DeviceCreatedAt => Value::Timestamp(d.created_at),
                F::DeviceUpdatedAt => Value::Timestamp(d.updated_at),
                _ => Value::Null,
            },
            (Record::Location(l), f) => match f {
                F::LocationId => Value::Int(l.location_id.0),
                F::LocationName => text(&l.name),
                F::LocationType => text(&l.location_type),
                F::LocationAddress => text(&l.address),
                F::LocationCountry => text(&l.country),
                F::LocationCity => text(&l.city),
                F::LocationPostalCode => text(&l.postal_code),
                F::LocationPhone => text(&l.phone),
                F::LocationCreatedAt => Value::Timestamp(l.created_at),
                F::LocationUpdatedAt => Value::Timestamp(l.updated_at),
                _ => Value::Null,
            },
            (Record::Donor(d), f) => match f {
                F::DonorId => Value::Int(d.donor_id.0),
                F::DonorName => text(&d.name),
                F::DonorContactInfo => text(&d.contact_info),
                F::DonorAddress => text(&d.address),
                F::DonorEmail => text(&d.email),
                F::DonorPhone => text(&d.phone),
                F::DonorCreatedAt => Value::Timestamp(d.created_at),
                F::DonorUpdatedAt => Value::Timestamp(d.updated_at),
                _ => Value::Null,
            },
            (Record::Shipment(s), f) => match f {
                F::ShipmentId => Value::Int(s.shipping_id.0),
                F::ShipmentDestination => opt(s.destination, |v| Value::Int(v.0)),
                F::ShipmentArrived => Value::Bool(s.arrived),
                F::ShipmentDateShipped => Value::Date(s.date_shipped),
                F::ShipmentDateDelivered => opt(s.date_delivered, Value::Date),
                F::ShipmentTrackingIdentifier => text(&s.tracking_identifier),
                F::ShipmentCreatedAt => Value::Timestamp(s.created_at),
                F::ShipmentUpdatedAt => Value::Timestamp(s.updated_at),
                _ => Value::Null,
            },
            (Record::User(u), f) => match f {
                F::UserId => Value::Int(u.id.0),
                F::UserUsername => text(&u.username),
                F::UserEmail => text(&u.email),
                F::UserRole => opt(u.role.as_deref(), text),
                F::UserFirstName => text(&u.first_name),
                F::UserLastName => text(&u.last_name),
                F::UserIsActive => Value::Bool(u.is_active),
                F::UserIsSuperuser => Value::Bool(u.is_superuser),
                F::UserDateJoined => Value::Timestamp(u.date_joined),
                F::UserUpdatedAt => Value::Timestamp(u.updated_at),
                _ => Value::Null,
            },
            (Record::Role(r), f) => match f {
                F::RoleId => Value::Int(r.id.0),
                F::RoleName => text(&r.name),
                F::RoleCreatedAt => Value::Timestamp(r.created_at),
                F::RoleUpdatedAt => Value::Timestamp(r.updated_at),
                _ => Value::Null,
            },
            (Record::Audit(a), f) => match f {
                F::AuditId => Value::Int(a.id.0),
                F::AuditTimestamp => Value::Timestamp(a.timestamp),
                F::AuditActor => opt(a.actor, |v| Value::Int(v.0)),
                F::AuditAction => text(&a.action),
                F::AuditObjectType => text(&a.object_type),
                F::AuditObjectId => text(&a.object_id),
                _ => Value::Null,
            },
            (Record::Credentials(c), f) => match f {
                F::CredentialsUser => Value::Int(c.user.0),
                _ => Value::Null,
            },
            (Record::Session(s), f) => match f {
                F::SessionId => Value::Text(s.digest.to_hex()),
                F::SessionUser => Value::Int(s.user.0),
                F::SessionExpiresAt => Value::Timestamp(s.expires_at),
                F::SessionLastUsedAt => Value::Timestamp(s.last_used_at),
                _ => Value::Null,
            },
            (Record::MfaChallenge(m), f) => match f {
                F::MfaChallengeId => Value::Text(m.digest.to_hex()),
                F::MfaChallengeUser => Value::Int(m.user.0),
                F::MfaChallengeExpiresAt => Value::Timestamp(m.expires_at),
                _ => Value::Null,
            },
            (Record::Throttle(t), f) => match f {
                F::ThrottleId => Value::Text(t.digest.to_hex()),
                F::ThrottleUpdatedAt => Value::Timestamp(t.updated_at),
                _ => Value::Null,
            },
            (Record::Medium(m), f) => match f {
                F::MediumId => Value::Int(m.id.0),
                F::MediumDevice => Value::Uuid(m.device.0),
                F::MediumSerial => text(&m.serial),
                _ => Value::Null,
            },
            (Record::Sanitization(r), f) => match f {
                F::SanitizationId => Value::Int(r.id.0),
                F::SanitizationDevice => Value::Uuid(r.device.0),
                F::SanitizationMedium => Value::Int(r.medium.0),
                F::SanitizationPerformedBy => Value::Int(r.performed_by.0),
                _ => Value::Null,
            },
            (Record::Verification(v), f) => match f {
                F::VerificationId => Value::Int(v.id.0),
                F::VerificationDevice => Value::Uuid(v.device.0),
                F::VerificationVerifiedBy => Value::Int(v.verified_by.0),
                _ => Value::Null,
            },
            (Record::Report(r), f) => match f {
                F::ReportId => Value::Text(r.digest.to_hex()),
                _ => Value::Null,
            },
        }
    }
}

/// One change in a [`ChangeSet`].
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Adds a new record. Fails with [`Conflict::Exists`] when its key is taken,
    /// [`Conflict::Unique`] when one of its unique keys is, [`Conflict::MissingReference`] when
    /// something it refers to does not exist. An integer id above the kind's counter advances
    /// the counter, so [`Store::next_id`] never hands it out again.
    Insert(Record),
    /// Replaces a record whose current version is `expected_version` (the new record carries
    /// its own version, normally `expected_version + 1`). Fails with [`Conflict::Version`] when
    /// the current version differs, `NotFound` when there is no such record, and like
    /// [`Change::Insert`] for unique keys and references, and with [`Conflict::Referenced`]
    /// when it renames a role that users still hold (they refer to it by name). Audit events
    /// cannot be updated.
    Update {
        /// The new state.
        record: Record,
        /// The version the caller read.
        expected_version: u64,
    },
    /// Removes a record whose current version is `expected_version`. Fails with
    /// [`Conflict::Version`], `NotFound`, or [`Conflict::Referenced`] while another record
    /// still refers to it. Audit events cannot be deleted.
    Delete {
        /// The record removed.
        key: RecordKey,
        /// The version the caller read.
        expected_version: u64,
    },
}

/// Changes that a store commits all together or not at all.
///
/// Changes apply in order and each sees the effect of those before it; every check
/// (keys, unique keys, references, versions) is made against that running state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSet {
    /// The changes, in order.
    pub changes: Vec<Change>,
}

impl ChangeSet {
    /// An empty change set.
    pub fn new() -> Self {
        ChangeSet::default()
    }

    /// Adds an insert.
    pub fn insert(&mut self, record: Record) -> &mut Self {
        self.changes.push(Change::Insert(record));
        self
    }

    /// Adds an update.
    pub fn update(&mut self, record: Record, expected_version: u64) -> &mut Self {
        self.changes.push(Change::Update {
            record,
            expected_version,
        });
        self
    }

    /// Adds a delete.
    pub fn delete(&mut self, key: RecordKey, expected_version: u64) -> &mut Self {
        self.changes.push(Change::Delete {
            key,
            expected_version,
        });
        self
    }

    /// Whether there is nothing to commit.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Why a commit was refused. The index names the change in the [`ChangeSet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// A record with this primary key exists already.
    Exists(RecordKey),
    /// Another record holds this unique key.
    Unique(UniqueKey),
    /// The record's current version is not the expected one (`actual` is `None` never: a
    /// missing record is `NotFound`).
    Version {
        /// The record.
        key: RecordKey,
        /// The version the change expected.
        expected: u64,
        /// The version found.
        actual: u64,
    },
    /// A referenced record does not exist.
    MissingReference(Reference),
    /// The record is still referred to by `by`.
    Referenced {
        /// The record that could not be deleted.
        key: RecordKey,
        /// One record that still refers to it.
        by: RecordKey,
    },
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::Exists(k) => write!(f, "{k} exists already"),
            Conflict::Unique(k) => write!(f, "{:?} {:?} is taken", k.field, k.value),
            Conflict::Version {
                key,
                expected,
                actual,
            } => write!(f, "{key} is at version {actual}, not {expected}"),
            Conflict::MissingReference(r) => write!(f, "{r:?} does not exist"),
            Conflict::Referenced { key, by } => write!(f, "{key} is still referred to by {by}"),
        }
    }
}

/// The errors of a [`Store`]. Every backend maps its own errors onto these with the same meaning.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A change named a record that does not exist.
    #[error("{key} not found (change {index})")]
    NotFound {
        /// The missing record.
        key: RecordKey,
        /// Index of the change in its change set.
        index: usize,
    },
    /// A change conflicts with the stored state; nothing was written.
    #[error("conflict in change {index}: {conflict}")]
    Conflict {
        /// What conflicted.
        conflict: Conflict,
        /// Index of the change in its change set.
        index: usize,
    },
    /// The store holds data it cannot read (damaged, or written by a newer version).
    #[error("store data is corrupt: {0}")]
    Corrupt(String),
    /// The change set itself is not valid (e.g. an update of an audit event).
    #[error("invalid change {index}: {reason}")]
    InvalidChange {
        /// Index of the change.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The store cannot take the call now, for a reason outside rehome that may pass: the disk
    /// is full, the data directory or database is read-only, the database server is
    /// unreachable or refuses connections. The call was not acknowledged; retrying later may
    /// succeed. (Whether an unacknowledged write can still surface later depends on the backend:
    /// see `docs/guarantees.md`.)
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else the backend reports (I/O, connection, ...).
    #[error("store backend error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A backend error from any error value.
    pub fn backend(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
        StoreError::Backend(e.into())
    }

    /// An [`StoreError::Unavailable`] from any error value.
    pub fn unavailable(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
        StoreError::Unavailable(e.into())
    }

    /// Whether an I/O error means the store is unavailable (full disk, read-only file system,
    /// no permission, quota) rather than broken.
    pub fn is_unavailable_io(kind: std::io::ErrorKind) -> bool {
        use std::io::ErrorKind as K;
        matches!(
            kind,
            K::StorageFull
                | K::ReadOnlyFilesystem
                | K::PermissionDenied
                | K::QuotaExceeded
                | K::ConnectionRefused
                | K::ConnectionReset
                | K::ConnectionAborted
                | K::NotConnected
                | K::BrokenPipe
                | K::TimedOut
        )
    }
}

/// The result type of store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// Persistence for rehome. Implementations must be safe to share between tasks and, for
/// backends that several processes can open (SQL servers), between processes: every guarantee
/// below holds for all handles on the same data.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The record with this key, or `None`.
    async fn get(&self, key: RecordKey) -> StoreResult<Option<Record>>;

    /// The record holding this unique key, or `None`. Case-insensitive keys match on the
    /// folded value ([`UniqueField::key`] builds it).
    async fn get_by_unique(&self, key: &UniqueKey) -> StoreResult<Option<Record>>;

    /// Up to `limit` records of `collection` in ascending key order, starting after `after`
    /// (from the first when `None`). Used for copying whole stores and by the default
    /// [`Store::list`].
    async fn scan(
        &self,
        collection: Collection,
        after: Option<RecordKey>,
        limit: usize,
    ) -> StoreResult<Vec<Record>>;

    /// One page of a list query, with the semantics of [`crate::query`]. The default
    /// implementation scans the whole collection and evaluates the query in memory; a backend
    /// with indexes overrides it.
    async fn list(&self, query: &ListQuery) -> StoreResult<Page<Record>> {
        crate::eval::list_by_scan(self, query).await
    }

    /// The keys of the records whose [`Record::references`] include `reference`, ascending.
    /// The default scans every collection that can hold such a reference; backends with
    /// reverse-reference indexes override it.
    async fn referrers(&self, reference: &Reference) -> StoreResult<Vec<RecordKey>> {
        let mut collections: Vec<Collection> =
            RefSpec::holding(reference).map(|r| r.source).collect();
        collections.dedup();
        let mut found = Vec::new();
        for c in &collections {
            let mut after = None;
            loop {
                let chunk = self.scan(*c, after, 1000).await?;
                let done = chunk.len() < 1000;
                after = chunk.last().map(Record::key);
                found.extend(
                    chunk
                        .iter()
                        .filter(|r| r.references().contains(reference))
                        .map(Record::key),
                );
                if done {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// A fresh id of `kind`, never handed out before and above every id of that kind ever
    /// stored. Ids may be skipped (an allocated id whose commit failed is not reused).
    async fn next_id(&self, kind: IdKind) -> StoreResult<i64>;

    /// Commits every change or none (see [`ChangeSet`] and [`Change`] for the checks).
    /// Returns once the changes are durable as far as the backend promises durability.
    async fn commit(&self, changes: ChangeSet) -> StoreResult<()>;

    /// Succeeds when the store can answer (health checks).
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }

    /// Flushes and releases what the store holds; later calls may fail.
    async fn close(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_field_has_its_own_row_in_source_order() {
        for (i, r) in REFERENCES.iter().enumerate() {
            assert_eq!(r.field.spec(), &REFERENCES[i]);
            assert!(r.list_field.is_none_or(|f| f.collection() == r.source));
        }
        assert!(REFERENCES.is_sorted_by_key(|r| r.source));
    }

    #[test]
    fn who_can_refer_to_what() {
        let sources = |r: Reference| -> Vec<(Collection, &str)> {
            RefSpec::holding(&r).map(|s| (s.source, s.name)).collect()
        };
        assert_eq!(
            sources(Reference::Key(RecordKey::User(UserId(1)))),
            [
                (Collection::Devices, "received_by"),
                (Collection::Devices, "created_by"),
                (Collection::Credentials, "user"),
                (Collection::Sessions, "user"),
                (Collection::MfaChallenges, "user"),
                (Collection::Sanitizations, "performed_by"),
                (Collection::Verifications, "verified_by"),
            ]
        );
        assert_eq!(
            sources(Reference::Key(RecordKey::Device(DeviceId(
                uuid::Uuid::nil()
            )))),
            [
                (Collection::Media, "device"),
                (Collection::Sanitizations, "device"),
                (Collection::Verifications, "device"),
            ]
        );
        assert_eq!(
            sources(Reference::Key(RecordKey::Medium(MediumId(1)))),
            [(Collection::Sanitizations, "medium")]
        );
        assert_eq!(
            sources(Reference::Key(RecordKey::Report(Digest([0; 32])))),
            [(Collection::Sanitizations, "report")]
        );
        // Nothing refers to a record or a verification: evidence is the end of the chain.
        assert_eq!(
            sources(Reference::Key(RecordKey::Sanitization(SanitizationId(1)))),
            []
        );
        assert_eq!(
            sources(Reference::Key(RecordKey::Location(LocationId(1)))),
            [
                (Collection::Devices, "start_location"),
                (Collection::Devices, "end_location"),
                (Collection::Shipments, "destination"),
            ]
        );
        assert_eq!(
            sources(Reference::RoleName("x".into())),
            [(Collection::Users, "role")]
        );
        assert_eq!(sources(Reference::Key(RecordKey::Role(RoleId(1)))), []);
    }
}
