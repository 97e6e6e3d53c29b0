//! The users subgraph's resolvers, one file per area; the roots merge them.

mod export;
mod preferences;
mod profile;
mod user;

use async_graphql::{Context, MergedObject};
use tessera_kit::Runtime;

pub use user::User;

#[derive(MergedObject, Default)]
pub struct Query(user::UserQuery, export::ExportQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(profile::ProfileMutation, preferences::PreferencesMutation);

fn runtime<'a>(ctx: &'a Context<'_>) -> &'a Runtime {
    ctx.data_unchecked::<Runtime>()
}

use tessera_kit::error::parse_uuid as uuid;
