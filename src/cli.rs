//! The command line.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand, ValueEnum};
use tessera_kit::{CancellationToken, config::Config, telemetry};

use crate::{admin, compose, launch};

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Tessera: a federated GraphQL platform for identity and commerce.",
    long_about = "Tessera: a federated GraphQL platform for identity and commerce.\n\n\
        With no command it runs the whole stack on embedded defaults (`tessera dev`): the router on \
        :4000, the five subgraphs on :4001-4005, SQLite files under ./data and an in-process bus.\n\n\
        Configuration: defaults, then the YAML file given with --config, then TESSERA_* environment \
        variables (nested keys joined by `__`, e.g. TESSERA_AUTH__DATABASE_URL). REDIS_URL selects the \
        Redis bus; DATABASE_URL is the PostgreSQL URL of the one subgraph a command acts on (serve, migrate <subgraph>; auth for admin and keys)."
)]
pub struct Cli {
    /// A YAML configuration file.
    #[arg(long, short, global = true, env = "TESSERA_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the router and all five subgraphs in one process (the default). Ctrl-C stops it
    /// gracefully: in-flight requests finish and pending events are published.
    Dev,
    /// Run one component, for containers: the router or a single subgraph.
    Serve {
        /// Which component to run.
        component: Component,
        /// The router only: serve this supergraph (any composed federation 2 supergraph). The
        /// subgraphs' URLs come from its `@join__graph(url:)`; `router.subgraph_urls.<name>`
        /// overrides them.
        #[arg(long)]
        supergraph: Option<PathBuf>,
    },
    /// Apply database migrations (they also run on every start).
    Migrate {
        /// One subgraph; all five when omitted.
        subgraph: Option<SubgraphName>,
    },
    /// Write each subgraph's federation SDL to schema/<name>.graphql and compose them into
    /// schema/supergraph.graphql, the file the router loads in production.
    Compose {
        /// Write nothing; exit non-zero if the committed files differ from a fresh export.
        #[arg(long)]
        check: bool,
        /// The directory to write to.
        #[arg(long, default_value = "schema")]
        out: PathBuf,
    },
    /// Manage admins from the command line.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage the keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Ask a running component for /health on its configured address; exit 0 only on a 200.
    /// For container health checks (the image has no shell or curl).
    Health {
        /// Which component; the router when omitted.
        component: Option<Component>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account with a printed one-time password (or make an existing account
    /// an admin).
    Create {
        /// The admin's email address.
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Start signing with a new key. Old keys stay published until their tokens expire.
    Rotate,
    /// List the published key ids, the signing one first.
    List,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Component {
    Router,
    Auth,
    Users,
    Products,
    Orders,
    Notifications,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SubgraphName {
    Auth,
    Users,
    Products,
    Orders,
    Notifications,
}

impl Component {
    pub fn name(self) -> &'static str {
        match self {
            Component::Router => "router",
            Component::Auth => "auth",
            Component::Users => "users",
            Component::Products => "products",
            Component::Orders => "orders",
            Component::Notifications => "notifications",
        }
    }
}

impl SubgraphName {
    pub fn name(self) -> &'static str {
        match self {
            SubgraphName::Auth => "auth",
            SubgraphName::Users => "users",
            SubgraphName::Products => "products",
            SubgraphName::Orders => "orders",
            SubgraphName::Notifications => "notifications",
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("the tokio runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let component = database_owner(cli.command.as_ref());
    let mut config = Config::load(cli.config.as_deref(), component)?;
    if let Some(Command::Serve { component, supergraph: Some(path) }) = &cli.command {
        anyhow::ensure!(matches!(component, Component::Router), "--supergraph is for `tessera serve router`");
        config.router.supergraph_path = Some(path.clone());
    }
    let service = match &cli.command {
        Some(Command::Serve { component, .. }) => format!("tessera-{}", component.name()),
        _ => "tessera".to_owned(),
    };
    let _telemetry = telemetry::init(config.log_format, &service);
    match cli.command.unwrap_or(Command::Dev) {
        Command::Dev => {
            let stop = CancellationToken::new();
            let running = launch::dev(config, stop.clone()).await?;
            println!("{}", running.banner());
            shutdown_on_signal(stop).await;
            running.wait().await
        }
        Command::Serve { component, .. } => {
            let stop = CancellationToken::new();
            let running = launch::serve(component.name(), config, stop.clone()).await?;
            tracing::info!(component = component.name(), addr = %running.addr, "listening");
            shutdown_on_signal(stop).await;
            running.wait().await
        }
        Command::Migrate { subgraph } => {
            let names: Vec<&str> = match subgraph {
                Some(s) => vec![s.name()],
                None => crate::SUBGRAPHS.iter().map(|s| s.name).collect(),
            };
            let config = Arc::new(config);
            for name in names {
                let spec = crate::subgraph(name).expect("the CLI only offers known subgraphs");
                let db = tessera_kit::subgraph::open_db(name, &config).await?;
                db.migrate(spec.migrations).await?;
                println!("{name}: migrations applied ({})", db.backend());
            }
            Ok(())
        }
        Command::Compose { check, out } => compose::run(&config, &out, check),
        Command::Admin { command: AdminCommand::Create { email } } => admin::create(config, &email).await,
        Command::Keys { command: KeysCommand::Rotate } => admin::rotate(config).await,
        Command::Keys { command: KeysCommand::List } => admin::list(config).await,
        Command::Health { component } => {
            let listen = match component.unwrap_or(Component::Router) {
                Component::Router => config.router.listen,
                other => config.subgraph(other.name()).listen,
            };
            crate::health::check(listen).await
        }
    }
}

/// The component whose database `DATABASE_URL` names for `command`, as in its container:
/// `tessera admin create` run inside the auth container must reach auth's database, not a
/// SQLite file beside it.
fn database_owner(command: Option<&Command>) -> Option<&'static str> {
    match command {
        Some(Command::Serve { component, .. }) => Some(component.name()),
        Some(Command::Admin { .. } | Command::Keys { .. }) => Some("auth"),
        Some(Command::Migrate { subgraph: Some(subgraph) }) => Some(subgraph.name()),
        _ => None,
    }
}

/// Waits for Ctrl-C or SIGTERM (what container runtimes send), then cancels `stop`.
async fn shutdown_on_signal(stop: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        () = term => {}
        () = stop.cancelled() => {}
    }
    tracing::info!("shutting down: finishing in-flight requests and flushing the outbox");
    stop.cancel();
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command, Component, database_owner};

    #[test]
    fn database_url_belongs_to_the_subgraph_a_command_acts_on() {
        let owner = |args: &[&str]| {
            let cli = Cli::try_parse_from(args).expect("parses");
            database_owner(cli.command.as_ref())
        };
        assert_eq!(owner(&["tessera", "serve", "orders"]), Some("orders"));
        assert_eq!(owner(&["tessera", "admin", "create", "--email", "ops@example.com"]), Some("auth"));
        assert_eq!(owner(&["tessera", "keys", "rotate"]), Some("auth"));
        assert_eq!(owner(&["tessera", "migrate", "users"]), Some("users"));
        assert_eq!(owner(&["tessera", "migrate"]), None, "all five: DATABASE_URL cannot name them all");
        assert_eq!(owner(&["tessera", "dev"]), None);
    }

    #[test]
    fn serve_router_takes_a_supergraph_file_and_only_the_router_does() {
        let cli =
            Cli::try_parse_from(["tessera", "serve", "router", "--supergraph", "theirs.graphql"]).expect("parses");
        let Some(Command::Serve { component: Component::Router, supergraph: Some(path) }) = cli.command else {
            panic!("serve router with a supergraph");
        };
        assert_eq!(path, std::path::PathBuf::from("theirs.graphql"));
    }
}
