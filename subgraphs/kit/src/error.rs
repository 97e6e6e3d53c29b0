//! The error codes every client sees, and the one place internals are logged and hidden.
//!
//! Each subgraph keeps its own error enum (`src/error.rs`), and converts each variant to a
//! [`ApiError`] here. That way the wire format (message + `extensions.code` + `extensions.field`)
//! is written once.

use async_graphql::ErrorExtensions;
use serde::Serialize;

/// The stable codes of DESIGN.md. Apollo Client users switch on `error.extensions.code`,
/// so these strings are a public contract: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    BadUserInput,
    Unauthenticated,
    Forbidden,
    Conflict,
    NotFound,
    AccountLocked,
    RateLimited,
    VersionConflict,
    OutOfStock,
    /// A sensitive change needs a recent proof of the user: call `reauthenticate`, then retry.
    StepUpRequired,
    /// A service this one depends on is down; `extensions.retryAfterSeconds` says when to retry.
    ServiceUnavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::Conflict => "CONFLICT",
            Self::NotFound => "NOT_FOUND",
            Self::AccountLocked => "ACCOUNT_LOCKED",
            Self::RateLimited => "RATE_LIMITED",
            Self::VersionConflict => "VERSION_CONFLICT",
            Self::OutOfStock => "OUT_OF_STOCK",
            Self::StepUpRequired => "STEP_UP_REQUIRED",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as a client sees it. Build it with the constructors; [`ApiError::internal`] is the
/// only way to carry a cause, and the cause is logged, never sent.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    pub extra: Vec<(&'static str, async_graphql::Value)>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None, extra: Vec::new() }
    }

    /// A bad input field: the message says what a valid value looks like.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: Some(field.into()), ..Self::new(ErrorCode::BadUserInput, message) }
    }

    /// Several bad input fields in one answer: `field` names the first, `fields` lists each with
    /// its own message, so a form can mark them all at once.
    pub fn bad_fields(problems: &[(String, String)]) -> Self {
        let Some((first, only)) = problems.first() else {
            return Self::new(ErrorCode::BadUserInput, "The input is not valid.");
        };
        let message = if problems.len() == 1 {
            only.clone()
        } else {
            let each: Vec<String> = problems.iter().map(|(f, m)| format!("{f}: {m}")).collect();
            format!("{} fields need fixing. {}", problems.len(), each.join(" "))
        };
        let list: Vec<async_graphql::Value> = problems
            .iter()
            .map(|(f, m)| {
                let mut entry = async_graphql::indexmap::IndexMap::new();
                entry.insert(async_graphql::Name::new("field"), async_graphql::Value::from(f.as_str()));
                entry.insert(async_graphql::Name::new("message"), async_graphql::Value::from(m.as_str()));
                async_graphql::Value::Object(entry)
            })
            .collect();
        Self::bad_input(first.clone(), message).with("fields", list)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// `VERSION_CONFLICT` for an optimistic-locking miss on `what` ("profile", "product"), with
    /// `extensions.currentVersion` so the client can reload and retry against it.
    pub fn version_conflict(what: &str, current: i64) -> Self {
        Self::new(
            ErrorCode::VersionConflict,
            format!(
                "Someone changed this {what} first (it is now at version {current}). \
                 Reload it, reapply your change and send it with expectedVersion {current}."
            ),
        )
        .with("currentVersion", current)
    }

    /// Logs `cause` with its whole chain and returns an error that reveals nothing of it.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let cause = cause.into();
        tracing::error!(error = format!("{cause:#}"), "internal error");
        Self::new(
            ErrorCode::Internal,
            "Something went wrong on our side. Try again; if it keeps happening, report the request id.",
        )
    }

    /// Adds an extension beside `code` (for example the current version on a version conflict).
    pub fn with(mut self, key: &'static str, value: impl Into<async_graphql::Value>) -> Self {
        self.extra.push((key, value.into()));
        self
    }
}

// No `Display`/`Error` impls on purpose: async-graphql's blanket `From<T: Display>` would then
// turn an `ApiError` into a plain message and lose its code.
impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        async_graphql::Error::new(e.message).extend_with(|_, ext| {
            ext.set("code", e.code.as_str());
            if let Some(field) = &e.field {
                ext.set("field", field.as_str());
            }
            for (key, value) in &e.extra {
                ext.set(*key, value.clone());
            }
        })
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}

/// Parses an `ID` argument that must be a UUID; otherwise `BAD_USER_INPUT` naming `field`.
pub fn parse_uuid(field: &str, id: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(id).map_err(|_| ApiError::bad_input(field, "This id is not valid: ids are UUIDs."))
}

/// True when a database error is a unique-constraint violation, on either backend.
/// Subgraphs turn these into `CONFLICT` with a message naming the field.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_hides_its_cause_from_the_client() {
        let err: async_graphql::Error = ApiError::internal(anyhow::anyhow!("password=hunter2 leaked")).into();
        assert!(!err.message.contains("hunter2"));
        let ext = serde_json::to_value(err.extensions).expect("extensions serialize");
        assert_eq!(ext["code"], "INTERNAL");
    }

    #[test]
    fn a_bad_input_error_names_its_field() {
        let err: async_graphql::Error =
            ApiError::bad_input("email", "Enter an email address like name@example.com.").into();
        let ext = serde_json::to_value(err.extensions).expect("extensions serialize");
        assert_eq!(ext["code"], "BAD_USER_INPUT");
        assert_eq!(ext["field"], "email");
    }
}
