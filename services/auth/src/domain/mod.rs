//! The auth service's own types: a user's email and password, parsed at the edge.

mod email;
mod password;

pub use email::Email;
pub use password::{HashCost, Password, PasswordHasher};
