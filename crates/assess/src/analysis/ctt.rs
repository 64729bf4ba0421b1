//! Classical test theory (经典测量理论): test and item statistics and distractor tables
//! of one form, in two passes over the data.
//!
//! Conventions. A person's total is the sum of the scores of the items presented to
//! them. Item statistics use only the persons who had the item. Standard deviations are
//! sample ones (n − 1); correlations do not depend on that choice. Cronbach's alpha,
//! alpha-if-deleted and the SEM use the persons who were presented every item
//! ("complete"). The upper and lower groups are the top and bottom `group_fraction`
//! (27 %) of the persons who had the item, ranked by total score; the group size is
//! round(0.27 n), and persons tied at the cut share the remaining places equally, so
//! the result does not depend on row order.

use super::data::{ChoiceMatrix, NOT_PRESENTED, ScoreMatrix};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Options of the classical analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassicalOptions {
    /// Share of persons in each of the upper and lower groups (Kelley's 27 %).
    pub group_fraction: f64,
}

impl Default for ClassicalOptions {
    fn default() -> Self {
        ClassicalOptions {
            group_fraction: 0.27,
        }
    }
}

/// One bar of the total-score distribution: persons with `from <= total <= to`
/// (`from == to` when every distinct total has its own bar).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreBin {
    pub from: f64,
    pub to: f64,
    pub count: usize,
}

/// Test-level statistics (试卷统计).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestStats {
    pub n_persons: usize,
    pub n_items: usize,
    /// Persons presented every item: the basis of alpha and the SEM.
    pub n_complete: usize,
    /// Sum of the items' maximum scores.
    pub max_possible: f64,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Cronbach's alpha (= KR-20 for 0/1 items).
    pub alpha: Option<f64>,
    /// Standard error of measurement, sd × √(1 − alpha), on complete persons.
    pub sem: Option<f64>,
    pub distribution: Vec<ScoreBin>,
}

/// Item statistics (试题统计).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemStats {
    pub item_id: String,
    pub max_points: f64,
    /// Persons presented the item.
    pub n: usize,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    /// Facility (难度, p): mean score / max points.
    pub facility: Option<f64>,
    /// Point-biserial (item–total) correlation; the total includes the item.
    pub r_item_total: Option<f64>,
    /// Corrected item–total (item–rest) correlation (区分度): the total without the item.
    pub r_item_rest: Option<f64>,
    /// Mean score / max in the upper and lower groups.
    pub upper_facility: Option<f64>,
    pub lower_facility: Option<f64>,
    /// Upper–lower discrimination index D = upper − lower facility.
    pub discrimination_index: Option<f64>,
    /// Cronbach's alpha of the test without this item.
    pub alpha_if_deleted: Option<f64>,
}

/// One row of a distractor table: an option, or the omits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionStats {
    /// The option id; `None` for the omit row (未作答).
    pub option: Option<String>,
    pub is_key: bool,
    pub count: usize,
    /// Share of the persons presented the item who chose it.
    pub proportion: Option<f64>,
    /// Share of the upper (lower) group who chose it.
    pub upper_proportion: Option<f64>,
    pub lower_proportion: Option<f64>,
    /// Mean total score of those who chose it.
    pub mean_total: Option<f64>,
    /// Point-biserial of choosing it with the rest score (total without this item).
    pub r_rest: Option<f64>,
}

/// Distractor table (干扰项分析) of one choice item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistractorTable {
    pub item_id: String,
    /// The key as text (`B`, `AC`).
    pub key: String,
    /// More than one keyed option: rows count selections, so proportions need not sum
    /// to 1.
    pub multiple_response: bool,
    /// One row per option in order, then the omit row.
    pub rows: Vec<OptionStats>,
}

/// The classical analysis of one form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classical {
    pub test: TestStats,
    pub items: Vec<ItemStats>,
    pub distractors: Vec<DistractorTable>,
    /// Each person's total score, in row order.
    #[serde(skip)]
    pub totals: Vec<f64>,
}

/// Where an item's upper (lower) group starts: totals beyond `at` count fully, totals
/// equal to `at` count with `tie_weight`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cut {
    at: f64,
    tie_weight: f64,
}

impl Cut {
    const NONE: Cut = Cut {
        at: f64::INFINITY,
        tie_weight: 0.0,
    };

    fn upper(&self, t: f64) -> f64 {
        if t > self.at {
            1.0
        } else if t == self.at {
            self.tie_weight
        } else {
            0.0
        }
    }

    fn lower(&self, t: f64) -> f64 {
        if t < self.at {
            1.0
        } else if t == self.at {
            self.tie_weight
        } else {
            0.0
        }
    }
}

#[derive(Debug, Clone, Default)]
struct OptAcc {
    count: f64,
    sum_t: f64,
    sum_x: f64,
    upper: f64,
    lower: f64,
}

#[derive(Debug, Clone, Default)]
struct ItemAcc {
    n: f64,
    sx: f64,
    sxx: f64,
    sxt: f64,
    st: f64,
    stt: f64,
    up_w: f64,
    up_x: f64,
    lo_w: f64,
    lo_x: f64,
    // complete persons
    c_sx: f64,
    c_sxx: f64,
    c_sxt: f64,
    opts: Vec<OptAcc>,
}

#[derive(Debug, Clone, Default)]
struct Acc {
    items: Vec<ItemAcc>,
    c_n: f64,
    c_st: f64,
    c_stt: f64,
}

impl Acc {
    fn new(n_opts: &[usize]) -> Acc {
        Acc {
            items: n_opts
                .iter()
                .map(|&o| ItemAcc {
                    opts: vec![OptAcc::default(); o],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn merge(mut self, other: Acc) -> Acc {
        self.c_n += other.c_n;
        self.c_st += other.c_st;
        self.c_stt += other.c_stt;
        for (a, b) in self.items.iter_mut().zip(other.items) {
            a.n += b.n;
            a.sx += b.sx;
            a.sxx += b.sxx;
            a.sxt += b.sxt;
            a.st += b.st;
            a.stt += b.stt;
            a.up_w += b.up_w;
            a.up_x += b.up_x;
            a.lo_w += b.lo_w;
            a.lo_x += b.lo_x;
            a.c_sx += b.c_sx;
            a.c_sxx += b.c_sxx;
            a.c_sxt += b.c_sxt;
            for (x, y) in a.opts.iter_mut().zip(b.opts) {
                x.count += y.count;
                x.sum_t += y.sum_t;
                x.sum_x += y.sum_x;
                x.upper += y.upper;
                x.lower += y.lower;
            }
        }
        self
    }
}

const ROWS_PER_TASK: usize = 4096;

/// Correlation from population moments; `None` when either variance is (nearly) zero.
fn corr(cov: f64, var_a: f64, var_b: f64, scale_a: f64, scale_b: f64) -> Option<f64> {
    let tiny = 1e-12;
    if var_a <= tiny * scale_a * scale_a || var_b <= tiny * scale_b * scale_b {
        return None;
    }
    Some((cov / (var_a * var_b).sqrt()).clamp(-1.0, 1.0))
}

/// Group size for n persons.
fn group_size(n: usize, fraction: f64) -> usize {
    if n == 0 {
        0
    } else {
        ((n as f64 * fraction).round() as usize).clamp(1, n)
    }
}

/// Run the classical analysis. `choices`, when given, must have the same persons and
/// items (a matrix of another shape is ignored: no distractor tables); its keyed items
/// get distractor tables.
pub fn classical(
    scores: &ScoreMatrix,
    choices: Option<&ChoiceMatrix>,
    opts: &ClassicalOptions,
) -> Classical {
    let n = scores.n_persons();
    let k = scores.n_items();
    let maxp = scores.max_points();
    let choices = choices.filter(|c| c.n_persons() == n && c.n_items() == k);

    // Pass 1: totals.
    let mut totals = vec![0.0f64; n];
    let mut complete = vec![false; n];
    totals
        .par_chunks_mut(ROWS_PER_TASK)
        .zip(complete.par_chunks_mut(ROWS_PER_TASK))
        .enumerate()
        .for_each(|(c, (tot, comp))| {
            for (r, (t, cp)) in tot.iter_mut().zip(comp.iter_mut()).enumerate() {
                let row = scores.row(c * ROWS_PER_TASK + r);
                let mut s = 0.0f64;
                let mut all = true;
                for &x in row {
                    if x.is_nan() {
                        all = false;
                    } else {
                        s += f64::from(x);
                    }
                }
                *t = s;
                *cp = all;
            }
        });
    let mean_t = if n > 0 {
        totals.iter().sum::<f64>() / n as f64
    } else {
        0.0
    };

    // Upper and lower cuts per item.
    let (upper, lower) = cuts(scores, &totals, opts.group_fraction);

    // Pass 2: moments, groups, options.
    let n_opts: Vec<usize> = (0..k)
        .map(|j| {
            choices
                .and_then(|c| c.keys()[j].as_ref())
                .map_or(0, |key| key.options.len() + 1)
        })
        .collect();
    let acc = (0..n.div_ceil(ROWS_PER_TASK).max(1))
        .into_par_iter()
        .fold(
            || Acc::new(&n_opts),
            |mut acc, c| {
                let lo = c * ROWS_PER_TASK;
                let hi = (lo + ROWS_PER_TASK).min(n);
                for p in lo..hi {
                    let row = scores.row(p);
                    let t_raw = totals[p];
                    let t = t_raw - mean_t;
                    let comp = complete[p];
                    if comp {
                        acc.c_n += 1.0;
                        acc.c_st += t;
                        acc.c_stt += t * t;
                    }
                    let crow = choices.map(|c| c.row(p));
                    for (j, (&x, a)) in row.iter().zip(acc.items.iter_mut()).enumerate() {
                        if x.is_nan() {
                            continue;
                        }
                        let x = f64::from(x);
                        a.n += 1.0;
                        a.sx += x;
                        a.sxx += x * x;
                        a.sxt += x * t;
                        a.st += t;
                        a.stt += t * t;
                        let uw = upper[j].upper(t_raw);
                        let lw = lower[j].lower(t_raw);
                        a.up_w += uw;
                        a.up_x += uw * x;
                        a.lo_w += lw;
                        a.lo_x += lw * x;
                        if comp {
                            a.c_sx += x;
                            a.c_sxx += x * x;
                            a.c_sxt += x * t;
                        }
                        if !a.opts.is_empty()
                            && let Some(crow) = crow
                        {
                            let set = crow[j];
                            if set == NOT_PRESENTED {
                                continue;
                            }
                            let omit = a.opts.len() - 1;
                            let add = |o: &mut OptAcc| {
                                o.count += 1.0;
                                o.sum_t += t;
                                o.sum_x += x;
                                o.upper += uw;
                                o.lower += lw;
                            };
                            if set == 0 {
                                add(&mut a.opts[omit]);
                            } else {
                                let mut bits = set;
                                while bits != 0 {
                                    let b = bits.trailing_zeros() as usize;
                                    bits &= bits - 1;
                                    if b < omit {
                                        add(&mut a.opts[b]);
                                    }
                                }
                            }
                        }
                    }
                }
                acc
            },
        )
        .reduce(|| Acc::new(&n_opts), Acc::merge);

    // Test statistics.
    let mut test = TestStats {
        n_persons: n,
        n_items: k,
        n_complete: acc.c_n as usize,
        max_possible: maxp.iter().sum(),
        mean: None,
        sd: None,
        min: None,
        max: None,
        alpha: None,
        sem: None,
        distribution: distribution(&totals),
    };
    if n > 0 {
        test.mean = Some(mean_t);
        test.min = totals.iter().copied().reduce(f64::min);
        test.max = totals.iter().copied().reduce(f64::max);
    }
    if n > 1 {
        let ss: f64 = totals.iter().map(|t| (t - mean_t) * (t - mean_t)).sum();
        test.sd = Some((ss / (n - 1) as f64).sqrt());
    }
    let cn = acc.c_n;
    let c_mean_t = if cn > 0.0 { acc.c_st / cn } else { 0.0 };
    let c_var_t = if cn > 0.0 {
        (acc.c_stt / cn - c_mean_t * c_mean_t).max(0.0)
    } else {
        0.0
    };
    let c_var_item: Vec<f64> = acc
        .items
        .iter()
        .map(|a| {
            if cn > 0.0 {
                let m = a.c_sx / cn;
                (a.c_sxx / cn - m * m).max(0.0)
            } else {
                0.0
            }
        })
        .collect();
    let c_cov_item: Vec<f64> = acc
        .items
        .iter()
        .map(|a| {
            if cn > 0.0 {
                a.c_sxt / cn - (a.c_sx / cn) * c_mean_t
            } else {
                0.0
            }
        })
        .collect();
    let sum_var: f64 = c_var_item.iter().sum();
    let scale_t = test.max_possible.max(1.0);
    let alpha_of = |kk: f64, sum_var: f64, var_t: f64| -> Option<f64> {
        (cn >= 2.0 && kk >= 2.0 && var_t > 1e-12 * scale_t * scale_t)
            .then(|| kk / (kk - 1.0) * (1.0 - sum_var / var_t))
    };
    test.alpha = alpha_of(k as f64, sum_var, c_var_t);
    if let Some(a) = test.alpha
        && a >= 0.0
        && cn >= 2.0
    {
        let sd_c = (c_var_t * cn / (cn - 1.0)).sqrt();
        test.sem = Some(sd_c * (1.0 - a).sqrt());
    }

    // Item statistics.
    let mut items = Vec::with_capacity(k);
    let mut distractors = Vec::new();
    for (j, a) in acc.items.iter().enumerate() {
        let m = maxp[j];
        let nj = a.n;
        let mut s = ItemStats {
            item_id: scores.item_ids()[j].clone(),
            max_points: m,
            n: nj as usize,
            mean: None,
            sd: None,
            facility: None,
            r_item_total: None,
            r_item_rest: None,
            upper_facility: None,
            lower_facility: None,
            discrimination_index: None,
            alpha_if_deleted: None,
        };
        let (mut var_r, mut mean_r) = (0.0, 0.0);
        if nj > 0.0 {
            let mx = a.sx / nj;
            let mt = a.st / nj;
            let vx = (a.sxx / nj - mx * mx).max(0.0);
            let vt = (a.stt / nj - mt * mt).max(0.0);
            let cxt = a.sxt / nj - mx * mt;
            s.mean = Some(mx);
            s.facility = Some(mx / m);
            if nj > 1.0 {
                s.sd = Some((vx * nj / (nj - 1.0)).sqrt());
            }
            s.r_item_total = corr(cxt, vx, vt, m, scale_t);
            var_r = (vt + vx - 2.0 * cxt).max(0.0);
            mean_r = mt - mx;
            s.r_item_rest = corr(cxt - vx, vx, var_r, m, scale_t);
            if nj >= 2.0 && a.up_w > 0.0 && a.lo_w > 0.0 {
                let u = a.up_x / a.up_w / m;
                let l = a.lo_x / a.lo_w / m;
                s.upper_facility = Some(u);
                s.lower_facility = Some(l);
                s.discrimination_index = Some(u - l);
            }
        }
        if k >= 3 {
            let v_rest = c_var_t + c_var_item[j] - 2.0 * c_cov_item[j];
            s.alpha_if_deleted = alpha_of((k - 1) as f64, sum_var - c_var_item[j], v_rest);
        }
        if let Some(key) = choices.and_then(|c| c.keys()[j].as_ref()) {
            let mut rows = Vec::with_capacity(a.opts.len());
            for (o, oa) in a.opts.iter().enumerate() {
                let is_omit = o == a.opts.len() - 1;
                let prop = (nj > 0.0).then(|| oa.count / nj);
                // r of the 0/1 indicator "chose it" with the rest score, among persons
                // presented the item.
                let r_rest = prop.and_then(|p| {
                    let var_u = p * (1.0 - p);
                    let mean_r_choosers = if oa.count > 0.0 {
                        (oa.sum_t - oa.sum_x) / oa.count
                    } else {
                        0.0
                    };
                    let cov = p * (mean_r_choosers - mean_r);
                    corr(cov, var_u, var_r, 1.0, scale_t)
                });
                rows.push(OptionStats {
                    option: (!is_omit).then(|| key.options[o].clone()),
                    is_key: !is_omit && key.key & (1 << o) != 0,
                    count: oa.count as usize,
                    proportion: prop,
                    upper_proportion: (a.up_w > 0.0).then(|| oa.upper / a.up_w),
                    lower_proportion: (a.lo_w > 0.0).then(|| oa.lower / a.lo_w),
                    mean_total: (oa.count > 0.0).then(|| oa.sum_t / oa.count + mean_t),
                    r_rest,
                });
            }
            distractors.push(DistractorTable {
                item_id: s.item_id.clone(),
                key: key.key_text(),
                multiple_response: key.is_multiple(),
                rows,
            });
        }
        items.push(s);
    }
    Classical {
        test,
        items,
        distractors,
        totals,
    }
}

/// Upper and lower cuts per item (see the module doc).
fn cuts(scores: &ScoreMatrix, totals: &[f64], fraction: f64) -> (Vec<Cut>, Vec<Cut>) {
    let n = scores.n_persons();
    let k = scores.n_items();
    if n == 0 {
        return (vec![Cut::NONE; k], vec![Cut::NONE; k]);
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.par_sort_unstable_by(|&a, &b| totals[a as usize].total_cmp(&totals[b as usize]));
    let presented: Vec<usize> = if scores.has_not_presented() {
        let mut c = vec![0usize; k];
        for p in 0..n {
            for (j, x) in scores.row(p).iter().enumerate() {
                if !x.is_nan() {
                    c[j] += 1;
                }
            }
        }
        c
    } else {
        vec![n; k]
    };
    let walk = |from_top: bool| -> Vec<Cut> {
        let mut cuts = vec![Cut::NONE; k];
        let mut remaining: Vec<usize> =
            presented.iter().map(|&c| group_size(c, fraction)).collect();
        let mut open = remaining.iter().filter(|&&r| r > 0).count();
        let mut counts = vec![0usize; k];
        let mut i = 0;
        while i < n && open > 0 {
            let idx = |i: usize| order[if from_top { n - 1 - i } else { i }] as usize;
            let t = totals[idx(i)];
            let mut e = i;
            while e < n && totals[idx(e)] == t {
                e += 1;
            }
            counts.iter_mut().for_each(|c| *c = 0);
            for g in i..e {
                for (j, x) in scores.row(idx(g)).iter().enumerate() {
                    if !x.is_nan() {
                        counts[j] += 1;
                    }
                }
            }
            for j in 0..k {
                let (r, c) = (remaining[j], counts[j]);
                if r == 0 || c == 0 {
                    continue;
                }
                if c >= r {
                    cuts[j] = Cut {
                        at: t,
                        tie_weight: r as f64 / c as f64,
                    };
                    remaining[j] = 0;
                    open -= 1;
                } else {
                    remaining[j] -= c;
                }
            }
            i = e;
        }
        cuts
    };
    (walk(true), walk(false))
}

/// Distinct totals with their counts, or 40 equal bins when there are more than 200.
fn distribution(totals: &[f64]) -> Vec<ScoreBin> {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for &t in totals {
        *counts.entry((t * 1e6).round() as i64).or_default() += 1;
        if counts.len() > 200 {
            break;
        }
    }
    if counts.len() <= 200 {
        return counts
            .into_iter()
            .map(|(v, c)| {
                let s = v as f64 / 1e6;
                ScoreBin {
                    from: s,
                    to: s,
                    count: c,
                }
            })
            .collect();
    }
    let lo = totals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = totals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let bins = 40;
    let w = (hi - lo) / bins as f64;
    let mut out: Vec<ScoreBin> = (0..bins)
        .map(|b| ScoreBin {
            from: lo + b as f64 * w,
            to: lo + (b + 1) as f64 * w,
            count: 0,
        })
        .collect();
    for &t in totals {
        let b = (((t - lo) / w) as usize).min(bins - 1);
        out[b].count += 1;
    }
    out
}
