//! Crashes and restarts: each test ends with every replica consistent and nothing lost.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::{StreamExt, stream};
use mongodb::bson::{Document, doc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use ticketing_common::{events::Subject, testing};
use ticketing_e2e::{Fleet, FleetOptions, Service, User, eventually};

const WAIT: Duration = Duration::from_secs(30);

fn id(answer: &Value) -> String {
    answer["id"].as_str().unwrap_or_default().to_owned()
}

/// A ticket the buyer has ordered; returns (ticket id, order id).
async fn ordered_ticket(
    fleet: &Fleet,
    seller: &User,
    buyer: &User,
) -> anyhow::Result<(String, String)> {
    let ticket = seller
        .post("/api/tickets", json!({ "title": "Crash test", "price": 5 }))
        .await?;
    let ticket_id = id(&ticket.body);
    let order = buyer.order_when_known(&ticket_id, WAIT).await?;
    anyhow::ensure!(
        order.status == StatusCode::CREATED,
        "{order:?}\n{}",
        fleet.logs()
    );
    Ok((ticket_id, id(&order.body)))
}

async fn ticket_reserved_by(user: &User, ticket_id: &str, order_id: &str) -> bool {
    eventually(WAIT, async || {
        let shown = user.get(&format!("/api/tickets/{ticket_id}")).await.ok()?;
        (shown.body["orderId"] == json!(order_id)).then_some(())
    })
    .await
    .is_some()
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_killed_right_after_an_order_still_tells_tickets() -> anyhow::Result<()> {
    let mut fleet = Fleet::start(FleetOptions::default()).await?;
    let seller = User::sign_up(&fleet, "seller").await?;
    let buyer = User::sign_up(&fleet, "buyer").await?;

    let (ticket_id, order_id) = ordered_ticket(&fleet, &seller, &buyer).await?;
    fleet.kill(Service::Orders);
    fleet.restart(Service::Orders).await?;

    assert!(
        ticket_reserved_by(&seller, &ticket_id, &order_id).await,
        "tickets never learned of the order\n{}",
        fleet.logs()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn tickets_killed_with_events_pending_catches_up() -> anyhow::Result<()> {
    let mut fleet = Fleet::start(FleetOptions::default()).await?;
    let seller = User::sign_up(&fleet, "seller").await?;
    let buyer = User::sign_up(&fleet, "buyer").await?;
    let other = User::sign_up(&fleet, "other").await?;
    let (ticket_id, first_order) = ordered_ticket(&fleet, &seller, &buyer).await?;

    fleet.kill(Service::Tickets);
    // While tickets is down: the first order is cancelled and someone else orders the ticket.
    let cancelled = buyer
        .call(
            reqwest::Method::DELETE,
            &format!("/api/orders/{first_order}"),
            None,
        )
        .await?;
    assert_eq!(cancelled.status, StatusCode::NO_CONTENT);
    let second = other
        .post("/api/orders", json!({ "ticketId": ticket_id }))
        .await?;
    assert_eq!(second.status, StatusCode::CREATED, "{second:?}");
    fleet.restart(Service::Tickets).await?;

    assert!(
        ticket_reserved_by(&seller, &ticket_id, &id(&second.body)).await,
        "tickets never caught up\n{}",
        fleet.logs()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nats_restart_in_a_burst_of_200_tickets_loses_none() -> anyhow::Result<()> {
    let mut fleet = Fleet::start(FleetOptions::default()).await?;
    let seller = User::sign_up(&fleet, "seller").await?;

    // The burst runs on its own while NATS is killed and started again under it.
    let done = Arc::new(AtomicUsize::new(0));
    let counter = done.clone();
    let burst = tokio::spawn(async move {
        let create = |i: usize| {
            let (seller, counter) = (&seller, &counter);
            async move {
                let answer = seller
                    .post(
                        "/api/tickets",
                        json!({ "title": format!("burst {i}"), "price": 1 }),
                    )
                    .await;
                counter.fetch_add(1, Ordering::SeqCst);
                answer
            }
        };
        stream::iter(0..200)
            .map(create)
            .buffer_unordered(8)
            .collect::<Vec<_>>()
            .await
    });
    eventually(WAIT, async || {
        (done.load(Ordering::SeqCst) >= 50).then_some(())
    })
    .await;
    fleet.restart_nats().await?;
    let restarted_after = done.load(Ordering::SeqCst);
    for answer in burst.await? {
        let answer = answer?;
        assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
    }
    assert!(
        restarted_after < 200,
        "NATS restarted only after the burst ({restarted_after} done)"
    );

    let replicas = fleet
        .mongo(Service::Orders)
        .await?
        .collection::<Document>("tickets");
    let all_replicated = eventually(Duration::from_secs(60), async || {
        let count = replicas.count_documents(doc! {}).await.ok()?;
        (count == 200).then_some(())
    })
    .await;
    let count = replicas.count_documents(doc! {}).await?;
    assert!(
        all_replicated.is_some(),
        "orders has {count} of 200 tickets\n{}",
        fleet.logs()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn expiration_killed_with_jobs_pending_still_expires_every_order() -> anyhow::Result<()> {
    let mut fleet = Fleet::start(FleetOptions {
        order_expiration: Duration::from_secs(4),
        ..FleetOptions::default()
    })
    .await?;
    let seller = User::sign_up(&fleet, "seller").await?;
    let buyer = User::sign_up(&fleet, "buyer").await?;
    let mut orders = Vec::new();
    for _ in 0..5 {
        orders.push(ordered_ticket(&fleet, &seller, &buyer).await?.1);
    }
    // Once expiration has taken the five order events (their jobs stored), kill it before they
    // are due.
    let bus = fleet.event_bus().await?;
    testing::wait_until_handled(&bus, Service::Expiration.name(), Subject::OrderCreated, 5).await;
    fleet.kill(Service::Expiration);
    tokio::time::sleep(Duration::from_secs(4)).await;
    fleet.restart(Service::Expiration).await?;

    for order_id in orders {
        let expired = eventually(WAIT, async || {
            let shown = buyer.get(&format!("/api/orders/{order_id}")).await.ok()?;
            (shown.body["status"] == "cancelled").then_some(())
        })
        .await;
        assert!(
            expired.is_some(),
            "order {order_id} never expired\n{}",
            fleet.logs()
        );
    }
    Ok(())
}
