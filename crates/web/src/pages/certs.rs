//! Certificate pages: issuing jobs and issued certificates (TEO), the holder's own
//! certificates, and the public query, verification page (the QR code's target),
//! credential check, status lists and DID documents.

use super::{redirect, respond};
use crate::AppState;
use crate::auth::Ctx;
use crate::error::AppError;
use crate::issue as svc;
use crate::render::{download, page, page_with_status};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use minijinja::context;
use serde::Deserialize;
use xcert_domain::FieldError;
use xcert_domain::access::Role;
use xcert_store::{AuditFilter, IssuedFilter, IssuedState, SessionStatus};

type R<T> = Result<T, AppError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/issuance", get(jobs))
        .route("/admin/issuance/from-session", post(from_session))
        .route(
            "/admin/issuance/upload",
            post(upload).layer(axum::extract::DefaultBodyLimit::max(64 << 20)),
        )
        .route("/admin/issuance/confirm", post(confirm))
        .route("/admin/issuance/keys/rotate", post(rotate))
        .route("/admin/issuance/{id}", get(job_page))
        .route("/admin/issuance/{id}/resume", post(job_resume))
        .route("/admin/issuance/{id}/certificates.zip", get(job_zip))
        .route("/admin/issued", get(issued_list))
        .route("/admin/issued/{number}", get(issued_page))
        .route("/admin/issued/{number}/state", post(set_state))
        .route("/admin/issued/{number}/correct", post(correct))
        .route("/admin/issued/{number}/certificate.pdf", get(pdf))
        .route(
            "/admin/issued/{number}/credential.json",
            get(credential_json),
        )
        .route("/admin/issued/{number}/credential.jwt", get(credential_jwt))
        .route("/my/certificates", get(mine))
        .route("/verify", get(verify_form).post(verify_query))
        .route("/verify/check", post(verify_check))
        .route("/verify/{number}", get(verify_page))
        .route("/verify/{number}/credential.json", get(public_credential))
        .route("/status/{id}/{purpose}", get(status_list))
        .route("/teo/{id}/did.json", get(did_json))
}

pub(crate) fn templates(env: &mut minijinja::Environment<'static>) {
    crate::render::templates!(
        env,
        "issuance.html",
        "issuance_preview.html",
        "issuance_job.html",
        "issued_list.html",
        "issued.html",
        "my_certificates.html",
        "verify.html",
        "verify_cert.html",
        "verify_card.html",
    );
}

fn bad(e: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(e.to_string())
}

// ---------------------------------------------------------------------------------------
// Issuing jobs

async fn jobs_page(
    st: &AppState,
    ctx: &Ctx,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> R<Response> {
    let p = ctx.require()?;
    let jobs = svc::jobs(st, ctx).await?;
    let sessions: Vec<_> = crate::assess::sessions_visible(st, ctx)
        .await?
        .into_iter()
        .filter(|s| s.status == SessionStatus::Released)
        .collect();
    let certs = crate::assess::bank_certificates(st, ctx)
        .await
        .unwrap_or_default();
    let keys = match (p.role, p.org_id) {
        (Role::TeoStaff, Some(t)) => st.store.issuer_keys(t).await?,
        _ => Vec::new(),
    };
    let did = p
        .org_id
        .filter(|_| p.role == Role::TeoStaff)
        .map(|t| svc::teo_did(st, t));
    page_with_status(
        st,
        ctx,
        "issuance.html",
        context! { jobs => jobs, sessions => sessions, certs => certs, keys => keys, did => did,
        teo_id => p.org_id, errors => errors },
        status,
    )
}

async fn jobs(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = jobs_page(&st, &ctx, vec![], StatusCode::OK).await;
    respond(&st, &ctx, r)
}

#[derive(Deserialize)]
struct FromSession {
    csrf: String,
    session_id: i64,
}

async fn from_session(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(f): Form<FromSession>,
) -> Response {
    let r = async {
        ctx.check_csrf(&f.csrf)?;
        let list = svc::pass_list_of_session(&st, &ctx, f.session_id).await?;
        match svc::create_job(&st, &ctx, list).await {
            Ok(job) => {
                svc::spawn_job(&st, job.id);
                Ok(redirect(&format!("/admin/issuance/{}", job.id)))
            }
            Err(AppError::Invalid(errors)) => {
                jobs_page(&st, &ctx, errors, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(AppError::Conflict(e)) => jobs_page(&st, &ctx, vec![e], StatusCode::CONFLICT).await,
            Err(e) => Err(e),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

/// The upload's form fields and file.
#[derive(Default)]
struct UploadForm {
    csrf: String,
    certificate: String,
    level: String,
    session_ref: String,
    file: Option<(String, Vec<u8>)>,
}

async fn read_upload(mut mp: Multipart) -> R<UploadForm> {
    let mut f = UploadForm::default();
    while let Some(part) = mp.next_field().await.map_err(bad)? {
        let name = part.name().unwrap_or("").to_string();
        if name == "file" {
            let fname = part.file_name().unwrap_or("pass-list.xlsx").to_string();
            f.file = Some((fname, part.bytes().await.map_err(bad)?.to_vec()));
        } else {
            let v = part.text().await.map_err(bad)?;
            match name.as_str() {
                "csrf" => f.csrf = v,
                "certificate" => f.certificate = v,
                "level" => f.level = v,
                "session_ref" => f.session_ref = v,
                _ => {}
            }
        }
    }
    Ok(f)
}

async fn upload(State(st): State<AppState>, ctx: Ctx, mp: Multipart) -> Response {
    let r = async {
        let f = read_upload(mp).await?;
        ctx.check_csrf(&f.csrf)?;
        let Some((name, bytes)) = f.file.filter(|(_, b)| !b.is_empty()) else {
            return jobs_page(
                &st,
                &ctx,
                vec![FieldError::new("file", "required", "choose the pass list file (.xlsx or .csv)", "请选择合格名单文件（.xlsx 或 .csv）")],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        };
        let preview = svc::preview_upload(&st, &ctx, &f.certificate, &f.level, &f.session_ref, &name, &bytes).await;
        let (list, preview) = match preview {
            Ok(p) => p,
            Err(AppError::Invalid(errors)) => {
                return jobs_page(&st, &ctx, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            Err(e) => return Err(e),
        };
        // The file waits in the object store (by its hash) until the TEO confirms.
        let key = st.store.objects.put(bytes).await?;
        let status = if preview.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        page_with_status(
            &st,
            &ctx,
            "issuance_preview.html",
            context! { preview => preview, key => key, file_name => name, certificate => list.certificate,
                       level => list.level.as_str(), level_zh => list.level.zh(), session_ref => f.session_ref.trim() },
            status,
        )
    }
    .await;
    respond(&st, &ctx, r)
}

#[derive(Deserialize)]
struct Confirm {
    csrf: String,
    key: String,
    file_name: String,
    certificate: String,
    level: String,
    session_ref: String,
}

async fn confirm(State(st): State<AppState>, ctx: Ctx, Form(f): Form<Confirm>) -> Response {
    let r = async {
        ctx.check_csrf(&f.csrf)?;
        let bytes = st.store.objects.get(&f.key).await?;
        let (list, preview) = svc::preview_upload(
            &st,
            &ctx,
            &f.certificate,
            &f.level,
            &f.session_ref,
            &f.file_name,
            &bytes,
        )
        .await?;
        if !preview.errors.is_empty() {
            return Err(AppError::Invalid(vec![FieldError::new(
                "file",
                "row_errors",
                format!(
                    "{} rows have errors: correct the file and upload it again",
                    preview.errors.len()
                ),
                format!(
                    "有 {} 行存在错误：请更正文件后重新上传",
                    preview.errors.len()
                ),
            )]));
        }
        let job = svc::create_job(&st, &ctx, list).await?;
        svc::spawn_job(&st, job.id);
        Ok(redirect(&format!("/admin/issuance/{}", job.id)))
    }
    .await;
    respond(&st, &ctx, r)
}

#[derive(Deserialize)]
struct Rotate {
    csrf: String,
    teo_id: i64,
}

async fn rotate(State(st): State<AppState>, ctx: Ctx, Form(f): Form<Rotate>) -> Response {
    let r = async {
        ctx.check_csrf(&f.csrf)?;
        svc::rotate_key(&st, &ctx, f.teo_id).await?;
        Ok(redirect("/admin/issuance#keys"))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn job_page(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let job = svc::job(&st, &ctx, id).await?;
        let (rows, total) = st
            .store
            .issued_list(&IssuedFilter {
                job_id: Some(id),
                limit: Some(200),
                ..Default::default()
            })
            .await?;
        let percent = if job.total > 0 {
            job.done * 100 / job.total
        } else {
            100
        };
        page(
            &st,
            &ctx,
            "issuance_job.html",
            context! { job => job, rows => rows, issued => total, percent => percent },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn job_resume(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let r = async {
        ctx.check_csrf(&f.csrf)?;
        let job = svc::job(&st, &ctx, id).await?;
        ctx.authorize(&xcert_domain::access::Action::IssueCertificates { teo_id: job.teo_id })?;
        svc::spawn_job(&st, id);
        Ok(redirect(&format!("/admin/issuance/{id}")))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn job_zip(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let bytes = svc::job_zip(&st, &ctx, id).await?;
        Ok(download(
            bytes,
            &format!("certificates-{id}.zip"),
            "application/zip",
        ))
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// Issued certificates

async fn issued_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(f): Query<IssuedFilter>,
) -> Response {
    let r = async {
        let q = f.clone();
        let (rows, total) = svc::issued_list(&st, &ctx, f).await?;
        page(&st, &ctx, "issued_list.html", context! { rows => rows, total => total, q => q.q, certificate => q.certificate, state => q.state })
    }
    .await;
    respond(&st, &ctx, r)
}

async fn issued_view(
    st: &AppState,
    ctx: &Ctx,
    number: &str,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> R<Response> {
    let row = svc::issued(st, ctx, number).await?;
    let p = ctx.require()?;
    let may_change = xcert_domain::access::authorize(
        Some(&p),
        &xcert_domain::access::Action::IssueCertificates { teo_id: row.teo_id },
    )
    .is_ok();
    let history = if may_change {
        st.store
            .audit_list(&AuditFilter {
                entity: Some("issued_certificate".into()),
                entity_id: Some(row.number.clone()),
                limit: Some(50),
                ..Default::default()
            })
            .await
            .map(|(r, _)| r)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let view = svc::public_view(st, &row);
    let missing: String = xcert_print::covers(&row.holder_name).into_iter().collect();
    page_with_status(
        st,
        ctx,
        "issued.html",
        context! { c => view, row => row, may_change => may_change, history => history, errors => errors, missing_glyphs => missing },
        status,
    )
}

async fn issued_page(State(st): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> Response {
    let r = issued_view(&st, &ctx, &number, vec![], StatusCode::OK).await;
    respond(&st, &ctx, r)
}

/// After a change: back to the certificate, or its page with the refusal beside the form.
async fn after_change(
    st: &AppState,
    ctx: &Ctx,
    number: &str,
    done: R<xcert_store::IssuedRow>,
) -> R<Response> {
    match done {
        Ok(row) => Ok(redirect(&format!("/admin/issued/{}", row.number))),
        Err(AppError::Invalid(e)) => {
            issued_view(st, ctx, number, e, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AppError::Conflict(e)) => {
            issued_view(st, ctx, number, vec![e], StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct StateForm {
    csrf: String,
    state: String,
    #[serde(default)]
    reason: String,
}

async fn set_state(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<StateForm>,
) -> Response {
    let r = async {
        ctx.check_csrf(&f.csrf)?;
        let to = IssuedState::parse(&f.state)
            .ok_or_else(|| bad("state must be active, suspended or revoked"))?;
        let done = svc::change_state(&st, &ctx, &number, to, &f.reason).await;
        after_change(&st, &ctx, &number, done).await
    }
    .await;
    respond(&st, &ctx, r)
}

#[derive(Deserialize)]
struct CorrectForm {
    csrf: String,
    holder_name: String,
    #[serde(default)]
    college_name: String,
    #[serde(default)]
    reason: String,
}

async fn correct(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<CorrectForm>,
) -> Response {
    let r = async {
        ctx.check_csrf(&f.csrf)?;
        let done = svc::correct(
            &st,
            &ctx,
            &number,
            &f.holder_name,
            Some(&f.college_name),
            &f.reason,
        )
        .await;
        after_change(&st, &ctx, &number, done).await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn pdf(State(st): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> Response {
    let r = async {
        let bytes = svc::pdf(&st, &ctx, &number).await?;
        Ok(download(
            bytes,
            &format!("{}.pdf", number.trim()),
            "application/pdf",
        ))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn credential_json(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Response {
    credential_download(&st, &ctx, &number, false).await
}

async fn credential_jwt(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Response {
    credential_download(&st, &ctx, &number, true).await
}

/// The signed credential as a file: JSON-LD with its proof, or the JWT.
async fn credential_download(st: &AppState, ctx: &Ctx, number: &str, jwt: bool) -> Response {
    let r = async {
        let row = svc::issued(st, ctx, number).await?;
        Ok(if jwt {
            download(
                row.credential_jwt.into_bytes(),
                &format!("{}.jwt", row.number),
                "application/vc+jwt",
            )
        } else {
            download(
                row.credential_json.into_bytes(),
                &format!("{}.json", row.number),
                "application/vc+ld+json",
            )
        })
    }
    .await;
    respond(st, ctx, r)
}

async fn mine(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let p = ctx.require()?;
        if p.role != Role::Candidate {
            return Ok(redirect("/admin/issued"));
        }
        let (rows, _) = svc::issued_list(&st, &ctx, IssuedFilter::default()).await?;
        let views: Vec<_> = rows.iter().map(|r| svc::public_view(&st, r)).collect();
        page(
            &st,
            &ctx,
            "my_certificates.html",
            context! { rows => views },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// Public

async fn verify_form(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = page(&st, &ctx, "verify.html", context! { f => context! {} });
    respond(&st, &ctx, r)
}

#[derive(Deserialize, Default)]
struct QueryForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    name: String,
}

async fn verify_query(State(st): State<AppState>, ctx: Ctx, Form(f): Form<QueryForm>) -> Response {
    let r = async {
        ctx.check_csrf(&f.csrf)?;
        st.query_limit.check(&ctx.client).map_err(AppError::TooManyRequests)?;
        let form = context! { number => f.number, name => f.name, by => if f.id_number.trim().is_empty() { "number" } else { "id" } };
        match svc::public_query(&st, Some(&f.number), Some(&f.id_number), &f.name).await {
            Ok(found) => page(&st, &ctx, "verify.html", context! { f => form, found => found, searched => true }),
            Err(AppError::Invalid(errors)) => page_with_status(
                &st,
                &ctx,
                "verify.html",
                context! { f => form, errors => errors },
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Err(e) => Err(e),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn verify_check(State(st): State<AppState>, ctx: Ctx, mut mp: Multipart) -> Response {
    let r = async {
        let mut csrf = String::new();
        let mut text = String::new();
        while let Some(part) = mp.next_field().await.map_err(bad)? {
            match part.name().unwrap_or("") {
                "csrf" => csrf = part.text().await.map_err(bad)?,
                "credential" => {
                    let t = part.text().await.map_err(bad)?;
                    if !t.trim().is_empty() {
                        text = t;
                    }
                }
                "file" => {
                    let b = part.bytes().await.map_err(bad)?;
                    if !b.is_empty() {
                        text = String::from_utf8_lossy(&b).into_owned();
                    }
                }
                _ => {}
            }
        }
        ctx.check_csrf(&csrf)?;
        let form = context! {};
        match svc::verify_text(&st, &text).await {
            Ok(report) => page(
                &st,
                &ctx,
                "verify.html",
                context! { f => form, report => report, pasted => text },
            ),
            Err(AppError::Invalid(errors)) => page_with_status(
                &st,
                &ctx,
                "verify.html",
                context! { f => form, check_errors => errors, pasted => text },
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Err(e) => Err(e),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

/// The stable page per certificate: what a QR code opens. Always reads the current
/// state, so a revocation shows on the next request.
async fn verify_page(State(st): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> Response {
    let r = async {
        match svc::public_record(&st, &number).await? {
            // Anonymous visitors (QR scans, employers) all get the same page: keep it.
            Some(e) if ctx.session.is_none() => {
                let cached = e
                    .pages
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(ctx.lang)
                    .cloned();
                let html = match cached {
                    Some(h) => h,
                    None => {
                        let h: axum::body::Bytes = crate::render::render_html(
                            &st,
                            &ctx,
                            "verify_cert.html",
                            context! { c => &e.view },
                        )?
                        .into();
                        e.pages
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(ctx.lang, h.clone());
                        h
                    }
                };
                Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
            }
            Some(e) => page(&st, &ctx, "verify_cert.html", context! { c => &e.view }),
            None => page_with_status(
                &st,
                &ctx,
                "verify_cert.html",
                context! { number => number },
                StatusCode::NOT_FOUND,
            ),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn public_credential(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Response {
    let r = async {
        let row = svc::public_by_number(&st, &number)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("certificate {number}")))?;
        Ok((
            [(header::CONTENT_TYPE, "application/vc+ld+json")],
            row.credential_json,
        )
            .into_response())
    }
    .await;
    respond(&st, &ctx, r)
}

async fn status_list(
    State(st): State<AppState>,
    Path((id, purpose)): Path<(i64, String)>,
) -> Response {
    match svc::status_list_vc(&st, id, &purpose).await {
        Ok(v) => (
            [
                (header::CONTENT_TYPE, "application/vc+ld+json"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            Json(v.as_ref().clone()),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn did_json(State(st): State<AppState>, Path(id): Path<i64>) -> Response {
    match svc::did_document(&st, id).await {
        Ok(v) => ([(header::CONTENT_TYPE, "application/did+json")], Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}
