//! The products subgraph's resolvers.

use async_graphql::{Context, ID, Object, SimpleObject};
use tessera_kit::{Runtime, error::parse_uuid};

use crate::{error::ProductsError, store};

pub struct Query;

#[Object]
impl Query {
    /// One product by id, or null.
    async fn product(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Product>> {
        let rt = ctx.data_unchecked::<Runtime>();
        Ok(store::product(&rt.db, parse_uuid("id", &id)?).await.map_err(ProductsError::from)?.map(Product::from))
    }

    #[graphql(entity)]
    async fn find_product_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Product>> {
        self.product(ctx, id).await
    }
}

/// Money in integer minor units, so sums are exact.
#[derive(SimpleObject)]
pub struct Money {
    /// Amount in the currency's minor unit (cents).
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// A product in the catalogue. Answers about products may be cached for up to 60 seconds.
#[derive(SimpleObject)]
#[graphql(cache_control(max_age = 60))]
pub struct Product {
    pub id: ID,
    pub name: String,
    pub price: Money,
    pub stock: i64,
    pub version: i64,
}

impl From<store::Product> for Product {
    fn from(p: store::Product) -> Self {
        Self {
            id: ID(p.id.to_string()),
            name: p.name,
            price: Money { amount: p.price_cents, currency: p.currency },
            stock: p.stock,
            version: p.version,
        }
    }
}
