//! Permissions and permission sets.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One of the contract's twelve permission names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// `readDevices`
    ReadDevices,
    /// `createDevices`
    CreateDevices,
    /// `editDevices`
    EditDevices,
    /// `deleteDevices`
    DeleteDevices,
    /// `scanDevices`
    ScanDevices,
    /// `bulkUploadDevices`
    BulkUploadDevices,
    /// `manageWarehouses`
    ManageWarehouses,
    /// `manageDonors`
    ManageDonors,
    /// `manageShipments`
    ManageShipments,
    /// `generateQRCodes`
    GenerateQrCodes,
    /// `manageUsers`
    ManageUsers,
    /// `viewAuditLog`
    ViewAuditLog,
}

impl Permission {
    /// All permissions in their canonical order (the order lists are printed in).
    pub const ALL: [Permission; 12] = [
        Permission::ReadDevices,
        Permission::CreateDevices,
        Permission::EditDevices,
        Permission::DeleteDevices,
        Permission::ScanDevices,
        Permission::BulkUploadDevices,
        Permission::ManageWarehouses,
        Permission::ManageDonors,
        Permission::ManageShipments,
        Permission::GenerateQrCodes,
        Permission::ManageUsers,
        Permission::ViewAuditLog,
    ];

    /// The contract's name, e.g. `"readDevices"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadDevices => "readDevices",
            Permission::CreateDevices => "createDevices",
            Permission::EditDevices => "editDevices",
            Permission::DeleteDevices => "deleteDevices",
            Permission::ScanDevices => "scanDevices",
            Permission::BulkUploadDevices => "bulkUploadDevices",
            Permission::ManageWarehouses => "manageWarehouses",
            Permission::ManageDonors => "manageDonors",
            Permission::ManageShipments => "manageShipments",
            Permission::GenerateQrCodes => "generateQRCodes",
            Permission::ManageUsers => "manageUsers",
            Permission::ViewAuditLog => "viewAuditLog",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown permission name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a valid permission.")]
pub struct UnknownPermission(pub String);

impl FromStr for Permission {
    type Err = UnknownPermission;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPermission(s.to_owned()))
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A set of permissions. Serialised as a list of names in canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u16);

impl Permissions {
    /// The empty set.
    pub const fn empty() -> Self {
        Permissions(0)
    }

    /// Every permission.
    pub fn all() -> Self {
        Permission::ALL.into_iter().collect()
    }

    /// Whether `p` is in the set.
    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// Whether every permission of `other` is in `self`.
    pub fn is_superset(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }

    /// Adds `p`.
    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }

    /// Removes `p`.
    pub fn remove(&mut self, p: Permission) {
        self.0 &= !p.bit();
    }

    /// The union.
    pub fn union(self, other: Permissions) -> Permissions {
        Permissions(self.0 | other.0)
    }

    /// The permissions of `self` that are not in `other`.
    pub fn difference(self, other: Permissions) -> Permissions {
        Permissions(self.0 & !other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permissions in canonical order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    /// The names in canonical order.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut s = Permissions::empty();
        for p in iter {
            s.insert(p);
        }
        s
    }
}

impl Serialize for Permissions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<Permission>::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_contract() {
        // Written out by hand from the contract, in its order.
        let names = [
            "readDevices",
            "createDevices",
            "editDevices",
            "deleteDevices",
            "scanDevices",
            "bulkUploadDevices",
            "manageWarehouses",
            "manageDonors",
            "manageShipments",
            "generateQRCodes",
            "manageUsers",
            "viewAuditLog",
        ];
        assert_eq!(Permission::ALL.len(), names.len());
        for (p, n) in Permission::ALL.iter().zip(names) {
            assert_eq!(p.as_str(), n);
            assert_eq!(n.parse::<Permission>(), Ok(*p));
        }
        assert!("readdevices".parse::<Permission>().is_err());
        assert!("".parse::<Permission>().is_err());
    }

    #[test]
    fn set_serialises_in_canonical_order() {
        let s: Permissions = [Permission::ViewAuditLog, Permission::ReadDevices]
            .into_iter()
            .collect();
        assert_eq!(
            serde_json::to_string(&s).ok().as_deref(),
            Some(r#"["readDevices","viewAuditLog"]"#)
        );
    }
}
