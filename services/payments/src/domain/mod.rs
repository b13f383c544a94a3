//! The payments service's own types.

mod intent;
mod payment;
mod stripe_ids;
mod token;

pub use intent::{CardIntent, ClientSecret};
pub use payment::Payment;
pub use stripe_ids::{ChargeId, PaymentIntentId, RefundId, StripeIdError};
pub use token::{PaymentToken, TokenError};
