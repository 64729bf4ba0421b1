//! Row validation: cells → domain inputs → validated records or row errors, plus the
//! checks that need the whole file (duplicates, standard trees, levels offered).

use std::collections::HashMap;

use xcert_domain::FieldError;
use xcert_domain::certificate::{CertificateCode, CertificateInput};
use xcert_domain::framework::Level;
use xcert_domain::ids::{CreditCode, ResidentId};
use xcert_domain::org::OrganizationInput;
use xcert_domain::person::PersonInput;
use xcert_domain::standard::{SkillRequirement, StandardTree, WorkArea, WorkTask};

use crate::table::{CellKind, RawRow, Table};
use crate::{CertRow, ImportSet, OrgRow, PersonRow, RowError, Sheet, StandardImport};

/// Accumulates tables (one per sheet) into an [`ImportSet`].
#[derive(Default)]
pub(crate) struct Builder {
    set: ImportSet,
    /// First row of each credit code / certificate code / ID number seen.
    org_codes: HashMap<String, usize>,
    cert_codes: HashMap<String, usize>,
    id_numbers: HashMap<String, usize>,
    standards: Vec<StdAcc>,
    std_index: HashMap<String, usize>,
}

/// Row-level collector: errors of one row, and which columns already have one so
/// the domain's follow-on complaint about the same cell is not repeated.
struct RowCheck<'a> {
    sheet: Sheet,
    row: usize,
    errors: &'a mut Vec<RowError>,
    flagged: Vec<String>,
    failed: bool,
}

impl<'a> RowCheck<'a> {
    /// Start checking one row, with the cell-level checks already done.
    fn start(t: &Table, r: &RawRow, errors: &'a mut Vec<RowError>) -> RowCheck<'a> {
        let mut ck = RowCheck {
            sheet: t.sheet,
            row: r.row,
            errors,
            flagged: Vec::new(),
            failed: false,
        };
        precheck(t, r, &mut ck);
        ck
    }

    /// Whether a column of this row already has an error (so it is not reported twice).
    fn is_flagged(&self, column: &str) -> bool {
        self.flagged.iter().any(|f| f == column)
    }

    fn push(&mut self, column: &str, code: &str, en: String, zh: String) {
        self.errors
            .push(RowError::new(self.sheet, self.row, column, code, en, zh));
        self.flagged.push(column.to_string());
        self.failed = true;
    }

    fn field(&mut self, e: &FieldError) {
        self.failed = true;
        if !self.flagged.contains(&e.field) {
            self.errors
                .push(RowError::from_field(self.sheet, self.row, e));
            self.flagged.push(e.field.clone());
        }
    }

    fn fields(&mut self, errs: &[FieldError]) {
        for e in errs {
            self.field(e);
        }
    }

    /// A value repeated within the file: the error goes on the later row and names
    /// the earlier one.
    fn duplicate(&mut self, column: &str, what_en: &str, what_zh: &str, first: usize) {
        self.push(
            column,
            "duplicate",
            format!("same {what_en} as row {first}"),
            format!("与第 {first} 行的{what_zh}重复"),
        );
    }
}

/// The row where `key` was first seen in this file, recording `row` when it is new.
fn first_seen(seen: &mut HashMap<String, usize>, key: &str, row: usize) -> Option<usize> {
    match seen.get(key) {
        Some(&first) => Some(first),
        None => {
            seen.insert(key.to_string(), row);
            None
        }
    }
}

/// Looks like scientific notation ("1.10105E+17"): what a CSV holds after Excel
/// turned a long number into a float and saved it.
fn scientific(s: &str) -> bool {
    let Some((mantissa, exp)) = s.split_once(['e', 'E']) else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.chars().any(|c| c.is_ascii_digit())
        && !exp.is_empty()
        && exp.chars().all(|c| c.is_ascii_digit())
}

/// Cell-level problems that the domain cannot see: Excel error values, dates, and
/// identifiers stored as numbers (Excel keeps 15 significant digits, so an 18-digit
/// number has already lost its tail).
fn precheck(t: &Table, r: &RawRow, ck: &mut RowCheck) {
    for spec in t.sheet.specs() {
        let cell = t.get(r, spec.key);
        match cell.kind {
            CellKind::Error => ck.push(
                spec.key,
                "cell_error",
                format!(
                    "the cell holds the Excel error {}: enter a value",
                    cell.text
                ),
                format!("单元格为 Excel 错误值 {}，请填写实际内容", cell.text),
            ),
            CellKind::Date => ck.push(
                spec.key,
                "date_cell",
                "Excel turned this cell into a date: format the column as Text and type the value again".into(),
                "Excel 把该单元格识别成了日期：请将此列设置为“文本”格式后重新输入".into(),
            ),
            CellKind::Number if spec.ident => numeric_ident(ck, spec.key),
            CellKind::Text if spec.ident && scientific(&cell.text) => numeric_ident(ck, spec.key),
            _ => {}
        }
    }
}

fn numeric_ident(ck: &mut RowCheck, column: &str) {
    ck.push(
        column,
        "numeric_cell",
        "the cell is a number, so Excel has rounded it (it keeps only 15 digits): format the column as Text and type the value again".into(),
        "该单元格为数字格式，Excel 只保留 15 位有效数字，内容已失真：请将此列设置为“文本”格式后重新输入".into(),
    );
}

/// An organization reference (TEO of a certificate, college of a person): a credit
/// code when it looks like one (then it must be a valid one), otherwise an exact name.
fn reference(ck: &mut RowCheck, column: &str, value: &str) -> Option<String> {
    if value.is_empty() {
        ck.field(&FieldError::required(column));
        return None;
    }
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.chars().count() == 18 && compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return match CreditCode::parse(&compact) {
            Ok(code) => Some(code.as_str().to_string()),
            Err(e) => {
                ck.field(&e.field(column));
                None
            }
        };
    }
    match xcert_domain::error::required_text(column, value, 200) {
        Ok(v) => Some(v),
        Err(e) => {
            ck.field(&e);
            None
        }
    }
}

/// A cell that must not be blank (length limits are left to `StandardTree::validate`).
fn required_cell<'a>(ck: &mut RowCheck, t: &Table, r: &'a RawRow, key: &str) -> &'a str {
    let v = t.text(r, key);
    if v.is_empty() {
        ck.field(&FieldError::required(key));
    }
    v
}

/// A standard under construction: its tree plus which rows made which node, so
/// tree-level errors can be put back on rows.
struct StdAcc {
    code: String,
    rows: Vec<usize>,
    tree: StandardTree,
    bad: bool,
    area_rows: Vec<usize>,
    task_rows: Vec<Vec<usize>>,
    req_rows: Vec<Vec<Vec<usize>>>,
    areas: HashMap<String, usize>,
    tasks: HashMap<(usize, String), usize>,
    reqs: HashMap<(usize, usize, Level, String), usize>,
}

impl StdAcc {
    fn new(code: String) -> StdAcc {
        StdAcc {
            code,
            rows: Vec::new(),
            tree: StandardTree::default(),
            bad: false,
            area_rows: Vec::new(),
            task_rows: Vec::new(),
            req_rows: Vec::new(),
            areas: HashMap::new(),
            tasks: HashMap::new(),
            reqs: HashMap::new(),
        }
    }

    /// Add one requirement; returns the row of an identical earlier requirement.
    fn add(
        &mut self,
        row: usize,
        level: Level,
        area: &str,
        task: &str,
        text: &str,
    ) -> Option<usize> {
        let a = *self.areas.entry(area.to_string()).or_insert_with(|| {
            self.tree.areas.push(WorkArea {
                code: String::new(),
                title: area.to_string(),
                tasks: Vec::new(),
            });
            self.area_rows.push(row);
            self.task_rows.push(Vec::new());
            self.req_rows.push(Vec::new());
            self.tree.areas.len() - 1
        });
        let t = *self.tasks.entry((a, task.to_string())).or_insert_with(|| {
            let tasks = &mut self.tree.areas[a].tasks;
            tasks.push(WorkTask {
                code: String::new(),
                title: task.to_string(),
                requirements: Vec::new(),
            });
            self.task_rows[a].push(row);
            self.req_rows[a].push(Vec::new());
            tasks.len() - 1
        });
        if let Some(&first) = self.reqs.get(&(a, t, level, text.to_string())) {
            return Some(first);
        }
        self.reqs.insert((a, t, level, text.to_string()), row);
        self.tree.areas[a].tasks[t]
            .requirements
            .push(SkillRequirement {
                code: String::new(),
                level,
                text: text.to_string(),
            });
        self.req_rows[a][t].push(row);
        None
    }

    /// Map a `StandardTree::validate` field ("area 1", "task 1.2", "requirement 1.2.3")
    /// back to the row and column it came from.
    fn locate(&self, field: &str) -> (usize, &'static str) {
        let first = self.rows.first().copied().unwrap_or(0);
        let Some((kind, code)) = field.split_once(' ') else {
            return (first, "");
        };
        let idx: Vec<usize> = code
            .split('.')
            .filter_map(|p| p.parse::<usize>().ok()?.checked_sub(1))
            .collect();
        let found = match (kind, idx.as_slice()) {
            ("area", [a]) => self.area_rows.get(*a).map(|r| (*r, "work_area")),
            ("task", [a, t]) => self
                .task_rows
                .get(*a)
                .and_then(|v| v.get(*t))
                .map(|r| (*r, "work_task")),
            ("requirement", [a, t, q]) => self
                .req_rows
                .get(*a)
                .and_then(|v| v.get(*t))
                .and_then(|v| v.get(*q))
                .map(|r| (*r, "skill_requirement")),
            _ => None,
        };
        found.unwrap_or((first, ""))
    }
}

impl Builder {
    pub fn add_table(&mut self, t: &Table) {
        self.set.rows_read += t.rows.len();
        for r in &t.rows {
            match t.sheet {
                Sheet::Organizations => self.org_row(t, r),
                Sheet::Certificates => self.cert_row(t, r),
                Sheet::Standards => self.standard_row(t, r),
                Sheet::People => self.person_row(t, r),
            }
        }
    }

    fn org_row(&mut self, t: &Table, r: &RawRow) {
        let mut ck = RowCheck::start(t, r, &mut self.set.errors);
        let s = |k: &str| t.text(r, k).to_string();
        let input = OrganizationInput {
            kind: s("kind"),
            name_zh: s("name_zh"),
            name_en: s("name_en"),
            credit_code: s("credit_code"),
            province: s("province"),
            state: s("state"),
            website: s("website"),
        };
        let parsed = input.parse().map_err(|e| ck.fields(&e)).ok();
        if !ck.is_flagged("credit_code")
            && let Ok(code) = CreditCode::parse(&input.credit_code)
            && let Some(first) = first_seen(&mut self.org_codes, code.as_str(), r.row)
        {
            ck.duplicate("credit_code", "credit code", "统一社会信用代码", first);
        }
        if let (Some(org), false) = (parsed, ck.failed) {
            self.set.organizations.push(OrgRow { row: r.row, org });
        }
    }

    fn cert_row(&mut self, t: &Table, r: &RawRow) {
        let mut ck = RowCheck::start(t, r, &mut self.set.errors);
        let s = |k: &str| t.text(r, k).to_string();
        let input = CertificateInput {
            code: s("code"),
            name_zh: s("name_zh"),
            name_en: s("name_en"),
            levels: s("levels"),
            status: s("status"),
            majors: s("majors"),
            posts: s("posts"),
            competitions: s("competitions"),
            description: s("description"),
        };
        let parsed = input.parse().map_err(|e| ck.fields(&e)).ok();
        let teo = if ck.is_flagged("teo") {
            None
        } else {
            reference(&mut ck, "teo", t.text(r, "teo"))
        };
        if !ck.is_flagged("code")
            && let Ok(code) = CertificateCode::parse("code", &input.code)
            && let Some(first) = first_seen(&mut self.cert_codes, code.as_str(), r.row)
        {
            ck.duplicate("code", "certificate code", "证书代码", first);
        }
        if let (Some(cert), Some(teo), false) = (parsed, teo, ck.failed) {
            self.set.certificates.push(CertRow {
                row: r.row,
                teo,
                cert,
            });
        }
    }

    fn person_row(&mut self, t: &Table, r: &RawRow) {
        let mut ck = RowCheck::start(t, r, &mut self.set.errors);
        let s = |k: &str| t.text(r, k).to_string();
        let input = PersonInput {
            name: s("name"),
            id_number: s("id_number"),
            student_no: s("student_no"),
            major: s("major"),
            phone: s("phone"),
        };
        let parsed = input.parse().map_err(|e| ck.fields(&e)).ok();
        let college = if ck.is_flagged("college") {
            None
        } else {
            reference(&mut ck, "college", t.text(r, "college"))
        };
        if !ck.is_flagged("id_number")
            && let Ok(id) = ResidentId::parse(&input.id_number)
            && let Some(first) = first_seen(&mut self.id_numbers, id.expose(), r.row)
        {
            ck.duplicate("id_number", "ID number", "身份证号", first);
        }
        if let (Some(person), Some(college), false) = (parsed, college, ck.failed) {
            self.set.people.push(PersonRow {
                row: r.row,
                college,
                person,
            });
        }
    }

    fn standard_row(&mut self, t: &Table, r: &RawRow) {
        let mut ck = RowCheck::start(t, r, &mut self.set.errors);
        let code = if ck.is_flagged("certificate_code") {
            None
        } else {
            CertificateCode::parse("certificate_code", t.text(r, "certificate_code"))
                .map_err(|e| ck.field(&e))
                .ok()
        };
        let level_text = t.text(r, "level");
        let level = if level_text.is_empty() {
            ck.field(&FieldError::required("level"));
            None
        } else {
            Level::parse("level", level_text)
                .map_err(|e| ck.field(&e))
                .ok()
        };
        let area = required_cell(&mut ck, t, r, "work_area");
        let task = required_cell(&mut ck, t, r, "work_task");
        let req = required_cell(&mut ck, t, r, "skill_requirement");
        let Some(code) = code else {
            return;
        };
        let idx = *self
            .std_index
            .entry(code.as_str().to_string())
            .or_insert_with(|| {
                self.standards.push(StdAcc::new(code.as_str().to_string()));
                self.standards.len() - 1
            });
        let acc = &mut self.standards[idx];
        acc.rows.push(r.row);
        match level {
            Some(level) if !ck.failed => {
                if let Some(first) = acc.add(r.row, level, area, task, req) {
                    ck.duplicate(
                        "skill_requirement",
                        "work area, work task, level and skill requirement",
                        "工作领域、工作任务、等级和职业技能要求",
                        first,
                    );
                    acc.bad = true;
                }
            }
            _ => acc.bad = true,
        }
    }

    /// Like [`Builder::finish`], but a file without a single data row is an error.
    pub fn finish_with_rows(self) -> Result<ImportSet, crate::FileError> {
        let set = self.finish();
        if set.rows_read == 0 {
            return Err(crate::FileError::NoRows);
        }
        Ok(set)
    }

    pub fn finish(mut self) -> ImportSet {
        let offered: HashMap<&str, &[Level]> = self
            .set
            .certificates
            .iter()
            .map(|c| (c.cert.code.as_str(), c.cert.levels.as_slice()))
            .collect();
        let mut extra = Vec::new();
        let mut done = Vec::new();
        for mut acc in std::mem::take(&mut self.standards) {
            acc.tree.renumber();
            if let Err(errs) = acc.tree.validate() {
                acc.bad = true;
                for e in errs {
                    let (row, column) = acc.locate(&e.field);
                    extra.push(RowError::new(
                        Sheet::Standards,
                        row,
                        column,
                        e.code,
                        e.en,
                        e.zh,
                    ));
                }
            }
            // A certificate in the same file tells which levels it offers; the store
            // checks the rest against the registry.
            if let Some(levels) = offered.get(acc.code.as_str()) {
                let offers_zh: Vec<&str> = levels.iter().map(|l| l.zh()).collect();
                let offers_en: Vec<&str> = levels.iter().map(|l| l.as_str()).collect();
                for (a, area) in acc.tree.areas.iter().enumerate() {
                    for (ti, task) in area.tasks.iter().enumerate() {
                        for (q, req) in task.requirements.iter().enumerate() {
                            if !levels.contains(&req.level) {
                                acc.bad = true;
                                extra.push(RowError::new(
                                    Sheet::Standards,
                                    acc.req_rows[a][ti][q],
                                    "level",
                                    "level_not_offered",
                                    format!(
                                        "certificate {} does not offer level {} (it offers {})",
                                        acc.code,
                                        req.level.as_str(),
                                        offers_en.join(", ")
                                    ),
                                    format!(
                                        "证书 {} 不设“{}”等级（该证书设有：{}）",
                                        acc.code,
                                        req.level.zh(),
                                        offers_zh.join("、")
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
            if !acc.bad {
                done.push(StandardImport {
                    certificate_code: acc.code,
                    rows: acc.rows,
                    tree: acc.tree,
                });
            }
        }
        self.set.standards = done;
        self.set.errors.append(&mut extra);
        // Stable: errors of one cell keep the order they were found in.
        self.set.errors.sort_by_key(|e| {
            (
                e.sheet,
                e.row,
                e.sheet.column_index(&e.column).map_or(0, |i| i + 1),
            )
        });
        self.set
    }
}

#[cfg(test)]
mod tests {
    use super::scientific;

    #[test]
    fn scientific_notation_is_spotted() {
        assert!(scientific("1.10105E+17"));
        assert!(scientific("4.40304E+17"));
        assert!(scientific("1e9"));
        assert!(!scientific("11010519491231002X"));
        assert!(!scientific("E+17"));
        assert!(!scientific("91110108MA01ABCD1E"));
        assert!(!scientific("1.5E"));
    }
}
