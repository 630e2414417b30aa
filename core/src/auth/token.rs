//! Opaque tokens (login sessions, MFA challenges) and one-time codes: random, shown once,
//! stored only as a SHA-256 digest, compared in constant time.

pub use crate::ids::Digest;

/// Bytes of randomness in a token (256 bits; the contract asks for at least 128).
pub const TOKEN_BYTES: usize = 32;

/// A token in its printable form: URL-safe, no padding (base64url of 32 random bytes).
pub fn encode_token(bytes: &[u8; TOKEN_BYTES]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(43);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in bytes {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(char::from(ALPHABET[((acc >> bits) & 63) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (6 - bits)) & 63) as usize]));
    }
    out
}

/// A recovery code in its printable form: 10 characters from an alphabet without look-alikes,
/// grouped `xxxxx-xxxxx` (about 50 bits each; they are single-use and throttled).
pub fn encode_recovery_code(bytes: &[u8; 10]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz23456789_";
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    let (a, b) = chars.split_at(5);
    format!(
        "{}-{}",
        a.iter().collect::<String>(),
        b.iter().collect::<String>()
    )
}

/// A temporary password from 16 random bytes: 16 characters (80 bits) of an alphabet without
/// look-alikes (no `0`/`O`, `1`/`I`), in 4 groups of 4 (`ABCD-EFGH-JKLM-NPQR`), easy to read
/// out and type in person.
pub fn encode_temporary_password(bytes: &[u8; 16]) -> String {
    const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    chars
        .chunks(4)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The canonical form a recovery code is hashed in: lowercase, no spaces or dashes.
pub fn normalize_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked out by hand from the alphabet `23456789ABCDEFGHJKLMNPQRSTUVWXYZ` (index = byte
    /// mod 32).
    #[test]
    fn temporary_passwords() {
        let counting: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(encode_temporary_password(&counting), "2345-6789-ABCD-EFGH");
        let high: [u8; 16] = std::array::from_fn(|i| 16 + i as u8);
        assert_eq!(encode_temporary_password(&high), "JKLM-NPQR-STUV-WXYZ");
        let wrapped = [
            32, 63, 255, 224, 8, 40, 0, 31, 16, 17, 18, 19, 20, 21, 22, 23,
        ];
        assert_eq!(encode_temporary_password(&wrapped), "2ZZ2-AA2Z-JKLM-NPQR");
    }

    #[test]
    fn digests() {
        // SHA-256("abc") from FIPS 180-2.
        assert_eq!(
            Digest::of("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let d = Digest::of("x");
        assert_eq!(Digest::from_hex(&d.to_hex()), Some(d));
        assert!(Digest::from_hex("zz").is_none());
        assert!(d.ct_eq(&Digest::of("x")) && !d.ct_eq(&Digest::of("y")));
    }

    #[test]
    fn token_forms() {
        // RFC 4648 base64url of 32 zero bytes is 43 'A's without padding.
        assert_eq!(encode_token(&[0; 32]), "A".repeat(43));
        assert_eq!(encode_token(&[0xff; 32]).len(), 43);
        assert!(encode_token(&[0xfb; 32]).contains('-') || encode_token(&[0xff; 32]).contains('_'));
        let code = encode_recovery_code(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 31]);
        assert_eq!(code, "abcde-fghj_");
        assert_eq!(normalize_recovery_code(" ABCDE-fghj_ "), "abcdefghj_");
    }
}
