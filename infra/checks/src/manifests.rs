//! The Kubernetes manifests of `infra/k8s/`, parsed into k8s-openapi's typed API objects, as
//! each deployment gets them ([`Variant`]): what skaffold deploys for a profile (its `rawYaml`)
//! plus the backing services applied with kubectl for that cluster kind.
//!
//! k8s-openapi's types skip fields they do not know and default required fields that are
//! missing, as the API server's lenient decoding would not; so each document is deserialized
//! into its type, serialized back to JSON, and compared with the original document:
//! - a key of the original that is gone after the round trip is an unknown field (`contianers`)
//!   or a null value the type drops (`emptyDir:` with nothing after it);
//! - a key that appears after the round trip is a required field the original lacks (except the
//!   `apiVersion` and `kind` of an embedded object, which the types always write);
//! - a wrong type (`replicas: "two"`, a number for an env var's `value`) fails deserialization.

use std::collections::BTreeMap;

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Container, EnvVar, PodTemplateSpec, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::serde::Serialize;
use k8s_openapi::serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{glob, load_yaml_file, parse_yaml_documents, read_repo_file, repo_root};

/// Where the manifests live, relative to the repository root.
pub const MANIFEST_DIR: &str = "infra/k8s";

/// The custom resources the manifests may hold (cert-manager's, on GKE): `(apiVersion, kind)`.
/// k8s-openapi has no types for them; scripts/k8s-checks.sh validates them against the schema
/// vendored in infra/checks/schemas/, and the tests here check what they refer to.
pub const CUSTOM_KINDS: [(&str, &str); 1] = [("cert-manager.io/v1", "ClusterIssuer")];

/// One way the fleet is deployed: a cluster kind with its skaffold profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Variant {
    /// minikube: `skaffold dev` / `skaffold run` without a profile.
    Minikube,
    /// GKE: `skaffold run -p gke`.
    Gke,
}

impl Variant {
    pub const ALL: [Variant; 2] = [Variant::Minikube, Variant::Gke];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Minikube => "minikube",
            Variant::Gke => "gke",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The skaffold profile that deploys it (`None`: the default configuration).
    pub fn profile(self) -> Option<&'static str> {
        match self {
            Variant::Minikube => None,
            Variant::Gke => Some("gke"),
        }
    }

    /// The folders applied with `kubectl apply -f` before skaffold runs (infra/k8s/README.md):
    /// the backing services and the NetworkPolicies, never deployed by skaffold.
    pub fn backing_dirs(self) -> [&'static str; 2] {
        match self {
            Variant::Minikube => ["infra/k8s/backing", "infra/k8s/backing-minikube"],
            Variant::Gke => ["infra/k8s/backing", "infra/k8s/backing-gke"],
        }
    }
}

/// The `manifests.rawYaml` patterns skaffold deploys for `variant`: the profile's own list when
/// it has one (a profile's list replaces the base list), else the base list.
pub fn skaffold_raw_yaml(variant: Variant) -> Result<Vec<String>, String> {
    let config = load_yaml_file("skaffold.yaml")?;
    let base = config.pointer("/manifests/rawYaml");
    let list = match variant.profile() {
        None => base,
        Some(name) => {
            let profile = config
                .get("profiles")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
                .ok_or_else(|| format!("skaffold.yaml: no profile {name}"))?;
            profile.pointer("/manifests/rawYaml").or(base)
        }
    };
    let list = list
        .and_then(Value::as_array)
        .ok_or_else(|| format!("skaffold.yaml: no manifests.rawYaml for {}", variant.name()))?;
    list.iter()
        .map(|v| {
            v.as_str()
                .map(String::from)
                .ok_or_else(|| "skaffold.yaml: a rawYaml entry is not a string".to_string())
        })
        .collect()
}

/// Every manifest file of `variant`, relative to the repository root, in apply order: the
/// backing folders, then skaffold's `rawYaml` matches.
pub fn variant_files(variant: Variant) -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    for dir in variant.backing_dirs() {
        let found = yaml_files_in(dir)?;
        if found.is_empty() {
            return Err(format!("{dir}: no manifests"));
        }
        files.extend(found);
    }
    for pattern in skaffold_raw_yaml(variant)? {
        let found = glob::expand(&repo_root(), &pattern)?;
        if found.is_empty() {
            return Err(format!("skaffold.yaml: rawYaml {pattern} matches no file"));
        }
        files.extend(found);
    }
    Ok(files)
}

/// The `*.yaml`/`*.yml` files directly in `dir` (relative to the repository root), sorted.
pub fn yaml_files_in(dir: &str) -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir(repo_root().join(dir)).map_err(|e| format!("{dir}: {e}"))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{dir}: {e}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
            files.push(format!("{dir}/{name}"));
        }
    }
    files.sort();
    Ok(files)
}

/// The kinds the manifests may contain. A Secret is deliberately not one of them: secrets are
/// created with `kubectl create secret` (infra/k8s/README.md), never committed.
#[derive(Debug)]
pub enum Object {
    Deployment(Box<Deployment>),
    StatefulSet(Box<StatefulSet>),
    Service(Box<Service>),
    Ingress(Box<Ingress>),
    NetworkPolicy(Box<NetworkPolicy>),
    HorizontalPodAutoscaler(Box<HorizontalPodAutoscaler>),
    PodDisruptionBudget(Box<PodDisruptionBudget>),
    ConfigMap(Box<ConfigMap>),
    /// One of [`CUSTOM_KINDS`]: its kind and name (the document itself is in `raw`).
    Custom {
        kind: &'static str,
        name: String,
    },
}

/// One YAML document of one manifest file.
#[derive(Debug)]
pub struct Document {
    /// The file, relative to the repository root.
    pub file: String,
    /// The document's position in its file, from 0.
    pub index: usize,
    /// The document as written.
    pub raw: Value,
    pub object: Object,
}

impl Document {
    pub fn kind(&self) -> &'static str {
        match self.object {
            Object::Deployment(_) => Deployment::KIND,
            Object::StatefulSet(_) => StatefulSet::KIND,
            Object::Service(_) => Service::KIND,
            Object::Ingress(_) => Ingress::KIND,
            Object::NetworkPolicy(_) => NetworkPolicy::KIND,
            Object::HorizontalPodAutoscaler(_) => HorizontalPodAutoscaler::KIND,
            Object::PodDisruptionBudget(_) => PodDisruptionBudget::KIND,
            Object::ConfigMap(_) => ConfigMap::KIND,
            Object::Custom { kind, .. } => kind,
        }
    }

    pub fn name(&self) -> &str {
        let name = match &self.object {
            Object::Deployment(o) => &o.metadata.name,
            Object::StatefulSet(o) => &o.metadata.name,
            Object::Service(o) => &o.metadata.name,
            Object::Ingress(o) => &o.metadata.name,
            Object::NetworkPolicy(o) => &o.metadata.name,
            Object::HorizontalPodAutoscaler(o) => &o.metadata.name,
            Object::PodDisruptionBudget(o) => &o.metadata.name,
            Object::ConfigMap(o) => &o.metadata.name,
            Object::Custom { name, .. } => return name,
        };
        name.as_deref().unwrap_or("<unnamed>")
    }

    /// `infra/k8s/auth-depl.yaml#0 Deployment/auth-depl`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{}#{} {}/{}",
            self.file,
            self.index,
            self.kind(),
            self.name()
        )
    }
}

/// Deserializes `raw` into the API type its `apiVersion` and `kind` name, strictly (see the
/// module documentation).
pub fn parse_object(raw: &Value) -> Result<Object, String> {
    let field = |name: &str| raw.get(name).and_then(Value::as_str).unwrap_or("");
    let (api_version, kind) = (field("apiVersion"), field("kind"));
    if api_version.is_empty() || kind.is_empty() {
        return Err("a document without `apiVersion` and `kind`".into());
    }
    let is = |v: &str, k: &str| api_version == v && kind == k;
    if is(Deployment::API_VERSION, Deployment::KIND) {
        strict::<Deployment>(raw).map(|o| Object::Deployment(Box::new(o)))
    } else if is(StatefulSet::API_VERSION, StatefulSet::KIND) {
        strict::<StatefulSet>(raw).map(|o| Object::StatefulSet(Box::new(o)))
    } else if is(Service::API_VERSION, Service::KIND) {
        strict::<Service>(raw).map(|o| Object::Service(Box::new(o)))
    } else if is(Ingress::API_VERSION, Ingress::KIND) {
        strict::<Ingress>(raw).map(|o| Object::Ingress(Box::new(o)))
    } else if is(NetworkPolicy::API_VERSION, NetworkPolicy::KIND) {
        strict::<NetworkPolicy>(raw).map(|o| Object::NetworkPolicy(Box::new(o)))
    } else if is(
        HorizontalPodAutoscaler::API_VERSION,
        HorizontalPodAutoscaler::KIND,
    ) {
        strict::<HorizontalPodAutoscaler>(raw).map(|o| Object::HorizontalPodAutoscaler(Box::new(o)))
    } else if is(PodDisruptionBudget::API_VERSION, PodDisruptionBudget::KIND) {
        strict::<PodDisruptionBudget>(raw).map(|o| Object::PodDisruptionBudget(Box::new(o)))
    } else if is(ConfigMap::API_VERSION, ConfigMap::KIND) {
        strict::<ConfigMap>(raw).map(|o| Object::ConfigMap(Box::new(o)))
    } else if let Some((_, custom)) = CUSTOM_KINDS.iter().find(|(v, k)| is(v, k)) {
        let name = raw
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("{custom} without metadata.name"))?;
        Ok(Object::Custom {
            kind: custom,
            name: name.to_string(),
        })
    } else if kind == "Secret" {
        Err("a Secret is committed: create it with `kubectl create secret` instead (infra/k8s/README.md)".into())
    } else {
        Err(format!(
            "`{api_version}` `{kind}` is not a kind these checks know (a typo, an old apiVersion, \
             or a new kind: then add it to infra/checks/src/manifests.rs)"
        ))
    }
}

/// Deserializes `raw` into `T` and fails on anything the round trip does not preserve.
pub fn strict<T>(raw: &Value) -> Result<T, String>
where
    T: Resource + DeserializeOwned + Serialize,
{
    let object: T = serde_json::from_value(raw.clone())
        .map_err(|e| format!("does not parse as {} {}: {e}", T::API_VERSION, T::KIND))?;
    let round_trip = serde_json::to_value(&object)
        .map_err(|e| format!("{} does not serialize back: {e}", T::KIND))?;
    let mut problems = Vec::new();
    compare(raw, &round_trip, "", &mut problems);
    if problems.is_empty() {
        Ok(object)
    } else {
        Err(problems.join("; "))
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Appends to `out` every difference between a document and its typed round trip.
pub fn compare(original: &Value, round_trip: &Value, path: &str, out: &mut Vec<String>) {
    match (original, round_trip) {
        (Value::Object(written), Value::Object(read)) => {
            for (key, value) in written {
                let here = join(path, key);
                match read.get(key) {
                    Some(back) => compare(value, back, &here, out),
                    None if value.is_null() => out.push(format!(
                        "`{here}` is empty (null): the API type drops it; write `{{}}` or a value"
                    )),
                    None => out.push(format!("unknown field `{here}`")),
                }
            }
            // An object embedded whole (a StatefulSet's volumeClaimTemplates) serializes its
            // `apiVersion` and `kind`, which the API does not ask of the manifest.
            let embedded = |key: &str| !path.is_empty() && (key == "apiVersion" || key == "kind");
            for key in read
                .keys()
                .filter(|key| !written.contains_key(*key) && !embedded(key))
            {
                out.push(format!("missing required field `{}`", join(path, key)));
            }
        }
        (Value::Array(written), Value::Array(read)) if written.len() == read.len() => {
            for (i, (value, back)) in written.iter().zip(read).enumerate() {
                compare(value, back, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        (a, b) => out.push(format!("`{path}`: {a} reads back as {b}")),
    }
}

/// All manifests, parsed.
#[derive(Debug)]
pub struct Manifests {
    pub documents: Vec<Document>,
}

/// Every manifest file of the repository, relative to its root, sorted: each `*.yaml`/`*.yml`
/// anywhere under `infra/k8s/`.
pub fn manifest_files() -> Result<Vec<String>, String> {
    let mut files = glob::expand(&repo_root(), &format!("{MANIFEST_DIR}/**"))?;
    files.retain(|f| f.ends_with(".yaml") || f.ends_with(".yml"));
    Ok(files)
}

/// The manifests of one deployment variant, parsed.
pub fn load(variant: Variant) -> Result<Manifests, Vec<String>> {
    let files = variant_files(variant).map_err(|e| vec![e])?;
    load_files(files).map_err(|problems| {
        problems
            .into_iter()
            .map(|p| format!("[{}] {p}", variant.name()))
            .collect()
    })
}

/// Every variant's manifests; panics with every problem found (for the tests).
pub fn load_all() -> Vec<(Variant, Manifests)> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for variant in Variant::ALL {
        match load(variant) {
            Ok(manifests) => out.push((variant, manifests)),
            Err(p) => problems.extend(p),
        }
    }
    assert!(
        problems.is_empty(),
        "the manifests have problems:\n  {}",
        problems.join("\n  ")
    );
    out
}

/// The text of `files` as one YAML stream, as written (what `kubectl apply -f` and skaffold's
/// rawYaml send, before skaffold's labels and image tags), each file headed by a comment naming it.
pub fn render(files: &[String]) -> Result<String, String> {
    let mut out = String::new();
    for file in files {
        let text = read_repo_file(file)?;
        out.push_str(&format!(
            "---\n# {file}\n{}",
            text.trim_start_matches("---\n")
        ));
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

/// Parses every document of `files`; the error lists every problem found.
pub fn load_files(files: Vec<String>) -> Result<Manifests, Vec<String>> {
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let raws = match read_repo_file(&file).and_then(|text| parse_yaml_documents(&text)) {
            Ok(raws) => raws,
            Err(e) => {
                problems.push(format!("{file}: {e}"));
                continue;
            }
        };
        for (index, raw) in raws.into_iter().enumerate() {
            match parse_object(&raw) {
                Ok(object) => documents.push(Document {
                    file: file.clone(),
                    index,
                    raw,
                    object,
                }),
                Err(e) => problems.push(format!("{file}#{index}: {e}")),
            }
        }
    }
    if problems.is_empty() {
        Ok(Manifests { documents })
    } else {
        Err(problems)
    }
}

/// A Deployment or a StatefulSet: what runs pods.
#[derive(Debug, Clone, Copy)]
pub struct Workload<'a> {
    pub kind: &'static str,
    pub name: &'a str,
    pub match_labels: Option<&'a BTreeMap<String, String>>,
    pub template: &'a PodTemplateSpec,
    pub document: &'a Document,
}

impl<'a> Workload<'a> {
    pub fn labels(&self) -> Option<&'a BTreeMap<String, String>> {
        self.template.metadata.as_ref()?.labels.as_ref()
    }

    pub fn containers(&self) -> &'a [Container] {
        self.template
            .spec
            .as_ref()
            .map(|spec| spec.containers.as_slice())
            .unwrap_or_default()
    }
}

impl Manifests {
    pub fn deployments(&self) -> impl Iterator<Item = &Deployment> {
        self.documents.iter().filter_map(|d| match &d.object {
            Object::Deployment(o) => Some(o.as_ref()),
            _ => None,
        })
    }

    pub fn stateful_sets(&self) -> impl Iterator<Item = &StatefulSet> {
        self.documents.iter().filter_map(|d| match &d.object {
            Object::StatefulSet(o) => Some(o.as_ref()),
            _ => None,
        })
    }

    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.documents.iter().filter_map(|d| match &d.object {
            Object::Service(o) => Some(o.as_ref()),
            _ => None,
        })
    }

    pub fn ingresses(&self) -> impl Iterator<Item = &Ingress> {
        self.documents.iter().filter_map(|d| match &d.object {
            Object::Ingress(o) => Some(o.as_ref()),
            _ => None,
        })
    }

    pub fn network_policies(&self) -> impl Iterator<Item = &NetworkPolicy> {
        self.documents.iter().filter_map(|d| match &d.object {
            Object::NetworkPolicy(o) => Some(o.as_ref()),
            _ => None,
        })
    }

    pub fn autoscalers(&self) -> impl Iterator<Item = &HorizontalPodAutoscaler> {
        self.documents.iter().filter_map(|d| match &d.object {
            Object::HorizontalPodAutoscaler(o) => Some(o.as_ref()),
            _ => None,
        })
    }

    pub fn disruption_budgets(&self) -> impl Iterator<Item = &PodDisruptionBudget> {
        self.documents.iter().filter_map(|d| match &d.object {
            Object::PodDisruptionBudget(o) => Some(o.as_ref()),
            _ => None,
        })
    }

    pub fn config_maps(&self) -> impl Iterator<Item = &ConfigMap> {
        self.documents.iter().filter_map(|d| match &d.object {
            Object::ConfigMap(o) => Some(o.as_ref()),
            _ => None,
        })
    }

    pub fn config_map(&self, name: &str) -> Option<&ConfigMap> {
        self.config_maps()
            .find(|c| c.metadata.name.as_deref() == Some(name))
    }

    pub fn custom(&self, kind: &str) -> impl Iterator<Item = &Document> {
        self.documents
            .iter()
            .filter(move |d| matches!(&d.object, Object::Custom { kind: k, .. } if *k == kind))
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services()
            .find(|s| s.metadata.name.as_deref() == Some(name))
    }

    pub fn deployment(&self, name: &str) -> Option<&Deployment> {
        self.deployments()
            .find(|d| d.metadata.name.as_deref() == Some(name))
    }

    pub fn workloads(&self) -> Vec<Workload<'_>> {
        let mut out = Vec::new();
        for document in &self.documents {
            let name = document.name();
            match &document.object {
                Object::Deployment(o) => {
                    if let Some(spec) = &o.spec {
                        out.push(Workload {
                            kind: Deployment::KIND,
                            name,
                            match_labels: spec.selector.match_labels.as_ref(),
                            template: &spec.template,
                            document,
                        });
                    }
                }
                Object::StatefulSet(o) => {
                    if let Some(spec) = &o.spec {
                        out.push(Workload {
                            kind: StatefulSet::KIND,
                            name,
                            match_labels: spec.selector.match_labels.as_ref(),
                            template: &spec.template,
                            document,
                        });
                    }
                }
                _ => {}
            }
        }
        out
    }
}

/// A container's environment by variable name (the last one wins, as in Kubernetes).
pub fn env_of(container: &Container) -> BTreeMap<&str, &EnvVar> {
    container
        .env
        .iter()
        .flatten()
        .map(|var| (var.name.as_str(), var))
        .collect()
}

/// `true` when every label of `selector` is among `labels`.
pub fn selects(
    selector: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    let Some(labels) = labels else {
        return false;
    };
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}
