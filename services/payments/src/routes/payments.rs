//! `POST /api/payments`: pay for one of your orders (DESIGN.md §2).

use axum::{Router, extract::State, http::StatusCode, routing::post};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    ApiError,
    domain::{OrderId, PaymentId},
    extract::{FromBody, InvalidBody, Json, OnField, Parsed, RequireUser, TextField},
    protect::BodyLimit,
};

use super::order_id;
use crate::{checkout, domain::PaymentToken, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/payments", post(create).layer(PAYMENT_BODY.layer()))
}

/// An order id (24 characters) and a Stripe token (a few dozen).
const PAYMENT_BODY: BodyLimit = BodyLimit::kib(2);

/// The payment body as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NewPaymentBody {
    order_id: TextField,
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

#[derive(Debug, Serialize)]
pub struct Created {
    id: PaymentId,
}

#[tracing::instrument(name = "pay", skip_all, fields(user_id = %user.id))]
async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Parsed(NewPayment { order_id, token }): Parsed<NewPayment>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let payment = checkout::pay(&state, user.id, order_id, &token).await?;
    Ok((StatusCode::CREATED, Json(Created { id: payment.id })))
}
