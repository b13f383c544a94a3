//! `POST /api/payments/intents {orderId}`: the PaymentIntent that pays for one of your orders by
//! card, for Stripe.js to confirm in the browser (3-D Secure included). The same checks as paying
//! with a token, with the same messages; the same order always gets the same PaymentIntent.

use axum::{Router, extract::State, routing::post};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    ApiError,
    domain::OrderId,
    error::ErrorBody,
    extract::{FromBody, InvalidBody, Json, Parsed, RequireUser, TextField},
    openapi::responses::JsonBody,
    protect::BodyLimit,
};
use utoipa::ToSchema;

use super::order_id;
use crate::{
    checkout,
    domain::{ClientSecret, PaymentIntentId},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/payments/intents",
        post(create).layer(INTENT_BODY.layer()),
    )
}

/// An order id (24 characters).
const INTENT_BODY: BodyLimit = BodyLimit::kib(2);

/// The order to pay for by card.
// The field is `serde(default)`, not the whole body, so the document shows no default for it: it
// is required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewIntentBody {
    /// The order to pay for: `OrderId must be provided` when absent or not an id.
    #[serde(default)]
    #[schema(value_type = OrderId, required = true)]
    order_id: TextField,
}

/// Open the card payment of this order.
#[derive(Debug)]
pub struct NewIntent {
    order_id: OrderId,
}

impl FromBody for NewIntent {
    type Body = NewIntentBody;
}

impl TryFrom<NewIntentBody> for NewIntent {
    type Error = InvalidBody;

    fn try_from(body: NewIntentBody) -> Result<Self, InvalidBody> {
        Ok(Self {
            order_id: order_id(&body.order_id)?,
        })
    }
}

/// The order's PaymentIntent, for Stripe.js's `confirmCardPayment`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CardPayment)]
pub struct Opened {
    /// Stripe's PaymentIntent id (`pi_…`).
    #[schema(value_type = String, examples("pi_1N3T00LkdIwHu7ix"))]
    id: PaymentIntentId,
    /// What Stripe.js confirms the PaymentIntent with (`pi_…_secret_…`).
    #[schema(value_type = String, examples("pi_1N3T00LkdIwHu7ix_secret_Xyz"))]
    client_secret: ClientSecret,
}

/// Opens the card payment of one of the signed-in user's orders.
///
/// Its PaymentIntent, the same one for every call for that order; the payment itself is recorded
/// when Stripe's webhook reports it. Served only when card payments are on
/// (`STRIPE_WEBHOOK_SECRET`); otherwise a 404.
#[utoipa::path(
    post,
    path = "/api/payments/intents",
    operation_id = "openCardPayment",
    tag = "payments",
    security(("session" = [])),
    request_body = NewIntentBody,
    responses(
        (status = 200, description = "The order's PaymentIntent.", body = Opened),
        (status = 400, description = "`OrderId must be provided` (field `orderId`), a body \
            that is not a JSON object, `Cannot pay for a cancelled order` (also past its \
            expiry), or `Order already paid`.", body = ErrorBody),
        (status = 401, description = "No valid session, or someone else's order: \
            `Not authorized`.", body = ErrorBody),
        (status = 402, description = "Stripe declined the card; its message says why.",
            body = ErrorBody),
        (status = 404, description = "No order has that id (yet: payments learns of an order \
            from its event, a moment after it is placed): `Not Found`.", body = ErrorBody),
        (status = 409, description = "Stripe is still processing an earlier request for this \
            order; its message says so.", body = ErrorBody),
        (status = 502, description = "Stripe failed or could not be reached: `The payment \
            provider is not available, please try again`.", body = ErrorBody),
        JsonBody,
    )
)]
#[tracing::instrument(name = "open_card_payment", skip_all, fields(user_id = %user.id))]
pub(super) async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Parsed(NewIntent { order_id }): Parsed<NewIntent>,
) -> Result<Json<Opened>, ApiError> {
    let intent = checkout::open_card_payment(&state, user.id, order_id).await?;
    Ok(Json(Opened {
        id: intent.id,
        client_secret: intent.client_secret,
    }))
}
