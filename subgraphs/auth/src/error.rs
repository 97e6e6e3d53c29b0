//! The auth subgraph's errors beyond the kit's constructors. Resolvers return
//! [`tessera_kit::ApiError`]; these build the ones with auth-specific wording or extensions.

use tessera_kit::{ApiError, ErrorCode};

/// The one answer to a failed sign-in, whatever failed: the same message, code and extensions
/// for an unknown identifier and a wrong password, so the answer reveals nothing.
pub fn bad_credentials() -> ApiError {
    ApiError::unauthenticated("The email, username or password is not right.")
}

/// Locked by too many failures (or by an admin), with when to try again if known.
pub fn locked(retry_after: Option<i64>) -> ApiError {
    match retry_after {
        Some(seconds) => {
            let minutes = (seconds + 59) / 60;
            ApiError::new(
                ErrorCode::AccountLocked,
                format!("Too many failed attempts. Try again in {minutes} minute(s), or reset your password."),
            )
            .with("retryAfterSeconds", seconds)
        }
        None => ApiError::new(ErrorCode::AccountLocked, "This account is locked. Contact support to unlock it."),
    }
}

/// A budget is spent (per IP, per account or per destination).
pub fn rate_limited(retry_after: i64, what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        format!("Too many {what}. Try again in {} minute(s).", (retry_after + 59) / 60),
    )
    .with("retryAfterSeconds", retry_after.max(1))
}

/// More attempts on one budget are being checked right now than it allows. Not a lock: none is
/// stored, and the attempts being checked decide whether one will be. Told apart from a lock so
/// that someone whose own parallel sign-ins overlap is asked to retry, not told to reset their
/// password.
pub fn attempts_in_progress() -> ApiError {
    ApiError::new(ErrorCode::RateLimited, "Other attempts for this account are being checked. Try again in a second.")
        .with("retryAfterSeconds", 1)
}

/// Every password-hash slot and queue place is taken.
pub fn busy() -> ApiError {
    ApiError::new(ErrorCode::RateLimited, "The service is busy signing people in. Try again in a second.")
        .with("retryAfterSeconds", 1)
}

/// A wrong, expired or spent one-time code, reset token or MFA code.
pub fn bad_code(field: &str, what: &str) -> ApiError {
    ApiError::bad_input(field, format!("This {what} is wrong, expired or already used. Request a new one."))
}
