//! TOTP (RFC 6238) through totp-rs: SHA-1, 6 digits, 30-second steps, one step of skew either
//! way. rehome remembers the last time step a user's code was accepted for and refuses that
//! step and every earlier one (RFC 6238 §5.2: a code is accepted once).

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::model::Timestamp;

/// Seconds per time step.
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: u8 = 6;
/// Bytes of secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;

/// A TOTP secret bound to an account, ready to check codes.
#[derive(Debug, Clone)]
pub struct TotpKey {
    totp: Totp,
}

/// Why a secret cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid TOTP secret: {0}")]
pub struct TotpError(String);

impl TotpKey {
    /// A key from raw secret bytes.
    pub fn new(secret: &[u8], issuer: &str, account: &str) -> Result<TotpKey, TotpError> {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(1)
            .with_step_duration(STEP_SECONDS)
            .with_secret(secret.to_vec())
            .with_issuer(Some(sanitize(issuer)))
            .with_account_name(sanitize(account))
            .build()
            .map_err(|e| TotpError(e.to_string()))?;
        Ok(TotpKey { totp })
    }

    /// A key from its base32 form.
    pub fn from_base32(secret: &str, issuer: &str, account: &str) -> Result<TotpKey, TotpError> {
        let bytes = Secret::try_from_base32(secret)
            .map_err(|e| TotpError(format!("{e:?}")))?
            .as_ref()
            .to_vec();
        TotpKey::new(&bytes, issuer, account)
    }

    /// The secret in base32 (what authenticator apps take).
    pub fn secret_base32(&self) -> String {
        self.totp.secret().to_base32()
    }

    /// The `otpauth://totp/...` URI (what the QR code encodes).
    pub fn uri(&self) -> Result<String, TotpError> {
        self.totp.to_url().map_err(|e| TotpError(e.to_string()))
    }

    /// The code for time step `step`.
    pub fn code_at_step(&self, step: u64) -> String {
        self.totp.generate(step * STEP_SECONDS).to_string()
    }

    /// The time step of a timestamp.
    pub fn step_of(at: Timestamp) -> u64 {
        u64::try_from(at.timestamp()).unwrap_or(0) / STEP_SECONDS
    }

    /// The step `code` is valid for at `now` (previous, current or next step), if any, and only
    /// if it is later than `last_used`. Compared in constant time.
    pub fn check(&self, code: &str, now: Timestamp, last_used: Option<u64>) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let current = Self::step_of(now);
        let mut matched = None;
        // Check every candidate (no early exit) so timing says nothing about which matched.
        for step in [current.saturating_sub(1), current, current + 1] {
            let expected = self.code_at_step(step);
            let equal: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
            if equal && matched.is_none() && last_used.is_none_or(|l| step > l) {
                matched = Some(step);
            }
        }
        matched
    }
}

/// Issuer and account names may not contain a colon in an otpauth URI.
fn sanitize(s: &str) -> String {
    s.replace(':', "_")
}

/// An SVG image of a QR code for `data` (the otpauth URI, or a device label); the encoder's
/// refusal (data too long for any QR version) otherwise.
pub fn qr_svg(data: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows: (time, 8-digit TOTP). Our 6-digit codes are the last 6.
    const RFC_6238_SHA1: [(i64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    fn at(secs: i64) -> Timestamp {
        DateTime::from_timestamp(secs, 0).expect("time")
    }

    #[test]
    fn rfc_6238_vectors() {
        let key = TotpKey::new(b"12345678901234567890", "rehome", "test").expect("key");
        for (t, full) in RFC_6238_SHA1 {
            let six = &full[2..];
            assert_eq!(
                key.code_at_step(u64::try_from(t).expect("t") / 30),
                six,
                "t={t}"
            );
            let step = key.check(six, at(t), None);
            assert_eq!(step, Some(u64::try_from(t).expect("t") / 30), "t={t}");
        }
    }

    /// HOTP (RFC 4226 §5.3) computed here from HMAC-SHA1, independently of totp-rs.
    fn independent_code(secret: &[u8], step: u64) -> String {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret).expect("any key length");
        mac.update(&step.to_be_bytes());
        let h = mac.finalize().into_bytes();
        let offset = usize::from(h[19] & 0x0f);
        let bin = (u32::from(h[offset]) & 0x7f) << 24
            | u32::from(h[offset + 1]) << 16
            | u32::from(h[offset + 2]) << 8
            | u32::from(h[offset + 3]);
        format!("{:06}", bin % 1_000_000)
    }

    #[test]
    fn agrees_with_an_independent_hmac_sha1() {
        let mut secret = [0u8; SECRET_BYTES];
        for round in 0u64..200 {
            for (i, b) in secret.iter_mut().enumerate() {
                *b = (round as u8).wrapping_mul(31).wrapping_add(i as u8 * 7);
            }
            let key = TotpKey::new(&secret, "rehome", "x").expect("key");
            let step = round * 7_919 + 1_000_000;
            assert_eq!(
                key.code_at_step(step),
                independent_code(&secret, step),
                "round {round}"
            );
        }
    }

    #[test]
    fn skew_and_replay() {
        let key = TotpKey::new(b"12345678901234567890", "rehome", "a:b").expect("key");
        let now = at(1_111_111_111); // step 37037037
        let step = 37_037_037;
        assert_eq!(TotpKey::step_of(now), step);
        for (delta, ok) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let s = u64::try_from(i64::try_from(step).expect("s") + delta).expect("s");
            let code = key.code_at_step(s);
            assert_eq!(key.check(&code, now, None).is_some(), ok, "delta {delta}");
        }
        let code = key.code_at_step(step);
        assert_eq!(
            key.check(&code, now, Some(step)),
            None,
            "same step replayed"
        );
        assert_eq!(key.check(&code, now, Some(step + 1)), None, "earlier step");
        assert_eq!(key.check(&code, now, Some(step - 1)), Some(step));
        assert_eq!(key.check("12345", now, None), None);
        assert_eq!(key.check("abcdef", now, None), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(key.check(&spaced, now, None), Some(step));
        let uri = key.uri().expect("uri");
        assert!(
            uri.starts_with("otpauth://totp/rehome:a_b?secret="),
            "{uri}"
        );
        assert!(qr_svg(&uri).is_ok_and(|s| s.contains("<svg")));
    }
}
