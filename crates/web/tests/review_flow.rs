//! The review side of a declaration batch (申报与评审), on both engines.
//!
//! `every_stage_refuses_out_of_order` walks one batch from opening to publishing through
//! the services and checks that each stage refuses what comes out of order or from the
//! wrong role, with a message that says why. `review_pages_walk_a_batch` drives the same
//! stages through the HTML pages: the ministry's overview, the expert's rubric form, the
//! public list with its objection form, statistics and a TEO's results.

mod common;

use common::{PASSWORD, TestApp, csrf_of, engines, spawn_app};
use std::collections::BTreeMap;
use xcert_declare::{BatchInput, ProposalState, Rubric};
use xcert_store::NewUser;
use xcert_web::declare::{self as svc, ApplicationInput, ExpertInput, ProposalInput};
use xcert_web::{AppError, AppState, Ctx};

fn day(offset: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(offset))
        .date_naive()
        .to_string()
}

/// A second state on the test's store, for calling the services directly.
fn state(app: &TestApp) -> AppState {
    AppState::new(
        app.store.clone(),
        xcert_web::WebConfig {
            base_url: app.base.clone(),
            secure_cookies: false,
            staging_dir: std::env::temp_dir(),
            master_key: xcert_web::MasterKey::generate(),
        },
    )
}

async fn as_user(app: &TestApp, user: &str) -> Ctx {
    Ctx::for_user(app.store.user_by_username(user).await.unwrap().unwrap())
}

fn anonymous() -> Ctx {
    Ctx {
        lang: "zh",
        session: None,
        csrf: String::new(),
        bearer: false,
        client: "198.51.100.7".into(),
        path: String::new(),
    }
}

/// A refusal: its HTTP status, stable code and both messages.
#[derive(Debug)]
struct Refused {
    status: u16,
    code: String,
    en: String,
    zh: String,
}

fn refused<T: std::fmt::Debug>(r: Result<T, AppError>, what: &str) -> Refused {
    match r {
        Ok(v) => panic!("{what}: expected a refusal, got {v:?}"),
        Err(e) => Refused {
            status: e.status().as_u16(),
            code: e
                .fields()
                .first()
                .map(|f| f.code.clone())
                .unwrap_or_default(),
            en: e.message("en"),
            zh: e.message("zh"),
        },
    }
}

/// Assert a stage refusal: 409 with `code`, and `needle` in the English or Chinese message.
fn stage(r: Refused, code: &str, needle: &str, what: &str) {
    assert_eq!(r.status, 409, "{what}: {r:?}");
    assert_eq!(r.code, code, "{what}: {r:?}");
    assert!(
        r.en.contains(needle) || r.zh.contains(needle),
        "{what}: the message should say \"{needle}\": {r:?}"
    );
}

fn forbidden(r: Refused, what: &str) {
    assert_eq!(r.status, 403, "{what}: {r:?}");
    assert!(!r.zh.is_empty() && !r.en.is_empty(), "{what}: {r:?}");
}

/// Every item of the standard rubric at `share` of its points.
fn scores(share: f64) -> BTreeMap<String, f64> {
    Rubric::standard()
        .categories
        .iter()
        .flat_map(|c| &c.items)
        .map(|i| (i.code.clone(), (i.points * share * 2.0).round() / 2.0))
        .collect()
}

const FIELD: &str = "能源动力与材料";

/// What every test starts from: four expert accounts in the pool (three of the field the
/// proposals are in, one of another), an open batch of three experts per proposal, and
/// each TEO's application with one complete proposal.
struct Fixture {
    st: AppState,
    admin: Ctx,
    teo_a: Ctx,
    teo_b: Ctx,
    batch: i64,
    /// (application, proposal) of teo_a and of teo_b.
    a: (i64, i64),
    b: (i64, i64),
}

async fn fixture(app: &TestApp, fields_b: &str) -> Fixture {
    let st = state(app);
    let mut tx = app.store.begin_write("seed").await.unwrap();
    for n in 1..=4 {
        tx.user_create(&NewUser {
            username: format!("expert{n}"),
            display_name: format!("专家{n}"),
            password: PASSWORD.into(),
            role: "expert_reviewer".into(),
            org_id: None,
            person_id: None,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let admin = as_user(app, "admin").await;
    for n in 1..=4 {
        svc::add_expert(
            &st,
            &admin,
            &ExpertInput {
                username: format!("expert{n}"),
                name: format!("专家{n}"),
                org: "华北电力大学".into(),
                province: "上海".into(),
                fields: if n < 4 { FIELD } else { "电子与信息" }.into(),
            },
        )
        .await
        .unwrap();
    }
    let b = svc::create_batch(
        &st,
        &admin,
        &BatchInput {
            number: "7".into(),
            title_zh: "第七批职业教育培训评价组织".into(),
            notice: "现组织第七批申报。".into(),
            apply_from: day(-3),
            apply_until: day(3),
            review_until: day(30),
            experts_per_proposal: "3".into(),
            exclude_same_org: "on".into(),
            combine: "mean".into(),
            pass_score: "60".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    svc::advance_batch(&st, &admin, b.id, "open").await.unwrap();
    let teo_a = as_user(app, "teo_a").await;
    let teo_b = as_user(app, "teo_b").await;
    app.declarable_certificate("teo_a", "RVW-A", "配电网运维")
        .await;
    app.declarable_certificate("teo_b", "RVW-B", "智能测试")
        .await;
    let mut out = Vec::new();
    for (ctx, code, cert, field) in [
        (&teo_a, "91350100M000100Y43", "RVW-A", FIELD),
        (&teo_b, "914403001922038216", "RVW-B", fields_b),
    ] {
        let a = svc::create_application(
            &st,
            ctx,
            b.id,
            &ApplicationInput {
                teo_id: None,
                credit_code: code.into(),
                lead_unit: "国网技术学院".into(),
                contact_name: "王工".into(),
                contact_phone: "010-12345678".into(),
            },
        )
        .await
        .unwrap();
        let p = svc::add_proposal(
            &st,
            ctx,
            a.id,
            &ProposalInput {
                certificate: cert.into(),
                field: field.into(),
                summary: "证书定位与必要性说明。".into(),
            },
        )
        .await
        .unwrap();
        for n in 1..=7 {
            svc::upload_annex(
                &st,
                ctx,
                p.id,
                n,
                &format!("annex-{n}.pdf"),
                format!("%PDF-1.4 附件{n} of {cert}").into_bytes(),
            )
            .await
            .unwrap();
        }
        out.push((a.id, p.id));
    }
    Fixture {
        st,
        admin,
        teo_a,
        teo_b,
        batch: b.id,
        a: out[0],
        b: out[1],
    }
}

async fn proposal_state(app: &TestApp, id: i64) -> ProposalState {
    app.store.proposal_get(id).await.unwrap().state
}

/// Move the publicity period's end into the past, as time passing would.
async fn end_publicity(app: &TestApp, batch: i64) {
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut tx = app.store.begin_write("clock").await.unwrap();
    tx.batch_set_publicity_until(batch, &past).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn every_stage_refuses_out_of_order() {
    for engine in engines() {
        refusals(spawn_app(engine).await).await;
    }
}

async fn refusals(app: TestApp) {
    let fx = fixture(&app, FIELD).await;
    let (st, admin, teo_a, teo_b) = (&fx.st, &fx.admin, &fx.teo_a, &fx.teo_b);
    let (batch, (_, p1), (app_b, p2)) = (fx.batch, fx.a, fx.b);
    let e = format!("{:?}", app.engine);

    // TEO staff may do none of the ministry's steps.
    forbidden(
        refused(svc::batch_review(st, teo_a, batch).await, "overview"),
        "a TEO opens the review overview",
    );
    forbidden(
        refused(svc::experts(st, teo_a).await, "pool"),
        "a TEO lists the expert pool",
    );
    forbidden(
        refused(
            svc::add_expert(
                st,
                teo_a,
                &ExpertInput {
                    username: "expert1".into(),
                    ..Default::default()
                },
            )
            .await,
            "add expert",
        ),
        "a TEO adds an expert",
    );
    forbidden(
        refused(
            svc::advance_batch(st, teo_a, batch, "closed").await,
            "advance",
        ),
        "a TEO advances the batch",
    );
    svc::submit_application(st, teo_a, fx.a.0).await.unwrap();
    svc::submit_application(st, teo_b, app_b).await.unwrap();
    forbidden(
        refused(svc::formal_check(st, teo_a, p1, true, "").await, "formal"),
        "a TEO passes its own formal check",
    );
    forbidden(
        refused(
            svc::return_for_changes(st, teo_a, p2, "改", &day(5)).await,
            "return",
        ),
        "a TEO returns another's proposal",
    );

    // Open: the formal check may start while applications are still accepted ...
    let p = svc::formal_check(st, admin, p1, true, "材料齐全")
        .await
        .unwrap();
    assert_eq!(p.state, ProposalState::FormalPassed, "{e}");
    let r = refused(
        svc::formal_check(st, admin, p2, false, "  ").await,
        "reject without note",
    );
    assert_eq!(r.status, 422, "a formal rejection needs its reason: {r:?}");
    // ... but experts are drawn only in expert review.
    stage(
        refused(svc::draw_experts(st, admin, batch, Some(1)).await, "draw"),
        "batch_stage",
        "申报中",
        "drawing experts while the batch is open",
    );
    // Stages are never skipped.
    stage(
        refused(
            svc::advance_batch(st, admin, batch, "in_review").await,
            "skip",
        ),
        "batch_order",
        "Formal check",
        "advancing open → in review",
    );
    stage(
        refused(
            svc::file_objection(st, "198.51.100.7", p1, "李四", "13800000000", "数据不实").await,
            "objection",
        ),
        "not_in_publicity",
        "publicity",
        "an objection before publicity",
    );

    // A modification opinion with a deadline; past the deadline the resubmission is refused.
    svc::return_for_changes(st, admin, p2, "请补充考核成本测算依据", &day(0))
        .await
        .unwrap();
    assert_eq!(proposal_state(&app, p2).await, ProposalState::Returned);
    sqlx::query("UPDATE decl_opinions SET deadline = '2000-01-31' WHERE proposal_id = $1")
        .bind(p2)
        .execute(app.store.pool())
        .await
        .unwrap();
    stage(
        refused(svc::resubmit(st, teo_b, p2).await, "late resubmission"),
        "deadline_passed",
        "2000-01-31",
        "a resubmission after the deadline",
    );
    // A further draft of teo_b's stays a draft for the closed-batch check below.
    app.declarable_certificate("teo_b", "RVW-C", "智能测试运维")
        .await;
    let p3 = svc::add_proposal(
        st,
        teo_b,
        app_b,
        &ProposalInput {
            certificate: "RVW-C".into(),
            field: FIELD.into(),
            summary: String::new(),
        },
    )
    .await
    .unwrap()
    .id;

    // Closed: no submission, and the message names the stage the batch is in.
    svc::advance_batch(st, admin, batch, "closed")
        .await
        .unwrap();
    let r = refused(svc::submit_application(st, teo_b, app_b).await, "late");
    stage(
        r,
        "batch_stage",
        "形式审查",
        "submitting when the batch is closed",
    );
    let r = refused(svc::submit_application(st, teo_b, app_b).await, "late");
    assert!(r.en.contains("\"Formal check\""), "{r:?}");
    assert_eq!(proposal_state(&app, p3).await, ProposalState::Draft);
    stage(
        refused(
            svc::advance_batch(st, admin, batch, "publicity").await,
            "skip",
        ),
        "batch_order",
        "Expert review",
        "advancing a batch two steps",
    );
    stage(
        refused(svc::draw_experts(st, admin, batch, Some(1)).await, "draw"),
        "batch_stage",
        "Formal check",
        "drawing experts during the formal check",
    );

    // Expert review.
    svc::advance_batch(st, admin, batch, "in_review")
        .await
        .unwrap();
    forbidden(
        refused(svc::draw_experts(st, teo_a, batch, Some(1)).await, "draw"),
        "a TEO draws experts",
    );
    let d = svc::draw_experts(st, admin, batch, Some(2026))
        .await
        .unwrap();
    assert_eq!((d.proposals, d.assignments, d.seed), (1, 3, 2026), "{e}");
    stage(
        refused(
            svc::draw_experts(st, admin, batch, None).await,
            "draw again",
        ),
        "nothing_to_draw",
        "no proposal waits",
        "drawing twice",
    );
    let drawn = app.store.assignments_of_proposal(p1).await.unwrap();
    let mut names: Vec<&str> = drawn.iter().map(|a| a.expert_username.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["expert1", "expert2", "expert3"],
        "experts of the field first"
    );
    let expert4 = as_user(&app, "expert4").await;
    forbidden(
        refused(
            svc::submit_scores(st, &expert4, drawn[0].id, &scores(1.0), "好").await,
            "not drawn",
        ),
        "scoring by an expert not drawn",
    );
    forbidden(
        refused(svc::review(st, &expert4, drawn[0].id).await, "not drawn"),
        "an expert not drawn opens the review",
    );
    forbidden(
        refused(
            svc::submit_scores(st, teo_a, drawn[0].id, &scores(1.0), "好").await,
            "TEO",
        ),
        "a TEO scores its own proposal",
    );
    forbidden(
        refused(
            svc::submit_scores(st, admin, drawn[0].id, &scores(1.0), "代评").await,
            "ministry",
        ),
        "the ministry scores in an expert's place",
    );
    svc::review(st, admin, drawn[0].id)
        .await
        .expect("the ministry may read an assignment");
    assert!(
        svc::my_reviews(st, &expert4).await.unwrap().is_empty(),
        "{e}"
    );
    stage(
        refused(svc::deliberate(st, admin, p1, true, "同意").await, "early"),
        "batch_stage",
        "Publicity",
        "deliberation during expert review",
    );
    stage(
        refused(
            svc::advance_batch(st, admin, batch, "publicity").await,
            "unscored",
        ),
        "proposals_waiting",
        "not yet fully scored",
        "publicity before every score is in",
    );
    let mut experts = Vec::new();
    for a in &drawn {
        experts.push((as_user(&app, &a.expert_username).await, a.id));
    }
    let (ex1, a1) = &experts[0];
    let mut bad = scores(1.0);
    bad.insert("1.1".into(), 99.0);
    let r = refused(svc::submit_scores(st, ex1, *a1, &bad, "好").await, "range");
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.en.contains("1.1"), "the item is named: {r:?}");
    svc::submit_scores(st, ex1, *a1, &scores(1.0), "定位清晰，区分度好")
        .await
        .unwrap();
    let r = refused(
        svc::submit_scores(st, ex1, *a1, &scores(0.5), "改分").await,
        "twice",
    );
    assert_eq!(r.status, 409, "scoring twice: {r:?}");
    assert_eq!(r.code, "already_submitted", "{r:?}");
    for (ctx, aid) in &experts[1..] {
        svc::submit_scores(st, ctx, *aid, &scores(0.9), "可以入围")
            .await
            .unwrap();
    }
    let p = app.store.proposal_get(p1).await.unwrap();
    assert_eq!(p.state, ProposalState::Reviewed, "{e}");
    let totals: Vec<f64> = app
        .store
        .assignments_of_proposal(p1)
        .await
        .unwrap()
        .iter()
        .map(|a| a.total.unwrap())
        .collect();
    let mean = totals.iter().sum::<f64>() / 3.0;
    assert_eq!(
        p.score,
        Some((mean * 100.0).round() / 100.0),
        "the batch combines by the mean: {totals:?} on {e}"
    );
    stage(
        refused(
            svc::file_objection(st, "198.51.100.7", p1, "李四", "13800000000", "数据不实").await,
            "objection",
        ),
        "not_in_publicity",
        "publicity",
        "an objection during expert review",
    );

    // Publicity.
    svc::advance_batch(st, admin, batch, "publicity")
        .await
        .unwrap();
    assert_eq!(proposal_state(&app, p1).await, ProposalState::Proposed);
    stage(
        refused(
            svc::submit_scores(st, &experts[1].0, experts[1].1, &scores(1.0), "再评").await,
            "after review",
        ),
        "not_in_review",
        "expert review",
        "scoring after the review",
    );
    stage(
        refused(
            svc::deliberate(st, admin, p1, true, "同意").await,
            "running",
        ),
        "publicity_running",
        "publicity",
        "deliberation during the publicity period",
    );
    stage(
        refused(
            svc::advance_batch(st, admin, batch, "published").await,
            "running",
        ),
        "publicity_running",
        "publicity",
        "publishing during the publicity period",
    );
    let o = svc::file_objection(
        st,
        "198.51.100.7",
        p1,
        "李四",
        "13800000000",
        "考核站点数量与事实不符",
    )
    .await
    .unwrap();
    assert_eq!(o.state, "open");
    forbidden(
        refused(
            svc::verify_organization(st, teo_a, batch, app.ids["teo_a"], true, true, "自查", None)
                .await,
            "verify",
        ),
        "a TEO verifies itself",
    );
    forbidden(
        refused(
            svc::handle_objection(st, teo_a, o.id, false, "不成立").await,
            "handle",
        ),
        "a TEO handles an objection against itself",
    );
    forbidden(
        refused(
            svc::extend_publicity(st, teo_a, batch, &day(30)).await,
            "extend",
        ),
        "a TEO extends publicity",
    );
    let r = refused(
        svc::extend_publicity(st, admin, batch, &day(0)).await,
        "shorten",
    );
    assert_eq!(r.status, 422, "publicity is never shortened: {r:?}");
    svc::extend_publicity(st, admin, batch, &day(20))
        .await
        .unwrap();

    // The period ends: no more objections, and the open one blocks deliberation and publishing.
    end_publicity(&app, batch).await;
    stage(
        refused(
            svc::file_objection(st, "198.51.100.7", p1, "王五", "wang@example.cn", "再议").await,
            "objection",
        ),
        "not_in_publicity",
        "publicity",
        "an objection after the publicity period",
    );
    stage(
        refused(
            svc::advance_batch(st, admin, batch, "published").await,
            "open",
        ),
        "objections_open",
        "objection",
        "publishing with open objections",
    );
    stage(
        refused(svc::deliberate(st, admin, p1, true, "同意").await, "open"),
        "objections_open",
        "objection",
        "deliberation with an open objection",
    );
    svc::handle_objection(st, admin, o.id, false, "经核实，考核站点数量属实")
        .await
        .unwrap();
    stage(
        refused(
            svc::handle_objection(st, admin, o.id, true, "再议").await,
            "again",
        ),
        "handled",
        "already been handled",
        "handling an objection twice",
    );

    // Approval needs a passed credit and tax verification.
    stage(
        refused(
            svc::deliberate(st, admin, p1, true, "同意").await,
            "unverified",
        ),
        "not_verified",
        "verified",
        "approving without verification",
    );
    let r = refused(
        svc::verify_organization(st, admin, batch, app.ids["teo_b"], true, true, "无", None).await,
        "not listed",
    );
    assert_eq!(r.status, 409, "teo_b has nothing on the list: {r:?}");
    let v = svc::verify_organization(
        st,
        admin,
        batch,
        app.ids["teo_a"],
        true,
        false,
        "税务系统查询：有欠税记录",
        None,
    )
    .await
    .unwrap();
    assert!(!v.passed);
    stage(
        refused(svc::deliberate(st, admin, p1, true, "同意").await, "failed"),
        "verification_failed",
        "verification",
        "approving after a failed verification",
    );
    svc::verify_organization(
        st,
        admin,
        batch,
        app.ids["teo_a"],
        true,
        true,
        "信用中国、税务系统查询均无不良记录",
        Some(("核查截图.png".into(), b"\x89PNG evidence".to_vec())),
    )
    .await
    .unwrap();
    forbidden(
        refused(svc::deliberate(st, teo_a, p1, true, "同意").await, "TEO"),
        "a TEO deliberates",
    );
    let p = svc::deliberate(st, admin, p1, true, "专家评审和公示均无问题，同意入围")
        .await
        .unwrap();
    assert_eq!(p.state, ProposalState::Approved);
    stage(
        refused(svc::deliberate(st, admin, p1, false, "改判").await, "twice"),
        "proposal_stage",
        "Approved",
        "deliberating twice",
    );

    // Published, and final.
    let b = svc::advance_batch(st, admin, batch, "published")
        .await
        .unwrap();
    assert!(b.published_at.is_some());
    stage(
        refused(
            svc::advance_batch(st, admin, batch, "published").await,
            "final",
        ),
        "batch_order",
        "final",
        "advancing a published batch",
    );
    stage(
        refused(
            svc::return_for_changes(st, admin, p1, "再改", &day(3)).await,
            "published",
        ),
        "batch_stage",
        "Published",
        "a modification opinion after publishing",
    );
    let (_, s) = svc::statistics(st, &anonymous(), batch).await.unwrap();
    assert_eq!(
        (s.applications, s.units, s.proposals, s.shortlisted),
        (2, 2, 2, 1),
        "{e}"
    );
    forbidden(
        refused(
            svc::teo_results(st, teo_b, app.ids["teo_a"]).await,
            "other TEO",
        ),
        "a TEO reads another TEO's results",
    );
    let mine = svc::teo_results(st, teo_a, app.ids["teo_a"]).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].proposal.state, ProposalState::Approved);
}

// ---------------------------------------------------------------------------------------
// The pages

async fn text(r: reqwest::Response) -> (u16, String) {
    let s = r.status().as_u16();
    (s, r.text().await.unwrap())
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn review_pages_walk_a_batch() {
    for engine in engines() {
        pages(spawn_app(engine).await).await;
    }
}

async fn pages(app: TestApp) {
    let fx = fixture(&app, "电子与信息").await;
    let (st, admin) = (&fx.st, &fx.admin);
    let (batch, (_, p1), (_, p2)) = (fx.batch, fx.a, fx.b);
    svc::submit_application(st, &fx.teo_a, fx.a.0)
        .await
        .unwrap();
    svc::submit_application(st, &fx.teo_b, fx.b.0)
        .await
        .unwrap();
    let review_url = app.url(&format!("/declare/batches/{batch}/review"));
    let (c, csrf) = app.sign_in_page("admin").await;

    // The overview shows the proposals and what the stage allows.
    let (s, page) = text(c.get(&review_url).send().await.unwrap()).await;
    assert_eq!(s, 200, "{page}");
    for id in [
        format!("id=\"p{p1}\""),
        format!("id=\"formal-pass-{p1}\""),
        format!("id=\"return-{p2}\""),
        "id=\"count-submitted\">2<".to_string(),
        "id=\"advance\"".to_string(),
    ] {
        assert!(page.contains(&id), "{id} on {:?}", app.engine);
    }
    assert!(!page.contains("id=\"draw\""), "no draw button while open");
    let r = c
        .post(app.url(&format!("/declare/proposals/{p1}/formal")))
        .form(&[("csrf", csrf.as_str()), ("pass", "1"), ("note", "材料齐全")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("/declare/batches/{batch}/review#p{p1}")
    );
    // A refusal is shown on the page, beside the form that caused it.
    let (s, page) = text(
        c.post(app.url(&format!("/declare/proposals/{p2}/formal")))
            .form(&[("csrf", csrf.as_str()), ("pass", "0"), ("note", "")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"form-errors\""), "{page}");
    assert!(page.contains(&format!("id=\"err-p{p2}\"")), "{page}");
    let (s, page) = text(
        c.post(app.url(&format!("/declare/batches/{batch}/draw")))
            .form(&[("csrf", csrf.as_str()), ("seed", "")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 409);
    assert!(page.contains("批次处于“申报中”"), "{page}");
    assert!(page.contains("id=\"err-draw-section\""), "{page}");
    // ... in English too.
    c.get(app.url("/lang/en?next=/")).send().await.unwrap();
    let (s, page) = text(
        c.post(app.url(&format!("/declare/batches/{batch}/draw")))
            .form(&[("csrf", csrf.as_str()), ("seed", "x")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422);
    assert!(page.contains("the seed is a whole number"), "{page}");
    assert!(page.contains("Review management"), "{page}");
    c.get(app.url("/lang/zh?next=/")).send().await.unwrap();
    let r = c
        .post(app.url(&format!("/declare/proposals/{p2}/formal")))
        .form(&[("csrf", "forged"), ("pass", "1"), ("note", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the CSRF check");
    let r = c
        .post(app.url(&format!("/declare/proposals/{p2}/formal")))
        .form(&[("csrf", csrf.as_str()), ("pass", "1"), ("note", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // TEO staff get no review page and no ministry action.
    let (t, t_csrf) = app.sign_in_page("teo_a").await;
    assert_eq!(t.get(&review_url).send().await.unwrap().status(), 403);
    let r = t
        .post(app.url(&format!("/declare/proposals/{p1}/deliberate")))
        .form(&[
            ("csrf", t_csrf.as_str()),
            ("approve", "1"),
            ("reason", "同意"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // The expert pool.
    let (s, page) = text(c.get(app.url("/declare/experts")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert!(page.contains("expert4") && page.contains("id=\"expert-form\""));
    let (s, page) = text(
        c.post(app.url("/declare/experts"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", "teo_b"),
                ("name", "某某"),
                ("org", "测试科技有限公司"),
                ("province", ""),
                ("fields", ""),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422);
    assert!(page.contains("id=\"err-username\""), "{page}");
    assert!(page.contains("只有评审专家账号可以加入专家库"), "{page}");
    assert!(page.contains("value=\"某某\""), "typed values are kept");
    let pool = app.store.experts().await.unwrap();
    let e4 = pool.iter().find(|e| e.username == "expert4").unwrap().id;
    let r = c
        .post(app.url(&format!("/declare/experts/{e4}/active")))
        .form(&[("csrf", csrf.as_str()), ("active", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), format!("/declare/experts#e{e4}"));
    assert!(
        !app.store
            .experts()
            .await
            .unwrap()
            .iter()
            .any(|e| e.id == e4 && e.active)
    );
    c.post(app.url(&format!("/declare/experts/{e4}/active")))
        .form(&[("csrf", csrf.as_str()), ("active", "1")])
        .send()
        .await
        .unwrap();

    // Expert review: draw through the page.
    svc::advance_batch(st, admin, batch, "closed")
        .await
        .unwrap();
    svc::advance_batch(st, admin, batch, "in_review")
        .await
        .unwrap();
    let (_, page) = text(c.get(&review_url).send().await.unwrap()).await;
    assert!(page.contains("id=\"draw\""), "{page}");
    let r = c
        .post(app.url(&format!("/declare/batches/{batch}/draw")))
        .form(&[("csrf", csrf.as_str()), ("seed", "7")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        format!("/declare/batches/{batch}/review#draw-section")
    );
    let a1 = app.store.assignments_of_proposal(p1).await.unwrap();
    let a2 = app.store.assignments_of_proposal(p2).await.unwrap();
    assert_eq!((a1.len(), a2.len()), (3, 3));

    // An expert scores through the rubric form.
    let first = &a1[0];
    let (ex, ex_csrf) = app.sign_in_page(&first.expert_username).await;
    let (s, page) = text(ex.get(app.url("/review")).send().await.unwrap()).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains(&format!("href=\"/review/{}\"", first.id)),
        "{page}"
    );
    let form_url = app.url(&format!("/review/{}", first.id));
    let (s, page) = text(ex.get(&form_url).send().await.unwrap()).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("配电网运维") && page.contains("国家电网有限公司"));
    assert!(page.contains(&format!("href=\"/declare/proposals/{p1}/annex/7\"")));
    assert!(
        page.contains("name=\"s_1.1\" id=\"s-1-1\" min=\"0\""),
        "{page}"
    );
    assert_eq!(page.matches("type=\"number\" name=\"s_").count(), 31);
    let full = scores(1.0);
    let mut fields: Vec<(String, String)> = full
        .iter()
        .map(|(k, v)| (format!("s_{k}"), v.to_string()))
        .collect();
    fields.push(("csrf".into(), ex_csrf.clone()));
    fields.push(("comment".into(), "定位清晰".into()));
    let mut wrong = fields.clone();
    wrong.retain(|(k, _)| k != "s_2.1");
    wrong.push(("s_2.1".into(), "abc".into()));
    let (s, page) = text(ex.post(&form_url).form(&wrong).send().await.unwrap()).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"err-2-1\""), "{page}");
    assert!(page.contains("value=\"abc\""), "typed values are kept");
    let r = ex.post(&form_url).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("/review/{}#result", first.id));
    let (_, page) = text(ex.get(&form_url).send().await.unwrap()).await;
    assert!(page.contains("id=\"category-totals\""), "{page}");
    assert!(page.contains("id=\"my-total\">100<"), "{page}");
    assert!(
        !page.contains("id=\"submit-scores\""),
        "read-only after submission"
    );
    let (s, page) = text(ex.post(&form_url).form(&fields).send().await.unwrap()).await;
    assert_eq!(s, 409, "scoring twice");
    assert!(page.contains("您已提交过该申报的评分"), "{page}");
    // An expert not drawn for it is refused.
    let outsider = ["expert1", "expert2", "expert3", "expert4"]
        .into_iter()
        .find(|u| a1.iter().all(|a| a.expert_username != *u))
        .unwrap();
    let (o, _) = app.sign_in_page(outsider).await;
    assert_eq!(o.get(&form_url).send().await.unwrap().status(), 403);
    // The rest score through the service: p1 well (100, 95 and a low 80, which alone lies
    // more than 15 points from the median of the others), p2 badly.
    for (i, a) in a1.iter().enumerate().skip(1) {
        let ctx = as_user(&app, &a.expert_username).await;
        let share = if i == 1 { 0.95 } else { 0.8 };
        svc::submit_scores(st, &ctx, a.id, &scores(share), "意见")
            .await
            .unwrap();
    }
    for a in &a2 {
        let ctx = as_user(&app, &a.expert_username).await;
        svc::submit_scores(st, &ctx, a.id, &scores(0.3), "不足")
            .await
            .unwrap();
    }
    let (_, page) = text(c.get(&review_url).send().await.unwrap()).await;
    let flagged: Vec<i64> = app
        .store
        .assignments_of_proposal(p1)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.outlier)
        .map(|a| a.id)
        .collect();
    assert_eq!(flagged, [a1[2].id], "only the low total is flagged");
    let low = &a1[2];
    assert!(
        page.contains(&format!("id=\"outlier-{}\"", low.id)),
        "{page}"
    );

    // Publicity: the public list with its objection form.
    svc::advance_batch(st, admin, batch, "publicity")
        .await
        .unwrap();
    assert_eq!(proposal_state(&app, p2).await, ProposalState::NotProposed);
    let public = app.browser();
    let list_url = app.url(&format!("/declare/batches/{batch}/publicity"));
    let (s, page) = text(public.get(&list_url).send().await.unwrap()).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("拟入围名单公示") && page.contains("配电网运维"));
    assert!(
        !page.contains("智能测试"),
        "a proposal below the pass score is not listed"
    );
    assert!(
        page.contains(&format!("id=\"objection-form-{p1}\"")),
        "{page}"
    );
    let anon_csrf = csrf_of(&page);
    let objection_url = app.url(&format!("/declare/proposals/{p1}/objection"));
    let (s, page) = text(
        public
            .post(&objection_url)
            .form(&[
                ("csrf", anon_csrf.as_str()),
                ("name", "李四"),
                ("contact", ""),
                ("content", "考核站点不足"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"err-contact\""), "{page}");
    assert!(page.contains("value=\"李四\""), "typed values are kept");
    let (s, page) = text(
        public
            .post(&objection_url)
            .form(&[
                ("csrf", anon_csrf.as_str()),
                ("name", "李四"),
                ("contact", "13800000000"),
                ("content", "考核站点不足"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("id=\"objection-received\"") && page.contains("异议已收到"));
    let objection = app.store.objections_of_batch(batch).await.unwrap()[0].clone();

    // The ministry's publicity actions.
    let (s, page) = text(
        c.post(app.url(&format!("/declare/batches/{batch}/publicity")))
            .form(&[("csrf", csrf.as_str()), ("until", day(-1).as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("公示期只能延长"), "{page}");
    let r = c
        .post(app.url(&format!("/declare/batches/{batch}/publicity")))
        .form(&[("csrf", csrf.as_str()), ("until", day(15).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        format!("/declare/batches/{batch}/review#publicity")
    );
    let (s, page) = text(
        c.post(app.url(&format!("/declare/proposals/{p1}/deliberate")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("approve", "1"),
                ("reason", "同意"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 409);
    assert!(page.contains("公示期结束后才能审议"), "{page}");
    let teo_a = app.ids["teo_a"];
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("teo_id", teo_a.to_string())
        .text("credit_ok", "1")
        .text("tax_ok", "1")
        .text("evidence", "信用中国查询无不良记录")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"evidence bytes".to_vec()).file_name("核查.pdf"),
        );
    let r = c
        .post(app.url(&format!("/declare/batches/{batch}/verify")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        format!("/declare/batches/{batch}/review#v{teo_a}")
    );
    let file = c
        .get(app.url(&format!("/declare/batches/{batch}/verify/{teo_a}/file")))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"evidence bytes");
    end_publicity(&app, batch).await;
    let (_, page) = text(public.get(&list_url).send().await.unwrap()).await;
    assert!(page.contains("id=\"publicity-ended\""), "{page}");
    assert!(
        !page.contains("objection-form-"),
        "no objections after the period"
    );
    let r = c
        .post(app.url(&format!("/declare/objections/{}/handle", objection.id)))
        .form(&[
            ("csrf", csrf.as_str()),
            ("upheld", "0"),
            ("response", "经核实不成立"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        format!("/declare/batches/{batch}/review#o{}", objection.id)
    );
    let r = c
        .post(app.url(&format!("/declare/proposals/{p1}/deliberate")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("approve", "1"),
            ("reason", "同意入围"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        format!("/declare/batches/{batch}/review#p{p1}")
    );
    let (s, page) = text(
        public
            .get(app.url(&format!("/declare/batches/{batch}/statistics")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        s, 303,
        "statistics are the ministry's until published: {page}"
    );
    svc::advance_batch(st, admin, batch, "published")
        .await
        .unwrap();

    // Published: the shortlist, the statistics and the TEO's results.
    let (_, page) = text(public.get(&list_url).send().await.unwrap()).await;
    assert!(
        page.contains("入围名单") && page.contains("配电网运维"),
        "{page}"
    );
    let (s, page) = text(
        public
            .get(app.url(&format!("/declare/batches/{batch}/statistics")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("<svg id=\"chart-field\""), "{page}");
    assert!(page.contains("<svg id=\"chart-province\""), "{page}");
    assert!(page.contains("<b>50.0%</b>"), "1 of 2 shortlisted: {page}");
    assert!(page.contains("id=\"stat-proposals\"><b>2</b>"), "{page}");
    let x = public
        .get(app.url(&format!("/declare/batches/{batch}/statistics.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(x.status(), 200);
    assert!(
        x.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert!(x.bytes().await.unwrap().starts_with(b"PK"));
    let results = app.url(&format!("/declare/teo/{teo_a}/results"));
    let (s, page) = text(t.get(&results).send().await.unwrap()).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains(&format!("id=\"result-{p1}\"")) && page.contains("审议通过"));
    let (b, _) = app.sign_in_page("teo_b").await;
    assert_eq!(b.get(&results).send().await.unwrap().status(), 403);
    {
        // A draft batch's list is nobody's business but the ministry's.
        let hidden = svc::create_batch(
            st,
            admin,
            &BatchInput {
                number: "8".into(),
                title_zh: "第八批".into(),
                notice: "草稿".into(),
                apply_from: day(1),
                apply_until: day(9),
                review_until: day(30),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let r = public
            .get(app.url(&format!("/declare/batches/{}/publicity", hidden.id)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
}
