//! Devices: the list (search, filters, ordering, pages, selection for labels, status moves and
//! edits together), and a device's page (every field, shipments, history, next statuses,
//! edit with a stale-edit check).
//!
//! Every read and write goes through core with the signed-in caller: the list through
//! [`Rehome::list`] with the query parameters REST takes, a device's edit through
//! [`Rehome::update`] with the version the form was loaded at, and the selection's actions
//! through [`Rehome::batch`] (all or nothing, so `bulkUploadDevices`). Controls a user may
//! not use are not drawn; a forged POST is refused by core.

use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use rehome_core::services::{ListParams, Mode, Model};
use rehome_core::{Device, DeviceStatus, Error, FieldErrors, Permission, Record, Rehome};
use serde_json::{Map, Value as Json, json};

use super::Route;
use crate::ConsoleState;
use crate::error::{ConsoleError, ConsoleResult};
use crate::forms::{Form, Input, field, form_errors};
use crate::layout::{csrf_field, page, time};
use crate::session::Session;

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new("/devices", get(list)),
        Route::new("/devices/batch", post(batch)),
        Route::new("/devices/{id}", get(show).post(edit)),
        Route::new("/devices/{id}/status", post(move_status)),
    ]
}

/// How a device field is typed in the edit form, so a blank input means what core expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Free text: blank is the empty string.
    Text,
    /// A number or a reference by id: blank is `null`, digits a JSON number.
    Number,
    /// A date or an amount, sent as text: blank is `null`.
    Nullable,
}

/// The editable fields of a device, as core names them, with their labels.
pub(crate) const FIELDS: &[(&str, &str, Kind)] = &[
    ("type", "Type", Kind::Text),
    ("make", "Make", Kind::Text),
    ("model", "Model", Kind::Text),
    ("serial_number", "Serial number", Kind::Text),
    ("mac_id", "MAC address", Kind::Text),
    ("imei", "IMEI", Kind::Text),
    ("year_of_manufacture", "Year of manufacture", Kind::Number),
    ("operating_system", "Operating system", Kind::Text),
    ("physical_condition", "Physical condition", Kind::Text),
    ("specifications", "Specifications", Kind::Text),
    ("date_received", "Date received", Kind::Nullable),
    ("donor", "Donor (id)", Kind::Number),
    ("date_of_donation", "Date of donation", Kind::Nullable),
    ("value", "Value", Kind::Nullable),
    ("start_location", "Start location (id)", Kind::Number),
    ("end_location", "End location (id)", Kind::Number),
    ("notes", "Notes", Kind::Text),
];

/// The fields "Edit together" sets on every selected device (a blank one is left alone).
const TOGETHER: &[(&str, &str, Kind)] = &[
    ("type", "Type", Kind::Text),
    ("make", "Make", Kind::Text),
    ("model", "Model", Kind::Text),
    ("donor", "Donor (id)", Kind::Number),
    ("start_location", "Start location (id)", Kind::Number),
    ("end_location", "End location (id)", Kind::Number),
];

/// The list's filters: query parameter and label (the REST list's parameters).
const FILTERS: &[(&str, &str)] = &[
    ("type", "Type"),
    ("make", "Make"),
    ("donor", "Donor (id)"),
    ("start_location", "Start location (id)"),
    ("end_location", "End location (id)"),
];

/// The list's orderings: REST's `ordering` value and its label.
const ORDERINGS: &[(&str, &str)] = &[
    ("", "Type (default)"),
    ("-date_received", "Newest received first"),
    ("date_received", "Oldest received first"),
    ("-year_of_manufacture", "Newest made first"),
    ("year_of_manufacture", "Oldest made first"),
];

/// The page sizes offered.
const PAGE_SIZES: &[&str] = &["10", "25", "50", "100"];

/// A field's value as text for an input (`null` is blank).
fn text_of(v: Option<&Json>) -> String {
    match v {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A value in the conflict table (blank is said, not left empty).
fn shown_value(v: &str) -> Markup {
    html! {
        @if v.is_empty() { span.muted { "(blank)" } } @else { q { (v) } }
    }
}

/// A device as its contract JSON (field names as core and REST name them).
fn device_json(d: &Device) -> Map<String, Json> {
    match serde_json::to_value(d) {
        Ok(Json::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The JSON value core expects for what was typed into a field of `kind`.
pub(crate) fn typed_value(kind: Kind, raw: &str) -> Json {
    match kind {
        Kind::Text => Json::String(raw.to_owned()),
        Kind::Number if raw.trim().is_empty() => Json::Null,
        // Not a number: sent as typed, so core answers with its own field error.
        Kind::Number => raw
            .trim()
            .parse::<i64>()
            .map_or_else(|_| Json::String(raw.to_owned()), Json::from),
        Kind::Nullable if raw.trim().is_empty() => Json::Null,
        Kind::Nullable => Json::String(raw.to_owned()),
    }
}

async fn read_device(core: &Rehome, session: &Session, id: &str) -> ConsoleResult<Device> {
    match core.get(&session.caller, Model::Device, id).await? {
        Record::Device(d) => Ok(d),
        _ => Err(ConsoleError::NotFound),
    }
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The list's query with `page` replaced (for the page links).
fn with_page(pairs: &[(String, String)], page: &str) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| k != "page") {
        s.append_pair(k, v);
    }
    s.append_pair("page", page);
    format!("/devices?{}", s.finish())
}

/// A status `<select>` with its label; `id` is unique on the page (the list has two selects
/// named `status`, one per form).
fn status_select(id: &str, name: &str, label: &str, chosen: &str, blank: Option<&str>) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                @if let Some(b) = blank { option value="" selected[chosen.is_empty()] { (b) } }
                @for s in DeviceStatus::ALL {
                    option value=(s.as_str()) selected[chosen == s.as_str()] { (s.as_str()) }
                }
            }
        }
    }
}

/// `GET /devices`: the list with REST's query parameters.
async fn list(
    State(state): State<ConsoleState>,
    session: Session,
    RawQuery(raw): RawQuery,
) -> ConsoleResult<Html<String>> {
    let pairs = query_pairs(raw.as_deref());
    let params = ListParams::new(pairs.clone());
    let value = |name: &str| params.get(name).unwrap_or_default().to_owned();
    let (page_result, errors) = match state
        .core
        .list(&session.caller, Model::Device, &params)
        .await
    {
        Ok(p) => (Some(p), FieldErrors::new()),
        Err(Error::Validation(fields)) => (None, fields),
        Err(e) => return Err(e.into()),
    };
    let can_batch = session.has(Permission::BulkUploadDevices);
    let can_edit = can_batch && session.has(Permission::EditDevices);
    let shown = [
        "search",
        "status",
        "type",
        "make",
        "donor",
        "start_location",
        "end_location",
        "ordering",
        "page",
        "page_size",
    ];
    let body = html! {
        h1 { "Devices" }
        form.card.filters method="get" action="/devices" role="search" {
            (form_errors(&errors, &shown))
            div.filter-grid {
                div.field.invalid[!errors.get("search").is_empty()] {
                    label for="f-search" { "Search" }
                    input id="f-search" type="search" name="search" value=(value("search"));
                    (field_error(&errors, "search"))
                }
                (status_select("f-status", "status", "Status", &value("status"), Some("Any status")))
                (field_error(&errors, "status"))
                @for (name, label) in &FILTERS[..2] {
                    (field(label, name, Input::Text, &value(name), &errors, "off"))
                }
                div.field {
                    label for="f-ordering" { "Order" }
                    select id="f-ordering" name="ordering" {
                        @for (v, l) in ORDERINGS {
                            option value=(v) selected[value("ordering") == *v] { (l) }
                        }
                    }
                    (field_error(&errors, "ordering"))
                }
            }
            // The filters by id and the page size are used less: folded away unless one is
            // set or wrong.
            @let more = FILTERS[2..]
                .iter()
                .map(|(n, _)| *n)
                .chain(["page_size"])
                .any(|n| !value(n).is_empty() || !errors.get(n).is_empty());
            details.more-filters open[more] {
                summary { "More filters" }
                div.filter-grid {
                    @for (name, label) in &FILTERS[2..] {
                        (field(label, name, Input::Text, &value(name), &errors, "off"))
                    }
                    div.field {
                        label for="f-page_size" { "Per page" }
                        select id="f-page_size" name="page_size" {
                            @for v in PAGE_SIZES {
                                option value=(v) selected[value("page_size") == *v] { (v) }
                            }
                        }
                        (field_error(&errors, "page_size"))
                    }
                }
            }
            button type="submit" { "Show" }
            " "
            a href="/devices" { "Clear" }
        }
        @if let Some(result) = &page_result {
            p.muted { (result.count) " devices · page " (result.page) " of " (result.total_pages) }
            form #selection method="post" action="/devices/batch" {
                (csrf_field(&session.csrf))
                div.table-scroll {
                    table.devices {
                        caption.visually-hidden { "Devices" }
                        thead { tr {
                            th scope="col" { span.visually-hidden { "Select" } }
                            th scope="col" { "Serial number" }
                            th scope="col" { "Status" }
                            th scope="col" { "Type" }
                            th scope="col" { "Make" }
                            th scope="col" { "Model" }
                            th scope="col" { "Received" }
                        } }
                        tbody {
                            @for r in &result.results {
                                @if let Record::Device(d) = r {
                                    @let id = d.device_id.to_string();
                                    tr {
                                        td data-label="Select" {
                                            input type="checkbox" name="ids" value=(id)
                                                id=(format!("sel-{id}"))
                                                aria-label=(format!("Select {}", d.serial_number));
                                        }
                                        td data-label="Serial number" {
                                            a href=(format!("/devices/{id}")) {
                                                @if d.serial_number.is_empty() { (id) } @else { (d.serial_number) }
                                            }
                                        }
                                        td data-label="Status" { span.status { (d.status.as_str()) } }
                                        td data-label="Type" { (d.device_type) }
                                        td data-label="Make" { (d.make) }
                                        td data-label="Model" { (d.model) }
                                        td data-label="Received" {
                                            @if let Some(day) = d.date_received { (day) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if result.results.is_empty() { p { "No device matches." } }
                nav.pages aria-label="Pages" {
                    @if result.has_previous() {
                        a href=(with_page(&pairs, "1")) { "First" }
                        a href=(with_page(&pairs, &(result.page - 1).to_string())) rel="prev" { "Previous" }
                    }
                    @if result.has_next() {
                        a href=(with_page(&pairs, &(result.page + 1).to_string())) rel="next" { "Next" }
                        a href=(with_page(&pairs, "last")) { "Last" }
                    }
                }
                fieldset.card.actions {
                    legend { "With the selected devices" }
                    button type="submit" formmethod="get" formaction="/labels" { "Print labels" }
                    @if can_edit {
                        div.action {
                            (status_select("batch-status", "status", "Move status to", "", None))
                            button type="submit" name="action" value="status" { "Move status" }
                        }
                        details.action {
                            summary { "Edit together" }
                            p.muted { "Blank fields are left as they are." }
                            @for (name, label, _) in TOGETHER {
                                (field(label, &format!("set_{name}"), Input::Text, "", &FieldErrors::new(), "off"))
                            }
                            button type="submit" name="action" value="edit" { "Save for all selected" }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&session, "/devices", "Devices", body))
}

fn field_error(errors: &FieldErrors, name: &str) -> Markup {
    let messages = errors.get(name);
    html! {
        @if !messages.is_empty() {
            p.error id=(format!("f-{name}-error")) { @for m in messages { (m) " " } }
        }
    }
}

/// `POST /devices/batch`: move status or edit together, one batch through core.
async fn batch(
    State(state): State<ConsoleState>,
    session: Session,
    form: Form,
) -> ConsoleResult<Response> {
    let ids: Vec<&str> = form.all("ids");
    let data = match form.text("action") {
        "status" => {
            let mut m = Map::new();
            m.insert(
                "status".into(),
                Json::String(form.text("status").to_owned()),
            );
            m
        }
        "edit" => TOGETHER
            .iter()
            .filter_map(|(name, _, kind)| {
                form.given(&format!("set_{name}"))
                    .map(|v| ((*name).to_owned(), typed_value(*kind, v)))
            })
            .collect(),
        _ => return Err(ConsoleError::BadRequest("Choose what to do.".into())),
    };
    let operations: Vec<Json> = ids
        .iter()
        .map(|id| json!({"op": "update", "model": "device", "id": id, "data": data}))
        .collect();
    let outcome = state
        .core
        .batch(&session.caller, &json!({ "operations": operations }))
        .await;
    let body = match outcome {
        Ok(results) => html! {
            h1 { "Devices updated" }
            div.alert.ok role="status" { p { (results.len()) " device(s) updated." } }
            p { a href="/devices" { "Back to the devices" } }
        },
        Err(Error::BatchRejected { errors }) => html! {
            h1 { "Nothing was changed" }
            div.alert.error role="alert" {
                p { "These devices could not be updated, so none was:" }
            }
            ul.batch-errors {
                @for e in &errors {
                    @let id = ids.get(e.index).copied().unwrap_or_default();
                    li {
                        a href=(format!("/devices/{id}")) { (id) } ": "
                        @for (f, ms) in &e.errors.0 { (f) " — " @for m in ms { (m) " " } }
                    }
                }
            }
            p { a href="/devices" { "Back to the devices" } }
        },
        Err(Error::Validation(fields)) => html! {
            h1 { "Nothing was changed" }
            (form_errors(&fields, &[]))
            p { a href="/devices" { "Back to the devices" } }
        },
        Err(e) => return Err(e.into()),
    };
    Ok(page(&session, "/devices", "Devices", body).into_response())
}

/// What the edit form shows: typed values, the values each field's edit is relative to
/// (the hidden `loaded_*` fields), errors, and a conflict's changes.
struct EditForm {
    typed: Map<String, Json>,
    version: u64,
    loaded: Map<String, Json>,
    errors: FieldErrors,
    /// When a save met a newer version: the fields the other person changed.
    conflict: Option<Vec<Change>>,
}

/// A field someone else changed while this user was editing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    name: &'static str,
    label: &'static str,
    /// Its value when this user loaded the form.
    was: String,
    /// Its value now (theirs).
    theirs: String,
    /// What this user typed.
    yours: String,
    /// Whether this user changed it too (saving then replaces theirs).
    mine: bool,
}

/// The form to draw after a save met a newer version (`current`), from what the user typed
/// and the values the form was loaded with: the fields the user changed keep their typing
/// and stay relative to the loaded value (so saving sends them), every other field takes the
/// current value and is relative to it (so saving leaves the other person's change alone).
/// Answers `(typed, loaded)` for the new form and the fields the other person changed.
fn rebase(
    typed: &Map<String, Json>,
    loaded: &Map<String, Json>,
    current: &Map<String, Json>,
) -> (Map<String, Json>, Map<String, Json>, Vec<Change>) {
    let mut new_typed = Map::new();
    let mut new_loaded = Map::new();
    let mut changes = Vec::new();
    for (name, label, _) in FIELDS {
        let was = text_of(loaded.get(*name));
        let yours = text_of(typed.get(*name));
        let theirs = text_of(current.get(*name));
        let mine = yours != was;
        if theirs != was {
            changes.push(Change {
                name,
                label,
                was: was.clone(),
                theirs: theirs.clone(),
                yours: yours.clone(),
                mine,
            });
        }
        let (shown, base) = if mine {
            (yours, was)
        } else {
            (theirs.clone(), theirs)
        };
        new_typed.insert((*name).to_owned(), Json::String(shown));
        new_loaded.insert((*name).to_owned(), Json::String(base));
    }
    (new_typed, new_loaded, changes)
}

/// `GET /devices/{id}`.
async fn show(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
) -> ConsoleResult<Html<String>> {
    let device = read_device(&state.core, &session, &id).await?;
    let current = device_json(&device);
    let form = EditForm {
        typed: current.clone(),
        version: device.version,
        loaded: current,
        errors: FieldErrors::new(),
        conflict: None,
    };
    device_page(&state, &session, &device, form, None).await
}

/// `POST /devices/{id}`: the edit form; only the fields the user changed are sent, with the
/// version the form was loaded at.
async fn edit(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> ConsoleResult<Html<String>> {
    let version = form
        .text("version")
        .parse::<u64>()
        .map_err(|_| ConsoleError::BadRequest("The form has no version; reload it.".into()))?;
    let mut typed = Map::new();
    let mut loaded = Map::new();
    let mut body = Map::new();
    for (name, _, kind) in FIELDS {
        let now = form.text(name);
        let was = form.text(&format!("loaded_{name}"));
        typed.insert((*name).to_owned(), Json::String(now.to_owned()));
        loaded.insert((*name).to_owned(), Json::String(was.to_owned()));
        if now != was {
            body.insert((*name).to_owned(), typed_value(*kind, now));
        }
    }
    body.insert("version".into(), Json::from(version));
    let outcome = state
        .core
        .update(
            &session.caller,
            Model::Device,
            &id,
            &Json::Object(body),
            Mode::Patch,
            None,
        )
        .await;
    match outcome {
        Ok(Record::Device(d)) => {
            let current = device_json(&d);
            let form = EditForm {
                typed: current.clone(),
                version: d.version,
                loaded: current,
                errors: FieldErrors::new(),
                conflict: None,
            };
            device_page(&state, &session, &d, form, Some("Saved.")).await
        }
        Ok(_) => Err(ConsoleError::NotFound),
        Err(Error::Conflict { fields, .. }) if !fields.get("version").is_empty() => {
            // Someone saved meanwhile: keep what was typed, show what they changed, and
            // load the form at the new version so "save mine" can go through, sending only
            // the fields this user changed (see [`rebase`]).
            let device = read_device(&state.core, &session, &id).await?;
            let current = device_json(&device);
            let (typed, loaded, changes) = rebase(&typed, &loaded, &current);
            let form = EditForm {
                typed,
                version: device.version,
                loaded,
                errors: FieldErrors::new(),
                conflict: Some(changes),
            };
            device_page(&state, &session, &device, form, None).await
        }
        Err(Error::Validation(errors) | Error::Conflict { fields: errors, .. }) => {
            let device = read_device(&state.core, &session, &id).await?;
            let form = EditForm {
                typed,
                version,
                loaded,
                errors,
                conflict: None,
            };
            device_page(&state, &session, &device, form, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /devices/{id}/status`: one move, at the version the page showed.
async fn move_status(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> ConsoleResult<Response> {
    let version = form
        .text("version")
        .parse::<u64>()
        .map_err(|_| ConsoleError::BadRequest("The form has no version; reload it.".into()))?;
    let body = json!({"status": form.text("status"), "version": version});
    let outcome = state
        .core
        .update(
            &session.caller,
            Model::Device,
            &id,
            &body,
            Mode::Patch,
            None,
        )
        .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/devices/{id}")).into_response()),
        Err(Error::Validation(errors) | Error::Conflict { fields: errors, .. }) => {
            let device = read_device(&state.core, &session, &id).await?;
            let current = device_json(&device);
            let mut errors = errors;
            if !errors.get("version").is_empty() {
                errors = FieldErrors::one(
                    "status",
                    "Someone changed this device meanwhile; its current status is shown. \
                     Choose again.",
                );
            }
            let form = EditForm {
                typed: current.clone(),
                version: device.version,
                loaded: current,
                errors: FieldErrors::new(),
                conflict: None,
            };
            let page = device_page_with(&state, &session, &device, form, None, &errors).await?;
            Ok(page.into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn device_page(
    state: &ConsoleState,
    session: &Session,
    device: &Device,
    form: EditForm,
    notice: Option<&str>,
) -> ConsoleResult<Html<String>> {
    device_page_with(state, session, device, form, notice, &FieldErrors::new()).await
}

async fn device_page_with(
    state: &ConsoleState,
    session: &Session,
    device: &Device,
    form: EditForm,
    notice: Option<&str>,
    status_errors: &FieldErrors,
) -> ConsoleResult<Html<String>> {
    let id = device.device_id.to_string();
    let zone = state.settings.time_zone;
    let current = device_json(device);
    let can_edit = session.has(Permission::EditDevices);
    // History: the device's own audit entries (core's device history, readDevices).
    let params = ListParams::new([("page_size", "100")]);
    let history = match state
        .core
        .device_history(&session.caller, &id, &params)
        .await
    {
        Ok(h) => Some(h),
        Err(Error::PermissionDenied) => None,
        Err(e) => return Err(e.into()),
    };
    // The statuses this caller may move the device to now (core's rule), staying put aside.
    let next: Vec<DeviceStatus> = state
        .core
        .device_statuses(&session.caller, &id)
        .await?
        .into_iter()
        .filter(|n| n.allowed && n.status != device.status)
        .map(|n| n.status)
        .collect();
    let title = if device.serial_number.is_empty() {
        format!("Device {id}")
    } else {
        format!("Device {}", device.serial_number)
    };
    let shown: Vec<&str> = FIELDS.iter().map(|(n, _, _)| *n).collect();
    let body = html! {
        p { a href="/devices" { "← All devices" } }
        h1 { (title) }
        @if let Some(n) = notice { div.alert.ok role="status" { p { (n) } } }
        @if form.conflict.is_some() && can_edit {
            div.alert.error {
                p { "Not saved: someone else saved this device meanwhile. "
                    a href="#h-edit" { "See what they changed and save again" } "." }
            }
        }
        section.card aria-labelledby="h-fields" {
            h2 #h-fields { "Details" }
            dl.fields {
                dt { "Id" } dd { code { (id) } }
                dt { "Status" } dd { span.status { (device.status.as_str()) } }
                @for (name, label, _) in FIELDS {
                    @let v = text_of(current.get(*name));
                    dt { (label) }
                    dd { @if v.is_empty() { span.muted { "—" } } @else { (v) } }
                }
                dt { "Created" } dd { (time(device.created_at, zone)) }
                dt { "Last changed" } dd { (time(device.updated_at, zone)) }
                dt { "Version" } dd { (device.version) }
            }
            p { a.button href=(format!("/labels?ids={id}")) { "Print label" } }
        }
        section.card aria-labelledby="h-status" {
            h2 #h-status { "Status" }
            @if !can_edit {
                p.muted { "Current status: " (device.status.as_str()) "." }
            } @else if next.is_empty() {
                p.muted { "This device cannot move from " (device.status.as_str()) "." }
            } @else {
                form.status-moves method="post" action=(format!("/devices/{id}/status")) {
                    (csrf_field(&session.csrf))
                    input type="hidden" name="version" value=(device.version);
                    p #status-now { "Now " span.status { (device.status.as_str()) } ". Move it to:" }
                    div.buttons role="group" aria-labelledby="status-now" aria-describedby=[(!status_errors.get("status").is_empty()).then_some("f-status-error")] {
                        @for s in &next {
                            // Recycling ends a device's way through: not the main button.
                            button class=[(*s == DeviceStatus::Recycled).then_some("secondary")] type="submit" name="status" value=(s.as_str()) { "Mark " (s.as_str()) }
                        }
                    }
                    (field_error(status_errors, "status"))
                }
            }
        }
        section.card aria-labelledby="h-shipments" {
            h2 #h-shipments { "Shipments" }
            @if device.shipping_infos.is_empty() {
                p.muted { "Not in any shipment." }
            } @else {
                ul { @for s in &device.shipping_infos { li { a href=(format!("/shipments/{}", s.0)) { "Shipment " (s.0) } } } }
            }
        }
        @if can_edit {
            section.card aria-labelledby="h-edit" {
                h2 #h-edit { "Edit" }
                @if let Some(changed) = &form.conflict {
                    div.alert.error role="alert" {
                        p { "Someone else saved this device while you were editing it. Nothing \
                             of yours was saved yet; your input is kept below." }
                        @if changed.is_empty() {
                            p { "They changed no field of this form (only its status or shipments)." }
                        } @else {
                            p { "Saving sends only the fields you changed; the fields you left \
                                 alone keep their change." }
                        }
                    }
                    @if !changed.is_empty() {
                        div.table-scroll {
                            table.conflict {
                                caption { "What they changed" }
                                thead { tr {
                                    th scope="col" { "Field" }
                                    th scope="col" { "When you opened it" }
                                    th scope="col" { "Theirs (saved)" }
                                    th scope="col" { "Yours" }
                                } }
                                tbody {
                                    @for c in changed {
                                        tr {
                                            th scope="row" data-label="Field" { (c.label) }
                                            td data-label="When you opened it" { (shown_value(&c.was)) }
                                            td data-label="Theirs (saved)" { (shown_value(&c.theirs)) }
                                            td data-label="Yours" {
                                                @if c.mine {
                                                    (shown_value(&c.yours)) " "
                                                    span.muted { "(saving replaces theirs)" }
                                                } @else {
                                                    span.muted { "Not changed: theirs is kept" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                form.stack.edit method="post" action=(format!("/devices/{id}")) {
                    (csrf_field(&session.csrf))
                    (form_errors(&form.errors, &shown))
                    input type="hidden" name="version" value=(form.version);
                    @for (name, label, _) in FIELDS {
                        input type="hidden" name=(format!("loaded_{name}")) value=(text_of(form.loaded.get(*name)));
                        (field(label, name, Input::Text, &text_of(form.typed.get(*name)), &form.errors, "off"))
                        @if let Some(changed) = &form.conflict {
                            @if let Some(c) = changed.iter().find(|c| c.name == *name) {
                                p.theirs {
                                    "They changed it from "
                                    q { (c.was) } " to " q { (c.theirs) } "."
                                    @if c.mine { " Saving replaces theirs with yours." }
                                }
                            }
                        }
                    }
                    button type="submit" {
                        @if form.conflict.is_some() { "Save my changes" } @else { "Save" }
                    }
                }
            }
        }
        section.card aria-labelledby="h-history" {
            h2 #h-history { "History" }
            @match &history {
                None => p.muted { "The history is shown to holders of readDevices." },
                Some(h) if h.results.is_empty() => p.muted { "No entries." },
                Some(h) => ol.history {
                    @for e in &h.results {
                        li {
                            (time(e.timestamp, zone)) " · " strong { (e.action) }
                            " by " (e.actor_username.as_deref().unwrap_or("the system"))
                            @if let Some(changes) = e.changes.as_object() {
                                @if e.action.ends_with(".update") {
                                    ul {
                                        @for (f, pair) in changes {
                                            li { (f) ": " (text_of(pair.get(0))) " → " (text_of(pair.get(1))) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                },
            }
        }
    };
    Ok(page(session, "/devices", &title, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_inputs_mean_what_core_expects() {
        // (kind, typed, sent): written out by hand.
        let table: [(Kind, &str, Json); 7] = [
            (Kind::Text, "", json!("")),
            (Kind::Text, " Dell ", json!(" Dell ")),
            (Kind::Number, "", Json::Null),
            (Kind::Number, "2019", json!(2019)),
            (Kind::Number, "twenty", json!("twenty")),
            (Kind::Nullable, "", Json::Null),
            (Kind::Nullable, "2024-01-31", json!("2024-01-31")),
        ];
        for (kind, typed, want) in table {
            assert_eq!(typed_value(kind, typed), want, "{kind:?} {typed:?}");
        }
    }

    #[test]
    fn a_rebased_form_sends_only_what_this_user_changed() {
        let m = |pairs: &[(&str, &str)]| -> Map<String, Json> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect()
        };
        // Loaded Dell/T480/""; this user typed notes and make; the other saved make and model.
        let loaded = m(&[("make", "Dell"), ("model", "T480"), ("notes", "")]);
        let typed = m(&[
            ("make", "Lenovo"),
            ("model", "T480"),
            ("notes", "Screen cracked"),
        ]);
        let current = m(&[("make", "HP"), ("model", "T490"), ("notes", "")]);
        let (t, l, changes) = rebase(&typed, &loaded, &current);
        // Shown: the user's typing where they typed, theirs elsewhere.
        assert_eq!(t.get("make"), Some(&json!("Lenovo")));
        assert_eq!(t.get("model"), Some(&json!("T490")));
        assert_eq!(t.get("notes"), Some(&json!("Screen cracked")));
        // Relative to: the loaded value where the user typed (so it is sent), theirs elsewhere.
        assert_eq!(l.get("make"), Some(&json!("Dell")));
        assert_eq!(l.get("model"), Some(&json!("T490")));
        assert_eq!(l.get("notes"), Some(&json!("")));
        let got: Vec<(&str, &str, &str, &str, bool)> = changes
            .iter()
            .map(|c| {
                (
                    c.name,
                    c.was.as_str(),
                    c.theirs.as_str(),
                    c.yours.as_str(),
                    c.mine,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("make", "Dell", "HP", "Lenovo", true),
                ("model", "T480", "T490", "T480", false),
            ]
        );
    }

    #[test]
    fn page_links_keep_the_filters() {
        let pairs = vec![
            ("status".to_owned(), "wiped".to_owned()),
            ("page".to_owned(), "2".to_owned()),
            ("make".to_owned(), "A&B".to_owned()),
        ];
        assert_eq!(
            with_page(&pairs, "3"),
            "/devices?status=wiped&make=A%26B&page=3"
        );
    }
}
