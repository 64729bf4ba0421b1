//! A sheet's rows as text cells, with the header located and columns mapped to keys.
//! Both the xlsx and the CSV reader produce these, so validation is written once.

use crate::FileError;
use crate::sheet::{Sheet, label_matches};

/// What a cell held before it became text; numbers and dates matter because Excel
/// mangles identifiers typed into them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum CellKind {
    #[default]
    Text,
    Number,
    Date,
    /// An Excel error value such as `#N/A`; the text is the error.
    Error,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Cell {
    pub text: String,
    pub kind: CellKind,
}

impl Cell {
    pub fn text(s: &str) -> Cell {
        Cell {
            text: crate::sheet::clean(s).to_string(),
            kind: CellKind::Text,
        }
    }

    pub fn is_blank(&self) -> bool {
        self.text.is_empty() && self.kind != CellKind::Error
    }
}

/// One row as read: its number as the spreadsheet shows it (1-based) and its cells.
#[derive(Debug, Clone)]
pub(crate) struct RawRow {
    pub row: usize,
    pub cells: Vec<Cell>,
}

impl RawRow {
    fn is_blank(&self) -> bool {
        self.cells.iter().all(Cell::is_blank)
    }
}

/// Header rows are looked for among this many leading non-blank rows, so a title
/// line above the header does not break the import.
const HEADER_SEARCH: usize = 10;

/// A sheet with its header resolved: `cols[i]` is the cell index of the i-th column spec.
pub(crate) struct Table {
    pub sheet: Sheet,
    cols: Vec<Option<usize>>,
    /// Non-blank data rows below the header.
    pub rows: Vec<RawRow>,
}

static EMPTY: Cell = Cell {
    text: String::new(),
    kind: CellKind::Text,
};

/// How many of `sheet`'s columns a header row names.
pub(crate) fn recognized(sheet: Sheet, header: &RawRow) -> usize {
    sheet
        .columns()
        .iter()
        .filter(|(key, zh)| header.cells.iter().any(|c| label_matches(&c.text, key, zh)))
        .count()
}

impl Table {
    /// Locate the header and map columns. `Ok(None)` when the sheet has no
    /// non-blank row at all.
    pub fn build(sheet: Sheet, rows: Vec<RawRow>) -> Result<Option<Table>, FileError> {
        let non_blank: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.is_blank())
            .map(|(i, _)| i)
            .collect();
        let Some(&first) = non_blank.first() else {
            return Ok(None);
        };
        let header_at = non_blank
            .iter()
            .take(HEADER_SEARCH)
            .copied()
            .find(|&i| recognized(sheet, &rows[i]) > 0)
            .unwrap_or(first);
        let header = &rows[header_at];
        let specs = sheet.specs();
        let mut cols = vec![None; specs.len()];
        for (ci, cell) in header.cells.iter().enumerate() {
            if let Some(si) = specs
                .iter()
                .position(|s| label_matches(&cell.text, s.key, s.zh))
            {
                if cols[si].is_some() {
                    return Err(FileError::DuplicateColumn {
                        sheet,
                        column: specs[si].key,
                    });
                }
                cols[si] = Some(ci);
            }
        }
        let missing: Vec<&'static str> = specs
            .iter()
            .zip(&cols)
            .filter(|(s, c)| s.required && c.is_none())
            .map(|(s, _)| s.key)
            .collect();
        if !missing.is_empty() {
            return Err(FileError::MissingColumns {
                sheet,
                columns: missing,
            });
        }
        let rows = rows
            .into_iter()
            .skip(header_at + 1)
            .filter(|r| !r.is_blank())
            .collect();
        Ok(Some(Table { sheet, cols, rows }))
    }

    /// The cell of column `key` in `row`; an empty cell when the column is absent.
    pub fn get<'a>(&self, row: &'a RawRow, key: &str) -> &'a Cell {
        self.sheet
            .specs()
            .iter()
            .position(|s| s.key == key)
            .and_then(|si| self.cols[si])
            .and_then(|ci| row.cells.get(ci))
            .unwrap_or(&EMPTY)
    }

    pub fn text<'a>(&self, row: &'a RawRow, key: &str) -> &'a str {
        &self.get(row, key).text
    }
}
