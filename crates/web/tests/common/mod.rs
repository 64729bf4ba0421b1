//! The test harness: the real server on port 0 with a fresh database, on SQLite always
//! and on PostgreSQL when `XCERT_TEST_PG_URL` is set (a new database per test).

#![allow(dead_code)]

use reqwest::{Client, Response};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use xcert_domain::access::{Principal, Role};
use xcert_domain::org::OrganizationInput;
use xcert_store::{NewUser, Objects, Store};

pub const PASSWORD: &str = "test-password-1";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Engines to run on. PostgreSQL is skipped loudly when not configured.
pub fn engines() -> Vec<Engine> {
    if std::env::var("XCERT_TEST_PG_URL").is_ok_and(|u| !u.is_empty()) {
        vec![Engine::Sqlite, Engine::Postgres]
    } else {
        loud_once(
            &PG_SKIP_NOTICE,
            "=== SKIPPED: PostgreSQL runs of the web tests (set XCERT_TEST_PG_URL=postgres://... to run them) ===",
        );
        vec![Engine::Sqlite]
    }
}

static PG_SKIP_NOTICE: std::sync::Once = std::sync::Once::new();

/// Write a line straight to the process's stderr, once: `eprintln!` inside a test is
/// captured by the harness and would hide a skip notice.
pub fn loud_once(once: &std::sync::Once, line: &str) {
    use std::io::Write;
    once.call_once(|| {
        let _ = writeln!(std::io::stderr(), "{line}");
    });
}

pub struct TestApp {
    pub engine: Engine,
    pub base: String,
    pub store: Store,
    /// Organization ids by short name: teo_a, teo_b, college_sd, college_js, prov_sd, prov_js.
    pub ids: std::collections::HashMap<&'static str, i64>,
    _dir: tempfile::TempDir,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

async fn fresh_pg_url() -> String {
    use sqlx::Connection;
    let admin = std::env::var("XCERT_TEST_PG_URL").unwrap();
    let name = format!(
        "xcert_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("XCERT_TEST_PG_URL is set but PostgreSQL is unreachable: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    // Replace the database name (the path after the last '/') and keep any query string.
    let (base, query) = admin
        .split_once('?')
        .map(|(b, q)| (b.to_string(), format!("?{q}")))
        .unwrap_or((admin.clone(), String::new()));
    let cut = base
        .rfind('/')
        .filter(|i| *i > "postgres://".len())
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..cut])
}

pub fn ministry() -> Principal {
    Principal {
        user_id: 0,
        username: "seed".into(),
        role: Role::MinistryAdmin,
        org_id: None,
        province: None,
        person_id: None,
    }
}

/// Two TEOs, colleges in two provinces with their authorities, and one account per role:
/// admin, teo_a, teo_b, prov_sd, college_sd, college_js, examiner, candidate.
pub async fn spawn_app(engine: Engine) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let objects = Objects::local(&dir.path().join("objects")).unwrap();
    let url = match engine {
        Engine::Sqlite => format!("sqlite://{}", dir.path().join("xcert.db").display()),
        Engine::Postgres => fresh_pg_url().await,
    };
    let store = Store::open(&url, objects).await.expect("open store");
    let mut ids = std::collections::HashMap::new();
    let mut tx = store.begin_write("seed").await.unwrap();
    // Credit codes: GB 32100's example and codes whose check characters are computed by
    // the standard's algorithm in the domain tests.
    for (key, kind, name, code, province) in [
        (
            "teo_a",
            "teo",
            "国家电网有限公司",
            "91350100M000100Y43",
            "北京市",
        ),
        (
            "teo_b",
            "teo",
            "测试科技有限公司",
            "914403001922038216",
            "广东省",
        ),
        (
            "prov_sd",
            "province_authority",
            "山东省教育厅",
            "91440300708461136T",
            "山东省",
        ),
        (
            "prov_js",
            "province_authority",
            "江苏省教育厅",
            "91330100716105852F",
            "江苏省",
        ),
        (
            "college_sd",
            "college",
            "国网技术学院",
            "91110108551385082Q",
            "山东省",
        ),
    ] {
        let o = OrganizationInput {
            kind: kind.into(),
            name_zh: name.into(),
            credit_code: code.into(),
            province: province.into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        ids.insert(key, tx.org_create(&o).await.unwrap().id);
    }
    // A fifth valid code, computed here with the GB 32100 alphabet so the seed needs no
    // other published example.
    let js_code = format!("9132010000000000{}", "0");
    let js_code = format!(
        "{}{}",
        &js_code[..17],
        xcert_domain::ids::CreditCode::check_char(&js_code[..17]).unwrap()
    );
    let o = OrganizationInput {
        kind: "college".into(),
        name_zh: "南京电力学院".into(),
        credit_code: js_code,
        province: "江苏省".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    ids.insert("college_js", tx.org_create(&o).await.unwrap().id);
    for (user, role, org) in [
        ("admin", "ministry_admin", None),
        ("teo_a", "teo_staff", Some("teo_a")),
        ("teo_b", "teo_staff", Some("teo_b")),
        ("prov_sd", "province_admin", Some("prov_sd")),
        ("college_sd", "college_staff", Some("college_sd")),
        ("college_js", "college_staff", Some("college_js")),
        ("examiner", "examiner", None),
    ] {
        tx.user_create(&NewUser {
            username: user.into(),
            display_name: user.into(),
            password: PASSWORD.into(),
            role: role.into(),
            org_id: org.map(|o| ids[o]),
            person_id: None,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = xcert_web::AppState::new(
        store.clone(),
        xcert_web::WebConfig {
            base_url: base.clone(),
            secure_cookies: false,
            staging_dir: dir.path().join("ingest-uploads"),
            master_key: xcert_web::MasterKey::generate(),
        },
    );
    tokio::spawn(async move {
        let app =
            xcert_web::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, app).await.unwrap();
    });
    TestApp {
        engine,
        base,
        store,
        ids,
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client with a cookie jar that does not follow redirects (so tests see them).
    pub fn browser(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Sign in through the API; returns the bearer token.
    pub async fn token(&self, user: &str) -> String {
        let r = Client::new()
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login {user} on {:?}", self.engine);
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut rb = Client::new().request(method, self.url(&format!("/api/v1{path}")));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        rb.send().await.unwrap()
    }

    /// Sign in through the login form with a cookie-jar client; returns it and the session's CSRF token.
    pub async fn sign_in_page(&self, user: &str) -> (Client, String) {
        let c = self.browser();
        let page = c
            .get(self.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_of(&page);
        let r = c
            .post(self.url("/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", user),
                ("password", PASSWORD),
                ("next", "/admin"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "form login {user}");
        let page = c
            .get(self.url("/admin/certificates/new"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_of(&page);
        (c, csrf)
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }
}

pub fn csrf_of(page: &str) -> String {
    let i = page
        .find("name=\"csrf\" value=\"")
        .expect("page has a CSRF field")
        + "name=\"csrf\" value=\"".len();
    page[i..i + page[i..].find('"').unwrap()].to_string()
}

/// A minimal certificate body for the API.
pub fn cert_body(code: &str, name: &str) -> Value {
    json!({"code": code, "name_zh": name, "levels": ["初级", "中级", "高级"], "majors": ["供用电技术"], "posts": ["继电保护员"]})
}

impl TestApp {
    /// A certificate of `user`'s TEO that a declaration can carry: a published standard
    /// and one approved item in its bank.
    pub async fn declarable_certificate(&self, user: &str, code: &str, name: &str) {
        let t = self.token(user).await;
        let m = reqwest::Method::POST;
        let r = self
            .api(
                m.clone(),
                "/certificates",
                Some(&t),
                Some(cert_body(code, name)),
            )
            .await;
        assert_eq!(r.status(), 201, "certificate {code}");
        let r = self
            .api(
                reqwest::Method::PUT,
                &format!("/certificates/{code}/standard"),
                Some(&t),
                Some(json!({"outline": "# 运维\n## 巡视\n- [初级] 能完成设备巡视\n", "publish": true})),
            )
            .await;
        assert_eq!(r.status(), 200, "standard of {code}");
        let r = self
            .api(
                m,
                &format!("/certificates/{code}/items"),
                Some(&t),
                Some(json!({
                    "meta": {"ident": "D1", "requirements": ["1.1.1"], "level": "junior"},
                    "content": {"kind": "single_choice", "stem": "巡视周期", "points": 1.0,
                        "interaction": {"type": "choice", "choices": [{"id": "A", "text": "每日"}, {"id": "B", "text": "每年"}], "correct": ["A"]}},
                    "status": "approved"
                })),
            )
            .await;
        assert_eq!(r.status(), 201, "item of {code}");
    }
}
