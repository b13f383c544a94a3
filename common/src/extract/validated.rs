use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use super::Json;
use crate::{ApiError, FieldError};

/// A JSON body that has passed its `validator` rules; a failure is a 400 listing every broken
/// field, named as the client sent it (camelCase).
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidatedJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidatedJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        value
            .validate()
            .map_err(|errors| ApiError::Validation(field_errors(&errors)))?;
        Ok(Self(value))
    }
}

/// Flattens `validator`'s errors into the API's list, in a stable order (by field name).
pub(crate) fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut fields: Vec<_> = errors.errors().iter().collect();
    fields.sort_by_key(|(field, _)| field.to_string());
    let mut out = Vec::new();
    for (field, kind) in fields {
        let field = camel_case(field);
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    let message = error
                        .message
                        .as_deref()
                        .map(str::to_owned)
                        .unwrap_or_else(|| format!("{field} is invalid"));
                    out.push(FieldError::on(field.clone(), message));
                }
            }
            ValidationErrorsKind::Struct(nested) => out.extend(field_errors(nested)),
            ValidationErrorsKind::List(items) => {
                for nested in items.values() {
                    out.extend(field_errors(nested));
                }
            }
        }
    }
    out
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper_next = false;
    for ch in snake.chars() {
        if ch == '_' {
            upper_next = !out.is_empty();
        } else if upper_next {
            out.extend(ch.to_uppercase());
            upper_next = false;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use validator::Validate;

    #[derive(Validate)]
    struct Body {
        #[validate(length(min = 1, message = "TicketId must be provided"))]
        ticket_id: String,
        #[validate(range(min = 1, message = "Price must be greater than 0"))]
        price: i64,
    }

    #[test]
    fn snake_case_fields_come_out_camel_case() {
        assert_eq!(camel_case("ticket_id"), "ticketId");
        assert_eq!(camel_case("order_id"), "orderId");
        assert_eq!(camel_case("email"), "email");
    }

    #[test]
    fn every_broken_field_is_listed_in_a_stable_order() {
        let errors = Body {
            ticket_id: String::new(),
            price: 0,
        }
        .validate()
        .expect_err("both fields are invalid");
        assert_eq!(
            field_errors(&errors),
            vec![
                FieldError::on("price", "Price must be greater than 0"),
                FieldError::on("ticketId", "TicketId must be provided"),
            ]
        );
    }
}
