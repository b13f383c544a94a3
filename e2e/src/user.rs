//! A person using the marketplace through the ingress, with a browser-like cookie jar.

use std::time::Duration;

use anyhow::Context;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::Fleet;

pub struct User {
    http: reqwest::Client,
    base: String,
    pub email: String,
}

/// What the API answered.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl User {
    /// Signs up a new user with a unique email.
    pub async fn sign_up(fleet: &Fleet, name: &str) -> anyhow::Result<Self> {
        Self::sign_up_with(fleet, name, reqwest::Client::builder()).await
    }

    /// [`User::sign_up`], every request of this user sent with the W3C `traceparent` given: a
    /// client whose whole visit is one span of one trace.
    pub async fn sign_up_traced(
        fleet: &Fleet,
        name: &str,
        traceparent: &str,
    ) -> anyhow::Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("traceparent", traceparent.parse()?);
        Self::sign_up_with(
            fleet,
            name,
            reqwest::Client::builder().default_headers(headers),
        )
        .await
    }

    async fn sign_up_with(
        fleet: &Fleet,
        name: &str,
        client: reqwest::ClientBuilder,
    ) -> anyhow::Result<Self> {
        let user = Self {
            http: client.cookie_store(true).build()?,
            base: fleet.url(""),
            email: format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple()),
        };
        let answer = user
            .call(
                Method::POST,
                "/api/users/signup",
                Some(json!({ "email": user.email, "password": "password123" })),
            )
            .await?;
        anyhow::ensure!(
            answer.status == StatusCode::CREATED,
            "sign-up failed: {answer:?}"
        );
        Ok(user)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Answer> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(Duration::from_secs(10));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("calling {path}"))?;
        let status = response.status();
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Answer { status, body })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Answer> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Orders `ticket` as soon as orders has learned of it (its `ticket.created` travels): the
    /// 201, or the last answer if none came by `deadline`.
    pub async fn order_when_known(
        &self,
        ticket: &str,
        deadline: Duration,
    ) -> anyhow::Result<Answer> {
        self.until(StatusCode::CREATED, deadline, async |user| {
            user.post("/api/orders", json!({ "ticketId": ticket }))
                .await
        })
        .await
    }

    /// Pays `order` with Stripe's test card token as soon as payments has learned of the order:
    /// the 201, or the last answer if none came by `deadline`.
    pub async fn pay_when_known(&self, order: &str, deadline: Duration) -> anyhow::Result<Answer> {
        self.until(StatusCode::CREATED, deadline, async |user| {
            user.post(
                "/api/payments",
                json!({ "orderId": order, "token": "tok_visa" }),
            )
            .await
        })
        .await
    }

    /// Repeats `attempt` until it answers `want` (events travel between services meanwhile);
    /// the last answer if none did by `deadline`. A failed call ends it at once.
    pub async fn until(
        &self,
        want: StatusCode,
        deadline: Duration,
        mut attempt: impl AsyncFnMut(&Self) -> anyhow::Result<Answer>,
    ) -> anyhow::Result<Answer> {
        let mut last = None;
        let done = eventually(deadline, async || match attempt(self).await {
            Ok(answer) if answer.status == want => Some(Ok(answer)),
            Ok(answer) => {
                last = Some(answer);
                None
            }
            Err(err) => Some(Err(err)),
        })
        .await;
        match done {
            Some(done) => done,
            None => last.context("no attempt was made"),
        }
    }
}

/// Polls `check` every 100 ms (by [`ticketing_common::poll::until`]) until it yields a value
/// or `deadline` passes.
pub async fn eventually<T>(deadline: Duration, check: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    ticketing_common::poll::until(deadline, Duration::from_millis(100), check).await
}
