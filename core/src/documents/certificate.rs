//! The certificate of sanitization as a [`Document`]: what a donor keeps and an auditor reads,
//! for one device or for every device of one donor, with NIST SP 800-88 Rev. 1's fields for
//! each medium's deciding record, who performed and who verified it, the tool reports'
//! SHA-256, the activation-lock checks, and a QR code plus short code that open the public
//! verification page.
//!
//! Building the document is pure: the service that issues a certificate gathers the records,
//! makes the code ([`certificate_code`], from injected randomness) and stores the rendered
//! bytes with their SHA-256, so a second download is the same file.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Align, Block, Column, Document, Table};
use crate::evidence::{LockKind, Medium, Sample, Sanitization, Verification};
use crate::ids::UserId;
use crate::model::Device;

/// Crockford's base-32 alphabet: no I, L, O or U, so a code read aloud or typed is not
/// mistaken.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A certificate's short code: 80 random bits as 16 characters of Crockford's base 32, in four
/// groups (`7KQ2-M9XD-4HTR-WP3N`). 80 bits cannot be guessed by trying.
pub fn certificate_code(random: [u8; 10]) -> String {
    let mut bits: u128 = 0;
    for b in random {
        bits = (bits << 8) | u128::from(b);
    }
    let mut out = String::with_capacity(19);
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let shift = 75 - 5 * i;
        let index = ((bits >> shift) & 0x1F) as usize;
        out.push(char::from(ALPHABET[index]));
    }
    out
}

/// A typed or scanned code in its canonical form, or `None` when it cannot be one: case and
/// dashes or spaces do not matter, and `I`/`L` read as `1`, `O` as `0` (Crockford's rule).
pub fn normalise_code(text: &str) -> Option<String> {
    let mut chars = Vec::with_capacity(16);
    for c in text.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        };
        if !ALPHABET.contains(&u8::try_from(c).ok()?) {
            return None;
        }
        chars.push(c);
    }
    if chars.len() != 16 {
        return None;
    }
    let mut out = String::with_capacity(19);
    for (i, c) in chars.into_iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    Some(out)
}

/// One device on a certificate, with its evidence.
#[derive(Debug, Clone, Copy)]
pub struct CertifiedDevice<'a> {
    /// The device.
    pub device: &'a Device,
    /// Its storage media.
    pub media: &'a [Medium],
    /// The records that decide each medium (one per medium that has one).
    pub records: &'a [Sanitization],
    /// The verification that counts, if any.
    pub verification: Option<&'a Verification>,
}

/// What a certificate says besides its devices.
#[derive(Debug, Clone)]
pub struct CertificateInfo<'a> {
    /// The organisation issuing it (configuration).
    pub organisation: &'a str,
    /// Its short code ([`certificate_code`]).
    pub code: &'a str,
    /// The address of its public verification page (`{public_url}/verify/{code}`).
    pub verify_url: &'a str,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// Who issued it.
    pub issued_by: &'a str,
    /// The donor, for a certificate of all of a donor's devices.
    pub donor: Option<&'a str>,
    /// How people are named on it, by user id (a username, or a full name).
    pub people: &'a BTreeMap<UserId, String>,
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn who(people: &BTreeMap<UserId, String>, id: UserId) -> String {
    people
        .get(&id)
        .cloned()
        .unwrap_or_else(|| format!("user {id}"))
}

fn bytes(n: Option<u64>) -> String {
    match n {
        None => String::new(),
        Some(n) if n >= 1_000_000_000 => format!("{:.0} GB", n as f64 / 1e9),
        Some(n) if n >= 1_000_000 => format!("{:.0} MB", n as f64 / 1e6),
        Some(n) => format!("{n} bytes"),
    }
}

/// The certificate for `devices` (one, or all of a donor's).
pub fn certificate_document(
    info: &CertificateInfo<'_>,
    devices: &[CertifiedDevice<'_>],
) -> Document {
    let mut meta = vec![
        ("Certificate".to_owned(), info.code.to_owned()),
        ("Issued".to_owned(), when(info.issued_at)),
        ("Issued by".to_owned(), info.issued_by.to_owned()),
    ];
    if let Some(donor) = info.donor {
        meta.push(("Donor".to_owned(), donor.to_owned()));
    }
    meta.push(("Devices".to_owned(), devices.len().to_string()));
    let mut blocks = vec![Block::Paragraph(format!(
        "{} certifies that the data on the storage media below was sanitized as recorded, \
         following NIST SP 800-88 Rev. 1 (Guidelines for Media Sanitization). Each record names \
         its method, tool, verification and outcome, who performed it and, where a second \
         person verified the records, who did.",
        info.organisation
    ))];
    for d in devices {
        blocks.extend(device_blocks(info, d));
    }
    blocks.push(Block::Heading("Verify this certificate".to_owned()));
    blocks.push(Block::Qr {
        text: info.verify_url.to_owned(),
        caption: format!(
            "Scan the code, or open {} and enter {}, to check that this certificate is \
             genuine and current.",
            info.verify_url, info.code
        ),
    });
    Document {
        organisation: info.organisation.to_owned(),
        title: "Certificate of Sanitization".to_owned(),
        subtitle: "Media sanitization under NIST SP 800-88 Rev. 1".to_owned(),
        meta,
        blocks,
        footer: format!("Certificate {} · {}", info.code, info.organisation),
        created: Some(info.issued_at),
    }
}

fn device_blocks(info: &CertificateInfo<'_>, d: &CertifiedDevice<'_>) -> Vec<Block> {
    let dev = d.device;
    let mut facts = vec![
        ("Type".to_owned(), dev.device_type.clone()),
        (
            "Make and model".to_owned(),
            format!("{} {}", dev.make, dev.model),
        ),
        ("Serial number".to_owned(), dev.serial_number.clone()),
    ];
    if !dev.imei.is_empty() {
        facts.push(("IMEI".to_owned(), dev.imei.clone()));
    }
    facts.push(("Device id".to_owned(), dev.device_id.to_string()));
    if dev.no_media {
        facts.push((
            "Storage media".to_owned(),
            "None: the device holds no storage media.".to_owned(),
        ));
    }
    let locks: Vec<String> = LockKind::ALL
        .iter()
        .map(|k| match dev.locks.iter().find(|c| c.kind == *k) {
            Some(c) => format!(
                "{}: {}, confirmed by {} on {}",
                k.label(),
                c.state.label().to_lowercase(),
                who(info.people, c.checked_by),
                when(c.checked_at)
            ),
            None => format!("{}: not checked", k.label()),
        })
        .collect();
    facts.push(("Activation locks".to_owned(), locks.join("\n")));
    facts.push((
        "Verification".to_owned(),
        match d.verification {
            Some(v) => format!(
                "{} by {} on {}",
                v.outcome.label(),
                who(info.people, v.verified_by),
                when(v.verified_at)
            ),
            None => "Not verified by a second person".to_owned(),
        },
    ));
    facts.push((
        "Quality sampling".to_owned(),
        match dev.sample {
            Sample::Picked => "Picked for a second person's verification",
            Sample::NotPicked => "Not picked",
            Sample::Undecided => "Not drawn",
        }
        .to_owned(),
    ));
    let mut blocks = vec![
        Block::Heading(format!(
            "{} {}, serial number {}",
            dev.make, dev.model, dev.serial_number
        )),
        Block::KeyValues(facts),
    ];
    if !d.media.is_empty() {
        let rows = d
            .media
            .iter()
            .map(|m| {
                let record = d.records.iter().find(|r| r.medium == m.id);
                vec![
                    m.serial.clone(),
                    format!("{} {} {}", m.kind.label(), m.make, m.model)
                        .trim()
                        .to_owned(),
                    bytes(m.capacity_bytes),
                    record.map_or_else(
                        || "No record".to_owned(),
                        |r| format!("{} ({})", r.method_type.label(), r.method_used.label()),
                    ),
                    record.map_or_else(String::new, |r| r.outcome.label().to_owned()),
                ]
            })
            .collect();
        blocks.push(Block::Table(Table {
            columns: vec![
                Column::new("Medium serial", 3),
                Column::new("Kind, make, model", 4),
                Column::new("Capacity", 2).aligned(Align::Right),
                Column::new("Method", 3),
                Column::new("Outcome", 2),
            ],
            rows,
        }));
    }
    for r in d.records {
        let serial = d
            .media
            .iter()
            .find(|m| m.id == r.medium)
            .map_or_else(|| format!("medium {}", r.medium), |m| m.serial.clone());
        let mut kv = vec![
            ("Method type".to_owned(), r.method_type.label().to_owned()),
            ("Method used".to_owned(), r.method_used.label().to_owned()),
            ("Method details".to_owned(), r.method_details.clone()),
            (
                "Tool".to_owned(),
                format!("{} {}", r.tool, r.tool_version).trim().to_owned(),
            ),
            (
                "Verification method".to_owned(),
                r.verification_method.label().to_owned(),
            ),
            ("Outcome".to_owned(), r.outcome.label().to_owned()),
            (
                "Performed".to_owned(),
                format!(
                    "by {}, {} to {}",
                    who(info.people, r.performed_by),
                    when(r.started_at),
                    when(r.finished_at)
                ),
            ),
            (
                "Classification".to_owned(),
                format!(
                    "{} before, {} after",
                    or_none(&r.data_classification),
                    or_none(&r.post_classification)
                ),
            ),
            (
                "Media destination".to_owned(),
                r.destination.label().to_owned(),
            ),
        ];
        if let Some(report) = r.report {
            kv.push(("Tool report SHA-256".to_owned(), report.to_hex()));
        }
        if !r.notes.is_empty() {
            kv.push(("Notes".to_owned(), r.notes.clone()));
        }
        kv.retain(|(_, v)| !v.is_empty());
        blocks.push(Block::Heading(format!(
            "Record {} of medium {serial}",
            r.id
        )));
        blocks.push(Block::KeyValues(kv));
    }
    blocks
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "not given" } else { s }
}
