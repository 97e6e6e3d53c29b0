//! The users subgraph's resolvers, one file per area; the roots merge them.

mod export;
mod preferences;
mod profile;
mod user;

use async_graphql::{Context, MergedObject};
use tessera_kit::{ApiError, Runtime};
use uuid::Uuid;

pub use user::User;

#[derive(MergedObject, Default)]
pub struct Query(user::UserQuery, export::ExportQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(profile::ProfileMutation, preferences::PreferencesMutation);

fn runtime<'a>(ctx: &'a Context<'_>) -> &'a Runtime {
    ctx.data_unchecked::<Runtime>()
}

/// Parses an `ID` argument that must be a UUID.
fn uuid(field: &str, id: &async_graphql::ID) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::bad_input(field, "This id is not valid: ids are UUIDs."))
}
