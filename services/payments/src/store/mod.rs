//! What the payments service stores: the replica of orders, each order's one payment (with its
//! `payment.created` waiting in the outbox), and the refunds owed or made.

mod order_replicas;
mod payments;
mod refunds;

pub use order_replicas::{OrderReplica, OrderReplicas};
pub use payments::{Payments, Recorded};
pub use refunds::{RefundReason, RefundRecord, RefundStatus, Refunds};
