use serde::Serialize;
use ticketing_common::{
    domain::{Money, OrderId, TicketId, UserId, Version},
    events::{TicketCreated, TicketUpdated},
};
use utoipa::ToSchema;

use super::Title;

/// A ticket for sale, as the API shows it: `{id,title,price,userId,version,orderId?}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: TicketId,
    pub title: Title,
    pub price: Money,
    /// The seller.
    pub user_id: UserId,
    pub version: Version,
    /// The order holding the ticket while it is reserved; absent while it is for sale.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = OrderId, required = false)]
    pub order_id: Option<OrderId>,
}

impl Ticket {
    pub fn is_reserved(&self) -> bool {
        self.order_id.is_some()
    }

    pub fn created_event(&self) -> TicketCreated {
        TicketCreated {
            id: self.id,
            version: self.version,
            title: self.title.to_string(),
            price: self.price,
            user_id: self.user_id,
        }
    }

    pub fn updated_event(&self) -> TicketUpdated {
        TicketUpdated {
            id: self.id,
            version: self.version,
            title: self.title.to_string(),
            price: self.price,
            user_id: self.user_id,
            order_id: self.order_id,
        }
    }
}
