use crate::db::{WriteTx, like_pattern, now, opt_str};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use xcert_domain::FieldError;
use xcert_domain::org::{NewOrganization, OrgKind, TeoState};

/// An organization as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OrgRow {
    pub id: i64,
    pub kind: OrgKind,
    pub name_zh: String,
    pub name_en: Option<String>,
    pub credit_code: String,
    pub province: Option<String>,
    pub teo_state: Option<TeoState>,
    pub website: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct OrgFilter {
    pub kind: Option<String>,
    pub province: Option<String>,
    pub q: Option<String>,
}

impl OrgRow {
    fn from_row(r: &AnyRow) -> Result<OrgRow> {
        let kind: String = r.try_get("kind")?;
        Ok(OrgRow {
            id: r.try_get("id")?,
            kind: OrgKind::parse("kind", &kind).map_err(StoreError::invalid)?,
            name_zh: r.try_get("name_zh")?,
            name_en: opt_str(r, "name_en"),
            credit_code: r.try_get("credit_code")?,
            province: opt_str(r, "province"),
            teo_state: opt_str(r, "teo_state").and_then(|s| TeoState::parse("state", &s).ok()),
            website: opt_str(r, "website"),
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl Store {
    pub async fn org_list(&self, f: &OrgFilter) -> Result<Vec<OrgRow>> {
        let mut sql = String::from("SELECT * FROM organizations WHERE 1=1");
        let mut args = Vec::new();
        if let Some(k) = f.kind.as_ref().filter(|s| !s.is_empty()) {
            args.push(k.clone());
            sql.push_str(&format!(" AND kind = ${}", args.len()));
        }
        if let Some(p) = f.province.as_ref().filter(|s| !s.is_empty()) {
            args.push(p.clone());
            sql.push_str(&format!(" AND province = ${}", args.len()));
        }
        if let Some(q) = f.q.as_ref().filter(|s| !s.trim().is_empty()) {
            args.push(like_pattern(q));
            let n = args.len();
            sql.push_str(&format!(
                " AND (LOWER(name_zh) LIKE ${n} ESCAPE '\\' OR LOWER(COALESCE(name_en, '')) LIKE ${n} ESCAPE '\\' OR LOWER(credit_code) LIKE ${n} ESCAPE '\\')"
            ));
        }
        sql.push_str(" ORDER BY kind, province, name_zh");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in args {
            q = q.bind(a);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(OrgRow::from_row)
            .collect()
    }

    pub async fn org_get(&self, id: i64) -> Result<OrgRow> {
        org_by_id(&mut *self.pool.acquire().await?, id).await
    }

    /// Find by credit code, or else by exact Chinese name (how spreadsheets refer to them).
    pub async fn org_find(&self, reference: &str) -> Result<Option<OrgRow>> {
        org_by_reference(&mut *self.pool.acquire().await?, reference).await
    }
}

async fn org_by_id(c: &mut AnyConnection, id: i64) -> Result<OrgRow> {
    let r = sqlx::query("SELECT * FROM organizations WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("organization {id}")))?;
    OrgRow::from_row(&r)
}

async fn org_by_reference(c: &mut AnyConnection, reference: &str) -> Result<Option<OrgRow>> {
    let r = reference.trim();
    let row = sqlx::query(
        "SELECT * FROM organizations WHERE credit_code = $1 OR name_zh = $2 ORDER BY id LIMIT 1",
    )
    .bind(r.to_ascii_uppercase())
    .bind(r)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(OrgRow::from_row).transpose()
}

impl WriteTx {
    pub async fn org_by_credit_code(&mut self, code: &str) -> Result<Option<OrgRow>> {
        let row = sqlx::query("SELECT * FROM organizations WHERE credit_code = $1")
            .bind(code)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(OrgRow::from_row).transpose()
    }

    pub async fn org_get(&mut self, id: i64) -> Result<OrgRow> {
        org_by_id(&mut self.tx, id).await
    }

    pub async fn org_find(&mut self, reference: &str) -> Result<Option<OrgRow>> {
        org_by_reference(&mut self.tx, reference).await
    }

    pub async fn org_create(&mut self, o: &NewOrganization) -> Result<OrgRow> {
        if self
            .org_by_credit_code(o.credit_code.as_str())
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict(FieldError::new(
                "credit_code",
                "taken",
                format!(
                    "an organization with credit code {} already exists",
                    o.credit_code
                ),
                format!("统一社会信用代码 {} 已被其他机构使用", o.credit_code),
            )));
        }
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO organizations (kind, name_zh, name_en, credit_code, province, teo_state, website, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(o.kind.as_str())
        .bind(&o.name_zh)
        .bind(o.name_en.clone())
        .bind(o.credit_code.as_str())
        .bind(o.province.as_ref().map(|p| p.as_str().to_string()))
        .bind(o.teo_state.map(|s| s.as_str().to_string()))
        .bind(o.website.clone())
        .bind(&t)
        .fetch_one(&mut *self.tx)
        .await?;
        let row = self.org_get(id).await?;
        self.audit(
            "create",
            "organization",
            &row.credit_code,
            None,
            Some(&row.to_json()),
        )
        .await?;
        Ok(row)
    }

    /// Replace an organization's profile. Its kind and lifecycle state are not changed here.
    pub async fn org_update(&mut self, id: i64, o: &NewOrganization) -> Result<OrgRow> {
        let before = self.org_get(id).await?;
        if let Some(other) = self.org_by_credit_code(o.credit_code.as_str()).await?
            && other.id != id
        {
            return Err(StoreError::Conflict(FieldError::new(
                "credit_code",
                "taken",
                format!("credit code {} belongs to {}", o.credit_code, other.name_zh),
                format!(
                    "统一社会信用代码 {} 已属于 {}",
                    o.credit_code, other.name_zh
                ),
            )));
        }
        if o.kind != before.kind {
            return Err(StoreError::invalid(FieldError::new(
                "kind",
                "immutable",
                "an organization's kind cannot be changed",
                "机构类型不能修改",
            )));
        }
        sqlx::query(
            "UPDATE organizations SET name_zh = $1, name_en = $2, credit_code = $3, province = $4, website = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(&o.name_zh)
        .bind(o.name_en.clone())
        .bind(o.credit_code.as_str())
        .bind(o.province.as_ref().map(|p| p.as_str().to_string()))
        .bind(o.website.clone())
        .bind(now())
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        let after = self.org_get(id).await?;
        self.audit(
            "update",
            "organization",
            &after.credit_code,
            Some(&before.to_json()),
            Some(&after.to_json()),
        )
        .await?;
        Ok(after)
    }

    /// Move a TEO through its lifecycle; the reason is kept in the audit entry.
    pub async fn teo_set_state(&mut self, id: i64, to: TeoState, reason: &str) -> Result<OrgRow> {
        let before = self.org_get(id).await?;
        let Some(from) = before.teo_state.filter(|_| before.kind == OrgKind::Teo) else {
            return Err(StoreError::invalid(FieldError::new(
                "state",
                "not_teo",
                "only training-evaluation organizations have a lifecycle state",
                "只有培训评价组织有状态",
            )));
        };
        from.transition(to).map_err(StoreError::invalid)?;
        sqlx::query("UPDATE organizations SET teo_state = $1, updated_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(now())
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        let after = self.org_get(id).await?;
        let mut after_json = after.to_json();
        after_json["reason"] = serde_json::Value::String(reason.to_string());
        self.audit(
            "set_state",
            "organization",
            &after.credit_code,
            Some(&before.to_json()),
            Some(&after_json),
        )
        .await?;
        Ok(after)
    }
}
