//! A certificate proposal (证书申报): one certificate a TEO puts forward in a batch, with
//! its standard, question bank and seven annexes, and the stages it passes through.

use crate::batch::{BatchSettings, BatchState};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use xcert_domain::FieldError;
use xcert_domain::annex::Annex;

/// Why a stage refused an action, in both languages, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub code: String,
    pub en: String,
    pub zh: String,
}

impl Refusal {
    pub fn new(code: &str, en: impl Into<String>, zh: impl Into<String>) -> Refusal {
        Refusal {
            code: code.into(),
            en: en.into(),
            zh: zh.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

impl From<Refusal> for FieldError {
    fn from(r: Refusal) -> FieldError {
        FieldError::new("state", r.code, r.en, r.zh)
    }
}

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    /// The TEO is preparing it.
    Draft,
    /// Submitted; waits for the formal check.
    Submitted,
    /// Sent back with a modification opinion (修改意见); the TEO revises and resubmits.
    Returned,
    /// Failed the formal check (final).
    FormalRejected,
    /// Passed the formal check; waits for experts to be drawn.
    FormalPassed,
    /// Experts drawn; scoring.
    InReview,
    /// Every drawn expert has scored it.
    Reviewed,
    /// On the proposed list in publicity (拟入围).
    Proposed,
    /// Scored below the batch's pass score (final).
    NotProposed,
    /// Approved in deliberation: shortlisted once the list is published (入围).
    Approved,
    /// Rejected in deliberation (final).
    Rejected,
}

impl ProposalState {
    pub const ALL: [ProposalState; 11] = [
        ProposalState::Draft,
        ProposalState::Submitted,
        ProposalState::Returned,
        ProposalState::FormalRejected,
        ProposalState::FormalPassed,
        ProposalState::InReview,
        ProposalState::Reviewed,
        ProposalState::Proposed,
        ProposalState::NotProposed,
        ProposalState::Approved,
        ProposalState::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProposalState::Draft => "draft",
            ProposalState::Submitted => "submitted",
            ProposalState::Returned => "returned",
            ProposalState::FormalRejected => "formal_rejected",
            ProposalState::FormalPassed => "formal_passed",
            ProposalState::InReview => "in_review",
            ProposalState::Reviewed => "reviewed",
            ProposalState::Proposed => "proposed",
            ProposalState::NotProposed => "not_proposed",
            ProposalState::Approved => "approved",
            ProposalState::Rejected => "rejected",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ProposalState::Draft => "填报中",
            ProposalState::Submitted => "已提交，待形式审查",
            ProposalState::Returned => "退回修改",
            ProposalState::FormalRejected => "形式审查未通过",
            ProposalState::FormalPassed => "形式审查通过",
            ProposalState::InReview => "专家评审中",
            ProposalState::Reviewed => "评审完成",
            ProposalState::Proposed => "拟入围（公示中）",
            ProposalState::NotProposed => "未入围",
            ProposalState::Approved => "审议通过",
            ProposalState::Rejected => "审议未通过",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            ProposalState::Draft => "Draft",
            ProposalState::Submitted => "Submitted, awaiting formal check",
            ProposalState::Returned => "Returned for changes",
            ProposalState::FormalRejected => "Failed the formal check",
            ProposalState::FormalPassed => "Passed the formal check",
            ProposalState::InReview => "In expert review",
            ProposalState::Reviewed => "Reviewed",
            ProposalState::Proposed => "Proposed (in publicity)",
            ProposalState::NotProposed => "Not proposed",
            ProposalState::Approved => "Approved",
            ProposalState::Rejected => "Rejected",
        }
    }

    pub fn parse(s: &str) -> Option<ProposalState> {
        ProposalState::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
    }

    /// Whether the TEO may change its content (annexes, fields).
    pub fn editable(self) -> bool {
        matches!(self, ProposalState::Draft | ProposalState::Returned)
    }

    /// Whether the proposal has been handed to the ministry (counts in the statistics).
    pub fn is_submitted(self) -> bool {
        self != ProposalState::Draft
    }

    /// Whether its fate is sealed whatever happens next.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ProposalState::FormalRejected
                | ProposalState::NotProposed
                | ProposalState::Approved
                | ProposalState::Rejected
        )
    }

    /// The stage a returned proposal goes back to when resubmitted: the one it was
    /// returned from, except that a proposal returned during or after scoring is scored
    /// again (the experts judge the new version).
    pub fn resubmits_to(self) -> ProposalState {
        match self {
            ProposalState::InReview | ProposalState::Reviewed => ProposalState::InReview,
            s => s,
        }
    }
}

/// What a stage does to a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The TEO submits (申报).
    Submit,
    /// The ministry sends it back with a modification opinion.
    Return,
    /// The TEO resubmits after a modification opinion; `from` is the state it was
    /// returned from.
    Resubmit {
        from: ProposalState,
    },
    /// Formal check result.
    FormalPass,
    FormalReject,
    /// Experts are drawn for it.
    Draw,
    /// The last drawn expert has scored it.
    ScoresComplete,
    /// Review over: on the proposed list, or not.
    Propose,
    NotPropose,
    /// Deliberation.
    Approve,
    Reject,
}

impl Step {
    fn en(self) -> &'static str {
        match self {
            Step::Submit => "submit",
            Step::Return => "return for changes",
            Step::Resubmit { .. } => "resubmit",
            Step::FormalPass | Step::FormalReject => "record the formal check of",
            Step::Draw => "draw experts for",
            Step::ScoresComplete => "complete the scores of",
            Step::Propose | Step::NotPropose => "decide the proposed list for",
            Step::Approve | Step::Reject => "decide in deliberation",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            Step::Submit => "提交",
            Step::Return => "退回修改",
            Step::Resubmit { .. } => "重新提交",
            Step::FormalPass | Step::FormalReject => "形式审查",
            Step::Draw => "抽取专家评审",
            Step::ScoresComplete => "完成评分",
            Step::Propose | Step::NotPropose => "确定拟入围名单",
            Step::Approve | Step::Reject => "审议",
        }
    }

    /// The batch states in which this step may happen.
    fn batch_states(self) -> &'static [BatchState] {
        use BatchState::*;
        match self {
            Step::Submit => &[Open],
            Step::Return => &[Open, Closed, InReview, Publicity],
            Step::Resubmit { .. } => &[Open, Closed, InReview, Publicity],
            Step::FormalPass | Step::FormalReject => &[Open, Closed, InReview],
            Step::Draw | Step::ScoresComplete => &[InReview],
            Step::Propose | Step::NotPropose => &[InReview],
            Step::Approve | Step::Reject => &[Publicity],
        }
    }
}

/// The single rule of a proposal's stages: given the batch's state and the proposal's,
/// may `step` happen, and what state follows. Facts beyond the two states (the window,
/// completeness, verification, objections) have their own checks below.
pub fn check(
    batch: BatchState,
    state: ProposalState,
    step: Step,
) -> Result<ProposalState, Refusal> {
    use ProposalState as P;
    if !step.batch_states().contains(&batch) {
        let allowed: Vec<&str> = step.batch_states().iter().map(|b| b.en()).collect();
        let allowed_zh: Vec<&str> = step.batch_states().iter().map(|b| b.zh()).collect();
        return Err(Refusal::new(
            "batch_stage",
            format!(
                "cannot {} a proposal while the batch is in \"{}\" (only in: {})",
                step.en(),
                batch.en(),
                allowed.join(", ")
            ),
            format!(
                "批次处于“{}”，不能{}（仅在：{}）",
                batch.zh(),
                step.zh(),
                allowed_zh.join("、")
            ),
        ));
    }
    let next = match (step, state) {
        (Step::Submit, P::Draft) => Some(P::Submitted),
        (
            Step::Return,
            P::Submitted | P::FormalPassed | P::InReview | P::Reviewed | P::Proposed,
        ) => Some(P::Returned),
        (Step::Resubmit { from }, P::Returned) => {
            let to = from.resubmits_to();
            // A proposal returned from review cannot re-enter a review that has ended.
            if to == P::InReview && batch != BatchState::InReview {
                return Err(Refusal::new(
                    "review_over",
                    "the expert review this proposal was returned from has ended",
                    "该申报退回时所在的专家评审阶段已经结束",
                ));
            }
            if matches!(to, P::Submitted | P::FormalPassed) && batch == BatchState::Publicity {
                return Err(Refusal::new(
                    "review_over",
                    "the expert review has ended, so this proposal can no longer be scored",
                    "专家评审已经结束，该申报无法再参加评审",
                ));
            }
            Some(to)
        }
        (Step::FormalPass, P::Submitted) => Some(P::FormalPassed),
        (Step::FormalReject, P::Submitted) => Some(P::FormalRejected),
        (Step::Draw, P::FormalPassed) => Some(P::InReview),
        (Step::ScoresComplete, P::InReview) => Some(P::Reviewed),
        (Step::Propose, P::Reviewed) => Some(P::Proposed),
        (Step::NotPropose, P::Reviewed) => Some(P::NotProposed),
        (Step::Approve, P::Proposed) => Some(P::Approved),
        (Step::Reject, P::Proposed) => Some(P::Rejected),
        _ => None,
    };
    next.ok_or_else(|| {
        Refusal::new(
            "proposal_stage",
            format!("cannot {} a proposal that is \"{}\"", step.en(), state.en()),
            format!("申报处于“{}”，不能{}", state.zh(), step.zh()),
        )
    })
}

/// What a proposal must hold before it is submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "annex", rename_all = "snake_case")]
pub enum Missing {
    /// The certificate has no published skill standard version in the registry.
    Standard,
    /// The certificate's question bank has no approved items.
    QuestionBank,
    /// An annex slot is empty.
    Annex(Annex),
}

impl Missing {
    pub fn en(self) -> String {
        match self {
            Missing::Standard => "the skill standard (no standard in the registry)".into(),
            Missing::QuestionBank => "the question bank (no items in the item bank)".into(),
            Missing::Annex(a) => format!("annex {} ({})", a.number(), a.en()),
        }
    }

    pub fn zh(self) -> String {
        match self {
            Missing::Standard => "职业技能等级标准（登记中没有标准）".into(),
            Missing::QuestionBank => "题库（题库中没有试题）".into(),
            Missing::Annex(a) => format!("附件{}（{}）", a.number(), a.zh()),
        }
    }
}

/// The facts the completeness check (完整性检查) needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProposalContent {
    /// The version of the certificate's standard the proposal carries.
    pub standard_version: Option<i64>,
    /// Items in the certificate's question bank.
    pub bank_items: i64,
    /// The annex slots that hold a file.
    pub annexes: Vec<Annex>,
}

impl ProposalContent {
    /// Everything still missing, in the order the declaration lists them.
    pub fn missing(&self) -> Vec<Missing> {
        let mut m = Vec::new();
        if self.standard_version.is_none() {
            m.push(Missing::Standard);
        }
        if self.bank_items <= 0 {
            m.push(Missing::QuestionBank);
        }
        for a in Annex::ALL {
            if !self.annexes.contains(&a) {
                m.push(Missing::Annex(a));
            }
        }
        m
    }
}

/// Submission needs the window open today and nothing missing; the refusal lists every
/// missing part so the page can say which.
pub fn submission_check(
    settings: &BatchSettings,
    today: NaiveDate,
    name: &str,
    missing: &[Missing],
) -> Result<(), Refusal> {
    if !settings.window_contains(today) {
        return Err(Refusal::new(
            "outside_window",
            format!(
                "applications are accepted from {} to {}; today is {today}",
                settings.apply_from, settings.apply_until
            ),
            format!(
                "申报时间为 {} 至 {}，今天是 {today}",
                settings.apply_from, settings.apply_until
            ),
        ));
    }
    if !missing.is_empty() {
        let en: Vec<String> = missing.iter().map(|m| m.en()).collect();
        let zh: Vec<String> = missing.iter().map(|m| m.zh()).collect();
        return Err(Refusal::new(
            "incomplete",
            format!("\"{name}\" cannot be submitted: missing {}", en.join("; ")),
            format!("“{name}”不能提交，缺少：{}", zh.join("；")),
        ));
    }
    Ok(())
}

/// A resubmission must come by the opinion's deadline.
pub fn resubmission_check(deadline: NaiveDate, today: NaiveDate) -> Result<(), Refusal> {
    if today > deadline {
        return Err(Refusal::new(
            "deadline_passed",
            format!("the deadline for changes was {deadline}"),
            format!("修改截止日期为 {deadline}，已过期"),
        ));
    }
    Ok(())
}

/// What deliberation needs to know about a proposed certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliberationFacts {
    /// The credit and tax verification of its organization: `None` when not yet done.
    pub verified: Option<bool>,
    /// Objections filed against it and not yet handled.
    pub open_objections: usize,
    /// Objections upheld (found true).
    pub upheld_objections: usize,
    /// Whether the publicity period is over.
    pub publicity_over: bool,
}

/// Deliberation comes after publicity, verification and the handling of every
/// objection; approval also needs a passed verification and no upheld objection.
pub fn deliberation_check(f: DeliberationFacts, approve: bool) -> Result<(), Refusal> {
    if !f.publicity_over {
        return Err(Refusal::new(
            "publicity_running",
            "deliberation starts when the publicity period is over",
            "公示期结束后才能审议",
        ));
    }
    if f.open_objections > 0 {
        return Err(Refusal::new(
            "objections_open",
            format!(
                "{} objection(s) against it are not yet handled",
                f.open_objections
            ),
            format!("还有 {} 条异议尚未处理", f.open_objections),
        ));
    }
    match f.verified {
        None => Err(Refusal::new(
            "not_verified",
            "its organization's credit and tax information is not yet verified",
            "该组织的信用和纳税信息尚未核查",
        )),
        Some(false) if approve => Err(Refusal::new(
            "verification_failed",
            "its organization failed the credit and tax verification",
            "该组织未通过信用和纳税信息核查",
        )),
        _ if approve && f.upheld_objections > 0 => Err(Refusal::new(
            "objection_upheld",
            "an objection against it was upheld",
            "针对该申报的异议已被认定成立",
        )),
        _ => Ok(()),
    }
}

/// Whether the batch may leave its current stage, given how many proposals are in each
/// state and (for publishing) the publicity facts.
pub fn advance_check(
    from: BatchState,
    counts: &BTreeMap<ProposalState, usize>,
    publicity_over: bool,
    open_objections: usize,
) -> Result<(), Refusal> {
    let n = |s: ProposalState| counts.get(&s).copied().unwrap_or(0);
    let waiting = |states: &[ProposalState], en: &str, zh: &str| -> Result<(), Refusal> {
        let k: usize = states.iter().map(|s| n(*s)).sum();
        if k > 0 {
            Err(Refusal::new(
                "proposals_waiting",
                format!("{k} proposal(s) {en}"),
                format!("还有 {k} 项申报{zh}"),
            ))
        } else {
            Ok(())
        }
    };
    use ProposalState as P;
    match from {
        BatchState::Closed => waiting(
            &[P::Submitted],
            "still wait for their formal check",
            "等待形式审查",
        ),
        BatchState::InReview => waiting(
            &[P::Submitted, P::FormalPassed, P::InReview],
            "are not yet fully scored",
            "尚未完成评审",
        ),
        BatchState::Publicity => {
            if !publicity_over {
                return Err(Refusal::new(
                    "publicity_running",
                    "the publicity period is not over",
                    "公示期尚未结束",
                ));
            }
            if open_objections > 0 {
                return Err(Refusal::new(
                    "objections_open",
                    format!("{open_objections} objection(s) are not yet handled"),
                    format!("还有 {open_objections} 条异议尚未处理"),
                ));
            }
            waiting(
                &[
                    P::Submitted,
                    P::FormalPassed,
                    P::InReview,
                    P::Reviewed,
                    P::Proposed,
                ],
                "are not yet decided",
                "尚未审议",
            )
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BatchState as B;
    use ProposalState as P;

    #[test]
    fn the_happy_path_walks_every_stage() {
        let mut s = P::Draft;
        for (b, step) in [
            (B::Open, Step::Submit),
            (B::Closed, Step::FormalPass),
            (B::InReview, Step::Draw),
            (B::InReview, Step::ScoresComplete),
            (B::InReview, Step::Propose),
            (B::Publicity, Step::Approve),
        ] {
            s = check(b, s, step).unwrap();
        }
        assert_eq!(s, P::Approved);
    }

    #[test]
    fn out_of_order_steps_are_refused_with_the_reason() {
        let e = check(B::Closed, P::Draft, Step::Submit).unwrap_err();
        assert_eq!(e.code, "batch_stage");
        assert!(e.en.contains("\"Formal check\""), "{}", e.en);
        let e = check(B::Publicity, P::Reviewed, Step::Approve).unwrap_err();
        assert_eq!(e.code, "proposal_stage");
        assert!(check(B::InReview, P::Submitted, Step::Draw).is_err());
        assert!(check(B::Published, P::Proposed, Step::Return).is_err());
        assert!(check(B::Open, P::Approved, Step::Return).is_err());
        for s in ProposalState::ALL {
            assert!(check(B::Draft, s, Step::Submit).is_err());
        }
    }

    #[test]
    fn resubmission_returns_to_the_stage_it_left() {
        let r = check(B::Closed, P::Submitted, Step::Return).unwrap();
        assert_eq!(r, P::Returned);
        let back = check(B::Closed, r, Step::Resubmit { from: P::Submitted }).unwrap();
        assert_eq!(back, P::Submitted);
        let back = check(B::InReview, r, Step::Resubmit { from: P::Reviewed }).unwrap();
        assert_eq!(back, P::InReview);
        let e = check(B::Publicity, r, Step::Resubmit { from: P::InReview }).unwrap_err();
        assert_eq!(e.code, "review_over");
        let back = check(B::Publicity, r, Step::Resubmit { from: P::Proposed }).unwrap();
        assert_eq!(back, P::Proposed);
        // Nothing checks or scores a proposal resubmitted into publicity from earlier.
        for from in [P::Submitted, P::FormalPassed] {
            let e = check(B::Publicity, r, Step::Resubmit { from }).unwrap_err();
            assert_eq!(e.code, "review_over");
        }
    }

    #[test]
    fn completeness_names_every_missing_part() {
        let mut c = ProposalContent {
            standard_version: Some(1),
            bank_items: 40,
            annexes: Annex::ALL.to_vec(),
        };
        assert!(c.missing().is_empty());
        c.annexes.retain(|a| *a != Annex::CostAccounting);
        c.bank_items = 0;
        assert_eq!(
            c.missing(),
            vec![Missing::QuestionBank, Missing::Annex(Annex::CostAccounting)]
        );
        let s = crate::BatchInput {
            number: "5".into(),
            title_zh: "第五批".into(),
            notice: "通知".into(),
            apply_from: "2026-11-01".into(),
            apply_until: "2026-12-15".into(),
            review_until: "2027-01-15".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let e = submission_check(&s, today, "继电保护检修", &c.missing()).unwrap_err();
        assert!(e.zh.contains("附件5（考核成本核算方案）"), "{}", e.zh);
        assert!(e.en.contains("question bank"));
        let late = NaiveDate::from_ymd_opt(2026, 12, 16).unwrap();
        assert_eq!(
            submission_check(&s, late, "x", &[]).unwrap_err().code,
            "outside_window"
        );
        assert!(submission_check(&s, today, "x", &[]).is_ok());
    }

    #[test]
    fn deliberation_waits_for_publicity_objections_and_verification() {
        let ok = DeliberationFacts {
            verified: Some(true),
            publicity_over: true,
            ..Default::default()
        };
        assert!(deliberation_check(ok, true).is_ok());
        let f = DeliberationFacts {
            publicity_over: false,
            ..ok
        };
        assert_eq!(
            deliberation_check(f, true).unwrap_err().code,
            "publicity_running"
        );
        let f = DeliberationFacts {
            open_objections: 1,
            ..ok
        };
        assert_eq!(
            deliberation_check(f, false).unwrap_err().code,
            "objections_open"
        );
        let f = DeliberationFacts {
            verified: Some(false),
            ..ok
        };
        assert!(deliberation_check(f, true).is_err());
        assert!(deliberation_check(f, false).is_ok());
        let f = DeliberationFacts {
            upheld_objections: 1,
            ..ok
        };
        assert_eq!(
            deliberation_check(f, true).unwrap_err().code,
            "objection_upheld"
        );
        let f = DeliberationFacts {
            verified: None,
            ..ok
        };
        assert_eq!(
            deliberation_check(f, false).unwrap_err().code,
            "not_verified"
        );
    }

    #[test]
    fn batches_leave_a_stage_only_when_its_work_is_done() {
        let mut c = BTreeMap::new();
        c.insert(P::Submitted, 2);
        let e = advance_check(B::Closed, &c, false, 0).unwrap_err();
        assert!(e.en.starts_with("2 proposal(s)"), "{}", e.en);
        c.clear();
        c.insert(P::FormalRejected, 1);
        assert!(advance_check(B::Closed, &c, false, 0).is_ok());
        c.insert(P::Proposed, 1);
        assert!(advance_check(B::Publicity, &c, false, 0).is_err());
        assert!(advance_check(B::Publicity, &c, true, 0).is_err());
        c.remove(&P::Proposed);
        assert_eq!(
            advance_check(B::Publicity, &c, true, 3).unwrap_err().code,
            "objections_open"
        );
        assert!(advance_check(B::Publicity, &c, true, 0).is_ok());
    }
}
