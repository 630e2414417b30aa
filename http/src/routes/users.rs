//! `/users/`: user CRUD, registration, the caller's password, direct permission grants.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use rehome_core::services::Mode;
use rehome_core::services::accounts::GrantChange;
use rehome_core::{Permissions, UserId};
use serde_json::{Value as Json, json};

use super::{list_body, no_content, object};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, IfMatch, JsonBody, MaybeAuth, Params, PathParam, RequestUrl};
use crate::openapi::{Registration as RegistrationBody, UserPatch, UserWrite, doc};

/// A user id from the path: a positive integer, else nothing is there (404).
fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .map(UserId)
        .ok_or(ApiError::NotFound)
}

fn location(id: UserId) -> String {
    format!("/users/users/{}/", id.0)
}

fn grants_body(p: Permissions) -> Json {
    json!({ "permissions": p })
}

/// Lists users.
#[utoipa::path(get, path = "/users/users/", tag = "users", security(("bearer" = [])),
    params(doc::ListQuery),
    responses(
        (status = 200, description = "One page of users", body = doc::UserPage),
        (status = 400, description = "A malformed filter or page size"),
        (status = 403, description = "Needs manageUsers"),
        (status = 404, description = "Invalid page"),
    ))]
pub(crate) async fn list(
    State(st): State<AppState>,
    Auth(caller): Auth,
    Params(params): Params,
    url: RequestUrl,
) -> ApiResult {
    let page = st.core.list_users(&caller, &params).await?;
    let results = st.core.users_json(&page.results).await?;
    Ok(axum::Json(list_body(&url, &page, results)).into_response())
}

/// Creates a user.
///
/// Rules no schema states: username and email are unique regardless of case (409); the role
/// must exist (400); no escalation: a caller grants permissions, a role and `is_superuser` only
/// as far as it holds them itself (403); a password must pass the policy (not common, not
/// containing the username: 400).
#[utoipa::path(post, path = "/users/users/", tag = "users", security(("bearer" = [])),
    request_body = UserWrite,
    responses(
        (status = 201, description = "Created; Location names it", body = rehome_core::model::UserView),
        (status = 403, description = "Needs manageUsers (and every permission granted)"),
        (status = 409, description = "Username or email taken"),
    ))]
pub(crate) async fn create(
    State(st): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let user = st.core.create_user(&caller, &body).await?;
    let view = st.core.user_json(&user).await?;
    Ok(object(
        StatusCode::CREATED,
        view,
        user.version,
        Some(location(user.id)),
    ))
}

/// Reads a user.
#[utoipa::path(get, path = "/users/users/{id}/", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "The user; ETag is its version", body = rehome_core::model::UserView),
        (status = 403, description = "Needs manageUsers (or being that user)"),
        (status = 404, description = "No such user"),
    ))]
pub(crate) async fn get(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
) -> ApiResult {
    let user = st.core.get_user(&caller, user_id(&id)?).await?;
    let view = st.core.user_json(&user).await?;
    Ok(object(StatusCode::OK, view, user.version, None))
}

async fn update(
    st: AppState,
    caller: rehome_core::Caller,
    id: String,
    body: Json,
    mode: Mode,
    if_match: Option<u64>,
) -> ApiResult {
    let user = st
        .core
        .update_user(&caller, user_id(&id)?, &body, mode, if_match)
        .await?;
    let view = st.core.user_json(&user).await?;
    Ok(object(StatusCode::OK, view, user.version, None))
}

/// Replaces a user (every required field).
///
/// Rules no schema states: username and email are unique regardless of case (409); the role
/// must exist (400); no escalation: a caller grants permissions, a role and `is_superuser` only
/// as far as it holds them itself (403); a password must pass the policy (not common, not
/// containing the username: 400).
#[utoipa::path(put, path = "/users/users/{id}/", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id"), doc::IfMatchHeader),
    request_body = UserWrite,
    responses(
        (status = 200, description = "Updated", body = rehome_core::model::UserView),
        (status = 403, description = "Needs manageUsers; no escalation"),
        (status = 404, description = "No such user"),
        (status = 409, description = "Unique key taken or stale version"),
    ))]
pub(crate) async fn put(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
    IfMatch(if_match): IfMatch,
    JsonBody(body): JsonBody,
) -> ApiResult {
    update(st, caller, id, body, Mode::Replace, if_match).await
}

/// Updates some fields of a user.
///
/// Rules no schema states: username and email are unique regardless of case (409); the role
/// must exist (400); no escalation: a caller grants permissions, a role and `is_superuser` only
/// as far as it holds them itself (403); a password must pass the policy (not common, not
/// containing the username: 400).
#[utoipa::path(patch, path = "/users/users/{id}/", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id"), doc::IfMatchHeader),
    request_body = UserPatch,
    responses(
        (status = 200, description = "Updated", body = rehome_core::model::UserView),
        (status = 403, description = "Needs manageUsers; no escalation"),
        (status = 404, description = "No such user"),
        (status = 409, description = "Unique key taken or stale version"),
    ))]
pub(crate) async fn patch(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
    IfMatch(if_match): IfMatch,
    JsonBody(body): JsonBody,
) -> ApiResult {
    update(st, caller, id, body, Mode::Patch, if_match).await
}

/// Deletes a user (its tokens end at once; references to it become null).
///
/// You cannot delete your own account (400).
#[utoipa::path(delete, path = "/users/users/{id}/", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id"), doc::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Deleting oneself"),
        (status = 403, description = "Needs manageUsers"),
        (status = 404, description = "No such user"),
    ))]
pub(crate) async fn delete(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
    IfMatch(if_match): IfMatch,
) -> ApiResult {
    st.core
        .delete_user(&caller, user_id(&id)?, if_match)
        .await?;
    Ok(no_content())
}

/// Resets another user's password, in person: answers a temporary password, once.
///
/// The user must choose a new password before doing anything else (`must_change_password`);
/// its sessions end. Rules no schema states: the caller holds every permission the user holds
/// (403; only a superuser resets a superuser); not for oneself (400: change it instead).
#[utoipa::path(post, path = "/users/users/{id}/reset-password/", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "The temporary password, shown once", body = doc::TemporaryPassword),
        (status = 400, description = "Resetting oneself"),
        (status = 403, description = "Needs manageUsers and every permission of the user"),
        (status = 404, description = "No such user"),
    ))]
pub(crate) async fn reset_password(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
) -> ApiResult {
    let temporary = st.core.reset_password(&caller, user_id(&id)?).await?;
    Ok(axum::Json(json!({ "temporary_password": temporary })).into_response())
}

/// Turns off another user's two-step login (TOTP and recovery codes), in person.
///
/// The user signs in with its password alone and may turn two-step login on again; its
/// sessions end. The same rules as the password reset; 409 when two-step login is not on.
#[utoipa::path(post, path = "/users/users/{id}/reset-two-step/", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 204, description = "Two-step login is off"),
        (status = 400, description = "Resetting oneself"),
        (status = 403, description = "Needs manageUsers and every permission of the user"),
        (status = 404, description = "No such user"),
        (status = 409, description = "Two-step login is not on"),
    ))]
pub(crate) async fn reset_two_step(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(id): PathParam,
) -> ApiResult {
    st.core.reset_two_step(&caller, user_id(&id)?).await?;
    Ok(no_content())
}

/// Registers a new user (public unless the server runs with `--registration closed`).
///
/// Without `manageUsers`, `is_superuser`, `role`, `permissions` and `is_active` are refused
/// (400). Username and email are unique regardless of case (409); the password must pass the
/// policy (not common, not containing the username: 400).
#[utoipa::path(post, path = "/users/register/", tag = "users",
    request_body = RegistrationBody,
    responses(
        (status = 201, description = "Registered", body = rehome_core::model::UserView),
        (status = 400, description = "Invalid fields, or privileged fields without manageUsers"),
        (status = 401, description = "A token was sent and is invalid"),
        (status = 403, description = "Registration is closed"),
        (status = 409, description = "Username or email taken"),
    ))]
pub(crate) async fn register(
    State(st): State<AppState>,
    MaybeAuth(caller): MaybeAuth,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let user = st
        .core
        .register(&caller, &body, st.settings.registration)
        .await?;
    let view = st.core.user_json(&user).await?;
    Ok(object(
        StatusCode::CREATED,
        view,
        user.version,
        Some(location(user.id)),
    ))
}

async fn change_password(st: AppState, caller: rehome_core::Caller, body: Json) -> ApiResult {
    st.core.change_password_json(&caller, &body).await?;
    Ok(no_content())
}

/// Changes the caller's password (the caller's other sessions end).
///
/// The old password (and, with MFA on, a code) must be right (401); the new one must pass
/// the policy (not common, not containing the username: 400).
#[utoipa::path(put, path = "/users/password/", tag = "users", security(("bearer" = [])),
    request_body = doc::PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Policy or missing field"),
        (status = 401, description = "Wrong old password or code, or not authenticated"),
        (status = 429, description = "Too many failed attempts"),
    ))]
pub(crate) async fn password_put(
    State(st): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult {
    change_password(st, caller, body).await
}

/// Changes the caller's password (same as PUT).
///
/// The old password (and, with MFA on, a code) must be right (401); the new one must pass
/// the policy (not common, not containing the username: 400).
#[utoipa::path(patch, path = "/users/password/", tag = "users", security(("bearer" = [])),
    request_body = doc::PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Policy or missing field"),
        (status = 401, description = "Wrong old password or code, or not authenticated"),
        (status = 429, description = "Too many failed attempts"),
    ))]
pub(crate) async fn password_patch(
    State(st): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult {
    change_password(st, caller, body).await
}

/// A user's direct grants.
#[utoipa::path(get, path = "/users/user-permissions/{username}/", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "Username (any case)")),
    responses(
        (status = 200, description = "The direct grants", body = doc::PermissionList),
        (status = 403, description = "Needs manageUsers"),
        (status = 404, description = "No such user"),
    ))]
pub(crate) async fn grants_get(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(username): PathParam,
) -> ApiResult {
    let p = st.core.user_permissions(&caller, &username).await?;
    Ok(axum::Json(grants_body(p)).into_response())
}

async fn change_grants(
    st: AppState,
    caller: rehome_core::Caller,
    username: String,
    change: GrantChange,
    body: Json,
) -> ApiResult {
    let p = st
        .core
        .change_user_permissions_json(&caller, &username, change, &body)
        .await?;
    Ok(axum::Json(grants_body(p)).into_response())
}

/// Adds direct grants.
///
/// No escalation: only permissions the caller holds (403).
#[utoipa::path(patch, path = "/users/user-permissions/{username}/", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "Username (any case)")),
    request_body = doc::GrantChange,
    responses(
        (status = 200, description = "The resulting direct grants", body = doc::PermissionList),
        (status = 400, description = "Unknown or duplicate names"),
        (status = 403, description = "Needs manageUsers and every permission granted"),
        (status = 404, description = "No such user"),
    ))]
pub(crate) async fn grants_add(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(username): PathParam,
    JsonBody(body): JsonBody,
) -> ApiResult {
    change_grants(st, caller, username, GrantChange::Add, body).await
}

/// Replaces the direct grants.
///
/// No escalation: only permissions the caller holds (403).
#[utoipa::path(put, path = "/users/user-permissions/{username}/", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "Username (any case)")),
    request_body = doc::GrantChange,
    responses(
        (status = 200, description = "The resulting direct grants", body = doc::PermissionList),
        (status = 400, description = "Unknown or duplicate names"),
        (status = 403, description = "Needs manageUsers and every permission granted"),
        (status = 404, description = "No such user"),
    ))]
pub(crate) async fn grants_replace(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(username): PathParam,
    JsonBody(body): JsonBody,
) -> ApiResult {
    change_grants(st, caller, username, GrantChange::Replace, body).await
}

/// Removes the listed direct grants.
#[utoipa::path(delete, path = "/users/user-permissions/{username}/", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "Username (any case)")),
    request_body = doc::GrantChange,
    responses(
        (status = 200, description = "The resulting direct grants", body = doc::PermissionList),
        (status = 400, description = "Unknown or duplicate names"),
        (status = 403, description = "Needs manageUsers"),
        (status = 404, description = "No such user"),
    ))]
pub(crate) async fn grants_remove(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(username): PathParam,
    JsonBody(body): JsonBody,
) -> ApiResult {
    change_grants(st, caller, username, GrantChange::Remove, body).await
}

/// Removes every direct grant.
#[utoipa::path(delete, path = "/users/user-permissions/{username}/clear/", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "Username (any case)")),
    responses(
        (status = 200, description = "No direct grants left", body = doc::PermissionList),
        (status = 403, description = "Needs manageUsers"),
        (status = 404, description = "No such user"),
    ))]
pub(crate) async fn grants_clear(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(username): PathParam,
) -> ApiResult {
    change_grants(st, caller, username, GrantChange::Clear, Json::Null).await
}
