//! Results: how a certificate level joins the training (process, 过程性评价) score with the
//! theory and practical (summative, 终结性评价) scores, and who passes.
//!
//! Each part is first put on a 0–100 scale (points earned / points possible on the form the
//! candidate actually received), then weighted. The pass rule asks for a minimum per part
//! and, optionally, a minimum weighted total.

use serde::{Deserialize, Serialize};
use xcert_domain::FieldError;

/// The weights and pass marks of one certificate level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRule {
    /// Weight of the process (training) score, 0–1.
    pub process_weight: f64,
    pub theory_weight: f64,
    pub practical_weight: f64,
    /// Minimum per part on the 0–100 scale; `None` where the part has no pass mark.
    pub process_pass: Option<f64>,
    pub theory_pass: Option<f64>,
    pub practical_pass: Option<f64>,
    /// Minimum weighted total on 0–100, if any.
    pub total_pass: Option<f64>,
}

impl Default for ResultRule {
    /// The common 1+X rule: theory and practical each at least 60 of 100; training counts
    /// 20 %, theory 30 %, practical 50 %.
    fn default() -> Self {
        ResultRule {
            process_weight: 0.2,
            theory_weight: 0.3,
            practical_weight: 0.5,
            process_pass: None,
            theory_pass: Some(60.0),
            practical_pass: Some(60.0),
            total_pass: None,
        }
    }
}

/// A part's score: points earned out of points possible.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PartScore {
    pub earned: f64,
    pub possible: f64,
}

impl PartScore {
    /// On the 0–100 scale (None when nothing was possible).
    pub fn percent(&self) -> Option<f64> {
        (self.possible > 0.0).then(|| (self.earned / self.possible * 100.0).clamp(0.0, 100.0))
    }
}

/// Why a candidate did not pass, part by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shortfall {
    ProcessMissing,
    TheoryMissing,
    PracticalMissing,
    ProcessBelow,
    TheoryBelow,
    PracticalBelow,
    TotalBelow,
}

impl Shortfall {
    pub fn zh(self) -> &'static str {
        match self {
            Shortfall::ProcessMissing => "缺过程性评价成绩",
            Shortfall::TheoryMissing => "缺理论考试成绩",
            Shortfall::PracticalMissing => "缺实操考核成绩",
            Shortfall::ProcessBelow => "过程性评价未达合格线",
            Shortfall::TheoryBelow => "理论考试未达合格线",
            Shortfall::PracticalBelow => "实操考核未达合格线",
            Shortfall::TotalBelow => "总评未达合格线",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Shortfall::ProcessMissing => "no process score",
            Shortfall::TheoryMissing => "no theory score",
            Shortfall::PracticalMissing => "no practical score",
            Shortfall::ProcessBelow => "process score below the pass mark",
            Shortfall::TheoryBelow => "theory score below the pass mark",
            Shortfall::PracticalBelow => "practical score below the pass mark",
            Shortfall::TotalBelow => "weighted total below the pass mark",
        }
    }
}

/// One candidate's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub process: Option<f64>,
    pub theory: Option<f64>,
    pub practical: Option<f64>,
    /// Weighted total on 0–100, over the parts that have a weight (None if one is missing).
    pub total: Option<f64>,
    pub passed: bool,
    pub shortfalls: Vec<Shortfall>,
}

impl ResultRule {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Vec::new();
        for (f, w) in [
            ("process_weight", self.process_weight),
            ("theory_weight", self.theory_weight),
            ("practical_weight", self.practical_weight),
        ] {
            if !(0.0..=1.0).contains(&w) || !w.is_finite() {
                errs.push(FieldError::new(
                    f,
                    "bad_weight",
                    "a weight is between 0 and 1 (or 0 % and 100 %)",
                    "权重应在 0 至 1（0% 至 100%）之间",
                ));
            }
        }
        let sum = self.process_weight + self.theory_weight + self.practical_weight;
        if errs.is_empty() && (sum - 1.0).abs() > 1e-6 {
            errs.push(FieldError::new(
                "weights",
                "weights_sum",
                format!("the weights add up to {:.0} %, not 100 %", sum * 100.0),
                format!("权重合计 {:.0}%，应为 100%", sum * 100.0),
            ));
        }
        for (f, m) in [
            ("process_pass", self.process_pass),
            ("theory_pass", self.theory_pass),
            ("practical_pass", self.practical_pass),
            ("total_pass", self.total_pass),
        ] {
            if let Some(m) = m
                && !(0.0..=100.0).contains(&m)
            {
                errs.push(FieldError::new(
                    f,
                    "bad_pass_mark",
                    "a pass mark is between 0 and 100",
                    "合格线应在 0 至 100 之间",
                ));
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// Apply the rule. A part with a weight or a pass mark must be present to pass.
    pub fn decide(
        &self,
        process: Option<PartScore>,
        theory: Option<PartScore>,
        practical: Option<PartScore>,
    ) -> Outcome {
        let p = process.and_then(|s| s.percent());
        let t = theory.and_then(|s| s.percent());
        let x = practical.and_then(|s| s.percent());
        let mut short = Vec::new();
        let parts = [
            (
                p,
                self.process_weight,
                self.process_pass,
                Shortfall::ProcessMissing,
                Shortfall::ProcessBelow,
            ),
            (
                t,
                self.theory_weight,
                self.theory_pass,
                Shortfall::TheoryMissing,
                Shortfall::TheoryBelow,
            ),
            (
                x,
                self.practical_weight,
                self.practical_pass,
                Shortfall::PracticalMissing,
                Shortfall::PracticalBelow,
            ),
        ];
        let mut total = Some(0.0);
        for (score, weight, pass, missing, below) in parts {
            let needed = weight > 0.0 || pass.is_some();
            match score {
                None if needed => {
                    short.push(missing);
                    if weight > 0.0 {
                        total = None;
                    }
                }
                None => {}
                Some(s) => {
                    if let Some(m) = pass
                        && s + 1e-9 < m
                    {
                        short.push(below);
                    }
                    total = total.map(|t| t + s * weight);
                }
            }
        }
        // Rounded to 0.01 so 59.995 and 60.004 read as the page shows them.
        let total = total.map(|t| (t * 100.0).round() / 100.0);
        if let (Some(m), Some(tot)) = (self.total_pass, total)
            && tot + 1e-9 < m
        {
            short.push(Shortfall::TotalBelow);
        }
        Outcome {
            process: p,
            theory: t,
            practical: x,
            total,
            passed: short.is_empty(),
            shortfalls: short,
        }
    }
}

/// A practical task's score from its examiners' totals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RaterOutcome {
    /// The task score, when it is settled.
    pub score: Option<f64>,
    /// Two examiners differ by more than the session allows and no third has scored.
    pub needs_third: bool,
}

/// Join examiners' totals for one task (每项由考评员独立评分): one examiner's score
/// stands alone; two are averaged unless they differ by more than `max_gap` points, which
/// asks for a third; with three or more, the two closest are averaged (the outlier is set
/// aside, as double-marking schemes usually do).
pub fn combine_raters(totals: &[f64], max_gap: f64) -> RaterOutcome {
    match totals.len() {
        0 => RaterOutcome {
            score: None,
            needs_third: false,
        },
        1 => RaterOutcome {
            score: Some(totals[0]),
            needs_third: false,
        },
        2 => {
            if (totals[0] - totals[1]).abs() > max_gap + 1e-9 {
                RaterOutcome {
                    score: None,
                    needs_third: true,
                }
            } else {
                RaterOutcome {
                    score: Some((totals[0] + totals[1]) / 2.0),
                    needs_third: false,
                }
            }
        }
        _ => {
            let mut v = totals.to_vec();
            v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            let (i, _) = v
                .windows(2)
                .enumerate()
                .map(|(i, w)| (i, w[1] - w[0]))
                .fold(
                    (0, f64::INFINITY),
                    |best, cur| if cur.1 < best.1 { cur } else { best },
                );
            RaterOutcome {
                score: Some((v[i] + v[i + 1]) / 2.0),
                needs_third: false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raters_average_flag_and_resolve() {
        assert_eq!(combine_raters(&[], 10.0).score, None);
        assert_eq!(combine_raters(&[70.0], 10.0).score, Some(70.0));
        assert_eq!(combine_raters(&[70.0, 80.0], 10.0).score, Some(75.0));
        let far = combine_raters(&[60.0, 85.0], 10.0);
        assert!(far.needs_third && far.score.is_none());
        // The third examiner's 82 sides with 85: (82 + 85) / 2.
        assert_eq!(combine_raters(&[60.0, 85.0, 82.0], 10.0).score, Some(83.5));
    }

    fn s(e: f64, p: f64) -> Option<PartScore> {
        Some(PartScore {
            earned: e,
            possible: p,
        })
    }

    #[test]
    fn each_part_must_reach_its_mark() {
        let r = ResultRule::default();
        // Theory 45/75 = 60 %, practical 60/100: passes at exactly the mark.
        let o = r.decide(s(80.0, 100.0), s(45.0, 75.0), s(60.0, 100.0));
        assert!(o.passed, "{o:?}");
        assert_eq!(o.total, Some(0.2 * 80.0 + 0.3 * 60.0 + 0.5 * 60.0));
        // A high total does not rescue a failed part.
        let o = r.decide(s(100.0, 100.0), s(100.0, 100.0), s(59.0, 100.0));
        assert!(!o.passed);
        assert_eq!(o.shortfalls, vec![Shortfall::PracticalBelow]);
        // A missing part fails and leaves no total.
        let o = r.decide(s(90.0, 100.0), s(90.0, 100.0), None);
        assert_eq!(o.shortfalls, vec![Shortfall::PracticalMissing]);
        assert_eq!(o.total, None);
    }

    #[test]
    fn weights_must_add_to_one() {
        let r = ResultRule {
            process_weight: 0.3,
            ..ResultRule::default()
        };
        assert_eq!(r.validate().unwrap_err()[0].code, "weights_sum");
        assert!(ResultRule::default().validate().is_ok());
    }
}
