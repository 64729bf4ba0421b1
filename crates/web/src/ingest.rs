//! Material consolidation on the server: uploads staged on disk, runs executed as
//! background jobs (one at a time; they survive a restart and resume), and the operations
//! the pages and the API share — each authorized for the run's organization.

use crate::AppState;
use crate::auth::Ctx;
use crate::error::AppError;
use axum::extract::Multipart;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use xcert_domain::FieldError;
use xcert_domain::access::{Action, Principal, Role};
use xcert_ingest::engine::Source;
use xcert_ingest::report::Report;
use xcert_ingest::{Annex, Category};
use xcert_store::{NewRun, RunOptions, RunRow, RunState};

type R<T> = Result<T, AppError>;

/// Uploads of declaration materials run to gigabytes.
pub const UPLOAD_LIMIT: usize = 16 << 30;

/// Background consolidation jobs of this server: one runs at a time (the engine already
/// uses every core), the rest wait their turn; each can be asked to stop.
pub struct Jobs {
    gate: tokio::sync::Semaphore,
    cancels: Mutex<HashMap<i64, Arc<AtomicBool>>>,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs::new()
    }
}

impl Jobs {
    pub fn new() -> Jobs {
        Jobs {
            gate: tokio::sync::Semaphore::new(1),
            cancels: Mutex::new(HashMap::new()),
        }
    }
}

/// Start run `id` in the background (or queue it behind the one running).
pub fn spawn(st: &AppState, id: i64) {
    let st = st.clone();
    let cancel = Arc::new(AtomicBool::new(false));
    st.jobs
        .cancels
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, cancel.clone());
    tokio::spawn(async move {
        let Ok(_permit) = st.jobs.gate.acquire().await else {
            return;
        };
        let result = st
            .store
            .ingest_execute(
                id,
                Arc::new(|_: &xcert_ingest::engine::Progress| {}),
                cancel,
            )
            .await;
        if let Err(e) = result {
            tracing::warn!(run = id, error = %e, "consolidation run stopped with an error");
        }
        st.jobs
            .cancels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    });
}

/// Pick up runs that a stopped server left queued or running.
pub async fn resume_unfinished(st: &AppState) {
    match st.store.ingest_unfinished().await {
        Ok(runs) => {
            for r in runs {
                tracing::info!(run = r.id, "resuming consolidation run");
                spawn(st, r.id);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot list unfinished consolidation runs"),
    }
}

/// Runs the principal may see: all for the ministry, the organization's own otherwise.
pub async fn runs_visible(st: &AppState, p: &Principal) -> R<Vec<RunRow>> {
    match p.role {
        Role::MinistryAdmin => Ok(st.store.ingest_runs(None).await?),
        Role::TeoStaff | Role::CollegeStaff if p.org_id.is_some() => {
            Ok(st.store.ingest_runs(p.org_id).await?)
        }
        _ => Err(AppError::Forbidden(xcert_domain::access::Denied {
            en: "your role does not consolidate materials".into(),
            zh: "您的角色不处理材料汇总".into(),
        })),
    }
}

/// A run, if the principal may see it (another organization's run is "not found").
pub async fn run_for(st: &AppState, ctx: &Ctx, id: i64) -> R<(Principal, RunRow)> {
    let p = ctx.require()?;
    let run = st.store.ingest_run(id).await?;
    if xcert_domain::access::authorize(Some(&p), &Action::Ingest { org_id: run.org_id }).is_err() {
        return Err(AppError::NotFound(format!("consolidation run {id}")));
    }
    Ok((p, run))
}

/// What the upload form (page or API) carries besides its files.
#[derive(Debug, Default)]
pub struct UploadForm {
    pub fields: HashMap<String, String>,
    /// Staged files: (relative path as sent, bytes written).
    pub files: Vec<(String, u64)>,
    pub staging: PathBuf,
}

/// A client-sent relative path made safe: `/` or `\` separated, no empty, `.` or `..`
/// segments, no drive letters. None when nothing usable is left.
pub fn safe_relative(name: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for seg in name.split(['/', '\\']) {
        let seg = seg.trim();
        if seg.is_empty() || seg == "." || seg == ".." || seg.contains(':') || seg.contains('\0') {
            continue;
        }
        out.push(seg);
    }
    if out.as_os_str().is_empty() {
        None
    } else {
        Some(out)
    }
}

/// Stream a multipart upload to a new staging folder: form fields in memory, files
/// (any number, folder uploads keep their relative paths) on disk.
pub async fn receive(st: &AppState, mut mp: Multipart) -> R<UploadForm> {
    let token = format!(
        "{}-{:016x}",
        chrono::Utc::now().format("%Y%m%d%H%M%S"),
        rand::random::<u64>()
    );
    let staging = st.config.staging_dir.join(&token).join("files");
    let mut form = UploadForm {
        staging: staging.clone(),
        ..UploadForm::default()
    };
    while let Some(mut part) = mp
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?
    {
        let name = part.name().unwrap_or("").to_string();
        match part.file_name().map(str::to_string) {
            Some(fname) if !fname.is_empty() => {
                let Some(rel) = safe_relative(&fname) else {
                    continue;
                };
                let dest = staging.join(&rel);
                if let Some(dir) = dest.parent() {
                    tokio::fs::create_dir_all(dir)
                        .await
                        .map_err(|e| AppError::Internal(format!("staging: {e}")))?;
                }
                let mut f = tokio::fs::File::create(&dest)
                    .await
                    .map_err(|e| AppError::Internal(format!("staging: {e}")))?;
                let mut n = 0u64;
                while let Some(chunk) = part
                    .chunk()
                    .await
                    .map_err(|e| AppError::BadRequest(e.to_string()))?
                {
                    n += chunk.len() as u64;
                    f.write_all(&chunk)
                        .await
                        .map_err(|e| AppError::Internal(format!("staging: {e}")))?;
                }
                f.flush()
                    .await
                    .map_err(|e| AppError::Internal(format!("staging: {e}")))?;
                form.files.push((rel.to_string_lossy().into_owned(), n));
            }
            Some(_) => {}
            None => {
                let v = part
                    .text()
                    .await
                    .map_err(|e| AppError::BadRequest(e.to_string()))?;
                form.fields.insert(name, v);
            }
        }
    }
    Ok(form)
}

fn field<'a>(form: &'a UploadForm, name: &str) -> Option<&'a str> {
    form.fields
        .get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// Create a run from a staged upload and start it. Errors name the field.
pub async fn create_from_upload(st: &AppState, p: &Principal, form: &UploadForm) -> R<i64> {
    let mut errors = Vec::new();
    if form.files.is_empty() {
        errors.push(FieldError::new(
            "files",
            "required",
            "Choose files, a folder or zip archives to upload",
            "请选择要上传的文件、文件夹或压缩包",
        ));
    }
    let org_id = match (p.role, field(form, "org_id")) {
        (Role::MinistryAdmin, Some(o)) => match o.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new(
                    "org_id",
                    "invalid",
                    "Not an organization",
                    "不是有效的单位",
                ));
                None
            }
        },
        (Role::MinistryAdmin, None) => None,
        _ => p.org_id,
    };
    let unit = field(form, "unit").map(str::to_string);
    if unit.as_deref().is_some_and(|u| u.chars().count() > 100) {
        errors.push(FieldError::new(
            "unit",
            "too_long",
            "At most 100 characters",
            "最多 100 个字符",
        ));
    }
    if !errors.is_empty() {
        let _ = tokio::fs::remove_dir_all(form.staging.parent().unwrap_or(&form.staging)).await;
        return Err(AppError::Invalid(errors));
    }
    if let Err(d) = xcert_domain::access::authorize(Some(p), &Action::Ingest { org_id }) {
        let _ = tokio::fs::remove_dir_all(form.staging.parent().unwrap_or(&form.staging)).await;
        return Err(AppError::Forbidden(d));
    }
    let title = field(form, "title").map(str::to_string).unwrap_or_else(|| {
        let first = form.files.first().map(|f| f.0.as_str()).unwrap_or("upload");
        first.split('/').next().unwrap_or(first).to_string()
    });
    let source = staged_source(form, unit.as_deref(), &title).await?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let id = tx
        .ingest_run_create(&NewRun {
            org_id,
            batch: field(form, "batch").map(str::to_string),
            title,
            sources: vec![source],
            options: RunOptions {
                store_objects: true,
                threads: None,
                staged: true,
            },
        })
        .await?;
    tx.commit().await?;
    spawn(st, id);
    Ok(id)
}

/// Where a staged upload's catalog starts. A unit given: the folder takes its name and
/// every file is the unit's. A folder upload (all paths under one top folder): that
/// folder, so the next level names the units, as with `xcert ingest FOLDER`. Otherwise
/// the folder takes the title's name and each file's first folder names its unit.
async fn staged_source(form: &UploadForm, unit: Option<&str>, title: &str) -> R<Source> {
    let top: Option<&str> = {
        let firsts: std::collections::BTreeSet<Option<&str>> = form
            .files
            .iter()
            .map(|(p, _)| p.split_once('/').map(|(a, _)| a))
            .collect();
        match firsts.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(one)] => Some(one),
            _ => None,
        }
    };
    if unit.is_none()
        && let Some(top) = top
    {
        return Ok(Source {
            path: form.staging.join(top),
            unit: None,
        });
    }
    let root_name = safe_relative(unit.unwrap_or(title))
        .and_then(|p| p.file_name().map(|n| n.to_os_string()))
        .unwrap_or_else(|| "upload".into());
    let root = form
        .staging
        .parent()
        .map(|d| d.join(&root_name))
        .unwrap_or_else(|| form.staging.clone());
    tokio::fs::rename(&form.staging, &root)
        .await
        .map_err(|e| AppError::Internal(format!("staging: {e}")))?;
    Ok(Source {
        path: root,
        unit: unit.map(str::to_string),
    })
}

/// Resume an interrupted or failed run.
pub async fn resume(st: &AppState, ctx: &Ctx, id: i64) -> R<()> {
    let (_, run) = run_for(st, ctx, id).await?;
    match run.state {
        RunState::Interrupted | RunState::Failed => {
            spawn(st, id);
            Ok(())
        }
        RunState::Queued | RunState::Running => Ok(()),
        RunState::Finished => Err(AppError::Conflict(FieldError::new(
            "state",
            "finished",
            "This run has finished",
            "该批次已完成",
        ))),
    }
}

/// Ask a running job to stop after the files in progress (resumable).
pub async fn cancel(st: &AppState, ctx: &Ctx, id: i64) -> R<()> {
    run_for(st, ctx, id).await?;
    if let Some(c) = st
        .jobs
        .cancels
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&id)
    {
        c.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    Ok(())
}

/// A person's correction: label the file, retrain on all labels, classify the run again
/// and refresh its report.
pub async fn label(
    st: &AppState,
    ctx: &Ctx,
    run_id: i64,
    file_id: i64,
    category: &str,
    annex: &str,
) -> R<usize> {
    let (p, run) = run_for(st, ctx, run_id).await?;
    let mut errors = Vec::new();
    let cat = Category::parse(category);
    if cat.is_none() {
        errors.push(FieldError::new(
            "category",
            "invalid",
            "Choose one of the nine material categories",
            "请选择九类材料之一",
        ));
    }
    let annex = match annex.trim() {
        "" | "none" => None,
        a => match Annex::parse(a) {
            Some(a) => Some(a),
            None => {
                errors.push(FieldError::new(
                    "annex",
                    "invalid",
                    "Choose one of the seven annexes or none",
                    "请选择七个附件之一或不选",
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if run.state.is_active() {
        return Err(AppError::Conflict(FieldError::new(
            "state",
            "running",
            "Wait until the run has finished",
            "请等待处理完成后再标注",
        )));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    tx.ingest_label(run_id, file_id, cat.unwrap_or(Category::Other), annex)
        .await?;
    tx.commit().await?;
    let clf = st.store.ingest_classifier().await?;
    let changed = st.store.ingest_reclassify(run_id, &clf).await?;
    st.store.ingest_refresh_report(run_id).await?;
    Ok(changed)
}

/// A person's decision on a near-duplicate group.
pub async fn near_decide(
    st: &AppState,
    ctx: &Ctx,
    run_id: i64,
    key: &str,
    decision: &str,
) -> R<()> {
    let (p, _) = run_for(st, ctx, run_id).await?;
    let mut tx = st.store.begin_write(&p.username).await?;
    tx.ingest_near_decide(run_id, key, decision).await?;
    tx.commit().await?;
    st.store.ingest_refresh_report(run_id).await?;
    Ok(())
}

pub async fn report(st: &AppState, ctx: &Ctx, id: i64) -> R<(RunRow, Option<Report>)> {
    let (_, run) = run_for(st, ctx, id).await?;
    let report = st.store.ingest_report(id).await?;
    Ok((run, report))
}

/// Catalog exports: `csv` or `parquet`.
pub async fn catalog_bytes(st: &AppState, ctx: &Ctx, id: i64, format: &str) -> R<Vec<u8>> {
    run_for(st, ctx, id).await?;
    let entries = st.store.ingest_entries(id).await?;
    let parquet = format_kind(format);
    tokio::task::spawn_blocking(move || {
        let mut buf = Vec::new();
        match parquet {
            Some(true) => xcert_ingest::export::write_parquet(&mut buf, &entries)
                .map_err(AppError::Internal)?,
            Some(false) => xcert_ingest::export::write_csv(&mut buf, &entries)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            None => return Err(AppError::NotFound("export format".into())),
        }
        Ok(buf)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Some(true) parquet, Some(false) csv.
fn format_kind(f: &str) -> Option<bool> {
    match f {
        "parquet" => Some(true),
        "csv" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_paths_cannot_escape_the_staging_folder() {
        assert_eq!(
            safe_relative("../../etc/passwd"),
            Some(PathBuf::from("etc/passwd"))
        );
        assert_eq!(
            safe_relative("C:\\材料\\考核大纲.docx"),
            Some(PathBuf::from("材料/考核大纲.docx"))
        );
        assert_eq!(safe_relative("/abs/./x"), Some(PathBuf::from("abs/x")));
        assert_eq!(safe_relative("../.."), None);
    }
}
