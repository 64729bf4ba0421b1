//! One application through every stage of a batch by the API, on both engines: opening,
//! the credit-code check, completeness, a unit's task, submission, a modification opinion
//! and the resubmission's diff, the formal check, a conflict-free expert draw, scores and
//! their combination, publicity with an objection, verification, deliberation, the
//! published list and its statistics.

mod common;

use common::{TestApp, engines, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

async fn call(
    app: &TestApp,
    m: Method,
    path: &str,
    t: Option<&str>,
    b: Option<Value>,
) -> (u16, Value) {
    let r = app.api(m, path, t, b).await;
    let s = r.status().as_u16();
    (s, r.json::<Value>().await.unwrap_or(Value::Null))
}

async fn upload(
    app: &TestApp,
    path: &str,
    t: &str,
    method: Method,
    name: &str,
    bytes: &[u8],
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
    );
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let r = reqwest::Client::new()
        .request(method, app.url(&format!("/api/v1{path}")))
        .bearer_auth(t)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json::<Value>().await.unwrap_or(Value::Null))
}

fn day(offset: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(offset))
        .date_naive()
        .to_string()
}

#[tokio::test]
async fn one_application_through_every_stage() {
    for engine in engines() {
        flow(spawn_app(engine).await).await;
    }
}

async fn flow(app: TestApp) {
    let admin = app.token("admin").await;
    let teo = app.token("teo_a").await;
    app.declarable_certificate("teo_a", "DCL-1", "继电保护检修")
        .await;

    // The ministry opens a batch.
    let (s, b) = call(
        &app,
        Method::POST,
        "/batches",
        Some(&admin),
        Some(json!({
            "number": "5", "title_zh": "第五批职业教育培训评价组织", "notice": "现组织第五批申报。",
            "apply_from": day(-1), "apply_until": day(10), "review_until": day(30),
            "experts_per_proposal": "3", "exclude_same_org": "on", "combine": "trimmed_mean",
        })),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let batch = b["id"].as_i64().unwrap();
    assert_eq!(
        b["settings"]["rubric"]["categories"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
    let (s, v) = call(&app, Method::POST, &format!("/batches/{batch}/applications"), Some(&teo),
        Some(json!({"credit_code": "91350100M000100Y43", "lead_unit": "国网技术学院", "contact_name": "王工", "contact_phone": "010-1"}))).await;
    assert_eq!(s, 404, "a draft batch is not visible to applicants: {v}");
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/advance"),
        Some(&teo),
        Some(json!({"to": "open"})),
    )
    .await;
    assert_eq!(s, 403, "only the ministry advances a batch");
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/advance"),
        Some(&admin),
        Some(json!({"to": "closed"})),
    )
    .await;
    assert_eq!(s, 409, "no skipping: {v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Open for applications")
            || v["error"]["message"].as_str().unwrap().contains("申报中"),
        "{v}"
    );
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/advance"),
        Some(&admin),
        Some(json!({"to": "open"})),
    )
    .await;
    assert_eq!(s, 200);

    // The TEO applies: the credit code must be valid and its own.
    let body = |code: &str| json!({"credit_code": code, "lead_unit": "国网技术学院", "contact_name": "王工", "contact_phone": "010-1"});
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/applications"),
        Some(&teo),
        Some(body("91350100M000100Y44")),
    )
    .await;
    assert_eq!(s, 422, "a wrong check character: {v}");
    assert!(v["error"]["fields"]["credit_code"].is_string(), "{v}");
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/applications"),
        Some(&teo),
        Some(body("914403001922038216")),
    )
    .await;
    assert_eq!(s, 422, "another organization's code: {v}");
    let (s, a) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/applications"),
        Some(&teo),
        Some(body("91350100M000100Y43")),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    let application = a["id"].as_i64().unwrap();
    let (s, p) = call(&app, Method::POST, &format!("/applications/{application}/proposals"), Some(&teo),
        Some(json!({"certificate": "DCL-1", "field": "能源动力与材料", "summary": "面向继电保护岗位。\n覆盖初中高三级。"}))).await;
    assert_eq!(s, 201, "{p}");
    let pid = p["id"].as_i64().unwrap();
    assert_eq!(p["standard_version"], 1);
    assert_eq!(p["bank_items"], 1);
    let teo_b = app.token("teo_b").await;
    let (s, _) = call(
        &app,
        Method::GET,
        &format!("/applications/{application}"),
        Some(&teo_b),
        None,
    )
    .await;
    assert_eq!(s, 403, "another TEO does not see it");

    // Nothing is submitted while an annex is missing, and the refusal says which.
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/applications/{application}/submit"),
        Some(&teo),
        None,
    )
    .await;
    assert_eq!(s, 409);
    let msg = v["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("annex 1") && msg.contains("annex 7"), "{msg}");

    // The lead gives annex 3 to the college's staff, who hands it in.
    let (s, u) = call(
        &app,
        Method::POST,
        &format!("/applications/{application}/units"),
        Some(&teo),
        Some(json!({"name": "国网技术学院", "org": "国网技术学院"})),
    )
    .await;
    assert_eq!(s, 201, "{u}");
    let (s, t) = call(&app, Method::POST, &format!("/applications/{application}/tasks"), Some(&teo), Some(json!({
        "unit_id": u["id"], "assignee": "college_js", "title": "附件3 考核方案", "proposal_id": pid, "annex": 3, "deadline": day(3)}))).await;
    assert_eq!(
        s, 422,
        "college_js belongs to neither the TEO nor the unit: {t}"
    );
    let (s, t) = call(&app, Method::POST, &format!("/applications/{application}/tasks"), Some(&teo), Some(json!({
        "unit_id": u["id"], "assignee": "college_sd", "title": "附件3 考核方案", "proposal_id": pid, "annex": 3, "deadline": day(3)}))).await;
    assert_eq!(s, 201, "{t}");
    let task = t["id"].as_i64().unwrap();
    let college = app.token("college_sd").await;
    let (s, v) = call(&app, Method::GET, "/tasks", Some(&college), None).await;
    assert_eq!((s, v["items"].as_array().unwrap().len()), (200, 1));
    let (s, v) = call(&app, Method::GET, "/notifications", Some(&college), None).await;
    assert_eq!(s, 200);
    assert!(
        v["items"][0]["message_zh"]
            .as_str()
            .unwrap()
            .contains("附件3"),
        "{v}"
    );
    let (s, _) = upload(
        &app,
        &format!("/tasks/{task}/done"),
        &teo_b,
        Method::POST,
        "x.txt",
        b"x",
        &[],
    )
    .await;
    assert_eq!(s, 403, "only the assignee hands a task in");
    let (s, v) = upload(
        &app,
        &format!("/tasks/{task}/done"),
        &college,
        Method::POST,
        "附件3 考核方案.txt",
        "考核方案：理论与实操。".as_bytes(),
        &[("note", "初稿")],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "done");
    for n in [1, 2, 4, 5, 6, 7] {
        let (s, v) = upload(
            &app,
            &format!("/proposals/{pid}/annexes/{n}"),
            &teo,
            Method::PUT,
            &format!("附件{n}.txt"),
            format!("附件{n}内容").as_bytes(),
            &[],
        )
        .await;
        assert_eq!(s, 200, "annex {n}: {v}");
    }
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/applications/{application}/submit"),
        Some(&teo),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["items"][0]["state"], "submitted");

    // Formal check after the window: a modification opinion, then the resubmission.
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/advance"),
        Some(&admin),
        Some(json!({"to": "closed"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/proposals/{pid}/return"),
        Some(&teo),
        Some(json!({"opinion": "x", "deadline": day(3)})),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/proposals/{pid}/return"),
        Some(&admin),
        Some(json!({"opinion": "请补充考核成本测算依据。", "deadline": day(3)})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "returned");
    let (s, _) = upload(
        &app,
        &format!("/proposals/{pid}/annexes/5"),
        &teo,
        Method::PUT,
        "附件5 考核成本核算方案（修订）.txt",
        "成本：场地、设备、考评员。".as_bytes(),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(&app, Method::PUT, &format!("/proposals/{pid}"), Some(&teo), Some(json!({"field": "能源动力与材料", "summary": "面向继电保护岗位。\n覆盖初中高三级。\n补充成本依据。"}))).await;
    assert_eq!(s, 200);
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/proposals/{pid}/resubmit"),
        Some(&teo),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "submitted", "back to the formal check it left");
    let (_, v) = call(
        &app,
        Method::GET,
        &format!("/proposals/{pid}"),
        Some(&teo),
        None,
    )
    .await;
    assert_eq!(v["versions"].as_array().unwrap().len(), 2);
    let changes = v["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "annex_replaced" && c["annex"] == 5),
        "{changes:?}"
    );
    assert!(changes.iter().any(|c| c["kind"] == "text"), "{changes:?}");
    assert!(v["opinions"][0]["answered_version"] == 2, "{v}");
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/proposals/{pid}/formal"),
        Some(&admin),
        Some(json!({"pass": true, "note": "材料齐全"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // Expert review: one pool expert works for the applicant and is never drawn.
    let mut tx = app.store.begin_write("seed").await.unwrap();
    for n in 1..=4 {
        tx.user_create(&xcert_store::NewUser {
            username: format!("exp{n}"),
            display_name: format!("专家{n}"),
            password: common::PASSWORD.into(),
            role: "expert_reviewer".into(),
            org_id: None,
            person_id: None,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    for (n, org) in [
        (1, "国家电网有限公司"),
        (2, "国网技术学院"),
        (3, "南京电力学院"),
        (4, "某职业技术学院"),
    ] {
        let (s, v) = call(&app, Method::POST, "/experts", Some(&admin), Some(json!({"username": format!("exp{n}"), "name": format!("专家{n}"), "org": org, "province": "", "fields": "能源动力与材料"}))).await;
        assert_eq!(s, 201, "{v}");
    }
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/draw"),
        Some(&admin),
        Some(json!({"seed": 7})),
    )
    .await;
    assert_eq!(s, 409, "no draw before the review stage: {v}");
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/advance"),
        Some(&admin),
        Some(json!({"to": "in_review"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/draw"),
        Some(&admin),
        Some(json!({"seed": 7})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["assignments"], 3);
    let (_, review) = call(
        &app,
        Method::GET,
        &format!("/batches/{batch}/review"),
        Some(&admin),
        None,
    )
    .await;
    let drawn: Vec<String> = review["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["expert_username"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(drawn.len(), 3);
    assert!(
        !drawn.contains(&"exp1".to_string()),
        "the applicant's own employee is excluded: {drawn:?}"
    );
    let rubric: Value = call(
        &app,
        Method::GET,
        &format!("/batches/{batch}"),
        Some(&admin),
        None,
    )
    .await
    .1["settings"]["rubric"]
        .clone();
    let items: Vec<(String, f64)> = rubric["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["items"].as_array().unwrap().clone())
        .map(|i| {
            (
                i["code"].as_str().unwrap().to_string(),
                i["points"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(items.len(), 31);
    // Totals 90, 80 and 40: the trimmed mean keeps 80; 40 is an outlier (> 15 from 85).
    for (user, share) in drawn.iter().zip([0.9, 0.8, 0.4]) {
        let tok = app.token(user).await;
        let (_, mine) = call(&app, Method::GET, "/reviews", Some(&tok), None).await;
        let aid = mine["items"][0]["assignment"]["id"].as_i64().unwrap();
        let scores: serde_json::Map<String, Value> = items
            .iter()
            .map(|(c, p)| (c.clone(), json!(p * share)))
            .collect();
        let (s, v) = call(
            &app,
            Method::POST,
            &format!("/reviews/{aid}/scores"),
            Some(&teo),
            Some(json!({"scores": scores, "comment": "x"})),
        )
        .await;
        assert_eq!(s, 403, "a TEO does not score: {v}");
        let (s, v) = call(
            &app,
            Method::POST,
            &format!("/reviews/{aid}/scores"),
            Some(&tok),
            Some(json!({"scores": scores, "comment": "结构完整。"})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let (s, _) = call(
            &app,
            Method::POST,
            &format!("/reviews/{aid}/scores"),
            Some(&tok),
            Some(json!({"scores": scores, "comment": "again"})),
        )
        .await;
        assert_eq!(s, 409, "scores are submitted once");
    }
    let (_, v) = call(
        &app,
        Method::GET,
        &format!("/proposals/{pid}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(v["proposal"]["state"], "reviewed", "{v}");
    assert!(
        (v["proposal"]["score"].as_f64().unwrap() - 80.0).abs() < 1e-6,
        "{v}"
    );
    let outliers: Vec<bool> = v["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outlier"].as_bool().unwrap())
        .collect();
    assert_eq!(outliers.iter().filter(|o| **o).count(), 1, "{outliers:?}");

    // Publicity: the proposed list is public; anyone objects.
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/advance"),
        Some(&admin),
        Some(json!({"to": "publicity"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, list) = call(
        &app,
        Method::GET,
        &format!("/batches/{batch}/list"),
        None,
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(list["items"][0]["certificate"], "继电保护检修");
    let (s, v) = call(&app, Method::POST, &format!("/proposals/{pid}/objections"), None, Some(json!({"name": "李四", "contact": "lisi@example.com", "content": "题库样题与某教材雷同。"}))).await;
    assert_eq!(s, 201, "{v}");
    let objection = v["id"].as_i64().unwrap();
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/proposals/{pid}/deliberate"),
        Some(&admin),
        Some(json!({"approve": true, "reason": "同意"})),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("publicity")
            || v["error"]["message"].as_str().unwrap().contains("公示"),
        "{v}"
    );
    // The period ends.
    let mut tx = app.store.begin_write("clock").await.unwrap();
    tx.batch_set_publicity_until(batch, "2000-01-01T00:00:00.000Z")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/proposals/{pid}/objections"),
        None,
        Some(json!({"name": "张三", "contact": "z", "content": "迟到的异议"})),
    )
    .await;
    assert_eq!(s, 409, "publicity is over: {v}");
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/advance"),
        Some(&admin),
        Some(json!({"to": "published"})),
    )
    .await;
    assert_eq!(s, 409, "an objection is open: {v}");
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/objections/{objection}/handle"),
        Some(&admin),
        Some(json!({"upheld": false, "response": "经核查，样题为原创。"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/proposals/{pid}/deliberate"),
        Some(&admin),
        Some(json!({"approve": true, "reason": "同意"})),
    )
    .await;
    assert_eq!(s, 409, "not verified yet: {v}");
    let teo_id = app.ids["teo_a"].to_string();
    let (s, v) = upload(
        &app,
        &format!("/batches/{batch}/verifications"),
        &admin,
        Method::POST,
        "信用报告.pdf",
        b"%PDF-1.4 report",
        &[
            ("teo_id", teo_id.as_str()),
            ("credit_ok", "on"),
            ("tax_ok", "on"),
            ("evidence", "信用中国查询无失信记录；纳税信用 A 级。"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["passed"], true);
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/proposals/{pid}/deliberate"),
        Some(&admin),
        Some(json!({"approve": true, "reason": "评审通过，同意入围。"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "approved");
    let (s, v) = call(
        &app,
        Method::GET,
        &format!("/batches/{batch}/statistics"),
        None,
        None,
    )
    .await;
    assert_eq!(
        s, 401,
        "statistics before publishing are the ministry's: {v}"
    );
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/advance"),
        Some(&admin),
        Some(json!({"to": "published"})),
    )
    .await;
    assert_eq!(s, 200);

    // The published list, its statistics, and the certificate in the catalogue.
    let (_, list) = call(
        &app,
        Method::GET,
        &format!("/batches/{batch}/list"),
        None,
        None,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (s, v) = call(
        &app,
        Method::GET,
        &format!("/batches/{batch}/statistics"),
        None,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let st = &v["statistics"];
    assert_eq!(
        (
            st["proposals"].as_i64(),
            st["shortlisted"].as_i64(),
            st["units"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(st["pass_rate"], 1.0);
    let (_, c) = call(&app, Method::GET, "/certificates/DCL-1", None, None).await;
    assert_eq!(c["status"], "published", "{c}");
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/proposals/{pid}/return"),
        Some(&admin),
        Some(json!({"opinion": "x", "deadline": day(3)})),
    )
    .await;
    assert_eq!(s, 409, "a published batch changes no more");
    let r = reqwest::get(app.url(&format!("/api/v1/batches/{batch}/statistics.xlsx")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK");
}

/// A proposal's empty annex slots are filled from a consolidation run of the TEO's
/// materials: the files the run classified as those annexes of that certificate (named
/// "继电保护" in the materials, "继电保护检修" in the registry).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annexes_come_from_a_consolidation_run() {
    let app = spawn_app(common::Engine::Sqlite).await;
    let admin = app.token("admin").await;
    let teo = app.token("teo_a").await;
    app.declarable_certificate("teo_a", "DCL-2", "继电保护检修")
        .await;
    let scheme = xcert_ingest::docgen::docx(
        "附件3 考核方案",
        &[
            "继电保护职业技能等级证书考核方案".to_string(),
            "考核由理论知识考试和实际操作技能考核两部分组成，考核时间为 120 分钟。".to_string(),
        ],
    );
    let form = reqwest::multipart::Form::new()
        .text("title", "申报材料")
        .part(
            "files",
            reqwest::multipart::Part::bytes(scheme.clone())
                .file_name("材料/山东电力学院/继电保护/附件3 考核方案.docx"),
        );
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/ingest/runs"))
        .bearer_auth(&teo)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let run = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let started = std::time::Instant::now();
    loop {
        let (_, v) = call(
            &app,
            Method::GET,
            &format!("/ingest/runs/{run}"),
            Some(&teo),
            None,
        )
        .await;
        if v["state"] == "finished" {
            break;
        }
        assert!(started.elapsed().as_secs() < 120, "run did not finish: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (_, b) = call(
        &app,
        Method::POST,
        "/batches",
        Some(&admin),
        Some(json!({
        "number": "7", "title_zh": "第七批", "notice": "通知",
        "apply_from": day(-1), "apply_until": day(10), "review_until": day(30)})),
    )
    .await;
    let batch = b["id"].as_i64().unwrap();
    call(
        &app,
        Method::POST,
        &format!("/batches/{batch}/advance"),
        Some(&admin),
        Some(json!({"to": "open"})),
    )
    .await;
    let (_, a) = call(&app, Method::POST, &format!("/batches/{batch}/applications"), Some(&teo),
        Some(json!({"credit_code": "91350100M000100Y43", "lead_unit": "国网技术学院", "contact_name": "王工", "contact_phone": "010-1"}))).await;
    let (_, p) = call(
        &app,
        Method::POST,
        &format!("/applications/{}/proposals", a["id"]),
        Some(&teo),
        Some(json!({"certificate": "DCL-2", "field": "能源动力与材料"})),
    )
    .await;
    let pid = p["id"].as_i64().unwrap();
    let teo_b = app.token("teo_b").await;
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/proposals/{pid}/from-run"),
        Some(&teo_b),
        Some(json!({"run_id": run})),
    )
    .await;
    assert_eq!(s, 403, "another TEO cannot fill it");
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/proposals/{pid}/from-run"),
        Some(&teo),
        Some(json!({"run_id": run})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["filled"], json!([3]), "{v}");
    let r = app
        .api(
            Method::GET,
            &format!("/proposals/{pid}/annexes/3"),
            Some(&teo),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        scheme,
        "the run's file, byte for byte"
    );
    let (_, v) = call(
        &app,
        Method::GET,
        &format!("/proposals/{pid}"),
        Some(&teo),
        None,
    )
    .await;
    assert_eq!(v["slots"][2]["file"]["source"], format!("ingest:{run}"));
    assert_eq!(v["missing"].as_array().unwrap().len(), 6, "{v}");
}
