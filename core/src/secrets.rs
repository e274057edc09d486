//! Names that look like they hold a secret (`db_password`, `apiToken`): the compiler masks the
//! literals written under them, the language server hides their values on hover.

/// Words that mark an attribute, map key, parameter or `let` as holding a secret, compared
/// case-insensitively as substrings.
pub const SECRET_WORDS: [&str; 4] = ["password", "passwd", "token", "secret"];

/// Whether `name` contains one of [`SECRET_WORDS`], ignoring case.
pub fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_words_match_anywhere_in_any_case() {
        assert!(looks_secret("DB_PASSWORD"));
        assert!(looks_secret("apiToken"));
        assert!(looks_secret("client-secret"));
        assert!(!looks_secret("username"));
    }
}
