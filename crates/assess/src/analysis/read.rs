//! Readers for the two CSV files of `xcert analyze`: RESPONSES.csv (作答数据) and
//! KEY.csv (答案). Bytes in, matrices out; every error names the file, row, column and
//! why, in English and Chinese.
//!
//! RESPONSES.csv: a header row, then one row per person. The first column is the person
//! id; every other column is an item. A cell holds the chosen option(s) (`A`, `AC`,
//! `A;C`, `A,C`) for an item with a key, or a number (the score) for an item without.
//! An empty cell is *omitted* (shown, not answered: scores 0); `.` or `NA` is *not
//! presented* (not on this person's form: left out of that item's statistics).
//!
//! KEY.csv: a header naming the columns `item`, `key`, and optionally `points` (default
//! 1 for a keyed item), `options` (`4`, `A-D` or `A;B;C;D`: the item's options; without
//! it they are inferred from the key and the responses) and `scoring` (`all_or_nothing`,
//! the default, or `partial` for 少选得分). An empty key makes the item a scored
//! (numeric) column; its points then default to the highest score seen.
//!
//! Text may be UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK.

// Errors are built once per failed read; boxing them would buy nothing.
#![allow(clippy::result_large_err)]

use super::data::{
    ChoiceKey, ChoiceMatrix, ChoiceScoring, MAX_OPTIONS, NOT_PRESENTED, OMITTED, ScoreMatrix,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;

/// A problem in an input file, with where and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputError {
    pub file: String,
    /// 1-based line of the file (the header is row 1), where a row is to blame.
    pub row: Option<usize>,
    /// Column name from the header, where a column is to blame.
    pub column: Option<String>,
    pub code: String,
    pub en: String,
    pub zh: String,
}

impl InputError {
    fn new(
        file: &str,
        row: Option<usize>,
        column: Option<&str>,
        code: &str,
        en: String,
        zh: String,
    ) -> InputError {
        InputError {
            file: file.to_string(),
            row,
            column: column.map(str::to_string),
            code: code.to_string(),
            en,
            zh,
        }
    }

    fn place(&self, zh: bool) -> String {
        let mut s = self.file.clone();
        match (self.row, &self.column, zh) {
            (Some(r), Some(c), false) => s += &format!(" row {r}, column {c}"),
            (Some(r), None, false) => s += &format!(" row {r}"),
            (None, Some(c), false) => s += &format!(" column {c}"),
            (Some(r), Some(c), true) => s += &format!(" 第 {r} 行 {c} 列"),
            (Some(r), None, true) => s += &format!(" 第 {r} 行"),
            (None, Some(c), true) => s += &format!(" {c} 列"),
            (None, None, _) => {}
        }
        s
    }

    /// The message in Chinese with its place, e.g. `RESPONSES.csv 第 17 行 Q5 列：…`.
    pub fn zh_message(&self) -> String {
        format!("{}：{}", self.place(true), self.zh)
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place(false), self.en)
    }
}

impl std::error::Error for InputError {}

/// Something the reader assumed that the user should know (not an error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub en: String,
    pub zh: String,
}

/// One row of KEY.csv.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyEntry {
    pub item: String,
    /// The keyed option ids; empty for a scored (numeric) item.
    pub key: Vec<String>,
    pub points: Option<f64>,
    pub options: Option<Vec<String>>,
    pub scoring: ChoiceScoring,
    /// Line in KEY.csv, for messages.
    pub row: usize,
}

/// KEY.csv as read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyTable {
    pub file: String,
    pub entries: Vec<KeyEntry>,
}

/// RESPONSES.csv as read (and scored with the key).
#[derive(Debug, Clone)]
pub struct ResponseData {
    pub person_ids: Vec<String>,
    pub scores: ScoreMatrix,
    /// Present when at least one item has a key.
    pub choices: Option<ChoiceMatrix>,
    pub notices: Vec<Notice>,
}

/// Decode text: UTF-8 (BOM stripped), UTF-16 with a BOM, else GB18030.
pub fn decode_text<'a>(file: &str, bytes: &'a [u8]) -> Result<Cow<'a, str>, InputError> {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            return Err(InputError::new(
                file,
                None,
                None,
                "bad_encoding",
                format!(
                    "the file starts with a {} byte-order mark but is not valid {}",
                    enc.name(),
                    enc.name()
                ),
                format!(
                    "文件以 {} 字节序标记开头，但内容不是有效的 {} 文本",
                    enc.name(),
                    enc.name()
                ),
            ));
        }
        return Ok(text);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(s));
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(InputError::new(
            file,
            None,
            None,
            "bad_encoding",
            "the file is neither UTF-8 nor GB18030 (GBK) text; save it as CSV UTF-8".into(),
            "文件既不是 UTF-8 也不是 GB18030（GBK）文本；请另存为“CSV UTF-8”".into(),
        ));
    }
    Ok(text)
}

/// A CSV text read one record at a time (large response files are never held as
/// strings). Comma separated, or tab separated when the first line has tabs and no
/// commas. Blank records are skipped.
struct CsvRows<'a> {
    file: &'a str,
    rdr: csv::Reader<&'a [u8]>,
    rec: csv::StringRecord,
    read: usize,
}

impl<'a> CsvRows<'a> {
    fn new(file: &'a str, text: &'a str) -> CsvRows<'a> {
        let first = text.lines().next().unwrap_or("");
        let delim = if !first.contains(',') && first.contains('\t') {
            b'\t'
        } else {
            b','
        };
        CsvRows {
            file,
            rdr: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delim)
                .from_reader(text.as_bytes()),
            rec: csv::StringRecord::new(),
            read: 0,
        }
    }

    /// Advance to the next non-blank record; its line number.
    fn next_row(&mut self) -> Result<Option<usize>, InputError> {
        loop {
            match self.rdr.read_record(&mut self.rec) {
                Ok(false) => return Ok(None),
                Ok(true) => {
                    self.read += 1;
                    if self.rec.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    return Ok(Some(
                        self.rec.position().map_or(self.read, |p| p.line() as usize),
                    ));
                }
                Err(e) => {
                    let line = e.position().map(|p| p.line() as usize);
                    return Err(InputError::new(
                        self.file,
                        line,
                        None,
                        "bad_csv",
                        format!("not readable as CSV: {e}"),
                        format!("无法按 CSV 读取：{e}"),
                    ));
                }
            }
        }
    }

    fn len(&self) -> usize {
        self.rec.len()
    }

    /// Cell `i` of the current record, trimmed.
    fn cell(&self, i: usize) -> &str {
        self.rec.get(i).map_or("", str::trim)
    }

    fn cells(&self) -> Vec<String> {
        self.rec.iter().map(|c| c.trim().to_string()).collect()
    }
}

/// All rows of a small CSV text: (line number, cells trimmed).
fn csv_rows(file: &str, text: &str) -> Result<Vec<(usize, Vec<String>)>, InputError> {
    let mut r = CsvRows::new(file, text);
    let mut rows = Vec::new();
    while let Some(line) = r.next_row()? {
        rows.push((line, r.cells()));
    }
    Ok(rows)
}

/// Full-width ASCII (Ａ, １, ；) to half-width.
fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

fn is_not_presented(cell: &str) -> bool {
    matches!(cell, "." | "NA" | "na" | "N/A" | "n/a" | "Na")
}

/// Option ids in a cell: separators `; , | / 、` or spaces split; one run of ASCII
/// letters is one option per letter (`AC` = A and C). Letters are upper-cased.
fn option_tokens(cell: &str) -> Vec<String> {
    let folded = fold_width(cell);
    let parts: Vec<String> = folded
        .split(|c: char| {
            matches!(c, ';' | ',' | '|' | '/' | '、' | '，' | '；') || c.is_whitespace()
        })
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t.chars().all(|c| c.is_ascii_alphabetic()) {
                t.to_ascii_uppercase()
            } else {
                t.to_string()
            }
        })
        .collect();
    if parts.len() == 1 && parts[0].len() > 1 && parts[0].chars().all(|c| c.is_ascii_uppercase()) {
        return parts[0].chars().map(|c| c.to_string()).collect();
    }
    parts
}

fn parse_options_spec(spec: &str) -> Option<Vec<String>> {
    let s = fold_width(spec).trim().to_ascii_uppercase();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<usize>() {
        return (1..=26).contains(&n).then(|| {
            (0..n)
                .map(|i| char::from(b'A' + i as u8).to_string())
                .collect()
        });
    }
    let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.len() == 3
        && chars[0].is_ascii_uppercase()
        && chars[2].is_ascii_uppercase()
        && matches!(chars[1], '-' | '–' | '~' | '—')
        && chars[0] <= chars[2]
    {
        return Some((chars[0]..=chars[2]).map(|c| c.to_string()).collect());
    }
    let t = option_tokens(&s);
    (!t.is_empty()).then_some(t)
}

fn options_text(options: &[String]) -> String {
    let letters = options
        .iter()
        .all(|o| o.len() == 1 && o.as_bytes()[0].is_ascii_uppercase());
    let consecutive = letters
        && options
            .windows(2)
            .all(|w| w[1].as_bytes()[0] == w[0].as_bytes()[0] + 1);
    if consecutive && options.len() > 2 {
        format!("{}–{}", options[0], options[options.len() - 1])
    } else {
        options.join(", ")
    }
}

fn parse_points(s: &str) -> Option<f64> {
    fold_width(s)
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x > 0.0)
}

const KEY_ITEM: &[&str] = &["item", "item_id", "题号", "试题", "题目", "试题编号"];
const KEY_KEY: &[&str] = &["key", "answer", "答案", "标准答案", "正确答案"];
const KEY_POINTS: &[&str] = &["points", "score", "max", "分值", "满分", "分数"];
const KEY_OPTIONS: &[&str] = &["options", "选项", "选项数"];
const KEY_SCORING: &[&str] = &["scoring", "计分", "计分方式"];

fn find_col(header: &[String], names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
}

/// Read KEY.csv.
pub fn read_key(file: &str, bytes: &[u8]) -> Result<KeyTable, InputError> {
    let text = decode_text(file, bytes)?;
    let rows = csv_rows(file, &text)?;
    let Some((hline, header)) = rows.first() else {
        return Err(InputError::new(
            file,
            None,
            None,
            "empty",
            "the file is empty; it needs a header `item,key[,points]` and one row per item".into(),
            "文件为空；需要表头“item,key[,points]”和每题一行".into(),
        ));
    };
    let (Some(ci), Some(ck)) = (find_col(header, KEY_ITEM), find_col(header, KEY_KEY)) else {
        return Err(InputError::new(
            file,
            Some(*hline),
            None,
            "bad_header",
            format!(
                "the header must name the columns item and key (found: {})",
                header.join(", ")
            ),
            format!(
                "表头必须包含 item（题号）和 key（答案）两列（现有：{}）",
                header.join("、")
            ),
        ));
    };
    let cp = find_col(header, KEY_POINTS);
    let co = find_col(header, KEY_OPTIONS);
    let cs = find_col(header, KEY_SCORING);
    let mut entries: Vec<KeyEntry> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, cells) in &rows[1..] {
        let cell = |c: Option<usize>| c.and_then(|c| cells.get(c)).map_or("", |s| s.as_str());
        let col = |c: usize| header[c].as_str();
        let item = cell(Some(ci)).to_string();
        if item.is_empty() {
            return Err(InputError::new(
                file,
                Some(*line),
                Some(col(ci)),
                "required",
                "the item id is empty".into(),
                "题号为空".into(),
            ));
        }
        if let Some(first) = seen.insert(item.clone(), *line) {
            return Err(InputError::new(
                file,
                Some(*line),
                Some(col(ci)),
                "duplicate_item",
                format!("item {item} is listed twice (first at row {first})"),
                format!("试题 {item} 重复出现（首次在第 {first} 行）"),
            ));
        }
        let points = match cell(cp) {
            "" => None,
            s => Some(parse_points(s).ok_or_else(|| {
                InputError::new(
                    file,
                    Some(*line),
                    cp.map(col),
                    "bad_points",
                    format!("points '{s}' is not a positive number"),
                    format!("分值“{s}”不是正数"),
                )
            })?),
        };
        let options = match cell(co) {
            "" => None,
            s => Some(parse_options_spec(s).ok_or_else(|| {
                InputError::new(
                    file,
                    Some(*line),
                    co.map(col),
                    "bad_options",
                    format!("options '{s}' is not a count (4), a range (A-D) or a list (A;B;C;D)"),
                    format!("选项“{s}”应为选项数（4）、范围（A-D）或列表（A;B;C;D）"),
                )
            })?),
        };
        if let Some(o) = &options
            && o.len() > MAX_OPTIONS
        {
            return Err(InputError::new(
                file,
                Some(*line),
                co.map(col),
                "too_many_options",
                format!("{} options; at most {MAX_OPTIONS} are supported", o.len()),
                format!("选项 {} 个；最多支持 {MAX_OPTIONS} 个", o.len()),
            ));
        }
        let scoring = match cell(cs).to_ascii_lowercase().as_str() {
            "" | "all_or_nothing" | "all" | "全对得分" | "全部正确" => {
                ChoiceScoring::AllOrNothing
            }
            "partial" | "少选得分" | "部分得分" => ChoiceScoring::Partial,
            other => {
                return Err(InputError::new(
                    file,
                    Some(*line),
                    cs.map(col),
                    "bad_scoring",
                    format!("scoring '{other}' must be all_or_nothing or partial"),
                    format!(
                        "计分方式“{other}”应为 all_or_nothing（全对得分）或 partial（少选得分）"
                    ),
                ));
            }
        };
        let key = option_tokens(cell(Some(ck)));
        if let Some(o) = &options
            && let Some(bad) = key.iter().find(|k| !o.contains(k))
        {
            return Err(InputError::new(
                file,
                Some(*line),
                Some(col(ck)),
                "key_not_an_option",
                format!(
                    "key '{bad}' is not an option of {item} ({})",
                    options_text(o)
                ),
                format!("答案“{bad}”不是 {item} 的选项（{}）", options_text(o)),
            ));
        }
        let mut dedup = key.clone();
        dedup.sort();
        dedup.dedup();
        if dedup.len() != key.len() {
            return Err(InputError::new(
                file,
                Some(*line),
                Some(col(ck)),
                "bad_key",
                "the key names an option twice".into(),
                "答案中有重复选项".into(),
            ));
        }
        entries.push(KeyEntry {
            item,
            key,
            points,
            options,
            scoring,
            row: *line,
        });
    }
    Ok(KeyTable {
        file: file.to_string(),
        entries,
    })
}

/// How one column of RESPONSES.csv is read.
enum Column {
    Scored {
        points: Option<f64>,
    },
    Choice {
        /// Option ids by bit index, in order of first appearance until finished.
        tokens: Vec<String>,
        /// Line where each token was first seen (0: in the key).
        first_line: Vec<usize>,
        fixed: bool,
        key: u16,
        points: f64,
        scoring: ChoiceScoring,
    },
}

/// Read RESPONSES.csv; with a key, keyed items are scored from the chosen options.
pub fn read_responses(
    file: &str,
    bytes: &[u8],
    key: Option<&KeyTable>,
) -> Result<ResponseData, InputError> {
    let text = decode_text(file, bytes)?;
    let mut rows = CsvRows::new(file, &text);
    let Some(hline) = rows.next_row()? else {
        return Err(InputError::new(
            file,
            None,
            None,
            "empty",
            "the file is empty; it needs a header (person id, then one column per item) and one row per person".into(),
            "文件为空；需要表头（考生编号，然后每题一列）和每名考生一行".into(),
        ));
    };
    let header = rows.cells();
    if header.len() < 2 {
        return Err(InputError::new(
            file,
            Some(hline),
            None,
            "bad_header",
            "the header needs a person id column and at least one item column".into(),
            "表头需要考生编号列和至少一个试题列".into(),
        ));
    }
    let item_ids: Vec<String> = header[1..].to_vec();
    let mut first_col: HashMap<&str, usize> = HashMap::new();
    for (j, id) in item_ids.iter().enumerate() {
        if id.is_empty() {
            return Err(InputError::new(
                file,
                Some(hline),
                None,
                "bad_header",
                format!("column {} has no item id in the header", j + 2),
                format!("第 {} 列表头缺少题号", j + 2),
            ));
        }
        if first_col.insert(id.as_str(), j).is_some() {
            return Err(InputError::new(
                file,
                Some(hline),
                Some(id),
                "duplicate_item",
                format!("item {id} has two columns"),
                format!("试题 {id} 有两列"),
            ));
        }
    }
    let mut notices = Vec::new();
    let mut columns: Vec<Column> = Vec::with_capacity(item_ids.len());
    match key {
        None => columns.extend(item_ids.iter().map(|_| Column::Scored { points: None })),
        Some(kt) => {
            let by_item: HashMap<&str, &KeyEntry> =
                kt.entries.iter().map(|e| (e.item.as_str(), e)).collect();
            for id in &item_ids {
                let Some(e) = by_item.get(id.as_str()) else {
                    return Err(InputError::new(
                        file,
                        Some(hline),
                        Some(id),
                        "not_in_key",
                        format!(
                            "item {id} has no row in {}; give its key, or an empty key for a scored item",
                            kt.file
                        ),
                        format!(
                            "试题 {id} 在 {} 中没有对应行；请给出答案，或对计分题留空答案",
                            kt.file
                        ),
                    ));
                };
                if e.key.is_empty() {
                    columns.push(Column::Scored { points: e.points });
                    continue;
                }
                let (mut tokens, fixed) = match &e.options {
                    Some(o) => (o.clone(), true),
                    None => (Vec::new(), false),
                };
                let mut mask = 0u16;
                for k in &e.key {
                    let i = match tokens.iter().position(|t| t == k) {
                        Some(i) => i,
                        None => {
                            tokens.push(k.clone());
                            tokens.len() - 1
                        }
                    };
                    if i >= MAX_OPTIONS {
                        return Err(InputError::new(
                            &kt.file,
                            Some(e.row),
                            Some("key"),
                            "too_many_options",
                            format!("more than {MAX_OPTIONS} options"),
                            format!("选项超过 {MAX_OPTIONS} 个"),
                        ));
                    }
                    mask |= 1 << i;
                }
                columns.push(Column::Choice {
                    first_line: vec![0; tokens.len()],
                    tokens,
                    fixed,
                    key: mask,
                    points: e.points.unwrap_or(1.0),
                    scoring: e.scoring,
                });
            }
            let unused: Vec<&str> = kt
                .entries
                .iter()
                .filter(|e| !first_col.contains_key(e.item.as_str()))
                .map(|e| e.item.as_str())
                .collect();
            if !unused.is_empty() {
                notices.push(Notice {
                    en: format!(
                        "{} lists {} item(s) not in {file}: {}",
                        kt.file,
                        unused.len(),
                        unused.join(", ")
                    ),
                    zh: format!(
                        "{} 中有 {} 道试题不在 {file} 中：{}",
                        kt.file,
                        unused.len(),
                        unused.join("、")
                    ),
                });
            }
        }
    }
    let any_choice = columns.iter().any(|c| matches!(c, Column::Choice { .. }));
    let k = item_ids.len();
    // Rough size hint from the text: rows × items cells.
    let n_hint = text.len() / (2 * header.len()).max(1);
    let mut person_ids = Vec::with_capacity(n_hint);
    let mut seen_person: HashMap<String, usize> = HashMap::with_capacity(n_hint);
    let mut scores: Vec<f32> = Vec::with_capacity(n_hint * k);
    let mut choices: Vec<u16> = if any_choice {
        Vec::with_capacity(n_hint * k)
    } else {
        Vec::new()
    };
    while let Some(line) = rows.next_row()? {
        if rows.len() != header.len() {
            return Err(InputError::new(
                file,
                Some(line),
                None,
                "bad_row",
                format!(
                    "the row has {} cells but the header has {}",
                    rows.len(),
                    header.len()
                ),
                format!("该行有 {} 个单元格，表头有 {} 个", rows.len(), header.len()),
            ));
        }
        let pid = rows.cell(0);
        if pid.is_empty() {
            return Err(InputError::new(
                file,
                Some(line),
                Some(&header[0]),
                "required",
                "the person id is empty".into(),
                "考生编号为空".into(),
            ));
        }
        if let Some(first) = seen_person.insert(pid.to_string(), line) {
            return Err(InputError::new(
                file,
                Some(line),
                Some(&header[0]),
                "duplicate_person",
                format!("person {pid} appears twice (first at row {first})"),
                format!("考生 {pid} 重复出现（首次在第 {first} 行）"),
            ));
        }
        person_ids.push(pid.to_string());
        for (j, col) in columns.iter_mut().enumerate() {
            let cell = rows.cell(j + 1);
            let id = item_ids[j].as_str();
            let err = |code: &str, en: String, zh: String| {
                InputError::new(file, Some(line), Some(id), code, en, zh)
            };
            if is_not_presented(cell) {
                scores.push(f32::NAN);
                if any_choice {
                    choices.push(NOT_PRESENTED);
                }
                continue;
            }
            match col {
                Column::Scored { points } => {
                    let x = if cell.is_empty() {
                        0.0
                    } else {
                        let v = cell
                            .parse::<f64>()
                            .or_else(|_| fold_width(cell).parse::<f64>())
                            .ok()
                            .filter(|v| v.is_finite());
                        let Some(v) = v else {
                            let hint_en = if key.is_some() {
                                "this item has no key in the key file, so its cells must be scores"
                            } else {
                                "without --key the cells must be scores; give a key to read options"
                            };
                            let hint_zh = if key.is_some() {
                                "该题在答案文件中没有答案，单元格应为得分"
                            } else {
                                "未提供答案文件时单元格应为得分；如为选项请提供答案文件"
                            };
                            return Err(err(
                                "bad_score",
                                format!("'{cell}' is not a number ({hint_en})"),
                                format!("“{cell}”不是数字（{hint_zh}）"),
                            ));
                        };
                        if v < 0.0 {
                            return Err(err(
                                "bad_score",
                                format!("score {v} is negative"),
                                format!("得分 {v} 为负数"),
                            ));
                        }
                        if let Some(p) = points
                            && v > *p + 1e-9
                        {
                            return Err(err(
                                "score_above_points",
                                format!("score {v} is above the item's {p} points"),
                                format!("得分 {v} 超过该题分值 {p}"),
                            ));
                        }
                        v
                    };
                    scores.push(x as f32);
                    if any_choice {
                        choices.push(OMITTED);
                    }
                }
                Column::Choice {
                    tokens,
                    first_line,
                    fixed,
                    key: kmask,
                    points,
                    scoring,
                } => {
                    let mut set = OMITTED;
                    // Fast path: one ASCII letter, the usual cell.
                    let b = cell.as_bytes();
                    if b.len() == 1 && b[0].is_ascii_alphabetic() {
                        let c = b[0].to_ascii_uppercase();
                        if let Some(i) = tokens
                            .iter()
                            .position(|t| t.len() == 1 && t.as_bytes()[0] == c)
                        {
                            let ck = ChoiceKey {
                                options: Vec::new(),
                                key: *kmask,
                                scoring: *scoring,
                            };
                            scores.push(ck.score(1 << i, *points) as f32);
                            choices.push(1 << i);
                            continue;
                        }
                    }
                    for tok in option_tokens(cell) {
                        let i = match tokens.iter().position(|t| *t == tok) {
                            Some(i) => i,
                            None if *fixed => {
                                let t = options_text(tokens);
                                return Err(err(
                                    "not_an_option",
                                    format!("'{tok}' is not an option of {id} ({t})"),
                                    format!("“{tok}”不是 {id} 的选项（{t}）"),
                                ));
                            }
                            None if tokens.len() >= MAX_OPTIONS => {
                                return Err(err(
                                    "too_many_options",
                                    format!(
                                        "'{tok}' would be option {} of {id}; at most {MAX_OPTIONS} are supported (give `options` in the key file to check typing)",
                                        MAX_OPTIONS + 1
                                    ),
                                    format!(
                                        "“{tok}”将成为 {id} 的第 {} 个选项；最多支持 {MAX_OPTIONS} 个（可在答案文件中给出 options 列以检查录入）",
                                        MAX_OPTIONS + 1
                                    ),
                                ));
                            }
                            None => {
                                tokens.push(tok.clone());
                                first_line.push(line);
                                tokens.len() - 1
                            }
                        };
                        set |= 1 << i;
                    }
                    if set == OMITTED && !cell.is_empty() {
                        return Err(err(
                            "bad_choice",
                            format!("'{cell}' names no option"),
                            format!("“{cell}”中没有选项"),
                        ));
                    }
                    let ck = ChoiceKey {
                        options: Vec::new(),
                        key: *kmask,
                        scoring: *scoring,
                    };
                    scores.push(ck.score(set, *points) as f32);
                    choices.push(set);
                }
            }
        }
    }
    let n = person_ids.len();
    if n == 0 {
        return Err(InputError::new(
            file,
            None,
            None,
            "no_persons",
            "the file has a header but no person rows".into(),
            "文件只有表头，没有考生数据".into(),
        ));
    }
    // Finish the columns: points of scored items, option order of inferred options.
    let mut max_points = Vec::with_capacity(k);
    let mut keys: Vec<Option<ChoiceKey>> = Vec::with_capacity(k);
    for (j, col) in columns.into_iter().enumerate() {
        match col {
            Column::Scored { points } => {
                let p = match points {
                    Some(p) => p,
                    None => {
                        let seen = (0..n)
                            .map(|i| scores[i * k + j])
                            .filter(|x| !x.is_nan())
                            .fold(0.0f32, f32::max);
                        let p = f64::from(seen).ceil().max(1.0);
                        if key.is_some() || p > 1.0 {
                            notices.push(Notice {
                                en: format!(
                                    "{}: no points given; using the highest score seen, {p}",
                                    item_ids[j]
                                ),
                                zh: format!("{}：未给出分值，按出现的最高分 {p} 计", item_ids[j]),
                            });
                        }
                        p
                    }
                };
                max_points.push(p);
                keys.push(None);
            }
            Column::Choice {
                tokens,
                first_line,
                fixed,
                key: kmask,
                points,
                scoring,
            } => {
                let (options, perm) = if fixed {
                    let perm: Vec<usize> = (0..tokens.len()).collect();
                    (tokens.clone(), perm)
                } else {
                    order_inferred_options(tokens.clone())
                };
                let remap = |set: u16| -> u16 {
                    let mut out = 0u16;
                    for (old, &new) in perm.iter().enumerate() {
                        if set & (1 << old) != 0 {
                            out |= 1 << new;
                        }
                    }
                    out
                };
                if options.len() > MAX_OPTIONS {
                    // A letter far down the alphabet: most likely a typing error. Name
                    // the first row that has one.
                    let far = &options[MAX_OPTIONS..];
                    let (line, tok) = tokens
                        .iter()
                        .zip(&first_line)
                        .filter(|(t, _)| far.contains(t))
                        .min_by_key(|(_, l)| **l)
                        .map_or((None, options[options.len() - 1].clone()), |(t, l)| {
                            ((*l > 0).then_some(*l), t.clone())
                        });
                    let id = &item_ids[j];
                    return Err(InputError::new(
                        file,
                        line,
                        Some(id),
                        "too_many_options",
                        format!(
                            "'{tok}' would make the options of {id} run A–{tok}, more than {MAX_OPTIONS}: a typing error? (give `options` in the key file, e.g. A-D, to check)"
                        ),
                        format!(
                            "“{tok}”使 {id} 的选项成为 A–{tok}，超过 {MAX_OPTIONS} 个：是否录入错误？（可在答案文件中给出 options 列，如 A-D，以检查）"
                        ),
                    ));
                }
                if !fixed {
                    for i in 0..n {
                        let c = &mut choices[i * k + j];
                        if *c != NOT_PRESENTED {
                            *c = remap(*c);
                        }
                    }
                }
                max_points.push(points);
                keys.push(Some(ChoiceKey {
                    options,
                    key: remap(kmask),
                    scoring,
                }));
            }
        }
    }
    let scores = ScoreMatrix::new(item_ids, max_points, scores)
        .map_err(|e| InputError::new(file, None, None, "bad_data", e.0.clone(), e.0))?;
    let choices = if any_choice {
        Some(
            ChoiceMatrix::new(keys, choices)
                .map_err(|e| InputError::new(file, None, None, "bad_data", e.0.clone(), e.0))?,
        )
    } else {
        None
    };
    Ok(ResponseData {
        person_ids,
        scores,
        choices,
        notices,
    })
}

/// Options inferred from what was seen: single letters become the run A..=highest
/// (so an option nobody chose still shows), except T/F and Y/N pairs; other ids keep the
/// order they were first seen in (key first). Returns the options and, for each old
/// index, its new index.
fn order_inferred_options(tokens: Vec<String>) -> (Vec<String>, Vec<usize>) {
    let letters = tokens
        .iter()
        .all(|t| t.len() == 1 && t.as_bytes()[0].is_ascii_uppercase());
    if !letters {
        let perm = (0..tokens.len()).collect();
        return (tokens, perm);
    }
    let pair = |a: &str, b: &str| tokens.iter().all(|t| t == a || t == b);
    let options: Vec<String> = if pair("T", "F") {
        vec!["T".into(), "F".into()]
    } else if pair("Y", "N") {
        vec!["Y".into(), "N".into()]
    } else {
        let hi = tokens.iter().map(|t| t.as_bytes()[0]).max().unwrap_or(b'A');
        (b'A'..=hi).map(|c| char::from(c).to_string()).collect()
    };
    let perm = tokens
        .iter()
        .map(|t| options.iter().position(|o| o == t).unwrap_or(0))
        .collect();
    (options, perm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(option_tokens("AC"), vec!["A", "C"]);
        assert_eq!(option_tokens("a;c"), vec!["A", "C"]);
        assert_eq!(option_tokens("Ａ，Ｃ"), vec!["A", "C"]);
        assert_eq!(option_tokens("对"), vec!["对"]);
        assert_eq!(parse_options_spec("4").unwrap(), vec!["A", "B", "C", "D"]);
        assert_eq!(parse_options_spec("A-C").unwrap(), vec!["A", "B", "C"]);
        assert_eq!(parse_options_spec("A;B").unwrap(), vec!["A", "B"]);
    }
}
