//! Record builders shared by the store tests.
#![allow(dead_code, missing_docs)]

use chrono::{DateTime, NaiveDate};
use rehome_core::model::Timestamp;
use rehome_core::model::{AuditEvent, Device, DeviceStatus, Donor, Location, Role, Shipment, User};
use rehome_core::permission::Permissions;
use rehome_core::{AuditId, DeviceId, DonorId, LocationId, RoleId, ShipmentId, UserId};
use uuid::Uuid;

pub fn ts(secs: i64) -> Timestamp {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("valid timestamp")
}

pub fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date") + chrono::Days::new(n.unsigned_abs())
}

pub fn device_id(n: u128) -> DeviceId {
    DeviceId(Uuid::from_u128(n))
}

pub fn device(n: u128, serial: &str) -> Device {
    Device {
        device_id: device_id(n),
        device_type: "Laptop".into(),
        make: "Dell".into(),
        model: "X".into(),
        serial_number: serial.into(),
        mac_id: String::new(),
        imei: String::new(),
        year_of_manufacture: None,
        date_received: None,
        received_by: None,
        created_by: None,
        physical_condition: String::new(),
        specifications: String::new(),
        operating_system: String::new(),
        donor: None,
        date_of_donation: None,
        value: None,
        start_location: None,
        end_location: None,
        notes: String::new(),
        shipping_infos: Vec::new(),
        status: DeviceStatus::Received,
        no_media: false,
        locks: Vec::new(),
        sample: Default::default(),
        no_evidence_recorded: false,
        recycling: None,
        created_at: ts(0),
        updated_at: ts(0),
        version: 1,
    }
}

pub fn location(id: i64, address: &str) -> Location {
    Location {
        location_id: LocationId(id),
        name: format!("Location {id}"),
        location_type: "Warehouse".into(),
        address: address.into(),
        country: "DE".into(),
        city: "Berlin".into(),
        postal_code: "10115".into(),
        phone: String::new(),
        created_at: ts(0),
        updated_at: ts(0),
        version: 1,
    }
}

pub fn donor(id: i64, email: &str) -> Donor {
    Donor {
        donor_id: DonorId(id),
        name: format!("Donor {id}"),
        contact_info: String::new(),
        address: String::new(),
        email: email.into(),
        phone: String::new(),
        created_at: ts(0),
        updated_at: ts(0),
        version: 1,
    }
}

pub fn shipment(id: i64) -> Shipment {
    Shipment {
        shipping_id: ShipmentId(id),
        destination: None,
        arrived: false,
        date_shipped: day(0),
        date_delivered: None,
        tracking_identifier: String::new(),
        created_at: ts(0),
        updated_at: ts(0),
        version: 1,
    }
}

pub fn user(id: i64, username: &str, email: &str) -> User {
    User {
        mfa_enabled: false,
        must_change_password: false,
        id: UserId(id),
        username: username.into(),
        email: email.into(),
        role: None,
        first_name: String::new(),
        last_name: String::new(),
        is_superuser: false,
        is_active: true,
        permissions: Permissions::default(),
        last_login: None,
        date_joined: ts(0),
        updated_at: ts(0),
        version: 1,
    }
}

pub fn role(id: i64, name: &str) -> Role {
    Role {
        id: RoleId(id),
        name: name.into(),
        description: String::new(),
        permissions: Permissions::default(),
        created_at: ts(0),
        updated_at: ts(0),
        version: 1,
    }
}

pub fn audit(id: i64) -> AuditEvent {
    AuditEvent {
        id: AuditId(id),
        timestamp: ts(id),
        actor: None,
        actor_username: None,
        action: "device.create".into(),
        object_type: "device".into(),
        object_id: String::new(),
        ip: None,
        changes: serde_json::Value::Null,
    }
}
