//! Certificates API: issuing jobs, issued certificates and their changes, TEO keys, and
//! the public query and verification (no login).

use super::body;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::{ApiResult, AppError};
use crate::issue as svc;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use xcert_store::{IssuedFilter, IssuedState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/issuance/jobs", get(jobs).post(job_from_session))
        .route(
            "/issuance/jobs/upload",
            post(job_upload).layer(axum::extract::DefaultBodyLimit::max(64 << 20)),
        )
        .route("/issuance/jobs/{id}", get(job))
        .route("/issuance/jobs/{id}/resume", post(job_resume))
        .route("/issued", get(issued_list))
        .route("/issued/{number}", get(issued))
        .route("/issued/{number}/state", post(set_state))
        .route("/issued/{number}/correct", post(correct))
        .route("/teo/{id}/keys", get(keys))
        .route("/teo/{id}/keys/rotate", post(rotate))
        .route("/public/certificates/query", post(public_query))
        .route("/public/certificates/{number}", get(public_certificate))
        .route("/public/verify", post(public_verify))
}

async fn jobs(State(st): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let rows = svc::jobs(&st, &ctx).await?;
    Ok(Json(json!({ "items": rows })))
}

#[derive(Deserialize)]
struct FromSession {
    session_id: i64,
}

/// Issue from a released session's pass list: 202 with the job, which runs in the background.
async fn job_from_session(State(st): State<AppState>, ctx: Ctx, b: Bytes) -> ApiResult<Response> {
    let f: FromSession = body(&b)?;
    let list = svc::pass_list_of_session(&st, &ctx, f.session_id).await?;
    let job = svc::create_job(&st, &ctx, list).await?;
    svc::spawn_job(&st, job.id);
    Ok((StatusCode::ACCEPTED, Json(json!(job))).into_response())
}

/// Upload a pass list (multipart: file, certificate, level, session_ref, dry_run). With
/// `dry_run=true`, or when any row has an error, nothing is written and the preview is
/// returned (422 with the row errors).
async fn job_upload(
    State(st): State<AppState>,
    ctx: Ctx,
    mut mp: Multipart,
) -> ApiResult<Response> {
    let (mut certificate, mut level, mut session_ref, mut dry_run) =
        (String::new(), String::new(), String::new(), false);
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(part) = mp
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?
    {
        let name = part.name().unwrap_or("").to_string();
        if name == "file" {
            let fname = part.file_name().unwrap_or("pass-list.xlsx").to_string();
            let bytes = part
                .bytes()
                .await
                .map_err(|e| AppError::BadRequest(e.to_string()))?;
            file = Some((fname, bytes.to_vec()));
            continue;
        }
        let v = part
            .text()
            .await
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        match name.as_str() {
            "certificate" => certificate = v,
            "level" => level = v,
            "session_ref" => session_ref = v,
            "dry_run" => dry_run = matches!(v.trim(), "1" | "true" | "yes"),
            _ => {}
        }
    }
    let Some((fname, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(AppError::Invalid(vec![xcert_domain::FieldError::required(
            "file",
        )]));
    };
    let (list, preview) = svc::preview_upload(
        &st,
        &ctx,
        &certificate,
        &level,
        &session_ref,
        &fname,
        &bytes,
    )
    .await?;
    if !preview.errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(json!({
            "error": "row_errors",
            "message": format!("{} rows have errors; nothing was written", preview.errors.len()),
            "preview": preview,
        })))
        .into_response());
    }
    if dry_run {
        return Ok(Json(json!({ "preview": preview })).into_response());
    }
    let job = svc::create_job(&st, &ctx, list).await?;
    svc::spawn_job(&st, job.id);
    Ok((StatusCode::ACCEPTED, Json(json!(job))).into_response())
}

async fn job(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(svc::job(&st, &ctx, id).await?)))
}

/// Resume a failed or interrupted job (202): it goes on from its last committed chunk.
async fn job_resume(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let j = svc::job(&st, &ctx, id).await?;
    ctx.authorize(&xcert_domain::access::Action::IssueCertificates { teo_id: j.teo_id })?;
    svc::spawn_job(&st, id);
    Ok((StatusCode::ACCEPTED, Json(json!(j))).into_response())
}

async fn issued_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(f): Query<IssuedFilter>,
) -> ApiResult<Json<Value>> {
    let (rows, total) = svc::issued_list(&st, &ctx, f).await?;
    Ok(Json(json!({ "items": rows, "total": total })))
}

async fn issued(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = svc::issued(&st, &ctx, &number).await?;
    let credential: Value = serde_json::from_str(&row.credential_json).unwrap_or(Value::Null);
    Ok(Json(json!({
        "certificate": row, "credential": credential, "jwt": row.credential_jwt,
    })))
}

#[derive(Deserialize)]
struct StateBody {
    state: String,
    #[serde(default)]
    reason: String,
}

async fn set_state(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    b: Bytes,
) -> ApiResult<Json<Value>> {
    let f: StateBody = body(&b)?;
    let to = IssuedState::parse(&f.state).ok_or_else(|| {
        AppError::Invalid(vec![xcert_domain::FieldError::new(
            "state",
            "bad_state",
            "state is active, suspended or revoked",
            "状态应为 active、suspended 或 revoked",
        )])
    })?;
    Ok(Json(json!(
        svc::change_state(&st, &ctx, &number, to, &f.reason).await?
    )))
}

#[derive(Deserialize)]
struct CorrectBody {
    holder_name: String,
    #[serde(default)]
    college_name: Option<String>,
    #[serde(default)]
    reason: String,
}

async fn correct(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    b: Bytes,
) -> ApiResult<Response> {
    let f: CorrectBody = body(&b)?;
    let row = svc::correct(
        &st,
        &ctx,
        &number,
        &f.holder_name,
        f.college_name.as_deref(),
        &f.reason,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

async fn keys(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    ctx.authorize(&xcert_domain::access::Action::IssueCertificates { teo_id: id })?;
    let ks = st.store.issuer_keys(id).await?;
    Ok(Json(json!({ "did": svc::teo_did(&st, id), "items": ks })))
}

async fn rotate(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let ks = svc::rotate_key(&st, &ctx, id).await?;
    Ok(Json(json!({ "did": svc::teo_did(&st, id), "items": ks })))
}

#[derive(Deserialize)]
struct QueryBody {
    #[serde(default)]
    number: Option<String>,
    #[serde(default)]
    id_number: Option<String>,
    #[serde(default)]
    name: String,
}

/// Query by number + name or ID number + name (rate-limited per client). The answer is
/// the same empty list for a wrong name and for an unknown number or ID.
async fn public_query(State(st): State<AppState>, ctx: Ctx, b: Bytes) -> ApiResult<Json<Value>> {
    st.query_limit
        .check(&ctx.client)
        .map_err(AppError::TooManyRequests)?;
    let f: QueryBody = body(&b)?;
    let found =
        svc::public_query(&st, f.number.as_deref(), f.id_number.as_deref(), &f.name).await?;
    Ok(Json(json!({ "items": found })))
}

/// The stable verification record of a certificate number: its current state.
async fn public_certificate(
    State(st): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult<Response> {
    let e = svc::public_record(&st, &number)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("certificate {number}")))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        e.json.clone(),
    )
        .into_response())
}

/// Check a credential (the body: its JSON, or a JWT as text).
async fn public_verify(State(st): State<AppState>, b: Bytes) -> ApiResult<Json<Value>> {
    let text = String::from_utf8_lossy(&b);
    let report = svc::verify_text(&st, &text).await?;
    Ok(Json(json!(report)))
}
