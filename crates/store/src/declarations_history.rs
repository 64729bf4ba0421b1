//! A finished declaration batch brought in whole (历史批次导入): a batch run before the
//! platform existed, or the demo's, with its own dates. The rows go in as multi-row inserts
//! and the import is audited as one entry, not one per row: thousands of applications and
//! proposals would otherwise mean thousands of chained audit entries nobody made by hand.

use crate::db::{WriteTx, now, opt_float};
use crate::{ProposalContentRow, Result, StoreError};
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use xcert_declare::diff::Snapshot;
use xcert_declare::{BatchSettings, BatchState, ProposalState};
use xcert_domain::FieldError;
use xcert_domain::org::NewOrganization;

/// A whole historical batch.
#[derive(Debug, Clone)]
pub struct HistoryBatch {
    pub settings: BatchSettings,
    pub state: BatchState,
    /// RFC 3339 (UTC), as the publicity step stores them.
    pub publicity: Option<(String, String)>,
    pub created_by: String,
    pub created_at: String,
    pub published_at: Option<String>,
    /// Organizations not yet in the registry, created with the batch's `created_at`.
    pub organizations: Vec<NewOrganization>,
    pub applications: Vec<HistoryApplication>,
    pub verifications: Vec<HistoryVerification>,
    pub objections: Vec<HistoryObjection>,
}

#[derive(Debug, Clone)]
pub struct HistoryApplication {
    /// The TEO, by credit code: in the registry or among the batch's `organizations`.
    pub credit_code: String,
    pub lead_unit: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub created_by: String,
    pub created_at: String,
    /// Names must be unique within the application.
    pub proposals: Vec<HistoryProposal>,
}

#[derive(Debug, Clone)]
pub struct HistoryProposal {
    pub content: ProposalContentRow,
    pub state: ProposalState,
    pub score: Option<f64>,
    pub formal_note: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub created_at: String,
    /// The submitted version 1: its snapshot, by whom, when. `None` for a draft.
    pub submitted: Option<(Snapshot, String, String)>,
    pub assignments: Vec<HistoryAssignment>,
}

#[derive(Debug, Clone)]
pub struct HistoryAssignment {
    pub expert_id: i64,
    pub seed: i64,
    pub drawn_by: String,
    pub drawn_at: String,
    pub scores: BTreeMap<String, f64>,
    pub total: f64,
    pub comment: String,
    pub submitted_at: String,
    pub outlier: bool,
}

#[derive(Debug, Clone)]
pub struct HistoryVerification {
    pub credit_code: String,
    pub credit_ok: bool,
    pub tax_ok: bool,
    pub evidence: String,
    pub checked_by: String,
    pub checked_at: String,
}

#[derive(Debug, Clone)]
pub struct HistoryObjection {
    /// Indexes into the batch's applications and that application's proposals.
    pub application: usize,
    pub proposal: usize,
    pub filer_name: String,
    pub filer_contact: String,
    pub content: String,
    pub client: String,
    pub filed_at: String,
    /// "open", "upheld" or "dismissed".
    pub state: String,
    pub response: Option<String>,
    pub handled_by: Option<String>,
    pub handled_at: Option<String>,
}

/// What an import created.
#[derive(Debug, Clone)]
pub struct HistoryOutcome {
    pub batch_id: i64,
    pub organizations: usize,
    /// Per application (in input order): its id and its proposals' ids.
    pub applications: Vec<(i64, Vec<i64>)>,
}

/// One query parameter.
enum V {
    I(i64),
    NI(Option<i64>),
    T(String),
    NT(Option<String>),
    /// Sent as text and cast in the SQL (see `db::opt_float`).
    F(Option<f64>),
}

/// Parameters per statement: far below every engine's limit, and big enough that a few
/// thousand rows take a few dozen statements.
const MAX_PARAMS: usize = 900;

fn invalid(field: &str, en: String, zh: String) -> StoreError {
    StoreError::invalid(FieldError::new(field, "history", en, zh))
}

impl WriteTx {
    /// Insert `rows` (all of one width) as `head VALUES (...), (...)`, in chunks.
    async fn insert_rows(&mut self, head: &str, rows: Vec<Vec<V>>) -> Result<()> {
        let Some(width) = rows.first().map(Vec::len) else {
            return Ok(());
        };
        for chunk in rows.chunks((MAX_PARAMS / width).max(1)) {
            let mut sql = format!("{head} VALUES ");
            let mut n = 0;
            for (i, row) in chunk.iter().enumerate() {
                sql.push_str(if i == 0 { "(" } else { ", (" });
                for (j, v) in row.iter().enumerate() {
                    n += 1;
                    let sep = if j == 0 { "" } else { ", " };
                    match v {
                        V::F(_) => write!(sql, "{sep}CAST(${n} AS DOUBLE PRECISION)"),
                        _ => write!(sql, "{sep}${n}"),
                    }
                    .expect("write to a String");
                }
                sql.push(')');
            }
            // Each chunk's text is used once: keep it out of the statement cache.
            let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
            for v in chunk.iter().flatten() {
                q = match v {
                    V::I(x) => q.bind(*x),
                    V::NI(x) => q.bind(*x),
                    V::T(x) => q.bind(x.clone()),
                    V::NT(x) => q.bind(x.clone()),
                    V::F(x) => q.bind(opt_float(*x)),
                };
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Bring in a finished batch with its organizations, applications (each with its lead
    /// unit), proposals and their first versions, expert scores, verifications and
    /// objections, keeping every row's own dates. One audit entry records the import.
    pub async fn batch_import_history(&mut self, h: &HistoryBatch) -> Result<HistoryOutcome> {
        let s = &h.settings;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM decl_batches WHERE number = $1")
                .bind(s.number)
                .fetch_optional(&mut *self.tx)
                .await?;
        if taken.is_some() {
            return Err(WriteTx::number_taken(s.number));
        }
        for (i, a) in h.applications.iter().enumerate() {
            let mut names = HashSet::new();
            for p in &a.proposals {
                if !names.insert(p.content.name_zh.as_str()) {
                    return Err(invalid(
                        &format!("applications.{i}.proposals"),
                        format!(
                            "\"{}\" is proposed twice in one application",
                            p.content.name_zh
                        ),
                        format!("同一申报书中“{}”出现两次", p.content.name_zh),
                    ));
                }
            }
        }

        // Organizations.
        let mut orgs: HashMap<String, i64> = HashMap::new();
        let mut named: HashMap<String, i64> = HashMap::new();
        for r in sqlx::query("SELECT id, credit_code, name_zh FROM organizations")
            .fetch_all(&mut *self.tx)
            .await?
        {
            orgs.insert(r.try_get("credit_code")?, r.try_get("id")?);
            named.insert(r.try_get("name_zh")?, r.try_get("id")?);
        }
        let mut fresh = HashSet::new();
        for o in &h.organizations {
            let code = o.credit_code.as_str();
            if orgs.contains_key(code) || !fresh.insert(code) {
                return Err(StoreError::Conflict(FieldError::new(
                    "credit_code",
                    "taken",
                    format!("an organization with credit code {code} already exists"),
                    format!("统一社会信用代码 {code} 已被其他机构使用"),
                )));
            }
        }
        let rows = h
            .organizations
            .iter()
            .map(|o| {
                vec![
                    V::T(o.kind.as_str().into()),
                    V::T(o.name_zh.clone()),
                    V::NT(o.name_en.clone()),
                    V::T(o.credit_code.as_str().into()),
                    V::NT(o.province.as_ref().map(|p| p.as_str().to_string())),
                    V::NT(o.teo_state.map(|t| t.as_str().to_string())),
                    V::NT(o.website.clone()),
                    V::T(h.created_at.clone()),
                    V::T(h.created_at.clone()),
                ]
            })
            .collect();
        self.insert_rows(
            "INSERT INTO organizations (kind, name_zh, name_en, credit_code, province, teo_state, website, created_at, updated_at)",
            rows,
        )
        .await?;
        if !h.organizations.is_empty() {
            for r in sqlx::query("SELECT id, credit_code FROM organizations")
                .fetch_all(&mut *self.tx)
                .await?
            {
                orgs.insert(r.try_get("credit_code")?, r.try_get("id")?);
            }
        }
        let org_of = |code: &str| {
            orgs.get(code).copied().ok_or_else(|| {
                invalid(
                    "credit_code",
                    format!("no organization has credit code {code}"),
                    format!("没有统一社会信用代码为 {code} 的机构"),
                )
            })
        };

        // The batch.
        let json = serde_json::to_string(s).map_err(|e| StoreError::Other(e.to_string()))?;
        let updated = h
            .published_at
            .clone()
            .unwrap_or_else(|| h.created_at.clone());
        let batch_id: i64 = sqlx::query_scalar(
            "INSERT INTO decl_batches (number, title_zh, state, settings, apply_from, apply_until, publicity_from, publicity_until,
               created_by, created_at, updated_at, published_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(s.number)
        .bind(&s.title_zh)
        .bind(h.state.as_str())
        .bind(&json)
        .bind(s.apply_from.to_string())
        .bind(s.apply_until.to_string())
        .bind(h.publicity.as_ref().map(|p| p.0.clone()))
        .bind(h.publicity.as_ref().map(|p| p.1.clone()))
        .bind(&h.created_by)
        .bind(&h.created_at)
        .bind(&updated)
        .bind(h.published_at.clone())
        .fetch_one(&mut *self.tx)
        .await?;

        // Applications and their lead units.
        let mut teos = Vec::with_capacity(h.applications.len());
        let mut rows = Vec::with_capacity(h.applications.len());
        for a in &h.applications {
            let teo = org_of(&a.credit_code)?;
            teos.push(teo);
            rows.push(vec![
                V::I(batch_id),
                V::I(teo),
                V::T(a.credit_code.clone()),
                V::T(a.lead_unit.clone()),
                V::T(a.contact_name.clone()),
                V::T(a.contact_phone.clone()),
                V::T(a.created_by.clone()),
                V::T(a.created_at.clone()),
            ]);
        }
        self.insert_rows(
            "INSERT INTO decl_applications (batch_id, teo_id, credit_code, lead_unit, contact_name, contact_phone, created_by, created_at)",
            rows,
        )
        .await?;
        let mut app_of_teo = HashMap::new();
        for r in sqlx::query("SELECT id, teo_id FROM decl_applications WHERE batch_id = $1")
            .bind(batch_id)
            .fetch_all(&mut *self.tx)
            .await?
        {
            app_of_teo.insert(r.try_get::<i64, _>("teo_id")?, r.try_get::<i64, _>("id")?);
        }
        let app_ids: Vec<i64> = teos.iter().map(|t| app_of_teo[t]).collect();
        // As `application_create` does: the lead unit is the registered organization of
        // that name (one of the TEO's colleges, say), else the TEO itself.
        let rows = h
            .applications
            .iter()
            .zip(app_ids.iter().zip(&teos))
            .map(|(a, (app, teo))| {
                let org = named.get(&a.lead_unit).copied().unwrap_or(*teo);
                vec![V::I(*app), V::T(a.lead_unit.clone()), V::NI(Some(org))]
            })
            .collect();
        self.insert_rows(
            "INSERT INTO decl_units (application_id, name, org_id)",
            rows,
        )
        .await?;

        // Proposals.
        let mut rows = Vec::new();
        for (a, (app, teo)) in h.applications.iter().zip(app_ids.iter().zip(&teos)) {
            for p in &a.proposals {
                let c = &p.content;
                let updated = p.decided_at.clone().unwrap_or_else(|| p.created_at.clone());
                rows.push(vec![
                    V::I(*app),
                    V::I(batch_id),
                    V::I(*teo),
                    V::NI(c.certificate_id),
                    V::T(c.name_zh.clone()),
                    V::T(c.field.clone()),
                    V::T(c.summary.clone()),
                    V::T(p.state.as_str().into()),
                    V::I(i64::from(p.submitted.is_some())),
                    V::NI(c.standard_version),
                    V::I(c.bank_items),
                    V::F(p.score),
                    V::NT(p.formal_note.clone()),
                    V::NT(p.decision_reason.clone()),
                    V::NT(p.decided_by.clone()),
                    V::NT(p.decided_at.clone()),
                    V::T(p.created_at.clone()),
                    V::T(updated),
                    V::NT(p.submitted.as_ref().map(|s| s.2.clone())),
                ]);
            }
        }
        let proposals = rows.len();
        self.insert_rows(
            "INSERT INTO decl_proposals (application_id, batch_id, teo_id, certificate_id, name_zh, field, summary, state, version,
               standard_version, bank_items, score, formal_note, decision_reason, decided_by, decided_at, created_at, updated_at, submitted_at)",
            rows,
        )
        .await?;
        let mut proposal_of: HashMap<(i64, String), i64> = HashMap::new();
        for r in sqlx::query(
            "SELECT id, application_id, name_zh FROM decl_proposals WHERE batch_id = $1",
        )
        .bind(batch_id)
        .fetch_all(&mut *self.tx)
        .await?
        {
            proposal_of.insert(
                (r.try_get("application_id")?, r.try_get("name_zh")?),
                r.try_get("id")?,
            );
        }
        let ids: Vec<Vec<i64>> = h
            .applications
            .iter()
            .zip(&app_ids)
            .map(|(a, app)| {
                a.proposals
                    .iter()
                    .map(|p| proposal_of[&(*app, p.content.name_zh.clone())])
                    .collect()
            })
            .collect();

        // Versions and expert scores.
        let mut versions = Vec::new();
        let mut assignments = Vec::new();
        for (a, pids) in h.applications.iter().zip(&ids) {
            for (p, id) in a.proposals.iter().zip(pids) {
                if let Some((snap, by, at)) = &p.submitted {
                    let mut snap = snap.clone();
                    snap.version = 1;
                    let json = serde_json::to_string(&snap)
                        .map_err(|e| StoreError::Other(e.to_string()))?;
                    versions.push(vec![
                        V::I(*id),
                        V::I(1),
                        V::T(json),
                        V::T(by.clone()),
                        V::T(at.clone()),
                    ]);
                }
                for s in &p.assignments {
                    let scores = serde_json::to_string(&s.scores)
                        .map_err(|e| StoreError::Other(e.to_string()))?;
                    assignments.push(vec![
                        V::I(*id),
                        V::I(s.expert_id),
                        V::I(s.seed),
                        V::T(s.drawn_by.clone()),
                        V::T(s.drawn_at.clone()),
                        V::NT(Some(scores)),
                        V::F(Some(s.total)),
                        V::NT(Some(s.comment.clone())),
                        V::NT(Some(s.submitted_at.clone())),
                        V::I(i64::from(s.outlier)),
                    ]);
                }
            }
        }
        let assignment_count = assignments.len();
        self.insert_rows(
            "INSERT INTO decl_versions (proposal_id, version, snapshot, submitted_by, submitted_at)",
            versions,
        )
        .await?;
        self.insert_rows(
            "INSERT INTO decl_assignments (proposal_id, expert_id, seed, drawn_by, drawn_at, scores, total, comment, submitted_at, outlier)",
            assignments,
        )
        .await?;

        // Verifications and objections.
        let mut rows = Vec::new();
        for v in &h.verifications {
            rows.push(vec![
                V::I(batch_id),
                V::I(org_of(&v.credit_code)?),
                V::I(i64::from(v.credit_ok)),
                V::I(i64::from(v.tax_ok)),
                V::T(v.evidence.clone()),
                V::NT(None),
                V::NT(None),
                V::T(v.checked_by.clone()),
                V::T(v.checked_at.clone()),
            ]);
        }
        self.insert_rows(
            "INSERT INTO decl_verifications (batch_id, teo_id, credit_ok, tax_ok, evidence, file_name, object_key, checked_by, checked_at)",
            rows,
        )
        .await?;
        let mut rows = Vec::new();
        for (i, o) in h.objections.iter().enumerate() {
            let id = ids
                .get(o.application)
                .and_then(|p| p.get(o.proposal))
                .ok_or_else(|| {
                    invalid(
                        &format!("objections.{i}"),
                        "the objection names no proposal of this batch".into(),
                        "该异议指向的申报不在本批次中".into(),
                    )
                })?;
            rows.push(vec![
                V::I(batch_id),
                V::I(*id),
                V::T(o.filer_name.clone()),
                V::T(o.filer_contact.clone()),
                V::T(o.content.clone()),
                V::T(o.client.clone()),
                V::T(o.filed_at.clone()),
                V::T(o.state.clone()),
                V::NT(o.response.clone()),
                V::NT(o.handled_by.clone()),
                V::NT(o.handled_at.clone()),
            ]);
        }
        self.insert_rows(
            "INSERT INTO decl_objections (batch_id, proposal_id, filer_name, filer_contact, content, client, filed_at, state,
               response, handled_by, handled_at)",
            rows,
        )
        .await?;

        let after = serde_json::json!({
            "number": s.number, "title_zh": s.title_zh, "state": h.state,
            "imported_at": now(), "organizations": h.organizations.len(),
            "applications": h.applications.len(), "proposals": proposals,
            "assignments": assignment_count, "verifications": h.verifications.len(),
            "objections": h.objections.len(),
        });
        self.audit(
            "import_history",
            "batch",
            &batch_id.to_string(),
            None,
            Some(&after),
        )
        .await?;
        Ok(HistoryOutcome {
            batch_id,
            organizations: h.organizations.len(),
            applications: app_ids.into_iter().zip(ids).collect(),
        })
    }
}
