//! Item flags (试题预警): what a reviewer should look at, each with a reason in plain
//! words (English and Chinese) and the numbers behind it.

use super::ctt::{DistractorTable, ItemStats};
use serde::{Deserialize, Serialize};

/// Thresholds of the flags. The defaults are the usual rules of thumb of classical item
/// analysis (e.g. Ebel's D/r bands; 5 % for a functioning distractor).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlagThresholds {
    /// Facility above this: too easy.
    pub too_easy: f64,
    /// Facility below this: too hard.
    pub too_hard: f64,
    /// Corrected item–total r below this: low discrimination.
    pub low_discrimination: f64,
    /// A distractor chosen by fewer than this share does not function.
    pub non_functioning: f64,
    /// Fewer persons than this: no flags on the item (too few to judge).
    pub min_persons: usize,
}

impl Default for FlagThresholds {
    fn default() -> Self {
        FlagThresholds {
            too_easy: 0.90,
            too_hard: 0.20,
            low_discrimination: 0.20,
            non_functioning: 0.05,
            min_persons: 20,
        }
    }
}

/// What a flag is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// 疑似答案错误
    PossibleMiskey,
    /// 无效干扰项
    NonFunctioningDistractor,
    /// 过易
    TooEasy,
    /// 过难
    TooHard,
    /// 区分度低
    LowDiscrimination,
    /// 得分无差异: everyone scored the same.
    NoVariance,
}

impl FlagKind {
    pub fn zh(self) -> &'static str {
        match self {
            FlagKind::PossibleMiskey => "疑似答案错误",
            FlagKind::NonFunctioningDistractor => "无效干扰项",
            FlagKind::TooEasy => "过易",
            FlagKind::TooHard => "过难",
            FlagKind::LowDiscrimination => "区分度低",
            FlagKind::NoVariance => "得分无差异",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            FlagKind::PossibleMiskey => "Possible mis-key",
            FlagKind::NonFunctioningDistractor => "Non-functioning distractor",
            FlagKind::TooEasy => "Too easy",
            FlagKind::TooHard => "Too hard",
            FlagKind::LowDiscrimination => "Low discrimination",
            FlagKind::NoVariance => "No variance",
        }
    }
}

/// One flag on one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemFlag {
    pub item_id: String,
    pub kind: FlagKind,
    /// The option concerned, for distractor and mis-key flags.
    pub option: Option<String>,
    pub en: String,
    pub zh: String,
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// Flags of one item from its statistics and (for choice items) its distractor table.
pub fn flag_item(
    item: &ItemStats,
    table: Option<&DistractorTable>,
    th: &FlagThresholds,
) -> Vec<ItemFlag> {
    let mut out = Vec::new();
    if item.n < th.min_persons.max(1) {
        return out;
    }
    let id = &item.item_id;
    let mut push = |kind: FlagKind, option: Option<String>, en: String, zh: String| {
        out.push(ItemFlag {
            item_id: id.clone(),
            kind,
            option,
            en,
            zh,
        })
    };
    let p = item.facility;
    if item.sd.is_some_and(|s| s <= 1e-9) {
        let what = p.map_or(String::new(), pct);
        push(
            FlagKind::NoVariance,
            None,
            format!(
                "every candidate who had the item got the same score ({what} of the points): it tells nothing about who knows more"
            ),
            format!("所有作答考生得分相同（得分率 {what}）：无法区分掌握程度"),
        );
    } else {
        if let Some(p) = p {
            if p > th.too_easy {
                push(
                    FlagKind::TooEasy,
                    None,
                    format!(
                        "{} of the points were earned (above {}): nearly everyone gets it right, so it separates few candidates",
                        pct(p),
                        pct(th.too_easy)
                    ),
                    format!(
                        "得分率 {}（高于 {}）：几乎人人答对，区分作用小",
                        pct(p),
                        pct(th.too_easy)
                    ),
                );
            } else if p < th.too_hard {
                push(
                    FlagKind::TooHard,
                    None,
                    format!(
                        "only {} of the points were earned (below {}): check the key, the wording and whether the content was taught",
                        pct(p),
                        pct(th.too_hard)
                    ),
                    format!(
                        "得分率仅 {}（低于 {}）：请检查答案、题干表述及该内容是否已教授",
                        pct(p),
                        pct(th.too_hard)
                    ),
                );
            }
        }
        if let Some(r) = item.r_item_rest
            && r < th.low_discrimination
        {
            let (en, zh) = if r < 0.0 {
                (
                    format!(
                        "the corrected item–total correlation is negative ({r:.2}): weaker candidates do better on it than stronger ones"
                    ),
                    format!("校正题总相关为负（{r:.2}）：低分考生反而比高分考生答得好"),
                )
            } else {
                (
                    format!(
                        "the corrected item–total correlation is {r:.2} (below {:.2}): the item barely separates stronger from weaker candidates",
                        th.low_discrimination
                    ),
                    format!(
                        "校正题总相关为 {r:.2}（低于 {:.2}）：几乎不能区分高低水平考生",
                        th.low_discrimination
                    ),
                )
            };
            push(FlagKind::LowDiscrimination, None, en, zh);
        }
    }
    let Some(table) = table else {
        return out;
    };
    let r_key = item.r_item_rest;
    // Mis-key: a distractor that the stronger candidates prefer to the key.
    let mut miskey_found = false;
    for row in &table.rows {
        let (Some(opt), false) = (&row.option, row.is_key) else {
            continue;
        };
        if let Some(r) = row.r_rest
            && r > 0.0
            && r_key.is_none_or(|rk| r > rk)
        {
            let rk = r_key.map_or("none".to_string(), |v| format!("{v:.2}"));
            let rk_zh = r_key.map_or("无".to_string(), |v| format!("{v:.2}"));
            push(
                FlagKind::PossibleMiskey,
                Some(opt.clone()),
                format!(
                    "option {opt} draws the stronger candidates more than the key {} does (r with the rest score {r:.2} against {rk}): check whether {opt} is the right answer",
                    table.key
                ),
                format!(
                    "选项 {opt} 比答案 {} 更受高分考生青睐（与其余得分的相关 {r:.2}，答案为 {rk_zh}）：请核查 {opt} 是否才是正确答案",
                    table.key
                ),
            );
            miskey_found = true;
        }
    }
    if !miskey_found
        && let Some(rk) = r_key
        && rk < 0.0
    {
        push(
            FlagKind::PossibleMiskey,
            None,
            format!(
                "the key {} is chosen more by weaker candidates than by stronger ones (r = {rk:.2}): check the key",
                table.key
            ),
            format!(
                "答案 {} 更多被低分考生选中（r = {rk:.2}）：请核查答案",
                table.key
            ),
        );
    }
    for row in &table.rows {
        let (Some(opt), false, Some(prop)) = (&row.option, row.is_key, row.proportion) else {
            continue;
        };
        if prop < th.non_functioning {
            push(
                FlagKind::NonFunctioningDistractor,
                Some(opt.clone()),
                format!(
                    "option {opt} was chosen by {} of the candidates (below {}): it distracts no one; rewrite or replace it",
                    pct(prop),
                    pct(th.non_functioning)
                ),
                format!(
                    "选项 {opt} 仅 {} 的考生选择（低于 {}）：未起到干扰作用，建议修改或替换",
                    pct(prop),
                    pct(th.non_functioning)
                ),
            );
        }
    }
    out
}
