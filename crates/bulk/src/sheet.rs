//! The four sheets, their columns, and how headers and sheet names are recognized.

use serde::{Deserialize, Serialize};

/// One kind of record, and the sheet (or CSV file) that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sheet {
    Organizations,
    Certificates,
    Standards,
    People,
}

/// What the reader and the template need to know about one column.
pub(crate) struct ColSpec {
    pub key: &'static str,
    pub zh: &'static str,
    /// The header must be present (the value may still be optional per row).
    pub required: bool,
    /// A long identifier that Excel silently rounds when the cell is numeric.
    pub ident: bool,
    pub width: f64,
    pub example: &'static str,
    pub rule_zh: &'static str,
    pub rule_en: &'static str,
}

/// Defines the `(key, zh)` list that `Sheet::columns()` hands out and the fuller
/// spec table from one list, so the two cannot drift apart.
macro_rules! sheet_columns {
    ($cols:ident, $specs:ident: $( ($key:literal, $zh:literal, $req:literal, $ident:literal, $width:literal, $ex:literal, $rzh:literal, $ren:literal) ),* $(,)?) => {
        const $cols: &[(&str, &str)] = &[$(($key, $zh)),*];
        const $specs: &[ColSpec] = &[$(ColSpec {
            key: $key,
            zh: $zh,
            required: $req,
            ident: $ident,
            width: $width,
            example: $ex,
            rule_zh: $rzh,
            rule_en: $ren,
        }),*];
    };
}

sheet_columns!(ORG_COLS, ORG_SPECS:
    ("kind", "类型", true, false, 18.0, "培训评价组织",
     "必填。机构类型", "Required. Organization kind"),
    ("name_zh", "中文名称", true, false, 30.0, "北京示例职业技能评价有限公司",
     "必填，不超过 200 字", "Required, at most 200 characters"),
    ("name_en", "英文名称", false, false, 30.0, "Beijing Example Skills Evaluation Co., Ltd.",
     "选填，不超过 300 字", "Optional, at most 300 characters"),
    ("credit_code", "统一社会信用代码", true, true, 24.0, "91110108MA01ABCD1E",
     "必填，18 位，末位为 GB 32100 校验码；请将此列设为文本格式",
     "Required, 18 characters ending in a GB 32100 check character; format the column as Text"),
    ("province", "省份", false, false, 14.0, "北京市",
     "院校和省级教育行政部门必填；可写简称，如“山东”",
     "Required for colleges and provincial authorities; short names such as 山东 are accepted"),
    ("state", "状态", false, false, 12.0, "正常",
     "仅培训评价组织填写，留空为“正常”", "TEOs only; blank means active"),
    ("website", "网站", false, false, 30.0, "https://www.example.org.cn",
     "选填", "Optional"),
);

sheet_columns!(CERT_COLS, CERT_SPECS:
    ("code", "证书代码", true, false, 16.0, "DEMO-WEB",
     "必填，3–32 位大写字母、数字或连字符，全库唯一",
     "Required, 3–32 capitals, digits or hyphens, unique in the registry"),
    ("name_zh", "证书名称", true, false, 30.0, "Web 前端开发（示例）",
     "必填，不超过 100 字", "Required, at most 100 characters"),
    ("name_en", "英文名称", false, false, 30.0, "Web Front-end Development (example)",
     "选填，不超过 200 字", "Optional, at most 200 characters"),
    ("teo", "培训评价组织", true, true, 26.0, "91110108MA01ABCD1E",
     "必填，填写所属培训评价组织的统一社会信用代码或完整中文名称",
     "Required: the owning TEO's credit code or its exact Chinese name"),
    ("levels", "等级", true, false, 16.0, "初级;中级;高级",
     "必填，可填多个，用 ; 分隔", "Required; several allowed, separated by ;"),
    ("status", "状态", false, false, 12.0, "草稿",
     "留空为“草稿”", "Blank means draft"),
    ("majors", "相关专业", false, false, 30.0, "软件技术;计算机应用技术",
     "选填，多个用 ; 分隔", "Optional; separate several with ;"),
    ("posts", "面向岗位", false, false, 30.0, "前端开发工程师;网页设计师",
     "选填，多个用 ; 分隔", "Optional; separate several with ;"),
    ("competitions", "相关赛项", false, false, 30.0, "",
     "选填，多个用 ; 分隔", "Optional; separate several with ;"),
    ("description", "简介", false, false, 40.0, "面向 Web 前端开发岗位的职业技能等级证书示例。",
     "选填，不超过 4000 字", "Optional, at most 4000 characters"),
);

sheet_columns!(STD_COLS, STD_SPECS:
    ("certificate_code", "证书代码", true, false, 16.0, "DEMO-WEB",
     "必填，所属证书的代码；同一证书的各行组成其标准", "Required; the rows of one certificate form its standard"),
    ("level", "等级", true, false, 10.0, "初级",
     "必填，该技能要求所属等级", "Required; the level of this skill requirement"),
    ("work_area", "工作领域", true, false, 24.0, "静态网页开发",
     "必填，不超过 200 字；按首次出现的顺序排列", "Required, at most 200 characters; ordered by first appearance"),
    ("work_task", "工作任务", true, false, 24.0, "页面结构搭建",
     "必填，不超过 200 字；同一工作领域下同名任务合并", "Required, at most 200 characters; same title under the same area is one task"),
    ("skill_requirement", "职业技能要求", true, false, 50.0, "能使用 HTML5 语义化标签完成页面结构搭建",
     "必填，不超过 1000 字；每行一条", "Required, at most 1000 characters; one per row"),
);

sheet_columns!(PEOPLE_COLS, PEOPLE_SPECS:
    ("name", "姓名", true, false, 12.0, "张三",
     "必填，不超过 50 字", "Required, at most 50 characters"),
    ("id_number", "身份证号", true, true, 22.0, "11010519491231002X",
     "必填，18 位居民身份证号码；请将此列设为文本格式，否则 Excel 会丢失末尾数字",
     "Required, 18-character resident ID number; format the column as Text or Excel will round it"),
    ("college", "院校", true, true, 26.0, "北京示例职业技术学院",
     "必填，所在院校的统一社会信用代码或完整中文名称",
     "Required: the college's credit code or its exact Chinese name"),
    ("student_no", "学号", false, false, 16.0, "2023010101",
     "选填，不超过 40 字", "Optional, at most 40 characters"),
    ("major", "专业", false, false, 20.0, "软件技术",
     "选填，不超过 100 字", "Optional, at most 100 characters"),
    ("phone", "手机号", false, false, 16.0, "13800138000",
     "选填，只能包含数字、+ 和 -", "Optional; digits, + and - only"),
);

impl Sheet {
    pub const ALL: [Sheet; 4] = [
        Sheet::Organizations,
        Sheet::Certificates,
        Sheet::Standards,
        Sheet::People,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Sheet::Organizations => "organizations",
            Sheet::Certificates => "certificates",
            Sheet::Standards => "standards",
            Sheet::People => "people",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Sheet::Organizations => "机构",
            Sheet::Certificates => "证书",
            Sheet::Standards => "标准",
            Sheet::People => "人员",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Sheet::Organizations => "Organizations",
            Sheet::Certificates => "Certificates",
            Sheet::Standards => "Standards",
            Sheet::People => "People",
        }
    }

    /// `(key, zh)` of every column, in template order.
    pub fn columns(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Sheet::Organizations => ORG_COLS,
            Sheet::Certificates => CERT_COLS,
            Sheet::Standards => STD_COLS,
            Sheet::People => PEOPLE_COLS,
        }
    }

    /// Keys of the columns whose header must be present.
    pub fn required_columns(self) -> Vec<&'static str> {
        self.specs()
            .iter()
            .filter(|c| c.required)
            .map(|c| c.key)
            .collect()
    }

    /// The Chinese label of a column key, for messages; the key itself when unknown.
    pub fn column_zh(self, key: &str) -> &str {
        self.columns()
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(key, |(_, zh)| zh)
    }

    /// The header the template and export write, e.g. `*中文名称 (name_zh)`;
    /// the leading `*` marks a required column.
    pub fn header_label(self, key: &str) -> String {
        match self.specs().iter().find(|c| c.key == key) {
            Some(c) if c.required => format!("*{} ({})", c.zh, c.key),
            Some(c) => format!("{} ({})", c.zh, c.key),
            None => key.to_string(),
        }
    }

    /// The sheet name the template and export use, e.g. `机构 (organizations)`.
    pub fn sheet_name(self) -> String {
        format!("{} ({})", self.zh(), self.key())
    }

    /// Recognize a sheet (tab) name: the key, the Chinese name, or `zh (key)`.
    pub fn from_name(name: &str) -> Option<Sheet> {
        Sheet::ALL
            .into_iter()
            .find(|s| label_matches(name, s.key(), s.zh()))
    }

    pub(crate) fn specs(self) -> &'static [ColSpec] {
        match self {
            Sheet::Organizations => ORG_SPECS,
            Sheet::Certificates => CERT_SPECS,
            Sheet::Standards => STD_SPECS,
            Sheet::People => PEOPLE_SPECS,
        }
    }

    /// Position of a column key in template order (for sorting errors within a row).
    pub(crate) fn column_index(self, key: &str) -> Option<usize> {
        self.columns().iter().position(|(k, _)| *k == key)
    }
}

/// Trim what spreadsheets leave around values: ASCII and full-width spaces,
/// non-breaking spaces, a stray BOM or zero-width space.
pub(crate) fn clean(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '\u{200b}')
}

/// Whether a header (or sheet name) names the column `key` / `zh`. Accepts the key,
/// the Chinese label, and `zh (key)` with ASCII or full-width brackets; case and
/// surrounding blanks are ignored, and a `*` required-marker is dropped.
pub(crate) fn label_matches(raw: &str, key: &str, zh: &str) -> bool {
    let strip = |s: &str| -> String { clean(clean(s).trim_matches(['*', '＊'])).to_lowercase() };
    let s = strip(raw);
    if s.is_empty() {
        return false;
    }
    if s == key || s == zh {
        return true;
    }
    let Some(body) = s.strip_suffix(')').or_else(|| s.strip_suffix('）')) else {
        return false;
    };
    let Some(open) = body.rfind(['(', '（']) else {
        return false;
    };
    let outer = strip(&body[..open]);
    let bracket = body[open..].chars().next().map_or(1, char::len_utf8);
    let inner = strip(&body[open + bracket..]);
    inner == key || (!outer.is_empty() && outer == zh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_accept_key_zh_and_combined_forms() {
        for h in [
            "credit_code",
            " CREDIT_CODE ",
            "统一社会信用代码",
            "统一社会信用代码 (credit_code)",
            "统一社会信用代码（credit_code）",
            "*统一社会信用代码 (credit_code)",
            "\u{3000}统一社会信用代码\u{3000}",
            "统一社会信用代码(Credit_Code)",
        ] {
            assert!(label_matches(h, "credit_code", "统一社会信用代码"), "{h}");
        }
        for h in ["", "code", "信用代码", "统一社会信用代码 (name_zh", "(x)"] {
            assert!(!label_matches(h, "credit_code", "统一社会信用代码"), "{h}");
        }
    }

    #[test]
    fn sheet_names_are_recognized() {
        assert_eq!(Sheet::from_name("机构"), Some(Sheet::Organizations));
        assert_eq!(Sheet::from_name("People"), Some(Sheet::People));
        assert_eq!(Sheet::from_name("标准 (standards)"), Some(Sheet::Standards));
        assert_eq!(Sheet::from_name("说明 (instructions)"), None);
        for s in Sheet::ALL {
            assert_eq!(Sheet::from_name(&s.sheet_name()), Some(s));
            assert_eq!(s.columns().len(), s.specs().len());
        }
    }
}
