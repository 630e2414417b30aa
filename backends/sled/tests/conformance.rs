//! The Store conformance suite (`rehome_core::testing`) against `SledStore`, each store in its
//! own temporary directory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rehome_core::Store;
use rehome_core::testing::StoreFactory;
use tempfile::TempDir;

/// Fresh sled stores in temporary directories, removed when the factory (one per test) goes.
#[derive(Default)]
struct Sled {
    dirs: Mutex<Vec<TempDir>>,
    /// The directory of each store handed out, by the store's address.
    paths: Mutex<HashMap<usize, PathBuf>>,
}

impl Sled {
    async fn open_at(&self, path: PathBuf) -> Arc<dyn Store> {
        let store: Arc<dyn Store> = Arc::new(
            rehome_sled::open(&path)
                .await
                .expect("opening a sled store"),
        );
        self.paths
            .lock()
            .expect("factory lock")
            .insert(Arc::as_ptr(&store) as *const () as usize, path);
        store
    }
}

#[async_trait]
impl StoreFactory for Sled {
    async fn open(&self) -> Arc<dyn Store> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().to_owned();
        self.dirs.lock().expect("factory lock").push(dir);
        self.open_at(path).await
    }

    async fn reopen(&self, store: Arc<dyn Store>) -> Option<Arc<dyn Store>> {
        store.close().await.expect("close");
        let path = self
            .paths
            .lock()
            .expect("factory lock")
            .remove(&(Arc::as_ptr(&store) as *const () as usize))
            .expect("a store this factory opened");
        drop(store);
        Some(self.open_at(path).await)
    }
}

rehome_core::store_conformance_tests!(Sled::default());
