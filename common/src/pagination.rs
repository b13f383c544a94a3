//! Keyset pagination for list endpoints: `?limit=N&cursor=C` in, a JSON array out, the next page
//! named by headers (`Link: <…>; rel="next"`, RFC 8288, and `X-Next-Cursor`), absent on the last.
//!
//! A [`PageRequest`] is parsed once at the edge: holding one proves the limit is in range and the
//! cursor names an id of the right entity. A [`Cursor`] is opaque to clients — base64url of the
//! entity's name and the last item's id — and validated, never trusted, on the way back in.
//!
//! ```ignore
//! async fn list(State(state): State<AppState>, page: PageRequest<TicketId>) -> Result<Page<Ticket>, ApiError> {
//!     let tickets = state.tickets.list_for_sale(page.after(), page.fetch_limit()).await.or_unexpected("listing tickets")?;
//!     Ok(page.into_page(tickets, |ticket| ticket.id))
//! }
//! ```

use std::fmt;

use axum::{
    extract::{FromRequestParts, OriginalUri, Query, rejection::QueryRejection},
    http::{HeaderName, HeaderValue, StatusCode, header::LINK, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use crate::{
    ApiError, FieldError,
    domain::{OrderId, PaymentId, TicketId, UserId},
};

/// Items per page when the client names no limit.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most items one page may hold.
pub const MAX_LIMIT: u32 = 100;
/// The header carrying the next page's cursor alone, for clients that do not parse `Link`.
pub const NEXT_CURSOR_HEADER: HeaderName = HeaderName::from_static("x-next-cursor");

/// The messages of this module, in one place.
pub mod messages {
    pub const LIMIT_INVALID: &str = "Limit must be between 1 and 100";
    pub const CURSOR_INVALID: &str = "Cursor is invalid";
    pub const QUERY_INVALID: &str = "Query string is invalid: give each parameter at most once";
}

/// How many items a page holds: 1 to [`MAX_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    /// Parses the `limit` query parameter as the client sent it.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        raw.parse::<u32>()
            .ok()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .map(Self)
            .ok_or_else(|| FieldError::on("limit", messages::LIMIT_INVALID))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(DEFAULT_LIMIT)
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An id a page can be continued after. `ENTITY` goes into the cursor so that one entity's cursor
/// is refused by another entity's list.
pub trait CursorId: Copy + Send + Sync + 'static {
    const ENTITY: &'static str;
    fn to_hex(&self) -> String;
    fn from_hex(hex: &str) -> Option<Self>;
}

macro_rules! cursor_id {
    ($($id:ty => $entity:literal),* $(,)?) => {$(
        impl CursorId for $id {
            const ENTITY: &'static str = $entity;

            fn to_hex(&self) -> String {
                <$id>::to_hex(self)
            }

            fn from_hex(hex: &str) -> Option<Self> {
                <$id>::parse(hex).ok()
            }
        }
    )*};
}

cursor_id!(TicketId => "ticket", OrderId => "order", UserId => "user", PaymentId => "payment");

/// The opaque position after which the next page starts: the last item's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor<Id>(Id);

/// A cursor that did not come from us (or not for this list): garbled, truncated, or edited into
/// something that is not an id of this entity. (Cursors are not signed: an edit that still names
/// a valid id is just another position in the list, which reveals nothing a client cannot list.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", messages::CURSOR_INVALID)]
pub struct CursorError;

/// Far more than any cursor we issue; longer input is refused before it is decoded.
const MAX_CURSOR_LEN: usize = 128;

impl<Id: CursorId> Cursor<Id> {
    pub fn after(id: Id) -> Self {
        Self(id)
    }

    pub fn id(self) -> Id {
        self.0
    }

    /// The cursor as clients see it: base64url (no padding) of `entity:id`.
    pub fn encode(&self) -> String {
        base64url::encode(format!("{}:{}", Id::ENTITY, self.0.to_hex()).as_bytes())
    }

    /// Reads a cursor a client sent back; anything but one we issued for this entity is refused.
    pub fn decode(raw: &str) -> Result<Self, CursorError> {
        if raw.len() > MAX_CURSOR_LEN {
            return Err(CursorError);
        }
        let bytes = base64url::decode(raw).ok_or(CursorError)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| CursorError)?;
        let (entity, hex) = text.split_once(':').ok_or(CursorError)?;
        if entity != Id::ENTITY {
            return Err(CursorError);
        }
        Id::from_hex(hex).map(Self).ok_or(CursorError)
    }
}

impl<Id: CursorId> fmt::Display for Cursor<Id> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// The query parameters as sent, before parsing.
#[derive(Debug, Default, Deserialize)]
struct RawPageQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

/// A valid `?limit=N&cursor=C` for a list of `Id`-keyed items, plus the path it was asked on
/// (the `Link` header points back at it). A bad limit or cursor is a 400 naming each bad field.
#[derive(Debug, Clone)]
pub struct PageRequest<Id> {
    limit: Limit,
    after: Option<Cursor<Id>>,
    path: String,
}

impl<Id: CursorId> PageRequest<Id> {
    /// Parses the raw parameters, collecting every field's error.
    fn parse(raw: RawPageQuery, path: String) -> Result<Self, Vec<FieldError>> {
        let limit = raw.limit.as_deref().map(Limit::parse).transpose();
        let after = raw
            .cursor
            .as_deref()
            .map(Cursor::decode)
            .transpose()
            .map_err(|_| FieldError::on("cursor", messages::CURSOR_INVALID));
        match (limit, after) {
            (Ok(limit), Ok(after)) => Ok(Self {
                limit: limit.unwrap_or_default(),
                after,
                path,
            }),
            (limit, after) => Err([limit.err(), after.err()].into_iter().flatten().collect()),
        }
    }

    pub fn limit(&self) -> Limit {
        self.limit
    }

    /// The id the page starts after (exclusive), `None` for the first page.
    pub fn after(&self) -> Option<Id> {
        self.after.map(Cursor::id)
    }

    /// How many items to fetch: one more than the page holds, to learn whether a next page exists.
    pub fn fetch_limit(&self) -> u32 {
        self.limit.get() + 1
    }

    /// The page to answer with, from the items fetched with [`fetch_limit`](Self::fetch_limit)
    /// (oldest first); `id_of` names each item's id, the last one shown becomes the next cursor.
    pub fn into_page<T>(self, mut items: Vec<T>, id_of: impl Fn(&T) -> Id) -> Page<T> {
        let limit = self.limit.get() as usize;
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|item| Cursor::after(id_of(item)).encode())
        } else {
            None
        }
        .map(|cursor| NextPage {
            link: format!(
                "<{}?cursor={cursor}&limit={}>; rel=\"next\"",
                self.path, self.limit
            ),
            cursor,
        });
        Page { items, next }
    }
}

impl<S, Id> FromRequestParts<S> for PageRequest<Id>
where
    S: Send + Sync,
    Id: CursorId,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(raw) = Query::<RawPageQuery>::from_request_parts(parts, state).await?;
        // The path as the client asked for it, even inside a nested router.
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(parts.uri.path(), |uri| uri.path())
            .to_owned();
        Self::parse(raw, path).map_err(ApiError::Validation)
    }
}

impl From<QueryRejection> for ApiError {
    /// A query string serde cannot read at all (the same parameter twice).
    fn from(rejection: QueryRejection) -> Self {
        // serde's wording ("duplicate field `limit`") is for us, not for the client.
        tracing::debug!(reason = %rejection.body_text(), "query string rejected");
        ApiError::Rejected {
            status: StatusCode::BAD_REQUEST,
            message: messages::QUERY_INVALID.to_owned(),
        }
    }
}

/// One page: the items as a JSON array, and the headers naming the next page if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<NextPage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextPage {
    /// The opaque cursor (`X-Next-Cursor`).
    pub cursor: String,
    /// The whole `Link` header value.
    pub link: String,
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        let mut response = axum::Json(self.items).into_response();
        if let Some(next) = self.next {
            // Both are built from our own path, base64url and digits; a path that is not a valid
            // header value (it cannot be, axum routed it) only costs the headers, not the page.
            if let (Ok(link), Ok(cursor)) = (
                HeaderValue::try_from(next.link),
                HeaderValue::try_from(next.cursor),
            ) {
                let headers = response.headers_mut();
                headers.insert(LINK, link);
                headers.insert(NEXT_CURSOR_HEADER, cursor);
            }
        }
        response
    }
}

/// Unpadded base64url (RFC 4648 §5) for cursors; decoding accepts only the canonical form.
mod base64url {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    pub fn encode(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// `None` for anything that is not canonical unpadded base64url.
    pub fn decode(text: &str) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use axum::{body::to_bytes, http::Request};
    use serde_json::{Value, json};

    use super::*;

    async fn extract(uri: &str) -> Result<PageRequest<TicketId>, ApiError> {
        let (mut parts, ()) = Request::get(uri)
            .body(())
            .expect("valid request")
            .into_parts();
        PageRequest::<TicketId>::from_request_parts(&mut parts, &()).await
    }

    async fn error_body(err: ApiError) -> (StatusCode, Value) {
        let response = err.into_response();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body readable");
        (status, serde_json::from_slice(&bytes).expect("json body"))
    }

    fn page_request(limit: &str, after: Option<TicketId>) -> PageRequest<TicketId> {
        PageRequest {
            limit: Limit::parse(limit).expect("valid limit"),
            after: after.map(Cursor::after),
            path: "/api/tickets".into(),
        }
    }

    #[test]
    fn limits_from_1_to_100_are_accepted() {
        for (raw, limit) in [("1", 1), ("50", 50), ("100", 100), ("007", 7)] {
            assert_eq!(Limit::parse(raw).map(Limit::get), Ok(limit), "{raw:?}");
        }
        assert_eq!(Limit::default().get(), DEFAULT_LIMIT);
    }

    #[test]
    fn other_limits_are_refused_with_the_field_message() {
        for raw in [
            "0",
            "101",
            "-1",
            "",
            " 5",
            "5.0",
            "ten",
            "1e2",
            "99999999999999999999",
        ] {
            assert_eq!(
                Limit::parse(raw),
                Err(FieldError::on("limit", "Limit must be between 1 and 100")),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_look_opaque() {
        let id = TicketId::new();
        let cursor = Cursor::after(id).encode();
        assert!(
            !cursor.contains(&id.to_hex()),
            "the id is not visible as is"
        );
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "url-safe without escaping: {cursor}"
        );
        assert_eq!(Cursor::<TicketId>::decode(&cursor).map(Cursor::id), Ok(id));
    }

    #[test]
    fn tampered_or_foreign_cursors_are_refused() {
        let ticket = Cursor::after(TicketId::new()).encode();
        for raw in [
            String::new(),
            "not a cursor".into(),
            "%%%".into(),
            "A".into(),
            "dGlja2V0".into(), // "ticket"
            base64url::encode(b"ticket:"),
            base64url::encode(b"ticket:64B0F7A2C1D3E4F5A6B7C8D9"),
            base64url::encode(b"ticket:64b0f7a2c1d3e4f5a6b7c8d"),
            base64url::encode(b"ticket:64b0f7a2c1d3e4f5a6b7c8d9:x"),
            base64url::encode(&[0xff, 0xfe, 0x3a]),
            Cursor::after(OrderId::new()).encode(),
            format!("{ticket}="),
            format!("{ticket}A"),
            ticket[..ticket.len() - 1].to_owned(),
            "A".repeat(4096),
        ] {
            assert_eq!(
                Cursor::<TicketId>::decode(&raw),
                Err(CursorError),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn base64url_matches_rfc_4648_vectors_without_padding() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url::encode(plain.as_bytes()), encoded);
            assert_eq!(
                base64url::decode(encoded).as_deref(),
                Some(plain.as_bytes())
            );
        }
        assert_eq!(base64url::encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url::decode("Zh"), None, "non-zero leftover bits");
        assert_eq!(base64url::decode("Zm9=v"), None);
        assert_eq!(base64url::decode("Zm9+"), None, "standard alphabet");
    }

    #[tokio::test]
    async fn no_query_is_the_first_page_of_the_default_size() {
        let page = extract("/api/tickets").await.expect("valid");
        assert_eq!(page.limit().get(), 50);
        assert_eq!(page.fetch_limit(), 51);
        assert_eq!(page.after(), None);
    }

    #[tokio::test]
    async fn limit_and_cursor_are_read_from_the_query() {
        let id = TicketId::new();
        let cursor = Cursor::after(id).encode();
        let page = extract(&format!("/api/tickets?limit=3&cursor={cursor}&other=x"))
            .await
            .expect("valid");
        assert_eq!(page.limit().get(), 3);
        assert_eq!(page.after(), Some(id));
    }

    #[tokio::test]
    async fn a_bad_limit_and_a_bad_cursor_are_both_reported_in_the_error_shape() {
        let err = extract("/api/tickets?limit=0&cursor=nope")
            .await
            .expect_err("invalid");
        assert_eq!(
            error_body(err).await,
            (
                StatusCode::BAD_REQUEST,
                json!({"errors":[
                    {"message":"Limit must be between 1 and 100","field":"limit"},
                    {"message":"Cursor is invalid","field":"cursor"},
                ]})
            )
        );
        let err = extract("/api/tickets?limit=101")
            .await
            .expect_err("invalid");
        assert_eq!(
            error_body(err).await.1,
            json!({"errors":[{"message":"Limit must be between 1 and 100","field":"limit"}]})
        );
        let err = extract("/api/tickets?cursor=").await.expect_err("invalid");
        assert_eq!(
            error_body(err).await.1,
            json!({"errors":[{"message":"Cursor is invalid","field":"cursor"}]})
        );
    }

    #[tokio::test]
    async fn an_unreadable_query_string_is_a_400_in_the_error_shape() {
        let err = extract("/api/tickets?limit=1&limit=2")
            .await
            .expect_err("twice");
        let (status, body) = error_body(err).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // Said in the request's terms, not serde's ("duplicate field `limit`").
        assert_eq!(
            body["errors"][0]["message"],
            messages::QUERY_INVALID,
            "{body}"
        );
    }

    #[test]
    fn a_full_fetch_becomes_a_page_with_a_next_cursor() {
        let ids: Vec<TicketId> = (0..4).map(|_| TicketId::new()).collect();
        let page = page_request("3", None).into_page(ids.clone(), |id| *id);
        assert_eq!(page.items, ids[..3]);
        let next = page.next.expect("a next page");
        assert_eq!(
            Cursor::<TicketId>::decode(&next.cursor).map(Cursor::id),
            Ok(ids[2])
        );
        assert_eq!(
            next.link,
            format!(
                "</api/tickets?cursor={}&limit=3>; rel=\"next\"",
                next.cursor
            )
        );
    }

    #[test]
    fn a_short_fetch_is_the_last_page() {
        let ids: Vec<TicketId> = (0..3).map(|_| TicketId::new()).collect();
        let page = page_request("3", Some(TicketId::new())).into_page(ids.clone(), |id| *id);
        assert_eq!(page.items, ids);
        assert_eq!(page.next, None);
        let empty = page_request("3", None).into_page(Vec::<TicketId>::new(), |id| *id);
        assert_eq!(empty.next, None);
    }

    #[tokio::test]
    async fn a_page_is_a_json_array_with_the_next_page_in_headers() {
        let ids: Vec<TicketId> = (0..2).map(|_| TicketId::new()).collect();
        let response = page_request("1", None)
            .into_page(ids.clone(), |id| *id)
            .into_response();
        assert_eq!(response.status(), StatusCode::OK);
        let cursor = Cursor::after(ids[0]).encode();
        assert_eq!(
            response.headers().get(LINK).and_then(|v| v.to_str().ok()),
            Some(format!("</api/tickets?cursor={cursor}&limit=1>; rel=\"next\"").as_str())
        );
        assert_eq!(
            response
                .headers()
                .get("x-next-cursor")
                .and_then(|v| v.to_str().ok()),
            Some(cursor.as_str())
        );
        let bytes = to_bytes(response.into_body(), 1 << 16).await.expect("body");
        assert_eq!(
            serde_json::from_slice::<Value>(&bytes).expect("json"),
            json!([ids[0]])
        );

        let last = page_request("5", None)
            .into_page(ids, |id| *id)
            .into_response();
        assert!(last.headers().get(LINK).is_none());
        assert!(last.headers().get("x-next-cursor").is_none());
    }
}
