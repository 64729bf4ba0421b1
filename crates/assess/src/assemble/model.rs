//! The assembly problem in solver terms: the blueprint's per-form requirements and the
//! pool's eligible *units* — a lone item, or a whole testlet that enters a form as one.

use super::AssemblyWarning;
use super::pool::PoolItem;
use crate::blueprint::Blueprint;
use crate::item::ItemKind;
use std::collections::{BTreeMap, HashMap};

/// An eligible unit of selection.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    /// Indices into the pool.
    pub items: Vec<usize>,
    /// (blueprint type index, items of that type), sorted by type.
    pub types: Vec<(usize, u32)>,
    /// (blueprint cell index, items counted in that cell), sorted by cell.
    pub cells: Vec<(usize, u32)>,
    /// (cell index, type index, items) of the members.
    pub cell_types: Vec<(usize, usize, u32)>,
    /// Sum of the members' rated difficulties.
    pub diff: f64,
    /// Sum of the members' expected seconds.
    pub time: f64,
    /// Sum of the members' information at each θ point of the blueprint.
    pub info: Vec<f64>,
    /// Enemy groups of the members (index into `Model::groups`), without repeats.
    pub groups: Vec<usize>,
    /// The most forms of this assembly the unit may join.
    pub cap: u32,
    /// Usage penalty in 0 … 1 (mean member usage over the pool's highest usage).
    pub penalty: f64,
    /// Items in the unit.
    pub size: u32,
    /// Units with equal `types` share a signature and can replace one another.
    pub sig: usize,
}

/// Why an item of a blueprint type is not eligible (kept for the diagnosis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Excluded {
    /// Used `max_usage` times or more.
    Exposure,
    /// Its testlet cannot be used as a whole.
    Testlet,
    /// It matches no cell of the blueprint.
    NoCell,
}

#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub forms: usize,
    pub theta: Vec<f64>,
    pub kinds: Vec<ItemKind>,
    /// Items of each type per form (exact).
    pub type_need: Vec<u32>,
    pub cell_min: Vec<u32>,
    pub cell_max: Vec<u32>,
    pub items_per_form: u32,
    /// Bounds on the per-form sum of rated difficulty.
    pub diff_sum: Option<(f64, f64)>,
    /// Per-form time limit, seconds.
    pub time_limit: f64,
    pub units: Vec<Unit>,
    pub groups: Vec<String>,
    /// Every eligible item counts in exactly one cell (or the blueprint has no cells).
    pub cells_disjoint: bool,
    /// Units per signature.
    pub by_sig: Vec<Vec<usize>>,
    /// Type index and matching cells of pool items of a blueprint type that are left
    /// out, with the reason.
    pub excluded: Vec<(usize, usize, Vec<usize>, Excluded)>,
}

const TOL: f64 = 1e-9;

impl Model {
    pub fn build(bp: &Blueprint, pool: &[PoolItem], warnings: &mut Vec<AssemblyWarning>) -> Model {
        let forms = bp.forms as usize;
        let kinds: Vec<ItemKind> = bp.types.iter().map(|t| t.kind).collect();
        let type_of: HashMap<ItemKind, usize> =
            kinds.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        let n = bp.items_per_form();
        let cap_forms = if bp.no_overlap {
            1
        } else {
            bp.max_forms_per_item.unwrap_or(bp.forms).clamp(1, bp.forms)
        };
        let max_use = pool.iter().map(|p| p.usage).max().unwrap_or(0).max(1) as f64;

        // Per item: its type and cells, or why it cannot be used.
        let mut excluded = Vec::new();
        let mut item_ok: Vec<Option<(usize, Vec<usize>)>> = Vec::with_capacity(pool.len());
        let mut reason: Vec<Option<Excluded>> = vec![None; pool.len()];
        let (mut no_cell, mut over_cap) = (0usize, 0usize);
        for (i, it) in pool.iter().enumerate() {
            let Some(&t) = type_of.get(&it.kind) else {
                item_ok.push(None);
                continue;
            };
            let cells: Vec<usize> = bp
                .cells
                .iter()
                .enumerate()
                .filter(|(_, c)| it.matches_cell(c.code.trim()))
                .map(|(j, _)| j)
                .collect();
            if !bp.cells.is_empty() && cells.is_empty() {
                no_cell += 1;
                reason[i] = Some(Excluded::NoCell);
            } else if bp.max_usage.is_some_and(|m| it.usage >= m) {
                over_cap += 1;
                reason[i] = Some(Excluded::Exposure);
            }
            item_ok.push(Some((t, cells)));
        }
        if no_cell > 0 {
            warnings.push(AssemblyWarning::new(
                "no_cell",
                no_cell,
                format!(
                    "{no_cell} items of the blueprint's types assess no work area or task of the blueprint and were left out"
                ),
                format!("{no_cell} 道所需题型的题目不属于蓝图中的任何工作领域或任务，未参与组卷"),
            ));
        }
        if over_cap > 0 {
            warnings.push(AssemblyWarning::new(
                "exposure_cap",
                over_cap,
                format!(
                    "{over_cap} items were used {} times or more and were left out (exposure cap)",
                    bp.max_usage.unwrap_or(0)
                ),
                format!(
                    "{over_cap} 道题目已使用 {} 次及以上，按曝光上限未参与组卷",
                    bp.max_usage.unwrap_or(0)
                ),
            ));
        }

        // Group into units: testlets by name, others alone.
        let mut testlets: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut lone = Vec::new();
        for (i, it) in pool.iter().enumerate() {
            if item_ok[i].is_none() {
                continue;
            }
            match it.testlet.as_deref().map(str::trim) {
                Some(t) if !t.is_empty() => testlets.entry(t).or_default().push(i),
                _ => lone.push(i),
            }
        }
        // A testlet whose members include items of types the blueprint does not ask for
        // is unusable as a whole.
        let mut all_members: HashMap<&str, usize> = HashMap::new();
        for it in pool {
            if let Some(t) = it.testlet.as_deref().map(str::trim)
                && !t.is_empty()
            {
                *all_members.entry(t).or_default() += 1;
            }
        }
        let mut group_ix: HashMap<String, usize> = HashMap::new();
        let mut groups: Vec<String> = Vec::new();
        let mut units = Vec::new();
        let mut candidates: Vec<Vec<usize>> = lone.into_iter().map(|i| vec![i]).collect();
        for (name, members) in testlets {
            let why = if all_members[name] != members.len() {
                Some(format!(
                    "testlet {name} has items of types the blueprint does not ask for"
                ))
            } else if members.len() as u32 > n {
                Some(format!(
                    "testlet {name} has {} items, more than a form holds",
                    members.len()
                ))
            } else if members.iter().any(|&i| reason[i].is_some()) {
                Some(format!(
                    "testlet {name} has an item that cannot be used (exposure cap or no cell)"
                ))
            } else {
                let mut g: Vec<&str> = members
                    .iter()
                    .filter_map(|&i| pool[i].enemy_group.as_deref().map(str::trim))
                    .collect();
                let before = g.len();
                g.sort_unstable();
                g.dedup();
                (g.len() < before)
                    .then(|| format!("testlet {name} holds two items of one enemy group"))
            };
            match why {
                Some(en) => {
                    let zh = format!("题组 {name} 无法整体使用，未参与组卷");
                    warnings.push(AssemblyWarning::new(
                        "testlet_left_out",
                        members.len(),
                        en,
                        zh,
                    ));
                    for &i in &members {
                        if reason[i].is_none() {
                            reason[i] = Some(Excluded::Testlet);
                        }
                    }
                }
                None => candidates.push(members),
            }
        }
        for (i, r) in reason.iter().enumerate() {
            if let (Some(r), Some((t, cells))) = (r, &item_ok[i]) {
                excluded.push((i, *t, cells.clone(), *r));
            }
        }
        let mut sigs: HashMap<Vec<(usize, u32)>, usize> = HashMap::new();
        let mut by_sig: Vec<Vec<usize>> = Vec::new();
        let mut disjoint = true;
        for members in candidates {
            if members.iter().any(|&i| reason[i].is_some()) {
                continue;
            }
            let mut types: BTreeMap<usize, u32> = BTreeMap::new();
            let mut cells: BTreeMap<usize, u32> = BTreeMap::new();
            let mut cell_types: BTreeMap<(usize, usize), u32> = BTreeMap::new();
            let (mut diff, mut time) = (0.0, 0.0);
            let mut info = vec![0.0; bp.theta.len()];
            let mut gs: Vec<usize> = Vec::new();
            let mut usage = 0.0;
            let mut max_member_use = 0;
            for &i in &members {
                let it = &pool[i];
                let (t, cs) = item_ok[i].as_ref().expect("eligible");
                *types.entry(*t).or_default() += 1;
                if !bp.cells.is_empty() && cs.len() != 1 {
                    disjoint = false;
                }
                for c in cs {
                    *cells.entry(*c).or_default() += 1;
                    *cell_types.entry((*c, *t)).or_default() += 1;
                }
                diff += it.difficulty_or_default();
                time += it.seconds_or_default() as f64;
                let p = it.irt_or_derived();
                for (k, th) in bp.theta.iter().enumerate() {
                    info[k] += p.information(*th);
                }
                if let Some(g) = it.enemy_group.as_deref().map(str::trim) {
                    let next = groups.len();
                    let ix = *group_ix.entry(g.to_string()).or_insert(next);
                    if ix == next {
                        groups.push(g.to_string());
                    }
                    if !gs.contains(&ix) {
                        gs.push(ix);
                    }
                }
                usage += it.usage as f64;
                max_member_use = max_member_use.max(it.usage);
            }
            let mut cap = cap_forms;
            if let Some(m) = bp.max_usage {
                cap = cap.min(m.saturating_sub(max_member_use));
            }
            if cap == 0 {
                continue;
            }
            let types: Vec<(usize, u32)> = types.into_iter().collect();
            let next = by_sig.len();
            let sig = *sigs.entry(types.clone()).or_insert(next);
            if sig == next {
                by_sig.push(Vec::new());
            }
            let u = units.len();
            by_sig[sig].push(u);
            units.push(Unit {
                size: members.len() as u32,
                penalty: usage / members.len() as f64 / max_use,
                items: members,
                types,
                cells: cells.into_iter().collect(),
                cell_types: cell_types
                    .into_iter()
                    .map(|((c, t), k)| (c, t, k))
                    .collect(),
                diff,
                time,
                info,
                groups: gs,
                cap,
                sig,
            });
        }
        let defaulted = [
            pool.iter()
                .filter(|p| type_of.contains_key(&p.kind) && p.difficulty.is_none())
                .count(),
            pool.iter()
                .filter(|p| type_of.contains_key(&p.kind) && p.irt.is_none())
                .count(),
            pool.iter()
                .filter(|p| type_of.contains_key(&p.kind) && p.time_seconds.is_none())
                .count(),
        ];
        if defaulted[0] > 0 {
            warnings.push(AssemblyWarning::new(
                "difficulty_defaulted",
                defaulted[0],
                format!(
                    "{} items have no rated difficulty and count as 3 (medium)",
                    defaulted[0]
                ),
                format!("{} 道题目未标难度，按 3（中等）计", defaulted[0]),
            ));
        }
        if defaulted[1] > 0 {
            warnings.push(AssemblyWarning::new(
                "irt_derived",
                defaulted[1],
                format!(
                    "{} items are not calibrated: their information is derived from the rated difficulty (a = 1, b = difficulty − 3)",
                    defaulted[1]
                ),
                format!(
                    "{} 道题目未经标定，信息量按标注难度推算（a = 1，b = 难度 − 3）",
                    defaulted[1]
                ),
            ));
        }
        if defaulted[2] > 0 {
            warnings.push(AssemblyWarning::new(
                "time_defaulted",
                defaulted[2],
                format!(
                    "{} items have no expected time and count with the default for their type",
                    defaulted[2]
                ),
                format!("{} 道题目未标预计用时，按题型默认用时计", defaulted[2]),
            ));
        }
        let diff_sum = bp
            .difficulty
            .map(|d| (d.min_mean * n as f64, d.max_mean * n as f64));
        Model {
            forms,
            theta: bp.theta.clone(),
            kinds,
            type_need: bp.types.iter().map(|t| t.count).collect(),
            cell_min: bp.cells.iter().map(|c| c.min_items).collect(),
            cell_max: bp.cells.iter().map(|c| c.max_items).collect(),
            items_per_form: n,
            diff_sum,
            time_limit: bp.time_limit_minutes as f64 * 60.0,
            units,
            groups,
            cells_disjoint: disjoint,
            by_sig,
            excluded,
        }
    }

    /// The same blueprint over fewer forms and a subset of the units (in the given order),
    /// each with the cap it has left; for re-optimizing a few forms while the rest stay.
    pub fn restricted(&self, units: &[usize], forms: usize, caps: &[u32]) -> Model {
        let mut sub = Model {
            forms,
            theta: self.theta.clone(),
            kinds: self.kinds.clone(),
            type_need: self.type_need.clone(),
            cell_min: self.cell_min.clone(),
            cell_max: self.cell_max.clone(),
            items_per_form: self.items_per_form,
            diff_sum: self.diff_sum,
            time_limit: self.time_limit,
            units: Vec::with_capacity(units.len()),
            groups: self.groups.clone(),
            cells_disjoint: self.cells_disjoint,
            by_sig: vec![Vec::new(); self.by_sig.len()],
            excluded: Vec::new(),
        };
        for (i, (&u, &cap)) in units.iter().zip(caps).enumerate() {
            let mut un = self.units[u].clone();
            un.cap = cap;
            sub.by_sig[un.sig].push(i);
            sub.units.push(un);
        }
        sub
    }

    pub fn n_cells(&self) -> usize {
        self.cell_min.len()
    }

    pub fn n_types(&self) -> usize {
        self.kinds.len()
    }

    /// Information of a form (a set of units) at each θ point.
    pub fn form_info(&self, form: &[usize]) -> Vec<f64> {
        let mut v = vec![0.0; self.theta.len()];
        for &u in form {
            for (k, x) in self.units[u].info.iter().enumerate() {
                v[k] += x;
            }
        }
        v
    }

    /// The smallest information over forms and θ points (the maximin objective).
    pub fn objective(&self, forms: &[Vec<usize>]) -> f64 {
        forms
            .iter()
            .flat_map(|f| self.form_info(f))
            .fold(f64::INFINITY, f64::min)
    }

    /// What a set of forms breaks, in words (empty: all hard constraints hold).
    pub fn violations(&self, forms: &[Vec<usize>]) -> Vec<String> {
        let mut out = Vec::new();
        if forms.len() != self.forms {
            out.push(format!("{} forms instead of {}", forms.len(), self.forms));
        }
        let mut uses = vec![0u32; self.units.len()];
        for (f, form) in forms.iter().enumerate() {
            let mut types = vec![0u32; self.n_types()];
            let mut cells = vec![0u32; self.n_cells()];
            let (mut d, mut t) = (0.0, 0.0);
            let mut groups: HashMap<usize, u32> = HashMap::new();
            let mut seen = std::collections::HashSet::new();
            for &u in form {
                if !seen.insert(u) {
                    out.push(format!("form {}: unit {u} twice", f + 1));
                }
                uses[u] += 1;
                let un = &self.units[u];
                for &(k, c) in &un.types {
                    types[k] += c;
                }
                for &(k, c) in &un.cells {
                    cells[k] += c;
                }
                d += un.diff;
                t += un.time;
                for &g in &un.groups {
                    *groups.entry(g).or_default() += 1;
                }
            }
            for (k, &have) in types.iter().enumerate() {
                if have != self.type_need[k] {
                    out.push(format!(
                        "form {}: {have} {} items instead of {}",
                        f + 1,
                        self.kinds[k].as_str(),
                        self.type_need[k]
                    ));
                }
            }
            for (c, &have) in cells.iter().enumerate() {
                if have < self.cell_min[c] || have > self.cell_max[c] {
                    out.push(format!(
                        "form {}: cell {c} has {have} items, outside {}–{}",
                        f + 1,
                        self.cell_min[c],
                        self.cell_max[c]
                    ));
                }
            }
            if let Some((lo, hi)) = self.diff_sum
                && (d < lo - TOL || d > hi + TOL)
            {
                out.push(format!(
                    "form {}: difficulty sum {d} outside {lo}–{hi}",
                    f + 1
                ));
            }
            if t > self.time_limit + TOL {
                out.push(format!(
                    "form {}: {t} s over the limit {}",
                    f + 1,
                    self.time_limit
                ));
            }
            for (g, c) in groups {
                if c > 1 {
                    out.push(format!(
                        "form {}: {c} items of enemy group {}",
                        f + 1,
                        self.groups[g]
                    ));
                }
            }
        }
        for (u, &c) in uses.iter().enumerate() {
            if c > self.units[u].cap {
                out.push(format!(
                    "unit {u} in {c} forms, more than {}",
                    self.units[u].cap
                ));
            }
        }
        out
    }
}
