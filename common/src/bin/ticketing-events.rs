//! The operator's view of the event bus (the modern form of the course's publisher and listener
//! scripts):
//!
//!   ticketing-events tail [SUBJECT] [--all]   print events live (from now, or all retained)
//!   ticketing-events publish SUBJECT 'JSON'    publish one event by hand (data only; checked
//!                                              against the catalogue, wrapped with a fresh id)
//!   ticketing-events consumers                 every durable consumer with its backlog
//!
//! NATS_URL (default nats://127.0.0.1:4222) and EVENTS_PREFIX select the bus.

use std::{process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use ticketing_common::{
    config::{self, NatsConfig},
    events::{
        Envelope, Event, EventBus, ExpirationComplete, OrderCancelled, OrderCreated,
        PaymentCreated, Publisher, Subject, TicketCreated, TicketUpdated,
    },
};

const USAGE: &str = "usage:
  ticketing-events tail [SUBJECT] [--all]
  ticketing-events publish SUBJECT 'JSON'
  ticketing-events consumers
subjects: ticket.created ticket.updated order.created order.cancelled expiration.complete payment.created";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ticketing-events: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> anyhow::Result<()> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let command = match words.as_slice() {
        ["tail", rest @ ..] => Command::Tail {
            subject: rest
                .iter()
                .find(|w| !w.starts_with("--"))
                .map(|s| subject(s))
                .transpose()?,
            all: rest.contains(&"--all"),
        },
        ["publish", name, data] => Command::Publish {
            subject: subject(name)?,
            data: serde_json::from_str(data).context("the event data is not valid JSON")?,
        },
        ["consumers"] => Command::Consumers,
        _ => bail!("{USAGE}"),
    };
    let nats = NatsConfig {
        url: config::optional("NATS_URL").unwrap_or_else(|| "nats://127.0.0.1:4222".into()),
        client_name: "ticketing-events".into(),
        events_prefix: config::optional("EVENTS_PREFIX"),
    };
    if let Some(prefix) = &nats.events_prefix {
        NatsConfig::check_prefix(prefix)?;
    }
    let bus = EventBus::connect(&nats).await?;
    match command {
        Command::Tail { subject, all } => tail(&bus, subject, all).await,
        Command::Publish { subject, data } => publish(&bus.publisher(), subject, data).await,
        Command::Consumers => consumers(&bus).await,
    }
}

enum Command {
    Tail { subject: Option<Subject>, all: bool },
    Publish { subject: Subject, data: Value },
    Consumers,
}

fn subject(raw: &str) -> anyhow::Result<Subject> {
    Subject::parse(raw).with_context(|| format!("unknown subject {raw:?}\n{USAGE}"))
}

async fn tail(bus: &EventBus, subject: Option<Subject>, all: bool) -> anyhow::Result<()> {
    let names = bus.names();
    let stream = bus.jetstream().get_stream(names.stream()).await?;
    let consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: subject.map(|s| names.subject(s)).unwrap_or_default(),
            deliver_policy: if all {
                DeliverPolicy::All
            } else {
                DeliverPolicy::New
            },
            ..Default::default()
        })
        .await?;
    eprintln!("tailing {} (Ctrl-C to stop)", names.stream());
    let mut messages = consumer.messages().await?;
    loop {
        tokio::select! {
            next = messages.next() => match next {
                Some(message) => {
                    let message = message?;
                    let sequence = message.info().map(|info| info.stream_sequence).unwrap_or_default();
                    println!("#{sequence} {} {}", message.subject, String::from_utf8_lossy(&message.payload));
                }
                None => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

async fn publish(publisher: &Publisher, subject: Subject, data: Value) -> anyhow::Result<()> {
    async fn typed<E: Event>(publisher: &Publisher, data: Value) -> anyhow::Result<()> {
        let data: E = serde_json::from_value(data)
            .with_context(|| format!("the data is not a valid {} payload", E::SUBJECT))?;
        let envelope = Envelope::new(data);
        let duplicate = publisher.publish(&envelope).await?;
        println!(
            "published {} id={} ({})",
            E::SUBJECT,
            envelope.id,
            if duplicate {
                "duplicate, dropped"
            } else {
                "acked"
            }
        );
        Ok(())
    }
    match subject {
        Subject::TicketCreated => typed::<TicketCreated>(publisher, data).await,
        Subject::TicketUpdated => typed::<TicketUpdated>(publisher, data).await,
        Subject::OrderCreated => typed::<OrderCreated>(publisher, data).await,
        Subject::OrderCancelled => typed::<OrderCancelled>(publisher, data).await,
        Subject::ExpirationComplete => typed::<ExpirationComplete>(publisher, data).await,
        Subject::PaymentCreated => typed::<PaymentCreated>(publisher, data).await,
    }
}

async fn consumers(bus: &EventBus) -> anyhow::Result<()> {
    let stream = bus.jetstream().get_stream(bus.names().stream()).await?;
    let infos: Vec<_> =
        tokio::time::timeout(Duration::from_secs(10), stream.consumers().try_collect())
            .await
            .context("listing consumers timed out")??;
    println!(
        "{:<40} {:>10} {:>12} {:>12}",
        "CONSUMER", "PENDING", "ACK PENDING", "REDELIVERED"
    );
    for info in infos {
        println!(
            "{:<40} {:>10} {:>12} {:>12}",
            info.name, info.num_pending, info.num_ack_pending, info.num_redelivered
        );
    }
    Ok(())
}
