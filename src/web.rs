//! Serving a built web front end (the example shop) at `/app`, on the router's origin.
//!
//! Same origin as `/graphql` means the shop needs no CORS and its websocket goes to the same
//! host. Unknown paths under `/app` answer `index.html`, so the shop's own routes
//! (`/app/orders`) survive a reload. The directory is read per request by tower-http's
//! `ServeDir`, which refuses `..` and paths outside it.

use std::path::Path;

use axum::{
    Router,
    http::{HeaderValue, header},
    response::Response,
};
use tower_http::services::{ServeDir, ServeFile};

/// Where the shop is mounted.
pub const MOUNT: &str = "/app";

/// What a browser may load and connect to from the shop's pages: only this origin (its
/// scripts, styles and the graph, over HTTP and websocket), and images from https or inline
/// (avatars, the MFA QR code). No inline script, so injected markup cannot run.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
                   connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Whether `dir` holds a built front end.
pub fn present(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

/// `app` with the front end in `dir` served at `/app`, when it is there; `app` unchanged if not.
pub fn mount(app: Router, dir: &Path) -> Router {
    if !present(dir) {
        return app;
    }
    let files = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    let shop = Router::new().fallback_service(files).layer(axum::middleware::map_response(harden));
    app.nest_service(MOUNT, shop)
}

async fn harden(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}
