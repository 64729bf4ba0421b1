//! xcert web: server-rendered pages (Chinese by default, English on request) and the
//! JSON API under `/api/v1`, both on the same services and the same access rules.

pub mod api;
pub mod assess;
mod auth;
mod charts;
pub mod declare;
mod error;
mod i18n;
pub mod ingest;
pub mod issue;
pub mod openapi;
mod pages;
mod render;
pub mod service;

pub use auth::Ctx;
pub use error::AppError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::net::SocketAddr;
use std::sync::Arc;
use xcert_store::Store;

/// Settings the web layer needs.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The public URL of this server (used in CASE identifiers and links).
    pub base_url: String,
    /// Mark cookies `Secure` (when served over HTTPS behind a proxy).
    pub secure_cookies: bool,
    /// Where uploaded material folders wait for (and during) consolidation.
    pub staging_dir: std::path::PathBuf,
    /// Seals the TEOs' signing keys at rest and keys the ID-number lookup hashes.
    pub master_key: MasterKey,
}

/// The instance's 32-byte master key; never printed.
#[derive(Clone)]
pub struct MasterKey(pub [u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// A fresh random key (tests, and the first start of a new data folder).
    pub fn generate() -> MasterKey {
        MasterKey(rand::random())
    }

    /// From 64 hex digits.
    pub fn from_hex(s: &str) -> Option<MasterKey> {
        let v = hex::decode(s.trim()).ok()?;
        Some(MasterKey(v.try_into().ok()?))
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub(crate) templates: Arc<minijinja::Environment<'static>>,
    pub(crate) jobs: Arc<ingest::Jobs>,
    pub(crate) forms: Arc<assess::FormCache>,
    pub(crate) status_cache: Arc<issue::StatusCache>,
    pub(crate) public_cache: Arc<issue::PublicCache>,
    /// Public certificate queries per client: 20 at once, then 30 a minute.
    pub(crate) query_limit: Arc<issue::RateLimiter>,
    /// Public objections per client: 5 at once, then 5 a minute.
    pub(crate) objection_limit: Arc<issue::RateLimiter>,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            templates: Arc::new(render::environment()),
            jobs: Arc::new(ingest::Jobs::new()),
            forms: Arc::new(assess::FormCache::default()),
            status_cache: Arc::new(Default::default()),
            public_cache: Arc::new(Default::default()),
            query_limit: Arc::new(issue::RateLimiter::new(20, 30)),
            objection_limit: Arc::new(issue::RateLimiter::new(5, 5)),
        }
    }
}

/// All routes: pages, API, static files.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .layer(axum::middleware::from_fn(auth::csrf_cookie))
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(state)
}

/// Serve until the process is stopped (Ctrl-C or SIGTERM).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    ingest::resume_unfinished(&state).await;
    assess::spawn_sweeper(&state);
    issue::resume_unfinished(&state).await;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
