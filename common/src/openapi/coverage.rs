//! The routes a router serves against the operations a document describes, for the test in
//! every service that fails when one has a route the other lacks.
//!
//! axum does not list a router's routes, but its `Debug` output names them: each route's id with
//! its path (`RouteId(1): "/api/tickets"`) and with its method router, whose `allow_header`
//! lists the methods it answers (`allow_header: Bytes(b"GET,HEAD,POST")`). A route served by a
//! plain service rather than a method router answers every method, and comes out as `ANY`, which
//! no document has. If a new axum prints something else, [`routes_of`] finds no route and says so
//! rather than passing.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

use axum::Router;
use utoipa::openapi::OpenApi;

/// A method and a path template (`/api/tickets/{id}`, axum's syntax and OpenAPI's alike).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: String,
    pub path: String,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Every route `router` serves, one per method (`HEAD` is left out where `GET` is there: axum
/// answers it with the `GET` handler).
pub fn routes_of<S>(router: &Router<S>) -> BTreeSet<Route> {
    let debug = format!("{router:?}");
    // The router's own routes come first; its fallback router's (if any) are not routes.
    let own = debug
        .split_once("fallback_router:")
        .map_or(debug.as_str(), |(own, _)| own);
    let mut paths = BTreeMap::new();
    let mut methods = BTreeMap::new();
    // Each piece starts with one route id and runs to the next: what it holds is that route's.
    for piece in own.split("RouteId(").skip(1) {
        let Some((id, entry)) = piece.split_once("): ") else {
            continue;
        };
        if let Some(quoted) = entry.strip_prefix('"') {
            if let Some((path, _)) = quoted.split_once('"') {
                paths.insert(id.to_owned(), path.to_owned());
            }
        } else {
            let allowed = entry
                .strip_prefix("MethodRouter(")
                .and_then(|method_router| method_router.split_once("allow_header: Bytes(b\""))
                .and_then(|(_, list)| list.split_once('"'))
                .map_or("ANY", |(list, _)| list);
            methods.insert(id.to_owned(), allowed.to_owned());
        }
    }
    let mut routes = BTreeSet::new();
    for (id, path) in paths {
        let allowed = methods.get(&id).map_or("ANY", String::as_str);
        let allowed: Vec<&str> = allowed.split(',').filter(|m| !m.is_empty()).collect();
        for method in &allowed {
            if *method == "HEAD" && allowed.contains(&"GET") {
                continue;
            }
            routes.insert(Route {
                method: (*method).to_owned(),
                path: path.clone(),
            });
        }
    }
    routes
}

/// Every operation `doc` describes.
pub fn documented(doc: &OpenApi) -> BTreeSet<Route> {
    let mut routes = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("OPTIONS", &item.options),
            ("HEAD", &item.head),
            ("PATCH", &item.patch),
            ("TRACE", &item.trace),
        ];
        for (method, operation) in operations {
            if operation.is_some() {
                routes.insert(Route {
                    method: method.to_owned(),
                    path: path.clone(),
                });
            }
        }
    }
    routes
}

/// Fails, naming them, when `router` has a route `doc` lacks or `doc` an operation `router`
/// does not serve.
pub fn assert_documented<S>(router: &Router<S>, doc: &OpenApi) {
    let served = routes_of(router);
    assert!(
        !served.is_empty(),
        "no route found in the router's Debug output: has axum changed how it prints a router?"
    );
    let described = documented(doc);
    let undocumented: Vec<String> = served
        .difference(&described)
        .map(Route::to_string)
        .collect();
    let unserved: Vec<String> = described
        .difference(&served)
        .map(Route::to_string)
        .collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "routes without an operation in the document: {undocumented:?}; \
         operations in the document no route serves: {unserved:?}"
    );
}

#[cfg(test)]
mod tests {
    use axum::{
        Router,
        routing::{any_service, get},
    };
    use utoipa::openapi::{
        HttpMethod, OpenApiBuilder, PathItem, PathsBuilder, path::OperationBuilder,
    };

    use super::*;
    use crate::protect::BodyLimit;

    fn route(method: &str, path: &str) -> Route {
        Route {
            method: method.to_owned(),
            path: path.to_owned(),
        }
    }

    fn router() -> Router {
        Router::new()
            .route(
                "/api/things",
                get(|| async {})
                    .post(|| async {})
                    .layer(BodyLimit::kib(1).layer()),
            )
            .merge(Router::new().route("/api/things/{id}", get(|| async {}).delete(|| async {})))
            .fallback(|| async {})
    }

    #[test]
    fn a_routers_routes_are_read_with_their_methods() {
        assert_eq!(
            routes_of(&router()),
            BTreeSet::from([
                route("GET", "/api/things"),
                route("POST", "/api/things"),
                route("DELETE", "/api/things/{id}"),
                route("GET", "/api/things/{id}"),
            ])
        );
    }

    #[test]
    fn a_route_for_any_method_is_never_documented() {
        let router: Router = Router::new().route(
            "/api/raw",
            any_service(tower::service_fn(|_| async {
                Ok::<_, std::convert::Infallible>(axum::response::Response::new(
                    axum::body::Body::empty(),
                ))
            })),
        );
        assert_eq!(
            routes_of(&router),
            BTreeSet::from([route("ANY", "/api/raw")])
        );
    }

    #[test]
    fn a_route_the_document_lacks_fails_and_is_named() {
        let doc = OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path(
                        "/api/things",
                        PathItem::from_http_methods(
                            [HttpMethod::Get, HttpMethod::Post],
                            OperationBuilder::new().build(),
                        ),
                    )
                    .path(
                        "/api/things/{id}",
                        PathItem::new(HttpMethod::Get, OperationBuilder::new().build()),
                    ),
            )
            .build();
        let failure = std::panic::catch_unwind(|| assert_documented(&router(), &doc))
            .expect_err("DELETE /api/things/{id} is not documented");
        let message = failure
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.contains("DELETE /api/things/{id}"), "{message}");
    }
}
