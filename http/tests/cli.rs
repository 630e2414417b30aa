//! The `rehome` command as a user runs it: exit codes, messages, password sources, import
//! all-or-nothing. Stores here are `memory:` (each run starts empty).

mod common;

use common::{PASSWORD, rehome, text};

#[test]
fn createsuperuser_takes_the_password_from_the_environment_or_stdin() {
    let out = rehome(
        &[
            "createsuperuser",
            "--username",
            "admin",
            "--email",
            "a@example.org",
            "--store",
            "memory:",
        ],
        &[("REHOME_PASSWORD", PASSWORD)],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Superuser \"admin\" created (id 1).\n");

    let out = rehome(
        &[
            "createsuperuser",
            "--username",
            "admin",
            "--email",
            "a@example.org",
        ],
        &[("REHOME_STORE", "memory:")],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The policy applies: the failure names the field.
    let out = rehome(
        &[
            "createsuperuser",
            "--username",
            "admin",
            "--email",
            "a@example.org",
            "--store",
            "memory:",
        ],
        &[("REHOME_PASSWORD", "admin12345")],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("password:"),
        "{}",
        text(&out.stderr)
    );

    // No password at all.
    let out = rehome(
        &[
            "createsuperuser",
            "--username",
            "admin",
            "--email",
            "a@example.org",
            "--store",
            "memory:",
        ],
        &[],
        Some(""),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no password given"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unknown_store_urls_are_refused_with_a_sentence() {
    let out = rehome(&["users", "list", "--store", "ftp://x"], &[], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unsupported store URL"),
        "{}",
        text(&out.stderr)
    );
}

fn csv_file(content: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("rehome-cli-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("devices.csv");
    std::fs::write(&path, content).expect("csv written");
    path
}

#[test]
fn import_is_all_or_nothing_unless_told_otherwise() {
    let good = csv_file(
        "type,make,model,serial_number,year_of_manufacture,mac_id\nLaptop,Dell,E7450,SN-1,2016,AA-BB-CC-DD-EE-01\nPhone,Nokia,3310,SN-2,,\n",
    );
    let out = rehome(
        &["import", good.to_str().expect("path"), "--store", "memory:"],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("2 devices written, 0 rows skipped"),
        "{}",
        text(&out.stderr)
    );

    // Line 3 lacks a make, line 4 repeats a serial number, line 5 has a bad year.
    let bad = csv_file(
        "type,make,model,serial_number,year_of_manufacture\nLaptop,Dell,E7450,SN-1,2016\nPhone,,3310,SN-2,\nTablet,Apple,iPad,SN-1,\nLaptop,HP,X,SN-3,nineteen\n",
    );
    let out = rehome(
        &["import", bad.to_str().expect("path"), "--store", "memory:"],
        &[],
        None,
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("line 3: make: This field is required."),
        "{err}"
    );
    assert!(err.contains("line 4: serial_number:"), "{err}");
    assert!(err.contains("line 5: year_of_manufacture:"), "{err}");
    assert!(
        err.contains("3 invalid row(s); nothing was written"),
        "{err}"
    );

    let out = rehome(
        &[
            "import",
            bad.to_str().expect("path"),
            "--skip-invalid",
            "--store",
            "memory:",
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1 devices written, 3 rows skipped"),
        "{}",
        text(&out.stderr)
    );

    // Unknown columns are named.
    let odd = csv_file("type,make,model,serial_number,colour\nLaptop,Dell,E7450,SN-1,red\n");
    let out = rehome(
        &["import", odd.to_str().expect("path"), "--store", "memory:"],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("line 2: colour: Unknown field."),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn mock_data_and_export() {
    let out = rehome(
        &[
            "mock-data",
            "--locations",
            "1",
            "--donors",
            "1",
            "--devices",
            "2",
            "--shipments",
            "1",
            "--seed",
            "3",
            "--store",
            "memory:",
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1 locations, 1 donors, 2 devices, 1 shipments"),
        "{}",
        text(&out.stderr)
    );
    let out = rehome(
        &["export", "--format", "csv", "--store", "memory:"],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "an empty store exports nothing");
}

#[test]
fn serve_documents_its_flags_and_env_vars() {
    let out = rehome(&["serve", "--help"], &[], None);
    let help = text(&out.stdout);
    for needle in [
        "--store",
        "REHOME_STORE",
        "--bind",
        "REHOME_BIND",
        "--cors-origin",
        "--registration",
        "--trust-proxy",
        "--config",
        "--log-format",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rehome-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn users_commands_on_a_persistent_store() {
    let dir = temp_dir("users");
    let store = format!("sqlite://{}", dir.join("rehome.db").display());
    let env = [("REHOME_STORE", store.as_str())];
    let out = rehome(
        &[
            "createsuperuser",
            "--username",
            "admin",
            "--email",
            "a@example.org",
        ],
        &[
            ("REHOME_STORE", store.as_str()),
            ("REHOME_PASSWORD", PASSWORD),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = rehome(&["users", "list"], &env, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(
        listing.lines().nth(1).is_some_and(|l| l.contains("admin")
            && l.contains("a@example.org")
            && l.contains("yes")),
        "{listing}"
    );
    let out = rehome(
        &["users", "set-password", "ADMIN"],
        &env,
        Some("Another-Lantern-77\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = rehome(&["users", "deactivate", "admin"], &env, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = rehome(&["users", "list"], &env, None);
    assert!(
        text(&out.stdout)
            .lines()
            .nth(1)
            .is_some_and(|l| l.trim_end().ends_with("no")),
        "{}",
        text(&out.stdout)
    );
    let out = rehome(&["users", "deactivate", "nobody"], &env, None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no user called"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn import_undoes_written_batches_when_a_later_one_is_refused() {
    let dir = temp_dir("import");
    let store = format!("sqlite://{}", dir.join("rehome.db").display());
    // 1001 rows: the last repeats the first serial number, which only the second batch of
    // 1000 can notice when it is written.
    let mut csv = String::from("type,make,model,serial_number\n");
    for i in 0..1000 {
        csv.push_str(&format!("Laptop,Dell,E7450,SN-{i}\n"));
    }
    csv.push_str("Laptop,Dell,E7450,SN-0\n");
    let path = dir.join("devices.csv");
    std::fs::write(&path, csv).expect("csv written");
    let out = rehome(
        &["import", path.to_str().expect("path"), "--store", &store],
        &[],
        None,
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("line 1002: serial_number:"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    let out = rehome(
        &["export", "--format", "jsonl", "--store", &store],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "the first batch was undone");

    // With --skip-invalid the refused row is dropped and the rest is written.
    let out = rehome(
        &[
            "import",
            path.to_str().expect("path"),
            "--skip-invalid",
            "--store",
            &store,
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1000 devices written, 1 rows skipped"),
        "{}",
        text(&out.stderr)
    );
    let out = rehome(&["export", "--format", "csv", "--store", &store], &[], None);
    let exported = text(&out.stdout);
    assert_eq!(exported.lines().count(), 1001, "a header and 1000 rows");
    assert!(
        exported
            .lines()
            .next()
            .is_some_and(|h| h.contains("serial_number") && h.contains("device_id"))
    );
    // What export wrote, import reads back (into an empty store).
    let again = dir.join("exported.csv");
    std::fs::write(&again, &exported).expect("written");
    let out = rehome(
        &[
            "import",
            again.to_str().expect("path"),
            "--store",
            "memory:",
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1000 devices written"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn copy_moves_a_store_into_an_empty_one() {
    let dir = temp_dir("copy");
    let from = format!("sqlite://{}", dir.join("from.db").display());
    let to = format!("sled://{}", dir.join("to.sled").display());
    let out = rehome(
        &[
            "createsuperuser",
            "--username",
            "admin",
            "--email",
            "a@example.org",
            "--store",
            &from,
        ],
        &[("REHOME_PASSWORD", PASSWORD)],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = rehome(
        &[
            "mock-data",
            "--devices",
            "12",
            "--seed",
            "5",
            "--store",
            &from,
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = rehome(&["copy", "--from", &from, "--to", &to], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("copied"),
        "{}",
        text(&out.stderr)
    );
    let a = rehome(
        &["export", "--format", "jsonl", "--store", &from],
        &[],
        None,
    );
    let b = rehome(&["export", "--format", "jsonl", "--store", &to], &[], None);
    assert!(a.status.success() && b.status.success());
    assert_eq!(text(&a.stdout).lines().count(), 12);
    assert_eq!(
        text(&a.stdout),
        text(&b.stdout),
        "the same devices, field for field"
    );
    let out = rehome(&["users", "list", "--store", &to], &[], None);
    assert!(text(&out.stdout).contains("admin"), "{}", text(&out.stdout));
    // A second copy into the now full store is refused.
    let out = rehome(&["copy", "--from", &from, "--to", &to], &[], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not empty"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
