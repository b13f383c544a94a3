//! `POST /api/payments`: pay for one of your orders (DESIGN.md §2).

use std::borrow::Cow;

use axum::{Router, extract::State, http::StatusCode, routing::post};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    ApiError, FieldError,
    domain::{OrderId, PaymentId},
    extract::{Json, RequireUser, TextField, ValidatedJson},
    protect::BodyLimit,
};
use validator::{Validate, ValidationError};

use crate::{
    checkout,
    domain::{PaymentToken, TokenError},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/payments", post(create).layer(PAYMENT_BODY.layer()))
}

/// An order id (24 characters) and a Stripe token (a few dozen).
const PAYMENT_BODY: BodyLimit = BodyLimit::kib(2);

const ORDER_ID_REQUIRED: &str = "OrderId must be provided";

#[derive(Debug, Default, Deserialize, Validate)]
#[serde(default, rename_all = "camelCase")]
pub struct NewPaymentBody {
    #[validate(custom(function = "valid_order_id", message = "OrderId must be provided"))]
    order_id: TextField,
    #[validate(custom(function = "valid_token"))]
    token: TextField,
}

fn valid_order_id(raw: &TextField) -> Result<(), ValidationError> {
    OrderId::parse(raw.as_str().trim())
        .map(drop)
        .map_err(|_| ValidationError::new("orderId"))
}

fn valid_token(raw: &TextField) -> Result<(), ValidationError> {
    PaymentToken::parse(raw.as_str()).map(drop).map_err(|err| {
        let code = match err {
            TokenError::Missing => "required",
            TokenError::Malformed => "malformed",
        };
        ValidationError::new(code).with_message(Cow::Owned(err.to_string()))
    })
}

#[derive(Debug, Serialize)]
pub struct Created {
    id: PaymentId,
}

#[tracing::instrument(name = "pay", skip_all, fields(user_id = %user.id))]
async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    ValidatedJson(body): ValidatedJson<NewPaymentBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let order_id = OrderId::parse(body.order_id.as_str().trim())
        .map_err(|_| ApiError::Validation(vec![FieldError::on("orderId", ORDER_ID_REQUIRED)]))?;
    let token = PaymentToken::parse(body.token.as_str())
        .map_err(|err| ApiError::Validation(vec![FieldError::on("token", err.to_string())]))?;
    let payment = checkout::pay(&state, user.id, order_id, &token).await?;
    Ok((StatusCode::CREATED, Json(Created { id: payment.id })))
}
