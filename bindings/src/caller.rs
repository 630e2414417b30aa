//! Who is calling: every service call takes a caller, as core's do.

use std::sync::Arc;

use crate::types::{Permission, permission_list};

/// Who is calling, with the permissions fixed when the caller was made.
///
/// Made by `Caller.system()` (the operator: every permission, audited with no actor),
/// `Caller.anonymous()` (registration), or from a login: `authenticate(token)`,
/// `sign_in(...)`, `caller_for(user_id)`. A caller from a token stays valid for calls until
/// its session ends; permissions changed later are seen by the next `authenticate`.
#[derive(Debug, uniffi::Object)]
pub struct Caller {
    pub(crate) inner: rehome_core::Caller,
    /// The bearer token this caller authenticated with, when known.
    pub(crate) token: Option<String>,
}

impl Caller {
    pub(crate) fn new(inner: rehome_core::Caller, token: Option<String>) -> Arc<Caller> {
        Arc::new(Caller { inner, token })
    }
}

#[uniffi::export]
impl Caller {
    /// The operator (an embedding program, the command line): every permission, superuser
    /// powers, audited with no actor.
    #[uniffi::constructor]
    pub fn system() -> Arc<Caller> {
        Caller::new(rehome_core::Caller::system(), None)
    }

    /// Nobody logged in: may register and log in, nothing else.
    #[uniffi::constructor]
    pub fn anonymous() -> Arc<Caller> {
        Caller::new(rehome_core::Caller::anonymous(), None)
    }

    /// The same caller seen from a client address (recorded in the audit log, and counted
    /// by the per-address login throttle).
    pub fn with_ip(&self, ip: String) -> Arc<Caller> {
        Caller::new(self.inner.clone().with_ip(ip), self.token.clone())
    }

    /// The client address, if set.
    pub fn ip(&self) -> Option<String> {
        self.inner.ip().map(str::to_owned)
    }

    /// The user's id, for a logged-in user.
    pub fn user_id(&self) -> Option<i64> {
        self.inner.user_id().map(|id| id.0)
    }

    /// The user's name, for a logged-in user.
    pub fn username(&self) -> Option<String> {
        self.inner.username().map(str::to_owned)
    }

    /// The bearer token of the session, when the caller came from one.
    pub fn access_token(&self) -> Option<String> {
        self.token.clone()
    }

    /// Whether the caller is anyone at all (not anonymous).
    pub fn is_authenticated(&self) -> bool {
        self.inner.is_authenticated()
    }

    /// Whether the caller has superuser powers (the operator, or an active superuser).
    pub fn is_superuser(&self) -> bool {
        self.inner.is_superuser()
    }

    /// The caller's effective permissions.
    pub fn permissions(&self) -> Vec<Permission> {
        permission_list(self.inner.permissions())
    }

    /// Whether the caller has `permission`.
    pub fn has_permission(&self, permission: Permission) -> bool {
        self.inner.has(permission.into())
    }
}
