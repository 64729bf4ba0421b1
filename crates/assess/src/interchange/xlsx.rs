//! The question bank `.xlsx` template (题库模板), the way Chinese banks are usually kept:
//! one row per item under a header row, a second sheet 说明 explaining the columns.
//!
//! Headers are the Chinese names below or the English keys (`题干` or `stem`, also
//! `题干(stem)`). Keys (答案): letters `ABD` / `A,B` for choices; `对/错/√/×/正确/错误/
//! T/F` for true/false; blanks separated by `|`, `；` or `;`, alternatives of one blank by
//! `/` (`\/` and `\|` for the characters themselves); pairs `1-B;2-A` (left item number,
//! right option letter) for matching; `CABD` for ordering. Practical tasks list their
//! observation criteria in 评分标准, one per line: `text|points[|关键][|id=…][|2=…;0=…]`.
//! Choice identifiers are the option letters: items whose options use other identifiers
//! get letters on export.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use rust_xlsxwriter::{Color, Format, FormatAlign, Workbook, Worksheet, XlsxError};
use xcert_domain::FieldError;
use xcert_domain::framework::Level;

use crate::interchange::qti::{TRUE_WORDS, looks_true_false};
use crate::interchange::{ImportReport, MAX_ITEMS, Problem, media_refs, option_letter};
use crate::item::{
    Blank, Choice, Criterion, Descriptor, Interaction, Item, ItemContent, ItemKind, ItemMeta,
    ObservationScale, ReviewStatus, Scoring,
};
use crate::markup;

/// Largest workbook read, bytes.
pub const MAX_XLSX_BYTES: usize = 64 * 1024 * 1024;
/// Most bytes a workbook may unpack to.
const MAX_UNPACKED: u64 = 512 * 1024 * 1024;

/// A column of the template: key, Chinese header, what goes in it (zh, en), example.
struct Col {
    key: &'static str,
    zh: &'static str,
    help_zh: &'static str,
    help_en: &'static str,
    example: &'static str,
}

const LETTERS: [&str; 8] = ["A", "B", "C", "D", "E", "F", "G", "H"];

const COLS: &[Col] = &[
    Col {
        key: "ident",
        zh: "题目编号",
        help_zh: "题目在题库中的唯一编号（必填）",
        help_en: "the item's identifier in the bank (required)",
        example: "DG-0001",
    },
    Col {
        key: "kind",
        zh: "题型",
        help_zh: "单选题、多选题、判断题、填空题、匹配题、排序题、简答题、实操题",
        help_en: "single_choice, multiple_choice, true_false, text_entry, matching, ordering, extended_text, practical_task",
        example: "单选题",
    },
    Col {
        key: "stem",
        zh: "题干",
        help_zh: "题目内容；空用 ____（至少三个下划线）表示；可写纯文本或 HTML",
        help_en: "the question; blanks as ____ (three or more underscores); plain text or HTML",
        example: "我国工频交流电的频率是____Hz",
    },
    Col {
        key: "option_a",
        zh: "选项A",
        help_zh: "选项 A（匹配题为右列选项）",
        help_en: "option A (matching: right-hand option)",
        example: "50",
    },
    Col {
        key: "option_b",
        zh: "选项B",
        help_zh: "选项 B",
        help_en: "option B",
        example: "60",
    },
    Col {
        key: "option_c",
        zh: "选项C",
        help_zh: "选项 C",
        help_en: "option C",
        example: "",
    },
    Col {
        key: "option_d",
        zh: "选项D",
        help_zh: "选项 D",
        help_en: "option D",
        example: "",
    },
    Col {
        key: "option_e",
        zh: "选项E",
        help_zh: "选项 E",
        help_en: "option E",
        example: "",
    },
    Col {
        key: "option_f",
        zh: "选项F",
        help_zh: "选项 F",
        help_en: "option F",
        example: "",
    },
    Col {
        key: "option_g",
        zh: "选项G",
        help_zh: "选项 G",
        help_en: "option G",
        example: "",
    },
    Col {
        key: "option_h",
        zh: "选项H",
        help_zh: "选项 H",
        help_en: "option H",
        example: "",
    },
    Col {
        key: "options",
        zh: "选项",
        help_zh: "也可把全部选项写在一格，每行一个或用 | 分隔（超过 8 个选项时使用）",
        help_en: "all options in one cell instead, one per line or separated by | (for more than 8 options)",
        example: "",
    },
    Col {
        key: "sources",
        zh: "左列",
        help_zh: "匹配题的左列各项，每行一个，依次编号 1、2、3…",
        help_en: "matching: the left-hand items, one per line, numbered 1, 2, 3 …",
        example: "",
    },
    Col {
        key: "key",
        zh: "答案",
        help_zh: "选择题 ABD 或 A,B；判断题 对/错/√/×/正确/错误/T/F；填空题各空用 | 或 ；分隔，同一空的多个答案用 / 分隔；匹配题 1-B;2-A；排序题 CABD",
        help_en: "choices ABD or A,B; true/false 对/错/√/×/T/F; blanks separated by | or ；, alternatives of one blank by /; matching 1-B;2-A; ordering CABD",
        example: "A",
    },
    Col {
        key: "points",
        zh: "分值",
        help_zh: "本题分值，默认 1（实操题默认为各评分项之和）",
        help_en: "points, 1 by default (practical: the criteria's sum)",
        example: "1",
    },
    Col {
        key: "scoring",
        zh: "评分方式",
        help_zh: "全对得分 或 少选得分（按比例得分）",
        help_en: "all_or_nothing or partial",
        example: "全对得分",
    },
    Col {
        key: "difficulty",
        zh: "难度",
        help_zh: "1–5，或 易、较易、中、较难、难",
        help_en: "1–5, or 易 (easy) … 难 (hard)",
        example: "中",
    },
    Col {
        key: "level",
        zh: "等级",
        help_zh: "初级、中级、高级",
        help_en: "junior, intermediate, senior",
        example: "初级",
    },
    Col {
        key: "requirements",
        zh: "技能要求",
        help_zh: "职业技能要求编号，多个用 ; 分隔，如 1.2.3;2.1.1",
        help_en: "skill requirement codes separated by ;, e.g. 1.2.3;2.1.1",
        example: "1.1.1",
    },
    Col {
        key: "enemy_group",
        zh: "互斥组",
        help_zh: "同组题目不会出现在同一份试卷中",
        help_en: "items of one enemy group never share a form",
        example: "",
    },
    Col {
        key: "testlet",
        zh: "题组",
        help_zh: "共用材料的题目同组，一起抽取",
        help_en: "items sharing a stimulus are drawn together",
        example: "",
    },
    Col {
        key: "explanation",
        zh: "解析",
        help_zh: "答案解析，仅审核与阅卷人员可见",
        help_en: "explanation, shown to reviewers only",
        example: "我国电网频率为 50Hz",
    },
    Col {
        key: "author",
        zh: "作者",
        help_zh: "命题人",
        help_en: "author",
        example: "",
    },
    Col {
        key: "review",
        zh: "审核状态",
        help_zh: "草稿、审核中、已审核、已停用",
        help_en: "draft, in_review, approved, retired",
        example: "草稿",
    },
    Col {
        key: "time_seconds",
        zh: "预计用时(秒)",
        help_zh: "预计作答时间，秒",
        help_en: "expected time to answer, seconds",
        example: "60",
    },
    Col {
        key: "criteria",
        zh: "评分标准",
        help_zh: "实操题：每行一个评分项“内容|分值|关键”，如 安全防护|10|关键；简答题：评分要点",
        help_en: "practical: one criterion per line, text|points|关键 (critical); extended text: the marking guide",
        example: "",
    },
    Col {
        key: "shuffle",
        zh: "选项乱序",
        help_zh: "是 或 否，默认 是",
        help_en: "yes or no (default yes): shuffle options",
        example: "是",
    },
    Col {
        key: "fixed",
        zh: "固定选项",
        help_zh: "乱序时保持位置不动的选项字母，如 D",
        help_en: "letters of options that keep their place when shuffled",
        example: "",
    },
    Col {
        key: "case_sensitive",
        zh: "区分大小写",
        help_zh: "填空题是否区分大小写：是 或 否，默认 否",
        help_en: "text entry: case sensitive, yes or no (default no)",
        example: "",
    },
    Col {
        key: "expected_length",
        zh: "字数",
        help_zh: "简答题预计作答字数",
        help_en: "extended text: expected length in characters",
        example: "",
    },
];

fn col_by_header(h: &str) -> Option<&'static Col> {
    let t: String = h.trim().chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.replace(['（', '）'], "()").replace('（', "(");
    let candidates: Vec<String> = {
        let mut v = vec![t.clone()];
        if let Some(open) = t.find('(')
            && t.ends_with(')')
        {
            v.push(t[..open].to_string());
            v.push(t[open + 1..t.len() - 1].to_string());
        }
        v
    };
    for c in &candidates {
        let l = c.to_ascii_lowercase();
        if let Some(col) = COLS.iter().find(|col| {
            col.zh.replace('（', "(").replace('）', ")") == *c
                || col.key == l
                || col.key.replace('_', "") == l.replace(['_', '-'], "")
        }) {
            return Some(col);
        }
        // Common variants.
        let alias = match c.as_str() {
            "预计用时" | "用时" | "用时(秒)" => Some("time_seconds"),
            "编号" | "题号" => Some("ident"),
            "正确答案" | "参考答案" => Some("key"),
            "题目" | "题目内容" => Some("stem"),
            "分数" => Some("points"),
            "答案解析" => Some("explanation"),
            "知识点" | "技能点" => Some("requirements"),
            _ => None,
        };
        if let Some(a) = alias {
            return COLS.iter().find(|col| col.key == a);
        }
    }
    None
}

fn zh_of(key: &str) -> &'static str {
    COLS.iter()
        .find(|c| c.key == key)
        .map(|c| c.zh)
        .unwrap_or("")
}

fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Data::DateTime(dt) => number(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Check what a workbook unpacks to before calamine reads it (a zip bomb stops here).
fn check_unpacked(bytes: &[u8]) -> Result<(), String> {
    let opened = std::panic::catch_unwind(|| zip::ZipArchive::new(Cursor::new(bytes)));
    let mut a = match opened {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("unreadable archive".into()),
    };
    if a.len() > 10_000 {
        return Err(format!("{} entries", a.len()));
    }
    let mut total = 0u64;
    for i in 0..a.len() {
        let mut e = a.by_index(i).map_err(|e| e.to_string())?;
        let n = std::io::copy(
            &mut (&mut e).take(MAX_UNPACKED + 1 - total),
            &mut std::io::sink(),
        )
        .map_err(|e| e.to_string())?;
        total += n;
        if total > MAX_UNPACKED {
            return Err(format!("unpacks to more than {MAX_UNPACKED} bytes"));
        }
    }
    Ok(())
}

fn looks_html(s: &str) -> bool {
    let t = s.trim_start();
    let Some(rest) = t.strip_prefix('<') else {
        return false;
    };
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        name.as_str(),
        "p" | "div"
            | "br"
            | "b"
            | "strong"
            | "i"
            | "em"
            | "u"
            | "sub"
            | "sup"
            | "span"
            | "img"
            | "table"
            | "ul"
            | "ol"
            | "pre"
            | "code"
            | "blockquote"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "figure"
            | "dl"
            | "s"
            | "small"
    )
}

/// A cell into rich text: HTML when it starts with a tag, plain text otherwise.
fn rich(s: &str) -> String {
    let t = s.trim();
    if looks_html(t) {
        markup::sanitize(t)
    } else {
        markup::from_plain(t)
    }
}

/// Rich text into a cell: plain when that reads back the same, HTML otherwise.
fn cell_of(html: &str) -> String {
    let plain = markup::plain_text(html);
    if markup::from_plain(&plain) == html && !looks_html(&plain) {
        plain
    } else {
        html.to_string()
    }
}

/// Split at any of `seps`, honouring `\` escapes: an escaped separator is kept as the
/// character; other escapes stay for an inner split (see [`unescape_all`]).
fn split_escaped(s: &str, seps: &[char]) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut it = s.chars();
    while let Some(c) = it.next() {
        let last = out.len() - 1;
        if c == '\\' {
            match it.next() {
                Some(n) if seps.contains(&n) => out[last].push(n),
                Some(n) => {
                    out[last].push('\\');
                    out[last].push(n);
                }
                None => out[last].push('\\'),
            }
        } else if seps.contains(&c) {
            out.push(String::new());
        } else {
            out[last].push(c);
        }
    }
    out
}

/// Remove the template's escapes (`\\`, `\|`, `\/`, `\;`, `\；`) from a leaf value.
fn unescape_all(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some(n @ ('\\' | '|' | '/' | ';' | '；')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn escape_seps(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('/', "\\/")
        .replace('|', "\\|")
        .replace(';', "\\;")
        .replace('；', "\\；")
}

fn yes_no(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "是" | "y" | "yes" | "true" | "1" | "√" | "对" => Some(true),
        "否" | "n" | "no" | "false" | "0" | "×" | "错" => Some(false),
        _ => None,
    }
}

fn parse_difficulty(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "易" | "容易" | "简单" => Some(1.0),
        "较易" | "较容易" => Some(2.0),
        "中" | "中等" | "一般" => Some(3.0),
        "较难" => Some(4.0),
        "难" | "困难" => Some(5.0),
        _ => t.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

fn strip_letter_prefix(s: &str) -> &str {
    let t = s.trim_start();
    let mut cs = t.chars();
    if let (Some(l), Some(p)) = (cs.next(), cs.next())
        && l.is_ascii_uppercase()
        && matches!(p, '.' | '、' | '．' | ')' | '）' | ':' | '：')
    {
        return cs.as_str().trim_start();
    }
    t
}

struct Row<'a> {
    file: &'a str,
    row: usize,
    cells: Vec<(&'static str, String)>,
    problems: Vec<Problem>,
}

impl Row<'_> {
    fn get(&self, key: &str) -> &str {
        self.cells
            .iter()
            .find(|(k, v)| *k == key && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    fn bad(&mut self, key: &str, en: String, zh: String) {
        let r = self.row;
        let zh_col = zh_of(key);
        self.problems.push(Problem::error(
            self.file,
            format!("row {r}, column {key}"),
            "bad_cell",
            format!("row {r}, column {key}: {en}"),
            format!("第 {r} 行 {zh_col} 列：{zh}"),
        ));
    }
}

/// Import the template (or a workbook laid out like it). `name` is how problems name it.
pub fn import_xlsx(name: &str, bytes: &[u8]) -> ImportReport {
    let mut report = ImportReport::default();
    let fail = |report: &mut ImportReport, en: String, zh: String| {
        report
            .problems
            .push(Problem::error(name, "", "bad_workbook", en, zh));
    };
    if bytes.len() > MAX_XLSX_BYTES {
        fail(
            &mut report,
            format!("the workbook is larger than {MAX_XLSX_BYTES} bytes"),
            format!("工作簿超过 {MAX_XLSX_BYTES} 字节"),
        );
        return report;
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        fail(
            &mut report,
            "this is an old .xls workbook; save it as .xlsx".into(),
            "这是旧版 .xls 文件，请另存为 .xlsx".into(),
        );
        return report;
    }
    if let Err(e) = check_unpacked(bytes) {
        fail(
            &mut report,
            format!("not a readable .xlsx workbook ({e})"),
            format!("不是可读取的 .xlsx 工作簿（{e}）"),
        );
        return report;
    }
    let opened = std::panic::catch_unwind(|| {
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))?;
        let names = wb.sheet_names();
        let pick = names
            .iter()
            .find(|n| matches!(n.trim(), "题库" | "items" | "Items" | "试题"))
            .or_else(|| {
                names
                    .iter()
                    .find(|n| !matches!(n.trim(), "说明" | "instructions"))
            })
            .cloned();
        match pick {
            Some(n) => wb.worksheet_range(&n).map(|r| Some((n, r))),
            None => Ok(None),
        }
    });
    let (sheet, range) = match opened {
        Ok(Ok(Some(x))) => x,
        Ok(Ok(None)) => {
            fail(
                &mut report,
                "the workbook has no item sheet".into(),
                "工作簿中没有题目工作表".into(),
            );
            return report;
        }
        Ok(Err(e)) => {
            fail(
                &mut report,
                format!("not a readable .xlsx workbook: {e}"),
                format!("不是可读取的 .xlsx 工作簿：{e}"),
            );
            return report;
        }
        Err(_) => {
            fail(
                &mut report,
                "not a readable .xlsx workbook".into(),
                "不是可读取的 .xlsx 工作簿".into(),
            );
            return report;
        }
    };
    let (r0, _) = range.start().unwrap_or((0, 0));
    let rows: Vec<(usize, Vec<String>)> = range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            (
                r0 as usize + i + 1,
                cells.iter().map(cell_text).collect::<Vec<String>>(),
            )
        })
        .filter(|(_, c)| c.iter().any(|v| !v.trim().is_empty()))
        .collect();
    let Some((header_row, header)) = rows.first() else {
        fail(
            &mut report,
            format!("the sheet \"{sheet}\" is empty"),
            format!("工作表“{sheet}”是空的"),
        );
        return report;
    };
    let mut cols: Vec<Option<&'static Col>> = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let c = col_by_header(h);
        if c.is_none() && !h.trim().is_empty() {
            report.problems.push(Problem::warning(
                name,
                format!("row {header_row}, column {}", i + 1),
                "unknown_column",
                format!(
                    "the column \"{}\" is not part of the template and is ignored",
                    h.trim()
                ),
                format!("列“{}”不属于模板，已忽略", h.trim()),
            ));
        }
        if let Some(c) = c
            && cols.iter().flatten().any(|x| x.key == c.key)
        {
            report.problems.push(Problem::error(
                name,
                format!("row {header_row}, column {}", i + 1),
                "duplicate_column",
                format!("the column {} appears twice", c.key),
                format!("列“{}”出现了两次", c.zh),
            ));
            return report;
        }
        cols.push(c);
    }
    for need in ["ident", "kind", "stem"] {
        if !cols.iter().flatten().any(|c| c.key == need) {
            fail(
                &mut report,
                format!("the header row has no column {need} ({})", zh_of(need)),
                format!("表头缺少“{}”列", zh_of(need)),
            );
            return report;
        }
    }
    for (rownum, cells) in rows.iter().skip(1) {
        if report.items.len() >= MAX_ITEMS {
            fail(
                &mut report,
                format!("more than {MAX_ITEMS} items; the rest are left out"),
                format!("题目超过 {MAX_ITEMS} 道，其余未导入"),
            );
            break;
        }
        let mut row = Row {
            file: name,
            row: *rownum,
            cells: cols
                .iter()
                .zip(cells.iter().chain(std::iter::repeat(&String::new())))
                .filter_map(|(c, v)| c.map(|c| (c.key, v.clone())))
                .collect(),
            problems: Vec::new(),
        };
        read_row(&mut row, &mut report);
    }
    report
}

fn letter_ids(key: &str) -> Vec<String> {
    key.chars()
        .filter(|c| !matches!(c, ',' | '，' | '、' | ';' | '；' | ' ' | '|' | '>'))
        .map(|c| c.to_ascii_uppercase().to_string())
        .collect()
}

fn read_row(row: &mut Row, report: &mut ImportReport) {
    let ident = row.get("ident").trim().to_string();
    let kind = match ItemKind::parse("kind", row.get("kind")) {
        Ok(k) => k,
        Err(e) => {
            row.bad("kind", e.en, e.zh);
            ItemKind::SingleChoice
        }
    };
    let stem = rich(row.get("stem"));
    // Options: A–H, or the single column.
    let mut options: Vec<Choice> = Vec::new();
    let lettered: Vec<String> = LETTERS
        .iter()
        .map(|l| {
            row.get(&format!("option_{}", l.to_ascii_lowercase()))
                .to_string()
        })
        .collect();
    let last = lettered.iter().rposition(|v| !v.trim().is_empty());
    if let Some(last) = last {
        for (i, v) in lettered.iter().take(last + 1).enumerate() {
            if v.trim().is_empty() {
                let key = format!("option_{}", LETTERS[i].to_ascii_lowercase());
                row.bad(
                    &key,
                    format!(
                        "option {} is empty while later options are given",
                        LETTERS[i]
                    ),
                    format!("选项{}为空，但后面还有选项", LETTERS[i]),
                );
            }
            options.push(Choice::new(LETTERS[i], rich(v)));
        }
    } else if !row.get("options").trim().is_empty() {
        let all = row.get("options").to_string();
        let parts: Vec<&str> = if all.contains('\n') {
            all.split('\n').collect()
        } else {
            all.split('|').collect()
        };
        for (i, p) in parts.iter().filter(|p| !p.trim().is_empty()).enumerate() {
            let id = option_letter(i);
            options.push(Choice::new(id, rich(strip_letter_prefix(p))));
        }
    }
    let shuffle_cell = row.get("shuffle").trim().to_string();
    let shuffle = match shuffle_cell.as_str() {
        "" => true,
        v => yes_no(v).unwrap_or_else(|| {
            row.bad(
                "shuffle",
                format!("\"{v}\" is not yes or no"),
                format!("“{v}”应为 是 或 否"),
            );
            true
        }),
    };
    for f in letter_ids(row.get("fixed")) {
        match options.iter_mut().find(|o| o.id == f) {
            Some(o) => o.fixed = true,
            None => row.bad(
                "fixed",
                format!("\"{f}\" is not an option of this item"),
                format!("“{f}”不是本题的选项"),
            ),
        }
    }
    let key = row.get("key").trim().to_string();
    let case_sensitive = match row.get("case_sensitive").trim() {
        "" => false,
        v => yes_no(v).unwrap_or(false),
    };
    let criteria_text = row.get("criteria").to_string();
    let interaction = match kind {
        ItemKind::SingleChoice | ItemKind::MultipleChoice => Interaction::Choice {
            correct: letter_ids(&key),
            choices: options,
            shuffle,
        },
        ItemKind::TrueFalse => {
            if options.is_empty() {
                options = vec![Choice::new("A", "正确"), Choice::new("B", "错误")];
            }
            let truthy = ["对", "正确", "√", "✓", "t", "true", "是", "y", "yes"];
            let falsy = ["错", "错误", "×", "✗", "f", "false", "否", "n", "no"];
            let k = key.to_lowercase();
            let want = if truthy.contains(&k.as_str()) {
                Some(true)
            } else if falsy.contains(&k.as_str()) {
                Some(false)
            } else {
                None
            };
            let correct = match want {
                Some(w) => {
                    let first_true = looks_true_false(&options)
                        && TRUE_WORDS.iter().any(|t| {
                            markup::plain_text(&options[0].text)
                                .trim()
                                .eq_ignore_ascii_case(t)
                        });
                    let idx = if w == first_true || !looks_true_false(&options) && w {
                        0
                    } else {
                        1
                    };
                    options
                        .get(idx)
                        .map(|o| vec![o.id.clone()])
                        .unwrap_or_default()
                }
                None if options.iter().any(|o| o.id == key.to_ascii_uppercase()) => {
                    vec![key.to_ascii_uppercase()]
                }
                None if key.is_empty() => Vec::new(),
                None => {
                    row.bad(
                        "key",
                        format!("\"{key}\" is not a true/false answer (对/错, √/×, T/F or an option letter)"),
                        format!("答案“{key}”不是判断题的答案（对/错、√/×、T/F 或选项字母）"),
                    );
                    Vec::new()
                }
            };
            Interaction::Choice {
                choices: options,
                correct,
                shuffle,
            }
        }
        ItemKind::TextEntry => Interaction::TextEntry {
            blanks: split_escaped(&key, &['|', '；', ';'])
                .into_iter()
                .enumerate()
                .map(|(i, b)| Blank {
                    id: (i + 1).to_string(),
                    accepted: split_escaped(&b, &['/'])
                        .into_iter()
                        .map(|a| unescape_all(a.trim()))
                        .filter(|a| !a.is_empty())
                        .collect(),
                    case_sensitive,
                })
                .collect(),
        },
        ItemKind::Matching => {
            let src = row.get("sources").to_string();
            let parts: Vec<&str> = if src.contains('\n') {
                src.split('\n').collect()
            } else {
                src.split('|').collect()
            };
            let sources: Vec<Choice> = parts
                .iter()
                .filter(|p| !p.trim().is_empty())
                .enumerate()
                .map(|(i, p)| {
                    let t = p.trim();
                    let num = format!("{}", i + 1);
                    let t = t
                        .strip_prefix(&num)
                        .and_then(|r| r.strip_prefix(['.', '、', '．', ')', '）']))
                        .unwrap_or(t);
                    Choice::new((i + 1).to_string(), rich(t))
                })
                .collect();
            let mut correct = Vec::new();
            for pair in key
                .split([';', '；', ',', '，', '|', '\n'])
                .filter(|p| !p.trim().is_empty())
            {
                let p = pair.trim();
                let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
                let rest =
                    p[digits.len()..].trim_start_matches(['-', '—', '→', ':', '：', '=', ' ', '>']);
                if digits.is_empty() || rest.trim().is_empty() {
                    row.bad(
                        "key",
                        format!("\"{p}\" is not a pair such as 1-B"),
                        format!("“{p}”不是“1-B”这样的配对"),
                    );
                    continue;
                }
                correct.push((digits, rest.trim().to_ascii_uppercase()));
            }
            Interaction::Match {
                sources,
                targets: options,
                correct,
                shuffle,
            }
        }
        ItemKind::Ordering => Interaction::Order {
            correct: letter_ids(&key),
            choices: options,
            shuffle,
        },
        ItemKind::ExtendedText => {
            let mut guide = String::new();
            if !key.is_empty() {
                guide.push_str(&format!("<p>参考答案：{}</p>", markup::from_plain(&key)));
            }
            if !criteria_text.trim().is_empty() {
                guide.push_str(&rich(&criteria_text));
            }
            let expected_length = match row.get("expected_length").trim().to_string().as_str() {
                "" => None,
                v => match v.parse::<u32>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        row.bad(
                            "expected_length",
                            format!("\"{v}\" is not a whole number"),
                            format!("“{v}”不是整数"),
                        );
                        None
                    }
                },
            };
            Interaction::ExtendedText {
                expected_length,
                guide: (!guide.is_empty()).then_some(guide),
            }
        }
        ItemKind::PracticalTask => Interaction::Practical {
            scale: parse_criteria(row, &criteria_text),
        },
    };
    let points_cell = row.get("points").trim().to_string();
    let points = match points_cell.as_str() {
        "" => match &interaction {
            Interaction::Practical { scale } if !scale.criteria.is_empty() => scale.max_points(),
            _ => 1.0,
        },
        v => v.parse::<f64>().unwrap_or_else(|_| {
            row.bad(
                "points",
                format!("\"{v}\" is not a number"),
                format!("“{v}”不是数字"),
            );
            1.0
        }),
    };
    let scoring = match row.get("scoring").trim().to_string().as_str() {
        "" => match &interaction {
            Interaction::TextEntry { blanks } if blanks.len() > 1 => Scoring::Partial,
            Interaction::Match { .. } => Scoring::Partial,
            _ => Scoring::AllOrNothing,
        },
        "全对得分" | "全部正确" | "全对" | "all_or_nothing" | "all" => {
            Scoring::AllOrNothing
        }
        "少选得分" | "部分得分" | "按比例得分" | "按比例" | "partial" => {
            Scoring::Partial
        }
        v => {
            row.bad(
                "scoring",
                format!("\"{v}\" is not all_or_nothing or partial"),
                format!("“{v}”应为 全对得分 或 少选得分"),
            );
            Scoring::AllOrNothing
        }
    };
    let difficulty = match row.get("difficulty").trim().to_string().as_str() {
        "" => None,
        v => match parse_difficulty(v) {
            Some(d) => Some(d),
            None => {
                row.bad(
                    "difficulty",
                    format!("\"{v}\" is not 1–5 or 易/较易/中/较难/难"),
                    format!("“{v}”应为 1–5 或 易、较易、中、较难、难"),
                );
                None
            }
        },
    };
    let level = match row.get("level").trim().to_string().as_str() {
        "" => None,
        v => match Level::parse("level", v) {
            Ok(l) => Some(l),
            Err(e) => {
                row.bad("level", e.en, e.zh);
                None
            }
        },
    };
    let review = match row.get("review").trim().to_string().as_str() {
        "" => None,
        v => match ReviewStatus::parse("review", v) {
            Ok(r) => Some(r),
            Err(e) => {
                row.bad("review", e.en, e.zh);
                None
            }
        },
    };
    let time_seconds = match row.get("time_seconds").trim().to_string().as_str() {
        "" => None,
        v => match v.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                row.bad(
                    "time_seconds",
                    format!("\"{v}\" is not a whole number of seconds"),
                    format!("“{v}”不是整数秒"),
                );
                None
            }
        },
    };
    let opt = |k: &str| Some(row.get(k).trim().to_string()).filter(|s| !s.is_empty());
    let explanation = opt("explanation").map(|e| rich(&e));
    let requirements: Vec<String> = row
        .get("requirements")
        .split([';', '；', ',', '，', '、', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut html: Vec<&str> = vec![&stem];
    if let Interaction::Choice { choices, .. } | Interaction::Order { choices, .. } = &interaction {
        html.extend(choices.iter().map(|c| c.text.as_str()));
    }
    let media = media_refs(&html);
    let item = Item {
        meta: ItemMeta {
            ident: ident.clone(),
            requirements,
            level,
            difficulty,
            enemy_group: opt("enemy_group"),
            testlet: opt("testlet"),
            author: opt("author"),
            time_seconds,
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
    let r = row.row;
    let file = row.file;
    let problems = std::mem::take(&mut row.problems);
    report.finish(
        item,
        format!("{file} row {r}"),
        review,
        problems,
        file,
        &|e: &FieldError| {
            let col = match e.field.as_str() {
                "key" | "blanks" => "key",
                "choices" | "targets" => "option_a",
                "sources" => "sources",
                "stem" => "stem",
                "points" => "points",
                "ident" => "ident",
                "difficulty" => "difficulty",
                "requirements" => "requirements",
                "criteria" => "criteria",
                "kind" => "kind",
                _ => "",
            };
            let zh_col = if col == "option_a" {
                "选项"
            } else {
                zh_of(col)
            };
            let col_en = if col == "option_a" { "options" } else { col };
            (
                format!("row {r}, column {col_en}"),
                format!("row {r}, column {col_en}: {}", e.en),
                format!("第 {r} 行 {zh_col} 列：{}", e.zh),
            )
        },
    );
}

fn parse_criteria(row: &mut Row, text: &str) -> ObservationScale {
    let mut criteria = Vec::new();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let fields = split_escaped(line.trim(), &['|']);
        let text = fields
            .first()
            .map(|s| unescape_all(s.trim()))
            .unwrap_or_default();
        let points = match fields.get(1).map(|p| p.trim().parse::<f64>()) {
            Some(Ok(p)) => p,
            _ => {
                row.bad(
                    "criteria",
                    format!(
                        "criterion line {}: \"{}\" needs text|points, e.g. 接线正确|30",
                        i + 1,
                        line.trim()
                    ),
                    format!(
                        "评分项第 {} 行“{}”应为“内容|分值”，如 接线正确|30",
                        i + 1,
                        line.trim()
                    ),
                );
                continue;
            }
        };
        let mut c = Criterion {
            id: (i + 1).to_string(),
            text,
            points,
            descriptors: Vec::new(),
            critical: false,
        };
        for f in fields.iter().skip(2) {
            let f = f.trim();
            if matches!(f, "关键" | "关键项" | "安全" | "安全项" | "critical") {
                c.critical = true;
            } else if let Some(id) = f.strip_prefix("id=") {
                c.id = unescape_all(id.trim());
            } else if f.contains('=') {
                for d in split_escaped(f, &[';', '；']) {
                    if let Some((p, t)) = d.split_once('=')
                        && let Ok(p) = p.trim().parse::<f64>()
                    {
                        c.descriptors.push(Descriptor {
                            points: p,
                            text: unescape_all(t.trim()),
                        });
                    } else if !d.trim().is_empty() {
                        row.bad(
                            "criteria",
                            format!("\"{}\" is not a descriptor such as 2=完全正确", d.trim()),
                            format!("“{}”不是“2=完全正确”这样的评分描述", d.trim()),
                        );
                    }
                }
            } else if !f.is_empty() {
                row.bad(
                    "criteria",
                    format!("\"{f}\" is not 关键, id=… or descriptors such as 2=完全正确;0=未完成"),
                    format!("“{f}”应为 关键、id=… 或“2=完全正确;0=未完成”这样的评分描述"),
                );
            }
        }
        criteria.push(c);
    }
    ObservationScale { criteria }
}

struct Formats {
    header: Format,
    wrap: Format,
    title: Format,
}

impl Formats {
    fn new() -> Formats {
        let text = Format::new().set_num_format("@");
        Formats {
            header: text
                .clone()
                .set_bold()
                .set_background_color(Color::RGB(0xD9E1F2))
                .set_align(FormatAlign::VerticalCenter),
            wrap: text.set_text_wrap().set_align(FormatAlign::Top),
            title: Format::new().set_bold().set_font_size(14),
        }
    }
}

fn header(ws: &mut Worksheet, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name("题库")?;
    for (i, c) in COLS.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, c.zh, &f.header)?;
        let w = match c.key {
            "stem" => 40.0,
            "explanation" | "criteria" | "sources" | "options" => 30.0,
            k if k.starts_with("option_") => 16.0,
            _ => 12.0,
        };
        ws.set_column_width(i as u16, w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn instructions(wb: &mut Workbook, f: &Formats) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name("说明")?;
    ws.write_string_with_format(0, 0, "题库导入模板说明 Question bank template", &f.title)?;
    ws.write_string_with_format(
        1,
        0,
        "每行一道题；“题库”工作表第一行为表头，可用中文列名或英文键名。One item per row; headers in Chinese or the English keys.",
        &f.wrap,
    )?;
    for (i, h) in ["列名", "键名 key", "填写说明", "Meaning", "示例 example"]
        .iter()
        .enumerate()
    {
        ws.write_string_with_format(3, i as u16, *h, &f.header)?;
    }
    for (r, c) in COLS.iter().enumerate() {
        let r = r as u32 + 4;
        ws.write_string_with_format(r, 0, c.zh, &f.wrap)?;
        ws.write_string_with_format(r, 1, c.key, &f.wrap)?;
        ws.write_string_with_format(r, 2, c.help_zh, &f.wrap)?;
        ws.write_string_with_format(r, 3, c.help_en, &f.wrap)?;
        ws.write_string_with_format(r, 4, c.example, &f.wrap)?;
    }
    let r = COLS.len() as u32 + 5;
    ws.write_string_with_format(
        r,
        0,
        "实操题的评分标准每行一项：内容|分值|关键|2=完全正确;0=未完成（后两项可省略）。Practical tasks: one criterion per line, text|points|关键 (critical)|descriptors.",
        &f.wrap,
    )?;
    ws.set_column_width(0, 14.0)?;
    ws.set_column_width(1, 16.0)?;
    ws.set_column_width(2, 60.0)?;
    ws.set_column_width(3, 60.0)?;
    ws.set_column_width(4, 20.0)?;
    Ok(())
}

/// The cells of one item in column order.
fn item_cells(item: &Item, review: Option<ReviewStatus>) -> Vec<String> {
    let c = &item.content;
    let m = &item.meta;
    let mut v: Vec<String> = vec![String::new(); COLS.len()];
    let mut set = |key: &str, val: String| {
        if let Some(i) = COLS.iter().position(|c| c.key == key) {
            v[i] = val;
        }
    };
    set("ident", m.ident.clone());
    set("kind", c.kind.zh().to_string());
    set("stem", cell_of(&c.stem));
    let letter = option_letter;
    let put_options = |set: &mut dyn FnMut(&str, String), choices: &[Choice]| {
        if choices.len() <= 8 {
            for (i, ch) in choices.iter().enumerate() {
                set(
                    &format!("option_{}", LETTERS[i].to_ascii_lowercase()),
                    cell_of(&ch.text),
                );
            }
        } else {
            let all: Vec<String> = choices.iter().map(|ch| cell_of(&ch.text)).collect();
            set("options", all.join("\n"));
        }
        let fixed: String = choices
            .iter()
            .enumerate()
            .filter(|(_, ch)| ch.fixed)
            .map(|(i, _)| letter(i))
            .collect();
        set("fixed", fixed);
    };
    let pos = |choices: &[Choice], id: &str| -> String {
        choices
            .iter()
            .position(|c| c.id == id)
            .map(letter)
            .unwrap_or_else(|| id.to_string())
    };
    match &c.interaction {
        Interaction::Choice {
            choices,
            correct,
            shuffle,
        } => {
            put_options(&mut set, choices);
            let k: Vec<String> = correct.iter().map(|id| pos(choices, id)).collect();
            set("key", k.join(""));
            set("shuffle", if *shuffle { "是" } else { "否" }.into());
        }
        Interaction::Order {
            choices,
            correct,
            shuffle,
        } => {
            put_options(&mut set, choices);
            let k: Vec<String> = correct.iter().map(|id| pos(choices, id)).collect();
            set("key", k.join(""));
            set("shuffle", if *shuffle { "是" } else { "否" }.into());
        }
        Interaction::Match {
            sources,
            targets,
            correct,
            shuffle,
        } => {
            put_options(&mut set, targets);
            let src: Vec<String> = sources.iter().map(|s| cell_of(&s.text)).collect();
            set("sources", src.join("\n"));
            let k: Vec<String> = correct
                .iter()
                .map(|(s, t)| {
                    let si = sources
                        .iter()
                        .position(|x| x.id == *s)
                        .map(|i| (i + 1).to_string())
                        .unwrap_or_else(|| s.clone());
                    format!("{si}-{}", pos(targets, t))
                })
                .collect();
            set("key", k.join(";"));
            set("shuffle", if *shuffle { "是" } else { "否" }.into());
        }
        Interaction::TextEntry { blanks } => {
            let k: Vec<String> = blanks
                .iter()
                .map(|b| {
                    b.accepted
                        .iter()
                        .map(|a| escape_seps(a))
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .collect();
            set("key", k.join("|"));
            set(
                "case_sensitive",
                if blanks.iter().any(|b| b.case_sensitive) {
                    "是"
                } else {
                    "否"
                }
                .into(),
            );
        }
        Interaction::ExtendedText {
            expected_length,
            guide,
        } => {
            if let Some(g) = guide {
                set("criteria", cell_of(g));
            }
            if let Some(l) = expected_length {
                set("expected_length", l.to_string());
            }
        }
        Interaction::Practical { scale } => {
            let lines: Vec<String> = scale
                .criteria
                .iter()
                .enumerate()
                .map(|(i, cr)| {
                    let mut l = format!(
                        "{}|{}",
                        cr.text.replace('\\', "\\\\").replace('|', "\\|"),
                        number(cr.points)
                    );
                    if cr.critical {
                        l.push_str("|关键");
                    }
                    if cr.id != (i + 1).to_string() {
                        l.push_str(&format!("|id={}", cr.id.replace('|', "\\|")));
                    }
                    if !cr.descriptors.is_empty() {
                        let ds: Vec<String> = cr
                            .descriptors
                            .iter()
                            .map(|d| {
                                format!(
                                    "{}={}",
                                    number(d.points),
                                    d.text
                                        .replace('\\', "\\\\")
                                        .replace('|', "\\|")
                                        .replace(';', "\\;")
                                        .replace('；', "\\；")
                                )
                            })
                            .collect();
                        l.push('|');
                        l.push_str(&ds.join(";"));
                    }
                    l
                })
                .collect();
            set("criteria", lines.join("\n"));
        }
    }
    set("points", number(c.points));
    set(
        "scoring",
        match c.scoring {
            Scoring::AllOrNothing => "全对得分",
            Scoring::Partial => "少选得分",
        }
        .into(),
    );
    if let Some(d) = m.difficulty {
        set("difficulty", number(d));
    }
    if let Some(l) = m.level {
        set("level", l.zh().into());
    }
    set("requirements", m.requirements.join(";"));
    set("enemy_group", m.enemy_group.clone().unwrap_or_default());
    set("testlet", m.testlet.clone().unwrap_or_default());
    set(
        "explanation",
        c.explanation.as_deref().map(cell_of).unwrap_or_default(),
    );
    set("author", m.author.clone().unwrap_or_default());
    if let Some(r) = review {
        set("review", r.zh().into());
    }
    if let Some(t) = m.time_seconds {
        set("time_seconds", t.to_string());
    }
    v
}

/// Write items in the template's layout; `review` gives each item's review status
/// (审核状态), or `None` to leave the column blank.
pub fn export_xlsx(
    items: &[Item],
    review: &dyn Fn(&Item) -> Option<ReviewStatus>,
) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    header(ws, &f)?;
    for (r, item) in items.iter().enumerate() {
        for (c, v) in item_cells(item, review(item)).iter().enumerate() {
            if !v.is_empty() {
                ws.write_string_with_format(r as u32 + 1, c as u16, v, &f.wrap)?;
            }
        }
    }
    instructions(&mut wb, &f)?;
    wb.save_to_buffer()
}

/// One column of the template: its key, Chinese header, and help in both languages.
pub struct Column {
    pub key: &'static str,
    pub zh: &'static str,
    pub help_zh: &'static str,
    pub help_en: &'static str,
    pub example: &'static str,
}

/// The template's columns in order. The item editor page uses them as its fields, so a
/// person filling the form and a person filling the workbook meet the same rules.
pub fn columns() -> Vec<Column> {
    COLS.iter()
        .map(|c| Column {
            key: c.key,
            zh: c.zh,
            help_zh: c.help_zh,
            help_en: c.help_en,
            example: c.example,
        })
        .collect()
}

/// Read one item from cells given by column key (as one row of the template would give
/// them). Problems name the column key (`row 1, column key`).
pub fn item_from_cells(name: &str, cells: &[(&str, String)]) -> ImportReport {
    let mut report = ImportReport::default();
    let mut row = Row {
        file: name,
        row: 1,
        cells: COLS
            .iter()
            .filter_map(|c| {
                cells
                    .iter()
                    .find(|(k, _)| *k == c.key)
                    .map(|(_, v)| (c.key, v.clone()))
            })
            .collect(),
        problems: Vec::new(),
    };
    read_row(&mut row, &mut report);
    report
}

/// An item as the template's cells, by column key (what [`item_from_cells`] reads back).
pub fn item_to_cells(item: &Item, review: Option<ReviewStatus>) -> Vec<(&'static str, String)> {
    COLS.iter()
        .map(|c| c.key)
        .zip(item_cells(item, review))
        .collect()
}

/// The blank template: the header row and the 说明 sheet.
pub fn template_xlsx() -> Result<Vec<u8>, XlsxError> {
    export_xlsx(&[], &|_| None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_trip_one_item() {
        let cells = vec![
            ("ident", "Q1".to_string()),
            ("kind", "单选题".to_string()),
            ("stem", "电流的单位是？".to_string()),
            ("option_a", "安培".to_string()),
            ("option_b", "伏特".to_string()),
            ("key", "A".to_string()),
            ("points", "2".to_string()),
        ];
        let r = item_from_cells("form", &cells);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let item = &r.items[0].item;
        assert_eq!(item.content.points, 2.0);
        let back = item_from_cells("form", &item_to_cells(item, None));
        assert_eq!(&back.items[0].item, item);
        let bad = item_from_cells(
            "form",
            &[
                ("ident", "Q2".into()),
                ("kind", "单选题".into()),
                ("stem", "x".into()),
                ("option_a", "a".into()),
                ("option_b", "b".into()),
                ("key", "E".into()),
            ],
        );
        assert!(bad.items.is_empty());
        assert!(
            bad.problems
                .iter()
                .any(|p| p.location.ends_with("column key")),
            "{:?}",
            bad.problems
        );
    }

    #[test]
    fn headers_in_both_languages() {
        assert_eq!(col_by_header("题干").unwrap().key, "stem");
        assert_eq!(col_by_header(" stem ").unwrap().key, "stem");
        assert_eq!(col_by_header("题干(stem)").unwrap().key, "stem");
        assert_eq!(col_by_header("预计用时（秒）").unwrap().key, "time_seconds");
        assert_eq!(col_by_header("选项 A").unwrap().key, "option_a");
        assert!(col_by_header("备注").is_none());
    }

    #[test]
    fn escaped_splits() {
        let blanks = split_escaped(r"km\/h/千米每小时|a\|b", &['|']);
        assert_eq!(blanks, vec![r"km\/h/千米每小时", "a|b"]);
        assert_eq!(
            split_escaped(&blanks[0], &['/']),
            vec!["km/h", "千米每小时"]
        );
        assert_eq!(unescape_all(r"a\\b\;c"), r"a\b;c");
        assert_eq!(escape_seps("a/b|c"), r"a\/b\|c");
    }
}
