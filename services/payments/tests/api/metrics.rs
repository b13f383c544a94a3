//! Payment outcomes on `/metrics`. The counter has one label, the outcome, and every test of this
//! process pays: a test proves its own attempt was counted by the counter having grown by it.

use std::time::Duration;

use ticketing_common::{
    domain::UserId,
    metrics::{self, PaymentOutcome, catalogue},
    testing,
};

use crate::{
    helpers::{TestApp, spawn_app},
    stripe_double::Answer,
};

fn count(outcome: PaymentOutcome) -> f64 {
    metrics::sample(catalogue::PAYMENTS, &[("outcome", outcome.as_str())]).unwrap_or(0.0)
}

/// Runs `attempt` and waits until `outcome` has grown by at least one (a refund is counted
/// right after it is recorded, which is what the attempt waits for).
async fn counts<F: AsyncFnOnce(&TestApp)>(app: &TestApp, outcome: PaymentOutcome, attempt: F) {
    let before = count(outcome);
    attempt(app).await;
    let grown = testing::eventually(Duration::from_secs(5), async || {
        (count(outcome) >= before + 1.0).then_some(())
    })
    .await;
    assert!(
        grown.is_some(),
        "{} should have grown from {before}, is {}",
        outcome.as_str(),
        count(outcome)
    );
}

#[tokio::test]
async fn each_outcome_of_a_payment_is_counted() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let order = app.order(buyer, 2500).await;

    counts(&app, PaymentOutcome::Declined, async |app| {
        app.stripe.answer_charges(Answer::card_declined());
        assert_eq!(
            app.pay_with(buyer, order, "tok_chargeDeclined")
                .await
                .status(),
            402
        );
    })
    .await;
    counts(&app, PaymentOutcome::GatewayError, async |app| {
        app.stripe.answer_charges(Answer::outage());
        assert_eq!(app.pay_with(buyer, order, "tok_outage").await.status(), 502);
    })
    .await;
    counts(&app, PaymentOutcome::Succeeded, async |app| {
        app.stripe.answer_charges(Answer::Forward);
        assert_eq!(app.pay_with(buyer, order, "tok_visa").await.status(), 201);
    })
    .await;
    counts(&app, PaymentOutcome::Refunded, async |app| {
        app.publish_order_cancelled(order, 1).await;
        app.refunds_when(order, |refunds| {
            refunds
                .iter()
                .any(|r| r.status == payments::store::RefundStatus::Refunded)
        })
        .await;
    })
    .await;

    let scraped = reqwest::get(app.url("/metrics"))
        .await
        .expect("scraped")
        .text()
        .await
        .expect("a body");
    assert!(
        scraped.contains(r#"ticketing_payments_total{outcome="refunded"}"#),
        "served on the service's own /metrics"
    );
}
