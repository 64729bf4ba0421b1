//! Plain lists that are not registry sheets (a pass list, say): the first sheet of an
//! .xlsx or a CSV, read with the same decoding, cell text and row numbers as the
//! registry import, for callers that map the columns themselves.

use std::io::Cursor;

use calamine::{Reader, Xlsx, open_workbook_from_rs};

use crate::FileError;

/// One row: its number as the spreadsheet shows it (1-based) and its cells as text.
#[derive(Debug, Clone, PartialEq)]
pub struct PlainRow {
    pub row: usize,
    pub cells: Vec<String>,
}

/// Read `bytes` as CSV (by a `.csv`/`.txt` name: UTF-8, UTF-16 or GB18030, delimiter
/// sniffed) or else as an .xlsx workbook's first sheet.
pub fn read_plain(file_name: &str, bytes: &[u8]) -> Result<Vec<PlainRow>, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    let lower = file_name.to_lowercase();
    if lower.ends_with(".csv") || lower.ends_with(".txt") {
        let text = crate::csv_in::decode(bytes)?;
        return Ok(crate::csv_in::rows(&text)?
            .into_iter()
            .map(|r| PlainRow {
                row: r.row,
                cells: r.cells.into_iter().map(|c| c.text).collect(),
            })
            .collect());
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(FileError::LegacyXls);
    }
    let bad = |e: &dyn std::fmt::Display| FileError::BadWorkbook {
        detail: e.to_string(),
    };
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let first = wb.sheet_names().first().cloned().ok_or(FileError::Empty)?;
    let range = wb.worksheet_range(&first).map_err(|e| bad(&e))?;
    let (r0, _) = range.start().unwrap_or((0, 0));
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| PlainRow {
            row: r0 as usize + i + 1,
            cells: cells.iter().map(|c| crate::xlsx_in::cell(c).text).collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gbk_csv_reads_with_spreadsheet_row_numbers() {
        // Excel in China saves CSV as GBK; a blank line still counts as a row.
        let (bytes, _, _) = encoding_rs::GB18030.encode("姓名,身份证号\n张三,1\n\n李四,2\n");
        let rows = read_plain("名单.csv", &bytes).unwrap();
        let got: Vec<(usize, &str)> = rows.iter().map(|r| (r.row, r.cells[0].as_str())).collect();
        assert_eq!(got, vec![(1, "姓名"), (2, "张三"), (4, "李四")]);
    }

    #[test]
    fn an_old_xls_is_named() {
        let e = read_plain("名单.xls", &[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).unwrap_err();
        assert_eq!(e, FileError::LegacyXls);
    }
}
