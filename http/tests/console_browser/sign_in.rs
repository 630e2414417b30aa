//! A new user signs in, turns on two-step login (the key read from the setup page, codes
//! computed in the test), signs out and back in with a code.

use fantoccini::Locator;

use crate::common::{PASSWORD, Server, create_superuser, sqlite_url};
use crate::harness::{Browser, browser_tests_enabled, now_secs, totp_code};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_turn_on_two_step_login_sign_out_and_back_in_with_a_code() {
    if !browser_tests_enabled("the console browser scenario") {
        return;
    }
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = sqlite_url(dir.path());
    create_superuser(&store, "admin");
    let server = Server::start(&store, &[]);
    let b = Browser::open(&server.base).await;

    // Not signed in: the console sends us to the sign-in page.
    b.goto("/").await;
    assert_eq!(b.path().await, "/sign-in");
    b.screenshots("sign-in").await;

    // A wrong password: the REST API's sentence, the username kept.
    b.submit_sign_in("admin", "not-the-password").await;
    let page = b.page_text().await;
    assert!(page.contains("Invalid username or password."), "{page}");
    let kept = b
        .field(None, "Username")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("admin"));
    b.screenshots("sign-in-error").await;

    b.fill(None, "Password", PASSWORD).await;
    b.press(Some("/sign-in"), "Sign in").await;
    assert_eq!(b.path().await, "/");
    assert!(b.text("header").await.contains("Signed in as admin"));
    assert_eq!(b.text("h1").await, "Home");
    assert!(b.page_text().await.contains("Devices by status"));
    assert!(b.page_text().await.contains("Recent activity"));
    b.screenshots("home").await;

    // Turn on two-step login, reading the key from the setup page.
    b.goto("/account").await;
    b.screenshots("account").await;
    b.press(Some("/account/two-step/setup"), "Turn on two-step login")
        .await;
    let secret = b.text("#totp-secret").await;
    assert!(b.client.find(Locator::Css(".qr svg")).await.is_ok());
    b.screenshots("two-step-setup").await;
    b.fill(
        Some("/account/two-step/confirm"),
        "Code",
        &totp_code(&secret, now_secs()),
    )
    .await;
    b.press(Some("/account/two-step/confirm"), "Turn on").await;
    let codes = b.text("#recovery-codes").await;
    assert_eq!(codes.lines().filter(|l| !l.trim().is_empty()).count(), 10);
    b.screenshots("recovery-codes").await;
    b.goto("/account").await;
    assert!(b.page_text().await.contains("Two-step login is on"));
    assert!(
        !b.page_text().await.contains(&secret),
        "the key is shown once"
    );
    b.screenshots("account-two-step-on").await;

    // Sign out; the session is gone.
    b.press(Some("/sign-out"), "Sign out").await;
    assert_eq!(b.path().await, "/sign-in");
    b.goto("/account").await;
    assert_eq!(b.path().await, "/sign-in");

    // Back in: password, then a code. A wrong one first.
    b.submit_sign_in("admin", PASSWORD).await;
    assert_eq!(b.path().await, "/sign-in/code");
    b.screenshots("sign-in-code").await;
    let now = now_secs();
    let valid: Vec<String> = (0..4)
        .map(|i| totp_code(&secret, now + i * 30 - 30))
        .collect();
    let wrong = ["000000", "111111", "222222", "333333", "444444"]
        .into_iter()
        .find(|c| !valid.iter().any(|v| v == c))
        .expect("a wrong code");
    b.fill(None, "Code", wrong).await;
    b.press(Some("/sign-in/code"), "Sign in").await;
    assert_eq!(b.path().await, "/sign-in/code");
    assert!(b.page_text().await.contains("Invalid code."));
    b.screenshots("sign-in-code-error").await;
    // The code of the next step: the server allows one step of skew, and the step the
    // setup's code used is spent.
    b.fill(None, "Code", &totp_code(&secret, now_secs() + 30))
        .await;
    b.press(Some("/sign-in/code"), "Sign in").await;
    // Back where the sign-in began.
    assert_eq!(b.path().await, "/account");
    assert!(b.text("header").await.contains("Signed in as admin"));

    // A page that does not exist.
    b.goto("/account/nothing-here").await;
    b.screenshots("not-found").await;
    b.client.close().await.expect("session closed");
}
