//! CSV reading: encoding detection (Excel in China saves CSV as GB18030/GBK unless
//! told otherwise), delimiter sniffing, and row numbers that match what Excel shows.

use encoding_rs::{GB18030, UTF_16BE, UTF_16LE};

use crate::import::Builder;
use crate::table::{Cell, RawRow, Table, recognized};
use crate::{FileError, ImportSet, Sheet};

/// Decode CSV bytes: UTF-8 (BOM or not), UTF-16 with BOM (Excel's "Unicode text"),
/// otherwise GB18030, the superset of GBK and GB2312.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, FileError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Ok(String::from_utf8_lossy(rest).into_owned());
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return Ok(UTF_16LE.decode_with_bom_removal(bytes).0.into_owned());
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Ok(UTF_16BE.decode_with_bom_removal(bytes).0.into_owned());
    }
    if bytes.contains(&0) {
        // Text files have no NUL bytes; this is binary (or UTF-16 without a BOM).
        return Err(FileError::BadText);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let (text, had_errors) = GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(FileError::BadText);
    }
    Ok(text.into_owned())
}

/// Comma unless the first line plainly uses tabs or semicolons (Excel's "text" export
/// and some European locales).
fn delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| (first.matches(*d as char).count(), *d == b','))
        .filter(|d| first.contains(*d as char))
        .unwrap_or(b',')
}

/// Line breaks as a spreadsheet counts them: `\r\n`, `\n` or a lone `\r`.
fn breaks(s: &[u8]) -> usize {
    s.iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && s.get(i + 1) != Some(&b'\n')))
        .count()
}

/// Parse into rows numbered as a spreadsheet shows them. The csv crate skips blank
/// lines and reports a record's position from before them, so the number is
/// recomputed from where the record really starts: line breaks before it, less
/// those inside earlier quoted cells (a multi-line cell is still one row).
pub(crate) fn rows(text: &str) -> Result<Vec<RawRow>, FileError> {
    let bytes = text.as_bytes();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(bytes);
    let mut out = Vec::new();
    let (mut counted_to, mut lines, mut embedded) = (0usize, 0usize, 0usize);
    for rec in rdr.records() {
        let rec = rec.map_err(|e| FileError::BadWorkbook {
            detail: e.to_string(),
        })?;
        let mut start = rec
            .position()
            .map_or(counted_to, |p| p.byte() as usize)
            .clamp(counted_to, bytes.len());
        while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        lines += breaks(&bytes[counted_to..start]);
        counted_to = start;
        out.push(RawRow {
            row: lines - embedded + 1,
            cells: rec.iter().map(Cell::text).collect(),
        });
        embedded += rec.iter().map(|f| breaks(f.as_bytes())).sum::<usize>();
    }
    Ok(out)
}

/// The sheet whose columns the header names best; `None` when no header names any
/// column or two sheets tie.
fn infer(rows: &[RawRow]) -> Option<Sheet> {
    for r in rows
        .iter()
        .filter(|r| r.cells.iter().any(|c| !c.text.is_empty()))
        .take(10)
    {
        let mut scored: Vec<(usize, usize, Sheet)> = Sheet::ALL
            .into_iter()
            .map(|s| {
                let required = s
                    .required_columns()
                    .iter()
                    .filter(|k| {
                        let zh = s.column_zh(k);
                        r.cells
                            .iter()
                            .any(|c| crate::sheet::label_matches(&c.text, k, zh))
                    })
                    .count();
                (recognized(s, r), required, s)
            })
            .collect();
        scored.sort_by_key(|s| std::cmp::Reverse((s.0, s.1)));
        let (best, second) = (scored[0], scored[1]);
        if best.0 == 0 {
            continue;
        }
        if (best.0, best.1) == (second.0, second.1) {
            return None;
        }
        return Some(best.2);
    }
    None
}

/// Read one sheet from CSV bytes. With `sheet` unset, the header row decides.
pub fn read_csv(bytes: &[u8], sheet: Option<Sheet>) -> Result<ImportSet, FileError> {
    let text = decode(bytes)?;
    if crate::sheet::clean(&text).is_empty() {
        return Err(FileError::Empty);
    }
    let rows = rows(&text)?;
    let sheet = match sheet {
        Some(s) => s,
        None => infer(&rows).ok_or(FileError::UnknownCsvSheet)?,
    };
    let table = Table::build(sheet, rows)?.ok_or(FileError::Empty)?;
    let mut b = Builder::default();
    b.add_table(&table);
    b.finish_with_rows()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_numbers_follow_the_spreadsheet() {
        let nums = |text: &str| -> Vec<(usize, String)> {
            rows(text)
                .unwrap()
                .into_iter()
                .map(|r| (r.row, r.cells[0].text.clone()))
                .collect()
        };
        let own = |v: &[(usize, &str)]| -> Vec<(usize, String)> {
            v.iter().map(|(n, s)| (*n, s.to_string())).collect()
        };
        assert_eq!(
            nums("a,b\n\n\"x\ny\",1\nlast,2\n"),
            own(&[(1, "a"), (3, "x\ny"), (4, "last")])
        );
        assert_eq!(
            nums("a,b\r\n\r\n\r\n\"x\r\ny\",1\r\nlast,2"),
            own(&[(1, "a"), (4, "x\r\ny"), (5, "last")])
        );
        assert_eq!(
            nums("\n\na\n\n\nb\n\"q\"\n\n"),
            own(&[(3, "a"), (6, "b"), (7, "q")])
        );
    }

    #[test]
    fn delimiters_are_sniffed() {
        assert_eq!(delimiter("a\tb\tc\n1,2\t3"), b'\t');
        assert_eq!(delimiter("a;b;c"), b';');
        assert_eq!(delimiter("a,b"), b',');
        assert_eq!(delimiter("single"), b',');
    }

    #[test]
    fn encodings_are_detected() {
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,身份证号");
        assert_eq!(decode(&gbk).unwrap(), "姓名,身份证号");
        assert_eq!(decode("\u{feff}姓名".as_bytes()).unwrap(), "姓名");
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "姓名\t学号".encode_utf16() {
            utf16.extend(u.to_le_bytes());
        }
        assert_eq!(decode(&utf16).unwrap(), "姓名\t学号");
        assert_eq!(decode(b"PK\x03\x04\x00\x00"), Err(FileError::BadText));
    }
}
