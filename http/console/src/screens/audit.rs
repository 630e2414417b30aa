//! The audit log (needs `viewAuditLog`, as core decides): core's [`Rehome::list_audit`] with
//! REST's filters (actor, action, object kind and id, a time range) and pages, newest first.
//! Times are shown, and the range is typed, in the organisation's time zone; an object links
//! to its console page where one exists.
//!
//! [`Rehome::list_audit`]: rehome_core::Rehome::list_audit

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{NaiveDateTime, TimeZone};
use maud::{Markup, html};
use rehome_core::model::AuditEvent;
use rehome_core::services::ListParams;
use rehome_core::{Error, FieldErrors, Permission};

use super::Route;
use crate::ConsoleState;
use crate::error::ConsoleResult;
use crate::forms::{Input, field, form_errors};
use crate::layout::{page, time};
use crate::session::Session;

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new("/audit", get(list))]
}

/// The filters: query parameter, label, and whether it is a time (typed in the organisation's
/// time zone).
const FILTERS: &[(&str, &str, bool)] = &[
    ("actor", "Actor (username or id)", false),
    ("action", "Action", false),
    ("object_type", "Object kind", false),
    ("object_id", "Object id", false),
    ("since", "From", true),
    ("until", "To", true),
];

/// A `datetime-local` value (`2026-12-07T14:30`) in `zone` as core's RFC 3339 in UTC; anything
/// else is handed to core as typed (a date, RFC 3339, or something core refuses by name).
fn local_time(raw: &str, zone: chrono_tz::Tz) -> String {
    let parsed = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"));
    match parsed
        .ok()
        .and_then(|n| zone.from_local_datetime(&n).earliest())
    {
        Some(t) => t.with_timezone(&chrono::Utc).to_rfc3339(),
        None => raw.to_owned(),
    }
}

/// The page's own link to another page of the same filters.
fn with_page(pairs: &[(String, String)], page: &str) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| k != "page") {
        s.append_pair(k, v);
    }
    s.append_pair("page", page);
    format!("/audit?{}", s.finish())
}

/// The object of an entry, linked to its console page when it has one this user may open.
pub(crate) fn object(session: &Session, e: &AuditEvent) -> Markup {
    let text = if e.object_id.is_empty() {
        e.object_type.clone()
    } else {
        format!("{} {}", e.object_type, e.object_id)
    };
    let link = match e.object_type.as_str() {
        _ if e.object_id.is_empty() => None,
        "device" if session.has(Permission::ReadDevices) => {
            Some(format!("/devices/{}", e.object_id))
        }
        "user" if session.has(Permission::ManageUsers) => Some(format!("/people/{}", e.object_id)),
        kind @ ("location" | "donor" | "shipment") => {
            let model = match kind {
                "location" => rehome_core::services::Model::Location,
                "donor" => rehome_core::services::Model::Donor,
                _ => rehome_core::services::Model::Shipment,
            };
            model
                .read_permissions()
                .iter()
                .any(|p| session.has(*p))
                .then(|| format!("/{kind}s/{}", e.object_id))
        }
        "role" if session.has(Permission::ManageUsers) => {
            let name: String = form_urlencoded::byte_serialize(e.object_id.as_bytes()).collect();
            Some(format!("/roles/{}", name.replace('+', "%20")))
        }
        _ => None,
    };
    html! {
        @match link {
            Some(href) => a href=(href) { (text) },
            None => (text),
        }
    }
}

/// The changes of an entry, compact (`{}` shows nothing).
fn changes(e: &AuditEvent) -> Markup {
    let empty = e.changes.is_null() || e.changes.as_object().is_some_and(|m| m.is_empty());
    html! {
        @if !empty {
            details.changes {
                summary { "Changes" }
                code { (e.changes.to_string()) }
            }
        }
    }
}

/// `GET /audit`: the log with the filters given.
async fn list(
    State(st): State<ConsoleState>,
    session: Session,
    RawQuery(raw): RawQuery,
) -> ConsoleResult<Response> {
    let zone = st.settings.time_zone;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .filter(|(k, _)| k == "page" || FILTERS.iter().any(|(n, _, _)| n == k))
        .collect();
    let value = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut errors = FieldErrors::new();
    let mut params = Vec::new();
    for (k, v) in &pairs {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let sent = match k.as_str() {
            "since" | "until" => local_time(v, zone),
            // The actor is a user id; a name is looked up (an unknown one matches nothing).
            "actor" if !v.chars().all(|c| c.is_ascii_digit()) => {
                match st.core.find_user(v).await? {
                    Some(u) => u.id.0.to_string(),
                    None => {
                        errors.add("actor", format!("No user is called \"{v}\"."));
                        continue;
                    }
                }
            }
            _ => v.to_owned(),
        };
        params.push((k.clone(), sent));
    }
    let result = if errors.is_empty() {
        match st
            .core
            .list_audit(&session.caller, &ListParams::new(params))
            .await
        {
            Ok(r) => Some(r),
            Err(Error::Validation(fields)) => {
                errors = fields;
                None
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let shown: Vec<&str> = FILTERS.iter().map(|(n, _, _)| *n).collect();
    let body = html! {
        h1 { "Audit log" }
        form.card.filters.audit-filters method="get" action="/audit" role="search" {
            (form_errors(&errors, &shown))
            div.filter-grid {
                @for (name, label, is_time) in FILTERS {
                    @if *is_time {
                        @let messages = errors.get(name);
                        div.field.invalid[!messages.is_empty()] {
                            label for=(format!("f-{name}")) { (label) }
                            input id=(format!("f-{name}")) type="datetime-local" name=(name) value=(value(name));
                            @for m in messages { p.error { (m) } }
                        }
                    } @else {
                        (field(label, name, Input::Text, &value(name), &errors, "off"))
                    }
                }
            }
            p.muted { "Times in " (zone.name()) "." }
            button type="submit" { "Show" }
            " "
            a href="/audit" { "Clear" }
        }
        @if let Some(result) = &result {
            p.muted { (result.count) " entries · page " (result.page) " of " (result.total_pages) }
            @if result.results.is_empty() {
                p { "No entry matches." }
            } @else {
                div.table-scroll {
                    table.people.audit {
                        caption.visually-hidden { "Audit entries" }
                        thead { tr {
                            th scope="col" { "Time" }
                            th scope="col" { "Actor" }
                            th scope="col" { "Action" }
                            th scope="col" { "Object" }
                            th scope="col" { "Changes" }
                        } }
                        tbody {
                            @for e in &result.results {
                                tr {
                                    td data-label="Time" { (time(e.timestamp, zone)) }
                                    td data-label="Actor" {
                                        (e.actor_username.as_deref().unwrap_or("system"))
                                    }
                                    td data-label="Action" { code { (e.action) } }
                                    td data-label="Object" { (object(&session, e)) }
                                    td data-label="Changes" { (changes(e)) }
                                }
                            }
                        }
                    }
                }
            }
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
        }
    };
    Ok(page(&session, "/audit", "Audit log", body).into_response())
}
