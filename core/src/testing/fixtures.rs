//! Records for tests: minimal ones built from an id and their unique keys, fully populated ones,
//! and a small consistent "world" (role, users, locations, donor, shipments) for devices to
//! refer to; and the authentication records (credentials, sessions, MFA challenges, throttles)
//! with digest keys. Backends may use them in their own tests.

use chrono::{DateTime, NaiveDate};
use uuid::Uuid;

use crate::evidence::{
    LockCheck, LockKind, LockState, MediaDestination, Medium, MediumKind, MethodType, MethodUsed,
    Outcome, Recycling, Report, ReportFormat, Sample, Sanitization, Verification,
    VerificationMethod,
};
use crate::ids::{
    AuditId, DeviceId, Digest, DonorId, LocationId, MediumId, RoleId, SanitizationId, ShipmentId,
    UserId, VerificationId,
};
use crate::model::{
    AuditEvent, Credentials, Device, DeviceStatus, Donor, Location, MfaChallenge, Money, Role,
    Session, Shipment, Throttle, Timestamp, User,
};
use crate::permission::{Permission, Permissions};
use crate::store::{Change, ChangeSet, Record, RecordKey};

/// A timestamp `micros` microseconds after the Unix epoch (negative: before it).
pub fn ts(micros: i64) -> Timestamp {
    DateTime::from_timestamp_micros(micros).expect("fixture timestamp in range")
}

/// 2024-05-06T07:08:09.123456Z plus `micros`: a typical "now" with a fractional second.
pub fn now_plus(micros: i64) -> Timestamp {
    ts(1_714_979_289_123_456 + micros)
}

/// A calendar date.
pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("fixture date valid")
}

/// The device id whose UUID is the integer `n`.
pub fn device_id(n: u128) -> DeviceId {
    DeviceId(Uuid::from_u128(n))
}

/// A change set of the given changes, in order.
pub fn changes(changes: Vec<Change>) -> ChangeSet {
    ChangeSet { changes }
}

/// An insert.
pub fn insert(record: Record) -> Change {
    Change::Insert(record)
}

/// An update of `record` (which carries its new version) from `expected_version`.
pub fn update(record: Record, expected_version: u64) -> Change {
    Change::Update {
        record,
        expected_version,
    }
}

/// A delete of `key` at `expected_version`.
pub fn delete(key: RecordKey, expected_version: u64) -> Change {
    Change::Delete {
        key,
        expected_version,
    }
}

/// A change set inserting `records` in order.
pub fn inserts(records: Vec<Record>) -> ChangeSet {
    changes(records.into_iter().map(Change::Insert).collect())
}

/// A device with only its id and serial number set (every optional field empty).
pub fn device(n: u128, serial: &str) -> Device {
    Device {
        device_id: device_id(n),
        device_type: "Laptop".to_owned(),
        make: "Make".to_owned(),
        model: "Model".to_owned(),
        serial_number: serial.to_owned(),
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
        sample: Sample::Undecided,
        no_evidence_recorded: false,
        recycling: None,
        created_at: now_plus(0),
        updated_at: now_plus(0),
        version: 1,
    }
}

/// A location with only its id and address set.
pub fn location(id: i64, address: &str) -> Location {
    Location {
        location_id: LocationId(id),
        name: format!("Location {id}"),
        location_type: String::new(),
        address: address.to_owned(),
        country: String::new(),
        city: String::new(),
        postal_code: String::new(),
        phone: String::new(),
        created_at: now_plus(0),
        updated_at: now_plus(0),
        version: 1,
    }
}

/// A donor with only its id and email set.
pub fn donor(id: i64, email: &str) -> Donor {
    Donor {
        donor_id: DonorId(id),
        name: format!("Donor {id}"),
        contact_info: String::new(),
        address: String::new(),
        email: email.to_owned(),
        phone: String::new(),
        created_at: now_plus(0),
        updated_at: now_plus(0),
        version: 1,
    }
}

/// A shipment with only its id set (shipped 2024-05-01, no destination).
pub fn shipment(id: i64) -> Shipment {
    Shipment {
        shipping_id: ShipmentId(id),
        destination: None,
        arrived: false,
        date_shipped: date(2024, 5, 1),
        date_delivered: None,
        tracking_identifier: String::new(),
        created_at: now_plus(0),
        updated_at: now_plus(0),
        version: 1,
    }
}

/// An active user with no role and no permissions.
pub fn user(id: i64, username: &str, email: &str) -> User {
    User {
        username: username.to_owned(),
        email: email.to_owned(),
        ..crate::services::blank_user(UserId(id), now_plus(0))
    }
}

/// A role with no permissions.
pub fn role(id: i64, name: &str) -> Role {
    Role {
        id: RoleId(id),
        name: name.to_owned(),
        description: String::new(),
        permissions: Permissions::empty(),
        created_at: now_plus(0),
        updated_at: now_plus(0),
        version: 1,
    }
}

/// An audit event of `action` with no actor.
pub fn audit(id: i64, action: &str) -> AuditEvent {
    AuditEvent {
        id: AuditId(id),
        timestamp: now_plus(id),
        actor: None,
        actor_username: None,
        action: action.to_owned(),
        object_type: "device".to_owned(),
        object_id: String::new(),
        ip: None,
        changes: serde_json::Value::Null,
    }
}

/// The records of the world, in dependency order: role 1 `"Volunteer"`, users 1 (holding it)
/// and 2, locations 1 and 2, donor 1, shipments 1 (to location 2) and 2.
pub fn world() -> Vec<Record> {
    let mut volunteer = role(1, "Volunteer");
    volunteer.permissions = [Permission::ReadDevices, Permission::ScanDevices]
        .into_iter()
        .collect();
    let mut u1 = user(1, "world-one", "one@world.example");
    u1.role = Some("Volunteer".to_owned());
    let mut s1 = shipment(1);
    s1.destination = Some(LocationId(2));
    vec![
        Record::Role(volunteer),
        Record::User(u1),
        Record::User(user(2, "world-two", "two@world.example")),
        Record::Location(location(1, "1 World Street")),
        Record::Location(location(2, "2 World Street")),
        Record::Donor(donor(1, "donor@world.example")),
        Record::Shipment(s1),
        Record::Shipment(shipment(2)),
    ]
}

/// A device with every field set, referring to the [`world`].
pub fn full_device(n: u128, serial: &str) -> Device {
    Device {
        device_id: device_id(n),
        device_type: "Laptop".to_owned(),
        make: "Lenovo".to_owned(),
        model: "ThinkPad T480 – Ünïcödé 😀".to_owned(),
        serial_number: serial.to_owned(),
        mac_id: format!("aa:bb:cc:dd:ee:{:02x}", n % 256),
        imei: String::new(),
        year_of_manufacture: Some(2019),
        date_received: Some(date(2024, 1, 31)),
        received_by: Some(UserId(1)),
        created_by: Some(UserId(2)),
        physical_condition: "Good".to_owned(),
        specifications: "16 GB RAM\n\"quoted\" 100% _x_ \\ tab\there".to_owned(),
        operating_system: "Windows 11".to_owned(),
        donor: Some(DonorId(1)),
        date_of_donation: Some(date(1999, 12, 31)),
        value: Some(Money::from_cents(41_669).expect("fixture money in range")),
        start_location: Some(LocationId(1)),
        end_location: Some(LocationId(2)),
        notes: "Straße, ΣΊΣΥΦΟΣ, İstanbul".to_owned(),
        shipping_infos: vec![ShipmentId(1), ShipmentId(2)],
        status: DeviceStatus::Refurbished,
        no_media: false,
        locks: vec![LockCheck {
            kind: LockKind::GoogleFrp,
            state: LockState::Removed,
            checked_by: UserId(2),
            checked_at: now_plus(3),
        }],
        sample: Sample::NotPicked,
        no_evidence_recorded: false,
        recycling: Some(Recycling {
            location: Some(LocationId(2)),
            processor: "Recycler – Ünïcödé".to_owned(),
            date: date(2024, 2, 29),
        }),
        created_at: now_plus(1),
        updated_at: now_plus(2),
        version: 1,
    }
}

/// The largest `Credentials::totp_last_step` the suite pins: 2^53. The field counts 30-second
/// steps since the epoch (about 5.8e7 in 2025), so 2^53 (some 8.6e9 years of steps) is far more
/// than a real value needs, and every SQL dialect keeps it exactly, in a signed `BIGINT` and
/// even in a double. Larger values (up to `u64::MAX`) are not promised.
pub const TOTP_STEP_MAX: u64 = 1 << 53;

/// The digest whose 32 bytes are `first`, then zeros, then `last`: keys whose byte order is
/// easy to work out by hand.
pub fn digest(first: u8, last: u8) -> Digest {
    let mut bytes = [0u8; 32];
    bytes[0] = first;
    bytes[31] = last;
    Digest(bytes)
}

/// Credentials of `user` with nothing set (no password, no TOTP, no recovery codes).
pub fn credentials(user: i64) -> Credentials {
    Credentials {
        user: UserId(user),
        password_hash: None,
        totp_secret: None,
        totp_enabled: false,
        totp_last_step: None,
        recovery_codes: Vec::new(),
        updated_at: now_plus(0),
        version: 1,
    }
}

/// A session of `user`, made now, expiring in a day, without a client address.
pub fn session(digest: Digest, user: i64) -> Session {
    Session {
        digest,
        user: UserId(user),
        created_at: now_plus(0),
        expires_at: now_plus(86_400_000_000),
        last_used_at: now_plus(0),
        ip: None,
        version: 1,
    }
}

/// An MFA challenge of `user`, made now, expiring in five minutes, five attempts left.
pub fn mfa_challenge(digest: Digest, user: i64) -> MfaChallenge {
    MfaChallenge {
        digest,
        user: UserId(user),
        created_at: now_plus(0),
        expires_at: now_plus(300_000_000),
        attempts_left: 5,
        ip: None,
        version: 1,
    }
}

/// A throttle with no failures and no lock.
pub fn throttle(digest: Digest) -> Throttle {
    Throttle {
        digest,
        failures: Vec::new(),
        locked_until: None,
        locks: 0,
        updated_at: now_plus(0),
        version: 1,
    }
}

/// A storage medium `id` of device `device` with serial `serial` (an SSD of 512 GB).
pub fn medium(id: i64, device: DeviceId, serial: &str) -> Medium {
    Medium {
        id: MediumId(id),
        device,
        kind: MediumKind::Ssd,
        make: "Samsung".to_owned(),
        model: "SSD 860 – Ünïcödé".to_owned(),
        serial: serial.to_owned(),
        capacity_bytes: Some(512_110_190_592),
        created_at: now_plus(0),
        updated_at: now_plus(0),
        version: 1,
    }
}

/// A passed clear (overwrite) of `medium` on `device` by user `by`, with every field set.
pub fn sanitization(id: i64, device: DeviceId, medium: i64, by: i64) -> Sanitization {
    Sanitization {
        id: SanitizationId(id),
        device,
        medium: MediumId(medium),
        method_type: MethodType::Clear,
        method_used: MethodUsed::Overwrite,
        method_details: "1 pass, PRNG stream, \"verified\" 100%".to_owned(),
        tool: "nwipe".to_owned(),
        tool_version: "0.38".to_owned(),
        verification_method: VerificationMethod::Full,
        outcome: Outcome::Passed,
        started_at: now_plus(1_000_000),
        finished_at: now_plus(3_600_000_000),
        performed_by: UserId(by),
        data_classification: "Confidential".to_owned(),
        post_classification: "Unclassified".to_owned(),
        destination: MediaDestination::ExternalReuse,
        notes: "Straße".to_owned(),
        supersedes: None,
        report: None,
        recorded_by: Some(UserId(by)),
        recorded_at: now_plus(3_600_000_001),
    }
}

/// A passed verification of `device`'s records `records` by user `by`.
pub fn verification(id: i64, device: DeviceId, by: i64, records: &[i64]) -> Verification {
    Verification {
        id: VerificationId(id),
        device,
        verified_by: UserId(by),
        verified_at: now_plus(7_200_000_000),
        outcome: Outcome::Passed,
        records: records.iter().copied().map(SanitizationId).collect(),
        notes: String::new(),
    }
}

/// A JSON tool report holding `bytes`, keyed by their SHA-256.
pub fn report(bytes: &[u8]) -> Report {
    Report {
        digest: Digest::of_bytes(bytes),
        format: ReportFormat::Json,
        file_name: "nwipe_report.json".to_owned(),
        bytes: bytes.to_vec(),
        uploaded_by: Some(UserId(1)),
        uploaded_at: now_plus(0),
    }
}
