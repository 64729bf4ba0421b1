//! Exam pages: sessions (TEO, college, province), the candidate's theory exam, examiners' scoring on observation scales, marking, results.
//!
//! Every page works as plain HTML forms; `static/exam.js` adds autosave, the countdown
//! and auto-submit to the theory exam (through the JSON API, the same services), and
//! touch conveniences to the examiner's tablet page.

use super::{Pairs, check_csrf, one, redirect, respond};
use crate::AppState;
use crate::assess::{self as svc, Answers, AttemptView};
use crate::auth::Ctx;
use crate::charts::{Bar, bars};
use crate::error::AppError;
use crate::render::{XLSX, download, page, page_with_status};
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, FixedOffset};
use minijinja::{Value, context};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use xcert_assess::delivery::DeliveredItem;
use xcert_assess::item::{Interaction, ItemKind, ObservationScale, Response as Answer};
use xcert_assess::markup::{plain_text, sanitize};
use xcert_assess::results::Outcome;
use xcert_domain::FieldError;
use xcert_domain::access::Role;
use xcert_store::{AttemptState, SessionRow, SessionStatus};

type R<T> = Result<T, AppError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/exams", get(sessions).post(session_create))
        .route("/admin/exams/{id}", get(session_detail))
        .route("/admin/exams/{id}/register", post(register))
        .route("/admin/exams/{id}/process-scores", post(process_scores))
        .route("/admin/exams/{id}/status", post(set_status))
        .route("/admin/exams/{id}/scoring", get(scoring))
        .route(
            "/admin/exams/{id}/scoring/{candidate}/{task}",
            get(score_task).post(score_task_save),
        )
        .route("/admin/exams/{id}/marking", get(marking))
        .route(
            "/admin/exams/{id}/marking/{candidate}/{position}",
            post(mark),
        )
        .route("/admin/exams/{id}/results", get(results))
        .route("/admin/exams/{id}/results/compute", post(results_compute))
        .route("/admin/exams/{id}/results.xlsx", get(results_xlsx))
        .route("/admin/exams/{id}/pass-list.xlsx", get(pass_list_xlsx))
        .route("/exam", get(my_exams))
        .route("/exam/{attempt}", get(attempt))
        .route("/exam/{attempt}/start", post(attempt_start))
        .route("/exam/{attempt}/save", post(attempt_save))
        .route("/exam/{attempt}/submit", post(attempt_submit))
        .route("/static/exam.js", get(script))
}

pub(crate) fn templates(env: &mut minijinja::Environment<'static>) {
    crate::render::templates!(
        env,
        "exam_sessions.html",
        "exam_session.html",
        "exam_scoring.html",
        "exam_score_task.html",
        "exam_marking.html",
        "exam_results.html",
        "exam_mine.html",
        "exam_attempt.html",
    );
    env.add_filter("exam_time", |v: Option<String>| {
        v.map(|s| china_time(&s, "%Y-%m-%d %H:%M"))
            .unwrap_or_default()
    });
    env.add_filter("exam_time_s", |v: Option<String>| {
        v.map(|s| china_time(&s, "%Y-%m-%d %H:%M:%S"))
            .unwrap_or_default()
    });
    env.add_filter("exam_num", |v: Option<f64>| v.map(num).unwrap_or_default());
    env.add_filter("exam_short", |v: Option<String>| {
        let s = v.unwrap_or_default();
        let line = s.lines().next().unwrap_or("");
        let cut: String = line.chars().take(60).collect();
        if cut.len() < line.len() {
            format!("{cut}…")
        } else {
            cut
        }
    });
}

/// The script of the exam pages: cacheable, it changes only with a new build.
async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/exam.js"),
    )
}

// ---------------------------------------------------------------------------------------
// Helpers

/// China Standard Time (UTC+8), in which schedules are written and shown.
fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// A stored UTC time shown in China time.
fn china_time(s: &str, fmt: &str) -> String {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&china()).format(fmt).to_string())
        .unwrap_or_else(|_| s.to_string())
}

/// Points and percentages: at most two decimals, no trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{:.2}", (v * 100.0).round() / 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Time left as the countdown shows it: h:mm:ss or mm:ss.
fn clock(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

fn all<'a>(f: &'a Pairs, k: &str) -> Vec<&'a str> {
    f.iter()
        .filter(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn ids(f: &Pairs, k: &str) -> Vec<i64> {
    all(f, k)
        .into_iter()
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

fn fe(field: &str, code: &str, en: impl Into<String>, zh: impl Into<String>) -> FieldError {
    FieldError::new(field, code, en, zh)
}

/// A number typed into a form, or a message naming the field.
fn parse_number(field: &str, s: &str) -> Result<f64, FieldError> {
    let t = s.trim().replace(['，', ','], ".");
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            fe(
                field,
                "not_a_number",
                format!("\"{}\" is not a number", s.trim()),
                format!("“{}”不是数字", s.trim()),
            )
        })
}

fn lang_is_en(ctx: &Ctx) -> bool {
    ctx.lang == "en"
}

fn shortfall_words(ctx: &Ctx, o: &Outcome) -> String {
    let words: Vec<&str> = o
        .shortfalls
        .iter()
        .map(|x| if lang_is_en(ctx) { x.en() } else { x.zh() })
        .collect();
    words.join(if lang_is_en(ctx) { "; " } else { "；" })
}

fn outcome_view(ctx: &Ctx, o: &Outcome) -> Value {
    context! {
        process => o.process, theory => o.theory, practical => o.practical, total => o.total,
        passed => o.passed, shortfalls => shortfall_words(ctx, o),
    }
}

/// The observation scale of a session's task.
async fn scale_of(st: &AppState, s: &SessionRow, position: i64) -> R<ObservationScale> {
    let (_, content) = svc::task_scale(st, s, position).await?;
    match content.interaction {
        Interaction::Practical { scale } => Ok(scale),
        _ => Err(AppError::Internal(format!(
            "task {position} of session {} is not a practical task",
            s.id
        ))),
    }
}

/// Keep only what a page re-render needs from an error: field errors go beside fields,
/// anything else becomes the error page.
fn field_errors(e: AppError) -> R<Vec<FieldError>> {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => Ok(e.fields()),
        other => Err(other),
    }
}

// ---------------------------------------------------------------------------------------
// Sessions: list and schedule form

fn blank_schedule() -> Value {
    context! {
        duration_minutes => "60", disagreement_points => "10", shuffle_items => true,
        forms => Vec::<i64>::new(), tasks => Vec::<i64>::new(), examiners => Vec::<i64>::new(),
    }
}

async fn sessions_page(
    st: &AppState,
    ctx: &Ctx,
    echo: Value,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> R<Response> {
    let p = ctx.require()?;
    if p.role == Role::Candidate {
        return Ok(redirect("/exam"));
    }
    let rows = svc::sessions_visible(st, ctx).await?;
    let choices = svc::schedule_choices(st, ctx).await?;
    page_with_status(
        st,
        ctx,
        "exam_sessions.html",
        context! { rows => rows, choices => choices, f => echo, errors => errors },
        status,
    )
}

async fn sessions(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = sessions_page(&st, &ctx, blank_schedule(), Vec::new(), StatusCode::OK).await;
    respond(&st, &ctx, r)
}

fn schedule_input(f: &Pairs) -> svc::SessionInput {
    let disagreement = one(f, "disagreement_points").trim();
    svc::SessionInput {
        certificate: one(f, "certificate").trim().to_string(),
        level: one(f, "level").trim().to_string(),
        title: one(f, "title").trim().to_string(),
        site_org_id: one(f, "site_org_id").trim().parse().ok(),
        site_name: one(f, "site_name").trim().to_string(),
        opens_at: one(f, "opens_at").to_string(),
        closes_at: one(f, "closes_at").to_string(),
        // Not a whole number: 0, which the session check reports beside the field.
        duration_minutes: one(f, "duration_minutes").trim().parse().unwrap_or(0),
        shuffle_items: !one(f, "shuffle_items").is_empty(),
        disagreement_points: if disagreement.is_empty() {
            None
        } else {
            // Not a number: NaN, which the session check reports beside the field.
            Some(parse_number("disagreement_points", disagreement).unwrap_or(f64::NAN))
        },
        form_ids: ids(f, "form"),
        task_item_ids: ids(f, "task"),
        examiner_ids: ids(f, "examiner"),
    }
}

fn schedule_echo(f: &Pairs) -> Value {
    let keys = [
        "certificate",
        "level",
        "title",
        "site_org_id",
        "site_name",
        "opens_at",
        "closes_at",
        "duration_minutes",
        "disagreement_points",
    ];
    let mut m: BTreeMap<&str, Value> = keys
        .iter()
        .map(|k| (*k, Value::from(one(f, k).to_string())))
        .collect();
    m.insert(
        "shuffle_items",
        Value::from(!one(f, "shuffle_items").is_empty()),
    );
    m.insert("forms", Value::from(ids(f, "form")));
    m.insert("tasks", Value::from(ids(f, "task")));
    m.insert("examiners", Value::from(ids(f, "examiner")));
    Value::from_iter(m)
}

async fn session_create(State(st): State<AppState>, ctx: Ctx, Form(f): Form<Pairs>) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let input = schedule_input(&f);
        let mut errors = Vec::new();
        if input.certificate.is_empty() {
            errors.push(FieldError::required("certificate"));
        } else if st
            .store
            .certificate_by_code(&input.certificate)
            .await
            .is_err()
        {
            errors.push(fe(
                "certificate",
                "no_such_certificate",
                format!("there is no certificate {}", input.certificate),
                format!("没有代码为 {} 的证书", input.certificate),
            ));
        }
        if let Some(site) = input.site_org_id
            && st.store.org_get(site).await.is_err()
        {
            errors.push(fe(
                "site_org_id",
                "no_such_college",
                format!("there is no college {site}"),
                format!("没有编号为 {site} 的院校"),
            ));
        }
        let outcome = if errors.is_empty() {
            svc::session_create(&st, &ctx, &input).await
        } else {
            Err(AppError::Invalid(errors))
        };
        match outcome {
            Ok(s) => Ok(redirect(&format!("/admin/exams/{}", s.id))),
            Err(e) => {
                let errors = field_errors(e)?;
                sessions_page(
                    &st,
                    &ctx,
                    schedule_echo(&f),
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// One session: candidates, registration, training scores, status

#[derive(Deserialize, Default)]
struct DetailQuery {
    q: Option<String>,
    saved: Option<String>,
}

/// What the detail page shows besides the session itself (outcomes, errors, echoes).
#[derive(Default)]
struct DetailExtra {
    errors: Vec<FieldError>,
    outcomes: Vec<Value>,
    paste: String,
    saved: Option<String>,
    /// The inline training score typed for a ticket that failed.
    typed: HashMap<String, String>,
}

fn theory_cell(c: &xcert_store::CandidateRow) -> Value {
    context! {
        earned => c.theory_earned, possible => c.theory_possible,
        unmarked => (c.state == AttemptState::Submitted && c.theory_earned.is_none()).then_some(c.unmarked),
    }
}

async fn detail_page(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    q: Option<&str>,
    extra: DetailExtra,
    status: StatusCode,
) -> R<Response> {
    let (p, s) = svc::session_for(st, ctx, id).await?;
    let cands = svc::session_candidates(st, &p, &s).await?;
    let forms: Vec<xcert_store::FormRow> = st
        .store
        .forms(s.certificate_id)
        .await?
        .into_iter()
        .filter(|f| s.form_ids.contains(&f.id))
        .collect();
    let form_code: HashMap<i64, String> = forms.iter().map(|f| (f.id, f.code.clone())).collect();
    let may_register = svc::may_register(&p, &s);
    let students = if may_register && s.status == SessionStatus::Scheduled {
        svc::registrable_students(st, ctx, id, q).await?
    } else {
        Vec::new()
    };
    let rows: Vec<Value> = cands
        .iter()
        .map(|c| {
            context! {
                c => c, form => form_code.get(&c.form_id), theory => theory_cell(c),
                typed => extra.typed.get(&c.ticket),
                error_key => format!("process.{}", c.ticket),
            }
        })
        .collect();
    page_with_status(
        st,
        ctx,
        "exam_session.html",
        context! {
            s => s, rows => rows, forms => forms, students => students, q => q,
            manages => svc::manages(&p, &s), may_register => may_register,
            may_score => svc::may_score(&p, &s), sees_results => svc::sees_results(&p, &s),
            errors => extra.errors, outcomes => extra.outcomes, paste => extra.paste,
            saved => extra.saved,
        },
        status,
    )
}

async fn session_detail(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let extra = DetailExtra {
        saved: q.saved.clone(),
        ..Default::default()
    };
    let r = detail_page(&st, &ctx, id, q.q.as_deref(), extra, StatusCode::OK).await;
    respond(&st, &ctx, r)
}

async fn register(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let people = ids(&f, "person");
        if people.is_empty() {
            let extra = DetailExtra {
                errors: vec![fe(
                    "person",
                    "none_chosen",
                    "tick at least one student",
                    "请至少勾选一名学生",
                )],
                ..Default::default()
            };
            return detail_page(&st, &ctx, id, None, extra, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
        // Names for the outcome list, read before registering takes them off the list.
        let names: HashMap<i64, String> = svc::registrable_students(&st, &ctx, id, None)
            .await?
            .into_iter()
            .map(|x| (x.id, x.name))
            .collect();
        match svc::register(&st, &ctx, id, &people).await {
            Ok(out) => {
                let outcomes = out
                    .iter()
                    .map(|o| {
                        context! {
                            name => names.get(&o.person_id).cloned().unwrap_or_else(|| format!("#{}", o.person_id)),
                            ticket => o.ticket, created => o.created,
                            refused => if lang_is_en(&ctx) { o.en.clone() } else { o.zh.clone() },
                        }
                    })
                    .collect();
                let extra = DetailExtra {
                    outcomes,
                    ..Default::default()
                };
                detail_page(&st, &ctx, id, None, extra, StatusCode::OK).await
            }
            Err(e) => {
                let extra = DetailExtra {
                    errors: field_errors(e)?,
                    ..Default::default()
                };
                detail_page(&st, &ctx, id, None, extra, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

/// A training score to enter: the line it came from, the ticket, the score (none clears).
type ProcessLine = (usize, String, Option<f64>);

/// Lines of "ticket<TAB>score" (a comma or spaces also separate; a blank score clears
/// it). Returns the rows with their line numbers, or errors naming the lines.
fn parse_paste(text: &str) -> Result<Vec<ProcessLine>, Vec<FieldError>> {
    let mut rows = Vec::new();
    let mut errs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let parts: Vec<&str> = line
            .split(['\t', ',', '，', ' ', '\u{3000}'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        match parts.as_slice() {
            [] => {}
            [ticket] => rows.push((n, ticket.to_string(), None)),
            [ticket, score] => match parse_number("paste", score) {
                Ok(v) => rows.push((n, ticket.to_string(), Some(v))),
                Err(e) => errs.push(fe(
                    "paste",
                    &e.code,
                    format!("line {n}: {}", e.en),
                    format!("第 {n} 行：{}", e.zh),
                )),
            },
            _ => errs.push(fe(
                "paste",
                "bad_line",
                format!("line {n}: write a ticket number, a tab and the score"),
                format!("第 {n} 行：应为“准考证号<Tab>成绩”"),
            )),
        }
    }
    if rows.is_empty() && errs.is_empty() {
        errs.push(FieldError::required("paste"));
    }
    if errs.is_empty() { Ok(rows) } else { Err(errs) }
}

async fn process_scores(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let paste = one(&f, "paste").to_string();
        let ticket = one(&f, "ticket").trim().to_string();
        let pasted = !paste.trim().is_empty() || ticket.is_empty();
        // Where each row's error goes: the paste box (by line) or the candidate's row.
        let parsed: Result<Vec<ProcessLine>, Vec<FieldError>> = if pasted {
            parse_paste(&paste)
        } else {
            let key = format!("process.{ticket}");
            let score = one(&f, "score").trim();
            if score.is_empty() {
                Ok(vec![(1, ticket.clone(), None)])
            } else {
                parse_number(&key, score)
                    .map(|v| vec![(1, ticket.clone(), Some(v))])
                    .map_err(|e| vec![e])
            }
        };
        let outcome = match parsed {
            Err(errs) => Err(errs),
            Ok(rows) => {
                let list: Vec<(String, Option<f64>)> =
                    rows.iter().map(|(_, t, s)| (t.clone(), *s)).collect();
                match svc::process_scores(&st, &ctx, id, &list).await {
                    Ok(n) => Ok(n),
                    Err(e) => {
                        let errs = field_errors(e)?;
                        // The service names rows "row i" in the order sent.
                        Err(errs
                            .into_iter()
                            .map(|e| {
                                let i: usize = e
                                    .field
                                    .strip_prefix("row ")
                                    .and_then(|n| n.parse().ok())
                                    .unwrap_or(1);
                                if pasted {
                                    let line =
                                        rows.get(i.saturating_sub(1)).map(|r| r.0).unwrap_or(i);
                                    fe(
                                        "paste",
                                        &e.code,
                                        format!("line {line}: {}", e.en),
                                        format!("第 {line} 行：{}", e.zh),
                                    )
                                } else {
                                    fe(&format!("process.{ticket}"), &e.code, e.en, e.zh)
                                }
                            })
                            .collect())
                    }
                }
            }
        };
        match outcome {
            Ok(n) => Ok(redirect(&format!(
                "/admin/exams/{id}?saved=process-{n}#candidates"
            ))),
            Err(errors) => {
                let mut typed = HashMap::new();
                if !pasted {
                    typed.insert(ticket.clone(), one(&f, "score").to_string());
                }
                let extra = DetailExtra {
                    errors,
                    paste,
                    typed,
                    ..Default::default()
                };
                detail_page(&st, &ctx, id, None, extra, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn set_status(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let to = match one(&f, "status") {
            "closed" => Ok(SessionStatus::Closed),
            "released" => Ok(SessionStatus::Released),
            other => Err(fe(
                "status",
                "bad_status",
                format!("\"{other}\": use closed or released"),
                format!("“{other}”：应为 closed 或 released"),
            )),
        };
        let (_, s) = svc::session_for(&st, &ctx, id).await?;
        let outcome = match to {
            Err(e) => Err(vec![e]),
            // Closing ends every attempt still open: it is confirmed with a tick.
            Ok(SessionStatus::Closed)
                if s.status == SessionStatus::Scheduled && one(&f, "confirm").is_empty() =>
            {
                Err(vec![fe(
                    "confirm",
                    "not_confirmed",
                    "tick the box to confirm: closing submits every exam still open",
                    "请勾选确认：结束考试将提交所有尚未交卷的试卷",
                )])
            }
            Ok(to) => match svc::session_set_status(&st, &ctx, id, to).await {
                Ok(_) => Ok(()),
                Err(e) => Err(field_errors(e)?),
            },
        };
        match outcome {
            Ok(()) => Ok(redirect(&format!("/admin/exams/{id}"))),
            Err(errors) => {
                let extra = DetailExtra {
                    errors,
                    ..Default::default()
                };
                detail_page(&st, &ctx, id, None, extra, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// Practical scoring (the examiner's tablet pages)

async fn scoring(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let sheet = svc::scoring_sheet(&st, &ctx, id).await?;
        let p = ctx.require()?;
        let s = &sheet.session;
        let mut scales = BTreeMap::new();
        for t in &s.tasks {
            scales.insert(t.position, scale_of(&st, s, t.position).await?);
        }
        let rows: Vec<Value> = sheet
            .candidates
            .iter()
            .map(|c| {
                let cells: Vec<Value> = s
                    .tasks
                    .iter()
                    .map(|t| {
                        let mine = sheet
                            .mine
                            .get(&format!("{}/{}", c.id, t.position))
                            .and_then(|m| scales.get(&t.position).map(|sc| sc.total(m)));
                        let standing = sheet
                            .standings
                            .iter()
                            .find(|x| x.candidate_id == c.id && x.task_position == t.position);
                        let others: Vec<String> = standing
                            .map(|x| {
                                x.totals
                                    .iter()
                                    .filter(|(who, _)| *who != p.username)
                                    .map(|(_, v)| num(*v))
                                    .collect()
                            })
                            .unwrap_or_default();
                        context! {
                            task => t.position, mine => mine, others => others,
                            combined => standing.and_then(|x| x.score),
                            needs_third => standing.is_some_and(|x| x.needs_third),
                        }
                    })
                    .collect();
                context! { c => c, cells => cells }
            })
            .collect();
        page(
            &st,
            &ctx,
            "exam_scoring.html",
            context! { s => s, rows => rows, may_score => svc::may_score(&p, s), agreement => sheet.agreement },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    saved: Option<String>,
}

/// What the examiner typed, shown again after an error: points per criterion, comment.
struct TaskEcho {
    points: BTreeMap<String, String>,
    comment: String,
}

async fn task_page(
    st: &AppState,
    ctx: &Ctx,
    (id, cand, task): (i64, i64, i64),
    echo: Option<TaskEcho>,
    errors: Vec<FieldError>,
    saved: bool,
    status: StatusCode,
) -> R<Response> {
    // Only those who score the session get this page (others: refused).
    let mine = svc::my_practical_score(st, ctx, id, cand, task).await?;
    let sheet = svc::scoring_sheet(st, ctx, id).await?;
    let s = &sheet.session;
    let idx = sheet
        .candidates
        .iter()
        .position(|c| c.id == cand)
        .ok_or_else(|| AppError::NotFound(format!("candidate {cand}")))?;
    let c = &sheet.candidates[idx];
    let (t, content) = svc::task_scale(st, s, task).await?;
    let Interaction::Practical { scale } = &content.interaction else {
        return Err(AppError::Internal(format!("task {task} is not practical")));
    };
    let criteria: Vec<Value> = scale
        .criteria
        .iter()
        .map(|cr| {
            let value = match &echo {
                Some(e) => e.points.get(&cr.id).cloned().unwrap_or_default(),
                None => mine
                    .as_ref()
                    .and_then(|m| m.criteria.get(&cr.id))
                    .map(|v| num(*v))
                    .unwrap_or_default(),
            };
            let current = value.trim().parse::<f64>().ok();
            let descriptors: Vec<Value> = cr
                .descriptors
                .iter()
                .map(|d| {
                    context! {
                        points => num(d.points), text => d.text,
                        selected => current.is_some_and(|v| (v - d.points).abs() < 1e-9),
                    }
                })
                .collect();
            context! {
                id => cr.id, text => cr.text, points => num(cr.points), critical => cr.critical,
                descriptors => descriptors, value => value,
                error_key => format!("c.{}", cr.id),
            }
        })
        .collect();
    let standing = sheet
        .standings
        .iter()
        .find(|x| x.candidate_id == cand && x.task_position == task);
    let p = ctx.require()?;
    let others: Vec<String> = standing
        .map(|x| {
            x.totals
                .iter()
                .filter(|(who, _)| *who != p.username)
                .map(|(_, v)| num(*v))
                .collect()
        })
        .unwrap_or_default();
    let comment = match &echo {
        Some(e) => e.comment.clone(),
        None => mine
            .as_ref()
            .and_then(|m| m.comment.clone())
            .unwrap_or_default(),
    };
    page_with_status(
        st,
        ctx,
        "exam_score_task.html",
        context! {
            s => s, c => c, task => t, stem => svc::render_rich(&content.stem, &content.media), criteria => criteria,
            max_points => num(scale.max_points()), comment => comment,
            my_total => mine.as_ref().map(|m| m.total),
            others => others, combined => standing.and_then(|x| x.score),
            needs_third => standing.is_some_and(|x| x.needs_third),
            index => idx + 1, count => sheet.candidates.len(),
            prev => idx.checked_sub(1).map(|i| sheet.candidates[i].id),
            next => sheet.candidates.get(idx + 1).map(|x| x.id),
            errors => errors, saved => saved,
            released => s.status == SessionStatus::Released,
        },
        status,
    )
}

async fn score_task(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(key): Path<(i64, i64, i64)>,
    Query(q): Query<SavedQuery>,
) -> Response {
    let r = task_page(
        &st,
        &ctx,
        key,
        None,
        Vec::new(),
        q.saved.is_some(),
        StatusCode::OK,
    )
    .await;
    respond(&st, &ctx, r)
}

/// The points given for one criterion: the number typed if it was changed, else the
/// descriptor tapped, else the number as it stands. (Without the script a tapped
/// descriptor and a number kept from before can disagree; what the examiner changed wins.)
fn criterion_points<'a>(f: &'a Pairs, id: &str) -> &'a str {
    let typed = one(f, &format!("c.{id}")).trim();
    let before = one(f, &format!("o.{id}")).trim();
    let tapped = one(f, &format!("d.{id}")).trim();
    if typed != before || tapped.is_empty() {
        typed
    } else {
        tapped
    }
}

async fn score_task_save(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, cand, task)): Path<(i64, i64, i64)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let (_, s) = svc::session_for(&st, &ctx, id).await?;
        let scale = scale_of(&st, &s, task).await?;
        let mut points = BTreeMap::new();
        let mut typed = BTreeMap::new();
        let mut errors = Vec::new();
        for cr in &scale.criteria {
            let key = format!("c.{}", cr.id);
            let v = criterion_points(&f, &cr.id);
            typed.insert(cr.id.clone(), v.to_string());
            if v.is_empty() {
                errors.push(fe(&key, "required", "score this criterion", "请为此项打分"));
                continue;
            }
            match parse_number(&key, v) {
                Ok(x) if (0.0..=cr.points).contains(&x) => {
                    points.insert(cr.id.clone(), x);
                }
                Ok(_) => errors.push(fe(
                    &key,
                    "out_of_range",
                    format!("between 0 and {}", num(cr.points)),
                    format!("应在 0 至 {} 之间", num(cr.points)),
                )),
                Err(e) => errors.push(e),
            }
        }
        let comment = one(&f, "comment").trim().to_string();
        let outcome = if errors.is_empty() {
            svc::practical_score(
                &st,
                &ctx,
                id,
                cand,
                task,
                &points,
                Some(comment.as_str()).filter(|c| !c.is_empty()),
            )
            .await
            .map_err(field_errors)
        } else {
            Err(Ok(errors))
        };
        match outcome {
            Ok(_) => {
                if one(&f, "go") == "next" {
                    let sheet = svc::scoring_sheet(&st, &ctx, id).await?;
                    let next = sheet
                        .candidates
                        .iter()
                        .skip_while(|c| c.id != cand)
                        .nth(1)
                        .map(|c| c.id);
                    return Ok(redirect(&match next {
                        Some(n) => format!("/admin/exams/{id}/scoring/{n}/{task}"),
                        None => format!("/admin/exams/{id}/scoring"),
                    }));
                }
                Ok(redirect(&format!(
                    "/admin/exams/{id}/scoring/{cand}/{task}?saved=1"
                )))
            }
            Err(Err(e)) => Err(e),
            Err(Ok(errors)) => {
                let echo = TaskEcho {
                    points: typed,
                    comment,
                };
                task_page(
                    &st,
                    &ctx,
                    (id, cand, task),
                    Some(echo),
                    errors,
                    false,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// Marking written answers

async fn marking_page(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    errors: Vec<FieldError>,
    typed: Option<(String, String)>,
    status: StatusCode,
) -> R<Response> {
    let mut queue = svc::marking_queue(st, ctx, id).await?;
    let (_, s) = svc::session_for(st, ctx, id).await?;
    // Unmarked first; each group in ticket order as the queue gives it.
    queue.sort_by_key(|m| m.score.is_some());
    let open = queue.iter().filter(|m| m.score.is_none()).count();
    let rows: Vec<Value> = queue
        .iter()
        .map(|m| {
            let key = format!("mark.{}.{}", m.candidate_id, m.position);
            let value = match &typed {
                Some((k, v)) if *k == key => v.clone(),
                _ => m.score.map(num).unwrap_or_default(),
            };
            context! {
                m => m, stem => sanitize(&m.stem), guide => m.guide.as_deref().map(sanitize),
                key => key, value => value, points => num(m.points),
            }
        })
        .collect();
    page_with_status(
        st,
        ctx,
        "exam_marking.html",
        context! { s => s, rows => rows, open => open, errors => errors },
        status,
    )
}

async fn marking(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = marking_page(&st, &ctx, id, Vec::new(), None, StatusCode::OK).await;
    respond(&st, &ctx, r)
}

async fn mark(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, cand, pos)): Path<(i64, i64, i64)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let key = format!("mark.{cand}.{pos}");
        let typed = one(&f, "score").to_string();
        let outcome = if typed.trim().is_empty() {
            Err(vec![fe(&key, "required", "enter a score", "请填写得分")])
        } else {
            match parse_number(&key, &typed) {
                Err(e) => Err(vec![e]),
                Ok(v) => match svc::mark_response(&st, &ctx, id, cand, pos, v).await {
                    Ok(_) => Ok(()),
                    Err(e) => Err(field_errors(e)?
                        .into_iter()
                        .map(|e| fe(&key, &e.code, e.en, e.zh))
                        .collect()),
                },
            }
        };
        match outcome {
            Ok(()) => Ok(redirect(&format!(
                "/admin/exams/{id}/marking#m-{cand}-{pos}"
            ))),
            Err(errors) => {
                marking_page(
                    &st,
                    &ctx,
                    id,
                    errors,
                    Some((key, typed)),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// Results

/// Totals in 10-point bins: [0, 10), [10, 20), … [90, 100] (100 joins the last bin).
fn total_bins(totals: &[f64]) -> [usize; 10] {
    let mut bins = [0usize; 10];
    for t in totals {
        let i = ((t / 10.0).floor().max(0.0) as usize).min(9);
        bins[i] += 1;
    }
    bins
}

#[derive(Deserialize, Default)]
struct ResultsQuery {
    computed: Option<String>,
}

async fn results(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ResultsQuery>,
) -> Response {
    let r = async {
        let (s, rows) = svc::results(&st, &ctx, id).await?;
        let p = ctx.require()?;
        let passed = rows.iter().filter(|r| r.outcome.passed).count();
        let totals: Vec<f64> = rows.iter().filter_map(|r| r.outcome.total).collect();
        let bins = total_bins(&totals);
        let chart = bars(
            "chart-totals",
            if lang_is_en(&ctx) {
                "Distribution of totals (10-point bins)"
            } else {
                "总评成绩分布（每 10 分一组）"
            },
            &bins
                .iter()
                .enumerate()
                .map(|(i, n)| Bar {
                    label: if i == 9 {
                        "90–100".to_string()
                    } else {
                        format!("{}–{}", i * 10, i * 10 + 10)
                    },
                    value: *n as f64,
                    shown: n.to_string(),
                })
                .collect::<Vec<_>>(),
        );
        let view: Vec<Value> = rows
            .iter()
            .map(|r| context! { c => r.candidate, o => outcome_view(&ctx, &r.outcome) })
            .collect();
        let rate = if rows.is_empty() {
            None
        } else {
            Some(num(passed as f64 / rows.len() as f64 * 100.0))
        };
        page(
            &st,
            &ctx,
            "exam_results.html",
            context! {
                s => s, rows => view, passed => passed, count => rows.len(), rate => rate,
                chart => chart, manages => svc::manages(&p, &s), computed => q.computed,
                released => s.status == SessionStatus::Released,
            },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

async fn results_compute(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let (n, passed) = svc::results_compute(&st, &ctx, id).await?;
        Ok(redirect(&format!(
            "/admin/exams/{id}/results?computed={passed}/{n}"
        )))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn results_xlsx(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let (s, rows) = svc::results(&st, &ctx, id).await?;
        let bytes = svc::results_xlsx(&s, &rows, false)?;
        Ok(download(bytes, &format!("results-{id}.xlsx"), XLSX))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn pass_list_xlsx(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let (s, rows) = svc::results(&st, &ctx, id).await?;
        if s.status != SessionStatus::Released {
            return Err(AppError::Conflict(fe(
                "status",
                "not_released",
                "the pass list exists once the results are released",
                "成绩发布后才有合格名单",
            )));
        }
        let bytes = svc::results_xlsx(&s, &rows, true)?;
        Ok(download(bytes, &format!("pass-list-{id}.xlsx"), XLSX))
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// The candidate's pages

async fn my_exams(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let rows = svc::my_attempts(&st, &ctx).await?;
        let mut view = Vec::new();
        for (c, s) in rows {
            let result = if s.status == SessionStatus::Released {
                svc::my_result(&st, &ctx, c.id)
                    .await?
                    .map(|o| outcome_view(&ctx, &o))
            } else {
                None
            };
            view.push(context! { c => c, s => s, result => result });
        }
        page(&st, &ctx, "exam_mine.html", context! { rows => view })
    }
    .await;
    respond(&st, &ctx, r)
}

/// How an item is answered on the page, which also names its JSON response type.
fn answer_type(d: &DeliveredItem) -> &'static str {
    match d.kind {
        ItemKind::TextEntry => "text",
        ItemKind::Matching => "pairs",
        ItemKind::Ordering => "order",
        ItemKind::ExtendedText => "extended",
        _ => "choice",
    }
}

/// Nothing chosen or typed.
fn is_blank(a: &Answer) -> bool {
    match a {
        Answer::Choice(v) | Answer::Order(v) => v.is_empty(),
        Answer::Text(v) => v.iter().all(|s| s.trim().is_empty()),
        Answer::Pairs(v) => v.is_empty(),
        Answer::Extended(s) => s.trim().is_empty(),
    }
}

/// The answers as the page's fields hold them, for every item (blank ones included).
/// Field names: `a{pos}` (choices, written answer), `a{pos}.b{k}` (blank k),
/// `a{pos}.s{i}` (the target of source i), `a{pos}.o{i}` (the rank of option i).
fn answers_from_form(items: &[DeliveredItem], f: &Pairs) -> BTreeMap<i64, Answer> {
    let mut out = BTreeMap::new();
    for d in items {
        let pos = d.position as i64;
        let base = format!("a{pos}");
        let a = match answer_type(d) {
            "text" => Answer::Text(
                (0..d.blanks)
                    .map(|k| one(f, &format!("{base}.b{k}")).to_string())
                    .collect(),
            ),
            "pairs" => Answer::Pairs(
                d.sources
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| {
                        let t = one(f, &format!("{base}.s{i}"));
                        d.targets
                            .iter()
                            .any(|x| x.id == t)
                            .then(|| (s.id.clone(), t.to_string()))
                    })
                    .collect(),
            ),
            "order" => {
                let ranks: Vec<Option<usize>> = (0..d.choices.len())
                    .map(|i| one(f, &format!("{base}.o{i}")).trim().parse().ok())
                    .collect();
                if ranks.iter().all(Option::is_none) {
                    Answer::Order(Vec::new())
                } else {
                    let mut idx: Vec<usize> = (0..d.choices.len()).collect();
                    idx.sort_by_key(|i| (ranks[*i].unwrap_or(usize::MAX), *i));
                    Answer::Order(idx.into_iter().map(|i| d.choices[i].id.clone()).collect())
                }
            }
            "extended" => Answer::Extended(one(f, &base).to_string()),
            _ => {
                let mut chosen: Vec<String> = all(f, &base)
                    .into_iter()
                    .filter(|v| d.choices.iter().any(|c| c.id == *v))
                    .map(str::to_string)
                    .collect();
                if !d.multiple {
                    chosen.truncate(1);
                }
                Answer::Choice(chosen)
            }
        };
        out.insert(pos, a);
    }
    out
}

/// What to send: answers that differ from the saved ones (a cleared answer is sent
/// blank; an item never answered and still blank is not sent).
fn changed_answers(now: BTreeMap<i64, Answer>, saved: &BTreeMap<i64, Answer>) -> Answers {
    now.into_iter()
        .filter(|(pos, a)| match saved.get(pos) {
            Some(s) => s != a && !(is_blank(s) && is_blank(a)),
            None => !is_blank(a),
        })
        .collect()
}

/// A, B, C… for the k-th option (AA, AB… past Z, which no real item reaches).
fn letter(k: usize) -> String {
    let a = |i: usize| char::from(b'A' + (i % 26) as u8);
    if k < 26 {
        a(k).to_string()
    } else {
        format!("{}{}", a(k / 26 - 1), a(k))
    }
}

/// The items as the exam page renders them, with the saved answers filled in.
fn items_view(v: &AttemptView) -> Vec<Value> {
    v.items
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let pos = d.position as i64;
            let saved = v.responses.get(&pos);
            let chosen: Vec<&str> = match saved {
                Some(Answer::Choice(c)) => c.iter().map(String::as_str).collect(),
                _ => Vec::new(),
            };
            let choices: Vec<Value> = d
                .choices
                .iter()
                .enumerate()
                .map(|(k, c)| context! { id => c.id, letter => letter(k), text => svc::render_rich(&c.text, &d.media), checked => chosen.contains(&c.id.as_str()) })
                .collect();
            let blanks: Vec<Value> = (0..d.blanks as usize)
                .map(|k| {
                    let value = match saved {
                        Some(Answer::Text(t)) => t.get(k).cloned().unwrap_or_default(),
                        _ => String::new(),
                    };
                    context! { k => k, value => value }
                })
                .collect();
            let pairs: HashMap<&str, &str> = match saved {
                Some(Answer::Pairs(p)) => p.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect(),
                _ => HashMap::new(),
            };
            let sources: Vec<Value> = d
                .sources
                .iter()
                .enumerate()
                .map(|(k, s)| context! { k => k, id => s.id, text => svc::render_rich(&s.text, &d.media), target => pairs.get(s.id.as_str()).copied() })
                .collect();
            let targets: Vec<Value> = d
                .targets
                .iter()
                .enumerate()
                .map(|(k, t)| context! { id => t.id, letter => letter(k), text => svc::render_rich(&t.text, &d.media), plain => plain_text(&t.text) })
                .collect();
            // Ordering: the saved order first (with ranks), then any option not in it.
            let order: Vec<Value> = {
                let saved_order: Vec<&str> = match saved {
                    Some(Answer::Order(o)) => o.iter().map(String::as_str).collect(),
                    _ => Vec::new(),
                };
                let mut idx: Vec<(usize, Option<usize>)> = Vec::new();
                for id in &saved_order {
                    if let Some(k) = d.choices.iter().position(|c| c.id == *id)
                        && !idx.iter().any(|(x, _)| *x == k)
                    {
                        idx.push((k, Some(idx.len() + 1)));
                    }
                }
                for k in 0..d.choices.len() {
                    if !idx.iter().any(|(x, _)| *x == k) {
                        idx.push((k, None));
                    }
                }
                idx.into_iter()
                    .map(|(k, rank)| context! { k => k, id => d.choices[k].id, text => svc::render_rich(&d.choices[k].text, &d.media), rank => rank })
                    .collect()
            };
            let extended = match saved {
                Some(Answer::Extended(t)) => t.clone(),
                _ => String::new(),
            };
            context! {
                n => i + 1, pos => pos, kind => d.kind.as_str(), kind_zh => d.kind.zh(), kind_en => d.kind.en(),
                atype => answer_type(d), stem => svc::render_rich(&d.stem, &d.media), points => num(d.points),
                multiple => d.multiple, choices => choices, blanks => blanks, sources => sources,
                targets => targets, order => order, extended => extended,
                ranks => (1..=d.choices.len()).collect::<Vec<_>>(),
                expected_length => d.expected_length,
                answered => saved.is_some_and(|a| !is_blank(a)),
            }
        })
        .collect()
}

async fn attempt_page(
    st: &AppState,
    ctx: &Ctx,
    v: AttemptView,
    notice: Value,
    status: StatusCode,
) -> R<Response> {
    let result = if v.candidate.state == AttemptState::Submitted
        && v.session.status == SessionStatus::Released
    {
        svc::my_result(st, ctx, v.candidate.id)
            .await?
            .map(|o| outcome_view(ctx, &o))
    } else {
        None
    };
    let items = items_view(&v);
    let remaining = v.remaining_ms;
    let now = xcert_store::now();
    let opens_later = v.candidate.state == AttemptState::Registered
        && !v.may_start
        && now.as_str() < v.session.opens_at.as_str()
        && v.session.status == SessionStatus::Scheduled;
    page_with_status(
        st,
        ctx,
        "exam_attempt.html",
        context! {
            v => v, items => items, result => result,
            remaining_ms => remaining, clock => remaining.map(clock),
            opens_later => opens_later, now => now, ..notice
        },
        status,
    )
}

async fn attempt(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> Response {
    let r = async {
        let v = svc::attempt_view(&st, &ctx, id).await?;
        let notice = context! { saved_at => q.saved.is_some().then(xcert_store::now) };
        attempt_page(&st, &ctx, v, notice, StatusCode::OK).await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn attempt_start(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        match svc::attempt_start(&st, &ctx, id).await {
            Ok(_) => Ok(redirect(&format!("/exam/{id}"))),
            Err(e) => {
                let errors = field_errors(e)?;
                let v = svc::attempt_view(&st, &ctx, id).await?;
                attempt_page(
                    &st,
                    &ctx,
                    v,
                    context! { errors => errors },
                    StatusCode::CONFLICT,
                )
                .await
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

/// A save or submit refused because the exam is over (submitted, or time is up): the
/// exam page then shows what happened.
fn over(e: &AppError) -> bool {
    matches!(e, AppError::Conflict(_))
}

async fn attempt_save(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let v = svc::attempt_view(&st, &ctx, id).await?;
        if v.candidate.state != AttemptState::InProgress {
            return Ok(redirect(&format!("/exam/{id}")));
        }
        let answers = changed_answers(answers_from_form(&v.items, &f), &v.responses);
        if !answers.is_empty() {
            match svc::attempt_save(&st, &ctx, id, &answers).await {
                Ok(_) => {}
                Err(e) if over(&e) => return Ok(redirect(&format!("/exam/{id}"))),
                Err(e) => return Err(e),
            }
        }
        Ok(redirect(&format!("/exam/{id}?saved=1")))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn attempt_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let v = svc::attempt_view(&st, &ctx, id).await?;
        if v.candidate.state != AttemptState::InProgress {
            return Ok(redirect(&format!("/exam/{id}")));
        }
        let confirmed = one(&f, "confirm") == "1";
        // The confirmation form carries no answers: they were saved when it was shown.
        let now = if confirmed && !f.iter().any(|(k, _)| k.starts_with('a')) {
            v.responses.clone()
        } else {
            answers_from_form(&v.items, &f)
        };
        let numbers: HashMap<i64, usize> = v
            .items
            .iter()
            .enumerate()
            .map(|(i, d)| (d.position as i64, i + 1))
            .collect();
        let mut unanswered: Vec<usize> = v
            .items
            .iter()
            .filter(|d| now.get(&(d.position as i64)).is_none_or(is_blank))
            .map(|d| numbers[&(d.position as i64)])
            .collect();
        unanswered.sort();
        let answers = changed_answers(now, &v.responses);
        if !unanswered.is_empty() && !confirmed {
            // Keep what was answered, then ask before submitting with gaps.
            if !answers.is_empty() {
                match svc::attempt_save(&st, &ctx, id, &answers).await {
                    Ok(_) => {}
                    Err(e) if over(&e) => return Ok(redirect(&format!("/exam/{id}"))),
                    Err(e) => return Err(e),
                }
            }
            let v = svc::attempt_view(&st, &ctx, id).await?;
            return attempt_page(
                &st,
                &ctx,
                v,
                context! { unanswered => unanswered, saved_at => xcert_store::now() },
                StatusCode::OK,
            )
            .await;
        }
        match svc::attempt_submit(&st, &ctx, id, &answers, "candidate").await {
            Ok(_) => Ok(redirect(&format!("/exam/{id}"))),
            Err(e) if over(&e) => Ok(redirect(&format!("/exam/{id}"))),
            Err(e) => Err(e),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xcert_assess::item::Choice;

    fn item(pos: u32, kind: ItemKind) -> DeliveredItem {
        DeliveredItem {
            position: pos,
            kind,
            stem: String::new(),
            points: 1.0,
            choices: vec![
                Choice::new("A", "a"),
                Choice::new("B", "b"),
                Choice::new("C", "c"),
            ],
            sources: vec![Choice::new("s1", "x"), Choice::new("s2", "y")],
            targets: vec![Choice::new("t1", "p"), Choice::new("t2", "q")],
            blanks: 2,
            multiple: kind == ItemKind::MultipleChoice,
            expected_length: None,
            media: vec![],
        }
    }

    fn pairs(v: &[(&str, &str)]) -> Pairs {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn form_fields_become_responses() {
        let items = [
            item(0, ItemKind::SingleChoice),
            item(1, ItemKind::MultipleChoice),
            item(2, ItemKind::TextEntry),
            item(3, ItemKind::Matching),
            item(4, ItemKind::Ordering),
            item(5, ItemKind::ExtendedText),
        ];
        let f = pairs(&[
            ("a0", "B"),
            ("a0", "C"),
            ("a1", "A"),
            ("a1", "Z"),
            ("a1", "C"),
            ("a2.b0", "安培"),
            ("a2.b1", ""),
            ("a3.s0", "t2"),
            ("a3.s1", ""),
            ("a4.o0", "2"),
            ("a4.o1", ""),
            ("a4.o2", "1"),
            ("a5", "先报告"),
        ]);
        let a = answers_from_form(&items, &f);
        // A single choice keeps one option; unknown option ids are dropped.
        assert_eq!(a[&0], Answer::Choice(vec!["B".into()]));
        assert_eq!(a[&1], Answer::Choice(vec!["A".into(), "C".into()]));
        assert_eq!(a[&2], Answer::Text(vec!["安培".into(), String::new()]));
        assert_eq!(a[&3], Answer::Pairs(vec![("s1".into(), "t2".into())]));
        // Ranked first, then unranked in the order shown.
        assert_eq!(
            a[&4],
            Answer::Order(vec!["C".into(), "A".into(), "B".into()])
        );
        assert_eq!(a[&5], Answer::Extended("先报告".into()));
    }

    #[test]
    fn only_changed_answers_are_sent_and_cleared_ones_sent_blank() {
        let mut saved = BTreeMap::new();
        saved.insert(0, Answer::Choice(vec!["A".into()]));
        saved.insert(1, Answer::Text(vec!["x".into()]));
        let mut now = BTreeMap::new();
        now.insert(0, Answer::Choice(vec!["A".into()]));
        now.insert(1, Answer::Text(vec![String::new()]));
        now.insert(2, Answer::Extended("  ".into()));
        now.insert(3, Answer::Order(vec!["B".into()]));
        let sent = changed_answers(now, &saved);
        assert_eq!(sent.keys().copied().collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(sent[&1], Answer::Text(vec![String::new()]));
    }

    #[test]
    fn criterion_points_prefer_what_changed() {
        // A number changed from before wins over a tapped descriptor.
        let f = pairs(&[("c.x", "4"), ("o.x", "5"), ("d.x", "5")]);
        assert_eq!(criterion_points(&f, "x"), "4");
        // A descriptor tapped without the script, the number left as it was.
        let f = pairs(&[("c.x", "5"), ("o.x", "5"), ("d.x", "3")]);
        assert_eq!(criterion_points(&f, "x"), "3");
        let f = pairs(&[("c.x", ""), ("o.x", ""), ("d.x", "2")]);
        assert_eq!(criterion_points(&f, "x"), "2");
        let f = pairs(&[("c.x", ""), ("o.x", "")]);
        assert_eq!(criterion_points(&f, "x"), "");
    }

    #[test]
    fn paste_lines_and_their_errors() {
        let rows =
            parse_paste("2026000010001\t88\n\n2026000010002, 70.5\n2026000010003\n").unwrap();
        assert_eq!(
            rows,
            vec![
                (1, "2026000010001".into(), Some(88.0)),
                (3, "2026000010002".into(), Some(70.5)),
                (4, "2026000010003".into(), None),
            ]
        );
        let errs = parse_paste("a\t1\nb\tx\nc 1 2").unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(errs[0].en.starts_with("line 2:"), "{}", errs[0].en);
        assert!(errs[1].zh.starts_with("第 3 行"), "{}", errs[1].zh);
        assert!(parse_paste("  \n").is_err());
    }

    #[test]
    fn bins_and_times() {
        // 100 joins the last bin; 9.99 the first.
        assert_eq!(
            total_bins(&[0.0, 9.99, 10.0, 59.5, 100.0, 90.0]),
            [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
        );
        // 01:30 UTC is 09:30 in China.
        assert_eq!(
            china_time("2026-06-20T01:30:00.000Z", "%Y-%m-%d %H:%M"),
            "2026-06-20 09:30"
        );
        assert_eq!(num(85.0), "85");
        assert_eq!(num(14.333333), "14.33");
        assert_eq!(clock(3_723_000), "1:02:03");
        assert_eq!(clock(59_999), "00:59");
    }
}
