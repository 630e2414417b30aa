//! Signing in (password, then a code when two-step login is on) and out, through core's
//! login: the same throttling, lockouts and error sentences as the REST API.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use rehome_core::env::{OsRandomness, Randomness};
use rehome_core::services::{LoginOutcome, SessionGrant};
use rehome_core::{Error, FieldErrors};
use serde_json::Value as Json;

use super::Route;
use crate::ConsoleState;
use crate::error::{ConsoleError, ConsoleResult, throttled_text};
use crate::forms::{Form, Input, NON_FIELD, field, form_errors, mfa_code};
use crate::layout::{bare_page, csrf_field};
use crate::session::{
    ClientIp, MFA_COOKIE, SESSION_COOKIE, SIGN_IN_COOKIE, Session, cookie, csrf_token, set_cookie,
};

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new("/sign-in", get(sign_in_page).post(sign_in)),
        Route::new("/sign-in/code", get(code_page).post(code)),
        Route::new("/sign-out", post(sign_out)),
    ]
}

/// Where to go after signing in: a path on this site only (never `//elsewhere`).
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn next_of(query: &Json) -> Option<&str> {
    query.get("next").and_then(Json::as_str)
}

/// The sign-in form's secret: the cookie's, or a new one (set with the page).
fn sign_in_secret(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, SIGN_IN_COOKIE) {
        Some(s) => (s, false),
        None => {
            let mut bytes = [0u8; 32];
            OsRandomness.fill(&mut bytes);
            (hex::encode(bytes), true)
        }
    }
}

struct SignInForm<'a> {
    csrf: String,
    next: String,
    username: &'a str,
    errors: FieldErrors,
}

fn sign_in_form(f: &SignInForm<'_>) -> maud::Markup {
    html! {
        h1 { "Sign in" }
        (form_errors(&f.errors, &["username", "password"]))
        form.stack method="post" action="/sign-in" {
            (csrf_field(&f.csrf))
            input type="hidden" name="next" value=(f.next);
            (field("Username", "username", Input::Text, f.username, &f.errors, "username"))
            (field("Password", "password", Input::Password, "", &f.errors, "current-password"))
            button type="submit" { "Sign in" }
        }
    }
}

fn render_sign_in(
    status: StatusCode,
    headers: &HeaderMap,
    secure: bool,
    next: String,
    username: &str,
    errors: FieldErrors,
) -> Response {
    let (secret, new) = sign_in_secret(headers);
    let body = sign_in_form(&SignInForm {
        csrf: csrf_token(&secret),
        next,
        username,
        errors,
    });
    let mut response = (status, bare_page("Sign in", body)).into_response();
    if new {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(SIGN_IN_COOKIE, &secret, "/sign-in", 3600, secure),
        );
    }
    response
}

/// `GET /sign-in`: the form (or home, when already signed in).
async fn sign_in_page(
    State(st): State<ConsoleState>,
    session: Option<Session>,
    headers: HeaderMap,
    Query(query): Query<Json>,
) -> Response {
    let next = safe_next(next_of(&query));
    if session.is_some() {
        return Redirect::to(&next).into_response();
    }
    render_sign_in(
        StatusCode::OK,
        &headers,
        st.settings.secure_cookies,
        next,
        "",
        FieldErrors::new(),
    )
}

/// The message a failed sign-in step shows, keyed like a field error (`None`: not a refusal
/// to show but a failure page).
fn refusal(e: Error) -> Result<(StatusCode, FieldErrors), ConsoleError> {
    match e {
        Error::AuthenticationFailed { detail } => Ok((
            StatusCode::UNAUTHORIZED,
            FieldErrors::one(NON_FIELD, detail),
        )),
        Error::Throttled { retry_after_secs } => Ok((
            StatusCode::TOO_MANY_REQUESTS,
            FieldErrors::one(NON_FIELD, throttled_text(retry_after_secs)),
        )),
        Error::Validation(fields) => Ok((StatusCode::BAD_REQUEST, fields)),
        e => Err(e.into()),
    }
}

/// The session cookie for a new grant, and the way on.
fn signed_in(st: &ConsoleState, grant: &SessionGrant, next: &str) -> Response {
    let secure = st.settings.secure_cookies;
    let max_age = (grant.expires_at - st.core.now()).num_seconds().max(0);
    let mut response = Redirect::to(next).into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &grant.access_token, "/", max_age, secure),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(MFA_COOKIE, "", "/sign-in", 0, secure),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(SIGN_IN_COOKIE, "", "/sign-in", 0, secure),
    );
    response
}

/// `POST /sign-in`: the password step.
async fn sign_in(
    State(st): State<ConsoleState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Form,
) -> ConsoleResult<Response> {
    let next = safe_next(form.get("next"));
    let username = form.text("username");
    let mut missing = FieldErrors::new();
    for name in ["username", "password"] {
        if form.given(name).is_none() {
            missing.add(name, "This field is required.");
        }
    }
    let secure = st.settings.secure_cookies;
    if !missing.is_empty() {
        return Ok(render_sign_in(
            StatusCode::BAD_REQUEST,
            &headers,
            secure,
            next,
            username,
            missing,
        ));
    }
    let outcome = st
        .core
        .login(username, form.text("password"), ip.as_deref())
        .await;
    match outcome {
        Ok(LoginOutcome::Session(grant)) => Ok(signed_in(&st, &grant, &next)),
        Ok(LoginOutcome::MfaRequired { mfa_token, .. }) => {
            let max_age = st.core.auth_config().mfa_token_lifetime.num_seconds();
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("next", &next)
                .finish();
            let mut response = Redirect::to(&format!("/sign-in/code?{query}")).into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(MFA_COOKIE, &mfa_token, "/sign-in", max_age, secure),
            );
            Ok(response)
        }
        Err(e) => {
            let (status, errors) = refusal(e)?;
            Ok(render_sign_in(
                status, &headers, secure, next, username, errors,
            ))
        }
    }
}

fn code_form(csrf: &str, next: &str, code: &str, errors: &FieldErrors) -> maud::Markup {
    html! {
        h1 { "Two-step login" }
        p { "Enter the 6-digit code from your authenticator app, or one of your recovery codes." }
        (form_errors(errors, &["code"]))
        form.stack method="post" action="/sign-in/code" {
            (csrf_field(csrf))
            input type="hidden" name="next" value=(next);
            (field("Code", "code", Input::Code, code, errors, "one-time-code"))
            button type="submit" { "Sign in" }
        }
        p { a href="/sign-in" { "Start again with your username and password" } }
    }
}

/// `GET /sign-in/code`: the second step (only with a half-login cookie).
async fn code_page(headers: HeaderMap, Query(query): Query<Json>) -> Response {
    let next = safe_next(next_of(&query));
    let Some(token) = cookie(&headers, MFA_COOKIE) else {
        return Redirect::to("/sign-in").into_response();
    };
    let body = code_form(&csrf_token(&token), &next, "", &FieldErrors::new());
    bare_page("Two-step login", body).into_response()
}

/// `POST /sign-in/code`: the code step.
async fn code(
    State(st): State<ConsoleState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Form,
) -> ConsoleResult<Response> {
    let next = safe_next(form.get("next"));
    let Some(token) = cookie(&headers, MFA_COOKIE) else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let csrf = csrf_token(&token);
    let Some(text) = form.given("code") else {
        let errors = FieldErrors::one("code", "This field is required.");
        let body = code_form(&csrf, &next, "", &errors);
        return Ok((StatusCode::BAD_REQUEST, bare_page("Two-step login", body)).into_response());
    };
    match st
        .core
        .verify_mfa(&token, mfa_code(text), ip.as_deref())
        .await
    {
        Ok(grant) => Ok(signed_in(&st, &grant, &next)),
        Err(e) => {
            let (status, mut errors) = refusal(e)?;
            // A wrong code is the code field's fault; keep core's sentence.
            if let Some(m) = errors.0.remove(NON_FIELD) {
                for m in m {
                    errors.add("code", m);
                }
            }
            let body = code_form(&csrf, &next, text, &errors);
            Ok((status, bare_page("Two-step login", body)).into_response())
        }
    }
}

/// `POST /sign-out`: ends the session in the store (every server refuses it from now on).
async fn sign_out(State(st): State<ConsoleState>, session: Session) -> ConsoleResult<Response> {
    st.core.logout(&session.caller).await?;
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", "/", 0, st.settings.secure_cookies),
    );
    Ok(response)
}
