//! Cross-references between the manifests, and what DESIGN.md §6 and the services' shutdown
//! require of their Deployments.

use std::collections::{BTreeMap, BTreeSet};

use infra_checks::manifests::{self, Manifests, Variant, Workload, env_of, selects};
use infra_checks::routes::ingress_paths;
use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The Rust services (cargo package = binary = image name = Deployment `<name>-depl`).
const SERVICES: [&str; 5] = ["auth", "tickets", "orders", "payments", "expiration"];
/// The Rust services that serve the API, behind a ClusterIP Service `<name>-srv`.
const API_SERVICES: [&str; 4] = ["auth", "tickets", "orders", "payments"];
/// Graceful shutdown of a service: HTTP draining (20 s) + workers (15 s).
const SHUTDOWN_SECONDS: i64 = 35;

/// DESIGN.md §6: what each service cannot start without (or must be set in Kubernetes).
fn required_env(service: &str) -> &'static [&'static str] {
    match service {
        "auth" => &[
            "PORT",
            "JWT_KEY",
            "MONGO_URI",
            "SESSION_TTL_SECONDS",
            "SECURE_COOKIES",
        ],
        "tickets" => &[
            "PORT",
            "JWT_KEY",
            "MONGO_URI",
            "NATS_URL",
            "NATS_CLIENT_NAME",
            "EVENTS_STREAM_REPLICAS",
        ],
        "orders" => &[
            "PORT",
            "JWT_KEY",
            "MONGO_URI",
            "NATS_URL",
            "NATS_CLIENT_NAME",
            "EVENTS_STREAM_REPLICAS",
            "ORDER_EXPIRATION_SECONDS",
        ],
        "payments" => &[
            "PORT",
            "JWT_KEY",
            "MONGO_URI",
            "NATS_URL",
            "NATS_CLIENT_NAME",
            "EVENTS_STREAM_REPLICAS",
            "STRIPE_KEY",
            "STRIPE_WEBHOOK_SECRET",
        ],
        "expiration" => &[
            "PORT",
            "NATS_URL",
            "NATS_CLIENT_NAME",
            "EVENTS_STREAM_REPLICAS",
            "REDIS_URL",
        ],
        other => panic!("no environment contract for {other}"),
    }
}

/// The Ingress' certificate (created by hand on minikube, by cert-manager on GKE).
const TLS_SECRET: &str = "ticketing-tls";

/// The ConfigMap holding what differs between the profiles (minikube/config.yaml, gke/config.yaml).
const CONFIG_MAP: &str = "ticketing-config";

/// Variables that must come from a Secret: (variable, Secret name, key).
const SECRETS: [(&str, &str, &str); 3] = [
    ("JWT_KEY", "jwt-secret", "JWT_KEY"),
    ("STRIPE_KEY", "stripe-secret", "STRIPE_KEY"),
    (
        "STRIPE_WEBHOOK_SECRET",
        "stripe-secret",
        "STRIPE_WEBHOOK_SECRET",
    ),
];

/// Runs `check` on the manifests of every deployment variant (minikube, gke); a failure names
/// the variant on stderr.
fn each_variant(check: impl Fn(&Manifests)) {
    each_variant_named(|_, manifests| check(manifests));
}

fn each_variant_named(check: impl Fn(Variant, &Manifests)) {
    for (variant, manifests) in manifests::load_all() {
        eprintln!("checking the {} manifests", variant.name());
        check(variant, &manifests);
    }
}

fn single_container<'a>(manifests: &'a Manifests, deployment: &str) -> &'a Container {
    let workload = manifests
        .workloads()
        .into_iter()
        .find(|w| w.kind == "Deployment" && w.name == deployment)
        .unwrap_or_else(|| panic!("no Deployment {deployment}"));
    match workload.containers() {
        [container] => container,
        other => panic!(
            "{deployment}: one container expected, found {}",
            other.len()
        ),
    }
}

/// Whether `port` (a number or a port name) is one of the container's ports.
fn container_has_port(container: &Container, port: &IntOrString) -> bool {
    let ports = container.ports.iter().flatten();
    match port {
        IntOrString::Int(number) => ports.clone().any(|p| p.container_port == *number),
        IntOrString::String(name) => ports
            .clone()
            .any(|p| p.name.as_deref() == Some(name.as_str())),
    }
}

#[test]
fn workload_selectors_match_their_own_pod_labels() {
    each_variant(|manifests| {
        for workload in manifests.workloads() {
            let selector = workload
                .match_labels
                .unwrap_or_else(|| panic!("{}: no selector.matchLabels", workload.name));
            assert!(
                selects(selector, workload.labels()),
                "{} {}: selector {selector:?} does not match its pod labels {:?} (the API server rejects it)",
                workload.kind,
                workload.name,
                workload.labels()
            );
        }
    });
}

#[test]
fn every_service_selects_pods_and_targets_one_of_their_container_ports() {
    each_variant(|manifests| {
        let workloads = manifests.workloads();
        for service in manifests.services() {
            let name = service.metadata.name.as_deref().unwrap_or_default();
            let spec = service
                .spec
                .as_ref()
                .unwrap_or_else(|| panic!("Service {name}: no spec"));
            assert!(
                matches!(spec.type_.as_deref(), None | Some("ClusterIP")),
                "Service {name}: only ClusterIP Services (the ingress is the one way in)"
            );
            let selector = spec
                .selector
                .as_ref()
                .unwrap_or_else(|| panic!("Service {name}: no selector"));
            let selected: Vec<&Workload> = workloads
                .iter()
                .filter(|w| selects(selector, w.labels()))
                .collect();
            assert_eq!(
                selected.len(),
                1,
                "Service {name}: its selector {selector:?} must match the pods of exactly one workload, matches {:?}",
                selected.iter().map(|w| w.name).collect::<Vec<_>>()
            );
            let ports = spec.ports.as_deref().unwrap_or_default();
            assert!(!ports.is_empty(), "Service {name}: no ports");
            for port in ports {
                let target = port
                    .target_port
                    .clone()
                    .unwrap_or(IntOrString::Int(port.port));
                let workload = selected[0];
                assert!(
                    workload
                        .containers()
                        .iter()
                        .any(|c| container_has_port(c, &target)),
                    "Service {name}: port {} targets {target:?}, which no container of {} {} exposes",
                    port.port,
                    workload.kind,
                    workload.name
                );
            }
        }
    });
}

#[test]
fn each_component_has_its_deployment_and_service() {
    each_variant(|manifests| {
        for service in SERVICES.iter().chain(&["client"]) {
            let deployment = format!("{service}-depl");
            let container = single_container(manifests, &deployment);
            assert_eq!(
                container.image.as_deref(),
                Some(format!("ticketing/{service}").as_str()),
                "{deployment}: image"
            );
            let has_service = manifests.service(&format!("{service}-srv")).is_some();
            let wants_service = *service != "expiration";
            assert_eq!(
                has_service, wants_service,
                "{service}-srv: a Service for everything but the expiration worker"
            );
        }
    });
}

#[test]
fn stateful_sets_have_a_headless_governing_service_and_persistent_volumes() {
    each_variant(|manifests| {
        let mut names = BTreeSet::new();
        for set in manifests.stateful_sets() {
            let name = set.metadata.name.as_deref().unwrap_or_default();
            names.insert(name.to_string());
            let spec = set
                .spec
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: no spec"));
            let governing = spec
                .service_name
                .as_deref()
                .unwrap_or_else(|| panic!("{name}: no serviceName"));
            let service = manifests.service(governing).unwrap_or_else(|| {
                panic!("{name}: serviceName {governing} is not a Service of the manifests")
            });
            let service_spec = service.spec.as_ref().expect("checked above");
            assert_eq!(
                service_spec.cluster_ip.as_deref(),
                Some("None"),
                "{governing}: a StatefulSet's governing Service is headless"
            );
            let labels = spec
                .template
                .metadata
                .as_ref()
                .and_then(|m| m.labels.as_ref());
            assert!(
                service_spec
                    .selector
                    .as_ref()
                    .is_some_and(|s| selects(s, labels)),
                "{governing} does not select the pods of {name}"
            );
            let claims: BTreeSet<&str> = spec
                .volume_claim_templates
                .iter()
                .flatten()
                .map(|c| c.metadata.name.as_deref().unwrap_or_default())
                .collect();
            assert!(
                !claims.is_empty(),
                "{name}: no volumeClaimTemplates: its data would die with the pod"
            );
            for claim in spec.volume_claim_templates.iter().flatten() {
                let storage = claim
                    .spec
                    .as_ref()
                    .and_then(|s| s.resources.as_ref())
                    .and_then(|r| r.requests.as_ref())
                    .and_then(|r| r.get("storage"));
                assert!(
                    storage.is_some(),
                    "{name}: claim {:?} requests no storage",
                    claim.metadata.name
                );
            }
            let pod = spec
                .template
                .spec
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: no pod spec"));
            for container in &pod.containers {
                let mounted: BTreeSet<&str> = container
                    .volume_mounts
                    .iter()
                    .flatten()
                    .map(|m| m.name.as_str())
                    .collect();
                assert!(
                    claims.iter().all(|c| mounted.contains(c)),
                    "{name}/{}: mounts {mounted:?}, not every claim of {claims:?}",
                    container.name
                );
            }
        }
        let expected: BTreeSet<String> = [
            "auth-mongo",
            "tickets-mongo",
            "orders-mongo",
            "payments-mongo",
            "nats",
            "expiration-redis",
        ]
        .map(String::from)
        .into();
        assert_eq!(names, expected, "the StatefulSets");
    });
}

#[test]
fn every_volume_mount_names_a_volume_or_a_claim() {
    each_variant(|manifests| {
        for workload in manifests.workloads() {
            let pod = workload.template.spec.as_ref().expect("a pod spec");
            let mut volumes: BTreeSet<String> = pod
                .volumes
                .iter()
                .flatten()
                .map(|v| v.name.clone())
                .collect();
            if let manifests::Object::StatefulSet(set) = &workload.document.object {
                let claims = set
                    .spec
                    .as_ref()
                    .and_then(|s| s.volume_claim_templates.as_ref());
                volumes.extend(
                    claims
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.metadata.name.clone()),
                );
            }
            for container in &pod.containers {
                for mount in container.volume_mounts.iter().flatten() {
                    assert!(
                        volumes.contains(&mount.name),
                        "{}/{}: mounts unknown volume {}",
                        workload.name,
                        container.name,
                        mount.name
                    );
                }
            }
        }
    });
}

#[test]
fn backing_stores_keep_their_data_on_their_volumes() {
    each_variant(|manifests| {
        let containers: BTreeMap<&str, &Container> = manifests
            .workloads()
            .into_iter()
            .filter(|w| w.kind == "StatefulSet")
            .map(|w| (w.name, &w.containers()[0]))
            .collect();
        let mount_of = |c: &Container, path: &str| {
            c.volume_mounts
                .iter()
                .flatten()
                .any(|m| path == m.mount_path || path.starts_with(&format!("{}/", m.mount_path)))
        };
        for service in API_SERVICES {
            let mongo = containers[format!("{service}-mongo").as_str()];
            let image = mongo.image.as_deref().unwrap_or_default();
            assert!(
                image.starts_with("mongo:"),
                "{service}-mongo: the official mongo image, found {image}"
            );
            assert!(
                mount_of(mongo, "/data/db"),
                "{service}-mongo: /data/db must be on the volume"
            );
        }

        let redis = containers["expiration-redis"];
        let args = redis
            .args
            .iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            args.contains("--appendonly yes"),
            "expiration-redis: AOF persistence on, found args `{args}`"
        );
        assert!(
            mount_of(redis, "/data"),
            "expiration-redis: /data on the volume"
        );
        assert!(
            args.contains("--dir /data"),
            "expiration-redis: the AOF goes to /data: `{args}`"
        );

        let nats = containers["nats"];
        let image = nats.image.as_deref().unwrap_or_default();
        let version = image
            .strip_prefix("nats:")
            .and_then(|tag| tag.split('-').next())
            .map(|v| {
                v.split('.')
                    .map(|n| n.parse::<u32>().unwrap_or(0))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        assert!(
            version.len() == 3 && version >= vec![2, 12, 3],
            "nats: the official image at 2.12.3 or later with a full version tag, found {image}"
        );
        let args: Vec<&str> = nats.args.iter().flatten().map(String::as_str).collect();
        assert!(
            args.iter().any(|a| *a == "--jetstream" || *a == "-js"),
            "nats: JetStream on, args {args:?}"
        );
        let store = args
            .iter()
            .find_map(|a| a.strip_prefix("--store_dir="))
            .unwrap_or_else(|| panic!("nats: --store_dir=PATH, args {args:?}"));
        assert!(
            mount_of(nats, store),
            "nats: the JetStream store {store} must be on the volume"
        );
    });
}

#[test]
fn every_ingress_backend_is_a_port_of_an_existing_service() {
    each_variant(|manifests| {
        let ingresses: Vec<_> = manifests.ingresses().collect();
        assert_eq!(ingresses.len(), 1, "one Ingress, ingress-srv");
        let ingress = ingresses[0];
        assert_eq!(ingress.metadata.name.as_deref(), Some("ingress-srv"));
        let spec = ingress.spec.as_ref().expect("an Ingress spec");
        assert_eq!(
            spec.ingress_class_name.as_deref(),
            Some("nginx"),
            "ingressClassName"
        );
        // The host is the profile's API_HOST (the client's server-side rendering calls it), and the
        // Ingress has a certificate for it (the session cookie is Secure).
        let host = manifests
            .config_map(CONFIG_MAP)
            .and_then(|c| c.data.as_ref())
            .and_then(|d| d.get("API_HOST"))
            .unwrap_or_else(|| panic!("ConfigMap {CONFIG_MAP}: no API_HOST"));
        let tls = spec.tls.as_deref().unwrap_or_default();
        assert!(
            tls.iter()
                .any(|t| t.secret_name.as_deref() == Some(TLS_SECRET)
                    && t.hosts.iter().flatten().any(|h| h == host)),
            "ingress-srv: TLS for {host} from the Secret {TLS_SECRET}, found {tls:?}"
        );
        let paths = ingress_paths(ingress);
        assert!(!paths.is_empty(), "the Ingress has no paths");
        for path in paths {
            assert_eq!(path.host.as_deref(), Some(host.as_str()), "{path:?}: host");
            assert_eq!(
                path.path_type, "Prefix",
                "{path:?}: pathType Prefix, as the local nginx's prefix locations"
            );
            let name = path
                .service
                .as_deref()
                .unwrap_or_else(|| panic!("{path:?}: not a Service backend"));
            let service = manifests
                .service(name)
                .unwrap_or_else(|| panic!("{path:?}: no Service {name}"));
            let ports = service
                .spec
                .as_ref()
                .and_then(|s| s.ports.as_ref())
                .expect("ports checked elsewhere");
            let found = ports.iter().any(|p| {
                path.port_number.is_some_and(|n| n == p.port)
                    || path
                        .port_name
                        .as_ref()
                        .is_some_and(|n| p.name.as_ref() == Some(n))
            });
            assert!(found, "{path:?}: Service {name} has no such port");
            assert_ne!(
                service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()),
                Some("None"),
                "{name}: the ingress needs a ClusterIP"
            );
        }
    });
}

#[test]
fn every_service_deployment_sets_the_environment_it_needs() {
    each_variant(|manifests| {
        for service in SERVICES {
            let deployment = format!("{service}-depl");
            let container = single_container(manifests, &deployment);
            let mut names = BTreeSet::new();
            for var in container.env.iter().flatten() {
                assert!(
                    names.insert(var.name.as_str()),
                    "{deployment}: {} is set twice",
                    var.name
                );
                assert!(
                    var.value.is_some() != var.value_from.is_some(),
                    "{deployment}: {} needs exactly one of value and valueFrom",
                    var.name
                );
            }
            let env = env_of(container);
            for name in required_env(service) {
                let var = env
                    .get(name)
                    .unwrap_or_else(|| panic!("{deployment}: {name} is not set"));
                let source = var.value_from.as_ref();
                if let Some((_, secret, key)) = SECRETS.iter().find(|(v, _, _)| v == name) {
                    let reference = source.and_then(|s| s.secret_key_ref.as_ref());
                    let reference = reference.unwrap_or_else(|| {
                        panic!("{deployment}: {name} must come from a secretKeyRef")
                    });
                    assert_eq!(
                        (reference.name.as_str(), reference.key.as_str()),
                        (*secret, *key),
                        "{deployment}: {name}"
                    );
                    assert_ne!(
                        reference.optional,
                        Some(true),
                        "{deployment}: {name} is not optional"
                    );
                } else if *name == "EVENTS_STREAM_REPLICAS" {
                    let reference = source
                        .and_then(|s| s.config_map_key_ref.as_ref())
                        .unwrap_or_else(|| {
                            panic!("{deployment}: {name} comes from the profile's ConfigMap")
                        });
                    assert_eq!(
                        (reference.name.as_str(), reference.key.as_str()),
                        (CONFIG_MAP, *name),
                        "{deployment}: {name}"
                    );
                } else if *name == "NATS_CLIENT_NAME" {
                    let field = source
                        .and_then(|s| s.field_ref.as_ref())
                        .map(|f| f.field_path.as_str());
                    assert_eq!(
                        field,
                        Some("metadata.name"),
                        "{deployment}: NATS_CLIENT_NAME is the pod name (fieldRef)"
                    );
                } else {
                    let value = var.value.as_deref().unwrap_or_default();
                    assert!(
                        !value.trim().is_empty(),
                        "{deployment}: {name} has no value"
                    );
                }
            }
            let port = env["PORT"]
                .value
                .as_deref()
                .and_then(|p| p.parse::<i32>().ok());
            let port = port.unwrap_or_else(|| panic!("{deployment}: PORT is a number"));
            assert!(
                container_has_port(container, &IntOrString::Int(port)),
                "{deployment}: PORT {port} is not a container port"
            );
            for (name, _, _) in SECRETS {
                if !required_env(service).contains(&name) {
                    assert!(
                        !env.contains_key(name),
                        "{deployment}: {name} is given to a service that does not use it"
                    );
                }
            }
            if service == "expiration" {
                assert!(!env.contains_key("MONGO_URI"), "expiration has no MongoDB");
            }
        }
    });
}

/// The Secret and key a container's variable `name` is read from, if it is a secretKeyRef.
fn secret_of<'a>(container: &'a Container, name: &str) -> Option<(&'a str, &'a str)> {
    let var = env_of(container).get(name).copied()?;
    let reference = var.value_from.as_ref()?.secret_key_ref.as_ref()?;
    Some((reference.name.as_str(), reference.key.as_str()))
}

/// The workload whose pods a Service selects.
fn workload_behind<'a>(manifests: &'a Manifests, service: &str) -> Option<Workload<'a>> {
    let selector = manifests
        .service(service)?
        .spec
        .as_ref()?
        .selector
        .as_ref()?;
    manifests
        .workloads()
        .into_iter()
        .find(|w| selects(selector, w.labels()))
}

/// `$(A):$(B)` (or `:$(B)`) → the variable names, in order.
fn credential_refs(userinfo: &str) -> Vec<&str> {
    userinfo
        .split(':')
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.strip_prefix("$(")
                .and_then(|p| p.strip_suffix(')'))
                .unwrap_or_else(|| panic!("credentials `{userinfo}` are not $(VAR) references"))
        })
        .collect()
}

#[test]
fn connection_urls_name_services_of_the_manifests_carry_the_datastores_credentials_and_each_service_owns_its_database()
 {
    each_variant(|manifests| {
        let mut mongo_hosts = BTreeMap::new();
        for service in SERVICES {
            let deployment = format!("{service}-depl");
            let container = single_container(manifests, &deployment);
            let env = env_of(container);
            for (name, scheme) in [
                ("MONGO_URI", "mongodb://"),
                ("NATS_URL", "nats://"),
                ("REDIS_URL", "redis://"),
            ] {
                let Some(url) = env.get(name).and_then(|v| v.value.as_deref()) else {
                    continue;
                };
                let rest = url
                    .strip_prefix(scheme)
                    .unwrap_or_else(|| panic!("{deployment}: {name}={url} is not {scheme}…"));
                let authority = rest.split('/').next().unwrap_or_default();
                let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or_else(|| {
                    panic!("{deployment}: {name}={url} carries no credentials (the datastores require them)")
                });
                let (host, port) = hostport
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{deployment}: {name}={url} names no port"));
                let port: i32 = port
                    .parse()
                    .unwrap_or_else(|_| panic!("{deployment}: {name}={url}: bad port"));
                let target = manifests
                    .service(host)
                    .unwrap_or_else(|| panic!("{deployment}: {name}={url}: no Service {host}"));
                let ports = target
                    .spec
                    .as_ref()
                    .and_then(|s| s.ports.as_ref())
                    .expect("a Service with ports");
                assert!(
                    ports.iter().any(|p| p.port == port),
                    "{deployment}: {name}={url}: {host} has no port {port}"
                );

                // The credentials: $(VAR) references to variables defined before the URL (the
                // only ones Kubernetes expands), each read from the very Secret key the
                // datastore itself is configured with.
                let position =
                    |var: &str| container.env.iter().flatten().position(|v| v.name == var);
                let store = workload_behind(manifests, host)
                    .unwrap_or_else(|| panic!("{deployment}: {host} selects no workload"));
                let store_container = &store.containers()[0];
                let expected: &[&str] = match name {
                    "MONGO_URI" => &["MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"],
                    "NATS_URL" => &["NATS_USER", "NATS_PASSWORD"],
                    _ => &["REDIS_PASSWORD"],
                };
                let refs = credential_refs(userinfo);
                assert_eq!(
                    refs.len(),
                    expected.len(),
                    "{deployment}: {name} credentials {userinfo}"
                );
                for (var, store_var) in refs.iter().zip(expected) {
                    let at = position(var).unwrap_or_else(|| {
                        panic!("{deployment}: {name} uses $({var}), which is not set")
                    });
                    assert!(
                        at < position(name).expect("the URL is set"),
                        "{deployment}: $({var}) must be defined before {name} to be expanded"
                    );
                    let used = secret_of(container, var)
                        .unwrap_or_else(|| panic!("{deployment}: {var} must come from a Secret"));
                    let configured = secret_of(store_container, store_var).unwrap_or_else(|| {
                        panic!("{}: {store_var} must come from a Secret", store.name)
                    });
                    assert_eq!(
                        used, configured,
                        "{deployment}: {var} and {}'s {store_var} must be the same Secret key",
                        store.name
                    );
                }
                if name == "REDIS_URL" {
                    let args = store_container.args.iter().flatten().map(String::as_str);
                    let args: Vec<&str> = args.collect();
                    assert!(
                        args.windows(2)
                            .any(|w| w == ["--requirepass", "$(REDIS_PASSWORD)"]),
                        "{}: redis-server --requirepass $(REDIS_PASSWORD), args {args:?}",
                        store.name
                    );
                }
                if name == "NATS_URL" {
                    let args: Vec<&str> = store_container
                        .args
                        .iter()
                        .flatten()
                        .map(String::as_str)
                        .collect();
                    for flag in ["--user=$(NATS_USER)", "--pass=$(NATS_PASSWORD)"] {
                        assert!(
                            args.contains(&flag),
                            "{}: {flag}, args {args:?}",
                            store.name
                        );
                    }
                }
                if name == "MONGO_URI" {
                    let (database, query) = rest
                        .split_once('/')
                        .map(|(_, db)| db.split_once('?').unwrap_or((db, "")))
                        .unwrap_or_default();
                    assert_eq!(
                        database, service,
                        "{deployment}: MONGO_URI names the service's database"
                    );
                    assert!(
                        query.split('&').any(|q| q == "authSource=admin"),
                        "{deployment}: MONGO_URI authenticates against admin, where the image creates the root user"
                    );
                    if let Some(other) = mongo_hosts.insert(host.to_string(), service) {
                        panic!(
                            "{service} and {other} share the MongoDB {host}: each service owns its database"
                        );
                    }
                    assert_eq!(
                        secret_of(container, "MONGO_PASSWORD").map(|(s, _)| s.to_string()),
                        Some(format!("{service}-mongo-secret")),
                        "{deployment}: its database's own Secret"
                    );
                }
            }
        }
    });
}

fn probe_http_path<'a>(probe: Option<&'a Probe>, container: &Container, what: &str) -> &'a str {
    let get = probe
        .and_then(|p| p.http_get.as_ref())
        .unwrap_or_else(|| panic!("{}: no HTTP {what}", container.name));
    assert!(
        container_has_port(container, &get.port),
        "{}: {what} port {:?} is not a container port",
        container.name,
        get.port
    );
    get.path.as_deref().unwrap_or("/")
}

#[test]
fn probes_hit_the_health_endpoints() {
    each_variant(|manifests| {
        for service in SERVICES {
            let container = single_container(manifests, &format!("{service}-depl"));
            assert_eq!(
                probe_http_path(
                    container.readiness_probe.as_ref(),
                    container,
                    "readinessProbe"
                ),
                "/readyz"
            );
            assert_eq!(
                probe_http_path(
                    container.liveness_probe.as_ref(),
                    container,
                    "livenessProbe"
                ),
                "/healthz"
            );
        }
        // The client: ready when the landing page renders, alive when the process answers.
        let client = single_container(manifests, "client-depl");
        assert_eq!(
            probe_http_path(client.readiness_probe.as_ref(), client, "readinessProbe"),
            "/"
        );
        assert_eq!(
            probe_http_path(client.liveness_probe.as_ref(), client, "livenessProbe"),
            "/healthz"
        );
        // A liveness probe identical to the readiness probe restarts a pod that is merely busy.
        for workload in manifests.workloads() {
            for container in workload.containers() {
                assert_ne!(
                    container.readiness_probe, container.liveness_probe,
                    "{}/{}: the readiness and liveness probes are identical",
                    workload.name, container.name
                );
            }
        }
        // Every other container is probed somehow.
        for workload in manifests.workloads() {
            for container in workload.containers() {
                assert!(
                    container.readiness_probe.is_some(),
                    "{}/{}: no readinessProbe",
                    workload.name,
                    container.name
                );
                assert!(
                    container.liveness_probe.is_some(),
                    "{}/{}: no livenessProbe",
                    workload.name,
                    container.name
                );
            }
        }
    });
}

fn quantity<'a>(map: Option<&'a BTreeMap<String, Quantity>>, key: &str) -> Option<&'a str> {
    map?.get(key).map(|q| q.0.as_str())
}

#[test]
fn every_container_has_resource_requests_and_limits() {
    each_variant(|manifests| {
        for workload in manifests.workloads() {
            for container in workload.containers() {
                let resources = container.resources.as_ref();
                let requests = resources.and_then(|r| r.requests.as_ref());
                let limits = resources.and_then(|r| r.limits.as_ref());
                for key in ["cpu", "memory"] {
                    assert!(
                        quantity(requests, key).is_some(),
                        "{}/{}: no {key} request",
                        workload.name,
                        container.name
                    );
                    assert!(
                        quantity(limits, key).is_some(),
                        "{}/{}: no {key} limit",
                        workload.name,
                        container.name
                    );
                }
            }
        }
    });
}

#[test]
fn grace_periods_cover_the_services_graceful_shutdown() {
    each_variant(|manifests| {
        for service in SERVICES {
            let deployment = manifests
                .deployment(&format!("{service}-depl"))
                .expect("checked elsewhere");
            let pod = deployment
                .spec
                .as_ref()
                .and_then(|s| s.template.spec.as_ref())
                .expect("a pod spec");
            let grace = pod.termination_grace_period_seconds.unwrap_or(30);
            let pre_stop = pod.containers[0]
                .lifecycle
                .as_ref()
                .and_then(|l| l.pre_stop.as_ref())
                .and_then(|h| h.sleep.as_ref())
                .map_or(0, |s| s.seconds);
            assert!(
                grace >= 40 && grace >= pre_stop + SHUTDOWN_SECONDS,
                "{service}: terminationGracePeriodSeconds {grace} < preStop {pre_stop} s + shutdown {SHUTDOWN_SECONDS} s (and at least 40)"
            );
        }
    });
}

#[test]
fn every_pod_runs_as_non_root_without_privilege_escalation() {
    each_variant(|manifests| {
        for workload in manifests.workloads() {
            let pod = workload.template.spec.as_ref().expect("a pod spec");
            let pod_context = pod.security_context.as_ref();
            for container in &pod.containers {
                let context = container.security_context.as_ref();
                let non_root = context
                    .and_then(|c| c.run_as_non_root)
                    .or(pod_context.and_then(|c| c.run_as_non_root));
                let user = context
                    .and_then(|c| c.run_as_user)
                    .or(pod_context.and_then(|c| c.run_as_user));
                assert_eq!(
                    non_root,
                    Some(true),
                    "{}/{}: runAsNonRoot",
                    workload.name,
                    container.name
                );
                assert!(
                    user.is_some_and(|u| u > 0),
                    "{}/{}: a numeric non-root runAsUser",
                    workload.name,
                    container.name
                );
                assert_eq!(
                    context.and_then(|c| c.allow_privilege_escalation),
                    Some(false),
                    "{}/{}: allowPrivilegeEscalation: false",
                    workload.name,
                    container.name
                );
            }
            assert_eq!(
                pod.automount_service_account_token,
                Some(false),
                "{}: no service account token is needed",
                workload.name
            );
        }
    });
}
