//! The Store conformance suite on MySQL/MariaDB: each store in a database of its own on the
//! server `REHOME_TEST_MYSQL_URL` names; every test passes, saying it skipped, when it is not
//! set.
#![cfg(feature = "mysql")]

mod common;

use common::Factory;

rehome_core::store_conformance_tests!({
    match Factory::mysql() {
        Some(f) => f,
        None => return,
    }
});
