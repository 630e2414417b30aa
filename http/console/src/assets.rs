//! The console's static files, embedded in the binary and served under names that carry a
//! hash of their content (`/static/console.1a2b3c4d5e.css`), so they can be cached for a
//! year: a changed file has a new name.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::ConsoleError;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Its stable name (`console.css`), what templates ask for.
    pub name: &'static str,
    /// Its served name, with the content hash (`console.1a2b3c4d5e.css`).
    pub hashed: String,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

const FILES: [(&str, &str, &[u8]); 7] = [
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/console.css"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/htmx.min.js"),
    ),
    (
        "htmx.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../assets/vendor/htmx.LICENSE"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../assets/favicon.svg"),
    ),
    // The camera on the scan pages: ZXing's UMD build (with its licence) and our script.
    (
        "zxing.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/zxing.min.js"),
    ),
    (
        "zxing.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../assets/vendor/zxing.LICENSE"),
    ),
    (
        "scan.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/scan.js"),
    ),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, content_type, bytes)| {
            let digest = hex::encode(Sha256::digest(bytes));
            let hashed = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{}.{ext}", &digest[..10]),
                None => format!("{name}.{}", &digest[..10]),
            };
            Asset {
                name,
                hashed,
                content_type,
                bytes,
            }
        })
        .collect()
});

/// Every embedded file.
pub fn all() -> &'static [Asset] {
    &ASSETS
}

/// The URL of the embedded file `name` (`/static/console.1a2b3c4d5e.css`); `name` is one of
/// the names compiled in, so a typo shows as a broken link in the browser tests.
pub fn url(name: &str) -> String {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => format!("/static/{}", a.hashed),
        None => format!("/static/{name}"),
    }
}

/// `GET /static/{name}`: an embedded file by its hashed name, cached for a year.
pub(crate) async fn serve(Path(name): Path<String>) -> Result<Response, ConsoleError> {
    let Some(asset) = ASSETS.iter().find(|a| a.hashed == name) else {
        return Err(ConsoleError::NotFound);
    };
    let mut response = asset.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(response)
}
