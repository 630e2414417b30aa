//! Users, at `/people` (`/users` is the REST API's prefix; the menu says "Users"; needs
//! `manageUsers`, as core decides): the list, a new user, and a user's page
//! (active or not, role, direct grants, a coordinator's reset of its password or of its
//! two-step login).
//!
//! Every read and write is core's service with the signed-in caller: [`Rehome::list_users`],
//! [`Rehome::create_user`], [`Rehome::update_user`], [`Rehome::change_user_permissions`],
//! [`Rehome::reset_password`] and [`Rehome::reset_two_step`]. The no-escalation rules are
//! core's: a refusal is shown beside the form with core's sentence, the user's input kept.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use rehome_core::services::accounts::GrantChange;
use rehome_core::services::{ListParams, Mode};
use rehome_core::{Error, FieldErrors, Permission, Permissions, Rehome, Role, User, UserId};
use serde_json::{Value as Json, json};

use super::Route;
use crate::ConsoleState;
use crate::error::{ConsoleError, ConsoleResult};
use crate::forms::{Form, Input, NON_FIELD, field, form_errors, refusal};
use crate::layout::{csrf_field, page, time};
use crate::session::Session;

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new("/people", get(list).post(create)),
        Route::new("/people/{id}", get(show)),
        Route::new("/people/{id}/active", post(set_active)),
        Route::new("/people/{id}/role", post(set_role)),
        Route::new("/people/{id}/grants", post(set_grants)),
        Route::new("/people/{id}/reset-password", post(reset_password)),
        Route::new("/people/{id}/reset-two-step", post(reset_two_step)),
    ]
}

/// What the forms of this screen and of roles say under a refusal of core's no-escalation
/// rules (the sentence itself is core's).
pub(crate) const ESCALATION_HINT: &str = "A user manager grants only permissions they hold \
    themselves, and changes only users who hold nothing they lack.";

/// A refusal from core shown in place: [`refusal`]'s, and a permission refusal (a
/// no-escalation rule) with core's sentence. Anything else is a failure page.
pub(crate) fn people_refusal(e: Error) -> Result<FieldErrors, Error> {
    match e {
        Error::PermissionDenied => Ok(FieldErrors::one(
            NON_FIELD,
            rehome_core::error::PERMISSION_DENIED,
        )),
        e => refusal(e),
    }
}

/// The refusal list at the top of a form, with the no-escalation hint when core refused
/// permission.
pub(crate) fn refusal_box(errors: &FieldErrors, shown: &[&str]) -> Markup {
    let denied = errors
        .get(NON_FIELD)
        .iter()
        .any(|m| m == rehome_core::error::PERMISSION_DENIED);
    html! {
        (form_errors(errors, shown))
        @if denied { p.muted.hint { (ESCALATION_HINT) } }
    }
}

/// The permissions as checkboxes named `name`, `chosen` ticked; ids `<prefix>-<permission>`.
pub(crate) fn permission_boxes(prefix: &str, name: &str, legend: &str, chosen: &[&str]) -> Markup {
    html! {
        fieldset.permissions {
            legend { (legend) }
            @for p in Permission::ALL {
                @let id = format!("{prefix}-{}", p.as_str());
                div.check {
                    input type="checkbox" id=(id) name=(name) value=(p.as_str())
                        checked[chosen.contains(&p.as_str())];
                    label for=(id) { (p.as_str()) }
                }
            }
        }
    }
}

/// The names of a permission set.
pub(crate) fn names(p: Permissions) -> Vec<&'static str> {
    p.names()
}

/// A user id from the path: a positive integer, else nothing is there.
fn user_id(raw: &str) -> ConsoleResult<UserId> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .map(UserId)
        .ok_or(ConsoleError::NotFound)
}

/// Every role (for the role selects), in name order.
pub(crate) async fn all_roles(core: &Rehome, session: &Session) -> ConsoleResult<Vec<Role>> {
    let mut roles = Vec::new();
    let mut page_no = 1u64;
    loop {
        let params = ListParams::new([
            ("page", page_no.to_string()),
            ("page_size", "100".to_owned()),
        ]);
        let result = core.list_roles(&session.caller, &params).await?;
        let more = result.has_next();
        roles.extend(result.results);
        if !more {
            return Ok(roles);
        }
        page_no += 1;
    }
}

fn role_select(id: &str, roles: &[Role], chosen: &str, errors: &FieldErrors) -> Markup {
    let messages = errors.get("role");
    html! {
        div.field.invalid[!messages.is_empty()] {
            label for=(id) { "Role" }
            select id=(id) name="role" {
                option value="" selected[chosen.is_empty()] { "No role" }
                @for r in roles {
                    option value=(r.name) selected[chosen == r.name] { (r.name) }
                }
            }
            @if !messages.is_empty() {
                p.error { @for m in messages { (m) " " } }
            }
        }
    }
}

fn full_name(u: &User) -> String {
    format!("{} {}", u.first_name, u.last_name)
        .trim()
        .to_owned()
}

fn yes_no(v: bool) -> &'static str {
    if v { "yes" } else { "no" }
}

fn with_page(page: &str) -> String {
    format!("/people?page={page}")
}

/// The list and the new-user form (with its refusal and input when one was refused).
async fn list_page(
    st: &ConsoleState,
    session: &Session,
    raw: Option<&str>,
    refused: Option<(&Form, FieldErrors)>,
) -> ConsoleResult<Markup> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .filter(|(k, _)| k == "page" || k == "search")
        .collect();
    let params = ListParams::new(pairs);
    let result = st.core.list_users(&session.caller, &params).await?;
    let roles = all_roles(&st.core, session).await?;
    let empty = Form::default();
    let (form, errors) = match &refused {
        Some((f, e)) => (*f, e.clone()),
        None => (&empty, FieldErrors::new()),
    };
    let zone = st.settings.time_zone;
    Ok(html! {
        h1 { "Users" }
        p.muted { (result.count) " users · page " (result.page) " of " (result.total_pages) }
        div.table-scroll {
            table.people {
                caption.visually-hidden { "Users" }
                thead { tr {
                    th scope="col" { "Username" }
                    th scope="col" { "Name" }
                    th scope="col" { "Role" }
                    th scope="col" { "Active" }
                    th scope="col" { "Two-step login" }
                    th scope="col" { "Last sign-in" }
                } }
                tbody {
                    @for u in &result.results {
                        tr {
                            td data-label="Username" {
                                // One grid item in the phone layout, badge included.
                                span {
                                    a href=(format!("/people/{}", u.id.0)) { (u.username) }
                                    @if u.is_superuser { " " span.status { "superuser" } }
                                }
                            }
                            td data-label="Name" { (full_name(u)) }
                            td data-label="Role" { (u.role.as_deref().unwrap_or("none")) }
                            td data-label="Active" { (yes_no(u.is_active)) }
                            td data-label="Two-step login" { (if u.mfa_enabled { "on" } else { "off" }) }
                            td data-label="Last sign-in" {
                                @if let Some(at) = u.last_login { (time(at, zone)) } @else { "never" }
                            }
                        }
                    }
                }
            }
        }
        nav.pages aria-label="Pages" {
            @if result.has_previous() {
                a href=(with_page(&(result.page - 1).to_string())) rel="prev" { "Previous" }
            }
            @if result.has_next() {
                a href=(with_page(&(result.page + 1).to_string())) rel="next" { "Next" }
            }
        }
        section.card.people aria-labelledby="new-user" {
            h2 id="new-user" { "New user" }
            (refusal_box(&errors, &["username", "email", "first_name", "last_name", "password", "role"]))
            form.stack method="post" action="/people" {
                (csrf_field(&session.csrf))
                (field("Username", "username", Input::Text, form.text("username"), &errors, "off"))
                (field("Email", "email", Input::Text, form.text("email"), &errors, "off"))
                (field("First name", "first_name", Input::Text, form.text("first_name"), &errors, "off"))
                (field("Last name", "last_name", Input::Text, form.text("last_name"), &errors, "off"))
                (field("Password", "password", Input::Password, "", &errors, "new-password"))
                (role_select("f-role", &roles, form.text("role"), &errors))
                button type="submit" { "Create user" }
            }
        }
    })
}

/// `GET /people`.
async fn list(
    State(st): State<ConsoleState>,
    session: Session,
    RawQuery(raw): RawQuery,
) -> ConsoleResult<Response> {
    let body = list_page(&st, &session, raw.as_deref(), None).await?;
    Ok(page(&session, "/people", "Users", body).into_response())
}

/// `POST /people`: a new user through core's create (role under the no-escalation rules).
async fn create(
    State(st): State<ConsoleState>,
    session: Session,
    form: Form,
) -> ConsoleResult<Response> {
    let role = form.given("role").map_or(Json::Null, |r| json!(r));
    let body = json!({
        "username": form.text("username"),
        "email": form.text("email"),
        "first_name": form.text("first_name"),
        "last_name": form.text("last_name"),
        "password": form.text("password"),
        "role": role,
    });
    match st.core.create_user(&session.caller, &body).await {
        Ok(user) => {
            Ok(Redirect::to(&format!("/people/{}?done=created", user.id.0)).into_response())
        }
        Err(e) => {
            let errors = people_refusal(e)?;
            let body = list_page(&st, &session, None, Some((&form, errors))).await?;
            Ok((
                StatusCode::BAD_REQUEST,
                page(&session, "/people", "Users", body),
            )
                .into_response())
        }
    }
}

/// Which form of the user page a refusal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Active,
    Role,
    Grants,
    ResetPassword,
    ResetTwoStep,
}

fn done_text(key: &str) -> Option<&'static str> {
    match key {
        "created" => Some("The user is created."),
        "active" => Some("Saved: the user is active."),
        "inactive" => Some("Saved: the user is deactivated and signed out everywhere."),
        "role" => Some("The role is saved."),
        "grants" => Some("The permissions are saved."),
        "two-step" => Some(
            "Two-step login is reset: the user signs in with the password alone and may turn it on again.",
        ),
        _ => None,
    }
}

struct UserView<'a> {
    done: Option<&'a str>,
    refused: Option<(Which, &'a Form, FieldErrors)>,
    /// A temporary password just made (shown only now).
    temporary: Option<String>,
}

async fn user_page(
    st: &ConsoleState,
    session: &Session,
    id: UserId,
    view: UserView<'_>,
) -> ConsoleResult<Markup> {
    let user = st.core.get_user(&session.caller, id).await?;
    let roles = all_roles(&st.core, session).await?;
    let role_perms = roles
        .iter()
        .find(|r| Some(&r.name) == user.role.as_ref())
        .map(|r| r.permissions)
        .unwrap_or_default();
    let empty = (FieldErrors::new(), Form::default());
    let for_form = |which: Which| -> (&FieldErrors, Option<&Form>) {
        match &view.refused {
            Some((w, form, errors)) if *w == which => (errors, Some(*form)),
            _ => (&empty.0, None),
        }
    };
    let zone = st.settings.time_zone;
    // One's own page offers no reset (core refuses it); a refused one still shows why.
    let show_resets = session.user.id != user.id
        || matches!(
            view.refused,
            Some((Which::ResetPassword | Which::ResetTwoStep, _, _))
        );
    let base = format!("/people/{}", user.id.0);
    let granted = names(user.permissions);
    Ok(html! {
        p { a href="/people" { "← All users" } }
        h1 { "User " (user.username) }
        @if let Some(text) = view.done.and_then(done_text) {
            div.alert.ok role="status" { p { (text) } }
        }
        @if let Some((which, _, _)) = &view.refused {
            @let (anchor, title) = match which {
                Which::Active => ("#active", "Active"),
                Which::Role => ("#role", "Role"),
                Which::Grants => ("#grants", "Permissions granted directly"),
                Which::ResetPassword | Which::ResetTwoStep => ("#resets", "Resets"),
            };
            div.alert.error role="alert" {
                p { "Not saved. The reason is under " a href=(anchor) { (title) } "." }
            }
        }
        @if let Some(temporary) = &view.temporary {
            div.alert.ok role="status" {
                p { "The password of " strong { (user.username) } " is reset. Their temporary password (shown only now):" }
                p { code.secret id="temporary-password" { (temporary) } }
                p { "Give it to them in person. At their next sign-in they must choose a new one; they were signed out everywhere." }
            }
        }
        section.card.people aria-labelledby="about" {
            h2 id="about" { "About" }
            dl.fields {
                dt { "Username" } dd { (user.username) }
                dt { "Name" } dd { (full_name(&user)) }
                dt { "Email" } dd { (user.email) }
                dt { "Role" } dd { (user.role.as_deref().unwrap_or("none")) }
                dt { "Active" } dd { (yes_no(user.is_active)) }
                dt { "Superuser" } dd { (yes_no(user.is_superuser)) }
                dt { "Two-step login" } dd { (if user.mfa_enabled { "on" } else { "off" }) }
                dt { "Must choose a new password" } dd { (yes_no(user.must_change_password)) }
                dt { "Joined" } dd { (time(user.date_joined, zone)) }
                dt { "Last sign-in" } dd {
                    @if let Some(at) = user.last_login { (time(at, zone)) } @else { "never" }
                }
            }
        }
        section.card.people aria-labelledby="active" {
            h2 id="active" { "Active" }
            @let (errors, _) = for_form(Which::Active);
            (refusal_box(errors, &[]))
            form method="post" action=(format!("{base}/active")) {
                (csrf_field(&session.csrf))
                @if user.is_active {
                    p { "An inactive user cannot sign in and holds no permission." }
                    input type="hidden" name="active" value="false";
                    button.danger type="submit" { "Deactivate user" }
                } @else {
                    p { "This user is deactivated: they cannot sign in." }
                    input type="hidden" name="active" value="true";
                    button type="submit" { "Reactivate user" }
                }
            }
        }
        section.card.people aria-labelledby="role" {
            h2 id="role" { "Role" }
            @let (errors, form) = for_form(Which::Role);
            @let chosen = form.map_or_else(|| user.role.clone().unwrap_or_default(), |f| f.text("role").to_owned());
            (refusal_box(errors, &["role"]))
            form.stack method="post" action=(format!("{base}/role")) {
                (csrf_field(&session.csrf))
                (role_select("role-role", &roles, &chosen, errors))
                button type="submit" { "Save role" }
            }
            @if !role_perms.is_empty() {
                p.muted { "The role gives: " (names(role_perms).join(", ")) }
            }
        }
        section.card.people aria-labelledby="grants" {
            h2 id="grants" { "Permissions granted directly" }
            p.muted { "Added to the role's permissions." }
            @let (errors, form) = for_form(Which::Grants);
            @let chosen: Vec<&str> = form.map_or_else(|| granted.clone(), |f| f.all("permissions"));
            (refusal_box(errors, &["permissions"]))
            form.stack method="post" action=(format!("{base}/grants")) {
                (csrf_field(&session.csrf))
                (permission_boxes("grant", "permissions", "Permissions", &chosen))
                @for m in errors.get("permissions") { p.error { (m) } }
                button type="submit" { "Save permissions" }
            }
        }
        @if show_resets {
            section.card.people aria-labelledby="resets" {
                h2 id="resets" { "Resets" }
                p { "For a user who forgot their password or lost their phone. Done in person: the user is signed out everywhere." }
                @let (errors, _) = for_form(Which::ResetPassword);
                (refusal_box(errors, &[]))
                form method="post" action=(format!("{base}/reset-password")) {
                    (csrf_field(&session.csrf))
                    button.danger type="submit" { "Reset password" }
                }
                @let (errors, _) = for_form(Which::ResetTwoStep);
                (refusal_box(errors, &[]))
                @if user.mfa_enabled {
                    form method="post" action=(format!("{base}/reset-two-step")) {
                        (csrf_field(&session.csrf))
                        button.danger type="submit" { "Reset two-step login" }
                    }
                }
            }
        }
    })
}

fn render(session: &Session, status: StatusCode, body: Markup) -> Response {
    (status, page(session, "/people", "User", body)).into_response()
}

/// `GET /people/{id}`.
async fn show(
    State(st): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ConsoleResult<Response> {
    let id = user_id(&id)?;
    let done: Option<String> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned());
    let view = UserView {
        done: done.as_deref(),
        refused: None,
        temporary: None,
    };
    let body = user_page(&st, &session, id, view).await?;
    Ok(render(&session, StatusCode::OK, body))
}

/// The outcome of one of the user page's forms: on to the page with `done`, or the page again
/// with the refusal beside the form.
async fn outcome<T>(
    st: &ConsoleState,
    session: &Session,
    id: UserId,
    which: Which,
    form: &Form,
    result: Result<T, Error>,
    done: &str,
) -> ConsoleResult<Response> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/people/{}?done={done}", id.0)).into_response()),
        Err(e) => {
            let errors = people_refusal(e)?;
            let view = UserView {
                done: None,
                refused: Some((which, form, errors)),
                temporary: None,
            };
            let body = user_page(st, session, id, view).await?;
            Ok(render(session, StatusCode::BAD_REQUEST, body))
        }
    }
}

/// `POST /people/{id}/active`: deactivate or reactivate.
async fn set_active(
    State(st): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> ConsoleResult<Response> {
    let id = user_id(&id)?;
    let active = form.text("active") == "true";
    let result = st
        .core
        .update_user(
            &session.caller,
            id,
            &json!({"is_active": active}),
            Mode::Patch,
            None,
        )
        .await;
    let done = if active { "active" } else { "inactive" };
    outcome(&st, &session, id, Which::Active, &form, result, done).await
}

/// `POST /people/{id}/role`.
async fn set_role(
    State(st): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> ConsoleResult<Response> {
    let id = user_id(&id)?;
    let role = form.given("role").map_or(Json::Null, |r| json!(r));
    let result = st
        .core
        .update_user(
            &session.caller,
            id,
            &json!({"role": role}),
            Mode::Patch,
            None,
        )
        .await;
    outcome(&st, &session, id, Which::Role, &form, result, "role").await
}

/// `POST /people/{id}/grants`: the ticked permissions replace the direct grants.
async fn set_grants(
    State(st): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> ConsoleResult<Response> {
    let id = user_id(&id)?;
    let user = st.core.get_user(&session.caller, id).await?;
    let list = json!(form.all("permissions"));
    let result = st
        .core
        .change_user_permissions(&session.caller, &user.username, GrantChange::Replace, &list)
        .await;
    outcome(&st, &session, id, Which::Grants, &form, result, "grants").await
}

/// `POST /people/{id}/reset-password`: core's reset; the temporary password is shown once.
async fn reset_password(
    State(st): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> ConsoleResult<Response> {
    let id = user_id(&id)?;
    match st.core.reset_password(&session.caller, id).await {
        Ok(temporary) => {
            let view = UserView {
                done: None,
                refused: None,
                temporary: Some(temporary),
            };
            let body = user_page(&st, &session, id, view).await?;
            Ok(render(&session, StatusCode::OK, body))
        }
        Err(e) => outcome::<()>(&st, &session, id, Which::ResetPassword, &form, Err(e), "").await,
    }
}

/// `POST /people/{id}/reset-two-step`.
async fn reset_two_step(
    State(st): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> ConsoleResult<Response> {
    let id = user_id(&id)?;
    let result = st.core.reset_two_step(&session.caller, id).await;
    outcome(
        &st,
        &session,
        id,
        Which::ResetTwoStep,
        &form,
        result,
        "two-step",
    )
    .await
}
