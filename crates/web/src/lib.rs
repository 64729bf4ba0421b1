//! xcert web: server-rendered pages (Chinese by default, English on request) and the
//! JSON API under `/api/v1`, both on the same services and the same access rules.

pub mod api;
pub mod assess;
mod auth;
mod charts;
mod error;
mod i18n;
pub mod ingest;
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
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub(crate) templates: Arc<minijinja::Environment<'static>>,
    pub(crate) jobs: Arc<ingest::Jobs>,
    pub(crate) forms: Arc<assess::FormCache>,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            templates: Arc::new(render::environment()),
            jobs: Arc::new(ingest::Jobs::new()),
            forms: Arc::new(assess::FormCache::default()),
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
