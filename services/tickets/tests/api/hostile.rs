//! A careless or hostile seller: bodies that are not objects, oversized bodies, titles that hide
//! what they say. Every answer is the normalized error shape in the request's terms.

use serde_json::{Value, json};
use ticketing_common::domain::UserId;

use crate::helpers::{errors_of, spawn_app};

#[tokio::test]
async fn arrays_and_other_non_objects_never_create_or_edit_a_ticket() {
    let app = spawn_app().await;
    let user = UserId::new();
    let ticket = app.ticket_of(user, "Concert", 10.0).await;
    let id = ticket["id"].as_str().expect("an id").to_owned();
    for body in [
        json!(["Concert", 10]),
        json!(42),
        json!("Concert"),
        Value::Null,
        json!(true),
    ] {
        let response = app.create_ticket(Some(user), &body).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Request body must be a JSON object" }]),
            "{body}"
        );
        let response = app.edit_ticket(Some(user), &id, &body).await;
        assert_eq!(response.status(), 400, "{body}");
    }
    assert_eq!(
        app.ticket_json(&id).await,
        ticket,
        "the ticket is unchanged"
    );
}

#[tokio::test]
async fn titles_that_hide_what_they_say_are_refused_with_a_clear_message() {
    let app = spawn_app().await;
    let user = UserId::new();
    let too_long = "x".repeat(201);
    let cases = [
        ("\u{0}", "Title must not contain control characters"),
        (
            "Concert\u{7}\u{1b}[2J",
            "Title must not contain control characters",
        ),
        ("Two\nlines", "Title must not contain control characters"),
        (
            "Concert \u{202E}3pm",
            "Title must not contain text-direction control characters",
        ),
        (
            "\u{2066}Concert\u{2069}",
            "Title must not contain text-direction control characters",
        ),
        (
            "\u{200B}\u{200B}\u{200B}",
            "Title must contain visible text",
        ),
        ("\u{FEFF}\u{2060}", "Title must contain visible text"),
        ("\u{3164}", "Title must contain visible text"),
        ("   ", "Title is required"),
        (too_long.as_str(), "Title must be at most 200 characters"),
    ];
    for (title, message) in cases {
        let response = app
            .create_ticket(Some(user), &json!({ "title": title, "price": 10 }))
            .await;
        assert_eq!(response.status(), 400, "{title:?}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "field": "title", "message": message }]),
            "{title:?}"
        );
    }
    // Any script, emoji sequences joined by zero-width joiners: all fine.
    for title in [
        "Ébène à l'Opéra",
        "東京ドーム",
        "👨\u{200D}👩\u{200D}👧 Family day",
    ] {
        let response = app
            .create_ticket(Some(user), &json!({ "title": title, "price": 10 }))
            .await;
        assert_eq!(response.status(), 201, "{title:?}");
    }
}

#[tokio::test]
async fn a_title_of_the_wrong_type_gets_the_fields_message() {
    let app = spawn_app().await;
    let response = app
        .create_ticket(Some(UserId::new()), &json!({ "title": 42, "price": "ten" }))
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        errors_of(response).await,
        json!([
            { "field": "price", "message": "Price must be greater than 0" },
            { "field": "title", "message": "Title is required" },
        ])
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_json_413() {
    let app = spawn_app().await;
    let body = json!({ "title": "x".repeat(10 * 1024), "price": 10 });
    let response = app.create_ticket(Some(UserId::new()), &body).await;
    assert_eq!(response.status(), 413);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Request body must be at most 8 KiB" }])
    );
}
