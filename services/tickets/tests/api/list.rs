//! `GET /api/tickets` a page at a time: `?limit=&cursor=`, the next page in `Link` and
//! `X-Next-Cursor`, the body still a JSON array.

use reqwest::Response;
use serde_json::{Value, json};
use ticketing_common::{
    domain::{OrderId, TicketId, UserId},
    pagination::Cursor,
};
use tickets::store::for_sale;

use crate::helpers::{TestApp, errors_of, spawn_app};

/// One page as the client sees it.
struct Listed {
    items: Vec<Value>,
    /// The `Link` target, when there is a next page.
    next: Option<String>,
}

async fn list(app: &TestApp, path_and_query: &str) -> Response {
    app.api
        .get(app.url(path_and_query))
        .send()
        .await
        .expect("request sent")
}

/// Reads a 200 page and checks that its two next-page headers agree.
async fn page(app: &TestApp, path_and_query: &str) -> Listed {
    let response = list(app, path_and_query).await;
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
            target.starts_with("/api/tickets?") && target.contains(&format!("cursor={cursor}")),
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

/// `tickets` in the list's order: shelf by shelf, each oldest first (`tickets::store::for_sale`).
fn in_list_order(mut tickets: Vec<Value>) -> Vec<Value> {
    tickets.sort_by_key(|ticket| {
        let id = TicketId::parse(ticket["id"].as_str().expect("id")).expect("a ticket id");
        (for_sale::shelf_name(id), id)
    });
    tickets
}

/// Follows `Link` from `first` until the last page, returning every item in order.
async fn every_page(app: &TestApp, first: &str, page_size: usize) -> Vec<Value> {
    let (mut items, mut next, mut pages) = (Vec::new(), Some(first.to_owned()), 0);
    while let Some(target) = next {
        let listed = page(app, &target).await;
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

#[tokio::test]
async fn the_default_page_holds_50_tickets_and_links_to_the_rest() {
    let app = spawn_app().await;
    let owner = UserId::new();
    let mut created = Vec::new();
    for n in 0..51 {
        created.push(app.ticket_of(owner, &format!("Show {n}"), 10.0).await);
    }

    let created = in_list_order(created);

    let first = page(&app, "/api/tickets").await;
    assert_eq!(first.items, created[..50]);
    let next = first.next.expect("a second page");
    assert!(next.ends_with("&limit=50"), "{next}");

    let second = page(&app, &next).await;
    assert_eq!(second.items, created[50..]);
    assert!(second.next.is_none(), "the last page has no Link");
}

#[tokio::test]
async fn limit_1_pages_through_every_ticket_for_sale_once_in_order() {
    let app = spawn_app().await;
    let owner = UserId::new();
    let mut for_sale = Vec::new();
    for n in 0..5 {
        let ticket = app.ticket_of(owner, &format!("Show {n}"), 10.0).await;
        if n == 1 || n == 3 {
            // Reserved tickets are not for sale: they never appear on any page.
            app.publish_order_created(OrderId::new(), &ticket).await;
            app.ticket_when(ticket["id"].as_str().expect("id"), |t| {
                t.get("orderId").is_some()
            })
            .await;
        } else {
            for_sale.push(ticket);
        }
    }

    let for_sale = in_list_order(for_sale);
    assert_eq!(every_page(&app, "/api/tickets?limit=1", 1).await, for_sale);
    assert_eq!(every_page(&app, "/api/tickets?limit=2", 2).await, for_sale);
}

#[tokio::test]
async fn a_page_that_holds_everything_has_no_next_link() {
    let app = spawn_app().await;
    let owner = UserId::new();
    let tickets = in_list_order(vec![
        app.ticket_of(owner, "One", 1.0).await,
        app.ticket_of(owner, "Two", 2.0).await,
    ]);

    let exact = page(&app, "/api/tickets?limit=2").await;
    assert_eq!(exact.items, tickets);
    assert!(exact.next.is_none());

    let empty = page(&spawn_app().await, "/api/tickets").await;
    assert!(empty.items.is_empty() && empty.next.is_none());
}

#[tokio::test]
async fn a_bad_limit_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    for limit in ["0", "101", "-1", "abc", "1.5", ""] {
        let response = list(&app, &format!("/api/tickets?limit={limit}")).await;
        assert_eq!(response.status(), 400, "limit={limit}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Limit must be between 1 and 100", "field": "limit" }]),
            "limit={limit}"
        );
    }
}

#[tokio::test]
async fn an_unreadable_tampered_or_foreign_cursor_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let owner = UserId::new();
    app.ticket_of(owner, "One", 1.0).await;
    app.ticket_of(owner, "Two", 2.0).await;
    let issued = page(&app, "/api/tickets?limit=1").await;
    let link = issued.next.expect("a next page");
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
        Cursor::after(OrderId::new()).encode(),
    ] {
        let response = list(&app, &format!("/api/tickets?cursor={bad}")).await;
        assert_eq!(response.status(), 400, "cursor={bad}");
        assert_eq!(
            errors_of(response).await,
            json!([{ "message": "Cursor is invalid", "field": "cursor" }]),
            "cursor={bad}"
        );
    }
}
