//! The notifications subgraph's output types: `Notification`, its links to the `User` and `Order`
//! entities, the delivery log rows admins read, and the connection types.

use async_graphql::{
    Enum, ID, SimpleObject,
    connection::{Connection, EmptyFields},
};
use chrono::{DateTime, TimeZone, Utc};

use crate::store;

/// A reference to the `Order` entity, resolved by the orders subgraph.
#[derive(SimpleObject)]
#[graphql(unresolvable)]
pub struct Order {
    pub id: ID,
}

/// A reference to the `User` entity. The notifications subgraph adds `notifications` to it
/// (see `user.rs`).
pub use super::user::User;

#[derive(SimpleObject)]
pub struct Notification {
    pub id: ID,
    /// What caused it: `WELCOME`, `PASSWORD_RESET`, `ONE_TIME_CODE`, `NEW_DEVICE_SIGN_IN`,
    /// `SESSION_REVOKED`, `PROFILE_UPDATED`, `ORDER_PLACED`, `ORDER_STATUS_CHANGED`, `ANNOUNCEMENT`.
    pub kind: String,
    pub title: String,
    /// The text, with codes and links shown as `[redacted]`: those went by email or SMS only.
    pub body: String,
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub user: User,
    /// The order an order notification is about.
    pub order: Option<Order>,
}

impl From<store::Notification> for Notification {
    fn from(n: store::Notification) -> Self {
        Self {
            id: ID(n.id.to_string()),
            kind: n.kind,
            title: n.title,
            body: n.body,
            read: n.read_at.is_some(),
            read_at: n.read_at,
            created_at: n.created_at,
            user: User { id: n.user_id },
            order: n.order_id.map(|o| Order { id: ID(o.to_string()) }),
        }
    }
}

#[derive(SimpleObject)]
pub struct Total {
    /// How many rows the list holds in all, on every page.
    pub total_count: i64,
}

pub type Notifications = Connection<String, Notification, Total, EmptyFields>;
pub type Deliveries = Connection<String, Delivery, Total, EmptyFields>;

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum NotificationChannel {
    Email,
    Sms,
    InApp,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DeliveryStatus {
    /// Not sent yet, or failed and waiting for its next attempt.
    Pending,
    Sent,
    /// Gave up after the configured attempts: a dead letter.
    Failed,
}

impl DeliveryStatus {
    pub fn key(self) -> &'static str {
        match self {
            Self::Pending => store::deliveries::PENDING,
            Self::Sent => store::deliveries::SENT,
            Self::Failed => store::deliveries::FAILED,
        }
    }
}

/// One message on one channel, as the log keeps it: the preview is redacted, the message itself
/// is not kept once sent.
#[derive(SimpleObject)]
pub struct Delivery {
    pub id: ID,
    pub channel: NotificationChannel,
    pub recipient: String,
    pub subject: String,
    pub preview: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

fn millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl From<store::deliveries::Delivery> for Delivery {
    fn from(d: store::deliveries::Delivery) -> Self {
        let channel = match d.channel.as_str() {
            "EMAIL" => NotificationChannel::Email,
            "SMS" => NotificationChannel::Sms,
            _ => NotificationChannel::InApp,
        };
        let status = match d.status.as_str() {
            store::deliveries::SENT => DeliveryStatus::Sent,
            store::deliveries::FAILED => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        };
        Self {
            id: ID(d.id.to_string()),
            channel,
            recipient: d.recipient,
            subject: d.subject,
            preview: d.preview,
            status,
            attempts: d.attempts,
            last_error: d.last_error,
            created_at: millis(d.created_at),
            sent_at: d.sent_at.map(millis),
        }
    }
}
