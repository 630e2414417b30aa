//! `/authen/`: login (with MFA), logout, the caller's own user, TOTP and recovery codes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use rehome_core::services::{LoginOutcome, MfaCode, SessionGrant};
use rehome_core::{Error, FieldErrors};
use serde_json::{Value as Json, json};

use super::{expect_object, no_content, object, required_text, text_field};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, ClientIp, JsonBody};
use crate::openapi::doc;

fn grant_body(g: &SessionGrant) -> Json {
    json!({
        "username": g.username,
        "user_id": g.user_id,
        "tokens": {
            "access_token": g.access_token,
            "expires_at": g.expires_at,
        },
    })
}

/// The second factor of a body: `code` (TOTP) or `recovery_code`.
fn second_factor(body: &Json, errors: &mut FieldErrors) -> Option<MfaCode> {
    let code = text_field(body, "code", errors);
    let recovery = text_field(body, "recovery_code", errors);
    match (code, recovery) {
        (Some(c), _) => Some(MfaCode::Totp(c)),
        (None, Some(r)) => Some(MfaCode::Recovery(r)),
        (None, None) => None,
    }
}

/// Log in with a username and password.
#[utoipa::path(post, path = "/authen/login/", tag = "auth",
    request_body = doc::LoginRequest,
    responses(
        (status = 200, description = "Logged in, or the second step is needed (MFA on)", body = doc::LoginResponse),
        (status = 400, description = "A field is missing"),
        (status = 401, description = "Invalid username or password"),
        (status = 429, description = "Too many failed attempts; see Retry-After"),
    ))]
pub(crate) async fn login(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody,
) -> ApiResult {
    expect_object(&body)?;
    let mut errors = FieldErrors::new();
    let username = required_text(&body, "username", &mut errors);
    let password = required_text(&body, "password", &mut errors);
    let (Some(username), Some(password)) = (username, password) else {
        return Err(ApiError::Fields(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    match st.core.login(&username, &password, ip.as_deref()).await? {
        LoginOutcome::Session(grant) => Ok(axum::Json(grant_body(&grant)).into_response()),
        LoginOutcome::MfaRequired { mfa_token, methods } => Ok(axum::Json(json!({
            "mfa_required": true,
            "mfa_token": mfa_token,
            "methods": methods,
        }))
        .into_response()),
    }
}

/// The second login step: a TOTP code or a recovery code for the MFA token.
#[utoipa::path(post, path = "/authen/mfa/verify/", tag = "auth",
    request_body = doc::MfaVerifyRequest,
    responses(
        (status = 200, description = "Logged in", body = doc::LoginResponse),
        (status = 400, description = "A field is missing"),
        (status = 401, description = "Invalid code or MFA token"),
        (status = 429, description = "Too many failed attempts"),
    ))]
pub(crate) async fn mfa_verify(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody,
) -> ApiResult {
    expect_object(&body)?;
    let mut errors = FieldErrors::new();
    let token = required_text(&body, "mfa_token", &mut errors);
    let code = second_factor(&body, &mut errors);
    if code.is_none() && errors.get("code").is_empty() {
        errors.add("code", "Give code or recovery_code.");
    }
    let (Some(token), Some(code), true) = (token, code, errors.is_empty()) else {
        return Err(ApiError::Fields(errors));
    };
    let grant = st.core.verify_mfa(&token, code, ip.as_deref()).await?;
    Ok(axum::Json(grant_body(&grant)).into_response())
}

/// Ends this session everywhere.
#[utoipa::path(post, path = "/authen/logout/", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
    ))]
pub(crate) async fn logout(State(st): State<AppState>, Auth(caller): Auth) -> ApiResult {
    st.core.logout(&caller).await?;
    Ok(no_content())
}

/// Ends every session of the caller's user.
#[utoipa::path(post, path = "/authen/logout-all/", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session ended"),
    ))]
pub(crate) async fn logout_all(State(st): State<AppState>, Auth(caller): Auth) -> ApiResult {
    st.core.logout_all(&caller).await?;
    Ok(no_content())
}

/// The caller's own user.
#[utoipa::path(get, path = "/authen/me/", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = rehome_core::model::UserView),
    ))]
pub(crate) async fn me(State(st): State<AppState>, Auth(caller): Auth) -> ApiResult {
    let user = caller.as_user().ok_or(Error::InvalidToken)?;
    let body = st.core.user_json(user).await?;
    Ok(object(StatusCode::OK, body, user.version, None))
}

/// Starts TOTP setup: a new secret, shown once.
#[utoipa::path(post, path = "/authen/mfa/totp/setup/", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The secret, its otpauth URI and a QR code", body = rehome_core::services::TotpSetup),
        (status = 409, description = "MFA is already on"),
    ))]
pub(crate) async fn totp_setup(State(st): State<AppState>, Auth(caller): Auth) -> ApiResult {
    let setup = st.core.totp_setup(&caller).await?;
    Ok(axum::Json(setup).into_response())
}

/// Confirms TOTP setup with a current code; MFA is on and the recovery codes are shown once.
#[utoipa::path(post, path = "/authen/mfa/totp/confirm/", tag = "auth", security(("bearer" = [])),
    request_body = doc::CodeRequest,
    responses(
        (status = 200, description = "MFA is on", body = doc::RecoveryCodes),
        (status = 400, description = "Missing code or no setup started"),
        (status = 401, description = "Wrong code or not authenticated"),
        (status = 409, description = "MFA is already on"),
        (status = 429, description = "Too many failed attempts"),
    ))]
pub(crate) async fn totp_confirm(
    State(st): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult {
    expect_object(&body)?;
    let mut errors = FieldErrors::new();
    let code = required_text(&body, "code", &mut errors);
    let (Some(code), true) = (code, errors.is_empty()) else {
        return Err(ApiError::Fields(errors));
    };
    let codes = st.core.totp_confirm(&caller, &code).await?;
    Ok(axum::Json(json!({ "recovery_codes": codes })).into_response())
}

/// Turns MFA off (password and a TOTP or recovery code).
///
/// A wrong password or code is refused (400 or 401); failures count like failed logins (429).
#[utoipa::path(post, path = "/authen/mfa/totp/disable/", tag = "auth", security(("bearer" = [])),
    request_body = doc::ReauthRequest,
    responses(
        (status = 204, description = "MFA is off"),
        (status = 400, description = "A field is missing"),
        (status = 401, description = "Wrong password or code, or not authenticated"),
        (status = 409, description = "MFA is not on"),
        (status = 429, description = "Too many failed attempts"),
    ))]
pub(crate) async fn totp_disable(
    State(st): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult {
    expect_object(&body)?;
    let mut errors = FieldErrors::new();
    let password = text_field(&body, "password", &mut errors);
    let code = second_factor(&body, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    st.core
        .totp_disable(&caller, password.as_deref(), code)
        .await?;
    Ok(no_content())
}

/// Replaces the recovery codes (password and a TOTP code); the old ones are void.
///
/// A wrong password or code is refused (400 or 401); failures count like failed logins (429).
#[utoipa::path(post, path = "/authen/mfa/recovery-codes/", tag = "auth", security(("bearer" = [])),
    request_body = doc::ReauthRequest,
    responses(
        (status = 200, description = "Ten new codes, shown once", body = doc::RecoveryCodes),
        (status = 400, description = "A field is missing"),
        (status = 401, description = "Wrong password or code, or not authenticated"),
        (status = 409, description = "MFA is not on"),
        (status = 429, description = "Too many failed attempts"),
    ))]
pub(crate) async fn recovery_codes(
    State(st): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult {
    expect_object(&body)?;
    let mut errors = FieldErrors::new();
    let password = text_field(&body, "password", &mut errors);
    let code = text_field(&body, "code", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    let codes = st
        .core
        .regenerate_recovery_codes(&caller, password.as_deref(), code.as_deref())
        .await?;
    Ok(axum::Json(json!({ "recovery_codes": codes })).into_response())
}
