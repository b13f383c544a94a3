//! Text a person typed that other people will be shown (ticket titles, emails): it must show
//! something, and must not carry characters that hide or rearrange what is shown — control
//! characters (a NUL byte, a newline, an escape), the Unicode direction controls that make
//! `gpj.exe` display as `exe.jpg`, or nothing but invisible characters (zero-width spaces,
//! fillers, lone combining marks).

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// What is wrong with a piece of text; each type that holds text says it in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    /// Empty, or only whitespace.
    Blank,
    /// A control character (C0, DEL, C1) or a line/paragraph separator.
    Control,
    /// An explicit bidirectional formatting character (embeddings, overrides, isolates, marks).
    DirectionControl,
    /// Not blank, but nothing in it would be visible.
    Invisible,
}

/// Checks `text` (already trimmed by the caller if it trims) for the problems above, in that
/// order of precedence after blankness: a title made of a NUL byte is a control problem, not
/// an invisible one.
pub fn check_visible(text: &str) -> Result<(), TextProblem> {
    if text.chars().all(char::is_whitespace) {
        return Err(TextProblem::Blank);
    }
    if text.chars().any(is_control) {
        return Err(TextProblem::Control);
    }
    if text.chars().any(is_direction_control) {
        return Err(TextProblem::DirectionControl);
    }
    if !text.chars().any(is_visible) {
        return Err(TextProblem::Invisible);
    }
    Ok(())
}

fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c.general_category(),
            GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator
        )
}

/// The characters of Unicode's bidirectional algorithm that change how text around them is
/// ordered (UAX #9, "explicit directional formatting characters", and the implicit marks).
fn is_direction_control(c: char) -> bool {
    matches!(c,
        '\u{061C}'              // ARABIC LETTER MARK
        | '\u{200E}' | '\u{200F}' // LEFT-TO-RIGHT / RIGHT-TO-LEFT MARK
        | '\u{202A}'..='\u{202E}' // embeddings, pop, overrides
        | '\u{2066}'..='\u{2069}' // isolates
    )
}

/// A character that shows something by itself: not whitespace, not a format character
/// (zero-width space/joiners, soft hyphen, tags), not a combining mark on its own (variation
/// selectors, the combining grapheme joiner), not one of the blank "letters" Unicode has
/// (Hangul fillers, the braille blank).
fn is_visible(c: char) -> bool {
    if c.is_whitespace()
        || matches!(
            c,
            '\u{115F}'
                | '\u{1160}'
                | '\u{3164}'
                | '\u{FFA0}'
                | '\u{2800}'
                | '\u{17B4}'
                | '\u{17B5}'
        )
    {
        return false;
    }
    !matches!(
        c.general_category(),
        GeneralCategory::Format
            | GeneralCategory::NonspacingMark
            | GeneralCategory::EnclosingMark
            | GeneralCategory::Control
            | GeneralCategory::Unassigned
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_in_any_script_is_fine() {
        for text in [
            "Concert",
            "Ébène à l'Opéra",
            "東京ドーム",
            "مسرح",
            "👨\u{200D}👩\u{200D}👧 family day",
            "co\u{00AD}operative",
        ] {
            assert_eq!(check_visible(text), Ok(()), "{text:?}");
        }
    }

    #[test]
    fn blank_control_direction_and_invisible_text_is_named() {
        let cases = [
            ("", TextProblem::Blank),
            (" \t ", TextProblem::Blank),
            ("\u{0}", TextProblem::Control),
            ("a\u{0}b", TextProblem::Control),
            ("line\nbreak", TextProblem::Control),
            ("bell\u{7}", TextProblem::Control),
            ("\u{1b}[31mred", TextProblem::Control),
            ("c1\u{85}", TextProblem::Control),
            ("sep\u{2028}", TextProblem::Control),
            ("gpj\u{202E}.exe", TextProblem::DirectionControl),
            ("\u{2067}isolate\u{2069}", TextProblem::DirectionControl),
            ("mark\u{200F}", TextProblem::DirectionControl),
            ("\u{200B}\u{200B}", TextProblem::Invisible),
            ("\u{FEFF}", TextProblem::Invisible),
            ("\u{2060}\u{200C}\u{200D}", TextProblem::Invisible),
            ("\u{3164}\u{115F}", TextProblem::Invisible),
            ("\u{034F}\u{FE0F}", TextProblem::Invisible),
            ("\u{2800}", TextProblem::Invisible),
            ("\u{E0041}\u{E0042}", TextProblem::Invisible),
        ];
        for (text, problem) in cases {
            assert_eq!(check_visible(text), Err(problem), "{text:?}");
        }
    }
}
