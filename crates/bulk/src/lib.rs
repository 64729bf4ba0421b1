//! xcert bulk import and export of the registry from `.xlsx` and `.csv` templates.
//!
//! Pure: bytes in, validated rows and row-level errors out. People preview the
//! result (every rejected row names its sheet, row, column and reason) before the
//! store crate resolves references (TEO / college by credit code or name) and
//! writes everything in one transaction. Field rules live in `xcert-domain`
//! (`*Input::parse`); this crate only reads cells into those inputs, adds the
//! checks that need the whole file (duplicates, standard trees), and maps each
//! `FieldError` to a spreadsheet cell.

mod csv_in;
mod export;
mod import;
mod plain;
mod sheet;
mod table;
mod xlsx_in;

use serde::Serialize;
use xcert_domain::FieldError;
use xcert_domain::certificate::NewCertificate;
use xcert_domain::org::NewOrganization;
use xcert_domain::person::NewPerson;
use xcert_domain::standard::StandardTree;

pub use csv_in::read_csv;
pub use export::{
    CertificateExport, ExportData, MAX_EXPORT_ROWS, OrganizationExport, PersonExport,
    StandardExport, export_xlsx, template_csv, template_xlsx,
};
pub use plain::{PlainRow, read_plain};
pub use sheet::Sheet;
pub use xlsx_in::read_xlsx;

/// One rejected row (or cell): where it is, as the person sees it in the file, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub sheet: Sheet,
    /// The row number as the spreadsheet shows it: header is row 1, first data row is 2.
    pub row: usize,
    /// Column key, or "" when the error concerns the whole row.
    pub column: String,
    pub code: String,
    pub en: String,
    pub zh: String,
}

impl RowError {
    pub fn new(
        sheet: Sheet,
        row: usize,
        column: impl Into<String>,
        code: impl Into<String>,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> RowError {
        RowError {
            sheet,
            row,
            column: column.into(),
            code: code.into(),
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// Place a domain error on a row; its `field` is the column key. Public so the
    /// store can report reference problems (unknown TEO, …) the same way.
    pub fn from_field(sheet: Sheet, row: usize, e: &FieldError) -> RowError {
        RowError::new(sheet, row, &e.field, &e.code, &e.en, &e.zh)
    }

    /// The message in the requested language ("zh" or anything else for English).
    pub fn message(&self, lang: &str) -> &str {
        if lang == "zh" { &self.zh } else { &self.en }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} row {}", self.sheet.key(), self.row)?;
        if !self.column.is_empty() {
            write!(f, " column {}", self.column)?;
        }
        write!(f, ": {}", self.en)
    }
}

/// A valid organization row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgRow {
    pub row: usize,
    pub org: NewOrganization,
}

/// A valid certificate row; `teo` is the owning TEO as written (credit codes
/// normalized to upper case), for the store to resolve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertRow {
    pub row: usize,
    pub teo: String,
    pub cert: NewCertificate,
}

/// One certificate's standard, assembled from its rows, renumbered and validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardImport {
    pub certificate_code: String,
    /// Every row that contributed, in file order.
    pub rows: Vec<usize>,
    pub tree: StandardTree,
}

/// A valid person row; `college` as written (credit codes normalized), for the
/// store to resolve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonRow {
    pub row: usize,
    pub college: String,
    pub person: NewPerson,
}

/// Everything read from one file: the valid records and every row error.
/// Records with any error are left out, so a clean set can be written as is.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSet {
    pub organizations: Vec<OrgRow>,
    pub certificates: Vec<CertRow>,
    pub standards: Vec<StandardImport>,
    pub people: Vec<PersonRow>,
    /// Sorted by sheet, row, then column order.
    pub errors: Vec<RowError>,
    /// Non-blank data rows read, over all sheets.
    pub rows_read: usize,
}

/// Totals for the preview page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub organizations: usize,
    pub certificates: usize,
    pub standards: usize,
    pub requirements: usize,
    pub people: usize,
    pub rows_read: usize,
    /// Distinct rows with at least one error.
    pub rejected_rows: usize,
    pub errors: usize,
}

impl ImportSet {
    /// True when nothing was rejected: the set may be written.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn counts(&self) -> Counts {
        let mut rejected: Vec<(Sheet, usize)> =
            self.errors.iter().map(|e| (e.sheet, e.row)).collect();
        rejected.sort();
        rejected.dedup();
        Counts {
            organizations: self.organizations.len(),
            certificates: self.certificates.len(),
            standards: self.standards.len(),
            requirements: self
                .standards
                .iter()
                .map(|s| s.tree.requirement_count())
                .sum(),
            people: self.people.len(),
            rows_read: self.rows_read,
            rejected_rows: rejected.len(),
            errors: self.errors.len(),
        }
    }

    /// Errors of one sheet, for a per-sheet preview tab.
    pub fn errors_in(&self, sheet: Sheet) -> impl Iterator<Item = &RowError> {
        self.errors.iter().filter(move |e| e.sheet == sheet)
    }
}

/// A problem with the file as a whole: nothing in it can be trusted row by row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("{}", self.en())]
    Empty,
    #[error("{}", self.en())]
    NoRows,
    #[error("{}", self.en())]
    NotSpreadsheet { file_name: String },
    #[error("{}", self.en())]
    LegacyXls,
    #[error("{}", self.en())]
    BadWorkbook { detail: String },
    #[error("{}", self.en())]
    BadText,
    #[error("{}", self.en())]
    NoSheet { found: Vec<String> },
    #[error("{}", self.en())]
    UnknownCsvSheet,
    #[error("{}", self.en())]
    DuplicateSheet { sheet: Sheet },
    #[error("{}", self.en())]
    MissingColumns {
        sheet: Sheet,
        columns: Vec<&'static str>,
    },
    #[error("{}", self.en())]
    DuplicateColumn { sheet: Sheet, column: &'static str },
}

impl FileError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            FileError::Empty => "empty_file",
            FileError::NoRows => "no_rows",
            FileError::NotSpreadsheet { .. } => "not_spreadsheet",
            FileError::LegacyXls => "legacy_xls",
            FileError::BadWorkbook { .. } => "bad_workbook",
            FileError::BadText => "bad_text",
            FileError::NoSheet { .. } => "no_sheet",
            FileError::UnknownCsvSheet => "unknown_csv_sheet",
            FileError::DuplicateSheet { .. } => "duplicate_sheet",
            FileError::MissingColumns { .. } => "missing_column",
            FileError::DuplicateColumn { .. } => "duplicate_column",
        }
    }

    pub fn en(&self) -> String {
        let sheets_en = || {
            Sheet::ALL
                .iter()
                .map(|s| format!("\"{}\"", s.sheet_name()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            FileError::Empty => "The file is empty.".into(),
            FileError::NoRows => {
                "The file has a header but no data rows: fill in at least one row below the header."
                    .into()
            }
            FileError::NotSpreadsheet { file_name } => format!(
                "\"{file_name}\" is not an .xlsx or .csv file: download the template and upload it as .xlsx or .csv."
            ),
            FileError::LegacyXls => "This is an old-format .xls workbook (or a password-protected one): open it and save it as .xlsx (Excel Workbook) without a password.".into(),
            FileError::BadWorkbook { detail } => {
                format!("The workbook could not be read; save it again as .xlsx. ({detail})")
            }
            FileError::BadText => {
                "The CSV file's text encoding could not be recognized: save it as CSV UTF-8.".into()
            }
            FileError::NoSheet { found } => format!(
                "No sheet named {} was found (the workbook has: {}). Keep the sheet names of the template.",
                sheets_en(),
                found.join(", ")
            ),
            FileError::UnknownCsvSheet => "The CSV header row does not match any template (organizations, certificates, standards, people): keep the header row of the template.".into(),
            FileError::DuplicateSheet { sheet } => format!(
                "The workbook has more than one sheet for {}: keep one.",
                sheet.key()
            ),
            FileError::MissingColumns { sheet, columns } => format!(
                "Sheet \"{}\" is missing the required column{} {}.",
                sheet.sheet_name(),
                if columns.len() > 1 { "s" } else { "" },
                columns
                    .iter()
                    .map(|c| format!("\"{}\"", sheet.header_label(c)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            FileError::DuplicateColumn { sheet, column } => format!(
                "Sheet \"{}\" has the column \"{}\" more than once: keep one.",
                sheet.sheet_name(),
                sheet.header_label(column)
            ),
        }
    }

    pub fn zh(&self) -> String {
        let sheets_zh = || {
            Sheet::ALL
                .iter()
                .map(|s| format!("“{}”", s.sheet_name()))
                .collect::<Vec<_>>()
                .join("、")
        };
        match self {
            FileError::Empty => "文件为空。".into(),
            FileError::NoRows => "文件只有表头，没有数据行：请从表头下一行开始填写。".into(),
            FileError::NotSpreadsheet { file_name } => {
                format!("“{file_name}”不是 .xlsx 或 .csv 文件：请下载模板，填写后以 .xlsx 或 .csv 格式上传。")
            }
            FileError::LegacyXls => {
                "这是旧版 .xls 工作簿（或设置了密码的工作簿）：请打开后另存为 .xlsx（Excel 工作簿）格式，且不设密码。".into()
            }
            FileError::BadWorkbook { detail } => {
                format!("无法读取该工作簿，请重新保存为 .xlsx 后上传。（{detail}）")
            }
            FileError::BadText => "无法识别 CSV 文件的文字编码：请另存为“CSV UTF-8”格式。".into(),
            FileError::NoSheet { found } => format!(
                "未找到名为 {} 的工作表（该工作簿包含：{}）。请保留模板中的工作表名称。",
                sheets_zh(),
                found.join("、")
            ),
            FileError::UnknownCsvSheet => {
                "CSV 文件的表头与任何模板（机构、证书、标准、人员）都不匹配：请保留模板的表头行。".into()
            }
            FileError::DuplicateSheet { sheet } => {
                format!("工作簿中有多个“{}”工作表，请只保留一个。", sheet.zh())
            }
            FileError::MissingColumns { sheet, columns } => format!(
                "工作表“{}”缺少必填列：{}。",
                sheet.sheet_name(),
                columns
                    .iter()
                    .map(|c| format!("“{}”", sheet.header_label(c)))
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            FileError::DuplicateColumn { sheet, column } => format!(
                "工作表“{}”中“{}”列出现了不止一次，请只保留一列。",
                sheet.sheet_name(),
                sheet.header_label(column)
            ),
        }
    }

    /// The message in the requested language ("zh" or anything else for English).
    pub fn message(&self, lang: &str) -> String {
        if lang == "zh" { self.zh() } else { self.en() }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// OLE compound file: legacy .xls, or an encrypted .xlsx.
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Read an uploaded file, choosing the reader from its extension and content.
/// A zip (every .xlsx is one) is read as a workbook whatever its name says.
pub fn read_file(file_name: &str, bytes: &[u8]) -> Result<ImportSet, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    if bytes.starts_with(ZIP_MAGIC) {
        return read_xlsx(bytes);
    }
    if bytes.starts_with(OLE_MAGIC) {
        return Err(FileError::LegacyXls);
    }
    let ext = std::path::Path::new(file_name.trim())
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "xlsx" | "xlsm" => read_xlsx(bytes),
        "xls" | "et" => Err(FileError::LegacyXls),
        "csv" | "txt" | "" => read_csv(bytes, None),
        _ => Err(FileError::NotSpreadsheet {
            file_name: file_name.to_string(),
        }),
    }
}
