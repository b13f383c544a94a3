//! Stripe at the HTTP boundary: a local server the app's `STRIPE_API_BASE` points at. It records
//! every request the app sends (so tests check amount, currency, source and idempotency key as
//! they go over the wire) and answers as the test says: forwarded to stripe-mock, a canned error
//! (stripe-mock cannot decline a card), or held until the test releases it.
//!
//! Forwarded answers get a charge id per idempotency key, as the real Stripe gives: stripe-mock
//! answers every charge with one fixed id, which would hide a second charge.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::{CancellationToken, DropGuard};

/// One request as Stripe would have received it.
#[derive(Debug, Clone)]
pub struct StripeCall {
    pub method: Method,
    pub path: String,
    pub idempotency_key: Option<String>,
    pub authorization: Option<String>,
    pub form: HashMap<String, String>,
}

/// How the double answers one kind of request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// What stripe-mock answers (with a charge id per idempotency key).
    Forward,
    /// This status and JSON body.
    Reply(u16, Value),
    /// Forwarded once the test releases it.
    Hold,
}

impl Answer {
    /// Stripe's documented answer for a declined card.
    pub fn card_declined() -> Self {
        Self::Reply(
            402,
            json!({ "error": {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
            } }),
        )
    }

    /// Stripe failing on its side.
    pub fn outage() -> Self {
        Self::Reply(
            500,
            json!({ "error": { "type": "api_error", "message": "An unknown error occurred" } }),
        )
    }
}

struct Inner {
    upstream: String,
    http: reqwest::Client,
    calls: Mutex<Vec<StripeCall>>,
    charges: Mutex<Answer>,
    refunds: Mutex<Answer>,
    intents: Mutex<Answer>,
    released: Semaphore,
    charge_ids: Mutex<HashMap<String, String>>,
}

pub struct StripeDouble {
    pub base: String,
    inner: Arc<Inner>,
    _shutdown: DropGuard,
}

impl StripeDouble {
    /// stripe-mock, as the project scripts run it (`TEST_STRIPE_API_BASE`).
    pub fn upstream() -> String {
        std::env::var("TEST_STRIPE_API_BASE").unwrap_or_else(|_| "http://127.0.0.1:12111".into())
    }

    pub async fn start() -> Self {
        let inner = Arc::new(Inner {
            upstream: Self::upstream().trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            calls: Mutex::new(Vec::new()),
            charges: Mutex::new(Answer::Forward),
            refunds: Mutex::new(Answer::Forward),
            intents: Mutex::new(Answer::Forward),
            released: Semaphore::new(0),
            charge_ids: Mutex::new(HashMap::new()),
        });
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the Stripe double");
        let base = format!("http://{}/", listener.local_addr().expect("address"));
        let router = Router::new().fallback(answer).with_state(inner.clone());
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
                .expect("the Stripe double serves");
        });
        Self {
            base,
            inner,
            _shutdown: shutdown.drop_guard(),
        }
    }

    pub fn answer_charges(&self, answer: Answer) {
        *self.inner.charges.lock().expect("lock") = answer;
    }

    pub fn answer_refunds(&self, answer: Answer) {
        *self.inner.refunds.lock().expect("lock") = answer;
    }

    pub fn answer_intents(&self, answer: Answer) {
        *self.inner.intents.lock().expect("lock") = answer;
    }

    /// Lets `count` held requests go on to stripe-mock.
    pub fn release(&self, count: usize) {
        self.inner.released.add_permits(count);
    }

    pub fn calls(&self) -> Vec<StripeCall> {
        self.inner.calls.lock().expect("lock").clone()
    }

    pub fn charges(&self) -> Vec<StripeCall> {
        self.calls_to("/v1/charges")
    }

    pub fn refunds(&self) -> Vec<StripeCall> {
        self.calls_to("/v1/refunds")
    }

    fn calls_to(&self, path: &str) -> Vec<StripeCall> {
        self.calls()
            .into_iter()
            .filter(|call| call.path == path)
            .collect()
    }

    /// Waits until `count` charge requests have arrived.
    pub async fn charges_arrived(&self, count: usize) {
        let arrived = ticketing_common::testing::eventually(Duration::from_secs(5), || async {
            (self.charges().len() >= count).then_some(())
        })
        .await;
        assert!(arrived.is_some(), "{count} charge requests never arrived");
    }
}

async fn answer(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let call = StripeCall {
        method: method.clone(),
        path: uri.path().to_owned(),
        idempotency_key: header("idempotency-key"),
        authorization: header("authorization"),
        form: serde_urlencoded::from_bytes(&body).unwrap_or_default(),
    };
    inner.calls.lock().expect("lock").push(call.clone());
    let answer = match call.path.as_str() {
        "/v1/charges" => inner.charges.lock().expect("lock").clone(),
        "/v1/refunds" => inner.refunds.lock().expect("lock").clone(),
        "/v1/payment_intents" => inner.intents.lock().expect("lock").clone(),
        _ => Answer::Forward,
    };
    match answer {
        Answer::Reply(status, body) => reply(status, body),
        Answer::Forward => forward(&inner, &call, method, &uri, &headers, body).await,
        Answer::Hold => {
            inner
                .released
                .acquire()
                .await
                .expect("the semaphore stays open")
                .forget();
            forward(&inner, &call, method, &uri, &headers, body).await
        }
    }
}

async fn forward(
    inner: &Inner,
    call: &StripeCall,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = inner
        .http
        .request(method, format!("{}{path}", inner.upstream))
        .body(body);
    for name in [
        header::AUTHORIZATION.as_str(),
        header::CONTENT_TYPE.as_str(),
        "stripe-version",
        "idempotency-key",
    ] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value);
        }
    }
    let response = request.send().await.expect("stripe-mock answers");
    let status = response.status().as_u16();
    let mut body: Value = response.json().await.expect("stripe-mock answers JSON");
    if call.path == "/v1/charges" && status == 200 {
        let key = call.idempotency_key.clone().unwrap_or_default();
        let mut ids = inner.charge_ids.lock().expect("lock");
        let next = format!("ch_double{}", ids.len() + 1);
        body["id"] = json!(ids.entry(key).or_insert(next).clone());
    }
    reply(status, body)
}

fn reply(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).expect("a status code");
    (status, axum::Json(body)).into_response()
}

/// A base URL where nothing listens: Stripe unreachable.
pub async fn unreachable_base() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{address}/")
}
