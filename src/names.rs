//! Names people and rooms are known by: one spelling, nothing invisible, and no look-alikes
//! of existing user names.
//!
//! * **One spelling**: names are NFKC-normalized, so compatibility forms (fullwidth
//!   "ａｌｉｃｅ", ligatures, superscripts) become the plain letters they show.
//! * **Nothing invisible**: a name may not contain control characters, default-ignorable
//!   code points (zero-width spaces and joiners, bidi controls such as RTL override, the BOM,
//!   Hangul fillers, soft hyphens, variation selectors), tag characters, line or paragraph
//!   separators, or code points with no identifier type (unassigned, private use,
//!   noncharacters, the blank braille pattern). A name that is empty is refused. The two
//!   emoji presentation selectors (U+FE0E, U+FE0F) are the one exception: phone keyboards
//!   add them after many emoji, and they change how a character is drawn, not which it is,
//!   so they are dropped rather than refused.
//! * **No look-alikes** (user names only): the Unicode TR39 confusable skeleton of a name,
//!   case-folded, is stored beside it; a new name whose skeleton an existing account already
//!   has ("аlice" with a Cyrillic а beside "alice") is refused.
//!
//! The data (normalization, identifier types, confusables) comes from the unicode-rs crates,
//! not hand-written lists.

use crate::error::ApiError;
use unicode_normalization::UnicodeNormalization;
use unicode_security::GeneralSecurityProfile;
use unicode_security::general_security_profile::IdentifierType;

/// The emoji presentation selectors, dropped from names (see the module doc).
const PRESENTATION_SELECTORS: [char; 2] = ['\u{FE0E}', '\u{FE0F}'];

/// The NFKC form of `raw`, without presentation selectors, trimmed.
/// Unicode-aware case folding of user names, for case-insensitive uniqueness and lookup.
pub fn fold_name(name: &str) -> String {
    name.to_lowercase()
}

pub fn normalize(raw: &str) -> String {
    let normal: String = raw.nfkc().filter(|c| !PRESENTATION_SELECTORS.contains(c)).collect();
    normal.trim().to_string()
}

/// Whether a character shows nothing, or changes how others show (see the module doc).
fn invisible(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{E0000}'..='\u{E007F}')
        || matches!(c.identifier_type(), None | Some(IdentifierType::Default_Ignorable | IdentifierType::Not_Character))
}

/// A name as stored: normalized and checked. `what` names it in errors ("user name").
pub fn clean(raw: &str, max_chars: usize, what: &str) -> Result<String, ApiError> {
    let name = normalize(raw);
    let chars = name.chars().count();
    if chars == 0 || chars > max_chars {
        return Err(ApiError::bad_request(format!("{what} must be 1 to {max_chars} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!("{what} must not contain control characters")));
    }
    if let Some(c) = name.chars().find(|&c| invisible(c)) {
        return Err(ApiError::bad_request(format!(
            "{what} must not contain invisible or direction-changing characters (U+{:04X})",
            c as u32
        )));
    }
    Ok(name)
}

/// The key two user names share when they look alike: the TR39 skeleton of the name, then
/// case-folded ("аlice" with a Cyrillic а, "AIice" with a capital i, and "alice" all give
/// "alice").
pub fn skeleton(name: &str) -> String {
    let skeleton: String = unicode_security::skeleton(name).collect();
    fold_name(&skeleton)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> String {
        match clean(raw, 32, "user name") {
            Err(e) => e.to_string(),
            Ok(name) => panic!("{raw:?} accepted as {name:?}"),
        }
    }

    #[test]
    fn compatibility_forms_become_plain_letters() {
        assert_eq!(clean("ａｌｉｃｅ", 32, "user name").unwrap(), "alice");
        assert_eq!(clean("  ﬁsh ", 32, "user name").unwrap(), "fish");
        assert_eq!(clean("\u{00A0}Mary\u{3000}Ann ", 32, "user name").unwrap(), "Mary Ann");
        assert_eq!(clean("cafe\u{0301}", 32, "user name").unwrap(), "café");
        assert_eq!(clean("I \u{2764}\u{FE0F} tea", 32, "user name").unwrap(), "I \u{2764} tea");
        assert_eq!(clean("Ирина", 32, "user name").unwrap(), "Ирина");
        assert_eq!(clean("李小龍 😀", 32, "user name").unwrap(), "李小龍 😀");
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_refused() {
        for (raw, code) in [
            ("a\u{200B}b", "U+200B"),   // zero-width space
            ("a\u{200C}b", "U+200C"),   // zero-width non-joiner
            ("a\u{200D}b", "U+200D"),   // zero-width joiner
            ("a\u{2060}b", "U+2060"),   // word joiner
            ("\u{202E}evil", "U+202E"), // right-to-left override
            ("a\u{2066}b", "U+2066"),   // left-to-right isolate
            ("a\u{200F}b", "U+200F"),   // right-to-left mark
            ("\u{FEFF}bom", "U+FEFF"),  // byte order mark
            ("a\u{2028}b", "U+2028"),   // line separator
            ("a\u{2029}b", "U+2029"),   // paragraph separator
            ("\u{3164}", "U+1160"),     // Hangul filler (NFKC: U+1160)
            ("a\u{115F}", "U+115F"),    // Hangul choseong filler
            ("a\u{E0041}", "U+E0041"),  // tag A
            ("a\u{E0001}", "U+E0001"),  // language tag
            ("a\u{00AD}b", "U+00AD"),   // soft hyphen
            ("a\u{2800}b", "U+2800"),   // braille blank
            ("a\u{E000}", "U+E000"),    // private use
            ("a\u{FE00}", "U+FE00"),    // variation selector 1
        ] {
            let error = refused(raw);
            assert!(error.contains("invisible") && error.contains(code), "{raw:?}: {error}");
        }
        assert!(refused("a\u{7}b").contains("control characters"));
        assert_eq!(
            refused("\u{200B}\u{200B}"),
            "user name must not contain invisible or direction-changing characters (U+200B)"
        );
        assert_eq!(refused("   "), "user name must be 1 to 32 characters");
        assert_eq!(refused(&"x".repeat(33)), "user name must be 1 to 32 characters");
    }

    #[test]
    fn look_alikes_share_a_skeleton() {
        let alice = skeleton("alice");
        assert_eq!(skeleton("\u{0430}lice"), alice, "Cyrillic а");
        assert_eq!(skeleton("AIice"), alice, "capital i for l");
        assert_eq!(skeleton("ａｌｉｃｅ"), alice);
        assert_ne!(skeleton("alicia"), alice);
        assert_ne!(skeleton("bob"), alice);
    }
}
