//! Users, roles and direct permission grants, with the contract's no-escalation rules:
//! a `manageUsers` holder grants (directly or through a role) only permissions it has, creates
//! or edits only roles whose permissions it has, sets the password only of users holding
//! nothing it lacks (no account takeover), and only a superuser sets `is_superuser` or
//! changes another superuser.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::auth::take_password;
use super::input::{self, Body, Mode, Parsed};
use super::listing::{ListParams, ListResult};
use super::tx::Tx;
use super::write::{bump, check_body_version, check_if_match, check_unique, diff, record_json};
use super::{Caller, Rehome, effective_permissions};
use crate::auth::password::check_policy;
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{IdKind, RoleId, UserId};
use crate::model::{Role, User};
use crate::permission::{Permission, Permissions};
use crate::query::{Collection, Field, Value};
use crate::store::{Change, Record, RecordKey, Reference, UniqueField};

/// Whether self-registration ([`Rehome::register`]) is open. The server's setting; the rule
/// is core's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// Anyone may register (the contract's default).
    #[default]
    Open,
    /// Nobody registers, user managers included (403): they create users with
    /// [`Rehome::create_user`].
    Closed,
}

/// The fields a grant change body takes ([`Rehome::change_user_permissions_json`]).
pub const GRANT_CHANGE_FIELDS: [&str; 1] = ["permissions"];

/// How a permission list changes the direct grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantChange {
    /// Adds the listed permissions (PATCH).
    Add,
    /// Replaces the grants with the list (PUT).
    Replace,
    /// Removes the listed permissions (DELETE with a body).
    Remove,
    /// Removes every grant (`clear/`).
    Clear,
}

fn user_not_found() -> Error {
    Error::NotFound("Not found.".into())
}

/// Letters, digits and `@ . + - _`, 2 to 50 characters (the original's username rule,
/// with its lower bound from the contract).
fn check_username(name: &str, errors: &mut FieldErrors) {
    let n = name.chars().count();
    if !(2..=50).contains(&n) {
        errors.add("username", "Ensure this field has 2 to 50 characters.");
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
    {
        errors.add(
            "username",
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
        );
    }
}

pub(super) fn check_role_name(name: &str, errors: &mut FieldErrors) {
    if name.contains('/') || name.chars().any(char::is_control) {
        errors.add(
            "name",
            "A role name may not contain \"/\" or control characters.",
        );
    }
}

/// Refuses to let `caller` hand out `perms` unless it has them all.
fn check_grantable(caller: &Caller, perms: Permissions) -> Result<()> {
    if caller.is_superuser() || caller.permissions().is_superset(perms) {
        Ok(())
    } else {
        Err(Error::PermissionDenied)
    }
}

impl Rehome {
    /// The user as the contract shows it, with `effective_permissions`.
    pub async fn user_json(&self, user: &User) -> Result<Json> {
        let role = self.role_named(user.role.as_deref()).await?;
        Ok(user_view(user, role.as_ref()))
    }

    /// Lists users (needs `manageUsers`).
    pub async fn list_users(
        &self,
        caller: &Caller,
        params: &ListParams,
    ) -> Result<ListResult<User>> {
        caller.require(Permission::ManageUsers)?;
        let page = super::listing::run(&**self.store(), Collection::Users, params, |_| {}).await?;
        Ok(page.filter_map(|r| match r {
            Record::User(u) => Some(u),
            _ => None,
        }))
    }

    /// Reads a user by id (needs `manageUsers`, for one's own record too: a user reads itself
    /// with [`Rehome::me`]).
    pub async fn get_user(&self, caller: &Caller, id: UserId) -> Result<User> {
        caller.require(Permission::ManageUsers)?;
        self.load_user(id).await
    }

    /// The caller's own user as stored now (any logged-in user; 401 for anyone else).
    pub async fn me(&self, caller: &Caller) -> Result<User> {
        let id = caller.user_id().ok_or(Error::InvalidToken)?;
        match self.store().get(RecordKey::User(id)).await? {
            Some(Record::User(u)) => Ok(u),
            _ => Err(Error::InvalidToken),
        }
    }

    async fn load_user(&self, id: UserId) -> Result<User> {
        match self.store().get(RecordKey::User(id)).await? {
            Some(Record::User(u)) => Ok(u),
            _ => Err(user_not_found()),
        }
    }

    /// Finds a user by name, regardless of case.
    pub async fn find_user(&self, username: &str) -> Result<Option<User>> {
        match self
            .store()
            .get_by_unique(&UniqueField::UserUsername.key(username))
            .await?
        {
            Some(Record::User(u)) => Ok(Some(u)),
            _ => Ok(None),
        }
    }

    /// Creates a user (needs `manageUsers`). Role, grants and `is_superuser` obey the
    /// no-escalation rule.
    pub async fn create_user(&self, caller: &Caller, body: &Json) -> Result<User> {
        caller.require(Permission::ManageUsers)?;
        self.insert_user(caller, body, false).await
    }

    /// Self-registration: a user with no role, no permissions, not a superuser. Setting
    /// `is_superuser`, `role` or `permissions` is refused (400) unless the caller has
    /// `manageUsers`, in which case this is [`Rehome::create_user`]. With registration
    /// [`Registration::Closed`] it is refused (403) to everyone, user managers included.
    pub async fn register(
        &self,
        caller: &Caller,
        body: &Json,
        registration: Registration,
    ) -> Result<User> {
        if registration == Registration::Closed {
            return Err(Error::RegistrationClosed);
        }
        caller.require_password_current()?;
        if caller.has(Permission::ManageUsers) {
            return self.insert_user(caller, body, true).await;
        }
        let mut errors = FieldErrors::new();
        if let Some(obj) = body.as_object() {
            for field in ["is_superuser", "role", "permissions", "is_active"] {
                if obj.contains_key(field) {
                    errors.add(field, "Only a user manager may set this field.");
                }
            }
        }
        errors.into_result()?;
        self.insert_user(caller, body, true).await
    }

    async fn insert_user(
        &self,
        caller: &Caller,
        body: &Json,
        password_required: bool,
    ) -> Result<User> {
        let (mut body, mut parse_errors) =
            input::parse(input::USER, body, Mode::Create, self.next_year());
        let password = take_password(&mut body.fields);
        match &password {
            Some(p) => parse_errors.merge(check_policy(p, &given_username(&body), "password")),
            None if password_required && parse_errors.get("password").is_empty() => {
                parse_errors.add("password", "This field is required.");
            }
            None => {}
        }
        let now = self.now();
        let id = UserId(self.store().next_id(IdKind::User).await?);
        let mut user = super::blank_user(id, now);
        let mut tx = Tx::new(&**self.store());
        self.apply_user(&mut tx, caller, &mut body, parse_errors, None, &mut user)
            .await?;
        let record = Record::User(user.clone());
        check_unique(&tx, &record).await?;
        tx.push(Change::Insert(record.clone()));
        if let Some(p) = &password {
            let hash = self.hash_new_password(p, &user.username).await?;
            self.put_password_hash(&mut tx, id, hash).await?;
        }
        tx.audit(
            caller,
            now,
            "user.create",
            "user",
            id.to_string(),
            record_json(&record),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Applies a parsed user body to `user` with every rule; `before` is the stored user for
    /// updates.
    async fn apply_user(
        &self,
        tx: &mut Tx<'_>,
        caller: &Caller,
        body: &mut Body,
        parse_errors: FieldErrors,
        before: Option<&User>,
        user: &mut User,
    ) -> Result<()> {
        let mut errors = parse_errors;
        apply_user_basics(body, &mut errors, user);
        let mut new_role_perms = Permissions::empty();
        if let Some(role) = body.take("role") {
            user.role = match role {
                Parsed::Text(name) if !name.is_empty() => Some(name),
                _ => None,
            };
            if let Some(name) = user
                .role
                .as_ref()
                .filter(|r| before.and_then(|b| b.role.as_ref()) != Some(*r))
            {
                match self.tx_role(tx, name).await? {
                    Some(r) => new_role_perms = r.permissions,
                    None => errors.add("role", format!("Role \"{name}\" does not exist.")),
                }
            }
        }
        if let Some(p) = body.permissions("permissions") {
            user.permissions = p;
        }
        if let Some(v) = body.bool("is_superuser") {
            user.is_superuser = v;
        }
        errors.into_result()?;
        // No escalation.
        let was_superuser = before.is_some_and(|b| b.is_superuser);
        if user.is_superuser != was_superuser && !caller.is_superuser() {
            return Err(Error::PermissionDenied);
        }
        let old_grants = before.map(|b| b.permissions).unwrap_or_default();
        check_grantable(caller, user.permissions.difference(old_grants))?;
        check_grantable(caller, new_role_perms)?;
        Ok(())
    }

    /// User managers act only on lesser users: setting another user's password, deactivating
    /// or deleting it, or changing its username, email, role or direct grants needs every
    /// permission that user holds (through its role or directly, active or not, since a user
    /// manager may reactivate it), unless the caller is a superuser; a superuser (who holds
    /// every permission) only a superuser may touch. Otherwise a user manager could take over
    /// (set the password of and log in as) or cut off a user holding more than it. See
    /// `docs/adr/0011-user-managers-act-on-lesser-users.md`.
    pub(crate) async fn check_holds_all_of(&self, caller: &Caller, target: &User) -> Result<()> {
        if caller.is_superuser() || caller.user_id() == Some(target.id) {
            return Ok(());
        }
        if target.is_superuser {
            return Err(Error::PermissionDenied);
        }
        let role = self.role_named(target.role.as_deref()).await?;
        let held = target
            .permissions
            .union(role.map(|r| r.permissions).unwrap_or_default());
        check_grantable(caller, held)
    }

    async fn tx_role(&self, tx: &Tx<'_>, name: &str) -> Result<Option<Role>> {
        match tx.get_by_unique(&UniqueField::RoleName.key(name)).await? {
            Some(Record::Role(r)) => Ok(Some(r)),
            _ => Ok(None),
        }
    }

    /// Updates a user (needs `manageUsers`; see the no-escalation rules).
    pub async fn update_user(
        &self,
        caller: &Caller,
        id: UserId,
        body: &Json,
        mode: Mode,
        if_match: Option<u64>,
    ) -> Result<User> {
        caller.require(Permission::ManageUsers)?;
        let current = self.load_user(id).await?;
        check_if_match(if_match, current.version)?;
        if current.is_superuser && !caller.is_superuser() {
            return Err(Error::PermissionDenied);
        }
        let (mut body, mut parse_errors) = input::parse(input::USER, body, mode, self.next_year());
        check_body_version(body.version, current.version)?;
        let password = take_password(&mut body.fields);
        if password.is_some() {
            self.check_holds_all_of(caller, &current).await?;
        }
        if let Some(p) = &password {
            let name = match body.fields.get("username") {
                Some(Parsed::Text(u)) => u.clone(),
                _ => current.username.clone(),
            };
            parse_errors.merge(check_policy(p, &name, "password"));
        }
        let mut tx = Tx::new(&**self.store());
        let mut user = current.clone();
        self.apply_user(
            &mut tx,
            caller,
            &mut body,
            parse_errors,
            Some(&current),
            &mut user,
        )
        .await?;
        if user == current && password.is_none() {
            return Ok(current);
        }
        if acts_on_standing(&current, &user) {
            self.check_holds_all_of(caller, &current).await?;
        }
        let now = self.now();
        let mut record = Record::User(user.clone());
        if user != current {
            bump(&mut record, now);
            check_unique(&tx, &record).await?;
            let changes = diff(
                &record_json(&Record::User(current.clone())),
                &record_json(&record),
            );
            tx.push(Change::Update {
                record: record.clone(),
                expected_version: current.version,
            });
            tx.audit(caller, now, "user.update", "user", id.to_string(), changes)
                .await?;
        }
        // A new password, or deactivation, ends the user's sessions (but not the caller's own
        // session when it changes its own password).
        if let Some(p) = &password {
            let hash = self.hash_new_password(p, &user.username).await?;
            self.put_password_hash(&mut tx, id, hash).await?;
            tx.audit(
                caller,
                now,
                "auth.password_changed",
                "user",
                id.to_string(),
                json!({}),
            )
            .await?;
        }
        if current.is_active && !user.is_active {
            self.revoke_sessions(&mut tx, id, None).await?;
        } else if password.is_some() {
            self.revoke_sessions(&mut tx, id, caller.session()).await?;
        }
        tx.commit().await?;
        match record {
            Record::User(u) => Ok(u),
            _ => Err(user_not_found()),
        }
    }

    /// Deletes a user (needs `manageUsers`; a superuser only by a superuser; never oneself).
    /// Devices that name the user as `received_by` or `created_by` keep a null there.
    pub async fn delete_user(
        &self,
        caller: &Caller,
        id: UserId,
        if_match: Option<u64>,
    ) -> Result<()> {
        caller.require(Permission::ManageUsers)?;
        if caller.user_id() == Some(id) {
            return Err(Error::invalid("id", "You cannot delete your own account."));
        }
        let mut attempts = 0;
        loop {
            let current = self.load_user(id).await?;
            check_if_match(if_match, current.version)?;
            if current.is_superuser && !caller.is_superuser() {
                return Err(Error::PermissionDenied);
            }
            self.check_holds_all_of(caller, &current).await?;
            let now = self.now();
            let mut tx = Tx::new(&**self.store());
            let key = RecordKey::User(id);
            self.revoke_sessions(&mut tx, id, None).await?;
            if let Some(c) = tx.get(RecordKey::Credentials(id)).await? {
                tx.push(Change::Delete {
                    key: RecordKey::Credentials(id),
                    expected_version: c.version(),
                });
            }
            self.clear_references_to(&mut tx, caller, key, now).await?;
            tx.push(Change::Delete {
                key,
                expected_version: current.version,
            });
            tx.audit(
                caller,
                now,
                "user.delete",
                "user",
                id.to_string(),
                record_json(&Record::User(current)),
            )
            .await?;
            match tx.commit().await {
                Ok(()) => return Ok(()),
                Err(crate::store::StoreError::Conflict { .. })
                    if attempts < 3 && if_match.is_none() =>
                {
                    attempts += 1
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The direct grants of the user called `username` (needs `manageUsers`).
    pub async fn user_permissions(&self, caller: &Caller, username: &str) -> Result<Permissions> {
        caller.require(Permission::ManageUsers)?;
        let user = self.find_user(username).await?.ok_or_else(user_not_found)?;
        Ok(user.permissions)
    }

    /// [`Rehome::change_user_permissions`] from a JSON body (`/users/user-permissions/`):
    /// `{"permissions": [...]}`, and no other field (400 naming it). [`GrantChange::Clear`]
    /// takes no body: whatever is sent is ignored.
    pub async fn change_user_permissions_json(
        &self,
        caller: &Caller,
        username: &str,
        change: GrantChange,
        body: &Json,
    ) -> Result<Permissions> {
        if change == GrantChange::Clear {
            return self
                .change_user_permissions(caller, username, change, &Json::Null)
                .await;
        }
        let mut errors = FieldErrors::new();
        let obj = input::closed_object(body, &GRANT_CHANGE_FIELDS, &mut errors)
            .map_err(Error::Validation)?;
        let list = obj.get("permissions").cloned().unwrap_or(Json::Null);
        if let Err(message) = input::parse_permissions(&list) {
            errors.add("permissions", message);
        }
        errors.into_result()?;
        self.change_user_permissions(caller, username, change, &list)
            .await
    }

    /// Changes the direct grants of `username`; answers the resulting grants. `list` is the
    /// JSON list of permission names (ignored for [`GrantChange::Clear`]); unknown names or
    /// duplicates are a 400.
    pub async fn change_user_permissions(
        &self,
        caller: &Caller,
        username: &str,
        change: GrantChange,
        list: &Json,
    ) -> Result<Permissions> {
        caller.require(Permission::ManageUsers)?;
        let listed = if change == GrantChange::Clear {
            Permissions::empty()
        } else {
            input::parse_permissions(list).map_err(|m| Error::invalid("permissions", m))?
        };
        let mut attempts = 0;
        loop {
            let current = self.find_user(username).await?.ok_or_else(user_not_found)?;
            if current.is_superuser && !caller.is_superuser() {
                return Err(Error::PermissionDenied);
            }
            let new = match change {
                GrantChange::Add => current.permissions.union(listed),
                GrantChange::Replace => listed,
                GrantChange::Remove => current.permissions.difference(listed),
                GrantChange::Clear => Permissions::empty(),
            };
            if new == current.permissions {
                return Ok(new);
            }
            self.check_holds_all_of(caller, &current).await?;
            check_grantable(caller, new.difference(current.permissions))?;
            let now = self.now();
            let mut user = current.clone();
            user.permissions = new;
            let mut record = Record::User(user);
            bump(&mut record, now);
            let mut tx = Tx::new(&**self.store());
            tx.push(Change::Update {
                record,
                expected_version: current.version,
            });
            tx.audit(
                caller,
                now,
                "user.permissions",
                "user",
                current.id.to_string(),
                json!({"permissions": [current.permissions, new]}),
            )
            .await?;
            match tx.commit().await {
                Ok(()) => return Ok(new),
                Err(crate::store::StoreError::Conflict { .. }) if attempts < 3 => attempts += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Lists roles (needs `manageUsers`).
    pub async fn list_roles(
        &self,
        caller: &Caller,
        params: &ListParams,
    ) -> Result<ListResult<Role>> {
        caller.require(Permission::ManageUsers)?;
        let page = super::listing::run(&**self.store(), Collection::Roles, params, |_| {}).await?;
        Ok(page.filter_map(|r| match r {
            Record::Role(r) => Some(r),
            _ => None,
        }))
    }

    /// Reads a role by name (needs `manageUsers`).
    pub async fn get_role(&self, caller: &Caller, name: &str) -> Result<Role> {
        caller.require(Permission::ManageUsers)?;
        self.role_named(Some(name))
            .await?
            .ok_or_else(user_not_found)
    }

    /// Creates a role (needs `manageUsers` and every permission the role holds).
    pub async fn create_role(&self, caller: &Caller, body: &Json) -> Result<Role> {
        caller.require(Permission::ManageUsers)?;
        let (mut body, parse_errors) =
            input::parse(input::ROLE, body, Mode::Create, self.next_year());
        let now = self.now();
        let mut role = super::blank_role(RoleId(self.store().next_id(IdKind::Role).await?), now);
        apply_role(&mut body, parse_errors, &mut role)?;
        check_grantable(caller, role.permissions)?;
        let mut tx = Tx::new(&**self.store());
        let record = Record::Role(role.clone());
        check_unique(&tx, &record).await?;
        tx.push(Change::Insert(record.clone()));
        tx.audit(
            caller,
            now,
            "role.create",
            "role",
            role.name.clone(),
            record_json(&record),
        )
        .await?;
        tx.commit().await?;
        Ok(role)
    }

    /// Updates a role (needs `manageUsers` and every permission the role holds before and
    /// after). A role that users hold cannot be renamed (409).
    pub async fn update_role(
        &self,
        caller: &Caller,
        name: &str,
        body: &Json,
        mode: Mode,
        if_match: Option<u64>,
    ) -> Result<Role> {
        caller.require(Permission::ManageUsers)?;
        let current = self
            .role_named(Some(name))
            .await?
            .ok_or_else(user_not_found)?;
        check_if_match(if_match, current.version)?;
        let (mut body, parse_errors) = input::parse(input::ROLE, body, mode, self.next_year());
        check_body_version(body.version, current.version)?;
        let mut role = current.clone();
        apply_role(&mut body, parse_errors, &mut role)?;
        check_grantable(caller, current.permissions.union(role.permissions))?;
        if role == current {
            return Ok(current);
        }
        let tx_store = &**self.store();
        let mut tx = Tx::new(tx_store);
        if role.name != current.name {
            let holders = tx
                .referrers(&Reference::RoleName(current.name.clone()))
                .await?
                .len();
            if holders > 0 {
                return Err(Error::conflict_on(
                    "name",
                    format!(
                        "The role is held by {holders} user(s); it cannot be renamed while held."
                    ),
                ));
            }
        }
        let now = self.now();
        let mut record = Record::Role(role);
        bump(&mut record, now);
        check_unique(&tx, &record).await?;
        let changes = diff(
            &record_json(&Record::Role(current.clone())),
            &record_json(&record),
        );
        tx.push(Change::Update {
            record: record.clone(),
            expected_version: current.version,
        });
        tx.audit(
            caller,
            now,
            "role.update",
            "role",
            current.name.clone(),
            changes,
        )
        .await?;
        tx.commit().await?;
        match record {
            Record::Role(r) => Ok(r),
            _ => Err(user_not_found()),
        }
    }

    /// Deletes a role nobody holds (409 naming how many users hold it otherwise).
    pub async fn delete_role(
        &self,
        caller: &Caller,
        name: &str,
        if_match: Option<u64>,
    ) -> Result<()> {
        caller.require(Permission::ManageUsers)?;
        let current = self
            .role_named(Some(name))
            .await?
            .ok_or_else(user_not_found)?;
        check_if_match(if_match, current.version)?;
        check_grantable(caller, current.permissions)?;
        let mut tx = Tx::new(&**self.store());
        let holders = tx
            .referrers(&Reference::RoleName(current.name.clone()))
            .await?
            .len();
        if holders > 0 {
            return Err(Error::conflict(format!(
                "The role is held by {holders} user(s); assign them another role first."
            )));
        }
        let now = self.now();
        tx.push(Change::Delete {
            key: RecordKey::Role(current.id),
            expected_version: current.version,
        });
        tx.audit(
            caller,
            now,
            "role.delete",
            "role",
            current.name.clone(),
            record_json(&Record::Role(current)),
        )
        .await?;
        match tx.commit().await {
            Err(crate::store::StoreError::Conflict {
                conflict: crate::store::Conflict::Referenced { .. },
                ..
            }) => Err(Error::conflict(
                "The role was given to a user meanwhile; assign them another role first.",
            )),
            other => Ok(other?),
        }
    }

    /// The users as JSON views, roles looked up once each.
    pub async fn users_json(&self, users: &[User]) -> Result<Vec<Json>> {
        let mut roles: BTreeMap<String, Option<Role>> = BTreeMap::new();
        let mut out = Vec::with_capacity(users.len());
        for u in users {
            let role = match &u.role {
                Some(name) => {
                    if !roles.contains_key(name) {
                        roles.insert(name.clone(), self.role_named(Some(name)).await?);
                    }
                    roles.get(name).cloned().flatten()
                }
                None => None,
            };
            out.push(user_view(u, role.as_ref()));
        }
        Ok(out)
    }

    /// Whether any active superuser exists (a server's first start says how to create one).
    pub async fn has_superuser(&self) -> Result<bool> {
        let q = crate::query::ListQuery::all(Collection::Users)
            .filter(
                Field::UserIsSuperuser,
                crate::query::Op::Eq(Value::Bool(true)),
            )
            .filter(Field::UserIsActive, crate::query::Op::Eq(Value::Bool(true)))
            .page(0, 1);
        Ok(!self.store().list(&q).await?.items.is_empty())
    }

    /// Counts the users holding the role called `name`.
    pub async fn role_holders(&self, name: &str) -> Result<u64> {
        let q = crate::query::ListQuery::all(Collection::Users)
            .filter(
                Field::UserRole,
                crate::query::Op::Eq(Value::Text(name.to_owned())),
            )
            .page(0, 0)
            .with_count();
        Ok(self.store().list(&q).await?.total.unwrap_or(0))
    }
}

/// Whether an update from `before` to `after` touches what only a user manager holding
/// everything the user holds may change: its username, email, role or direct grants, or its
/// deactivation. (Names and reactivation are not: they neither take over nor cut off.)
fn acts_on_standing(before: &User, after: &User) -> bool {
    before.username != after.username
        || before.email != after.email
        || before.role != after.role
        || before.permissions != after.permissions
        || (before.is_active && !after.is_active)
}

fn given_username(body: &Body) -> String {
    match body.fields.get("username") {
        Some(Parsed::Text(u)) => u.clone(),
        _ => String::new(),
    }
}

pub(super) fn apply_role(
    body: &mut Body,
    parse_errors: FieldErrors,
    role: &mut Role,
) -> Result<()> {
    let mut errors = parse_errors;
    if let Some(v) = body.text("name") {
        check_role_name(&v, &mut errors);
        role.name = v;
    }
    if let Some(v) = body.text("description") {
        role.description = v;
    }
    if let Some(p) = body.permissions("permissions") {
        role.permissions = p;
    }
    errors.into_result()
}

/// The contract's user object: the stored fields plus `effective_permissions`.
pub fn user_view(user: &User, role: Option<&Role>) -> Json {
    let view = crate::model::UserView {
        user: user.clone(),
        effective_permissions: effective_permissions(user, role),
    };
    serde_json::to_value(view).unwrap_or(Json::Null)
}

/// Applies the plain fields of a user body (username with its rules, email, names, active
/// flag) to `user`; roles, grants and the superuser flag are the caller's to check.
pub(super) fn apply_user_basics(body: &mut Body, errors: &mut FieldErrors, user: &mut User) {
    if let Some(v) = body.text("username") {
        check_username(&v, errors);
        user.username = v;
    }
    if let Some(v) = body.text("email") {
        user.email = v;
    }
    for (name, slot) in [
        ("first_name", &mut user.first_name),
        ("last_name", &mut user.last_name),
    ] {
        if let Some(v) = body.text(name) {
            *slot = v;
        }
    }
    if let Some(v) = body.bool("is_active") {
        user.is_active = v;
    }
}
