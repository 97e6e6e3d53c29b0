//! Where messages leave the system: email (SMTP, or `.eml` files in development) and SMS (a
//! provider behind a trait: an HTTP webhook, or a development log). In-app pushes go through the
//! bus and need no channel object.

pub mod email;
pub mod sms;

pub use email::Mailer;
pub use sms::{SmsProvider, sms_provider};
