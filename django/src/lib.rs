//! # rehome-django: moving from the original Django backend
//!
//! [`import`] reads a database written by the original Django backend (`sqlite://PATH` in
//! development, `mysql://...` in production; tables `users_user`, `inventory_location`,
//! `inventory_donor`, `inventory_shipment`, `inventory_device`,
//! `inventory_device_shipping_infos`) and writes its objects into an empty rehome store:
//!
//! - users (username, email, first and last name, role, superuser flag, last login), with
//!   their password hashes as they are: core verifies Django's `pbkdf2_sha256$...` at login
//!   and replaces it with argon2id on the first success, so users just log in;
//! - their direct permissions (the JSON list) as grants, and each distinct role name as a
//!   rehome role with no permissions;
//! - locations, donors, shipments and devices (32-hex ids become UUIDs, decimals two-place
//!   amounts) with all their references, and the device-shipment links.
//!
//! Original ids are kept; inserting them advances the store's id counters (the mechanism
//! [`rehome_core::copy::copy_store`] relies on too), so objects created afterwards get fresh
//! ids. The original's tokens are not imported. Objects get the import time as their
//! creation time (the original kept none), devices the status `received`, users
//! `is_active = true`.
//!
//! Every row is checked with core's own rules ([`rehome_core::Rehome::build_imported`] and
//! friends: the same field table a create uses; unique keys folded as the store folds them;
//! references to rows that exist and are imported) **before anything is written**. A row that
//! breaks a rule is a [`Problem`] (table, row id, field, reason). With
//! [`Options::dry_run`] everything is reported and nothing written; otherwise any problem
//! aborts the import with nothing written ([`ImportError::Invalid`]), unless
//! [`Options::skip_invalid`], which leaves out the bad rows (and the rows that refer to them).
//!
//! Writing is one atomic [`rehome_core::ChangeSet`] per batch of rows, each object with its
//! `<kind>.import` audit event; the first batch holds an `import.start` event and the last
//! an `import.finish` one. An import that was interrupted between batches can be run again
//! from the start on the store it left behind: the objects already there (which came with
//! their audit events, in the same batches) are checked to be the same and not written again.
//! Any other non-empty store is refused. See `docs/adr/0009-import-django.md`.

mod plan;
mod source;

use std::collections::BTreeMap;
use std::fmt;

use rehome_core::model::AuditEvent;
use rehome_core::query::Collection;
use rehome_core::services::inventory::record_json;
use rehome_core::store::StoreError;
use rehome_core::{AuditId, ChangeSet, Record, Rehome};
use serde_json::{Value as Json, json};

pub use plan::Kind;

/// The audit action of the first batch of an import.
pub const START_ACTION: &str = "import.start";
/// The audit action of the last batch of an import.
pub const FINISH_ACTION: &str = "import.finish";
/// The suffix of each imported object's audit action (`device.import`, ...).
pub const OBJECT_ACTION_SUFFIX: &str = ".import";
/// Rows per batch unless [`Options::batch_size`] says otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 500;

/// A callback told of each written batch.
pub type ProgressFn = Box<dyn FnMut(&ImportProgress) + Send>;

/// How to import.
pub struct Options {
    /// Check and report everything, write nothing.
    pub dry_run: bool,
    /// Leave out the rows that break a rule (reported) instead of aborting.
    pub skip_invalid: bool,
    /// Objects per atomic write (at least 1).
    pub batch_size: usize,
    /// Called after each batch is written.
    pub progress: Option<ProgressFn>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dry_run: false,
            skip_invalid: false,
            batch_size: DEFAULT_BATCH_SIZE,
            progress: None,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("dry_run", &self.dry_run)
            .field("skip_invalid", &self.skip_invalid)
            .field("batch_size", &self.batch_size)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Where a running import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// The kind of the last object of the batch just written.
    pub kind: Kind,
    /// Objects written (or found already there) so far.
    pub done: u64,
    /// Objects to write in all.
    pub total: u64,
}

/// A source row that breaks one of rehome's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The source table, e.g. `users_user`.
    pub table: &'static str,
    /// The row's primary key as the source shows it.
    pub row: String,
    /// The field (rehome's name), or `non_field_errors`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} row {}: {}: {}",
            self.table, self.row, self.field, self.reason
        )
    }
}

/// How many objects of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Roles (one per distinct role name).
    pub roles: u64,
    /// Users.
    pub users: u64,
    /// Locations.
    pub locations: u64,
    /// Donors.
    pub donors: u64,
    /// Shipments.
    pub shipments: u64,
    /// Devices.
    pub devices: u64,
    /// Device-shipment links.
    pub links: u64,
}

impl Counts {
    /// Objects in all (links are part of their devices).
    pub fn objects(&self) -> u64 {
        self.roles + self.users + self.locations + self.donors + self.shipments + self.devices
    }

    pub(crate) fn add(&mut self, kind: Kind) {
        match kind {
            Kind::Role => self.roles += 1,
            Kind::User => self.users += 1,
            Kind::Location => self.locations += 1,
            Kind::Donor => self.donors += 1,
            Kind::Shipment => self.shipments += 1,
            Kind::Device => self.devices += 1,
        }
    }

    /// As JSON (for the audit log).
    pub fn to_json(&self) -> Json {
        json!({
            "roles": self.roles, "users": self.users, "locations": self.locations,
            "donors": self.donors, "shipments": self.shipments, "devices": self.devices,
            "links": self.links,
        })
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} users, {} roles, {} locations, {} donors, {} shipments, {} devices, {} device-shipment links",
            self.users,
            self.roles,
            self.locations,
            self.donors,
            self.shipments,
            self.devices,
            self.links
        )
    }
}

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The objects imported (for a dry run: that would be).
    pub counts: Counts,
    /// Rows in the source, per table.
    pub source_rows: BTreeMap<&'static str, u64>,
    /// The rows that break a rule (left out with `skip_invalid`; for a dry run, reported).
    pub problems: Vec<Problem>,
    /// Nothing was written.
    pub dry_run: bool,
    /// Objects an earlier, interrupted run had already written (found, checked, kept).
    pub already_present: u64,
    /// Audit events written.
    pub audit_events: u64,
}

/// Why an import did not run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The source URL is neither `sqlite:` nor `mysql:`.
    #[error("unsupported source \"{0}\": use sqlite://PATH or mysql://USER@HOST/DATABASE")]
    UnsupportedSource(String),
    /// The source cannot be opened.
    #[error("cannot open the source database: {0}")]
    Connect(#[source] sqlx::Error),
    /// A table of the source cannot be read (not an original database?).
    #[error(
        "cannot read table {table} of the source (is this the original Django database?): {error}"
    )]
    Source {
        /// The table.
        table: &'static str,
        /// The driver's error.
        #[source]
        error: sqlx::Error,
    },
    /// Rows break rehome's rules; nothing was written. The report lists them.
    #[error("{} source row(s) break rehome's rules; nothing was written (fix them, or use --skip-invalid to leave them out)", .0.problems.len())]
    Invalid(Box<Report>),
    /// The target store holds data that is not an unfinished import of this kind.
    #[error("the target store is not empty ({0}); import into an empty store")]
    NotEmpty(String),
    /// An interrupted import left objects that differ from the source now.
    #[error(
        "the target store holds {0} from an earlier import that differs from the source now; import into a new, empty store"
    )]
    Changed(String),
    /// The store failed.
    #[error("store error: {0}")]
    Store(#[from] StoreError),
}

/// Imports the original database at `source_url` into `target`'s store (see the crate
/// documentation). Times come from `target`'s clock; the import acts as the operator.
pub async fn import(
    source_url: &str,
    target: &Rehome,
    mut options: Options,
) -> Result<Report, ImportError> {
    let batch_size = options.batch_size.max(1);
    let store = &**target.store();
    // Refuse a wrong target before reading anything.
    let resume = match target_state(store).await? {
        TargetState::Empty => false,
        TargetState::Unfinished => true,
        TargetState::Other(why) => return Err(ImportError::NotEmpty(why)),
    };
    let source = source::Source::open(source_url).await?;
    let dialect = source.dialect();
    let read = plan::read(&source).await;
    source.close().await;
    let tables = read?;
    let plan = plan::build(target, &tables);
    let mut report = Report {
        counts: plan.counts,
        source_rows: tables.row_counts(),
        problems: plan.problems,
        dry_run: options.dry_run,
        ..Report::default()
    };
    if options.dry_run {
        return Ok(report);
    }
    if !report.problems.is_empty() && !options.skip_invalid {
        return Err(ImportError::Invalid(Box::new(report)));
    }

    let total = plan.objects.len() as u64;
    let mut done = 0u64;
    let now = target.now();
    let mut start_written = resume && has_start(store).await?;
    let chunks: Vec<&[plan::Planned]> = if plan.objects.is_empty() {
        vec![&[]]
    } else {
        plan.objects.chunks(batch_size).collect()
    };
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut changes = ChangeSet::new();
        let mut audit = Vec::new();
        if !start_written {
            audit.push((
                START_ACTION,
                "import",
                String::new(),
                json!({"source": dialect, "objects": report.counts.to_json()}),
            ));
            start_written = true;
        }
        for p in chunk {
            if resume && let Some(existing) = store.get(p.record.key()).await? {
                if !plan::same_content(&existing, &p.record) {
                    return Err(ImportError::Changed(p.record.key().to_string()));
                }
                report.already_present += 1;
                continue;
            }
            changes.insert(p.record.clone());
            if let Some(c) = &p.credentials {
                changes.insert(c.clone());
            }
            audit.push((
                p.kind.audit_action(),
                p.kind.name(),
                p.object_id(),
                record_json(&p.record),
            ));
        }
        if i == last {
            audit.push((
                FINISH_ACTION,
                "import",
                String::new(),
                json!({"source": dialect, "objects": report.counts.to_json()}),
            ));
        }
        for (action, object_type, object_id, snapshot) in audit {
            let id = AuditId(store.next_id(rehome_core::IdKind::Audit).await?);
            changes.insert(Record::Audit(AuditEvent {
                id,
                timestamp: now,
                actor: None,
                actor_username: None,
                action: action.to_owned(),
                object_type: object_type.to_owned(),
                object_id,
                ip: None,
                changes: snapshot,
            }));
            report.audit_events += 1;
        }
        if !changes.is_empty() {
            store.commit(changes).await?;
        }
        done += chunk.len() as u64;
        if let (Some(cb), Some(p)) = (options.progress.as_mut(), chunk.last()) {
            cb(&ImportProgress {
                kind: p.kind,
                done,
                total,
            });
        }
    }
    Ok(report)
}

enum TargetState {
    Empty,
    /// Only what an interrupted import wrote.
    Unfinished,
    Other(String),
}

/// Whether `store` is empty, holds only an unfinished import, or anything else.
async fn target_state(store: &dyn rehome_core::Store) -> Result<TargetState, ImportError> {
    let Some(first) = rehome_core::copy::first_non_empty(store).await? else {
        return Ok(TargetState::Empty);
    };
    for c in [
        Collection::Sessions,
        Collection::MfaChallenges,
        Collection::Throttles,
    ] {
        if !store.scan(c, None, 1).await?.is_empty() {
            return Ok(TargetState::Other(format!("it holds {}", c.as_str())));
        }
    }
    let mut started = false;
    let mut after = None;
    loop {
        let page = store
            .scan(Collection::Audit, after, rehome_core::copy::CHUNK)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.key());
        for r in &page {
            let Record::Audit(a) = r else { continue };
            if a.action == FINISH_ACTION {
                return Ok(TargetState::Other("it holds a finished import".to_owned()));
            } else if a.action == START_ACTION {
                started = true;
            } else if !a.action.ends_with(OBJECT_ACTION_SUFFIX) {
                return Ok(TargetState::Other(format!(
                    "its audit log records \"{}\"",
                    a.action
                )));
            }
        }
        if page.len() < rehome_core::copy::CHUNK {
            break;
        }
    }
    if started {
        Ok(TargetState::Unfinished)
    } else {
        Ok(TargetState::Other(format!("it holds {}", first.as_str())))
    }
}

async fn has_start(store: &dyn rehome_core::Store) -> Result<bool, ImportError> {
    let first = store.scan(Collection::Audit, None, 1).await?;
    Ok(first
        .iter()
        .any(|r| matches!(r, Record::Audit(a) if a.action == START_ACTION)))
}
