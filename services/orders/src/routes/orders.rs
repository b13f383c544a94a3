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
    error::{ErrorBody, OrUnexpected},
    extract::{FromBody, InvalidBody, Json, OnField, Parsed, RequireUser, TextField},
    openapi::{
        PageParams,
        responses::{JsonBody, NotAuthorized, NotFound},
    },
    pagination::{Page, PageRequest},
    protect::BodyLimit,
    session::Claims,
};
use utoipa::ToSchema;

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

/// The ticket to reserve.
// The field is `serde(default)`, not the whole body, so the document shows no default for it: it
// is required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewOrderBody {
    /// The ticket to reserve: `TicketId must be provided` when absent or not an id.
    #[serde(default)]
    #[schema(value_type = TicketId, required = true)]
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

/// The signed-in user's orders, a page at a time.
///
/// Oldest first (`?limit=&cursor=`; the next page in `Link`). The session is checked before the
/// query (401 before 400).
#[utoipa::path(
    get,
    path = "/api/orders",
    operation_id = "listOrders",
    tag = "orders",
    security(("session" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "One page of the signed-in user's orders, oldest first, the \
            ticket embedded: at most `limit` of them. The next page is named by `Link` and \
            `X-Next-Cursor`, both absent on the last page.", body = [Order],
            headers(
                ("Link" = String, description = "`</api/orders?cursor=…&limit=…>; rel=\"next\"` (RFC 8288)"),
                ("X-Next-Cursor" = String, description = "The next page's cursor alone"),
            )),
        (status = 400, description = "`Limit must be between 1 and 100` (field `limit`), \
            `Cursor is invalid` (field `cursor`), or a parameter given twice.", body = ErrorBody),
        (status = 401, response = NotAuthorized),
    )
)]
pub(super) async fn list(
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

/// Reserves a ticket for the signed-in user.
///
/// For `ORDER_EXPIRATION_SECONDS` (15 minutes): one order wins a ticket, however many race for
/// it.
#[utoipa::path(
    post,
    path = "/api/orders",
    operation_id = "placeOrder",
    tag = "orders",
    security(("session" = [])),
    request_body = NewOrderBody,
    responses(
        (status = 201, description = "The order, `created`, with its `expiresAt`.", body = Order),
        (status = 400, description = "`TicketId must be provided` (field `ticketId`), a body \
            that is not a JSON object, or `Ticket is already reserved`.", body = ErrorBody),
        (status = 401, response = NotAuthorized),
        (status = 404, description = "No ticket has that id: `Not Found`.", body = ErrorBody),
        JsonBody,
    )
)]
#[tracing::instrument(name = "place_order", skip_all, fields(user_id = %user.id))]
pub(super) async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Parsed(NewOrder { ticket_id }): Parsed<NewOrder>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    let order = lifecycle::place_order(&state, user.id, ticket_id).await?;
    Ok((StatusCode::CREATED, Json(order)))
}

/// One of the signed-in user's orders.
#[utoipa::path(
    get,
    path = "/api/orders/{id}",
    operation_id = "showOrder",
    tag = "orders",
    security(("session" = [])),
    params(("id" = OrderId, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order.", body = Order),
        (status = 401, description = "No valid session, or someone else's order: \
            `Not authorized`.", body = ErrorBody),
        (status = 404, response = NotFound),
    )
)]
pub(super) async fn show(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<String>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(owned_order(&state, &user, &id).await?.order()))
}

/// Cancels one of the signed-in user's orders, releasing its ticket.
#[utoipa::path(
    delete,
    path = "/api/orders/{id}",
    operation_id = "cancelOrder",
    tag = "orders",
    security(("session" = [])),
    params(("id" = OrderId, Path, description = "The order's id")),
    responses(
        (status = 204, description = "The order is `cancelled`."),
        (status = 400, description = "`Order cannot be cancelled`: it is already `cancelled` \
            or `complete`.", body = ErrorBody),
        (status = 401, description = "No valid session, or someone else's order: \
            `Not authorized`.", body = ErrorBody),
        (status = 404, response = NotFound),
    )
)]
#[tracing::instrument(name = "cancel_order", skip_all, fields(user_id = %user.id))]
pub(super) async fn cancel(
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
