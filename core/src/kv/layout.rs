//! Where [`super::KvStore`] keeps what: the key spaces, the persistent tags, the indexes of each
//! collection, and the entries one record contributes.
//!
//! | key | value | what |
//! |---|---|---|
//! | `00 'v'` | `u32` | format version ([`FORMAT_VERSION`]) |
//! | `00 'n' kind` | `i64` | highest integer id handed out or stored, per [`IdKind`] |
//! | `00 'c' coll` | `u64` | number of records of a collection |
//! | `00 'f' field value` | `u64` | records whose `field` equals `value` (see [`counted`]) |
//! | `'r' coll id` | JSON [`Record`] | the records, in id order |
//! | `'u' unique value` | `coll id` | unique keys: who holds each |
//! | `'i' field value id` | empty | plain index: by value, then id |
//! | `'j' field value default id` | empty | composite index: by value, then the collection's default order, then id |
//! | `'x' target source` | empty | reverse references: who refers to `target` |
//!
//! Ids encode as 8 order-preserving bytes (integers) or the 16 UUID bytes, values as in
//! [`super::encode`]. Tags are written out below, not derived from enum order, so that
//! reordering an enum never silently changes the meaning of stored keys.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::encode::{push_i64, push_text, push_value, read_i64};
use crate::ids::{
    AuditId, DeviceId, Digest, DonorId, IdKind, LocationId, MediumId, RoleId, SanitizationId,
    ShipmentId, UserId, VerificationId,
};
use crate::query::{Collection, Field, FieldType, Order, Value};
use crate::store::{Record, RecordKey, Reference, UniqueField, UniqueKey};

/// The layout version this build writes and reads. Bump it on any change to the table above.
///
/// - 1: the first layout.
/// - 2: sanitization evidence (collections 12 to 15, unique keys 9 and 10, fields `0x21` and
///   `0xD0` to `0xE8`); format 1 is upgraded in place ([`super::store`]).
pub(crate) const FORMAT_VERSION: u32 = 2;

const META: u8 = 0x00;
const RECORD: u8 = b'r';
const UNIQUE: u8 = b'u';
const INDEX: u8 = b'i';
const COMPOSITE: u8 = b'j';
const REFS: u8 = b'x';

fn collection_tag(c: Collection) -> u8 {
    match c {
        Collection::Devices => 1,
        Collection::Locations => 2,
        Collection::Donors => 3,
        Collection::Shipments => 4,
        Collection::Users => 5,
        Collection::Roles => 6,
        Collection::Audit => 7,
        Collection::Credentials => 8,
        Collection::Sessions => 9,
        Collection::MfaChallenges => 10,
        Collection::Throttles => 11,
        Collection::Media => 12,
        Collection::Sanitizations => 13,
        Collection::Verifications => 14,
        Collection::Reports => 15,
    }
}

fn collection_of_tag(t: u8) -> Option<Collection> {
    Collection::ALL
        .into_iter()
        .find(|c| collection_tag(*c) == t)
}

fn unique_tag(u: UniqueField) -> u8 {
    match u {
        UniqueField::DeviceSerialNumber => 1,
        UniqueField::DeviceMacId => 2,
        UniqueField::LocationAddress => 3,
        UniqueField::LocationPhone => 4,
        UniqueField::DonorEmail => 5,
        UniqueField::UserUsername => 6,
        UniqueField::UserEmail => 7,
        UniqueField::RoleName => 8,
        UniqueField::DeviceImei => 9,
        UniqueField::MediumSerial => 10,
    }
}

fn field_tag(f: Field) -> u8 {
    use Field::*;
    match f {
        DeviceId => 0x10,
        DeviceType => 0x11,
        DeviceMake => 0x12,
        DeviceModel => 0x13,
        DeviceSerialNumber => 0x14,
        DeviceMacId => 0x15,
        DeviceStatus => 0x16,
        DeviceYearOfManufacture => 0x17,
        DeviceOperatingSystem => 0x18,
        DevicePhysicalCondition => 0x19,
        DeviceDonor => 0x1A,
        DeviceStartLocation => 0x1B,
        DeviceEndLocation => 0x1C,
        DeviceDateReceived => 0x1D,
        DeviceNotes => 0x1E,
        DeviceCreatedAt => 0x1F,
        DeviceUpdatedAt => 0x20,
        DeviceImei => 0x21,
        LocationId => 0x30,
        LocationName => 0x31,
        LocationType => 0x32,
        LocationAddress => 0x33,
        LocationCountry => 0x34,
        LocationCity => 0x35,
        LocationPostalCode => 0x36,
        LocationPhone => 0x37,
        LocationCreatedAt => 0x38,
        LocationUpdatedAt => 0x39,
        DonorId => 0x40,
        DonorName => 0x41,
        DonorContactInfo => 0x42,
        DonorAddress => 0x43,
        DonorEmail => 0x44,
        DonorPhone => 0x45,
        DonorCreatedAt => 0x46,
        DonorUpdatedAt => 0x47,
        ShipmentId => 0x50,
        ShipmentDestination => 0x51,
        ShipmentArrived => 0x52,
        ShipmentDateShipped => 0x53,
        ShipmentDateDelivered => 0x54,
        ShipmentTrackingIdentifier => 0x55,
        ShipmentCreatedAt => 0x56,
        ShipmentUpdatedAt => 0x57,
        UserId => 0x60,
        UserUsername => 0x61,
        UserEmail => 0x62,
        UserRole => 0x63,
        UserFirstName => 0x64,
        UserLastName => 0x65,
        UserIsActive => 0x66,
        UserIsSuperuser => 0x67,
        UserDateJoined => 0x68,
        UserUpdatedAt => 0x69,
        RoleId => 0x70,
        RoleName => 0x71,
        RoleCreatedAt => 0x72,
        RoleUpdatedAt => 0x73,
        AuditId => 0x80,
        AuditTimestamp => 0x81,
        AuditActor => 0x82,
        AuditAction => 0x83,
        AuditObjectType => 0x84,
        AuditObjectId => 0x85,
        CredentialsUser => 0x90,
        SessionId => 0xA0,
        SessionUser => 0xA1,
        SessionExpiresAt => 0xA2,
        SessionLastUsedAt => 0xA3,
        MfaChallengeId => 0xB0,
        MfaChallengeUser => 0xB1,
        MfaChallengeExpiresAt => 0xB2,
        ThrottleId => 0xC0,
        ThrottleUpdatedAt => 0xC1,
        MediumId => 0xD0,
        MediumDevice => 0xD1,
        MediumSerial => 0xD2,
        SanitizationId => 0xD8,
        SanitizationDevice => 0xD9,
        SanitizationMedium => 0xDA,
        SanitizationPerformedBy => 0xDB,
        VerificationId => 0xE0,
        VerificationDevice => 0xE1,
        VerificationVerifiedBy => 0xE2,
        ReportId => 0xE8,
    }
}

// ---------------------------------------------------------------------------------------------
// Which fields are indexed.

/// Whether `field` has a plain index `(value, id)`: the filter, lookup and ordering fields of
/// its collection's [`crate::query::ListSpec`].
pub(crate) fn is_indexed(field: Field) -> bool {
    field.collection().list_spec().is_indexed(field)
}

/// The ordering a list request gets when it names none ([`crate::query::ListSpec`]);
/// composite indexes are sorted by it so that "equal to X, default order, first page" reads
/// only the page.
pub(crate) fn default_order(c: Collection) -> Order {
    c.list_spec().default_order
}

fn is_filter_field(field: Field) -> bool {
    field.collection().list_spec().is_filter_field(field)
}

/// Whether `field` has a composite index `(value, default-order value, id)`: every filter field
/// but the default-order field itself (its plain index is already in that order), unique
/// fields (an equality matches one record) and fields of collections ordered by id.
pub(crate) fn has_composite(field: Field) -> bool {
    let c = field.collection();
    let d = default_order(c).field;
    d != c.id_field()
        && field != d
        && is_filter_field(field)
        && UniqueField::of_field(field).is_none()
}

/// Whether a per-value counter is kept for `field == value`: for non-null values of filter
/// fields, except timestamps (nearly unique, and never counted alone by the HTTP layer) and
/// non-empty values of unique fields (at most one record each). Counting one of those reads
/// the index entries instead.
pub(crate) fn counted(field: Field, value: &Value) -> bool {
    if *value == Value::Null || field.field_type() == FieldType::Timestamp {
        return false;
    }
    if !is_filter_field(field) {
        return false;
    }
    match UniqueField::of_field(field) {
        Some(_) => matches!(value, Value::Text(t) if t.is_empty()),
        None => true,
    }
}

// ---------------------------------------------------------------------------------------------
// Keys.

/// The format-version key.
pub(crate) fn version_key() -> Vec<u8> {
    vec![META, b'v']
}

/// The id counter of a kind.
pub(crate) fn id_counter_key(kind: IdKind) -> Vec<u8> {
    vec![META, b'n', kind.tag()]
}

/// The record count of a collection.
pub(crate) fn collection_count_key(c: Collection) -> Vec<u8> {
    vec![META, b'c', collection_tag(c)]
}

/// The counter of records whose `field` equals `value`.
pub(crate) fn value_count_key(field: Field, value: &Value) -> Vec<u8> {
    let mut k = vec![META, b'f', field_tag(field)];
    push_value(&mut k, value);
    k
}

/// The length of an encoded id of collection `c`.
pub(crate) fn id_len(c: Collection) -> usize {
    match c {
        Collection::Devices => 16,
        Collection::Sessions
        | Collection::MfaChallenges
        | Collection::Throttles
        | Collection::Reports => 32,
        _ => 8,
    }
}

fn push_id(buf: &mut Vec<u8>, key: RecordKey) {
    match key {
        RecordKey::Device(id) => buf.extend_from_slice(id.0.as_bytes()),
        RecordKey::Location(LocationId(i))
        | RecordKey::Donor(DonorId(i))
        | RecordKey::Shipment(ShipmentId(i))
        | RecordKey::User(UserId(i))
        | RecordKey::Role(RoleId(i))
        | RecordKey::Audit(AuditId(i))
        | RecordKey::Credentials(UserId(i))
        | RecordKey::Medium(MediumId(i))
        | RecordKey::Sanitization(SanitizationId(i))
        | RecordKey::Verification(VerificationId(i)) => push_i64(buf, i),
        RecordKey::Session(d)
        | RecordKey::MfaChallenge(d)
        | RecordKey::Throttle(d)
        | RecordKey::Report(d) => buf.extend_from_slice(&d.0),
    }
}

/// The record key of collection `c` whose encoded id is `bytes`.
pub(crate) fn decode_id(c: Collection, bytes: &[u8]) -> Option<RecordKey> {
    match c {
        Collection::Devices => {
            let arr: [u8; 16] = bytes.try_into().ok()?;
            return Some(RecordKey::Device(DeviceId(Uuid::from_bytes(arr))));
        }
        Collection::Sessions
        | Collection::MfaChallenges
        | Collection::Throttles
        | Collection::Reports => {
            let d = Digest(bytes.try_into().ok()?);
            return Some(match c {
                Collection::Sessions => RecordKey::Session(d),
                Collection::MfaChallenges => RecordKey::MfaChallenge(d),
                Collection::Reports => RecordKey::Report(d),
                _ => RecordKey::Throttle(d),
            });
        }
        _ => {}
    }
    let i = read_i64(bytes)?;
    Some(match c {
        Collection::Locations => RecordKey::Location(LocationId(i)),
        Collection::Donors => RecordKey::Donor(DonorId(i)),
        Collection::Shipments => RecordKey::Shipment(ShipmentId(i)),
        Collection::Users => RecordKey::User(UserId(i)),
        Collection::Roles => RecordKey::Role(RoleId(i)),
        Collection::Audit => RecordKey::Audit(AuditId(i)),
        Collection::Credentials => RecordKey::Credentials(UserId(i)),
        Collection::Media => RecordKey::Medium(MediumId(i)),
        Collection::Sanitizations => RecordKey::Sanitization(SanitizationId(i)),
        Collection::Verifications => RecordKey::Verification(VerificationId(i)),
        Collection::Devices
        | Collection::Sessions
        | Collection::MfaChallenges
        | Collection::Throttles
        | Collection::Reports => return None,
    })
}

/// The record key of collection `c` with id `v`, when `v` has the id's type.
pub(crate) fn key_of_id_value(c: Collection, v: &Value) -> Option<RecordKey> {
    match (c, v) {
        (Collection::Devices, Value::Uuid(u)) => Some(RecordKey::Device(DeviceId(*u))),
        (Collection::Devices, _) => None,
        (
            Collection::Sessions
            | Collection::MfaChallenges
            | Collection::Throttles
            | Collection::Reports,
            Value::Text(h),
        ) => {
            let d = Digest::from_hex(h)?;
            let mut b = Vec::with_capacity(32);
            b.extend_from_slice(&d.0);
            decode_id(c, &b)
        }
        (
            Collection::Sessions
            | Collection::MfaChallenges
            | Collection::Throttles
            | Collection::Reports,
            _,
        ) => None,
        (_, Value::Int(i)) => {
            let mut b = Vec::with_capacity(8);
            push_i64(&mut b, *i);
            decode_id(c, &b)
        }
        _ => None,
    }
}

/// A record key as `coll id`, the form stored as unique-key owners and reference sources.
pub(crate) fn encode_key(key: RecordKey) -> Vec<u8> {
    let mut k = Vec::with_capacity(17);
    k.push(collection_tag(key.collection()));
    push_id(&mut k, key);
    k
}

/// Reads what [`encode_key`] wrote.
pub(crate) fn decode_key(bytes: &[u8]) -> Option<RecordKey> {
    let (&t, id) = bytes.split_first()?;
    decode_id(collection_of_tag(t)?, id)
}

/// The prefix of every record of `c`.
pub(crate) fn record_prefix(c: Collection) -> Vec<u8> {
    vec![RECORD, collection_tag(c)]
}

/// The key a record is stored under.
pub(crate) fn record_key(key: RecordKey) -> Vec<u8> {
    let mut k = Vec::with_capacity(18);
    k.push(RECORD);
    k.extend_from_slice(&encode_key(key));
    k
}

/// The key of a unique-key entry.
pub(crate) fn unique_key(u: &UniqueKey) -> Vec<u8> {
    let mut k = Vec::with_capacity(u.value.len() + 4);
    k.push(UNIQUE);
    k.push(unique_tag(u.field));
    push_text(&mut k, &u.value);
    k
}

/// The prefix of `field`'s plain index.
pub(crate) fn index_prefix(field: Field) -> Vec<u8> {
    vec![INDEX, field_tag(field)]
}

/// The prefix of the plain-index entries with `field == value`.
pub(crate) fn index_value_prefix(field: Field, value: &Value) -> Vec<u8> {
    let mut k = index_prefix(field);
    push_value(&mut k, value);
    k
}

/// The prefix of the composite-index entries with `field == value`.
pub(crate) fn composite_value_prefix(field: Field, value: &Value) -> Vec<u8> {
    let mut k = vec![COMPOSITE, field_tag(field)];
    push_value(&mut k, value);
    k
}

/// The prefix of the reverse-reference entries pointing at `target`.
pub(crate) fn ref_prefix(target: &Reference) -> Vec<u8> {
    let mut k = vec![REFS];
    match target {
        Reference::Key(key) => {
            k.push(1);
            k.extend_from_slice(&encode_key(*key));
        }
        Reference::RoleName(name) => {
            k.push(2);
            push_text(&mut k, name);
        }
    }
    k
}

// ---------------------------------------------------------------------------------------------
// What a record contributes.

/// The entries a record adds besides itself: unique keys (valued with the owner), index,
/// composite and reverse-reference entries (empty values), and the counters it adds one to.
#[derive(Debug, Default)]
pub(crate) struct Derived {
    /// Key -> value of every derived entry.
    pub entries: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Counter keys the record counts in (its collection count included).
    pub counters: Vec<Vec<u8>>,
}

/// The derived entries of `record`.
pub(crate) fn derive(record: &Record) -> Derived {
    let key = record.key();
    let c = key.collection();
    let owner = encode_key(key);
    let mut id = Vec::with_capacity(16);
    push_id(&mut id, key);

    let mut d = Derived::default();
    d.counters.push(collection_count_key(c));
    for u in record.unique_keys() {
        d.entries.insert(unique_key(&u), owner.clone());
    }
    let default_value = {
        let o = default_order(c);
        (o.field != c.id_field()).then(|| record.get(o.field))
    };
    let spec = c.list_spec();
    for field in spec.filter_fields().chain(spec.order_only_fields()) {
        let v = record.get(field);
        let mut k = index_value_prefix(field, &v);
        k.extend_from_slice(&id);
        d.entries.insert(k, Vec::new());
        if has_composite(field)
            && let Some(dv) = &default_value
        {
            let mut k = composite_value_prefix(field, &v);
            push_value(&mut k, dv);
            k.extend_from_slice(&id);
            d.entries.insert(k, Vec::new());
        }
        if counted(field, &v) {
            d.counters.push(value_count_key(field, &v));
        }
    }
    for r in record.references() {
        let mut k = ref_prefix(&r);
        k.extend_from_slice(&owner);
        d.entries.insert(k, Vec::new());
    }
    d
}

/// The source record of a reverse-reference entry found under `prefix`.
pub(crate) fn ref_source(prefix: &[u8], entry: &[u8]) -> Option<RecordKey> {
    decode_key(entry.get(prefix.len()..)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Collection::ALL {
            for f in c.fields() {
                assert!(seen.insert(field_tag(*f)), "{f:?}");
            }
        }
        let kinds: std::collections::BTreeSet<_> = IdKind::ALL.map(IdKind::tag).into();
        assert_eq!(kinds.len(), IdKind::ALL.len());
        let uniques: std::collections::BTreeSet<_> = UniqueField::ALL.map(unique_tag).into();
        assert_eq!(uniques.len(), UniqueField::ALL.len());
    }

    #[test]
    fn keys_round_trip() {
        for key in [
            RecordKey::Device(DeviceId(Uuid::from_bytes([7; 16]))),
            RecordKey::Location(LocationId(-5)),
            RecordKey::Audit(AuditId(i64::MAX)),
            RecordKey::Role(RoleId(0)),
        ] {
            assert_eq!(decode_key(&encode_key(key)), Some(key));
        }
        assert_eq!(decode_key(&[9, 0, 0]), None);
    }
}
