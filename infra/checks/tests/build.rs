//! skaffold.yaml (against skaffold's own schema, and against the manifests), the Dockerfile and
//! its .dockerignore, the routes of the local nginx against the Ingress, the README's secret
//! commands, and the GitHub workflows.

use std::collections::BTreeSet;

use infra_checks::manifests::{self, Manifests, Variant, manifest_files};
use infra_checks::routes::{
    Route, ingress_paths, ingress_route, nginx_comment_routes, nginx_location_routes,
};
use infra_checks::schema::Schema;
use infra_checks::{
    glob, load_yaml_file, parse_yaml_documents, read_repo_file, repo_root, strings_at_key,
};
use serde_json::{Value, json};

const RUST_SERVICES: [&str; 5] = ["auth", "tickets", "orders", "payments", "expiration"];
const SKAFFOLD_API_VERSION: &str = "skaffold/v4beta14";
/// The first skaffold release that reads `skaffold/v4beta14`.
const SKAFFOLD_MIN_VERSION: [u32; 3] = [2, 19, 0];

/// The manifests of every deployment variant (minikube, gke).
fn load_all() -> Vec<(Variant, Manifests)> {
    manifests::load_all()
}

fn skaffold() -> Value {
    load_yaml_file("skaffold.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn skaffold_schema() -> Schema {
    let text = read_repo_file("infra/checks/schemas/skaffold-v4beta14.json")
        .unwrap_or_else(|e| panic!("{e}"));
    let schema = serde_json::from_str(&text).expect("the vendored schema is JSON");
    Schema::new(&schema).unwrap_or_else(|e| panic!("{e}"))
}

fn artifacts(config: &Value) -> &[Value] {
    config
        .pointer("/build/artifacts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

// ---------------------------------------------------------------------------------------------
// skaffold.yaml

#[test]
fn skaffold_yaml_is_valid_against_skaffolds_schema() {
    let config = skaffold();
    assert_eq!(
        str_at(&config, "/apiVersion"),
        Some(SKAFFOLD_API_VERSION),
        "apiVersion (the vendored schema's)"
    );
    assert_eq!(str_at(&config, "/kind"), Some("Config"));
    let errors = skaffold_schema().validate(&config);
    assert!(
        errors.is_empty(),
        "skaffold.yaml:\n  {}",
        errors.join("\n  ")
    );
}

#[test]
fn the_schema_check_rejects_unknown_fields_wrong_types_and_two_builders() {
    let schema = skaffold_schema();
    let mut config = skaffold();
    config["build"]["artifacts"][0]["docker"]["buildArg"] = json!({"SERVICE": "auth"});
    let errors = schema.validate(&config).join("\n");
    assert!(
        errors.contains("unknown field `build.artifacts[0].docker.buildArg`"),
        "{errors}"
    );

    let mut config = skaffold();
    config["build"]["local"]["push"] = json!("no");
    let errors = schema.validate(&config).join("\n");
    assert!(
        errors.contains("`build.local.push`: expected \"boolean\""),
        "{errors}"
    );

    let mut config = skaffold();
    config["build"]["artifacts"][0]["ko"] = json!({});
    let errors = schema.validate(&config).join("\n");
    assert!(
        errors.contains("matches none of the schema's alternatives"),
        "docker and ko at once: {errors}"
    );

    let mut config = skaffold();
    config["profiles"][0]["deploy"]["kubectll"] = json!({});
    assert!(
        !schema.validate(&config).is_empty(),
        "a typo inside a profile"
    );
}

#[test]
fn skaffold_deploys_the_services_of_each_profile_and_never_the_backing_folders() {
    let config = skaffold();
    let mut deployed = BTreeSet::new();
    for variant in Variant::ALL {
        let patterns = manifests::skaffold_raw_yaml(variant).unwrap_or_else(|e| panic!("{e}"));
        for pattern in &patterns {
            let files = glob::expand(&repo_root(), pattern).unwrap_or_else(|e| panic!("{e}"));
            assert!(!files.is_empty(), "rawYaml {pattern} matches no file");
            for file in &files {
                assert!(
                    file.ends_with(".yaml"),
                    "{file}: README.md and friends are not manifests"
                );
                assert!(
                    !variant
                        .backing_dirs()
                        .iter()
                        .any(|d| file.starts_with(&format!("{d}/"))),
                    "{file}: skaffold must not deploy the backing services (a new run id in \
                     their pod templates restarts them on every deploy)"
                );
            }
            deployed.extend(files);
        }
    }
    let all: BTreeSet<String> = manifest_files()
        .expect("the manifest files")
        .into_iter()
        .filter(|f| !f.contains("/backing"))
        .collect();
    assert_eq!(
        deployed, all,
        "the files skaffold deploys (some profile) vs the manifests outside the backing folders"
    );
    assert!(
        config.pointer("/deploy/kubectl").is_some(),
        "deploy.kubectl"
    );
}

#[test]
fn every_image_we_deploy_is_built_by_skaffold_and_every_artifact_is_deployed() {
    let config = skaffold();
    // Artifacts other artifacts are built on (`requires`), not deployed themselves.
    let bases: BTreeSet<&str> = artifacts(&config)
        .iter()
        .flat_map(|a| {
            a.get("requires")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|r| str_at(r, "/image"))
        .collect();
    for (_, manifests) in load_all() {
        let built: BTreeSet<&str> = artifacts(&config)
            .iter()
            .filter_map(|a| str_at(a, "/image"))
            .collect();
        assert_eq!(
            built.len(),
            artifacts(&config).len(),
            "one artifact per image"
        );
        let mut ours = BTreeSet::new();
        for workload in manifests.workloads() {
            for container in workload.containers() {
                let image = container.image.as_deref().unwrap_or_default();
                if image.starts_with("ticketing/") {
                    assert!(
                        built.contains(image),
                        "{}: image {image} is built by no skaffold artifact",
                        workload.name
                    );
                    ours.insert(image);
                } else {
                    // A public image: pinned to a version, never `latest`.
                    let tag = image
                        .rsplit_once(':')
                        .map(|(_, tag)| tag)
                        .unwrap_or_default();
                    assert!(
                        !tag.is_empty() && tag != "latest",
                        "{}: {image} has no version tag",
                        workload.name
                    );
                }
            }
        }
        let deployable: BTreeSet<&str> = built.difference(&bases).copied().collect();
        assert_eq!(
            ours, deployable,
            "every artifact is used by a Deployment (or is a base of others)"
        );
    }
    for profile in config
        .get("profiles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        assert!(
            profile.pointer("/build/artifacts").is_none(),
            "profile {}: keeps the artifacts (--default-repo renames them for a registry)",
            profile["name"]
        );
    }
}

/// The package name in a Cargo.toml's `[package]` section.
fn package_name(manifest: &str) -> Option<String> {
    let package = manifest
        .split("\n[")
        .find(|s| s.trim_start_matches('[').starts_with("package]"))?;
    package.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "name").then(|| value.trim().trim_matches('"').to_string())
    })
}

#[test]
fn rust_artifacts_build_the_top_dockerfile_for_their_service() {
    let config = skaffold();
    let mut services = BTreeSet::new();
    for artifact in artifacts(&config) {
        let image = str_at(artifact, "/image").unwrap_or_default();
        let Some(service) = image
            .strip_prefix("ticketing/")
            .filter(|s| RUST_SERVICES.contains(s))
        else {
            continue;
        };
        services.insert(service);
        assert_eq!(
            str_at(artifact, "/context").unwrap_or("."),
            ".",
            "{image}: the context is the workspace root"
        );
        assert_eq!(
            str_at(artifact, "/docker/dockerfile").unwrap_or("Dockerfile"),
            "Dockerfile",
            "{image}"
        );
        assert_eq!(
            str_at(artifact, "/docker/buildArgs/SERVICE"),
            Some(service),
            "{image}: buildArgs.SERVICE"
        );
        let manifest = read_repo_file(&format!("services/{service}/Cargo.toml"));
        match manifest {
            Ok(manifest) => assert_eq!(
                package_name(&manifest).as_deref(),
                Some(service),
                "services/{service}/Cargo.toml: the package (and binary) is named {service}"
            ),
            Err(e) => eprintln!("note: {e} (the service is not in this checkout yet)"),
        }
    }
    assert_eq!(
        services,
        RUST_SERVICES.into(),
        "an artifact per Rust service"
    );
    // And the other way round: every service crate of the workspace is built.
    for entry in std::fs::read_dir(repo_root().join("services")).expect("services/") {
        let dir = entry
            .expect("a directory entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if repo_root()
            .join(format!("services/{dir}/src/main.rs"))
            .exists()
        {
            assert!(
                services.contains(dir.as_str()),
                "services/{dir} has a binary but no skaffold artifact"
            );
        }
    }
}

#[test]
fn the_client_artifact_builds_client_and_syncs_sources_that_exist() {
    let config = skaffold();
    let client = artifacts(&config)
        .iter()
        .find(|a| str_at(a, "/image") == Some("ticketing/client"))
        .expect("an artifact ticketing/client");
    assert_eq!(str_at(client, "/context"), Some("client"));
    let dockerfile = str_at(client, "/docker/dockerfile").unwrap_or("Dockerfile");
    assert!(
        repo_root().join("client").join(dockerfile).exists(),
        "client/{dockerfile} is missing"
    );
    let rules = client
        .pointer("/sync/manual")
        .and_then(Value::as_array)
        .expect("sync.manual rules");
    assert!(!rules.is_empty());
    for rule in rules {
        let pattern = str_at(rule, "/src").expect("a sync rule's src");
        let files =
            glob::expand(&repo_root().join("client"), pattern).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !files.is_empty(),
            "sync rule {pattern} matches no file of client/"
        );
        assert!(str_at(rule, "/dest").is_some(), "sync rule {pattern}: dest");
    }
}

/// Applies a profile's JSON patches (the `add` and `replace` operations) to a skaffold config.
fn apply_patches(config: &mut Value, patches: &[Value]) -> Result<(), String> {
    for patch in patches {
        let (op, path) = (
            str_at(patch, "/op").unwrap_or("add"),
            str_at(patch, "/path").unwrap_or_default(),
        );
        let value = patch
            .get("value")
            .cloned()
            .ok_or_else(|| format!("patch {path}: no value"))?;
        let (parent, key) = path
            .rsplit_once('/')
            .ok_or_else(|| format!("patch path {path}"))?;
        let target = config
            .pointer_mut(parent)
            .ok_or_else(|| format!("patch {path}: {parent} does not exist"))?;
        match (op, target) {
            ("add" | "replace", Value::Object(object)) => {
                if op == "replace" && !object.contains_key(key) {
                    return Err(format!("patch {path}: nothing to replace"));
                }
                object.insert(key.to_string(), value);
            }
            ("replace", Value::Array(items)) => {
                let slot = key.parse::<usize>().ok().and_then(|i| items.get_mut(i));
                *slot.ok_or_else(|| format!("patch {path}: no such element"))? = value;
            }
            (op, _) => {
                return Err(format!(
                    "patch {path}: `{op}` is not supported by these checks"
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn skaffold_dev_builds_the_clients_dev_stage_and_nothing_else_changes() {
    let config = skaffold();
    let profiles = config
        .get("profiles")
        .and_then(Value::as_array)
        .expect("profiles");
    let profile = profiles
        .iter()
        .find(|p| p["name"] == "client-dev")
        .expect("a profile client-dev");
    let activations = profile
        .get("activation")
        .and_then(Value::as_array)
        .expect("client-dev: activation");
    assert!(
        activations.contains(&json!({"command": "dev"})),
        "client-dev is active under `skaffold dev`"
    );
    let patches = profile
        .get("patches")
        .and_then(Value::as_array)
        .expect("client-dev: patches");
    let mut patched = config.clone();
    apply_patches(&mut patched, patches).unwrap_or_else(|e| panic!("client-dev: {e}"));
    let mut target = None;
    for (before, after) in artifacts(&config).iter().zip(artifacts(&patched)) {
        if str_at(before, "/image") == Some("ticketing/client") {
            target = str_at(after, "/docker/target");
        } else {
            assert_eq!(before, after, "client-dev changes another artifact");
        }
    }
    let target = target.expect("client-dev sets the client artifact's docker.target");
    let text = read_repo_file("client/Dockerfile").unwrap_or_else(|e| panic!("{e}"));
    let stages = dockerfile_stages(&text);
    assert!(
        stages.iter().any(|s| s.name.as_deref() == Some(target)),
        "client/Dockerfile has no stage `{target}`"
    );
    let client = artifacts(&config)
        .iter()
        .find(|a| str_at(a, "/image") == Some("ticketing/client"));
    assert!(
        client.and_then(|c| str_at(c, "/docker/target")).is_none(),
        "without the profile the client builds its production (last) stage"
    );
}

#[test]
fn minikube_builds_stay_local_and_the_gke_profile_builds_on_cloud_build() {
    let config = skaffold();
    assert_eq!(
        config.pointer("/build/local/push"),
        Some(&json!(false)),
        "build.local.push: false (minikube's own Docker)"
    );
    let profiles = config
        .get("profiles")
        .and_then(Value::as_array)
        .expect("profiles");
    let gke = profiles
        .iter()
        .find(|p| p["name"] == "gke")
        .expect("a profile gke");
    assert!(
        gke.pointer("/build/googleCloudBuild")
            .is_some_and(Value::is_object),
        "gke: build.googleCloudBuild"
    );
    assert!(gke.pointer("/build/local").is_none(), "gke: no local build");
    assert!(
        gke.pointer("/deploy/kubectl").is_some(),
        "gke: deploy.kubectl"
    );
    // The layer cache: the dependency image is cached from its previous build, found under the
    // stable tag of the sha256 tagger, with BuildKit's inline cache metadata.
    assert!(
        gke.pointer("/build/tagPolicy/sha256").is_some(),
        "gke: tagPolicy sha256 (a stable tag to cache from; deployed by digest)"
    );
    assert_eq!(
        gke.pointer("/build/platforms"),
        Some(&json!(["linux/amd64"])),
        "gke: platforms (BuildKit on Cloud Build)"
    );
    let mut patched = config.clone();
    let patches = gke
        .get("patches")
        .and_then(Value::as_array)
        .expect("gke: patches");
    apply_patches(&mut patched, patches).unwrap_or_else(|e| panic!("gke: {e}"));
    let deps = artifacts(&patched)
        .iter()
        .find(|a| str_at(a, "/image") == Some("ticketing/rust-deps"))
        .expect("an artifact ticketing/rust-deps");
    assert_eq!(
        deps.pointer("/docker/cacheFrom"),
        Some(&json!(["ticketing/rust-deps"])),
        "gke: the dependency image is cached from its previous build"
    );
    assert_eq!(
        str_at(deps, "/docker/buildArgs/BUILDKIT_INLINE_CACHE"),
        Some("1"),
        "gke: the dependency image carries its cache metadata"
    );
    assert_eq!(str_at(deps, "/docker/target"), Some("deps"));
    for artifact in artifacts(&patched) {
        let image = str_at(artifact, "/image").unwrap_or_default();
        if RUST_SERVICES
            .iter()
            .any(|s| image == format!("ticketing/{s}"))
        {
            assert_eq!(
                artifact.get("requires"),
                Some(&json!([{"image": "ticketing/rust-deps", "alias": "DEPS_IMAGE"}])),
                "{image}: built on the dependency image (requires, alias DEPS_IMAGE)"
            );
        }
    }
    let context = str_at(gke, "/deploy/kubeContext").expect("gke: deploy.kubeContext");
    assert!(
        context.starts_with("gke_"),
        "gke: a GKE context name, found {context}"
    );
}

// ---------------------------------------------------------------------------------------------
// Dockerfile and .dockerignore

#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
}

#[derive(Debug)]
struct Stage {
    from: String,
    name: Option<String>,
    instructions: Vec<Instruction>,
}

/// The Dockerfile's stages (with global `ARG` defaults substituted in `FROM`).
fn dockerfile_stages(text: &str) -> Vec<Stage> {
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if trimmed.starts_with('#') {
            continue; // a comment inside a continued instruction
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    let mut globals: Vec<(String, String)> = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for line in logical {
        let (keyword, args) = line
            .split_once(char::is_whitespace)
            .unwrap_or((line.as_str(), ""));
        let (keyword, args) = (keyword.to_uppercase(), args.trim().to_string());
        if keyword == "FROM" {
            let mut from = args.clone();
            for (name, value) in &globals {
                from = from.replace(&format!("${{{name}}}"), value);
            }
            let words: Vec<&str> = from.split_whitespace().collect();
            let name = match words.as_slice() {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
                _ => None,
            };
            stages.push(Stage {
                from: words[0].to_string(),
                name,
                instructions: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push(Instruction { keyword, args });
        } else if keyword == "ARG"
            && let Some((name, value)) = args.split_once('=')
        {
            globals.push((name.to_string(), value.to_string()));
        }
    }
    stages
}

fn position(stage: &Stage, keyword: &str, needle: &str) -> Option<usize> {
    stage
        .instructions
        .iter()
        .position(|i| i.keyword == keyword && i.args.contains(needle))
}

#[test]
fn the_dockerfile_caches_dependencies_and_runs_one_service_as_non_root() {
    let text = read_repo_file("Dockerfile").unwrap_or_else(|e| panic!("{e}"));
    let stages = dockerfile_stages(&text);
    let named = |name: &str| {
        stages
            .iter()
            .find(|s| s.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no stage {name}: {stages:#?}"))
    };

    let planner = named("planner");
    assert!(
        position(planner, "RUN", "cargo chef prepare").is_some(),
        "the planner prepares the recipe"
    );

    // The cook has a stage of its own (`deps`, built once as ticketing/rust-deps by skaffold),
    // which never sees the sources nor SERVICE; the builder starts from it (DEPS_IMAGE, by
    // default that very stage) and adds the sources and the one service.
    let deps = named("deps");
    let cook = position(deps, "RUN", "cargo chef cook").expect("the deps stage cooks");
    assert!(
        position(deps, "COPY", ". .").is_none()
            && !deps.instructions.iter().any(|i| i.args.contains("SERVICE")),
        "the deps stage depends on the recipe only"
    );
    let builder = named("builder");
    let copy_sources = position(builder, "COPY", ". .").expect("the builder copies the sources");
    let arg = builder
        .instructions
        .iter()
        .position(|i| i.keyword == "ARG" && i.args == "SERVICE")
        .expect("ARG SERVICE");
    let build = position(builder, "RUN", "cargo build").expect("the builder builds the service");
    assert!(
        copy_sources < build && arg < build,
        "the builder copies the sources and takes SERVICE before it builds"
    );
    assert_eq!(
        builder.from, "deps",
        "the builder's base defaults to the deps stage (ARG DEPS_IMAGE=deps)"
    );
    assert!(
        text.lines()
            .any(|l| l.trim() == "FROM ${DEPS_IMAGE} AS builder"),
        "FROM ${{DEPS_IMAGE}} AS builder: skaffold passes the prebuilt dependency image"
    );
    let cook_args = &deps.instructions[cook].args;
    let build_args = &builder.instructions[build].args;
    assert!(
        cook_args.contains("--release") && build_args.contains("--release"),
        "release profile throughout"
    );
    assert!(
        build_args.contains("--bin \"${SERVICE}\"") || build_args.contains("--bin ${SERVICE}"),
        "SERVICE selects the binary"
    );
    assert!(
        !build_args.contains(" -p "),
        "no -p: features are resolved workspace-wide, as in the cook (`--bins`)"
    );

    let runtime = stages.last().expect("stages");
    // The builder's base image, through the stages it is built on (`FROM chef AS builder`).
    let mut base = builder.from.as_str();
    while let Some(stage) = stages.iter().find(|s| s.name.as_deref() == Some(base)) {
        base = &stage.from;
    }
    assert!(
        base.starts_with("rust:"),
        "the builder is based on the official rust image, found {base}"
    );
    let builder_release = base.rsplit('-').next().unwrap_or_default();
    assert!(
        runtime.from == format!("debian:{builder_release}-slim")
            || runtime.from.starts_with("gcr.io/distroless/cc"),
        "the runtime is a slim image of the builder's Debian release ({builder_release}), found {}",
        runtime.from
    );
    let user = runtime
        .instructions
        .iter()
        .rfind(|i| i.keyword == "USER")
        .expect("USER in the runtime stage");
    let uid: u32 = user
        .args
        .split(':')
        .next()
        .unwrap_or_default()
        .parse()
        .expect("a numeric USER");
    assert!(uid > 0, "a non-root USER");
    let installs: Vec<&str> = runtime
        .instructions
        .iter()
        .filter(|i| i.keyword == "RUN")
        .flat_map(|i| i.args.split("&&"))
        .filter_map(|c| c.trim().strip_prefix("apt-get install"))
        .flat_map(|c| c.split_whitespace().filter(|w| !w.starts_with('-')))
        .collect();
    assert_eq!(
        installs,
        ["ca-certificates"],
        "the runtime installs CA certificates only"
    );
    assert!(
        position(runtime, "COPY", "--from=builder").is_some(),
        "the binary comes from the builder"
    );
    assert!(position(runtime, "EXPOSE", "3000").is_some(), "EXPOSE 3000");
    let entrypoint = runtime
        .instructions
        .iter()
        .find(|i| i.keyword == "ENTRYPOINT")
        .expect("an ENTRYPOINT");
    assert!(
        entrypoint.args.starts_with('['),
        "exec-form ENTRYPOINT, so the service itself receives SIGTERM"
    );
}

/// Whether `.dockerignore` keeps `path` out of the build context (the last matching rule wins;
/// a rule that matches a directory matches everything under it).
fn docker_ignored(rules: &[String], path: &str) -> bool {
    let mut ignored = false;
    for rule in rules {
        let (negated, pattern) = match rule.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, rule.as_str()),
        };
        let pattern = pattern.trim_start_matches('/').trim_end_matches('/');
        let rule = glob::matcher(pattern).unwrap_or_else(|e| panic!(".dockerignore: {e}"));
        let segments: Vec<&str> = path.split('/').collect();
        if (1..=segments.len()).any(|n| rule.is_match(segments[..n].join("/"))) {
            ignored = !negated;
        }
    }
    ignored
}

fn workspace_members() -> Vec<String> {
    let manifest = read_repo_file("Cargo.toml").unwrap_or_else(|e| panic!("{e}"));
    let line = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("workspace members");
    let mut members = Vec::new();
    for pattern in line.split('"').skip(1).step_by(2) {
        let found = glob::expand(&repo_root(), &format!("{pattern}/Cargo.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        members.extend(
            found
                .into_iter()
                .filter_map(|f| f.strip_suffix("/Cargo.toml").map(String::from)),
        );
    }
    members
}

#[test]
fn the_dockerignore_keeps_outputs_out_and_the_whole_workspace_in() {
    let text = read_repo_file(".dockerignore").unwrap_or_else(|e| panic!("{e}"));
    let rules: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    for path in [
        "target/debug/auth",
        ".run/logs/auth.log",
        ".git/HEAD",
        "client/node_modules/next/package.json",
        "client/.next/BUILD_ID",
        "e2e/node_modules/x",
        "services/auth/target/x",
    ] {
        assert!(
            docker_ignored(&rules, path),
            "{path} must stay out of the build context"
        );
    }
    let members = workspace_members();
    assert!(members.len() >= 7, "workspace members found: {members:?}");
    let mut kept = vec!["Cargo.toml".to_string(), "Cargo.lock".to_string()];
    for member in &members {
        let files =
            glob::expand(&repo_root(), &format!("{member}/**")).unwrap_or_else(|e| panic!("{e}"));
        kept.extend(
            files
                .into_iter()
                .filter(|f| !f.contains("/target/") && !f.contains("/node_modules/")),
        );
    }
    for path in &kept {
        assert!(
            !docker_ignored(&rules, path),
            "{path} is part of the workspace but .dockerignore leaves it out"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Routes

#[test]
fn the_local_nginx_and_the_ingress_route_alike() {
    let template =
        read_repo_file("infra/local/nginx.conf.template").unwrap_or_else(|e| panic!("{e}"));
    let comments: BTreeSet<Route> = nginx_comment_routes(&template)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .collect();
    let locations: BTreeSet<Route> = nginx_location_routes(&template)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .collect();
    assert_eq!(
        comments, locations,
        "the nginx template's `# route:` comments and its location blocks"
    );
    for (variant, manifests) in load_all() {
        let ingress: BTreeSet<Route> = manifests
            .ingresses()
            .flat_map(ingress_paths)
            .map(|p| ingress_route(&p))
            .collect();
        assert_eq!(
            ingress,
            locations,
            "{}: the Ingress routes vs the local nginx",
            variant.name()
        );
    }
    let ingress = locations.clone();
    let paths: BTreeSet<&str> = ingress.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        BTreeSet::from([
            "/",
            "/api/users",
            "/api/tickets",
            "/api/orders",
            "/api/payments",
            "/api/payments/webhook"
        ])
    );
}

#[test]
fn the_nginx_parser_refuses_what_it_cannot_compare() {
    let parse = |body: &str| nginx_location_routes(&format!("server {{ {body} }}"));
    assert_eq!(
        parse("location /api/users { proxy_pass http://auth; }"),
        Ok(vec![Route {
            path: "/api/users".into(),
            component: "auth".into()
        }])
    );
    assert!(
        parse("location ~ ^/api { proxy_pass http://auth; }").is_err(),
        "regex location"
    );
    assert!(
        parse("location /api/users { proxy_pass http://auth/; }").is_err(),
        "proxy_pass with a URI part"
    );
    assert!(
        parse("location /api/users { return 404; }").is_err(),
        "no proxy_pass"
    );
    // No client reaches a named or `internal` location (the ingress's error page): not a route.
    assert_eq!(
        parse("location = /__e { internal; return 200 '{\"a\":{}}'; } location @e { return 404; }"),
        Ok(vec![])
    );
}

// ---------------------------------------------------------------------------------------------
// README and workflows

/// (Every Secret and key the manifests read is created by the README: tests/isolation_and_scale.rs.)
#[test]
fn the_readme_walks_minikube_and_gke_end_to_end() {
    let readme = read_repo_file("infra/k8s/README.md").unwrap_or_else(|e| panic!("{e}"));
    for step in [
        "minikube start --cni=calico",
        "minikube addons enable ingress",
        "ticketing.dev",
        "kubectl create secret tls ticketing-tls",
        "openssl req -x509",
        "skaffold dev",
        "--enable-dataplane-v2",
        "cert-manager",
        "skaffold run -p gke",
        "replicaSet=",
        "kubectl rollout status statefulset/nats",
    ] {
        assert!(
            readme.contains(step),
            "infra/k8s/README.md does not mention `{step}`"
        );
    }
}

fn workflow(name: &str) -> Value {
    let text =
        read_repo_file(&format!(".github/workflows/{name}")).unwrap_or_else(|e| panic!("{e}"));
    let mut documents = parse_yaml_documents(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(documents.len(), 1, "{name}: one document");
    documents.remove(0)
}

fn runs(workflow: &Value) -> String {
    let mut out = Vec::new();
    strings_at_key(workflow, "run", &mut out);
    out.join("\n")
}

fn check_scripts_exist(name: &str, runs: &str) {
    for word in runs.split(|c: char| c.is_whitespace() || c == ';' || c == '&') {
        if let Some(script) = word
            .strip_prefix("./")
            .or(Some(word))
            .filter(|w| w.starts_with("scripts/"))
        {
            assert!(
                repo_root().join(script).exists(),
                "{name} runs {script}, which does not exist"
            );
        }
    }
}

#[test]
fn the_test_workflow_runs_the_test_command_on_pull_requests() {
    let test = workflow("test.yml");
    assert!(
        test.pointer("/on/pull_request").is_some(),
        "test.yml: on pull_request"
    );
    let runs = runs(&test);
    assert!(
        runs.contains("scripts/test.sh"),
        "test.yml runs scripts/test.sh"
    );
    check_scripts_exist("test.yml", &runs);
}

#[test]
fn the_deploy_workflow_builds_and_deploys_main_with_the_gke_profile() {
    let deploy = workflow("deploy.yml");
    let branches = deploy
        .pointer("/on/push/branches")
        .and_then(Value::as_array)
        .expect("deploy.yml: on push branches");
    assert!(
        branches.contains(&json!("main")),
        "deploy.yml: on push to main"
    );
    let runs = runs(&deploy);
    assert!(
        runs.contains("skaffold run") && runs.contains("-p gke"),
        "deploy.yml runs `skaffold run -p gke`"
    );
    assert!(
        runs.contains("--default-repo"),
        "deploy.yml names the registry with --default-repo"
    );
    assert!(
        runs.contains("--kube-context"),
        "deploy.yml names the GKE context"
    );
    check_scripts_exist("deploy.yml", &runs);
    assert!(
        runs.contains("apply -f infra/k8s/backing -f infra/k8s/backing-gke"),
        "deploy.yml applies the backing services with kubectl"
    );
    assert!(
        !runs.contains("--tag"),
        "deploy.yml leaves tagging to the gke profile (sha256: the layer cache needs a stable tag)"
    );
    let version = deploy
        .pointer("/env/SKAFFOLD_VERSION")
        .and_then(Value::as_str)
        .expect("deploy.yml: env SKAFFOLD_VERSION");
    let parts: Vec<u32> = version
        .trim_start_matches('v')
        .split('.')
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    assert!(
        parts.as_slice() >= SKAFFOLD_MIN_VERSION.as_slice(),
        "skaffold {version} cannot read {SKAFFOLD_API_VERSION}"
    );
}
