//! Every document of infra/k8s/*.yaml is a typed Kubernetes API object with no unknown field, no
//! wrong type and no missing required field — and the strict parsing really rejects those.

use std::collections::BTreeSet;

use infra_checks::manifests::{self, Variant, parse_object};
use infra_checks::parse_yaml_documents;

fn problems_of(yaml: &str) -> String {
    let documents = parse_yaml_documents(yaml).expect("the test YAML is valid YAML");
    let [document] = documents.as_slice() else {
        panic!("one document expected");
    };
    match parse_object(document) {
        Ok(object) => panic!("accepted: {object:?}"),
        Err(e) => e,
    }
}

#[test]
fn every_manifest_document_parses_into_its_typed_api_object() {
    for (variant, manifests) in manifests::load_all() {
        assert!(
            manifests.documents.len() >= 30,
            "{}: expected every component's manifests, found {} documents",
            variant.name(),
            manifests.documents.len()
        );
        let kinds: BTreeSet<&str> = manifests.documents.iter().map(|d| d.kind()).collect();
        let mut expected = BTreeSet::from([
            "ConfigMap",
            "Deployment",
            "Ingress",
            "NetworkPolicy",
            "Service",
            "StatefulSet",
        ]);
        if variant == Variant::Gke {
            expected.extend([
                "ClusterIssuer",
                "HorizontalPodAutoscaler",
                "PodDisruptionBudget",
            ]);
        }
        assert_eq!(kinds, expected, "{}: kinds found", variant.name());
    }
}

#[test]
fn every_manifest_file_is_deployed_by_some_variant() {
    let all: BTreeSet<String> = manifests::manifest_files()
        .expect("the manifest files")
        .into_iter()
        .collect();
    let mut used = BTreeSet::new();
    for variant in Variant::ALL {
        used.extend(manifests::variant_files(variant).unwrap_or_else(|e| panic!("{e}")));
    }
    assert_eq!(
        all, used,
        "every YAML file under infra/k8s/ is applied by some variant (and only those are)"
    );
}

#[test]
fn names_are_unique_per_kind() {
    for (variant, manifests) in manifests::load_all() {
        let mut seen = BTreeSet::new();
        for document in &manifests.documents {
            assert!(
                seen.insert((document.kind(), document.name().to_string())),
                "{}: {} is defined twice",
                variant.name(),
                document.describe()
            );
            assert!(
                document.raw.pointer("/metadata/namespace").is_none(),
                "{}: no namespace in the manifests (they go to the context's namespace)",
                document.describe()
            );
        }
    }
}

/// A valid Deployment, which the negative tests below break one way each.
const VALID: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: probe-depl
spec:
  replicas: 1
  selector:
    matchLabels:
      app: probe
  template:
    metadata:
      labels:
        app: probe
    spec:
      containers:
        - name: probe
          image: ticketing/probe
          ports:
            - containerPort: 3000
          volumeMounts:
            - name: scratch
              mountPath: /tmp
      volumes:
        - name: scratch
          emptyDir: {}
"#;

#[test]
fn the_valid_example_is_accepted() {
    let documents = parse_yaml_documents(VALID).expect("valid YAML");
    parse_object(&documents[0]).expect("the example is valid");
}

#[test]
fn a_misspelt_field_is_rejected_with_its_path() {
    let problems = problems_of(&VALID.replace("      containers:", "      contianers:"));
    assert!(
        problems.contains("unknown field `spec.template.spec.contianers`"),
        "{problems}"
    );
    let problems = problems_of(&VALID.replace(
        "containerPort: 3000",
        "containerPort: 3000\n              protocl: TCP",
    ));
    assert!(
        problems.contains("unknown field `spec.template.spec.containers[0].ports[0].protocl`"),
        "{problems}"
    );
}

#[test]
fn a_wrong_type_is_rejected() {
    let problems = problems_of(&VALID.replace("replicas: 1", "replicas: two"));
    assert!(
        problems.contains("does not parse as apps/v1 Deployment"),
        "{problems}"
    );
    let problems = problems_of(&VALID.replace(
        "          ports:",
        "          env:\n            - name: PORT\n              value: 3000\n          ports:",
    ));
    assert!(
        problems.contains("does not parse"),
        "an env value must be a string: {problems}"
    );
}

#[test]
fn an_empty_value_the_type_would_drop_is_rejected() {
    let problems = problems_of(&VALID.replace("emptyDir: {}", "emptyDir:"));
    assert!(
        problems.contains("`spec.template.spec.volumes[0].emptyDir` is empty (null)"),
        "{problems}"
    );
}

#[test]
fn a_missing_required_field_is_rejected() {
    let problems = problems_of(&VALID.replace("- name: probe\n          image:", "- image:"));
    assert!(
        problems.contains("missing required field `spec.template.spec.containers[0].name`"),
        "{problems}"
    );
}

#[test]
fn an_unknown_kind_or_api_version_and_a_committed_secret_are_rejected() {
    let problems = problems_of(&VALID.replace("apps/v1", "extensions/v1beta1"));
    assert!(
        problems.contains("is not a kind these checks know"),
        "{problems}"
    );
    let problems = problems_of("apiVersion: v1\nkind: Secret\nmetadata:\n  name: jwt-secret\n");
    assert!(problems.contains("a Secret is committed"), "{problems}");
}
