//! The `users` collection: one document per user, email unique (enforced by the index, so two
//! racing sign-ups cannot both win).

use anyhow::Context;
use mongodb::{
    Collection, Database,
    bson::{self, doc},
};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    domain::UserId,
    mongo::{ensure_index, is_duplicate_key},
};

use crate::domain::Email;

#[derive(Debug, Serialize, Deserialize)]
struct UserDocument {
    #[serde(rename = "_id")]
    id: UserId,
    email: String,
    password_hash: String,
    created_at: bson::DateTime,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub password_hash: String,
}

impl From<UserDocument> for User {
    fn from(doc: UserDocument) -> Self {
        Self {
            id: doc.id,
            email: doc.email,
            password_hash: doc.password_hash,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InsertUserError {
    #[error("email already registered")]
    EmailInUse,
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

#[derive(Clone)]
pub struct Users {
    collection: Collection<UserDocument>,
}

impl Users {
    /// Opens the collection and makes sure the unique email index exists.
    pub async fn init(db: &Database) -> anyhow::Result<Self> {
        let collection = db.collection::<UserDocument>("users");
        ensure_index(&collection, doc! { "email": 1 }, "users_email_unique", true).await?;
        Ok(Self { collection })
    }

    pub async fn insert(
        &self,
        email: &Email,
        password_hash: String,
    ) -> Result<User, InsertUserError> {
        let doc = UserDocument {
            id: UserId::new(),
            email: email.as_str().to_owned(),
            password_hash,
            created_at: bson::DateTime::now(),
        };
        match self.collection.insert_one(&doc).await {
            Ok(_) => Ok(doc.into()),
            Err(err) if is_duplicate_key(&err) => Err(InsertUserError::EmailInUse),
            Err(err) => Err(anyhow::Error::new(err).context("inserting a user").into()),
        }
    }

    pub async fn find_by_email(&self, email: &Email) -> anyhow::Result<Option<User>> {
        let found = self
            .collection
            .find_one(doc! { "email": email.as_str() })
            .await
            .context("looking up a user by email")?;
        Ok(found.map(User::from))
    }
}
