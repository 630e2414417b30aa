//! Roles (needs `manageUsers`, as core decides): the list, a new role, a role's page (its
//! description and permissions as checkboxes) and deleting it. Core's
//! [`rehome_core::Rehome::create_role`], `update_role` and `delete_role` decide; their
//! refusals (a permission the caller lacks, a role still held) are shown beside the form with
//! core's sentence, the user's input kept.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use rehome_core::FieldErrors;
use rehome_core::services::Mode;
use serde_json::json;

use super::Route;
use super::users::{all_roles, names, people_refusal, permission_boxes, refusal_box};
use crate::ConsoleState;
use crate::error::ConsoleResult;
use crate::forms::{Form, Input, field};
use crate::layout::{csrf_field, page};
use crate::session::Session;

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new("/roles", get(list).post(create)),
        Route::new("/roles/{name}", get(show).post(edit)),
        Route::new("/roles/{name}/delete", post(delete)),
    ]
}

fn role_path(name: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("/roles/{}", encoded.replace('+', "%20"))
}

fn description_field(id: &str, value: &str, errors: &FieldErrors) -> Markup {
    let messages = errors.get("description");
    html! {
        div.field.invalid[!messages.is_empty()] {
            label for=(id) { "Description" }
            textarea id=(id) name="description" rows="2" { (value) }
            @for m in messages { p.error { (m) } }
        }
    }
}

async fn list_page(
    st: &ConsoleState,
    session: &Session,
    refused: Option<(&Form, FieldErrors)>,
) -> ConsoleResult<Markup> {
    let roles = all_roles(&st.core, session).await?;
    let empty = Form::default();
    let (form, errors) = match &refused {
        Some((f, e)) => (*f, e.clone()),
        None => (&empty, FieldErrors::new()),
    };
    Ok(html! {
        h1 { "Roles" }
        @if roles.is_empty() {
            p { "No role yet." }
        } @else {
            div.table-scroll {
                table.people {
                    caption.visually-hidden { "Roles" }
                    thead { tr {
                        th scope="col" { "Role" }
                        th scope="col" { "Description" }
                        th scope="col" { "Permissions" }
                    } }
                    tbody {
                        @for r in &roles {
                            tr {
                                td data-label="Role" { a href=(role_path(&r.name)) { (r.name) } }
                                td data-label="Description" { (r.description) }
                                td data-label="Permissions" {
                                    @if r.permissions.is_empty() { "none" }
                                    @else { (names(r.permissions).join(", ")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card.people aria-labelledby="new-role" {
            h2 id="new-role" { "New role" }
            (refusal_box(&errors, &["name", "description", "permissions"]))
            form.stack method="post" action="/roles" {
                (csrf_field(&session.csrf))
                (field("Name", "name", Input::Text, form.text("name"), &errors, "off"))
                (description_field("f-description", form.text("description"), &errors))
                (permission_boxes("new", "permissions", "Permissions", &form.all("permissions")))
                @for m in errors.get("permissions") { p.error { (m) } }
                button type="submit" { "Create role" }
            }
        }
    })
}

/// `GET /roles`.
async fn list(State(st): State<ConsoleState>, session: Session) -> ConsoleResult<Response> {
    let body = list_page(&st, &session, None).await?;
    Ok(page(&session, "/roles", "Roles", body).into_response())
}

fn role_body(form: &Form) -> serde_json::Value {
    json!({
        "name": form.text("name"),
        "description": form.text("description"),
        "permissions": form.all("permissions"),
    })
}

/// `POST /roles`.
async fn create(
    State(st): State<ConsoleState>,
    session: Session,
    form: Form,
) -> ConsoleResult<Response> {
    match st
        .core
        .create_role(&session.caller, &role_body(&form))
        .await
    {
        Ok(role) => {
            Ok(Redirect::to(&format!("{}?done=created", role_path(&role.name))).into_response())
        }
        Err(e) => {
            let errors = people_refusal(e)?;
            let body = list_page(&st, &session, Some((&form, errors))).await?;
            Ok((
                StatusCode::BAD_REQUEST,
                page(&session, "/roles", "Roles", body),
            )
                .into_response())
        }
    }
}

/// Which form of a role's page was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Edit,
    Delete,
}

async fn role_page(
    st: &ConsoleState,
    session: &Session,
    name: &str,
    done: Option<&str>,
    refused: Option<(Which, &Form, FieldErrors)>,
) -> ConsoleResult<Markup> {
    let role = st.core.get_role(&session.caller, name).await?;
    let holders = st.core.role_holders(&role.name).await?;
    let empty = FieldErrors::new();
    let (edit_errors, edit_form) = match &refused {
        Some((Which::Edit, f, e)) => (e, Some(*f)),
        _ => (&empty, None),
    };
    let delete_errors = match &refused {
        Some((Which::Delete, _, e)) => e,
        _ => &empty,
    };
    let path = role_path(&role.name);
    let description = edit_form.map_or(role.description.as_str(), |f| f.text("description"));
    let chosen: Vec<&str> =
        edit_form.map_or_else(|| names(role.permissions), |f| f.all("permissions"));
    Ok(html! {
        p { a href="/roles" { "← All roles" } }
        h1 { "Role " (role.name) }
        @match done {
            Some("created") => { div.alert.ok role="status" { p { "The role is created." } } }
            Some("saved") => { div.alert.ok role="status" { p { "The role is saved." } } }
            _ => {}
        }
        p.muted { "Held by " (holders) " user(s)." }
        section.card.people aria-labelledby="edit" {
            h2 id="edit" { "Description and permissions" }
            (refusal_box(edit_errors, &["description", "permissions"]))
            form.stack method="post" action=(path) {
                (csrf_field(&session.csrf))
                input type="hidden" name="name" value=(role.name);
                (description_field("f-description", description, edit_errors))
                (permission_boxes("role", "permissions", "Permissions", &chosen))
                @for m in edit_errors.get("permissions") { p.error { (m) } }
                button type="submit" { "Save role" }
            }
        }
        section.card.people aria-labelledby="delete" {
            h2 id="delete" { "Delete" }
            (refusal_box(delete_errors, &[]))
            p { "Only a role nobody holds can be deleted." }
            form method="post" action=(format!("{path}/delete")) {
                (csrf_field(&session.csrf))
                button.danger type="submit" { "Delete role" }
            }
        }
    })
}

/// `GET /roles/{name}`.
async fn show(
    State(st): State<ConsoleState>,
    session: Session,
    Path(name): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> ConsoleResult<Response> {
    let done: Option<String> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned());
    let body = role_page(&st, &session, &name, done.as_deref(), None).await?;
    Ok(page(&session, "/roles", "Role", body).into_response())
}

/// `POST /roles/{name}`: description and permissions (the name stays).
async fn edit(
    State(st): State<ConsoleState>,
    session: Session,
    Path(name): Path<String>,
    form: Form,
) -> ConsoleResult<Response> {
    let body = json!({
        "description": form.text("description"),
        "permissions": form.all("permissions"),
    });
    match st
        .core
        .update_role(&session.caller, &name, &body, Mode::Patch, None)
        .await
    {
        Ok(role) => {
            Ok(Redirect::to(&format!("{}?done=saved", role_path(&role.name))).into_response())
        }
        Err(e) => {
            let errors = people_refusal(e)?;
            let body = role_page(
                &st,
                &session,
                &name,
                None,
                Some((Which::Edit, &form, errors)),
            )
            .await?;
            Ok((
                StatusCode::BAD_REQUEST,
                page(&session, "/roles", "Role", body),
            )
                .into_response())
        }
    }
}

/// `POST /roles/{name}/delete`.
async fn delete(
    State(st): State<ConsoleState>,
    session: Session,
    Path(name): Path<String>,
    form: Form,
) -> ConsoleResult<Response> {
    match st.core.delete_role(&session.caller, &name, None).await {
        Ok(()) => Ok(Redirect::to("/roles").into_response()),
        Err(e) => {
            let errors = people_refusal(e)?;
            let body = role_page(
                &st,
                &session,
                &name,
                None,
                Some((Which::Delete, &form, errors)),
            )
            .await?;
            Ok((
                StatusCode::BAD_REQUEST,
                page(&session, "/roles", "Role", body),
            )
                .into_response())
        }
    }
}
