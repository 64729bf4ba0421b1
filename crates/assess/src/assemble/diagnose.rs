//! Feasibility diagnosis (可行性诊断) before any solving: when the pool cannot meet the
//! blueprint, say where and by how much, as a table a page can show.
//!
//! The checks, in order, each a necessary condition of a feasible assembly:
//! 1. per type and per cell: enough item places (each item counts as many forms as it may
//!    join) and enough distinct items for one form;
//! 2. a cell against the type counts (a cell's items of a type can fill at most that
//!    type's places) and a type against the cells' maxima;
//! 3. enemy groups: a group gives at most one unit to a form;
//! 4. when every item lies in exactly one cell, the exact flow check of the type and cell
//!    counts together (a transportation problem with lower bounds, solved by max-flow),
//!    named by the smallest set of cells (or of types) that is short;
//! 5. the aggregated linear relaxation (see `lp.rs`): the reachable mean difficulty and
//!    the quickest forms under the counts, then the difficulty band, time limit and enemy
//!    groups together. 1–4 are exact counts; 5 is exact for the relaxation (a fractional
//!    form may still pass where whole items cannot — the solver then reports it).

use super::lp::{self, Goal, LpError, Parts};
use super::model::{Excluded, Model};
use crate::blueprint::Blueprint;
use crate::item::ItemKind;
use serde::{Deserialize, Serialize};

/// What kind of requirement the pool cannot meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortageKind {
    /// Too few items of a type (题型题量不足).
    Type,
    /// Too few items in a work area or task (内容单元题量不足).
    Cell,
    /// A cell has items, but too few of them fit the type counts.
    CellType,
    /// A type has items, but in cells that cannot take that many.
    TypeCell,
    /// Enemy groups (互斥组) leave too few usable items.
    Enemies,
    /// The type and cell counts cannot be met together, though each alone can.
    Counts,
    /// The mean difficulty band is out of reach.
    Difficulty,
    /// The time limit is shorter than the quickest forms the pool allows.
    Time,
    /// Difficulty band, time limit and enemy groups can each be met, but not together.
    Combined,
}

/// One unmet requirement, with numbers for a table and a sentence in English and Chinese.
/// Counts are items; for `Difficulty` they are mean difficulties, for `Time` minutes
/// (per form on average).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shortage {
    pub kind: ShortageKind,
    /// Outline code of the cell concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_title: Option<String>,
    /// The item type concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_kind: Option<ItemKind>,
    /// What one form needs.
    pub per_form: f64,
    /// What all forms need together.
    pub needed: f64,
    /// What the pool offers towards it.
    pub available: f64,
    pub short_by: f64,
    /// Items there left out by the exposure cap.
    #[serde(default)]
    pub excluded_by_exposure: u32,
    pub en: String,
    pub zh: String,
}

/// "work area 2 (设备检修)" and "工作领域 2（设备检修）".
pub(crate) fn cell_label(code: &str, title: &str) -> (String, String) {
    let depth = code.matches('.').count();
    let (en, zh) = match depth {
        0 => ("work area", "工作领域"),
        1 => ("work task", "工作任务"),
        _ => ("skill requirement", "技能要求"),
    };
    let title = title.trim();
    if title.is_empty() {
        (format!("{en} {code}"), format!("{zh} {code}"))
    } else {
        (
            format!("{en} {code} ({title})"),
            format!("{zh} {code}（{title}）"),
        )
    }
}

fn kind_label(k: ItemKind) -> (String, String) {
    (format!("{} ({})", k.en(), k.zh()), k.zh().to_string())
}

fn num(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else {
        format!("{x:.2}")
    }
}

struct Ctx<'a> {
    bp: &'a Blueprint,
    m: &'a Model,
    f: u32,
    level_en: String,
    level_zh: &'static str,
}

impl Ctx<'_> {
    /// "needs 12 items per form × 4 forms = 48 without overlap" and its Chinese.
    fn need_phrase(&self, per_form: u32) -> (String, String) {
        let f = self.f;
        if f == 1 {
            (
                format!("needs {per_form} items per form"),
                format!("每套需 {per_form} 题"),
            )
        } else if self.bp.no_overlap {
            (
                format!(
                    "needs {per_form} items per form × {f} forms = {} without overlap",
                    per_form * f
                ),
                format!(
                    "每套需 {per_form} 题 × {f} 套 = {} 题（各套不重复）",
                    per_form * f
                ),
            )
        } else {
            (
                format!(
                    "needs {per_form} items per form × {f} forms = {} item places",
                    per_form * f
                ),
                format!("每套需 {per_form} 题 × {f} 套 = {} 个题位", per_form * f),
            )
        }
    }

    fn exposure_phrase(&self, n: u32) -> (String, String) {
        if n == 0 {
            return (String::new(), String::new());
        }
        let cap = self.bp.max_usage.unwrap_or(0);
        (
            format!("; {n} more there are over the exposure cap (used {cap} times or more)"),
            format!("；另有 {n} 道已达曝光上限（已使用 {cap} 次及以上）"),
        )
    }

    /// "the pool has 31 approved junior items there" (or its places, with overlap).
    fn have_phrase(
        &self,
        items: u32,
        places: u32,
        what_en: &str,
        what_zh: &str,
    ) -> (String, String) {
        let (l_en, l_zh) = (&self.level_en, self.level_zh);
        if self.bp.no_overlap || self.f == 1 || places == items {
            (
                format!("the pool has {items} approved {l_en} {what_en}"),
                format!("题池中{what_zh}仅有 {items} 道已审核的{l_zh}题目"),
            )
        } else {
            (
                format!(
                    "the pool's {items} approved {l_en} {what_en} fill at most {places} places (an item joins at most {} forms)",
                    self.m.units.iter().map(|u| u.cap).max().unwrap_or(1)
                ),
                format!(
                    "题池中{what_zh}的 {items} 道已审核{l_zh}题目最多填满 {places} 个题位（每题最多用于 {} 套）",
                    self.m.units.iter().map(|u| u.cap).max().unwrap_or(1)
                ),
            )
        }
    }

    fn exposed(&self, pred: impl Fn(usize, &[usize]) -> bool) -> u32 {
        self.m
            .excluded
            .iter()
            .filter(|(_, t, cells, why)| *why == Excluded::Exposure && pred(*t, cells))
            .count() as u32
    }
}

/// Items (and item places) of the pool per (cell, type), from the units.
struct Counts {
    /// [cell][type] items
    items_ct: Vec<Vec<u32>>,
    places_ct: Vec<Vec<u32>>,
    items_c: Vec<u32>,
    places_c: Vec<u32>,
    items_t: Vec<u32>,
    places_t: Vec<u32>,
}

fn counts(m: &Model) -> Counts {
    let (nc, nt) = (m.n_cells(), m.n_types());
    let mut c = Counts {
        items_ct: vec![vec![0; nt]; nc],
        places_ct: vec![vec![0; nt]; nc],
        items_c: vec![0; nc],
        places_c: vec![0; nc],
        items_t: vec![0; nt],
        places_t: vec![0; nt],
    };
    let f = m.forms as u32;
    for u in &m.units {
        let cap = u.cap.min(f);
        for &(t, k) in &u.types {
            c.items_t[t] += k;
            c.places_t[t] += k * cap;
        }
        for &(cell, k) in &u.cells {
            c.items_c[cell] += k;
            c.places_c[cell] += k * cap;
        }
        for &(cell, t, k) in &u.cell_types {
            c.items_ct[cell][t] += k;
            c.places_ct[cell][t] += k * cap;
        }
    }
    c
}

/// All shortages of the blueprint against the model's pool, and the relaxation's bound
/// on the maximin information when everything passes.
pub(crate) fn diagnose_model(bp: &Blueprint, m: &Model) -> (Vec<Shortage>, Option<f64>) {
    let cx = Ctx {
        bp,
        m,
        f: bp.forms,
        level_en: bp.level.en().to_lowercase(),
        level_zh: bp.level.zh(),
    };
    let f = bp.forms;
    let cnt = counts(m);
    let mut out = Vec::new();

    // 1. Types.
    for (t, q) in bp.types.iter().enumerate() {
        let need = q.count * f;
        let (k_en, k_zh) = kind_label(q.kind);
        let short_places = need.saturating_sub(cnt.places_t[t]);
        let short_distinct = q.count.saturating_sub(cnt.items_t[t]);
        if short_places == 0 && short_distinct == 0 {
            continue;
        }
        let exp = cx.exposed(|tt, _| tt == t);
        let (x_en, x_zh) = cx.exposure_phrase(exp);
        let (short, n_en, n_zh, available, needed) = if short_places >= short_distinct {
            let (n_en, n_zh) = cx.need_phrase(q.count);
            (short_places, n_en, n_zh, cnt.places_t[t], need)
        } else {
            (
                short_distinct,
                format!("needs {} distinct items in each form", q.count),
                format!("每套需 {} 道不同的题目", q.count),
                cnt.items_t[t],
                q.count,
            )
        };
        let (h_en, h_zh) = cx.have_phrase(
            cnt.items_t[t],
            cnt.places_t[t],
            &format!("{} items", q.kind.en().to_lowercase()),
            q.kind.zh(),
        );
        out.push(Shortage {
            kind: ShortageKind::Type,
            cell: None,
            cell_title: None,
            item_kind: Some(q.kind),
            per_form: q.count as f64,
            needed: needed as f64,
            available: available as f64,
            short_by: short as f64,
            excluded_by_exposure: exp,
            en: format!("{k_en} {n_en}; {h_en}: short by {short}{x_en}"),
            zh: format!("{k_zh}{n_zh}；{h_zh}：缺 {short} 题{x_zh}"),
        });
    }

    // 1. Cells.
    for (c, cell) in bp.cells.iter().enumerate() {
        let need = cell.min_items * f;
        let short_places = need.saturating_sub(cnt.places_c[c]);
        let short_distinct = cell.min_items.saturating_sub(cnt.items_c[c]);
        if short_places == 0 && short_distinct == 0 {
            continue;
        }
        let (c_en, c_zh) = cell_label(&cell.code, &cell.title);
        let exp = cx.exposed(|_, cells| cells.contains(&c));
        let (x_en, x_zh) = cx.exposure_phrase(exp);
        let (short, n_en, n_zh, available, needed) = if short_places >= short_distinct {
            let (n_en, n_zh) = cx.need_phrase(cell.min_items);
            (short_places, n_en, n_zh, cnt.places_c[c], need)
        } else {
            (
                short_distinct,
                format!("needs {} distinct items in each form", cell.min_items),
                format!("每套需 {} 道不同的题目", cell.min_items),
                cnt.items_c[c],
                cell.min_items,
            )
        };
        let (h_en, h_zh) = cx.have_phrase(cnt.items_c[c], cnt.places_c[c], "items there", "该处");
        out.push(Shortage {
            kind: ShortageKind::Cell,
            cell: Some(cell.code.clone()),
            cell_title: Some(cell.title.clone()),
            item_kind: None,
            per_form: cell.min_items as f64,
            needed: needed as f64,
            available: available as f64,
            short_by: short as f64,
            excluded_by_exposure: exp,
            en: format!("{c_en} {n_en}; {h_en}: short by {short}{x_en}"),
            zh: format!("{c_zh}{n_zh}；{h_zh}：缺 {short} 题{x_zh}"),
        });
    }
    if !out.is_empty() {
        return (out, None);
    }

    // 2. A cell against the type counts; a type against the cell maxima.
    for (c, cell) in bp.cells.iter().enumerate() {
        let need = cell.min_items * f;
        let usable: u32 = (0..m.n_types())
            .map(|t| cnt.places_ct[c][t].min(bp.types[t].count * f))
            .sum();
        if usable >= need {
            continue;
        }
        let (c_en, c_zh) = cell_label(&cell.code, &cell.title);
        let mut parts_en = Vec::new();
        let mut parts_zh = Vec::new();
        for (t, q) in bp.types.iter().enumerate() {
            let have = cnt.places_ct[c][t];
            let cap = q.count * f;
            if have == 0 {
                continue;
            }
            if have > cap {
                parts_en.push(format!(
                    "{} {have}, of which the forms take only {cap}",
                    q.kind.en().to_lowercase()
                ));
                parts_zh.push(format!("{}{have} 道，但各套共只需 {cap} 道", q.kind.zh()));
            } else {
                parts_en.push(format!("{} {have}", q.kind.en().to_lowercase()));
                parts_zh.push(format!("{}{have} 道", q.kind.zh()));
            }
        }
        let short = need - usable;
        out.push(Shortage {
            kind: ShortageKind::CellType,
            cell: Some(cell.code.clone()),
            cell_title: Some(cell.title.clone()),
            item_kind: None,
            per_form: cell.min_items as f64,
            needed: need as f64,
            available: usable as f64,
            short_by: short as f64,
            excluded_by_exposure: 0,
            en: format!(
                "{c_en} needs {need} items over the {f} form(s), but with the blueprint's type counts at most {usable} of its items can be used ({}): short by {short}",
                parts_en.join("; ")
            ),
            zh: format!(
                "{c_zh}共需 {need} 题（{f} 套），但按蓝图题型题量其题目最多只能用 {usable} 道（{}）：缺 {short} 题",
                parts_zh.join("；")
            ),
        });
    }
    if !bp.cells.is_empty() {
        for (t, q) in bp.types.iter().enumerate() {
            let need = q.count * f;
            let usable: u32 = (0..m.n_cells())
                .map(|c| cnt.places_ct[c][t].min(bp.cells[c].max_items * f))
                .sum();
            if usable >= need {
                continue;
            }
            let (k_en, k_zh) = kind_label(q.kind);
            let limiting: Vec<(String, String)> = (0..m.n_cells())
                .filter(|&c| cnt.places_ct[c][t] > bp.cells[c].max_items * f)
                .map(|c| {
                    let (l_en, l_zh) = cell_label(&bp.cells[c].code, &bp.cells[c].title);
                    (
                        format!("{l_en} takes at most {} per form", bp.cells[c].max_items),
                        format!("{l_zh}每套最多 {} 题", bp.cells[c].max_items),
                    )
                })
                .collect();
            let short = need - usable;
            out.push(Shortage {
                kind: ShortageKind::TypeCell,
                cell: None,
                cell_title: None,
                item_kind: Some(q.kind),
                per_form: q.count as f64,
                needed: need as f64,
                available: usable as f64,
                short_by: short as f64,
                excluded_by_exposure: 0,
                en: format!(
                    "{k_en}: the forms need {need}, but the cells holding them can take at most {usable}{}: short by {short}",
                    if limiting.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({})",
                            limiting.iter().map(|l| l.0.as_str()).collect::<Vec<_>>().join("; ")
                        )
                    }
                ),
                zh: format!(
                    "{k_zh}各套共需 {need} 题，但其所在内容单元最多只能容纳 {usable} 题{}：缺 {short} 题",
                    if limiting.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "（{}）",
                            limiting.iter().map(|l| l.1.as_str()).collect::<Vec<_>>().join("；")
                        )
                    }
                ),
            });
        }
    }
    if !out.is_empty() {
        return (out, None);
    }

    // 3. Enemy groups per cell and per type.
    enemies(&cx, &mut out);
    if !out.is_empty() {
        return (out, None);
    }

    // 4. Type and cell counts together (exact max-flow), when cells are disjoint; named by
    // the smallest set of cells (or types) that is short, if one is.
    if m.cells_disjoint
        && !bp.cells.is_empty()
        && let Some(s) = counts_flow(&cx, &cnt)
    {
        out.push(hall_sets(&cx, &cnt).unwrap_or(s));
        return (out, None);
    }

    // 5. The relaxation.
    relaxation(&cx, &mut out)
}

fn enemies(cx: &Ctx<'_>, out: &mut Vec<Shortage>) {
    let m = cx.m;
    if m.groups.is_empty() {
        return;
    }
    let f = cx.f;
    // dimension: (is_cell, index)
    let mut check = |is_cell: bool, ix: usize, per_form_need: u32| {
        let of = |u: &super::model::Unit| -> u32 {
            let v = if is_cell { &u.cells } else { &u.types };
            v.iter().find(|(i, _)| *i == ix).map_or(0, |(_, k)| *k)
        };
        let mut lone_items = 0u32;
        let mut lone_places = 0u32;
        let mut group_best: Vec<u32> = vec![0; m.groups.len()];
        let mut group_places: Vec<u32> = vec![0; m.groups.len()];
        let mut grouped_items = 0u32;
        for u in &m.units {
            let k = of(u);
            if k == 0 {
                continue;
            }
            let cap = u.cap.min(f);
            match u.groups.first() {
                None => {
                    lone_items += k;
                    lone_places += k * cap;
                }
                Some(&g) => {
                    grouped_items += k;
                    group_best[g] = group_best[g].max(k);
                    group_places[g] += k * cap;
                }
            }
        }
        if grouped_items == 0 {
            return;
        }
        let n_groups = group_best.iter().filter(|b| **b > 0).count() as u32;
        let per_form: u32 = lone_items + group_best.iter().sum::<u32>();
        let all_forms: u32 = lone_places
            + group_best
                .iter()
                .zip(&group_places)
                .map(|(b, p)| (b * f).min(*p))
                .sum::<u32>();
        let (what_en, what_zh, cell, title, kind) = if is_cell {
            let c = &cx.bp.cells[ix];
            let (l_en, l_zh) = cell_label(&c.code, &c.title);
            (
                l_en,
                l_zh,
                Some(c.code.clone()),
                Some(c.title.clone()),
                None,
            )
        } else {
            let k = cx.bp.types[ix].kind;
            let (l_en, l_zh) = kind_label(k);
            (l_en, l_zh, None, None, Some(k))
        };
        if per_form < per_form_need {
            let short = per_form_need - per_form;
            out.push(Shortage {
                kind: ShortageKind::Enemies,
                cell,
                cell_title: title,
                item_kind: kind,
                per_form: per_form_need as f64,
                needed: per_form_need as f64,
                available: per_form as f64,
                short_by: short as f64,
                excluded_by_exposure: 0,
                en: format!(
                    "{what_en} needs {per_form_need} items per form; its {grouped_items} grouped items fall into {n_groups} enemy groups (one item of each per form) besides {lone_items} items in none, so a form can take at most {per_form}: short by {short}"
                ),
                zh: format!(
                    "{what_zh}每套需 {per_form_need} 题；其 {grouped_items} 道题分属 {n_groups} 个互斥组（每组每套至多 1 题），另有 {lone_items} 道不属任何互斥组，每套最多只能选 {per_form} 题：缺 {short} 题"
                ),
            });
        } else if all_forms < per_form_need * f {
            let need = per_form_need * f;
            let short = need - all_forms;
            out.push(Shortage {
                kind: ShortageKind::Enemies,
                cell,
                cell_title: title,
                item_kind: kind,
                per_form: per_form_need as f64,
                needed: need as f64,
                available: all_forms as f64,
                short_by: short as f64,
                excluded_by_exposure: 0,
                en: format!(
                    "{what_en} needs {need} items over the {f} forms; with one item of each of its {n_groups} enemy groups per form, the pool can give at most {all_forms}: short by {short}"
                ),
                zh: format!(
                    "{what_zh}共需 {need} 题（{f} 套）；互斥组每套至多 1 题，其 {n_groups} 个互斥组与其余题目最多只能提供 {all_forms} 题：缺 {short} 题"
                ),
            });
        }
    };
    for (c, cell) in cx.bp.cells.iter().enumerate() {
        check(true, c, cell.min_items);
    }
    for (t, q) in cx.bp.types.iter().enumerate() {
        check(false, t, q.count);
    }
}

/// Sets of two or more cells that together need more items than the type counts let
/// them have (Σ_S F·min_c > Σ_t min(F·n_t, places of S in t)), then sets of types that
/// need more than the cells can take (Σ_T F·n_t > Σ_c min(F·max_c, places of c in T));
/// the smallest such set first. Up to 12 cells and 8 types are searched.
fn hall_sets(cx: &Ctx<'_>, cnt: &Counts) -> Option<Shortage> {
    let (nc, nt) = (cx.m.n_cells(), cx.m.n_types());
    let f = cx.f;
    let by_size = |n: usize| {
        let mut v: Vec<u32> = (1u32..(1 << n)).filter(|s| s.count_ones() >= 2).collect();
        v.sort_by_key(|s| (s.count_ones(), *s));
        v
    };
    if nc <= 12 {
        for set in by_size(nc) {
            let cells: Vec<usize> = (0..nc).filter(|c| set & (1 << c) != 0).collect();
            let need: u32 = cells.iter().map(|&c| cx.bp.cells[c].min_items * f).sum();
            let mut usable = 0;
            let mut parts_en = Vec::new();
            let mut parts_zh = Vec::new();
            for t in 0..nt {
                let have: u32 = cells.iter().map(|&c| cnt.places_ct[c][t]).sum();
                let cap = cx.bp.types[t].count * f;
                usable += have.min(cap);
                let k = cx.bp.types[t].kind;
                if have > cap {
                    parts_en.push(format!(
                        "{}: the forms take only {cap}",
                        k.en().to_lowercase()
                    ));
                    parts_zh.push(format!("{}各套共只需 {cap} 道", k.zh()));
                } else if have > 0 {
                    parts_en.push(format!("{}: {have} in the pool", k.en().to_lowercase()));
                    parts_zh.push(format!("{}题池中 {have} 道", k.zh()));
                }
            }
            if usable < need {
                let short = need - usable;
                let (l_en, l_zh): (Vec<String>, Vec<String>) = cells
                    .iter()
                    .map(|&c| cell_label(&cx.bp.cells[c].code, &cx.bp.cells[c].title))
                    .unzip();
                return Some(Shortage {
                    kind: ShortageKind::Counts,
                    cell: None,
                    cell_title: None,
                    item_kind: None,
                    per_form: cells.iter().map(|&c| cx.bp.cells[c].min_items).sum::<u32>() as f64,
                    needed: need as f64,
                    available: usable as f64,
                    short_by: short as f64,
                    excluded_by_exposure: 0,
                    en: format!(
                        "{} together need {need} items over the {f} form(s), but with the blueprint's type counts at most {usable} of their items can be used ({}): short by {short}",
                        join_and(&l_en),
                        parts_en.join("; ")
                    ),
                    zh: format!(
                        "{}合计需 {need} 题（{f} 套），但按蓝图题型题量其题目最多只能用 {usable} 道（{}）：缺 {short} 题",
                        l_zh.join("、"),
                        parts_zh.join("；")
                    ),
                });
            }
        }
    }
    if nt <= 8 {
        for set in by_size(nt) {
            let types: Vec<usize> = (0..nt).filter(|t| set & (1 << t) != 0).collect();
            let need: u32 = types.iter().map(|&t| cx.bp.types[t].count * f).sum();
            let usable: u32 = (0..nc)
                .map(|c| {
                    let have: u32 = types.iter().map(|&t| cnt.places_ct[c][t]).sum();
                    have.min(cx.bp.cells[c].max_items * f)
                })
                .sum();
            if usable < need {
                let short = need - usable;
                let names_en: Vec<String> = types
                    .iter()
                    .map(|&t| cx.bp.types[t].kind.en().to_lowercase())
                    .collect();
                let names_zh: Vec<&str> = types.iter().map(|&t| cx.bp.types[t].kind.zh()).collect();
                return Some(Shortage {
                    kind: ShortageKind::Counts,
                    cell: None,
                    cell_title: None,
                    item_kind: None,
                    per_form: types.iter().map(|&t| cx.bp.types[t].count).sum::<u32>() as f64,
                    needed: need as f64,
                    available: usable as f64,
                    short_by: short as f64,
                    excluded_by_exposure: 0,
                    en: format!(
                        "{} items together: the forms need {need}, but the cells holding them can take at most {usable}: short by {short}",
                        join_and(&names_en)
                    ),
                    zh: format!(
                        "{}合计各套共需 {need} 题，但其所在内容单元最多只能容纳 {usable} 题：缺 {short} 题",
                        names_zh.join("、")
                    ),
                });
            }
        }
    }
    None
}

/// "a", "a and b", "a, b and c".
fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Dinic's max-flow on a small dense-ish graph.
struct Flow {
    to: Vec<usize>,
    cap: Vec<i64>,
    head: Vec<Vec<usize>>,
}

impl Flow {
    fn new(n: usize) -> Flow {
        Flow {
            to: Vec::new(),
            cap: Vec::new(),
            head: vec![Vec::new(); n],
        }
    }
    fn edge(&mut self, a: usize, b: usize, c: i64) {
        self.head[a].push(self.to.len());
        self.to.push(b);
        self.cap.push(c);
        self.head[b].push(self.to.len());
        self.to.push(a);
        self.cap.push(0);
    }
    fn levels(&self, s: usize) -> Vec<i64> {
        let mut lv = vec![-1; self.head.len()];
        lv[s] = 0;
        let mut q = std::collections::VecDeque::from([s]);
        while let Some(v) = q.pop_front() {
            for &e in &self.head[v] {
                if self.cap[e] > 0 && lv[self.to[e]] < 0 {
                    lv[self.to[e]] = lv[v] + 1;
                    q.push_back(self.to[e]);
                }
            }
        }
        lv
    }
    fn push(&mut self, v: usize, t: usize, f: i64, lv: &[i64], it: &mut [usize]) -> i64 {
        if v == t {
            return f;
        }
        while it[v] < self.head[v].len() {
            let e = self.head[v][it[v]];
            let w = self.to[e];
            if self.cap[e] > 0 && lv[w] == lv[v] + 1 {
                let d = self.push(w, t, f.min(self.cap[e]), lv, it);
                if d > 0 {
                    self.cap[e] -= d;
                    self.cap[e ^ 1] += d;
                    return d;
                }
            }
            it[v] += 1;
        }
        0
    }
    fn max_flow(&mut self, s: usize, t: usize) -> i64 {
        let mut total = 0;
        loop {
            let lv = self.levels(s);
            if lv[t] < 0 {
                return total;
            }
            let mut it = vec![0; self.head.len()];
            loop {
                let d = self.push(s, t, i64::MAX, &lv, &mut it);
                if d == 0 {
                    break;
                }
                total += d;
            }
        }
    }
}

/// The type and cell counts of all forms together as a flow with lower bounds:
/// source → type t (exactly F·n_t) → cell c (at most the pool's places of (c, t)) →
/// sink (between F·min_c and F·max_c). Infeasible → a `Counts` shortage naming the
/// cells and types on the short side of the minimum cut.
fn counts_flow(cx: &Ctx<'_>, cnt: &Counts) -> Option<Shortage> {
    let (nt, nc) = (cx.m.n_types(), cx.m.n_cells());
    let f = cx.f as i64;
    // nodes: 0 s, 1 t, 2.. types, then cells, then S*, T*
    let (s, t) = (0, 1);
    let ty = |i: usize| 2 + i;
    let ce = |i: usize| 2 + nt + i;
    let (ss, tt) = (2 + nt + nc, 3 + nt + nc);
    let mut g = Flow::new(4 + nt + nc);
    let mut excess = vec![0i64; 4 + nt + nc];
    let mut lower = |a: usize, b: usize, lo: i64, hi: i64, g: &mut Flow| {
        g.edge(a, b, hi - lo);
        excess[b] += lo;
        excess[a] -= lo;
    };
    for i in 0..nt {
        let n = cx.bp.types[i].count as i64 * f;
        lower(s, ty(i), n, n, &mut g);
        for c in 0..nc {
            if cnt.places_ct[c][i] > 0 {
                g.edge(ty(i), ce(c), cnt.places_ct[c][i] as i64);
            }
        }
    }
    for c in 0..nc {
        let cell = &cx.bp.cells[c];
        lower(
            ce(c),
            t,
            cell.min_items as i64 * f,
            cell.max_items as i64 * f,
            &mut g,
        );
    }
    g.edge(t, s, i64::MAX / 4);
    let mut need = 0;
    for (v, &e) in excess.iter().enumerate() {
        if e > 0 {
            g.edge(ss, v, e);
            need += e;
        } else if e < 0 {
            g.edge(v, tt, -e);
        }
    }
    let flow = g.max_flow(ss, tt);
    if flow >= need {
        return None;
    }
    let short = need - flow;
    let lv = g.levels(ss);
    let cells: Vec<usize> = (0..nc).filter(|&c| lv[ce(c)] >= 0).collect();
    let types: Vec<usize> = (0..nt).filter(|&i| lv[ty(i)] >= 0).collect();
    let cells = if cells.is_empty() {
        (0..nc).collect()
    } else {
        cells
    };
    let types = if types.is_empty() {
        (0..nt).collect()
    } else {
        types
    };
    let c_en: Vec<String> = cells
        .iter()
        .map(|&c| cell_label(&cx.bp.cells[c].code, &cx.bp.cells[c].title).0)
        .collect();
    let c_zh: Vec<String> = cells
        .iter()
        .map(|&c| cell_label(&cx.bp.cells[c].code, &cx.bp.cells[c].title).1)
        .collect();
    let t_en: Vec<String> = types
        .iter()
        .map(|&i| cx.bp.types[i].kind.en().to_lowercase())
        .collect();
    let t_zh: Vec<&str> = types.iter().map(|&i| cx.bp.types[i].kind.zh()).collect();
    Some(Shortage {
        kind: ShortageKind::Counts,
        cell: (cells.len() == 1).then(|| cx.bp.cells[cells[0]].code.clone()),
        cell_title: (cells.len() == 1).then(|| cx.bp.cells[cells[0]].title.clone()),
        item_kind: (types.len() == 1).then(|| cx.bp.types[types[0]].kind),
        per_form: 0.0,
        needed: need as f64,
        available: flow as f64,
        short_by: short as f64,
        excluded_by_exposure: 0,
        en: format!(
            "the type and cell counts cannot be met together: over the {} form(s), {} with {} items are short by {short} (each cell and type alone has enough)",
            cx.f,
            c_en.join(", "),
            t_en.join(", ")
        ),
        zh: format!(
            "题型题量与内容单元题量无法同时满足：{} 套中，{}的{}共缺 {short} 题（单看各单元、各题型均足够）",
            cx.f,
            c_zh.join("、"),
            t_zh.join("、")
        ),
    })
}

fn relaxation(cx: &Ctx<'_>, out: &mut Vec<Shortage>) -> (Vec<Shortage>, Option<f64>) {
    let m = cx.m;
    let fn_items = (cx.f * m.items_per_form) as f64;
    let f = cx.f as f64;
    let solver_note = |e: LpError| -> Shortage {
        let msg = match e {
            LpError::Infeasible => "infeasible".to_string(),
            LpError::Solver(s) => s,
        };
        Shortage {
            kind: ShortageKind::Counts,
            cell: None,
            cell_title: None,
            item_kind: None,
            per_form: 0.0,
            needed: 0.0,
            available: 0.0,
            short_by: 0.0,
            excluded_by_exposure: 0,
            en: format!("the type and cell counts cannot be met by the pool ({msg})"),
            zh: format!("题池无法满足题型与内容单元题量（{msg}）"),
        }
    };
    // Counts alone (catches what the flow check cannot see with overlapping cells); its
    // optimum is the quickest forms' time.
    let quickest_counts = match lp::aggregate(m, Goal::MinTime, Parts::COUNTS) {
        Ok(v) => v / f / 60.0,
        Err(e) => {
            out.push(solver_note(e));
            return (std::mem::take(out), None);
        }
    };
    if let Some(d) = cx.bp.difficulty {
        let reach_min = lp::aggregate(m, Goal::MinDiff, Parts::COUNTS)
            .map(|v| v / fn_items)
            .unwrap_or(f64::NAN);
        let reach_max = lp::aggregate(m, Goal::MaxDiff, Parts::COUNTS)
            .map(|v| v / fn_items)
            .unwrap_or(f64::NAN);
        let band = format!("{:.2}–{:.2}", d.min_mean, d.max_mean);
        if reach_min > d.max_mean + 1e-9 {
            let short = reach_min - d.max_mean;
            out.push(Shortage {
                kind: ShortageKind::Difficulty,
                cell: None,
                cell_title: None,
                item_kind: None,
                per_form: d.max_mean,
                needed: d.max_mean,
                available: reach_min,
                short_by: short,
                excluded_by_exposure: 0,
                en: format!(
                    "the band asks for a mean difficulty of {band}, but with the blueprint's type and cell counts the easiest forms the pool allows average {reach_min:.2}: out of reach by {short:.2}"
                ),
                zh: format!(
                    "蓝图要求平均难度 {band}，但按题型与内容单元题量，题池能组出的最容易的试卷平均难度为 {reach_min:.2}：相差 {short:.2}"
                ),
            });
        } else if reach_max < d.min_mean - 1e-9 {
            let short = d.min_mean - reach_max;
            out.push(Shortage {
                kind: ShortageKind::Difficulty,
                cell: None,
                cell_title: None,
                item_kind: None,
                per_form: d.min_mean,
                needed: d.min_mean,
                available: reach_max,
                short_by: short,
                excluded_by_exposure: 0,
                en: format!(
                    "the band asks for a mean difficulty of {band}, but with the blueprint's type and cell counts the hardest forms the pool allows average {reach_max:.2}: out of reach by {short:.2}"
                ),
                zh: format!(
                    "蓝图要求平均难度 {band}，但按题型与内容单元题量，题池能组出的最难的试卷平均难度为 {reach_max:.2}：相差 {short:.2}"
                ),
            });
        }
    }
    let limit_min = m.time_limit / 60.0;
    let quickest = |parts: Parts| {
        lp::aggregate(m, Goal::MinTime, parts)
            .ok()
            .map(|v| v / f / 60.0)
    };
    let q = quickest_counts;
    if q > limit_min + 1e-9 {
        let short = q - limit_min;
        out.push(Shortage {
            kind: ShortageKind::Time,
            cell: None,
            cell_title: None,
            item_kind: None,
            per_form: limit_min,
            needed: limit_min,
            available: q,
            short_by: short,
            excluded_by_exposure: 0,
            en: format!(
                "the quickest forms the pool allows under the type and cell counts take {} minutes on average; the limit is {} minutes: short by {} minutes",
                num1(q),
                num(limit_min),
                num1(short)
            ),
            zh: format!(
                "按题型与内容单元题量，题池能组出的用时最短的试卷平均需 {} 分钟；考试时长为 {} 分钟：超出 {} 分钟",
                num1(q),
                num(limit_min),
                num1(short)
            ),
        });
    }
    if !out.is_empty() {
        return (std::mem::take(out), None);
    }
    match lp::aggregate(m, Goal::MaxInfo, Parts::ALL) {
        Ok(bound) => return (Vec::new(), Some(bound)),
        Err(LpError::Solver(s)) => {
            out.push(solver_note(LpError::Solver(s)));
            return (std::mem::take(out), None);
        }
        Err(LpError::Infeasible) => {}
    }
    let ok = |p: Parts| lp::aggregate(m, Goal::MaxInfo, p).is_ok();
    let en_only = Parts {
        difficulty: false,
        time: false,
        enemies: true,
    };
    let dt = Parts {
        difficulty: true,
        time: true,
        enemies: false,
    };
    let de = Parts {
        difficulty: true,
        time: false,
        enemies: true,
    };
    let te = Parts {
        difficulty: false,
        time: true,
        enemies: true,
    };
    let blank = |kind, en: String, zh: String, needed: f64, available: f64| Shortage {
        kind,
        cell: None,
        cell_title: None,
        item_kind: None,
        per_form: needed,
        needed,
        available,
        short_by: (available - needed).abs(),
        excluded_by_exposure: 0,
        en,
        zh,
    };
    if !ok(en_only) {
        out.push(blank(
            ShortageKind::Enemies,
            "with at most one item of each enemy group per form, the pool cannot fill the type and cell counts".into(),
            "每个互斥组每套至多 1 题，题池无法满足题型与内容单元题量".into(),
            0.0,
            0.0,
        ));
    } else if !ok(dt) {
        let q = quickest(Parts {
            difficulty: true,
            time: false,
            enemies: false,
        })
        .unwrap_or(f64::NAN);
        out.push(blank(
            ShortageKind::Combined,
            format!(
                "the difficulty band and the time limit cannot both be met: within the band the quickest forms take {} minutes on average; the limit is {} minutes",
                num1(q),
                num(limit_min)
            ),
            format!(
                "难度范围与考试时长无法同时满足：在难度范围内，用时最短的试卷平均需 {} 分钟，考试时长为 {} 分钟",
                num1(q),
                num(limit_min)
            ),
            limit_min,
            q,
        ));
    } else if !ok(de) {
        let lo = lp::aggregate(m, Goal::MinDiff, en_only)
            .map(|v| v / fn_items)
            .unwrap_or(f64::NAN);
        let hi = lp::aggregate(m, Goal::MaxDiff, en_only)
            .map(|v| v / fn_items)
            .unwrap_or(f64::NAN);
        let d = cx.bp.difficulty.expect("difficulty band present");
        out.push(blank(
            ShortageKind::Combined,
            format!(
                "with at most one item of each enemy group per form, the reachable mean difficulty is {lo:.2}–{hi:.2}; the band asks for {:.2}–{:.2}",
                d.min_mean, d.max_mean
            ),
            format!(
                "每个互斥组每套至多 1 题时，可达到的平均难度为 {lo:.2}–{hi:.2}；蓝图要求 {:.2}–{:.2}",
                d.min_mean, d.max_mean
            ),
            d.min_mean,
            lo,
        ));
    } else if !ok(te) {
        let q = quickest(en_only).unwrap_or(f64::NAN);
        out.push(blank(
            ShortageKind::Combined,
            format!(
                "with at most one item of each enemy group per form, the quickest forms take {} minutes on average; the limit is {} minutes",
                num1(q),
                num(limit_min)
            ),
            format!(
                "每个互斥组每套至多 1 题时，用时最短的试卷平均需 {} 分钟；考试时长为 {} 分钟",
                num1(q),
                num(limit_min)
            ),
            limit_min,
            q,
        ));
    } else {
        out.push(blank(
            ShortageKind::Combined,
            "the difficulty band, the time limit and the enemy groups can each be met, but not all together".into(),
            "难度范围、考试时长与互斥组要求可分别满足，但无法同时满足".into(),
            0.0,
            0.0,
        ));
    }
    (std::mem::take(out), None)
}

fn num1(x: f64) -> String {
    format!("{x:.1}")
}
