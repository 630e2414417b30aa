//! One error type for every handler: core's [`Error`] mapped to the contract's status codes
//! and bodies, plus the HTTP layer's own refusals (bodies, headers, paths).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rehome_core::Error;
use serde_json::{Value as Json, json};

/// The contract's 403 sentence.
pub const PERMISSION_DENIED: &str = rehome_core::error::PERMISSION_DENIED;
/// The 403 sentence of `/users/register/` on a server with registration closed.
pub const REGISTRATION_CLOSED: &str = "Registration is closed on this server.";
/// The contract's 401 sentence for a request without credentials.
pub const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";
/// The contract's 401 sentence for a bad, expired or revoked token.
pub const INVALID_TOKEN: &str = "Invalid or expired token.";
/// What a 500 says: nothing about the cause (the log has it).
pub const INTERNAL: &str = "A server error occurred.";
/// What a 503 says when the store cannot take a request now (full disk, read-only data,
/// database unreachable); the log has the cause.
pub const UNAVAILABLE_DETAIL: &str =
    "The service cannot store or read data right now. Try again later.";
/// The `Retry-After` of that 503, in seconds.
pub const UNAVAILABLE_RETRY_SECS: u64 = 30;

/// What a handler answers when it does not succeed.
#[derive(Debug)]
pub enum ApiError {
    /// A refusal from core.
    Core(Error),
    /// No (bearer) credentials on a route that needs them (401).
    NotAuthenticated,
    /// A malformed request the HTTP layer caught itself: bad JSON, a bad header (400).
    BadRequest(String),
    /// A field-keyed 400 built by the HTTP layer (a required body field missing).
    Fields(rehome_core::FieldErrors),
    /// The body is not JSON (415).
    UnsupportedMediaType(String),
    /// The body is over the route's limit (413).
    PayloadTooLarge,
    /// The path names nothing (404).
    NotFound,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Core(e)
    }
}

fn detail(status: StatusCode, text: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "detail": text.into() }))).into_response()
}

fn with_bearer_challenge(mut response: Response, error: Option<&str>) -> Response {
    let value = match error {
        Some(e) => format!("Bearer error=\"{e}\""),
        None => "Bearer".to_owned(),
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

fn fields_body(fields: &rehome_core::FieldErrors) -> Json {
    serde_json::to_value(fields).unwrap_or_else(|_| json!({}))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Core(e) => core_response(e),
            ApiError::NotAuthenticated => {
                with_bearer_challenge(detail(StatusCode::UNAUTHORIZED, NOT_AUTHENTICATED), None)
            }
            ApiError::BadRequest(text) => detail(StatusCode::BAD_REQUEST, text),
            ApiError::Fields(f) => {
                (StatusCode::BAD_REQUEST, axum::Json(fields_body(&f))).into_response()
            }
            ApiError::UnsupportedMediaType(text) => {
                detail(StatusCode::UNSUPPORTED_MEDIA_TYPE, text)
            }
            ApiError::PayloadTooLarge => {
                detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large.")
            }
            ApiError::NotFound => detail(StatusCode::NOT_FOUND, "Not found."),
        }
    }
}

fn core_response(e: Error) -> Response {
    match e {
        Error::Validation(fields) => {
            (StatusCode::BAD_REQUEST, axum::Json(fields_body(&fields))).into_response()
        }
        Error::NotFound(text) => detail(StatusCode::NOT_FOUND, text),
        Error::PermissionDenied => detail(StatusCode::FORBIDDEN, PERMISSION_DENIED),
        Error::RegistrationClosed => detail(StatusCode::FORBIDDEN, REGISTRATION_CLOSED),
        Error::PasswordChangeRequired => detail(
            StatusCode::FORBIDDEN,
            rehome_core::error::PASSWORD_CHANGE_REQUIRED,
        ),
        Error::AuthenticationFailed { detail: text } => {
            with_bearer_challenge(detail(StatusCode::UNAUTHORIZED, text), None)
        }
        Error::InvalidToken => with_bearer_challenge(
            detail(StatusCode::UNAUTHORIZED, INVALID_TOKEN),
            Some("invalid_token"),
        ),
        Error::Throttled { retry_after_secs } => {
            let mut r = detail(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Request was throttled. Expected available in {retry_after_secs} seconds."),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            r
        }
        Error::Conflict {
            detail: text,
            fields,
        } => {
            if fields.is_empty() {
                detail(StatusCode::CONFLICT, text)
            } else {
                (StatusCode::CONFLICT, axum::Json(fields_body(&fields))).into_response()
            }
        }
        Error::PreconditionFailed { current } => {
            let mut r = detail(
                StatusCode::PRECONDITION_FAILED,
                format!("The object is at version {current}; If-Match does not match."),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("\"{current}\"")) {
                r.headers_mut().insert(header::ETAG, v);
            }
            r
        }
        Error::BatchRejected { errors } => {
            let all_conflicts = !errors.is_empty() && errors.iter().all(|e| e.conflict);
            let status = if all_conflicts {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            let text = format!(
                "The batch was rejected: {} operation(s) failed; nothing was written.",
                errors.len()
            );
            (
                status,
                axum::Json(json!({ "detail": text, "errors": errors })),
            )
                .into_response()
        }
        Error::Store(e @ rehome_core::StoreError::Unavailable(_)) => {
            tracing::error!(error = %e, "store unavailable");
            let mut r = detail(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_DETAIL);
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(UNAVAILABLE_RETRY_SECS),
            );
            r
        }
        Error::Store(e) => {
            tracing::error!(error = %e, "store failure");
            detail(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL)
        }
        Error::Internal { what, source } => {
            tracing::error!(what, error = %source, "internal failure");
            detail(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL)
        }
    }
}

/// The result type of handlers.
pub type ApiResult<T = Response> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(e: Error) -> (StatusCode, Json) {
        let r = ApiError::Core(e).into_response();
        let status = r.status();
        let body = axum::body::to_bytes(r.into_body(), 1 << 16)
            .await
            .expect("a body");
        (status, serde_json::from_slice(&body).expect("JSON"))
    }

    /// A failure of the hasher, TOTP or QR code is a 500 that names nothing of its cause.
    #[tokio::test]
    async fn internal_failures_are_500_and_leak_nothing() {
        for what in ["password hashing", "TOTP key", "QR code"] {
            let (status, body) = answer(Error::internal(
                what,
                "pool /secret/path gone: argon2 said m=19456",
            ))
            .await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(body, json!({"detail": "A server error occurred."}));
        }
    }

    /// A store conflict reached through `?` is a 409, never a 500.
    #[tokio::test]
    async fn store_conflicts_through_from_are_409() {
        let conflict = rehome_core::StoreError::Conflict {
            conflict: rehome_core::Conflict::Version {
                key: rehome_core::RecordKey::User(rehome_core::UserId(7)),
                expected: 1,
                actual: 2,
            },
            index: 0,
        };
        let (status, body) = answer(Error::from(conflict)).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(body["detail"].is_string(), "{body}");
    }
}
