//! Management pages for signed-in users. Every form carries the CSRF token and shows
//! its errors beside the fields.

use super::{redirect, respond};
use crate::AppState;
use crate::auth::Ctx;
use crate::error::AppError;
use crate::render::{XLSX, download, page, page_with_status};
use crate::service;
use axum::Form;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;
use std::collections::HashMap;
use xcert_domain::FieldError;
use xcert_domain::access::{Action, Role};
use xcert_domain::certificate::{CertificateInput, CertificateStatus};
use xcert_domain::framework::Level;
use xcert_domain::org::{OrgKind, OrganizationInput, PROVINCES, TeoState};
use xcert_domain::person::PersonInput;
use xcert_domain::standard::StandardTree;
use xcert_store::{AuditFilter, CatalogueFilter, NewUser, OrgFilter};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard))
        .route("/admin/organizations", get(orgs).post(org_create))
        .route("/admin/organizations/new", get(org_new))
        .route("/admin/organizations/{id}", get(org_edit).post(org_update))
        .route("/admin/organizations/{id}/state", post(org_state))
        .route("/admin/certificates", get(certs).post(cert_create))
        .route("/admin/certificates/new", get(cert_new))
        .route(
            "/admin/certificates/{code}",
            get(cert_edit).post(cert_update),
        )
        .route(
            "/admin/certificates/{code}/standard",
            get(standard_edit).post(standard_save),
        )
        .route(
            "/admin/certificates/{code}/standard/publish",
            post(standard_publish),
        )
        .route(
            "/admin/certificates/{code}/standard/case",
            post(standard_case_import),
        )
        .route("/admin/people", get(people).post(person_create))
        .route("/admin/people/new", get(person_new))
        .route("/admin/people/{id}", get(person_edit).post(person_update))
        .route("/admin/users", get(users).post(user_create))
        .route("/admin/users/new", get(user_new))
        .route("/admin/users/{username}", post(user_update))
        .route("/admin/imports", get(imports).post(import_upload))
        .route("/admin/imports/template.xlsx", get(template_xlsx))
        .route("/admin/imports/template/{sheet}", get(template_csv))
        .route("/admin/imports/{id}", get(import_job))
        .route("/admin/imports/{id}/confirm", post(import_confirm))
        .route("/admin/export.xlsx", get(export_xlsx))
        .route("/admin/audit", get(audit))
}

pub(super) type Fields = HashMap<String, String>;

fn field<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map(String::as_str).unwrap_or("")
}

pub(super) fn csrf(ctx: &Ctx, f: &Fields) -> Result<(), AppError> {
    ctx.check_csrf(field(f, "csrf"))
}

/// Re-render a form with its errors (422), or pass other errors on.
fn form_errors(
    st: &AppState,
    ctx: &Ctx,
    tmpl: &str,
    e: AppError,
    data: Value,
) -> Result<Response, AppError> {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => {
            let errors = e.fields();
            page_with_status(
                st,
                ctx,
                tmpl,
                context! { errors => errors, ..data },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        other => Err(other),
    }
}

async fn dashboard(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let ov = service::overview(&st, &ctx).await?;
        page(&st, &ctx, "dashboard.html", context! { overview => ov })
    }
    .await;
    respond(&st, &ctx, r)
}

fn org_choices(lang: &str) -> Value {
    let kinds: Vec<_> = OrgKind::ALL
        .iter()
        .map(
            |k| context! { key => k.as_str(), label => if lang == "en" { k.en() } else { k.zh() } },
        )
        .collect();
    let states: Vec<_> = TeoState::ALL
        .iter()
        .map(
            |s| context! { key => s.as_str(), label => if lang == "en" { s.en() } else { s.zh() } },
        )
        .collect();
    context! { kinds => kinds, states => states, provinces => PROVINCES.to_vec() }
}

async fn orgs(State(st): State<AppState>, ctx: Ctx, Query(f): Query<OrgFilter>) -> Response {
    let r = async {
        let p = ctx.require()?;
        let rows = st.store.org_list(&f).await?;
        let is_ministry = p.role == Role::MinistryAdmin;
        page(&st, &ctx, "orgs.html", context! { rows => rows, filter => context!{ kind => f.kind, province => f.province, q => f.q }, is_ministry => is_ministry, ..org_choices(ctx.lang) })
    }
    .await;
    respond(&st, &ctx, r)
}

async fn org_new(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        ctx.require()?;
        page(&st, &ctx, "org_form.html", context! { org => context!{ kind => "college" }, errors => Vec::<FieldError>::new(), ..org_choices(ctx.lang) })
    }
    .await;
    respond(&st, &ctx, r)
}

fn org_input(f: &Fields) -> OrganizationInput {
    OrganizationInput {
        kind: field(f, "kind").into(),
        name_zh: field(f, "name_zh").into(),
        name_en: field(f, "name_en").into(),
        credit_code: field(f, "credit_code").into(),
        province: field(f, "province").into(),
        state: field(f, "state").into(),
        website: field(f, "website").into(),
    }
}

async fn org_create(State(st): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        match service::create_org(&st, &ctx, &org_input(&f)).await {
            Ok(_) => Ok(redirect("/admin/organizations")),
            Err(e) => form_errors(
                &st,
                &ctx,
                "org_form.html",
                e,
                context! { org => f, ..org_choices(ctx.lang) },
            ),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn org_edit(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        ctx.require()?;
        let org = st.store.org_get(id).await?;
        let is_ministry = ctx.principal().is_some_and(|p| p.role == Role::MinistryAdmin);
        page(&st, &ctx, "org_form.html", context! { org => org, id => id, errors => Vec::<FieldError>::new(), is_ministry => is_ministry, ..org_choices(ctx.lang) })
    }
    .await;
    respond(&st, &ctx, r)
}

async fn org_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        let current = st.store.org_get(id).await?;
        let mut input = org_input(&f);
        input.kind = current.kind.as_str().into();
        match service::update_org(&st, &ctx, id, &input).await {
            Ok(_) => Ok(redirect("/admin/organizations")),
            Err(e) => form_errors(
                &st,
                &ctx,
                "org_form.html",
                e,
                context! { org => f, id => id, ..org_choices(ctx.lang) },
            ),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn org_state(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        match service::set_teo_state(&st, &ctx, id, field(&f, "state"), field(&f, "reason")).await {
            Ok(_) => Ok(redirect(&format!("/admin/organizations/{id}"))),
            Err(e) => {
                let org = st.store.org_get(id).await?;
                form_errors(
                    &st,
                    &ctx,
                    "org_form.html",
                    e,
                    context! { org => org, id => id, is_ministry => true, ..org_choices(ctx.lang) },
                )
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn certs(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let p = ctx.require()?;
        let rows = match (p.role, p.org_id) {
            (Role::TeoStaff, Some(teo)) => st.store.certificates_of_teo(teo).await?,
            _ => {
                let mut f = CatalogueFilter {
                    limit: Some(500),
                    ..Default::default()
                };
                service::catalogue_scope(&ctx, &mut f);
                st.store.catalogue(&f).await?.0
            }
        };
        page(&st, &ctx, "certs.html", context! { rows => rows })
    }
    .await;
    respond(&st, &ctx, r)
}

async fn cert_choices(st: &AppState, ctx: &Ctx) -> Result<Value, AppError> {
    let p = ctx.require()?;
    let teos: Vec<_> = st
        .store
        .org_list(&OrgFilter {
            kind: Some("teo".into()),
            ..Default::default()
        })
        .await?
        .into_iter()
        .filter(|o| p.role != Role::TeoStaff || p.org_id == Some(o.id))
        .map(|o| context! { id => o.id, name => o.name_zh })
        .collect();
    let statuses: Vec<_> = CertificateStatus::ALL
        .iter()
        .map(|s| context! { key => s.as_str(), label => if ctx.lang == "en" { s.en() } else { s.zh() } })
        .collect();
    let may_status =
        xcert_domain::access::authorize(Some(&p), &Action::SetCertificateStatus).is_ok();
    Ok(context! { teos => teos, statuses => statuses, may_status => may_status })
}

/// The level keys whose checkboxes (`level_junior`, ...) are ticked.
fn checked_levels(f: &Fields) -> Vec<&'static str> {
    Level::ALL
        .iter()
        .map(|l| l.as_str())
        .filter(|l| f.contains_key(&format!("level_{l}")))
        .collect()
}

fn cert_input(f: &Fields) -> CertificateInput {
    let levels = checked_levels(f);
    CertificateInput {
        code: field(f, "code").into(),
        name_zh: field(f, "name_zh").into(),
        name_en: field(f, "name_en").into(),
        levels: levels.join(";"),
        status: field(f, "status").into(),
        majors: field(f, "majors").into(),
        posts: field(f, "posts").into(),
        competitions: field(f, "competitions").into(),
        description: field(f, "description").into(),
    }
}

async fn cert_new(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        // Only the ministry and TEO staff (for their own TEO) create certificates.
        let p = ctx.require()?;
        let teo = if p.role == Role::TeoStaff {
            p.org_id.unwrap_or(0)
        } else {
            0
        };
        ctx.authorize(&Action::CreateCertificate { teo_id: teo })?;
        let choices = cert_choices(&st, &ctx).await?;
        let blank =
            context! { levels => vec!["junior", "intermediate", "senior"], status => "draft" };
        page(
            &st,
            &ctx,
            "cert_form.html",
            context! { cert => blank, errors => Vec::<FieldError>::new(), ..choices },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

/// The form's fields in the shape the template reads for an existing certificate.
fn cert_echo(f: &Fields) -> Value {
    let levels = checked_levels(f);
    let mut m: HashMap<String, Value> = f
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    m.insert("levels".into(), Value::from_serialize(&levels));
    m.insert(
        "teo_id".into(),
        Value::from(field(f, "teo_id").parse::<i64>().ok()),
    );
    Value::from_serialize(&m)
}

async fn cert_create(State(st): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        let teo = field(&f, "teo_id").parse::<i64>().ok();
        match service::create_certificate(&st, &ctx, teo, &cert_input(&f)).await {
            Ok(c) => Ok(redirect(&format!(
                "/admin/certificates/{}/standard",
                c.code
            ))),
            Err(e) => {
                let choices = cert_choices(&st, &ctx).await?;
                form_errors(
                    &st,
                    &ctx,
                    "cert_form.html",
                    e,
                    context! { cert => cert_echo(&f), ..choices },
                )
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn cert_edit(State(st): State<AppState>, ctx: Ctx, Path(code): Path<String>) -> Response {
    let r = async {
        let (cert, can_edit) = service::certificate_visible(&st, &ctx, &code).await?;
        if !can_edit {
            ctx.authorize(&Action::UpdateCertificate { teo_id: cert.teo_id })?;
        }
        let choices = cert_choices(&st, &ctx).await?;
        let echo = context! {
            code => cert.code, name_zh => cert.name_zh, name_en => cert.name_en, teo_id => cert.teo_id,
            levels => cert.levels.iter().map(|l| l.as_str()).collect::<Vec<_>>(), status => cert.status.as_str(),
            majors => cert.majors.join("; "), posts => cert.posts.join("; "), competitions => cert.competitions.join("; "),
            description => cert.description,
        };
        page(&st, &ctx, "cert_form.html", context! { cert => echo, editing => true, errors => Vec::<FieldError>::new(), ..choices })
    }
    .await;
    respond(&st, &ctx, r)
}

async fn cert_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        let mut input = cert_input(&f);
        input.code = code.clone();
        match service::update_certificate(&st, &ctx, &code, &input).await {
            Ok(c) => Ok(redirect(&format!("/certificates/{}", c.code))),
            Err(e) => {
                let choices = cert_choices(&st, &ctx).await?;
                let mut echo = f.clone();
                echo.insert("code".into(), code.clone());
                form_errors(
                    &st,
                    &ctx,
                    "cert_form.html",
                    e,
                    context! { cert => cert_echo(&echo), editing => true, ..choices },
                )
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn standard_page(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    outline: Option<String>,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (cert, _) = service::certificate_visible(st, ctx, code).await?;
    ctx.authorize(&Action::UpdateCertificate {
        teo_id: cert.teo_id,
    })?;
    let latest = st.store.standard_get(cert.id, None, true).await?;
    let versions = st.store.standard_versions(cert.id).await?;
    let outline = outline.unwrap_or_else(|| {
        latest
            .as_ref()
            .map(|s| s.tree.to_outline())
            .unwrap_or_default()
    });
    let has_draft = latest
        .as_ref()
        .is_some_and(|s| s.info.status == xcert_domain::standard::VersionStatus::Draft);
    page_with_status(
        st,
        ctx,
        "standard_edit.html",
        context! { cert => cert, outline => outline, errors => errors, versions => versions, has_draft => has_draft, latest => latest.map(|l| l.info) },
        status,
    )
}

/// After a standard operation: go on to `next`, or show the editor again with the errors.
async fn after_standard<T>(
    st: &AppState,
    ctx: &Ctx,
    code: &str,
    outline: Option<String>,
    r: Result<T, AppError>,
    next: &str,
) -> Result<Response, AppError> {
    match r {
        Ok(_) => Ok(redirect(next)),
        Err(AppError::Invalid(errs)) => {
            standard_page(
                st,
                ctx,
                code,
                outline,
                errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn standard_edit(State(st): State<AppState>, ctx: Ctx, Path(code): Path<String>) -> Response {
    let r = standard_page(&st, &ctx, &code, None, vec![], StatusCode::OK).await;
    respond(&st, &ctx, r)
}

async fn standard_save(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        let outline = field(&f, "outline").to_string();
        let editor = format!("/admin/certificates/{}/standard", code.to_ascii_uppercase());
        let tree = match StandardTree::parse_outline(&outline) {
            Ok(t) => t,
            Err(errs) => {
                return after_standard::<()>(
                    &st,
                    &ctx,
                    &code,
                    Some(outline),
                    Err(AppError::Invalid(errs)),
                    &editor,
                )
                .await;
            }
        };
        let note = Some(field(&f, "note")).filter(|s| !s.trim().is_empty());
        let saved = service::save_standard(&st, &ctx, &code, &tree, note).await;
        if saved.is_err() || !f.contains_key("publish") {
            return after_standard(&st, &ctx, &code, Some(outline), saved, &editor).await;
        }
        let published = service::publish_standard(&st, &ctx, &code).await;
        after_standard(
            &st,
            &ctx,
            &code,
            Some(outline),
            published,
            &format!("/certificates/{}", code.to_ascii_uppercase()),
        )
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

async fn standard_publish(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        let published = service::publish_standard(&st, &ctx, &code).await;
        after_standard(
            &st,
            &ctx,
            &code,
            None,
            published,
            &format!("/certificates/{}", code.to_ascii_uppercase()),
        )
        .await
    }
    .await;
    respond(&st, &ctx, r)
}

/// Read a multipart form into text fields and at most one file.
async fn read_multipart(
    mut mp: Multipart,
) -> Result<(Fields, Option<(String, Vec<u8>)>), AppError> {
    let mut fields = Fields::new();
    let mut file = None;
    while let Some(part) = mp
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?
    {
        let name = part.name().unwrap_or("").to_string();
        if let Some(fname) = part.file_name().map(str::to_string) {
            let bytes = part
                .bytes()
                .await
                .map_err(|e| AppError::BadRequest(e.to_string()))?;
            if !bytes.is_empty() {
                file = Some((fname, bytes.to_vec()));
            }
        } else {
            let v = part
                .text()
                .await
                .map_err(|e| AppError::BadRequest(e.to_string()))?;
            fields.insert(name, v);
        }
    }
    Ok((fields, file))
}

async fn standard_case_import(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    mp: Multipart,
) -> Response {
    let r = async {
        let (f, file) = read_multipart(mp).await?;
        csrf(&ctx, &f)?;
        let editor = format!("/admin/certificates/{}/standard", code.to_ascii_uppercase());
        let saved = match file {
            None => Err(AppError::Invalid(vec![FieldError::required("file")])),
            Some((_, bytes)) => {
                match xcert_domain::case::parse_case_json(&String::from_utf8_lossy(&bytes)) {
                    Ok(imported) => {
                        service::save_standard(
                            &st,
                            &ctx,
                            &code,
                            &imported.tree,
                            Some("CASE import"),
                        )
                        .await
                    }
                    Err(errs) => Err(AppError::Invalid(errs)),
                }
            }
        };
        after_standard(&st, &ctx, &code, None, saved, &editor).await
    }
    .await;
    respond(&st, &ctx, r)
}

#[derive(Deserialize, Default)]
struct PeopleQuery {
    q: Option<String>,
    college: Option<String>,
}

async fn people(State(st): State<AppState>, ctx: Ctx, Query(q): Query<PeopleQuery>) -> Response {
    let r = async {
        let p = ctx.require()?;
        let college = q.college.as_deref().and_then(|s| s.parse().ok());
        let rows = st
            .store
            .people_list(&p.people_scope(), q.q.as_deref(), college)
            .await?;
        page(
            &st,
            &ctx,
            "people.html",
            context! { rows => rows, q => q.q },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

async fn college_choices(st: &AppState, ctx: &Ctx) -> Result<Vec<Value>, AppError> {
    let p = ctx.require()?;
    Ok(st
        .store
        .org_list(&OrgFilter {
            kind: Some("college".into()),
            ..Default::default()
        })
        .await?
        .into_iter()
        .filter(|o| {
            xcert_domain::access::authorize(
                Some(&p),
                &Action::ManagePerson {
                    college_id: o.id,
                    province: o.province.as_deref(),
                },
            )
            .is_ok()
        })
        .map(|o| context! { id => o.id, name => o.name_zh, province => o.province })
        .collect())
}

fn person_input(f: &Fields) -> PersonInput {
    PersonInput {
        name: field(f, "name").into(),
        id_number: field(f, "id_number").into(),
        student_no: field(f, "student_no").into(),
        major: field(f, "major").into(),
        phone: field(f, "phone").into(),
    }
}

async fn person_new(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let colleges = college_choices(&st, &ctx).await?;
        page(
            &st,
            &ctx,
            "person_form.html",
            context! { person => (), colleges => colleges, errors => Vec::<FieldError>::new() },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

/// A form echo without the raw identity number (it is typed again, never re-sent in a page).
fn person_echo(f: &Fields) -> Fields {
    let mut e = f.clone();
    e.remove("id_number");
    e
}

async fn person_create(State(st): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        let college = field(&f, "college_id").parse::<i64>().ok();
        match service::create_person(&st, &ctx, college, &person_input(&f)).await {
            Ok(_) => Ok(redirect("/admin/people")),
            Err(e) => {
                let colleges = college_choices(&st, &ctx).await?;
                form_errors(
                    &st,
                    &ctx,
                    "person_form.html",
                    e,
                    context! { person => person_echo(&f), colleges => colleges },
                )
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn person_edit(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let person = service::view_person(&st, &ctx, id).await?;
        page(&st, &ctx, "person_form.html", context! { person => person, id => id, colleges => Vec::<Value>::new(), errors => Vec::<FieldError>::new() })
    }
    .await;
    respond(&st, &ctx, r)
}

async fn person_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        match service::update_person(&st, &ctx, id, &person_input(&f)).await {
            Ok(_) => Ok(redirect("/admin/people")),
            Err(e) => form_errors(
                &st,
                &ctx,
                "person_form.html",
                e,
                context! { person => person_echo(&f), id => id, colleges => Vec::<Value>::new() },
            ),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn users(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let p = ctx.authorize(&Action::ViewUsers)?;
        let rows = st.store.users_list(&p.user_scope()).await?;
        page(&st, &ctx, "users.html", context! { rows => rows })
    }
    .await;
    respond(&st, &ctx, r)
}

async fn user_choices(st: &AppState, ctx: &Ctx) -> Result<Value, AppError> {
    let p = ctx.require()?;
    let roles: Vec<_> = Role::ALL
        .iter()
        .map(|r| context! { key => r.as_str(), label => if ctx.lang == "en" { r.en() } else { r.zh() } })
        .collect();
    let orgs: Vec<_> = st
        .store
        .org_list(&Default::default())
        .await?
        .into_iter()
        .filter(|o| match p.role {
            Role::MinistryAdmin => true,
            Role::ProvinceAdmin => o.province == p.province,
            _ => Some(o.id) == p.org_id,
        })
        .map(|o| context! { id => o.id, name => o.name_zh, kind => o.kind.as_str() })
        .collect();
    Ok(context! { roles => roles, orgs => orgs })
}

async fn user_new(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let choices = user_choices(&st, &ctx).await?;
        page(
            &st,
            &ctx,
            "user_form.html",
            context! { u => (), errors => Vec::<FieldError>::new(), ..choices },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

async fn user_create(State(st): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        let u = NewUser {
            username: field(&f, "username").into(),
            display_name: field(&f, "display_name").into(),
            password: field(&f, "password").into(),
            role: field(&f, "role").into(),
            org_id: field(&f, "org_id").parse().ok(),
            person_id: field(&f, "person_id").parse().ok(),
        };
        match service::create_user(&st, &ctx, &u).await {
            Ok(_) => Ok(redirect("/admin/users")),
            Err(e) => {
                let choices = user_choices(&st, &ctx).await?;
                let mut echo = f.clone();
                echo.remove("password");
                form_errors(
                    &st,
                    &ctx,
                    "user_form.html",
                    e,
                    context! { u => echo, ..choices },
                )
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

/// Reset a password or (de)activate an account from the accounts list.
async fn user_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        let active = match field(&f, "active") {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        };
        let password = Some(field(&f, "password")).filter(|p| !p.is_empty());
        match service::update_user(&st, &ctx, &username, active, password).await {
            Ok(_) => Ok(redirect("/admin/users")),
            Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
                let p = ctx.require()?;
                let rows = st.store.users_list(&p.user_scope()).await?;
                let errors = e.fields();
                page_with_status(
                    &st,
                    &ctx,
                    "users.html",
                    context! { rows => rows, errors => errors, failed => username },
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
            }
            Err(e) => Err(e),
        }
    }
    .await;
    respond(&st, &ctx, r)
}

async fn imports(State(st): State<AppState>, ctx: Ctx) -> Response {
    let r = async {
        let p = ctx.authorize(&Action::Import)?;
        let jobs = st.store.import_jobs(Some(&p.username)).await?;
        page(
            &st,
            &ctx,
            "imports.html",
            context! { jobs => jobs, errors => Vec::<FieldError>::new() },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

async fn import_upload(State(st): State<AppState>, ctx: Ctx, mp: Multipart) -> Response {
    let r = async {
        let (f, file) = read_multipart(mp).await?;
        csrf(&ctx, &f)?;
        let p = ctx.authorize(&Action::Import)?;
        let Some((name, bytes)) = file else {
            let jobs = st.store.import_jobs(Some(&p.username)).await?;
            return page_with_status(
                &st,
                &ctx,
                "imports.html",
                context! { jobs => jobs, errors => vec![FieldError::required("file")] },
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        };
        let set = match xcert_bulk::read_file(&name, &bytes) {
            Ok(s) => s,
            Err(e) => {
                let jobs = st.store.import_jobs(Some(&p.username)).await?;
                let fe = FieldError::new("file", "bad_file", e.en(), e.zh());
                return page_with_status(
                    &st,
                    &ctx,
                    "imports.html",
                    context! { jobs => jobs, errors => vec![fe] },
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
            }
        };
        let preview = st.store.import_apply(&p, &set, false).await?;
        let id = st.store.import_stage(&p, &name, bytes, &preview).await?;
        Ok(redirect(&format!("/admin/imports/{id}")))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn import_job(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let r = async {
        let p = ctx.authorize(&Action::Import)?;
        let job = st.store.import_job(id).await?;
        if job.created_by != p.username {
            return Err(AppError::NotFound(format!("import {id}")));
        }
        page(&st, &ctx, "import_job.html", context! { job => job })
    }
    .await;
    respond(&st, &ctx, r)
}

async fn import_confirm(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Response {
    let r = async {
        csrf(&ctx, &f)?;
        let p = ctx.authorize(&Action::Import)?;
        st.store.import_confirm(&p, id).await?;
        Ok(redirect(&format!("/admin/imports/{id}")))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn template_xlsx() -> Response {
    download(
        xcert_bulk::template_xlsx(),
        "xcert-import-template.xlsx",
        XLSX,
    )
}

async fn template_csv(Path(sheet): Path<String>) -> Response {
    let key = sheet.trim_end_matches(".csv");
    match [
        xcert_bulk::Sheet::Organizations,
        xcert_bulk::Sheet::Certificates,
        xcert_bulk::Sheet::Standards,
        xcert_bulk::Sheet::People,
    ]
    .into_iter()
    .find(|s| s.key() == key)
    {
        Some(s) => download(
            xcert_bulk::template_csv(s).into_bytes(),
            &format!("xcert-{key}.csv"),
            "text/csv; charset=utf-8",
        ),
        None => (StatusCode::NOT_FOUND, "no such template").into_response(),
    }
}

#[derive(Deserialize, Default)]
struct ExportQuery {
    include_ids: Option<String>,
}

async fn export_xlsx(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ExportQuery>,
) -> Response {
    let r = async {
        let include_ids = q.include_ids.is_some_and(|v| !v.is_empty() && v != "0");
        let bytes = service::export_bytes(&st, &ctx, include_ids).await?;
        Ok(download(bytes, "xcert-export.xlsx", XLSX))
    }
    .await;
    respond(&st, &ctx, r)
}

async fn audit(State(st): State<AppState>, ctx: Ctx, Query(f): Query<AuditFilter>) -> Response {
    let r = async {
        let (rows, total) = service::audit_list(&st, &ctx, f.clone()).await?;
        let (entities, actions) = st.store.audit_facets().await?;
        let chain = st.store.audit_verify().await?;
        let (chain_ok, chain_msg, checked) = match chain {
            Ok(n) => (true, String::new(), n),
            Err(b) => (false, b.to_string(), 0),
        };
        let rows: Vec<_> = rows
            .into_iter()
            .map(|r| {
                let before = r.before.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_default());
                let after = r.after.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_default());
                context! { r => r, before => before, after => after }
            })
            .collect();
        page(
            &st,
            &ctx,
            "audit.html",
            context! { rows => rows, total => total, entities => entities, actions => actions, f => context!{ actor => f.actor, entity => f.entity, action => f.action, entity_id => f.entity_id, since => f.since, until => f.until }, chain_ok => chain_ok, chain_msg => chain_msg, checked => checked },
        )
    }
    .await;
    respond(&st, &ctx, r)
}
