//! The reference model: records in a plain map, answering gets, unique lookups and list queries
//! with code of its own.
//!
//! It deliberately shares nothing with the code it checks: it reads field values from each
//! record's serde JSON by the field's contract name (never `Record::get`), knows the field types,
//! unique keys and id fields from its own tables, folds case with `caseless` directly (never
//! `crate::fold`), and implements filtering, ordering and paging itself (never `crate::eval`).
//! A bug in the shared code therefore shows up as a disagreement instead of being copied.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate};
use uuid::Uuid;

use crate::query::{Collection, Direction, Field, ListQuery, Op, Order, Page, Value};
use crate::store::{Change, ChangeSet, Record, RecordKey, UniqueField, UniqueKey};

/// A field value as the model compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MValue {
    /// Not set.
    Null,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Text.
    Text(String),
    /// Date.
    Date(NaiveDate),
    /// Timestamp in microseconds since the epoch.
    Micros(i64),
    /// UUID as a big-endian integer (so integer order is byte order).
    Uuid(u128),
}

impl MValue {
    /// The model value of a query value.
    pub fn from_value(v: &Value) -> MValue {
        match v {
            Value::Null => MValue::Null,
            Value::Bool(b) => MValue::Bool(*b),
            Value::Int(i) => MValue::Int(*i),
            Value::Text(t) => MValue::Text(t.clone()),
            Value::Date(d) => MValue::Date(*d),
            Value::Timestamp(t) => MValue::Micros(t.timestamp_micros()),
            Value::Uuid(u) => MValue::Uuid(u.as_u128()),
        }
    }

    /// The query value of a model value (to build queries from stored data).
    pub fn to_value(&self) -> Value {
        match self {
            MValue::Null => Value::Null,
            MValue::Bool(b) => Value::Bool(*b),
            MValue::Int(i) => Value::Int(*i),
            MValue::Text(t) => Value::Text(t.clone()),
            MValue::Date(d) => Value::Date(*d),
            MValue::Micros(m) => DateTime::from_timestamp_micros(*m)
                .map(Value::Timestamp)
                .unwrap_or(Value::Null),
            MValue::Uuid(u) => Value::Uuid(Uuid::from_u128(*u)),
        }
    }

    fn same_kind(&self, other: &MValue) -> bool {
        matches!(
            (self, other),
            (MValue::Bool(_), MValue::Bool(_))
                | (MValue::Int(_), MValue::Int(_))
                | (MValue::Text(_), MValue::Text(_))
                | (MValue::Date(_), MValue::Date(_))
                | (MValue::Micros(_), MValue::Micros(_))
                | (MValue::Uuid(_), MValue::Uuid(_))
        )
    }
}

/// The type of a field, by its contract name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    Text,
    /// Integer (ids, references, years).
    Int,
    /// Boolean.
    Bool,
    /// Date.
    Date,
    /// Timestamp.
    Timestamp,
    /// UUID.
    Uuid,
}

/// The type of the field called `name` in the contract (the same name means the same type in
/// every collection). Digest keys (`digest` of sessions, MFA challenges and throttles) are text:
/// their JSON is the lowercase hex, whose code-point order is the order of the bytes.
pub fn kind_of(name: &str) -> Kind {
    match name {
        "device_id" => Kind::Uuid,
        "location_id"
        | "donor_id"
        | "shipping_id"
        | "id"
        | "donor"
        | "start_location"
        | "end_location"
        | "destination"
        | "actor"
        | "user"
        | "year_of_manufacture" => Kind::Int,
        "arrived" | "is_active" | "is_superuser" => Kind::Bool,
        "date_received" | "date_shipped" | "date_delivered" => Kind::Date,
        "created_at" | "updated_at" | "date_joined" | "timestamp" | "expires_at"
        | "last_used_at" => Kind::Timestamp,
        _ => Kind::Text,
    }
}

/// The kind of a query field.
pub fn field_kind(field: Field) -> Kind {
    kind_of(field.name())
}

/// The name of the id field of a collection.
fn id_name(c: Collection) -> &'static str {
    match c {
        Collection::Devices => "device_id",
        Collection::Locations => "location_id",
        Collection::Donors => "donor_id",
        Collection::Shipments => "shipping_id",
        Collection::Users | Collection::Roles | Collection::Audit => "id",
        Collection::Credentials => "user",
        Collection::Media | Collection::Sanitizations | Collection::Verifications => "id",
        Collection::Sessions
        | Collection::MfaChallenges
        | Collection::Throttles
        | Collection::Reports => "digest",
    }
}

/// The unique keys, written out from the model docs: (field, collection, contract name,
/// applies only when not empty, compared case-folded).
const UNIQUE: [(UniqueField, Collection, &str, bool, bool); 10] = [
    (
        UniqueField::DeviceImei,
        Collection::Devices,
        "imei",
        true,
        false,
    ),
    (
        UniqueField::MediumSerial,
        Collection::Media,
        "serial",
        false,
        false,
    ),
    (
        UniqueField::DeviceSerialNumber,
        Collection::Devices,
        "serial_number",
        false,
        false,
    ),
    (
        UniqueField::DeviceMacId,
        Collection::Devices,
        "mac_id",
        true,
        false,
    ),
    (
        UniqueField::LocationAddress,
        Collection::Locations,
        "address",
        false,
        false,
    ),
    (
        UniqueField::LocationPhone,
        Collection::Locations,
        "phone",
        true,
        false,
    ),
    (
        UniqueField::DonorEmail,
        Collection::Donors,
        "email",
        false,
        false,
    ),
    (
        UniqueField::UserUsername,
        Collection::Users,
        "username",
        false,
        true,
    ),
    (
        UniqueField::UserEmail,
        Collection::Users,
        "email",
        false,
        true,
    ),
    (
        UniqueField::RoleName,
        Collection::Roles,
        "name",
        false,
        false,
    ),
];

/// Unicode full default case folding, straight from `caseless`.
pub fn fold(s: &str) -> String {
    caseless::default_case_fold_str(s)
}

/// Compares two values of one field: null before everything, text by code point, `false <
/// true`, the rest by their natural order.
pub fn compare(a: &MValue, b: &MValue) -> Ordering {
    match (a, b) {
        (MValue::Null, MValue::Null) => Ordering::Equal,
        (MValue::Null, _) => Ordering::Less,
        (_, MValue::Null) => Ordering::Greater,
        (MValue::Bool(x), MValue::Bool(y)) => x.cmp(y),
        (MValue::Int(x), MValue::Int(y)) => x.cmp(y),
        // Compared char by char (code points), not through `String`'s byte order.
        (MValue::Text(x), MValue::Text(y)) => {
            x.chars().map(u32::from).cmp(y.chars().map(u32::from))
        }
        (MValue::Date(x), MValue::Date(y)) => x.cmp(y),
        (MValue::Micros(x), MValue::Micros(y)) => x.cmp(y),
        (MValue::Uuid(x), MValue::Uuid(y)) => x.cmp(y),
        _ => panic!("model: values of different types in one field: {a:?} vs {b:?}"),
    }
}

/// One stored record with its JSON fields.
#[derive(Debug, Clone)]
struct Entry {
    record: Record,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl Entry {
    fn new(record: Record) -> Entry {
        let json = serde_json::to_value(&record).expect("model: a record serialises");
        let fields = match json {
            serde_json::Value::Object(mut outer) => match outer.remove("record") {
                Some(serde_json::Value::Object(inner)) => inner,
                other => panic!("model: record JSON without a \"record\" object: {other:?}"),
            },
            other => panic!("model: record JSON is not an object: {other}"),
        };
        Entry { record, fields }
    }

    fn value(&self, name: &str) -> MValue {
        let Some(json) = self.fields.get(name) else {
            panic!("model: {:?} has no field {name:?}", self.record.key())
        };
        parse(name, json)
    }

    fn text(&self, name: &str) -> String {
        match self.value(name) {
            MValue::Text(t) => t,
            other => panic!("model: field {name:?} is not text: {other:?}"),
        }
    }

    fn collection(&self) -> Collection {
        self.record.collection()
    }

    fn id(&self) -> MValue {
        self.value(id_name(self.collection()))
    }
}

/// Reads the JSON of the field called `name` back into a comparable value.
fn parse(name: &str, json: &serde_json::Value) -> MValue {
    use serde_json::Value as J;
    if json.is_null() {
        return MValue::Null;
    }
    let bad = || {
        panic!(
            "model: field {name:?} holds {json} which is not a {:?}",
            kind_of(name)
        )
    };
    match (kind_of(name), json) {
        (Kind::Text, J::String(s)) => MValue::Text(s.clone()),
        (Kind::Int, J::Number(n)) => n.as_i64().map(MValue::Int).unwrap_or_else(bad),
        (Kind::Bool, J::Bool(b)) => MValue::Bool(*b),
        (Kind::Date, J::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(MValue::Date)
            .unwrap_or_else(|_| bad()),
        (Kind::Timestamp, J::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| MValue::Micros(t.timestamp_micros()))
            .unwrap_or_else(|_| bad()),
        (Kind::Uuid, J::String(s)) => Uuid::parse_str(s)
            .map(|u| MValue::Uuid(u.as_u128()))
            .unwrap_or_else(|_| bad()),
        _ => bad(),
    }
}

/// What a store should hold, kept in plain maps.
#[derive(Debug, Clone, Default)]
pub struct Model {
    records: BTreeMap<RecordKey, Entry>,
}

impl Model {
    /// An empty model.
    pub fn new() -> Model {
        Model::default()
    }

    /// A model holding `records`.
    pub fn with(records: impl IntoIterator<Item = Record>) -> Model {
        let mut m = Model::new();
        for r in records {
            m.put(r);
        }
        m
    }

    /// Stores `record`, replacing the one with its key.
    pub fn put(&mut self, record: Record) {
        self.records.insert(record.key(), Entry::new(record));
    }

    /// Removes the record with `key`.
    pub fn remove(&mut self, key: RecordKey) {
        self.records.remove(&key);
    }

    /// Applies a change set that the store accepted (no checks: the model trusts the caller).
    pub fn apply(&mut self, changes: &ChangeSet) {
        for c in &changes.changes {
            match c {
                Change::Insert(r) | Change::Update { record: r, .. } => self.put(r.clone()),
                Change::Delete { key, .. } => self.remove(*key),
            }
        }
    }

    /// The record with `key`.
    pub fn get(&self, key: RecordKey) -> Option<&Record> {
        self.records.get(&key).map(|e| &e.record)
    }

    /// The value of the field called `name` (contract name) of the record with `key`.
    pub fn value(&self, key: RecordKey, name: &str) -> Option<MValue> {
        self.records.get(&key).map(|e| e.value(name))
    }

    /// The record holding the unique key, found by reading every record of the collection.
    pub fn by_unique(&self, key: &UniqueKey) -> Option<&Record> {
        let (_, collection, name, when_not_empty, folded) = UNIQUE
            .iter()
            .find(|u| u.0 == key.field)
            .copied()
            .expect("model: every unique field is in the table");
        self.entries(collection)
            .find(|e| {
                let raw = e.text(name);
                if when_not_empty && raw.is_empty() {
                    return false;
                }
                let held = if folded { fold(&raw) } else { raw };
                held == key.value
            })
            .map(|e| &e.record)
    }

    /// The unique keys `record` holds, from the model's own table.
    pub fn unique_keys(record: &Record) -> Vec<UniqueKey> {
        let e = Entry::new(record.clone());
        UNIQUE
            .iter()
            .filter(|u| u.1 == e.collection())
            .filter_map(|&(field, _, name, when_not_empty, folded)| {
                let raw = e.text(name);
                if when_not_empty && raw.is_empty() {
                    return None;
                }
                let value = if folded { fold(&raw) } else { raw };
                Some(UniqueKey { field, value })
            })
            .collect()
    }

    fn entries(&self, c: Collection) -> impl Iterator<Item = &Entry> {
        self.records.values().filter(move |e| e.collection() == c)
    }

    /// Every record of `c` in ascending id order (what a full scan returns).
    pub fn scan(&self, c: Collection) -> Vec<Record> {
        let mut es: Vec<&Entry> = self.entries(c).collect();
        es.sort_by(|a, b| compare(&a.id(), &b.id()));
        es.into_iter().map(|e| e.record.clone()).collect()
    }

    /// The records of `c` in the model's insertion-independent id order, as keys.
    pub fn keys(&self, c: Collection) -> Vec<RecordKey> {
        self.scan(c).iter().map(Record::key).collect()
    }

    /// How many records `c` holds.
    pub fn len(&self, c: Collection) -> usize {
        self.entries(c).count()
    }

    /// Whether the model holds no record at all.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The page a list query must return, computed from the query docs.
    pub fn list(&self, q: &ListQuery) -> Page<Record> {
        let mut hits: Vec<&Entry> = self
            .entries(q.collection)
            .filter(|e| self.matches(e, q))
            .collect();
        hits.sort_by(|a, b| order(a, b, &q.ordering));
        let total = q.count.then_some(hits.len() as u64);
        let end = q.offset.saturating_add(q.limit);
        let items = hits
            .into_iter()
            .enumerate()
            .filter(|(i, _)| {
                let i = *i as u64;
                i >= q.offset && i < end
            })
            .map(|(_, e)| e.record.clone())
            .collect();
        Page { items, total }
    }

    fn matches(&self, e: &Entry, q: &ListQuery) -> bool {
        let filters = q.filters.iter().all(|f| {
            let v = e.value(f.field.name());
            op_matches(&v, &f.op)
        });
        let search = q.search.as_ref().is_none_or(|s| {
            s.fields
                .iter()
                .any(|f| icontains(&e.value(f.name()), &s.text))
        });
        filters && search
    }
}

fn icontains(v: &MValue, needle: &str) -> bool {
    match v {
        MValue::Text(t) => fold(t).contains(&fold(needle)),
        _ => false,
    }
}

fn op_matches(v: &MValue, op: &Op) -> bool {
    if *v == MValue::Null {
        return false;
    }
    match op {
        Op::Eq(x) => *v == MValue::from_value(x),
        Op::In(xs) => xs.iter().any(|x| *v == MValue::from_value(x)),
        Op::IContains(n) => icontains(v, n),
        Op::Gte(x) => {
            let x = MValue::from_value(x);
            v.same_kind(&x) && compare(v, &x) != Ordering::Less
        }
        Op::Lte(x) => {
            let x = MValue::from_value(x);
            v.same_kind(&x) && compare(v, &x) != Ordering::Greater
        }
    }
}

fn order(a: &Entry, b: &Entry, ordering: &[Order]) -> Ordering {
    for o in ordering {
        let name = o.field.name();
        let c = compare(&a.value(name), &b.value(name));
        let c = match o.direction {
            Direction::Asc => c,
            Direction::Desc => c.reverse(),
        };
        if c != Ordering::Equal {
            return c;
        }
    }
    compare(&a.id(), &b.id())
}
