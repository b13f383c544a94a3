//! The payments service's API as OpenAPI 3.1: its routes with their bodies, answers and errors,
//! generated from the handlers' `#[utoipa::path]` attributes (common::openapi holds what every
//! service's document shares). The fleet's document merges it with the others. It describes the
//! card payment routes too, which are served only when card payments are on.

use ticketing_common::openapi::Conventions;
use utoipa::OpenApi;

use super::{intents, payments, webhook};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ticketing — payments",
        description = "Paying for an order: with a Stripe token, or by card through a \
            PaymentIntent and Stripe's signed webhook."
    ),
    paths(payments::create, intents::create, webhook::receive),
    tags((name = "payments", description = "Paying for orders")),
    modifiers(&Conventions)
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use ticketing_common::openapi::coverage::assert_documented;

    use super::*;

    #[test]
    fn every_route_is_documented_and_every_operation_routed() {
        assert_documented(&super::super::router(true), &ApiDoc::openapi());
    }
}
