//! The events the users subgraph applies.

use tessera_kit::{
    bus::{Event, inbox::Handler, outbox},
    db::Tx,
};
use uuid::Uuid;

use crate::store;

pub struct Events;

impl Handler for Events {
    async fn handle(&self, event: &Event, tx: &mut Tx) -> anyhow::Result<()> {
        match event.kind.as_str() {
            "AccountRegistered" => {
                let display_name = event.payload["username"].as_str();
                store::profiles::create(tx, user_id(event)?, display_name).await?;
            }
            // Erasure: the profile, the settings, and the published events that named the user.
            "AccountDeleted" => {
                let user = user_id(event)?;
                store::profiles::delete(tx, user).await?;
                store::preferences::delete(tx, user).await?;
                store::erased::mark(tx, user).await?;
                outbox::forget_published(tx, user).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

fn user_id(event: &Event) -> anyhow::Result<Uuid> {
    Ok(serde_json::from_value(event.payload["userId"].clone())?)
}
