//! Core's services: every rule of who may do what, and every change to the data, goes through
//! [`Rehome`], so the library, the server and the bindings all enforce the same rules.

use std::sync::Arc;

use chrono::Datelike;

use crate::auth::{Hasher, PasswordParams};
use crate::env::{Clock, OsRandomness, Randomness, SystemClock};
use crate::error::{Error, Result};
use crate::ids::Digest;
use crate::ids::{RoleId, UserId};
use crate::model::{Role, Timestamp, User};
use crate::permission::{Permission, Permissions};
use crate::store::{Record, RecordKey, Store, UniqueField};

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod imports;
pub mod input;
pub mod inventory;
pub mod listing;
pub mod mock;
pub mod scan;
pub mod shipping;
pub mod summary;
mod tx;
mod write;

pub use auth::{AuthConfig, LoginOutcome, MfaCode, SessionGrant, TotpSetup};
pub use input::Mode;
pub use inventory::Model;
pub use listing::{ListParams, ListResult, PageRequest};
pub use scan::{ScanMatch, Scanned};
pub use summary::{InventorySummary, StatusCount, WeekCount};

/// An active user with `id`, no role, grants or names yet, joined at `now` (version one),
/// which a create or an import fills from its body.
pub(crate) fn blank_user(id: UserId, now: Timestamp) -> User {
    User {
        id,
        username: String::new(),
        email: String::new(),
        role: None,
        first_name: String::new(),
        last_name: String::new(),
        is_superuser: false,
        is_active: true,
        permissions: Permissions::empty(),
        mfa_enabled: false,
        must_change_password: false,
        last_login: None,
        date_joined: now,
        updated_at: now,
        version: 1,
    }
}

/// A role with `id` and nothing else filled in yet, made at `now` (version one).
pub(crate) fn blank_role(id: RoleId, now: Timestamp) -> Role {
    Role {
        id,
        name: String::new(),
        description: String::new(),
        permissions: Permissions::empty(),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// Who is calling, as core sees it.
#[derive(Debug, Clone)]
pub struct Caller {
    kind: CallerKind,
    ip: Option<String>,
    /// The login session the caller authenticated with, if any.
    session: Option<Digest>,
}

#[derive(Debug, Clone)]
enum CallerKind {
    /// The command line or an embedding program acting as the operator: may do everything,
    /// audited with no actor.
    System,
    /// Nobody has logged in (registration, login).
    Anonymous,
    /// A user, with the effective permissions computed when the caller was made.
    User {
        user: Box<User>,
        permissions: Permissions,
    },
}

impl Caller {
    /// The operator (command line, embedding program): all permissions, superuser powers.
    pub fn system() -> Caller {
        Caller {
            kind: CallerKind::System,
            ip: None,
            session: None,
        }
    }

    /// An unauthenticated caller.
    pub fn anonymous() -> Caller {
        Caller {
            kind: CallerKind::Anonymous,
            ip: None,
            session: None,
        }
    }

    /// A user holding `role` (which must be the user's role, if any).
    pub fn user(user: User, role: Option<&Role>) -> Caller {
        let permissions = effective_permissions(&user, role);
        Caller {
            kind: CallerKind::User {
                user: Box::new(user),
                permissions,
            },
            ip: None,
            session: None,
        }
    }

    /// The same caller seen from a client address (recorded in the audit log).
    pub fn with_ip(mut self, ip: impl Into<String>) -> Caller {
        self.ip = Some(ip.into());
        self
    }

    /// The login session this caller authenticated with (see [`Rehome::authenticate`]).
    pub fn session(&self) -> Option<Digest> {
        self.session
    }

    pub(crate) fn with_session(mut self, session: Digest) -> Caller {
        self.session = Some(session);
        self
    }

    /// The client address, if known.
    pub fn ip(&self) -> Option<&str> {
        self.ip.as_deref()
    }

    /// The user, for a user caller.
    pub fn as_user(&self) -> Option<&User> {
        match &self.kind {
            CallerKind::User { user, .. } => Some(user),
            _ => None,
        }
    }

    /// The user's id, for a user caller.
    pub fn user_id(&self) -> Option<UserId> {
        self.as_user().map(|u| u.id)
    }

    /// The user's name, for a user caller.
    pub fn username(&self) -> Option<&str> {
        self.as_user().map(|u| u.username.as_str())
    }

    /// Whether the caller has superuser powers (the operator, or an active superuser).
    pub fn is_superuser(&self) -> bool {
        match &self.kind {
            CallerKind::System => true,
            CallerKind::Anonymous => false,
            CallerKind::User { user, .. } => {
                user.is_active && user.is_superuser && !user.must_change_password
            }
        }
    }

    /// The caller's effective permissions (none while it must change its password).
    pub fn permissions(&self) -> Permissions {
        match &self.kind {
            CallerKind::System => Permissions::all(),
            CallerKind::Anonymous => Permissions::empty(),
            CallerKind::User { .. } if self.must_change_password() => Permissions::empty(),
            CallerKind::User { permissions, .. } => *permissions,
        }
    }

    /// Whether the caller is a user whose password a user manager reset
    /// ([`Rehome::reset_password`]) and who has not chosen a new one yet. Such a caller may
    /// only read itself, change its password and log out: it holds no permission, is no
    /// superuser, and every other service answers [`Error::PasswordChangeRequired`].
    pub fn must_change_password(&self) -> bool {
        self.as_user().is_some_and(|u| u.must_change_password)
    }

    /// `Ok` unless the caller [must change its password](Self::must_change_password) first.
    pub fn require_password_current(&self) -> Result<()> {
        if self.must_change_password() {
            Err(Error::PasswordChangeRequired)
        } else {
            Ok(())
        }
    }

    /// Whether the caller has `p`.
    pub fn has(&self, p: Permission) -> bool {
        self.permissions().contains(p)
    }

    /// Whether the caller is authenticated at all.
    pub fn is_authenticated(&self) -> bool {
        !matches!(self.kind, CallerKind::Anonymous)
    }

    /// `Ok` when the caller has `p`, else [`Error::PermissionDenied`]
    /// ([`Error::PasswordChangeRequired`] first, for a caller that must change its password).
    pub fn require(&self, p: Permission) -> Result<()> {
        self.require_password_current()?;
        if self.has(p) {
            Ok(())
        } else {
            Err(Error::PermissionDenied)
        }
    }

    /// `Ok` when the caller has any of `ps`.
    pub fn require_any(&self, ps: &[Permission]) -> Result<()> {
        self.require_password_current()?;
        if ps.iter().any(|p| self.has(*p)) {
            Ok(())
        } else {
            Err(Error::PermissionDenied)
        }
    }

    /// `Ok` for superuser powers.
    pub fn require_superuser(&self) -> Result<()> {
        self.require_password_current()?;
        if self.is_superuser() {
            Ok(())
        } else {
            Err(Error::PermissionDenied)
        }
    }
}

/// A user's effective permissions: none when inactive, all for a superuser, else the role's
/// permissions plus the direct grants.
pub fn effective_permissions(user: &User, role: Option<&Role>) -> Permissions {
    if !user.is_active {
        Permissions::empty()
    } else if user.is_superuser {
        Permissions::all()
    } else {
        user.permissions
            .union(role.map(|r| r.permissions).unwrap_or_default())
    }
}

/// One hasher per process with OWASP's minimum parameters, shared by every [`Rehome`] that
/// does not bring its own: its pool is as large as the machine has cores.
fn default_hasher() -> Arc<Hasher> {
    static HASHER: std::sync::OnceLock<Arc<Hasher>> = std::sync::OnceLock::new();
    HASHER
        .get_or_init(|| {
            Arc::new(
                Hasher::new(PasswordParams::OWASP_MINIMUM, None)
                    .unwrap_or_else(|e| panic!("the default password hasher cannot start: {e}")),
            )
        })
        .clone()
}

/// The entry point to core: a store plus the clock and randomness rules run against.
#[derive(Clone)]
pub struct Rehome {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Randomness>,
    hasher: Arc<Hasher>,
    auth: Arc<AuthConfig>,
}

impl std::fmt::Debug for Rehome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rehome").finish_non_exhaustive()
    }
}

impl Rehome {
    /// Core over `store`, with the system clock and the operating system's randomness.
    pub fn new(store: Arc<dyn Store>) -> Rehome {
        Rehome {
            store,
            clock: Arc::new(SystemClock),
            rng: Arc::new(OsRandomness),
            hasher: default_hasher(),
            auth: Arc::new(AuthConfig::default()),
        }
    }

    /// Replaces the password hasher (its parameters and pool size).
    pub fn with_hasher(mut self, hasher: Arc<Hasher>) -> Rehome {
        self.hasher = hasher;
        self
    }

    /// Replaces the login settings (lifetimes, throttling).
    pub fn with_auth_config(mut self, config: AuthConfig) -> Rehome {
        self.auth = Arc::new(config);
        self
    }

    /// The password hasher.
    pub fn hasher(&self) -> &Arc<Hasher> {
        &self.hasher
    }

    /// The login settings.
    pub fn auth_config(&self) -> &AuthConfig {
        &self.auth
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Rehome {
        self.clock = clock;
        self
    }

    /// Replaces the randomness (tests).
    pub fn with_randomness(mut self, rng: Arc<dyn Randomness>) -> Rehome {
        self.rng = rng;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn next_year(&self) -> i32 {
        self.now().year() + 1
    }

    pub(crate) fn random_bytes<const N: usize>(&self) -> [u8; N] {
        let mut b = [0u8; N];
        self.rng.fill(&mut b);
        b
    }

    /// The caller for a stored user id, with its role's permissions (for servers and
    /// bindings that authenticate a user elsewhere).
    pub async fn caller_for(&self, id: UserId) -> Result<Caller> {
        let user = match self.store.get(RecordKey::User(id)).await? {
            Some(Record::User(u)) => u,
            _ => return Err(Error::NotFound("User not found.".into())),
        };
        let role = self.role_named(user.role.as_deref()).await?;
        Ok(Caller::user(user, role.as_ref()))
    }

    pub(crate) async fn role_named(&self, name: Option<&str>) -> Result<Option<Role>> {
        let Some(name) = name else { return Ok(None) };
        match self
            .store
            .get_by_unique(&UniqueField::RoleName.key(name))
            .await?
        {
            Some(Record::Role(r)) => Ok(Some(r)),
            _ => Ok(None),
        }
    }
}
