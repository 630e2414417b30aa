//! Failure pages: every error a handler returns becomes an HTML page that says what happened
//! and what to do, never a stack trace or an internal detail (those go to the log).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use rehome_core::{Error, Permission, StoreError};

use crate::layout;

/// What a console handler answers when it does not succeed.
#[derive(Debug)]
pub enum ConsoleError {
    /// A refusal or failure from core.
    Core(Error),
    /// The path names nothing (404).
    NotFound,
    /// The signed-in user may not use this; the permission it needs, when one does (403).
    Forbidden(Option<Permission>),
    /// Nobody is signed in (or the session ended): to the sign-in page, then back to `next`.
    SignIn {
        /// The path to return to after signing in.
        next: String,
    },
    /// The signed-in user must choose a new password (a coordinator reset it) before anything
    /// else: to the new-password page, then back to `next`.
    PasswordChange {
        /// The path to return to after choosing one.
        next: String,
    },
    /// A POST without a valid CSRF token or from another site (403).
    Csrf,
    /// A request the console cannot read (a body that is no form, too large) (400).
    BadRequest(String),
}

impl From<Error> for ConsoleError {
    fn from(e: Error) -> Self {
        ConsoleError::Core(e)
    }
}

/// What a 500 page says: nothing about the cause.
pub const INTERNAL: &str = "Something went wrong on the server. Try again; if it happens again, \
                            tell whoever runs this server (the server's log has the details).";
/// What a 503 page says.
pub const UNAVAILABLE: &str = "The server cannot store or read data right now (the disk may be \
                               full or the database unreachable). Nothing was changed. Try \
                               again in a minute.";
/// The seconds a 503 asks the browser to wait.
pub const UNAVAILABLE_RETRY_SECS: u64 = 30;

/// The sentence of a 429: the REST API's text, so both surfaces say the same.
pub fn throttled_text(retry_after_secs: u64) -> String {
    format!("Request was throttled. Expected available in {retry_after_secs} seconds.")
}

fn failure(status: StatusCode, title: &str, text: &str) -> Response {
    let body = html! {
        h1 { (title) }
        p { (text) }
        p { a href="/" { "Go to the home page" } }
    };
    (status, layout::bare_page(title, body)).into_response()
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            ConsoleError::NotFound => failure(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing at this address. It may have been deleted, or the link is \
                 wrong.",
            ),
            ConsoleError::Forbidden(permission) => {
                let text = match permission {
                    Some(p) => format!(
                        "You may not use this page: it needs the permission {}. Ask a user \
                         manager to grant it if you need it.",
                        p.as_str()
                    ),
                    None => "You may not do this. Ask a user manager if you need to.".to_owned(),
                };
                failure(StatusCode::FORBIDDEN, "Not allowed", &text)
            }
            ConsoleError::SignIn { next } => {
                let query: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", &next)
                    .finish();
                Redirect::to(&format!("/sign-in?{query}")).into_response()
            }
            ConsoleError::PasswordChange { next } => {
                let query: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", &next)
                    .finish();
                Redirect::to(&format!("{}?{query}", crate::screens::new_password::PATH))
                    .into_response()
            }
            ConsoleError::Csrf => failure(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form could not be accepted: it is out of date or came from another \
                 site. Go back, reload the page and send it again.",
            ),
            ConsoleError::BadRequest(text) => {
                failure(StatusCode::BAD_REQUEST, "Bad request", &text)
            }
            ConsoleError::Core(e) => core_failure(e),
        }
    }
}

fn core_failure(e: Error) -> Response {
    match e {
        Error::NotFound(_) => ConsoleError::NotFound.into_response(),
        Error::PermissionDenied | Error::RegistrationClosed => {
            ConsoleError::Forbidden(None).into_response()
        }
        Error::PasswordChangeRequired => {
            ConsoleError::PasswordChange { next: "/".into() }.into_response()
        }
        Error::InvalidToken => ConsoleError::SignIn { next: "/".into() }.into_response(),
        Error::Throttled { retry_after_secs } => {
            let mut r = failure(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                &throttled_text(retry_after_secs),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            r
        }
        Error::AuthenticationFailed { detail } => {
            failure(StatusCode::UNAUTHORIZED, "Not signed in", &detail)
        }
        Error::Validation(fields) => {
            let text = fields
                .0
                .iter()
                .map(|(f, m)| format!("{f}: {}", m.join(" ")))
                .collect::<Vec<_>>()
                .join("; ");
            failure(StatusCode::BAD_REQUEST, "Not accepted", &text)
        }
        Error::Conflict { detail, .. } => failure(StatusCode::CONFLICT, "Conflict", &detail),
        Error::PreconditionFailed { .. } => failure(
            StatusCode::CONFLICT,
            "Changed meanwhile",
            "Someone changed this meanwhile. Reload the page to see the current state.",
        ),
        Error::BatchRejected { errors } => failure(
            StatusCode::BAD_REQUEST,
            "Not accepted",
            &format!("{} operation(s) failed; nothing was written.", errors.len()),
        ),
        Error::Store(StoreError::Unavailable(source)) => {
            tracing::warn!(error = %source, "store unavailable (console)");
            let mut r = failure(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again later",
                UNAVAILABLE,
            );
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(UNAVAILABLE_RETRY_SECS),
            );
            r
        }
        e => {
            tracing::error!(error = %e, "console request failed");
            internal_error()
        }
    }
}

/// The 500 page.
pub fn internal_error() -> Response {
    failure(StatusCode::INTERNAL_SERVER_ERROR, "Server error", INTERNAL)
}

/// What a handler that panicked answers (the panic's message goes to the log only).
pub(crate) fn panic_page(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a console handler panicked");
    internal_error()
}

/// The result type of console handlers.
pub type ConsoleResult<T> = Result<T, ConsoleError>;
