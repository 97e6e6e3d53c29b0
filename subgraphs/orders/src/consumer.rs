//! The events the orders subgraph applies.

use crate::store::{keys, orders};
use tessera_kit::{
    bus::{Event, inbox::Handler, outbox},
    db::Tx,
};

pub struct Events;

impl Handler for Events {
    async fn handle(&self, event: &Event, tx: &mut Tx) -> anyhow::Result<()> {
        // Erasure: orders stay for accounting, detached from the person.
        if event.kind == "AccountDeleted" {
            let user = event.user_id()?;
            orders::anonymize(tx, user).await?;
            keys::forget_user(tx, user).await?;
            outbox::forget_published(tx, user).await?;
        }
        Ok(())
    }
}
