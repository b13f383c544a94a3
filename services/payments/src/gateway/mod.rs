//! Stripe, behind the three calls payments makes: charge an order's price with the buyer's token,
//! open the PaymentIntent the buyer's browser confirms with a card, and refund a charge. Each call carries an idempotency key derived from what it is about
//! ([`keys`]), so a repeated call (a retried request, a redelivered event, the retry worker) gets
//! Stripe's first answer back instead of moving money twice.

mod error;
pub mod keys;

use std::{collections::HashMap, time::Duration};

use anyhow::Context;
use stripe::{Client, ClientBuilder, RequestStrategy, StripeRequest};
use stripe_core::{
    PaymentIntentAllowedPaymentMethodTypes, charge::CreateCharge,
    payment_intent::CreatePaymentIntent, refund::CreateRefund,
};
use stripe_types::Currency;
use ticketing_common::domain::{Money, OrderId};

pub use error::GatewayError;

use crate::{
    configuration::StripeConfig,
    domain::{
        CardIntent, ChargeId, ClientSecret, PaymentIntentId, PaymentToken, RefundId, StripeIdError,
    },
    webhook::ORDER_METADATA_KEY,
};

/// The Stripe API client, pointed at `STRIPE_API_BASE`. Cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    client: Client,
}

impl Gateway {
    /// Per attempt. A charge that times out may still have happened: the buyer's retry with the
    /// same token carries the same key, so Stripe hands back that charge rather than a second one.
    pub const TIMEOUT: Duration = Duration::from_secs(15);

    pub fn new(config: &StripeConfig) -> anyhow::Result<Self> {
        let client = ClientBuilder::new(config.secret_key.clone())
            .url(config.api_base.clone())
            .timeout(Self::TIMEOUT)
            .app_info(
                "ticketing-payments",
                Some(env!("CARGO_PKG_VERSION").to_owned()),
                None,
            )
            .build()
            .context("building the Stripe client")?;
        Ok(Self { client })
    }

    /// Charges `amount` (in cents, USD) to `token` for `order` through the Charges API.
    #[tracing::instrument(name = "stripe_charge", skip_all, fields(%order, cents = amount.cents()))]
    pub async fn charge(
        &self,
        order: OrderId,
        amount: Money,
        token: &PaymentToken,
    ) -> Result<ChargeId, GatewayError> {
        let key = keys::charge(order, token)?;
        let charge = CreateCharge::new()
            .amount(amount.cents())
            .currency(Currency::USD)
            .source(token.as_str())
            .description(format!("Ticketing order {order}"))
            .metadata(order_metadata(order))
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&self.client)
            .await?;
        let id = ChargeId::new(charge.id.as_str())
            .map_err(|err| GatewayError::Unavailable(err.to_string()))?;
        tracing::info!(charge_id = %id, "charged");
        Ok(id)
    }

    /// Opens the PaymentIntent for `amount` (in cents, USD) that pays for `order` by card, or
    /// gets the one opened before (same idempotency key). The order rides in its metadata, which
    /// is how the webhook knows what a `payment_intent.succeeded` paid for. Cards only: a card
    /// confirms in the page (3-D Secure included), with no redirect to come back from.
    #[tracing::instrument(name = "stripe_payment_intent", skip_all, fields(%order, cents = amount.cents()))]
    pub async fn create_intent(
        &self,
        order: OrderId,
        amount: Money,
    ) -> Result<CardIntent, GatewayError> {
        let key = keys::intent(order)?;
        let intent = CreatePaymentIntent::new(amount.cents(), Currency::USD)
            .allowed_payment_method_types(vec![PaymentIntentAllowedPaymentMethodTypes::Card])
            .description(format!("Ticketing order {order}"))
            .metadata(order_metadata(order))
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&self.client)
            .await?;
        let unusable = |err: StripeIdError| GatewayError::Unavailable(err.to_string());
        let id = PaymentIntentId::new(intent.id.as_str()).map_err(unusable)?;
        let client_secret =
            ClientSecret::new(intent.client_secret.unwrap_or_default()).map_err(unusable)?;
        tracing::info!(payment_intent_id = %id, "payment intent opened");
        Ok(CardIntent { id, client_secret })
    }

    /// Refunds the whole of `charge`, made for `order`.
    #[tracing::instrument(name = "stripe_refund", skip_all, fields(%order, %charge))]
    pub async fn refund(
        &self,
        order: OrderId,
        charge: &ChargeId,
    ) -> Result<RefundId, GatewayError> {
        let key = keys::refund(order, charge)?;
        let refund = CreateRefund::new()
            .charge(charge.as_str())
            .metadata(order_metadata(order))
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&self.client)
            .await?;
        let id = RefundId::new(refund.id.as_str())
            .map_err(|err| GatewayError::Unavailable(err.to_string()))?;
        tracing::info!(refund_id = %id, "refunded");
        Ok(id)
    }
}

/// Lets whoever reads the Stripe dashboard find the order a charge or refund belongs to.
fn order_metadata(order: OrderId) -> HashMap<String, String> {
    HashMap::from([(ORDER_METADATA_KEY.to_owned(), order.to_string())])
}
