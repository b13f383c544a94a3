//! The HTTP API described as OpenAPI 3.1 (issue 16), from the code: each service derives its own
//! document (`src/api_doc.rs`) from its handlers' `#[utoipa::path]` attributes and its body
//! types, and the fleet's document merges them. What every service's document shares is here,
//! once:
//!
//! - [`Conventions`]: the `session` cookie as a security scheme, the error body, and the answers
//!   every request can get whatever its route (a URL or headers over the limits, a body that is
//!   too large, too slow or not JSON, an unexpected failure, a service starting or too slow);
//! - the schemas of the shared domain types (ids, money, versions, an order's status);
//! - [`responses`]: the error answers routes name in their attributes (401, 404, a JSON body's);
//! - [`PageParams`]: a list's `limit` and `cursor`;
//! - [`coverage`] (tests): the routes a router serves against the operations a document has.

mod conventions;
#[cfg(feature = "testing")]
pub mod coverage;
mod page;
pub mod responses;
mod schemas;

pub use conventions::{Conventions, SESSION_SCHEME};
pub use page::PageParams;
