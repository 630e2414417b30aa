//! `rehome-backends`: the one function that opens a rehome [`Store`] from a URL, used by
//! everything that opens a store (server, command line, bindings, examples).
//!
//! | URL | backend | cargo feature |
//! |---|---|---|
//! | `sqlite://PATH` (created if missing) | SQLite file (`rehome-sql`) | `sqlite` (default) |
//! | `sqlite::memory:` | SQLite in memory, gone when the store is dropped | `sqlite` (default) |
//! | `sled://PATH` | sled directory (`rehome-sled`) | `sled` (default) |
//! | `postgres://...`, `postgresql://...` | PostgreSQL | `postgres` |
//! | `mysql://...`, `mariadb://...` | MySQL 8 / MariaDB | `mysql` |
//!
//! `sqlite://` takes the rest of the URL as the path (`sqlite://rehome.db` is relative,
//! `sqlite:///var/lib/rehome.db` absolute); the SQL URLs take sqlx's query parameters (e.g.
//! PostgreSQL `?sslmode=...&options[search_path]=...`).

use std::sync::Arc;

use rehome_core::store::{Store, StoreError};

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL names no backend this crate knows.
    #[error(
        "unsupported store URL {url:?}: expected sqlite://PATH, sqlite::memory:, sled://PATH, \
         postgres://... or mysql://..."
    )]
    UnsupportedUrl {
        /// The URL, without its password.
        url: String,
    },
    /// The backend the URL names was left out of this build.
    #[error("store URL {url:?} needs the `{feature}` feature, which this build of rehome lacks")]
    NotCompiled {
        /// The URL, without its password.
        url: String,
        /// The cargo feature of `rehome-backends` that adds it.
        feature: &'static str,
    },
    /// The backend could not open the store (unreachable server, unreadable or newer data).
    #[error("opening the store at {url:?}: {source}")]
    Store {
        /// The URL, without its password.
        url: String,
        /// What the backend reported.
        #[source]
        source: StoreError,
    },
}

/// The backends a URL can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://PATH`, `sqlite::memory:`.
    Sqlite,
    /// `sled://PATH`.
    Sled,
    /// `postgres://`, `postgresql://`.
    Postgres,
    /// `mysql://`, `mariadb://`.
    MySql,
}

impl Backend {
    /// The backend `url` names, if any.
    pub fn of(url: &str) -> Option<Backend> {
        let (scheme, rest) = url.split_once(':')?;
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "sled" if rest.starts_with("//") => Some(Backend::Sled),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::MySql),
            _ => None,
        }
    }

    /// The cargo feature that adds it.
    pub fn feature(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Sled => "sled",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }
}

/// Options for [`open_with`].
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// The most database connections a SQL store holds (default 10); ignored by sled.
    pub max_connections: u32,
    /// How long a SQL store waits for a connection, at open and later (default 30 s);
    /// ignored by sled.
    pub acquire_timeout: std::time::Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_connections: 10,
            acquire_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// Opens the store `url` names with default options (see the crate docs for the URLs).
pub async fn open(url: &str) -> Result<Arc<dyn Store>, OpenError> {
    open_with(url, &OpenOptions::default()).await
}

/// Opens the store `url` names.
pub async fn open_with(url: &str, options: &OpenOptions) -> Result<Arc<dyn Store>, OpenError> {
    let shown = redact(url);
    let backend =
        Backend::of(url).ok_or_else(|| OpenError::UnsupportedUrl { url: shown.clone() })?;
    let store_error = |source| OpenError::Store {
        url: shown.clone(),
        source,
    };
    // Unused in builds without any backend feature.
    let _ = (&store_error, options);
    match backend {
        #[cfg(feature = "sled")]
        Backend::Sled => {
            let path = url.split_once("://").map_or("", |(_, p)| p);
            if path.is_empty() {
                return Err(OpenError::UnsupportedUrl { url: shown });
            }
            let store = rehome_sled::open(path).await.map_err(store_error)?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => open_sql(url, options).await.map_err(store_error),
        #[cfg(feature = "postgres")]
        Backend::Postgres => open_sql(url, options).await.map_err(store_error),
        #[cfg(feature = "mysql")]
        Backend::MySql => open_sql(url, options).await.map_err(store_error),
        #[allow(unreachable_patterns)]
        other => Err(OpenError::NotCompiled {
            url: shown,
            feature: other.feature(),
        }),
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
async fn open_sql(url: &str, options: &OpenOptions) -> Result<Arc<dyn Store>, StoreError> {
    let store = rehome_sql::Options::new(url)
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .open()
        .await?;
    Ok(Arc::new(store))
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(colon) => {
                    format!("{}{}:***{}", &url[..s + 3], &userinfo[..colon], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_backends() {
        for (url, b) in [
            ("sqlite://rehome.db", Some(Backend::Sqlite)),
            ("sqlite:///abs/rehome.db", Some(Backend::Sqlite)),
            ("sqlite::memory:", Some(Backend::Sqlite)),
            ("sled://data/rehome", Some(Backend::Sled)),
            ("postgres://u@h/db", Some(Backend::Postgres)),
            ("postgresql://u@h/db", Some(Backend::Postgres)),
            ("MYSQL://root@h/db", Some(Backend::MySql)),
            ("mariadb://root@h/db", Some(Backend::MySql)),
            ("sled:relative", None),
            ("redis://h", None),
            ("rehome.db", None),
            ("", None),
        ] {
            assert_eq!(Backend::of(url), b, "{url}");
        }
        assert_eq!(redact("mysql://me:pw@h/db"), "mysql://me:***@h/db");
    }
}
