//! The declaration pages as the ministry, a TEO and a unit's person use them, on both
//! engines: the ministry creates and opens a batch through its form; the TEO opens an
//! application (a wrong credit code is named beside the form), adds a proposal, is told
//! which annexes are missing, uploads six annexes and gives the seventh to a college's
//! person as a task, who hands it in at /my/tasks; then the application is submitted.
//! Another TEO is refused the application.

mod common;

use common::{TestApp, engines, spawn_app};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response, StatusCode};

const TEO_A_CODE: &str = "91350100M000100Y43";
const TEO_B_CODE: &str = "914403001922038216";
const COLLEGE_SD_CODE: &str = "91110108551385082Q";

/// A Beijing date `offset` days from today.
fn day(offset: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(offset))
        .date_naive()
        .to_string()
}

fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The number after `prefix` in a page (an id in an address or an attribute).
fn number_after(page: &str, prefix: &str) -> i64 {
    let i = page
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {page}"))
        + prefix.len();
    page[i..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

async fn get(c: &Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

async fn post(c: &Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> Response {
    c.post(app.url(path)).form(form).send().await.unwrap()
}

/// Every text of a page comes from the tables: no key shows itself.
fn no_raw_keys(page: &str) {
    assert!(
        !page.contains("decl_"),
        "a text key shows instead of its text: {page}"
    );
}

/// The ministry creates a batch through the form and opens it; returns its id.
async fn open_batch(app: &TestApp) -> i64 {
    let (admin, csrf) = app.sign_in_page("admin").await;
    let (s, page) = get(&admin, app, "/declare/batches/new").await;
    assert_eq!(s, 200);
    no_raw_keys(&page);
    assert!(
        page.contains("id=\"f-rubric_csv\"") && page.contains("category_code"),
        "the rubric is prefilled: {page}"
    );
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("number", "7"),
        ("title_zh", "第七批职业教育培训评价组织"),
        ("title_en", "Seventh batch"),
        ("notice", "现组织第七批申报。\n请于截止日期前提交。"),
        ("review_until", "2099-12-31"),
        ("publicity_days", "5"),
        ("experts_per_proposal", "3"),
        ("exclude_same_org", "on"),
        ("combine", "trimmed_mean"),
        ("outlier_points", "15"),
        ("pass_score", "75"),
        ("rubric_csv", ""),
    ];
    let (from, until) = (day(-1), day(20));
    // The window ends before it starts: refused beside its field.
    let mut bad = fields.clone();
    bad.extend([
        ("apply_from", until.as_str()),
        ("apply_until", from.as_str()),
    ]);
    let r = post(&admin, app, "/declare/batches/new", &bad).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"err-apply_until\"") && page.contains("第七批职业教育培训评价组织"),
        "{page}"
    );
    fields.extend([
        ("apply_from", from.as_str()),
        ("apply_until", until.as_str()),
    ]);
    let r = post(&admin, app, "/declare/batches/new", &fields).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let to = location(&r);
    let batch = number_after(&to, "/declare/batches/");
    let (_, page) = get(&admin, app, &to).await;
    no_raw_keys(&page);
    assert!(
        page.contains("id=\"rubric\"") && page.contains("id=\"advance-batch\""),
        "{page}"
    );
    // A draft's settings change through the same form, prefilled.
    let (s, page) = get(&admin, app, &format!("/declare/batches/{batch}/edit")).await;
    assert_eq!(s, 200);
    no_raw_keys(&page);
    assert!(
        page.contains("id=\"save-batch\"")
            && page.contains("id=\"f-exclude_same_org\" value=\"on\" checked")
            && page.contains("<option value=\"trimmed_mean\" selected>")
            && page.contains("1.1,"),
        "{page}"
    );
    let mut edited = fields.clone();
    edited.retain(|(k, _)| *k != "title_en");
    edited.push(("title_en", "The seventh batch"));
    let r = post(
        &admin,
        app,
        &format!("/declare/batches/{batch}/edit"),
        &edited,
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post(
        &admin,
        app,
        &format!("/declare/batches/{batch}/advance"),
        &[("csrf", &csrf), ("to", "closed")],
    )
    .await;
    assert_eq!(r.status(), 409, "stages are not skipped");
    assert!(r.text().await.unwrap().contains("id=\"advance-errors\""));
    let r = post(
        &admin,
        app,
        &format!("/declare/batches/{batch}/advance"),
        &[("csrf", &csrf), ("to", "open")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, page) = get(&admin, app, &format!("/declare/batches/{batch}/edit")).await;
    assert!(
        page.contains("id=\"batch-locked\"") && !page.contains("id=\"save-batch\""),
        "an open batch's settings are fixed: {page}"
    );
    batch
}

/// TEO A opens its application in the batch; returns its id.
async fn open_application(app: &TestApp, teo: &Client, csrf: &str, batch: i64) -> i64 {
    let (s, page) = get(teo, app, &format!("/declare/batches/{batch}")).await;
    assert_eq!(s, 200);
    assert!(page.contains("id=\"apply-form\""), "{page}");
    let apply = |code: &'static str| {
        let path = format!("/declare/batches/{batch}/apply");
        async move {
            post(
                teo,
                app,
                &path,
                &[
                    ("csrf", csrf),
                    ("credit_code", code),
                    ("lead_unit", "国家电网有限公司"),
                    ("contact_name", "王工"),
                    ("contact_phone", "010-12345678"),
                ],
            )
            .await
        }
    };
    // Another organization's (valid) code: the page names it beside the form.
    let r = apply(TEO_B_CODE).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"apply-errors\""), "{page}");
    assert!(
        page.contains(&format!(
            "{TEO_B_CODE} 不是 国家电网有限公司 的统一社会信用代码"
        )),
        "{page}"
    );
    assert!(page.contains("value=\"王工\""), "what was typed is kept");
    let r = apply(TEO_A_CODE).await;
    assert_eq!(r.status(), 303);
    let application = number_after(&location(&r), "/declare/applications/");
    let (_, page) = get(teo, app, &format!("/declare/batches/{batch}")).await;
    assert!(page.contains("id=\"application-link\""), "{page}");
    application
}

fn upload_form(csrf: &str, name: &str, bytes: Vec<u8>) -> Form {
    Form::new()
        .text("csrf", csrf.to_string())
        .part("file", Part::bytes(bytes).file_name(name.to_string()))
}

#[tokio::test]
async fn a_teo_prepares_and_submits_its_application_through_the_pages() {
    for engine in engines() {
        happy_path(spawn_app(engine).await).await;
    }
}

async fn happy_path(app: TestApp) {
    app.declarable_certificate("teo_a", "DCL-P1", "继电保护检修")
        .await;
    let batch = open_batch(&app).await;
    let (teo, csrf) = app.sign_in_page("teo_a").await;
    let application = open_application(&app, &teo, &csrf, batch).await;
    let here = format!("/declare/applications/{application}");

    // A proposal of one of the TEO's certificates.
    let (s, page) = get(&teo, &app, &here).await;
    assert_eq!(s, 200);
    no_raw_keys(&page);
    assert!(
        page.contains("id=\"add-proposal\"") && page.contains("value=\"DCL-P1\""),
        "{page}"
    );
    assert!(page.contains("value=\"公共管理与服务\""), "the 19 fields");
    let r = post(
        &teo,
        &app,
        &format!("{here}/proposals"),
        &[
            ("csrf", &csrf),
            ("certificate", "DCL-P1"),
            ("field", "能源动力与材料"),
            ("summary", "面向继电保护检修岗位。\n已在三省试点。"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, page) = get(&teo, &app, &here).await;
    let proposal = number_after(&page, "data-proposal=\"");
    assert!(page.contains("id=\"annex-5-missing\""), "{page}");

    // Submitting now: nothing is submitted and the page says what is missing.
    let r = post(&teo, &app, &format!("{here}/submit"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 409);
    let page = r.text().await.unwrap();
    let i = page
        .find("id=\"submit-errors\"")
        .expect("errors beside the button");
    let errors = &page[i..i + page[i..].find("</ul>").unwrap()];
    assert!(
        errors.contains("继电保护检修") && errors.contains("附件5") && errors.contains("附件7"),
        "{errors}"
    );

    // An empty file is refused beside its slot.
    let r = teo
        .post(app.url(&format!("/declare/proposals/{proposal}/annex/1")))
        .multipart(upload_form(&csrf, "空.docx", Vec::new()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("id=\"annex-{proposal}-1-errors\"")) && page.contains("文件为空"),
        "{page}"
    );

    // Six annexes by the TEO.
    for n in 1..=6 {
        let r = teo
            .post(app.url(&format!("/declare/proposals/{proposal}/annex/{n}")))
            .multipart(upload_form(
                &csrf,
                &format!("附件{n}.docx"),
                format!("annex {n} of DCL-P1").into_bytes(),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "annex {n}");
        assert_eq!(location(&r), format!("{here}#p{proposal}"));
    }
    let (_, page) = get(&teo, &app, &here).await;
    assert!(
        page.contains("id=\"annex-3-download\"") && page.contains("id=\"annex-7-missing\""),
        "{page}"
    );

    // The seventh goes to a college's person as a task.
    let r = post(
        &teo,
        &app,
        &format!("{here}/units"),
        &[
            ("csrf", &csrf),
            ("name", "国网技术学院"),
            ("org", COLLEGE_SD_CODE),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, page) = get(&teo, &app, &here).await;
    // The lead unit is there from the start; the college's unit is the one just added.
    let before = &page[..page
        .find("\">国网技术学院</li>")
        .expect("the unit is listed")];
    let unit = number_after(
        &before[before.rfind("<li data-unit=").unwrap()..],
        "data-unit=\"",
    );
    assert!(page.contains("id=\"add-task\""), "{page}");
    let target = format!("{proposal}:7");
    let unit_s = unit.to_string();
    let deadline = day(3);
    let task_form = |assignee: &'static str| {
        [
            ("csrf", csrf.as_str()),
            ("unit_id", unit_s.as_str()),
            ("assignee", assignee),
            ("title", "编写必要性与可行性报告"),
            ("target", target.as_str()),
            ("deadline", deadline.as_str()),
        ]
    };
    // A person of neither organization is refused beside the form, what was typed kept.
    let r = post(
        &teo,
        &app,
        &format!("{here}/tasks"),
        &task_form("college_js"),
    )
    .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"task-errors\"") && page.contains("value=\"编写必要性与可行性报告\""),
        "{page}"
    );
    let r = post(
        &teo,
        &app,
        &format!("{here}/tasks"),
        &task_form("college_sd"),
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, page) = get(&teo, &app, &here).await;
    let task = number_after(&page, "data-task=\"");
    assert!(
        page.contains("id=\"progress\"") && page.contains("0%"),
        "{page}"
    );
    let r = post(
        &teo,
        &app,
        &format!("{here}/remind"),
        &[("csrf", &csrf), ("task_id", &task.to_string())],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("reminded=1"));
    // A task of the lead unit already past its deadline: highlighted, and reminded with
    // every other overdue one.
    let before = &page[..page
        .find("\">国家电网有限公司</li>")
        .expect("the lead unit")];
    let lead = number_after(
        &before[before.rfind("<li data-unit=").unwrap()..],
        "data-unit=\"",
    );
    let (lead, late) = (lead.to_string(), day(-2));
    let r = post(
        &teo,
        &app,
        &format!("{here}/tasks"),
        &[
            ("csrf", csrf.as_str()),
            ("unit_id", lead.as_str()),
            ("assignee", "teo_a"),
            ("title", "填写申报书封面"),
            ("target", ""),
            ("deadline", late.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, page) = get(&teo, &app, &here).await;
    assert!(
        page.contains("class=\"decl-overdue\"") && page.contains("id=\"remind-overdue\""),
        "{page}"
    );
    let r = post(&teo, &app, &format!("{here}/remind"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("reminded=1"), "only the overdue one");
    let (_, page) = get(&teo, &app, &location(&r)).await;
    assert!(page.contains("id=\"remind-notice\""), "{page}");

    // The college's person hands it in at /my/tasks.
    let (college, ccsrf) = app.sign_in_page("college_sd").await;
    let (s, page) = get(&college, &app, "/my/tasks").await;
    assert_eq!(s, 200);
    no_raw_keys(&page);
    assert!(
        page.contains(&format!("id=\"done-{task}\"")) && page.contains("编写必要性与可行性报告"),
        "{page}"
    );
    // An annex task needs its file.
    let r = college
        .post(app.url(&format!("/my/tasks/{task}/done")))
        .multipart(Form::new().text("csrf", ccsrf.clone()).text("note", "初稿"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("id=\"task-{task}-errors\"")) && page.contains("附件7"),
        "{page}"
    );
    let report = "必要性与可行性报告".as_bytes().to_vec();
    let r = college
        .post(app.url(&format!("/my/tasks/{task}/done")))
        .multipart(upload_form(&ccsrf, "可行性报告.docx", report.clone()).text("note", "终稿"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, page) = get(&college, &app, "/my/tasks").await;
    assert!(!page.contains(&format!("id=\"done-{task}\"")), "{page}");
    let (s, _) = get(&college, &app, &here).await;
    assert_eq!(s, 200, "a task's person sees the application");

    // The TEO sees the slot filled, the unit done and a notification.
    let (_, page) = get(&teo, &app, &here).await;
    assert!(
        page.contains("id=\"annex-7-download\"") && page.contains("100%"),
        "{page}"
    );
    assert!(
        page.contains(&format!("id=\"complete-{proposal}\"")),
        "{page}"
    );
    let (_, page) = get(&teo, &app, "/notifications").await;
    no_raw_keys(&page);
    assert!(
        page.contains("college_sd 完成了任务") && page.contains("id=\"mark-read\""),
        "{page}"
    );
    let r = post(&teo, &app, "/notifications/read", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    let (_, page) = get(&teo, &app, "/notifications").await;
    assert!(!page.contains("id=\"mark-read\""), "{page}");

    // Submitted: the proposal has its first version and its annexes download.
    let r = post(&teo, &app, &format!("{here}/submit"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("submitted=1"));
    let (_, page) = get(&teo, &app, &here).await;
    assert!(page.contains("已提交，待形式审查"), "{page}");
    assert!(!page.contains("id=\"submit-application\""), "{page}");
    let (s, page) = get(&teo, &app, &format!("/declare/proposals/{proposal}")).await;
    assert_eq!(s, 200);
    no_raw_keys(&page);
    assert!(
        page.contains("data-version=\"1\"") && !page.contains("id=\"edit-form\""),
        "{page}"
    );
    let r = teo
        .get(app.url(&format!("/declare/proposals/{proposal}/annex/7")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap_or("attachment")
            .starts_with("attachment"),
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), report);
    let (_, page) = get(&teo, &app, "/declare").await;
    no_raw_keys(&page);
    assert!(
        page.contains(&format!("data-proposal=\"{proposal}\"")),
        "{page}"
    );

    // The ministry closes the window and returns the proposal with an opinion (the
    // review side's stage, here through the API); the TEO revises it on its page.
    let (admin, acsrf) = app.sign_in_page("admin").await;
    let r = post(
        &admin,
        &app,
        &format!("/declare/batches/{batch}/advance"),
        &[("csrf", &acsrf), ("to", "closed")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let token = app.token("admin").await;
    let r = app
        .api(
            reqwest::Method::POST,
            &format!("/proposals/{proposal}/return"),
            Some(&token),
            Some(serde_json::json!({"opinion": "请补充考核成本测算依据。", "deadline": day(5)})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let mine = format!("/declare/proposals/{proposal}");
    let (_, page) = get(&teo, &app, &mine).await;
    no_raw_keys(&page);
    assert!(
        page.contains("id=\"open-opinion\"")
            && page.contains("请补充考核成本测算依据。")
            && page.contains(&format!("id=\"opinion-deadline\">{}<", day(5)))
            && page.contains("id=\"resubmit\"")
            && page.contains("id=\"edit-form\""),
        "{page}"
    );
    let r = post(
        &teo,
        &app,
        &format!("{mine}/edit"),
        &[
            ("csrf", &csrf),
            ("field", "能源动力与材料"),
            (
                "summary",
                "面向继电保护检修岗位。\n已在五省试点，附成本测算。",
            ),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let form =
        upload_form(&csrf, "成本核算（修订）.xlsx", b"cost v2".to_vec()).text("back", "proposal");
    let r = teo
        .post(app.url(&format!("{mine}/annex/5")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{mine}#annexes"));
    let r = post(&teo, &app, &format!("{mine}/resubmit"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    let (_, page) = get(&teo, &app, &mine).await;
    assert!(
        page.contains("data-version=\"2\"") && page.contains("id=\"changes\""),
        "{page}"
    );
    let i = page.find("id=\"changes\"").unwrap();
    let changes = &page[i..i + page[i..].find("</section>").unwrap()];
    assert!(
        changes.contains("<span class=\"del\">- 已在三省试点。</span>")
            && changes.contains("<span class=\"add\">+ 已在五省试点，附成本测算。</span>"),
        "{changes}"
    );
    assert!(
        changes.contains("data-kind=\"annex_replaced\"")
            && changes.contains("附件5.docx")
            && changes.contains("成本核算（修订）.xlsx"),
        "{changes}"
    );
    assert!(
        !page.contains("id=\"open-opinion\""),
        "the opinion is answered: {page}"
    );

    // The same pages in English.
    let r = teo
        .get(app.url(&format!("/lang/en?next={here}")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    let (_, page) = get(&teo, &app, &here).await;
    no_raw_keys(&page);
    assert!(
        page.contains("Task breakdown") && page.contains("Annex 7"),
        "{page}"
    );
    for path in [
        "/declare".to_string(),
        format!("/declare/batches/{batch}"),
        format!("/declare/proposals/{proposal}"),
        "/notifications".to_string(),
    ] {
        let (s, page) = get(&teo, &app, &path).await;
        assert_eq!(s, 200, "{path}");
        no_raw_keys(&page);
    }
    let (_, page) = get(&teo, &app, &format!("/declare/proposals/{proposal}")).await;
    assert!(
        page.contains("Energy, power and materials") && page.contains("What changed"),
        "{page}"
    );
}

#[tokio::test]
async fn another_teo_is_refused_the_application() {
    let app = spawn_app(common::Engine::Sqlite).await;
    app.declarable_certificate("teo_a", "DCL-P2", "智能变电站运维")
        .await;
    let batch = open_batch(&app).await;
    let (teo, csrf) = app.sign_in_page("teo_a").await;
    let application = open_application(&app, &teo, &csrf, batch).await;
    let here = format!("/declare/applications/{application}");
    let r = post(
        &teo,
        &app,
        &format!("{here}/proposals"),
        &[
            ("csrf", &csrf),
            ("certificate", "DCL-P2"),
            ("field", "电子与信息"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, page) = get(&teo, &app, &here).await;
    let proposal = number_after(&page, "data-proposal=\"");

    let (other, ocsrf) = app.sign_in_page("teo_b").await;
    let (s, _) = get(&other, &app, &here).await;
    assert_eq!(s, 403);
    let (s, _) = get(&other, &app, &format!("/declare/proposals/{proposal}")).await;
    assert_eq!(s, 403);
    let r = post(
        &other,
        &app,
        &format!("{here}/proposals"),
        &[
            ("csrf", &ocsrf),
            ("certificate", "DCL-P2"),
            ("field", "电子与信息"),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    // And TEO B sees no application of its own in the batch, but may open one.
    let (_, page) = get(&other, &app, &format!("/declare/batches/{batch}")).await;
    assert!(
        page.contains("id=\"apply-form\"") && !page.contains("id=\"application-link\""),
        "{page}"
    );
}
