//! `Money`, the output type every subgraph that shows an amount answers with (a `@shareable`
//! value type in the supergraph: products' prices, orders' totals). Declared once here, so the
//! subgraphs cannot drift apart on its fields or descriptions, which composition would refuse.

use async_graphql::SimpleObject;

/// Money in integer minor units, so sums are exact.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
#[graphql(shareable)]
pub struct Money {
    /// Amount in the currency's minor unit (cents; yen for JPY).
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
}
