//! Declaration and review API: batches and their stages, applications, proposals and
//! annexes, the task breakdown, expert review, objections (public), verification,
//! deliberation, statistics. Same services and rules as the pages.

use super::body;
use crate::AppState;
use crate::auth::Ctx;
use crate::declare as svc;
use crate::error::{ApiResult, AppError};
use crate::render::download;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use xcert_declare::BatchInput;

pub fn routes() -> Router<AppState> {
    let files = axum::extract::DefaultBodyLimit::max(svc::MAX_FILE + (1 << 20));
    Router::new()
        .route("/batches", get(batches).post(create_batch))
        .route("/batches/{id}", get(batch).put(update_batch))
        .route("/batches/{id}/advance", post(advance))
        .route("/batches/{id}/publicity", post(extend_publicity))
        .route("/batches/{id}/applications", post(create_application))
        .route("/batches/{id}/review", get(batch_review))
        .route("/batches/{id}/draw", post(draw))
        .route("/batches/{id}/verifications", post(verify).layer(files))
        .route("/batches/{id}/list", get(public_list))
        .route("/batches/{id}/statistics", get(statistics))
        .route("/batches/{id}/statistics.xlsx", get(statistics_xlsx))
        .route("/applications/{id}", get(application))
        .route("/applications/{id}/proposals", post(add_proposal))
        .route("/applications/{id}/submit", post(submit))
        .route("/applications/{id}/units", post(add_unit))
        .route("/applications/{id}/tasks", post(assign_task))
        .route("/applications/{id}/remind", post(remind))
        .route("/proposals/{id}", get(proposal).put(update_proposal))
        .route(
            "/proposals/{id}/annexes/{annex}",
            get(annex).put(upload_annex).layer(files),
        )
        .route("/proposals/{id}/from-run", post(from_run))
        .route("/proposals/{id}/resubmit", post(resubmit))
        .route("/proposals/{id}/formal", post(formal))
        .route("/proposals/{id}/return", post(return_for_changes))
        .route("/proposals/{id}/deliberate", post(deliberate))
        .route("/proposals/{id}/objections", post(file_objection))
        .route("/objections/{id}/handle", post(handle_objection))
        .route("/tasks", get(my_tasks))
        .route("/tasks/{id}/done", post(task_done).layer(files))
        .route("/tasks/{id}/reopen", post(task_reopen))
        .route("/reviews", get(my_reviews))
        .route("/reviews/{id}", get(review))
        .route("/reviews/{id}/scores", post(scores))
        .route("/experts", get(experts).post(add_expert))
        .route("/notifications", get(notifications))
        .route("/notifications/read", post(notifications_read))
        .route("/teo/{id}/proposals", get(teo_results))
}

/// The form fields and the one file of a multipart request (the pages' reader).
async fn multipart(
    mp: Multipart,
) -> ApiResult<(BTreeMap<String, String>, Option<(String, Vec<u8>)>)> {
    let up = crate::pages::read_upload(mp, svc::MAX_FILE).await?;
    Ok((
        up.fields.into_iter().collect(),
        up.file.filter(|(_, b)| !b.is_empty()),
    ))
}

fn flag(v: Option<&String>) -> bool {
    v.is_some_and(|s| matches!(s.trim(), "1" | "true" | "on" | "yes"))
}

async fn batches(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "items": svc::batches(&st, &ctx).await? })))
}

async fn create_batch(State(st): State<AppState>, ctx: Ctx, b: Bytes) -> ApiResult<Response> {
    let input: BatchInput = body(&b)?;
    let row = svc::create_batch(&st, &ctx, &input).await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

async fn batch(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(svc::batch(&st, &ctx, id).await?)))
}

async fn update_batch(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let input: BatchInput = body(&b)?;
    Ok(Json(json!(svc::update_batch(&st, &ctx, id, &input).await?)))
}

#[derive(Deserialize)]
struct To {
    to: String,
}

async fn advance(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let t: To = body(&b)?;
    Ok(Json(json!(svc::advance_batch(&st, &ctx, id, &t.to).await?)))
}

#[derive(Deserialize)]
struct Until {
    until: String,
}

async fn extend_publicity(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let u: Until = body(&b)?;
    Ok(Json(json!(
        svc::extend_publicity(&st, &ctx, id, &u.until).await?
    )))
}

async fn create_application(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Response> {
    let input: svc::ApplicationInput = body(&b)?;
    let row = svc::create_application(&st, &ctx, id, &input).await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

async fn batch_review(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(svc::batch_review(&st, &ctx, id).await?)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Seed {
    seed: Option<i64>,
}

async fn draw(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let s: Seed = if b.is_empty() {
        Seed::default()
    } else {
        body(&b)?
    };
    Ok(Json(json!(svc::draw_experts(&st, &ctx, id, s.seed).await?)))
}

/// Multipart: teo_id, credit_ok, tax_ok, evidence, and an optional evidence file.
async fn verify(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mp: Multipart,
) -> ApiResult<Json<Value>> {
    let (f, file) = multipart(mp).await?;
    let teo_id = f
        .get("teo_id")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| AppError::Invalid(vec![xcert_domain::FieldError::required("teo_id")]))?;
    let row = svc::verify_organization(
        &st,
        &ctx,
        id,
        teo_id,
        flag(f.get("credit_ok")),
        flag(f.get("tax_ok")),
        f.get("evidence").map(String::as_str).unwrap_or(""),
        file,
    )
    .await?;
    Ok(Json(json!(row)))
}

async fn public_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (b, rows) = svc::public_list(&st, &ctx, id).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|p| {
            json!({"id": p.id, "teo": p.teo_name, "province": p.teo_province, "certificate": p.name_zh,
                   "field": p.field, "state": p.state})
        })
        .collect();
    Ok(Json(json!({
        "batch": {"id": b.id, "number": b.number, "title_zh": b.title_zh, "state": b.state,
                  "publicity_from": b.publicity_from, "publicity_until": b.publicity_until},
        "items": items,
    })))
}

async fn statistics(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (b, s) = svc::statistics(&st, &ctx, id).await?;
    Ok(Json(
        json!({"batch_id": b.id, "number": b.number, "statistics": s}),
    ))
}

async fn statistics_xlsx(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let bytes = svc::statistics_xlsx(&st, &ctx, id).await?;
    Ok(download(
        bytes,
        &format!("batch-{id}-statistics.xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ))
}

async fn application(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(svc::application(&st, &ctx, id).await?)))
}

async fn add_proposal(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Response> {
    let input: svc::ProposalInput = body(&b)?;
    let row = svc::add_proposal(&st, &ctx, id, &input).await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

async fn submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "items": svc::submit_application(&st, &ctx, id).await? }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UnitBody {
    name: String,
    org: String,
}

async fn add_unit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Response> {
    let u: UnitBody = body(&b)?;
    let row = svc::add_unit(&st, &ctx, id, &u.name, &u.org).await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

async fn assign_task(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Response> {
    let t: svc::TaskInput = body(&b)?;
    let row = svc::assign_task(&st, &ctx, id, &t).await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RemindBody {
    task_id: Option<i64>,
}

async fn remind(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let r: RemindBody = if b.is_empty() {
        RemindBody::default()
    } else {
        body(&b)?
    };
    Ok(Json(
        json!({ "reminded": svc::remind(&st, &ctx, id, r.task_id).await? }),
    ))
}

async fn proposal(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(svc::proposal_view(&st, &ctx, id).await?)))
}

async fn update_proposal(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let input: svc::ProposalInput = body(&b)?;
    Ok(Json(json!(
        svc::update_proposal(&st, &ctx, id, &input).await?
    )))
}

async fn annex(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, annex)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    let (name, bytes) = svc::annex_file(&st, &ctx, id, annex).await?;
    Ok(download(bytes, &name, crate::render::mime_of(&name)))
}

/// Multipart with one `file`.
async fn upload_annex(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, annex)): Path<(i64, i64)>,
    mp: Multipart,
) -> ApiResult<Json<Value>> {
    let (_, file) = multipart(mp).await?;
    let (name, bytes) =
        file.ok_or_else(|| AppError::Invalid(vec![xcert_domain::FieldError::required("file")]))?;
    Ok(Json(json!(
        svc::upload_annex(&st, &ctx, id, annex, &name, bytes).await?
    )))
}

#[derive(Deserialize)]
struct RunBody {
    run_id: i64,
}

async fn from_run(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let r: RunBody = body(&b)?;
    Ok(Json(
        json!({ "filled": svc::annexes_from_run(&st, &ctx, id, r.run_id).await? }),
    ))
}

async fn resubmit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(svc::resubmit(&st, &ctx, id).await?)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FormalBody {
    pass: bool,
    note: String,
}

async fn formal(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let f: FormalBody = body(&b)?;
    Ok(Json(json!(
        svc::formal_check(&st, &ctx, id, f.pass, &f.note).await?
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReturnBody {
    opinion: String,
    deadline: String,
}

async fn return_for_changes(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let r: ReturnBody = body(&b)?;
    Ok(Json(json!(
        svc::return_for_changes(&st, &ctx, id, &r.opinion, &r.deadline).await?
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecisionBody {
    approve: bool,
    reason: String,
}

async fn deliberate(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let d: DecisionBody = body(&b)?;
    Ok(Json(json!(
        svc::deliberate(&st, &ctx, id, d.approve, &d.reason).await?
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ObjectionBody {
    name: String,
    contact: String,
    content: String,
}

/// No login: anyone may object during publicity (rate-limited per client).
async fn file_objection(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Response> {
    let o: ObjectionBody = body(&b)?;
    let row = svc::file_objection(&st, &ctx.client, id, &o.name, &o.contact, &o.content).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": row.id, "state": row.state, "filed_at": row.filed_at})),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HandleBody {
    upheld: bool,
    response: String,
}

async fn handle_objection(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let h: HandleBody = body(&b)?;
    Ok(Json(json!(
        svc::handle_objection(&st, &ctx, id, h.upheld, &h.response).await?
    )))
}

async fn my_tasks(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "items": svc::my_tasks(&st, &ctx).await? })))
}

/// Multipart: note, and a file (required for an annex task whose slot is empty).
async fn task_done(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mp: Multipart,
) -> ApiResult<Json<Value>> {
    let (f, file) = multipart(mp).await?;
    let note = f.get("note").map(String::as_str).unwrap_or("");
    Ok(Json(json!(
        svc::complete_task(&st, &ctx, id, note, file).await?
    )))
}

async fn task_reopen(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(svc::reopen_task(&st, &ctx, id).await?)))
}

async fn my_reviews(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let items: Vec<Value> = svc::my_reviews(&st, &ctx)
        .await?
        .into_iter()
        .map(|(a, p)| json!({"assignment": a, "proposal": {"id": p.id, "name_zh": p.name_zh, "teo": p.teo_name, "field": p.field, "state": p.state}}))
        .collect();
    Ok(Json(json!({ "items": items })))
}

async fn review(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let v = svc::review(&st, &ctx, id).await?;
    Ok(Json(
        json!({"assignment": v.assignment, "proposal": v.proposal, "rubric": v.batch.settings.rubric}),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScoresBody {
    scores: BTreeMap<String, f64>,
    comment: String,
}

async fn scores(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let s: ScoresBody = body(&b)?;
    Ok(Json(json!(
        svc::submit_scores(&st, &ctx, id, &s.scores, &s.comment).await?
    )))
}

async fn experts(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "items": svc::experts(&st, &ctx).await? })))
}

async fn add_expert(State(st): State<AppState>, ctx: Ctx, b: Bytes) -> ApiResult<Response> {
    let e: svc::ExpertInput = body(&b)?;
    let row = svc::add_expert(&st, &ctx, &e).await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

async fn notifications(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "items": svc::notifications(&st, &ctx).await? }),
    ))
}

async fn notifications_read(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    svc::mark_notifications_read(&st, &ctx).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn teo_results(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "items": svc::teo_results(&st, &ctx, id).await? }),
    ))
}
