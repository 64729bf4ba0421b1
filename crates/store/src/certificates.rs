use crate::db::{WriteTx, like_pattern, now, opt_str};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use xcert_domain::FieldError;
use xcert_domain::certificate::{CertificateStatus, NewCertificate};
use xcert_domain::framework::Level;
use xcert_domain::org::TeoState;

/// A certificate with its owning TEO and tags, as listed and shown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CertificateRow {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: Option<String>,
    pub teo_id: i64,
    pub teo_name: String,
    pub teo_credit_code: String,
    pub teo_state: Option<TeoState>,
    pub levels: Vec<Level>,
    pub status: CertificateStatus,
    pub description: Option<String>,
    pub majors: Vec<String>,
    pub posts: Vec<String>,
    pub competitions: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl CertificateRow {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Catalogue search. `include_drafts_of` lets TEO staff see their own drafts;
/// `all_statuses` is for the ministry.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CatalogueFilter {
    pub q: Option<String>,
    pub teo: Option<i64>,
    pub level: Option<String>,
    pub major: Option<String>,
    pub post: Option<String>,
    pub status: Option<String>,
    #[serde(skip)]
    pub include_drafts_of: Option<i64>,
    #[serde(skip)]
    pub all_statuses: bool,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Values for the catalogue's filter drop-downs.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Facets {
    pub teos: Vec<(i64, String)>,
    pub majors: Vec<String>,
    pub posts: Vec<String>,
}

const SELECT: &str =
    "SELECT c.*, o.name_zh AS teo_name, o.credit_code AS teo_credit_code, o.teo_state AS teo_state
     FROM certificates c JOIN organizations o ON o.id = c.teo_id";

fn base_row(r: &AnyRow) -> Result<CertificateRow> {
    let levels: String = r.try_get("levels")?;
    let status: String = r.try_get("status")?;
    Ok(CertificateRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name_zh: r.try_get("name_zh")?,
        name_en: opt_str(r, "name_en"),
        teo_id: r.try_get("teo_id")?,
        teo_name: r.try_get("teo_name")?,
        teo_credit_code: r.try_get("teo_credit_code")?,
        teo_state: opt_str(r, "teo_state").and_then(|s| TeoState::parse("s", &s).ok()),
        levels: levels
            .split(',')
            .filter_map(|l| Level::parse("levels", l).ok())
            .collect(),
        status: CertificateStatus::parse("status", &status).map_err(StoreError::invalid)?,
        description: opt_str(r, "description"),
        majors: vec![],
        posts: vec![],
        competitions: vec![],
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn levels_text(levels: &[Level]) -> String {
    levels
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

async fn attach_tags<'e, E>(exec: E, rows: &mut [CertificateRow]) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if rows.is_empty() {
        return Ok(());
    }
    let ids = rows
        .iter()
        .map(|r| r.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    // ids are integers we produced ourselves, safe to inline.
    let sql = format!(
        "SELECT certificate_id, kind, name FROM certificate_tags WHERE certificate_id IN ({ids}) ORDER BY certificate_id, kind, position"
    );
    let tags = sqlx::query(AssertSqlSafe(sql)).fetch_all(exec).await?;
    for t in tags {
        let cid: i64 = t.try_get("certificate_id")?;
        let kind: String = t.try_get("kind")?;
        let name: String = t.try_get("name")?;
        if let Some(row) = rows.iter_mut().find(|r| r.id == cid) {
            match kind.as_str() {
                "major" => row.majors.push(name),
                "post" => row.posts.push(name),
                "competition" => row.competitions.push(name),
                _ => {}
            }
        }
    }
    Ok(())
}

/// A certificate with its tags, by code (case-insensitive).
async fn certificate_by_code(
    c: &mut sqlx::AnyConnection,
    code: &str,
) -> Result<Option<CertificateRow>> {
    let sql = format!("{SELECT} WHERE c.code = $1");
    let Some(r) = sqlx::query(AssertSqlSafe(sql))
        .bind(code.trim().to_ascii_uppercase())
        .fetch_optional(&mut *c)
        .await?
    else {
        return Ok(None);
    };
    let mut rows = vec![base_row(&r)?];
    attach_tags(&mut *c, &mut rows).await?;
    Ok(rows.pop())
}

impl Store {
    /// Search the catalogue; returns the page and the total number of matches.
    pub async fn catalogue(&self, f: &CatalogueFilter) -> Result<(Vec<CertificateRow>, i64)> {
        let mut wh = vec!["1=1".to_string()];
        let mut args: Vec<String> = Vec::new();
        let mut arg = |v: String| {
            args.push(v);
            format!("${}", args.len())
        };
        if let Some(q) = f.q.as_ref().filter(|s| !s.trim().is_empty()) {
            let p = arg(like_pattern(q));
            wh.push(format!(
                "(LOWER(c.name_zh) LIKE {p} ESCAPE '\\' OR LOWER(COALESCE(c.name_en, '')) LIKE {p} ESCAPE '\\' OR LOWER(c.code) LIKE {p} ESCAPE '\\' OR LOWER(o.name_zh) LIKE {p} ESCAPE '\\' OR EXISTS (SELECT 1 FROM certificate_tags t WHERE t.certificate_id = c.id AND LOWER(t.name) LIKE {p} ESCAPE '\\'))"
            ));
        }
        if let Some(teo) = f.teo {
            wh.push(format!("c.teo_id = {teo}"));
        }
        if let Some(l) = f.level.as_ref().filter(|s| !s.is_empty()) {
            let level = Level::parse("level", l).map_err(StoreError::invalid)?;
            let p = arg(format!("%{}%", level.as_str()));
            wh.push(format!("c.levels LIKE {p}"));
        }
        for (kind, v) in [("major", &f.major), ("post", &f.post)] {
            if let Some(v) = v.as_ref().filter(|s| !s.is_empty()) {
                let p = arg(v.trim().to_string());
                wh.push(format!(
                    "EXISTS (SELECT 1 FROM certificate_tags t WHERE t.certificate_id = c.id AND t.kind = '{kind}' AND t.name = {p})"
                ));
            }
        }
        if let Some(s) = f.status.as_ref().filter(|s| !s.is_empty()) {
            let st = CertificateStatus::parse("status", s).map_err(StoreError::invalid)?;
            let p = arg(st.as_str().to_string());
            wh.push(format!("c.status = {p}"));
        }
        if !f.all_statuses {
            let mut vis = "c.status IN ('published', 'suspended')".to_string();
            if let Some(teo) = f.include_drafts_of {
                vis = format!("({vis} OR c.teo_id = {teo})");
            }
            wh.push(vis);
        }
        let where_sql = wh.join(" AND ");
        let count_sql = format!(
            "SELECT COUNT(*) FROM certificates c JOIN organizations o ON o.id = c.teo_id WHERE {where_sql}"
        );
        let mut cq = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
        for a in &args {
            cq = cq.bind(a.clone());
        }
        let total = cq.fetch_one(&self.pool).await?;
        let limit = f.limit.unwrap_or(50).clamp(1, 500);
        let offset = f.offset.unwrap_or(0).max(0);
        let sql = format!(
            "{SELECT} WHERE {where_sql} ORDER BY o.name_zh, c.code LIMIT {limit} OFFSET {offset}"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a.clone());
        }
        let mut rows = q
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(base_row)
            .collect::<Result<Vec<_>>>()?;
        attach_tags(&self.pool, &mut rows).await?;
        Ok((rows, total))
    }

    pub async fn facets(&self) -> Result<Facets> {
        let teos = sqlx::query(
            "SELECT DISTINCT o.id, o.name_zh FROM organizations o JOIN certificates c ON c.teo_id = o.id
             WHERE c.status IN ('published', 'suspended') ORDER BY o.name_zh",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name_zh")?)))
        .collect::<Result<Vec<_>>>()?;
        let tag = |kind: &'static str| async move {
            let sql = format!(
                "SELECT DISTINCT t.name FROM certificate_tags t JOIN certificates c ON c.id = t.certificate_id
                 WHERE t.kind = '{kind}' AND c.status IN ('published', 'suspended') ORDER BY t.name"
            );
            sqlx::query_scalar::<_, String>(AssertSqlSafe(sql))
                .fetch_all(&self.pool)
                .await
        };
        Ok(Facets {
            teos,
            majors: tag("major").await?,
            posts: tag("post").await?,
        })
    }

    pub async fn certificate_by_code(&self, code: &str) -> Result<CertificateRow> {
        certificate_by_code(&mut *self.pool.acquire().await?, code)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("certificate {code}")))
    }

    pub async fn certificates_of_teo(&self, teo_id: i64) -> Result<Vec<CertificateRow>> {
        let sql = format!("{SELECT} WHERE c.teo_id = $1 ORDER BY c.code");
        let mut rows = sqlx::query(AssertSqlSafe(sql))
            .bind(teo_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(base_row)
            .collect::<Result<Vec<_>>>()?;
        attach_tags(&self.pool, &mut rows).await?;
        Ok(rows)
    }
}

impl WriteTx {
    pub async fn certificate_by_code(&mut self, code: &str) -> Result<Option<CertificateRow>> {
        certificate_by_code(&mut self.tx, code).await
    }

    async fn certificate_must(&mut self, code: &str) -> Result<CertificateRow> {
        self.certificate_by_code(code)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("certificate {code}")))
    }

    async fn write_tags(&mut self, id: i64, c: &NewCertificate) -> Result<()> {
        sqlx::query("DELETE FROM certificate_tags WHERE certificate_id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        for (kind, list) in [
            ("major", &c.majors),
            ("post", &c.posts),
            ("competition", &c.competitions),
        ] {
            for (i, name) in list.iter().enumerate() {
                sqlx::query("INSERT INTO certificate_tags (certificate_id, kind, position, name) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(kind)
                    .bind(i as i64)
                    .bind(name)
                    .execute(&mut *self.tx)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn certificate_create(
        &mut self,
        teo_id: i64,
        c: &NewCertificate,
    ) -> Result<CertificateRow> {
        let teo = self.org_get(teo_id).await?;
        if teo.kind != xcert_domain::org::OrgKind::Teo {
            return Err(StoreError::invalid(FieldError::new(
                "teo",
                "not_teo",
                format!("{} is not a training-evaluation organization", teo.name_zh),
                format!("{} 不是培训评价组织", teo.name_zh),
            )));
        }
        if let Some(state) = teo.teo_state
            && !state.may_edit_certificates()
        {
            return Err(StoreError::invalid(FieldError::new(
                "teo",
                "teo_inactive",
                format!(
                    "{} is {} and cannot add certificates",
                    teo.name_zh,
                    state.en()
                ),
                format!("{} 处于“{}”状态，不能新增证书", teo.name_zh, state.zh()),
            )));
        }
        if self.certificate_by_code(c.code.as_str()).await?.is_some() {
            return Err(StoreError::Conflict(FieldError::new(
                "code",
                "taken",
                format!("certificate code {} is already used", c.code),
                format!("证书代码 {} 已被使用", c.code),
            )));
        }
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO certificates (code, name_zh, name_en, teo_id, levels, status, description, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(c.code.as_str())
        .bind(&c.name_zh)
        .bind(c.name_en.clone())
        .bind(teo_id)
        .bind(levels_text(&c.levels))
        .bind(c.status.as_str())
        .bind(c.description.clone())
        .bind(&t)
        .fetch_one(&mut *self.tx)
        .await?;
        self.write_tags(id, c).await?;
        let row = self.certificate_must(c.code.as_str()).await?;
        self.audit(
            "create",
            "certificate",
            &row.code,
            None,
            Some(&row.to_json()),
        )
        .await?;
        Ok(row)
    }

    /// Update a certificate's fields. Its code and owning TEO stay; status is set
    /// only when `set_status` (the ministry's right) is true.
    pub async fn certificate_update(
        &mut self,
        code: &str,
        c: &NewCertificate,
        set_status: bool,
    ) -> Result<CertificateRow> {
        let before = self.certificate_must(code).await?;
        if c.code.as_str() != before.code {
            return Err(StoreError::invalid(FieldError::new(
                "code",
                "immutable",
                "a certificate's code cannot be changed",
                "证书代码不能修改",
            )));
        }
        let status = if set_status { c.status } else { before.status };
        sqlx::query(
            "UPDATE certificates SET name_zh = $1, name_en = $2, levels = $3, status = $4, description = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(&c.name_zh)
        .bind(c.name_en.clone())
        .bind(levels_text(&c.levels))
        .bind(status.as_str())
        .bind(c.description.clone())
        .bind(now())
        .bind(before.id)
        .execute(&mut *self.tx)
        .await?;
        self.write_tags(before.id, c).await?;
        let after = self.certificate_must(code).await?;
        self.audit(
            "update",
            "certificate",
            code,
            Some(&before.to_json()),
            Some(&after.to_json()),
        )
        .await?;
        Ok(after)
    }
}
