//! `POST /api/payments`: pay for one of your orders (DESIGN.md §2).

use axum::{Router, extract::State, http::StatusCode, routing::post};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    ApiError,
    domain::{OrderId, PaymentId},
    error::ErrorBody,
    extract::{FromBody, InvalidBody, Json, OnField, Parsed, RequireUser, TextField},
    openapi::responses::JsonBody,
    protect::BodyLimit,
};
use utoipa::ToSchema;

use super::order_id;
use crate::{checkout, domain::PaymentToken, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/payments", post(create).layer(PAYMENT_BODY.layer()))
}

/// An order id (24 characters) and a Stripe token (a few dozen).
const PAYMENT_BODY: BodyLimit = BodyLimit::kib(2);

/// The order to pay for and the card's token.
// Each field is `serde(default)`, not the whole body, so the document shows no default for them:
// both are required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewPaymentBody {
    /// The order to pay for: `OrderId must be provided` when absent or not an id.
    #[serde(default)]
    #[schema(value_type = OrderId, required = true)]
    order_id: TextField,
    /// What Stripe.js gave for the card (`tok_…`, or a card, source or payment method id):
    /// `Token is required`, `Token is invalid` (letters, digits and `_`, at most 200).
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9_]{1,200}$", examples("tok_visa"))]
    token: TextField,
}

/// Pay for this order with this card token.
#[derive(Debug)]
pub struct NewPayment {
    order_id: OrderId,
    token: PaymentToken,
}

impl FromBody for NewPayment {
    type Body = NewPaymentBody;
}

impl TryFrom<NewPaymentBody> for NewPayment {
    type Error = InvalidBody;

    fn try_from(body: NewPaymentBody) -> Result<Self, InvalidBody> {
        let order_id = order_id(&body.order_id);
        let token = PaymentToken::parse(body.token.as_str()).on_field("token");
        match (order_id, token) {
            (Ok(order_id), Ok(token)) => Ok(Self { order_id, token }),
            (order_id, token) => Err(InvalidBody::of([order_id.err(), token.err()])),
        }
    }
}

/// The order's payment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Payment)]
pub struct Created {
    id: PaymentId,
}

/// Pays for one of the signed-in user's orders with a Stripe token.
///
/// The order's price is charged once (an idempotency key per order), and the order is `complete`
/// a moment later.
#[utoipa::path(
    post,
    path = "/api/payments",
    operation_id = "pay",
    tag = "payments",
    security(("session" = [])),
    request_body = NewPaymentBody,
    responses(
        (status = 201, description = "The payment.", body = Created),
        (status = 400, description = "One entry per broken field (`orderId`, `token`), a body \
            that is not a JSON object, `Cannot pay for a cancelled order` (also past its \
            expiry), `Order already paid`, or Stripe's word on an unusable token.",
            body = ErrorBody),
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
#[tracing::instrument(name = "pay", skip_all, fields(user_id = %user.id))]
pub(super) async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Parsed(NewPayment { order_id, token }): Parsed<NewPayment>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let payment = checkout::pay(&state, user.id, order_id, &token).await?;
    Ok((StatusCode::CREATED, Json(Created { id: payment.id })))
}
