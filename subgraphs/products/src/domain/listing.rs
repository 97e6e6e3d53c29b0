//! How a product list is asked for: the filter, the sort order and where the page starts.
//!
//! Cursors are keyset positions, not offsets: the sort key of the last row and its id (ids are
//! unique, so `(key, id)` orders every row once). A page resumes strictly after that pair, so a
//! product inserted between two pages appears in its place or not at all, and none already
//! seen comes back or is skipped. A cursor is opaque (base64 of a small JSON array) and names
//! its sort order, so one taken under one order is refused under another.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Status, search::Terms};

#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(name = "ProductSort")]
pub enum Sort {
    /// Best match first when searching (a match in the name before one in the description);
    /// newest first otherwise.
    Relevance,
    Newest,
    PriceAsc,
    PriceDesc,
    /// By name, A to Z.
    Name,
}

/// The order a query really runs in: relevance without a search is newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Rank,
    Newest,
    PriceAsc,
    PriceDesc,
    Name,
}

impl Order {
    pub fn of(sort: Sort, searching: bool) -> Self {
        match sort {
            Sort::Relevance if searching => Order::Rank,
            Sort::Relevance | Sort::Newest => Order::Newest,
            Sort::PriceAsc => Order::PriceAsc,
            Sort::PriceDesc => Order::PriceDesc,
            Sort::Name => Order::Name,
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Order::Rank => "r",
            Order::Newest => "n",
            Order::PriceAsc => "pa",
            Order::PriceDesc => "pd",
            Order::Name => "a",
        }
    }

    /// Whether the order runs from high keys to low (the keyset comparison is then `<`).
    pub fn descending(self) -> bool {
        matches!(self, Order::Rank | Order::Newest | Order::PriceDesc)
    }
}

/// The sort key of a row, as a cursor holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// Newest: the id alone orders the rows (UUIDv7 is time-ordered).
    Id,
    Int(i64),
    Text(String),
}

/// A position in a list: after the row with this key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub order: Order,
    pub key: Key,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let key = match &self.key {
            Key::Id => Value::Null,
            Key::Int(n) => json!(n),
            Key::Text(s) => json!(s),
        };
        URL_SAFE_NO_PAD.encode(json!([self.order.tag(), key, self.id]).to_string())
    }

    /// Reads a cursor this API handed out for `order`; anything else is refused, with a
    /// message that says what to do.
    pub fn decode(raw: &str, order: Order) -> Result<Self, String> {
        let refuse = || "Not a cursor from this list: start again without `after`.".to_owned();
        if raw.len() > 600 {
            return Err(refuse());
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| refuse())?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| refuse())?;
        let [tag, key, id] = value.as_array().map(Vec::as_slice).unwrap_or_default() else {
            return Err(refuse());
        };
        if tag.as_str() != Some(order.tag()) {
            return Err(
                "This cursor is from a list in another order: send the same sort as for the page it came from.".into(),
            );
        }
        let id = id.as_str().and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(refuse)?;
        let key = match (order, key) {
            (Order::Newest, Value::Null) => Key::Id,
            (Order::Rank | Order::PriceAsc | Order::PriceDesc, Value::Number(n)) => {
                Key::Int(n.as_i64().ok_or_else(refuse)?)
            }
            (Order::Name, Value::String(s)) => Key::Text(s.clone()),
            _ => return Err(refuse()),
        };
        Ok(Self { order, key, id })
    }
}

/// What a list holds: every condition optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub search: Option<Terms>,
    pub category: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: bool,
    /// The statuses listed: `[ACTIVE]` for customers; what an admin asked for (all when empty).
    pub statuses: Vec<Status>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_under_its_own_order_only() {
        let c = Cursor { order: Order::Name, key: Key::Text("pen, \"blue\"".into()), id: Uuid::now_v7() };
        assert_eq!(Cursor::decode(&c.encode(), Order::Name), Ok(c.clone()));
        assert!(Cursor::decode(&c.encode(), Order::PriceAsc).is_err());
        let n = Cursor { order: Order::Newest, key: Key::Id, id: Uuid::now_v7() };
        assert_eq!(Cursor::decode(&n.encode(), Order::Newest), Ok(n));
    }

    #[test]
    fn forged_cursors_are_refused() {
        for bad in ["", "page-2", "WyJhIiwxXQ", &"A".repeat(700)] {
            assert!(Cursor::decode(bad, Order::Name).is_err(), "{bad} was accepted");
        }
        let wrong_key = URL_SAFE_NO_PAD.encode(json!(["pa", "cheap", Uuid::now_v7()]).to_string());
        assert!(Cursor::decode(&wrong_key, Order::PriceAsc).is_err());
    }

    #[test]
    fn relevance_without_a_search_is_newest_first() {
        assert_eq!(Order::of(Sort::Relevance, false), Order::Newest);
        assert_eq!(Order::of(Sort::Relevance, true), Order::Rank);
        assert_eq!(Order::of(Sort::PriceAsc, true), Order::PriceAsc);
    }
}
