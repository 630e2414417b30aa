#![doc = include_str!("../README.md")]

mod engine;
mod frame;
mod group_commit;
mod marker;

pub use engine::{Config, FORMAT_VERSION, SledEngine, SledError};
