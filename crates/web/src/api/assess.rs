//! Assessment API: question banks, exam sessions, candidates' attempts, scoring, results.

use super::body;
use crate::AppState;
use crate::assess::{self as svc, Answers, SessionInput};
use crate::auth::Ctx;
use crate::error::{ApiResult, AppError};
use crate::render::{XLSX, download};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use xcert_assess::item::{Item, ReviewStatus};
use xcert_store::{ItemFilter, SessionStatus};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/certificates/{code}/items",
            get(items_list).post(item_create),
        )
        .route(
            "/certificates/{code}/items/{item_id}",
            get(item_get).put(item_update),
        )
        .route(
            "/certificates/{code}/items/{item_id}/status",
            post(item_status),
        )
        .route(
            "/certificates/{code}/items/{item_id}/versions",
            get(item_versions),
        )
        .route(
            "/certificates/{code}/item-imports",
            post(import_stage).layer(axum::extract::DefaultBodyLimit::max(512 << 20)),
        )
        .route(
            "/certificates/{code}/item-imports/{import_id}",
            get(import_get),
        )
        .route(
            "/certificates/{code}/item-imports/{import_id}/confirm",
            post(import_confirm),
        )
        .route("/certificates/{code}/items.qti3.zip", get(export_qti3))
        .route("/certificates/{code}/items.xlsx", get(export_xlsx))
        .route("/item-template.xlsx", get(item_template))
        .route(
            "/certificates/{code}/blueprints",
            get(blueprints_list).post(blueprint_create),
        )
        .route(
            "/certificates/{code}/blueprints/draft",
            get(blueprint_draft),
        )
        .route(
            "/certificates/{code}/blueprints/{blueprint_id}",
            get(blueprint_get).put(blueprint_put),
        )
        .route(
            "/certificates/{code}/blueprints/{blueprint_id}/assemble",
            post(blueprint_assemble),
        )
        .route(
            "/certificates/{code}/assemblies/{assembly_id}",
            get(assembly_get),
        )
        .route(
            "/certificates/{code}/assemblies/{assembly_id}/accept",
            post(assembly_accept),
        )
        .route(
            "/certificates/{code}/analyses",
            get(analyses_list).post(analysis_run),
        )
        .route(
            "/certificates/{code}/analyses/{analysis_id}",
            get(analysis_get),
        )
        .route(
            "/certificates/{code}/forms",
            get(forms_list).post(forms_create),
        )
        .route("/certificates/{code}/forms/{form_id}", get(form_get))
        .route(
            "/certificates/{code}/result-rules/{level}",
            get(rule_get).put(rule_put),
        )
        .route("/exam-sessions", get(sessions_list).post(session_create))
        .route("/exam-sessions/{id}", get(session_get))
        .route(
            "/exam-sessions/{id}/candidates",
            get(candidates_list).post(candidates_register),
        )
        .route("/exam-sessions/{id}/status", post(session_status))
        .route("/exam-sessions/{id}/process-scores", put(process_scores))
        .route("/exam-sessions/{id}/scoring", get(scoring_sheet))
        .route(
            "/exam-sessions/{id}/practical/{candidate_id}/{task}",
            put(practical_put),
        )
        .route("/exam-sessions/{id}/marking", get(marking_queue))
        .route(
            "/exam-sessions/{id}/marking/{candidate_id}/{position}",
            put(mark_put),
        )
        .route("/exam-sessions/{id}/results", get(results_get))
        .route("/exam-sessions/{id}/results/compute", post(results_compute))
        .route("/exam-sessions/{id}/results.xlsx", get(results_xlsx))
        .route("/exam-sessions/{id}/pass-list", get(pass_list))
        .route("/me/exams", get(my_exams))
        .route("/attempts/{id}", get(attempt_get))
        .route("/attempts/{id}/start", post(attempt_start))
        .route("/attempts/{id}/answers", put(attempt_save))
        .route("/attempts/{id}/submit", post(attempt_submit))
        .route("/attempts/{id}/result", get(attempt_result))
}

async fn items_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(f): Query<ItemFilter>,
) -> ApiResult<Json<Value>> {
    let (_, rows, total) = svc::items(&st, &ctx, &code, &f).await?;
    Ok(Json(json!({"items": rows, "total": total})))
}

/// An item as the API takes it: the interchange shape plus review status and a note.
#[derive(Deserialize)]
struct ItemBody {
    #[serde(flatten)]
    item: Item,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

fn status_of(s: &Option<String>) -> ApiResult<Option<ReviewStatus>> {
    s.as_deref()
        .map(|s| ReviewStatus::parse("status", s))
        .transpose()
        .map_err(|e| AppError::Invalid(vec![e]))
}

async fn item_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    b: Bytes,
) -> ApiResult<Response> {
    let b: ItemBody = body(&b)?;
    let status = status_of(&b.status)?;
    let (row, outcome) =
        svc::item_save(&st, &ctx, &code, &b.item, status, b.note.as_deref()).await?;
    let code = if outcome == xcert_store::UpsertOutcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(json!({"item": row, "outcome": outcome}))).into_response())
}

async fn item_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let mut b: ItemBody = body(&b)?;
    let (_, current, _) = svc::item_detail(&st, &ctx, &code, id, None).await?;
    // The identifier names the item; a PUT to /items/ID keeps it.
    b.item.meta.ident = current.ident;
    let status = status_of(&b.status)?;
    let (row, outcome) =
        svc::item_save(&st, &ctx, &code, &b.item, status, b.note.as_deref()).await?;
    Ok(Json(json!({"item": row, "outcome": outcome})))
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

async fn item_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<Value>> {
    let (_, item, v) = svc::item_detail(&st, &ctx, &code, id, q.version).await?;
    Ok(Json(json!({"item": item, "version": v})))
}

async fn item_versions(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    svc::item_detail(&st, &ctx, &code, id, None).await?;
    Ok(Json(json!({"items": st.store.item_versions(id).await?})))
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

async fn item_status(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let b: StatusBody = body(&b)?;
    let s = ReviewStatus::parse("status", &b.status).map_err(|e| AppError::Invalid(vec![e]))?;
    Ok(Json(json!(
        svc::item_set_status(&st, &ctx, &code, id, s).await?
    )))
}

#[derive(Deserialize)]
struct StageQuery {
    #[serde(default)]
    file_name: String,
}

async fn import_stage(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<StageQuery>,
    b: Bytes,
) -> ApiResult<Response> {
    if b.is_empty() {
        return Err(AppError::Invalid(vec![xcert_domain::FieldError::required(
            "file",
        )]));
    }
    let row = svc::bank_import_stage(&st, &ctx, &code, &q.file_name, b.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

async fn import_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let (_, row) = svc::bank_import_get(&st, &ctx, &code, id).await?;
    Ok(Json(json!(row)))
}

#[derive(Deserialize, Default)]
struct ConfirmBody {
    #[serde(default)]
    status: Option<String>,
}

async fn import_confirm(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let b: ConfirmBody = if b.is_empty() {
        ConfirmBody::default()
    } else {
        body(&b)?
    };
    let status = status_of(&b.status)?;
    Ok(Json(json!(
        svc::bank_import_apply(&st, &ctx, &code, id, status).await?
    )))
}

async fn export_qti3(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(f): Query<ItemFilter>,
) -> ApiResult<Response> {
    let (bytes, name, mime) = svc::bank_export(&st, &ctx, &code, "qti3", &f).await?;
    Ok(download(bytes, &name, mime))
}

async fn export_xlsx(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(f): Query<ItemFilter>,
) -> ApiResult<Response> {
    let (bytes, name, mime) = svc::bank_export(&st, &ctx, &code, "xlsx", &f).await?;
    Ok(download(bytes, &name, mime))
}

async fn item_template() -> ApiResult<Response> {
    let bytes = xcert_assess::interchange::template_xlsx()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(download(bytes, "xcert-item-template.xlsx", XLSX))
}

async fn blueprints_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, cert) = svc::bank_cert(&st, &ctx, &code).await?;
    let rows = st.store.blueprints(cert.id).await?;
    Ok(Json(json!({"items": rows, "total": rows.len()})))
}

#[derive(Deserialize)]
struct LevelQuery {
    level: String,
}

async fn blueprint_draft(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<LevelQuery>,
) -> ApiResult<Json<Value>> {
    let level = xcert_domain::framework::Level::parse("level", &q.level)
        .map_err(|e| AppError::Invalid(vec![e]))?;
    Ok(Json(json!(
        svc::blueprint_draft(&st, &ctx, &code, level).await?
    )))
}

async fn blueprint_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    b: Bytes,
) -> ApiResult<Response> {
    let spec: xcert_assess::blueprint::Blueprint = body(&b)?;
    let row = svc::blueprint_save(&st, &ctx, &code, None, &spec).await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

async fn blueprint_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let (_, b) = svc::blueprint_get(&st, &ctx, &code, id).await?;
    Ok(Json(json!(b)))
}

async fn blueprint_put(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let spec: xcert_assess::blueprint::Blueprint = body(&b)?;
    Ok(Json(json!(
        svc::blueprint_save(&st, &ctx, &code, Some(id), &spec).await?
    )))
}

/// Assembly options as the API takes them (all optional).
#[derive(Deserialize, Default)]
struct AssembleBody {
    #[serde(default)]
    solver: Option<String>,
    #[serde(default)]
    time_limit_s: Option<f64>,
    #[serde(default)]
    gap: Option<f64>,
    #[serde(default)]
    seed: Option<u64>,
}

pub(crate) fn assembly_options(
    solver: Option<&str>,
    time_limit_s: Option<f64>,
    gap: Option<f64>,
    seed: Option<u64>,
) -> ApiResult<xcert_assess::assemble::AssemblyOptions> {
    let mut o = xcert_assess::assemble::AssemblyOptions::default();
    if let Some(s) = solver.filter(|s| !s.trim().is_empty()) {
        o.solver = xcert_assess::assemble::SolverChoice::parse("solver", s)
            .map_err(|e| AppError::Invalid(vec![e]))?;
    }
    if let Some(t) = time_limit_s {
        if !(0.1..=600.0).contains(&t) {
            return Err(AppError::Invalid(vec![xcert_domain::FieldError::new(
                "time_limit_s",
                "bad_time",
                "the time limit is 0.1–600 seconds",
                "求解时限应为 0.1–600 秒",
            )]));
        }
        o.time_limit = std::time::Duration::from_secs_f64(t);
    }
    if let Some(g) = gap {
        if !(0.0..=0.5).contains(&g) {
            return Err(AppError::Invalid(vec![xcert_domain::FieldError::new(
                "gap",
                "bad_gap",
                "the gap is between 0 and 0.5 (50 %)",
                "相对差距应在 0 至 0.5（50%）之间",
            )]));
        }
        o.mip_gap = g;
    }
    if let Some(s) = seed {
        o.seed = s;
    }
    Ok(o)
}

async fn blueprint_assemble(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    b: Bytes,
) -> ApiResult<Response> {
    let b: AssembleBody = if b.is_empty() {
        AssembleBody::default()
    } else {
        body(&b)?
    };
    let o = assembly_options(b.solver.as_deref(), b.time_limit_s, b.gap, b.seed)?;
    let row = svc::assemble(&st, &ctx, &code, id, o).await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

async fn assembly_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let (_, a) = svc::assembly_get(&st, &ctx, &code, id).await?;
    Ok(Json(json!(a)))
}

async fn assembly_accept(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> ApiResult<Response> {
    let forms = svc::assembly_accept(&st, &ctx, &code, id).await?;
    Ok((StatusCode::CREATED, Json(json!({"items": forms}))).into_response())
}

async fn analyses_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, cert) = svc::bank_cert(&st, &ctx, &code).await?;
    let rows = st.store.analyses(cert.id).await?;
    Ok(Json(json!({"items": rows, "total": rows.len()})))
}

#[derive(Deserialize)]
struct AnalysisBody {
    level: String,
    #[serde(default)]
    session_id: Option<i64>,
    #[serde(default)]
    irt: Option<xcert_assess::analysis::report::IrtRequest>,
}

async fn analysis_run(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    b: Bytes,
) -> ApiResult<Response> {
    let b: AnalysisBody = body(&b)?;
    let level = xcert_domain::framework::Level::parse("level", &b.level)
        .map_err(|e| AppError::Invalid(vec![e]))?;
    let id = svc::analyze(
        &st,
        &ctx,
        &code,
        level,
        b.session_id,
        b.irt
            .unwrap_or(xcert_assess::analysis::report::IrtRequest::Auto),
    )
    .await?;
    let (_, a) = svc::analysis_get(&st, &ctx, &code, id).await?;
    Ok((StatusCode::CREATED, Json(json!(a))).into_response())
}

async fn analysis_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let (_, a) = svc::analysis_get(&st, &ctx, &code, id).await?;
    Ok(Json(json!(a)))
}

async fn forms_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, cert) = svc::bank_cert(&st, &ctx, &code).await?;
    let rows = st.store.forms(cert.id).await?;
    Ok(Json(json!({"items": rows, "total": rows.len()})))
}

/// One form, or several (`{"forms": [...]}`) created together.
#[derive(Deserialize)]
#[serde(untagged)]
enum FormsBody {
    Many { forms: Vec<svc::FormInput> },
    One(svc::FormInput),
}

async fn forms_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    b: Bytes,
) -> ApiResult<Response> {
    let inputs = match body::<FormsBody>(&b)? {
        FormsBody::Many { forms } => forms,
        FormsBody::One(f) => vec![f],
    };
    let rows = svc::forms_create(&st, &ctx, &code, &inputs, None).await?;
    Ok((StatusCode::CREATED, Json(json!({"items": rows}))).into_response())
}

async fn form_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let (_, f) = svc::form_detail(&st, &ctx, &code, id).await?;
    let items: Vec<Value> = f
        .items
        .iter()
        .map(|(fi, content, testlet)| json!({"position": fi.position, "item_id": fi.item_id, "version": fi.version, "points": fi.points, "testlet": testlet, "content": content}))
        .collect();
    Ok(Json(json!({"form": f.form, "items": items})))
}

async fn rule_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, level)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, cert) = svc::bank_cert(&st, &ctx, &code).await?;
    let level = xcert_domain::framework::Level::parse("level", &level)
        .map_err(|e| AppError::Invalid(vec![e]))?;
    Ok(Json(json!(st.store.result_rule(cert.id, level).await?)))
}

async fn rule_put(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, level)): Path<(String, String)>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let rule: xcert_assess::results::ResultRule = body(&b)?;
    svc::rule_set(&st, &ctx, &code, &level, &rule).await?;
    Ok(Json(json!(rule)))
}

async fn sessions_list(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let rows = svc::sessions_visible(&st, &ctx).await?;
    Ok(Json(json!({"items": rows, "total": rows.len()})))
}

async fn session_create(State(st): State<AppState>, ctx: Ctx, b: Bytes) -> ApiResult<Response> {
    let input: SessionInput = body(&b)?;
    let row = svc::session_create(&st, &ctx, &input).await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

async fn session_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (_, s) = svc::session_for(&st, &ctx, id).await?;
    Ok(Json(json!(s)))
}

async fn candidates_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (p, s) = svc::session_for(&st, &ctx, id).await?;
    let rows = svc::session_candidates(&st, &p, &s).await?;
    Ok(Json(json!({"items": rows, "total": rows.len()})))
}

#[derive(Deserialize)]
struct RegisterBody {
    person_ids: Vec<i64>,
}

async fn candidates_register(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let b: RegisterBody = body(&b)?;
    let out = svc::register(&st, &ctx, id, &b.person_ids).await?;
    Ok(Json(json!({"items": out})))
}

async fn session_status(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let b: StatusBody = body(&b)?;
    let to = match b.status.as_str() {
        "closed" => SessionStatus::Closed,
        "released" => SessionStatus::Released,
        other => {
            return Err(AppError::Invalid(vec![xcert_domain::FieldError::new(
                "status",
                "bad_status",
                format!("\"{other}\": use closed or released"),
                format!("“{other}”：应为 closed 或 released"),
            )]));
        }
    };
    Ok(Json(json!(
        svc::session_set_status(&st, &ctx, id, to).await?
    )))
}

#[derive(Deserialize)]
struct ProcessRow {
    ticket: String,
    score: Option<f64>,
}

#[derive(Deserialize)]
struct ProcessBody {
    rows: Vec<ProcessRow>,
}

async fn process_scores(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let b: ProcessBody = body(&b)?;
    let rows: Vec<(String, Option<f64>)> =
        b.rows.into_iter().map(|r| (r.ticket, r.score)).collect();
    let n = svc::process_scores(&st, &ctx, id, &rows).await?;
    Ok(Json(json!({"updated": n})))
}

async fn scoring_sheet(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(svc::scoring_sheet(&st, &ctx, id).await?)))
}

#[derive(Deserialize)]
struct PracticalBody {
    criteria: BTreeMap<String, f64>,
    #[serde(default)]
    comment: Option<String>,
}

async fn practical_put(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, candidate, task)): Path<(i64, i64, i64)>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let b: PracticalBody = body(&b)?;
    let total = svc::practical_score(
        &st,
        &ctx,
        id,
        candidate,
        task,
        &b.criteria,
        b.comment.as_deref().filter(|c| !c.trim().is_empty()),
    )
    .await?;
    Ok(Json(json!({"total": total})))
}

async fn marking_queue(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": svc::marking_queue(&st, &ctx, id).await?}),
    ))
}

#[derive(Deserialize)]
struct MarkBody {
    score: f64,
}

async fn mark_put(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, candidate, position)): Path<(i64, i64, i64)>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let b: MarkBody = body(&b)?;
    Ok(Json(json!(
        svc::mark_response(&st, &ctx, id, candidate, position, b.score).await?
    )))
}

async fn results_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (s, rows) = svc::results(&st, &ctx, id).await?;
    let passed = rows.iter().filter(|r| r.outcome.passed).count();
    Ok(Json(
        json!({"session": s, "items": rows, "total": rows.len(), "passed": passed}),
    ))
}

async fn results_compute(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (n, passed) = svc::results_compute(&st, &ctx, id).await?;
    Ok(Json(json!({"candidates": n, "passed": passed})))
}

#[derive(Deserialize)]
struct XlsxQuery {
    #[serde(default)]
    passed: bool,
}

async fn results_xlsx(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<XlsxQuery>,
) -> ApiResult<Response> {
    let (s, rows) = svc::results(&st, &ctx, id).await?;
    let bytes = svc::results_xlsx(&s, &rows, q.passed)?;
    let name = if q.passed { "pass-list" } else { "results" };
    Ok(download(bytes, &format!("{name}-{}.xlsx", s.id), XLSX))
}

/// The pass list as JSON: what certificate issuance takes.
async fn pass_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (s, rows) = svc::results(&st, &ctx, id).await?;
    if s.status != SessionStatus::Released {
        return Err(AppError::Conflict(xcert_domain::FieldError::new(
            "status",
            "not_released",
            "the pass list exists once the results are released",
            "成绩发布后才有合格名单",
        )));
    }
    let items: Vec<Value> = rows
        .iter()
        .filter(|r| r.outcome.passed)
        .map(|r| {
            json!({
                "ticket": r.candidate.ticket, "person_id": r.candidate.person_id, "name": r.candidate.name,
                "id_masked": r.candidate.id_masked, "college_id": r.candidate.college_id,
                "college": r.candidate.college_name, "total": r.outcome.total,
            })
        })
        .collect();
    Ok(Json(json!({
        "session_id": s.id, "certificate": s.certificate_code, "level": s.level,
        "teo_id": s.teo_id, "date": s.opens_at.get(..10), "items": items, "total": items.len(),
    })))
}

async fn my_exams(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let rows = svc::my_attempts(&st, &ctx).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(c, s)| json!({"attempt": c, "session": s}))
        .collect();
    Ok(Json(json!({"items": items})))
}

async fn attempt_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(svc::attempt_view(&st, &ctx, id).await?)))
}

async fn attempt_start(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(svc::attempt_start(&st, &ctx, id).await?)))
}

#[derive(Deserialize)]
struct AnswersBody {
    #[serde(default)]
    answers: Answers,
    #[serde(default)]
    reason: Option<String>,
}

async fn attempt_save(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let b: AnswersBody = body(&b)?;
    Ok(Json(json!(
        svc::attempt_save(&st, &ctx, id, &b.answers).await?
    )))
}

async fn attempt_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let b: AnswersBody = if b.is_empty() {
        AnswersBody {
            answers: Answers::new(),
            reason: None,
        }
    } else {
        body(&b)?
    };
    Ok(Json(json!(
        svc::attempt_submit(
            &st,
            &ctx,
            id,
            &b.answers,
            b.reason.as_deref().unwrap_or("candidate")
        )
        .await?
    )))
}

async fn attempt_result(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let r = svc::my_result(&st, &ctx, id).await?;
    Ok(Json(json!({"released": r.is_some(), "result": r})))
}
