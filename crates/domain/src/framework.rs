//! The qualifications framework: the three skill grade levels of an X certificate.

use crate::FieldError;
use serde::{Deserialize, Serialize};

/// A skill grade level (等级): junior 初级, intermediate 中级, senior 高级.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Junior,
    Intermediate,
    Senior,
}

/// What a holder of a level knows, can do, and can take responsibility for.
#[derive(Debug, Clone, Serialize)]
pub struct LevelDescriptor {
    pub level: Level,
    pub knowledge_zh: &'static str,
    pub knowledge_en: &'static str,
    pub skill_zh: &'static str,
    pub skill_en: &'static str,
    pub competence_zh: &'static str,
    pub competence_en: &'static str,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Junior, Level::Intermediate, Level::Senior];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Junior => "junior",
            Level::Intermediate => "intermediate",
            Level::Senior => "senior",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Level::Junior => "初级",
            Level::Intermediate => "中级",
            Level::Senior => "高级",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Level::Junior => "Junior",
            Level::Intermediate => "Intermediate",
            Level::Senior => "Senior",
        }
    }

    pub fn rank(self) -> u8 {
        match self {
            Level::Junior => 1,
            Level::Intermediate => 2,
            Level::Senior => 3,
        }
    }

    /// Accepts the English key, the Chinese name, or the rank 1–3.
    pub fn parse(field: &str, s: &str) -> Result<Level, FieldError> {
        match s.trim().to_lowercase().as_str() {
            "junior" | "初级" | "1" => Ok(Level::Junior),
            "intermediate" | "中级" | "2" => Ok(Level::Intermediate),
            "senior" | "高级" | "3" => Ok(Level::Senior),
            other => Err(FieldError::new(
                field,
                "bad_level",
                format!(
                    "unknown level \"{other}\": use junior, intermediate or senior (初级/中级/高级)"
                ),
                format!("无法识别的等级“{other}”：应为 初级、中级 或 高级"),
            )),
        }
    }

    /// Parse a list such as "初级;中级;高级"; duplicates removed, sorted by rank.
    pub fn parse_list(field: &str, s: &str) -> Result<Vec<Level>, FieldError> {
        let mut out = Vec::new();
        for part in crate::error::split_list(s) {
            let l = Level::parse(field, &part)?;
            if !out.contains(&l) {
                out.push(l);
            }
        }
        if out.is_empty() {
            return Err(FieldError::new(
                field,
                "required",
                "at least one level is required",
                "至少需要一个等级",
            ));
        }
        out.sort();
        Ok(out)
    }

    pub fn descriptor(self) -> LevelDescriptor {
        match self {
            Level::Junior => LevelDescriptor {
                level: self,
                knowledge_zh: "掌握本岗位基础知识与安全规范",
                knowledge_en: "Basic knowledge of the post and its safety rules",
                skill_zh: "在指导下完成常规操作与维护任务",
                skill_en: "Carries out routine operation and maintenance tasks under guidance",
                competence_zh: "遵守作业规程，对本人工作质量负责",
                competence_en: "Follows work procedures and answers for the quality of own work",
            },
            Level::Intermediate => LevelDescriptor {
                level: self,
                knowledge_zh: "系统掌握专业知识，理解设备与工艺原理",
                knowledge_en: "Systematic professional knowledge; understands equipment and process principles",
                skill_zh: "独立完成较复杂的作业，分析并处理一般故障",
                skill_en: "Independently completes complex tasks; analyses and resolves common faults",
                competence_zh: "组织小组作业，指导初级人员",
                competence_en: "Organises team work and guides junior staff",
            },
            Level::Senior => LevelDescriptor {
                level: self,
                knowledge_zh: "全面掌握专业理论与前沿技术",
                knowledge_en: "Comprehensive theory and current technology of the field",
                skill_zh: "解决复杂疑难问题，优化工艺与方案",
                skill_en: "Solves complex problems; improves processes and technical schemes",
                competence_zh: "承担技术管理与培训职责，推动技术创新",
                competence_en: "Takes on technical management and training; drives innovation",
            },
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Level {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::parse("level", s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chinese_english_and_rank() {
        assert_eq!(Level::parse("l", "中级").unwrap(), Level::Intermediate);
        assert_eq!(Level::parse("l", " Senior ").unwrap(), Level::Senior);
        assert_eq!(Level::parse("l", "1").unwrap(), Level::Junior);
        assert!(Level::parse("l", "专家").is_err());
    }

    #[test]
    fn parses_lists_in_rank_order() {
        let v = Level::parse_list("levels", "高级；初级、初级").unwrap();
        assert_eq!(v, vec![Level::Junior, Level::Senior]);
        assert_eq!(
            Level::parse_list("levels", " ").unwrap_err().code,
            "required"
        );
    }
}
