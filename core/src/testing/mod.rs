//! The conformance suite every [`Store`] backend runs (feature `testing`).
//!
//! A backend that passes every check here is correct; a behaviour the suite does not pin is not
//! promised. A backend writes a [`StoreFactory`] and invokes the macro in an integration test:
//!
//! ```ignore
//! struct Factory;
//!
//! #[async_trait::async_trait]
//! impl rehome_core::testing::StoreFactory for Factory {
//!     async fn open(&self) -> Arc<dyn Store> { /* a fresh, empty store */ }
//!     async fn reopen(&self, store: Arc<dyn Store>) -> Option<Arc<dyn Store>> { None }
//! }
//!
//! rehome_core::store_conformance_tests!(Factory);
//! ```
//!
//! The macro expands to a module `store_conformance` with one test per check (so a failure
//! names its check), each on a multi-threaded tokio runtime with four workers; the backend's
//! crate needs neither tokio nor proptest itself. The checks are plain `pub async fn`s too
//! ([`check_crud_devices`], ...), for backends that want to call them another way ([`run_check`]
//! runs one from a plain `#[test]`); they need a multi-threaded runtime (the list property test
//! blocks on the store from inside its synchronous test runner).
//!
//! Expected answers never come from the code under test: the list checks compare with
//! [`model::Model`], an independent reference implementation of the query semantics of
//! [`crate::query`], and with hand-written tables; the write checks name the exact error
//! (variant, conflicting key and change index) each case must give.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;

use crate::store::Store;

mod assert;
mod batch;
pub mod bench;
mod concurrency;
mod crud;
mod evidence;
pub mod fixtures;
mod lists;
pub mod model;
mod references;
mod reopen;
mod services;
mod unique;

pub use batch::{
    check_audit_immutable, check_audit_lands_with_changes, check_batch_atomicity,
    check_batch_sees_earlier_changes, check_empty_change_set, check_exists, check_next_id,
    check_not_found, check_version_conflicts,
};
pub use concurrency::{
    check_concurrent_next_id, check_concurrent_session_inserts, check_concurrent_session_updates,
    check_concurrent_unique_inserts, check_concurrent_version_updates,
};
pub use crud::{
    check_crud_audit, check_crud_credentials, check_crud_devices, check_crud_donors,
    check_crud_locations, check_crud_mfa_challenges, check_crud_roles, check_crud_sessions,
    check_crud_shipments, check_crud_throttles, check_crud_users, check_scan_digest_keys,
    check_scan_order_and_paging,
};
pub use evidence::{
    check_evidence_large_report, check_evidence_records, check_evidence_references,
    check_evidence_unique_keys,
};
pub use lists::{check_list_auth_table, check_list_property, check_list_table};
pub use references::{
    check_auth_missing_references, check_auth_referenced_delete, check_auth_referrers,
    check_clear_references_then_delete, check_missing_references, check_referenced_delete,
    check_referrers, check_role_rename_while_held,
};
pub use reopen::check_reopen;
pub use services::{
    check_service_batch_atomicity, check_service_concurrent_updates,
    check_service_reference_clearing, check_service_status_lifecycle,
};
pub use unique::{
    check_unique_case_insensitive, check_unique_freed_in_same_batch, check_unique_keys_every_field,
    check_unique_update_onto_taken_key, check_unique_when_not_empty,
};

/// Crates the expanded macro needs, re-exported so a backend does not depend on them itself.
pub mod reexports {
    pub use proptest;
    pub use tokio;
}

/// Opens stores for the conformance suite.
#[async_trait]
pub trait StoreFactory: Send + Sync {
    /// A fresh, empty store; each call gives a new one that shares nothing with the others.
    /// Panicking on failure is fine (this only runs in tests).
    async fn open(&self) -> Arc<dyn Store>;

    /// Closes `store`, drops it and opens the same data again. A volatile backend, whose data
    /// cannot outlive the handle, returns `None` and the reopen check is skipped.
    async fn reopen(&self, store: Arc<dyn Store>) -> Option<Arc<dyn Store>>;
}

/// Runs one check to completion on a fresh multi-threaded runtime with four workers (what the
/// macro's tests run on), for calling a check from a plain `#[test]`.
pub fn run_check<F: Future<Output = ()>>(check: F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("the conformance suite could not start a tokio runtime");
    runtime.block_on(check);
}

/// Expands to a module `store_conformance` holding one
/// `#[tokio::test(flavor = "multi_thread", worker_threads = 4)]` per conformance check, each
/// running the check against the factory that `$factory` builds (the expression is evaluated
/// anew in every test, inside the module, which sees the invoking module's names through
/// `use super::*`). Invoke it once per module. See the [module docs](crate::testing).
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr $(,)?) => {
        /// The Store conformance suite (`rehome_core::testing`), one test per check.
        mod store_conformance {
            #[allow(unused_imports)]
            use super::*;
            // `#[tokio::test]` names `tokio` by a relative path: make it the re-exported one, so
            // the backend's crate need not depend on tokio.
            use $crate::testing::reexports::tokio;

            $crate::__store_conformance_tests!(
                $factory;
                check_crud_devices,
                check_crud_locations,
                check_crud_donors,
                check_crud_shipments,
                check_crud_users,
                check_crud_roles,
                check_crud_audit,
                check_crud_credentials,
                check_crud_sessions,
                check_crud_mfa_challenges,
                check_crud_throttles,
                check_scan_order_and_paging,
                check_scan_digest_keys,
                check_reopen,
                check_unique_keys_every_field,
                check_unique_when_not_empty,
                check_unique_case_insensitive,
                check_unique_update_onto_taken_key,
                check_unique_freed_in_same_batch,
                check_concurrent_unique_inserts,
                check_concurrent_version_updates,
                check_concurrent_next_id,
                check_concurrent_session_updates,
                check_concurrent_session_inserts,
                check_batch_atomicity,
                check_batch_sees_earlier_changes,
                check_version_conflicts,
                check_not_found,
                check_exists,
                check_empty_change_set,
                check_missing_references,
                check_referenced_delete,
                check_clear_references_then_delete,
                check_role_rename_while_held,
                check_referrers,
                check_auth_missing_references,
                check_auth_referenced_delete,
                check_auth_referrers,
                check_audit_immutable,
                check_audit_lands_with_changes,
                check_next_id,
                check_list_table,
                check_list_auth_table,
                check_list_property,
                check_service_status_lifecycle,
                check_service_reference_clearing,
                check_service_batch_atomicity,
                check_service_concurrent_updates,
                check_evidence_records,
                check_evidence_references,
                check_evidence_unique_keys,
                check_evidence_large_report,
            );
        }
    };
}

/// Implementation detail of [`store_conformance_tests!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_tests {
    ($factory:expr; $($check:ident),* $(,)?) => {
        $(
            #[$crate::testing::reexports::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let factory = $factory;
                $crate::testing::$check(&factory).await;
            }
        )*
    };
}

#[cfg(test)]
mod selftest;
