//! The pool (题池): what assembly needs of each approved item of a certificate level, with
//! the defaults used when the bank lacks a value.

use crate::item::{Item, ItemKind};
use serde::{Deserialize, Serialize};
use xcert_domain::FieldError;

/// Rated difficulty assumed for an item the bank has not rated (the middle of 1 … 5).
pub const DEFAULT_DIFFICULTY: f64 = 3.0;

/// Two-parameter logistic (2PL) item parameters on the logistic metric (scaling constant
/// D = 1): P(θ) = 1 / (1 + exp(−a(θ − b))).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Irt2pl {
    /// Discrimination (区分度), > 0.
    pub a: f64,
    /// Difficulty on the ability scale (难度参数).
    pub b: f64,
}

impl Irt2pl {
    /// Fisher information of the item at ability `theta`: a² · P(θ) · (1 − P(θ)).
    pub fn information(self, theta: f64) -> f64 {
        let p = 1.0 / (1.0 + (-self.a * (theta - self.b)).exp());
        self.a * self.a * p * (1.0 - p)
    }

    /// Parameters assumed for an uncalibrated item from its rated difficulty:
    /// b = difficulty − 3 (so 1 易 → −2, 3 → 0, 5 难 → +2 on a scale whose candidates
    /// are centred at 0 with unit spread) and a = 1 (an average discrimination).
    pub fn from_rated_difficulty(difficulty: f64) -> Irt2pl {
        Irt2pl {
            a: 1.0,
            b: difficulty - 3.0,
        }
    }
}

/// Expected answering time, seconds, for an item of `kind` whose bank gives none. These
/// are xcert's planning figures for a theory test: 30 s a true/false item, 60 s a single
/// choice, 90 s a multiple choice or text entry, 120 s a matching or ordering item, 600 s
/// an extended-text answer (practical tasks are not part of the theory form).
pub fn default_seconds(kind: ItemKind) -> u32 {
    match kind {
        ItemKind::TrueFalse => 30,
        ItemKind::SingleChoice => 60,
        ItemKind::MultipleChoice | ItemKind::TextEntry => 90,
        ItemKind::Matching | ItemKind::Ordering => 120,
        ItemKind::ExtendedText => 600,
        ItemKind::PracticalTask => 0,
    }
}

/// One approved item of the pool as assembly sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolItem {
    /// The bank's id of the item.
    pub id: i64,
    pub kind: ItemKind,
    /// Skill requirement codes (`1.2.3`); a blueprint cell `1.2` matches `1.2` and `1.2.*`.
    #[serde(default)]
    pub requirements: Vec<String>,
    /// Rated difficulty 1 … 5; missing counts as [`DEFAULT_DIFFICULTY`] and is reported.
    #[serde(default)]
    pub difficulty: Option<f64>,
    /// Calibrated 2PL parameters; missing ones are derived from the rated difficulty
    /// ([`Irt2pl::from_rated_difficulty`]).
    #[serde(default)]
    pub irt: Option<Irt2pl>,
    /// Expected time, seconds; missing counts as [`default_seconds`] of the kind.
    #[serde(default)]
    pub time_seconds: Option<u32>,
    /// Items of one enemy group (互斥题) never share a form.
    #[serde(default)]
    pub enemy_group: Option<String>,
    /// Items of one testlet (题组) enter a form all together or not at all.
    #[serde(default)]
    pub testlet: Option<String>,
    /// How many times the item has been used already (for the exposure cap).
    #[serde(default)]
    pub usage: u32,
}

impl PoolItem {
    /// The pool entry of a bank item with the bank's id and usage count; no calibration.
    pub fn from_item(id: i64, item: &Item, usage: u32) -> PoolItem {
        PoolItem {
            id,
            kind: item.content.kind,
            requirements: item.meta.requirements.clone(),
            difficulty: item.meta.difficulty,
            irt: None,
            time_seconds: item.meta.time_seconds,
            enemy_group: item.meta.enemy_group.clone(),
            testlet: item.meta.testlet.clone(),
            usage,
        }
    }

    pub fn with_irt(mut self, a: f64, b: f64) -> PoolItem {
        self.irt = Some(Irt2pl { a, b });
        self
    }

    /// Rated difficulty used by assembly.
    pub fn difficulty_or_default(&self) -> f64 {
        self.difficulty.unwrap_or(DEFAULT_DIFFICULTY)
    }

    /// 2PL parameters used by assembly: the calibrated ones, else derived.
    pub fn irt_or_derived(&self) -> Irt2pl {
        self.irt
            .unwrap_or_else(|| Irt2pl::from_rated_difficulty(self.difficulty_or_default()))
    }

    /// Expected seconds used by assembly.
    pub fn seconds_or_default(&self) -> u32 {
        self.time_seconds
            .unwrap_or_else(|| default_seconds(self.kind))
    }

    /// Whether the item assesses the blueprint cell `code` (equal, or below it).
    pub fn matches_cell(&self, code: &str) -> bool {
        self.requirements.iter().any(|r| {
            let r = r.trim();
            r == code
                || (r.len() > code.len() && r.starts_with(code) && r[code.len()..].starts_with('.'))
        })
    }
}

/// Check the pool's values: unique ids, difficulty within 1 … 5, a > 0 and finite
/// parameters, positive times. Each error names the pool row and the item id.
pub fn validate_pool(pool: &[PoolItem]) -> Result<(), Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, it) in pool.iter().enumerate() {
        let at = |f: &str| format!("pool[{i}].{f}");
        if let Some(j) = seen.insert(it.id, i) {
            errs.push(FieldError::new(
                at("id"),
                "duplicate_item",
                format!("item {} is in the pool twice (rows {j} and {i})", it.id),
                format!("题目 {} 在题池中出现两次（第 {j} 与第 {i} 行）", it.id),
            ));
        }
        if let Some(d) = it.difficulty
            && !(d.is_finite() && (1.0..=5.0).contains(&d))
        {
            errs.push(FieldError::new(
                at("difficulty"),
                "bad_difficulty",
                format!("item {}: difficulty {d} lies outside 1 … 5", it.id),
                format!("题目 {}：难度 {d} 超出 1 至 5", it.id),
            ));
        }
        if let Some(p) = it.irt {
            if !(p.a.is_finite() && p.a > 0.0 && p.a <= 10.0) {
                errs.push(FieldError::new(
                    at("irt.a"),
                    "bad_discrimination",
                    format!(
                        "item {}: discrimination a = {} must lie in (0, 10]",
                        it.id, p.a
                    ),
                    format!("题目 {}：区分度 a = {} 应在 (0, 10] 之内", it.id, p.a),
                ));
            }
            if !(p.b.is_finite() && p.b.abs() <= 10.0) {
                errs.push(FieldError::new(
                    at("irt.b"),
                    "bad_irt_difficulty",
                    format!(
                        "item {}: difficulty parameter b = {} must lie in [−10, 10]",
                        it.id, p.b
                    ),
                    format!("题目 {}：难度参数 b = {} 应在 [−10, 10] 之内", it.id, p.b),
                ));
            }
        }
        if it.time_seconds == Some(0) {
            errs.push(FieldError::new(
                at("time_seconds"),
                "bad_time",
                format!("item {}: expected time must be positive", it.id),
                format!("题目 {}：预计用时必须为正数", it.id),
            ));
        }
        if it.testlet.as_deref().is_some_and(|t| t.trim().is_empty())
            || it
                .enemy_group
                .as_deref()
                .is_some_and(|t| t.trim().is_empty())
        {
            errs.push(FieldError::new(
                at("testlet"),
                "blank_group",
                format!("item {}: a testlet or enemy group name is blank", it.id),
                format!("题目 {}：题组或互斥组名称为空", it.id),
            ));
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn information_at_b_is_a_squared_over_four() {
        // At θ = b, P = 1/2 exactly, so I = a² · ½ · ½ (hand arithmetic from the 2PL formula).
        let p = Irt2pl { a: 1.5, b: 0.3 };
        assert!((p.information(0.3) - 0.5625).abs() < 1e-12);
        // One logit above b with a = 1: P = 1/(1+e^-1) = 0.7310585786300049,
        // I = P(1−P) = 0.19661193324148185 (computed by hand from e^-1 = 0.36787944117144233).
        let q = Irt2pl { a: 1.0, b: 0.0 };
        assert!((q.information(1.0) - 0.196_611_933_241_481_85).abs() < 1e-12);
    }

    #[test]
    fn cells_match_by_outline_prefix() {
        let it = PoolItem {
            id: 1,
            kind: ItemKind::SingleChoice,
            requirements: vec!["1.2.3".into()],
            difficulty: None,
            irt: None,
            time_seconds: None,
            enemy_group: None,
            testlet: None,
            usage: 0,
        };
        assert!(it.matches_cell("1"));
        assert!(it.matches_cell("1.2"));
        assert!(it.matches_cell("1.2.3"));
        assert!(!it.matches_cell("1.20"));
        assert!(!it.matches_cell("11"));
        assert!(!it.matches_cell("2"));
        assert_eq!(it.difficulty_or_default(), 3.0);
        assert_eq!(it.irt_or_derived(), Irt2pl { a: 1.0, b: 0.0 });
        assert_eq!(it.seconds_or_default(), 60);
    }
}
