//! Shared harness for the black-box tests of the `xcert` binary: a fresh data folder
//! (and, on PostgreSQL, a fresh database) per test, a runner that captures exit code and
//! output, direct SQL for tampering, and a guard that kills child processes.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_xcert");

/// Environment variables the binary reads; cleared so the caller's shell cannot leak in.
const XCERT_VARS: &[&str] = &[
    "XCERT_DATA_DIR",
    "XCERT_DATABASE_URL",
    "XCERT_CONFIG",
    "XCERT_OBJECTS_URL",
    "XCERT_PORT",
    "XCERT_BIND",
    "XCERT_PASSWORD",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// SQLite always; PostgreSQL too when `XCERT_TEST_PG_URL` is set (skipped loudly otherwise).
pub fn engines() -> Vec<Engine> {
    if pg_admin_url().is_some() {
        vec![Engine::Sqlite, Engine::Postgres]
    } else {
        loud_once(
            &PG_SKIP_NOTICE,
            "=== SKIPPED: PostgreSQL CLI tests (set XCERT_TEST_PG_URL=postgres://... to run them) ===",
        );
        vec![Engine::Sqlite]
    }
}

static PG_SKIP_NOTICE: std::sync::Once = std::sync::Once::new();

/// Write a line straight to the process's stderr, once: `eprintln!` inside a test is
/// captured by the harness and would hide a skip notice.
pub fn loud_once(once: &std::sync::Once, line: &str) {
    once.call_once(|| {
        let _ = writeln!(std::io::stderr(), "{line}");
    });
}

fn pg_admin_url() -> Option<String> {
    std::env::var("XCERT_TEST_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// What a finished command did.
#[derive(Debug)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// stdout and stderr together, for "the message names X" checks.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// One test's world: a temp data folder and the database the binary is pointed at.
pub struct Env {
    pub engine: Engine,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database URL (None on SQLite: the binary's default DATA_DIR/xcert.db).
    pub pg_url: Option<String>,
    pg_db: Option<String>,
}

impl Env {
    pub fn new(engine: Engine) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let (pg_url, pg_db) = match engine {
            Engine::Sqlite => (None, None),
            Engine::Postgres => {
                let (url, name) = block_on(fresh_pg_database());
                (Some(url), Some(name))
            }
        };
        Env {
            engine,
            dir,
            pg_url,
            pg_db,
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a file into the test's folder (outside the data subfolder's database).
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// `xcert ARGS --data-dir DIR [--database-url URL]`, environment cleaned.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .arg("--data-dir")
            .arg(self.data_dir().join("data"));
        if let Some(u) = &self.pg_url {
            c.arg("--database-url").arg(u);
        }
        for v in XCERT_VARS {
            c.env_remove(v);
        }
        c.env("XCERT_LOG", "warn");
        c
    }

    /// Run to completion with `stdin` as standard input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Out {
        let mut c = self.command(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("start xcert");
        {
            let mut i = child.stdin.take().unwrap();
            // The binary may exit before reading (e.g. on a bad flag): ignore broken pipes.
            let _ = i.write_all(stdin.as_bytes());
        }
        let o = child.wait_with_output().unwrap();
        Out {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Out {
        let o = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run xcert");
        Out {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Run and require exit code 0.
    pub fn ok(&self, args: &[&str]) -> Out {
        let o = self.run(args);
        assert!(o.ok(), "[{:?}] xcert {args:?} failed:\n{o}", self.engine);
        o
    }

    /// The database URL the binary uses, for direct SQL.
    pub fn db_url(&self) -> String {
        match &self.pg_url {
            Some(u) => u.clone(),
            None => format!(
                "sqlite://{}",
                self.data_dir().join("data").join("xcert.db").display()
            ),
        }
    }

    /// Execute a statement directly against the database; returns rows affected.
    pub fn exec(&self, sql: &str) -> u64 {
        let sql = sql.to_string();
        self.with_conn(|mut c| async move {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .unwrap()
                .rows_affected()
        })
    }

    pub fn scalar(&self, sql: &str) -> i64 {
        self.value(sql)
    }

    pub fn text(&self, sql: &str) -> String {
        self.value(sql)
    }

    /// The first column of the first row of `sql`, on either engine.
    fn value<T>(&self, sql: &str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + Unpin + 'static,
    {
        let sql = sql.to_string();
        self.with_conn(|mut c| async move {
            sqlx::query_scalar::<_, T>(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut c)
                .await
                .unwrap()
        })
    }

    /// Run `f` on a fresh connection to this environment's database (either engine).
    fn with_conn<F, Fut, R>(&self, f: F) -> R
    where
        F: FnOnce(sqlx::AnyConnection) -> Fut,
        Fut: std::future::Future<Output = R>,
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let url = self.db_url();
        block_on(async move {
            let c = sqlx::AnyConnection::connect(&url).await.unwrap();
            f(c).await
        })
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // Best effort: a failed test's database is dropped too; errors are ignored.
        if let (Some(name), Some(admin)) = (self.pg_db.take(), pg_admin_url()) {
            let _ = std::thread::spawn(move || {
                block_on(async move {
                    use sqlx::Connection;
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut c)
                        .await;
                        let _ = c.close().await;
                    }
                })
            })
            .join();
        }
    }
}

/// Create a new database next to the one `XCERT_TEST_PG_URL` names; returns its URL and name.
/// Panics (fails the test) when the variable is set but the server is unreachable.
async fn fresh_pg_database() -> (String, String) {
    use sqlx::Connection;
    let admin = pg_admin_url().expect("XCERT_TEST_PG_URL");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!(
        "xcert_cli_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        nanos % 1_000_000
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("XCERT_TEST_PG_URL is set but PostgreSQL is unreachable: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let _ = conn.close().await;
    // Replace the database name (the path after the last '/') and keep any query string.
    let (base, query) = admin
        .split_once('?')
        .map(|(b, q)| (b.to_string(), format!("?{q}")))
        .unwrap_or((admin.clone(), String::new()));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let cut = base
        .rfind('/')
        .filter(|i| *i >= scheme_end)
        .unwrap_or(base.len());
    (format!("{}/{name}{query}", &base[..cut]), name)
}

/// Kills (and reaps) a child process when dropped, also when the test panics.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `xcert serve`: its base URL, and its stderr so far for failure messages.
pub struct Server {
    pub base: String,
    stderr: Arc<Mutex<String>>,
    _child: KillOnDrop,
}

impl Server {
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// Start `xcert serve --port 0` (or whatever `args` say) and wait for its
/// `xcert serving http://...` line.
pub fn spawn_server(mut cmd: Command) -> Server {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = KillOnDrop(cmd.spawn().expect("start xcert serve"));
    let stdout = child.0.stdout.take().unwrap();
    let mut err_pipe = child.0.stderr.take().unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    {
        let stderr = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                stderr
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
    }
    let (tx, rx) = mpsc::channel();
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.trim_start().strip_prefix("xcert serving ") {
                let url = rest.split_whitespace().next().unwrap_or("").to_string();
                let _ = tx.send(url);
            }
        }
    });
    let base = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(u) => u,
        Err(_) => {
            let status = child.0.try_wait().ok().flatten();
            panic!(
                "xcert serve printed no `xcert serving` line (exit: {status:?})\n--- stderr ---\n{}",
                stderr.lock().unwrap()
            );
        }
    };
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "unexpected serving URL {base}"
    );
    Server {
        base,
        stderr,
        _child: child,
    }
}

/// ISO 7064 MOD 11-2 check character of a resident ID number's first 17 digits.
pub fn id_check(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = first17
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    C[(sum % 11) as usize]
}
