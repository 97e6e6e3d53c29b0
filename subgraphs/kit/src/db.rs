//! The database: SQLite (embedded default) or PostgreSQL, behind one enum.
//!
//! `sqlx::Any` cannot decode UUIDs, timestamps or booleans, so instead each query is written once
//! and run on whichever pool is configured through [`on_db!`] and [`on_tx!`]. Query text must be
//! SQL both backends accept: `$1` placeholders, `RETURNING`, `ON CONFLICT`.

use std::{path::Path, str::FromStr, time::Duration};

use futures::future::BoxFuture;
use sqlx::{
    Postgres, Sqlite, Transaction,
    migrate::{Migration, MigrationSource, Migrator},
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub use sqlx::{PgPool, SqlitePool};

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction on either backend. Dropping it without [`Tx::commit`] rolls back.
#[derive(Debug)]
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs the same expression on whichever pool `db` holds: `on_db!(db, |pool| query.fetch_one(pool))`.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs the same expression on whichever connection a transaction holds: `on_tx!(tx, |c| q.execute(c))`.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// The placeholders of an `IN (...)` list of `n` values starting at `$first`: `$3, $4, $5`.
/// Both backends accept `IN` with a list; `= ANY($1)` is Postgres-only (DESIGN.md).
pub fn in_list(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A subgraph's migrations: one embedded set per backend (`migrations/<name>/{sqlite,postgres}`).
pub struct Migrations {
    pub sqlite: Migrator,
    pub postgres: Migrator,
}

/// The kit's own tables (outbox, inbox), applied before every subgraph's migrations.
/// Their versions are older than any subgraph's, so the two sets merge into one history.
static KIT_MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("../../migrations/kit/sqlite"),
    postgres: sqlx::migrate!("../../migrations/kit/postgres"),
};

#[derive(Debug)]
struct Merged(Vec<Migration>);

impl MigrationSource<'static> for Merged {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move { Ok(self.0) })
    }
}

async fn merged(kit: &Migrator, own: &Migrator) -> Result<Migrator, sqlx::migrate::MigrateError> {
    let mut all: Vec<Migration> = kit.iter().chain(own.iter()).cloned().collect();
    all.sort_by_key(|m| m.version);
    Migrator::new(Merged(all)).await
}

impl Db {
    /// Opens (creating if needed) a SQLite file. WAL lets readers run beside the one writer;
    /// the busy timeout makes a second writer wait instead of failing at once.
    pub async fn sqlite_file(path: &Path, pool_size: u32) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create data directory {}: {e}", dir.display()))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // sqlx pings a connection on its worker thread before lending it out (and again when it
        // comes back). For a file in this process the first ping learns nothing the query would
        // not, and it is one more thread round trip on every pool use: a sign-in makes three.
        // The ping on return still catches a worker that died.
        let pool = SqlitePoolOptions::new()
            .max_connections(pool_size.max(1))
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open SQLite database {}: {e}", path.display()))?;
        Ok(Self::Sqlite(pool))
    }

    /// Connects to PostgreSQL (or SQLite, for a `sqlite:` URL).
    pub async fn connect_url(url: &str, pool_size: u32) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?;
            return Self::sqlite_file(options.get_filename(), pool_size).await;
        }
        let pool = PgPoolOptions::new()
            .max_connections(pool_size.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
        Ok(Self::Postgres(pool))
    }

    /// Applies the kit's and the subgraph's migrations for this backend.
    pub async fn migrate(&self, own: &Migrations) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(pool) => merged(&KIT_MIGRATIONS.sqlite, &own.sqlite).await?.run(pool).await?,
            Db::Postgres(pool) => merged(&KIT_MIGRATIONS.postgres, &own.postgres).await?.run(pool).await?,
        }
        Ok(())
    }

    /// Begins a write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`):
    /// a deferred transaction that reads and then writes can fail with SQLITE_BUSY when another
    /// writer got there in between, and that failure skips the busy timeout.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Checks that the database answers (for `/ready`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, |pool| sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    /// The pool's connections now (open, of which idle) and the most it may open.
    pub fn pool_stats(&self) -> (u32, u32, u32) {
        on_db!(self, |pool| (
            pool.size(),
            u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            pool.options().get_max_connections()
        ))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.rollback().await,
            Tx::Postgres(t) => t.rollback().await,
        }
    }
}
