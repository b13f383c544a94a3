//! What issue 14 asked of the deployment, checked on every variant's manifests (minikube, gke):
//! the NetworkPolicies isolate everything and still allow every connection the fleet makes; the
//! backing services are pinned, probed cheaply and never deployed by skaffold; the gke profile
//! scales out (autoscalers and disruption budgets on existing Deployments, a three-server NATS
//! cluster holding the stream at three replicas); the Secrets the manifests use are those the
//! README creates.

use std::collections::{BTreeMap, BTreeSet};

use infra_checks::manifests::{self, Manifests, Variant, Workload, env_of, selects};
use infra_checks::{read_repo_file, strings_at_key};
use k8s_openapi::api::core::v1::Container;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The API services and the client: reached through the ingress.
const WEB: [&str; 5] = ["auth", "tickets", "orders", "payments", "client"];
const SERVICES: [&str; 5] = ["auth", "tickets", "orders", "payments", "expiration"];
/// Where the ingress controller runs (minikube's addon and the official manifest alike).
const INGRESS_NAMESPACE: &str = "ingress-nginx";

fn each_variant(check: impl Fn(Variant, &Manifests)) {
    for (variant, manifests) in manifests::load_all() {
        eprintln!("checking the {} manifests", variant.name());
        check(variant, &manifests);
    }
}

type Labels = BTreeMap<String, String>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Whether a label selector matches `labels` (matchLabels and matchExpressions; an empty selector
/// matches everything, as in a NetworkPolicy).
fn selector_matches(selector: &LabelSelector, labels: &Labels) -> bool {
    let by_labels = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let by_expressions = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.as_deref().unwrap_or_default();
        let value = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            other => panic!("unknown selector operator {other}"),
        }
    });
    by_labels && by_expressions
}

/// A pod as the policies see it: its namespace's name, its labels, its container ports.
#[derive(Debug, Clone)]
struct Pod {
    namespace: String,
    labels: Labels,
    ports: Vec<(Option<String>, i32)>,
}

impl Pod {
    fn of(workload: &Workload) -> Self {
        Pod {
            namespace: "ticketing".into(),
            labels: workload.labels().cloned().unwrap_or_default(),
            ports: workload
                .containers()
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .map(|p| (p.name.clone(), p.container_port))
                .collect(),
        }
    }

    fn ingress_controller() -> Self {
        Pod {
            namespace: INGRESS_NAMESPACE.into(),
            labels: labels(&[("app.kubernetes.io/name", "ingress-nginx")]),
            ports: vec![(Some("http".into()), 80), (Some("https".into()), 443)],
        }
    }
}

fn peer_matches(peer: &NetworkPolicyPeer, policy_namespace: &str, pod: &Pod) -> bool {
    if peer.ip_block.is_some() {
        return false; // addresses outside the cluster only (checked where it matters)
    }
    let namespace_ok = match &peer.namespace_selector {
        Some(selector) => selector_matches(
            selector,
            &labels(&[("kubernetes.io/metadata.name", pod.namespace.as_str())]),
        ),
        None => pod.namespace == policy_namespace,
    };
    let pod_ok = peer
        .pod_selector
        .as_ref()
        .is_none_or(|s| selector_matches(s, &pod.labels));
    namespace_ok && pod_ok
}

fn port_matches(ports: Option<&Vec<NetworkPolicyPort>>, target: &Pod, port: i32) -> bool {
    let Some(ports) = ports else {
        return true;
    };
    ports.iter().any(|p| {
        let protocol_ok = p.protocol.as_deref().unwrap_or("TCP") == "TCP";
        let port_ok = match &p.port {
            None => true,
            Some(IntOrString::Int(n)) => (*n..=p.end_port.unwrap_or(*n)).contains(&port),
            Some(IntOrString::String(name)) => target
                .ports
                .iter()
                .any(|(n, number)| n.as_deref() == Some(name) && *number == port),
        };
        protocol_ok && port_ok
    })
}

fn policy_types(policy: &NetworkPolicy) -> Vec<&str> {
    policy
        .spec
        .as_ref()
        .and_then(|s| s.policy_types.as_ref())
        .map(|t| t.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

fn applies_to(policy: &NetworkPolicy, pod: &Pod) -> bool {
    pod.namespace == "ticketing"
        && policy
            .spec
            .as_ref()
            .and_then(|s| s.pod_selector.as_ref())
            .is_none_or(|s| selector_matches(s, &pod.labels))
}

/// Whether the policies let `from` open a TCP connection to `to` on `port` (a container port of
/// `to`). A pod no policy selects for a direction is not isolated in that direction; the
/// ingress controller's namespace has no policies of ours.
fn allowed(manifests: &Manifests, from: &Pod, to: &Pod, port: i32) -> bool {
    let policies: Vec<&NetworkPolicy> = manifests.network_policies().collect();
    let egress_isolated = policies
        .iter()
        .any(|p| applies_to(p, from) && policy_types(p).contains(&"Egress"));
    let egress_ok = !egress_isolated
        || policies.iter().any(|p| {
            applies_to(p, from)
                && policy_types(p).contains(&"Egress")
                && p.spec
                    .as_ref()
                    .and_then(|s| s.egress.as_ref())
                    .into_iter()
                    .flatten()
                    .any(|rule| {
                        let peers_ok = rule.to.as_ref().is_none_or(|peers| {
                            peers.iter().any(|peer| peer_matches(peer, "ticketing", to))
                        });
                        peers_ok && port_matches(rule.ports.as_ref(), to, port)
                    })
        });
    let ingress_isolated = policies
        .iter()
        .any(|p| applies_to(p, to) && policy_types(p).contains(&"Ingress"));
    let ingress_ok = !ingress_isolated
        || policies.iter().any(|p| {
            applies_to(p, to)
                && policy_types(p).contains(&"Ingress")
                && p.spec
                    .as_ref()
                    .and_then(|s| s.ingress.as_ref())
                    .into_iter()
                    .flatten()
                    .any(|rule| {
                        let peers_ok = rule.from.as_ref().is_none_or(|peers| {
                            peers
                                .iter()
                                .any(|peer| peer_matches(peer, "ticketing", from))
                        });
                        peers_ok && port_matches(rule.ports.as_ref(), to, port)
                    })
        });
    egress_ok && ingress_ok
}

fn workload<'a>(manifests: &'a Manifests, name: &str) -> Workload<'a> {
    manifests
        .workloads()
        .into_iter()
        .find(|w| w.name == name)
        .unwrap_or_else(|| panic!("no workload {name}"))
}

fn container<'a>(manifests: &'a Manifests, name: &str) -> &'a Container {
    &workload(manifests, name).containers()[0]
}

/// The pod and container port behind `host:port` (a Service of the manifests).
fn resolve<'a>(manifests: &'a Manifests, host: &str, port: i32) -> (Workload<'a>, i32) {
    let service = manifests
        .service(host)
        .unwrap_or_else(|| panic!("no Service {host}"));
    let spec = service.spec.as_ref().expect("a Service spec");
    let selector = spec.selector.as_ref().expect("a selector");
    let target = manifests
        .workloads()
        .into_iter()
        .find(|w| selects(selector, w.labels()))
        .unwrap_or_else(|| panic!("{host} selects no workload"));
    let service_port = spec
        .ports
        .iter()
        .flatten()
        .find(|p| p.port == port)
        .unwrap_or_else(|| panic!("{host} has no port {port}"));
    let container_port = match service_port.target_port.clone() {
        None => port,
        Some(IntOrString::Int(n)) => n,
        Some(IntOrString::String(name)) => Pod::of(&target)
            .ports
            .iter()
            .find(|(n, _)| n.as_deref() == Some(name.as_str()))
            .map(|(_, number)| *number)
            .unwrap_or_else(|| panic!("{host}: no container port {name}")),
    };
    (target, container_port)
}

/// `host:port` of a connection URL (credentials and path stripped).
fn host_port(url: &str) -> (String, i32) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = hostport.split_once(':').expect("a port");
    (host.to_string(), port.parse().expect("a numeric port"))
}

#[test]
fn a_default_deny_covers_every_pod_and_dns_is_the_only_open_door() {
    each_variant(|_, manifests| {
        let catch_all: Vec<&NetworkPolicy> = manifests
            .network_policies()
            .filter(|p| {
                p.spec
                    .as_ref()
                    .and_then(|s| s.pod_selector.as_ref())
                    .is_none_or(|s| s.match_labels.is_none() && s.match_expressions.is_none())
            })
            .collect();
        let deny = catch_all.iter().find(|p| {
            let spec = p.spec.as_ref().expect("a spec");
            policy_types(p) == ["Ingress", "Egress"]
                && spec.ingress.is_none()
                && spec.egress.is_none()
        });
        assert!(
            deny.is_some(),
            "a NetworkPolicy selecting every pod with policyTypes [Ingress, Egress] and no rules"
        );
        for policy in &catch_all {
            let spec = policy.spec.as_ref().expect("a spec");
            assert!(
                spec.ingress.is_none(),
                "{:?}: no ingress allowed to every pod",
                policy.metadata.name
            );
            for rule in spec.egress.iter().flatten() {
                let ports = rule.ports.as_deref().unwrap_or_default();
                assert!(
                    !ports.is_empty() && ports.iter().all(|p| p.port == Some(IntOrString::Int(53))),
                    "{:?}: every pod may reach port 53 (DNS) only",
                    policy.metadata.name
                );
            }
        }
        // Every pod resolves names over UDP and TCP.
        for w in manifests.workloads() {
            let pod = Pod::of(&w);
            let dns = manifests.network_policies().any(|p| {
                applies_to(p, &pod)
                    && p.spec
                        .as_ref()
                        .and_then(|s| s.egress.as_ref())
                        .into_iter()
                        .flatten()
                        .any(|r| {
                            ["UDP", "TCP"].iter().all(|proto| {
                                r.ports.iter().flatten().any(|p| {
                                    p.protocol.as_deref() == Some(proto)
                                        && p.port == Some(IntOrString::Int(53))
                                })
                            })
                        })
            });
            assert!(dns, "{}: no DNS egress", w.name);
        }
    });
}

#[test]
fn every_workload_is_selected_by_an_allow_of_its_own() {
    each_variant(|_, manifests| {
        for w in manifests.workloads() {
            let pod = Pod::of(&w);
            let own = manifests.network_policies().filter(|p| {
                applies_to(p, &pod)
                    && p.spec
                        .as_ref()
                        .and_then(|s| s.pod_selector.as_ref())
                        .is_some_and(|s| s.match_labels.is_some() || s.match_expressions.is_some())
            });
            assert!(
                own.count() > 0,
                "{} {}: no NetworkPolicy selects its pods (only the default deny would)",
                w.kind,
                w.name
            );
        }
    });
}

#[test]
fn the_policies_allow_every_connection_the_fleet_makes() {
    each_variant(|_, manifests| {
        // The ingress controller to every Service it routes to, on the container port.
        let ingress_controller = Pod::ingress_controller();
        for ingress in manifests.ingresses() {
            for path in infra_checks::routes::ingress_paths(ingress) {
                let service = path.service.as_deref().expect("a Service backend");
                let port = path.port_number.expect("a port number");
                let (target, container_port) = resolve(manifests, service, port);
                assert!(
                    allowed(
                        manifests,
                        &ingress_controller,
                        &Pod::of(&target),
                        container_port
                    ),
                    "ingress-nginx -> {} :{container_port} ({service}) is not allowed",
                    target.name
                );
            }
        }
        // Each service to each datastore its URLs name.
        for service in SERVICES {
            let deployment = format!("{service}-depl");
            let from = Pod::of(&workload(manifests, &deployment));
            let env = env_of(container(manifests, &deployment));
            for name in ["MONGO_URI", "NATS_URL", "REDIS_URL"] {
                let Some(url) = env.get(name).and_then(|v| v.value.as_deref()) else {
                    continue;
                };
                let (host, port) = host_port(url);
                let (target, container_port) = resolve(manifests, &host, port);
                assert!(
                    allowed(manifests, &from, &Pod::of(&target), container_port),
                    "{deployment} -> {} :{container_port} ({name}) is not allowed",
                    target.name
                );
            }
        }
        // The client's server-side rendering, through the ingress controller over https.
        let client = Pod::of(&workload(manifests, "client-depl"));
        let base = env_of(container(manifests, "client-depl"))["API_BASE_URL"]
            .value
            .clone()
            .expect("API_BASE_URL");
        assert!(
            base.starts_with("https://") && base.contains(".ingress-nginx.svc"),
            "client: API_BASE_URL goes to the ingress controller over https, found {base}"
        );
        assert!(
            allowed(manifests, &client, &ingress_controller, 443),
            "client -> ingress-nginx :443 is not allowed"
        );
        // The servers of a NATS cluster reach each other's route port.
        let nats = workload(manifests, "nats");
        let nats_pod = Pod::of(&nats);
        if let Some((_, cluster_port)) = nats_pod
            .ports
            .iter()
            .find(|(n, _)| n.as_deref() == Some("cluster"))
        {
            assert!(
                allowed(manifests, &nats_pod, &nats_pod, *cluster_port),
                "nats <-> nats :{cluster_port} (routes) is not allowed"
            );
        }
        // payments reaches Stripe: https to public addresses.
        let payments_out = manifests.network_policies().any(|p| {
            applies_to(p, &Pod::of(&workload(manifests, "payments-depl")))
                && p.spec
                    .as_ref()
                    .and_then(|s| s.egress.as_ref())
                    .into_iter()
                    .flatten()
                    .any(|r| {
                        r.to.iter().flatten().any(|peer| {
                            peer.ip_block
                                .as_ref()
                                .is_some_and(|b| b.cidr == "0.0.0.0/0")
                        }) && port_matches(r.ports.as_ref(), &Pod::ingress_controller(), 443)
                    })
        });
        assert!(
            payments_out,
            "payments -> Stripe (0.0.0.0/0 :443) is not allowed"
        );
    });
}

#[test]
fn nothing_else_reaches_a_datastore() {
    each_variant(|_, manifests| {
        let stores: Vec<Workload> = manifests
            .workloads()
            .into_iter()
            .filter(|w| w.kind == "StatefulSet")
            .collect();
        let pods: Vec<(String, Pod)> = manifests
            .workloads()
            .iter()
            .map(|w| (w.name.to_string(), Pod::of(w)))
            .chain([("ingress-nginx".to_string(), Pod::ingress_controller())])
            .collect();
        for store in &stores {
            let to = Pod::of(store);
            let store_ports: Vec<i32> = to.ports.iter().map(|(_, n)| *n).collect();
            // Who may connect, by the datastore's name (auth-mongo: auth only; nats: the four
            // services that use events, and its own servers; expiration-redis: expiration).
            let clustered = to
                .ports
                .iter()
                .any(|(n, _)| n.as_deref() == Some("cluster"));
            let expected: BTreeSet<String> = match store.name {
                "nats" => ["tickets", "orders", "payments", "expiration"]
                    .iter()
                    .map(|s| format!("{s}-depl"))
                    .chain(clustered.then(|| "nats".to_string()))
                    .collect(),
                name => {
                    let owner = name.rsplit_once('-').map(|(o, _)| o).unwrap_or(name);
                    BTreeSet::from([format!("{owner}-depl")])
                }
            };
            for (name, from) in &pods {
                let reaches = store_ports.iter().any(|port| {
                    allowed(manifests, from, &to, *port) && {
                        // The monitoring port is the kubelet's (probes come from the node).
                        !to.ports
                            .iter()
                            .any(|(n, p)| p == port && n.as_deref() == Some("monitor"))
                    }
                });
                assert_eq!(
                    reaches,
                    expected.contains(name),
                    "{name} -> {}: {}",
                    store.name,
                    if reaches {
                        "allowed, but must not be"
                    } else {
                        "not allowed"
                    }
                );
            }
        }
    });
}

#[test]
fn autoscalers_and_disruption_budgets_target_existing_deployments_and_keep_two_pods_on_gke() {
    each_variant(|variant, manifests| {
        let mut scaled = BTreeSet::new();
        for hpa in manifests.autoscalers() {
            let name = hpa.metadata.name.as_deref().unwrap_or_default();
            let spec = hpa.spec.as_ref().expect("an HPA spec");
            let target = &spec.scale_target_ref;
            assert_eq!(
                (target.api_version.as_deref(), target.kind.as_str()),
                (Some("apps/v1"), "Deployment"),
                "HPA {name}: targets a Deployment"
            );
            let deployment = manifests
                .deployment(&target.name)
                .unwrap_or_else(|| panic!("HPA {name}: no Deployment {}", target.name));
            assert!(
                deployment.spec.as_ref().and_then(|s| s.replicas).is_none(),
                "{}: an autoscaled Deployment leaves `replicas` unset (a deploy would reset it)",
                target.name
            );
            assert!(
                spec.min_replicas.unwrap_or(1) >= 2
                    && spec.max_replicas > spec.min_replicas.unwrap_or(1),
                "HPA {name}: at least two pods, room to grow"
            );
            let metrics = spec.metrics.as_deref().unwrap_or_default();
            assert!(
                metrics.iter().any(|m| m
                    .resource
                    .as_ref()
                    .is_some_and(|r| r.name == "cpu" && r.target.average_utilization.is_some())),
                "HPA {name}: CPU based"
            );
            // Utilization is relative to the request: every container requests CPU.
            let pod = deployment
                .spec
                .as_ref()
                .and_then(|s| s.template.spec.as_ref());
            for c in pod.map(|p| p.containers.as_slice()).unwrap_or_default() {
                assert!(
                    c.resources
                        .as_ref()
                        .and_then(|r| r.requests.as_ref())
                        .is_some_and(|r| r.contains_key("cpu")),
                    "{}: a CPU request for the autoscaler",
                    target.name
                );
            }
            scaled.insert(target.name.clone());
        }
        let workloads = manifests.workloads();
        let mut budgeted = BTreeSet::new();
        for pdb in manifests.disruption_budgets() {
            let name = pdb.metadata.name.as_deref().unwrap_or_default();
            let spec = pdb.spec.as_ref().expect("a PDB spec");
            let selector = spec.selector.as_ref().expect("a PDB selector");
            let covered: Vec<&Workload> = workloads
                .iter()
                .filter(|w| selector_matches(selector, w.labels().unwrap_or(&Labels::new())))
                .collect();
            assert_eq!(
                covered.len(),
                1,
                "PDB {name}: selects the pods of exactly one workload"
            );
            assert!(
                spec.min_available.is_some() != spec.max_unavailable.is_some(),
                "PDB {name}: one of minAvailable and maxUnavailable"
            );
            budgeted.insert(covered[0].name.to_string());
        }
        let web: BTreeSet<String> = WEB.iter().map(|s| format!("{s}-depl")).collect();
        match variant {
            Variant::Gke => {
                assert_eq!(
                    scaled, web,
                    "gke: an autoscaler for each web-facing Deployment"
                );
                for d in &web {
                    assert!(budgeted.contains(d), "gke: no PodDisruptionBudget for {d}");
                }
                assert!(
                    budgeted.contains("nats"),
                    "gke: a PodDisruptionBudget for NATS"
                );
            }
            Variant::Minikube => {
                assert!(scaled.is_empty(), "minikube: one pod each, no autoscaler");
            }
        }
    });
}

fn args_of(container: &Container) -> Vec<&str> {
    container
        .args
        .iter()
        .flatten()
        .map(String::as_str)
        .collect()
}

#[test]
fn nats_runs_as_a_three_server_cluster_with_the_stream_on_all_three_on_gke() {
    each_variant(|variant, manifests| {
        let nats = workload(manifests, "nats");
        let set = manifests
            .stateful_sets()
            .find(|s| s.metadata.name.as_deref() == Some("nats"))
            .expect("the nats StatefulSet");
        let spec = set.spec.as_ref().expect("a spec");
        let replicas = spec.replicas.unwrap_or(1);
        let config = manifests
            .config_map("ticketing-config")
            .and_then(|c| c.data.as_ref())
            .expect("ConfigMap ticketing-config");
        let stream_replicas: i32 = config["EVENTS_STREAM_REPLICAS"]
            .parse()
            .expect("EVENTS_STREAM_REPLICAS is a number");
        assert_eq!(
            stream_replicas,
            replicas,
            "{}: the stream lives on every NATS server",
            variant.name()
        );
        let args = args_of(&nats.containers()[0]);
        match variant {
            Variant::Minikube => {
                assert_eq!(replicas, 1, "minikube: one NATS server");
                assert!(!args.iter().any(|a| a.starts_with("--routes")));
            }
            Variant::Gke => {
                assert_eq!(replicas, 3, "gke: a three-server JetStream cluster");
                assert_eq!(
                    spec.pod_management_policy.as_deref(),
                    Some("Parallel"),
                    "the servers start together (none is healthy before a quorum)"
                );
                let governing = spec.service_name.as_deref().expect("serviceName");
                let headless = manifests.service(governing).and_then(|s| s.spec.as_ref());
                assert_eq!(
                    headless.and_then(|s| s.publish_not_ready_addresses),
                    Some(true),
                    "{governing}: the servers find each other before they are ready"
                );
                let routes = args
                    .iter()
                    .find_map(|a| a.strip_prefix("--routes="))
                    .expect("--routes=");
                let hosts: BTreeSet<String> = routes.split(',').map(|r| host_port(r).0).collect();
                let expected: BTreeSet<String> = (0..replicas)
                    .map(|i| format!("nats-{i}.{governing}"))
                    .collect();
                assert_eq!(
                    hosts, expected,
                    "a route to every server by its stable name"
                );
                let cluster_port = Pod::of(&nats)
                    .ports
                    .iter()
                    .find(|(n, _)| n.as_deref() == Some("cluster"))
                    .map(|(_, p)| *p)
                    .expect("a container port named cluster");
                for route in routes.split(',') {
                    assert_eq!(
                        host_port(route).1,
                        cluster_port,
                        "{route}: the cluster port"
                    );
                }
                assert!(
                    args.iter().any(|a| a.starts_with("--cluster_name=")),
                    "a cluster name"
                );
                assert!(args.contains(&"--jetstream"), "JetStream on");
            }
        }
    });
}

#[test]
fn backing_images_are_pinned_to_exact_versions_and_probed_cheaply() {
    each_variant(|_, manifests| {
        for w in manifests.workloads() {
            for c in w.containers() {
                let image = c.image.as_deref().unwrap_or_default();
                if image.starts_with("ticketing/") {
                    continue;
                }
                let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
                let version = tag.split('-').next().unwrap_or_default();
                let parts: Vec<&str> = version.split('.').collect();
                assert!(
                    parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()),
                    "{}: {image} is not pinned to an exact version (MAJOR.MINOR.PATCH)",
                    w.name
                );
            }
        }
        for service in ["auth", "tickets", "orders", "payments"] {
            let mongo = container(manifests, &format!("{service}-mongo"));
            for (what, probe) in [
                ("readinessProbe", mongo.readiness_probe.as_ref()),
                ("livenessProbe", mongo.liveness_probe.as_ref()),
                ("startupProbe", mongo.startup_probe.as_ref()),
            ] {
                let probe = probe.unwrap_or_else(|| panic!("{service}-mongo: no {what}"));
                let command = probe
                    .exec
                    .as_ref()
                    .map(|e| {
                        e.command
                            .iter()
                            .flatten()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                assert!(
                    !command.contains("mongosh") && !command.contains("mongo "),
                    "{service}-mongo {what}: starting a shell per probe is slow and flaps under load"
                );
                assert!(
                    probe.timeout_seconds.unwrap_or(1) <= 5
                        && probe.period_seconds.unwrap_or(10) >= 5,
                    "{service}-mongo {what}: sensible timings"
                );
            }
            // Credentials: the image creates the root user from these.
            for var in ["MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"] {
                let from = env_of(mongo)
                    .get(var)
                    .and_then(|v| v.value_from.as_ref())
                    .and_then(|s| s.secret_key_ref.as_ref())
                    .map(|r| r.name.clone());
                assert_eq!(
                    from,
                    Some(format!("{service}-mongo-secret")),
                    "{service}-mongo: {var} from its Secret"
                );
            }
        }
    });
}

#[test]
fn skaffold_never_deploys_a_backing_service() {
    for variant in Variant::ALL {
        let backing: BTreeSet<String> = variant
            .backing_dirs()
            .iter()
            .flat_map(|d| manifests::yaml_files_in(d).expect("a backing folder"))
            .collect();
        let skaffold_files: Vec<String> = manifests::variant_files(variant)
            .expect("the variant's files")
            .into_iter()
            .filter(|f| !backing.contains(f))
            .collect();
        assert!(!skaffold_files.is_empty());
        for file in &skaffold_files {
            let manifests = manifests::load_files(vec![file.clone()])
                .unwrap_or_else(|p| panic!("{}", p.join("\n")));
            for document in &manifests.documents {
                assert!(
                    !matches!(document.kind(), "StatefulSet" | "NetworkPolicy")
                        && !document.raw.to_string().contains("PersistentVolumeClaim"),
                    "{}: skaffold deploys {} (it restarts on every deploy and is deleted when \
                     `skaffold dev` stops): move it to a backing folder",
                    document.describe(),
                    document.kind()
                );
            }
        }
    }
}

/// The Secrets (name → keys) the manifests read, in env vars and volumes.
fn secrets_used(manifests: &Manifests) -> BTreeMap<String, BTreeSet<String>> {
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for document in &manifests.documents {
        let mut refs = Vec::new();
        // secretKeyRef {name, key}
        collect_secret_refs(&document.raw, &mut refs);
        for (name, key) in refs {
            used.entry(name).or_default().extend(key);
        }
        let mut names = Vec::new();
        strings_at_key(&document.raw, "secretName", &mut names);
        for name in names {
            used.entry(name.to_string()).or_default();
        }
    }
    used
}

fn collect_secret_refs(value: &serde_json::Value, out: &mut Vec<(String, Option<String>)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if k == "secretKeyRef" {
                    let name = v["name"].as_str().unwrap_or_default().to_string();
                    out.push((name, v["key"].as_str().map(String::from)));
                } else {
                    collect_secret_refs(v, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_secret_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_readme_creates_every_secret_and_key_the_manifests_read() {
    let readme = read_repo_file("infra/k8s/README.md").unwrap_or_else(|e| panic!("{e}"));
    let commands: Vec<String> = readme
        .replace("\\\n", " ")
        .lines()
        .map(String::from)
        .collect();
    each_variant(|variant, manifests| {
        for (name, keys) in secrets_used(manifests) {
            // Secrets cert-manager and the ACME account keep for themselves on GKE.
            let by_cert_manager = variant == Variant::Gke
                && (name == "ticketing-tls" || name == "letsencrypt-account-key");
            if by_cert_manager {
                continue;
            }
            if keys.is_empty() {
                assert!(
                    commands
                        .iter()
                        .any(|c| c.contains(&format!("kubectl create secret tls {name} "))),
                    "infra/k8s/README.md: no `kubectl create secret tls {name} …`"
                );
                continue;
            }
            for key in keys {
                let created = commands.iter().any(|c| {
                    c.contains(&format!("kubectl create secret generic {name} "))
                        && c.contains(&format!("--from-literal={key}="))
                });
                assert!(
                    created,
                    "infra/k8s/README.md: no `kubectl create secret generic {name} … --from-literal={key}=…` ({})",
                    variant.name()
                );
            }
        }
    });
}

#[test]
fn the_readme_applies_the_backing_folders_of_each_variant_with_kubectl() {
    let readme = read_repo_file("infra/k8s/README.md").unwrap_or_else(|e| panic!("{e}"));
    let commands = readme.replace("\\\n", " ");
    for variant in Variant::ALL {
        let [common, own] = variant.backing_dirs();
        let applied = commands.lines().any(|line| {
            line.contains("kubectl")
                && line.contains(" apply ")
                && line.contains(&format!("-f {common}"))
                && line.contains(&format!("-f {own}"))
        });
        assert!(
            applied,
            "infra/k8s/README.md: no `kubectl … apply -f {common} -f {own}` for {}",
            variant.name()
        );
    }
}

#[test]
fn the_gke_certificate_comes_from_the_cluster_issuer_the_ingress_names() {
    let (_, manifests) = manifests::load_all()
        .into_iter()
        .find(|(v, _)| *v == Variant::Gke)
        .expect("gke");
    let issuers: Vec<_> = manifests.custom("ClusterIssuer").collect();
    assert_eq!(issuers.len(), 1, "one ClusterIssuer");
    let issuer = &issuers[0].raw;
    let name = issuer["metadata"]["name"].as_str().unwrap_or_default();
    let ingress = manifests.ingresses().next().expect("an Ingress");
    let annotation = ingress
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("cert-manager.io/cluster-issuer"));
    assert_eq!(
        annotation.map(String::as_str),
        Some(name),
        "the Ingress names the issuer"
    );
    assert_eq!(
        issuer.pointer("/spec/acme/server").and_then(|v| v.as_str()),
        Some("https://acme-v02.api.letsencrypt.org/directory"),
        "Let's Encrypt's production directory"
    );
    let class = issuer
        .pointer("/spec/acme/solvers/0/http01/ingress/ingressClassName")
        .and_then(|v| v.as_str());
    assert_eq!(
        class,
        ingress
            .spec
            .as_ref()
            .and_then(|s| s.ingress_class_name.as_deref()),
        "the HTTP-01 solver goes through the Ingress' controller"
    );
    // The solver pod must be reachable through the default deny.
    let solver = Pod {
        namespace: "ticketing".into(),
        labels: labels(&[("acme.cert-manager.io/http01-solver", "true")]),
        ports: vec![(None, 8089)],
    };
    assert!(
        allowed(&manifests, &Pod::ingress_controller(), &solver, 8089),
        "ingress-nginx -> the ACME HTTP-01 solver :8089 is not allowed"
    );
}
