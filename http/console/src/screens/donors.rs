//! Donors: list, page, create, edit, delete through [`super::records`]; a donor's page links
//! to the devices it gave.

use rehome_core::services::Model;

use super::Route;
use super::records::{Field, Input, Kind, f, routes as kind_routes};

const FIELDS: &[Field] = &[
    f("name", "Name", Input::Text),
    f("email", "Email", Input::Text),
    f("phone", "Phone", Input::Text),
    f("address", "Address", Input::Long),
    f("contact_info", "Contact details", Input::Long),
];

/// Donors as the screens show them (REST's filters and orderings).
pub(crate) static DONORS: Kind = Kind {
    model: Model::Donor,
    path: "/donors",
    plural: "Donors",
    singular: "donor",
    title: "Donor",
    id_field: "donor_id",
    name_field: Some("name"),
    fields: FIELDS,
    columns: &["email", "phone"],
    filters: &[f("email", "Email", Input::Text)],
    orderings: &[("", "Name (default)"), ("-created_at", "Newest first")],
};

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    kind_routes(&DONORS)
}
