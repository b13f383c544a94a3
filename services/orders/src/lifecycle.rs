//! An order's life across the stores: placing it (reserve, then store) and ending it (move to a
//! final status, then let the ticket go). Used by the HTTP routes and the event listeners alike.

use chrono::Utc;
use ticketing_common::domain::{OrderId, OrderStatus, TicketId, UserId};

use crate::{
    domain::{Order, OrderTicket},
    state::AppState,
    store::{StoredOrder, TransitionError},
};

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("no such ticket")]
    UnknownTicket,
    #[error("Ticket is already reserved")]
    AlreadyReserved,
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

/// Reserves the ticket for a new order and stores the order with its `order.created` event.
pub async fn place_order(
    state: &AppState,
    buyer: UserId,
    ticket_id: TicketId,
) -> Result<Order, PlaceError> {
    let ticket = state
        .tickets
        .find(ticket_id)
        .await?
        .ok_or(PlaceError::UnknownTicket)?;
    let expires_at = Utc::now() + state.order_expiration;
    let order = Order::new(
        buyer,
        OrderTicket {
            id: ticket.id,
            title: ticket.title,
            price: ticket.price,
            version: ticket.version,
        },
        expires_at,
    );
    if !state.reservations.hold(ticket.id, order.id).await? {
        return Err(PlaceError::AlreadyReserved);
    }
    if let Err(err) = state.orders.create(&order).await {
        // Give the ticket back; if even that fails, the orphan sweep will.
        if let Err(release) = state.reservations.release(ticket.id, order.id).await {
            tracing::warn!(error = %format!("{release:#}"), "could not release after a failed order write");
        }
        return Err(err.into());
    }
    tracing::info!(order_id = %order.id, ticket_id = %ticket.id, %expires_at, "order placed");
    Ok(order)
}

/// Cancels the order (unless it is already final) and releases its ticket. Returns the order
/// as it now is and whether this call cancelled it.
pub async fn cancel_order(state: &AppState, id: OrderId) -> Result<(Order, bool), TransitionError> {
    let stored = state
        .orders
        .load(id)
        .await?
        .ok_or(TransitionError::NotFound)?;
    cancel_stored(state, stored).await
}

/// [`cancel_order`] for an order already read (the buyer's request checked its owner).
pub async fn cancel_stored(
    state: &AppState,
    stored: StoredOrder,
) -> Result<(Order, bool), TransitionError> {
    let id = stored.order().id;
    let (order, cancelled) = state.orders.move_on(stored, OrderStatus::Cancelled).await?;
    // Also when already cancelled: a crash may have come between the two steps before.
    state
        .reservations
        .release(order.ticket.id, order.id)
        .await?;
    if cancelled {
        tracing::info!(order_id = %id, ticket_id = %order.ticket.id, "order cancelled");
    }
    Ok((order, cancelled))
}
