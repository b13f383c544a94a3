use serde_json::{Value, json};

use crate::helpers::{PASSWORD, client, errors_of, session_set_cookie, spawn_app, unique_email};

#[tokio::test]
async fn signin_with_the_right_password_starts_a_session() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    app.signout().await;
    assert_eq!(app.current_user().await, Value::Null);

    let response = app
        .signin(&email.to_uppercase(), &format!(" {PASSWORD} "))
        .await;

    assert_eq!(response.status(), 200);
    assert!(session_set_cookie(&response).is_some());
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["email"], email);
    assert_eq!(app.current_user().await["email"], email);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let stranger = client(true);

    for (email, password) in [
        (email.as_str(), "wrong password"),
        ("nobody@example.com", PASSWORD),
    ] {
        let response = stranger
            .post(app.url("/api/users/signin"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 400);
        assert!(session_set_cookie(&response).is_none());
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Invalid credentials" }])
        );
    }
}

#[tokio::test]
async fn missing_fields_are_reported() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/users/signin",
            &json!({ "email": "nope", "password": "   " }),
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
    let response = app
        .post_json("/api/users/signin", &json!({ "email": unique_email() }))
        .await;
    assert_eq!(
        errors_of(response).await,
        json!([{ "field": "password", "message": "You must supply a password" }])
    );
}
