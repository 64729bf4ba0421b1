//! Item analysis (试题分析) and rater agreement (评分一致性) of one session or form.
//!
//! - [`read`]: RESPONSES.csv and KEY.csv into a [`ScoreMatrix`] (persons × items, NaN =
//!   not presented) and a [`ChoiceMatrix`] (the options chosen, with the key).
//! - [`ctt`]: classical test theory — facility, item–total and item–rest correlations,
//!   the upper–lower index D, alpha-if-deleted, Cronbach's alpha, the SEM, distractor
//!   tables.
//! - [`flags`]: possible mis-keys, non-functioning distractors, too easy/hard, low
//!   discrimination, each with a reason in English and Chinese.
//! - [`irt`]: Rasch (1PL, common slope) and 2PL by marginal maximum likelihood
//!   (Bock–Aitkin EM), standard errors, EAP abilities.
//! - [`rater`]: ICCs, Cohen's (weighted) kappa, discrepancy flags for a third examiner.
//! - [`report`]: all of it for one form as one serializable report with chart data.
//!
//! Pure computation: no I/O beyond the bytes handed in.

pub mod ctt;
pub mod data;
pub mod flags;
pub mod irt;
pub mod rater;
pub mod read;
pub mod report;

pub use ctt::{
    Classical, ClassicalOptions, DistractorTable, ItemStats, OptionStats, TestStats, classical,
};
pub use data::{ChoiceKey, ChoiceMatrix, ChoiceScoring, ScoreMatrix};
pub use flags::{FlagKind, FlagThresholds, ItemFlag};
pub use irt::{Ability, IrtFit, IrtItem, IrtModel, IrtOptions, calibrate};
pub use read::{InputError, KeyTable, Notice, ResponseData, read_key, read_responses};
pub use report::{AnalysisOptions, AnalysisReport, IrtRequest, analyze, analyze_data};
