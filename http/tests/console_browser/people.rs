//! Users, roles and the audit log: the superuser makes a role "Intake" and a coordinator
//! holding manageUsers; the coordinator (a second browser) creates a user with the Intake
//! role, is refused (core's sentence) when granting a permission it lacks, and resets the new
//! user's password; the new user signs in with the temporary password and is made to choose
//! a new one before anything else; the audit log filtered by the coordinator tells that story
//! (the expected entries written out by hand).

use crate::common::{PASSWORD, Server, create_superuser, sqlite_url};
use crate::harness::{Browser, browser_tests_enabled};

const DENIED: &str = "You do not have permission to perform this action.";

async fn sign_in(b: &Browser, username: &str, password: &str) {
    b.sign_in(username, password).await;
}

/// The id at the end of a user page's path (`/people/7`).
fn id_of(path: &str) -> String {
    path.rsplit('/').next().expect("an id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_creates_a_user_resets_its_password_and_the_log_tells_it() {
    if !browser_tests_enabled("the people browser scenario") {
        return;
    }
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = sqlite_url(dir.path());
    create_superuser(&store, "admin");
    let server = Server::start(&store, &[]);

    // The superuser: a role "Intake" with three permissions.
    let admin = Browser::open(&server.base).await;
    sign_in(&admin, "admin", PASSWORD).await;
    for link in ["Users", "Roles", "Audit log"] {
        assert!(admin.text("header nav").await.contains(link), "{link}");
    }
    admin.goto("/roles").await;
    admin.fill(Some("/roles"), "Name", "Intake").await;
    admin
        .fill(
            Some("/roles"),
            "Description",
            "Receives and scans donations",
        )
        .await;
    for p in ["readDevices", "createDevices", "scanDevices"] {
        admin.tick(Some("/roles"), p, true).await;
    }
    admin.screenshots("roles").await;
    admin.press(Some("/roles"), "Create role").await;
    assert_eq!(admin.path().await, "/roles/Intake");
    assert!(admin.page_text().await.contains("The role is created."));
    admin.screenshots("role").await;

    // ... and a coordinator holding manageUsers (and what Intake gives, to hand it on).
    admin.goto("/people").await;
    admin.fill(Some("/people"), "Username", "coord").await;
    admin
        .fill(Some("/people"), "Email", "coord@example.org")
        .await;
    admin.fill(Some("/people"), "First name", "Cora").await;
    admin.fill(Some("/people"), "Last name", "Ordinator").await;
    admin.fill(Some("/people"), "Password", PASSWORD).await;
    admin.choose(Some("/people"), "Role", "Intake").await;
    admin.press(Some("/people"), "Create user").await;
    let coord_path = admin.path().await;
    let coord_id = id_of(&coord_path);
    let grants = format!("{coord_path}/grants");
    for p in ["manageUsers", "viewAuditLog"] {
        admin.tick(Some(&grants), p, true).await;
    }
    admin.press(Some(&grants), "Save permissions").await;
    assert!(
        admin
            .page_text()
            .await
            .contains("The permissions are saved.")
    );
    admin.screenshots("user").await;

    // The coordinator, in a second browser: a new user with the Intake role.
    let coord = Browser::open(&server.base).await;
    sign_in(&coord, "coord", PASSWORD).await;
    assert_eq!(coord.path().await, "/");
    coord.goto("/people").await;
    coord.fill(Some("/people"), "Username", "ines").await;
    coord
        .fill(Some("/people"), "Email", "ines@example.org")
        .await;
    coord.fill(Some("/people"), "First name", "Ines").await;
    coord.fill(Some("/people"), "Last name", "Take").await;
    coord.fill(Some("/people"), "Password", PASSWORD).await;
    coord.choose(Some("/people"), "Role", "Intake").await;
    coord.press(Some("/people"), "Create user").await;
    let ines_path = coord.path().await;
    let ines_id = id_of(&ines_path);
    let page = coord.page_text().await;
    assert!(page.contains("The user is created."), "{page}");
    assert!(page.contains("The role gives: readDevices, createDevices, scanDevices"));

    // Granting a permission the coordinator lacks: core's refusal, the ticks kept.
    let grants = format!("{ines_path}/grants");
    coord.tick(Some(&grants), "editDevices", true).await;
    coord.press(Some(&grants), "Save permissions").await;
    let page = coord.page_text().await;
    assert!(page.contains(DENIED), "{page}");
    let kept = coord
        .field(Some(&grants), "editDevices")
        .await
        .prop("checked")
        .await
        .expect("checked");
    assert_eq!(kept.as_deref(), Some("true"));
    coord.screenshots("user-refused").await;

    // The list shows her.
    coord.goto("/people").await;
    let rows = coord.rows("table.people tbody").await;
    let ines_row = rows
        .iter()
        .find(|r| r.first().map(String::as_str) == Some("ines"))
        .expect("ines listed");
    assert_eq!(
        ines_row[..5],
        ["ines", "Ines Take", "Intake", "yes", "off"].map(String::from)
    );
    coord.screenshots("users").await;

    // The coordinator resets her password; the temporary one is shown once.
    coord.goto(&ines_path).await;
    coord
        .press(
            Some(&format!("{ines_path}/reset-password")),
            "Reset password",
        )
        .await;
    let temporary = coord.text("#temporary-password").await;
    assert_eq!(temporary.len(), 19, "{temporary}");
    coord.screenshots("user-reset").await;

    // She signs in with it and must choose a new password before anything else.
    let ines = Browser::open(&server.base).await;
    sign_in(&ines, "ines", &temporary).await;
    assert_eq!(ines.path().await, "/account/new-password");
    ines.goto("/devices").await;
    assert_eq!(ines.path().await, "/account/new-password");
    assert_eq!(ines.text("h1").await, "Choose a new password");
    ines.screenshots("new-password").await;
    ines.fill(None, "Temporary password", &temporary).await;
    ines.fill(None, "New password", "Intake-Desk-Morning-7")
        .await;
    ines.press(Some("/account/new-password"), "Save new password")
        .await;
    assert_eq!(ines.path().await, "/devices");
    assert_eq!(ines.text("h1").await, "Devices");

    // The coordinator's part, as the audit log tells it (newest first; the refused grant
    // changed nothing, so it is not there).
    coord.goto("/audit").await;
    coord.fill(None, "Actor (username or id)", "coord").await;
    coord.press(Some("/audit"), "Show").await;
    let rows: Vec<Vec<String>> = coord
        .rows("table.audit tbody")
        .await
        .into_iter()
        .map(|r| r[1..4].to_vec())
        .collect();
    let ines_obj = format!("user {ines_id}");
    let coord_obj = format!("user {coord_id}");
    let expected: Vec<Vec<String>> = [
        ["coord", "auth.password_reset", ines_obj.as_str()],
        ["coord", "user.create", ines_obj.as_str()],
        ["coord", "auth.login", coord_obj.as_str()],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(rows, expected);
    coord.screenshots("audit").await;
}
