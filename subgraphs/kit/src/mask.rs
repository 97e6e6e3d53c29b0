//! A schema extension that keeps internals out of responses, whatever a resolver returns.
//!
//! Every error from a resolver must carry an `extensions.code`; one that does not escaped the
//! error mapping (a `?` on a `sqlx::Error`, say). Its message may hold SQL or paths, so it is
//! logged and replaced with the generic `INTERNAL` answer. Validation errors get the code
//! `GRAPHQL_VALIDATION_FAILED` and parse errors `GRAPHQL_PARSE_FAILED`, so clients can switch on a code for every error.

use std::sync::Arc;

use async_graphql::{
    Response, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation},
    parser::types::ExecutableDocument,
};

use crate::ErrorCode;

pub struct MaskInternalErrors;

impl ExtensionFactory for MaskInternalErrors {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Mask)
    }
}

struct Mask;

fn has_code(e: &ServerError) -> bool {
    e.extensions.as_ref().is_some_and(|ext| ext.get("code").is_some())
}

fn with_code(mut e: ServerError, code: &'static str) -> ServerError {
    if !has_code(&e) {
        e.extensions.get_or_insert_with(Default::default).set("code", Value::from(code));
    }
    e
}

#[async_graphql::async_trait::async_trait]
impl Extension for Mask {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|e| with_code(e, "GRAPHQL_PARSE_FAILED"))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx)
            .await
            .map_err(|errors| errors.into_iter().map(|e| with_code(e, "GRAPHQL_VALIDATION_FAILED")).collect())
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        for e in &mut response.errors {
            if !has_code(e) {
                tracing::error!(error = %e.message, path = ?e.path, "uncoded resolver error masked");
                e.message =
                    "Something went wrong on our side. Try again; if it keeps happening, report the request id.".into();
                e.extensions
                    .get_or_insert_with(Default::default)
                    .set("code", Value::from(ErrorCode::Internal.as_str()));
            }
        }
        response
    }
}
