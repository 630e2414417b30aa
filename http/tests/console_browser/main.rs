//! The console in a real browser (ADR 0015): Debian's chromium, headless, driven through
//! chromedriver by fantoccini, against a real `rehome serve` on a scratch store.
//!
//! Skipped (with a printed line) unless `REHOME_TEST_BROWSER=1`; with it set, a missing
//! chromedriver or chromium is a failure. `scripts/test-all.sh` sets it.
//!
//! One test binary, one module per scenario; [`harness`] is what they share. Every screen is
//! saved at 360 px and 1280 px wide under `target/console-screenshots/`
//! ([`harness::Browser::screenshots`]).

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod devices;
mod intake;
mod people;
mod places;
mod sign_in;
