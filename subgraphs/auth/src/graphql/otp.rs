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

use super::{
    client, me,
    register::{check_code, new_code, spend_destination_budget},
    state, time,
};
use crate::{
    audit::{self, SecurityEventKind},
    rules, store,
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
            Self::StepUp => "otp:step_up",
            Self::VerifyPhone => "otp:verify_phone",
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
    async fn request_otp(&self, ctx: &Context<'_>, input: RequestOtpInput) -> Result<RequestOtpPayload, ApiError> {
        let state = state(ctx);
        let (id, _) = me(ctx)?;
        let account =
            store::accounts::by_id(&state.rt.db, id).await?.ok_or_else(|| ApiError::not_found("No such account."))?;
        let destination = match (input.purpose, input.channel) {
            (OtpPurpose::VerifyPhone, OtpChannel::Sms) => {
                rules::normalize_phone(input.destination.as_deref().unwrap_or(""))?
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
        spend_destination_budget(state, &destination, now).await?;
        let mut tx = state.rt.db.begin().await?;
        let code = new_code(state, &mut tx, id, input.purpose.key(), &destination, now).await?;
        let channel = if input.channel == OtpChannel::Sms { "SMS" } else { "EMAIL" };
        let purpose = if input.purpose == OtpPurpose::StepUp { "STEP_UP" } else { "VERIFY_PHONE" };
        let payload = json!({
            "userId": id, "purpose": purpose, "channel": channel, "destination": destination, "code": code,
        });
        outbox::enqueue(&mut tx, &Event::new("OtpRequested", payload)).await?;
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

    /// Checks a one-time code. At most five guesses per code; a right code works once.
    async fn verify_otp(&self, ctx: &Context<'_>, input: VerifyOtpInput) -> Result<VerifyOtpPayload, ApiError> {
        let state = state(ctx);
        let (id, _) = me(ctx)?;
        let destination = check_code(state, id, input.purpose.key(), &input.code, "code").await?;
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
