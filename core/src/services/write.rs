//! What every write of the services shares: the preconditions (`If-Match`, a body's
//! `version`), the unique-key check, the version bump, the forms a record, a key and a change
//! take in audit entries and answers, and the error of one batch operation.

use serde_json::{Value as Json, json};

use super::tx::Tx;
use crate::error::{Error, FieldErrors, OperationError, Result};
use crate::model::Timestamp;
use crate::store::{Record, RecordKey, UniqueField};

/// The JSON form of a record, as the contract shows it (no wrapper).
pub fn record_json(record: &Record) -> Json {
    let v = match record {
        Record::Device(r) => serde_json::to_value(r),
        Record::Location(r) => serde_json::to_value(r),
        Record::Donor(r) => serde_json::to_value(r),
        Record::Shipment(r) => serde_json::to_value(r),
        Record::User(r) => serde_json::to_value(r),
        Record::Role(r) => serde_json::to_value(r),
        Record::Audit(r) => serde_json::to_value(r),
        Record::Medium(r) => serde_json::to_value(r),
        Record::Sanitization(r) => serde_json::to_value(r),
        Record::Verification(r) => serde_json::to_value(r),
        // A report's bytes stay out of answers and audit entries: its digest names them.
        Record::Report(r) => Ok(json!({
            "digest": r.digest,
            "format": r.format,
            "file_name": r.file_name,
            "size": r.bytes.len(),
            "uploaded_by": r.uploaded_by,
            "uploaded_at": r.uploaded_at,
        })),
        // Secrets and session state never leave core as JSON.
        Record::Credentials(_)
        | Record::Session(_)
        | Record::MfaChallenge(_)
        | Record::Throttle(_) => {
            return Json::Null;
        }
    };
    v.unwrap_or(Json::Null)
}

/// `{field: [old, new]}` for the fields that differ (timestamps and version left out).
pub(crate) fn diff(old: &Json, new: &Json) -> Json {
    let mut out = serde_json::Map::new();
    if let (Some(o), Some(n)) = (old.as_object(), new.as_object()) {
        for (k, nv) in n {
            if matches!(k.as_str(), "updated_at" | "version") {
                continue;
            }
            let ov = o.get(k).unwrap_or(&Json::Null);
            if ov != nv {
                out.insert(k.clone(), json!([ov, nv]));
            }
        }
    }
    Json::Object(out)
}

fn label(field: UniqueField) -> (&'static str, &'static str, &'static str) {
    // (field name, object label, field label) for messages.
    match field {
        UniqueField::DeviceSerialNumber => ("serial_number", "device", "serial number"),
        UniqueField::DeviceMacId => ("mac_id", "device", "mac id"),
        UniqueField::LocationAddress => ("address", "location", "address"),
        UniqueField::LocationPhone => ("phone", "location", "phone"),
        UniqueField::DonorEmail => ("email", "donor", "email"),
        UniqueField::UserUsername => ("username", "user", "username"),
        UniqueField::UserEmail => ("email", "user", "email"),
        UniqueField::RoleName => ("name", "role", "name"),
        UniqueField::DeviceImei => ("imei", "device", "imei"),
        UniqueField::MediumSerial => ("serial", "medium", "serial"),
    }
}

/// The field-keyed message for a taken unique key (the contract's 409 body), e.g.
/// `{"username": ["user with this username already exists."]}`.
pub fn unique_errors(field: UniqueField) -> FieldErrors {
    let (name, object, label) = label(field);
    FieldErrors::one(name, format!("{object} with this {label} already exists."))
}

/// Maps a service error to the error of one batch operation (or passes it on when it is not
/// about the operation's input: permission, store failure).
pub(crate) fn operation_error(
    index: usize,
    e: Error,
) -> std::result::Result<OperationError, Error> {
    let (errors, conflict) = match e {
        Error::Validation(f) => (f, false),
        Error::Conflict { detail, fields } => {
            if fields.is_empty() {
                (FieldErrors::one("non_field_errors", detail), true)
            } else {
                (fields, true)
            }
        }
        Error::NotFound(detail) => (FieldErrors::one("id", detail), false),
        Error::PreconditionFailed { current } => (
            FieldErrors::one("version", format!("The current version is {current}.")),
            true,
        ),
        other => return Err(other),
    };
    Ok(OperationError {
        index,
        errors,
        conflict,
    })
}

/// 412 when the caller's precondition (`If-Match`) names a version that is not current.
pub(crate) fn check_if_match(if_match: Option<u64>, current: u64) -> Result<()> {
    match if_match {
        Some(v) if v != current => Err(Error::PreconditionFailed { current }),
        _ => Ok(()),
    }
}

/// 409 when a body's `version` is not current (stops lost updates from clients that do not
/// send `If-Match`).
pub(crate) fn check_body_version(sent: Option<u64>, current: u64) -> Result<()> {
    match sent {
        Some(v) if v != current => Err(Error::conflict_on(
            "version",
            format!("The object is at version {current}, not {v}; read it again and retry."),
        )),
        _ => Ok(()),
    }
}

/// Sets the version and update time of a changed record.
pub(crate) fn bump(record: &mut Record, now: Timestamp) {
    macro_rules! touch {
        ($r:expr) => {{
            $r.version += 1;
            $r.updated_at = now;
        }};
    }
    match record {
        Record::Device(r) => touch!(r),
        Record::Location(r) => touch!(r),
        Record::Donor(r) => touch!(r),
        Record::Shipment(r) => touch!(r),
        Record::User(r) => touch!(r),
        Record::Role(r) => touch!(r),
        Record::Credentials(r) => touch!(r),
        Record::Throttle(r) => touch!(r),
        Record::Medium(r) => touch!(r),
        // Sessions and challenges have no update time.
        Record::Session(r) => r.version += 1,
        Record::MfaChallenge(r) => r.version += 1,
        // Never changed.
        Record::Audit(_)
        | Record::Sanitization(_)
        | Record::Verification(_)
        | Record::Report(_) => {}
    }
}

/// The id of a key as audit entries show it.
pub(crate) fn key_text(key: RecordKey) -> String {
    match key {
        RecordKey::Device(i) => i.to_string(),
        RecordKey::Location(i) => i.to_string(),
        RecordKey::Donor(i) => i.to_string(),
        RecordKey::Shipment(i) => i.to_string(),
        RecordKey::User(i) => i.to_string(),
        RecordKey::Role(i) => i.to_string(),
        RecordKey::Audit(i) => i.to_string(),
        RecordKey::Credentials(i) => i.to_string(),
        RecordKey::Medium(i) => i.to_string(),
        RecordKey::Sanitization(i) => i.to_string(),
        RecordKey::Verification(i) => i.to_string(),
        RecordKey::Report(d) => d.to_hex(),
        // Never the digest of a secret: only that there was one.
        RecordKey::Session(_) | RecordKey::MfaChallenge(_) | RecordKey::Throttle(_) => {
            String::new()
        }
    }
}

/// A 409 naming each unique key of `record` that another record holds.
pub(crate) async fn check_unique(tx: &Tx<'_>, record: &Record) -> Result<()> {
    let mut fields = FieldErrors::new();
    for k in record.unique_keys() {
        if let Some(other) = tx.get_by_unique(&k).await?
            && other.key() != record.key()
        {
            fields.merge(unique_errors(k.field));
        }
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(Error::conflict_fields(fields))
    }
}
