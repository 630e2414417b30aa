//! Mock data for trying rehome out: locations, donors, shipments and devices (with
//! references), made with `fake` from a seed. On an empty store the same seed gives the same
//! data; run again, it never fails on unique keys (taken values are drawn again).

use chrono::{Days, NaiveDate};
use fake::Fake;
use fake::faker::address::en::{CityName, CountryName, StreetName, ZipCode};
use fake::faker::company::en::CompanyName;
use fake::faker::internet::en::SafeEmail;
use fake::faker::lorem::en::Sentence;
use fake::faker::name::en::Name;
use rand::rngs::ChaCha20Rng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::inventory::{blank_device, blank_donor, blank_location, blank_shipment};
use super::tx::Tx;
use super::{Caller, Rehome};
use crate::error::{Error, Result};
use crate::ids::{DeviceId, DonorId, IdKind, LocationId, ShipmentId};
use crate::model::{Device, DeviceStatus, Donor, Location, Money, Shipment};
use crate::store::{Change, Record};

/// How much mock data to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockRequest {
    /// Locations to create.
    pub locations: u32,
    /// Donors to create.
    pub donors: u32,
    /// Devices to create.
    pub devices: u32,
    /// Shipments to create.
    pub shipments: u32,
    /// The seed; random when `None`.
    pub seed: Option<u64>,
}

impl Default for MockRequest {
    /// The original's defaults: 5 locations, 10 donors, 50 devices, 20 shipments.
    fn default() -> Self {
        MockRequest {
            locations: 5,
            donors: 10,
            devices: 50,
            shipments: 20,
            seed: None,
        }
    }
}

impl MockRequest {
    /// Parses the contract's body `{"num_locations", "num_donors", "num_devices",
    /// "num_shipments", "seed"}` (all optional; `num_warehouses` is the original's name for
    /// `num_locations`). Missing counts take the defaults; unknown fields are refused.
    pub fn from_json(body: &serde_json::Value) -> Result<MockRequest> {
        let mut request = MockRequest::default();
        let mut errors = crate::error::FieldErrors::new();
        let Some(obj) = body.as_object() else {
            return Err(Error::invalid(
                "non_field_errors",
                "Invalid data. Expected a dictionary (JSON object).",
            ));
        };
        let given = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
        if given("num_locations") && given("num_warehouses") {
            // Two names for one count: which one was meant cannot be told.
            errors.add(
                "num_warehouses",
                "Give num_locations or num_warehouses, not both.",
            );
        }
        for (key, value) in obj {
            if value.is_null() {
                continue;
            }
            let slot = match key.as_str() {
                "num_locations" | "num_warehouses" => &mut request.locations,
                "num_donors" => &mut request.donors,
                "num_devices" => &mut request.devices,
                "num_shipments" => &mut request.shipments,
                "seed" => {
                    match super::input::whole_u64(value) {
                        Some(s) => request.seed = Some(s),
                        None => errors.add("seed", "Enter a whole number from 0."),
                    }
                    continue;
                }
                _ => {
                    errors.add(key.clone(), "Unknown field.");
                    continue;
                }
            };
            match super::input::whole_u64(value).and_then(|n| u32::try_from(n).ok()) {
                Some(n) => *slot = n,
                None => errors.add(
                    key.clone(),
                    format!("Ensure this value is a whole number from 0 to {MOCK_MAX}."),
                ),
            }
        }
        errors.into_result()?;
        Ok(request)
    }
}

/// How much was made.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockCounts {
    /// Locations created.
    pub locations: u32,
    /// Donors created.
    pub donors: u32,
    /// Devices created.
    pub devices: u32,
    /// Shipments created.
    pub shipments: u32,
}

/// The most objects of one kind per call.
pub const MOCK_MAX: u32 = 1_000_000;
/// Objects written per atomic commit.
const CHUNK: usize = 500;
/// Draws per unique value before giving up.
const TRIES: usize = 50;

const TYPES: [(&str, &[&str], &[&str]); 4] = [
    (
        "Laptop",
        &["Dell", "Lenovo", "HP", "Apple", "Acer", "Asus"],
        &["Windows 10", "Windows 11", "Ubuntu 22.04", "macOS"],
    ),
    (
        "Smartphone",
        &["Samsung", "Apple", "Google", "Motorola", "Nokia"],
        &["Android", "iOS"],
    ),
    (
        "Tablet",
        &["Apple", "Samsung", "Lenovo", "Amazon"],
        &["iPadOS", "Android", "Fire OS"],
    ),
    (
        "Desktop",
        &["Dell", "HP", "Lenovo", "Apple"],
        &["Windows 10", "Windows 11", "Ubuntu 22.04", "macOS"],
    ),
];
const CONDITIONS: [&str; 4] = ["Excellent", "Good", "Fair", "Poor"];
const LOCATION_TYPES: [&str; 4] = ["Warehouse", "Drop-off point", "Partner", "School"];

fn pick<'a, T: ?Sized>(rng: &mut ChaCha20Rng, items: &'a [&'a T]) -> &'a T {
    items[rng.random_range(0..items.len())]
}

fn date(rng: &mut ChaCha20Rng, from: NaiveDate, span_days: u64) -> NaiveDate {
    from.checked_add_days(Days::new(rng.random_range(0..span_days)))
        .unwrap_or(from)
}

fn base_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 1, 1).unwrap_or_default()
}

fn alnum(rng: &mut ChaCha20Rng, n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    (0..n)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

impl Rehome {
    /// [`Rehome::generate_mock_data`] for the contract's JSON body (see
    /// [`MockRequest::from_json`]); the superuser check comes before the body is read.
    pub async fn generate_mock_data_json(
        &self,
        caller: &Caller,
        body: &serde_json::Value,
    ) -> Result<MockCounts> {
        caller.require_superuser()?;
        let request = MockRequest::from_json(body)?;
        self.generate_mock_data(caller, request).await
    }

    /// Makes mock data (superuser only), in atomic chunks of 500 objects, each chunk with an
    /// audit entry `inventory.mock_data` giving its counts and the seed.
    pub async fn generate_mock_data(
        &self,
        caller: &Caller,
        request: MockRequest,
    ) -> Result<MockCounts> {
        caller.require_superuser()?;
        for (name, n) in [
            ("num_locations", request.locations),
            ("num_donors", request.donors),
            ("num_devices", request.devices),
            ("num_shipments", request.shipments),
        ] {
            if n > MOCK_MAX {
                return Err(Error::invalid(
                    name,
                    format!("Ensure this value is at most {MOCK_MAX}."),
                ));
            }
        }
        let seed = request
            .seed
            .unwrap_or_else(|| u64::from_le_bytes(self.random_bytes()));
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut counts = MockCounts::default();
        let mut locations = Vec::new();
        let mut donors = Vec::new();
        let mut shipments = Vec::new();

        let mut pending: Vec<Record> = Vec::new();
        for _ in 0..request.locations {
            let r = self.mock_location(&mut rng, &pending).await?;
            locations.push(r.location_id);
            pending.push(Record::Location(r));
            counts.locations += 1;
            self.flush_chunk(caller, &mut pending, seed, false).await?;
        }
        for _ in 0..request.donors {
            let r = self.mock_donor(&mut rng, &pending).await?;
            donors.push(r.donor_id);
            pending.push(Record::Donor(r));
            counts.donors += 1;
            self.flush_chunk(caller, &mut pending, seed, false).await?;
        }
        for _ in 0..request.shipments {
            let r = self.mock_shipment(&mut rng, &locations).await?;
            shipments.push(r.shipping_id);
            pending.push(Record::Shipment(r));
            counts.shipments += 1;
            self.flush_chunk(caller, &mut pending, seed, false).await?;
        }
        for _ in 0..request.devices {
            let r = self
                .mock_device(&mut rng, caller, &pending, &locations, &donors, &shipments)
                .await?;
            pending.push(Record::Device(r));
            counts.devices += 1;
            self.flush_chunk(caller, &mut pending, seed, false).await?;
        }
        self.flush_chunk(caller, &mut pending, seed, true).await?;
        Ok(counts)
    }

    async fn flush_chunk(
        &self,
        caller: &Caller,
        pending: &mut Vec<Record>,
        seed: u64,
        last: bool,
    ) -> Result<()> {
        if pending.is_empty() || (!last && pending.len() < CHUNK) {
            return Ok(());
        }
        let mut tx = Tx::new(&**self.store());
        let mut counts = MockCounts::default();
        for r in pending.drain(..) {
            match &r {
                Record::Location(_) => counts.locations += 1,
                Record::Donor(_) => counts.donors += 1,
                Record::Shipment(_) => counts.shipments += 1,
                Record::Device(_) => counts.devices += 1,
                _ => {}
            }
            tx.push(Change::Insert(r));
        }
        tx.audit(
            caller,
            self.now(),
            "inventory.mock_data",
            "inventory",
            String::new(),
            json!({"seed": seed, "created": counts}),
        )
        .await?;
        tx.commit().await.map_err(Error::from)
    }

    /// Whether `key` is free in the store and among the not yet committed records.
    async fn free(&self, key: &crate::store::UniqueKey, pending: &[Record]) -> Result<bool> {
        if pending.iter().any(|r| r.unique_keys().contains(key)) {
            return Ok(false);
        }
        Ok(self.store().get_by_unique(key).await?.is_none())
    }

    async fn unique_value(
        &self,
        rng: &mut ChaCha20Rng,
        pending: &[Record],
        field: crate::store::UniqueField,
        mut draw: impl FnMut(&mut ChaCha20Rng, usize) -> String,
    ) -> Result<String> {
        for attempt in 0..TRIES {
            let v = draw(rng, attempt);
            if self.free(&field.key(&v), pending).await? {
                return Ok(v);
            }
        }
        Err(Error::conflict(format!(
            "Could not find a free {field:?} for mock data after {TRIES} tries."
        )))
    }

    async fn mock_location(&self, rng: &mut ChaCha20Rng, pending: &[Record]) -> Result<Location> {
        let now = self.now();
        let address = self
            .unique_value(
                rng,
                pending,
                crate::store::UniqueField::LocationAddress,
                |rng, attempt| {
                    let street: String = StreetName().fake_with_rng(rng);
                    let n = rng.random_range(1..2000);
                    if attempt < 3 {
                        format!("{n} {street}")
                    } else {
                        format!("{n} {street}, unit {}", alnum(rng, 4))
                    }
                },
            )
            .await?;
        let phone = self
            .unique_value(
                rng,
                pending,
                crate::store::UniqueField::LocationPhone,
                |rng, _| {
                    format!(
                        "+1-{}-{}-{}",
                        rng.random_range(200..999),
                        rng.random_range(200..999),
                        rng.random_range(1000..9999)
                    )
                },
            )
            .await?;
        let company: String = CompanyName().fake_with_rng(rng);
        let kind = pick(rng, &LOCATION_TYPES);
        let id = LocationId(self.store().next_id(IdKind::Location).await?);
        let mut l = blank_location(id, now);
        l.name = format!("{company} {kind}");
        l.location_type = kind.to_owned();
        l.address = address;
        l.country = CountryName().fake_with_rng(rng);
        l.city = CityName().fake_with_rng(rng);
        l.postal_code = ZipCode().fake_with_rng(rng);
        l.phone = phone;
        Ok(l)
    }

    async fn mock_donor(&self, rng: &mut ChaCha20Rng, pending: &[Record]) -> Result<Donor> {
        let now = self.now();
        let email = self
            .unique_value(
                rng,
                pending,
                crate::store::UniqueField::DonorEmail,
                |rng, attempt| {
                    let e: String = SafeEmail().fake_with_rng(rng);
                    if attempt < 3 {
                        e
                    } else {
                        format!("{}.{e}", alnum(rng, 6).to_lowercase())
                    }
                },
            )
            .await?;
        let name: String = Name().fake_with_rng(rng);
        let street: String = StreetName().fake_with_rng(rng);
        let city: String = CityName().fake_with_rng(rng);
        let mut d = blank_donor(DonorId(self.store().next_id(IdKind::Donor).await?), now);
        d.contact_info = format!("Ask for {name}");
        d.name = name;
        d.address = format!("{} {street}, {city}", rng.random_range(1..2000));
        d.email = email;
        d.phone = format!(
            "+1-{}-{}-{}",
            rng.random_range(200..999),
            rng.random_range(200..999),
            rng.random_range(1000..9999)
        );
        Ok(d)
    }

    async fn mock_shipment(
        &self,
        rng: &mut ChaCha20Rng,
        locations: &[LocationId],
    ) -> Result<Shipment> {
        let now = self.now();
        let shipped = date(rng, base_date(), 5 * 365);
        let arrived = rng.random_bool(0.6);
        let id = ShipmentId(self.store().next_id(IdKind::Shipment).await?);
        let mut s = blank_shipment(id, now);
        s.destination =
            (!locations.is_empty()).then(|| locations[rng.random_range(0..locations.len())]);
        s.arrived = arrived;
        s.date_shipped = shipped;
        s.date_delivered = arrived.then(|| date(rng, shipped, 14));
        s.tracking_identifier = format!("TRK-{}", alnum(rng, 10));
        Ok(s)
    }

    async fn mock_device(
        &self,
        rng: &mut ChaCha20Rng,
        caller: &Caller,
        pending: &[Record],
        locations: &[LocationId],
        donors: &[DonorId],
        shipments: &[ShipmentId],
    ) -> Result<Device> {
        let now = self.now();
        let mut id = [0u8; 16];
        rng.fill(&mut id);
        let (kind, makes, systems) = TYPES[rng.random_range(0..TYPES.len())];
        let make = pick(rng, makes);
        let serial_number = self
            .unique_value(
                rng,
                pending,
                crate::store::UniqueField::DeviceSerialNumber,
                |rng, _| format!("SN-{}", alnum(rng, 10)),
            )
            .await?;
        let mac_id = self
            .unique_value(
                rng,
                pending,
                crate::store::UniqueField::DeviceMacId,
                |rng, _| {
                    let b: [u8; 6] = rng.random();
                    b.iter()
                        .map(|x| format!("{x:02x}"))
                        .collect::<Vec<_>>()
                        .join(":")
                },
            )
            .await?;
        let received = date(rng, base_date(), 5 * 365);
        let status = DeviceStatus::ALL[rng.random_range(0..DeviceStatus::ALL.len())];
        let in_shipment = matches!(status, DeviceStatus::Shipped | DeviceStatus::Delivered)
            && !shipments.is_empty();
        let any = |rng: &mut ChaCha20Rng, ids: &[LocationId]| {
            (!ids.is_empty()).then(|| ids[rng.random_range(0..ids.len())])
        };
        let mut d = blank_device(DeviceId::from_random_bytes(id), caller.user_id(), now);
        d.device_type = kind.to_owned();
        d.make = make.to_owned();
        d.model = format!("{make} {}{}", alnum(rng, 1), rng.random_range(100..999));
        d.serial_number = serial_number;
        d.mac_id = mac_id;
        d.year_of_manufacture = Some(rng.random_range(2012..=2025));
        d.date_received = Some(received);
        d.received_by = caller.user_id();
        d.physical_condition = pick(rng, &CONDITIONS).to_owned();
        d.specifications = format!(
            "{} GB RAM, {} GB storage",
            [2, 4, 8, 16][rng.random_range(0..4)],
            [32, 64, 128, 256, 512][rng.random_range(0..5)]
        );
        d.operating_system = pick(rng, systems).to_owned();
        d.donor = (!donors.is_empty()).then(|| donors[rng.random_range(0..donors.len())]);
        d.date_of_donation = Some(date(
            rng,
            received.checked_sub_days(Days::new(30)).unwrap_or(received),
            30,
        ));
        d.value = Money::from_cents(rng.random_range(2_000..150_000));
        d.start_location = any(rng, locations);
        d.end_location = any(rng, locations);
        d.notes = Sentence(3..10).fake_with_rng(rng);
        if in_shipment {
            d.shipping_infos = vec![shipments[rng.random_range(0..shipments.len())]];
        }
        d.status = status;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_are_whole_numbers_under_one_name() {
        let r =
            MockRequest::from_json(&json!({"num_devices": 4.0, "seed": 7.0, "num_warehouses": 2}))
                .expect("valid");
        assert_eq!((r.devices, r.locations, r.seed), (4, 2, Some(7)));
        let both = MockRequest::from_json(&json!({"num_locations": 1, "num_warehouses": 2}));
        match both {
            Err(Error::Validation(e)) => assert_eq!(
                e.get("num_warehouses"),
                ["Give num_locations or num_warehouses, not both."]
            ),
            other => panic!("{other:?}"),
        }
        assert!(
            MockRequest::from_json(&json!({"num_locations": 1, "num_warehouses": null})).is_ok()
        );
        assert!(MockRequest::from_json(&json!({"num_devices": 1.5})).is_err());
    }
}
