//! The demo's assessment data (考核演示数据): State Grid's question banks for relay
//! protection (继电保护检修) and meter installation (电能计量装表接电), a blueprint and two
//! parallel forms for each, a finished 初级 session at 国网技术学院 with forty candidates'
//! attempts, examiners' scores, training scores, released results and an item analysis,
//! and an open session the `candidate` account can take in the browser.
//!
//! Everything goes through the services the pages and API use, acting as the account whose
//! job it is (`sgcc` keeps the banks and runs the sessions, `college` registers its
//! students and enters their training scores, the examiners score, each candidate answers
//! their own exam), so the same rules, checks and audit apply as for users.

use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use xcert_assess::assemble::{AssemblyOptions, SolverChoice};
use xcert_assess::blueprint::{DifficultyTarget, TypeQuota};
use xcert_assess::item::{Interaction, Item, ItemContent, ItemKind, Response, ReviewStatus};
use xcert_domain::framework::Level;
use xcert_store::{FormContent, NewUser, SessionStatus, Store, UserRow};
use xcert_web::assess as svc;
use xcert_web::{AppError, AppState, Ctx};

/// The relay protection bank as rows of the `.xlsx` template (column keys as the header),
/// entered item by item as the bank editor does.
const RPM_ITEMS: &str = include_str!("../../demo/items_sgcc_rpm.csv");
/// The metering bank, same columns; it reaches the bank as a QTI 3.0 package through the
/// import (stage, preview with its checks, confirm), as a bank moved from another system does.
const EMMC_ITEMS: &str = include_str!("../../demo/items_sgcc_emmc.csv");
/// 国网技术学院's relay protection and power system classes, uploaded by the college.
const STUDENTS: &str = include_str!("../../demo/students_sgtc.csv");

const RPM: &str = "SGCC-RPM";
const EMMC: &str = "SGCC-EMMC";
const COLLEGE: &str = "国网技术学院";
/// The practical task of the 初级 sessions.
const RPM_TASK: &str = "RPM-P-J01";

/// Student numbers of the finished session's candidates besides the uploaded 2022 classes.
const FINISHED_EXTRA: &[&str] = &["2021110101", "2022110203"];
/// The open session's candidates: 刘䶮 (the `candidate` account) and four classmates.
const OPEN_SESSION: &[&str] = &[
    "2023110104",
    "2023110302",
    "2024110305",
    "2023110106",
    "2023110107",
];
/// The student the `candidate` account belongs to (刘䶮, 电力系统继电保护技术).
pub const CANDIDATE_STUDENT_NO: &str = "2023110104";

/// The TEO's own examiners (考评员), besides the demo's `examiner`: username, name.
const TEO_EXAMINERS: &[(&str, &str)] = &[("kpy-wangjg", "王建国"), ("kpy-lihm", "李红梅")];

/// A blueprint's type mix: kind, items per form, points each.
type Mix = &'static [(ItemKind, u32, f64)];

/// 初级 relay protection theory paper: 37 items, 100 points.
const RPM_MIX: Mix = &[
    (ItemKind::SingleChoice, 16, 2.0),
    (ItemKind::MultipleChoice, 6, 3.0),
    (ItemKind::TrueFalse, 10, 1.5),
    (ItemKind::TextEntry, 2, 3.0),
    (ItemKind::Matching, 1, 6.0),
    (ItemKind::Ordering, 1, 5.0),
    (ItemKind::ExtendedText, 1, 18.0),
];

/// 初级 metering theory paper: 30 items, 100 points.
const EMMC_MIX: Mix = &[
    (ItemKind::SingleChoice, 12, 2.0),
    (ItemKind::MultipleChoice, 5, 4.0),
    (ItemKind::TrueFalse, 8, 2.0),
    (ItemKind::TextEntry, 2, 4.0),
    (ItemKind::Matching, 1, 8.0),
    (ItemKind::Ordering, 1, 6.0),
    (ItemKind::ExtendedText, 1, 18.0),
];

pub(super) fn web<T>(r: Result<T, AppError>, what: &str) -> Result<T> {
    r.map_err(|e| anyhow::anyhow!("demo {what}: {}", e.message("en")))
}

/// A context acting as a stored account.
async fn acting(store: &Store, username: &str) -> Result<(Ctx, UserRow)> {
    let u = store
        .user_by_username(username)
        .await?
        .with_context(|| format!("demo account {username}"))?;
    Ok((Ctx::for_user(u.clone()), u))
}

/// Load the assessment part of the demo (called once, when the demo is created).
pub async fn load(store: &Store, web: &xcert_web::WebConfig) -> Result<()> {
    let started = Instant::now();
    let st = AppState::new(store.clone(), web.clone());
    let (sgcc, _) = acting(store, "sgcc").await?;

    let rpm = bank_from_template(&st, &sgcc, RPM, "items_sgcc_rpm.csv", RPM_ITEMS).await?;
    let emmc = bank_from_qti_package(&st, &sgcc, EMMC, "items_sgcc_emmc.csv", EMMC_ITEMS).await?;
    eprintln!(
        "demo question banks: {RPM} {} items, {EMMC} {} items (every item type, practical tasks with observation scales)",
        rpm.len(),
        emmc.len()
    );

    let rpm_forms = forms_from_blueprint(&st, &sgcc, RPM, RPM_MIX, (2.2, 2.9)).await?;
    forms_from_blueprint(&st, &sgcc, EMMC, EMMC_MIX, (2.2, 2.9)).await?;

    let people = students_and_accounts(&st, store).await?;
    let task_id = *rpm
        .get(RPM_TASK)
        .with_context(|| format!("demo practical task {RPM_TASK}"))?;
    let finished = finished_session(&st, &sgcc, &people, &rpm_forms, task_id).await?;
    let accounts: HashMap<i64, String> = people
        .candidates
        .iter()
        .map(|(p, u)| (*p, u.username.clone()))
        .collect();
    super::certificates::load(&st, &sgcc, finished, &accounts).await?;
    open_session(&st, &sgcc, &people, &rpm_forms, task_id).await?;
    eprintln!(
        "demo assessment data loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Question banks

/// Items of a template CSV with the review status each row gives; problems name the row.
fn template_items(file: &str, text: &str) -> Result<Vec<(Item, Option<ReviewStatus>)>> {
    let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .with_context(|| format!("{file}: header"))?
        .clone();
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        let rec = rec.with_context(|| format!("{file} row {row}"))?;
        let cells: Vec<(&str, String)> = headers
            .iter()
            .zip(rec.iter())
            .map(|(k, v)| (k, v.to_string()))
            .collect();
        let report = xcert_assess::interchange::item_from_cells(file, &cells);
        if let Some(p) = report.errors().next() {
            bail!("{file} row {row}: {}", p.en);
        }
        let it = report
            .items
            .into_iter()
            .next()
            .with_context(|| format!("{file} row {row}: no item"))?;
        out.push((it.item, it.review));
    }
    Ok(out)
}

/// Check that every item is tagged to requirements of its own level in the certificate's
/// published standard (the server only checks that the codes exist).
async fn check_levels(
    st: &AppState,
    code: &str,
    file: &str,
    items: &[(Item, Option<ReviewStatus>)],
) -> Result<()> {
    let cert = st.store.certificate_by_code(code).await?;
    let standard = st
        .store
        .standard_get(cert.id, None, false)
        .await?
        .with_context(|| format!("{code} has no published standard"))?;
    let level_of: HashMap<&str, Level> = standard
        .tree
        .areas
        .iter()
        .flat_map(|a| &a.tasks)
        .flat_map(|t| &t.requirements)
        .map(|r| (r.code.as_str(), r.level))
        .collect();
    for (item, _) in items {
        for r in &item.meta.requirements {
            match level_of.get(r.as_str()) {
                Some(l) if Some(*l) == item.meta.level => {}
                Some(l) => bail!(
                    "{file}: {} is tagged {r}, a {} requirement of {code}, but is itself {:?}",
                    item.meta.ident,
                    l.zh(),
                    item.meta.level.map(|l| l.zh())
                ),
                None => bail!(
                    "{file}: {} is tagged {r}, not a requirement of {code}",
                    item.meta.ident
                ),
            }
        }
    }
    Ok(())
}

/// Enter a bank item by item through the editor's service; returns ident → item id.
async fn bank_from_template(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    file: &str,
    text: &str,
) -> Result<HashMap<String, i64>> {
    let items = template_items(file, text)?;
    check_levels(st, code, file, &items).await?;
    let mut ids = HashMap::new();
    for (item, review) in &items {
        let (row, _) = web(
            svc::item_save(st, ctx, code, item, *review, None).await,
            &format!("{code} item {}", item.meta.ident),
        )?;
        ids.insert(row.ident, row.id);
    }
    Ok(ids)
}

/// Bring a bank in as a QTI 3.0 package through the import, confirmed as reviewed; items
/// the CSV marks otherwise are then set back to their status. Returns ident → item id.
async fn bank_from_qti_package(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    file: &str,
    text: &str,
) -> Result<HashMap<String, i64>> {
    let items = template_items(file, text)?;
    check_levels(st, code, file, &items).await?;
    let plain: Vec<Item> = items.iter().map(|(i, _)| i.clone()).collect();
    let package = xcert_assess::interchange::export_qti3(&plain, &[]);
    let staged = web(
        svc::bank_import_stage(st, ctx, code, "电能计量装表接电题库_QTI3.zip", package).await,
        &format!("{code} import"),
    )?;
    let errors = staged.report["errors"].as_u64().unwrap_or(0);
    if errors > 0 {
        bail!(
            "demo {code} package: {errors} problems, first: {}",
            staged.report["problems"][0]
        );
    }
    let applied = web(
        svc::bank_import_apply(st, ctx, code, staged.id, Some(ReviewStatus::Approved)).await,
        &format!("{code} import"),
    )?;
    if applied.created != items.len() {
        bail!(
            "demo {code} package: {} of {} items created",
            applied.created,
            items.len()
        );
    }
    let cert = st.store.certificate_by_code(code).await?;
    let mut ids = HashMap::new();
    for (item, review) in &items {
        let row = st.store.item_by_ident(cert.id, &item.meta.ident).await?;
        if row.kind != item.content.kind {
            bail!(
                "demo {code} package: {} came back as {}",
                row.ident,
                row.kind.as_str()
            );
        }
        if let Some(r) = review.filter(|r| *r != ReviewStatus::Approved) {
            web(
                svc::item_set_status(st, ctx, code, row.id, r).await,
                &format!("{code} item {}", row.ident),
            )?;
        }
        ids.insert(row.ident, row.id);
    }
    Ok(ids)
}

// ---------------------------------------------------------------------------------------
// Blueprint and assembly

/// Draft the 初级 blueprint from the standard, give it the paper's type mix, two parallel
/// forms and a difficulty band, assemble with microlp and accept the forms.
async fn forms_from_blueprint(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    mix: Mix,
    (min_mean, max_mean): (f64, f64),
) -> Result<Vec<xcert_store::FormRow>> {
    let what = format!("{code} blueprint");
    let mut bp = web(
        svc::blueprint_draft(st, ctx, code, Level::Junior).await,
        &what,
    )?;
    bp.forms = 2;
    bp.types = mix
        .iter()
        .map(|(kind, count, points_each)| TypeQuota {
            kind: *kind,
            count: *count,
            points_each: *points_each,
        })
        .collect();
    bp.difficulty = Some(DifficultyTarget { min_mean, max_mean });
    bp.time_limit_minutes = 90;
    bp.apply_weights();
    let row = web(svc::blueprint_save(st, ctx, code, None, &bp).await, &what)?;
    let opts = AssemblyOptions {
        solver: SolverChoice::Microlp,
        time_limit: std::time::Duration::from_secs(10),
        always_solve: true,
        ..Default::default()
    };
    let run = web(svc::assemble(st, ctx, code, row.id, opts).await, &what)?;
    if run.status != "assembled" {
        bail!("demo {code}: assembly {}: {}", run.status, run.result);
    }
    let forms = web(svc::assembly_accept(st, ctx, code, run.id).await, &what)?;
    eprintln!(
        "demo blueprint {}: {} items per form, {} parallel forms ({}, gap {:.3})",
        bp.title,
        bp.items_per_form(),
        forms.len(),
        run.result["solver"].as_str().unwrap_or("?"),
        run.result["gap"].as_f64().unwrap_or(f64::NAN)
    );
    Ok(forms)
}

// ---------------------------------------------------------------------------------------
// People and accounts

struct People {
    /// Student number → person id (国网技术学院).
    by_student_no: BTreeMap<String, i64>,
    /// The finished session's candidates: (person id, candidate account).
    candidates: Vec<(i64, UserRow)>,
    examiner: (Ctx, UserRow),
    teo_examiners: Vec<(Ctx, UserRow)>,
    college: Ctx,
}

/// The college uploads its 2022 relay protection and power system classes; it opens a
/// candidate account for each student sitting the finished session; State Grid opens
/// accounts for two of its own examiners.
async fn students_and_accounts(st: &AppState, store: &Store) -> Result<People> {
    let (college, college_user) = acting(store, "college").await?;
    let set = xcert_bulk::read_csv(STUDENTS.as_bytes(), Some(xcert_bulk::Sheet::People))
        .map_err(|e| anyhow::anyhow!("demo students: {}", e.en()))?;
    if let Some(e) = set.errors.first() {
        bail!("demo students row {}: {}", e.row, e.en);
    }
    let s = store
        .import_apply(&college_user.principal(), &set, true)
        .await?;
    if !s.committed || s.people_created != set.people.len() {
        bail!(
            "demo students: {} of {} created ({:?})",
            s.people_created,
            set.people.len(),
            s.errors.first()
        );
    }
    let college_id = college_user.org_id.context("demo college account")?;
    let by_student_no: BTreeMap<String, i64> = store
        .people_list(
            &xcert_domain::access::PeopleScope::College(college_id),
            None,
            None,
        )
        .await?
        .into_iter()
        .filter_map(|p| Some((p.student_no?, p.id)))
        .collect();

    let (sgcc, sgcc_user) = acting(store, "sgcc").await?;
    let mut teo_examiners = Vec::new();
    for (username, name) in TEO_EXAMINERS {
        let u = web(
            xcert_web::service::create_user(
                st,
                &sgcc,
                &NewUser {
                    username: username.to_string(),
                    display_name: format!("{name}（考评员）"),
                    password: super::DEMO_PASSWORD.into(),
                    role: "examiner".into(),
                    org_id: sgcc_user.org_id,
                    person_id: None,
                },
            )
            .await,
            "examiner account",
        )?;
        teo_examiners.push((Ctx::for_user(u.clone()), u));
    }

    let mut candidates = Vec::new();
    let finished: Vec<&str> = set
        .people
        .iter()
        .filter_map(|p| p.person.student_no.as_deref())
        .filter(|n| n.starts_with("2022"))
        .chain(FINISHED_EXTRA.iter().copied())
        .collect();
    let names: HashMap<&str, &str> = set
        .people
        .iter()
        .filter_map(|p| Some((p.person.student_no.as_deref()?, p.person.name.as_str())))
        .collect();
    for no in finished {
        let person = *by_student_no
            .get(no)
            .with_context(|| format!("demo student {no}"))?;
        let display = match names.get(no) {
            Some(n) => n.to_string(),
            None => store.person_get(person).await?.name,
        };
        let u = web(
            xcert_web::service::create_user(
                st,
                &college,
                &NewUser {
                    username: format!("s{no}"),
                    display_name: display,
                    password: super::DEMO_PASSWORD.into(),
                    role: "candidate".into(),
                    org_id: None,
                    person_id: Some(person),
                },
            )
            .await,
            "candidate account",
        )?;
        candidates.push((person, u));
    }
    let examiner = acting(store, "examiner").await?;
    eprintln!(
        "demo students: {} more at {COLLEGE}, {} candidate accounts, {} TEO examiners",
        s.people_created,
        candidates.len(),
        teo_examiners.len()
    );
    Ok(People {
        by_student_no,
        candidates,
        examiner,
        teo_examiners,
        college,
    })
}

// ---------------------------------------------------------------------------------------
// Sessions

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn year_in_beijing(t: chrono::DateTime<chrono::Utc>) -> i32 {
    use chrono::Datelike;
    t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .year()
}

/// The finished session's window: two hours on the hour, ending at the first full hour
/// after the load, so it holds the attempts made now and lies in the past soon after.
fn finished_window(now: chrono::DateTime<chrono::Utc>) -> (String, String) {
    use chrono::DurationRound;
    let closes = (now + chrono::Duration::minutes(5))
        .duration_trunc(chrono::Duration::hours(1))
        .unwrap_or(now)
        + chrono::Duration::hours(1);
    (
        rfc3339(closes - chrono::Duration::hours(2)),
        rfc3339(closes),
    )
}

/// The RPM 初级 session of today at 国网技术学院: forty candidates take the theory test
/// online, examiners score the practical task and mark the written answers, the college
/// enters the training scores, State Grid closes the session, releases the results and
/// analyses the items.
async fn finished_session(
    st: &AppState,
    sgcc: &Ctx,
    people: &People,
    forms: &[xcert_store::FormRow],
    task_id: i64,
) -> Result<i64> {
    let now = chrono::Utc::now();
    let (opens_at, closes_at) = finished_window(now);
    let site = st
        .store
        .org_find(COLLEGE)
        .await?
        .context("demo college")?
        .id;
    let mut examiner_ids = vec![people.examiner.1.id];
    examiner_ids.extend(people.teo_examiners.iter().map(|(_, u)| u.id));
    let session = web(
        svc::session_create(
            st,
            sgcc,
            &svc::SessionInput {
                certificate: RPM.into(),
                level: "初级".into(),
                title: format!("{}年第一批继电保护检修（初级）考核", year_in_beijing(now)),
                site_org_id: Some(site),
                site_name: String::new(),
                opens_at,
                closes_at,
                duration_minutes: 90,
                shuffle_items: true,
                disagreement_points: Some(10.0),
                form_ids: forms.iter().map(|f| f.id).collect(),
                task_item_ids: vec![task_id],
                examiner_ids,
            },
        )
        .await,
        "finished session",
    )?;
    let persons: Vec<i64> = people.candidates.iter().map(|(p, _)| *p).collect();
    let outcomes = web(
        svc::register(st, &people.college, session.id, &persons).await,
        "registration",
    )?;
    let mut candidate_of: HashMap<i64, i64> = HashMap::new();
    for o in &outcomes {
        let id = o.candidate_id.with_context(|| {
            format!(
                "demo registration of person {} refused: {:?}",
                o.person_id, o.en
            )
        })?;
        candidate_of.insert(o.person_id, id);
    }

    // Abilities from a fixed seed: the same demo every time.
    let mut rng = Rng::stream(0, 0);
    let mut sim: Vec<Simulated> = Vec::new();
    for (person, account) in &people.candidates {
        let theta = 0.5 + 0.8 * rng.normal();
        sim.push(Simulated {
            candidate: candidate_of[person],
            account: account.clone(),
            theta,
            practical: 0.6 * theta + 0.8 * rng.normal(),
        });
    }
    let timed_out = sim.len() / 3;
    let mut forms_seen: HashMap<i64, FormContent> = HashMap::new();
    let mut difficulty: HashMap<i64, f64> = HashMap::new();
    let (mut answered, mut skipped) = (0usize, 0usize);
    for (k, c) in sim.iter().enumerate() {
        let mut rng = Rng::stream(1, k as u64);
        let ctx = Ctx::for_user(c.account.clone());
        let view = web(
            svc::attempt_start(st, &ctx, c.candidate).await,
            "attempt start",
        )?;
        let form_id = view.candidate.form_id;
        if let std::collections::hash_map::Entry::Vacant(e) = forms_seen.entry(form_id) {
            let f = st.store.form_content(form_id).await?;
            for (fi, _, _) in &f.items {
                let d = st.store.item_get(fi.item_id).await?.difficulty;
                difficulty.insert(fi.item_id, d.unwrap_or(3.0));
            }
            e.insert(f);
        }
        let form = &forms_seen[&form_id];
        // Answers drawn in form order (the same demo every time), then given in the
        // order this candidate sees the items; weaker candidates skip more, and the one
        // whose time runs out never reaches the last two fifths of their paper.
        let mut drawn: HashMap<i64, Response> = HashMap::new();
        for (fi, content, _) in &form.items {
            let skip = 0.02
                + if c.theta < -0.8 { 0.06 } else { 0.0 }
                + if content.kind == ItemKind::ExtendedText && c.theta < 0.0 {
                    0.2
                } else {
                    0.0
                };
            if rng.f64() < skip {
                continue;
            }
            if let Some(r) = respond(&mut rng, c.theta, difficulty[&fi.item_id], content) {
                drawn.insert(fi.position, r);
            }
        }
        let order: Vec<i64> = view.items.iter().map(|i| i.position as i64).collect();
        let reach = if k == timed_out {
            order.len() * 3 / 5
        } else {
            order.len()
        };
        let answers: Vec<(i64, Response)> = order[..reach]
            .iter()
            .filter_map(|p| drawn.remove(p).map(|r| (*p, r)))
            .collect();
        skipped += reach - answers.len();
        skipped += order.len() - reach;
        answered += answers.len();
        // Autosave half-way, then submit with the rest (the timer ends the slow one's exam).
        let half = answers.len() / 2;
        let first: svc::Answers = answers[..half].iter().cloned().collect();
        let rest: svc::Answers = answers[half..].iter().cloned().collect();
        web(
            svc::attempt_save(st, &ctx, c.candidate, &first).await,
            "attempt save",
        )?;
        if k == timed_out {
            web(
                svc::attempt_save(st, &ctx, c.candidate, &rest).await,
                "attempt save",
            )?;
            web(
                svc::attempt_submit(st, &ctx, c.candidate, &svc::Answers::new(), "timeout").await,
                "attempt submit",
            )?;
        } else {
            web(
                svc::attempt_submit(st, &ctx, c.candidate, &rest, "candidate").await,
                "attempt submit",
            )?;
        }
    }

    // The written answers, marked against the guide by the demo examiner.
    let (examiner, _) = &people.examiner;
    let queue = web(
        svc::marking_queue(st, examiner, session.id).await,
        "marking queue",
    )?;
    let mut marked = 0;
    for t in queue.iter().filter(|t| t.score.is_none()) {
        let mut rng = Rng::stream(2, (t.candidate_id as u64) << 16 | t.position as u64);
        let score = mark(&mut rng, t.guide.as_deref(), &t.answer, t.points);
        web(
            svc::mark_response(st, examiner, session.id, t.candidate_id, t.position, score).await,
            "marking",
        )?;
        marked += 1;
    }

    // The practical task: two examiners for most candidates; four pairs disagree by more
    // than the session allows and the third examiner settles them; one candidate leaves
    // the current circuit unshorted (the critical safety line) and fails the task.
    let (_, content) = web(svc::task_scale(st, &session, 0).await, "task scale")?;
    let Interaction::Practical { scale } = &content.interaction else {
        bail!("demo {RPM_TASK} is not a practical task");
    };
    let second = &people.teo_examiners[0].0;
    let third = &people.teo_examiners[1].0;
    let (mut double, mut thirds) = (0, 0);
    for (k, c) in sim.iter().enumerate() {
        let mut rng = Rng::stream(3, k as u64);
        let quality = 0.35 + 0.6 / (1.0 + (-1.2 * (c.practical + 0.5)).exp());
        let unsafe_work = k == 7;
        let disagree = matches!(k, 4 | 13 | 22 | 31);
        let single = k % 9 == 8;
        // How well each line of the task was done; the examiners see the same work.
        let done: Vec<f64> = scale
            .criteria
            .iter()
            .map(|_| quality + 0.15 * rng.normal())
            .collect();
        let sheet = |rng: &mut Rng, bias: f64| -> BTreeMap<String, f64> {
            scale
                .criteria
                .iter()
                .zip(&done)
                .map(|(cr, q)| {
                    // A critical line scores 0 only for unsafe work (then the task is 0).
                    let p = match (cr.critical, unsafe_work) {
                        (true, true) => 0.0,
                        (true, false) => criterion_points(rng, (q + bias).max(0.6), cr),
                        _ => criterion_points(rng, q + bias, cr),
                    };
                    (cr.id.clone(), p)
                })
                .collect()
        };
        let comment = unsafe_work.then_some("电流回路未短接即断开连片，安全项不得分");
        let a = sheet(&mut rng, 0.0);
        web(
            svc::practical_score(st, examiner, session.id, c.candidate, 0, &a, comment).await,
            "practical score",
        )?;
        if single {
            continue;
        }
        let b = sheet(&mut rng, if disagree { -0.22 } else { 0.0 });
        web(
            svc::practical_score(st, second, session.id, c.candidate, 0, &b, comment).await,
            "practical score",
        )?;
        double += 1;
        if (scale.total(&a) - scale.total(&b)).abs() > session.disagreement_points {
            let t = sheet(&mut rng, -0.05);
            web(
                svc::practical_score(st, third, session.id, c.candidate, 0, &t, None).await,
                "practical score",
            )?;
            thirds += 1;
        }
    }

    // Training (process) scores from the college, by ticket.
    let tickets: HashMap<i64, String> = web(
        svc::session_candidates(st, &people.college.require().map_err(anyhow_app)?, &session).await,
        "candidates",
    )?
    .into_iter()
    .map(|c| (c.id, c.ticket))
    .collect();
    let mut rng = Rng::stream(4, 0);
    let rows: Vec<(String, Option<f64>)> = sim
        .iter()
        .map(|c| {
            let score = (78.0 + 8.0 * c.theta + 4.0 * rng.normal()).clamp(55.0, 98.0);
            (tickets[&c.candidate].clone(), Some(score.round()))
        })
        .collect();
    web(
        svc::process_scores(st, &people.college, session.id, &rows).await,
        "training scores",
    )?;

    for to in [SessionStatus::Closed, SessionStatus::Released] {
        web(
            svc::session_set_status(st, sgcc, session.id, to).await,
            "session status",
        )?;
    }
    let (_, results) = web(svc::results(st, sgcc, session.id).await, "results")?;
    let passed = results.iter().filter(|r| r.outcome.passed).count();
    let report = web(
        svc::analyze(
            st,
            sgcc,
            RPM,
            Level::Junior,
            Some(session.id),
            xcert_assess::analysis::report::IrtRequest::Rasch,
        )
        .await,
        "item analysis",
    )?;
    eprintln!(
        "demo finished session \"{}\": {} candidates ({answered} answers, {skipped} left blank, one timed out), {marked} written answers marked, {double} double-scored practicals ({thirds} settled by a third examiner), {passed} passed, {} failed; item analysis #{report}",
        session.title,
        sim.len(),
        results.len() - passed
    );
    Ok(session.id)
}

fn anyhow_app(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message("en"))
}

/// The RPM 初级 session of the coming weeks at 国网技术学院, open now: the `candidate`
/// account (刘䶮) and four classmates are registered and can take the theory test.
async fn open_session(
    st: &AppState,
    sgcc: &Ctx,
    people: &People,
    forms: &[xcert_store::FormRow],
    task_id: i64,
) -> Result<()> {
    use chrono::DurationRound;
    let now = chrono::Utc::now();
    let opens = now
        .duration_trunc(chrono::Duration::hours(1))
        .unwrap_or(now);
    let closes = opens + chrono::Duration::days(28);
    let site = st
        .store
        .org_find(COLLEGE)
        .await?
        .context("demo college")?
        .id;
    let mut examiner_ids = vec![people.examiner.1.id];
    examiner_ids.push(people.teo_examiners[0].1.id);
    let session = web(
        svc::session_create(
            st,
            sgcc,
            &svc::SessionInput {
                certificate: RPM.into(),
                level: "初级".into(),
                title: format!("{}年第二批继电保护检修（初级）考核", year_in_beijing(now)),
                site_org_id: Some(site),
                site_name: String::new(),
                opens_at: rfc3339(opens),
                closes_at: rfc3339(closes),
                duration_minutes: 90,
                shuffle_items: true,
                disagreement_points: Some(10.0),
                form_ids: forms.iter().map(|f| f.id).collect(),
                task_item_ids: vec![task_id],
                examiner_ids,
            },
        )
        .await,
        "open session",
    )?;
    let persons: Vec<i64> = OPEN_SESSION
        .iter()
        .map(|no| {
            people
                .by_student_no
                .get(*no)
                .copied()
                .with_context(|| format!("demo student {no}"))
        })
        .collect::<Result<_>>()?;
    let outcomes = web(
        svc::register(st, &people.college, session.id, &persons).await,
        "registration",
    )?;
    if let Some(o) = outcomes.iter().find(|o| o.candidate_id.is_none()) {
        bail!("demo registration refused: {:?}", o.en);
    }
    eprintln!(
        "demo open session \"{}\" until {}: {} candidates registered, `candidate` among them",
        session.title,
        &session.closes_at[..10],
        outcomes.len()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Simulated candidates and examiners

struct Simulated {
    candidate: i64,
    account: UserRow,
    /// Theory ability (θ).
    theta: f64,
    /// Practical skill on the same scale.
    practical: f64,
}

/// splitmix64: a small fixed-seed generator, so the demo is the same on every machine.
struct Rng(u64);

impl Rng {
    /// An independent stream per phase and candidate, so what one draws does not shift
    /// the others (the timed-out candidate's random item order changes only their part).
    fn stream(phase: u64, index: u64) -> Rng {
        let mut r = Rng(0x5eed_2026 ^ phase.wrapping_mul(0xd1b5_4a32_d192_ed03) ^ index);
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform on [0, 1).
    fn f64(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.f64().max(1e-12);
        let v = self.f64();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.f64() * n as f64) as usize % n.max(1)
    }

    /// An index below `n`, the earlier ones likelier (weights n, n−1, …, 1): one
    /// distractor draws most of the wrong answers, as in real papers.
    fn weighted(&mut self, n: usize) -> usize {
        let total = n * (n + 1) / 2;
        let mut r = self.below(total.max(1));
        for i in 0..n {
            let w = n - i;
            if r < w {
                return i;
            }
            r -= w;
        }
        0
    }
}

/// A wrong answer a candidate might write into a blank whose key is `right`.
fn wrong_text(rng: &mut Rng, right: &str) -> String {
    let known: &[(&str, &[&str])] = &[
        ("SV", &["MMS", "GOOSE"]),
        ("GOOSE", &["SV", "MMS"]),
        ("接线", &["操作", "拆线"]),
        ("整定", &["报告", "操作"]),
        ("电力线", &["无线", "光纤"]),
    ];
    if let Some((_, w)) = known.iter().find(|(k, _)| *k == right) {
        return w[rng.below(w.len())].to_string();
    }
    match right.parse::<f64>() {
        Ok(0.0) => "90".into(),
        Ok(x) => {
            let f = [2.0, 0.5, 1.732, 10.0][rng.below(4)];
            let y = (x * f * 100.0).round() / 100.0;
            format!("{y}")
        }
        Err(_) => String::new(),
    }
}

/// How a candidate of ability `theta` answers an item of rated difficulty 1–5 (a 2PL-like
/// chance of knowing it; partial knowledge where the item type allows it).
fn respond(rng: &mut Rng, theta: f64, difficulty: f64, content: &ItemContent) -> Option<Response> {
    let b = (difficulty - 3.0) * 0.8;
    let p = 1.0 / (1.0 + (-1.4 * (theta - b)).exp());
    let knows = |rng: &mut Rng| rng.f64() < p;
    Some(match &content.interaction {
        Interaction::Choice {
            choices, correct, ..
        } => {
            let wrong: Vec<&String> = choices
                .iter()
                .map(|c| &c.id)
                .filter(|id| !correct.contains(id))
                .collect();
            if knows(rng) || wrong.is_empty() {
                Response::Choice(correct.clone())
            } else if content.kind == ItemKind::MultipleChoice {
                if correct.len() > 1 && rng.f64() < 0.55 {
                    // Misses one right option: partial credit.
                    let drop = rng.below(correct.len());
                    Response::Choice(
                        correct
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| *i != drop)
                            .map(|(_, c)| c.clone())
                            .collect(),
                    )
                } else {
                    let mut sel = correct.clone();
                    sel.push(wrong[rng.weighted(wrong.len())].clone());
                    sel.sort();
                    Response::Choice(sel)
                }
            } else {
                Response::Choice(vec![wrong[rng.weighted(wrong.len())].clone()])
            }
        }
        Interaction::TextEntry { blanks } => Response::Text(
            blanks
                .iter()
                .map(|b| {
                    let right = b.accepted.first().cloned().unwrap_or_default();
                    if knows(rng) {
                        right
                    } else {
                        wrong_text(rng, &right)
                    }
                })
                .collect(),
        ),
        Interaction::Match { correct, .. } => {
            let mut pairs = correct.clone();
            if !knows(rng) && pairs.len() > 1 {
                let i = rng.below(pairs.len());
                let j = (i + 1 + rng.below(pairs.len() - 1)) % pairs.len();
                let t = pairs[i].1.clone();
                pairs[i].1 = pairs[j].1.clone();
                pairs[j].1 = t;
            }
            Response::Pairs(pairs)
        }
        Interaction::Order { correct, .. } => {
            let mut order = correct.clone();
            if !knows(rng) && order.len() > 1 {
                let i = rng.below(order.len() - 1);
                order.swap(i, i + 1);
            }
            Response::Order(order)
        }
        Interaction::ExtendedText { guide, .. } => {
            let points = reference_points(guide.as_deref());
            let q = 1.0 / (1.0 + (-1.5 * (theta + 0.3)).exp());
            let k = ((points.len() as f64) * (q + 0.15 * rng.normal())).round();
            let k = k.clamp(0.0, points.len() as f64) as usize;
            if k == 0 {
                Response::Extended("记不清了，大概是先做好安全措施再开始工作。".into())
            } else {
                let mut pick: Vec<usize> = (0..points.len()).collect();
                while pick.len() > k {
                    pick.remove(rng.below(pick.len()));
                }
                let body: Vec<&str> = pick.iter().map(|i| points[*i].as_str()).collect();
                Response::Extended(format!("答：{}。", body.join("；")))
            }
        }
        Interaction::Practical { .. } => return None,
    })
}

/// The points of a written answer's reference answer (the guide's 参考答案 paragraph).
fn reference_points(guide: Option<&str>) -> Vec<String> {
    let text = xcert_assess::markup::plain_text(guide.unwrap_or(""));
    let reference = text
        .split("参考答案：")
        .nth(1)
        .unwrap_or("")
        .split("评分要点")
        .next()
        .unwrap_or("");
    reference
        .split(['；', '。', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// An examiner's mark for a written answer: the share of the reference points it makes,
/// give or take half a point, in half points.
fn mark(rng: &mut Rng, guide: Option<&str>, answer: &str, points: f64) -> f64 {
    let reference = reference_points(guide);
    if reference.is_empty() || answer.trim().is_empty() {
        return 0.0;
    }
    let made = reference
        .iter()
        .filter(|p| answer.contains(p.as_str()))
        .count();
    let raw = points * made as f64 / reference.len() as f64 + (rng.f64() - 0.5);
    ((raw * 2.0).round() / 2.0).clamp(0.0, points)
}

/// An examiner's points on one line of the observation scale for a performance of
/// `quality` (0–1): the nearest descriptor when the line has them, else whole points.
fn criterion_points(rng: &mut Rng, quality: f64, c: &xcert_assess::item::Criterion) -> f64 {
    let raw = (quality + 0.025 * rng.normal()).clamp(0.0, 1.0) * c.points;
    if c.descriptors.is_empty() {
        raw.round()
    } else {
        c.descriptors
            .iter()
            .map(|d| d.points)
            .min_by(|a, b| (a - raw).abs().total_cmp(&(b - raw).abs()))
            .unwrap_or(raw.round())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_banks_read_cleanly_and_hold_every_item_type() {
        for (file, text) in [
            ("items_sgcc_rpm.csv", RPM_ITEMS),
            ("items_sgcc_emmc.csv", EMMC_ITEMS),
        ] {
            let items = template_items(file, text).unwrap();
            for kind in [
                ItemKind::SingleChoice,
                ItemKind::MultipleChoice,
                ItemKind::TrueFalse,
                ItemKind::TextEntry,
                ItemKind::Matching,
                ItemKind::Ordering,
                ItemKind::ExtendedText,
                ItemKind::PracticalTask,
            ] {
                assert!(
                    items.iter().any(|(i, _)| i.content.kind == kind),
                    "{file} has no {kind:?}"
                );
            }
            let mut idents: Vec<&str> = items.iter().map(|(i, _)| i.meta.ident.as_str()).collect();
            idents.sort();
            idents.dedup();
            assert_eq!(idents.len(), items.len(), "{file}: identifiers repeat");
        }
    }

    #[test]
    fn every_written_item_has_reference_points_to_mark_against() {
        for (file, text) in [
            ("items_sgcc_rpm.csv", RPM_ITEMS),
            ("items_sgcc_emmc.csv", EMMC_ITEMS),
        ] {
            for (item, _) in template_items(file, text).unwrap() {
                if let Interaction::ExtendedText { guide, .. } = &item.content.interaction {
                    assert!(
                        reference_points(guide.as_deref()).len() >= 3,
                        "{file} {}",
                        item.meta.ident
                    );
                }
            }
        }
    }

    #[test]
    fn the_finished_window_holds_now_and_ends_within_the_hour() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-12T06:58:10Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        // 06:58 + 5 min = 07:03 → the hour 07:00 → closes 08:00, opens 06:00.
        assert_eq!(
            finished_window(now),
            ("2026-03-12T06:00:00Z".into(), "2026-03-12T08:00:00Z".into())
        );
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-12T06:10:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            finished_window(now),
            ("2026-03-12T05:00:00Z".into(), "2026-03-12T07:00:00Z".into())
        );
    }
}
