//! The new-password page a user meets after a coordinator reset its password (core's
//! `must_change_password`): until the user chooses one of its own, every other console page
//! leads here (the [`crate::session::Session`] extractor sends it), and core refuses every
//! other service anyway. The change itself is core's [`rehome_core::Rehome::change_password`]
//! (the temporary password as the old one, a code when two-step login is on).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use rehome_core::FieldErrors;
use serde_json::Value as Json;

use super::Route;
use super::sign_in::safe_next;
use crate::ConsoleState;
use crate::error::ConsoleResult;
use crate::forms::{Form, Input, field, form_errors, mfa_code, refusal};
use crate::layout::{csrf_field, page};
use crate::session::Session;

/// The page's path (the session gate lets it through).
pub const PATH: &str = "/account/new-password";

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new(PATH, get(show).post(change))]
}

fn form(session: &Session, next: &str, code: &str, errors: &FieldErrors) -> Markup {
    html! {
        h1 { "Choose a new password" }
        p { "Your password was reset by a coordinator. Choose a new password of your own before going on." }
        (form_errors(errors, &["old_password", "new_password", "code"]))
        form.stack method="post" action=(PATH) {
            (csrf_field(&session.csrf))
            input type="hidden" name="next" value=(next);
            (field("Temporary password", "old_password", Input::Password, "", errors, "current-password"))
            (field("New password", "new_password", Input::Password, "", errors, "new-password"))
            @if session.user.mfa_enabled {
                (field("Code", "code", Input::Code, code, errors, "one-time-code"))
            }
            button type="submit" { "Save new password" }
        }
    }
}

/// `GET /account/new-password`: the form (or the account page when no change is due).
async fn show(session: Session, Query(query): Query<Json>) -> Response {
    if !session.user.must_change_password {
        return Redirect::to("/account").into_response();
    }
    let next = safe_next(query.get("next").and_then(Json::as_str));
    let body = form(&session, &next, "", &FieldErrors::new());
    page(&session, "/account", "Choose a new password", body).into_response()
}

/// `POST /account/new-password`: core's password change; then on to where the user was
/// going.
async fn change(
    State(st): State<ConsoleState>,
    session: Session,
    form_data: Form,
) -> ConsoleResult<Response> {
    let next = safe_next(form_data.get("next"));
    let code = form_data.given("code").map(mfa_code);
    match st
        .core
        .change_password(
            &session.caller,
            form_data.given("old_password"),
            form_data.given("new_password"),
            code,
        )
        .await
    {
        Ok(()) => Ok(Redirect::to(&next).into_response()),
        Err(e) => {
            let errors = refusal(e)?;
            let body = form(&session, &next, form_data.text("code"), &errors);
            Ok((
                StatusCode::BAD_REQUEST,
                page(&session, "/account", "Choose a new password", body),
            )
                .into_response())
        }
    }
}
