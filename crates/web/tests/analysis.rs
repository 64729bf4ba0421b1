//! Item analysis from exam data end to end: 1,000 candidates take a five-item form whose
//! responses reproduce the LSAT7 data (Bock & Aitkin 1981); the session's analysis,
//! computed from what the database holds, must give the published statistics.

mod common;

use common::{Engine, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// LSAT7 pattern counts for 00000 … 11111 in binary order, item 1 the leftmost digit.
const LSAT7: [usize; 32] = [
    12, 19, 1, 7, 3, 19, 3, 17, 10, 5, 3, 7, 7, 23, 8, 28, 7, 39, 11, 34, 14, 51, 15, 90, 6, 25, 7,
    35, 18, 136, 32, 308,
];

fn id_number(seq: usize) -> String {
    let first17 = format!(
        "1101051990{:02}{:02}{:03}",
        1 + (seq / 28) % 12,
        1 + seq % 28,
        seq % 1000
    );
    let c = xcert_domain::ids::ResidentId::check_char(&first17).unwrap();
    format!("{first17}{c}")
}

#[tokio::test]
async fn session_analysis_reproduces_lsat7() {
    let app = spawn_app(Engine::Sqlite).await;
    let teo = app.token("teo_a").await;
    let api = |m: Method, path: String, body: Option<Value>| {
        let app = &app;
        let teo = teo.clone();
        async move {
            let r = app.api(m, &path, Some(&teo), body).await;
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, _) = api(
        Method::POST,
        "/certificates".into(),
        Some(common::cert_body("LSAT-7", "法学院入学测验第七节")),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = api(
        Method::PUT,
        "/certificates/LSAT-7/standard".into(),
        Some(json!({"outline": "# 推理\n## 逻辑推理\n- [初级] 能完成图形推理\n", "publish": true})),
    )
    .await;
    assert_eq!(s, 200);
    let mut ids = Vec::new();
    for j in 1..=5 {
        let (s, v) = api(
            Method::POST,
            "/certificates/LSAT-7/items".into(),
            Some(json!({
                "meta": {"ident": format!("Item{j}"), "requirements": ["1.1.1"], "level": "junior"},
                "content": {"kind": "single_choice", "stem": format!("第 {j} 题"), "points": 1.0,
                    "interaction": {"type": "choice", "choices": [{"id": "A", "text": "甲"}, {"id": "B", "text": "乙"}, {"id": "C", "text": "丙"}], "correct": ["A"]}},
                "status": "approved"
            })),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["item"]["id"].as_i64().unwrap());
    }
    let (s, v) = api(
        Method::POST,
        "/certificates/LSAT-7/forms".into(),
        Some(
            json!({"level": "junior", "title": "LSAT7", "time_limit_minutes": 30,
            "items": ids.iter().map(|id| json!({"item_id": id})).collect::<Vec<_>>()}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let form_id = v["items"][0]["id"].as_i64().unwrap();
    let now = chrono::Utc::now();
    let (s, v) = api(
        Method::POST,
        "/exam-sessions".into(),
        Some(json!({"certificate": "LSAT-7", "level": "junior", "title": "LSAT7", "site_org_id": app.ids["college_sd"],
            "opens_at": (now - chrono::Duration::minutes(5)).to_rfc3339(), "closes_at": (now + chrono::Duration::hours(1)).to_rfc3339(),
            "duration_minutes": 30, "form_ids": [form_id]})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let session = v["id"].as_i64().unwrap();

    // 1,000 candidates, each answering with their LSAT7 pattern: 1 → the key A, 0 → a
    // wrong option (B or C, alternating, so the distractor table has two rows).
    let form = app.store.form_content(form_id).await.unwrap();
    let mut tx = app.store.begin_write("seed").await.unwrap();
    let at = xcert_store::now();
    let mut n = 0;
    for (pattern, count) in LSAT7.iter().enumerate() {
        for _ in 0..*count {
            let person = tx
                .person_create(
                    app.ids["college_sd"],
                    &xcert_domain::person::PersonInput {
                        name: format!("考生{n}"),
                        id_number: id_number(n),
                        ..Default::default()
                    }
                    .parse()
                    .unwrap(),
                )
                .await
                .unwrap();
            let (c, _) = tx.candidate_register(session, person.id).await.unwrap();
            tx.attempt_start(c.id, &at).await.unwrap();
            let answers: Vec<(i64, xcert_assess::item::Response)> = (0..5)
                .map(|j| {
                    let right = pattern >> (4 - j) & 1 == 1;
                    let choice = if right {
                        "A"
                    } else if n % 2 == 0 {
                        "B"
                    } else {
                        "C"
                    };
                    (
                        j as i64,
                        xcert_assess::item::Response::Choice(vec![choice.into()]),
                    )
                })
                .collect();
            tx.attempt_submit(c.id, &form, &answers, "candidate", &at)
                .await
                .unwrap();
            n += 1;
        }
    }
    tx.commit().await.unwrap();
    assert_eq!(n, 1000);

    let (s, v) = api(
        Method::POST,
        "/certificates/LSAT-7/analyses".into(),
        Some(json!({"level": "junior", "session_id": session, "irt": "2pl"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let report_id = v["id"].as_i64().unwrap();
    let r = &v["report"];
    // Published values (the brief of this capability; R psych alpha() and mirt agree).
    let alpha = r["test"]["alpha"].as_f64().unwrap();
    assert!((alpha - 0.4534).abs() < 5e-4, "alpha {alpha}");
    let p = [0.828, 0.658, 0.772, 0.606, 0.843];
    let r_rest = [0.2457, 0.2467, 0.3132, 0.2228, 0.1748];
    for j in 0..5 {
        let it = &r["items"][j];
        assert_eq!(it["item_id"], format!("Item{}", j + 1));
        assert!(
            (it["facility"].as_f64().unwrap() - p[j]).abs() < 5e-4,
            "p {j}: {it}"
        );
        assert!(
            (it["r_item_rest"].as_f64().unwrap() - r_rest[j]).abs() < 5e-4,
            "r {j}: {it}"
        );
    }
    let slopes = [0.988, 1.081, 1.706, 0.765, 0.736];
    let intercepts = [1.856, 0.808, 1.804, 0.486, 1.855];
    for j in 0..5 {
        let it = &r["irt"]["items"][j];
        assert!(
            (it["a"].as_f64().unwrap() - slopes[j]).abs() < 0.01,
            "a {j}: {it}"
        );
        assert!(
            (it["d"].as_f64().unwrap() - intercepts[j]).abs() < 0.01,
            "d {j}: {it}"
        );
    }
    // The distractor table counts the wrong options as they were chosen: B by the
    // even-numbered candidates, C by the odd ones.
    let d = &r["distractors"][0];
    let count = |opt: &str| {
        d["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["option"] == opt)
            .map(|o| o["count"].as_u64().unwrap())
            .unwrap()
    };
    assert_eq!(count("A"), 828);
    assert_eq!(count("B") + count("C"), 172);
    // The bank's items now carry the calibration.
    let (_, v) = api(
        Method::GET,
        format!("/certificates/LSAT-7/items/{}", ids[2]),
        None,
    )
    .await;
    let a = v["item"]["stats"]["a"].as_f64().unwrap();
    assert!((a - 1.706).abs() < 0.01, "{v}");
    assert!((v["item"]["stats"]["p"].as_f64().unwrap() - 0.772).abs() < 5e-4);
    // The report page draws the item map and the scatter, and lists the statistics.
    let (c, _) = app.sign_in_page("teo_a").await;
    let page = c
        .get(app.url(&format!("/admin/bank/LSAT-7/analyses/{report_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for part in [
        "chart-item-map",
        "chart-difficulty-discrimination",
        "chart-score-distribution",
        "id=\"alpha\">0.453",
        "data-item=\"Item3\"",
    ] {
        assert!(page.contains(part), "{part} missing");
    }
    let (other, _) = app.sign_in_page("teo_b").await;
    let r = other
        .get(app.url(&format!("/admin/bank/LSAT-7/analyses/{report_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
