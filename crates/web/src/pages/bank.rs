//! Question bank pages (TEO staff, the ministry): items, imports, blueprints and assembly, forms, item analysis reports.
//!
//! The item editor's fields are the columns of the .xlsx template and go through the
//! same reader, so an item typed into the page and one written in a workbook meet the
//! same rules and the same messages.

use super::{Pairs, check_csrf, one, redirect, respond};
use crate::AppState;
use crate::assess as svc;
use crate::auth::Ctx;
use crate::charts::{Bar, Point, bars, item_map, scatter};
use crate::error::AppError;
use crate::render::{XLSX, download, page, page_with_status};
use axum::Form;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;
use xcert_assess::item::{ItemKind, ReviewStatus};
use xcert_domain::FieldError;
use xcert_domain::framework::Level;
use xcert_store::ItemFilter;

type R<T> = Result<T, AppError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/bank", get(banks))
        .route("/admin/bank/template.xlsx", get(template))
        .route("/admin/bank/{code}", get(bank))
        .route("/admin/bank/{code}/items", post(item_create))
        .route("/admin/bank/{code}/items/new", get(item_new))
        .route(
            "/admin/bank/{code}/items/{id}",
            get(item_page).post(item_update),
        )
        .route("/admin/bank/{code}/items/{id}/status", post(item_status))
        .route(
            "/admin/bank/{code}/imports",
            post(import_upload).layer(axum::extract::DefaultBodyLimit::max(512 << 20)),
        )
        .route("/admin/bank/{code}/imports/{id}", get(import_page))
        .route(
            "/admin/bank/{code}/imports/{id}/confirm",
            post(import_confirm),
        )
        .route("/admin/bank/{code}/items.qti3.zip", get(export_qti3))
        .route("/admin/bank/{code}/items.xlsx", get(export_xlsx))
        .route("/admin/bank/{code}/forms", post(form_create))
        .route("/admin/bank/{code}/forms/{id}", get(form_page))
        .route(
            "/admin/bank/{code}/blueprints",
            get(blueprints).post(blueprint_new),
        )
        .route(
            "/admin/bank/{code}/blueprints/{id}",
            get(blueprint_page).post(blueprint_update),
        )
        .route(
            "/admin/bank/{code}/blueprints/{id}/assemble",
            post(blueprint_assemble),
        )
        .route("/admin/bank/{code}/assemblies/{id}", get(assembly_page))
        .route(
            "/admin/bank/{code}/assemblies/{id}/accept",
            post(assembly_accept),
        )
        .route("/admin/bank/{code}/rules/{level}", post(rule_save))
        .route("/admin/bank/{code}/analyses", post(analysis_run))
        .route("/admin/bank/{code}/analyses/{id}", get(analysis_page))
}

pub(crate) fn templates(env: &mut minijinja::Environment<'static>) {
    crate::render::templates!(
        env,
        "bank_list.html",
        "bank.html",
        "bank_item.html",
        "bank_import.html",
        "bank_form.html",
        "bank_analysis.html",
        "bank_blueprints.html",
        "bank_blueprint.html",
        "bank_assembly.html",
    );
}

fn label_kind(lang: &str, k: ItemKind) -> &'static str {
    if lang == "en" { k.en() } else { k.zh() }
}

fn label_status(lang: &str, s: ReviewStatus) -> &'static str {
    if lang == "en" { s.en() } else { s.zh() }
}

fn label_level(lang: &str, l: Level) -> &'static str {
    if lang == "en" { l.en() } else { l.zh() }
}

async fn banks(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let certs = svc::bank_certificates(&st, &ctx).await?;
        let mut rows = Vec::new();
        for c in certs {
            let counts = st.store.item_counts(c.id).await?;
            let total: i64 = counts.iter().map(|x| x.3).sum();
            let approved: i64 = counts
                .iter()
                .filter(|x| x.2 == ReviewStatus::Approved)
                .map(|x| x.3)
                .sum();
            rows.push(context! { code => c.code, name => c.name_zh, teo => c.teo_name, total => total, approved => approved });
        }
        page(&st, &ctx, "bank_list.html", context! { rows => rows })
    }
    .await;
    respond(&st, &ctx, r)
}

async fn template(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = xcert_assess::interchange::template_xlsx()
        .map(|b| download(b, "xcert-item-template.xlsx", XLSX))
        .map_err(|e| AppError::Internal(e.to_string()));
    respond(&st, &ctx, r)
}

/// The bank page's data: items (a page of them), counts, imports, forms, analyses.
async fn bank_view(st: &AppState, ctx: &Ctx, code: &str, f: &ItemFilter) -> R<Value> {
    let (cert, rows, total) = svc::items(st, ctx, code, f).await?;
    let lang = ctx.lang;
    let counts = st.store.item_counts(cert.id).await?;
    // Level × kind: approved / all.
    let mut table = Vec::new();
    for level in cert.levels.iter().copied() {
        let mut cells = Vec::new();
        for kind in ItemKind::ALL {
            let all: i64 = counts
                .iter()
                .filter(|c| c.0 == Some(level) && c.1 == kind)
                .map(|c| c.3)
                .sum();
            let ok: i64 = counts
                .iter()
                .filter(|c| c.0 == Some(level) && c.1 == kind && c.2 == ReviewStatus::Approved)
                .map(|c| c.3)
                .sum();
            cells.push(context! { all => all, approved => ok });
        }
        table.push(context! { level => label_level(lang, level), cells => cells });
    }
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            context! {
                id => r.id, ident => r.ident, kind => label_kind(lang, r.kind), kind_key => r.kind.as_str(),
                level => r.level.map(|l| label_level(lang, l)), difficulty => r.difficulty,
                status => label_status(lang, r.review_status), status_key => r.review_status.as_str(),
                version => r.current_version, points => r.points, stem => r.stem_text.chars().take(60).collect::<String>(),
                requirements => r.requirements, usage => r.usage_count,
                p => r.stats.as_ref().and_then(|s| s.p), rr => r.stats.as_ref().and_then(|s| s.r),
                a => r.stats.as_ref().and_then(|s| s.a), b => r.stats.as_ref().and_then(|s| s.b),
                theory => r.kind.is_theory(), approved => r.review_status == ReviewStatus::Approved,
            }
        })
        .collect();
    let kinds: Vec<Value> = ItemKind::ALL
        .iter()
        .map(|k| context! { key => k.as_str(), label => label_kind(lang, *k) })
        .collect();
    let statuses: Vec<Value> = ReviewStatus::ALL
        .iter()
        .map(|s| context! { key => s.as_str(), label => label_status(lang, *s) })
        .collect();
    let levels: Vec<Value> = cert
        .levels
        .iter()
        .map(|l| context! { key => l.as_str(), label => label_level(lang, *l) })
        .collect();
    let imports = st.store.item_imports(cert.id).await?;
    let forms = st.store.forms(cert.id).await?;
    let analyses = st.store.analyses(cert.id).await?;
    let blueprints = st.store.blueprints(cert.id).await?;
    let sessions = st
        .store
        .sessions_list(&xcert_store::SessionScope {
            certificate_id: Some(cert.id),
            ..Default::default()
        })
        .await?;
    let mut rules = Vec::new();
    for level in cert.levels.iter().copied() {
        let r = st.store.result_rule(cert.id, level).await?;
        rules.push(context! { key => level.as_str(), label => label_level(lang, level), r => r });
    }
    let offset = f.offset.unwrap_or(0).max(0);
    let limit = f.limit.unwrap_or(50).clamp(1, 10_000);
    Ok(context! {
        rules => rules,
        cert => cert.to_json(), items => items, total => total, table => table,
        kind_labels => ItemKind::ALL.iter().map(|k| label_kind(lang, *k)).collect::<Vec<_>>(),
        kinds => kinds, statuses => statuses, levels => levels,
        filter => context! { q => f.q, kind => f.kind, level => f.level, status => f.status, requirement => f.requirement },
        imports => imports, forms => forms, analyses => analyses, blueprints => blueprints,
        sessions => sessions.iter().map(|s| context! { id => s.id, title => s.title, level => s.level.as_str(), submitted => s.submitted }).collect::<Vec<_>>(),
        prev => (offset > 0).then(|| (offset - limit).max(0)),
        next => (offset + limit < total).then_some(offset + limit),
    })
}

/// The bank page again (422) with errors shown under one of its forms (`slot`:
/// `import_errors`, `form_errors`, `analysis_errors`, `rule_errors`).
/// A refusal shown on the bank page beside the form it came from (`key` names it).
async fn on_bank_page(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    key: &'static str,
    r: R<Response>,
) -> R<Response> {
    match r {
        Err(AppError::Invalid(errors)) => bank_with_errors(st, ctx, code, key, errors).await,
        other => other,
    }
}

async fn bank_with_errors(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    slot: &'static str,
    errors: Vec<FieldError>,
) -> R<Response> {
    let data = bank_view(st, ctx, code, &ItemFilter::default()).await?;
    let extra = Value::from_iter([(slot, Value::from_serialize(&errors))]);
    page_with_status(
        st,
        ctx,
        "bank.html",
        context! { ..extra, ..data },
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

async fn bank(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(f): Query<ItemFilter>,
) -> Response {
    let r = async {
        let data = bank_view(&st, &ctx, &code, &f).await?;
        page(&st, &ctx, "bank.html", data)
    }
    .await;
    respond(&st, &ctx, r)
}

/// The editor's fields: the template's columns with their help in the page's language.
fn editor_columns(lang: &str) -> Vec<Value> {
    xcert_assess::interchange::columns()
        .into_iter()
        .filter(|c| c.key != "review")
        .map(|c| {
            context! {
                key => c.key, label => c.zh, help => if lang == "en" { c.help_en } else { c.help_zh },
                example => c.example,
                wide => matches!(c.key, "stem" | "explanation" | "criteria" | "options" | "sources"),
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn item_form_page(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    item_id: Option<i64>,
    cells: Vec<(String, String)>,
    errors: Vec<FieldError>,
    status: StatusCode,
    version: Option<i64>,
) -> R<Response> {
    let (_, cert) = svc::bank_cert(st, ctx, code).await?;
    let lang = ctx.lang;
    let mut detail = Value::UNDEFINED;
    if let Some(id) = item_id {
        let (_, item, v) = svc::item_detail(st, ctx, code, id, version).await?;
        let versions = st.store.item_versions(id).await?;
        let preview = preview_of(&v.content);
        detail = context! {
            id => item.id, ident => item.ident, version => v.version, current => item.current_version,
            status => label_status(lang, item.review_status), status_key => item.review_status.as_str(),
            kind => label_kind(lang, item.kind), usage => item.usage_count, stats => item.stats,
            preview => preview,
            versions => versions.iter().map(|x| context! { version => x.version, at => x.created_at, by => x.created_by, note => x.note, hash => x.content_hash.get(..12) }).collect::<Vec<_>>(),
            statuses => ReviewStatus::ALL.iter().filter(|s| **s != item.review_status).map(|s| context! { key => s.as_str(), label => label_status(lang, *s) }).collect::<Vec<_>>(),
        };
    }
    page_with_status(
        st,
        ctx,
        "bank_item.html",
        context! {
            cert => cert.to_json(), columns => editor_columns(lang),
            cells => cells.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            errors => errors, item => detail,
        },
        status,
    )
}

/// What a candidate would see, for the reviewer: the stem and options as rendered rich
/// text, with the key marked.
fn preview_of(c: &xcert_assess::item::ItemContent) -> Value {
    use xcert_assess::item::Interaction;
    let rich = |s: &str| svc::render_rich(s, &c.media);
    let (choices, key): (Vec<Value>, String) = match &c.interaction {
        Interaction::Choice {
            choices, correct, ..
        } => (
            choices
                .iter()
                .map(|x| context! { id => x.id, text => rich(&x.text), key => correct.contains(&x.id), fixed => x.fixed })
                .collect(),
            correct.join(""),
        ),
        Interaction::Order {
            choices, correct, ..
        } => (
            choices
                .iter()
                .map(|x| context! { id => x.id, text => rich(&x.text), key => false })
                .collect(),
            correct.join(" → "),
        ),
        Interaction::Match {
            sources,
            targets,
            correct,
            ..
        } => (
            targets
                .iter()
                .map(|x| context! { id => x.id, text => rich(&x.text), key => false })
                .collect(),
            correct
                .iter()
                .map(|(s, t)| {
                    let src = sources
                        .iter()
                        .find(|x| &x.id == s)
                        .map(|x| xcert_assess::markup::plain_text(&x.text))
                        .unwrap_or_default();
                    format!("{src} → {t}")
                })
                .collect::<Vec<_>>()
                .join("；"),
        ),
        Interaction::TextEntry { blanks } => (
            Vec::new(),
            blanks
                .iter()
                .map(|b| b.accepted.join(" / "))
                .collect::<Vec<_>>()
                .join("；"),
        ),
        Interaction::ExtendedText { guide, .. } => (
            Vec::new(),
            guide
                .as_deref()
                .map(xcert_assess::markup::plain_text)
                .unwrap_or_default(),
        ),
        Interaction::Practical { scale } => (
            scale
                .criteria
                .iter()
                .map(|cr| context! { id => cr.id, text => xcert_assess::markup::from_plain(&cr.text), key => cr.critical, points => cr.points })
                .collect(),
            String::new(),
        ),
    };
    context! {
        stem => rich(&c.stem), choices => choices, key => key, points => c.points,
        explanation => c.explanation.as_deref().map(rich),
    }
}

async fn item_new(State(st): State<AppState>, ctx: Ctx, Path(code): Path<String>) -> Response {
    let r = item_form_page(
        &st,
        &ctx,
        &code,
        None,
        vec![
            ("kind".into(), "单选题".into()),
            ("points".into(), "1".into()),
        ],
        Vec::new(),
        StatusCode::OK,
        None,
    )
    .await;
    respond(&st, &ctx, r)
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

async fn item_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let r = async {
        let (_, item, v) = svc::item_detail(&st, &ctx, &code, id, q.version).await?;
        let cells = xcert_assess::interchange::item_to_cells(
            &xcert_assess::item::Item {
                meta: if q.version.is_some() {
                    v.meta.clone()
                } else {
                    item.meta()
                },
                content: v.content.clone(),
            },
            None,
        )
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        item_form_page(
            &st,
            &ctx,
            &code,
            Some(id),
            cells,
            Vec::new(),
            StatusCode::OK,
            q.version,
        )
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

/// The editor's cells → an item, with the reader's problems as field errors.
fn item_of_cells(f: &Pairs) -> Result<xcert_assess::item::Item, Vec<FieldError>> {
    let cells: Vec<(&str, String)> = xcert_assess::interchange::columns()
        .iter()
        .map(|c| (c.key, one(f, c.key).to_string()))
        .collect();
    let report = xcert_assess::interchange::item_from_cells("form", &cells);
    let errors: Vec<FieldError> = report
        .errors()
        .map(|p| {
            let field = p
                .location
                .rsplit_once("column ")
                .map(|(_, c)| c.trim().to_string())
                .unwrap_or_else(|| "stem".into());
            // The reader's messages start with "row 1, column x:"; the page shows them by
            // the field instead.
            let strip = |m: &str| {
                m.split_once('：')
                    .or_else(|| m.split_once(": "))
                    .map(|(_, r)| r.trim().to_string())
                    .unwrap_or_else(|| m.to_string())
            };
            let field = if field == "options" {
                "option_a".into()
            } else {
                field
            };
            FieldError::new(field, p.code.clone(), strip(&p.en), strip(&p.zh))
        })
        .collect();
    match report.items.into_iter().next() {
        Some(it) if errors.is_empty() => Ok(it.item),
        _ if !errors.is_empty() => Err(errors),
        _ => Err(vec![FieldError::required("stem")]),
    }
}

async fn save_item(st: &AppState, ctx: &Ctx, code: &str, id: Option<i64>, f: Pairs) -> R<Response> {
    check_csrf(ctx, &f)?;
    let mut f = f;
    if let Some(id) = id {
        // The identifier names the item and is not edited.
        let (_, current, _) = svc::item_detail(st, ctx, code, id, None).await?;
        f.retain(|(k, _)| k != "ident");
        f.push(("ident".into(), current.ident));
    }
    let cells: Vec<(String, String)> = f.iter().filter(|(k, _)| k != "csrf").cloned().collect();
    let mut item = match item_of_cells(&f) {
        Ok(i) => i,
        Err(errors) => {
            return item_form_page(
                st,
                ctx,
                code,
                id,
                cells,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await;
        }
    };
    if let Some(id) = id {
        let (_, current, v) = svc::item_detail(st, ctx, code, id, None).await?;
        item.meta.ident = current.ident;
        // Media stay with the item when the editor leaves the stem's images alone.
        for m in &mut item.content.media {
            if let Some(old) = v.content.media.iter().find(|o| o.path == m.path) {
                m.object = old.object.clone();
            }
        }
        for old in &v.content.media {
            if !item.content.media.iter().any(|m| m.path == old.path)
                && xcert_assess::markup::image_paths(&item.content.stem).contains(&old.path)
            {
                item.content.media.push(old.clone());
            }
        }
    }
    let note = one(&f, "note").trim();
    match svc::item_save(
        st,
        ctx,
        code,
        &item,
        None,
        (!note.is_empty()).then_some(note),
    )
    .await
    {
        Ok((row, _)) => Ok(redirect(&format!("/admin/bank/{code}/items/{}", row.id))),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let errors = e.fields();
            item_form_page(
                st,
                ctx,
                code,
                id,
                cells,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn item_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = save_item(&st, &ctx, &code, None, f).await;
    respond(&st, &ctx, r)
}

async fn item_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = save_item(&st, &ctx, &code, Some(id), f).await;
    respond(&st, &ctx, r)
}

async fn item_status(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let s = ReviewStatus::parse("status", one(&f, "status"))
            .map_err(|e| AppError::Invalid(vec![e]))?;
        match svc::item_set_status(&st, &ctx, &code, id, s).await {
            Ok(_) => Ok(redirect(&format!("/admin/bank/{code}/items/{id}"))),
            Err(AppError::Invalid(errors)) => {
                let (_, item, v) = svc::item_detail(&st, &ctx, &code, id, None).await?;
                let cells = xcert_assess::interchange::item_to_cells(
                    &xcert_assess::item::Item {
                        meta: item.meta(),
                        content: v.content,
                    },
                    None,
                )
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
                item_form_page(
                    &st,
                    &ctx,
                    &code,
                    Some(id),
                    cells,
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                )
                .await
            }
            Err(e) => Err(e),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn import_upload(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    mut mp: Multipart,
) -> Response {
    let r = async {
        let mut csrf = String::new();
        let mut file: Option<(String, Vec<u8>)> = None;
        while let Some(part) = mp
            .next_field()
            .await
            .map_err(|e| AppError::BadRequest(e.to_string()))?
        {
            let name = part.name().unwrap_or("").to_string();
            if name == "csrf" {
                csrf = part
                    .text()
                    .await
                    .map_err(|e| AppError::BadRequest(e.to_string()))?;
            } else if name == "file" {
                let fname = part.file_name().unwrap_or("upload").to_string();
                let bytes = part
                    .bytes()
                    .await
                    .map_err(|e| AppError::BadRequest(e.to_string()))?;
                file = Some((fname, bytes.to_vec()));
            }
        }
        ctx.check_csrf(&csrf)?;
        let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
            return Err(AppError::Invalid(vec![FieldError::new(
                "file",
                "required",
                "choose a bank file to upload",
                "请选择要上传的题库文件",
            )]));
        };
        let row = svc::bank_import_stage(&st, &ctx, &code, &name, bytes).await?;
        Ok(redirect(&format!("/admin/bank/{code}/imports/{}", row.id)))
    }
    .await;
    let r = on_bank_page(&st, &ctx, &code, "import_errors", r).await;
    respond(&st, &ctx, r)
}

async fn import_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> Response {
    let r = async {
        let (cert, row) = svc::bank_import_get(&st, &ctx, &code, id).await?;
        let statuses: Vec<Value> = ReviewStatus::ALL
            .iter()
            .filter(|s| **s != ReviewStatus::Retired)
            .map(|s| context! { key => s.as_str(), label => label_status(ctx.lang, *s) })
            .collect();
        page(
            &st,
            &ctx,
            "bank_import.html",
            context! { cert => cert.to_json(), import => row, statuses => statuses },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

async fn import_confirm(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let status = match one(&f, "status") {
            "" => None,
            s => Some(ReviewStatus::parse("status", s).map_err(|e| AppError::Invalid(vec![e]))?),
        };
        svc::bank_import_apply(&st, &ctx, &code, id, status).await?;
        Ok(redirect(&format!("/admin/bank/{code}/imports/{id}")))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn export_qti3(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(f): Query<ItemFilter>,
) -> Response {
    let r = async {
        let (b, name, mime) = svc::bank_export(&st, &ctx, &code, "qti3", &f).await?;
        Ok(download(b, &name, mime))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn export_xlsx(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(f): Query<ItemFilter>,
) -> Response {
    let r = async {
        let (b, name, mime) = svc::bank_export(&st, &ctx, &code, "xlsx", &f).await?;
        Ok(download(b, &name, mime))
    }
    .await;
    respond(&st, &ctx, r)
}

/// A form from the items ticked on the bank page.
async fn form_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let items: Vec<svc::FormItemInput> = f
            .iter()
            .filter(|(k, _)| k == "item")
            .filter_map(|(_, v)| v.parse().ok())
            .map(|item_id| svc::FormItemInput {
                item_id,
                points: None,
            })
            .collect();
        let minutes: i64 = one(&f, "time_limit_minutes").trim().parse().unwrap_or(0);
        let input = svc::FormInput {
            level: one(&f, "level").to_string(),
            title: one(&f, "title").to_string(),
            time_limit_minutes: minutes,
            items,
            blueprint_id: None,
        };
        let mut errors = Vec::new();
        if input.title.trim().is_empty() {
            errors.push(FieldError::required("title"));
        }
        if !(1..=600).contains(&minutes) {
            errors.push(FieldError::new(
                "time_limit_minutes",
                "bad_time",
                "1–600 minutes",
                "1–600 分钟",
            ));
        }
        if input.items.is_empty() {
            errors.push(FieldError::new(
                "items",
                "empty_form",
                "tick the approved theory items the form holds",
                "请勾选试卷包含的已审核理论题",
            ));
        }
        let result = if errors.is_empty() {
            svc::forms_create(&st, &ctx, &code, &[input], None).await
        } else {
            Err(AppError::Invalid(errors))
        };
        let done = result.map(|rows| redirect(&format!("/admin/bank/{code}/forms/{}", rows[0].id)));
        on_bank_page(&st, &ctx, &code, "form_errors", done).await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn form_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> Response {
    let r = async {
        let (cert, f) = svc::form_detail(&st, &ctx, &code, id).await?;
        let lang = ctx.lang;
        let mut items = Vec::new();
        for (n, (fi, content, testlet)) in f.items.iter().enumerate() {
            let row = st.store.item_get(fi.item_id).await?;
            items.push(context! {
                n => n + 1, item_id => fi.item_id, ident => row.ident, version => fi.version, points => fi.points,
                kind => label_kind(lang, content.kind), testlet => testlet, requirements => row.requirements,
                preview => preview_of(content),
            });
        }
        let by_kind: Vec<Bar> = ItemKind::ALL
            .iter()
            .filter_map(|k| {
                let n = f.items.iter().filter(|(_, c, _)| c.kind == *k).count();
                (n > 0).then(|| Bar {
                    label: label_kind(lang, *k).to_string(),
                    value: n as f64,
                    shown: n.to_string(),
                })
            })
            .collect();
        let chart = bars(
            "chart-form-kinds",
            if lang == "en" { "Items by type" } else { "题型分布" },
            &by_kind,
        );
        page(
            &st,
            &ctx,
            "bank_form.html",
            context! { cert => cert.to_json(), form => f.form, items => items, chart => chart },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

async fn analysis_run(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let session_id: Option<i64> = one(&f, "session_id").parse().ok();
        let level = match session_id {
            Some(id) => st.store.session_get(id).await?.level,
            None => {
                Level::parse("level", one(&f, "level")).map_err(|e| AppError::Invalid(vec![e]))?
            }
        };
        let irt = match one(&f, "irt") {
            "none" => xcert_assess::analysis::report::IrtRequest::None,
            "rasch" => xcert_assess::analysis::report::IrtRequest::Rasch,
            "2pl" => xcert_assess::analysis::report::IrtRequest::TwoPl,
            _ => xcert_assess::analysis::report::IrtRequest::Auto,
        };
        let done = svc::analyze(&st, &ctx, &code, level, session_id, irt)
            .await
            .map(|id| redirect(&format!("/admin/bank/{code}/analyses/{id}")));
        on_bank_page(&st, &ctx, &code, "analysis_errors", done).await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn analysis_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> Response {
    let r = async {
        let (cert, a) = svc::analysis_get(&st, &ctx, &code, id).await?;
        let en = ctx.lang == "en";
        let report = &a.report;
        let flagged: std::collections::HashSet<String> = report["flags"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|f| f["item_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let points: Vec<Point> = report["charts"]["difficulty_discrimination"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|p| {
                        Some(Point {
                            label: p["item_id"].as_str()?.to_string(),
                            x: p["facility"].as_f64()?,
                            y: p["r_item_rest"].as_f64()?,
                            flagged: flagged.contains(p["item_id"].as_str()?),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let scatter_svg = scatter(
            "chart-difficulty-discrimination",
            if en {
                "Discrimination (corrected item–total r) by facility p"
            } else {
                "区分度（校正题总相关）与难度（通过率 p）"
            },
            (if en { "facility p" } else { "通过率 p" }, 0.0, 1.0),
            (
                if en {
                    "corrected r"
                } else {
                    "校正题总相关 r"
                },
                -0.4,
                1.0,
            ),
            &points,
        );
        let map_svg = report["charts"]["item_map"].as_object().map(|m| {
            let bins: Vec<(f64, f64, usize)> = m["theta_histogram"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .filter_map(|b| {
                            Some((
                                b["from"].as_f64()?,
                                b["to"].as_f64()?,
                                b["count"].as_u64()? as usize,
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let items: Vec<(String, f64)> = m["items"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .filter_map(|i| {
                            Some((i["item_id"].as_str()?.to_string(), i["b"].as_f64()?))
                        })
                        .collect()
                })
                .unwrap_or_default();
            item_map(
                "chart-item-map",
                if en {
                    "Item map: candidates' ability θ (left) and item difficulty b (right)"
                } else {
                    "题目-能力对照图：考生能力 θ（左）与题目难度 b（右）"
                },
                &bins,
                &items,
            )
        });
        let dist: Vec<Bar> = report["test"]["distribution"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|b| {
                        let n = b["count"].as_u64()?;
                        let label =
                            match (b["from"].as_f64(), b["to"].as_f64(), b["score"].as_f64()) {
                                (Some(f), Some(t), _) => format!("{f}–{t}"),
                                (_, _, Some(s)) => format!("{s}"),
                                _ => return None,
                            };
                        Some(Bar {
                            label,
                            value: n as f64,
                            shown: n.to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let dist_svg = bars(
            "chart-score-distribution",
            if en { "Total scores" } else { "总分分布" },
            &dist,
        );
        let session = match a.session_id {
            Some(id) => Some(st.store.session_get(id).await?.title),
            None => None,
        };
        page(
            &st,
            &ctx,
            "bank_analysis.html",
            context! {
                cert => cert.to_json(), a => a.clone(), r => a.report, session => session,
                scatter => scatter_svg, item_map => map_svg, distribution => dist_svg,
            },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

// ---------------------------------------------------------------------------------------
// Blueprints and assembly

async fn blueprints(State(st): State<AppState>, ctx: Ctx, Path(code): Path<String>) -> Response {
    let r = async {
        let (_, cert) = svc::bank_cert(&st, &ctx, &code).await?;
        let rows = st.store.blueprints(cert.id).await?;
        let levels: Vec<Value> = cert
            .levels
            .iter()
            .map(|l| context! { key => l.as_str(), label => label_level(ctx.lang, *l) })
            .collect();
        page(
            &st,
            &ctx,
            "bank_blueprints.html",
            context! { cert => cert.to_json(), rows => rows, levels => levels, errors => Vec::<FieldError>::new() },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

/// A new blueprint from the standard's weight table for a level.
async fn blueprint_new(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let level =
            Level::parse("level", one(&f, "level")).map_err(|e| AppError::Invalid(vec![e]))?;
        let draft = svc::blueprint_draft(&st, &ctx, &code, level).await;
        let saved = match draft {
            Ok(d) => svc::blueprint_save(&st, &ctx, &code, None, &d).await,
            Err(e) => Err(e),
        };
        match saved {
            Ok(b) => Ok(redirect(&format!("/admin/bank/{code}/blueprints/{}", b.id))),
            Err(AppError::Invalid(errors)) => {
                let (_, cert) = svc::bank_cert(&st, &ctx, &code).await?;
                let rows = st.store.blueprints(cert.id).await?;
                let levels: Vec<Value> = cert
                    .levels
                    .iter()
                    .map(|l| context! { key => l.as_str(), label => label_level(ctx.lang, *l) })
                    .collect();
                page_with_status(
                    &st,
                    &ctx,
                    "bank_blueprints.html",
                    context! { cert => cert.to_json(), rows => rows, levels => levels, errors => errors },
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
            }
            Err(e) => Err(e),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

/// Approved items of the pool per cell and per type, beside the blueprint's asks.
fn pool_counts(
    spec: &xcert_assess::blueprint::Blueprint,
    pool: &[xcert_assess::assemble::PoolItem],
) -> (Vec<usize>, Vec<usize>) {
    let cells = spec
        .cells
        .iter()
        .map(|c| pool.iter().filter(|p| p.matches_cell(&c.code)).count())
        .collect();
    let types = spec
        .types
        .iter()
        .map(|t| pool.iter().filter(|p| p.kind == t.kind).count())
        .collect();
    (cells, types)
}

async fn blueprint_view(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    id: i64,
    spec: Option<xcert_assess::blueprint::Blueprint>,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> R<Response> {
    let (cert, row) = svc::blueprint_get(st, ctx, code, id).await?;
    let spec = spec.unwrap_or(row.spec.clone());
    let pool = svc::assembly_pool(st, &cert, row.level).await?;
    let (cell_pool, type_pool) = pool_counts(&spec, &pool);
    let lang = ctx.lang;
    let kinds: Vec<Value> = ItemKind::ALL
        .iter()
        .filter(|k| k.is_theory())
        .map(|k| context! { key => k.as_str(), label => label_kind(lang, *k) })
        .collect();
    let solvers: Vec<&str> = xcert_assess::assemble::SolverChoice::available()
        .into_iter()
        .map(|s| s.as_str())
        .collect();
    let assemblies = st.store.assemblies(id).await?;
    page_with_status(
        st,
        ctx,
        "bank_blueprint.html",
        context! {
            cert => cert.to_json(), b => row, spec => spec, errors => errors, kinds => kinds,
            cell_pool => cell_pool, type_pool => type_pool, pool_size => pool.len(),
            items_per_form => spec.items_per_form(), points_per_form => spec.points_per_form(),
            solvers => solvers, assemblies => assemblies,
            level_label => label_level(lang, row.level),
        },
        status,
    )
}

async fn blueprint_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> Response {
    let r = blueprint_view(&st, &ctx, &code, id, None, Vec::new(), StatusCode::OK).await;
    respond(&st, &ctx, r)
}

fn num_field(f: &Pairs, key: &str, errs: &mut Vec<FieldError>) -> Option<f64> {
    let v = one(f, key).trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Some(x),
        _ => {
            errs.push(FieldError::new(
                key,
                "not_a_number",
                format!("\"{v}\" is not a number"),
                format!("“{v}”不是数字"),
            ));
            None
        }
    }
}

/// The editor's fields back into a blueprint; numbers that do not parse name their field.
fn blueprint_of_form(
    f: &Pairs,
    base: &xcert_assess::blueprint::Blueprint,
) -> Result<xcert_assess::blueprint::Blueprint, Vec<FieldError>> {
    use xcert_assess::blueprint::{BlueprintCell, DifficultyTarget, TypeQuota};
    let mut errs = Vec::new();
    let mut b = base.clone();
    b.title = one(f, "title").trim().to_string();
    if b.title.is_empty() {
        errs.push(FieldError::required("title"));
    }
    let int = |v: Option<f64>| v.map(|x| x.max(0.0).round() as u32);
    b.forms = int(num_field(f, "forms", &mut errs)).unwrap_or(0);
    b.time_limit_minutes = int(num_field(f, "time_limit_minutes", &mut errs)).unwrap_or(0);
    b.no_overlap = one(f, "no_overlap") == "1";
    b.max_usage = int(num_field(f, "max_usage", &mut errs));
    b.difficulty = match (
        num_field(f, "difficulty_min", &mut errs),
        num_field(f, "difficulty_max", &mut errs),
    ) {
        (Some(lo), Some(hi)) => Some(DifficultyTarget {
            min_mean: lo,
            max_mean: hi,
        }),
        (None, None) => None,
        _ => {
            errs.push(FieldError::new(
                "difficulty",
                "half_band",
                "give both ends of the difficulty band, or neither",
                "难度范围请同时填写上下限，或都不填",
            ));
            None
        }
    };
    let theta: Vec<f64> = one(f, "theta")
        .split([',', '，', ' ', ';'])
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    if !theta.is_empty() {
        b.theta = theta;
    }
    let mut cells = Vec::new();
    for i in 0.. {
        let code = one(f, &format!("cell_code_{i}")).trim().to_string();
        if code.is_empty() && f.iter().all(|(k, _)| k != &format!("cell_code_{i}")) {
            break;
        }
        if code.is_empty() {
            continue;
        }
        cells.push(BlueprintCell {
            code,
            title: one(f, &format!("cell_title_{i}")).trim().to_string(),
            weight: num_field(f, &format!("cell_weight_{i}"), &mut errs).unwrap_or(0.0),
            min_items: int(num_field(f, &format!("cell_min_{i}"), &mut errs)).unwrap_or(0),
            max_items: int(num_field(f, &format!("cell_max_{i}"), &mut errs)).unwrap_or(0),
        });
    }
    b.cells = cells;
    let mut types = Vec::new();
    for i in 0.. {
        let key = format!("type_kind_{i}");
        if f.iter().all(|(k, _)| k != &key) {
            break;
        }
        let kind = one(f, &key);
        let count = int(num_field(f, &format!("type_count_{i}"), &mut errs)).unwrap_or(0);
        if kind.is_empty() || count == 0 {
            continue;
        }
        match ItemKind::parse("types", kind) {
            Ok(k) => types.push(TypeQuota {
                kind: k,
                count,
                points_each: num_field(f, &format!("type_points_{i}"), &mut errs).unwrap_or(1.0),
            }),
            Err(e) => errs.push(e),
        }
    }
    b.types = types;
    if one(f, "action") == "apportion" {
        b.apply_weights();
    }
    if errs.is_empty() { Ok(b) } else { Err(errs) }
}

async fn blueprint_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let (_, row) = svc::blueprint_get(&st, &ctx, &code, id).await?;
        let spec = match blueprint_of_form(&f, &row.spec) {
            Ok(s) => s,
            Err(errors) => {
                return blueprint_view(
                    &st,
                    &ctx,
                    &code,
                    id,
                    None,
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        };
        match svc::blueprint_save(&st, &ctx, &code, Some(id), &spec).await {
            Ok(_) => Ok(redirect(&format!("/admin/bank/{code}/blueprints/{id}"))),
            Err(AppError::Invalid(errors)) => {
                blueprint_view(
                    &st,
                    &ctx,
                    &code,
                    id,
                    Some(spec),
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => Err(e),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn blueprint_assemble(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let time: Option<f64> = one(&f, "time_limit_s").trim().parse().ok();
        let gap: Option<f64> = one(&f, "gap_percent")
            .trim()
            .parse::<f64>()
            .ok()
            .map(|g| g / 100.0);
        let opts = match crate::api::assembly_options(Some(one(&f, "solver")), time, gap, None) {
            Ok(o) => o,
            Err(AppError::Invalid(errors)) => {
                return blueprint_view(
                    &st,
                    &ctx,
                    &code,
                    id,
                    None,
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
            Err(e) => return Err(e),
        };
        match svc::assemble(&st, &ctx, &code, id, opts).await {
            Ok(a) => Ok(redirect(&format!("/admin/bank/{code}/assemblies/{}", a.id))),
            Err(AppError::Invalid(errors)) => {
                blueprint_view(
                    &st,
                    &ctx,
                    &code,
                    id,
                    None,
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => Err(e),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn assembly_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
) -> Response {
    let r = async {
        let (cert, a) = svc::assembly_get(&st, &ctx, &code, id).await?;
        let b = st.store.blueprint_get(a.blueprint_id).await?;
        let lang = ctx.lang;
        // Rows of the side-by-side table: what the blueprint asks, what each form has.
        let forms = a.result["forms"].as_array().cloned().unwrap_or_default();
        let cell_rows: Vec<Value> = b
            .spec
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let got: Vec<u64> = forms
                    .iter()
                    .map(|f| f["stats"]["per_cell"][i]["assembled"].as_u64().unwrap_or(0))
                    .collect();
                let ok = got.iter().all(|g| *g >= c.min_items as u64 && *g <= c.max_items as u64);
                context! { code => c.code, title => c.title, min => c.min_items, max => c.max_items, got => got, ok => ok }
            })
            .collect();
        let type_rows: Vec<Value> = b
            .spec
            .types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let got: Vec<u64> = forms
                    .iter()
                    .map(|f| f["stats"]["per_type"][i]["assembled"].as_u64().unwrap_or(0))
                    .collect();
                let ok = got.iter().all(|g| *g == t.count as u64);
                context! { kind => label_kind(lang, t.kind), wanted => t.count, points => t.points_each, got => got, ok => ok }
            })
            .collect();
        let mut form_items = Vec::new();
        for f in &forms {
            let mut list = Vec::new();
            for id in f["items"].as_array().into_iter().flatten().filter_map(|x| x.as_i64()) {
                let row = st.store.item_get(id).await?;
                list.push(context! { id => id, ident => row.ident, kind => label_kind(lang, row.kind), stem => row.stem_text.chars().take(40).collect::<String>() });
            }
            form_items.push(list);
        }
        page(
            &st,
            &ctx,
            "bank_assembly.html",
            context! {
                cert => cert.to_json(), a => a.clone(), r => a.result, b => b, forms => forms,
                cell_rows => cell_rows, type_rows => type_rows, form_items => form_items,
            },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

async fn assembly_accept(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, id)): Path<(String, i64)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        svc::assembly_accept(&st, &ctx, &code, id).await?;
        Ok(redirect(&format!("/admin/bank/{code}#forms")))
    }
    .await;
    respond(&st, &ctx, r)
}

/// The results rule of a level from the bank page: weights in percent, pass marks 0–100.
async fn rule_save(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((code, level)): Path<(String, String)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        check_csrf(&ctx, &f)?;
        let mut errs = Vec::new();
        let pct = |k: &str, errs: &mut Vec<FieldError>| {
            num_field(&f, k, errs).map(|v| v / 100.0).unwrap_or(0.0)
        };
        let rule = xcert_assess::results::ResultRule {
            process_weight: pct("process_weight", &mut errs),
            theory_weight: pct("theory_weight", &mut errs),
            practical_weight: pct("practical_weight", &mut errs),
            process_pass: num_field(&f, "process_pass", &mut errs),
            theory_pass: num_field(&f, "theory_pass", &mut errs),
            practical_pass: num_field(&f, "practical_pass", &mut errs),
            total_pass: num_field(&f, "total_pass", &mut errs),
        };
        let result = if errs.is_empty() {
            svc::rule_set(&st, &ctx, &code, &level, &rule).await
        } else {
            Err(AppError::Invalid(errs))
        };
        let done = result.map(|()| redirect(&format!("/admin/bank/{code}#rules")));
        on_bank_page(&st, &ctx, &code, "rule_errors", done).await
    }
    .await;
    respond(&st, &ctx, r)
}
