//! The Store conformance suite on SQLite files (each store in a temporary directory).
#![cfg(feature = "sqlite")]

mod common;

use common::Factory;

rehome_core::store_conformance_tests!(Factory::sqlite_file());
