//! TOTP enrolment, confirmation and removal, recovery codes, and the second-factor check that
//! `verifyMfa` uses.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use tessera_kit::{ApiError, client::ClientInfo};
use uuid::Uuid;

use super::{client, login::check_password, me, state};
use crate::{
    State,
    audit::{self, SecurityEventKind},
    secret, store, totp,
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
    /// Starts TOTP set-up. MFA is on only after `confirmTotp`.
    async fn enroll_totp(&self, ctx: &Context<'_>) -> Result<TotpEnrollment, ApiError> {
        let state = state(ctx);
        let (id, _) = me(ctx)?;
        let account = account(state, id).await?;
        if account.mfa_enabled {
            return Err(ApiError::new(tessera_kit::ErrorCode::Conflict, "MFA is already on. Disable it first."));
        }
        let secret = totp::new_secret();
        let (otpauth_uri, base32) =
            totp::enrollment(&secret, &state.policy().totp_issuer, &account.email).map_err(ApiError::internal)?;
        let mut tx = state.rt.db.begin().await?;
        store::accounts::set_totp(&mut tx, id, Some(&secret)).await?;
        tx.commit().await?;
        Ok(TotpEnrollment { otpauth_uri, secret: base32 })
    }

    /// Turns MFA on with a code from the newly set-up app, and returns the recovery codes.
    async fn confirm_totp(&self, ctx: &Context<'_>, input: ConfirmTotpInput) -> Result<ConfirmTotpPayload, ApiError> {
        let state = state(ctx);
        let (id, _) = me(ctx)?;
        let Some((Some(secret), false)) = store::accounts::totp(&state.rt.db, id).await? else {
            return Err(ApiError::bad_input("code", "Start with `enrollTotp`; MFA is not being set up."));
        };
        if !totp_ok(state, id, &secret, &input.code).await? {
            return Err(ApiError::bad_input(
                "code",
                "This code is wrong. Check the app's clock and use the current code.",
            ));
        }
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| secret::recovery_code()).collect();
        let hashes: Vec<Vec<u8>> = codes.iter().map(|c| recovery_hash(state, id, c)).collect();
        let mut tx = state.rt.db.begin().await?;
        // Only the flag: the confirming code's step, claimed above, stays spent.
        store::accounts::enable_mfa(&mut tx, id).await?;
        store::codes::replace_recovery(&mut tx, id, &hashes).await?;
        audit::record(&mut tx, Some(id), SecurityEventKind::MfaEnabled, client(ctx), "totp").await?;
        tx.commit().await?;
        Ok(ConfirmTotpPayload { recovery_codes: codes })
    }

    /// Turns MFA off. Needs the password.
    async fn disable_totp(&self, ctx: &Context<'_>, input: DisableTotpInput) -> Result<DisableTotpPayload, ApiError> {
        let state = state(ctx);
        let (id, _) = me(ctx)?;
        let account = account(state, id).await?;
        check_password(state, client(ctx), &account.username, &input.password, true).await?;
        let mut tx = state.rt.db.begin().await?;
        store::accounts::set_totp(&mut tx, id, None).await?;
        store::codes::replace_recovery(&mut tx, id, &[]).await?;
        audit::record(&mut tx, Some(id), SecurityEventKind::MfaDisabled, client(ctx), "").await?;
        tx.commit().await?;
        Ok(DisableTotpPayload { mfa_enabled: false })
    }
}

async fn account(state: &State, id: Uuid) -> Result<store::Account, ApiError> {
    store::accounts::by_id(&state.rt.db, id).await?.ok_or_else(|| ApiError::not_found("No such account."))
}

fn unix_now() -> u64 {
    u64::try_from(store::now()).unwrap_or_default()
}

/// A TOTP code, accepted once: its time step must be later than any accepted before.
async fn totp_ok(state: &State, id: Uuid, secret: &[u8], code: &str) -> Result<bool, ApiError> {
    match totp::matching_step(secret, code.trim(), unix_now()) {
        Some(step) => Ok(store::accounts::claim_totp_step(&state.rt.db, id, step).await?),
        None => Ok(false),
    }
}

fn recovery_hash(state: &State, id: Uuid, code: &str) -> Vec<u8> {
    let mut clean: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
    if clean.len() == 10 {
        clean.insert(5, '-');
    }
    state.code_key.code_hash(&format!("recovery:{id}"), &clean)
}

/// Checks a second factor: a TOTP code (six digits, never twice) or an unused recovery code.
pub async fn second_factor(state: &State, id: Uuid, code: &str, client: &ClientInfo) -> Result<bool, ApiError> {
    let code = code.trim();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let Some((Some(secret), true)) = store::accounts::totp(&state.rt.db, id).await? else { return Ok(false) };
        return totp_ok(state, id, &secret, code).await;
    }
    let used = store::codes::spend_recovery(&state.rt.db, id, &recovery_hash(state, id, code), store::now()).await?;
    if used {
        let left = store::codes::recovery_left(&state.rt.db, id).await?;
        audit::record_alone(
            &state.rt.db,
            Some(id),
            SecurityEventKind::RecoveryCodeUsed,
            client,
            format!("{left} left"),
        )
        .await?;
    }
    Ok(used)
}
