//! How a list route's paging reads in the document (common::pagination): its two query
//! parameters, `params(PageParams)`.

use utoipa::{
    IntoParams,
    openapi::{
        ObjectBuilder, Required, Type,
        path::{Parameter, ParameterBuilder, ParameterIn},
    },
};

use crate::pagination::{DEFAULT_LIMIT, MAX_LIMIT, messages};

/// `?limit=N&cursor=C`.
pub struct PageParams;

impl IntoParams for PageParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("limit")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(format!(
                    "Items per page, 1 to {MAX_LIMIT} ({DEFAULT_LIMIT} when absent); anything \
                     else is a 400 `{}` on the field `limit`.",
                    messages::LIMIT_INVALID
                )))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1))
                        .maximum(Some(MAX_LIMIT))
                        .default(Some(DEFAULT_LIMIT.into())),
                ))
                .build(),
            ParameterBuilder::new()
                .name("cursor")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(format!(
                    "Where the page starts: the opaque cursor of the previous page's `Link` or \
                     `X-Next-Cursor`; one not issued by this list is a 400 `{}` on the field \
                     `cursor`.",
                    messages::CURSOR_INVALID
                )))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some("^[A-Za-z0-9_-]{1,128}$")),
                ))
                .build(),
        ]
    }
}
