//! The `Product` entity, and reading one product by id or SKU.

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tessera_kit::{
    ApiError,
    error::parse_uuid,
    identity::{RequireScopes, viewer},
};

use super::runtime;
use crate::{
    domain::{Status, product::sku},
    error::ProductsError,
    loader::ProductLoader,
    store::{self, catalogue},
};

pub use tessera_kit::money::Money;

/// A product in the catalogue. Answers about products may be cached for up to 60 seconds; the
/// router drops a cached answer as soon as a product in it changes.
#[derive(SimpleObject)]
#[graphql(complex, cache_control(max_age = 60))]
pub struct Product {
    pub id: ID,
    /// Unique, upper case.
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub status: Status,
    /// Category slugs.
    pub categories: Vec<String>,
    /// https URLs.
    pub images: Vec<String>,
    /// Units available to order now.
    pub stock: i64,
    /// Send it back as `expectedVersion` when changing the product.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub reserved_units: i64,
}

#[ComplexObject]
impl Product {
    /// Units held by reservations not yet committed (admins only; never cached).
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])", cache_control(private, max_age = 0))]
    async fn reserved(&self) -> i64 {
        self.reserved_units
    }
}

impl From<store::Product> for Product {
    fn from(p: store::Product) -> Self {
        Self {
            id: ID(p.id.to_string()),
            sku: p.sku,
            name: p.name,
            description: p.description,
            price: Money { amount: p.price_cents, currency: p.currency },
            status: Status::from_db(&p.status),
            categories: store::read_list(&p.categories),
            images: store::read_list(&p.images),
            stock: p.stock,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
            reserved_units: p.reserved,
        }
    }
}

/// A product for an answer, recorded in the answer's cache tags: the router drops cached
/// answers by them when the product changes (at once for a mutation's answer, which it sees
/// pass; by the product's event otherwise).
pub fn tagged(ctx: &Context<'_>, p: store::Product) -> Product {
    tessera_kit::cache_tags::tag(ctx, "Product", p.id);
    p.into()
}

/// Whether the caller may see this product by id: drafts are for admins only; archived
/// products stay visible, because orders and links point at them.
fn visible(ctx: &Context<'_>, p: &store::Product) -> bool {
    p.status != Status::Draft.as_str() || viewer(ctx).is_admin()
}

#[derive(Default)]
pub struct ProductQuery;

#[Object]
impl ProductQuery {
    /// One product by id, or null (also for a draft, unless you are an admin).
    async fn product(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>, ApiError> {
        let found = catalogue::by_id(&runtime(ctx).db, parse_uuid("id", &id)?).await.map_err(ProductsError::from)?;
        Ok(found.filter(|p| visible(ctx, p)).map(|p| tagged(ctx, p)))
    }

    /// One product by SKU (any case), or null.
    async fn product_by_sku(&self, ctx: &Context<'_>, sku: String) -> Result<Option<Product>, ApiError> {
        let sku = self::sku(&sku).map_err(|m| ApiError::bad_input("sku", m))?;
        let found = catalogue::by_sku(&runtime(ctx).db, &sku).await.map_err(ProductsError::from)?;
        Ok(found.filter(|p| visible(ctx, p)).map(|p| tagged(ctx, p)))
    }

    /// Entity references from other subgraphs (an order's lines): an archived product still
    /// resolves, because the order already points at it; a draft is for admins, here too, as
    /// `_entities` can be called on this subgraph directly.
    #[graphql(entity)]
    async fn find_product_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>, ApiError> {
        let id = parse_uuid("id", &id)?;
        let found = ctx.data_unchecked::<ProductLoader>().load_one(id).await.map_err(ProductsError::Database)?;
        Ok(found.filter(|p| visible(ctx, p)).map(|p| tagged(ctx, p)))
    }
}
