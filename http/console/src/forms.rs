//! Form bodies and fields with their errors in place.
//!
//! Fields are named as core names them (`old_password`, `new_password`, `code`, ...), so a
//! [`FieldErrors`] from core lands beside the right input with no mapping table.

use axum::body::to_bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use maud::{Markup, html};
use rehome_core::services::MfaCode;
use rehome_core::{Error, FieldErrors};

use crate::error::ConsoleError;
use crate::session::FORM_LIMIT;

/// A submitted `application/x-www-form-urlencoded` body, fields in order.
#[derive(Debug, Clone, Default)]
pub struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    /// A form from its fields (tests and re-rendering).
    pub fn from_pairs<I, K, V>(pairs: I) -> Form
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Form {
            fields: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The first value of `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, `None` when missing or empty (a blank field is not given).
    pub fn given(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// The first value of `name`, empty when missing (to put back in an input).
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }

    /// Every value of `name` (checkboxes, multiple selects).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ConsoleError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(ConsoleError::BadRequest(
                "The console only reads forms sent by its own pages.".into(),
            ));
        }
        let bytes = to_bytes(req.into_body(), FORM_LIMIT)
            .await
            .map_err(|_| ConsoleError::BadRequest("The form is too large.".into()))?;
        Ok(Form {
            fields: form_urlencoded::parse(&bytes).into_owned().collect(),
        })
    }
}

/// How an input is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A line of text.
    Text,
    /// A password (never put back into the page).
    Password,
    /// A one-time code: digits or a recovery code, no autocorrection.
    Code,
}

/// One labelled input with its errors beside it: `<label>`, `<input>` (with
/// `aria-invalid` and `aria-describedby` when it has errors) and the messages. `value` is
/// what the user typed (ignored for passwords); `autocomplete` is the HTML token
/// (`username`, `current-password`, `new-password`, `one-time-code`). Its id is
/// `f-<name>`; a page with several forms naming the same field uses [`field_in`].
pub fn field(
    label: &str,
    name: &str,
    input: Input,
    value: &str,
    errors: &FieldErrors,
    autocomplete: &str,
) -> Markup {
    field_in("f", label, name, input, value, errors, autocomplete)
}

/// [`field`] with the id `<form>-<name>`, for pages where several forms have a field of the
/// same name.
pub fn field_in(
    form: &str,
    label: &str,
    name: &str,
    input: Input,
    value: &str,
    errors: &FieldErrors,
    autocomplete: &str,
) -> Markup {
    let id = format!("{form}-{name}");
    let error_id = format!("{id}-error");
    let messages = errors.get(name);
    let invalid = !messages.is_empty();
    let (kind, value) = match input {
        Input::Password => ("password", ""),
        Input::Text | Input::Code => ("text", value),
    };
    html! {
        div.field.invalid[invalid] {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) value=(value) autocomplete=(autocomplete)
                inputmode=[(input == Input::Code).then_some("text")]
                autocapitalize=[(input != Input::Text).then_some("off")]
                spellcheck=[(input != Input::Text).then_some("false")]
                aria-invalid=[invalid.then_some("true")]
                aria-describedby=[invalid.then_some(&error_id)];
            @if invalid {
                p.error id=(error_id) {
                    @for m in messages { (m) " " }
                }
            }
        }
    }
}

/// Errors that belong to no field of the form (`non_field_errors`, or fields the form does
/// not show), as a list at its top.
pub fn form_errors(errors: &FieldErrors, shown: &[&str]) -> Markup {
    let other: Vec<&String> = errors
        .0
        .iter()
        .filter(|(k, _)| !shown.contains(&k.as_str()))
        .flat_map(|(_, m)| m)
        .collect();
    html! {
        @if !other.is_empty() {
            div.alert.error role="alert" {
                @for m in other { p { (m) } }
            }
        }
    }
}

/// A code typed into a "Code" field as core takes it: six digits are a TOTP code, anything
/// else a recovery code.
pub fn mfa_code(text: &str) -> MfaCode {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() == 6 && compact.chars().all(|c| c.is_ascii_digit()) {
        MfaCode::Totp(compact)
    } else {
        MfaCode::Recovery(text.trim().to_owned())
    }
}

/// The field name of errors that belong to no field (core's and the REST API's).
pub const NON_FIELD: &str = "non_field_errors";

/// A refusal from core that a form shows in place (field errors, a conflict, throttling, a
/// wrong password or code), as field errors; anything else (`Err`) is a failure page.
pub fn refusal(e: Error) -> Result<FieldErrors, Error> {
    match e {
        Error::Validation(fields) => Ok(fields),
        Error::Conflict { detail, fields } => {
            if fields.is_empty() {
                Ok(FieldErrors::one(NON_FIELD, detail))
            } else {
                Ok(fields)
            }
        }
        Error::Throttled { retry_after_secs } => Ok(FieldErrors::one(
            NON_FIELD,
            crate::error::throttled_text(retry_after_secs),
        )),
        Error::AuthenticationFailed { detail } => Ok(FieldErrors::one(NON_FIELD, detail)),
        e => Err(e),
    }
}
