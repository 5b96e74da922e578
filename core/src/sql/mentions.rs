//! The names a migration's text mentions, for deciding what of a large schema its sandbox
//! needs. Generous on purpose: every word counts (identifiers, words in comments and string
//! bodies, keywords), since a table left out of the sandbox would make a valid migration fail
//! there, while one copied too many only costs a little time.

use std::collections::BTreeSet;

/// Every word of `text` lowercased, and every double-quoted identifier as one name.
pub fn words(text: &str) -> BTreeSet<String> {
    let mut words = BTreeSet::new();
    // A quoted identifier is one name, spaces and all.
    for quoted in text.split('"').skip(1).step_by(2) {
        words.insert(quoted.to_lowercase());
    }
    let mut word = String::new();
    for ch in text.chars().chain(std::iter::once(' ')) {
        if ch.is_alphanumeric() || ch == '_' || ch == '$' {
            word.push(ch);
        } else if !word.is_empty() {
            words.insert(std::mem::take(&mut word).to_lowercase());
        }
    }
    words
}

/// Words of the migration that may name a relation, lowercased; `None` when the migration
/// runs SQL whose targets cannot be read from its text (`DO`, `EXECUTE`, `CALL`).
pub fn mentioned_names(scripts: &[&str]) -> Option<BTreeSet<String>> {
    let words: BTreeSet<String> = scripts.iter().flat_map(|script| words(script)).collect();
    (!["do", "execute", "call"].iter().any(|w| words.contains(*w))).then_some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_every_word_lowercased_and_dynamic_sql_copies_everything() {
        let names =
            mentioned_names(&["ALTER TABLE \"Orders\" ADD COLUMN note text; -- see audit_log\nDROP TABLE \"order items\";"]).unwrap();
        for w in ["alter", "orders", "note", "audit_log", "order items"] {
            assert!(names.contains(w), "{w}: {names:?}");
        }
        assert_eq!(mentioned_names(&["DO $$ BEGIN EXECUTE 'drop table x'; END $$;"]), None);
        assert_eq!(mentioned_names(&["INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING;"]), None, "DO, even harmless, copies all");
    }
}
