use futures::future::join_all;
use mongodb::bson::{Document, doc};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, client, errors_of, session_set_cookie, spawn_app, unique_email};

#[tokio::test]
async fn signup_creates_the_user_and_signs_them_in() {
    let app = spawn_app().await;
    let email = unique_email();

    let response = app.signup(&email, PASSWORD).await;

    assert_eq!(response.status(), 201);
    assert!(
        session_set_cookie(&response).is_some(),
        "a session cookie is set"
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["email"], email);
    assert_eq!(body["id"].as_str().map(str::len), Some(24));
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(2),
        "only id and email: {body}"
    );
    let current = app.current_user().await;
    assert_eq!(current["id"], body["id"]);
    assert_eq!(current["email"], email);
}

#[tokio::test]
async fn passwords_are_stored_as_scrypt_phc_strings_never_in_clear() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;

    let stored = app
        .db
        .collection::<Document>("users")
        .find_one(doc! { "email": &email })
        .await
        .expect("query")
        .expect("user stored");
    let hash = stored.get_str("password_hash").expect("hash field");
    assert!(hash.starts_with("$scrypt$ln=10,r=8,p=1$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn invalid_fields_are_reported_with_the_contract_messages() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "email": "not-an-email", "password": PASSWORD }),
            vec![("email", "Email must be valid")],
        ),
        (
            json!({ "email": unique_email(), "password": "short" }),
            vec![("password", "Password must be between 8 and 64 characters")],
        ),
        (
            json!({ "email": unique_email(), "password": "x".repeat(65) }),
            vec![("password", "Password must be between 8 and 64 characters")],
        ),
        (
            json!({ "email": unique_email(), "password": "   1234567   " }),
            vec![("password", "Password must be between 8 and 64 characters")],
        ),
        (
            json!({}),
            vec![
                ("email", "Email must be valid"),
                ("password", "Password must be between 8 and 64 characters"),
            ],
        ),
    ];
    for (body, expected) in cases {
        let response = app.post_json("/api/users/signup", &body).await;
        assert_eq!(response.status(), 400, "{body}");
        let expected: Vec<Value> = expected
            .into_iter()
            .map(|(field, message)| json!({ "field": field, "message": message }))
            .collect();
        assert_eq!(errors_of(response).await, Value::Array(expected), "{body}");
    }
}

#[tokio::test]
async fn a_field_of_the_wrong_type_gets_the_fields_own_message() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/users/signup",
            &json!({ "email": 42, "password": ["x"] }),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([
            { "field": "email", "message": "Email must be valid" },
            { "field": "password", "message": "Password must be between 8 and 64 characters" },
        ])
    );
}

#[tokio::test]
async fn an_email_in_use_is_refused_whatever_its_case() {
    let app = spawn_app().await;
    let email = unique_email();
    assert_eq!(app.signup(&email, PASSWORD).await.status(), 201);

    let response = app
        .signup(&format!("  {}  ", email.to_uppercase()), PASSWORD)
        .await;

    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Email in use" }])
    );
}

#[tokio::test]
async fn twenty_concurrent_signups_with_one_email_create_one_user() {
    let app = spawn_app().await;
    let email = unique_email();
    let url = app.url("/api/users/signup");
    let attempts = (0..20).map(|_| {
        let request = client(false)
            .post(&url)
            .json(&json!({ "email": email, "password": PASSWORD }));
        async move { request.send().await.expect("request sent") }
    });

    let responses = join_all(attempts).await;

    let created = responses.iter().filter(|r| r.status() == 201).count();
    let refused = responses.iter().filter(|r| r.status() == 400).count();
    assert_eq!((created, refused), (1, 19));
    let users = app
        .db
        .collection::<Document>("users")
        .count_documents(doc! { "email": &email })
        .await
        .expect("count");
    assert_eq!(users, 1);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_not_secure_when_turned_off() {
    let app = spawn_app().await;
    let response = app.signup(&unique_email(), PASSWORD).await;
    let cookie = session_set_cookie(&response).expect("cookie set");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(cookie.contains("Max-Age=900"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn the_session_cookie_is_secure_by_configuration() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    let response = app.signup(&unique_email(), PASSWORD).await;
    let cookie = session_set_cookie(&response).expect("cookie set");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
}

#[tokio::test]
async fn a_restarted_service_keeps_its_users_and_the_unique_email() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;

    let (restarted, _running) = app.another_instance().await;

    let again = client(false)
        .post(format!("{restarted}/api/users/signup"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), 400);
    assert_eq!(
        errors_of(again).await,
        json!([{ "message": "Email in use" }])
    );
    let signin = client(false)
        .post(format!("{restarted}/api/users/signin"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("sent");
    assert_eq!(signin.status(), 200);
}
