use std::time::Duration;

use mongodb::bson::doc;
use orders::{configuration::Settings, startup, store::TicketReplicas};
use reqwest::Response;
use serde_json::{Value, json};
use ticketing_common::{
    config::HttpConfig,
    domain::{Money, OrderId, PaymentId, TicketId, UserId, Version},
    events::{
        Envelope, EventBus, ExpirationComplete, PaymentCreated, Subject, TicketCreated,
        TicketUpdated,
    },
    mongo,
    session::Sessions,
    telemetry, testing,
};
use tokio_util::sync::{CancellationToken, DropGuard};

pub struct TestApp {
    pub address: String,
    pub api: reqwest::Client,
    pub sessions: Sessions,
    pub bus: EventBus,
    pub replicas: TicketReplicas,
    settings: Settings,
    _shutdown: DropGuard,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with_expiration(Duration::from_secs(900)).await
}

pub async fn spawn_app_with_expiration(order_expiration: Duration) -> TestApp {
    telemetry::init_for_tests();
    let settings = Settings {
        http: HttpConfig {
            host: "127.0.0.1".into(),
            port: 0,
        },
        session: testing::session_config(Duration::from_secs(900), false),
        mongo: testing::mongo_config(),
        nats: testing::nats_config(),
        order_expiration,
    };
    start(settings).await
}

async fn start(settings: Settings) -> TestApp {
    let sessions = Sessions::new(&settings.session);
    let app = startup::build(settings.clone())
        .await
        .expect("orders builds");
    let db = mongo::connect(&settings.mongo, "orders-tests")
        .await
        .expect("test database");
    let replicas = TicketReplicas::open(&db).await.expect("replica store");
    let bus = EventBus::connect(&settings.nats).await.expect("test bus");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run_until(shutdown.clone()));
    TestApp {
        address,
        api: reqwest::Client::new(),
        sessions,
        bus,
        replicas,
        settings,
        _shutdown: shutdown.drop_guard(),
    }
}

impl TestApp {
    /// A second running instance of the service on the same database and bus.
    pub async fn another_instance(&self) -> TestApp {
        start(self.settings.clone()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn cookie(&self, user: UserId) -> String {
        testing::session_cookie(&self.sessions, user)
    }

    pub async fn place_order(&self, user: Option<UserId>, body: &Value) -> Response {
        let mut request = self.api.post(self.url("/api/orders")).json(body);
        if let Some(user) = user {
            request = request.header("cookie", self.cookie(user));
        }
        request.send().await.expect("request sent")
    }

    /// Orders `ticket` as `user`; asserts it succeeded and returns the order.
    pub async fn order(&self, user: UserId, ticket: TicketId) -> Value {
        let response = self
            .place_order(Some(user), &json!({ "ticketId": ticket }))
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.expect("json")
    }

    pub async fn get_order(&self, user: Option<UserId>, id: &str) -> Response {
        let mut request = self.api.get(self.url(&format!("/api/orders/{id}")));
        if let Some(user) = user {
            request = request.header("cookie", self.cookie(user));
        }
        request.send().await.expect("request sent")
    }

    pub async fn order_json(&self, user: UserId, id: &str) -> Value {
        let response = self.get_order(Some(user), id).await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    pub async fn cancel(&self, user: Option<UserId>, id: &str) -> Response {
        let mut request = self.api.delete(self.url(&format!("/api/orders/{id}")));
        if let Some(user) = user {
            request = request.header("cookie", self.cookie(user));
        }
        request.send().await.expect("request sent")
    }

    /// Polls the order until `done` holds for it.
    pub async fn order_when(&self, user: UserId, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        testing::eventually(Duration::from_secs(5), || async {
            let order = self.order_json(user, id).await;
            done(&order).then_some(order)
        })
        .await
        .unwrap_or_else(|| panic!("order {id} never reached the expected state"))
    }

    /// Publishes a new ticket as the tickets service would, and waits for the replica.
    pub async fn ticket(&self, title: &str, cents: i64) -> TicketId {
        let id = TicketId::new();
        self.publish_ticket_created(id, title, cents).await;
        self.replica_when(id, |replica| replica.is_some()).await;
        id
    }

    pub async fn publish_ticket_created(&self, id: TicketId, title: &str, cents: i64) {
        let event = Envelope::new(TicketCreated {
            id,
            version: Version::INITIAL,
            title: title.into(),
            price: Money::from_cents(cents).expect("money"),
            user_id: UserId::new(),
        });
        self.bus
            .publisher()
            .publish(&event)
            .await
            .expect("published");
    }

    pub async fn publish_ticket_updated(
        &self,
        id: TicketId,
        version: i64,
        title: &str,
        cents: i64,
    ) {
        let event = Envelope::new(TicketUpdated {
            id,
            version: Version::new(version).expect("version"),
            title: title.into(),
            price: Money::from_cents(cents).expect("money"),
            user_id: UserId::new(),
            order_id: None,
        });
        self.bus
            .publisher()
            .publish(&event)
            .await
            .expect("published");
    }

    pub async fn publish_expiration(&self, order: &str) {
        let event = Envelope::new(ExpirationComplete {
            order_id: OrderId::parse(order).expect("id"),
        });
        self.bus
            .publisher()
            .publish(&event)
            .await
            .expect("published");
    }

    pub async fn publish_payment(&self, order: &str) {
        let event = Envelope::new(PaymentCreated {
            id: PaymentId::new(),
            order_id: OrderId::parse(order).expect("id"),
            stripe_id: "ch_test".into(),
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

    /// How many events on `subject` the stream holds now (see [`testing::published_count`]).
    pub async fn published(&self, subject: Subject) -> u64 {
        testing::published_count(&self.bus, subject).await
    }

    /// Polls the ticket replica until `done` holds for it (`None` while absent).
    pub async fn replica_when(
        &self,
        id: TicketId,
        done: impl Fn(Option<&orders::store::TicketReplica>) -> bool,
    ) -> Option<orders::store::TicketReplica> {
        testing::eventually(Duration::from_secs(5), || async {
            let replica = self.replicas.find(id).await.expect("replica query");
            done(replica.as_ref()).then_some(replica)
        })
        .await
        .unwrap_or_else(|| panic!("replica of {id} never reached the expected state"))
    }

    pub async fn replica_count(&self) -> u64 {
        self.replicas
            .collection()
            .count_documents(doc! {})
            .await
            .expect("count")
    }
}

pub fn id_of(value: &Value) -> &str {
    value["id"].as_str().expect("id")
}

pub async fn errors_of(response: Response) -> Value {
    response.json::<Value>().await.expect("json error body")["errors"].clone()
}
