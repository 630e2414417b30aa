//! Authentication building blocks: password hashing and policy, TOTP, tokens and digests.
//! The flows that use them (login, sessions, MFA, throttling) are in
//! `crate::services::auth` (the `Rehome` methods `login`, `authenticate`, ...).

pub mod password;
pub mod token;
pub mod totp;

pub use password::{Hasher, PasswordParams, Verified};
pub use token::Digest;
pub use totp::TotpKey;
