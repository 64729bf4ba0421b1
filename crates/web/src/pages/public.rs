use super::{redirect, respond};
use crate::AppState;
use crate::auth::{Ctx, LANG_COOKIE, SESSION_COOKIE, cookie};
use crate::error::AppError;
use crate::render::page;
use crate::service;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use xcert_domain::framework::Level;
use xcert_store::{CatalogueFilter, LoginOutcome};

const PAGE: i64 = 30;

#[derive(Deserialize, Default)]
pub struct CatalogueQuery {
    q: Option<String>,
    teo: Option<String>,
    level: Option<String>,
    major: Option<String>,
    post: Option<String>,
    page: Option<i64>,
}

pub async fn catalogue(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CatalogueQuery>,
) -> Response {
    let r = async {
        let page_no = q.page.unwrap_or(1).max(1);
        let mut f = CatalogueFilter {
            q: q.q.clone(),
            teo: q.teo.as_deref().and_then(|s| s.parse().ok()),
            level: q.level.clone().filter(|s| !s.is_empty()),
            major: q.major.clone(),
            post: q.post.clone(),
            limit: Some(PAGE),
            offset: Some((page_no - 1) * PAGE),
            ..Default::default()
        };
        service::catalogue_scope(&ctx, &mut f);
        let (rows, total) = st.store.catalogue(&f).await?;
        let facets = st.store.facets().await?;
        let levels: Vec<_> = Level::ALL
            .iter()
            .map(|l| context! { key => l.as_str(), zh => l.zh(), en => l.en() })
            .collect();
        page(
            &st,
            &ctx,
            "catalogue.html",
            context! {
                rows => rows, total => total, facets => facets, levels => levels,
                q => q.q, teo => q.teo, level => q.level, major => q.major, post => q.post,
                page => page_no, pages => (total + PAGE - 1) / PAGE,
            },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

#[derive(Deserialize)]
pub struct VersionQuery {
    version: Option<i64>,
}

pub async fn certificate(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(v): Query<VersionQuery>,
) -> Response {
    let r = async {
        let (cert, can_edit) = service::certificate_visible(&st, &ctx, &code).await?;
        let insider = service::insider(&ctx, &cert);
        let standard = service::standard_for(&st, &cert, v.version, insider).await?;
        let versions = service::visible_versions(&st, &ctx, &cert).await?;
        let counts: Vec<_> = standard
            .as_ref()
            .map(|s| s.tree.count_by_level().into_iter().map(|(l, n)| context! { zh => l.zh(), en => l.en(), n => n }).collect())
            .unwrap_or_default();
        let levels: Vec<_> = cert.levels.iter().map(|l| context! { zh => l.zh(), en => l.en(), key => l.as_str() }).collect();
        page(
            &st,
            &ctx,
            "certificate.html",
            context! { cert => cert, levels => levels, standard => standard, versions => versions, counts => counts, can_edit => can_edit },
        )
    }
    .await;
    respond(&st, &ctx, r)
}

/// The standard of a certificate as CASE 1.1 JSON (published version unless `?version=`).
pub async fn case_export(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(v): Query<VersionQuery>,
) -> Response {
    match service::case_package(&st, &ctx, &code, v.version).await {
        Ok(pkg) => crate::render::download(
            serde_json::to_vec_pretty(&pkg).unwrap_or_default(),
            &format!("{}-standard.case.json", code.to_ascii_uppercase()),
            "application/json",
        ),
        Err(e) => respond(&st, &ctx, Err(e)),
    }
}

pub async fn framework(State(st): State<AppState>, ctx: Ctx) -> Response {
    let levels: Vec<_> = Level::ALL
        .iter()
        .map(|l| l.descriptor())
        .map(|d| {
            context! { key => d.level.as_str(), zh => d.level.zh(), en => d.level.en(), d => d }
        })
        .collect();
    let r = page(
        &st,
        &ctx,
        "framework.html",
        context! { framework => levels },
    );
    respond(&st, &ctx, r)
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only same-site paths are allowed as a post-login destination.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/admin".to_string(),
    }
}

pub async fn login_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Response {
    let r = page(
        &st,
        &ctx,
        "login.html",
        context! { next => safe_next(q.next.as_deref()), error => () , username => ""},
    );
    respond(&st, &ctx, r)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login(State(st): State<AppState>, ctx: Ctx, Form(f): Form<LoginForm>) -> Response {
    let r = async {
        ctx.check_csrf(&f.csrf)?;
        let next = safe_next(f.next.as_deref());
        match st
            .store
            .login(&f.username, &f.password, &ctx.client)
            .await?
        {
            LoginOutcome::Ok { token, .. } => {
                let secure = if st.config.secure_cookies {
                    "; Secure"
                } else {
                    ""
                };
                let mut resp = redirect(&next);
                let c = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}");
                resp.headers_mut()
                    .append(header::SET_COOKIE, c.parse().unwrap());
                Ok(resp)
            }
            LoginOutcome::BadCredentials => {
                let msg = crate::i18n::t(ctx.lang, "bad_login");
                crate::render::page_with_status(
                    &st,
                    &ctx,
                    "login.html",
                    context! { next => next, error => msg, username => f.username },
                    axum::http::StatusCode::UNAUTHORIZED,
                )
            }
            LoginOutcome::Throttled { retry_after_secs } => {
                let msg = AppError::TooManyRequests(retry_after_secs).message(ctx.lang);
                crate::render::page_with_status(
                    &st,
                    &ctx,
                    "login.html",
                    context! { next => next, error => msg, username => f.username },
                    axum::http::StatusCode::TOO_MANY_REQUESTS,
                )
            }
        }
    }
    .await;
    respond(&st, &ctx, r)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let r = async {
        ctx.check_csrf(&f.csrf)?;
        if let Some(t) = cookie(&headers, SESSION_COOKIE) {
            st.store.logout(&t).await?;
        }
        let mut resp = redirect("/");
        resp.headers_mut().append(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; Max-Age=0")
                .parse()
                .unwrap(),
        );
        Ok(resp)
    }
    .await;
    respond(&st, &ctx, r)
}

pub async fn set_lang(Path(lang): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = if lang == "en" { "en" } else { "zh" };
    let next = match q.next.as_deref() {
        Some(n) if n.starts_with('/') && !n.starts_with("//") => n.to_string(),
        _ => "/".to_string(),
    };
    let mut resp = redirect(&next);
    let c = format!("{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
    resp.headers_mut()
        .append(header::SET_COOKIE, c.parse().unwrap());
    resp
}

pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}
