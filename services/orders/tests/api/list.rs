//! `GET /api/orders` a page at a time: only the user's own orders, `?limit=&cursor=`, the next
//! page in `Link` and `X-Next-Cursor`, the body still a JSON array.

use reqwest::Response;
use serde_json::{Value, json};
use ticketing_common::{
    domain::{TicketId, UserId},
    pagination::Cursor,
};

use crate::helpers::{TestApp, errors_of, spawn_app};

/// One page as the client sees it.
struct Listed {
    items: Vec<Value>,
    /// The `Link` target, when there is a next page.
    next: Option<String>,
}

async fn list(app: &TestApp, user: Option<UserId>, path_and_query: &str) -> Response {
    let mut request = app.api.get(app.url(path_and_query));
    if let Some(user) = user {
        request = request.header("cookie", app.cookie(user));
    }
    request.send().await.expect("request sent")
}

/// Reads a 200 page and checks that its two next-page headers agree.
async fn page(app: &TestApp, user: UserId, path_and_query: &str) -> Listed {
    let response = list(app, Some(user), path_and_query).await;
    assert_eq!(response.status(), 200, "{path_and_query}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().expect("ascii header").to_owned())
    };
    let (link, cursor) = (header("link"), header("x-next-cursor"));
    let next = link.map(|link| {
        let target = link
            .strip_prefix('<')
            .and_then(|rest| rest.strip_suffix(">; rel=\"next\""))
            .unwrap_or_else(|| panic!("RFC 8288 next link, got {link:?}"))
            .to_owned();
        let cursor = cursor.as_deref().expect("X-Next-Cursor beside Link");
        assert!(
            target.starts_with("/api/orders?") && target.contains(&format!("cursor={cursor}")),
            "{target} names the cursor {cursor}"
        );
        target
    });
    if next.is_none() {
        assert_eq!(cursor, None, "no X-Next-Cursor without Link");
    }
    let items = match response.json().await.expect("json") {
        Value::Array(items) => items,
        other => panic!("the body is a JSON array, got {other}"),
    };
    Listed { items, next }
}

/// Follows `Link` from `first` until the last page, returning every item in order.
async fn every_page(app: &TestApp, user: UserId, first: &str, page_size: usize) -> Vec<Value> {
    let (mut items, mut next, mut pages) = (Vec::new(), Some(first.to_owned()), 0);
    while let Some(target) = next {
        let listed = page(app, user, &target).await;
        assert!(
            listed.items.len() <= page_size,
            "{target}: at most the limit"
        );
        if listed.next.is_some() {
            assert_eq!(
                listed.items.len(),
                page_size,
                "{target}: only the last is short"
            );
        }
        items.extend(listed.items);
        next = listed.next;
        pages += 1;
        assert!(pages <= 100, "the pages never end");
    }
    items
}

/// `count` tickets known to the service: all published first, then waited for.
async fn tickets(app: &TestApp, count: usize) -> Vec<TicketId> {
    let ids: Vec<TicketId> = (0..count).map(|_| TicketId::new()).collect();
    for (n, id) in ids.iter().enumerate() {
        app.publish_ticket_created(*id, &format!("Show {n}"), 1_000)
            .await;
    }
    for id in &ids {
        app.replica_when(*id, |replica| replica.is_some()).await;
    }
    ids
}

#[tokio::test]
async fn the_default_page_holds_50_orders_and_links_to_the_rest() {
    let app = spawn_app().await;
    let user = UserId::new();
    let mut orders = Vec::new();
    for ticket in tickets(&app, 51).await {
        orders.push(app.order(user, ticket).await);
    }

    let first = page(&app, user, "/api/orders").await;
    assert_eq!(first.items, orders[..50]);
    let next = first.next.expect("a second page");
    assert!(next.ends_with("&limit=50"), "{next}");

    let second = page(&app, user, &next).await;
    assert_eq!(second.items, orders[50..]);
    assert!(second.next.is_none(), "the last page has no Link");
}

#[tokio::test]
async fn limit_1_pages_through_the_users_own_orders_once_in_order() {
    let app = spawn_app().await;
    let (alice, bob) = (UserId::new(), UserId::new());
    let (mut of_alice, mut of_bob) = (Vec::new(), Vec::new());
    // Interleaved, so that the other user's orders sit between this user's in the collection.
    for (n, ticket) in tickets(&app, 7).await.into_iter().enumerate() {
        if n % 2 == 0 {
            of_alice.push(app.order(alice, ticket).await);
        } else {
            of_bob.push(app.order(bob, ticket).await);
        }
    }

    assert_eq!(
        every_page(&app, alice, "/api/orders?limit=1", 1).await,
        of_alice
    );
    assert_eq!(
        every_page(&app, alice, "/api/orders?limit=3", 3).await,
        of_alice
    );
    assert_eq!(
        every_page(&app, bob, "/api/orders?limit=1", 1).await,
        of_bob
    );

    let exact = page(&app, alice, "/api/orders?limit=4").await;
    assert_eq!(exact.items, of_alice);
    assert!(
        exact.next.is_none(),
        "a page that holds everything has no Link"
    );

    let none = page(&app, UserId::new(), "/api/orders").await;
    assert!(none.items.is_empty() && none.next.is_none());
}

#[tokio::test]
async fn a_bad_limit_is_a_400_naming_the_field_after_the_session_check() {
    let app = spawn_app().await;
    let user = Some(UserId::new());
    for limit in ["0", "101", "-1", "abc", "1.5", ""] {
        let response = list(&app, user, &format!("/api/orders?limit={limit}")).await;
        assert_eq!(response.status(), 400, "limit={limit}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Limit must be between 1 and 100", "field": "limit" }]),
            "limit={limit}"
        );
    }
    let response = list(&app, None, "/api/orders?limit=0").await;
    assert_eq!(response.status(), 401, "the session is checked first");
}

#[tokio::test]
async fn an_unreadable_tampered_or_foreign_cursor_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let user = UserId::new();
    for ticket in tickets(&app, 2).await {
        app.order(user, ticket).await;
    }
    let link = page(&app, user, "/api/orders?limit=1")
        .await
        .next
        .expect("a next page");
    let cursor = link
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("cursor="))
        .expect("cursor in the link")
        .to_owned();

    for bad in [
        "garbage!".to_owned(),
        "".to_owned(),
        cursor[..cursor.len() - 1].to_owned(),
        format!("{cursor}xyz"),
        cursor.to_uppercase(),
        Cursor::after(TicketId::new()).encode(),
    ] {
        let response = list(&app, Some(user), &format!("/api/orders?cursor={bad}")).await;
        assert_eq!(response.status(), 400, "cursor={bad}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Cursor is invalid", "field": "cursor" }]),
            "cursor={bad}"
        );
    }
}
