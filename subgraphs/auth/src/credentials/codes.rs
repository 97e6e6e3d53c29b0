//! Six-digit one-time codes (email verification, phone verification, step-up): made, stored as
//! a keyed HMAC, checked with an attempt cap per code, and sent within a budget per destination.

use tessera_kit::{ApiError, db::Tx};
use uuid::Uuid;

use crate::{State, domain::secret, error, store};

/// The stored purposes of codes; each binds the code's HMAC, so one purpose's code is worthless
/// for another.
pub const VERIFY_EMAIL: &str = "verify_email";
pub const STEP_UP: &str = "otp:step_up";
pub const VERIFY_PHONE: &str = "otp:verify_phone";

/// Stores a new six-digit code for `purpose` (as an HMAC) and returns it for the event.
pub async fn issue(
    state: &State,
    tx: &mut Tx,
    account: Uuid,
    purpose: &str,
    destination: &str,
    now: i64,
) -> Result<String, ApiError> {
    let code = secret::six_digits();
    let hash = state.code_key.code_hash(&format!("{purpose}:{account}"), &code);
    let expires = now + state.policy().code_seconds;
    store::codes::insert_code(tx, account, purpose, destination, &hash, now, expires).await?;
    Ok(code)
}

/// What one guess at a code found.
pub enum Checked {
    /// Right, and now spent: where the code was sent.
    Right(String),
    /// Wrong, with the guesses this code still allows.
    Wrong(i64),
    /// No live code (none sent, expired, spent, or out of guesses).
    Dead,
}

/// One guess at the live code for `purpose`: counted before it is compared, at most
/// `code_attempts` per code, and a right code works once.
pub async fn attempt(state: &State, account: Uuid, purpose: &str, code: &str) -> Result<Checked, ApiError> {
    let now = store::now();
    let attempts = state.policy().code_attempts;
    let Some(stored) = store::codes::attempt_code(&state.rt.db, account, purpose, now, attempts).await? else {
        return Ok(Checked::Dead);
    };
    let hash = state.code_key.code_hash(&format!("{purpose}:{account}"), code.trim());
    if !secret::same(&hash, &stored.code_hash) {
        return Ok(Checked::Wrong(attempts - stored.attempts));
    }
    let mut tx = state.rt.db.begin().await?;
    if !store::codes::spend_code(&mut tx, stored.id, now).await? {
        return Ok(Checked::Dead);
    }
    tx.commit().await?;
    Ok(Checked::Right(stored.destination))
}

/// [`attempt`], with each outcome but a right code as the error the client sees on `field`.
pub async fn check(state: &State, account: Uuid, purpose: &str, code: &str, field: &str) -> Result<String, ApiError> {
    match attempt(state, account, purpose, code).await? {
        Checked::Right(destination) => Ok(destination),
        Checked::Wrong(left) => Err(ApiError::bad_input(field, format!("This code is wrong. {left} attempt(s) left."))
            .with("attemptsLeft", left)),
        Checked::Dead => Err(error::bad_code(field, "code")),
    }
}

/// One more code to `destination` this hour, or `RATE_LIMITED`.
pub async fn spend_destination_budget(state: &State, destination: &str, now: i64) -> Result<(), ApiError> {
    let sent = store::throttle::hit(&state.rt.db, &format!("codes:{destination}"), 3600, now).await?;
    if sent > state.policy().codes_per_destination_per_hour {
        return Err(error::rate_limited(3600 - now.rem_euclid(3600), "codes sent to this address"));
    }
    Ok(())
}
