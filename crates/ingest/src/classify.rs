//! Classification: every file gets one of the nine material categories and, when it is a
//! certificate declaration document, one of the seven annexes — each with a confidence and
//! a reason a person can check. Rules read the words of the file name, its folders and the
//! first lines of its text (Chinese and English, with synonyms); a multinomial naive Bayes
//! model over character n-grams learns from the labels people confirm and decides where
//! the rules are unsure or wrong.

use crate::{Annex, Category, Kind};
use std::collections::HashMap;

/// What the classifier reads of a file.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    /// Path below the unit folder, '/'-separated, file name last.
    pub path: &'a str,
    pub text: &'a str,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Rule,
    Model,
    Default,
}

impl Source {
    /// As stored in the catalog (beside "person" for a confirmed label).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Rule => "rule",
            Source::Model => "model",
            Source::Default => "default",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub category: Category,
    pub category_confidence: f32,
    pub annex: Option<Annex>,
    pub annex_confidence: f32,
    pub source: Source,
    pub reason: String,
}

/// A confirmed label: the training data.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub path: String,
    pub text: String,
    pub kind: Kind,
    pub category: Category,
    pub annex: Option<Annex>,
}

/// Characters of text the classifier reads.
const TEXT_CHARS: usize = 2000;
/// The first characters count as the title.
const TITLE_CHARS: usize = 120;

type Words = &'static [(&'static str, f32)];

fn category_words(c: Category) -> Words {
    match c {
        Category::TrainingScheme => &[
            ("培训指导方案", 5.0),
            ("培训方案", 4.0),
            ("人才培养方案", 4.0),
            ("培训计划", 3.0),
            ("教学计划", 2.0),
            ("课程标准", 2.0),
            ("training scheme", 4.0),
            ("training plan", 4.0),
            ("training programme", 4.0),
            ("training program", 4.0),
        ],
        Category::AssessmentOutline => &[
            ("考核大纲", 5.0),
            ("考试大纲", 5.0),
            ("评价大纲", 4.0),
            ("鉴定要素", 3.0),
            ("assessment outline", 4.0),
            ("exam outline", 4.0),
            ("syllabus", 4.0),
        ],
        Category::SampleQuestions => &[
            ("样题", 5.0),
            ("题库", 5.0),
            ("试题", 4.0),
            ("试卷", 4.0),
            ("练习题", 3.0),
            ("单选题", 2.0),
            ("多选题", 2.0),
            ("判断题", 2.0),
            ("参考答案", 2.0),
            ("question bank", 4.0),
            ("sample question", 4.0),
            ("exam paper", 4.0),
        ],
        Category::TeachingMaterials => &[
            ("教材", 5.0),
            ("讲义", 4.0),
            ("教案", 4.0),
            ("课件", 3.0),
            ("教程", 3.0),
            ("指导书", 3.0),
            ("实训手册", 3.0),
            ("textbook", 4.0),
            ("teaching material", 4.0),
            ("lecture notes", 4.0),
            ("courseware", 4.0),
        ],
        Category::OnlineResources => &[
            ("在线学习资源", 5.0),
            ("微课", 5.0),
            ("在线课程", 4.0),
            ("网络课程", 4.0),
            ("慕课", 4.0),
            ("视频", 3.0),
            ("课程资源", 3.0),
            ("录像", 3.0),
            ("动画", 2.0),
            ("mooc", 4.0),
            ("online course", 4.0),
            ("video", 3.0),
        ],
        Category::ExpertTeam => &[
            ("专家师资", 5.0),
            ("师资", 5.0),
            ("专家", 4.0),
            ("教师名单", 4.0),
            ("简历", 4.0),
            ("团队", 3.0),
            ("讲师", 3.0),
            ("考评员", 3.0),
            ("双师", 3.0),
            ("expert", 4.0),
            ("teacher", 3.0),
            ("faculty", 4.0),
            ("resume", 3.0),
            ("cv", 2.0),
        ],
        Category::ManagementSystem => &[
            ("管理制度", 5.0),
            ("管理办法", 5.0),
            ("实施细则", 4.0),
            ("制度", 3.0),
            ("办法", 3.0),
            ("规定", 3.0),
            ("细则", 3.0),
            ("章程", 3.0),
            ("规范", 2.0),
            ("regulation", 4.0),
            ("management system", 4.0),
            ("policy", 3.0),
            ("rules", 3.0),
        ],
        Category::Agreement => &[
            ("协议", 5.0),
            ("合同", 5.0),
            ("合作框架", 4.0),
            ("备忘录", 4.0),
            ("意向书", 4.0),
            ("甲方", 2.0),
            ("乙方", 2.0),
            ("agreement", 5.0),
            ("contract", 5.0),
            ("mou", 4.0),
            ("memorandum", 4.0),
        ],
        Category::Other => &[],
    }
}

fn annex_words(a: Annex) -> Words {
    match a {
        Annex::Standard => &[
            ("职业技能等级标准", 5.0),
            ("等级标准", 3.0),
            ("skill standard", 4.0),
            ("skill grade standard", 5.0),
        ],
        Annex::PilotMatters => &[
            ("试点有关事项", 5.0),
            ("试点工作", 4.0),
            ("试点事项", 4.0),
            ("pilot matters", 5.0),
        ],
        Annex::AssessmentScheme => &[
            ("考核方案", 5.0),
            ("考核实施方案", 5.0),
            ("assessment scheme", 5.0),
        ],
        Annex::ExamSiteStandard => &[
            ("考核站点建设标准", 5.0),
            ("考核站点", 4.0),
            ("考点建设", 4.0),
            ("站点建设", 4.0),
            ("exam site", 5.0),
        ],
        Annex::CostAccounting => &[
            ("成本核算", 5.0),
            ("成本测算", 5.0),
            ("cost accounting", 5.0),
        ],
        Annex::ExpenseItems => &[
            ("收费项目", 5.0),
            ("收费标准", 4.0),
            ("收费依据", 5.0),
            ("expense items", 5.0),
            ("fee items", 4.0),
        ],
        Annex::Feasibility => &[
            ("必要性", 4.0),
            ("可行性", 4.0),
            ("可行性报告", 5.0),
            ("feasibility", 5.0),
        ],
    }
}

/// The category an annex document counts in when nothing else says.
pub fn annex_category(a: Annex) -> Category {
    match a {
        Annex::AssessmentScheme => Category::AssessmentOutline,
        _ => Category::Other,
    }
}

fn take_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The parts of a document where words are looked for, most telling first.
struct Parts {
    name: String,
    folders: String,
    title: String,
    body: String,
}

impl Parts {
    fn of(doc: &Doc) -> Parts {
        let path = doc.path.to_lowercase();
        let (folders, file) = match path.rsplit_once('/') {
            Some((f, n)) => (f.to_string(), n.to_string()),
            None => (String::new(), path),
        };
        let name = match file.rsplit_once('.') {
            Some((stem, _)) if !stem.is_empty() => stem.to_string(),
            _ => file,
        };
        let text = take_chars(doc.text, TEXT_CHARS).to_lowercase();
        let title = take_chars(&text, TITLE_CHARS).to_string();
        let body = text[title.len()..].to_string();
        Parts {
            name,
            folders,
            title,
            body,
        }
    }
}

/// Weights of where a word is found: the file name says most.
const W_NAME: f32 = 3.0;
const W_FOLDER: f32 = 1.5;
const W_TITLE: f32 = 1.2;
const W_BODY: f32 = 0.25;

/// The word that matched most strongly, and where.
type Evidence = Option<(&'static str, &'static str)>;

/// Score of a word list on the parts, with the strongest match for the reason.
fn score(words: Words, p: &Parts) -> (f32, Evidence) {
    let mut total = 0.0;
    let mut best: Option<(f32, &'static str, &'static str)> = None;
    for &(w, weight) in words {
        for (part, place, pw) in [
            (&p.name, "file name", W_NAME),
            (&p.folders, "folder", W_FOLDER),
            (&p.title, "title", W_TITLE),
        ] {
            if part.contains(w) {
                let s = weight * pw;
                total += s;
                if best.is_none_or(|b| s > b.0) {
                    best = Some((s, w, place));
                }
            }
        }
        let n = p.body.matches(w).take(4).count();
        if n > 0 {
            let s = weight * W_BODY * n as f32;
            total += s;
            if best.is_none_or(|b| s > b.0) {
                best = Some((s, w, "text"));
            }
        }
    }
    (total, best.map(|(_, w, place)| (w, place)))
}

/// "附件3" in the name names the annex outright.
fn annex_number(name: &str) -> Option<Annex> {
    let i = name.find("附件")?;
    let rest = &name[i + "附件".len()..];
    let d = rest.trim_start().chars().next()?;
    let n = d.to_digit(10)? as usize;
    if (1..=7).contains(&n) && !rest.trim_start()[1..].starts_with(|c: char| c.is_ascii_digit()) {
        Some(Annex::ALL[n - 1])
    } else {
        None
    }
}

/// Tokens for the model: CJK characters and character pairs, ASCII words, each tagged
/// with where it came from.
fn tokens(doc: &Doc, out: &mut Vec<String>) {
    let p = Parts::of(doc);
    for (tag, part) in [
        ("n", &p.name),
        ("f", &p.folders),
        ("t", &p.title),
        ("b", &p.body),
    ] {
        let mut prev: Option<char> = None;
        let mut word = String::new();
        for c in part.chars() {
            let cjk = ('\u{4E00}'..='\u{9FFF}').contains(&c);
            if c.is_ascii_alphanumeric() {
                word.push(c);
            } else if !word.is_empty() {
                if word.len() >= 2 {
                    out.push(format!("{tag}:{word}"));
                }
                word.clear();
            }
            if cjk {
                out.push(format!("{tag}:{c}"));
                if let Some(q) = prev {
                    out.push(format!("{tag}:{q}{c}"));
                }
                prev = Some(c);
            } else {
                prev = None;
            }
        }
        if word.len() >= 2 {
            out.push(format!("{tag}:{word}"));
        }
    }
    out.push(format!("k:{}", doc.kind.as_str()));
}

/// Multinomial naive Bayes with Laplace smoothing.
#[derive(Debug, Clone, Default)]
struct Bayes {
    classes: Vec<String>,
    docs: Vec<f64>,
    counts: Vec<HashMap<String, f64>>,
    totals: Vec<f64>,
    vocab: usize,
}

impl Bayes {
    fn train(samples: &[(Vec<String>, String)]) -> Bayes {
        let mut b = Bayes::default();
        let mut vocab: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for (toks, class) in samples {
            let i = match b.classes.iter().position(|c| c == class) {
                Some(i) => i,
                None => {
                    b.classes.push(class.clone());
                    b.docs.push(0.0);
                    b.counts.push(HashMap::new());
                    b.totals.push(0.0);
                    b.classes.len() - 1
                }
            };
            b.docs[i] += 1.0;
            for t in toks {
                *b.counts[i].entry(t.clone()).or_insert(0.0) += 1.0;
                b.totals[i] += 1.0;
                vocab.insert(t);
            }
        }
        b.vocab = vocab.len();
        b
    }

    /// Posterior per class, best first.
    fn predict(&self, toks: &[String]) -> Vec<(String, f64)> {
        let n: f64 = self.docs.iter().sum();
        let v = self.vocab as f64 + 1.0;
        let mut logs: Vec<f64> = (0..self.classes.len())
            .map(|i| {
                let prior = (self.docs[i] / n).ln();
                let denom = self.totals[i] + v;
                prior
                    + toks
                        .iter()
                        .map(|t| {
                            ((self.counts[i].get(t).copied().unwrap_or(0.0) + 1.0) / denom).ln()
                        })
                        .sum::<f64>()
            })
            .collect();
        // Token counts differ a lot between documents; tempering keeps posteriors from
        // saturating at 0 and 1 so that the confidence means something.
        let temper = (toks.len() as f64).sqrt().max(1.0);
        let max = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        for l in logs.iter_mut() {
            *l = ((*l - max) / temper).exp();
        }
        let sum: f64 = logs.iter().sum();
        let mut out: Vec<(String, f64)> = self
            .classes
            .iter()
            .cloned()
            .zip(logs.into_iter().map(|x| x / sum))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

#[derive(Debug, Clone, Default)]
pub struct Classifier {
    categories: Option<Bayes>,
    annexes: Option<Bayes>,
    labels: usize,
}

/// A rule's verdict on categories or annexes.
struct RuleHit<T> {
    class: T,
    confidence: f32,
    why: String,
}

fn rule_category(p: &Parts, kind: Kind) -> Option<RuleHit<Category>> {
    let mut scored: Vec<(Category, f32, Evidence)> = Category::ALL
        .into_iter()
        .map(|c| {
            let (s, w) = score(category_words(c), p);
            (c, s, w)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, s, w) = scored[0];
    let second = scored[1].1;
    if s <= 0.0 {
        if matches!(kind, Kind::Video | Kind::Audio) {
            return Some(RuleHit {
                class: Category::OnlineResources,
                confidence: 0.6,
                why: format!("{} file: course media", kind.as_str()),
            });
        }
        return None;
    }
    // Strength from the score, certainty from the margin over the runner-up.
    let strength = 1.0 - (-s / 6.0).exp();
    let margin = s / (s + second);
    let (word, place) = w.unwrap_or(("", ""));
    Some(RuleHit {
        class: best,
        confidence: (strength * margin).clamp(0.05, 0.98),
        why: format!("{place} contains “{word}”"),
    })
}

fn rule_annex(p: &Parts) -> Option<RuleHit<Annex>> {
    if let Some(a) = annex_number(&p.name) {
        // The number and the annex's own words agreeing is as sure as rules get.
        let (s, _) = score(annex_words(a), p);
        return Some(RuleHit {
            class: a,
            confidence: if s > 0.0 { 0.97 } else { 0.85 },
            why: format!("file name says 附件{}", a.number()),
        });
    }
    // Annexes are certificate documents named for what they are: the annex's words must
    // be in the file name, or its full title phrase in the document's title.
    let mut best: Option<(Annex, f32, &'static str, &'static str)> = None;
    let first_line = p.title.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    for a in Annex::ALL {
        // Only an annex's full phrases decide ("试点工作管理办法" is a management rule, not
        // the pilot-matters annex).
        for &(w, weight) in annex_words(a).iter().filter(|(_, weight)| *weight >= 5.0) {
            let (s, place) = if p.name.contains(w) {
                (weight * W_NAME, "file name")
            } else if first_line.contains(w) {
                (weight * W_TITLE, "title")
            } else {
                continue;
            };
            if best.is_none_or(|b| s > b.1) {
                best = Some((a, s, w, place));
            }
        }
    }
    let (class, s, word, place) = best?;
    Some(RuleHit {
        class,
        confidence: if s >= W_NAME * 4.0 { 0.9 } else { 0.7 },
        why: format!("{place} contains “{word}”"),
    })
}

const NO_ANNEX: &str = "none";

impl Classifier {
    pub fn rules_only() -> Classifier {
        Classifier::default()
    }

    /// Rules plus models trained on confirmed labels.
    pub fn train(labels: &[Label]) -> Classifier {
        let mut cats = Vec::with_capacity(labels.len());
        let mut anns = Vec::with_capacity(labels.len());
        for l in labels {
            let mut t = Vec::new();
            tokens(
                &Doc {
                    path: &l.path,
                    text: &l.text,
                    kind: l.kind,
                },
                &mut t,
            );
            cats.push((t.clone(), l.category.as_str().to_string()));
            anns.push((
                t,
                l.annex.map(|a| a.as_str()).unwrap_or(NO_ANNEX).to_string(),
            ));
        }
        let useful = |s: &[(Vec<String>, String)]| {
            let mut classes: Vec<&str> = s.iter().map(|x| x.1.as_str()).collect();
            classes.sort();
            classes.dedup();
            classes.len() >= 2
        };
        Classifier {
            categories: useful(&cats).then(|| Bayes::train(&cats)),
            annexes: useful(&anns).then(|| Bayes::train(&anns)),
            labels: labels.len(),
        }
    }

    pub fn label_count(&self) -> usize {
        self.labels
    }

    pub fn classify(&self, doc: &Doc) -> Decision {
        let parts = Parts::of(doc);
        let rule_cat = rule_category(&parts, doc.kind);
        let rule_ann = rule_annex(&parts);
        let toks = if self.categories.is_some() || self.annexes.is_some() {
            let mut t = Vec::new();
            tokens(doc, &mut t);
            t
        } else {
            Vec::new()
        };
        let model_cat = self.categories.as_ref().map(|m| m.predict(&toks));
        let model_ann = self.annexes.as_ref().map(|m| m.predict(&toks));

        // Annex first: an annex document's category follows from it when rules are silent.
        let (annex, annex_confidence, annex_why) = {
            let model = model_ann.as_ref().map(|p| (p[0].0.clone(), p[0].1 as f32));
            match (&rule_ann, model) {
                (Some(r), Some((m, pm))) if m == r.class.as_str() => (
                    Some(r.class),
                    r.confidence.max(pm),
                    format!("{}; model agrees", r.why),
                ),
                (Some(r), Some((m, pm))) if pm > r.confidence + 0.1 => {
                    let a = Annex::parse(&m);
                    (a, pm, format!("model {pm:.2} over rule ({})", r.why))
                }
                (Some(r), _) => (Some(r.class), r.confidence, r.why.clone()),
                (None, Some((m, pm))) if m != NO_ANNEX && pm >= 0.6 => {
                    (Annex::parse(&m), pm, format!("model {pm:.2}"))
                }
                _ => (None, 0.0, String::new()),
            }
        };

        let model = model_cat
            .as_ref()
            .and_then(|p| Category::parse(&p[0].0).map(|c| (c, p[0].1 as f32)));
        let trained = format!("trained on {} confirmed labels", self.labels);
        let (category, confidence, source, why) = match (&rule_cat, model) {
            (Some(r), Some((m, pm))) if m == r.class => (
                r.class,
                r.confidence.max(pm).max(0.5),
                Source::Rule,
                format!("{}; model agrees ({pm:.2})", r.why),
            ),
            (Some(r), Some((m, pm))) if pm > r.confidence => (
                m,
                pm,
                Source::Model,
                format!(
                    "model {pm:.2} ({trained}) over rule: {} → {}",
                    r.why,
                    r.class.as_str()
                ),
            ),
            (Some(r), _) => (r.class, r.confidence, Source::Rule, r.why.clone()),
            (None, Some((m, pm))) if pm >= 0.4 => {
                (m, pm, Source::Model, format!("model {pm:.2} ({trained})"))
            }
            (None, _) => match annex {
                Some(a) => (
                    annex_category(a),
                    annex_confidence * 0.9,
                    Source::Rule,
                    format!("annex document ({annex_why})"),
                ),
                None => (
                    Category::Other,
                    0.3,
                    Source::Default,
                    "no category words found".to_string(),
                ),
            },
        };
        let reason = if annex.is_some() && !annex_why.is_empty() {
            format!("{why}; annex: {annex_why}")
        } else {
            why
        };
        Decision {
            category,
            category_confidence: confidence,
            annex,
            annex_confidence,
            source,
            reason,
        }
    }
}

/// Which certificate a path or text refers to: the longest name found in the folders,
/// else in the first lines of the text.
pub fn match_certificate(path: &str, text: &str, names: &[String]) -> Option<usize> {
    let folders = path.rsplit_once('/').map(|(f, _)| f).unwrap_or("");
    let title = take_chars(text, TITLE_CHARS * 2);
    for hay in [folders, path, title] {
        let best = names
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.is_empty() && hay.contains(n.as_str()))
            .max_by_key(|(_, n)| n.chars().count());
        if let Some((i, _)) = best {
            return Some(i);
        }
    }
    None
}

/// A certificate's name from the name of the folder holding its proposal, without the
/// words people wrap it in ("证书申报-电力调度", "电力调度职业技能等级证书",
/// "电力调度证书申报材料" all give "电力调度").
pub fn certificate_from_folder(folder: &str) -> String {
    let mut s = folder.trim();
    for prefix in [
        "证书申报-",
        "证书申报—",
        "证书申报_",
        "申报-",
        "申报材料-",
        "附件-",
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.trim();
        }
    }
    for suffix in [
        "职业技能等级证书申报材料",
        "职业技能等级证书",
        "证书申报材料",
        "申报材料",
        "证书",
    ] {
        if let Some(rest) = s.strip_suffix(suffix)
            && !rest.trim().is_empty()
        {
            s = rest.trim_end_matches(['-', '_', ' ', '—']);
            break;
        }
    }
    s.to_string()
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClassScore {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub categories: Vec<ClassScore>,
    pub annexes: Vec<ClassScore>,
    /// confusion[truth][predicted] over `Category::ALL`.
    pub confusion: Vec<Vec<usize>>,
}

fn scores(pairs: &[(String, String)], classes: &[String]) -> Vec<ClassScore> {
    classes
        .iter()
        .map(|c| {
            let tp = pairs.iter().filter(|(t, p)| t == c && p == c).count() as f64;
            let predicted = pairs.iter().filter(|(_, p)| p == c).count() as f64;
            let support = pairs.iter().filter(|(t, _)| t == c).count();
            let precision = if predicted > 0.0 { tp / predicted } else { 0.0 };
            let recall = if support > 0 {
                tp / support as f64
            } else {
                0.0
            };
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassScore {
                class: c.clone(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect()
}

/// Precision, recall and F1 per category and per annex on labelled cases.
pub fn evaluate(clf: &Classifier, cases: &[Label]) -> Evaluation {
    let mut cat_pairs = Vec::new();
    let mut ann_pairs = Vec::new();
    let mut confusion = vec![vec![0usize; 9]; 9];
    for l in cases {
        let d = clf.classify(&Doc {
            path: &l.path,
            text: &l.text,
            kind: l.kind,
        });
        let ti = Category::ALL
            .iter()
            .position(|c| *c == l.category)
            .unwrap_or(8);
        let pi = Category::ALL
            .iter()
            .position(|c| *c == d.category)
            .unwrap_or(8);
        confusion[ti][pi] += 1;
        cat_pairs.push((
            l.category.as_str().to_string(),
            d.category.as_str().to_string(),
        ));
        ann_pairs.push((
            l.annex.map(|a| a.as_str()).unwrap_or(NO_ANNEX).to_string(),
            d.annex.map(|a| a.as_str()).unwrap_or(NO_ANNEX).to_string(),
        ));
    }
    let cat_classes: Vec<String> = Category::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .filter(|c| cat_pairs.iter().any(|(t, _)| t == c))
        .collect();
    let ann_classes: Vec<String> = Annex::ALL
        .iter()
        .map(|a| a.as_str().to_string())
        .filter(|c| ann_pairs.iter().any(|(t, _)| t == c))
        .collect();
    let categories = scores(&cat_pairs, &cat_classes);
    let correct = cat_pairs.iter().filter(|(t, p)| t == p).count();
    Evaluation {
        accuracy: correct as f64 / cat_pairs.len().max(1) as f64,
        macro_f1: categories.iter().map(|c| c.f1).sum::<f64>() / categories.len().max(1) as f64,
        categories,
        annexes: scores(&ann_pairs, &ann_classes),
        confusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(clf: &Classifier, path: &str, text: &str) -> Decision {
        clf.classify(&Doc {
            path,
            text,
            kind: Kind::Docx,
        })
    }

    #[test]
    fn names_folders_and_titles_decide_by_rule() {
        let c = Classifier::rules_only();
        let d = classify(&c, "考核大纲/继电保护考核大纲（初级）.docx", "");
        assert_eq!(d.category, Category::AssessmentOutline);
        assert_eq!(d.source, Source::Rule);
        assert!(d.reason.contains("考核大纲"), "{}", d.reason);
        assert_eq!(
            classify(&c, "合作/Cooperation Agreement.docx", "").category,
            Category::Agreement
        );
        assert_eq!(
            classify(&c, "05-师资队伍/张三简历.docx", "").category,
            Category::ExpertTeam
        );
        assert_eq!(
            classify(&c, "扫描件003.docx", "变电运维题库\n一、单选题（每题1分）").category,
            Category::SampleQuestions
        );
        let v = c.classify(&Doc {
            path: "资料/第3讲.mp4",
            text: "",
            kind: Kind::Video,
        });
        assert_eq!(v.category, Category::OnlineResources);
        let none = classify(&c, "新建文件夹/abc.docx", "");
        assert_eq!(
            (none.category, none.source),
            (Category::Other, Source::Default)
        );
    }

    #[test]
    fn annexes_by_number_or_words() {
        let c = Classifier::rules_only();
        let d = classify(&c, "继电保护/附件3 继电保护考核方案.docx", "");
        assert_eq!(d.annex, Some(Annex::AssessmentScheme));
        assert!(d.annex_confidence > 0.9);
        let d = classify(&c, "电能计量/附件7.pdf", "");
        assert_eq!(d.annex, Some(Annex::Feasibility));
        let d = classify(&c, "电能计量/电能计量考核站点建设标准.docx", "");
        assert_eq!(d.annex, Some(Annex::ExamSiteStandard));
        assert_eq!(annex_number("附件12"), None);
        // Words only deep in the body do not make an annex.
        let body = format!("{}可行性", "一".repeat(300));
        assert_eq!(classify(&c, "a/说明.docx", &body).annex, None);
    }

    #[test]
    fn a_correction_retrains_the_model() {
        let c = Classifier::rules_only();
        let doc = (
            "其他/会议纪要.docx",
            "关于联合开展职业技能等级证书试点的会议纪要",
        );
        assert_eq!(classify(&c, doc.0, doc.1).category, Category::Other);
        let mut labels = vec![Label {
            path: doc.0.into(),
            text: doc.1.into(),
            kind: Kind::Docx,
            category: Category::Agreement,
            annex: None,
        }];
        for i in 0..3 {
            labels.push(Label {
                path: format!("教材/第{i}章.docx"),
                text: "本章介绍变电站设备的结构与原理".into(),
                kind: Kind::Docx,
                category: Category::TeachingMaterials,
                annex: None,
            });
        }
        let trained = Classifier::train(&labels);
        assert_eq!(trained.label_count(), 4);
        let d = classify(
            &trained,
            "另一单位/纪要.docx",
            "关于联合开展职业技能等级证书试点的会议纪要（修订）",
        );
        assert_eq!(d.category, Category::Agreement, "{d:?}");
        assert_eq!(d.source, Source::Model);
    }

    #[test]
    fn certificates_are_matched_by_the_longest_name() {
        let names = vec![
            "继电保护".to_string(),
            "配电线路运检".to_string(),
            "线路运检".to_string(),
        ];
        assert_eq!(
            match_certificate("配电线路运检/附件1.docx", "", &names),
            Some(1)
        );
        assert_eq!(
            match_certificate("申报/附件1.docx", "继电保护职业技能等级标准", &names),
            Some(0)
        );
        assert_eq!(match_certificate("申报/附件1.docx", "", &names), None);
        for f in [
            "证书申报-电力调度",
            "电力调度职业技能等级证书",
            "电力调度证书申报材料",
            "电力调度",
        ] {
            assert_eq!(certificate_from_folder(f), "电力调度", "{f}");
        }
        assert_eq!(certificate_from_folder("证书"), "证书");
    }
}
