//! The committed document is the one the code describes, and it holds together.

use std::collections::BTreeSet;

use serde_json::Value;
use ticketing_api_docs::{document_path, fleet, render};

#[test]
fn the_committed_document_is_the_codes() {
    let generated = render().expect("the services' documents merge");
    let committed = std::fs::read_to_string(document_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is not what the code describes: run `cargo run -p ticketing-api-docs` and commit it",
        document_path().display()
    );
}

#[test]
fn every_reference_names_a_component_of_the_document() {
    let doc = serde_json::to_value(fleet().expect("merges")).expect("serializes");
    let mut references = BTreeSet::new();
    collect_references(&doc, &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference} is not a reference inside the document"));
        assert!(doc.pointer(pointer).is_some(), "{reference} names nothing");
    }
}

#[test]
fn every_operation_says_what_it_answers_and_who_may_call_it() {
    let doc = serde_json::to_value(fleet().expect("merges")).expect("serializes");
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 11, "{:?}", paths.keys());
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("a path item") {
            let responses = operation["responses"].as_object().expect("responses");
            let name = format!("{method} {path}");
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{name} has no success"
            );
            for status in ["414", "431", "500", "503"] {
                assert!(responses.contains_key(status), "{name} lacks {status}");
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "408", "413"] {
                    assert!(responses.contains_key(status), "{name} lacks {status}");
                }
            }
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().expect("a requirement").keys() {
                    assert!(schemes.contains_key(scheme), "{name} names {scheme}");
                }
            }
        }
    }
}

fn collect_references(value: &Value, references: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                references.insert(reference.clone());
            }
            map.values().for_each(|v| collect_references(v, references));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, references)),
        _ => {}
    }
}

#[test]
fn operation_ids_are_unique_across_the_fleet() {
    let doc = serde_json::to_value(fleet().expect("merges")).expect("serializes");
    let mut seen = BTreeSet::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("a path item").values() {
            let id = operation["operationId"].as_str().expect("an operation id");
            assert!(seen.insert(id.to_owned()), "{id} is used twice");
        }
    }
}
