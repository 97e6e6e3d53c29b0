//! DataLoaders for an order's lines and history: a page of orders, or an `_entities` batch of
//! them (a notification list's `order`), costs one statement each, not one per order.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use tessera_kit::db::Db;
use uuid::Uuid;

use crate::store::{Change, Item, orders};

pub struct Items(pub Db);

impl Loader<Uuid> for Items {
    type Value = Vec<Item>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Item>>, Self::Error> {
        let mut out: HashMap<Uuid, Vec<Item>> = HashMap::new();
        for item in orders::items_of(&self.0, ids).await? {
            out.entry(item.order_id).or_default().push(item);
        }
        Ok(out)
    }
}

pub struct History(pub Db);

impl Loader<Uuid> for History {
    type Value = Vec<Change>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Change>>, Self::Error> {
        let mut out: HashMap<Uuid, Vec<Change>> = HashMap::new();
        for change in orders::history_of(&self.0, ids).await? {
            out.entry(change.order_id).or_default().push(change);
        }
        Ok(out)
    }
}

pub type ItemLoader = DataLoader<Items>;
pub type HistoryLoader = DataLoader<History>;

pub fn items(db: &Db) -> ItemLoader {
    DataLoader::new(Items(db.clone()), tokio::spawn)
}

pub fn history(db: &Db) -> HistoryLoader {
    DataLoader::new(History(db.clone()), tokio::spawn)
}
