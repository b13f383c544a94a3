//! `POST /api/payments/intents {orderId}`: the PaymentIntent that pays for one of your orders by
//! card, for Stripe.js to confirm in the browser (3-D Secure included). The same checks as paying
//! with a token, with the same messages; the same order always gets the same PaymentIntent.

use axum::{Router, extract::State, routing::post};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    ApiError,
    domain::OrderId,
    extract::{FromBody, InvalidBody, Json, Parsed, RequireUser, TextField},
    protect::BodyLimit,
};

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

/// The card payment body as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NewIntentBody {
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Opened {
    id: PaymentIntentId,
    client_secret: ClientSecret,
}

#[tracing::instrument(name = "open_card_payment", skip_all, fields(user_id = %user.id))]
async fn create(
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
