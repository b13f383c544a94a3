//! Builds the payments service: HTTP API, outbox relay, the order listeners and the sweep that
//! retries refunds and checks payments a crash left unchecked.

use std::time::Duration;

use ticketing_common::{
    app::{Service, Starting, Worker},
    config::StreamConfig,
    events::{OutboxRelay, OutboxSignal},
    server,
    session::Sessions,
};

use crate::{
    configuration::Settings,
    events::{OrderCancelledListener, OrderCreatedListener},
    gateway::Gateway,
    refunder::Refunder,
    routes, settlement,
    state::AppState,
    store::{OrderReplicas, Payments, Refunds},
    webhook::SignatureVerifier,
};

pub const SERVICE: &str = "payments";

/// Serves `/healthz` at once, waits for MongoDB and NATS (retrying for as long as it takes),
/// then opens the stores (indexes) and returns the service serving its routes.
pub async fn build(settings: Settings) -> anyhow::Result<Service> {
    let stream = StreamConfig::from_env()?;
    let gateway = Gateway::new(&settings.stripe)?;
    let starting = Starting::bind(SERVICE, &settings.http).await?;
    let (db, bus) = tokio::try_join!(
        starting.mongo(&settings.mongo, SERVICE),
        starting.event_bus(&settings.nats, &stream),
    )?;
    let signal = OutboxSignal::default();
    let (orders, payments, refunds) = starting
        .wait_for("the payments stores (indexes)", || async {
            Ok((
                OrderReplicas::open(&db).await?,
                Payments::open(&db, signal.clone()).await?,
                Refunds::open(&db).await?,
            ))
        })
        .await;
    let refunder = Refunder::new(refunds, gateway.clone());
    let webhook = settings
        .stripe
        .webhook_secret
        .as_ref()
        .map(SignatureVerifier::new);
    if webhook.is_none() {
        tracing::warn!(
            "STRIPE_WEBHOOK_SECRET is not set: card payments (PaymentIntents and Stripe's webhook) are off; only the token route is served"
        );
    }
    let card_payments = webhook.is_some();
    let state = AppState {
        orders: orders.clone(),
        payments: payments.clone(),
        gateway,
        refunder,
        sessions: Sessions::new(&settings.session),
        webhook,
    };
    let relay = OutboxRelay::new(bus.publisher(), vec![payments.outbox_collection()], signal);
    // Stripe is not probed: its outage is a 502 per payment, not a reason to stop serving.
    let probes = server::Probes::new(vec![Box::new(db), Box::new(bus.clone())]);
    Ok(starting
        .ready(
            routes::router(card_payments).with_state(state.clone()),
            probes,
        )
        .with_worker(Worker::outbox_relay(relay))
        .with_worker(Worker::listener(
            &bus,
            SERVICE,
            OrderCreatedListener { orders },
        ))
        .with_worker(Worker::listener(
            &bus,
            SERVICE,
            OrderCancelledListener {
                state: state.clone(),
            },
        ))
        .with_worker(settlement_sweep(state, settings.sweep_interval))
        .with_bus(bus))
}

fn settlement_sweep(state: AppState, interval: Duration) -> Worker {
    Worker::new("refund and payment check sweep", move |stop| async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = stop.cancelled() => return Ok(()),
            }
            if let Err(err) = settlement::sweep(&state).await {
                tracing::warn!(error = %format!("{err:#}"), "settlement sweep failed");
            }
        }
    })
}
