//! The operator's tool, run as a user would run it.

use std::process::{Command, Output};

use ticketing_common::{events::TicketCreated, testing::EventProbe};

use crate::helpers::bus;

fn run(prefix: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ticketing-events"))
        .args(args)
        .env("EVENTS_PREFIX", prefix)
        .env(
            "NATS_URL",
            std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into()),
        )
        .output()
        .expect("the tool runs")
}

fn prefix_of(bus: &ticketing_common::events::EventBus) -> String {
    bus.names().stream().trim_end_matches("_EVENTS").to_owned()
}

#[tokio::test]
async fn an_event_published_by_hand_is_checked_and_delivered() {
    let bus = bus().await;
    let prefix = prefix_of(&bus);
    let mut probe = EventProbe::<TicketCreated>::new(&bus).await;
    let data = r#"{"id":"64b0f7a2c1d3e4f5a6b7c8d9","version":0,"title":"By hand","price":12.5,"userId":"64b0f7a2c1d3e4f5a6b7c8da"}"#;

    let output = run(&prefix, &["publish", "ticket.created", data]);

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("published ticket.created"));
    let event = probe.next().await;
    assert_eq!(event.data.title, "By hand");
    assert_eq!(event.data.price.cents(), 1250);
}

#[tokio::test]
async fn bad_input_is_refused_with_a_reason() {
    let bus = bus().await;
    let prefix = prefix_of(&bus);
    for (args, reason) in [
        (vec!["publish", "ticket.deleted", "{}"], "unknown subject"),
        (
            vec!["publish", "ticket.created", "{not json"],
            "not valid JSON",
        ),
        (
            vec!["publish", "ticket.created", r#"{"id":"x"}"#],
            "not a valid ticket.created payload",
        ),
        (vec!["frobnicate"], "usage"),
    ] {
        let output = run(&prefix, &args);
        assert!(!output.status.success(), "{args:?} must fail");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn consumers_are_listed_with_their_backlog() {
    let bus = bus().await;
    let prefix = prefix_of(&bus);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let (stop, _task) = crate::helpers::spawn_listener(
        &bus,
        "orders",
        crate::helpers::Recorder::new("a", tx),
        crate::helpers::quick_options(),
    );
    let listed = ticketing_common::testing::eventually(std::time::Duration::from_secs(5), || {
        let prefix = prefix.clone();
        async move {
            let output = run(&prefix, &["consumers"]);
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            stdout.contains("orders-ticket-created").then_some(stdout)
        }
    })
    .await
    .expect("the durable consumer is listed");
    assert!(
        listed.contains("PENDING") && listed.contains("REDELIVERED"),
        "{listed}"
    );
    stop.cancel();
}
