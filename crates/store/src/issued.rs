//! Issued certificates (已发证书), issuing jobs, TEO signing keys and status lists.
//!
//! The store keeps what the credential layer produced (signed JSON, JWT, encoded status
//! lists) as text; it never signs or decodes. An issuing job reserves its certificate
//! numbers and status slots when it is created, and each chunk of certificates is inserted
//! together with the job's progress in one transaction, so a crash resumes exactly where
//! the last chunk committed.

use crate::db::{Backend, WriteTx, like_pattern, now, opt_str};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashSet;
use xcert_domain::FieldError;

/// A TEO's signing key as stored (the secret still sealed).
#[derive(Debug, Clone, Serialize)]
pub struct IssuerKeyRow {
    pub id: i64,
    pub org_id: i64,
    pub key_id: String,
    pub public_multibase: String,
    #[serde(skip)]
    pub secret_sealed: String,
    pub created_at: String,
    pub retired_at: Option<String>,
}

/// A revocation/suspension list pair.
#[derive(Debug, Clone, Serialize)]
pub struct StatusListRow {
    pub id: i64,
    pub org_id: i64,
    pub size: i64,
    #[serde(skip)]
    pub secret: i64,
    pub next_slot: i64,
    pub revocation: String,
    pub suspension: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
    fn parse(s: &str) -> JobState {
        match s {
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            _ => JobState::Running,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct IssuanceJobRow {
    pub id: i64,
    pub teo_id: i64,
    pub teo_name: String,
    pub certificate_id: i64,
    pub certificate_code: String,
    pub certificate_name: String,
    pub certificate_name_en: Option<String>,
    pub level: String,
    pub session_id: Option<i64>,
    pub session_key: String,
    pub source: String,
    pub source_name: String,
    pub state: JobState,
    pub total: i64,
    pub done: i64,
    pub skipped: i64,
    pub year: i64,
    pub number_base: i64,
    pub status_list_id: i64,
    pub slot_base: i64,
    pub issued_on: String,
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// One candidate of a job as staged.
#[derive(Debug, Clone, Serialize)]
pub struct IssuanceRow {
    pub ordinal: i64,
    pub holder_name: String,
    #[serde(skip)]
    pub id_number: Option<String>,
    pub id_hash: String,
    pub id_masked: String,
    pub person_id: Option<i64>,
    pub college_id: Option<i64>,
    pub college_name: Option<String>,
}

/// What a new job is made of; rows already deduplicated against issued certificates.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub teo_id: i64,
    pub certificate_id: i64,
    pub level: String,
    pub session_id: Option<i64>,
    pub session_key: String,
    pub source: String,
    pub source_name: String,
    pub year: i64,
    pub issued_on: String,
    pub rows: Vec<IssuanceRow>,
    /// Status lists are created with this size, secret and empty encoded list when the
    /// TEO's current pair has no room for the whole job.
    pub new_list: (i64, i64, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuedState {
    Active,
    Suspended,
    Revoked,
}

impl IssuedState {
    pub fn as_str(self) -> &'static str {
        match self {
            IssuedState::Active => "active",
            IssuedState::Suspended => "suspended",
            IssuedState::Revoked => "revoked",
        }
    }
    pub fn parse(s: &str) -> Option<IssuedState> {
        match s {
            "active" => Some(IssuedState::Active),
            "suspended" => Some(IssuedState::Suspended),
            "revoked" => Some(IssuedState::Revoked),
            _ => None,
        }
    }
}

/// An issued certificate, with the registry names it is shown with.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedRow {
    pub id: i64,
    pub number: String,
    pub job_id: Option<i64>,
    pub certificate_id: i64,
    pub certificate_code: String,
    pub certificate_name: String,
    pub certificate_name_en: Option<String>,
    pub level: String,
    pub teo_id: i64,
    pub teo_name: String,
    pub college_id: Option<i64>,
    pub college_name: Option<String>,
    pub person_id: Option<i64>,
    pub holder_name: String,
    #[serde(skip)]
    pub id_hash: String,
    pub id_masked: String,
    pub session_key: String,
    pub issued_on: String,
    pub state: IssuedState,
    pub state_reason: Option<String>,
    pub status_list_id: i64,
    pub status_index: i64,
    pub replaces: Option<String>,
    pub replaced_by: Option<String>,
    pub upgrades: Option<String>,
    pub key_id: String,
    #[serde(skip)]
    pub credential_json: String,
    #[serde(skip)]
    pub credential_jwt: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A certificate ready to store (signed by the caller).
#[derive(Debug, Clone)]
pub struct NewIssued {
    pub number: String,
    pub job_id: Option<i64>,
    pub certificate_id: i64,
    pub level: String,
    pub teo_id: i64,
    pub college_id: Option<i64>,
    pub college_name: Option<String>,
    pub person_id: Option<i64>,
    pub holder_name: String,
    pub id_hash: String,
    pub id_masked: String,
    pub session_key: String,
    pub issued_on: String,
    pub status_list_id: i64,
    pub status_index: i64,
    pub replaces: Option<String>,
    pub upgrades: Option<String>,
    pub key_id: String,
    pub credential_json: String,
    pub credential_jwt: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct IssuedFilter {
    #[serde(skip)]
    pub teo_id: Option<i64>,
    #[serde(skip)]
    pub college_id: Option<i64>,
    #[serde(skip)]
    pub person_id: Option<i64>,
    pub job_id: Option<i64>,
    pub certificate: Option<String>,
    pub state: Option<String>,
    /// Number or holder name contains this.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

const ISSUED_SELECT: &str =
    "SELECT ic.*, c.code AS certificate_code, c.name_zh AS certificate_name,
        c.name_en AS certificate_name_en, t.name_zh AS teo_name
     FROM issued_certificates ic
     JOIN certificates c ON c.id = ic.certificate_id
     JOIN organizations t ON t.id = ic.teo_id";

const JOB_SELECT: &str = "SELECT j.*, c.code AS certificate_code, c.name_zh AS certificate_name,
        c.name_en AS certificate_name_en, t.name_zh AS teo_name
     FROM issuance_jobs j
     JOIN certificates c ON c.id = j.certificate_id
     JOIN organizations t ON t.id = j.teo_id";

fn opt_i64(r: &AnyRow, col: &str) -> Option<i64> {
    r.try_get::<Option<i64>, _>(col).ok().flatten()
}

fn issued_row(r: &AnyRow) -> Result<IssuedRow> {
    let state: String = r.try_get("state")?;
    Ok(IssuedRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        job_id: opt_i64(r, "job_id"),
        certificate_id: r.try_get("certificate_id")?,
        certificate_code: r.try_get("certificate_code")?,
        certificate_name: r.try_get("certificate_name")?,
        certificate_name_en: opt_str(r, "certificate_name_en"),
        level: r.try_get("level")?,
        teo_id: r.try_get("teo_id")?,
        teo_name: r.try_get("teo_name")?,
        college_id: opt_i64(r, "college_id"),
        college_name: opt_str(r, "college_name"),
        person_id: opt_i64(r, "person_id"),
        holder_name: r.try_get("holder_name")?,
        id_hash: r.try_get("id_hash")?,
        id_masked: r.try_get("id_masked")?,
        session_key: r.try_get("session_key")?,
        issued_on: r.try_get("issued_on")?,
        state: IssuedState::parse(&state).unwrap_or(IssuedState::Active),
        state_reason: opt_str(r, "state_reason"),
        status_list_id: r.try_get("status_list_id")?,
        status_index: r.try_get("status_index")?,
        replaces: opt_str(r, "replaces"),
        replaced_by: opt_str(r, "replaced_by"),
        upgrades: opt_str(r, "upgrades"),
        key_id: r.try_get("key_id")?,
        credential_json: r.try_get("credential_json")?,
        credential_jwt: r.try_get("credential_jwt")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn job_row(r: &AnyRow) -> Result<IssuanceJobRow> {
    let state: String = r.try_get("state")?;
    Ok(IssuanceJobRow {
        id: r.try_get("id")?,
        teo_id: r.try_get("teo_id")?,
        teo_name: r.try_get("teo_name")?,
        certificate_id: r.try_get("certificate_id")?,
        certificate_code: r.try_get("certificate_code")?,
        certificate_name: r.try_get("certificate_name")?,
        certificate_name_en: opt_str(r, "certificate_name_en"),
        level: r.try_get("level")?,
        session_id: opt_i64(r, "session_id"),
        session_key: r.try_get("session_key")?,
        source: r.try_get("source")?,
        source_name: r.try_get("source_name")?,
        state: JobState::parse(&state),
        total: r.try_get("total")?,
        done: r.try_get("done")?,
        skipped: r.try_get("skipped")?,
        year: r.try_get("year")?,
        number_base: r.try_get("number_base")?,
        status_list_id: r.try_get("status_list_id")?,
        slot_base: r.try_get("slot_base")?,
        issued_on: r.try_get("issued_on")?,
        error: opt_str(r, "error"),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        finished_at: opt_str(r, "finished_at"),
    })
}

fn key_row(r: &AnyRow) -> Result<IssuerKeyRow> {
    Ok(IssuerKeyRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        key_id: r.try_get("key_id")?,
        public_multibase: r.try_get("public_multibase")?,
        secret_sealed: r.try_get("secret_sealed")?,
        created_at: r.try_get("created_at")?,
        retired_at: opt_str(r, "retired_at"),
    })
}

fn list_row(r: &AnyRow) -> Result<StatusListRow> {
    Ok(StatusListRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        size: r.try_get("size")?,
        secret: r.try_get("secret")?,
        next_slot: r.try_get("next_slot")?,
        revocation: r.try_get("revocation")?,
        suspension: r.try_get("suspension")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn staged_row(r: &AnyRow) -> Result<IssuanceRow> {
    Ok(IssuanceRow {
        ordinal: r.try_get("ordinal")?,
        holder_name: r.try_get("holder_name")?,
        id_number: opt_str(r, "id_number"),
        id_hash: r.try_get("id_hash")?,
        id_masked: r.try_get("id_masked")?,
        person_id: opt_i64(r, "person_id"),
        college_id: opt_i64(r, "college_id"),
        college_name: opt_str(r, "college_name"),
    })
}

impl Store {
    /// All of a TEO's keys, newest first (the current one has no `retired_at`).
    pub async fn issuer_keys(&self, org_id: i64) -> Result<Vec<IssuerKeyRow>> {
        sqlx::query("SELECT * FROM issuer_keys WHERE org_id = $1 ORDER BY id DESC")
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(key_row)
            .collect()
    }

    /// When any status list last changed (every state change rewrites one): other
    /// processes' caches of public records watch this.
    pub async fn status_lists_marker(&self) -> Result<String> {
        Ok(
            sqlx::query("SELECT COALESCE(MAX(updated_at), '') AS m FROM status_lists")
                .fetch_one(&self.pool)
                .await?
                .try_get("m")?,
        )
    }

    pub async fn status_list(&self, id: i64) -> Result<StatusListRow> {
        let r = sqlx::query("SELECT * FROM status_lists WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("status list {id}")))?;
        list_row(&r)
    }

    pub async fn issuance_job(&self, id: i64) -> Result<IssuanceJobRow> {
        let r = sqlx::query(AssertSqlSafe(format!("{JOB_SELECT} WHERE j.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("issuing job {id}")))?;
        job_row(&r)
    }

    /// Jobs, newest first; only one TEO's when given.
    pub async fn issuance_jobs(&self, teo_id: Option<i64>) -> Result<Vec<IssuanceJobRow>> {
        let cond = teo_id
            .map(|t| format!(" WHERE j.teo_id = {t}"))
            .unwrap_or_default();
        sqlx::query(AssertSqlSafe(format!(
            "{JOB_SELECT}{cond} ORDER BY j.id DESC LIMIT 200"
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(job_row)
        .collect()
    }

    /// Jobs a crash or stop left running.
    pub async fn issuance_unfinished(&self) -> Result<Vec<i64>> {
        Ok(
            sqlx::query("SELECT id FROM issuance_jobs WHERE state = 'running' ORDER BY id")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>("id"))
                .collect::<Result<_, _>>()?,
        )
    }

    /// A job's staged candidates from `from` (an ordinal) on, in order.
    pub async fn issuance_rows(
        &self,
        job_id: i64,
        from: i64,
        limit: i64,
    ) -> Result<Vec<IssuanceRow>> {
        sqlx::query(
            "SELECT * FROM issuance_rows WHERE job_id = $1 AND ordinal >= $2 ORDER BY ordinal LIMIT $3",
        )
        .bind(job_id)
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(staged_row)
        .collect()
    }

    pub async fn issued_by_number(&self, number: &str) -> Result<Option<IssuedRow>> {
        sqlx::query(AssertSqlSafe(format!(
            "{ISSUED_SELECT} WHERE ic.number = $1"
        )))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(issued_row)
        .transpose()
    }

    /// Certificates of one identity (by its hash), newest first.
    pub async fn issued_by_id_hash(&self, id_hash: &str) -> Result<Vec<IssuedRow>> {
        sqlx::query(AssertSqlSafe(format!(
            "{ISSUED_SELECT} WHERE ic.id_hash = $1 ORDER BY ic.id DESC"
        )))
        .bind(id_hash)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(issued_row)
        .collect()
    }

    pub async fn issued_list(&self, f: &IssuedFilter) -> Result<(Vec<IssuedRow>, i64)> {
        let mut cond = vec!["1=1".to_string()];
        if let Some(t) = f.teo_id {
            cond.push(format!("ic.teo_id = {t}"));
        }
        if let Some(c) = f.college_id {
            cond.push(format!("ic.college_id = {c}"));
        }
        if let Some(p) = f.person_id {
            cond.push(format!("ic.person_id = {p}"));
        }
        if let Some(j) = f.job_id {
            cond.push(format!("ic.job_id = {j}"));
        }
        let mut args: Vec<String> = Vec::new();
        if let Some(c) = f.certificate.as_deref().filter(|s| !s.trim().is_empty()) {
            args.push(c.trim().to_ascii_uppercase());
            cond.push(format!("c.code = ${}", args.len()));
        }
        if let Some(s) = f.state.as_deref().and_then(IssuedState::parse) {
            cond.push(format!("ic.state = '{}'", s.as_str()));
        }
        if let Some(q) = f.q.as_deref().filter(|s| !s.trim().is_empty()) {
            args.push(like_pattern(q));
            let n = args.len();
            cond.push(format!(
                "(LOWER(ic.number) LIKE ${n} ESCAPE '\\' OR LOWER(ic.holder_name) LIKE ${n} ESCAPE '\\')"
            ));
        }
        let where_ = cond.join(" AND ");
        let limit = f.limit.unwrap_or(50).clamp(1, 1000);
        let offset = f.offset.unwrap_or(0).max(0);
        let count_sql = format!(
            "SELECT COUNT(*) AS n FROM issued_certificates ic JOIN certificates c ON c.id = ic.certificate_id WHERE {where_}"
        );
        let mut q = sqlx::query(AssertSqlSafe(count_sql));
        for a in &args {
            q = q.bind(a.as_str());
        }
        let total: i64 = q.fetch_one(&self.pool).await?.try_get("n")?;
        let sql = format!(
            "{ISSUED_SELECT} WHERE {where_} ORDER BY ic.id DESC LIMIT {limit} OFFSET {offset}"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a.as_str());
        }
        let rows = q
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(issued_row)
            .collect::<Result<_>>()?;
        Ok((rows, total))
    }

    /// Which of these identities already hold this certificate level from this session.
    pub async fn issued_existing(
        &self,
        certificate_id: i64,
        level: &str,
        session_key: &str,
    ) -> Result<HashSet<String>> {
        Ok(sqlx::query(
            "SELECT id_hash FROM issued_certificates WHERE certificate_id = $1 AND level = $2 AND session_key = $3",
        )
        .bind(certificate_id)
        .bind(level)
        .bind(session_key)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .filter_map(|r| r.try_get::<String, _>("id_hash").ok())
        .collect())
    }

    /// Whether any certificate of these levels of a certificate was issued (so a job of a
    /// higher level needs to look for the ones its candidates upgrade).
    pub async fn issued_any_of_levels(&self, certificate_id: i64, levels: &[&str]) -> Result<bool> {
        for l in levels {
            let r = sqlx::query(
                "SELECT id FROM issued_certificates WHERE certificate_id = $1 AND level = $2 LIMIT 1",
            )
            .bind(certificate_id)
            .bind(*l)
            .fetch_optional(&self.pool)
            .await?;
            if r.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The valid certificates these identities already hold of one certificate, as
    /// (level, number) per identity hash: a higher level links to the one it upgrades.
    pub async fn issued_levels_of(
        &self,
        certificate_id: i64,
        id_hashes: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<(String, String)>>> {
        let mut out: std::collections::HashMap<String, Vec<(String, String)>> =
            std::collections::HashMap::new();
        for chunk in id_hashes.chunks(500) {
            let ph: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT id_hash, level, number FROM issued_certificates
                 WHERE certificate_id = $1 AND state = 'active' AND replaced_by IS NULL AND id_hash IN ({})",
                ph.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(certificate_id);
            for h in chunk {
                q = q.bind(h.as_str());
            }
            for r in q.fetch_all(&self.pool).await? {
                out.entry(r.try_get("id_hash")?)
                    .or_default()
                    .push((r.try_get("level")?, r.try_get("number")?));
            }
        }
        Ok(out)
    }

    /// How many certificates each job state / certificate holds, for a TEO's overview.
    pub async fn issued_count(&self, teo_id: Option<i64>) -> Result<i64> {
        let cond = teo_id
            .map(|t| format!(" WHERE teo_id = {t}"))
            .unwrap_or_default();
        Ok(sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM issued_certificates{cond}"
        )))
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?)
    }
}

impl WriteTx {
    pub async fn issuer_key_insert(
        &mut self,
        org_id: i64,
        key_id: &str,
        public_multibase: &str,
        secret_sealed: &str,
    ) -> Result<()> {
        let at = now();
        sqlx::query(
            "UPDATE issuer_keys SET retired_at = $1 WHERE org_id = $2 AND retired_at IS NULL",
        )
        .bind(at.as_str())
        .bind(org_id)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query(
            "INSERT INTO issuer_keys (org_id, key_id, public_multibase, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(org_id)
        .bind(key_id)
        .bind(public_multibase)
        .bind(secret_sealed)
        .bind(at.as_str())
        .execute(&mut *self.tx)
        .await?;
        let after = serde_json::json!({"key_id": key_id, "public_multibase": public_multibase});
        self.audit(
            "issuer_key.create",
            "organization",
            &org_id.to_string(),
            None,
            Some(&after),
        )
        .await?;
        Ok(())
    }

    /// Reserve `count` numbers of `year`: returns the first.
    async fn reserve_numbers(&mut self, year: i64, count: i64) -> Result<i64> {
        let r = sqlx::query("SELECT next_value FROM number_sequences WHERE year = $1")
            .bind(year)
            .fetch_optional(&mut *self.tx)
            .await?;
        let base = match r {
            Some(r) => r.try_get::<i64, _>("next_value")?,
            None => {
                sqlx::query("INSERT INTO number_sequences (year, next_value) VALUES ($1, 1)")
                    .bind(year)
                    .execute(&mut *self.tx)
                    .await?;
                1
            }
        };
        sqlx::query("UPDATE number_sequences SET next_value = $1 WHERE year = $2")
            .bind(base + count)
            .bind(year)
            .execute(&mut *self.tx)
            .await?;
        Ok(base)
    }

    /// Reserve `count` consecutive slots in the TEO's newest status list with room,
    /// creating a list when none has room.
    async fn reserve_slots(
        &mut self,
        org_id: i64,
        count: i64,
        new_list: &(i64, i64, String),
    ) -> Result<(i64, i64)> {
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let r = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, size, next_slot FROM status_lists WHERE org_id = $1 ORDER BY id DESC LIMIT 1{lock}"
        )))
        .bind(org_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        if let Some(r) = r {
            let (id, size, next): (i64, i64, i64) = (
                r.try_get("id")?,
                r.try_get("size")?,
                r.try_get("next_slot")?,
            );
            if next + count <= size {
                sqlx::query("UPDATE status_lists SET next_slot = $1 WHERE id = $2")
                    .bind(next + count)
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                return Ok((id, next));
            }
        }
        let (size, secret, empty) = new_list;
        if count > *size {
            return Err(StoreError::invalid(FieldError::new(
                "rows",
                "too_many",
                format!("one job issues at most {size} certificates"),
                format!("一次发证最多 {size} 张"),
            )));
        }
        let r = sqlx::query(
            "INSERT INTO status_lists (org_id, size, secret, next_slot, revocation, suspension, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
        )
        .bind(org_id)
        .bind(*size)
        .bind(*secret)
        .bind(count)
        .bind(empty.as_str())
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((r.try_get("id")?, 0))
    }

    /// Create a job with its rows, reserving numbers and status slots for all of them.
    pub async fn issuance_job_create(&mut self, j: &NewJob) -> Result<i64> {
        let total = j.rows.len() as i64;
        let number_base = self.reserve_numbers(j.year, total).await?;
        let (list_id, slot_base) = self.reserve_slots(j.teo_id, total, &j.new_list).await?;
        let r = sqlx::query(
            "INSERT INTO issuance_jobs (teo_id, certificate_id, level, session_id, session_key, source, source_name,
                state, total, done, skipped, year, number_base, status_list_id, slot_base, issued_on, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, 0, 0, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(j.teo_id)
        .bind(j.certificate_id)
        .bind(j.level.as_str())
        .bind(j.session_id)
        .bind(j.session_key.as_str())
        .bind(j.source.as_str())
        .bind(j.source_name.as_str())
        .bind(total)
        .bind(j.year)
        .bind(number_base)
        .bind(list_id)
        .bind(slot_base)
        .bind(j.issued_on.as_str())
        .bind(self.actor.clone())
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        let id: i64 = r.try_get("id")?;
        for chunk in j.rows.chunks(100) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 8 + 2;
                    format!(
                        "($1, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        b,
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO issuance_rows (job_id, ordinal, holder_name, id_number, id_hash, id_masked, person_id, college_id, college_name) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(id);
            for r in chunk {
                q = q
                    .bind(r.ordinal)
                    .bind(r.holder_name.as_str())
                    .bind(r.id_number.clone())
                    .bind(r.id_hash.as_str())
                    .bind(r.id_masked.as_str())
                    .bind(r.person_id)
                    .bind(r.college_id)
                    .bind(r.college_name.clone());
            }
            q.execute(&mut *self.tx).await?;
        }
        let after = serde_json::json!({
            "certificate_id": j.certificate_id, "level": j.level, "session_key": j.session_key,
            "source": j.source, "source_name": j.source_name, "total": total,
            "numbers_from": number_base, "year": j.year,
        });
        self.audit(
            "issuance.create",
            "issuance_job",
            &id.to_string(),
            None,
            Some(&after),
        )
        .await?;
        Ok(id)
    }

    /// Store one chunk of signed certificates and move the job on to `done`. A
    /// certificate whose candidate already holds it is skipped (counted, not duplicated).
    pub async fn issued_insert_chunk(
        &mut self,
        job_id: i64,
        certs: &[NewIssued],
        done: i64,
    ) -> Result<u64> {
        let at = now();
        let mut inserted = 0u64;
        for chunk in certs.chunks(40) {
            const N: usize = 20;
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let cols: Vec<String> = (0..N).map(|k| format!("${}", i * N + k + 2)).collect();
                    format!("({}, NULL, 'active', $1, $1)", cols.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO issued_certificates (number, job_id, certificate_id, level, teo_id, college_id, college_name,
                    person_id, holder_name, id_hash, id_masked, session_key, issued_on, status_list_id, status_index,
                    replaces, upgrades, key_id, credential_json, credential_jwt, state_reason, state, created_at, updated_at)
                 VALUES {} ON CONFLICT DO NOTHING",
                values.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(at.as_str());
            for c in chunk {
                q = q
                    .bind(c.number.as_str())
                    .bind(c.job_id)
                    .bind(c.certificate_id)
                    .bind(c.level.as_str())
                    .bind(c.teo_id)
                    .bind(c.college_id)
                    .bind(c.college_name.clone())
                    .bind(c.person_id)
                    .bind(c.holder_name.as_str())
                    .bind(c.id_hash.as_str())
                    .bind(c.id_masked.as_str())
                    .bind(c.session_key.as_str())
                    .bind(c.issued_on.as_str())
                    .bind(c.status_list_id)
                    .bind(c.status_index)
                    .bind(c.replaces.clone())
                    .bind(c.upgrades.clone())
                    .bind(c.key_id.as_str())
                    .bind(c.credential_json.as_str())
                    .bind(c.credential_jwt.as_str());
            }
            inserted += q.execute(&mut *self.tx).await?.rows_affected();
        }
        let skipped = certs.len() as i64 - inserted as i64;
        sqlx::query("UPDATE issuance_jobs SET done = $1, skipped = skipped + $2 WHERE id = $3")
            .bind(done)
            .bind(skipped)
            .bind(job_id)
            .execute(&mut *self.tx)
            .await?;
        if let (Some(first), Some(last)) = (certs.first(), certs.last()) {
            let after = serde_json::json!({
                "from": first.number, "to": last.number, "issued": inserted, "skipped": skipped, "done": done,
            });
            self.audit(
                "issuance.chunk",
                "issuance_job",
                &job_id.to_string(),
                None,
                Some(&after),
            )
            .await?;
        }
        Ok(inserted)
    }

    /// Finish a job; its staged raw ID numbers are no longer needed and are erased.
    pub async fn issuance_job_finish(
        &mut self,
        job_id: i64,
        state: JobState,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE issuance_jobs SET state = $1, error = $2, finished_at = $3 WHERE id = $4",
        )
        .bind(state.as_str())
        .bind(error.map(str::to_string))
        .bind(now())
        .bind(job_id)
        .execute(&mut *self.tx)
        .await?;
        if state == JobState::Done {
            sqlx::query("UPDATE issuance_rows SET id_number = NULL WHERE job_id = $1")
                .bind(job_id)
                .execute(&mut *self.tx)
                .await?;
        }
        let after = serde_json::json!({"state": state.as_str(), "error": error});
        self.audit(
            "issuance.finish",
            "issuance_job",
            &job_id.to_string(),
            None,
            Some(&after),
        )
        .await?;
        Ok(())
    }

    /// Put a failed job back to running, to resume it where it stopped.
    pub async fn issuance_job_restart(&mut self, job_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE issuance_jobs SET state = 'running', error = NULL, finished_at = NULL WHERE id = $1 AND state = 'failed'",
        )
        .bind(job_id)
        .execute(&mut *self.tx)
        .await?;
        self.audit(
            "issuance.resume",
            "issuance_job",
            &job_id.to_string(),
            None,
            None,
        )
        .await?;
        Ok(())
    }

    /// A status list read inside the transaction (locked on PostgreSQL), to change bits.
    pub async fn status_list_locked(&mut self, id: i64) -> Result<StatusListRow> {
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let r = sqlx::query(AssertSqlSafe(format!(
            "SELECT * FROM status_lists WHERE id = $1{lock}"
        )))
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("status list {id}")))?;
        list_row(&r)
    }

    /// A certificate's new state with its reason, and the re-encoded lists that say so.
    pub async fn issued_set_state(
        &mut self,
        before: &IssuedRow,
        state: IssuedState,
        reason: &str,
        revocation: &str,
        suspension: &str,
    ) -> Result<()> {
        let at = now();
        sqlx::query(
            "UPDATE issued_certificates SET state = $1, state_reason = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(state.as_str())
        .bind(reason)
        .bind(at.as_str())
        .bind(before.id)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query(
            "UPDATE status_lists SET revocation = $1, suspension = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(revocation)
        .bind(suspension)
        .bind(at.as_str())
        .bind(before.status_list_id)
        .execute(&mut *self.tx)
        .await?;
        let b = serde_json::json!({"state": before.state.as_str(), "reason": before.state_reason});
        let a = serde_json::json!({"state": state.as_str(), "reason": reason});
        let action = match state {
            IssuedState::Active => "issued.reinstate",
            IssuedState::Suspended => "issued.suspend",
            IssuedState::Revoked => "issued.revoke",
        };
        self.audit(
            action,
            "issued_certificate",
            &before.number,
            Some(&b),
            Some(&a),
        )
        .await?;
        Ok(())
    }

    /// Mark `old` as replaced by the correction `new`.
    pub async fn issued_mark_replaced(&mut self, old: &str, new: &str) -> Result<()> {
        sqlx::query(
            "UPDATE issued_certificates SET replaced_by = $1, updated_at = $2 WHERE number = $3",
        )
        .bind(new)
        .bind(now())
        .bind(old)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Reserve one number and one status slot for a single certificate (a correction).
    pub async fn reserve_single(
        &mut self,
        year: i64,
        org_id: i64,
        new_list: &(i64, i64, String),
    ) -> Result<(i64, i64, i64)> {
        let n = self.reserve_numbers(year, 1).await?;
        let (list, slot) = self.reserve_slots(org_id, 1, new_list).await?;
        Ok((n, list, slot))
    }

    /// The secret of a status list (for mapping a reserved slot to its index).
    pub async fn status_list_secret(&mut self, id: i64) -> Result<(i64, i64)> {
        let r = sqlx::query("SELECT size, secret FROM status_lists WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok((r.try_get("size")?, r.try_get("secret")?))
    }

    /// Record a single certificate outside a job (a correction), audited.
    pub async fn issued_insert_one(&mut self, c: &NewIssued, reason: &str) -> Result<()> {
        let at = now();
        sqlx::query(
            "INSERT INTO issued_certificates (number, job_id, certificate_id, level, teo_id, college_id, college_name,
                person_id, holder_name, id_hash, id_masked, session_key, issued_on, status_list_id, status_index,
                replaces, upgrades, key_id, credential_json, credential_jwt, state, created_at, updated_at)
             VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 'active', $20, $20)",
        )
        .bind(c.number.as_str())
        .bind(c.certificate_id)
        .bind(c.level.as_str())
        .bind(c.teo_id)
        .bind(c.college_id)
        .bind(c.college_name.clone())
        .bind(c.person_id)
        .bind(c.holder_name.as_str())
        .bind(c.id_hash.as_str())
        .bind(c.id_masked.as_str())
        .bind(c.session_key.as_str())
        .bind(c.issued_on.as_str())
        .bind(c.status_list_id)
        .bind(c.status_index)
        .bind(c.replaces.clone())
        .bind(c.upgrades.clone())
        .bind(c.key_id.as_str())
        .bind(c.credential_json.as_str())
        .bind(c.credential_jwt.as_str())
        .bind(at.as_str())
        .execute(&mut *self.tx)
        .await?;
        let after = serde_json::json!({"number": c.number, "replaces": c.replaces, "holder_name": c.holder_name, "reason": reason});
        self.audit(
            "issued.correct",
            "issued_certificate",
            &c.number,
            None,
            Some(&after),
        )
        .await?;
        Ok(())
    }
}
