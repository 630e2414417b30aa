//! The clock and the randomness core uses, injectable so tests are exact.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use rand::rngs::{ChaCha20Rng, SysRng};
use rand::{Rng, SeedableRng, TryRng};

use crate::model::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> Timestamp;
}

/// The system clock, truncated to microseconds (what every store keeps exactly).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that stands still until moved; for tests.
#[derive(Debug)]
pub struct ManualClock {
    micros: AtomicI64,
}

impl ManualClock {
    /// A clock showing `at` (truncated to microseconds).
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock {
            micros: AtomicI64::new(at.timestamp_micros()),
        }
    }

    /// Moves the clock forward (or back, with a negative delta).
    pub fn advance(&self, by: TimeDelta) {
        self.micros
            .fetch_add(by.num_microseconds().unwrap_or(i64::MAX), Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, at: Timestamp) {
        self.micros.store(at.timestamp_micros(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        DateTime::from_timestamp_micros(self.micros.load(Ordering::SeqCst)).unwrap_or_default()
    }
}

/// A source of random bytes (ids, tokens, secrets).
pub trait Randomness: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's secure randomness.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandomness;

impl Randomness for OsRandomness {
    fn fill(&self, buf: &mut [u8]) {
        SysRng.try_fill_bytes(buf).unwrap_or_else(|_| {
            // The OS generator does not fail on supported platforms; if it ever did, carrying
            // on with predictable bytes would be worse than stopping.
            panic!("the operating system's random number generator failed")
        });
    }
}

/// Deterministic randomness from a seed; for tests and reproducible mock data.
#[derive(Debug)]
pub struct SeededRandomness(Mutex<ChaCha20Rng>);

impl SeededRandomness {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SeededRandomness {
        SeededRandomness(Mutex::new(ChaCha20Rng::seed_from_u64(seed)))
    }
}

impl Randomness for SeededRandomness {
    fn fill(&self, buf: &mut [u8]) {
        let mut rng = self.0.lock().unwrap_or_else(|p| p.into_inner());
        rng.fill_bytes(buf);
    }
}
