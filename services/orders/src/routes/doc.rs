//! The orders service's API as OpenAPI 3.1: its routes with their bodies, answers and errors,
//! generated from the handlers' `#[utoipa::path]` attributes (common::openapi holds what every
//! service's document shares). The fleet's document merges it with the others.

use ticketing_common::openapi::Conventions;
use utoipa::OpenApi;

use super::orders;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ticketing — orders",
        description = "Orders: reserving a ticket for 15 minutes, showing and cancelling the reservation."
    ),
    paths(orders::list, orders::create, orders::show, orders::cancel),
    tags((name = "orders", description = "Reservations of tickets")),
    modifiers(&Conventions)
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use ticketing_common::openapi::coverage::assert_documented;

    use super::*;

    #[test]
    fn every_route_is_documented_and_every_operation_routed() {
        assert_documented(&super::super::router(), &ApiDoc::openapi());
    }
}
