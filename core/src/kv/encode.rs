//! Order-preserving byte encodings of ids and field values.
//!
//! Every encoding here is *self-delimiting* (no encoded value is a prefix of another) and
//! *order-preserving* (comparing the bytes gives [`crate::eval::compare_values`]), so an index
//! key `prefix ++ value ++ id` sorts by value, then id, and a prefix scan over
//! `prefix ++ value` finds exactly the entries with that value.

use chrono::Datelike;

use crate::query::Value;

/// Type tags, in the order of [`Value`]'s variants (its derived `Ord`): null first.
pub(crate) const TAG_NULL: u8 = 0x01;
const TAG_BOOL: u8 = 0x02;
const TAG_INT: u8 = 0x03;
const TAG_TEXT: u8 = 0x04;
const TAG_DATE: u8 = 0x05;
const TAG_TIMESTAMP: u8 = 0x06;
const TAG_UUID: u8 = 0x07;

/// The type tag a value's encoding starts with.
pub(crate) fn tag(v: &Value) -> u8 {
    match v {
        Value::Null => TAG_NULL,
        Value::Bool(_) => TAG_BOOL,
        Value::Int(_) => TAG_INT,
        Value::Text(_) => TAG_TEXT,
        Value::Date(_) => TAG_DATE,
        Value::Timestamp(_) => TAG_TIMESTAMP,
        Value::Uuid(_) => TAG_UUID,
    }
}

/// Appends `v` big-endian with the sign bit flipped, so byte order is numeric order.
pub(crate) fn push_i64(buf: &mut Vec<u8>, v: i64) {
    buf.extend_from_slice(&(v.cast_unsigned() ^ (1 << 63)).to_be_bytes());
}

/// Reads what [`push_i64`] wrote.
pub(crate) fn read_i64(bytes: &[u8]) -> Option<i64> {
    let arr: [u8; 8] = bytes.try_into().ok()?;
    Some((u64::from_be_bytes(arr) ^ (1 << 63)).cast_signed())
}

/// Appends text escaped so that it sorts by UTF-8 bytes (code points) and ends unambiguously:
/// `0x00` becomes `0x00 0xFF` and the text ends with `0x00 0x01`. A text that is a prefix of
/// another thus sorts first, and a prefix scan over an encoded text never matches a longer one.
pub(crate) fn push_text(buf: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        if b == 0 {
            buf.extend_from_slice(&[0x00, 0xFF]);
        } else {
            buf.push(b);
        }
    }
    buf.extend_from_slice(&[0x00, 0x01]);
}

/// Appends the order-preserving encoding of `v`: its type tag, then the value.
pub(crate) fn push_value(buf: &mut Vec<u8>, v: &Value) {
    buf.push(tag(v));
    match v {
        Value::Null => {}
        Value::Bool(b) => buf.push(u8::from(*b)),
        Value::Int(i) => push_i64(buf, *i),
        Value::Text(s) => push_text(buf, s),
        Value::Date(d) => {
            buf.extend_from_slice(
                &(d.num_days_from_ce().cast_unsigned() ^ (1 << 31)).to_be_bytes(),
            );
        }
        Value::Timestamp(t) => {
            // Seconds, then the sub-second nanoseconds (which exceed 10^9 only inside a leap
            // second, where chrono orders them after the plain second as well).
            push_i64(buf, t.timestamp());
            buf.extend_from_slice(&t.timestamp_subsec_nanos().to_be_bytes());
        }
        Value::Uuid(u) => buf.extend_from_slice(u.as_bytes()),
    }
}

/// The encoding of one value, on its own.
pub(crate) fn value_bytes(v: &Value) -> Vec<u8> {
    let mut buf = Vec::with_capacity(16);
    push_value(&mut buf, v);
    buf
}

/// The smallest key greater than every key that starts with `prefix`, or `None` when there is
/// none (the prefix is all `0xFF`).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The smallest key greater than `key`.
pub(crate) fn successor(key: &[u8]) -> Vec<u8> {
    let mut next = Vec::with_capacity(key.len() + 1);
    next.extend_from_slice(key);
    next.push(0);
    next
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use chrono::{DateTime, NaiveDate};
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;
    use crate::eval::compare_values;

    fn text() -> impl Strategy<Value = String> {
        // Few characters so that prefixes, equal texts and escapes are frequent.
        proptest::collection::vec(
            prop_oneof![
                Just('\u{0}'),
                Just('\u{1}'),
                Just('a'),
                Just('b'),
                Just('Ä'),
                Just('ß'),
                Just('\u{FFFF}'),
                Just('\u{10FFFF}'),
                Just('%'),
            ],
            0..5,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            prop_oneof![any::<i64>(), -3i64..3, Just(i64::MIN), Just(i64::MAX)]
                .prop_map(Value::Int),
            text().prop_map(Value::Text),
            (-800_000i32..3_000_000).prop_map(|d| {
                Value::Date(NaiveDate::from_num_days_from_ce_opt(d).unwrap_or(NaiveDate::MIN))
            }),
            (-100_000_000_000i64..100_000_000_000, 0u32..2_000_000_000).prop_map(|(s, n)| {
                Value::Timestamp(DateTime::from_timestamp(s, n).unwrap_or_default())
            }),
            any::<[u8; 16]>().prop_map(|b| Value::Uuid(Uuid::from_bytes(b))),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Byte order of encodings equals the evaluator's value order, and no encoding is a
        /// proper prefix of another (so value prefixes never confuse values).
        #[test]
        fn encoding_preserves_order(a in value(), b in value()) {
            let (ea, eb) = (value_bytes(&a), value_bytes(&b));
            prop_assert_eq!(ea.cmp(&eb), compare_values(&a, &b));
            if ea != eb {
                prop_assert!(!eb.starts_with(&ea) && !ea.starts_with(&eb));
            }
        }

        #[test]
        fn ints_round_trip(i in any::<i64>()) {
            let mut buf = Vec::new();
            push_i64(&mut buf, i);
            prop_assert_eq!(read_i64(&buf), Some(i));
        }
    }

    #[test]
    fn hand_picked_orders() {
        // Expected orders written out by hand from the query semantics.
        let t = |s: &str| value_bytes(&Value::Text(s.to_owned()));
        assert!(value_bytes(&Value::Null) < value_bytes(&Value::Bool(false)));
        assert!(value_bytes(&Value::Null) < t(""));
        assert!(t("") < t("\u{0}"));
        assert!(t("a") < t("a\u{0}"));
        assert!(t("a\u{0}") < t("a\u{1}"));
        assert!(t("Z") < t("a"));
        assert!(t("z") < t("Ä"));
        assert!(t("\u{FFFF}") < t("\u{10000}"));
        assert!(value_bytes(&Value::Int(-1)) < value_bytes(&Value::Int(0)));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
        assert_eq!(successor(&[3]).cmp(&vec![3, 0]), Ordering::Equal);
    }
}
