//! Account: the signed-in user's own password and two-step login (TOTP with recovery codes),
//! each through core's service for it (the same re-authentication, throttling and audit as
//! the REST API).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use rehome_core::FieldErrors;
use rehome_core::services::MfaCode;
use serde_json::Value as Json;

use super::Route;
use crate::ConsoleState;
use crate::error::ConsoleResult;
use crate::forms::{Form, Input, field_in, form_errors, mfa_code, refusal};
use crate::layout::{csrf_field, page, time, trusted_svg};
use crate::session::Session;

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new("/account", get(account)),
        Route::new("/account/password", post(change_password)),
        Route::new("/account/two-step/setup", post(two_step_setup)),
        Route::new("/account/two-step/confirm", post(two_step_confirm)),
        Route::new("/account/two-step/off", post(two_step_off)),
        Route::new("/account/recovery-codes", post(recovery_codes)),
    ]
}

/// The forms of the account page, to tell which one a refusal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Password,
    Setup,
    TwoStepOff,
    RecoveryCodes,
}

/// The account page, with one form's errors and input when it was refused.
struct View<'a> {
    done: Option<&'a str>,
    refused: Option<(Which, &'a Form, FieldErrors)>,
}

fn done_text(key: &str) -> Option<&'static str> {
    match key {
        "password" => Some("Your password is changed. Your other sessions were signed out."),
        "two-step-off" => Some("Two-step login is off."),
        _ => None,
    }
}

fn account_page(st: &ConsoleState, session: &Session, view: View<'_>) -> Markup {
    let user = &session.user;
    let empty = (FieldErrors::new(), Form::default());
    let for_form = |which: Which| -> (&FieldErrors, &Form) {
        match &view.refused {
            Some((w, form, errors)) if *w == which => (errors, form),
            _ => (&empty.0, &empty.1),
        }
    };
    let zone = st.settings.time_zone;
    html! {
        h1 { "Account" }
        @if let Some(text) = view.done.and_then(done_text) {
            div.alert.ok role="status" { p { (text) } }
        }
        section.card aria-labelledby="you" {
            h2 id="you" { "You" }
            dl {
                dt { "Username" } dd { (user.username) }
                dt { "Email" } dd { (user.email) }
                @if !user.first_name.is_empty() || !user.last_name.is_empty() {
                    dt { "Name" } dd { (user.first_name) " " (user.last_name) }
                }
                dt { "Role" } dd { (user.role.as_deref().unwrap_or("none")) }
                @if let Some(at) = user.last_login {
                    dt { "Last sign-in" } dd { (time(at, zone)) }
                }
            }
        }
        section.card aria-labelledby="password" {
            h2 id="password" { "Change password" }
            @let (errors, form) = for_form(Which::Password);
            (form_errors(errors, &["old_password", "new_password", "code"]))
            form.stack method="post" action="/account/password" {
                (csrf_field(&session.csrf))
                (field_in("pw", "Current password", "old_password", Input::Password, "", errors, "current-password"))
                (field_in("pw", "New password", "new_password", Input::Password, "", errors, "new-password"))
                @if user.mfa_enabled {
                    (field_in("pw", "Code", "code", Input::Code, form.text("code"), errors, "one-time-code"))
                }
                button type="submit" { "Change password" }
            }
        }
        section.card aria-labelledby="two-step" {
            h2 id="two-step" { "Two-step login" }
            @let (errors, _) = for_form(Which::Setup);
            (form_errors(errors, &[]))
            @if user.mfa_enabled {
                p { "Two-step login is on: signing in asks for a code from your authenticator app (or a recovery code)." }
                h3 { "New recovery codes" }
                p.muted { "The old codes stop working." }
                @let (errors, form) = for_form(Which::RecoveryCodes);
                (form_errors(errors, &["password", "code"]))
                form.stack method="post" action="/account/recovery-codes" {
                    (csrf_field(&session.csrf))
                    (field_in("rc", "Password", "password", Input::Password, "", errors, "current-password"))
                    (field_in("rc", "Code", "code", Input::Code, form.text("code"), errors, "one-time-code"))
                    button type="submit" { "Make new recovery codes" }
                }
                h3 { "Turn two-step login off" }
                @let (errors, form) = for_form(Which::TwoStepOff);
                (form_errors(errors, &["password", "code"]))
                form.stack method="post" action="/account/two-step/off" {
                    (csrf_field(&session.csrf))
                    (field_in("off", "Password", "password", Input::Password, "", errors, "current-password"))
                    (field_in("off", "Code", "code", Input::Code, form.text("code"), errors, "one-time-code"))
                    button.danger type="submit" { "Turn two-step login off" }
                }
            } @else {
                p { "Two-step login is off. With it on, signing in also asks for a code from an authenticator app on your phone." }
                form method="post" action="/account/two-step/setup" {
                    (csrf_field(&session.csrf))
                    button type="submit" { "Turn on two-step login" }
                }
            }
        }
    }
}

/// `GET /account`.
async fn account(
    State(st): State<ConsoleState>,
    session: Session,
    Query(query): Query<Json>,
) -> Response {
    let done = query.get("done").and_then(Json::as_str);
    let body = account_page(
        &st,
        &session,
        View {
            done,
            refused: None,
        },
    );
    page(&session, "/account", "Account", body).into_response()
}

/// The account page again with `which`'s refusal beside its fields.
fn refused(
    st: &ConsoleState,
    session: &Session,
    which: Which,
    form: &Form,
    e: rehome_core::Error,
) -> ConsoleResult<Response> {
    let errors = refusal(e)?;
    let body = account_page(
        st,
        session,
        View {
            done: None,
            refused: Some((which, form, errors)),
        },
    );
    Ok((
        StatusCode::BAD_REQUEST,
        page(session, "/account", "Account", body),
    )
        .into_response())
}

/// `POST /account/password`.
async fn change_password(
    State(st): State<ConsoleState>,
    session: Session,
    form: Form,
) -> ConsoleResult<Response> {
    let code = form.given("code").map(mfa_code);
    let result = st
        .core
        .change_password(
            &session.caller,
            form.given("old_password"),
            form.given("new_password"),
            code,
        )
        .await;
    match result {
        Ok(()) => Ok(Redirect::to("/account?done=password").into_response()),
        Err(e) => refused(&st, &session, Which::Password, &form, e),
    }
}

fn confirm_form(session: &Session, code: &str, errors: &FieldErrors) -> Markup {
    html! {
        (form_errors(errors, &["code"]))
        form.stack method="post" action="/account/two-step/confirm" {
            (csrf_field(&session.csrf))
            (field_in("f", "Code", "code", Input::Code, code, errors, "one-time-code"))
            button type="submit" { "Turn on" }
        }
    }
}

/// `POST /account/two-step/setup`: a new secret, shown on this page only.
async fn two_step_setup(
    State(st): State<ConsoleState>,
    session: Session,
) -> ConsoleResult<Response> {
    let setup = match st.core.totp_setup(&session.caller).await {
        Ok(s) => s,
        Err(e) => return refused(&st, &session, Which::Setup, &Form::default(), e),
    };
    let body = html! {
        h1 { "Turn on two-step login" }
        ol.steps {
            li { "Scan this QR code with an authenticator app (or type the key below into it)." }
            li { "Enter the 6-digit code the app shows." }
        }
        figure.qr {
            (trusted_svg(&setup.qr_svg))
            figcaption { "QR code for your authenticator app" }
        }
        p { "Key for typing in: " code.secret id="totp-secret" { (setup.secret) } }
        p.muted { "This key is shown only now. It is not needed again once the app has it." }
        (confirm_form(&session, "", &FieldErrors::new()))
        p { a href="/account" { "Cancel" } }
    };
    Ok(page(&session, "/account", "Turn on two-step login", body).into_response())
}

fn codes_page(session: &Session, title: &str, codes: &[String]) -> Response {
    let body = html! {
        h1 { (title) }
        div.alert.ok role="status" {
            p { "Save these recovery codes somewhere safe (print them or write them down). Each works once, instead of a code from the app, if you lose your phone. They are shown only now." }
        }
        ol.codes id="recovery-codes" {
            @for c in codes { li { code { (c) } } }
        }
        p { a.button href="/account" { "I have saved them" } }
    };
    page(session, "/account", title, body).into_response()
}

/// `POST /account/two-step/confirm`: the first code turns it on; the recovery codes are
/// shown once.
async fn two_step_confirm(
    State(st): State<ConsoleState>,
    session: Session,
    form: Form,
) -> ConsoleResult<Response> {
    match st
        .core
        .totp_confirm(&session.caller, form.text("code").trim())
        .await
    {
        Ok(codes) => Ok(codes_page(&session, "Two-step login is on", &codes)),
        Err(e) => {
            let errors = refusal(e)?;
            let body = html! {
                h1 { "Turn on two-step login" }
                p { "Enter the 6-digit code your authenticator app shows now." }
                (confirm_form(&session, form.text("code"), &errors))
                p {
                    "The key is not shown again. If your app does not have it, "
                    a href="/account" { "start again" } "."
                }
            };
            Ok((
                StatusCode::BAD_REQUEST,
                page(&session, "/account", "Turn on two-step login", body),
            )
                .into_response())
        }
    }
}

/// `POST /account/two-step/off`: needs the password and a code.
async fn two_step_off(
    State(st): State<ConsoleState>,
    session: Session,
    form: Form,
) -> ConsoleResult<Response> {
    let code = form.given("code").map(mfa_code);
    match st
        .core
        .totp_disable(&session.caller, form.given("password"), code)
        .await
    {
        Ok(()) => Ok(Redirect::to("/account?done=two-step-off").into_response()),
        Err(e) => refused(&st, &session, Which::TwoStepOff, &form, e),
    }
}

/// `POST /account/recovery-codes`: needs the password and a code from the app.
async fn recovery_codes(
    State(st): State<ConsoleState>,
    session: Session,
    form: Form,
) -> ConsoleResult<Response> {
    let code = form.given("code").map(|c| match mfa_code(c) {
        MfaCode::Totp(c) | MfaCode::Recovery(c) => c,
    });
    match st
        .core
        .regenerate_recovery_codes(&session.caller, form.given("password"), code.as_deref())
        .await
    {
        Ok(codes) => Ok(codes_page(&session, "New recovery codes", &codes)),
        Err(e) => refused(&st, &session, Which::RecoveryCodes, &form, e),
    }
}
