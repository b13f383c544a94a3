use utoipa::{
    Modify,
    openapi::{
        OpenApi, RefOr, Response,
        path::Operation,
        security::{ApiKey, ApiKeyValue, SecurityScheme},
    },
};

use super::responses::{self, HeadersTooLarge, Unavailable, Unexpected, UriTooLong, reference};
use crate::session::COOKIE_NAME;

/// The name of the session's security scheme: routes that need a user say
/// `security(("session" = []))`.
pub const SESSION_SCHEME: &str = "session";

/// What every service's document holds besides its own routes (`modifiers(&Conventions)`): the
/// session cookie as a security scheme, the error body's schemas, the reusable error responses,
/// and on every operation the answers any request can get before or after its route (414, 431,
/// 500, 503), unless the route already says what they mean for it.
pub struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                COOKIE_NAME,
                "The session: a JWT (HS256) set by sign-up and sign-in, HttpOnly, SameSite=Lax; \
                 every service verifies it itself. `GET /api/users/currentuser` re-issues it once \
                 past half its life; sign-out clears it.",
            ))),
        );
        for (name, schema) in responses::schemas() {
            components.schemas.entry(name).or_insert(schema);
        }
        for (name, response) in responses::all() {
            components
                .responses
                .entry(name.to_owned())
                .or_insert(response);
        }
        let every_request: [(&str, RefOr<Response>); 4] = [
            ("414", reference::<UriTooLong>()),
            ("431", reference::<HeadersTooLarge>()),
            ("500", reference::<Unexpected>()),
            ("503", reference::<Unavailable>()),
        ];
        for operation in operations(doc) {
            for (status, response) in &every_request {
                operation
                    .responses
                    .responses
                    .entry((*status).to_owned())
                    .or_insert_with(|| response.clone());
            }
        }
    }
}

/// Every operation of the document, whatever its method.
fn operations(doc: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
    })
}
