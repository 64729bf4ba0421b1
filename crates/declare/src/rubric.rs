//! The experts' rubric (评审指标): major categories of content elements, each with
//! sub-categories worth a number of points. Data, not code: a batch carries its own,
//! read from CSV; [`Rubric::standard`] is the bundled default with 11 categories and 31
//! sub-categories (seed 002 §4.2.1 names that shape; the wording is ours).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use xcert_domain::FieldError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rubric {
    pub categories: Vec<RubricCategory>,
}

/// A major category (一级指标).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RubricCategory {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub items: Vec<RubricItem>,
}

/// A sub-category (二级指标), scored from 0 to `points`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RubricItem {
    /// Unique across the rubric, e.g. "3.2".
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub points: f64,
}

/// One expert's scores: item code → points given.
pub type Scores = BTreeMap<String, f64>;

/// The CSV columns in file order: the English header name and the accepted Chinese one.
const COLUMNS: [(&str, &str); 7] = [
    ("category_code", "一级指标编号"),
    ("category_zh", "一级指标"),
    ("category_en", "一级指标英文"),
    ("item_code", "二级指标编号"),
    ("item_zh", "二级指标"),
    ("item_en", "二级指标英文"),
    ("points", "分值"),
];

const CODE_MAX: usize = 20;
const NAME_MAX: usize = 200;

/// Totals are sums of decimals typed by people; a rounding error is not a wrong total.
const EPSILON: f64 = 1e-6;

impl Rubric {
    /// The bundled default rubric (`rubrics/standard.csv`): 11 categories, 31 items, 100 points.
    pub fn standard() -> Rubric {
        // The file ships with the crate and a test parses it, so a failure here is a build bug.
        Rubric::parse_csv(include_str!("../rubrics/standard.csv"))
            .expect("the bundled rubrics/standard.csv is valid")
    }

    /// Read a rubric from CSV with the header
    /// `category_code,category_zh,category_en,item_code,item_zh,item_en,points`
    /// (Chinese headers 一级指标编号,一级指标,一级指标英文,二级指标编号,二级指标,二级指标英文,分值
    /// also accepted; a UTF-8 BOM is ignored). Rows of one category must agree on its names.
    /// Errors name the CSV line (1-based, header = line 1) in `field` as `line N.column`,
    /// e.g. `line 4.points`; codes must be unique; points > 0; the total must be 100.
    pub fn parse_csv(text: &str) -> Result<Rubric, Vec<FieldError>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            // Short rows are reported per cell below rather than as one opaque CSV error.
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut errs = Vec::new();

        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
            Err(e) => return Err(vec![csv_error(&e, 1)]),
        };
        let mut index = [0usize; 7];
        for (slot, (en, zh)) in index.iter_mut().zip(COLUMNS) {
            match header.iter().position(|h| h == en || h == zh) {
                Some(i) => *slot = i,
                None => errs.push(FieldError::new(
                    format!("line 1.{en}"),
                    "missing_column",
                    format!("the header has no \"{en}\" (or \"{zh}\") column"),
                    format!("表头缺少“{zh}”（或“{en}”）列"),
                )),
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }

        let mut categories: Vec<RubricCategory> = Vec::new();
        // Where each category and item code was first seen, for the duplicate messages.
        let mut category_line: BTreeMap<String, u64> = BTreeMap::new();
        let mut item_line: BTreeMap<String, u64> = BTreeMap::new();
        let mut last_line = 1;
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    errs.push(csv_error(&e, last_line + 1));
                    break;
                }
            };
            let line = record.position().map_or(last_line + 1, |p| p.line());
            last_line = line;
            // Spreadsheets export trailing rows of empty cells; they carry nothing.
            if record.iter().all(|c| c.is_empty()) {
                continue;
            }
            let cell = |col: usize| record.get(index[col]).unwrap_or("");
            let field = |col: usize| format!("line {line}.{}", COLUMNS[col].0);
            let mut row_ok = true;
            let mut text = |col: usize, max: usize, required: bool| -> String {
                let r = if required {
                    xcert_domain::error::required_text(&field(col), cell(col), max)
                } else {
                    xcert_domain::error::optional_text(&field(col), cell(col), max)
                        .map(Option::unwrap_or_default)
                };
                r.unwrap_or_else(|e| {
                    errs.push(e);
                    row_ok = false;
                    String::new()
                })
            };
            let category_code = text(0, CODE_MAX, true);
            let category_zh = text(1, NAME_MAX, true);
            let category_en = text(2, NAME_MAX, false);
            let item_code = text(3, CODE_MAX, true);
            let item_zh = text(4, NAME_MAX, true);
            let item_en = text(5, NAME_MAX, false);
            let points = match parse_points(&field(6), cell(6)) {
                Ok(p) => p,
                Err(e) => {
                    errs.push(e);
                    row_ok = false;
                    0.0
                }
            };
            if !item_code.is_empty() {
                if let Some(first) = item_line.get(&item_code) {
                    errs.push(FieldError::new(
                        field(3),
                        "duplicate_code",
                        format!("item code \"{item_code}\" is already used on line {first}"),
                        format!("二级指标编号“{item_code}”已在第 {first} 行使用"),
                    ));
                    row_ok = false;
                } else {
                    item_line.insert(item_code.clone(), line);
                }
            }
            if category_code.is_empty() {
                continue;
            }
            let at = match categories.iter().position(|c| c.code == category_code) {
                Some(at) => {
                    let first = category_line[&category_code];
                    let c = &categories[at];
                    for (col, seen, now) in
                        [(1, &c.name_zh, &category_zh), (2, &c.name_en, &category_en)]
                    {
                        // A blank cell is already reported (zh) or allowed (en), not a
                        // disagreement.
                        if !now.is_empty() && seen != now {
                            errs.push(FieldError::new(
                                field(col),
                                "category_mismatch",
                                format!(
                                    "category \"{category_code}\" is named \"{seen}\" on line {first}, not \"{now}\""
                                ),
                                format!(
                                    "一级指标“{category_code}”在第 {first} 行名为“{seen}”，而不是“{now}”"
                                ),
                            ));
                            row_ok = false;
                        }
                    }
                    at
                }
                None => {
                    category_line.insert(category_code.clone(), line);
                    categories.push(RubricCategory {
                        code: category_code,
                        name_zh: category_zh,
                        name_en: category_en,
                        items: Vec::new(),
                    });
                    categories.len() - 1
                }
            };
            if row_ok {
                categories[at].items.push(RubricItem {
                    code: item_code,
                    name_zh: item_zh,
                    name_en: item_en,
                    points,
                });
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }

        let rubric = Rubric { categories };
        if rubric.item_count() == 0 {
            return Err(vec![FieldError::new(
                "line 2",
                "empty",
                "the rubric has no items",
                "评分表中没有指标",
            )]);
        }
        let total = rubric.total_points();
        if (total - 100.0).abs() > EPSILON {
            return Err(vec![FieldError::new(
                "total",
                "total_not_100",
                format!("the points add up to {total}, not 100"),
                format!("分值合计为 {total}，应为 100"),
            )]);
        }
        Ok(rubric)
    }

    /// The same rubric as CSV (English header), readable by [`Rubric::parse_csv`].
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        // Writing to a Vec cannot fail, so the expects below never fire.
        w.write_record(COLUMNS.map(|(en, _)| en))
            .expect("write to memory");
        for c in &self.categories {
            for i in &c.items {
                w.write_record([
                    c.code.as_str(),
                    &c.name_zh,
                    &c.name_en,
                    &i.code,
                    &i.name_zh,
                    &i.name_en,
                    // f64's Display is the shortest text that reads back to the same value.
                    &i.points.to_string(),
                ])
                .expect("write to memory");
            }
        }
        let bytes = w.into_inner().expect("flush to memory");
        String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
    }

    pub fn total_points(&self) -> f64 {
        self.categories
            .iter()
            .flat_map(|c| &c.items)
            .map(|i| i.points)
            .sum()
    }

    pub fn item_count(&self) -> usize {
        self.categories.iter().map(|c| c.items.len()).sum()
    }

    /// Check one expert's scores against the rubric and return their total. Every item must
    /// be scored, within 0..=points (half points allowed, any finite value); unknown codes
    /// are errors. Errors name the item code as the field.
    pub fn total(&self, scores: &Scores) -> Result<f64, Vec<FieldError>> {
        let mut errs = Vec::new();
        let mut total = 0.0;
        for item in self.categories.iter().flat_map(|c| &c.items) {
            match scores.get(&item.code) {
                None => errs.push(FieldError::new(
                    &item.code,
                    "not_scored",
                    format!("\"{}\" is not scored", item.name_en_or_zh()),
                    format!("“{}”未评分", item.name_zh),
                )),
                Some(&v) if !v.is_finite() || v < 0.0 || v > item.points + EPSILON => {
                    errs.push(FieldError::new(
                        &item.code,
                        "out_of_range",
                        format!("must be between 0 and {}", item.points),
                        format!("应在 0 到 {} 之间", item.points),
                    ))
                }
                Some(&v) => total += v,
            }
        }
        for code in scores.keys() {
            if !self.has_item(code) {
                errs.push(FieldError::new(
                    code,
                    "unknown_item",
                    format!("\"{code}\" is not an item of this rubric"),
                    format!("“{code}”不是本评分表的指标"),
                ));
            }
        }
        if errs.is_empty() {
            Ok(total)
        } else {
            Err(errs)
        }
    }

    /// Points per category for a set of scores (for the review page's table): the category
    /// code, the points given (unscored items count 0) and the points available, in rubric
    /// order.
    pub fn category_totals(&self, scores: &Scores) -> Vec<(String, f64, f64)> {
        self.categories
            .iter()
            .map(|c| {
                let given = c
                    .items
                    .iter()
                    .filter_map(|i| scores.get(&i.code))
                    .sum::<f64>();
                let available = c.items.iter().map(|i| i.points).sum::<f64>();
                (c.code.clone(), given, available)
            })
            .collect()
    }

    fn has_item(&self, code: &str) -> bool {
        self.categories
            .iter()
            .flat_map(|c| &c.items)
            .any(|i| i.code == code)
    }
}

impl RubricItem {
    fn name_en_or_zh(&self) -> &str {
        if self.name_en.is_empty() {
            &self.name_zh
        } else {
            &self.name_en
        }
    }
}

fn parse_points(field: &str, s: &str) -> Result<f64, FieldError> {
    if s.is_empty() {
        return Err(FieldError::required(field));
    }
    let v: f64 = s.parse().map_err(|_| {
        FieldError::new(
            field,
            "bad_number",
            format!("\"{s}\" is not a number"),
            format!("“{s}”不是数字"),
        )
    })?;
    if !v.is_finite() || v <= 0.0 {
        return Err(FieldError::new(
            field,
            "not_positive",
            format!("points must be above 0, not {s}"),
            format!("分值应大于 0，而不是 {s}"),
        ));
    }
    Ok(v)
}

fn csv_error(e: &csv::Error, fallback_line: u64) -> FieldError {
    let line = e.position().map_or(fallback_line, |p| p.line());
    FieldError::new(
        format!("line {line}"),
        "bad_csv",
        format!("cannot read the CSV: {e}"),
        format!("无法读取 CSV：{e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "category_code,category_zh,category_en,item_code,item_zh,item_en,points";

    fn small_csv() -> String {
        format!(
            "{HEADER}\n\
             1,定位,Positioning,1.1,需求,Demand,40\n\
             1,定位,Positioning,1.2,区分度,Distinctness,20.5\n\
             2,题库,Question bank,2.1,规模,Size,39.5\n"
        )
    }

    fn fields(errs: &[FieldError]) -> Vec<(&str, &str)> {
        errs.iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect()
    }

    #[test]
    fn the_standard_rubric_has_11_categories_31_items_and_100_points() {
        let r = Rubric::standard();
        assert_eq!(r.categories.len(), 11);
        assert_eq!(r.item_count(), 31);
        assert_eq!(r.total_points(), 100.0);
        assert_eq!(r.categories[0].name_zh, "证书定位与必要性");
        assert_eq!(r.categories[10].code, "11");
        for c in &r.categories {
            assert!(!c.name_en.is_empty(), "{}", c.code);
            for i in &c.items {
                assert!(
                    i.code.starts_with(&format!("{}.", c.code)),
                    "{} in {}",
                    i.code,
                    c.code
                );
                assert!(!i.name_en.is_empty(), "{}", i.code);
            }
        }
    }

    #[test]
    fn a_small_rubric_parses_in_file_order() {
        let r = Rubric::parse_csv(&small_csv()).unwrap();
        assert_eq!(r.categories.len(), 2);
        assert_eq!(r.categories[0].code, "1");
        assert_eq!(r.categories[0].name_en, "Positioning");
        let codes: Vec<&str> = r.categories[0]
            .items
            .iter()
            .map(|i| i.code.as_str())
            .collect();
        assert_eq!(codes, ["1.1", "1.2"]);
        assert_eq!(r.categories[0].items[1].points, 20.5);
        assert_eq!(r.categories[1].items[0].name_zh, "规模");
    }

    #[test]
    fn to_csv_reads_back_to_the_same_rubric() {
        for r in [Rubric::standard(), Rubric::parse_csv(&small_csv()).unwrap()] {
            let text = r.to_csv();
            assert!(text.starts_with(HEADER), "{text}");
            assert_eq!(Rubric::parse_csv(&text).unwrap(), r);
        }
        // Names with commas and quotes survive the trip.
        let mut r = Rubric::parse_csv(&small_csv()).unwrap();
        r.categories[1].items[0].name_en = "Size, \"mix\" of items".into();
        assert_eq!(Rubric::parse_csv(&r.to_csv()).unwrap(), r);
    }

    #[test]
    fn chinese_headers_a_bom_and_blank_rows_are_accepted() {
        let text = "\u{feff}一级指标编号,一级指标,一级指标英文,二级指标编号,二级指标,二级指标英文,分值\n\
             1,定位,,1.1,需求,,60\n\
             ,,,,,,\n\
             2,题库,,2.1,规模,,40\n";
        let r = Rubric::parse_csv(text).unwrap();
        assert_eq!(r.item_count(), 2);
        assert_eq!(r.categories[1].name_en, "");
        // Columns may come in any order.
        let text = "points,item_code,item_zh,item_en,category_code,category_zh,category_en\n\
                    100,1.1,需求,Demand,1,定位,Positioning\n";
        let r = Rubric::parse_csv(text).unwrap();
        assert_eq!(r.categories[0].items[0].points, 100.0);
        assert_eq!(r.categories[0].name_zh, "定位");
    }

    #[test]
    fn a_bad_points_cell_names_its_line_and_column() {
        let text = format!(
            "{HEADER}\n\
             1,定位,Positioning,1.1,需求,Demand,40\n\
             1,定位,Positioning,1.2,区分度,Distinctness,20\n\
             2,题库,Question bank,2.1,规模,Size,forty\n"
        );
        let e = Rubric::parse_csv(&text).unwrap_err();
        assert_eq!(fields(&e), [("line 4.points", "bad_number")]);
        assert!(e[0].en.contains("\"forty\""), "{}", e[0].en);

        let text = format!("{HEADER}\n1,定位,P,1.1,需求,D,0\n2,题库,Q,2.1,规模,S,100\n");
        let e = Rubric::parse_csv(&text).unwrap_err();
        assert_eq!(fields(&e), [("line 2.points", "not_positive")]);
    }

    #[test]
    fn a_quoted_multiline_cell_does_not_shift_line_numbers() {
        let text = format!(
            "{HEADER}\n\
             1,定位,\"Position\ning\",1.1,需求,Demand,40\n\
             1,定位,\"Position\ning\",1.2,区分度,Distinctness,x\n"
        );
        let e = Rubric::parse_csv(&text).unwrap_err();
        assert_eq!(fields(&e), [("line 4.points", "bad_number")]);
    }

    #[test]
    fn duplicate_item_codes_are_refused_with_the_first_line() {
        let text = format!(
            "{HEADER}\n\
             1,定位,Positioning,1.1,需求,Demand,40\n\
             1,定位,Positioning,1.1,区分度,Distinctness,20\n\
             2,题库,Question bank,2.1,规模,Size,40\n"
        );
        let e = Rubric::parse_csv(&text).unwrap_err();
        assert_eq!(fields(&e), [("line 3.item_code", "duplicate_code")]);
        assert!(e[0].en.contains("line 2"), "{}", e[0].en);
        assert!(e[0].zh.contains("第 2 行"), "{}", e[0].zh);
    }

    #[test]
    fn a_total_other_than_100_is_refused() {
        let text = format!(
            "{HEADER}\n\
             1,定位,Positioning,1.1,需求,Demand,40\n\
             2,题库,Question bank,2.1,规模,Size,50\n"
        );
        let e = Rubric::parse_csv(&text).unwrap_err();
        assert_eq!(fields(&e), [("total", "total_not_100")]);
        assert!(e[0].en.contains("90"), "{}", e[0].en);
        let e = Rubric::parse_csv(&format!("{HEADER}\n")).unwrap_err();
        assert_eq!(fields(&e), [("line 2", "empty")]);
    }

    #[test]
    fn rows_of_one_category_must_agree_on_its_names() {
        let text = format!(
            "{HEADER}\n\
             1,定位,Positioning,1.1,需求,Demand,40\n\
             1,定位与必要性,Positioning,1.2,区分度,Distinctness,20\n\
             2,题库,Question bank,2.1,规模,Size,40\n"
        );
        let e = Rubric::parse_csv(&text).unwrap_err();
        assert_eq!(fields(&e), [("line 3.category_zh", "category_mismatch")]);
    }

    #[test]
    fn missing_columns_and_cells_are_named() {
        let e =
            Rubric::parse_csv("category_code,category_zh,item_code,item_zh,points\n").unwrap_err();
        assert_eq!(
            fields(&e),
            [
                ("line 1.category_en", "missing_column"),
                ("line 1.item_en", "missing_column")
            ]
        );
        // A short row: its missing cells are required ones.
        let text = format!("{HEADER}\n1,定位,Positioning,1.1\n");
        let e = Rubric::parse_csv(&text).unwrap_err();
        assert_eq!(
            fields(&e),
            [
                ("line 2.item_zh", "required"),
                ("line 2.points", "required")
            ]
        );
    }

    fn all(r: &Rubric, v: impl Fn(&RubricItem) -> f64) -> Scores {
        r.categories
            .iter()
            .flat_map(|c| &c.items)
            .map(|i| (i.code.clone(), v(i)))
            .collect()
    }

    #[test]
    fn total_adds_a_complete_score_sheet() {
        let r = Rubric::parse_csv(&small_csv()).unwrap();
        let mut s = Scores::new();
        s.insert("1.1".into(), 35.5);
        s.insert("1.2".into(), 20.5);
        s.insert("2.1".into(), 0.0);
        assert_eq!(r.total(&s).unwrap(), 56.0);
        let r = Rubric::standard();
        assert_eq!(r.total(&all(&r, |i| i.points)).unwrap(), 100.0);
        assert_eq!(r.total(&all(&r, |_| 1.0)).unwrap(), 31.0);
    }

    #[test]
    fn total_names_missing_out_of_range_and_unknown_items() {
        let r = Rubric::parse_csv(&small_csv()).unwrap();
        let mut s = Scores::new();
        s.insert("1.1".into(), 41.0);
        s.insert("2.1".into(), -1.0);
        s.insert("9.9".into(), 1.0);
        let e = r.total(&s).unwrap_err();
        assert_eq!(
            fields(&e),
            [
                ("1.1", "out_of_range"),
                ("1.2", "not_scored"),
                ("2.1", "out_of_range"),
                ("9.9", "unknown_item"),
            ]
        );
        assert_eq!(e[0].en, "must be between 0 and 40");
        s.clear();
        s.insert("1.1".into(), f64::NAN);
        s.insert("1.2".into(), 1.0);
        s.insert("2.1".into(), f64::INFINITY);
        let e = r.total(&s).unwrap_err();
        assert_eq!(
            fields(&e),
            [("1.1", "out_of_range"), ("2.1", "out_of_range")]
        );
    }

    #[test]
    fn category_totals_follow_the_rubric() {
        let r = Rubric::parse_csv(&small_csv()).unwrap();
        let mut s = Scores::new();
        s.insert("1.1".into(), 30.0);
        s.insert("1.2".into(), 10.5);
        assert_eq!(
            r.category_totals(&s),
            vec![("1".to_string(), 40.5, 60.5), ("2".to_string(), 0.0, 39.5)]
        );
        let std = Rubric::standard();
        let t = std.category_totals(&all(&std, |i| i.points));
        assert_eq!(t.len(), 11);
        assert!(t.iter().all(|(_, given, max)| given == max));
        assert_eq!(t.iter().map(|(_, _, m)| m).sum::<f64>(), 100.0);
    }
}
