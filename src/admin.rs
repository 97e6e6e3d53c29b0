//! Operator commands that act on the auth subgraph's database directly: creating the first
//! admin and rotating signing keys. Events they write wait in the outbox for the running
//! service's relay (it polls), so nothing is published from this short-lived process.

use std::sync::Arc;

use tessera_kit::{CancellationToken, Runtime, bus::Bus, config::Config};

async fn auth_state(config: Config) -> anyhow::Result<tessera_auth::State> {
    let config = Arc::new(config);
    // A private in-process bus: nothing is published from here (see the module comment).
    let bus = Bus::connect(None, &config.redis_namespace).await?;
    let rt = Runtime::open(&tessera_auth::SPEC, config, bus, CancellationToken::new()).await?;
    tessera_auth::State::open(rt).await
}

/// `tessera admin create --email …`: prints the one-time password once.
pub async fn create(config: Config, email: &str) -> anyhow::Result<()> {
    let state = auth_state(config).await?;
    match tessera_auth::bootstrap::create_admin(&state, email).await {
        Ok(Some(password)) => {
            println!("Created the admin {email}.");
            println!("One-time password (shown once; change it at first sign-in): {password}");
            Ok(())
        }
        Ok(None) => {
            println!("{email} already had an account: it now has the admin role.");
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!("{}", e.message)),
    }
}

/// `tessera keys rotate`: a new signing key from now on; old ones stay published until their
/// tokens expire. Running services pick it up within a minute.
pub async fn rotate(config: Config) -> anyhow::Result<()> {
    let state = auth_state(config).await?;
    let kid = state.keys.rotate(&state.rt.db).await?;
    println!("New signing key {kid}. Published keys: {}", state.keys.kids().join(", "));
    Ok(())
}

/// `tessera keys list`: the published key ids, the signing one first.
pub async fn list(config: Config) -> anyhow::Result<()> {
    let state = auth_state(config).await?;
    for kid in state.keys.kids() {
        println!("{kid}");
    }
    Ok(())
}
