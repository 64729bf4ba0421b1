//! The exam pages through a cookie-jar client, as a browser without JavaScript uses
//! them: scheduling a session, registering students, training scores, the candidate's
//! theory exam (save, submit with the unanswered-items confirmation), the examiner's
//! scoring page, marking and results. Each page is checked for the roles that may see it
//! (in Chinese and English) and refused for those who may not; bad input is answered
//! beside the field and writes nothing; every post needs the CSRF token.
//!
//! Golden values are worked by hand from the item keys and scales defined here (each
//! noted where it is asserted), not taken from the code under test.

mod common;

use common::{PASSWORD, TestApp, csrf_of, engines, spawn_app};
use reqwest::{Client, Method};
use serde_json::{Value, json};

/// A valid GB 11643 identity number (check digit by the standard's algorithm in the
/// domain crate).
fn id_number(seq: u32) -> String {
    let first17 = format!("110105200001{:02}{:03}", 1 + seq % 28, seq % 1000);
    let c = xcert_domain::ids::ResidentId::check_char(&first17).unwrap();
    format!("{first17}{c}")
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    let t = r.text().await.unwrap();
    (s, serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

async fn get(c: &Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Post a form; answers the status and the redirect target (or the page).
async fn post<F: serde::Serialize + ?Sized>(
    c: &Client,
    app: &TestApp,
    path: &str,
    form: &F,
) -> (u16, String) {
    let r = c.post(app.url(path)).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    let loc = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    let body = r.text().await.unwrap();
    (status, loc.unwrap_or(body))
}

/// Switch a signed-in client's pages to English.
async fn english(c: &Client, app: &TestApp) {
    let r = c.get(app.url("/lang/en?next=/")).send().await.unwrap();
    assert_eq!(r.status(), 303);
}

/// A page in both languages: 200, the language attribute, and no untranslated key (an
/// unknown key shows itself, and every key of the exam pages starts with `exam_`).
async fn renders_in_both(app: &TestApp, user: &str, path: &str, marker: &str) {
    for lang in ["zh", "en"] {
        let (c, _) = app.sign_in_page(user).await;
        if lang == "en" {
            english(&c, app).await;
        }
        let (s, body) = get(&c, app, path).await;
        assert_eq!(s, 200, "{user} {path} ({lang}): {body}");
        let attr = if lang == "en" {
            "lang=\"en\""
        } else {
            "lang=\"zh-CN\""
        };
        assert!(body.contains(attr), "{user} {path} {lang}");
        assert!(body.contains(marker), "{user} {path} {lang}: no {marker}");
        assert!(
            !body.contains("exam_"),
            "{user} {path} {lang}: an untranslated key: {}",
            &body[body.find("exam_").unwrap().saturating_sub(80)..][..160]
        );
    }
}

/// What the setup made.
struct Setup {
    teo: String,
    session: i64,
    form_id: i64,
    task_item: i64,
    person: i64,
    person_js: i64,
}

/// A certificate with a standard, six theory items (one of each kind a candidate
/// answers), a practical task with descriptors and a safety criterion, a form, three
/// examiners of the TEO, and students of two colleges with candidate accounts.
async fn setup(app: &TestApp, with_session: bool) -> Setup {
    let teo = app.token("teo_a").await;
    let college = app.token("college_sd").await;
    let (s, v) = json_of(
        app.api(
            Method::POST,
            "/certificates",
            Some(&teo),
            Some(common::cert_body("TST-RPM", "继电保护检修")),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let outline =
        "# 设备巡视\n## 保护装置巡视\n- [初级] 能检查保护装置运行指示\n- [初级] 能记录异常信号\n";
    let (s, v) = json_of(
        app.api(
            Method::PUT,
            "/certificates/TST-RPM/standard",
            Some(&teo),
            Some(json!({"outline": outline, "publish": true})),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let meta = |ident: &str| json!({"ident": ident, "requirements": ["1.1.1"], "level": "junior"});
    let items = vec![
        json!({"meta": meta("Q1"), "content": {"kind": "single_choice", "stem": "<p>继电保护的基本要求不包括？</p><script>alert(1)</script>", "points": 2.0,
            "interaction": {"type": "choice", "shuffle": false, "choices": [{"id": "A", "text": "选择性"}, {"id": "B", "text": "速动性"}, {"id": "C", "text": "美观性"}], "correct": ["C"]}}}),
        json!({"meta": meta("Q2"), "content": {"kind": "multiple_choice", "stem": "巡视时应检查哪些指示？", "points": 2.0, "scoring": "partial",
            "interaction": {"type": "choice", "shuffle": false, "choices": [{"id": "A", "text": "运行灯"}, {"id": "B", "text": "告警灯"}, {"id": "C", "text": "外壳颜色"}], "correct": ["A", "B"]}}}),
        json!({"meta": meta("Q3"), "content": {"kind": "text_entry", "stem": "电流的单位是____。", "points": 2.0,
            "interaction": {"type": "text_entry", "blanks": [{"id": "1", "accepted": ["安培", "A"]}]}}}),
        json!({"meta": meta("Q4"), "content": {"kind": "matching", "stem": "将设备与其作用配对。", "points": 2.0,
            "interaction": {"type": "match", "shuffle": false,
                "sources": [{"id": "s1", "text": "断路器"}, {"id": "s2", "text": "隔离开关"}],
                "targets": [{"id": "t1", "text": "开断负荷电流"}, {"id": "t2", "text": "形成明显断开点"}],
                "correct": [["s1", "t1"], ["s2", "t2"]]}}}),
        json!({"meta": meta("Q5"), "content": {"kind": "ordering", "stem": "排列停电操作顺序。", "points": 2.0,
            "interaction": {"type": "order", "choices": [{"id": "o1", "text": "断开断路器"}, {"id": "o2", "text": "拉开隔离开关"}, {"id": "o3", "text": "验电"}],
                "correct": ["o1", "o2", "o3"]}}}),
        json!({"meta": meta("Q6"), "content": {"kind": "extended_text", "stem": "简述保护装置异常信号的处理步骤。", "points": 10.0,
            "interaction": {"type": "extended_text", "guide": "报告、记录、隔离，各占分值"}}}),
        json!({"meta": meta("P1"), "content": {"kind": "practical_task", "stem": "完成一套线路保护定值核对。", "points": 100.0,
        "interaction": {"type": "practical", "scale": {"criteria": [
            {"id": "safety", "text": "安全措施到位", "points": 20.0, "critical": true,
             "descriptors": [{"points": 20.0, "text": "全部到位"}, {"points": 10.0, "text": "部分到位"}, {"points": 0.0, "text": "未做"}]},
            {"id": "check", "text": "定值逐项核对正确", "points": 60.0,
             "descriptors": [{"points": 60.0, "text": "全部正确"}, {"points": 30.0, "text": "少量差错"}]},
            {"id": "record", "text": "记录规范", "points": 20.0}
        ]}}}}),
    ];
    let mut ids = Vec::new();
    for mut it in items {
        it["status"] = json!("approved");
        let (s, v) = json_of(
            app.api(
                Method::POST,
                "/certificates/TST-RPM/items",
                Some(&teo),
                Some(it),
            )
            .await,
        )
        .await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["item"]["id"].as_i64().unwrap());
    }
    let form = json!({"level": "junior", "title": "初级理论 A 卷", "time_limit_minutes": 60,
        "items": ids[..6].iter().map(|id| json!({"item_id": id})).collect::<Vec<_>>()});
    let (s, v) = json_of(
        app.api(
            Method::POST,
            "/certificates/TST-RPM/forms",
            Some(&teo),
            Some(form),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let form_id = v["items"][0]["id"].as_i64().unwrap();
    let mut examiners = Vec::new();
    for u in ["ex1", "ex2", "ex3"] {
        let (s, v) = json_of(
            app.api(Method::POST, "/users", Some(&teo), Some(json!({"username": u, "display_name": format!("考评员{u}"), "password": PASSWORD, "role": "examiner", "org_id": app.ids["teo_a"]})))
                .await,
        )
        .await;
        assert_eq!(s, 201, "{v}");
        examiners.push(v["id"].as_i64().unwrap());
    }
    let mut people = Vec::new();
    for (tok, name, seq, user) in [
        (&college, "张𠮷", 1, "cand1"),
        (&app.token("college_js").await, "李四", 2, "cand2"),
    ] {
        let (s, v) = json_of(
            app.api(
                Method::POST,
                "/people",
                Some(tok),
                Some(json!({"name": name, "id_number": id_number(seq), "student_no": format!("20240{seq}")})),
            )
            .await,
        )
        .await;
        assert_eq!(s, 201, "{v}");
        let pid = v["id"].as_i64().unwrap();
        let (s, v) = json_of(
            app.api(Method::POST, "/users", Some(tok), Some(json!({"username": user, "display_name": name, "password": PASSWORD, "role": "candidate", "person_id": pid})))
                .await,
        )
        .await;
        assert_eq!(s, 201, "{v}");
        people.push(pid);
    }
    let mut session = 0;
    if with_session {
        let opens = chrono::Utc::now() - chrono::Duration::minutes(1);
        let closes = chrono::Utc::now() + chrono::Duration::hours(3);
        let (s, v) = json_of(
            app.api(Method::POST, "/exam-sessions", Some(&teo), Some(json!({
                "certificate": "TST-RPM", "level": "junior", "title": "2026 年第一次初级考核",
                "site_org_id": app.ids["college_sd"], "opens_at": opens.to_rfc3339(), "closes_at": closes.to_rfc3339(),
                "duration_minutes": 60, "form_ids": [form_id], "task_item_ids": [ids[6]],
                "examiner_ids": examiners, "disagreement_points": 10.0, "shuffle_items": false
            })))
            .await,
        )
        .await;
        assert_eq!(s, 201, "{v}");
        session = v["id"].as_i64().unwrap();
    }
    Setup {
        teo,
        session,
        form_id,
        task_item: ids[6],
        person: people[0],
        person_js: people[1],
    }
}

fn schedule_form(csrf: &str, s: &Setup, app: &TestApp, title: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_string()),
        ("certificate", "TST-RPM".into()),
        ("level", "junior".into()),
        ("title", title.into()),
        ("site_org_id", app.ids["college_sd"].to_string()),
        ("site_name", String::new()),
        ("opens_at", "2030-06-20T09:00".into()),
        ("closes_at", "2030-06-20T11:30".into()),
        ("duration_minutes", "90".into()),
        ("disagreement_points", "10".into()),
        ("shuffle_items", "1".into()),
        ("form", s.form_id.to_string()),
        ("task", s.task_item.to_string()),
    ]
}

#[tokio::test]
async fn schedule_a_session_in_the_page() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let s = setup(&app, false).await;
        renders_in_both(&app, "teo_a", "/admin/exams", "schedule-form").await;
        renders_in_both(&app, "admin", "/admin/exams", "schedule-form").await;
        let (c, csrf) = app.sign_in_page("teo_a").await;
        let (_, body) = get(&c, &app, "/admin/exams").await;
        // The TEO's form, task and examiners are offered; the harness's examiner (of no TEO) is not.
        assert!(
            body.contains("初级理论 A 卷") && body.contains("P1"),
            "{body}"
        );
        assert!(body.contains("考评员ex1") && !body.contains("<code>examiner</code>"));

        // Bad input: blank title, closing before opening, no form — each beside its field.
        let mut bad = schedule_form(&csrf, &s, &app, "");
        bad.retain(|(k, _)| *k != "form");
        for (k, v) in bad.iter_mut() {
            if *k == "closes_at" {
                *v = "2030-06-20T08:00".into();
            }
        }
        let (st, body) = post(&c, &app, "/admin/exams", &bad).await;
        assert_eq!(st, 422, "{body}");
        for field in ["title", "closes_at", "forms"] {
            assert!(
                body.contains(&format!("id=\"err-{field}\"")),
                "{field}: {body}"
            );
        }
        assert!(body.contains("结束时间必须晚于开始时间"));
        // The echo keeps what was typed.
        assert!(body.contains("value=\"2030-06-20T08:00\""));
        assert_eq!(app.count("exam_sessions").await, 0);
        // A time that is no time, a missing certificate.
        let mut bad = schedule_form(&csrf, &s, &app, "考核");
        bad[6].1 = "明天上午".into();
        let (st, body) = post(&c, &app, "/admin/exams", &bad).await;
        assert_eq!(st, 422);
        assert!(body.contains("id=\"err-opens_at\"") && body.contains("明天上午"));
        bad[1].1 = String::new();
        let (st, body) = post(&c, &app, "/admin/exams", &bad).await;
        assert_eq!(st, 422);
        assert!(body.contains("id=\"err-certificate\""));
        // Without the CSRF token nothing happens.
        let mut no_csrf = schedule_form("", &s, &app, "考核");
        no_csrf.remove(0);
        let (st, _) = post(&c, &app, "/admin/exams", &no_csrf).await;
        assert_eq!(st, 403);
        assert_eq!(app.count("exam_sessions").await, 0);

        let (st, loc) = post(
            &c,
            &app,
            "/admin/exams",
            &schedule_form(&csrf, &s, &app, "页面安排的考核"),
        )
        .await;
        assert_eq!(st, 303, "{loc}");
        assert!(loc.starts_with("/admin/exams/"), "{loc}");
        assert_eq!(app.count("exam_sessions").await, 1);
        // 09:00 China time is 01:00 UTC.
        let opens: String = sqlx::query_scalar("SELECT opens_at FROM exam_sessions")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        assert!(opens.starts_with("2030-06-20T01:00:00"), "{opens}");
        let (_, body) = get(&c, &app, &loc).await;
        assert!(body.contains("页面安排的考核") && body.contains("2030-06-20 09:00"));

        // A college sees the session held at it but schedules nothing.
        let (cc, ccsrf) = app.sign_in_page("college_sd").await;
        let (st, body) = get(&cc, &app, "/admin/exams").await;
        assert_eq!(st, 200);
        assert!(body.contains("页面安排的考核") && !body.contains("schedule-form"));
        let (st, _) = post(
            &cc,
            &app,
            "/admin/exams",
            &schedule_form(&ccsrf, &s, &app, "越权"),
        )
        .await;
        assert_eq!(st, 403);
        // Another TEO's staff and another college do not see it.
        for other in ["teo_b", "college_js"] {
            let (oc, _) = app.sign_in_page(other).await;
            let (st, body) = get(&oc, &app, "/admin/exams").await;
            assert_eq!(st, 200);
            assert!(!body.contains("页面安排的考核"), "{other}");
        }
        // Another TEO cannot schedule on this certificate.
        let (bc, bcsrf) = app.sign_in_page("teo_b").await;
        let (st, _) = post(
            &bc,
            &app,
            "/admin/exams",
            &schedule_form(&bcsrf, &s, &app, "越权"),
        )
        .await;
        assert_eq!(st, 403);
        assert_eq!(app.count("exam_sessions").await, 1);
        // A candidate is sent to their own exams.
        let (cand, _) = app.sign_in_page("cand1").await;
        let r = cand.get(app.url("/admin/exams")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/exam");
        let _ = (s.teo, s.person, s.person_js, s.session);
    }
}

#[tokio::test]
async fn session_page_registration_training_scores_and_status() {
    let app = spawn_app(common::Engine::Sqlite).await;
    let s = setup(&app, true).await;
    let path = format!("/admin/exams/{}", s.session);
    for user in ["teo_a", "admin", "college_sd", "prov_sd", "ex1"] {
        renders_in_both(&app, user, &path, "candidates-table").await;
    }
    for user in ["teo_b", "college_js", "examiner", "cand1"] {
        let (c, _) = app.sign_in_page(user).await;
        let (st, _) = get(&c, &app, &path).await;
        assert_eq!(st, 404, "{user} must not see the session");
    }
    // The college sees its own student to register, not the other college's.
    let (c, csrf) = app.sign_in_page("college_sd").await;
    let (_, body) = get(&c, &app, &path).await;
    assert!(body.contains(&format!("value=\"{}\"", s.person)) && body.contains("张𠮷"));
    assert!(!body.contains("李四"));
    // The search box narrows the list on the server.
    let (_, body) = get(&c, &app, &format!("{path}?q=nobody")).await;
    assert!(!body.contains("张𠮷"));
    // An examiner sees candidates but registers nobody.
    let (ec, _) = app.sign_in_page("ex1").await;
    let (_, body) = get(&ec, &app, &path).await;
    assert!(!body.contains("register-form") && body.contains("link-scoring"));

    let reg = format!("{path}/register");
    let (st, body) = post(&c, &app, &reg, &[("csrf", csrf.clone())]).await;
    assert_eq!(st, 422);
    assert!(body.contains("id=\"err-person\""));
    let (st, _) = post(&c, &app, &reg, &[("person", s.person.to_string())]).await;
    assert_eq!(st, 403, "no CSRF token");
    assert_eq!(app.count("exam_candidates").await, 0);
    // Another college's student: refused in the outcome, nothing written.
    let (st, body) = post(
        &c,
        &app,
        &reg,
        &[("csrf", csrf.clone()), ("person", s.person_js.to_string())],
    )
    .await;
    assert_eq!(st, 200);
    assert!(
        body.contains("register-outcomes") && body.contains("院校人员只能为本校学生报名"),
        "{body}"
    );
    assert_eq!(app.count("exam_candidates").await, 0);
    let (st, body) = post(
        &c,
        &app,
        &reg,
        &[("csrf", csrf.clone()), ("person", s.person.to_string())],
    )
    .await;
    assert_eq!(st, 200);
    assert!(body.contains("已报名，准考证号"), "{body}");
    assert_eq!(app.count("exam_candidates").await, 1);
    let ticket: String = sqlx::query_scalar("SELECT ticket FROM exam_candidates")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    // The TEO lists the hosting college's students who are not registered yet.
    let (tc, tcsrf) = app.sign_in_page("teo_a").await;
    let (_, body) = get(&tc, &app, &path).await;
    assert!(body.contains(&ticket));
    assert!(!body.contains(&format!("name=\"person\" value=\"{}\"", s.person)));

    // Training scores: inline, one candidate.
    let proc_path = format!("{path}/process-scores");
    let process = || async {
        sqlx::query_scalar::<_, Option<f64>>("SELECT process_score FROM exam_candidates")
            .fetch_one(app.store.pool())
            .await
            .unwrap()
    };
    for (typed, msg) in [("八十", "不是数字"), ("150", "超出 0–100")] {
        let (st, body) = post(
            &c,
            &app,
            &proc_path,
            &[
                ("csrf", csrf.clone()),
                ("ticket", ticket.clone()),
                ("score", typed.into()),
            ],
        )
        .await;
        assert_eq!(st, 422, "{typed}");
        assert!(
            body.contains(&format!("id=\"err-process.{ticket}\"")) && body.contains(msg),
            "{typed}: {body}"
        );
        assert!(body.contains(&format!("value=\"{typed}\"")), "the echo");
    }
    assert_eq!(process().await, None);
    // The paste box: an error names the line; nothing of the paste is written.
    let (st, body) = post(
        &c,
        &app,
        &proc_path,
        &[
            ("csrf", csrf.clone()),
            ("paste", format!("{ticket}\t88\n\nnope\t70\n")),
        ],
    )
    .await;
    assert_eq!(st, 422);
    assert!(
        body.contains("第 3 行") && body.contains("本场考核没有准考证号为 nope 的考生"),
        "{body}"
    );
    assert_eq!(process().await, None);
    let (st, loc) = post(
        &c,
        &app,
        &proc_path,
        &[("csrf", csrf.clone()), ("paste", format!("{ticket}\t88\n"))],
    )
    .await;
    assert_eq!(st, 303, "{loc}");
    assert_eq!(process().await, Some(88.0));
    // English messages name the line too.
    english(&c, &app).await;
    let (_, body) = post(
        &c,
        &app,
        &proc_path,
        &[("csrf", csrf.clone()), ("paste", format!("{ticket} x"))],
    )
    .await;
    assert!(
        body.contains("line 1: &quot;x&quot; is not a number"),
        "{body}"
    );

    // Status: only the TEO closes; closing needs the tick.
    let status = format!("{path}/status");
    let (st, _) = post(
        &c,
        &app,
        &status,
        &[
            ("csrf", csrf.clone()),
            ("status", "closed".into()),
            ("confirm", "1".into()),
        ],
    )
    .await;
    assert_eq!(st, 403);
    let (st, body) = post(
        &tc,
        &app,
        &status,
        &[("csrf", tcsrf.clone()), ("status", "closed".into())],
    )
    .await;
    assert_eq!(st, 422);
    assert!(body.contains("id=\"err-confirm\""));
    let (st, body) = post(
        &tc,
        &app,
        &status,
        &[("csrf", tcsrf.clone()), ("status", "released".into())],
    )
    .await;
    assert_eq!(st, 422, "release only after closing");
    assert!(body.contains("id=\"err-status\""));
    let (st, _) = post(
        &tc,
        &app,
        &status,
        &[
            ("csrf", tcsrf.clone()),
            ("status", "closed".into()),
            ("confirm", "1".into()),
        ],
    )
    .await;
    assert_eq!(st, 303);
    let (_, body) = get(&tc, &app, &path).await;
    assert!(body.contains("data-status=\"closed\"") && body.contains("release-results"));
    let _ = s.teo;
}

/// The attempt's items as the API gives them (position, kind, option ids).
async fn delivered(app: &TestApp, attempt: i64) -> Vec<Value> {
    let tok = app.token("cand1").await;
    let (_, v) = json_of(
        app.api(
            Method::GET,
            &format!("/attempts/{attempt}"),
            Some(&tok),
            None,
        )
        .await,
    )
    .await;
    v["items"].as_array().unwrap().clone()
}

fn pos_of(items: &[Value], kind: &str) -> i64 {
    items
        .iter()
        .find(|i| i["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))["position"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn candidate_takes_the_exam_without_javascript_and_examiners_score_it() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let s = setup(&app, true).await;
        let (cc, ccsrf) = app.sign_in_page("college_sd").await;
        let (st, _) = post(
            &cc,
            &app,
            &format!("/admin/exams/{}/register", s.session),
            &[("csrf", ccsrf.clone()), ("person", s.person.to_string())],
        )
        .await;
        assert_eq!(st, 200);
        let attempt: i64 = sqlx::query_scalar("SELECT id FROM exam_candidates")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        let exam = format!("/exam/{attempt}");

        renders_in_both(&app, "cand1", "/exam", "my-exams").await;
        renders_in_both(&app, "cand1", &exam, "exam-start").await;
        for user in ["cand2", "college_sd", "ex1"] {
            let (c, _) = app.sign_in_page(user).await;
            let (st, _) = get(&c, &app, &exam).await;
            assert_eq!(st, 404, "{user} must not see another's exam");
        }
        let (c, csrf) = app.sign_in_page("cand1").await;
        let (_, body) = get(&c, &app, "/exam").await;
        assert!(body.contains("2026 年第一次初级考核") && body.contains(&exam));
        let (st, _) = post(
            &c,
            &app,
            &format!("{exam}/start"),
            &Vec::<(String, String)>::new(),
        )
        .await;
        assert_eq!(st, 403, "no CSRF token");
        let (st, _) = post(
            &c,
            &app,
            &format!("{exam}/start"),
            &[("csrf", csrf.clone())],
        )
        .await;
        assert_eq!(st, 303);
        let (_, body) = get(&c, &app, &exam).await;
        assert!(body.contains("id=\"exam-form\"") && body.contains("id=\"exam-timer\""));
        // Six items numbered 1…6; no key, no guide, no script from the stem.
        for n in 1..=6 {
            assert!(body.contains(&format!("id=\"q-{n}\"")), "item {n}");
        }
        assert!(
            !body.contains("id=\"q-7\""),
            "the practical task is not online"
        );
        assert!(!body.contains("alert(1)") && !body.contains("报告、记录、隔离"));
        assert!(!body.contains("exam_"));
        english(&c, &app).await;
        let (_, en) = get(&c, &app, &exam).await;
        assert!(en.contains("Time left") && !en.contains("exam_"));

        let items = delivered(&app, attempt).await;
        let (p_single, p_multi, p_text, p_match, p_order, p_ext) = (
            pos_of(&items, "single_choice"),
            pos_of(&items, "multiple_choice"),
            pos_of(&items, "text_entry"),
            pos_of(&items, "matching"),
            pos_of(&items, "ordering"),
            pos_of(&items, "extended_text"),
        );
        // The form as a browser posts it: the single choice, two boxes ticked, a blank,
        // one pair, two ranks given (the third option follows them).
        let order_ids: Vec<String> =
            items.iter().find(|i| i["kind"] == "ordering").unwrap()["choices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string())
                .collect();
        let k_o1 = order_ids.iter().position(|x| x == "o1").unwrap();
        let k_o2 = order_ids.iter().position(|x| x == "o2").unwrap();
        let answers: Vec<(String, String)> = [
            ("csrf".to_string(), csrf.clone()),
            (format!("a{p_single}"), "C".into()),
            (format!("a{p_multi}"), "A".into()),
            (format!("a{p_multi}"), "B".into()),
            (format!("a{p_text}.b0"), "安培".into()),
            (format!("a{p_match}.s0"), "t1".into()),
            (format!("a{p_match}.s1"), String::new()),
            (format!("a{p_order}.o{k_o1}"), "1".into()),
            (format!("a{p_order}.o{k_o2}"), "2".into()),
            (format!("a{p_ext}"), String::new()),
        ]
        .into();
        let mut no_csrf = answers.clone();
        no_csrf.remove(0);
        let (st, _) = post(&c, &app, &format!("{exam}/save"), &no_csrf).await;
        assert_eq!(st, 403);
        assert_eq!(app.count("exam_responses").await, 0);
        let (cand2, c2csrf) = app.sign_in_page("cand2").await;
        let mut theirs = answers.clone();
        theirs[0].1 = c2csrf;
        let (st, _) = post(&cand2, &app, &format!("{exam}/save"), &theirs).await;
        assert_eq!(st, 404);
        let (st, loc) = post(&c, &app, &format!("{exam}/save"), &answers).await;
        assert_eq!(st, 303, "{loc}");
        assert_eq!(loc, format!("{exam}?saved=1"));
        // Five answered; the blank written answer is not stored.
        assert_eq!(app.count("exam_responses").await, 5);
        let saved = |pos: i64| {
            let app = &app;
            async move {
                sqlx::query_scalar::<_, String>(
                    "SELECT response_json FROM exam_responses WHERE position = $1",
                )
                .bind(pos)
                .fetch_one(app.store.pool())
                .await
                .unwrap()
            }
        };
        assert_eq!(saved(p_multi).await, r#"{"choice":["A","B"]}"#);
        assert_eq!(saved(p_match).await, r#"{"pairs":[["s1","t1"]]}"#);
        // Ranked o1, o2; o3 unranked comes last.
        assert_eq!(saved(p_order).await, r#"{"order":["o1","o2","o3"]}"#);
        // Resume: the page shows the saved answers.
        let (_, body) = get(&c, &app, &format!("{exam}?saved=1")).await;
        assert!(body.contains("value=\"C\" checked") && body.contains("value=\"安培\""));
        assert!(body.contains("Saved at"), "the saved note");
        assert!(body.contains("value=\"t1\" selected"));

        // Submitting with the written answer blank asks first, naming its number.
        let number_ext = items
            .iter()
            .position(|i| i["kind"] == "extended_text")
            .unwrap()
            + 1;
        let (st, body) = post(&c, &app, &format!("{exam}/submit"), &answers).await;
        assert_eq!(st, 200, "{body}");
        assert!(
            body.contains("id=\"confirm-submit\"")
                && body.contains(&format!("Unanswered items:</b> {number_ext}")),
            "{body}"
        );
        let state: String = sqlx::query_scalar("SELECT state FROM exam_candidates")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        assert_eq!(state, "in_progress");
        // Answer it and submit: no question asked now.
        let mut with_text = answers.clone();
        with_text.last_mut().unwrap().1 = "先报告调度，再记录信号，最后隔离故障。".into();
        let (st, loc) = post(&c, &app, &format!("{exam}/submit"), &with_text).await;
        assert_eq!(st, 303, "{loc}");
        let (_, body) = get(&c, &app, &exam).await;
        assert!(body.contains("id=\"exam-submitted\"") && body.contains("by the candidate"));
        // Saving after submission changes nothing.
        let (st, _) = post(&c, &app, &format!("{exam}/save"), &answers).await;
        assert_eq!(st, 303);
        assert!(saved(p_ext).await.contains("先报告调度"));

        // ---- Scoring: the assigned examiners; the TEO reads the sheet only.
        let sheet = format!("/admin/exams/{}/scoring", s.session);
        renders_in_both(&app, "ex1", &sheet, "scoring-sheet").await;
        renders_in_both(&app, "teo_a", &sheet, "scoring-sheet").await;
        let (unassigned, _) = app.sign_in_page("examiner").await;
        assert_eq!(get(&unassigned, &app, &sheet).await.0, 404);
        let task = format!("{sheet}/{attempt}/0");
        renders_in_both(&app, "ex1", &task, "score-form").await;
        let (tc, _) = app.sign_in_page("teo_a").await;
        assert_eq!(get(&tc, &app, &task).await.0, 403);
        assert_eq!(get(&unassigned, &app, &task).await.0, 404);

        let (e1, e1csrf) = app.sign_in_page("ex1").await;
        let (_, body) = get(&e1, &app, &task).await;
        assert!(
            body.contains("安全项")
                && body.contains("全部到位")
                && body.contains("name=\"d.safety\"")
        );
        let score_form = |csrf: &str, safety: &str, check: &str, record: &str| {
            vec![
                ("csrf", csrf.to_string()),
                ("c.safety", safety.to_string()),
                ("o.safety", String::new()),
                ("c.check", check.to_string()),
                ("o.check", String::new()),
                ("c.record", record.to_string()),
                ("o.record", String::new()),
                ("comment", "操作规范".to_string()),
                ("go", "stay".to_string()),
            ]
        };
        for (sa, ch, re, field, msg) in [
            ("20", "50", "", "record", "请为此项打分"),
            ("20", "七十", "10", "check", "不是数字"),
            ("20", "61", "10", "check", "应在 0 至 60 之间"),
        ] {
            let (st, body) = post(&e1, &app, &task, &score_form(&e1csrf, sa, ch, re)).await;
            assert_eq!(st, 422, "{field}");
            assert!(
                body.contains(&format!("id=\"err-{field}\"")) && body.contains(msg),
                "{field}: {body}"
            );
        }
        assert_eq!(app.count("practical_scores").await, 0);
        let (st, _) = post(
            &e1,
            &app,
            &task,
            &score_form("", "20", "50", "15")[1..].to_vec(),
        )
        .await;
        assert_eq!(st, 403);
        // Tapping descriptors without the script: the radio buttons carry the points.
        let mut tapped = score_form(&e1csrf, "", "", "15");
        tapped.push(("d.safety", "20".into()));
        tapped.push(("d.check", "60".into()));
        let (st, loc) = post(&e1, &app, &task, &tapped).await;
        assert_eq!(st, 303, "{loc}");
        // 20 + 60 + 15 = 95 (criteria as tapped and typed).
        let total: f64 = sqlx::query_scalar("SELECT total FROM practical_scores")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        assert_eq!(total, 95.0);
        let (_, body) = get(&e1, &app, &format!("{task}?saved=1")).await;
        assert!(body.contains("id=\"score-saved\"") && body.contains("操作规范"));
        // A second examiner 45 apart (20 + 30 + 0 = 50): a third is needed.
        let (e2, e2csrf) = app.sign_in_page("ex2").await;
        let (st, _) = post(&e2, &app, &task, &score_form(&e2csrf, "20", "30", "0")).await;
        assert_eq!(st, 303);
        let (_, body) = get(&e1, &app, &sheet).await;
        assert!(
            body.contains("exam-third") && body.contains("需第三名考评员"),
            "{body}"
        );
        // The third (20 + 50 + 15 = 85): the closest two, 95 and 85, average to 90.
        let (e3, e3csrf) = app.sign_in_page("ex3").await;
        let mut next = score_form(&e3csrf, "20", "50", "15");
        next.last_mut().unwrap().1 = "next".into();
        let (st, loc) = post(&e3, &app, &task, &next).await;
        assert_eq!(st, 303);
        assert_eq!(loc, sheet, "the last candidate leads back to the sheet");
        let (_, body) = get(&e1, &app, &sheet).await;
        assert!(!body.contains("exam-third"));
        assert!(
            body.contains("<span class=\"exam-combined\">90</span>"),
            "{body}"
        );

        // ---- Marking the written answer.
        let marking = format!("/admin/exams/{}/marking", s.session);
        renders_in_both(&app, "ex1", &marking, "先报告调度").await;
        assert_eq!(get(&tc, &app, &marking).await.0, 403);
        let (_, body) = get(&e1, &app, &marking).await;
        assert!(body.contains("报告、记录、隔离，各占分值"), "the guide");
        let mark = format!("{marking}/{attempt}/{p_ext}");
        let (st, body) = post(
            &e1,
            &app,
            &mark,
            &[("csrf", e1csrf.clone()), ("score", "11".into())],
        )
        .await;
        assert_eq!(st, 422);
        assert!(
            body.contains(&format!("id=\"err-mark.{attempt}.{p_ext}\""))
                && body.contains("得分应在 0 至 10 之间"),
            "{body}"
        );
        let marked = || async {
            sqlx::query_scalar::<_, Option<f64>>(
                "SELECT score FROM exam_responses WHERE position = $1",
            )
            .bind(p_ext)
            .fetch_one(app.store.pool())
            .await
            .unwrap()
        };
        assert_eq!(marked().await, None, "a refused mark writes nothing");
        let (st, _) = post(&e1, &app, &mark, &[("score", "8".to_string())]).await;
        assert_eq!(st, 403);
        assert_eq!(marked().await, None);
        let (st, _) = post(
            &e1,
            &app,
            &mark,
            &[("csrf", e1csrf.clone()), ("score", "8".into())],
        )
        .await;
        assert_eq!(st, 303);
        // Q1 C right 2, Q2 A+B right 2, Q3 安培 2, Q4 one of two pairs wrong-or-missing:
        // all-or-nothing 0, Q5 o1 o2 o3 right 2, Q6 marked 8 → 16 of 20.
        let earned: f64 = sqlx::query_scalar("SELECT theory_earned FROM exam_candidates")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        assert_eq!(earned, 16.0);

        // ---- Results: compute, close, release; scoped views; downloads.
        let results = format!("/admin/exams/{}/results", s.session);
        let tcsrf = csrf_of(&get(&tc, &app, &results).await.1);
        let (st, _) = post(
            &cc,
            &app,
            &format!("{results}/compute"),
            &[("csrf", ccsrf.clone())],
        )
        .await;
        assert_eq!(st, 403, "a college does not compute");
        let (st, loc) = post(
            &tc,
            &app,
            &format!("{results}/compute"),
            &[("csrf", tcsrf.clone())],
        )
        .await;
        assert_eq!(st, 303, "{loc}");
        let r = tc
            .get(app.url(&format!("/admin/exams/{}/pass-list.xlsx", s.session)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "no pass list before release");
        for (st_to, confirm) in [("closed", "1"), ("released", "")] {
            let (st, _) = post(
                &tc,
                &app,
                &format!("/admin/exams/{}/status", s.session),
                &[
                    ("csrf", tcsrf.clone()),
                    ("status", st_to.into()),
                    ("confirm", confirm.into()),
                ],
            )
            .await;
            assert_eq!(st, 303, "{st_to}");
        }
        for user in ["teo_a", "college_sd", "prov_sd", "admin"] {
            renders_in_both(&app, user, &results, "chart-totals").await;
        }
        for user in ["teo_b", "college_js", "examiner"] {
            let (c, _) = app.sign_in_page(user).await;
            assert_eq!(get(&c, &app, &results).await.0, 404, "{user}");
        }
        assert_eq!(
            get(&e1, &app, &results).await.0,
            403,
            "examiners do not read results"
        );
        let (_, body) = get(&tc, &app, &results).await;
        // Process 88 absent → not set here; theory 16/20 = 80, practical 90.
        assert!(body.contains("<b id=\"count-candidates\">1</b>"), "{body}");
        assert!(
            body.contains("缺过程性评价成绩"),
            "no training score was entered: {body}"
        );
        assert!(
            body.contains("<td>80</td>") && body.contains("<td>90</td>"),
            "{body}"
        );
        for x in ["results.xlsx", "pass-list.xlsx"] {
            let r = tc
                .get(app.url(&format!("/admin/exams/{}/{x}", s.session)))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{x}");
            assert_eq!(&r.bytes().await.unwrap()[..2], b"PK");
        }
        // The candidate sees the result.
        let (_, body) = get(&c, &app, &exam).await;
        assert!(
            body.contains("id=\"exam-result\"") && body.contains("id=\"result-failed\""),
            "{body}"
        );
        let (_, body) = get(&c, &app, "/exam").await;
        assert!(body.contains("Fail"));
        let _ = s.teo;
    }
}

#[tokio::test]
async fn exam_script_is_served_cacheable() {
    let app = spawn_app(common::Engine::Sqlite).await;
    let r = Client::new()
        .get(app.url("/static/exam.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let body = r.text().await.unwrap();
    assert!(body.contains("/api/v1/attempts/") && body.contains("X-CSRF-Token"));
}
