//! Locations (warehouses, drop-off points, destinations): list, page, create, edit, delete
//! through [`super::records`]; a location's page links to the devices that start or end
//! there.

use rehome_core::services::Model;

use super::Route;
use super::records::{Field, Input, Kind, f, routes as kind_routes};

const FIELDS: &[Field] = &[
    f("name", "Name", Input::Text),
    f("type", "Type", Input::Text),
    f("address", "Address", Input::Long),
    f("city", "City", Input::Text),
    f("postal_code", "Postal code", Input::Text),
    f("country", "Country", Input::Text),
    f("phone", "Phone", Input::Text),
];

/// Locations as the screens show them (REST's filters and orderings).
pub(crate) static LOCATIONS: Kind = Kind {
    model: Model::Location,
    path: "/locations",
    plural: "Locations",
    singular: "location",
    title: "Location",
    id_field: "location_id",
    name_field: Some("name"),
    fields: FIELDS,
    columns: &["type", "city", "country"],
    filters: &[
        f("type", "Type", Input::Text),
        f("city", "City", Input::Text),
        f("country", "Country", Input::Text),
    ],
    orderings: &[
        ("", "Name (default)"),
        ("city", "City"),
        ("country", "Country"),
        ("-created_at", "Newest first"),
    ],
};

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    kind_routes(&LOCATIONS)
}
