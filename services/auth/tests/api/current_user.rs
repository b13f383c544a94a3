use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use ticketing_common::{domain::UserId, session::Claims, testing::TEST_JWT_KEY};

use crate::helpers::{TestApp, session_set_cookie, spawn_app, token_of};

fn claims(iat: i64, exp: i64) -> Claims {
    Claims {
        id: UserId::new(),
        email: "someone@example.com".into(),
        iat,
        exp,
        jti: String::new(),
    }
}

async fn current_user_for_token(app: &TestApp, token: &str) -> (Value, Option<String>) {
    let response = app
        .current_user_with_cookie(&format!("session={token}"))
        .await;
    assert_eq!(response.status(), 200);
    let set_cookie = session_set_cookie(&response);
    let body: Value = response.json().await.expect("json");
    (body["currentUser"].clone(), set_cookie)
}

#[tokio::test]
async fn signed_out_means_a_null_current_user() {
    let app = spawn_app().await;
    let response = app
        .api
        .get(app.url("/api/users/currentuser"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.expect("json"),
        json!({ "currentUser": null })
    );
}

#[tokio::test]
async fn a_valid_session_names_the_user_with_its_times() {
    let app = spawn_app().await;
    let now = Utc::now().timestamp();
    let claims = claims(now, now + 900);
    let token = app.sessions.sign(&claims).expect("signs");

    let (current, set_cookie) = current_user_for_token(&app, &token).await;

    assert_eq!(
        current,
        json!({ "id": claims.id.to_string(), "email": claims.email, "iat": claims.iat, "exp": claims.exp })
    );
    assert_eq!(set_cookie, None, "a young session is not re-issued");
}

#[tokio::test]
async fn a_session_past_half_its_life_is_reissued() {
    let app = spawn_app().await;
    let now = Utc::now().timestamp();
    let old = claims(now - 600, now + 300);
    let token = app.sessions.sign(&old).expect("signs");

    let (current, set_cookie) = current_user_for_token(&app, &token).await;

    let set_cookie = set_cookie.expect("the session is re-issued");
    let fresh = app
        .sessions
        .verify(&token_of(&set_cookie))
        .expect("a valid fresh token");
    assert_eq!(fresh.id, old.id);
    assert!(
        fresh.exp >= now + 900,
        "fresh expiry {} vs now {now}",
        fresh.exp
    );
    assert_eq!(current["exp"], json!(fresh.exp));
}

#[tokio::test]
async fn tampered_expired_and_unsigned_tokens_mean_signed_out() {
    let app = spawn_app().await;
    let now = Utc::now().timestamp();
    let good = app.sessions.sign(&claims(now, now + 900)).expect("signs");

    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut forged: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).expect("b64")).expect("json");
    forged["email"] = json!("admin@example.com");
    parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
    let tampered = parts.join(".");

    let expired = app
        .sessions
        .sign(&claims(now - 1000, now - 100))
        .expect("signs");

    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload =
        URL_SAFE_NO_PAD.encode(serde_json::to_string(&claims(now, now + 900)).expect("json"));
    let alg_none = format!("{none_header}.{payload}.");

    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(now, now + 900),
        &EncodingKey::from_secret(TEST_JWT_KEY.as_bytes()),
    )
    .expect("signs");

    for (name, token) in [
        ("tampered", tampered.as_str()),
        ("expired", &expired),
        ("alg none", &alg_none),
        ("HS512", &hs512),
        ("garbage", "not.a.token"),
    ] {
        let (current, set_cookie) = current_user_for_token(&app, token).await;
        assert_eq!(current, Value::Null, "{name} token must be refused");
        assert_eq!(set_cookie, None, "{name} token must not be re-issued");
    }
}
