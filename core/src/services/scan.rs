//! What a scanned code means (the console's scan box, a shipment's "add by scanning", and
//! `GET /inventory/devices/scan/`): one rule for every surface.
//!
//! A code is whatever a barcode scanner typed or a camera decoded:
//! - a device label's QR: the device's id, bare or as an address ending in
//!   `/devices/{id}` (labels under a public URL carry the address);
//! - a MAC address (`aa:bb:cc:dd:ee:ff`, `AA-BB-…`, `aabb.ccdd.eeff`);
//! - an IMEI (15 digits with a valid check digit, as on a phone's box or under `*#06#`);
//! - anything else is a serial number (Code 128 / Code 39 stickers on the device).
//!
//! The first that names a device wins, in that order: a code that is both a valid IMEI of one
//! device and the serial number of another opens the first.
//!
//! A label's id that names no device is [`Error::NotFound`] (a label for a deleted
//! device); a MAC address, IMEI or serial that no device has is [`Scanned::Unknown`], so
//! intake can start with it filled in.

use serde::Serialize;

use super::{Caller, Model, Rehome};
use crate::error::{Error, Result};
use crate::ids::DeviceId;
use crate::model::Device;
use crate::permission::Permission;
use crate::store::{Record, UniqueField};

/// The longest code accepted (a serial is at most [`super::input::SHORT_TEXT`] characters; a
/// label's address is longer, but not by this much).
pub const MAX_SCAN_LEN: usize = 512;

/// What a scanned code names.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scanned {
    /// A device (by its label, MAC address or serial number).
    Device {
        /// How the code matched.
        matched: ScanMatch,
        /// The device.
        device: Box<Device>,
    },
    /// No device has this serial number or MAC address: a device to take in.
    Unknown {
        /// The code as a serial number (trimmed), for the intake form.
        serial_number: Option<String>,
        /// The code as a MAC address (normalised), when it has that shape.
        mac_id: Option<String>,
        /// The code as an IMEI (its 15 digits), when it is a valid one.
        imei: Option<String>,
    },
}

/// How a scanned code matched a device.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanMatch {
    /// The device's label (its id, bare or in an address).
    Label,
    /// Its MAC address.
    MacId,
    /// Its IMEI.
    Imei,
    /// Its serial number.
    SerialNumber,
}

/// The device id a label's code carries: a bare id, or an address whose path ends in
/// `/devices/{id}` (with or without a trailing slash, query or fragment).
pub fn label_device_id(code: &str) -> Option<DeviceId> {
    if let Ok(id) = code.parse::<DeviceId>() {
        return Some(id);
    }
    if !(code.starts_with("https://") || code.starts_with("http://")) {
        return None;
    }
    let path = code.split(['?', '#']).next().unwrap_or_default();
    let mut parts = path.trim_end_matches('/').rsplit('/');
    let id = parts.next()?;
    (parts.next() == Some("devices"))
        .then(|| id.parse::<DeviceId>().ok())
        .flatten()
}

/// Whether `code` has a MAC address's shape; its normalised form when it does.
fn mac_shape(code: &str) -> Option<String> {
    let normal = super::input::normalize_mac(code);
    let is_mac = normal.len() == 17
        && normal
            .split(':')
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    is_mac.then_some(normal)
}

fn not_found() -> Error {
    Error::NotFound("No device has this label.".into())
}

impl Rehome {
    /// What `code` (scanned or typed) names: see the [module](self) for the rule. Needs
    /// `scanDevices` or `readDevices`; a blank or over-long code is a field error on `code`.
    pub async fn scan(&self, caller: &Caller, code: &str) -> Result<Scanned> {
        caller.require_any(&[Permission::ScanDevices, Permission::ReadDevices])?;
        let code = code.trim();
        if code.is_empty() {
            return Err(Error::invalid("code", "Scan or type a code."));
        }
        if code.chars().count() > MAX_SCAN_LEN {
            return Err(Error::invalid(
                "code",
                format!("A code is at most {MAX_SCAN_LEN} characters."),
            ));
        }
        let store = self.store();
        if let Some(id) = label_device_id(code) {
            let key = Model::Device
                .parse_key(&id.to_string())
                .ok_or_else(not_found)?;
            return match store.get(key).await? {
                Some(Record::Device(d)) => Ok(Scanned::Device {
                    matched: ScanMatch::Label,
                    device: Box::new(d),
                }),
                _ => Err(not_found()),
            };
        }
        let mac = mac_shape(code);
        let imei = crate::evidence::parse_imei(code).ok();
        let serial_ok = code.chars().count() <= super::input::SHORT_TEXT;
        // The unique keys the code may be, in the rule's order; the first held one wins.
        let keys = [
            (mac.as_deref(), UniqueField::DeviceMacId, ScanMatch::MacId),
            (imei.as_deref(), UniqueField::DeviceImei, ScanMatch::Imei),
            (
                serial_ok.then_some(code),
                UniqueField::DeviceSerialNumber,
                ScanMatch::SerialNumber,
            ),
        ];
        for (value, field, matched) in keys {
            if let Some(value) = value
                && let Some(Record::Device(d)) = store.get_by_unique(&field.key(value)).await?
            {
                return Ok(Scanned::Device {
                    matched,
                    device: Box::new(d),
                });
            }
        }
        Ok(Scanned::Unknown {
            serial_number: serial_ok.then(|| code.to_owned()),
            mac_id: mac,
            imei,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::memory::MemoryStore;

    const ID: &str = "5b0e3c1a-7f7d-4a43-9e58-0c5d2b9a8f11";

    #[test]
    fn label_codes() {
        let id: DeviceId = ID.parse().expect("an id");
        // (code, the id it carries)
        let table: &[(&str, Option<DeviceId>)] = &[
            (ID, Some(id)),
            (
                "https://rehome.example.org/devices/5b0e3c1a-7f7d-4a43-9e58-0c5d2b9a8f11",
                Some(id),
            ),
            (
                "http://10.0.0.5:8000/devices/5b0e3c1a-7f7d-4a43-9e58-0c5d2b9a8f11/",
                Some(id),
            ),
            (
                "https://x.org/base/devices/5b0e3c1a-7f7d-4a43-9e58-0c5d2b9a8f11?a=1#b",
                Some(id),
            ),
            (
                "https://x.org/shipments/5b0e3c1a-7f7d-4a43-9e58-0c5d2b9a8f11",
                None,
            ),
            ("https://x.org/devices/not-an-id", None),
            ("devices/5b0e3c1a-7f7d-4a43-9e58-0c5d2b9a8f11", None),
            ("SN-5b0e3c1a", None),
            ("", None),
        ];
        for (code, want) in table {
            assert_eq!(label_device_id(code), *want, "{code}");
        }
    }

    #[test]
    fn mac_shapes() {
        let table: &[(&str, Option<&str>)] = &[
            ("AA:BB:CC:00:11:22", Some("aa:bb:cc:00:11:22")),
            ("aa-bb-cc-00-11-22", Some("aa:bb:cc:00:11:22")),
            ("aabb.cc00.1122", Some("aa:bb:cc:00:11:22")),
            ("aabbcc001122", None),
            ("AA:BB:CC:00:11", None),
            ("GG:BB:CC:00:11:22", None),
        ];
        for (code, want) in table {
            assert_eq!(mac_shape(code).as_deref(), *want, "{code}");
        }
    }

    #[tokio::test]
    async fn what_a_code_names() -> Result<()> {
        let core = Rehome::new(Arc::new(MemoryStore::new()));
        let op = Caller::system();
        let Record::Device(d) = core
            .create(
                &op,
                Model::Device,
                &json!({"type": "Laptop", "make": "Dell", "model": "5490",
                        "serial_number": "CN-0X1234", "mac_id": "00:1a:2b:3c:4d:5e",
                        "imei": "35-209900-176148-1"}),
            )
            .await?
        else {
            panic!("a device")
        };
        let id = d.device_id.to_string();
        let matched = |s: &Scanned| match s {
            Scanned::Device { matched, device } => Some((*matched, device.device_id)),
            Scanned::Unknown { .. } => None,
        };
        let label = core.scan(&op, &id).await?;
        assert_eq!(matched(&label), Some((ScanMatch::Label, d.device_id)));
        let url = core
            .scan(&op, &format!(" https://r.example/devices/{id}\n"))
            .await?;
        assert_eq!(matched(&url), Some((ScanMatch::Label, d.device_id)));
        let mac = core.scan(&op, "00-1A-2B-3C-4D-5E").await?;
        assert_eq!(matched(&mac), Some((ScanMatch::MacId, d.device_id)));
        assert_eq!(d.imei, "352099001761481");
        let imei = core.scan(&op, "352099001761481").await?;
        assert_eq!(matched(&imei), Some((ScanMatch::Imei, d.device_id)));
        // A device whose serial is another's IMEI: the IMEI wins.
        core.create(
            &op,
            Model::Device,
            &json!({"type": "Phone", "make": "X", "model": "Y",
                    "serial_number": "352099001761481"}),
        )
        .await?;
        let both = core.scan(&op, "352099001761481").await?;
        assert_eq!(matched(&both), Some((ScanMatch::Imei, d.device_id)));
        let serial = core.scan(&op, "CN-0X1234").await?;
        assert_eq!(
            matched(&serial),
            Some((ScanMatch::SerialNumber, d.device_id))
        );
        assert_eq!(
            core.scan(&op, "  NEW-42 ").await?,
            Scanned::Unknown {
                serial_number: Some("NEW-42".into()),
                mac_id: None,
                imei: None,
            }
        );
        assert_eq!(
            core.scan(&op, "00:1a:2b:3c:4d:5f").await?,
            Scanned::Unknown {
                serial_number: Some("00:1a:2b:3c:4d:5f".into()),
                mac_id: Some("00:1a:2b:3c:4d:5f".into()),
                imei: None,
            }
        );
        // An unknown IMEI (Wikipedia's worked example), and 15 digits that are none.
        assert_eq!(
            core.scan(&op, "490154203237518").await?,
            Scanned::Unknown {
                serial_number: Some("490154203237518".into()),
                mac_id: None,
                imei: Some("490154203237518".into()),
            }
        );
        assert_eq!(
            core.scan(&op, "490154203237519").await?,
            Scanned::Unknown {
                serial_number: Some("490154203237519".into()),
                mac_id: None,
                imei: None,
            }
        );
        // A label for no device, a blank code, a caller who may not scan.
        let gone = "0b0e3c1a-7f7d-4a43-9e58-0c5d2b9a8f11";
        assert!(matches!(
            core.scan(&op, gone).await,
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            core.scan(&op, "   ").await,
            Err(Error::Validation(_))
        ));
        let long = "x".repeat(MAX_SCAN_LEN + 1);
        assert!(matches!(
            core.scan(&op, &long).await,
            Err(Error::Validation(_))
        ));
        let nobody = Caller::anonymous();
        assert!(core.scan(&nobody, "CN-0X1234").await.is_err());
        Ok(())
    }
}
