//! Intake and scanning: the form that takes a device in (`/intake`, prefilled from its query
//! so a scan of an unknown code can start it), and the scan box (`/scan`), where a barcode
//! scanner types a code and presses Enter, or the camera decodes one in the page.
//!
//! What a code means is core's rule ([`Rehome::scan`]): a label's id or address, a MAC
//! address or a serial number. A known device opens its page; an unknown code opens intake
//! with the code filled in; a label of a deleted device or a blank code is shown beside the
//! field, the code kept. Taking a device in is core's create ([`Rehome::create`], so
//! `createDevices`), its field errors beside the fields.
//!
//! The camera is `assets/scan.js` over ZXing's UMD build, loaded
//! only by these pages: it enhances every `input[data-scan]` with a "Use camera" button when
//! the browser offers a camera (`navigator.mediaDevices`: HTTPS or localhost), and on a
//! decoded code fills the input and sends its form.
//!
//! [`Rehome::scan`]: rehome_core::Rehome::scan
//! [`Rehome::create`]: rehome_core::Rehome::create

use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use rehome_core::services::Model;
use rehome_core::services::scan::Scanned;
use rehome_core::{Device, Error, FieldErrors, Permission, Record};
use serde_json::{Map, Value as Json};

use super::Route;
use super::devices::{FIELDS, Kind, typed_value};
use crate::ConsoleState;
use crate::assets;
use crate::error::{ConsoleError, ConsoleResult};
use crate::forms::{Form, Input, NON_FIELD, field, form_errors, refusal};
use crate::layout::{csrf_field, page};
use crate::session::Session;

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new("/intake", get(intake_form).post(take_in)),
        Route::new("/scan", get(scan)),
    ]
}

/// The fields core requires on create (sent even when blank, so core names them).
const REQUIRED: &[&str] = &["type", "make", "model", "serial_number"];

/// Fields drawn as a text area.
const LONG: &[&str] = &["specifications", "notes"];

/// The intake form's fields: the device edit form's, less where it is going.
fn intake_fields() -> impl Iterator<Item = &'static (&'static str, &'static str, Kind)> {
    FIELDS.iter().filter(|(name, _, _)| *name != "end_location")
}

/// What a note on the intake page says when a scan found no device.
pub const UNKNOWN_CODE: &str = "No device has this code: take it in.";

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The scripts of a page with a scan input (`input[data-scan]`): ZXing, then ours (both
/// deferred, so in order). Intake, the scan page and a shipment page include them.
pub(crate) fn scan_scripts() -> Markup {
    html! {
        script src=(assets::url("zxing.min.js")) defer {}
        script src=(assets::url("scan.js")) defer {}
    }
}

/// The scan box: one input named `code` in a GET form to `/scan`. `id` tells the scan
/// page's from intake's; `autofocus` on the scan page, so a scanner can type at once.
fn scan_box(id: &str, label: &str, code: &str, errors: &FieldErrors, autofocus: bool) -> Markup {
    // The scan page explains the box; intake's compact one is explained by its label.
    let hint = autofocus;
    let messages = errors.get("code");
    let invalid = !messages.is_empty();
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described: Vec<&str> = [(invalid, error_id.as_str()), (hint, hint_id.as_str())]
        .into_iter()
        .filter_map(|(on, id)| on.then_some(id))
        .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    html! {
        form.scan method="get" action="/scan" role="search" {
            div.field.invalid[invalid] {
                label for=(id) { (label) }
                @if hint {
                    p.muted.hint id=(hint_id) {
                        "A label's QR code, a serial number or a MAC address. A barcode \
                         scanner types it and presses Enter."
                    }
                }
                div.scan-row {
                    input id=(id) name="code" type="text" value=(code) autocomplete="off"
                        autocapitalize="off" spellcheck="false" enterkeyhint="go"
                        data-scan autofocus[autofocus]
                        aria-invalid=[invalid.then_some("true")]
                        aria-describedby=[described];
                    button type="submit" { "Find" }
                }
                @if invalid {
                    p.error id=(error_id) { @for m in messages { (m) " " } }
                }
            }
        }
    }
}

/// `GET /scan`: the scan page; with `code`, what core says it names.
async fn scan(
    State(state): State<ConsoleState>,
    session: Session,
    RawQuery(raw): RawQuery,
) -> ConsoleResult<Response> {
    let pairs = query_pairs(raw.as_deref());
    let Some(code) = pairs.iter().find(|(k, _)| k == "code").map(|(_, v)| v) else {
        if !(session.has(Permission::ScanDevices) || session.has(Permission::ReadDevices)) {
            return Err(ConsoleError::Forbidden(Some(Permission::ScanDevices)));
        }
        return Ok(scan_page(&session, "", &FieldErrors::new(), None).into_response());
    };
    match state.core.scan(&session.caller, code).await {
        Ok(Scanned::Device { device, .. }) => {
            if session.has(Permission::ReadDevices) {
                Ok(Redirect::to(&format!("/devices/{}", device.device_id)).into_response())
            } else {
                // Core named the device to this caller, but its page needs readDevices:
                // say what it is here.
                Ok(scan_page(&session, code, &FieldErrors::new(), Some(&device)).into_response())
            }
        }
        Ok(Scanned::Unknown {
            serial_number,
            mac_id,
            imei,
        }) => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            // A code shaped like a MAC address or an IMEI is taken as one, not also as a
            // serial (a phone's serial is another number).
            match (mac_id, imei, serial_number) {
                (Some(mac), _, _) => query.append_pair("mac_id", &mac),
                (None, Some(imei), _) => query.append_pair("imei", &imei),
                (None, None, Some(serial)) => query.append_pair("serial_number", &serial),
                (None, None, None) => &mut query,
            };
            query.append_pair("scanned", "1");
            Ok(Redirect::to(&format!("/intake?{}", query.finish())).into_response())
        }
        Err(Error::NotFound(detail)) => {
            let errors = FieldErrors::one("code", detail);
            Ok(scan_page(&session, code, &errors, None).into_response())
        }
        Err(e) => {
            let errors = refusal(e)?;
            Ok(scan_page(&session, code, &errors, None).into_response())
        }
    }
}

fn scan_page(
    session: &Session,
    code: &str,
    errors: &FieldErrors,
    found: Option<&Device>,
) -> Html<String> {
    let body = html! {
        h1 { "Scan" }
        (form_errors(errors, &["code"]))
        @if let Some(d) = found {
            div.alert.ok role="status" {
                p { "This is device " code { (d.device_id) } ": " (d.device_type) " " (d.make) " "
                    (d.model) ", serial number " (d.serial_number) ", status "
                    (d.status.as_str()) "." }
            }
        }
        section.card {
            (scan_box("f-code", "Code", code, errors, true))
        }
        @if session.has(Permission::CreateDevices) {
            p { a href="/intake" { "Take a device in without a code" } }
        }
        (scan_scripts())
    };
    page(session, "/scan", "Scan", body)
}

/// `GET /intake`: the empty form, or filled from the query (`?serial_number=…&mac_id=…`,
/// `imei=…`);
/// `scanned` adds the note that a scan found no device.
async fn intake_form(session: Session, RawQuery(raw): RawQuery) -> ConsoleResult<Html<String>> {
    if !session.has(Permission::CreateDevices) {
        return Err(ConsoleError::Forbidden(Some(Permission::CreateDevices)));
    }
    let pairs = query_pairs(raw.as_deref());
    let scanned = pairs.iter().any(|(k, _)| k == "scanned");
    let typed = Form::from_pairs(pairs);
    Ok(intake_page(&session, &typed, &FieldErrors::new(), scanned))
}

/// The body core's create takes from the intake form: the required fields as typed (blank
/// ones too, so core names them), the others only when given.
fn create_body(form: &Form) -> Json {
    let mut body = Map::new();
    for (name, _, kind) in intake_fields() {
        let raw = form.text(name);
        if REQUIRED.contains(name) {
            body.insert((*name).to_owned(), Json::String(raw.to_owned()));
        } else if !raw.trim().is_empty() {
            body.insert((*name).to_owned(), typed_value(*kind, raw));
        }
    }
    Json::Object(body)
}

/// `POST /intake`: core's create; the new device's page, or the form again with the errors
/// beside the fields and the typing kept.
async fn take_in(
    State(state): State<ConsoleState>,
    session: Session,
    form: Form,
) -> ConsoleResult<Response> {
    let outcome = state
        .core
        .create(&session.caller, Model::Device, &create_body(&form))
        .await;
    match outcome {
        Ok(Record::Device(d)) => {
            Ok(Redirect::to(&format!("/devices/{}", d.device_id)).into_response())
        }
        Ok(_) => Err(ConsoleError::NotFound),
        Err(e) => {
            let errors = refusal(e)?;
            Ok(intake_page(&session, &form, &errors, false).into_response())
        }
    }
}

fn intake_page(
    session: &Session,
    typed: &Form,
    errors: &FieldErrors,
    scanned: bool,
) -> Html<String> {
    let shown: Vec<&str> = intake_fields().map(|(n, _, _)| *n).collect();
    // Focus: the first field with an error, else the first empty required one.
    let focus = intake_fields()
        .map(|(n, _, _)| *n)
        .find(|n| !errors.get(n).is_empty())
        .or_else(|| {
            REQUIRED
                .iter()
                .copied()
                .find(|n| typed.text(n).trim().is_empty())
        });
    let has_errors = !errors.0.is_empty();
    let body = html! {
        h1 { "Take a device in" }
        @if scanned {
            div.alert.ok role="status" { p { (UNKNOWN_CODE) } }
        }
        @if has_errors && errors.get(NON_FIELD).is_empty() {
            div.alert.error role="alert" {
                p { "The device was not taken in: correct the fields marked below." }
            }
        }
        section.card.intake-scan aria-label="Scan a code" {
            (scan_box("scan-code", "Scan a code", "", &FieldErrors::new(), false))
        }
        form.card.intake method="post" action="/intake" {
            (csrf_field(&session.csrf))
            (form_errors(errors, &shown))
            p.muted { "Type, make, model and serial number are required." }
            div.intake-grid {
                @for (name, label, _) in intake_fields() {
                    @let value = typed.text(name);
                    @if LONG.contains(name) {
                        (text_area(label, name, value, errors, focus == Some(*name)))
                    } @else if focus == Some(*name) {
                        (focused(field(label, name, Input::Text, value, errors, "off")))
                    } @else {
                        (field(label, name, Input::Text, value, errors, "off"))
                    }
                }
            }
            button type="submit" { "Take in" }
        }
        (scan_scripts())
    };
    page(session, "/intake", "Take a device in", body)
}

/// `field`'s markup with `autofocus` on its input.
fn focused(markup: Markup) -> Markup {
    maud::PreEscaped(
        markup
            .into_string()
            .replacen("<input ", "<input autofocus ", 1),
    )
}

fn text_area(
    label: &str,
    name: &str,
    value: &str,
    errors: &FieldErrors,
    autofocus: bool,
) -> Markup {
    let id = format!("f-{name}");
    let error_id = format!("{id}-error");
    let messages = errors.get(name);
    let invalid = !messages.is_empty();
    html! {
        div.field.invalid[invalid] {
            label for=(id) { (label) }
            textarea id=(id) name=(name) rows="3" autofocus[autofocus]
                aria-invalid=[invalid.then_some("true")]
                aria-describedby=[invalid.then_some(&error_id)] { (value) }
            @if invalid {
                p.error id=(error_id) { @for m in messages { (m) " " } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_create_body_sends_required_fields_and_only_given_others() {
        let form = Form::from_pairs([
            ("type", "Laptop"),
            ("make", ""),
            ("model", "T480"),
            ("serial_number", "SN-1"),
            ("mac_id", ""),
            ("year_of_manufacture", "2019"),
            ("donor", "7"),
            ("notes", "  "),
            ("end_location", "3"),
            ("csrf", "x"),
        ]);
        assert_eq!(
            create_body(&form),
            json!({"type": "Laptop", "make": "", "model": "T480", "serial_number": "SN-1",
                   "year_of_manufacture": 2019, "donor": 7})
        );
    }

    #[test]
    fn focused_marks_the_input() {
        let m = focused(field(
            "Type",
            "type",
            Input::Text,
            "",
            &FieldErrors::new(),
            "off",
        ));
        assert!(m.into_string().contains("<input autofocus id=\"f-type\""));
    }
}
