//! Sessions ended by sign-out, kept in auth's database (so every replica knows) until the token
//! would have expired anyway, then swept.
//!
//! Auth refuses a signed-out token: `GET /api/users/currentuser` answers `currentUser: null` and
//! never re-issues it, so a copied cookie cannot be kept alive past its `exp` by refreshing.
//! The other services verify the token themselves (DESIGN.md §3: no call to auth) and accept it
//! until that `exp`, at most `SESSION_TTL_SECONDS` (README.md, "Signing out", says why).

use anyhow::Context;
use mongodb::{
    Collection, Database,
    bson::{self, doc},
};
use serde::{Deserialize, Serialize};
use ticketing_common::{mongo::is_duplicate_key, session::Claims};

#[derive(Debug, Serialize, Deserialize)]
struct RevokedDocument {
    /// The token's signature: unique per token, and not the token itself (which it is not
    /// enough to rebuild without the key's owner's help — and the token is dead anyway).
    #[serde(rename = "_id")]
    id: String,
    /// The token's own `exp`: after it, the token is refused by its signature check alone.
    expires_at: bson::DateTime,
}

#[derive(Clone)]
pub struct RevokedSessions {
    collection: Collection<RevokedDocument>,
}

impl RevokedSessions {
    pub fn new(db: &Database) -> Self {
        Self {
            collection: db.collection("revoked_sessions"),
        }
    }

    /// Ends the session `token` carries (its verified `claims`): one insert; ending it twice is fine.
    pub async fn revoke(&self, token: &str, claims: &Claims) -> anyhow::Result<()> {
        let document = RevokedDocument {
            id: signature_of(token).to_owned(),
            expires_at: bson::DateTime::from_millis(claims.exp.saturating_mul(1000)),
        };
        match self.collection.insert_one(&document).await {
            Ok(_) => Ok(()),
            Err(err) if is_duplicate_key(&err) => Ok(()),
            Err(err) => Err(anyhow::Error::new(err).context("revoking a session")),
        }
    }

    /// Whether `token` was signed out: one read by key.
    pub async fn is_revoked(&self, token: &str) -> anyhow::Result<bool> {
        let found = self
            .collection
            .find_one(doc! { "_id": signature_of(token) })
            .await
            .context("looking up a revoked session")?;
        Ok(found.is_some())
    }

    /// Forgets sessions past their expiry (their tokens are refused by `exp` alone by then).
    pub async fn sweep(&self) -> anyhow::Result<u64> {
        let swept = self
            .collection
            .delete_many(doc! { "expires_at": { "$lte": bson::DateTime::now() } })
            .await
            .context("sweeping expired revoked sessions")?;
        Ok(swept.deleted_count)
    }
}

/// The third part of a JWT (`header.payload.signature`).
fn signature_of(token: &str) -> &str {
    token.rsplit('.').next().unwrap_or(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_names_the_token() {
        assert_eq!(signature_of("aaa.bbb.ccc"), "ccc");
        assert_eq!(signature_of("garbage"), "garbage");
    }
}
