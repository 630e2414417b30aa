//! The Store conformance suite on in-memory SQLite (`sqlite::memory:`).
#![cfg(feature = "sqlite")]

mod common;

use common::Factory;

rehome_core::store_conformance_tests!(Factory::sqlite_memory());
