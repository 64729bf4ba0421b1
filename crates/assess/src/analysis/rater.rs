//! Rater agreement for practical scoring (评分一致性): two or more examiners (考评员)
//! scoring the same candidates.
//!
//! - Intraclass correlations of Shrout & Fleiss (1979) from the two-way ANOVA of a
//!   complete candidates × raters table: ICC(1,1) one-way random, ICC(2,1) two-way
//!   random absolute agreement, ICC(3,1) two-way mixed consistency, and the
//!   average-measure forms ICC(1,k), ICC(2,k), ICC(3,k).
//! - Cohen's kappa (1960) and weighted kappa (1968) for two raters on categories, with
//!   linear, quadratic or given disagreement weights.
//! - Discrepancy flags: candidates whose scores differ by more than a threshold go to a
//!   third examiner (仲裁).

use serde::{Deserialize, Serialize};

/// Why agreement cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{en}")]
pub struct AgreementError {
    pub en: String,
    pub zh: String,
}

fn err(en: impl Into<String>, zh: impl Into<String>) -> AgreementError {
    AgreementError {
        en: en.into(),
        zh: zh.into(),
    }
}

/// The six intraclass correlations and the mean squares behind them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Icc {
    pub n_targets: usize,
    pub n_raters: usize,
    /// Between-targets, within-targets, between-raters (judges) and residual mean squares.
    pub bms: f64,
    pub wms: f64,
    pub jms: f64,
    pub ems: f64,
    /// Single rater, one-way random.
    pub icc1: Option<f64>,
    /// Single rater, two-way random, absolute agreement.
    pub icc2: Option<f64>,
    /// Single rater, two-way mixed, consistency.
    pub icc3: Option<f64>,
    /// Mean of k raters, one-way random.
    pub icc1k: Option<f64>,
    /// Mean of k raters, two-way random, absolute agreement.
    pub icc2k: Option<f64>,
    /// Mean of k raters, two-way mixed, consistency.
    pub icc3k: Option<f64>,
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den.abs() > 1e-300 && num.is_finite() && den.is_finite()).then(|| num / den)
}

/// ICCs of a complete table: `ratings[target][rater]`, every row the same length.
pub fn icc(ratings: &[Vec<f64>]) -> Result<Icc, AgreementError> {
    let n = ratings.len();
    if n < 2 {
        return Err(err(
            "at least two candidates are needed",
            "至少需要两名考生",
        ));
    }
    let k = ratings[0].len();
    if k < 2 {
        return Err(err("at least two raters are needed", "至少需要两名考评员"));
    }
    for (i, row) in ratings.iter().enumerate() {
        if row.len() != k {
            return Err(err(
                format!(
                    "candidate {} has {} ratings, the first has {k}: every candidate needs a score from every rater",
                    i + 1,
                    row.len()
                ),
                format!(
                    "第 {} 名考生有 {} 个评分，第一名有 {k} 个：每名考生都需要每位考评员的评分",
                    i + 1,
                    row.len()
                ),
            ));
        }
        if let Some(r) = row.iter().position(|x| !x.is_finite()) {
            return Err(err(
                format!("candidate {} rater {}: the score is missing", i + 1, r + 1),
                format!("第 {} 名考生第 {} 位考评员：评分缺失", i + 1, r + 1),
            ));
        }
    }
    let (nf, kf) = (n as f64, k as f64);
    let grand = ratings.iter().flatten().sum::<f64>() / (nf * kf);
    let row_means: Vec<f64> = ratings.iter().map(|r| r.iter().sum::<f64>() / kf).collect();
    let col_means: Vec<f64> = (0..k)
        .map(|j| ratings.iter().map(|r| r[j]).sum::<f64>() / nf)
        .collect();
    let ss_total: f64 = ratings.iter().flatten().map(|x| (x - grand).powi(2)).sum();
    let ss_rows = kf * row_means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let ss_cols = nf * col_means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let ss_within = ss_total - ss_rows;
    let ss_err = ss_total - ss_rows - ss_cols;
    let bms = ss_rows / (nf - 1.0);
    let wms = ss_within / (nf * (kf - 1.0));
    let jms = ss_cols / (kf - 1.0);
    let ems = ss_err / ((nf - 1.0) * (kf - 1.0));
    Ok(Icc {
        n_targets: n,
        n_raters: k,
        bms,
        wms,
        jms,
        ems,
        icc1: ratio(bms - wms, bms + (kf - 1.0) * wms),
        icc2: ratio(bms - ems, bms + (kf - 1.0) * ems + kf * (jms - ems) / nf),
        icc3: ratio(bms - ems, bms + (kf - 1.0) * ems),
        icc1k: ratio(bms - wms, bms),
        icc2k: ratio(bms - ems, bms + (jms - ems) / nf),
        icc3k: ratio(bms - ems, bms),
    })
}

/// Disagreement weights of weighted kappa.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KappaWeights {
    /// Unweighted: every disagreement counts the same.
    None,
    /// |i − j| (Cicchetti–Allison).
    Linear,
    /// (i − j)² (Fleiss–Cohen).
    Quadratic,
    /// A given c × c disagreement matrix, row-major (0 on the diagonal).
    Matrix(Vec<f64>),
}

/// Kappa with its parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Kappa {
    pub n: f64,
    /// Observed and chance-expected (weighted) disagreement, as shares.
    pub observed_disagreement: f64,
    pub expected_disagreement: f64,
    /// 1 − observed / expected; `None` when chance predicts no disagreement.
    pub kappa: Option<f64>,
}

/// Kappa from a c × c table of counts (`table[i][j]`: rater 1 said category i, rater 2
/// said j; categories in scale order). Weighted kappa = 1 − Σ v·p_obs / Σ v·p_chance
/// with disagreement weights v (Cohen 1968); unweighted kappa is the case v = 1 off the
/// diagonal.
pub fn kappa_from_table(
    table: &[Vec<f64>],
    weights: &KappaWeights,
) -> Result<Kappa, AgreementError> {
    let c = table.len();
    if c < 2 || table.iter().any(|r| r.len() != c) {
        return Err(err(
            "the table must be square with at least two categories",
            "列联表须为方阵且至少有两个类别",
        ));
    }
    if table
        .iter()
        .flatten()
        .any(|x| !(x.is_finite() && *x >= 0.0))
    {
        return Err(err("counts must be non-negative numbers", "频数须为非负数"));
    }
    let v = |i: usize, j: usize| -> f64 {
        let dist = (i as f64 - j as f64).abs();
        match weights {
            KappaWeights::None => f64::from(u8::from(i != j)),
            KappaWeights::Linear => dist,
            KappaWeights::Quadratic => dist * dist,
            KappaWeights::Matrix(m) => m.get(i * c + j).copied().unwrap_or(f64::NAN),
        }
    };
    if let KappaWeights::Matrix(m) = weights
        && m.len() != c * c
    {
        return Err(err(
            format!(
                "the weight matrix has {} cells; {c} × {c} are needed",
                m.len()
            ),
            format!("权重矩阵有 {} 个元素；需要 {c} × {c} 个", m.len()),
        ));
    }
    let n: f64 = table.iter().flatten().sum();
    if n <= 0.0 {
        return Err(err("the table is empty", "列联表为空"));
    }
    let rows: Vec<f64> = table.iter().map(|r| r.iter().sum::<f64>() / n).collect();
    let cols: Vec<f64> = (0..c)
        .map(|j| table.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    let (mut obs, mut exp) = (0.0, 0.0);
    for i in 0..c {
        for j in 0..c {
            obs += v(i, j) * table[i][j] / n;
            exp += v(i, j) * rows[i] * cols[j];
        }
    }
    Ok(Kappa {
        n,
        observed_disagreement: obs,
        expected_disagreement: exp,
        kappa: (exp > 1e-15).then(|| 1.0 - obs / exp),
    })
}

/// Kappa of two raters' integer scores on one candidate each, on the scale
/// `min..=max` of both (so weights follow score distances, and a score nobody gave
/// still counts as a step of the scale).
pub fn cohen_kappa(
    rater1: &[i64],
    rater2: &[i64],
    weights: &KappaWeights,
) -> Result<Kappa, AgreementError> {
    if rater1.len() != rater2.len() {
        return Err(err(
            format!(
                "the raters scored {} and {} candidates: both must score the same ones",
                rater1.len(),
                rater2.len()
            ),
            format!(
                "两位考评员分别评了 {} 和 {} 名考生：须评同一批考生",
                rater1.len(),
                rater2.len()
            ),
        ));
    }
    let (Some(lo), Some(hi)) = (
        rater1.iter().chain(rater2).min().copied(),
        rater1.iter().chain(rater2).max().copied(),
    ) else {
        return Err(err("no ratings", "没有评分"));
    };
    let c = (hi - lo + 1) as usize;
    if c > 1000 {
        return Err(err(
            "the scores span more than 1000 steps: use ICC for such scales",
            "评分跨度超过 1000 级：此类量表请使用 ICC",
        ));
    }
    let c = c.max(2);
    let mut table = vec![vec![0.0; c]; c];
    for (a, b) in rater1.iter().zip(rater2) {
        table[(a - lo) as usize][(b - lo) as usize] += 1.0;
    }
    kappa_from_table(&table, weights)
}

/// When two scores are too far apart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscrepancyThreshold {
    /// More than this many points apart.
    Points(f64),
    /// More than this percentage of the maximum score apart.
    PercentOfMax { percent: f64, max_points: f64 },
}

impl DiscrepancyThreshold {
    fn points(&self) -> f64 {
        match *self {
            DiscrepancyThreshold::Points(p) => p,
            DiscrepancyThreshold::PercentOfMax {
                percent,
                max_points,
            } => percent / 100.0 * max_points,
        }
    }
}

/// A candidate to send to a third examiner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discrepancy {
    /// Index of the candidate in the input.
    pub candidate: usize,
    pub lowest: f64,
    pub highest: f64,
    pub difference: f64,
    pub en: String,
    pub zh: String,
}

/// Candidates whose scores (two or more raters each) differ by more than the threshold:
/// highest minus lowest, so with two raters the plain difference.
pub fn flag_discrepancies(
    ratings: &[Vec<f64>],
    threshold: DiscrepancyThreshold,
) -> Vec<Discrepancy> {
    let limit = threshold.points();
    let mut out = Vec::new();
    for (i, row) in ratings.iter().enumerate() {
        let given: Vec<f64> = row.iter().copied().filter(|x| x.is_finite()).collect();
        if given.len() < 2 {
            continue;
        }
        let lo = given.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = given.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let diff = hi - lo;
        if diff > limit + 1e-9 {
            let how = match threshold {
                DiscrepancyThreshold::Points(p) => (format!("{p} points"), format!("{p} 分")),
                DiscrepancyThreshold::PercentOfMax {
                    percent,
                    max_points,
                } => (
                    format!("{percent}% of the {max_points} points ({limit})"),
                    format!("满分 {max_points} 的 {percent}%（{limit} 分）"),
                ),
            };
            out.push(Discrepancy {
                candidate: i,
                lowest: lo,
                highest: hi,
                difference: diff,
                en: format!(
                    "scores {lo} and {hi} differ by {diff}, more than {}: a third examiner should score this candidate",
                    how.0
                ),
                zh: format!(
                    "评分 {lo} 与 {hi} 相差 {diff}，超过 {}：应由第三位考评员评分",
                    how.1
                ),
            });
        }
    }
    out
}
