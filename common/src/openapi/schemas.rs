//! The shared domain types as the API writes them (their serde forms, common::domain).

use std::borrow::Cow;

use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        ObjectBuilder, RefOr, Schema, Type,
        schema::{KnownFormat, SchemaFormat},
    },
};

use crate::domain::{Money, OrderId, OrderStatus, PaymentId, TicketId, UserId, Version};

macro_rules! id_schema {
    ($($id:ty => $what:literal),* $(,)?) => {$(
        impl PartialSchema for $id {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(concat!(
                        "The ", $what, "'s id: 24 lowercase hexadecimal characters (a MongoDB ObjectId)."
                    )))
                    .pattern(Some("^[0-9a-f]{24}$"))
                    .examples(["65f1c0ffee0ddba11c0ffee0"])
                    .into()
            }
        }

        impl ToSchema for $id {}
    )*};
}

id_schema!(
    TicketId => "ticket",
    OrderId => "order",
    UserId => "user",
    PaymentId => "payment",
);

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some(
                "US dollars, 0.01 to 1000000000, with at most two decimals (held as integer \
                 cents, so 19.99 stays 19.99).",
            ))
            .minimum(Some(0.01))
            .maximum(Some(Money::MAX_DOLLARS))
            .examples([25.5])
            .into()
    }
}

impl ToSchema for Money {}

impl PartialSchema for Version {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .description(Some("0 when created, +1 on every change."))
            .minimum(Some(0))
            .into()
    }
}

impl ToSchema for Version {}

impl PartialSchema for OrderStatus {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "`created`, then `complete` (paid) or `cancelled` (by the buyer, or on expiry); \
                 both are final.",
            ))
            .enum_values(Some(
                [
                    OrderStatus::Created,
                    OrderStatus::Cancelled,
                    OrderStatus::Complete,
                ]
                .map(OrderStatus::as_str),
            ))
            .into()
    }
}

impl ToSchema for OrderStatus {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OrderStatus")
    }
}
