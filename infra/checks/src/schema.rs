//! skaffold.yaml against skaffold's published JSON Schema, validated by the `jsonschema` crate
//! (every draft-07 keyword, so a newer schema can never pass by being only half understood).
//! Its errors are put in the terms of the file being checked: the dotted path of the offending
//! value (`build.artifacts[0].docker`), an unknown field named as such, and for an `anyOf` whose
//! alternatives all fail (skaffold's builders and deployers) the failures of the nearest one.

use jsonschema::{
    JsonType, ValidationError, Validator, error::TypeKind, error::ValidationErrorKind,
};
use serde_json::Value;

pub struct Schema {
    validator: Validator,
}

impl Schema {
    /// Fails for a schema that is not a valid draft-07 schema.
    pub fn new(root: &Value) -> Result<Self, String> {
        let validator =
            jsonschema::draft7::new(root).map_err(|e| format!("not a usable JSON Schema: {e}"))?;
        Ok(Self { validator })
    }

    /// Every way `instance` breaks the schema, each with the path of the offending value.
    pub fn validate(&self, instance: &Value) -> Vec<String> {
        let mut lines = Vec::new();
        for error in self.validator.iter_errors(instance) {
            describe(&error, "", &mut lines);
        }
        lines
    }
}

/// One error as lines of text (an `anyOf` adds the nearest alternative's, indented).
fn describe(error: &ValidationError<'_>, indent: &str, lines: &mut Vec<String>) {
    let path = dotted(error.instance_path().as_str());
    let at = if path.is_empty() {
        "(top level)".to_owned()
    } else {
        path.clone()
    };
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for field in unexpected {
                let here = if path.is_empty() {
                    field.clone()
                } else {
                    format!("{path}.{field}")
                };
                lines.push(format!("{indent}unknown field `{here}`"));
            }
        }
        ValidationErrorKind::Type { kind } => lines.push(format!(
            "{indent}`{at}`: expected {}, found {}",
            expected(kind),
            found(error.instance())
        )),
        ValidationErrorKind::AnyOf { context } => {
            lines.push(format!(
                "{indent}`{at}` matches none of the schema's alternatives; the nearest fails with:"
            ));
            let deeper = format!("{indent}  ");
            let nearest = context
                .iter()
                .min_by_key(|errors| (unknown_here(errors, error), errors.len()));
            for inner in nearest.into_iter().flatten() {
                describe(inner, &deeper, lines);
            }
        }
        _ => lines.push(format!("{indent}`{at}`: {error}")),
    }
}

/// How many fields an alternative does not know on the object the `anyOf` is about: the
/// nearest alternative is the one that knows most of it (skaffold's alternatives differ in
/// which builder or deployer they allow), then the one with the fewest errors.
fn unknown_here(errors: &[ValidationError<'_>], any_of: &ValidationError<'_>) -> usize {
    errors
        .iter()
        .filter(|e| e.instance_path() == any_of.instance_path())
        .map(|e| match e.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => unexpected.len(),
            _ => 0,
        })
        .sum()
}

/// `/build/artifacts/0/docker` → `build.artifacts[0].docker`.
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.parse::<usize>().is_ok() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

fn expected(kind: &TypeKind) -> String {
    let quoted = |t: JsonType| format!("\"{t}\"");
    match kind {
        TypeKind::Single(t) => quoted(*t),
        TypeKind::Multiple(set) => set.iter().map(quoted).collect::<Vec<_>>().join(" or "),
    }
}

fn found(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}
