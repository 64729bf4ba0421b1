//! JSON API under `/api/v1`: the same services and access rules as the pages.
//! Authenticate with `POST /auth/login` and send `Authorization: Bearer TOKEN`, or use
//! the session cookie plus an `X-CSRF-Token` header on changes.

use crate::AppState;
use crate::auth::Ctx;
use crate::error::{ApiResult, AppError};
use crate::service;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use xcert_domain::FieldError;
use xcert_domain::access::Action;
use xcert_domain::case::CfPackage;
use xcert_domain::certificate::CertificateInput;
use xcert_domain::framework::Level;
use xcert_domain::org::{OrganizationInput, TeoState};
use xcert_domain::person::PersonInput;
use xcert_domain::standard::StandardTree;
use xcert_store::{AuditFilter, CatalogueFilter, LoginOutcome, NewUser, OrgFilter};

mod assess;
mod certs;
mod declare;
pub(crate) use assess::assembly_options;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/ingest/runs",
            get(ingest_runs)
                .post(ingest_create)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::ingest::UPLOAD_LIMIT,
                )),
        )
        .route("/ingest/runs/{id}", get(ingest_run))
        .route("/ingest/runs/{id}/report", get(ingest_report))
        .route("/ingest/runs/{id}/files", get(ingest_files))
        .route("/ingest/runs/{id}/catalog.csv", get(ingest_catalog_csv))
        .route(
            "/ingest/runs/{id}/catalog.parquet",
            get(ingest_catalog_parquet),
        )
        .route(
            "/ingest/runs/{id}/files/{file_id}/label",
            post(ingest_label),
        )
        .route("/ingest/runs/{id}/near/{key}", post(ingest_near))
        .route("/ingest/runs/{id}/resume", post(ingest_resume))
        .route("/ingest/runs/{id}/cancel", post(ingest_cancel))
        .route("/openapi.json", get(openapi))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
        .route("/levels", get(levels))
        .route("/organizations", get(org_list).post(org_create))
        .route("/organizations/{id}", get(org_get).put(org_update))
        .route("/organizations/{id}/state", post(org_state))
        .route("/certificates", get(cert_list).post(cert_create))
        .route("/certificates/{code}", get(cert_get).put(cert_update))
        .route(
            "/certificates/{code}/standard",
            get(standard_get).put(standard_put),
        )
        .route(
            "/certificates/{code}/standard/versions",
            get(standard_versions),
        )
        .route(
            "/certificates/{code}/standard/publish",
            post(standard_publish),
        )
        .route(
            "/certificates/{code}/standard/case",
            get(standard_case).post(standard_case_import),
        )
        .route("/people", get(people_list).post(person_create))
        .route("/people/{id}", get(person_get).put(person_update))
        .route("/users", get(users_list).post(user_create))
        .route("/users/{username}", axum::routing::put(user_update))
        .route("/audit", get(audit_list))
        .route("/audit/verify", get(audit_verify))
        .route("/imports", post(import_upload))
        .route("/imports/{id}", get(import_get))
        .route("/imports/{id}/confirm", post(import_confirm))
        .route("/export.xlsx", get(export))
        .merge(assess::routes())
        .merge(certs::routes())
        .merge(declare::routes())
        .fallback(|| async { AppError::NotFound("API route".into()) })
}

/// Parse a JSON body ourselves so malformed JSON gets our error shape (400).
pub(crate) fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))
}

async fn openapi(State(st): State<AppState>) -> Json<Value> {
    Json(crate::openapi::document(&st.config.base_url))
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(State(st): State<AppState>, ctx: Ctx, b: Bytes) -> ApiResult<Response> {
    let b: LoginBody = body(&b)?;
    match st
        .store
        .login(&b.username, &b.password, &ctx.client)
        .await?
    {
        LoginOutcome::Ok { token, csrf, user } => {
            Ok(Json(json!({"token": token, "csrf_token": csrf, "user": user})).into_response())
        }
        LoginOutcome::BadCredentials => Err(AppError::Unauthorized),
        LoginOutcome::Throttled { retry_after_secs } => {
            Err(AppError::TooManyRequests(retry_after_secs))
        }
    }
}

async fn logout(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
) -> ApiResult<StatusCode> {
    ctx.require()?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| crate::auth::cookie(&headers, crate::auth::SESSION_COOKIE));
    if let Some(t) = token {
        st.store.logout(&t).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn me(ctx: Ctx) -> ApiResult<Json<Value>> {
    let s = ctx.session.as_ref().ok_or(AppError::Unauthorized)?;
    Ok(Json(json!({"user": s.user, "csrf_token": s.csrf})))
}

async fn levels() -> Json<Value> {
    Json(json!({"levels": Level::ALL.iter().map(|l| l.descriptor()).collect::<Vec<_>>()}))
}

async fn org_list(
    State(st): State<AppState>,
    Query(f): Query<OrgFilter>,
) -> ApiResult<Json<Value>> {
    let rows = st.store.org_list(&f).await?;
    Ok(Json(json!({"items": rows, "total": rows.len()})))
}

async fn org_get(State(st): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(st.store.org_get(id).await?)))
}

async fn org_create(State(st): State<AppState>, ctx: Ctx, b: Bytes) -> ApiResult<Response> {
    let input: OrganizationInput = body(&b)?;
    let row = service::create_org(&st, &ctx, &input).await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

async fn org_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let input: OrganizationInput = body(&b)?;
    Ok(Json(json!(
        service::update_org(&st, &ctx, id, &input).await?
    )))
}

#[derive(Deserialize)]
struct StateBody {
    state: String,
    #[serde(default)]
    reason: String,
}

async fn org_state(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let s: StateBody = body(&b)?;
    TeoState::parse("state", &s.state).map_err(|e| AppError::Invalid(vec![e]))?;
    Ok(Json(json!(
        service::set_teo_state(&st, &ctx, id, &s.state, &s.reason).await?
    )))
}

async fn cert_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(mut f): Query<CatalogueFilter>,
) -> ApiResult<Json<Value>> {
    service::catalogue_scope(&ctx, &mut f);
    let (rows, total) = st.store.catalogue(&f).await?;
    Ok(Json(json!({"items": rows, "total": total})))
}

#[derive(Deserialize)]
struct CertBody {
    #[serde(default)]
    teo_id: Option<i64>,
    #[serde(flatten)]
    input: CertificateBody,
}

/// Certificate fields in JSON: lists may be arrays or `;`-separated strings.
#[derive(Deserialize, Default)]
struct CertificateBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_en: Option<String>,
    #[serde(default)]
    levels: Option<Value>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    majors: Option<Value>,
    #[serde(default)]
    posts: Option<Value>,
    #[serde(default)]
    competitions: Option<Value>,
    #[serde(default)]
    description: Option<String>,
}

fn list_text(v: &Option<Value>) -> String {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

impl CertificateBody {
    fn input(&self) -> CertificateInput {
        CertificateInput {
            code: self.code.clone(),
            name_zh: self.name_zh.clone(),
            name_en: self.name_en.clone().unwrap_or_default(),
            levels: list_text(&self.levels),
            status: self.status.clone().unwrap_or_default(),
            majors: list_text(&self.majors),
            posts: list_text(&self.posts),
            competitions: list_text(&self.competitions),
            description: self.description.clone().unwrap_or_default(),
        }
    }
}

async fn cert_create(State(st): State<AppState>, ctx: Ctx, b: Bytes) -> ApiResult<Response> {
    let b: CertBody = body(&b)?;
    let row = service::create_certificate(&st, &ctx, b.teo_id, &b.input.input()).await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

async fn cert_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    let (cert, can_edit) = service::certificate_visible(&st, &ctx, &code).await?;
    let mut v = json!(cert);
    v["can_edit"] = json!(can_edit);
    Ok(Json(v))
}

async fn cert_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let mut b: CertificateBody = body(&b)?;
    b.code = code.clone();
    Ok(Json(json!(
        service::update_certificate(&st, &ctx, &code, &b.input()).await?
    )))
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

async fn standard_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<Value>> {
    let (cert, _) = service::certificate_visible(&st, &ctx, &code).await?;
    let insider = service::insider(&ctx, &cert);
    let s = service::standard_for(&st, &cert, q.version, insider)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("standard of {code}")))?;
    Ok(Json(json!(s)))
}

async fn standard_versions(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    let (cert, _) = service::certificate_visible(&st, &ctx, &code).await?;
    let v = service::visible_versions(&st, &ctx, &cert).await?;
    Ok(Json(json!({"items": v})))
}

/// Either `{"tree": {...}}` or `{"outline": "# ...\n## ...\n- [初级] ..."}`.
#[derive(Deserialize)]
struct StandardBody {
    tree: Option<StandardTree>,
    outline: Option<String>,
    note: Option<String>,
    #[serde(default)]
    publish: bool,
}

async fn standard_put(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let b: StandardBody = body(&b)?;
    let tree = match (b.tree, b.outline) {
        (Some(t), _) => t,
        (None, Some(o)) => StandardTree::parse_outline(&o)?,
        (None, None) => return Err(AppError::Invalid(vec![FieldError::required("tree")])),
    };
    let mut v = service::save_standard(&st, &ctx, &code, &tree, b.note.as_deref()).await?;
    if b.publish {
        v = service::publish_standard(&st, &ctx, &code).await?;
    }
    Ok(Json(json!(v)))
}

async fn standard_publish(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(
        service::publish_standard(&st, &ctx, &code).await?
    )))
}

async fn standard_case(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<CfPackage>> {
    Ok(Json(
        service::case_package(&st, &ctx, &code, q.version).await?,
    ))
}

async fn standard_case_import(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let text =
        std::str::from_utf8(&b).map_err(|_| AppError::BadRequest("body is not UTF-8".into()))?;
    let imported = xcert_domain::case::parse_case_json(text)?;
    let v = service::save_standard(&st, &ctx, &code, &imported.tree, Some("CASE import")).await?;
    Ok(Json(json!(v)))
}

#[derive(Deserialize)]
struct PeopleQuery {
    q: Option<String>,
    college: Option<i64>,
}

async fn people_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PeopleQuery>,
) -> ApiResult<Json<Value>> {
    let p = ctx.require()?;
    let rows = st
        .store
        .people_list(&p.people_scope(), q.q.as_deref(), q.college)
        .await?;
    Ok(Json(json!({"items": rows, "total": rows.len()})))
}

#[derive(Deserialize)]
struct PersonBody {
    college_id: Option<i64>,
    #[serde(flatten)]
    input: PersonInput,
}

async fn person_create(State(st): State<AppState>, ctx: Ctx, b: Bytes) -> ApiResult<Response> {
    let b: PersonBody = body(&b)?;
    let row = service::create_person(&st, &ctx, b.college_id, &b.input).await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

async fn person_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(service::view_person(&st, &ctx, id).await?)))
}

async fn person_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let input: PersonInput = body(&b)?;
    Ok(Json(json!(
        service::update_person(&st, &ctx, id, &input).await?
    )))
}

async fn users_list(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let p = ctx.authorize(&Action::ViewUsers)?;
    let rows = st.store.users_list(&p.user_scope()).await?;
    Ok(Json(json!({"items": rows})))
}

async fn user_create(State(st): State<AppState>, ctx: Ctx, b: Bytes) -> ApiResult<Response> {
    let u: NewUser = body(&b)?;
    let row = service::create_user(&st, &ctx, &u).await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

#[derive(Deserialize)]
struct UserUpdate {
    active: Option<bool>,
    password: Option<String>,
}

async fn user_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let u: UserUpdate = body(&b)?;
    Ok(Json(json!(
        service::update_user(&st, &ctx, &username, u.active, u.password.as_deref()).await?
    )))
}

async fn audit_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(f): Query<AuditFilter>,
) -> ApiResult<Json<Value>> {
    let (rows, total) = service::audit_list(&st, &ctx, f).await?;
    Ok(Json(json!({"items": rows, "total": total})))
}

async fn audit_verify(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    ctx.authorize(&Action::ViewAudit)?;
    Ok(Json(match st.store.audit_verify().await? {
        Ok(n) => json!({"intact": true, "entries": n}),
        Err(b) => json!({"intact": false, "problem": b.to_string()}),
    }))
}

#[derive(Deserialize)]
struct ImportQuery {
    file_name: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

/// Upload a file as the raw body (`?file_name=x.xlsx`). Returns the preview; unless
/// `dry_run`, the file is staged and `POST /imports/{id}/confirm` applies it.
async fn import_upload(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ImportQuery>,
    b: Bytes,
) -> ApiResult<Response> {
    let p = ctx.authorize(&Action::Import)?;
    let name = q.file_name.unwrap_or_else(|| "upload.xlsx".into());
    let set = xcert_bulk::read_file(&name, &b).map_err(|e| {
        AppError::Invalid(vec![FieldError::new("file", "bad_file", e.en(), e.zh())])
    })?;
    let preview = st.store.import_apply(&p, &set, false).await?;
    if q.dry_run {
        return Ok(Json(json!({"preview": preview})).into_response());
    }
    let id = st
        .store
        .import_stage(&p, &name, b.to_vec(), &preview)
        .await?;
    let status = if preview.errors.is_empty() {
        StatusCode::CREATED
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(json!({"id": id, "preview": preview}))).into_response())
}

async fn import_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let p = ctx.authorize(&Action::Import)?;
    let job = st.store.import_job(id).await?;
    if job.created_by != p.username {
        return Err(AppError::NotFound(format!("import {id}")));
    }
    Ok(Json(json!(job)))
}

async fn import_confirm(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let p = ctx.authorize(&Action::Import)?;
    let s = st.store.import_confirm(&p, id).await?;
    let status = if s.committed {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(json!(s))).into_response())
}

#[derive(Deserialize, Default)]
struct ExportQuery {
    #[serde(default)]
    include_ids: bool,
}

async fn export(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let bytes = service::export_bytes(&st, &ctx, q.include_ids).await?;
    Ok(crate::render::download(
        bytes,
        "xcert-export.xlsx",
        crate::render::XLSX,
    ))
}

async fn ingest_runs(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let p = ctx.require()?;
    Ok(Json(json!(crate::ingest::runs_visible(&st, &p).await?)))
}

async fn ingest_create(
    State(st): State<AppState>,
    ctx: Ctx,
    mp: axum::extract::Multipart,
) -> ApiResult<Response> {
    let p = ctx.require()?;
    let form = crate::ingest::receive(&st, mp).await?;
    let id = crate::ingest::create_from_upload(&st, &p, &form).await?;
    let run = st.store.ingest_run(id).await?;
    Ok((StatusCode::CREATED, Json(json!(run))).into_response())
}

async fn ingest_run(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (_, run) = crate::ingest::run_for(&st, &ctx, id).await?;
    Ok(Json(json!(run)))
}

async fn ingest_report(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (run, report) = crate::ingest::report(&st, &ctx, id).await?;
    Ok(Json(xcert_store::ingest_report_json(&run, report.as_ref())))
}

async fn ingest_files(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(f): Query<xcert_store::FileFilter>,
) -> ApiResult<Json<Value>> {
    crate::ingest::run_for(&st, &ctx, id).await?;
    let (entries, total) = st.store.ingest_files(id, &f).await?;
    let files: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            let mut r = e.record;
            r.minhash = None;
            let mut v = json!(r);
            v["id"] = json!(e.id);
            v
        })
        .collect();
    Ok(Json(json!({ "total": total, "files": files })))
}

async fn ingest_catalog(st: AppState, ctx: Ctx, id: i64, ext: &str) -> ApiResult<Response> {
    let bytes = crate::ingest::catalog_bytes(&st, &ctx, id, ext).await?;
    let mime = if ext == "csv" {
        "text/csv; charset=utf-8"
    } else {
        "application/vnd.apache.parquet"
    };
    Ok(crate::render::download(
        bytes,
        &format!("xcert-catalog-{id}.{ext}"),
        mime,
    ))
}

async fn ingest_catalog_csv(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    ingest_catalog(st, ctx, id, "csv").await
}

async fn ingest_catalog_parquet(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    ingest_catalog(st, ctx, id, "parquet").await
}

#[derive(Deserialize)]
struct LabelBody {
    #[serde(default)]
    category: String,
    #[serde(default)]
    annex: Option<String>,
}

async fn ingest_label(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, file_id)): Path<(i64, i64)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let b: LabelBody = self::body(&body)?;
    let changed = crate::ingest::label(
        &st,
        &ctx,
        id,
        file_id,
        &b.category,
        b.annex.as_deref().unwrap_or(""),
    )
    .await?;
    let file = st.store.ingest_file(id, file_id).await?;
    let mut r = file.record;
    r.minhash = None;
    Ok(Json(json!({ "file": r, "reclassified": changed })))
}

#[derive(Deserialize)]
struct NearBody {
    #[serde(default)]
    decision: String,
}

async fn ingest_near(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, key)): Path<(i64, String)>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let b: NearBody = self::body(&body)?;
    crate::ingest::near_decide(&st, &ctx, id, &key, &b.decision).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn ingest_resume(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    crate::ingest::resume(&st, &ctx, id).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn ingest_cancel(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    crate::ingest::cancel(&st, &ctx, id).await?;
    Ok(StatusCode::ACCEPTED)
}
