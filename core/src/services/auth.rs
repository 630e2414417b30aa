//! Login, login sessions, throttling and multi-factor login (TOTP and recovery codes).
//!
//! All state lives in the store (credentials, sessions, MFA challenges, throttles), so several
//! server processes over one database agree at once: a logout on one is refused by the others,
//! failure counts and locks are shared. Every read-modify-write of that state is a versioned
//! update, retried on conflict, so concurrent attempts cannot both use one TOTP step or one
//! recovery code, or lose a failure.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use serde::Serialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::input::Parsed;
use super::tx::Tx;
use super::{Caller, Rehome};
use crate::auth::password::check_policy;
use crate::auth::token::{
    TOKEN_BYTES, encode_recovery_code, encode_temporary_password, encode_token,
    normalize_recovery_code,
};
use crate::auth::totp::{SECRET_BYTES, TotpKey, qr_svg};
use crate::error::{Error, FieldErrors, Result};
use crate::fold::fold;
use crate::ids::{Digest, UserId};
use crate::model::{Credentials, MfaChallenge, Session, Throttle, Timestamp, User};
use crate::query::{Field, ListQuery, Op, Value};
use crate::store::{Change, Record, RecordKey, StoreError};

/// Login settings. The defaults are the contract's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// How long a session lasts however much it is used (default 12 hours).
    pub session_lifetime: TimeDelta,
    /// A session unused this long ends (default 2 hours).
    pub idle_timeout: TimeDelta,
    /// A session's last-used time is written at most this often (default 1 minute).
    pub touch_interval: TimeDelta,
    /// How long the second login step may wait (default 5 minutes).
    pub mfa_token_lifetime: TimeDelta,
    /// Wrong codes one MFA token allows (default 5).
    pub mfa_attempts: u32,
    /// Failures per username that lock it (default 5)...
    pub user_failures: usize,
    /// ...within this window (default 15 minutes).
    pub failure_window: TimeDelta,
    /// The first lock (default 1 minute); each further lock doubles...
    pub first_lock: TimeDelta,
    /// ...up to this (default 15 minutes).
    pub max_lock: TimeDelta,
    /// Failures per client address within the window that refuse it (default 50).
    pub address_failures: usize,
    /// Issuer shown by authenticator apps (default "rehome").
    pub issuer: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_lifetime: TimeDelta::hours(12),
            idle_timeout: TimeDelta::hours(2),
            touch_interval: TimeDelta::minutes(1),
            mfa_token_lifetime: TimeDelta::minutes(5),
            mfa_attempts: 5,
            user_failures: 5,
            failure_window: TimeDelta::minutes(15),
            first_lock: TimeDelta::minutes(1),
            max_lock: TimeDelta::minutes(15),
            address_failures: 50,
            issuer: "rehome".to_owned(),
        }
    }
}

/// A new login session: the token is shown once and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionGrant {
    /// The user logged in.
    pub user_id: UserId,
    /// Their name.
    pub username: String,
    /// The bearer token.
    pub access_token: String,
    /// When it ends at the latest.
    pub expires_at: Timestamp,
}

/// What the password step of a login gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Logged in.
    Session(SessionGrant),
    /// MFA is on: send a code with this token to [`Rehome::verify_mfa`].
    MfaRequired {
        /// The MFA token (5 minutes, 5 attempts, used up by a success).
        mfa_token: String,
        /// The kinds of code accepted: `totp`, `recovery_code`.
        methods: Vec<&'static str>,
    },
}

/// A second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MfaCode {
    /// A 6-digit TOTP code.
    Totp(String),
    /// One of the user's recovery codes (used up).
    Recovery(String),
}

/// What TOTP setup shows (once: the secret is never shown again).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TotpSetup {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URI.
    pub otpauth_uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
}

/// How many recovery codes a set holds.
pub const RECOVERY_CODES: usize = 10;

/// The fields of a password change body ([`Rehome::change_password_json`]).
pub const PASSWORD_CHANGE_FIELDS: [&str; 4] =
    ["old_password", "new_password", "code", "recovery_code"];

/// How often a read-modify-write of auth state is retried when another writer won.
const RETRIES: usize = 8;

fn bad_login() -> Error {
    Error::AuthenticationFailed {
        detail: "Invalid username or password.".into(),
    }
}

fn bad_code() -> Error {
    Error::AuthenticationFailed {
        detail: "Invalid code.".into(),
    }
}

fn bad_mfa_token() -> Error {
    Error::AuthenticationFailed {
        detail: "Invalid or expired MFA token.".into(),
    }
}

fn is_conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict { .. })
}

fn secs_until(now: Timestamp, until: Timestamp) -> u64 {
    let ms = (until - now).num_milliseconds().max(0);
    u64::try_from(ms).unwrap_or(0).div_ceil(1000).max(1)
}

/// The throttle scopes of a login attempt.
fn user_scope(username: &str) -> Digest {
    Digest::of(&format!("user:{}", fold(username.trim())))
}

fn address_scope(ip: &str) -> Digest {
    Digest::of(&format!("ip:{ip}"))
}

/// Pushes an update of `old` with `change` applied (version +1, update time `now`).
fn update_credentials(
    tx: &mut Tx<'_>,
    old: &Credentials,
    now: Timestamp,
    change: impl FnOnce(&mut Credentials),
) {
    let mut new = old.clone();
    change(&mut new);
    new.version = old.version + 1;
    new.updated_at = now;
    tx.push(Change::Update {
        record: Record::Credentials(new),
        expected_version: old.version,
    });
}

/// Pushes an update of `old` with `change` applied (version +1, update time `now`).
fn update_user(tx: &mut Tx<'_>, old: &User, now: Timestamp, change: impl FnOnce(&mut User)) {
    let mut new = old.clone();
    change(&mut new);
    new.version = old.version + 1;
    new.updated_at = now;
    tx.push(Change::Update {
        record: Record::User(new),
        expected_version: old.version,
    });
}

impl Rehome {
    // ------------------------------------------------------------------ reading state

    async fn credentials(&self, user: UserId) -> Result<Option<Credentials>> {
        match self.store().get(RecordKey::Credentials(user)).await? {
            Some(Record::Credentials(c)) => Ok(Some(c)),
            _ => Ok(None),
        }
    }

    async fn throttle(&self, scope: Digest) -> Result<Option<Throttle>> {
        match self.store().get(RecordKey::Throttle(scope)).await? {
            Some(Record::Throttle(t)) => Ok(Some(t)),
            _ => Ok(None),
        }
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        match self.store().get(RecordKey::User(id)).await? {
            Some(Record::User(u)) => Ok(Some(u)),
            _ => Ok(None),
        }
    }

    // ------------------------------------------------------------------ throttling

    /// 429 when `username` is locked or the client address has too many recent failures.
    async fn check_throttles(&self, username: &str, ip: Option<&str>) -> Result<()> {
        let now = self.now();
        if let Some(t) = self.throttle(user_scope(username)).await?
            && let Some(until) = t.locked_until
            && until > now
        {
            return Err(Error::Throttled {
                retry_after_secs: secs_until(now, until),
            });
        }
        if let Some(ip) = ip
            && let Some(t) = self.throttle(address_scope(ip)).await?
        {
            let cfg = self.auth_config();
            let recent: Vec<&Timestamp> = t
                .failures
                .iter()
                .filter(|f| **f > now - cfg.failure_window)
                .collect();
            if recent.len() >= cfg.address_failures {
                let oldest = recent.first().map_or(now, |f| **f);
                return Err(Error::Throttled {
                    retry_after_secs: secs_until(now, oldest + cfg.failure_window),
                });
            }
        }
        Ok(())
    }

    /// Records a failure for `scope`; `limit` failures in the window lock it when `locks` is
    /// true (usernames), or are only counted (addresses). Returns the lock's end if this
    /// failure locked it.
    async fn record_failure(
        &self,
        scope: Digest,
        limit: usize,
        locks: bool,
    ) -> Result<Option<Timestamp>> {
        let cfg = self.auth_config().clone();
        for _ in 0..RETRIES {
            let now = self.now();
            let current = self.throttle(scope).await?;
            let mut t = current.clone().unwrap_or(Throttle {
                digest: scope,
                failures: Vec::new(),
                locked_until: None,
                locks: 0,
                updated_at: now,
                version: 0,
            });
            t.failures.retain(|f| *f > now - cfg.failure_window);
            t.failures.push(now);
            let mut locked = None;
            if locks && t.failures.len() >= limit {
                t.locks = t.locks.saturating_add(1);
                let factor = 1i32 << (t.locks - 1).min(16);
                let duration = (cfg.first_lock * factor).min(cfg.max_lock);
                t.locked_until = Some(now + duration);
                t.failures.clear();
                locked = t.locked_until;
            }
            // Keep the record bounded whatever the limit.
            let keep = limit.max(1);
            if t.failures.len() > keep {
                let drop = t.failures.len() - keep;
                t.failures.drain(..drop);
            }
            t.updated_at = now;
            let mut tx = Tx::new(&**self.store());
            match current {
                Some(c) => {
                    t.version = c.version + 1;
                    tx.push(Change::Update {
                        record: Record::Throttle(t),
                        expected_version: c.version,
                    });
                }
                None => {
                    t.version = 1;
                    tx.push(Change::Insert(Record::Throttle(t)));
                }
            }
            match tx.commit().await {
                Ok(()) => return Ok(locked),
                Err(e) if is_conflict(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::conflict(
            "Too much contention recording a failed login; retry.",
        ))
    }

    /// A failed password or code for `username` from `ip`: counted for both scopes, audited;
    /// the lock it causes (if any) is audited too.
    async fn login_failed(
        &self,
        username: &str,
        user: Option<&User>,
        ip: Option<&str>,
        reason: &str,
    ) -> Result<()> {
        let limit = self.auth_config().user_failures;
        let locked = self
            .record_failure(user_scope(username), limit, true)
            .await?;
        if let Some(ip) = ip {
            let limit = self.auth_config().address_failures;
            self.record_failure(address_scope(ip), limit, false).await?;
        }
        let caller = match ip {
            Some(ip) => Caller::anonymous().with_ip(ip),
            None => Caller::anonymous(),
        };
        let object_id = user.map(|u| u.id.to_string()).unwrap_or_default();
        let mut tx = Tx::new(&**self.store());
        let now = self.now();
        tx.audit(
            &caller,
            now,
            "auth.login_failed",
            "user",
            object_id.clone(),
            json!({"username": username, "reason": reason}),
        )
        .await?;
        if let Some(until) = locked {
            tx.audit(
                &caller,
                now,
                "auth.lockout",
                "user",
                object_id,
                json!({"username": username, "locked_until": until}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A success for `username`: its failure count and lock growth start over.
    async fn reset_user_throttle(&self, tx: &mut Tx<'_>, username: &str) -> Result<()> {
        if let Some(t) = self.throttle(user_scope(username)).await?
            && (!t.failures.is_empty() || t.locks > 0 || t.locked_until.is_some())
        {
            tx.push(Change::Delete {
                key: RecordKey::Throttle(t.digest),
                expected_version: t.version,
            });
        }
        Ok(())
    }

    // ------------------------------------------------------------------ login

    /// The password step. Unknown usernames and wrong passwords give the same error after the
    /// same hashing work; a locked username is refused (429) even with the right password.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Result<LoginOutcome> {
        self.check_throttles(username, ip).await?;
        let user = self.find_user(username).await?;
        let credentials = match &user {
            Some(u) => self.credentials(u.id).await?,
            None => None,
        };
        let hash = credentials.as_ref().and_then(|c| c.password_hash.clone());
        let verified = match &hash {
            Some(h) => Some(
                self.hasher()
                    .verify(password, h)
                    .await
                    .map_err(|e| Error::internal("password hashing", e))?,
            ),
            None => {
                self.hasher()
                    .verify_dummy(password, self.random_bytes())
                    .await
                    .map_err(|e| Error::internal("password hashing", e))?;
                None
            }
        };
        let (Some(user), Some(verified)) = (user, verified) else {
            self.login_failed(username, None, ip, "unknown user or no password")
                .await?;
            return Err(bad_login());
        };
        if !verified.ok {
            self.login_failed(username, Some(&user), ip, "wrong password")
                .await?;
            return Err(bad_login());
        }
        if !user.is_active {
            // The right password for an inactive account: same answer as a wrong one.
            self.login_failed(username, Some(&user), ip, "inactive user")
                .await?;
            return Err(bad_login());
        }
        let mut tx = Tx::new(&**self.store());
        if verified.needs_rehash
            && let Some(c) = &credentials
        {
            let rehashed = self
                .hasher()
                .hash(password, self.random_bytes())
                .await
                .map_err(|e| Error::internal("password hashing", e))?;
            update_credentials(&mut tx, c, self.now(), |c| {
                c.password_hash = Some(rehashed);
            });
        }
        if user.mfa_enabled {
            let token = encode_token(&self.random_bytes::<TOKEN_BYTES>());
            let now = self.now();
            tx.push(Change::Insert(Record::MfaChallenge(MfaChallenge {
                digest: Digest::of(&token),
                user: user.id,
                created_at: now,
                expires_at: now + self.auth_config().mfa_token_lifetime,
                attempts_left: self.auth_config().mfa_attempts,
                ip: ip.map(str::to_owned),
                version: 1,
            })));
            // A concurrent rehash by another login is harmless: retry without ours.
            if let Err(e) = tx.commit().await {
                if !is_conflict(&e) {
                    return Err(e.into());
                }
                let mut tx = Tx::new(&**self.store());
                tx.push(Change::Insert(Record::MfaChallenge(MfaChallenge {
                    digest: Digest::of(&token),
                    user: user.id,
                    created_at: now,
                    expires_at: now + self.auth_config().mfa_token_lifetime,
                    attempts_left: self.auth_config().mfa_attempts,
                    ip: ip.map(str::to_owned),
                    version: 1,
                })));
                tx.commit().await?;
            }
            return Ok(LoginOutcome::MfaRequired {
                mfa_token: token,
                methods: vec!["totp", "recovery_code"],
            });
        }
        let grant = self.start_session(tx, &user, ip, "password").await?;
        Ok(LoginOutcome::Session(grant))
    }

    /// Creates a session in `tx` (with whatever else `tx` holds), sets `last_login`, resets the
    /// username's throttle, audits `auth.login`, and commits.
    async fn start_session(
        &self,
        mut tx: Tx<'_>,
        user: &User,
        ip: Option<&str>,
        method: &str,
    ) -> Result<SessionGrant> {
        let token = encode_token(&self.random_bytes::<TOKEN_BYTES>());
        let now = self.now();
        let expires_at = now + self.auth_config().session_lifetime;
        tx.push(Change::Insert(Record::Session(Session {
            digest: Digest::of(&token),
            user: user.id,
            created_at: now,
            expires_at,
            last_used_at: now,
            ip: ip.map(str::to_owned),
            version: 1,
        })));
        let mut caller = Caller::user(user.clone(), None);
        if let Some(ip) = ip {
            caller = caller.with_ip(ip);
        }
        tx.audit(
            &caller,
            now,
            "auth.login",
            "user",
            user.id.to_string(),
            json!({"method": method}),
        )
        .await?;
        tx.commit().await?;
        // Bookkeeping that concurrent logins of one user would otherwise fight over (the
        // user's version, the throttle record): done after the session exists, each retried
        // on its own, so parallel logins all succeed.
        self.after_login(user.id, &user.username, now).await?;
        Ok(SessionGrant {
            user_id: user.id,
            username: user.username.clone(),
            access_token: token,
            expires_at,
        })
    }

    /// Sets `last_login` (unless a later login already did) and resets the username's
    /// throttle.
    async fn after_login(&self, id: UserId, username: &str, now: Timestamp) -> Result<()> {
        for _ in 0..RETRIES {
            let mut tx = Tx::new(&**self.store());
            self.reset_user_throttle(&mut tx, username).await?;
            if let Some(u) = self.user_by_id(id).await?
                && u.last_login.is_none_or(|t| t < now)
            {
                update_user(&mut tx, &u, now, |u| u.last_login = Some(now));
            }
            match tx.commit().await {
                Ok(()) => return Ok(()),
                Err(e) if is_conflict(&e) || matches!(e, StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The second step of a login with MFA on: a TOTP code or a recovery code for the MFA
    /// token the password step gave. Wrong codes use up the token's attempts and count as
    /// failed logins for the username.
    pub async fn verify_mfa(
        &self,
        mfa_token: &str,
        code: MfaCode,
        ip: Option<&str>,
    ) -> Result<SessionGrant> {
        let digest = Digest::of(mfa_token.trim());
        let challenge = match self.store().get(RecordKey::MfaChallenge(digest)).await? {
            Some(Record::MfaChallenge(c)) => c,
            _ => return Err(bad_mfa_token()),
        };
        let now = self.now();
        if challenge.expires_at <= now {
            self.drop_challenge(&challenge).await?;
            return Err(bad_mfa_token());
        }
        let user = self
            .user_by_id(challenge.user)
            .await?
            .filter(|u| u.is_active)
            .ok_or_else(bad_mfa_token)?;
        self.check_throttles(&user.username, ip).await?;
        match self.check_second_factor(&user, &code).await? {
            Some(mut tx) => {
                tx.push(Change::Delete {
                    key: RecordKey::MfaChallenge(challenge.digest),
                    expected_version: challenge.version,
                });
                let method = match code {
                    MfaCode::Totp(_) => "totp",
                    MfaCode::Recovery(_) => "recovery_code",
                };
                // A concurrent success on the same token or code makes this commit conflict
                // (or find the token gone): only one session comes out of one token.
                self.start_session(tx, &user, ip, method)
                    .await
                    .map_err(|e| match e {
                        Error::Conflict { .. } | Error::NotFound(_) => bad_mfa_token(),
                        other => other,
                    })
            }
            None => {
                let mut c = challenge.clone();
                c.attempts_left = c.attempts_left.saturating_sub(1);
                let mut tx = Tx::new(&**self.store());
                if c.attempts_left == 0 {
                    tx.push(Change::Delete {
                        key: RecordKey::MfaChallenge(c.digest),
                        expected_version: challenge.version,
                    });
                } else {
                    c.version += 1;
                    tx.push(Change::Update {
                        record: Record::MfaChallenge(c),
                        expected_version: challenge.version,
                    });
                }
                match tx.commit().await {
                    Ok(()) => {}
                    // Someone else used or spent the token meanwhile.
                    Err(e) if is_conflict(&e) || matches!(e, StoreError::NotFound { .. }) => {
                        return Err(bad_mfa_token());
                    }
                    Err(e) => return Err(e.into()),
                }
                self.login_failed(&user.username, Some(&user), ip, "wrong MFA code")
                    .await?;
                Err(bad_code())
            }
        }
    }

    async fn drop_challenge(&self, c: &MfaChallenge) -> Result<()> {
        let mut tx = Tx::new(&**self.store());
        tx.push(Change::Delete {
            key: RecordKey::MfaChallenge(c.digest),
            expected_version: c.version,
        });
        match tx.commit().await {
            Err(e) if !is_conflict(&e) && !matches!(e, StoreError::NotFound { .. }) => {
                Err(e.into())
            }
            _ => Ok(()),
        }
    }

    /// Checks a second factor. On success, a unit of work that records its use (the TOTP step,
    /// or the recovery code removed, audited) for the caller to commit with its own changes.
    async fn check_second_factor(&self, user: &User, code: &MfaCode) -> Result<Option<Tx<'_>>> {
        let Some(creds) = self.credentials(user.id).await? else {
            return Ok(None);
        };
        if !creds.totp_enabled {
            return Ok(None);
        }
        let now = self.now();
        let mut updated = creds.clone();
        match code {
            MfaCode::Totp(code) => {
                let Some(secret) = &creds.totp_secret else {
                    return Ok(None);
                };
                let key = TotpKey::from_base32(secret, &self.auth_config().issuer, &user.username)
                    .map_err(|e| Error::internal("TOTP key", e))?;
                let Some(step) = key.check(code, now, creds.totp_last_step) else {
                    return Ok(None);
                };
                updated.totp_last_step = Some(step);
            }
            MfaCode::Recovery(code) => {
                let wanted = Digest::of(&normalize_recovery_code(code));
                // Compare against every code (no early exit).
                let mut hit = None;
                for (i, d) in creds.recovery_codes.iter().enumerate() {
                    let equal: bool = d.0.ct_eq(&wanted.0).into();
                    if equal && hit.is_none() {
                        hit = Some(i);
                    }
                }
                let Some(i) = hit else { return Ok(None) };
                updated.recovery_codes.remove(i);
            }
        }
        let remaining = updated.recovery_codes.len();
        let mut tx = Tx::new(&**self.store());
        update_credentials(&mut tx, &creds, now, |c| *c = updated);
        if matches!(code, MfaCode::Recovery(_)) {
            tx.audit(
                &Caller::user(user.clone(), None),
                now,
                "auth.recovery_code_used",
                "user",
                user.id.to_string(),
                json!({"remaining": remaining}),
            )
            .await?;
        }
        Ok(Some(tx))
    }

    // ------------------------------------------------------------------ sessions

    /// The caller a bearer token stands for: the session must exist, be neither expired nor
    /// idle too long, and belong to an active user. Reads one session record (and the user and
    /// role); writes the last-used time at most once per touch interval.
    pub async fn authenticate(&self, token: &str, ip: Option<&str>) -> Result<Caller> {
        let digest = Digest::of(token.trim());
        let session = match self.store().get(RecordKey::Session(digest)).await? {
            Some(Record::Session(s)) => s,
            _ => return Err(Error::InvalidToken),
        };
        let now = self.now();
        let cfg = self.auth_config();
        if session.expires_at <= now || now - session.last_used_at > cfg.idle_timeout {
            return Err(Error::InvalidToken);
        }
        let user = self
            .user_by_id(session.user)
            .await?
            .filter(|u| u.is_active)
            .ok_or(Error::InvalidToken)?;
        if now - session.last_used_at >= cfg.touch_interval {
            let mut touched = session.clone();
            touched.last_used_at = now;
            touched.version += 1;
            let mut tx = Tx::new(&**self.store());
            tx.push(Change::Update {
                record: Record::Session(touched),
                expected_version: session.version,
            });
            match tx.commit().await {
                // Another request touched it first, or it was just revoked: the next request
                // will tell.
                Ok(()) | Err(StoreError::Conflict { .. } | StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let role = self.role_named(user.role.as_deref()).await?;
        let mut caller = Caller::user(user, role.as_ref()).with_session(digest);
        if let Some(ip) = ip {
            caller = caller.with_ip(ip);
        }
        Ok(caller)
    }

    /// Ends the caller's session everywhere at once.
    pub async fn logout(&self, caller: &Caller) -> Result<()> {
        let (Some(user), Some(digest)) = (caller.as_user(), caller.session()) else {
            return Err(Error::InvalidToken);
        };
        let mut tx = Tx::new(&**self.store());
        if let Some(Record::Session(s)) = self.store().get(RecordKey::Session(digest)).await? {
            tx.push(Change::Delete {
                key: RecordKey::Session(digest),
                expected_version: s.version,
            });
        }
        tx.audit(
            caller,
            self.now(),
            "auth.logout",
            "user",
            user.id.to_string(),
            json!({}),
        )
        .await?;
        match tx.commit().await {
            Ok(()) | Err(StoreError::NotFound { .. }) => Ok(()),
            Err(e) if is_conflict(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Ends every session of the caller's user.
    pub async fn logout_all(&self, caller: &Caller) -> Result<()> {
        let Some(user) = caller.as_user() else {
            return Err(Error::InvalidToken);
        };
        for _ in 0..RETRIES {
            let mut tx = Tx::new(&**self.store());
            let n = self.revoke_sessions(&mut tx, user.id, None).await?;
            tx.audit(
                caller,
                self.now(),
                "auth.logout_all",
                "user",
                user.id.to_string(),
                json!({"sessions": n}),
            )
            .await?;
            match tx.commit().await {
                Ok(()) => return Ok(()),
                Err(e) if is_conflict(&e) || matches!(e, StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::conflict("Sessions kept changing; retry."))
    }

    /// Adds deletes of `user`'s sessions (all, or all but `keep`) and MFA challenges to `tx`;
    /// answers how many sessions.
    pub(crate) async fn revoke_sessions(
        &self,
        tx: &mut Tx<'_>,
        user: UserId,
        keep: Option<Digest>,
    ) -> Result<usize> {
        let sessions = self
            .store()
            .list(
                &ListQuery::all(crate::query::Collection::Sessions)
                    .filter(Field::SessionUser, Op::Eq(Value::Int(user.0))),
            )
            .await?
            .items;
        let mut n = 0;
        for r in sessions {
            if let Record::Session(s) = r
                && Some(s.digest) != keep
            {
                tx.push(Change::Delete {
                    key: RecordKey::Session(s.digest),
                    expected_version: s.version,
                });
                n += 1;
            }
        }
        let challenges = self
            .store()
            .list(
                &ListQuery::all(crate::query::Collection::MfaChallenges)
                    .filter(Field::MfaChallengeUser, Op::Eq(Value::Int(user.0))),
            )
            .await?
            .items;
        for r in challenges {
            if let Record::MfaChallenge(c) = r {
                tx.push(Change::Delete {
                    key: RecordKey::MfaChallenge(c.digest),
                    expected_version: c.version,
                });
            }
        }
        Ok(n)
    }

    /// Deletes expired sessions, MFA challenges and throttles nobody has touched for a day;
    /// answers how many records went. Safe to run from any process at any time.
    pub async fn purge_expired(&self) -> Result<usize> {
        let now = self.now();
        let mut n = 0;
        let queries = [
            ListQuery::all(crate::query::Collection::Sessions)
                .filter(Field::SessionExpiresAt, Op::Lte(Value::Timestamp(now))),
            ListQuery::all(crate::query::Collection::MfaChallenges)
                .filter(Field::MfaChallengeExpiresAt, Op::Lte(Value::Timestamp(now))),
            ListQuery::all(crate::query::Collection::Throttles).filter(
                Field::ThrottleUpdatedAt,
                Op::Lte(Value::Timestamp(now - TimeDelta::days(1))),
            ),
        ];
        for q in queries {
            for r in self.store().list(&q.page(0, 1000)).await?.items {
                let mut tx = Tx::new(&**self.store());
                tx.push(Change::Delete {
                    key: r.key(),
                    expected_version: r.version(),
                });
                match tx.commit().await {
                    Ok(()) => n += 1,
                    Err(e) if is_conflict(&e) || matches!(e, StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(n)
    }

    // ------------------------------------------------------------------ passwords

    /// Sets a user's password as the operator (command line) or a user manager holding every
    /// permission that user holds, without the old one. Policy applies; the user's sessions
    /// are revoked.
    pub async fn set_password(&self, caller: &Caller, id: UserId, password: &str) -> Result<()> {
        caller.require_password_current()?;
        if caller.user_id() != Some(id) {
            caller.require(crate::permission::Permission::ManageUsers)?;
        }
        let user = self
            .user_by_id(id)
            .await?
            .ok_or_else(|| Error::NotFound("Not found.".into()))?;
        if user.is_superuser && !caller.is_superuser() {
            return Err(Error::PermissionDenied);
        }
        self.check_holds_all_of(caller, &user).await?;
        check_policy(password, &user.username, "password").into_result()?;
        let hash = self
            .hasher()
            .hash(password, self.random_bytes())
            .await
            .map_err(|e| Error::internal("password hashing", e))?;
        for _ in 0..RETRIES {
            let mut tx = Tx::new(&**self.store());
            self.put_password_hash(&mut tx, id, hash.clone()).await?;
            self.revoke_sessions(&mut tx, id, caller.session()).await?;
            tx.audit(
                caller,
                self.now(),
                "auth.password_changed",
                "user",
                id.to_string(),
                json!({}),
            )
            .await?;
            match tx.commit().await {
                Ok(()) => return Ok(()),
                Err(e) if is_conflict(&e) || matches!(e, StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::conflict("The account kept changing; retry."))
    }

    /// The user a coordinator resets (see [`Rehome::reset_password`]): needs `manageUsers`,
    /// another user than the caller, and every permission that user holds (ADR 0011).
    async fn reset_target(&self, caller: &Caller, id: UserId, own: &str) -> Result<User> {
        caller.require(crate::permission::Permission::ManageUsers)?;
        if caller.user_id() == Some(id) {
            return Err(Error::invalid("id", own));
        }
        let user = self
            .user_by_id(id)
            .await?
            .ok_or_else(|| Error::NotFound("Not found.".into()))?;
        self.check_holds_all_of(caller, &user).await?;
        Ok(user)
    }

    /// A coordinator's reset of another user's password, done in person (organisations have
    /// no mail server): a temporary password made by core ([`encode_temporary_password`]: 16
    /// characters, 80 bits, from the injected randomness) replaces the password and is
    /// answered once; the user must choose a new one before doing anything else
    /// ([`User::must_change_password`]); all its sessions end; audited as
    /// `auth.password_reset`. Needs `manageUsers` and every permission the user holds (ADR
    /// 0011; only a superuser resets a superuser); not for oneself (400: change it instead).
    /// The temporary password skips the policy: it is random, and used once.
    pub async fn reset_password(&self, caller: &Caller, id: UserId) -> Result<String> {
        self.reset_target(
            caller,
            id,
            "You cannot reset your own password; change it instead.",
        )
        .await?;
        let temporary = encode_temporary_password(&self.random_bytes());
        let hash = self
            .hasher()
            .hash(&temporary, self.random_bytes())
            .await
            .map_err(|e| Error::internal("password hashing", e))?;
        for _ in 0..RETRIES {
            // Read again on each try: another writer may have changed the user meanwhile.
            let user = self
                .user_by_id(id)
                .await?
                .ok_or_else(|| Error::NotFound("Not found.".into()))?;
            let now = self.now();
            let mut tx = Tx::new(&**self.store());
            self.put_password_hash(&mut tx, id, hash.clone()).await?;
            if !user.must_change_password {
                update_user(&mut tx, &user, now, |u| u.must_change_password = true);
            }
            let sessions = self.revoke_sessions(&mut tx, id, None).await?;
            tx.audit(
                caller,
                now,
                "auth.password_reset",
                "user",
                id.to_string(),
                json!({
                    "must_change_password": [user.must_change_password, true],
                    "sessions": sessions,
                }),
            )
            .await?;
            match tx.commit().await {
                Ok(()) => return Ok(temporary),
                Err(e) if is_conflict(&e) || matches!(e, StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::conflict("The account kept changing; retry."))
    }

    /// A coordinator's reset of another user's two-step login (a lost phone): TOTP and the
    /// recovery codes are removed, so the user signs in with its password alone and may turn
    /// two-step login on again; all its sessions end; audited as `auth.mfa_reset`. The same
    /// permission rule as [`Rehome::reset_password`]; 409 when two-step login is not on.
    pub async fn reset_two_step(&self, caller: &Caller, id: UserId) -> Result<()> {
        self.reset_target(
            caller,
            id,
            "You cannot reset your own two-step login; turn it off instead.",
        )
        .await?;
        for _ in 0..RETRIES {
            let user = self
                .user_by_id(id)
                .await?
                .ok_or_else(|| Error::NotFound("Not found.".into()))?;
            let creds = self.credentials(id).await?;
            let secret_set = creds.as_ref().is_some_and(|c| c.totp_secret.is_some());
            if !user.mfa_enabled && !secret_set {
                return Err(Error::conflict("Two-step login is not on for this user."));
            }
            let now = self.now();
            let mut tx = Tx::new(&**self.store());
            if let Some(c) = &creds {
                update_credentials(&mut tx, c, now, |c| {
                    c.totp_enabled = false;
                    c.totp_secret = None;
                    c.totp_last_step = None;
                    c.recovery_codes.clear();
                });
            }
            if user.mfa_enabled {
                update_user(&mut tx, &user, now, |u| u.mfa_enabled = false);
            }
            let sessions = self.revoke_sessions(&mut tx, id, None).await?;
            tx.audit(
                caller,
                now,
                "auth.mfa_reset",
                "user",
                id.to_string(),
                json!({"mfa_enabled": [user.mfa_enabled, false], "sessions": sessions}),
            )
            .await?;
            match tx.commit().await {
                Ok(()) => return Ok(()),
                Err(e) if is_conflict(&e) || matches!(e, StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::conflict("The account kept changing; retry."))
    }

    /// Adds the write of a new password hash to `tx` (creating the credentials record when
    /// the user has none yet).
    pub(crate) async fn put_password_hash(
        &self,
        tx: &mut Tx<'_>,
        id: UserId,
        hash: String,
    ) -> Result<()> {
        let now = self.now();
        match tx.get(RecordKey::Credentials(id)).await? {
            Some(Record::Credentials(c)) => {
                update_credentials(tx, &c, now, |c| {
                    c.password_hash = Some(hash);
                });
            }
            _ => tx.push(Change::Insert(Record::Credentials(Credentials {
                user: id,
                password_hash: Some(hash),
                totp_secret: None,
                totp_enabled: false,
                totp_last_step: None,
                recovery_codes: Vec::new(),
                updated_at: now,
                version: 1,
            }))),
        }
        Ok(())
    }

    /// Hashes a password taken from a create-user body, after the policy check.
    pub(crate) async fn hash_new_password(&self, password: &str, username: &str) -> Result<String> {
        check_policy(password, username, "password").into_result()?;
        self.hasher()
            .hash(password, self.random_bytes())
            .await
            .map_err(|e| Error::internal("password hashing", e))
    }

    /// Re-authentication for sensitive changes: the password, and with MFA on also a code
    /// (TOTP or, where `allow_recovery`, a recovery code). Failures count like failed logins.
    /// On success, the unit of work recording the code's use (if any).
    async fn reauthenticate(
        &self,
        caller: &Caller,
        password: Option<&str>,
        code: Option<&MfaCode>,
        password_field: &str,
    ) -> Result<(User, Option<Tx<'_>>)> {
        let user = caller.as_user().cloned().ok_or(Error::InvalidToken)?;
        let user = self.user_by_id(user.id).await?.ok_or(Error::InvalidToken)?;
        self.check_throttles(&user.username, caller.ip()).await?;
        let mut missing = FieldErrors::new();
        if password.is_none() {
            missing.add(password_field, "This field is required.");
        }
        if user.mfa_enabled && code.is_none() {
            missing.add("code", "This field is required.");
        }
        missing.into_result()?;
        let creds = self.credentials(user.id).await?;
        let hash = creds.as_ref().and_then(|c| c.password_hash.clone());
        let ok = match hash {
            Some(h) => {
                self.hasher()
                    .verify(password.unwrap_or_default(), &h)
                    .await
                    .map_err(|e| Error::internal("password hashing", e))?
                    .ok
            }
            None => false,
        };
        if !ok {
            self.login_failed(
                &user.username,
                Some(&user),
                caller.ip(),
                "wrong password on re-authentication",
            )
            .await?;
            return Err(Error::Validation(FieldErrors::one(
                password_field,
                "The password is not correct.",
            )));
        }
        if !user.mfa_enabled {
            return Ok((user, None));
        }
        let code = code.ok_or_else(|| Error::invalid("code", "This field is required."))?;
        match self.check_second_factor(&user, code).await? {
            Some(tx) => Ok((user, Some(tx))),
            None => {
                self.login_failed(
                    &user.username,
                    Some(&user),
                    caller.ip(),
                    "wrong MFA code on re-authentication",
                )
                .await?;
                Err(Error::invalid("code", "Invalid code."))
            }
        }
    }

    /// [`Rehome::change_password`] from a JSON body (`/users/password/`): `old_password`,
    /// `new_password`, and with MFA on `code` (TOTP) or `recovery_code`, all strings. Any
    /// other field is refused (400 naming it), like every write's unknown fields.
    pub async fn change_password_json(
        &self,
        caller: &Caller,
        body: &serde_json::Value,
    ) -> Result<()> {
        let mut errors = FieldErrors::new();
        let obj = super::input::closed_object(body, &PASSWORD_CHANGE_FIELDS, &mut errors)
            .map_err(Error::Validation)?;
        let mut text = |name: &str| match obj.get(name) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(_) => {
                errors.add(name, "Not a valid string.");
                None
            }
        };
        let old = text("old_password");
        let new = text("new_password");
        let code = text("code").map(MfaCode::Totp);
        let recovery = text("recovery_code").map(MfaCode::Recovery);
        errors.into_result()?;
        self.change_password(caller, old.as_deref(), new.as_deref(), code.or(recovery))
            .await
    }

    /// Changes the caller's own password: the old one (plus a code with MFA on) is needed; the
    /// caller's other sessions are revoked.
    pub async fn change_password(
        &self,
        caller: &Caller,
        old_password: Option<&str>,
        new_password: Option<&str>,
        code: Option<MfaCode>,
    ) -> Result<()> {
        let user = caller.as_user().ok_or(Error::InvalidToken)?;
        let Some(new_password) = new_password else {
            return Err(Error::invalid("new_password", "This field is required."));
        };
        let policy = check_policy(new_password, &user.username, "new_password");
        policy.into_result()?;
        if user.must_change_password && old_password == Some(new_password) {
            return Err(Error::invalid(
                "new_password",
                "Choose a new password of your own, not the temporary one.",
            ));
        }
        let (user, code_tx) = self
            .reauthenticate(caller, old_password, code.as_ref(), "old_password")
            .await?;
        let hash = self
            .hasher()
            .hash(new_password, self.random_bytes())
            .await
            .map_err(|e| Error::internal("password hashing", e))?;
        let mut tx = code_tx.unwrap_or_else(|| Tx::new(&**self.store()));
        self.put_password_hash(&mut tx, user.id, hash).await?;
        self.revoke_sessions(&mut tx, user.id, caller.session())
            .await?;
        let mut changes = json!({});
        if user.must_change_password {
            update_user(&mut tx, &user, self.now(), |u| {
                u.must_change_password = false
            });
            changes = json!({"must_change_password": [true, false]});
        }
        tx.audit(
            caller,
            self.now(),
            "auth.password_changed",
            "user",
            user.id.to_string(),
            changes,
        )
        .await?;
        Ok(tx.commit().await?)
    }

    // ------------------------------------------------------------------ TOTP

    /// Starts TOTP setup: a new secret (replacing an unconfirmed one), shown once. 409 when
    /// MFA is already on.
    pub async fn totp_setup(&self, caller: &Caller) -> Result<TotpSetup> {
        caller.require_password_current()?;
        let user = caller.as_user().ok_or(Error::InvalidToken)?;
        let secret: [u8; SECRET_BYTES] = self.random_bytes();
        let key = TotpKey::new(&secret, &self.auth_config().issuer, &user.username)
            .map_err(|e| Error::internal("TOTP key", e))?;
        let uri = key.uri().map_err(|e| Error::internal("TOTP key", e))?;
        let svg = qr_svg(&uri).map_err(|e| Error::internal("QR code", e))?;
        let now = self.now();
        let mut tx = Tx::new(&**self.store());
        match self.credentials(user.id).await? {
            Some(c) if c.totp_enabled => {
                return Err(Error::conflict("Multi-factor login is already on."));
            }
            Some(c) => {
                update_credentials(&mut tx, &c, now, |c| {
                    c.totp_secret = Some(key.secret_base32());
                    c.totp_last_step = None;
                });
            }
            None => tx.push(Change::Insert(Record::Credentials(Credentials {
                user: user.id,
                password_hash: None,
                totp_secret: Some(key.secret_base32()),
                totp_enabled: false,
                totp_last_step: None,
                recovery_codes: Vec::new(),
                updated_at: now,
                version: 1,
            }))),
        }
        tx.audit(
            caller,
            now,
            "auth.mfa_setup_started",
            "user",
            user.id.to_string(),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(TotpSetup {
            secret: key.secret_base32(),
            otpauth_uri: uri,
            qr_svg: svg,
        })
    }

    /// Confirms TOTP setup with a current code: MFA is on from now, and the 10 recovery codes
    /// are returned (shown once).
    pub async fn totp_confirm(&self, caller: &Caller, code: &str) -> Result<Vec<String>> {
        caller.require_password_current()?;
        let user = caller.as_user().ok_or(Error::InvalidToken)?;
        self.check_throttles(&user.username, caller.ip()).await?;
        let user = self.user_by_id(user.id).await?.ok_or(Error::InvalidToken)?;
        let creds = self.credentials(user.id).await?;
        let Some(creds) = creds.filter(|c| c.totp_secret.is_some()) else {
            return Err(Error::invalid("code", "Start the setup first."));
        };
        if creds.totp_enabled {
            return Err(Error::conflict("Multi-factor login is already on."));
        }
        let secret = creds.totp_secret.clone().unwrap_or_default();
        let key = TotpKey::from_base32(&secret, &self.auth_config().issuer, &user.username)
            .map_err(|e| Error::internal("TOTP key", e))?;
        let now = self.now();
        let Some(step) = key.check(code, now, creds.totp_last_step) else {
            self.login_failed(
                &user.username,
                Some(&user),
                caller.ip(),
                "wrong code confirming MFA",
            )
            .await?;
            return Err(Error::invalid("code", "Invalid code."));
        };
        let (codes, digests) = self.new_recovery_codes();
        let mut tx = Tx::new(&**self.store());
        update_credentials(&mut tx, &creds, now, |c| {
            c.totp_enabled = true;
            c.totp_last_step = Some(step);
            c.recovery_codes = digests;
        });
        update_user(&mut tx, &user, now, |u| u.mfa_enabled = true);
        tx.audit(
            caller,
            now,
            "auth.mfa_enabled",
            "user",
            user.id.to_string(),
            json!({"mfa_enabled": [false, true]}),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Turns MFA off: needs the password and a code (TOTP or recovery).
    pub async fn totp_disable(
        &self,
        caller: &Caller,
        password: Option<&str>,
        code: Option<MfaCode>,
    ) -> Result<()> {
        caller.require_password_current()?;
        let (user, code_tx) = self
            .reauthenticate(caller, password, code.as_ref(), "password")
            .await?;
        if !user.mfa_enabled {
            return Err(Error::conflict("Multi-factor login is not on."));
        }
        // The code's unit of work updated the credentials; build on its pending state.
        let mut tx = code_tx.unwrap_or_else(|| Tx::new(&**self.store()));
        let now = self.now();
        if let Some(Record::Credentials(c)) = tx.get(RecordKey::Credentials(user.id)).await? {
            update_credentials(&mut tx, &c, now, |c| {
                c.totp_enabled = false;
                c.totp_secret = None;
                c.recovery_codes.clear();
            });
        }
        update_user(&mut tx, &user, now, |u| {
            u.mfa_enabled = false;
        });
        tx.audit(
            caller,
            now,
            "auth.mfa_disabled",
            "user",
            user.id.to_string(),
            json!({"mfa_enabled": [true, false]}),
        )
        .await?;
        Ok(tx.commit().await?)
    }

    /// Replaces the recovery codes (the old ones are void): needs the password and a TOTP code.
    pub async fn regenerate_recovery_codes(
        &self,
        caller: &Caller,
        password: Option<&str>,
        code: Option<&str>,
    ) -> Result<Vec<String>> {
        caller.require_password_current()?;
        let code = code.map(|c| MfaCode::Totp(c.to_owned()));
        let (user, code_tx) = self
            .reauthenticate(caller, password, code.as_ref(), "password")
            .await?;
        if !user.mfa_enabled {
            return Err(Error::conflict("Multi-factor login is not on."));
        }
        let mut tx = code_tx.unwrap_or_else(|| Tx::new(&**self.store()));
        let (codes, digests) = self.new_recovery_codes();
        let now = self.now();
        if let Some(Record::Credentials(c)) = tx.get(RecordKey::Credentials(user.id)).await? {
            update_credentials(&mut tx, &c, now, |c| {
                c.recovery_codes = digests;
            });
        }
        tx.audit(
            caller,
            now,
            "auth.recovery_codes_regenerated",
            "user",
            user.id.to_string(),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    fn new_recovery_codes(&self) -> (Vec<String>, Vec<Digest>) {
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| encode_recovery_code(&self.random_bytes()))
            .collect();
        let digests = codes
            .iter()
            .map(|c| Digest::of(&normalize_recovery_code(c)))
            .collect();
        (codes, digests)
    }
}

/// Reads `password` from a parsed create-user body.
pub(crate) fn take_password(fields: &mut BTreeMap<&'static str, Parsed>) -> Option<String> {
    match fields.remove("password") {
        Some(Parsed::Text(p)) => Some(p),
        _ => None,
    }
}
