//! The operations behind both the pages and the API: parse input, authorize, write in
//! one audited transaction. Handlers only translate HTTP to and from these.

use crate::AppState;
use crate::auth::Ctx;
use crate::error::AppError;
use serde::Serialize;
use xcert_domain::FieldError;
use xcert_domain::access::{Action, Role, authorize};
use xcert_domain::case::{CaseDocumentInfo, CfPackage, to_case};
use xcert_domain::certificate::{CertificateInput, CertificateStatus};
use xcert_domain::org::{OrgKind, OrganizationInput, TeoState};
use xcert_domain::person::PersonInput;
use xcert_domain::standard::StandardTree;
use xcert_store::{
    CatalogueFilter, CertificateRow, NewUser, OrgRow, PersonRow, StandardVersion, UserRow,
    VersionInfo,
};

type R<T> = Result<T, AppError>;

pub async fn create_org(st: &AppState, ctx: &Ctx, input: &OrganizationInput) -> R<OrgRow> {
    let o = input.parse()?;
    let p = ctx.authorize(&Action::CreateOrganization {
        kind: o.kind,
        province: o.province.as_ref().map(|p| p.as_str()),
    })?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.org_create(&o).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn update_org(st: &AppState, ctx: &Ctx, id: i64, input: &OrganizationInput) -> R<OrgRow> {
    let current = st.store.org_get(id).await?;
    let o = input.parse()?;
    let p = ctx.authorize(&Action::UpdateOrganization {
        org_id: id,
        kind: current.kind,
        province: current.province.as_deref(),
    })?;
    // A province admin may not move a college out of its province.
    authorize(
        Some(&p),
        &Action::UpdateOrganization {
            org_id: id,
            kind: o.kind,
            province: o.province.as_ref().map(|p| p.as_str()),
        },
    )?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.org_update(id, &o).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn set_teo_state(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    state: &str,
    reason: &str,
) -> R<OrgRow> {
    let p = ctx.authorize(&Action::ChangeTeoState)?;
    let to = TeoState::parse("state", state).map_err(|e| AppError::Invalid(vec![e]))?;
    if reason.trim().is_empty() {
        return Err(AppError::Invalid(vec![FieldError::required("reason")]));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.teo_set_state(id, to, reason.trim()).await?;
    tx.commit().await?;
    Ok(row)
}

/// Which TEO a new certificate belongs to: TEO staff always their own; others must say.
fn owning_teo(ctx: &Ctx, requested: Option<i64>) -> R<i64> {
    let p = ctx.require()?;
    match (p.role, p.org_id, requested) {
        (Role::TeoStaff, Some(own), None) => Ok(own),
        (_, _, Some(t)) => Ok(t),
        _ => Err(AppError::Invalid(vec![FieldError::required("teo_id")])),
    }
}

pub async fn create_certificate(
    st: &AppState,
    ctx: &Ctx,
    teo_id: Option<i64>,
    input: &CertificateInput,
) -> R<CertificateRow> {
    let teo = owning_teo(ctx, teo_id)?;
    let mut c = input.parse()?;
    let p = ctx.authorize(&Action::CreateCertificate { teo_id: teo })?;
    if authorize(Some(&p), &Action::SetCertificateStatus).is_err() {
        c.status = CertificateStatus::Draft;
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.certificate_create(teo, &c).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn update_certificate(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    input: &CertificateInput,
) -> R<CertificateRow> {
    let current = st.store.certificate_by_code(code).await?;
    let p = ctx.authorize(&Action::UpdateCertificate {
        teo_id: current.teo_id,
    })?;
    let c = input.parse()?;
    let may_status = authorize(Some(&p), &Action::SetCertificateStatus).is_ok();
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.certificate_update(&current.code, &c, may_status).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn save_standard(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    tree: &StandardTree,
    note: Option<&str>,
) -> R<VersionInfo> {
    let cert = st.store.certificate_by_code(code).await?;
    let p = ctx.authorize(&Action::UpdateCertificate {
        teo_id: cert.teo_id,
    })?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let v = tx.standard_save_draft(&cert.code, tree, note).await?;
    tx.commit().await?;
    Ok(v)
}

pub async fn publish_standard(st: &AppState, ctx: &Ctx, code: &str) -> R<VersionInfo> {
    let cert = st.store.certificate_by_code(code).await?;
    let p = ctx.authorize(&Action::UpdateCertificate {
        teo_id: cert.teo_id,
    })?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let v = tx.standard_publish(&cert.code).await?;
    tx.commit().await?;
    Ok(v)
}

/// A certificate as a given caller may see it: drafts only for its TEO and the ministry.
pub async fn certificate_visible(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
) -> R<(CertificateRow, bool)> {
    let cert = st.store.certificate_by_code(code).await?;
    let p = ctx.principal();
    let insider = p.as_ref().is_some_and(|p| p.sees_drafts_of(cert.teo_id));
    if !cert.status.is_public() && !insider {
        return Err(AppError::NotFound(format!("certificate {code}")));
    }
    let can_edit = authorize(
        p.as_ref(),
        &Action::UpdateCertificate {
            teo_id: cert.teo_id,
        },
    )
    .is_ok();
    Ok((cert, can_edit))
}

/// Whether the caller sees a certificate's drafts (its TEO's staff and the ministry).
pub fn insider(ctx: &Ctx, cert: &CertificateRow) -> bool {
    ctx.principal()
        .is_some_and(|p| p.sees_drafts_of(cert.teo_id))
}

/// The standard's versions the caller may see, newest first.
pub async fn visible_versions(
    st: &AppState,
    ctx: &Ctx,
    cert: &CertificateRow,
) -> R<Vec<VersionInfo>> {
    let insider = insider(ctx, cert);
    Ok(st
        .store
        .standard_versions(cert.id)
        .await?
        .into_iter()
        .filter(|v| insider || v.status == xcert_domain::standard::VersionStatus::Published)
        .collect())
}

pub async fn standard_for(
    st: &AppState,
    cert: &CertificateRow,
    version: Option<i64>,
    insider: bool,
) -> R<Option<StandardVersion>> {
    Ok(st.store.standard_get(cert.id, version, insider).await?)
}

pub fn catalogue_scope(ctx: &Ctx, f: &mut CatalogueFilter) {
    catalogue_scope_for(ctx.principal().as_ref(), f)
}

/// Drafts are visible to the ministry (all) and to a TEO's staff (their own).
pub fn catalogue_scope_for(p: Option<&xcert_domain::access::Principal>, f: &mut CatalogueFilter) {
    if let Some(p) = p {
        if p.role == Role::MinistryAdmin {
            f.all_statuses = true;
        } else if p.role == Role::TeoStaff {
            f.include_drafts_of = p.org_id;
        }
    }
}

pub async fn create_person(
    st: &AppState,
    ctx: &Ctx,
    college_id: Option<i64>,
    input: &PersonInput,
) -> R<PersonRow> {
    let p0 = ctx.require()?;
    let college_id = match (p0.role, p0.org_id, college_id) {
        (Role::CollegeStaff, Some(own), None) => own,
        (_, _, Some(c)) => c,
        _ => return Err(AppError::Invalid(vec![FieldError::required("college_id")])),
    };
    let college = st.store.org_get(college_id).await?;
    if college.kind != OrgKind::College {
        return Err(AppError::Invalid(vec![FieldError::new(
            "college_id",
            "not_college",
            "is not a college",
            "不是院校",
        )]));
    }
    let person = input.parse()?;
    let p = ctx.authorize(&Action::ManagePerson {
        college_id,
        province: college.province.as_deref(),
    })?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.person_create(college_id, &person).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn update_person(st: &AppState, ctx: &Ctx, id: i64, input: &PersonInput) -> R<PersonRow> {
    let current = st.store.person_get(id).await?;
    let p = ctx.authorize(&Action::ManagePerson {
        college_id: current.college_id,
        province: current.province.as_deref(),
    })?;
    // Pages never send the stored number back; a blank field keeps it.
    let mut input = input.clone();
    if input.id_number.trim().is_empty()
        && let Some((_, raw)) = st.store.person_raw_id_numbers(&[id]).await?.pop()
    {
        input.id_number = raw;
    }
    let person = input.parse()?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.person_update(id, &person).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn view_person(st: &AppState, ctx: &Ctx, id: i64) -> R<PersonRow> {
    let person = st.store.person_get(id).await?;
    ctx.authorize(&Action::ViewPerson {
        college_id: person.college_id,
        province: person.province.as_deref(),
        person_id: id,
    })?;
    Ok(person)
}

pub async fn create_user(st: &AppState, ctx: &Ctx, u: &NewUser) -> R<UserRow> {
    let (_, _, role) = u.validate()?;
    // A candidate account belongs to no organization but to a student: the student's
    // college (and its province) decide who may create it.
    let (org_id, province) = match (role, u.person_id) {
        (Role::Candidate, Some(pid)) => {
            let person = st.store.person_get(pid).await?;
            (Some(person.college_id), person.province)
        }
        _ => match u.org_id {
            Some(id) => (Some(id), st.store.org_get(id).await?.province),
            None => (None, None),
        },
    };
    let p = ctx.authorize(&Action::CreateUser {
        role,
        org_id,
        province: province.as_deref(),
    })?;
    let mut tx = st.store.begin_write(&p.username).await?;
    let row = tx.user_create(u).await?;
    tx.commit().await?;
    Ok(row)
}

/// Reset an account's password and/or (de)activate it, within the caller's scope.
pub async fn update_user(
    st: &AppState,
    ctx: &Ctx,
    username: &str,
    active: Option<bool>,
    password: Option<&str>,
) -> R<UserRow> {
    let target = st
        .store
        .user_by_username(username)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("user {username}")))?;
    let (org_id, province) = match (target.role, target.person_id) {
        (Role::Candidate, Some(pid)) => {
            let person = st.store.person_get(pid).await?;
            (Some(person.college_id), person.province)
        }
        _ => (target.org_id, target.province.clone()),
    };
    let p = ctx.authorize(&Action::CreateUser {
        role: target.role,
        org_id,
        province: province.as_deref(),
    })?;
    if active == Some(false) && target.id == p.user_id {
        return Err(AppError::Invalid(vec![FieldError::new(
            "active",
            "self",
            "you cannot deactivate your own account",
            "不能停用自己的账号",
        )]));
    }
    let mut tx = st.store.begin_write(&p.username).await?;
    if let Some(pw) = password {
        tx.user_set_password(&target.username, pw).await?;
    }
    if let Some(a) = active {
        tx.user_set_active(&target.username, a).await?;
    }
    let row = tx.user_get(&target.username).await?;
    tx.commit().await?;
    Ok(row)
}

/// The audit entries a caller may browse: the ministry all, a province admin those made
/// by accounts of its province.
pub async fn audit_list(
    st: &AppState,
    ctx: &Ctx,
    mut f: xcert_store::AuditFilter,
) -> R<(Vec<xcert_store::AuditRow>, i64)> {
    let p = ctx.authorize(&Action::ViewAudit)?;
    if p.role != Role::MinistryAdmin {
        f.actor_province = Some(p.province.clone().unwrap_or_default());
    }
    Ok(st.store.audit_list(&f).await?)
}

/// Counts for the dashboard.
#[derive(Debug, Serialize)]
pub struct Overview {
    pub organizations: usize,
    pub teos: usize,
    pub colleges: usize,
    pub certificates: i64,
    pub people: usize,
}

pub async fn overview(st: &AppState, ctx: &Ctx) -> R<Overview> {
    let p = ctx.require()?;
    let orgs = st.store.org_list(&Default::default()).await?;
    let mut f = CatalogueFilter {
        limit: Some(1),
        ..Default::default()
    };
    catalogue_scope(ctx, &mut f);
    let (_, certificates) = st.store.catalogue(&f).await?;
    let people = st
        .store
        .people_list(&p.people_scope(), None, None)
        .await?
        .len();
    Ok(Overview {
        organizations: orgs.len(),
        teos: orgs.iter().filter(|o| o.kind == OrgKind::Teo).count(),
        colleges: orgs.iter().filter(|o| o.kind == OrgKind::College).count(),
        certificates,
        people,
    })
}

/// The CASE 1.1 package of a certificate's standard as the caller may see it.
pub async fn case_package(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    version: Option<i64>,
) -> R<CfPackage> {
    let (cert, _) = certificate_visible(st, ctx, code).await?;
    let insider = insider(ctx, &cert);
    let s = standard_for(st, &cert, version, insider)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("standard of {code}")))?;
    let info = CaseDocumentInfo {
        certificate_code: cert.code.clone(),
        title: format!("{}职业技能等级标准", cert.name_zh),
        creator: cert.teo_name.clone(),
        version: s.info.version,
        last_change: s
            .info
            .published_at
            .clone()
            .unwrap_or(s.info.created_at.clone()),
        base_uri: st.config.base_url.clone(),
        language: "zh".into(),
    };
    Ok(to_case(&info, &s.tree))
}

/// The registry as the caller may see it, as an .xlsx in the import template's layout.
/// Full identity numbers only on request, and the request is audited.
pub async fn export_bytes(st: &AppState, ctx: &Ctx, include_ids: bool) -> R<Vec<u8>> {
    let p = ctx.authorize(&Action::Export)?;
    export_for(&st.store, &p, include_ids).await
}

/// The export for a principal (also used by the CLI).
pub async fn export_for(
    store: &xcert_store::Store,
    p: &xcert_domain::access::Principal,
    include_ids: bool,
) -> R<Vec<u8>> {
    use xcert_bulk::{
        CertificateExport, ExportData, OrganizationExport, PersonExport, StandardExport,
    };
    xcert_domain::access::authorize(Some(p), &Action::Export)?;
    let orgs = store.org_list(&Default::default()).await?;
    let mut f = CatalogueFilter {
        limit: Some(500),
        ..Default::default()
    };
    catalogue_scope_for(Some(p), &mut f);
    let mut certs = Vec::new();
    loop {
        let (page, total) = store.catalogue(&f).await?;
        let n = page.len() as i64;
        certs.extend(page);
        if n == 0 || certs.len() as i64 >= total {
            break;
        }
        f.offset = Some(certs.len() as i64);
    }
    let mut standards = Vec::new();
    for c in &certs {
        if let Some(s) = store.standard_get(c.id, None, false).await? {
            standards.push(StandardExport {
                certificate_code: c.code.clone(),
                version: s.info.version,
                tree: s.tree,
            });
        }
    }
    let people = store.people_list(&p.people_scope(), None, None).await?;
    let raw: std::collections::HashMap<i64, String> = if include_ids {
        store
            .person_raw_id_numbers(&people.iter().map(|p| p.id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .collect()
    } else {
        Default::default()
    };
    let colleges: std::collections::HashMap<i64, String> =
        orgs.iter().map(|o| (o.id, o.credit_code.clone())).collect();
    let data = ExportData {
        organizations: orgs
            .iter()
            .map(|o| OrganizationExport {
                kind: o.kind.as_str().into(),
                name_zh: o.name_zh.clone(),
                name_en: o.name_en.clone().unwrap_or_default(),
                credit_code: o.credit_code.clone(),
                province: o.province.clone().unwrap_or_default(),
                state: o
                    .teo_state
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                website: o.website.clone().unwrap_or_default(),
            })
            .collect(),
        certificates: certs
            .iter()
            .map(|c| CertificateExport {
                code: c.code.clone(),
                name_zh: c.name_zh.clone(),
                name_en: c.name_en.clone().unwrap_or_default(),
                teo: c.teo_credit_code.clone(),
                levels: c.levels.iter().map(|l| l.zh().to_string()).collect(),
                status: c.status.as_str().into(),
                majors: c.majors.clone(),
                posts: c.posts.clone(),
                competitions: c.competitions.clone(),
                description: c.description.clone().unwrap_or_default(),
            })
            .collect(),
        standards,
        people: people
            .iter()
            .map(|x| PersonExport {
                name: x.name.clone(),
                id_number: raw
                    .get(&x.id)
                    .cloned()
                    .unwrap_or_else(|| x.id_masked.clone()),
                college: colleges.get(&x.college_id).cloned().unwrap_or_default(),
                student_no: x.student_no.clone().unwrap_or_default(),
                major: x.major.clone().unwrap_or_default(),
                phone: x.phone.clone().unwrap_or_default(),
            })
            .collect(),
    };
    if include_ids {
        let mut tx = store.begin_write(&p.username).await?;
        tx.audit(
            "export_with_ids",
            "people",
            &format!("{} people", people.len()),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
    }
    Ok(xcert_bulk::export_xlsx(&data))
}
