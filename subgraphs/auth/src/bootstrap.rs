//! The first admin: `tessera admin create --email …`, or `TESSERA_IDENTITY__BOOTSTRAP_ADMIN_EMAIL`
//! at start. The account gets a random one-time password, printed once (never logged, never
//! stored but as its hash), and a verified email, since an operator vouched for it.

use tessera_kit::ApiError;
use uuid::Uuid;

use crate::{
    State,
    audit::{self, SecurityEventKind},
    domain::{Email, secret},
    store,
};

/// Creates an admin account for `email`, or grants admin to the account that has it, if that
/// account verified the address (else anyone could pre-register `root@…` and wait to be made
/// admin). Returns the one-time password when an account was created.
pub async fn create_admin(state: &State, email: &str) -> Result<Option<String>, ApiError> {
    let email = Email::parse(email)?;
    let db = &state.rt.db;
    let client = tessera_kit::client::ClientInfo::default();
    if let Some(existing) = store::accounts::by_identifier(db, &email).await?.filter(|a| a.email == *email) {
        if !existing.email_verified || existing.deleted_at.is_some() || existing.disabled {
            return Err(ApiError::new(
                tessera_kit::ErrorCode::Conflict,
                format!(
                    "An account has the email {email} but has not verified it, so it may not belong to its owner. \
                     Verify it first (sign in and use the emailed code), or make another address the admin."
                ),
            ));
        }
        let mut tx = db.begin().await?;
        if store::accounts::add_role(&mut tx, existing.id, "admin").await? {
            audit::record(&mut tx, Some(existing.id), SecurityEventKind::RoleAssigned, &client, "admin (bootstrap)")
                .await?;
        }
        tx.commit().await?;
        return Ok(None);
    }
    let password = secret::token();
    let admission = state.hasher.admit().map_err(|_| crate::error::busy())?;
    let hash = state.hasher.hash(admission, password.clone()).await.map_err(ApiError::internal)?;
    let id = Uuid::now_v7();
    let username = free_username(state, &email).await?;
    let mut tx = db.begin().await?;
    store::accounts::insert(&mut tx, id, &email, &username, &hash).await?;
    store::accounts::set_email_verified(&mut tx, id).await?;
    store::accounts::add_role(&mut tx, id, "admin").await?;
    audit::record(&mut tx, Some(id), SecurityEventKind::Registered, &client, "bootstrap admin").await?;
    let payload = serde_json::json!({ "userId": id, "username": username, "email": email });
    tessera_kit::bus::outbox::enqueue(&mut tx, &tessera_kit::bus::Event::new("AccountRegistered", payload)).await?;
    tx.commit().await?;
    state.rt.relay.poke();
    Ok(Some(password))
}

/// A username made from the email's local part, with a suffix if it is taken.
async fn free_username(state: &State, email: &str) -> Result<String, ApiError> {
    let local: String = email
        .split('@')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_.-".contains(*c))
        .take(24)
        .collect();
    let base = if local.len() < 3 { format!("admin{local}") } else { local };
    for n in 0..20 {
        let candidate = if n == 0 { base.clone() } else { format!("{base}{}", &secret::six_digits()[..4]) };
        if store::accounts::by_identifier(&state.rt.db, &candidate).await?.is_none() {
            return Ok(candidate);
        }
    }
    Err(ApiError::new(tessera_kit::ErrorCode::Conflict, "Could not find a free username for the admin."))
}

/// At start: create the configured admin if no admin exists yet.
pub async fn admin_from_config(state: &State) -> anyhow::Result<()> {
    let Some(email) = state.policy().bootstrap_admin_email.clone() else { return Ok(()) };
    if store::accounts::admin_exists(&state.rt.db).await? {
        return Ok(());
    }
    match create_admin(state, &email).await {
        Ok(Some(password)) => {
            // Printed, not logged: log pipelines keep lines forever.
            println!("\n  Created the admin {email}. One-time password (change it now): {password}\n");
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot create the bootstrap admin: {}", e.message)),
    }
}
