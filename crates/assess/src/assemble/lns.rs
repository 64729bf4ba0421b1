//! Large-neighbourhood search with the MIP solver (成对再优化): when the full model is too
//! big to solve in the time, keep all forms but two fixed — the weakest and a partner —
//! and let the solver re-assemble those two from their own units plus the unused units
//! that are best at each θ point, maximizing the weaker of the two. The weakest form's
//! information can only rise; the other forms are untouched, so every hard constraint
//! still holds (each subproblem is the same model over two forms, checked again after).

use super::mip::{self, Engine, MipRequest};
use super::model::Model;
use std::time::Instant;

pub(crate) struct LnsReport {
    /// Subproblems solved, and how many of them raised the pair's weaker form.
    pub solved: usize,
    pub improved: usize,
    /// Solver failures (time limits without a solution, errors), first few kept.
    pub failures: Vec<String>,
}

/// Free units kept per (type signature, cell) and θ point in a subproblem.
const PER_RANK: usize = 12;

/// Improve `forms` in place until `target`, the deadline, or no pair can be improved.
pub(crate) fn improve(
    engine: Engine,
    m: &Model,
    forms: &mut [Vec<usize>],
    target: f64,
    deadline: Instant,
    per_subproblem: f64,
    threads: Option<u32>,
) -> LnsReport {
    let mut rep = LnsReport {
        solved: 0,
        improved: 0,
        failures: Vec::new(),
    };
    if forms.len() < 2 {
        return rep;
    }
    let min_of = |f: &[usize]| m.form_info(f).into_iter().fold(f64::INFINITY, f64::min);
    // Pairs (weakest, partner) that could not be improved since the forms last changed.
    let mut tried: std::collections::HashSet<(usize, usize)> = Default::default();
    loop {
        let mins: Vec<f64> = forms.iter().map(|f| min_of(f)).collect();
        let objective = mins.iter().copied().fold(f64::INFINITY, f64::min);
        if objective >= target || Instant::now() >= deadline {
            return rep;
        }
        let w = (0..forms.len())
            .min_by(|&a, &b| mins[a].total_cmp(&mins[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        let mut partners: Vec<usize> = (0..forms.len()).filter(|&g| g != w).collect();
        partners.sort_by(|&a, &b| mins[b].total_cmp(&mins[a]).then(a.cmp(&b)));
        let mut changed = false;
        for g in partners {
            if tried.contains(&(w, g)) {
                continue;
            }
            let left = deadline
                .saturating_duration_since(Instant::now())
                .as_secs_f64();
            if left <= 0.01 {
                return rep;
            }
            tried.insert((w, g));
            let (units, caps, warm) = neighbourhood(m, forms, w, g);
            let sub = m.restricted(&units, 2, &caps);
            let req = MipRequest {
                m: &sub,
                warm: Some(&warm),
                time_limit: left.min(per_subproblem),
                gap: 5e-4,
                y_max: f64::INFINITY,
                threads,
            };
            rep.solved += 1;
            match mip::solve(engine, &req) {
                Ok(out) if sub.violations(&out.forms).is_empty() => {
                    let pair_before = mins[w].min(mins[g]);
                    let back: Vec<Vec<usize>> = out
                        .forms
                        .iter()
                        .map(|f| f.iter().map(|&i| units[i]).collect())
                        .collect();
                    let pair_after = min_of(&back[0]).min(min_of(&back[1]));
                    if pair_after > pair_before + 1e-9 * (1.0 + pair_before.abs()) {
                        forms[w] = back[0].clone();
                        forms[g] = back[1].clone();
                        rep.improved += 1;
                        tried.clear();
                        changed = true;
                        break;
                    }
                }
                Ok(_) => rep
                    .failures
                    .push("a subproblem solution broke a constraint on checking".into()),
                Err(e) => {
                    if rep.failures.len() < 5 {
                        rep.failures.push(format!("{e:?}"));
                    }
                }
            }
        }
        if !changed {
            return rep;
        }
    }
}

/// The units of forms `w` and `g`, plus the unused units best at each θ point per type
/// signature and cell, with the caps they have left once the other forms are counted; and the two
/// forms in the subproblem's numbering.
fn neighbourhood(
    m: &Model,
    forms: &[Vec<usize>],
    w: usize,
    g: usize,
) -> (Vec<usize>, Vec<u32>, Vec<Vec<usize>>) {
    let mut outside = vec![0u32; m.units.len()];
    let mut inside = vec![false; m.units.len()];
    for (f, form) in forms.iter().enumerate() {
        for &u in form {
            if f == w || f == g {
                inside[u] = true;
            } else {
                outside[u] += 1;
            }
        }
    }
    let mut chosen = inside.clone();
    // Groups of interchangeable units: same type signature and same first cell.
    let mut groups: std::collections::BTreeMap<(usize, usize), Vec<usize>> = Default::default();
    for (u, un) in m.units.iter().enumerate() {
        if !inside[u] && outside[u] < un.cap {
            let cell = un.cells.first().map_or(usize::MAX, |c| c.0);
            groups.entry((un.sig, cell)).or_default().push(u);
        }
    }
    for us in groups.values() {
        for k in 0..m.theta.len() {
            let mut free: Vec<usize> = us.iter().copied().filter(|&u| !chosen[u]).collect();
            free.sort_by(|&a, &b| {
                m.units[b].info[k]
                    .total_cmp(&m.units[a].info[k])
                    .then(a.cmp(&b))
            });
            for u in free.into_iter().take(PER_RANK) {
                chosen[u] = true;
            }
        }
    }
    let units: Vec<usize> = (0..m.units.len()).filter(|&u| chosen[u]).collect();
    let caps: Vec<u32> = units
        .iter()
        .map(|&u| (m.units[u].cap - outside[u]).min(2))
        .collect();
    let index: std::collections::HashMap<usize, usize> =
        units.iter().enumerate().map(|(i, &u)| (u, i)).collect();
    let warm = [w, g]
        .iter()
        .map(|&f| forms[f].iter().map(|u| index[u]).collect())
        .collect();
    (units, caps, warm)
}
