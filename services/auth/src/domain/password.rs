//! Passwords: parsed from the request, hashed with scrypt into a PHC string (per-user salt,
//! parameters inside the string) on the blocking pool, never on the async runtime.

use std::{fmt, sync::Arc};

use anyhow::Context;
use scrypt::{
    Params, Scrypt,
    password_hash::{
        PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString, rand_core::OsRng,
    },
};
use tokio::sync::{OnceCell, Semaphore};

/// A plaintext password that meets the rules: 8–64 characters once trimmed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MESSAGE: &str = "Password must be between 8 and 64 characters";

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        match trimmed.chars().count() {
            8..=64 => Ok(Self(trimmed.to_owned())),
            _ => Err(Self::MESSAGE),
        }
    }

    /// A password offered at sign-in: only trimmed, never judged, so old rules can't lock anyone out.
    pub fn offered(raw: &str) -> Self {
        Self(raw.trim().to_owned())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// scrypt's cost: 2^log_n iterations with r = 8, p = 1 (OWASP: log_n = 17, 128 MiB per hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost(u8);

impl HashCost {
    pub const OWASP: Self = Self(17);

    pub fn new(log_n: u8) -> Result<Self, String> {
        if (10..=20).contains(&log_n) {
            Ok(Self(log_n))
        } else {
            Err(format!("{log_n} is outside 10..=20"))
        }
    }

    pub fn log_n(self) -> u8 {
        self.0
    }

    fn params(self) -> anyhow::Result<Params> {
        Params::new(self.0, 8, 1, Params::RECOMMENDED_LEN).context("scrypt parameters")
    }
}

/// Hashes and verifies passwords off the async runtime, a few at a time: each scrypt hash holds
/// 128 MiB, so a burst of sign-ups must queue rather than exhaust memory.
#[derive(Clone)]
pub struct PasswordHasher {
    cost: HashCost,
    permits: Arc<Semaphore>,
    /// Verified against when the email is unknown, so both failures take the same time.
    decoy: Arc<OnceCell<String>>,
}

impl PasswordHasher {
    pub fn new(cost: HashCost) -> Self {
        let parallelism = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            cost,
            permits: Arc::new(Semaphore::new(parallelism * 2)),
            decoy: Arc::new(OnceCell::new()),
        }
    }

    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let params = self.cost.params()?;
        let plaintext = password.0.clone();
        self.blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Scrypt
                .hash_password_customized(plaintext.as_bytes(), None, None, params, &salt)
                .map(|hash| hash.to_string())
                .map_err(|err| anyhow::anyhow!("hashing the password: {err}"))
        })
        .await
    }

    /// True when `password` matches `stored`; with no stored hash, burns the same time and says no.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<String>,
    ) -> anyhow::Result<bool> {
        let known = stored.is_some();
        let stored = match stored {
            Some(hash) => hash,
            None => self.decoy_hash().await?,
        };
        let plaintext = password.0.clone();
        let matches = self
            .blocking(move || {
                let parsed = PasswordHash::new(&stored).map_err(|err| {
                    anyhow::anyhow!("stored password hash is not a PHC string: {err}")
                })?;
                Ok(Scrypt
                    .verify_password(plaintext.as_bytes(), &parsed)
                    .is_ok())
            })
            .await?;
        Ok(known && matches)
    }

    async fn decoy_hash(&self) -> anyhow::Result<String> {
        self.decoy
            .get_or_try_init(|| async {
                self.hash(&Password("decoy password never matches".into()))
                    .await
            })
            .await
            .cloned()
    }

    async fn blocking<T, F>(&self, work: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> anyhow::Result<T> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("password hasher closed")?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(work))
            .await
            .context("password hashing task failed")?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_trimmed_and_length_checked() {
        assert_eq!(
            Password::parse("  12345678  ").map(|p| p.0),
            Ok("12345678".into())
        );
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("         1234567       ").is_err());
        assert!(Password::parse(&"x".repeat(64)).is_ok());
        assert!(Password::parse(&"x".repeat(65)).is_err());
        assert!(
            Password::parse(&"é".repeat(64)).is_ok(),
            "characters, not bytes, are counted"
        );
    }

    #[tokio::test]
    async fn default_cost_is_owasp_and_lands_in_the_phc_string() {
        let hasher = PasswordHasher::new(HashCost::OWASP);
        let password = Password::parse("correct horse").expect("valid");
        let hash = hasher.hash(&password).await.expect("hashes");
        assert!(hash.starts_with("$scrypt$ln=17,r=8,p=1$"), "{hash}");
        assert!(
            hasher
                .verify(&password, Some(hash.clone()))
                .await
                .expect("verifies")
        );
        let wrong = Password::offered("wrong horse");
        assert!(!hasher.verify(&wrong, Some(hash)).await.expect("verifies"));
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hasher = PasswordHasher::new(HashCost::new(10).expect("valid cost"));
        let password = Password::parse("decoy password never matches").expect("valid");
        assert!(!hasher.verify(&password, None).await.expect("verifies"));
    }

    #[tokio::test]
    async fn each_hash_has_its_own_salt() {
        let hasher = PasswordHasher::new(HashCost::new(10).expect("valid cost"));
        let password = Password::parse("same password").expect("valid");
        let (a, b) = (
            hasher.hash(&password).await.expect("hashes"),
            hasher.hash(&password).await.expect("hashes"),
        );
        assert_ne!(a, b);
    }
}
