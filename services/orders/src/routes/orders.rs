//! `/api/orders`: a user's orders, placing and cancelling one (DESIGN.md §2).

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use serde::Deserialize;
use ticketing_common::{
    ApiError, FieldError,
    domain::{OrderId, TicketId},
    error::OrUnexpected,
    extract::{Json, RequireUser, TextField, ValidatedJson},
    pagination::{Page, PageRequest},
    protect::BodyLimit,
    session::Claims,
};
use validator::{Validate, ValidationError};

use crate::{
    domain::Order,
    lifecycle::{self, PlaceError},
    state::AppState,
    store::{StoredOrder, TransitionError},
};

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

#[derive(Debug, Default, Deserialize, Validate)]
#[serde(default, rename_all = "camelCase")]
pub struct NewOrderBody {
    #[validate(custom(function = "valid_ticket_id", message = "TicketId must be provided"))]
    ticket_id: TextField,
}

fn valid_ticket_id(raw: &TextField) -> Result<(), ValidationError> {
    TicketId::parse(raw.as_str().trim())
        .map(drop)
        .map_err(|_| ValidationError::new("ticketId"))
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
    ValidatedJson(body): ValidatedJson<NewOrderBody>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    let ticket_id = TicketId::parse(body.ticket_id.as_str().trim())
        .map_err(|_| ApiError::Validation(vec![FieldError::on("ticketId", TICKET_ID_REQUIRED)]))?;
    match lifecycle::place_order(&state, user.id, ticket_id).await {
        Ok(order) => Ok((StatusCode::CREATED, Json(order))),
        Err(PlaceError::UnknownTicket) => Err(ApiError::NotFound),
        Err(PlaceError::AlreadyReserved) => {
            Err(ApiError::bad_request("Ticket is already reserved"))
        }
        Err(PlaceError::Database(err)) => {
            Err(ApiError::Unexpected(err.context("placing an order")))
        }
    }
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
    match lifecycle::cancel_stored(&state, order).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(TransitionError::Final(_)) => Err(ApiError::bad_request("Order cannot be cancelled")),
        Err(TransitionError::NotFound) => Err(ApiError::NotFound),
        Err(TransitionError::Database(err)) => {
            Err(ApiError::Unexpected(err.context("cancelling an order")))
        }
    }
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
