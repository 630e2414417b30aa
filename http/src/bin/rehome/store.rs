//! Opening a store from its URL, and core errors as sentences for the terminal.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use rehome_core::{Error, MemoryStore, Rehome, Store};

/// Opens the store `url` names: `memory:` is an in-memory store (gone when the process ends);
/// every other URL goes to [`rehome_backends::open`] (`sqlite://PATH`, `sqlite::memory:`,
/// `sled://PATH`, `postgres://...`, `mysql://...`).
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    let url = url.trim();
    if matches!(url, "memory:" | "memory://") {
        return Ok(Arc::new(MemoryStore::new()));
    }
    rehome_backends::open(url)
        .await
        // The error names the URL (without its password) and the cause.
        .map_err(anyhow::Error::from)
}

/// Core over the store `url` names.
pub async fn core(url: &str) -> Result<Rehome> {
    Ok(Rehome::new(open(url).await?))
}

/// The URL without a password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A core error as a sentence for the terminal (field errors one per line).
pub fn describe(e: Error) -> anyhow::Error {
    match e {
        Error::Validation(fields) | Error::Conflict { fields, .. } if !fields.is_empty() => {
            let lines: Vec<String> = fields
                .0
                .iter()
                .flat_map(|(f, msgs)| msgs.iter().map(move |m| format!("{f}: {m}")))
                .collect();
            anyhow!("{}", lines.join("\n"))
        }
        Error::Conflict { detail, .. } => anyhow!("{detail}"),
        Error::NotFound(d) => anyhow!("{d}"),
        Error::BatchRejected { errors } => {
            let lines: Vec<String> = errors
                .iter()
                .flat_map(|op| {
                    op.errors.0.iter().flat_map(move |(f, msgs)| {
                        msgs.iter().map(move |m| format!("#{}: {f}: {m}", op.index))
                    })
                })
                .collect();
            anyhow!("{}", lines.join("\n"))
        }
        other => anyhow!("{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/rehome"),
            "postgres://app:***@db:5432/rehome"
        );
        assert_eq!(redact("sqlite://./rehome.db"), "sqlite://./rehome.db");
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
    }
}
