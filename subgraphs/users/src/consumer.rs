//! The events the users subgraph applies.

use tessera_kit::{
    bus::{Event, inbox::Handler},
    db::Tx,
};
use uuid::Uuid;

use crate::store;

pub struct Events;

impl Handler for Events {
    async fn handle(&self, event: &Event, tx: &mut Tx) -> anyhow::Result<()> {
        if event.kind == "AccountRegistered" {
            let user_id: Uuid = serde_json::from_value(event.payload["userId"].clone())?;
            let display_name = event.payload["username"].as_str();
            store::create_profile(tx, user_id, display_name).await?;
        }
        Ok(())
    }
}
