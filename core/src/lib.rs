#![doc = include_str!("../README.md")]

pub mod auth;
pub mod copy;
pub mod documents;
pub mod env;
pub mod error;
pub mod eval;
pub mod evidence;
pub mod fold;
pub mod ids;
pub mod kv;
pub mod memory;
pub mod model;
pub mod nwipe;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod permission;
pub mod query;
pub mod services;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Error, FieldErrors, Result};
pub use ids::{AuditId, DeviceId, DonorId, IdKind, LocationId, RoleId, ShipmentId, UserId};
pub use memory::MemoryStore;
pub use model::{
    AuditEvent, Device, DeviceStatus, Donor, Location, Money, MoveBlocked, NextStatus, Role,
    Shipment, User,
};
pub use permission::{Permission, Permissions};
pub use services::{Caller, Rehome};
pub use store::{Change, ChangeSet, Conflict, Record, RecordKey, Store, StoreError, UniqueKey};
