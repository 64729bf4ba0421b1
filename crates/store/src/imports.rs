//! Applying a bulk import: references resolved against the database, every row
//! authorized for the importing user, all rows written in one transaction or none.
//! A dry run is the same work rolled back, so the preview sees every conflict the real
//! run would.

use crate::db::now;
use crate::{Result, Store, StoreError, WriteTx};
use serde::Serialize;
use sqlx::Row;
use xcert_bulk::{ImportSet, RowError, Sheet};
use xcert_domain::FieldError;
use xcert_domain::access::{Action, Principal, authorize};
use xcert_domain::org::OrgKind;

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct ImportSummary {
    pub rows_read: usize,
    pub organizations_created: usize,
    pub organizations_updated: usize,
    pub certificates_created: usize,
    pub certificates_updated: usize,
    pub standards_published: usize,
    /// Standards identical to the version already published (no new version made).
    #[serde(default)]
    pub standards_unchanged: usize,
    pub people_created: usize,
    pub people_updated: usize,
    pub errors: Vec<RowErrorView>,
    pub committed: bool,
}

/// A rejected row as stored with an import job and shown in the preview.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct RowErrorView {
    pub sheet: String,
    pub row: usize,
    pub column: String,
    pub code: String,
    pub en: String,
    pub zh: String,
}

impl From<&RowError> for RowErrorView {
    fn from(e: &RowError) -> Self {
        RowErrorView {
            sheet: e.sheet.key().to_string(),
            row: e.row,
            column: e.column.clone(),
            code: e.code.clone(),
            en: e.en.clone(),
            zh: e.zh.clone(),
        }
    }
}

impl ImportSummary {
    pub fn total_written(&self) -> usize {
        self.organizations_created
            + self.organizations_updated
            + self.certificates_created
            + self.certificates_updated
            + self.standards_published
            + self.people_created
            + self.people_updated
    }
}

/// An uploaded file waiting for (or past) confirmation.
#[derive(Debug, Clone, Serialize)]
pub struct ImportJob {
    pub id: i64,
    pub file_name: String,
    pub file_hash: String,
    pub created_by: String,
    pub created_at: String,
    pub status: String,
    pub summary: ImportSummary,
    pub applied_at: Option<String>,
}

fn err(sheet: Sheet, row: usize, e: FieldError) -> RowErrorView {
    RowErrorView {
        sheet: sheet.key().into(),
        row,
        column: e.field,
        code: e.code,
        en: e.en,
        zh: e.zh,
    }
}

fn denied(sheet: Sheet, row: usize, column: &str, d: xcert_domain::access::Denied) -> RowErrorView {
    RowErrorView {
        sheet: sheet.key().into(),
        row,
        column: column.into(),
        code: "forbidden".into(),
        en: d.en,
        zh: d.zh,
    }
}

/// Turn a store error on one row into row errors; database failures stop the import.
fn row_errors(sheet: Sheet, row: usize, e: StoreError) -> Result<Vec<RowErrorView>> {
    match e {
        StoreError::Invalid(v) => Ok(v.into_iter().map(|f| err(sheet, row, f)).collect()),
        StoreError::Conflict(f) => Ok(vec![err(sheet, row, f)]),
        StoreError::Denied(d) => Ok(vec![denied(sheet, row, "", d)]),
        StoreError::NotFound(what) => Ok(vec![err(
            sheet,
            row,
            FieldError::new(
                "",
                "not_found",
                format!("{what} not found"),
                format!("未找到 {what}"),
            ),
        )]),
        other => Err(other),
    }
}

impl Store {
    /// Apply `set` as `who`. With `commit == false`, or when any row is rejected,
    /// everything is rolled back and the summary says what would have happened.
    pub async fn import_apply(
        &self,
        who: &Principal,
        set: &ImportSet,
        commit: bool,
    ) -> Result<ImportSummary> {
        let mut tx = self.begin_write(&who.username).await?;
        let mut s = ImportSummary {
            rows_read: set.rows_read,
            errors: set.errors.iter().map(RowErrorView::from).collect(),
            ..Default::default()
        };
        apply_rows(&mut tx, who, set, &mut s).await?;
        s.errors.sort_by_key(|e| (sheet_rank(&e.sheet), e.row));
        if commit && s.errors.is_empty() {
            tx.commit().await?;
            s.committed = true;
        }
        Ok(s)
    }

    /// Keep an uploaded file and its preview until the user confirms.
    pub async fn import_stage(
        &self,
        who: &Principal,
        file_name: &str,
        bytes: Vec<u8>,
        preview: &ImportSummary,
    ) -> Result<i64> {
        let hash = self.objects.put(bytes).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO import_jobs (file_name, file_hash, created_by, created_at, status, summary_json) VALUES ($1, $2, $3, $4, 'previewed', $5) RETURNING id",
        )
        .bind(file_name)
        .bind(&hash)
        .bind(&who.username)
        .bind(now())
        .bind(serde_json::to_string(preview).unwrap_or_default())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn import_job(&self, id: i64) -> Result<ImportJob> {
        let r = sqlx::query("SELECT * FROM import_jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("import {id}")))?;
        job_row(&r)
    }

    pub async fn import_jobs(&self, created_by: Option<&str>) -> Result<Vec<ImportJob>> {
        let rows = match created_by {
            Some(u) => {
                sqlx::query(
                    "SELECT * FROM import_jobs WHERE created_by = $1 ORDER BY id DESC LIMIT 50",
                )
                .bind(u)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query("SELECT * FROM import_jobs ORDER BY id DESC LIMIT 50")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(job_row).collect()
    }

    /// Confirm a staged import: parse the stored file again and apply it for real. A job
    /// is applied at most once; confirming twice reports the first result.
    pub async fn import_confirm(&self, who: &Principal, id: i64) -> Result<ImportSummary> {
        let job = self.import_job(id).await?;
        if job.created_by != who.username {
            return Err(StoreError::Denied(xcert_domain::access::Denied {
                en: "only the user who uploaded a file can confirm its import".into(),
                zh: "只有上传者本人可以确认导入".into(),
            }));
        }
        if job.status == "applied" {
            return Ok(job.summary);
        }
        let bytes = self.objects.get(&job.file_hash).await?;
        let set = xcert_bulk::read_file(&job.file_name, &bytes)
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let mut tx = self.begin_write(&who.username).await?;
        // Re-check under the write lock: a concurrent confirm may have applied it.
        let status: String = sqlx::query_scalar("SELECT status FROM import_jobs WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx.tx)
            .await?;
        if status == "applied" {
            drop(tx);
            return Ok(self.import_job(id).await?.summary);
        }
        let mut s = ImportSummary {
            rows_read: set.rows_read,
            errors: set.errors.iter().map(RowErrorView::from).collect(),
            ..Default::default()
        };
        apply_rows(&mut tx, who, &set, &mut s).await?;
        if !s.errors.is_empty() {
            return Ok(s);
        }
        s.committed = true;
        sqlx::query("UPDATE import_jobs SET status = 'applied', applied_at = $1, summary_json = $2 WHERE id = $3")
            .bind(now())
            .bind(serde_json::to_string(&s).unwrap_or_default())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(
            "import",
            "import_job",
            &id.to_string(),
            None,
            Some(&serde_json::json!({"file": job.file_name, "sha256": job.file_hash, "rows_written": s.total_written()})),
        )
        .await?;
        tx.commit().await?;
        Ok(s)
    }
}

fn job_row(r: &sqlx::any::AnyRow) -> Result<ImportJob> {
    let summary: String = r.try_get("summary_json")?;
    Ok(ImportJob {
        id: r.try_get("id")?,
        file_name: r.try_get("file_name")?,
        file_hash: r.try_get("file_hash")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        status: r.try_get("status")?,
        summary: serde_json::from_str(&summary).unwrap_or_default(),
        applied_at: crate::db::opt_str(r, "applied_at"),
    })
}

fn sheet_rank(s: &str) -> usize {
    ["organizations", "certificates", "standards", "people"]
        .iter()
        .position(|k| *k == s)
        .unwrap_or(9)
}

async fn apply_rows(
    tx: &mut WriteTx,
    who: &Principal,
    set: &ImportSet,
    s: &mut ImportSummary,
) -> Result<()> {
    for r in &set.organizations {
        let o = &r.org;
        let province = o.province.as_ref().map(|p| p.as_str());
        let existing = tx.org_by_credit_code(o.credit_code.as_str()).await?;
        let action = match &existing {
            Some(e) => Action::UpdateOrganization {
                org_id: e.id,
                kind: e.kind,
                province,
            },
            None => Action::CreateOrganization {
                kind: o.kind,
                province,
            },
        };
        if let Err(d) = authorize(Some(who), &action) {
            s.errors.push(denied(Sheet::Organizations, r.row, "", d));
            continue;
        }
        let res = match &existing {
            Some(e) => tx
                .org_update(e.id, o)
                .await
                .map(|_| s.organizations_updated += 1),
            None => tx.org_create(o).await.map(|_| s.organizations_created += 1),
        };
        if let Err(e) = res {
            s.errors.extend(row_errors(Sheet::Organizations, r.row, e)?);
        }
    }
    // Certificates rejected in this file: their standards are not reported again.
    let mut failed_certs = std::collections::HashSet::new();
    for r in &set.certificates {
        let errors_before = s.errors.len();
        failed_certs.insert(r.cert.code.as_str().to_string());
        let teo = match resolve_org(tx, &r.teo, OrgKind::Teo).await? {
            Ok(t) => t,
            Err(fe) => {
                s.errors
                    .push(err(Sheet::Certificates, r.row, fe.with_field("teo")));
                continue;
            }
        };
        let existing = tx.certificate_by_code(r.cert.code.as_str()).await?;
        if let Some(e) = &existing
            && e.teo_id != teo
        {
            s.errors.push(err(
                Sheet::Certificates,
                r.row,
                FieldError::new(
                    "teo",
                    "owner_mismatch",
                    format!(
                        "certificate {} belongs to {}; its owner cannot be changed by import",
                        e.code, e.teo_name
                    ),
                    format!(
                        "证书 {} 属于 {}，不能通过导入更换所属组织",
                        e.code, e.teo_name
                    ),
                ),
            ));
            continue;
        }
        let action = match &existing {
            Some(_) => Action::UpdateCertificate { teo_id: teo },
            None => Action::CreateCertificate { teo_id: teo },
        };
        if let Err(d) = authorize(Some(who), &action) {
            s.errors.push(denied(Sheet::Certificates, r.row, "teo", d));
            continue;
        }
        let may_set_status = authorize(Some(who), &Action::SetCertificateStatus).is_ok();
        let mut cert = r.cert.clone();
        if existing.is_none() && !may_set_status {
            // A TEO's new certificate starts as a draft until the ministry publishes it.
            cert.status = xcert_domain::certificate::CertificateStatus::Draft;
        }
        let res = match &existing {
            Some(_) => tx
                .certificate_update(cert.code.as_str(), &cert, may_set_status)
                .await
                .map(|_| s.certificates_updated += 1),
            None => tx
                .certificate_create(teo, &cert)
                .await
                .map(|_| s.certificates_created += 1),
        };
        if let Err(e) = res {
            s.errors.extend(row_errors(Sheet::Certificates, r.row, e)?);
        }
        if s.errors.len() == errors_before {
            failed_certs.remove(r.cert.code.as_str());
        }
    }
    for st in &set.standards {
        let first = st.rows.first().copied().unwrap_or(0);
        if failed_certs.contains(&st.certificate_code) {
            continue;
        }
        let Some(cert) = tx.certificate_by_code(&st.certificate_code).await? else {
            s.errors.push(err(
                Sheet::Standards,
                first,
                FieldError::new(
                    "certificate_code",
                    "unknown_certificate",
                    format!(
                        "certificate {} does not exist (add it on the certificates sheet)",
                        st.certificate_code
                    ),
                    format!("证书 {} 不存在（请在证书表中添加）", st.certificate_code),
                ),
            ));
            continue;
        };
        if let Err(d) = authorize(
            Some(who),
            &Action::UpdateCertificate {
                teo_id: cert.teo_id,
            },
        ) {
            s.errors
                .push(denied(Sheet::Standards, first, "certificate_code", d));
            continue;
        }
        let mut tree = st.tree.clone();
        tree.renumber();
        if tx.standard_published_tree(cert.id).await?.as_ref() == Some(&tree) {
            s.standards_unchanged += 1;
            continue;
        }
        let res = async {
            tx.standard_save_draft(&cert.code, &st.tree, Some("import"))
                .await?;
            tx.standard_publish(&cert.code).await
        }
        .await;
        match res {
            Ok(_) => s.standards_published += 1,
            Err(e) => s.errors.extend(row_errors(Sheet::Standards, first, e)?),
        }
    }
    for r in &set.people {
        let college = match resolve_org(tx, &r.college, OrgKind::College).await? {
            Ok(c) => c,
            Err(fe) => {
                s.errors
                    .push(err(Sheet::People, r.row, fe.with_field("college")));
                continue;
            }
        };
        let province = tx.org_get(college).await?.province;
        if let Err(d) = authorize(
            Some(who),
            &Action::ManagePerson {
                college_id: college,
                province: province.as_deref(),
            },
        ) {
            s.errors.push(denied(Sheet::People, r.row, "college", d));
            continue;
        }
        let existing = tx.person_id_by_number(r.person.id_number.expose()).await?;
        let res = match existing {
            Some(id) => {
                let current = tx.person_get(id).await?;
                if current.college_id != college {
                    s.errors.push(err(
                        Sheet::People,
                        r.row,
                        FieldError::new(
                            "id_number",
                            "other_college",
                            format!(
                                "{} is registered at {}",
                                r.person.id_number.masked(),
                                current.college_name
                            ),
                            format!(
                                "{} 已在 {} 登记",
                                r.person.id_number.masked(),
                                current.college_name
                            ),
                        ),
                    ));
                    continue;
                }
                tx.person_update(id, &r.person)
                    .await
                    .map(|_| s.people_updated += 1)
            }
            None => tx
                .person_create(college, &r.person)
                .await
                .map(|_| s.people_created += 1),
        };
        if let Err(e) = res {
            s.errors.extend(row_errors(Sheet::People, r.row, e)?);
        }
    }
    Ok(())
}

/// Find an organization of `kind` by credit code or exact Chinese name.
async fn resolve_org(
    tx: &mut WriteTx,
    reference: &str,
    kind: OrgKind,
) -> Result<std::result::Result<i64, FieldError>> {
    let r = reference.trim();
    Ok(match tx.org_find(r).await? {
        None => Err(FieldError::new(
            "",
            "unknown_org",
            format!(
                "no {} with credit code or name \"{r}\"",
                kind.en().to_lowercase()
            ),
            format!("未找到统一社会信用代码或名称为“{r}”的{}", kind.zh()),
        )),
        Some(org) if org.kind != kind => Err(FieldError::new(
            "",
            "wrong_kind",
            format!("\"{r}\" is not a {}", kind.en().to_lowercase()),
            format!("“{r}”不是{}", kind.zh()),
        )),
        Some(org) => Ok(org.id),
    })
}
