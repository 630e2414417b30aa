//! Reading the audit log. Entries are written by the services themselves, in the same
//! change set as the change they record.

use super::inventory::Model;
use super::listing::{ListParams, ListResult};
use super::write::key_text;
use super::{Caller, Rehome};
use crate::error::{Error, Result};
use crate::model::AuditEvent;
use crate::permission::Permission;
use crate::query::{Collection, Field, Filter, Op, Value};
use crate::store::Record;

impl Rehome {
    /// The audit log, newest first, filtered by `actor`, `action`, `object_type`, `object_id`,
    /// `since`, `until` (needs `viewAuditLog`).
    pub async fn list_audit(
        &self,
        caller: &Caller,
        params: &ListParams,
    ) -> Result<ListResult<AuditEvent>> {
        caller.require(Permission::ViewAuditLog)?;
        let page = super::listing::run(&**self.store(), Collection::Audit, params, |_| {}).await?;
        Ok(page.filter_map(|r| match r {
            Record::Audit(a) => Some(a),
            _ => None,
        }))
    }

    /// One device's own audit entries (`object_type` `device`, `object_id` its id), newest
    /// first, paginated like every list; needs `readDevices` (not `viewAuditLog`). Takes the
    /// audit log's parameters but `object_type` and `object_id`, which it fixes itself.
    /// [`Error::NotFound`] when no such device exists (a deleted one included).
    ///
    /// Both filters are equalities on indexed fields, so every store answers from the index of
    /// `object_id` rather than a scan of the log (the conformance suite's list table pins the
    /// answers).
    pub async fn device_history(
        &self,
        caller: &Caller,
        id: &str,
        params: &ListParams,
    ) -> Result<ListResult<AuditEvent>> {
        caller.require(Permission::ReadDevices)?;
        let not_found = || Error::NotFound("Not found.".into());
        let key = Model::Device.parse_key(id).ok_or_else(not_found)?;
        if !matches!(self.store().get(key).await?, Some(Record::Device(_))) {
            return Err(not_found());
        }
        let own = ListParams {
            pairs: params
                .pairs
                .iter()
                .filter(|(k, _)| !FIXED.contains(&k.split_once("__").map_or(k.as_str(), |p| p.0)))
                .cloned()
                .collect(),
        };
        let object_id = key_text(key);
        let page = super::listing::run(&**self.store(), Collection::Audit, &own, |q| {
            q.filters.push(Filter {
                field: Field::AuditObjectType,
                op: Op::Eq(Value::Text(Model::Device.name().to_owned())),
            });
            q.filters.push(Filter {
                field: Field::AuditObjectId,
                op: Op::Eq(Value::Text(object_id)),
            });
        })
        .await?;
        Ok(page.filter_map(|r| match r {
            Record::Audit(a) => Some(a),
            _ => None,
        }))
    }
}

/// The audit parameters [`Rehome::device_history`] sets itself (a caller's are ignored).
const FIXED: [&str; 2] = ["object_type", "object_id"];
