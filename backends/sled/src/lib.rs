#![doc = include_str!("../README.md")]

mod engine;
mod frame;
mod group_commit;
mod marker;
mod snapshot;

use std::path::Path;

use rehome_core::kv::KvStore;
use rehome_core::store::{StoreError, StoreResult};

pub use engine::{Config, SledEngine, SledError};

/// rehome's [`Store`](rehome_core::store::Store) on sled: core's indexed key-value store over
/// [`SledEngine`].
pub type SledStore = KvStore<SledEngine>;

/// Opens (or creates) the store in the directory `path` with the default [`Config`].
pub async fn open(path: impl AsRef<Path>) -> StoreResult<SledStore> {
    Config::new(path).open().await
}

impl Config {
    /// Opens (or creates) the store. sled recovers its log on open, which blocks for a while
    /// on big stores; inside a tokio runtime that work runs on a blocking thread.
    pub async fn open(self) -> StoreResult<SledStore> {
        let open = move || SledEngine::open(&self).and_then(KvStore::new);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(open)
                .await
                .map_err(|e| StoreError::backend(format!("opening the sled store failed: {e}")))?,
            Err(_) => open(),
        }
    }
}
