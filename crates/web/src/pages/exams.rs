//! Exam pages: sessions (TEO, college, province), the candidate's theory exam, examiners' scoring on observation scales, marking, results.

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub(crate) fn templates(env: &mut minijinja::Environment<'static>) {
    crate::render::templates!(env,);
    let _ = env;
}
