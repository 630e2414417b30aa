//! Parsing of write bodies (JSON objects) into typed field values, with field-keyed errors.
//!
//! One table per object kind says which fields exist, which are required on create, which are
//! read-only (ignored, so a GET body can be sent back) and how each is parsed and checked.
//! Unknown fields are errors that name them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value as Json;

use crate::error::FieldErrors;
use crate::model::{DeviceStatus, Money};
use crate::permission::{Permission, Permissions};

/// The message DRF gives, kept for the front ends written against the original.
pub(crate) const REQUIRED: &str = "This field is required.";
pub(crate) const NOT_NULL: &str = "This field may not be null.";
pub(crate) const NOT_BLANK: &str = "This field may not be blank.";

/// Short text fields.
pub const SHORT_TEXT: usize = 255;
/// Free-text fields (`address`, `specifications`, `notes`, `contact_info`, `description`).
pub const LONG_TEXT: usize = 10_000;
/// Email addresses.
pub const EMAIL: usize = 254;
/// Phone numbers.
pub const PHONE: usize = 30;
/// Postal codes.
pub const POSTAL_CODE: usize = 20;

/// How one field is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text of at most this many characters.
    Text(usize),
    /// An email address.
    Email,
    /// A MAC address or other text (short).
    Mac,
    /// An IMEI (15 digits with a valid check digit; spaces, dashes and slashes dropped), or
    /// empty.
    Imei,
    /// A year, 1970 to next year.
    Year,
    /// A date `YYYY-MM-DD`.
    Date,
    /// A money amount.
    Money,
    /// A boolean.
    Bool,
    /// A positive integer id of another object.
    Id,
    /// A list of positive integer ids (no duplicates; order kept sorted).
    Ids,
    /// A device status name.
    Status,
    /// A list of permission names (no duplicates).
    Permissions,
    /// A password: taken exactly as given (no trimming), at most 128 characters.
    Password,
    /// Present in reads, ignored in writes.
    ReadOnly,
}

/// One field of a write body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    /// Must be present on create and on full update (PUT).
    pub required: bool,
    /// May be `null`.
    pub nullable: bool,
    /// May be empty text.
    pub blank: bool,
}

const fn f(name: &'static str, kind: Kind, required: bool, nullable: bool) -> Spec {
    Spec {
        name,
        kind,
        required,
        nullable,
        blank: !required,
    }
}

const fn ro(name: &'static str) -> Spec {
    f(name, Kind::ReadOnly, false, true)
}

pub(crate) const DEVICE: &[Spec] = &[
    ro("device_id"),
    f("type", Kind::Text(SHORT_TEXT), true, false),
    f("make", Kind::Text(SHORT_TEXT), true, false),
    f("model", Kind::Text(SHORT_TEXT), true, false),
    f("serial_number", Kind::Text(SHORT_TEXT), true, false),
    f("mac_id", Kind::Mac, false, true),
    f("imei", Kind::Imei, false, true),
    f("year_of_manufacture", Kind::Year, false, true),
    f("date_received", Kind::Date, false, true),
    f("received_by", Kind::Id, false, true),
    ro("created_by"),
    f("physical_condition", Kind::Text(SHORT_TEXT), false, true),
    f("specifications", Kind::Text(LONG_TEXT), false, true),
    f("operating_system", Kind::Text(SHORT_TEXT), false, true),
    f("donor", Kind::Id, false, true),
    f("date_of_donation", Kind::Date, false, true),
    f("value", Kind::Money, false, true),
    f("start_location", Kind::Id, false, true),
    f("end_location", Kind::Id, false, true),
    f("notes", Kind::Text(LONG_TEXT), false, true),
    f("shipping_infos", Kind::Ids, false, true),
    f("status", Kind::Status, false, false),
    // Sanitization evidence: what the evidence routes set, never a device body.
    ro("no_media"),
    ro("locks"),
    ro("sample"),
    ro("no_evidence_recorded"),
    ro("recycling"),
    ro("created_at"),
    ro("updated_at"),
];

pub(crate) const LOCATION: &[Spec] = &[
    ro("location_id"),
    f("name", Kind::Text(SHORT_TEXT), true, false),
    f("type", Kind::Text(SHORT_TEXT), false, true),
    f("address", Kind::Text(LONG_TEXT), true, false),
    f("country", Kind::Text(SHORT_TEXT), false, true),
    f("city", Kind::Text(SHORT_TEXT), false, true),
    f("postal_code", Kind::Text(POSTAL_CODE), false, true),
    f("phone", Kind::Text(PHONE), false, true),
    ro("created_at"),
    ro("updated_at"),
];

pub(crate) const DONOR: &[Spec] = &[
    ro("donor_id"),
    f("name", Kind::Text(SHORT_TEXT), true, false),
    f("contact_info", Kind::Text(LONG_TEXT), false, true),
    f("address", Kind::Text(LONG_TEXT), false, true),
    f("email", Kind::Email, true, false),
    f("phone", Kind::Text(PHONE), false, true),
    ro("created_at"),
    ro("updated_at"),
];

pub(crate) const SHIPMENT: &[Spec] = &[
    ro("shipping_id"),
    f("destination", Kind::Id, false, true),
    f("arrived", Kind::Bool, false, false),
    f("date_shipped", Kind::Date, true, false),
    f("date_delivered", Kind::Date, false, true),
    f("tracking_identifier", Kind::Text(SHORT_TEXT), false, true),
    ro("created_at"),
    ro("updated_at"),
];

pub(crate) const USER: &[Spec] = &[
    ro("id"),
    f("username", Kind::Text(50), true, false),
    f("email", Kind::Email, true, false),
    f("role", Kind::Text(SHORT_TEXT), false, true),
    f("first_name", Kind::Text(SHORT_TEXT), false, true),
    f("last_name", Kind::Text(SHORT_TEXT), false, true),
    f("is_superuser", Kind::Bool, false, false),
    f("is_active", Kind::Bool, false, false),
    f("permissions", Kind::Permissions, false, true),
    f("password", Kind::Password, false, false),
    ro("effective_permissions"),
    ro("mfa_enabled"),
    ro("must_change_password"),
    ro("last_login"),
    ro("date_joined"),
    ro("updated_at"),
];

pub(crate) const ROLE: &[Spec] = &[
    ro("id"),
    f("name", Kind::Text(SHORT_TEXT), true, false),
    f("description", Kind::Text(LONG_TEXT), false, true),
    f("permissions", Kind::Permissions, false, true),
    ro("created_at"),
    ro("updated_at"),
];

/// A parsed field value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Parsed {
    Null,
    Text(String),
    Int(i64),
    Date(NaiveDate),
    Money(Money),
    Bool(bool),
    Ids(Vec<i64>),
    Status(DeviceStatus),
    Permissions(Permissions),
}

/// A parsed write body: the fields given (read-only ones dropped) and the `version` sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Body {
    pub fields: BTreeMap<&'static str, Parsed>,
    pub version: Option<u64>,
}

impl Body {
    pub fn take(&mut self, name: &str) -> Option<Parsed> {
        self.fields.remove(name)
    }

    pub fn text(&mut self, name: &str) -> Option<String> {
        match self.take(name)? {
            Parsed::Text(s) => Some(s),
            // A null for a nullable text field means empty.
            Parsed::Null => Some(String::new()),
            _ => None,
        }
    }

    pub fn int_opt(&mut self, name: &str) -> Option<Option<i64>> {
        match self.take(name)? {
            Parsed::Int(v) => Some(Some(v)),
            _ => Some(None),
        }
    }

    pub fn date_opt(&mut self, name: &str) -> Option<Option<NaiveDate>> {
        match self.take(name)? {
            Parsed::Date(v) => Some(Some(v)),
            _ => Some(None),
        }
    }

    pub fn bool(&mut self, name: &str) -> Option<bool> {
        match self.take(name)? {
            Parsed::Bool(v) => Some(v),
            _ => None,
        }
    }

    pub fn permissions(&mut self, name: &str) -> Option<Permissions> {
        match self.take(name)? {
            Parsed::Permissions(p) => Some(p),
            _ => Some(Permissions::empty()),
        }
    }
}

/// Whether a body must carry every required field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A new object: required fields must be present.
    Create,
    /// A full update (PUT): required fields must be present; optional fields left out keep
    /// their value.
    Replace,
    /// A partial update (PATCH).
    Patch,
}

/// Parses `body` against `specs`: the valid fields, and the errors of the others (so callers
/// can add their own checks and report everything at once). `next_year` bounds
/// `year_of_manufacture`.
pub(crate) fn parse(
    specs: &[Spec],
    body: &Json,
    mode: Mode,
    next_year: i32,
) -> (Body, FieldErrors) {
    let mut errors = FieldErrors::new();
    let Some(obj) = body.as_object() else {
        return (
            Body::default(),
            FieldErrors::one(
                "non_field_errors",
                "Invalid data. Expected a dictionary (JSON object).",
            ),
        );
    };
    let mut out = Body::default();
    for (key, value) in obj {
        if key == "version" {
            match value {
                Json::Null => {}
                v => match whole_u64(v) {
                    Some(n) => out.version = Some(n),
                    None => errors.add("version", "A valid integer is required."),
                },
            }
            continue;
        }
        let Some(spec) = specs.iter().find(|s| s.name == key) else {
            errors.add(key.clone(), "Unknown field.");
            continue;
        };
        if spec.kind == Kind::ReadOnly {
            continue;
        }
        match parse_value(spec, value, next_year) {
            Ok(p) => {
                out.fields.insert(spec.name, p);
            }
            Err(msg) => errors.add(spec.name, msg),
        }
    }
    if mode != Mode::Patch {
        for spec in specs.iter().filter(|s| s.required) {
            if !obj.contains_key(spec.name) {
                errors.add(spec.name, REQUIRED);
            }
        }
    }
    (out, errors)
}

fn parse_value(spec: &Spec, value: &Json, next_year: i32) -> Result<Parsed, String> {
    if value.is_null() {
        return if spec.nullable {
            Ok(Parsed::Null)
        } else {
            Err(NOT_NULL.into())
        };
    }
    match spec.kind {
        Kind::ReadOnly => Ok(Parsed::Null),
        Kind::Text(max) => text(value, max, spec.blank).map(Parsed::Text),
        Kind::Email => {
            let s = text(value, EMAIL, spec.blank)?;
            if s.is_empty() || valid_email(&s) {
                Ok(Parsed::Text(s))
            } else {
                Err("Enter a valid email address.".into())
            }
        }
        Kind::Mac => text(value, SHORT_TEXT, true).map(|s| Parsed::Text(normalize_mac(&s))),
        Kind::Imei => {
            let s = text(value, IMEI_TEXT, true)?;
            if s.is_empty() {
                Ok(Parsed::Text(s))
            } else {
                crate::evidence::parse_imei(&s)
                    .map(Parsed::Text)
                    .map_err(|e| e.to_string())
            }
        }
        Kind::Year => {
            let y = integer(value)?;
            if (1970..=i64::from(next_year)).contains(&y) {
                Ok(Parsed::Int(y))
            } else {
                Err(format!(
                    "Ensure this value is between 1970 and {next_year}."
                ))
            }
        }
        Kind::Date => match value.as_str().map(str::trim) {
            Some("") if spec.nullable => Ok(Parsed::Null),
            Some(s) => parse_date(s).map(Parsed::Date).ok_or_else(|| {
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.".into()
            }),
            None => {
                Err("Date has wrong format. Use one of these formats instead: YYYY-MM-DD.".into())
            }
        },
        Kind::Money => {
            let s = match value {
                Json::String(s) if s.trim().is_empty() && spec.nullable => {
                    return Ok(Parsed::Null);
                }
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                _ => return Err("A valid number is required.".into()),
            };
            s.parse::<Money>()
                .map(Parsed::Money)
                .map_err(|e| e.to_string())
        }
        Kind::Bool => boolean(value).map(Parsed::Bool),
        Kind::Id => {
            let id = integer(value).map_err(|_| {
                format!(
                    "Incorrect type. Expected pk value, received {}.",
                    json_type(value)
                )
            })?;
            if id < 1 {
                return Err(format!("Invalid pk \"{id}\" - object does not exist."));
            }
            Ok(Parsed::Int(id))
        }
        Kind::Ids => {
            let Some(items) = value.as_array() else {
                return Err(format!(
                    "Expected a list of items but got type \"{}\".",
                    json_type(value)
                ));
            };
            let mut ids = Vec::with_capacity(items.len());
            for item in items {
                let id = integer(item).map_err(|_| {
                    format!(
                        "Incorrect type. Expected pk value, received {}.",
                        json_type(item)
                    )
                })?;
                if id < 1 {
                    return Err(format!("Invalid pk \"{id}\" - object does not exist."));
                }
                ids.push(id);
            }
            ids.sort_unstable();
            ids.dedup();
            Ok(Parsed::Ids(ids))
        }
        Kind::Status => {
            let s = value.as_str().unwrap_or_default();
            s.parse::<DeviceStatus>()
                .map(Parsed::Status)
                .map_err(|()| format!("\"{}\" is not a valid choice.", display(value)))
        }
        Kind::Permissions => parse_permissions(value).map(Parsed::Permissions),
        Kind::Password => match value {
            Json::String(s) if s.chars().count() > 128 => {
                Err("Ensure this field has no more than 128 characters.".into())
            }
            Json::String(s) if s.is_empty() => Err(NOT_BLANK.into()),
            Json::String(s) => Ok(Parsed::Text(s.clone())),
            _ => Err("Not a valid string.".into()),
        },
    }
}

/// The fields of a body that takes exactly `allowed` (a password change, a grant change): a
/// body that is not an object is the one error; every other field is added to `errors` as
/// "Unknown field.", so it is reported with the rest, as every write's unknown fields are.
pub(crate) fn closed_object<'a>(
    body: &'a Json,
    allowed: &[&str],
    errors: &mut FieldErrors,
) -> Result<&'a serde_json::Map<String, Json>, FieldErrors> {
    let Some(obj) = body.as_object() else {
        return Err(FieldErrors::one(
            "non_field_errors",
            "Invalid data. Expected a dictionary (JSON object).",
        ));
    };
    for key in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errors.add(key.clone(), "Unknown field.");
    }
    Ok(obj)
}

/// Parses a JSON list of permission names: unknown names and duplicates are errors.
pub(crate) fn parse_permissions(value: &Json) -> Result<Permissions, String> {
    let Some(items) = value.as_array() else {
        return Err(format!(
            "Expected a list of items but got type \"{}\".",
            json_type(value)
        ));
    };
    let mut set = Permissions::empty();
    for item in items {
        let Some(name) = item.as_str() else {
            return Err(format!("\"{}\" is not a valid permission.", display(item)));
        };
        let p: Permission = name
            .parse()
            .map_err(|e: crate::permission::UnknownPermission| e.to_string())?;
        if set.contains(p) {
            return Err(format!("\"{name}\" is listed more than once."));
        }
        set.insert(p);
    }
    Ok(set)
}

fn display(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "int",
        Json::String(_) => "str",
        Json::Array(_) => "list",
        Json::Object(_) => "dict",
    }
}

fn text(value: &Json, max: usize, blank: bool) -> Result<String, String> {
    let s = match value {
        Json::String(s) => s.trim().to_owned(),
        Json::Number(n) => n.to_string(),
        Json::Bool(_) | Json::Array(_) | Json::Object(_) | Json::Null => {
            return Err("Not a valid string.".into());
        }
    };
    if s.is_empty() && !blank {
        return Err(NOT_BLANK.into());
    }
    if s.chars().count() > max {
        return Err(format!(
            "Ensure this field has no more than {max} characters."
        ));
    }
    if s.chars().any(|c| c == '\0') {
        return Err("Null characters are not allowed.".into());
    }
    Ok(s)
}

/// A non-negative whole JSON number (`3` or `3.0`: JSON does not tell them apart).
pub(crate) fn whole_u64(value: &Json) -> Option<u64> {
    let n = value.as_number()?;
    n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(f))
            .map(|f| f as u64)
    })
}

fn integer(value: &Json) -> Result<i64, String> {
    match value {
        Json::Number(n) => n
            .as_i64()
            .or_else(|| {
                // A whole number written with a fraction or exponent (`5.0`, `1e3`) is the
                // same number: JSON (and JSON Schema's `integer`) does not tell them apart.
                n.as_f64()
                    .filter(|f| {
                        f.fract() == 0.0
                            && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0)
                                .contains(f)
                    })
                    .map(|f| f as i64)
            })
            .ok_or_else(|| "A valid integer is required.".into()),
        Json::String(s) => s
            .trim()
            .parse()
            .map_err(|_| "A valid integer is required.".into()),
        _ => Err("A valid integer is required.".into()),
    }
}

fn boolean(value: &Json) -> Result<bool, String> {
    match value {
        Json::Bool(b) => Ok(*b),
        Json::Number(n) if n.as_i64() == Some(1) => Ok(true),
        Json::Number(n) if n.as_i64() == Some(0) => Ok(false),
        Json::String(s) => parse_bool(s).ok_or_else(|| "Must be a valid boolean.".into()),
        _ => Err("Must be a valid boolean.".into()),
    }
}

/// The boolean spellings accepted in bodies and query strings.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "True" | "TRUE" | "1" | "yes" | "on" => Some(true),
        "false" | "False" | "FALSE" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A calendar date in `YYYY-MM-DD` form.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A practical email check: one `@`, a non-empty local part, a dotted domain of letters,
/// digits and hyphens, no spaces or control characters.
pub(crate) fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return false;
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return false;
    }
    if local
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "()<>,;:\\\"[]".contains(c))
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(char::is_alphabetic) && tld.chars().count() >= 2)
}

/// MAC addresses in colon (`AA:BB:..`), dash (`AA-BB-..`) or dot-grouped (`aabb.ccdd.eeff`)
/// form become lowercase colon form; any other text is kept as given.
pub fn normalize_mac(s: &str) -> String {
    let hex_pairs = |parts: &[&str]| {
        parts.len() == 6
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
    };
    let colon: Vec<&str> = s.split(':').collect();
    let dash: Vec<&str> = s.split('-').collect();
    let dot: Vec<&str> = s.split('.').collect();
    let digits: Option<String> = if hex_pairs(&colon) {
        Some(colon.concat())
    } else if hex_pairs(&dash) {
        Some(dash.concat())
    } else if dot.len() == 3
        && dot
            .iter()
            .all(|p| p.len() == 4 && p.chars().all(|c| c.is_ascii_hexdigit()))
    {
        Some(dot.concat())
    } else {
        None
    };
    match digits {
        Some(d) => {
            let d = d.to_ascii_lowercase();
            let pairs: Vec<&str> = (0..6).map(|i| &d[i * 2..i * 2 + 2]).collect();
            pairs.join(":")
        }
        None => s.to_owned(),
    }
}

// ------------------------------------------------------------------ JSON Schema of a body

/// The write bodies whose fields `parse` checks against a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// A device.
    Device,
    /// A location.
    Location,
    /// A donor.
    Donor,
    /// A shipment.
    Shipment,
    /// A user (`/users/users/`; `password` optional).
    User,
    /// A self-registration (`/users/register/`): a user whose `password` is required.
    Registration,
    /// A role.
    Role,
}

impl WriteKind {
    fn specs(self) -> &'static [Spec] {
        match self {
            WriteKind::Device => DEVICE,
            WriteKind::Location => LOCATION,
            WriteKind::Donor => DONOR,
            WriteKind::Shipment => SHIPMENT,
            WriteKind::User | WriteKind::Registration => USER,
            WriteKind::Role => ROLE,
        }
    }
}

/// Text without NUL characters.
const NO_NUL: &str = r"^[^\u0000]*$";
/// The longest IMEI text accepted: 15 digits with separators between them.
const IMEI_TEXT: usize = 32;
/// An IMEI's shape as [`crate::evidence::parse_imei`] takes it after trimming (Rust's
/// whitespace, written out: ECMA's `\s` is another set): 15 digits with spaces, dashes or
/// slashes anywhere, or nothing at all. The check digit is no schema's to state.
const IMEI_PATTERN: &str = concat!(
    r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"(?:[ /-]*(?:[0-9][ /-]*){15})?",
    r"[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
);
/// Text without NUL characters holding something besides whitespace.
const NOT_BLANK_TEXT: &str = r"^[^\u0000]*[^\s\u0000][^\u0000]*$";
/// What [`valid_email`] accepts (domain labels ASCII here; it also takes other letters).
const EMAIL_PATTERN: &str = r#"^[^\s()<>,;:\\"\[\]@.\u0000-\u001f\u007f-\u009f]+(\.[^\s()<>,;:\\"\[\]@.\u0000-\u001f\u007f-\u009f]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"#;
/// The boolean spellings of [`parse_bool`].
const BOOL_PATTERN: &str = r"^\s*(true|True|TRUE|1|yes|on|false|False|FALSE|0|no|off)\s*$";
/// A positive integer as text (what [`integer`] parses from a string; 19 digits at most).
const POSITIVE_INT_TEXT: &str = r"^\s*\+?0*([1-9][0-9]{0,17}|[1-8][0-9]{18})\s*$";
/// A money amount as text: up to 12 whole digits, up to 2 decimals (zeros after them are
/// fine).
const MONEY_TEXT: &str = r"^\s*\+?[0-9]{1,12}(\.[0-9]{1,2}0*)?\s*$";
/// Text that is empty once trimmed (a null for nullable dates and amounts).
const BLANK_TEXT: &str = r"^\s*$";
/// What the account rules take as a username (`check_username`: 2 to 50 letters, digits and
/// `@.+-_`; letters and digits ASCII here, the rules take others too).
const USERNAME_PATTERN: &str = r"^[A-Za-z0-9@.+_-]{2,50}$";

/// What the account rules take as a role name (`check_role_name`: no `/`, no control
/// characters), not blank.
const ROLE_NAME_PATTERN: &str = r"^[^/\u0000-\u001f\u007f-\u009f]*[^\s/\u0000-\u001f\u007f-\u009f][^/\u0000-\u001f\u007f-\u009f]*$";

/// The JSON Schema (2020-12, as OpenAPI 3.1 uses) of the write body of `kind` in `mode`,
/// generated from the field table `parse` checks it with: required fields (none for a
/// PATCH), the type, length, format, range and choices of each field, `null` where the
/// field takes it, read-only fields accepted and ignored, `version` (a stale one is a 409)
/// and no other field (`additionalProperties: false`: unknown fields are refused). Lengths
/// count characters after surrounding whitespace is trimmed. `next_year` bounds
/// `year_of_manufacture` as `parse` does.
pub fn write_schema(kind: WriteKind, mode: Mode, next_year: i32) -> Json {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for spec in kind.specs() {
        let mut schema = field_schema(spec, next_year);
        if kind_is_user(kind) && spec.name == "username" {
            schema["pattern"] = Json::from(USERNAME_PATTERN);
        }
        if kind == WriteKind::Role && spec.name == "name" {
            schema["pattern"] = Json::from(ROLE_NAME_PATTERN);
        }
        if kind_is_user(kind) && spec.name == "password" {
            schema["minLength"] = Json::from(crate::auth::password::MIN_PASSWORD_LEN);
            schema["description"] = Json::from(
                "Write-only. Not common, not containing the username (the password policy).",
            );
        }
        properties.insert(spec.name.to_owned(), schema);
        let must = spec.required || (kind == WriteKind::Registration && spec.name == "password");
        if must && mode != Mode::Patch {
            required.push(Json::from(spec.name));
        }
    }
    properties.insert(
        "version".to_owned(),
        serde_json::json!({
            "type": ["integer", "null"],
            "minimum": 0,
            "maximum": u64::MAX,
            "description": "The version the client last read; when given, it must be current \
                            (else 409).",
        }),
    );
    serde_json::json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn kind_is_user(kind: WriteKind) -> bool {
    matches!(kind, WriteKind::User | WriteKind::Registration)
}

/// The schema of one field's value.
fn field_schema(spec: &Spec, next_year: i32) -> Json {
    use serde_json::json;
    let text = |max: usize, blank: bool| {
        let string = json!({
            "type": "string",
            "maxLength": max,
            "pattern": if blank { NO_NUL } else { NOT_BLANK_TEXT },
        });
        // A number is taken as its text: any number's is at most 24 characters
        // (`-1.7976931348623157e308`); for shorter fields, whole numbers that fit.
        let number = if max >= 24 {
            json!({"type": "number"})
        } else {
            let digits = i32::try_from(max).unwrap_or(i32::MAX).saturating_sub(1);
            let bound = 10f64.powi(digits) - 1.0;
            json!({"type": "integer", "minimum": -bound, "maximum": bound})
        };
        json!({"anyOf": [string, number]})
    };
    let id = json!({
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": i64::MAX},
            {"type": "string", "pattern": POSITIVE_INT_TEXT},
        ]
    });
    let mut schema = match spec.kind {
        Kind::ReadOnly => {
            return json!({"readOnly": true, "description": "Read-only: accepted and ignored."});
        }
        Kind::Text(max) => text(max, spec.blank),
        Kind::Mac => text(SHORT_TEXT, true),
        Kind::Imei => json!({
            "type": "string",
            "maxLength": IMEI_TEXT,
            "pattern": IMEI_PATTERN,
            "description": "15 digits whose last is the Luhn check digit of the first 14 \
                            (spaces, dashes and slashes between them are dropped), or empty.",
        }),
        Kind::Email => {
            let email = json!({
                "type": "string",
                "format": "idn-email",
                "maxLength": EMAIL,
                "pattern": EMAIL_PATTERN,
            });
            if spec.blank {
                json!({"anyOf": [email, {"type": "string", "pattern": BLANK_TEXT}]})
            } else {
                email
            }
        }
        Kind::Year => {
            let years: Vec<String> = (1970..=next_year).map(|y| y.to_string()).collect();
            json!({
                "anyOf": [
                    {"type": "integer", "minimum": 1970, "maximum": next_year},
                    {"type": "string", "pattern": format!(r"^\s*\+?0*({})\s*$", years.join("|"))},
                ]
            })
        }
        Kind::Date => {
            let date = json!({"type": "string", "format": "date"});
            if spec.nullable {
                json!({"anyOf": [date, {"type": "string", "pattern": BLANK_TEXT}]})
            } else {
                date
            }
        }
        Kind::Money => {
            let max = crate::model::MONEY_MAX_CENTS as f64 / 100.0;
            let mut alts = vec![
                json!({"type": "number", "minimum": 0, "maximum": max, "multipleOf": 0.01}),
                json!({"type": "string", "pattern": MONEY_TEXT}),
            ];
            if spec.nullable {
                alts.push(json!({"type": "string", "pattern": BLANK_TEXT}));
            }
            json!({"anyOf": alts})
        }
        Kind::Bool => json!({
            "anyOf": [
                {"type": "boolean"},
                {"type": "integer", "enum": [0, 1]},
                {"type": "string", "pattern": BOOL_PATTERN},
            ]
        }),
        Kind::Id => id,
        Kind::Ids => json!({"type": "array", "items": id}),
        Kind::Status => json!({
            "type": "string",
            "enum": DeviceStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        }),
        Kind::Permissions => json!({
            "type": "array",
            "uniqueItems": true,
            "items": {
                "type": "string",
                "enum": Permission::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            },
        }),
        Kind::Password => json!({"type": "string", "minLength": 1, "maxLength": 128}),
    };
    if spec.nullable {
        allow_null(&mut schema);
    }
    schema
}

/// Lets `schema` take `null` too.
fn allow_null(schema: &mut Json) {
    if let Some(alts) = schema.get_mut("anyOf").and_then(Json::as_array_mut) {
        alts.push(serde_json::json!({"type": "null"}));
        return;
    }
    match schema.get_mut("type") {
        Some(Json::Array(types)) => types.push(Json::from("null")),
        Some(t @ Json::String(_)) => {
            let one = t.clone();
            *t = Json::Array(vec![one, Json::from("null")]);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mac_forms() {
        let table = [
            ("AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff"),
            ("aa-bb-cc-dd-ee-0f", "aa:bb:cc:dd:ee:0f"),
            ("AABB.CCDD.EEFF", "aa:bb:cc:dd:ee:ff"),
            ("MAC-1-637498", "MAC-1-637498"),
            ("aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee"),
            ("aa:bb:cc:dd:ee:fg", "aa:bb:cc:dd:ee:fg"),
            ("aa:bb-cc:dd:ee:ff", "aa:bb-cc:dd:ee:ff"),
            ("", ""),
        ];
        for (input, want) in table {
            assert_eq!(normalize_mac(input), want, "{input}");
        }
    }

    #[test]
    fn imeis() {
        let spec = DEVICE.iter().find(|s| s.name == "imei").copied();
        let Some(spec) = spec else {
            panic!("devices take an imei")
        };
        let table: &[(Json, Result<&str, &str>)] = &[
            (json!("490154203237518"), Ok("490154203237518")),
            (json!(" 49-015420-323751-8 "), Ok("490154203237518")),
            (json!("35 209900 176148 1"), Ok("352099001761481")),
            (json!(490154203237518u64), Ok("490154203237518")),
            (json!(""), Ok("")),
            (json!("   "), Ok("")),
            (
                json!("490154203237519"),
                Err("This is not a valid IMEI: its check digit is wrong."),
            ),
            (json!("4901542032375"), Err("An IMEI is 15 digits.")),
            (json!("49015420323751A"), Err("An IMEI is 15 digits.")),
            (
                json!("4-9-0-1-5-4-2-0-3-2-3-7-5-1-8-0-0"),
                Err("Ensure this field has no more than 32 characters."),
            ),
            (json!(true), Err("Not a valid string.")),
        ];
        for (value, want) in table {
            let got = parse_value(&spec, value, 2027).map(|p| match p {
                Parsed::Text(t) => t,
                other => format!("{other:?}"),
            });
            assert_eq!(got, want.map(String::from).map_err(String::from), "{value}");
        }
        assert!(matches!(
            parse_value(&spec, &Json::Null, 2027),
            Ok(Parsed::Null)
        ));
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "first.last+tag@example.org",
            "x@sub.domain.example",
        ] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a b@c.de", "a@b..c", "a@-b.co", "a@b.c1", ".a@b.co",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn several_field_errors_at_once() {
        let body = json!({
            "type": "",
            "make": "x".repeat(256),
            "serial_number": 5,
            "year_of_manufacture": 1969,
            "date_received": "2024-13-01",
            "value": "-1",
            "donor": "abc",
            "status": "lost",
            "bogus": 1,
            "device_id": "ignored-read-only",
        });
        let (_, err) = parse(DEVICE, &body, Mode::Create, 2027);
        let want: &[(&str, &str)] = &[
            ("type", NOT_BLANK),
            ("make", "Ensure this field has no more than 255 characters."),
            ("model", REQUIRED),
            (
                "year_of_manufacture",
                "Ensure this value is between 1970 and 2027.",
            ),
            (
                "date_received",
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            ),
            ("value", "Ensure this value is greater than or equal to 0."),
            ("donor", "Incorrect type. Expected pk value, received str."),
            ("status", "\"lost\" is not a valid choice."),
            ("bogus", "Unknown field."),
        ];
        for (field, msg) in want {
            assert_eq!(err.get(field), [msg.to_string()], "{field}: {err:?}");
        }
        assert_eq!(err.0.len(), want.len(), "{err:?}");
    }

    #[test]
    fn patch_needs_nothing_and_keeps_version() {
        let body = json!({"notes": null, "version": 3, "value": 416.69});
        let (b, err) = parse(DEVICE, &body, Mode::Patch, 2027);
        assert!(err.is_empty(), "{err:?}");
        assert_eq!(b.version, Some(3));
        assert_eq!(b.fields.get("notes"), Some(&Parsed::Null));
        assert_eq!(
            b.fields.get("value"),
            Some(&Parsed::Money("416.69".parse().expect("money")))
        );
    }

    #[test]
    fn whole_numbers_with_a_fraction_are_integers() {
        // JSON does not tell 3 from 3.0; JSON Schema's `integer` takes both.
        let body = json!({"version": 3.0, "donor": 7.0, "year_of_manufacture": 2020.0});
        let (b, err) = parse(DEVICE, &body, Mode::Patch, 2027);
        assert!(err.is_empty(), "{err:?}");
        assert_eq!(b.version, Some(3));
        assert_eq!(b.fields.get("donor"), Some(&Parsed::Int(7)));
        let big: Json = serde_json::from_str(r#"{"version": 2251799813685247.0}"#).expect("json");
        let (b, err) = parse(USER, &big, Mode::Patch, 2027);
        assert!(err.is_empty(), "{err:?}");
        assert_eq!(b.version, Some(2_251_799_813_685_247));
        let (_, err) = parse(
            DEVICE,
            &json!({"version": 3.5, "donor": 1.5}),
            Mode::Patch,
            2027,
        );
        assert_eq!(err.get("version"), ["A valid integer is required."]);
        assert_eq!(
            err.get("donor"),
            ["Incorrect type. Expected pk value, received int."]
        );
    }

    #[test]
    fn write_schema_follows_the_field_table() {
        let create = write_schema(WriteKind::Device, Mode::Create, 2027);
        assert_eq!(
            create["required"],
            json!(["type", "make", "model", "serial_number"])
        );
        assert_eq!(create["additionalProperties"], false);
        let p = &create["properties"];
        assert_eq!(p["make"]["anyOf"][0]["maxLength"], 255);
        assert_eq!(p["notes"]["anyOf"][0]["maxLength"], 10_000);
        assert_eq!(p["notes"]["anyOf"][1]["type"], "number");
        assert_eq!(p["notes"]["anyOf"][2]["type"], "null");
        assert_eq!(p["make"]["anyOf"].as_array().map(Vec::len), Some(2));
        assert_eq!(p["year_of_manufacture"]["anyOf"][0]["maximum"], 2027);
        assert_eq!(p["year_of_manufacture"]["anyOf"][0]["minimum"], 1970);
        assert_eq!(p["date_received"]["anyOf"][0]["format"], "date");
        assert_eq!(
            p["status"]["enum"],
            json!([
                "received",
                "wiped",
                "refurbished",
                "ready",
                "shipped",
                "delivered",
                "recycled"
            ])
        );
        assert_eq!(p["device_id"]["readOnly"], true);
        assert!(p.get("version").is_some());
        let patch = write_schema(WriteKind::Device, Mode::Patch, 2027);
        assert_eq!(patch["required"], json!([]));
        let user = write_schema(WriteKind::User, Mode::Replace, 2027);
        assert_eq!(user["required"], json!(["username", "email"]));
        assert_eq!(user["properties"]["password"]["minLength"], 10);
        assert_eq!(user["properties"]["email"]["maxLength"], 254);
        let location = write_schema(WriteKind::Location, Mode::Create, 2027);
        // A postal code (20 characters) takes whole numbers of at most 19 digits.
        assert_eq!(
            location["properties"]["postal_code"]["anyOf"][1]["maximum"],
            9_999_999_999_999_999_999.0
        );
        let registration = write_schema(WriteKind::Registration, Mode::Create, 2027);
        assert_eq!(
            registration["required"],
            json!(["username", "email", "password"])
        );
        let role = write_schema(WriteKind::Role, Mode::Create, 2027);
        assert_eq!(role["properties"]["permissions"]["uniqueItems"], true);
        assert_eq!(
            role["properties"]["permissions"]["items"]["enum"][11],
            "viewAuditLog"
        );
    }
}
