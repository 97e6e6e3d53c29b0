//! DataLoaders for the `User` entity: an `_entities` batch or a directory page costs one SQL
//! statement for the accounts and one for their roles, whatever its size. Shared and uncached:
//! a role granted a moment ago shows at once.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use tessera_kit::db::Db;
use uuid::Uuid;

use crate::store::{self, Account};

pub struct Accounts(pub Db);

impl Loader<Uuid> for Accounts {
    type Value = Account;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Account>, Self::Error> {
        let rows = store::directory::by_ids(&self.0, ids).await?;
        Ok(rows.into_iter().map(|a| (a.id, a)).collect())
    }
}

pub struct Roles(pub Db);

impl Loader<Uuid> for Roles {
    type Value = Vec<String>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<String>>, Self::Error> {
        Ok(store::directory::roles_of(&self.0, ids).await?)
    }
}

pub struct Loaders {
    pub accounts: DataLoader<Accounts>,
    pub roles: DataLoader<Roles>,
}

impl Loaders {
    pub fn new(db: &Db) -> Self {
        Self {
            accounts: DataLoader::new(Accounts(db.clone()), tokio::spawn),
            roles: DataLoader::new(Roles(db.clone()), tokio::spawn),
        }
    }
}
