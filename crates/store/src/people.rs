use crate::db::{WriteTx, like_pattern, now, opt_str};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use xcert_domain::FieldError;
use xcert_domain::access::PeopleScope;
use xcert_domain::person::NewPerson;

/// A student as shown: the identity number only ever masked.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub id_masked: String,
    pub college_id: i64,
    pub college_name: String,
    pub province: Option<String>,
    pub student_no: Option<String>,
    pub major: Option<String>,
    pub phone: Option<String>,
    pub created_at: String,
}

impl PersonRow {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

const SELECT: &str =
    "SELECT p.id, p.name, p.id_masked, p.college_id, p.student_no, p.major, p.phone, p.created_at,
        o.name_zh AS college_name, o.province AS province
     FROM people p JOIN organizations o ON o.id = p.college_id";

fn row(r: &AnyRow) -> Result<PersonRow> {
    Ok(PersonRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        id_masked: r.try_get("id_masked")?,
        college_id: r.try_get("college_id")?,
        college_name: r.try_get("college_name")?,
        province: opt_str(r, "province"),
        student_no: opt_str(r, "student_no"),
        major: opt_str(r, "major"),
        phone: opt_str(r, "phone"),
        created_at: r.try_get("created_at")?,
    })
}

/// The SQL condition and argument for a scope (the scoped view of the people table).
fn scope_sql(scope: &PeopleScope) -> (String, Option<String>) {
    match scope {
        PeopleScope::All => ("1=1".into(), None),
        PeopleScope::Province(p) => ("o.province = $1".into(), Some(p.clone())),
        PeopleScope::College(id) => (format!("p.college_id = {id}"), None),
        PeopleScope::Person(id) => (format!("p.id = {id}"), None),
        PeopleScope::Nothing => ("1=0".into(), None),
    }
}

async fn person_by_id(c: &mut sqlx::AnyConnection, id: i64) -> Result<PersonRow> {
    let sql = format!("{SELECT} WHERE p.id = $1");
    let r = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(c)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("person {id}")))?;
    row(&r)
}

impl Store {
    /// Students visible in `scope`, optionally searched by name, student number or major.
    pub async fn people_list(
        &self,
        scope: &PeopleScope,
        q: Option<&str>,
        college: Option<i64>,
    ) -> Result<Vec<PersonRow>> {
        let (cond, arg) = scope_sql(scope);
        let mut args: Vec<String> = arg.into_iter().collect();
        let mut sql = format!("{SELECT} WHERE {cond}");
        if let Some(q) = q.filter(|s| !s.trim().is_empty()) {
            args.push(like_pattern(q));
            let n = args.len();
            sql.push_str(&format!(
                " AND (LOWER(p.name) LIKE ${n} ESCAPE '\\' OR LOWER(COALESCE(p.student_no, '')) LIKE ${n} ESCAPE '\\' OR LOWER(COALESCE(p.major, '')) LIKE ${n} ESCAPE '\\')"
            ));
        }
        if let Some(c) = college {
            sql.push_str(&format!(" AND p.college_id = {c}"));
        }
        sql.push_str(" ORDER BY o.name_zh, p.student_no, p.id LIMIT 1000");
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for a in args {
            query = query.bind(a);
        }
        query.fetch_all(&self.pool).await?.iter().map(row).collect()
    }

    pub async fn person_get(&self, id: i64) -> Result<PersonRow> {
        person_by_id(&mut *self.pool.acquire().await?, id).await
    }

    /// The raw identity number, for an explicitly requested unmasked export only.
    pub async fn person_raw_id_numbers(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list = ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!("SELECT id, id_number FROM people WHERE id IN ({list})");
        sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("id_number")?)))
            .collect()
    }
}

impl WriteTx {
    pub async fn person_get(&mut self, id: i64) -> Result<PersonRow> {
        person_by_id(&mut self.tx, id).await
    }

    pub async fn person_id_by_number(&mut self, raw: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM people WHERE id_number = $1")
                .bind(raw)
                .fetch_optional(&mut *self.tx)
                .await?,
        )
    }

    fn taken(masked: &str) -> StoreError {
        StoreError::Conflict(FieldError::new(
            "id_number",
            "taken",
            format!("a person with identity number {masked} is already registered"),
            format!("身份证号 {masked} 已登记"),
        ))
    }

    pub async fn person_create(&mut self, college_id: i64, p: &NewPerson) -> Result<PersonRow> {
        if self
            .person_id_by_number(p.id_number.expose())
            .await?
            .is_some()
        {
            return Err(Self::taken(&p.id_number.masked()));
        }
        let college = self.org_get(college_id).await?;
        if college.kind != xcert_domain::org::OrgKind::College {
            return Err(StoreError::invalid(FieldError::new(
                "college",
                "not_college",
                format!("{} is not a college", college.name_zh),
                format!("{} 不是院校", college.name_zh),
            )));
        }
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO people (name, id_number, id_masked, college_id, student_no, major, phone, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(&p.name)
        .bind(p.id_number.expose())
        .bind(p.id_number.masked())
        .bind(college_id)
        .bind(p.student_no.clone())
        .bind(p.major.clone())
        .bind(p.phone.clone())
        .bind(&t)
        .fetch_one(&mut *self.tx)
        .await?;
        let row = self.person_get(id).await?;
        self.audit(
            "create",
            "person",
            &row.id.to_string(),
            None,
            Some(&row.to_json()),
        )
        .await?;
        Ok(row)
    }

    pub async fn person_update(&mut self, id: i64, p: &NewPerson) -> Result<PersonRow> {
        let before = self.person_get(id).await?;
        if let Some(other) = self.person_id_by_number(p.id_number.expose()).await?
            && other != id
        {
            return Err(Self::taken(&p.id_number.masked()));
        }
        sqlx::query(
            "UPDATE people SET name = $1, id_number = $2, id_masked = $3, student_no = $4, major = $5, phone = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&p.name)
        .bind(p.id_number.expose())
        .bind(p.id_number.masked())
        .bind(p.student_no.clone())
        .bind(p.major.clone())
        .bind(p.phone.clone())
        .bind(now())
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        let after = self.person_get(id).await?;
        self.audit(
            "update",
            "person",
            &id.to_string(),
            Some(&before.to_json()),
            Some(&after.to_json()),
        )
        .await?;
        Ok(after)
    }
}
