//! The local ingress states what each API path allows, for the one 405 nginx answers itself
//! (TRACE, refused before any route): its table must be the fleet document's, path for path and
//! method for method, or that 405 would name methods a path does not have.

use std::collections::{BTreeMap, BTreeSet};

use ticketing_api_docs::fleet;

/// Path template (parameters written `{id}`) → the methods its 405 names.
type AllowTable = BTreeMap<String, BTreeSet<String>>;

const TEMPLATE: &str = include_str!("../../infra/local/nginx.conf.template");
const MAP_HEAD: &str = "map \"$status $request_uri\" $api_allowed_methods {";

/// The entries of the nginx map, each `"~^405 <path>(\?|$)" "<METHOD,…>";` where a parameter is
/// `[^/?]+`. Any other shape fails: the table stays simple enough to read back.
fn nginx_table() -> AllowTable {
    let (_, rest) = TEMPLATE
        .split_once(MAP_HEAD)
        .expect("nginx.conf.template has the $api_allowed_methods map");
    let (block, _) = rest.split_once('}').expect("the map is closed");
    let mut table = AllowTable::new();
    for line in block.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with("default ") {
            continue;
        }
        let entry = line
            .strip_prefix("\"~^405 ")
            .and_then(|entry| entry.strip_suffix("\";"))
            .unwrap_or_else(|| panic!("an entry not of the expected shape: {line}"));
        let (path, methods) = entry
            .split_once("(\\?|$)\" \"")
            .unwrap_or_else(|| panic!("an entry not of the expected shape: {line}"));
        let path = path.replace("[^/?]+", "{id}");
        let methods = methods.split(',').map(str::to_owned).collect();
        assert!(
            table.insert(path, methods).is_none(),
            "{line} is there twice"
        );
    }
    table
}

/// The same table from the fleet's document: its operations per path (HEAD wherever GET is, as
/// the services answer it), parameters written `{id}`.
fn document_table() -> AllowTable {
    let doc = serde_json::to_value(fleet().expect("the documents merge")).expect("serializes");
    let mut table = AllowTable::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let template = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "{id}"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let mut methods: BTreeSet<String> = item
            .as_object()
            .expect("a path item")
            .keys()
            .map(|method| method.to_ascii_uppercase())
            .collect();
        if methods.contains("GET") {
            methods.insert("HEAD".to_owned());
        }
        table.insert(template, methods);
    }
    table
}

#[test]
fn the_ingress_allows_what_the_document_describes() {
    assert_eq!(nginx_table(), document_table());
}
