//! The ingresses state what each API path allows, for the one 405 nginx answers itself (TRACE,
//! refused before any route): the local one (infra/local/nginx.conf.template) and the Kubernetes
//! one (api-errors, infra/k8s/services/api-errors.yaml, which ingress-nginx asks for that 405).
//! Each table must be the fleet document's, path for path and method for method, or that 405
//! would name methods a path does not have.

use std::collections::{BTreeMap, BTreeSet};

use ticketing_api_docs::fleet;

/// Path template (parameters written `{id}`) → the methods its 405 names.
type AllowTable = BTreeMap<String, BTreeSet<String>>;

const TEMPLATE: &str = include_str!("../../infra/local/nginx.conf.template");
const API_ERRORS: &str = include_str!("../../infra/k8s/services/api-errors.yaml");

/// The local map keys on the request's own URI; api-errors on the one ingress-nginx sends it.
const LOCAL_MAP_HEAD: &str = "map \"$status $request_uri\" $api_allowed_methods {";
const API_ERRORS_MAP_HEAD: &str = "map \"$status $http_x_original_uri\" $api_allowed_methods {";

/// The entries of the nginx map that opens with `map_head` in `config`, each
/// `"~^405 <path>(\?|$)" "<METHOD,…>";` where a parameter is `[^/?]+`. Any other shape fails:
/// the table stays simple enough to read back.
fn nginx_table(config: &str, map_head: &str) -> AllowTable {
    let (_, rest) = config
        .split_once(map_head)
        .unwrap_or_else(|| panic!("the config has {map_head}"));
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
    assert_eq!(nginx_table(TEMPLATE, LOCAL_MAP_HEAD), document_table());
}

#[test]
fn the_kubernetes_ingress_allows_what_the_document_describes() {
    let config = infra_checks::config_map_file(API_ERRORS, "default.conf")
        .expect("api-errors' nginx configuration");
    assert!(
        config.contains("add_header Allow $api_allowed_methods always;"),
        "api-errors' answers carry the table's Allow"
    );
    assert_eq!(nginx_table(&config, API_ERRORS_MAP_HEAD), document_table());
}
