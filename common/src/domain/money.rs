//! Money: integer cents inside, dollars with at most two decimals on the wire (DESIGN.md §2).
//! Parsed once, so `0.1 + 0.2`-style float error can never reach a price or a Stripe charge.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be greater than 0")]
    NotPositive,
    #[error("must have at most two decimals")]
    TooPrecise,
    #[error("must be at most {}", Money::MAX_DOLLARS)]
    TooLarge,
}

/// A positive amount of US dollars, held as whole cents.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money {
    cents: i64,
}

impl Money {
    /// Far above any ticket, far below where an f64 stops holding every cent exactly.
    pub const MAX_DOLLARS: i64 = 1_000_000_000;

    pub fn from_cents(cents: i64) -> Result<Self, MoneyError> {
        if cents <= 0 {
            Err(MoneyError::NotPositive)
        } else if cents > Self::MAX_DOLLARS * 100 {
            Err(MoneyError::TooLarge)
        } else {
            Ok(Self { cents })
        }
    }

    /// Parses a dollar amount as sent in JSON. `19.99` is 1999 cents; `19.999` is refused.
    pub fn from_dollars(dollars: f64) -> Result<Self, MoneyError> {
        if !dollars.is_finite() || dollars <= 0.0 {
            return Err(MoneyError::NotPositive);
        }
        if dollars > Self::MAX_DOLLARS as f64 {
            return Err(MoneyError::TooLarge);
        }
        let scaled = dollars * 100.0;
        let cents = scaled.round();
        // The binary nearest to a two-decimal amount lands within a hair of a whole cent.
        if (scaled - cents).abs() > 1e-6 {
            return Err(MoneyError::TooPrecise);
        }
        #[allow(clippy::cast_possible_truncation)]
        Self::from_cents(cents as i64)
    }

    pub fn cents(self) -> i64 {
        self.cents
    }

    /// The nearest f64 to the exact dollar amount; prints as the two-decimal number it is.
    pub fn dollars(self) -> f64 {
        self.cents as f64 / 100.0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}.{:02}", self.cents / 100, self.cents % 100)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.dollars())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let dollars = f64::deserialize(deserializer)?;
        Money::from_dollars(dollars).map_err(|err| serde::de::Error::custom(format!("price {err}")))
    }
}

/// `#[serde(with = "ticketing_common::domain::money::as_cents")]`: store money as integer cents.
pub mod as_cents {
    use super::Money;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(money: &Money, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(money.cents())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        Money::from_cents(i64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_decimal_amounts_become_exact_cents() {
        assert_eq!(Money::from_dollars(19.99).map(Money::cents), Ok(1999));
        assert_eq!(Money::from_dollars(0.1 + 0.2).map(Money::cents), Ok(30));
        assert_eq!(Money::from_dollars(0.01).map(Money::cents), Ok(1));
        assert_eq!(
            Money::from_dollars(1e9).map(Money::cents),
            Ok(100_000_000_000)
        );
    }

    #[test]
    fn bad_amounts_are_refused() {
        assert_eq!(Money::from_dollars(0.0), Err(MoneyError::NotPositive));
        assert_eq!(Money::from_dollars(-5.0), Err(MoneyError::NotPositive));
        assert_eq!(Money::from_dollars(f64::NAN), Err(MoneyError::NotPositive));
        assert_eq!(Money::from_dollars(19.999), Err(MoneyError::TooPrecise));
        assert_eq!(Money::from_dollars(1e10), Err(MoneyError::TooLarge));
    }

    #[test]
    fn json_round_trip_keeps_the_printed_amount() {
        for text in ["19.99", "0.01", "10.1", "123456.78"] {
            let money: Money = serde_json::from_str(text).expect("parses");
            assert_eq!(serde_json::to_string(&money).expect("serializes"), text);
        }
        assert_eq!(
            serde_json::to_string(&Money::from_cents(1000).expect("valid")).expect("ok"),
            "10.0"
        );
    }
}
