//! The events the notifications subgraph applies. The delivery consumers (welcome emails, codes,
//! alerts) arrive with the notifications issue; erasure is here already because deleting an
//! account must reach every store that holds the person.

use crate::store;
use tessera_kit::{
    bus::{Event, inbox::Handler, outbox},
    db::Tx,
};

pub struct Events;

impl Handler for Events {
    async fn handle(&self, event: &Event, tx: &mut Tx) -> anyhow::Result<()> {
        if event.kind == "AccountDeleted" {
            let user = event.user_id()?;
            store::delete_for(tx, user).await?;
            outbox::forget_published(tx, user).await?;
        }
        Ok(())
    }
}
