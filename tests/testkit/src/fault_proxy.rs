//! An HTTP proxy in front of a real subgraph that fails on request, for fault tests of the
//! services that call it: answer 500 to the next N requests, withhold answers (the call
//! happened, its caller never learns), or stop listening altogether (connection refused) and
//! start again on the same port. Only loopback; it counts what reached it.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{body::Bytes, extract::State, http::HeaderMap, response::IntoResponse};
use tokio::net::TcpListener;

#[derive(Default)]
struct Faults {
    target: Mutex<String>,
    fail_next: AtomicUsize,
    /// The status and body of a failed answer (500 by default).
    failure: Mutex<Option<(u16, String)>>,
    withhold_containing: Mutex<Option<String>>,
    fail_containing: Mutex<Option<String>>,
    arrived: AtomicUsize,
    withheld: AtomicUsize,
    http: reqwest::Client,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    faults: Arc<Faults>,
    server: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl FaultProxy {
    /// Listens on a free loopback port; point it at its target with [`FaultProxy::point_at`].
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds port 0");
        let proxy = Self {
            addr: listener.local_addr().expect("bound"),
            faults: Arc::new(Faults::default()),
            server: Mutex::new(None),
        };
        proxy.serve(listener);
        proxy
    }

    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}/", self.addr)).expect("a URL")
    }

    /// Forwards to `base` (`http://127.0.0.1:4003`).
    pub fn point_at(&self, base: &str) {
        *self.faults.target.lock().expect("lock") = base.trim_end_matches('/').to_owned();
    }

    /// The next `n` requests are answered 500 without reaching the target.
    pub fn fail_next(&self, n: usize) {
        *self.faults.failure.lock().expect("lock") = None;
        self.faults.fail_next.store(n, Ordering::SeqCst);
    }

    /// The next `n` requests are answered `status` with `body` without reaching the target.
    pub fn fail_next_with(&self, n: usize, status: u16, body: &str) {
        *self.faults.failure.lock().expect("lock") = Some((status, body.to_owned()));
        self.faults.fail_next.store(n, Ordering::SeqCst);
    }

    /// Requests whose body holds `needle` are answered 500 without reaching the target.
    pub fn fail_requests_containing(&self, needle: Option<&str>) {
        *self.faults.fail_containing.lock().expect("lock") = needle.map(str::to_owned);
    }

    /// Requests whose body holds `needle` reach the target, but their answer is never sent.
    pub fn withhold_answers_to(&self, needle: Option<&str>) {
        *self.faults.withhold_containing.lock().expect("lock") = needle.map(str::to_owned);
    }

    /// Requests that reached the proxy (failed, withheld or forwarded).
    pub fn arrived(&self) -> usize {
        self.faults.arrived.load(Ordering::SeqCst)
    }

    /// Answers withheld so far.
    pub fn withheld(&self) -> usize {
        self.faults.withheld.load(Ordering::SeqCst)
    }

    /// Stops listening and drops open connections: callers get "connection refused".
    pub fn stop(&self) {
        if let Some(server) = self.server.lock().expect("lock").take() {
            server.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&self) {
        self.stop();
        let listener = TcpListener::bind(self.addr).await.expect("the proxy's port is free again");
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let app = axum::Router::new().fallback(forward).with_state(self.faults.clone());
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        *self.server.lock().expect("lock") = Some(handle);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn forward(
    State(faults): State<Arc<Faults>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    faults.arrived.fetch_add(1, Ordering::SeqCst);
    let matched = faults.fail_containing.lock().expect("lock").clone();
    let failing = matched.is_some_and(|needle| String::from_utf8_lossy(&body).contains(&needle))
        || faults.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    if failing {
        let (status, body) = faults.failure.lock().expect("lock").clone().unwrap_or((500, "injected failure".into()));
        let status = axum::http::StatusCode::from_u16(status).expect("a status code");
        return (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    let target = format!("{}{}", faults.target.lock().expect("lock"), uri.path_and_query().map_or("/", |p| p.as_str()));
    let mut request = faults.http.request(method, target).body(body.clone());
    for (name, value) in &headers {
        if name != axum::http::header::HOST && name != axum::http::header::CONTENT_LENGTH {
            request = request.header(name, value);
        }
    }
    let Ok(answer) = request.send().await else {
        return (axum::http::StatusCode::BAD_GATEWAY, "the target is unreachable").into_response();
    };
    let status = answer.status();
    let content_type = answer.headers().get(axum::http::header::CONTENT_TYPE).cloned();
    let bytes = answer.bytes().await.unwrap_or_default();
    let withhold = faults.withhold_containing.lock().expect("lock").clone();
    if withhold.is_some_and(|needle| String::from_utf8_lossy(&body).contains(&needle)) {
        faults.withheld.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
    }
    let mut response = (status, bytes).into_response();
    if let Some(ct) = content_type {
        response.headers_mut().insert(axum::http::header::CONTENT_TYPE, ct);
    }
    response
}
