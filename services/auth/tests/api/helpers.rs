use std::time::Duration;

use auth::{configuration::Settings, domain::HashCost, startup, throttle::ThrottleConfig};
use mongodb::Database;
use reqwest::{Response, header::SET_COOKIE};
use serde_json::{Value, json};
use ticketing_common::{config::HttpConfig, mongo, session::Sessions, telemetry, testing};
use tokio_util::sync::{CancellationToken, DropGuard};

pub struct TestApp {
    pub address: String,
    /// A client with a cookie jar: it stays signed in like a browser.
    pub api: reqwest::Client,
    pub sessions: Sessions,
    pub db: Database,
    settings: Settings,
    _shutdown: DropGuard,
}

pub struct Options {
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    pub throttle: ThrottleConfig,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: Duration::from_secs(900),
            throttle: ThrottleConfig::DEFAULT,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    telemetry::init_for_tests();
    let settings = Settings {
        http: HttpConfig {
            host: "127.0.0.1".into(),
            port: 0,
        },
        session: testing::session_config(options.session_ttl, options.secure_cookies),
        mongo: testing::mongo_config(),
        // The cheapest cost the service accepts: tests hash hundreds of passwords.
        hash_cost: HashCost::new(10).expect("valid cost"),
        throttle: options.throttle,
    };
    let sessions = Sessions::new(&settings.session);
    let db = mongo::connect(&settings.mongo, "auth-tests")
        .await
        .expect("test database");
    let app = startup::build(settings.clone()).await.expect("auth builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run_until(shutdown.clone()));
    TestApp {
        address,
        api: client(true),
        sessions,
        db,
        settings,
        _shutdown: shutdown.drop_guard(),
    }
}

/// A client; with `cookies` it keeps the session like a browser would.
pub fn client(cookies: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(cookies)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

pub fn unique_email() -> String {
    format!("{}@example.com", testing::unique_name("user"))
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// Another instance on the same database, as after a restart or beside a second replica;
    /// its address, and the guard that stops it.
    pub async fn another_instance(&self) -> (String, DropGuard) {
        let app = startup::build(self.settings.clone())
            .await
            .expect("auth builds again");
        let address = format!("http://127.0.0.1:{}", app.port());
        let shutdown = CancellationToken::new();
        tokio::spawn(app.run_until(shutdown.clone()));
        (address, shutdown.drop_guard())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.api
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn signup(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/users/signup",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn signin(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/users/signin",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn signout(&self) -> Response {
        self.api
            .post(self.url("/api/users/signout"))
            .send()
            .await
            .expect("request sent")
    }

    /// Signs up a fresh user with this app's cookie jar; returns its email.
    pub async fn signed_in_user(&self) -> String {
        let email = unique_email();
        let response = self.signup(&email, PASSWORD).await;
        assert_eq!(response.status(), 201, "sign-up of {email} failed");
        email
    }

    pub async fn current_user(&self) -> Value {
        let response = self
            .api
            .get(self.url("/api/users/currentuser"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.expect("json body")["currentUser"].clone()
    }

    /// `GET /api/users/currentuser` with exactly this cookie header and no jar.
    pub async fn current_user_with_cookie(&self, cookie: &str) -> Response {
        client(false)
            .get(self.url("/api/users/currentuser"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("request sent")
    }
}

/// The `Set-Cookie` header for the session, if the response set one.
pub fn session_set_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("session="))
        .map(str::to_owned)
}

/// The token inside a `Set-Cookie: session=<token>; ...` header.
pub fn token_of(set_cookie: &str) -> String {
    set_cookie
        .trim_start_matches("session=")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned()
}

pub async fn errors_of(response: Response) -> Value {
    response.json::<Value>().await.expect("json error body")["errors"].clone()
}
