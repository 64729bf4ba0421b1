//! Organizations: training-evaluation organizations (培训评价组织), pilot colleges (试点院校),
//! provincial education authorities (省级教育行政部门) and enterprises (企业).

use crate::FieldError;
use crate::error::{optional_text, required_text};
use crate::ids::CreditCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// Training-evaluation organization, 培训评价组织.
    Teo,
    /// Vocational college, 院校.
    College,
    /// Provincial education authority, 省级教育行政部门.
    ProvinceAuthority,
    /// Enterprise (employer), 企业.
    Enterprise,
}

impl OrgKind {
    pub const ALL: [OrgKind; 4] = [
        OrgKind::Teo,
        OrgKind::College,
        OrgKind::ProvinceAuthority,
        OrgKind::Enterprise,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Teo => "teo",
            OrgKind::College => "college",
            OrgKind::ProvinceAuthority => "province_authority",
            OrgKind::Enterprise => "enterprise",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            OrgKind::Teo => "培训评价组织",
            OrgKind::College => "院校",
            OrgKind::ProvinceAuthority => "省级教育行政部门",
            OrgKind::Enterprise => "企业",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            OrgKind::Teo => "Training-evaluation organization",
            OrgKind::College => "College",
            OrgKind::ProvinceAuthority => "Provincial authority",
            OrgKind::Enterprise => "Enterprise",
        }
    }

    /// Colleges and provincial authorities belong to a province; TEOs and enterprises may.
    pub fn needs_province(self) -> bool {
        matches!(self, OrgKind::College | OrgKind::ProvinceAuthority)
    }

    pub fn parse(field: &str, s: &str) -> Result<OrgKind, FieldError> {
        let t = s.trim();
        OrgKind::ALL
            .into_iter()
            .find(|k| {
                k.as_str().eq_ignore_ascii_case(t) || k.zh() == t || k.en().eq_ignore_ascii_case(t)
            })
            .or(match t {
                "TEO" | "培训评价机构" => Some(OrgKind::Teo),
                "试点院校" | "学校" => Some(OrgKind::College),
                "省级教育行政部门" | "教育厅" | "province" => Some(OrgKind::ProvinceAuthority),
                _ => None,
            })
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "bad_kind",
                    format!(
                        "unknown organization kind \"{t}\": use teo, college, province_authority or enterprise"
                    ),
                    format!("无法识别的机构类型“{t}”：应为 培训评价组织、院校、省级教育行政部门 或 企业"),
                )
            })
    }
}

/// Lifecycle of a TEO under ministry supervision. Certificates already issued stay
/// valid in every state, including after the TEO has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeoState {
    Active,
    Suspended,
    /// May keep its pilots but not enlarge them (限制规模).
    ScaleLimited,
    Exiting,
    Exited,
}

impl TeoState {
    pub const ALL: [TeoState; 5] = [
        TeoState::Active,
        TeoState::Suspended,
        TeoState::ScaleLimited,
        TeoState::Exiting,
        TeoState::Exited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TeoState::Active => "active",
            TeoState::Suspended => "suspended",
            TeoState::ScaleLimited => "scale_limited",
            TeoState::Exiting => "exiting",
            TeoState::Exited => "exited",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            TeoState::Active => "正常",
            TeoState::Suspended => "暂停",
            TeoState::ScaleLimited => "限制规模",
            TeoState::Exiting => "退出中",
            TeoState::Exited => "已退出",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            TeoState::Active => "Active",
            TeoState::Suspended => "Suspended",
            TeoState::ScaleLimited => "Scale-limited",
            TeoState::Exiting => "Exiting",
            TeoState::Exited => "Exited",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<TeoState, FieldError> {
        let t = s.trim();
        TeoState::ALL
            .into_iter()
            .find(|st| {
                st.as_str().eq_ignore_ascii_case(t) || st.zh() == t || st.en().eq_ignore_ascii_case(t)
            })
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "bad_state",
                    format!("unknown TEO state \"{t}\": use active, suspended, scale_limited, exiting or exited"),
                    format!("无法识别的状态“{t}”：应为 正常、暂停、限制规模、退出中 或 已退出"),
                )
            })
    }

    /// Whether the ministry may move a TEO from `self` to `to`. Exited is final.
    pub fn can_become(self, to: TeoState) -> bool {
        use TeoState::*;
        match (self, to) {
            (a, b) if a == b => false,
            (Exited, _) => false,
            (Exiting, Exited) => true,
            (Exiting, _) => false,
            (_, Exited) => false,
            _ => true,
        }
    }

    /// Whether the TEO may create or change certificates in this state.
    pub fn may_edit_certificates(self) -> bool {
        matches!(self, TeoState::Active | TeoState::ScaleLimited)
    }

    pub fn transition(self, to: TeoState) -> Result<TeoState, FieldError> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(FieldError::new(
                "state",
                "bad_transition",
                format!("a TEO cannot go from {} to {}", self.as_str(), to.as_str()),
                format!("培训评价组织不能从“{}”变为“{}”", self.zh(), to.zh()),
            ))
        }
    }
}

/// Provincial-level divisions that run 1+X pilots (mainland provinces, autonomous regions,
/// municipalities, and the Xinjiang Production and Construction Corps).
pub const PROVINCES: [&str; 32] = [
    "北京市",
    "天津市",
    "河北省",
    "山西省",
    "内蒙古自治区",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "上海市",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "广西壮族自治区",
    "海南省",
    "重庆市",
    "四川省",
    "贵州省",
    "云南省",
    "西藏自治区",
    "陕西省",
    "甘肃省",
    "青海省",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "新疆生产建设兵团",
];

/// A provincial-level division; accepts the short name ("山东") as well as the full one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Province(String);

impl Province {
    pub fn parse(field: &str, s: &str) -> Result<Province, FieldError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(FieldError::required(field));
        }
        PROVINCES
            .iter()
            .find(|p| **p == t || (t.chars().count() >= 2 && p.starts_with(t)))
            .map(|p| Province(p.to_string()))
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "bad_province",
                    format!("\"{t}\" is not a provincial-level division of mainland China"),
                    format!("“{t}”不是省级行政区"),
                )
            })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated organization, ready to be stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewOrganization {
    pub kind: OrgKind,
    pub name_zh: String,
    pub name_en: Option<String>,
    pub credit_code: CreditCode,
    pub province: Option<Province>,
    pub teo_state: Option<TeoState>,
    pub website: Option<String>,
}

/// Organization fields as typed by a person (form, API, spreadsheet row).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrganizationInput {
    pub kind: String,
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    pub credit_code: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub website: String,
}

impl OrganizationInput {
    /// Validate every field and report all errors at once.
    pub fn parse(&self) -> Result<NewOrganization, Vec<FieldError>> {
        let mut errs = Vec::new();
        let kind = OrgKind::parse("kind", &self.kind)
            .map_err(|e| errs.push(e))
            .ok();
        let name_zh = required_text("name_zh", &self.name_zh, 200)
            .map_err(|e| errs.push(e))
            .ok();
        let name_en = optional_text("name_en", &self.name_en, 300)
            .map_err(|e| errs.push(e))
            .ok();
        let credit_code = CreditCode::parse(&self.credit_code)
            .map_err(|e| errs.push(e.field("credit_code")))
            .ok();
        let province = if self.province.trim().is_empty() {
            if kind.is_some_and(|k| k.needs_province()) {
                errs.push(FieldError::new(
                    "province",
                    "required",
                    "is required for colleges and provincial authorities",
                    "院校和省级教育行政部门必须填写省份",
                ));
            }
            None
        } else {
            Province::parse("province", &self.province)
                .map_err(|e| errs.push(e))
                .ok()
        };
        let teo_state = match kind {
            Some(OrgKind::Teo) if self.state.trim().is_empty() => Some(TeoState::Active),
            Some(OrgKind::Teo) => TeoState::parse("state", &self.state)
                .map_err(|e| errs.push(e))
                .ok(),
            _ => None,
        };
        let website = optional_text("website", &self.website, 300)
            .map_err(|e| errs.push(e))
            .ok();
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(NewOrganization {
            kind: kind.unwrap(),
            name_zh: name_zh.unwrap(),
            name_en: name_en.unwrap(),
            credit_code: credit_code.unwrap(),
            province,
            teo_state,
            website: website.unwrap(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teo_lifecycle_transitions() {
        use TeoState::*;
        assert!(Active.can_become(Suspended));
        assert!(Suspended.can_become(Active));
        assert!(ScaleLimited.can_become(Exiting));
        assert!(Exiting.can_become(Exited));
        assert!(!Active.can_become(Exited), "exit goes through exiting");
        assert!(!Exited.can_become(Active), "exited is final");
        assert!(!Exiting.can_become(Active));
        assert!(!Active.can_become(Active));
        assert!(!Suspended.may_edit_certificates());
    }

    #[test]
    fn province_short_and_full_names() {
        assert_eq!(Province::parse("p", "山东").unwrap().as_str(), "山东省");
        assert_eq!(Province::parse("p", "北京市").unwrap().as_str(), "北京市");
        assert_eq!(
            Province::parse("p", "东京").unwrap_err().code,
            "bad_province"
        );
    }

    #[test]
    fn org_input_reports_every_bad_field() {
        let input = OrganizationInput {
            kind: "college".into(),
            name_zh: " ".into(),
            credit_code: "12345".into(),
            ..Default::default()
        };
        let errs = input.parse().unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["name_zh", "credit_code", "province"]);
    }

    #[test]
    fn kinds_parse_in_chinese() {
        assert_eq!(OrgKind::parse("k", "培训评价组织").unwrap(), OrgKind::Teo);
        assert_eq!(OrgKind::parse("k", "院校").unwrap(), OrgKind::College);
        assert!(OrgKind::parse("k", "学会").is_err());
    }
}
