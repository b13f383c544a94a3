use std::time::Duration;

use chrono::{DateTime, Utc};
use payments::{
    configuration::{Settings, StripeConfig},
    domain::Payment,
    startup,
    store::{OrderReplica, OrderReplicas, Payments, RefundRecord, Refunds},
};
use reqwest::Response;
use serde_json::{Value, json};
use ticketing_common::{
    config::HttpConfig,
    domain::{Money, OrderId, OrderStatus, TicketId, UserId, Version},
    events::{
        CancelledTicket, Envelope, EventBus, OrderCancelled, OrderCreated, OrderedTicket,
        OutboxSignal, Subject,
    },
    mongo,
    session::Sessions,
    telemetry, testing,
};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::stripe_double::StripeDouble;

pub const STRIPE_KEY: &str = "sk_test_payments";

pub struct TestApp {
    pub address: String,
    pub api: reqwest::Client,
    pub sessions: Sessions,
    pub bus: EventBus,
    /// Stripe as the app sees it (unless the app was pointed elsewhere).
    pub stripe: StripeDouble,
    pub orders: OrderReplicas,
    pub payments: Payments,
    pub refunds: Refunds,
    _shutdown: DropGuard,
}

/// The app with Stripe played by the recording double in front of stripe-mock.
pub async fn spawn_app() -> TestApp {
    let stripe = StripeDouble::start().await;
    let base = stripe.base.clone();
    start(stripe, base).await
}

/// The app with `STRIPE_API_BASE` at `base`.
pub async fn spawn_app_with_stripe_at(base: String) -> TestApp {
    start(StripeDouble::start().await, base).await
}

async fn start(stripe: StripeDouble, base: String) -> TestApp {
    telemetry::init_for_tests();
    let settings = Settings {
        http: HttpConfig {
            host: "127.0.0.1".into(),
            port: 0,
        },
        session: testing::session_config(Duration::from_secs(900), false),
        mongo: testing::mongo_config(),
        nats: testing::nats_config(),
        stripe: StripeConfig::new(STRIPE_KEY.into(), Some(base))
            .and_then(|stripe| stripe.with_webhook_secret(crate::cards::WEBHOOK_SECRET))
            .expect("stripe settings"),
        // Short, so tests see failed refunds retried without waiting long.
        sweep_interval: Duration::from_millis(200),
    };
    let sessions = Sessions::new(&settings.session);
    let app = startup::build(settings.clone())
        .await
        .expect("payments builds");
    let db = mongo::connect(&settings.mongo, "payments-tests")
        .await
        .expect("test database");
    let orders = OrderReplicas::open(&db).await.expect("replica store");
    let payments = Payments::open(&db, OutboxSignal::default())
        .await
        .expect("payment store");
    let refunds = Refunds::open(&db).await.expect("refund store");
    let bus = EventBus::connect(&settings.nats).await.expect("test bus");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run_until(shutdown.clone()));
    TestApp {
        address,
        api: reqwest::Client::new(),
        sessions,
        bus,
        stripe,
        orders,
        payments,
        refunds,
        _shutdown: shutdown.drop_guard(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn cookie(&self, user: UserId) -> String {
        let claims = self
            .sessions
            .claims_for(user, format!("{user}@example.com"));
        format!("session={}", self.sessions.sign(&claims).expect("signs"))
    }

    /// POSTs `body` to `path`, signed in as `user` if there is one.
    pub async fn post_as(&self, path: &str, user: Option<UserId>, body: &Value) -> Response {
        let mut request = self.api.post(self.url(path)).json(body);
        if let Some(user) = user {
            request = request.header("cookie", self.cookie(user));
        }
        request.send().await.expect("request sent")
    }

    pub async fn pay(&self, user: Option<UserId>, body: &Value) -> Response {
        self.post_as("/api/payments", user, body).await
    }

    /// Pays for `order` as `user` with the test card token `tok_visa`.
    pub async fn pay_for(&self, user: UserId, order: OrderId) -> Response {
        self.pay_with(user, order, "tok_visa").await
    }

    pub async fn pay_with(&self, user: UserId, order: OrderId, token: &str) -> Response {
        self.pay(Some(user), &json!({ "orderId": order, "token": token }))
            .await
    }

    /// An order of `buyer` for `cents`, as orders announces it; waits until it is replicated.
    pub async fn order(&self, buyer: UserId, cents: i64) -> OrderId {
        let id = OrderId::new();
        self.publish_order_created(id, buyer, cents).await;
        self.replica_when(id, |replica| replica.is_some()).await;
        id
    }

    /// Cancels `order` (version 1) as orders announces it; waits until it is replicated.
    pub async fn cancel(&self, order: OrderId) {
        self.publish_order_cancelled(order, 1).await;
        self.replica_when(order, |replica| {
            replica.is_some_and(|r| r.status == OrderStatus::Cancelled)
        })
        .await;
    }

    pub async fn publish_order_created(&self, id: OrderId, buyer: UserId, cents: i64) {
        let event = Envelope::new(OrderCreated {
            id,
            version: Version::INITIAL,
            status: OrderStatus::Created,
            user_id: buyer,
            expires_at: Utc::now() + chrono::Duration::minutes(15),
            ticket: OrderedTicket {
                id: TicketId::new(),
                price: Money::from_cents(cents).expect("money"),
            },
        });
        self.bus
            .publisher()
            .publish(&event)
            .await
            .expect("published");
    }

    pub async fn publish_order_cancelled(&self, id: OrderId, version: i64) {
        let event = Envelope::new(OrderCancelled {
            id,
            version: Version::new(version).expect("version"),
            ticket: CancelledTicket {
                id: TicketId::new(),
            },
        });
        self.bus
            .publisher()
            .publish(&event)
            .await
            .expect("published");
    }

    /// Waits until the service's listener of `subject` has handled `count` events (acked, none
    /// pending or awaiting a retry): what they changed, or did not, is now in the database.
    pub async fn wait_until_handled(&self, subject: Subject, count: u64) {
        testing::wait_until_handled(&self.bus, startup::SERVICE, subject, count).await;
    }

    /// How many events on `subject` the stream holds once the service's outbox is empty (see
    /// [`testing::published_count`]): the relay publishes a moment after the write.
    pub async fn published(&self, subject: Subject) -> u64 {
        testing::wait_until_relayed(&self.payments.outbox_collection()).await;
        testing::published_count(&self.bus, subject).await
    }

    /// Polls the order replica until `done` holds for it (`None` while absent).
    pub async fn replica_when(
        &self,
        id: OrderId,
        done: impl Fn(Option<&OrderReplica>) -> bool,
    ) -> Option<OrderReplica> {
        testing::eventually(Duration::from_secs(5), || async {
            let replica = self.orders.find(id).await.expect("replica query");
            done(replica.as_ref()).then_some(replica)
        })
        .await
        .unwrap_or_else(|| panic!("replica of {id} never reached the expected state"))
    }

    pub async fn payment_of(&self, order: OrderId) -> Option<Payment> {
        self.payments.find(order).await.expect("payment query")
    }

    pub async fn refunds_of(&self, order: OrderId) -> Vec<RefundRecord> {
        self.refunds.of_order(order).await.expect("refund query")
    }

    /// Polls the order's refunds until `done` holds for them.
    pub async fn refunds_when(
        &self,
        order: OrderId,
        done: impl Fn(&[RefundRecord]) -> bool,
    ) -> Vec<RefundRecord> {
        testing::eventually(Duration::from_secs(5), || async {
            let refunds = self.refunds_of(order).await;
            done(&refunds).then_some(refunds)
        })
        .await
        .unwrap_or_else(|| panic!("the refunds of {order} never reached the expected state"))
    }

    /// Stores a payment directly, as a writer that stopped right after its insert left it.
    pub async fn store_unchecked_payment(&self, order: OrderId, cents: i64, at: DateTime<Utc>) {
        let mut payment = Payment::new(
            order,
            payments::domain::ChargeId::new("ch_left_unchecked").expect("id"),
            Money::from_cents(cents).expect("money"),
        );
        payment.created_at = at;
        self.payments.record(&payment).await.expect("stored");
    }
}

pub async fn body_of(response: Response) -> Value {
    response.json::<Value>().await.expect("json body")
}

pub async fn errors_of(response: Response) -> Value {
    body_of(response).await["errors"].clone()
}
