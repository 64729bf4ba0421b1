//! Material consolidation runs as persisted jobs: the run row, its catalog, confirmed
//! labels, near-duplicate decisions, and the job that drives the ingest engine with the
//! database and object store as its sink. A run interrupted by a crash or kill resumes:
//! catalog rows are committed in groups, and a resumed run skips every path already
//! cataloged with the same size and modification time.

use crate::db::{WriteTx, now, opt_str};
use crate::{Result, Store, StoreError};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xcert_ingest::classify::{Classifier, Doc, Label};
use xcert_ingest::engine::{self, Progress, Record, RunStats, Sink, Source};
use xcert_ingest::report::{self, Entry, Report};
use xcert_ingest::{Annex, Category, FlagNote, Kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Queued,
    Running,
    /// Stopped before the end (killed, cancelled, server stopped); resumable.
    Interrupted,
    Finished,
    Failed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Interrupted => "interrupted",
            RunState::Finished => "finished",
            RunState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> RunState {
        match s {
            "queued" => RunState::Queued,
            "running" => RunState::Running,
            "finished" => RunState::Finished,
            "failed" => RunState::Failed,
            _ => RunState::Interrupted,
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            RunState::Queued => "排队中",
            RunState::Running => "处理中",
            RunState::Interrupted => "已中断（可继续）",
            RunState::Finished => "已完成",
            RunState::Failed => "失败",
        }
    }

    pub fn is_active(self) -> bool {
        matches!(self, RunState::Queued | RunState::Running)
    }
}

/// Options a run keeps so that a resume repeats it exactly.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunOptions {
    pub store_objects: bool,
    #[serde(default)]
    pub threads: Option<usize>,
    /// Sources were uploaded into the data folder's staging area.
    #[serde(default)]
    pub staged: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            store_objects: true,
            threads: None,
            staged: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunRow {
    pub id: i64,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub batch: Option<String>,
    pub title: String,
    pub state: RunState,
    pub sources: Vec<Source>,
    pub options: RunOptions,
    pub progress: Option<Progress>,
    pub stats: Option<RunStats>,
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewRun {
    pub org_id: Option<i64>,
    pub batch: Option<String>,
    pub title: String,
    pub sources: Vec<Source>,
    pub options: RunOptions,
}

/// Catalog browsing filter.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FileFilter {
    pub unit: Option<String>,
    pub category: Option<String>,
    pub annex: Option<String>,
    pub flag: Option<String>,
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

fn json_opt<T: for<'de> Deserialize<'de>>(r: &AnyRow, col: &str) -> Option<T> {
    opt_str(r, col).and_then(|s| serde_json::from_str(&s).ok())
}

fn run_row(r: &AnyRow) -> Result<RunRow> {
    let sources: String = r.try_get("sources_json")?;
    let options: String = r.try_get("options_json")?;
    let state: String = r.try_get("state")?;
    Ok(RunRow {
        id: r.try_get("id")?,
        org_id: r.try_get::<Option<i64>, _>("org_id").ok().flatten(),
        org_name: opt_str(r, "org_name"),
        batch: opt_str(r, "batch"),
        title: r.try_get("title")?,
        state: RunState::parse(&state),
        sources: serde_json::from_str(&sources).unwrap_or_default(),
        options: serde_json::from_str(&options).unwrap_or_default(),
        progress: json_opt(r, "progress_json"),
        stats: json_opt(r, "stats_json"),
        error: opt_str(r, "error"),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        started_at: opt_str(r, "started_at"),
        finished_at: opt_str(r, "finished_at"),
    })
}

const RUN_SELECT: &str = "SELECT r.id, r.org_id, o.name_zh AS org_name, r.batch, r.title, r.state, r.sources_json, r.options_json, r.progress_json, r.stats_json, r.error, r.created_by, r.created_at, r.started_at, r.finished_at FROM ingest_runs r LEFT JOIN organizations o ON o.id = r.org_id";

fn entry_row(r: &AnyRow) -> Result<Entry> {
    let kind: String = r.try_get("kind")?;
    let category: String = r.try_get("category")?;
    let flags: String = r.try_get("flags_json")?;
    let size: i64 = r.try_get("size")?;
    let text_chars: i64 = r.try_get("text_chars")?;
    Ok(Entry {
        id: r.try_get("id")?,
        record: Record {
            path: r.try_get("path")?,
            unit: r.try_get("unit")?,
            rel: r.try_get("rel")?,
            size: size.max(0) as u64,
            mtime_ns: r.try_get("mtime_ns")?,
            hash: opt_str(r, "hash"),
            kind: Kind::parse(&kind).unwrap_or(Kind::Unknown),
            ext: r.try_get("ext")?,
            category: Category::parse(&category).unwrap_or(Category::Other),
            category_confidence: r.try_get::<f64, _>("category_confidence")? as f32,
            annex: opt_str(r, "annex").and_then(|a| Annex::parse(&a)),
            annex_confidence: r.try_get::<f64, _>("annex_confidence")? as f32,
            certificate: opt_str(r, "certificate"),
            source: r.try_get("source")?,
            reason: r.try_get("reason")?,
            text_head: r.try_get("text_head").unwrap_or_default(),
            text_chars: text_chars.max(0) as u64,
            flags: serde_json::from_str::<Vec<FlagNote>>(&flags).unwrap_or_default(),
            archive: opt_str(r, "archive"),
            minhash: opt_str(r, "minhash").and_then(|h| hex::decode(h).ok()),
        },
    })
}

impl WriteTx {
    pub async fn ingest_run_create(&mut self, run: &NewRun) -> Result<i64> {
        if run.title.trim().is_empty() {
            return Err(StoreError::invalid(xcert_domain::FieldError::new(
                "title",
                "required",
                "A title is required",
                "请填写名称",
            )));
        }
        let sources = serde_json::to_string(&run.sources).unwrap_or_default();
        let options = serde_json::to_string(&run.options).unwrap_or_default();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO ingest_runs (org_id, batch, title, state, sources_json, options_json, created_by, created_at)
             VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7) RETURNING id",
        )
        .bind(run.org_id)
        .bind(run.batch.as_deref())
        .bind(run.title.trim())
        .bind(&sources)
        .bind(&options)
        .bind(self.actor.clone())
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        let after = serde_json::json!({
            "org_id": run.org_id, "batch": run.batch, "title": run.title,
            "sources": run.sources, "options": run.options,
        });
        self.audit(
            "ingest.create",
            "ingest_run",
            &id.to_string(),
            None,
            Some(&after),
        )
        .await?;
        Ok(id)
    }

    /// A person confirms (or corrects) a file's category and annex: the label joins the
    /// training set by content hash and the file row takes it at once.
    pub async fn ingest_label(
        &mut self,
        run_id: i64,
        file_id: i64,
        category: Category,
        annex: Option<Annex>,
    ) -> Result<()> {
        let row = sqlx::query("SELECT * FROM ingest_files WHERE id = $1 AND run_id = $2")
            .bind(file_id)
            .bind(run_id)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("file {file_id}")))?;
        let before = entry_row(&row)?;
        let hash = before.record.hash.clone().ok_or_else(|| {
            StoreError::invalid(xcert_domain::FieldError::new(
                "file",
                "unreadable",
                "This entry has no readable content to label",
                "该条目没有可读内容，无法标注",
            ))
        })?;
        let at = now();
        sqlx::query("DELETE FROM ingest_labels WHERE hash = $1")
            .bind(&hash)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "INSERT INTO ingest_labels (hash, rel, kind, text_head, category, annex, labelled_by, labelled_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&hash)
        .bind(&before.record.rel)
        .bind(before.record.kind.as_str())
        .bind(&before.record.text_head)
        .bind(category.as_str())
        .bind(annex.map(|a| a.as_str()))
        .bind(self.actor.clone())
        .bind(&at)
        .execute(&mut *self.tx)
        .await?;
        let reason = format!("confirmed by {}", self.actor);
        sqlx::query(
            "UPDATE ingest_files SET category = $1, category_confidence = 1.0, annex = $2,
             annex_confidence = $3, source = 'person', reason = $4 WHERE run_id = $5 AND hash = $6",
        )
        .bind(category.as_str())
        .bind(annex.map(|a| a.as_str()))
        .bind(if annex.is_some() { 1.0f64 } else { 0.0f64 })
        .bind(&reason)
        .bind(run_id)
        .bind(&hash)
        .execute(&mut *self.tx)
        .await?;
        let b = serde_json::json!({
            "path": before.record.path, "category": before.record.category,
            "annex": before.record.annex, "source": before.record.source,
        });
        let a = serde_json::json!({"category": category, "annex": annex, "hash": hash});
        self.audit(
            "ingest.label",
            "ingest_file",
            &file_id.to_string(),
            Some(&b),
            Some(&a),
        )
        .await?;
        Ok(())
    }

    /// A person's decision on a near-duplicate group: `keep_all`, or `keep:<hash>`.
    pub async fn ingest_near_decide(
        &mut self,
        run_id: i64,
        key: &str,
        decision: &str,
    ) -> Result<()> {
        let valid = decision == "keep_all"
            || decision
                .strip_prefix("keep:")
                .is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()));
        if !valid || key.is_empty() || key.len() > 64 {
            return Err(StoreError::invalid(xcert_domain::FieldError::new(
                "decision",
                "invalid",
                "Choose to keep all documents or one of them",
                "请选择全部保留或保留其中一份",
            )));
        }
        let before: Option<String> = sqlx::query_scalar(
            "SELECT decision FROM ingest_near_decisions WHERE run_id = $1 AND group_key = $2",
        )
        .bind(run_id)
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?;
        sqlx::query("DELETE FROM ingest_near_decisions WHERE run_id = $1 AND group_key = $2")
            .bind(run_id)
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "INSERT INTO ingest_near_decisions (run_id, group_key, decision, decided_by, decided_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(run_id)
        .bind(key)
        .bind(decision)
        .bind(self.actor.clone())
        .bind(now())
        .execute(&mut *self.tx)
        .await?;
        self.audit(
            "ingest.near_decision",
            "ingest_run",
            &format!("{run_id}/{key}"),
            before
                .map(|d| serde_json::json!({ "decision": d }))
                .as_ref(),
            Some(&serde_json::json!({ "decision": decision })),
        )
        .await?;
        Ok(())
    }
}

impl Store {
    pub async fn ingest_run(&self, id: i64) -> Result<RunRow> {
        let sql = format!("{RUN_SELECT} WHERE r.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("consolidation run {id}")))?;
        run_row(&row)
    }

    /// Runs, newest first: all of them, or one organization's.
    pub async fn ingest_runs(&self, org: Option<i64>) -> Result<Vec<RunRow>> {
        let rows = match org {
            Some(o) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{RUN_SELECT} WHERE r.org_id = $1 ORDER BY r.id DESC"
                )))
                .bind(o)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{RUN_SELECT} ORDER BY r.id DESC"
                )))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(run_row).collect()
    }

    /// Runs a restarted server picks up again.
    pub async fn ingest_unfinished(&self) -> Result<Vec<RunRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{RUN_SELECT} WHERE r.state IN ('queued', 'running') ORDER BY r.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_row).collect()
    }

    /// The newest run that did not finish, for `xcert ingest --resume`.
    pub async fn ingest_last_unfinished(&self) -> Result<Option<RunRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{RUN_SELECT} WHERE r.state IN ('queued', 'running', 'interrupted', 'failed') ORDER BY r.id DESC LIMIT 1"
        )))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_row).transpose()
    }

    async fn ingest_set_state(&self, id: i64, state: RunState, error: Option<&str>) -> Result<()> {
        let q = match state {
            RunState::Running => sqlx::query(
                "UPDATE ingest_runs SET state = $1, error = $2, started_at = COALESCE(started_at, $3) WHERE id = $4",
            )
            .bind(state.as_str())
            .bind(error)
            .bind(now()),
            RunState::Finished | RunState::Failed => sqlx::query(
                "UPDATE ingest_runs SET state = $1, error = $2, finished_at = $3 WHERE id = $4",
            )
            .bind(state.as_str())
            .bind(error)
            .bind(now()),
            RunState::Queued | RunState::Interrupted => {
                sqlx::query("UPDATE ingest_runs SET state = $1, error = $2 WHERE id = $3")
                    .bind(state.as_str())
                    .bind(error)
            }
        };
        q.bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Mark runs left "running" by a process that died as interrupted (done when a server
    /// starts, before it resumes them).
    pub async fn ingest_mark_interrupted(&self, id: i64) -> Result<()> {
        self.ingest_set_state(id, RunState::Interrupted, None).await
    }

    async fn ingest_progress(&self, id: i64, p: &Progress) -> Result<()> {
        sqlx::query("UPDATE ingest_runs SET progress_json = $1 WHERE id = $2")
            .bind(serde_json::to_string(p).unwrap_or_default())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn ingest_done_keys(&self, run_id: i64) -> Result<HashSet<(String, u64, i64)>> {
        let rows = sqlx::query(
            "SELECT path, size, mtime_ns FROM ingest_files WHERE run_id = $1 AND archive IS NULL",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        let mut set = HashSet::with_capacity(rows.len());
        for r in rows {
            let size: i64 = r.try_get("size")?;
            set.insert((
                r.try_get("path")?,
                size.max(0) as u64,
                r.try_get("mtime_ns")?,
            ));
        }
        Ok(set)
    }

    /// Write catalog rows in one transaction; a row for a path already in the run is
    /// replaced, so a repeated commit never duplicates.
    pub async fn ingest_write(&self, run_id: i64, records: &[Record]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for r in records {
            sqlx::query(
                "INSERT INTO ingest_files (run_id, path, unit, rel, size, mtime_ns, hash, kind, ext,
                   category, category_confidence, annex, annex_confidence, certificate, source, reason,
                   text_head, text_chars, flags_json, archive, minhash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
                 ON CONFLICT (run_id, path) DO UPDATE SET unit = excluded.unit, rel = excluded.rel,
                   size = excluded.size, mtime_ns = excluded.mtime_ns, hash = excluded.hash,
                   kind = excluded.kind, ext = excluded.ext, category = excluded.category,
                   category_confidence = excluded.category_confidence, annex = excluded.annex,
                   annex_confidence = excluded.annex_confidence, certificate = excluded.certificate,
                   source = excluded.source, reason = excluded.reason, text_head = excluded.text_head,
                   text_chars = excluded.text_chars, flags_json = excluded.flags_json,
                   archive = excluded.archive, minhash = excluded.minhash",
            )
            .bind(run_id)
            .bind(&r.path)
            .bind(&r.unit)
            .bind(&r.rel)
            .bind(r.size as i64)
            .bind(r.mtime_ns)
            .bind(r.hash.as_deref())
            .bind(r.kind.as_str())
            .bind(&r.ext)
            .bind(r.category.as_str())
            .bind(r.category_confidence as f64)
            .bind(r.annex.map(|a| a.as_str()))
            .bind(r.annex_confidence as f64)
            .bind(r.certificate.as_deref())
            .bind(&r.source)
            .bind(&r.reason)
            .bind(&r.text_head)
            .bind(r.text_chars as i64)
            .bind(serde_json::to_string(&r.flags).unwrap_or_else(|_| "[]".into()))
            .bind(r.archive.as_deref())
            .bind(r.minhash.as_ref().map(hex::encode))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every catalog entry of a run, in catalog order.
    pub async fn ingest_entries(&self, run_id: i64) -> Result<Vec<Entry>> {
        let rows = sqlx::query("SELECT * FROM ingest_files WHERE run_id = $1 ORDER BY path")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(entry_row).collect()
    }

    /// A page of the catalog and the number of entries matching the filter.
    pub async fn ingest_files(&self, run_id: i64, f: &FileFilter) -> Result<(Vec<Entry>, i64)> {
        let mut cond = vec!["run_id = $1".to_string()];
        let mut args: Vec<String> = Vec::new();
        let mut add = |c: &str, v: String, args: &mut Vec<String>| {
            args.push(v);
            cond.push(c.replace('?', &format!("${}", args.len() + 1)));
        };
        if let Some(u) = f.unit.as_deref().filter(|s| !s.is_empty()) {
            add("unit = ?", u.to_string(), &mut args);
        }
        if let Some(c) = f.category.as_deref().filter(|s| !s.is_empty()) {
            add("category = ?", c.to_string(), &mut args);
        }
        if let Some(a) = f.annex.as_deref().filter(|s| !s.is_empty()) {
            add("annex = ?", a.to_string(), &mut args);
        }
        if let Some(fl) = f.flag.as_deref().filter(|s| !s.is_empty()) {
            add(
                "flags_json LIKE ?",
                format!("%\"flag\":\"{}\"%", fl.replace(['%', '_', '"'], "")),
                &mut args,
            );
        }
        if let Some(q) = f.q.as_deref().filter(|s| !s.trim().is_empty()) {
            add(
                "LOWER(path) LIKE ? ESCAPE '\\'",
                crate::db::like_pattern(q),
                &mut args,
            );
        }
        let wh = cond.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) FROM ingest_files WHERE {wh}");
        let mut cq = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql)).bind(run_id);
        for a in &args {
            cq = cq.bind(a.clone());
        }
        let total = cq.fetch_one(&self.pool).await?;
        let limit = f.limit.unwrap_or(100).clamp(1, 1000);
        let offset = f.offset.unwrap_or(0).max(0);
        let sql = format!(
            "SELECT * FROM ingest_files WHERE {wh} ORDER BY path LIMIT {limit} OFFSET {offset}"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(run_id);
        for a in &args {
            q = q.bind(a.clone());
        }
        let rows = q.fetch_all(&self.pool).await?;
        Ok((rows.iter().map(entry_row).collect::<Result<_>>()?, total))
    }

    pub async fn ingest_file(&self, run_id: i64, id: i64) -> Result<Entry> {
        let row = sqlx::query("SELECT * FROM ingest_files WHERE id = $1 AND run_id = $2")
            .bind(id)
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("file {id}")))?;
        entry_row(&row)
    }

    pub async fn ingest_near_decisions(&self, run_id: i64) -> Result<HashMap<String, String>> {
        let rows =
            sqlx::query("SELECT group_key, decision FROM ingest_near_decisions WHERE run_id = $1")
                .bind(run_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("group_key")?, r.try_get("decision")?)))
            .collect()
    }

    /// The confirmed labels: the classifier's training set.
    pub async fn ingest_labels(&self) -> Result<Vec<Label>> {
        let rows = sqlx::query("SELECT * FROM ingest_labels ORDER BY labelled_at")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let kind: String = r.try_get("kind")?;
            let category: String = r.try_get("category")?;
            out.push(Label {
                path: r.try_get("rel")?,
                text: r.try_get("text_head")?,
                kind: Kind::parse(&kind).unwrap_or(Kind::Unknown),
                category: Category::parse(&category).unwrap_or(Category::Other),
                annex: opt_str(&r, "annex").and_then(|a| Annex::parse(&a)),
            });
        }
        Ok(out)
    }

    /// The classifier as the confirmed labels train it (rules alone while there are none).
    pub async fn ingest_classifier(&self) -> Result<Classifier> {
        let labels = self.ingest_labels().await?;
        Ok(if labels.is_empty() {
            Classifier::rules_only()
        } else {
            Classifier::train(&labels)
        })
    }

    /// Classify a run's entries again with `clf` (after a correction retrained it);
    /// entries a person labelled keep their label. Returns how many changed.
    pub async fn ingest_reclassify(&self, run_id: i64, clf: &Classifier) -> Result<usize> {
        let entries = self.ingest_entries(run_id).await?;
        let mut changed = Vec::new();
        for e in entries {
            let r = &e.record;
            if r.source == "person" {
                continue;
            }
            let d = clf.classify(&Doc {
                path: &r.rel,
                text: &r.text_head,
                kind: r.kind,
            });
            let source = d.source.as_str();
            if d.category != r.category || d.annex != r.annex || source != r.source {
                changed.push((e.id, d, source));
            }
        }
        let mut tx = self.pool.begin().await?;
        for (id, d, source) in &changed {
            sqlx::query(
                "UPDATE ingest_files SET category = $1, category_confidence = $2, annex = $3,
                 annex_confidence = $4, source = $5, reason = $6 WHERE id = $7",
            )
            .bind(d.category.as_str())
            .bind(d.category_confidence as f64)
            .bind(d.annex.map(|a| a.as_str()))
            .bind(d.annex_confidence as f64)
            .bind(*source)
            .bind(&d.reason)
            .bind(*id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(changed.len())
    }

    /// Compute the run's report from its catalog and keep it with the run.
    pub async fn ingest_refresh_report(&self, run_id: i64) -> Result<Report> {
        let entries = self.ingest_entries(run_id).await?;
        let decisions = self.ingest_near_decisions(run_id).await?;
        let report = tokio::task::spawn_blocking(move || report::build(&entries, &decisions))
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?;
        sqlx::query("UPDATE ingest_runs SET report_json = $1 WHERE id = $2")
            .bind(serde_json::to_string(&report).unwrap_or_default())
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(report)
    }

    pub async fn ingest_report(&self, run_id: i64) -> Result<Option<Report>> {
        let s: Option<String> =
            sqlx::query_scalar("SELECT report_json FROM ingest_runs WHERE id = $1")
                .bind(run_id)
                .fetch_optional(&self.pool)
                .await?
                .flatten();
        Ok(s.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Certificate names of the registry, longest first (most specific match wins).
    async fn certificate_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = sqlx::query_scalar("SELECT name_zh FROM certificates")
            .fetch_all(&self.pool)
            .await?;
        names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
        names.dedup();
        Ok(names)
    }
}

/// How a run reports progress to whoever started it (a progress bar, the page).
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// The database and object store as the engine's sink. Called from the engine's worker
/// threads; it reaches the async store through the runtime handle.
struct StoreSink {
    store: Store,
    run_id: i64,
    handle: tokio::runtime::Handle,
    done: HashSet<(String, u64, i64)>,
    buffer: Mutex<(Vec<Record>, Instant)>,
    last_progress: Mutex<Instant>,
    on_progress: ProgressFn,
    cancel: Arc<AtomicBool>,
}

/// Rows per catalog transaction, and the longest a committed group waits in memory.
const FLUSH_ROWS: usize = 1000;
const FLUSH_AFTER: Duration = Duration::from_secs(2);

impl StoreSink {
    fn flush_locked(&self, buf: &mut (Vec<Record>, Instant)) -> std::result::Result<(), String> {
        if buf.0.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut buf.0);
        buf.1 = Instant::now();
        self.handle
            .block_on(self.store.ingest_write(self.run_id, &rows))
            .map_err(|e| e.to_string())
    }

    fn flush(&self) -> std::result::Result<(), String> {
        let mut buf = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        self.flush_locked(&mut buf)
    }
}

impl Sink for StoreSink {
    fn is_done(&self, path: &str, size: u64, mtime_ns: i64) -> bool {
        self.done.contains(&(path.to_string(), size, mtime_ns))
    }

    fn store_path(&self, hash: &str, path: &Path) -> std::result::Result<(), String> {
        self.handle
            .block_on(self.store.objects.put_blake3_file(hash, path))
            .map_err(|e| e.to_string())
    }

    fn store_bytes(&self, hash: &str, data: &[u8]) -> std::result::Result<(), String> {
        self.handle
            .block_on(self.store.objects.put_blake3(hash, data.to_vec()))
            .map_err(|e| e.to_string())
    }

    fn commit(&self, records: Vec<Record>) -> std::result::Result<(), String> {
        let mut buf = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        buf.0.extend(records);
        if buf.0.len() >= FLUSH_ROWS || buf.1.elapsed() >= FLUSH_AFTER {
            self.flush_locked(&mut buf)?;
        }
        Ok(())
    }

    fn progress(&self, p: &Progress) {
        (self.on_progress)(p);
        let mut last = self.last_progress.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() >= Duration::from_millis(700) {
            *last = Instant::now();
            let _ = self
                .handle
                .block_on(self.store.ingest_progress(self.run_id, p));
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The JSON document of a run and its report, as `xcert ingest --json` prints and the API
/// serves (documented in docs/INGEST.md).
pub fn report_json(run: &RunRow, report: Option<&Report>) -> serde_json::Value {
    serde_json::json!({
        "run": {
            "id": run.id,
            "title": run.title,
            "batch": run.batch,
            "state": run.state,
            "sources": run.sources,
            "created_at": run.created_at,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "stats": run.stats,
        },
        "report": report,
    })
}

/// What a finished (or stopped) run produced.
pub struct RunOutcome {
    pub stats: RunStats,
    pub report: Option<Report>,
}

impl Store {
    /// Run (or resume) consolidation run `run_id` to its end: catalog every file of its
    /// sources, then compute and keep the report. Safe to call again after a crash: paths
    /// already cataloged are skipped.
    pub async fn ingest_execute(
        &self,
        run_id: i64,
        on_progress: ProgressFn,
        cancel: Arc<AtomicBool>,
    ) -> Result<RunOutcome> {
        let run = self.ingest_run(run_id).await?;
        if run.state == RunState::Finished {
            return Err(StoreError::Other(format!(
                "consolidation run {run_id} has already finished"
            )));
        }
        self.ingest_set_state(run_id, RunState::Running, None)
            .await?;
        let result = self.ingest_execute_inner(&run, on_progress, cancel).await;
        match &result {
            Ok(o) if o.report.is_some() => {}
            Ok(_) => {
                self.ingest_set_state(run_id, RunState::Interrupted, None)
                    .await?
            }
            Err(e) => {
                self.ingest_set_state(run_id, RunState::Failed, Some(&e.to_string()))
                    .await?
            }
        }
        result
    }

    async fn ingest_execute_inner(
        &self,
        run: &RunRow,
        on_progress: ProgressFn,
        cancel: Arc<AtomicBool>,
    ) -> Result<RunOutcome> {
        let classifier = self.ingest_classifier().await?;
        let mut opts = engine::Options {
            store_objects: run.options.store_objects,
            certificate_names: self.certificate_names().await?,
            ..engine::Options::default()
        };
        if let Some(t) = run.options.threads {
            opts.threads = t.max(1);
        }
        let sink = Arc::new(StoreSink {
            store: self.clone(),
            run_id: run.id,
            handle: tokio::runtime::Handle::current(),
            done: self.ingest_done_keys(run.id).await?,
            buffer: Mutex::new((Vec::new(), Instant::now())),
            last_progress: Mutex::new(Instant::now() - Duration::from_secs(10)),
            on_progress,
            cancel,
        });
        let sources = run.sources.clone();
        let worker_sink = sink.clone();
        let stats = tokio::task::spawn_blocking(move || {
            let r = engine::run(&sources, &opts, &classifier, worker_sink.as_ref());
            // Whatever was committed reaches the database, even when the run stops early.
            let flushed = worker_sink.flush();
            match (r, flushed) {
                (Ok(s), Ok(())) => Ok(s),
                (Err(e), _) | (Ok(_), Err(e)) => Err(e),
            }
        })
        .await
        .map_err(|e| StoreError::Other(e.to_string()))?
        .map_err(StoreError::Other)?;
        sqlx::query("UPDATE ingest_runs SET stats_json = $1 WHERE id = $2")
            .bind(serde_json::to_string(&stats).unwrap_or_default())
            .bind(run.id)
            .execute(&self.pool)
            .await?;
        if stats.cancelled {
            return Ok(RunOutcome {
                stats,
                report: None,
            });
        }
        let report = self.ingest_refresh_report(run.id).await?;
        let mut tx = self.begin_write(&run.created_by).await?;
        sqlx::query(
            "UPDATE ingest_runs SET state = 'finished', error = NULL, finished_at = $1 WHERE id = $2",
        )
        .bind(now())
        .bind(run.id)
        .execute(&mut *tx.tx)
        .await?;
        let after = serde_json::json!({
            "files": report.totals.files, "bytes": report.totals.bytes,
            "valid_records": report.totals.valid_records,
            "duplicate_groups": report.totals.duplicate_groups,
            "near_duplicate_groups": report.totals.near_duplicate_groups,
            "missing_annexes": report.totals.missing_annexes,
        });
        tx.audit(
            "ingest.finish",
            "ingest_run",
            &run.id.to_string(),
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(RunOutcome {
            stats,
            report: Some(report),
        })
    }
}
