use mongodb::bson::doc;
use ticketing_common::{
    domain::{OrderId, OrderStatus, UserId},
    events::Subject,
};

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_replica_follows_order_versions_in_order_and_ignores_duplicates() {
    let app = spawn_app().await;
    let buyer = UserId::new();
    let id = OrderId::new();

    // The cancellation overtakes the creation; then both come again.
    app.publish_order_cancelled(id, 1).await;
    app.publish_order_created(id, buyer, 700).await;
    app.publish_order_created(id, UserId::new(), 999).await;
    app.publish_order_cancelled(id, 1).await;

    let replica = app
        .replica_when(id, |r| r.is_some_and(|r| r.version.get() == 1))
        .await
        .expect("replica");
    assert_eq!(replica.status, OrderStatus::Cancelled);
    assert_eq!(replica.user_id, buyer, "kept from the creation");
    assert_eq!(replica.price.cents(), 700, "kept from the creation");
    app.wait_until_handled(Subject::OrderCreated, 2).await;
    app.wait_until_handled(Subject::OrderCancelled, 2).await;
    let still = app.orders.find(id).await.expect("query").expect("replica");
    assert_eq!(still, replica, "duplicates changed nothing");
    let documents = app
        .orders
        .collection()
        .count_documents(doc! {})
        .await
        .expect("count");
    assert_eq!(documents, 1);
}

#[tokio::test]
async fn a_new_order_is_replicated_as_created_with_its_price_and_buyer() {
    let app = spawn_app().await;
    let buyer = UserId::new();

    let id = app.order(buyer, 1999).await;

    let replica = app.orders.find(id).await.expect("query").expect("replica");
    assert_eq!(
        (replica.version.get(), replica.status, replica.user_id),
        (0, OrderStatus::Created, buyer)
    );
    assert_eq!(replica.price.cents(), 1999);
}
