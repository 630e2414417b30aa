//! `/admin/`: roles and the audit log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use rehome_core::Role;
use rehome_core::services::Mode;
use serde_json::Value as Json;

use super::{encode_segment, list_body, no_content, object};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, IfMatch, JsonBody, Params, PathParam, RequestUrl};
use crate::openapi::{RolePatch, RoleWrite, doc};

fn role_json(role: &Role) -> Json {
    serde_json::to_value(role).unwrap_or(Json::Null)
}

fn location(role: &Role) -> String {
    format!("/admin/roles/{}/", encode_segment(&role.name))
}

/// Lists roles.
#[utoipa::path(get, path = "/admin/roles/", tag = "admin", security(("bearer" = [])),
    params(doc::ListQuery),
    responses(
        (status = 200, description = "One page of roles", body = doc::RolePage),
        (status = 400, description = "A malformed parameter"),
        (status = 403, description = "Needs manageUsers"),
        (status = 404, description = "Invalid page"),
    ))]
pub(crate) async fn roles_list(
    State(st): State<AppState>,
    Auth(caller): Auth,
    Params(params): Params,
    url: RequestUrl,
) -> ApiResult {
    let page = st.core.list_roles(&caller, &params).await?;
    let results = page.results.iter().map(role_json).collect();
    Ok(axum::Json(list_body(&url, &page, results)).into_response())
}

/// Creates a role.
///
/// Rules no schema states: the name is unique (409); a caller grants only permissions it
/// holds (403).
#[utoipa::path(post, path = "/admin/roles/", tag = "admin", security(("bearer" = [])),
    request_body = RoleWrite,
    responses(
        (status = 201, description = "Created; Location names it", body = rehome_core::Role),
        (status = 403, description = "Needs manageUsers and every permission of the role"),
        (status = 409, description = "Name taken"),
    ))]
pub(crate) async fn roles_create(
    State(st): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let role = st.core.create_role(&caller, &body).await?;
    Ok(object(
        StatusCode::CREATED,
        role_json(&role),
        role.version,
        Some(location(&role)),
    ))
}

/// Reads a role.
#[utoipa::path(get, path = "/admin/roles/{name}/", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name")),
    responses(
        (status = 200, description = "The role; ETag is its version", body = rehome_core::Role),
        (status = 403, description = "Needs manageUsers"),
        (status = 404, description = "No such role"),
    ))]
pub(crate) async fn role_get(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(name): PathParam,
) -> ApiResult {
    let role = st.core.get_role(&caller, &name).await?;
    Ok(object(StatusCode::OK, role_json(&role), role.version, None))
}

async fn update(
    st: AppState,
    caller: rehome_core::Caller,
    name: String,
    body: Json,
    mode: Mode,
    if_match: Option<u64>,
) -> ApiResult {
    let role = st
        .core
        .update_role(&caller, &name, &body, mode, if_match)
        .await?;
    Ok(object(StatusCode::OK, role_json(&role), role.version, None))
}

/// Replaces a role.
///
/// Rules no schema states: the name is unique (409); a caller grants only permissions it
/// holds (403); a role users hold cannot be renamed (409).
#[utoipa::path(put, path = "/admin/roles/{name}/", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name"), doc::IfMatchHeader),
    request_body = RoleWrite,
    responses(
        (status = 200, description = "Updated", body = rehome_core::Role),
        (status = 403, description = "Needs manageUsers and every permission involved"),
        (status = 404, description = "No such role"),
        (status = 409, description = "Name taken, held role renamed, or stale version"),
    ))]
pub(crate) async fn role_put(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(name): PathParam,
    IfMatch(if_match): IfMatch,
    JsonBody(body): JsonBody,
) -> ApiResult {
    update(st, caller, name, body, Mode::Replace, if_match).await
}

/// Updates some fields of a role.
///
/// Rules no schema states: the name is unique (409); a caller grants only permissions it
/// holds (403); a role users hold cannot be renamed (409).
#[utoipa::path(patch, path = "/admin/roles/{name}/", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name"), doc::IfMatchHeader),
    request_body = RolePatch,
    responses(
        (status = 200, description = "Updated", body = rehome_core::Role),
        (status = 403, description = "Needs manageUsers and every permission involved"),
        (status = 404, description = "No such role"),
        (status = 409, description = "Name taken, held role renamed, or stale version"),
    ))]
pub(crate) async fn role_patch(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(name): PathParam,
    IfMatch(if_match): IfMatch,
    JsonBody(body): JsonBody,
) -> ApiResult {
    update(st, caller, name, body, Mode::Patch, if_match).await
}

/// Deletes a role nobody holds.
///
/// A role users hold cannot be deleted (409).
#[utoipa::path(delete, path = "/admin/roles/{name}/", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name"), doc::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Needs manageUsers"),
        (status = 404, description = "No such role"),
        (status = 409, description = "Users hold the role"),
    ))]
pub(crate) async fn role_delete(
    State(st): State<AppState>,
    Auth(caller): Auth,
    PathParam(name): PathParam,
    IfMatch(if_match): IfMatch,
) -> ApiResult {
    st.core.delete_role(&caller, &name, if_match).await?;
    Ok(no_content())
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/admin/audit-log/", tag = "admin", security(("bearer" = [])),
    params(doc::ListQuery, doc::AuditRange),
    responses(
        (status = 200, description = "One page of entries", body = doc::AuditPage),
        (status = 400, description = "A malformed filter"),
        (status = 403, description = "Needs viewAuditLog"),
        (status = 404, description = "Invalid page"),
    ))]
pub(crate) async fn audit_log(
    State(st): State<AppState>,
    Auth(caller): Auth,
    Params(params): Params,
    url: RequestUrl,
) -> ApiResult {
    let page = st.core.list_audit(&caller, &params).await?;
    let results = page
        .results
        .iter()
        .map(|e| serde_json::to_value(e).unwrap_or(Json::Null))
        .collect();
    Ok(axum::Json(list_body(&url, &page, results)).into_response())
}
