//! `rehome import-django` as an operator runs it: the summary on stdout, row-level problems on
//! stderr, exit codes. Uses the original backend's fixture
//! (`django/tests/fixtures/django-original.sqlite3`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::text;

fn rehome(args: &[&str]) -> Output {
    common::rehome(args, &[], None)
}

/// The original backend's database, kept with the import's tests (`django/tests/fixtures/`).
fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../django/tests/fixtures/django-original.sqlite3")
}

fn sqlite_url(p: &Path) -> String {
    format!("sqlite://{}", p.display())
}

const SUMMARY: &str =
    "4 users, 4 roles, 6 locations, 25 donors, 8 shipments, 300 devices, 48 device-shipment links";

#[test]
fn imports_the_fixture_prints_a_summary_and_refuses_to_import_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = sqlite_url(&dir.path().join("rehome.db"));
    let from = sqlite_url(&fixture());

    let dry = rehome(&[
        "import-django",
        "--from",
        &from,
        "--store",
        &store,
        "--dry-run",
    ]);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains(&format!("would import from {from}")),
        "{}",
        text(&dry.stdout)
    );
    assert!(text(&dry.stdout).contains(SUMMARY), "{}", text(&dry.stdout));

    let out = rehome(&["import-django", "--from", &from, "--store", &store]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("imported from {from}")),
        "{stdout}"
    );
    assert!(stdout.contains(SUMMARY), "{stdout}");
    assert!(stdout.contains("349 audit events written"), "{stdout}");

    let users = rehome(&["users", "list", "--store", &store]);
    assert!(users.status.success(), "{}", text(&users.stderr));
    for name in ["admin", "maria", "tomas", "li"] {
        assert!(
            text(&users.stdout).contains(name),
            "{}",
            text(&users.stdout)
        );
    }

    let again = rehome(&["import-django", "--from", &from, "--store", &store]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("not empty"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn bad_rows_are_listed_and_stop_the_import_unless_skipped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("original.sqlite3");
    std::fs::copy(fixture(), &copy).expect("copy the fixture");
    let mut perms = std::fs::metadata(&copy).expect("metadata").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&copy, perms).expect("writable");
    let from = sqlite_url(&copy);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use sqlx::Connection as _;
        let mut c = sqlx::SqliteConnection::connect(&from).await.expect("open");
        // Unique for SQLite, not for rehome, which trims text as its API does.
        sqlx::raw_sql(
            "UPDATE inventory_location SET phone = '+1-120-887-1451 ' WHERE location_id = 2",
        )
        .execute(&mut c)
        .await
        .expect("duplicate a phone");
        c.close().await.expect("close");
    });
    let store = sqlite_url(&dir.path().join("rehome.db"));

    // A dry run lists the rows, writes nothing, and says the import would stop.
    let dry = rehome(&[
        "import-django",
        "--from",
        &from,
        "--store",
        &store,
        "--dry-run",
    ]);
    assert_eq!(dry.status.code(), Some(1), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stderr).contains("would stop the import"),
        "{}",
        text(&dry.stderr)
    );
    assert!(
        text(&dry.stdout).contains("5 locations"),
        "{}",
        text(&dry.stdout)
    );
    assert!(
        text(&dry.stdout).contains("would be left out"),
        "{}",
        text(&dry.stdout)
    );

    let out = rehome(&["import-django", "--from", &from, "--store", &store]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    // Location 2 now has location 1's phone (once trimmed): it and everything that refers to it is listed.
    assert!(stderr.contains("inventory_location"), "{stderr}");
    assert!(stderr.contains("row 2"), "{stderr}");
    assert!(
        stderr.contains("phone: location with this phone already exists."),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(stderr.contains("--skip-invalid"), "{stderr}");
    assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
    // Nothing written: the same store takes the import with --skip-invalid.
    let out = rehome(&[
        "import-django",
        "--from",
        &from,
        "--store",
        &store,
        "--skip-invalid",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("5 locations"), "{stdout}");
    assert!(stdout.contains("source row(s) left out"), "{stdout}");
}

#[test]
fn an_unknown_source_is_refused_with_a_sentence() {
    let out = rehome(&[
        "import-django",
        "--from",
        "postgres://x@127.0.0.1/db",
        "--store",
        "memory:",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unsupported source"),
        "{}",
        text(&out.stderr)
    );
}
