//! The question bank pages and API: listing, the item editor (the template's columns,
//! the template's rules), imports from files other tools made (openpyxl's workbook, hand
//! written QTI 3.0 package) with every problem named before anything is written, export
//! and re-import, media, and who may see a bank.

mod common;

use common::{Engine, csrf_of, engines, spawn_app};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::io::Write;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../assess/tests/fixtures/interchange"
);

/// The QTI 3.0 fixture folder as a zip, as a TEO would upload it.
fn zip_dir(dir: &std::path::Path) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                z.start_file(rel, opts).unwrap();
                z.write_all(&std::fs::read(&p).unwrap()).unwrap();
            }
        }
    }
    z.finish().unwrap();
    out.into_inner()
}

async fn setup_cert(app: &common::TestApp, teo: &str) {
    let r = app
        .api(
            Method::POST,
            "/certificates",
            Some(teo),
            Some(common::cert_body("TST-BANK", "电能计量")),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .api(
            Method::PUT,
            "/certificates/TST-BANK/standard",
            Some(teo),
            Some(json!({"outline": "# 计量\n## 装表\n- [初级] 能识读电能表\n- [初级] 能完成单相表接线\n", "publish": true})),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn bank_pages_editor_and_scope() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let teo = app.token("teo_a").await;
        setup_cert(&app, &teo).await;
        let (c, csrf) = app.sign_in_page("teo_a").await;
        for lang in ["zh", "en"] {
            c.get(app.url(&format!("/lang/{lang}")))
                .send()
                .await
                .unwrap();
            for path in [
                "/admin/bank",
                "/admin/bank/TST-BANK",
                "/admin/bank/TST-BANK/items/new",
            ] {
                let r = c.get(app.url(path)).send().await.unwrap();
                assert_eq!(r.status(), 200, "{path} {lang}");
                let page = r.text().await.unwrap();
                assert!(
                    !page.contains("bank_"),
                    "{path} {lang}: an untranslated key"
                );
                assert!(page.contains("TST-BANK"), "{path}");
            }
        }
        c.get(app.url("/lang/zh")).send().await.unwrap();
        // Another TEO and a college: the bank is not there for them.
        let (other, _) = app.sign_in_page("teo_b").await;
        let r = other
            .get(app.url("/admin/bank/TST-BANK"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let page = other
            .get(app.url("/admin/bank"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains("TST-BANK"));
        let (college, _) = app.sign_in_page("college_sd").await;
        assert_eq!(
            college
                .get(app.url("/admin/bank/TST-BANK"))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );

        // The editor: a key naming a missing option is refused beside the key field.
        let bad = [
            ("csrf", csrf.as_str()),
            ("ident", "E-1"),
            ("kind", "单选题"),
            ("stem", "电能表的计量单位是？"),
            ("option_a", "千瓦时"),
            ("option_b", "千伏安"),
            ("key", "E"),
            ("points", "2"),
            ("level", "初级"),
            ("requirements", "1.1.1"),
        ];
        let r = c
            .post(app.url("/admin/bank/TST-BANK/items"))
            .form(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"err-key\""), "{page}");
        assert_eq!(app.count("items").await, 0);
        // A requirement the standard does not have is refused too.
        let mut unknown = bad.to_vec();
        unknown[6] = ("key", "A");
        unknown[9] = ("requirements", "3.1.1");
        let r = c
            .post(app.url("/admin/bank/TST-BANK/items"))
            .form(&unknown)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("id=\"err-requirements\""));
        // Without the CSRF token nothing happens.
        let mut no_csrf = bad.to_vec();
        no_csrf[0] = ("csrf", "x");
        no_csrf[6] = ("key", "A");
        let r = c
            .post(app.url("/admin/bank/TST-BANK/items"))
            .form(&no_csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let mut good = bad.to_vec();
        good[6] = ("key", "A");
        let r = c
            .post(app.url("/admin/bank/TST-BANK/items"))
            .form(&good)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let page = c
            .get(app.url(&loc))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("电能表的计量单位是？") && page.contains("class=\"key\""),
            "{page}"
        );
        // Editing the stem makes version 2; the first stays readable.
        let mut edit: Vec<(&str, &str)> = good[1..]
            .iter()
            .copied()
            .filter(|(k, _)| *k != "ident")
            .collect();
        edit.insert(0, ("csrf", csrf.as_str()));
        edit[2] = ("stem", "电能表计量的是？");
        let r = c.post(app.url(&loc)).form(&edit).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let page = c
            .get(app.url(&loc))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("v2") && page.contains("电能表计量的是？"));
        let v1 = c
            .get(app.url(&format!("{loc}?version=1")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(v1.contains("电能表的计量单位是？"));
        // The level's results rule from the bank page: weights must add up to 100 %.
        let rule = |w: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("process_weight", "30".to_string()),
                ("theory_weight", "30".to_string()),
                ("practical_weight", w.to_string()),
                ("theory_pass", "60".to_string()),
                ("practical_pass", "60".to_string()),
            ]
        };
        let r = c
            .post(app.url("/admin/bank/TST-BANK/rules/junior"))
            .form(&rule("30"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("id=\"rule-error\""));
        let r = c
            .post(app.url("/admin/bank/TST-BANK/rules/junior"))
            .form(&rule("40"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let v: Value = app
            .api(
                Method::GET,
                "/certificates/TST-BANK/result-rules/junior",
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["practical_weight"], 0.4, "{v}");
        assert!(v["process_pass"].is_null());
        // Approve it from the page.
        let id: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
        let r = c
            .post(app.url(&format!("{loc}/status")))
            .form(&[("csrf", csrf.as_str()), ("status", "approved")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let v: Value = app
            .api(
                Method::GET,
                &format!("/certificates/TST-BANK/items/{id}"),
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["item"]["review_status"], "approved");
        assert_eq!(v["item"]["current_version"], 2);
    }
}

#[tokio::test]
async fn imports_name_every_problem_and_write_once() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let teo = app.token("teo_a").await;
        setup_cert(&app, &teo).await;
        let (c, _) = app.sign_in_page("teo_a").await;
        let page = c
            .get(app.url("/admin/bank/TST-BANK"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_of(&page);
        // No file: the bank page again, the message under the upload.
        let form = Form::new()
            .text("csrf", csrf.clone())
            .part("file", Part::bytes(Vec::new()).file_name("empty.xlsx"));
        let r = c
            .post(app.url("/admin/bank/TST-BANK/imports"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("id=\"err-file\""));
        // A workbook made by openpyxl (make_fixtures.py), with broken rows.
        let bytes = std::fs::read(format!("{FIXTURES}/xlsx/bank.xlsx")).unwrap();
        let form = Form::new()
            .text("csrf", csrf.clone())
            .part("file", Part::bytes(bytes).file_name("题库.xlsx"));
        let r = c
            .post(app.url("/admin/bank/TST-BANK/imports"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let page = c
            .get(app.url(&loc))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // Row 10 keys option E; row 12 has a type no bank knows.
        assert!(page.contains("row 10, column key"), "{page}");
        assert!(page.contains("row 12, column kind"), "{page}");
        assert!(page.contains("题库.xlsx"));
        assert_eq!(
            app.count("items").await,
            0,
            "{engine:?}: a preview writes nothing"
        );
        let csrf = csrf_of(&page);
        let r = c
            .post(app.url(&format!("{loc}/confirm")))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let n = app.count("items").await;
        let v: Value = app
            .api(
                Method::GET,
                &format!(
                    "/certificates/TST-BANK/item-imports/{}",
                    loc.rsplit('/').next().unwrap()
                ),
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["report"]["applied"]["created"].as_i64().unwrap(), n);
        assert!(n >= 8, "{n} items imported");
        // X-001 came with 已审核 and its tags.
        let v: Value = app
            .api(
                Method::GET,
                "/certificates/TST-BANK/items?q=X-001",
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["items"][0]["review_status"], "approved");
        assert_eq!(v["items"][0]["requirements"], json!(["1.1.1", "1.1.2"]));
        // A second confirm is refused and writes nothing.
        let r = c
            .post(app.url(&format!("{loc}/confirm")))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        assert_eq!(app.count("items").await, n);

        // A QTI 3.0 package with an image, through the API.
        let pkg = zip_dir(&std::path::Path::new(FIXTURES).join("qti/v3p0"));
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/certificates/TST-BANK/item-imports?file_name=qti3.zip"))
            .bearer_auth(&teo)
            .body(pkg)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["report"]["errors"], 0, "{v}");
        assert_eq!(v["report"]["media"], 1);
        let id = v["id"].as_i64().unwrap();
        let v: Value = app
            .api(
                Method::POST,
                &format!("/certificates/TST-BANK/item-imports/{id}/confirm"),
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["media"], 1, "{v}");
        let items: Value = app
            .api(
                Method::GET,
                "/certificates/TST-BANK/items?limit=100",
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        let mut media_key = None;
        for it in items["items"].as_array().unwrap() {
            let id = it["id"].as_i64().unwrap();
            let v: Value = app
                .api(
                    Method::GET,
                    &format!("/certificates/TST-BANK/items/{id}"),
                    Some(&teo),
                    None,
                )
                .await
                .json()
                .await
                .unwrap();
            if let Some(m) = v["version"]["content"]["media"]
                .as_array()
                .and_then(|m| m.first())
            {
                media_key = m["object"].as_str().map(str::to_string);
            }
        }
        let key = media_key.expect("an item with its image");
        let r = c
            .get(app.url(&format!("/media/{key}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(&r.bytes().await.unwrap()[..4], b"\x89PNG");
        assert_eq!(
            reqwest::get(app.url(&format!("/media/{key}")))
                .await
                .unwrap()
                .url()
                .path(),
            "/login",
            "signed-in users only"
        );

        // Export the whole bank as QTI 3.0 and read it back: nothing would change.
        let total = app.count("items").await;
        let r = reqwest::Client::new()
            .get(app.url("/api/v1/certificates/TST-BANK/items.qti3.zip?limit=10000"))
            .bearer_auth(&teo)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let exported = r.bytes().await.unwrap().to_vec();
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/certificates/TST-BANK/item-imports?file_name=export.zip"))
            .bearer_auth(&teo)
            .body(exported)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["report"]["errors"], 0, "{v}");
        assert_eq!(v["report"]["unchanged"].as_i64().unwrap(), total, "{v}");
        assert_eq!(v["report"]["new"], 0);
        // Another TEO cannot stage into this bank.
        let other = app.token("teo_b").await;
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/certificates/TST-BANK/item-imports?file_name=x.gift"))
            .bearer_auth(&other)
            .body("::Q1:: 1+1=? {=2 ~3}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
}

#[tokio::test]
async fn a_file_in_no_bank_format_is_refused_by_name() {
    let app = spawn_app(Engine::Sqlite).await;
    let teo = app.token("teo_a").await;
    setup_cert(&app, &teo).await;
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/certificates/TST-BANK/item-imports?file_name=photo.jpg"))
        .bearer_auth(&teo)
        .body(vec![0xff, 0xd8, 0xff, 0xe0])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("photo.jpg"),
        "{v}"
    );
    assert_eq!(app.count("item_imports").await, 0);
}

#[tokio::test]
async fn blueprint_from_standard_assembles_parallel_forms_or_names_the_shortage() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let teo = app.token("teo_a").await;
        let r = app
            .api(
                Method::POST,
                "/certificates",
                Some(&teo),
                Some(common::cert_body("TST-ASM", "继电保护")),
            )
            .await;
        assert_eq!(r.status(), 201);
        let r = app
            .api(
                Method::PUT,
                "/certificates/TST-ASM/standard",
                Some(&teo),
                Some(json!({"outline": "# 巡视\n## 设备巡视\n- [初级] 甲\n- [初级] 乙\n# 检修\n## 设备检修\n- [初级] 丙\n- [初级] 丁\n", "publish": true})),
            )
            .await;
        assert_eq!(r.status(), 200);
        // 15 single-choice and 10 true/false items per work area, approved.
        for area in 1..=2 {
            for n in 0..25 {
                let kind = if n < 15 {
                    "single_choice"
                } else {
                    "true_false"
                };
                let choices = if n < 15 {
                    json!([{"id": "A", "text": "甲"}, {"id": "B", "text": "乙"}, {"id": "C", "text": "丙"}, {"id": "D", "text": "丁"}])
                } else {
                    json!([{"id": "T", "text": "对"}, {"id": "F", "text": "错"}])
                };
                let r = app
                    .api(
                        Method::POST,
                        "/certificates/TST-ASM/items",
                        Some(&teo),
                        Some(json!({
                            "meta": {"ident": format!("A{area}-{n:02}"), "requirements": [format!("{area}.1.1")], "level": "junior", "difficulty": 1 + (n % 5)},
                            "content": {"kind": kind, "stem": format!("第 {area}-{n} 题"), "points": 1.0,
                                "interaction": {"type": "choice", "choices": choices, "correct": [if n < 15 { "A" } else { "T" }]}},
                            "status": "approved"
                        })),
                    )
                    .await;
                assert_eq!(r.status(), 201);
            }
        }
        // The draft follows the standard: two areas, equal weight.
        let v: Value = app
            .api(
                Method::GET,
                "/certificates/TST-ASM/blueprints/draft?level=junior",
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["cells"].as_array().unwrap().len(), 2, "{v}");
        assert_eq!(v["cells"][0]["weight"], 50.0);

        let (c, csrf) = app.sign_in_page("teo_a").await;
        let r = c
            .post(app.url("/admin/bank/TST-ASM/blueprints"))
            .form(&[("csrf", csrf.as_str()), ("level", "junior")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let bp_url = r.headers()["location"].to_str().unwrap().to_string();
        let page = c
            .get(app.url(&bp_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("data-cell=\"1\"") && page.contains("data-cell=\"2\""),
            "{page}"
        );
        // Two parallel forms of 10 single choice + 6 true/false, apportioned by weight.
        let form = |forms: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("title", "初级理论".into()),
                ("forms", forms.into()),
                ("time_limit_minutes", "60".into()),
                ("no_overlap", "1".into()),
                ("theta", "-1, 0, 1".into()),
                ("cell_code_0", "1".into()),
                ("cell_title_0", "巡视".into()),
                ("cell_weight_0", "50".into()),
                ("cell_min_0", "0".into()),
                ("cell_max_0", "0".into()),
                ("cell_code_1", "2".into()),
                ("cell_title_1", "检修".into()),
                ("cell_weight_1", "50".into()),
                ("cell_min_1", "0".into()),
                ("cell_max_1", "0".into()),
                ("type_kind_0", "single_choice".into()),
                ("type_count_0", "10".into()),
                ("type_points_0", "2".into()),
                ("type_kind_1", "true_false".into()),
                ("type_count_1", "6".into()),
                ("type_points_1", "1".into()),
                ("action", "apportion".into()),
            ]
        };
        let r = c
            .post(app.url(&bp_url))
            .form(&form("2"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let id: i64 = bp_url.rsplit('/').next().unwrap().parse().unwrap();
        let v: Value = app
            .api(
                Method::GET,
                &format!("/certificates/TST-ASM/blueprints/{id}"),
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            v["spec"]["cells"][0]["min_items"], 8,
            "16 items by 50/50: {v}"
        );
        assert_eq!(v["spec"]["cells"][1]["max_items"], 8);
        let r = c
            .post(app.url(&format!("{bp_url}/assemble")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("solver", "microlp"),
                ("time_limit_s", "20"),
                ("gap_percent", "1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let asm_url = r.headers()["location"].to_str().unwrap().to_string();
        let page = c
            .get(app.url(&asm_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("id=\"compare\"") && page.contains("id=\"accept\""),
            "{page}"
        );
        let r = c
            .post(app.url(&format!("{asm_url}/accept")))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let forms: Value = app
            .api(Method::GET, "/certificates/TST-ASM/forms", Some(&teo), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(forms["total"], 2, "{forms}");
        let mut seen = std::collections::HashSet::new();
        for f in forms["items"].as_array().unwrap() {
            assert_eq!(f["items_count"], 16);
            assert_eq!(f["total_points"], 26.0, "10 × 2 + 6 × 1");
            let fid = f["id"].as_i64().unwrap();
            let v: Value = app
                .api(
                    Method::GET,
                    &format!("/certificates/TST-ASM/forms/{fid}"),
                    Some(&teo),
                    None,
                )
                .await
                .json()
                .await
                .unwrap();
            let mut per_area = [0, 0];
            for it in v["items"].as_array().unwrap() {
                assert!(
                    seen.insert(it["item_id"].as_i64().unwrap()),
                    "no item in two forms"
                );
                let id = it["item_id"].as_i64().unwrap();
                let item: Value = app
                    .api(
                        Method::GET,
                        &format!("/certificates/TST-ASM/items/{id}"),
                        Some(&teo),
                        None,
                    )
                    .await
                    .json()
                    .await
                    .unwrap();
                let area = item["item"]["requirements"][0]
                    .as_str()
                    .unwrap()
                    .starts_with('2') as usize;
                per_area[area] += 1;
            }
            assert_eq!(per_area, [8, 8], "the weight table holds in every form");
        }
        // Accepting twice is refused.
        let r = c
            .post(app.url(&format!("{asm_url}/accept")))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);

        // Four forms without overlap need 40 single-choice items; the pool has 30.
        let r = c
            .post(app.url(&bp_url))
            .form(&form("4"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let r = c
            .post(app.url(&format!("{bp_url}/assemble")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("solver", "heuristic"),
                ("time_limit_s", "5"),
            ])
            .send()
            .await
            .unwrap();
        let asm_url = r.headers()["location"].to_str().unwrap().to_string();
        let page = c
            .get(app.url(&asm_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("id=\"shortages\""), "{page}");
        let aid = asm_url.rsplit('/').next().unwrap();
        let v: Value = app
            .api(
                Method::GET,
                &format!("/certificates/TST-ASM/assemblies/{aid}"),
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["status"], "short");
        let s = v["result"]["shortages"].as_array().unwrap();
        assert!(
            s.iter().any(|x| x["item_kind"] == "single_choice"
                && x["needed"] == 40.0
                && x["available"] == 30.0
                && x["short_by"] == 10.0),
            "{v}"
        );
    }
}
