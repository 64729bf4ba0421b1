//! A declaration batch (申报批次): the ministry's numbered call for applications, with its
//! dates and the rules its review follows.

use crate::proposal::Refusal;
use crate::rubric::Rubric;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xcert_domain::FieldError;

/// Where a batch stands. Each state names the stage the ministry is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    /// Being prepared; only the ministry sees it.
    Draft,
    /// Accepting applications within the window (申报).
    Open,
    /// The window is over; formal check (形式审查).
    Closed,
    /// Experts score the proposals (专家评审).
    InReview,
    /// The proposed list is public; objections, credit and tax verification, deliberation
    /// (公示、核查、审议).
    Publicity,
    /// The list is published (公布名单); nothing changes any more.
    Published,
}

impl BatchState {
    pub const ALL: [BatchState; 6] = [
        BatchState::Draft,
        BatchState::Open,
        BatchState::Closed,
        BatchState::InReview,
        BatchState::Publicity,
        BatchState::Published,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Draft => "draft",
            BatchState::Open => "open",
            BatchState::Closed => "closed",
            BatchState::InReview => "in_review",
            BatchState::Publicity => "publicity",
            BatchState::Published => "published",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            BatchState::Draft => "草稿",
            BatchState::Open => "申报中",
            BatchState::Closed => "形式审查",
            BatchState::InReview => "专家评审",
            BatchState::Publicity => "公示与审议",
            BatchState::Published => "已公布",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            BatchState::Draft => "Draft",
            BatchState::Open => "Open for applications",
            BatchState::Closed => "Formal check",
            BatchState::InReview => "Expert review",
            BatchState::Publicity => "Publicity and deliberation",
            BatchState::Published => "Published",
        }
    }

    pub fn parse(s: &str) -> Option<BatchState> {
        BatchState::ALL.into_iter().find(|b| b.as_str() == s.trim())
    }

    /// The one state this one may move to.
    pub fn next(self) -> Option<BatchState> {
        let i = BatchState::ALL.iter().position(|s| *s == self)?;
        BatchState::ALL.get(i + 1).copied()
    }

    /// Move to `to`, which must be the next state: stages are never skipped or re-run.
    pub fn advance(self, to: BatchState) -> Result<BatchState, Refusal> {
        if self.next() == Some(to) {
            Ok(to)
        } else {
            Err(Refusal::new(
                "batch_order",
                format!(
                    "a batch in \"{}\" cannot move to \"{}\"{}",
                    self.en(),
                    to.en(),
                    match self.next() {
                        Some(n) => format!(": its next stage is \"{}\"", n.en()),
                        None => ": it is final".into(),
                    }
                ),
                format!(
                    "批次处于“{}”，不能转到“{}”{}",
                    self.zh(),
                    to.zh(),
                    match self.next() {
                        Some(n) => format!("：下一阶段是“{}”", n.zh()),
                        None => "：已是最终状态".into(),
                    }
                ),
            ))
        }
    }

    /// Whether the public sees this batch (its notice from the opening on).
    pub fn is_public(self) -> bool {
        self != BatchState::Draft
    }
}

/// How the experts' totals become a proposal's score (评分合成规则).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CombineRule {
    /// The arithmetic mean of all totals.
    Mean,
    /// The mean after dropping the highest and the lowest total (needs three or more).
    TrimmedMean,
    /// The median total.
    Median,
}

impl CombineRule {
    pub const ALL: [CombineRule; 3] = [
        CombineRule::Mean,
        CombineRule::TrimmedMean,
        CombineRule::Median,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CombineRule::Mean => "mean",
            CombineRule::TrimmedMean => "trimmed_mean",
            CombineRule::Median => "median",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            CombineRule::Mean => "算术平均",
            CombineRule::TrimmedMean => "去掉最高分和最低分后平均",
            CombineRule::Median => "中位数",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            CombineRule::Mean => "Mean",
            CombineRule::TrimmedMean => "Mean without the highest and lowest",
            CombineRule::Median => "Median",
        }
    }

    pub fn parse(s: &str) -> Option<CombineRule> {
        CombineRule::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
    }
}

/// A batch's validated settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSettings {
    /// The batch's number ("第四批" is 4); unique.
    pub number: i64,
    pub title_zh: String,
    pub title_en: Option<String>,
    /// The notice text (申报通知).
    pub notice: String,
    /// First and last day applications are accepted (inclusive, Beijing dates).
    pub apply_from: NaiveDate,
    pub apply_until: NaiveDate,
    /// Last day of expert review as planned (shown to experts).
    pub review_until: NaiveDate,
    /// How long the proposed list stays public, in days (公示期).
    pub publicity_days: u32,
    pub rubric: Rubric,
    /// Experts drawn for each proposal.
    pub experts_per_proposal: u32,
    /// Exclude experts from the applicant's own organization (always on in practice).
    pub exclude_same_org: bool,
    /// Exclude experts from the applicant's province.
    pub exclude_same_province: bool,
    pub combine: CombineRule,
    /// An expert's total farther than this from the median of all totals is flagged.
    pub outlier_points: f64,
    /// Proposals whose combined score reaches this go on the proposed list.
    pub pass_score: f64,
}

/// A batch as typed into a form or posted as JSON: text, parsed by [`BatchInput::parse`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchInput {
    pub number: String,
    pub title_zh: String,
    pub title_en: String,
    pub notice: String,
    pub apply_from: String,
    pub apply_until: String,
    pub review_until: String,
    pub publicity_days: String,
    /// The rubric as CSV (see [`Rubric::parse_csv`]); blank keeps the standard rubric.
    pub rubric_csv: String,
    pub experts_per_proposal: String,
    /// "true"/"on"/"1" or blank.
    pub exclude_same_org: String,
    pub exclude_same_province: String,
    pub combine: String,
    pub outlier_points: String,
    pub pass_score: String,
}

fn flag(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "on" | "yes" | "是"
    )
}

pub(crate) fn date(field: &str, s: &str) -> Result<NaiveDate, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(FieldError::required(field));
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
        FieldError::new(
            field,
            "bad_date",
            format!("\"{t}\" is not a date (YYYY-MM-DD)"),
            format!("“{t}”不是日期（应为 YYYY-MM-DD）"),
        )
    })
}

fn parse_number<T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display>(
    field: &str,
    s: &str,
    default: Option<T>,
    min: T,
    max: T,
) -> Result<T, FieldError> {
    let t = s.trim();
    let v = if t.is_empty() {
        default.ok_or_else(|| FieldError::required(field))?
    } else {
        t.parse::<T>().map_err(|_| {
            FieldError::new(
                field,
                "bad_number",
                format!("\"{t}\" is not a number"),
                format!("“{t}”不是数字"),
            )
        })?
    };
    if v < min || v > max {
        return Err(FieldError::new(
            field,
            "out_of_range",
            format!("must be between {min} and {max}"),
            format!("应在 {min} 到 {max} 之间"),
        ));
    }
    Ok(v)
}

impl BatchInput {
    pub fn parse(&self) -> Result<BatchSettings, Vec<FieldError>> {
        let mut errs = Vec::new();
        macro_rules! take {
            ($e:expr) => {
                match $e {
                    Ok(v) => Some(v),
                    Err(e) => {
                        errs.push(e);
                        None
                    }
                }
            };
        }
        let number = take!(parse_number::<i64>("number", &self.number, None, 1, 9999));
        let title_zh = take!(xcert_domain::error::required_text(
            "title_zh",
            &self.title_zh,
            200
        ));
        let title_en = self.title_en.trim();
        let notice = take!(xcert_domain::error::required_text(
            "notice",
            &self.notice,
            20_000
        ));
        let apply_from = take!(date("apply_from", &self.apply_from));
        let apply_until = take!(date("apply_until", &self.apply_until));
        let review_until = take!(date("review_until", &self.review_until));
        if let (Some(a), Some(b)) = (apply_from, apply_until)
            && b < a
        {
            errs.push(FieldError::new(
                "apply_until",
                "before_start",
                "the application window ends before it starts",
                "申报截止日期早于开始日期",
            ));
        }
        if let (Some(a), Some(r)) = (apply_until, review_until)
            && r < a
        {
            errs.push(FieldError::new(
                "review_until",
                "before_window",
                "review ends before the application window closes",
                "评审截止日期早于申报截止日期",
            ));
        }
        let publicity_days = take!(parse_number::<u32>(
            "publicity_days",
            &self.publicity_days,
            Some(5),
            1,
            60
        ));
        let rubric = if self.rubric_csv.trim().is_empty() {
            Some(Rubric::standard())
        } else {
            match Rubric::parse_csv(&self.rubric_csv) {
                Ok(r) => Some(r),
                Err(e) => {
                    errs.extend(e.into_iter().map(|e| {
                        let field = format!("rubric_csv.{}", e.field);
                        e.with_field(&field)
                    }));
                    None
                }
            }
        };
        let experts = take!(parse_number::<u32>(
            "experts_per_proposal",
            &self.experts_per_proposal,
            Some(5),
            1,
            25
        ));
        let combine = if self.combine.trim().is_empty() {
            Some(CombineRule::TrimmedMean)
        } else {
            let c = CombineRule::parse(&self.combine);
            if c.is_none() {
                errs.push(FieldError::new(
                    "combine",
                    "bad_rule",
                    "use mean, trimmed_mean or median",
                    "合成规则应为 mean、trimmed_mean 或 median",
                ));
            }
            c
        };
        if combine == Some(CombineRule::TrimmedMean) && experts.is_some_and(|n| n < 3) {
            errs.push(FieldError::new(
                "experts_per_proposal",
                "too_few_to_trim",
                "dropping the highest and lowest score needs at least 3 experts",
                "去掉最高分和最低分至少需要 3 位专家",
            ));
        }
        let outlier = take!(parse_number::<f64>(
            "outlier_points",
            &self.outlier_points,
            Some(15.0),
            0.0,
            100.0
        ));
        let pass = take!(parse_number::<f64>(
            "pass_score",
            &self.pass_score,
            Some(75.0),
            0.0,
            100.0
        ));
        if let (Some(p), Some(r)) = (pass, rubric.as_ref())
            && p > r.total_points()
        {
            errs.push(FieldError::new(
                "pass_score",
                "above_total",
                format!("is above the rubric's {} points", r.total_points()),
                format!("高于评分表总分 {}", r.total_points()),
            ));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(BatchSettings {
            number: number.unwrap_or_default(),
            title_zh: title_zh.unwrap_or_default(),
            title_en: (!title_en.is_empty()).then(|| title_en.to_string()),
            notice: notice.unwrap_or_default(),
            apply_from: apply_from.unwrap_or_default(),
            apply_until: apply_until.unwrap_or_default(),
            review_until: review_until.unwrap_or_default(),
            publicity_days: publicity_days.unwrap_or(5),
            rubric: rubric.unwrap_or_else(Rubric::standard),
            experts_per_proposal: experts.unwrap_or(5),
            exclude_same_org: flag(&self.exclude_same_org),
            exclude_same_province: flag(&self.exclude_same_province),
            combine: combine.unwrap_or(CombineRule::TrimmedMean),
            outlier_points: outlier.unwrap_or(15.0),
            pass_score: pass.unwrap_or(75.0),
        })
    }
}

impl BatchSettings {
    /// Whether `day` lies inside the application window.
    pub fn window_contains(&self, day: NaiveDate) -> bool {
        self.apply_from <= day && day <= self.apply_until
    }

    /// The same settings as form text (to edit a draft batch).
    pub fn to_input(&self) -> BatchInput {
        let b = |v: bool| if v { "on" } else { "" }.to_string();
        BatchInput {
            number: self.number.to_string(),
            title_zh: self.title_zh.clone(),
            title_en: self.title_en.clone().unwrap_or_default(),
            notice: self.notice.clone(),
            apply_from: self.apply_from.to_string(),
            apply_until: self.apply_until.to_string(),
            review_until: self.review_until.to_string(),
            publicity_days: self.publicity_days.to_string(),
            rubric_csv: self.rubric.to_csv(),
            experts_per_proposal: self.experts_per_proposal.to_string(),
            exclude_same_org: b(self.exclude_same_org),
            exclude_same_province: b(self.exclude_same_province),
            combine: self.combine.as_str().into(),
            outlier_points: self.outlier_points.to_string(),
            pass_score: self.pass_score.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> BatchInput {
        BatchInput {
            number: "5".into(),
            title_zh: "第五批职业教育培训评价组织".into(),
            notice: "申报通知".into(),
            apply_from: "2026-11-01".into(),
            apply_until: "2026-12-15".into(),
            review_until: "2027-01-15".into(),
            exclude_same_org: "on".into(),
            ..Default::default()
        }
    }

    #[test]
    fn states_advance_one_step_at_a_time() {
        let mut s = BatchState::Draft;
        for to in &BatchState::ALL[1..] {
            s = s.advance(*to).unwrap();
        }
        assert_eq!(s, BatchState::Published);
        assert!(BatchState::Published.next().is_none());
        let e = BatchState::Open.advance(BatchState::Publicity).unwrap_err();
        assert!(e.en.contains("next stage is \"Formal check\""), "{}", e.en);
        assert!(BatchState::Closed.advance(BatchState::Open).is_err());
        assert!(
            BatchState::Published
                .advance(BatchState::Published)
                .is_err()
        );
    }

    #[test]
    fn defaults_fill_blank_settings() {
        let s = input().parse().unwrap();
        assert_eq!(s.publicity_days, 5);
        assert_eq!(s.experts_per_proposal, 5);
        assert_eq!(s.combine, CombineRule::TrimmedMean);
        assert!(s.exclude_same_org && !s.exclude_same_province);
        assert!(s.window_contains(NaiveDate::from_ymd_opt(2026, 12, 15).unwrap()));
        assert!(!s.window_contains(NaiveDate::from_ymd_opt(2026, 12, 16).unwrap()));
        assert_eq!(s.to_input().parse().unwrap(), s);
    }

    #[test]
    fn bad_settings_name_their_fields() {
        let mut i = input();
        i.apply_until = "2026-10-01".into();
        i.publicity_days = "0".into();
        i.experts_per_proposal = "2".into();
        i.pass_score = "abc".into();
        let e = i.parse().unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"apply_until"), "{fields:?}");
        assert!(fields.contains(&"publicity_days"));
        assert!(fields.contains(&"experts_per_proposal"));
        assert!(fields.contains(&"pass_score"));
    }
}
