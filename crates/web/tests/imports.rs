//! Bulk import through the API and the page: preview first, row-level errors, nothing
//! written until confirmed, then all of it in one transaction, exactly once.

mod common;

use common::{engines, spawn_app};
use reqwest::Method;
use rust_xlsxwriter::Workbook;
use serde_json::Value;

/// A workbook with a certificates sheet and a standards sheet.
fn workbook(teo_code: &str, bad_level_row: bool) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("certificates").unwrap();
    let header = [
        "code",
        "name_zh",
        "name_en",
        "teo",
        "levels",
        "status",
        "majors",
        "posts",
        "competitions",
        "description",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [
        [
            "SGCC-CABLE",
            "电力电缆安装运维",
            "Power Cable",
            teo_code,
            "初级;中级;高级",
            "published",
            "供用电技术",
            "电缆运维工",
            "",
            "",
        ],
        [
            "SGCC-METER",
            "电能计量装表接电",
            "Meter",
            teo_code,
            if bad_level_row {
                "初级;特级"
            } else {
                "初级"
            },
            "published",
            "",
            "",
            "",
            "",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    let ws = wb.add_worksheet().set_name("standards").unwrap();
    for (c, h) in [
        "certificate_code",
        "level",
        "work_area",
        "work_task",
        "skill_requirement",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let reqs = [
        [
            "SGCC-CABLE",
            "初级",
            "电缆敷设",
            "敷设准备",
            "能识读电缆敷设图纸",
        ],
        [
            "SGCC-CABLE",
            "中级",
            "电缆敷设",
            "敷设准备",
            "能编制敷设方案",
        ],
        [
            "SGCC-CABLE",
            "高级",
            "电缆试验",
            "交接试验",
            "能分析试验数据",
        ],
    ];
    for (r, row) in reqs.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn upload(
    app: &common::TestApp,
    token: &str,
    bytes: Vec<u8>,
    query: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(&format!("/api/v1/imports?file_name=certs.xlsx{query}")))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_row_is_reported_and_nothing_is_written() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let admin = app.token("admin").await;
        let audit_before = app.count("audit_log").await;
        let r = upload(&app, &admin, workbook("91350100M000100Y43", true), "").await;
        assert_eq!(r.status(), 422, "{engine:?}");
        let v: Value = r.json().await.unwrap();
        let errors = v["preview"]["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{v}");
        assert_eq!(errors[0]["sheet"], "certificates");
        assert_eq!(errors[0]["row"], 3, "the spreadsheet's own row number");
        assert_eq!(errors[0]["column"], "levels");
        assert!(errors[0]["zh"].as_str().unwrap().contains("特级"));
        assert_eq!(app.count("certificates").await, 0);
        assert_eq!(app.count("audit_log").await, audit_before);
        // Confirming a rejected import writes nothing either.
        let id = v["id"].as_i64().unwrap();
        let r = app
            .api(
                Method::POST,
                &format!("/imports/{id}/confirm"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(r.status(), 422);
        assert_eq!(app.count("certificates").await, 0);

        // An unknown TEO is a row error found against the database.
        let v: Value = upload(
            &app,
            &admin,
            workbook("不存在的组织", false),
            "&dry_run=true",
        )
        .await
        .json()
        .await
        .unwrap();
        let errors = v["preview"]["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 2);
        assert!(
            errors
                .iter()
                .all(|e| e["column"] == "teo" && e["code"] == "unknown_org")
        );
    }
}

#[tokio::test]
async fn clean_import_is_previewed_then_applied_once() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let a = app.token("teo_a").await;
        let r = upload(&app, &a, workbook("国家电网有限公司", false), "").await;
        assert_eq!(r.status(), 201, "{engine:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["preview"]["certificates_created"], 2);
        assert_eq!(v["preview"]["standards_published"], 1);
        assert_eq!(v["preview"]["committed"], false);
        assert_eq!(app.count("certificates").await, 0, "preview writes nothing");
        let id = v["id"].as_i64().unwrap();

        // Only the uploader confirms.
        let b = app.token("teo_b").await;
        assert_eq!(
            app.api(
                Method::POST,
                &format!("/imports/{id}/confirm"),
                Some(&b),
                None
            )
            .await
            .status(),
            403
        );
        let r = app
            .api(
                Method::POST,
                &format!("/imports/{id}/confirm"),
                Some(&a),
                None,
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["committed"], true);
        assert_eq!(app.count("certificates").await, 2);
        // Confirming again changes nothing.
        let r = app
            .api(
                Method::POST,
                &format!("/imports/{id}/confirm"),
                Some(&a),
                None,
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(app.count("certificates").await, 2);
        assert_eq!(app.count("standard_versions").await, 1);
        // A TEO's imported certificates are drafts until the ministry publishes them.
        let c: Value = app
            .api(Method::GET, "/certificates/SGCC-CABLE", Some(&a), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(c["status"], "draft");

        // Another TEO importing rows for this TEO gets a per-row refusal.
        let v: Value = upload(
            &app,
            &b,
            workbook("国家电网有限公司", false),
            "&dry_run=true",
        )
        .await
        .json()
        .await
        .unwrap();
        let errors = v["preview"]["errors"].as_array().unwrap();
        assert!(
            !errors.is_empty() && errors.iter().all(|e| e["code"] == "forbidden"),
            "{v}"
        );
    }
}

#[tokio::test]
async fn import_page_shows_errors_and_templates_download() {
    let app = spawn_app(common::Engine::Sqlite).await;
    let (client, csrf) = app.sign_in_page("admin").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(workbook("91350100M000100Y43", true))
                .file_name("certs.xlsx"),
        );
    let r = client
        .post(app.url("/admin/imports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let page = client
        .get(app.url(&loc))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"import-errors\"") && page.contains("特级"),
        "the page lists the rejected row"
    );
    assert!(
        !page.contains("id=\"import-confirm\""),
        "no confirm button while rows are rejected"
    );

    for (path, magic) in [
        ("/admin/imports/template.xlsx", &b"PK"[..]),
        ("/admin/imports/template/people.csv", "\u{feff}".as_bytes()),
    ] {
        let r = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.bytes().await.unwrap().starts_with(magic), "{path}");
    }
    let r = client
        .get(app.url("/admin/export.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let set = xcert_bulk::read_file("export.xlsx", &bytes).unwrap();
    assert_eq!(
        set.organizations.len(),
        6,
        "the export re-imports: every seeded organization"
    );
}
