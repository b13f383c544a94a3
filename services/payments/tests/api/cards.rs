//! Card payments from the outside: the PaymentIntent route as the browser calls it, and Stripe's
//! webhook as Stripe delivers to it — events shaped like Stripe's, signed here with the endpoint
//! secret the app is configured with (or not, or badly, or too long ago).

use chrono::Utc;
use payments::webhook::{WebhookSecret, signature_header};
use reqwest::Response;
use serde_json::{Value, json};
use ticketing_common::{
    domain::{Money, OrderId, OrderStatus, TicketId, UserId, Version},
    events::{Envelope, OrderCreated, OrderedTicket},
};

use crate::helpers::TestApp;

/// The webhook signing secret of the app under test (helpers.rs configures it).
pub const WEBHOOK_SECRET: &str = "whsec_payments_tests";

pub fn now() -> i64 {
    Utc::now().timestamp()
}

/// `Stripe-Signature` for `body` signed at `at` with `secret`.
pub fn signed_with(secret: &str, body: &[u8], at: i64) -> String {
    signature_header(&WebhookSecret::parse(secret).expect("a secret"), at, body)
}

/// `Stripe-Signature` for `body` as Stripe would sign it for the app, at `at`.
pub fn signed(body: &[u8], at: i64) -> String {
    signed_with(WEBHOOK_SECRET, body, at)
}

/// A Stripe event of `kind` about the PaymentIntent of `order`, charged `charge` for `cents`.
pub fn intent_event(kind: &str, order: OrderId, charge: &str, cents: i64) -> Value {
    let succeeded = kind == "payment_intent.succeeded";
    json!({
        "id": format!("evt_{}", unique_suffix()),
        "object": "event",
        "api_version": "2026-09-30.endive",
        "created": now(),
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": format!("intent-{order}") },
        "type": kind,
        "data": { "object": {
            "id": format!("pi_{order}"),
            "object": "payment_intent",
            "amount": cents,
            "amount_received": if succeeded { cents } else { 0 },
            "currency": "usd",
            "status": kind.strip_prefix("payment_intent.").map(|status| match status {
                "payment_failed" => "requires_payment_method",
                other => other,
            }),
            "latest_charge": charge,
            "metadata": { "order_id": order.to_string() },
        } },
    })
}

/// `payment_intent.succeeded` for `order`: `charge` took `cents`.
pub fn succeeded(order: OrderId, charge: &str, cents: i64) -> Value {
    intent_event("payment_intent.succeeded", order, charge, cents)
}

fn unique_suffix() -> String {
    OrderId::new().to_string()
}

impl TestApp {
    pub async fn open_intent(&self, user: Option<UserId>, body: &Value) -> Response {
        self.post_as("/api/payments/intents", user, body).await
    }

    /// Opens the PaymentIntent of `order` as `user`.
    pub async fn open_intent_for(&self, user: UserId, order: OrderId) -> Response {
        self.open_intent(Some(user), &json!({ "orderId": order }))
            .await
    }

    /// Delivers `body` to the webhook with `signature` as its `Stripe-Signature`.
    pub async fn deliver(&self, body: &[u8], signature: Option<&str>) -> Response {
        let mut request = self
            .api
            .post(self.url("/api/payments/webhook"))
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request.send().await.expect("request sent")
    }

    /// Delivers `event` signed now, as Stripe does.
    pub async fn deliver_signed(&self, event: &Value) -> Response {
        let body = event.to_string().into_bytes();
        self.deliver(&body, Some(&signed(&body, now()))).await
    }

    /// An order of `buyer` for `cents` whose expiry has passed, its cancellation not yet arrived.
    pub async fn expired_order(&self, buyer: UserId, cents: i64) -> OrderId {
        let id = OrderId::new();
        let event = Envelope::new(OrderCreated {
            id,
            version: Version::INITIAL,
            status: OrderStatus::Created,
            user_id: buyer,
            expires_at: Utc::now() - chrono::Duration::seconds(1),
            ticket: OrderedTicket {
                id: TicketId::new(),
                price: Money::from_cents(cents).expect("money"),
            },
        });
        self.bus
            .publisher()
            .publish(&event)
            .await
            .expect("published");
        self.replica_when(id, |replica| replica.is_some()).await;
        id
    }
}
