//! Material consolidation through the API and the pages: a folder upload with copies,
//! a GBK-named archive and a hostile archive becomes a run that finishes in the
//! background; the report, catalog, corrections and scoping work on both engines.

mod common;

use common::{Engine, engines, spawn_app};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use xcert_ingest::docgen;
use xcert_ingest::rawzip::{RawEntry, write_zip};

fn doc(title: &str, lines: &[&str]) -> Vec<u8> {
    docgen::docx(
        title,
        &lines.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    )
}

/// A folder upload as a browser sends it: every file named by its path under the chosen folder.
fn upload_form(extra: &[(&str, &str)]) -> Form {
    let outline = doc(
        "继电保护职业技能等级证书考核大纲",
        &[
            "考核大纲",
            "本大纲规定了继电保护职业技能等级证书初级、中级、高级的考核内容、考核方式和考核要求。",
        ],
    );
    let scheme = doc(
        "附件3 考核方案",
        &[
            "继电保护职业技能等级证书考核方案",
            "考核由理论知识考试和实际操作技能考核两部分组成，考核时间为 120 分钟。",
        ],
    );
    let inner = doc(
        "培训指导方案",
        &[
            "培训指导方案",
            "本方案面向试点院校，规定培训目标、培训内容、课时安排与师资要求。",
        ],
    );
    let gbk_name = encoding_rs::GBK
        .encode("培训方案/培训指导方案.docx")
        .0
        .into_owned();
    let gbk_zip = write_zip(&[RawEntry {
        name: &gbk_name,
        data: &inner,
        utf8_flag: false,
        deflate: true,
        unix_mode: None,
        encrypted_flag: false,
        declared_size: None,
    }]);
    let slip = write_zip(&[RawEntry::file("../../evil.txt", b"owned")]);
    // The same rules re-saved with one article changed: near duplicates, not exact ones.
    let articles: Vec<String> = (1..=40)
        .map(|i| {
            format!("第{i}条 考核工作应当按照职业技能等级标准组织实施，并做好第{i}项记录与存档。")
        })
        .collect();
    let rules = docgen::docx("考核管理办法", &articles);
    let mut revised_articles = articles.clone();
    revised_articles[7] = "第8条 考核结果应当在五个工作日内公示（修订）。".into();
    let revised = docgen::docx("考核管理办法", &revised_articles);
    let mut form = Form::new();
    for (k, v) in extra {
        form = form.text(k.to_string(), v.to_string());
    }
    for (path, bytes) in [
        (
            "材料/山东电力学院/考核大纲/继电保护考核大纲.docx",
            outline.clone(),
        ),
        ("材料/湖北培训中心/资料/考核大纲（副本）.docx", outline),
        ("材料/山东电力学院/继电保护/附件3 考核方案.docx", scheme),
        ("材料/湖北培训中心/资料.zip", gbk_zip),
        ("材料/湖北培训中心/bad.zip", slip),
        ("材料/山东电力学院/管理制度/考核管理办法.docx", rules),
        ("材料/湖北培训中心/制度/考核管理办法（修订）.docx", revised),
    ] {
        form = form.part("files", Part::bytes(bytes).file_name(path.to_string()));
    }
    form
}

async fn wait_finished(app: &common::TestApp, token: &str, id: i64) -> Value {
    let start = Instant::now();
    loop {
        let r = app
            .api(
                reqwest::Method::GET,
                &format!("/ingest/runs/{id}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(r.status(), 200);
        let run: Value = r.json().await.unwrap();
        match run["state"].as_str().unwrap() {
            "finished" => return run,
            "failed" | "interrupted" => panic!("run stopped: {run}"),
            _ => {}
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "run did not finish: {run}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_materials_are_consolidated_and_scoped() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let teo = app.token("teo_a").await;
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/ingest/runs"))
            .bearer_auth(&teo)
            .multipart(upload_form(&[("title", "第四批申报材料"), ("batch", "4")]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "[{engine:?}] {}", r.text().await.unwrap());
        let run: Value = r.json().await.unwrap();
        let id = run["id"].as_i64().unwrap();
        assert_eq!(run["org_id"], app.ids["teo_a"]);
        wait_finished(&app, &teo, id).await;

        let doc: Value = app
            .api(
                reqwest::Method::GET,
                &format!("/ingest/runs/{id}/report"),
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        let r = &doc["report"];
        // The folder upload's top folder starts every path; the next level names the units.
        let units: Vec<&str> = r["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["unit"].as_str().unwrap())
            .collect();
        assert_eq!(units, ["山东电力学院", "湖北培训中心"], "[{engine:?}]");
        // The copy across units is one duplicate group.
        let groups = r["duplicate_groups"].as_array().unwrap();
        assert_eq!(groups.len(), 1, "[{engine:?}] {groups:?}");
        let paths: Vec<&str> = groups[0]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                "材料/山东电力学院/考核大纲/继电保护考核大纲.docx",
                "材料/湖北培训中心/资料/考核大纲（副本）.docx"
            ]
        );
        // The re-saved rules form a near-duplicate group for a person to decide.
        let near = r["near_duplicate_groups"].as_array().unwrap();
        assert_eq!(near.len(), 1, "[{engine:?}] {near:?}");
        let key = near[0]["key"].as_str().unwrap().to_string();
        let r2 = app
            .api(
                reqwest::Method::POST,
                &format!("/ingest/runs/{id}/near/{key}"),
                Some(&teo),
                Some(json!({"decision": "keep_all"})),
            )
            .await;
        assert_eq!(r2.status(), 204);
        let r2 = app
            .api(
                reqwest::Method::POST,
                &format!("/ingest/runs/{id}/near/{key}"),
                Some(&teo),
                Some(json!({"decision": "drop everything"})),
            )
            .await;
        assert_eq!(r2.status(), 422);
        // The hostile archive is reported with its reason; nothing escaped.
        let hostile: Vec<&Value> = r["flags"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["flag"] == "hostile_archive")
            .collect();
        assert_eq!(hostile.len(), 1, "[{engine:?}]");
        assert_eq!(hostile[0]["path"], "材料/湖北培训中心/bad.zip");
        // The GBK-named entry is cataloged under its Chinese name and classified.
        let files: Value = app
            .api(
                reqwest::Method::GET,
                &format!("/ingest/runs/{id}/files?q=培训指导方案"),
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(files["total"], 1, "[{engine:?}] {files}");
        let entry = &files["files"][0];
        assert_eq!(
            entry["path"],
            "材料/湖北培训中心/资料.zip/培训方案/培训指导方案.docx"
        );
        assert_eq!(entry["category"], "training_scheme", "{entry}");
        assert!(entry.get("minhash").is_none_or(|m| m.is_null()));
        // The annex document is attributed to its certificate folder.
        let scheme: Value = app
            .api(
                reqwest::Method::GET,
                &format!("/ingest/runs/{id}/files?annex=assessment_scheme"),
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(scheme["total"], 1, "[{engine:?}] {scheme}");
        assert_eq!(scheme["files"][0]["certificate"], "继电保护");
        let missing = r["certificates"][0]["missing"].as_array().unwrap().len();
        assert_eq!(missing, 6, "[{engine:?}] one of seven annexes present");

        // Another TEO neither sees nor reaches the run; a province admin has no runs.
        let other = app.token("teo_b").await;
        let r = app
            .api(
                reqwest::Method::GET,
                &format!("/ingest/runs/{id}"),
                Some(&other),
                None,
            )
            .await;
        assert_eq!(r.status(), 404);
        let list: Value = app
            .api(reqwest::Method::GET, "/ingest/runs", Some(&other), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list.as_array().unwrap().len(), 0);
        let prov = app.token("prov_sd").await;
        let r = app
            .api(reqwest::Method::GET, "/ingest/runs", Some(&prov), None)
            .await;
        assert_eq!(r.status(), 403);

        // A correction: bad input names the field; a good one sticks, is audited and
        // the report follows.
        let fid = scheme["files"][0]["id"].as_i64().unwrap();
        let audit_before = app.count("audit_log").await;
        let r = app
            .api(
                reqwest::Method::POST,
                &format!("/ingest/runs/{id}/files/{fid}/label"),
                Some(&teo),
                Some(json!({"category": "nonsense"})),
            )
            .await;
        assert_eq!(r.status(), 422);
        let e: Value = r.json().await.unwrap();
        assert!(e["error"]["fields"]["category"].is_string(), "{e}");
        assert_eq!(app.count("audit_log").await, audit_before);
        let r = app
            .api(
                reqwest::Method::POST,
                &format!("/ingest/runs/{id}/files/{fid}/label"),
                Some(&teo),
                Some(json!({"category": "assessment_outline", "annex": "feasibility"})),
            )
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["file"]["source"], "person");
        assert_eq!(v["file"]["annex"], "feasibility");
        assert_eq!(app.count("audit_log").await, audit_before + 1);
        let doc: Value = app
            .api(
                reqwest::Method::GET,
                &format!("/ingest/runs/{id}/report"),
                Some(&teo),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        let annexes = &doc["report"]["certificates"][0]["annexes"];
        assert_eq!(annexes[6]["state"], "present", "{annexes}");
        assert_eq!(annexes[2]["state"], "missing", "{annexes}");

        // Catalog exports.
        let r = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/ingest/runs/{id}/catalog.csv")))
            .bearer_auth(&teo)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body = r.bytes().await.unwrap();
        assert!(body.starts_with("\u{feff}id,path,unit,size".as_bytes()));
        let r = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/ingest/runs/{id}/catalog.parquet")))
            .bearer_auth(&teo)
            .send()
            .await
            .unwrap();
        let body = r.bytes().await.unwrap();
        assert!(body.starts_with(b"PAR1") && body.ends_with(b"PAR1"));

        // The pages: the report with both charts, the catalog with a correction form.
        let (c, _) = app.sign_in_page("teo_a").await;
        let page = c
            .get(app.url(&format!("/admin/ingest/{id}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("id=\"chart-capacity\"") && page.contains("id=\"chart-records\""),
            "[{engine:?}] {}",
            &page[page.len().saturating_sub(1500)..]
        );
        assert!(page.contains("湖北培训中心"));
        assert!(
            page.contains("near-group"),
            "[{engine:?}] the near-duplicate group is shown"
        );
        assert!(
            page.contains("value=\"keep_all\" checked"),
            "the decision is shown"
        );
        let page = c
            .get(app.url(&format!("/admin/ingest/{id}/files?unit=湖北培训中心")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("培训指导方案.docx"), "{page}");
        assert!(
            !page.contains("继电保护考核大纲.docx"),
            "the unit filter applies"
        );
        if engine == Engine::Sqlite {
            assert!(!app.store.objects.describe().is_empty());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_page_starts_a_run_and_rejects_an_empty_form() {
    let app = spawn_app(Engine::Sqlite).await;
    let (c, csrf) = app.sign_in_page("teo_a").await;
    let page = c
        .get(app.url("/admin/ingest"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("webkitdirectory"), "{page}");
    let r = c
        .post(app.url("/admin/ingest"))
        .multipart(Form::new().text("csrf", csrf.clone()).text("title", "空"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("请选择要上传的文件"));
    assert_eq!(app.count("ingest_runs").await, 0);
    // Without the CSRF token nothing happens.
    let r = c
        .post(app.url("/admin/ingest"))
        .multipart(upload_form(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.count("ingest_runs").await, 0);
    let r = c
        .post(app.url("/admin/ingest"))
        .multipart(upload_form(&[("csrf", &csrf), ("unit", "山东电力学院")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/admin/ingest/"));
    let id: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let teo = app.token("teo_a").await;
    wait_finished(&app, &teo, id).await;
    let doc: Value = app
        .api(
            reqwest::Method::GET,
            &format!("/ingest/runs/{id}/report"),
            Some(&teo),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    // With a unit given, every file is that unit's.
    let units: Vec<&str> = doc["report"]["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["山东电力学院"]);
    let page = c
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("chart-capacity"));
}
