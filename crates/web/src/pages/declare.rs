//! Declaration pages (申报): the ministry's batches and their settings, a TEO's
//! application with its certificate proposals, seven annexes per proposal and the task
//! breakdown among units, a proposal's versions and modification opinions, the
//! assignee's task list and the notifications. The ministry's review stages have their
//! own pages (`pages/review.rs`).
//!
//! A refused form comes back on its page with the refusal beside the form it came from
//! (`error_form` names the form) and what was typed kept (`echo`).

use super::{Pairs, check_csrf, one, redirect, respond};
use crate::AppState;
use crate::auth::Ctx;
use crate::declare::{self as svc, ApplicationInput, ProposalInput, TaskInput};
use crate::error::AppError;
use crate::render::{download, mime_of, page, page_with_status};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, FixedOffset};
use minijinja::{State as TmplState, Value, context};
use serde::Deserialize;
use std::collections::BTreeMap;
use xcert_declare::{BatchInput, BatchState, CombineRule, Rubric};
use xcert_domain::FieldError;
use xcert_domain::access::{Action, Role};
use xcert_store::{BatchRow, RunState};

type R<T> = Result<T, AppError>;

/// The 19 major categories of vocational education (专业大类) a proposal's field is chosen
/// from; stored in Chinese, labelled by `decl_major_1` … `decl_major_19`.
const FIELDS: [&str; 19] = [
    "农林牧渔",
    "资源环境与安全",
    "能源动力与材料",
    "土木建筑",
    "水利",
    "装备制造",
    "生物与化工",
    "轻工纺织",
    "食品药品与粮食",
    "交通运输",
    "电子与信息",
    "医药卫生",
    "财经商贸",
    "旅游",
    "文化艺术",
    "新闻传播",
    "教育与体育",
    "公安与司法",
    "公共管理与服务",
];

pub fn routes() -> Router<AppState> {
    // An annex or a task's file, with room for the form's other fields.
    let upload = || DefaultBodyLimit::max(svc::MAX_FILE + (1 << 20));
    Router::new()
        .route("/declare", get(index))
        .route("/declare/batches/new", get(batch_new).post(batch_create))
        .route("/declare/batches/{id}", get(batch_page))
        .route(
            "/declare/batches/{id}/edit",
            get(batch_edit).post(batch_update),
        )
        .route("/declare/batches/{id}/advance", post(batch_advance))
        .route("/declare/batches/{id}/apply", post(apply))
        .route("/declare/applications/{id}", get(application_page))
        .route("/declare/applications/{id}/proposals", post(proposal_add))
        .route("/declare/applications/{id}/submit", post(submit))
        .route("/declare/applications/{id}/units", post(unit_add))
        .route("/declare/applications/{id}/tasks", post(task_assign))
        .route("/declare/applications/{id}/remind", post(remind))
        .route("/declare/tasks/{id}/reopen", post(task_reopen))
        .route("/declare/tasks/{id}/file", get(task_file))
        .route("/declare/proposals/{id}", get(proposal_page))
        .route("/declare/proposals/{id}/edit", post(proposal_edit))
        .route("/declare/proposals/{id}/resubmit", post(resubmit))
        .route("/declare/proposals/{id}/from-run", post(from_run))
        .route(
            "/declare/proposals/{id}/annex/{n}",
            get(annex_download).post(annex_upload).layer(upload()),
        )
        .route("/my/tasks", get(my_tasks))
        .route("/my/tasks/{id}/done", post(task_done).layer(upload()))
        .route("/notifications", get(notifications))
        .route("/notifications/read", post(notifications_read))
}

pub(crate) fn templates(env: &mut minijinja::Environment<'static>) {
    crate::render::templates!(
        env,
        "decl_style.html",
        "decl_macros.html",
        "decl_index.html",
        "decl_batch_form.html",
        "decl_batch.html",
        "decl_application.html",
        "decl_proposal.html",
        "decl_tasks.html",
        "decl_notifications.html",
    );
    // A stored time (RFC 3339, UTC) as the Beijing date; a plain date stays as it is.
    env.add_filter("decl_date", |v: Option<String>| {
        v.map(|s| beijing(&s, "%Y-%m-%d")).unwrap_or_default()
    });
    env.add_filter("decl_time", |v: Option<String>| {
        v.map(|s| beijing(&s, "%Y-%m-%d %H:%M")).unwrap_or_default()
    });
    env.add_filter("decl_size", |v: Option<i64>| size(v.unwrap_or(0)));
    env.add_filter("decl_num", |v: Option<f64>| v.map(num).unwrap_or_default());
    // A proposal's field (stored in Chinese) in the page's language; another text as is.
    env.add_filter("decl_major", |state: &TmplState, v: String| -> String {
        match FIELDS.iter().position(|f| *f == v.trim()) {
            Some(i) => {
                let lang = state.lookup("lang").map(|l| l.to_string());
                crate::i18n::t(
                    lang.as_deref().unwrap_or("zh"),
                    &format!("decl_major_{}", i + 1),
                )
            }
            None => v,
        }
    });
    // A bilingual record (`zh`/`en`, or `message_zh`/`message_en`) in the page's language.
    env.add_filter("decl_msg", |state: &TmplState, v: Value| -> String {
        let en = state
            .lookup("lang")
            .is_some_and(|l| l.as_str() == Some("en"));
        let pick = |k: &str| {
            v.get_attr(k)
                .ok()
                .filter(|x| !x.is_undefined() && !x.is_none())
                .map(|x| x.to_string())
        };
        let (first, second) = if en {
            (["en", "message_en"], ["zh", "message_zh"])
        } else {
            (["zh", "message_zh"], ["en", "message_en"])
        };
        first
            .iter()
            .chain(second.iter())
            .find_map(|k| pick(k))
            .unwrap_or_default()
    });
}

fn beijing(s: &str, fmt: &str) -> String {
    let china = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&china).format(fmt).to_string())
        .unwrap_or_else(|_| s.get(..10).unwrap_or(s).to_string())
}

/// A file size for people: bytes, KB or MB with one decimal.
fn size(n: i64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1 << 20 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{:.1} MB", n as f64 / (1 << 20) as f64),
    }
}

/// Points: at most two decimals, no trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{:.2}", (v * 100.0).round() / 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

// ---------------------------------------------------------------------------------------
// Refusals beside their forms

/// A refusal to show on a page beside the form it came from, with what was typed.
struct Shown {
    form: String,
    errors: Vec<FieldError>,
    echo: BTreeMap<String, String>,
    status: StatusCode,
}

impl Shown {
    fn none() -> Shown {
        Shown {
            form: String::new(),
            errors: Vec::new(),
            echo: BTreeMap::new(),
            status: StatusCode::OK,
        }
    }

    fn value(&self) -> Value {
        context! { error_form => self.form, errors => self.errors, echo => self.echo }
    }
}

/// A service's refusal (invalid input or a clash with the stage) as something to show
/// beside the form `form`; any other error is raised as an error page.
fn refusal(form: &str, e: AppError, typed: &Pairs) -> R<Shown> {
    let (status, errors) = match e {
        AppError::Invalid(v) => (StatusCode::UNPROCESSABLE_ENTITY, v),
        AppError::Conflict(f) => (StatusCode::CONFLICT, vec![f]),
        other => return Err(other),
    };
    Ok(Shown {
        form: form.to_string(),
        errors,
        echo: typed.iter().filter(|(k, _)| k != "csrf").cloned().collect(),
        status,
    })
}

/// A posted number, or a refusal naming the field.
fn id_field(f: &Pairs, field: &str) -> R<i64> {
    let v = one(f, field).trim();
    if v.is_empty() {
        return Err(AppError::Invalid(vec![FieldError::required(field)]));
    }
    v.parse().map_err(|_| {
        AppError::Invalid(vec![FieldError::new(
            field,
            "bad_number",
            format!("\"{v}\" is not a number"),
            format!("“{v}”不是编号"),
        )])
    })
}

fn is_ministry(ctx: &Ctx) -> bool {
    ctx.principal()
        .is_some_and(|p| p.role == Role::MinistryAdmin)
}

// ---------------------------------------------------------------------------------------
// Batches

async fn index(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let batches = svc::batches(&st, &ctx).await?;
        let p = ctx.principal();
        let is_teo = p.as_ref().is_some_and(|p| p.role == Role::TeoStaff);
        let mine = if is_teo {
            svc::my_applications(&st, &ctx).await?
        } else {
            Vec::new()
        };
        page(
            &st,
            &ctx,
            "decl_index.html",
            context! { batches => batches, mine => mine, is_teo => is_teo, may_manage => is_ministry(&ctx) },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

/// The batch form's fields as posted (an unchecked box is absent, so blank).
fn batch_input(f: &Pairs) -> BatchInput {
    let g = |k: &str| one(f, k).to_string();
    BatchInput {
        number: g("number"),
        title_zh: g("title_zh"),
        title_en: g("title_en"),
        notice: g("notice"),
        apply_from: g("apply_from"),
        apply_until: g("apply_until"),
        review_until: g("review_until"),
        publicity_days: g("publicity_days"),
        rubric_csv: g("rubric_csv"),
        experts_per_proposal: g("experts_per_proposal"),
        exclude_same_org: g("exclude_same_org"),
        exclude_same_province: g("exclude_same_province"),
        combine: g("combine"),
        outlier_points: g("outlier_points"),
        pass_score: g("pass_score"),
    }
}

fn batch_form(
    st: &AppState,
    ctx: &Ctx,
    editing: Option<&BatchRow>,
    input: &BatchInput,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> R<Response> {
    let en = ctx.lang == "en";
    // Rubric errors name the CSV line ("rubric_csv.line 4.points"): shown under the text.
    let rubric_errors: Vec<String> = errors
        .iter()
        .filter(|e| e.field.starts_with("rubric_csv"))
        .map(|e| {
            let at = e
                .field
                .trim_start_matches("rubric_csv")
                .trim_start_matches('.');
            let msg = if en { &e.en } else { &e.zh };
            if at.is_empty() {
                msg.clone()
            } else {
                format!("{at}: {msg}")
            }
        })
        .collect();
    let combines: Vec<&str> = CombineRule::ALL.iter().map(|c| c.as_str()).collect();
    page_with_status(
        st,
        ctx,
        "decl_batch_form.html",
        context! {
            batch => editing, input => input, errors => errors, rubric_errors => rubric_errors,
            combines => combines,
            locked => editing.is_some_and(|b| b.state != BatchState::Draft),
        },
        status,
    )
}

/// A new batch's form: the standard rubric, next number, the usual rules.
async fn batch_new(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        ctx.authorize(&Action::ManageBatches)?;
        let next = svc::batches(&st, &ctx)
            .await?
            .iter()
            .map(|b| b.number)
            .max()
            .unwrap_or(0)
            + 1;
        let today = svc::today();
        let input = BatchInput {
            number: next.to_string(),
            apply_from: today.to_string(),
            apply_until: (today + chrono::Duration::days(30)).to_string(),
            review_until: (today + chrono::Duration::days(60)).to_string(),
            publicity_days: "5".into(),
            rubric_csv: Rubric::standard().to_csv(),
            experts_per_proposal: "5".into(),
            exclude_same_org: "on".into(),
            combine: CombineRule::TrimmedMean.as_str().into(),
            outlier_points: "15".into(),
            pass_score: "75".into(),
            ..Default::default()
        };
        batch_form(&st, &ctx, None, &input, vec![], StatusCode::OK)
    }
    .await;
    respond(&st, &ctx, r)
}

async fn batch_create(State(st): State<AppState>, ctx: Ctx, Form(f): Form<Pairs>) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let input = batch_input(&f);
        match svc::create_batch(&st, &ctx, &input).await {
            Ok(b) => Ok(redirect(&format!("/declare/batches/{}", b.id))),
            Err(e) => {
                let s = refusal("batch", e, &f)?;
                batch_form(&st, &ctx, None, &input, s.errors, s.status)
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn batch_edit(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        ctx.authorize(&Action::ManageBatches)?;
        let b = svc::batch(&st, &ctx, id).await?;
        let input = b.settings.to_input();
        batch_form(&st, &ctx, Some(&b), &input, vec![], StatusCode::OK)
    }
    .await;
    respond(&st, &ctx, r)
}

async fn batch_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let input = batch_input(&f);
        match svc::update_batch(&st, &ctx, id, &input).await {
            Ok(b) => Ok(redirect(&format!("/declare/batches/{}", b.id))),
            Err(e) => {
                let s = refusal("batch", e, &f)?;
                let b = svc::batch(&st, &ctx, id).await?;
                batch_form(&st, &ctx, Some(&b), &input, s.errors, s.status)
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn batch_view(st: &AppState, ctx: &Ctx, id: i64, shown: Shown) -> R<Response> {
    let b = svc::batch(st, ctx, id).await?;
    let p = ctx.principal();
    let may_manage = p.as_ref().is_some_and(|p| p.role == Role::MinistryAdmin);
    let teo = p
        .as_ref()
        .filter(|p| p.role == Role::TeoStaff)
        .and_then(|p| p.org_id);
    let (own, org_name) = match teo {
        Some(t) => (
            st.store.application_of(id, t).await?,
            Some(st.store.org_get(t).await?.name_zh),
        ),
        None => (None, None),
    };
    let applications = if may_manage {
        st.store.applications_of_batch(id).await?
    } else {
        Vec::new()
    };
    let rubric: Vec<Value> = b
        .settings
        .rubric
        .categories
        .iter()
        .map(|c| {
            context! {
                code => c.code, name_zh => c.name_zh, name_en => c.name_en,
                points => num(c.items.iter().map(|i| i.points).sum()),
                items => c.items.iter().map(|i| context! {
                    code => i.code, name_zh => i.name_zh, name_en => i.name_en, points => num(i.points),
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    page_with_status(
        st,
        ctx,
        "decl_batch.html",
        context! {
            batch => b, rubric => rubric, rubric_total => num(b.settings.rubric.total_points()),
            rubric_items => b.settings.rubric.item_count(),
            next_state => b.state.next().map(|s| s.as_str()),
            may_manage => may_manage, is_teo => teo.is_some(), own => own, org_name => org_name,
            applications => applications,
            show_publicity => matches!(b.state, BatchState::Publicity | BatchState::Published),
            show_statistics => may_manage || b.state == BatchState::Published,
            ..shown.value()
        },
        shown.status,
    )
}

async fn batch_page(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = batch_view(&st, &ctx, id, Shown::none()).await;
    respond(&st, &ctx, r)
}

async fn batch_advance(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        match svc::advance_batch(&st, &ctx, id, one(&f, "to")).await {
            Ok(_) => Ok(redirect(&format!("/declare/batches/{id}"))),
            Err(e) => batch_view(&st, &ctx, id, refusal("advance", e, &f)?).await,
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn apply(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let input = ApplicationInput {
            teo_id: None,
            credit_code: one(&f, "credit_code").to_string(),
            lead_unit: one(&f, "lead_unit").to_string(),
            contact_name: one(&f, "contact_name").to_string(),
            contact_phone: one(&f, "contact_phone").to_string(),
        };
        match svc::create_application(&st, &ctx, id, &input).await {
            Ok(a) => Ok(redirect(&format!("/declare/applications/{}", a.id))),
            Err(e) => batch_view(&st, &ctx, id, refusal("apply", e, &f)?).await,
        }
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// Applications

/// What the last action did, carried in the address after its redirect.
#[derive(Debug, Default, Deserialize)]
struct Notice {
    reminded: Option<usize>,
    submitted: Option<usize>,
    /// Annex numbers filled from a consolidation run, comma-separated ("" when none).
    filled: Option<String>,
}

async fn application_view(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    shown: Shown,
    notice: &Notice,
) -> R<Response> {
    let view = svc::application(st, ctx, id).await?;
    let teo = view.application.teo_id;
    let (certs, runs) = if view.may_edit {
        let proposed: Vec<i64> = view
            .proposals
            .iter()
            .filter_map(|p| p.proposal.certificate_id)
            .collect();
        let certs: Vec<Value> = st
            .store
            .certificates_of_teo(teo)
            .await?
            .into_iter()
            .filter(|c| !proposed.contains(&c.id))
            .map(|c| context! { code => c.code, name_zh => c.name_zh, name_en => c.name_en })
            .collect();
        let runs: Vec<Value> = st
            .store
            .ingest_runs(Some(teo))
            .await?
            .into_iter()
            .filter(|r| r.state == RunState::Finished && r.org_id == Some(teo))
            .map(|r| context! { id => r.id, title => r.title, finished_at => r.finished_at })
            .collect();
        (certs, runs)
    } else {
        (Vec::new(), Vec::new())
    };
    // Annex tasks name a proposal and a slot as one value, "proposal:annex".
    let targets: Vec<Value> = view
        .proposals
        .iter()
        .flat_map(|p| {
            p.slots.iter().map(move |s| {
                context! {
                    value => format!("{}:{}", p.proposal.id, s.number),
                    proposal => p.proposal.name_zh, number => s.number, zh => s.zh, en => s.en,
                }
            })
        })
        .collect();
    let may_submit = view.may_edit
        && view.batch.state == BatchState::Open
        && view
            .proposals
            .iter()
            .any(|p| p.proposal.state == xcert_declare::ProposalState::Draft);
    let filled: Option<Vec<String>> = notice.filled.as_ref().map(|s| {
        s.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    });
    page_with_status(
        st,
        ctx,
        "decl_application.html",
        context! {
            view => view, certs => certs, runs => runs, fields => FIELDS, targets => targets,
            may_submit => may_submit, may_manage => is_ministry(ctx),
            default_deadline => (svc::today() + chrono::Duration::days(7)).to_string(),
            reminded => notice.reminded, submitted => notice.submitted, filled => filled,
            ..shown.value()
        },
        shown.status,
    )
}

async fn application_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> Response {
    let r = application_view(&st, &ctx, id, Shown::none(), &n).await;
    respond(&st, &ctx, r)
}

/// Back to the application after a change, or the application again with the refusal
/// beside the form `form`.
async fn on_application<T>(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    form: &str,
    f: &Pairs,
    done: R<T>,
    to: impl FnOnce(T) -> String,
) -> R<Response> {
    match done {
        Ok(v) => Ok(redirect(&to(v))),
        Err(e) => {
            let shown = refusal(form, e, f)?;
            application_view(st, ctx, id, shown, &Notice::default()).await
        }
    }
}

async fn proposal_add(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let input = ProposalInput {
            certificate: one(&f, "certificate").to_string(),
            field: one(&f, "field").to_string(),
            summary: one(&f, "summary").to_string(),
        };
        let done = svc::add_proposal(&st, &ctx, id, &input).await;
        on_application(&st, &ctx, id, "proposal", &f, done, |p| {
            format!("/declare/applications/{id}#p{}", p.id)
        })
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let done = svc::submit_application(&st, &ctx, id).await;
        on_application(&st, &ctx, id, "submit", &f, done, |rows| {
            format!("/declare/applications/{id}?submitted={}", rows.len())
        })
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn unit_add(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let done = svc::add_unit(&st, &ctx, id, one(&f, "name"), one(&f, "org")).await;
        on_application(&st, &ctx, id, "unit", &f, done, |_| {
            format!("/declare/applications/{id}#units")
        })
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

/// The task form's target: blank (another entry) or "proposal:annex".
fn task_target(v: &str) -> R<(Option<i64>, Option<i64>)> {
    let v = v.trim();
    if v.is_empty() {
        return Ok((None, None));
    }
    let parsed = v
        .split_once(':')
        .and_then(|(p, n)| Some((p.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((p, n)) => Ok((Some(p), Some(n))),
        None => Err(AppError::Invalid(vec![FieldError::new(
            "annex",
            "bad_target",
            format!("\"{v}\" names no proposal's annex"),
            format!("“{v}”不是证书申报的附件"),
        )])),
    }
}

async fn task_assign(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let done = async {
            let (proposal_id, annex) = task_target(one(&f, "target"))?;
            let input = TaskInput {
                unit_id: id_field(&f, "unit_id")?,
                assignee: one(&f, "assignee").to_string(),
                title: one(&f, "title").to_string(),
                proposal_id,
                annex,
                deadline: one(&f, "deadline").to_string(),
            };
            svc::assign_task(&st, &ctx, id, &input).await
        }
        .await;
        on_application(&st, &ctx, id, "task", &f, done, |_| {
            format!("/declare/applications/{id}#tasks")
        })
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn remind(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let done = async {
            let task = match one(&f, "task_id").trim() {
                "" => None,
                _ => Some(id_field(&f, "task_id")?),
            };
            svc::remind(&st, &ctx, id, task).await
        }
        .await;
        on_application(&st, &ctx, id, "remind", &f, done, |n| {
            format!("/declare/applications/{id}?reminded={n}#tasks")
        })
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn task_reopen(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(tid): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let t = st.store.task_get(tid).await?;
        let done = svc::reopen_task(&st, &ctx, tid).await;
        on_application(&st, &ctx, t.application_id, "remind", &f, done, |t| {
            format!("/declare/applications/{}#tasks", t.application_id)
        })
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn task_file(State(st): State<AppState>, ctx: Ctx, Path(tid): Path<i64>) -> Response {
    let r = async {
        let (name, bytes) = svc::task_file(&st, &ctx, tid).await?;
        Ok(download(bytes, &name, mime_of(&name)))
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// Proposals and their annexes

async fn proposal_view(st: &AppState, ctx: &Ctx, id: i64, shown: Shown) -> R<Response> {
    let view = svc::proposal_view(st, ctx, id).await?;
    let show_score = view.may_manage || view.batch.state == BatchState::Published;
    let may_resubmit =
        view.may_edit && view.brief.proposal.state == xcert_declare::ProposalState::Returned;
    page_with_status(
        st,
        ctx,
        "decl_proposal.html",
        context! {
            view => view, show_score => show_score, may_resubmit => may_resubmit, fields => FIELDS,
            ..shown.value()
        },
        shown.status,
    )
}

async fn proposal_page(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = proposal_view(&st, &ctx, id, Shown::none()).await;
    respond(&st, &ctx, r)
}

async fn proposal_edit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let input = ProposalInput {
            certificate: String::new(),
            field: one(&f, "field").to_string(),
            summary: one(&f, "summary").to_string(),
        };
        match svc::update_proposal(&st, &ctx, id, &input).await {
            Ok(_) => Ok(redirect(&format!("/declare/proposals/{id}"))),
            Err(e) => proposal_view(&st, &ctx, id, refusal("edit", e, &f)?).await,
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn resubmit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        match svc::resubmit(&st, &ctx, id).await {
            Ok(_) => Ok(redirect(&format!("/declare/proposals/{id}"))),
            Err(e) => proposal_view(&st, &ctx, id, refusal("resubmit", e, &f)?).await,
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn from_run(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(pid): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let pr = st.store.proposal_get(pid).await?;
        let done = async {
            let run = id_field(&f, "run_id")?;
            svc::annexes_from_run(&st, &ctx, pid, run).await
        }
        .await;
        let aid = pr.application_id;
        on_application(&st, &ctx, aid, &format!("run-{pid}"), &f, done, |nums| {
            let list: Vec<String> = nums.iter().map(|n| n.to_string()).collect();
            format!(
                "/declare/applications/{aid}?filled={}#p{pid}",
                list.join(",")
            )
        })
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

/// Put a file into an annex slot, from the application page or (`back=proposal`) the
/// proposal's own page; a refusal comes back beside that slot's form.
async fn annex_upload(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((pid, n)): Path<(i64, i64)>,
    mp: Multipart,
) -> Response {
    let r = async {
        let up = super::read_upload(mp, svc::MAX_FILE).await?;
        check_csrf(&ctx, &up.fields)?;
        let pr = st.store.proposal_get(pid).await?;
        let on_proposal = one(&up.fields, "back") == "proposal";
        let (name, bytes) = up.file.unwrap_or_default();
        let done = svc::upload_annex(&st, &ctx, pid, n, &name, bytes).await;
        let form = format!("annex-{pid}-{n}");
        match done {
            Ok(_) if on_proposal => Ok(redirect(&format!("/declare/proposals/{pid}#annexes"))),
            Ok(_) => Ok(redirect(&format!(
                "/declare/applications/{}#p{pid}",
                pr.application_id
            ))),
            Err(e) => {
                let shown = refusal(&form, e, &up.fields)?;
                if on_proposal {
                    proposal_view(&st, &ctx, pid, shown).await
                } else {
                    application_view(&st, &ctx, pr.application_id, shown, &Notice::default()).await
                }
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn annex_download(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((pid, n)): Path<(i64, i64)>,
) -> Response {
    let r = async {
        let (name, bytes) = svc::annex_file(&st, &ctx, pid, n).await?;
        Ok(download(bytes, &name, mime_of(&name)))
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// The assignee's tasks and the notifications

async fn tasks_view(st: &AppState, ctx: &Ctx, shown: Shown) -> R<Response> {
    let tasks = svc::my_tasks(st, ctx).await?;
    page_with_status(
        st,
        ctx,
        "decl_tasks.html",
        context! { tasks => tasks, ..shown.value() },
        shown.status,
    )
}

async fn my_tasks(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = tasks_view(&st, &ctx, Shown::none()).await;
    respond(&st, &ctx, r)
}

async fn task_done(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Response {
    let r = async {
        let up = super::read_upload(mp, svc::MAX_FILE).await?;
        check_csrf(&ctx, &up.fields)?;
        let note = one(&up.fields, "note").to_string();
        match svc::complete_task(&st, &ctx, id, &note, up.file).await {
            Ok(_) => Ok(redirect(&format!("/my/tasks#t{id}"))),
            Err(e) => tasks_view(&st, &ctx, refusal(&format!("task-{id}"), e, &up.fields)?).await,
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn notifications(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let rows = svc::notifications(&st, &ctx).await?;
        let unread = rows.iter().filter(|n| n.read_at.is_none()).count();
        page(
            &st,
            &ctx,
            "decl_notifications.html",
            context! { rows => rows, unread => unread },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

async fn notifications_read(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        svc::mark_notifications_read(&st, &ctx).await?;
        Ok(redirect("/notifications"))
    }
    .await;
    respond(&st, &ctx, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_targets_name_a_proposal_and_an_annex() {
        assert_eq!(task_target("").unwrap(), (None, None));
        assert_eq!(task_target(" 12:3 ").unwrap(), (Some(12), Some(3)));
        assert!(task_target("12").is_err());
        assert!(task_target("a:b").is_err());
    }

    #[test]
    fn sizes_dates_and_names_read_well() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(2048), "2.0 KB");
        assert_eq!(size(3 << 20), "3.0 MB");
        assert_eq!(num(87.5), "87.5");
        assert_eq!(num(90.0), "90");
        assert_eq!(
            beijing("2026-03-01T17:30:00.000Z", "%Y-%m-%d"),
            "2026-03-02"
        );
        assert_eq!(beijing("2026-03-01", "%Y-%m-%d"), "2026-03-01");
        assert_eq!(FIELDS.len(), 19);
    }
}
