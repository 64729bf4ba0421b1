//! The item-analysis report of one session or form (试题分析报告): everything the API,
//! the CLI and the web charts need, serializable to JSON.

use super::ctt::{Classical, ClassicalOptions, DistractorTable, ItemStats, TestStats, classical};
use super::data::{ChoiceMatrix, ScoreMatrix};
use super::flags::{FlagThresholds, ItemFlag, flag_item};
use super::irt::{IrtFit, IrtModel, IrtOptions, calibrate};
use super::read::{Notice, ResponseData};
use serde::{Deserialize, Serialize};

/// Whether and which IRT model to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IrtRequest {
    None,
    Rasch,
    #[serde(rename = "2pl")]
    TwoPl,
    /// 2PL from [`AnalysisOptions::auto_2pl_min_persons`] persons, Rasch from
    /// [`AnalysisOptions::auto_rasch_min_persons`], else none.
    Auto,
}

/// Options of [`analyze`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisOptions {
    pub classical: ClassicalOptions,
    pub flags: FlagThresholds,
    pub irt: IrtRequest,
    /// Calibration settings; `model` is set from `irt`.
    pub irt_options: IrtOptions,
    pub auto_2pl_min_persons: usize,
    pub auto_rasch_min_persons: usize,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            classical: ClassicalOptions::default(),
            flags: FlagThresholds::default(),
            irt: IrtRequest::Auto,
            irt_options: IrtOptions::default(),
            auto_2pl_min_persons: 500,
            auto_rasch_min_persons: 100,
        }
    }
}

/// One item on the item map: its IRT difficulty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemMapPoint {
    pub item_id: String,
    pub b: f64,
}

/// One bar of the ability histogram (EAP θ).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThetaBin {
    pub from: f64,
    pub to: f64,
    pub count: usize,
}

/// Item map (Wright map): item difficulties beside the distribution of abilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemMap {
    pub items: Vec<ItemMapPoint>,
    pub theta_histogram: Vec<ThetaBin>,
}

/// One point of the discrimination-against-difficulty scatter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScatterPoint {
    pub item_id: String,
    pub facility: Option<f64>,
    pub r_item_rest: Option<f64>,
    pub discrimination_index: Option<f64>,
    pub irt_a: Option<f64>,
    pub irt_b: Option<f64>,
}

/// Data for the charts the web layer draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Charts {
    /// Present when IRT was fitted.
    pub item_map: Option<ItemMap>,
    pub difficulty_discrimination: Vec<ScatterPoint>,
}

/// The report of one form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisReport {
    pub test: TestStats,
    pub items: Vec<ItemStats>,
    pub distractors: Vec<DistractorTable>,
    pub flags: Vec<ItemFlag>,
    pub irt: Option<IrtFit>,
    /// Why IRT is absent or what limited it.
    pub irt_notes: Vec<Notice>,
    pub charts: Charts,
    /// What the readers assumed.
    pub notices: Vec<Notice>,
    /// The thresholds the flags used.
    pub thresholds: FlagThresholds,
}

/// Histogram of θ in bars of 0.5 on [−4, 4]; beyond that in the end bars.
pub fn theta_histogram(thetas: impl Iterator<Item = f64>) -> Vec<ThetaBin> {
    let (lo, w, bins) = (-4.0, 0.5, 16usize);
    let mut out: Vec<ThetaBin> = (0..bins)
        .map(|b| ThetaBin {
            from: lo + b as f64 * w,
            to: lo + (b + 1) as f64 * w,
            count: 0,
        })
        .collect();
    for t in thetas {
        let b = ((t - lo) / w).floor().clamp(0.0, (bins - 1) as f64) as usize;
        out[b].count += 1;
    }
    out
}

/// Analyze one form's scores (and choices, for distractor tables).
pub fn analyze(
    scores: &ScoreMatrix,
    choices: Option<&ChoiceMatrix>,
    opts: &AnalysisOptions,
) -> AnalysisReport {
    let Classical {
        test,
        items,
        distractors,
        ..
    } = classical(scores, choices, &opts.classical);
    let mut flags = Vec::new();
    for it in &items {
        let table = distractors.iter().find(|t| t.item_id == it.item_id);
        flags.extend(flag_item(it, table, &opts.flags));
    }
    let n = scores.n_persons();
    let mut irt_notes = Vec::new();
    let model = match opts.irt {
        IrtRequest::None => None,
        IrtRequest::Rasch => Some(IrtModel::Rasch),
        IrtRequest::TwoPl => Some(IrtModel::TwoPl),
        IrtRequest::Auto => {
            if n >= opts.auto_2pl_min_persons {
                Some(IrtModel::TwoPl)
            } else if n >= opts.auto_rasch_min_persons {
                Some(IrtModel::Rasch)
            } else {
                irt_notes.push(Notice {
                    en: format!(
                        "no IRT calibration: {n} candidates, fewer than the {} needed for a stable Rasch fit",
                        opts.auto_rasch_min_persons
                    ),
                    zh: format!(
                        "未做 IRT 标定：考生 {n} 人，少于稳定拟合 Rasch 模型所需的 {} 人",
                        opts.auto_rasch_min_persons
                    ),
                });
                None
            }
        }
    };
    let irt = model.and_then(|m| {
        let o = IrtOptions {
            model: m,
            ..opts.irt_options
        };
        match calibrate(scores, &o) {
            Ok(fit) => {
                if !fit.converged {
                    irt_notes.push(Notice {
                        en: format!(
                            "the IRT calibration did not converge in {} cycles: treat its parameters as rough",
                            fit.iterations
                        ),
                        zh: format!("IRT 标定在 {} 轮内未收敛：参数仅供参考", fit.iterations),
                    });
                }
                for e in &fit.excluded {
                    irt_notes.push(Notice {
                        en: format!("{} left out of the IRT calibration: {}", e.item_id, e.en),
                        zh: format!("{} 未参加 IRT 标定：{}", e.item_id, e.zh),
                    });
                }
                Some(fit)
            }
            Err(e) => {
                irt_notes.push(Notice { en: e.en, zh: e.zh });
                None
            }
        }
    });
    let irt_of = |id: &str| {
        irt.as_ref()
            .and_then(|f| f.items.iter().find(|i| i.item_id == id))
    };
    let difficulty_discrimination = items
        .iter()
        .map(|it| ScatterPoint {
            item_id: it.item_id.clone(),
            facility: it.facility,
            r_item_rest: it.r_item_rest,
            discrimination_index: it.discrimination_index,
            irt_a: irt_of(&it.item_id).map(|i| i.a),
            irt_b: irt_of(&it.item_id).map(|i| i.b),
        })
        .collect();
    let item_map = irt.as_ref().map(|f| ItemMap {
        items: f
            .items
            .iter()
            .map(|i| ItemMapPoint {
                item_id: i.item_id.clone(),
                b: i.b,
            })
            .collect(),
        theta_histogram: theta_histogram(f.abilities.iter().map(|a| a.theta)),
    });
    AnalysisReport {
        test,
        items,
        distractors,
        flags,
        irt,
        irt_notes,
        charts: Charts {
            item_map,
            difficulty_discrimination,
        },
        notices: Vec::new(),
        thresholds: opts.flags,
    }
}

/// Analyze data read by [`super::read::read_responses`], keeping the reader's notices.
pub fn analyze_data(data: &ResponseData, opts: &AnalysisOptions) -> AnalysisReport {
    let mut r = analyze(&data.scores, data.choices.as_ref(), opts);
    r.notices = data.notices.clone();
    r
}
