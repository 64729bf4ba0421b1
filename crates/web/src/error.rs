//! One error type for pages and API: the right status code, and for the API the JSON
//! body `{"error": {"code", "message", "fields"}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use xcert_domain::FieldError;
use xcert_domain::access::Denied;
use xcert_store::StoreError;

#[derive(Debug)]
pub enum AppError {
    BadRequest(String),
    Unauthorized,
    Forbidden(Denied),
    NotFound(String),
    Conflict(FieldError),
    Invalid(Vec<FieldError>),
    TooManyRequests(i64),
    Internal(String),
}

/// A refused input, beside its field.
pub(crate) fn invalid(
    field: &str,
    code: &str,
    en: impl Into<String>,
    zh: impl Into<String>,
) -> AppError {
    AppError::Invalid(vec![FieldError::new(field, code, en, zh)])
}

/// A request that clashes with the current state, beside its field.
pub(crate) fn conflict(
    field: &str,
    code: &str,
    en: impl Into<String>,
    zh: impl Into<String>,
) -> AppError {
    AppError::Conflict(FieldError::new(field, code, en, zh))
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Invalid(_) => "invalid",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Internal(_) => "internal",
        }
    }

    /// The message in a language ("zh" or "en").
    pub fn message(&self, lang: &str) -> String {
        let zh = lang == "zh";
        match self {
            AppError::BadRequest(m) => m.clone(),
            AppError::Unauthorized => if zh { "请先登录" } else { "sign in first" }.into(),
            AppError::Forbidden(d) => {
                if zh {
                    d.zh.clone()
                } else {
                    d.en.clone()
                }
            }
            AppError::NotFound(w) => {
                if zh {
                    format!("未找到：{w}")
                } else {
                    format!("not found: {w}")
                }
            }
            AppError::Conflict(f) => f.message(lang).to_string(),
            AppError::Invalid(v) => v
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message(lang)))
                .collect::<Vec<_>>()
                .join("; "),
            AppError::TooManyRequests(s) => {
                if zh {
                    format!("尝试次数过多，请 {s} 秒后再试")
                } else {
                    format!("too many attempts; try again in {s} seconds")
                }
            }
            AppError::Internal(_) => if zh {
                "服务器内部错误"
            } else {
                "internal error"
            }
            .into(),
        }
    }

    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            AppError::Invalid(v) => v.clone(),
            AppError::Conflict(f) => vec![f.clone()],
            _ => vec![],
        }
    }

    pub fn json_body(&self) -> serde_json::Value {
        let mut fields = serde_json::Map::new();
        for f in self.fields() {
            let msg = match fields.get(&f.field) {
                Some(serde_json::Value::String(prev)) => format!("{prev}; {}", f.en),
                _ => f.en.clone(),
            };
            fields.insert(f.field.clone(), serde_json::Value::String(msg));
        }
        serde_json::json!({"error": {"code": self.code(), "message": self.message("en"), "fields": fields}})
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(w) => AppError::NotFound(w),
            StoreError::Invalid(v) => AppError::Invalid(v),
            StoreError::Conflict(f) => AppError::Conflict(f),
            StoreError::Denied(d) => AppError::Forbidden(d),
            other => {
                tracing::error!(error = %other, "store failure");
                AppError::Internal(other.to_string())
            }
        }
    }
}

impl From<Denied> for AppError {
    fn from(d: Denied) -> Self {
        AppError::Forbidden(d)
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(v: Vec<FieldError>) -> Self {
        AppError::Invalid(v)
    }
}

/// API responses: JSON error bodies.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut resp = (self.status(), Json(self.json_body())).into_response();
        if let AppError::TooManyRequests(s) = self {
            resp.headers_mut()
                .insert("retry-after", s.to_string().parse().unwrap());
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, AppError>;
