//! Spawning subgraphs and the router the way `tessera dev` does, on port 0.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tessera_kit::{CancellationToken, Runtime, SubgraphSpec, bus::Bus, config::Config, server};
use tokio::net::TcpListener;

use crate::db::{TestDb, fresh_db};

pub struct TestSubgraph {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub rt: Runtime,
    /// GraphQL requests (POST `/graphql`) this subgraph has received.
    pub requests: Arc<AtomicUsize>,
    stop: CancellationToken,
    _db: TestDb,
}

impl TestSubgraph {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// GraphQL requests received so far.
    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Stops this subgraph's server (the others keep running).
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

/// Counts POST requests, so tests can show how many fetches a query caused.
async fn count_requests(
    axum::extract::State(counter): axum::extract::State<Arc<AtomicUsize>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if request.method() == http::Method::POST {
        counter.fetch_add(1, Ordering::SeqCst);
    }
    next.run(request).await
}

/// Running subgraphs and a router in front of them. Dropping it stops everything.
pub struct TestStack {
    pub router: SocketAddr,
    pub subgraphs: Vec<TestSubgraph>,
    pub bus: Bus,
    pub config: Arc<Config>,
    stop: CancellationToken,
    /// The data directory (the development mail and SMS sinks write here), removed on drop.
    _data_dir: tempfile::TempDir,
}

impl TestStack {
    pub fn subgraph(&self, name: &str) -> &TestSubgraph {
        self.subgraphs.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("subgraph {name} was not started"))
    }

    pub fn router_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.router)
    }

    /// Stops every server and background task now (dropping the stack does the same).
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for TestStack {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Starts `specs` and a router, with fresh databases and the test bus.
pub async fn spawn_stack(specs: &[SubgraphSpec]) -> TestStack {
    spawn_subgraphs(specs, crate::test_bus().await).await
}

/// Like [`spawn_stack`] on a bus the caller made (to share it, or to break it).
pub async fn spawn_subgraphs(specs: &[SubgraphSpec], bus: Bus) -> TestStack {
    spawn_configured(specs, bus, |_| {}).await
}

/// Like [`spawn_subgraphs`], with a chance to change the configuration first (listen addresses
/// are set afterwards).
pub async fn spawn_configured(specs: &[SubgraphSpec], bus: Bus, configure: impl FnOnce(&mut Config)) -> TestStack {
    let mut listeners = Vec::new();
    for _ in specs {
        listeners.push(TcpListener::bind("127.0.0.1:0").await.expect("binds port 0"));
    }
    let data_dir = tempfile::tempdir().expect("a temporary data directory");
    let mut config = Config { data_dir: data_dir.path().to_path_buf(), ..Config::default() };
    // Tests count products: they start from an empty catalogue unless they ask for the demo.
    config.catalogue.demo_catalogue = false;
    configure(&mut config);
    for (spec, listener) in specs.iter().zip(&listeners) {
        config.subgraph_mut(spec.name).listen = listener.local_addr().expect("bound");
    }
    let config = Arc::new(config);
    let stop = CancellationToken::new();

    let mut started = Vec::new();
    for spec in specs {
        let test_db = fresh_db(spec.name).await;
        let rt = Runtime::with_db(spec, config.clone(), test_db.db.clone(), bus.clone(), stop.clone())
            .await
            .unwrap_or_else(|e| panic!("starting {}: {e:#}", spec.name));
        let app = (spec.app)(rt.clone()).await.unwrap_or_else(|e| panic!("building {}: {e:#}", spec.name));
        started.push((spec.name, rt, test_db, app));
    }
    let mut subgraphs = Vec::new();
    for ((name, rt, test_db, app), listener) in started.into_iter().zip(listeners) {
        rt.spawn_relay(stop.clone());
        let addr = listener.local_addr().expect("bound");
        let requests = Arc::new(AtomicUsize::new(0));
        let app = app.layer(axum::middleware::from_fn_with_state(requests.clone(), count_requests));
        let own_stop = stop.child_token();
        tokio::spawn(server::serve(listener, app, own_stop.clone(), Duration::from_secs(1)));
        subgraphs.push(TestSubgraph { name, addr, rt, requests, stop: own_stop, _db: test_db });
    }

    let urls: BTreeMap<String, url::Url> =
        subgraphs.iter().map(|s| (s.name.to_owned(), url::Url::parse(&s.url("/")).expect("a URL"))).collect();
    let router_listener = TcpListener::bind("127.0.0.1:0").await.expect("binds port 0");
    let router = router_listener.local_addr().expect("bound");
    let app = tessera_router::build(&config, tessera_router::Subgraphs::from_urls(urls), Some(bus.clone()))
        .await
        .expect("the router starts");
    match config.router.tls.clone() {
        Some(tls) => {
            let stop = stop.clone();
            tokio::spawn(async move {
                server::serve_tls(router_listener, app, stop, Duration::from_secs(1), &tls.cert_path, &tls.key_path)
                    .await
            });
        }
        None => {
            tokio::spawn(server::serve(router_listener, app, stop.clone(), Duration::from_secs(1)));
        }
    }

    TestStack { router, subgraphs, bus, config, stop, _data_dir: data_dir }
}
