//! Starting components: the whole stack in one process (`tessera dev`), or one (`tessera serve`).
//!
//! Order matters. Every port is bound first, so a port in use fails start-up at once and by
//! name. Then every subgraph opens its database and registers its event consumers. Only then do
//! the outbox relays start, so no event is published before its consumers listen. On shutdown the
//! servers drain first and the relays flush last, so events committed by the final requests
//! still go out.

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use tessera_kit::{CancellationToken, Runtime, bus::Bus, config::Config, server};
use tokio::{net::TcpListener, task::JoinHandle};

use crate::SUBGRAPHS;

/// A started process: its addresses and the tasks to wait for.
pub struct Running {
    pub router: Option<SocketAddr>,
    pub subgraphs: Vec<(&'static str, SocketAddr)>,
    /// The single component's address under `serve`.
    pub addr: SocketAddr,
    config: Arc<Config>,
    bus: &'static str,
    servers: Vec<JoinHandle<anyhow::Result<()>>>,
    relays: Vec<JoinHandle<()>>,
    relay_stop: CancellationToken,
}

async fn bind(component: &str, addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} for {component}: is another process using it? Set another address in its `listen` setting")
    })
}

async fn connect_bus(config: &Config) -> anyhow::Result<Bus> {
    Bus::connect(config.redis_url.as_ref().map(|u| u.expose()), &config.redis_namespace).await
}

/// Where the router reaches subgraph `name`: configured, or its own `listen` address.
pub fn subgraph_url(config: &Config, name: &str) -> url::Url {
    config.router.subgraph_urls.get(name).cloned().unwrap_or_else(|| {
        url::Url::parse(&format!("http://{}/", config.subgraph(name).listen)).expect("an address makes a URL")
    })
}

fn subgraph_urls(config: &Config) -> tessera_router::Subgraphs {
    let urls = SUBGRAPHS.iter().map(|s| (s.name.to_owned(), subgraph_url(config, s.name))).collect::<BTreeMap<_, _>>();
    tessera_router::Subgraphs::from_urls(urls)
}

/// The router alone: with a supergraph file, its `@join__graph(url:)` says where each subgraph
/// is and only the configured `router.subgraph_urls` override it (the supergraph may not be
/// ours at all); without one, it composes from our five at their configured addresses.
fn router_urls(config: &Config) -> tessera_router::Subgraphs {
    if config.router.supergraph_path.is_some() {
        tessera_router::Subgraphs::from_urls(config.router.subgraph_urls.clone())
    } else {
        subgraph_urls(config)
    }
}

/// Serves the router over HTTPS when `router.tls` is configured, plain HTTP otherwise.
async fn serve_router(
    listener: TcpListener,
    app: axum::Router,
    stop: CancellationToken,
    grace: Duration,
    config: Arc<Config>,
) -> anyhow::Result<()> {
    match &config.router.tls {
        Some(tls) => server::serve_tls(listener, app, stop, grace, &tls.cert_path, &tls.key_path).await,
        None => server::serve(listener, app, stop, grace).await,
    }
}

/// Runs the router and all five subgraphs in this process.
pub async fn dev(mut config: Config, stop: CancellationToken) -> anyhow::Result<Running> {
    let mut listeners = Vec::new();
    for spec in SUBGRAPHS {
        let listener = bind(spec.name, config.subgraph(spec.name).listen).await?;
        config.subgraph_mut(spec.name).listen = listener.local_addr()?;
        listeners.push(listener);
    }
    let router_listener = bind("router", config.router.listen).await?;
    config.router.listen = router_listener.local_addr()?;
    let config = Arc::new(config);
    let bus = connect_bus(&config).await?;
    let grace = Duration::from_secs(config.shutdown_grace_seconds);

    let mut runtimes = Vec::new();
    for spec in SUBGRAPHS {
        runtimes.push(
            Runtime::open(&spec, config.clone(), bus.clone(), stop.clone())
                .await
                .with_context(|| format!("starting {}", spec.name))?,
        );
    }
    let mut apps = Vec::new();
    for (spec, rt) in SUBGRAPHS.iter().zip(&runtimes) {
        apps.push((spec.app)(rt.clone()).await.with_context(|| format!("starting {}", spec.name))?);
    }
    let relay_stop = CancellationToken::new();
    let relays = runtimes.iter().map(|rt| rt.spawn_relay(relay_stop.clone())).collect();

    let mut servers = Vec::new();
    let mut subgraphs = Vec::new();
    for ((spec, listener), app) in SUBGRAPHS.iter().zip(listeners).zip(apps) {
        subgraphs.push((spec.name, listener.local_addr()?));
        servers.push(tokio::spawn(server::serve(listener, app, stop.clone(), grace)));
    }
    // The subgraphs serve now, so the router can compose from what they really run.
    let router_app = tessera_router::build(&config, subgraph_urls(&config), Some(bus.clone()))
        .await
        .context("starting the router")?;
    let router_app = crate::web::mount(router_app, &config.router.web_dir);
    servers.push(tokio::spawn(serve_router(router_listener, router_app, stop.clone(), grace, config.clone())));

    Ok(Running {
        router: Some(config.router.listen),
        subgraphs,
        addr: config.router.listen,
        bus: bus.kind(),
        config,
        servers,
        relays,
        relay_stop,
    })
}

/// Runs one component.
pub async fn serve(component: &str, config: Config, stop: CancellationToken) -> anyhow::Result<Running> {
    let config = Arc::new(config);
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let relay_stop = CancellationToken::new();
    if component == "router" {
        let listener = bind("router", config.router.listen).await?;
        let addr = listener.local_addr()?;
        let bus = connect_bus(&config).await?;
        let app =
            tessera_router::build(&config, router_urls(&config), Some(bus)).await.context("starting the router")?;
        let servers = vec![tokio::spawn(serve_router(listener, app, stop, grace, config.clone()))];
        return Ok(Running {
            router: Some(addr),
            subgraphs: vec![],
            addr,
            bus: "none",
            config,
            servers,
            relays: vec![],
            relay_stop,
        });
    }
    let spec = crate::subgraph(component).with_context(|| format!("unknown component {component}"))?;
    let listener = bind(spec.name, config.subgraph(spec.name).listen).await?;
    let addr = listener.local_addr()?;
    let bus = connect_bus(&config).await?;
    let rt = Runtime::open(&spec, config.clone(), bus.clone(), stop.clone()).await?;
    let app = (spec.app)(rt.clone()).await?;
    let relays = vec![rt.spawn_relay(relay_stop.clone())];
    let servers = vec![tokio::spawn(server::serve(listener, app, stop, grace))];
    Ok(Running {
        router: None,
        subgraphs: vec![(spec.name, addr)],
        addr,
        bus: bus.kind(),
        config,
        servers,
        relays,
        relay_stop,
    })
}

impl Running {
    /// Waits for the servers to drain (after the stop token is cancelled), then flushes the outboxes.
    pub async fn wait(self) -> anyhow::Result<()> {
        let mut result = Ok(());
        for server in self.servers {
            match server.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = Err(e),
                Err(e) => result = Err(e.into()),
            }
        }
        self.relay_stop.cancel();
        for relay in self.relays {
            let _ = relay.await;
        }
        result
    }

    /// What `tessera dev` prints once everything listens.
    pub fn banner(&self) -> String {
        let storage = if self.config.auth.database_url.is_some() {
            "PostgreSQL".to_owned()
        } else {
            format!("SQLite files in {}", self.config.data_dir.display())
        };
        let bus = if self.bus == "redis" { "Redis bus" } else { "in-process bus" };
        let mut out = format!("\nTessera is up ({storage}, {bus}).\n\n");
        if let Some(router) = self.router {
            out += &format!("  {:<15} http://{router}/graphql  (the one graph: send your queries here)\n", "GraphQL");
            out += &format!("  {:<15} http://{router}/  (open in a browser)\n", "GraphiQL");
            if crate::web::present(&self.config.router.web_dir) {
                out += &format!("  {:<15} http://{router}{}/  (the example shop)\n", "Shop", crate::web::MOUNT);
            }
            out += &format!("  {:<15} http://{router}/health, /ready, /metrics\n\n", "probes");
        }
        for (name, addr) in &self.subgraphs {
            out += &format!("  {name:<15} http://{addr}/graphql  (one subgraph, for debugging)\n");
        }
        out += "\nCtrl-C stops everything gracefully.\n";
        out
    }
}
