//! The axum wiring every subgraph shares: `/graphql` (POST, GET, websocket), `/health`, `/ready`,
//! a body size limit, request ids, and serving with graceful shutdown.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use async_graphql::{
    Data, ObjectType, ParseRequestError, Schema, SchemaBuilder, SubscriptionType,
    http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource},
};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::{
    Extension, Json, Router,
    extract::ws::{CloseFrame, Message},
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State, WebSocketUpgrade},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
    serve::ListenerExt,
};
use futures::{SinkExt, StreamExt};
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;

use crate::{
    bus::Bus,
    cache_tags::CacheTags,
    client::ClientInfo,
    db::Db,
    error::ErrorCode,
    identity::Viewer,
    jwt::{JwtVerifier, TokenError},
    metrics::SubgraphMetrics,
    telemetry,
};

/// Depth and complexity caps for every subgraph schema (a malicious query is refused by
/// validation, before any resolver runs), and masking of uncoded errors.
pub fn harden<Q, M, S>(builder: SchemaBuilder<Q, M, S>) -> SchemaBuilder<Q, M, S> {
    builder
        .limit_depth(32)
        .limit_complexity(10_000)
        .limit_recursive_depth(64)
        .limit_directives(50)
        .extension(crate::mask::MaskInternalErrors)
        .extension(crate::metrics::Observe)
}

struct AppState<Q, M, S> {
    schema: Schema<Q, M, S>,
    verifier: Arc<JwtVerifier>,
    db: Db,
    bus: Bus,
    trusted_proxies: Vec<ipnet::IpNet>,
    metrics: Arc<SubgraphMetrics>,
    metrics_allow: Vec<ipnet::IpNet>,
    body_limit_bytes: usize,
}

/// What a subgraph's `app()` hands to [`graphql_app`].
pub struct AppParts<Q, M, S> {
    pub schema: Schema<Q, M, S>,
    pub verifier: Arc<JwtVerifier>,
    pub db: Db,
    pub bus: Bus,
    pub body_limit_bytes: usize,
    /// Peers whose `X-Forwarded-For` is believed (see [`crate::client`]).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub metrics: Arc<SubgraphMetrics>,
    /// Networks allowed to read `/metrics`.
    pub metrics_allow: Vec<ipnet::IpNet>,
}

/// The standard subgraph app. Merge extra routes (e.g. auth's JWKS) into the result.
pub fn graphql_app<Q, M, S>(parts: AppParts<Q, M, S>) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let limit = parts.body_limit_bytes;
    let state = Arc::new(AppState {
        schema: parts.schema,
        verifier: parts.verifier,
        db: parts.db,
        bus: parts.bus,
        trusted_proxies: parts.trusted_proxies,
        metrics: parts.metrics,
        metrics_allow: parts.metrics_allow,
        body_limit_bytes: limit,
    });
    let router = Router::new()
        .route("/graphql", get(graphql_get::<Q, M, S>).post(graphql_post::<Q, M, S>))
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics::<Q, M, S>))
        .route("/ready", get(ready::<Q, M, S>))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(limit));
    telemetry::with_request_ids(router)
}

/// A GraphQL error response with a stable code, for failures before execution.
pub fn error_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    (status, Json(body)).into_response()
}

fn token_refused(e: TokenError) -> Response {
    let mut res = error_response(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, &format!("{e} Sign in again."));
    res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    res
}

/// The token in a header value or connection payload, with or without the `Bearer ` prefix.
/// "Bearer" alone (GraphiQL's untouched example header) means no token.
pub fn bearer(value: &str) -> &str {
    let v = value.trim();
    if v.eq_ignore_ascii_case("bearer") {
        return "";
    }
    v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")).unwrap_or(v).trim()
}

/// No token means anonymous; a bad token is an error, never a silent downgrade to anonymous.
async fn viewer_from(verifier: &JwtVerifier, token: Option<&str>) -> Result<Viewer, TokenError> {
    match token.map(bearer).filter(|t| !t.is_empty()) {
        None => Ok(Viewer::Anonymous),
        Some(token) => verifier.verify(token).await.map(Viewer::from_claims),
    }
}

/// Turns request-parsing failures into GraphQL errors instead of async-graphql's debug text.
pub struct Rejection(ParseRequestError);

impl From<ParseRequestError> for Rejection {
    fn from(e: ParseRequestError) -> Self {
        Self(e)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self.0 {
            ParseRequestError::PayloadTooLarge => {
                error_response(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BadUserInput, "The request body is too large.")
            }
            ParseRequestError::UnsupportedBatch => error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "Batched requests are not supported: send one operation per request.",
            ),
            other => error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &format!("The request is not a valid GraphQL request: {other}."),
            ),
        }
    }
}

async fn graphql_post<Q, M, S>(
    State(state): State<Arc<AppState<Q, M, S>>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    request: Result<GraphQLRequest<Rejection>, Rejection>,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let request = match request {
        Ok(r) => r.into_inner(),
        Err(rejection) => return rejection.into_response(),
    };
    let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let viewer = match viewer_from(&state.verifier, token).await {
        Ok(v) => v,
        Err(e) => return token_refused(e),
    };
    let client = ClientInfo::from_request(peer.map(|p| p.0.0), &headers, &state.trusted_proxies);
    execute_tagged(&state.schema, request.data(viewer).data(client).data(state.metrics.clone())).await
}

/// `GET /metrics` (Prometheus), for addresses in `router.metrics_allow` only: the series name
/// operations and error rates, which are nobody else's business.
async fn metrics<Q, M, S>(
    State(state): State<Arc<AppState<Q, M, S>>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let ip = peer.map(|p| p.0.0.ip());
    if !ip.is_some_and(|ip| state.metrics_allow.iter().any(|net| net.contains(&ip))) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let text = state.metrics.render(&state.db).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Executes `request` and sends the entities its answer holds as one `Cache-Tag` header
/// (see [`crate::cache_tags`]).
async fn execute_tagged<Q, M, S>(schema: &Schema<Q, M, S>, request: async_graphql::Request) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let tags = Arc::new(CacheTags::default());
    let response = schema.execute(request.data(tags.clone())).await;
    let mut http = GraphQLResponse::from(response).into_response();
    if let Some(value) = tags.header().and_then(|v| header::HeaderValue::from_str(&v).ok()) {
        http.headers_mut().insert(crate::cache_tags::HEADER, value);
    }
    http
}

async fn graphql_get<Q, M, S>(State(state): State<Arc<AppState<Q, M, S>>>, request: Request) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let (mut parts, body) = request.into_parts();
    if parts.headers.get(header::UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket")) {
        let (Ok(upgrade), Ok(protocol)) = (
            WebSocketUpgrade::from_request_parts(&mut parts, &()).await,
            GraphQLProtocol::from_request_parts(&mut parts, &()).await,
        ) else {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "Unsupported websocket subprotocol.",
            );
        };
        let schema = state.schema.clone();
        let verifier = state.verifier.clone();
        let metrics = state.metrics.clone();
        let limit = state.body_limit_bytes;
        return upgrade
            .protocols(ALL_WEBSOCKET_PROTOCOLS)
            // A message is one request: the bound of an HTTP body (axum's default is 64 MiB).
            .max_message_size(limit)
            .max_frame_size(limit)
            // Not tungstenite's 128 KiB each way per socket.
            .read_buffer_size(crate::sockets::WEBSOCKET_BUFFER)
            .write_buffer_size(crate::sockets::WEBSOCKET_BUFFER)
            .on_upgrade(move |socket| {
                let (sink, stream) = socket.split();
                // async-graphql closes a refused `connection_init` with 1002; graphql-transport-ws
                // says 4403 Forbidden, and clients (graphql-ws) treat 4403 as "do not retry".
                let sink = sink.with(|msg: Message| async move {
                    Ok::<_, axum::Error>(match msg {
                        Message::Close(Some(frame)) if frame.code == 1002 => {
                            Message::Close(Some(CloseFrame { code: 4403, reason: frame.reason }))
                        }
                        other => other,
                    })
                });
                GraphQLWebSocket::new_with_pair(sink, stream, schema, protocol)
                    .on_connection_init(move |payload| async move {
                        let metrics = metrics.clone();
                        // The token rides in `connection_init`: `Authorization` or `authorization`.
                        let token = ["Authorization", "authorization"].iter().find_map(|k| payload.get(*k)?.as_str());
                        let viewer = viewer_from(&verifier, token)
                            .await
                            .map_err(|e| async_graphql::Error::new(e.to_string()))?;
                        let mut data = Data::default();
                        data.insert(viewer);
                        data.insert(metrics);
                        Ok(data)
                    })
                    .serve()
            })
            .into_response();
    }
    if parts.uri.query().is_none_or(str::is_empty) {
        return Html(GraphiQLSource::build().endpoint("/graphql").subscription_endpoint("/graphql").finish())
            .into_response();
    }
    let token = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let client = ClientInfo::from_request(peer, &parts.headers, &state.trusted_proxies);
    let request = match GraphQLRequest::<Rejection>::from_request(Request::from_parts(parts, body), &()).await {
        Ok(r) => r.into_inner(),
        Err(rejection) => return rejection.into_response(),
    };
    // GET must not change anything (GraphQL over HTTP): only queries run here.
    if let Ok(doc) = async_graphql::parser::parse_query(&request.query)
        && doc.operations.iter().any(|(_, op)| op.node.ty != async_graphql::parser::types::OperationType::Query)
    {
        let mut res = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            "Only queries may be sent with GET; use POST.",
        );
        res.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return res;
    }
    let viewer = match viewer_from(&state.verifier, token.as_deref()).await {
        Ok(v) => v,
        Err(e) => return token_refused(e),
    };
    execute_tagged(&state.schema, request.data(viewer).data(client).data(state.metrics.clone())).await
}

async fn ready<Q, M, S>(State(state): State<Arc<AppState<Q, M, S>>>) -> Response {
    let db = state.db.ping().await.map_err(|e| e.to_string());
    let bus = state.bus.ping().await.map_err(|e| e.to_string());
    let status = if db.is_ok() && bus.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    if let Err(e) = &db {
        tracing::warn!(error = %e, "database not ready");
    }
    if let Err(e) = &bus {
        tracing::warn!(error = %e, "bus not ready");
    }
    let body = serde_json::json!({
        "database": { "backend": state.db.backend(), "ok": db.is_ok() },
        "bus": { "backend": state.bus.kind(), "ok": bus.is_ok() },
    });
    (status, Json(body)).into_response()
}

/// Serves `app` until `stop` is cancelled, then lets in-flight requests finish for up to `grace`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    stop: CancellationToken,
    grace: Duration,
) -> anyhow::Result<()> {
    let shutdown = stop.clone();
    let listener = listener.tap_io(crate::sockets::no_delay);
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move { shutdown.cancelled().await });
    let mut server = tokio::spawn(async move { server.await });
    tokio::select! {
        joined = &mut server => return Ok(joined??),
        () = stop.cancelled() => {}
    }
    match tokio::time::timeout(grace, server).await {
        Ok(joined) => joined??,
        Err(_) => tracing::warn!("in-flight requests still running after the grace period; stopping anyway"),
    }
    Ok(())
}

/// The standard app for a subgraph running in `rt`.
pub fn subgraph_app<Q, M, S>(rt: &crate::Runtime, schema: Schema<Q, M, S>) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    graphql_app(AppParts {
        schema,
        verifier: rt.verifier.clone(),
        db: rt.db.clone(),
        bus: rt.bus.clone(),
        body_limit_bytes: rt.config.body_limit_bytes,
        trusted_proxies: rt.config.trusted_proxies.clone(),
        metrics: rt.metrics.clone(),
        metrics_allow: rt.config.router.metrics_allow.clone(),
    })
}

/// Like [`serve`], over HTTPS with the PEM certificate chain and key at `cert` and `key`.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: Router,
    stop: CancellationToken,
    grace: Duration,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<()> {
    // One crypto provider for the process; a second install (another server) is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await.map_err(|e| {
        anyhow::anyhow!("cannot load the TLS certificate {} and key {}: {e}", cert.display(), key.display())
    })?;
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        stop.cancelled().await;
        shutdown.graceful_shutdown(Some(grace));
    });
    let acceptor =
        axum_server::tls_rustls::RustlsAcceptor::new(config).acceptor(axum_server::accept::NoDelayAcceptor::new());
    axum_server::from_tcp(listener.into_std()?)?
        .acceptor(acceptor)
        .handle(handle)
        .serve(app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await?;
    Ok(())
}
