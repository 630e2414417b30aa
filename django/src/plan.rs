//! From source rows to checked rehome records: every row goes through core's create rules,
//! unique keys are checked across rows, and references must point at imported rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use chrono::{NaiveDateTime, TimeZone, Timelike, Utc};
use rehome_core::model::Credentials;
use rehome_core::services::Model;
use rehome_core::services::inventory::{record_json, unique_errors};
use rehome_core::store::{RecordKey, UniqueKey};
use rehome_core::{DeviceId, DonorId, LocationId, Record, Rehome, RoleId, ShipmentId, UserId};
use serde_json::{Map, Value as Json, json};

use crate::source::{Row, Source};
use crate::{Counts, ImportError, Problem};

/// The kinds of objects imported, in the order they are written (what is referred to first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A role (from the users' role names).
    Role,
    /// A user.
    User,
    /// A location.
    Location,
    /// A donor.
    Donor,
    /// A shipment.
    Shipment,
    /// A device.
    Device,
}

impl Kind {
    /// The object type as the audit log names it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Role => "role",
            Kind::User => "user",
            Kind::Location => "location",
            Kind::Donor => "donor",
            Kind::Shipment => "shipment",
            Kind::Device => "device",
        }
    }

    pub(crate) fn audit_action(self) -> &'static str {
        match self {
            Kind::Role => "role.import",
            Kind::User => "user.import",
            Kind::Location => "location.import",
            Kind::Donor => "donor.import",
            Kind::Shipment => "shipment.import",
            Kind::Device => "device.import",
        }
    }
}

const USERS: &str = "users_user";
const LOCATIONS: &str = "inventory_location";
const DONORS: &str = "inventory_donor";
const SHIPMENTS: &str = "inventory_shipment";
const DEVICES: &str = "inventory_device";
const LINKS: &str = "inventory_device_shipping_infos";

const USER_COLUMNS: &[&str] = &[
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "role",
    "is_superuser",
    "last_login",
    "permissions",
    "password",
];
const LOCATION_COLUMNS: &[&str] = &[
    "location_id",
    "name",
    "type",
    "address",
    "country",
    "city",
    "postal_code",
    "phone",
];
const DONOR_COLUMNS: &[&str] = &[
    "donor_id",
    "name",
    "contact_info",
    "address",
    "email",
    "phone",
];
const SHIPMENT_COLUMNS: &[&str] = &[
    "shipping_id",
    "destination_id",
    "arrived",
    "date_shipped",
    "date_delivered",
    "tracking_identifier",
];
const DEVICE_COLUMNS: &[&str] = &[
    "device_id",
    "type",
    "make",
    "model",
    "serial_number",
    "mac_id",
    "year_of_manufacture",
    "date_received",
    "physical_condition",
    "specifications",
    "operating_system",
    "date_of_donation",
    "value",
    "notes",
    "created_by_id",
    "received_by_id",
    "donor_id",
    "start_location_id",
    "end_location_id",
];
const LINK_COLUMNS: &[&str] = &["id", "device_id", "shipment_id"];

/// The source's rows.
pub(crate) struct Tables {
    users: Vec<Row>,
    locations: Vec<Row>,
    donors: Vec<Row>,
    shipments: Vec<Row>,
    devices: Vec<Row>,
    links: Vec<Row>,
}

impl Tables {
    pub fn row_counts(&self) -> BTreeMap<&'static str, u64> {
        [
            (USERS, self.users.len()),
            (LOCATIONS, self.locations.len()),
            (DONORS, self.donors.len()),
            (SHIPMENTS, self.shipments.len()),
            (DEVICES, self.devices.len()),
            (LINKS, self.links.len()),
        ]
        .into_iter()
        .map(|(t, n)| (t, n as u64))
        .collect()
    }
}

/// Reads every table the import needs.
pub(crate) async fn read(source: &Source) -> Result<Tables, ImportError> {
    Ok(Tables {
        users: source.rows(USERS, USER_COLUMNS).await?,
        locations: source.rows(LOCATIONS, LOCATION_COLUMNS).await?,
        donors: source.rows(DONORS, DONOR_COLUMNS).await?,
        shipments: source.rows(SHIPMENTS, SHIPMENT_COLUMNS).await?,
        devices: source.rows(DEVICES, DEVICE_COLUMNS).await?,
        links: source.rows(LINKS, LINK_COLUMNS).await?,
    })
}

/// One object to write.
pub(crate) struct Planned {
    pub kind: Kind,
    pub record: Record,
    /// A user's credentials (the imported password hash).
    pub credentials: Option<Record>,
}

impl Planned {
    pub fn object_id(&self) -> String {
        match self.record.key() {
            RecordKey::Device(id) => id.to_string(),
            RecordKey::Location(id) => id.to_string(),
            RecordKey::Donor(id) => id.to_string(),
            RecordKey::Shipment(id) => id.to_string(),
            RecordKey::User(id) => id.to_string(),
            RecordKey::Role(id) => id.to_string(),
            other => other.to_string(),
        }
    }
}

/// The checked objects, in writing order, and the problems found.
pub(crate) struct Plan {
    pub objects: Vec<Planned>,
    pub counts: Counts,
    pub problems: Vec<Problem>,
}

/// Collects problems and the unique keys taken so far.
struct Checker {
    problems: Vec<Problem>,
    /// Each unique key (folded where the store folds it) and the row holding it.
    taken: HashMap<UniqueKey, (&'static str, String)>,
}

impl Checker {
    fn problem(&mut self, table: &'static str, row: &str, field: &str, reason: impl Into<String>) {
        self.problems.push(Problem {
            table,
            row: row.to_owned(),
            field: field.to_owned(),
            reason: reason.into(),
        });
    }

    fn field_errors(&mut self, table: &'static str, row: &str, errors: rehome_core::FieldErrors) {
        for (field, messages) in errors.0 {
            for m in messages {
                self.problem(table, row, &field, m);
            }
        }
    }

    /// Whether `record`'s unique keys are all free (each taken one is reported); if so and
    /// `take` (the row is imported), takes them.
    fn unique(&mut self, table: &'static str, row: &str, record: &Record, take: bool) -> bool {
        let mut ok = true;
        for key in record.unique_keys() {
            if let Some((t, other)) = self.taken.get(&key).cloned() {
                for (field, messages) in unique_errors(key.field).0 {
                    let how = if key.field.case_insensitive() {
                        " (compared regardless of case)"
                    } else {
                        ""
                    };
                    for m in messages {
                        self.problem(
                            table,
                            row,
                            &field,
                            format!("{m} It duplicates {t} row {other}{how}."),
                        );
                    }
                }
                ok = false;
            }
        }
        if ok && take {
            for key in record.unique_keys() {
                self.taken.insert(key, (table, row.to_owned()));
            }
        }
        ok
    }
}

fn text(v: &Option<String>) -> Json {
    match v {
        Some(s) => Json::String(s.clone()),
        None => Json::Null,
    }
}

/// An integer (a foreign key or count) as JSON: a number when it is one, else the text (which
/// core's rules then reject with their own message).
fn int(v: &Option<String>) -> Json {
    match v {
        None => Json::Null,
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => Json::String(s.clone()),
        },
    }
}

fn boolean(v: &Option<String>) -> Json {
    match v.as_deref().map(str::trim) {
        Some("1") | Some("true") | Some("True") => json!(true),
        Some("0") | Some("false") | Some("False") => json!(false),
        None => Json::Null,
        Some(other) => Json::String(other.to_owned()),
    }
}

fn body(pairs: Vec<(&str, Json)>) -> Json {
    Json::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<_, _>>(),
    )
}

/// A primary key: the row label for reports, and the parsed id if it parses.
fn pk<T: FromStr>(v: &Option<String>) -> (String, Option<T>) {
    let label = v.clone().unwrap_or_else(|| "NULL".to_owned());
    let id = v.as_deref().and_then(|s| s.trim().parse::<T>().ok());
    (label, id)
}

/// Django's naive UTC datetime text, as SQLite and MySQL print it.
fn timestamp(s: &str) -> Option<rehome_core::model::Timestamp> {
    let s = s.trim();
    let s = s.strip_suffix("+00:00").unwrap_or(s);
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|n| Utc.from_utc_datetime(&n))
        // Stores keep microseconds.
        .map(|t| t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t))
}

/// Checks every row and builds the records.
pub(crate) fn build(core: &Rehome, t: &Tables) -> Plan {
    let mut c = Checker {
        problems: Vec::new(),
        taken: HashMap::new(),
    };
    let mut counts = Counts::default();

    // Users (sorted by id, so both dialects give the same order).
    let mut users: Vec<(i64, String, Record, Option<Record>)> = Vec::new();
    for row in sorted_int(&t.users) {
        let (label, id) = pk::<i64>(&row[0]);
        let Some(id) = id.filter(|i| *i > 0) else {
            c.problem(USERS, &label, "id", "Not a positive integer id.");
            continue;
        };
        let mut bad = false;
        let permissions = match row[8].as_deref() {
            None => json!([]),
            Some(s) => match serde_json::from_str::<Json>(s) {
                // A list is a set of grants: a name listed twice is granted once.
                Ok(Json::Array(items)) => {
                    let mut seen = Vec::with_capacity(items.len());
                    for item in items {
                        if !seen.contains(&item) {
                            seen.push(item);
                        }
                    }
                    Json::Array(seen)
                }
                Ok(v) => v,
                Err(_) => {
                    c.problem(
                        USERS,
                        &label,
                        "permissions",
                        "Not a JSON list of permission names.",
                    );
                    bad = true;
                    json!([])
                }
            },
        };
        let b = body(vec![
            ("username", text(&row[1])),
            ("email", text(&row[2])),
            ("first_name", text(&row[3])),
            ("last_name", text(&row[4])),
            ("role", text(&row[5])),
            ("is_superuser", boolean(&row[6])),
            ("permissions", permissions),
        ]);
        // Every check runs, so each row's problems are all reported at once.
        let mut last_login = None;
        match row[7].as_deref() {
            None => {}
            Some(s) => match timestamp(s) {
                Some(t) => last_login = Some(t),
                None => {
                    c.problem(
                        USERS,
                        &label,
                        "last_login",
                        format!("\"{s}\" is not a date and time."),
                    );
                    bad = true;
                }
            },
        }
        let password_hash = match row[9].as_deref().map(str::trim) {
            None | Some("") => None,
            // Django's unusable password: the user cannot log in with a password there either.
            Some(s) if s.starts_with('!') => None,
            Some(s)
                if s.starts_with(rehome_core::auth::password::DJANGO_PBKDF2_PREFIX)
                    || s.starts_with("$argon2id$") =>
            {
                Some(s.to_owned())
            }
            Some(s) => {
                let scheme = s.split('$').next().unwrap_or_default();
                c.problem(
                    USERS,
                    &label,
                    "password",
                    format!(
                        "The password hash scheme \"{scheme}\" cannot be verified by rehome (only pbkdf2_sha256); the user could not log in."
                    ),
                );
                bad = true;
                None
            }
        };
        let mut user = match core.build_imported_user(UserId(id), &b) {
            Ok(u) => u,
            Err(e) => {
                c.field_errors(USERS, &label, e);
                continue;
            }
        };
        user.last_login = last_login;
        let record = Record::User(user);
        if !c.unique(USERS, &label, &record, !bad) || bad {
            continue;
        }
        let now = core.now();
        let creds = Record::Credentials(Credentials {
            user: UserId(id),
            password_hash,
            totp_secret: None,
            totp_enabled: false,
            totp_last_step: None,
            recovery_codes: Vec::new(),
            updated_at: now,
            version: 1,
        });
        users.push((id, label, record, Some(creds)));
    }

    // Roles: each distinct role name of an imported user, by name.
    let role_names: BTreeSet<String> = users
        .iter()
        .filter_map(|(_, _, r, _)| match r {
            Record::User(u) => u.role.clone(),
            _ => None,
        })
        .collect();
    let mut objects = Vec::new();
    for (i, name) in role_names.iter().enumerate() {
        let id = RoleId(i as i64 + 1);
        match core.build_imported_role(id, &json!({"name": name})) {
            Ok(role) => {
                counts.add(Kind::Role);
                objects.push(Planned {
                    kind: Kind::Role,
                    record: Record::Role(role),
                    credentials: None,
                });
            }
            // Names were checked with the users already; kept for completeness.
            Err(e) => c.field_errors(USERS, name, e),
        }
    }
    let user_ids: BTreeSet<i64> = users.iter().map(|(id, ..)| *id).collect();
    for (_, _, record, creds) in users {
        counts.add(Kind::User);
        objects.push(Planned {
            kind: Kind::User,
            record,
            credentials: creds,
        });
    }

    // Locations.
    let mut location_ids = BTreeSet::new();
    for row in sorted_int(&t.locations) {
        let (label, id) = pk::<i64>(&row[0]);
        let Some(id) = id.filter(|i| *i > 0) else {
            c.problem(
                LOCATIONS,
                &label,
                "location_id",
                "Not a positive integer id.",
            );
            continue;
        };
        let b = body(vec![
            ("name", text(&row[1])),
            ("type", text(&row[2])),
            ("address", text(&row[3])),
            ("country", text(&row[4])),
            ("city", text(&row[5])),
            ("postal_code", text(&row[6])),
            ("phone", text(&row[7])),
        ]);
        match core.build_imported(Model::Location, RecordKey::Location(LocationId(id)), &b) {
            Ok(r) if c.unique(LOCATIONS, &label, &r, true) => {
                location_ids.insert(id);
                counts.add(Kind::Location);
                objects.push(Planned {
                    kind: Kind::Location,
                    record: r,
                    credentials: None,
                });
            }
            Ok(_) => {}
            Err(e) => c.field_errors(LOCATIONS, &label, e),
        }
    }

    // Donors.
    let mut donor_ids = BTreeSet::new();
    for row in sorted_int(&t.donors) {
        let (label, id) = pk::<i64>(&row[0]);
        let Some(id) = id.filter(|i| *i > 0) else {
            c.problem(DONORS, &label, "donor_id", "Not a positive integer id.");
            continue;
        };
        let b = body(vec![
            ("name", text(&row[1])),
            ("contact_info", text(&row[2])),
            ("address", text(&row[3])),
            ("email", text(&row[4])),
            ("phone", text(&row[5])),
        ]);
        match core.build_imported(Model::Donor, RecordKey::Donor(DonorId(id)), &b) {
            Ok(r) if c.unique(DONORS, &label, &r, true) => {
                donor_ids.insert(id);
                counts.add(Kind::Donor);
                objects.push(Planned {
                    kind: Kind::Donor,
                    record: r,
                    credentials: None,
                });
            }
            Ok(_) => {}
            Err(e) => c.field_errors(DONORS, &label, e),
        }
    }

    // Shipments.
    let mut shipment_ids = BTreeSet::new();
    for row in sorted_int(&t.shipments) {
        let (label, id) = pk::<i64>(&row[0]);
        let Some(id) = id.filter(|i| *i > 0) else {
            c.problem(
                SHIPMENTS,
                &label,
                "shipping_id",
                "Not a positive integer id.",
            );
            continue;
        };
        let refs_ok = refers(
            &mut c,
            SHIPMENTS,
            &label,
            "destination",
            &row[1],
            &location_ids,
            "location",
        );
        let b = body(vec![
            ("destination", int(&row[1])),
            ("arrived", boolean(&row[2])),
            ("date_shipped", text(&row[3])),
            ("date_delivered", text(&row[4])),
            ("tracking_identifier", text(&row[5])),
        ]);
        match core.build_imported(Model::Shipment, RecordKey::Shipment(ShipmentId(id)), &b) {
            Ok(_) if !refs_ok => {}
            Ok(r) => {
                shipment_ids.insert(id);
                counts.add(Kind::Shipment);
                objects.push(Planned {
                    kind: Kind::Shipment,
                    record: r,
                    credentials: None,
                });
            }
            Err(e) => c.field_errors(SHIPMENTS, &label, e),
        }
    }

    // Devices (sorted by id).
    let mut device_rows: Vec<(Option<DeviceId>, &Row)> = t
        .devices
        .iter()
        .map(|r| (r[0].as_deref().and_then(|s| DeviceId::from_str(s).ok()), r))
        .collect();
    device_rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1[0].cmp(&b.1[0])));
    let mut devices: BTreeMap<DeviceId, Planned> = BTreeMap::new();
    for (id, row) in device_rows {
        let label = row[0].clone().unwrap_or_else(|| "NULL".to_owned());
        let Some(id) = id else {
            c.problem(
                DEVICES,
                &label,
                "device_id",
                "Not a UUID (32 hexadecimal digits).",
            );
            continue;
        };
        let refs_ok = [
            ("created_by", &row[14], &user_ids, "user"),
            ("received_by", &row[15], &user_ids, "user"),
            ("donor", &row[16], &donor_ids, "donor"),
            ("start_location", &row[17], &location_ids, "location"),
            ("end_location", &row[18], &location_ids, "location"),
        ]
        .into_iter()
        .fold(true, |ok, (field, v, ids, what)| {
            refers(&mut c, DEVICES, &label, field, v, ids, what) && ok
        });
        let b = body(vec![
            ("type", text(&row[1])),
            ("make", text(&row[2])),
            ("model", text(&row[3])),
            ("serial_number", text(&row[4])),
            ("mac_id", text(&row[5])),
            ("year_of_manufacture", int(&row[6])),
            ("date_received", text(&row[7])),
            ("physical_condition", text(&row[8])),
            ("specifications", text(&row[9])),
            ("operating_system", text(&row[10])),
            ("date_of_donation", text(&row[11])),
            ("value", text(&row[12])),
            ("notes", text(&row[13])),
            ("received_by", int(&row[15])),
            ("donor", int(&row[16])),
            ("start_location", int(&row[17])),
            ("end_location", int(&row[18])),
        ]);
        match core.build_imported(Model::Device, RecordKey::Device(id), &b) {
            Ok(mut r) => {
                if let Record::Device(d) = &mut r {
                    d.created_by = row[14]
                        .as_deref()
                        .and_then(|s| s.trim().parse::<i64>().ok())
                        .map(UserId);
                }
                if c.unique(DEVICES, &label, &r, refs_ok) && refs_ok {
                    devices.insert(
                        id,
                        Planned {
                            kind: Kind::Device,
                            record: r,
                            credentials: None,
                        },
                    );
                }
            }
            Err(e) => c.field_errors(DEVICES, &label, e),
        }
    }

    // Device-shipment links.
    for row in sorted_int(&t.links) {
        let (label, _) = pk::<i64>(&row[0]);
        let device = row[1].as_deref().and_then(|s| DeviceId::from_str(s).ok());
        let shipment = row[2].as_deref().and_then(|s| s.trim().parse::<i64>().ok());
        let Some(planned) = device.and_then(|d| devices.get_mut(&d)) else {
            c.problem(
                LINKS,
                &label,
                "device",
                format!(
                    "Device \"{}\" does not exist or is not imported.",
                    row[1].as_deref().unwrap_or("NULL")
                ),
            );
            continue;
        };
        let Some(shipment) = shipment.filter(|s| shipment_ids.contains(s)) else {
            c.problem(
                LINKS,
                &label,
                "shipment",
                format!(
                    "Shipment \"{}\" does not exist or is not imported.",
                    row[2].as_deref().unwrap_or("NULL")
                ),
            );
            continue;
        };
        if let Record::Device(d) = &mut planned.record {
            let id = ShipmentId(shipment);
            if let Err(at) = d.shipping_infos.binary_search(&id) {
                d.shipping_infos.insert(at, id);
                counts.links += 1;
            }
        }
    }
    for (_, p) in devices {
        counts.add(Kind::Device);
        objects.push(p);
    }

    Plan {
        objects,
        counts,
        problems: c.problems,
    }
}

/// Checks an optional foreign key against the imported ids of its table.
fn refers(
    c: &mut Checker,
    table: &'static str,
    row: &str,
    field: &str,
    value: &Option<String>,
    ids: &BTreeSet<i64>,
    what: &str,
) -> bool {
    let Some(v) = value.as_deref() else {
        return true;
    };
    match v.trim().parse::<i64>() {
        Ok(id) if ids.contains(&id) => true,
        _ => {
            c.problem(
                table,
                row,
                field,
                format!("The {what} {v} does not exist or is not imported."),
            );
            false
        }
    }
}

/// Rows sorted by their integer first column (unparseable ones last, in source order).
fn sorted_int(rows: &[Row]) -> Vec<&Row> {
    let mut v: Vec<&Row> = rows.iter().collect();
    v.sort_by_key(|r| {
        r[0].as_deref()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .map_or((1, 0), |i| (0, i))
    });
    v
}

/// Whether two records are the same but for their creation and update times.
pub(crate) fn same_content(a: &Record, b: &Record) -> bool {
    let strip = |r: &Record| {
        let mut v = record_json(r);
        if let Some(o) = v.as_object_mut() {
            for k in ["created_at", "updated_at", "date_joined"] {
                o.remove(k);
            }
        }
        v
    };
    a.key() == b.key() && strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_timestamps_as_sqlite_and_mysql_print_them() {
        let t = |s: &str| timestamp(s).map(|t| t.to_rfc3339());
        // SQLite (Django writes the text) and MySQL's CAST(datetime(6) AS CHAR).
        assert_eq!(
            t("2024-07-01 12:34:56.123456").as_deref(),
            Some("2024-07-01T12:34:56.123456+00:00")
        );
        assert_eq!(
            t("2024-07-01 12:34:56").as_deref(),
            Some("2024-07-01T12:34:56+00:00")
        );
        assert_eq!(
            t("2024-07-01 00:00:00.000000").as_deref(),
            Some("2024-07-01T00:00:00+00:00")
        );
        assert_eq!(
            t("2024-07-01T12:34:56.5+00:00").as_deref(),
            Some("2024-07-01T12:34:56.500+00:00")
        );
        assert_eq!(t("yesterday"), None);
        assert_eq!(t("2024-13-01 00:00:00"), None);
    }

    #[test]
    fn integers_and_booleans_keep_what_they_cannot_read() {
        assert_eq!(int(&Some("42".into())), json!(42));
        assert_eq!(int(&Some("4x".into())), json!("4x"));
        assert_eq!(int(&None), Json::Null);
        assert_eq!(boolean(&Some("1".into())), json!(true));
        assert_eq!(boolean(&Some("0".into())), json!(false));
        assert_eq!(boolean(&Some("maybe".into())), json!("maybe"));
    }
}
