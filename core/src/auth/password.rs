//! Password hashing (argon2id), verification, upgrade of weak hashes, and the password policy.
//!
//! Besides argon2id PHC strings, verification accepts the original Django backend's
//! `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (users imported with `rehome
//! import-django` keep their passwords); such a hash always asks for a rehash, so the first
//! successful login replaces it with argon2id.
//!
//! Hashing runs on a dedicated pool of as many threads as the machine has cores, never on the
//! async executor, so a burst of logins cannot stall other work. Each hash or verification is
//! counted ([`Hasher::operations`]), so tests can show that an unknown username costs the same
//! work as a wrong password without timing anything.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use crate::error::FieldErrors;
use crate::fold::fold;

/// Argon2id cost parameters, recorded in every PHC string they produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl PasswordParams {
    /// OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
    pub const OWASP_MINIMUM: PasswordParams = PasswordParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Cheap parameters for tests that are not about hashing cost. Never use them for real
    /// accounts.
    pub const INSECURE_FOR_TESTS: PasswordParams = PasswordParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn argon2(self) -> Result<Argon2<'static>, argon2::Error> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Whether a hash made with `other` is at least as strong as these parameters.
    fn satisfied_by(self, other: PasswordParams) -> bool {
        other.memory_kib >= self.memory_kib
            && other.iterations >= self.iterations
            && other.parallelism >= self.parallelism
    }
}

impl Default for PasswordParams {
    fn default() -> Self {
        PasswordParams::OWASP_MINIMUM
    }
}

/// Why hashing failed (bad parameters, or the pool is gone).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The parameters are not valid argon2 parameters.
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    /// The hashing pool could not be started or has stopped.
    #[error("password hashing pool unavailable: {0}")]
    Pool(String),
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password matches.
    pub ok: bool,
    /// The hash is weaker than the configured parameters (or not argon2id): rehash it.
    pub needs_rehash: bool,
}

/// Hashes and verifies passwords on its own thread pool.
pub struct Hasher {
    params: PasswordParams,
    pool: rayon::ThreadPool,
    operations: AtomicU64,
    /// A hash of a random password with the current parameters, verified against when the
    /// username is unknown, so that case costs the same work as a wrong password.
    dummy: OnceLock<String>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.params)
            .field("threads", &self.pool.current_num_threads())
            .finish()
    }
}

impl Hasher {
    /// A hasher with `params`, on a pool of `threads` threads (the number of cores when `None`).
    pub fn new(params: PasswordParams, threads: Option<usize>) -> Result<Hasher, HashError> {
        params
            .argon2()
            .map_err(|e| HashError::Params(e.to_string()))?;
        let threads = threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("rehome-argon2-{i}"))
            .build()
            .map_err(|e| HashError::Pool(e.to_string()))?;
        Ok(Hasher {
            params,
            pool,
            operations: AtomicU64::new(0),
            dummy: OnceLock::new(),
        })
    }

    /// The configured parameters.
    pub fn params(&self) -> PasswordParams {
        self.params
    }

    /// How many hashes and verifications have run (each costs one argon2 computation).
    pub fn operations(&self) -> u64 {
        self.operations.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.operations.fetch_add(1, Ordering::Relaxed);
        self.pool.spawn(move || {
            let _ = tx.send(job());
        });
        rx.await
            .map_err(|_| HashError::Pool("a hashing job was dropped".into()))
    }

    /// Hashes `password` with `salt` (16 random bytes) into a PHC string.
    pub async fn hash(&self, password: &str, salt: [u8; 16]) -> Result<String, HashError> {
        let params = self.params;
        let password = password.to_owned();
        self.run(move || {
            let argon2 = params
                .argon2()
                .map_err(|e| HashError::Params(e.to_string()))?;
            argon2
                .hash_password_with_salt(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| HashError::Params(e.to_string()))
        })
        .await?
    }

    /// Checks `password` against a stored PHC string. A malformed or unknown hash never
    /// matches (and asks for a rehash).
    pub async fn verify(&self, password: &str, stored: &str) -> Result<Verified, HashError> {
        let wanted = self.params;
        let password = password.to_owned();
        let stored = stored.to_owned();
        self.run(move || verify_blocking(wanted, &password, &stored))
            .await
    }

    /// Does the work of one verification against a throwaway hash and reports no match; for
    /// unknown usernames.
    pub async fn verify_dummy(&self, password: &str, salt: [u8; 16]) -> Result<(), HashError> {
        let dummy = match self.dummy.get() {
            Some(d) => d.clone(),
            None => {
                // Made once per process (its cost is not counted: it is not per request).
                let params = self.params;
                let (tx, rx) = tokio::sync::oneshot::channel();
                self.pool.spawn(move || {
                    let r = params.argon2().ok().and_then(|a| {
                        a.hash_password_with_salt(b"rehome-dummy-password", &salt)
                            .ok()
                            .map(|h| h.to_string())
                    });
                    let _ = tx.send(r);
                });
                let made = rx
                    .await
                    .ok()
                    .flatten()
                    .ok_or_else(|| HashError::Pool("could not make the dummy hash".into()))?;
                self.dummy.get_or_init(|| made).clone()
            }
        };
        self.verify(password, &dummy).await.map(|_| ())
    }
}

/// The prefix of the original Django backend's password hashes.
pub const DJANGO_PBKDF2_PREFIX: &str = "pbkdf2_sha256$";

/// The most PBKDF2 iterations a stored Django hash may ask for: more is treated as no match
/// rather than spending the CPU (Django 5.1 uses 870,000).
pub const DJANGO_MAX_ITERATIONS: u32 = 10_000_000;

/// Checks `password` against Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 sha256>`:
/// PBKDF2-HMAC-SHA256 of the password's UTF-8 bytes with the salt's UTF-8 bytes, compared in
/// constant time. A malformed hash, or zero or more than [`DJANGO_MAX_ITERATIONS`]
/// iterations, never matches.
fn verify_django_pbkdf2(password: &str, stored: &str) -> bool {
    use base64ct::Encoding as _;
    use subtle::ConstantTimeEq as _;

    let Some(rest) = stored.strip_prefix(DJANGO_PBKDF2_PREFIX) else {
        return false;
    };
    let mut parts = rest.split('$');
    let (Some(iterations), Some(salt), Some(hash), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    if iterations == 0 || iterations > DJANGO_MAX_ITERATIONS || salt.is_empty() {
        return false;
    }
    let mut expected = [0u8; 32];
    match base64ct::Base64::decode(hash, &mut expected) {
        Ok(decoded) if decoded.len() == 32 => {}
        _ => return false,
    }
    let mut derived = [0u8; 32];
    match pbkdf2::Params::new(iterations) {
        // The non-generic entry point: compiled (and optimised) in the pbkdf2 crate itself.
        Ok(params) => pbkdf2::pbkdf2_hmac_with_params(
            password.as_bytes(),
            salt.as_bytes(),
            pbkdf2::Algorithm::Pbkdf2Sha256,
            params,
            &mut derived,
        ),
        // Below the crate's minimum of 1,000 rounds (Django never made such hashes): cheap.
        Err(_) => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            password.as_bytes(),
            salt.as_bytes(),
            iterations,
            &mut derived,
        ),
    }
    derived.ct_eq(&expected).into()
}

fn verify_blocking(wanted: PasswordParams, password: &str, stored: &str) -> Verified {
    if stored.starts_with(DJANGO_PBKDF2_PREFIX) {
        // Not argon2id: a match is rehashed at once.
        return Verified {
            ok: verify_django_pbkdf2(password, stored),
            needs_rehash: true,
        };
    }
    let Ok(hash) = PasswordHash::new(stored) else {
        return Verified {
            ok: false,
            needs_rehash: true,
        };
    };
    if hash.algorithm.as_str() != "argon2id" {
        return Verified {
            ok: false,
            needs_rehash: true,
        };
    }
    let Ok(params) = Params::try_from(&hash) else {
        return Verified {
            ok: false,
            needs_rehash: true,
        };
    };
    let used = PasswordParams {
        memory_kib: params.m_cost(),
        iterations: params.t_cost(),
        parallelism: params.p_cost(),
    };
    // `verify_password` uses the parameters in the hash and compares in constant time.
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok();
    Verified {
        ok,
        needs_rehash: !wanted.satisfied_by(used),
    }
}

/// Shared handle to a [`Hasher`].
pub type SharedHasher = Arc<Hasher>;

/// The most common passwords (Django's list, 19,640 entries; originally compiled by Royce
/// Williams), lowercase, one per line.
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().map(str::trim).collect())
}

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longest password accepted.
pub const MAX_PASSWORD_LEN: usize = 128;

/// The contract's password policy: 10 to 128 characters, not a common password, not containing
/// the username (compared case-insensitively). Errors are keyed by `field`.
pub fn check_policy(password: &str, username: &str, field: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        errors.add(
            field,
            format!("This password is too short. It must contain at least {MIN_PASSWORD_LEN} characters."),
        );
    }
    if n > MAX_PASSWORD_LEN {
        errors.add(
            field,
            format!(
                "This password is too long. It must contain at most {MAX_PASSWORD_LEN} characters."
            ),
        );
    }
    if common_passwords().contains(password.trim().to_lowercase().as_str()) {
        errors.add(field, "This password is too common.");
    }
    let user = fold(username.trim());
    if !user.is_empty() && fold(password).contains(&user) {
        errors.add(field, "The password may not contain the username.");
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_large_enough() {
        assert!(common_passwords().len() >= 10_000);
        assert!(common_passwords().contains("password"));
    }

    #[test]
    fn policy_table() {
        // (password, username, messages expected)
        let table: &[(&str, &str, usize)] = &[
            ("correct horse battery", "maria", 0),
            ("short", "maria", 1),
            ("1234567890", "maria", 1),           // common
            ("PASSWORD1234", "bob", 1),           // common, compared lowercase
            ("my-MARIA-secret-2024", "maria", 1), // contains the username
            ("Straße-strasse-99", "STRASSE", 1),  // folded containment
            ("zqv", "ZQV", 2),                    // short and contains the username
        ];
        for (pw, user, n) in table {
            let e = check_policy(pw, user, "password");
            assert_eq!(e.get("password").len(), *n, "{pw:?} / {user:?}: {e:?}");
        }
        assert_eq!(
            check_policy(&"a".repeat(129), "bob", "password")
                .get("password")
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn hash_verify_and_upgrade() {
        let weak = Hasher::new(PasswordParams::INSECURE_FOR_TESTS, Some(1)).expect("hasher");
        let phc = weak
            .hash("correct horse battery", [7; 16])
            .await
            .expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        let v = weak
            .verify("correct horse battery", &phc)
            .await
            .expect("verify");
        assert_eq!(
            v,
            Verified {
                ok: true,
                needs_rehash: false
            }
        );
        let v = weak
            .verify("wrong horse battery", &phc)
            .await
            .expect("verify");
        assert!(!v.ok);
        // A hasher configured stronger asks for a rehash of the weak hash.
        let strong = Hasher::new(
            PasswordParams {
                memory_kib: 128,
                iterations: 2,
                parallelism: 1,
            },
            Some(1),
        )
        .expect("hasher");
        let v = strong
            .verify("correct horse battery", &phc)
            .await
            .expect("verify");
        assert_eq!(
            v,
            Verified {
                ok: true,
                needs_rehash: true
            }
        );
        let v = strong.verify("x", "not a hash").await.expect("verify");
        assert_eq!(
            v,
            Verified {
                ok: false,
                needs_rehash: true
            }
        );
        assert_eq!(weak.operations(), 3);
    }

    /// Django's own test suite (tests/auth_tests/test_hashers.py, `test_pbkdf2`):
    /// `make_password("lètmein", "seasalt", "pbkdf2_sha256")` at 390,000 iterations.
    const DJANGO_VECTOR: &str =
        "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=";

    #[tokio::test]
    async fn verifies_django_pbkdf2_hashes() {
        let h = Hasher::new(PasswordParams::INSECURE_FOR_TESTS, Some(1)).expect("hasher");
        let v = h.verify("lètmein", DJANGO_VECTOR).await.expect("verify");
        assert_eq!(
            v,
            Verified {
                ok: true,
                needs_rehash: true
            }
        );
        let v = h.verify("lètmeinz", DJANGO_VECTOR).await.expect("verify");
        assert_eq!(
            v,
            Verified {
                ok: false,
                needs_rehash: true
            }
        );
        // Few iterations (below the pbkdf2 crate's minimum of 1,000): the published
        // PBKDF2-HMAC-SHA256 vector P="password", S="salt", c=1, dkLen=32 is
        // 120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b (base64 below).
        let one = "pbkdf2_sha256$1$salt$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs=";
        assert!(h.verify("password", one).await.expect("verify").ok);
        // The fixture's user `li` (django/tests/fixtures/README.md), 720,000 iterations.
        let li = "pbkdf2_sha256$720000$sz0uqvTWItvrHdBpkAYplM$OIF/WYEUipPONbkn47eHXFpCcSVuPgm4KT/DVuunJS8=";
        assert!(h.verify("Li-Viewer-2024!", li).await.expect("verify").ok);
        assert!(!h.verify("li-viewer-2024!", li).await.expect("verify").ok);
    }

    #[test]
    fn malformed_or_absurd_django_hashes_never_match() {
        for bad in [
            "pbkdf2_sha256$0$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",
            "pbkdf2_sha256$10000001$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",
            "pbkdf2_sha256$4294967296$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",
            "pbkdf2_sha256$-1$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",
            "pbkdf2_sha256$390000$$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",
            "pbkdf2_sha256$390000$seasalt$not base64",
            "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c",
            "pbkdf2_sha256$390000$seasalt$AAAA",
            "pbkdf2_sha256$390000$seasalt",
            "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=$x",
            "pbkdf2_sha1$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",
        ] {
            assert!(!verify_django_pbkdf2("lètmein", bad), "{bad}");
            assert!(
                !verify_blocking(PasswordParams::INSECURE_FOR_TESTS, "lètmein", bad).ok,
                "{bad}"
            );
        }
    }

    /// RFC 9106 does not give a PHC vector; this one is from the reference implementation's
    /// test suite (argon2id, v=19, m=65536, t=2, p=1, salt "somesalt", password "password").
    #[tokio::test]
    async fn verifies_a_reference_hash() {
        let h = Hasher::new(PasswordParams::OWASP_MINIMUM, Some(1)).expect("hasher");
        let reference = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
        let v = h.verify("password", reference).await.expect("verify");
        assert_eq!(
            v,
            Verified {
                ok: true,
                needs_rehash: false
            }
        );
    }
}
