//! The session (DESIGN.md §3): a JWT signed with HS256 in the `session` cookie. Every service
//! verifies it itself with `JWT_KEY`; only auth issues it.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tower_cookies::{Cookie, cookie::SameSite};

use crate::{config::SessionConfig, domain::UserId};

pub const COOKIE_NAME: &str = "session";

/// What a session token says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub id: UserId,
    pub email: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// This token's own id (JWT `jti`): two sessions of one user issued in the same second are
    /// still two tokens, so signing one out (auth's revocation) never ends its twin. Empty in
    /// tokens issued before it existed; never shown by the API.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jti: String,
}

impl Claims {
    /// True once the token has lived past half its lifetime: time to re-issue it.
    pub fn past_half_life(&self, now: i64) -> bool {
        now - self.iat >= (self.exp - self.iat) / 2
    }
}

/// Signs and verifies session tokens and shapes the cookie that carries them.
#[derive(Clone)]
pub struct Sessions(Arc<Inner>);

struct Inner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    secure_cookies: bool,
}

impl Sessions {
    pub fn new(config: &SessionConfig) -> Self {
        // Pinned to HS256: a token that names any other algorithm, `none` included, is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "iat"]);
        Self(Arc::new(Inner {
            encoding: EncodingKey::from_secret(config.jwt_key.as_bytes()),
            decoding: DecodingKey::from_secret(config.jwt_key.as_bytes()),
            validation,
            ttl: config.ttl,
            secure_cookies: config.secure_cookies,
        }))
    }

    /// Fresh claims for a user, valid from now for the configured lifetime.
    pub fn claims_for(&self, id: UserId, email: impl Into<String>) -> Claims {
        let iat = Utc::now().timestamp();
        let ttl = i64::try_from(self.0.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        Claims {
            id,
            email: email.into(),
            iat,
            exp: iat.saturating_add(ttl),
            jti: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.0.encoding,
        )?)
    }

    /// The claims of a valid token; `None` for anything tampered, expired or foreign.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        match jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation) {
            Ok(data) => Some(data.claims),
            Err(err) => {
                tracing::debug!(error = %err, "session token rejected");
                None
            }
        }
    }

    /// The `session` cookie carrying `token`.
    pub fn cookie(&self, token: String) -> Cookie<'static> {
        let mut cookie = self.base_cookie(token);
        cookie.set_max_age(tower_cookies::cookie::time::Duration::seconds(
            i64::try_from(self.0.ttl.as_secs()).unwrap_or(i64::MAX / 2),
        ));
        cookie
    }

    /// A cookie that, given to `Cookies::remove`, clears the session in the browser.
    pub fn removal_cookie(&self) -> Cookie<'static> {
        self.base_cookie(String::new())
    }

    fn base_cookie(&self, value: String) -> Cookie<'static> {
        Cookie::build((COOKIE_NAME, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.0.secure_cookies)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::JwtKey;

    fn sessions(ttl: u64) -> Sessions {
        Sessions::new(&SessionConfig {
            jwt_key: JwtKey::parse("a-test-key-that-is-long-enough-for-hs256".into())
                .expect("long enough"),
            ttl: Duration::from_secs(ttl),
            secure_cookies: true,
        })
    }

    fn user() -> UserId {
        UserId::new()
    }

    #[test]
    fn a_signed_token_verifies_to_its_claims() {
        let sessions = sessions(60);
        let claims = sessions.claims_for(user(), "a@b.co");
        let token = sessions.sign(&claims).expect("signs");
        assert_eq!(sessions.verify(&token), Some(claims));
    }

    #[test]
    fn tampered_expired_and_foreign_tokens_are_refused() {
        let sessions = sessions(60);
        let claims = sessions.claims_for(user(), "a@b.co");
        let token = sessions.sign(&claims).expect("signs");

        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(sessions.verify(&tampered), None);

        let expired = Claims {
            iat: claims.iat - 120,
            exp: claims.iat - 60,
            ..claims.clone()
        };
        let expired = sessions.sign(&expired).expect("signs");
        assert_eq!(sessions.verify(&expired), None);

        let other = sessions_with_key("another-key-that-is-also-long-enough!!");
        let foreign = other.sign(&claims).expect("signs");
        assert_eq!(sessions.verify(&foreign), None);
    }

    fn sessions_with_key(key: &str) -> Sessions {
        Sessions::new(&SessionConfig {
            jwt_key: JwtKey::parse(key.into()).expect("long enough"),
            ttl: Duration::from_secs(60),
            secure_cookies: false,
        })
    }

    #[test]
    fn half_life_is_measured_from_issue_time() {
        let claims = Claims {
            id: user(),
            email: "a@b.co".into(),
            iat: 1_000,
            exp: 1_900,
            jti: String::new(),
        };
        assert!(!claims.past_half_life(1_449));
        assert!(claims.past_half_life(1_450));
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_rooted() {
        let cookie = sessions(60).cookie("t".into());
        assert_eq!(cookie.name(), COOKIE_NAME);
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert_eq!(cookie.path(), Some("/"));
        assert_eq!(cookie.secure(), Some(true));
    }
}
