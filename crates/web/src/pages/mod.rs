//! HTML pages. Public: catalogue and certificate pages. Signed in: management pages.

mod admin;
pub(crate) mod bank;
pub(crate) mod certs;
pub(crate) mod declare;
pub(crate) mod exams;
mod ingest;
mod public;
pub(crate) mod review;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::AppError;
use crate::render::error_page;
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(public::catalogue))
        .route("/certificates/{code}", get(public::certificate))
        .route(
            "/certificates/{code}/standard.case.json",
            get(public::case_export),
        )
        .route("/framework", get(public::framework))
        .route("/login", get(public::login_form).post(public::login))
        .route("/logout", post(public::logout))
        .route("/lang/{lang}", get(public::set_lang))
        .route("/static/app.css", get(public::css))
        .route("/healthz", get(|| async { "ok" }))
        .route("/media/{key}", get(media))
        .merge(admin::routes())
        .merge(ingest::routes())
        .merge(bank::routes())
        .merge(exams::routes())
        .merge(certs::routes())
        .merge(declare::routes())
        .merge(review::routes())
}

/// Turn a page handler's error into an error page (or a sign-in redirect).
pub(crate) fn respond(st: &AppState, ctx: &Ctx, r: Result<Response, AppError>) -> Response {
    match r {
        Ok(resp) => resp,
        Err(e) => error_page(st, ctx, &e),
    }
}

/// An item's image, by content hash: immutable, never sniffed, never run.
async fn media(
    axum::extract::State(st): axum::extract::State<AppState>,
    ctx: Ctx,
    axum::extract::Path(key): axum::extract::Path<String>,
) -> Response {
    use axum::http::header;
    match crate::assess::media(&st, &ctx, &key).await {
        Ok((bytes, mime)) => (
            [
                (header::CONTENT_TYPE, mime),
                (
                    header::CACHE_CONTROL,
                    "private, max-age=31536000, immutable".into(),
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
                (header::CONTENT_SECURITY_POLICY, "sandbox".into()),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => respond(&st, &ctx, Err(e)),
    }
}

/// A posted form with repeated fields (checkboxes) kept.
pub(crate) type Pairs = Vec<(String, String)>;

/// The first value of a form field ("" when absent).
pub(crate) fn one<'a>(f: &'a Pairs, k: &str) -> &'a str {
    f.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

pub(crate) fn check_csrf(ctx: &Ctx, f: &Pairs) -> Result<(), AppError> {
    ctx.check_csrf(one(f, "csrf"))
}

pub(crate) fn redirect(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

/// A multipart form: its text fields and its one file (`file`), if any was chosen.
pub(crate) struct Upload {
    pub fields: Pairs,
    pub file: Option<(String, Vec<u8>)>,
}

/// Read a multipart form; a part over `limit` bytes (the route's body limit) is refused
/// as the field `file` being too large, not as a bare 400.
pub(crate) async fn read_upload(
    mut mp: axum::extract::Multipart,
    limit: usize,
) -> Result<Upload, AppError> {
    let mut fields = Vec::new();
    let mut file = None;
    let too_large = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            AppError::Invalid(vec![xcert_domain::FieldError::new(
                "file",
                "too_large",
                format!("the file is larger than {} MB", limit >> 20),
                format!("文件超过 {} MB", limit >> 20),
            )])
        } else {
            AppError::BadRequest(e.to_string())
        }
    };
    while let Some(part) = mp.next_field().await.map_err(too_large)? {
        let name = part.name().unwrap_or("").to_string();
        if name == "file" {
            // Some browsers send the path the file came from; the name is its last part.
            let fname = part
                .file_name()
                .unwrap_or("")
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or("")
                .to_string();
            let bytes = part.bytes().await.map_err(too_large)?.to_vec();
            if !fname.is_empty() || !bytes.is_empty() {
                file = Some((fname, bytes));
            }
        } else {
            let v = part.text().await.map_err(too_large)?;
            fields.push((name, v));
        }
    }
    Ok(Upload { fields, file })
}
