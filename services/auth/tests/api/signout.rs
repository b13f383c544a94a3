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

#[tokio::test]
async fn a_signed_out_token_is_nobody_to_auth_on_every_replica_and_is_never_renewed() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let response = app
        .api
        .get(app.url("/api/users/currentuser"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    // The token as a copy of the cookie would carry it.
    let claims = app.current_user().await;
    assert_eq!(claims["email"], email);
    let token = app
        .sessions
        .sign(&serde_json::from_value(claims).expect("claims"))
        .expect("signs");
    let cookie = format!("session={token}");
    assert_eq!(
        app.current_user_with_cookie(&cookie)
            .await
            .json::<Value>()
            .await
            .expect("json")["currentUser"]["email"],
        email
    );

    // Sign out with exactly that token.
    let response = crate::helpers::client(false)
        .post(app.url("/api/users/signout"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);

    let (other, _stop) = app.another_instance().await;
    for base in [app.address.clone(), other] {
        let response = crate::helpers::client(false)
            .get(format!("{base}/api/users/currentuser"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200);
        assert!(
            session_set_cookie(&response).is_none_or(|c| c.starts_with("session=;")),
            "a revoked session is never re-issued"
        );
        assert_eq!(
            response.json::<Value>().await.expect("json"),
            json!({ "currentUser": null })
        );
    }
}
