//! A careless or hostile client: bodies that are not objects, oversized or slow requests, text
//! that hides what it says. Every answer is the normalized error shape in the request's terms.

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, client, errors_of, spawn_app, unique_email};

/// What no message may say: Rust type names and serde's wording are for us, not for clients.
const LEAKS: [&str; 8] = [
    "SignUpBody",
    "SignInBody",
    "deserialize",
    "invalid type",
    "expected",
    "struct",
    "line 1 column",
    "Failed to",
];

async fn assert_error(response: Response, status: u16, message: &str) {
    assert_eq!(response.status(), status);
    let errors = errors_of(response).await;
    assert_eq!(errors[0]["message"], message, "{errors}");
    let text = errors.to_string();
    for leak in LEAKS {
        assert!(!text.contains(leak), "{leak:?} leaked: {text}");
    }
}

async fn post_raw(app: &crate::helpers::TestApp, path: &str, body: &str) -> Response {
    client(false)
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_a_400_that_says_so() {
    let app = spawn_app().await;
    for path in ["/api/users/signup", "/api/users/signin"] {
        for body in ["42", "\"hello\"", "null", "true", "[]", "", "  "] {
            let response = post_raw(&app, path, body).await;
            assert_error(response, 400, "Request body must be a JSON object").await;
        }
    }
}

#[tokio::test]
async fn an_array_is_never_read_by_position() {
    let app = spawn_app().await;
    let email = unique_email();
    let body = json!([email, PASSWORD]).to_string();
    let response = post_raw(&app, "/api/users/signup", &body).await;
    assert_error(response, 400, "Request body must be a JSON object").await;
    // No user was created: a proper sign-up of that address succeeds.
    assert_eq!(app.signup(&email, PASSWORD).await.status(), 201);
    let response = post_raw(&app, "/api/users/signin", &body).await;
    assert_error(response, 400, "Request body must be a JSON object").await;
}

#[tokio::test]
async fn fields_of_the_wrong_type_get_the_fields_messages() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/users/signin",
            &json!({ "email": { "$gt": "" }, "password": 12345678 }),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([
            { "field": "email", "message": "Email must be valid" },
            { "field": "password", "message": "You must supply a password" },
        ])
    );
}

#[tokio::test]
async fn a_body_over_the_routes_limit_is_a_json_413() {
    let app = spawn_app().await;
    let body = json!({ "email": unique_email(), "password": "x".repeat(8 * 1024) }).to_string();
    for path in ["/api/users/signup", "/api/users/signin"] {
        let response = post_raw(&app, path, &body).await;
        assert_error(response, 413, "Request body must be at most 4 KiB").await;
    }
}

#[tokio::test]
async fn emails_with_control_direction_or_invisible_characters_are_refused_clearly() {
    let app = spawn_app().await;
    let cases = [
        (
            "ada\u{0}@example.com",
            "Email must not contain control characters",
        ),
        (
            "ada@exam\nple.com",
            "Email must not contain control characters",
        ),
        (
            "ada\u{202E}moc.elpmaxe@example.com",
            "Email must not contain text-direction control characters",
        ),
        (
            "ada@exa\u{200B}mple.com",
            "Email must not contain invisible characters",
        ),
        (
            "\u{200B}\u{200B}",
            "Email must not contain invisible characters",
        ),
    ];
    for (email, message) in cases {
        let response = app.signup(email, PASSWORD).await;
        assert_eq!(response.status(), 400, "{email:?}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "field": "email", "message": message }]),
            "{email:?}"
        );
    }
}

#[tokio::test]
async fn oversized_request_heads_are_json_414_and_431() {
    let app = spawn_app().await;
    let long_url = app.url(&format!("/api/users/currentuser?q={}", "a".repeat(5_000)));
    let response = client(false).get(long_url).send().await.expect("sent");
    assert_error(response, 414, "Request URL is too long").await;

    let mut many = client(false).get(app.url("/api/users/currentuser"));
    for i in 0..80 {
        many = many.header(format!("x-extra-{i}"), "1");
    }
    assert_error(
        many.send().await.expect("sent"),
        431,
        "Request headers are too large",
    )
    .await;

    let cookie = format!("session={}", "a".repeat(20 * 1024));
    let response = client(false)
        .get(app.url("/api/users/currentuser"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("sent");
    assert_error(response, 431, "Request headers are too large").await;
}

#[tokio::test]
async fn answers_carry_the_security_headers() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let responses = [
        app.api
            .get(app.url("/api/users/currentuser"))
            .send()
            .await
            .expect("sent"),
        app.signin(&email, "wrong password").await,
        app.api
            .get(app.url("/api/users/nowhere"))
            .send()
            .await
            .expect("sent"),
    ];
    for response in responses {
        let headers = response.headers();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header("x-content-type-options"), Some("nosniff"));
        assert_eq!(header("x-frame-options"), Some("DENY"));
        assert_eq!(header("referrer-policy"), Some("no-referrer"));
        assert_eq!(header("cache-control"), Some("no-store"));
        assert!(
            header("content-security-policy")
                .is_some_and(|csp| csp.contains("frame-ancestors 'none'")),
            "{headers:?}"
        );
        assert_eq!(header("strict-transport-security"), None, "plain http");
    }
    let over_https = app
        .api
        .get(app.url("/api/users/currentuser"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("sent");
    assert!(
        over_https
            .headers()
            .contains_key("strict-transport-security")
    );
    let _: Value = over_https.json().await.expect("json");
}
