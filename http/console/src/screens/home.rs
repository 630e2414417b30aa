//! Home: the inventory at a glance.

use axum::response::Html;
use axum::routing::get;
use maud::html;

use super::Route;
use crate::layout::page;
use crate::session::Session;

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new("/", get(home))]
}

/// `GET /`.
async fn home(session: Session) -> Html<String> {
    let body = html! {
        h1 { "Home" }
        p { "Welcome, " (session.user.username) "." }
    };
    page(&session, "/", "Home", body)
}
