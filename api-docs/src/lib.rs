//! The fleet's API as one OpenAPI 3.1 document: each service's own document (generated from its
//! routes, `routes::ApiDoc`) merged into the one the ingress serves, since the ingress puts every
//! service under one origin (`/api/users` → auth, `/api/tickets` → tickets, `/api/orders` →
//! orders, `/api/payments` → payments). The web client serves it as a static file at
//! [`DOCUMENT_URL`], with a readable page at `/api/docs`; `cargo run -p ticketing-api-docs`
//! writes it, and a test fails while the committed file differs from what the code says.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use utoipa::{
    OpenApi,
    openapi::{self, InfoBuilder, OpenApiBuilder, ServerBuilder},
};

/// Where the ingress serves the document.
pub const DOCUMENT_URL: &str = "/api/docs/openapi.json";

/// The committed document, in the web client's static files (`client/public`).
pub fn document_path() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = crate_dir.parent().unwrap_or(crate_dir);
    workspace.join("client/public/api/docs/openapi.json")
}

/// Each service's document, with the path prefix the ingress routes to it.
fn services() -> [(&'static str, &'static str, openapi::OpenApi); 4] {
    [
        ("auth", "/api/users", auth::routes::ApiDoc::openapi()),
        (
            "tickets",
            "/api/tickets",
            tickets::routes::ApiDoc::openapi(),
        ),
        ("orders", "/api/orders", orders::routes::ApiDoc::openapi()),
        (
            "payments",
            "/api/payments",
            payments::routes::ApiDoc::openapi(),
        ),
    ]
}

const DESCRIPTION: &str = "\
The Ticketing marketplace's HTTP API, as the ingress serves it: every service's routes under one \
origin. Generated from the services' code (utoipa); README.md (\"API\", \"Limits\") tells the rest.

- **Errors** always have the shape `{\"errors\":[{\"message\":\"…\",\"field\":\"…\"}]}` (`field` \
only on validation errors, camelCase as sent). A validation error lists every broken field.
- **Checks run in this order**: session (401 `Not authorized`), body (400), existence (404 \
`Not Found`), ownership (401), state (400).
- **Session**: the `session` cookie set by sign-up and sign-in (HttpOnly, SameSite=Lax); every \
service verifies it itself.
- **Bodies** are JSON objects (`Content-Type: application/json`, else 415) within each route's \
size limit (413); an unknown route is a 404, a wrong method a 405.";

/// The fleet's document: the services' documents merged. Refuses to merge a path two services
/// claim, a path outside the prefix the ingress routes to its service, and two different schemas
/// (or reusable responses) under one name, which a plain merge would silently drop.
pub fn fleet() -> anyhow::Result<openapi::OpenApi> {
    let mut fleet = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Ticketing API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .build(),
        )
        .servers(Some([ServerBuilder::new()
            .url("/")
            .description(Some("The ingress that served this document"))
            .build()]))
        .build();
    for (service, prefix, doc) in services() {
        for path in doc.paths.paths.keys() {
            if !path.starts_with(prefix) {
                bail!(
                    "{service} documents {path}, which the ingress does not route to it ({prefix})"
                );
            }
            if fleet.paths.paths.contains_key(path) {
                bail!("{service} documents {path}, which another service documents too");
            }
        }
        check_components_agree(service, &fleet, &doc)?;
        fleet.merge(doc);
    }
    Ok(fleet)
}

/// Components of one name must be the same in every service (the shared ones are, coming from
/// common): otherwise the merge would keep the first and drop the other without a word.
fn check_components_agree(
    service: &str,
    fleet: &openapi::OpenApi,
    doc: &openapi::OpenApi,
) -> anyhow::Result<()> {
    let (Some(ours), Some(theirs)) = (&fleet.components, &doc.components) else {
        return Ok(());
    };
    for (name, schema) in &theirs.schemas {
        if ours.schemas.get(name).is_some_and(|kept| kept != schema) {
            bail!("{service}'s schema {name} differs from another service's of the same name");
        }
    }
    for (name, response) in &theirs.responses {
        if ours
            .responses
            .get(name)
            .is_some_and(|kept| kept != response)
        {
            bail!("{service}'s response {name} differs from another service's of the same name");
        }
    }
    Ok(())
}

/// The fleet's document as the committed file holds it: pretty JSON and a final newline.
pub fn render() -> anyhow::Result<String> {
    let doc = fleet()?;
    let json = doc
        .to_pretty_json()
        .context("writing the document as JSON")?;
    Ok(json + "\n")
}
