//! `open(url)` for every scheme this build has, and the errors for the others.

use rehome_backends::{OpenError, open};
#[cfg(any(feature = "postgres", feature = "mysql"))]
use rehome_backends::{OpenOptions, open_with};
use rehome_core::DonorId;
use rehome_core::store::{Record, RecordKey};
use rehome_core::testing::fixtures::{donor, inserts};

#[cfg_attr(not(any(feature = "sqlite", feature = "sled")), allow(dead_code))]
async fn round_trip(url: &str) {
    let store = open(url)
        .await
        .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    store.ping().await.expect("ping");
    let d = Record::Donor(donor(7, "seven@example.org"));
    store
        .commit(inserts(vec![d.clone()]))
        .await
        .expect("insert");
    assert_eq!(
        store.get(RecordKey::Donor(DonorId(7))).await.expect("get"),
        Some(d)
    );
    store.close().await.expect("close");
}

#[tokio::test]
async fn a_bad_url_names_the_supported_schemes() {
    for url in ["redis://localhost", "rehome.db", "", "sled:relative"] {
        let e = open(url).await.err().expect("refused");
        assert!(
            matches!(e, OpenError::UnsupportedUrl { .. }),
            "{url}: {e:?}"
        );
        let m = e.to_string();
        for scheme in [
            "sqlite://",
            "sqlite::memory:",
            "sled://",
            "postgres://",
            "mysql://",
        ] {
            assert!(m.contains(scheme), "{m}");
        }
    }
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_file_is_created_with_its_directory_and_reopened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("new").join("rehome.db");
    let url = format!("sqlite://{}", path.display());
    round_trip(&url).await;
    assert!(path.exists());
    let again = open(&url).await.expect("reopen");
    assert!(
        again
            .get(RecordKey::Donor(DonorId(7)))
            .await
            .expect("get")
            .is_some()
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_memory() {
    round_trip("sqlite::memory:").await;
    // Every open is a database of its own.
    let other = open("sqlite::memory:").await.expect("open");
    assert!(
        other
            .get(RecordKey::Donor(DonorId(7)))
            .await
            .expect("get")
            .is_none()
    );
}

#[cfg(feature = "sled")]
#[tokio::test]
async fn sled_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sled://{}", dir.path().join("store").display());
    round_trip(&url).await;
}

/// The server dialects reach their driver (which rehome-sql's own tests run against real
/// servers): a server that is not there is a store error naming the URL without its password.
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[tokio::test]
async fn server_urls_reach_their_driver() {
    let mut urls = Vec::new();
    if cfg!(feature = "postgres") {
        urls.push("postgres://u:secret@127.0.0.1:1/db?connect_timeout=2");
    }
    if cfg!(feature = "mysql") {
        urls.push("mysql://u:secret@127.0.0.1:1/db");
    }
    for url in urls {
        let options = OpenOptions {
            acquire_timeout: std::time::Duration::from_secs(1),
            ..OpenOptions::default()
        };
        let e = open_with(url, &options)
            .await
            .err()
            .expect("nothing listens on port 1");
        assert!(matches!(e, OpenError::Store { .. }), "{e:?}");
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}

#[cfg(not(feature = "postgres"))]
#[tokio::test]
async fn postgres_needs_its_feature() {
    let e = open("postgres://u@localhost/db")
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(
            e,
            OpenError::NotCompiled {
                feature: "postgres",
                ..
            }
        ),
        "{e:?}"
    );
}

#[cfg(not(feature = "mysql"))]
#[tokio::test]
async fn mysql_needs_its_feature() {
    let e = open("mysql://root:secret@localhost/db")
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(
            e,
            OpenError::NotCompiled {
                feature: "mysql",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.to_string().contains("secret"), "{e}");
}
