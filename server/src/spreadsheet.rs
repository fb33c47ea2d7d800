//! Tables for spreadsheets: a report written as CSV or XLSX, and the guards every exported cell
//! goes through (docs/SECURITY.md, "Exports").
//!
//! CSV is UTF-8 with a byte-order mark (so a spreadsheet reads names as UTF-8, not in the local
//! code page), RFC 4180 quoting by the `csv` crate, and text that a spreadsheet would run as a
//! formula guarded with a leading `'`. XLSX cells are typed: text is never read as a formula.

/// A name or id as a cell. One that a spreadsheet would run as a formula (starting with `=`,
/// `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, which shows the text as is
/// (OWASP, "CSV injection").
pub(crate) fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// A scope as part of a file name: letters, digits, `.`, `_` and `-`; anything else `_`.
pub(crate) fn file_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Text: guarded in CSV ([`text_cell`]), a string cell in XLSX.
    Text(String),
    /// A number, written as such.
    Number(f64),
    /// No value (a figure without a denominator: never a made-up 0).
    Empty,
}

/// A report as a table: a header and rows of cells.
#[derive(Debug, Default)]
pub(crate) struct Table {
    /// The header.
    pub(crate) columns: Vec<String>,
    /// The rows, as many cells as columns each.
    pub(crate) rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The table as CSV.
    pub(crate) fn csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        out.write_record(&self.columns)?;
        for row in &self.rows {
            out.write_record(row.iter().map(|c| match c {
                Cell::Text(text) => text_cell(text),
                Cell::Number(n) => n.to_string(),
                Cell::Empty => String::new(),
            }))?;
        }
        out.into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }

    /// The table as an XLSX workbook of one sheet named `sheet`.
    pub(crate) fn xlsx(&self, sheet: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let page = book.add_worksheet();
        page.set_name(sheet)?;
        for (col, name) in self.columns.iter().enumerate() {
            page.write_string(0, col as u16, name)?;
        }
        for (i, row) in self.rows.iter().enumerate() {
            let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
            for (col, c) in row.iter().enumerate() {
                let col = col as u16;
                match c {
                    Cell::Text(text) => {
                        page.write_string(r, col, text)?;
                    }
                    Cell::Number(n) => {
                        page.write_number(r, col, *n)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        book.save_to_buffer()
    }
}
