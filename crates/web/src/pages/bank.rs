//! Question bank pages (TEO staff, the ministry): items, imports, blueprints and assembly, forms, item analysis reports.

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub(crate) fn templates(env: &mut minijinja::Environment<'static>) {
    crate::render::templates!(env,);
    let _ = env;
}
