//! A fresh, empty database per test.

use tessera_kit::db::Db;

/// A test database. Holds the temporary directory of a SQLite file alive; PostgreSQL test
/// databases live in the CI cluster, which is thrown away after the run.
pub struct TestDb {
    pub db: Db,
    _dir: Option<tempfile::TempDir>,
}

/// The URL of a new empty PostgreSQL database when `TEST_POSTGRES_URL` is set (for a
/// subgraph started as its own process); None on SQLite.
pub async fn fresh_postgres_url(label: &str) -> Option<String> {
    let admin_url = std::env::var("TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())?;
    let name = format!("t_{label}_{}", uuid::Uuid::now_v7().simple());
    let admin = sqlx::PgPool::connect(&admin_url).await.expect("TEST_POSTGRES_URL must point at a running PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&admin).await.expect("can create a test database");
    admin.close().await;
    let mut url = url::Url::parse(&admin_url).expect("TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    Some(url.to_string())
}

/// A new empty database (not yet migrated), named after `label` for easier debugging.
pub async fn fresh_db(label: &str) -> TestDb {
    match fresh_postgres_url(label).await {
        Some(url) => TestDb { db: Db::connect_url(&url, 4).await.expect("connects to the new database"), _dir: None },
        None => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let db = Db::sqlite_file(&dir.path().join(format!("{label}.db")), 4).await.expect("opens a SQLite file");
            TestDb { db, _dir: Some(dir) }
        }
    }
}
