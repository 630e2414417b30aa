//! OpenAPI schemas of the core types whose JSON form is written by hand (`Serialize` impls),
//! so derived schemas that mention them describe exactly what is written. The write bodies'
//! schemas are [`crate::services::input::write_schema`].

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::model::{MONEY_MAX_CENTS, Money};
use crate::permission::{Permission, Permissions};

impl PartialSchema for Permission {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(Permission::ALL.iter().map(|p| p.as_str())))
            .description(Some("A permission name."))
            .into()
    }
}

impl ToSchema for Permission {}

impl PartialSchema for Permissions {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(Permission::schema())
            .unique_items(true)
            .description(Some(
                "Permission names, each at most once, in canonical order.",
            ))
            .into()
    }
}

impl ToSchema for Permissions {}

/// The pattern of a [`Money`] amount as written: whole units and exactly two decimals.
pub const MONEY_PATTERN: &str = r"^[0-9]{1,12}\.[0-9]{2}$";

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        let max = MONEY_MAX_CENTS / 100;
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .pattern(Some(MONEY_PATTERN))
            .description(Some(format!(
                "A decimal amount with two places, 0.00 to {max}.99, e.g. \"416.69\"."
            )))
            .into()
    }
}

impl ToSchema for Money {}
