use std::time::Duration;

use chrono::Utc;
use reqwest::Response;
use serde_json::{Value, json};
use ticketing_common::{
    config::HttpConfig,
    domain::{Money, OrderId, OrderStatus, TicketId, UserId, Version},
    events::{
        CancelledTicket, Envelope, EventBus, OrderCancelled, OrderCreated, OrderedTicket, Subject,
    },
    session::Sessions,
    telemetry, testing,
};
use tickets::{configuration::Settings, startup};
use tokio_util::sync::{CancellationToken, DropGuard};

pub struct TestApp {
    pub address: String,
    pub api: reqwest::Client,
    pub sessions: Sessions,
    /// The test's own connection to the app's bus (same prefix).
    pub bus: EventBus,
    _shutdown: DropGuard,
}

pub async fn spawn_app() -> TestApp {
    telemetry::init_for_tests();
    let settings = Settings {
        http: HttpConfig {
            host: "127.0.0.1".into(),
            port: 0,
        },
        session: testing::session_config(Duration::from_secs(900), false),
        mongo: testing::mongo_config(),
        nats: testing::nats_config(),
    };
    let sessions = Sessions::new(&settings.session);
    let bus = EventBus::connect(&settings.nats).await.expect("test bus");
    let app = startup::build(settings).await.expect("tickets builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run_until(shutdown.clone()));
    TestApp {
        address,
        api: reqwest::Client::new(),
        sessions,
        bus,
        _shutdown: shutdown.drop_guard(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A `Cookie` header value signing in `user`.
    pub fn cookie(&self, user: UserId) -> String {
        testing::session_cookie(&self.sessions, user)
    }

    pub async fn create_ticket(&self, user: Option<UserId>, body: &Value) -> Response {
        let mut request = self.api.post(self.url("/api/tickets")).json(body);
        if let Some(user) = user {
            request = request.header("cookie", self.cookie(user));
        }
        request.send().await.expect("request sent")
    }

    pub async fn edit_ticket(&self, user: Option<UserId>, id: &str, body: &Value) -> Response {
        let mut request = self
            .api
            .put(self.url(&format!("/api/tickets/{id}")))
            .json(body);
        if let Some(user) = user {
            request = request.header("cookie", self.cookie(user));
        }
        request.send().await.expect("request sent")
    }

    /// Creates a ticket owned by `owner` and returns its JSON.
    pub async fn ticket_of(&self, owner: UserId, title: &str, price: f64) -> Value {
        let response = self
            .create_ticket(Some(owner), &json!({ "title": title, "price": price }))
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.expect("json")
    }

    pub async fn get_ticket(&self, id: &str) -> Response {
        self.api
            .get(self.url(&format!("/api/tickets/{id}")))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn ticket_json(&self, id: &str) -> Value {
        let response = self.get_ticket(id).await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    /// Waits until the service's listener of `subject` has handled `count` events (acked, none
    /// pending or awaiting a retry): what they changed, or did not, is now in the database.
    pub async fn wait_until_handled(&self, subject: Subject, count: u64) {
        testing::wait_until_handled(&self.bus, startup::SERVICE, subject, count).await;
    }

    /// Waits until the service's consumer of `subject` made `deliveries` deliveries.
    pub async fn wait_until_delivered(&self, subject: Subject, deliveries: u64) {
        testing::wait_until_delivered(&self.bus, startup::SERVICE, subject, deliveries).await;
    }

    /// How many events on `subject` the stream holds now (see [`testing::published_count`]).
    pub async fn published(&self, subject: Subject) -> u64 {
        testing::published_count(&self.bus, subject).await
    }

    /// Polls the ticket until `done` holds for it (listeners act asynchronously).
    pub async fn ticket_when(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        testing::eventually(Duration::from_secs(5), || async {
            let ticket = self.ticket_json(id).await;
            done(&ticket).then_some(ticket)
        })
        .await
        .unwrap_or_else(|| panic!("ticket {id} never reached the expected state"))
    }

    pub async fn publish_order_created(&self, order: OrderId, ticket: &Value) {
        let event = Envelope::new(OrderCreated {
            id: order,
            version: Version::INITIAL,
            status: OrderStatus::Created,
            user_id: UserId::new(),
            expires_at: Utc::now() + chrono::Duration::minutes(15),
            ticket: OrderedTicket {
                id: ticket_id(ticket),
                price: Money::from_dollars(ticket["price"].as_f64().expect("price"))
                    .expect("money"),
            },
        });
        self.bus
            .publisher()
            .publish(&event)
            .await
            .expect("published");
    }

    pub async fn publish_order_cancelled(&self, order: OrderId, ticket: &Value) {
        let event = Envelope::new(OrderCancelled {
            id: order,
            version: Version::INITIAL.next(),
            ticket: CancelledTicket {
                id: ticket_id(ticket),
            },
        });
        self.bus
            .publisher()
            .publish(&event)
            .await
            .expect("published");
    }
}

pub fn ticket_id(ticket: &Value) -> TicketId {
    TicketId::parse(ticket["id"].as_str().expect("id")).expect("valid id")
}

pub async fn errors_of(response: Response) -> Value {
    response.json::<Value>().await.expect("json error body")["errors"].clone()
}
