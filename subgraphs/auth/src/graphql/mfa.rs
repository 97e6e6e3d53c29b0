//! TOTP enrolment, confirmation and removal, and recovery codes. Each is a sensitive change:
//! it needs a recent proof of the user (step-up), not only an access token, or a stolen token
//! could enroll the thief's authenticator and lock the owner out.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use tessera_kit::ApiError;
use uuid::Uuid;

use super::{client, me, my_account as account, state};
use crate::{
    State,
    audit::{self, SecurityEventKind},
    credentials::{
        password,
        second_factor::{recovery_hash, totp_ok},
        step_up,
    },
    domain::{secret, totp},
    store, vault,
};

const RECOVERY_CODES: usize = 10;

#[derive(SimpleObject)]
pub struct TotpEnrollment {
    /// Scan this `otpauth://` URI (as a QR code) in an authenticator app.
    pub otpauth_uri: String,
    /// The same secret, base32, for typing in by hand.
    pub secret: String,
}

#[derive(InputObject)]
pub struct ConfirmTotpInput {
    /// A current code from the authenticator app, proving it was set up.
    pub code: String,
}

#[derive(SimpleObject)]
pub struct ConfirmTotpPayload {
    /// Ten single-use codes for when the authenticator is lost. Shown once: store them safely.
    pub recovery_codes: Vec<String>,
}

#[derive(InputObject)]
pub struct DisableTotpInput {
    /// The account password: a stolen session alone cannot turn MFA off.
    pub password: String,
}

#[derive(SimpleObject)]
pub struct DisableTotpPayload {
    pub mfa_enabled: bool,
}

#[derive(Default)]
pub struct MfaMutation;

#[Object]
impl MfaMutation {
    /// Starts TOTP set-up. MFA is on only after `confirmTotp`. Needs a recent sign-in or
    /// `reauthenticate` (`STEP_UP_REQUIRED` otherwise).
    async fn enroll_totp(&self, ctx: &Context<'_>) -> Result<TotpEnrollment, ApiError> {
        let state = state(ctx);
        let (id, sid) = me(ctx)?;
        let account = account(state, id).await?;
        step_up::require(state, &account, sid).await?;
        if account.mfa_enabled {
            return Err(ApiError::new(tessera_kit::ErrorCode::Conflict, "MFA is already on. Disable it first."));
        }
        let secret = totp::new_secret();
        let (otpauth_uri, base32) =
            totp::enrollment(&secret, &state.policy().totp_issuer, &account.email).map_err(ApiError::internal)?;
        let mut tx = state.rt.db.begin().await?;
        store::accounts::set_totp(&mut tx, id, Some(&vault::seal_totp(&state.vault, id, &secret))).await?;
        tx.commit().await?;
        Ok(TotpEnrollment { otpauth_uri, secret: base32 })
    }

    /// Turns MFA on with a code from the newly set-up app, and returns the recovery codes.
    /// Needs a recent proof (step-up).
    async fn confirm_totp(&self, ctx: &Context<'_>, input: ConfirmTotpInput) -> Result<ConfirmTotpPayload, ApiError> {
        let state = state(ctx);
        let (id, sid) = me(ctx)?;
        step_up::require(state, &account(state, id).await?, sid).await?;
        let Some((Some(stored), false)) = store::accounts::totp(&state.rt.db, id).await? else {
            return Err(ApiError::bad_input("code", "Start with `enrollTotp`; MFA is not being set up."));
        };
        let secret = vault::open_totp(&state.vault, id, &stored).map_err(ApiError::internal)?;
        // Not on the second-factor budget: the caller was just shown this secret, so a guess
        // here learns nothing, and a lock would only stop the owner finishing set-up.
        if !totp_ok(state, id, &secret, &input.code).await? {
            return Err(ApiError::bad_input(
                "code",
                "This code is wrong. Check the app's clock and use the current code.",
            ));
        }
        let codes = new_recovery_codes(state, id);
        let mut tx = state.rt.db.begin().await?;
        // Only the flag: the confirming code's step, claimed above, stays spent.
        store::accounts::enable_mfa(&mut tx, id).await?;
        store::codes::replace_recovery(&mut tx, id, &codes.1).await?;
        audit::record(&mut tx, Some(id), SecurityEventKind::MfaEnabled, client(ctx), "totp").await?;
        tx.commit().await?;
        Ok(ConfirmTotpPayload { recovery_codes: codes.0 })
    }

    /// Replaces the recovery codes with ten new ones (the old ones stop working). Needs MFA on
    /// and a recent proof (step-up).
    async fn regenerate_recovery_codes(&self, ctx: &Context<'_>) -> Result<ConfirmTotpPayload, ApiError> {
        let state = state(ctx);
        let (id, sid) = me(ctx)?;
        let account = account(state, id).await?;
        step_up::require(state, &account, sid).await?;
        if !account.mfa_enabled {
            return Err(ApiError::bad_input("mfa", "Two-factor sign-in is off: there are no recovery codes."));
        }
        let codes = new_recovery_codes(state, id);
        let mut tx = state.rt.db.begin().await?;
        store::codes::replace_recovery(&mut tx, id, &codes.1).await?;
        audit::record(&mut tx, Some(id), SecurityEventKind::MfaEnabled, client(ctx), "new recovery codes").await?;
        tx.commit().await?;
        Ok(ConfirmTotpPayload { recovery_codes: codes.0 })
    }

    /// Turns MFA off. Needs the password and a recent proof (step-up: with MFA on, that is an
    /// authenticator or recovery code).
    async fn disable_totp(&self, ctx: &Context<'_>, input: DisableTotpInput) -> Result<DisableTotpPayload, ApiError> {
        let state = state(ctx);
        let (id, sid) = me(ctx)?;
        let account = account(state, id).await?;
        step_up::require(state, &account, sid).await?;
        password::confirm(state, client(ctx), &account, &input.password).await?;
        let mut tx = state.rt.db.begin().await?;
        store::accounts::set_totp(&mut tx, id, None).await?;
        store::codes::replace_recovery(&mut tx, id, &[]).await?;
        audit::record(&mut tx, Some(id), SecurityEventKind::MfaDisabled, client(ctx), "").await?;
        tx.commit().await?;
        Ok(DisableTotpPayload { mfa_enabled: false })
    }
}

/// Ten recovery codes, and their stored forms.
fn new_recovery_codes(state: &State, id: Uuid) -> (Vec<String>, Vec<Vec<u8>>) {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| secret::recovery_code()).collect();
    let hashes = codes.iter().map(|c| recovery_hash(state, id, c)).collect();
    (codes, hashes)
}
