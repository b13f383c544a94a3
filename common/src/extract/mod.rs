//! Extractors whose rejections are [`ApiError`](crate::ApiError)s, so a bad request always gets
//! the normalized error body.

mod client_address;
mod json;
mod parsed;
mod raw_body;
mod text_field;
mod user;

pub use client_address::ClientAddress;
pub use json::{BODY_READ_TIMEOUT, Json, messages};
pub use parsed::{FromBody, InvalidBody, OnField, Parsed};
pub use raw_body::RawBody;
pub use text_field::TextField;
pub use user::{CurrentUser, RequireUser};
