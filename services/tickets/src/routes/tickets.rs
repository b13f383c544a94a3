//! `/api/tickets`: list, show, create and edit tickets (DESIGN.md §2).

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use serde::Deserialize;
use serde_json::Value;
use ticketing_common::{
    ApiError,
    domain::{Money, MoneyError, TicketId},
    error::{ErrorBody, OrUnexpected},
    extract::{FromBody, InvalidBody, Json, OnField, Parsed, RequireUser, TextField},
    openapi::{
        PageParams,
        responses::{JsonBody, NotAuthorized, NotFound},
    },
    pagination::{Page, PageRequest},
    protect::BodyLimit,
};
use utoipa::ToSchema;

use crate::{
    domain::{Ticket, Title},
    state::AppState,
};

/// A title (at most 200 characters) and a price: well under a kibibyte, even fully escaped.
const TICKET_BODY: BodyLimit = BodyLimit::kib(8);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/tickets",
            get(list).post(create).layer(TICKET_BODY.layer()),
        )
        .route(
            "/api/tickets/{id}",
            get(show).put(edit).layer(TICKET_BODY.layer()),
        )
}

/// A ticket's title and price, for both creating and editing it.
// The price is read as any JSON value, so that a string or a missing price gets the field's own
// message rather than a parse error. Each field is `serde(default)` rather than the whole body,
// so that the document shows no default value for either: both are required.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TicketBody {
    /// Trimmed, 1 to 200 characters of visible text (`Title is required`, `Title must be at most
    /// 200 characters`, `Title must not contain control characters`, `Title must not contain
    /// text-direction control characters`, `Title must contain visible text`).
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, examples("Concert"))]
    title: TextField,
    /// Dollars, with at most two decimals (`Price must be greater than 0`, `Price must have at
    /// most two decimals`, `Price must be at most 1000000000`).
    #[serde(default)]
    #[schema(value_type = f64, required = true, minimum = 0.01, maximum = 1_000_000_000, examples(25.5))]
    price: Value,
}

/// What a seller says of a ticket, new or edited: its title and its price.
#[derive(Debug)]
pub struct TicketDraft {
    title: Title,
    price: Money,
}

impl FromBody for TicketDraft {
    type Body = TicketBody;
}

impl TryFrom<TicketBody> for TicketDraft {
    type Error = InvalidBody;

    fn try_from(body: TicketBody) -> Result<Self, InvalidBody> {
        let title = Title::parse(body.title.as_str()).on_field("title");
        let price = parse_price(&body.price).on_field("price");
        match (title, price) {
            (Ok(title), Ok(price)) => Ok(Self { title, price }),
            (title, price) => Err(InvalidBody::of([title.err(), price.err()])),
        }
    }
}

fn parse_price(raw: &Value) -> Result<Money, &'static str> {
    let dollars = raw.as_f64().ok_or("Price must be greater than 0")?;
    Money::from_dollars(dollars).map_err(|err| match err {
        MoneyError::NotPositive => "Price must be greater than 0",
        MoneyError::TooPrecise => "Price must have at most two decimals",
        MoneyError::TooLarge => "Price must be at most 1000000000",
    })
}

/// A malformed id names no ticket: 404, like an unknown one.
fn ticket_id(raw: &str) -> Result<TicketId, ApiError> {
    TicketId::parse(raw).map_err(|_| ApiError::NotFound)
}

/// Tickets for sale, a page at a time.
///
/// Oldest first (`?limit=&cursor=`; the next page in `Link`).
#[utoipa::path(
    get,
    path = "/api/tickets",
    operation_id = "listTickets",
    tag = "tickets",
    params(PageParams),
    responses(
        (status = 200, description = "One page of the tickets not reserved, in a stable order \
            (grouped by a hash of the id, each group oldest first): at most `limit` of them. The next page is named by `Link` and `X-Next-Cursor`, both absent on \
            the last page.", body = [Ticket],
            headers(
                ("Link" = String, description = "`</api/tickets?cursor=…&limit=…>; rel=\"next\"` (RFC 8288)"),
                ("X-Next-Cursor" = String, description = "The next page's cursor alone"),
            )),
        (status = 400, description = "`Limit must be between 1 and 100` (field `limit`), \
            `Cursor is invalid` (field `cursor`), or a parameter given twice.", body = ErrorBody),
    )
)]
pub(super) async fn list(
    State(state): State<AppState>,
    page: PageRequest<TicketId>,
) -> Result<Page<Ticket>, ApiError> {
    let tickets = state
        .tickets
        .list_for_sale(page.after(), page.fetch_limit())
        .await
        .or_unexpected("listing tickets")?;
    Ok(page.into_page(tickets, |ticket| ticket.id))
}

/// One ticket, for sale or reserved.
#[utoipa::path(
    get,
    path = "/api/tickets/{id}",
    operation_id = "showTicket",
    tag = "tickets",
    params(("id" = TicketId, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "The ticket.", body = Ticket),
        (status = 404, response = NotFound),
    )
)]
pub(super) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Ticket>, ApiError> {
    let id = ticket_id(&id)?;
    let ticket = state
        .tickets
        .find(id)
        .await
        .or_unexpected("loading a ticket")?;
    ticket.map(Json).ok_or(ApiError::NotFound)
}

/// Puts a ticket up for sale, as the signed-in user.
#[utoipa::path(
    post,
    path = "/api/tickets",
    operation_id = "createTicket",
    tag = "tickets",
    security(("session" = [])),
    request_body = TicketBody,
    responses(
        (status = 201, description = "The ticket, at version 0.", body = Ticket),
        (status = 400, description = "One entry per broken field (`title`, `price`), or a body \
            that is not a JSON object.", body = ErrorBody),
        (status = 401, response = NotAuthorized),
        JsonBody,
    )
)]
#[tracing::instrument(name = "create_ticket", skip_all, fields(user_id = %user.id))]
pub(super) async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Parsed(TicketDraft { title, price }): Parsed<TicketDraft>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    let ticket = state
        .tickets
        .create(title, price, user.id)
        .await
        .or_unexpected("creating a ticket")?;
    tracing::info!(ticket_id = %ticket.id, "ticket created");
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// Changes a ticket's title and price, as its seller.
///
/// Each edit is the ticket's next version; one that loses a race with another change is
/// re-checked and applied on top of it.
#[utoipa::path(
    put,
    path = "/api/tickets/{id}",
    operation_id = "editTicket",
    tag = "tickets",
    security(("session" = [])),
    params(("id" = TicketId, Path, description = "The ticket's id")),
    request_body = TicketBody,
    responses(
        (status = 200, description = "The ticket as edited, one version on.", body = Ticket),
        (status = 400, description = "One entry per broken field (`title`, `price`), a body that \
            is not a JSON object, or `Cannot edit a reserved ticket`.", body = ErrorBody),
        (status = 401, description = "No valid session, or not the ticket's seller: \
            `Not authorized`.", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 409, description = "`The ticket was changed by someone else; please retry`: \
            ten races in a row were lost.", body = ErrorBody),
        JsonBody,
    )
)]
#[tracing::instrument(name = "edit_ticket", skip_all, fields(user_id = %user.id))]
pub(super) async fn edit(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<String>,
    Parsed(TicketDraft { title, price }): Parsed<TicketDraft>,
) -> Result<Json<Ticket>, ApiError> {
    let id = ticket_id(&id)?;
    let ticket = state.tickets.edit(id, user.id, title, price).await?;
    tracing::info!(ticket_id = %id, version = %ticket.version, "ticket edited");
    Ok(Json(ticket))
}
