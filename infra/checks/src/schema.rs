//! A small JSON Schema validator: the keywords skaffold's published schema uses (`$ref` into
//! `definitions`, `type`, `enum`, `properties`, `additionalProperties`, `required`, `items`,
//! `anyOf`). A keyword it does not know is reported as an error rather than skipped, so a newer
//! schema can never pass by being only half understood.

use serde_json::{Map, Value};

/// Keywords that only annotate (documentation, editor hints) and never constrain.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "definitions",
    "description",
    "x-intellij-html-description",
    "default",
    "examples",
    "preferredOrder",
    "title",
];

pub struct Schema {
    root: Value,
}

impl Schema {
    pub fn new(root: Value) -> Self {
        Self { root }
    }

    /// Every way `instance` breaks the schema, each with the path of the offending value.
    pub fn validate(&self, instance: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(&self.root, instance, "", &mut errors, 0);
        errors
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        self.root.pointer(reference.strip_prefix('#')?)
    }

    fn check(
        &self,
        schema: &Value,
        instance: &Value,
        path: &str,
        errors: &mut Vec<String>,
        depth: usize,
    ) {
        let at = if path.is_empty() { "(top level)" } else { path };
        if depth > 64 {
            errors.push(format!("`{at}`: schema recursion too deep"));
            return;
        }
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                errors.push(format!("`{at}`: no value is allowed here"));
                return;
            }
            Value::Object(schema) => schema,
            _ => {
                errors.push(format!("`{at}`: the schema here is not an object"));
                return;
            }
        };
        // A wrong type makes every other keyword's message noise: report it alone.
        if let Some(expected) = schema.get("type")
            && !type_matches(expected, instance)
        {
            errors.push(format!(
                "`{at}`: expected {expected}, found {}",
                describe(instance)
            ));
            return;
        }
        for (keyword, value) in schema {
            match keyword.as_str() {
                "type" => {}
                "$ref" => match value.as_str().and_then(|r| self.resolve(r)) {
                    Some(target) => self.check(target, instance, path, errors, depth + 1),
                    None => errors.push(format!("`{at}`: unresolvable schema reference {value}")),
                },
                "enum" => {
                    let allowed = value.as_array().map(Vec::as_slice).unwrap_or_default();
                    if !allowed.contains(instance) {
                        errors.push(format!("`{at}`: {instance} is not one of {value}"));
                    }
                }
                "required" => {
                    if let Value::Object(object) = instance {
                        for name in value
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                        {
                            if !object.contains_key(name) {
                                errors.push(format!("`{at}`: missing required field `{name}`"));
                            }
                        }
                    }
                }
                "properties" | "additionalProperties" => {
                    // Handled once for both below.
                }
                "items" => {
                    if let Value::Array(items) = instance {
                        for (i, item) in items.iter().enumerate() {
                            self.check(value, item, &format!("{path}[{i}]"), errors, depth + 1);
                        }
                    }
                }
                "anyOf" => self.any_of(value, instance, path, errors, depth),
                keyword if ANNOTATIONS.contains(&keyword) => {}
                keyword => errors.push(format!(
                    "`{at}`: the schema uses `{keyword}`, which this validator does not implement"
                )),
            }
        }
        if let Value::Object(object) = instance {
            self.check_object(schema, object, path, errors, depth);
        }
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        object: &Map<String, Value>,
        path: &str,
        errors: &mut Vec<String>,
        depth: usize,
    ) {
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        for (key, value) in object {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if let Some(property) = properties.and_then(|p| p.get(key)) {
                self.check(property, value, &here, errors, depth + 1);
            } else if let Some(Value::Bool(false)) = additional {
                let known: Vec<&str> = properties
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                errors.push(format!(
                    "unknown field `{here}` (known here: {})",
                    known.join(", ")
                ));
            } else if let Some(additional @ Value::Object(_)) = additional {
                self.check(additional, value, &here, errors, depth + 1);
            }
        }
    }

    fn any_of(
        &self,
        alternatives: &Value,
        instance: &Value,
        path: &str,
        errors: &mut Vec<String>,
        depth: usize,
    ) {
        // The nearest alternative is the one that knows most of the instance's fields (skaffold's
        // alternatives differ in which builder or deployer they allow), then the one with the
        // fewest errors.
        let mut nearest: Option<((usize, usize), Vec<String>)> = None;
        for alternative in alternatives.as_array().into_iter().flatten() {
            let mut found = Vec::new();
            self.check(alternative, instance, path, &mut found, depth + 1);
            if found.is_empty() {
                return;
            }
            let score = (self.unknown_keys(alternative, instance), found.len());
            if nearest.as_ref().is_none_or(|(best, _)| score < *best) {
                nearest = Some((score, found));
            }
        }
        let nearest = nearest.map(|(_, errors)| errors);
        let at = if path.is_empty() { "(top level)" } else { path };
        errors.push(format!(
            "`{at}` matches none of the schema's alternatives; the nearest fails with:"
        ));
        errors.extend(
            nearest
                .unwrap_or_default()
                .into_iter()
                .map(|e| format!("  {e}")),
        );
    }
}

impl Schema {
    /// How many of an object's keys `schema` (after `$ref`s) does not list in `properties`.
    fn unknown_keys(&self, schema: &Value, instance: &Value) -> usize {
        let mut schema = schema;
        for _ in 0..16 {
            match schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| self.resolve(r))
            {
                Some(target) => schema = target,
                None => break,
            }
        }
        let (Some(object), Some(properties)) = (
            instance.as_object(),
            schema.get("properties").and_then(Value::as_object),
        ) else {
            return 0;
        };
        object
            .keys()
            .filter(|k| !properties.contains_key(*k))
            .count()
    }
}

fn type_matches(expected: &Value, instance: &Value) -> bool {
    match expected {
        Value::String(name) => is_type(name, instance),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .any(|n| is_type(n, instance)),
        _ => false,
    }
}

fn is_type(name: &str, instance: &Value) -> bool {
    match name {
        "string" => instance.is_string(),
        "boolean" => instance.is_boolean(),
        "object" => instance.is_object(),
        "array" => instance.is_array(),
        "null" => instance.is_null(),
        "number" => instance.is_number(),
        "integer" => instance.is_i64() || instance.is_u64(),
        _ => false,
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}
