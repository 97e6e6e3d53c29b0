//! The product DataLoader: an `_entities` batch of any size (an order's lines, a page of
//! orders) costs one SQL statement, not one per product. It lives in the schema's data (shared,
//! uncached), so it also merges the lookups of concurrent requests that land in the same tick.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use tessera_kit::db::Db;
use uuid::Uuid;

use crate::store::{Product, catalogue};

pub struct Products(pub Db);

impl Loader<Uuid> for Products {
    type Value = Product;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Product>, Self::Error> {
        let rows = catalogue::by_ids(&self.0, ids).await?;
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }
}

pub type ProductLoader = DataLoader<Products>;

pub fn products(db: &Db) -> ProductLoader {
    DataLoader::new(Products(db.clone()), tokio::spawn)
}
