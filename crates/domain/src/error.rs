//! Validation errors that name the field at fault, in Chinese and English.

use serde::Serialize;

/// One rejected field: which field, a stable machine code, and why (zh and en).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub en: String,
    pub zh: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// A required field that is missing or blank.
    pub fn required(field: &str) -> Self {
        Self::new(field, "required", "is required", "不能为空")
    }

    /// The same error reported against another field (e.g. a spreadsheet column).
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = field.to_string();
        self
    }

    /// The message in the requested language ("zh" or anything else for English).
    pub fn message(&self, lang: &str) -> &str {
        if lang == "zh" { &self.zh } else { &self.en }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.en)
    }
}

/// Trim a text field and reject it when blank or longer than `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::required(field));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("must be at most {max} characters"),
            format!("不能超过 {max} 个字符"),
        ));
    }
    Ok(v.to_string())
}

/// Like [`required_text`] but blank means `None`.
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<Option<String>, FieldError> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        required_text(field, value, max).map(Some)
    }
}

/// Split a list cell on the separators people type in spreadsheets: `;`, `；`, `,`, `，`, `、`, newline.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split([';', '；', ',', '，', '、', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
