//! Typed list queries: the fields each collection can be filtered, searched and ordered by,
//! the values they hold, and the semantics every store must give them.
//!
//! # Semantics (every backend gives exactly these answers)
//! - Filters are ANDed. [`Op::Eq`] is exact and case-sensitive. [`Op::Gte`] / [`Op::Lte`] compare
//!   within the field's type. [`Op::IContains`] is a substring test on the Unicode full case
//!   folding ([`crate::fold::fold`]) of both sides; `%`, `_` and `\` are ordinary characters.
//!   A null field matches no filter.
//! - [`Search`] matches when any of its fields `IContains` the text.
//! - Ordering: the [`Order`] terms, then the record id ascending as the final tie-break. Text
//!   orders by Unicode code point (UTF-8 bytes), `false < true`, null sorts before every value
//!   (so first when ascending, last when descending).
//! - `offset`/`limit` cut the ordered result; `total` is the count of all matches.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::Timestamp;

/// The collections a store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    /// [`crate::model::Device`]
    Devices,
    /// [`crate::model::Location`]
    Locations,
    /// [`crate::model::Donor`]
    Donors,
    /// [`crate::model::Shipment`]
    Shipments,
    /// [`crate::model::User`]
    Users,
    /// [`crate::model::Role`]
    Roles,
    /// [`crate::model::AuditEvent`]
    Audit,
    /// [`crate::model::Credentials`]
    Credentials,
    /// [`crate::model::Session`]
    Sessions,
    /// [`crate::model::MfaChallenge`]
    MfaChallenges,
    /// [`crate::model::Throttle`]
    Throttles,
    /// [`crate::evidence::Medium`]
    Media,
    /// [`crate::evidence::Sanitization`]
    Sanitizations,
    /// [`crate::evidence::Verification`]
    Verifications,
    /// [`crate::evidence::Report`]
    Reports,
}

impl Collection {
    /// Every collection, in dependency order (referenced collections first).
    pub const ALL: [Collection; 15] = [
        Collection::Roles,
        Collection::Users,
        Collection::Locations,
        Collection::Donors,
        Collection::Shipments,
        Collection::Devices,
        Collection::Audit,
        Collection::Credentials,
        Collection::Sessions,
        Collection::MfaChallenges,
        Collection::Throttles,
        Collection::Media,
        Collection::Reports,
        Collection::Sanitizations,
        Collection::Verifications,
    ];

    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::Devices => "devices",
            Collection::Locations => "locations",
            Collection::Donors => "donors",
            Collection::Shipments => "shipments",
            Collection::Users => "users",
            Collection::Roles => "roles",
            Collection::Audit => "audit",
            Collection::Credentials => "credentials",
            Collection::Sessions => "sessions",
            Collection::MfaChallenges => "mfa_challenges",
            Collection::Throttles => "throttles",
            Collection::Media => "media",
            Collection::Sanitizations => "sanitizations",
            Collection::Verifications => "verifications",
            Collection::Reports => "reports",
        }
    }

    /// The fields of this collection.
    pub fn fields(self) -> &'static [Field] {
        use Field::*;
        match self {
            Collection::Devices => &[
                DeviceId,
                DeviceType,
                DeviceMake,
                DeviceModel,
                DeviceSerialNumber,
                DeviceMacId,
                DeviceImei,
                DeviceStatus,
                DeviceYearOfManufacture,
                DeviceOperatingSystem,
                DevicePhysicalCondition,
                DeviceDonor,
                DeviceStartLocation,
                DeviceEndLocation,
                DeviceDateReceived,
                DeviceNotes,
                DeviceCreatedAt,
                DeviceUpdatedAt,
            ],
            Collection::Locations => &[
                LocationId,
                LocationName,
                LocationType,
                LocationAddress,
                LocationCountry,
                LocationCity,
                LocationPostalCode,
                LocationPhone,
                LocationCreatedAt,
                LocationUpdatedAt,
            ],
            Collection::Donors => &[
                DonorId,
                DonorName,
                DonorContactInfo,
                DonorAddress,
                DonorEmail,
                DonorPhone,
                DonorCreatedAt,
                DonorUpdatedAt,
            ],
            Collection::Shipments => &[
                ShipmentId,
                ShipmentDestination,
                ShipmentArrived,
                ShipmentDateShipped,
                ShipmentDateDelivered,
                ShipmentTrackingIdentifier,
                ShipmentCreatedAt,
                ShipmentUpdatedAt,
            ],
            Collection::Users => &[
                UserId,
                UserUsername,
                UserEmail,
                UserRole,
                UserFirstName,
                UserLastName,
                UserIsActive,
                UserIsSuperuser,
                UserDateJoined,
                UserUpdatedAt,
            ],
            Collection::Roles => &[RoleId, RoleName, RoleCreatedAt, RoleUpdatedAt],
            Collection::Audit => &[
                AuditId,
                AuditTimestamp,
                AuditActor,
                AuditAction,
                AuditObjectType,
                AuditObjectId,
            ],
            Collection::Credentials => &[CredentialsUser],
            Collection::Sessions => &[SessionId, SessionUser, SessionExpiresAt, SessionLastUsedAt],
            Collection::MfaChallenges => &[MfaChallengeId, MfaChallengeUser, MfaChallengeExpiresAt],
            Collection::Throttles => &[ThrottleId, ThrottleUpdatedAt],
            Collection::Media => &[MediumId, MediumDevice, MediumSerial],
            Collection::Sanitizations => &[
                SanitizationId,
                SanitizationDevice,
                SanitizationMedium,
                SanitizationPerformedBy,
            ],
            Collection::Verifications => {
                &[VerificationId, VerificationDevice, VerificationVerifiedBy]
            }
            Collection::Reports => &[ReportId],
        }
    }

    /// Whether its records are never changed or deleted once written: the audit log and
    /// sanitization evidence. Stores refuse an update or delete of one with
    /// [`crate::store::StoreError::InvalidChange`], saying [`Collection::append_only_refusal`].
    pub fn is_append_only(self) -> bool {
        matches!(
            self,
            Collection::Audit
                | Collection::Sanitizations
                | Collection::Verifications
                | Collection::Reports
        )
    }

    /// The reason a store gives for refusing to update (`delete` false) or delete a record of
    /// an append-only collection, e.g. "audit events cannot be updated".
    pub fn append_only_refusal(self, delete: bool) -> String {
        let what = match self {
            Collection::Audit => "audit events",
            Collection::Sanitizations => "sanitization records",
            Collection::Verifications => "verifications",
            Collection::Reports => "reports",
            _ => self.as_str(),
        };
        let verb = if delete { "deleted" } else { "updated" };
        format!("{what} cannot be {verb}")
    }

    /// The id field (the final tie-break of every ordering).
    pub fn id_field(self) -> Field {
        self.fields()[0]
    }
}

/// The type of a field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// UTF-8 text.
    Text,
    /// 64-bit integer (ids, years).
    Int,
    /// Boolean.
    Bool,
    /// Calendar date.
    Date,
    /// UTC timestamp, microseconds.
    Timestamp,
    /// UUID (device ids).
    Uuid,
}

/// A field that a list query can filter, search or order by.
///
/// Reference fields (`DeviceDonor`, ...) hold the referenced id as [`Value::Int`]; digest ids
/// (`SessionId`, ...) hold their lowercase hex as [`Value::Text`] (so text order is byte order);
/// `UserRole` holds the role name as text; `DeviceStatus` holds the status name as text.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Field {
    DeviceId,
    DeviceType,
    DeviceMake,
    DeviceModel,
    DeviceSerialNumber,
    DeviceMacId,
    DeviceImei,
    DeviceStatus,
    DeviceYearOfManufacture,
    DeviceOperatingSystem,
    DevicePhysicalCondition,
    DeviceDonor,
    DeviceStartLocation,
    DeviceEndLocation,
    DeviceDateReceived,
    DeviceNotes,
    DeviceCreatedAt,
    DeviceUpdatedAt,
    LocationId,
    LocationName,
    LocationType,
    LocationAddress,
    LocationCountry,
    LocationCity,
    LocationPostalCode,
    LocationPhone,
    LocationCreatedAt,
    LocationUpdatedAt,
    DonorId,
    DonorName,
    DonorContactInfo,
    DonorAddress,
    DonorEmail,
    DonorPhone,
    DonorCreatedAt,
    DonorUpdatedAt,
    ShipmentId,
    ShipmentDestination,
    ShipmentArrived,
    ShipmentDateShipped,
    ShipmentDateDelivered,
    ShipmentTrackingIdentifier,
    ShipmentCreatedAt,
    ShipmentUpdatedAt,
    UserId,
    UserUsername,
    UserEmail,
    UserRole,
    UserFirstName,
    UserLastName,
    UserIsActive,
    UserIsSuperuser,
    UserDateJoined,
    UserUpdatedAt,
    RoleId,
    RoleName,
    RoleCreatedAt,
    RoleUpdatedAt,
    AuditId,
    AuditTimestamp,
    AuditActor,
    AuditAction,
    AuditObjectType,
    AuditObjectId,
    CredentialsUser,
    SessionId,
    SessionUser,
    SessionExpiresAt,
    SessionLastUsedAt,
    MfaChallengeId,
    MfaChallengeUser,
    MfaChallengeExpiresAt,
    ThrottleId,
    ThrottleUpdatedAt,
    MediumId,
    MediumDevice,
    MediumSerial,
    SanitizationId,
    SanitizationDevice,
    SanitizationMedium,
    SanitizationPerformedBy,
    VerificationId,
    VerificationDevice,
    VerificationVerifiedBy,
    ReportId,
}

impl Field {
    /// The collection this field belongs to.
    pub fn collection(self) -> Collection {
        use Field::*;
        match self {
            DeviceId
            | DeviceType
            | DeviceMake
            | DeviceModel
            | DeviceSerialNumber
            | DeviceMacId
            | DeviceImei
            | DeviceStatus
            | DeviceYearOfManufacture
            | DeviceOperatingSystem
            | DevicePhysicalCondition
            | DeviceDonor
            | DeviceStartLocation
            | DeviceEndLocation
            | DeviceDateReceived
            | DeviceNotes
            | DeviceCreatedAt
            | DeviceUpdatedAt => Collection::Devices,
            LocationId | LocationName | LocationType | LocationAddress | LocationCountry
            | LocationCity | LocationPostalCode | LocationPhone | LocationCreatedAt
            | LocationUpdatedAt => Collection::Locations,
            DonorId | DonorName | DonorContactInfo | DonorAddress | DonorEmail | DonorPhone
            | DonorCreatedAt | DonorUpdatedAt => Collection::Donors,
            ShipmentId
            | ShipmentDestination
            | ShipmentArrived
            | ShipmentDateShipped
            | ShipmentDateDelivered
            | ShipmentTrackingIdentifier
            | ShipmentCreatedAt
            | ShipmentUpdatedAt => Collection::Shipments,
            UserId | UserUsername | UserEmail | UserRole | UserFirstName | UserLastName
            | UserIsActive | UserIsSuperuser | UserDateJoined | UserUpdatedAt => Collection::Users,
            RoleId | RoleName | RoleCreatedAt | RoleUpdatedAt => Collection::Roles,
            AuditId | AuditTimestamp | AuditActor | AuditAction | AuditObjectType
            | AuditObjectId => Collection::Audit,
            CredentialsUser => Collection::Credentials,
            SessionId | SessionUser | SessionExpiresAt | SessionLastUsedAt => Collection::Sessions,
            MfaChallengeId | MfaChallengeUser | MfaChallengeExpiresAt => Collection::MfaChallenges,
            ThrottleId | ThrottleUpdatedAt => Collection::Throttles,
            MediumId | MediumDevice | MediumSerial => Collection::Media,
            SanitizationId | SanitizationDevice | SanitizationMedium | SanitizationPerformedBy => {
                Collection::Sanitizations
            }
            VerificationId | VerificationDevice | VerificationVerifiedBy => {
                Collection::Verifications
            }
            ReportId => Collection::Reports,
        }
    }

    /// The contract's (JSON) name of the field, e.g. `"serial_number"`.
    pub fn name(self) -> &'static str {
        use Field::*;
        match self {
            DeviceId => "device_id",
            DeviceType | LocationType => "type",
            DeviceMake => "make",
            DeviceModel => "model",
            DeviceSerialNumber => "serial_number",
            DeviceMacId => "mac_id",
            DeviceImei => "imei",
            DeviceStatus => "status",
            DeviceYearOfManufacture => "year_of_manufacture",
            DeviceOperatingSystem => "operating_system",
            DevicePhysicalCondition => "physical_condition",
            DeviceDonor => "donor",
            DeviceStartLocation => "start_location",
            DeviceEndLocation => "end_location",
            DeviceDateReceived => "date_received",
            DeviceNotes => "notes",
            DeviceCreatedAt | LocationCreatedAt | DonorCreatedAt | ShipmentCreatedAt
            | RoleCreatedAt => "created_at",
            DeviceUpdatedAt | LocationUpdatedAt | DonorUpdatedAt | ShipmentUpdatedAt
            | UserUpdatedAt | RoleUpdatedAt => "updated_at",
            LocationId => "location_id",
            LocationName | DonorName | RoleName => "name",
            LocationAddress | DonorAddress => "address",
            LocationCountry => "country",
            LocationCity => "city",
            LocationPostalCode => "postal_code",
            LocationPhone | DonorPhone => "phone",
            DonorId => "donor_id",
            DonorContactInfo => "contact_info",
            DonorEmail | UserEmail => "email",
            ShipmentId => "shipping_id",
            ShipmentDestination => "destination",
            ShipmentArrived => "arrived",
            ShipmentDateShipped => "date_shipped",
            ShipmentDateDelivered => "date_delivered",
            ShipmentTrackingIdentifier => "tracking_identifier",
            UserId | RoleId | AuditId => "id",
            UserUsername => "username",
            UserRole => "role",
            UserFirstName => "first_name",
            UserLastName => "last_name",
            UserIsActive => "is_active",
            UserIsSuperuser => "is_superuser",
            UserDateJoined => "date_joined",
            AuditTimestamp => "timestamp",
            AuditActor => "actor",
            AuditAction => "action",
            AuditObjectType => "object_type",
            AuditObjectId => "object_id",
            CredentialsUser | SessionUser | MfaChallengeUser => "user",
            SessionId | MfaChallengeId | ThrottleId => "digest",
            SessionExpiresAt | MfaChallengeExpiresAt => "expires_at",
            SessionLastUsedAt => "last_used_at",
            ThrottleUpdatedAt => "updated_at",
            MediumId | SanitizationId | VerificationId => "id",
            MediumDevice | SanitizationDevice | VerificationDevice => "device",
            MediumSerial => "serial",
            SanitizationMedium => "medium",
            SanitizationPerformedBy => "performed_by",
            VerificationVerifiedBy => "verified_by",
            ReportId => "digest",
        }
    }

    /// The type of the field's values.
    pub fn field_type(self) -> FieldType {
        use Field::*;
        match self {
            DeviceId | MediumDevice | SanitizationDevice | VerificationDevice => FieldType::Uuid,
            DeviceYearOfManufacture
            | DeviceDonor
            | DeviceStartLocation
            | DeviceEndLocation
            | LocationId
            | DonorId
            | ShipmentId
            | ShipmentDestination
            | UserId
            | RoleId
            | AuditId
            | AuditActor
            | CredentialsUser
            | SessionUser
            | MfaChallengeUser
            | MediumId
            | SanitizationId
            | SanitizationMedium
            | SanitizationPerformedBy
            | VerificationId
            | VerificationVerifiedBy => FieldType::Int,
            ShipmentArrived | UserIsActive | UserIsSuperuser => FieldType::Bool,
            DeviceDateReceived | ShipmentDateShipped | ShipmentDateDelivered => FieldType::Date,
            DeviceCreatedAt
            | DeviceUpdatedAt
            | LocationCreatedAt
            | LocationUpdatedAt
            | DonorCreatedAt
            | DonorUpdatedAt
            | ShipmentCreatedAt
            | ShipmentUpdatedAt
            | UserDateJoined
            | UserUpdatedAt
            | RoleCreatedAt
            | RoleUpdatedAt
            | AuditTimestamp
            | SessionExpiresAt
            | SessionLastUsedAt
            | MfaChallengeExpiresAt
            | ThrottleUpdatedAt => FieldType::Timestamp,
            _ => FieldType::Text,
        }
    }

    /// Finds a field of `collection` by its contract name.
    pub fn by_name(collection: Collection, name: &str) -> Option<Field> {
        collection
            .fields()
            .iter()
            .copied()
            .find(|f| f.name() == name)
    }
}

/// A field value. Values of different variants never compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Value {
    /// No value (a nullable field that is not set).
    Null,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Text.
    Text(String),
    /// Date.
    Date(NaiveDate),
    /// Timestamp.
    Timestamp(Timestamp),
    /// UUID.
    Uuid(Uuid),
}

/// A filter operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// Exactly equal (case-sensitive for text).
    Eq(Value),
    /// Equal to any of the values.
    In(Vec<Value>),
    /// Case-folded substring (text fields only).
    IContains(String),
    /// Greater than or equal.
    Gte(Value),
    /// Less than or equal.
    Lte(Value),
}

/// One filter term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// The field tested.
    pub field: Field,
    /// The test.
    pub op: Op,
}

/// A case-insensitive search over several text fields (matches when any field contains it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// The text looked for.
    pub text: String,
    /// The fields looked in.
    pub fields: Vec<Field>,
}

/// Direction of an ordering term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// Smallest first (nulls first).
    Asc,
    /// Largest first (nulls last).
    Desc,
}

/// One ordering term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Order {
    /// The field ordered by.
    pub field: Field,
    /// The direction.
    pub direction: Direction,
}

impl Order {
    /// Ascending by `field`.
    pub const fn asc(field: Field) -> Order {
        Order {
            field,
            direction: Direction::Asc,
        }
    }

    /// Descending by `field`.
    pub const fn desc(field: Field) -> Order {
        Order {
            field,
            direction: Direction::Desc,
        }
    }
}

/// How a collection is listed: the fields a list request may filter, search and order by, the
/// order it lists in when none is asked for, and the fields core itself looks records up by.
///
/// This is the one statement of those facts: the contract's list parser
/// (`services::listing`), the key-value store's indexes (`kv::layout`) and the SQL store's
/// columns and indexes all read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListSpec {
    /// The fields a list request may filter by (`?make=...`, `?model__icontains=...`), in the
    /// order their names are listed; `true` where the range lookups `__gte`/`__lte` are
    /// allowed.
    pub filters: &'static [(Field, bool)],
    /// Fields core looks records up by that clients cannot filter on (a user's sessions,
    /// expired challenges): the stores index them like filters.
    pub lookups: &'static [Field],
    /// The fields `?search=` looks in.
    pub search: &'static [Field],
    /// Ordering names beyond the filter fields' own (the id, aliases of it, timestamps).
    pub extra_order: &'static [(&'static str, Field)],
    /// The order of a list whose request names none (before the id tie-break).
    pub default_order: Order,
}

impl ListSpec {
    /// The fields the stores index for filtering: every filter but the id field (the records
    /// are kept in id order already), then the lookups.
    pub fn filter_fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.filters
            .iter()
            .map(|(f, _)| *f)
            .filter(|f| *f != f.collection().id_field())
            .chain(self.lookups.iter().copied())
    }

    /// The fields the stores index only for ordering: the extra ordering fields other than
    /// the id and the filter fields, each once.
    pub fn order_only_fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.extra_order
            .iter()
            .enumerate()
            .map(|(i, (_, f))| (i, *f))
            .filter(move |(i, f)| {
                *f != f.collection().id_field()
                    && !self.filters.iter().any(|(g, _)| g == f)
                    && !self.extra_order[..*i].iter().any(|(_, g)| g == f)
            })
            .map(|(_, f)| f)
    }

    /// Whether `field` is one of [`ListSpec::filter_fields`].
    pub fn is_filter_field(&self, field: Field) -> bool {
        self.filter_fields().any(|f| f == field)
    }

    /// Whether the stores index `field` (a filter, lookup or ordering field).
    pub fn is_indexed(&self, field: Field) -> bool {
        self.filter_fields()
            .chain(self.order_only_fields())
            .any(|f| f == field)
    }

    /// The field an ordering name stands for: a filter field's own name or an extra name.
    pub fn order_field(&self, name: &str) -> Option<Field> {
        self.filters
            .iter()
            .map(|(f, _)| *f)
            .find(|f| f.name() == name)
            .or_else(|| {
                self.extra_order
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, f)| *f)
            })
    }

    /// Every ordering name, filter fields first.
    pub fn order_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&str> = self.filters.iter().map(|(f, _)| f.name()).collect();
        names.extend(self.extra_order.iter().map(|(n, _)| *n));
        names
    }
}

impl Collection {
    /// How the collection is listed (see [`ListSpec`]).
    pub fn list_spec(self) -> &'static ListSpec {
        use Direction::*;
        use Field::*;
        const INTERNAL: [ListSpec; 8] = [
            // The primary key is the user: nothing else to find credentials by.
            internal(&[], CredentialsUser),
            // Logout of all a user's sessions, and purging expired ones.
            internal(&[SessionUser, SessionExpiresAt], SessionId),
            internal(&[MfaChallengeUser, MfaChallengeExpiresAt], MfaChallengeId),
            // Purging stale throttles.
            internal(&[ThrottleUpdatedAt], ThrottleId),
            // Evidence is read per device (and the referrer checks look up the rest).
            internal(&[MediumDevice], MediumId),
            internal(
                &[
                    SanitizationDevice,
                    SanitizationMedium,
                    SanitizationPerformedBy,
                ],
                SanitizationId,
            ),
            internal(
                &[VerificationDevice, VerificationVerifiedBy],
                VerificationId,
            ),
            internal(&[], ReportId),
        ];
        const fn internal(lookups: &'static [Field], id: Field) -> ListSpec {
            ListSpec {
                filters: &[],
                lookups,
                search: &[],
                extra_order: &[],
                default_order: Order {
                    field: id,
                    direction: Asc,
                },
            }
        }
        match self {
            Collection::Devices => &ListSpec {
                filters: &[
                    (DeviceId, false),
                    (DeviceType, false),
                    (DeviceMake, false),
                    (DeviceModel, false),
                    (DeviceSerialNumber, false),
                    (DeviceMacId, false),
                    (DeviceStatus, false),
                    (DeviceYearOfManufacture, true),
                    (DeviceOperatingSystem, false),
                    (DevicePhysicalCondition, false),
                    (DeviceDonor, false),
                    (DeviceStartLocation, false),
                    (DeviceEndLocation, false),
                    (DeviceDateReceived, true),
                ],
                lookups: &[],
                search: &[
                    DeviceSerialNumber,
                    DeviceMacId,
                    DeviceImei,
                    DeviceType,
                    DeviceMake,
                    DeviceModel,
                    DeviceOperatingSystem,
                    DevicePhysicalCondition,
                    DeviceNotes,
                ],
                extra_order: &[
                    ("id", DeviceId),
                    ("created_at", DeviceCreatedAt),
                    ("updated_at", DeviceUpdatedAt),
                ],
                default_order: Order {
                    field: DeviceType,
                    direction: Asc,
                },
            },
            Collection::Locations => &ListSpec {
                filters: &[
                    (LocationName, false),
                    (LocationType, false),
                    (LocationCountry, false),
                    (LocationCity, false),
                    (LocationPostalCode, false),
                ],
                lookups: &[],
                search: &[
                    LocationName,
                    LocationAddress,
                    LocationCountry,
                    LocationCity,
                    LocationPostalCode,
                    LocationPhone,
                ],
                extra_order: &[
                    ("id", LocationId),
                    ("location_id", LocationId),
                    ("created_at", LocationCreatedAt),
                    ("updated_at", LocationUpdatedAt),
                ],
                default_order: Order {
                    field: LocationName,
                    direction: Asc,
                },
            },
            Collection::Donors => &ListSpec {
                filters: &[(DonorName, false), (DonorEmail, false), (DonorPhone, false)],
                lookups: &[],
                search: &[
                    DonorName,
                    DonorContactInfo,
                    DonorAddress,
                    DonorEmail,
                    DonorPhone,
                ],
                extra_order: &[
                    ("id", DonorId),
                    ("donor_id", DonorId),
                    ("created_at", DonorCreatedAt),
                    ("updated_at", DonorUpdatedAt),
                ],
                default_order: Order {
                    field: DonorName,
                    direction: Asc,
                },
            },
            Collection::Shipments => &ListSpec {
                filters: &[
                    (ShipmentDestination, false),
                    (ShipmentArrived, false),
                    (ShipmentDateShipped, true),
                    (ShipmentDateDelivered, true),
                    (ShipmentTrackingIdentifier, false),
                ],
                lookups: &[],
                search: &[ShipmentTrackingIdentifier],
                extra_order: &[
                    ("id", ShipmentId),
                    ("shipping_id", ShipmentId),
                    ("created_at", ShipmentCreatedAt),
                    ("updated_at", ShipmentUpdatedAt),
                ],
                default_order: Order {
                    field: ShipmentDateShipped,
                    direction: Asc,
                },
            },
            Collection::Users => &ListSpec {
                filters: &[
                    (UserUsername, false),
                    (UserEmail, false),
                    (UserRole, false),
                    (UserFirstName, false),
                    (UserLastName, false),
                    (UserIsActive, false),
                ],
                lookups: &[],
                search: &[UserUsername, UserEmail, UserFirstName, UserLastName],
                extra_order: &[
                    ("id", UserId),
                    ("date_joined", UserDateJoined),
                    ("created_at", UserDateJoined),
                    ("updated_at", UserUpdatedAt),
                ],
                default_order: Order {
                    field: UserUsername,
                    direction: Asc,
                },
            },
            Collection::Roles => &ListSpec {
                filters: &[(RoleName, false)],
                lookups: &[],
                search: &[RoleName],
                extra_order: &[
                    ("id", RoleId),
                    ("created_at", RoleCreatedAt),
                    ("updated_at", RoleUpdatedAt),
                ],
                default_order: Order {
                    field: RoleName,
                    direction: Asc,
                },
            },
            // The audit log lists newest first; `since`/`until` bound its timestamp.
            Collection::Audit => &ListSpec {
                filters: &[
                    (AuditActor, false),
                    (AuditAction, false),
                    (AuditObjectType, false),
                    (AuditObjectId, false),
                ],
                lookups: &[],
                search: &[],
                extra_order: &[("id", AuditId), ("timestamp", AuditTimestamp)],
                default_order: Order {
                    field: AuditId,
                    direction: Desc,
                },
            },
            // Not listable through the contract: internal state.
            Collection::Credentials => &INTERNAL[0],
            Collection::Sessions => &INTERNAL[1],
            Collection::MfaChallenges => &INTERNAL[2],
            Collection::Throttles => &INTERNAL[3],
            Collection::Media => &INTERNAL[4],
            Collection::Sanitizations => &INTERNAL[5],
            Collection::Verifications => &INTERNAL[6],
            Collection::Reports => &INTERNAL[7],
        }
    }
}

/// A list query over one collection. See the module docs for the semantics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    /// The collection listed.
    pub collection: Collection,
    /// Filters, all of which must match.
    pub filters: Vec<Filter>,
    /// An optional search.
    pub search: Option<Search>,
    /// Ordering terms; the id ascending always follows as the last tie-break.
    pub ordering: Vec<Order>,
    /// How many matches to skip.
    pub offset: u64,
    /// How many to return at most.
    pub limit: u64,
    /// Whether to count all matches.
    pub count: bool,
}

impl ListQuery {
    /// Everything in a collection, in id order, no count.
    pub fn all(collection: Collection) -> ListQuery {
        ListQuery {
            collection,
            filters: Vec::new(),
            search: None,
            ordering: Vec::new(),
            offset: 0,
            limit: u64::MAX,
            count: false,
        }
    }

    /// Adds a filter (builder style).
    pub fn filter(mut self, field: Field, op: Op) -> ListQuery {
        self.filters.push(Filter { field, op });
        self
    }

    /// Sets the ordering (builder style).
    pub fn order_by(mut self, ordering: Vec<Order>) -> ListQuery {
        self.ordering = ordering;
        self
    }

    /// Sets offset and limit (builder style).
    pub fn page(mut self, offset: u64, limit: u64) -> ListQuery {
        self.offset = offset;
        self.limit = limit;
        self
    }

    /// Asks for the total count (builder style).
    pub fn with_count(mut self) -> ListQuery {
        self.count = true;
        self
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records of the page, in order.
    pub items: Vec<T>,
    /// All matches, when the query asked for a count.
    pub total: Option<u64>,
}
