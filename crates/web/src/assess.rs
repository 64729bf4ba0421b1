//! Assessment on the server: the operations pages and API share for question banks,
//! exam sessions, candidates' theory attempts, practical scoring and results — each
//! authorized by the single access rule — plus the cache of frozen forms and the sweep
//! that submits attempts whose time ran out.

use crate::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, invalid};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use xcert_assess::delivery::{DeliveredItem, FormEntry, deliver};
use xcert_assess::item::{Interaction, Item, ItemKind, Response, ReviewStatus};
use xcert_domain::FieldError;
use xcert_domain::access::{Action, Principal, Role, authorize};
use xcert_domain::framework::Level;
use xcert_store::{
    AttemptState, CandidateRow, CertificateRow, FormContent, ItemFilter, ItemRow, ItemVersionRow,
    NewSession, ResultRow, SessionRow, SessionScope, SessionStatus, TaskStanding, now,
};

type R<T> = Result<T, AppError>;

/// Forms never change once assembled (their items point at fixed versions), so their
/// content is read once and shared by every candidate's request.
#[derive(Default)]
pub struct FormCache {
    forms: Mutex<HashMap<i64, Arc<FormContent>>>,
}

impl FormCache {
    pub async fn get(&self, st: &AppState, id: i64) -> R<Arc<FormContent>> {
        if let Some(f) = self
            .forms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
        {
            return Ok(f.clone());
        }
        let f = Arc::new(st.store.form_content(id).await?);
        self.forms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, f.clone());
        Ok(f)
    }
}

// ---------------------------------------------------------------------------------------
// Question bank

/// A certificate whose bank the caller keeps (its TEO's staff, the ministry). Others get
/// "not found": a bank's existence is not public.
pub async fn bank_cert(st: &AppState, ctx: &Ctx, code: &str) -> R<(Principal, CertificateRow)> {
    let p = ctx.require()?;
    let cert = st.store.certificate_by_code(code).await?;
    if authorize(
        Some(&p),
        &Action::ManageItemBank {
            teo_id: cert.teo_id,
        },
    )
    .is_err()
    {
        return Err(AppError::NotFound(format!("question bank of {code}")));
    }
    Ok((p, cert))
}

/// Certificates whose banks the caller keeps.
pub async fn bank_certificates(st: &AppState, ctx: &Ctx) -> R<Vec<CertificateRow>> {
    let p = ctx.require()?;
    match (p.role, p.org_id) {
        (Role::MinistryAdmin, _) => {
            let mut f = xcert_store::CatalogueFilter {
                limit: Some(500),
                all_statuses: true,
                ..Default::default()
            };
            f.all_statuses = true;
            Ok(st.store.catalogue(&f).await?.0)
        }
        (Role::TeoStaff, Some(teo)) => Ok(st.store.certificates_of_teo(teo).await?),
        _ => Err(AppError::Forbidden(xcert_domain::access::Denied {
            en: "question banks are kept by their TEO".into(),
            zh: "题库由培训评价组织管理".into(),
        })),
    }
}

pub async fn items(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    f: &ItemFilter,
) -> R<(CertificateRow, Vec<ItemRow>, i64)> {
    let (_, cert) = bank_cert(st, ctx, code).await?;
    let (rows, total) = st.store.items_list(cert.id, f).await?;
    Ok((cert, rows, total))
}

/// An item of a bank with one of its versions (the current one by default).
pub async fn item_detail(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    id: i64,
    version: Option<i64>,
) -> R<(CertificateRow, ItemRow, ItemVersionRow)> {
    let (_, cert) = bank_cert(st, ctx, code).await?;
    let item = st.store.item_get(id).await?;
    if item.certificate_id != cert.id {
        return Err(AppError::NotFound(format!("item {id}")));
    }
    let v = st.store.item_version(id, version).await?;
    Ok((cert, item, v))
}

/// Check an item's requirement codes against the certificate's current standard, so a
/// tag always names a real skill requirement.
async fn check_tags(st: &AppState, cert: &CertificateRow, item: &Item) -> R<()> {
    if item.meta.requirements.is_empty() {
        return Ok(());
    }
    let Some(std) = st.store.standard_get(cert.id, None, true).await? else {
        return Err(invalid(
            "requirements",
            "no_standard",
            "the certificate has no skill standard to tag against yet",
            "该证书尚无职业技能等级标准，无法标注技能要求",
        ));
    };
    let codes: std::collections::HashSet<&str> = std
        .tree
        .areas
        .iter()
        .flat_map(|a| &a.tasks)
        .flat_map(|t| &t.requirements)
        .map(|r| r.code.as_str())
        .collect();
    let unknown: Vec<&str> = item
        .meta
        .requirements
        .iter()
        .map(|s| s.trim())
        .filter(|c| !codes.contains(c))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(invalid(
            "requirements",
            "unknown_requirement",
            format!(
                "{} {} not a skill requirement of {}'s standard",
                unknown.join(", "),
                if unknown.len() == 1 { "is" } else { "are" },
                cert.code
            ),
            format!(
                "{} 不是{}标准中的职业技能要求",
                unknown.join("、"),
                cert.name_zh
            ),
        ))
    }
}

/// Create or update an item (by its identifier in the bank).
pub async fn item_save(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    item: &Item,
    status: Option<ReviewStatus>,
    note: Option<&str>,
) -> R<(ItemRow, xcert_store::UpsertOutcome)> {
    let (p, cert) = bank_cert(st, ctx, code).await?;
    check_tags(st, &cert, item).await?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let r = tx.item_upsert(cert.id, item, status, note).await?;
    tx.commit().await?;
    Ok(r)
}

pub async fn item_set_status(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    id: i64,
    status: ReviewStatus,
) -> R<ItemRow> {
    let (p, cert) = bank_cert(st, ctx, code).await?;
    let item = st.store.item_get(id).await?;
    if item.certificate_id != cert.id {
        return Err(AppError::NotFound(format!("item {id}")));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.item_set_status(id, status).await?;
    tx.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------------------------------
// Exam sessions

/// What a session form carries (page or API).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SessionInput {
    pub certificate: String,
    pub level: String,
    pub title: String,
    #[serde(default)]
    pub site_org_id: Option<i64>,
    #[serde(default)]
    pub site_name: String,
    pub opens_at: String,
    pub closes_at: String,
    pub duration_minutes: i64,
    #[serde(default = "yes")]
    pub shuffle_items: bool,
    #[serde(default)]
    pub disagreement_points: Option<f64>,
    pub form_ids: Vec<i64>,
    #[serde(default)]
    pub task_item_ids: Vec<i64>,
    #[serde(default)]
    pub examiner_ids: Vec<i64>,
}

fn yes() -> bool {
    true
}

pub async fn session_create(st: &AppState, ctx: &Ctx, input: &SessionInput) -> R<SessionRow> {
    let cert = st.store.certificate_by_code(&input.certificate).await?;
    let p = ctx.authorize(&Action::ManageExamSession {
        teo_id: cert.teo_id,
    })?;
    let mut errs = Vec::new();
    let level = Level::parse("level", &input.level)
        .map_err(|e| errs.push(e))
        .ok();
    if let Some(l) = level
        && !cert.levels.contains(&l)
    {
        errs.push(FieldError::new(
            "level",
            "level_not_offered",
            format!("{} is not offered at {} level", cert.code, l.en()),
            format!("{}不设{}", cert.name_zh, l.zh()),
        ));
    }
    let opens = xcert_store::parse_time("opens_at", &input.opens_at)
        .map_err(|e| errs.push(e))
        .ok();
    let closes = xcert_store::parse_time("closes_at", &input.closes_at)
        .map_err(|e| errs.push(e))
        .ok();
    let site_name = match input.site_org_id {
        Some(id) => {
            let o = st.store.org_get(id).await?;
            if o.kind != xcert_domain::org::OrgKind::College {
                errs.push(FieldError::new(
                    "site_org_id",
                    "not_college",
                    "an exam site is hosted by a pilot college",
                    "考核站点应设在试点院校",
                ));
            }
            if input.site_name.trim().is_empty() {
                format!("{}考核站点", o.name_zh)
            } else {
                input.site_name.trim().to_string()
            }
        }
        None => input.site_name.trim().to_string(),
    };
    if site_name.is_empty() {
        errs.push(FieldError::required("site_name"));
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let level = level.unwrap_or(Level::Junior);
    let rule = st.store.result_rule(cert.id, level).await?;
    let ns = NewSession {
        certificate_id: cert.id,
        level,
        title: input.title.clone(),
        site_org_id: input.site_org_id,
        site_name,
        opens_at: opens.unwrap_or_default(),
        closes_at: closes.unwrap_or_default(),
        duration_minutes: input.duration_minutes,
        shuffle_items: input.shuffle_items,
        disagreement_points: input.disagreement_points.unwrap_or(10.0),
        form_ids: input.form_ids.clone(),
        task_item_ids: input.task_item_ids.clone(),
        examiner_ids: input.examiner_ids.clone(),
        rule,
    };
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.session_create(&ns).await?;
    tx.commit().await?;
    Ok(row)
}

/// The session, if the caller may see it (others: not found).
pub async fn session_for(st: &AppState, ctx: &Ctx, id: i64) -> R<(Principal, SessionRow)> {
    let p = ctx.require()?;
    let s = st.store.session_get(id).await?;
    let sees = authorize(Some(&p), &view_action(&s)).is_ok()
        || authorize(
            Some(&p),
            &Action::ScoreSession {
                assigned: s.is_examiner(p.user_id),
            },
        )
        .is_ok();
    if !sees {
        return Err(AppError::NotFound(format!("exam session {id}")));
    }
    Ok((p, s))
}

fn view_action(s: &SessionRow) -> Action<'_> {
    Action::ViewExamSession {
        teo_id: s.teo_id,
        site_college_id: s.site_org_id,
        site_province: s.site_province.as_deref(),
    }
}

/// Whether the caller runs this session (its TEO or the ministry).
pub fn manages(p: &Principal, s: &SessionRow) -> bool {
    authorize(Some(p), &Action::ManageExamSession { teo_id: s.teo_id }).is_ok()
}

/// Sessions in the caller's view.
pub async fn sessions_visible(st: &AppState, ctx: &Ctx) -> R<Vec<SessionRow>> {
    let p = ctx.require()?;
    let scope = match (p.role, p.org_id) {
        (Role::MinistryAdmin, _) => SessionScope::default(),
        (Role::TeoStaff, Some(t)) => SessionScope {
            teo_id: Some(t),
            ..Default::default()
        },
        (Role::CollegeStaff, Some(c)) => SessionScope {
            site_org_id: Some(c),
            ..Default::default()
        },
        (Role::ProvinceAdmin, _) => SessionScope {
            site_province: Some(p.province.clone().unwrap_or_default()),
            ..Default::default()
        },
        (Role::Examiner, _) => SessionScope {
            examiner_id: Some(p.user_id),
            ..Default::default()
        },
        _ => {
            return Err(AppError::Forbidden(xcert_domain::access::Denied {
                en: "your role does not see exam sessions".into(),
                zh: "您的角色无权查看考核".into(),
            }));
        }
    };
    Ok(st.store.sessions_list(&scope).await?)
}

/// A session's candidates as the caller may see them: all for its TEO, examiners and
/// the province; a college its own students.
pub async fn session_candidates(
    st: &AppState,
    p: &Principal,
    s: &SessionRow,
) -> R<Vec<CandidateRow>> {
    let college = (p.role == Role::CollegeStaff).then_some(p.org_id.unwrap_or(-1));
    Ok(st.store.candidates(s.id, college).await?)
}

/// Register students for a session. Each person is authorized on its own; the answer
/// says per person what happened.
pub async fn register(
    st: &AppState,
    ctx: &Ctx,
    session_id: i64,
    person_ids: &[i64],
) -> R<Vec<RegistrationOutcome>> {
    let (p, s) = session_for(st, ctx, session_id).await?;
    let mut out = Vec::new();
    let mut tx = st.store.begin_write(&p.username).await?;
    for pid in person_ids {
        let person = match tx.person_get(*pid).await {
            Ok(x) => x,
            Err(_) => {
                out.push(RegistrationOutcome::refused(
                    *pid,
                    "no such student",
                    "无此学生",
                ));
                continue;
            }
        };
        let act = Action::RegisterCandidate {
            teo_id: s.teo_id,
            site_college_id: s.site_org_id,
            student_college_id: person.college_id,
        };
        if let Err(d) = authorize(Some(&p), &act) {
            out.push(RegistrationOutcome::refused(*pid, &d.en, &d.zh));
            continue;
        }
        let (c, created) = tx.candidate_register(s.id, *pid).await?;
        out.push(RegistrationOutcome {
            person_id: *pid,
            candidate_id: Some(c.id),
            ticket: Some(c.ticket),
            created,
            en: None,
            zh: None,
        });
    }
    tx.commit().await?;
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct RegistrationOutcome {
    pub person_id: i64,
    pub candidate_id: Option<i64>,
    pub ticket: Option<String>,
    pub created: bool,
    pub en: Option<String>,
    pub zh: Option<String>,
}

impl RegistrationOutcome {
    fn refused(person_id: i64, en: &str, zh: &str) -> Self {
        RegistrationOutcome {
            person_id,
            candidate_id: None,
            ticket: None,
            created: false,
            en: Some(en.into()),
            zh: Some(zh.into()),
        }
    }
}

pub async fn session_set_status(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    to: SessionStatus,
) -> R<SessionRow> {
    let (p, s) = session_for(st, ctx, id).await?;
    ctx.authorize(&Action::ManageExamSession { teo_id: s.teo_id })?;
    let mut tx = st.store.begin_write(&p.username).await?;
    if to == SessionStatus::Closed {
        // Closing ends every attempt still open: what was saved is what counts.
        let open: Vec<CandidateRow> = st
            .store
            .candidates(id, None)
            .await?
            .into_iter()
            .filter(|c| c.state == AttemptState::InProgress)
            .collect();
        let at = now();
        for c in open {
            let form = st.forms.get(st, c.form_id).await?;
            tx.attempt_submit(c.id, &form, &[], "session_closed", &at)
                .await?;
        }
    }
    if to == SessionStatus::Released {
        let standings = st.store.practical_standings(&s).await?;
        tx.results_compute(&s, &standings).await?;
    }
    let row = tx.session_set_status(id, to).await?;
    tx.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------------------------------
// The candidate's theory attempt

/// A candidate's attempt as their page and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptView {
    pub candidate: CandidateRow,
    pub session: SessionSummary,
    /// Items in this candidate's order (only once started).
    pub items: Vec<DeliveredItem>,
    /// Saved responses by form position.
    pub responses: BTreeMap<i64, Response>,
    /// Milliseconds left, by the server's clock (None before the start).
    pub remaining_ms: Option<i64>,
    pub may_start: bool,
    pub max_points: f64,
}

/// A session as its candidates see it.
pub type SessionSummary = xcert_store::SessionBrief;

/// The attempt of the signed-in candidate (others: not found).
async fn own_attempt(st: &AppState, ctx: &Ctx, candidate_id: i64) -> R<(Principal, CandidateRow)> {
    let p = ctx.require()?;
    let c = st.store.candidate_get(candidate_id).await?;
    if authorize(
        Some(&p),
        &Action::OwnAttempt {
            person_id: c.person_id,
        },
    )
    .is_err()
    {
        return Err(AppError::NotFound(format!("exam {candidate_id}")));
    }
    Ok((p, c))
}

fn remaining_ms(deadline: Option<&str>, at: &str) -> Option<i64> {
    let d = chrono::DateTime::parse_from_rfc3339(deadline?).ok()?;
    let a = chrono::DateTime::parse_from_rfc3339(at).ok()?;
    Some((d - a).num_milliseconds().max(0))
}

async fn attempt_view_of(st: &AppState, c: CandidateRow) -> R<AttemptView> {
    let at = now();
    let s = st.store.session_brief(c.session_id).await?;
    let form = st.forms.get(st, c.form_id).await?;
    let max_points = form
        .items
        .iter()
        .filter(|(_, content, _)| content.kind.is_theory())
        .map(|(fi, _, _)| fi.points)
        .sum();
    let (items, responses) = if c.state == AttemptState::InProgress {
        let entries: Vec<FormEntry<'_>> = form
            .items
            .iter()
            .map(|(fi, content, testlet)| FormEntry {
                position: fi.position as u32,
                points: fi.points,
                testlet: testlet.as_deref(),
                content,
            })
            .collect();
        let items = deliver(&entries, c.seed, s.shuffle_items);
        let responses = st
            .store
            .responses(c.id)
            .await?
            .into_iter()
            .map(|r| (r.position, r.response))
            .collect();
        (items, responses)
    } else {
        (Vec::new(), BTreeMap::new())
    };
    Ok(AttemptView {
        remaining_ms: if c.state == AttemptState::InProgress {
            remaining_ms(c.deadline_at.as_deref(), &at)
        } else {
            None
        },
        may_start: c.state == AttemptState::Registered && s.open_at(&at),
        session: s,
        candidate: c,
        items,
        responses,
        max_points,
    })
}

/// The candidate's own exams, newest first.
pub async fn my_attempts(st: &AppState, ctx: &Ctx) -> R<Vec<(CandidateRow, SessionSummary)>> {
    let p = ctx.require()?;
    let Some(person) = p.person_id.filter(|_| p.role == Role::Candidate) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for c in st.store.attempts_of_person(person).await? {
        let s = st.store.session_brief(c.session_id).await?;
        out.push((c, s));
    }
    Ok(out)
}

/// The attempt page's data. An attempt whose time has run out is submitted first.
pub async fn attempt_view(st: &AppState, ctx: &Ctx, candidate_id: i64) -> R<AttemptView> {
    let (p, c) = own_attempt(st, ctx, candidate_id).await?;
    let c = submit_if_overdue(st, &p.username, c).await?;
    attempt_view_of(st, c).await
}

pub async fn attempt_start(st: &AppState, ctx: &Ctx, candidate_id: i64) -> R<AttemptView> {
    let (p, c) = own_attempt(st, ctx, candidate_id).await?;
    let c = submit_if_overdue(st, &p.username, c).await?;
    let c = if c.state == AttemptState::Registered {
        let mut tx = st.store.begin_write(&p.username).await?;
        let c = tx.attempt_start(candidate_id, &now()).await?;
        tx.commit().await?;
        c
    } else {
        c
    };
    attempt_view_of(st, c).await
}

/// Answers as the page or API sends them: form position → response.
pub type Answers = BTreeMap<i64, Response>;

/// What a save or submit tells the client.
#[derive(Debug, Clone, Serialize)]
pub struct SaveAck {
    pub state: AttemptState,
    pub saves: i64,
    pub saved: usize,
    pub remaining_ms: Option<i64>,
    pub theory_earned: Option<f64>,
    pub theory_possible: Option<f64>,
    pub submitted_at: Option<String>,
}

fn ack(c: &CandidateRow, saved: usize, at: &str) -> SaveAck {
    SaveAck {
        state: c.state,
        saves: c.saves,
        saved,
        remaining_ms: if c.state == AttemptState::InProgress {
            remaining_ms(c.deadline_at.as_deref(), at)
        } else {
            None
        },
        theory_earned: c.theory_earned,
        theory_possible: c.theory_possible,
        submitted_at: c.submitted_at.clone(),
    }
}

pub async fn attempt_save(
    st: &AppState,
    ctx: &Ctx,
    candidate_id: i64,
    answers: &Answers,
) -> R<SaveAck> {
    let (p, c) = own_attempt(st, ctx, candidate_id).await?;
    let form = st.forms.get(st, c.form_id).await?;
    let list: Vec<(i64, Response)> = answers.iter().map(|(k, v)| (*k, v.clone())).collect();
    let at = now();
    let mut tx = st.store.begin_write(&p.username).await?;
    let c = tx.attempt_save(candidate_id, &form, &list, &at).await?;
    tx.commit().await?;
    Ok(ack(&c, list.len(), &at))
}

/// Submit (safe to repeat). `reason` is `candidate` or `timeout` (the page's timer).
pub async fn attempt_submit(
    st: &AppState,
    ctx: &Ctx,
    candidate_id: i64,
    answers: &Answers,
    reason: &str,
) -> R<SaveAck> {
    let (p, c) = own_attempt(st, ctx, candidate_id).await?;
    if c.state == AttemptState::Submitted {
        return Ok(ack(&c, 0, &now()));
    }
    let form = st.forms.get(st, c.form_id).await?;
    let list: Vec<(i64, Response)> = answers.iter().map(|(k, v)| (*k, v.clone())).collect();
    let reason = if reason == "timeout" {
        "timeout"
    } else {
        "candidate"
    };
    let at = now();
    let mut tx = st.store.begin_write(&p.username).await?;
    let c = tx
        .attempt_submit(candidate_id, &form, &list, reason, &at)
        .await?;
    tx.commit().await?;
    Ok(ack(&c, list.len(), &at))
}

async fn submit_if_overdue(st: &AppState, actor: &str, c: CandidateRow) -> R<CandidateRow> {
    let at = now();
    let overdue = c.state == AttemptState::InProgress
        && c.deadline_at
            .as_deref()
            .is_some_and(|d| xcert_store::add_secs(d, xcert_store::SAVE_GRACE_SECS) < at);
    if !overdue {
        return Ok(c);
    }
    let form = st.forms.get(st, c.form_id).await?;
    let mut tx = st.store.begin_write(actor).await?;
    let c = tx.attempt_submit(c.id, &form, &[], "timeout", &at).await?;
    tx.commit().await?;
    Ok(c)
}

/// Submit every attempt whose time ran out (a candidate who closed the page and never
/// came back). Returns how many were submitted.
pub async fn sweep_overdue(st: &AppState) -> R<usize> {
    let ids = st.store.attempts_overdue(&now()).await?;
    let mut n = 0;
    for id in ids {
        let c = st.store.candidate_get(id).await?;
        if c.state == AttemptState::InProgress {
            submit_if_overdue(st, "system", c).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// Run the sweep every 15 seconds for the life of the server.
pub fn spawn_sweeper(st: &AppState) {
    let st = st.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(15));
        loop {
            tick.tick().await;
            match sweep_overdue(&st).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(submitted = n, "submitted attempts whose time ran out"),
                Err(e) => tracing::warn!(error = e.message("en"), "attempt sweep failed"),
            }
        }
    });
}

// ---------------------------------------------------------------------------------------
// Scoring: practical tasks, written answers, training scores

/// The examiner's view of a session: candidates, tasks and who scored what.
#[derive(Debug, Clone, Serialize)]
pub struct ScoringSheet {
    pub session: SessionRow,
    pub candidates: Vec<CandidateRow>,
    pub standings: Vec<TaskStanding>,
    /// How well the examiners agree, per task (where candidates were double-scored).
    pub agreement: Vec<TaskAgreement>,
    /// (candidate id, task position) → this examiner's criteria points.
    pub mine: BTreeMap<String, BTreeMap<String, f64>>,
}

async fn scoring_session(st: &AppState, ctx: &Ctx, id: i64) -> R<(Principal, SessionRow)> {
    let (p, s) = session_for(st, ctx, id).await?;
    ctx.authorize(&Action::ScoreSession {
        assigned: s.is_examiner(p.user_id),
    })?;
    Ok((p, s))
}

pub async fn scoring_sheet(st: &AppState, ctx: &Ctx, session_id: i64) -> R<ScoringSheet> {
    let (p, s) = session_for(st, ctx, session_id).await?;
    if !sees_scoring(&p, &s) {
        return Err(AppError::Forbidden(xcert_domain::access::Denied {
            en: "the scoring sheet is for the session's examiners and those who run it".into(),
            zh: "评分表仅供本场考评员和考核组织方查看".into(),
        }));
    }
    let candidates = st.store.candidates(s.id, None).await?;
    let standings = st.store.practical_standings(&s).await?;
    let mine = st
        .store
        .practical_scores(s.id)
        .await?
        .into_iter()
        .filter(|x| x.examiner_id == p.user_id)
        .map(|x| {
            (
                format!("{}/{}", x.candidate_id, x.task_position),
                x.criteria,
            )
        })
        .collect();
    let agreement = agreement(st, &s).await?;
    Ok(ScoringSheet {
        session: s,
        candidates,
        standings,
        agreement,
        mine,
    })
}

/// The observation scale of a session's task.
pub async fn task_scale(
    st: &AppState,
    s: &SessionRow,
    position: i64,
) -> R<(xcert_store::SessionTask, xcert_assess::item::ItemContent)> {
    let task = s
        .tasks
        .iter()
        .find(|t| t.position == position)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("task {position}")))?;
    let v = st
        .store
        .item_version(task.item_id, Some(task.version))
        .await?;
    Ok((task, v.content))
}

pub async fn practical_score(
    st: &AppState,
    ctx: &Ctx,
    session_id: i64,
    candidate_id: i64,
    task_position: i64,
    criteria: &BTreeMap<String, f64>,
    comment: Option<&str>,
) -> R<f64> {
    let (p, s) = scoring_session(st, ctx, session_id).await?;
    let c = st.store.candidate_get(candidate_id).await?;
    if c.session_id != s.id {
        return Err(AppError::NotFound(format!("candidate {candidate_id}")));
    }
    if s.status == SessionStatus::Released {
        return Err(invalid(
            "session",
            "released",
            "results are released; reopen the session (close it again) to change scores",
            "成绩已发布；如需改分，请先将考核改回“已结束考试”",
        ));
    }
    let (_, content) = task_scale(st, &s, task_position).await?;
    let Interaction::Practical { scale } = &content.interaction else {
        return Err(AppError::Internal("session task is not practical".into()));
    };
    let mut tx = st.store.begin_write(&p.username).await?;
    let total = tx
        .practical_score_put(
            candidate_id,
            task_position,
            p.user_id,
            scale,
            criteria,
            comment,
        )
        .await?;
    tx.commit().await?;
    Ok(total)
}

/// Mark a written (extended text) answer: the session's examiners.
pub async fn mark_response(
    st: &AppState,
    ctx: &Ctx,
    session_id: i64,
    candidate_id: i64,
    position: i64,
    score: f64,
) -> R<CandidateRow> {
    let (p, s) = scoring_session(st, ctx, session_id).await?;
    let c = st.store.candidate_get(candidate_id).await?;
    if c.session_id != s.id {
        return Err(AppError::NotFound(format!("candidate {candidate_id}")));
    }
    let form = st.forms.get(st, c.form_id).await?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let c = tx
        .response_mark(candidate_id, &form, position, score)
        .await?;
    tx.commit().await?;
    Ok(c)
}

/// Written answers waiting for a marker in a session: (candidate, position, item stem,
/// guide, the answer text, points).
#[derive(Debug, Clone, Serialize)]
pub struct MarkingTask {
    pub candidate_id: i64,
    pub ticket: String,
    pub position: i64,
    pub stem: String,
    pub guide: Option<String>,
    pub answer: String,
    pub points: f64,
    pub score: Option<f64>,
}

pub async fn marking_queue(st: &AppState, ctx: &Ctx, session_id: i64) -> R<Vec<MarkingTask>> {
    let (_, s) = scoring_session(st, ctx, session_id).await?;
    let mut out = Vec::new();
    for c in st.store.candidates(s.id, None).await? {
        if c.state != AttemptState::Submitted {
            continue;
        }
        let form = st.forms.get(st, c.form_id).await?;
        let written: Vec<_> = form
            .items
            .iter()
            .filter(|(_, content, _)| content.kind == ItemKind::ExtendedText)
            .collect();
        if written.is_empty() {
            continue;
        }
        let responses = st.store.responses(c.id).await?;
        for (fi, content, _) in written {
            let r = responses.iter().find(|r| r.position == fi.position);
            let answer = match r.map(|r| &r.response) {
                Some(Response::Extended(t)) => t.clone(),
                _ => String::new(),
            };
            let guide = match &content.interaction {
                Interaction::ExtendedText { guide, .. } => guide.clone(),
                _ => None,
            };
            out.push(MarkingTask {
                candidate_id: c.id,
                ticket: c.ticket.clone(),
                position: fi.position,
                stem: content.stem.clone(),
                guide,
                answer,
                points: fi.points,
                score: r.and_then(|r| r.score),
            });
        }
    }
    Ok(out)
}

/// Training (process) scores by ticket number, from the college or the TEO. Every row is
/// checked before any is written; errors name the row.
pub async fn process_scores(
    st: &AppState,
    ctx: &Ctx,
    session_id: i64,
    rows: &[(String, Option<f64>)],
) -> R<usize> {
    let (p, s) = session_for(st, ctx, session_id).await?;
    let cands = st.store.candidates(s.id, None).await?;
    let mut errs = Vec::new();
    let mut todo = Vec::new();
    for (i, (ticket, score)) in rows.iter().enumerate() {
        let field = format!("row {}", i + 1);
        let Some(c) = cands.iter().find(|c| c.ticket == ticket.trim()) else {
            errs.push(FieldError::new(
                &field,
                "no_such_ticket",
                format!("no candidate with ticket {ticket} in this session"),
                format!("本场考核没有准考证号为 {ticket} 的考生"),
            ));
            continue;
        };
        let act = Action::RegisterCandidate {
            teo_id: s.teo_id,
            site_college_id: s.site_org_id,
            student_college_id: c.college_id,
        };
        if let Err(d) = authorize(Some(&p), &act) {
            errs.push(FieldError::new(&field, "forbidden", d.en, d.zh));
            continue;
        }
        if let Some(v) = score
            && !(0.0..=100.0).contains(v)
        {
            errs.push(FieldError::new(
                &field,
                "out_of_range",
                format!("{v} is outside 0–100"),
                format!("{v} 超出 0–100"),
            ));
            continue;
        }
        todo.push((c.id, *score));
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    for (id, score) in &todo {
        tx.process_score_set(*id, *score).await?;
    }
    tx.commit().await?;
    Ok(todo.len())
}

// ---------------------------------------------------------------------------------------
// Results

/// Results as the caller may see them: a college its own students, the TEO and province
/// all. Before release only those who run or supervise the session see them.
pub async fn results(st: &AppState, ctx: &Ctx, session_id: i64) -> R<(SessionRow, Vec<ResultRow>)> {
    let (p, s) = session_for(st, ctx, session_id).await?;
    authorize(Some(&p), &view_action(&s))?;
    if !sees_results(&p, &s) {
        return Err(AppError::Forbidden(xcert_domain::access::Denied {
            en: "results are shown to the college once released".into(),
            zh: "成绩发布后院校方可查看".into(),
        }));
    }
    let college = (p.role == Role::CollegeStaff).then_some(p.org_id.unwrap_or(-1));
    let rows = st.store.results(s.id, college).await?;
    Ok((s, rows))
}

/// Compute results now (before release, to check them).
pub async fn results_compute(st: &AppState, ctx: &Ctx, session_id: i64) -> R<(usize, usize)> {
    let (p, s) = session_for(st, ctx, session_id).await?;
    ctx.authorize(&Action::ManageExamSession { teo_id: s.teo_id })?;
    let standings = st.store.practical_standings(&s).await?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let r = tx.results_compute(&s, &standings).await?;
    tx.commit().await?;
    Ok(r)
}

/// The candidate's own result, once released.
pub async fn my_result(
    st: &AppState,
    ctx: &Ctx,
    candidate_id: i64,
) -> R<Option<xcert_assess::results::Outcome>> {
    let (_, c) = own_attempt(st, ctx, candidate_id).await?;
    let s = st.store.session_get(c.session_id).await?;
    if s.status != SessionStatus::Released {
        return Ok(None);
    }
    Ok(st
        .store
        .results(s.id, None)
        .await?
        .into_iter()
        .find(|r| r.candidate.id == c.id)
        .map(|r| r.outcome))
}

/// The pass list (合格名单) of a released session as an .xlsx: the input of certificate
/// issuance.
pub fn results_xlsx(s: &SessionRow, rows: &[ResultRow], only_passed: bool) -> R<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(if only_passed {
        "合格名单"
    } else {
        "成绩"
    })
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let bold = Format::new().set_bold();
    let headers = [
        "准考证号",
        "姓名",
        "身份证号（脱敏）",
        "院校",
        "证书代码",
        "证书名称",
        "等级",
        "过程性评价",
        "理论考试",
        "实操考核",
        "总评",
        "是否合格",
        "未合格原因",
        "考核",
        "考核日期",
    ];
    let xe = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.to_string());
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(xe)?;
    }
    for (r, row) in (1u32..).zip(rows.iter().filter(|x| !only_passed || x.outcome.passed)) {
        let c = &row.candidate;
        let o = &row.outcome;
        let texts = [
            c.ticket.as_str(),
            c.name.as_str(),
            c.id_masked.as_str(),
            c.college_name.as_str(),
            s.certificate_code.as_str(),
            s.certificate_name.as_str(),
            s.level.zh(),
        ];
        for (i, t) in texts.iter().enumerate() {
            ws.write_string(r, i as u16, *t).map_err(xe)?;
        }
        for (i, v) in [o.process, o.theory, o.practical, o.total]
            .iter()
            .enumerate()
        {
            if let Some(v) = v {
                ws.write_number(r, 7 + i as u16, (v * 100.0).round() / 100.0)
                    .map_err(xe)?;
            }
        }
        ws.write_string(r, 11, if o.passed { "合格" } else { "不合格" })
            .map_err(xe)?;
        let why: Vec<&str> = o.shortfalls.iter().map(|x| x.zh()).collect();
        ws.write_string(r, 12, why.join("；")).map_err(xe)?;
        ws.write_string(r, 13, &s.title).map_err(xe)?;
        ws.write_string(r, 14, s.opens_at.get(..10).unwrap_or(""))
            .map_err(xe)?;
    }
    ws.autofit();
    wb.save_to_buffer().map_err(xe)
}

/// Set the results rule (weights, pass marks) of a certificate level.
pub async fn rule_set(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    level: &str,
    rule: &xcert_assess::results::ResultRule,
) -> R<()> {
    let cert = st.store.certificate_by_code(code).await?;
    let p = ctx.authorize(&Action::ManageExamSession {
        teo_id: cert.teo_id,
    })?;
    let level = Level::parse("level", level).map_err(|e| AppError::Invalid(vec![e]))?;
    if !cert.levels.contains(&level) {
        return Err(invalid(
            "level",
            "level_not_offered",
            format!("{} is not offered at {} level", cert.code, level.en()),
            format!("{}不设{}", cert.name_zh, level.zh()),
        ));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    tx.result_rule_set(cert.id, level, rule).await?;
    tx.commit().await?;
    Ok(())
}

/// A form put together by hand (or accepted from an assembly): items by id at their
/// current versions, each with the points it earns in this form.
#[derive(Debug, Clone, Deserialize)]
pub struct FormInput {
    pub level: String,
    pub title: String,
    pub time_limit_minutes: i64,
    pub items: Vec<FormItemInput>,
    #[serde(default)]
    pub blueprint_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FormItemInput {
    pub item_id: i64,
    /// Points in this form; the item's own points when absent.
    #[serde(default)]
    pub points: Option<f64>,
}

/// A new form code: certificate, level, date and a counter, e.g. `SGCC-RPM-J-20260620-1`.
async fn next_form_code(st: &AppState, cert: &CertificateRow, level: Level) -> R<String> {
    let base = format!(
        "{}-{}-{}",
        cert.code,
        match level {
            Level::Junior => "J",
            Level::Intermediate => "I",
            Level::Senior => "S",
        },
        chrono::Utc::now().format("%Y%m%d")
    );
    let existing = st.store.forms(cert.id).await?;
    let n = (1..)
        .find(|n| !existing.iter().any(|f| f.code == format!("{base}-{n}")))
        .unwrap_or(1);
    Ok(format!("{base}-{n}"))
}

/// Check forms to create against the bank (approved theory items of the certificate,
/// positive points) and number them; nothing is written.
async fn forms_prepare(
    st: &AppState,
    cert: &CertificateRow,
    inputs: &[FormInput],
    assembly: Option<&serde_json::Value>,
) -> R<Vec<xcert_store::NewForm>> {
    let mut news = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    for (k, input) in inputs.iter().enumerate() {
        let level = Level::parse("level", &input.level).map_err(|e| AppError::Invalid(vec![e]))?;
        let mut items = Vec::new();
        for (i, fi) in input.items.iter().enumerate() {
            let row = st.store.item_get(fi.item_id).await.map_err(|_| {
                invalid(
                    &format!("items[{i}]"),
                    "no_such_item",
                    format!("no item {}", fi.item_id),
                    format!("没有题目 {}", fi.item_id),
                )
            })?;
            if row.certificate_id != cert.id {
                return Err(invalid(
                    &format!("items[{i}]"),
                    "foreign_item",
                    format!("item {} is not in {}'s bank", fi.item_id, cert.code),
                    format!("题目 {} 不在{}题库中", fi.item_id, cert.name_zh),
                ));
            }
            if row.review_status != ReviewStatus::Approved {
                return Err(invalid(
                    &format!("items[{i}]"),
                    "not_approved",
                    format!("item {} is not approved", row.ident),
                    format!("题目 {} 尚未审核通过", row.ident),
                ));
            }
            if !row.kind.is_theory() {
                return Err(invalid(
                    &format!("items[{i}]"),
                    "practical",
                    format!(
                        "item {} is a practical task: add it to the session instead",
                        row.ident
                    ),
                    format!("题目 {} 为实操题，应在考核安排中选择", row.ident),
                ));
            }
            let points = fi.points.unwrap_or(row.points);
            if !(points > 0.0 && points.is_finite()) {
                return Err(invalid(
                    &format!("items[{i}]"),
                    "bad_points",
                    "points must be positive",
                    "分值必须为正数",
                ));
            }
            items.push((row.id, row.current_version, points));
        }
        let mut code = next_form_code(st, cert, level).await?;
        // Several forms of one assembly are numbered on from each other.
        while taken.contains(&code) {
            let (base, n) = code.rsplit_once('-').unwrap_or((&code, "1"));
            code = format!("{base}-{}", n.parse::<u32>().unwrap_or(1) + 1);
        }
        taken.push(code.clone());
        news.push(xcert_store::NewForm {
            certificate_id: cert.id,
            blueprint_id: input.blueprint_id,
            level,
            code,
            title: if inputs.len() > 1 && input.title.trim().is_empty() {
                format!("{} {}", cert.name_zh, (b'A' + k as u8) as char)
            } else {
                input.title.trim().to_string()
            },
            time_limit_minutes: input.time_limit_minutes,
            items,
            assembly: assembly
                .and_then(|a| a.get("forms").and_then(|f| f.get(k)).cloned())
                .or_else(|| assembly.cloned())
                .unwrap_or(serde_json::json!({"method": "manual"})),
        });
    }
    for f in &news {
        if f.title.is_empty() {
            return Err(AppError::Invalid(vec![FieldError::required("title")]));
        }
    }
    Ok(news)
}

pub async fn forms_create(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    inputs: &[FormInput],
    assembly: Option<&serde_json::Value>,
) -> R<Vec<xcert_store::FormRow>> {
    let (p, cert) = bank_cert(st, ctx, code).await?;
    let news = forms_prepare(st, &cert, inputs, assembly).await?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let mut out = Vec::new();
    for f in &news {
        out.push(tx.form_create(f).await?);
    }
    tx.commit().await?;
    Ok(out)
}

/// A form of a bank with its items' content, for review and printing.
pub async fn form_detail(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    id: i64,
) -> R<(CertificateRow, Arc<FormContent>)> {
    let (_, cert) = bank_cert(st, ctx, code).await?;
    let f = st.forms.get(st, id).await?;
    if f.form.certificate_id != cert.id {
        return Err(AppError::NotFound(format!("form {id}")));
    }
    Ok((cert, f))
}

// ---------------------------------------------------------------------------------------
// Bank import and export

/// The interchange formats a bank file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BankFormat {
    QtiPackage,
    QtiItem,
    MoodleXml,
    Gift,
    Xlsx,
}

/// Tell the format from the name and the first bytes.
pub fn bank_format(file_name: &str, bytes: &[u8]) -> R<BankFormat> {
    let lower = file_name.to_lowercase();
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).to_lowercase();
    if bytes.starts_with(b"PK") {
        // Both a QTI package and an .xlsx are zips: the name decides, then the content.
        if lower.ends_with(".xlsx") {
            return Ok(BankFormat::Xlsx);
        }
        return Ok(BankFormat::QtiPackage);
    }
    if lower.ends_with(".gift") || lower.ends_with(".txt") {
        return Ok(BankFormat::Gift);
    }
    if lower.ends_with(".xml")
        || head.trim_start().starts_with('<')
        || head.starts_with("\u{feff}<")
    {
        if head.contains("<quiz") {
            return Ok(BankFormat::MoodleXml);
        }
        return Ok(BankFormat::QtiItem);
    }
    Err(invalid(
        "file",
        "unknown_format",
        format!(
            "{file_name}: not a question bank file xcert reads (QTI package .zip, QTI item .xml, Moodle XML, GIFT .gift/.txt, or the .xlsx template)"
        ),
        format!(
            "{file_name}：不是可导入的题库文件（QTI 包 .zip、QTI 题目 .xml、Moodle XML、GIFT .gift/.txt 或 .xlsx 模板）"
        ),
    ))
}

/// Read a bank file in its format.
pub fn read_bank(
    format: BankFormat,
    file_name: &str,
    bytes: &[u8],
) -> xcert_assess::interchange::ImportReport {
    use xcert_assess::interchange as x;
    match format {
        BankFormat::QtiPackage => x::import_qti_zip(file_name, bytes),
        BankFormat::QtiItem => x::import_qti(&vec![(file_name.to_string(), bytes.to_vec())]),
        BankFormat::MoodleXml => x::import_moodle_xml(file_name, bytes),
        BankFormat::Gift => x::import_gift(file_name, bytes),
        BankFormat::Xlsx => x::import_xlsx(file_name, bytes),
    }
}

/// One item of an import preview: what it is and what importing it would do.
#[derive(Debug, Clone, Serialize)]
pub struct ImportPreviewRow {
    pub ident: String,
    pub kind: ItemKind,
    pub level: Option<Level>,
    pub stem: String,
    pub source: String,
    /// new, new_version, metadata, unchanged
    pub outcome: &'static str,
}

/// The report of a staged import, as stored and shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportPreview {
    pub format: String,
    pub items: Vec<serde_json::Value>,
    pub media: usize,
    pub problems: Vec<serde_json::Value>,
    pub errors: usize,
    pub warnings: usize,
    pub new: usize,
    pub new_versions: usize,
    pub unchanged: usize,
    #[serde(default)]
    pub applied: Option<serde_json::Value>,
}

/// Tag checks against the standard become problems of the items, like any other.
async fn check_import_tags(
    st: &AppState,
    cert: &CertificateRow,
    file_name: &str,
    report: &mut xcert_assess::interchange::ImportReport,
) -> R<()> {
    let std = st.store.standard_get(cert.id, None, true).await?;
    let codes: std::collections::HashSet<String> = std
        .map(|s| {
            s.tree
                .areas
                .iter()
                .flat_map(|a| &a.tasks)
                .flat_map(|t| &t.requirements)
                .map(|r| r.code.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut keep = Vec::new();
    for it in std::mem::take(&mut report.items) {
        let unknown: Vec<&String> = it
            .item
            .meta
            .requirements
            .iter()
            .filter(|c| !codes.contains(c.trim()))
            .collect();
        let level_ok = it.item.meta.level.is_none_or(|l| cert.levels.contains(&l));
        if unknown.is_empty() && level_ok {
            keep.push(it);
            continue;
        }
        let (en, zh) = if !unknown.is_empty() {
            let list: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
            (
                format!("{} not in {}'s skill standard", list.join(", "), cert.code),
                format!(
                    "{} 不是{}标准中的职业技能要求",
                    list.join("、"),
                    cert.name_zh
                ),
            )
        } else {
            (
                format!("{} does not offer this level", cert.code),
                format!("{}不设该等级", cert.name_zh),
            )
        };
        report.problems.push(
            xcert_assess::interchange::Problem::error(
                file_name,
                it.source.clone(),
                if unknown.is_empty() {
                    "level_not_offered"
                } else {
                    "unknown_requirement"
                },
                en,
                zh,
            )
            .for_item(it.item.meta.ident.clone()),
        );
    }
    report.items = keep;
    Ok(())
}

async fn preview_of(
    st: &AppState,
    cert: &CertificateRow,
    format: BankFormat,
    report: &xcert_assess::interchange::ImportReport,
) -> R<ImportPreview> {
    let mut items = Vec::new();
    let (mut new, mut versions, mut same) = (0, 0, 0);
    // Media are stored under their SHA-256, so the key they will have is known now.
    let keys: HashMap<&str, String> = report
        .media
        .iter()
        .map(|m| {
            use sha2::Digest;
            (m.path.as_str(), hex::encode(sha2::Sha256::digest(&m.bytes)))
        })
        .collect();
    for it in &report.items {
        let outcome = match st
            .store
            .item_by_ident(cert.id, it.item.meta.ident.trim())
            .await
        {
            Ok(existing) => {
                let cur = st.store.item_version(existing.id, None).await?;
                let mut c = it.item.content.clone();
                c.stem = xcert_assess::markup::sanitize(&c.stem);
                for m in &mut c.media {
                    m.object = keys.get(m.path.as_str()).cloned();
                }
                if xcert_store::content_hash(&c) != cur.content_hash {
                    versions += 1;
                    "new_version"
                } else if existing.meta() != it.item.meta {
                    same += 1;
                    "metadata"
                } else {
                    same += 1;
                    "unchanged"
                }
            }
            Err(xcert_store::StoreError::NotFound(_)) => {
                new += 1;
                "new"
            }
            Err(e) => return Err(e.into()),
        };
        items.push(
            serde_json::to_value(ImportPreviewRow {
                ident: it.item.meta.ident.clone(),
                kind: it.item.content.kind,
                level: it.item.meta.level,
                stem: xcert_assess::markup::plain_text(&it.item.content.stem)
                    .chars()
                    .take(80)
                    .collect(),
                source: it.source.clone(),
                outcome,
            })
            .unwrap_or_default(),
        );
    }
    Ok(ImportPreview {
        format: serde_json::to_value(format)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        items,
        media: report.media.len(),
        problems: report
            .problems
            .iter()
            .map(|p| serde_json::to_value(p).unwrap_or_default())
            .collect(),
        errors: report.errors().count(),
        warnings: report.warnings().count(),
        new,
        new_versions: versions,
        unchanged: same,
        applied: None,
    })
}

/// Read an uploaded bank file, keep it, and show what importing it would do. Nothing
/// enters the bank until the import is confirmed.
pub async fn bank_import_stage(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> R<xcert_store::ItemImportRow> {
    let (p, cert) = bank_cert(st, ctx, code).await?;
    let file_name = if file_name.trim().is_empty() {
        "upload"
    } else {
        file_name.trim()
    };
    let format = bank_format(file_name, &bytes)?;
    let (mut report, bytes) = {
        let name = file_name.to_string();
        tokio::task::spawn_blocking(move || (read_bank(format, &name, &bytes), bytes))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
    };
    check_import_tags(st, &cert, file_name, &mut report).await?;
    let preview = preview_of(st, &cert, format, &report).await?;
    let hash = st.store.objects.put(bytes).await?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx
        .item_import_create(
            cert.id,
            file_name,
            &hash,
            &preview.format,
            &serde_json::to_value(&preview).unwrap_or_default(),
        )
        .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn bank_import_get(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    id: i64,
) -> R<(CertificateRow, xcert_store::ItemImportRow)> {
    let (_, cert) = bank_cert(st, ctx, code).await?;
    let row = st.store.item_import_get(id).await?;
    if row.certificate_id != cert.id {
        return Err(AppError::NotFound(format!("bank import {id}")));
    }
    Ok((cert, row))
}

/// What a confirmed import wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportResult {
    pub created: usize,
    pub new_versions: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub media: usize,
    pub skipped: usize,
}

/// Apply a staged import: re-read the kept file, store its media, and write every item
/// in one transaction (all or nothing). Applying twice is refused.
pub async fn bank_import_apply(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    id: i64,
    status: Option<ReviewStatus>,
) -> R<ImportResult> {
    let (cert, row) = bank_import_get(st, ctx, code, id).await?;
    let p = ctx.require()?;
    if row.status == "applied" {
        return Err(AppError::Conflict(FieldError::new(
            "import",
            "applied",
            "this import was already applied",
            "该导入已执行过",
        )));
    }
    let bytes = st.store.objects.get(&row.file_hash).await?;
    let format = bank_format(&row.file_name, &bytes)?;
    let name = row.file_name.clone();
    let mut report = tokio::task::spawn_blocking(move || read_bank(format, &name, &bytes))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    check_import_tags(st, &cert, &row.file_name, &mut report).await?;
    // Media first (content-addressed, so a rolled-back import leaves only unused files).
    let mut keys = HashMap::new();
    for m in &report.media {
        keys.insert(m.path.clone(), st.store.objects.put(m.bytes.clone()).await?);
    }
    let skipped = report
        .errors()
        .filter_map(|p| p.item.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut result = ImportResult {
        created: 0,
        new_versions: 0,
        updated: 0,
        unchanged: 0,
        media: keys.len(),
        skipped,
    };
    let mut tx = st.store.begin_write(&p.username).await?;
    for it in &report.items {
        let mut item = it.item.clone();
        for m in &mut item.content.media {
            m.object = keys.get(&m.path).cloned();
        }
        let (_, outcome) = tx
            .item_upsert(
                cert.id,
                &item,
                it.review.or(status),
                Some(&format!("imported from {}", row.file_name)),
            )
            .await?;
        match outcome {
            xcert_store::UpsertOutcome::Created => result.created += 1,
            xcert_store::UpsertOutcome::NewVersion => result.new_versions += 1,
            xcert_store::UpsertOutcome::MetadataChanged => result.updated += 1,
            xcert_store::UpsertOutcome::Unchanged => result.unchanged += 1,
        }
    }
    let mut stored = row.report.clone();
    stored["applied"] = serde_json::to_value(&result).unwrap_or_default();
    tx.item_import_mark_applied(id, &stored).await?;
    tx.commit().await?;
    Ok(result)
}

/// The bank (or the part a filter selects) as a QTI 3.0 package or the .xlsx template.
pub async fn bank_export(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    format: &str,
    f: &ItemFilter,
) -> R<(Vec<u8>, String, &'static str)> {
    let (p, cert) = bank_cert(st, ctx, code).await?;
    let rows = st.store.items_with_content(cert.id, f).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut statuses = HashMap::new();
    let mut media: Vec<xcert_assess::interchange::MediaFile> = Vec::new();
    for (row, v) in rows {
        for m in &v.content.media {
            if let Some(key) = &m.object
                && !media.iter().any(|x| x.path == m.path)
            {
                media.push(xcert_assess::interchange::MediaFile {
                    path: m.path.clone(),
                    mime: m.mime.clone(),
                    bytes: st.store.objects.get(key).await?,
                });
            }
        }
        statuses.insert(row.ident.clone(), row.review_status);
        items.push(Item {
            meta: row.meta(),
            content: v.content,
        });
    }
    let n = items.len();
    let out = match format {
        "xlsx" => {
            let bytes = xcert_assess::interchange::export_xlsx(&items, &|i: &Item| {
                statuses.get(&i.meta.ident).copied()
            })
            .map_err(|e| AppError::Internal(e.to_string()))?;
            (
                bytes,
                format!("{}-items.xlsx", cert.code),
                crate::render::XLSX,
            )
        }
        "qti3" | "qti" | "" => (
            xcert_assess::interchange::export_qti3(&items, &media),
            format!("{}-items-qti3.zip", cert.code),
            "application/zip",
        ),
        other => {
            return Err(invalid(
                "format",
                "bad_format",
                format!("\"{other}\": export as qti3 or xlsx"),
                format!("“{other}”：可导出为 qti3 或 xlsx"),
            ));
        }
    };
    let mut tx = st.store.begin_write(&p.username).await?;
    tx.audit(
        "export",
        "item_bank",
        &cert.code,
        None,
        Some(&serde_json::json!({"format": format, "items": n})),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// A media file of an item, by its content hash: only items in banks or forms the caller
/// can reach refer to it, and hashes are not guessable, so signed-in users may fetch it.
pub async fn media(st: &AppState, ctx: &Ctx, key: &str) -> R<(Vec<u8>, String)> {
    ctx.require()?;
    let bytes = st.store.objects.get(key).await?;
    let mime = infer_mime(&bytes);
    Ok((bytes, mime.to_string()))
}

fn infer_mime(b: &[u8]) -> &'static str {
    if b.starts_with(b"\x89PNG") {
        "image/png"
    } else if b.starts_with(b"\xff\xd8") {
        "image/jpeg"
    } else if b.starts_with(b"GIF8") {
        "image/gif"
    } else if b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        "image/webp"
    } else {
        // Anything else (SVG included, which may carry script) is served as a download,
        // never rendered inline.
        "application/octet-stream"
    }
}

/// Rich text of an item made ready for a page: cleaned, with image paths pointing at the
/// stored media.
pub fn render_rich(html: &str, media: &[xcert_assess::item::MediaRef]) -> String {
    let map: HashMap<String, String> = media
        .iter()
        .filter_map(|m| {
            m.object
                .as_ref()
                .map(|o| (m.path.clone(), format!("/media/{o}")))
        })
        .collect();
    xcert_assess::markup::sanitize_with_media(html, move |p| map.get(p).cloned())
}

// ---------------------------------------------------------------------------------------
// What the exam pages need beside the operations above

/// Whether the caller may register candidates of this session (and enter their training
/// scores): its TEO, the ministry, or the staff of the hosting college (for their own
/// students, which the per-student check in [`register`] enforces).
pub fn may_register(p: &Principal, s: &SessionRow) -> bool {
    let student_college = match p.role {
        Role::CollegeStaff => p.org_id.unwrap_or(-1),
        _ => s.site_org_id.unwrap_or(-1),
    };
    authorize(
        Some(p),
        &Action::RegisterCandidate {
            teo_id: s.teo_id,
            site_college_id: s.site_org_id,
            student_college_id: student_college,
        },
    )
    .is_ok()
}

/// Whether the caller scores practical tasks and marks written answers of this session
/// (its assigned examiners; the ministry).
pub fn may_score(p: &Principal, s: &SessionRow) -> bool {
    authorize(
        Some(p),
        &Action::ScoreSession {
            assigned: s.is_examiner(p.user_id),
        },
    )
    .is_ok()
}

/// Whether the caller sees the session's candidates' results (not its examiners as such).
/// Before release only those who run the session (its TEO, the ministry) and supervise it
/// (the province) see results; the hosting college sees its students' once released.
pub fn sees_results(p: &Principal, s: &SessionRow) -> bool {
    authorize(Some(p), &view_action(s)).is_ok()
        && (s.status == SessionStatus::Released || manages(p, s) || p.role == Role::ProvinceAdmin)
}

/// The scoring sheet (who scored what) is for the examiners, those who run the session
/// and the province that supervises it.
fn sees_scoring(p: &Principal, s: &SessionRow) -> bool {
    may_score(p, s)
        || manages(p, s)
        || (p.role == Role::ProvinceAdmin && authorize(Some(p), &view_action(s)).is_ok())
}

/// A certificate the caller may schedule sessions for, with what a session can use.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleCertificate {
    pub code: String,
    pub name: String,
    pub levels: Vec<Level>,
    /// Forms not retired (ready or already used), any level.
    pub forms: Vec<xcert_store::FormRow>,
    /// Approved practical task items.
    pub tasks: Vec<ItemRow>,
}

/// The choices of the schedule form: the caller's certificates with their forms and
/// practical tasks, the pilot colleges that may host a site, and the examiner accounts
/// the caller may assign (a TEO its own, the ministry all).
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleChoices {
    pub certificates: Vec<ScheduleCertificate>,
    /// (id, name, province)
    pub colleges: Vec<(i64, String, Option<String>)>,
    pub examiners: Vec<xcert_store::UserRow>,
}

/// Schedule-form choices, or `None` when the caller does not schedule sessions.
pub async fn schedule_choices(st: &AppState, ctx: &Ctx) -> R<Option<ScheduleChoices>> {
    let p = ctx.require()?;
    let user_scope = match (p.role, p.org_id) {
        (Role::MinistryAdmin, _) => xcert_domain::access::UserScope::All,
        (Role::TeoStaff, Some(t)) => xcert_domain::access::UserScope::Org(t),
        _ => return Ok(None),
    };
    let mut certificates = Vec::new();
    for cert in bank_certificates(st, ctx).await? {
        if authorize(
            Some(&p),
            &Action::ManageExamSession {
                teo_id: cert.teo_id,
            },
        )
        .is_err()
        {
            continue;
        }
        let forms = st
            .store
            .forms(cert.id)
            .await?
            .into_iter()
            .filter(|f| f.status != xcert_store::FormStatus::Retired)
            .collect();
        let f = ItemFilter {
            kind: Some(ItemKind::PracticalTask.as_str().into()),
            status: Some(ReviewStatus::Approved.as_str().into()),
            limit: Some(500),
            ..Default::default()
        };
        let (tasks, _) = st.store.items_list(cert.id, &f).await?;
        certificates.push(ScheduleCertificate {
            code: cert.code,
            name: cert.name_zh,
            levels: cert.levels,
            forms,
            tasks,
        });
    }
    let colleges = st
        .store
        .org_list(&xcert_store::OrgFilter {
            kind: Some("college".into()),
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|o| (o.id, o.name_zh, o.province))
        .collect();
    let examiners = st
        .store
        .users_list(&user_scope)
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Examiner && u.active)
        .collect();
    Ok(Some(ScheduleChoices {
        certificates,
        colleges,
        examiners,
    }))
}

/// Students the caller could register for a session and who are not registered yet: a
/// college's staff their own students; the TEO and the ministry the hosting college's
/// students (the ministry every student when the site is not at a college). `q` searches
/// name, student number and major.
pub async fn registrable_students(
    st: &AppState,
    ctx: &Ctx,
    session_id: i64,
    q: Option<&str>,
) -> R<Vec<xcert_store::PersonRow>> {
    use xcert_domain::access::PeopleScope;
    let (p, s) = session_for(st, ctx, session_id).await?;
    if s.status != SessionStatus::Scheduled || !may_register(&p, &s) {
        return Ok(Vec::new());
    }
    let scope = match (p.role, s.site_org_id) {
        (Role::CollegeStaff, _) => PeopleScope::College(p.org_id.unwrap_or(-1)),
        (_, Some(site)) => PeopleScope::College(site),
        (Role::MinistryAdmin, None) => PeopleScope::All,
        _ => PeopleScope::Nothing,
    };
    let registered: std::collections::HashSet<i64> = st
        .store
        .candidates(s.id, None)
        .await?
        .into_iter()
        .map(|c| c.person_id)
        .collect();
    Ok(st
        .store
        .people_list(&scope, q, None)
        .await?
        .into_iter()
        .filter(|x| !registered.contains(&x.id))
        .filter(|x| {
            authorize(
                Some(&p),
                &Action::RegisterCandidate {
                    teo_id: s.teo_id,
                    site_college_id: s.site_org_id,
                    student_college_id: x.college_id,
                },
            )
            .is_ok()
        })
        .collect())
}

/// The scoring examiner's own earlier scores (criteria and comment) for one candidate on
/// one task, for the scoring page to show again.
pub async fn my_practical_score(
    st: &AppState,
    ctx: &Ctx,
    session_id: i64,
    candidate_id: i64,
    task_position: i64,
) -> R<Option<xcert_store::PracticalScoreRow>> {
    let (p, s) = scoring_session(st, ctx, session_id).await?;
    Ok(st
        .store
        .practical_scores(s.id)
        .await?
        .into_iter()
        .find(|x| {
            x.examiner_id == p.user_id
                && x.candidate_id == candidate_id
                && x.task_position == task_position
        }))
}

// ---------------------------------------------------------------------------------------
// Item analysis

/// Build the score and choice matrices from scored responses: one row per attempt, one
/// column per item across the forms involved (an item not on an attempt's form is "not
/// presented"), scores on the item's own points.
async fn matrices(
    st: &AppState,
    responses: &[xcert_store::ScoredResponse],
) -> R<(
    xcert_assess::analysis::data::ScoreMatrix,
    xcert_assess::analysis::data::ChoiceMatrix,
    Vec<i64>,
)> {
    use xcert_assess::analysis::data::{
        ChoiceKey, ChoiceMatrix, ChoiceScoring, NOT_PRESENTED, OMITTED, ScoreMatrix,
    };
    // Columns in order of first appearance; each with the content its forms used.
    let mut columns: Vec<i64> = Vec::new();
    let mut content: HashMap<i64, xcert_assess::item::ItemContent> = HashMap::new();
    let mut forms_seen: HashMap<i64, Arc<FormContent>> = HashMap::new();
    for r in responses {
        if let std::collections::hash_map::Entry::Vacant(e) = forms_seen.entry(r.form_id) {
            e.insert(st.forms.get(st, r.form_id).await?);
        }
        if let std::collections::hash_map::Entry::Vacant(e) = content.entry(r.item_id) {
            let form = &forms_seen[&r.form_id];
            if let Some((_, c, _)) = form.items.iter().find(|(fi, _, _)| fi.item_id == r.item_id) {
                e.insert(c.clone());
                columns.push(r.item_id);
            }
        }
    }
    let col: HashMap<i64, usize> = columns.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut rows: Vec<i64> = Vec::new();
    for r in responses {
        if rows.last() != Some(&r.candidate_id) {
            rows.push(r.candidate_id);
        }
    }
    let row: HashMap<i64, usize> = rows.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let k = columns.len();
    let mut scores = vec![f32::NAN; rows.len() * k];
    let mut choices = vec![NOT_PRESENTED; rows.len() * k];
    let keys: Vec<Option<ChoiceKey>> = columns
        .iter()
        .map(|id| match &content[id].interaction {
            Interaction::Choice {
                choices, correct, ..
            } if choices.len() <= xcert_assess::analysis::data::MAX_OPTIONS => {
                let key = choices
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| correct.contains(&c.id))
                    .fold(0u16, |acc, (i, _)| acc | (1 << i));
                (key != 0).then(|| ChoiceKey {
                    options: choices.iter().map(|c| c.id.clone()).collect(),
                    key,
                    scoring: if content[id].scoring == xcert_assess::item::Scoring::Partial {
                        ChoiceScoring::Partial
                    } else {
                        ChoiceScoring::AllOrNothing
                    },
                })
            }
            _ => None,
        })
        .collect();
    let mut max_points = vec![0.0f64; k];
    for (j, id) in columns.iter().enumerate() {
        max_points[j] = content[id].points;
    }
    for r in responses {
        let (Some(&i), Some(&j)) = (row.get(&r.candidate_id), col.get(&r.item_id)) else {
            continue;
        };
        let item_points = max_points[j];
        if let Some(s) = r.score {
            let scaled = if r.points > 0.0 {
                s / r.points * item_points
            } else {
                0.0
            };
            scores[i * k + j] = scaled.clamp(0.0, item_points) as f32;
        }
        if let (Some(key), Response::Choice(sel)) = (&keys[j], &r.response) {
            let set = sel
                .iter()
                .filter_map(|id| key.options.iter().position(|o| o == id))
                .fold(0u16, |acc, i| acc | (1 << i));
            choices[i * k + j] = if sel.is_empty() { OMITTED } else { set };
        } else if keys[j].is_none() {
            choices[i * k + j] = OMITTED;
        }
    }
    let ids: Vec<String> = {
        let mut out = Vec::with_capacity(k);
        for id in &columns {
            out.push(st.store.item_get(*id).await?.ident);
        }
        out
    };
    let sm =
        ScoreMatrix::new(ids, max_points, scores).map_err(|e| AppError::Internal(e.to_string()))?;
    let cm = ChoiceMatrix::new(keys, choices).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((sm, cm, columns))
}

/// Analyse the submitted attempts of one session, or of a certificate level across all
/// its sessions; store the report and the items' new statistics. Returns the report id.
pub async fn analyze(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    level: Level,
    session_id: Option<i64>,
    irt: xcert_assess::analysis::report::IrtRequest,
) -> R<i64> {
    let (p, cert) = bank_cert(st, ctx, code).await?;
    let responses = match session_id {
        Some(id) => {
            let s = st.store.session_get(id).await?;
            if s.certificate_id != cert.id {
                return Err(AppError::NotFound(format!("exam session {id}")));
            }
            st.store.session_responses(id).await?
        }
        None => st.store.level_responses(cert.id, level).await?,
    };
    if responses.is_empty() {
        return Err(invalid(
            "session",
            "no_responses",
            "there are no submitted attempts to analyse yet",
            "尚无已提交的试卷可供分析",
        ));
    }
    let (scores, choices, item_ids) = matrices(st, &responses).await?;
    let persons = scores.n_persons() as i64;
    let items = scores.n_items() as i64;
    let opts = xcert_assess::analysis::report::AnalysisOptions {
        irt,
        ..Default::default()
    };
    let report = tokio::task::spawn_blocking(move || {
        xcert_assess::analysis::report::analyze(&scores, Some(&choices), &opts)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let json = serde_json::to_value(&report).unwrap_or_default();
    let at = now();
    let mut tx = st.store.begin_write(&p.username).await?;
    let id = tx
        .analysis_save(cert.id, level, session_id, persons, items, &json)
        .await?;
    // The items' statistics follow the latest analysis with enough candidates.
    for (j, item_id) in item_ids.iter().enumerate() {
        let s = &report.items[j];
        if s.n < 20 {
            continue;
        }
        let irt = report
            .irt
            .as_ref()
            .and_then(|f| f.items.iter().find(|i| i.item_id == s.item_id));
        tx.item_set_stats(
            *item_id,
            &xcert_store::ItemStats {
                n: s.n as i64,
                p: s.facility,
                r: s.r_item_rest,
                a: irt.map(|i| i.a),
                b: irt.map(|i| i.b),
                calibrated_at: at.clone(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// A stored analysis report of a bank.
pub async fn analysis_get(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    id: i64,
) -> R<(CertificateRow, xcert_store::AnalysisRow)> {
    let (_, cert) = bank_cert(st, ctx, code).await?;
    let a = st.store.analysis_get(id).await?;
    if a.certificate_id != cert.id {
        return Err(AppError::NotFound(format!("analysis report {id}")));
    }
    Ok((cert, a))
}

/// Examiners' agreement on one practical task: ICC of the first two examiners' totals
/// over the candidates both scored, and quadratic-weighted Cohen's kappa per criterion
/// (criterion points as ordered categories).
#[derive(Debug, Clone, Serialize)]
pub struct TaskAgreement {
    pub task_position: i64,
    /// Candidates scored by at least two examiners.
    pub double_scored: usize,
    /// ICC(2,1): two-way random, absolute agreement, single examiner.
    pub icc_agreement: Option<f64>,
    /// ICC(3,1): two-way mixed, consistency.
    pub icc_consistency: Option<f64>,
    /// (criterion id, criterion text, weighted kappa)
    pub kappa: Vec<(String, String, Option<f64>)>,
    /// Candidates whose examiners differ by more than the session allows.
    pub flagged: usize,
}

/// Agreement of a session's examiners, task by task.
pub async fn agreement(st: &AppState, s: &SessionRow) -> R<Vec<TaskAgreement>> {
    use xcert_assess::analysis::rater::{KappaWeights, cohen_kappa, icc};
    let scores = st.store.practical_scores(s.id).await?;
    let mut out = Vec::new();
    for task in &s.tasks {
        // Per candidate, examiners' rows in a stable order (by examiner username).
        let mut by: BTreeMap<i64, Vec<&xcert_store::PracticalScoreRow>> = BTreeMap::new();
        for x in scores.iter().filter(|x| x.task_position == task.position) {
            by.entry(x.candidate_id).or_default().push(x);
        }
        let pairs: Vec<(
            &xcert_store::PracticalScoreRow,
            &xcert_store::PracticalScoreRow,
        )> = by
            .values()
            .filter(|v| v.len() >= 2)
            .map(|v| (v[0], v[1]))
            .collect();
        let flagged = pairs
            .iter()
            .filter(|(a, b)| (a.total - b.total).abs() > s.disagreement_points + 1e-9)
            .count();
        let (icc_a, icc_c) = if pairs.len() >= 2 {
            let table: Vec<Vec<f64>> = pairs.iter().map(|(a, b)| vec![a.total, b.total]).collect();
            match icc(&table) {
                Ok(i) => (i.icc2, i.icc3),
                Err(_) => (None, None),
            }
        } else {
            (None, None)
        };
        let (_, content) = task_scale(st, s, task.position).await?;
        let mut kappa = Vec::new();
        if let Interaction::Practical { scale } = &content.interaction {
            for c in &scale.criteria {
                let (r1, r2): (Vec<i64>, Vec<i64>) = pairs
                    .iter()
                    .filter_map(|(a, b)| {
                        Some((
                            a.criteria.get(&c.id)?.round() as i64,
                            b.criteria.get(&c.id)?.round() as i64,
                        ))
                    })
                    .unzip();
                let k = if r1.len() >= 2 {
                    cohen_kappa(&r1, &r2, &KappaWeights::Quadratic)
                        .ok()
                        .and_then(|k| k.kappa)
                } else {
                    None
                };
                kappa.push((c.id.clone(), c.text.clone(), k));
            }
        }
        out.push(TaskAgreement {
            task_position: task.position,
            double_scored: pairs.len(),
            icc_agreement: icc_a,
            icc_consistency: icc_c,
            kappa,
            flagged,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Blueprints and assembly

/// The usual theory-test make-up (single choice, multiple choice, true/false), capped by
/// what one form can take from the approved pool of the level.
fn default_types(
    pool: &[xcert_store::ItemRow],
    forms: u32,
) -> Vec<xcert_assess::blueprint::TypeQuota> {
    use xcert_assess::blueprint::TypeQuota;
    [
        (ItemKind::SingleChoice, 40, 1.0),
        (ItemKind::MultipleChoice, 10, 2.0),
        (ItemKind::TrueFalse, 20, 1.0),
    ]
    .into_iter()
    .filter_map(|(kind, usual, points)| {
        let have = pool.iter().filter(|i| i.kind == kind).count() as u32 / forms.max(1);
        let n = usual.min(have);
        (n > 0).then_some(TypeQuota {
            kind,
            count: n,
            points_each: points,
        })
    })
    .collect()
}

/// A first blueprint for a level: the standard's weight table (areas weighted by their
/// requirements at the level) and a type mix the pool can fill.
pub async fn blueprint_draft(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    level: Level,
) -> R<xcert_assess::blueprint::Blueprint> {
    let (_, cert) = bank_cert(st, ctx, code).await?;
    if !cert.levels.contains(&level) {
        return Err(invalid(
            "level",
            "level_not_offered",
            format!("{} is not offered at {} level", cert.code, level.en()),
            format!("{}不设{}", cert.name_zh, level.zh()),
        ));
    }
    let Some(std) = st.store.standard_get(cert.id, None, false).await? else {
        return Err(invalid(
            "standard",
            "no_standard",
            "publish the certificate's skill standard first: the blueprint follows its weight table",
            "请先发布该证书的职业技能等级标准：组卷蓝图依据其权重表",
        ));
    };
    let pool = st.store.item_pool(cert.id, level).await?;
    let types = default_types(&pool, 1);
    let title = format!("{}{}理论考试", cert.name_zh, level.zh());
    Ok(xcert_assess::blueprint::Blueprint::from_standard(
        &std.tree, level, &title, types, 90,
    ))
}

pub async fn blueprint_save(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    id: Option<i64>,
    spec: &xcert_assess::blueprint::Blueprint,
) -> R<xcert_store::BlueprintRow> {
    let (p, cert) = bank_cert(st, ctx, code).await?;
    if !cert.levels.contains(&spec.level) {
        return Err(invalid(
            "level",
            "level_not_offered",
            format!("{} is not offered at {} level", cert.code, spec.level.en()),
            format!("{}不设{}", cert.name_zh, spec.level.zh()),
        ));
    }
    if let Some(id) = id {
        let b = st.store.blueprint_get(id).await?;
        if b.certificate_id != cert.id {
            return Err(AppError::NotFound(format!("blueprint {id}")));
        }
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.blueprint_save(cert.id, id, spec).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn blueprint_get(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    id: i64,
) -> R<(CertificateRow, xcert_store::BlueprintRow)> {
    let (_, cert) = bank_cert(st, ctx, code).await?;
    let b = st.store.blueprint_get(id).await?;
    if b.certificate_id != cert.id {
        return Err(AppError::NotFound(format!("blueprint {id}")));
    }
    Ok((cert, b))
}

/// The approved pool of a level as assembly sees it: calibrated items with their 2PL
/// parameters, usage as the number of forms an item is already in.
pub async fn assembly_pool(
    st: &AppState,
    cert: &CertificateRow,
    level: Level,
) -> R<Vec<xcert_assess::assemble::PoolItem>> {
    let rows = st.store.item_pool(cert.id, level).await?;
    let uses = st.store.item_form_counts(cert.id).await?;
    Ok(rows
        .iter()
        .filter(|r| r.kind.is_theory())
        .map(|r| {
            let p = xcert_assess::assemble::PoolItem {
                id: r.id,
                kind: r.kind,
                requirements: r.requirements.clone(),
                difficulty: r.difficulty,
                irt: None,
                time_seconds: r.time_seconds.map(|t| t as u32),
                enemy_group: r.enemy_group.clone(),
                testlet: r.testlet.clone(),
                usage: uses.get(&r.id).copied().unwrap_or(0) as u32,
            };
            match r.stats.as_ref().and_then(|s| Some((s.a?, s.b?))) {
                // Only plausible calibrations steer the information.
                Some((a, b)) if a > 0.0 && a.is_finite() && b.is_finite() => p.with_irt(a, b),
                _ => p,
            }
        })
        .collect())
}

/// Assemble a blueprint's forms (or only check the pool with `solver: heuristic` and a
/// short time) and keep the run. Shortages are a result, not an error: the run is stored
/// with them so the page can show the table.
pub async fn assemble(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    blueprint_id: i64,
    opts: xcert_assess::assemble::AssemblyOptions,
) -> R<xcert_store::AssemblyRow> {
    use xcert_assess::assemble::AssemblyError;
    let (cert, bp) = blueprint_get(st, ctx, code, blueprint_id).await?;
    let p = ctx.require()?;
    let pool = assembly_pool(st, &cert, bp.level).await?;
    let spec = bp.spec.clone();
    let o = opts.clone();
    let outcome =
        tokio::task::spawn_blocking(move || xcert_assess::assemble::assemble(&spec, &pool, &o))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
    let (status, result) = match outcome {
        Ok(a) => ("assembled", serde_json::to_value(&a).unwrap_or_default()),
        Err(AssemblyError::Shortages(s)) => ("short", serde_json::json!({"shortages": s})),
        Err(AssemblyError::Blueprint(e)) | Err(AssemblyError::Pool(e)) => {
            return Err(AppError::Invalid(e));
        }
        Err(AssemblyError::SolverUnavailable(e)) => return Err(AppError::Invalid(vec![e])),
        Err(AssemblyError::NotFound { en, zh, details }) => (
            "failed",
            serde_json::json!({"en": en, "zh": zh, "details": details}),
        ),
    };
    let mut tx = st.store.begin_write(&p.username).await?;
    let id = tx
        .assembly_save(
            blueprint_id,
            cert.id,
            status,
            &serde_json::to_value(&opts).unwrap_or_default(),
            &result,
        )
        .await?;
    tx.commit().await?;
    Ok(st.store.assembly_get(id).await?)
}

pub async fn assembly_get(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    id: i64,
) -> R<(CertificateRow, xcert_store::AssemblyRow)> {
    let (_, cert) = bank_cert(st, ctx, code).await?;
    let a = st.store.assembly_get(id).await?;
    if a.certificate_id != cert.id {
        return Err(AppError::NotFound(format!("assembly {id}")));
    }
    Ok((cert, a))
}

/// Create the forms of an assembly (once): the items it chose, each earning the points
/// its type has in the blueprint.
pub async fn assembly_accept(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    id: i64,
) -> R<Vec<xcert_store::FormRow>> {
    let (cert, a) = assembly_get(st, ctx, code, id).await?;
    if a.status != "assembled" {
        return Err(AppError::Conflict(FieldError::new(
            "assembly",
            "not_acceptable",
            "this assembly was already accepted or produced no forms",
            "该组卷结果已采用过或没有生成试卷",
        )));
    }
    let bp = st.store.blueprint_get(a.blueprint_id).await?;
    let assembly: xcert_assess::assemble::Assembly = serde_json::from_value(a.result.clone())
        .map_err(|e| AppError::Internal(format!("stored assembly: {e}")))?;
    let mut inputs = Vec::new();
    for f in &assembly.forms {
        let mut items = Vec::new();
        for id in &f.items {
            let row = st.store.item_get(*id).await?;
            let points = bp
                .spec
                .types
                .iter()
                .find(|t| t.kind == row.kind)
                .map(|t| t.points_each);
            items.push(FormItemInput {
                item_id: *id,
                points,
            });
        }
        inputs.push(FormInput {
            level: bp.level.as_str().to_string(),
            title: if assembly.forms.len() > 1 {
                format!(
                    "{} {}卷",
                    bp.title,
                    (b'A' + (f.number.saturating_sub(1) as u8)) as char
                )
            } else {
                bp.title.clone()
            },
            time_limit_minutes: bp.spec.time_limit_minutes as i64,
            items,
            blueprint_id: Some(bp.id),
        });
    }
    let record = serde_json::json!({
        "assembly": a.id, "solver": assembly.solver, "status": assembly.status, "gap": assembly.gap,
        "objective": assembly.objective, "bound": assembly.bound, "method": assembly.method,
        "forms": assembly.forms.iter().map(|f| serde_json::json!({"assembly": a.id, "solver": assembly.solver, "status": assembly.status, "gap": assembly.gap, "stats": f.stats})).collect::<Vec<_>>(),
    });
    // The forms and the acceptance commit together: a crash between them cannot leave
    // forms that a second acceptance would create again.
    let news = forms_prepare(st, &cert, &inputs, Some(&record)).await?;
    let p = ctx.require()?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let mut forms = Vec::new();
    for f in &news {
        forms.push(tx.form_create(f).await?);
    }
    tx.assembly_mark_accepted(id, &forms.iter().map(|f| f.id).collect::<Vec<_>>())
        .await?;
    tx.commit().await?;
    Ok(forms)
}
