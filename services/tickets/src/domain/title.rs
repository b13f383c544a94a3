use std::fmt;

use serde::{Deserialize, Serialize};
use ticketing_common::domain::{TextProblem, check_visible};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{ObjectBuilder, RefOr, Schema, Type},
};

/// A ticket's title: trimmed, at most [`Title::MAX_CHARS`] characters, with visible text and
/// nothing that hides or rearranges what buyers are shown (control or direction characters).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 200;
    pub const REQUIRED: &str = "Title is required";
    pub const TOO_LONG: &str = "Title must be at most 200 characters";
    pub const CONTROL: &str = "Title must not contain control characters";
    pub const DIRECTION: &str = "Title must not contain text-direction control characters";
    pub const INVISIBLE: &str = "Title must contain visible text";

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        check_visible(trimmed).map_err(|problem| match problem {
            TextProblem::Blank => Self::REQUIRED,
            TextProblem::Control => Self::CONTROL,
            TextProblem::DirectionControl => Self::DIRECTION,
            TextProblem::Invisible => Self::INVISIBLE,
        })?;
        if trimmed.chars().count() > Self::MAX_CHARS {
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

impl PartialSchema for Title {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Trimmed, 1 to 200 characters, with visible text and no control or \
                 text-direction characters.",
            ))
            .min_length(Some(1))
            .max_length(Some(Self::MAX_CHARS))
            .examples(["Concert"])
            .into()
    }
}

impl ToSchema for Title {}

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

    #[test]
    fn titles_must_show_something_and_hide_nothing() {
        assert_eq!(Title::parse("\u{0}"), Err(Title::CONTROL));
        assert_eq!(Title::parse("Two\nlines"), Err(Title::CONTROL));
        assert_eq!(Title::parse("Concert\u{202E}3pm"), Err(Title::DIRECTION));
        assert_eq!(Title::parse("\u{200B}\u{200B}"), Err(Title::INVISIBLE));
        assert_eq!(Title::parse(" \u{FEFF} "), Err(Title::INVISIBLE));
        assert!(Title::parse("Ébène 🎻").is_ok());
    }
}
