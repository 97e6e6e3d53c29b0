//! Spawning subgraphs and the router the way `tessera dev` does, on port 0.

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc, time::Duration};

use tessera_kit::{CancellationToken, Runtime, SubgraphSpec, bus::Bus, config::Config, server};
use tokio::net::TcpListener;

use crate::db::{TestDb, fresh_db};

pub struct TestSubgraph {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub rt: Runtime,
    _db: TestDb,
}

impl TestSubgraph {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Running subgraphs and a router in front of them. Dropping it stops everything.
pub struct TestStack {
    pub router: SocketAddr,
    pub subgraphs: Vec<TestSubgraph>,
    pub bus: Bus,
    pub config: Arc<Config>,
    stop: CancellationToken,
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
    let mut listeners = Vec::new();
    for _ in specs {
        listeners.push(TcpListener::bind("127.0.0.1:0").await.expect("binds port 0"));
    }
    let mut config = Config::default();
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
        tokio::spawn(server::serve(listener, app, stop.clone(), Duration::from_secs(1)));
        subgraphs.push(TestSubgraph { name, addr, rt, _db: test_db });
    }

    let urls: BTreeMap<String, url::Url> =
        subgraphs.iter().map(|s| (s.name.to_owned(), url::Url::parse(&s.url("/")).expect("a URL"))).collect();
    let router_listener = TcpListener::bind("127.0.0.1:0").await.expect("binds port 0");
    let router = router_listener.local_addr().expect("bound");
    let app = tessera_router::app(tessera_router::Subgraphs(urls), config.body_limit_bytes);
    tokio::spawn(server::serve(router_listener, app, stop.clone(), Duration::from_secs(1)));

    TestStack { router, subgraphs, bus, config, stop }
}
