//! Question banks (题库): items with immutable content versions, staged bank imports,
//! blueprints, and assembled forms (试卷) that point at the exact versions they use.

use crate::db::{WriteTx, like_pattern, now, opt_float, opt_str};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use xcert_assess::blueprint::Blueprint;
use xcert_assess::item::{Item, ItemContent, ItemKind, ItemMeta, ReviewStatus};
use xcert_domain::FieldError;
use xcert_domain::framework::Level;

/// What the bank knows of an item, with its current version's tags.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ItemRow {
    pub id: i64,
    pub certificate_id: i64,
    pub ident: String,
    pub kind: ItemKind,
    pub level: Option<Level>,
    pub difficulty: Option<f64>,
    pub enemy_group: Option<String>,
    pub testlet: Option<String>,
    pub author: Option<String>,
    pub time_seconds: Option<i64>,
    pub review_status: ReviewStatus,
    pub current_version: i64,
    pub points: f64,
    pub stem_text: String,
    pub usage_count: i64,
    pub requirements: Vec<String>,
    pub stats: Option<ItemStats>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Statistics from the latest item analysis: facility, discrimination, IRT parameters.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ItemStats {
    pub n: i64,
    pub p: Option<f64>,
    pub r: Option<f64>,
    pub a: Option<f64>,
    pub b: Option<f64>,
    pub calibrated_at: String,
}

impl ItemRow {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The metadata as the interchange formats carry it.
    pub fn meta(&self) -> ItemMeta {
        ItemMeta {
            ident: self.ident.clone(),
            requirements: self.requirements.clone(),
            level: self.level,
            difficulty: self.difficulty,
            enemy_group: self.enemy_group.clone(),
            testlet: self.testlet.clone(),
            author: self.author.clone(),
            time_seconds: self.time_seconds.map(|t| t as u32),
        }
    }
}

/// One content version of an item.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ItemVersionRow {
    pub item_id: i64,
    pub version: i64,
    pub content: ItemContent,
    pub meta: ItemMeta,
    pub content_hash: String,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

/// Search within a bank.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ItemFilter {
    pub q: Option<String>,
    pub kind: Option<String>,
    pub level: Option<String>,
    pub status: Option<String>,
    /// A skill requirement code or the prefix of one (`2` = work area 2, `2.1` = task 2.1).
    pub requirement: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// What an upsert did to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpsertOutcome {
    Created,
    NewVersion,
    MetadataChanged,
    Unchanged,
}

const SELECT: &str = "SELECT i.id, i.certificate_id, i.ident, i.kind, i.level, i.difficulty, i.enemy_group, i.testlet,
        i.author, i.time_seconds, i.review_status, i.current_version, i.points, i.stem_text,
        (SELECT CAST(COALESCE(SUM(f.deliveries), 0) AS BIGINT) FROM form_items fi JOIN forms f ON f.id = fi.form_id WHERE fi.item_id = i.id) AS usage_count,
        i.stat_n, i.stat_p, i.stat_r, i.irt_a, i.irt_b, i.calibrated_at, i.created_by, i.created_at, i.updated_at
     FROM items i";

fn opt_f64(r: &AnyRow, col: &str) -> Option<f64> {
    r.try_get::<Option<f64>, _>(col).ok().flatten()
}

fn opt_i64(r: &AnyRow, col: &str) -> Option<i64> {
    r.try_get::<Option<i64>, _>(col).ok().flatten()
}

pub(crate) fn parse_level(s: Option<String>) -> Option<Level> {
    s.and_then(|s| Level::parse("level", &s).ok())
}

fn item_row(r: &AnyRow) -> Result<ItemRow> {
    let kind: String = r.try_get("kind")?;
    let status: String = r.try_get("review_status")?;
    let stats = opt_str(r, "calibrated_at").map(|at| ItemStats {
        n: opt_i64(r, "stat_n").unwrap_or(0),
        p: opt_f64(r, "stat_p"),
        r: opt_f64(r, "stat_r"),
        a: opt_f64(r, "irt_a"),
        b: opt_f64(r, "irt_b"),
        calibrated_at: at,
    });
    Ok(ItemRow {
        id: r.try_get("id")?,
        certificate_id: r.try_get("certificate_id")?,
        ident: r.try_get("ident")?,
        kind: ItemKind::parse("kind", &kind).map_err(|e| StoreError::Other(e.en))?,
        level: parse_level(opt_str(r, "level")),
        difficulty: opt_f64(r, "difficulty"),
        enemy_group: opt_str(r, "enemy_group"),
        testlet: opt_str(r, "testlet"),
        author: opt_str(r, "author"),
        time_seconds: opt_i64(r, "time_seconds"),
        review_status: ReviewStatus::parse("review_status", &status)
            .map_err(|e| StoreError::Other(e.en))?,
        current_version: r.try_get("current_version")?,
        points: r.try_get("points")?,
        stem_text: r.try_get("stem_text")?,
        usage_count: r.try_get("usage_count")?,
        requirements: Vec::new(),
        stats,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

async fn attach_requirements(c: &mut sqlx::AnyConnection, rows: &mut [ItemRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    let sql = format!(
        "SELECT item_id, code FROM item_requirements WHERE item_id IN ({}) ORDER BY item_id, code",
        ids.join(",")
    );
    let mut by: std::collections::HashMap<i64, Vec<String>> = Default::default();
    for r in sqlx::query(AssertSqlSafe(sql)).fetch_all(c).await? {
        by.entry(r.try_get("item_id")?)
            .or_default()
            .push(r.try_get("code")?);
    }
    for row in rows {
        if let Some(v) = by.remove(&row.id) {
            row.requirements = v;
        }
    }
    Ok(())
}

fn version_row(r: &AnyRow) -> Result<ItemVersionRow> {
    let content: String = r.try_get("content_json")?;
    let meta: String = r.try_get("meta_json")?;
    Ok(ItemVersionRow {
        item_id: r.try_get("item_id")?,
        version: r.try_get("version")?,
        content: serde_json::from_str(&content)
            .map_err(|e| StoreError::Other(format!("stored item content: {e}")))?,
        meta: serde_json::from_str(&meta)
            .map_err(|e| StoreError::Other(format!("stored item metadata: {e}")))?,
        content_hash: r.try_get("content_hash")?,
        note: opt_str(r, "note"),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

/// SHA-256 of the content's canonical JSON: equal content, equal hash.
pub fn content_hash(c: &ItemContent) -> String {
    let json = serde_json::to_vec(c).unwrap_or_default();
    hex::encode(Sha256::digest(&json))
}

async fn get_item(c: &mut sqlx::AnyConnection, id: i64) -> Result<ItemRow> {
    let sql = format!("{SELECT} WHERE i.id = $1");
    let r = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("item {id}")))?;
    let mut rows = vec![item_row(&r)?];
    attach_requirements(c, &mut rows).await?;
    Ok(rows.remove(0))
}

async fn get_version(
    c: &mut sqlx::AnyConnection,
    item_id: i64,
    version: i64,
) -> Result<ItemVersionRow> {
    let r = sqlx::query(
        "SELECT item_id, version, content_json, meta_json, content_hash, note, created_by, created_at
         FROM item_versions WHERE item_id = $1 AND version = $2",
    )
    .bind(item_id)
    .bind(version)
    .fetch_optional(c)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("item {item_id} version {version}")))?;
    version_row(&r)
}

impl Store {
    /// A page of a certificate's bank and the number of matching items.
    pub async fn items_list(
        &self,
        certificate_id: i64,
        f: &ItemFilter,
    ) -> Result<(Vec<ItemRow>, i64)> {
        let mut conds = vec!["i.certificate_id = $1".to_string()];
        let mut args: Vec<String> = Vec::new();
        // The next placeholder for `v` ($1 is the certificate).
        fn ph(args: &mut Vec<String>, v: String) -> String {
            args.push(v);
            format!("${}", args.len() + 1)
        }
        if let Some(q) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
            let a = ph(&mut args, like_pattern(q));
            let b = ph(&mut args, like_pattern(q));
            conds.push(format!(
                "(LOWER(i.stem_text) LIKE {a} ESCAPE '\\' OR LOWER(i.ident) LIKE {b} ESCAPE '\\')"
            ));
        }
        if let Some(k) = f.kind.as_deref().filter(|s| !s.is_empty()) {
            let kind = ItemKind::parse("kind", k).map_err(|e| StoreError::Invalid(vec![e]))?;
            let a = ph(&mut args, kind.as_str().to_string());
            conds.push(format!("i.kind = {a}"));
        }
        if let Some(l) = f.level.as_deref().filter(|s| !s.is_empty()) {
            let l = Level::parse("level", l).map_err(|e| StoreError::Invalid(vec![e]))?;
            let a = ph(&mut args, l.as_str().to_string());
            conds.push(format!("i.level = {a}"));
        }
        if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
            let st = ReviewStatus::parse("status", s).map_err(|e| StoreError::Invalid(vec![e]))?;
            let a = ph(&mut args, st.as_str().to_string());
            conds.push(format!("i.review_status = {a}"));
        }
        if let Some(code) = f.requirement.as_deref().filter(|s| !s.trim().is_empty()) {
            let a = ph(&mut args, code.trim().to_string());
            let b = ph(&mut args, format!("{}.%", code.trim()));
            conds.push(format!(
                "EXISTS (SELECT 1 FROM item_requirements r WHERE r.item_id = i.id AND (r.code = {a} OR r.code LIKE {b}))"
            ));
        }
        let where_sql = conds.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) FROM items i WHERE {where_sql}");
        let mut cq = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql)).bind(certificate_id);
        for a in &args {
            cq = cq.bind(a.clone());
        }
        let total = cq.fetch_one(&self.pool).await?;
        let limit = f.limit.unwrap_or(50).clamp(1, 10_000);
        let offset = f.offset.unwrap_or(0).max(0);
        let sql =
            format!("{SELECT} WHERE {where_sql} ORDER BY i.ident LIMIT {limit} OFFSET {offset}");
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(certificate_id);
        for a in &args {
            q = q.bind(a.clone());
        }
        let mut rows = q
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(item_row)
            .collect::<Result<Vec<_>>>()?;
        attach_requirements(&mut *self.pool.acquire().await?, &mut rows).await?;
        Ok((rows, total))
    }

    pub async fn item_get(&self, id: i64) -> Result<ItemRow> {
        get_item(&mut *self.pool.acquire().await?, id).await
    }

    pub async fn item_by_ident(&self, certificate_id: i64, ident: &str) -> Result<ItemRow> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM items WHERE certificate_id = $1 AND ident = $2")
                .bind(certificate_id)
                .bind(ident)
                .fetch_optional(&self.pool)
                .await?;
        match id {
            Some(id) => self.item_get(id).await,
            None => Err(StoreError::NotFound(format!("item {ident}"))),
        }
    }

    /// A version of an item (the current one when `version` is None).
    pub async fn item_version(&self, id: i64, version: Option<i64>) -> Result<ItemVersionRow> {
        let mut c = self.pool.acquire().await?;
        let v = match version {
            Some(v) => v,
            None => get_item(&mut c, id).await?.current_version,
        };
        get_version(&mut c, id, v).await
    }

    /// Every version of an item, newest first.
    pub async fn item_versions(&self, id: i64) -> Result<Vec<ItemVersionRow>> {
        sqlx::query(
            "SELECT item_id, version, content_json, meta_json, content_hash, note, created_by, created_at
             FROM item_versions WHERE item_id = $1 ORDER BY version DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(version_row)
        .collect()
    }

    /// The bank's items with their current content, for exports (all statuses but
    /// retired unless asked).
    pub async fn items_with_content(
        &self,
        certificate_id: i64,
        f: &ItemFilter,
    ) -> Result<Vec<(ItemRow, ItemVersionRow)>> {
        let mut f = f.clone();
        f.limit = Some(10_000);
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            f.offset = Some(offset);
            let (rows, total) = self.items_list(certificate_id, &f).await?;
            let n = rows.len() as i64;
            let mut c = self.pool.acquire().await?;
            for r in rows {
                let v = get_version(&mut c, r.id, r.current_version).await?;
                out.push((r, v));
            }
            offset += n;
            if n == 0 || offset >= total {
                break;
            }
        }
        Ok(out)
    }

    /// Approved items of a certificate level: the pool assembly draws from.
    pub async fn item_pool(&self, certificate_id: i64, level: Level) -> Result<Vec<ItemRow>> {
        let sql = format!(
            "{SELECT} WHERE i.certificate_id = $1 AND i.level = $2 AND i.review_status = 'approved' ORDER BY i.ident"
        );
        let mut rows = sqlx::query(AssertSqlSafe(sql))
            .bind(certificate_id)
            .bind(level.as_str())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(item_row)
            .collect::<Result<Vec<_>>>()?;
        attach_requirements(&mut *self.pool.acquire().await?, &mut rows).await?;
        Ok(rows)
    }

    /// Counts of a bank by level × kind × status, for the bank page.
    pub async fn item_counts(
        &self,
        certificate_id: i64,
    ) -> Result<Vec<(Option<Level>, ItemKind, ReviewStatus, i64)>> {
        let rows = sqlx::query(
            "SELECT level, kind, review_status, COUNT(*) AS n FROM items WHERE certificate_id = $1
             GROUP BY level, kind, review_status",
        )
        .bind(certificate_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let status: String = r.try_get("review_status")?;
                Ok((
                    parse_level(opt_str(r, "level")),
                    ItemKind::parse("kind", &kind).map_err(|e| StoreError::Other(e.en))?,
                    ReviewStatus::parse("s", &status).map_err(|e| StoreError::Other(e.en))?,
                    r.try_get("n")?,
                ))
            })
            .collect()
    }
}

impl WriteTx {
    pub async fn item_get(&mut self, id: i64) -> Result<ItemRow> {
        get_item(&mut self.tx, id).await
    }

    /// Create an item, or update the one with the same identifier in the bank: new content
    /// makes a new version (old versions stay for the forms that use them); changed
    /// metadata is updated in place. `status` None keeps an existing item's status (new
    /// items start as drafts). Audited.
    pub async fn item_upsert(
        &mut self,
        certificate_id: i64,
        item: &Item,
        status: Option<ReviewStatus>,
        note: Option<&str>,
    ) -> Result<(ItemRow, UpsertOutcome)> {
        item.validate().map_err(StoreError::Invalid)?;
        let content = {
            let mut c = item.content.clone();
            c.stem = xcert_assess::markup::sanitize(&c.stem);
            c
        };
        let meta = &item.meta;
        let hash = content_hash(&content);
        let content_json = serde_json::to_string(&content).unwrap_or_default();
        let meta_json = serde_json::to_string(meta).unwrap_or_default();
        let stem_text: String = xcert_assess::markup::plain_text(&content.stem)
            .chars()
            .take(2000)
            .collect();
        let t = now();
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM items WHERE certificate_id = $1 AND ident = $2")
                .bind(certificate_id)
                .bind(meta.ident.trim())
                .fetch_optional(&mut *self.tx)
                .await?;
        let actor = self.actor.clone();
        let (id, outcome, before) = match existing {
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO items (certificate_id, ident, kind, level, difficulty, enemy_group, testlet, author,
                        time_seconds, review_status, current_version, points, stem_text, created_by, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, CAST($5 AS DOUBLE PRECISION), $6, $7, $8, $9, $10, 1, $11, $12, $13, $14, $14) RETURNING id",
                )
                .bind(certificate_id)
                .bind(meta.ident.trim())
                .bind(content.kind.as_str())
                .bind(meta.level.map(|l| l.as_str()))
                .bind(opt_float(meta.difficulty))
                .bind(meta.enemy_group.clone())
                .bind(meta.testlet.clone())
                .bind(meta.author.clone())
                .bind(meta.time_seconds.map(|t| t as i64))
                .bind(status.unwrap_or(ReviewStatus::Draft).as_str())
                .bind(content.points)
                .bind(&stem_text)
                .bind(&actor)
                .bind(&t)
                .fetch_one(&mut *self.tx)
                .await?;
                self.insert_version(id, 1, &content_json, &hash, &meta_json, note, &t)
                    .await?;
                (id, UpsertOutcome::Created, None)
            }
            Some(id) => {
                let before = get_item(&mut self.tx, id).await?;
                let cur = get_version(&mut self.tx, id, before.current_version).await?;
                let content_changed = cur.content_hash != hash;
                let meta_changed = before.meta() != trimmed(meta);
                if !content_changed
                    && !meta_changed
                    && status.is_none_or(|s| s == before.review_status)
                {
                    return Ok((before, UpsertOutcome::Unchanged));
                }
                let version = if content_changed {
                    before.current_version + 1
                } else {
                    before.current_version
                };
                if content_changed {
                    self.insert_version(id, version, &content_json, &hash, &meta_json, note, &t)
                        .await?;
                } else {
                    sqlx::query("UPDATE item_versions SET meta_json = $1 WHERE item_id = $2 AND version = $3")
                        .bind(&meta_json)
                        .bind(id)
                        .bind(version)
                        .execute(&mut *self.tx)
                        .await?;
                }
                // Changed content goes back to review unless the caller says otherwise.
                let new_status = status.unwrap_or(
                    if content_changed && before.review_status == ReviewStatus::Approved {
                        ReviewStatus::InReview
                    } else {
                        before.review_status
                    },
                );
                sqlx::query(
                    "UPDATE items SET kind = $1, level = $2, difficulty = CAST($3 AS DOUBLE PRECISION), enemy_group = $4, testlet = $5, author = $6,
                        time_seconds = $7, review_status = $8, current_version = $9, points = $10, stem_text = $11, updated_at = $12
                     WHERE id = $13",
                )
                .bind(content.kind.as_str())
                .bind(meta.level.map(|l| l.as_str()))
                .bind(opt_float(meta.difficulty))
                .bind(meta.enemy_group.clone())
                .bind(meta.testlet.clone())
                .bind(meta.author.clone())
                .bind(meta.time_seconds.map(|t| t as i64))
                .bind(new_status.as_str())
                .bind(version)
                .bind(content.points)
                .bind(&stem_text)
                .bind(&t)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
                let outcome = if content_changed {
                    UpsertOutcome::NewVersion
                } else {
                    UpsertOutcome::MetadataChanged
                };
                (id, outcome, Some(before))
            }
        };
        sqlx::query("DELETE FROM item_requirements WHERE item_id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        let mut codes: Vec<&str> = meta.requirements.iter().map(|s| s.trim()).collect();
        codes.sort();
        codes.dedup();
        for code in codes {
            sqlx::query("INSERT INTO item_requirements (item_id, code) VALUES ($1, $2)")
                .bind(id)
                .bind(code)
                .execute(&mut *self.tx)
                .await?;
        }
        let row = get_item(&mut self.tx, id).await?;
        let summary = |r: &ItemRow| {
            serde_json::json!({"ident": r.ident, "kind": r.kind, "version": r.current_version,
                "status": r.review_status, "level": r.level, "requirements": r.requirements})
        };
        let action = match outcome {
            UpsertOutcome::Created => "create",
            UpsertOutcome::NewVersion => "new_version",
            _ => "update",
        };
        let mut after = summary(&row);
        after["content_hash"] = serde_json::json!(hash);
        self.audit(
            action,
            "item",
            &row.id.to_string(),
            before.as_ref().map(summary).as_ref(),
            Some(&after),
        )
        .await?;
        Ok((row, outcome))
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_version(
        &mut self,
        item_id: i64,
        version: i64,
        content_json: &str,
        hash: &str,
        meta_json: &str,
        note: Option<&str>,
        t: &str,
    ) -> Result<()> {
        let actor = self.actor.clone();
        sqlx::query(
            "INSERT INTO item_versions (item_id, version, content_json, content_hash, meta_json, note, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(item_id)
        .bind(version)
        .bind(content_json)
        .bind(hash)
        .bind(meta_json)
        .bind(note)
        .bind(actor)
        .bind(t)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Move an item through review. Approving needs a level and at least one skill
    /// requirement tag: assembly cannot place an item without them.
    pub async fn item_set_status(&mut self, id: i64, to: ReviewStatus) -> Result<ItemRow> {
        let before = get_item(&mut self.tx, id).await?;
        if to == ReviewStatus::Approved
            && (before.level.is_none() || before.requirements.is_empty())
        {
            return Err(StoreError::invalid(FieldError::new(
                "review_status",
                "untagged",
                format!(
                    "item {} needs a level and a skill requirement before it can be approved",
                    before.ident
                ),
                format!(
                    "题目 {} 须先标注等级和职业技能要求才能审核通过",
                    before.ident
                ),
            )));
        }
        sqlx::query("UPDATE items SET review_status = $1, updated_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(now())
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        let after = get_item(&mut self.tx, id).await?;
        self.audit(
            "set_status",
            "item",
            &id.to_string(),
            Some(&serde_json::json!({"status": before.review_status})),
            Some(&serde_json::json!({"status": after.review_status})),
        )
        .await?;
        Ok(after)
    }

    /// Record item statistics from an analysis (facility, discrimination, IRT a and b).
    pub async fn item_set_stats(&mut self, id: i64, stats: &ItemStats) -> Result<()> {
        sqlx::query(
            "UPDATE items SET stat_n = $1, stat_p = CAST($2 AS DOUBLE PRECISION), stat_r = CAST($3 AS DOUBLE PRECISION),
                irt_a = CAST($4 AS DOUBLE PRECISION), irt_b = CAST($5 AS DOUBLE PRECISION), calibrated_at = $6 WHERE id = $7",
        )
        .bind(stats.n)
        .bind(opt_float(stats.p))
        .bind(opt_float(stats.r))
        .bind(opt_float(stats.a))
        .bind(opt_float(stats.b))
        .bind(&stats.calibrated_at)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

fn trimmed(m: &ItemMeta) -> ItemMeta {
    let mut m = m.clone();
    m.ident = m.ident.trim().to_string();
    let mut r: Vec<String> = m
        .requirements
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    r.sort();
    r.dedup();
    m.requirements = r;
    m
}

// ---------------------------------------------------------------------------------------
// Bank imports

/// A staged bank import with its report (what would be imported, what was refused).
#[derive(Debug, Clone, Serialize)]
pub struct ItemImportRow {
    pub id: i64,
    pub certificate_id: i64,
    pub file_name: String,
    pub file_hash: String,
    pub format: String,
    pub status: String,
    pub report: serde_json::Value,
    pub created_by: String,
    pub created_at: String,
    pub applied_at: Option<String>,
}

fn import_row(r: &AnyRow) -> Result<ItemImportRow> {
    let report: String = r.try_get("report_json")?;
    Ok(ItemImportRow {
        id: r.try_get("id")?,
        certificate_id: r.try_get("certificate_id")?,
        file_name: r.try_get("file_name")?,
        file_hash: r.try_get("file_hash")?,
        format: r.try_get("format")?,
        status: r.try_get("status")?,
        report: serde_json::from_str(&report).unwrap_or_default(),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        applied_at: opt_str(r, "applied_at"),
    })
}

impl Store {
    pub async fn item_import_get(&self, id: i64) -> Result<ItemImportRow> {
        let r = sqlx::query("SELECT * FROM item_imports WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("bank import {id}")))?;
        import_row(&r)
    }

    pub async fn item_imports(&self, certificate_id: i64) -> Result<Vec<ItemImportRow>> {
        sqlx::query(
            "SELECT * FROM item_imports WHERE certificate_id = $1 ORDER BY id DESC LIMIT 50",
        )
        .bind(certificate_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(import_row)
        .collect()
    }
}

impl WriteTx {
    pub async fn item_import_create(
        &mut self,
        certificate_id: i64,
        file_name: &str,
        file_hash: &str,
        format: &str,
        report: &serde_json::Value,
    ) -> Result<ItemImportRow> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO item_imports (certificate_id, file_name, file_hash, format, status, report_json, created_by, created_at)
             VALUES ($1, $2, $3, $4, 'previewed', $5, $6, $7) RETURNING id",
        )
        .bind(certificate_id)
        .bind(file_name)
        .bind(file_hash)
        .bind(format)
        .bind(report.to_string())
        .bind(self.actor.clone())
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        self.audit(
            "stage",
            "item_import",
            &id.to_string(),
            None,
            Some(&serde_json::json!({"file": file_name, "format": format, "hash": file_hash})),
        )
        .await?;
        let r = sqlx::query("SELECT * FROM item_imports WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        import_row(&r)
    }

    /// Mark a staged import applied, storing the result; refuses a second application.
    pub async fn item_import_mark_applied(
        &mut self,
        id: i64,
        result: &serde_json::Value,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE item_imports SET status = 'applied', applied_at = $1, report_json = $2 WHERE id = $3 AND status = 'previewed'",
        )
        .bind(now())
        .bind(result.to_string())
        .bind(id)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(FieldError::new(
                "import",
                "applied",
                "this import was already applied",
                "该导入已执行过",
            )));
        }
        self.audit("apply", "item_import", &id.to_string(), None, Some(result))
            .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Blueprints

#[derive(Debug, Clone, Serialize)]
pub struct BlueprintRow {
    pub id: i64,
    pub certificate_id: i64,
    pub level: Level,
    pub title: String,
    pub spec: Blueprint,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

fn blueprint_row(r: &AnyRow) -> Result<BlueprintRow> {
    let spec: String = r.try_get("spec_json")?;
    let level: String = r.try_get("level")?;
    Ok(BlueprintRow {
        id: r.try_get("id")?,
        certificate_id: r.try_get("certificate_id")?,
        level: Level::parse("level", &level).map_err(|e| StoreError::Other(e.en))?,
        title: r.try_get("title")?,
        spec: serde_json::from_str(&spec)
            .map_err(|e| StoreError::Other(format!("stored blueprint: {e}")))?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl Store {
    pub async fn blueprints(&self, certificate_id: i64) -> Result<Vec<BlueprintRow>> {
        sqlx::query("SELECT * FROM blueprints WHERE certificate_id = $1 ORDER BY level, id")
            .bind(certificate_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(blueprint_row)
            .collect()
    }

    pub async fn blueprint_get(&self, id: i64) -> Result<BlueprintRow> {
        let r = sqlx::query("SELECT * FROM blueprints WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("blueprint {id}")))?;
        blueprint_row(&r)
    }
}

impl WriteTx {
    /// Save a blueprint (new when `id` is None). Validated first.
    pub async fn blueprint_save(
        &mut self,
        certificate_id: i64,
        id: Option<i64>,
        spec: &Blueprint,
    ) -> Result<BlueprintRow> {
        spec.validate().map_err(StoreError::Invalid)?;
        let json = serde_json::to_string(spec).unwrap_or_default();
        let t = now();
        let id = match id {
            None => {
                sqlx::query_scalar(
                    "INSERT INTO blueprints (certificate_id, level, title, spec_json, created_by, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                )
                .bind(certificate_id)
                .bind(spec.level.as_str())
                .bind(&spec.title)
                .bind(&json)
                .bind(self.actor.clone())
                .bind(&t)
                .fetch_one(&mut *self.tx)
                .await?
            }
            Some(id) => {
                let n = sqlx::query(
                    "UPDATE blueprints SET level = $1, title = $2, spec_json = $3, updated_at = $4 WHERE id = $5 AND certificate_id = $6",
                )
                .bind(spec.level.as_str())
                .bind(&spec.title)
                .bind(&json)
                .bind(&t)
                .bind(id)
                .bind(certificate_id)
                .execute(&mut *self.tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound(format!("blueprint {id}")));
                }
                id
            }
        };
        self.audit(
            "save",
            "blueprint",
            &id.to_string(),
            None,
            Some(&serde_json::to_value(spec).unwrap_or_default()),
        )
        .await?;
        let r = sqlx::query("SELECT * FROM blueprints WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        blueprint_row(&r)
    }
}

// ---------------------------------------------------------------------------------------
// Forms

/// Where a form stands: `ready` forms can be scheduled; once a session uses one it is
/// `used` and frozen; `retired` forms are kept for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormStatus {
    Ready,
    Used,
    Retired,
}

impl FormStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FormStatus::Ready => "ready",
            FormStatus::Used => "used",
            FormStatus::Retired => "retired",
        }
    }
    fn parse(s: &str) -> FormStatus {
        match s {
            "used" => FormStatus::Used,
            "retired" => FormStatus::Retired,
            _ => FormStatus::Ready,
        }
    }
}

/// One item of a form: position, the item and exact version, the points it earns here.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FormItem {
    pub position: i64,
    pub item_id: i64,
    pub version: i64,
    pub points: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FormRow {
    pub id: i64,
    pub certificate_id: i64,
    pub blueprint_id: Option<i64>,
    pub level: Level,
    pub code: String,
    pub title: String,
    pub items_count: i64,
    pub total_points: f64,
    pub time_limit_minutes: i64,
    pub status: FormStatus,
    /// How the form was assembled (solver, status, gap, statistics against the blueprint).
    pub assembly: serde_json::Value,
    pub created_by: String,
    pub created_at: String,
}

fn form_row(r: &AnyRow) -> Result<FormRow> {
    let level: String = r.try_get("level")?;
    let status: String = r.try_get("status")?;
    let assembly: String = r.try_get("assembly_json")?;
    Ok(FormRow {
        id: r.try_get("id")?,
        certificate_id: r.try_get("certificate_id")?,
        blueprint_id: opt_i64(r, "blueprint_id"),
        level: Level::parse("level", &level).map_err(|e| StoreError::Other(e.en))?,
        code: r.try_get("code")?,
        title: r.try_get("title")?,
        items_count: r.try_get("items_count")?,
        total_points: r.try_get("total_points")?,
        time_limit_minutes: r.try_get("time_limit_minutes")?,
        status: FormStatus::parse(&status),
        assembly: serde_json::from_str(&assembly).unwrap_or_default(),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A form with its items' content at the versions it uses, ready to deliver and score.
#[derive(Debug, Clone)]
pub struct FormContent {
    pub form: FormRow,
    /// (form item, content at that version, testlet)
    pub items: Vec<(FormItem, ItemContent, Option<String>)>,
}

async fn form_items(c: &mut sqlx::AnyConnection, form_id: i64) -> Result<Vec<FormItem>> {
    sqlx::query(
        "SELECT position, item_id, version, points FROM form_items WHERE form_id = $1 ORDER BY position",
    )
    .bind(form_id)
    .fetch_all(c)
    .await?
    .iter()
    .map(|r| {
        Ok(FormItem {
            position: r.try_get("position")?,
            item_id: r.try_get("item_id")?,
            version: r.try_get("version")?,
            points: r.try_get("points")?,
        })
    })
    .collect()
}

impl Store {
    pub async fn forms(&self, certificate_id: i64) -> Result<Vec<FormRow>> {
        sqlx::query("SELECT * FROM forms WHERE certificate_id = $1 ORDER BY id DESC")
            .bind(certificate_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(form_row)
            .collect()
    }

    pub async fn form_get(&self, id: i64) -> Result<(FormRow, Vec<FormItem>)> {
        let mut c = self.pool.acquire().await?;
        let r = sqlx::query("SELECT * FROM forms WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("form {id}")))?;
        let form = form_row(&r)?;
        let items = form_items(&mut c, id).await?;
        Ok((form, items))
    }

    /// A form with every item's content at the version it uses.
    pub async fn form_content(&self, id: i64) -> Result<FormContent> {
        let (form, items) = self.form_get(id).await?;
        let mut c = self.pool.acquire().await?;
        let mut out = Vec::with_capacity(items.len());
        for fi in items {
            let v = get_version(&mut c, fi.item_id, fi.version).await?;
            let testlet = v.meta.testlet.clone();
            out.push((fi, v.content, testlet));
        }
        Ok(FormContent { form, items: out })
    }
}

/// A form to create: its items (item id, version, points) in order.
#[derive(Debug, Clone)]
pub struct NewForm {
    pub certificate_id: i64,
    pub blueprint_id: Option<i64>,
    pub level: Level,
    pub code: String,
    pub title: String,
    pub time_limit_minutes: i64,
    pub items: Vec<(i64, i64, f64)>,
    pub assembly: serde_json::Value,
}

impl WriteTx {
    /// Store an assembled (or hand-made) form. Every item must belong to the
    /// certificate; the versions are the items' current ones unless given.
    pub async fn form_create(&mut self, f: &NewForm) -> Result<FormRow> {
        if f.items.is_empty() {
            return Err(StoreError::invalid(FieldError::new(
                "items",
                "empty_form",
                "a form needs at least one item",
                "试卷至少需要一道题",
            )));
        }
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM forms WHERE code = $1")
            .bind(&f.code)
            .fetch_optional(&mut *self.tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(FieldError::new(
                "code",
                "taken",
                format!("form code {} is taken", f.code),
                format!("试卷编号 {} 已存在", f.code),
            )));
        }
        let total: f64 = f.items.iter().map(|(_, _, p)| p).sum();
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO forms (certificate_id, blueprint_id, level, code, title, items_count, total_points, time_limit_minutes,
                status, deliveries, assembly_json, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'ready', 0, $9, $10, $11) RETURNING id",
        )
        .bind(f.certificate_id)
        .bind(f.blueprint_id)
        .bind(f.level.as_str())
        .bind(&f.code)
        .bind(&f.title)
        .bind(f.items.len() as i64)
        .bind(total)
        .bind(f.time_limit_minutes)
        .bind(f.assembly.to_string())
        .bind(self.actor.clone())
        .bind(&t)
        .fetch_one(&mut *self.tx)
        .await?;
        for (pos, (item_id, version, points)) in f.items.iter().enumerate() {
            let owner: Option<i64> = sqlx::query_scalar(
                "SELECT i.certificate_id FROM items i JOIN item_versions v ON v.item_id = i.id AND v.version = $2 WHERE i.id = $1",
            )
            .bind(item_id)
            .bind(version)
            .fetch_optional(&mut *self.tx)
            .await?;
            if owner != Some(f.certificate_id) {
                return Err(StoreError::invalid(FieldError::new(
                    "items",
                    "foreign_item",
                    format!("item {item_id} version {version} is not in this certificate's bank"),
                    format!("题目 {item_id} 第 {version} 版不在本证书题库中"),
                )));
            }
            sqlx::query(
                "INSERT INTO form_items (form_id, position, item_id, version, points) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(pos as i64)
            .bind(item_id)
            .bind(version)
            .bind(points)
            .execute(&mut *self.tx)
            .await?;
        }
        self.audit(
            "create",
            "form",
            &id.to_string(),
            None,
            Some(&serde_json::json!({"code": f.code, "items": f.items.len(), "points": total, "level": f.level})),
        )
        .await?;
        let r = sqlx::query("SELECT * FROM forms WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        form_row(&r)
    }

    pub async fn form_set_status(&mut self, id: i64, status: FormStatus) -> Result<()> {
        sqlx::query("UPDATE forms SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        self.audit(
            "set_status",
            "form",
            &id.to_string(),
            None,
            Some(&serde_json::json!({"status": status})),
        )
        .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Assembly runs

/// One assembly run of a blueprint.
#[derive(Debug, Clone, Serialize)]
pub struct AssemblyRow {
    pub id: i64,
    pub blueprint_id: i64,
    pub certificate_id: i64,
    /// `assembled`, `short` (the pool cannot meet the blueprint), `failed`, `accepted`.
    pub status: String,
    pub options: serde_json::Value,
    pub result: serde_json::Value,
    pub form_ids: Vec<i64>,
    pub created_by: String,
    pub created_at: String,
    pub accepted_at: Option<String>,
}

fn assembly_row(r: &AnyRow) -> Result<AssemblyRow> {
    let options: String = r.try_get("options_json")?;
    let result: String = r.try_get("result_json")?;
    Ok(AssemblyRow {
        id: r.try_get("id")?,
        blueprint_id: r.try_get("blueprint_id")?,
        certificate_id: r.try_get("certificate_id")?,
        status: r.try_get("status")?,
        options: serde_json::from_str(&options).unwrap_or_default(),
        result: serde_json::from_str(&result).unwrap_or_default(),
        form_ids: opt_str(r, "form_ids")
            .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or_default(),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        accepted_at: opt_str(r, "accepted_at"),
    })
}

impl Store {
    pub async fn assembly_get(&self, id: i64) -> Result<AssemblyRow> {
        let r = sqlx::query("SELECT * FROM assemblies WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("assembly {id}")))?;
        assembly_row(&r)
    }

    pub async fn assemblies(&self, blueprint_id: i64) -> Result<Vec<AssemblyRow>> {
        sqlx::query("SELECT * FROM assemblies WHERE blueprint_id = $1 ORDER BY id DESC LIMIT 20")
            .bind(blueprint_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(assembly_row)
            .collect()
    }

    /// How many forms each item of a certificate appears in: the exposure assembly
    /// spreads (least-used first, and the blueprint's cap).
    pub async fn item_form_counts(
        &self,
        certificate_id: i64,
    ) -> Result<std::collections::HashMap<i64, i64>> {
        let rows = sqlx::query(
            "SELECT fi.item_id, COUNT(DISTINCT fi.form_id) AS n FROM form_items fi JOIN forms f ON f.id = fi.form_id
             WHERE f.certificate_id = $1 GROUP BY fi.item_id",
        )
        .bind(certificate_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("item_id")?, r.try_get("n")?)))
            .collect()
    }
}

impl WriteTx {
    pub async fn assembly_save(
        &mut self,
        blueprint_id: i64,
        certificate_id: i64,
        status: &str,
        options: &serde_json::Value,
        result: &serde_json::Value,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO assemblies (blueprint_id, certificate_id, status, options_json, result_json, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(blueprint_id)
        .bind(certificate_id)
        .bind(status)
        .bind(options.to_string())
        .bind(result.to_string())
        .bind(self.actor.clone())
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        let summary = serde_json::json!({
            "blueprint": blueprint_id, "status": status,
            "solver": result.get("solver"), "gap": result.get("gap"),
            "forms": result.get("forms").and_then(|f| f.as_array()).map(|f| f.len()),
        });
        self.audit(
            "assemble",
            "blueprint",
            &blueprint_id.to_string(),
            None,
            Some(&summary),
        )
        .await?;
        Ok(id)
    }

    /// Record that an assembly's forms were created; refuses a second acceptance.
    pub async fn assembly_mark_accepted(&mut self, id: i64, form_ids: &[i64]) -> Result<()> {
        let list: Vec<String> = form_ids.iter().map(|i| i.to_string()).collect();
        let n = sqlx::query(
            "UPDATE assemblies SET status = 'accepted', form_ids = $1, accepted_at = $2 WHERE id = $3 AND status = 'assembled'",
        )
        .bind(list.join(","))
        .bind(now())
        .bind(id)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(FieldError::new(
                "assembly",
                "not_acceptable",
                "this assembly was already accepted or produced no forms",
                "该组卷结果已采用过或没有生成试卷",
            )));
        }
        self.audit(
            "accept",
            "assembly",
            &id.to_string(),
            None,
            Some(&serde_json::json!({"forms": form_ids})),
        )
        .await?;
        Ok(())
    }
}
