//! `POST /api/payments/intents {orderId}`: the PaymentIntent that pays for one of your orders by
//! card, for Stripe.js to confirm in the browser (3-D Secure included). The same checks as paying
//! with a token, with the same messages; the same order always gets the same PaymentIntent.

use axum::{Router, extract::State, routing::post};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    ApiError, FieldError,
    domain::OrderId,
    extract::{Json, RequireUser, TextField, ValidatedJson},
    protect::BodyLimit,
};
use validator::{Validate, ValidationError};

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

const ORDER_ID_REQUIRED: &str = "OrderId must be provided";

#[derive(Debug, Default, Deserialize, Validate)]
#[serde(default, rename_all = "camelCase")]
pub struct NewIntentBody {
    #[validate(custom(function = "valid_order_id", message = "OrderId must be provided"))]
    order_id: TextField,
}

fn valid_order_id(raw: &TextField) -> Result<(), ValidationError> {
    OrderId::parse(raw.as_str().trim())
        .map(drop)
        .map_err(|_| ValidationError::new("orderId"))
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
    ValidatedJson(body): ValidatedJson<NewIntentBody>,
) -> Result<Json<Opened>, ApiError> {
    let order_id = OrderId::parse(body.order_id.as_str().trim())
        .map_err(|_| ApiError::Validation(vec![FieldError::on("orderId", ORDER_ID_REQUIRED)]))?;
    let intent = checkout::open_card_payment(&state, user.id, order_id).await?;
    Ok(Json(Opened {
        id: intent.id,
        client_secret: intent.client_secret,
    }))
}
