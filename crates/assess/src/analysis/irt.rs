//! Item response theory (项目反应理论) calibration by marginal maximum likelihood:
//! Bock–Aitkin EM with a fixed rectangular quadrature on N(0, 1).
//!
//! Models, in slope–intercept form P(correct | θ) = 1 / (1 + exp(−(a θ + d))), b = −d/a:
//! - [`IrtModel::Rasch`]: one-parameter logistic with one common slope a, estimated
//!   (the `rasch()` model of R's ltm; a = 1 would be the strict Rasch scale);
//! - [`IrtModel::TwoPl`]: a slope and an intercept per item.
//!
//! The E-step runs over distinct response patterns, each counted once with its
//! frequency, in parallel. The M-step is Newton's method per item (2PL) or on all
//! intercepts and the common slope at once (Rasch). Standard errors come from the
//! observed information of the marginal likelihood at the estimate, computed exactly by
//! Louis' (1982) formula — E[−∂²ℓc] − E[∂ℓc ∂ℓc′] + E[∂ℓc] E[∂ℓc]′ under each pattern's
//! posterior — and b's by the delta method. Abilities are EAP (expected a posteriori)
//! with the posterior SD.
//!
//! Only dichotomous items take part (every observed score 0 or the maximum); items with
//! partial scores or no variance are left out and listed. Not presented responses are
//! left out of the likelihood.

use super::data::ScoreMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Which model to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IrtModel {
    /// 1PL with a common, estimated slope.
    #[serde(rename = "rasch")]
    Rasch,
    /// Two-parameter logistic.
    #[serde(rename = "2pl")]
    TwoPl,
}

impl IrtModel {
    pub fn as_str(self) -> &'static str {
        match self {
            IrtModel::Rasch => "rasch",
            IrtModel::TwoPl => "2pl",
        }
    }
}

/// Options of the calibration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IrtOptions {
    pub model: IrtModel,
    /// Quadrature points, equally spaced on [−theta_limit, theta_limit] (default 61 on
    /// ±6, as mirt's unidimensional default).
    pub quadrature_points: usize,
    pub theta_limit: f64,
    /// Converged when no parameter moves by more than this in one EM cycle.
    pub tolerance: f64,
    pub max_iterations: usize,
    /// Compute standard errors (costs about as much as a few dozen EM cycles on wide
    /// tests; quick on small ones).
    pub standard_errors: bool,
}

impl Default for IrtOptions {
    fn default() -> Self {
        IrtOptions {
            model: IrtModel::TwoPl,
            quadrature_points: 61,
            theta_limit: 6.0,
            tolerance: 1e-5,
            max_iterations: 2000,
            standard_errors: true,
        }
    }
}

/// One calibrated item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IrtItem {
    pub item_id: String,
    /// Slope (区分度参数 a).
    pub a: f64,
    /// Intercept d.
    pub d: f64,
    /// Difficulty (难度参数 b) = −d/a.
    pub b: f64,
    pub se_a: Option<f64>,
    pub se_d: Option<f64>,
    pub se_b: Option<f64>,
}

/// An item left out of the calibration and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExcludedItem {
    pub item_id: String,
    pub en: String,
    pub zh: String,
}

/// A person's EAP ability and posterior SD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ability {
    pub theta: f64,
    pub psd: f64,
}

/// The result of a calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IrtFit {
    pub model: IrtModel,
    pub items: Vec<IrtItem>,
    pub excluded: Vec<ExcludedItem>,
    /// Marginal log-likelihood at the estimate (on the quadrature).
    pub log_likelihood: f64,
    pub iterations: usize,
    pub converged: bool,
    pub n_persons: usize,
    /// Distinct response patterns (each computed once).
    pub n_patterns: usize,
    /// Why standard errors are absent, when they are.
    pub standard_error_note: Option<String>,
    /// EAP ability of every person, in row order.
    #[serde(skip)]
    pub abilities: Vec<Ability>,
}

/// Why no calibration could be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{en}")]
pub struct IrtError {
    pub en: String,
    pub zh: String,
}

/// Missing cell in a pattern.
const MISSING: u8 = 2;

/// Response data prepared for the EM: the distinct patterns of the dichotomous items.
struct Patterns {
    j: usize,
    pat: Vec<u8>,
    counts: Vec<f64>,
    person_pattern: Vec<u32>,
    has_missing: bool,
}

struct Grid {
    theta: Vec<f64>,
    log_w: Vec<f64>,
}

impl Grid {
    fn new(q: usize, lim: f64) -> Grid {
        let theta: Vec<f64> = (0..q)
            .map(|k| -lim + 2.0 * lim * k as f64 / (q - 1) as f64)
            .collect();
        let w: Vec<f64> = theta.iter().map(|t| (-0.5 * t * t).exp()).collect();
        let s: f64 = w.iter().sum();
        Grid {
            log_w: w.iter().map(|x| (x / s).ln()).collect(),
            theta,
        }
    }
    fn q(&self) -> usize {
        self.theta.len()
    }
}

/// softplus(z) = ln(1 + e^z), stable.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

fn logistic(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Expected counts of the E-step: per item and node, persons (`n`) and correct (`r`).
#[derive(Clone)]
struct EStep {
    loglik: f64,
    r: Vec<f64>,
    /// Per item × node when some responses are missing, else one row for all items.
    n: Vec<f64>,
}

/// Per-cycle log tables of the E-step (item-major, `q` nodes per item).
struct Tables {
    lp: Vec<f64>,
    l1p: Vec<f64>,
    delta: Vec<f64>,
    base: Vec<f64>,
}

const PATTERNS_PER_TASK: usize = 512;
/// Posterior weights below this share of the pattern's total are not accumulated.
const POST_EPS: f64 = 1e-14;

impl Patterns {
    fn n_of<'a>(&self, es: &'a EStep, j: usize, q: usize) -> &'a [f64] {
        if self.has_missing {
            &es.n[j * q..(j + 1) * q]
        } else {
            &es.n[..q]
        }
    }

    /// Log P and log (1 − P) per item and node, their difference, and the log
    /// posterior of the all-wrong pattern (so a pattern costs one add per correct item).
    fn log_tables(&self, grid: &Grid, a: &[f64], d: &[f64]) -> Tables {
        let q = grid.q();
        let mut lp = vec![0.0; self.j * q];
        let mut l1p = vec![0.0; self.j * q];
        let mut base = grid.log_w.clone();
        for j in 0..self.j {
            for k in 0..q {
                let z = a[j] * grid.theta[k] + d[j];
                lp[j * q + k] = -softplus(-z);
                l1p[j * q + k] = -softplus(z);
                base[k] += l1p[j * q + k];
            }
        }
        let delta = lp.iter().zip(&l1p).map(|(x, y)| x - y).collect();
        Tables {
            lp,
            l1p,
            delta,
            base,
        }
    }

    /// Normalized posterior of pattern `p` over the nodes into `post`; returns the
    /// pattern's log marginal likelihood.
    fn posterior(&self, p: usize, q: usize, t: &Tables, post: &mut [f64]) -> f64 {
        post.copy_from_slice(&t.base);
        let row = &self.pat[p * self.j..(p + 1) * self.j];
        for (j, &x) in row.iter().enumerate() {
            let (add, sign) = match x {
                1 => (&t.delta[j * q..(j + 1) * q], 1.0),
                MISSING => (&t.l1p[j * q..(j + 1) * q], -1.0),
                _ => continue,
            };
            if sign > 0.0 {
                for (a, b) in post.iter_mut().zip(add) {
                    *a += b;
                }
            } else {
                for (a, b) in post.iter_mut().zip(add) {
                    *a -= b;
                }
            }
        }
        let m = post.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut s = 0.0;
        for v in post.iter_mut() {
            *v = (*v - m).exp();
            s += *v;
        }
        let inv = 1.0 / s;
        for v in post.iter_mut() {
            *v *= inv;
        }
        m + s.ln()
    }

    fn estep(&self, grid: &Grid, a: &[f64], d: &[f64]) -> EStep {
        let q = grid.q();
        let tables = self.log_tables(grid, a, d);
        let nrows = if self.has_missing { self.j } else { 1 };
        let n_pat = self.counts.len();
        let zero = || EStep {
            loglik: 0.0,
            r: vec![0.0; self.j * q],
            n: vec![0.0; nrows * q],
        };
        (0..n_pat.div_ceil(PATTERNS_PER_TASK))
            .into_par_iter()
            .fold(zero, |mut acc, c| {
                let mut post = vec![0.0; q];
                for p in c * PATTERNS_PER_TASK..((c + 1) * PATTERNS_PER_TASK).min(n_pat) {
                    let cnt = self.counts[p];
                    acc.loglik += cnt * self.posterior(p, q, &tables, &mut post);
                    let lo = post.iter().position(|&v| v > POST_EPS).unwrap_or(0);
                    let hi = post
                        .iter()
                        .rposition(|&v| v > POST_EPS)
                        .map_or(q, |h| h + 1);
                    for v in post[lo..hi].iter_mut() {
                        *v *= cnt;
                    }
                    let row = &self.pat[p * self.j..(p + 1) * self.j];
                    if !self.has_missing {
                        for (a, b) in acc.n[lo..hi].iter_mut().zip(&post[lo..hi]) {
                            *a += b;
                        }
                    }
                    for (j, &x) in row.iter().enumerate() {
                        if x == 1 {
                            for (a, b) in
                                acc.r[j * q + lo..j * q + hi].iter_mut().zip(&post[lo..hi])
                            {
                                *a += b;
                            }
                        }
                        if self.has_missing && x != MISSING {
                            for (a, b) in
                                acc.n[j * q + lo..j * q + hi].iter_mut().zip(&post[lo..hi])
                            {
                                *a += b;
                            }
                        }
                    }
                }
                acc
            })
            .reduce(zero, |mut x, y| {
                x.loglik += y.loglik;
                x.r.iter_mut().zip(&y.r).for_each(|(a, b)| *a += b);
                x.n.iter_mut().zip(&y.n).for_each(|(a, b)| *a += b);
                x
            })
    }
}

/// Expected complete-data log-likelihood of one item at (a, d).
fn item_objective(theta: &[f64], r: &[f64], n: &[f64], a: f64, d: f64) -> f64 {
    theta
        .iter()
        .zip(r.iter().zip(n))
        .map(|(t, (r, n))| {
            let z = a * t + d;
            r * z - n * softplus(z)
        })
        .sum()
}

/// Newton's method for one 2PL item (concave: weighted logistic regression on θ).
fn mstep_2pl_item(theta: &[f64], r: &[f64], n: &[f64], a0: f64, d0: f64) -> (f64, f64) {
    let (mut a, mut d) = (a0, d0);
    let mut f = item_objective(theta, r, n, a, d);
    for _ in 0..50 {
        let (mut ga, mut gd, mut haa, mut had, mut hdd) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for ((t, r), n) in theta.iter().zip(r).zip(n) {
            let p = logistic(a * t + d);
            let e = r - n * p;
            let w = n * p * (1.0 - p);
            ga += e * t;
            gd += e;
            haa += w * t * t;
            had += w * t;
            hdd += w;
        }
        let det = haa * hdd - had * had;
        if det.is_nan() || det <= 1e-300 {
            break;
        }
        let mut sa = (hdd * ga - had * gd) / det;
        let mut sd = (haa * gd - had * ga) / det;
        let len = sa.abs().max(sd.abs());
        if len > 2.0 {
            sa *= 2.0 / len;
            sd *= 2.0 / len;
        }
        let mut step = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let (na, nd) = (a + step * sa, d + step * sd);
            let nf = item_objective(theta, r, n, na, nd);
            if nf >= f - 1e-12 * f.abs() {
                a = na;
                d = nd;
                f = nf;
                improved = true;
                break;
            }
            step *= 0.5;
        }
        if !improved || (step * len) < 1e-10 {
            break;
        }
    }
    (a, d)
}

/// Newton's method on the common slope and all intercepts (Rasch / 1PL).
fn mstep_rasch(pats: &Patterns, es: &EStep, theta: &[f64], a0: f64, d0: &[f64]) -> (f64, Vec<f64>) {
    let q = theta.len();
    let jn = d0.len();
    let objective = |a: f64, d: &[f64]| -> f64 {
        (0..jn)
            .map(|j| {
                item_objective(
                    theta,
                    &es.r[j * q..(j + 1) * q],
                    pats.n_of(es, j, q),
                    a,
                    d[j],
                )
            })
            .sum()
    };
    let mut a = a0;
    let mut d = d0.to_vec();
    let mut f = objective(a, &d);
    for _ in 0..50 {
        let mut ga = 0.0;
        let mut big_a = 0.0;
        let mut gd = vec![0.0; jn];
        let mut bj = vec![0.0; jn];
        let mut cj = vec![0.0; jn];
        for j in 0..jn {
            let r = &es.r[j * q..(j + 1) * q];
            let n = pats.n_of(es, j, q);
            for k in 0..q {
                let t = theta[k];
                let p = logistic(a * t + d[j]);
                let e = r[k] - n[k] * p;
                let w = n[k] * p * (1.0 - p);
                ga += e * t;
                gd[j] += e;
                big_a += w * t * t;
                bj[j] += w * t;
                cj[j] += w;
            }
        }
        // Solve the arrowhead system [A b'; b diag(c)] s = g.
        let mut schur = big_a;
        let mut rhs = ga;
        for j in 0..jn {
            if cj[j] > 1e-300 {
                schur -= bj[j] * bj[j] / cj[j];
                rhs -= bj[j] * gd[j] / cj[j];
            }
        }
        if schur.is_nan() || schur <= 1e-300 {
            break;
        }
        let sa = rhs / schur;
        let mut sd: Vec<f64> = (0..jn)
            .map(|j| {
                if cj[j] > 1e-300 {
                    (gd[j] - bj[j] * sa) / cj[j]
                } else {
                    0.0
                }
            })
            .collect();
        let mut sa = sa;
        let len = sd.iter().fold(sa.abs(), |m, v| m.max(v.abs()));
        if len > 2.0 {
            sa *= 2.0 / len;
            sd.iter_mut().for_each(|v| *v *= 2.0 / len);
        }
        let mut step = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let na = a + step * sa;
            let nd: Vec<f64> = d.iter().zip(&sd).map(|(x, s)| x + step * s).collect();
            let nf = objective(na, &nd);
            if nf >= f - 1e-12 * f.abs() {
                a = na;
                d = nd;
                f = nf;
                improved = true;
                break;
            }
            step *= 0.5;
        }
        if !improved || step * len < 1e-10 {
            break;
        }
    }
    (a, d)
}

/// Prepare the dichotomous items' distinct patterns.
fn prepare(scores: &ScoreMatrix) -> (Vec<usize>, Vec<ExcludedItem>, Patterns) {
    let n = scores.n_persons();
    let k = scores.n_items();
    let maxp = scores.max_points();
    let mut used = Vec::new();
    let mut excluded = Vec::new();
    for (j, &mj) in maxp.iter().enumerate().take(k) {
        let (mut zeros, mut fulls, mut partial) = (0usize, 0usize, 0usize);
        for p in 0..n {
            if let Some(x) = scores.get(p, j) {
                let x = f64::from(x);
                if x == 0.0 {
                    zeros += 1;
                } else if (x - mj).abs() < 1e-6 {
                    fulls += 1;
                } else {
                    partial += 1;
                }
            }
        }
        let id = scores.item_ids()[j].clone();
        if partial > 0 {
            excluded.push(ExcludedItem {
                item_id: id,
                en: format!("{partial} partial score(s): the IRT models here are for items scored right/wrong"),
                zh: format!("有 {partial} 个部分得分：此处的 IRT 模型只用于对/错计分的试题"),
            });
        } else if zeros == 0 || fulls == 0 {
            let what = if zeros + fulls == 0 {
                ("nobody was presented it", "无人作答")
            } else if zeros == 0 {
                (
                    "everyone got it right: its difficulty cannot be estimated",
                    "全部答对：无法估计难度",
                )
            } else {
                (
                    "nobody got it right: its difficulty cannot be estimated",
                    "全部答错：无法估计难度",
                )
            };
            excluded.push(ExcludedItem {
                item_id: id,
                en: what.0.into(),
                zh: what.1.into(),
            });
        } else {
            used.push(j);
        }
    }
    let jn = used.len();
    let mut index: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut pat = Vec::new();
    let mut counts = Vec::new();
    let mut person_pattern = Vec::with_capacity(n);
    let mut has_missing = false;
    let mut key = vec![0u8; jn];
    for p in 0..n {
        for (slot, &j) in key.iter_mut().zip(&used) {
            *slot = match scores.get(p, j) {
                None => {
                    has_missing = true;
                    MISSING
                }
                Some(x) => u8::from(x > 0.0),
            };
        }
        let next = counts.len() as u32;
        let id = *index.entry(key.clone()).or_insert_with(|| {
            pat.extend_from_slice(&key);
            counts.push(0.0);
            next
        });
        counts[id as usize] += 1.0;
        person_pattern.push(id);
    }
    (
        used,
        excluded,
        Patterns {
            j: jn,
            pat,
            counts,
            person_pattern,
            has_missing,
        },
    )
}

/// Calibrate the model on the dichotomous items of `scores`.
pub fn calibrate(scores: &ScoreMatrix, opts: &IrtOptions) -> Result<IrtFit, IrtError> {
    if opts.quadrature_points < 5 || opts.theta_limit.is_nan() || opts.theta_limit <= 0.0 {
        return Err(IrtError {
            en: "the quadrature needs at least 5 points on a positive range".into(),
            zh: "积分点至少 5 个且范围须为正".into(),
        });
    }
    let (used, excluded, pats) = prepare(scores);
    if used.is_empty() {
        return Err(IrtError {
            en: "no item can be calibrated (each is polytomous or has no variance)".into(),
            zh: "没有可标定的试题（均为多级计分或得分无差异）".into(),
        });
    }
    let grid = Grid::new(opts.quadrature_points, opts.theta_limit);
    let q = grid.q();
    let jn = used.len();
    // Starting values: a = 1, d = logit of the proportion correct.
    let mut a = vec![1.0; jn];
    let mut d: Vec<f64> = (0..jn)
        .map(|j| {
            let (mut s, mut c) = (0.0, 0.0);
            for (p, cnt) in pats.counts.iter().enumerate() {
                let x = pats.pat[p * jn + j];
                if x != MISSING {
                    s += cnt * f64::from(x);
                    c += cnt;
                }
            }
            let pr = ((s + 0.5) / (c + 1.0)).clamp(0.001, 0.999);
            (pr / (1.0 - pr)).ln()
        })
        .collect();
    let mut iterations = 0;
    let mut converged = false;
    let mut loglik;
    loop {
        let es = pats.estep(&grid, &a, &d);
        loglik = es.loglik;
        if iterations >= opts.max_iterations {
            break;
        }
        iterations += 1;
        let (na, nd) = match opts.model {
            IrtModel::TwoPl => {
                let upd: Vec<(f64, f64)> = (0..jn)
                    .into_par_iter()
                    .map(|j| {
                        mstep_2pl_item(
                            &grid.theta,
                            &es.r[j * q..(j + 1) * q],
                            pats.n_of(&es, j, q),
                            a[j],
                            d[j],
                        )
                    })
                    .collect();
                upd.into_iter().unzip::<f64, f64, Vec<f64>, Vec<f64>>()
            }
            IrtModel::Rasch => {
                let (ca, nd) = mstep_rasch(&pats, &es, &grid.theta, a[0], &d);
                (vec![ca; jn], nd)
            }
        };
        let change = a
            .iter()
            .zip(&na)
            .chain(d.iter().zip(&nd))
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        a = na;
        d = nd;
        if change < opts.tolerance {
            converged = true;
            loglik = pats.estep(&grid, &a, &d).loglik;
            break;
        }
    }

    // Standard errors.
    let mut se: Option<Vec<f64>> = None;
    let mut note = None;
    if opts.standard_errors {
        match observed_covariance(&pats, &grid, &a, &d, opts.model) {
            Some(cov) => se = Some(cov),
            None => {
                note = Some("the observed information matrix is not positive definite at the estimate (a flat or ill-determined likelihood): no standard errors".to_string())
            }
        }
        if !converged && se.is_some() {
            note = Some("the EM did not converge: standard errors are at the last iterate".into());
        }
    } else {
        note = Some("standard errors were not requested".into());
    }
    let items = used
        .iter()
        .enumerate()
        .map(|(jj, &j)| {
            let (aj, dj) = (a[jj], d[jj]);
            let b = -dj / aj;
            let (se_a, se_d, se_b) = match &se {
                Some(cov) => {
                    let (va, vd, cad) = cov_ad(cov, jn, jj, opts.model);
                    // b = −d/a: ∂b/∂a = d/a², ∂b/∂d = −1/a.
                    let ga = dj / (aj * aj);
                    let gd = -1.0 / aj;
                    let vb = ga * ga * va + gd * gd * vd + 2.0 * ga * gd * cad;
                    (Some(va.sqrt()), Some(vd.sqrt()), Some(vb.max(0.0).sqrt()))
                }
                None => (None, None, None),
            };
            IrtItem {
                item_id: scores.item_ids()[j].clone(),
                a: aj,
                d: dj,
                b,
                se_a,
                se_d,
                se_b,
            }
        })
        .collect();

    // EAP abilities per pattern, then per person.
    let tables = pats.log_tables(&grid, &a, &d);
    let per_pattern: Vec<Ability> = (0..pats.counts.len())
        .into_par_iter()
        .map_init(
            || vec![0.0; q],
            |post, p| {
                pats.posterior(p, q, &tables, post);
                let m: f64 = post.iter().zip(&grid.theta).map(|(w, t)| w * t).sum();
                let v: f64 = post
                    .iter()
                    .zip(&grid.theta)
                    .map(|(w, t)| w * (t - m) * (t - m))
                    .sum();
                Ability {
                    theta: m,
                    psd: v.sqrt(),
                }
            },
        )
        .collect();
    let abilities = pats
        .person_pattern
        .iter()
        .map(|&p| per_pattern[p as usize])
        .collect();
    Ok(IrtFit {
        model: opts.model,
        items,
        excluded,
        log_likelihood: loglik,
        iterations,
        converged,
        n_persons: scores.n_persons(),
        n_patterns: pats.counts.len(),
        standard_error_note: note,
        abilities,
    })
}

/// Variances of a and d of item `j` and their covariance from the parameter covariance
/// (2PL: a_j at 2j, d_j at 2j+1; Rasch: a at 0, d_j at 1+j).
fn cov_ad(cov: &[f64], jn: usize, j: usize, model: IrtModel) -> (f64, f64, f64) {
    let m = match model {
        IrtModel::TwoPl => 2 * jn,
        IrtModel::Rasch => jn + 1,
    };
    let (ia, id) = match model {
        IrtModel::TwoPl => (2 * j, 2 * j + 1),
        IrtModel::Rasch => (0, 1 + j),
    };
    (cov[ia * m + ia], cov[id * m + id], cov[ia * m + id])
}

/// Inverse of the observed information (Louis' formula), row-major m × m; `None` when
/// it is not positive definite.
fn observed_covariance(
    pats: &Patterns,
    grid: &Grid,
    a: &[f64],
    d: &[f64],
    model: IrtModel,
) -> Option<Vec<f64>> {
    let info = observed_information(pats, grid, a, d, model);
    let m = (info.len() as f64).sqrt() as usize;
    invert_spd(&info, m)
}

/// Observed information of the marginal log-likelihood, row-major m × m.
fn observed_information(
    pats: &Patterns,
    grid: &Grid,
    a: &[f64],
    d: &[f64],
    model: IrtModel,
) -> Vec<f64> {
    let q = grid.q();
    let jn = pats.j;
    let theta = &grid.theta;
    let tables = pats.log_tables(grid, a, d);
    let prob: Vec<f64> = tables.lp.iter().map(|v| v.exp()).collect();
    let es = pats.estep(grid, a, d);
    let m = match model {
        IrtModel::TwoPl => 2 * jn,
        IrtModel::Rasch => jn + 1,
    };
    // Per node k: M_k[j][l] = Σ_p c post_pk u_pjk u_plk (upper triangle), and the
    // cross-product of the per-pattern expected scores.
    struct Acc {
        mk: Vec<f64>,
        xpd: Vec<f64>,
    }
    let n_pat = pats.counts.len();
    let zero = || Acc {
        mk: vec![0.0; q * jn * jn],
        xpd: vec![0.0; m * m],
    };
    let acc = (0..n_pat.div_ceil(64))
        .into_par_iter()
        .fold(zero, |mut acc, c| {
            let mut post = vec![0.0; q];
            let mut u = vec![0.0; jn];
            let mut s = vec![0.0; m];
            for p in c * 64..((c + 1) * 64).min(n_pat) {
                let cnt = pats.counts[p];
                pats.posterior(p, q, &tables, &mut post);
                let row = &pats.pat[p * jn..(p + 1) * jn];
                s.iter_mut().for_each(|v| *v = 0.0);
                let peak = post.iter().copied().fold(0.0, f64::max);
                for k in 0..q {
                    let w = post[k];
                    if w <= 1e-12 * peak {
                        continue;
                    }
                    let t = theta[k];
                    let mut usum = 0.0;
                    for (jj, &x) in row.iter().enumerate() {
                        u[jj] = if x == MISSING {
                            0.0
                        } else {
                            f64::from(x) - prob[jj * q + k]
                        };
                        usum += u[jj];
                    }
                    match model {
                        IrtModel::TwoPl => {
                            for jj in 0..jn {
                                s[2 * jj] += w * u[jj] * t;
                                s[2 * jj + 1] += w * u[jj];
                            }
                        }
                        IrtModel::Rasch => {
                            s[0] += w * usum * t;
                            for jj in 0..jn {
                                s[1 + jj] += w * u[jj];
                            }
                        }
                    }
                    let cw = cnt * w;
                    let mk = &mut acc.mk[k * jn * jn..(k + 1) * jn * jn];
                    for jj in 0..jn {
                        let f = cw * u[jj];
                        if f == 0.0 {
                            continue;
                        }
                        let rowm = &mut mk[jj * jn..(jj + 1) * jn];
                        for (l, v) in rowm.iter_mut().enumerate().skip(jj) {
                            *v += f * u[l];
                        }
                    }
                }
                for i in 0..m {
                    let f = cnt * s[i];
                    if f == 0.0 {
                        continue;
                    }
                    for (l, sl) in s.iter().enumerate().skip(i) {
                        acc.xpd[i * m + l] += f * sl;
                    }
                }
            }
            acc
        })
        .reduce(zero, |mut x, y| {
            x.mk.iter_mut().zip(&y.mk).for_each(|(a, b)| *a += b);
            x.xpd.iter_mut().zip(&y.xpd).for_each(|(a, b)| *a += b);
            x
        });
    let mut info = vec![0.0; m * m];
    let mk_at = |k: usize, j: usize, l: usize| -> f64 {
        let (j, l) = if j <= l { (j, l) } else { (l, j) };
        acc.mk[k * jn * jn + j * jn + l]
    };
    // E[−H]: block diagonal per item in the 2PL; arrowhead in the Rasch model.
    for j in 0..jn {
        let n = pats.n_of(&es, j, q);
        let (mut h00, mut h01, mut h11) = (0.0, 0.0, 0.0);
        for k in 0..q {
            let p = prob[j * q + k];
            let w = n[k] * p * (1.0 - p);
            h00 += w * theta[k] * theta[k];
            h01 += w * theta[k];
            h11 += w;
        }
        match model {
            IrtModel::TwoPl => {
                info[(2 * j) * m + 2 * j] += h00;
                info[(2 * j) * m + 2 * j + 1] += h01;
                info[(2 * j + 1) * m + 2 * j + 1] += h11;
            }
            IrtModel::Rasch => {
                info[0] += h00;
                info[1 + j] += h01;
                info[(1 + j) * m + 1 + j] += h11;
            }
        }
    }
    // − E[s s′] (upper triangle).
    for (k, &t) in theta.iter().enumerate() {
        match model {
            IrtModel::TwoPl => {
                for j in 0..jn {
                    for l in j..jn {
                        let v = mk_at(k, j, l);
                        info[(2 * j) * m + 2 * l] -= v * t * t;
                        info[(2 * j) * m + 2 * l + 1] -= v * t;
                        info[(2 * j + 1) * m + 2 * l + 1] -= v;
                        if l > j {
                            info[(2 * j + 1) * m + 2 * l] -= v * t;
                        }
                    }
                }
            }
            IrtModel::Rasch => {
                let mut total = 0.0;
                for j in 0..jn {
                    let mut rowsum = 0.0;
                    for l in 0..jn {
                        rowsum += mk_at(k, j, l);
                    }
                    total += rowsum;
                    info[1 + j] -= rowsum * t;
                    for l in j..jn {
                        info[(1 + j) * m + 1 + l] -= mk_at(k, j, l);
                    }
                }
                info[0] -= total * t * t;
            }
        }
    }
    // + Σ c ŝ ŝ′, then mirror the upper triangle.
    for i in 0..m {
        for l in i..m {
            info[i * m + l] += acc.xpd[i * m + l];
        }
    }
    for i in 0..m {
        for l in 0..i {
            info[i * m + l] = info[l * m + i];
        }
    }
    info
}

/// Inverse of a symmetric positive definite matrix by Cholesky; `None` if not SPD.
fn invert_spd(a: &[f64], m: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..=i {
            let mut s = a[i * m + j];
            for k in 0..j {
                s -= l[i * m + k] * l[j * m + k];
            }
            if i == j {
                if s.is_nan() || s <= 1e-12 * a[i * m + i].abs().max(1e-300) {
                    return None;
                }
                l[i * m + i] = s.sqrt();
            } else {
                l[i * m + j] = s / l[j * m + j];
            }
        }
    }
    // inv = L^{-T} L^{-1}
    let mut linv = vec![0.0; m * m];
    for i in 0..m {
        linv[i * m + i] = 1.0 / l[i * m + i];
        for j in 0..i {
            let mut s = 0.0;
            for k in j..i {
                s -= l[i * m + k] * linv[k * m + j];
            }
            linv[i * m + j] = s / l[i * m + i];
        }
    }
    let mut inv = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..=i {
            let mut s = 0.0;
            for k in i..m {
                s += linv[k * m + i] * linv[k * m + j];
            }
            inv[i * m + j] = s;
            inv[j * m + i] = s;
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The observed information (Louis) must equal minus the numerical Hessian of the
    /// marginal log-likelihood: a self-consistency check of the formula, on LSAT7.
    #[test]
    fn louis_information_matches_numerical_hessian() {
        let counts = [
            12, 19, 1, 7, 3, 19, 3, 17, 10, 5, 3, 7, 7, 23, 8, 28, 7, 39, 11, 34, 14, 51, 15, 90,
            6, 25, 7, 35, 18, 136, 32, 308,
        ];
        let pats: Vec<[u8; 5]> = (0..32u8)
            .map(|i| {
                [
                    (i >> 4) & 1,
                    (i >> 3) & 1,
                    (i >> 2) & 1,
                    (i >> 1) & 1,
                    i & 1,
                ]
            })
            .collect();
        let list: Vec<(&[u8], usize)> = pats.iter().zip(counts).map(|(p, c)| (&p[..], c)).collect();
        let ids = (1..=5).map(|i| format!("I{i}")).collect();
        let scores = ScoreMatrix::from_patterns(ids, &list).unwrap();
        let (_, _, pt) = prepare(&scores);
        let grid = Grid::new(61, 6.0);
        for model in [IrtModel::TwoPl, IrtModel::Rasch] {
            let (a, d): (Vec<f64>, Vec<f64>) = match model {
                IrtModel::TwoPl => (vec![0.9, 1.1, 1.6, 0.8, 0.7], vec![1.8, 0.8, 1.8, 0.5, 1.9]),
                IrtModel::Rasch => (vec![1.2; 5], vec![1.8, 0.8, 1.8, 0.5, 1.9]),
            };
            let info = observed_information(&pt, &grid, &a, &d, model);
            let m = (info.len() as f64).sqrt() as usize;
            let ll = |v: &[f64]| -> f64 {
                let (aa, dd): (Vec<f64>, Vec<f64>) = match model {
                    IrtModel::TwoPl => (
                        (0..5).map(|j| v[2 * j]).collect(),
                        (0..5).map(|j| v[2 * j + 1]).collect(),
                    ),
                    IrtModel::Rasch => (vec![v[0]; 5], v[1..].to_vec()),
                };
                pt.estep(&grid, &aa, &dd).loglik
            };
            let v0: Vec<f64> = match model {
                IrtModel::TwoPl => (0..5).flat_map(|j| [a[j], d[j]]).collect(),
                IrtModel::Rasch => std::iter::once(a[0]).chain(d.iter().copied()).collect(),
            };
            let h = 1e-4;
            for i in 0..m {
                for l in 0..m {
                    let f = |di: f64, dl: f64| {
                        let mut v = v0.clone();
                        v[i] += di;
                        v[l] += dl;
                        ll(&v)
                    };
                    let num = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4.0 * h * h);
                    let got = info[i * m + l];
                    assert!(
                        (got + num).abs() < 1e-3 * (1.0 + num.abs()),
                        "{model:?} [{i},{l}]: Louis {got} vs −Hessian {}",
                        -num
                    );
                }
            }
        }
    }

    #[test]
    fn spd_inverse() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let inv = invert_spd(&a, 2).unwrap();
        let expect = [3.0 / 8.0, -2.0 / 8.0, -2.0 / 8.0, 4.0 / 8.0];
        for (x, y) in inv.iter().zip(expect) {
            assert!((x - y).abs() < 1e-12);
        }
        assert!(invert_spd(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }
}
