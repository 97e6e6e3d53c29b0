//! Step-up: a sensitive change (second factors, phone, password, deletion) needs a recent proof
//! of the user on this very session, not only a valid access token. A stolen token is worth
//! little: it cannot enroll the thief's authenticator, attach the thief's phone or delete the
//! account. The proof is the session's `auth_time` (set at sign-in, refreshed by
//! `reauthenticate`), and counts for `identity.step_up_seconds`.

use tessera_kit::{ApiError, ErrorCode};
use uuid::Uuid;

use crate::{
    State,
    store::{self, Account},
};

/// Refuses with `STEP_UP_REQUIRED` unless the session proved the user recently. The extensions
/// say what `reauthenticate` will accept, so a front end can ask for the right thing.
pub async fn require(state: &State, account: &Account, session: Uuid) -> Result<(), ApiError> {
    let session = store::sessions::get(&state.rt.db, session)
        .await?
        .filter(|s| s.account_id == account.id && s.revoked_at.is_none())
        .ok_or_else(|| ApiError::unauthenticated("This session has ended. Sign in again."))?;
    let max_age = state.policy().step_up_seconds;
    // Whole seconds: strictly less, so a proof never outlives `max_age` by rounding.
    if store::now() - session.auth_time < max_age {
        return Ok(());
    }
    let methods: Vec<async_graphql::Value> =
        if account.mfa_enabled { vec!["TOTP".into(), "RECOVERY_CODE".into()] } else { vec!["PASSWORD".into()] };
    Err(ApiError::new(
        ErrorCode::StepUpRequired,
        format!(
            "For this change, confirm it is you: call `reauthenticate` with your {}, then try again.",
            if account.mfa_enabled { "authenticator code" } else { "password" }
        ),
    )
    .with("methods", methods)
    .with("maxAgeSeconds", max_age))
}

/// Records a fresh proof on the session.
pub async fn prove(state: &State, session: Uuid, amr: &str) -> Result<i64, ApiError> {
    let now = store::now();
    if !store::sessions::prove(&state.rt.db, session, now, amr).await? {
        return Err(ApiError::unauthenticated("This session has ended. Sign in again."));
    }
    Ok(now + state.policy().step_up_seconds)
}
