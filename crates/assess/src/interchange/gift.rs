//! Moodle GIFT text (docs.moodle.org, "GIFT format") into items.
//!
//! Questions are separated by blank lines; `//` starts a comment line; `::title::` names
//! a question (its identifier here); `$CATEGORY: path` sets the category of the questions
//! after it (a last segment that starts with a requirement code such as `1.2.3` tags them
//! with it); `[html]`, `[moodle]`, `[markdown]` and `[plain]` set the text format;
//! `\~ \= \# \{ \} \: \\ \n` are escapes. Answer blocks:
//! `{=right ~wrong}` single choice, `{~%50%a ~%50%b ~%-100%c}` multiple response with
//! partial credit, `{T}`/`{F}`/`{TRUE}`/`{FALSE}` true/false, `{=a =b}` short answer
//! (text entry), `{=a -> 1 =b -> 2}` matching, `{#3.14:0.01}` numerical (text entry with
//! the value; a tolerance is lost, with a warning), `{}` essay. Text after the block makes
//! it a missing-word question: the block's place in the text becomes a blank `____`.
//! General feedback (`####…`) becomes the explanation; per-answer feedback (`#…`) is
//! dropped with a warning.

use crate::interchange::{
    ImportReport, MAX_ITEMS, Problem, field_words, looks_html, media_refs, option_letter,
};
use crate::item::{
    Blank, Choice, Interaction, Item, ItemContent, ItemKind, ItemMeta, Scoring, is_outline_code,
};
use crate::markup;

/// Largest GIFT file read, bytes.
pub const MAX_GIFT_BYTES: usize = 32 * 1024 * 1024;

/// Import a GIFT file. `name` is how problems name it.
pub fn import_gift(name: &str, bytes: &[u8]) -> ImportReport {
    let mut report = ImportReport::default();
    if bytes.len() > MAX_GIFT_BYTES {
        report.problems.push(Problem::error(
            name,
            "",
            "file_too_large",
            format!("the file is larger than {MAX_GIFT_BYTES} bytes"),
            format!("文件超过 {MAX_GIFT_BYTES} 字节"),
        ));
        return report;
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        report.problems.push(Problem::error(
            name,
            "",
            "not_utf8",
            "the file is not UTF-8 text; save it as UTF-8",
            "文件不是 UTF-8 编码的文本，请另存为 UTF-8",
        ));
        return report;
    };
    let mut category_code: Option<String> = None;
    let mut ordinal = 0usize;
    for (line, block) in blocks(text) {
        if report.items.len() >= MAX_ITEMS {
            report.problems.push(Problem::error(
                name,
                format!("line {line}"),
                "too_many_items",
                format!("more than {MAX_ITEMS} questions; the rest are left out"),
                format!("题目超过 {MAX_ITEMS} 道，其余未导入"),
            ));
            break;
        }
        let trimmed = block.trim_start();
        if let Some(rest) = trimmed.strip_prefix("$CATEGORY:") {
            let path = rest.lines().next().unwrap_or("").trim();
            let last = path.rsplit('/').next().unwrap_or("").trim();
            let first = last.split_whitespace().next().unwrap_or("");
            category_code = is_outline_code(first).then(|| first.to_string());
            continue;
        }
        ordinal += 1;
        question(
            name,
            line,
            &block,
            ordinal,
            category_code.as_deref(),
            &mut report,
        );
    }
    report
}

/// Questions as (first line number, text), comment lines removed, split at blank lines.
fn blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim_end_matches('\r');
        if l.trim_start().starts_with("//") {
            continue;
        }
        if l.trim().is_empty() {
            if !cur.trim().is_empty() {
                out.push((start, std::mem::take(&mut cur)));
            }
            cur.clear();
            continue;
        }
        if cur.is_empty() {
            start = i + 1;
        } else {
            cur.push('\n');
        }
        cur.push_str(l);
    }
    if !cur.trim().is_empty() {
        out.push((start, cur));
    }
    out
}

/// Byte index of the first unescaped `pat` at or after `from`.
fn find_unescaped(s: &str, pat: &str, from: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = from;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i..].starts_with(pat.as_bytes()) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Remove GIFT escapes.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some(x @ ('~' | '=' | '#' | '{' | '}' | ':' | '\\')) => out.push(x),
                Some(x) => {
                    out.push('\\');
                    out.push(x);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Html,
    Moodle,
    Markdown,
    Plain,
}

fn rich(raw: &str, f: Format) -> String {
    let t = unescape(raw);
    let t = t.trim();
    match f {
        Format::Html => markup::sanitize(t),
        Format::Moodle if looks_html(t) => markup::sanitize(&t.replace('\n', "<br>")),
        _ => markup::from_plain(t),
    }
}

struct Answer {
    right: bool,
    weight: Option<f64>,
    text: String,
    feedback: bool,
    /// Byte offset in the block, for the line number.
    at: usize,
}

/// Split an answer block's inside into answers at unescaped `=` and `~`.
fn answers(inner: &str, offset: usize) -> Vec<Answer> {
    let b = inner.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == b'=' || b[i] == b'~' {
            // `->` in matching never contains these; `=` inside a pair's right side would
            // need escaping in GIFT as well.
            starts.push(i);
        }
        i += 1;
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(inner.len());
        let mut body = &inner[s + 1..end];
        let mut weight = None;
        let bt = body.trim_start();
        if let Some(rest) = bt.strip_prefix('%')
            && let Some(e) = rest.find('%')
        {
            weight = rest[..e].trim().parse::<f64>().ok();
            body = &rest[e + 1..];
        }
        let (text, feedback) = match find_unescaped(body, "#", 0) {
            Some(h) => (&body[..h], !body[h + 1..].trim().is_empty()),
            None => (body, false),
        };
        out.push(Answer {
            right: b[s] == b'=',
            weight,
            text: text.trim().to_string(),
            feedback,
            at: offset + s,
        });
    }
    out
}

fn line_of(block: &str, start_line: usize, at: usize) -> usize {
    let b = block.as_bytes();
    start_line + b[..at.min(b.len())].iter().filter(|c| **c == b'\n').count()
}

fn question(
    file: &str,
    line: usize,
    block: &str,
    ordinal: usize,
    category_code: Option<&str>,
    report: &mut ImportReport,
) {
    let loc = format!("line {line}");
    let mut problems: Vec<Problem> = Vec::new();
    let mut rest_at = 0;
    let s = block.trim_start();
    let lead = block.len() - s.len();
    let mut title = None;
    if s.starts_with("::")
        && let Some(e) = find_unescaped(s, "::", 2)
    {
        title = Some(unescape(&s[2..e]).trim().to_string());
        rest_at = lead + e + 2;
    }
    let ident = title
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("GIFT-{ordinal:04}"));
    let body = &block[rest_at..];
    let Some(open) = find_unescaped(body, "{", 0) else {
        report.problems.push(
            Problem::warning(
                file,
                loc,
                "description_skipped",
                "no answer block {…}: a description, not a question; skipped",
                "没有答案块 {…}：这是说明文字而不是题目，已跳过",
            )
            .for_item(ident),
        );
        return;
    };
    let Some(close) = find_unescaped(body, "}", open + 1) else {
        report.problems.push(
            Problem::error(
                file,
                format!("line {}", line_of(block, line, rest_at + open)),
                "unclosed_answers",
                "the answer block opened with { is never closed with }",
                "答案块以 { 开始，但没有 } 结束",
            )
            .for_item(ident),
        );
        return;
    };
    let mut before = body[..open].trim_start();
    let after = body[close + 1..].trim();
    let mut format = Format::Moodle;
    for (tag, f) in [
        ("[html]", Format::Html),
        ("[moodle]", Format::Moodle),
        ("[markdown]", Format::Markdown),
        ("[plain]", Format::Plain),
    ] {
        if let Some(r) = before.strip_prefix(tag) {
            before = r;
            format = f;
        }
    }
    if format == Format::Markdown {
        problems.push(Problem::warning(
            file,
            &loc,
            "markdown_as_text",
            "Markdown is kept as plain text (its formatting is not interpreted)",
            "Markdown 格式按纯文本保留（不解析其格式）",
        ));
    }
    let inner_all = &body[open + 1..close];
    let inner_off = rest_at + open + 1;
    let (inner, general) = match find_unescaped(inner_all, "####", 0) {
        Some(g) => (&inner_all[..g], Some(&inner_all[g + 4..])),
        None => (inner_all, None),
    };
    let explanation = general
        .map(|g| rich(g, format))
        .filter(|g| !markup::plain_text(g).is_empty());
    let missing_word = !after.is_empty();
    let stem_raw = if missing_word {
        format!("{} ____ {}", before.trim_end(), after)
    } else {
        before.trim_end().to_string()
    };
    let stem = rich(&stem_raw, format);
    let it = inner.trim();
    let mut scoring = Scoring::AllOrNothing;
    let feedback_warning = |problems: &mut Vec<Problem>, at: usize| {
        if !problems.iter().any(|p| p.code == "feedback_dropped") {
            problems.push(Problem::warning(
                file,
                format!("line {}", line_of(block, line, at)),
                "feedback_dropped",
                "per-answer feedback is not imported",
                "各选项的反馈未导入",
            ));
        }
    };
    let (kind, interaction) = if it.is_empty() {
        (
            ItemKind::ExtendedText,
            Interaction::ExtendedText {
                expected_length: None,
                guide: None,
            },
        )
    } else if let Some(numeric) = it.strip_prefix('#') {
        let mut accepted = Vec::new();
        let parts: Vec<(String, usize)> = if numeric.trim_start().starts_with('=') {
            answers(numeric, inner_off + 1)
                .into_iter()
                .filter(|a| a.right && a.weight.is_none_or(|w| w >= 100.0))
                .map(|a| (a.text, a.at))
                .collect()
        } else {
            let t = match find_unescaped(numeric, "#", 0) {
                Some(h) => {
                    feedback_warning(&mut problems, inner_off);
                    &numeric[..h]
                }
                None => numeric,
            };
            vec![(t.trim().to_string(), inner_off)]
        };
        for (p, at) in parts {
            let p = unescape(&p);
            let at_line = format!("line {}", line_of(block, line, at));
            if let Some((lo, hi)) = p.split_once("..") {
                problems.push(Problem::error(
                    file,
                    at_line,
                    "unsupported_numeric_range",
                    format!("the numeric range {}..{} cannot be kept: xcert's blanks accept listed values only", lo.trim(), hi.trim()),
                    format!("数值范围 {}..{} 无法保留：xcert 的填空只接受列出的答案", lo.trim(), hi.trim()),
                ));
                continue;
            }
            let (value, tol) = match p.split_once(':') {
                Some((v, t)) => (v.trim().to_string(), t.trim().parse::<f64>().ok()),
                None => (p.trim().to_string(), None),
            };
            if value.parse::<f64>().is_err() {
                problems.push(Problem::error(
                    file,
                    at_line,
                    "bad_number",
                    format!("\"{value}\" is not a number"),
                    format!("“{value}”不是数值"),
                ));
                continue;
            }
            if let Some(t) = tol.filter(|t| *t > 0.0) {
                problems.push(Problem::warning(
                    file,
                    at_line,
                    "tolerance_lost",
                    format!("the tolerance ±{t} is not kept: only {value} as written is accepted"),
                    format!("误差范围 ±{t} 无法保留：只接受写出的 {value}"),
                ));
            }
            accepted.push(value);
        }
        (
            ItemKind::TextEntry,
            Interaction::TextEntry {
                blanks: vec![Blank {
                    id: "1".into(),
                    accepted,
                    case_sensitive: false,
                }],
            },
        )
    } else if let Some(tf) = tf_answer(it) {
        if it.contains('#') {
            feedback_warning(&mut problems, inner_off);
        }
        (
            ItemKind::TrueFalse,
            Interaction::Choice {
                choices: vec![Choice::new("T", "正确"), Choice::new("F", "错误")],
                correct: vec![if tf { "T" } else { "F" }.into()],
                shuffle: false,
            },
        )
    } else {
        let ans = answers(inner, inner_off);
        if ans.is_empty() {
            report.problems.push(
                Problem::error(
                    file,
                    format!("line {}", line_of(block, line, inner_off)),
                    "bad_answers",
                    format!(
                        "the answer block \"{}\" has no answers starting with = or ~",
                        it
                    ),
                    format!("答案块“{it}”中没有以 = 或 ~ 开头的答案"),
                )
                .for_item(ident),
            );
            return;
        }
        if let Some(a) = ans.iter().find(|a| a.feedback) {
            feedback_warning(&mut problems, a.at);
        }
        let all_pairs = ans
            .iter()
            .all(|a| a.right && find_unescaped(&a.text, "->", 0).is_some());
        if all_pairs {
            let mut sources = Vec::new();
            let mut targets: Vec<Choice> = Vec::new();
            let mut correct = Vec::new();
            for (k, a) in ans.iter().enumerate() {
                let arrow = find_unescaped(&a.text, "->", 0).unwrap_or(0);
                let left = rich(&a.text[..arrow], format);
                let right = rich(&a.text[arrow + 2..], format);
                let sid = (k + 1).to_string();
                let tid = match targets.iter().find(|t| t.text == right) {
                    Some(t) => t.id.clone(),
                    None => {
                        let id = option_letter(targets.len());
                        targets.push(Choice::new(id.clone(), right));
                        id
                    }
                };
                if markup::plain_text(&left).is_empty() {
                    // A right side with no left side is a distractor.
                    continue;
                }
                sources.push(Choice::new(sid.clone(), left));
                correct.push((sid, tid));
            }
            (
                ItemKind::Matching,
                Interaction::Match {
                    sources,
                    targets,
                    correct,
                    shuffle: true,
                },
            )
        } else if ans.iter().all(|a| a.right) {
            let mut accepted = Vec::new();
            for a in &ans {
                if a.weight.is_some_and(|w| w < 100.0) {
                    problems.push(Problem::warning(
                        file,
                        format!("line {}", line_of(block, line, a.at)),
                        "partial_answer_dropped",
                        format!("the answer \"{}\" earns partial credit; only fully right answers are kept", unescape(&a.text)),
                        format!("答案“{}”只得部分分；只保留完全正确的答案", unescape(&a.text)),
                    ));
                    continue;
                }
                accepted.push(unescape(&a.text).trim().to_string());
            }
            (
                ItemKind::TextEntry,
                Interaction::TextEntry {
                    blanks: vec![Blank {
                        id: "1".into(),
                        accepted,
                        case_sensitive: false,
                    }],
                },
            )
        } else {
            let mut choices = Vec::new();
            let mut correct = Vec::new();
            let equals = ans.iter().filter(|a| a.right).count();
            for (k, a) in ans.iter().enumerate() {
                let id = option_letter(k);
                choices.push(Choice::new(id.clone(), rich(&a.text, format)));
                let w = a.weight.unwrap_or(if a.right { 100.0 } else { 0.0 });
                if a.right || (equals == 0 && w > 0.0) {
                    correct.push(id);
                } else if w > 0.0 {
                    problems.push(Problem::warning(
                        file,
                        format!("line {}", line_of(block, line, a.at)),
                        "partial_answer_dropped",
                        format!("the option \"{}\" earns partial credit ({w}%) in a single-answer question; it is counted wrong", unescape(&a.text)),
                        format!("单选题中选项“{}”得部分分（{w}%）；现按错误选项处理", unescape(&a.text)),
                    ));
                }
            }
            let kind = if equals == 1 {
                ItemKind::SingleChoice
            } else {
                if equals == 0 {
                    scoring = Scoring::Partial;
                }
                ItemKind::MultipleChoice
            };
            (
                kind,
                Interaction::Choice {
                    choices,
                    correct,
                    shuffle: true,
                },
            )
        }
    };
    let mut html: Vec<&str> = vec![&stem];
    if let Interaction::Choice { choices, .. } = &interaction {
        html.extend(choices.iter().map(|c| c.text.as_str()));
    }
    let media = media_refs(&html);
    if !media.is_empty() {
        problems.push(Problem::warning(
            file,
            &loc,
            "media_not_included",
            "the question shows images, but a GIFT file carries no files; add them to the bank",
            "题目引用了图片，但 GIFT 文件不含图片文件，请另行补充",
        ));
    }
    let item = Item {
        meta: ItemMeta {
            ident: ident.clone(),
            requirements: category_code
                .map(|c| vec![c.to_string()])
                .unwrap_or_default(),
            ..Default::default()
        },
        content: ItemContent {
            kind,
            stem,
            interaction,
            points: 1.0,
            scoring,
            explanation,
            media,
        },
    };
    let source = format!("{file} line {line}");
    report.finish(item, source, None, problems, file, &|e| {
        let (fen, fzh) = field_words(&e.field);
        (
            format!("line {line}"),
            format!("line {line}, {fen}: {}", e.en),
            format!("第 {line} 行，{fzh}：{}", e.zh),
        )
    });
}

fn tf_answer(it: &str) -> Option<bool> {
    let head = it.split('#').next().unwrap_or("").trim();
    match head.to_ascii_uppercase().as_str() {
        "T" | "TRUE" => Some(true),
        "F" | "FALSE" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_comments() {
        assert_eq!(
            unescape(r"a\~b\=c\#d\{e\}f\:g\\h\nI"),
            "a~b=c#d{e}f:g\\h\nI"
        );
        let b = blocks("// c\n::a::x{T}\n\n\n// d\n::b::y{F}\n");
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].0, 6);
    }
}
