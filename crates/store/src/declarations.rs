//! Declaration and review (申报与评审): batches, applications, proposals with their annexes
//! and versions, modification opinions, the task breakdown, notifications, the expert pool
//! and its assignments, objections and verifications. The rules of who may do what when
//! live in `xcert_declare`; these queries keep the rows, each change audited in its
//! transaction, each state change guarded by the state it expects (so two people acting at
//! once cannot both move a proposal).

use crate::db::{WriteTx, now, opt_float, opt_str};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;
use xcert_declare::diff::Snapshot;
use xcert_declare::stats::ProposalFact;
use xcert_declare::tasks::TaskState;
use xcert_declare::{BatchSettings, BatchState, ProposalState};
use xcert_domain::FieldError;

fn bad(col: &str, v: &str) -> StoreError {
    StoreError::Other(format!("unreadable {col} \"{v}\" in the database"))
}

fn opt_i64(r: &AnyRow, col: &str) -> Option<i64> {
    r.try_get::<Option<i64>, _>(col).ok().flatten()
}

fn opt_f64(r: &AnyRow, col: &str) -> Option<f64> {
    r.try_get::<Option<f64>, _>(col).ok().flatten()
}

fn stale(what: &str, expected: &str, found: &str) -> StoreError {
    StoreError::Conflict(FieldError::new(
        "state",
        "changed",
        format!("the {what} is now \"{found}\", not \"{expected}\": reload and try again"),
        format!("该{what}的状态已变为“{found}”（不是“{expected}”），请刷新后重试"),
    ))
}

/// A batch as stored.
#[derive(Debug, Clone, Serialize)]
pub struct BatchRow {
    pub id: i64,
    pub number: i64,
    pub title_zh: String,
    pub state: BatchState,
    pub settings: BatchSettings,
    pub publicity_from: Option<String>,
    pub publicity_until: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
}

impl BatchRow {
    fn from_row(r: &AnyRow) -> Result<BatchRow> {
        let state: String = r.try_get("state")?;
        let settings: String = r.try_get("settings")?;
        Ok(BatchRow {
            id: r.try_get("id")?,
            number: r.try_get("number")?,
            title_zh: r.try_get("title_zh")?,
            state: BatchState::parse(&state).ok_or_else(|| bad("batch state", &state))?,
            settings: serde_json::from_str(&settings)
                .map_err(|e| StoreError::Other(format!("batch settings: {e}")))?,
            publicity_from: opt_str(r, "publicity_from"),
            publicity_until: opt_str(r, "publicity_until"),
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            published_at: opt_str(r, "published_at"),
        })
    }

    /// Whether the publicity period has ended at `at` (RFC 3339).
    pub fn publicity_over(&self, at: &str) -> bool {
        self.publicity_until.as_deref().is_some_and(|u| u <= at)
    }

    /// Whether `at` lies within the publicity period.
    pub fn in_publicity(&self, at: &str) -> bool {
        self.state == BatchState::Publicity
            && self.publicity_from.as_deref().is_some_and(|f| f <= at)
            && !self.publicity_over(at)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplicationRow {
    pub id: i64,
    pub batch_id: i64,
    pub teo_id: i64,
    pub teo_name: String,
    pub teo_province: Option<String>,
    pub credit_code: String,
    pub lead_unit: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub created_by: String,
    pub created_at: String,
}

impl ApplicationRow {
    fn from_row(r: &AnyRow) -> Result<ApplicationRow> {
        Ok(ApplicationRow {
            id: r.try_get("id")?,
            batch_id: r.try_get("batch_id")?,
            teo_id: r.try_get("teo_id")?,
            teo_name: r.try_get("teo_name")?,
            teo_province: opt_str(r, "teo_province"),
            credit_code: r.try_get("credit_code")?,
            lead_unit: r.try_get("lead_unit")?,
            contact_name: r.try_get("contact_name")?,
            contact_phone: r.try_get("contact_phone")?,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

const APPLICATION: &str = "SELECT a.*, o.name_zh AS teo_name, o.province AS teo_province
    FROM decl_applications a JOIN organizations o ON o.id = a.teo_id";

#[derive(Debug, Clone, Serialize)]
pub struct ProposalRow {
    pub id: i64,
    pub application_id: i64,
    pub batch_id: i64,
    pub teo_id: i64,
    pub teo_name: String,
    pub teo_province: Option<String>,
    pub certificate_id: Option<i64>,
    pub certificate_code: Option<String>,
    pub name_zh: String,
    pub field: String,
    pub summary: String,
    pub state: ProposalState,
    pub version: i64,
    pub standard_version: Option<i64>,
    pub bank_items: i64,
    pub returned_from: Option<ProposalState>,
    pub score: Option<f64>,
    pub formal_note: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub submitted_at: Option<String>,
}

impl ProposalRow {
    fn from_row(r: &AnyRow) -> Result<ProposalRow> {
        let state: String = r.try_get("state")?;
        Ok(ProposalRow {
            id: r.try_get("id")?,
            application_id: r.try_get("application_id")?,
            batch_id: r.try_get("batch_id")?,
            teo_id: r.try_get("teo_id")?,
            teo_name: r.try_get("teo_name")?,
            teo_province: opt_str(r, "teo_province"),
            certificate_id: opt_i64(r, "certificate_id"),
            certificate_code: opt_str(r, "certificate_code"),
            name_zh: r.try_get("name_zh")?,
            field: r.try_get("field")?,
            summary: r.try_get("summary")?,
            state: ProposalState::parse(&state).ok_or_else(|| bad("proposal state", &state))?,
            version: r.try_get("version")?,
            standard_version: opt_i64(r, "standard_version"),
            bank_items: r.try_get("bank_items")?,
            returned_from: opt_str(r, "returned_from").and_then(|s| ProposalState::parse(&s)),
            score: opt_f64(r, "score"),
            formal_note: opt_str(r, "formal_note"),
            decision_reason: opt_str(r, "decision_reason"),
            decided_by: opt_str(r, "decided_by"),
            decided_at: opt_str(r, "decided_at"),
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            submitted_at: opt_str(r, "submitted_at"),
        })
    }

    fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "state": self.state, "version": self.version, "name_zh": self.name_zh,
            "field": self.field, "score": self.score, "returned_from": self.returned_from,
            "decision_reason": self.decision_reason,
        })
    }
}

const PROPOSAL: &str =
    "SELECT p.*, o.name_zh AS teo_name, o.province AS teo_province, c.code AS certificate_code
    FROM decl_proposals p JOIN organizations o ON o.id = p.teo_id
    LEFT JOIN certificates c ON c.id = p.certificate_id";

/// A new proposal's content (also what an edit replaces).
#[derive(Debug, Clone)]
pub struct ProposalContentRow {
    pub certificate_id: Option<i64>,
    pub name_zh: String,
    pub field: String,
    pub summary: String,
    pub standard_version: Option<i64>,
    pub bank_items: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnnexRow {
    pub proposal_id: i64,
    pub annex: i64,
    pub file_name: String,
    pub object_key: String,
    /// "sha256" (uploads) or "blake3" (files found by a consolidation run).
    pub hash_kind: String,
    pub size: i64,
    pub source: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

impl AnnexRow {
    fn from_row(r: &AnyRow) -> Result<AnnexRow> {
        Ok(AnnexRow {
            proposal_id: r.try_get("proposal_id")?,
            annex: r.try_get("annex")?,
            file_name: r.try_get("file_name")?,
            object_key: r.try_get("object_key")?,
            hash_kind: r.try_get("hash_kind")?,
            size: r.try_get("size")?,
            source: r.try_get("source")?,
            uploaded_by: r.try_get("uploaded_by")?,
            uploaded_at: r.try_get("uploaded_at")?,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionRow {
    pub version: i64,
    pub snapshot: Snapshot,
    pub submitted_by: String,
    pub submitted_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpinionRow {
    pub id: i64,
    pub proposal_id: i64,
    pub stage: ProposalState,
    pub opinion: String,
    pub deadline: String,
    pub issued_by: String,
    pub issued_at: String,
    pub answered_version: Option<i64>,
    pub answered_at: Option<String>,
}

impl OpinionRow {
    fn from_row(r: &AnyRow) -> Result<OpinionRow> {
        let stage: String = r.try_get("stage")?;
        Ok(OpinionRow {
            id: r.try_get("id")?,
            proposal_id: r.try_get("proposal_id")?,
            stage: ProposalState::parse(&stage).ok_or_else(|| bad("opinion stage", &stage))?,
            opinion: r.try_get("opinion")?,
            deadline: r.try_get("deadline")?,
            issued_by: r.try_get("issued_by")?,
            issued_at: r.try_get("issued_at")?,
            answered_version: opt_i64(r, "answered_version"),
            answered_at: opt_str(r, "answered_at"),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitRow {
    pub id: i64,
    pub application_id: i64,
    pub name: String,
    pub org_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    pub id: i64,
    pub application_id: i64,
    pub batch_id: i64,
    pub teo_id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub assignee: String,
    pub title: String,
    pub proposal_id: Option<i64>,
    pub proposal_name: Option<String>,
    pub annex: Option<i64>,
    pub deadline: String,
    pub state: TaskState,
    pub note: Option<String>,
    pub file_name: Option<String>,
    pub object_key: Option<String>,
    pub done_by: Option<String>,
    pub done_at: Option<String>,
    pub reminded_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

impl TaskRow {
    fn from_row(r: &AnyRow) -> Result<TaskRow> {
        let state: String = r.try_get("state")?;
        Ok(TaskRow {
            id: r.try_get("id")?,
            application_id: r.try_get("application_id")?,
            batch_id: r.try_get("batch_id")?,
            teo_id: r.try_get("teo_id")?,
            unit_id: r.try_get("unit_id")?,
            unit_name: r.try_get("unit_name")?,
            assignee: r.try_get("assignee")?,
            title: r.try_get("title")?,
            proposal_id: opt_i64(r, "proposal_id"),
            proposal_name: opt_str(r, "proposal_name"),
            annex: opt_i64(r, "annex"),
            deadline: r.try_get("deadline")?,
            state: TaskState::parse(&state).ok_or_else(|| bad("task state", &state))?,
            note: opt_str(r, "note"),
            file_name: opt_str(r, "file_name"),
            object_key: opt_str(r, "object_key"),
            done_by: opt_str(r, "done_by"),
            done_at: opt_str(r, "done_at"),
            reminded_at: opt_str(r, "reminded_at"),
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

const TASK: &str = "SELECT t.*, a.batch_id AS batch_id, a.teo_id AS teo_id, u.name AS unit_name, p.name_zh AS proposal_name
    FROM decl_tasks t JOIN decl_applications a ON a.id = t.application_id
    JOIN decl_units u ON u.id = t.unit_id
    LEFT JOIN decl_proposals p ON p.id = t.proposal_id";

/// A task to create.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub application_id: i64,
    pub unit_id: i64,
    pub assignee: String,
    pub title: String,
    pub proposal_id: Option<i64>,
    pub annex: Option<i64>,
    pub deadline: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotificationRow {
    pub id: i64,
    pub message_zh: String,
    pub message_en: String,
    pub link: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpertRow {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub org_id: Option<i64>,
    pub org_name: String,
    pub province: Option<String>,
    pub fields: Vec<String>,
    pub active: bool,
    pub created_at: String,
}

impl ExpertRow {
    fn from_row(r: &AnyRow) -> Result<ExpertRow> {
        let fields: String = r.try_get("fields")?;
        Ok(ExpertRow {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            username: r.try_get("username")?,
            name: r.try_get("name")?,
            org_id: opt_i64(r, "org_id"),
            org_name: r.try_get("org_name")?,
            province: opt_str(r, "province"),
            fields: serde_json::from_str(&fields).unwrap_or_default(),
            active: r.try_get::<i64, _>("active")? != 0,
            created_at: r.try_get("created_at")?,
        })
    }
}

const EXPERT: &str =
    "SELECT e.*, u.username AS username FROM decl_experts e JOIN users u ON u.id = e.user_id";

#[derive(Debug, Clone)]
pub struct NewExpert {
    pub user_id: i64,
    pub name: String,
    pub org_id: Option<i64>,
    pub org_name: String,
    pub province: Option<String>,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssignmentRow {
    pub id: i64,
    pub proposal_id: i64,
    pub expert_id: i64,
    pub expert_name: String,
    pub expert_username: String,
    pub seed: i64,
    pub drawn_by: String,
    pub drawn_at: String,
    pub scores: Option<BTreeMap<String, f64>>,
    pub total: Option<f64>,
    pub comment: Option<String>,
    pub submitted_at: Option<String>,
    pub outlier: bool,
}

impl AssignmentRow {
    fn from_row(r: &AnyRow) -> Result<AssignmentRow> {
        Ok(AssignmentRow {
            id: r.try_get("id")?,
            proposal_id: r.try_get("proposal_id")?,
            expert_id: r.try_get("expert_id")?,
            expert_name: r.try_get("expert_name")?,
            expert_username: r.try_get("expert_username")?,
            seed: r.try_get("seed")?,
            drawn_by: r.try_get("drawn_by")?,
            drawn_at: r.try_get("drawn_at")?,
            scores: opt_str(r, "scores").and_then(|s| serde_json::from_str(&s).ok()),
            total: opt_f64(r, "total"),
            comment: opt_str(r, "comment"),
            submitted_at: opt_str(r, "submitted_at"),
            outlier: r.try_get::<i64, _>("outlier")? != 0,
        })
    }
}

const ASSIGNMENT: &str = "SELECT s.*, e.name AS expert_name, u.username AS expert_username
    FROM decl_assignments s JOIN decl_experts e ON e.id = s.expert_id JOIN users u ON u.id = e.user_id";

#[derive(Debug, Clone, Serialize)]
pub struct ObjectionRow {
    pub id: i64,
    pub batch_id: i64,
    pub proposal_id: i64,
    pub proposal_name: String,
    pub teo_name: String,
    pub filer_name: String,
    pub filer_contact: String,
    pub content: String,
    pub filed_at: String,
    /// "open", "upheld" or "dismissed".
    pub state: String,
    pub response: Option<String>,
    pub handled_by: Option<String>,
    pub handled_at: Option<String>,
}

impl ObjectionRow {
    fn from_row(r: &AnyRow) -> Result<ObjectionRow> {
        Ok(ObjectionRow {
            id: r.try_get("id")?,
            batch_id: r.try_get("batch_id")?,
            proposal_id: r.try_get("proposal_id")?,
            proposal_name: r.try_get("proposal_name")?,
            teo_name: r.try_get("teo_name")?,
            filer_name: r.try_get("filer_name")?,
            filer_contact: r.try_get("filer_contact")?,
            content: r.try_get("content")?,
            filed_at: r.try_get("filed_at")?,
            state: r.try_get("state")?,
            response: opt_str(r, "response"),
            handled_by: opt_str(r, "handled_by"),
            handled_at: opt_str(r, "handled_at"),
        })
    }
}

const OBJECTION: &str = "SELECT j.*, p.name_zh AS proposal_name, o.name_zh AS teo_name
    FROM decl_objections j JOIN decl_proposals p ON p.id = j.proposal_id
    JOIN organizations o ON o.id = p.teo_id";

#[derive(Debug, Clone, Serialize)]
pub struct VerificationRow {
    pub batch_id: i64,
    pub teo_id: i64,
    pub teo_name: String,
    pub credit_code: String,
    pub credit_ok: bool,
    pub tax_ok: bool,
    pub passed: bool,
    pub evidence: String,
    pub file_name: Option<String>,
    pub object_key: Option<String>,
    pub checked_by: String,
    pub checked_at: String,
}

impl VerificationRow {
    fn from_row(r: &AnyRow) -> Result<VerificationRow> {
        let credit_ok = r.try_get::<i64, _>("credit_ok")? != 0;
        let tax_ok = r.try_get::<i64, _>("tax_ok")? != 0;
        Ok(VerificationRow {
            batch_id: r.try_get("batch_id")?,
            teo_id: r.try_get("teo_id")?,
            teo_name: r.try_get("teo_name")?,
            credit_code: r.try_get("credit_code")?,
            credit_ok,
            tax_ok,
            passed: credit_ok && tax_ok,
            evidence: r.try_get("evidence")?,
            file_name: opt_str(r, "file_name"),
            object_key: opt_str(r, "object_key"),
            checked_by: r.try_get("checked_by")?,
            checked_at: r.try_get("checked_at")?,
        })
    }
}

const VERIFICATION: &str = "SELECT v.*, o.name_zh AS teo_name, o.credit_code AS credit_code
    FROM decl_verifications v JOIN organizations o ON o.id = v.teo_id";

/// A verification result to record.
#[derive(Debug, Clone)]
pub struct NewVerification {
    pub credit_ok: bool,
    pub tax_ok: bool,
    pub evidence: String,
    pub file: Option<(String, String)>,
}

/// A proposal of a TEO across batches (its history page).
#[derive(Debug, Clone, Serialize)]
pub struct TeoProposalRow {
    pub batch_id: i64,
    pub batch_number: i64,
    pub batch_title: String,
    pub batch_state: BatchState,
    pub proposal: ProposalRow,
}

async fn fetch_all<T>(
    store: &Store,
    sql: String,
    binds: Vec<i64>,
    f: fn(&AnyRow) -> Result<T>,
) -> Result<Vec<T>> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b);
    }
    q.fetch_all(&store.pool).await?.iter().map(f).collect()
}

/// One row by id through `f`, or `NotFound` naming `what`.
async fn fetch_by_id<T>(
    store: &Store,
    sql: String,
    id: i64,
    what: &str,
    f: fn(&AnyRow) -> Result<T>,
) -> Result<T> {
    fetch_opt(store, sql, id, f)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("{what} {id}")))
}

async fn fetch_opt<T>(
    store: &Store,
    sql: String,
    id: i64,
    f: fn(&AnyRow) -> Result<T>,
) -> Result<Option<T>> {
    let r = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&store.pool)
        .await?;
    r.as_ref().map(f).transpose()
}

impl Store {
    pub async fn batch_list(&self, include_drafts: bool) -> Result<Vec<BatchRow>> {
        let sql = if include_drafts {
            "SELECT * FROM decl_batches ORDER BY number DESC"
        } else {
            "SELECT * FROM decl_batches WHERE state <> 'draft' ORDER BY number DESC"
        };
        fetch_all(self, sql.into(), vec![], BatchRow::from_row).await
    }

    pub async fn batch_get(&self, id: i64) -> Result<BatchRow> {
        fetch_by_id(
            self,
            "SELECT * FROM decl_batches WHERE id = $1".into(),
            id,
            "batch",
            BatchRow::from_row,
        )
        .await
    }

    pub async fn application_get(&self, id: i64) -> Result<ApplicationRow> {
        fetch_by_id(
            self,
            format!("{APPLICATION} WHERE a.id = $1"),
            id,
            "application",
            ApplicationRow::from_row,
        )
        .await
    }

    pub async fn application_of(
        &self,
        batch_id: i64,
        teo_id: i64,
    ) -> Result<Option<ApplicationRow>> {
        let r = sqlx::query(AssertSqlSafe(format!(
            "{APPLICATION} WHERE a.batch_id = $1 AND a.teo_id = $2"
        )))
        .bind(batch_id)
        .bind(teo_id)
        .fetch_optional(&self.pool)
        .await?;
        r.as_ref().map(ApplicationRow::from_row).transpose()
    }

    pub async fn applications_of_batch(&self, batch_id: i64) -> Result<Vec<ApplicationRow>> {
        fetch_all(
            self,
            format!("{APPLICATION} WHERE a.batch_id = $1 ORDER BY o.name_zh"),
            vec![batch_id],
            ApplicationRow::from_row,
        )
        .await
    }

    /// Applications whose tasks include one assigned to `username` (a unit's view).
    pub async fn applications_with_tasks_of(&self, username: &str) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar(
                "SELECT DISTINCT application_id FROM decl_tasks WHERE assignee = $1",
            )
            .bind(username)
            .fetch_all(&self.pool)
            .await?,
        )
    }

    pub async fn proposal_get(&self, id: i64) -> Result<ProposalRow> {
        fetch_by_id(
            self,
            format!("{PROPOSAL} WHERE p.id = $1"),
            id,
            "proposal",
            ProposalRow::from_row,
        )
        .await
    }

    pub async fn proposals_of_application(&self, application_id: i64) -> Result<Vec<ProposalRow>> {
        fetch_all(
            self,
            format!("{PROPOSAL} WHERE p.application_id = $1 ORDER BY p.id"),
            vec![application_id],
            ProposalRow::from_row,
        )
        .await
    }

    /// A batch's proposals, optionally in one state, ordered by score (best first) then id.
    pub async fn proposals_of_batch(
        &self,
        batch_id: i64,
        state: Option<ProposalState>,
    ) -> Result<Vec<ProposalRow>> {
        let mut sql = format!("{PROPOSAL} WHERE p.batch_id = $1");
        if let Some(s) = state {
            sql.push_str(&format!(" AND p.state = '{}'", s.as_str()));
        }
        sql.push_str(" ORDER BY CASE WHEN p.score IS NULL THEN 1 ELSE 0 END, p.score DESC, p.id");
        fetch_all(self, sql, vec![batch_id], ProposalRow::from_row).await
    }

    pub async fn proposal_state_counts(
        &self,
        batch_id: i64,
    ) -> Result<BTreeMap<ProposalState, usize>> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n FROM decl_proposals WHERE batch_id = $1 GROUP BY state",
        )
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await?;
        let mut m = BTreeMap::new();
        for r in rows {
            let s: String = r.try_get("state")?;
            let n: i64 = r.try_get("n")?;
            if let Some(st) = ProposalState::parse(&s) {
                m.insert(st, n as usize);
            }
        }
        Ok(m)
    }

    /// A TEO's proposals in every batch it can see (newest batch first).
    pub async fn proposals_of_teo(&self, teo_id: i64) -> Result<Vec<TeoProposalRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{PROPOSAL} WHERE p.teo_id = $1 ORDER BY p.batch_id DESC, p.id"
        )))
        .bind(teo_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        let mut batches: BTreeMap<i64, BatchRow> = BTreeMap::new();
        for r in rows {
            let p = ProposalRow::from_row(&r)?;
            if let std::collections::btree_map::Entry::Vacant(e) = batches.entry(p.batch_id) {
                e.insert(self.batch_get(p.batch_id).await?);
            }
            let b = &batches[&p.batch_id];
            out.push(TeoProposalRow {
                batch_id: b.id,
                batch_number: b.number,
                batch_title: b.title_zh.clone(),
                batch_state: b.state,
                proposal: p,
            });
        }
        Ok(out)
    }

    pub async fn annexes_of(&self, proposal_id: i64) -> Result<Vec<AnnexRow>> {
        fetch_all(
            self,
            "SELECT * FROM decl_annexes WHERE proposal_id = $1 ORDER BY annex".into(),
            vec![proposal_id],
            AnnexRow::from_row,
        )
        .await
    }

    pub async fn versions_of(&self, proposal_id: i64) -> Result<Vec<VersionRow>> {
        let rows =
            sqlx::query("SELECT * FROM decl_versions WHERE proposal_id = $1 ORDER BY version")
                .bind(proposal_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                let snap: String = r.try_get("snapshot")?;
                Ok(VersionRow {
                    version: r.try_get("version")?,
                    snapshot: serde_json::from_str(&snap)
                        .map_err(|e| StoreError::Other(format!("proposal snapshot: {e}")))?,
                    submitted_by: r.try_get("submitted_by")?,
                    submitted_at: r.try_get("submitted_at")?,
                })
            })
            .collect()
    }

    pub async fn opinions_of(&self, proposal_id: i64) -> Result<Vec<OpinionRow>> {
        fetch_all(
            self,
            "SELECT * FROM decl_opinions WHERE proposal_id = $1 ORDER BY id".into(),
            vec![proposal_id],
            OpinionRow::from_row,
        )
        .await
    }

    pub async fn units_of(&self, application_id: i64) -> Result<Vec<UnitRow>> {
        let rows = sqlx::query("SELECT * FROM decl_units WHERE application_id = $1 ORDER BY id")
            .bind(application_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(UnitRow {
                    id: r.try_get("id")?,
                    application_id: r.try_get("application_id")?,
                    name: r.try_get("name")?,
                    org_id: opt_i64(r, "org_id"),
                })
            })
            .collect()
    }

    pub async fn tasks_of_application(&self, application_id: i64) -> Result<Vec<TaskRow>> {
        fetch_all(
            self,
            format!("{TASK} WHERE t.application_id = $1 ORDER BY t.deadline, t.id"),
            vec![application_id],
            TaskRow::from_row,
        )
        .await
    }

    pub async fn tasks_of_assignee(&self, username: &str) -> Result<Vec<TaskRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{TASK} WHERE t.assignee = $1 ORDER BY t.state DESC, t.deadline, t.id"
        )))
        .bind(username)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(TaskRow::from_row).collect()
    }

    pub async fn task_get(&self, id: i64) -> Result<TaskRow> {
        fetch_by_id(
            self,
            format!("{TASK} WHERE t.id = $1"),
            id,
            "task",
            TaskRow::from_row,
        )
        .await
    }

    pub async fn notifications_of(
        &self,
        username: &str,
        limit: i64,
    ) -> Result<Vec<NotificationRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT * FROM notifications WHERE username = $1 ORDER BY id DESC LIMIT {}",
            limit.clamp(1, 500)
        )))
        .bind(username)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NotificationRow {
                    id: r.try_get("id")?,
                    message_zh: r.try_get("message_zh")?,
                    message_en: r.try_get("message_en")?,
                    link: r.try_get("link")?,
                    created_at: r.try_get("created_at")?,
                    read_at: opt_str(r, "read_at"),
                })
            })
            .collect()
    }

    pub async fn unread_notifications(&self, username: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE username = $1 AND read_at IS NULL",
        )
        .bind(username)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn experts(&self) -> Result<Vec<ExpertRow>> {
        fetch_all(
            self,
            format!("{EXPERT} ORDER BY e.name, e.id"),
            vec![],
            ExpertRow::from_row,
        )
        .await
    }

    pub async fn expert_of_user(&self, user_id: i64) -> Result<Option<ExpertRow>> {
        fetch_opt(
            self,
            format!("{EXPERT} WHERE e.user_id = $1"),
            user_id,
            ExpertRow::from_row,
        )
        .await
    }

    pub async fn assignments_of_proposal(&self, proposal_id: i64) -> Result<Vec<AssignmentRow>> {
        fetch_all(
            self,
            format!("{ASSIGNMENT} WHERE s.proposal_id = $1 ORDER BY s.id"),
            vec![proposal_id],
            AssignmentRow::from_row,
        )
        .await
    }

    pub async fn assignments_of_expert(&self, expert_id: i64) -> Result<Vec<AssignmentRow>> {
        fetch_all(
            self,
            format!("{ASSIGNMENT} WHERE s.expert_id = $1 ORDER BY s.id DESC"),
            vec![expert_id],
            AssignmentRow::from_row,
        )
        .await
    }

    /// Every assignment of a batch (for the review overview and the statistics).
    pub async fn assignments_of_batch(&self, batch_id: i64) -> Result<Vec<AssignmentRow>> {
        fetch_all(
            self,
            format!(
                "{ASSIGNMENT} JOIN decl_proposals p ON p.id = s.proposal_id WHERE p.batch_id = $1 ORDER BY s.proposal_id, s.id"
            ),
            vec![batch_id],
            AssignmentRow::from_row,
        )
        .await
    }

    pub async fn assignment_get(&self, id: i64) -> Result<Option<AssignmentRow>> {
        fetch_opt(
            self,
            format!("{ASSIGNMENT} WHERE s.id = $1"),
            id,
            AssignmentRow::from_row,
        )
        .await
    }

    pub async fn objections_of_batch(&self, batch_id: i64) -> Result<Vec<ObjectionRow>> {
        fetch_all(
            self,
            format!("{OBJECTION} WHERE j.batch_id = $1 ORDER BY j.id"),
            vec![batch_id],
            ObjectionRow::from_row,
        )
        .await
    }

    pub async fn objection_get(&self, id: i64) -> Result<ObjectionRow> {
        fetch_by_id(
            self,
            format!("{OBJECTION} WHERE j.id = $1"),
            id,
            "objection",
            ObjectionRow::from_row,
        )
        .await
    }

    pub async fn verifications_of_batch(&self, batch_id: i64) -> Result<Vec<VerificationRow>> {
        fetch_all(
            self,
            format!("{VERIFICATION} WHERE v.batch_id = $1 ORDER BY o.name_zh"),
            vec![batch_id],
            VerificationRow::from_row,
        )
        .await
    }

    /// What a proposal carries from the registry: the certificate's newest published
    /// standard version and the number of approved items in its question bank.
    pub async fn certificate_declaration_facts(
        &self,
        certificate_id: i64,
    ) -> Result<(Option<i64>, i64)> {
        let version: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(version) FROM standard_versions WHERE certificate_id = $1 AND status = 'published'",
        )
        .bind(certificate_id)
        .fetch_one(&self.pool)
        .await?;
        let items: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM items WHERE certificate_id = $1 AND review_status = 'approved'",
        )
        .bind(certificate_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((version, items))
    }

    /// The file a consolidation run found for an annex of a certificate: the most confident
    /// one whose detected certificate name is the proposal's, or part of it, or contains it
    /// (materials often say "继电保护" for "继电保护检修"). Returns (relative path, blake3
    /// hash, size).
    pub async fn ingest_annex_file(
        &self,
        run_id: i64,
        annex: &str,
        certificate_name: &str,
    ) -> Result<Option<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT rel, hash, size, certificate FROM ingest_files
             WHERE run_id = $1 AND annex = $2 AND hash IS NOT NULL AND certificate IS NOT NULL
             ORDER BY annex_confidence DESC, id",
        )
        .bind(run_id)
        .bind(annex)
        .fetch_all(&self.pool)
        .await?;
        let name = certificate_name.trim();
        let rank = |c: &str| {
            if c == name {
                Some(0)
            } else if !c.is_empty() && (name.contains(c) || c.contains(name)) {
                Some(1)
            } else {
                None
            }
        };
        let mut best: Option<(u8, &AnyRow)> = None;
        for r in &rows {
            let c: String = r.try_get("certificate")?;
            if let Some(k) = rank(c.trim())
                && best.is_none_or(|(b, _)| k < b)
            {
                best = Some((k, r));
            }
        }
        best.map(|(_, r)| Ok((r.try_get("rel")?, r.try_get("hash")?, r.try_get("size")?)))
            .transpose()
    }

    /// The submitted proposals of a batch as the statistics count them.
    pub async fn stat_facts(&self, batch_id: i64) -> Result<Vec<ProposalFact>> {
        let rows = sqlx::query(
            "SELECT p.teo_id, p.application_id, p.field, p.state, o.province
             FROM decl_proposals p JOIN organizations o ON o.id = p.teo_id
             WHERE p.batch_id = $1 AND p.state <> 'draft'",
        )
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(ProposalFact {
                    teo_id: r.try_get("teo_id")?,
                    application_id: r.try_get("application_id")?,
                    province: opt_str(r, "province"),
                    field: r.try_get("field")?,
                    shortlisted: state == ProposalState::Approved.as_str(),
                })
            })
            .collect()
    }
}

impl WriteTx {
    async fn batch_row(&mut self, id: i64) -> Result<BatchRow> {
        let r = sqlx::query("SELECT * FROM decl_batches WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("batch {id}")))?;
        BatchRow::from_row(&r)
    }

    pub(crate) fn number_taken(n: i64) -> StoreError {
        StoreError::Conflict(FieldError::new(
            "number",
            "taken",
            format!("batch number {n} already exists"),
            format!("批次编号 {n} 已存在"),
        ))
    }

    pub async fn batch_create(&mut self, s: &BatchSettings) -> Result<BatchRow> {
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM decl_batches WHERE number = $1")
                .bind(s.number)
                .fetch_optional(&mut *self.tx)
                .await?;
        if taken.is_some() {
            return Err(Self::number_taken(s.number));
        }
        let t = now();
        let json = serde_json::to_string(s).map_err(|e| StoreError::Other(e.to_string()))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO decl_batches (number, title_zh, state, settings, apply_from, apply_until, created_by, created_at, updated_at)
             VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(s.number)
        .bind(&s.title_zh)
        .bind(&json)
        .bind(s.apply_from.to_string())
        .bind(s.apply_until.to_string())
        .bind(self.actor.clone())
        .bind(&t)
        .fetch_one(&mut *self.tx)
        .await?;
        let row = self.batch_row(id).await?;
        let after = serde_json::json!({"number": s.number, "title_zh": s.title_zh, "settings": s});
        self.audit("create", "batch", &id.to_string(), None, Some(&after))
            .await?;
        Ok(row)
    }

    /// Replace a batch's settings (only a draft's may change: the caller checks).
    pub async fn batch_update(&mut self, id: i64, s: &BatchSettings) -> Result<BatchRow> {
        let before = self.batch_row(id).await?;
        if before.state != BatchState::Draft {
            return Err(stale(
                "batch",
                BatchState::Draft.as_str(),
                before.state.as_str(),
            ));
        }
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM decl_batches WHERE number = $1 AND id <> $2")
                .bind(s.number)
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
        if taken.is_some() {
            return Err(Self::number_taken(s.number));
        }
        let json = serde_json::to_string(s).map_err(|e| StoreError::Other(e.to_string()))?;
        sqlx::query(
            "UPDATE decl_batches SET number = $1, title_zh = $2, settings = $3, apply_from = $4, apply_until = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(s.number)
        .bind(&s.title_zh)
        .bind(&json)
        .bind(s.apply_from.to_string())
        .bind(s.apply_until.to_string())
        .bind(now())
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        let b = serde_json::json!({"settings": before.settings});
        let a = serde_json::json!({"settings": s});
        self.audit("update", "batch", &id.to_string(), Some(&b), Some(&a))
            .await?;
        self.batch_row(id).await
    }

    /// Move a batch from `from` to `to`; refused when someone moved it meanwhile. Entering
    /// publicity sets its period; publishing stamps the time.
    pub async fn batch_set_state(
        &mut self,
        id: i64,
        from: BatchState,
        to: BatchState,
        publicity: Option<(String, String)>,
    ) -> Result<BatchRow> {
        let t = now();
        let n = sqlx::query(
            "UPDATE decl_batches SET state = $1, updated_at = $2,
               publicity_from = COALESCE($3, publicity_from), publicity_until = COALESCE($4, publicity_until),
               published_at = CASE WHEN $1 = 'published' THEN $2 ELSE published_at END
             WHERE id = $5 AND state = $6",
        )
        .bind(to.as_str())
        .bind(&t)
        .bind(publicity.as_ref().map(|p| p.0.clone()))
        .bind(publicity.as_ref().map(|p| p.1.clone()))
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        let row = self.batch_row(id).await?;
        if n == 0 {
            return Err(stale("batch", from.as_str(), row.state.as_str()));
        }
        let after = serde_json::json!({"state": to, "publicity_from": row.publicity_from, "publicity_until": row.publicity_until});
        self.audit(
            "state",
            "batch",
            &id.to_string(),
            Some(&serde_json::json!({"state": from})),
            Some(&after),
        )
        .await?;
        Ok(row)
    }

    /// Set the publicity period's end (an extension, or a test moving time on).
    pub async fn batch_set_publicity_until(&mut self, id: i64, until: &str) -> Result<BatchRow> {
        let before = self.batch_row(id).await?;
        sqlx::query("UPDATE decl_batches SET publicity_until = $1, updated_at = $2 WHERE id = $3")
            .bind(until)
            .bind(now())
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        self.audit(
            "publicity",
            "batch",
            &id.to_string(),
            Some(&serde_json::json!({"publicity_until": before.publicity_until})),
            Some(&serde_json::json!({"publicity_until": until})),
        )
        .await?;
        self.batch_row(id).await
    }

    pub async fn application_create(
        &mut self,
        batch_id: i64,
        teo_id: i64,
        credit_code: &str,
        lead_unit: &str,
        contact_name: &str,
        contact_phone: &str,
    ) -> Result<i64> {
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM decl_applications WHERE batch_id = $1 AND teo_id = $2",
        )
        .bind(batch_id)
        .bind(teo_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(FieldError::new(
                "teo_id",
                "taken",
                "this organization already has an application in this batch",
                "该组织在本批次已有申报书",
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO decl_applications (batch_id, teo_id, credit_code, lead_unit, contact_name, contact_phone, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(batch_id)
        .bind(teo_id)
        .bind(credit_code)
        .bind(lead_unit)
        .bind(contact_name)
        .bind(contact_phone)
        .bind(self.actor.clone())
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        // The lead unit is the first unit of the breakdown. It is often one of the TEO's
        // colleges (State Grid's was 国网技术学院), whose staff then take tasks as its people.
        let lead_org = self
            .org_find(lead_unit)
            .await?
            .map(|o| o.id)
            .unwrap_or(teo_id);
        self.unit_create(id, lead_unit, Some(lead_org)).await?;
        let after = serde_json::json!({"batch_id": batch_id, "teo_id": teo_id, "credit_code": credit_code, "lead_unit": lead_unit});
        self.audit("create", "application", &id.to_string(), None, Some(&after))
            .await?;
        Ok(id)
    }

    async fn proposal_row(&mut self, id: i64) -> Result<ProposalRow> {
        let r = sqlx::query(AssertSqlSafe(format!("{PROPOSAL} WHERE p.id = $1")))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("proposal {id}")))?;
        ProposalRow::from_row(&r)
    }

    pub async fn proposal_create(
        &mut self,
        application_id: i64,
        batch_id: i64,
        teo_id: i64,
        c: &ProposalContentRow,
        state: ProposalState,
    ) -> Result<ProposalRow> {
        if let Some(cid) = c.certificate_id {
            let dup: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM decl_proposals WHERE application_id = $1 AND certificate_id = $2",
            )
            .bind(application_id)
            .bind(cid)
            .fetch_optional(&mut *self.tx)
            .await?;
            if dup.is_some() {
                return Err(StoreError::Conflict(FieldError::new(
                    "certificate",
                    "taken",
                    "this certificate is already proposed in this application",
                    "该证书已在本申报书中",
                )));
            }
        }
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO decl_proposals (application_id, batch_id, teo_id, certificate_id, name_zh, field, summary, state, version,
               standard_version, bank_items, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $11) RETURNING id",
        )
        .bind(application_id)
        .bind(batch_id)
        .bind(teo_id)
        .bind(c.certificate_id)
        .bind(&c.name_zh)
        .bind(&c.field)
        .bind(&c.summary)
        .bind(state.as_str())
        .bind(c.standard_version)
        .bind(c.bank_items)
        .bind(&t)
        .fetch_one(&mut *self.tx)
        .await?;
        let row = self.proposal_row(id).await?;
        self.audit(
            "create",
            "proposal",
            &id.to_string(),
            None,
            Some(&row.audit_json()),
        )
        .await?;
        Ok(row)
    }

    /// Replace a proposal's own fields (name, field, statement, standard and bank facts).
    pub async fn proposal_update_content(
        &mut self,
        id: i64,
        c: &ProposalContentRow,
    ) -> Result<ProposalRow> {
        let before = self.proposal_row(id).await?;
        sqlx::query(
            "UPDATE decl_proposals SET name_zh = $1, field = $2, summary = $3, standard_version = $4, bank_items = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(&c.name_zh)
        .bind(&c.field)
        .bind(&c.summary)
        .bind(c.standard_version)
        .bind(c.bank_items)
        .bind(now())
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        let after = self.proposal_row(id).await?;
        self.audit(
            "update",
            "proposal",
            &id.to_string(),
            Some(&before.audit_json()),
            Some(&after.audit_json()),
        )
        .await?;
        Ok(after)
    }

    /// Move a proposal from `from` to `to`, guarded by `from`. `action` names the step in
    /// the audit log; `set` columns change with it (returned_from, score, formal_note,
    /// decision_reason), each only when given.
    pub async fn proposal_transition(
        &mut self,
        id: i64,
        from: ProposalState,
        to: ProposalState,
        action: &str,
        set: &ProposalSet,
    ) -> Result<ProposalRow> {
        let before = self.proposal_row(id).await?;
        let decided = matches!(to, ProposalState::Approved | ProposalState::Rejected);
        let t = now();
        let n = sqlx::query(
            "UPDATE decl_proposals SET state = $1, updated_at = $2,
               returned_from = CASE WHEN $3 = 1 THEN $4 ELSE returned_from END,
               score = CASE WHEN $5 = 1 THEN CAST($6 AS DOUBLE PRECISION) ELSE score END,
               formal_note = COALESCE($7, formal_note),
               decision_reason = COALESCE($8, decision_reason),
               decided_by = CASE WHEN $9 = 1 THEN $10 ELSE decided_by END,
               decided_at = CASE WHEN $9 = 1 THEN $2 ELSE decided_at END
             WHERE id = $11 AND state = $12",
        )
        .bind(to.as_str())
        .bind(&t)
        .bind(i64::from(set.returned_from.is_some()))
        .bind(set.returned_from.flatten().map(|s| s.as_str().to_string()))
        .bind(i64::from(set.score.is_some()))
        .bind(opt_float(set.score.flatten()))
        .bind(set.formal_note.clone())
        .bind(set.decision_reason.clone())
        .bind(i64::from(decided))
        .bind(self.actor.clone())
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(stale("proposal", from.as_str(), before.state.as_str()));
        }
        let after = self.proposal_row(id).await?;
        let mut a = after.audit_json();
        if let Some(note) = &set.formal_note {
            a["formal_note"] = note.clone().into();
        }
        self.audit(
            action,
            "proposal",
            &id.to_string(),
            Some(&before.audit_json()),
            Some(&a),
        )
        .await?;
        Ok(after)
    }

    /// Record a submission: the next version's snapshot, the submission time, and the
    /// answer to an open modification opinion. The state change itself is a
    /// [`WriteTx::proposal_transition`] the caller makes first.
    pub async fn proposal_record_version(&mut self, id: i64, snapshot: &Snapshot) -> Result<i64> {
        let version: i64 =
            sqlx::query_scalar("SELECT version + 1 FROM decl_proposals WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *self.tx)
                .await?;
        let mut snap = snapshot.clone();
        snap.version = version;
        let json = serde_json::to_string(&snap).map_err(|e| StoreError::Other(e.to_string()))?;
        let t = now();
        sqlx::query(
            "INSERT INTO decl_versions (proposal_id, version, snapshot, submitted_by, submitted_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(version)
        .bind(&json)
        .bind(self.actor.clone())
        .bind(&t)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query("UPDATE decl_proposals SET version = $1, submitted_at = $2 WHERE id = $3")
            .bind(version)
            .bind(&t)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "UPDATE decl_opinions SET answered_version = $1, answered_at = $2 WHERE proposal_id = $3 AND answered_version IS NULL",
        )
        .bind(version)
        .bind(&t)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        self.audit(
            "version",
            "proposal",
            &id.to_string(),
            None,
            Some(&serde_json::json!({"version": version, "annexes": snap.annexes.len()})),
        )
        .await?;
        Ok(version)
    }

    pub async fn opinion_create(
        &mut self,
        proposal_id: i64,
        stage: ProposalState,
        opinion: &str,
        deadline: &str,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO decl_opinions (proposal_id, stage, opinion, deadline, issued_by, issued_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(proposal_id)
        .bind(stage.as_str())
        .bind(opinion)
        .bind(deadline)
        .bind(self.actor.clone())
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        let after = serde_json::json!({"proposal_id": proposal_id, "stage": stage, "opinion": opinion, "deadline": deadline});
        self.audit("create", "opinion", &id.to_string(), None, Some(&after))
            .await?;
        Ok(id)
    }

    /// Put a file into an annex slot, replacing what was there.
    #[allow(clippy::too_many_arguments)]
    pub async fn annex_put(
        &mut self,
        proposal_id: i64,
        annex: i64,
        file_name: &str,
        object_key: &str,
        hash_kind: &str,
        size: i64,
        source: &str,
    ) -> Result<()> {
        let before: Option<String> = sqlx::query_scalar(
            "SELECT object_key FROM decl_annexes WHERE proposal_id = $1 AND annex = $2",
        )
        .bind(proposal_id)
        .bind(annex)
        .fetch_optional(&mut *self.tx)
        .await?;
        sqlx::query("DELETE FROM decl_annexes WHERE proposal_id = $1 AND annex = $2")
            .bind(proposal_id)
            .bind(annex)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "INSERT INTO decl_annexes (proposal_id, annex, file_name, object_key, hash_kind, size, source, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(proposal_id)
        .bind(annex)
        .bind(file_name)
        .bind(object_key)
        .bind(hash_kind)
        .bind(size)
        .bind(source)
        .bind(self.actor.clone())
        .bind(now())
        .execute(&mut *self.tx)
        .await?;
        sqlx::query("UPDATE decl_proposals SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(proposal_id)
            .execute(&mut *self.tx)
            .await?;
        let after = serde_json::json!({"annex": annex, "file_name": file_name, "object_key": object_key, "size": size, "source": source});
        self.audit(
            "annex",
            "proposal",
            &proposal_id.to_string(),
            before
                .map(|k| serde_json::json!({"annex": annex, "object_key": k}))
                .as_ref(),
            Some(&after),
        )
        .await?;
        Ok(())
    }

    pub async fn unit_create(
        &mut self,
        application_id: i64,
        name: &str,
        org_id: Option<i64>,
    ) -> Result<i64> {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM decl_units WHERE application_id = $1 AND name = $2")
                .bind(application_id)
                .bind(name)
                .fetch_optional(&mut *self.tx)
                .await?;
        if let Some(id) = exists {
            return Ok(id);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO decl_units (application_id, name, org_id) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(application_id)
        .bind(name)
        .bind(org_id)
        .fetch_one(&mut *self.tx)
        .await?;
        let after =
            serde_json::json!({"application_id": application_id, "name": name, "org_id": org_id});
        self.audit("create", "unit", &id.to_string(), None, Some(&after))
            .await?;
        Ok(id)
    }

    pub async fn task_create(&mut self, t: &NewTask) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO decl_tasks (application_id, unit_id, assignee, title, proposal_id, annex, deadline, state, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9) RETURNING id",
        )
        .bind(t.application_id)
        .bind(t.unit_id)
        .bind(&t.assignee)
        .bind(&t.title)
        .bind(t.proposal_id)
        .bind(t.annex)
        .bind(&t.deadline)
        .bind(self.actor.clone())
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        let after = serde_json::json!({"application_id": t.application_id, "unit_id": t.unit_id, "assignee": t.assignee,
            "title": t.title, "proposal_id": t.proposal_id, "annex": t.annex, "deadline": t.deadline});
        self.audit("create", "task", &id.to_string(), None, Some(&after))
            .await?;
        Ok(id)
    }

    /// Mark a task done (with a note and the file handed in, if any) or open again.
    pub async fn task_set_state(
        &mut self,
        id: i64,
        state: TaskState,
        note: Option<&str>,
        file: Option<(&str, &str)>,
    ) -> Result<()> {
        let done = state == TaskState::Done;
        let t = now();
        sqlx::query(
            "UPDATE decl_tasks SET state = $1, note = COALESCE($2, note),
               file_name = COALESCE($3, file_name), object_key = COALESCE($4, object_key),
               done_by = CASE WHEN $5 = 1 THEN $6 ELSE NULL END,
               done_at = CASE WHEN $5 = 1 THEN $7 ELSE NULL END
             WHERE id = $8",
        )
        .bind(state.as_str())
        .bind(note)
        .bind(file.map(|f| f.0))
        .bind(file.map(|f| f.1))
        .bind(i64::from(done))
        .bind(self.actor.clone())
        .bind(&t)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        let after = serde_json::json!({"state": state, "note": note, "file": file.map(|f| f.0)});
        self.audit("state", "task", &id.to_string(), None, Some(&after))
            .await?;
        Ok(())
    }

    pub async fn task_reminded(&mut self, id: i64) -> Result<()> {
        sqlx::query("UPDATE decl_tasks SET reminded_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        self.audit("remind", "task", &id.to_string(), None, None)
            .await?;
        Ok(())
    }

    /// Tell an account something (in-app; the page shows unread ones first).
    pub async fn notify(&mut self, username: &str, zh: &str, en: &str, link: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO notifications (username, message_zh, message_en, link, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(username)
        .bind(zh)
        .bind(en)
        .bind(link)
        .bind(now())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn notifications_mark_read(&mut self, username: &str) -> Result<()> {
        sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE username = $2 AND read_at IS NULL",
        )
        .bind(now())
        .bind(username)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn expert_create(&mut self, e: &NewExpert) -> Result<i64> {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM decl_experts WHERE user_id = $1")
                .bind(e.user_id)
                .fetch_optional(&mut *self.tx)
                .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(FieldError::new(
                "username",
                "taken",
                "this account is already in the expert pool",
                "该账号已在专家库中",
            )));
        }
        let fields = serde_json::to_string(&e.fields).unwrap_or_else(|_| "[]".into());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO decl_experts (user_id, name, org_id, org_name, province, fields, active, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7) RETURNING id",
        )
        .bind(e.user_id)
        .bind(&e.name)
        .bind(e.org_id)
        .bind(&e.org_name)
        .bind(e.province.clone())
        .bind(&fields)
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        let after = serde_json::json!({"user_id": e.user_id, "name": e.name, "org_id": e.org_id, "org_name": e.org_name,
            "province": e.province, "fields": e.fields});
        self.audit("create", "expert", &id.to_string(), None, Some(&after))
            .await?;
        Ok(id)
    }

    pub async fn expert_set_active(&mut self, id: i64, active: bool) -> Result<()> {
        sqlx::query("UPDATE decl_experts SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        self.audit(
            "active",
            "expert",
            &id.to_string(),
            None,
            Some(&serde_json::json!({"active": active})),
        )
        .await?;
        Ok(())
    }

    pub async fn assignment_create(
        &mut self,
        proposal_id: i64,
        expert_id: i64,
        seed: i64,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO decl_assignments (proposal_id, expert_id, seed, drawn_by, drawn_at, outlier)
             VALUES ($1, $2, $3, $4, $5, 0) RETURNING id",
        )
        .bind(proposal_id)
        .bind(expert_id)
        .bind(seed)
        .bind(self.actor.clone())
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        let after =
            serde_json::json!({"proposal_id": proposal_id, "expert_id": expert_id, "seed": seed});
        self.audit("draw", "assignment", &id.to_string(), None, Some(&after))
            .await?;
        Ok(id)
    }

    /// An expert's scores; refused once submitted (scores are final unless the proposal is
    /// returned and rescored).
    pub async fn assignment_submit(
        &mut self,
        id: i64,
        scores: &BTreeMap<String, f64>,
        total: f64,
        comment: &str,
    ) -> Result<()> {
        let json = serde_json::to_string(scores).map_err(|e| StoreError::Other(e.to_string()))?;
        let n = sqlx::query(
            "UPDATE decl_assignments SET scores = $1, total = CAST($2 AS DOUBLE PRECISION), comment = $3, submitted_at = $4
             WHERE id = $5 AND submitted_at IS NULL",
        )
        .bind(&json)
        .bind(opt_float(Some(total)))
        .bind(comment)
        .bind(now())
        .bind(id)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict(FieldError::new(
                "scores",
                "already_submitted",
                "these scores were already submitted",
                "评分已提交，不能重复提交",
            )));
        }
        let after = serde_json::json!({"total": total, "scores": scores, "comment": comment});
        self.audit("score", "assignment", &id.to_string(), None, Some(&after))
            .await?;
        Ok(())
    }

    pub async fn assignment_set_outlier(&mut self, id: i64, outlier: bool) -> Result<()> {
        sqlx::query("UPDATE decl_assignments SET outlier = $1 WHERE id = $2")
            .bind(i64::from(outlier))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Clear a proposal's submitted scores so its experts score a resubmitted version.
    pub async fn assignments_clear_scores(&mut self, proposal_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE decl_assignments SET scores = NULL, total = NULL, submitted_at = NULL, outlier = 0 WHERE proposal_id = $1",
        )
        .bind(proposal_id)
        .execute(&mut *self.tx)
        .await?;
        self.audit("rescore", "proposal", &proposal_id.to_string(), None, None)
            .await?;
        Ok(())
    }

    pub async fn objection_file(
        &mut self,
        batch_id: i64,
        proposal_id: i64,
        filer_name: &str,
        filer_contact: &str,
        content: &str,
        client: &str,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO decl_objections (batch_id, proposal_id, filer_name, filer_contact, content, client, filed_at, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open') RETURNING id",
        )
        .bind(batch_id)
        .bind(proposal_id)
        .bind(filer_name)
        .bind(filer_contact)
        .bind(content)
        .bind(client)
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        let after = serde_json::json!({"proposal_id": proposal_id, "filer_name": filer_name, "content": content});
        self.audit("file", "objection", &id.to_string(), None, Some(&after))
            .await?;
        Ok(id)
    }

    /// Handle an open objection: "upheld" or "dismissed", with the response.
    pub async fn objection_handle(&mut self, id: i64, state: &str, response: &str) -> Result<()> {
        let n = sqlx::query(
            "UPDATE decl_objections SET state = $1, response = $2, handled_by = $3, handled_at = $4 WHERE id = $5 AND state = 'open'",
        )
        .bind(state)
        .bind(response)
        .bind(self.actor.clone())
        .bind(now())
        .bind(id)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(stale("objection", "open", "handled"));
        }
        let after = serde_json::json!({"state": state, "response": response});
        self.audit(
            "handle",
            "objection",
            &id.to_string(),
            Some(&serde_json::json!({"state": "open"})),
            Some(&after),
        )
        .await?;
        Ok(())
    }

    /// Record (or correct) an organization's credit and tax verification.
    pub async fn verification_put(
        &mut self,
        batch_id: i64,
        teo_id: i64,
        v: &NewVerification,
    ) -> Result<()> {
        let before: Option<(i64, i64)> = sqlx::query_as(
            "SELECT credit_ok, tax_ok FROM decl_verifications WHERE batch_id = $1 AND teo_id = $2",
        )
        .bind(batch_id)
        .bind(teo_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        sqlx::query("DELETE FROM decl_verifications WHERE batch_id = $1 AND teo_id = $2")
            .bind(batch_id)
            .bind(teo_id)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "INSERT INTO decl_verifications (batch_id, teo_id, credit_ok, tax_ok, evidence, file_name, object_key, checked_by, checked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(batch_id)
        .bind(teo_id)
        .bind(i64::from(v.credit_ok))
        .bind(i64::from(v.tax_ok))
        .bind(&v.evidence)
        .bind(v.file.as_ref().map(|f| f.0.clone()))
        .bind(v.file.as_ref().map(|f| f.1.clone()))
        .bind(self.actor.clone())
        .bind(now())
        .execute(&mut *self.tx)
        .await?;
        let after = serde_json::json!({"batch_id": batch_id, "teo_id": teo_id, "credit_ok": v.credit_ok, "tax_ok": v.tax_ok, "evidence": v.evidence});
        self.audit(
            "verify",
            "organization",
            &teo_id.to_string(),
            before
                .map(|(c, t)| serde_json::json!({"credit_ok": c != 0, "tax_ok": t != 0}))
                .as_ref(),
            Some(&after),
        )
        .await?;
        Ok(())
    }
}

impl WriteTx {
    /// A shortlisted certificate joins the national catalogue when its list is published.
    pub async fn certificate_publish_shortlisted(
        &mut self,
        certificate_id: i64,
        batch_id: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE certificates SET status = 'published', updated_at = $1 WHERE id = $2 AND status <> 'published'",
        )
        .bind(now())
        .bind(certificate_id)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if n > 0 {
            self.audit(
                "publish",
                "certificate",
                &certificate_id.to_string(),
                None,
                Some(&serde_json::json!({"status": "published", "batch_id": batch_id})),
            )
            .await?;
        }
        Ok(n > 0)
    }
}

/// Columns a proposal transition may set besides its state. `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct ProposalSet {
    pub returned_from: Option<Option<ProposalState>>,
    pub score: Option<Option<f64>>,
    pub formal_note: Option<String>,
    pub decision_reason: Option<String>,
}
