//! Material consolidation pages: upload materials, follow a run live, read its report
//! with charts, browse and correct the catalog, decide on near duplicates.

use super::admin::{Fields, csrf};
use super::{redirect, respond};
use crate::AppState;
use crate::auth::Ctx;
use crate::charts::{Bar, bars};
use crate::error::AppError;
use crate::ingest as svc;
use crate::render::{download, page, page_with_status};
use axum::Form;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use xcert_domain::access::Role;
use xcert_ingest::report::{Report, human_bytes};
use xcert_ingest::{Annex, Category, Flag};
use xcert_store::{FileFilter, OrgFilter};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/ingest",
            get(runs)
                .post(upload)
                .layer(DefaultBodyLimit::max(svc::UPLOAD_LIMIT)),
        )
        .route("/admin/ingest/{id}", get(run_page))
        .route("/admin/ingest/{id}/files", get(files))
        .route("/admin/ingest/{id}/files/{fid}/label", post(label))
        .route("/admin/ingest/{id}/near/{key}", post(near))
        .route("/admin/ingest/{id}/resume", post(resume))
        .route("/admin/ingest/{id}/cancel", post(cancel))
        .route("/admin/ingest/{id}/report.json", get(report_json))
        .route("/admin/ingest/{id}/catalog.csv", get(catalog_csv))
        .route("/admin/ingest/{id}/catalog.parquet", get(catalog_parquet))
}

/// Organizations a ministry admin may attribute a run to.
async fn org_choices(st: &AppState, ctx: &Ctx) -> Result<Vec<(i64, String)>, AppError> {
    let p = ctx.require()?;
    if p.role != Role::MinistryAdmin {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for kind in ["teo", "college"] {
        for o in st
            .store
            .org_list(&OrgFilter {
                kind: Some(kind.into()),
                ..OrgFilter::default()
            })
            .await?
        {
            out.push((o.id, o.name_zh));
        }
    }
    Ok(out)
}

async fn runs_page(
    st: &AppState,
    ctx: &Ctx,
    errors: Vec<xcert_domain::FieldError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    let runs = svc::runs_visible(st, &p).await?;
    let orgs = org_choices(st, ctx).await?;
    page_with_status(
        st,
        ctx,
        "ingest_runs.html",
        context! { runs => runs, orgs => orgs, errors => errors },
        status,
    )
}

async fn runs(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = runs_page(&st, &ctx, Vec::new(), StatusCode::OK).await;
    respond(&st, &ctx, r)
}

async fn upload(State(st): State<AppState>, ctx: Ctx, mp: Multipart) -> Response {
    let r = async {
        let p = ctx.require()?;
        let form = svc::receive(&st, mp).await?;
        let token = form.fields.get("csrf").cloned().unwrap_or_default();
        if let Err(e) = ctx.check_csrf(&token) {
            let _ = tokio::fs::remove_dir_all(form.staging.parent().unwrap_or(&form.staging)).await;
            return Err(e);
        }
        match svc::create_from_upload(&st, &p, &form).await {
            Ok(id) => Ok(redirect(&format!("/admin/ingest/{id}"))),
            Err(AppError::Invalid(errors)) => {
                runs_page(&st, &ctx, errors, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => Err(e),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

/// Values the report page shows beside the report itself.
fn report_view(report: &Report, lang: &str) -> minijinja::Value {
    let en = lang == "en";
    let cat_label = |c: Category| if en { c.en() } else { c.zh() };
    let category_chart = bars(
        "chart-capacity",
        if en {
            "Capacity per material category"
        } else {
            "各类材料容量"
        },
        &report
            .categories
            .iter()
            .map(|c| Bar {
                label: cat_label(c.category).to_string(),
                value: c.bytes as f64,
                shown: human_bytes(c.bytes),
            })
            .collect::<Vec<_>>(),
    );
    let unit_chart = bars(
        "chart-records",
        if en {
            "Valid records per unit"
        } else {
            "各单位有效记录数"
        },
        &report
            .units
            .iter()
            .map(|u| Bar {
                label: u.unit.clone(),
                value: u.valid_records as f64,
                shown: u.valid_records.to_string(),
            })
            .collect::<Vec<_>>(),
    );
    let flag_counts: Vec<(String, String, usize)> = Flag::ALL
        .into_iter()
        .map(|f| {
            (
                f.as_str().to_string(),
                if en {
                    f.as_str().replace('_', " ")
                } else {
                    f.zh().to_string()
                },
                report.flags.iter().filter(|r| r.flag == f).count(),
            )
        })
        .filter(|(_, _, n)| *n > 0)
        .collect();
    // The unit × category matrix as rows of cells in category order.
    let matrix: Vec<minijinja::Value> = report
        .units
        .iter()
        .map(|u| {
            let cells: Vec<String> = Category::ALL
                .into_iter()
                .map(|c| {
                    report
                        .cells
                        .iter()
                        .find(|x| x.unit == u.unit && x.category == c)
                        .map(|x| format!("{} · {}", x.files, human_bytes(x.bytes)))
                        .unwrap_or_default()
                })
                .collect();
            context! { unit => u.unit, cells => cells, missing => u.missing_categories.iter().map(|c| cat_label(*c)).collect::<Vec<_>>() }
        })
        .collect();
    let t = &report.totals;
    context! {
        category_chart => category_chart,
        unit_chart => unit_chart,
        flag_counts => flag_counts,
        matrix => matrix,
        categories => Category::ALL.into_iter().map(|c| cat_label(c).to_string()).collect::<Vec<_>>(),
        bytes => human_bytes(t.bytes),
        distinct_bytes => human_bytes(t.distinct_bytes),
        saved_bytes => human_bytes(t.saved_bytes),
    }
}

async fn run_page(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let (run, report) = svc::report(&st, &ctx, id).await?;
        let view = report.as_ref().map(|r| report_view(r, ctx.lang));
        let progress = run.progress.as_ref().map(|p| {
            let pct = if p.bytes_total > 0 {
                (p.bytes_done as f64 / p.bytes_total as f64 * 100.0).min(100.0)
            } else {
                0.0
            };
            context! {
                pct => format!("{pct:.0}"),
                files_done => p.files_done, files_total => p.files_total,
                bytes_done => human_bytes(p.bytes_done), bytes_total => human_bytes(p.bytes_total),
            }
        });
        page(
            &st,
            &ctx,
            "ingest_run.html",
            context! {
                run => run, report => report, view => view, progress => progress,
                active => run.state.is_active(),
                state_label => if ctx.lang == "en" { run.state.as_str() } else { run.state.zh() },
            },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

async fn files(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(f): Query<FileFilter>,
) -> Response {
    let r = async {
        let (_, run) = svc::run_for(&st, &ctx, id).await?;
        let (entries, total) = st.store.ingest_files(id, &f).await?;
        let limit = f.limit.unwrap_or(100).clamp(1, 1000);
        let offset = f.offset.unwrap_or(0).max(0);
        let rows: Vec<minijinja::Value> = entries
            .iter()
            .map(|e| {
                let r = &e.record;
                context! {
                    id => e.id, path => r.path, unit => r.unit, size => human_bytes(r.size),
                    kind => r.kind.as_str(), category => r.category.as_str(),
                    category_label => if ctx.lang == "en" { r.category.en() } else { r.category.zh() },
                    confidence => format!("{:.2}", r.category_confidence),
                    annex => r.annex.map(|a| a.as_str()),
                    annex_label => r.annex.map(|a| format!("附件{} {}", a.number(), if ctx.lang == "en" { a.en() } else { a.zh() })),
                    certificate => r.certificate, source => r.source, reason => r.reason,
                    flags => r.flags.iter().map(|f| format!("{}: {}", if ctx.lang == "en" { f.flag.as_str() } else { f.flag.zh() }, f.detail)).collect::<Vec<_>>(),
                    hash => r.hash, text => r.text_head.chars().take(160).collect::<String>(),
                }
            })
            .collect();
        let categories: Vec<(String, String)> = Category::ALL
            .into_iter()
            .map(|c| (c.as_str().to_string(), if ctx.lang == "en" { c.en() } else { c.zh() }.to_string()))
            .collect();
        let annexes: Vec<(String, String)> = Annex::ALL
            .into_iter()
            .map(|a| (a.as_str().to_string(), format!("附件{} {}", a.number(), if ctx.lang == "en" { a.en() } else { a.zh() })))
            .collect();
        let flags: Vec<(String, String)> = Flag::ALL
            .into_iter()
            .map(|f| (f.as_str().to_string(), if ctx.lang == "en" { f.as_str().to_string() } else { f.zh().to_string() }))
            .collect();
        let units: Vec<String> = st
            .store
            .ingest_report(id)
            .await?
            .map(|r| r.units.into_iter().map(|u| u.unit).collect())
            .unwrap_or_default();
        let qs = |off: i64| {
            let mut s = format!("?offset={off}&limit={limit}");
            for (k, v) in [("unit", &f.unit), ("category", &f.category), ("annex", &f.annex), ("flag", &f.flag), ("q", &f.q)] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    s.push_str(&format!("&{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)));
                }
            }
            s
        };
        page(
            &st,
            &ctx,
            "ingest_files.html",
            context! {
                run => run, rows => rows, total => total, categories => categories,
                annexes => annexes, flags => flags, units => units,
                filter => context! { unit => f.unit, category => f.category, annex => f.annex, flag => f.flag, q => f.q },
                from => if total == 0 { 0 } else { offset + 1 }, to => (offset + limit).min(total),
                prev => (offset > 0).then(|| qs((offset - limit).max(0))),
                next => (offset + limit < total).then(|| qs(offset + limit)),
                editable => !run.state.is_active(),
            },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

async fn label(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, fid)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        svc::label(&st, &ctx, id, fid, &get("category"), &get("annex")).await?;
        let back = get("back");
        Ok(redirect(
            if back.starts_with(&format!("/admin/ingest/{id}")) {
                &back
            } else {
                "/admin/ingest"
            },
        ))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn near(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, key)): Path<(i64, String)>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        let decision = f.get("decision").cloned().unwrap_or_default();
        svc::near_decide(&st, &ctx, id, &key, &decision).await?;
        Ok(redirect(&format!("/admin/ingest/{id}#near-{key}")))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn resume(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        svc::resume(&st, &ctx, id).await?;
        Ok(redirect(&format!("/admin/ingest/{id}")))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn cancel(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        svc::cancel(&st, &ctx, id).await?;
        Ok(redirect(&format!("/admin/ingest/{id}")))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn report_json(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let (run, report) = svc::report(&st, &ctx, id).await?;
        let body =
            serde_json::to_vec_pretty(&xcert_store::ingest_report_json(&run, report.as_ref()))
                .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(download(
            body,
            &format!("xcert-consolidation-{id}.json"),
            "application/json",
        ))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn catalog_csv(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    catalog(st, ctx, id, "csv").await
}

async fn catalog_parquet(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    catalog(st, ctx, id, "parquet").await
}

async fn catalog(st: AppState, ctx: Ctx, id: i64, ext: &str) -> Response {
    let r = async {
        let bytes = svc::catalog_bytes(&st, &ctx, id, ext).await?;
        let mime = if ext == "csv" {
            "text/csv; charset=utf-8"
        } else {
            "application/vnd.apache.parquet"
        };
        Ok(download(bytes, &format!("xcert-catalog-{id}.{ext}"), mime))
    }
    .await;
    respond(&st, &ctx, r)
}
