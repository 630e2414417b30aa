//! What the locations, donors and shipments screens share: a list (search, filters,
//! ordering, pages), a page per record with every field and an edit form with the
//! stale-edit check, a create form, and a delete with a confirmation step. Each kind is a
//! `Kind` (its fields, columns, filters and orderings); `routes` makes its paths.
//!
//! Every read and write goes through core with the signed-in caller, with REST's
//! semantics: the list through [`Rehome::list`](rehome_core::Rehome::list) with the query parameters REST takes, an
//! edit through [`Rehome::update`](rehome_core::Rehome::update) with the version the form was loaded at (only the changed
//! fields sent), a delete through [`Rehome::delete`](rehome_core::Rehome::delete) with the version the confirmation
//! showed. Refusals are shown with core's message, the user's input kept.

use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use rehome_core::services::inventory::{WriteKind, record_json};
use rehome_core::services::{ListParams, Mode, Model};
use rehome_core::{Error, FieldErrors, Permission, Record};
use serde_json::{Map, Value as Json};

use super::Route;
use super::shipments::{self, ScanState};
use crate::ConsoleState;
use crate::error::{ConsoleError, ConsoleResult};
use crate::forms::{Form, NON_FIELD, form_errors, refusal};
use crate::layout::{csrf_field, page, time};
use crate::session::Session;

/// How a field is typed in and what a blank input means to core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// A line of text: blank is the empty string.
    Text,
    /// Several lines of text: blank is the empty string.
    Long,
    /// A location by id (a choice of locations when they are few): blank is `null`.
    Location,
    /// A date that may be unset: blank is `null`.
    Date,
    /// A date that must be given (blank is left out on create: core decides).
    RequiredDate,
    /// Yes or no.
    Bool,
}

/// One field of a kind, as core names it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
}

/// A field.
pub(crate) const fn f(name: &'static str, label: &'static str, input: Input) -> Field {
    Field { name, label, input }
}

/// One kind of record and how its screens show it.
#[derive(Debug)]
pub(crate) struct Kind {
    /// Core's model.
    pub model: Model,
    /// The list's path (`/locations`); a record is at `{path}/{id}`.
    pub path: &'static str,
    /// The list's heading (`Locations`).
    pub plural: &'static str,
    /// The word in sentences (`location`).
    pub singular: &'static str,
    /// The word in headings (`Location`).
    pub title: &'static str,
    /// The id field in the record's JSON (`location_id`).
    pub id_field: &'static str,
    /// The field that names a record in headings and lists, if any (`name`).
    pub name_field: Option<&'static str>,
    /// Every editable field, in the form's order.
    pub fields: &'static [Field],
    /// The fields shown as list columns (after the name).
    pub columns: &'static [&'static str],
    /// The list's filters (REST's query parameters), typed like fields.
    pub filters: &'static [Field],
    /// The orderings offered: REST's `ordering` value and its label.
    pub orderings: &'static [(&'static str, &'static str)],
}

impl Kind {
    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    fn record_path(&self, id: &str) -> String {
        format!("{}/{id}", self.path)
    }

    /// The heading of a record: its name, or `Shipment 7`.
    pub(crate) fn heading(&self, json: &Map<String, Json>) -> String {
        let id = text_of(json.get(self.id_field));
        match self.name_field.map(|n| text_of(json.get(n))) {
            Some(name) if !name.trim().is_empty() => name,
            _ => format!("{} {id}", self.title),
        }
    }
}

/// The permissions of which any one shows a navigation entry for `path` besides its own
/// (core's read permissions of the kind listed there), so a warehouse manager without
/// `readDevices` still finds Locations.
pub fn nav_read_permissions(path: &str) -> &'static [Permission] {
    match path {
        "/locations" => Model::Location.read_permissions(),
        "/donors" => Model::Donor.read_permissions(),
        "/shipments" => Model::Shipment.read_permissions(),
        _ => &[],
    }
}

/// The page sizes offered.
const PAGE_SIZES: &[&str] = &["10", "25", "50", "100"];

/// A JSON value as text for an input (`null` is blank).
pub(crate) fn text_of(v: Option<&Json>) -> String {
    match v {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A record as its contract JSON.
pub(crate) fn json_of(record: &Record) -> Map<String, Json> {
    match record_json(record) {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

/// The JSON value core expects for what was typed into a field of `input`.
pub(crate) fn typed_value(input: Input, raw: &str) -> Json {
    let blank = raw.trim().is_empty();
    match input {
        Input::Text | Input::Long => Json::String(raw.to_owned()),
        Input::Location | Input::Date if blank => Json::Null,
        // Not a number: sent as typed, so core answers with its own field error.
        Input::Location => raw
            .trim()
            .parse::<i64>()
            .map_or_else(|_| Json::String(raw.to_owned()), Json::from),
        Input::Date | Input::RequiredDate => Json::String(raw.trim().to_owned()),
        Input::Bool => match raw {
            "true" => Json::Bool(true),
            "false" => Json::Bool(false),
            other => Json::String(other.to_owned()),
        },
    }
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The list's query with `page` replaced (for the page links).
pub(crate) fn with_page(path: &str, pairs: &[(String, String)], page: &str) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| k != "page") {
        s.append_pair(k, v);
    }
    s.append_pair("page", page);
    format!("{path}?{}", s.finish())
}

fn field_error(id: &str, errors: &FieldErrors, name: &str) -> Markup {
    let messages = errors.get(name);
    html! {
        @if !messages.is_empty() {
            p.error id=(format!("{id}-error")) { @for m in messages { (m) " " } }
        }
    }
}

/// Locations to choose a destination from, when they are few enough for a list (else the
/// id is typed).
pub(crate) async fn location_choices(
    state: &ConsoleState,
    session: &Session,
) -> Option<Vec<(String, String)>> {
    let params = ListParams::new([("page_size", "100")]);
    let found = state
        .core
        .list(&session.caller, Model::Location, &params)
        .await
        .ok()?;
    if found.count > found.page_size {
        return None;
    }
    Some(
        found
            .results
            .iter()
            .filter_map(|r| match r {
                Record::Location(l) => {
                    let label = if l.city.is_empty() {
                        l.name.clone()
                    } else {
                        format!("{} ({})", l.name, l.city)
                    };
                    Some((l.location_id.0.to_string(), label))
                }
                _ => None,
            })
            .collect(),
    )
}

/// One labelled input of `field` with its errors beside it; its id is `{form}-{name}`.
pub(crate) fn input(
    form: &str,
    field: &Field,
    value: &str,
    errors: &FieldErrors,
    choices: Option<&[(String, String)]>,
) -> Markup {
    let id = format!("{form}-{}", field.name);
    let error_id = format!("{id}-error");
    let invalid = !errors.get(field.name).is_empty();
    let described = invalid.then_some(error_id.as_str());
    let hint_id = format!("{id}-hint");
    html! {
        div.field.invalid[invalid] {
            label for=(id) { (field.label) }
            @match (field.input, choices) {
                (Input::Long, _) => {
                    textarea id=(id) name=(field.name) rows="3"
                        aria-invalid=[invalid.then_some("true")] aria-describedby=[described] { (value) }
                }
                (Input::Bool, _) => {
                    select id=(id) name=(field.name) aria-invalid=[invalid.then_some("true")]
                        aria-describedby=[described] {
                        option value="false" selected[value != "true"] { "No" }
                        option value="true" selected[value == "true"] { "Yes" }
                    }
                }
                (Input::Location, Some(choices)) => {
                    select id=(id) name=(field.name) aria-invalid=[invalid.then_some("true")]
                        aria-describedby=[described] {
                        option value="" selected[value.is_empty()] { "None" }
                        @if !value.is_empty() && !choices.iter().any(|(v, _)| v == value) {
                            option value=(value) selected { "Location " (value) }
                        }
                        @for (v, l) in choices {
                            option value=(v) selected[v == value] { (l) }
                        }
                    }
                }
                (Input::Location, None) => {
                    input id=(id) name=(field.name) type="text" inputmode="numeric" value=(value)
                        autocomplete="off" aria-invalid=[invalid.then_some("true")]
                        aria-describedby=[described];
                }
                (Input::Date | Input::RequiredDate, _) => {
                    input id=(id) name=(field.name) type="text" inputmode="numeric" value=(value)
                        autocomplete="off" placeholder="YYYY-MM-DD"
                        aria-invalid=[invalid.then_some("true")]
                        aria-describedby=(if invalid { format!("{hint_id} {error_id}") } else { hint_id.clone() });
                    p.hint id=(hint_id) { "As year-month-day, e.g. 2026-12-07." }
                }
                (Input::Text, _) => {
                    input id=(id) name=(field.name) type="text" value=(value) autocomplete="off"
                        aria-invalid=[invalid.then_some("true")] aria-describedby=[described];
                }
            }
            (field_error(&id, errors, field.name))
        }
    }
}

/// A field's value as the details list shows it.
fn shown_value(field: &Field, value: Option<&Json>, names: &[(String, String)]) -> Markup {
    let text = text_of(value);
    html! {
        @if text.is_empty() {
            span.muted { "—" }
        } @else {
            @match field.input {
                Input::Bool => { @if text == "true" { "Yes" } @else { "No" } }
                Input::Location => a href=(format!("/locations/{text}")) {
                    @match names.iter().find(|(id, _)| *id == text) {
                        Some((_, name)) => (name),
                        None => { "Location " (text) },
                    }
                },
                Input::Long => span.long { (text) },
                _ => (text),
            }
        }
    }
}

// ---- The list ----

async fn list(
    kind: &'static Kind,
    state: ConsoleState,
    session: Session,
    raw: Option<String>,
) -> ConsoleResult<Html<String>> {
    let pairs = query_pairs(raw.as_deref());
    let params = ListParams::new(pairs.clone());
    let value = |name: &str| params.get(name).unwrap_or_default().to_owned();
    let (found, errors) = match state.core.list(&session.caller, kind.model, &params).await {
        Ok(p) => (Some(p), FieldErrors::new()),
        Err(Error::Validation(fields)) => (None, fields),
        Err(e) => return Err(e.into()),
    };
    let mut shown = vec!["search", "ordering", "page", "page_size"];
    shown.extend(kind.filters.iter().map(|f| f.name));
    let can_create = session.has(kind.model.write_permission(WriteKind::Create));
    let search_invalid = !errors.get("search").is_empty();
    let names = if kind.fields.iter().any(|f| f.input == Input::Location) {
        location_choices(&state, &session).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let more_open = !errors.0.is_empty()
        || kind
            .filters
            .iter()
            .map(|f| f.name)
            .chain(["ordering", "page_size"])
            .any(|n| params.get(n).is_some());
    let body = html! {
        h1 { (kind.plural) }
        @if can_create {
            p { a.button href=(format!("{}/new", kind.path)) { "New " (kind.singular) } }
        }
        form.card.filters method="get" action=(kind.path) role="search" {
            (form_errors(&errors, &shown))
            div.field.search.invalid[search_invalid] {
                label for="f-search" { "Search" }
                input id="f-search" type="search" name="search" value=(value("search"));
                (field_error("f-search", &errors, "search"))
            }
            details.more open[more_open] {
                summary { "Filters, order and page size" }
            div.filter-grid {
                @for filter in kind.filters {
                    @if filter.input == Input::Bool {
                        div.field.invalid[!errors.get(filter.name).is_empty()] {
                            label for=(format!("f-{}", filter.name)) { (filter.label) }
                            select id=(format!("f-{}", filter.name)) name=(filter.name) {
                                option value="" { "Any" }
                                option value="true" selected[value(filter.name) == "true"] { "Yes" }
                                option value="false" selected[value(filter.name) == "false"] { "No" }
                            }
                            (field_error(&format!("f-{}", filter.name), &errors, filter.name))
                        }
                    } @else {
                        (input("f", filter, &value(filter.name), &errors, None))
                    }
                }
                div.field {
                    label for="f-ordering" { "Order" }
                    select id="f-ordering" name="ordering" {
                        @for (v, l) in kind.orderings {
                            option value=(v) selected[value("ordering") == *v] { (l) }
                        }
                    }
                    (field_error("f-ordering", &errors, "ordering"))
                }
                div.field {
                    label for="f-page_size" { "Per page" }
                    select id="f-page_size" name="page_size" {
                        @for v in PAGE_SIZES {
                            option value=(v) selected[value("page_size") == *v] { (v) }
                        }
                    }
                    (field_error("f-page_size", &errors, "page_size"))
                }
            }
            }
            button type="submit" { "Show" }
            " "
            a href=(kind.path) { "Clear" }
        }
        @if let Some(result) = &found {
            p.muted {
                (result.count) " " (if result.count == 1 { kind.singular.to_owned() } else { kind.plural.to_lowercase() })
                " · page " (result.page) " of " (result.total_pages) }
            @if !result.results.is_empty() {
            div.table-scroll {
                table.records {
                    caption.visually-hidden { (kind.plural) }
                    thead { tr {
                        th scope="col" { (kind.title) }
                        @for c in kind.columns {
                            th scope="col" { (kind.field(c).map_or(*c, |f| f.label)) }
                        }
                    } }
                    tbody {
                        @for r in &result.results {
                            @let json = json_of(r);
                            @let id = text_of(json.get(kind.id_field));
                            tr {
                                td data-label=(kind.title) {
                                    a href=(kind.record_path(&id)) { (kind.heading(&json)) }
                                }
                                @for c in kind.columns {
                                    @let label = kind.field(c).map_or(*c, |f| f.label);
                                    td data-label=(label) {
                                        @if let Some(field) = kind.field(c) {
                                            (shown_value(field, json.get(*c), &names))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            }
            @if result.results.is_empty() {
                @if params.pairs.iter().any(|(k, v)| k != "page_size" && k != "ordering" && !v.trim().is_empty()) {
                    p { "No " (kind.singular) " matches." }
                } @else {
                    p { "No " (kind.plural.to_lowercase()) " yet." }
                }
            }
            nav.pages aria-label="Pages" {
                @if result.has_previous() {
                    a href=(with_page(kind.path, &pairs, "1")) { "First" }
                    a href=(with_page(kind.path, &pairs, &(result.page - 1).to_string())) rel="prev" { "Previous" }
                }
                @if result.has_next() {
                    a href=(with_page(kind.path, &pairs, &(result.page + 1).to_string())) rel="next" { "Next" }
                    a href=(with_page(kind.path, &pairs, "last")) { "Last" }
                }
            }
        }
    };
    Ok(page(&session, kind.path, kind.plural, body))
}

// ---- Create ----

/// Today in the organisation's time zone (the create form's shipping date).
fn today(state: &ConsoleState) -> String {
    state
        .core
        .now()
        .with_timezone(&state.settings.time_zone)
        .format("%Y-%m-%d")
        .to_string()
}

async fn new_page(
    kind: &'static Kind,
    state: &ConsoleState,
    session: &Session,
    typed: &Form,
    errors: &FieldErrors,
) -> ConsoleResult<Html<String>> {
    let permission = kind.model.write_permission(WriteKind::Create);
    if !session.has(permission) {
        return Err(ConsoleError::Forbidden(Some(permission)));
    }
    let choices = location_choices(state, session).await;
    let shown: Vec<&str> = kind.fields.iter().map(|f| f.name).collect();
    let action = format!("{}/new", kind.path);
    let title = format!("New {}", kind.singular);
    let body = html! {
        p { a href=(kind.path) { "← All " (kind.plural.to_lowercase()) } }
        h1 { (title) }
        section.card {
            form.stack.edit method="post" action=(action) {
                (csrf_field(&session.csrf))
                (form_errors(errors, &shown))
                @for field in kind.fields {
                    @let value = match typed.get(field.name) {
                        Some(v) => v.to_owned(),
                        None if field.input == Input::RequiredDate => today(state),
                        None => String::new(),
                    };
                    (input("f", field, &value, errors, choices.as_deref()))
                }
                button type="submit" { "Create " (kind.singular) }
            }
        }
    };
    Ok(page(session, kind.path, &title, body))
}

async fn new_form(
    kind: &'static Kind,
    state: ConsoleState,
    session: Session,
) -> ConsoleResult<Html<String>> {
    new_page(
        kind,
        &state,
        &session,
        &Form::default(),
        &FieldErrors::new(),
    )
    .await
}

async fn create(
    kind: &'static Kind,
    state: ConsoleState,
    session: Session,
    form: Form,
) -> ConsoleResult<Response> {
    let mut body = Map::new();
    for field in kind.fields {
        let raw = form.text(field.name);
        if field.input == Input::RequiredDate && raw.trim().is_empty() {
            continue;
        }
        body.insert(field.name.to_owned(), typed_value(field.input, raw));
    }
    match state
        .core
        .create(&session.caller, kind.model, &Json::Object(body))
        .await
    {
        Ok(record) => {
            let id = text_of(json_of(&record).get(kind.id_field));
            Ok(Redirect::to(&kind.record_path(&id)).into_response())
        }
        Err(e) => {
            let errors = refusal(e)?;
            Ok(new_page(kind, &state, &session, &form, &errors)
                .await?
                .into_response())
        }
    }
}

// ---- A record's page and its edit ----

/// What the edit form shows: typed values, the values it was loaded with, errors, and a
/// conflict's changes `(field, loaded, current)`.
pub(crate) struct EditState {
    pub typed: Map<String, Json>,
    pub version: u64,
    pub loaded: Map<String, Json>,
    pub errors: FieldErrors,
    pub conflict: Option<Vec<(&'static str, String, String)>>,
}

impl EditState {
    /// The form loaded from `record` as it is now.
    pub(crate) fn fresh(record: &Record) -> EditState {
        let current = json_of(record);
        EditState {
            typed: current.clone(),
            version: record.version(),
            loaded: current,
            errors: FieldErrors::new(),
            conflict: None,
        }
    }
}

pub(crate) async fn read(
    kind: &'static Kind,
    state: &ConsoleState,
    session: &Session,
    id: &str,
) -> ConsoleResult<Record> {
    Ok(state.core.get(&session.caller, kind.model, id).await?)
}

async fn show(
    kind: &'static Kind,
    state: ConsoleState,
    session: Session,
    id: String,
) -> ConsoleResult<Html<String>> {
    let record = read(kind, &state, &session, &id).await?;
    let edit = EditState::fresh(&record);
    record_page(
        kind,
        &state,
        &session,
        &record,
        edit,
        None,
        ScanState::default(),
    )
    .await
}

async fn edit(
    kind: &'static Kind,
    state: ConsoleState,
    session: Session,
    id: String,
    form: Form,
) -> ConsoleResult<Html<String>> {
    let version = form
        .text("version")
        .parse::<u64>()
        .map_err(|_| ConsoleError::BadRequest("The form has no version; reload it.".into()))?;
    let mut typed = Map::new();
    let mut loaded = Map::new();
    let mut body = Map::new();
    for field in kind.fields {
        let now = form.text(field.name);
        let was = form.text(&format!("loaded_{}", field.name));
        typed.insert(field.name.to_owned(), Json::String(now.to_owned()));
        loaded.insert(field.name.to_owned(), Json::String(was.to_owned()));
        if now != was {
            body.insert(field.name.to_owned(), typed_value(field.input, now));
        }
    }
    body.insert("version".into(), Json::from(version));
    let outcome = state
        .core
        .update(
            &session.caller,
            kind.model,
            &id,
            &Json::Object(body),
            Mode::Patch,
            None,
        )
        .await;
    match outcome {
        Ok(record) => {
            let edit = EditState::fresh(&record);
            record_page(
                kind,
                &state,
                &session,
                &record,
                edit,
                Some("Saved.".into()),
                ScanState::default(),
            )
            .await
        }
        Err(Error::Conflict { fields, .. }) if !fields.get("version").is_empty() => {
            // Someone saved meanwhile: keep what was typed, show what they changed, and load
            // the form at the new version so "save mine over theirs" can go through.
            let record = read(kind, &state, &session, &id).await?;
            let current = json_of(&record);
            let changed = kind
                .fields
                .iter()
                .filter_map(|f| {
                    let was = text_of(loaded.get(f.name));
                    let now = text_of(current.get(f.name));
                    (was != now).then_some((f.name, was, now))
                })
                .collect();
            // A field this user did not change shows (and keeps) the other person's value,
            // so "save mine over theirs" sends only this user's changes.
            let mut typed = typed;
            for f in kind.fields {
                if text_of(typed.get(f.name)) == text_of(loaded.get(f.name)) {
                    let theirs = current.get(f.name).cloned().unwrap_or(Json::Null);
                    typed.insert(f.name.to_owned(), theirs);
                }
            }
            let edit = EditState {
                typed,
                version: record.version(),
                loaded: current,
                errors: FieldErrors::new(),
                conflict: Some(changed),
            };
            record_page(
                kind,
                &state,
                &session,
                &record,
                edit,
                None,
                ScanState::default(),
            )
            .await
        }
        Err(e) => {
            let errors = refusal(e)?;
            let record = read(kind, &state, &session, &id).await?;
            let edit = EditState {
                typed,
                version,
                loaded,
                errors,
                conflict: None,
            };
            record_page(
                kind,
                &state,
                &session,
                &record,
                edit,
                None,
                ScanState::default(),
            )
            .await
        }
    }
}

/// Links to the devices list filtered by this record (when the caller may read devices).
fn device_links(kind: &Kind, session: &Session, id: &str) -> Markup {
    let links: &[(&str, &str)] = match kind.model {
        Model::Location => &[
            ("start_location", "Devices that started here"),
            ("end_location", "Devices going here"),
        ],
        Model::Donor => &[("donor", "Devices from this donor")],
        _ => &[],
    };
    let devices = session.has(Permission::ReadDevices);
    let shipments = kind.model == Model::Location
        && Model::Shipment
            .read_permissions()
            .iter()
            .any(|p| session.has(*p));
    html! {
        @if (devices && !links.is_empty()) || shipments {
            ul.links {
                @if devices {
                    @for (param, label) in links {
                        li { a href=(format!("/devices?{param}={id}")) { (label) } }
                    }
                }
                @if shipments {
                    li { a href=(format!("/shipments?destination={id}")) { "Shipments going here" } }
                }
            }
        }
    }
}

/// A record's page: its details, (for a shipment) its devices, the edit form, the delete
/// link.
pub(crate) async fn record_page(
    kind: &'static Kind,
    state: &ConsoleState,
    session: &Session,
    record: &Record,
    edit: EditState,
    notice: Option<String>,
    scan: ScanState,
) -> ConsoleResult<Html<String>> {
    let zone = state.settings.time_zone;
    let current = json_of(record);
    let id = text_of(current.get(kind.id_field));
    let title = kind.heading(&current);
    let can_edit = session.has(kind.model.write_permission(WriteKind::Update));
    let can_delete = session.has(kind.model.write_permission(WriteKind::Delete));
    let choices = if kind.fields.iter().any(|f| f.input == Input::Location) {
        location_choices(state, session).await
    } else {
        None
    };
    let names = choices.as_deref().unwrap_or_default();
    let devices = if kind.model == Model::Shipment {
        Some(shipments::devices_section(state, session, &id, scan).await?)
    } else {
        None
    };
    let shown: Vec<&str> = kind.fields.iter().map(|f| f.name).collect();
    let (created, updated) = match record {
        Record::Location(l) => (l.created_at, l.updated_at),
        Record::Donor(d) => (d.created_at, d.updated_at),
        Record::Shipment(s) => (s.created_at, s.updated_at),
        _ => return Err(ConsoleError::NotFound),
    };
    let body = html! {
        p { a href=(kind.path) { "← All " (kind.plural.to_lowercase()) } }
        h1 { (title) }
        @if let Some(n) = &notice { div.alert.ok role="status" { p { (n) } } }
        section.card aria-labelledby="h-fields" {
            h2 #h-fields { "Details" }
            dl.fields {
                dt { "Id" } dd { code { (id) } }
                @for field in kind.fields {
                    dt { (field.label) } dd { (shown_value(field, current.get(field.name), names)) }
                }
                dt { "Created" } dd { (time(created, zone)) }
                dt { "Last changed" } dd { (time(updated, zone)) }
                dt { "Version" } dd { (record.version()) }
            }
            (device_links(kind, session, &id))
        }
        @if let Some(section) = devices { (section) }
        @if can_edit {
            section.card aria-labelledby="h-edit" {
                h2 #h-edit { "Edit" }
                @if let Some(changed) = &edit.conflict {
                    div.alert.error role="alert" {
                        p { "Someone else saved this " (kind.singular) " while you were editing \
                             it. Your input is kept below; what they changed is shown beside each \
                             field. Check it, then save yours over theirs or change it first." }
                        @if changed.is_empty() { p { "They changed no field of this form." } }
                    }
                }
                form.stack.edit method="post" action=(kind.record_path(&id)) {
                    (csrf_field(&session.csrf))
                    (form_errors(&edit.errors, &shown))
                    input type="hidden" name="version" value=(edit.version);
                    @for field in kind.fields {
                        input type="hidden" name=(format!("loaded_{}", field.name))
                            value=(text_of(edit.loaded.get(field.name)));
                        (input("f", field, &text_of(edit.typed.get(field.name)), &edit.errors, choices.as_deref()))
                        @if let Some(changed) = &edit.conflict {
                            @if let Some((_, was, now)) = changed.iter().find(|(n, _, _)| *n == field.name) {
                                p.theirs {
                                    "They changed it from " q { (was) } " to " q { (now) } "."
                                }
                            }
                        }
                    }
                    button type="submit" {
                        @if edit.conflict.is_some() { "Save mine over theirs" } @else { "Save" }
                    }
                }
            }
        }
        @if can_delete {
            section.card aria-labelledby="h-delete" {
                h2 #h-delete { "Delete" }
                p { a.button.danger href=(format!("{}/delete", kind.record_path(&id))) { "Delete this " (kind.singular) "…" } }
            }
        }
    };
    Ok(page(session, kind.path, &title, body))
}

// ---- Delete ----

/// What deleting the record changes elsewhere (core clears the references to it), as
/// sentences; counted through core's lists with the caller's permissions.
async fn delete_effects(
    kind: &Kind,
    state: &ConsoleState,
    session: &Session,
    id: &str,
) -> ConsoleResult<Vec<Markup>> {
    let count = |model: Model, param: &'static str| {
        let params = ListParams::new([(param, id), ("page_size", "1")]);
        let core = state.core.clone();
        let caller = session.caller.clone();
        async move {
            match core.list(&caller, model, &params).await {
                Ok(found) => Ok(Some(found.count)),
                Err(Error::PermissionDenied) => Ok(None),
                Err(e) => Err(ConsoleError::from(e)),
            }
        }
    };
    let mut effects = Vec::new();
    // `n` things (`noun`: one, many) linked to `link`, then the sentence for one or many.
    let mut say = |n: Option<u64>, link: String, noun: (&str, &str), text: (&str, &str)| {
        if let Some(n) = n.filter(|n| *n > 0) {
            let (noun, text) = if n == 1 {
                (noun.0, text.0)
            } else {
                (noun.1, text.1)
            };
            effects.push(html! { a href=(link) { (n) " " (noun) } " " (text) });
        }
    };
    const DEVICES: (&str, &str) = ("device", "devices");
    match kind.model {
        Model::Location => {
            let starts = count(Model::Device, "start_location").await?;
            say(
                starts,
                format!("/devices?start_location={id}"),
                DEVICES,
                (
                    "started here; its start location is cleared.",
                    "started here; their start location is cleared.",
                ),
            );
            let ends = count(Model::Device, "end_location").await?;
            say(
                ends,
                format!("/devices?end_location={id}"),
                DEVICES,
                (
                    "is going here; its end location is cleared.",
                    "are going here; their end location is cleared.",
                ),
            );
            let shipments = count(Model::Shipment, "destination").await?;
            say(
                shipments,
                format!("/shipments?destination={id}"),
                ("shipment", "shipments"),
                (
                    "goes here; its destination is cleared.",
                    "go here; their destination is cleared.",
                ),
            );
        }
        Model::Donor => {
            let given = count(Model::Device, "donor").await?;
            say(
                given,
                format!("/devices?donor={id}"),
                DEVICES,
                (
                    "came from this donor; its donor is cleared.",
                    "came from this donor; their donor is cleared.",
                ),
            );
        }
        Model::Shipment => match state.core.shipment_devices(&session.caller, id).await {
            Ok(devices) if !devices.is_empty() => {
                let n = devices.len();
                effects.push(html! {
                    (n) " " (if n == 1 { "device is" } else { "devices are" })
                    " in this shipment; they stay, without this shipment."
                });
            }
            Ok(_) | Err(Error::PermissionDenied) => {}
            Err(e) => return Err(e.into()),
        },
        Model::Device => {}
    }
    Ok(effects)
}

async fn delete_page(
    kind: &'static Kind,
    state: &ConsoleState,
    session: &Session,
    record: &Record,
    refusal: Option<String>,
) -> ConsoleResult<Html<String>> {
    let current = json_of(record);
    let id = text_of(current.get(kind.id_field));
    let name = kind.heading(&current);
    let effects = delete_effects(kind, state, session, &id).await?;
    let title = format!("Delete {name}?");
    let action = format!("{}/delete", kind.record_path(&id));
    let body = html! {
        p { a href=(kind.record_path(&id)) { "← Back to " (name) } }
        h1 { (title) }
        @if let Some(r) = &refusal {
            div.alert.error role="alert" { p { (r) } }
        }
        section.card {
            p { "This deletes the " (kind.singular) " " strong { (name) } " for everyone. It cannot be undone." }
            @if effects.is_empty() {
                p { "Nothing else refers to it." }
            } @else {
                ul.effects { @for e in &effects { li { (e) } } }
            }
            form.inline method="post" action=(action) {
                (csrf_field(&session.csrf))
                input type="hidden" name="version" value=(record.version());
                button.danger type="submit" { "Delete " (kind.singular) }
                a href=(kind.record_path(&id)) { "Keep it" }
            }
        }
    };
    Ok(page(session, kind.path, &title, body))
}

async fn confirm_delete(
    kind: &'static Kind,
    state: ConsoleState,
    session: Session,
    id: String,
) -> ConsoleResult<Html<String>> {
    let permission = kind.model.write_permission(WriteKind::Delete);
    let record = read(kind, &state, &session, &id).await?;
    if !session.has(permission) {
        return Err(ConsoleError::Forbidden(Some(permission)));
    }
    delete_page(kind, &state, &session, &record, None).await
}

async fn delete(
    kind: &'static Kind,
    state: ConsoleState,
    session: Session,
    id: String,
    form: Form,
) -> ConsoleResult<Html<String>> {
    let version = form
        .text("version")
        .parse::<u64>()
        .map_err(|_| ConsoleError::BadRequest("The form has no version; reload it.".into()))?;
    let record = read(kind, &state, &session, &id).await?;
    let name = kind.heading(&json_of(&record));
    match state
        .core
        .delete(&session.caller, kind.model, &id, Some(version))
        .await
    {
        Ok(()) => {
            let body = html! {
                h1 { (kind.title) " deleted" }
                div.alert.ok role="status" { p { (name) " was deleted." } }
                p { a href=(kind.path) { "Back to the " (kind.plural.to_lowercase()) } }
            };
            Ok(page(
                &session,
                kind.path,
                &format!("{} deleted", kind.title),
                body,
            ))
        }
        Err(Error::PreconditionFailed { .. }) => {
            let refusal = format!(
                "Someone changed this {} after you opened this page, so it was not deleted. \
                 Open it to see what changed, or confirm again to delete it as it is now.",
                kind.singular
            );
            delete_page(kind, &state, &session, &record, Some(refusal)).await
        }
        Err(e) => match refusal(e) {
            Ok(fields) => {
                let text = fields
                    .0
                    .iter()
                    .flat_map(|(k, ms)| {
                        ms.iter().map(move |m| {
                            if k == NON_FIELD {
                                m.clone()
                            } else {
                                format!("{k}: {m}")
                            }
                        })
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                delete_page(kind, &state, &session, &record, Some(text)).await
            }
            Err(e) => Err(e.into()),
        },
    }
}

/// The paths of `kind`'s screens: list, new, a record (show and edit), its delete.
pub(crate) fn routes(kind: &'static Kind) -> Vec<Route> {
    let (list_path, new_path, record_path, delete_path) = match kind.model {
        Model::Location => (
            "/locations",
            "/locations/new",
            "/locations/{id}",
            "/locations/{id}/delete",
        ),
        Model::Donor => (
            "/donors",
            "/donors/new",
            "/donors/{id}",
            "/donors/{id}/delete",
        ),
        Model::Shipment => (
            "/shipments",
            "/shipments/new",
            "/shipments/{id}",
            "/shipments/{id}/delete",
        ),
        Model::Device => return Vec::new(),
    };
    vec![
        Route::new(
            list_path,
            get(
                move |State(s): State<ConsoleState>, session: Session, RawQuery(q): RawQuery| {
                    list(kind, s, session, q)
                },
            ),
        ),
        Route::new(
            new_path,
            get(move |State(s): State<ConsoleState>, session: Session| new_form(kind, s, session))
                .post(
                    move |State(s): State<ConsoleState>, session: Session, form: Form| {
                        create(kind, s, session, form)
                    },
                ),
        ),
        Route::new(
            record_path,
            get(
                move |State(s): State<ConsoleState>, session: Session, Path(id): Path<String>| {
                    show(kind, s, session, id)
                },
            )
            .post(
                move |State(s): State<ConsoleState>,
                      session: Session,
                      Path(id): Path<String>,
                      form: Form| edit(kind, s, session, id, form),
            ),
        ),
        Route::new(
            delete_path,
            get(
                move |State(s): State<ConsoleState>, session: Session, Path(id): Path<String>| {
                    confirm_delete(kind, s, session, id)
                },
            )
            .post(
                move |State(s): State<ConsoleState>,
                      session: Session,
                      Path(id): Path<String>,
                      form: Form| delete(kind, s, session, id, form),
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blank_inputs_mean_what_core_expects() {
        // (input, typed, sent): written out by hand.
        let table: [(Input, &str, Json); 10] = [
            (Input::Text, "", json!("")),
            (Input::Long, "a\nb", json!("a\nb")),
            (Input::Location, "", Json::Null),
            (Input::Location, " 3 ", json!(3)),
            (Input::Location, "north", json!("north")),
            (Input::Date, "", Json::Null),
            (Input::Date, "2026-12-01 ", json!("2026-12-01")),
            (Input::RequiredDate, "2026-12-01", json!("2026-12-01")),
            (Input::Bool, "true", json!(true)),
            (Input::Bool, "false", json!(false)),
        ];
        for (input, typed, want) in table {
            assert_eq!(typed_value(input, typed), want, "{input:?} {typed:?}");
        }
    }

    #[test]
    fn page_links_keep_the_filters() {
        let pairs = vec![
            ("search".to_owned(), "north & south".to_owned()),
            ("page".to_owned(), "2".to_owned()),
        ];
        assert_eq!(
            with_page("/locations", &pairs, "3"),
            "/locations?search=north+%26+south&page=3"
        );
    }
}
