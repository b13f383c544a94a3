//! Offline checks of the deployment, run by `cargo test -p infra-checks` (and so by
//! `scripts/test.sh`): no Docker engine or cluster is needed.
//!
//! - [`manifests`]: every document of each deployment variant's manifests (`infra/k8s/**`) parsed into its typed Kubernetes API
//!   object (k8s-openapi), with the round trip that turns the types' silent dropping of unknown
//!   fields into an error;
//! - `schema` (feature `schema`, on for the tests): skaffold's published JSON Schema, validated
//!   by `jsonschema`, its errors in the checked file's terms;
//! - [`glob`]: the glob patterns skaffold and .dockerignore use (`rawYaml`, sync rules), matched
//!   by `globset`;
//! - [`routes`]: the routes of the local nginx template and of the Ingress.
//!
//! The checks themselves are the tests in `tests/`.

pub mod glob;
pub mod manifests;
pub mod routes;
#[cfg(feature = "schema")]
pub mod schema;

use std::path::PathBuf;

use serde_json::Value;

/// The repository root (this crate lives in `infra/checks`), or `INFRA_CHECKS_ROOT` when set:
/// the checks can then be pointed at a modified copy of the repository (to see them fail).
pub fn repo_root() -> PathBuf {
    if let Some(root) = std::env::var_os("INFRA_CHECKS_ROOT") {
        return PathBuf::from(root);
    }
    // Cargo sets CARGO_MANIFEST_DIR when it runs the tests; the compile-time value is the
    // fallback for a test binary started by hand.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let root = manifest_dir.join("../..");
    root.canonicalize().unwrap_or(root)
}

/// A file of the repository as text; the error names the file.
pub fn read_repo_file(relative: &str) -> Result<String, String> {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path).map_err(|e| format!("{relative}: cannot read: {e}"))
}

/// Every document of a (multi-document) YAML text, as JSON values. Empty documents (a stray
/// `---`) are skipped.
pub fn parse_yaml_documents(text: &str) -> Result<Vec<Value>, String> {
    use k8s_openapi::serde::Deserialize as _;
    let mut documents = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(document)
            .map_err(|e| format!("document {index}: not valid YAML: {e}"))?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// A single-document YAML file of the repository as a JSON value.
pub fn load_yaml_file(relative: &str) -> Result<Value, String> {
    let text = read_repo_file(relative)?;
    let mut documents = parse_yaml_documents(&text).map_err(|e| format!("{relative}: {e}"))?;
    match documents.len() {
        1 => Ok(documents.remove(0)),
        n => Err(format!("{relative}: expected one YAML document, found {n}")),
    }
}

/// The file `key` of the ConfigMap's `data` in a (multi-document) YAML text, e.g. the nginx
/// configuration a ConfigMap mounts.
pub fn config_map_file(yaml: &str, key: &str) -> Result<String, String> {
    parse_yaml_documents(yaml)?
        .iter()
        .filter(|document| document["kind"] == "ConfigMap")
        .find_map(|config_map| config_map["data"][key].as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("no ConfigMap holds {key}"))
}

/// Every string found at `key` anywhere inside `value` (e.g. every `run:` of a workflow).
pub fn strings_at_key<'a>(value: &'a Value, key: &str, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key
                    && let Some(s) = v.as_str()
                {
                    out.push(s);
                }
                strings_at_key(v, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| strings_at_key(v, key, out)),
        _ => {}
    }
}
