//! Credential services: the checks that several resolvers share (a password, a second factor, a
//! one-time code, a recent proof). They live below the resolvers, so no resolver file imports
//! another.

pub mod argon;
pub mod codes;
pub mod hasher;
pub mod password;
pub mod second_factor;
pub mod step_up;

use tessera_kit::ApiError;

use crate::{State, error, store::Account};

/// Whether this account may sign in at all, whatever the credentials.
pub fn admissible(state: &State, account: &Account) -> Result<(), ApiError> {
    if account.disabled || account.deleted_at.is_some() {
        return Err(ApiError::forbidden("This account has been disabled. Contact support."));
    }
    if account.admin_locked {
        return Err(error::locked(None));
    }
    if state.policy().require_verified_email && !account.email_verified {
        return Err(ApiError::forbidden("Verify your email address first: use the code we sent you.")
            .with("reason", "EMAIL_NOT_VERIFIED"));
    }
    Ok(())
}
