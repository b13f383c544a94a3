//! The HTTP API: one module per resource, one place where errors become API errors, and the
//! OpenAPI document ([`ApiDoc`]).

mod doc;
mod errors;
mod intents;
mod payments;
mod webhook;

use axum::Router;
use ticketing_common::{
    FieldError,
    domain::OrderId,
    extract::{OnField, TextField},
};

pub use doc::ApiDoc;
pub use errors::messages;
pub use webhook::WEBHOOK_BODY;

use crate::state::AppState;

/// The token route always; card payments (the PaymentIntent route and Stripe's webhook) only
/// when the service has the webhook's signing secret: without it no card payment could ever be
/// recorded, so none is opened.
pub fn router(card_payments: bool) -> Router<AppState> {
    let router = Router::new().merge(payments::router());
    if card_payments {
        router.merge(intents::router()).merge(webhook::router())
    } else {
        router
    }
}

/// The `orderId` field of a payment body: one message for a missing and a malformed id alike.
fn order_id(raw: &TextField) -> Result<OrderId, FieldError> {
    OrderId::parse(raw.as_str().trim())
        .map_err(|_| messages::ORDER_ID_REQUIRED)
        .on_field("orderId")
}
