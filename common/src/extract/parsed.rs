//! A request body parsed once, at the edge, into the route's command: the body arrives as a loose
//! JSON object (the route's *body* type, whose text fields take any value), and one `TryFrom`
//! turns it into the command of domain types, naming every field that would not parse. After the
//! edge, holding the command proves every field valid; nothing checks it again.
//!
//! ```ignore
//! #[derive(Deserialize)]
//! #[serde(default)]
//! struct SignUpBody { email: TextField, password: TextField }
//!
//! struct SignUp { email: Email, password: Password }
//!
//! impl FromBody for SignUp { type Body = SignUpBody; }
//!
//! impl TryFrom<SignUpBody> for SignUp {
//!     type Error = InvalidBody;
//!     fn try_from(body: SignUpBody) -> Result<Self, InvalidBody> {
//!         let email = Email::parse(body.email.as_str()).on_field("email");
//!         let password = Password::parse(body.password.as_str()).on_field("password");
//!         match (email, password) {
//!             (Ok(email), Ok(password)) => Ok(Self { email, password }),
//!             (email, password) => Err(InvalidBody::of([email.err(), password.err()])),
//!         }
//!     }
//! }
//!
//! async fn signup(Parsed(command): Parsed<SignUp>) -> … { … }
//! ```

use std::fmt::Display;

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::Json;
use crate::{ApiError, FieldError};

/// A command made from a request body: `Body` is the JSON object as sent, and the `TryFrom`
/// parses it into domain types.
pub trait FromBody: TryFrom<Self::Body, Error = InvalidBody> {
    type Body: DeserializeOwned;
}

/// A route's command, parsed from its JSON body: a body that is not a JSON object is refused as
/// [`Json`] refuses it (415, 413, 408, 400), and one with broken fields is a 400 listing each.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parsed<T>(pub T);

impl<S, T> FromRequest<S> for Parsed<T>
where
    S: Send + Sync,
    T: FromBody,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(body) = Json::<T::Body>::from_request(req, state).await?;
        T::try_from(body).map(Self).map_err(ApiError::from)
    }
}

/// Every broken field of a body, each with its own message, listed in a stable order (by the
/// field's name, as the client sent it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidBody(Vec<FieldError>);

impl InvalidBody {
    /// The errors of the fields that failed (`None` for a field that parsed).
    pub fn of(fields: impl IntoIterator<Item = Option<FieldError>>) -> Self {
        let mut errors: Vec<FieldError> = fields.into_iter().flatten().collect();
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        Self(errors)
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }
}

impl From<FieldError> for InvalidBody {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

/// A 400 naming each broken field.
impl From<InvalidBody> for ApiError {
    fn from(InvalidBody(errors): InvalidBody) -> Self {
        Self::Validation(errors)
    }
}

/// A field's parse result with its failure said on that field: the error's text is the message.
pub trait OnField<T> {
    fn on_field(self, field: &str) -> Result<T, FieldError>;
}

impl<T, E: Display> OnField<T> for Result<T, E> {
    fn on_field(self, field: &str) -> Result<T, FieldError> {
        self.map_err(|err| FieldError::on(field, err.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::extract::TextField;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    struct OrderBody {
        ticket_id: TextField,
        quantity: TextField,
    }

    #[derive(Debug, PartialEq)]
    struct Order {
        ticket_id: String,
        quantity: u8,
    }

    impl FromBody for Order {
        type Body = OrderBody;
    }

    impl TryFrom<OrderBody> for Order {
        type Error = InvalidBody;

        fn try_from(body: OrderBody) -> Result<Self, InvalidBody> {
            let ticket_id = Some(body.ticket_id.as_str())
                .filter(|id| !id.is_empty())
                .ok_or("TicketId must be provided")
                .on_field("ticketId");
            let quantity = body
                .quantity
                .as_str()
                .parse::<u8>()
                .map_err(|_| "Quantity must be a number")
                .on_field("quantity");
            match (ticket_id, quantity) {
                (Ok(ticket_id), Ok(quantity)) => Ok(Self {
                    ticket_id: ticket_id.to_owned(),
                    quantity,
                }),
                (ticket_id, quantity) => Err(InvalidBody::of([ticket_id.err(), quantity.err()])),
            }
        }
    }

    #[test]
    fn every_broken_field_is_listed_by_name() {
        let err = Order::try_from(OrderBody::default()).expect_err("both fields are missing");
        assert_eq!(
            err.errors(),
            [
                FieldError::on("quantity", "Quantity must be a number"),
                FieldError::on("ticketId", "TicketId must be provided"),
            ]
        );
    }

    #[test]
    fn a_body_whose_fields_parse_is_the_command() {
        let body = OrderBody {
            ticket_id: "abc".into(),
            quantity: "2".into(),
        };
        assert_eq!(
            Order::try_from(body),
            Ok(Order {
                ticket_id: "abc".into(),
                quantity: 2
            })
        );
    }

    #[test]
    fn invalid_bodies_are_validation_errors() {
        let err = ApiError::from(InvalidBody::from(FieldError::on(
            "token",
            "Token is required",
        )));
        let ApiError::Validation(errors) = err else {
            panic!("a validation error");
        };
        assert_eq!(errors, vec![FieldError::on("token", "Token is required")]);
    }
}
