//! One-time codes: `requestOtp` and `verifyOtp`. Six digits, ten minutes, single use, five
//! guesses, stored as a keyed HMAC; sends are limited per destination per hour. Each send
//! emits `OtpRequested` for the notifications subgraph to deliver.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::json;
use tessera_kit::{
    ApiError,
    bus::{Event, outbox},
};

use super::{client, me, my_account as account, state, time};
use crate::{
    audit::{self, SecurityEventKind},
    credentials::{codes, second_factor, step_up},
    domain::Phone,
    store,
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OtpPurpose {
    /// Confirm it is really you before a sensitive action.
    StepUp,
    /// Prove you own a phone number; verifying stores it on the account.
    VerifyPhone,
}

impl OtpPurpose {
    fn key(self) -> &'static str {
        match self {
            Self::StepUp => codes::STEP_UP,
            Self::VerifyPhone => codes::VERIFY_PHONE,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OtpChannel {
    Email,
    Sms,
}

#[derive(InputObject)]
pub struct RequestOtpInput {
    pub purpose: OtpPurpose,
    pub channel: OtpChannel,
    /// The phone number to verify (`VERIFY_PHONE` only, E.164 like +14155550123).
    pub destination: Option<String>,
}

#[derive(SimpleObject)]
pub struct RequestOtpPayload {
    /// Where the code went, partly hidden (`a***@example.com`, `+1******0123`).
    pub sent_to: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(InputObject)]
pub struct VerifyOtpInput {
    pub purpose: OtpPurpose,
    pub code: String,
}

#[derive(SimpleObject)]
pub struct VerifyOtpPayload {
    pub verified: bool,
}

#[derive(Default)]
pub struct OtpMutation;

#[Object]
impl OtpMutation {
    /// Sends a one-time code by email or SMS. The previous code for the purpose stops working.
    /// `VERIFY_PHONE` attaches a phone to the account, so it needs a recent proof (step-up).
    async fn request_otp(&self, ctx: &Context<'_>, input: RequestOtpInput) -> Result<RequestOtpPayload, ApiError> {
        let state = state(ctx);
        let (id, sid) = me(ctx)?;
        let account = account(state, id).await?;
        let destination = match (input.purpose, input.channel) {
            (OtpPurpose::VerifyPhone, OtpChannel::Sms) => {
                step_up::require(state, &account, sid).await?;
                Phone::parse(input.destination.as_deref().unwrap_or(""))?.into()
            }
            (OtpPurpose::VerifyPhone, OtpChannel::Email) => {
                return Err(ApiError::bad_input("channel", "A phone number is verified by SMS: use channel SMS."));
            }
            (OtpPurpose::StepUp, OtpChannel::Email) => account.email.clone(),
            (OtpPurpose::StepUp, OtpChannel::Sms) => account.phone.clone().ok_or_else(|| {
                ApiError::bad_input(
                    "channel",
                    "Your account has no verified phone number: use EMAIL, or verify a phone.",
                )
            })?,
        };
        let now = store::now();
        codes::spend_destination_budget(state, &destination, now).await?;
        let mut tx = state.rt.db.begin().await?;
        let code = codes::issue(state, &mut tx, id, input.purpose.key(), &destination, now).await?;
        let channel = if input.channel == OtpChannel::Sms { "SMS" } else { "EMAIL" };
        let purpose = if input.purpose == OtpPurpose::StepUp { "STEP_UP" } else { "VERIFY_PHONE" };
        let payload = json!({
            "userId": id, "purpose": purpose, "channel": channel, "destination": destination,
        });
        let event = Event::new("OtpRequested", payload).with_secret(&state.rt.bus_seal, "code", &code);
        outbox::enqueue(&mut tx, &event).await?;
        audit::record(
            &mut tx,
            Some(id),
            SecurityEventKind::OtpRequested,
            client(ctx),
            format!("{purpose} by {channel}"),
        )
        .await?;
        tx.commit().await?;
        state.rt.relay.poke();
        Ok(RequestOtpPayload { sent_to: mask(&destination), expires_at: time(now + state.policy().code_seconds) })
    }

    /// Checks a one-time code. At most five guesses per code; a right code works once. A
    /// `STEP_UP` code is a proof of the user (as `reauthenticate`), and its guesses spend the
    /// account's second-factor budget; `VERIFY_PHONE` needs a recent proof.
    async fn verify_otp(&self, ctx: &Context<'_>, input: VerifyOtpInput) -> Result<VerifyOtpPayload, ApiError> {
        let state = state(ctx);
        let (id, sid) = me(ctx)?;
        let account = account(state, id).await?;
        let destination = match input.purpose {
            OtpPurpose::VerifyPhone => {
                step_up::require(state, &account, sid).await?;
                codes::check(state, id, input.purpose.key(), &input.code, "code").await?
            }
            OtpPurpose::StepUp => {
                let mut sent_to = String::new();
                let check = async {
                    match codes::attempt(state, id, codes::STEP_UP, &input.code).await? {
                        codes::Checked::Right(destination) => {
                            sent_to = destination;
                            Ok(true)
                        }
                        _ => Ok(false),
                    }
                };
                if !second_factor::budgeted(state, &account, client(ctx), check).await? {
                    return Err(crate::error::bad_code("code", "code"));
                }
                step_up::prove(state, sid, "otp").await?;
                sent_to
            }
        };
        let mut tx = state.rt.db.begin().await?;
        if input.purpose == OtpPurpose::VerifyPhone {
            store::accounts::set_phone(&mut tx, id, &destination).await?;
            // Notifications keeps the number to send the SMS the user chose (security alerts…).
            let payload = json!({ "userId": id, "phone": destination });
            outbox::enqueue(&mut tx, &Event::new("PhoneVerified", payload)).await?;
        }
        audit::record(&mut tx, Some(id), SecurityEventKind::OtpVerified, client(ctx), input.purpose.key()).await?;
        tx.commit().await?;
        state.rt.relay.poke();
        Ok(VerifyOtpPayload { verified: true })
    }
}

/// Hides most of an address: enough for the user to recognise it, not for others to learn it.
fn mask(destination: &str) -> String {
    match destination.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => {
            let chars: Vec<char> = destination.chars().collect();
            let keep = chars.len().saturating_sub(4);
            chars.iter().enumerate().map(|(i, c)| if i < 2 || i >= keep { *c } else { '*' }).collect()
        }
    }
}
