//! Paper assembly (组卷) from a blueprint: parallel forms (平行试卷) drawn from a pool of
//! approved items so that every form meets the blueprint's type counts, cell (work area or
//! task) counts, difficulty band, time limit, enemy groups, testlets, overlap rule and
//! exposure cap, while the weakest form's test information at the blueprint's θ points is
//! as large as possible (maximin, 2PL Fisher information).
//!
//! [`assemble`] runs, within one time limit:
//! 1. [`diagnose`]: an impossible blueprint gets a table of [`Shortage`]s, not a solver
//!    failure; a feasible one gets the aggregated linear-relaxation bound (`lp.rs`);
//! 2. the seeded heuristic (`heuristic.rs`), which stops as soon as it is within the asked
//!    gap of that bound — for the sizes of a certificate's bank this usually ends the run;
//! 3. otherwise (or when asked) the MIP solver, microlp or HiGHS with the `highs` feature,
//!    warm-started from the heuristic: on the full model (`mip.rs`) when it has at most
//!    [`FULL_MODEL_MAX_VARS`] variables, else on pairs of forms (`lns.rs`). The best
//!    forms found so far come back when the time is up, with status, bound and gap.

mod diagnose;
mod heuristic;
mod lns;
mod lp;
mod mip;
mod model;
mod pool;

pub use diagnose::{Shortage, ShortageKind};
pub use pool::{DEFAULT_DIFFICULTY, Irt2pl, PoolItem, default_seconds, validate_pool};

use crate::blueprint::Blueprint;
use crate::item::ItemKind;
use model::Model;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use xcert_domain::FieldError;

/// Which engine assembles the forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolverChoice {
    /// The heuristic alone: an instant preview, gap against the relaxation bound.
    Heuristic,
    /// microlp, pure Rust branch and bound (always compiled in).
    Microlp,
    /// HiGHS (only with the `highs` feature).
    Highs,
}

impl SolverChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            SolverChoice::Heuristic => "heuristic",
            SolverChoice::Microlp => "microlp",
            SolverChoice::Highs => "highs",
        }
    }

    /// Compiled into this build.
    pub fn is_available(self) -> bool {
        match self {
            SolverChoice::Heuristic | SolverChoice::Microlp => true,
            SolverChoice::Highs => cfg!(feature = "highs"),
        }
    }

    /// The engines this build offers, for a selection list.
    pub fn available() -> Vec<SolverChoice> {
        [
            SolverChoice::Heuristic,
            SolverChoice::Microlp,
            SolverChoice::Highs,
        ]
        .into_iter()
        .filter(|s| s.is_available())
        .collect()
    }

    /// Parse a run-time choice ("heuristic", "microlp", "highs"); an engine not compiled
    /// in is an error that says so.
    pub fn parse(field: &str, s: &str) -> Result<SolverChoice, FieldError> {
        let c = match s.trim().to_lowercase().as_str() {
            "heuristic" | "preview" | "启发式" => SolverChoice::Heuristic,
            "microlp" => SolverChoice::Microlp,
            "highs" => SolverChoice::Highs,
            other => {
                return Err(FieldError::new(
                    field,
                    "bad_solver",
                    format!("unknown solver \"{other}\": use heuristic, microlp or highs"),
                    format!("无法识别的求解器“{other}”：应为 heuristic、microlp 或 highs"),
                ));
            }
        };
        if !c.is_available() {
            return Err(FieldError::new(
                field,
                "solver_unavailable",
                "this build has no HiGHS (build with the `highs` feature); use microlp",
                "此版本未编译 HiGHS（需启用 highs 特性），请使用 microlp",
            ));
        }
        Ok(c)
    }
}

/// How to run an assembly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssemblyOptions {
    pub solver: SolverChoice,
    /// Wall-clock budget for the whole assembly (diagnosis, heuristic, solver).
    pub time_limit: Duration,
    /// Stop once the relative gap (bound − objective) / objective is at most this.
    pub mip_gap: f64,
    /// Seed of the heuristic's random moves: same seed, same forms (within the time).
    pub seed: u64,
    /// Perturbation rounds of the heuristic's iterated local search.
    pub heuristic_rounds: u32,
    /// Threads for HiGHS (None: its default).
    pub threads: Option<u32>,
    /// Run the MIP solver even when the heuristic is already within `mip_gap` of the
    /// relaxation bound (to prove optimality or to compare solvers).
    #[serde(default)]
    pub always_solve: bool,
    /// Start the MIP solver from the heuristic's forms. Off: the solver starts cold and
    /// the heuristic does not run (for comparing solvers; no fallback if it finds nothing).
    #[serde(default = "yes")]
    pub warm_start: bool,
    /// Which model the MIP solver gets.
    #[serde(default)]
    pub mip_model: MipModel,
}

/// Full models up to this many x[u,f] variables go to the solver whole ([`MipModel::Auto`]).
pub const FULL_MODEL_MAX_VARS: usize = 2500;

/// The model the MIP solver works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MipModel {
    /// The full model up to [`FULL_MODEL_MAX_VARS`] variables, pairs of forms above.
    #[default]
    Auto,
    /// All forms at once (can prove optimality; slow for large pools).
    Full,
    /// Two forms at a time, the weakest and a partner, the others fixed (see `lns.rs`).
    Pairs,
}

/// What produced the returned forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The heuristic alone (it met the gap, or only it was asked for).
    Heuristic,
    /// The MIP solver on the full model, warm-started by the heuristic.
    FullMip,
    /// The MIP solver on pairs of forms (large-neighbourhood search).
    PairSearch,
}

fn yes() -> bool {
    true
}

impl Default for AssemblyOptions {
    fn default() -> Self {
        AssemblyOptions {
            solver: SolverChoice::Microlp,
            time_limit: Duration::from_secs(30),
            mip_gap: 0.01,
            seed: 1,
            heuristic_rounds: 2000,
            threads: None,
            always_solve: false,
            warm_start: true,
            mip_model: MipModel::Auto,
        }
    }
}

/// How good the returned forms are known to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssemblyStatus {
    /// The objective meets the bound: no better forms exist (最优).
    Optimal,
    /// Within the asked relative gap of the bound.
    WithinGap,
    /// The time limit ended the search; the best forms found, with their gap.
    TimeLimit,
    /// Only the heuristic ran (a preview); the gap is against the relaxation bound.
    Heuristic,
}

/// Something the user should know about an assembly that did not stop it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssemblyWarning {
    pub code: String,
    /// Items concerned (0 when not a count).
    pub count: usize,
    pub en: String,
    pub zh: String,
}

impl AssemblyWarning {
    pub(crate) fn new(
        code: &str,
        count: usize,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        AssemblyWarning {
            code: code.to_string(),
            count,
            en: en.into(),
            zh: zh.into(),
        }
    }
}

/// A blueprint cell beside what a form holds of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellTally {
    pub code: String,
    pub title: String,
    pub min_items: u32,
    pub max_items: u32,
    pub assembled: u32,
}

/// A blueprint type quota beside what a form holds of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeTally {
    pub kind: ItemKind,
    pub wanted: u32,
    pub assembled: u32,
    pub points_each: f64,
    pub points: f64,
}

/// What an assembled form holds, for a blueprint-beside-form view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormStats {
    pub items: u32,
    pub points: f64,
    pub mean_difficulty: f64,
    pub expected_minutes: f64,
    /// Test information at each of the blueprint's θ points, in its order.
    pub information: Vec<f64>,
    pub per_cell: Vec<CellTally>,
    pub per_type: Vec<TypeTally>,
    /// Items whose difficulty, IRT parameters or time were defaulted.
    pub defaulted_difficulty: u32,
    pub derived_irt: u32,
    pub defaulted_time: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssembledForm {
    /// 1-based form number (A卷 = 1, B卷 = 2, …).
    pub number: u32,
    /// Item ids in the order of the paper: by type in the blueprint's order, then by cell,
    /// a testlet's items together.
    pub items: Vec<i64>,
    pub stats: FormStats,
}

/// The outcome of an assembly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assembly {
    pub forms: Vec<AssembledForm>,
    pub status: AssemblyStatus,
    /// The weakest form's information at its weakest θ point.
    pub objective: f64,
    /// Proven upper bound on that objective: the lower of the linear-relaxation bound
    /// and the MIP solver's best bound.
    pub bound: f64,
    /// (bound − objective) / objective.
    pub gap: f64,
    /// The engine that produced the forms: "heuristic", "microlp" or "highs".
    pub solver: String,
    /// Where the bound comes from: "lp_relaxation", "microlp" or "highs".
    pub bound_source: String,
    /// How the solver was used, if at all.
    pub method: Method,
    pub elapsed_ms: u64,
    pub warnings: Vec<AssemblyWarning>,
}

/// Why no forms came out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AssemblyError {
    #[error("the blueprint is invalid")]
    Blueprint(Vec<FieldError>),
    #[error("the pool has invalid values")]
    Pool(Vec<FieldError>),
    #[error("the pool cannot meet the blueprint")]
    Shortages(Vec<Shortage>),
    #[error("no forms meeting every constraint were found: {en}")]
    NotFound {
        en: String,
        zh: String,
        /// What the best attempt still broke.
        details: Vec<String>,
    },
    #[error("solver not available")]
    SolverUnavailable(FieldError),
}

/// The diagnosis alone, for a page that checks a blueprint before assembling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// Empty when the checks find the blueprint feasible.
    pub shortages: Vec<Shortage>,
    pub warnings: Vec<AssemblyWarning>,
    /// The linear-relaxation bound on the maximin information, when feasible.
    pub bound: Option<f64>,
}

fn check_inputs(bp: &Blueprint, pool: &[PoolItem]) -> Result<(), AssemblyError> {
    bp.validate().map_err(AssemblyError::Blueprint)?;
    validate_pool(pool).map_err(AssemblyError::Pool)
}

/// Check the pool against the blueprint without assembling (see the module docs of the
/// checks in order).
pub fn diagnose(bp: &Blueprint, pool: &[PoolItem]) -> Result<Diagnosis, AssemblyError> {
    check_inputs(bp, pool)?;
    let mut warnings = Vec::new();
    let m = Model::build(bp, pool, &mut warnings);
    let (shortages, bound) = diagnose::diagnose_model(bp, &m);
    Ok(Diagnosis {
        shortages,
        warnings,
        bound,
    })
}

fn rel_gap(bound: f64, objective: f64) -> f64 {
    if objective <= 0.0 {
        return if bound <= 1e-12 { 0.0 } else { f64::INFINITY };
    }
    ((bound - objective) / objective).max(0.0)
}

/// Assemble `bp.forms` parallel forms from `pool` (see the module docs).
pub fn assemble(
    bp: &Blueprint,
    pool: &[PoolItem],
    opts: &AssemblyOptions,
) -> Result<Assembly, AssemblyError> {
    let start = Instant::now();
    check_inputs(bp, pool)?;
    if !opts.solver.is_available() {
        return Err(AssemblyError::SolverUnavailable(
            SolverChoice::parse("solver", opts.solver.as_str()).expect_err("unavailable solver"),
        ));
    }
    let mut warnings = Vec::new();
    let m = Model::build(bp, pool, &mut warnings);
    let (shortages, bound) = diagnose::diagnose_model(bp, &m);
    if !shortages.is_empty() {
        return Err(AssemblyError::Shortages(shortages));
    }
    let lp_bound = bound.unwrap_or(f64::INFINITY);
    let deadline = start + opts.time_limit;
    let heuristic_budget = if opts.solver == SolverChoice::Heuristic {
        opts.time_limit
    } else {
        opts.time_limit.mul_f64(0.5)
    };
    let cold = !opts.warm_start && opts.solver != SolverChoice::Heuristic;
    // The heuristic may stop as soon as it is within the asked gap of the bound.
    let target = lp_bound / (1.0 + opts.mip_gap.max(0.0));
    let rounds = if cold { 0 } else { opts.heuristic_rounds };
    let h = if cold {
        heuristic::Outcome {
            forms: Vec::new(),
            problems: vec!["the heuristic was not run (cold start)".into()],
            cut_short: false,
        }
    } else {
        heuristic::run(&m, opts.seed, rounds, target, start + heuristic_budget)
    };
    if h.cut_short {
        warnings.push(AssemblyWarning::new(
            "heuristic_cut_short",
            0,
            "the heuristic's time ran out before its rounds were done",
            "启发式搜索在完成预定轮次前用尽了时间",
        ));
    }
    let mut best: Option<Vec<Vec<usize>>> = h.problems.is_empty().then_some(h.forms);
    let mut solver = SolverChoice::Heuristic;
    let mut bound = lp_bound;
    let mut bound_source = "lp_relaxation";
    let mut status = AssemblyStatus::Heuristic;
    let mut mip_status = None;
    let mut method = Method::Heuristic;
    let heuristic_gap = best
        .as_ref()
        .map_or(f64::INFINITY, |f| rel_gap(lp_bound, m.objective(f)));
    if opts.solver != SolverChoice::Heuristic
        && (cold || opts.always_solve || heuristic_gap > opts.mip_gap)
    {
        let engine = match opts.solver {
            #[cfg(feature = "highs")]
            SolverChoice::Highs => mip::Engine::Highs,
            _ => mip::Engine::Microlp,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let req = mip::MipRequest {
            m: &m,
            warm: best.as_deref(),
            time_limit: left.as_secs_f64().max(0.05),
            gap: opts.mip_gap,
            y_max: lp_bound,
            threads: opts.threads,
        };
        let full_vars = m.units.len() * m.forms;
        let pairs = best.is_some()
            && m.forms > 1
            && match opts.mip_model {
                MipModel::Full => false,
                MipModel::Pairs => true,
                MipModel::Auto => full_vars > FULL_MODEL_MAX_VARS,
            };
        let attempted = if pairs {
            Method::PairSearch
        } else {
            Method::FullMip
        };
        let result = if pairs {
            let mut forms = best.clone().expect("incumbent");
            let per_sub = (opts.time_limit.as_secs_f64() / 12.0).clamp(0.3, 5.0);
            let rep = lns::improve(
                engine,
                &m,
                &mut forms,
                target,
                deadline,
                per_sub,
                opts.threads,
            );
            if rep.improved == 0 && !rep.failures.is_empty() {
                Err(mip::MipError::Solver(rep.failures.join("; ")))
            } else {
                Ok(mip::MipOutcome {
                    forms,
                    status: mip::MipStatus::TimeLimit,
                    bound: None,
                })
            }
        } else {
            mip::solve(engine, &req)
        };
        match result {
            Ok(out) => {
                let problems = m.violations(&out.forms);
                if problems.is_empty() {
                    let better = best
                        .as_ref()
                        .is_none_or(|b| m.objective(&out.forms) > m.objective(b) + 1e-12);
                    if better {
                        best = Some(out.forms);
                        solver = opts.solver;
                        method = attempted;
                    }
                } else {
                    warnings.push(AssemblyWarning::new(
                        "solver_solution_rejected",
                        problems.len(),
                        format!(
                            "the {} solution broke a constraint on checking ({}) and was set aside",
                            opts.solver.as_str(),
                            problems[0]
                        ),
                        format!(
                            "{} 的解复核时违反约束（{}），未采用",
                            opts.solver.as_str(),
                            problems[0]
                        ),
                    ));
                }
                if let Some(b) = out.bound
                    && b < bound
                {
                    bound = b;
                    bound_source = opts.solver.as_str();
                }
                mip_status = Some(out.status);
            }
            Err(mip::MipError::Infeasible) if best.is_none() => {
                return Err(AssemblyError::Shortages(vec![Shortage {
                    kind: ShortageKind::Combined,
                    cell: None,
                    cell_title: None,
                    item_kind: None,
                    per_form: 0.0,
                    needed: 0.0,
                    available: 0.0,
                    short_by: 0.0,
                    excluded_by_exposure: 0,
                    en: format!(
                        "each requirement can be met on its own, but {} proved that no forms of whole items (testlets and enemy groups included) meet them all",
                        opts.solver.as_str()
                    ),
                    zh: format!(
                        "各项要求单独均可满足，但 {} 证明以整道题目（含题组与互斥组）无法组出同时满足全部要求的试卷",
                        opts.solver.as_str()
                    ),
                }]));
            }
            Err(e) => {
                let what = match e {
                    mip::MipError::Infeasible => "reported no solution".to_string(),
                    mip::MipError::NoSolution(s) | mip::MipError::Solver(s) => s,
                };
                warnings.push(AssemblyWarning::new(
                    "solver_stopped",
                    0,
                    format!(
                        "{} stopped without improving the forms: {what}",
                        opts.solver.as_str()
                    ),
                    format!("{} 未能改进试卷即停止：{what}", opts.solver.as_str()),
                ));
                mip_status = Some(mip::MipStatus::TimeLimit);
            }
        }
    }
    let Some(forms) = best else {
        return Err(AssemblyError::NotFound {
            en: "the checks found the blueprint feasible, but no forms meeting every constraint were found in the time".into(),
            zh: "检查认为蓝图可行，但在限定时间内未找到满足全部约束的试卷".into(),
            details: h.problems,
        });
    };
    let objective = m.objective(&forms);
    bound = bound.max(objective);
    let gap = rel_gap(bound, objective);
    if opts.solver != SolverChoice::Heuristic {
        status = if gap <= 1e-9 || mip_status == Some(mip::MipStatus::Optimal) {
            AssemblyStatus::Optimal
        } else if gap <= opts.mip_gap || mip_status == Some(mip::MipStatus::GapReached) {
            // The solver's gap counts the small usage term too; it stopped within it.
            AssemblyStatus::WithinGap
        } else {
            AssemblyStatus::TimeLimit
        };
    }
    let assembled = forms
        .iter()
        .enumerate()
        .map(|(f, units)| form_view(bp, pool, &m, f, units))
        .collect();
    Ok(Assembly {
        forms: assembled,
        status,
        objective,
        bound,
        gap,
        solver: solver.as_str().to_string(),
        bound_source: bound_source.to_string(),
        method,
        elapsed_ms: start.elapsed().as_millis() as u64,
        warnings,
    })
}

fn form_view(
    bp: &Blueprint,
    pool: &[PoolItem],
    m: &Model,
    f: usize,
    units: &[usize],
) -> AssembledForm {
    let type_ix = |k: ItemKind| {
        bp.types
            .iter()
            .position(|t| t.kind == k)
            .unwrap_or(usize::MAX)
    };
    let first_cell = |i: usize| {
        bp.cells
            .iter()
            .position(|c| pool[i].matches_cell(c.code.trim()))
            .unwrap_or(usize::MAX)
    };
    let mut order: Vec<(usize, usize, i64, Vec<usize>)> = units
        .iter()
        .map(|&u| {
            let mut items = m.units[u].items.clone();
            items.sort_by_key(|&i| (type_ix(pool[i].kind), first_cell(i), pool[i].id));
            let t = items
                .iter()
                .map(|&i| type_ix(pool[i].kind))
                .min()
                .unwrap_or(0);
            let c = items.iter().map(|&i| first_cell(i)).min().unwrap_or(0);
            let id = items.iter().map(|&i| pool[i].id).min().unwrap_or(0);
            (t, c, id, items)
        })
        .collect();
    order.sort_by_key(|o| (o.0, o.1, o.2));
    let items: Vec<usize> = order.into_iter().flat_map(|o| o.3).collect();
    let n = items.len() as u32;
    let mut per_type: Vec<TypeTally> = bp
        .types
        .iter()
        .map(|t| TypeTally {
            kind: t.kind,
            wanted: t.count,
            assembled: 0,
            points_each: t.points_each,
            points: 0.0,
        })
        .collect();
    let mut per_cell: Vec<CellTally> = bp
        .cells
        .iter()
        .map(|c| CellTally {
            code: c.code.clone(),
            title: c.title.clone(),
            min_items: c.min_items,
            max_items: c.max_items,
            assembled: 0,
        })
        .collect();
    let (mut diff, mut secs) = (0.0, 0.0);
    let mut information = vec![0.0; bp.theta.len()];
    let (mut dd, mut di, mut dt) = (0, 0, 0);
    for &i in &items {
        let it = &pool[i];
        if let Some(t) = per_type.iter_mut().find(|t| t.kind == it.kind) {
            t.assembled += 1;
            t.points += t.points_each;
        }
        for (c, cell) in bp.cells.iter().enumerate() {
            if it.matches_cell(cell.code.trim()) {
                per_cell[c].assembled += 1;
            }
        }
        diff += it.difficulty_or_default();
        secs += it.seconds_or_default() as f64;
        let p = it.irt_or_derived();
        for (k, th) in bp.theta.iter().enumerate() {
            information[k] += p.information(*th);
        }
        dd += it.difficulty.is_none() as u32;
        di += it.irt.is_none() as u32;
        dt += it.time_seconds.is_none() as u32;
    }
    AssembledForm {
        number: f as u32 + 1,
        items: items.iter().map(|&i| pool[i].id).collect(),
        stats: FormStats {
            items: n,
            points: per_type.iter().map(|t| t.points).sum(),
            mean_difficulty: if n > 0 { diff / n as f64 } else { 0.0 },
            expected_minutes: secs / 60.0,
            information,
            per_cell,
            per_type,
            defaulted_difficulty: dd,
            derived_irt: di,
            defaulted_time: dt,
        },
    }
}
