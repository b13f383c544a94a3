//! Sign-in throttling, held in auth's own database so every replica counts the same attempts.
//!
//! Each sign-in takes a **strike** for the account (the normalized email, known or not: an
//! unknown address is throttled exactly like a known one, so neither timing nor answers tell
//! them apart) and one for the client address, before the password is checked. A strike is a
//! document under a unique key, `<subject>|<window>|<slot>`, slot 1 to the limit: taking one is an
//! insert, which is atomic on MongoDB and FerretDB alike (DESIGN.md §4: `$inc` loses updates on
//! FerretDB), so racing attempts never share a slot and at most `limit` get through per window.
//! A failed sign-in keeps its strikes; a successful one clears the account's and gives back the
//! address' strike of that attempt. When all slots of either subject are taken, the attempt is
//! refused with 429 until the window ends: windows are fixed (every `window` seconds since the
//! epoch), so a throttle never lasts longer than one window — no one can lock an account for
//! good, only for as long as they keep failing. Strikes of past windows are swept by a worker.
//!
//! Cost: one read (the subjects' strikes of this window) and one write (both strikes) per
//! attempt, plus one delete after a success; the collection holds one window's strikes.

use std::{collections::BTreeSet, net::IpAddr, time::Duration};

use anyhow::Context;
use chrono::Utc;
use futures::TryStreamExt;
use mongodb::{
    Collection, Database,
    bson::{self, doc},
    error::ErrorKind,
    options::InsertManyOptions,
};
use serde::{Deserialize, Serialize};
use ticketing_common::{
    config::{self, ConfigError},
    mongo::{ensure_index, is_duplicate_key},
};

use crate::domain::Email;

/// How many failed sign-ins are allowed, and over what time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failed sign-ins per account per window (`SIGNIN_MAX_FAILURES_PER_ACCOUNT`).
    pub per_account: u32,
    /// Failed sign-ins per client address per window, whatever the accounts
    /// (`SIGNIN_MAX_FAILURES_PER_ADDRESS`): against trying one password on many accounts.
    pub per_address: u32,
    /// The window (`SIGNIN_THROTTLE_WINDOW_SECONDS`).
    pub window: Duration,
}

impl ThrottleConfig {
    pub const DEFAULT: Self = Self {
        // Ten guesses per account stop a brute force; the address limit is higher because an
        // office or a carrier NAT puts many honest users behind one address.
        per_account: 10,
        per_address: 200,
        window: Duration::from_secs(15 * 60),
    };
    /// A limit is a number of documents per subject; more than this is not throttling.
    const MAX_LIMIT: u32 = 1_000;

    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            per_account: limit("SIGNIN_MAX_FAILURES_PER_ACCOUNT", Self::DEFAULT.per_account)?,
            per_address: limit("SIGNIN_MAX_FAILURES_PER_ADDRESS", Self::DEFAULT.per_address)?,
            window: config::seconds_or(
                "SIGNIN_THROTTLE_WINDOW_SECONDS",
                Self::DEFAULT.window.as_secs(),
            )?,
        })
    }
}

fn limit(name: &'static str, default: u32) -> Result<u32, ConfigError> {
    let value = config::parse_or(name, default)?;
    if (1..=ThrottleConfig::MAX_LIMIT).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name,
            reason: format!("{value} is not between 1 and {}", ThrottleConfig::MAX_LIMIT),
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct StrikeDocument {
    /// `<subject>|<window>|<slot>`: the unique key that makes taking a slot atomic.
    #[serde(rename = "_id")]
    id: String,
    subject: String,
    window: i64,
    /// The end of the window: the sweeper deletes strikes past it.
    expires_at: bson::DateTime,
}

/// Who is counted: an account (by normalized email) or a client address.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Subject {
    key: String,
    limit: u32,
}

/// A sign-in attempt that got its strikes; hand it back with [`SignInThrottle::succeeded`].
#[derive(Debug)]
pub struct Attempt {
    account: String,
    address_strike: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    #[error("too many failed sign-ins; retry after {retry_after:?}")]
    TooMany { retry_after: Duration },
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

#[derive(Clone)]
pub struct SignInThrottle {
    strikes: Collection<StrikeDocument>,
    config: ThrottleConfig,
}

impl SignInThrottle {
    /// Opens the collection, with an index for the per-attempt read (MongoDB uses it; FerretDB
    /// scans a collection this small anyway).
    pub async fn init(db: &Database, config: ThrottleConfig) -> anyhow::Result<Self> {
        let strikes = db.collection("signin_strikes");
        ensure_index(
            &strikes,
            doc! { "subject": 1, "window": 1 },
            "signin_strikes_subject_window",
            false,
        )
        .await?;
        Ok(Self { strikes, config })
    }

    /// Takes this attempt's strikes, or refuses it while the account or the address has none left.
    pub async fn begin(
        &self,
        email: &Email,
        address: Option<IpAddr>,
    ) -> Result<Attempt, ThrottleError> {
        let window = Window::now(self.config.window);
        let account = Subject {
            key: format!("account:{}", email.as_str()),
            limit: self.config.per_account,
        };
        let address = address.map(|ip| Subject {
            key: format!("address:{ip}"),
            limit: self.config.per_address,
        });
        let subjects: Vec<&Subject> = std::iter::once(&account).chain(&address).collect();

        let taken = self.taken(&subjects, window).await?;
        let mut wanted = Vec::with_capacity(subjects.len());
        for subject in &subjects {
            let free =
                (1..=subject.limit).find(|slot| !taken.contains(&window.strike(subject, *slot)));
            match free {
                Some(slot) => wanted.push((*subject, slot)),
                None => return Err(window.refusal()),
            }
        }
        let strikes = self.take(wanted, window).await?;
        Ok(Attempt {
            account: account.key,
            address_strike: address.and_then(|address| {
                strikes
                    .into_iter()
                    .find(|id| id.starts_with(&format!("{}|", address.key)))
            }),
        })
    }

    /// A successful sign-in: the account starts afresh, and the address gets this attempt's
    /// strike back (only failures count against an address).
    pub async fn succeeded(&self, attempt: Attempt) -> anyhow::Result<()> {
        let mut filter = vec![doc! { "subject": &attempt.account }];
        if let Some(id) = &attempt.address_strike {
            filter.push(doc! { "_id": id });
        }
        self.strikes
            .delete_many(doc! { "$or": filter })
            .await
            .context("clearing the strikes of a successful sign-in")?;
        Ok(())
    }

    /// Deletes the strikes of windows that have ended (run by a worker, on every replica: the
    /// deletes are idempotent).
    pub async fn sweep(&self) -> anyhow::Result<u64> {
        let swept = self
            .strikes
            .delete_many(doc! { "expires_at": { "$lte": bson::DateTime::now() } })
            .await
            .context("sweeping sign-in strikes of past windows")?;
        Ok(swept.deleted_count)
    }

    /// The ids of the strikes `subjects` hold in `window`: one read.
    async fn taken(
        &self,
        subjects: &[&Subject],
        window: Window,
    ) -> anyhow::Result<BTreeSet<String>> {
        let keys: Vec<&str> = subjects
            .iter()
            .map(|subject| subject.key.as_str())
            .collect();
        let found: Vec<StrikeDocument> = self
            .strikes
            .find(doc! { "subject": { "$in": keys }, "window": window.index })
            .await
            .context("reading sign-in strikes")?
            .try_collect()
            .await
            .context("reading sign-in strikes")?;
        Ok(found.into_iter().map(|strike| strike.id).collect())
    }

    /// Inserts the `wanted` strikes in one write; a slot another replica took meanwhile is
    /// retried at the next free one. Returns the ids taken. When a subject runs out of slots, the
    /// strikes this attempt took are given back and it is refused.
    async fn take(
        &self,
        wanted: Vec<(&Subject, u32)>,
        window: Window,
    ) -> Result<Vec<String>, ThrottleError> {
        let documents: Vec<StrikeDocument> = wanted
            .iter()
            .map(|(subject, slot)| window.document(subject, *slot))
            .collect();
        let options = InsertManyOptions::builder().ordered(false).build();
        let lost: BTreeSet<usize> = match self
            .strikes
            .insert_many(&documents)
            .with_options(options)
            .await
        {
            Ok(_) => BTreeSet::new(),
            Err(err) => lost_races(&err)
                .ok_or_else(|| anyhow::Error::new(err).context("taking sign-in strikes"))?,
        };
        let mut taken: Vec<String> = documents
            .iter()
            .enumerate()
            .filter(|(index, _)| !lost.contains(index))
            .map(|(_, document)| document.id.clone())
            .collect();
        for index in lost {
            let (subject, slot) = wanted[index];
            match self.take_after(subject, slot, window).await {
                Ok(Some(id)) => taken.push(id),
                Ok(None) => {
                    self.give_back(&taken).await?;
                    return Err(window.refusal());
                }
                Err(err) => {
                    self.give_back(&taken).await?;
                    return Err(err.into());
                }
            }
        }
        Ok(taken)
    }

    /// The first slot after `slot` that is still free, taken; `None` when none is.
    async fn take_after(
        &self,
        subject: &Subject,
        slot: u32,
        window: Window,
    ) -> anyhow::Result<Option<String>> {
        for next in slot + 1..=subject.limit {
            let document = window.document(subject, next);
            match self.strikes.insert_one(&document).await {
                Ok(_) => return Ok(Some(document.id)),
                Err(err) if is_duplicate_key(&err) => continue,
                Err(err) => return Err(anyhow::Error::new(err).context("taking a sign-in strike")),
            }
        }
        Ok(None)
    }

    async fn give_back(&self, ids: &[String]) -> anyhow::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.strikes
            .delete_many(doc! { "_id": { "$in": ids } })
            .await
            .context("giving back the strikes of a refused sign-in")?;
        Ok(())
    }
}

/// The positions of the documents of an unordered insert that lost their slot to another
/// replica; `None` if anything else went wrong.
fn lost_races(err: &mongodb::error::Error) -> Option<BTreeSet<usize>> {
    let ErrorKind::InsertMany(failure) = err.kind.as_ref() else {
        return None;
    };
    if failure.write_concern_error.is_some() {
        return None;
    }
    let errors = failure.write_errors.as_ref()?;
    errors
        .iter()
        .map(|error| (error.code == DUPLICATE_KEY).then_some(error.index))
        .collect()
}

const DUPLICATE_KEY: i32 = 11000;

/// One fixed throttling window: its number since the epoch and when it ends.
#[derive(Debug, Clone, Copy)]
struct Window {
    index: i64,
    ends_at_millis: i64,
    now_millis: i64,
}

impl Window {
    fn now(length: Duration) -> Self {
        let length_millis = i64::try_from(length.as_millis()).unwrap_or(i64::MAX).max(1);
        let now_millis = Utc::now().timestamp_millis();
        let index = now_millis.div_euclid(length_millis);
        Self {
            index,
            ends_at_millis: (index + 1).saturating_mul(length_millis),
            now_millis,
        }
    }

    fn strike(&self, subject: &Subject, slot: u32) -> String {
        format!("{}|{}|{slot}", subject.key, self.index)
    }

    fn document(&self, subject: &Subject, slot: u32) -> StrikeDocument {
        StrikeDocument {
            id: self.strike(subject, slot),
            subject: subject.key.clone(),
            window: self.index,
            expires_at: bson::DateTime::from_millis(self.ends_at_millis),
        }
    }

    /// The refusal of an attempt in this window: retry once it has ended.
    fn refusal(&self) -> ThrottleError {
        let wait = u64::try_from(self.ends_at_millis - self.now_millis).unwrap_or(0);
        ThrottleError::TooMany {
            retry_after: Duration::from_millis(wait),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_fixed_and_say_how_long_is_left() {
        let window = Window {
            index: 10,
            ends_at_millis: 11_000,
            now_millis: 10_250,
        };
        let ThrottleError::TooMany { retry_after } = window.refusal() else {
            panic!("a refusal");
        };
        assert_eq!(retry_after, Duration::from_millis(750));
        let subject = Subject {
            key: "account:ada@example.com".into(),
            limit: 5,
        };
        assert_eq!(window.strike(&subject, 3), "account:ada@example.com|10|3");
    }
}
