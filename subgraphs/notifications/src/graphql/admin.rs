//! Admin tools: `sendNotification` (one message to a user or to a raw address or number, the
//! seeds' sendEmail and sendSMS) and `deliveries`, the delivery log where dead letters show.

use async_graphql::{
    Context, ID, InputObject, Object, SimpleObject,
    connection::{Connection, Edge},
};
use tessera_kit::{ApiError, Runtime, error::parse_uuid, identity::RequireScopes, paging::Page};
use uuid::Uuid;

use super::types::{Deliveries, Delivery, DeliveryStatus, Notification, NotificationChannel, Total};
use crate::{
    State,
    message::Message,
    outgoing::{self, Target},
    routing::{self, Kind},
    store::{
        deliveries,
        recipients::{self, Recipient},
    },
};

const SUBJECT_MAX: usize = 200;
const MESSAGE_MAX: usize = 5_000;

#[derive(InputObject)]
pub struct SendNotificationInput {
    /// The user to write to. Give this or `recipient`.
    pub user_id: Option<ID>,
    /// A raw email address (EMAIL) or phone number in E.164 form, like +33612345678 (SMS).
    pub recipient: Option<String>,
    pub channel: NotificationChannel,
    pub subject: String,
    pub message: String,
    /// A marketing message goes only to users who opted in to marketing on this channel.
    #[graphql(default = false)]
    pub marketing: bool,
}

#[derive(SimpleObject)]
pub struct SendNotificationPayload {
    /// The queued delivery; null when the user's preferences suppressed the message.
    pub delivery: Option<Delivery>,
    /// The in-app notification (IN_APP only).
    pub notification: Option<Notification>,
    /// True when a marketing message was not sent because the user has not opted in.
    pub suppressed: bool,
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Sends one message now (queued and delivered like any other: retried, logged). Admins only.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn send_notification(
        &self,
        ctx: &Context<'_>,
        input: SendNotificationInput,
    ) -> Result<SendNotificationPayload, ApiError> {
        let state = ctx.data_unchecked::<State>();
        let (user, target, who) = check(state, &input).await?;
        if input.marketing && user.is_some() {
            let chosen = routing::chosen(&who, Kind::Marketing);
            let allowed = match input.channel {
                NotificationChannel::Email => chosen.email,
                NotificationChannel::Sms => chosen.sms,
                NotificationChannel::InApp => chosen.in_app,
            };
            if !allowed {
                return Ok(SendNotificationPayload { delivery: None, notification: None, suppressed: true });
            }
        }
        let message = Message::direct(input.subject.trim(), input.message.trim());
        let mut tx = state.rt.db.begin().await?;
        let queued = outgoing::queue(&mut tx, &state.sealer, user, &message, &[target]).await?;
        tx.commit().await?;
        state.dispatcher.poke();
        let id = *queued.deliveries.first().ok_or_else(|| ApiError::internal(anyhow::anyhow!("nothing queued")))?;
        let delivery = deliveries::by_id(&state.rt.db, id).await?.map(Delivery::from);
        Ok(SendNotificationPayload { delivery, notification: queued.notification.map(Into::into), suppressed: false })
    }
}

/// Validates the input and names every bad field at once; returns the user, where to send, and
/// what the projection knows of the user (defaults for a raw recipient).
async fn check(state: &State, input: &SendNotificationInput) -> Result<(Option<Uuid>, Target, Recipient), ApiError> {
    let mut problems: Vec<(String, String)> = Vec::new();
    let mut bad = |field: &str, msg: &str| problems.push((field.to_owned(), msg.to_owned()));
    let subject = input.subject.trim();
    if subject.is_empty() || subject.chars().count() > SUBJECT_MAX || subject.chars().any(char::is_control) {
        bad("subject", "Write a subject of 1 to 200 characters on one line.");
    }
    let message = input.message.trim();
    if message.is_empty()
        || message.chars().count() > MESSAGE_MAX
        || message.chars().any(|c| c.is_control() && c != '\n')
    {
        bad("message", "Write a message of 1 to 5000 characters.");
    }
    let user = match &input.user_id {
        Some(id) => match parse_uuid("userId", id) {
            Ok(u) => Some(u),
            Err(_) => {
                bad("userId", "Not a user id.");
                None
            }
        },
        None => None,
    };
    let who = match user {
        Some(user) => {
            let mut tx = state.rt.db.begin().await?;
            let who = recipients::get(&mut tx, user).await?;
            tx.rollback().await?;
            who.unwrap_or_default()
        }
        None => Recipient::default(),
    };
    let raw = input.recipient.as_deref().map(str::trim);
    let target = match (input.user_id.is_some(), raw, input.channel) {
        (true, Some(_), _) | (false, None, _) => {
            bad("recipient", "Give either a userId or a recipient, not both.");
            None
        }
        (false, Some(_), NotificationChannel::InApp) => {
            bad("channel", "In-app messages go to a user: give a userId.");
            None
        }
        (false, Some(to), NotificationChannel::Email) if to.parse::<lettre::Address>().is_err() => {
            bad("recipient", "Give an email address, like ada@example.com.");
            None
        }
        (false, Some(to), NotificationChannel::Sms) if !is_phone(to) => {
            bad("recipient", "Give a phone number in international form, like +33612345678.");
            None
        }
        (false, Some(to), NotificationChannel::Email) => Some(Target::Email(to.to_owned())),
        (false, Some(to), _) => Some(Target::Sms(to.to_owned())),
        (true, None, NotificationChannel::InApp) => Some(Target::InApp),
        (true, None, _) if user.is_none() => None,
        (true, None, channel) => match (channel, &who.email, &who.phone) {
            (NotificationChannel::Email, Some(email), _) => Some(Target::Email(email.clone())),
            (NotificationChannel::Email, None, _) => {
                bad("userId", "This user has no known email address yet.");
                None
            }
            (_, _, Some(phone)) => Some(Target::Sms(phone.clone())),
            (_, _, None) => {
                bad("channel", "This user has not verified a phone number: use EMAIL or IN_APP.");
                None
            }
        },
    };
    match target {
        Some(target) if problems.is_empty() => Ok((user, target, who)),
        _ => Err(ApiError::bad_fields(&problems)),
    }
}

/// E.164: a plus, then 8 to 15 digits, the first not zero.
fn is_phone(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or("");
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// The delivery log in one status, newest first. `FAILED` lists the dead letters. Admins only.
    #[graphql(requires_scopes = "admin", guard = "RequireScopes(&[\"admin\"])")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        status: DeliveryStatus,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Deliveries, ApiError> {
        let page = Page::parse(first, after.as_deref(), "deliveries")?;
        let db = &ctx.data_unchecked::<Runtime>().db;
        let mut rows = deliveries::page(db, status.key(), page.after, page.fetch()).await?;
        let has_next = rows.len() > page.first;
        rows.truncate(page.first);
        let total_count = deliveries::count(db, status.key()).await?;
        let mut connection = Connection::with_additional_fields(page.after.is_some(), has_next, Total { total_count });
        connection.edges.extend(rows.into_iter().map(|d| Edge::new(d.id.to_string(), Delivery::from(d))));
        Ok(connection)
    }
}
