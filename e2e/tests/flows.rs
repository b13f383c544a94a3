//! The marketplace end to end, through the ingress, with every service running.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use ticketing_e2e::{Fleet, FleetOptions, User, eventually};

const WAIT: Duration = Duration::from_secs(15);

fn id(answer: &Value) -> String {
    answer["id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_is_listed_ordered_paid_and_stays_reserved() -> anyhow::Result<()> {
    let fleet = Fleet::start(FleetOptions::default()).await?;
    let seller = User::sign_up(&fleet, "seller").await?;
    let buyer = User::sign_up(&fleet, "buyer").await?;
    let latecomer = User::sign_up(&fleet, "latecomer").await?;

    let ticket = seller
        .post("/api/tickets", json!({ "title": "Concert", "price": 25.5 }))
        .await?;
    assert_eq!(ticket.status, StatusCode::CREATED, "{ticket:?}");
    let ticket_id = id(&ticket.body);

    // The buyer can order as soon as orders has learned of the ticket.
    let order = buyer.order_when_known(&ticket_id, WAIT).await?;
    assert_eq!(
        order.status,
        StatusCode::CREATED,
        "{order:?}\n{}",
        fleet.logs()
    );
    let order_id = id(&order.body);

    // Once tickets has learned of the order, the seller cannot edit the ticket.
    let reserved = eventually(WAIT, async || {
        let shown = seller
            .get(&format!("/api/tickets/{ticket_id}"))
            .await
            .ok()?;
        (shown.body["orderId"] == json!(order_id)).then_some(shown)
    })
    .await;
    assert!(
        reserved.is_some(),
        "tickets never reserved the ticket\n{}",
        fleet.logs()
    );
    let edit = seller
        .call(
            Method::PUT,
            &format!("/api/tickets/{ticket_id}"),
            Some(json!({ "title": "Cheaper", "price": 1 })),
        )
        .await?;
    assert_eq!(edit.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        edit.body["errors"][0]["message"],
        "Cannot edit a reserved ticket"
    );

    // Nobody else can order it.
    let refused = latecomer
        .post("/api/orders", json!({ "ticketId": ticket_id }))
        .await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body["errors"][0]["message"],
        "Ticket is already reserved"
    );

    // The buyer pays (stripe-mock) once payments has learned of the order.
    let payment = buyer.pay_when_known(&order_id, WAIT).await?;
    assert_eq!(
        payment.status,
        StatusCode::CREATED,
        "{payment:?}\n{}",
        fleet.logs()
    );

    let complete = eventually(WAIT, async || {
        let shown = buyer.get(&format!("/api/orders/{order_id}")).await.ok()?;
        (shown.body["status"] == "complete").then_some(shown)
    })
    .await;
    assert!(
        complete.is_some(),
        "the order never became complete\n{}",
        fleet.logs()
    );

    // The ticket stays reserved by the paid order, and is not for sale.
    let shown = seller.get(&format!("/api/tickets/{ticket_id}")).await?;
    assert_eq!(shown.body["orderId"], json!(order_id));
    let for_sale = seller.get("/api/tickets").await?;
    assert_eq!(for_sale.body, json!([]));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unpaid_order_expires_and_the_ticket_is_for_sale_again() -> anyhow::Result<()> {
    let fleet = Fleet::start(FleetOptions {
        order_expiration: Duration::from_secs(3),
        ..FleetOptions::default()
    })
    .await?;
    let seller = User::sign_up(&fleet, "seller").await?;
    let buyer = User::sign_up(&fleet, "buyer").await?;
    let ticket = seller
        .post(
            "/api/tickets",
            json!({ "title": "Short hold", "price": 10 }),
        )
        .await?;
    let ticket_id = id(&ticket.body);
    let order = buyer.order_when_known(&ticket_id, WAIT).await?;
    assert_eq!(order.status, StatusCode::CREATED, "{order:?}");
    let order_id = id(&order.body);

    let cancelled = eventually(Duration::from_secs(30), async || {
        let shown = buyer.get(&format!("/api/orders/{order_id}")).await.ok()?;
        (shown.body["status"] == "cancelled").then_some(shown)
    })
    .await;
    assert!(
        cancelled.is_some(),
        "the order never expired\n{}",
        fleet.logs()
    );

    let for_sale = eventually(WAIT, async || {
        let listed = seller.get("/api/tickets").await.ok()?;
        (listed
            .body
            .as_array()?
            .iter()
            .any(|t| t["id"] == json!(ticket_id)))
        .then_some(())
    })
    .await;
    assert!(
        for_sale.is_some(),
        "the ticket never came back on sale\n{}",
        fleet.logs()
    );
    let edit = seller
        .call(
            Method::PUT,
            &format!("/api/tickets/{ticket_id}"),
            Some(json!({ "title": "Back on sale", "price": 12 })),
        )
        .await?;
    assert_eq!(edit.status, StatusCode::OK, "{edit:?}");
    Ok(())
}
