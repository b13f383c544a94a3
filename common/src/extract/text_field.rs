use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A body field meant to hold text. Whatever else a client sends there (a number, an object,
/// `null`) is read as "no text", so the field's own rule refuses it with the field's own message
/// (`Email must be valid`, `Title is required`) rather than the whole body failing to parse
/// with a message about types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField(Option<String>);

impl TextField {
    /// The text sent, or `""` when the value was not text (or the field was absent).
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or_default()
    }
}

impl From<&str> for TextField {
    fn from(text: &str) -> Self {
        Self(Some(text.to_owned()))
    }
}

impl<'de> Deserialize<'de> for TextField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::String(text) => Self(Some(text)),
            _ => Self(None),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_kept_and_anything_else_is_no_text() {
        let read = |raw: &str| serde_json::from_str::<TextField>(raw).expect("any JSON value");
        assert_eq!(read("\"a@b.co\"").as_str(), "a@b.co");
        for raw in ["42", "null", "true", "[\"a\"]", "{\"a\":1}"] {
            assert_eq!(read(raw).as_str(), "", "{raw}");
        }
    }
}
