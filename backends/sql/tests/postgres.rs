//! The Store conformance suite on PostgreSQL: each store in a schema of its own on the server
//! `REHOME_TEST_POSTGRES_URL` names; every test passes, saying it skipped, when it is not set.
#![cfg(feature = "postgres")]

mod common;

use common::Factory;

rehome_core::store_conformance_tests!({
    match Factory::postgres() {
        Some(f) => f,
        None => return,
    }
});
