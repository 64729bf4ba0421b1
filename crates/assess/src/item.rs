//! Items of a certificate's question bank (题库): what a candidate is asked and how a
//! response is scored. An item's *content* (stem, interaction, key, points) is versioned;
//! its *metadata* (tags to the skill standard, level, difficulty, enemy group, …) lives
//! beside it in the bank. A delivered form keeps the version it used.

use serde::{Deserialize, Serialize};
use xcert_domain::FieldError;
use xcert_domain::framework::Level;

/// The kind of an item (题型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// 单选题
    SingleChoice,
    /// 多选题
    MultipleChoice,
    /// 判断题
    TrueFalse,
    /// 填空题
    TextEntry,
    /// 匹配题
    Matching,
    /// 排序题
    Ordering,
    /// 简答题 / 论述题: scored by a person.
    ExtendedText,
    /// 实操题: scored by examiners on an observation scale (观察量表).
    PracticalTask,
}

impl ItemKind {
    pub const ALL: [ItemKind; 8] = [
        ItemKind::SingleChoice,
        ItemKind::MultipleChoice,
        ItemKind::TrueFalse,
        ItemKind::TextEntry,
        ItemKind::Matching,
        ItemKind::Ordering,
        ItemKind::ExtendedText,
        ItemKind::PracticalTask,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::SingleChoice => "single_choice",
            ItemKind::MultipleChoice => "multiple_choice",
            ItemKind::TrueFalse => "true_false",
            ItemKind::TextEntry => "text_entry",
            ItemKind::Matching => "matching",
            ItemKind::Ordering => "ordering",
            ItemKind::ExtendedText => "extended_text",
            ItemKind::PracticalTask => "practical_task",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ItemKind::SingleChoice => "单选题",
            ItemKind::MultipleChoice => "多选题",
            ItemKind::TrueFalse => "判断题",
            ItemKind::TextEntry => "填空题",
            ItemKind::Matching => "匹配题",
            ItemKind::Ordering => "排序题",
            ItemKind::ExtendedText => "简答题",
            ItemKind::PracticalTask => "实操题",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            ItemKind::SingleChoice => "Single choice",
            ItemKind::MultipleChoice => "Multiple choice",
            ItemKind::TrueFalse => "True/false",
            ItemKind::TextEntry => "Text entry",
            ItemKind::Matching => "Matching",
            ItemKind::Ordering => "Ordering",
            ItemKind::ExtendedText => "Extended text",
            ItemKind::PracticalTask => "Practical task",
        }
    }

    /// Accepts the English key, the Chinese name and the common synonyms of Chinese banks.
    pub fn parse(field: &str, s: &str) -> Result<ItemKind, FieldError> {
        let t = s.trim();
        let k = t.to_lowercase().replace([' ', '-'], "_");
        let found = ItemKind::ALL
            .into_iter()
            .find(|x| x.as_str() == k || x.zh() == t || x.en().eq_ignore_ascii_case(t))
            .or(match t {
                "单选" | "单项选择题" | "单项选择" => Some(ItemKind::SingleChoice),
                "多选" | "多项选择题" | "多项选择" | "不定项选择题" => {
                    Some(ItemKind::MultipleChoice)
                }
                "判断" | "是非题" => Some(ItemKind::TrueFalse),
                "填空" => Some(ItemKind::TextEntry),
                "匹配" | "连线题" => Some(ItemKind::Matching),
                "排序" => Some(ItemKind::Ordering),
                "问答题" | "论述题" | "案例分析题" | "简答" => {
                    Some(ItemKind::ExtendedText)
                }
                "实操" | "操作题" | "技能操作题" | "实训题" => {
                    Some(ItemKind::PracticalTask)
                }
                _ => None,
            });
        found.ok_or_else(|| {
            FieldError::new(
                field,
                "bad_item_kind",
                format!(
                    "unknown item type \"{t}\": use single_choice, multiple_choice, true_false, text_entry, matching, ordering, extended_text or practical_task"
                ),
                format!(
                    "无法识别的题型“{t}”：应为 单选题、多选题、判断题、填空题、匹配题、排序题、简答题 或 实操题"
                ),
            )
        })
    }

    /// Scored by the machine from the response alone.
    pub fn is_objective(self) -> bool {
        !matches!(self, ItemKind::ExtendedText | ItemKind::PracticalTask)
    }

    /// Part of the theory (online) test rather than the practical part.
    pub fn is_theory(self) -> bool {
        self != ItemKind::PracticalTask
    }
}

/// Where an item stands in the bank's review (审核) process. Only approved items are
/// used in assembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Draft,
    InReview,
    Approved,
    Retired,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 4] = [
        ReviewStatus::Draft,
        ReviewStatus::InReview,
        ReviewStatus::Approved,
        ReviewStatus::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Draft => "draft",
            ReviewStatus::InReview => "in_review",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Retired => "retired",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ReviewStatus::Draft => "草稿",
            ReviewStatus::InReview => "审核中",
            ReviewStatus::Approved => "已审核",
            ReviewStatus::Retired => "已停用",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            ReviewStatus::Draft => "Draft",
            ReviewStatus::InReview => "In review",
            ReviewStatus::Approved => "Approved",
            ReviewStatus::Retired => "Retired",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<ReviewStatus, FieldError> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(ReviewStatus::Draft);
        }
        ReviewStatus::ALL
            .into_iter()
            .find(|x| {
                x.as_str() == t.to_lowercase().replace(' ', "_")
                    || x.zh() == t
                    || x.en().eq_ignore_ascii_case(t)
            })
            .or(match t {
                "待审核" | "审核" => Some(ReviewStatus::InReview),
                "通过" | "已通过" | "审核通过" => Some(ReviewStatus::Approved),
                "停用" | "作废" => Some(ReviewStatus::Retired),
                _ => None,
            })
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "bad_review_status",
                    format!(
                        "unknown review status \"{t}\": use draft, in_review, approved or retired"
                    ),
                    format!("无法识别的审核状态“{t}”：应为 草稿、审核中、已审核 或 已停用"),
                )
            })
    }
}

/// One option of a choice, matching or ordering interaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Stable within the item (`A`, `B`, … or the identifier an imported package used).
    pub id: String,
    /// Sanitized rich text (see [`crate::markup`]).
    pub text: String,
    /// Stays in place when options are shuffled ("all of the above").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fixed: bool,
}

impl Choice {
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Choice {
        Choice {
            id: id.into(),
            text: text.into(),
            fixed: false,
        }
    }
}

/// One blank of a text-entry item with the answers accepted for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blank {
    pub id: String,
    /// Accepted answers; compared after trimming and folding full-width characters.
    pub accepted: Vec<String>,
    #[serde(default)]
    pub case_sensitive: bool,
}

/// How partial answers to a multiple-response item (or several blanks) earn points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// Full points only for the exact key.
    #[default]
    AllOrNothing,
    /// Multiple choice: any wrong option scores 0, otherwise points × correct chosen /
    /// correct in key (the common 少选得分 rule). Blanks, pairs: points × share right.
    Partial,
}

/// One scored line of an observation scale (观察量表), e.g. "wears insulating gloves".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub id: String,
    pub text: String,
    /// Most points this line gives.
    pub points: f64,
    /// What a score looks like, e.g. (2, "fully correct"), (1, "minor slip"), (0, "not done").
    #[serde(default)]
    pub descriptors: Vec<Descriptor>,
    /// A critical line (安全项, safety): scoring 0 on it fails the whole task.
    #[serde(default)]
    pub critical: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Descriptor {
    pub points: f64,
    pub text: String,
}

/// The observation scale a practical task is scored on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ObservationScale {
    pub criteria: Vec<Criterion>,
}

impl ObservationScale {
    pub fn max_points(&self) -> f64 {
        self.criteria.iter().map(|c| c.points).sum()
    }

    /// The task score from one examiner's points per criterion (by criterion id).
    /// Missing criteria count 0; a critical criterion at 0 makes the task 0.
    pub fn total(&self, points: &std::collections::BTreeMap<String, f64>) -> f64 {
        let mut sum = 0.0;
        for c in &self.criteria {
            let p = points
                .get(&c.id)
                .copied()
                .unwrap_or(0.0)
                .clamp(0.0, c.points);
            if c.critical && p <= 0.0 {
                return 0.0;
            }
            sum += p;
        }
        sum
    }
}

/// What the candidate does, with the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Interaction {
    /// Single choice, multiple choice, true/false. `correct` holds choice ids.
    Choice {
        choices: Vec<Choice>,
        correct: Vec<String>,
        #[serde(default = "yes")]
        shuffle: bool,
    },
    /// One or more blanks.
    TextEntry { blanks: Vec<Blank> },
    /// Pair each source with a target. `correct` holds (source id, target id).
    Match {
        sources: Vec<Choice>,
        targets: Vec<Choice>,
        correct: Vec<(String, String)>,
        #[serde(default = "yes")]
        shuffle: bool,
    },
    /// Put the choices in order; `correct` is the right order of ids.
    Order {
        choices: Vec<Choice>,
        correct: Vec<String>,
        #[serde(default = "yes")]
        shuffle: bool,
    },
    /// Free text scored by a marker against the guide.
    ExtendedText {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_length: Option<u32>,
        /// Scoring guide (评分要点) for the marker, sanitized rich text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guide: Option<String>,
    },
    /// A task done at the exam site and scored on an observation scale.
    Practical { scale: ObservationScale },
}

fn yes() -> bool {
    true
}

/// A file an item refers to (an image in the stem, a diagram in a task), stored by content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    /// The path the stem uses (e.g. `images/circuit.png`), as in the imported package.
    pub path: String,
    /// The media type, e.g. `image/png`.
    pub mime: String,
    /// Content hash key in the object store, filled when the file is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
}

/// The versioned part of an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemContent {
    pub kind: ItemKind,
    /// The question, as sanitized rich text (see [`crate::markup`]).
    pub stem: String,
    pub interaction: Interaction,
    /// Most points the item gives in a form (a form may weight it differently).
    pub points: f64,
    #[serde(default)]
    pub scoring: Scoring,
    /// Explanation shown to reviewers (解析), never to candidates during the test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaRef>,
}

/// The bank's data about an item, beside its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ItemMeta {
    /// The item's identifier in its bank (e.g. `SGCC-RPM-0001`, or the QTI identifier).
    pub ident: String,
    /// Codes of the skill requirements (职业技能要求) it assesses, e.g. `1.2.3`; the
    /// prefixes give its work task (`1.2`) and work area (`1`).
    #[serde(default)]
    pub requirements: Vec<String>,
    #[serde(default)]
    pub level: Option<Level>,
    /// Rated difficulty 1 (easy, 易) … 5 (hard, 难), as Chinese banks label it.
    #[serde(default)]
    pub difficulty: Option<f64>,
    /// Items sharing an enemy group must not appear in the same form.
    #[serde(default)]
    pub enemy_group: Option<String>,
    /// Items sharing a testlet (a shared stimulus) are selected together.
    #[serde(default)]
    pub testlet: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    /// Expected time to answer, seconds.
    #[serde(default)]
    pub time_seconds: Option<u32>,
}

/// An item as imported or exchanged: metadata plus content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub meta: ItemMeta,
    pub content: ItemContent,
}

/// A candidate's response to one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// Chosen choice ids.
    Choice(Vec<String>),
    /// Text per blank, in the item's blank order.
    Text(Vec<String>),
    /// (source id, target id) pairs.
    Pairs(Vec<(String, String)>),
    /// Choice ids in the candidate's order.
    Order(Vec<String>),
    /// Free text.
    Extended(String),
}

/// The outcome of scoring one response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scored {
    /// Points earned, 0 ≤ points ≤ the item's points.
    Auto(f64),
    /// A person must score it (extended text, practical task).
    NeedsMarker,
}

/// Fold what candidates type into a comparable form: trim, full-width ASCII to half-width,
/// ideographic space to space, runs of spaces to one.
pub fn normalize_answer(s: &str, case_sensitive: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.trim().chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
            continue;
        }
        space = false;
        if case_sensitive {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out.trim().to_string()
}

impl ItemContent {
    /// Score a response with this content's key. A response of the wrong shape scores 0.
    pub fn score(&self, response: Option<&Response>) -> Scored {
        let pts = self.points;
        let partial = self.scoring == Scoring::Partial;
        let Some(response) = response else {
            return match &self.interaction {
                Interaction::ExtendedText { .. } | Interaction::Practical { .. } => {
                    Scored::NeedsMarker
                }
                _ => Scored::Auto(0.0),
            };
        };
        match (&self.interaction, response) {
            (Interaction::Choice { correct, .. }, Response::Choice(sel)) => {
                let key: std::collections::BTreeSet<&str> =
                    correct.iter().map(String::as_str).collect();
                let got: std::collections::BTreeSet<&str> =
                    sel.iter().map(String::as_str).collect();
                if got == key {
                    Scored::Auto(pts)
                } else if partial
                    && self.kind == ItemKind::MultipleChoice
                    && !got.is_empty()
                    && got.is_subset(&key)
                {
                    Scored::Auto(pts * got.len() as f64 / key.len() as f64)
                } else {
                    Scored::Auto(0.0)
                }
            }
            (Interaction::TextEntry { blanks }, Response::Text(texts)) => {
                if blanks.is_empty() {
                    return Scored::Auto(0.0);
                }
                let right = blanks
                    .iter()
                    .enumerate()
                    .filter(|(i, b)| {
                        texts.get(*i).is_some_and(|t| {
                            let t = normalize_answer(t, b.case_sensitive);
                            b.accepted
                                .iter()
                                .any(|a| normalize_answer(a, b.case_sensitive) == t)
                        })
                    })
                    .count();
                Scored::Auto(share(pts, right, blanks.len(), partial))
            }
            (Interaction::Match { correct, .. }, Response::Pairs(pairs)) => {
                if correct.is_empty() {
                    return Scored::Auto(0.0);
                }
                let given: std::collections::BTreeSet<(&str, &str)> = pairs
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                let right = correct
                    .iter()
                    .filter(|(a, b)| given.contains(&(a.as_str(), b.as_str())))
                    .count();
                // Extra wrong pairs cost the all-or-nothing score but not partial credit
                // beyond the pairs they displace.
                if !partial && given.len() != correct.len() {
                    return Scored::Auto(0.0);
                }
                Scored::Auto(share(pts, right, correct.len(), partial))
            }
            (Interaction::Order { correct, .. }, Response::Order(order)) => {
                if order == correct {
                    Scored::Auto(pts)
                } else if partial && !correct.is_empty() {
                    let right = correct
                        .iter()
                        .zip(order.iter())
                        .filter(|(a, b)| a == b)
                        .count();
                    Scored::Auto(share(pts, right, correct.len(), true))
                } else {
                    Scored::Auto(0.0)
                }
            }
            (Interaction::ExtendedText { .. }, _) | (Interaction::Practical { .. }, _) => {
                Scored::NeedsMarker
            }
            _ => Scored::Auto(0.0),
        }
    }

    /// The correct response, for reviewers and exports.
    pub fn key(&self) -> Option<Response> {
        match &self.interaction {
            Interaction::Choice { correct, .. } => Some(Response::Choice(correct.clone())),
            Interaction::TextEntry { blanks } => Some(Response::Text(
                blanks
                    .iter()
                    .map(|b| b.accepted.first().cloned().unwrap_or_default())
                    .collect(),
            )),
            Interaction::Match { correct, .. } => Some(Response::Pairs(correct.clone())),
            Interaction::Order { correct, .. } => Some(Response::Order(correct.clone())),
            _ => None,
        }
    }

    /// Check that the content is whole: a stem, points > 0, a key that names existing
    /// options, the kind matching the interaction. Errors name the field.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Vec::new();
        let err = |errs: &mut Vec<FieldError>, field: &str, code: &str, en: String, zh: String| {
            errs.push(FieldError::new(field, code, en, zh))
        };
        if crate::markup::plain_text(&self.stem).trim().is_empty() && self.media.is_empty() {
            errs.push(FieldError::required("stem"));
        }
        if !(self.points > 0.0 && self.points.is_finite()) {
            err(
                &mut errs,
                "points",
                "bad_points",
                "points must be a positive number".into(),
                "分值必须为正数".into(),
            );
        }
        let kind_ok = matches!(
            (self.kind, &self.interaction),
            (
                ItemKind::SingleChoice | ItemKind::MultipleChoice | ItemKind::TrueFalse,
                Interaction::Choice { .. }
            ) | (ItemKind::TextEntry, Interaction::TextEntry { .. })
                | (ItemKind::Matching, Interaction::Match { .. })
                | (ItemKind::Ordering, Interaction::Order { .. })
                | (ItemKind::ExtendedText, Interaction::ExtendedText { .. })
                | (ItemKind::PracticalTask, Interaction::Practical { .. })
        );
        if !kind_ok {
            err(
                &mut errs,
                "kind",
                "kind_mismatch",
                format!("a {} item cannot have this interaction", self.kind.en()),
                format!("{}与作答方式不符", self.kind.zh()),
            );
            return Err(errs);
        }
        match &self.interaction {
            Interaction::Choice {
                choices, correct, ..
            } => {
                check_ids(&mut errs, "choices", choices);
                if choices.len() < 2 {
                    err(
                        &mut errs,
                        "choices",
                        "too_few_choices",
                        "needs at least two options".into(),
                        "至少需要两个选项".into(),
                    );
                }
                if correct.is_empty() {
                    err(
                        &mut errs,
                        "key",
                        "no_key",
                        "no correct option is given".into(),
                        "未给出正确答案".into(),
                    );
                }
                for c in correct {
                    if !choices.iter().any(|x| &x.id == c) {
                        err(
                            &mut errs,
                            "key",
                            "key_not_an_option",
                            format!("the key names option \"{c}\", which the item does not have"),
                            format!("答案“{c}”不是本题的选项"),
                        );
                    }
                }
                if matches!(self.kind, ItemKind::SingleChoice | ItemKind::TrueFalse)
                    && correct.len() > 1
                {
                    err(
                        &mut errs,
                        "key",
                        "several_keys",
                        format!("a {} item has exactly one correct option", self.kind.en()),
                        format!("{}只能有一个正确答案", self.kind.zh()),
                    );
                }
                if self.kind == ItemKind::TrueFalse && choices.len() != 2 {
                    err(
                        &mut errs,
                        "choices",
                        "true_false_choices",
                        "a true/false item has exactly two options".into(),
                        "判断题只能有两个选项".into(),
                    );
                }
            }
            Interaction::TextEntry { blanks } => {
                if blanks.is_empty() {
                    err(
                        &mut errs,
                        "blanks",
                        "no_blanks",
                        "a text-entry item needs at least one blank".into(),
                        "填空题至少需要一个空".into(),
                    );
                }
                for b in blanks {
                    if b.accepted.iter().all(|a| a.trim().is_empty()) {
                        err(
                            &mut errs,
                            "key",
                            "no_key",
                            format!("blank \"{}\" has no accepted answer", b.id),
                            format!("空“{}”没有参考答案", b.id),
                        );
                    }
                }
            }
            Interaction::Match {
                sources,
                targets,
                correct,
                ..
            } => {
                check_ids(&mut errs, "sources", sources);
                check_ids(&mut errs, "targets", targets);
                if correct.is_empty() {
                    err(
                        &mut errs,
                        "key",
                        "no_key",
                        "no correct pair is given".into(),
                        "未给出正确配对".into(),
                    );
                }
                for (s, t) in correct {
                    if !sources.iter().any(|x| &x.id == s) || !targets.iter().any(|x| &x.id == t) {
                        err(
                            &mut errs,
                            "key",
                            "key_not_an_option",
                            format!("the pair {s}–{t} names an option the item does not have"),
                            format!("配对 {s}–{t} 含有本题没有的选项"),
                        );
                    }
                }
            }
            Interaction::Order {
                choices, correct, ..
            } => {
                check_ids(&mut errs, "choices", choices);
                let mut a: Vec<&str> = choices.iter().map(|c| c.id.as_str()).collect();
                let mut b: Vec<&str> = correct.iter().map(String::as_str).collect();
                a.sort();
                b.sort();
                if a != b || a.len() < 2 {
                    err(
                        &mut errs,
                        "key",
                        "bad_order_key",
                        "the correct order must list every option once".into(),
                        "正确顺序必须恰好列出每个选项一次".into(),
                    );
                }
            }
            Interaction::ExtendedText { .. } => {}
            Interaction::Practical { scale } => {
                if scale.criteria.is_empty() {
                    err(
                        &mut errs,
                        "criteria",
                        "no_criteria",
                        "a practical task needs at least one observation criterion".into(),
                        "实操题至少需要一条观察评分项".into(),
                    );
                }
                for c in &scale.criteria {
                    if !(c.points > 0.0 && c.points.is_finite()) {
                        err(
                            &mut errs,
                            "criteria",
                            "bad_points",
                            format!("criterion \"{}\" needs positive points", c.text),
                            format!("评分项“{}”的分值必须为正数", c.text),
                        );
                    }
                }
                let sum = scale.max_points();
                if !scale.criteria.is_empty() && (sum - self.points).abs() > 1e-6 {
                    err(
                        &mut errs,
                        "points",
                        "points_mismatch",
                        format!(
                            "the criteria add up to {sum} points, the task says {}",
                            self.points
                        ),
                        format!("评分项合计 {sum} 分，与本题分值 {} 分不符", self.points),
                    );
                }
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

fn share(points: f64, right: usize, of: usize, partial: bool) -> f64 {
    if right == of {
        points
    } else if partial && of > 0 {
        points * right as f64 / of as f64
    } else {
        0.0
    }
}

fn check_ids(errs: &mut Vec<FieldError>, field: &str, choices: &[Choice]) {
    let mut seen = std::collections::BTreeSet::new();
    for c in choices {
        if c.id.trim().is_empty() || !seen.insert(c.id.as_str()) {
            errs.push(FieldError::new(
                field,
                "bad_option_id",
                format!(
                    "option identifiers must be present and distinct (\"{}\")",
                    c.id
                ),
                format!("选项标识不能为空且不能重复（“{}”）", c.id),
            ));
        }
    }
}

impl ItemMeta {
    /// Check the metadata: an identifier, difficulty within 1–5, requirement codes shaped
    /// like outline codes.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Vec::new();
        let id = self.ident.trim();
        if id.is_empty() {
            errs.push(FieldError::required("ident"));
        } else if id.chars().count() > 100 || id.chars().any(char::is_control) {
            errs.push(FieldError::new(
                "ident",
                "bad_ident",
                "an item identifier has at most 100 printable characters",
                "题目编号最多 100 个可见字符",
            ));
        }
        if let Some(d) = self.difficulty
            && !(1.0..=5.0).contains(&d)
        {
            errs.push(FieldError::new(
                "difficulty",
                "bad_difficulty",
                format!("difficulty {d} is outside 1 (easy) … 5 (hard)"),
                format!("难度 {d} 超出 1（易）至 5（难）的范围"),
            ));
        }
        for r in &self.requirements {
            if !is_outline_code(r) {
                errs.push(FieldError::new(
                    "requirements",
                    "bad_requirement_code",
                    format!("\"{r}\" is not a skill requirement code such as 1.2.3"),
                    format!("“{r}”不是职业技能要求编号（如 1.2.3）"),
                ));
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// Work area codes of the requirements (`1.2.3` → `1`), deduplicated, in order.
    pub fn areas(&self) -> Vec<String> {
        prefixes(&self.requirements, 1)
    }

    /// Work task codes of the requirements (`1.2.3` → `1.2`), deduplicated, in order.
    pub fn tasks(&self) -> Vec<String> {
        prefixes(&self.requirements, 2)
    }
}

/// `1`, `1.2`, `1.2.3`: dot-separated positive numbers.
pub fn is_outline_code(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn prefixes(codes: &[String], depth: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in codes.iter().filter(|c| is_outline_code(c)) {
        let p: Vec<&str> = c.split('.').take(depth).collect();
        if p.len() == depth {
            let s = p.join(".");
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

impl Item {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Vec::new();
        if let Err(e) = self.meta.validate() {
            errs.extend(e);
        }
        if let Err(e) = self.content.validate() {
            errs.extend(e);
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(kind: ItemKind, correct: &[&str], scoring: Scoring) -> ItemContent {
        ItemContent {
            kind,
            stem: "<p>继电保护装置的基本要求是？</p>".into(),
            interaction: Interaction::Choice {
                choices: ["A", "B", "C", "D"]
                    .iter()
                    .map(|id| Choice::new(*id, format!("选项{id}")))
                    .collect(),
                correct: correct.iter().map(|s| s.to_string()).collect(),
                shuffle: true,
            },
            points: 2.0,
            scoring,
            explanation: None,
            media: vec![],
        }
    }

    fn sel(ids: &[&str]) -> Response {
        Response::Choice(ids.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn single_choice_scores_the_key_only() {
        let c = choice(ItemKind::SingleChoice, &["B"], Scoring::AllOrNothing);
        assert_eq!(c.score(Some(&sel(&["B"]))), Scored::Auto(2.0));
        assert_eq!(c.score(Some(&sel(&["A"]))), Scored::Auto(0.0));
        assert_eq!(c.score(Some(&sel(&["A", "B"]))), Scored::Auto(0.0));
        assert_eq!(c.score(None), Scored::Auto(0.0));
        assert_eq!(
            c.score(Some(&Response::Text(vec!["B".into()]))),
            Scored::Auto(0.0)
        );
    }

    #[test]
    fn multiple_choice_partial_credit_only_without_a_wrong_option() {
        let c = choice(ItemKind::MultipleChoice, &["A", "C", "D"], Scoring::Partial);
        assert_eq!(c.score(Some(&sel(&["D", "A", "C"]))), Scored::Auto(2.0));
        let Scored::Auto(p) = c.score(Some(&sel(&["A", "C"]))) else {
            panic!()
        };
        assert!((p - 4.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.score(Some(&sel(&["A", "B"]))), Scored::Auto(0.0));
        let strict = choice(ItemKind::MultipleChoice, &["A", "C"], Scoring::AllOrNothing);
        assert_eq!(strict.score(Some(&sel(&["A"]))), Scored::Auto(0.0));
    }

    #[test]
    fn text_entry_folds_full_width_and_case() {
        let c = ItemContent {
            kind: ItemKind::TextEntry,
            stem: "电流的单位是____，电压的单位是____".into(),
            interaction: Interaction::TextEntry {
                blanks: vec![
                    Blank {
                        id: "1".into(),
                        accepted: vec!["安培".into(), "A".into()],
                        case_sensitive: false,
                    },
                    Blank {
                        id: "2".into(),
                        accepted: vec!["伏特".into(), "V".into()],
                        case_sensitive: false,
                    },
                ],
            },
            points: 4.0,
            scoring: Scoring::Partial,
            explanation: None,
            media: vec![],
        };
        // Full-width "Ａ" and a lower-case "v" with an ideographic space.
        assert_eq!(
            c.score(Some(&Response::Text(vec![
                "Ａ".into(),
                "\u{3000}v ".into()
            ]))),
            Scored::Auto(4.0)
        );
        assert_eq!(
            c.score(Some(&Response::Text(vec!["安培".into(), "欧姆".into()]))),
            Scored::Auto(2.0)
        );
    }

    #[test]
    fn practical_critical_criterion_zeroes_the_task() {
        let scale = ObservationScale {
            criteria: vec![
                Criterion {
                    id: "safety".into(),
                    text: "佩戴绝缘手套".into(),
                    points: 10.0,
                    descriptors: vec![],
                    critical: true,
                },
                Criterion {
                    id: "wiring".into(),
                    text: "接线正确".into(),
                    points: 30.0,
                    descriptors: vec![],
                    critical: false,
                },
            ],
        };
        let mut pts = std::collections::BTreeMap::new();
        pts.insert("wiring".to_string(), 28.0);
        pts.insert("safety".to_string(), 10.0);
        assert_eq!(scale.total(&pts), 38.0);
        pts.insert("safety".to_string(), 0.0);
        assert_eq!(scale.total(&pts), 0.0);
        // Points above a line's maximum are capped.
        pts.insert("safety".to_string(), 10.0);
        pts.insert("wiring".to_string(), 99.0);
        assert_eq!(scale.total(&pts), 40.0);
    }

    #[test]
    fn validation_names_the_field() {
        let mut c = choice(ItemKind::SingleChoice, &["E"], Scoring::AllOrNothing);
        let e = c.validate().unwrap_err();
        assert_eq!(e[0].field, "key");
        assert_eq!(e[0].code, "key_not_an_option");
        c = choice(ItemKind::SingleChoice, &["A", "B"], Scoring::AllOrNothing);
        assert_eq!(c.validate().unwrap_err()[0].code, "several_keys");
        c = choice(ItemKind::SingleChoice, &["A"], Scoring::AllOrNothing);
        c.points = 0.0;
        assert_eq!(c.validate().unwrap_err()[0].field, "points");
        let m = ItemMeta {
            ident: "Q1".into(),
            requirements: vec!["1.2.3".into(), "x.1".into()],
            difficulty: Some(7.0),
            ..Default::default()
        };
        let e = m.validate().unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!(m.areas(), vec!["1".to_string()], "bad codes have no prefix");
    }

    #[test]
    fn kinds_parse_from_chinese_bank_labels() {
        assert_eq!(
            ItemKind::parse("t", "多项选择题").unwrap(),
            ItemKind::MultipleChoice
        );
        assert_eq!(ItemKind::parse("t", "判断题").unwrap(), ItemKind::TrueFalse);
        assert_eq!(
            ItemKind::parse("t", "single choice").unwrap(),
            ItemKind::SingleChoice
        );
        assert!(ItemKind::parse("t", "作文").is_err());
    }
}
