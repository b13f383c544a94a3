//! Extractors whose rejections are [`ApiError`](crate::ApiError)s, so a bad request always gets
//! the normalized error body.

mod json;
mod user;
mod validated;

pub use json::Json;
pub use user::{CurrentUser, RequireUser};
pub use validated::ValidatedJson;
