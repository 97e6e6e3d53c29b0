//! The profile and `updateProfile`, with optimistic locking on its version.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::json;
use tessera_kit::{
    ApiError,
    bus::{Event, outbox},
    identity::{Authenticated, authenticated, require_user},
};

use super::{User, runtime};
use crate::{
    domain::{
        Problems,
        profile::{ProfileChange, RawProfile},
    },
    error::UsersError,
    store::{self, Profile},
};

/// A user's profile. `version` is 0 and `updatedAt` null until it is first saved.
#[derive(SimpleObject, Clone)]
#[graphql(name = "Profile")]
pub struct ProfileView {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    /// A BCP 47 language tag, such as `en-GB`.
    pub locale: Option<String>,
    /// An IANA time zone, such as `Europe/Paris`.
    pub timezone: Option<String>,
    /// Send it back as `expectedVersion` when updating.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl ProfileView {
    pub fn of(profile: Option<Profile>) -> Self {
        match profile {
            None => Self {
                display_name: None,
                bio: None,
                avatar_url: None,
                locale: None,
                timezone: None,
                version: 0,
                updated_at: None,
            },
            Some(p) => Self {
                display_name: p.display_name,
                bio: p.bio,
                avatar_url: p.avatar_url,
                locale: p.locale,
                timezone: p.timezone,
                version: p.version,
                updated_at: Some(p.updated_at),
            },
        }
    }
}

/// A profile change. An absent field is left as it is; `null` clears it.
#[derive(InputObject)]
pub struct UpdateProfileInput {
    /// The `version` the change was made against; 0 for a profile never saved.
    pub expected_version: i64,
    /// 1 to 64 characters.
    pub display_name: MaybeUndefined<String>,
    /// At most 500 characters.
    pub bio: MaybeUndefined<String>,
    /// An https:// URL.
    pub avatar_url: MaybeUndefined<String>,
    /// A BCP 47 tag whose subtags are registered (`en`, `en-GB`, `zh-Hant-TW`).
    pub locale: MaybeUndefined<String>,
    /// An IANA zone (`Europe/Paris`).
    pub timezone: MaybeUndefined<String>,
}

fn raw(v: MaybeUndefined<String>) -> Option<Option<String>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(s) => Some(Some(s)),
    }
}

#[derive(SimpleObject)]
pub struct UpdateProfilePayload {
    pub profile: ProfileView,
    pub user: User,
}

#[derive(Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// Changes the caller's profile if it is still at `expectedVersion`; otherwise answers
    /// `VERSION_CONFLICT` with `extensions.currentVersion`. Bad fields answer `BAD_USER_INPUT`,
    /// all of them named in `extensions.fields`.
    #[graphql(directive = authenticated::apply(), guard = "Authenticated")]
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> Result<UpdateProfilePayload, ApiError> {
        let user_id = require_user(ctx)?.sub;
        let expected = input.expected_version;
        let change = ProfileChange::parse(RawProfile {
            display_name: raw(input.display_name),
            bio: raw(input.bio),
            avatar_url: raw(input.avatar_url),
            locale: raw(input.locale),
            timezone: raw(input.timezone),
        })
        .map_err(UsersError::from)?;
        let mut problems = Problems::default();
        if expected < 0 {
            problems.add("expectedVersion", "Versions start at 0: send the version you read.");
        }
        if change.touched().is_empty() {
            problems.add("input", "Send at least one field to change.");
        }
        if !problems.is_empty() {
            return Err(UsersError::from(problems).into());
        }
        let rt = runtime(ctx);
        let mut tx = rt.db.begin().await?;
        if tessera_kit::erasure::is_erased(&mut tx, user_id).await? {
            return Err(UsersError::Erased.into());
        }
        let Some(saved) = store::profiles::update(&mut tx, user_id, expected, &change).await? else {
            let current = store::profiles::version(&mut tx, user_id).await?;
            tx.rollback().await?;
            return Err(UsersError::VersionConflict { current }.into());
        };
        let event = json!({ "userId": user_id, "version": saved.version, "fields": change.touched() });
        outbox::enqueue(&mut tx, &Event::new("ProfileUpdated", event)).await?;
        tx.commit().await?;
        rt.relay.poke();
        let user = User { id: user_id, profile: Some(saved.clone()) };
        Ok(UpdateProfilePayload { profile: ProfileView::of(Some(saved)), user })
    }
}
