use std::fmt;

use validator::ValidateEmail;

/// An email address, trimmed and lower-cased so that two spellings of one address are one user.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MESSAGE: &str = "Email must be valid";

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let normalized = raw.trim().to_lowercase();
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
}
