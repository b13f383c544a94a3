//! The payments service's settings, read from the environment (DESIGN.md §6).

use std::{fmt, time::Duration};

use ticketing_common::config::{
    self, ConfigError, ConfigErrors, HttpConfig, MongoConfig, NatsConfig, SessionConfig,
};

use crate::webhook::WebhookSecret;

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpConfig,
    pub session: SessionConfig,
    pub mongo: MongoConfig,
    pub nats: NatsConfig,
    pub stripe: StripeConfig,
    /// How often refunds that Stripe failed, and payments a crash left unchecked, are retried.
    pub sweep_interval: Duration,
}

impl Settings {
    pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(30);

    /// Reads every variable and reports every problem, not just the first.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        match (
            HttpConfig::from_env(),
            SessionConfig::from_env(),
            MongoConfig::from_env(),
            NatsConfig::from_env("payments"),
            StripeConfig::from_env(),
        ) {
            (Ok(http), Ok(session), Ok(mongo), Ok(nats), Ok(stripe)) => Ok(Self {
                http,
                session,
                mongo,
                nats,
                stripe,
                sweep_interval: Self::DEFAULT_SWEEP_INTERVAL,
            }),
            (http, session, mongo, nats, stripe) => Err([
                http.err(),
                session.err(),
                mongo.err(),
                nats.err(),
                stripe.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}

/// The Stripe account (`STRIPE_KEY`), where its API lives (`STRIPE_API_BASE`: stripe-mock or a
/// test double in tests, Stripe itself by default), and the signing secret of the webhook
/// endpoint registered with Stripe (`STRIPE_WEBHOOK_SECRET`, optional: without it card payments
/// are off and only the token route is served).
#[derive(Clone)]
pub struct StripeConfig {
    pub secret_key: String,
    /// Ends in `/`: the client appends `v1/charges` to it as it is.
    pub api_base: String,
    pub webhook_secret: Option<WebhookSecret>,
}

impl StripeConfig {
    pub const DEFAULT_API_BASE: &str = "https://api.stripe.com/";

    pub fn from_env() -> Result<Self, ConfigError> {
        let config = Self::new(
            config::required("STRIPE_KEY")?,
            config::optional("STRIPE_API_BASE"),
        )?;
        match config::optional("STRIPE_WEBHOOK_SECRET") {
            Some(secret) => config.with_webhook_secret(&secret),
            None => Ok(config),
        }
    }

    /// This configuration with card payments on, their webhook deliveries signed with `secret`.
    pub fn with_webhook_secret(self, secret: &str) -> Result<Self, ConfigError> {
        let secret = WebhookSecret::parse(secret).map_err(|err| ConfigError::Invalid {
            name: "STRIPE_WEBHOOK_SECRET",
            reason: err.to_string(),
        })?;
        Ok(Self {
            webhook_secret: Some(secret),
            ..self
        })
    }

    pub fn new(secret_key: String, api_base: Option<String>) -> Result<Self, ConfigError> {
        let secret_key = secret_key.trim().to_owned();
        // It travels in the Authorization header: anything else would fail on the first charge.
        if !secret_key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::Invalid {
                name: "STRIPE_KEY",
                reason: "must be printable ASCII without spaces".into(),
            });
        }
        let api_base = match api_base.map(|raw| raw.trim().to_owned()) {
            None => Self::DEFAULT_API_BASE.to_owned(),
            Some(raw) if raw.starts_with("http://") || raw.starts_with("https://") => {
                if raw.ends_with('/') {
                    raw
                } else {
                    format!("{raw}/")
                }
            }
            Some(raw) => {
                return Err(ConfigError::Invalid {
                    name: "STRIPE_API_BASE",
                    reason: format!("{raw:?} must start with http:// or https://"),
                });
            }
        };
        Ok(Self {
            secret_key,
            api_base,
            webhook_secret: None,
        })
    }
}

impl fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeConfig")
            .field("secret_key", &"<redacted>")
            .field("api_base", &self.api_base)
            .field("webhook_secret", &self.webhook_secret)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_base_defaults_to_stripe_and_always_ends_in_a_slash() {
        let default = StripeConfig::new("sk_test_1".into(), None).expect("valid");
        assert_eq!(default.api_base, "https://api.stripe.com/");
        let mock = StripeConfig::new("sk_test_1".into(), Some("http://127.0.0.1:12111".into()))
            .expect("valid");
        assert_eq!(mock.api_base, "http://127.0.0.1:12111/");
        let nested = StripeConfig::new("sk_test_1".into(), Some("http://proxy/stripe/".into()))
            .expect("valid");
        assert_eq!(nested.api_base, "http://proxy/stripe/");
    }

    #[test]
    fn bad_values_are_named() {
        let err = StripeConfig::new("sk_test_1".into(), Some("127.0.0.1:12111".into()))
            .expect_err("no scheme");
        assert!(err.to_string().contains("STRIPE_API_BASE"));
        let err = StripeConfig::new("sk test".into(), None).expect_err("a space");
        assert!(err.to_string().contains("STRIPE_KEY"));
    }

    #[test]
    fn the_secret_key_is_not_printed() {
        let config = StripeConfig::new("sk_live_secret".into(), None)
            .and_then(|config| config.with_webhook_secret("whsec_hidden"))
            .expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains("sk_live_secret"));
        assert!(!printed.contains("whsec_hidden"));
    }

    #[test]
    fn card_payments_are_off_without_a_webhook_secret_and_a_bad_one_is_named() {
        let config = StripeConfig::new("sk_test_1".into(), None).expect("valid");
        assert!(config.webhook_secret.is_none());
        let err = config
            .with_webhook_secret("whsec with space")
            .expect_err("a space");
        assert!(err.to_string().contains("STRIPE_WEBHOOK_SECRET"));
    }
}
