//! Reading the audit log. Entries are written by the services themselves, in the same
//! change set as the change they record.

use super::listing::{ListParams, ListResult};
use super::{Caller, Rehome};
use crate::error::Result;
use crate::model::AuditEvent;
use crate::permission::Permission;
use crate::query::Collection;
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
}
