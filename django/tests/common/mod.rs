//! Helpers shared by the import tests: the fixture's path, a writable copy of it, and reading
//! a whole store back.
#![allow(dead_code)] // each test file uses some of these

use std::path::PathBuf;

use rehome_core::Store;
use rehome_core::query::Collection;
use rehome_core::store::Record;

/// The original backend's database (`tests/fixtures/django-original.sqlite3`, written by the
/// original itself and kept in the repository; `tests/fixtures/README.md` describes it).
/// Opened read-only.
pub fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/django-original.sqlite3")
}

/// `sqlite://` URL of the fixture.
pub fn fixture_url() -> String {
    format!("sqlite://{}", fixture().display())
}

/// A writable copy of the fixture in `dir`; answers its URL.
pub fn fixture_copy(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("copy.sqlite3");
    std::fs::copy(fixture(), &path).expect("copying the fixture");
    let mut perms = std::fs::metadata(&path).expect("metadata").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).expect("making the copy writable");
    format!("sqlite://{}", path.display())
}

/// Every record of every collection, in collection then key order.
pub async fn dump(store: &dyn Store) -> Vec<Record> {
    let mut out = Vec::new();
    for c in Collection::ALL {
        let mut after = None;
        loop {
            let page = store.scan(c, after, 500).await.expect("scan");
            let Some(last) = page.last() else { break };
            after = Some(last.key());
            let n = page.len();
            out.extend(page);
            if n < 500 {
                break;
            }
        }
    }
    out
}

/// How many records `store` holds in `collection`.
pub async fn count(store: &dyn Store, collection: Collection) -> usize {
    let mut n = 0;
    let mut after = None;
    loop {
        let page = store.scan(collection, after, 500).await.expect("scan");
        let Some(last) = page.last() else { break };
        after = Some(last.key());
        n += page.len();
        if page.len() < 500 {
            break;
        }
    }
    n
}
