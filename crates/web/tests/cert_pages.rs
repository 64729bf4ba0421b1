//! The certificate pages as a TEO and the public use them: upload a pass list (preview
//! with row errors, then confirm), follow the job, revoke with a reason, and the public
//! query, verification page and credential check.

mod common;

use common::{csrf_of, spawn_app};
use reqwest::multipart::{Form, Part};

fn id_number(seq: u32) -> String {
    let first17 = format!("370102199905{:02}{:03}", 1 + seq % 28, seq % 1000);
    let c = xcert_domain::ids::ResidentId::check_char(&first17).unwrap();
    format!("{first17}{c}")
}

#[tokio::test]
async fn teo_issues_and_revokes_through_the_pages_and_the_public_verifies() {
    let app = spawn_app(common::Engine::Sqlite).await;
    let teo = app.token("teo_a").await;
    let r = app
        .api(
            reqwest::Method::POST,
            "/certificates",
            Some(&teo),
            Some(common::cert_body("TST-PGS", "智能变电站运维")),
        )
        .await;
    assert_eq!(r.status(), 201);
    let (c, csrf) = app.sign_in_page("teo_a").await;

    let page = c
        .get(app.url("/admin/issuance"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"upload\"") && page.contains("TST-PGS"),
        "{page}"
    );

    let post = |csv: String| {
        let form = Form::new()
            .text("csrf", csrf.clone())
            .text("certificate", "TST-PGS")
            .text("level", "junior")
            .text("session_ref", "2026-05 初级")
            .part("file", Part::bytes(csv.into_bytes()).file_name("list.csv"));
        c.post(app.url("/admin/issuance/upload"))
            .multipart(form)
            .send()
    };
    // A bad row: the preview names it and offers no confirmation.
    let r = post(format!(
        "姓名,身份证号\n赵六,{}\n钱七,12345\n张𠮷,{}\n",
        id_number(1),
        id_number(3)
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"row-errors\"") && !page.contains("id=\"confirm\""),
        "{page}"
    );
    assert!(page.contains("<td>3</td>"), "row 3 is named: {page}");
    assert!(
        page.contains("⚠") && page.contains(": 𠮷"),
        "a name the fonts cannot print is flagged: {page}"
    );
    assert_eq!(app.count("issuance_jobs").await, 0);

    let r = post(format!(
        "姓名,身份证号\n赵六,{}\n钱七,{}\n",
        id_number(1),
        id_number(2)
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"confirm\""), "{page}");
    let key = {
        let i = page.find("name=\"key\" value=\"").unwrap() + "name=\"key\" value=\"".len();
        page[i..i + page[i..].find('"').unwrap()].to_string()
    };
    let r = c
        .post(app.url("/admin/issuance/confirm"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("file_name", "list.csv"),
            ("certificate", "TST-PGS"),
            ("level", "junior"),
            ("session_ref", "2026-05 初级"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let job_url = r.headers()["location"].to_str().unwrap().to_string();
    let mut page = String::new();
    for _ in 0..200 {
        page = c
            .get(app.url(&job_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if !page.contains("iss-running") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(page.contains("iss-done") && page.contains("赵六"), "{page}");
    let number = {
        let i = page.find("/admin/issued/").unwrap() + "/admin/issued/".len();
        page[i..i + 15].to_string()
    };

    // All certificates of the job as PDFs in one zip, one file per number.
    let zip = c
        .get(app.url(&format!("{job_url}/certificates.zip")))
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), 200);
    let bytes = zip.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(archive.len(), 2);
    let mut names: Vec<String> = archive
        .file_names()
        .map(|n| n.unwrap().to_string())
        .collect();
    names.sort();
    assert!(names.contains(&format!("{number}.pdf")), "{names:?}");
    let mut first = Vec::new();
    std::io::Read::read_to_end(&mut archive.by_index(0).unwrap(), &mut first).unwrap();
    assert!(first.starts_with(b"%PDF"));

    // Public: query by number + name, the stable page, and the paste check.
    let anon = app.browser();
    let form_page = anon
        .get(app.url("/verify"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let acsrf = csrf_of(&form_page);
    let holder = app
        .store
        .issued_by_number(&number)
        .await
        .unwrap()
        .unwrap()
        .holder_name;
    let found = anon
        .post(app.url("/verify"))
        .form(&[
            ("csrf", acsrf.as_str()),
            ("number", number.as_str()),
            ("name", holder.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        found.contains("id=\"verify-result\"") && found.contains("data-state=\"active\""),
        "{found}"
    );
    let none = anon
        .post(app.url("/verify"))
        .form(&[
            ("csrf", acsrf.as_str()),
            ("number", number.as_str()),
            ("name", "别人"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        none.contains("id=\"not-found\"") && !none.contains(&holder),
        "{none}"
    );

    let credential = anon
        .get(app.url(&format!("/verify/{number}/credential.json")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let check = |text: String| {
        let form = Form::new()
            .text("csrf", acsrf.clone())
            .text("credential", text);
        anon.post(app.url("/verify/check")).multipart(form).send()
    };
    let report = check(credential.clone())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(report.contains("data-ok=\"true\""), "{report}");
    let report = check("not a credential".into()).await.unwrap();
    assert_eq!(report.status(), 422);

    // The TEO revokes with a reason; the page, the check and the history show it.
    let r = c
        .post(app.url(&format!("/admin/issued/{number}/state")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("state", "revoked"),
            ("reason", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "no reason, no revocation");
    let r = c
        .post(app.url(&format!("/admin/issued/{number}/state")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("state", "revoked"),
            ("reason", "信息不实"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = anon
        .get(app.url(&format!("/verify/{number}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-state=\"revoked\""), "{page}");
    let report = check(credential).await.unwrap().text().await.unwrap();
    assert!(
        report.contains("data-ok=\"false\"") && report.contains("data-check=\"status.revocation\""),
        "{report}"
    );
    let detail = c
        .get(app.url(&format!("/admin/issued/{number}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        detail.contains("信息不实") && detail.contains("issued.revoke"),
        "{detail}"
    );
    // A college account sees no issuing page.
    let (col, _) = app.sign_in_page("college_sd").await;
    let r = col.get(app.url("/admin/issuance")).send().await.unwrap();
    assert_eq!(r.status(), 403);
}
