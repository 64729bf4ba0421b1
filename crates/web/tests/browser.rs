//! A real headless Chromium, driven through ChromeDriver: sign in, create a certificate
//! with a standard, publish it, and find it in the public catalogue.
//!
//! Skipped (loudly) when ChromeDriver is not installed; `XCERT_TEST_BROWSER=1` turns a
//! missing browser into a failure so CI cannot skip it by accident.

mod common;

use common::{Engine, PASSWORD, spawn_app};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

async fn sign_in(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Id("f-username"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    c.find(Locator::Id("f-password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Id("login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_url(&format!("{base}/admin").parse().unwrap())
        .await
        .unwrap();
}

async fn sign_out(c: &Client) {
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("catalogue-search"))
        .await
        .unwrap();
}

#[tokio::test]
async fn sign_in_create_certificate_with_standard_and_find_it_in_catalogue() {
    let required = std::env::var("XCERT_TEST_BROWSER").is_ok_and(|v| v == "1");
    let (Some(driver), Some(chromium)) = (
        find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]),
        find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]),
    ) else {
        assert!(
            !required,
            "XCERT_TEST_BROWSER=1 but chromium/chromedriver are not installed"
        );
        common::loud_once(
            &std::sync::Once::new(),
            "=== SKIPPED: browser test (apt-get install chromium chromium-driver; XCERT_TEST_BROWSER=1 makes it required) ===",
        );
        return;
    };
    let app = spawn_app(Engine::Sqlite).await;
    let base = app.base.clone();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _driver = KillOnDrop(
        Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let profile = tempfile::tempdir().unwrap();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--disable-quic", "--window-size=1280,1000",
                     format!("--user-data-dir={}", profile.path().display())]
        }
    });
    let caps: fantoccini::wd::Capabilities = caps.as_object().unwrap().clone();
    let mut c = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => {
                c = Some(client);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = c.expect("ChromeDriver did not start");

    // TEO staff create the certificate and its standard.
    sign_in(&c, &base, "teo_a").await;
    c.goto(&format!("{base}/admin/certificates/new"))
        .await
        .unwrap();
    c.find(Locator::Id("f-code"))
        .await
        .unwrap()
        .send_keys("SGCC-BT1")
        .await
        .unwrap();
    c.find(Locator::Id("f-name_zh"))
        .await
        .unwrap()
        .send_keys("智能巡检机器人运维")
        .await
        .unwrap();
    c.find(Locator::Id("f-majors"))
        .await
        .unwrap()
        .send_keys("电力系统自动化技术")
        .await
        .unwrap();
    for l in ["junior", "intermediate", "senior"] {
        let cb = c.find(Locator::Id(&format!("f-level_{l}"))).await.unwrap();
        if cb.prop("checked").await.unwrap().as_deref() != Some("true") {
            cb.click().await.unwrap();
        }
    }
    c.find(Locator::Id("cert-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let outline = c
        .wait()
        .for_element(Locator::Id("f-outline"))
        .await
        .unwrap();
    outline
        .send_keys(
            "# 巡检准备\n## 设备检查\n- [初级] 能完成机器人开机自检\n- [中级] 能处理常见告警\n",
        )
        .await
        .unwrap();
    c.find(Locator::Id("standard-publish"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let tree = c
        .wait()
        .for_element(Locator::Id("standard-tree"))
        .await
        .unwrap();
    assert!(tree.text().await.unwrap().contains("能完成机器人开机自检"));
    sign_out(&c).await;

    // A TEO's certificate is a draft until the ministry publishes it.
    c.goto(&format!("{base}/?q=智能巡检")).await.unwrap();
    assert!(
        !c.source().await.unwrap().contains("SGCC-BT1"),
        "a draft is not in the public catalogue"
    );
    sign_in(&c, &base, "admin").await;
    c.goto(&format!("{base}/admin/certificates/SGCC-BT1"))
        .await
        .unwrap();
    c.find(Locator::Css("#f-status option[value='published']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("cert-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("cert-title"))
        .await
        .unwrap();
    sign_out(&c).await;

    // The public finds it by searching the catalogue.
    c.goto(&format!("{base}/")).await.unwrap();
    let q = c
        .find(Locator::Css("#catalogue-search input[name=q]"))
        .await
        .unwrap();
    q.send_keys("智能巡检").await.unwrap();
    c.find(Locator::Css("#catalogue-search button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let table = c
        .wait()
        .for_element(Locator::Id("catalogue"))
        .await
        .unwrap();
    let text = table.text().await.unwrap();
    assert!(
        text.contains("SGCC-BT1") && text.contains("智能巡检机器人运维"),
        "{text}"
    );
    c.find(Locator::LinkText("智能巡检机器人运维"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let tree = c
        .wait()
        .for_element(Locator::Id("standard-tree"))
        .await
        .unwrap();
    let text = tree.text().await.unwrap();
    assert!(
        text.contains("能完成机器人开机自检") && text.contains("能处理常见告警"),
        "{text}"
    );
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(std::env::temp_dir().join("xcert-browser.png"), png);
    }
    c.close().await.unwrap();
}

/// Headless Chromium under ChromeDriver, started as in the test above; `None` (after a
/// loud notice) when they are not installed and `XCERT_TEST_BROWSER=1` is not set.
async fn start_browser() -> Option<(KillOnDrop, Client, tempfile::TempDir)> {
    let required = std::env::var("XCERT_TEST_BROWSER").is_ok_and(|v| v == "1");
    let (Some(driver), Some(chromium)) = (
        find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]),
        find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]),
    ) else {
        assert!(
            !required,
            "XCERT_TEST_BROWSER=1 but chromium/chromedriver are not installed"
        );
        common::loud_once(
            &std::sync::Once::new(),
            "=== SKIPPED: browser test of the exam pages (apt-get install chromium chromium-driver; XCERT_TEST_BROWSER=1 makes it required) ===",
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = KillOnDrop(
        Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let profile = tempfile::tempdir().unwrap();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--disable-quic", "--window-size=1280,1000",
                     format!("--user-data-dir={}", profile.path().display())]
        }
    });
    let caps: fantoccini::wd::Capabilities = caps.as_object().unwrap().clone();
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Some((driver, client, profile)),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    panic!("ChromeDriver did not start");
}

async fn click(c: &Client, css: &str) {
    let e = c
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    press(c, e)
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Click an element after bringing it to the middle of the window: the exam page's
/// sticky timer bar would otherwise cover an element that WebDriver sees as in view.
async fn press(
    c: &Client,
    e: fantoccini::elements::Element,
) -> Result<(), fantoccini::error::CmdError> {
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'});",
        vec![serde_json::to_value(&e).unwrap()],
    )
    .await?;
    e.click().await
}

async fn type_into(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

/// Wait (up to 20 s) until an element's text satisfies `ok`; returns the text.
async fn wait_text(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            last = e.text().await.unwrap_or_default();
            if ok(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{css}: text stayed {last:?}");
}

/// The theory items of the exam, their positions in the form (0…) with their answers.
fn exam_items() -> Vec<serde_json::Value> {
    use serde_json::json;
    let meta = |ident: &str| json!({"ident": ident, "requirements": ["1.1.1"], "level": "junior"});
    let choice = |ident: &str, kind: &str, stem: &str, opts: &[(&str, &str)], key: &[&str]| {
        json!({"meta": meta(ident), "status": "approved", "content": {"kind": kind, "stem": stem, "points": 2.0,
            "interaction": {"type": "choice", "shuffle": false,
                "choices": opts.iter().map(|(id, t)| json!({"id": id, "text": t})).collect::<Vec<_>>(), "correct": key}}})
    };
    vec![
        choice(
            "Q1",
            "single_choice",
            "继电保护的基本要求不包括？",
            &[("A", "选择性"), ("B", "速动性"), ("C", "美观性")],
            &["C"],
        ),
        choice(
            "Q2",
            "multiple_choice",
            "巡视时应检查哪些指示？",
            &[("A", "运行灯"), ("B", "告警灯"), ("C", "外壳颜色")],
            &["A", "B"],
        ),
        choice(
            "Q3",
            "true_false",
            "定值单核对可由一人完成。",
            &[("A", "对"), ("B", "错")],
            &["B"],
        ),
        json!({"meta": meta("Q4"), "status": "approved", "content": {"kind": "text_entry", "stem": "电流的单位是____。", "points": 2.0,
            "interaction": {"type": "text_entry", "blanks": [{"id": "1", "accepted": ["安培"]}]}}}),
        json!({"meta": meta("Q5"), "status": "approved", "content": {"kind": "ordering", "stem": "排列停电操作顺序。", "points": 2.0,
            "interaction": {"type": "order", "choices": [{"id": "o1", "text": "断开断路器"}, {"id": "o2", "text": "拉开隔离开关"}, {"id": "o3", "text": "验电"}],
                "correct": ["o1", "o2", "o3"]}}}),
        json!({"meta": meta("P1"), "status": "approved", "content": {"kind": "practical_task", "stem": "完成一套线路保护定值核对。", "points": 100.0,
        "interaction": {"type": "practical", "scale": {"criteria": [
            {"id": "safety", "text": "安全措施到位", "points": 20.0, "critical": true,
             "descriptors": [{"points": 20.0, "text": "全部到位"}, {"points": 0.0, "text": "未做"}]},
            {"id": "check", "text": "定值逐项核对正确", "points": 60.0,
             "descriptors": [{"points": 60.0, "text": "全部正确"}, {"points": 30.0, "text": "少量差错"}]},
            {"id": "record", "text": "记录规范", "points": 20.0}
        ]}}}}),
    ]
}

#[tokio::test]
async fn schedule_register_take_score_and_release_an_exam_in_the_browser() {
    use serde_json::{Value, json};
    let Some((_driver, c, _profile)) = start_browser().await else {
        return;
    };
    let app = spawn_app(Engine::Sqlite).await;
    let base = app.base.clone();
    let api = |method: reqwest::Method, path: String, tok: String, body: Value| {
        let app = &app;
        async move {
            let r = app.api(method, &path, Some(&tok), Some(body)).await;
            let s = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            assert!(s < 300, "{path}: {s} {v}");
            v
        }
    };
    // Beforehand, through the API: the bank (items, a form, a practical task), an
    // examiner of the TEO, a student of the hosting college with a candidate account.
    let teo = app.token("teo_a").await;
    let college = app.token("college_sd").await;
    api(
        reqwest::Method::POST,
        "/certificates".into(),
        teo.clone(),
        common::cert_body("TST-BRW", "继电保护检修"),
    )
    .await;
    api(
        reqwest::Method::PUT,
        "/certificates/TST-BRW/standard".into(),
        teo.clone(),
        json!({"outline": "# 设备巡视\n## 保护装置巡视\n- [初级] 能检查保护装置运行指示\n", "publish": true}),
    )
    .await;
    let mut ids = Vec::new();
    for it in exam_items() {
        let v = api(
            reqwest::Method::POST,
            "/certificates/TST-BRW/items".into(),
            teo.clone(),
            it,
        )
        .await;
        ids.push(v["item"]["id"].as_i64().unwrap());
    }
    let v = api(
        reqwest::Method::POST,
        "/certificates/TST-BRW/forms".into(),
        teo.clone(),
        json!({"level": "junior", "title": "初级理论 A 卷", "time_limit_minutes": 60,
               "items": ids[..5].iter().map(|id| json!({"item_id": id})).collect::<Vec<_>>()}),
    )
    .await;
    let form_id = v["items"][0]["id"].as_i64().unwrap();
    let task_id = ids[5];
    let v = api(
        reqwest::Method::POST,
        "/users".into(),
        teo.clone(),
        json!({"username": "ex1", "display_name": "考评员甲", "password": PASSWORD, "role": "examiner", "org_id": app.ids["teo_a"]}),
    )
    .await;
    let examiner_id = v["id"].as_i64().unwrap();
    let first17 = "11010520000101001";
    let id_no = format!(
        "{first17}{}",
        xcert_domain::ids::ResidentId::check_char(first17).unwrap()
    );
    let v = api(
        reqwest::Method::POST,
        "/people".into(),
        college.clone(),
        json!({"name": "张𠮷", "id_number": id_no, "student_no": "2024001"}),
    )
    .await;
    let person = v["id"].as_i64().unwrap();
    api(
        reqwest::Method::POST,
        "/users".into(),
        college.clone(),
        json!({"username": "cand1", "display_name": "张𠮷", "password": PASSWORD, "role": "candidate", "person_id": person}),
    )
    .await;

    // The TEO schedules the session in the page.
    sign_in(&c, &base, "teo_a").await;
    c.goto(&format!("{base}/admin/exams")).await.unwrap();
    click(&c, "#f-certificate option[value='TST-BRW']").await;
    type_into(&c, "#f-title", "浏览器中安排的考核").await;
    click(
        &c,
        &format!("#f-site_org_id option[value='{}']", app.ids["college_sd"]),
    )
    .await;
    // datetime-local takes its value as the date picker would set it (China time).
    let china = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let local = |d: chrono::DateTime<chrono::Utc>| {
        d.with_timezone(&china).format("%Y-%m-%dT%H:%M").to_string()
    };
    let now = chrono::Utc::now();
    c.execute(
        "document.getElementById('f-opens_at').value = arguments[0]; document.getElementById('f-closes_at').value = arguments[1];",
        vec![
            json!(local(now - chrono::Duration::minutes(5))),
            json!(local(now + chrono::Duration::hours(3))),
        ],
    )
    .await
    .unwrap();
    let duration = c.find(Locator::Id("f-duration_minutes")).await.unwrap();
    duration.clear().await.unwrap();
    duration.send_keys("60").await.unwrap();
    click(&c, &format!("#f-forms input[value='{form_id}']")).await;
    click(&c, &format!("#f-tasks input[value='{task_id}']")).await;
    click(&c, &format!("#f-examiners input[value='{examiner_id}']")).await;
    shot(&c, "schedule").await;
    click(&c, "#schedule-submit").await;
    let title = c
        .wait()
        .for_element(Locator::Id("session-title"))
        .await
        .unwrap();
    assert!(title.text().await.unwrap().contains("浏览器中安排的考核"));
    let session_url = c.current_url().await.unwrap().to_string();
    let session: i64 = session_url.rsplit('/').next().unwrap().parse().unwrap();
    sign_out(&c).await;

    // The college registers its student in the page.
    sign_in(&c, &base, "college_sd").await;
    c.goto(&session_url).await.unwrap();
    click(&c, &format!("#person-{person}")).await;
    click(&c, "#register-submit").await;
    let outcome = wait_text(&c, "#register-outcomes", |t| t.contains("张𠮷")).await;
    assert!(outcome.contains("已报名"), "{outcome}");
    shot(&c, "session").await;
    sign_out(&c).await;

    // The candidate starts, answers by clicking, sees the autosave, reloads, submits.
    sign_in(&c, &base, "cand1").await;
    c.goto(&format!("{base}/exam")).await.unwrap();
    click(&c, "#my-exams a").await;
    click(&c, "#exam-start").await;
    c.wait()
        .for_element(Locator::Id("exam-form"))
        .await
        .unwrap();
    let timer = wait_text(&c, "#exam-timer", |t| t.contains(':')).await;
    assert!(
        timer.starts_with("59:") || timer.starts_with("1:00:"),
        "{timer}"
    );
    let attempt_url = c.current_url().await.unwrap().to_string();
    click(&c, ".exam-q[data-pos='0'] input[value='C']").await;
    wait_text(&c, "#save-status", |t| t.contains("已保存于")).await;
    // The connection drops: the page says so and keeps retrying until it is back.
    c.execute(
        "window.__fetch = window.fetch; window.fetch = function () { return Promise.reject(new TypeError('offline')); };",
        vec![],
    )
    .await
    .unwrap();
    click(&c, ".exam-q[data-pos='1'] input[value='A']").await;
    wait_text(&c, "#save-status", |t| t.contains("网络中断")).await;
    c.execute("window.fetch = window.__fetch;", vec![])
        .await
        .unwrap();
    click(&c, ".exam-q[data-pos='1'] input[value='B']").await;
    click(&c, ".exam-q[data-pos='2'] input[value='B']").await;
    type_into(&c, ".exam-q[data-pos='3'] input[type=text]", "安培").await;
    // Ordering with the up buttons: bring o1, o2, o3 to the top in turn.
    for (want, id) in ["o1", "o2", "o3"].iter().enumerate() {
        loop {
            let lis = c
                .find_all(Locator::Css(".exam-q[data-pos='4'] li"))
                .await
                .unwrap();
            let mut at = 0;
            for (i, li) in lis.iter().enumerate() {
                if li.attr("data-choice").await.unwrap().as_deref() == Some(*id) {
                    at = i;
                }
            }
            if at <= want {
                break;
            }
            let up = lis[at]
                .find(Locator::Css("button.exam-move"))
                .await
                .unwrap();
            press(&c, up).await.unwrap();
        }
    }
    // Autosave: the indicator says saved and the server holds all five answers.
    for _ in 0..100 {
        let text = c
            .find(Locator::Id("save-status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("已保存于") && app.count("exam_responses").await == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.count("exam_responses").await, 5, "autosaved");
    let status = c
        .find(Locator::Id("save-status"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(status.contains("已保存于"), "the indicator: {status}");
    let order: String =
        sqlx::query_scalar("SELECT response_json FROM exam_responses WHERE position = 4")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(order, r#"{"order":["o1","o2","o3"]}"#);
    // Resume after a reload: the answers are on the page again.
    c.refresh().await.unwrap();
    c.wait()
        .for_element(Locator::Id("exam-form"))
        .await
        .unwrap();
    for css in [
        ".exam-q[data-pos='0'] input[value='C']",
        ".exam-q[data-pos='1'] input[value='A']",
        ".exam-q[data-pos='1'] input[value='B']",
        ".exam-q[data-pos='2'] input[value='B']",
    ] {
        let e = c.find(Locator::Css(css)).await.unwrap();
        assert_eq!(
            e.prop("checked").await.unwrap().as_deref(),
            Some("true"),
            "{css} after reload"
        );
    }
    let blank = c
        .find(Locator::Css(".exam-q[data-pos='3'] input[type=text]"))
        .await
        .unwrap();
    assert_eq!(blank.prop("value").await.unwrap().as_deref(), Some("安培"));
    shot(&c, "attempt").await;
    click(&c, "#exam-submit").await;
    // The confirmation lists no unanswered items; accept it.
    let msg = c.get_alert_text().await.unwrap();
    assert!(msg.contains("确定交卷") && !msg.contains("未作答"), "{msg}");
    c.accept_alert().await.unwrap();
    c.wait()
        .for_element(Locator::Id("exam-submitted"))
        .await
        .unwrap();
    sign_out(&c).await;

    // A second candidate whose time runs out on the page: the countdown submits the
    // answer just given, with the reason "timeout".
    let v = api(
        reqwest::Method::POST,
        "/people".into(),
        college.clone(),
        json!({"name": "李四", "id_number": format!("11010520000102002{}", xcert_domain::ids::ResidentId::check_char("11010520000102002").unwrap()), "student_no": "2024002"}),
    )
    .await;
    let person2 = v["id"].as_i64().unwrap();
    api(
        reqwest::Method::POST,
        "/users".into(),
        college.clone(),
        json!({"username": "cand2", "display_name": "李四", "password": PASSWORD, "role": "candidate", "person_id": person2}),
    )
    .await;
    let v = api(
        reqwest::Method::POST,
        format!("/exam-sessions/{session}/candidates"),
        college.clone(),
        json!({"person_ids": [person2]}),
    )
    .await;
    let attempt2 = v["items"][0]["candidate_id"].as_i64().unwrap();
    let cand2 = app.token("cand2").await;
    api(
        reqwest::Method::POST,
        format!("/attempts/{attempt2}/start"),
        cand2,
        json!({}),
    )
    .await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(6))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    sqlx::query("UPDATE exam_candidates SET deadline_at = $1 WHERE id = $2")
        .bind(&soon)
        .bind(attempt2)
        .execute(app.store.pool())
        .await
        .unwrap();
    sign_in(&c, &base, "cand2").await;
    c.goto(&format!("{base}/exam/{attempt2}")).await.unwrap();
    click(&c, ".exam-q[data-pos='0'] input[value='A']").await;
    let submitted = wait_text(&c, "#exam-submitted", |t| t.contains("时间到自动交卷")).await;
    assert!(submitted.contains("已交卷"), "{submitted}");
    let reason: String =
        sqlx::query_scalar("SELECT submit_reason FROM exam_candidates WHERE id = $1")
            .bind(attempt2)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(reason, "timeout");
    let answer: String = sqlx::query_scalar(
        "SELECT response_json FROM exam_responses WHERE candidate_id = $1 AND position = 0",
    )
    .bind(attempt2)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(answer, r#"{"choice":["A"]}"#);
    sign_out(&c).await;

    // The examiner scores the practical task on the tablet page.
    sign_in(&c, &base, "ex1").await;
    c.goto(&format!("{base}/admin/exams/{session}/scoring"))
        .await
        .unwrap();
    click(&c, "#scoring-sheet a.exam-cell").await;
    c.wait()
        .for_element(Locator::Id("score-form"))
        .await
        .unwrap();
    for (crit, points) in [("safety", "20"), ("check", "60")] {
        let label = c
            .find(Locator::XPath(&format!(
                "//fieldset[@data-criterion='{crit}']//label[input[@value='{points}']]"
            )))
            .await
            .unwrap();
        press(&c, label).await.unwrap();
        let v = c
            .find(Locator::Id(&format!("c-{crit}")))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(
            v.as_deref(),
            Some(points),
            "a tapped descriptor sets the points"
        );
    }
    type_into(&c, "#c-record", "15").await;
    // 20 + 60 + 15.
    wait_text(&c, "#live-total", |t| t == "95").await;
    shot(&c, "scoring").await;
    click(&c, "#score-save").await;
    c.wait()
        .for_element(Locator::Id("score-saved"))
        .await
        .unwrap();
    sign_out(&c).await;

    // The TEO enters the training score, closes and releases.
    sign_in(&c, &base, "teo_a").await;
    c.goto(&session_url).await.unwrap();
    type_into(&c, "form.exam-process input[name=score]", "90").await;
    click(&c, "form.exam-process button").await;
    c.wait()
        .for_element(Locator::Id("saved-note"))
        .await
        .unwrap();
    click(&c, "#close-confirm").await;
    click(&c, "#close-session").await;
    click(&c, "#release-results").await;
    c.wait()
        .for_element(Locator::Css("#session-status[data-status='released']"))
        .await
        .unwrap();
    sign_out(&c).await;

    // The candidate sees the result: theory 10/10 = 100, practical 95, process 90;
    // 0.2·90 + 0.3·100 + 0.5·95 = 95.5 under the default rule.
    sign_in(&c, &base, "cand1").await;
    c.goto(&attempt_url).await.unwrap();
    c.wait()
        .for_element(Locator::Id("result-passed"))
        .await
        .unwrap();
    let total = wait_text(&c, "#result-total", |t| !t.is_empty()).await;
    assert_eq!(total, "95.5");
    shot(&c, "result").await;
    c.close().await.unwrap();
}

/// A screenshot in the temporary directory, for a person to look at after a run.
async fn shot(c: &Client, name: &str) {
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(
            std::env::temp_dir().join(format!("xcert-browser-exam-{name}.png")),
            png,
        );
    }
}
