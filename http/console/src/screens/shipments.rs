//! Shipments: list, page, create, edit, delete through [`super::records`], and a shipment's
//! devices: listed on its page (core's [`rehome_core::Rehome::shipment_devices`]), added by
//! scanning (core's [`rehome_core::Rehome::scan`] resolves the code, then the device's
//! `shipping_infos` gains the shipment through core's device update, as REST's PATCH does)
//! and removed the same way.

use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::routing::post;
use maud::{Markup, html};
use rehome_core::services::inventory::WriteKind;
use rehome_core::services::{Mode, Model, Scanned};
use rehome_core::{Device, Error, FieldErrors, Record, ShipmentId};
use serde_json::json;

use super::Route;
use super::records::{EditState, Field, Input, Kind, f, read, record_page, routes as kind_routes};
use crate::ConsoleState;
use crate::error::{ConsoleError, ConsoleResult};
use crate::forms::{Form, form_errors, refusal};
use crate::layout::csrf_field;
use crate::session::Session;

const FIELDS: &[Field] = &[
    f("date_shipped", "Date shipped", Input::RequiredDate),
    f("destination", "Destination", Input::Location),
    f("tracking_identifier", "Tracking id", Input::Text),
    f("arrived", "Arrived", Input::Bool),
    f("date_delivered", "Date delivered", Input::Date),
];

/// Shipments as the screens show them (REST's filters and orderings).
pub(crate) static SHIPMENTS: Kind = Kind {
    model: Model::Shipment,
    path: "/shipments",
    plural: "Shipments",
    singular: "shipment",
    title: "Shipment",
    id_field: "shipping_id",
    name_field: None,
    fields: FIELDS,
    columns: &[
        "date_shipped",
        "destination",
        "arrived",
        "tracking_identifier",
    ],
    filters: &[
        f("arrived", "Arrived", Input::Bool),
        f("date_shipped__gte", "Shipped from", Input::Date),
        f("date_shipped__lte", "Shipped until", Input::Date),
        f("destination", "Destination (location id)", Input::Text),
    ],
    orderings: &[
        ("", "Shipped, oldest first (default)"),
        ("-date_shipped", "Shipped, newest first"),
        ("-date_delivered", "Delivered, newest first"),
    ],
};

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    let mut routes = kind_routes(&SHIPMENTS);
    // A GET of the scan form's address (a reload after the answer was left): the shipment.
    let back = |Path(id): Path<String>| async move { Redirect::to(&format!("/shipments/{id}")) };
    routes.push(Route::new("/shipments/{id}/devices", post(add).get(back)));
    routes.push(Route::new(
        "/shipments/{id}/devices/remove",
        post(remove).get(back),
    ));
    routes
}

/// The scan form's state: the code kept after a refusal, its errors, what the last scan did.
#[derive(Debug, Default)]
pub(crate) struct ScanState {
    pub code: String,
    pub errors: FieldErrors,
    pub notice: Option<String>,
}

fn serial_or_id(d: &Device) -> String {
    if d.serial_number.is_empty() {
        d.device_id.to_string()
    } else {
        d.serial_number.clone()
    }
}

/// A shipment's devices with the scan form and a remove button each.
pub(crate) async fn devices_section(
    state: &ConsoleState,
    session: &Session,
    id: &str,
    scan: ScanState,
) -> ConsoleResult<Markup> {
    let devices = match state.core.shipment_devices(&session.caller, id).await {
        Ok(d) => Some(d),
        Err(Error::PermissionDenied) => None,
        Err(e) => return Err(e.into()),
    };
    let can_change = session.has(Model::Device.write_permission(WriteKind::Update));
    let invalid = !scan.errors.get("code").is_empty();
    let scanned = invalid || scan.notice.is_some() || !scan.errors.0.is_empty();
    Ok(html! {
        section.card aria-labelledby="h-devices" {
            h2 #h-devices { "Devices in this shipment" }
            @if let Some(n) = &scan.notice { div.alert.ok role="status" { p { (n) } } }
            @if !can_change {
                // A refused POST from a page without the form: core's refusal, at the top.
                (form_errors(&scan.errors, &[]))
            }
            @if can_change {
                (super::intake::scan_scripts())
                form.scan method="post" action=(format!("/shipments/{id}/devices")) {
                    (csrf_field(&session.csrf))
                    (form_errors(&scan.errors, &["code"]))
                    div.field.invalid[invalid] {
                        label for="scan-code" { "Scan or type a code" }
                        div.scan-row {
                            input id="scan-code" name="code" type="text" value=(scan.code) data-scan
                                autocomplete="off" autocapitalize="off" spellcheck="false"
                                autofocus[scanned]
                                aria-invalid=[invalid.then_some("true")]
                                aria-describedby=(if invalid { "scan-code-hint scan-code-error" } else { "scan-code-hint" });
                            button type="submit" { "Add device" }
                        }
                        p.hint #scan-code-hint { "A device label's QR code, a serial number or a MAC address." }
                        @if invalid {
                            p.error #scan-code-error { @for m in scan.errors.get("code") { (m) " " } }
                        }
                    }
                }
            }
            @match &devices {
                None => p.muted { "The devices are shown to holders of readDevices." },
                Some(list) if list.is_empty() => p.muted { "No device in this shipment yet." },
                Some(list) => {
                    p.muted { (list.len()) " " (if list.len() == 1 { "device" } else { "devices" }) }
                    div.table-scroll {
                        table.records.shipment-devices {
                            caption.visually-hidden { "Devices in this shipment" }
                            thead { tr {
                                th scope="col" { "Serial number" }
                                th scope="col" { "Status" }
                                th scope="col" { "Type" }
                                th scope="col" { "Make" }
                                th scope="col" { "Model" }
                                @if can_change { th scope="col" { span.visually-hidden { "Remove" } } }
                            } }
                            tbody {
                                @for d in list {
                                    @let device_id = d.device_id.to_string();
                                    tr {
                                        td data-label="Serial number" {
                                            a href=(format!("/devices/{device_id}")) { (serial_or_id(d)) }
                                        }
                                        td data-label="Status" { span.status { (d.status.as_str()) } }
                                        td data-label="Type" { (d.device_type) }
                                        td data-label="Make" { (d.make) }
                                        td data-label="Model" { (d.model) }
                                        @if can_change {
                                            td data-label="" {
                                                form method="post" action=(format!("/shipments/{id}/devices/remove")) {
                                                    (csrf_field(&session.csrf))
                                                    input type="hidden" name="device" value=(device_id);
                                                    input type="hidden" name="version" value=(d.version);
                                                    button.secondary type="submit"
                                                        aria-label=(format!("Remove {} from this shipment", serial_or_id(d))) {
                                                        "Remove"
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// Core's refusal of a change to a device, as scan-form errors (`Err` for a failure page).
fn device_refusal(e: Error) -> Result<FieldErrors, Error> {
    match e {
        Error::PermissionDenied => Ok(FieldErrors::one(
            "code",
            format!(
                "You may not change devices: putting one in a shipment or taking it out needs \
                 the {} permission.",
                Model::Device.write_permission(WriteKind::Update).as_str()
            ),
        )),
        Error::Conflict { fields, .. } if !fields.get("version").is_empty() => {
            Ok(FieldErrors::one(
                "code",
                "This device was changed by someone else meanwhile; nothing was changed. Try again.",
            ))
        }
        Error::NotFound(m) => Ok(FieldErrors::one("code", m)),
        e => refusal(e),
    }
}

/// Sets a device's shipments through core's device update, at the version it was read at.
async fn set_shipments(
    state: &ConsoleState,
    session: &Session,
    device: &Device,
    ships: Vec<ShipmentId>,
) -> Result<(), Error> {
    let ids: Vec<i64> = ships.into_iter().map(|s| s.0).collect();
    state
        .core
        .update(
            &session.caller,
            Model::Device,
            &device.device_id.to_string(),
            &json!({"shipping_infos": ids, "version": device.version}),
            Mode::Patch,
            None,
        )
        .await
        .map(|_| ())
}

async fn shipment_page(
    state: &ConsoleState,
    session: &Session,
    id: &str,
    scan: ScanState,
) -> ConsoleResult<Html<String>> {
    let record = read(&SHIPMENTS, state, session, id).await?;
    let edit = EditState::fresh(&record);
    record_page(&SHIPMENTS, state, session, &record, edit, None, scan).await
}

fn shipment_id(record: &Record) -> ConsoleResult<ShipmentId> {
    match record {
        Record::Shipment(s) => Ok(s.shipping_id),
        _ => Err(ConsoleError::NotFound),
    }
}

/// `POST /shipments/{id}/devices`: the scanned code's device joins the shipment.
async fn add(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> ConsoleResult<Html<String>> {
    let shipment = shipment_id(&read(&SHIPMENTS, &state, &session, &id).await?)?;
    let code = form.text("code").to_owned();
    let outcome = match state.core.scan(&session.caller, &code).await {
        Ok(Scanned::Device { device, .. }) => {
            if device.shipping_infos.contains(&shipment) {
                Ok(format!(
                    "{} is in this shipment already.",
                    serial_or_id(&device)
                ))
            } else {
                let mut ships = device.shipping_infos.clone();
                ships.push(shipment);
                match set_shipments(&state, &session, &device, ships).await {
                    Ok(()) => Ok(format!("Added {}.", serial_or_id(&device))),
                    Err(e) => Err(device_refusal(e)?),
                }
            }
        }
        Ok(Scanned::Unknown { .. }) => Err(FieldErrors::one(
            "code",
            "No device has this code. Take the device in first, then scan it again.",
        )),
        Err(Error::PermissionDenied) => Err(FieldErrors::one(
            "code",
            "You may not scan devices: that needs the scanDevices or readDevices permission.",
        )),
        Err(e) => Err(device_refusal(e)?),
    };
    let scan = match outcome {
        Ok(notice) => ScanState {
            notice: Some(notice),
            ..ScanState::default()
        },
        Err(errors) => ScanState {
            code,
            errors,
            notice: None,
        },
    };
    shipment_page(&state, &session, &id, scan).await
}

/// `POST /shipments/{id}/devices/remove`: a device leaves the shipment (at the version the
/// page showed).
async fn remove(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> ConsoleResult<Html<String>> {
    let shipment = shipment_id(&read(&SHIPMENTS, &state, &session, &id).await?)?;
    let version = form
        .text("version")
        .parse::<u64>()
        .map_err(|_| ConsoleError::BadRequest("The form has no version; reload it.".into()))?;
    let device = match state
        .core
        .get(&session.caller, Model::Device, form.text("device"))
        .await?
    {
        Record::Device(d) => d,
        _ => return Err(ConsoleError::NotFound),
    };
    // The version the page showed, so a change made meanwhile is not overwritten.
    let shown = Device {
        version,
        ..device.clone()
    };
    let ships: Vec<ShipmentId> = device
        .shipping_infos
        .iter()
        .copied()
        .filter(|s| *s != shipment)
        .collect();
    let scan = match set_shipments(&state, &session, &shown, ships).await {
        Ok(()) => ScanState {
            notice: Some(format!("Removed {}.", serial_or_id(&device))),
            ..ScanState::default()
        },
        Err(e) => {
            let mut errors = device_refusal(e)?;
            // Shown above the scan box: the code field is not what was refused.
            if let Some(messages) = errors.0.remove("code") {
                for m in messages {
                    errors.add(crate::forms::NON_FIELD, m);
                }
            }
            ScanState {
                errors,
                ..ScanState::default()
            }
        }
    };
    shipment_page(&state, &session, &id, scan).await
}
