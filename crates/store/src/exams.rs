//! Exam sessions (考核计划), candidates and their theory attempts, practical scoring by
//! examiners, training (process) scores, and results.
//!
//! An attempt's life: registered → in progress (started; the deadline is fixed then) →
//! submitted (by the candidate, at time-out, or by the server's sweep). Saving and
//! submitting are safe to repeat: a save replaces the responses it carries, a second
//! submit returns the first one's outcome.

use crate::db::{WriteTx, now, opt_float, opt_str};
use crate::items::{FormContent, parse_level};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeMap, HashMap};
use xcert_assess::item::{ItemContent, ItemKind, Response, Scored};
use xcert_assess::results::{Outcome, PartScore, ResultRule, combine_raters};
use xcert_domain::FieldError;
use xcert_domain::framework::Level;

/// Responses still in flight when the deadline passes are accepted this long after it.
pub const SAVE_GRACE_SECS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Candidates may start within the window.
    Scheduled,
    /// No more attempts; scoring and marking go on.
    Closed,
    /// Results are computed and visible to candidates.
    Released,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "scheduled",
            SessionStatus::Closed => "closed",
            SessionStatus::Released => "released",
        }
    }
    pub fn parse(s: &str) -> SessionStatus {
        match s {
            "closed" => SessionStatus::Closed,
            "released" => SessionStatus::Released,
            _ => SessionStatus::Scheduled,
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "已安排",
            SessionStatus::Closed => "已结束考试",
            SessionStatus::Released => "已发布成绩",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "Scheduled",
            SessionStatus::Closed => "Closed",
            SessionStatus::Released => "Results released",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptState {
    Registered,
    InProgress,
    Submitted,
}

impl AttemptState {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptState::Registered => "registered",
            AttemptState::InProgress => "in_progress",
            AttemptState::Submitted => "submitted",
        }
    }
    fn parse(s: &str) -> AttemptState {
        match s {
            "in_progress" => AttemptState::InProgress,
            "submitted" => AttemptState::Submitted,
            _ => AttemptState::Registered,
        }
    }
}

/// A practical task of a session: the item and the version scored on.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionTask {
    pub position: i64,
    pub item_id: i64,
    pub version: i64,
    pub ident: String,
    pub title: String,
    pub points: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionRow {
    pub id: i64,
    pub certificate_id: i64,
    pub certificate_code: String,
    pub certificate_name: String,
    pub teo_id: i64,
    pub teo_name: String,
    pub level: Level,
    pub title: String,
    pub site_org_id: Option<i64>,
    pub site_name: String,
    pub site_province: Option<String>,
    pub opens_at: String,
    pub closes_at: String,
    pub duration_minutes: i64,
    pub shuffle_items: bool,
    /// Two examiners further apart than this (points, per task) call for a third.
    pub disagreement_points: f64,
    pub status: SessionStatus,
    pub rule: ResultRule,
    pub form_ids: Vec<i64>,
    pub tasks: Vec<SessionTask>,
    /// (user id, username, display name)
    pub examiners: Vec<(i64, String, String)>,
    pub candidates: i64,
    pub started: i64,
    pub submitted: i64,
    pub created_by: String,
    pub created_at: String,
}

impl SessionRow {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Whether a candidate may start now (window open, session not closed).
    pub fn open_at(&self, at: &str) -> bool {
        open_window(self.status, &self.opens_at, &self.closes_at, at)
    }

    pub fn is_examiner(&self, user_id: i64) -> bool {
        self.examiners.iter().any(|(id, _, _)| *id == user_id)
    }
}

fn open_window(status: SessionStatus, opens_at: &str, closes_at: &str, at: &str) -> bool {
    status == SessionStatus::Scheduled && opens_at <= at && at < closes_at
}

/// What a candidate's page needs of a session, in one cheap query (no counts, no lists):
/// it is read on every start and page load of an exam rush.
#[derive(Debug, Clone, Serialize)]
pub struct SessionBrief {
    pub id: i64,
    pub title: String,
    pub certificate_code: String,
    pub certificate_name: String,
    pub level: Level,
    pub site_name: String,
    pub opens_at: String,
    pub closes_at: String,
    pub duration_minutes: i64,
    pub shuffle_items: bool,
    pub status: SessionStatus,
}

impl SessionBrief {
    /// Whether a candidate may start now (window open, session not closed).
    pub fn open_at(&self, at: &str) -> bool {
        open_window(self.status, &self.opens_at, &self.closes_at, at)
    }
}

async fn get_brief(c: &mut sqlx::AnyConnection, id: i64) -> Result<SessionBrief> {
    let r = sqlx::query(
        "SELECT s.id, s.title, s.level, s.site_name, s.opens_at, s.closes_at, s.duration_minutes, s.shuffle_items, s.status,
            c.code AS certificate_code, c.name_zh AS certificate_name
         FROM exam_sessions s JOIN certificates c ON c.id = s.certificate_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("exam session {id}")))?;
    let level: String = r.try_get("level")?;
    let status: String = r.try_get("status")?;
    Ok(SessionBrief {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        certificate_code: r.try_get("certificate_code")?,
        certificate_name: r.try_get("certificate_name")?,
        level: Level::parse("level", &level).map_err(|e| StoreError::Other(e.en))?,
        site_name: r.try_get("site_name")?,
        opens_at: r.try_get("opens_at")?,
        closes_at: r.try_get("closes_at")?,
        duration_minutes: r.try_get("duration_minutes")?,
        shuffle_items: r.try_get::<i64, _>("shuffle_items")? != 0,
        status: SessionStatus::parse(&status),
    })
}

/// Which sessions a list shows (the caller's scoped view).
#[derive(Debug, Clone, Default)]
pub struct SessionScope {
    pub teo_id: Option<i64>,
    pub site_org_id: Option<i64>,
    pub site_province: Option<String>,
    pub examiner_id: Option<i64>,
    pub certificate_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CandidateRow {
    pub id: i64,
    pub session_id: i64,
    pub person_id: i64,
    pub name: String,
    pub id_masked: String,
    pub college_id: i64,
    pub college_name: String,
    pub student_no: Option<String>,
    pub ticket: String,
    pub form_id: i64,
    #[serde(skip)]
    pub seed: u64,
    pub state: AttemptState,
    pub started_at: Option<String>,
    pub deadline_at: Option<String>,
    pub submitted_at: Option<String>,
    pub submit_reason: Option<String>,
    pub saves: i64,
    pub theory_earned: Option<f64>,
    pub theory_possible: Option<f64>,
    /// Written answers still waiting for a marker.
    pub unmarked: i64,
    pub process_score: Option<f64>,
}

/// Everything needed to create a session.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub certificate_id: i64,
    pub level: Level,
    pub title: String,
    pub site_org_id: Option<i64>,
    pub site_name: String,
    pub opens_at: String,
    pub closes_at: String,
    pub duration_minutes: i64,
    pub shuffle_items: bool,
    pub disagreement_points: f64,
    pub form_ids: Vec<i64>,
    /// Practical task items (their current versions are frozen into the session).
    pub task_item_ids: Vec<i64>,
    pub examiner_ids: Vec<i64>,
    pub rule: ResultRule,
}

/// One examiner's scores for one candidate on one task.
#[derive(Debug, Clone, Serialize)]
pub struct PracticalScoreRow {
    pub candidate_id: i64,
    pub task_position: i64,
    pub examiner_id: i64,
    pub examiner: String,
    pub criteria: BTreeMap<String, f64>,
    pub total: f64,
    pub comment: Option<String>,
    pub updated_at: String,
}

/// A candidate's saved response.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseRow {
    pub position: i64,
    pub response: Response,
    pub saved_at: String,
    pub score: Option<f64>,
    pub marked_by: Option<String>,
}

/// A computed result with the candidate it belongs to.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    pub candidate: CandidateRow,
    pub outcome: Outcome,
    pub decided_at: String,
}

/// A practical task's standing for one candidate: examiners' totals and the outcome.
#[derive(Debug, Clone, Serialize)]
pub struct TaskStanding {
    pub candidate_id: i64,
    pub task_position: i64,
    pub totals: Vec<(String, f64)>,
    pub score: Option<f64>,
    pub needs_third: bool,
}

fn bad(field: &str, code: &str, en: String, zh: String) -> StoreError {
    StoreError::invalid(FieldError::new(field, code, en, zh))
}

const SESSION_SELECT: &str = "SELECT s.*, c.code AS certificate_code, c.name_zh AS certificate_name, c.teo_id,
        t.name_zh AS teo_name, site.province AS site_province,
        (SELECT COUNT(*) FROM exam_candidates x WHERE x.session_id = s.id) AS n_candidates,
        (SELECT COUNT(*) FROM exam_candidates x WHERE x.session_id = s.id AND x.state <> 'registered') AS n_started,
        (SELECT COUNT(*) FROM exam_candidates x WHERE x.session_id = s.id AND x.state = 'submitted') AS n_submitted
     FROM exam_sessions s
     JOIN certificates c ON c.id = s.certificate_id
     JOIN organizations t ON t.id = c.teo_id
     LEFT JOIN organizations site ON site.id = s.site_org_id";

fn session_base(r: &AnyRow) -> Result<SessionRow> {
    let level: String = r.try_get("level")?;
    let status: String = r.try_get("status")?;
    let rule: String = r.try_get("rule_json")?;
    Ok(SessionRow {
        id: r.try_get("id")?,
        certificate_id: r.try_get("certificate_id")?,
        certificate_code: r.try_get("certificate_code")?,
        certificate_name: r.try_get("certificate_name")?,
        teo_id: r.try_get("teo_id")?,
        teo_name: r.try_get("teo_name")?,
        level: Level::parse("level", &level).map_err(|e| StoreError::Other(e.en))?,
        title: r.try_get("title")?,
        site_org_id: r.try_get::<Option<i64>, _>("site_org_id").ok().flatten(),
        site_name: r.try_get("site_name")?,
        site_province: opt_str(r, "site_province"),
        opens_at: r.try_get("opens_at")?,
        closes_at: r.try_get("closes_at")?,
        duration_minutes: r.try_get("duration_minutes")?,
        shuffle_items: r.try_get::<i64, _>("shuffle_items")? != 0,
        disagreement_points: r.try_get("disagreement_points")?,
        status: SessionStatus::parse(&status),
        rule: serde_json::from_str(&rule).unwrap_or_default(),
        form_ids: Vec::new(),
        tasks: Vec::new(),
        examiners: Vec::new(),
        candidates: r.try_get("n_candidates")?,
        started: r.try_get("n_started")?,
        submitted: r.try_get("n_submitted")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

async fn session_details(c: &mut sqlx::AnyConnection, s: &mut SessionRow) -> Result<()> {
    s.form_ids = sqlx::query_scalar(
        "SELECT form_id FROM exam_session_forms WHERE session_id = $1 ORDER BY form_id",
    )
    .bind(s.id)
    .fetch_all(&mut *c)
    .await?;
    let tasks = sqlx::query(
        "SELECT t.position, t.item_id, t.version, i.ident, i.stem_text, v.content_json
         FROM exam_session_tasks t JOIN items i ON i.id = t.item_id
         JOIN item_versions v ON v.item_id = t.item_id AND v.version = t.version
         WHERE t.session_id = $1 ORDER BY t.position",
    )
    .bind(s.id)
    .fetch_all(&mut *c)
    .await?;
    s.tasks = tasks
        .iter()
        .map(|r| {
            let content: String = r.try_get("content_json")?;
            let content: ItemContent = serde_json::from_str(&content)
                .map_err(|e| StoreError::Other(format!("stored task: {e}")))?;
            let stem: String = r.try_get("stem_text")?;
            Ok(SessionTask {
                position: r.try_get("position")?,
                item_id: r.try_get("item_id")?,
                version: r.try_get("version")?,
                ident: r.try_get("ident")?,
                title: stem.lines().next().unwrap_or("").chars().take(80).collect(),
                points: content.points,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    s.examiners = sqlx::query(
        "SELECT u.id, u.username, u.display_name FROM exam_session_examiners e JOIN users u ON u.id = e.user_id
         WHERE e.session_id = $1 ORDER BY u.username",
    )
    .bind(s.id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("username")?, r.try_get("display_name")?)))
    .collect::<Result<Vec<_>>>()?;
    Ok(())
}

async fn get_session(c: &mut sqlx::AnyConnection, id: i64) -> Result<SessionRow> {
    let sql = format!("{SESSION_SELECT} WHERE s.id = $1");
    let r = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("exam session {id}")))?;
    let mut s = session_base(&r)?;
    session_details(c, &mut s).await?;
    Ok(s)
}

const CANDIDATE_SELECT: &str = "SELECT x.*, p.name, p.id_masked, p.college_id, p.student_no, o.name_zh AS college_name
     FROM exam_candidates x JOIN people p ON p.id = x.person_id JOIN organizations o ON o.id = p.college_id";

fn candidate_row(r: &AnyRow) -> Result<CandidateRow> {
    let state: String = r.try_get("state")?;
    let opt_f = |c: &str| r.try_get::<Option<f64>, _>(c).ok().flatten();
    Ok(CandidateRow {
        id: r.try_get("id")?,
        session_id: r.try_get("session_id")?,
        person_id: r.try_get("person_id")?,
        name: r.try_get("name")?,
        id_masked: r.try_get("id_masked")?,
        college_id: r.try_get("college_id")?,
        college_name: r.try_get("college_name")?,
        student_no: opt_str(r, "student_no"),
        ticket: r.try_get("ticket")?,
        form_id: r.try_get("form_id")?,
        seed: r.try_get::<i64, _>("seed")? as u64,
        state: AttemptState::parse(&state),
        started_at: opt_str(r, "started_at"),
        deadline_at: opt_str(r, "deadline_at"),
        submitted_at: opt_str(r, "submitted_at"),
        submit_reason: opt_str(r, "submit_reason"),
        saves: r.try_get("saves")?,
        theory_earned: opt_f("theory_earned"),
        theory_possible: opt_f("theory_possible"),
        unmarked: r.try_get("unmarked")?,
        process_score: opt_f("process_score"),
    })
}

async fn get_candidate(c: &mut sqlx::AnyConnection, id: i64) -> Result<CandidateRow> {
    let sql = format!("{CANDIDATE_SELECT} WHERE x.id = $1");
    let r = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(c)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("candidate {id}")))?;
    candidate_row(&r)
}

/// RFC 3339 text plus seconds.
pub fn add_secs(t: &str, secs: i64) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| {
            (d.with_timezone(&chrono::Utc) + chrono::Duration::seconds(secs))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        })
        .unwrap_or_else(|_| t.to_string())
}

/// Normalize a time given by a person or client to the stored form (UTC, milliseconds).
/// Accepts RFC 3339, or `YYYY-MM-DDTHH:MM[:SS]` / `YYYY-MM-DD HH:MM` read as China time
/// (UTC+8), the way exam schedules are written.
pub fn parse_time(field: &str, s: &str) -> std::result::Result<String, FieldError> {
    let t = s.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(d
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    }
    let local = t.replace(' ', "T");
    for fmt in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(&local, fmt) {
            let utc = n - chrono::Duration::hours(8);
            return Ok(utc
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
    }
    Err(FieldError::new(
        field,
        "bad_time",
        format!("\"{t}\" is not a time: use 2026-06-20 09:00 (China time) or RFC 3339"),
        format!("“{t}”不是有效时间：请按 2026-06-20 09:00（北京时间）填写"),
    ))
}

impl Store {
    pub async fn session_brief(&self, id: i64) -> Result<SessionBrief> {
        get_brief(&mut *self.pool.acquire().await?, id).await
    }

    pub async fn session_get(&self, id: i64) -> Result<SessionRow> {
        get_session(&mut *self.pool.acquire().await?, id).await
    }

    /// Sessions in a scoped view, newest first. Each `Some` in the scope narrows the list.
    pub async fn sessions_list(&self, scope: &SessionScope) -> Result<Vec<SessionRow>> {
        let mut conds = vec!["1=1".to_string()];
        let mut args: Vec<String> = Vec::new();
        if let Some(t) = scope.teo_id {
            conds.push(format!("c.teo_id = {t}"));
        }
        if let Some(s) = scope.site_org_id {
            conds.push(format!("s.site_org_id = {s}"));
        }
        if let Some(c) = scope.certificate_id {
            conds.push(format!("s.certificate_id = {c}"));
        }
        if let Some(e) = scope.examiner_id {
            conds.push(format!(
                "EXISTS (SELECT 1 FROM exam_session_examiners e WHERE e.session_id = s.id AND e.user_id = {e})"
            ));
        }
        if let Some(p) = &scope.site_province {
            args.push(p.clone());
            conds.push(format!("site.province = ${}", args.len()));
        }
        let sql = format!(
            "{SESSION_SELECT} WHERE {} ORDER BY s.opens_at DESC, s.id DESC LIMIT 500",
            conds.join(" AND ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a.clone());
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut c = self.pool.acquire().await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut s = session_base(r)?;
            session_details(&mut c, &mut s).await?;
            out.push(s);
        }
        Ok(out)
    }

    pub async fn candidate_get(&self, id: i64) -> Result<CandidateRow> {
        get_candidate(&mut *self.pool.acquire().await?, id).await
    }

    /// A session's candidates, optionally only one college's students.
    pub async fn candidates(
        &self,
        session_id: i64,
        college_id: Option<i64>,
    ) -> Result<Vec<CandidateRow>> {
        let extra = college_id
            .map(|c| format!(" AND p.college_id = {c}"))
            .unwrap_or_default();
        let sql = format!("{CANDIDATE_SELECT} WHERE x.session_id = $1{extra} ORDER BY x.ticket");
        sqlx::query(AssertSqlSafe(sql))
            .bind(session_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(candidate_row)
            .collect()
    }

    /// A person's places in sessions, newest first.
    pub async fn attempts_of_person(&self, person_id: i64) -> Result<Vec<CandidateRow>> {
        let sql = format!("{CANDIDATE_SELECT} WHERE x.person_id = $1 ORDER BY x.id DESC");
        sqlx::query(AssertSqlSafe(sql))
            .bind(person_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(candidate_row)
            .collect()
    }

    pub async fn responses(&self, candidate_id: i64) -> Result<Vec<ResponseRow>> {
        sqlx::query(
            "SELECT position, response_json, saved_at, score, marked_by FROM exam_responses WHERE candidate_id = $1 ORDER BY position",
        )
        .bind(candidate_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let json: String = r.try_get("response_json")?;
            Ok(ResponseRow {
                position: r.try_get("position")?,
                response: serde_json::from_str(&json)
                    .map_err(|e| StoreError::Other(format!("stored response: {e}")))?,
                saved_at: r.try_get("saved_at")?,
                score: r.try_get::<Option<f64>, _>("score").ok().flatten(),
                marked_by: opt_str(r, "marked_by"),
            })
        })
        .collect()
    }

    /// Every scored response of a session's submitted candidates, with the item and the
    /// points the candidate's form gives it.
    pub async fn session_responses(&self, session_id: i64) -> Result<Vec<ScoredResponse>> {
        self.scored_responses("x.session_id = $1", session_id, None)
            .await
    }

    pub async fn practical_scores(&self, session_id: i64) -> Result<Vec<PracticalScoreRow>> {
        sqlx::query(
            "SELECT ps.*, u.username FROM practical_scores ps JOIN exam_candidates x ON x.id = ps.candidate_id
             JOIN users u ON u.id = ps.examiner_id WHERE x.session_id = $1 ORDER BY ps.candidate_id, ps.task_position, u.username",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let criteria: String = r.try_get("criteria_json")?;
            Ok(PracticalScoreRow {
                candidate_id: r.try_get("candidate_id")?,
                task_position: r.try_get("task_position")?,
                examiner_id: r.try_get("examiner_id")?,
                examiner: r.try_get("username")?,
                criteria: serde_json::from_str(&criteria).unwrap_or_default(),
                total: r.try_get("total")?,
                comment: opt_str(r, "comment"),
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect()
    }

    /// Per candidate and task: the examiners' totals and the combined score.
    pub async fn practical_standings(&self, session: &SessionRow) -> Result<Vec<TaskStanding>> {
        let scores = self.practical_scores(session.id).await?;
        let mut by: BTreeMap<(i64, i64), Vec<(String, f64)>> = BTreeMap::new();
        for s in scores {
            by.entry((s.candidate_id, s.task_position))
                .or_default()
                .push((s.examiner, s.total));
        }
        Ok(by
            .into_iter()
            .map(|((cand, pos), totals)| {
                let t: Vec<f64> = totals.iter().map(|x| x.1).collect();
                let o = combine_raters(&t, session.disagreement_points);
                TaskStanding {
                    candidate_id: cand,
                    task_position: pos,
                    totals,
                    score: o.score,
                    needs_third: o.needs_third,
                }
            })
            .collect())
    }

    pub async fn results(
        &self,
        session_id: i64,
        college_id: Option<i64>,
    ) -> Result<Vec<ResultRow>> {
        let extra = college_id
            .map(|c| format!(" AND p.college_id = {c}"))
            .unwrap_or_default();
        let sql = format!(
            "{CANDIDATE_SELECT} JOIN exam_results res ON res.candidate_id = x.id WHERE x.session_id = $1{extra} ORDER BY x.ticket"
        )
        .replace("SELECT x.*,", "SELECT x.*, res.process AS r_process, res.theory AS r_theory, res.practical AS r_practical, res.total AS r_total, res.passed AS r_passed, res.shortfalls_json, res.decided_at,");
        sqlx::query(AssertSqlSafe(sql))
            .bind(session_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let opt_f = |c: &str| r.try_get::<Option<f64>, _>(c).ok().flatten();
                let short: String = r.try_get("shortfalls_json")?;
                Ok(ResultRow {
                    candidate: candidate_row(r)?,
                    outcome: Outcome {
                        process: opt_f("r_process"),
                        theory: opt_f("r_theory"),
                        practical: opt_f("r_practical"),
                        total: opt_f("r_total"),
                        passed: r.try_get::<i64, _>("r_passed")? != 0,
                        shortfalls: serde_json::from_str(&short).unwrap_or_default(),
                    },
                    decided_at: r.try_get("decided_at")?,
                })
            })
            .collect()
    }

    /// In-progress attempts whose deadline (plus the save grace) has passed.
    pub async fn attempts_overdue(&self, at: &str) -> Result<Vec<i64>> {
        let cutoff = add_secs(at, -SAVE_GRACE_SECS);
        Ok(sqlx::query_scalar(
            "SELECT id FROM exam_candidates WHERE state = 'in_progress' AND deadline_at < $1 ORDER BY id",
        )
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn result_rule(&self, certificate_id: i64, level: Level) -> Result<ResultRule> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT rule_json FROM result_rules WHERE certificate_id = $1 AND level = $2",
        )
        .bind(certificate_id)
        .bind(level.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }
}

/// The response to store for each position the client sent, checked against the form.
fn checked_answers(form: &FormContent, answers: &[(i64, Response)]) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::with_capacity(answers.len());
    for (pos, resp) in answers {
        let Some((_, content, _)) = form.items.iter().find(|(fi, _, _)| fi.position == *pos) else {
            return Err(bad(
                "answers",
                "no_such_item",
                format!("the form has no item at position {pos}"),
                format!("试卷中没有第 {pos} 题"),
            ));
        };
        if !content.kind.is_theory() {
            return Err(bad(
                "answers",
                "practical",
                format!("item {pos} is a practical task, scored at the site"),
                format!("第 {pos} 题为实操题，由考评员现场评分"),
            ));
        }
        let json = serde_json::to_string(resp).unwrap_or_default();
        if json.len() > 64 * 1024 {
            return Err(bad(
                "answers",
                "too_long",
                format!("the answer to item {pos} is longer than 64 KiB"),
                format!("第 {pos} 题的答案超过 64 KiB"),
            ));
        }
        out.push((*pos, json));
    }
    Ok(out)
}

impl WriteTx {
    pub async fn session_get(&mut self, id: i64) -> Result<SessionRow> {
        get_session(&mut self.tx, id).await
    }

    pub async fn candidate_get(&mut self, id: i64) -> Result<CandidateRow> {
        get_candidate(&mut self.tx, id).await
    }

    /// Schedule a session. Forms must be ready forms of the same certificate and level,
    /// tasks approved practical items of the certificate, examiners examiner accounts.
    pub async fn session_create(&mut self, s: &NewSession) -> Result<SessionRow> {
        let mut errs = Vec::new();
        if s.title.trim().is_empty() {
            errs.push(FieldError::required("title"));
        }
        if s.closes_at <= s.opens_at {
            errs.push(FieldError::new(
                "closes_at",
                "window",
                "the session must close after it opens",
                "结束时间必须晚于开始时间",
            ));
        }
        if !(1..=600).contains(&s.duration_minutes) {
            errs.push(FieldError::new(
                "duration_minutes",
                "bad_duration",
                "the theory test lasts 1–600 minutes",
                "理论考试时长应为 1–600 分钟",
            ));
        }
        if s.form_ids.is_empty() {
            errs.push(FieldError::new(
                "forms",
                "no_forms",
                "choose at least one form for the theory test",
                "请至少选择一套理论试卷",
            ));
        }
        if let Err(e) = s.rule.validate() {
            errs.extend(e);
        }
        if s.disagreement_points.is_nan() || s.disagreement_points < 0.0 {
            errs.push(FieldError::new(
                "disagreement_points",
                "bad_gap",
                "the allowed disagreement is zero or more points",
                "允许的评分差应不小于 0",
            ));
        }
        for fid in &s.form_ids {
            let r =
                sqlx::query("SELECT certificate_id, level, status, code FROM forms WHERE id = $1")
                    .bind(fid)
                    .fetch_optional(&mut *self.tx)
                    .await?;
            let ok = r.as_ref().is_some_and(|r| {
                r.try_get::<i64, _>("certificate_id").ok() == Some(s.certificate_id)
                    && r.try_get::<String, _>("level").ok().as_deref() == Some(s.level.as_str())
                    && r.try_get::<String, _>("status").ok().as_deref() != Some("retired")
            });
            if !ok {
                errs.push(FieldError::new(
                    "forms",
                    "bad_form",
                    format!("form {fid} is not a current form of this certificate level"),
                    format!("试卷 {fid} 不是本证书该等级的可用试卷"),
                ));
            }
        }
        let mut tasks = Vec::new();
        for iid in &s.task_item_ids {
            let r = sqlx::query(
                "SELECT certificate_id, kind, review_status, current_version, ident FROM items WHERE id = $1",
            )
            .bind(iid)
            .fetch_optional(&mut *self.tx)
            .await?;
            match r {
                Some(r)
                    if r.try_get::<i64, _>("certificate_id")? == s.certificate_id
                        && r.try_get::<String, _>("kind")? == ItemKind::PracticalTask.as_str()
                        && r.try_get::<String, _>("review_status")? == "approved" =>
                {
                    tasks.push((*iid, r.try_get::<i64, _>("current_version")?));
                }
                _ => errs.push(FieldError::new(
                    "tasks",
                    "bad_task",
                    format!("item {iid} is not an approved practical task of this certificate"),
                    format!("题目 {iid} 不是本证书已审核的实操题"),
                )),
            }
        }
        for uid in &s.examiner_ids {
            let role: Option<String> =
                sqlx::query_scalar("SELECT role FROM users WHERE id = $1 AND active = 1")
                    .bind(uid)
                    .fetch_optional(&mut *self.tx)
                    .await?;
            if role.as_deref() != Some("examiner") {
                errs.push(FieldError::new(
                    "examiners",
                    "not_examiner",
                    format!("account {uid} is not an active examiner"),
                    format!("账号 {uid} 不是在用的考评员账号"),
                ));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO exam_sessions (certificate_id, level, title, site_org_id, site_name, opens_at, closes_at, duration_minutes,
                shuffle_items, disagreement_points, status, rule_json, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'scheduled', $11, $12, $13, $13) RETURNING id",
        )
        .bind(s.certificate_id)
        .bind(s.level.as_str())
        .bind(s.title.trim())
        .bind(s.site_org_id)
        .bind(s.site_name.trim())
        .bind(&s.opens_at)
        .bind(&s.closes_at)
        .bind(s.duration_minutes)
        .bind(s.shuffle_items as i64)
        .bind(s.disagreement_points)
        .bind(serde_json::to_string(&s.rule).unwrap_or_default())
        .bind(self.actor.clone())
        .bind(&t)
        .fetch_one(&mut *self.tx)
        .await?;
        for fid in &s.form_ids {
            sqlx::query("INSERT INTO exam_session_forms (session_id, form_id) VALUES ($1, $2)")
                .bind(id)
                .bind(fid)
                .execute(&mut *self.tx)
                .await?;
            // A scheduled form is frozen: its items can still get new versions, but this
            // form keeps the ones it has.
            sqlx::query("UPDATE forms SET status = 'used' WHERE id = $1")
                .bind(fid)
                .execute(&mut *self.tx)
                .await?;
        }
        for (pos, (iid, ver)) in tasks.iter().enumerate() {
            sqlx::query(
                "INSERT INTO exam_session_tasks (session_id, position, item_id, version) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(pos as i64)
            .bind(iid)
            .bind(ver)
            .execute(&mut *self.tx)
            .await?;
        }
        for uid in &s.examiner_ids {
            sqlx::query("INSERT INTO exam_session_examiners (session_id, user_id) VALUES ($1, $2)")
                .bind(id)
                .bind(uid)
                .execute(&mut *self.tx)
                .await?;
        }
        let row = get_session(&mut self.tx, id).await?;
        self.audit(
            "create",
            "exam_session",
            &id.to_string(),
            None,
            Some(&row.to_json()),
        )
        .await?;
        Ok(row)
    }

    /// Close a session (no more attempts) or release its results.
    pub async fn session_set_status(&mut self, id: i64, to: SessionStatus) -> Result<SessionRow> {
        let before = get_session(&mut self.tx, id).await?;
        let ok = matches!(
            (before.status, to),
            (SessionStatus::Scheduled, SessionStatus::Closed)
                | (SessionStatus::Closed, SessionStatus::Released)
                | (SessionStatus::Released, SessionStatus::Closed)
        );
        if !ok {
            return Err(bad(
                "status",
                "bad_transition",
                format!(
                    "a session that is {} cannot become {}",
                    before.status.en(),
                    to.en()
                ),
                format!("“{}”的考核不能改为“{}”", before.status.zh(), to.zh()),
            ));
        }
        sqlx::query("UPDATE exam_sessions SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(now())
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        self.audit(
            "set_status",
            "exam_session",
            &id.to_string(),
            Some(&serde_json::json!({"status": before.status})),
            Some(&serde_json::json!({"status": to})),
        )
        .await?;
        get_session(&mut self.tx, id).await
    }

    /// Register a person for a session: a ticket number (准考证号), one of the session's
    /// forms in turn, and a random seed for their order. Registering twice returns the
    /// first registration.
    pub async fn candidate_register(
        &mut self,
        session_id: i64,
        person_id: i64,
    ) -> Result<(CandidateRow, bool)> {
        let existing: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM exam_candidates WHERE session_id = $1 AND person_id = $2",
        )
        .bind(session_id)
        .bind(person_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        if let Some(id) = existing {
            return Ok((get_candidate(&mut self.tx, id).await?, false));
        }
        let s = get_session(&mut self.tx, session_id).await?;
        if s.status != SessionStatus::Scheduled {
            return Err(bad(
                "session",
                "closed",
                "this session no longer takes candidates".into(),
                "本场考核已结束报名".into(),
            ));
        }
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM exam_candidates WHERE session_id = $1")
                .bind(session_id)
                .fetch_one(&mut *self.tx)
                .await?;
        let form_id = s.form_ids[(n as usize) % s.form_ids.len()];
        let year = s.opens_at.get(..4).unwrap_or("0000");
        let ticket = format!("{year}{session_id:05}{:05}", n + 1);
        let seed: i64 = rand::random::<i64>() & i64::MAX;
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO exam_candidates (session_id, person_id, ticket, form_id, seed, state, saves, unmarked, registered_by, registered_at)
             VALUES ($1, $2, $3, $4, $5, 'registered', 0, 0, $6, $7) RETURNING id",
        )
        .bind(session_id)
        .bind(person_id)
        .bind(&ticket)
        .bind(form_id)
        .bind(seed)
        .bind(self.actor.clone())
        .bind(&t)
        .fetch_one(&mut *self.tx)
        .await?;
        let row = get_candidate(&mut self.tx, id).await?;
        self.audit(
            "register",
            "exam_candidate",
            &id.to_string(),
            None,
            Some(&serde_json::json!({"session": session_id, "person": person_id, "ticket": ticket, "form": form_id})),
        )
        .await?;
        Ok((row, true))
    }

    /// Start (or resume) an attempt. The deadline is fixed at the first start: the
    /// duration from then, but never past the session's close.
    pub async fn attempt_start(&mut self, candidate_id: i64, at: &str) -> Result<CandidateRow> {
        let c = get_candidate(&mut self.tx, candidate_id).await?;
        if c.state != AttemptState::Registered {
            return Ok(c);
        }
        let s = get_brief(&mut self.tx, c.session_id).await?;
        if !s.open_at(at) {
            let (en, zh) = if s.status != SessionStatus::Scheduled || at >= s.closes_at.as_str() {
                (
                    "this session is closed".to_string(),
                    "本场考试已结束".to_string(),
                )
            } else {
                (
                    format!("the exam opens at {}", s.opens_at),
                    format!("考试将于 {} 开始", s.opens_at),
                )
            };
            return Err(bad("session", "not_open", en, zh));
        }
        let by_duration = add_secs(at, s.duration_minutes * 60);
        let deadline = if by_duration < s.closes_at {
            by_duration
        } else {
            s.closes_at.clone()
        };
        sqlx::query(
            "UPDATE exam_candidates SET state = 'in_progress', started_at = $1, deadline_at = $2 WHERE id = $3 AND state = 'registered'",
        )
        .bind(at)
        .bind(&deadline)
        .bind(candidate_id)
        .execute(&mut *self.tx)
        .await?;
        self.audit(
            "start",
            "exam_attempt",
            &candidate_id.to_string(),
            None,
            Some(&serde_json::json!({"started_at": at, "deadline_at": deadline})),
        )
        .await?;
        get_candidate(&mut self.tx, candidate_id).await
    }

    /// Save responses of an attempt in progress (autosave). Not audited: the responses
    /// table with its times is the record, and the final submit is audited.
    pub async fn attempt_save(
        &mut self,
        candidate_id: i64,
        form: &FormContent,
        answers: &[(i64, Response)],
        at: &str,
    ) -> Result<CandidateRow> {
        let c = get_candidate(&mut self.tx, candidate_id).await?;
        match c.state {
            AttemptState::Registered => {
                return Err(bad(
                    "attempt",
                    "not_started",
                    "start the exam first".into(),
                    "请先开始考试".into(),
                ));
            }
            AttemptState::Submitted => {
                return Err(StoreError::Conflict(FieldError::new(
                    "attempt",
                    "submitted",
                    "this exam was already submitted; answers can no longer change",
                    "试卷已提交，答案不能再修改",
                )));
            }
            AttemptState::InProgress => {}
        }
        let deadline = c.deadline_at.clone().unwrap_or_default();
        if at > add_secs(&deadline, SAVE_GRACE_SECS).as_str() {
            return Err(StoreError::Conflict(FieldError::new(
                "attempt",
                "time_up",
                "time is up; the answers saved before the deadline are kept",
                "考试时间已到，截止前保存的答案已保留",
            )));
        }
        let rows: Vec<(i64, String, Option<f64>)> = checked_answers(form, answers)?
            .into_iter()
            .map(|(pos, json)| (pos, json, None))
            .collect();
        self.responses_upsert(candidate_id, &rows, at, false)
            .await?;
        sqlx::query("UPDATE exam_candidates SET saves = saves + 1 WHERE id = $1")
            .bind(candidate_id)
            .execute(&mut *self.tx)
            .await?;
        let mut c = c;
        c.saves += 1;
        Ok(c)
    }

    /// Submit an attempt: save the last answers (when still in time), score every
    /// objective item against the version the form uses, and close the attempt. A second
    /// submit changes nothing and returns the first outcome.
    pub async fn attempt_submit(
        &mut self,
        candidate_id: i64,
        form: &FormContent,
        answers: &[(i64, Response)],
        reason: &str,
        at: &str,
    ) -> Result<CandidateRow> {
        let c = get_candidate(&mut self.tx, candidate_id).await?;
        match c.state {
            AttemptState::Submitted => return Ok(c),
            AttemptState::Registered if reason != "timeout" => {
                return Err(bad(
                    "attempt",
                    "not_started",
                    "start the exam first".into(),
                    "请先开始考试".into(),
                ));
            }
            _ => {}
        }
        let in_time = c
            .deadline_at
            .as_deref()
            .is_some_and(|d| at <= add_secs(d, SAVE_GRACE_SECS).as_str());
        if in_time && !answers.is_empty() {
            self.attempt_save(candidate_id, form, answers, at).await?;
        }
        let saved: HashMap<i64, Response> = sqlx::query(
            "SELECT position, response_json FROM exam_responses WHERE candidate_id = $1",
        )
        .bind(candidate_id)
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .filter_map(|r| {
            let pos: i64 = r.try_get("position").ok()?;
            let json: String = r.try_get("response_json").ok()?;
            Some((pos, serde_json::from_str(&json).ok()?))
        })
        .collect();
        let mut earned = 0.0;
        let mut possible = 0.0;
        let mut unmarked = 0;
        let mut scored: Vec<(i64, String, Option<f64>)> = Vec::with_capacity(form.items.len());
        for (fi, content, _) in &form.items {
            if !content.kind.is_theory() {
                continue;
            }
            possible += fi.points;
            let resp = saved.get(&fi.position);
            // Score on the form's points: the item's own points scale to the form's.
            let scale = if content.points > 0.0 {
                fi.points / content.points
            } else {
                0.0
            };
            let score = match content.score(resp) {
                Scored::Auto(p) => Some(p * scale),
                Scored::NeedsMarker if resp.is_none() => Some(0.0),
                Scored::NeedsMarker => {
                    unmarked += 1;
                    None
                }
            };
            if let Some(sc) = score {
                earned += sc;
            }
            // An unanswered item is recorded as such, scored 0, so analysis sees it; an
            // answered one keeps its response and gets its score.
            let empty = match content.kind {
                ItemKind::TextEntry => "{\"text\":[]}",
                ItemKind::Matching => "{\"pairs\":[]}",
                ItemKind::Ordering => "{\"order\":[]}",
                ItemKind::ExtendedText => "{\"extended\":\"\"}",
                _ => "{\"choice\":[]}",
            };
            scored.push((fi.position, empty.to_string(), score));
        }
        self.responses_upsert(candidate_id, &scored, at, true)
            .await?;
        let theory_earned = if unmarked == 0 { Some(earned) } else { None };
        sqlx::query(
            "UPDATE exam_candidates SET state = 'submitted', submitted_at = $1, submit_reason = $2, theory_earned = CAST($3 AS DOUBLE PRECISION),
                theory_possible = $4, unmarked = $5 WHERE id = $6",
        )
        .bind(at)
        .bind(reason)
        .bind(opt_float(theory_earned))
        .bind(possible)
        .bind(unmarked)
        .bind(candidate_id)
        .execute(&mut *self.tx)
        .await?;
        // One delivery of the form: the items' usage counts follow from their forms'.
        sqlx::query("UPDATE forms SET deliveries = deliveries + 1 WHERE id = $1")
            .bind(c.form_id)
            .execute(&mut *self.tx)
            .await?;
        self.audit(
            "submit",
            "exam_attempt",
            &candidate_id.to_string(),
            None,
            Some(&serde_json::json!({"reason": reason, "at": at, "answered": saved.len(), "earned": theory_earned, "possible": possible, "unmarked": unmarked})),
        )
        .await?;
        get_candidate(&mut self.tx, candidate_id).await
    }

    /// Write responses of an attempt in as few statements as it takes (a multi-row upsert
    /// per 100 rows: each statement is a round trip to PostgreSQL). `score_only`: rows that
    /// exist keep their response and time and only take the score (the submit); otherwise
    /// the response and its time are replaced and the score is left alone (a save).
    async fn responses_upsert(
        &mut self,
        candidate_id: i64,
        rows: &[(i64, String, Option<f64>)],
        at: &str,
        score_only: bool,
    ) -> Result<()> {
        let conflict = if score_only {
            "score = excluded.score"
        } else {
            "response_json = excluded.response_json, saved_at = excluded.saved_at"
        };
        for chunk in rows.chunks(100) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 3;
                    format!(
                        "($1, ${}, ${}, $2, CAST(${} AS DOUBLE PRECISION))",
                        b + 3,
                        b + 4,
                        b + 5
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO exam_responses (candidate_id, position, response_json, saved_at, score) VALUES {}
                 ON CONFLICT (candidate_id, position) DO UPDATE SET {conflict}",
                values.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(candidate_id).bind(at);
            for (pos, json, score) in chunk {
                q = q.bind(*pos).bind(json.as_str()).bind(opt_float(*score));
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// A marker's score for a written answer; when the last one is marked, the theory
    /// score is complete.
    pub async fn response_mark(
        &mut self,
        candidate_id: i64,
        form: &FormContent,
        position: i64,
        score: f64,
    ) -> Result<CandidateRow> {
        let c = get_candidate(&mut self.tx, candidate_id).await?;
        if c.state != AttemptState::Submitted {
            return Err(bad(
                "attempt",
                "not_submitted",
                "answers are marked after the exam is submitted".into(),
                "试卷提交后才能阅卷".into(),
            ));
        }
        let Some((fi, content, _)) = form.items.iter().find(|(fi, _, _)| fi.position == position)
        else {
            return Err(bad(
                "position",
                "no_such_item",
                format!("the form has no item at position {position}"),
                format!("试卷中没有第 {position} 题"),
            ));
        };
        if content.kind.is_objective() {
            return Err(bad(
                "position",
                "objective",
                "objective items are scored automatically".into(),
                "客观题由系统自动评分".into(),
            ));
        }
        if !(0.0..=fi.points).contains(&score) {
            return Err(bad(
                "score",
                "out_of_range",
                format!("the score is between 0 and {}", fi.points),
                format!("得分应在 0 至 {} 之间", fi.points),
            ));
        }
        let actor = self.actor.clone();
        sqlx::query("UPDATE exam_responses SET score = $1, marked_by = $2 WHERE candidate_id = $3 AND position = $4")
            .bind(score)
            .bind(&actor)
            .bind(candidate_id)
            .bind(position)
            .execute(&mut *self.tx)
            .await?;
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM exam_responses WHERE candidate_id = $1 AND score IS NULL",
        )
        .bind(candidate_id)
        .fetch_one(&mut *self.tx)
        .await?;
        let earned: f64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(score), 0.0) FROM exam_responses WHERE candidate_id = $1",
        )
        .bind(candidate_id)
        .fetch_one(&mut *self.tx)
        .await?;
        sqlx::query("UPDATE exam_candidates SET unmarked = $1, theory_earned = CAST($2 AS DOUBLE PRECISION) WHERE id = $3")
            .bind(open)
            .bind(opt_float((open == 0).then_some(earned)))
            .bind(candidate_id)
            .execute(&mut *self.tx)
            .await?;
        self.audit(
            "mark",
            "exam_response",
            &format!("{candidate_id}/{position}"),
            None,
            Some(&serde_json::json!({"score": score})),
        )
        .await?;
        get_candidate(&mut self.tx, candidate_id).await
    }

    /// An examiner's scores on one task's observation scale; the total follows the
    /// scale's rule (critical criteria). Replaces the examiner's earlier scores.
    pub async fn practical_score_put(
        &mut self,
        candidate_id: i64,
        task_position: i64,
        examiner_id: i64,
        scale: &xcert_assess::item::ObservationScale,
        criteria: &BTreeMap<String, f64>,
        comment: Option<&str>,
    ) -> Result<f64> {
        for (id, p) in criteria {
            let Some(c) = scale.criteria.iter().find(|c| &c.id == id) else {
                return Err(bad(
                    "criteria",
                    "no_such_criterion",
                    format!("the scale has no criterion \"{id}\""),
                    format!("评分表中没有评分项“{id}”"),
                ));
            };
            if !(0.0..=c.points).contains(p) {
                return Err(bad(
                    "criteria",
                    "out_of_range",
                    format!("\"{}\" is scored 0–{}", c.text, c.points),
                    format!("“{}”的得分应在 0–{} 之间", c.text, c.points),
                ));
            }
        }
        let missing: Vec<&str> = scale
            .criteria
            .iter()
            .filter(|c| !criteria.contains_key(&c.id))
            .map(|c| c.text.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(bad(
                "criteria",
                "incomplete",
                format!("score every criterion; missing: {}", missing.join(", ")),
                format!("请为每个评分项打分，缺少：{}", missing.join("、")),
            ));
        }
        let total = scale.total(criteria);
        let t = now();
        sqlx::query(
            "INSERT INTO practical_scores (candidate_id, task_position, examiner_id, criteria_json, total, comment, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
             ON CONFLICT (candidate_id, task_position, examiner_id) DO UPDATE SET criteria_json = excluded.criteria_json,
                total = excluded.total, comment = excluded.comment, updated_at = excluded.updated_at",
        )
        .bind(candidate_id)
        .bind(task_position)
        .bind(examiner_id)
        .bind(serde_json::to_string(criteria).unwrap_or_default())
        .bind(total)
        .bind(comment)
        .bind(&t)
        .execute(&mut *self.tx)
        .await?;
        self.audit(
            "score",
            "practical",
            &format!("{candidate_id}/{task_position}"),
            None,
            Some(
                &serde_json::json!({"examiner": examiner_id, "criteria": criteria, "total": total}),
            ),
        )
        .await?;
        Ok(total)
    }

    /// Record a candidate's training (process) score, 0–100.
    pub async fn process_score_set(&mut self, candidate_id: i64, score: Option<f64>) -> Result<()> {
        if let Some(s) = score
            && !(0.0..=100.0).contains(&s)
        {
            return Err(bad(
                "process_score",
                "out_of_range",
                "the process score is between 0 and 100".into(),
                "过程性评价成绩应在 0 至 100 之间".into(),
            ));
        }
        let before = get_candidate(&mut self.tx, candidate_id).await?;
        sqlx::query(
            "UPDATE exam_candidates SET process_score = CAST($1 AS DOUBLE PRECISION) WHERE id = $2",
        )
        .bind(opt_float(score))
        .bind(candidate_id)
        .execute(&mut *self.tx)
        .await?;
        self.audit(
            "process_score",
            "exam_candidate",
            &candidate_id.to_string(),
            Some(&serde_json::json!({"process_score": before.process_score})),
            Some(&serde_json::json!({"process_score": score})),
        )
        .await?;
        Ok(())
    }

    /// Compute every candidate's result under the session's rule (recomputing replaces
    /// earlier results).
    pub async fn results_compute(
        &mut self,
        session: &SessionRow,
        standings: &[TaskStanding],
    ) -> Result<(usize, usize)> {
        let sql = format!("{CANDIDATE_SELECT} WHERE x.session_id = $1 ORDER BY x.ticket");
        let cands = sqlx::query(AssertSqlSafe(sql))
            .bind(session.id)
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(candidate_row)
            .collect::<Result<Vec<_>>>()?;
        let task_max: f64 = session.tasks.iter().map(|t| t.points).sum();
        let t = now();
        let mut passed = 0;
        for c in &cands {
            let theory = match (c.state, c.theory_earned, c.theory_possible) {
                (AttemptState::Submitted, Some(e), Some(p)) => Some(PartScore {
                    earned: e,
                    possible: p,
                }),
                _ => None,
            };
            let practical = if session.tasks.is_empty() {
                None
            } else {
                let mut sum = 0.0;
                let mut complete = true;
                for task in &session.tasks {
                    match standings
                        .iter()
                        .find(|s| s.candidate_id == c.id && s.task_position == task.position)
                        .and_then(|s| s.score)
                    {
                        Some(v) => sum += v,
                        None => complete = false,
                    }
                }
                complete.then_some(PartScore {
                    earned: sum,
                    possible: task_max,
                })
            };
            let process = c.process_score.map(|s| PartScore {
                earned: s,
                possible: 100.0,
            });
            let o = session.rule.decide(process, theory, practical);
            if o.passed {
                passed += 1;
            }
            sqlx::query(
                "INSERT INTO exam_results (candidate_id, process, theory, practical, total, passed, shortfalls_json, decided_at)
                 VALUES ($1, CAST($2 AS DOUBLE PRECISION), CAST($3 AS DOUBLE PRECISION), CAST($4 AS DOUBLE PRECISION), CAST($5 AS DOUBLE PRECISION), $6, $7, $8)
                 ON CONFLICT (candidate_id) DO UPDATE SET process = excluded.process, theory = excluded.theory,
                    practical = excluded.practical, total = excluded.total, passed = excluded.passed,
                    shortfalls_json = excluded.shortfalls_json, decided_at = excluded.decided_at",
            )
            .bind(c.id)
            .bind(opt_float(o.process))
            .bind(opt_float(o.theory))
            .bind(opt_float(o.practical))
            .bind(opt_float(o.total))
            .bind(o.passed as i64)
            .bind(serde_json::to_string(&o.shortfalls).unwrap_or_default())
            .bind(&t)
            .execute(&mut *self.tx)
            .await?;
        }
        self.audit(
            "compute_results",
            "exam_session",
            &session.id.to_string(),
            None,
            Some(&serde_json::json!({"candidates": cands.len(), "passed": passed, "rule": session.rule})),
        )
        .await?;
        Ok((cands.len(), passed))
    }

    /// Set the results rule of a certificate level (used by sessions created after).
    pub async fn result_rule_set(
        &mut self,
        certificate_id: i64,
        level: Level,
        rule: &ResultRule,
    ) -> Result<()> {
        rule.validate().map_err(StoreError::Invalid)?;
        let json = serde_json::to_string(rule).unwrap_or_default();
        sqlx::query(
            "INSERT INTO result_rules (certificate_id, level, rule_json, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (certificate_id, level) DO UPDATE SET rule_json = excluded.rule_json, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(certificate_id)
        .bind(level.as_str())
        .bind(&json)
        .bind(self.actor.clone())
        .bind(now())
        .execute(&mut *self.tx)
        .await?;
        self.audit(
            "set_rule",
            "result_rule",
            &format!("{certificate_id}/{}", level.as_str()),
            None,
            Some(&serde_json::to_value(rule).unwrap_or_default()),
        )
        .await?;
        Ok(())
    }

    /// Store an item-analysis report.
    #[allow(clippy::too_many_arguments)]
    pub async fn analysis_save(
        &mut self,
        certificate_id: i64,
        level: Level,
        session_id: Option<i64>,
        persons: i64,
        items: i64,
        report: &serde_json::Value,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO analysis_reports (certificate_id, level, session_id, persons, items_count, report_json, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(certificate_id)
        .bind(level.as_str())
        .bind(session_id)
        .bind(persons)
        .bind(items)
        .bind(report.to_string())
        .bind(self.actor.clone())
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        self.audit(
            "create",
            "analysis_report",
            &id.to_string(),
            None,
            Some(&serde_json::json!({"certificate": certificate_id, "level": level, "session": session_id, "persons": persons, "items": items})),
        )
        .await?;
        Ok(id)
    }
}

/// A stored analysis report.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisRow {
    pub id: i64,
    pub certificate_id: i64,
    pub level: Option<Level>,
    pub session_id: Option<i64>,
    pub persons: i64,
    pub items_count: i64,
    pub report: serde_json::Value,
    pub created_by: String,
    pub created_at: String,
}

fn analysis_row(r: &AnyRow, with_report: bool) -> Result<AnalysisRow> {
    let report = if with_report {
        let s: String = r.try_get("report_json")?;
        serde_json::from_str(&s).unwrap_or_default()
    } else {
        serde_json::Value::Null
    };
    Ok(AnalysisRow {
        id: r.try_get("id")?,
        certificate_id: r.try_get("certificate_id")?,
        level: parse_level(opt_str(r, "level")),
        session_id: r.try_get::<Option<i64>, _>("session_id").ok().flatten(),
        persons: r.try_get("persons")?,
        items_count: r.try_get("items_count")?,
        report,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    pub async fn analysis_get(&self, id: i64) -> Result<AnalysisRow> {
        let r = sqlx::query("SELECT * FROM analysis_reports WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("analysis report {id}")))?;
        analysis_row(&r, true)
    }

    pub async fn analyses(&self, certificate_id: i64) -> Result<Vec<AnalysisRow>> {
        sqlx::query(
            "SELECT id, certificate_id, level, session_id, persons, items_count, created_by, created_at
             FROM analysis_reports WHERE certificate_id = $1 ORDER BY id DESC LIMIT 100",
        )
        .bind(certificate_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| analysis_row(r, false))
        .collect()
    }

    /// Responses of every submitted attempt at a certificate level, across sessions.
    pub async fn level_responses(
        &self,
        certificate_id: i64,
        level: Level,
    ) -> Result<Vec<ScoredResponse>> {
        self.scored_responses(
            "s.certificate_id = $1 AND s.level = $2",
            certificate_id,
            Some(level),
        )
        .await
    }

    async fn scored_responses(
        &self,
        cond: &str,
        id: i64,
        level: Option<Level>,
    ) -> Result<Vec<ScoredResponse>> {
        let sql = format!(
            "SELECT x.id, x.form_id, r.position, fi.item_id, fi.points, r.response_json, r.score
             FROM exam_candidates x JOIN exam_sessions s ON s.id = x.session_id
             JOIN exam_responses r ON r.candidate_id = x.id
             JOIN form_items fi ON fi.form_id = x.form_id AND fi.position = r.position
             WHERE {cond} AND x.state = 'submitted'
             ORDER BY x.id, r.position"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(id);
        if let Some(l) = level {
            q = q.bind(l.as_str());
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let json: String = r.try_get("response_json")?;
                Ok(ScoredResponse {
                    candidate_id: r.try_get("id")?,
                    form_id: r.try_get("form_id")?,
                    position: r.try_get("position")?,
                    item_id: r.try_get("item_id")?,
                    points: r.try_get("points")?,
                    response: serde_json::from_str(&json)
                        .map_err(|e| StoreError::Other(format!("stored response: {e}")))?,
                    score: r.try_get::<Option<f64>, _>("score").ok().flatten(),
                })
            })
            .collect()
    }
}

/// One response of a submitted attempt, with its item and the points the form gives it.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredResponse {
    pub candidate_id: i64,
    pub form_id: i64,
    pub position: i64,
    pub item_id: i64,
    pub points: f64,
    pub response: Response,
    pub score: Option<f64>,
}
