//! The products subgraph's resolvers, one file per area; the roots merge them.

mod admin;
mod listing;
mod product;
mod reservations;

use async_graphql::{Context, MergedObject};
use tessera_kit::Runtime;

pub use product::{Money, Product};

#[derive(MergedObject, Default)]
pub struct Query(product::ProductQuery, listing::ListingQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(admin::AdminMutation, reservations::ReservationMutation);

fn runtime<'a>(ctx: &'a Context<'_>) -> &'a Runtime {
    ctx.data_unchecked::<Runtime>()
}
