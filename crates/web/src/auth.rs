//! Who is asking: session cookie or bearer token, language, CSRF token.

use crate::AppState;
use crate::error::AppError;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use rand::RngCore;
use std::net::SocketAddr;
use xcert_domain::access::{Action, Principal, authorize};
use xcert_store::SessionInfo;

pub const SESSION_COOKIE: &str = "xcert_session";
pub const CSRF_COOKIE: &str = "xcert_csrf";
pub const LANG_COOKIE: &str = "xcert_lang";

/// The request's caller as every handler sees it.
#[derive(Clone)]
pub struct Ctx {
    pub lang: &'static str,
    pub session: Option<SessionInfo>,
    /// The token forms must echo: the session's, or the anonymous double-submit cookie's.
    pub csrf: String,
    /// Authenticated by `Authorization: Bearer`, which cross-site requests cannot carry.
    pub bearer: bool,
    /// The client address, for login throttling.
    pub client: String,
    pub path: String,
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn random_token() -> String {
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The anonymous CSRF token of this request (from its cookie or freshly made).
#[derive(Clone)]
struct AnonCsrf(String);

/// Give every visitor a CSRF cookie so that even the sign-in form is protected.
pub async fn csrf_cookie(mut req: Request, next: Next) -> Response {
    let existing = cookie(req.headers(), CSRF_COOKIE).filter(|t| t.len() == 48);
    let token = existing.clone().unwrap_or_else(random_token);
    req.extensions_mut().insert(AnonCsrf(token.clone()));
    let mut resp = next.run(req).await;
    if existing.is_none() {
        let c = format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        // Inside the nested API router the URI has lost its /api/v1 prefix.
        let full_path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map(|u| u.0.path().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        let is_api = full_path.starts_with("/api/");
        let lang = match cookie(headers, LANG_COOKIE).as_deref() {
            Some("en") => "en",
            Some("zh") => "zh",
            _ => {
                // Pages are Chinese unless switched; API messages English unless asked for Chinese.
                let al = headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if is_api && !al.starts_with("zh") {
                    "en"
                } else {
                    "zh"
                }
            }
        };
        let bearer_token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|s| s.trim().to_string());
        let (token, bearer) = match bearer_token {
            Some(t) => (Some(t), true),
            None => (cookie(headers, SESSION_COOKIE), false),
        };
        let session = match &token {
            Some(t) => state.store.session(t).await?,
            None => None,
        };
        if bearer && session.is_none() {
            return Err(AppError::Unauthorized);
        }
        let anon = parts
            .extensions
            .get::<AnonCsrf>()
            .map(|a| a.0.clone())
            .unwrap_or_default();
        let csrf = session.as_ref().map(|s| s.csrf.clone()).unwrap_or(anon);
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        let ctx = Ctx {
            lang,
            session,
            csrf,
            bearer,
            client,
            path: full_path,
        };
        // API calls that change state with a cookie session must prove same origin.
        if is_api
            && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS)
            && !ctx.bearer
            && ctx.session.is_some()
        {
            let sent = headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            ctx.check_csrf(sent)?;
        }
        Ok(ctx)
    }
}

impl Ctx {
    /// A context for a caller outside HTTP (the command line, the demo loader) acting as
    /// an account: the same services and the same access rules as a signed-in request.
    pub fn for_user(user: xcert_store::UserRow) -> Ctx {
        Ctx {
            lang: "zh",
            session: Some(SessionInfo {
                user,
                csrf: String::new(),
            }),
            csrf: String::new(),
            bearer: true,
            client: "cli".into(),
            path: String::new(),
        }
    }

    pub fn principal(&self) -> Option<Principal> {
        self.session.as_ref().map(|s| s.user.principal())
    }

    /// The signed-in principal, or 401.
    pub fn require(&self) -> Result<Principal, AppError> {
        self.principal().ok_or(AppError::Unauthorized)
    }

    /// 401 when not signed in, 403 when the rule says no.
    pub fn authorize(&self, action: &Action<'_>) -> Result<Principal, AppError> {
        let p = self.require()?;
        authorize(Some(&p), action)?;
        Ok(p)
    }

    pub fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        // Constant-time comparison: the token is a secret.
        let a = sent.as_bytes();
        let b = self.csrf.as_bytes();
        let same = !b.is_empty()
            && a.len() == b.len()
            && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if same {
            Ok(())
        } else {
            Err(AppError::Forbidden(xcert_domain::access::Denied {
                en: "the form has expired or did not come from this site (CSRF check failed); reload the page and try again".into(),
                zh: "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试".into(),
            }))
        }
    }

    pub fn username(&self) -> String {
        self.session
            .as_ref()
            .map(|s| s.user.username.clone())
            .unwrap_or_default()
    }
}
