//! The assessment flow through the API on both engines: a TEO builds a bank and a form,
//! schedules a session; a college registers its student; the candidate starts, autosaves
//! and submits (twice); examiners score the practical task and disagree; a third settles
//! it; a written answer is marked; results are released and the pass list appears.

mod common;

use common::{Engine, PASSWORD, engines, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// A valid GB 11643 identity number for a birth date and sequence (check digit computed
/// by the standard's algorithm in the domain crate).
fn id_number(seq: u32) -> String {
    let first17 = format!("110105200001{:02}{:03}", 1 + seq % 28, seq % 1000);
    let c = xcert_domain::ids::ResidentId::check_char(&first17).unwrap();
    format!("{first17}{c}")
}

fn choice_item(
    ident: &str,
    kind: &str,
    stem: &str,
    opts: &[&str],
    key: &[&str],
    req: &str,
) -> Value {
    let ids = ["A", "B", "C", "D", "E"];
    json!({
        "meta": {"ident": ident, "requirements": [req], "level": "junior", "difficulty": 3},
        "content": {
            "kind": kind, "stem": stem, "points": 2.0,
            "scoring": if kind == "multiple_choice" { "partial" } else { "all_or_nothing" },
            "interaction": {"type": "choice", "shuffle": true,
                "choices": opts.iter().zip(ids).map(|(t, id)| json!({"id": id, "text": t})).collect::<Vec<_>>(),
                "correct": key},
        },
        "status": "draft"
    })
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    let t = r.text().await.unwrap();
    (s, serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

struct Setup {
    teo: String,
    college: String,
    cand: String,
    session: i64,
    attempt: i64,
    positions: Vec<i64>,
}

async fn setup(app: &common::TestApp) -> Setup {
    let teo = app.token("teo_a").await;
    let college = app.token("college_sd").await;
    let mut cert = common::cert_body("TST-RPM", "继电保护检修");
    cert["levels"] = json!(["初级", "中级"]);
    let (s, _) = json_of(
        app.api(Method::POST, "/certificates", Some(&teo), Some(cert))
            .await,
    )
    .await;
    assert_eq!(s, 201);
    let outline = "# 设备巡视\n## 保护装置巡视\n- [初级] 能检查保护装置运行指示\n- [初级] 能记录异常信号\n# 定值管理\n## 定值核对\n- [初级] 能核对保护定值单\n- [中级] 能整定保护定值\n";
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

    let mut items = vec![
        choice_item(
            "Q1",
            "single_choice",
            "<p>继电保护装置的基本要求不包括？</p>",
            &["选择性", "速动性", "美观性", "可靠性"],
            &["C"],
            "1.1.1",
        ),
        choice_item(
            "Q2",
            "multiple_choice",
            "<p>巡视时应检查哪些指示？</p>",
            &["运行灯", "告警灯", "外壳颜色", "压板位置"],
            &["A", "B", "D"],
            "1.1.2",
        ),
        choice_item(
            "Q3",
            "true_false",
            "<p>定值单核对可由一人完成。</p>",
            &["对", "错"],
            &["B"],
            "2.1.1",
        ),
    ];
    items.push(json!({
        "meta": {"ident": "Q4", "requirements": ["2.1.1"], "level": "junior"},
        "content": {"kind": "text_entry", "stem": "电流的单位是____。", "points": 2.0,
            "interaction": {"type": "text_entry", "blanks": [{"id": "1", "accepted": ["安培", "A"]}]}}
    }));
    items.push(json!({
        "meta": {"ident": "Q5", "requirements": ["1.1.2"], "level": "junior"},
        "content": {"kind": "extended_text", "stem": "简述保护装置异常信号的处理步骤。", "points": 10.0,
            "interaction": {"type": "extended_text", "guide": "报告、记录、隔离，各占分值"}}
    }));
    items.push(json!({
        "meta": {"ident": "P1", "requirements": ["2.1.1"], "level": "junior"},
        "content": {"kind": "practical_task", "stem": "完成一套线路保护定值核对。", "points": 100.0,
            "interaction": {"type": "practical", "scale": {"criteria": [
                {"id": "safety", "text": "安全措施到位", "points": 20.0, "critical": true},
                {"id": "check", "text": "定值逐项核对正确", "points": 60.0},
                {"id": "record", "text": "记录规范", "points": 20.0}
            ]}}}
    }));
    let mut ids = Vec::new();
    for it in items {
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
    // A form may only use approved items.
    let form = json!({"level": "junior", "title": "初级理论 A 卷", "time_limit_minutes": 60,
        "items": ids[..5].iter().map(|id| json!({"item_id": id})).collect::<Vec<_>>()});
    let (s, v) = json_of(
        app.api(
            Method::POST,
            "/certificates/TST-RPM/forms",
            Some(&teo),
            Some(form.clone()),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        v["error"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .next()
            .unwrap(),
        "items[0]"
    );
    for id in &ids {
        let (s, v) = json_of(
            app.api(
                Method::POST,
                &format!("/certificates/TST-RPM/items/{id}/status"),
                Some(&teo),
                Some(json!({"status": "approved"})),
            )
            .await,
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
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
    assert_eq!(v["items"][0]["total_points"], 18.0);

    // Another TEO sees no bank.
    let other = app.token("teo_b").await;
    let (s, _) = json_of(
        app.api(
            Method::GET,
            "/certificates/TST-RPM/items",
            Some(&other),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 404);

    // Examiners: two of the TEO's own plus the harness's.
    let mut examiners = Vec::new();
    for u in ["ex1", "ex2", "ex3"] {
        let (s, v) = json_of(
            app.api(Method::POST, "/users", Some(&teo), Some(json!({"username": u, "display_name": u, "password": PASSWORD, "role": "examiner", "org_id": app.ids["teo_a"]})))
                .await,
        )
        .await;
        assert_eq!(s, 201, "{v}");
        examiners.push(v["id"].as_i64().unwrap());
    }
    let opens = chrono::Utc::now() - chrono::Duration::minutes(1);
    let closes = chrono::Utc::now() + chrono::Duration::hours(3);
    let session = json!({
        "certificate": "TST-RPM", "level": "junior", "title": "2026 年第一次初级考核",
        "site_org_id": app.ids["college_sd"], "opens_at": opens.to_rfc3339(), "closes_at": closes.to_rfc3339(),
        "duration_minutes": 60, "form_ids": [form_id], "task_item_ids": [ids[5]], "examiner_ids": examiners,
        "disagreement_points": 10.0
    });
    // The college cannot schedule a TEO's session.
    let (s, _) = json_of(
        app.api(
            Method::POST,
            "/exam-sessions",
            Some(&college),
            Some(session.clone()),
        )
        .await,
    )
    .await;
    assert_eq!(s, 403);
    let (s, v) = json_of(
        app.api(Method::POST, "/exam-sessions", Some(&teo), Some(session))
            .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let session_id = v["id"].as_i64().unwrap();

    // A student of the hosting college and their candidate account.
    let (s, v) = json_of(
        app.api(
            Method::POST,
            "/people",
            Some(&college),
            Some(json!({"name": "张𠮷", "id_number": id_number(1), "student_no": "2024001"})),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let person = v["id"].as_i64().unwrap();
    let (s, v) = json_of(
        app.api(Method::POST, "/users", Some(&college), Some(json!({"username": "cand1", "display_name": "张𠮷", "password": PASSWORD, "role": "candidate", "person_id": person})))
            .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    // Another college may not register this student.
    let js = app.token("college_js").await;
    let (_, v) = json_of(
        app.api(
            Method::POST,
            &format!("/exam-sessions/{session_id}/candidates"),
            Some(&js),
            Some(json!({"person_ids": [person]})),
        )
        .await,
    )
    .await;
    assert!(
        v["items"][0]["candidate_id"].is_null() || v["error"].is_object(),
        "{v}"
    );
    let (s, v) = json_of(
        app.api(
            Method::POST,
            &format!("/exam-sessions/{session_id}/candidates"),
            Some(&college),
            Some(json!({"person_ids": [person]})),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let attempt = v["items"][0]["candidate_id"].as_i64().expect("registered");
    assert!(
        v["items"][0]["ticket"]
            .as_str()
            .unwrap()
            .starts_with("2026")
            || v["items"][0]["ticket"].as_str().unwrap().len() == 14
    );

    let cand = app.token("cand1").await;
    let (s, v) = json_of(app.api(Method::GET, "/me/exams", Some(&cand), None).await).await;
    assert_eq!(s, 200);
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["attempt"]["state"], "registered");
    let (s, v) = json_of(
        app.api(
            Method::POST,
            &format!("/attempts/{attempt}/start"),
            Some(&cand),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let text = v.to_string();
    assert!(
        !text.contains("correct") && !text.contains("accepted") && !text.contains("guide"),
        "no keys reach the candidate: {text}"
    );
    assert_eq!(v["max_points"], 18.0);
    let positions: Vec<i64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["position"].as_i64().unwrap())
        .collect();
    assert_eq!(
        positions.len(),
        5,
        "the practical task is not in the online test"
    );
    assert!(v["remaining_ms"].as_i64().unwrap() > 59 * 60 * 1000);
    Setup {
        teo,
        college,
        cand,
        session: session_id,
        attempt,
        positions,
    }
}

#[tokio::test]
async fn exam_flow_from_bank_to_pass_list() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let s = setup(&app).await;
        let (cand, attempt, session) = (&s.cand, s.attempt, s.session);
        // Autosave in two steps; the second replaces one answer.
        let (st, v) = json_of(
            app.api(
                Method::PUT,
                &format!("/attempts/{attempt}/answers"),
                Some(cand),
                Some(json!({"answers": {"0": {"choice": ["A"]}, "1": {"choice": ["A", "B"]}}})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["saves"], 1);
        let (st, v) = json_of(
            app.api(Method::PUT, &format!("/attempts/{attempt}/answers"), Some(cand),
                Some(json!({"answers": {"0": {"choice": ["C"]}, "3": {"text": ["Ａ"]}, "4": {"extended": "先报告调度，再记录信号，最后隔离故障。"}}}))).await,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        // A position not on the form is refused and changes nothing.
        let (st, v) = json_of(
            app.api(
                Method::PUT,
                &format!("/attempts/{attempt}/answers"),
                Some(cand),
                Some(json!({"answers": {"9": {"choice": ["A"]}}})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 422, "{v}");
        // Resume after a dropped connection: the page data carries the saved answers.
        let (_, v) = json_of(
            app.api(
                Method::GET,
                &format!("/attempts/{attempt}"),
                Some(cand),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(v["responses"]["0"], json!({"choice": ["C"]}));
        assert_eq!(v["responses"]["1"], json!({"choice": ["A", "B"]}));
        // Someone else cannot touch the attempt.
        let other = app.token("college_sd").await;
        let (st, _) = json_of(
            app.api(
                Method::PUT,
                &format!("/attempts/{attempt}/answers"),
                Some(&other),
                Some(json!({"answers": {}})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 404);

        // Submit with the true/false answer in the same request; then again.
        let (st, v) = json_of(
            app.api(
                Method::POST,
                &format!("/attempts/{attempt}/submit"),
                Some(cand),
                Some(json!({"answers": {"2": {"choice": ["B"]}}})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["state"], "submitted");
        // Written answer not yet marked: no theory score yet.
        assert!(v["theory_earned"].is_null());
        let first = v["submitted_at"].clone();
        let (_, v2) = json_of(
            app.api(
                Method::POST,
                &format!("/attempts/{attempt}/submit"),
                Some(cand),
                Some(json!({"answers": {"2": {"choice": ["A"]}}})),
            )
            .await,
        )
        .await;
        assert_eq!(
            v2["submitted_at"], first,
            "a repeated submit returns the first"
        );
        let (st, _) = json_of(
            app.api(
                Method::PUT,
                &format!("/attempts/{attempt}/answers"),
                Some(cand),
                Some(json!({"answers": {"0": {"choice": ["A"]}}})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 409);
        // One delivery of the form: its items' usage is 1, the practical task's 0.
        let (_, v) = json_of(
            app.api(
                Method::GET,
                "/certificates/TST-RPM/items",
                Some(&s.teo),
                None,
            )
            .await,
        )
        .await;
        for it in v["items"].as_array().unwrap() {
            let want = if it["ident"] == "P1" { 0 } else { 1 };
            assert_eq!(it["usage_count"], want, "{it}");
        }
        // Count the answers back from the database: five rows, one per theory item.
        assert_eq!(app.count("exam_responses").await, 5);
        let saved: String =
            sqlx::query_scalar("SELECT response_json FROM exam_responses WHERE position = 2")
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        assert_eq!(saved, r#"{"choice":["B"]}"#, "{engine:?}");

        // Marking the written answer: only assigned examiners.
        let ex1 = app.token("ex1").await;
        let unassigned = app.token("examiner").await;
        let (st, _) = json_of(
            app.api(
                Method::PUT,
                &format!("/exam-sessions/{session}/marking/{attempt}/4"),
                Some(&unassigned),
                Some(json!({"score": 8})),
            )
            .await,
        )
        .await;
        assert_eq!(
            st, 404,
            "an examiner not assigned does not even see the session"
        );
        let (st, v) = json_of(
            app.api(
                Method::GET,
                &format!("/exam-sessions/{session}/marking"),
                Some(&ex1),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["items"].as_array().unwrap().len(), 1);
        let (st, v) = json_of(
            app.api(
                Method::PUT,
                &format!("/exam-sessions/{session}/marking/{attempt}/4"),
                Some(&ex1),
                Some(json!({"score": 11})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 422, "above the item's points: {v}");
        let (st, v) = json_of(
            app.api(
                Method::PUT,
                &format!("/exam-sessions/{session}/marking/{attempt}/4"),
                Some(&ex1),
                Some(json!({"score": 8})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        // Q1 C right (2), Q2 A+B of A,B,D partial (2 × 2/3), Q3 B right (2), Q4 Ａ = A right (2), Q5 marked 8.
        let earned = v["theory_earned"].as_f64().unwrap();
        assert!(
            (earned - (2.0 + 4.0 / 3.0 + 2.0 + 2.0 + 8.0)).abs() < 1e-9,
            "{earned}"
        );
        assert_eq!(v["theory_possible"], 18.0);

        // Practical: two examiners 30 apart → a third is needed.
        let ex2 = app.token("ex2").await;
        let ex3 = app.token("ex3").await;
        let put = |tok: String, c: Value| {
            let app = &app;
            async move {
                json_of(
                    app.api(
                        Method::PUT,
                        &format!("/exam-sessions/{session}/practical/{attempt}/0"),
                        Some(&tok),
                        Some(json!({"criteria": c})),
                    )
                    .await,
                )
                .await
            }
        };
        let (st, v) = put(ex1.clone(), json!({"safety": 20, "check": 50})).await;
        assert_eq!(st, 422, "every criterion must be scored: {v}");
        let (st, v) = put(
            ex1.clone(),
            json!({"safety": 20, "check": 50, "record": 15}),
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["total"], 85.0);
        let (st, _) = put(ex2.clone(), json!({"safety": 20, "check": 30, "record": 5})).await;
        assert_eq!(st, 200);
        let (_, v) = json_of(
            app.api(
                Method::GET,
                &format!("/exam-sessions/{session}/scoring"),
                Some(&ex1),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(v["standings"][0]["needs_third"], true, "{v}");
        assert!(v["standings"][0]["score"].is_null());
        let (st, _) = put(
            ex3.clone(),
            json!({"safety": 20, "check": 48, "record": 12}),
        )
        .await;
        assert_eq!(st, 200);
        let (_, v) = json_of(
            app.api(
                Method::GET,
                &format!("/exam-sessions/{session}/scoring"),
                Some(&ex1),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(
            v["standings"][0]["score"], 82.5,
            "the two closest (85, 80) are averaged: {v}"
        );

        // Training score from the college, by ticket; a wrong ticket rejects the whole set.
        let (_, v) = json_of(
            app.api(
                Method::GET,
                &format!("/exam-sessions/{session}/candidates"),
                Some(&s.college),
                None,
            )
            .await,
        )
        .await;
        let ticket = v["items"][0]["ticket"].as_str().unwrap().to_string();
        let (st, v) = json_of(
            app.api(Method::PUT, &format!("/exam-sessions/{session}/process-scores"), Some(&s.college),
                Some(json!({"rows": [{"ticket": ticket, "score": 88}, {"ticket": "nope", "score": 70}]}))).await,
        )
        .await;
        assert_eq!(st, 422, "{v}");
        assert!(v["error"]["fields"]["row 2"].is_string(), "{v}");
        let (st, _) = json_of(
            app.api(
                Method::PUT,
                &format!("/exam-sessions/{session}/process-scores"),
                Some(&s.college),
                Some(json!({"rows": [{"ticket": ticket, "score": 88}]})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 200);

        // Results are not the candidate's until released.
        let (_, v) = json_of(
            app.api(
                Method::GET,
                &format!("/attempts/{attempt}/result"),
                Some(cand),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(v["released"], false);
        let (st, v) = json_of(
            app.api(
                Method::POST,
                &format!("/exam-sessions/{session}/status"),
                Some(&s.teo),
                Some(json!({"status": "released"})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 422, "release only after closing: {v}");
        // The college sees neither results nor who scored what before release.
        let (st, _) = json_of(
            app.api(
                Method::POST,
                &format!("/exam-sessions/{session}/results/compute"),
                Some(&s.teo),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(st, 200);
        for path in ["results", "scoring"] {
            let (st, _) = json_of(
                app.api(
                    Method::GET,
                    &format!("/exam-sessions/{session}/{path}"),
                    Some(&s.college),
                    None,
                )
                .await,
            )
            .await;
            assert_eq!(st, 403, "{path} before release");
        }
        for status in ["closed", "released"] {
            let (st, v) = json_of(
                app.api(
                    Method::POST,
                    &format!("/exam-sessions/{session}/status"),
                    Some(&s.teo),
                    Some(json!({"status": status})),
                )
                .await,
            )
            .await;
            assert_eq!(st, 200, "{status}: {v}");
        }
        let (_, v) = json_of(
            app.api(
                Method::GET,
                &format!("/attempts/{attempt}/result"),
                Some(cand),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(v["released"], true, "{v}");
        let r = &v["result"];
        // Theory 46/3 of 18 = 85.19 %, practical 82.5 %, process 88: 0.2·88 + 0.3·85.185… + 0.5·82.5.
        let theory = (2.0 + 4.0 / 3.0 + 2.0 + 2.0 + 8.0) / 18.0 * 100.0;
        assert!((r["theory"].as_f64().unwrap() - theory).abs() < 1e-9);
        let total = 0.2 * 88.0 + 0.3 * theory + 0.5 * 82.5;
        assert!(
            (r["total"].as_f64().unwrap() - (total * 100.0_f64).round() / 100.0).abs() < 1e-9,
            "{r}"
        );
        assert_eq!(r["passed"], true);
        let (st, v) = json_of(
            app.api(
                Method::GET,
                &format!("/exam-sessions/{session}/results"),
                Some(&s.college),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(st, 200, "released results reach the college: {v}");
        assert_eq!(v["passed"], 1);
        let (st, v) = json_of(
            app.api(
                Method::GET,
                &format!("/exam-sessions/{session}/pass-list"),
                Some(&s.teo),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["total"], 1);
        assert_eq!(v["items"][0]["name"], "张𠮷");
        assert!(v["items"][0]["id_masked"].as_str().unwrap().contains('*'));
        let r = app
            .browser()
            .get(app.url(&format!(
                "/api/v1/exam-sessions/{session}/results.xlsx?passed=true"
            )))
            .bearer_auth(&s.teo)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let bytes = r.bytes().await.unwrap();
        assert_eq!(&bytes[..2], b"PK");

        // The pass list feeds issuance: one certificate for the one passing candidate,
        // and issuing again from the same session gives nobody a second one.
        let body = json!({"session_id": session});
        let (st, job) = json_of(
            app.api(
                Method::POST,
                "/issuance/jobs",
                Some(&s.teo),
                Some(body.clone()),
            )
            .await,
        )
        .await;
        assert_eq!(st, 202, "{job}");
        let job_id = job["id"].as_i64().unwrap();
        let mut done = Value::Null;
        for _ in 0..200 {
            let (_, j) = json_of(
                app.api(
                    Method::GET,
                    &format!("/issuance/jobs/{job_id}"),
                    Some(&s.teo),
                    None,
                )
                .await,
            )
            .await;
            if j["state"] != "running" {
                done = j;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["total"], 1);
        let (st, again) = json_of(
            app.api(Method::POST, "/issuance/jobs", Some(&s.teo), Some(body))
                .await,
        )
        .await;
        assert_eq!(
            st, 409,
            "a second issue from the same session is refused: {again}"
        );
        // The candidate sees their own certificate, with the name from the registry.
        let (st, mine) = json_of(app.api(Method::GET, "/issued", Some(&s.cand), None).await).await;
        assert_eq!(st, 200, "{mine}");
        assert_eq!(mine["total"], 1);
        assert_eq!(mine["items"][0]["holder_name"], "张𠮷");
        assert_eq!(mine["items"][0]["level"], "junior");
        // The college may not issue.
        let (st, _) = json_of(
            app.api(
                Method::POST,
                "/issuance/jobs",
                Some(&s.college),
                Some(json!({"session_id": session})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 403);
    }
}

#[tokio::test]
async fn attempts_refuse_out_of_window_and_time_out() {
    let app = spawn_app(Engine::Sqlite).await;
    let s = setup(&app).await;
    // Move the deadline into the past, beyond the grace: saving is refused, viewing submits.
    let past = (chrono::Utc::now() - chrono::Duration::minutes(5))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    sqlx::query("UPDATE exam_candidates SET deadline_at = $1 WHERE id = $2")
        .bind(&past)
        .bind(s.attempt)
        .execute(app.store.pool())
        .await
        .unwrap();
    let (st, v) = json_of(
        app.api(
            Method::PUT,
            &format!("/attempts/{}/answers", s.attempt),
            Some(&s.cand),
            Some(json!({"answers": {"0": {"choice": ["C"]}}})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 409, "{v}");
    assert_eq!(
        v["error"]["fields"]["attempt"].as_str().unwrap(),
        "time is up; the answers saved before the deadline are kept"
    );
    let (_, v) = json_of(
        app.api(
            Method::GET,
            &format!("/attempts/{}", s.attempt),
            Some(&s.cand),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(v["candidate"]["state"], "submitted");
    assert_eq!(v["candidate"]["submit_reason"], "timeout");
    assert_eq!(v["max_points"], 18.0);
    assert!(s.positions.len() == 5);
    let _ = (&s.teo, &s.college, s.session);
}

/// Two candidates scored by two examiners: the scoring sheet reports ICC(2,1) = 0.8 and
/// ICC(3,1) = 250/362.5, worked by hand from Shrout & Fleiss's formulas for the totals
/// (85, 80) and (60, 70): BMS 306.25, JMS 6.25, EMS 56.25.
#[tokio::test]
async fn examiners_agreement_is_reported() {
    let app = spawn_app(Engine::Sqlite).await;
    let s = setup(&app).await;
    let (st, v) = json_of(
        app.api(
            Method::POST,
            "/people",
            Some(&s.college),
            Some(json!({"name": "李四", "id_number": id_number(2)})),
        )
        .await,
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let second = v["id"].as_i64().unwrap();
    let (_, v) = json_of(
        app.api(
            Method::POST,
            &format!("/exam-sessions/{}/candidates", s.session),
            Some(&s.college),
            Some(json!({"person_ids": [second]})),
        )
        .await,
    )
    .await;
    let other = v["items"][0]["candidate_id"].as_i64().unwrap();
    let ex1 = app.token("ex1").await;
    let ex2 = app.token("ex2").await;
    for (tok, cand, c) in [
        (
            &ex1,
            s.attempt,
            json!({"safety": 20, "check": 50, "record": 15}),
        ),
        (
            &ex2,
            s.attempt,
            json!({"safety": 20, "check": 45, "record": 15}),
        ),
        (
            &ex1,
            other,
            json!({"safety": 20, "check": 30, "record": 10}),
        ),
        (
            &ex2,
            other,
            json!({"safety": 20, "check": 40, "record": 10}),
        ),
    ] {
        let (st, v) = json_of(
            app.api(
                Method::PUT,
                &format!("/exam-sessions/{}/practical/{cand}/0", s.session),
                Some(tok),
                Some(json!({"criteria": c})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 200, "{v}");
    }
    let (_, v) = json_of(
        app.api(
            Method::GET,
            &format!("/exam-sessions/{}/scoring", s.session),
            Some(&ex1),
            None,
        )
        .await,
    )
    .await;
    let a = &v["agreement"][0];
    assert_eq!(a["double_scored"], 2, "{v}");
    assert_eq!(a["flagged"], 0, "a gap of exactly 10 is allowed");
    assert!(
        (a["icc_agreement"].as_f64().unwrap() - 0.8).abs() < 1e-9,
        "{a}"
    );
    assert!(
        (a["icc_consistency"].as_f64().unwrap() - 250.0 / 362.5).abs() < 1e-9,
        "{a}"
    );
    // The tablet list page shows it.
    let (c, _) = app.sign_in_page("ex1").await;
    let page = c
        .get(app.url(&format!("/admin/exams/{}/scoring", s.session)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"agreement\"") && page.contains("0.80"),
        "{page}"
    );
}

/// On one connection, a submit that stores no theory score yet (a written answer to
/// mark) followed by one that stores a score: on PostgreSQL the cached statement must take
/// both (sqlx 0.9's Any driver sends a NULL float as float4; the store sends floats as
/// text cast in SQL).
#[tokio::test]
async fn null_then_real_scores_on_one_connection() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let s = setup(&app).await;
        let (st, v) = json_of(
            app.api(
                Method::POST,
                "/people",
                Some(&s.college),
                Some(json!({"name": "王二", "id_number": id_number(3)})),
            )
            .await,
        )
        .await;
        assert_eq!(st, 201, "{v}");
        let (_, v) = json_of(
            app.api(
                Method::POST,
                &format!("/exam-sessions/{}/candidates", s.session),
                Some(&s.college),
                Some(json!({"person_ids": [v["id"]]})),
            )
            .await,
        )
        .await;
        let second = v["items"][0]["candidate_id"].as_i64().unwrap();
        let cand = app.store.candidate_get(s.attempt).await.unwrap();
        let form = app.store.form_content(cand.form_id).await.unwrap();
        let at = xcert_store::now();
        // One transaction: one connection, one statement cache.
        let mut tx = app.store.begin_write("test").await.unwrap();
        tx.attempt_start(second, &at).await.unwrap();
        let written = vec![(
            4,
            xcert_assess::item::Response::Extended("先报告，再隔离。".into()),
        )];
        let a = tx
            .attempt_submit(s.attempt, &form, &written, "candidate", &at)
            .await
            .unwrap();
        assert_eq!(
            a.theory_earned, None,
            "{engine:?}: a written answer waits for its marker"
        );
        let b = tx
            .attempt_submit(second, &form, &[], "candidate", &at)
            .await
            .unwrap();
        assert_eq!(
            b.theory_earned,
            Some(0.0),
            "{engine:?}: nothing answered, nothing to mark"
        );
        tx.process_score_set(s.attempt, None).await.unwrap();
        tx.process_score_set(second, Some(77.5)).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            app.store.candidate_get(second).await.unwrap().process_score,
            Some(77.5)
        );
    }
}
