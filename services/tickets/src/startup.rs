//! Builds the tickets service: HTTP API, outbox relay, and the order listeners.

use ticketing_common::{
    app::{Service, Worker},
    events::{EventBus, OutboxRelay, OutboxSignal},
    mongo, server,
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

pub async fn build(settings: Settings) -> anyhow::Result<Service> {
    let db = mongo::connect(&settings.mongo, SERVICE).await?;
    let bus = EventBus::connect(&settings.nats).await?;
    let signal = OutboxSignal::default();
    let tickets = Tickets::open(&db, signal.clone()).await?;
    tickets.repair().await?;
    let relay = OutboxRelay::new(bus.publisher(), vec![tickets.outbox_collection()], signal);
    let state = AppState {
        tickets: tickets.clone(),
        sessions: Sessions::new(&settings.session),
    };
    let router = server::app(
        routes::router().with_state(state),
        server::Probes::new(vec![Box::new(db), Box::new(bus.clone())]),
    );
    Ok(Service::bind(SERVICE, &settings.http, router)
        .await?
        .with_worker(Worker::outbox_relay(relay))
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
