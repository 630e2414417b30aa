//! The domain objects as the store keeps them and the contract shows them.
//!
//! Every object carries `version` (1 on create, +1 per change) and `created_at` / `updated_at`.
//! Text fields that the contract calls optional are plain `String`s, empty when unset, as the
//! original's `CharField(blank=True)` was; unique keys on such fields apply only when not empty.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{AuditId, DeviceId, Digest, DonorId, LocationId, RoleId, ShipmentId, UserId};
use crate::permission::Permissions;

/// A UTC timestamp with microsecond precision (what every SQL dialect keeps exactly).
pub type Timestamp = DateTime<Utc>;

/// Where a device is in its life. See [`DeviceStatus::can_move_to`] for the rule.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Taken in (the default).
    #[default]
    Received,
    /// Data wiped.
    Wiped,
    /// Refurbished.
    Refurbished,
    /// Ready to ship.
    Ready,
    /// Shipped.
    Shipped,
    /// Arrived at its destination.
    Delivered,
    /// Recycled instead of shipped.
    Recycled,
}

impl DeviceStatus {
    /// Every status, lifecycle order, `recycled` last.
    pub const ALL: [DeviceStatus; 7] = [
        DeviceStatus::Received,
        DeviceStatus::Wiped,
        DeviceStatus::Refurbished,
        DeviceStatus::Ready,
        DeviceStatus::Shipped,
        DeviceStatus::Delivered,
        DeviceStatus::Recycled,
    ];

    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Received => "received",
            DeviceStatus::Wiped => "wiped",
            DeviceStatus::Refurbished => "refurbished",
            DeviceStatus::Ready => "ready",
            DeviceStatus::Shipped => "shipped",
            DeviceStatus::Delivered => "delivered",
            DeviceStatus::Recycled => "recycled",
        }
    }

    fn rank(self) -> Option<u8> {
        match self {
            DeviceStatus::Received => Some(0),
            DeviceStatus::Wiped => Some(1),
            DeviceStatus::Refurbished => Some(2),
            DeviceStatus::Ready => Some(3),
            DeviceStatus::Shipped => Some(4),
            DeviceStatus::Delivered => Some(5),
            DeviceStatus::Recycled => None,
        }
    }

    /// The lifecycle rule for everyone but a superuser: moves go forward and may skip steps,
    /// but nothing gets past `wiped` without having been wiped; `recycled` is reachable from any
    /// status before `delivered`. Staying put is always allowed. Why a move is refused is
    /// [`move_blocked`](Self::move_blocked), which this follows.
    pub fn can_move_to(self, to: DeviceStatus) -> bool {
        self.move_blocked(to).is_none()
    }

    /// Why the lifecycle refuses the move from here to `to`, or `None` when it allows it: the
    /// one source of [`can_move_to`](Self::can_move_to) and of the reasons shown to people.
    pub fn move_blocked(self, to: DeviceStatus) -> Option<MoveBlocked> {
        if self == to {
            return None;
        }
        match (self.rank(), to.rank()) {
            // Out of delivered or recycled: never.
            (None, _) | (Some(5), _) => Some(MoveBlocked::Final { from: self }),
            // Into recycled: from anything before delivered.
            (Some(_), None) => None,
            (Some(from), Some(rank)) if rank < from => {
                Some(MoveBlocked::Backwards { from: self, to })
            }
            (Some(0), Some(rank)) if rank > 1 => Some(MoveBlocked::NotWiped { to }),
            (Some(_), Some(_)) => None,
        }
    }

    /// The statuses [`can_move_to`](Self::can_move_to) allows from here, excluding staying put.
    pub fn allowed_next(self) -> Vec<DeviceStatus> {
        DeviceStatus::ALL
            .into_iter()
            .filter(|s| *s != self && self.can_move_to(*s))
            .collect()
    }
}

/// Why the lifecycle refuses a status move ([`DeviceStatus::move_blocked`]); its `Display` is
/// the sentence a technician reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveBlocked {
    /// `delivered` and `recycled` are final.
    Final {
        /// The final status.
        from: DeviceStatus,
    },
    /// Nothing gets past `wiped` without having been wiped.
    NotWiped {
        /// Where the move wanted to go.
        to: DeviceStatus,
    },
    /// Moves go forward only.
    Backwards {
        /// The current status.
        from: DeviceStatus,
        /// The earlier status.
        to: DeviceStatus,
    },
}

impl fmt::Display for MoveBlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoveBlocked::Final { from } => write!(f, "A device cannot leave {from}."),
            MoveBlocked::NotWiped { to } => write!(
                f,
                "Not wiped yet: a device must be wiped before it can be {to}."
            ),
            MoveBlocked::Backwards { from, to } => write!(
                f,
                "A device cannot go back from {from} to {to}: statuses only move forward."
            ),
        }
    }
}

/// One status a device could be given next, for one caller
/// ([`crate::Rehome::device_statuses`]).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextStatus {
    /// The status.
    pub status: DeviceStatus,
    /// Whether this caller may move the device to it now (the current status is always
    /// allowed: staying put).
    pub allowed: bool,
    /// Why not, in a sentence for people; `null` when allowed.
    pub reason: Option<String>,
}

impl fmt::Display for DeviceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeviceStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        DeviceStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(())
    }
}

/// An amount of money with two decimal places, kept as a whole number of cents.
/// Printed as a decimal string (`"416.69"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money {
    cents: i64,
}

/// The largest amount accepted: 999,999,999,999.99.
pub const MONEY_MAX_CENTS: i64 = 99_999_999_999_999;

/// Why a text is not a [`Money`] amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a decimal number.
    #[error("A valid number is required.")]
    NotANumber,
    /// Below zero.
    #[error("Ensure this value is greater than or equal to 0.")]
    Negative,
    /// More than two decimal places.
    #[error("Ensure that there are no more than 2 decimal places.")]
    TooPrecise,
    /// Above [`MONEY_MAX_CENTS`].
    #[error("Ensure that there are no more than 12 digits before the decimal point.")]
    TooLarge,
}

impl Money {
    /// From a whole number of cents; `None` when negative or above the maximum.
    pub fn from_cents(cents: i64) -> Option<Money> {
        (0..=MONEY_MAX_CENTS)
            .contains(&cents)
            .then_some(Money { cents })
    }

    /// The amount in cents.
    pub fn cents(self) -> i64 {
        self.cents
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.cents / 100, self.cents % 100)
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    /// Parses a decimal such as `"416.69"`, `"12"`, `"1e2"` or `"3.10"`. Trailing zeros past the
    /// second place are fine (`"1.500"`), other digits there are not.
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        let s = s.trim();
        // Zeros past the last digit of a plain decimal change nothing, however many there are
        // (the decimal type holds at most 28 places).
        let plain = s
            .split_once('.')
            .is_some_and(|(_, fraction)| fraction.bytes().all(|b| b.is_ascii_digit()));
        let s = if plain {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            s
        };
        let d = rust_decimal::Decimal::from_str_exact(s)
            .or_else(|_| rust_decimal::Decimal::from_scientific(s))
            .map_err(|_| match s.split_once('.') {
                // Too many places for the decimal type: certainly more than two.
                Some((whole, fraction))
                    if plain && fraction.len() > 2 && whole.parse::<i128>().is_ok() =>
                {
                    MoneyError::TooPrecise
                }
                _ => MoneyError::NotANumber,
            })?
            .normalize();
        if d.is_sign_negative() && !d.is_zero() {
            return Err(MoneyError::Negative);
        }
        if d.scale() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        let cents = d
            .checked_mul(rust_decimal::Decimal::from(100))
            .ok_or(MoneyError::TooLarge)?
            .trunc()
            .to_string()
            .parse::<i64>()
            .map_err(|_| MoneyError::TooLarge)?;
        Money::from_cents(cents).ok_or(MoneyError::TooLarge)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let text = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(serde::de::Error::custom(MoneyError::NotANumber)),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A donated device.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Primary key.
    pub device_id: DeviceId,
    /// Kind of device (free text: "Laptop", "Smartphone", ...).
    #[serde(rename = "type")]
    pub device_type: String,
    /// Manufacturer.
    pub make: String,
    /// Model.
    pub model: String,
    /// Serial number; unique.
    pub serial_number: String,
    /// MAC address (lowercase colon form when it is one) or other text; unique when not empty.
    pub mac_id: String,
    /// IMEI of a phone or tablet: 15 digits with a valid check digit; unique when not empty.
    #[serde(default)]
    pub imei: String,
    /// Year of manufacture, 1970 to next year.
    pub year_of_manufacture: Option<i32>,
    /// When it came in.
    pub date_received: Option<NaiveDate>,
    /// The user who took it in.
    pub received_by: Option<UserId>,
    /// The user who created the record (set by the server).
    pub created_by: Option<UserId>,
    /// Condition, free text.
    pub physical_condition: String,
    /// Specifications, free text.
    pub specifications: String,
    /// Operating system, free text.
    pub operating_system: String,
    /// Who gave it.
    pub donor: Option<DonorId>,
    /// When it was given.
    pub date_of_donation: Option<NaiveDate>,
    /// Estimated value.
    pub value: Option<Money>,
    /// Where it started.
    pub start_location: Option<LocationId>,
    /// Where it goes.
    pub end_location: Option<LocationId>,
    /// Notes, free text.
    pub notes: String,
    /// Shipments it travelled with, ascending, no duplicates.
    pub shipping_infos: Vec<ShipmentId>,
    /// Lifecycle status.
    pub status: DeviceStatus,
    /// The device declares that it holds no storage media (its sanitization needs no record).
    #[serde(default)]
    pub no_media: bool,
    /// Its activation-lock checks, one per kind at most (the latest).
    #[serde(default)]
    pub locks: Vec<crate::evidence::LockCheck>,
    /// Whether quality sampling picked it for a second person's verification.
    #[serde(default)]
    pub sample: crate::evidence::Sample,
    /// It reached its status before rehome kept sanitization evidence (a store made by an
    /// earlier version, or an import): no records were invented for it, and it must get
    /// evidence before it moves again. Cleared by its next status move. Records written
    /// before this field existed read as `true`.
    #[serde(default = "yes")]
    pub no_evidence_recorded: bool,
    /// Where it went, once recycled.
    #[serde(default)]
    pub recycling: Option<crate::evidence::Recycling>,
    /// Creation time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// Last change.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: u64,
}

fn yes() -> bool {
    true
}

/// A warehouse, drop-off point or destination.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Primary key.
    pub location_id: LocationId,
    /// Name.
    pub name: String,
    /// Kind ("Warehouse", ...), free text.
    #[serde(rename = "type")]
    pub location_type: String,
    /// Address; unique.
    pub address: String,
    /// Country.
    pub country: String,
    /// City.
    pub city: String,
    /// Postal code.
    pub postal_code: String,
    /// Phone; unique when not empty.
    pub phone: String,
    /// Creation time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// Last change.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// A person or organisation that gives devices.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Donor {
    /// Primary key.
    pub donor_id: DonorId,
    /// Name.
    pub name: String,
    /// Contact details, free text.
    pub contact_info: String,
    /// Address.
    pub address: String,
    /// Email; unique (exactly as written).
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Creation time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// Last change.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// A shipment of devices.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    /// Primary key.
    pub shipping_id: ShipmentId,
    /// Destination.
    pub destination: Option<LocationId>,
    /// Whether it arrived.
    pub arrived: bool,
    /// When it left.
    pub date_shipped: NaiveDate,
    /// When it arrived.
    pub date_delivered: Option<NaiveDate>,
    /// Carrier's tracking id.
    pub tracking_identifier: String,
    /// Creation time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// Last change.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// A user account (without credentials, which live in their own records).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Primary key.
    pub id: UserId,
    /// Login name; unique regardless of case; 2 to 50 characters.
    pub username: String,
    /// Email; unique regardless of case.
    pub email: String,
    /// Role name, if any (references [`Role::name`]).
    pub role: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Has every permission.
    pub is_superuser: bool,
    /// Inactive users have no permissions and cannot log in.
    pub is_active: bool,
    /// Direct grants (added to the role's).
    pub permissions: Permissions,
    /// Whether multi-factor login (TOTP) is on; kept here, beside the secrets' own flag in
    /// [`Credentials`], so user lists need no second read.
    #[serde(default)]
    pub mfa_enabled: bool,
    /// Set by a user manager's password reset ([`crate::Rehome::reset_password`]): until the
    /// user changes its password, it may only read itself, change the password and log out.
    /// Records stored before the field existed read as `false`.
    #[serde(default)]
    pub must_change_password: bool,
    /// Last successful login.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_login: Option<Timestamp>,
    /// When the account was created.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub date_joined: Timestamp,
    /// Last change.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// A user as the contract shows it: the user's fields and the permissions it holds through
/// its role and its direct grants.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    /// The user.
    #[serde(flatten)]
    pub user: User,
    /// Role plus direct grants (all of them for a superuser; none when inactive).
    pub effective_permissions: Permissions,
}

/// A named set of permissions that users hold.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// Primary key (the API addresses roles by name).
    pub id: RoleId,
    /// Unique name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The permissions every holder gets.
    pub permissions: Permissions,
    /// Creation time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// Last change.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// One entry of the audit log. Never holds a password hash, secret, code or token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Primary key; grows with time.
    pub id: AuditId,
    /// When it happened.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub timestamp: Timestamp,
    /// The acting user; `None` for the command line or an anonymous caller.
    pub actor: Option<UserId>,
    /// The acting user's name at the time.
    pub actor_username: Option<String>,
    /// What happened, e.g. `device.create`, `auth.login_failed`.
    pub action: String,
    /// The kind of object, e.g. `device`.
    pub object_type: String,
    /// The object's id as text (empty when there is none).
    pub object_id: String,
    /// The client address, when known.
    pub ip: Option<String>,
    /// What changed: `{field: [old, new]}` for updates, the object for creates and deletes.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub changes: serde_json::Value,
}

/// A user's secrets: password hash, TOTP state, recovery codes. Never part of any response or
/// audit entry (its `Debug` shows none of them).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// The user (primary key).
    pub user: UserId,
    /// PHC string of the password (argon2id; older schemes are upgraded at login), if any.
    pub password_hash: Option<String>,
    /// Base32 TOTP secret, from setup on.
    pub totp_secret: Option<String>,
    /// Whether TOTP has been confirmed (MFA is on).
    pub totp_enabled: bool,
    /// The last time step a code was accepted for; it and earlier steps are refused.
    pub totp_last_step: Option<u64>,
    /// Digests of the unused recovery codes.
    pub recovery_codes: Vec<Digest>,
    /// Last change.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: u64,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "totp_secret",
                &self.totp_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("totp_enabled", &self.totp_enabled)
            .field("totp_last_step", &self.totp_last_step)
            .field("recovery_codes", &self.recovery_codes.len())
            .field("updated_at", &self.updated_at)
            .field("version", &self.version)
            .finish()
    }
}

/// A login session: its token is shown once; the store keeps only its digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 of the token (primary key).
    pub digest: Digest,
    /// Whose session.
    pub user: UserId,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it ends, however much it is used.
    pub expires_at: Timestamp,
    /// Last use, written at most once a minute.
    pub last_used_at: Timestamp,
    /// The client address that logged in.
    pub ip: Option<String>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// The second step of a login with MFA on: a short-lived token that a code turns into a
/// session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MfaChallenge {
    /// SHA-256 of the MFA token (primary key).
    pub digest: Digest,
    /// Whose login.
    pub user: UserId,
    /// When the password step succeeded.
    pub created_at: Timestamp,
    /// When it ends.
    pub expires_at: Timestamp,
    /// Wrong codes still allowed.
    pub attempts_left: u32,
    /// The client address of the password step.
    pub ip: Option<String>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// Failed-attempt bookkeeping for one username or client address (keyed by a digest of the
/// scope, so unknown usernames are throttled exactly like known ones).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throttle {
    /// SHA-256 of the scope, e.g. `user:<folded name>` or `ip:<address>` (primary key).
    pub digest: Digest,
    /// Failures inside the window, oldest first.
    pub failures: Vec<Timestamp>,
    /// Refused until then.
    pub locked_until: Option<Timestamp>,
    /// Locks so far since the last success (each lock lasts twice the previous).
    pub locks: u32,
    /// Last change.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeviceStatus::*;

    /// The lifecycle table written out by hand from the contract: rows are "from", columns
    /// "to" in the order received, wiped, refurbished, ready, shipped, delivered, recycled.
    /// `=` staying put and `+` a move the rule allows; the others are the reason it is blocked:
    /// `F` final status, `W` not wiped yet, `B` going back.
    #[test]
    fn status_transition_table() {
        let table: [(DeviceStatus, [char; 7]); 7] = [
            (Received, ['=', '+', 'W', 'W', 'W', 'W', '+']),
            (Wiped, ['B', '=', '+', '+', '+', '+', '+']),
            (Refurbished, ['B', 'B', '=', '+', '+', '+', '+']),
            (Ready, ['B', 'B', 'B', '=', '+', '+', '+']),
            (Shipped, ['B', 'B', 'B', 'B', '=', '+', '+']),
            (Delivered, ['F', 'F', 'F', 'F', 'F', '=', 'F']),
            (Recycled, ['F', 'F', 'F', 'F', 'F', 'F', '=']),
        ];
        let order = [
            Received,
            Wiped,
            Refurbished,
            Ready,
            Shipped,
            Delivered,
            Recycled,
        ];
        for (from, row) in table {
            for (to, cell) in order.iter().zip(row) {
                let to = *to;
                let want = match cell {
                    '=' | '+' => None,
                    'F' => Some(MoveBlocked::Final { from }),
                    'W' => Some(MoveBlocked::NotWiped { to }),
                    _ => Some(MoveBlocked::Backwards { from, to }),
                };
                assert_eq!(from.move_blocked(to), want, "{from} -> {to}");
                assert_eq!(from.can_move_to(to), want.is_none(), "{from} -> {to}");
            }
        }
    }

    /// The sentences, one per kind of reason.
    #[test]
    fn move_blocked_reasons_read_as_sentences() {
        let cases = [
            (Recycled, Ready, "A device cannot leave recycled."),
            (Delivered, Recycled, "A device cannot leave delivered."),
            (
                Received,
                Ready,
                "Not wiped yet: a device must be wiped before it can be ready.",
            ),
            (
                Shipped,
                Wiped,
                "A device cannot go back from shipped to wiped: statuses only move forward.",
            ),
        ];
        for (from, to, want) in cases {
            let got = from.move_blocked(to).map(|r| r.to_string());
            assert_eq!(got.as_deref(), Some(want), "{from} -> {to}");
        }
    }

    /// Users stored before `must_change_password` existed (every store keeps records as
    /// JSON) read as not having to change it; no migration rewrites them.
    #[test]
    fn users_stored_before_must_change_password_read_as_false() {
        let stored = r#"{"id": 3, "username": "ada", "email": "ada@example.org", "role": null,
            "first_name": "", "last_name": "", "is_superuser": false, "is_active": true,
            "permissions": [], "mfa_enabled": false, "last_login": null,
            "date_joined": "2024-05-06T07:08:09Z", "updated_at": "2024-05-06T07:08:09Z",
            "version": 1}"#;
        let user: User = serde_json::from_str(stored).expect("an older user record");
        assert!(!user.must_change_password);
    }

    #[test]
    fn money_parses_and_prints() {
        let cases: &[(&str, Result<&str, MoneyError>)] = &[
            ("416.69", Ok("416.69")),
            ("416.6", Ok("416.60")),
            ("12", Ok("12.00")),
            ("0", Ok("0.00")),
            ("1.500", Ok("1.50")),
            ("-0", Ok("0.00")),
            ("1e2", Ok("100.00")),
            ("-1", Err(MoneyError::Negative)),
            ("1.234", Err(MoneyError::TooPrecise)),
            ("abc", Err(MoneyError::NotANumber)),
            ("", Err(MoneyError::NotANumber)),
            ("1000000000000", Err(MoneyError::TooLarge)),
            ("999999999999.99", Ok("999999999999.99")),
            ("79228162514264337593543950335", Err(MoneyError::TooLarge)),
            ("1e400", Err(MoneyError::NotANumber)),
            (
                "+7459541119.760000000000000000000000000000000000000",
                Ok("7459541119.76"),
            ),
            ("5.", Ok("5.00")),
            ("0.000000000000000000000000000000000", Ok("0.00")),
            (
                "1.2300000000000000000000000000000001",
                Err(MoneyError::TooPrecise),
            ),
        ];
        for (input, want) in cases {
            let got = input.parse::<Money>().map(|m| m.to_string());
            assert_eq!(
                got.as_deref().map_err(Clone::clone),
                want.clone(),
                "{input}"
            );
        }
        let from_number: Money = serde_json::from_str("416.69").expect("number");
        assert_eq!(from_number.to_string(), "416.69");
    }
}
