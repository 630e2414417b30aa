//! The donor report (what became of each device a donor gave, as a PDF and as CSV) and a
//! shipment's packing list, as [`Document`]s. Pure, like the certificate: a service gathers
//! each device's trail and renders it.

use chrono::{DateTime, Utc};

use super::{Block, Column, Document, Table};
use crate::evidence::{Medium, Outcome, Sanitization, Verification};
use crate::model::{Device, DeviceStatus, Donor, Location, Shipment};

/// One device and what is known of its way: its evidence and its shipments.
#[derive(Debug, Clone, Copy)]
pub struct DeviceTrail<'a> {
    /// The device.
    pub device: &'a Device,
    /// Its storage media.
    pub media: &'a [Medium],
    /// The records that decide each medium now.
    pub records: &'a [Sanitization],
    /// The verification that counts, if any.
    pub verification: Option<&'a Verification>,
    /// The shipments it travelled with, each with its destination when known, by date.
    pub shipments: &'a [(&'a Shipment, Option<&'a Location>)],
}

/// The device's sanitization in a few words, as the reports show it.
pub fn sanitization_summary(t: &DeviceTrail<'_>) -> String {
    let d = t.device;
    if d.no_media {
        return "No storage media".to_owned();
    }
    if t.media.is_empty() {
        return if d.no_evidence_recorded {
            "No evidence recorded (before rehome kept it)".to_owned()
        } else {
            "Not recorded yet".to_owned()
        };
    }
    let deciding = |m: &Medium| t.records.iter().find(|r| r.medium == m.id);
    let done = t.media.iter().filter(|m| deciding(m).is_some()).count();
    if done < t.media.len() {
        return format!("Incomplete: {done} of {} media sanitized", t.media.len());
    }
    let failed: Vec<&str> = t
        .media
        .iter()
        .filter(|m| deciding(m).is_some_and(|r| r.outcome == Outcome::Failed))
        .map(|m| m.serial.as_str())
        .collect();
    if !failed.is_empty() {
        return format!("Failed on {}", failed.join(", "));
    }
    let mut methods: Vec<String> = t
        .media
        .iter()
        .filter_map(deciding)
        .map(|r| {
            format!(
                "{} ({})",
                r.method_type.label(),
                r.method_used.label().to_lowercase()
            )
        })
        .collect();
    methods.dedup();
    let verified = match t.verification {
        Some(v) if v.outcome == Outcome::Passed => ", verified",
        Some(_) => ", verification failed",
        None => "",
    };
    format!("{}{verified}", methods.join("; "))
}

/// What became of the device: where it is in its life, and where it went.
pub fn outcome(t: &DeviceTrail<'_>) -> String {
    let d = t.device;
    if d.status == DeviceStatus::Recycled {
        return match &d.recycling {
            Some(r) => format!("Recycled by {} on {}", r.processor, r.date),
            None => "Recycled".to_owned(),
        };
    }
    match t.shipments.last() {
        Some((s, to)) => {
            let place = to.map_or_else(|| "a recipient".to_owned(), |l| l.name.clone());
            let delivered = if s.arrived { ", delivered" } else { "" };
            format!("Shipped to {place} on {}{delivered}", s.date_shipped)
        }
        None => match d.status {
            DeviceStatus::Received => "Received".to_owned(),
            DeviceStatus::Wiped => "Sanitized, awaiting refurbishment".to_owned(),
            DeviceStatus::Refurbished => "Refurbished".to_owned(),
            DeviceStatus::Ready => "Ready to ship".to_owned(),
            other => other.as_str().to_owned(),
        },
    }
}

fn date_or_blank(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// The donor report: each device the donor gave, when it came, how it was sanitized, and what
/// became of it.
pub fn donor_report_document(
    organisation: &str,
    donor: &Donor,
    devices: &[DeviceTrail<'_>],
    created: DateTime<Utc>,
) -> Document {
    let rows = devices
        .iter()
        .map(|t| {
            vec![
                format!("{} {}", t.device.make, t.device.model),
                t.device.serial_number.clone(),
                date_or_blank(t.device.date_received),
                sanitization_summary(t),
                outcome(t),
            ]
        })
        .collect();
    Document {
        organisation: organisation.to_owned(),
        title: "What became of your devices".to_owned(),
        subtitle: donor.name.clone(),
        meta: vec![
            ("Donor".to_owned(), donor.name.clone()),
            ("Devices".to_owned(), devices.len().to_string()),
            ("As of".to_owned(), created.format("%Y-%m-%d").to_string()),
        ],
        blocks: vec![
            Block::Paragraph(format!(
                "Thank you for your donation. This report lists every device {} received from \
                 you, how the data on it was destroyed, and where it went.",
                organisation
            )),
            Block::Table(Table {
                columns: vec![
                    Column::new("Device", 3),
                    Column::new("Serial number", 3),
                    Column::new("Received", 3),
                    Column::new("Sanitization", 4),
                    Column::new("What became of it", 4),
                ],
                rows,
            }),
        ],
        footer: format!("{organisation} · donor report for {}", donor.name),
        created: Some(created),
    }
}

/// The donor report as CSV (RFC 4180, a header row), for spreadsheets.
pub fn donor_report_csv(devices: &[DeviceTrail<'_>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "device_id",
        "type",
        "make",
        "model",
        "serial_number",
        "date_received",
        "status",
        "sanitization",
        "outcome",
    ];
    // Writing to memory cannot fail; a failed record would only be left out.
    let _ = w.write_record(header);
    for t in devices {
        let d = t.device;
        let _ = w.write_record([
            d.device_id.to_string(),
            d.device_type.clone(),
            d.make.clone(),
            d.model.clone(),
            d.serial_number.clone(),
            date_or_blank(d.date_received),
            d.status.as_str().to_owned(),
            sanitization_summary(t),
            outcome(t),
        ]);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// A shipment's packing list: its devices with their serials and sanitization.
pub fn packing_list_document(
    organisation: &str,
    shipment: &Shipment,
    destination: Option<&Location>,
    devices: &[DeviceTrail<'_>],
    created: DateTime<Utc>,
) -> Document {
    let mut meta = vec![
        ("Shipment".to_owned(), shipment.shipping_id.to_string()),
        ("Shipped".to_owned(), shipment.date_shipped.to_string()),
    ];
    if let Some(l) = destination {
        meta.push((
            "To".to_owned(),
            [
                l.name.as_str(),
                l.address.as_str(),
                l.city.as_str(),
                l.country.as_str(),
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        ));
    }
    if !shipment.tracking_identifier.is_empty() {
        meta.push(("Tracking".to_owned(), shipment.tracking_identifier.clone()));
    }
    meta.push(("Devices".to_owned(), devices.len().to_string()));
    let rows = devices
        .iter()
        .enumerate()
        .map(|(i, t)| {
            vec![
                (i + 1).to_string(),
                t.device.device_type.clone(),
                format!("{} {}", t.device.make, t.device.model),
                t.device.serial_number.clone(),
                sanitization_summary(t),
            ]
        })
        .collect();
    Document {
        organisation: organisation.to_owned(),
        title: "Packing list".to_owned(),
        subtitle: destination.map(|l| l.name.clone()).unwrap_or_default(),
        meta,
        blocks: vec![
            Block::Table(Table {
                columns: vec![
                    Column::new("#", 1).aligned(super::Align::Right),
                    Column::new("Type", 2),
                    Column::new("Make and model", 4),
                    Column::new("Serial number", 3),
                    Column::new("Sanitization", 4),
                ],
                rows,
            }),
            Block::Paragraph(
                "Received in good order: ________________________   Date: __________".to_owned(),
            ),
        ],
        footer: format!(
            "{organisation} · packing list, shipment {}",
            shipment.shipping_id
        ),
        created: Some(created),
    }
}
