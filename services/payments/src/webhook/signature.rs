//! Stripe's webhook signatures (docs.stripe.com/webhooks, "Verify signatures manually").
//!
//! Stripe signs each delivery with the endpoint's secret: `Stripe-Signature: t=<unix time>,
//! v1=<hex HMAC-SHA256 of "<t>.<body>">` (more than one `v1` while a rolled secret is still
//! valid; `v0` and unknown schemes are ignored). A delivery is accepted when one `v1` matches,
//! compared in constant time (ring's `hmac::verify`), and its timestamp is within
//! [`SignatureVerifier::TOLERANCE`] of now, so a captured delivery cannot be replayed later.
//! The body is checked as the bytes that arrived: re-serialized JSON would not match.

use std::{fmt, time::Duration};

use ring::hmac;

/// The endpoint's signing secret (`whsec_…`, from Stripe's dashboard or `stripe listen`).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be printable ASCII without spaces (Stripe's whsec_… signing secret)")]
pub struct WebhookSecretError;

impl WebhookSecret {
    pub fn parse(raw: &str) -> Result<Self, WebhookSecretError> {
        let secret = raw.trim();
        if secret.is_empty() || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(WebhookSecretError);
        }
        Ok(Self(secret.to_owned()))
    }

    fn key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, self.0.as_bytes())
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Why a delivery is refused. Each is a 400: only Stripe, holding the secret, can send a
/// delivery that passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp or an unreadable one")]
    Malformed,
    #[error("no v1 signature of the Stripe-Signature header matches the body")]
    Mismatch,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
}

/// Checks deliveries against one endpoint secret. Cheap to clone.
#[derive(Clone)]
pub struct SignatureVerifier {
    key: hmac::Key,
    tolerance: Duration,
}

impl fmt::Debug for SignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureVerifier")
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

impl SignatureVerifier {
    /// Stripe's own libraries' default: five minutes either way.
    pub const TOLERANCE: Duration = Duration::from_secs(300);

    pub fn new(secret: &WebhookSecret) -> Self {
        Self {
            key: secret.key(),
            tolerance: Self::TOLERANCE,
        }
    }

    /// Accepts `payload` if `header` carries a `v1` signature of it made with the secret, at a
    /// time within the tolerance of `now` (seconds since the epoch). Returns the signed time.
    pub fn verify(
        &self,
        header: Option<&str>,
        payload: &[u8],
        now: i64,
    ) -> Result<i64, SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let parsed = SignatureHeader::parse(header)?;
        let signed = signed_payload(parsed.timestamp, payload);
        let matches = parsed
            .v1
            .iter()
            .filter_map(|hex_signature| hex::decode(hex_signature).ok())
            .any(|signature| hmac::verify(&self.key, &signed, &signature).is_ok());
        if !matches {
            return Err(SignatureError::Mismatch);
        }
        let age = now.abs_diff(parsed.timestamp);
        if age > self.tolerance.as_secs() {
            return Err(SignatureError::Stale);
        }
        Ok(parsed.timestamp)
    }
}

/// The `Stripe-Signature` header Stripe would send for `payload` signed at `timestamp`: what
/// the tests and `scripts/stripe-webhook-event.sh` send to try the endpoint.
pub fn signature_header(secret: &WebhookSecret, timestamp: i64, payload: &[u8]) -> String {
    let tag = hmac::sign(&secret.key(), &signed_payload(timestamp, payload));
    format!("t={timestamp},v1={}", hex::encode(tag.as_ref()))
}

fn signed_payload(timestamp: i64, payload: &[u8]) -> Vec<u8> {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(payload);
    signed
}

/// `t=…,v1=…,v1=…,v0=…` split into its timestamp and its `v1` signatures.
struct SignatureHeader<'a> {
    timestamp: i64,
    v1: Vec<&'a str>,
}

impl<'a> SignatureHeader<'a> {
    fn parse(header: &'a str) -> Result<Self, SignatureError> {
        let mut timestamp = None;
        let mut v1 = Vec::new();
        for item in header.split(',') {
            let Some((scheme, value)) = item.split_once('=') else {
                continue;
            };
            match scheme.trim() {
                "t" if timestamp.is_none() => {
                    timestamp = Some(
                        value
                            .trim()
                            .parse::<i64>()
                            .map_err(|_| SignatureError::Malformed)?,
                    );
                }
                "v1" => v1.push(value.trim()),
                _ => {}
            }
        }
        Ok(Self {
            timestamp: timestamp.ok_or(SignatureError::Malformed)?,
            v1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    fn secret(raw: &str) -> WebhookSecret {
        WebhookSecret::parse(raw).expect("a secret")
    }

    fn verifier() -> SignatureVerifier {
        SignatureVerifier::new(&secret("whsec_test"))
    }

    #[test]
    fn a_signature_made_with_the_secret_is_accepted() {
        let header = signature_header(&secret("whsec_test"), NOW, BODY);
        assert_eq!(verifier().verify(Some(&header), BODY, NOW), Ok(NOW));
        assert_eq!(verifier().verify(Some(&header), BODY, NOW + 299), Ok(NOW));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body_in_hex() {
        // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test
        let expected =
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91";
        assert_eq!(
            signature_header(&secret("whsec_test"), 1_700_000_000, b"{}"),
            expected
        );
        assert_eq!(
            verifier().verify(Some(expected), b"{}", 1_700_000_000),
            Ok(1_700_000_000)
        );
    }

    #[test]
    fn another_secret_another_body_or_no_v1_is_a_mismatch() {
        let other = signature_header(&secret("whsec_other"), NOW, BODY);
        assert_eq!(
            verifier().verify(Some(&other), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        let header = signature_header(&secret("whsec_test"), NOW, BODY);
        assert_eq!(
            verifier().verify(Some(&header), b"{\"id\":\"evt_2\"}", NOW),
            Err(SignatureError::Mismatch)
        );
        let v0_only = header.replace("v1=", "v0=");
        assert_eq!(
            verifier().verify(Some(&v0_only), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        let not_hex = format!("t={NOW},v1=zz");
        assert_eq!(
            verifier().verify(Some(&not_hex), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn one_matching_v1_among_several_is_enough() {
        let good = signature_header(&secret("whsec_test"), NOW, BODY);
        let good_v1 = good.split_once(",v1=").expect("v1").1;
        let header = format!("t={NOW}, v1=00ff, v0=abcd, v1={good_v1}, x=1");
        assert_eq!(verifier().verify(Some(&header), BODY, NOW), Ok(NOW));
    }

    #[test]
    fn a_timestamp_outside_the_tolerance_is_stale_either_way() {
        for signed_at in [NOW - 301, NOW + 301] {
            let header = signature_header(&secret("whsec_test"), signed_at, BODY);
            assert_eq!(
                verifier().verify(Some(&header), BODY, NOW),
                Err(SignatureError::Stale),
                "{signed_at}"
            );
        }
    }

    #[test]
    fn a_missing_or_unreadable_header_is_refused() {
        assert_eq!(
            verifier().verify(None, BODY, NOW),
            Err(SignatureError::Missing)
        );
        for header in ["", "v1=abcd", "t=soon,v1=abcd", "garbage"] {
            assert_eq!(
                verifier().verify(Some(header), BODY, NOW),
                Err(SignatureError::Malformed),
                "{header:?}"
            );
        }
    }

    #[test]
    fn a_changed_timestamp_breaks_the_signature() {
        let header = signature_header(&secret("whsec_test"), NOW - 1000, BODY);
        let moved = header.replace(&format!("t={}", NOW - 1000), &format!("t={NOW}"));
        assert_eq!(
            verifier().verify(Some(&moved), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn secrets_are_checked_and_never_printed() {
        assert!(WebhookSecret::parse("  ").is_err());
        assert!(WebhookSecret::parse("whsec a").is_err());
        let secret = secret(" whsec_abc ");
        assert!(!format!("{secret:?}").contains("abc"));
        assert!(!format!("{:?}", SignatureVerifier::new(&secret)).contains("abc"));
    }
}
