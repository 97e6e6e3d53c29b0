//! GraphiQL, served by the router from assets embedded at build time (router/graphiql builds
//! them from npm's `graphiql`; see its README). No CDN: it works offline.

use axum::{
    extract::Path,
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// (file, content type, gzipped bytes).
const ASSETS: [(&str, &str, &[u8]); 6] = [
    ("graphiql.js", "text/javascript; charset=utf-8", include_bytes!("../assets/graphiql/graphiql.js.gz")),
    ("graphiql.css", "text/css; charset=utf-8", include_bytes!("../assets/graphiql/graphiql.css.gz")),
    ("codicon.ttf", "font/ttf", include_bytes!("../assets/graphiql/codicon.ttf.gz")),
    ("editor.worker.js", "text/javascript; charset=utf-8", include_bytes!("../assets/graphiql/editor.worker.js.gz")),
    ("json.worker.js", "text/javascript; charset=utf-8", include_bytes!("../assets/graphiql/json.worker.js.gz")),
    ("graphql.worker.js", "text/javascript; charset=utf-8", include_bytes!("../assets/graphiql/graphql.worker.js.gz")),
];

const PAGE: &str = r#"<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Tessera · GraphiQL</title>
    <link rel="stylesheet" href="/graphiql/graphiql.css">
    <style>body { margin: 0; } #graphiql { height: 100dvh; }</style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script type="module" src="/graphiql/graphiql.js"></script>
  </body>
</html>
"#;

/// Whether a GET to `/graphql` comes from a browser page load rather than a GraphQL client.
pub(crate) fn wants_page(headers: &HeaderMap, has_query_string: bool) -> bool {
    !has_query_string
        && headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

pub(crate) async fn page() -> Html<&'static str> {
    Html(PAGE)
}

pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, ..)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CONTENT_ENCODING, "gzip"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such GraphiQL asset").into_response(),
    }
}
