//! The frame around every stored value: a CRC32 over key and payload, so a damaged value (or a
//! value that ended up under another key) is detected on read instead of being served.
//!
//! Layout: `crc32(key ++ payload)` as 4 little-endian bytes, then the payload.

/// Bytes the frame adds in front of the payload.
pub(crate) const FRAME_LEN: usize = 4;

fn checksum(key: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(key);
    hasher.update(payload);
    hasher.finalize()
}

/// The stored form of `payload` under `key`.
pub(crate) fn encode(key: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(FRAME_LEN + payload.len());
    framed.extend_from_slice(&checksum(key, payload).to_le_bytes());
    framed.extend_from_slice(payload);
    framed
}

/// The payload of a stored value, or `None` when the frame does not check out.
pub(crate) fn decode<'a>(key: &[u8], stored: &'a [u8]) -> Option<&'a [u8]> {
    let (crc, payload) = stored.split_first_chunk::<FRAME_LEN>()?;
    (u32::from_le_bytes(*crc) == checksum(key, payload)).then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let framed = encode(b"k", b"payload");
        assert_eq!(framed.len(), FRAME_LEN + 7);
        assert_eq!(decode(b"k", &framed), Some(&b"payload"[..]));
        // The same bytes under another key are not accepted.
        assert_eq!(decode(b"other", &framed), None);
        for i in 0..framed.len() {
            let mut bad = framed.clone();
            bad[i] ^= 0x01;
            assert_eq!(decode(b"k", &bad), None, "flipped byte {i}");
        }
        assert_eq!(decode(b"k", &framed[..3]), None);
        assert_eq!(decode(b"k", &encode(b"k", b"")), Some(&b""[..]));
        // CRC-32 (IEEE) of "123456789" is 0xCBF43926: checks we use the standard polynomial.
        assert_eq!(
            &encode(b"1234", b"56789")[..4],
            &0xCBF4_3926_u32.to_le_bytes()
        );
    }
}
