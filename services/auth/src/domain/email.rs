use std::fmt;

use ticketing_common::domain::{TextProblem, check_visible};
use validator::ValidateEmail;

/// An email address, trimmed and lower-cased so that two spellings of one address are one user,
/// free of control, direction and invisible characters (which the address check alone lets into
/// an internationalized domain, and which would make two addresses look alike).
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MESSAGE: &str = "Email must be valid";
    pub const CONTROL: &str = "Email must not contain control characters";
    pub const DIRECTION: &str = "Email must not contain text-direction control characters";
    pub const INVISIBLE: &str = "Email must not contain invisible characters";

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        match check_visible(trimmed) {
            Ok(()) | Err(TextProblem::Blank) => {}
            Err(TextProblem::Control) => return Err(Self::CONTROL),
            Err(TextProblem::DirectionControl) => return Err(Self::DIRECTION),
            Err(TextProblem::Invisible) => return Err(Self::INVISIBLE),
        }
        // An address is letters, digits and punctuation: a format character (zero-width space,
        // joiner, BOM) anywhere in it only makes it look like another one.
        if trimmed.chars().any(is_invisible_format) {
            return Err(Self::INVISIBLE);
        }
        let normalized = trimmed.to_lowercase();
        if normalized.len() > 254 || !normalized.validate_email() {
            return Err(Self::MESSAGE);
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalized() {
        let email = Email::parse("  Ada@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "ada@example.com");
    }

    #[test]
    fn invalid_addresses_are_refused() {
        for raw in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "a b@example.com",
            &format!("{}@x.io", "a".repeat(260)),
        ] {
            assert_eq!(
                Email::parse(raw),
                Err(Email::MESSAGE),
                "{raw:?} must be refused"
            );
        }
    }

    #[test]
    fn hidden_characters_are_refused_with_a_clear_message() {
        assert_eq!(Email::parse("ada\u{0}@example.com"), Err(Email::CONTROL));
        assert_eq!(Email::parse("ada@exam\nple.com"), Err(Email::CONTROL));
        assert_eq!(
            Email::parse("ada\u{202E}@example.com"),
            Err(Email::DIRECTION)
        );
        assert_eq!(
            Email::parse("ada@exa\u{200B}mple.com"),
            Err(Email::INVISIBLE)
        );
        assert_eq!(Email::parse("\u{200B}"), Err(Email::INVISIBLE));
    }
}
