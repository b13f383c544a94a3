use serde_json::{Value, json};
use ticketing_common::domain::{OrderId, UserId};

use crate::helpers::{errors_of, id_of, spawn_app};

#[tokio::test]
async fn a_user_sees_only_their_own_orders_with_the_ticket() {
    let app = spawn_app().await;
    let (alice, bob) = (UserId::new(), UserId::new());
    let (t1, t2, t3) = (
        app.ticket("One", 100).await,
        app.ticket("Two", 200).await,
        app.ticket("Three", 300).await,
    );
    let a1 = app.order(alice, t1).await;
    let a2 = app.order(alice, t2).await;
    app.order(bob, t3).await;

    let response = app
        .api
        .get(app.url("/api/orders"))
        .header("cookie", app.cookie(alice))
        .send()
        .await
        .expect("sent");

    assert_eq!(response.status(), 200);
    let listed: Value = response.json().await.expect("json");
    assert_eq!(listed, json!([a1, a2]));
}

#[tokio::test]
async fn listing_orders_requires_a_session() {
    let app = spawn_app().await;
    let response = app
        .api
        .get(app.url("/api/orders"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn an_order_is_shown_to_its_owner_only() {
    let app = spawn_app().await;
    let owner = UserId::new();
    let order = app.order(owner, app.ticket("Mine", 100).await).await;

    assert_eq!(app.order_json(owner, id_of(&order)).await, order);
    let response = app.get_order(Some(UserId::new()), id_of(&order)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        errors_of(response).await,
        json!([{ "message": "Not authorized" }])
    );
    assert_eq!(app.get_order(None, id_of(&order)).await.status(), 401);
}

#[tokio::test]
async fn unknown_and_malformed_order_ids_are_404() {
    let app = spawn_app().await;
    let user = Some(UserId::new());
    assert_eq!(
        app.get_order(user, &OrderId::new().to_string())
            .await
            .status(),
        404
    );
    assert_eq!(app.get_order(user, "not-an-id").await.status(), 404);
}
