//! The calls orders makes to products, directly over HTTP with its service token (the kit's
//! `ServiceClient`: retries, breaker). Each is idempotent by the reservation id, which is the
//! order id, so a retry, a duplicate request or a second sweep never takes stock twice.

use serde::Deserialize;
use serde_json::json;
use tessera_kit::{
    config::Config,
    service_client::{CallError, ServiceClient},
};
use uuid::Uuid;

use crate::domain::Items;

/// A reserved line, as products priced and named it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservedLine {
    pub product_id: Uuid,
    pub quantity: i64,
    pub name: String,
    pub unit_price: Price,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Price {
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Deserialize)]
struct Reservation {
    state: String,
    #[serde(default)]
    items: Vec<ReservedLine>,
}

/// What orders still owes products for a reservation (the `settlement` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    Commit,
    Release,
    Return,
}

impl Settlement {
    pub fn as_str(self) -> &'static str {
        match self {
            Settlement::Commit => "COMMIT",
            Settlement::Release => "RELEASE",
            Settlement::Return => "RETURN",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Settlement::Commit, Settlement::Release, Settlement::Return].into_iter().find(|x| x.as_str() == s)
    }

    fn mutation(self) -> &'static str {
        match self {
            Settlement::Commit => "commitReservation",
            Settlement::Release => "releaseReservation",
            Settlement::Return => "returnReservation",
        }
    }
}

/// The products subgraph, as orders calls it.
#[derive(Clone)]
pub struct Products {
    client: ServiceClient,
}

const RESERVE: &str = "mutation($i: ReserveStockInput!) { reserveStock(input: $i) { reservation { state \
                       items { productId quantity name unitPrice { amount currency } } } } }";

impl Products {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        Ok(Self { client: ServiceClient::new(config, "orders", "products")? })
    }

    /// Holds `items` under reservation `id` (all or none); the priced lines.
    pub async fn reserve(&self, id: Uuid, items: &Items) -> Result<Vec<ReservedLine>, CallError> {
        let lines: Vec<_> = items.lines().iter().map(|(p, q)| json!({ "productId": p, "quantity": q })).collect();
        let data = self.client.call(RESERVE, json!({ "i": { "reservationId": id, "items": lines } })).await?;
        let reservation: Reservation = parse(&data["reserveStock"]["reservation"])?;
        Ok(reservation.items)
    }

    /// Commits, releases or returns reservation `id`; the state products reports after.
    pub async fn settle(&self, id: Uuid, what: Settlement) -> Result<String, CallError> {
        let field = what.mutation();
        let query = format!("mutation($i: ReservationInput!) {{ {field}(input: $i) {{ reservation {{ state }} }} }}");
        let data = self.client.call(&query, json!({ "i": { "reservationId": id } })).await?;
        let reservation: Reservation = parse(&data[field]["reservation"])?;
        Ok(reservation.state)
    }

    /// Whether calls are refused at once now (the breaker is open).
    pub fn is_open(&self) -> bool {
        self.client.is_open()
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, CallError> {
    serde_json::from_value(v.clone()).map_err(|e| {
        CallError::Refused(vec![json!({ "message": format!("products answered an unexpected shape: {e}") })])
    })
}
