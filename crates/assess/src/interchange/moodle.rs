//! Moodle XML question files (`<quiz><question type="…">`) into items.
//!
//! Read: multichoice (single or multiple answer, `<single>`), truefalse, shortanswer
//! (`<usecase>` for case sensitivity), numerical (the value; a tolerance is lost, with a
//! warning), matching (subquestions; one with empty text is a distractor), essay
//! (`<graderinfo>` becomes the scoring guide), ordering (answers in the right order) and
//! category (a last segment that starts with a requirement code tags the questions after
//! it). `name`, `idnumber` (the identifier when given, else the name), `questiontext` in
//! any of its formats, `fraction`, `shuffleanswers`, `defaultgrade` (points),
//! `generalfeedback` (explanation) and `tags` (requirement codes) are kept; embedded
//! `<file encoding="base64">` images referenced as `@@PLUGINFILE@@/name` come along as
//! media. Other types (calculated, ddwtos, multianswer/cloze, …) are reported by question
//! name and element.

use crate::interchange::xml::{self, Element};
use crate::interchange::{
    ImportReport, MAX_ITEMS, MediaFile, Problem, field_words, image_mime, looks_html, media_refs,
    normalize, option_letter, percent_decode,
};
use crate::item::{
    Blank, Choice, Interaction, Item, ItemContent, ItemKind, ItemMeta, Scoring, is_outline_code,
};
use crate::markup;

/// Largest Moodle XML file read, bytes.
pub const MAX_MOODLE_BYTES: usize = xml::MAX_XML_BYTES;

/// Decode standard base64, ignoring whitespace; `None` on bad input.
pub(crate) fn base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn text_of(e: &Element, child: &str) -> String {
    e.child(&[child])
        .map(|c| match c.child(&["text"]) {
            Some(t) => t.text(),
            None => c.text(),
        })
        .unwrap_or_default()
        .trim()
        .to_string()
}

struct Q<'a> {
    file: &'a str,
    q: &'a Element,
    ident: String,
    ordinal: usize,
    problems: Vec<Problem>,
    /// Embedded files: (Moodle path + name, media path).
    files: Vec<(String, String)>,
    media: Vec<MediaFile>,
}

impl Q<'_> {
    fn collect_files(&mut self, e: &Element, taken: &[MediaFile]) {
        for f in e.descendants() {
            if f.name != "file" {
                continue;
            }
            let name = f.attr("name").unwrap_or("").trim();
            let dir = f.attr("path").unwrap_or("/").trim().trim_matches('/');
            let full = if dir.is_empty() {
                name.to_string()
            } else {
                format!("{dir}/{name}")
            };
            if f.attr("encoding").is_some_and(|e| e != "base64") {
                self.problems.push(Problem::warning(
                    self.file,
                    f.at(),
                    "unsupported_media",
                    format!("the file \"{full}\" is not base64 encoded and is skipped"),
                    format!("文件“{full}”不是 base64 编码，已跳过"),
                ));
                continue;
            }
            let Some(bytes) = base64(&f.text()) else {
                self.problems.push(Problem::error(
                    self.file,
                    f.at(),
                    "bad_base64",
                    format!("the embedded file \"{full}\" is not valid base64"),
                    format!("内嵌文件“{full}”不是有效的 base64"),
                ));
                continue;
            };
            let Ok(mut path) = normalize(&full) else {
                self.problems.push(Problem::error(
                    self.file,
                    f.at(),
                    "refused_path",
                    format!("the embedded file name \"{full}\" is not a plain relative path"),
                    format!("内嵌文件名“{full}”不是普通的相对路径"),
                ));
                continue;
            };
            let Some(mime) = image_mime(&path) else {
                self.problems.push(Problem::warning(
                    self.file,
                    f.at(),
                    "unsupported_media",
                    format!("\"{full}\" is not an image type stems can show; it is left out"),
                    format!("“{full}”不是题干可显示的图片类型，已略去"),
                ));
                continue;
            };
            let clash = |p: &str| {
                taken
                    .iter()
                    .chain(self.media.iter())
                    .any(|m| m.path == p && m.bytes != bytes)
            };
            if clash(&path) {
                path = format!("moodle-{}/{path}", self.ordinal);
            }
            self.files.push((full, path.clone()));
            if !self.media.iter().any(|m| m.path == path) {
                self.media.push(MediaFile {
                    path,
                    mime: mime.into(),
                    bytes,
                });
            }
        }
    }

    /// Moodle text in its format into sanitized rich text, @@PLUGINFILE@@ references
    /// mapped to media paths.
    fn rich(&mut self, e: Option<&Element>) -> String {
        let Some(e) = e else { return String::new() };
        let raw = match e.child(&["text"]) {
            Some(t) => t.text(),
            None => e.text(),
        };
        let format = e.attr("format").unwrap_or("moodle_auto_format");
        let raw = self.plugin_files(e, &raw);
        let t = raw.trim();
        match format {
            "html" => markup::sanitize(t),
            "plain_text" => markup::from_plain(t),
            "markdown" => {
                if !self.problems.iter().any(|p| p.code == "markdown_as_text") {
                    self.problems.push(Problem::warning(
                        self.file,
                        e.at(),
                        "markdown_as_text",
                        "Markdown is kept as plain text (its formatting is not interpreted)",
                        "Markdown 格式按纯文本保留（不解析其格式）",
                    ));
                }
                markup::from_plain(t)
            }
            _ if looks_html(t) => markup::sanitize(&t.replace('\n', "<br>")),
            _ => markup::from_plain(t),
        }
    }

    fn plugin_files(&mut self, e: &Element, raw: &str) -> String {
        const MARK: &str = "@@PLUGINFILE@@/";
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find(MARK) {
            out.push_str(&rest[..i]);
            let tail = &rest[i + MARK.len()..];
            let end = tail
                .find(|c: char| c == '"' || c == '\'' || c == '<' || c == '>' || c.is_whitespace())
                .unwrap_or(tail.len());
            let reference = &tail[..end];
            let decoded = percent_decode(reference.split(['?', '#']).next().unwrap_or(""));
            match self.files.iter().find(|(full, _)| *full == decoded) {
                Some((_, path)) => out.push_str(path),
                None => {
                    self.problems.push(Problem::error(
                        self.file,
                        e.at(),
                        "missing_media",
                        format!("the text shows \"{decoded}\", which is not embedded as a <file>"),
                        format!("文本引用了“{decoded}”，但该文件没有以 <file> 内嵌"),
                    ));
                    out.push_str("missing");
                }
            }
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }
}

fn fraction(a: &Element) -> f64 {
    a.attr("fraction")
        .and_then(|f| f.trim().parse::<f64>().ok())
        .filter(|f| f.is_finite())
        .unwrap_or(0.0)
}

fn yes(s: &str) -> bool {
    matches!(s.trim(), "1" | "true" | "TRUE" | "True")
}

/// Import a Moodle XML file. `name` is how problems name it.
pub fn import_moodle_xml(name: &str, bytes: &[u8]) -> ImportReport {
    let mut report = ImportReport::default();
    let root = match xml::decode(bytes).and_then(|t| xml::parse(&t)) {
        Ok(r) => r,
        Err(e) => {
            report.problems.push(Problem::error(
                name,
                e.location(),
                "bad_xml",
                e.en.clone(),
                e.zh.clone(),
            ));
            return report;
        }
    };
    if root.name != "quiz" {
        report.problems.push(Problem::error(
            name,
            root.at(),
            "not_moodle_xml",
            format!("the root element is <{}>, not <quiz>", root.name),
            format!("根元素是 <{}> 而不是 <quiz>", root.name),
        ));
        return report;
    }
    let mut category: Option<String> = None;
    for (ordinal, q) in root.children_named(&["question"]).enumerate() {
        if report.items.len() >= MAX_ITEMS {
            report.problems.push(Problem::error(
                name,
                q.at(),
                "too_many_items",
                format!("more than {MAX_ITEMS} questions; the rest are left out"),
                format!("题目超过 {MAX_ITEMS} 道，其余未导入"),
            ));
            break;
        }
        let ty = q.attr("type").unwrap_or("").trim().to_string();
        let qname = text_of(q, "name");
        if ty == "category" {
            let path = text_of(q, "category");
            let last = path.rsplit('/').next().unwrap_or("").trim();
            let first = last.split_whitespace().next().unwrap_or("");
            category = is_outline_code(first).then(|| first.to_string());
            continue;
        }
        let idnumber = text_of(q, "idnumber");
        let ident = if idnumber.is_empty() {
            qname.clone()
        } else {
            idnumber
        };
        let ident = if ident.is_empty() {
            format!("MOODLE-{:04}", ordinal + 1)
        } else {
            ident
        };
        if ty == "description" {
            report.problems.push(
                Problem::warning(
                    name,
                    q.at(),
                    "description_skipped",
                    format!("\"{qname}\" is a description, not a question; skipped"),
                    format!("“{qname}”是说明文字而不是题目，已跳过"),
                )
                .for_item(ident),
            );
            continue;
        }
        if !matches!(
            ty.as_str(),
            "multichoice"
                | "truefalse"
                | "shortanswer"
                | "numerical"
                | "matching"
                | "essay"
                | "ordering"
        ) {
            report.problems.push(
                Problem::error(
                    name,
                    q.at(),
                    "unsupported_question_type",
                    format!("the question \"{qname}\" has type \"{ty}\", which is not supported; xcert reads multichoice, truefalse, shortanswer, numerical, matching, essay and ordering"),
                    format!("题目“{qname}”的类型“{ty}”不受支持；xcert 支持 multichoice、truefalse、shortanswer、numerical、matching、essay 和 ordering"),
                )
                .for_item(ident),
            );
            continue;
        }
        question(
            name,
            q,
            &ty,
            ident,
            ordinal + 1,
            category.as_deref(),
            &mut report,
        );
    }
    report
}

fn question(
    file: &str,
    q: &Element,
    ty: &str,
    ident: String,
    ordinal: usize,
    category: Option<&str>,
    report: &mut ImportReport,
) {
    let mut c = Q {
        file,
        q,
        ident: ident.clone(),
        ordinal,
        problems: Vec::new(),
        files: Vec::new(),
        media: Vec::new(),
    };
    c.collect_files(q, &report.media);
    let stem = c.rich(q.child(&["questiontext"]));
    let explanation = Some(c.rich(q.child(&["generalfeedback"])))
        .filter(|e| !markup::plain_text(e).is_empty() || !markup::image_paths(e).is_empty());
    let points = q
        .child(&["defaultgrade"])
        .and_then(|g| g.text().trim().parse::<f64>().ok())
        .unwrap_or(1.0);
    let shuffle = q
        .child(&["shuffleanswers"])
        .map(|s| yes(&s.text()))
        .unwrap_or(true);
    let answers: Vec<&Element> = q.children_named(&["answer"]).collect();
    let mut scoring = Scoring::AllOrNothing;
    let drop_partial = |c: &mut Q, a: &Element, text: &str, f: f64| {
        c.problems.push(Problem::warning(
            file,
            a.at(),
            "partial_answer_dropped",
            format!(
                "the answer \"{text}\" earns {f}% partial credit; only fully right answers are kept"
            ),
            format!("答案“{text}”得 {f}% 的部分分；只保留完全正确的答案"),
        ));
    };
    if answers.iter().any(|a| {
        a.child(&["feedback"])
            .is_some_and(|f| !f.text().trim().is_empty())
    }) {
        c.problems.push(Problem::warning(
            file,
            q.at(),
            "feedback_dropped",
            "per-answer feedback is not imported",
            "各答案的反馈未导入",
        ));
    }
    let (kind, interaction) = match ty {
        "multichoice" => {
            let single = q.child(&["single"]).map(|s| yes(&s.text())).unwrap_or(true);
            let mut choices = Vec::new();
            let mut correct = Vec::new();
            for (k, a) in answers.iter().enumerate() {
                let id = option_letter(k);
                let text = c.rich(Some(a));
                let f = fraction(a);
                if single {
                    if f >= 100.0 - 1e-6 {
                        correct.push(id.clone());
                    } else if f > 0.0 {
                        let plain = markup::plain_text(&text);
                        drop_partial(&mut c, a, &plain, f);
                    }
                } else if f > 0.0 {
                    correct.push(id.clone());
                }
                choices.push(Choice::new(id, text));
            }
            if !single {
                scoring = Scoring::Partial;
            }
            (
                if single {
                    ItemKind::SingleChoice
                } else {
                    ItemKind::MultipleChoice
                },
                Interaction::Choice {
                    choices,
                    correct,
                    shuffle,
                },
            )
        }
        "truefalse" => {
            let mut correct = Vec::new();
            for a in &answers {
                let t = a
                    .child(&["text"])
                    .map(|t| t.text())
                    .unwrap_or_default()
                    .trim()
                    .to_lowercase();
                if fraction(a) >= 100.0 - 1e-6 {
                    correct.push(if t == "true" { "T" } else { "F" }.to_string());
                }
            }
            (
                ItemKind::TrueFalse,
                Interaction::Choice {
                    choices: vec![Choice::new("T", "正确"), Choice::new("F", "错误")],
                    correct,
                    shuffle: false,
                },
            )
        }
        "shortanswer" | "numerical" => {
            let case_sensitive = q
                .child(&["usecase"])
                .map(|u| yes(&u.text()))
                .unwrap_or(false);
            let mut accepted = Vec::new();
            for a in &answers {
                let t = a
                    .child(&["text"])
                    .map(|t| t.text())
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                let f = fraction(a);
                if f < 100.0 - 1e-6 {
                    if f > 0.0 {
                        drop_partial(&mut c, a, &t, f);
                    }
                    continue;
                }
                if ty == "numerical" {
                    if t == "*" {
                        c.problems.push(Problem::warning(
                            file,
                            a.at(),
                            "any_answer_dropped",
                            "the answer \"*\" (any value) cannot be kept",
                            "答案“*”（任意值）无法保留",
                        ));
                        continue;
                    }
                    let tol = a
                        .child(&["tolerance"])
                        .and_then(|t| t.text().trim().parse::<f64>().ok())
                        .unwrap_or(0.0);
                    if tol > 0.0 {
                        c.problems.push(Problem::warning(
                            file,
                            a.at(),
                            "tolerance_lost",
                            format!(
                                "the tolerance ±{tol} is not kept: only {t} as written is accepted"
                            ),
                            format!("误差范围 ±{tol} 无法保留：只接受写出的 {t}"),
                        ));
                    }
                }
                accepted.push(t);
            }
            if ty == "numerical"
                && q.child(&["units"])
                    .is_some_and(|u| u.elements().next().is_some())
            {
                c.problems.push(Problem::warning(
                    file,
                    q.at(),
                    "units_dropped",
                    "units are not imported; candidates enter the number only",
                    "单位设置未导入，考生只需填写数值",
                ));
            }
            (
                ItemKind::TextEntry,
                Interaction::TextEntry {
                    blanks: vec![Blank {
                        id: "1".into(),
                        accepted,
                        case_sensitive,
                    }],
                },
            )
        }
        "matching" => {
            let mut sources = Vec::new();
            let mut targets: Vec<Choice> = Vec::new();
            let mut correct = Vec::new();
            for (k, s) in q.children_named(&["subquestion"]).enumerate() {
                let left = c.rich(Some(s));
                let right_raw = s
                    .child(&["answer"])
                    .map(|a| match a.child(&["text"]) {
                        Some(t) => t.text(),
                        None => a.text(),
                    })
                    .unwrap_or_default();
                let right = markup::from_plain(right_raw.trim());
                let tid = match targets.iter().find(|t| t.text == right) {
                    Some(t) => t.id.clone(),
                    None => {
                        let id = option_letter(targets.len());
                        targets.push(Choice::new(id.clone(), right));
                        id
                    }
                };
                if markup::plain_text(&left).is_empty() && markup::image_paths(&left).is_empty() {
                    continue;
                }
                let sid = (k + 1).to_string();
                sources.push(Choice::new(sid.clone(), left));
                correct.push((sid, tid));
            }
            (
                ItemKind::Matching,
                Interaction::Match {
                    sources,
                    targets,
                    correct,
                    shuffle,
                },
            )
        }
        "ordering" => {
            let mut choices = Vec::new();
            for (k, a) in answers.iter().enumerate() {
                choices.push(Choice::new(option_letter(k), c.rich(Some(a))));
            }
            let correct = choices.iter().map(|x| x.id.clone()).collect();
            (
                ItemKind::Ordering,
                Interaction::Order {
                    choices,
                    correct,
                    shuffle: true,
                },
            )
        }
        _ => {
            let guide = Some(c.rich(q.child(&["graderinfo"])))
                .filter(|g| !markup::plain_text(g).is_empty());
            (
                ItemKind::ExtendedText,
                Interaction::ExtendedText {
                    expected_length: None,
                    guide,
                },
            )
        }
    };
    let mut requirements: Vec<String> = category.map(|c| vec![c.to_string()]).unwrap_or_default();
    if let Some(tags) = q.child(&["tags"]) {
        for t in tags.children_named(&["tag"]) {
            let v = match t.child(&["text"]) {
                Some(x) => x.text(),
                None => t.text(),
            };
            let v = v.trim();
            if is_outline_code(v) && !requirements.iter().any(|r| r == v) {
                requirements.push(v.to_string());
            }
        }
    }
    let mut html: Vec<&str> = vec![&stem];
    match &interaction {
        Interaction::Choice { choices, .. } | Interaction::Order { choices, .. } => {
            html.extend(choices.iter().map(|x| x.text.as_str()))
        }
        Interaction::Match {
            sources, targets, ..
        } => html.extend(sources.iter().chain(targets).map(|x| x.text.as_str())),
        _ => {}
    }
    if let Some(e) = &explanation {
        html.push(e);
    }
    let media = media_refs(&html);
    let item = Item {
        meta: ItemMeta {
            ident: c.ident.clone(),
            requirements,
            ..Default::default()
        },
        content: ItemContent {
            kind,
            stem,
            interaction,
            points,
            scoring,
            explanation,
            media,
        },
    };
    let mut problems = std::mem::take(&mut c.problems);
    if !problems.iter().any(Problem::is_error) {
        for m in std::mem::take(&mut c.media) {
            let p = m.path.clone();
            if report.add_media(m).is_err() {
                problems.push(Problem::error(
                    file,
                    q.at(),
                    "media_conflict",
                    format!("two different files claim the path \"{p}\""),
                    format!("两个不同的文件使用了同一路径“{p}”"),
                ));
            }
        }
    }
    let at = c.q.at();
    let qname = text_of(q, "name");
    report.finish(item, format!("{file} {at}"), None, problems, file, &|e| {
        let (fen, fzh) = field_words(&e.field);
        (
            at.clone(),
            format!("question \"{qname}\", {fen}: {}", e.en),
            format!("题目“{qname}”，{fzh}：{}", e.zh),
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes() {
        // RFC 4648 §10 test vectors.
        assert_eq!(base64("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64("Zm9v\nYmE=").unwrap(), b"fooba");
        assert!(base64("Zm9v*").is_none());
    }
}
