//! Queues a message on its channels inside the transaction of the event (or mutation) that
//! causes it: the in-app notification, and one delivery row per channel. The worker sends them
//! after the commit, so a message exists if and only if its cause committed, and survives a crash.

use chrono::Utc;
use tessera_kit::{db::Tx, seal::Sealer};
use uuid::Uuid;

use crate::{
    message::Message,
    store::{
        Notification,
        deliveries::{self, Delivery, PENDING},
        notifications,
    },
};

/// Where one copy of a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    InApp,
    Email(String),
    Sms(String),
}

impl Target {
    pub fn channel(&self) -> &'static str {
        match self {
            Self::InApp => "IN_APP",
            Self::Email(_) => "EMAIL",
            Self::Sms(_) => "SMS",
        }
    }
}

/// The message as sealed in a delivery row: what the worker needs to send it.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Sealed {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What [`queue`] wrote.
#[derive(Debug, Default)]
pub struct Queued {
    pub notification: Option<Notification>,
    pub deliveries: Vec<Uuid>,
}

/// Writes `message` for `user` (None: a raw recipient, no in-app copy) to every target.
pub async fn queue(
    tx: &mut Tx,
    sealer: &Sealer,
    user: Option<Uuid>,
    message: &Message,
    targets: &[Target],
) -> Result<Queued, sqlx::Error> {
    let now = Utc::now();
    let mut queued = Queued::default();
    for target in targets {
        let id = Uuid::now_v7();
        let (recipient, notification_id, sealed) = match (target, user) {
            (Target::InApp, Some(user)) => {
                let n = Notification {
                    id: Uuid::now_v7(),
                    user_id: user,
                    kind: message.kind.clone(),
                    title: message.subject.clone(),
                    body: message.preview.clone(),
                    read_at: None,
                    created_at: now,
                    order_id: message.order_id,
                };
                notifications::insert(tx, &n).await?;
                let nid = n.id;
                queued.notification = Some(n);
                (user.to_string(), Some(nid), None)
            }
            (Target::InApp, None) => continue,
            (Target::Email(to) | Target::Sms(to), _) => {
                let plain = Sealed {
                    to: to.clone(),
                    subject: message.subject.clone(),
                    text: message.text.clone(),
                    html: message.html.clone(),
                };
                let json = serde_json::to_vec(&plain).expect("a message serializes");
                (to.clone(), None, Some(sealer.seal(id.as_bytes(), &json)))
            }
        };
        let delivery = Delivery {
            id,
            user_id: user,
            notification_id,
            channel: target.channel().to_owned(),
            recipient,
            subject: message.subject.clone(),
            preview: message.preview.clone(),
            sealed,
            status: PENDING.to_owned(),
            attempts: 0,
            next_attempt_at: now.timestamp_millis(),
            last_error: None,
            created_at: now.timestamp_millis(),
            sent_at: None,
        };
        deliveries::insert(tx, &delivery).await?;
        queued.deliveries.push(id);
    }
    Ok(queued)
}
