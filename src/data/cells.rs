//! The cells and rows of tables (CSV and XLSX), owned ([`Cell`], [`Row`]) or borrowed from
//! the text of a file ([`CellRef`]), and [`Cells`], what row-by-row readers (the count
//! join, the sites) ask of a row whichever way it was read.

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing there.
    Empty,
    /// Text (CSV cells are always text).
    Text(String),
    /// A number typed as such in a workbook.
    Number(f64),
    /// A boolean typed as such in a workbook.
    Bool(bool),
}

/// A cell borrowed: from a [`Cell`], or straight from a file's text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellRef<'a> {
    /// Nothing there (or only spaces).
    Empty,
    /// Text, as in the file (not trimmed).
    Text(&'a str),
    /// A number typed as such in a workbook.
    Number(f64),
    /// A boolean typed as such in a workbook.
    Bool(bool),
}

impl Cell {
    /// The cell as text, trimmed; `None` when empty.
    pub fn text(&self) -> Option<String> {
        self.view().text()
    }

    /// The text of a text cell, trimmed, without copying it; `None` when empty or not
    /// text (use [`Cell::text`] for numbers and booleans as text).
    pub fn trimmed(&self) -> Option<&str> {
        self.view().trimmed()
    }

    /// The cell borrowed.
    pub fn view(&self) -> CellRef<'_> {
        match self {
            Cell::Empty => CellRef::Empty,
            Cell::Text(s) => CellRef::Text(s),
            Cell::Number(n) => CellRef::Number(*n),
            Cell::Bool(b) => CellRef::Bool(*b),
        }
    }

    /// The cell as a JSON value, keeping its text without a copy when it needs no trim.
    pub fn into_json(self) -> serde_json::Value {
        match self {
            Cell::Text(s) if s.trim().len() == s.len() => serde_json::Value::String(s),
            other => other.view().to_json(),
        }
    }

    /// A CSV cell: empty when it holds nothing but spaces.
    pub(crate) fn of_text(text: &str, empty: bool) -> Cell {
        if empty {
            Cell::Empty
        } else {
            Cell::Text(text.to_string())
        }
    }
}

impl<'a> CellRef<'a> {
    /// The cell as text, trimmed; `None` when empty.
    pub fn text(self) -> Option<String> {
        match self {
            CellRef::Empty => None,
            CellRef::Text(s) => {
                let t = s.trim();
                (!t.is_empty()).then(|| t.to_string())
            }
            CellRef::Number(n) => Some(format_number(n)),
            CellRef::Bool(b) => Some(b.to_string()),
        }
    }

    /// The text of a text cell, trimmed, without copying it; `None` when empty or not
    /// text.
    pub fn trimmed(self) -> Option<&'a str> {
        match self {
            CellRef::Text(s) => Some(trim(s)).filter(|t| !t.is_empty()),
            _ => None,
        }
    }

    /// The cell as a JSON value: numbers stay numbers, text stays text (trimmed).
    pub fn to_json(self) -> serde_json::Value {
        match self {
            CellRef::Empty => serde_json::Value::Null,
            CellRef::Text(s) => serde_json::Value::String(s.trim().to_string()),
            CellRef::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    serde_json::Value::from(n as i64)
                } else {
                    serde_json::Number::from_f64(n)
                        .map(serde_json::Value::Number)
                        .unwrap_or(serde_json::Value::Null)
                }
            }
            CellRef::Bool(b) => serde_json::Value::Bool(b),
        }
    }
}

/// `text` trimmed of white space; most cells need none, which their first and last bytes
/// tell without decoding a character.
pub fn trim(text: &str) -> &str {
    let clean = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_graphic());
    let bytes = text.as_bytes();
    if clean(bytes.first()) && clean(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A data row and its number as a spreadsheet shows it (header = row 1).
#[derive(Debug, Clone)]
pub struct Row {
    /// Spreadsheet row number.
    pub number: usize,
    /// Cells, in header order (short rows are padded with `Empty` on access).
    pub cells: Vec<Cell>,
}

impl Row {
    /// The cell under column `i`.
    pub fn cell(&self, i: usize) -> &Cell {
        self.cells.get(i).unwrap_or(&Cell::Empty)
    }
}

/// A row, however it was read.
pub trait Cells {
    /// Its number as a spreadsheet shows it (header = row 1).
    fn number(&self) -> usize;
    /// The cell under column `i` (`Empty` past the row's end).
    fn get(&self, i: usize) -> CellRef<'_>;
    /// The cell under column `i` as a JSON value (`null` past the row's end); the row
    /// may give its text away rather than copy it, so ask once per cell.
    fn take_json(&mut self, i: usize) -> serde_json::Value {
        self.get(i).to_json()
    }
}

impl Cells for Row {
    fn number(&self) -> usize {
        self.number
    }

    fn get(&self, i: usize) -> CellRef<'_> {
        self.cell(i).view()
    }

    fn take_json(&mut self, i: usize) -> serde_json::Value {
        match self.cells.get_mut(i) {
            Some(cell) => std::mem::replace(cell, Cell::Empty).into_json(),
            None => serde_json::Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The quick trim is `str::trim`, for ASCII, Unicode spaces and other scripts.
        #[test]
        fn trim_is_str_trim(text in "[ \t\u{a0}\u{3000}a-c,0-9é\u{200f}ع]{0,6}") {
            prop_assert_eq!(super::trim(&text), text.trim());
        }
    }
}
