//! Templates and exports. Both use the same sheet names and headers as the readers
//! accept, so a filled template, or an export with unmasked ID numbers, re-imports.

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format, FormatAlign, Workbook, Worksheet,
    XlsxError,
};
use serde::{Deserialize, Serialize};
use xcert_domain::certificate::{CertificateStatus, NewCertificate};
use xcert_domain::framework::Level;
use xcert_domain::org::{NewOrganization, OrgKind, PROVINCES, TeoState};
use xcert_domain::person::NewPerson;
use xcert_domain::standard::StandardTree;

use crate::Sheet;

/// Data rows per sheet that fit in a worksheet (Excel's 1,048,576 rows less the
/// header). Larger exports must be split by the caller; rows past it are not written.
pub const MAX_EXPORT_ROWS: usize = 1_048_575;

/// Longest text an Excel cell holds, in UTF-16 units.
const MAX_CELL: usize = 32_767;

/// Rows of the template given dropdowns and text formatting.
const TEMPLATE_ROWS: u32 = 5_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationExport {
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub credit_code: String,
    pub province: String,
    pub state: String,
    pub website: String,
}

impl OrganizationExport {
    /// Values in Chinese, as a person would type them into the template.
    pub fn from_new(o: &NewOrganization) -> OrganizationExport {
        OrganizationExport {
            kind: o.kind.zh().into(),
            name_zh: o.name_zh.clone(),
            name_en: o.name_en.clone().unwrap_or_default(),
            credit_code: o.credit_code.as_str().into(),
            province: o
                .province
                .as_ref()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            state: o.teo_state.map(|s| s.zh().to_string()).unwrap_or_default(),
            website: o.website.clone().unwrap_or_default(),
        }
    }

    fn values(&self) -> Vec<String> {
        vec![
            self.kind.clone(),
            self.name_zh.clone(),
            self.name_en.clone(),
            self.credit_code.clone(),
            self.province.clone(),
            self.state.clone(),
            self.website.clone(),
        ]
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateExport {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The owning TEO's credit code (or exact Chinese name).
    pub teo: String,
    pub levels: Vec<String>,
    pub status: String,
    pub majors: Vec<String>,
    pub posts: Vec<String>,
    pub competitions: Vec<String>,
    pub description: String,
}

impl CertificateExport {
    pub fn from_new(c: &NewCertificate, teo: &str) -> CertificateExport {
        CertificateExport {
            code: c.code.as_str().into(),
            name_zh: c.name_zh.clone(),
            name_en: c.name_en.clone().unwrap_or_default(),
            teo: teo.into(),
            levels: c.levels.iter().map(|l| l.zh().to_string()).collect(),
            status: c.status.zh().into(),
            majors: c.majors.clone(),
            posts: c.posts.clone(),
            competitions: c.competitions.clone(),
            description: c.description.clone().unwrap_or_default(),
        }
    }

    fn values(&self) -> Vec<String> {
        vec![
            self.code.clone(),
            self.name_zh.clone(),
            self.name_en.clone(),
            self.teo.clone(),
            self.levels.join(";"),
            self.status.clone(),
            self.majors.join(";"),
            self.posts.join(";"),
            self.competitions.join(";"),
            self.description.clone(),
        ]
    }
}

/// One version of a certificate's standard, written one row per skill requirement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardExport {
    pub certificate_code: String,
    /// Written in an extra trailing column for information; importing ignores it.
    pub version: i64,
    pub tree: StandardTree,
}

impl StandardExport {
    fn rows(&self) -> impl Iterator<Item = Vec<String>> + '_ {
        self.tree.areas.iter().flat_map(move |a| {
            a.tasks.iter().flat_map(move |t| {
                t.requirements.iter().map(move |r| {
                    vec![
                        self.certificate_code.clone(),
                        r.level.zh().to_string(),
                        a.title.clone(),
                        t.title.clone(),
                        r.text.clone(),
                        self.version.to_string(),
                    ]
                })
            })
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonExport {
    pub name: String,
    /// Masked or not, as the caller decides; only unmasked numbers re-import.
    pub id_number: String,
    /// The college's credit code (or exact Chinese name).
    pub college: String,
    pub student_no: String,
    pub major: String,
    pub phone: String,
}

impl PersonExport {
    /// `reveal_id` writes the full ID number (for a re-importable backup); otherwise
    /// it is masked like everywhere else.
    pub fn from_new(p: &NewPerson, college: &str, reveal_id: bool) -> PersonExport {
        PersonExport {
            name: p.name.clone(),
            id_number: if reveal_id {
                p.id_number.expose().to_string()
            } else {
                p.id_number.masked()
            },
            college: college.into(),
            student_no: p.student_no.clone().unwrap_or_default(),
            major: p.major.clone().unwrap_or_default(),
            phone: p.phone.clone().unwrap_or_default(),
        }
    }

    fn values(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.id_number.clone(),
            self.college.clone(),
            self.student_no.clone(),
            self.major.clone(),
            self.phone.clone(),
        ]
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportData {
    pub organizations: Vec<OrganizationExport>,
    pub certificates: Vec<CertificateExport>,
    pub standards: Vec<StandardExport>,
    pub people: Vec<PersonExport>,
}

/// Allowed values of a column, `(zh, key)`, for the instructions and dropdowns.
fn allowed(sheet: Sheet, key: &str) -> Vec<(&'static str, &'static str)> {
    match (sheet, key) {
        (Sheet::Organizations, "kind") => {
            OrgKind::ALL.iter().map(|k| (k.zh(), k.as_str())).collect()
        }
        (Sheet::Organizations, "state") => {
            TeoState::ALL.iter().map(|s| (s.zh(), s.as_str())).collect()
        }
        (Sheet::Organizations, "province") => PROVINCES.iter().map(|p| (*p, "")).collect(),
        (Sheet::Certificates, "status") => CertificateStatus::ALL
            .iter()
            .map(|s| (s.zh(), s.as_str()))
            .collect(),
        (Sheet::Certificates, "levels") | (Sheet::Standards, "level") => {
            Level::ALL.iter().map(|l| (l.zh(), l.as_str())).collect()
        }
        _ => Vec::new(),
    }
}

/// Cut text to what a cell holds rather than fail the whole workbook.
fn fit(s: &str) -> &str {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > MAX_CELL {
            return &s[..i];
        }
    }
    s
}

struct Formats {
    header: Format,
    text: Format,
    wrap: Format,
    title: Format,
}

impl Formats {
    fn new() -> Formats {
        // "@" is Excel's Text format: typed ID numbers and codes stay as typed.
        let text = Format::new().set_num_format("@");
        Formats {
            header: text
                .clone()
                .set_bold()
                .set_background_color(Color::RGB(0xD9E1F2))
                .set_align(FormatAlign::VerticalCenter),
            wrap: text.clone().set_text_wrap().set_align(FormatAlign::Top),
            title: Format::new().set_bold().set_font_size(14),
            text,
        }
    }
}

/// A data sheet: headers, column widths and formats, then `rows`.
fn data_sheet(
    ws: &mut Worksheet,
    f: &Formats,
    sheet: Sheet,
    extra: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<u32, XlsxError> {
    ws.set_name(sheet.sheet_name())?;
    for (i, spec) in sheet.specs().iter().enumerate() {
        let col = i as u16;
        ws.set_column_width(col, spec.width)?;
        ws.set_column_format(col, &f.text)?;
        ws.write_string_with_format(0, col, sheet.header_label(spec.key), &f.header)?;
    }
    for (j, label) in extra.iter().enumerate() {
        let col = (sheet.specs().len() + j) as u16;
        ws.set_column_width(col, 12)?;
        ws.write_string_with_format(0, col, *label, &f.header)?;
    }
    ws.set_row_height(0, 22)?;
    ws.set_freeze_panes(1, 0)?;
    let mut n = 0u32;
    for values in rows.take(MAX_EXPORT_ROWS) {
        n += 1;
        for (c, v) in values.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string_with_format(n, c as u16, fit(v), &f.text)?;
            }
        }
    }
    let last_col = (sheet.specs().len() + extra.len()).saturating_sub(1) as u16;
    ws.autofilter(0, 0, n.max(1), last_col)?;
    Ok(n)
}

fn build_template() -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    instructions(wb.add_worksheet(), &f)?;
    for sheet in Sheet::ALL {
        let ws = wb.add_worksheet();
        let example: Vec<String> = sheet
            .specs()
            .iter()
            .map(|c| c.example.to_string())
            .collect();
        data_sheet(ws, &f, sheet, &[], std::iter::once(example))?;
        for (i, spec) in sheet.specs().iter().enumerate() {
            // Multi-valued columns (levels) cannot use a single-choice dropdown.
            if spec.key == "levels" {
                continue;
            }
            let values: Vec<&str> = allowed(sheet, spec.key).iter().map(|v| v.0).collect();
            if values.is_empty() {
                continue;
            }
            // Warning, not Stop: the readers also accept English keys and short names.
            let dv = DataValidation::new()
                .allow_list_strings(&values)?
                .set_error_style(DataValidationErrorStyle::Warning)
                .set_error_title(format!("{} {}", sheet.column_zh(spec.key), spec.key))?
                .set_error_message(format!("可选值：{}", values.join("、")))?;
            ws.add_data_validation(1, i as u16, TEMPLATE_ROWS, i as u16, &dv)?;
        }
    }
    wb.save_to_buffer()
}

fn instructions(ws: &mut Worksheet, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name("说明 (instructions)")?;
    for (c, w) in [14.0, 30.0, 8.0, 46.0, 46.0, 40.0, 28.0]
        .into_iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, w)?;
    }
    ws.write_string_with_format(
        0,
        0,
        "1+X 证书信息批量导入模板 / 1+X registry bulk import template",
        &f.title,
    )?;
    let notes: [(&str, &str); 8] = [
        (
            "本工作簿含四张数据表：机构、证书、标准、人员。只需填写要导入的表，其余可留空或删除。",
            "The workbook has four data sheets: organizations, certificates, standards, people. Fill in only those you import; leave the others empty or delete them.",
        ),
        (
            "请勿修改工作表名称和第 1 行表头；从第 2 行起每行一条记录。带 * 的列为必填列。",
            "Keep the sheet names and the header row (row 1); one record per row from row 2. Columns marked * are required.",
        ),
        (
            "每张表第 2 行是示例，上传前请删除或改为实际数据。",
            "Row 2 of each sheet is an example: delete or replace it before uploading.",
        ),
        (
            "一个单元格填多个值时用英文分号 ; 分隔（中文分号、逗号、顿号也可）。",
            "Separate several values in one cell with ';' (；, ，, 、 and ',' are accepted too).",
        ),
        (
            "身份证号、统一社会信用代码等列已设为文本格式，请勿改为数字格式，否则 Excel 会将长数字变为科学计数法并丢失末位。",
            "ID numbers and credit codes are formatted as Text: keep it so, or Excel turns long numbers into scientific notation and loses digits.",
        ),
        (
            "标准表每行一条职业技能要求；同一证书代码的各行组成该证书的标准，工作领域和工作任务按首次出现的顺序排列。",
            "Standards: one skill requirement per row; the rows of one certificate code form its standard, work areas and tasks in order of first appearance.",
        ),
        (
            "也可上传 CSV 文件（UTF-8 或 GBK 编码），每个文件一张表，表头与本模板相同。",
            "CSV files (UTF-8 or GBK) are accepted too: one sheet per file, with the same header row.",
        ),
        (
            "上传后先显示预览，逐条列出错误（工作表、行号、列、原因）；确认后才写入。",
            "After upload a preview lists every error (sheet, row, column, reason); nothing is written until you confirm.",
        ),
    ];
    let mut r = 2u32;
    for (i, (zh, en)) in notes.iter().enumerate() {
        ws.write_string(r, 0, format!("{}. {zh}", i + 1))?;
        ws.write_string(r + 1, 0, format!("    {en}"))?;
        r += 2;
    }
    r += 1;
    let heads = [
        "工作表 Sheet",
        "表头 Header",
        "必填 Required",
        "规则",
        "Rules",
        "可选值 Allowed values",
        "示例 Example",
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write_string_with_format(r, c as u16, *h, &f.header)?;
    }
    for sheet in Sheet::ALL {
        for spec in sheet.specs() {
            r += 1;
            let values = allowed(sheet, spec.key)
                .iter()
                .map(|(zh, key)| {
                    if key.is_empty() {
                        zh.to_string()
                    } else {
                        format!("{zh} ({key})")
                    }
                })
                .collect::<Vec<_>>()
                .join("、");
            let cells = [
                sheet.sheet_name(),
                sheet.header_label(spec.key),
                if spec.required { "是 Yes" } else { "否 No" }.to_string(),
                spec.rule_zh.to_string(),
                spec.rule_en.to_string(),
                values,
                spec.example.to_string(),
            ];
            for (c, v) in cells.iter().enumerate() {
                ws.write_string_with_format(r, c as u16, v, &f.wrap)?;
            }
        }
    }
    Ok(())
}

fn build_export(data: &ExportData) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    data_sheet(
        wb.add_worksheet(),
        &f,
        Sheet::Organizations,
        &[],
        data.organizations.iter().map(OrganizationExport::values),
    )?;
    data_sheet(
        wb.add_worksheet(),
        &f,
        Sheet::Certificates,
        &[],
        data.certificates.iter().map(CertificateExport::values),
    )?;
    data_sheet(
        wb.add_worksheet(),
        &f,
        Sheet::Standards,
        &["版本 (version)"],
        data.standards.iter().flat_map(StandardExport::rows),
    )?;
    data_sheet(
        wb.add_worksheet(),
        &f,
        Sheet::People,
        &[],
        data.people.iter().map(PersonExport::values),
    )?;
    wb.save_to_buffer()
}

/// The import workbook: an instructions sheet (说明) and the four data sheets, each
/// with its header and one example row that itself passes validation.
pub fn template_xlsx() -> Vec<u8> {
    // Only fixed content goes in, so a failure is a bug here, not bad input.
    build_template().expect("the template workbook is built from constants")
}

/// One sheet's template as CSV: UTF-8 with a BOM (so Excel opens it as UTF-8),
/// header and example row, CRLF line ends.
pub fn template_csv(sheet: Sheet) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let header: Vec<String> = sheet
        .specs()
        .iter()
        .map(|c| sheet.header_label(c.key))
        .collect();
    let example: Vec<&str> = sheet.specs().iter().map(|c| c.example).collect();
    // Writing to a Vec cannot fail.
    w.write_record(&header).expect("in-memory write");
    w.write_record(&example).expect("in-memory write");
    let bytes = w.into_inner().expect("in-memory write");
    format!(
        "\u{feff}{}",
        String::from_utf8(bytes).expect("written from UTF-8 strings")
    )
}

/// The registry as a workbook with the template's sheets and headers (the standards
/// sheet adds an informational version column). Cell text past Excel's limit is cut.
pub fn export_xlsx(data: &ExportData) -> Vec<u8> {
    // Names, widths and formats are constants and every value is written as
    // length-checked text, so nothing in `data` can make this fail.
    build_export(data).expect("export workbook from text cells")
}
