//! The one error type of the bindings: a variant per thing a caller does differently, each
//! carrying the data it acts on (field errors, retry time, current version), never a bare
//! message to match on.

use std::collections::HashMap;

use rehome_core::FieldErrors;

/// What went wrong. Python raises `RehomeError.NotFound` etc. (all subclasses of
/// `RehomeError`); Kotlin throws `RehomeException.NotFound` etc.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum RehomeError {
    /// The object does not exist (HTTP 404).
    #[error("not found: {detail}")]
    NotFound {
        /// A sentence for people.
        detail: String,
    },
    /// Input is invalid; nothing was written (HTTP 400). Also a malformed JSON body or store
    /// URL.
    #[error("invalid input: {fields:?}")]
    Validation {
        /// Messages keyed by field name, several fields at once:
        /// `{"serial_number": ["This field is required."]}`.
        fields: HashMap<String, Vec<String>>,
    },
    /// A unique key is taken, the object changed since it was read (a `version` in the body
    /// that is not current), or it is still in use (HTTP 409).
    #[error("conflict: {detail}")]
    Conflict {
        /// A sentence for people.
        detail: String,
        /// Field-keyed messages when a field is to blame, else empty.
        fields: HashMap<String, Vec<String>>,
    },
    /// The caller may not do this (HTTP 403).
    #[error("permission denied")]
    PermissionDenied,
    /// Wrong credentials: password, code, or MFA token (HTTP 401). Never tells an unknown
    /// username from a wrong password.
    #[error("authentication failed: {detail}")]
    AuthenticationFailed {
        /// A sentence safe to show.
        detail: String,
    },
    /// The session token is unknown, expired, idle too long or revoked, its user is inactive,
    /// or the call needs a logged-in user and the caller is not one (HTTP 401).
    #[error("invalid or expired token")]
    InvalidToken,
    /// The password was right and MFA is on: finish with `verify_mfa(mfa_token, code)`, or
    /// call `sign_in` again with a code. Only `sign_in` raises this; `login` answers
    /// `LoginOutcome.MfaRequired` instead.
    #[error("a second factor is required")]
    MfaRequired {
        /// The MFA token (5 minutes, 5 attempts).
        mfa_token: String,
        /// The kinds of code accepted: `totp`, `recovery_code`.
        methods: Vec<String>,
    },
    /// Too many failed logins: the username is locked, or the client address has too many
    /// recent failures (HTTP 429). Nothing succeeds before the time is up, not even the right
    /// password.
    #[error("too many attempts; retry after {retry_after_secs} s")]
    Locked {
        /// Seconds until an attempt may succeed again.
        retry_after_secs: u64,
    },
    /// The `if_match` version is not the current one (HTTP 412).
    #[error("precondition failed: current version is {current_version}")]
    PreconditionFailed {
        /// The object's current version.
        current_version: u64,
    },
    /// A batch was rejected as a whole; nothing was written.
    #[error("batch rejected: {} operation(s) failed", errors.len())]
    BatchRejected {
        /// The failing operations.
        errors: Vec<BatchOperationError>,
    },
    /// The store cannot take the call now, for a reason outside rehome that may pass: the disk
    /// is full, the data is read-only, the database server is unreachable or refuses
    /// connections (HTTP 503). Nothing was acknowledged; retry later. The detail is for logs.
    #[error("store unavailable: {detail}")]
    Unavailable {
        /// What the store reported.
        detail: String,
    },
    /// The store failed or could not be opened (unreadable or newer data, a broken backend)
    /// in a way retrying does not mend (HTTP 500). The detail is for logs.
    #[error("store failure: {detail}")]
    Backend {
        /// What the store reported.
        detail: String,
    },
    /// Something inside rehome failed that is neither the store nor the caller: the password
    /// hasher, the TOTP key, the QR encoder (HTTP 500). The detail is for logs.
    #[error("internal failure: {detail}")]
    Internal {
        /// The part that failed and what it reported.
        detail: String,
    },
}

/// The errors of one rejected batch operation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BatchOperationError {
    /// Position of the operation in the batch, from 0.
    pub index: u64,
    /// Messages keyed by field name.
    pub fields: HashMap<String, Vec<String>>,
    /// Whether it was a conflict (unique key, version) rather than invalid input.
    pub conflict: bool,
}

/// The result type of every call.
pub type Result<T, E = RehomeError> = std::result::Result<T, E>;

fn fields(f: FieldErrors) -> HashMap<String, Vec<String>> {
    f.0.into_iter().collect()
}

impl RehomeError {
    /// A validation error on one field.
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> RehomeError {
        RehomeError::Validation {
            fields: HashMap::from([(field.to_owned(), vec![message.into()])]),
        }
    }
}

impl From<rehome_core::Error> for RehomeError {
    fn from(e: rehome_core::Error) -> Self {
        use rehome_core::Error as E;
        match e {
            E::Validation(f) => RehomeError::Validation { fields: fields(f) },
            E::NotFound(detail) => RehomeError::NotFound { detail },
            E::PermissionDenied | E::RegistrationClosed | E::PasswordChangeRequired => {
                RehomeError::PermissionDenied
            }
            E::AuthenticationFailed { detail } => RehomeError::AuthenticationFailed { detail },
            E::InvalidToken => RehomeError::InvalidToken,
            E::Throttled { retry_after_secs } => RehomeError::Locked { retry_after_secs },
            E::Conflict { detail, fields: f } => RehomeError::Conflict {
                detail,
                fields: fields(f),
            },
            E::PreconditionFailed { current } => RehomeError::PreconditionFailed {
                current_version: current,
            },
            E::BatchRejected { errors } => RehomeError::BatchRejected {
                errors: errors
                    .into_iter()
                    .map(|o| BatchOperationError {
                        index: o.index as u64,
                        fields: fields(o.errors),
                        conflict: o.conflict,
                    })
                    .collect(),
            },
            E::Store(s) => store_error(&s),
            e @ E::Internal { .. } => RehomeError::Internal {
                detail: e.to_string(),
            },
        }
    }
}

/// A store failure: retryable [`RehomeError::Unavailable`] or [`RehomeError::Backend`].
fn store_error(s: &rehome_core::StoreError) -> RehomeError {
    match s {
        rehome_core::StoreError::Unavailable(_) => RehomeError::Unavailable {
            detail: s.to_string(),
        },
        _ => RehomeError::Backend {
            detail: s.to_string(),
        },
    }
}

impl From<rehome_backends::OpenError> for RehomeError {
    fn from(e: rehome_backends::OpenError) -> Self {
        use rehome_backends::OpenError as O;
        match e {
            // The caller's mistake, not the store's: a URL no backend of this build takes.
            O::UnsupportedUrl { .. } | O::NotCompiled { .. } => {
                RehomeError::invalid("url", e.to_string())
            }
            O::Store {
                source: rehome_core::StoreError::Unavailable(_),
                ..
            } => RehomeError::Unavailable {
                detail: e.to_string(),
            },
            O::Store { .. } => RehomeError::Backend {
                detail: e.to_string(),
            },
        }
    }
}
