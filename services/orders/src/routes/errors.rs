//! How the orders service's outcomes become API errors (DESIGN.md §2): one `From` per
//! operation's error, so handlers just use `?`.

use ticketing_common::ApiError;

use crate::{lifecycle::PlaceError, store::TransitionError};

impl From<PlaceError> for ApiError {
    fn from(err: PlaceError) -> Self {
        match err {
            PlaceError::UnknownTicket => Self::NotFound,
            PlaceError::AlreadyReserved => Self::bad_request(err.to_string()),
            PlaceError::Database(err) => Self::Unexpected(err.context("placing an order")),
        }
    }
}

/// The buyer's only transition is a cancellation, so a final order is one that cannot be
/// cancelled any more.
impl From<TransitionError> for ApiError {
    fn from(err: TransitionError) -> Self {
        match err {
            TransitionError::Final(_) => Self::bad_request("Order cannot be cancelled"),
            TransitionError::NotFound => Self::NotFound,
            TransitionError::Database(err) => Self::Unexpected(err.context("cancelling an order")),
        }
    }
}
