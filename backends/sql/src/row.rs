//! Records to column values and back, and the encodings of keys and list values.

use chrono::{Datelike, NaiveDate};
use rehome_core::fold::fold;
use rehome_core::model::Timestamp;
use rehome_core::query::{Collection, Field, FieldType, Value};
use rehome_core::store::{Record, RecordKey, StoreError, StoreResult, UniqueField, UniqueKey};
use sha2::{Digest as _, Sha256};

use crate::driver::Arg;
use crate::schema::{ColType, Column, Extra, Source, Table, table, unique_column};

/// A date as the integer column holds it: days since 0001-01-01 (proleptic Gregorian).
pub(crate) fn date_days(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

/// Whether a timestamp is a whole number of microseconds (what the columns keep exactly).
fn whole_micros(t: &Timestamp) -> bool {
    t.timestamp_subsec_nanos().is_multiple_of(1000)
}

/// The value of a list field as its column holds it, or `None` when the value's type is not
/// the field's (such a value equals nothing stored). Timestamps must be whole microseconds.
pub(crate) fn value_arg(field: Field, v: &Value) -> Option<Arg> {
    let ok = matches!(
        (field.field_type(), v),
        (FieldType::Text, Value::Text(_))
            | (FieldType::Int, Value::Int(_))
            | (FieldType::Bool, Value::Bool(_))
            | (FieldType::Date, Value::Date(_))
            | (FieldType::Timestamp, Value::Timestamp(_))
            | (FieldType::Uuid, Value::Uuid(_))
    );
    if !ok {
        return None;
    }
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => Arg::int(i64::from(*b)),
        Value::Int(i) => Arg::int(*i),
        Value::Text(t) => Arg::bytes(t.as_bytes()),
        Value::Date(d) => Arg::int(date_days(*d)),
        Value::Timestamp(t) => {
            if !whole_micros(t) {
                return None;
            }
            Arg::int(t.timestamp_micros())
        }
        Value::Uuid(u) => Arg::bytes(u.as_bytes().as_slice()),
    })
}

/// A bound of a range filter: the column value `c` satisfies `c >= bound` (when `lower`) or
/// `c <= bound` exactly when the field value satisfies the filter. `None` for a value of
/// another type (which matches nothing).
pub(crate) fn bound_arg(field: Field, v: &Value, lower: bool) -> Option<Arg> {
    match v {
        Value::Timestamp(t) if field.field_type() == FieldType::Timestamp && !whole_micros(t) => {
            // Stored values are whole microseconds: round the bound inwards.
            let floor = t.timestamp_micros();
            Some(Arg::int(if lower {
                floor.saturating_add(1)
            } else {
                floor
            }))
        }
        _ => value_arg(field, v),
    }
}

/// The primary key as the `id` column holds it.
pub(crate) fn key_arg(key: RecordKey) -> Arg {
    match key {
        RecordKey::Device(id) => Arg::bytes(id.0.as_bytes().as_slice()),
        RecordKey::Location(id) => Arg::int(id.0),
        RecordKey::Donor(id) => Arg::int(id.0),
        RecordKey::Shipment(id) => Arg::int(id.0),
        RecordKey::User(id) | RecordKey::Credentials(id) => Arg::int(id.0),
        RecordKey::Role(id) => Arg::int(id.0),
        RecordKey::Audit(id) => Arg::int(id.0),
        RecordKey::Medium(id) => Arg::int(id.0),
        RecordKey::Sanitization(id) => Arg::int(id.0),
        RecordKey::Verification(id) => Arg::int(id.0),
        RecordKey::Session(d)
        | RecordKey::MfaChallenge(d)
        | RecordKey::Throttle(d)
        | RecordKey::Report(d) => Arg::bytes(d.to_hex()),
    }
}

/// The key of a record of `c` from its `id` column.
pub(crate) fn key_from_id(c: Collection, id: &Arg) -> StoreResult<RecordKey> {
    use rehome_core::ids::*;
    let bad = || StoreError::Corrupt(format!("a malformed id in {}", c.as_str()));
    let int = || id.as_int().ok_or_else(bad);
    let bytes = || match id {
        Arg::Bytes(Some(b)) => Ok(b.as_slice()),
        _ => Err(bad()),
    };
    Ok(match c {
        Collection::Devices => RecordKey::Device(DeviceId(
            uuid::Uuid::from_slice(bytes()?).map_err(|_| bad())?,
        )),
        Collection::Locations => RecordKey::Location(LocationId(int()?)),
        Collection::Donors => RecordKey::Donor(DonorId(int()?)),
        Collection::Shipments => RecordKey::Shipment(ShipmentId(int()?)),
        Collection::Users => RecordKey::User(UserId(int()?)),
        Collection::Roles => RecordKey::Role(RoleId(int()?)),
        Collection::Audit => RecordKey::Audit(AuditId(int()?)),
        Collection::Credentials => RecordKey::Credentials(UserId(int()?)),
        Collection::Media => RecordKey::Medium(MediumId(int()?)),
        Collection::Sanitizations => RecordKey::Sanitization(SanitizationId(int()?)),
        Collection::Verifications => RecordKey::Verification(VerificationId(int()?)),
        Collection::Sessions
        | Collection::MfaChallenges
        | Collection::Throttles
        | Collection::Reports => {
            let hex = std::str::from_utf8(bytes()?).map_err(|_| bad())?;
            let d = Digest::from_hex(hex).ok_or_else(bad)?;
            match c {
                Collection::Sessions => RecordKey::Session(d),
                Collection::MfaChallenges => RecordKey::MfaChallenge(d),
                Collection::Reports => RecordKey::Report(d),
                _ => RecordKey::Throttle(d),
            }
        }
    })
}

fn sha256(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

/// The column and value a unique key is stored under; `None` for an empty optional key
/// (which no record holds).
pub(crate) fn unique_arg(key: &UniqueKey) -> Option<(&'static str, Arg)> {
    let (column, hashed) = unique_column(key.field);
    let optional = matches!(
        key.field,
        UniqueField::DeviceMacId | UniqueField::DeviceImei | UniqueField::LocationPhone
    );
    if optional && key.value.is_empty() {
        return None;
    }
    let arg = if hashed {
        Arg::bytes(sha256(&key.value))
    } else {
        Arg::bytes(key.value.as_bytes())
    };
    Some((column, arg))
}

fn non_empty(s: &str) -> Arg {
    Arg::Bytes((!s.is_empty()).then(|| s.as_bytes().to_vec()))
}

fn extra_arg(record: &Record, e: Extra, ty: ColType) -> Arg {
    match (record, e) {
        (Record::Device(d), Extra::MacKey) => non_empty(&d.mac_id),
        (Record::Device(d), Extra::ImeiKey) => non_empty(&d.imei),
        (_, Extra::Reference(r)) => match r.target_keys(record).first() {
            Some(key) => key_arg(*key),
            None => null_of(ty),
        },
        (Record::Location(l), Extra::PhoneKey) => non_empty(&l.phone),
        (Record::Location(l), Extra::AddressKey) => Arg::bytes(sha256(&l.address)),
        _ => Arg::Bytes(None),
    }
}

fn null_of(ty: ColType) -> Arg {
    if ty.is_bytes() {
        Arg::Bytes(None)
    } else {
        Arg::Int(None)
    }
}

fn column_arg(record: &Record, column: &Column, data: &mut Option<Vec<u8>>) -> StoreResult<Arg> {
    Ok(match column.source {
        Source::Field(f) => {
            let v = record.get(f);
            match &v {
                Value::Null => null_of(column.ty),
                Value::Timestamp(t) if !whole_micros(t) => {
                    return Err(StoreError::InvalidChange {
                        index: 0,
                        reason: format!(
                            "{} {t} is finer than a microsecond, which this store keeps",
                            f.name()
                        ),
                    });
                }
                _ => value_arg(f, &v).unwrap_or_else(|| null_of(column.ty)),
            }
        }
        Source::Folded(f) => match record.get(f) {
            Value::Text(t) => Arg::bytes(fold(&t)),
            _ => Arg::Bytes(None),
        },
        Source::Extra(e) => extra_arg(record, e, column.ty),
        // Bit for bit: versions are u64, the column i64.
        Source::Version => Arg::int(record.version() as i64),
        Source::Data => Arg::Bytes(data.take()),
    })
}

/// The table of a record and its column values, in the table's column order. A timestamp
/// finer than a microsecond is an [`StoreError::InvalidChange`] (index 0: the caller sets it).
pub(crate) fn record_args(record: &Record) -> StoreResult<(&'static Table, Vec<Arg>)> {
    let t = table(record.collection());
    let mut data = Some(serde_json::to_vec(record).map_err(StoreError::backend)?);
    let args = t
        .columns
        .iter()
        .map(|c| column_arg(record, c, &mut data))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((t, args))
}

/// A record from its `data` column, which must belong to `c`.
pub(crate) fn decode(c: Collection, data: Option<Vec<u8>>) -> StoreResult<Record> {
    let data =
        data.ok_or_else(|| StoreError::Corrupt(format!("a {} row without data", c.as_str())))?;
    let record: Record = serde_json::from_slice(&data)
        .map_err(|e| StoreError::Corrupt(format!("unreadable record in {}: {e}", c.as_str())))?;
    if record.collection() != c {
        return Err(StoreError::Corrupt(format!(
            "a {:?} record in the {} table",
            record.collection(),
            c.as_str()
        )));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_year_one() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        // 0001-01-01 is day 1 of the common era.
        assert_eq!(date_days(d(1, 1, 1)), 1);
        assert_eq!(date_days(d(1970, 1, 1)), 719_163);
        assert!(date_days(d(2024, 2, 29)) < date_days(d(2024, 3, 1)));
    }

    #[test]
    fn range_bounds_round_inwards() {
        let t = chrono::DateTime::from_timestamp_nanos(1_500); // 1.5 µs
        let v = Value::Timestamp(t);
        assert_eq!(
            bound_arg(Field::DeviceCreatedAt, &v, true),
            Some(Arg::int(2))
        );
        assert_eq!(
            bound_arg(Field::DeviceCreatedAt, &v, false),
            Some(Arg::int(1))
        );
        assert_eq!(value_arg(Field::DeviceCreatedAt, &v), None);
        assert_eq!(value_arg(Field::DeviceMake, &Value::Int(1)), None);
    }
}
