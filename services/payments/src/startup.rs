//! Builds the payments service: HTTP API, outbox relay, the order listeners and the sweep that
//! retries refunds and checks payments a crash left unchecked.

use std::time::Duration;

use ticketing_common::{
    app::{Service, Worker},
    events::{EventBus, OutboxRelay, OutboxSignal},
    mongo, server,
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
};

pub const SERVICE: &str = "payments";

pub async fn build(settings: Settings) -> anyhow::Result<Service> {
    let db = mongo::connect(&settings.mongo, SERVICE).await?;
    let bus = EventBus::connect(&settings.nats).await?;
    let signal = OutboxSignal::default();
    let orders = OrderReplicas::open(&db).await?;
    let payments = Payments::open(&db, signal.clone()).await?;
    let gateway = Gateway::new(&settings.stripe)?;
    let refunder = Refunder::new(Refunds::open(&db).await?, gateway.clone());
    let state = AppState {
        orders: orders.clone(),
        payments: payments.clone(),
        gateway,
        refunder,
        sessions: Sessions::new(&settings.session),
    };
    let relay = OutboxRelay::new(bus.publisher(), vec![payments.outbox_collection()], signal);
    let router = server::app(
        routes::router().with_state(state.clone()),
        // Stripe is not probed: its outage is a 502 per payment, not a reason to stop serving.
        server::Probes::new(vec![Box::new(db), Box::new(bus.clone())]),
    );
    Ok(Service::bind(SERVICE, &settings.http, router)
        .await?
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
