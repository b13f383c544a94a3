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
    error::OrUnexpected,
    extract::{FromBody, InvalidBody, Json, OnField, Parsed, RequireUser, TextField},
    pagination::{Page, PageRequest},
    protect::BodyLimit,
};

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

/// Title and price, as sent for both create and edit. The price is taken as any JSON value so
/// that a string or a missing price gets the field's own message rather than a parse error.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TicketBody {
    title: TextField,
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

/// Tickets for sale, oldest first, a page at a time (`?limit=&cursor=`; the next page in `Link`).
async fn list(
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

async fn show(
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

#[tracing::instrument(name = "create_ticket", skip_all, fields(user_id = %user.id))]
async fn create(
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

#[tracing::instrument(name = "edit_ticket", skip_all, fields(user_id = %user.id))]
async fn edit(
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
