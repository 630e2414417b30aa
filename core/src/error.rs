//! The errors of core's services: one variant per thing a caller does differently.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::store::{Conflict, StoreError};

/// Validation messages keyed by field name, several fields at once:
/// `{"serial_number": ["This field is required."]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    /// No errors.
    pub fn new() -> FieldErrors {
        FieldErrors::default()
    }

    /// One error.
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> FieldErrors {
        let mut e = FieldErrors::new();
        e.add(field, message);
        e
    }

    /// Adds a message for `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    /// Adds every message of `other`.
    pub fn merge(&mut self, other: FieldErrors) {
        for (k, v) in other.0 {
            self.0.entry(k).or_default().extend(v);
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when empty, else the errors as [`Error::Validation`].
    pub fn into_result(self) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self))
        }
    }

    /// The messages of `field`.
    pub fn get(&self, field: &str) -> &[String] {
        self.0.get(field).map(Vec::as_slice).unwrap_or_default()
    }
}

/// The errors of one rejected batch operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationError {
    /// Position of the operation in the batch.
    pub index: usize,
    /// What was wrong with it.
    pub errors: FieldErrors,
    /// Whether it was a conflict (unique key, version) rather than invalid input.
    #[serde(skip)]
    pub conflict: bool,
}

/// What [`Error::PermissionDenied`] tells people (the REST API's `detail` and the console's
/// refusals, a no-escalation refusal included).
pub const PERMISSION_DENIED: &str = "You do not have permission to perform this action.";

/// What [`Error::PasswordChangeRequired`] tells people.
pub const PASSWORD_CHANGE_REQUIRED: &str = "You must choose a new password before going on.";

/// The result type of core's services.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in a service call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input is invalid; nothing was written (HTTP 400).
    #[error("invalid input: {0:?}")]
    Validation(FieldErrors),
    /// The object does not exist (HTTP 404).
    #[error("{0} not found")]
    NotFound(String),
    /// The caller may not do this (HTTP 403).
    #[error("permission denied")]
    PermissionDenied,
    /// Self-registration is closed by the server's setting, for everyone (HTTP 403 saying so).
    #[error("registration is closed")]
    RegistrationClosed,
    /// The caller's password was reset by a user manager: until it chooses a new one it may
    /// only read itself, change the password and log out (HTTP 403 with
    /// [`PASSWORD_CHANGE_REQUIRED`]).
    #[error("a new password must be chosen first")]
    PasswordChangeRequired,
    /// Wrong credentials: password, code, or MFA token (HTTP 401). `detail` is safe to show:
    /// it never tells an unknown username from a wrong password.
    #[error("authentication failed: {detail}")]
    AuthenticationFailed {
        /// A sentence for people.
        detail: String,
    },
    /// The session token is missing, unknown, expired, idle too long or revoked, or its user is
    /// inactive (HTTP 401).
    #[error("invalid or expired token")]
    InvalidToken,
    /// Too many failed attempts for this username or client address (HTTP 429).
    #[error("too many attempts; retry after {retry_after_secs} s")]
    Throttled {
        /// Seconds until an attempt may succeed again.
        retry_after_secs: u64,
    },
    /// A unique key is taken, the object changed since it was read, or it is still in use
    /// (HTTP 409). `fields` is keyed like a validation error when a field is to blame.
    #[error("conflict: {detail}")]
    Conflict {
        /// A sentence for people.
        detail: String,
        /// Field-keyed messages, possibly empty.
        fields: FieldErrors,
    },
    /// The caller's precondition (`If-Match`) names a version that is not current (HTTP 412).
    #[error("precondition failed: current version is {current}")]
    PreconditionFailed {
        /// The current version.
        current: u64,
    },
    /// A batch was rejected as a whole; nothing was written (HTTP 409 when every failure is
    /// a conflict, else 400).
    #[error("batch rejected: {} operation(s) failed", errors.len())]
    BatchRejected {
        /// The failing operations.
        errors: Vec<OperationError>,
    },
    /// The store failed (HTTP 500, or 503 when it is [`StoreError::Unavailable`]; details go
    /// to the log only). A store's conflict or missing record never lands here: the
    /// conversion from [`StoreError`] makes those [`Error::Conflict`] and [`Error::NotFound`].
    #[error(transparent)]
    Store(StoreError),
    /// Something inside rehome failed that is not the store and not the caller's doing: the
    /// password hasher, the TOTP key, the QR encoder (HTTP 500; the source goes to the log
    /// only).
    #[error("internal failure in {what}: {source}")]
    Internal {
        /// The part that failed, e.g. "password hashing".
        what: &'static str,
        /// What it reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The one mapping from a store failure to a service error, so `?` on a store call is always
/// right: a conflict (unique key taken, version moved, reference gone or still in use) is
/// [`Error::Conflict`] (HTTP 409) and a change naming a missing record is
/// [`Error::NotFound`] (404), wherever the commit happens; everything else is
/// [`Error::Store`].
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::Conflict { conflict, .. } => conflict_error(conflict),
            StoreError::NotFound { .. } => Error::NotFound("Not found.".into()),
            other => Error::Store(other),
        }
    }
}

fn conflict_error(conflict: Conflict) -> Error {
    match conflict {
        Conflict::Unique(k) => {
            Error::conflict_fields(crate::services::inventory::unique_errors(k.field))
        }
        Conflict::Version { key, .. } => Error::conflict(format!(
            "The {key} was changed by someone else meanwhile; read it again and retry."
        )),
        Conflict::Exists(key) => Error::conflict(format!("The {key} exists already.")),
        Conflict::MissingReference(r) => Error::conflict(format!(
            "A referenced object was deleted meanwhile ({r:?}); retry."
        )),
        Conflict::Referenced { key, by } => Error::conflict(format!(
            "The {key} is still referred to by the {by}; retry."
        )),
    }
}

impl Error {
    /// A field-keyed validation error for one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Validation(FieldErrors::one(field, message))
    }

    /// A conflict blamed on one field.
    pub fn conflict_on(field: impl Into<String>, message: impl Into<String>) -> Error {
        let message = message.into();
        Error::Conflict {
            detail: message.clone(),
            fields: FieldErrors::one(field, message),
        }
    }

    /// An [`Error::Internal`] of `what` (a short name of the part that failed).
    pub fn internal(
        what: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::Internal {
            what,
            source: source.into(),
        }
    }

    /// A conflict blamed on fields; its sentence is the first of their messages.
    pub fn conflict_fields(fields: FieldErrors) -> Error {
        Error::Conflict {
            detail: fields
                .0
                .values()
                .flatten()
                .next()
                .cloned()
                .unwrap_or_default(),
            fields,
        }
    }

    /// A conflict with only a sentence.
    pub fn conflict(detail: impl Into<String>) -> Error {
        Error::Conflict {
            detail: detail.into(),
            fields: FieldErrors::new(),
        }
    }
}
