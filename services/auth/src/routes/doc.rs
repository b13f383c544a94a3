//! The auth service's API as OpenAPI 3.1: its routes with their bodies, answers and errors,
//! generated from the handlers' `#[utoipa::path]` attributes (common::openapi holds what every
//! service's document shares). The fleet's document merges it with the others.

use ticketing_common::openapi::Conventions;
use utoipa::OpenApi;

use super::{current_user, signin, signout, signup};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ticketing — auth",
        description = "Users: sign-up, sign-in, sign-out and the session cookie."
    ),
    paths(
        signup::signup,
        signin::signin,
        signout::signout,
        current_user::current_user
    ),
    tags((name = "users", description = "Users and their session")),
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
