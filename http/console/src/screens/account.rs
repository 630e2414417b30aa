//! Account: the signed-in user's password and two-step login.

use axum::response::Html;
use axum::routing::get;
use maud::html;

use super::Route;
use crate::layout::page;
use crate::session::Session;

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new("/account", get(account))]
}

/// `GET /account`.
async fn account(session: Session) -> Html<String> {
    let body = html! {
        h1 { "Account" }
    };
    page(&session, "/account", "Account", body)
}
