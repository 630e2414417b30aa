//! Typed identifiers. Devices are UUIDs; every other object has an integer id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map($name)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                $name(v)
            }
        }
    };
}

int_id!(
    /// Id of a [`crate::model::Location`].
    LocationId
);
int_id!(
    /// Id of a [`crate::model::Donor`].
    DonorId
);
int_id!(
    /// Id of a [`crate::model::Shipment`].
    ShipmentId
);
int_id!(
    /// Id of a [`crate::model::User`].
    UserId
);
int_id!(
    /// Id of a [`crate::model::Role`].
    RoleId
);
int_id!(
    /// Id of a storage [`crate::evidence::Medium`].
    MediumId
);
int_id!(
    /// Id of a [`crate::evidence::Sanitization`] record; ids grow with time.
    SanitizationId
);
int_id!(
    /// Id of a [`crate::evidence::Verification`]; ids grow with time.
    VerificationId
);
int_id!(
    /// Id of an [`crate::model::AuditEvent`]; ids grow with time, so "newest first" is "highest id first".
    AuditId
);

/// Id of a [`crate::model::Device`]: a UUID, printed hyphenated, parsed with or without dashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct DeviceId(pub Uuid);

impl DeviceId {
    /// A version-4 UUID made from 16 random bytes (from the injected randomness).
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        DeviceId(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for DeviceId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        // Only the two forms the contract names: hyphenated, or 32 hex digits.
        if s.len() != 36 && s.len() != 32 {
            return Uuid::parse_str("invalid").map(DeviceId);
        }
        Uuid::parse_str(s).map(DeviceId)
    }
}

/// The SHA-256 digest of a token or code: what the store keeps instead of the secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The digest of `secret`.
    pub fn of(secret: &str) -> Digest {
        Digest::of_bytes(secret.as_bytes())
    }

    /// The digest of `bytes` (a tool report's key).
    pub fn of_bytes(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// Constant-time equality.
    pub fn ct_eq(&self, other: &Digest) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// From lowercase or uppercase hex.
    pub fn from_hex(s: &str) -> Option<Digest> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).ok()?;
        }
        Some(Digest(out))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only a prefix: enough to tell digests apart in logs.
        write!(f, "Digest({}…)", &self.to_hex()[..12])
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::from_hex(&s).ok_or_else(|| serde::de::Error::custom("invalid digest"))
    }
}

/// The kinds of integer ids a store allocates with [`crate::store::Store::next_id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// [`LocationId`]
    Location,
    /// [`DonorId`]
    Donor,
    /// [`ShipmentId`]
    Shipment,
    /// [`UserId`]
    User,
    /// [`RoleId`]
    Role,
    /// [`AuditId`]
    Audit,
    /// [`MediumId`]
    Medium,
    /// [`SanitizationId`]
    Sanitization,
    /// [`VerificationId`]
    Verification,
}

impl IdKind {
    /// Every kind, in a fixed order.
    pub const ALL: [IdKind; 9] = [
        IdKind::Location,
        IdKind::Donor,
        IdKind::Shipment,
        IdKind::User,
        IdKind::Role,
        IdKind::Audit,
        IdKind::Medium,
        IdKind::Sanitization,
        IdKind::Verification,
    ];

    /// Stable lowercase name (used as a key by backends).
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::Location => "location",
            IdKind::Donor => "donor",
            IdKind::Shipment => "shipment",
            IdKind::User => "user",
            IdKind::Role => "role",
            IdKind::Audit => "audit",
            IdKind::Medium => "medium",
            IdKind::Sanitization => "sanitization",
            IdKind::Verification => "verification",
        }
    }
}
