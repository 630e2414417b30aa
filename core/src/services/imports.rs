//! Building objects that come from another system (an importer such as `rehome-django`) with
//! the same field rules a create applies, but with the ids the other system gave them.
//!
//! These functions check and normalise fields exactly as [`Rehome::create`],
//! [`Rehome::create_user`] and [`Rehome::create_role`] do (one table of rules in
//! `services/input.rs`), and build the record with the given id, `now` as its times and
//! version one. They do not check permissions (the importer acts as the operator), references or unique
//! keys: the store enforces those at commit, and an importer checks them across its rows
//! first (with [`crate::store::Record::unique_keys`], which folds case where the contract
//! says "regardless of case") so that it can report every problem before writing anything.

use serde_json::Value as Json;

use super::Rehome;
use super::accounts::{apply_role, check_role_name};
use super::input::{self, Mode, Parsed};
use super::inventory::{
    Model, apply_device, apply_donor, apply_location, apply_shipment, blank_device, blank_donor,
    blank_location, blank_shipment,
};
use crate::error::FieldErrors;
use crate::ids::{RoleId, UserId};
use crate::model::{Role, User};
use crate::store::{Record, RecordKey};

impl Rehome {
    /// The object of `model` with primary key `key` that a create with `body` (the contract's
    /// JSON of the object) would make, or the field errors a create would report. Read-only
    /// fields of `body` are ignored; a device's `status` follows the create rule for the
    /// operator (any status), and it is marked `no_evidence_recorded`.
    pub fn build_imported(
        &self,
        model: Model,
        key: RecordKey,
        body: &Json,
    ) -> Result<Record, FieldErrors> {
        let (mut body, mut errors) =
            input::parse(model.specs(), body, Mode::Create, self.next_year());
        let now = self.now();
        let record = match (model, key) {
            (Model::Device, RecordKey::Device(device_id)) => {
                let mut d = blank_device(device_id, None, now);
                if let Some(Parsed::Status(s)) = body.take("status") {
                    d.status = s;
                }
                apply_device(&mut body, &mut d);
                // The other system kept no sanitization evidence: none is invented (ADR 0019).
                d.no_evidence_recorded = true;
                Record::Device(d)
            }
            (Model::Location, RecordKey::Location(location_id)) => {
                let mut l = blank_location(location_id, now);
                apply_location(&mut body, &mut l);
                Record::Location(l)
            }
            (Model::Donor, RecordKey::Donor(donor_id)) => {
                let mut d = blank_donor(donor_id, now);
                apply_donor(&mut body, &mut d);
                Record::Donor(d)
            }
            (Model::Shipment, RecordKey::Shipment(shipping_id)) => {
                let mut s = blank_shipment(shipping_id, now);
                apply_shipment(&mut body, &mut s);
                Record::Shipment(s)
            }
            (model, key) => {
                errors.add("id", format!("{key} is not the key of a {}.", model.name()));
                return Err(errors);
            }
        };
        if errors.is_empty() {
            Ok(record)
        } else {
            Err(errors)
        }
    }

    /// The user with id `id` that a create by the operator with `body` would make (username,
    /// email, role name, names, `is_superuser`, `is_active`, `permissions`), or its field
    /// errors. The role is not looked up (the importer creates it); `password` is not read
    /// (imported hashes go into the credentials as they are).
    pub fn build_imported_user(&self, id: UserId, body: &Json) -> Result<User, FieldErrors> {
        let (mut body, mut errors) =
            input::parse(input::USER, body, Mode::Create, self.next_year());
        let now = self.now();
        let mut user = super::blank_user(id, now);
        super::accounts::apply_user_basics(&mut body, &mut errors, &mut user);
        if let Some(role) = body.take("role") {
            user.role = match role {
                Parsed::Text(name) if !name.is_empty() => {
                    let mut role_errors = FieldErrors::new();
                    check_role_name(&name, &mut role_errors);
                    for m in role_errors.0.into_values().flatten() {
                        errors.add("role", m);
                    }
                    Some(name)
                }
                _ => None,
            };
        }
        if let Some(p) = body.permissions("permissions") {
            user.permissions = p;
        }
        if let Some(v) = body.bool("is_superuser") {
            user.is_superuser = v;
        }
        if errors.is_empty() {
            Ok(user)
        } else {
            Err(errors)
        }
    }

    /// The role with id `id` that a create by the operator with `body` (`name`, `description`,
    /// `permissions`) would make, or its field errors.
    pub fn build_imported_role(&self, id: RoleId, body: &Json) -> Result<Role, FieldErrors> {
        let (mut body, errors) = input::parse(input::ROLE, body, Mode::Create, self.next_year());
        let now = self.now();
        let mut role = super::blank_role(id, now);
        match apply_role(&mut body, errors, &mut role) {
            Ok(()) => Ok(role),
            Err(crate::error::Error::Validation(e)) => Err(e),
            Err(other) => Err(FieldErrors::one("non_field_errors", other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::MemoryStore;
    use crate::ids::LocationId;

    fn core() -> Rehome {
        Rehome::new(Arc::new(MemoryStore::new()))
    }

    #[test]
    fn builds_with_the_given_id_and_the_create_rules() {
        let c = core();
        let r = c
            .build_imported(
                Model::Location,
                RecordKey::Location(LocationId(42)),
                &json!({"name": " Depot ", "address": "1 Road", "phone": ""}),
            )
            .expect("valid");
        let Record::Location(l) = r else {
            panic!("a location")
        };
        assert_eq!(
            (l.location_id, l.name.as_str(), l.version),
            (LocationId(42), "Depot", 1)
        );

        let e = c
            .build_imported(
                Model::Donor,
                RecordKey::Donor(crate::ids::DonorId(1)),
                &json!({"name": "D", "email": "not-an-email"}),
            )
            .expect_err("invalid email");
        assert_eq!(e.get("email"), ["Enter a valid email address."]);

        let e = c
            .build_imported(Model::Donor, RecordKey::Location(LocationId(1)), &json!({}))
            .expect_err("wrong key");
        assert!(!e.get("id").is_empty());
    }

    #[test]
    fn users_and_roles() {
        let c = core();
        let u = c
            .build_imported_user(
                UserId(7),
                &json!({"username": "maria", "email": "m@example.org", "role": "intake",
                        "permissions": ["readDevices"], "is_superuser": false}),
            )
            .expect("valid");
        assert_eq!(u.id, UserId(7));
        assert_eq!(u.role.as_deref(), Some("intake"));
        assert_eq!(u.permissions.iter().count(), 1);
        let e = c
            .build_imported_user(
                UserId(8),
                &json!({"username": "a b", "email": "x", "permissions": ["flyPlanes"]}),
            )
            .expect_err("invalid");
        assert_eq!(e.get("email"), ["Enter a valid email address."]);
        assert_eq!(
            e.get("permissions"),
            ["\"flyPlanes\" is not a valid permission."]
        );
        assert_eq!(e.get("username").len(), 1);
        let r = c
            .build_imported_role(RoleId(1), &json!({"name": "viewer"}))
            .expect("valid");
        assert_eq!((r.id, r.name.as_str()), (RoleId(1), "viewer"));
        assert!(
            c.build_imported_role(RoleId(2), &json!({"name": "a/b"}))
                .is_err()
        );
    }
}
