//! The payments service's own types.

mod payment;
mod stripe_ids;
mod token;

pub use payment::Payment;
pub use stripe_ids::{ChargeId, RefundId, StripeIdError};
pub use token::{PaymentToken, TokenError};
