//! Builds the orders service: HTTP API, outbox relay, the listeners, and the orphan sweep.

use std::time::Duration;

use ticketing_common::{
    app::{Service, Starting, Worker},
    config::StreamConfig,
    events::{OutboxRelay, OutboxSignal, TicketCreated, TicketUpdated},
    server,
    session::Sessions,
};

use crate::{
    configuration::Settings,
    events::{ExpirationCompleteListener, PaymentCreatedListener, TicketReplicaListener},
    routes,
    state::AppState,
    store::{Orders, Reservations, TicketReplicas},
};

pub const SERVICE: &str = "orders";

/// How often reservations left behind by a crash are looked for.
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// Serves `/healthz` at once, waits for MongoDB and NATS (retrying for as long as it takes),
/// then opens the stores (indexes) and returns the service serving its routes.
pub async fn build(settings: Settings) -> anyhow::Result<Service> {
    let stream = StreamConfig::from_env()?;
    let starting = Starting::bind(SERVICE, &settings.http).await?;
    let (db, bus) = tokio::try_join!(
        starting.mongo(&settings.mongo, SERVICE),
        starting.event_bus(&settings.nats, &stream),
    )?;
    let signal = OutboxSignal::default();
    let (orders, tickets, reservations) = starting
        .wait_for("the orders stores (indexes)", || async {
            Ok((
                Orders::open(&db, signal.clone()).await?,
                TicketReplicas::open(&db).await?,
                Reservations::open(&db).await?,
            ))
        })
        .await;
    let state = AppState {
        orders: orders.clone(),
        tickets: tickets.clone(),
        reservations,
        sessions: Sessions::new(&settings.session),
        order_expiration: settings.order_expiration,
    };
    let relay = OutboxRelay::new(bus.publisher(), vec![orders.outbox_collection()], signal);
    let probes = server::Probes::new(vec![Box::new(db), Box::new(bus.clone())]);
    Ok(starting
        .ready(routes::router().with_state(state.clone()), probes)
        .with_worker(Worker::outbox_relay(relay))
        .with_worker(Worker::listener(
            &bus,
            SERVICE,
            TicketReplicaListener::<TicketCreated>::new(tickets.clone()),
        ))
        .with_worker(Worker::listener(
            &bus,
            SERVICE,
            TicketReplicaListener::<TicketUpdated>::new(tickets),
        ))
        .with_worker(Worker::listener(
            &bus,
            SERVICE,
            ExpirationCompleteListener {
                state: state.clone(),
            },
        ))
        .with_worker(Worker::listener(
            &bus,
            SERVICE,
            PaymentCreatedListener { orders },
        ))
        .with_worker(orphan_sweep(state))
        .with_bus(bus))
}

fn orphan_sweep(state: AppState) -> Worker {
    Worker::new("orphaned reservation sweep", move |stop| async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(SWEEP_INTERVAL) => {}
                () = stop.cancelled() => return Ok(()),
            }
            if let Err(err) = state.reservations.release_orphans(&state.orders).await {
                tracing::warn!(error = %format!("{err:#}"), "orphaned reservation sweep failed");
            }
        }
    })
}
