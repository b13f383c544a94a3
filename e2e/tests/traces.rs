//! One purchase is one trace (issue 16): the buyer's client sends a W3C `traceparent` with every
//! request, and the services continue that trace through their outboxes, NATS headers, every
//! listener and the expiration job — so sign-up, order, the reservation in tickets, the expiry
//! job, the payment and the order's completion are spans of one trace, each linked to the span
//! that caused it. The services export to a real OTLP/HTTP receiver ([`otlp::Receiver`]).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use ticketing_e2e::{
    Fleet, FleetOptions, User, eventually,
    otlp::{Kind, ReceivedSpan, Receiver, Trace},
};

const WAIT: Duration = Duration::from_secs(15);
/// Long enough to pay before it, short enough to see the job fire in the test.
const ORDER_EXPIRATION: Duration = Duration::from_secs(10);

/// A client's visit: one span of one trace, the parent of every request it sends.
struct Visit {
    trace_id: String,
    span_id: String,
}

impl Visit {
    fn new() -> Self {
        Self {
            trace_id: uuid::Uuid::new_v4().simple().to_string(),
            span_id: uuid::Uuid::new_v4().simple().to_string()[..16].to_owned(),
        }
    }

    fn traceparent(&self) -> String {
        format!("00-{}-{}-01", self.trace_id, self.span_id)
    }
}

fn id(answer: &Value) -> String {
    answer["id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purchase_is_one_trace_across_the_services_the_bus_and_the_expiry_job()
-> anyhow::Result<()> {
    let receiver = Receiver::start().await?;
    let fleet = Fleet::start(FleetOptions {
        order_expiration: ORDER_EXPIRATION,
        otlp_endpoint: Some(receiver.endpoint().to_owned()),
        ..FleetOptions::default()
    })
    .await?;
    let seller = User::sign_up(&fleet, "seller").await?;
    let paid_ticket = id(&seller
        .post("/api/tickets", json!({ "title": "Paid for", "price": 20 }))
        .await?
        .body);
    let expired_ticket = id(&seller
        .post(
            "/api/tickets",
            json!({ "title": "Left to expire", "price": 15 }),
        )
        .await?
        .body);

    // The purchase: sign up, order, pay — one visit, one trace.
    let purchase = Visit::new();
    let buyer = User::sign_up_traced(&fleet, "buyer", &purchase.traceparent()).await?;
    let order = buyer.order_when_known(&paid_ticket, WAIT).await?;
    assert_eq!(order.status, StatusCode::CREATED, "{order:?}");
    let paid_order = id(&order.body);
    let payment = buyer.pay_when_known(&paid_order, WAIT).await?;
    assert_eq!(
        payment.status,
        StatusCode::CREATED,
        "{payment:?}\n{}",
        fleet.logs()
    );

    // Another visit orders and walks away: its order expires in its own trace.
    let walk_away = Visit::new();
    let dawdler = User::sign_up_traced(&fleet, "dawdler", &walk_away.traceparent()).await?;
    let order = dawdler.order_when_known(&expired_ticket, WAIT).await?;
    assert_eq!(order.status, StatusCode::CREATED, "{order:?}");

    // Both orders' last steps: the paid order's expiry reaches orders (which leaves it
    // complete), the other's cancellation reaches tickets and payments.
    let wanted_purchase = [
        ("orders", "process payment.created"),
        ("orders", "process expiration.complete"),
        ("orders", "process ticket.updated"),
        ("tickets", "process order.created"),
        ("payments", "process order.created"),
        ("expiration", "expire order"),
    ];
    let wanted_expiry = [
        ("orders", "process expiration.complete"),
        ("tickets", "process order.cancelled"),
        ("payments", "process order.cancelled"),
    ];
    // Spans leave when they end, in batches: wait until the steps are there and every parent
    // that is still open at the moment (a handler's, around what it published) has arrived too.
    let arrived = eventually(ORDER_EXPIRATION + Duration::from_secs(30), async || {
        let purchased = receiver.trace(&purchase.trace_id);
        let expired = receiver.trace(&walk_away.trace_id);
        let all_there = has_all(&purchased, &wanted_purchase)
            && has_all(&expired, &wanted_expiry)
            && purchased.orphans(&[&purchase.span_id]).is_empty()
            && expired.orphans(&[&walk_away.span_id]).is_empty();
        all_there.then_some((purchased, expired))
    })
    .await;
    let Some((purchased, expired)) = arrived else {
        panic!(
            "the traces never held every step\npurchase: {:#?}\nexpiry: {:#?}\n{}",
            names(&receiver.trace(&purchase.trace_id)),
            names(&receiver.trace(&walk_away.trace_id)),
            fleet.logs()
        );
    };

    assert_eq!(
        purchased.services(),
        ["auth", "expiration", "orders", "payments", "tickets"].into(),
        "{:#?}",
        names(&purchased)
    );
    for (trace, visit) in [(&purchased, &purchase), (&expired, &walk_away)] {
        assert_linked(trace, visit);
    }

    // The steps that make the purchase one story, each the child of the one before. (A
    // request may have been repeated until the service had heard of the ticket or order.)
    let order_requests = purchased.named("orders", "POST /api/orders");
    let reservation = only(
        &purchased,
        "tickets",
        "process order.created",
        Kind::Consumer,
    );
    let published = parent(&purchased, reservation);
    assert_eq!(
        (published.service.as_str(), published.name.as_str()),
        ("orders", "publish order.created")
    );
    assert!(
        descends_from_any(&purchased, published, &order_requests),
        "order.created was published in the trace of the order request"
    );
    let scheduled = only(
        &purchased,
        "expiration",
        "process order.created",
        Kind::Consumer,
    );
    assert_eq!(parent(&purchased, scheduled), published);
    let expiry = only(&purchased, "expiration", "expire order", Kind::Internal);
    assert!(
        descends_from(&purchased, expiry, scheduled),
        "the job ran in the trace of the order.created that scheduled it"
    );
    let expired_event = only(
        &purchased,
        "orders",
        "process expiration.complete",
        Kind::Consumer,
    );
    let expiry_published = parent(&purchased, expired_event);
    assert_eq!(
        (
            expiry_published.service.as_str(),
            expiry_published.name.as_str()
        ),
        ("expiration", "publish expiration.complete")
    );
    assert_eq!(parent(&purchased, expiry_published), expiry);
    let paid = only(
        &purchased,
        "orders",
        "process payment.created",
        Kind::Consumer,
    );
    let payment_requests = purchased.named("payments", "POST /api/payments");
    assert!(
        descends_from_any(&purchased, paid, &payment_requests),
        "the order was completed in the trace of the payment request"
    );

    // The order that expired: cancelled by orders in the trace of its expiry job.
    let cancelled = only(
        &expired,
        "tickets",
        "process order.cancelled",
        Kind::Consumer,
    );
    let expiry = only(&expired, "expiration", "expire order", Kind::Internal);
    assert!(
        descends_from(&expired, cancelled, expiry),
        "the cancellation descends from the expiry job"
    );
    Ok(())
}

fn has_all(trace: &Trace, wanted: &[(&str, &str)]) -> bool {
    wanted
        .iter()
        .all(|(service, name)| !trace.named(service, name).is_empty())
}

/// Every span's parent is in the trace, but for the requests', which is the client's visit.
/// Every consumer's parent is the producer that sent it the event; every request's the client.
fn assert_linked(trace: &Trace, visit: &Visit) {
    assert_eq!(
        trace.orphans(&[&visit.span_id]),
        Vec::<&ReceivedSpan>::new(),
        "spans whose parent is not in the trace\n{:#?}",
        names(trace)
    );
    for span in &trace.0 {
        match span.kind {
            Kind::Consumer => {
                let parent = parent(trace, span);
                assert_eq!(parent.kind, Kind::Producer, "{span:?} ← {parent:?}");
                assert_eq!(
                    parent.name.strip_prefix("publish "),
                    span.name.strip_prefix("process "),
                    "{span:?} ← {parent:?}"
                );
            }
            Kind::Server => assert_eq!(
                span.parent_span_id.as_deref(),
                Some(visit.span_id.as_str()),
                "{span:?}"
            ),
            _ => {}
        }
    }
}

/// The one span of `service` named `name`, of `kind`.
fn only<'t>(trace: &'t Trace, service: &str, name: &str, kind: Kind) -> &'t ReceivedSpan {
    let found = trace.named(service, name);
    let [span] = found.as_slice() else {
        panic!(
            "{service} sent {} spans named {name:?}\n{:#?}",
            found.len(),
            names(trace)
        );
    };
    assert_eq!(span.kind, kind, "{span:?}");
    span
}

fn parent<'t>(trace: &'t Trace, span: &ReceivedSpan) -> &'t ReceivedSpan {
    trace
        .parent_of(span)
        .unwrap_or_else(|| panic!("the parent of {span:?} is not in the trace"))
}

fn descends_from(trace: &Trace, span: &ReceivedSpan, ancestor: &ReceivedSpan) -> bool {
    descends_from_any(trace, span, &[ancestor])
}

fn descends_from_any(trace: &Trace, span: &ReceivedSpan, ancestors: &[&ReceivedSpan]) -> bool {
    let mut current = trace.parent_of(span);
    while let Some(step) = current {
        if ancestors.contains(&step) {
            return true;
        }
        current = trace.parent_of(step);
    }
    false
}

/// The trace as `service: name (kind) span ← parent` lines, to read in a failure.
fn names(trace: &Trace) -> Vec<String> {
    trace
        .0
        .iter()
        .map(|span| {
            format!(
                "{}: {} ({:?}) {} ← {}",
                span.service,
                span.name,
                span.kind,
                span.span_id,
                span.parent_span_id.as_deref().unwrap_or("-")
            )
        })
        .collect()
}
