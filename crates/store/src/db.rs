use crate::{Objects, Result, StoreError};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "registry",
        include_str!("../migrations/0001_registry.sql"),
    ),
    (2, "ingest", include_str!("../migrations/0002_ingest.sql")),
    (3, "assess", include_str!("../migrations/0003_assess.sql")),
    (
        4,
        "credentials",
        include_str!("../migrations/0004_credentials.sql"),
    ),
    (
        5,
        "declaration",
        include_str!("../migrations/0005_declaration.sql"),
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database and the object store, shared by the web server and the CLI.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// Serializes writers in this process: SQLite allows one writer anyway, and the audit
    /// chain needs each entry to see the one before it.
    write_lock: Arc<Mutex<()>>,
    pub objects: Objects,
}

/// Current time as RFC 3339 UTC text with milliseconds (sorts as text on both engines).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    /// Open (creating if needed) the database at `url` and run migrations. A SQLite URL's
    /// file is created with WAL journaling.
    pub async fn open(url: &str, objects: Objects) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Other(format!(
                "unsupported database URL (use sqlite://PATH or postgres://...): {}",
                redact_url(url)
            )));
        };
        let url = if backend == Backend::Sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
        } else {
            url.to_string()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .fetch_all(&pool)
                .await?;
        }
        let store = Store {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
            objects,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Open SQLite in `data_dir/xcert.db` with objects in `data_dir/objects`.
    pub async fn open_sqlite_dir(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Other(format!("{}: {e}", data_dir.display())))?;
        let objects = Objects::local(&data_dir.join("objects"))?;
        Store::open(
            &format!("sqlite://{}", data_dir.join("xcert.db").display()),
            objects,
        )
        .await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Apply migrations not yet recorded in `schema_migrations`, each in its own transaction.
    pub async fn migrate(&self) -> Result<()> {
        let _guard = self.write_lock.lock().await;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        // Two servers starting at once must not both migrate. A session-level advisory lock
        // belongs to one connection: take and release it on the same one, or the pool
        // keeps it locked and the next server waits forever.
        let mut lock_conn = if self.backend == Backend::Postgres {
            let mut c = self.pool.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock(715001)")
                .execute(&mut *c)
                .await?;
            Some(c)
        } else {
            None
        };
        let result = self.apply_migrations().await;
        if let Some(c) = lock_conn.as_mut() {
            sqlx::query("SELECT pg_advisory_unlock(715001)")
                .execute(&mut **c)
                .await?;
        }
        result
    }

    async fn apply_migrations(&self) -> Result<()> {
        let id = match self.backend {
            Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        };
        for (version, name, sql) in MIGRATIONS {
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&self.pool)
                    .await?;
            if done.is_some() {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            for stmt in split_statements(&sql.replace("{ID}", id)) {
                sqlx::query(sqlx::AssertSqlSafe(stmt))
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(*version)
            .bind(*name)
            .bind(now())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::info!(version, name, "applied migration");
        }
        Ok(())
    }

    /// The newest migration version applied.
    pub async fn schema_version(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Start a write transaction. Every change made through it is audited by the
    /// caller with [`WriteTx::audit`] before [`WriteTx::commit`]; dropping it rolls back.
    pub async fn begin_write(&self, actor: &str) -> Result<WriteTx> {
        let guard = self.write_lock.clone().lock_owned().await;
        let tx = self.pool.begin().await?;
        Ok(WriteTx {
            tx,
            _guard: guard,
            actor: actor.to_string(),
            backend: self.backend,
        })
    }
}

/// A transaction holding the process-wide write lock; see [`Store::begin_write`].
pub struct WriteTx {
    pub(crate) tx: Transaction<'static, Any>,
    _guard: OwnedMutexGuard<()>,
    pub(crate) actor: String,
    pub(crate) backend: Backend,
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }
}

/// Split a migration file on `;` at line ends (our migrations have no procedural code).
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if trimmed.ends_with(';') {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// Hide a password in a database URL before showing it.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A nullable float as a query parameter: sent as text, to be written `CAST($n AS DOUBLE
/// PRECISION)` in the SQL. sqlx 0.9's `Any` driver sends a NULL `f64` as a PostgreSQL
/// `float4`, and the cached statement then rejects the next non-NULL value ("incorrect
/// binary data format", transact-rs/sqlx#4284); text has one type either way, and the
/// shortest round-trip decimal keeps the value exact.
pub(crate) fn opt_float(v: Option<f64>) -> Option<String> {
    v.filter(|x| x.is_finite()).map(|x| x.to_string())
}

pub(crate) fn opt_str(row: &AnyRow, col: &str) -> Option<String> {
    row.try_get::<Option<String>, _>(col).ok().flatten()
}

/// Escape `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub(crate) fn like_pattern(q: &str) -> String {
    let mut s = String::from("%");
    for c in q.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_semicolons() {
        let s = split_statements("-- c\nCREATE TABLE a (x TEXT);\n\nCREATE INDEX i ON a (x);\n");
        assert_eq!(s.len(), 2);
        assert!(s[1].starts_with("CREATE INDEX"));
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_A"), "%50\\%\\_a%");
    }
}
