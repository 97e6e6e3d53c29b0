//! DataLoaders: an `_entities` batch of any size costs one SQL statement per table, not one per
//! user. The loaders live in the schema's data (shared, uncached), so they also merge the
//! lookups of concurrent requests that land in the same tick.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use tessera_kit::db::Db;
use uuid::Uuid;

use crate::store::{self, Profile, preferences::Stored};

pub struct Profiles(pub Db);

impl Loader<Uuid> for Profiles {
    type Value = Profile;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Profile>, Self::Error> {
        let rows = store::profiles::by_ids(&self.0, ids).await?;
        Ok(rows.into_iter().map(|p| (p.user_id, p)).collect())
    }
}

pub struct Preferences(pub Db);

impl Loader<Uuid> for Preferences {
    type Value = Stored;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Stored>, Self::Error> {
        let rows = store::preferences::by_ids(&self.0, ids).await?;
        Ok(rows.into_iter().map(|p| (p.user_id, p)).collect())
    }
}

pub type ProfileLoader = DataLoader<Profiles>;
pub type PreferencesLoader = DataLoader<Preferences>;

pub fn profiles(db: &Db) -> ProfileLoader {
    DataLoader::new(Profiles(db.clone()), tokio::spawn)
}

pub fn preferences(db: &Db) -> PreferencesLoader {
    DataLoader::new(Preferences(db.clone()), tokio::spawn)
}
