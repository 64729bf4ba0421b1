//! Review pages (评审): the ministry's review overview of a batch with the actions each
//! stage allows (formal check, modification opinions, drawing experts, objections, credit
//! and tax verification, publicity, deliberation), the expert pool, the experts' own
//! assignments with the rubric form, the public publicity list with its objection forms,
//! a batch's statistics and a TEO's results across batches.
//!
//! Every action is a plain form that redirects back to the overview; a refusal renders the
//! page again with the message beside the form that caused it.

use super::{Pairs, check_csrf, one, redirect, respond};
use crate::AppState;
use crate::auth::Ctx;
use crate::charts::{Bar, bars};
use crate::declare as svc;
use crate::error::AppError;
use crate::render::{XLSX, download, page, page_with_status};
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde::Serialize;
use std::collections::BTreeMap;
use xcert_declare::proposal::{self, Step};
use xcert_declare::stats::Group;
use xcert_declare::{BatchState, ProposalState};
use xcert_domain::FieldError;
use xcert_domain::access::Role;
use xcert_store::{AssignmentRow, BatchRow, ProposalRow, now};

type R<T> = Result<T, AppError>;

pub fn routes() -> Router<AppState> {
    let files = axum::extract::DefaultBodyLimit::max(svc::MAX_FILE + (1 << 20));
    Router::new()
        .route("/declare/batches/{id}/review", get(batch_review))
        .route("/declare/batches/{id}/draw", post(draw))
        .route("/declare/batches/{id}/verify", post(verify).layer(files))
        .route(
            "/declare/batches/{id}/verify/{teo}/file",
            get(verification_file),
        )
        .route(
            "/declare/batches/{id}/publicity",
            get(publicity).post(extend_publicity),
        )
        .route("/declare/batches/{id}/statistics", get(statistics))
        .route(
            "/declare/batches/{id}/statistics.xlsx",
            get(statistics_xlsx),
        )
        .route("/declare/proposals/{id}/formal", post(formal))
        .route("/declare/proposals/{id}/return", post(return_for_changes))
        .route("/declare/proposals/{id}/deliberate", post(deliberate))
        .route("/declare/proposals/{id}/objection", post(objection))
        .route("/declare/objections/{id}/handle", post(handle_objection))
        .route("/declare/experts", get(experts).post(add_expert))
        .route("/declare/experts/{id}/active", post(expert_active))
        .route("/declare/teo/{id}/results", get(teo_results))
        .route("/review", get(my_reviews))
        .route("/review/{id}", get(review).post(submit_scores))
}

pub(crate) fn templates(env: &mut minijinja::Environment<'static>) {
    crate::render::templates!(
        env,
        "rev_macros.html",
        "rev_batch.html",
        "rev_experts.html",
        "rev_mine.html",
        "rev_review.html",
        "rev_publicity.html",
        "rev_objection_done.html",
        "rev_statistics.html",
        "rev_teo_results.html",
    );
    // A stored RFC 3339 time as Beijing time, to the minute.
    env.add_filter("rev_time", |v: Option<String>| -> String {
        v.map(|s| beijing(&s, "%Y-%m-%d %H:%M")).unwrap_or_default()
    });
    // A score without trailing zeros (85.5, 90).
    env.add_filter("rev_num", |v: Option<f64>| -> String {
        v.map(num).unwrap_or_default()
    });
}

fn beijing(s: &str, fmt: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| {
            (t.with_timezone(&chrono::Utc) + chrono::Duration::hours(8))
                .format(fmt)
                .to_string()
        })
        .unwrap_or_else(|_| s.to_string())
}

fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

fn bad(e: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(e.to_string())
}

/// A yes/no form field: "1" or "0", nothing else.
fn yes_no(f: &Pairs, k: &str) -> R<bool> {
    match one(f, k) {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(bad(format!("{k} must be 1 or 0"))),
    }
}

/// A posted form as a map (for refilling the form that failed).
fn form_map(f: &Pairs) -> BTreeMap<String, String> {
    f.iter()
        .filter(|(k, _)| k != "csrf")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Refusals of the service: shown on the page (422 for bad input, 409 for a stage that
/// does not allow it); anything else is an error page.
fn shown(e: AppError) -> Result<(Vec<FieldError>, StatusCode), AppError> {
    match e {
        AppError::Invalid(v) => Ok((v, StatusCode::UNPROCESSABLE_ENTITY)),
        AppError::Conflict(f) => Ok((vec![f], StatusCode::CONFLICT)),
        e => Err(e),
    }
}

/// The i18n key naming a form field of these pages, for the summary of refusals.
fn field_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "note" => "rev_note",
        "opinion" => "rev_opinion",
        "deadline" => "rev_deadline",
        "reason" => "rev_reason",
        "seed" => "rev_seed_label",
        "response" => "rev_response",
        "until" => "rev_extend_until",
        "evidence" => "rev_evidence",
        "file" => "rev_evidence_file",
        "name" => "rev_expert_name",
        "contact" => "rev_contact",
        "content" => "rev_objection_content",
        "username" => "rev_account",
        "org" => "rev_expert_org",
        "province" => "rev_province",
        "fields" => "rev_fields",
        "comment" => "rev_comment",
        _ => return None,
    })
}

/// The refusals as the summary lists them: each field's message after the field's name
/// (`label` names fields beyond the common ones), so "required" says what is required.
fn summary(
    errors: &[FieldError],
    label: impl Fn(&str) -> Option<(String, String)>,
) -> Vec<FieldError> {
    errors
        .iter()
        .map(|e| {
            let named = label(&e.field).or_else(|| {
                field_key(&e.field).map(|k| (crate::i18n::t("zh", k), crate::i18n::t("en", k)))
            });
            match named {
                Some((zh, en)) => FieldError {
                    zh: format!("{zh}：{}", e.zh),
                    en: format!("{en}: {}", e.en),
                    ..e.clone()
                },
                None => e.clone(),
            }
        })
        .collect()
}

fn common(_: &str) -> Option<(String, String)> {
    None
}

// ---------------------------------------------------------------------------------------
// The ministry's review overview

/// A refusal to show beside the form (`at`) that caused it, with what was typed.
#[derive(Default)]
struct Failed {
    at: String,
    errors: Vec<FieldError>,
    form: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct ProposalCard<'a> {
    p: &'a ProposalRow,
    assignments: Vec<&'a AssignmentRow>,
    scored: usize,
    may_formal: bool,
    may_return: bool,
    may_deliberate: bool,
    /// Its organization's verification: passed, failed, or not yet done.
    verified: Option<bool>,
    open_objections: usize,
    upheld_objections: usize,
}

#[derive(Serialize)]
struct ListedOrg {
    teo_id: i64,
    name: String,
    /// Whether it still has a certificate on the proposed list (verification possible).
    proposed: bool,
}

async fn review_page(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    failed: Failed,
    status: StatusCode,
) -> R<Response> {
    let v = svc::batch_review(st, ctx, id).await?;
    let b = v.batch.state;
    let cards: Vec<ProposalCard> = v
        .proposals
        .iter()
        .map(|p| {
            let assignments: Vec<&AssignmentRow> = v
                .assignments
                .iter()
                .filter(|a| a.proposal_id == p.id)
                .collect();
            ProposalCard {
                scored: assignments
                    .iter()
                    .filter(|a| a.submitted_at.is_some())
                    .count(),
                assignments,
                may_formal: proposal::check(b, p.state, Step::FormalPass).is_ok(),
                may_return: proposal::check(b, p.state, Step::Return).is_ok(),
                may_deliberate: proposal::check(b, p.state, Step::Approve).is_ok(),
                verified: v
                    .verifications
                    .iter()
                    .find(|x| x.teo_id == p.teo_id)
                    .map(|x| x.passed),
                open_objections: v
                    .objections
                    .iter()
                    .filter(|o| o.proposal_id == p.id && o.state == "open")
                    .count(),
                upheld_objections: v
                    .objections
                    .iter()
                    .filter(|o| o.proposal_id == p.id && o.state == "upheld")
                    .count(),
                p,
            }
        })
        .collect();
    let listed: Vec<ListedOrg> = v
        .listed_orgs
        .iter()
        .map(|(teo_id, name)| ListedOrg {
            teo_id: *teo_id,
            name: name.clone(),
            proposed: v
                .proposals
                .iter()
                .any(|p| p.teo_id == *teo_id && p.state == ProposalState::Proposed),
        })
        .collect();
    let waiting = v
        .proposals
        .iter()
        .filter(|p| p.state == ProposalState::FormalPassed)
        .count();
    let active_experts = v.experts.iter().filter(|e| e.active).count();
    let at = now();
    let open_objections = v.objections.iter().filter(|o| o.state == "open").count();
    let next = b.next().map(|n| n.as_str());
    page_with_status(
        st,
        ctx,
        "rev_batch.html",
        context! {
            batch => &v.batch,
            counts => &v.counts,
            cards => cards,
            objections => &v.objections,
            open_objections => open_objections,
            verifications => &v.verifications,
            listed => listed,
            waiting => waiting,
            active_experts => active_experts,
            in_publicity => v.batch.in_publicity(&at),
            publicity_over => v.batch.publicity_over(&at),
            next => next,
            today => svc::today().to_string(),
            at => failed.at,
            summary => summary(&failed.errors, common),
            errors => failed.errors,
            f => failed.form,
        },
        status,
    )
}

async fn batch_review(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = review_page(&st, &ctx, id, Failed::default(), StatusCode::OK).await;
    respond(&st, &ctx, r)
}

/// After an action on the overview: back to the form's anchor in the batch (`done`), or
/// the page again with the refusal beside the form. `batch` finds the batch to show a
/// refusal on; it runs only then, after the service has authorized the caller.
async fn after(
    st: &AppState,
    ctx: &Ctx,
    at: String,
    form: &Pairs,
    done: R<i64>,
    batch: impl std::future::Future<Output = R<i64>>,
) -> R<Response> {
    match done {
        Ok(batch_id) => Ok(redirect(&format!(
            "/declare/batches/{batch_id}/review#{at}"
        ))),
        Err(e) => {
            let (errors, status) = shown(e)?;
            let failed = Failed {
                at,
                errors,
                form: form_map(form),
            };
            review_page(st, ctx, batch.await?, failed, status).await
        }
    }
}

async fn batch_of_proposal(st: &AppState, pid: i64) -> R<i64> {
    Ok(st.store.proposal_get(pid).await?.batch_id)
}

async fn known(id: i64) -> R<i64> {
    Ok(id)
}

async fn formal(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(pid): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let pass = yes_no(&f, "pass")?;
        let done = svc::formal_check(&st, &ctx, pid, pass, one(&f, "note"))
            .await
            .map(|p| p.batch_id);
        after(
            &st,
            &ctx,
            format!("p{pid}"),
            &f,
            done,
            batch_of_proposal(&st, pid),
        )
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn return_for_changes(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(pid): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let done = svc::return_for_changes(&st, &ctx, pid, one(&f, "opinion"), one(&f, "deadline"))
            .await
            .map(|p| p.batch_id);
        after(
            &st,
            &ctx,
            format!("p{pid}"),
            &f,
            done,
            batch_of_proposal(&st, pid),
        )
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn deliberate(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(pid): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let approve = yes_no(&f, "approve")?;
        let done = svc::deliberate(&st, &ctx, pid, approve, one(&f, "reason"))
            .await
            .map(|p| p.batch_id);
        after(
            &st,
            &ctx,
            format!("p{pid}"),
            &f,
            done,
            batch_of_proposal(&st, pid),
        )
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn draw(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let seed = one(&f, "seed").trim();
        let done = if seed.is_empty() {
            svc::draw_experts(&st, &ctx, id, None).await.map(|_| id)
        } else {
            match seed.parse::<i64>() {
                Ok(s) if s >= 0 => svc::draw_experts(&st, &ctx, id, Some(s)).await.map(|_| id),
                _ => {
                    ctx.authorize(&xcert_domain::access::Action::ManageBatches)?;
                    Err(AppError::Invalid(vec![FieldError::new(
                        "seed",
                        "bad_seed",
                        "the seed is a whole number of at least 0 (blank: a random one)",
                        "随机种子应为不小于 0 的整数（留空则随机生成）",
                    )]))
                }
            }
        };
        after(&st, &ctx, "draw-section".into(), &f, done, known(id)).await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn handle_objection(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(oid): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let upheld = yes_no(&f, "upheld")?;
        let done = svc::handle_objection(&st, &ctx, oid, upheld, one(&f, "response"))
            .await
            .map(|o| o.batch_id);
        let batch = async { Ok(st.store.objection_get(oid).await?.batch_id) };
        after(&st, &ctx, format!("o{oid}"), &f, done, batch).await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn extend_publicity(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let done = svc::extend_publicity(&st, &ctx, id, one(&f, "until"))
            .await
            .map(|b| b.id);
        after(&st, &ctx, "publicity".into(), &f, done, known(id)).await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn verify(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Response {
    let r = async {
        let up = super::read_upload(mp, svc::MAX_FILE).await?;
        let (f, file) = (up.fields, up.file.filter(|(_, b)| !b.is_empty()));
        check_csrf(&ctx, &f)?;
        let teo_id: i64 = one(&f, "teo_id").trim().parse().map_err(bad)?;
        let checked = |k: &str| matches!(one(&f, k), "1" | "on" | "true");
        let done = svc::verify_organization(
            &st,
            &ctx,
            id,
            teo_id,
            checked("credit_ok"),
            checked("tax_ok"),
            one(&f, "evidence"),
            file,
        )
        .await
        .map(|_| id);
        after(&st, &ctx, format!("v{teo_id}"), &f, done, known(id)).await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn verification_file(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, teo)): Path<(i64, i64)>,
) -> Response {
    let r = async {
        let (name, bytes) = svc::verification_file(&st, &ctx, id, teo).await?;
        // The header carries ASCII only; the extension is what the browser needs.
        let ext: String = name
            .rsplit_once('.')
            .map(|(_, e)| e)
            .unwrap_or("bin")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect();
        Ok(download(
            bytes,
            &format!("verification-{id}-{teo}.{ext}"),
            "application/octet-stream",
        ))
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// The expert pool

async fn experts_page(
    st: &AppState,
    ctx: &Ctx,
    errors: Vec<FieldError>,
    form: BTreeMap<String, String>,
    status: StatusCode,
) -> R<Response> {
    let rows = svc::experts(st, ctx).await?;
    page_with_status(
        st,
        ctx,
        "rev_experts.html",
        context! { experts => rows, summary => summary(&errors, common), errors => errors, f => form },
        status,
    )
}

async fn experts(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = experts_page(&st, &ctx, vec![], BTreeMap::new(), StatusCode::OK).await;
    respond(&st, &ctx, r)
}

async fn add_expert(State(st): State<AppState>, ctx: Ctx, Form(f): Form<Pairs>) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let input = svc::ExpertInput {
            username: one(&f, "username").into(),
            name: one(&f, "name").into(),
            org: one(&f, "org").into(),
            province: one(&f, "province").into(),
            fields: one(&f, "fields").into(),
        };
        match svc::add_expert(&st, &ctx, &input).await {
            Ok(e) => Ok(redirect(&format!("/declare/experts#e{}", e.id))),
            Err(e) => {
                let (errors, status) = shown(e)?;
                experts_page(&st, &ctx, errors, form_map(&f), status).await
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn expert_active(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let active = yes_no(&f, "active")?;
        svc::set_expert_active(&st, &ctx, id, active).await?;
        Ok(redirect(&format!("/declare/experts#e{id}")))
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// The experts' own pages

#[derive(Serialize)]
struct MyReview {
    assignment: AssignmentRow,
    proposal: ProposalRow,
    batch_number: i64,
    batch_title: String,
    review_until: String,
    open: bool,
}

async fn my_reviews(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let rows = svc::my_reviews(&st, &ctx).await?;
        let mut batches: BTreeMap<i64, BatchRow> = BTreeMap::new();
        let mut out = Vec::new();
        for (assignment, proposal) in rows {
            let b = match batches.entry(proposal.batch_id) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(st.store.batch_get(proposal.batch_id).await?)
                }
            };
            out.push(MyReview {
                open: assignment.submitted_at.is_none()
                    && b.state == BatchState::InReview
                    && proposal.state == ProposalState::InReview,
                batch_number: b.number,
                batch_title: b.title_zh.clone(),
                review_until: b.settings.review_until.to_string(),
                assignment,
                proposal,
            });
        }
        let open = out.iter().filter(|r| r.open).count();
        page(
            &st,
            &ctx,
            "rev_mine.html",
            context! { rows => out, open => open },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

#[derive(Serialize)]
struct ItemView {
    code: String,
    field: String,
    dom_id: String,
    name_zh: String,
    name_en: String,
    points: f64,
    value: String,
}

#[derive(Serialize)]
struct CategoryView {
    code: String,
    name_zh: String,
    name_en: String,
    available: f64,
    given: f64,
    items: Vec<ItemView>,
}

/// The rubric as the form shows it: each item with the value typed or given.
fn rubric_view(
    rubric: &xcert_declare::Rubric,
    scores: &BTreeMap<String, f64>,
    typed: &BTreeMap<String, String>,
) -> Vec<CategoryView> {
    let totals = rubric.category_totals(scores);
    rubric
        .categories
        .iter()
        .zip(totals)
        .map(|(c, (_, given, available))| CategoryView {
            code: c.code.clone(),
            name_zh: c.name_zh.clone(),
            name_en: c.name_en.clone(),
            available,
            given,
            items: c
                .items
                .iter()
                .map(|i| ItemView {
                    field: format!("s_{}", i.code),
                    dom_id: format!("s-{}", i.code.replace(['.', ' '], "-")),
                    value: typed
                        .get(&format!("s_{}", i.code))
                        .cloned()
                        .or_else(|| scores.get(&i.code).map(|v| num(*v)))
                        .unwrap_or_default(),
                    code: i.code.clone(),
                    name_zh: i.name_zh.clone(),
                    name_en: i.name_en.clone(),
                    points: i.points,
                })
                .collect(),
        })
        .collect()
}

async fn review_view(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    errors: Vec<FieldError>,
    typed: BTreeMap<String, String>,
    status: StatusCode,
) -> R<Response> {
    let v = svc::review(st, ctx, id).await?;
    let scores = v.assignment.scores.clone().unwrap_or_default();
    let rubric = rubric_view(&v.batch.settings.rubric, &scores, &typed);
    let p = &v.proposal.proposal;
    let submitted = v.assignment.submitted_at.is_some();
    let may_score =
        !submitted && v.batch.state == BatchState::InReview && p.state == ProposalState::InReview;
    let comment = typed
        .get("comment")
        .cloned()
        .or_else(|| v.assignment.comment.clone())
        .unwrap_or_default();
    page_with_status(
        st,
        ctx,
        "rev_review.html",
        context! {
            a => &v.assignment,
            p => p,
            slots => &v.proposal.slots,
            batch => &v.batch,
            rubric => rubric,
            total_points => v.batch.settings.rubric.total_points(),
            submitted => submitted,
            may_score => may_score,
            comment => comment,
            summary => summary(&errors, |code| {
                v.batch
                    .settings
                    .rubric
                    .categories
                    .iter()
                    .flat_map(|c| &c.items)
                    .find(|i| i.code == code)
                    .map(|i| {
                        let en = if i.name_en.is_empty() { &i.name_zh } else { &i.name_en };
                        (format!("{} {}", i.code, i.name_zh), format!("{} {en}", i.code))
                    })
            }),
            errors => errors,
        },
        status,
    )
}

async fn review(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = review_view(&st, &ctx, id, vec![], BTreeMap::new(), StatusCode::OK).await;
    respond(&st, &ctx, r)
}

/// The rubric scores of a posted form: `s_<item code>` fields, blank ones left out (the
/// service names them as not scored).
fn scores_of(f: &Pairs) -> Result<BTreeMap<String, f64>, Vec<FieldError>> {
    let mut scores = BTreeMap::new();
    let mut errs = Vec::new();
    for (k, v) in f {
        let Some(code) = k.strip_prefix("s_") else {
            continue;
        };
        let t = v.trim();
        if t.is_empty() {
            continue;
        }
        match t.parse::<f64>() {
            Ok(x) if x.is_finite() => {
                scores.insert(code.to_string(), x);
            }
            _ => errs.push(FieldError::new(
                code,
                "bad_number",
                format!("\"{t}\" is not a number"),
                format!("“{t}”不是数字"),
            )),
        }
    }
    if errs.is_empty() {
        Ok(scores)
    } else {
        Err(errs)
    }
}

async fn submit_scores(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let done = match scores_of(&f) {
            Ok(scores) => svc::submit_scores(&st, &ctx, id, &scores, one(&f, "comment"))
                .await
                .map(|_| ()),
            Err(errs) => {
                // Authorization first: a stranger learns nothing from the form's errors.
                svc::review(&st, &ctx, id).await?;
                Err(AppError::Invalid(errs))
            }
        };
        match done {
            Ok(()) => Ok(redirect(&format!("/review/{id}#result"))),
            Err(e) => {
                let (errors, status) = shown(e)?;
                review_view(&st, &ctx, id, errors, form_map(&f), status).await
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// Public: the publicity list and objections

async fn publicity_page(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    failed: Failed,
    status: StatusCode,
) -> R<Response> {
    let (b, rows) = svc::public_list(st, ctx, id).await?;
    let at = now();
    let in_publicity = b.in_publicity(&at);
    page_with_status(
        st,
        ctx,
        "rev_publicity.html",
        context! {
            batch => &b,
            rows => rows,
            in_publicity => in_publicity,
            publicity_over => b.publicity_over(&at),
            at => failed.at,
            summary => summary(&failed.errors, |f| {
                (f == "name").then(|| {
                    (crate::i18n::t("zh", "rev_your_name"), crate::i18n::t("en", "rev_your_name"))
                })
            }),
            errors => failed.errors,
            f => failed.form,
        },
        status,
    )
}

async fn publicity(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = publicity_page(&st, &ctx, id, Failed::default(), StatusCode::OK).await;
    respond(&st, &ctx, r)
}

async fn objection(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(pid): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let done = svc::file_objection(
            &st,
            &ctx.client,
            pid,
            one(&f, "name"),
            one(&f, "contact"),
            one(&f, "content"),
        )
        .await;
        match done {
            Ok(o) => {
                let b = st.store.batch_get(o.batch_id).await?;
                page(
                    &st,
                    &ctx,
                    "rev_objection_done.html",
                    context! { o => o, batch => b },
                )
            }
            Err(e) => {
                let (errors, status) = shown(e)?;
                let batch = batch_of_proposal(&st, pid).await?;
                let failed = Failed {
                    at: format!("p{pid}"),
                    errors,
                    form: form_map(&f),
                };
                publicity_page(&st, &ctx, batch, failed, status).await
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// Statistics and results

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

#[derive(Serialize)]
struct GroupView {
    key: String,
    proposals: usize,
    shortlisted: usize,
    rate: String,
}

fn group_views(groups: &[Group], none: &str) -> Vec<GroupView> {
    groups
        .iter()
        .map(|g| GroupView {
            key: if g.key.is_empty() {
                none.to_string()
            } else {
                g.key.clone()
            },
            proposals: g.proposals,
            shortlisted: g.shortlisted,
            rate: percent(g.rate),
        })
        .collect()
}

fn group_bars(ctx: &Ctx, groups: &[GroupView]) -> Vec<Bar> {
    groups
        .iter()
        .map(|g| Bar {
            label: g.key.clone(),
            value: g.proposals as f64,
            shown: if ctx.lang == "en" {
                format!("{} ({} shortlisted)", g.proposals, g.shortlisted)
            } else {
                format!("{}（入围 {}）", g.proposals, g.shortlisted)
            },
        })
        .collect()
}

async fn statistics(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let (b, s) = svc::statistics(&st, &ctx, id).await?;
        let t = |k: &str| crate::i18n::t(ctx.lang, k);
        let by_field = group_views(&s.by_field, &t("rev_none"));
        let by_province = group_views(&s.by_province, &t("rev_none"));
        let chart_field = bars(
            "chart-field",
            &t("rev_chart_field"),
            &group_bars(&ctx, &by_field),
        );
        let chart_province = bars(
            "chart-province",
            &t("rev_chart_province"),
            &group_bars(&ctx, &by_province),
        );
        page(
            &st,
            &ctx,
            "rev_statistics.html",
            context! {
                batch => &b,
                s => &s,
                pass_rate => percent(s.pass_rate),
                by_field => by_field,
                by_province => by_province,
                chart_field => chart_field,
                chart_province => chart_province,
            },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

async fn statistics_xlsx(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let bytes = svc::statistics_xlsx(&st, &ctx, id).await?;
        let b = st.store.batch_get(id).await?;
        Ok(download(
            bytes,
            &format!("batch-{}-statistics.xlsx", b.number),
            XLSX,
        ))
    }
    .await;
    respond(&st, &ctx, r)
}

#[derive(Serialize)]
struct BatchResults {
    batch_id: i64,
    number: i64,
    title: String,
    state: BatchState,
    proposals: Vec<ProposalRow>,
    shortlisted: usize,
}

async fn teo_results(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let rows = svc::teo_results(&st, &ctx, id).await?;
        let org = st.store.org_get(id).await?;
        let ministry = ctx
            .principal()
            .is_some_and(|p| p.role == Role::MinistryAdmin);
        let mut groups: Vec<BatchResults> = Vec::new();
        for r in rows {
            if groups.last().is_none_or(|g| g.batch_id != r.batch_id) {
                groups.push(BatchResults {
                    batch_id: r.batch_id,
                    number: r.batch_number,
                    title: r.batch_title.clone(),
                    state: r.batch_state,
                    proposals: Vec::new(),
                    shortlisted: 0,
                });
            }
            if let Some(g) = groups.last_mut() {
                g.shortlisted += usize::from(r.proposal.state == ProposalState::Approved);
                g.proposals.push(r.proposal);
            }
        }
        page(
            &st,
            &ctx,
            "rev_teo_results.html",
            context! { org => org, groups => groups, ministry => ministry },
        )
    }
    .await;
    respond(&st, &ctx, r)
}
