//! `register`. With email verification required (the production profile), the answer for an
//! email that already has an account is the same as for a new one, in content and in time (the
//! password is hashed either way), and the address's owner is told by email instead: sign-up
//! cannot be used to learn who has an account. Usernames are public, so a taken one says so.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::json;
use tessera_kit::{
    ApiError, ErrorCode,
    bus::{Event, outbox},
    client::ClientInfo,
    error::is_unique_violation,
};
use uuid::Uuid;

use super::{User, client, state};
use crate::{
    State,
    audit::{self, SecurityEventKind},
    credentials::codes::{self, VERIFY_EMAIL},
    domain::{Email, NewPassword, Username},
    error,
    store::{self, Account},
    tokens,
};

#[derive(InputObject)]
pub struct RegisterInput {
    /// The sign-in email; a verification code is sent to it.
    pub email: String,
    /// 3–32 characters: lower-case letters, digits, `_`, `.` or `-`.
    pub username: String,
    /// 12 to 128 characters, not easy to guess, without your username or email.
    pub password: String,
}

#[derive(SimpleObject)]
pub struct RegisterPayload {
    pub user: User,
    /// Whether the email must be verified (`verifyEmail`) before signing in.
    pub verification_required: bool,
    /// Tokens for the new account, unless verification is required first.
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct RegisterMutation;

#[Object]
impl RegisterMutation {
    /// Creates an account. Emits `AccountRegistered` with a six-digit email-verification code.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<RegisterPayload, ApiError> {
        let state = state(ctx);
        let client = client(ctx);
        let email = Email::parse(&input.email)?;
        let username = Username::parse(&input.username)?;
        let password = NewPassword::parse(&input.password, "password", &username, &email)?.into_inner();
        let now = store::now();
        let limit = state.policy().registrations_per_ip_per_hour;
        if store::throttle::hit(&state.rt.db, &format!("register:{}", client.network()), 3600, now).await? > limit {
            return Err(error::rate_limited(3600 - now.rem_euclid(3600), "sign-ups from your network"));
        }
        let verification_required = state.policy().require_verified_email;
        let (email_taken, username_taken) = store::accounts::taken(&state.rt.db, &email, &username).await?;
        if username_taken {
            return Err(conflict("username", "username"));
        }
        if email_taken && !verification_required {
            // The answer would carry tokens for a new account, so it cannot pretend.
            return Err(conflict("email", "email address"));
        }
        let admission = state.hasher.admit().map_err(|_| error::busy())?;
        let hash = state.hasher.hash(admission, password).await.map_err(ApiError::internal)?;
        let account = new_account(Uuid::now_v7(), &email, &username, &hash);
        if email_taken {
            notify_owner(state, client, &email).await?;
            return Ok(RegisterPayload::pending(account));
        }

        let id = account.id;
        let mut tx = state.rt.db.begin().await?;
        if let Err(e) = store::accounts::insert(&mut tx, id, &email, &username, &hash).await {
            // A parallel registration took the email or username between our check and insert.
            return Err(if is_unique_violation(&e) {
                conflict("email", "email address or username")
            } else {
                e.into()
            });
        }
        let code = codes::issue(state, &mut tx, id, VERIFY_EMAIL, &email, now).await?;
        // `pending`: not public until the email is verified (`EmailVerified` follows).
        let payload = json!({ "userId": id, "username": username, "email": email, "pending": verification_required });
        let event = Event::new("AccountRegistered", payload).with_secret(&state.rt.bus_seal, "verificationCode", &code);
        outbox::enqueue(&mut tx, &event).await?;
        audit::record(&mut tx, Some(id), SecurityEventKind::Registered, client, "").await?;
        tokens::remember_device(&mut tx, id, client, now).await?;
        if verification_required {
            tx.commit().await?;
            state.rt.relay.poke();
            return Ok(RegisterPayload::pending(account));
        }
        let (signed_in, _) =
            tokens::start_session(state, &mut tx, &account, vec!["customer".into()], client, "pwd").await?;
        tx.commit().await?;
        state.rt.relay.poke();
        Ok(RegisterPayload {
            user: User::from_account(account),
            verification_required,
            access_token: Some(signed_in.access_token),
            refresh_token: Some(signed_in.refresh_token),
            expires_at: Some(signed_in.expires_at),
        })
    }
}

impl RegisterPayload {
    /// An account waiting for its email to be verified: no tokens yet.
    fn pending(account: Account) -> Self {
        Self {
            user: User::from_account(account),
            verification_required: true,
            access_token: None,
            refresh_token: None,
            expires_at: None,
        }
    }
}

/// Someone tried to register with an address that has an account: tell its owner (within the
/// per-destination budget, so this cannot be used to flood their inbox).
async fn notify_owner(state: &State, client: &ClientInfo, email: &str) -> Result<(), ApiError> {
    let Some(owner) = store::accounts::by_identifier(&state.rt.db, email).await? else { return Ok(()) };
    let now = store::now();
    if codes::spend_destination_budget(state, email, now).await.is_err() {
        return Ok(());
    }
    let mut tx = state.rt.db.begin().await?;
    let payload = json!({ "userId": owner.id, "email": owner.email, "username": owner.username });
    outbox::enqueue(&mut tx, &Event::new("RegistrationAttempted", payload)).await?;
    audit::record(&mut tx, Some(owner.id), SecurityEventKind::RegistrationAttempted, client, "").await?;
    tx.commit().await?;
    state.rt.relay.poke();
    Ok(())
}

fn conflict(field: &str, what: &str) -> ApiError {
    ApiError::new(ErrorCode::Conflict, format!("An account with this {what} already exists. Sign in instead."))
        .with("field", field.to_owned())
}

fn new_account(id: Uuid, email: &str, username: &str, hash: &str) -> Account {
    Account {
        id,
        email: email.to_owned(),
        username: username.to_owned(),
        password_hash: hash.to_owned(),
        email_verified: false,
        admin_locked: false,
        disabled: false,
        phone: None,
        mfa_enabled: false,
        created_at: Utc::now(),
        deleted_at: None,
    }
}
