//! Declaration and review services (申报与评审), behind both the pages and the API: each
//! operation authorizes the principal, asks `xcert_declare` whether the stage allows it,
//! and writes in one audited transaction.

use crate::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, conflict, invalid};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use xcert_declare::diff::{AnnexFile, Change, Snapshot};
use xcert_declare::proposal::{self, DeliberationFacts, Step};
use xcert_declare::review::{self, Applicant, ConflictRule, PoolExpert};
use xcert_declare::stats::BatchStats;
use xcert_declare::tasks::{self, TaskFact, TaskState, UnitProgress};
use xcert_declare::{BatchInput, BatchState, Missing, ProposalContent, ProposalState, Refusal};
use xcert_domain::FieldError;
use xcert_domain::access::{Action, Principal, Role};
use xcert_domain::annex::Annex;
use xcert_domain::ids::CreditCode;
use xcert_domain::org::{OrgKind, TeoState};
use xcert_store::{
    AnnexRow, ApplicationRow, AssignmentRow, BatchRow, ExpertRow, NewExpert, NewTask,
    NewVerification, NotificationRow, ObjectionRow, OpinionRow, ProposalContentRow, ProposalRow,
    ProposalSet, TaskRow, TeoProposalRow, UnitRow, VerificationRow, VersionRow, now,
};

type R<T> = Result<T, AppError>;

/// The largest annex or evidence file accepted (the declaration's documents are text and
/// spreadsheets; scans are the largest).
pub const MAX_FILE: usize = 32 << 20;

fn refuse(r: Refusal) -> AppError {
    AppError::Conflict(r.into())
}

/// Today in Beijing, the calendar the ministry's dates are written in.
pub fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn text(field: &str, v: &str, max: usize) -> R<String> {
    xcert_domain::error::required_text(field, v, max).map_err(|e| AppError::Invalid(vec![e]))
}

fn is_ministry(p: &Principal) -> bool {
    p.role == Role::MinistryAdmin
}

// ---------- batches ----------

/// Batches the caller may see: drafts only for the ministry; the rest are public.
pub async fn batches(st: &AppState, ctx: &Ctx) -> R<Vec<BatchRow>> {
    let drafts = ctx.principal().is_some_and(|p| is_ministry(&p));
    Ok(st.store.batch_list(drafts).await?)
}

pub async fn batch(st: &AppState, ctx: &Ctx, id: i64) -> R<BatchRow> {
    let b = st.store.batch_get(id).await?;
    if !b.state.is_public() && !ctx.principal().is_some_and(|p| is_ministry(&p)) {
        return Err(AppError::NotFound(format!("batch {id}")));
    }
    Ok(b)
}

pub async fn create_batch(st: &AppState, ctx: &Ctx, input: &BatchInput) -> R<BatchRow> {
    let p = ctx.authorize(&Action::ManageBatches)?;
    let s = input.parse()?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.batch_create(&s).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn update_batch(st: &AppState, ctx: &Ctx, id: i64, input: &BatchInput) -> R<BatchRow> {
    let p = ctx.authorize(&Action::ManageBatches)?;
    let b = st.store.batch_get(id).await?;
    if b.state != BatchState::Draft {
        return Err(conflict(
            "state",
            "not_draft",
            "only a draft batch's settings can change: applicants rely on them once it is open",
            "批次开放后设置不能修改：申报单位以此为准",
        ));
    }
    let s = input.parse()?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.batch_update(id, &s).await?;
    tx.commit().await?;
    Ok(row)
}

/// Move a batch to its next stage. Entering publicity decides the proposed list by the
/// batch's pass score and starts the publicity period; publishing puts the approved
/// certificates into the national catalogue.
pub async fn advance_batch(st: &AppState, ctx: &Ctx, id: i64, to: &str) -> R<BatchRow> {
    let p = ctx.authorize(&Action::ManageBatches)?;
    let b = st.store.batch_get(id).await?;
    let to = BatchState::parse(to).ok_or_else(|| {
        invalid(
            "to",
            "bad_state",
            format!("unknown batch state \"{to}\""),
            format!("无法识别的批次状态“{to}”"),
        )
    })?;
    b.state.advance(to).map_err(refuse)?;
    let counts = st.store.proposal_state_counts(id).await?;
    let open_objections = st
        .store
        .objections_of_batch(id)
        .await?
        .iter()
        .filter(|o| o.state == "open")
        .count();
    let at = now();
    proposal::advance_check(b.state, &counts, b.publicity_over(&at), open_objections)
        .map_err(refuse)?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let mut publicity = None;
    match to {
        BatchState::Publicity => {
            for pr in st
                .store
                .proposals_of_batch(id, Some(ProposalState::Reviewed))
                .await?
            {
                let pass = pr.score.is_some_and(|s| s >= b.settings.pass_score);
                let step = if pass {
                    Step::Propose
                } else {
                    Step::NotPropose
                };
                let next = proposal::check(b.state, pr.state, step).map_err(refuse)?;
                tx.proposal_transition(pr.id, pr.state, next, "propose", &ProposalSet::default())
                    .await?;
            }
            let until =
                chrono::Utc::now() + chrono::Duration::days(b.settings.publicity_days.into());
            publicity = Some((
                at.clone(),
                until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ));
        }
        BatchState::Published => {
            for pr in st
                .store
                .proposals_of_batch(id, Some(ProposalState::Approved))
                .await?
            {
                if let Some(c) = pr.certificate_id {
                    tx.certificate_publish_shortlisted(c, id).await?;
                }
            }
        }
        _ => {}
    }
    let row = tx.batch_set_state(id, b.state, to, publicity).await?;
    tx.commit().await?;
    Ok(row)
}

/// Extend the publicity period to a later end (RFC 3339 or a date, meaning its end).
pub async fn extend_publicity(st: &AppState, ctx: &Ctx, id: i64, until: &str) -> R<BatchRow> {
    let p = ctx.authorize(&Action::ManageBatches)?;
    let b = st.store.batch_get(id).await?;
    if b.state != BatchState::Publicity {
        return Err(conflict(
            "state",
            "not_publicity",
            "the batch is not in publicity",
            "批次不在公示阶段",
        ));
    }
    let until = match NaiveDate::parse_from_str(until.trim(), "%Y-%m-%d") {
        Ok(d) => format!("{d}T16:00:00.000Z"),
        Err(_) => until.trim().to_string(),
    };
    if chrono::DateTime::parse_from_rfc3339(&until).is_err() {
        return Err(invalid("until", "bad_date", "not a date", "不是日期"));
    }
    if b.publicity_until
        .as_deref()
        .is_some_and(|u| until.as_str() <= u)
    {
        return Err(invalid(
            "until",
            "not_later",
            "publicity can be extended, never shortened",
            "公示期只能延长，不能缩短",
        ));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.batch_set_publicity_until(id, &until).await?;
    tx.commit().await?;
    Ok(row)
}

// ---------- applications ----------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ApplicationInput {
    /// The applying TEO (the ministry may apply on a TEO's behalf; TEO staff: their own).
    pub teo_id: Option<i64>,
    pub credit_code: String,
    pub lead_unit: String,
    pub contact_name: String,
    pub contact_phone: String,
}

/// Open an application for a TEO in an open batch. The unified social credit code typed
/// in must be a valid one and the TEO's own, and the TEO must be in good standing.
pub async fn create_application(
    st: &AppState,
    ctx: &Ctx,
    batch_id: i64,
    input: &ApplicationInput,
) -> R<ApplicationRow> {
    let who = ctx.require()?;
    let teo_id = match (who.role, who.org_id, input.teo_id) {
        (Role::TeoStaff, Some(own), _) => own,
        (_, _, Some(t)) => t,
        _ => return Err(AppError::Invalid(vec![FieldError::required("teo_id")])),
    };
    let p = ctx.authorize(&Action::Declare { teo_id })?;
    let b = batch(st, ctx, batch_id).await?;
    if b.state != BatchState::Open {
        return Err(conflict(
            "state",
            "batch_not_open",
            format!(
                "the batch is \"{}\", not open for applications",
                b.state.en()
            ),
            format!("批次处于“{}”，不接受申报", b.state.zh()),
        ));
    }
    let org = st.store.org_get(teo_id).await?;
    if org.kind != OrgKind::Teo {
        return Err(invalid(
            "teo_id",
            "not_teo",
            "only a training-evaluation organization applies",
            "只有培训评价组织可以申报",
        ));
    }
    let code = CreditCode::parse(&input.credit_code)
        .map_err(|e| AppError::Invalid(vec![e.field("credit_code")]))?;
    if code.as_str() != org.credit_code {
        return Err(invalid(
            "credit_code",
            "not_own",
            format!(
                "{} is not the unified social credit code of {}",
                code.as_str(),
                org.name_zh
            ),
            format!("{} 不是 {} 的统一社会信用代码", code.as_str(), org.name_zh),
        ));
    }
    if org.teo_state != Some(TeoState::Active) {
        return Err(conflict(
            "teo_id",
            "not_active",
            "a suspended, scale-limited or exiting organization cannot apply",
            "处于暂停、限制规模或退出状态的组织不能申报",
        ));
    }
    let mut errs = Vec::new();
    for (f, v) in [
        ("lead_unit", &input.lead_unit),
        ("contact_name", &input.contact_name),
        ("contact_phone", &input.contact_phone),
    ] {
        if let Err(e) = xcert_domain::error::required_text(f, v, 200) {
            errs.push(e);
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    let id = tx
        .application_create(
            batch_id,
            teo_id,
            code.as_str(),
            input.lead_unit.trim(),
            input.contact_name.trim(),
            input.contact_phone.trim(),
        )
        .await?;
    tx.commit().await?;
    Ok(st.store.application_get(id).await?)
}

/// An annex slot as shown: the file it holds, if any.
#[derive(Debug, Clone, Serialize)]
pub struct AnnexSlot {
    pub number: u8,
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub file: Option<AnnexRow>,
}

/// A proposal with what the pages need beside it.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalBrief {
    pub proposal: ProposalRow,
    pub slots: Vec<AnnexSlot>,
    pub missing: Vec<MissingText>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MissingText {
    pub zh: String,
    pub en: String,
}

fn slots(annexes: &[AnnexRow]) -> Vec<AnnexSlot> {
    Annex::ALL
        .iter()
        .map(|a| AnnexSlot {
            number: a.number(),
            key: a.as_str(),
            zh: a.zh(),
            en: a.en(),
            file: annexes
                .iter()
                .find(|r| r.annex == i64::from(a.number()))
                .cloned(),
        })
        .collect()
}

fn content_of(p: &ProposalRow, annexes: &[AnnexRow]) -> ProposalContent {
    ProposalContent {
        standard_version: p.standard_version,
        bank_items: p.bank_items,
        annexes: Annex::ALL
            .into_iter()
            .filter(|a| annexes.iter().any(|r| r.annex == i64::from(a.number())))
            .collect(),
    }
}

async fn brief(st: &AppState, p: ProposalRow) -> R<ProposalBrief> {
    let annexes = st.store.annexes_of(p.id).await?;
    let missing = content_of(&p, &annexes)
        .missing()
        .into_iter()
        .map(|m: Missing| MissingText {
            zh: m.zh(),
            en: m.en(),
        })
        .collect();
    Ok(ProposalBrief {
        slots: slots(&annexes),
        missing,
        proposal: p,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    #[serde(flatten)]
    pub task: TaskRow,
    pub overdue: bool,
}

fn task_views(rows: Vec<TaskRow>) -> Vec<TaskView> {
    let today = today();
    rows.into_iter()
        .map(|t| TaskView {
            overdue: NaiveDate::parse_from_str(&t.deadline, "%Y-%m-%d")
                .is_ok_and(|d| tasks::is_overdue(t.state, d, today)),
            task: t,
        })
        .collect()
}

/// An application with its proposals, units, tasks and progress per unit.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationView {
    pub application: ApplicationRow,
    pub batch: BatchRow,
    pub proposals: Vec<ProposalBrief>,
    pub units: Vec<UnitRow>,
    pub tasks: Vec<TaskView>,
    pub progress: Vec<UnitProgress>,
    /// Whether the caller is the applying TEO (or the ministry) and may edit.
    pub may_edit: bool,
}

async fn has_task(st: &AppState, p: &Principal, application_id: i64) -> R<bool> {
    Ok(st
        .store
        .applications_with_tasks_of(&p.username)
        .await?
        .contains(&application_id))
}

pub async fn application(st: &AppState, ctx: &Ctx, id: i64) -> R<ApplicationView> {
    let a = st.store.application_get(id).await?;
    let who = ctx.require()?;
    let task = has_task(st, &who, id).await?;
    ctx.authorize(&Action::ViewApplication {
        teo_id: a.teo_id,
        has_task: task,
    })?;
    let may_edit = ctx.authorize(&Action::Declare { teo_id: a.teo_id }).is_ok();
    let batch = st.store.batch_get(a.batch_id).await?;
    let mut proposals = Vec::new();
    for p in st.store.proposals_of_application(id).await? {
        proposals.push(brief(st, p).await?);
    }
    let tasks = task_views(st.store.tasks_of_application(id).await?);
    let facts: Vec<TaskFact> = tasks
        .iter()
        .filter_map(|t| {
            Some(TaskFact {
                unit: t.task.unit_name.clone(),
                state: t.task.state,
                deadline: NaiveDate::parse_from_str(&t.task.deadline, "%Y-%m-%d").ok()?,
            })
        })
        .collect();
    Ok(ApplicationView {
        progress: tasks::progress(&facts, today()),
        units: st.store.units_of(id).await?,
        application: a,
        batch,
        proposals,
        tasks,
        may_edit,
    })
}

/// The caller's applications: a TEO's own in every batch.
pub async fn my_applications(st: &AppState, ctx: &Ctx) -> R<Vec<TeoProposalRow>> {
    let p = ctx.require()?;
    match (p.role, p.org_id) {
        (Role::TeoStaff, Some(teo)) => Ok(st.store.proposals_of_teo(teo).await?),
        _ => Ok(Vec::new()),
    }
}

async fn editable_application(
    st: &AppState,
    ctx: &Ctx,
    application_id: i64,
) -> R<(Principal, ApplicationRow, BatchRow)> {
    let a = st.store.application_get(application_id).await?;
    let p = ctx.authorize(&Action::Declare { teo_id: a.teo_id })?;
    let b = st.store.batch_get(a.batch_id).await?;
    Ok((p, a, b))
}

// ---------- proposals ----------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProposalInput {
    /// The certificate's code in the registry (only when adding).
    pub certificate: String,
    pub field: String,
    pub summary: String,
}

/// Put one of the TEO's certificates forward in its application. The standard and the
/// question bank come from the registry and the item bank as they are now.
pub async fn add_proposal(
    st: &AppState,
    ctx: &Ctx,
    application_id: i64,
    input: &ProposalInput,
) -> R<ProposalRow> {
    let (p, a, b) = editable_application(st, ctx, application_id).await?;
    if b.state != BatchState::Open {
        return Err(conflict(
            "state",
            "batch_not_open",
            "proposals are added while the batch is open",
            "只能在批次开放申报期间添加证书申报",
        ));
    }
    let cert = st
        .store
        .certificate_by_code(input.certificate.trim())
        .await
        .map_err(|_| {
            invalid(
                "certificate",
                "unknown",
                format!(
                    "no certificate \"{}\" in the registry",
                    input.certificate.trim()
                ),
                format!("登记中没有证书“{}”", input.certificate.trim()),
            )
        })?;
    if cert.teo_id != a.teo_id {
        return Err(invalid(
            "certificate",
            "not_own",
            "a TEO proposes its own certificates only",
            "只能申报本组织的证书",
        ));
    }
    let field = text("field", &input.field, 100)?;
    let (standard_version, bank_items) = st.store.certificate_declaration_facts(cert.id).await?;
    let c = ProposalContentRow {
        certificate_id: Some(cert.id),
        name_zh: cert.name_zh.clone(),
        field,
        summary: input.summary.trim().to_string(),
        standard_version,
        bank_items,
    };
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx
        .proposal_create(a.id, a.batch_id, a.teo_id, &c, ProposalState::Draft)
        .await?;
    tx.commit().await?;
    Ok(row)
}

async fn editable_proposal(st: &AppState, ctx: &Ctx, id: i64) -> R<(Principal, ProposalRow)> {
    let pr = st.store.proposal_get(id).await?;
    let p = ctx.authorize(&Action::Declare { teo_id: pr.teo_id })?;
    ensure_editable(&pr)?;
    Ok((p, pr))
}

fn ensure_editable(pr: &ProposalRow) -> R<()> {
    if !pr.state.editable() {
        return Err(conflict(
            "state",
            "not_editable",
            format!(
                "\"{}\" is \"{}\": it changes only as a draft or when returned for changes",
                pr.name_zh,
                pr.state.en()
            ),
            format!(
                "“{}”处于“{}”，只有填报中或退回修改时才能修改",
                pr.name_zh,
                pr.state.zh()
            ),
        ));
    }
    Ok(())
}

/// Change a proposal's field and statement, and refresh its standard and bank facts.
pub async fn update_proposal(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    input: &ProposalInput,
) -> R<ProposalRow> {
    let (p, pr) = editable_proposal(st, ctx, id).await?;
    let field = text("field", &input.field, 100)?;
    let (standard_version, bank_items) = match pr.certificate_id {
        Some(c) => st.store.certificate_declaration_facts(c).await?,
        None => (pr.standard_version, pr.bank_items),
    };
    let c = ProposalContentRow {
        certificate_id: pr.certificate_id,
        name_zh: pr.name_zh.clone(),
        field,
        summary: input.summary.trim().to_string(),
        standard_version,
        bank_items,
    };
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.proposal_update_content(id, &c).await?;
    tx.commit().await?;
    Ok(row)
}

fn annex_of(n: i64) -> R<Annex> {
    Annex::ALL
        .into_iter()
        .find(|a| i64::from(a.number()) == n)
        .ok_or_else(|| {
            invalid(
                "annex",
                "bad_annex",
                format!("annex {n} does not exist: annexes are numbered 1 to 7"),
                format!("附件{n}不存在：附件编号为 1 到 7"),
            )
        })
}

fn check_file(name: &str, bytes: &[u8]) -> R<()> {
    if bytes.is_empty() {
        return Err(invalid("file", "empty", "the file is empty", "文件为空"));
    }
    if bytes.len() > MAX_FILE {
        return Err(invalid(
            "file",
            "too_large",
            format!("the file is larger than {} MB", MAX_FILE >> 20),
            format!("文件超过 {} MB", MAX_FILE >> 20),
        ));
    }
    if name.trim().is_empty() || name.len() > 255 {
        return Err(invalid(
            "file",
            "bad_name",
            "the file needs a name of at most 255 bytes",
            "文件名为空或过长",
        ));
    }
    Ok(())
}

/// Put an uploaded file into an annex slot. The TEO may; so may the person whose task is
/// that annex (the unit preparing it).
pub async fn upload_annex(
    st: &AppState,
    ctx: &Ctx,
    proposal_id: i64,
    annex: i64,
    file_name: &str,
    bytes: Vec<u8>,
) -> R<AnnexRow> {
    let pr = st.store.proposal_get(proposal_id).await?;
    annex_of(annex)?;
    let who = ctx.require()?;
    let own_task = st
        .store
        .tasks_of_assignee(&who.username)
        .await?
        .iter()
        .any(|t| t.proposal_id == Some(proposal_id) && t.annex == Some(annex));
    if !own_task {
        ctx.authorize(&Action::Declare { teo_id: pr.teo_id })?;
    }
    ensure_editable(&pr)?;
    check_file(file_name, &bytes)?;
    let size = bytes.len() as i64;
    let key = st.store.objects.put(bytes).await?;
    let mut tx = st.store.begin_write(&who.username).await?;
    tx.annex_put(
        proposal_id,
        annex,
        file_name.trim(),
        &key,
        "sha256",
        size,
        "upload",
    )
    .await?;
    tx.commit().await?;
    st.store
        .annexes_of(proposal_id)
        .await?
        .into_iter()
        .find(|a| a.annex == annex)
        .ok_or_else(|| AppError::Internal("annex vanished".into()))
}

/// Fill a proposal's empty annex slots from a finished consolidation run of the TEO's
/// materials: for each slot, the file the run classified as that annex of this
/// certificate. Returns the annex numbers filled.
pub async fn annexes_from_run(
    st: &AppState,
    ctx: &Ctx,
    proposal_id: i64,
    run_id: i64,
) -> R<Vec<u8>> {
    let (p, pr) = editable_proposal(st, ctx, proposal_id).await?;
    let run = st.store.ingest_run(run_id).await?;
    if run.org_id != Some(pr.teo_id) {
        return Err(invalid(
            "run_id",
            "not_own",
            "that consolidation run is not of this organization's materials",
            "该材料汇总不属于本组织",
        ));
    }
    let have = st.store.annexes_of(proposal_id).await?;
    let mut found = Vec::new();
    for a in Annex::ALL {
        if have.iter().any(|r| r.annex == i64::from(a.number())) {
            continue;
        }
        if let Some((rel, hash, size)) = st
            .store
            .ingest_annex_file(run_id, a.as_str(), &pr.name_zh)
            .await?
        {
            found.push((a, rel, hash, size));
        }
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    for (a, rel, hash, size) in &found {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        tx.annex_put(
            proposal_id,
            i64::from(a.number()),
            name,
            hash,
            "blake3",
            *size,
            &format!("ingest:{run_id}"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(found.iter().map(|f| f.0.number()).collect())
}

/// The bytes of an annex, for the people who may see the proposal: its TEO, the
/// ministry, its drawn experts and the people with a task in its application.
pub async fn annex_file(
    st: &AppState,
    ctx: &Ctx,
    proposal_id: i64,
    annex: i64,
) -> R<(String, Vec<u8>)> {
    let pr = st.store.proposal_get(proposal_id).await?;
    see_proposal(st, ctx, &pr).await?;
    let a = st
        .store
        .annexes_of(proposal_id)
        .await?
        .into_iter()
        .find(|a| a.annex == annex)
        .ok_or_else(|| AppError::NotFound(format!("annex {annex}")))?;
    let bytes = if a.hash_kind == "blake3" {
        st.store.objects.get_blake3(&a.object_key).await?
    } else {
        st.store.objects.get(&a.object_key).await?
    };
    Ok((a.file_name, bytes))
}

/// Whether the caller is one of the experts drawn for the proposal.
async fn drawn_expert(st: &AppState, p: &Principal, proposal_id: i64) -> R<Option<AssignmentRow>> {
    if p.role != Role::ExpertReviewer {
        return Ok(None);
    }
    let Some(e) = st.store.expert_of_user(p.user_id).await? else {
        return Ok(None);
    };
    Ok(st
        .store
        .assignments_of_proposal(proposal_id)
        .await?
        .into_iter()
        .find(|a| a.expert_id == e.id))
}

async fn see_proposal(st: &AppState, ctx: &Ctx, pr: &ProposalRow) -> R<Principal> {
    let p = ctx.require()?;
    if drawn_expert(st, &p, pr.id).await?.is_some() {
        return Ok(p);
    }
    let task = has_task(st, &p, pr.application_id).await?;
    ctx.authorize(&Action::ViewApplication {
        teo_id: pr.teo_id,
        has_task: task,
    })
}

fn snapshot(pr: &ProposalRow, annexes: &[AnnexRow]) -> Snapshot {
    Snapshot {
        version: pr.version,
        name_zh: pr.name_zh.clone(),
        field: pr.field.clone(),
        summary: pr.summary.clone(),
        standard_version: pr.standard_version,
        bank_items: pr.bank_items,
        annexes: annexes
            .iter()
            .map(|a| {
                (
                    a.annex as u8,
                    AnnexFile {
                        file_name: a.file_name.clone(),
                        hash: a.object_key.clone(),
                        size: a.size,
                    },
                )
            })
            .collect(),
    }
}

/// Submit every draft proposal of an application at once. Each must be complete; when one
/// is not, nothing is submitted and the refusal names the proposal and what it lacks.
pub async fn submit_application(
    st: &AppState,
    ctx: &Ctx,
    application_id: i64,
) -> R<Vec<ProposalRow>> {
    let (p, a, b) = editable_application(st, ctx, application_id).await?;
    let drafts: Vec<ProposalRow> = st
        .store
        .proposals_of_application(a.id)
        .await?
        .into_iter()
        .filter(|x| x.state == ProposalState::Draft)
        .collect();
    if drafts.is_empty() {
        return Err(conflict(
            "proposals",
            "nothing_to_submit",
            "the application has no draft proposal to submit",
            "申报书中没有待提交的证书申报",
        ));
    }
    let mut checked = Vec::new();
    for pr in drafts {
        let next = proposal::check(b.state, pr.state, Step::Submit).map_err(refuse)?;
        let annexes = st.store.annexes_of(pr.id).await?;
        let missing = content_of(&pr, &annexes).missing();
        proposal::submission_check(&b.settings, today(), &pr.name_zh, &missing).map_err(refuse)?;
        checked.push((pr, annexes, next));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    let mut out = Vec::new();
    for (pr, annexes, next) in checked {
        let row = tx
            .proposal_transition(pr.id, pr.state, next, "submit", &ProposalSet::default())
            .await?;
        tx.proposal_record_version(pr.id, &snapshot(&row, &annexes))
            .await?;
        out.push(row);
    }
    tx.commit().await?;
    Ok(out)
}

/// Resubmit a proposal returned with a modification opinion, by the opinion's deadline.
/// It goes back to the stage it was returned from (scored again if that was the review).
pub async fn resubmit(st: &AppState, ctx: &Ctx, id: i64) -> R<ProposalRow> {
    let pr = st.store.proposal_get(id).await?;
    let p = ctx.authorize(&Action::Declare { teo_id: pr.teo_id })?;
    let b = st.store.batch_get(pr.batch_id).await?;
    let from = pr.returned_from.unwrap_or(ProposalState::Submitted);
    let next = proposal::check(b.state, pr.state, Step::Resubmit { from }).map_err(refuse)?;
    let opinion = st
        .store
        .opinions_of(id)
        .await?
        .into_iter()
        .rev()
        .find(|o| o.answered_version.is_none());
    if let Some(o) = &opinion
        && let Ok(d) = NaiveDate::parse_from_str(&o.deadline, "%Y-%m-%d")
    {
        proposal::resubmission_check(d, today()).map_err(refuse)?;
    }
    let annexes = st.store.annexes_of(id).await?;
    let missing = content_of(&pr, &annexes).missing();
    if !missing.is_empty() {
        let en: Vec<String> = missing.iter().map(|m| m.en()).collect();
        let zh: Vec<String> = missing.iter().map(|m| m.zh()).collect();
        return Err(conflict(
            "annexes",
            "incomplete",
            format!(
                "\"{}\" cannot be resubmitted: missing {}",
                pr.name_zh,
                en.join("; ")
            ),
            format!("“{}”不能重新提交，缺少：{}", pr.name_zh, zh.join("；")),
        ));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    if next == ProposalState::InReview {
        tx.assignments_clear_scores(id).await?;
    }
    let set = ProposalSet {
        returned_from: Some(None),
        score: (next == ProposalState::InReview).then_some(None),
        ..Default::default()
    };
    let row = tx
        .proposal_transition(id, pr.state, next, "resubmit", &set)
        .await?;
    tx.proposal_record_version(id, &snapshot(&row, &annexes))
        .await?;
    if next == ProposalState::InReview {
        for a in st.store.assignments_of_proposal(id).await? {
            tx.notify(
                &a.expert_username,
                &format!("“{}”已按修改意见重新提交，请重新评分", pr.name_zh),
                &format!(
                    "\"{}\" was resubmitted after changes: please score it again",
                    pr.name_zh
                ),
                &format!("/review/{}", a.id),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(st.store.proposal_get(id).await?)
}

/// A proposal with its history: annexes, versions and what changed, opinions, experts'
/// scores (for the ministry; for the TEO once the list is published), objections.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalView {
    #[serde(flatten)]
    pub brief: ProposalBrief,
    pub batch: BatchRow,
    pub versions: Vec<VersionRow>,
    /// Changes from the previous submitted version to the last one.
    pub changes: Vec<Change>,
    pub opinions: Vec<OpinionRow>,
    pub open_opinion: Option<OpinionRow>,
    pub assignments: Vec<AssignmentRow>,
    pub objections: Vec<ObjectionRow>,
    pub verification: Option<VerificationRow>,
    pub may_edit: bool,
    pub may_manage: bool,
}

pub async fn proposal_view(st: &AppState, ctx: &Ctx, id: i64) -> R<ProposalView> {
    let pr = st.store.proposal_get(id).await?;
    let p = see_proposal(st, ctx, &pr).await?;
    let may_manage = is_ministry(&p);
    let may_edit = ctx
        .authorize(&Action::Declare { teo_id: pr.teo_id })
        .is_ok()
        && pr.state.editable();
    let batch = st.store.batch_get(pr.batch_id).await?;
    let versions = st.store.versions_of(id).await?;
    let changes = match versions.as_slice() {
        [.., a, b] => xcert_declare::diff::diff(&a.snapshot, &b.snapshot),
        _ => Vec::new(),
    };
    let opinions = st.store.opinions_of(id).await?;
    let open_opinion = opinions
        .iter()
        .rev()
        .find(|o| o.answered_version.is_none())
        .cloned();
    let assignments = if may_manage || batch.state == BatchState::Published {
        st.store.assignments_of_proposal(id).await?
    } else {
        Vec::new()
    };
    let objections = st
        .store
        .objections_of_batch(pr.batch_id)
        .await?
        .into_iter()
        .filter(|o| o.proposal_id == id)
        .collect();
    let verification = st
        .store
        .verifications_of_batch(pr.batch_id)
        .await?
        .into_iter()
        .find(|v| v.teo_id == pr.teo_id);
    Ok(ProposalView {
        brief: brief(st, pr).await?,
        batch,
        versions,
        changes,
        opinions,
        open_opinion,
        assignments,
        objections,
        verification,
        may_edit,
        may_manage,
    })
}

// ---------- the ministry's stages ----------

async fn managed(st: &AppState, ctx: &Ctx, id: i64) -> R<(Principal, ProposalRow, BatchRow)> {
    let p = ctx.authorize(&Action::ManageBatches)?;
    let pr = st.store.proposal_get(id).await?;
    let b = st.store.batch_get(pr.batch_id).await?;
    Ok((p, pr, b))
}

/// Record the formal check (形式审查): complete and submitted within the window.
pub async fn formal_check(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    pass: bool,
    note: &str,
) -> R<ProposalRow> {
    let (p, pr, b) = managed(st, ctx, id).await?;
    let step = if pass {
        Step::FormalPass
    } else {
        Step::FormalReject
    };
    let next = proposal::check(b.state, pr.state, step).map_err(refuse)?;
    if !pass && note.trim().is_empty() {
        return Err(AppError::Invalid(vec![FieldError::required("note")]));
    }
    if pass {
        // The window is checked again from the record: a proposal submitted late (by a
        // clock or an import) fails here whatever the checker clicks.
        let submitted = pr
            .submitted_at
            .as_deref()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| (t.with_timezone(&chrono::Utc) + chrono::Duration::hours(8)).date_naive());
        if !submitted.is_some_and(|d| b.settings.window_contains(d)) {
            return Err(refuse(Refusal::new(
                "outside_window",
                "it was not submitted within the application window",
                "该申报不在申报时间内提交",
            )));
        }
        let annexes = st.store.annexes_of(id).await?;
        if !content_of(&pr, &annexes).missing().is_empty() {
            return Err(refuse(Refusal::new(
                "incomplete",
                "it is not complete",
                "申报材料不完整",
            )));
        }
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    let set = ProposalSet {
        formal_note: Some(note.trim().to_string()),
        ..Default::default()
    };
    let row = tx
        .proposal_transition(id, pr.state, next, "formal_check", &set)
        .await?;
    tx.commit().await?;
    Ok(row)
}

/// Send a proposal back to its TEO with a modification opinion and a deadline.
pub async fn return_for_changes(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    opinion: &str,
    deadline: &str,
) -> R<ProposalRow> {
    let (p, pr, b) = managed(st, ctx, id).await?;
    let next = proposal::check(b.state, pr.state, Step::Return).map_err(refuse)?;
    let opinion = text("opinion", opinion, 10_000)?;
    let d = NaiveDate::parse_from_str(deadline.trim(), "%Y-%m-%d").map_err(|_| {
        invalid(
            "deadline",
            "bad_date",
            "the deadline must be a date (YYYY-MM-DD)",
            "截止日期应为日期（YYYY-MM-DD）",
        )
    })?;
    if d < today() {
        return Err(invalid(
            "deadline",
            "past",
            "the deadline is in the past",
            "截止日期已过",
        ));
    }
    let a = st.store.application_get(pr.application_id).await?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let set = ProposalSet {
        returned_from: Some(Some(pr.state)),
        ..Default::default()
    };
    let row = tx
        .proposal_transition(id, pr.state, next, "return", &set)
        .await?;
    tx.opinion_create(id, pr.state, &opinion, &d.to_string())
        .await?;
    tx.notify(
        &a.created_by,
        &format!("“{}”收到修改意见，请于 {d} 前修改并重新提交", pr.name_zh),
        &format!(
            "\"{}\" received a modification opinion: revise and resubmit by {d}",
            pr.name_zh
        ),
        &format!("/declare/proposals/{id}"),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// What a draw did.
#[derive(Debug, Clone, Serialize)]
pub struct DrawOutcome {
    pub proposals: usize,
    pub assignments: usize,
    pub seed: i64,
}

/// Draw experts for every proposal of the batch that passed the formal check, at random
/// from the active pool, never one with a conflict of interest.
pub async fn draw_experts(
    st: &AppState,
    ctx: &Ctx,
    batch_id: i64,
    seed: Option<i64>,
) -> R<DrawOutcome> {
    let p = ctx.authorize(&Action::ManageBatches)?;
    let b = st.store.batch_get(batch_id).await?;
    if b.state != BatchState::InReview {
        return Err(refuse(Refusal::new(
            "batch_stage",
            format!(
                "experts are drawn while the batch is in expert review; it is \"{}\"",
                b.state.en()
            ),
            format!("批次处于“{}”，只有在专家评审阶段才能抽取专家", b.state.zh()),
        )));
    }
    let waiting = st
        .store
        .proposals_of_batch(batch_id, Some(ProposalState::FormalPassed))
        .await?;
    if waiting.is_empty() {
        return Err(conflict(
            "proposals",
            "nothing_to_draw",
            "no proposal waits for experts (none has passed the formal check since the last draw)",
            "没有等待抽取专家的申报",
        ));
    }
    let pool: Vec<ExpertRow> = st
        .store
        .experts()
        .await?
        .into_iter()
        .filter(|e| e.active)
        .collect();
    let pool_view: Vec<PoolExpert> = pool
        .iter()
        .map(|e| PoolExpert {
            expert_id: e.id,
            org_id: e.org_id,
            province: e.province.clone(),
            fields: e.fields.clone(),
        })
        .collect();
    let rule = ConflictRule {
        same_org: b.settings.exclude_same_org,
        same_province: b.settings.exclude_same_province,
    };
    let seed = seed.unwrap_or_else(|| (rand::random::<u64>() >> 1) as i64);
    let mut plan = Vec::new();
    for pr in &waiting {
        let next = proposal::check(b.state, pr.state, Step::Draw).map_err(refuse)?;
        let applicant = Applicant {
            teo_id: pr.teo_id,
            province: pr.teo_province.clone(),
            field: pr.field.clone(),
        };
        let per = (seed as u64) ^ (pr.id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let drawn = review::draw(
            &pool_view,
            &applicant,
            rule,
            b.settings.experts_per_proposal as usize,
            &[],
            per,
        )
        .map_err(|r| {
            refuse(Refusal::new(
                &r.code,
                format!("\"{}\": {}", pr.name_zh, r.en),
                format!("“{}”：{}", pr.name_zh, r.zh),
            ))
        })?;
        plan.push((pr, next, drawn, per as i64));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    let mut n = 0;
    for (pr, next, drawn, per) in &plan {
        for e in drawn {
            let aid = tx.assignment_create(pr.id, *e, *per).await?;
            n += 1;
            if let Some(x) = pool.iter().find(|x| x.id == *e) {
                tx.notify(
                    &x.username,
                    &format!("您被抽取评审“{}”", pr.name_zh),
                    &format!("You were drawn to review \"{}\"", pr.name_zh),
                    &format!("/review/{aid}"),
                )
                .await?;
            }
        }
        tx.proposal_transition(pr.id, pr.state, *next, "draw", &ProposalSet::default())
            .await?;
    }
    tx.commit().await?;
    Ok(DrawOutcome {
        proposals: plan.len(),
        assignments: n,
        seed,
    })
}

/// An expert's assignment with the proposal and the batch's rubric.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewView {
    pub assignment: AssignmentRow,
    pub proposal: ProposalBrief,
    pub batch: BatchRow,
}

async fn my_expert(st: &AppState, ctx: &Ctx) -> R<(Principal, ExpertRow)> {
    let p = ctx.require()?;
    let e = st.store.expert_of_user(p.user_id).await?.ok_or_else(|| {
        AppError::Forbidden(xcert_domain::access::Denied {
            en: "your account is not in the expert pool".into(),
            zh: "您的账号不在专家库中".into(),
        })
    })?;
    Ok((p, e))
}

/// The caller's assignments, newest first.
pub async fn my_reviews(st: &AppState, ctx: &Ctx) -> R<Vec<(AssignmentRow, ProposalRow)>> {
    let (_, e) = my_expert(st, ctx).await?;
    let mut out = Vec::new();
    for a in st.store.assignments_of_expert(e.id).await? {
        let pr = st.store.proposal_get(a.proposal_id).await?;
        out.push((a, pr));
    }
    Ok(out)
}

async fn own_assignment(st: &AppState, ctx: &Ctx, id: i64) -> R<(Principal, AssignmentRow)> {
    let p = ctx.require()?;
    let e = st.store.expert_of_user(p.user_id).await?;
    let a = st
        .store
        .assignment_get(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("assignment {id}")))?;
    ctx.authorize(&Action::ReviewProposal {
        assigned: e.is_some_and(|e| e.id == a.expert_id),
    })?;
    Ok((p, a))
}

pub async fn review(st: &AppState, ctx: &Ctx, id: i64) -> R<ReviewView> {
    let (_, a) = own_assignment(st, ctx, id).await?;
    let pr = st.store.proposal_get(a.proposal_id).await?;
    let batch = st.store.batch_get(pr.batch_id).await?;
    Ok(ReviewView {
        assignment: a,
        proposal: brief(st, pr).await?,
        batch,
    })
}

/// An expert submits their rubric scores. When the last drawn expert has scored, the
/// proposal's score is combined by the batch's rule and outliers are flagged.
pub async fn submit_scores(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    scores: &BTreeMap<String, f64>,
    comment: &str,
) -> R<AssignmentRow> {
    let (p, a) = own_assignment(st, ctx, id).await?;
    // The ministry may read an assignment, but the scores are the drawn expert's own.
    if st
        .store
        .expert_of_user(p.user_id)
        .await?
        .is_none_or(|e| e.id != a.expert_id)
    {
        return Err(AppError::Forbidden(xcert_domain::access::Denied {
            en: "only the expert drawn for this assignment submits its scores".into(),
            zh: "只有被抽取的专家本人可以提交该评分".into(),
        }));
    }
    let pr = st.store.proposal_get(a.proposal_id).await?;
    let b = st.store.batch_get(pr.batch_id).await?;
    if b.state != BatchState::InReview || pr.state != ProposalState::InReview {
        return Err(refuse(Refusal::new(
            "not_in_review",
            format!(
                "scores are accepted while the batch and the proposal are in expert review (the batch is \"{}\", the proposal \"{}\")",
                b.state.en(),
                pr.state.en()
            ),
            format!(
                "只有批次和申报都处于专家评审时才能评分（批次：{}，申报：{}）",
                b.state.zh(),
                pr.state.zh()
            ),
        )));
    }
    if a.submitted_at.is_some() {
        return Err(conflict(
            "scores",
            "already_submitted",
            "you have already submitted your scores for this proposal",
            "您已提交过该申报的评分",
        ));
    }
    let total = b.settings.rubric.total(scores)?;
    let comment = text("comment", comment, 10_000)?;
    let mut tx = st.store.begin_write(&p.username).await?;
    tx.assignment_submit(a.id, scores, total, &comment).await?;
    let all = st.store.assignments_of_proposal(pr.id).await?;
    let totals: Vec<(i64, Option<f64>)> = all
        .iter()
        .map(|x| (x.id, if x.id == a.id { Some(total) } else { x.total }))
        .collect();
    if totals.iter().all(|(_, t)| t.is_some()) {
        let values: Vec<f64> = totals.iter().filter_map(|t| t.1).collect();
        let flags = review::outliers(&values, b.settings.outlier_points);
        for ((aid, _), f) in totals.iter().zip(flags) {
            tx.assignment_set_outlier(*aid, f).await?;
        }
        let combined = review::combine(b.settings.combine, &values);
        let next = proposal::check(b.state, pr.state, Step::ScoresComplete).map_err(refuse)?;
        let set = ProposalSet {
            score: Some(combined.map(|c| (c * 100.0).round() / 100.0)),
            ..Default::default()
        };
        tx.proposal_transition(pr.id, pr.state, next, "scores_complete", &set)
            .await?;
    }
    tx.commit().await?;
    st.store
        .assignment_get(a.id)
        .await?
        .ok_or_else(|| AppError::Internal("assignment vanished".into()))
}

/// Anyone files an objection against a proposed certificate during publicity.
pub async fn file_objection(
    st: &AppState,
    client: &str,
    proposal_id: i64,
    name: &str,
    contact: &str,
    content: &str,
) -> R<ObjectionRow> {
    if let Err(wait) = st.objection_limit.check(client) {
        return Err(AppError::TooManyRequests(wait));
    }
    let pr = st.store.proposal_get(proposal_id).await?;
    let b = st.store.batch_get(pr.batch_id).await?;
    if !b.in_publicity(&now()) {
        return Err(refuse(Refusal::new(
            "not_in_publicity",
            "objections are accepted only during the publicity period",
            "只能在公示期内提出异议",
        )));
    }
    if pr.state != ProposalState::Proposed {
        return Err(refuse(Refusal::new(
            "not_proposed",
            "objections concern certificates on the proposed list",
            "只能对公示名单中的证书提出异议",
        )));
    }
    let mut errs = Vec::new();
    for (f, v, max) in [
        ("name", name, 100),
        ("contact", contact, 200),
        ("content", content, 10_000),
    ] {
        if let Err(e) = xcert_domain::error::required_text(f, v, max) {
            errs.push(e);
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let mut tx = st.store.begin_write("public").await?;
    let id = tx
        .objection_file(
            b.id,
            proposal_id,
            name.trim(),
            contact.trim(),
            content.trim(),
            client,
        )
        .await?;
    tx.commit().await?;
    Ok(st.store.objection_get(id).await?)
}

/// The ministry handles an objection: upheld (true) or dismissed, with its response.
pub async fn handle_objection(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    upheld: bool,
    response: &str,
) -> R<ObjectionRow> {
    let p = ctx.authorize(&Action::ManageBatches)?;
    let o = st.store.objection_get(id).await?;
    if o.state != "open" {
        return Err(conflict(
            "state",
            "handled",
            "this objection has already been handled",
            "该异议已处理",
        ));
    }
    let response = text("response", response, 10_000)?;
    let mut tx = st.store.begin_write(&p.username).await?;
    tx.objection_handle(id, if upheld { "upheld" } else { "dismissed" }, &response)
        .await?;
    tx.commit().await?;
    Ok(st.store.objection_get(id).await?)
}

/// Record an organization's credit and tax verification for the batch, with evidence.
#[allow(clippy::too_many_arguments)]
pub async fn verify_organization(
    st: &AppState,
    ctx: &Ctx,
    batch_id: i64,
    teo_id: i64,
    credit_ok: bool,
    tax_ok: bool,
    evidence: &str,
    file: Option<(String, Vec<u8>)>,
) -> R<VerificationRow> {
    let p = ctx.authorize(&Action::ManageBatches)?;
    let b = st.store.batch_get(batch_id).await?;
    if b.state != BatchState::Publicity {
        return Err(refuse(Refusal::new(
            "batch_stage",
            format!(
                "credit and tax verification happens during publicity; the batch is \"{}\"",
                b.state.en()
            ),
            format!("信用和纳税核查在公示阶段进行，批次处于“{}”", b.state.zh()),
        )));
    }
    let on_list = st
        .store
        .proposals_of_batch(batch_id, Some(ProposalState::Proposed))
        .await?
        .iter()
        .any(|x| x.teo_id == teo_id);
    if !on_list {
        return Err(conflict(
            "teo_id",
            "not_on_list",
            "this organization has no certificate on the proposed list",
            "该组织没有证书在公示名单中",
        ));
    }
    let evidence = text("evidence", evidence, 10_000)?;
    let stored = match file {
        Some((name, bytes)) if !bytes.is_empty() => {
            check_file(&name, &bytes)?;
            Some((name, st.store.objects.put(bytes).await?))
        }
        _ => None,
    };
    let mut tx = st.store.begin_write(&p.username).await?;
    tx.verification_put(
        batch_id,
        teo_id,
        &NewVerification {
            credit_ok,
            tax_ok,
            evidence,
            file: stored,
        },
    )
    .await?;
    tx.commit().await?;
    st.store
        .verifications_of_batch(batch_id)
        .await?
        .into_iter()
        .find(|v| v.teo_id == teo_id)
        .ok_or_else(|| AppError::Internal("verification vanished".into()))
}

/// Deliberation (审议): the final decision on a proposed certificate, with its reason.
pub async fn deliberate(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    approve: bool,
    reason: &str,
) -> R<ProposalRow> {
    let (p, pr, b) = managed(st, ctx, id).await?;
    let step = if approve { Step::Approve } else { Step::Reject };
    let next = proposal::check(b.state, pr.state, step).map_err(refuse)?;
    let objections: Vec<ObjectionRow> = st
        .store
        .objections_of_batch(b.id)
        .await?
        .into_iter()
        .filter(|o| o.proposal_id == id)
        .collect();
    let verified = st
        .store
        .verifications_of_batch(b.id)
        .await?
        .into_iter()
        .find(|v| v.teo_id == pr.teo_id)
        .map(|v| v.passed);
    let facts = DeliberationFacts {
        verified,
        open_objections: objections.iter().filter(|o| o.state == "open").count(),
        upheld_objections: objections.iter().filter(|o| o.state == "upheld").count(),
        publicity_over: b.publicity_over(&now()),
    };
    proposal::deliberation_check(facts, approve).map_err(refuse)?;
    let reason = text("reason", reason, 10_000)?;
    let a = st.store.application_get(pr.application_id).await?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let set = ProposalSet {
        decision_reason: Some(reason),
        ..Default::default()
    };
    let row = tx
        .proposal_transition(id, pr.state, next, "deliberate", &set)
        .await?;
    tx.notify(
        &a.created_by,
        &format!("“{}”审议结果：{}", pr.name_zh, next.zh()),
        &format!("Deliberation on \"{}\": {}", pr.name_zh, next.en()),
        &format!("/declare/proposals/{id}"),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The ministry's review overview of a batch: every submitted proposal with its stage.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReview {
    pub batch: BatchRow,
    pub proposals: Vec<ProposalRow>,
    pub counts: Vec<(String, usize)>,
    pub assignments: Vec<AssignmentRow>,
    pub objections: Vec<ObjectionRow>,
    pub verifications: Vec<VerificationRow>,
    /// Organizations on the proposed list (to verify).
    pub listed_orgs: Vec<(i64, String)>,
    pub experts: Vec<ExpertRow>,
}

pub async fn batch_review(st: &AppState, ctx: &Ctx, id: i64) -> R<BatchReview> {
    ctx.authorize(&Action::ManageBatches)?;
    let batch = st.store.batch_get(id).await?;
    let proposals: Vec<ProposalRow> = st
        .store
        .proposals_of_batch(id, None)
        .await?
        .into_iter()
        .filter(|p| p.state.is_submitted())
        .collect();
    let mut listed: BTreeMap<i64, String> = BTreeMap::new();
    for p in &proposals {
        if matches!(
            p.state,
            ProposalState::Proposed | ProposalState::Approved | ProposalState::Rejected
        ) {
            listed.insert(p.teo_id, p.teo_name.clone());
        }
    }
    let counts = st
        .store
        .proposal_state_counts(id)
        .await?
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), n))
        .collect();
    Ok(BatchReview {
        counts,
        assignments: st.store.assignments_of_batch(id).await?,
        objections: st.store.objections_of_batch(id).await?,
        verifications: st.store.verifications_of_batch(id).await?,
        listed_orgs: listed.into_iter().collect(),
        experts: st.store.experts().await?,
        batch,
        proposals,
    })
}

/// The public list of a batch: during publicity the proposed certificates; once
/// published the shortlisted ones.
pub async fn public_list(st: &AppState, ctx: &Ctx, id: i64) -> R<(BatchRow, Vec<ProposalRow>)> {
    let b = batch(st, ctx, id).await?;
    let states: &[ProposalState] = match b.state {
        BatchState::Publicity => &[
            ProposalState::Proposed,
            ProposalState::Approved,
            ProposalState::Rejected,
        ],
        BatchState::Published => &[ProposalState::Approved],
        _ => &[],
    };
    let mut rows: Vec<ProposalRow> = st
        .store
        .proposals_of_batch(id, None)
        .await?
        .into_iter()
        .filter(|p| states.contains(&p.state))
        .collect();
    rows.sort_by(|a, b| a.teo_name.cmp(&b.teo_name).then(a.id.cmp(&b.id)));
    Ok((b, rows))
}

// ---------- task breakdown ----------

pub async fn add_unit(
    st: &AppState,
    ctx: &Ctx,
    application_id: i64,
    name: &str,
    org: &str,
) -> R<UnitRow> {
    let (p, a, _) = editable_application(st, ctx, application_id).await?;
    let name = text("name", name, 200)?;
    let org_id = if org.trim().is_empty() {
        None
    } else {
        Some(
            st.store
                .org_find(org)
                .await?
                .ok_or_else(|| {
                    invalid(
                        "org",
                        "unknown",
                        format!("no organization \"{}\" in the registry", org.trim()),
                        format!("登记中没有机构“{}”", org.trim()),
                    )
                })?
                .id,
        )
    };
    let mut tx = st.store.begin_write(&p.username).await?;
    let id = tx.unit_create(a.id, &name, org_id).await?;
    tx.commit().await?;
    st.store
        .units_of(a.id)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| AppError::Internal("unit vanished".into()))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TaskInput {
    pub unit_id: i64,
    /// The account that does the task.
    pub assignee: String,
    pub title: String,
    /// An annex of a proposal ("proposal_id" and "annex"), or neither for another entry.
    pub proposal_id: Option<i64>,
    pub annex: Option<i64>,
    pub deadline: String,
}

/// Assign an entry or form of the application to a unit and a person with a deadline.
/// The person is an active account of the TEO or of the unit's organization.
pub async fn assign_task(
    st: &AppState,
    ctx: &Ctx,
    application_id: i64,
    input: &TaskInput,
) -> R<TaskRow> {
    let (p, a, b) = editable_application(st, ctx, application_id).await?;
    if b.state == BatchState::Published {
        return Err(conflict(
            "state",
            "published",
            "the batch is published; its applications are closed",
            "批次已公布，申报已结束",
        ));
    }
    let unit = st
        .store
        .units_of(a.id)
        .await?
        .into_iter()
        .find(|u| u.id == input.unit_id)
        .ok_or_else(|| {
            invalid(
                "unit_id",
                "unknown",
                "no such unit in this application",
                "本申报中没有该单位",
            )
        })?;
    let user = st
        .store
        .user_by_username(input.assignee.trim())
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| {
            invalid(
                "assignee",
                "unknown",
                format!("no active account \"{}\"", input.assignee.trim()),
                format!("没有有效账号“{}”", input.assignee.trim()),
            )
        })?;
    if user.org_id != Some(a.teo_id) && (unit.org_id.is_none() || user.org_id != unit.org_id) {
        return Err(invalid(
            "assignee",
            "not_in_unit",
            format!(
                "{} belongs neither to the applying organization nor to {}",
                user.username, unit.name
            ),
            format!("{} 既不属于申报组织，也不属于{}", user.username, unit.name),
        ));
    }
    let title = text("title", &input.title, 300)?;
    let deadline = parse_date("deadline", &input.deadline)?;
    let annex = match (input.proposal_id, input.annex) {
        (Some(pid), Some(n)) => {
            annex_of(n)?;
            let pr = st.store.proposal_get(pid).await?;
            if pr.application_id != a.id {
                return Err(invalid(
                    "proposal_id",
                    "not_here",
                    "that proposal is in another application",
                    "该证书申报不属于本申报书",
                ));
            }
            Some(n)
        }
        (None, None) => None,
        _ => {
            return Err(invalid(
                "annex",
                "pair",
                "an annex task names both the proposal and the annex",
                "附件任务需要同时指定证书申报和附件",
            ));
        }
    };
    let mut tx = st.store.begin_write(&p.username).await?;
    let id = tx
        .task_create(&NewTask {
            application_id: a.id,
            unit_id: unit.id,
            assignee: user.username.clone(),
            title: title.clone(),
            proposal_id: input.proposal_id.filter(|_| annex.is_some()),
            annex,
            deadline: deadline.to_string(),
        })
        .await?;
    tx.notify(
        &user.username,
        &format!("新任务：{title}（截止 {deadline}）"),
        &format!("New task: {title} (due {deadline})"),
        "/my/tasks",
    )
    .await?;
    tx.commit().await?;
    Ok(st.store.task_get(id).await?)
}

fn parse_date(field: &str, s: &str) -> R<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        if s.trim().is_empty() {
            AppError::Invalid(vec![FieldError::required(field)])
        } else {
            invalid(
                field,
                "bad_date",
                format!("\"{}\" is not a date (YYYY-MM-DD)", s.trim()),
                format!("“{}”不是日期（应为 YYYY-MM-DD）", s.trim()),
            )
        }
    })
}

pub async fn my_tasks(st: &AppState, ctx: &Ctx) -> R<Vec<TaskView>> {
    let p = ctx.require()?;
    Ok(task_views(st.store.tasks_of_assignee(&p.username).await?))
}

/// The assignee hands in a task: optionally a file (an annex task puts it into the
/// proposal's slot) and a note; the task is done.
pub async fn complete_task(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    note: &str,
    file: Option<(String, Vec<u8>)>,
) -> R<TaskRow> {
    let t = st.store.task_get(id).await?;
    let p = ctx.authorize(&Action::WorkOnTask {
        assignee: ctx.username() == t.assignee,
    })?;
    if t.state == TaskState::Done {
        return Err(conflict(
            "state",
            "done",
            "this task is already done",
            "该任务已完成",
        ));
    }
    let file = file.filter(|f| !f.1.is_empty());
    if let (Some(pid), Some(n)) = (t.proposal_id, t.annex) {
        let pr = st.store.proposal_get(pid).await?;
        let have = st.store.annexes_of(pid).await?.iter().any(|a| a.annex == n);
        if file.is_some() {
            ensure_editable(&pr)?;
        } else if !have {
            return Err(invalid(
                "file",
                "required",
                format!(
                    "this task is annex {n} of \"{}\": upload the file",
                    pr.name_zh
                ),
                format!("该任务是“{}”的附件{n}，请上传文件", pr.name_zh),
            ));
        }
    }
    let stored = match file {
        Some((name, bytes)) => {
            check_file(&name, &bytes)?;
            let size = bytes.len() as i64;
            Some((
                name.trim().to_string(),
                st.store.objects.put(bytes).await?,
                size,
            ))
        }
        None => None,
    };
    let mut tx = st.store.begin_write(&p.username).await?;
    if let (Some((name, key, size)), Some(pid), Some(n)) = (&stored, t.proposal_id, t.annex) {
        tx.annex_put(pid, n, name, key, "sha256", *size, &format!("task:{id}"))
            .await?;
    }
    let note = note.trim();
    tx.task_set_state(
        id,
        TaskState::Done,
        (!note.is_empty()).then_some(note),
        stored.as_ref().map(|(n, k, _)| (n.as_str(), k.as_str())),
    )
    .await?;
    tx.notify(
        &t.created_by,
        &format!("{} 完成了任务：{}", p.username, t.title),
        &format!("{} finished the task: {}", p.username, t.title),
        &format!("/declare/applications/{}", t.application_id),
    )
    .await?;
    tx.commit().await?;
    Ok(st.store.task_get(id).await?)
}

/// The lead opens a done task again (the work needs redoing).
pub async fn reopen_task(st: &AppState, ctx: &Ctx, id: i64) -> R<TaskRow> {
    let t = st.store.task_get(id).await?;
    let (p, _, _) = editable_application(st, ctx, t.application_id).await?;
    let mut tx = st.store.begin_write(&p.username).await?;
    tx.task_set_state(id, TaskState::Open, None, None).await?;
    tx.notify(
        &t.assignee,
        &format!("任务需要重做：{}", t.title),
        &format!("Task reopened: {}", t.title),
        "/my/tasks",
    )
    .await?;
    tx.commit().await?;
    Ok(st.store.task_get(id).await?)
}

/// Remind the assignees of open tasks (one task, or with `None` every overdue one of the
/// application). Returns how many reminders were sent.
pub async fn remind(
    st: &AppState,
    ctx: &Ctx,
    application_id: i64,
    task_id: Option<i64>,
) -> R<usize> {
    let (p, _, _) = editable_application(st, ctx, application_id).await?;
    let targets: Vec<TaskView> = task_views(st.store.tasks_of_application(application_id).await?)
        .into_iter()
        .filter(|t| t.task.state == TaskState::Open)
        .filter(|t| match task_id {
            Some(id) => t.task.id == id,
            None => t.overdue,
        })
        .collect();
    if targets.is_empty() {
        return Err(conflict(
            "task_id",
            "nothing_to_remind",
            if task_id.is_some() {
                "that task is not open"
            } else {
                "no task is overdue"
            },
            if task_id.is_some() {
                "该任务不是待办状态"
            } else {
                "没有逾期任务"
            },
        ));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    for t in &targets {
        let late = if t.overdue { "（已逾期）" } else { "" };
        tx.notify(
            &t.task.assignee,
            &format!("提醒：任务“{}”截止 {}{late}", t.task.title, t.task.deadline),
            &format!(
                "Reminder: \"{}\" is due {}{}",
                t.task.title,
                t.task.deadline,
                if t.overdue { " (overdue)" } else { "" }
            ),
            "/my/tasks",
        )
        .await?;
        tx.task_reminded(t.task.id).await?;
    }
    tx.commit().await?;
    Ok(targets.len())
}

pub async fn notifications(st: &AppState, ctx: &Ctx) -> R<Vec<NotificationRow>> {
    let p = ctx.require()?;
    Ok(st.store.notifications_of(&p.username, 100).await?)
}

pub async fn mark_notifications_read(st: &AppState, ctx: &Ctx) -> R<()> {
    let p = ctx.require()?;
    let mut tx = st.store.begin_write(&p.username).await?;
    tx.notifications_mark_read(&p.username).await?;
    tx.commit().await?;
    Ok(())
}

// ---------- expert pool ----------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ExpertInput {
    pub username: String,
    pub name: String,
    /// The organization the expert works for: a registry reference (credit code or
    /// name) or free text when it is not in the registry.
    pub org: String,
    pub province: String,
    /// Fields, separated by ";", "；" or ",".
    pub fields: String,
}

pub async fn add_expert(st: &AppState, ctx: &Ctx, input: &ExpertInput) -> R<ExpertRow> {
    let p = ctx.authorize(&Action::ManageBatches)?;
    let user = st
        .store
        .user_by_username(input.username.trim())
        .await?
        .ok_or_else(|| {
            invalid(
                "username",
                "unknown",
                format!("no account \"{}\"", input.username.trim()),
                format!("没有账号“{}”", input.username.trim()),
            )
        })?;
    if user.role != Role::ExpertReviewer {
        return Err(invalid(
            "username",
            "not_expert",
            "only an expert reviewer account joins the pool",
            "只有评审专家账号可以加入专家库",
        ));
    }
    let name = text("name", &input.name, 100)?;
    let org_text = text("org", &input.org, 200)?;
    let org = st.store.org_find(&org_text).await?;
    let province = match input.province.trim() {
        "" => org.as_ref().and_then(|o| o.province.clone()),
        s => Some(
            xcert_domain::org::Province::parse("province", s)
                .map_err(|e| AppError::Invalid(vec![e]))?
                .as_str()
                .to_string(),
        ),
    };
    let fields: Vec<String> = input
        .fields
        .split([';', '；', ',', '，'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let mut tx = st.store.begin_write(&p.username).await?;
    let id = tx
        .expert_create(&NewExpert {
            user_id: user.id,
            name,
            org_id: org.as_ref().map(|o| o.id),
            org_name: org.map(|o| o.name_zh).unwrap_or(org_text),
            province,
            fields,
        })
        .await?;
    tx.commit().await?;
    st.store
        .experts()
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| AppError::Internal("expert vanished".into()))
}

pub async fn experts(st: &AppState, ctx: &Ctx) -> R<Vec<ExpertRow>> {
    ctx.authorize(&Action::ManageBatches)?;
    Ok(st.store.experts().await?)
}

pub async fn set_expert_active(st: &AppState, ctx: &Ctx, id: i64, active: bool) -> R<()> {
    let p = ctx.authorize(&Action::ManageBatches)?;
    let mut tx = st.store.begin_write(&p.username).await?;
    tx.expert_set_active(id, active).await?;
    tx.commit().await?;
    Ok(())
}

// ---------- statistics ----------

/// A batch's figures. Public once the batch is published; before that the ministry's.
pub async fn statistics(st: &AppState, ctx: &Ctx, id: i64) -> R<(BatchRow, BatchStats)> {
    let b = batch(st, ctx, id).await?;
    if b.state != BatchState::Published {
        ctx.authorize(&Action::ManageBatches)?;
    }
    let facts = st.store.stat_facts(id).await?;
    Ok((b, xcert_declare::stats::batch_stats(&facts)))
}

/// A TEO's proposals and results across batches: the TEO and the ministry.
pub async fn teo_results(st: &AppState, ctx: &Ctx, teo_id: i64) -> R<Vec<TeoProposalRow>> {
    ctx.authorize(&Action::Declare { teo_id })?;
    Ok(st.store.proposals_of_teo(teo_id).await?)
}

/// The statistics as a workbook: the totals, by field, by province, and every proposal.
pub async fn statistics_xlsx(st: &AppState, ctx: &Ctx, id: i64) -> R<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let (b, s) = statistics(st, ctx, id).await?;
    let proposals = st.store.proposals_of_batch(id, None).await?;
    let xerr = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.to_string());
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    {
        let ws = wb.add_worksheet().set_name("汇总").map_err(xerr)?;
        ws.write_string_with_format(0, 0, &b.title_zh, &bold)
            .map_err(xerr)?;
        let rows: [(&str, f64); 5] = [
            ("申报书 applications", s.applications as f64),
            ("申报单位 applying units", s.units as f64),
            ("申报证书 proposals", s.proposals as f64),
            ("入围证书 shortlisted certificates", s.shortlisted as f64),
            (
                "入围组织 shortlisted organizations",
                s.shortlisted_units as f64,
            ),
        ];
        for (i, (k, v)) in rows.iter().enumerate() {
            ws.write_string(i as u32 + 1, 0, *k).map_err(xerr)?;
            ws.write_number(i as u32 + 1, 1, *v).map_err(xerr)?;
        }
        ws.write_string(6, 0, "通过率 pass rate").map_err(xerr)?;
        ws.write_number_with_format(6, 1, s.pass_rate, &pct)
            .map_err(xerr)?;
        ws.set_column_width(0, 36).map_err(xerr)?;
    }
    for (name, groups) in [("按领域", &s.by_field), ("按省份", &s.by_province)] {
        let ws = wb.add_worksheet().set_name(name).map_err(xerr)?;
        for (c, h) in [
            "分组 group",
            "申报 proposals",
            "入围 shortlisted",
            "通过率 rate",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string_with_format(0, c as u16, *h, &bold)
                .map_err(xerr)?;
        }
        for (i, g) in groups.iter().enumerate() {
            let r = i as u32 + 1;
            ws.write_string(r, 0, &g.key).map_err(xerr)?;
            ws.write_number(r, 1, g.proposals as f64).map_err(xerr)?;
            ws.write_number(r, 2, g.shortlisted as f64).map_err(xerr)?;
            ws.write_number_with_format(r, 3, g.rate, &pct)
                .map_err(xerr)?;
        }
        ws.set_column_width(0, 24).map_err(xerr)?;
    }
    {
        let ws = wb.add_worksheet().set_name("申报明细").map_err(xerr)?;
        for (c, h) in ["组织", "省份", "证书", "领域", "状态", "得分", "审议意见"]
            .iter()
            .enumerate()
        {
            ws.write_string_with_format(0, c as u16, *h, &bold)
                .map_err(xerr)?;
        }
        for (r, p) in (1..).zip(proposals.iter().filter(|p| p.state.is_submitted())) {
            ws.write_string(r, 0, &p.teo_name).map_err(xerr)?;
            ws.write_string(r, 1, p.teo_province.as_deref().unwrap_or(""))
                .map_err(xerr)?;
            ws.write_string(r, 2, &p.name_zh).map_err(xerr)?;
            ws.write_string(r, 3, &p.field).map_err(xerr)?;
            ws.write_string(r, 4, p.state.zh()).map_err(xerr)?;
            if let Some(sc) = p.score {
                ws.write_number(r, 5, sc).map_err(xerr)?;
            }
            ws.write_string(r, 6, p.decision_reason.as_deref().unwrap_or(""))
                .map_err(xerr)?;
        }
        ws.set_column_width(0, 36).map_err(xerr)?;
        ws.set_column_width(2, 28).map_err(xerr)?;
    }
    wb.save_to_buffer().map_err(xerr)
}

/// The file handed in with a task: for its assignee and the applying TEO (and the
/// ministry). An annex task's file is also in its proposal's slot.
pub async fn task_file(st: &AppState, ctx: &Ctx, id: i64) -> R<(String, Vec<u8>)> {
    let p = ctx.require()?;
    let t = st.store.task_get(id).await?;
    if p.username != t.assignee {
        ctx.authorize(&Action::Declare { teo_id: t.teo_id })?;
    }
    let (Some(name), Some(key)) = (t.file_name, t.object_key) else {
        return Err(AppError::NotFound(format!("the file of task {id}")));
    };
    Ok((name, st.store.objects.get(&key).await?))
}

/// The evidence file attached to an organization's credit and tax verification in a
/// batch: the ministry's, as the verification itself.
pub async fn verification_file(
    st: &AppState,
    ctx: &Ctx,
    batch_id: i64,
    teo_id: i64,
) -> R<(String, Vec<u8>)> {
    ctx.authorize(&Action::ManageBatches)?;
    let v = st
        .store
        .verifications_of_batch(batch_id)
        .await?
        .into_iter()
        .find(|v| v.teo_id == teo_id)
        .ok_or_else(|| AppError::NotFound(format!("verification of organization {teo_id}")))?;
    match (v.file_name, v.object_key) {
        (Some(name), Some(key)) => Ok((name, st.store.objects.get(&key).await?)),
        _ => Err(AppError::NotFound(format!(
            "evidence file of organization {teo_id}"
        ))),
    }
}
