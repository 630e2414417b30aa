//! The tables: one per collection, their columns, keys, references and indexes, and the DDL
//! each dialect gets for them.
//!
//! Every table has an `id` primary key, a `version`, the record's full JSON in `data` (what
//! reads return), and one typed column per list field (`rehome_core::query::Field`) beside it,
//! written from the same record in the same statement, so the two never disagree. Text is
//! stored as bytes (UTF-8) everywhere: byte comparison is code-point order and exact equality
//! on every dialect, with no collation, padding or NUL rules in the way. Every text field has a
//! case-folded copy (`<column>_f`, made with [`rehome_core::fold::fold`]) that `IContains`
//! and search test with a byte substring function. Timestamps are microseconds since the epoch,
//! dates days since 0001-01-01, UUIDs their 16 bytes, digests their lowercase hex.
//!
//! Columns are named as the contract names their fields (`rehome_core::query::Field::name`,
//! and for a reference that is not a list field, such as a device's `received_by`, core's
//! reference table `rehome_core::store::REFERENCES`), but for the exceptions written out in
//! [`column_name`]. The full DDL this module generates is committed as
//! `schema/current/<dialect>.sql` and checked against it, so renaming a field can never change
//! the schema silently: the check fails, and the old name goes into [`column_name`]'s
//! exceptions (or a migration is written).
//!
//! The database itself is made by the migrations ([`crate::migrate`]): committed scripts
//! `schema/v<N>/<dialect>.sql` that are history and never change once released. A change to
//! the definitions here is therefore two commits' worth of work in one: the definitions (which
//! the statements bind to), and a new version's script that brings every existing database to
//! them. The migration tests (`tests/migrations.rs`) compare, on every dialect, the catalogue
//! of a database the migrations made with that of one made from `schema/current`, so a script
//! that forgets a column, an index or a foreign key fails there.
//!
//! Which fields are indexed, and which order the composite indexes follow, come from the
//! collections' list specs (`rehome_core::query::ListSpec`); which columns refer to which
//! table, the foreign keys and the referrer queries come from the reference table.

use std::sync::OnceLock;

use rehome_core::query::{Collection, Field, FieldType};
use rehome_core::store::{Arity, RefField, RefSpec, UniqueField};

/// The SQL dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite 3.37 or newer (STRICT tables).
    Sqlite,
    /// PostgreSQL 12 or newer.
    Postgres,
    /// MySQL 8 or MariaDB 10.5 or newer.
    MySql,
}

impl Dialect {
    /// Every dialect.
    pub const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];

    /// Lowercase name (file names, messages).
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
        }
    }
}

/// The storage type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColType {
    /// 64-bit integer (ids, years, versions, micros, days).
    Int,
    /// 0 or 1.
    Bool,
    /// 16 bytes.
    Uuid,
    /// 64 bytes of lowercase hex (digest keys).
    Hex,
    /// Text of an indexed field: at most 255 characters by the contract (1020 bytes).
    Text,
    /// Free text, or a folded copy: not indexed, any length.
    LongText,
    /// A folded unique key (folding can triple a text's length).
    KeyText,
    /// A SHA-256 of a long unique text.
    Hash,
    /// The record's JSON.
    Data,
}

impl ColType {
    fn sql(self, d: Dialect) -> &'static str {
        match d {
            // STRICT tables: every value must have the declared type.
            Dialect::Sqlite => match self {
                ColType::Int | ColType::Bool => "INTEGER",
                _ => "BLOB",
            },
            Dialect::Postgres => match self {
                ColType::Int => "BIGINT",
                ColType::Bool => "SMALLINT",
                _ => "BYTEA",
            },
            // Binary strings: byte comparison, no PAD SPACE, NULs allowed. The lengths keep
            // every index within InnoDB's 3072-byte key limit.
            Dialect::MySql => match self {
                ColType::Int => "BIGINT",
                ColType::Bool => "SMALLINT",
                ColType::Uuid => "BINARY(16)",
                ColType::Hex => "VARBINARY(64)",
                ColType::Text => "VARBINARY(1020)",
                ColType::LongText => "MEDIUMBLOB",
                ColType::KeyText => "VARBINARY(3072)",
                ColType::Hash => "BINARY(32)",
                ColType::Data => "LONGBLOB",
            },
        }
    }

    /// Whether values bind as bytes (else as integers).
    pub(crate) fn is_bytes(self) -> bool {
        !matches!(self, ColType::Int | ColType::Bool)
    }
}

/// Columns that are not list fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extra {
    /// Device MAC, NULL when empty (the unique key).
    MacKey,
    /// Device IMEI, NULL when empty (the unique key).
    ImeiKey,
    /// Location phone, NULL when empty (the unique key).
    PhoneKey,
    /// SHA-256 of the location address (the unique key; addresses are free text).
    AddressKey,
    /// A single reference that is not a list field (a device's `received_by`, `created_by`),
    /// in a column named as the contract names it.
    Reference(RefField),
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A list field (the id field is the `id` column).
    Field(Field),
    /// The folded copy of a text field.
    Folded(Field),
    /// Something else the constraints need.
    Extra(Extra),
    /// The record's version.
    Version,
    /// The record's JSON.
    Data,
}

/// One column.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub name: String,
    pub ty: ColType,
    pub source: Source,
    pub not_null: bool,
}

/// A foreign key.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code))] // read by the DDL generator (tests)
pub(crate) struct ForeignKey {
    pub column: &'static str,
    pub table: &'static str,
    pub target: &'static str,
    pub cascade: bool,
}

/// An index.
#[derive(Debug, Clone)]
#[cfg_attr(not(test), allow(dead_code))] // read by the DDL generator (tests)
pub(crate) struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

/// One collection's table.
#[derive(Debug, Clone)]
#[cfg_attr(not(test), allow(dead_code))] // indexes and keys are read by the DDL generator
pub(crate) struct Table {
    pub collection: Collection,
    pub name: &'static str,
    pub columns: Vec<Column>,
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
}

impl Table {
    /// The column holding `source`.
    pub(crate) fn column(&self, source: Source) -> Option<&Column> {
        self.columns.iter().find(|c| c.source == source)
    }

    /// The type of the `id` column.
    pub(crate) fn id_type(&self) -> ColType {
        id_type(self.collection)
    }

    /// The column of a list field of this table, `None` for fields of other collections.
    pub(crate) fn field_column(&self, f: Field) -> Option<&Column> {
        self.column(Source::Field(f))
    }
}

/// The join table of devices and the shipments they travelled with.
pub(crate) const DEVICE_SHIPMENTS: &str = "device_shipments";
/// The id counters.
pub(crate) const IDS: &str = "rehome_ids";
/// The applied schema versions.
pub(crate) const SCHEMA: &str = "rehome_schema";

/// The table of a collection: named as the collection ([`Collection::as_str`]), but the audit
/// log's (the DDL check guards the names, as [`column_name`]'s).
pub(crate) fn table_name(c: Collection) -> &'static str {
    match c {
        Collection::Audit => "audit_events",
        _ => c.as_str(),
    }
}

fn id_type(c: Collection) -> ColType {
    match c {
        Collection::Devices => ColType::Uuid,
        Collection::Sessions
        | Collection::MfaChallenges
        | Collection::Throttles
        | Collection::Reports => ColType::Hex,
        _ => ColType::Int,
    }
}

/// The column of a field: `id` for the id field, else the contract's name of the field but
/// where that is a SQL keyword (`type`, `timestamp`) or a reference, named for the id or
/// name it holds.
pub(crate) fn column_name(f: Field) -> &'static str {
    use Field::*;
    if f == f.collection().id_field() {
        return "id";
    }
    match f {
        DeviceType => "device_type",
        LocationType => "location_type",
        AuditTimestamp => "happened_at",
        DeviceDonor => "donor_id",
        DeviceStartLocation => "start_location_id",
        DeviceEndLocation => "end_location_id",
        ShipmentDestination => "destination_id",
        UserRole => "role_name",
        AuditActor => "actor_id",
        SessionUser | MfaChallengeUser => "user_id",
        MediumDevice | SanitizationDevice | VerificationDevice => "device_id",
        SanitizationMedium => "medium_id",
        _ => f.name(),
    }
}

fn extra_name(e: Extra) -> &'static str {
    match e {
        Extra::MacKey => "mac_key",
        Extra::ImeiKey => "imei_key",
        Extra::PhoneKey => "phone_key",
        Extra::AddressKey => "address_key",
        Extra::Reference(r) => r.spec().name,
    }
}

/// Where the SQL store keeps a reference: the table and its id column, and the column holding
/// the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefColumn {
    pub table: &'static str,
    pub id: &'static str,
    pub column: &'static str,
}

/// The column of a reference field (from [`rehome_core::store::REFERENCES`]): a list field's
/// column, the [`Extra::Reference`] column of a single reference that is not one, or the join
/// table of a list (`device_shipments`, the only one).
pub(crate) fn ref_column(r: &RefSpec) -> RefColumn {
    match (r.list_field, r.arity) {
        (_, Arity::Many) => RefColumn {
            table: DEVICE_SHIPMENTS,
            id: "device_id",
            column: "shipment_id",
        },
        (Some(f), _) => RefColumn {
            table: table_name(r.source),
            id: "id",
            column: column_name(f),
        },
        (None, _) => RefColumn {
            table: table_name(r.source),
            id: "id",
            column: extra_name(Extra::Reference(r.field)),
        },
    }
}

/// The references of `c` kept in [`Extra::Reference`] columns.
fn extra_refs(c: Collection) -> impl Iterator<Item = &'static RefSpec> {
    RefSpec::of(c).filter(|r| r.list_field.is_none() && r.arity != Arity::Many)
}

/// Whether a text field keeps a folded copy: every text field but those whose values are
/// lowercase ASCII already (statuses, hex digests), which are matched on themselves.
pub(crate) fn has_folded(f: Field) -> bool {
    f.field_type() == FieldType::Text
        && !matches!(
            f,
            Field::DeviceStatus
                | Field::SessionId
                | Field::MfaChallengeId
                | Field::ThrottleId
                | Field::ReportId
        )
}

/// The field a collection's lists are ordered by when the request names none (ascending),
/// for collections not listed in id order: the second column of the composite indexes. (The
/// audit log lists newest first, which is id descending: the primary key.)
fn default_order_field(c: Collection) -> Option<Field> {
    let o = c.list_spec().default_order;
    (o.field != c.id_field()).then_some(o.field)
}

/// The column holding a unique key, and whether its value is hashed.
pub(crate) fn unique_column(u: UniqueField) -> (&'static str, bool) {
    match u {
        UniqueField::DeviceSerialNumber => ("serial_number", false),
        UniqueField::DeviceMacId => ("mac_key", false),
        UniqueField::DeviceImei => ("imei_key", false),
        UniqueField::LocationAddress => ("address_key", true),
        UniqueField::LocationPhone => ("phone_key", false),
        UniqueField::DonorEmail => ("email", false),
        UniqueField::UserUsername => ("username_f", false),
        UniqueField::UserEmail => ("email_f", false),
        UniqueField::RoleName => ("name", false),
        UniqueField::MediumSerial => ("serial", false),
    }
}

fn text_type(f: Field) -> ColType {
    let c = f.collection();
    let keyed_on_itself = UniqueField::ALL
        .iter()
        .any(|u| u.field() == f && unique_column(*u).0 == column_name(f));
    let indexed =
        c.list_spec().is_indexed(f) || default_order_field(c) == Some(f) || keyed_on_itself;
    if indexed {
        ColType::Text
    } else {
        ColType::LongText
    }
}

fn field_type(f: Field) -> ColType {
    match f.field_type() {
        FieldType::Int | FieldType::Date | FieldType::Timestamp => ColType::Int,
        FieldType::Bool => ColType::Bool,
        FieldType::Uuid => ColType::Uuid,
        FieldType::Text => text_type(f),
    }
}

/// Whether a field can be null (`Record::get` gives `Value::Null`): the optional references,
/// dates and years, and a user's role. Every other column is NOT NULL.
fn nullable(f: Field) -> bool {
    matches!(
        f,
        Field::DeviceYearOfManufacture
            | Field::DeviceDonor
            | Field::DeviceStartLocation
            | Field::DeviceEndLocation
            | Field::DeviceDateReceived
            | Field::ShipmentDestination
            | Field::ShipmentDateDelivered
            | Field::UserRole
            | Field::AuditActor
    )
}

/// The extra columns of `c`: unique-key helpers, then references.
fn extras(c: Collection) -> Vec<Extra> {
    let keys: &[Extra] = match c {
        Collection::Devices => &[Extra::MacKey, Extra::ImeiKey],
        Collection::Locations => &[Extra::AddressKey, Extra::PhoneKey],
        _ => &[],
    };
    keys.iter()
        .copied()
        .chain(extra_refs(c).map(|r| Extra::Reference(r.field)))
        .collect()
}

fn extra_type(e: Extra) -> ColType {
    match e {
        Extra::MacKey | Extra::ImeiKey | Extra::PhoneKey => ColType::Text,
        Extra::AddressKey => ColType::Hash,
        Extra::Reference(r) => id_type(r.spec().target),
    }
}

/// The foreign keys of `c`: one per single reference (users hold their role by name, ADR
/// 0004, so renaming a held role is refused too). The join table's are in its DDL.
fn foreign_keys(c: Collection) -> Vec<ForeignKey> {
    RefSpec::of(c)
        .filter(|r| r.arity != Arity::Many)
        .map(|r| ForeignKey {
            column: ref_column(r).column,
            table: table_name(r.target),
            target: if r.by_name { "name" } else { "id" },
            cascade: false,
        })
        .collect()
}

fn build(c: Collection) -> Table {
    let name = table_name(c);
    let mut columns = vec![Column {
        name: "id".into(),
        ty: id_type(c),
        source: Source::Field(c.id_field()),
        not_null: true,
    }];
    for f in c.fields().iter().skip(1) {
        columns.push(Column {
            name: column_name(*f).into(),
            ty: field_type(*f),
            source: Source::Field(*f),
            not_null: !nullable(*f),
        });
        if has_folded(*f) {
            let folds_unique = matches!(f, Field::UserUsername | Field::UserEmail);
            columns.push(Column {
                name: format!("{}_f", column_name(*f)),
                ty: if folds_unique {
                    ColType::KeyText
                } else {
                    ColType::LongText
                },
                source: Source::Folded(*f),
                not_null: !nullable(*f),
            });
        }
    }
    for e in extras(c) {
        columns.push(Column {
            name: extra_name(e).into(),
            ty: extra_type(e),
            source: Source::Extra(e),
            not_null: e == Extra::AddressKey,
        });
    }
    columns.push(Column {
        name: "version".into(),
        ty: ColType::Int,
        source: Source::Version,
        not_null: true,
    });
    columns.push(Column {
        name: "data".into(),
        ty: ColType::Data,
        source: Source::Data,
        not_null: true,
    });

    let mut indexes = Vec::new();
    for u in UniqueField::ALL.iter().filter(|u| u.collection() == c) {
        let (col, _) = unique_column(*u);
        indexes.push(Index {
            name: format!("{name}_{col}_key"),
            columns: vec![col.into()],
            unique: true,
        });
    }
    let default = default_order_field(c);
    let spec = c.list_spec();
    for f in spec.filter_fields().chain(spec.order_only_fields()) {
        let col = column_name(f);
        // A unique key on the column itself already orders it (one record per value).
        let unique_on_itself = UniqueField::ALL
            .iter()
            .any(|u| u.field() == f && unique_column(*u).0 == col);
        if !unique_on_itself {
            indexes.push(Index {
                name: format!("{name}_{col}_idx"),
                columns: vec![col.into(), "id".into()],
                unique: false,
            });
        }
        // "Equal to X, default order, first page" reads only the page.
        if let Some(d) = default
            && d != f
            && spec.is_filter_field(f)
            && UniqueField::of_field(f).is_none()
        {
            let dcol = column_name(d);
            indexes.push(Index {
                name: format!("{name}_{col}_{dcol}_idx"),
                columns: vec![col.into(), dcol.into(), "id".into()],
                unique: false,
            });
        }
    }
    // Finding who refers to a record being deleted.
    for r in extra_refs(c) {
        let col = ref_column(r).column;
        indexes.push(Index {
            name: format!("{name}_{col}_idx"),
            columns: vec![col.into(), "id".into()],
            unique: false,
        });
    }
    Table {
        collection: c,
        name,
        columns,
        indexes,
        foreign_keys: foreign_keys(c),
    }
}

/// Every collection's table, in [`Collection::ALL`] order (referenced tables first).
pub(crate) fn tables() -> &'static [Table] {
    static TABLES: OnceLock<Vec<Table>> = OnceLock::new();
    TABLES.get_or_init(|| Collection::ALL.into_iter().map(build).collect())
}

/// The table of a collection.
pub(crate) fn table(c: Collection) -> &'static Table {
    let tables = tables();
    // `tables()` holds one table per collection, in `Collection::ALL` order.
    let i = Collection::ALL.iter().position(|x| *x == c).unwrap_or(0);
    &tables[i]
}

/// The numeric tag of an id kind in the counter table ([`rehome_core::IdKind::tag`], as the
/// key-value layout keys its counters).
pub(crate) fn id_kind_tag(k: rehome_core::IdKind) -> i64 {
    i64::from(k.tag())
}

// ---------------------------------------------------------------------------------------------
// DDL. Migrations apply the committed scripts (`schema/v<N>/`), which are history and never
// change; the generator below only runs in tests: it writes `schema/current/` (the full DDL of
// the definitions the store binds its statements to), which the migration tests compare with
// what the scripts make.

#[cfg(test)]
fn index_column(d: Dialect, t: &Table, col: &str) -> String {
    let nullable = t.columns.iter().any(|c| c.name == col && !c.not_null);
    if d == Dialect::Postgres && nullable {
        // PostgreSQL sorts nulls last by default; the list semantics put them first.
        format!("{col} NULLS FIRST")
    } else {
        col.to_owned()
    }
}

#[cfg(test)]
/// MySQL's DDL is not transactional: a migration cut short is completed by running it again,
/// so its statements must not fail on what the first run created. Elsewhere a migration is
/// one transaction.
fn create(d: Dialect) -> &'static str {
    if d == Dialect::MySql {
        "CREATE TABLE IF NOT EXISTS"
    } else {
        "CREATE TABLE"
    }
}

#[cfg(test)]
fn create_table(d: Dialect, t: &Table) -> String {
    let mut lines: Vec<String> = Vec::new();
    for c in &t.columns {
        let mut line = format!("{} {}", c.name, c.ty.sql(d));
        if c.name == "id" {
            // NOT NULL too: SQLite lets a non-integer primary key hold NULL otherwise.
            line.push_str(" NOT NULL PRIMARY KEY");
        } else if c.not_null {
            line.push_str(" NOT NULL");
        }
        lines.push(line);
    }
    for fk in &t.foreign_keys {
        let mut line = format!(
            "CONSTRAINT {}_{}_fk FOREIGN KEY ({}) REFERENCES {} ({})",
            t.name, fk.column, fk.column, fk.table, fk.target
        );
        if fk.cascade {
            line.push_str(" ON DELETE CASCADE");
        }
        lines.push(line);
    }
    if d == Dialect::MySql {
        // Inline, so the whole table is one DDL statement (MySQL's DDL is slow and not
        // transactional).
        for i in &t.indexes {
            let kind = if i.unique { "UNIQUE KEY" } else { "KEY" };
            lines.push(format!("{kind} {} ({})", i.name, i.columns.join(", ")));
        }
    }
    let mut sql = format!(
        "{} {} (\n    {}\n)",
        create(d),
        t.name,
        lines.join(",\n    ")
    );
    match d {
        Dialect::Sqlite => sql.push_str(" STRICT"),
        Dialect::Postgres => {}
        Dialect::MySql => sql.push_str(" ENGINE=InnoDB"),
    }
    sql.push_str(";\n");
    if d != Dialect::MySql {
        for i in &t.indexes {
            let cols: Vec<String> = i.columns.iter().map(|c| index_column(d, t, c)).collect();
            sql.push_str(&format!(
                "CREATE {}INDEX {} ON {} ({});\n",
                if i.unique { "UNIQUE " } else { "" },
                i.name,
                t.name,
                cols.join(", ")
            ));
        }
    }
    sql
}

#[cfg(test)]
fn join_table(d: Dialect) -> String {
    let device = ColType::Uuid.sql(d);
    let int = ColType::Int.sql(d);
    let create = create(d);
    let mut sql = format!(
        "{create} {DEVICE_SHIPMENTS} (\n    device_id {device} NOT NULL,\n    \
         shipment_id {int} NOT NULL,\n    PRIMARY KEY (device_id, shipment_id),\n    \
         CONSTRAINT {DEVICE_SHIPMENTS}_device_id_fk FOREIGN KEY (device_id) REFERENCES devices \
         (id) ON DELETE CASCADE,\n    CONSTRAINT {DEVICE_SHIPMENTS}_shipment_id_fk FOREIGN KEY \
         (shipment_id) REFERENCES shipments (id)"
    );
    match d {
        Dialect::Sqlite => sql.push_str("\n) STRICT;\n"),
        Dialect::Postgres => sql.push_str("\n);\n"),
        Dialect::MySql => sql.push_str(
            ",\n    KEY device_shipments_shipment_idx (shipment_id, device_id)\n) ENGINE=InnoDB;\n",
        ),
    }
    if d != Dialect::MySql {
        sql.push_str(&format!(
            "CREATE INDEX {DEVICE_SHIPMENTS}_shipment_idx ON {DEVICE_SHIPMENTS} (shipment_id, device_id);\n"
        ));
    }
    sql
}

#[cfg(test)]
/// The full DDL of the current schema ([`crate::migrate::SCHEMA_VERSION`]) for `d`, as
/// generated from the table definitions above: what the migrations add up to, committed as
/// `schema/current/<dialect>.sql` for reading (and compared with a database the migrations
/// made, in `migrate`'s tests).
pub(crate) fn ddl_current(d: Dialect) -> String {
    let int = ColType::Int.sql(d);
    let engine = if d == Dialect::MySql {
        " ENGINE=InnoDB"
    } else if d == Dialect::Sqlite {
        " STRICT"
    } else {
        ""
    };
    let mut sql = format!(
        "-- rehome schema version {} ({}), in full: what the migrations in schema/v*/ add up \
         to.\n-- Generated from backends/sql/src/schema.rs (REHOME_BLESS=1 cargo test -p \
         rehome-sql ddl); for reading, never run by the store.\n",
        crate::migrate::SCHEMA_VERSION,
        d.as_str()
    );
    sql.push_str(&format!(
        "{} {IDS} (\n    kind {int} NOT NULL PRIMARY KEY,\n    value {int} NOT NULL\n){engine};\n",
        create(d)
    ));
    let kinds: Vec<String> = rehome_core::IdKind::ALL
        .iter()
        .map(|k| format!("({}, 0)", id_kind_tag(*k)))
        .collect();
    let insert = if d == Dialect::MySql {
        "INSERT IGNORE INTO"
    } else {
        "INSERT INTO"
    };
    sql.push_str(&format!(
        "{insert} {IDS} (kind, value) VALUES {};\n",
        kinds.join(", ")
    ));
    for t in tables() {
        sql.push_str(&create_table(d, t));
    }
    sql.push_str(&join_table(d));
    sql
}

/// The DDL of the schema-version table (created before any migration runs).
pub(crate) fn ddl_schema_table(d: Dialect) -> String {
    let int = ColType::Int.sql(d);
    let engine = match d {
        Dialect::MySql => " ENGINE=InnoDB",
        Dialect::Sqlite => " STRICT",
        Dialect::Postgres => "",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {SCHEMA} (\n    version {int} NOT NULL PRIMARY KEY,\n    \
         applied_at {int} NOT NULL\n){engine}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed full DDL (`schema/current/`) is what the table definitions generate, so a
    /// change to the definitions shows in review as a change to that file (and needs a
    /// migration: `migrate`'s tests compare a migrated database with this DDL's).
    /// `REHOME_BLESS=1 cargo test -p rehome-sql ddl` rewrites them.
    #[test]
    fn ddl_current_files_match_the_definitions() {
        for d in Dialect::ALL {
            let path = format!(
                "{}/schema/current/{}.sql",
                env!("CARGO_MANIFEST_DIR"),
                d.as_str()
            );
            let generated = ddl_current(d);
            if std::env::var_os("REHOME_BLESS").is_some() {
                std::fs::write(&path, &generated).expect("writing the DDL file");
            }
            let committed = std::fs::read_to_string(&path).expect("reading the DDL file");
            assert_eq!(committed, generated, "{path} differs from schema.rs");
        }
    }

    #[test]
    fn every_unique_field_has_a_unique_index_and_every_field_a_column() {
        for u in UniqueField::ALL {
            let t = table(u.collection());
            let (col, _) = unique_column(u);
            assert!(
                t.indexes
                    .iter()
                    .any(|i| i.unique && i.columns == vec![col.to_owned()]),
                "{u:?}"
            );
        }
        for c in Collection::ALL {
            let t = table(c);
            assert_eq!(t.collection, c);
            for f in c.fields() {
                assert!(t.column(Source::Field(*f)).is_some(), "{f:?}");
                if f.field_type() == FieldType::Text {
                    let folded = t.column(Source::Folded(*f)).is_some();
                    assert_eq!(folded, has_folded(*f), "{f:?}");
                }
            }
            let mut names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), t.columns.len(), "duplicate column in {c:?}");
        }
    }
}
