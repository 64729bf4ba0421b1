//! The mixed-integer model (混合整数规划), built once through good_lp and handed to
//! microlp or HiGHS.
//!
//! x[u,f] ∈ {0,1}: unit u (an item or a whole testlet) is in form f; y ≥ 0 the weakest
//! form's information. Per form f:
//! - Σ_u types(u,t)·x[u,f] = n_t for every type t (exact counts);
//! - min_c ≤ Σ_u cells(u,c)·x[u,f] ≤ max_c for every cell;
//! - n·d_min ≤ Σ_u diff(u)·x[u,f] ≤ n·d_max (the mean difficulty band, linear in the sum);
//! - Σ_u time(u)·x[u,f] ≤ the time limit;
//! - Σ_{u ∈ g} x[u,f] ≤ 1 for every enemy group g;
//! - Σ_u I_u(θ_k)·x[u,f] ≥ y for every θ point k (maximin);
//!
//! and Σ_f x[u,f] ≤ cap_u (1 without overlap; k with overlap; less under the exposure
//! cap). Testlets are all-or-none because a testlet is one unit. Objective:
//! maximize y − ε·Σ penalty(u)·x[u,f], ε small enough that the usage term totals at most
//! 10⁻⁴ of the bound (it only breaks ties towards less-used items).
//!
//! Symmetry: forms are interchangeable, so without overlap one may number them by their
//! lowest unit; then unit u can only be in forms 0 … u, and x[u,f] for f > u is left out.

use super::model::Model;
use good_lp::{Expression, ProblemVariables, Variable, variable};

/// Which MIP solver runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Microlp,
    #[cfg(feature = "highs")]
    Highs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MipStatus {
    Optimal,
    GapReached,
    TimeLimit,
}

#[derive(Debug)]
pub(crate) enum MipError {
    Infeasible,
    /// The limit came before the solver had any solution (e.g. still in the root LP).
    NoSolution(String),
    Solver(String),
}

pub(crate) struct MipOutcome {
    pub forms: Vec<Vec<usize>>,
    pub status: MipStatus,
    /// The solver's bound on y (adjusted for the usage term), if it reports one.
    pub bound: Option<f64>,
}

pub(crate) struct MipRequest<'a> {
    pub m: &'a Model,
    pub warm: Option<&'a [Vec<usize>]>,
    pub time_limit: f64,
    pub gap: f64,
    /// Upper bound on y (the relaxation's), to tighten the model.
    pub y_max: f64,
    #[cfg_attr(not(feature = "highs"), allow(dead_code))]
    pub threads: Option<u32>,
}

struct Built {
    vars: ProblemVariables,
    objective: Expression,
    constraints: Vec<good_lp::Constraint>,
    /// (unit, form) of each x, in creation order (the column order).
    xs: Vec<(usize, usize, Variable)>,
    y: Variable,
    /// The warm start, in creation order, when given.
    start: Option<Vec<f64>>,
    /// Largest value the usage term can take (to turn the solver's bound into one on y).
    eps_total: f64,
}

fn build(req: &MipRequest<'_>) -> Built {
    let m = req.m;
    let nf = m.forms;
    let symmetric = m.units.iter().all(|u| u.cap == 1);
    let mut vars = ProblemVariables::new();
    let mut x: Vec<Vec<Option<Variable>>> = vec![vec![None; nf]; m.units.len()];
    let mut xs = Vec::new();
    for (u, row) in x.iter_mut().enumerate() {
        for (f, slot) in row.iter_mut().enumerate() {
            if symmetric && f > u {
                continue;
            }
            let v = vars.add(variable().binary());
            *slot = Some(v);
            xs.push((u, f, v));
        }
    }
    let y_max = if req.y_max.is_finite() && req.y_max > 0.0 {
        req.y_max * (1.0 + 1e-6) + 1e-9
    } else {
        f64::INFINITY
    };
    let y = vars.add(variable().min(0.0).max(y_max));
    let has_pen = m.units.iter().any(|u| u.penalty > 0.0);
    let scale = if y_max.is_finite() { y_max } else { 1.0 };
    let eps = if has_pen {
        1e-4 * scale / (nf as f64 * m.items_per_form as f64)
    } else {
        0.0
    };
    let mut objective: Expression = y.into();
    if eps > 0.0 {
        for &(u, _, v) in &xs {
            let p = m.units[u].penalty;
            if p > 0.0 {
                objective.add_mul(-eps * p, v);
            }
        }
    }
    let mut cons = Vec::new();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); m.groups.len()];
    for (u, un) in m.units.iter().enumerate() {
        for &g in &un.groups {
            members[g].push(u);
        }
    }
    for f in 0..nf {
        let col = |u: usize| x[u].get(f).copied().flatten();
        let mut types: Vec<Expression> = vec![Expression::default(); m.n_types()];
        let mut cells: Vec<Expression> = vec![Expression::default(); m.n_cells()];
        let mut diff = Expression::default();
        let mut time = Expression::default();
        let mut info: Vec<Expression> = vec![Expression::default(); m.theta.len()];
        for (u, un) in m.units.iter().enumerate() {
            let Some(v) = col(u) else { continue };
            for &(t, k) in &un.types {
                types[t].add_mul(k as f64, v);
            }
            for &(c, k) in &un.cells {
                cells[c].add_mul(k as f64, v);
            }
            diff.add_mul(un.diff, v);
            time.add_mul(un.time, v);
            for (k, i) in un.info.iter().enumerate() {
                info[k].add_mul(*i, v);
            }
        }
        for (t, e) in types.into_iter().enumerate() {
            cons.push(e.eq(m.type_need[t] as f64));
        }
        for (c, e) in cells.into_iter().enumerate() {
            if m.cell_min[c] == m.cell_max[c] {
                cons.push(e.eq(m.cell_min[c] as f64));
            } else {
                cons.push(e.clone().geq(m.cell_min[c] as f64));
                cons.push(e.leq(m.cell_max[c] as f64));
            }
        }
        if let Some((lo, hi)) = m.diff_sum {
            cons.push(diff.clone().geq(lo));
            cons.push(diff.leq(hi));
        }
        cons.push(time.leq(m.time_limit));
        for us in &members {
            let vs: Vec<Variable> = us.iter().filter_map(|&u| col(u)).collect();
            if vs.len() > 1 {
                let mut e = Expression::default();
                for v in vs {
                    e.add_mul(1.0, v);
                }
                cons.push(e.leq(1.0));
            }
        }
        for e in info {
            cons.push((e - y).geq(0.0));
        }
    }
    for (u, row) in x.iter().enumerate() {
        let vs: Vec<Variable> = row.iter().flatten().copied().collect();
        if vs.len() as u32 > m.units[u].cap {
            let mut e = Expression::default();
            for v in vs {
                e.add_mul(1.0, v);
            }
            cons.push(e.leq(m.units[u].cap as f64));
        }
    }
    let start = req.warm.and_then(|forms| {
        let forms = if symmetric {
            renumber(forms)
        } else {
            forms.to_vec()
        };
        let mut on = vec![vec![false; nf]; m.units.len()];
        for (f, form) in forms.iter().enumerate() {
            for &u in form {
                x[u][f]?;
                on[u][f] = true;
            }
        }
        let mut vals: Vec<f64> = xs
            .iter()
            .map(|&(u, f, _)| if on[u][f] { 1.0 } else { 0.0 })
            .collect();
        let yv = m.objective(&forms);
        vals.push((yv - 1e-7 * (1.0 + yv.abs())).clamp(0.0, y_max));
        Some(vals)
    });
    let eps_total = eps * (nf as f64) * m.items_per_form as f64;
    Built {
        vars,
        objective,
        constraints: cons,
        xs,
        y,
        start,
        eps_total,
    }
}

/// Number forms by their lowest unit, as the symmetry cut expects.
fn renumber(forms: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut v = forms.to_vec();
    v.sort_by_key(|f| f.iter().copied().min().unwrap_or(usize::MAX));
    v
}

fn forms_from(
    m: &Model,
    xs: &[(usize, usize, Variable)],
    value: impl Fn(usize) -> f64,
) -> Vec<Vec<usize>> {
    let mut forms = vec![Vec::new(); m.forms];
    for (j, &(u, f, _)) in xs.iter().enumerate() {
        if value(j) > 0.5 {
            forms[f].push(u);
        }
    }
    forms
}

pub(crate) fn solve(engine: Engine, req: &MipRequest<'_>) -> Result<MipOutcome, MipError> {
    let b = build(req);
    match engine {
        Engine::Microlp => solve_microlp(req, b),
        #[cfg(feature = "highs")]
        Engine::Highs => solve_highs(req, b),
    }
}

fn solve_microlp(req: &MipRequest<'_>, b: Built) -> Result<MipOutcome, MipError> {
    use good_lp::solvers::microlp::microlp;
    use good_lp::{
        ResolutionError, Solution, SolverModel, WithInitialSolution, WithMipGap, WithTimeLimit,
    };
    let Built {
        vars,
        objective,
        constraints,
        xs,
        y,
        start,
        eps_total,
    } = b;
    let mut model = vars
        .maximise(objective)
        .using(microlp)
        .with_time_limit(req.time_limit.max(0.001));
    if req.gap > 0.0 {
        model = model
            .with_mip_gap(req.gap as f32)
            .map_err(|e| MipError::Solver(e.to_string()))?;
    }
    if let Some(vals) = start {
        let mut pairs: Vec<(Variable, f64)> = xs
            .iter()
            .zip(&vals)
            .map(|(&(_, _, v), &x)| (v, x))
            .collect();
        pairs.push((y, *vals.last().expect("y value")));
        model = model.with_initial_solution(pairs);
    }
    for c in constraints {
        model.add_constraint(c);
    }
    let sol = match model.solve() {
        Ok(s) => s,
        Err(ResolutionError::Infeasible) => return Err(MipError::Infeasible),
        Err(ResolutionError::Other(s)) if s.contains("Time limit") => {
            return Err(MipError::NoSolution(s.to_string()));
        }
        Err(e) => return Err(MipError::Solver(e.to_string())),
    };
    let values: Vec<f64> = xs.iter().map(|&(_, _, v)| sol.value(v)).collect();
    let forms = forms_from(req.m, &xs, |j| values[j]);
    let inner = sol.into_inner();
    let status = match inner.termination_reason() {
        microlp_reason::ProvenOptimal => MipStatus::Optimal,
        microlp_reason::MipGap => MipStatus::GapReached,
        _ => MipStatus::TimeLimit,
    };
    let bound = inner.stats().best_bound.map(|bb| bb + eps_total);
    Ok(MipOutcome {
        forms,
        status,
        bound,
    })
}

/// microlp's termination reasons, reached through good_lp's re-export of the solution.
mod microlp_reason {
    pub use microlp::TerminationReason::{MipGap, ProvenOptimal};
}

#[cfg(feature = "highs")]
fn solve_highs(req: &MipRequest<'_>, b: Built) -> Result<MipOutcome, MipError> {
    use good_lp::SolverModel;
    use good_lp::solvers::highs::highs;
    use highs::{HighsModelStatus, HighsSolutionStatus};
    let Built {
        vars,
        objective,
        constraints,
        xs,
        start,
        eps_total,
        ..
    } = b;
    let mut problem = vars.maximise(objective).using(highs);
    for c in constraints {
        problem.add_constraint(c);
    }
    let mut model = problem
        .try_into_inner()
        .map_err(|e| MipError::Solver(e.to_string()))?;
    model.make_quiet();
    let opt = |model: &mut highs::Model, k: &str, r: Result<(), highs::TrySetOptionError>| {
        r.map_err(|e| MipError::Solver(format!("HiGHS option {k}: {e:?}")))
            .map(|_| model)
            .map(|_| ())
    };
    let r = model.try_set_option("time_limit", req.time_limit.max(0.001));
    opt(&mut model, "time_limit", r)?;
    let r = model.try_set_option("mip_rel_gap", req.gap.max(0.0));
    opt(&mut model, "mip_rel_gap", r)?;
    if let Some(t) = req.threads {
        let r = model.try_set_option("threads", t.max(1) as i32);
        opt(&mut model, "threads", r)?;
    }
    if let Some(vals) = &start {
        model
            .try_set_solution(Some(vals), None, None, None)
            .map_err(|e| MipError::Solver(format!("HiGHS warm start: {e:?}")))?;
    }
    let solved = model
        .try_solve()
        .map_err(|e| MipError::Solver(format!("HiGHS: {e:?}")))?;
    let status = match solved.status() {
        HighsModelStatus::Infeasible | HighsModelStatus::UnboundedOrInfeasible => {
            return Err(MipError::Infeasible);
        }
        HighsModelStatus::Optimal => {
            if solved.mip_gap() > 1e-9 {
                MipStatus::GapReached
            } else {
                MipStatus::Optimal
            }
        }
        HighsModelStatus::ReachedTimeLimit
        | HighsModelStatus::ReachedIterationLimit
        | HighsModelStatus::ReachedSolutionLimit
        | HighsModelStatus::ReachedInterrupt => MipStatus::TimeLimit,
        other => return Err(MipError::Solver(format!("HiGHS status {other:?}"))),
    };
    if solved.primal_solution_status() != HighsSolutionStatus::Feasible {
        return Err(MipError::NoSolution(
            "HiGHS stopped before finding a solution".into(),
        ));
    }
    let cols = solved.get_solution().columns().to_vec();
    let forms = forms_from(req.m, &xs, |j| cols[j]);
    let bound = solved
        .double_info_value(c"mip_dual_bound")
        .ok()
        .filter(|b| b.is_finite())
        .map(|b| b + eps_total);
    Ok(MipOutcome {
        forms,
        status,
        bound,
    })
}
