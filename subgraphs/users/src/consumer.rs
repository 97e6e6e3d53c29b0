//! The events the users subgraph applies.

use crate::store;
use tessera_kit::{
    bus::{Event, inbox::Handler, outbox},
    db::Tx,
};

pub struct Events;

impl Handler for Events {
    async fn handle(&self, event: &Event, tx: &mut Tx) -> anyhow::Result<()> {
        match event.kind.as_str() {
            // An account that must verify its email first (`pending`) is not public until it
            // has: `user(id)` must not tell a pending sign-up from the same answer that
            // `register` gives for an address that is taken.
            "AccountRegistered" if event.payload["pending"].as_bool() != Some(true) => {
                let display_name = event.payload["username"].as_str();
                store::profiles::create(tx, event.user_id()?, display_name).await?;
            }
            "EmailVerified" => {
                let display_name = event.payload["username"].as_str();
                store::profiles::create(tx, event.user_id()?, display_name).await?;
            }
            // Erasure: the profile, the settings, and the published events that named the user.
            "AccountDeleted" => {
                let user = event.user_id()?;
                store::profiles::delete(tx, user).await?;
                store::preferences::delete(tx, user).await?;
                tessera_kit::erasure::mark_erased(tx, user).await?;
                outbox::forget_published(tx, user).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
