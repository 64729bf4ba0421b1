use crate::db::{Backend, WriteTx, now, opt_str};
use crate::{Result, Store};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};
use xcert_domain::audit::{AuditEntry, ChainBreak, GENESIS_HASH, verify_chain};

/// An audit entry as shown to admins.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub hash: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub entity: Option<String>,
    pub action: Option<String>,
    /// Matches entity ids containing this text.
    pub entity_id: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// Scoped view for province admins: only entries made by accounts of this province.
    #[serde(skip)]
    pub actor_province: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl WriteTx {
    /// Append an audit entry inside this transaction. `before`/`after` are serialized
    /// once and stored as text, so the hash can be recomputed from what is stored.
    pub async fn audit(
        &mut self,
        action: &str,
        entity: &str,
        entity_id: &str,
        before: Option<&serde_json::Value>,
        after: Option<&serde_json::Value>,
    ) -> Result<i64> {
        if self.backend == Backend::Postgres {
            // Other processes writing to the same database queue here, keeping one chain.
            sqlx::query("SELECT pg_advisory_xact_lock(715002)")
                .execute(&mut *self.tx)
                .await?;
        }
        let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *self.tx)
            .await?;
        let (seq, prev_hash) = match last {
            Some(r) => (
                r.try_get::<i64, _>("seq")? + 1,
                r.try_get::<String, _>("hash")?,
            ),
            None => (1, GENESIS_HASH.to_string()),
        };
        let entry = AuditEntry {
            seq,
            at: now(),
            actor: self.actor.clone(),
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id: entity_id.to_string(),
            before: before.map(|v| v.to_string()),
            after: after.map(|v| v.to_string()),
            prev_hash,
        };
        let hash = entry.compute_hash();
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, before_json, after_json, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(entry.seq)
        .bind(&entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.entity)
        .bind(&entry.entity_id)
        .bind(entry.before.clone())
        .bind(entry.after.clone())
        .bind(&entry.prev_hash)
        .bind(&hash)
        .execute(&mut *self.tx)
        .await?;
        Ok(seq)
    }
}

impl Store {
    /// Recompute the whole chain; `Ok(n)` when all `n` entries are intact.
    pub async fn audit_verify(&self) -> Result<std::result::Result<usize, ChainBreak>> {
        let rows = sqlx::query("SELECT * FROM audit_log ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in &rows {
            entries.push((
                AuditEntry {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    entity: r.try_get("entity")?,
                    entity_id: r.try_get("entity_id")?,
                    before: opt_str(r, "before_json"),
                    after: opt_str(r, "after_json"),
                    prev_hash: r.try_get("prev_hash")?,
                },
                r.try_get::<String, _>("hash")?,
            ));
        }
        Ok(verify_chain(entries.iter().map(|(e, h)| (e, h.as_str()))))
    }

    /// Newest first, filtered; returns the page and the total matching.
    pub async fn audit_list(&self, f: &AuditFilter) -> Result<(Vec<AuditRow>, i64)> {
        let mut wh = vec!["1=1".to_string()];
        let mut args: Vec<String> = Vec::new();
        let mut add = |cond: &str, v: &Option<String>, like: bool| {
            if let Some(v) = v.as_ref().filter(|v| !v.trim().is_empty()) {
                args.push(if like {
                    crate::db::like_pattern(v)
                } else {
                    v.trim().to_string()
                });
                wh.push(cond.replace("?", &format!("${}", args.len())));
            }
        };
        add("actor = ?", &f.actor, false);
        add("entity = ?", &f.entity, false);
        add("action = ?", &f.action, false);
        add("LOWER(entity_id) LIKE ? ESCAPE '\\'", &f.entity_id, true);
        add("at >= ?", &f.since, false);
        add("at <= ?", &f.until, false);
        add(
            "actor IN (SELECT u.username FROM users u JOIN organizations o ON o.id = u.org_id WHERE o.province = ?)",
            &f.actor_province,
            false,
        );
        let where_sql = wh.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) FROM audit_log WHERE {where_sql}");
        let mut count = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
        for a in &args {
            count = count.bind(a.clone());
        }
        let total = count.fetch_one(&self.pool).await?;
        let limit = f.limit.unwrap_or(50).clamp(1, 500);
        let offset = f.offset.unwrap_or(0).max(0);
        let sql = format!(
            "SELECT * FROM audit_log WHERE {where_sql} ORDER BY seq DESC LIMIT {limit} OFFSET {offset}"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a.clone());
        }
        let rows = q.fetch_all(&self.pool).await?;
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        let mut out = Vec::new();
        for r in rows {
            out.push(AuditRow {
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                entity: r.try_get("entity")?,
                entity_id: r.try_get("entity_id")?,
                before: parse(opt_str(&r, "before_json")),
                after: parse(opt_str(&r, "after_json")),
                hash: r.try_get("hash")?,
            });
        }
        Ok((out, total))
    }

    /// Distinct entity kinds and actions, for the filter drop-downs.
    pub async fn audit_facets(&self) -> Result<(Vec<String>, Vec<String>)> {
        let e = sqlx::query_scalar("SELECT DISTINCT entity FROM audit_log ORDER BY entity")
            .fetch_all(&self.pool)
            .await?;
        let a = sqlx::query_scalar("SELECT DISTINCT action FROM audit_log ORDER BY action")
            .fetch_all(&self.pool)
            .await?;
        Ok((e, a))
    }
}
