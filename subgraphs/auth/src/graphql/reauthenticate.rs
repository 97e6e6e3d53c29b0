//! `reauthenticate`: a fresh proof of the user on the current session, which sensitive changes
//! need (see `credentials::step_up`). With MFA on, the proof is a second factor (the password
//! alone is what a phished or reused password gives away); without, the password or a
//! `STEP_UP` one-time code from `requestOtp`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tessera_kit::ApiError;

use super::{client, me, my_account as account, state, time};
use crate::{
    audit::{self, SecurityEventKind},
    credentials::{codes, password, second_factor, step_up},
};

#[derive(InputObject)]
pub struct ReauthenticateInput {
    /// The account password (accounts without two-factor sign-in).
    pub password: Option<String>,
    /// With two-factor sign-in on: a code from the authenticator app or a recovery code.
    /// Without: a `STEP_UP` code from `requestOtp`.
    pub code: Option<String>,
}

#[derive(SimpleObject)]
pub struct ReauthenticatePayload {
    /// Until when sensitive changes are allowed on this session without proving again.
    pub step_up_until: DateTime<Utc>,
}

#[derive(Default)]
pub struct ReauthenticateMutation;

#[Object]
impl ReauthenticateMutation {
    /// Proves again that the caller is the account's owner, for the sensitive changes that
    /// answer `STEP_UP_REQUIRED` (second factors, phone, password, deletion).
    async fn reauthenticate(
        &self,
        ctx: &Context<'_>,
        input: ReauthenticateInput,
    ) -> Result<ReauthenticatePayload, ApiError> {
        let state = state(ctx);
        let client = client(ctx);
        let (id, sid) = me(ctx)?;
        let account = account(state, id).await?;
        let code = input.code.as_deref().map(str::trim).filter(|c| !c.is_empty());
        let password = input.password.as_deref().filter(|p| !p.is_empty());
        let amr = match (account.mfa_enabled, code, password) {
            (true, Some(code), _) => {
                if !second_factor::verify(state, &account, code, client).await? {
                    return Err(second_factor::wrong("code"));
                }
                "mfa"
            }
            (true, None, _) => {
                return Err(ApiError::bad_input(
                    "code",
                    "This account uses two-factor sign-in: send a code from your authenticator app, or a recovery code.",
                ));
            }
            (false, _, Some(password)) => {
                password::confirm(state, client, &account, password).await?;
                "pwd"
            }
            (false, Some(code), None) => {
                let check = async {
                    Ok(matches!(codes::attempt(state, id, codes::STEP_UP, code).await?, codes::Checked::Right(_)))
                };
                if !second_factor::budgeted(state, &account, client, check).await? {
                    return Err(crate::error::bad_code("code", "code"));
                }
                "otp"
            }
            (false, None, None) => {
                return Err(ApiError::bad_input("password", "Enter your password, or a code from `requestOtp`."));
            }
        };
        let until = step_up::prove(state, sid, amr).await?;
        audit::record_alone(&state.rt.db, Some(id), SecurityEventKind::Reauthenticated, client, amr).await?;
        Ok(ReauthenticatePayload { step_up_until: time(until) })
    }
}
