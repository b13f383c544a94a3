//! The idempotency keys sent with every Stripe call. Stripe replays its first answer for a key
//! (success or decline) for 24 hours, so the key decides what counts as "the same call".

use stripe::IdempotencyKey;
use ticketing_common::domain::OrderId;

use super::GatewayError;
use crate::domain::{ChargeId, PaymentToken};

/// `charge-<order>-<token>`. The same order paid with the same token (a retried request, a double
/// click, two tabs) is one charge. The token is part of it because Stripe replays a decline for
/// its key: with the order alone, a buyer whose card was declined could not pay with another card.
pub fn charge(order: OrderId, token: &PaymentToken) -> Result<IdempotencyKey, GatewayError> {
    key(format!("charge-{order}-{}", token.as_str()))
}

/// `intent-<order>`: an order has one PaymentIntent. Stripe answers a repeated create (a second
/// click, a reload, another tab) with the PaymentIntent it made first, for 24 hours, far longer
/// than an order can be paid. Unlike a charge, nothing is lost to a declined card: the buyer
/// confirms the same PaymentIntent again with another card.
pub fn intent(order: OrderId) -> Result<IdempotencyKey, GatewayError> {
    key(format!("intent-{order}"))
}

/// `refund-<order>-<charge>`: a charge is refunded once, however many times the refund is tried.
pub fn refund(order: OrderId, charge: &ChargeId) -> Result<IdempotencyKey, GatewayError> {
    key(format!("refund-{order}-{charge}"))
}

fn key(raw: String) -> Result<IdempotencyKey, GatewayError> {
    IdempotencyKey::new(&raw).map_err(|err| GatewayError::Unusable(format!("{raw:?}: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_what_they_are_about() {
        let order = OrderId::parse("64b0f7a2c1d3e4f5a6b7c8d9").expect("id");
        let token = PaymentToken::parse("tok_visa").expect("token");
        assert_eq!(
            charge(order, &token).expect("key").as_str(),
            "charge-64b0f7a2c1d3e4f5a6b7c8d9-tok_visa"
        );
        assert_eq!(
            intent(order).expect("key").as_str(),
            "intent-64b0f7a2c1d3e4f5a6b7c8d9"
        );
        let charge_id = ChargeId::new("ch_1").expect("id");
        assert_eq!(
            refund(order, &charge_id).expect("key").as_str(),
            "refund-64b0f7a2c1d3e4f5a6b7c8d9-ch_1"
        );
    }

    #[test]
    fn the_longest_token_still_makes_a_valid_key() {
        let order = OrderId::new();
        let token = PaymentToken::parse(&"t".repeat(PaymentToken::MAX_LEN)).expect("token");
        assert!(charge(order, &token).is_ok());
    }
}
