use crate::db::{WriteTx, now, opt_str};
use crate::{Result, Store, StoreError};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use xcert_domain::FieldError;
use xcert_domain::access::{Principal, Role, UserScope};

/// Sessions last a working day plus some slack.
const SESSION_HOURS: i64 = 12;
/// Failed logins for one account within the window that lock it for the rest of it.
const MAX_FAILS_PER_USER: i64 = 5;
/// Failed logins from one client (any account) within the window.
const MAX_FAILS_PER_CLIENT: i64 = 20;
const THROTTLE_MINUTES: i64 = 15;

/// An account as shown (never with its password hash).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub province: Option<String>,
    pub person_id: Option<i64>,
    pub active: bool,
    pub created_at: String,
}

impl UserRow {
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: self.id,
            username: self.username.clone(),
            role: self.role,
            org_id: self.org_id,
            province: self.province.clone(),
            person_id: self.person_id,
        }
    }
}

/// A new account as typed; `validate` checks it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: String,
    #[serde(default)]
    pub org_id: Option<i64>,
    #[serde(default)]
    pub person_id: Option<i64>,
}

impl NewUser {
    pub fn validate(&self) -> Result<(String, String, Role), Vec<FieldError>> {
        let mut errs = Vec::new();
        let u = self.username.trim().to_lowercase();
        let ok = (3..=32).contains(&u.len())
            && u.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.')
            });
        if !ok {
            errs.push(FieldError::new(
                "username",
                "bad_username",
                "use 3–32 lowercase letters, digits, '.', '_' or '-'",
                "用户名应为 3–32 位小写字母、数字、“.”、“_”或“-”",
            ));
        }
        let display = self.display_name.trim().to_string();
        let display = if display.is_empty() {
            u.clone()
        } else {
            display
        };
        if self.password.chars().count() < 8 {
            errs.push(FieldError::new(
                "password",
                "weak_password",
                "must be at least 8 characters",
                "密码至少 8 位",
            ));
        }
        let role = Role::parse("role", &self.role)
            .map_err(|e| errs.push(e))
            .ok();
        if let Some(r) = role {
            if r.org_kind().is_some() && self.org_id.is_none() {
                errs.push(FieldError::new(
                    "org_id",
                    "required",
                    format!("a {} account must belong to an organization", r.en()),
                    format!("{}账号必须属于一个机构", r.zh()),
                ));
            }
            if r.org_kind().is_none() && r != Role::Examiner && self.org_id.is_some() {
                errs.push(FieldError::new(
                    "org_id",
                    "unexpected",
                    format!("a {} account does not belong to an organization", r.en()),
                    format!("{}账号不属于机构", r.zh()),
                ));
            }
            if r == Role::Candidate && self.person_id.is_none() {
                errs.push(FieldError::new(
                    "person_id",
                    "required",
                    "a candidate account must be linked to a student record",
                    "考生账号必须关联学生信息",
                ));
            }
        }
        if errs.is_empty() {
            Ok((u, display, role.unwrap()))
        } else {
            Err(errs)
        }
    }
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters")
        .to_string()
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The result of a sign-in attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginOutcome {
    /// A new session: the cookie token (shown once) and its CSRF token.
    Ok {
        token: String,
        csrf: String,
        user: Box<UserRow>,
    },
    BadCredentials,
    /// Too many failures recently; try again after this many seconds.
    Throttled {
        retry_after_secs: i64,
    },
}

/// A live session.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: UserRow,
    pub csrf: String,
}

const SELECT_USER: &str = "SELECT u.*, o.name_zh AS org_name, o.province AS province FROM users u LEFT JOIN organizations o ON o.id = u.org_id";

fn user_row(r: &AnyRow) -> Result<UserRow> {
    let role: String = r.try_get("role")?;
    Ok(UserRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: Role::parse("role", &role).map_err(StoreError::invalid)?,
        org_id: r.try_get::<Option<i64>, _>("org_id").ok().flatten(),
        org_name: opt_str(r, "org_name"),
        province: opt_str(r, "province"),
        person_id: r.try_get::<Option<i64>, _>("person_id").ok().flatten(),
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

fn minutes_ago(m: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(m))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// How an account is looked up.
enum UserKey<'a> {
    Id(i64),
    Name(&'a str),
}

/// An account and its password hash.
async fn user_record(
    c: &mut sqlx::AnyConnection,
    key: UserKey<'_>,
) -> Result<Option<(UserRow, String)>> {
    let q = match key {
        UserKey::Id(id) => {
            sqlx::query(AssertSqlSafe(format!("{SELECT_USER} WHERE u.id = $1"))).bind(id)
        }
        UserKey::Name(name) => sqlx::query(AssertSqlSafe(format!(
            "{SELECT_USER} WHERE u.username = $1"
        )))
        .bind(name.trim().to_lowercase()),
    };
    match q.fetch_optional(c).await? {
        Some(r) => Ok(Some((user_row(&r)?, r.try_get("password_hash")?))),
        None => Ok(None),
    }
}

impl Store {
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>> {
        Ok(
            user_record(&mut *self.pool.acquire().await?, UserKey::Name(username))
                .await?
                .map(|(u, _)| u),
        )
    }

    pub async fn users_list(&self, scope: &UserScope) -> Result<Vec<UserRow>> {
        let (cond, arg) = match scope {
            UserScope::All => ("1=1".to_string(), None),
            UserScope::Province(p) => ("o.province = $1".to_string(), Some(p.clone())),
            UserScope::Org(id) => (format!("u.org_id = {id}"), None),
            UserScope::Nothing => ("1=0".to_string(), None),
        };
        let sql = format!("{SELECT_USER} WHERE {cond} ORDER BY u.role, u.username");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(a) = arg {
            q = q.bind(a);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_row)
            .collect()
    }

    /// Check a password with throttling per account and per client address. Every
    /// attempt is recorded; a locked account is refused without checking the password.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<LoginOutcome> {
        let username = username.trim().to_lowercase();
        let since = minutes_ago(THROTTLE_MINUTES);
        let last_ok: Option<String> = sqlx::query_scalar(
            "SELECT MAX(at) FROM login_attempts WHERE username = $1 AND success = 1",
        )
        .bind(&username)
        .fetch_one(&self.pool)
        .await?;
        let window_start = match last_ok {
            Some(ok) if ok > since => ok,
            _ => since.clone(),
        };
        let user_fails: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_attempts WHERE username = $1 AND success = 0 AND at > $2",
        )
        .bind(&username)
        .bind(&window_start)
        .fetch_one(&self.pool)
        .await?;
        let client_fails: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_attempts WHERE client = $1 AND success = 0 AND at > $2",
        )
        .bind(client)
        .bind(&since)
        .fetch_one(&self.pool)
        .await?;
        if user_fails >= MAX_FAILS_PER_USER || client_fails >= MAX_FAILS_PER_CLIENT {
            let oldest: Option<String> = sqlx::query_scalar(
                "SELECT MIN(at) FROM login_attempts WHERE (username = $1 OR client = $2) AND success = 0 AND at > $3",
            )
            .bind(&username)
            .bind(client)
            .bind(&since)
            .fetch_one(&self.pool)
            .await?;
            let retry = oldest
                .and_then(|o| chrono::DateTime::parse_from_rfc3339(&o).ok())
                .map(|o| {
                    (o.with_timezone(&chrono::Utc) + chrono::Duration::minutes(THROTTLE_MINUTES)
                        - chrono::Utc::now())
                    .num_seconds()
                })
                .unwrap_or(60)
                .max(1);
            return Ok(LoginOutcome::Throttled {
                retry_after_secs: retry,
            });
        }
        let found = user_record(&mut *self.pool.acquire().await?, UserKey::Name(&username)).await?;
        let ok_user = match found {
            Some((user, hash)) => (verify_password(&hash, password) && user.active).then_some(user),
            None => {
                // Spend the same time as a real check so timing does not reveal accounts.
                let _ = verify_password(
                    DUMMY_HASH.get_or_init(|| hash_password("xcert-dummy")),
                    password,
                );
                None
            }
        };
        sqlx::query(
            "INSERT INTO login_attempts (username, client, at, success) VALUES ($1, $2, $3, $4)",
        )
        .bind(&username)
        .bind(client)
        .bind(now())
        .bind(ok_user.is_some() as i64)
        .execute(&self.pool)
        .await?;
        let Some(user) = ok_user else {
            return Ok(LoginOutcome::BadCredentials);
        };
        let (token, csrf) = self.session_issue(user.id).await?;
        Ok(LoginOutcome::Ok {
            token,
            csrf,
            user: Box::new(user),
        })
    }

    /// Open a session for an account: (token, CSRF token). Sign-in calls it after the
    /// password check; the exam-rush benchmark uses it to sign in thousands of
    /// candidates without thousands of password hashes.
    pub async fn session_issue(&self, user_id: i64) -> Result<(String, String)> {
        let token = random_hex(32);
        let csrf = random_hex(32);
        let expires = (chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash(&token))
            .bind(user_id)
            .bind(&csrf)
            .bind(now())
            .bind(expires)
            .execute(&self.pool)
            .await?;
        Ok((token, csrf))
    }

    /// The session for a cookie token, if it exists, has not expired, and its user is active.
    pub async fn session(&self, token: &str) -> Result<Option<SessionInfo>> {
        let r = sqlx::query(
            "SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = r else { return Ok(None) };
        let expires: String = r.try_get("expires_at")?;
        if expires < now() {
            self.logout(token).await?;
            return Ok(None);
        }
        let user_id: i64 = r.try_get("user_id")?;
        let Some((user, _)) =
            user_record(&mut *self.pool.acquire().await?, UserKey::Id(user_id)).await?
        else {
            return Ok(None);
        };
        if !user.active {
            return Ok(None);
        }
        Ok(Some(SessionInfo {
            user,
            csrf: r.try_get("csrf_token")?,
        }))
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

impl WriteTx {
    /// Create an account; the organization must be of the kind the role needs.
    pub async fn user_create(&mut self, u: &NewUser) -> Result<UserRow> {
        let (username, display, role) = u.validate()?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(&username)
            .fetch_optional(&mut *self.tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(FieldError::new(
                "username",
                "taken",
                format!("username {username} is taken"),
                format!("用户名 {username} 已被使用"),
            )));
        }
        if let (Some(kind), Some(org_id)) = (role.org_kind(), u.org_id) {
            let org = self.org_get(org_id).await?;
            if org.kind != kind {
                return Err(StoreError::invalid(FieldError::new(
                    "org_id",
                    "wrong_kind",
                    format!(
                        "a {} account must belong to a {}, not a {}",
                        role.en(),
                        kind.en(),
                        org.kind.en()
                    ),
                    format!(
                        "{}账号必须属于{}，而不是{}",
                        role.zh(),
                        kind.zh(),
                        org.kind.zh()
                    ),
                )));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, password_hash, role, org_id, person_id, active, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7) RETURNING id",
        )
        .bind(&username)
        .bind(&display)
        .bind(hash_password(&u.password))
        .bind(role.as_str())
        .bind(u.org_id)
        .bind(u.person_id)
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        let (row, _) = user_record(&mut self.tx, UserKey::Id(id))
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
        self.audit(
            "create",
            "user",
            &username,
            None,
            Some(&serde_json::to_value(&row).unwrap_or_default()),
        )
        .await?;
        Ok(row)
    }

    pub async fn user_get(&mut self, username: &str) -> Result<UserRow> {
        user_record(&mut self.tx, UserKey::Name(username))
            .await?
            .map(|(u, _)| u)
            .ok_or_else(|| StoreError::NotFound(format!("user {username}")))
    }

    /// Activate or deactivate an account; deactivating ends its sessions.
    pub async fn user_set_active(&mut self, username: &str, active: bool) -> Result<UserRow> {
        let before = self.user_get(username).await?;
        sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(active as i64)
            .bind(before.id)
            .execute(&mut *self.tx)
            .await?;
        if !active {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(before.id)
                .execute(&mut *self.tx)
                .await?;
        }
        let after = self.user_get(username).await?;
        self.audit(
            if active { "activate" } else { "deactivate" },
            "user",
            &after.username,
            Some(&serde_json::json!({"active": before.active})),
            Some(&serde_json::json!({"active": after.active})),
        )
        .await?;
        Ok(after)
    }

    /// Set a new password (and re-activate); ends the account's sessions.
    pub async fn user_set_password(&mut self, username: &str, password: &str) -> Result<()> {
        if password.chars().count() < 8 {
            return Err(StoreError::invalid(FieldError::new(
                "password",
                "weak_password",
                "must be at least 8 characters",
                "密码至少 8 位",
            )));
        }
        let id = self.user_get(username).await?.id;
        sqlx::query("UPDATE users SET password_hash = $1, active = 1 WHERE id = $2")
            .bind(hash_password(password))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        self.audit("set_password", "user", username, None, None)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "correct horsf"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn new_user_rules() {
        let u = NewUser {
            username: "Teo.Staff".into(),
            password: "12345678".into(),
            role: "teo_staff".into(),
            ..Default::default()
        };
        let errs = u.validate().unwrap_err();
        assert_eq!(errs[0].field, "org_id");
        let u = NewUser {
            username: "ab".into(),
            password: "short".into(),
            role: "ministry_admin".into(),
            ..Default::default()
        };
        let fields: Vec<_> = u
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["username", "password"]);
    }
}
