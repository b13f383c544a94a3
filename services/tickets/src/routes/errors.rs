//! How the tickets service's outcomes become API errors (DESIGN.md §2): one `From` per
//! operation's error, so handlers just use `?`.

use axum::http::StatusCode;
use ticketing_common::ApiError;

use crate::store::EditError;

impl From<EditError> for ApiError {
    fn from(err: EditError) -> Self {
        match err {
            EditError::NotFound => Self::NotFound,
            EditError::NotOwner => Self::NotAuthorized,
            EditError::Reserved => Self::bad_request(err.to_string()),
            EditError::Contended => Self::Rejected {
                status: StatusCode::CONFLICT,
                message: "The ticket was changed by someone else; please retry".into(),
            },
            EditError::Database(err) => Self::Unexpected(err.context("editing a ticket")),
        }
    }
}
