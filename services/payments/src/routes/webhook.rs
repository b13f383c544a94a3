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
    error::ErrorBody,
    extract::{Json, RawBody},
    openapi::responses,
    protect::BodyLimit,
};
use utoipa::ToSchema;

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
#[derive(Debug, Serialize, ToSchema)]
pub struct Acknowledged {
    #[schema(examples(true))]
    received: bool,
}

/// Receives Stripe's events.
///
/// `payment_intent.succeeded` records the order's payment; other events are acknowledged and
/// ignored. Authenticated by `Stripe-Signature`, the HMAC-SHA256 of the exact body under the
/// endpoint's signing secret, within 5 minutes. Served only when card payments are on
/// (`STRIPE_WEBHOOK_SECRET`); otherwise a 404.
#[utoipa::path(
    post,
    path = "/api/payments/webhook",
    operation_id = "receiveStripeEvent",
    tag = "payments",
    params(("Stripe-Signature" = String, Header,
        description = "`t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">`, as Stripe signs")),
    request_body(content = Object, content_type = "application/json",
        description = "A Stripe event, as Stripe sent it (read as bytes: the signature covers \
            them exactly)."),
    responses(
        (status = 200, description = "Received (recorded once, or ignored).", body = Acknowledged),
        (status = 400, description = "`Missing Stripe-Signature header`, `Invalid Stripe \
            signature`, `Stripe signature timestamp is outside the tolerance`, or a signed body \
            that is not an event: `Unreadable Stripe event`.", body = ErrorBody),
        (status = 404, description = "Card payments are off: `Not Found`.", body = ErrorBody),
        responses::RawBody,
    )
)]
pub(super) async fn receive(
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
