//! Copying every object of one store into another, empty one: users with their password
//! hashes and MFA state, roles, grants, inventory, sessions, throttles and the audit log, with
//! their ids and versions.

use crate::query::Collection;
use crate::store::{ChangeSet, Record, Store, StoreError, StoreResult};

/// Records per commit.
pub const CHUNK: usize = 500;

/// Where a copy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyProgress {
    /// The collection being copied.
    pub collection: Collection,
    /// Records of it copied so far.
    pub copied: u64,
    /// Records of every collection copied so far.
    pub total: u64,
}

/// The first collection (in [`Collection::ALL`] order) that holds a record, or `None` when
/// `store` is empty. Copies and imports ([`copy_store`], `rehome-django`) write only into an
/// empty store.
pub async fn first_non_empty(store: &dyn Store) -> StoreResult<Option<Collection>> {
    for c in Collection::ALL {
        if !store.scan(c, None, 1).await?.is_empty() {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// Copies everything in `from` into `to`, which must be empty, collection by collection in
/// dependency order (what is referred to first), in atomic chunks of 500 inserts. Ids and
/// versions are kept; inserting explicit ids advances `to`'s id counters past them, so new
/// objects created in `to` afterwards get fresh ids. `progress` is called after each chunk.
///
/// A copy interrupted midway leaves `to` partly filled: empty it (or use a new one) and run
/// again.
pub async fn copy_store(
    from: &dyn Store,
    to: &dyn Store,
    progress: &mut (dyn FnMut(CopyProgress) + Send),
) -> StoreResult<u64> {
    if let Some(c) = first_non_empty(to).await? {
        return Err(StoreError::InvalidChange {
            index: 0,
            reason: format!(
                "the target store is not empty (it holds {}); copy into an empty store",
                c.as_str()
            ),
        });
    }
    let mut total = 0u64;
    for c in Collection::ALL {
        let mut copied = 0u64;
        let mut after = None;
        loop {
            let chunk = from.scan(c, after, CHUNK).await?;
            if chunk.is_empty() {
                break;
            }
            after = chunk.last().map(Record::key);
            let n = chunk.len();
            let mut changes = ChangeSet::new();
            for r in chunk {
                changes.insert(r);
            }
            to.commit(changes).await?;
            copied += n as u64;
            total += n as u64;
            progress(CopyProgress {
                collection: c,
                copied,
                total,
            });
            if n < CHUNK {
                break;
            }
        }
    }
    Ok(total)
}
