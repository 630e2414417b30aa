//! The console's screens, one module each; [`table`] is the whole console.

use axum::routing::{MethodRouter, get};

use crate::ConsoleState;

pub mod account;
pub mod audit;
pub mod devices;
pub mod donors;
pub mod home;
pub mod intake;
pub mod labels;
pub mod locations;
pub mod new_password;
pub mod records;
pub mod roles;
pub mod shipments;
pub mod sign_in;
pub mod users;

/// One path of the console and its handlers.
pub struct Route {
    /// The axum path pattern (`/account`, `/static/{name}`).
    pub path: &'static str,
    /// Its handlers.
    pub methods: MethodRouter<ConsoleState>,
}

impl Route {
    /// A route.
    pub fn new(path: &'static str, methods: MethodRouter<ConsoleState>) -> Route {
        Route { path, methods }
    }
}

/// Every route of the console: each screen's, then the assets. A new screen adds its
/// `routes()` here.
pub fn table() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(sign_in::routes());
    routes.extend(home::routes());
    routes.extend(account::routes());
    routes.extend(devices::routes());
    routes.extend(labels::routes());
    routes.extend(intake::routes());
    routes.extend(locations::routes());
    routes.extend(donors::routes());
    routes.extend(shipments::routes());
    routes.extend(users::routes());
    routes.extend(roles::routes());
    routes.extend(audit::routes());
    routes.extend(new_password::routes());
    routes.push(Route::new("/static/{name}", get(crate::assets::serve)));
    routes
}
