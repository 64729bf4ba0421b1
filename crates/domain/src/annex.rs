//! The seven annexes (附件) every certificate proposal carries: shared by the material
//! consolidation engine, which finds them among uploaded files, and the declaration,
//! which requires them before a proposal is submitted.

use serde::{Deserialize, Serialize};

/// Annex (附件): the seven documents every certificate proposal carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Annex {
    /// 附件1 职业技能等级标准
    Standard,
    /// 附件2 试点有关事项
    PilotMatters,
    /// 附件3 考核方案
    AssessmentScheme,
    /// 附件4 考核站点建设标准
    ExamSiteStandard,
    /// 附件5 考核成本核算方案
    CostAccounting,
    /// 附件6 收费项目及依据
    ExpenseItems,
    /// 附件7 必要性与可行性报告
    Feasibility,
}

impl Annex {
    pub const ALL: [Annex; 7] = [
        Annex::Standard,
        Annex::PilotMatters,
        Annex::AssessmentScheme,
        Annex::ExamSiteStandard,
        Annex::CostAccounting,
        Annex::ExpenseItems,
        Annex::Feasibility,
    ];

    /// 1-based number as in "附件3".
    pub fn number(self) -> u8 {
        Annex::ALL.iter().position(|a| *a == self).unwrap_or(0) as u8 + 1
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Annex::Standard => "standard",
            Annex::PilotMatters => "pilot_matters",
            Annex::AssessmentScheme => "assessment_scheme",
            Annex::ExamSiteStandard => "exam_site_standard",
            Annex::CostAccounting => "cost_accounting",
            Annex::ExpenseItems => "expense_items",
            Annex::Feasibility => "feasibility",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Annex::Standard => "职业技能等级标准",
            Annex::PilotMatters => "试点有关事项",
            Annex::AssessmentScheme => "考核方案",
            Annex::ExamSiteStandard => "考核站点建设标准",
            Annex::CostAccounting => "考核成本核算方案",
            Annex::ExpenseItems => "收费项目及依据",
            Annex::Feasibility => "必要性与可行性报告",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Annex::Standard => "Skill grade standard",
            Annex::PilotMatters => "Pilot matters",
            Annex::AssessmentScheme => "Assessment scheme",
            Annex::ExamSiteStandard => "Exam-site construction standard",
            Annex::CostAccounting => "Cost accounting scheme",
            Annex::ExpenseItems => "Expense items and basis",
            Annex::Feasibility => "Necessity and feasibility report",
        }
    }

    pub fn parse(s: &str) -> Option<Annex> {
        let t = s.trim();
        Annex::ALL
            .into_iter()
            .find(|a| a.as_str() == t || a.zh() == t || a.en().eq_ignore_ascii_case(t))
    }
}
