//! Preferences and `updatePreferences`. Each change emits `PreferencesChanged` carrying the whole
//! document and its version, so the notifications subgraph's projection can apply it blindly
//! and ignore one that arrives late.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::json;
use tessera_kit::{
    ApiError,
    bus::{Event, outbox},
    identity::{Authenticated, authenticated, require_user},
};
use uuid::Uuid;

use super::runtime;
use crate::{
    domain::preferences::{Channels, ChannelsChange, PreferencesChange, Theme},
    error::UsersError,
    loader::PreferencesLoader,
    store::{self, preferences::Stored},
};

/// How many times a change is re-applied when concurrent changes keep moving the version.
const TRIES: usize = 5;

/// Where one kind of notification goes.
#[derive(SimpleObject, Clone, Copy)]
#[graphql(name = "NotificationChannels")]
pub struct ChannelsView {
    pub email: bool,
    pub sms: bool,
    pub in_app: bool,
}

impl From<Channels> for ChannelsView {
    fn from(c: Channels) -> Self {
        Self { email: c.email, sms: c.sms, in_app: c.in_app }
    }
}

/// A user's settings. `version` is 0 and `updatedAt` null until they first change one.
#[derive(SimpleObject, Clone)]
#[graphql(name = "Preferences")]
pub struct PreferencesView {
    pub order_updates: ChannelsView,
    /// Email and in-app are always on: security alerts cannot be turned off.
    pub security_alerts: ChannelsView,
    pub marketing: ChannelsView,
    pub theme: Theme,
    /// A BCP 47 tag for the interface; null follows the profile's locale.
    pub language: Option<String>,
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl PreferencesView {
    pub async fn load(ctx: &Context<'_>, user_id: Uuid) -> Result<Self, UsersError> {
        let stored = ctx.data_unchecked::<PreferencesLoader>().load_one(user_id).await?;
        Ok(Self::from(stored.unwrap_or_else(|| Stored::defaults(user_id))))
    }
}

impl From<Stored> for PreferencesView {
    fn from(s: Stored) -> Self {
        let r = s.settings.routing;
        Self {
            order_updates: r.order_updates.into(),
            security_alerts: r.security_alerts.into(),
            marketing: r.marketing.into(),
            theme: s.settings.theme,
            language: s.settings.language,
            version: s.version,
            updated_at: s.updated_at,
        }
    }
}

/// A change of one kind's channels; absent fields are left as they are.
#[derive(InputObject, Clone, Copy)]
#[graphql(name = "NotificationChannelsInput")]
pub struct ChannelsInput {
    pub email: Option<bool>,
    pub sms: Option<bool>,
    pub in_app: Option<bool>,
}

impl From<ChannelsInput> for ChannelsChange {
    fn from(c: ChannelsInput) -> Self {
        Self { email: c.email, sms: c.sms, in_app: c.in_app }
    }
}

/// A settings change; absent fields are left as they are (`language: null` clears it).
#[derive(InputObject)]
pub struct UpdatePreferencesInput {
    pub order_updates: Option<ChannelsInput>,
    pub security_alerts: Option<ChannelsInput>,
    pub marketing: Option<ChannelsInput>,
    pub theme: Option<Theme>,
    pub language: MaybeUndefined<String>,
}

#[derive(SimpleObject)]
pub struct UpdatePreferencesPayload {
    pub preferences: PreferencesView,
}

#[derive(Default)]
pub struct PreferencesMutation;

#[Object]
impl PreferencesMutation {
    /// Changes the caller's settings and emits `PreferencesChanged`.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn update_preferences(
        &self,
        ctx: &Context<'_>,
        input: UpdatePreferencesInput,
    ) -> Result<UpdatePreferencesPayload, ApiError> {
        let user_id = require_user(ctx)?.sub;
        let rt = runtime(ctx);
        for _ in 0..TRIES {
            let mut tx = rt.db.begin().await?;
            if tessera_kit::erasure::is_erased(&mut tx, user_id).await? {
                return Err(UsersError::Erased.into());
            }
            let current = store::preferences::current(&mut tx, user_id).await?;
            let change = PreferencesChange {
                theme: input.theme,
                language: match &input.language {
                    MaybeUndefined::Undefined => None,
                    MaybeUndefined::Null => Some(None),
                    MaybeUndefined::Value(s) => Some(Some(s.clone())),
                },
                order_updates: input.order_updates.map(Into::into),
                security_alerts: input.security_alerts.map(Into::into),
                marketing: input.marketing.map(Into::into),
            };
            let next = current.settings.apply(change).map_err(UsersError::from)?;
            // Another update moved the version between our read and write: read it again.
            let Some(version) = store::preferences::write(&mut tx, user_id, current.version, &next).await? else {
                tx.rollback().await?;
                continue;
            };
            let event = json!({
                "userId": user_id,
                "version": version,
                "theme": next.theme.as_str(),
                "language": next.language,
                "channels": next.routing,
            });
            outbox::enqueue(&mut tx, &Event::new("PreferencesChanged", event)).await?;
            tx.commit().await?;
            rt.relay.poke();
            let stored = Stored { user_id, settings: next, version, updated_at: Some(Utc::now()) };
            return Ok(UpdatePreferencesPayload { preferences: stored.into() });
        }
        Err(ApiError::new(
            tessera_kit::ErrorCode::VersionConflict,
            "Your settings are being changed elsewhere at this moment. Try again.",
        ))
    }
}
