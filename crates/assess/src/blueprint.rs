//! Blueprints (组卷蓝图 / 双向细目表): what a form of one certificate level must hold —
//! how many items come from each work area or task (from the standard's weight table), the
//! mix of item types with their points, the difficulty target, and the time.

use crate::item::ItemKind;
use serde::{Deserialize, Serialize};
use xcert_domain::FieldError;
use xcert_domain::framework::Level;
use xcert_domain::standard::StandardTree;

/// One row of the weight table: a work area (`1`) or work task (`1.2`) of the standard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlueprintCell {
    /// Outline code of the area or task.
    pub code: String,
    pub title: String,
    /// Weight in the standard's weight table, percent (for display and re-rounding).
    pub weight: f64,
    /// Items this cell must contribute to each form: at least `min_items`, at most `max_items`.
    pub min_items: u32,
    pub max_items: u32,
}

/// How many items of a type each form holds, and the points each earns in the form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeQuota {
    pub kind: ItemKind,
    pub count: u32,
    pub points_each: f64,
}

/// Mean rated difficulty (1 easy … 5 hard) a form must have.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DifficultyTarget {
    pub min_mean: f64,
    pub max_mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blueprint {
    pub level: Level,
    pub title: String,
    /// Parallel forms to assemble at once.
    pub forms: u32,
    pub cells: Vec<BlueprintCell>,
    pub types: Vec<TypeQuota>,
    #[serde(default)]
    pub difficulty: Option<DifficultyTarget>,
    /// Length of the theory test; the items' expected times must fit in it.
    pub time_limit_minutes: u32,
    /// No item in two forms of one assembly.
    #[serde(default = "yes")]
    pub no_overlap: bool,
    /// When `no_overlap` is off: the most forms of one assembly an item may appear in
    /// (`None`: any number of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_forms_per_item: Option<u32>,
    /// Leave out items already delivered this many times or more (exposure control).
    #[serde(default)]
    pub max_usage: Option<u32>,
    /// Ability points (θ) where the weakest form's information is maximized.
    #[serde(default = "default_theta")]
    pub theta: Vec<f64>,
}

fn yes() -> bool {
    true
}

fn default_theta() -> Vec<f64> {
    vec![-1.0, 0.0, 1.0]
}

impl Blueprint {
    pub fn items_per_form(&self) -> u32 {
        self.types.iter().map(|t| t.count).sum()
    }

    pub fn points_per_form(&self) -> f64 {
        self.types
            .iter()
            .map(|t| t.count as f64 * t.points_each)
            .sum()
    }

    /// Check the blueprint is self-consistent: cells can add up to the item count, types
    /// have positive points, forms ≥ 1, time > 0. Errors name the field.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Vec::new();
        if self.forms == 0 || self.forms > 50 {
            errs.push(FieldError::new(
                "forms",
                "bad_forms",
                "assemble between 1 and 50 forms",
                "组卷套数应在 1 至 50 之间",
            ));
        }
        if self.time_limit_minutes == 0 || self.time_limit_minutes > 600 {
            errs.push(FieldError::new(
                "time_limit_minutes",
                "bad_time",
                "the time limit is between 1 and 600 minutes",
                "考试时长应在 1 至 600 分钟之间",
            ));
        }
        if self.types.is_empty() || self.items_per_form() == 0 {
            errs.push(FieldError::new(
                "types",
                "no_types",
                "say how many items of which types a form holds",
                "请设置各题型的题量",
            ));
        }
        for t in &self.types {
            if !(t.points_each > 0.0 && t.points_each.is_finite()) {
                errs.push(FieldError::new(
                    "types",
                    "bad_points",
                    format!("{} items need positive points", t.kind.en()),
                    format!("{}的每题分值必须为正数", t.kind.zh()),
                ));
            }
            if !t.kind.is_theory() {
                errs.push(FieldError::new(
                    "types",
                    "practical_in_theory",
                    "practical tasks are scheduled with the session, not assembled into the theory form",
                    "实操题随考试安排，不组入理论试卷",
                ));
            }
        }
        for (i, t) in self.types.iter().enumerate() {
            if self.types[..i].iter().any(|o| o.kind == t.kind) {
                errs.push(FieldError::new(
                    "types",
                    "duplicate_type",
                    format!("{} is listed twice", t.kind.en()),
                    format!("{}重复列出", t.kind.zh()),
                ));
            }
        }
        for (i, c) in self.cells.iter().enumerate() {
            if c.code.trim().is_empty() {
                errs.push(FieldError::new(
                    "cells",
                    "blank_cell",
                    format!("cell {} has no outline code", i + 1),
                    format!("第 {} 个内容单元缺少编码", i + 1),
                ));
            } else if self.cells[..i].iter().any(|o| o.code == c.code) {
                errs.push(FieldError::new(
                    "cells",
                    "duplicate_cell",
                    format!("cell {} is listed twice", c.code),
                    format!("内容单元 {} 重复列出", c.code),
                ));
            }
        }
        let n = self.items_per_form();
        // A task listed inside a listed area counts within the area, not beside it.
        let top = || self.cells.iter().filter(|c| !self.is_nested(&c.code));
        let min: u32 = top().map(|c| c.min_items).sum();
        let max: u32 = top().map(|c| c.max_items).sum();
        for c in &self.cells {
            if c.min_items > c.max_items {
                errs.push(FieldError::new(
                    "cells",
                    "bad_cell",
                    format!("cell {}: minimum above maximum", c.code),
                    format!("{} 的最少题量大于最多题量", c.code),
                ));
            }
        }
        if !self.cells.is_empty() && (min > n || max < n) {
            errs.push(FieldError::new(
                "cells",
                "cells_total",
                format!("the cells ask for {min}–{max} items but a form holds {n}"),
                format!("各内容单元要求 {min}–{max} 题，而每套试卷共 {n} 题"),
            ));
        }
        if !self.no_overlap && self.max_forms_per_item == Some(0) {
            errs.push(FieldError::new(
                "max_forms_per_item",
                "bad_max_forms",
                "an item may appear in at least one form",
                "每题可出现的最多套数至少为 1",
            ));
        }
        if self.max_usage == Some(0) {
            errs.push(FieldError::new(
                "max_usage",
                "bad_max_usage",
                "an exposure cap of 0 leaves out every item: use at least 1, or no cap",
                "曝光上限为 0 会排除所有题目：应至少为 1，或不设上限",
            ));
        }
        if self.theta.is_empty() || self.theta.len() > 9 {
            errs.push(FieldError::new(
                "theta",
                "bad_theta",
                "give between 1 and 9 ability points (θ) for the information target",
                "能力点（θ）应有 1 至 9 个",
            ));
        }
        for t in &self.theta {
            if !(t.is_finite() && (-4.0..=4.0).contains(t)) {
                errs.push(FieldError::new(
                    "theta",
                    "bad_theta_value",
                    format!("ability point {t} lies outside −4 … 4"),
                    format!("能力点 {t} 超出 −4 至 4 的范围"),
                ));
            }
        }
        if let Some(d) = self.difficulty
            && (d.min_mean > d.max_mean || d.min_mean < 1.0 || d.max_mean > 5.0)
        {
            errs.push(FieldError::new(
                "difficulty",
                "bad_difficulty",
                "the difficulty band lies within 1 … 5, lower end first",
                "难度范围应在 1 至 5 之间，且下限不大于上限",
            ));
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// Whether `code` lies inside another cell of the blueprint (task `1.2` inside area `1`).
    pub fn is_nested(&self, code: &str) -> bool {
        self.cells.iter().any(|o| {
            o.code != code && code.starts_with(&o.code) && code[o.code.len()..].starts_with('.')
        })
    }

    /// A first blueprint for a level from the standard: one cell per work area that has
    /// requirements at the level, weighted by its share of those requirements, items per
    /// cell by largest remainder so they add up exactly.
    pub fn from_standard(
        tree: &StandardTree,
        level: Level,
        title: &str,
        types: Vec<TypeQuota>,
        time_limit_minutes: u32,
    ) -> Blueprint {
        let counts: Vec<(String, String, usize)> = tree
            .areas
            .iter()
            .map(|a| {
                let n = a
                    .tasks
                    .iter()
                    .flat_map(|t| &t.requirements)
                    .filter(|r| r.level == level)
                    .count();
                (a.code.clone(), a.title.clone(), n)
            })
            .filter(|(_, _, n)| *n > 0)
            .collect();
        let total: usize = counts.iter().map(|c| c.2).sum();
        let weights: Vec<f64> = counts
            .iter()
            .map(|c| c.2 as f64 * 100.0 / total.max(1) as f64)
            .collect();
        let n: u32 = types.iter().map(|t| t.count).sum();
        let items = apportion(&weights, n);
        let cells = counts
            .into_iter()
            .zip(weights)
            .zip(items)
            .map(|(((code, title, _), weight), k)| BlueprintCell {
                code,
                title,
                weight: (weight * 10.0).round() / 10.0,
                min_items: k,
                max_items: k,
            })
            .collect();
        Blueprint {
            level,
            title: title.to_string(),
            forms: 1,
            cells,
            types,
            difficulty: None,
            time_limit_minutes,
            no_overlap: true,
            max_forms_per_item: None,
            max_usage: None,
            theta: default_theta(),
        }
    }

    /// Set each cell's items from its weight (percent) by largest remainder.
    pub fn apply_weights(&mut self) {
        let w: Vec<f64> = self.cells.iter().map(|c| c.weight).collect();
        let k = apportion(&w, self.items_per_form());
        for (c, k) in self.cells.iter_mut().zip(k) {
            c.min_items = k;
            c.max_items = k;
        }
    }
}

/// Split `n` items in proportion to `weights` so the parts add up to `n` exactly
/// (Hamilton's largest-remainder method; ties go to the earlier cell).
pub fn apportion(weights: &[f64], n: u32) -> Vec<u32> {
    let sum: f64 = weights.iter().filter(|w| **w > 0.0).sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let quotas: Vec<f64> = weights
        .iter()
        .map(|w| w.max(0.0) / sum * n as f64)
        .collect();
    let mut out: Vec<u32> = quotas.iter().map(|q| q.floor() as u32).collect();
    let mut left = n - out.iter().sum::<u32>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| {
        let ra = quotas[*a] - quotas[*a].floor();
        let rb = quotas[*b] - quotas[*b].floor();
        rb.partial_cmp(&ra)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(b))
    });
    for i in order {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_adds_up_exactly() {
        // 100 items over weights 33.3/33.3/33.4 → 33, 33, 34.
        assert_eq!(apportion(&[33.3, 33.3, 33.4], 100), vec![33, 33, 34]);
        // Hamilton on (5, 3, 2) of 7: quotas 3.5, 2.1, 1.4 → 3+1, 2, 1 = 4, 2, 1.
        assert_eq!(apportion(&[5.0, 3.0, 2.0], 7), vec![4, 2, 1]);
        assert_eq!(apportion(&[0.0, 0.0], 5), vec![0, 0]);
    }

    #[test]
    fn a_task_inside_an_area_is_not_counted_twice() {
        let cell = |code: &str, k: u32| BlueprintCell {
            code: code.into(),
            title: String::new(),
            weight: 0.0,
            min_items: k,
            max_items: k,
        };
        let b = Blueprint {
            level: Level::Junior,
            title: "t".into(),
            forms: 1,
            cells: vec![cell("1", 4), cell("1.2", 2), cell("2", 2), cell("12", 0)],
            types: vec![TypeQuota {
                kind: ItemKind::SingleChoice,
                count: 6,
                points_each: 1.0,
            }],
            difficulty: None,
            time_limit_minutes: 30,
            no_overlap: true,
            max_forms_per_item: None,
            max_usage: None,
            theta: default_theta(),
        };
        assert!(b.is_nested("1.2") && !b.is_nested("1") && !b.is_nested("12"));
        // 4 + 2 + 0 at the top level = 6 items, the form's length
        assert!(b.validate().is_ok(), "{:?}", b.validate());
    }

    #[test]
    fn from_standard_weights_areas_by_requirements_at_the_level() {
        let tree = StandardTree::parse_outline(
            "# 巡视\n## 设备巡视\n- [初级] 甲\n- [初级] 乙\n- [中级] 丙\n# 检修\n## 设备检修\n- [初级] 丁\n- [高级] 戊\n# 管理\n## 班组管理\n- [高级] 己\n",
        )
        .unwrap();
        let types = vec![
            TypeQuota {
                kind: ItemKind::SingleChoice,
                count: 20,
                points_each: 1.0,
            },
            TypeQuota {
                kind: ItemKind::TrueFalse,
                count: 10,
                points_each: 1.0,
            },
        ];
        let b = Blueprint::from_standard(&tree, Level::Junior, "初级理论", types, 90);
        assert_eq!(b.cells.len(), 2, "the senior-only area is left out");
        assert_eq!(b.cells[0].min_items, 20);
        assert_eq!(b.cells[1].min_items, 10);
        assert!(b.validate().is_ok(), "{:?}", b.validate());
        assert_eq!(b.points_per_form(), 30.0);
    }
}
