//! Templates (compiled into the binary) and the page response helper.

use crate::auth::Ctx;
use crate::error::AppError;
use crate::i18n;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, State, Value, context};

/// Register templates from `templates/` by file name.
macro_rules! templates {
    ($env:ident, $($name:literal),* $(,)?) => {
        $( $env.add_template($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $name))).expect($name); )*
    };
}
pub(crate) use templates;

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    templates!(
        env,
        "base.html",
        "catalogue.html",
        "certificate.html",
        "login.html",
        "error.html",
        "dashboard.html",
        "framework.html",
        "orgs.html",
        "org_form.html",
        "certs.html",
        "cert_form.html",
        "standard_edit.html",
        "people.html",
        "person_form.html",
        "users.html",
        "user_form.html",
        "imports.html",
        "import_job.html",
        "audit.html",
        "ingest_runs.html",
        "ingest_run.html",
        "ingest_files.html",
        "macros.html",
    );
    crate::pages::bank::templates(&mut env);
    crate::pages::exams::templates(&mut env);
    crate::pages::certs::templates(&mut env);
    crate::pages::declare::templates(&mut env);
    crate::pages::review::templates(&mut env);
    env.add_function("t", |state: &State, key: &str| -> String {
        let lang = state
            .lookup("lang")
            .map(|v| v.to_string())
            .unwrap_or_else(|| "zh".into());
        i18n::t(&lang, key)
    });
    // `field_error(errors, "name")`: the message for one field, in the page's language.
    env.add_function(
        "field_error",
        |state: &State, errors: Value, field: &str| -> String {
            let lang = state
                .lookup("lang")
                .map(|v| v.to_string())
                .unwrap_or_else(|| "zh".into());
            let mut out = Vec::new();
            if let Ok(iter) = errors.try_iter() {
                for e in iter {
                    if e.get_attr("field").ok().map(|f| f.to_string()).as_deref() == Some(field) {
                        let key = if lang == "en" { "en" } else { "zh" };
                        if let Ok(m) = e.get_attr(key) {
                            out.push(m.to_string());
                        }
                    }
                }
            }
            out.join("；")
        },
    );
    env
}

/// Render a page with the common context (language, user, CSRF token, path).
pub fn page(
    state: &crate::AppState,
    ctx: &Ctx,
    name: &str,
    data: Value,
) -> Result<Response, AppError> {
    page_with_status(state, ctx, name, data, StatusCode::OK)
}

pub fn page_with_status(
    state: &crate::AppState,
    ctx: &Ctx,
    name: &str,
    data: Value,
    status: StatusCode,
) -> Result<Response, AppError> {
    Ok((status, Html(render_html(state, ctx, name, data)?)).into_response())
}

/// A page's HTML, for pages that keep it (the public verification page).
pub fn render_html(
    state: &crate::AppState,
    ctx: &Ctx,
    name: &str,
    data: Value,
) -> Result<String, AppError> {
    let tmpl = state
        .templates
        .get_template(name)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let user = ctx.session.as_ref().map(|s| {
        context! {
            username => s.user.username,
            display_name => s.user.display_name,
            role => s.user.role.as_str(),
            role_label => if ctx.lang == "en" { s.user.role.en() } else { s.user.role.zh() },
            org_name => s.user.org_name,
            org_id => s.user.org_id,
            is_admin => s.user.role.is_admin(),
            is_ministry => s.user.role == xcert_domain::access::Role::MinistryAdmin,
        }
    });
    tmpl.render(
        context! { lang => ctx.lang, user => user, csrf => ctx.csrf, path => ctx.path, ..data },
    )
    .map_err(|e| {
        tracing::error!(error = %e, template = name, "template failed");
        AppError::Internal(e.to_string())
    })
}

/// An error as a page, in the page's language.
pub fn error_page(state: &crate::AppState, ctx: &Ctx, e: &AppError) -> Response {
    if matches!(e, AppError::Unauthorized) {
        let next =
            percent_encoding::utf8_percent_encode(&ctx.path, percent_encoding::NON_ALPHANUMERIC);
        return axum::response::Redirect::to(&format!("/login?next={next}")).into_response();
    }
    let data = context! { status => e.status().as_u16(), message => e.message(ctx.lang), code => e.code() };
    page_with_status(state, ctx, "error.html", data, e.status())
        .unwrap_or_else(|_| (e.status(), e.message("en")).into_response())
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file download with its name.
/// A download. `name` may be a user's file name: quotes, backslashes and control
/// characters are replaced so it cannot break out of the header.
pub fn download(bytes: Vec<u8>, name: &str, mime: &str) -> Response {
    let name = header_name(name);
    (
        [
            (axum::http::header::CONTENT_TYPE, mime.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The content type an uploaded file is served back with, by its extension.
pub fn mime_of(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => XLSX,
        "zip" => "application/zip",
        "txt" | "csv" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// A file name safe inside the attachment header's quotes.
pub(crate) fn header_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_stay_inside_their_quotes() {
        assert_eq!(header_name("a\"b\\c.docx"), "a_b_c.docx");
        assert_eq!(mime_of("方案.DOCX"), mime_of("x.docx"));
    }
}
