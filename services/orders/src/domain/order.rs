use chrono::{DateTime, Utc};
use serde::Serialize;
use ticketing_common::{
    domain::{Money, OrderId, OrderStatus, TicketId, UserId, Version},
    events::{CancelledTicket, OrderCancelled, OrderCreated, OrderedTicket},
};
use utoipa::ToSchema;

/// An order as the API shows it:
/// `{id,userId,status,expiresAt,version,ticket:{id,title,price,version}}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: OrderId,
    /// The buyer.
    pub user_id: UserId,
    pub status: OrderStatus,
    /// When the reservation ends: an order not paid by then is cancelled.
    pub expires_at: DateTime<Utc>,
    pub version: Version,
    pub ticket: OrderTicket,
}

/// The ticket as it was when ordered.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderTicket {
    pub id: TicketId,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub price: Money,
    pub version: Version,
}

impl Order {
    pub fn new(user_id: UserId, ticket: OrderTicket, expires_at: DateTime<Utc>) -> Self {
        Self {
            id: OrderId::new(),
            user_id,
            status: OrderStatus::Created,
            expires_at,
            version: Version::INITIAL,
            ticket,
        }
    }

    /// The next version with `status`, if the order may still move there (both ends are final).
    pub fn moved_to(&self, status: OrderStatus) -> Option<Self> {
        (self.status == OrderStatus::Created && status != OrderStatus::Created).then(|| Self {
            status,
            version: self.version.next(),
            ..self.clone()
        })
    }

    pub fn created_event(&self) -> OrderCreated {
        OrderCreated {
            id: self.id,
            version: self.version,
            status: self.status,
            user_id: self.user_id,
            expires_at: self.expires_at,
            ticket: OrderedTicket {
                id: self.ticket.id,
                price: self.ticket.price,
            },
        }
    }

    pub fn cancelled_event(&self) -> OrderCancelled {
        OrderCancelled {
            id: self.id,
            version: self.version,
            ticket: CancelledTicket { id: self.ticket.id },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Order {
        Order::new(
            UserId::new(),
            OrderTicket {
                id: TicketId::new(),
                title: "Show".into(),
                price: Money::from_cents(500).expect("money"),
                version: Version::INITIAL,
            },
            Utc::now(),
        )
    }

    #[test]
    fn a_created_order_moves_once_to_a_final_status() {
        let order = order();
        let cancelled = order.moved_to(OrderStatus::Cancelled).expect("cancellable");
        assert_eq!(
            (cancelled.status, cancelled.version.get()),
            (OrderStatus::Cancelled, 1)
        );
        assert!(cancelled.moved_to(OrderStatus::Complete).is_none());
        assert!(cancelled.moved_to(OrderStatus::Cancelled).is_none());
        let complete = order.moved_to(OrderStatus::Complete).expect("payable");
        assert!(complete.moved_to(OrderStatus::Cancelled).is_none());
        assert!(order.moved_to(OrderStatus::Created).is_none());
    }
}
