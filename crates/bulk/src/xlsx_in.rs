//! Workbook reading with calamine: sheets recognized by name, cells turned into text
//! without Excel's number artefacts, merged cells filled in.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

use crate::import::Builder;
use crate::table::{Cell, CellKind, RawRow, Table};
use crate::{FileError, ImportSet, Sheet};

/// Integral floats print without ".0"; others with the shortest exact form (Rust's
/// `Display` for f64 never uses an exponent).
fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

pub(crate) fn cell(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::default(),
        Data::String(s) => Cell::text(s),
        Data::Int(i) => Cell {
            text: i.to_string(),
            kind: CellKind::Number,
        },
        Data::Float(f) => Cell {
            text: number(*f),
            kind: CellKind::Number,
        },
        Data::Bool(b) => Cell::text(if *b { "TRUE" } else { "FALSE" }),
        Data::DateTime(dt) => Cell {
            text: number(dt.as_f64()),
            kind: CellKind::Date,
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell {
            text: s.clone(),
            kind: CellKind::Date,
        },
        Data::Error(e) => Cell {
            text: e.to_string(),
            kind: CellKind::Error,
        },
    }
}

fn bad(e: impl std::fmt::Display) -> FileError {
    FileError::BadWorkbook {
        detail: e.to_string(),
    }
}

/// Read every recognized sheet (named by key, Chinese name or `zh (key)`); other
/// sheets, such as the template's instructions, are ignored.
pub fn read_xlsx(bytes: &[u8]) -> Result<ImportSet, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(FileError::LegacyXls);
    }
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(bad)?;
    let names = wb.sheet_names();
    let mut found: Vec<(Sheet, String)> = Vec::new();
    for name in &names {
        if let Some(sheet) = Sheet::from_name(name) {
            if found.iter().any(|(s, _)| *s == sheet) {
                return Err(FileError::DuplicateSheet { sheet });
            }
            found.push((sheet, name.clone()));
        }
    }
    if found.is_empty() {
        return Err(FileError::NoSheet { found: names });
    }
    // Fixed order so errors and records come out the same whatever the tab order.
    found.sort();
    let mut b = Builder::default();
    for (sheet, name) in found {
        let range = wb.worksheet_range(&name).map_err(bad)?;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let (height, width) = (range.height() as u32, range.width() as u32);
        let mut rows: Vec<RawRow> = range
            .rows()
            .enumerate()
            .map(|(i, cells)| RawRow {
                row: r0 as usize + i + 1,
                cells: cells.iter().map(cell).collect(),
            })
            .collect();
        // A merged block shows its value in every cell it covers (people merge the
        // 工作领域 cells of a standard); calamine gives it only to the top-left one.
        for m in wb.merge_cells_by_sheet_name(&name).unwrap_or_default() {
            let at = |r: u32, c: u32| {
                Some(((r.checked_sub(r0)?) as usize, (c.checked_sub(c0)?) as usize))
            };
            let Some((tr, tc)) = at(m.start.0, m.start.1) else {
                continue;
            };
            let Some(value) = rows.get(tr).and_then(|r| r.cells.get(tc)).cloned() else {
                continue;
            };
            // Clamped to the used range: a whole-column merge must not loop a million times.
            let last_r = m.end.0.min((r0 + height).saturating_sub(1));
            let last_c = m.end.1.min((c0 + width).saturating_sub(1));
            for r in m.start.0..=last_r {
                for c in m.start.1..=last_c {
                    if let Some((ri, ci)) = at(r, c)
                        && let Some(row) = rows.get_mut(ri)
                        && (ri, ci) != (tr, tc)
                    {
                        if row.cells.len() <= ci {
                            row.cells.resize(ci + 1, Cell::default());
                        }
                        row.cells[ci] = value.clone();
                    }
                }
            }
        }
        if let Some(table) = Table::build(sheet, rows)? {
            b.add_table(&table);
        }
    }
    b.finish_with_rows()
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_print_like_excel_shows_them() {
        assert_eq!(number(2023010101.0), "2023010101");
        assert_eq!(number(13800138000.0), "13800138000");
        assert_eq!(number(1.5), "1.5");
        assert_eq!(number(-3.0), "-3");
    }
}
