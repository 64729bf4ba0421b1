//! Certificates on the server: issuing jobs from pass lists, TEO keys and DID documents,
//! status lists, suspension/revocation/correction, public query and verification, PDFs.
//!
//! Pages, API and CLI call these; each authorizes with the single access rule. Signing
//! happens outside the write lock (on blocking threads, both cores), and each chunk of
//! signed certificates is written with the job's progress in one transaction.

use crate::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, conflict, invalid};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use xcert_credential::credential::{CertificateClaims, StatusEntry, build_credential};
use xcert_credential::keys::IssuerKey;
use xcert_credential::number::CertificateNumber;
use xcert_credential::status::{MIN_LIST_SIZE, StatusList, slot_to_index, status_list_credential};
use xcert_credential::verify::{KeyResolver, StatusSource, VerificationReport};
use xcert_credential::{did, jwt, keys, proof, verify};
use xcert_domain::access::{Action, Principal, Role, authorize};
use xcert_domain::framework::Level;
use xcert_store::{
    CertificateRow, IssuanceJobRow, IssuanceRow, IssuedFilter, IssuedRow, IssuedState, JobState,
    NewIssued, NewJob, SessionStatus,
};

type R<T> = Result<T, AppError>;

/// Certificates signed per transaction: large enough to keep both cores busy between
/// commits, small enough that a resumed job redoes little.
pub const CHUNK: i64 = 2000;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

/// The lookup hash of an identity number: keyed by the instance's master key, so the
/// stored hashes cannot be matched against a list of ID numbers elsewhere.
pub fn id_lookup_hash(st: &AppState, id_number: &str) -> String {
    let mut h = Sha256::new();
    h.update(st.config.master_key.0);
    h.update(b"id-lookup");
    h.update(id_number.trim().to_ascii_uppercase().as_bytes());
    hex::encode(h.finalize())
}

// ---------------------------------------------------------------------------------------
// Keys and DIDs

/// A TEO as an issuer: its current key and how credentials name it.
pub struct Issuer {
    pub org_id: i64,
    pub name: String,
    pub url: Option<String>,
    pub did: String,
    pub key_id: String,
    pub key: IssuerKey,
}

impl Issuer {
    pub fn verification_method(&self) -> String {
        format!("{}#{}", self.did, self.key_id)
    }
}

pub fn teo_did(st: &AppState, org_id: i64) -> String {
    did::did_web(&st.config.base_url, &["teo", &org_id.to_string()])
}

/// The organization a did:web of this server names, if it is one of ours.
fn local_org(st: &AppState, did: &str) -> Option<i64> {
    let prefix = did::did_web(&st.config.base_url, &["teo", ""]);
    did.strip_prefix(&prefix)?.parse().ok()
}

async fn create_key(st: &AppState, org_id: i64, actor: &str) -> R<()> {
    let n = st.store.issuer_keys(org_id).await?.len();
    let key = IssuerKey::generate();
    let sealed = keys::seal(&st.config.master_key.0, &key.secret_bytes());
    let mut tx = st.store.begin_write(actor).await?;
    tx.issuer_key_insert(
        org_id,
        &format!("key-{}", n + 1),
        &key.public_multibase(),
        &sealed,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The TEO's current key, created on first use.
pub async fn issuer(st: &AppState, org_id: i64, actor: &str) -> R<Issuer> {
    let mut ks = st.store.issuer_keys(org_id).await?;
    if !ks.iter().any(|k| k.retired_at.is_none()) {
        create_key(st, org_id, actor).await?;
        ks = st.store.issuer_keys(org_id).await?;
    }
    let row = ks
        .into_iter()
        .find(|k| k.retired_at.is_none())
        .ok_or_else(|| internal("no current key"))?;
    let secret = keys::open(&st.config.master_key.0, &row.secret_sealed).map_err(|e| {
        internal(format!(
            "the signing key of organization {org_id} cannot be opened (is this the master key it was sealed with?): {e}"
        ))
    })?;
    let org = st.store.org_get(org_id).await?;
    Ok(Issuer {
        org_id,
        name: org.name_zh,
        url: org.website,
        did: teo_did(st, org_id),
        key_id: row.key_id,
        key: IssuerKey::from_secret_bytes(&secret),
    })
}

/// Rotate a TEO's key: a new one signs from now on; the old ones stay in its DID document.
pub async fn rotate_key(
    st: &AppState,
    ctx: &Ctx,
    org_id: i64,
) -> R<Vec<xcert_store::IssuerKeyRow>> {
    let p = ctx.authorize(&Action::IssueCertificates { teo_id: org_id })?;
    let org = st.store.org_get(org_id).await?;
    if org.kind != xcert_domain::org::OrgKind::Teo {
        return Err(invalid(
            "teo",
            "not_teo",
            format!("{} is not a training-evaluation organization", org.name_zh),
            format!("{}不是培训评价组织", org.name_zh),
        ));
    }
    create_key(st, org_id, &p.username).await?;
    Ok(st.store.issuer_keys(org_id).await?)
}

/// The TEO's DID document (did:web), listing every key it ever signed with.
pub async fn did_document(st: &AppState, org_id: i64) -> R<Value> {
    let ks = st.store.issuer_keys(org_id).await?;
    if ks.is_empty() {
        return Err(AppError::NotFound(format!("issuer {org_id}")));
    }
    let current = ks
        .iter()
        .find(|k| k.retired_at.is_none())
        .map(|k| k.key_id.clone())
        .unwrap_or_default();
    let pairs: Vec<(String, String)> = ks
        .iter()
        .rev()
        .map(|k| (k.key_id.clone(), k.public_multibase.clone()))
        .collect();
    Ok(did::did_document(&teo_did(st, org_id), &pairs, &current))
}

// ---------------------------------------------------------------------------------------
// Jobs

/// Where a pass list came from, for the job record.
pub struct PassList {
    pub certificate: CertificateRow,
    pub level: Level,
    pub session_id: Option<i64>,
    pub session_key: String,
    pub source: &'static str,
    pub source_name: String,
    pub rows: Vec<IssuanceRow>,
}

/// The passing candidates of a released session.
pub async fn pass_list_of_session(st: &AppState, ctx: &Ctx, session_id: i64) -> R<PassList> {
    let (s, rows) = crate::assess::results(st, ctx, session_id).await?;
    ctx.authorize(&Action::IssueCertificates { teo_id: s.teo_id })?;
    if s.status != SessionStatus::Released {
        return Err(conflict(
            "session",
            "not_released",
            "certificates are issued from a session whose results are released",
            "考核成绩发布后才能发证",
        ));
    }
    let passed: Vec<_> = rows.into_iter().filter(|r| r.outcome.passed).collect();
    let ids: Vec<i64> = passed.iter().map(|r| r.candidate.person_id).collect();
    let raw: HashMap<i64, String> = st
        .store
        .person_raw_id_numbers(&ids)
        .await?
        .into_iter()
        .collect();
    let rows = passed
        .iter()
        .filter_map(|r| {
            let id = raw.get(&r.candidate.person_id)?;
            Some(IssuanceRow {
                ordinal: 0,
                holder_name: r.candidate.name.clone(),
                id_number: Some(id.clone()),
                id_hash: id_lookup_hash(st, id),
                id_masked: r.candidate.id_masked.clone(),
                person_id: Some(r.candidate.person_id),
                college_id: Some(r.candidate.college_id),
                college_name: Some(r.candidate.college_name.clone()),
            })
        })
        .collect();
    let certificate = st.store.certificate_by_code(&s.certificate_code).await?;
    Ok(PassList {
        certificate,
        level: s.level,
        session_id: Some(s.id),
        session_key: format!("session:{}", s.id),
        source: "session",
        source_name: s.title.clone(),
        rows,
    })
}

/// A row of an uploaded pass list that cannot be used, and why.
#[derive(Debug, Clone, Serialize)]
pub struct PassListError {
    pub row: usize,
    pub field: String,
    pub en: String,
    pub zh: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PassListPreview {
    pub rows: Vec<PreviewRow>,
    pub errors: Vec<PassListError>,
    /// Candidates who already hold this certificate level from this assessment.
    pub already: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewRow {
    pub row: usize,
    pub holder_name: String,
    /// Characters of the name the bundled print fonts lack (they print as empty boxes).
    pub missing_glyphs: String,
    pub id_masked: String,
    pub college_name: Option<String>,
    pub already: bool,
}

/// The headers an uploaded pass list may use for each column.
const NAME_HEADERS: [&str; 3] = ["姓名", "name", "holder_name"];
const ID_HEADERS: [&str; 4] = ["身份证号", "id_number", "身份证号码", "证件号码"];
const COLLEGE_HEADERS: [&str; 3] = ["院校", "college", "学校"];

fn header_index(headers: &[String], names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| {
        let h = h.trim().to_lowercase();
        names.iter().any(|n| {
            h == *n
                || h.starts_with(&format!("{n} "))
                || h.ends_with(&format!("({n})"))
                || h.ends_with(&format!("（{n}）"))
        })
    })
}

/// One usable row of an uploaded pass list: (row number, name, ID number, college).
pub type PassListRow = (usize, String, String, Option<String>);

/// Read an uploaded pass list (.xlsx first sheet, or .csv in any encoding Excel writes):
/// name, full ID number, college.
pub fn read_pass_list(file_name: &str, bytes: &[u8]) -> R<(Vec<PassListRow>, Vec<PassListError>)> {
    let table = xcert_bulk::read_plain(file_name, bytes).map_err(|e| {
        invalid(
            "file",
            e.code(),
            format!("{file_name}: {}", e.en()),
            format!("{file_name}：{}", e.zh()),
        )
    })?;
    let mut table = table
        .into_iter()
        .filter(|r| r.cells.iter().any(|c| !c.trim().is_empty()));
    let Some(header) = table.next() else {
        return Err(invalid(
            "file",
            "empty",
            format!("{file_name} is empty"),
            format!("{file_name} 是空文件"),
        ));
    };
    let headers = &header.cells;
    let (Some(ni), Some(ii)) = (
        header_index(headers, &NAME_HEADERS),
        header_index(headers, &ID_HEADERS),
    ) else {
        return Err(invalid(
            "file",
            "missing_columns",
            format!(
                "{file_name}: the first row must name the columns 姓名 (name) and 身份证号 (id_number)"
            ),
            format!("{file_name}：第一行须有“姓名”和“身份证号”列"),
        ));
    };
    let ci = header_index(headers, &COLLEGE_HEADERS);
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for r in table {
        let row = r.row;
        let get = |i: usize| r.cells.get(i).map(|s| s.trim()).unwrap_or("");
        let name = get(ni);
        if name.is_empty() {
            errors.push(PassListError {
                row,
                field: "name".into(),
                en: "the name is empty".into(),
                zh: "姓名为空".into(),
            });
            continue;
        }
        match xcert_domain::ids::ResidentId::parse(get(ii)) {
            Ok(id) => rows.push((
                row,
                name.to_string(),
                id.expose().to_string(),
                ci.map(|c| get(c).to_string()).filter(|s| !s.is_empty()),
            )),
            Err(e) => errors.push(PassListError {
                row,
                field: "id_number".into(),
                en: format!("not a valid resident ID number: {e}"),
                zh: format!("身份证号无效：{e}"),
            }),
        }
    }
    Ok((rows, errors))
}

/// Check an upload against the registry without writing: which rows issue, which fail.
pub async fn preview_upload(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    level: &str,
    session_ref: &str,
    file_name: &str,
    bytes: &[u8],
) -> R<(PassList, PassListPreview)> {
    let cert = st.store.certificate_by_code(code).await?;
    ctx.authorize(&Action::IssueCertificates {
        teo_id: cert.teo_id,
    })?;
    let level = Level::parse("level", level).map_err(|e| AppError::Invalid(vec![e]))?;
    if !cert.levels.contains(&level) {
        return Err(invalid(
            "level",
            "no_level",
            format!("{} has no {} level", cert.code, level.as_str()),
            format!("{}没有{}等级", cert.name_zh, level.zh()),
        ));
    }
    let session_ref = session_ref.trim();
    if session_ref.is_empty() {
        return Err(invalid(
            "session_ref",
            "required",
            "say which assessment this pass list is from (e.g. 2026-06 SGCC-RPM intermediate)",
            "请填写合格名单所属的考核（如：2026年6月考核）",
        ));
    }
    let (rows, mut errors) = read_pass_list(file_name, bytes)?;
    let session_key = format!("upload:{session_ref}");
    let existing = st
        .store
        .issued_existing(cert.id, level.as_str(), &session_key)
        .await?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut staged = Vec::new();
    let mut preview = Vec::new();
    let mut already = 0;
    for (row, name, id, college) in rows {
        let h = id_lookup_hash(st, &id);
        if let Some(first) = seen.get(&h) {
            errors.push(PassListError {
                row,
                field: "id_number".into(),
                en: format!("the same ID number is already on row {first}"),
                zh: format!("身份证号与第 {first} 行重复"),
            });
            continue;
        }
        seen.insert(h.clone(), row);
        let is_already = existing.contains(&h);
        already += is_already as usize;
        preview.push(PreviewRow {
            row,
            missing_glyphs: xcert_print::covers(&name).into_iter().collect(),
            holder_name: name.clone(),
            id_masked: xcert_domain::ids::mask_id_number(&id),
            college_name: college.clone(),
            already: is_already,
        });
        staged.push(IssuanceRow {
            ordinal: 0,
            holder_name: name,
            id_masked: xcert_domain::ids::mask_id_number(&id),
            id_number: Some(id),
            id_hash: h,
            person_id: None,
            college_id: None,
            college_name: college,
        });
    }
    errors.sort_by_key(|e| e.row);
    Ok((
        PassList {
            certificate: cert,
            level,
            session_id: None,
            session_key,
            source: "upload",
            source_name: file_name.to_string(),
            rows: staged,
        },
        PassListPreview {
            rows: preview,
            errors,
            already,
        },
    ))
}

/// Create the job for a pass list: every candidate not yet holding this certificate
/// level from this assessment gets a reserved number and status slot.
pub async fn create_job(st: &AppState, ctx: &Ctx, list: PassList) -> R<IssuanceJobRow> {
    let p = ctx.authorize(&Action::IssueCertificates {
        teo_id: list.certificate.teo_id,
    })?;
    if let Some(state) = list.certificate.teo_state
        && !state.may_edit_certificates()
    {
        return Err(conflict(
            "teo",
            "teo_state",
            format!(
                "{} is {}: it issues no new certificates (those it issued stay valid)",
                list.certificate.teo_name,
                state.as_str()
            ),
            format!(
                "{}当前状态为“{}”，不能发放新证书（已发证书仍然有效）",
                list.certificate.teo_name,
                state.zh()
            ),
        ));
    }
    let existing = st
        .store
        .issued_existing(list.certificate.id, list.level.as_str(), &list.session_key)
        .await?;
    let mut seen = std::collections::HashSet::new();
    let mut rows: Vec<IssuanceRow> = list
        .rows
        .into_iter()
        .filter(|r| !existing.contains(&r.id_hash) && seen.insert(r.id_hash.clone()))
        .collect();
    if rows.is_empty() {
        return Err(conflict(
            "rows",
            "nothing_to_issue",
            "every candidate on this pass list already holds this certificate level (or the list is empty)",
            "名单中的考生均已获发此证书等级（或名单为空）",
        ));
    }
    for (i, r) in rows.iter_mut().enumerate() {
        r.ordinal = i as i64;
    }
    // Make sure the TEO can sign before reserving anything.
    issuer(st, list.certificate.teo_id, &p.username).await?;
    let size = MIN_LIST_SIZE.max(rows.len().next_power_of_two());
    let secret = (rand::random::<u64>() >> 1) as i64;
    let today = chrono::Utc::now();
    let mut tx = st.store.begin_write(&p.username).await?;
    let id = tx
        .issuance_job_create(&NewJob {
            teo_id: list.certificate.teo_id,
            certificate_id: list.certificate.id,
            level: list.level.as_str().to_string(),
            session_id: list.session_id,
            session_key: list.session_key,
            source: list.source.to_string(),
            source_name: list.source_name,
            year: chrono::Datelike::year(&today) as i64,
            issued_on: today.format("%Y-%m-%d").to_string(),
            rows,
            new_list: (size as i64, secret, StatusList::new(size).encode()),
        })
        .await?;
    tx.commit().await?;
    Ok(st.store.issuance_job(id).await?)
}

/// What a job's certificates share: computed once per run.
/// What every credential of one certificate level says alike.
struct Achievement {
    issuer: Issuer,
    certificate_code: String,
    level: Level,
    name: String,
    description: String,
    criteria: String,
    base: String,
}

async fn achievement(
    st: &AppState,
    cert: &CertificateRow,
    level: Level,
    actor: &str,
) -> R<Achievement> {
    Ok(Achievement {
        issuer: issuer(st, cert.teo_id, actor).await?,
        certificate_code: cert.code.clone(),
        name: format!("{}（{}）", cert.name_zh, level.zh()),
        description: format!(
            "{}职业技能等级证书（{}），由{}颁发。",
            cert.name_zh,
            level.zh(),
            cert.teo_name
        ),
        criteria: criteria_narrative(st, cert, level).await,
        level,
        base: st.config.base_url.trim_end_matches('/').to_string(),
    })
}

/// A job with what its certificates share.
struct JobContext {
    job: IssuanceJobRow,
    a: Achievement,
    list_size: usize,
    list_secret: u64,
}

/// The skill standard's requirements at this level, as the credential's criteria.
async fn criteria_narrative(st: &AppState, cert: &CertificateRow, level: Level) -> String {
    let reqs: Vec<String> = match st.store.standard_get(cert.id, None, true).await {
        Ok(Some(v)) => v
            .tree
            .areas
            .iter()
            .flat_map(|a| a.tasks.iter())
            .flat_map(|t| t.requirements.iter())
            .filter(|r| r.level == level)
            .map(|r| format!("{} {}", r.code, r.text))
            .collect(),
        _ => Vec::new(),
    };
    if reqs.is_empty() {
        format!(
            "通过{}（{}）考核：过程性评价、理论考试与实操考核均达到合格标准。",
            cert.name_zh,
            level.zh()
        )
    } else {
        format!(
            "通过{}（{}）考核，达到职业技能等级标准的以下要求：\n{}",
            cert.name_zh,
            level.zh(),
            reqs.join("\n")
        )
    }
}

fn parse_time(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| chrono::Utc::now())
}

/// Identity of the holder inside a credential: a fresh salt per credential, so two
/// credentials of one person cannot be linked by their hashes.
fn identity_hash(id_number: &str) -> (String, String) {
    let salt = hex::encode(rand::random::<[u8; 16]>());
    let id = id_number.trim().to_ascii_uppercase();
    (
        xcert_credential::credential::identity_hash(&salt, &id),
        salt,
    )
}

pub fn verify_url(base: &str, number: &str) -> String {
    format!("{base}/verify/{number}")
}

fn status_url(base: &str, list_id: i64, purpose: &str) -> String {
    format!("{base}/status/{list_id}/{purpose}")
}

/// Everything a certificate's credential says, for one holder.
#[allow(clippy::too_many_arguments)]
fn claims_for(
    cx: &Achievement,
    number: &CertificateNumber,
    holder_name: &str,
    identity: (String, String),
    id_masked: &str,
    college_name: Option<String>,
    list_id: i64,
    index: usize,
    issued_at: chrono::DateTime<chrono::Utc>,
    replaces: Option<String>,
) -> CertificateClaims {
    CertificateClaims {
        credential_id: verify_url(&cx.base, number.as_str()),
        number: number.clone(),
        issuer_did: cx.issuer.did.clone(),
        issuer_name: cx.issuer.name.clone(),
        issuer_url: cx.issuer.url.clone(),
        holder_name: holder_name.to_string(),
        id_number_hash: identity.0,
        id_salt: identity.1,
        id_masked: id_masked.to_string(),
        achievement_id: format!(
            "{}/certificates/{}#{}",
            cx.base,
            cx.certificate_code,
            cx.level.as_str()
        ),
        achievement_name: cx.name.clone(),
        achievement_description: cx.description.clone(),
        criteria_narrative: cx.criteria.clone(),
        level_name: cx.level.zh().to_string(),
        college_name,
        issued_at,
        valid_until: None,
        status: vec![
            StatusEntry {
                purpose: "revocation".into(),
                list_url: status_url(&cx.base, list_id, "revocation"),
                index,
            },
            StatusEntry {
                purpose: "suspension".into(),
                list_url: status_url(&cx.base, list_id, "suspension"),
                index,
            },
        ],
        replaces,
    }
}

/// Sign one credential both ways: embedded Data Integrity proof and VC-JOSE JWT.
fn sign_both(issuer: &Issuer, c: &CertificateClaims) -> R<(String, String)> {
    let unsigned = build_credential(c);
    let vm = issuer.verification_method();
    let signed = proof::sign_certificate(c, &issuer.key, &vm, c.issued_at).map_err(internal)?;
    let token = jwt::sign_jwt(&unsigned, &issuer.key, &vm);
    Ok((signed.to_string(), token))
}

async fn job_context(st: &AppState, job: IssuanceJobRow) -> R<JobContext> {
    let cert = st.store.certificate_by_code(&job.certificate_code).await?;
    let level = Level::parse("level", &job.level).map_err(|e| AppError::Invalid(vec![e]))?;
    let list = st.store.status_list(job.status_list_id).await?;
    Ok(JobContext {
        a: achievement(st, &cert, level, &job.created_by).await?,
        list_size: list.size as usize,
        list_secret: list.secret as u64,
        job,
    })
}

/// Run (or resume) a job to its end. `progress(done, total)` after each chunk.
pub async fn run_job(
    st: &AppState,
    id: i64,
    progress: &(dyn Fn(i64, i64) + Send + Sync),
) -> R<IssuanceJobRow> {
    let mut job = st.store.issuance_job(id).await?;
    if job.state == JobState::Done {
        return Ok(job);
    }
    if job.state == JobState::Failed {
        // A failure (a database that went away, say) is resumable like a stop.
        let mut tx = st.store.begin_write(&job.created_by).await?;
        tx.issuance_job_restart(id).await?;
        tx.commit().await?;
        job = st.store.issuance_job(id).await?;
    }
    let mut done = job.done;
    let cx = Arc::new(job_context(st, job).await?);
    // Only a higher level can upgrade, and only if lower ones were ever issued: then
    // each chunk looks up its candidates' earlier certificates.
    let lower_levels: Vec<&str> = Level::ALL
        .iter()
        .filter(|l| l.rank() < cx.a.level.rank())
        .map(|l| l.as_str())
        .collect();
    let may_upgrade = !lower_levels.is_empty()
        && st
            .store
            .issued_any_of_levels(cx.job.certificate_id, &lower_levels)
            .await?;
    progress(done, cx.job.total);
    let result: R<()> = async {
        loop {
            let rows = st.store.issuance_rows(id, done, CHUNK).await?;
            if rows.is_empty() {
                break;
            }
            let hashes: Vec<String> = rows.iter().map(|r| r.id_hash.clone()).collect();
            let lower = if may_upgrade {
                st.store
                    .issued_levels_of(cx.job.certificate_id, &hashes)
                    .await?
            } else {
                HashMap::new()
            };
            let next = rows.last().map(|r| r.ordinal + 1).unwrap_or(done);
            let c2 = cx.clone();
            let certs = tokio::task::spawn_blocking(move || sign_chunk(&c2, &rows, &lower))
                .await
                .map_err(internal)??;
            let mut tx = st.store.begin_write(&cx.job.created_by).await?;
            tx.issued_insert_chunk(id, &certs, next).await?;
            tx.commit().await?;
            done = next;
            progress(done, cx.job.total);
        }
        Ok(())
    }
    .await;
    let mut tx = st.store.begin_write(&cx.job.created_by).await?;
    match &result {
        Ok(()) => tx.issuance_job_finish(id, JobState::Done, None).await?,
        Err(e) => {
            tx.issuance_job_finish(id, JobState::Failed, Some(&e.message("en")))
                .await?
        }
    }
    tx.commit().await?;
    result?;
    Ok(st.store.issuance_job(id).await?)
}

/// Sign a chunk on all cores. `lower` maps an identity hash to its earlier
/// (level, number) certificates of the same certificate, for the upgrade link.
fn sign_chunk(
    cx: &JobContext,
    rows: &[IssuanceRow],
    lower: &HashMap<String, Vec<(String, String)>>,
) -> R<Vec<NewIssued>> {
    use rayon::prelude::*;
    let issued_at = parse_time(&cx.job.created_at);
    let digit = cx.a.level.rank();
    rows.par_iter()
        .map(|r| {
            let number = CertificateNumber::new(
                cx.job.year as i32,
                digit,
                (cx.job.number_base + r.ordinal) as u64,
            )
            .map_err(internal)?;
            let slot = (cx.job.slot_base + r.ordinal) as usize;
            let index = slot_to_index(cx.list_secret, cx.list_size, slot);
            let id_number = r.id_number.as_deref().ok_or_else(|| {
                internal(format!(
                    "row {} of job {} lost its ID number",
                    r.ordinal, cx.job.id
                ))
            })?;
            let upgrades = lower.get(&r.id_hash).and_then(|v| {
                v.iter()
                    .filter(|(l, _)| Level::parse("level", l).is_ok_and(|l| l.rank() < digit))
                    .max_by_key(|(l, _)| Level::parse("level", l).map(Level::rank).unwrap_or(0))
                    .map(|(_, n)| n.clone())
            });
            let claims = claims_for(
                &cx.a,
                &number,
                &r.holder_name,
                identity_hash(id_number),
                &r.id_masked,
                r.college_name.clone(),
                cx.job.status_list_id,
                index,
                issued_at,
                None,
            );
            let (json, token) = sign_both(&cx.a.issuer, &claims)?;
            Ok(NewIssued {
                number: number.as_str().to_string(),
                job_id: Some(cx.job.id),
                certificate_id: cx.job.certificate_id,
                level: cx.job.level.clone(),
                teo_id: cx.job.teo_id,
                college_id: r.college_id,
                college_name: r.college_name.clone(),
                person_id: r.person_id,
                holder_name: r.holder_name.clone(),
                id_hash: r.id_hash.clone(),
                id_masked: r.id_masked.clone(),
                session_key: cx.job.session_key.clone(),
                issued_on: cx.job.issued_on.clone(),
                status_list_id: cx.job.status_list_id,
                status_index: index as i64,
                replaces: None,
                upgrades,
                key_id: cx.a.issuer.key_id.clone(),
                credential_json: json,
                credential_jwt: token,
            })
        })
        .collect()
}

/// Run a job in the background.
pub fn spawn_job(st: &AppState, id: i64) {
    let st = st.clone();
    tokio::spawn(async move {
        if let Err(e) = run_job(&st, id, &|_, _| {}).await {
            tracing::warn!(job = id, error = %e.message("en"), "issuing job failed");
        }
    });
}

/// Jobs a stop interrupted go on where their last chunk committed.
pub async fn resume_unfinished(st: &AppState) {
    match st.store.issuance_unfinished().await {
        Ok(ids) => {
            for id in ids {
                tracing::info!(job = id, "resuming issuing job");
                spawn_job(st, id);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot list unfinished issuing jobs"),
    }
}

/// Jobs the caller may see.
pub async fn jobs(st: &AppState, ctx: &Ctx) -> R<Vec<IssuanceJobRow>> {
    let p = ctx.require()?;
    match (p.role, p.org_id) {
        (Role::MinistryAdmin, _) => Ok(st.store.issuance_jobs(None).await?),
        (Role::TeoStaff, Some(t)) => Ok(st.store.issuance_jobs(Some(t)).await?),
        _ => Err(AppError::Forbidden(xcert_domain::access::Denied {
            en: "certificates are issued by their TEO".into(),
            zh: "证书由培训评价组织发放".into(),
        })),
    }
}

pub async fn job(st: &AppState, ctx: &Ctx, id: i64) -> R<IssuanceJobRow> {
    let p = ctx.require()?;
    let j = st.store.issuance_job(id).await?;
    if authorize(Some(&p), &Action::IssueCertificates { teo_id: j.teo_id }).is_err() {
        return Err(AppError::NotFound(format!("issuing job {id}")));
    }
    Ok(j)
}

// ---------------------------------------------------------------------------------------
// Issued certificates: listing, state changes, corrections

/// What the caller may list: a TEO its own, a college its students', a candidate theirs.
pub fn scoped_filter(p: &Principal, mut f: IssuedFilter) -> R<IssuedFilter> {
    match (p.role, p.org_id) {
        (Role::MinistryAdmin, _) => {}
        (Role::TeoStaff, Some(t)) => f.teo_id = Some(t),
        (Role::CollegeStaff, Some(c)) => f.college_id = Some(c),
        (Role::Candidate, _) => f.person_id = Some(p.person_id.unwrap_or(-1)),
        _ => {
            return Err(AppError::Forbidden(xcert_domain::access::Denied {
                en: "your role does not see issued certificates".into(),
                zh: "您的角色无权查看已发证书".into(),
            }));
        }
    }
    Ok(f)
}

pub async fn issued_list(st: &AppState, ctx: &Ctx, f: IssuedFilter) -> R<(Vec<IssuedRow>, i64)> {
    let p = ctx.require()?;
    let f = scoped_filter(&p, f)?;
    Ok(st.store.issued_list(&f).await?)
}

/// One issued certificate, if the caller may see it (otherwise "not found").
pub async fn issued(st: &AppState, ctx: &Ctx, number: &str) -> R<IssuedRow> {
    let p = ctx.require()?;
    let nf = || AppError::NotFound(format!("certificate {number}"));
    let row = st
        .store
        .issued_by_number(number.trim())
        .await?
        .ok_or_else(nf)?;
    let own = p.role == Role::Candidate && row.person_id.is_some() && row.person_id == p.person_id;
    let may = own
        || authorize(
            Some(&p),
            &Action::ViewIssued {
                teo_id: row.teo_id,
                college_id: row.college_id,
            },
        )
        .is_ok();
    if !may {
        return Err(nf());
    }
    Ok(row)
}

/// A certificate the caller's TEO may change.
async fn to_change(st: &AppState, ctx: &Ctx, number: &str) -> R<(Principal, IssuedRow)> {
    let row = st
        .store
        .issued_by_number(number.trim())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("certificate {number}")))?;
    let p = ctx.authorize(&Action::IssueCertificates { teo_id: row.teo_id })?;
    Ok((p, row))
}

fn required_reason(reason: &str) -> R<&str> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(invalid(
            "reason",
            "required",
            "say why (it is recorded in the audit log)",
            "请填写原因（记入审计日志）",
        ));
    }
    Ok(r)
}

/// Record a certificate's new state and set its bits in both status lists, in `tx`.
async fn record_state(
    tx: &mut xcert_store::WriteTx,
    row: &IssuedRow,
    to: IssuedState,
    reason: &str,
) -> R<()> {
    let list = tx.status_list_locked(row.status_list_id).await?;
    let mut rev = StatusList::decode(&list.revocation).map_err(internal)?;
    let mut sus = StatusList::decode(&list.suspension).map_err(internal)?;
    let i = row.status_index as usize;
    rev.set(i, to == IssuedState::Revoked);
    sus.set(i, to == IssuedState::Suspended);
    tx.issued_set_state(row, to, reason, &rev.encode(), &sus.encode())
        .await?;
    Ok(())
}

/// Suspend, revoke or reinstate, with a reason; the status lists change in the same
/// transaction, so the next verification sees it.
pub async fn change_state(
    st: &AppState,
    ctx: &Ctx,
    number: &str,
    to: IssuedState,
    reason: &str,
) -> R<IssuedRow> {
    let (p, row) = to_change(st, ctx, number).await?;
    let reason = required_reason(reason)?;
    let allowed = matches!(
        (row.state, to),
        (IssuedState::Active, IssuedState::Suspended)
            | (IssuedState::Active, IssuedState::Revoked)
            | (IssuedState::Suspended, IssuedState::Active)
            | (IssuedState::Suspended, IssuedState::Revoked)
    );
    if !allowed {
        return Err(conflict(
            "state",
            "bad_transition",
            format!(
                "a {} certificate cannot become {} (revocation is final)",
                row.state.as_str(),
                to.as_str()
            ),
            format!(
                "证书状态“{}”不能变为“{}”（撤销不可恢复）",
                state_zh(row.state),
                state_zh(to)
            ),
        ));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    record_state(&mut tx, &row, to, reason).await?;
    tx.commit().await?;
    forget_public(st);
    Ok(st.store.issued_by_number(&row.number).await?.unwrap_or(row))
}

pub fn state_zh(s: IssuedState) -> &'static str {
    match s {
        IssuedState::Active => "有效",
        IssuedState::Suspended => "暂停",
        IssuedState::Revoked => "已撤销",
    }
}

/// A correction: a new certificate (new number) with the corrected name replaces the
/// old one, which is revoked with the reason and points to its replacement.
pub async fn correct(
    st: &AppState,
    ctx: &Ctx,
    number: &str,
    holder_name: &str,
    college_name: Option<&str>,
    reason: &str,
) -> R<IssuedRow> {
    let (p, old) = to_change(st, ctx, number).await?;
    let holder_name = holder_name.trim();
    if holder_name.is_empty() {
        return Err(invalid(
            "holder_name",
            "required",
            "the corrected name is empty",
            "更正后的姓名为空",
        ));
    }
    required_reason(reason)?;
    if old.state == IssuedState::Revoked || old.replaced_by.is_some() {
        return Err(conflict(
            "state",
            "not_active",
            "only a valid certificate can be corrected",
            "只能更正有效的证书",
        ));
    }
    // The identity hash and its salt carry over from the credential being corrected:
    // the raw ID number is not kept after issuing.
    let old_vc: Value = serde_json::from_str(&old.credential_json).map_err(internal)?;
    let identity = old_vc["credentialSubject"]["identifier"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["hashed"] == Value::Bool(true)))
        .and_then(|i| {
            Some((
                i["identityHash"].as_str()?.to_string(),
                i["salt"].as_str()?.to_string(),
            ))
        })
        .ok_or_else(|| internal("the credential has no hashed identity"))?;
    let level = Level::parse("level", &old.level).map_err(|e| AppError::Invalid(vec![e]))?;
    let now = chrono::Utc::now();
    let year = chrono::Datelike::year(&now) as i64;
    let size = MIN_LIST_SIZE;
    let fresh = (
        size as i64,
        (rand::random::<u64>() >> 1) as i64,
        StatusList::new(size).encode(),
    );
    let cert = st.store.certificate_by_code(&old.certificate_code).await?;
    let cx = achievement(st, &cert, level, &p.username).await?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let (seq, list_id, slot) = tx.reserve_single(year, old.teo_id, &fresh).await?;
    let (lsize, lsecret) = tx.status_list_secret(list_id).await?;
    let index = slot_to_index(lsecret as u64, lsize as usize, slot as usize);
    let number = CertificateNumber::new(year as i32, level.rank(), seq as u64).map_err(internal)?;
    let college_name = college_name
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or(old.college_name.clone());
    let claims = claims_for(
        &cx,
        &number,
        holder_name,
        identity,
        &old.id_masked,
        college_name.clone(),
        list_id,
        index,
        now,
        Some(verify_url(&cx.base, &old.number)),
    );
    let (json, token) = sign_both(&cx.issuer, &claims)?;
    let new = NewIssued {
        number: number.as_str().to_string(),
        job_id: None,
        certificate_id: old.certificate_id,
        level: old.level.clone(),
        teo_id: old.teo_id,
        college_id: old.college_id,
        college_name,
        person_id: old.person_id,
        holder_name: holder_name.to_string(),
        id_hash: old.id_hash.clone(),
        id_masked: old.id_masked.clone(),
        session_key: format!("{}/correction:{}", old.session_key, number.as_str()),
        issued_on: now.format("%Y-%m-%d").to_string(),
        status_list_id: list_id,
        status_index: index as i64,
        replaces: Some(old.number.clone()),
        upgrades: old.upgrades.clone(),
        key_id: cx.issuer.key_id.clone(),
        credential_json: json,
        credential_jwt: token,
    };
    tx.issued_insert_one(&new, reason.trim()).await?;
    // The corrected certificate is revoked on its own list.
    let why = format!("corrected by {}: {}", new.number, reason.trim());
    record_state(&mut tx, &old, IssuedState::Revoked, &why).await?;
    tx.issued_mark_replaced(&old.number, &new.number).await?;
    tx.commit().await?;
    forget_public(st);
    st.store
        .issued_by_number(&new.number)
        .await?
        .ok_or_else(|| internal("the correction was not stored"))
}

// ---------------------------------------------------------------------------------------
// Public: query, verification page, status lists, credential checks

/// What the public sees of a certificate: the ID number masked, nothing else private.
#[derive(Debug, Clone, Serialize)]
pub struct PublicCertificate {
    pub number: String,
    pub holder_name: String,
    pub id_masked: String,
    pub certificate_code: String,
    pub certificate_name: String,
    pub certificate_name_en: Option<String>,
    pub level: String,
    pub level_zh: String,
    pub teo_name: String,
    pub college_name: Option<String>,
    pub issued_on: String,
    pub state: IssuedState,
    pub state_zh: String,
    pub valid: bool,
    pub replaced_by: Option<String>,
    pub replaces: Option<String>,
    pub upgrades: Option<String>,
    pub verify_url: String,
    pub credential_url: String,
}

pub fn public_view(st: &AppState, r: &IssuedRow) -> PublicCertificate {
    let base = st.config.base_url.trim_end_matches('/');
    let level = Level::parse("level", &r.level).ok();
    PublicCertificate {
        number: r.number.clone(),
        holder_name: r.holder_name.clone(),
        id_masked: r.id_masked.clone(),
        certificate_code: r.certificate_code.clone(),
        certificate_name: r.certificate_name.clone(),
        certificate_name_en: r.certificate_name_en.clone(),
        level: r.level.clone(),
        level_zh: level.map(|l| l.zh().to_string()).unwrap_or_default(),
        teo_name: r.teo_name.clone(),
        college_name: r.college_name.clone(),
        issued_on: r.issued_on.clone(),
        state: r.state,
        state_zh: state_zh(r.state).to_string(),
        valid: r.state == IssuedState::Active,
        replaced_by: r.replaced_by.clone(),
        replaces: r.replaces.clone(),
        upgrades: r.upgrades.clone(),
        verify_url: verify_url(base, &r.number),
        credential_url: format!("{base}/verify/{}/credential.json", r.number),
    }
}

/// A certificate's public record as served, with its JSON ready to send.
pub struct PublicEntry {
    pub view: PublicCertificate,
    pub json: axum::body::Bytes,
    /// The verification page as an anonymous visitor gets it, per language.
    pub pages: Mutex<HashMap<&'static str, axum::body::Bytes>>,
}

/// Public records by number. The verification page and API are what QR codes and
/// employers hit; serving them from memory keeps them near a bare endpoint's speed.
/// Changes made by this process clear it at once ([`forget_public`]); changes by another
/// process (the CLI, a second server) are seen through the status lists' last change,
/// which [`spawn_change_watch`] polls.
#[derive(Default)]
pub struct PublicCache {
    map: Mutex<HashMap<String, Arc<PublicEntry>>>,
    watching: std::sync::OnceLock<()>,
}

/// Forget every cached public record and signed status list: a state changed.
pub fn forget_public(st: &AppState) {
    st.public_cache
        .map
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
    st.status_cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
}

/// Watch for state changes made outside this process (every 250 ms, one tiny query);
/// started by the first public lookup.
fn spawn_change_watch(st: &AppState) {
    let st = st.clone();
    tokio::spawn(async move {
        let mut last = st.store.status_lists_marker().await.ok();
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            let now = st.store.status_lists_marker().await.ok();
            if now.is_some() && now != last {
                forget_public(&st);
                last = now;
            }
        }
    });
}

/// The current public record of a number (None when there is no such certificate).
pub async fn public_record(st: &AppState, number: &str) -> R<Option<Arc<PublicEntry>>> {
    st.public_cache
        .watching
        .get_or_init(|| spawn_change_watch(st));
    let n = number.trim().to_ascii_uppercase();
    if let Some(e) = st
        .public_cache
        .map
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&n)
    {
        return Ok(Some(e.clone()));
    }
    let Some(row) = public_by_number(st, &n).await? else {
        return Ok(None);
    };
    let view = public_view(st, &row);
    let json = serde_json::to_vec(&view).map_err(internal)?.into();
    let e = Arc::new(PublicEntry {
        view,
        json,
        pages: Mutex::new(HashMap::new()),
    });
    let mut map = st
        .public_cache
        .map
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if map.len() >= 200_000 {
        map.clear();
    }
    map.insert(n, e.clone());
    Ok(Some(e))
}

/// The stable verification page's certificate (the QR code's target).
pub async fn public_by_number(st: &AppState, number: &str) -> R<Option<IssuedRow>> {
    let n = number.trim().to_ascii_uppercase();
    if CertificateNumber::parse(&n).is_err() {
        return Ok(None);
    }
    Ok(st.store.issued_by_number(&n).await?)
}

fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '·' && *c != '•')
            .collect::<String>()
    };
    norm(a) == norm(b)
}

/// Query by number + name, or by ID number + name. A wrong name and an unknown number
/// or ID give the same empty answer, so the query does not reveal who holds what.
pub async fn public_query(
    st: &AppState,
    number: Option<&str>,
    id_number: Option<&str>,
    name: &str,
) -> R<Vec<PublicCertificate>> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid(
            "name",
            "required",
            "enter the holder's name",
            "请输入持证人姓名",
        ));
    }
    let rows = match (
        number.map(str::trim).filter(|s| !s.is_empty()),
        id_number.map(str::trim).filter(|s| !s.is_empty()),
    ) {
        (Some(n), _) => {
            if let Err(e) = CertificateNumber::parse(n) {
                return Err(invalid(
                    "number",
                    "bad_number",
                    e.to_string(),
                    format!("证书编号格式不正确：{e}"),
                ));
            }
            public_by_number(st, n)
                .await?
                .into_iter()
                .collect::<Vec<_>>()
        }
        (None, Some(id)) => {
            let id = xcert_domain::ids::ResidentId::parse(id).map_err(|e| {
                invalid(
                    "id_number",
                    "bad_id",
                    format!("not a valid resident ID number: {e}"),
                    format!("身份证号无效：{e}"),
                )
            })?;
            st.store
                .issued_by_id_hash(&id_lookup_hash(st, id.expose()))
                .await?
        }
        (None, None) => {
            return Err(invalid(
                "number",
                "required",
                "enter a certificate number or an ID number",
                "请输入证书编号或身份证号",
            ));
        }
    };
    Ok(rows
        .iter()
        .filter(|r| same_name(&r.holder_name, name))
        .map(|r| public_view(st, r))
        .collect())
}

/// Signed status list credentials, cached until a state change clears them.
pub type StatusCache = Mutex<HashMap<(i64, String), Arc<Value>>>;

pub async fn status_list_vc(st: &AppState, list_id: i64, purpose: &str) -> R<Arc<Value>> {
    if purpose != "revocation" && purpose != "suspension" {
        return Err(AppError::NotFound(format!(
            "status list {list_id}/{purpose}"
        )));
    }
    let key = (list_id, purpose.to_string());
    if let Some(v) = st
        .status_cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
    {
        return Ok(v.clone());
    }
    let list = st.store.status_list(list_id).await?;
    let bits = StatusList::decode(if purpose == "revocation" {
        &list.revocation
    } else {
        &list.suspension
    })
    .map_err(internal)?;
    let base = st.config.base_url.trim_end_matches('/');
    let issuer = issuer(st, list.org_id, "system").await?;
    let unsigned = status_list_credential(
        &status_url(base, list_id, purpose),
        &issuer.did,
        purpose,
        &bits,
        parse_time(&list.updated_at),
    );
    let signed = proof::sign(
        &unsigned,
        &issuer.key,
        &issuer.verification_method(),
        chrono::Utc::now(),
    )
    .map_err(internal)?;
    let v = Arc::new(signed);
    st.status_cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, v.clone());
    Ok(v)
}

/// Keys and lists of this server, loaded before a (synchronous) verification.
struct Local {
    keys: HashMap<String, ed25519_dalek::VerifyingKey>,
    lists: HashMap<String, StatusList>,
}

impl KeyResolver for Local {
    fn resolve(&self, vm: &str) -> Option<ed25519_dalek::VerifyingKey> {
        self.keys.get(vm).copied()
    }
}

impl StatusSource for Local {
    fn status_list(&self, url: &str) -> Option<StatusList> {
        self.lists.get(url).cloned()
    }
}

/// Load what a credential refers to on this server: its issuer's keys, its status lists.
async fn local_for(st: &AppState, vc: &Value) -> Local {
    let mut local = Local {
        keys: HashMap::new(),
        lists: HashMap::new(),
    };
    let issuer = vc["issuer"]["id"]
        .as_str()
        .or(vc["issuer"].as_str())
        .unwrap_or("");
    if let Some(org) = local_org(st, issuer)
        && let Ok(ks) = st.store.issuer_keys(org).await
    {
        for k in ks {
            if let Ok(pk) = keys::public_key_from_multibase(&k.public_multibase) {
                local.keys.insert(format!("{issuer}#{}", k.key_id), pk);
            }
        }
    }
    let base = st.config.base_url.trim_end_matches('/');
    let entries: Vec<&Value> = match &vc["credentialStatus"] {
        Value::Array(a) => a.iter().collect(),
        v @ Value::Object(_) => vec![v],
        _ => vec![],
    };
    for e in entries {
        let Some(url) = e["statusListCredential"].as_str() else {
            continue;
        };
        let Some(rest) = url.strip_prefix(&format!("{base}/status/")) else {
            continue;
        };
        let mut parts = rest.split('/');
        let (Some(id), Some(purpose)) = (
            parts.next().and_then(|s| s.parse::<i64>().ok()),
            parts.next(),
        ) else {
            continue;
        };
        if let Ok(l) = st.store.status_list(id).await {
            let enc = if purpose == "suspension" {
                &l.suspension
            } else {
                &l.revocation
            };
            if let Ok(bits) = StatusList::decode(enc) {
                local.lists.insert(url.to_string(), bits);
            }
        }
    }
    local
}

/// Check a pasted or uploaded credential (JSON with a proof, or a JWT): signature,
/// issuer, status and dates, each explained.
/// A verification report as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<ReportCheck>,
    pub credential: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportCheck {
    pub code: &'static str,
    pub ok: bool,
    pub skipped: bool,
    pub en: String,
    pub zh: String,
}

impl From<VerificationReport> for Report {
    fn from(r: VerificationReport) -> Report {
        Report {
            ok: r.ok,
            checks: r
                .checks
                .into_iter()
                .map(|c| ReportCheck {
                    code: c.code,
                    ok: c.ok,
                    skipped: c.skipped,
                    en: c.en,
                    zh: c.zh,
                })
                .collect(),
            credential: r.credential,
        }
    }
}

pub async fn verify_text(st: &AppState, text: &str) -> R<Report> {
    let presented = verify::parse_presented(text).map_err(|e| {
        invalid(
            "credential",
            "not_a_credential",
            e.to_string(),
            format!("无法识别为可验证凭证：{e}"),
        )
    })?;
    let vc = match &presented {
        verify::Presented::DataIntegrity(v) => v.clone(),
        verify::Presented::Jwt(t) => jwt::decode_jwt(t).map(|(_, v)| v).unwrap_or(Value::Null),
    };
    let local = local_for(st, &vc).await;
    let resolver = verify::DidKeyFirst(&local);
    Ok(verify::verify_presented(&presented, &resolver, &local, chrono::Utc::now()).into())
}

// ---------------------------------------------------------------------------------------
// Printing

pub fn print_of(st: &AppState, r: &IssuedRow) -> xcert_print::CertificatePrint {
    let level = Level::parse("level", &r.level).ok();
    let base = st.config.base_url.trim_end_matches('/');
    xcert_print::CertificatePrint {
        number: r.number.clone(),
        holder_name: r.holder_name.clone(),
        id_masked: r.id_masked.clone(),
        certificate_name: r.certificate_name.clone(),
        certificate_name_en: r.certificate_name_en.clone(),
        level_name: level.map(|l| l.zh().to_string()).unwrap_or_default(),
        level_name_en: level.map(|l| l.en().to_string()),
        teo_name: r.teo_name.clone(),
        college_name: r.college_name.clone(),
        issued_on: chrono::NaiveDate::parse_from_str(&r.issued_on, "%Y-%m-%d")
            .unwrap_or_else(|_| chrono::Utc::now().date_naive()),
        verify_url: verify_url(base, &r.number),
        status_note: match r.state {
            IssuedState::Active => None,
            IssuedState::Suspended => Some("暂停 Suspended".into()),
            IssuedState::Revoked => Some("已撤销 Revoked".into()),
        },
    }
}

pub async fn pdf(st: &AppState, ctx: &Ctx, number: &str) -> R<Vec<u8>> {
    let r = issued(st, ctx, number).await?;
    let p = print_of(st, &r);
    tokio::task::spawn_blocking(move || xcert_print::render_pdf(&[p]))
        .await
        .map_err(internal)?
        .map_err(internal)
}

/// A zip of one PDF per certificate of a job.
pub async fn job_zip(st: &AppState, ctx: &Ctx, id: i64) -> R<Vec<u8>> {
    let j = job(st, ctx, id).await?;
    let (rows, _) = st
        .store
        .issued_list(&IssuedFilter {
            job_id: Some(j.id),
            limit: Some(1_000_000),
            ..Default::default()
        })
        .await?;
    let prints: Vec<_> = rows.iter().map(|r| print_of(st, r)).collect();
    tokio::task::spawn_blocking(move || {
        let mut out = std::io::Cursor::new(Vec::new());
        xcert_print::render_zip(&prints, &mut out).map(|_| out.into_inner())
    })
    .await
    .map_err(internal)?
    .map_err(internal)
}

// ---------------------------------------------------------------------------------------
// Rate limiting of the public queries

/// A token bucket per client address: `burst` queries at once, then one per `every`.
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    burst: f64,
    per_sec: f64,
}

impl RateLimiter {
    pub fn new(burst: u32, per_minute: u32) -> RateLimiter {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
            burst: burst as f64,
            per_sec: per_minute as f64 / 60.0,
        }
    }

    /// Ok, or the seconds to wait.
    pub fn check(&self, client: &str) -> Result<(), i64> {
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if b.len() > 100_000 {
            // Forget full buckets so the map stays bounded.
            let (burst, rate) = (self.burst, self.per_sec);
            b.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let e = b.entry(client.to_string()).or_insert((self.burst, now));
        e.0 = (e.0 + now.duration_since(e.1).as_secs_f64() * self.per_sec).min(self.burst);
        e.1 = now;
        if e.0 >= 1.0 {
            e.0 -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - e.0) / self.per_sec).ceil() as i64)
        }
    }
}
