//! `/api/orders`: a user's orders, placing and cancelling one (DESIGN.md §2).

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use serde::Deserialize;
use ticketing_common::{
    ApiError,
    domain::{OrderId, TicketId},
    error::OrUnexpected,
    extract::{FromBody, InvalidBody, Json, OnField, Parsed, RequireUser, TextField},
    pagination::{Page, PageRequest},
    protect::BodyLimit,
    session::Claims,
};

use crate::{domain::Order, lifecycle, state::AppState, store::StoredOrder};

/// A ticket id (24 characters) is all an order's body holds.
const ORDER_BODY: BodyLimit = BodyLimit::kib(1);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/orders",
            get(list).post(create).layer(ORDER_BODY.layer()),
        )
        .route("/api/orders/{id}", get(show).delete(cancel))
}

const TICKET_ID_REQUIRED: &str = "TicketId must be provided";

/// The order body as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NewOrderBody {
    ticket_id: TextField,
}

/// Reserve this ticket.
#[derive(Debug)]
pub struct NewOrder {
    ticket_id: TicketId,
}

impl FromBody for NewOrder {
    type Body = NewOrderBody;
}

/// One message for a missing and a malformed id alike: either way no ticket was named.
impl TryFrom<NewOrderBody> for NewOrder {
    type Error = InvalidBody;

    fn try_from(body: NewOrderBody) -> Result<Self, InvalidBody> {
        let ticket_id = TicketId::parse(body.ticket_id.as_str().trim())
            .map_err(|_| TICKET_ID_REQUIRED)
            .on_field("ticketId")?;
        Ok(Self { ticket_id })
    }
}

/// The user's orders, oldest first, a page at a time (`?limit=&cursor=`; the next page in `Link`).
/// The session is checked before the query (401 before 400).
async fn list(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    page: PageRequest<OrderId>,
) -> Result<Page<Order>, ApiError> {
    let orders = state
        .orders
        .of_user(user.id, page.after(), page.fetch_limit())
        .await
        .or_unexpected("listing orders")?;
    Ok(page.into_page(orders, |order| order.id))
}

#[tracing::instrument(name = "place_order", skip_all, fields(user_id = %user.id))]
async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Parsed(NewOrder { ticket_id }): Parsed<NewOrder>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    let order = lifecycle::place_order(&state, user.id, ticket_id).await?;
    Ok((StatusCode::CREATED, Json(order)))
}

async fn show(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<String>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(owned_order(&state, &user, &id).await?.order()))
}

#[tracing::instrument(name = "cancel_order", skip_all, fields(user_id = %user.id))]
async fn cancel(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let order = owned_order(&state, &user, &id).await?;
    lifecycle::cancel_stored(&state, order).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The order `raw_id` names, if it exists (404) and belongs to `user` (401).
async fn owned_order(
    state: &AppState,
    user: &Claims,
    raw_id: &str,
) -> Result<StoredOrder, ApiError> {
    let id = OrderId::parse(raw_id).map_err(|_| ApiError::NotFound)?;
    let order = state
        .orders
        .load(id)
        .await
        .or_unexpected("loading an order")?
        .ok_or(ApiError::NotFound)?;
    if order.order().user_id != user.id {
        return Err(ApiError::NotAuthorized);
    }
    Ok(order)
}
