//! Builds the tickets service: HTTP API, outbox relay, the order listeners, the repair of ticket
//! changes a stopped writer left held, and the sweep that forgets old orders.

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
    routes,
    state::AppState,
    store::Tickets,
};

pub const SERVICE: &str = "tickets";
/// How often held ticket changes whose writer stopped halfway are finished.
const REPAIR_INTERVAL: Duration = Duration::from_secs(10);
/// How often orders seen longer ago than the event stream's retention are forgotten.
const FORGET_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Serves `/healthz` at once, waits for MongoDB and NATS (retrying for as long as it takes),
/// then opens the store (indexes, start-up repair) and returns the service serving its routes.
pub async fn build(settings: Settings) -> anyhow::Result<Service> {
    let stream = StreamConfig::from_env()?;
    let starting = Starting::bind(SERVICE, &settings.http).await?;
    let (db, bus) = tokio::try_join!(
        starting.mongo(&settings.mongo, SERVICE),
        starting.event_bus(&settings.nats, &stream),
    )?;
    let signal = OutboxSignal::default();
    let tickets = starting
        .wait_for("the tickets store (indexes, start-up repair)", || async {
            let tickets = Tickets::open(&db, signal.clone()).await?;
            tickets.repair().await?;
            Ok(tickets)
        })
        .await;
    let relay = OutboxRelay::new(bus.publisher(), vec![tickets.outbox_collection()], signal);
    let state = AppState {
        tickets: tickets.clone(),
        sessions: Sessions::new(&settings.session),
    };
    let probes = server::Probes::new(vec![Box::new(db), Box::new(bus.clone())]);
    Ok(starting
        .ready(routes::router().with_state(state), probes)
        .with_worker(Worker::outbox_relay(relay))
        .with_worker(tickets.repairer(REPAIR_INTERVAL))
        .with_worker(forget_old_orders(tickets.clone()))
        .with_worker(Worker::listener(
            &bus,
            SERVICE,
            OrderCreatedListener {
                tickets: tickets.clone(),
            },
        ))
        .with_worker(Worker::listener(
            &bus,
            SERVICE,
            OrderCancelledListener { tickets },
        ))
        .with_bus(bus))
}

fn forget_old_orders(tickets: Tickets) -> Worker {
    Worker::new("forget old orders", move |stop| async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(FORGET_INTERVAL) => {}
                () = stop.cancelled() => return Ok(()),
            }
            match tickets.forget_old_orders().await {
                Ok(0) => {}
                Ok(forgotten) => {
                    tracing::info!(forgotten, "forgot orders past the stream's retention")
                }
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), "forgetting old orders failed")
                }
            }
        }
    })
}
