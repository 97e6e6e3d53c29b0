//! Every refusal and failure the router itself produces, with its stable `extensions.code` and
//! its HTTP status. Transports render from here: no code string is typed anywhere else in the
//! router, and no status is guessed from a code's text. (Errors that subgraphs send are passed
//! through as they came, tagged with their `serviceName`.)

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

mod refusal;

pub use refusal::{GRAPHQL_RESPONSE_JSON, REFUSALS, Refusal};

#[derive(Debug, Clone, PartialEq)]
pub enum RouterError {
    /// The request itself is unusable (no query, bad JSON, bad parameters).
    BadRequest(String),
    /// A POST whose body is not JSON.
    UnsupportedMediaType,
    /// A mutation or subscription sent with GET.
    MethodNotAllowed,
    /// A simple request a cross-site page could have sent.
    CsrfPrevention,
    /// The request's headers are larger than `router.limits.max_header_bytes`.
    HeadersTooLarge {
        bytes: usize,
        limit: usize,
    },
    /// The access token does not verify (the reason is the verifier's, safe to show).
    InvalidToken(String),
    /// The token's session was signed out.
    SessionRevoked,
    /// A per-IP or per-user budget is spent.
    RateLimited {
        retry_after: Duration,
    },
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
    PersistedQueryHashMismatch,
    PersistedQueryNeedsHash,
    ParseFailed(String),
    ValidationFailed {
        message: String,
        locations: Vec<(usize, usize)>,
    },
    MaxTokens,
    /// Nested deeper than the parser follows.
    MaxParseDepth,
    MaxDepth {
        depth: usize,
        limit: usize,
    },
    MaxAliases {
        aliases: usize,
        limit: usize,
    },
    MaxRootFields {
        roots: usize,
        limit: usize,
    },
    MaxDirectives {
        directives: usize,
        limit: usize,
    },
    /// A deferred fragment's place in the response was gone by the time its execution came
    /// back (the data changed between the executions).
    DeferredFragmentLost,
    /// A batch with no operation, or more than `router.limits.max_batch_size`.
    BatchSize {
        size: usize,
        limit: usize,
    },
    /// `@defer` directives in one document, each of which costs an execution.
    MaxDefers {
        defers: usize,
        limit: usize,
    },
    /// What the operation would expand to once its fragments are inlined.
    MaxSelections {
        limit: usize,
    },
    /// Pairs of fields sharing a response name, which validation compares one by one.
    MaxFieldPairs {
        limit: usize,
    },
    /// The subgraphs' answers to one request would take more than the configured bytes.
    MaxResponseSize {
        limit: usize,
    },
    /// A variable's value does not fit its declared type.
    BadVariable {
        name: String,
        why: String,
    },
    /// A field that needs a signed-in caller, asked anonymously, at its response path.
    FieldNeedsSignIn {
        what: String,
        path: Vec<String>,
    },
    /// A field that needs a role the caller lacks, at its response path.
    FieldForbidden {
        what: String,
        path: Vec<String>,
    },
    IntrospectionDisabled,
    QueryPlanningFailed,
    SubgraphUnavailable {
        service: String,
        reason: String,
    },
    /// The subgraph refused the credentials a subscription was opened with.
    SubgraphRefusedCredentials,
    /// A non-null field came back null with nothing else explaining it.
    NullInNonNull {
        type_name: String,
        field: String,
    },
    /// A subgraph answered a leaf value the client schema does not have (an `@inaccessible`
    /// enum value, say): it is nulled, as the spec's leaf completion requires.
    InvalidLeafValue {
        type_name: String,
        field: String,
    },
    OperationNotSupported(&'static str),
    SubscriptionNeedsTransport,
    SubscriptionLimit {
        max: usize,
    },
    /// A subscription's credential ran out while it was open.
    TokenExpired,
    /// The router itself failed (a panic in a parser, say); the details are logged.
    Internal,
}

impl RouterError {
    /// The stable `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_)
            | Self::UnsupportedMediaType
            | Self::MethodNotAllowed
            | Self::PersistedQueryNeedsHash
            | Self::BadVariable { .. } => "BAD_USER_INPUT",
            Self::CsrfPrevention => "CSRF_PREVENTION",
            Self::HeadersTooLarge { .. } => "MAX_HEADERS_SIZE_EXCEEDED",
            Self::InvalidToken(_)
            | Self::SessionRevoked
            | Self::FieldNeedsSignIn { .. }
            | Self::SubgraphRefusedCredentials
            | Self::TokenExpired => "UNAUTHENTICATED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryNotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            Self::PersistedQueryHashMismatch => "PERSISTED_QUERY_HASH_MISMATCH",
            Self::ParseFailed(_) => "GRAPHQL_PARSE_FAILED",
            Self::ValidationFailed { .. } => "GRAPHQL_VALIDATION_FAILED",
            Self::MaxTokens => "MAX_TOKENS_EXCEEDED",
            Self::MaxParseDepth | Self::MaxDepth { .. } => "MAX_DEPTH_EXCEEDED",
            Self::MaxAliases { .. } => "MAX_ALIASES_EXCEEDED",
            Self::MaxRootFields { .. } => "MAX_ROOT_FIELDS_EXCEEDED",
            Self::MaxDirectives { .. } => "MAX_DIRECTIVES_EXCEEDED",
            Self::MaxDefers { .. } => "MAX_DEFERS_EXCEEDED",
            Self::BatchSize { .. } => "BATCH_SIZE_EXCEEDED",
            Self::DeferredFragmentLost => "DEFERRED_FRAGMENT_LOST",
            Self::MaxSelections { .. } => "MAX_SELECTIONS_EXCEEDED",
            Self::MaxFieldPairs { .. } => "MAX_FIELD_PAIRS_EXCEEDED",
            Self::MaxResponseSize { .. } => "MAX_RESPONSE_SIZE_EXCEEDED",
            Self::FieldForbidden { .. } => "FORBIDDEN",
            Self::IntrospectionDisabled => "INTROSPECTION_DISABLED",
            Self::QueryPlanningFailed => "QUERY_PLANNING_FAILED",
            Self::SubgraphUnavailable { .. } => "SUBGRAPH_UNAVAILABLE",
            Self::NullInNonNull { .. } | Self::Internal => "INTERNAL",
            Self::InvalidLeafValue { .. } => "RESPONSE_VALIDATION_FAILED",
            Self::OperationNotSupported(_) => "OPERATION_NOT_SUPPORTED",
            Self::SubscriptionNeedsTransport => "SUBSCRIPTION_NEEDS_WEBSOCKET",
            Self::SubscriptionLimit { .. } => "SUBSCRIPTION_LIMIT",
        }
    }

    /// The status of a response that this error refuses on its own. `modern` is a client that
    /// accepts `application/graphql-response+json`: for it, a request that fails before
    /// execution is a 400 (GraphQL over HTTP); legacy JSON clients get 200 with errors.
    pub fn status(&self, modern: bool) -> StatusCode {
        match self {
            Self::BadRequest(_)
            | Self::CsrfPrevention
            | Self::MaxTokens
            | Self::MaxParseDepth
            | Self::MaxDepth { .. }
            | Self::MaxAliases { .. }
            | Self::MaxRootFields { .. }
            | Self::MaxDirectives { .. }
            | Self::MaxDefers { .. }
            | Self::BatchSize { .. }
            | Self::MaxSelections { .. }
            | Self::MaxFieldPairs { .. }
            | Self::SubscriptionNeedsTransport => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::InvalidToken(_) | Self::SessionRevoked | Self::TokenExpired => StatusCode::UNAUTHORIZED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            // Failures before execution, in the request's document or variables.
            Self::ParseFailed(_)
            | Self::ValidationFailed { .. }
            | Self::BadVariable { .. }
            | Self::FieldNeedsSignIn { .. }
            | Self::FieldForbidden { .. }
            | Self::IntrospectionDisabled
            | Self::QueryPlanningFailed
                if modern =>
            {
                StatusCode::BAD_REQUEST
            }
            // Persisted-query misses stay 200 for every client, as Apollo's routers answer them:
            // Apollo Client's persisted-query link reads the code and retries with the query.
            _ => StatusCode::OK,
        }
    }

    /// A message a person can act on. Internal details are never in it.
    pub fn message(&self) -> String {
        match self {
            Self::BadRequest(why) => why.clone(),
            Self::UnsupportedMediaType => "Send the request as JSON (`Content-Type: application/json`).".into(),
            Self::MethodNotAllowed => "Only queries may be sent with GET; use POST.".into(),
            Self::CsrfPrevention => "This request could have been sent by a cross-site page, so it was not run. Send it \
                                     with `Content-Type: application/json`, or add an `apollo-require-preflight: true` \
                                     header."
                .into(),
            Self::HeadersTooLarge { bytes, limit } => {
                format!("The request's headers take {bytes} bytes; the limit is {limit}.")
            }
            Self::InvalidToken(why) => format!("{why} Sign in again."),
            Self::SessionRevoked => "This session was signed out. Sign in again.".into(),
            Self::TokenExpired => "The access token expired. Sign in again, or refresh it, and resubscribe.".into(),
            Self::RateLimited { retry_after } => {
                format!("Too many requests. Try again in {} s.", retry_seconds(*retry_after))
            }
            Self::PersistedQueryNotFound => "PersistedQueryNotFound".into(),
            Self::PersistedQueryNotSupported => "Only version 1 of persisted queries is supported.".into(),
            Self::PersistedQueryHashMismatch => "The query does not match its `sha256Hash`.".into(),
            Self::PersistedQueryNeedsHash => "`persistedQuery` needs a `sha256Hash`.".into(),
            Self::ParseFailed(why) => why.clone(),
            Self::ValidationFailed { message, .. } => message.clone(),
            Self::MaxTokens => "The operation is too long (too many tokens).".into(),
            Self::MaxParseDepth => "The operation is nested too deeply to parse.".into(),
            Self::MaxDepth { depth, limit } => format!("The operation is {depth} levels deep; the limit is {limit}."),
            Self::MaxAliases { aliases, limit } => {
                format!("The operation uses {aliases} aliases; the limit is {limit}.")
            }
            Self::MaxRootFields { roots, limit } => {
                format!("The operation selects {roots} root fields; the limit is {limit}.")
            }
            Self::MaxDirectives { directives, limit } => {
                format!("The operation uses {directives} directives; the limit is {limit}.")
            }
            Self::DeferredFragmentLost => "This deferred fragment's data changed while it was fetched, so it could \
                                            not be delivered. Run the operation again."
                .into(),
            Self::BatchSize { size: 0, .. } => "The batch is empty: send at least one request.".into(),
            Self::BatchSize { limit: 0, .. } => "This router does not take batched requests: send one request per POST.".into(),
            Self::BatchSize { size, limit } => {
                format!("The batch holds {size} requests; the limit is {limit}. Send it in smaller batches.")
            }
            Self::MaxDefers { defers, limit } => format!(
                "The operation defers {defers} fragments; the limit is {limit}. Each deferred fragment is \
                 executed on its own, so defer fewer, larger fragments."
            ),
            Self::MaxSelections { limit } => format!(
                "With its fragments spread out, the operation would select more than {limit} fields. Select fewer \
                 fields, or spread each fragment fewer times."
            ),
            Self::MaxFieldPairs { limit } => format!(
                "The operation repeats response names so often that checking them would compare more than {limit} \
                 pairs of fields. Select each field once, or give repeated fields distinct aliases."
            ),
            Self::MaxResponseSize { limit } => format!(
                "The answer to this operation is larger than the router allows ({limit} bytes). Select fewer fields or \
                 fewer items."
            ),
            Self::BadVariable { name, why } => format!("Variable `${name}` got an invalid value: {why}."),
            Self::FieldNeedsSignIn { what, .. } => {
                format!("`{what}` needs a signed-in user: send a valid access token.")
            }
            Self::FieldForbidden { what, .. } => {
                format!("You are not allowed to read `{what}`: your account lacks the role it needs.")
            }
            Self::IntrospectionDisabled => "Introspection is turned off on this router.".into(),
            Self::QueryPlanningFailed => "The router could not plan this operation.".into(),
            Self::SubgraphUnavailable { service, reason } => format!("The `{service}` service is unavailable: {reason}."),
            Self::SubgraphRefusedCredentials => "The subgraph refused the subscription's credentials.".into(),
            Self::NullInNonNull { type_name, field } => {
                format!("Cannot return null for non-nullable field {type_name}.{field}.")
            }
            Self::InvalidLeafValue { type_name, field } => format!("Invalid value found for field {type_name}.{field}."),
            Self::OperationNotSupported(what) => format!("{what} is not supported by this router yet."),
            Self::SubscriptionNeedsTransport => "Subscriptions need a websocket (graphql-transport-ws on /graphql) or a \
                                                 multipart request (`Accept: multipart/mixed;subscriptionSpec=\"1.0\"`)."
                .into(),
            Self::SubscriptionLimit { max } => {
                format!("This connection already has {max} subscriptions, the most allowed.")
            }
            Self::Internal => "The router failed on this request. It was logged; try again later.".into(),
        }
    }

    /// The GraphQL error object: `message` and `extensions` (with `code`, and what else the
    /// variant carries), plus `locations` for document errors.
    pub fn graphql(&self) -> Value {
        let mut error = json!({ "message": self.message(), "extensions": { "code": self.code() } });
        match self {
            Self::ValidationFailed { locations, .. } if !locations.is_empty() => {
                error["locations"] =
                    locations.iter().map(|(line, column)| json!({ "line": line, "column": column })).collect();
            }
            Self::RateLimited { retry_after } => {
                error["extensions"]["retryAfterSeconds"] = retry_seconds(*retry_after).into();
            }
            Self::BadVariable { name, .. } => error["extensions"]["field"] = Value::String(name.clone()),
            Self::SubgraphUnavailable { service, .. } => {
                error["extensions"]["serviceName"] = Value::String(service.clone());
            }
            Self::FieldNeedsSignIn { path, .. } | Self::FieldForbidden { path, .. } => {
                error["path"] = json!(path);
            }
            _ => {}
        }
        error
    }

    /// [`RouterError::graphql`] at a response path.
    pub fn at(&self, path: impl serde::Serialize) -> Value {
        let mut error = self.graphql();
        error["path"] = serde_json::to_value(path).unwrap_or(Value::Null);
        error
    }

    /// Headers that go with this refusal: `Retry-After`, `WWW-Authenticate`, `Allow`.
    fn headers(&self) -> Vec<(header::HeaderName, HeaderValue)> {
        match self {
            Self::RateLimited { retry_after } => vec![(
                header::RETRY_AFTER,
                HeaderValue::from_str(&retry_seconds(*retry_after).to_string()).expect("digits are a header value"),
            )],
            Self::InvalidToken(_) | Self::SessionRevoked | Self::TokenExpired => {
                vec![(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))]
            }
            Self::MethodNotAllowed => vec![(header::ALLOW, HeaderValue::from_static("POST"))],
            _ => Vec::new(),
        }
    }
}

fn retry_seconds(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_400_whatever_the_media_type_and_document_errors_only_for_modern_clients() {
        let depth = RouterError::MaxDepth { depth: 20, limit: 15 };
        assert_eq!((depth.status(false), depth.status(true)), (StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST));
        let parse = RouterError::ParseFailed("Unexpected `}`".into());
        assert_eq!((parse.status(false), parse.status(true)), (StatusCode::OK, StatusCode::BAD_REQUEST));
    }
}
