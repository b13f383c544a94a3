//! `POST /api/payments/webhook`: Stripe's deliveries ([`crate::webhook`]). No session: the
//! signature over the exact body is the authentication, so the body is read raw.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderName},
    routing::post,
};
use serde::Serialize;
use ticketing_common::{
    ApiError,
    extract::{Json, RawBody},
    protect::BodyLimit,
};

use crate::{state::AppState, webhook};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/payments/webhook",
        post(receive).layer(WEBHOOK_BODY.layer()),
    )
}

/// A Stripe event is a few KiB (the PaymentIntent with its charge summary); Stripe documents no
/// maximum, so this leaves room for large metadata.
pub const WEBHOOK_BODY: BodyLimit = BodyLimit::kib(64);

const STRIPE_SIGNATURE: HeaderName = HeaderName::from_static("stripe-signature");

/// What Stripe is told on success (it reads only the status).
#[derive(Debug, Serialize)]
pub struct Acknowledged {
    received: bool,
}

async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<Acknowledged>, ApiError> {
    // Mounted only with a secret (routes::router); without one nothing could be verified.
    let verifier = state.webhook.as_ref().ok_or(ApiError::NotFound)?;
    let signature = headers
        .get(STRIPE_SIGNATURE)
        .and_then(|value| value.to_str().ok());
    let received = webhook::receive(&state, verifier, signature, &body).await?;
    tracing::debug!(?received, "Stripe webhook delivery handled");
    Ok(Json(Acknowledged { received: true }))
}
