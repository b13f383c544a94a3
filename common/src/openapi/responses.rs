//! The error answers that are the same wherever they happen, as reusable responses
//! (`#/components/responses/…`, registered by [`Conventions`](super::Conventions)). A route names
//! the ones its own checks give (`(status = 401, response = NotAuthorized)`, `JsonBody`); the
//! answers every request can get are added to every operation by the conventions.

use std::collections::BTreeMap;

use utoipa::{
    IntoResponses, PartialSchema, ToResponse, ToSchema,
    openapi::{
        ContentBuilder, Ref, RefOr, Response, ResponseBuilder, Type, header::HeaderBuilder,
        schema::ObjectBuilder,
    },
};

use crate::{error::ErrorBody, extract::messages as body, protect::messages as limits};

/// A response in the error shape, with `message` as its example.
fn error_response(description: &str, example: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .examples_from_iter([(
                    "error",
                    utoipa::openapi::example::ExampleBuilder::new()
                        .value(Some(
                            serde_json::json!({ "errors": [{ "message": example }] }),
                        ))
                        .build(),
                )])
                .build(),
        )
        .build()
}

macro_rules! reusable {
    ($($(#[$doc:meta])* $name:ident => $build:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), RefOr::T($build))
            }
        }
    )*

        /// Every reusable response, by name, for the document's components.
        pub(super) fn all() -> Vec<(&'static str, RefOr<Response>)> {
            vec![$(<$name as ToResponse>::response()),*]
        }
    };
}

reusable! {
    /// 401: the route needs a signed-in user (or, where the route says so, its owner).
    NotAuthorized => error_response(
        "Not authorized: no valid session (the `session` cookie), or not the owner of what the \
         request names.",
        "Not authorized",
    );
    /// 404: nothing by that id (a malformed id included), or no such route.
    NotFound => error_response(
        "Not Found: nothing has that id (a malformed id names nothing either).",
        "Not Found",
    );
    /// 408: the body trickled in for longer than the body read timeout.
    BodyTooSlow => error_response(
        "The request body took longer than 10 s to arrive.",
        body::TOO_SLOW,
    );
    /// 413: the body is over the route's limit (named in the message).
    BodyTooLarge => error_response(
        "The request body is over the route's limit, which the message names.",
        "Request body must be at most 4 KiB",
    );
    /// 415: a JSON route was sent something that does not say it is JSON.
    NotJson => error_response(
        "The request has no `Content-Type: application/json` (or `application/*+json`).",
        body::NOT_JSON,
    );
    /// 414: the request target is over the limit.
    UriTooLong => error_response(
        "The request URL (path and query) is over 4 KiB.",
        limits::URI_TOO_LONG,
    );
    /// 431: too many header fields, or too many bytes of them.
    HeadersTooLarge => error_response(
        "The request has more than 64 header fields or more than 16 KiB of them.",
        limits::HEADERS_TOO_LARGE,
    );
    /// 500: anything unexpected; the details are only in the service's log.
    Unexpected => error_response(
        "Something unexpected failed; the details are in the service's log only.",
        "Something went wrong",
    );
    /// 503: the service is starting (its dependencies are not answering yet) or took too long.
    Unavailable => {
        let mut response = error_response(
            "The service is starting and waiting for its database or broker (`Service is \
             starting`), or took longer than 30 s to answer (then with `Retry-After`).",
            limits::TOO_SLOW,
        );
        response.headers.insert(
            "Retry-After".to_owned(),
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)))
                .description(Some("Seconds to wait before trying again."))
                .build(),
        );
        response
    };
}

/// What a route that reads a JSON body can answer before its own checks: 408, 413, 415. (Its
/// 400 — malformed JSON, not an object, and its fields' own messages — the route says itself.)
pub struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = RawBody::responses();
        responses.insert("415".to_owned(), reference::<NotJson>());
        responses
    }
}

/// What a route that reads its body as bytes (any content type) can answer before its own
/// checks: 408, 413.
pub struct RawBody;

impl IntoResponses for RawBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            ("408".to_owned(), reference::<BodyTooSlow>()),
            ("413".to_owned(), reference::<BodyTooLarge>()),
        ])
    }
}

/// A reference to a reusable response.
pub(super) fn reference<'r, R: ToResponse<'r>>() -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(R::response().0))
}

/// The schemas the error responses refer to.
pub(super) fn schemas() -> Vec<(String, RefOr<utoipa::openapi::Schema>)> {
    vec![
        (ErrorBody::name().into_owned(), ErrorBody::schema()),
        (
            crate::FieldError::name().into_owned(),
            crate::FieldError::schema(),
        ),
    ]
}
