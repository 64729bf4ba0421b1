use crate::db::{WriteTx, now, opt_str};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row};
use xcert_domain::FieldError;
use xcert_domain::framework::Level;
use xcert_domain::standard::{SkillRequirement, StandardTree, VersionStatus, WorkArea, WorkTask};

/// One version of a certificate's standard, without its tree.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VersionInfo {
    pub id: i64,
    pub certificate_id: i64,
    pub version: i64,
    pub status: VersionStatus,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub published_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StandardVersion {
    #[serde(flatten)]
    pub info: VersionInfo,
    pub tree: StandardTree,
}

fn info_row(r: &AnyRow) -> Result<VersionInfo> {
    let status: String = r.try_get("status")?;
    Ok(VersionInfo {
        id: r.try_get("id")?,
        certificate_id: r.try_get("certificate_id")?,
        version: r.try_get("version")?,
        status: VersionStatus::parse(&status).unwrap_or(VersionStatus::Draft),
        note: opt_str(r, "note"),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        published_at: opt_str(r, "published_at"),
    })
}

async fn load_tree<'e, E: sqlx::Executor<'e, Database = Any>>(
    exec: E,
    version_id: i64,
) -> Result<StandardTree> {
    let rows = sqlx::query("SELECT id, parent_id, kind, code, text, level FROM standard_nodes WHERE version_id = $1 ORDER BY position")
        .bind(version_id)
        .fetch_all(exec)
        .await?;
    // Positions are global within a version and written depth-first, so a single pass
    // in position order rebuilds the tree.
    let mut tree = StandardTree::default();
    for r in rows {
        let kind: String = r.try_get("kind")?;
        let code: String = r.try_get("code")?;
        let text: String = r.try_get("text")?;
        match kind.as_str() {
            "area" => tree.areas.push(WorkArea {
                code,
                title: text,
                tasks: vec![],
            }),
            "task" => {
                if let Some(a) = tree.areas.last_mut() {
                    a.tasks.push(WorkTask {
                        code,
                        title: text,
                        requirements: vec![],
                    });
                }
            }
            _ => {
                let level = opt_str(&r, "level")
                    .and_then(|l| Level::parse("level", &l).ok())
                    .unwrap_or(Level::Junior);
                if let Some(t) = tree.areas.last_mut().and_then(|a| a.tasks.last_mut()) {
                    t.requirements.push(SkillRequirement { code, level, text });
                }
            }
        }
    }
    Ok(tree)
}

impl Store {
    /// All versions of a certificate's standard, newest first.
    pub async fn standard_versions(&self, certificate_id: i64) -> Result<Vec<VersionInfo>> {
        sqlx::query(
            "SELECT * FROM standard_versions WHERE certificate_id = $1 ORDER BY version DESC",
        )
        .bind(certificate_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(info_row)
        .collect()
    }

    /// A given version, or (when `version` is None) the newest published one — or the
    /// newest of any status when `include_draft`.
    pub async fn standard_get(
        &self,
        certificate_id: i64,
        version: Option<i64>,
        include_draft: bool,
    ) -> Result<Option<StandardVersion>> {
        let row = match version {
            Some(v) => {
                sqlx::query(
                    "SELECT * FROM standard_versions WHERE certificate_id = $1 AND version = $2",
                )
                .bind(certificate_id)
                .bind(v)
                .fetch_optional(&self.pool)
                .await?
            }
            None => {
                let status_cond = if include_draft {
                    ""
                } else {
                    " AND status = 'published'"
                };
                let sql = format!(
                    "SELECT * FROM standard_versions WHERE certificate_id = $1{status_cond} ORDER BY version DESC LIMIT 1"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(certificate_id)
                    .fetch_optional(&self.pool)
                    .await?
            }
        };
        let Some(row) = row else { return Ok(None) };
        let info = info_row(&row)?;
        if info.status == VersionStatus::Draft && !include_draft {
            return Ok(None);
        }
        let tree = load_tree(&self.pool, info.id).await?;
        Ok(Some(StandardVersion { info, tree }))
    }
}

impl WriteTx {
    async fn latest_version(&mut self, certificate_id: i64) -> Result<Option<VersionInfo>> {
        sqlx::query("SELECT * FROM standard_versions WHERE certificate_id = $1 ORDER BY version DESC LIMIT 1")
            .bind(certificate_id)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(info_row)
            .transpose()
    }

    async fn write_nodes(&mut self, version_id: i64, tree: &StandardTree) -> Result<()> {
        sqlx::query("DELETE FROM standard_nodes WHERE version_id = $1")
            .bind(version_id)
            .execute(&mut *self.tx)
            .await?;
        let mut pos = 0i64;
        for a in &tree.areas {
            pos += 1;
            let area_id = self
                .insert_node(version_id, None, "area", pos, &a.code, &a.title, None)
                .await?;
            for t in &a.tasks {
                pos += 1;
                let task_id = self
                    .insert_node(
                        version_id,
                        Some(area_id),
                        "task",
                        pos,
                        &t.code,
                        &t.title,
                        None,
                    )
                    .await?;
                for r in &t.requirements {
                    pos += 1;
                    self.insert_node(
                        version_id,
                        Some(task_id),
                        "requirement",
                        pos,
                        &r.code,
                        &r.text,
                        Some(r.level),
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_node(
        &mut self,
        version_id: i64,
        parent: Option<i64>,
        kind: &str,
        pos: i64,
        code: &str,
        text: &str,
        level: Option<Level>,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO standard_nodes (version_id, parent_id, kind, position, code, text, level) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(version_id)
        .bind(parent)
        .bind(kind)
        .bind(pos)
        .bind(code)
        .bind(text)
        .bind(level.map(|l| l.as_str().to_string()))
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Save `tree` as the certificate's draft: the existing draft is replaced, or a new
    /// version is opened after the newest published one (which stays as it was).
    pub async fn standard_save_draft(
        &mut self,
        certificate_code: &str,
        tree: &StandardTree,
        note: Option<&str>,
    ) -> Result<VersionInfo> {
        let cert = self
            .certificate_by_code(certificate_code)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("certificate {certificate_code}")))?;
        let mut tree = tree.clone();
        tree.renumber();
        tree.validate()?;
        let outside = tree.levels_outside(&cert.levels);
        if !outside.is_empty() {
            let names: Vec<_> = outside.iter().map(|l| l.zh()).collect();
            return Err(StoreError::invalid(FieldError::new(
                "tree",
                "level_not_offered",
                format!(
                    "requirements use levels the certificate does not offer: {}",
                    outside
                        .iter()
                        .map(|l| l.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!("职业技能要求使用了证书未设置的等级：{}", names.join("、")),
            )));
        }
        let latest = self.latest_version(cert.id).await?;
        let (info, before) = match latest {
            Some(v) if v.status == VersionStatus::Draft => {
                let before = load_tree(&mut *self.tx, v.id).await?;
                sqlx::query("UPDATE standard_versions SET note = $1 WHERE id = $2")
                    .bind(note.map(str::to_string))
                    .bind(v.id)
                    .execute(&mut *self.tx)
                    .await?;
                (v, Some(before))
            }
            other => {
                let version = other.map(|v| v.version + 1).unwrap_or(1);
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO standard_versions (certificate_id, version, status, note, created_by, created_at) VALUES ($1, $2, 'draft', $3, $4, $5) RETURNING id",
                )
                .bind(cert.id)
                .bind(version)
                .bind(note.map(str::to_string))
                .bind(self.actor.clone())
                .bind(now())
                .fetch_one(&mut *self.tx)
                .await?;
                let info = sqlx::query("SELECT * FROM standard_versions WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *self.tx)
                    .await?;
                (info_row(&info)?, None)
            }
        };
        self.write_nodes(info.id, &tree).await?;
        let entity_id = format!("{}@{}", cert.code, info.version);
        self.audit(
            "save_draft",
            "standard",
            &entity_id,
            before
                .as_ref()
                .map(|t| serde_json::to_value(t).unwrap_or_default())
                .as_ref(),
            Some(&serde_json::to_value(&tree).unwrap_or_default()),
        )
        .await?;
        Ok(info)
    }

    /// The newest published tree of a certificate, if any.
    pub async fn standard_published_tree(
        &mut self,
        certificate_id: i64,
    ) -> Result<Option<StandardTree>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM standard_versions WHERE certificate_id = $1 AND status = 'published' ORDER BY version DESC LIMIT 1",
        )
        .bind(certificate_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        match id {
            Some(id) => Ok(Some(load_tree(&mut *self.tx, id).await?)),
            None => Ok(None),
        }
    }

    /// Freeze the certificate's draft as published. Earlier versions stay readable.
    pub async fn standard_publish(&mut self, certificate_code: &str) -> Result<VersionInfo> {
        let cert = self
            .certificate_by_code(certificate_code)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("certificate {certificate_code}")))?;
        let Some(v) = self
            .latest_version(cert.id)
            .await?
            .filter(|v| v.status == VersionStatus::Draft)
        else {
            return Err(StoreError::invalid(FieldError::new(
                "version",
                "no_draft",
                "there is no draft version to publish",
                "没有可发布的草稿版本",
            )));
        };
        let tree = load_tree(&mut *self.tx, v.id).await?;
        if tree.requirement_count() == 0 {
            return Err(StoreError::invalid(FieldError::new(
                "tree",
                "empty",
                "a standard needs at least one skill requirement before it is published",
                "标准至少需要一条职业技能要求才能发布",
            )));
        }
        let t = now();
        sqlx::query(
            "UPDATE standard_versions SET status = 'published', published_at = $1 WHERE id = $2",
        )
        .bind(&t)
        .bind(v.id)
        .execute(&mut *self.tx)
        .await?;
        let entity_id = format!("{}@{}", cert.code, v.version);
        self.audit(
            "publish",
            "standard",
            &entity_id,
            Some(&serde_json::json!({"status": "draft"})),
            Some(&serde_json::json!({"status": "published", "published_at": t})),
        )
        .await?;
        Ok(VersionInfo {
            status: VersionStatus::Published,
            published_at: Some(t),
            ..v
        })
    }
}
