use std::fmt;

use serde::{Deserialize, Serialize};

/// A ticket's title: trimmed, not blank, at most [`Title::MAX_CHARS`] characters.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 200;
    pub const REQUIRED: &str = "Title is required";
    pub const TOO_LONG: &str = "Title must be at most 200 characters";

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            Err(Self::REQUIRED)
        } else if trimmed.chars().count() > Self::MAX_CHARS {
            Err(Self::TOO_LONG)
        } else {
            Ok(Self(trimmed.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Title {
    type Error = &'static str;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Title> for String {
    fn from(title: Title) -> Self {
        title.0
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Title({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_must_have_content() {
        assert_eq!(
            Title::parse("  Concert  ").map(|t| t.0),
            Ok("Concert".into())
        );
        assert_eq!(Title::parse("   "), Err(Title::REQUIRED));
        assert_eq!(Title::parse(""), Err(Title::REQUIRED));
        assert!(Title::parse(&"x".repeat(200)).is_ok());
        assert_eq!(Title::parse(&"x".repeat(201)), Err(Title::TOO_LONG));
    }
}
