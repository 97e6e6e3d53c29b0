//! Who is calling: the verified claims in the GraphQL context, and the guards that enforce
//! `@authenticated` and `@requiresScopes` inside subgraphs (the router enforces them first; a
//! request that bypasses the router must gain nothing).

use std::sync::Arc;

use async_graphql::{Context, Guard};

use crate::error::ApiError;
use crate::jwt::Claims;

/// The caller of one request or websocket connection.
#[derive(Debug, Clone, Default)]
pub enum Viewer {
    #[default]
    Anonymous,
    User(Arc<Claims>),
    /// Another service, with a client-credentials token. It is nobody's user: `claims()` is
    /// `None` for it, so every user check refuses it, and only [`RequireService`] admits it.
    Service(Arc<Claims>),
}

impl Viewer {
    pub fn from_claims(claims: Claims) -> Self {
        if claims.client_id.is_some() { Viewer::Service(Arc::new(claims)) } else { Viewer::User(Arc::new(claims)) }
    }

    /// The claims of a signed-in user (not of a service).
    pub fn claims(&self) -> Option<&Claims> {
        match self {
            Viewer::User(c) => Some(c),
            Viewer::Anonymous | Viewer::Service(_) => None,
        }
    }

    /// Whether the caller is a signed-in user with the `admin` role.
    pub fn is_admin(&self) -> bool {
        self.claims().is_some_and(|c| c.has_scope("admin"))
    }
}

/// The caller of the current resolver.
pub fn viewer<'a>(ctx: &'a Context<'_>) -> &'a Viewer {
    static ANONYMOUS: Viewer = Viewer::Anonymous;
    ctx.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
}

/// The caller's claims, or `UNAUTHENTICATED` (`FORBIDDEN` for a service: it is no user).
pub fn require_user<'a>(ctx: &'a Context<'_>) -> Result<&'a Claims, ApiError> {
    match viewer(ctx) {
        Viewer::User(claims) => Ok(claims),
        Viewer::Service(_) => Err(ApiError::forbidden("A service token cannot act for a user: sign in as one.")),
        Viewer::Anonymous => Err(ApiError::unauthenticated("Sign in to do this: send a valid access token.")),
    }
}

/// The calling service's claims when its token carries `scope`, else `FORBIDDEN`: no user
/// token, not even an admin's, passes, however its scopes read.
pub fn require_service<'a>(ctx: &'a Context<'_>, scope: &str) -> Result<&'a Claims, ApiError> {
    match viewer(ctx) {
        Viewer::Service(claims) if claims.has_scope(scope) => Ok(claims),
        _ => Err(ApiError::forbidden(format!(
            "This operation is for services only: call it with a client-credentials token with scope `{scope}`."
        ))),
    }
}

/// The caller's claims when they are `owner` or an admin, else `FORBIDDEN` (`UNAUTHENTICATED` for
/// an anonymous caller). For private fields of another user's entity: the router only knows the
/// field needs a signed-in caller, the owner check happens here, per field.
pub fn require_self_or_admin<'a>(ctx: &'a Context<'_>, owner: uuid::Uuid) -> Result<&'a Claims, ApiError> {
    let claims = require_user(ctx)?;
    if claims.sub == owner || claims.has_scope("admin") {
        Ok(claims)
    } else {
        Err(ApiError::forbidden("Only this user and admins can read this field."))
    }
}

/// The caller's claims when they are `owner` (admins excluded: an export or an erasure is the
/// user's own act), else `FORBIDDEN`.
pub fn require_self<'a>(ctx: &'a Context<'_>, owner: uuid::Uuid) -> Result<&'a Claims, ApiError> {
    let claims = require_user(ctx)?;
    if claims.sub == owner { Ok(claims) } else { Err(ApiError::forbidden("Only this user can do this.")) }
}

/// Parses an id argument naming a user and requires the caller to be that user: the guard of the
/// `DataExport` entity's resolvers in every subgraph.
pub fn require_self_id(ctx: &Context<'_>, field: &str, id: &async_graphql::ID) -> Result<uuid::Uuid, ApiError> {
    let owner = crate::error::parse_uuid(field, id)?;
    require_self(ctx, owner)?;
    Ok(owner)
}

// Marks a field or type `@authenticated` in the exported SDL. Pair it with [`Authenticated`].
// The kit's SDL export imports it from the federation spec (see `crate::sdl`). A plain comment,
// not a doc comment: a doc comment would be exported as the description of a definition that
// the export removes.
#[async_graphql::TypeDirective(location = "FieldDefinition", location = "Object")]
pub fn authenticated() {}

/// Guard for `@authenticated` fields.
pub struct Authenticated;

impl Guard for Authenticated {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        require_user(ctx).map(|_| ()).map_err(Into::into)
    }
}

/// Guard for fields that only services call (stock reservations): see [`require_service`].
pub struct RequireService(pub &'static str);

impl Guard for RequireService {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        require_service(ctx, self.0).map(|_| ()).map_err(Into::into)
    }
}

/// Guard for `@requiresScopes(scopes: [[...]])`: the caller needs every listed scope.
/// Pair with the field's `requires_scopes` attribute so the SDL says the same.
pub struct RequireScopes(pub &'static [&'static str]);

impl Guard for RequireScopes {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let claims = require_user(ctx)?;
        match self.0.iter().find(|s| !claims.has_scope(s)) {
            None => Ok(()),
            Some(missing) => {
                Err(ApiError::forbidden(format!("This needs the `{missing}` role, which your account does not have."))
                    .into())
            }
        }
    }
}
