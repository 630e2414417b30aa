//! Case folding for case-insensitive matching and case-insensitive unique keys.

/// Unicode full default case folding (`ß` -> `ss`, `Σ`/`σ`/`ς` -> `σ`, `İ` -> `i̇`).
///
/// Every backend compares case-insensitively by folding both sides with this one function, so
/// the answers are the same on every store; SQL backends keep a folded copy of each searchable
/// column instead of relying on the database's collation.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    caseless::default_case_fold_str(s)
}

/// Whether `needle` occurs in `haystack` after folding both.
pub fn icontains(haystack: &str, needle: &str) -> bool {
    fold(haystack).contains(&fold(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_beyond_ascii() {
        // Expected values from the Unicode CaseFolding.txt (status C and F entries).
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("ΣΑΣ"), "σασ");
        assert_eq!(fold("ς"), "σ");
        assert_eq!(fold("Ä"), "ä");
        assert_eq!(fold("İ"), "i\u{307}");
        assert_eq!(fold("K"), "k"); // KELVIN SIGN
        assert!(icontains("GROSSE", "ß"));
        assert!(icontains("100%_\\x", "%_\\"));
        assert!(!icontains("abc", "%"));
    }
}
