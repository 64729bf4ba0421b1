//! The aggregated linear relaxation (汇总线性松弛): one variable per unit, z_u = the number
//! of forms it joins, relaxed to 0 ≤ z_u ≤ cap_u, with every per-form constraint summed
//! over the forms. Forms are interchangeable, so any relaxed solution z of this model
//! gives the relaxed per-form solution x_uf = z_u / F, and any relaxed per-form solution
//! sums to a z: the two relaxations have the same optimum. It gives the upper bound the
//! gap is measured against, and the exact reachable ranges of difficulty and time that
//! the diagnosis reports. Solved with microlp (pure Rust) whatever MIP solver is chosen.

use super::model::Model;
use good_lp::{
    Expression, ProblemVariables, ResolutionError, SolverModel, Variable, microlp, variable,
};

/// What the relaxation optimizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goal {
    /// Largest y with every θ point's summed information ≥ F·y.
    MaxInfo,
    /// Smallest / largest summed rated difficulty.
    MinDiff,
    MaxDiff,
    /// Smallest summed expected time.
    MinTime,
}

/// Which constraint groups beyond the type and cell counts (always on) to include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parts {
    pub difficulty: bool,
    pub time: bool,
    pub enemies: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        difficulty: true,
        time: true,
        enemies: true,
    };
    pub const COUNTS: Parts = Parts {
        difficulty: false,
        time: false,
        enemies: false,
    };
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LpError {
    Infeasible,
    Solver(String),
}

/// The optimum of the aggregated relaxation for `goal`, over all forms together (for the
/// difficulty and time goals: the sum over all F forms).
pub(crate) fn aggregate(m: &Model, goal: Goal, parts: Parts) -> Result<f64, LpError> {
    let f = m.forms as f64;
    let mut vars = ProblemVariables::new();
    let z: Vec<Variable> = m
        .units
        .iter()
        .map(|u| vars.add(variable().min(0.0).max(u.cap.min(m.forms as u32) as f64)))
        .collect();
    let y = (goal == Goal::MaxInfo).then(|| vars.add(variable().min(0.0)));
    let lin = |w: &dyn Fn(usize) -> f64| -> Expression {
        let mut e = Expression::with_capacity(z.len());
        for (u, v) in z.iter().enumerate() {
            let c = w(u);
            if c != 0.0 {
                e.add_mul(c, *v);
            }
        }
        e
    };
    let diff = lin(&|u| m.units[u].diff);
    let time = lin(&|u| m.units[u].time);
    let mut cons = Vec::new();
    for t in 0..m.n_types() {
        let e = lin(&|u| count(&m.units[u].types, t));
        cons.push(e.eq(f * m.type_need[t] as f64));
    }
    for c in 0..m.n_cells() {
        let e = lin(&|u| count(&m.units[u].cells, c));
        cons.push(e.clone().geq(f * m.cell_min[c] as f64));
        cons.push(e.leq(f * m.cell_max[c] as f64));
    }
    if parts.difficulty
        && let Some((lo, hi)) = m.diff_sum
    {
        cons.push(diff.clone().geq(f * lo));
        cons.push(diff.clone().leq(f * hi));
    }
    if parts.time {
        cons.push(time.clone().leq(f * m.time_limit));
    }
    if parts.enemies {
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); m.groups.len()];
        for (u, un) in m.units.iter().enumerate() {
            for &g in &un.groups {
                members[g].push(u);
            }
        }
        for us in members {
            let total: u32 = us.iter().map(|&u| m.units[u].cap.min(m.forms as u32)).sum();
            if total as usize > m.forms {
                let mut e = Expression::with_capacity(us.len());
                for u in us {
                    e.add_mul(1.0, z[u]);
                }
                cons.push(e.leq(f));
            }
        }
    }
    if let Some(y) = y {
        for k in 0..m.theta.len() {
            let e = lin(&|u| m.units[u].info[k]);
            cons.push((e - f * y).geq(0.0));
        }
    }
    let objective: Expression = match goal {
        Goal::MaxInfo => y.expect("y").into(),
        Goal::MinDiff | Goal::MaxDiff => diff.clone(),
        Goal::MinTime => time.clone(),
    };
    let problem = match goal {
        Goal::MaxInfo | Goal::MaxDiff => vars.maximise(objective.clone()),
        Goal::MinDiff | Goal::MinTime => vars.minimise(objective.clone()),
    };
    let mut model = problem.using(microlp);
    for c in cons {
        model.add_constraint(c);
    }
    match model.solve() {
        Ok(sol) => Ok(objective.eval_with(&sol)),
        Err(ResolutionError::Infeasible) => Err(LpError::Infeasible),
        Err(e) => Err(LpError::Solver(e.to_string())),
    }
}

pub(crate) fn count(sparse: &[(usize, u32)], k: usize) -> f64 {
    sparse
        .iter()
        .find(|(i, _)| *i == k)
        .map_or(0.0, |(_, c)| *c as f64)
}
