//! Hostile and careless clients through the local ingress (issue 15): every answer under `/api/`
//! is the API's error shape with a message in the request's terms, including the errors nginx
//! gives itself; nothing internal leaks; no client mistake is a 5xx; sign-in cannot be
//! brute-forced; a signed-out session is nobody to auth. The Kubernetes ingress's error answers
//! (api-errors) run in a real nginx too, asked the way ingress-nginx asks.

use std::{
    collections::BTreeMap,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use ticketing_common::{poll, protect};
use ticketing_e2e::{
    Fleet, FleetOptions, Service, User,
    standalone::{free_port, scratch_dir},
};

/// What no error message may say: Rust type names, serde's wording, nginx's page.
const LEAKS: [&str; 9] = [
    "Body",
    "deserialize",
    "invalid type",
    "expected",
    "struct",
    "line 1",
    "nginx",
    "<html",
    "Failed to",
];

fn http() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an http client")
}

/// Asserts `response` is `status` with the error shape, `message` first, and nothing leaked.
async fn assert_error(what: &str, response: Response, status: u16, message: &str) {
    assert_eq!(response.status().as_u16(), status, "{what}");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{what}: content-type {content_type}"
    );
    let text = response.text().await.expect("a body");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: {text}"));
    assert_eq!(body["errors"][0]["message"], message, "{what}: {body}");
    for leak in LEAKS {
        assert!(!text.contains(leak), "{what}: {leak:?} leaked in {text}");
    }
}

/// The `Allow` header of `response`, if it has one.
fn allow_header(response: &Response) -> Option<String> {
    let value = response.headers().get("allow")?;
    Some(value.to_str().expect("an ASCII Allow").to_owned())
}

async fn send_raw(
    fleet: &Fleet,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> Response {
    let mut request = http()
        .request(method.parse().expect("a method"), fleet.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("sent")
}

/// The session cookie of a freshly signed-up user, as a `Cookie` header value.
async fn signed_up(fleet: &Fleet) -> (String, String) {
    let email = format!("hostile-{}@example.com", uuid_like());
    let response = http()
        .post(fleet.url("/api/users/signup"))
        .json(&json!({ "email": email, "password": "password123" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    (email, cookie)
}

fn uuid_like() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[tokio::test]
async fn every_answer_under_api_is_the_error_shape_and_no_mistake_is_a_5xx() -> anyhow::Result<()> {
    let mut fleet = Fleet::start(FleetOptions::default()).await?;
    let (_, cookie) = signed_up(&fleet).await;
    let ticket = send_raw(
        &fleet,
        "POST",
        "/api/tickets",
        Some(&cookie),
        r#"{"title":"Concert","price":10}"#,
    )
    .await;
    assert_eq!(ticket.status(), StatusCode::CREATED);
    let ticket: Value = ticket.json().await?;
    let ticket_path = format!("/api/tickets/{}", ticket["id"].as_str().unwrap_or_default());

    // Bodies that are not JSON objects, on every route that reads one.
    let routes = [
        ("POST", "/api/users/signup"),
        ("POST", "/api/users/signin"),
        ("POST", "/api/tickets"),
        ("PUT", ticket_path.as_str()),
        ("POST", "/api/orders"),
        ("POST", "/api/payments"),
    ];
    for (method, path) in routes {
        for body in [
            "42",
            "\"hello\"",
            "null",
            "true",
            "[\"a@b.co\",\"password123\"]",
            "[\"Concert\",10]",
        ] {
            let response = send_raw(&fleet, method, path, Some(&cookie), body).await;
            assert_error(
                &format!("{method} {path} {body}"),
                response,
                400,
                "Request body must be a JSON object",
            )
            .await;
        }
        let response = send_raw(&fleet, method, path, Some(&cookie), "{\"a\":").await;
        assert_error(
            &format!("{method} {path} malformed"),
            response,
            400,
            "Malformed JSON in request body",
        )
        .await;
    }
    // An array never created a user: the address is still free.
    let email = format!("array-{}@example.com", uuid_like());
    let response = send_raw(
        &fleet,
        "POST",
        "/api/users/signup",
        None,
        &json!([email, "password123"]).to_string(),
    )
    .await;
    assert_eq!(response.status(), 400);
    let response = send_raw(
        &fleet,
        "POST",
        "/api/users/signup",
        None,
        &json!({"email": email, "password": "password123"}).to_string(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // Fields of the wrong type get the fields' own messages.
    let response = send_raw(
        &fleet,
        "POST",
        "/api/users/signup",
        None,
        r#"{"email":42,"password":{"a":1}}"#,
    )
    .await;
    assert_error("email 42", response, 400, "Email must be valid").await;

    // Text that hides what it says.
    for (title, message) in [
        ("\u{0}", "Title must not contain control characters"),
        (
            "Concert\u{202E}3pm",
            "Title must not contain text-direction control characters",
        ),
        ("\u{200B}\u{200B}", "Title must contain visible text"),
    ] {
        let body = json!({ "title": title, "price": 10 }).to_string();
        let response = send_raw(&fleet, "POST", "/api/tickets", Some(&cookie), &body).await;
        assert_error(&format!("title {title:?}"), response, 400, message).await;
    }
    let body = json!({ "email": "ada\u{202E}@example.com", "password": "password123" }).to_string();
    let response = send_raw(&fleet, "POST", "/api/users/signup", None, &body).await;
    assert_error(
        "bidi email",
        response,
        400,
        "Email must not contain text-direction control characters",
    )
    .await;

    // Sizes: over nginx's body limit, over a route's own, a long URL, a large cookie, many
    // headers, a NUL in the path.
    let huge = format!("{{\"title\":\"{}\"}}", "x".repeat(1024 * 1024));
    let response = send_raw(&fleet, "POST", "/api/tickets", Some(&cookie), &huge).await;
    assert_error("1 MiB body", response, 413, "Request body is too large").await;
    let big = json!({ "email": "a@b.co", "password": "x".repeat(20 * 1024) }).to_string();
    let response = send_raw(&fleet, "POST", "/api/users/signin", None, &big).await;
    assert_error("20 KiB sign-in", response, 413, "Request body is too large").await;
    let response = http()
        .get(fleet.url(&format!("/api/tickets?q={}", "a".repeat(16 * 1024))))
        .send()
        .await?;
    assert_error("16 KiB URL", response, 414, protect::messages::URI_TOO_LONG).await;
    let response = http()
        .get(fleet.url("/api/users/currentuser"))
        .header("cookie", format!("session={}", "a".repeat(8 * 1024)))
        .send()
        .await?;
    assert_error(
        "8 KiB cookie",
        response,
        431,
        protect::messages::HEADERS_TOO_LARGE,
    )
    .await;
    for count in [80, 150] {
        let mut request = http().get(fleet.url("/api/tickets"));
        for i in 0..count {
            request = request.header(format!("x-many-{i}"), "1");
        }
        assert_error(
            &format!("{count} headers"),
            request.send().await?,
            431,
            protect::messages::HEADERS_TOO_LARGE,
        )
        .await;
    }
    let response = http().get(fleet.url("/api/tickets/%00")).send().await?;
    assert_error("%00", response, 400, "The request is malformed").await;
    // TRACE, which nginx refuses before any route: its 405 names what the path allows (the same
    // table as api-errors', checked in a real nginx below).
    for (path, allow) in [
        (format!("{ticket_path}?x=1"), Some("GET,HEAD,PUT")),
        ("/api/users/signup".to_owned(), Some("POST")),
        ("/elsewhere".to_owned(), None),
    ] {
        let response = http()
            .request(Method::TRACE, fleet.url(&path))
            .send()
            .await?;
        assert_eq!(
            allow_header(&response).as_deref(),
            allow,
            "TRACE {path}: Allow"
        );
        assert_error(
            &format!("TRACE {path}"),
            response,
            405,
            "Method Not Allowed",
        )
        .await;
    }

    // Security headers, and no nginx version.
    let response = http().get(fleet.url("/api/tickets")).send().await?;
    let headers = response.headers();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert!(
        header("content-security-policy").is_some_and(|v| v.contains("frame-ancestors 'none'"))
    );
    assert_eq!(
        header("server").as_deref(),
        Some("nginx"),
        "no version announced"
    );

    // The web client is not running in these tests: `/` and unknown /api paths get nginx's 502,
    // still in the shape (with the client up, unknown /api paths are its JSON 404).
    let response = http().get(fleet.url("/api/nothing-here")).send().await?;
    assert_error(
        "no client",
        response,
        502,
        "The service is not available; please try again",
    )
    .await;

    // A service that is down.
    fleet.kill(Service::Tickets);
    let response = http().get(fleet.url("/api/tickets")).send().await?;
    assert_error(
        "tickets down",
        response,
        502,
        "The service is not available; please try again",
    )
    .await;
    Ok(())
}

#[tokio::test]
async fn sign_in_cannot_be_brute_forced_and_sign_out_ends_the_session_at_auth() -> anyhow::Result<()>
{
    let fleet = Fleet::start(FleetOptions::default()).await?;
    let (email, cookie) = signed_up(&fleet).await;
    let mut statuses = BTreeMap::new();
    for attempt in 0..30 {
        let response = http()
            .post(fleet.url("/api/users/signin"))
            .json(&json!({ "email": email, "password": format!("guess number {attempt}") }))
            .send()
            .await?;
        let status = response.status().as_u16();
        *statuses.entry(status).or_insert(0) += 1;
        if status == 429 {
            let retry_after: u64 = response.headers()["retry-after"].to_str()?.parse()?;
            let body: Value = response.json().await?;
            assert_eq!(
                body,
                json!({ "errors": [{ "message": format!("Too many attempts; try again in {retry_after} seconds") }] })
            );
        }
    }
    assert_eq!(statuses, BTreeMap::from([(400, 10), (429, 20)]));
    // Even the right password waits for the window.
    let response = http()
        .post(fleet.url("/api/users/signin"))
        .json(&json!({ "email": email, "password": "password123" }))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);

    // A copy of the cookie survives sign-out: auth no longer knows it.
    let response = http()
        .post(fleet.url("/api/users/signout"))
        .header("cookie", &cookie)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let response = http()
        .get(fleet.url("/api/users/currentuser"))
        .header("cookie", &cookie)
        .send()
        .await?;
    assert_eq!(
        response.json::<Value>().await?,
        json!({ "currentUser": null })
    );

    // Another user signs in normally meanwhile (the throttle is per account).
    let other = User::sign_up(&fleet, "bystander").await?;
    assert_eq!(
        other.get("/api/users/currentuser").await?.status,
        StatusCode::OK
    );
    Ok(())
}

/// The `NNN "message";` lines of the `map $status $api_error_message` block of an nginx config.
fn error_messages(text: &str) -> BTreeMap<String, String> {
    let start = text
        .find("map $status $api_error_message {")
        .expect("the error message map");
    text[start..]
        .lines()
        .skip(1)
        .take_while(|line| line.trim() != "}")
        .filter_map(|line| {
            let (code, message) = line.trim().split_once(' ')?;
            Some((
                code.to_owned(),
                message.trim_end_matches(';').trim_matches('"').to_owned(),
            ))
        })
        .collect()
}

#[test]
fn the_local_and_kubernetes_ingresses_say_the_same_as_the_services() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let local = std::fs::read_to_string(root.join("infra/local/nginx.conf.template"))
        .expect("the template");
    let k8s = std::fs::read_to_string(root.join("infra/k8s/services/api-errors.yaml"))
        .expect("api-errors");
    let local = error_messages(&local);
    assert_eq!(local, error_messages(&k8s), "the two ingresses' messages");
    for (code, message) in [
        ("414", protect::messages::URI_TOO_LONG),
        ("431", protect::messages::HEADERS_TOO_LARGE),
        ("413", protect::messages::BODY_TOO_LARGE),
    ] {
        assert_eq!(local.get(code).map(String::as_str), Some(message), "{code}");
    }
    for message in local.values() {
        assert!(
            !message.contains('"') && !message.contains('\\'),
            "JSON-safe: {message}"
        );
    }
}

/// One nginx process (`master_process off`: no workers to orphan), killed and reaped when dropped.
struct LoneNginx(Child);

impl Drop for LoneNginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// api-errors, the Kubernetes ingress's error answers (infra/k8s/services/api-errors.yaml), in a
/// real nginx: its ConfigMap's default.conf, asked the way ingress-nginx asks (X-Code, and the
/// client's URI in X-Original-URI, on `/`). The controller's own 405 is a TRACE it refuses before
/// any location; its error_page to a named location keeps the method, so the TRACE itself
/// arrives. Every answer is the shape; a 405 of an API path names what the path allows.
#[tokio::test]
async fn the_kubernetes_error_answers_are_the_shape_and_a_405_says_what_is_allowed()
-> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let yaml = std::fs::read_to_string(root.join("infra/k8s/services/api-errors.yaml"))?;
    let conf = infra_checks::config_map_file(&yaml, "default.conf").map_err(anyhow::Error::msg)?;
    let port = free_port()?;
    let listen = "listen 3000;";
    assert_eq!(conf.matches(listen).count(), 1, "api-errors listens once");
    let conf = conf.replace(listen, &format!("listen 127.0.0.1:{port};"));
    let dir = scratch_dir("api-errors")?;
    let state = dir.display();
    // What the image's nginx.conf gives the ConfigMap (it includes it in its http block), here
    // in this test's directory.
    let main_conf = format!(
        "daemon off;\n\
         master_process off;\n\
         pid {state}/nginx.pid;\n\
         error_log {state}/error.log warn;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
         access_log {state}/access.log;\n\
         client_body_temp_path {state}/body;\n\
         proxy_temp_path {state}/proxy;\n\
         fastcgi_temp_path {state}/fastcgi;\n\
         uwsgi_temp_path {state}/uwsgi;\n\
         scgi_temp_path {state}/scgi;\n\
         {conf}\n\
         }}\n"
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, main_conf)?;
    let log = std::fs::File::create(dir.join("nginx.log"))?;
    let _nginx = LoneNginx(
        Command::new("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?,
    );
    let url = format!("http://127.0.0.1:{port}/");
    let ready = poll::until(
        Duration::from_secs(10),
        Duration::from_millis(50),
        async || {
            let response = http().get(format!("{url}healthz")).send().await.ok()?;
            response.status().is_success().then_some(())
        },
    )
    .await;
    assert!(
        ready.is_some(),
        "api-errors did not start: {}{}",
        std::fs::read_to_string(dir.join("nginx.log")).unwrap_or_default(),
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );

    let ask = async |method: Method, code: &str, uri: &str| {
        http()
            .request(method, &url)
            .header("x-code", code)
            .header("x-original-uri", uri)
            .send()
            .await
            .expect("sent")
    };
    // The controller's 405 (a TRACE arrives as one; GET, as any 405 of another method would).
    for (method, uri, allow) in [
        (Method::TRACE, "/api/tickets/abc?x=1", Some("GET,HEAD,PUT")),
        (Method::TRACE, "/api/users/currentuser", Some("GET,HEAD")),
        (Method::TRACE, "/api/payments/webhook", Some("POST")),
        (Method::GET, "/api/orders?page=2", Some("GET,HEAD,POST")),
        (Method::GET, "/api/orders/64b7f0c2", Some("GET,HEAD,DELETE")),
        (Method::TRACE, "/api/tickets/a/b", None),
        (Method::TRACE, "/elsewhere", None),
    ] {
        let what = format!("{method} X-Code 405 {uri}");
        let response = ask(method, "405", uri).await;
        assert_eq!(allow_header(&response).as_deref(), allow, "{what}: Allow");
        assert_error(&what, response, 405, "Method Not Allowed").await;
    }
    // Any other status names no methods, even on an API path.
    for (code, status, message) in [
        ("413", 413, protect::messages::BODY_TOO_LARGE),
        ("494", 431, protect::messages::HEADERS_TOO_LARGE),
        ("502", 502, "The service is not available; please try again"),
    ] {
        let what = format!("X-Code {code} /api/tickets");
        let response = ask(Method::GET, code, "/api/tickets").await;
        assert_eq!(allow_header(&response), None, "{what}: Allow");
        assert_error(&what, response, status, message).await;
    }
    Ok(())
}
