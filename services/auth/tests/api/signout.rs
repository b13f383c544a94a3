use serde_json::{Value, json};

use crate::helpers::{session_set_cookie, spawn_app};

#[tokio::test]
async fn signout_clears_the_session_cookie() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    assert_ne!(app.current_user().await, Value::Null);

    let response = app.signout().await;

    assert_eq!(response.status(), 200);
    let cookie = session_set_cookie(&response).expect("a clearing cookie");
    assert!(cookie.starts_with("session=;"), "{cookie}");
    assert!(cookie.contains("Max-Age=0"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert_eq!(response.json::<Value>().await.expect("json"), json!({}));
    assert_eq!(app.current_user().await, Value::Null);
}

#[tokio::test]
async fn signout_while_signed_out_is_fine() {
    let app = spawn_app().await;
    let response = app.signout().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.expect("json"), json!({}));
}
