//! X certificates: vocational skill grade certificates (职业技能等级证书).

use crate::FieldError;
use crate::error::{optional_text, required_text, split_list};
use crate::framework::Level;
use serde::{Deserialize, Serialize};

/// A certificate code chosen by its TEO, e.g. `SGCC-RPM`: 3–32 capitals, digits or
/// hyphens, starting with a letter or digit. Unique across the registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CertificateCode(String);

impl CertificateCode {
    pub fn parse(field: &str, s: &str) -> Result<CertificateCode, FieldError> {
        let t = s.trim().to_ascii_uppercase();
        if t.is_empty() {
            return Err(FieldError::required(field));
        }
        let ok_len = (3..=32).contains(&t.len());
        let ok_chars = t
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        let ok_start = t.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if ok_len && ok_chars && ok_start {
            Ok(CertificateCode(t))
        } else {
            Err(FieldError::new(
                field,
                "bad_code",
                format!(
                    "\"{}\" is not a certificate code: use 3–32 letters, digits or hyphens, e.g. SGCC-RPM",
                    s.trim()
                ),
                format!(
                    "“{}”不是有效的证书代码：应为 3–32 位字母、数字或连字符，例如 SGCC-RPM",
                    s.trim()
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CertificateCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a certificate stands in the registry. Only published (and suspended, marked
/// as such) certificates appear in the public catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    Draft,
    Published,
    Suspended,
    Withdrawn,
}

impl CertificateStatus {
    pub const ALL: [CertificateStatus; 4] = [
        CertificateStatus::Draft,
        CertificateStatus::Published,
        CertificateStatus::Suspended,
        CertificateStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CertificateStatus::Draft => "draft",
            CertificateStatus::Published => "published",
            CertificateStatus::Suspended => "suspended",
            CertificateStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            CertificateStatus::Draft => "草稿",
            CertificateStatus::Published => "已公布",
            CertificateStatus::Suspended => "暂停",
            CertificateStatus::Withdrawn => "已撤销",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            CertificateStatus::Draft => "Draft",
            CertificateStatus::Published => "Published",
            CertificateStatus::Suspended => "Suspended",
            CertificateStatus::Withdrawn => "Withdrawn",
        }
    }

    pub fn is_public(self) -> bool {
        matches!(
            self,
            CertificateStatus::Published | CertificateStatus::Suspended
        )
    }

    pub fn parse(field: &str, s: &str) -> Result<CertificateStatus, FieldError> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(CertificateStatus::Draft);
        }
        CertificateStatus::ALL
            .into_iter()
            .find(|st| {
                st.as_str().eq_ignore_ascii_case(t)
                    || st.zh() == t
                    || st.en().eq_ignore_ascii_case(t)
            })
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "bad_status",
                    format!("unknown status \"{t}\": use draft, published, suspended or withdrawn"),
                    format!("无法识别的状态“{t}”：应为 草稿、已公布、暂停 或 已撤销"),
                )
            })
    }
}

/// A validated certificate, ready to be stored. The owning TEO is referenced by the
/// caller (by id or credit code), not validated here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewCertificate {
    pub code: CertificateCode,
    pub name_zh: String,
    pub name_en: Option<String>,
    pub levels: Vec<Level>,
    pub status: CertificateStatus,
    pub majors: Vec<String>,
    pub posts: Vec<String>,
    pub competitions: Vec<String>,
    pub description: Option<String>,
}

/// Certificate fields as typed by a person; list fields are separated by `;`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CertificateInput {
    pub code: String,
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub levels: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub majors: String,
    #[serde(default)]
    pub posts: String,
    #[serde(default)]
    pub competitions: String,
    #[serde(default)]
    pub description: String,
}

impl CertificateInput {
    pub fn parse(&self) -> Result<NewCertificate, Vec<FieldError>> {
        let mut errs = Vec::new();
        let code = CertificateCode::parse("code", &self.code)
            .map_err(|e| errs.push(e))
            .ok();
        let name_zh = required_text("name_zh", &self.name_zh, 100)
            .map_err(|e| errs.push(e))
            .ok();
        let name_en = optional_text("name_en", &self.name_en, 200)
            .map_err(|e| errs.push(e))
            .ok();
        let levels = Level::parse_list("levels", &self.levels)
            .map_err(|e| errs.push(e))
            .ok();
        let status = CertificateStatus::parse("status", &self.status)
            .map_err(|e| errs.push(e))
            .ok();
        let description = optional_text("description", &self.description, 4000)
            .map_err(|e| errs.push(e))
            .ok();
        let list = |field: &str, v: &str, errs: &mut Vec<FieldError>| {
            let items = split_list(v);
            if let Some(long) = items.iter().find(|s| s.chars().count() > 100) {
                errs.push(FieldError::new(
                    field,
                    "too_long",
                    format!("item \"{long}\" is longer than 100 characters"),
                    format!("条目“{long}”超过 100 个字符"),
                ));
            }
            items
        };
        let majors = list("majors", &self.majors, &mut errs);
        let posts = list("posts", &self.posts, &mut errs);
        let competitions = list("competitions", &self.competitions, &mut errs);
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(NewCertificate {
            code: code.unwrap(),
            name_zh: name_zh.unwrap(),
            name_en: name_en.unwrap(),
            levels: levels.unwrap(),
            status: status.unwrap(),
            majors,
            posts,
            competitions,
            description: description.unwrap(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalized_and_checked() {
        assert_eq!(
            CertificateCode::parse("c", " sgcc-rpm ").unwrap().as_str(),
            "SGCC-RPM"
        );
        assert_eq!(
            CertificateCode::parse("c", "AB").unwrap_err().code,
            "bad_code"
        );
        assert_eq!(
            CertificateCode::parse("c", "继电保护").unwrap_err().code,
            "bad_code"
        );
        assert_eq!(
            CertificateCode::parse("c", "-ABC").unwrap_err().code,
            "bad_code"
        );
    }

    #[test]
    fn input_splits_lists_and_defaults_to_draft() {
        let c = CertificateInput {
            code: "SGCC-RPM".into(),
            name_zh: "继电保护检修".into(),
            levels: "初级;中级;高级".into(),
            majors: "发电厂及电力系统；供用电技术".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(c.status, CertificateStatus::Draft);
        assert_eq!(c.levels.len(), 3);
        assert_eq!(c.majors, vec!["发电厂及电力系统", "供用电技术"]);
    }

    #[test]
    fn input_without_levels_is_rejected() {
        let errs = CertificateInput {
            code: "X-1".into(),
            name_zh: "n".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(errs[0].field, "levels");
    }
}
